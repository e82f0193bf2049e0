//! The audit trail as stored: one append-only row for every read and change of patient data
//! (who, which record, which patient, what, when in UTC, from which session), each row chained
//! to the one before by a SHA-256 hash so that editing or deleting a row is detectable
//! (`mdt-server audit verify`).
//!
//! There is one chain for the whole database, whichever server appends: each append takes
//! [`Lock::AuditChain`] first, so appends from several servers queue and each row follows the
//! one committed before it.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::db::{Db, Lock};
use super::Actor;
use crate::args;
use crate::core::action::Action;
use crate::core::agenda::AgendaItem;
use crate::core::brief::Brief;
use crate::core::entities::{Entity, EntityKind};
use crate::core::offline::holds_patient_data;
use crate::core::sync::SyncRecord;
use crate::server::error::Error;

/// The hash before the first row.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What was done with the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    /// Sent to a device (a sync pull).
    Read,
    Create,
    Change,
    Delete,
    /// Included in a download of the team's actions as CSV.
    Export,
    /// Included in a meeting's FHIR bundle, downloaded for another clinical system. Its own
    /// action (not [`AuditAction::Export`]) so the access history says how the record left;
    /// rows already stored keep their text, so the hash chain holds.
    ExportFhir,
    /// Opened on a device while offline, reported when it came back.
    ViewedOffline,
}

impl AuditAction {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Create => "create",
            Self::Change => "change",
            Self::Delete => "delete",
            Self::Export => "export",
            Self::ExportFhir => "export_fhir",
            Self::ViewedOffline => "viewed_offline",
        }
    }

    /// In words, for the access history page.
    pub fn label(self) -> &'static str {
        match self {
            Self::Read => "received on a device",
            Self::Create => "created",
            Self::Change => "changed",
            Self::Delete => "deleted",
            Self::Export => "downloaded in a CSV",
            Self::ExportFhir => "downloaded as FHIR",
            Self::ViewedOffline => "opened while offline",
        }
    }

    /// The action stored as `s`.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Read,
            Self::Create,
            Self::Change,
            Self::Delete,
            Self::Export,
            Self::ExportFhir,
            Self::ViewedOffline,
        ]
        .into_iter()
        .find(|a| a.as_str() == s)
    }
}

/// One row of the trail.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub user_id: Uuid,
    pub user_name: String,
    /// A short, non-secret identifier of the session (a prefix of the token's hash).
    pub session: String,
    pub action: AuditAction,
    pub entity: EntityKind,
    pub record_id: Uuid,
    pub patient_id: Option<Uuid>,
}

