//! Moving up: copies an embedded installation (SQLite) into an empty PostgreSQL database, then
//! checks the copy (`mdt-server migrate --from-sqlite DIR --to postgres://…`). Stop the server
//! first; the source is read in one snapshot.
//!
//! Every table is copied row for row (ids, versions, change numbers and audit hashes as they
//! are), so devices carry on from their cursors against the new database, sessions stay
//! signed in, and the audit chain continues unbroken. The check compares every table's row
//! count, verifies the copied audit chain and its last hash, and the head of the change log.

use super::db::{Db, Row, Value};
use super::{audit_log, records, Store};
use crate::server::error::Error;

/// Every table, parents first, with its columns.
const TABLES: &[(&str, &[&str])] = &[
    (
        "users",
        &[
            "id",
            "email",
            "name",
            "password_hash",
            "person_id",
            "created_at",
            "disabled",
            "device_key",
            "site_admin",
            "sso_invite",
        ],
    ),
    (
        "sessions",
        &[
            "token_hash",
            "user_id",
            "created_at",
            "last_seen_at",
            "how",
            "user_agent",
        ],
    ),
    (
        "records",
        &[
            "id",
            "entity",
            "team_id",
            "created_by",
            "change_seq",
            "body",
            "item_id",
            "restricted",
            "org_id",
        ],
    ),
    ("team_members", &["team_id", "person_id", "may_write"]),
    ("devices", &["device_id", "user_id", "last_seq"]),
    (
        "processed_mutations",
        &["mutation_id", "device_id", "result", "processed_at"],
    ),
    ("settings", &["key", "value"]),
    (
        "audit",
        &[
            "seq",
            "at",
            "user_id",
            "session",
            "action",
            "entity",
            "record_id",
            "patient_id",
            "prev_hash",
            "hash",
        ],
    ),
    ("sign_in_failures", &["key", "at", "slot"]),
    ("directory_lookups", &["person_id", "at"]),
    (
        "sign_in_providers",
        &[
            "id",
            "label",
            "issuer",
            "client_id",
            "client_secret",
            "private_key_pem",
            "scopes",
            "email_claim",
            "acr_values",
            "domains",
            "created_at",
        ],
    ),
    (
        "sign_in_identities",
        &[
            "issuer",
            "subject",
            "user_id",
            "provider_id",
            "created_at",
            "last_used_at",
        ],
    ),
    (
        "second_factors",
        &["user_id", "secret", "confirmed", "last_step", "created_at"],
    ),
    ("recovery_codes", &["code_hash", "user_id", "used_at"]),
    (
        "sign_in_events",
        &[
            "id", "at", "user_id", "email", "how", "outcome", "reason", "address",
        ],
    ),
];

/// Rows per INSERT statement.
const CHUNK: usize = 200;

/// What was copied, table by table, and the checks that passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copied {
    pub tables: Vec<(&'static str, u64)>,
    pub audit_entries: u64,
    pub latest_change: u64,
}

fn count(db: &dyn Db, table: &str) -> Result<u64, Error> {
    Ok(db
        .query_one(&format!("SELECT COUNT(*) FROM {table}"), &[])?
        .int(0)?
        .max(0) as u64)
}

fn last_audit_hash(db: &dyn Db) -> Result<Option<String>, Error> {
    db.query_opt("SELECT hash FROM audit ORDER BY seq DESC LIMIT 1", &[])?
        .map(|r| r.text(0))
        .transpose()
}

/// Copies everything in `from` into `to` (which must hold no accounts and no records) and
/// checks the copy. Progress goes to `progress` (one line per table).
pub fn copy(from: &Store, to: &Store, progress: &mut dyn FnMut(&str)) -> Result<Copied, Error> {
    let empty =
        to.read_blocking(|db| Ok(count(db, "users")? == 0 && count(db, "records")? == 0))?;
    if !empty {
        return Err(Error::BadRequest(
            "The target database already holds accounts or records; migrate into an empty database."
                .into(),
        ));
    }
    let source: Vec<(&str, &[&str], Vec<Row>)> = from.read_blocking(|db| {
        TABLES
            .iter()
            .map(|(table, columns)| {
                let rows = db.query(&format!("SELECT {} FROM {table}", columns.join(", ")), &[])?;
                Ok((*table, *columns, rows))
            })
            .collect()
    })?;
    let mut tables = Vec::new();
    to.write_blocking(|db| {
        for (table, columns, rows) in &source {
            for chunk in rows.chunks(CHUNK) {
                let mut placeholders = Vec::with_capacity(chunk.len());
                let mut args: Vec<Value> = Vec::with_capacity(chunk.len() * columns.len());
                for row in chunk {
                    let start = args.len();
                    placeholders.push(format!(
                        "({})",
                        (1..=columns.len())
                            .map(|i| format!("${}", start + i))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                    args.extend(row.0.iter().cloned());
                }
                db.execute(
                    &format!(
                        "INSERT INTO {table} ({}) VALUES {}",
                        columns.join(", "),
                        placeholders.join(", ")
                    ),
                    &args,
                )?;
            }
            Ok::<_, Error>(())?;
        }
        Ok(())
    })?;
    for (table, _, rows) in &source {
        progress(&format!("  {table}: {} rows", rows.len()));
        tables.push((*table, rows.len() as u64));
    }

    // The checks: the same number of rows everywhere, an intact chain ending where the
    // source's ends, and the same head of the change log (devices' cursors stay valid).
    let (source_counts, source_hash, source_latest) = from.read_blocking(|db| {
        let counts = TABLES
            .iter()
            .map(|(t, _)| count(db, t))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((counts, last_audit_hash(db)?, records::latest_change(db)?))
    })?;
    let (target_counts, target_hash, target_latest, chain) = to.read_blocking(|db| {
        let counts = TABLES
            .iter()
            .map(|(t, _)| count(db, t))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((
            counts,
            last_audit_hash(db)?,
            records::latest_change(db)?,
            audit_log::verify(db)?,
        ))
    })?;
    for (((table, _), a), b) in TABLES.iter().zip(&source_counts).zip(&target_counts) {
        if a != b {
            return Err(Error::Internal(anyhow::anyhow!(
                "{table}: {a} rows in the source but {b} in the copy"
            )));
        }
    }
    let audit_entries = chain.map_err(|broken| {
        Error::Internal(anyhow::anyhow!(
            "the copied audit trail does not verify: {broken}"
        ))
    })?;
    if source_hash != target_hash {
        return Err(Error::Internal(anyhow::anyhow!(
            "the copied audit trail ends with a different entry"
        )));
    }
    if source_latest != target_latest {
        return Err(Error::Internal(anyhow::anyhow!(
            "the change log ends at {source_latest} in the source but {target_latest} in the copy"
        )));
    }
    Ok(Copied {
        tables,
        audit_entries,
        latest_change: target_latest,
    })
}