/// The hash of a row: SHA-256 over the previous row's hash, the sequence number and the row's
/// fields (at, user, session, action, entity, record, patient), joined by `|`.
fn row_hash(prev: &str, seq: i64, fields: [&str; 7]) -> String {
    let line = format!("{prev}|{seq}|{}", fields.join("|"));
    Sha256::digest(line.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The patient a patient-data record is about, following item, brief and action links.
pub fn patient_of(db: &dyn Db, record: &SyncRecord) -> Result<Option<Uuid>, Error> {
    let load = |id: Uuid| -> Result<Option<SyncRecord>, Error> {
        Ok(super::records::load_record(db, id)?.map(|(r, _)| r))
    };
    let item_patient = |item: Uuid| -> Result<Option<Uuid>, Error> {
        Ok(load(item)?
            .and_then(|r| AgendaItem::from_fields(&r.fields).ok())
            .and_then(|i| i.patient_id))
    };
    let brief_patient = |brief: Uuid| -> Result<Option<Uuid>, Error> {
        match load(brief)?.and_then(|r| Brief::from_fields(&r.fields).ok()) {
            Some(b) => item_patient(b.item_id),
            None => Ok(None),
        }
    };
    let field_uuid = |name: &str| {
        record
            .fields
            .get(name)
            .and_then(|v| v.as_str())
            .and_then(|s| Uuid::parse_str(s).ok())
    };
    Ok(match record.entity {
        EntityKind::Patient => Some(record.id),
        EntityKind::AgendaItem | EntityKind::Action => field_uuid("patient_id"),
        EntityKind::Brief => match field_uuid("item_id") {
            Some(item) => item_patient(item)?,
            None => None,
        },
        EntityKind::ReadReceipt => match field_uuid("brief_id") {
            Some(brief) => brief_patient(brief)?,
            None => None,
        },
        EntityKind::ActionEvent => match field_uuid("action_id") {
            Some(action) => load(action)?
                .and_then(|r| Action::from_fields(&r.fields).ok())
                .and_then(|a| a.patient_id),
            None => None,
        },
        _ => None,
    })
}

/// One row to append: what was done, to which record, about which patient, when.
pub struct Entry {
    pub action: AuditAction,
    pub entity: EntityKind,
    pub record_id: Uuid,
    pub patient_id: Option<Uuid>,
    pub at: DateTime<Utc>,
}

/// Rows per INSERT when appending many (a first sync audits thousands of reads).
const ROWS_PER_STATEMENT: usize = 200;

/// Appends one row, chained to the last. Call inside the transaction that does the read or
/// write, so the trail and the data never disagree.
pub fn append(
    db: &dyn Db,
    actor: &Actor,
    action: AuditAction,
    entity: EntityKind,
    record_id: Uuid,
    patient_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    append_all(
        db,
        actor,
        &[Entry {
            action,
            entity,
            record_id,
            patient_id,
            at: now,
        }],
    )
}

/// Appends rows in order, each chained to the one before: the last row is read once (under
/// [`Lock::AuditChain`]), the chain is computed here, and the rows are written a few hundred
/// per statement.
pub fn append_all(db: &dyn Db, actor: &Actor, entries: &[Entry]) -> Result<(), Error> {
    if entries.is_empty() {
        return Ok(());
    }
    db.lock(Lock::AuditChain)?;
    let (mut seq, mut prev) =
        match db.query_opt("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1", &[])? {
            Some(row) => (row.int(0)?, row.text(1)?),
            None => (0, GENESIS.to_owned()),
        };
    let user = actor.user_id.to_string();
    for chunk in entries.chunks(ROWS_PER_STATEMENT) {
        let mut values = Vec::with_capacity(chunk.len());
        let mut bound = Vec::with_capacity(chunk.len() * 10);
        for (i, entry) in chunk.iter().enumerate() {
            seq += 1;
            let at = entry
                .at
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
            let record = entry.record_id.to_string();
            let patient = entry.patient_id.map(|p| p.to_string()).unwrap_or_default();
            let hash = row_hash(
                &prev,
                seq,
                [
                    &at,
                    &user,
                    &actor.session,
                    entry.action.as_str(),
                    entry.entity.as_str(),
                    &record,
                    &patient,
                ],
            );
            let n = i * 10;
            values.push(format!(
                "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                n + 1,
                n + 2,
                n + 3,
                n + 4,
                n + 5,
                n + 6,
                n + 7,
                n + 8,
                n + 9,
                n + 10
            ));
            bound.extend_from_slice(args![
                seq,
                at,
                &user,
                &actor.session,
                entry.action.as_str(),
                entry.entity.as_str(),
                record,
                patient,
                &prev,
                &hash
            ]);
            prev = hash;
        }
        db.execute_later(
            &format!(
                "INSERT INTO audit (seq, at, user_id, session, action, entity, record_id, patient_id, prev_hash, hash) VALUES {}",
                values.join(", ")
            ),
            &bound,
        )?;
    }
    Ok(())
}

/// Audits a record sent to or written by `actor`, if it holds patient data.
pub fn record_access(
    db: &dyn Db,
    actor: &Actor,
    action: AuditAction,
    record: &SyncRecord,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    if !holds_patient_data(record.entity) {
        return Ok(());
    }
    let patient = patient_of(db, record)?;
    append(db, actor, action, record.entity, record.id, patient, now)
}

/// Audits the whole records of a pull as reads by `actor` (withheld copies and deletions carry
/// no patient data). Called in a write transaction after the pull's snapshot, before the
/// answer is sent: a pull whose reads cannot be recorded is not answered.
pub fn record_reads<'a>(
    db: &dyn Db,
    actor: &Actor,
    records: impl IntoIterator<Item = &'a SyncRecord>,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let mut entries = Vec::new();
    for record in records {
        if holds_patient_data(record.entity) {
            entries.push(Entry {
                action: AuditAction::Read,
                entity: record.entity,
                record_id: record.id,
                patient_id: patient_of(db, record)?,
                at: now,
            });
        }
    }
    append_all(db, actor, &entries)
}

/// Where the chain breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the audit trail is broken at entry {seq}: {reason}")]
pub struct ChainBreak {
    pub seq: i64,
    pub reason: String,
}

/// Recomputes every row's hash from the one before; the number of rows when intact.
pub fn verify(db: &dyn Db) -> Result<Result<u64, ChainBreak>, Error> {
    let mut prev = GENESIS.to_owned();
    let mut expected_seq = 1;
    let mut count = 0;
    // In pages, so a long trail is never held in memory at once.
    const PAGE: i64 = 5000;
    loop {
        let rows = db.query(
            "SELECT seq, at, user_id, session, action, entity, record_id, patient_id, prev_hash, hash FROM audit WHERE seq >= $1 ORDER BY seq LIMIT $2",
            args![expected_seq, PAGE],
        )?;
        let last_page = (rows.len() as i64) < PAGE;
        for r in rows {
            let seq: i64 = r.int(0)?;
            let fields: Vec<String> = (1..10).map(|i| r.text(i)).collect::<Result<_, _>>()?;
            let [at, user, session, action, entity, record, patient, stored_prev, hash] =
                <[String; 9]>::try_from(fields).expect("nine columns");
            let broken = |reason: &str| {
                Ok(Err(ChainBreak {
                    seq,
                    reason: reason.to_owned(),
                }))
            };
            if seq != expected_seq {
                return broken(&format!("entry {expected_seq} is missing"));
            }
            if stored_prev != prev {
                return broken("it does not follow the entry before it");
            }
            if row_hash(
                &prev,
                seq,
                [&at, &user, &session, &action, &entity, &record, &patient],
            ) != hash
            {
                return broken("its contents were changed after it was written");
            }
            prev = hash;
            expected_seq += 1;
            count += 1;
        }
        if last_page {
            return Ok(Ok(count));
        }
    }
}

/// Every entry about `patient`, newest first, with the user's name, and how many entries could
/// not be read (left out, so one bad row never stops the history being shown).
pub fn entries_for_patient(db: &dyn Db, patient: Uuid) -> Result<(Vec<AuditEntry>, usize), Error> {
    let rows = db.query(
        "SELECT a.seq, a.at, a.user_id, COALESCE(u.name, ''), a.session, a.action, a.entity, a.record_id, a.patient_id \
         FROM audit a LEFT JOIN users u ON u.id = a.user_id WHERE a.patient_id = $1 ORDER BY a.seq DESC LIMIT 2000",
        args![patient],
    )?;
    let mut out = Vec::new();
    let mut unreadable = 0;
    for row in rows {
        let seq = row.int(0)?;
        let [at, user, name, session, action, entity, record, patient_id] =
            <[String; 8]>::try_from((1..9).map(|i| row.text(i)).collect::<Result<Vec<_>, _>>()?)
                .expect("eight columns");
        let entry = (|| {
            Some(AuditEntry {
                seq,
                at: DateTime::parse_from_rfc3339(&at).ok()?.with_timezone(&Utc),
                user_id: Uuid::parse_str(&user).ok()?,
                user_name: name,
                session,
                action: AuditAction::parse(&action)?,
                entity: EntityKind::parse(&entity)?,
                record_id: Uuid::parse_str(&record).ok()?,
                patient_id: Uuid::parse_str(&patient_id).ok(),
            })
        })();
        match entry {
            Some(entry) => out.push(entry),
            None => {
                tracing::warn!(seq, "an audit entry cannot be read; left out of a history");
                unreadable += 1;
            }
        }
    }
    Ok((out, unreadable))
}
