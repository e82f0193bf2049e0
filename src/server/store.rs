//! The embedded SQLite store: schema migrations, users and sessions, synced records, and the
//! need-to-know rules applied to every sync read and write.
//!
//! One connection behind a mutex serves every request on a blocking thread; SQLite allows one
//! writer at a time anyway, and WAL with `synchronous=FULL` makes an acknowledged push durable.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use uuid::Uuid;

use super::error::Error;
use crate::core::access::{self, Sight};
use crate::core::action::{conclusion_blockers, Action, ActionEvent};
use crate::core::agenda::{actions_review_id, AgendaItem, ItemKind};
use crate::core::attendance::Attendance;
use crate::core::authorize;
use crate::core::brief::{brief_id_for, Brief, ReadReceipt};
use crate::core::entities::{Entity, EntityKind, Meeting, MeetingStatus, Person, Team};
use crate::core::patient::Patient;
use crate::core::schedule::PersonAvailability;
use crate::core::sync::{
    process_push, Mutation, MutationResult, PullResponse, SyncRecord, SyncStore, Writer,
    MAX_PULL_RECORDS,
};

/// Schema changes in order; `PRAGMA user_version` records how many have run.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE COLLATE NOCASE,
    name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    person_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    created_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);
-- Every synced record: the envelope and fields as JSON, plus columns for access and pulls.
CREATE TABLE records (
    id TEXT PRIMARY KEY,
    entity TEXT NOT NULL,
    team_id TEXT,
    created_by TEXT NOT NULL,
    change_seq INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE UNIQUE INDEX records_change_seq ON records(change_seq);
CREATE INDEX records_team ON records(team_id);
-- Who is in which team (coordinator included), kept in step with team records.
CREATE TABLE team_members (
    team_id TEXT NOT NULL,
    person_id TEXT NOT NULL,
    PRIMARY KEY (team_id, person_id)
);
CREATE INDEX team_members_person ON team_members(person_id);
CREATE TABLE devices (
    device_id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    last_seq INTEGER NOT NULL
);
CREATE TABLE processed_mutations (
    mutation_id TEXT PRIMARY KEY,
    device_id TEXT NOT NULL,
    result TEXT NOT NULL,
    processed_at TEXT NOT NULL
);
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"#,
    // The server's half of each user's offline-copy key (see `device_key`).
    r#"
ALTER TABLE users ADD COLUMN device_key TEXT;
"#,
    // The audit trail (see `server::audit`): append-only for the app, hash-chained against
    // anyone else.
    r#"
CREATE TABLE audit (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    user_id TEXT NOT NULL,
    session TEXT NOT NULL,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    record_id TEXT NOT NULL,
    patient_id TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_patient ON audit(patient_id);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
"#,
    // Observers read a team's records but may not change them.
    r#"
ALTER TABLE team_members ADD COLUMN may_write INTEGER NOT NULL DEFAULT 1;
"#,
    // Safeguarding-restricted items: each record notes the agenda item whose restriction
    // governs it (the item itself, its brief and read receipts, actions and their history).
    r#"
ALTER TABLE records ADD COLUMN item_id TEXT;
ALTER TABLE records ADD COLUMN restricted INTEGER NOT NULL DEFAULT 0;
UPDATE records SET item_id = id WHERE entity = 'agenda_item';
UPDATE records SET item_id = json_extract(body, '$.fields.item_id') WHERE entity IN ('brief', 'action');
UPDATE records SET item_id = (SELECT b.item_id FROM records b WHERE b.id = json_extract(records.body, '$.fields.brief_id')) WHERE entity = 'read_receipt';
UPDATE records SET item_id = (SELECT a.item_id FROM records a WHERE a.id = json_extract(records.body, '$.fields.action_id')) WHERE entity = 'action_event';
CREATE INDEX records_item ON records(item_id);
CREATE INDEX records_restricted ON records(team_id) WHERE restricted = 1;
"#,
    // Site administrators manage accounts; they see patient data only through teams.
    r#"
ALTER TABLE users ADD COLUMN site_admin INTEGER NOT NULL DEFAULT 0;
"#,
    // Finding a team's patient by NHS number (the duplicate check on every new patient) without
    // reading every patient of the team.
    r#"
CREATE INDEX records_patient_nhs ON records(team_id, json_extract(body, '$.fields.nhs_number')) WHERE entity = 'patient';
"#,
];

/// A signed-in user, as the store knows them.
#[derive(Debug, Clone, PartialEq)]
pub struct UserRow {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub person_id: Uuid,
    pub password_hash: String,
    /// A disabled account cannot sign in and has no sessions.
    pub disabled: bool,
    /// Manages accounts (see [`crate::server::admin`]); no access to patient data by it.
    pub site_admin: bool,
}

/// A session found by its token.
#[derive(Debug, Clone)]
pub struct SessionRow {
    pub user: UserRow,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
}

/// The database handle shared by every request.
#[derive(Clone)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
}

impl Store {
    /// Opens (creating if needed) the database in `data_dir` and brings its schema up to date.
    pub fn open(data_dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("cannot create the data directory {}", data_dir.display()))?;
        let path = data_dir.join("mdt.sqlite3");
        let conn =
            Connection::open(&path).with_context(|| format!("cannot open {}", path.display()))?;
        Self::init(conn)
    }

    fn init(mut conn: Connection) -> anyhow::Result<Self> {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let done: usize = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(done) {
            let tx = conn.transaction()?;
            tx.execute_batch(sql)
                .with_context(|| format!("migration {} failed", i + 1))?;
            tx.pragma_update(None, "user_version", i + 1)?;
            tx.commit()?;
            tracing::info!(version = i + 1, "database schema migrated");
        }
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` with the connection on a blocking thread.
    pub async fn call<T, F>(&self, f: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, Error> + Send + 'static,
    {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            f(&mut guard)
        })
        .await
        .map_err(|e| Error::Internal(anyhow::anyhow!("database task failed: {e}")))?
    }

    /// The same, for commands that run outside a request.
    pub fn blocking<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let mut guard = self
            .conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut guard)
    }
}

fn parse_uuid(s: String) -> rusqlite::Result<Uuid> {
    Uuid::parse_str(&s).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })
}

fn parse_time(s: String) -> rusqlite::Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(&s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
        })
}

fn json_err(e: serde_json::Error) -> Error {
    Error::Internal(e.into())
}

const USER_COLUMNS: &str =
    "u.id, u.email, u.name, u.person_id, u.password_hash, u.disabled, u.site_admin";

fn user_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<UserRow> {
    Ok(UserRow {
        id: parse_uuid(row.get(0)?)?,
        email: row.get(1)?,
        name: row.get(2)?,
        person_id: parse_uuid(row.get(3)?)?,
        password_hash: row.get(4)?,
        disabled: row.get::<_, i64>(5)? != 0,
        site_admin: row.get::<_, i64>(6)? != 0,
    })
}

/// The user's device key (created on first use): with it, a signed-in session opens the
/// encrypted offline copy without the password.
pub fn device_key(conn: &Connection, user_id: Uuid) -> Result<String, Error> {
    let existing: Option<String> = conn
        .query_row(
            "SELECT device_key FROM users WHERE id = ?1",
            [user_id.to_string()],
            |r| r.get(0),
        )
        .optional()?
        .flatten();
    if let Some(key) = existing {
        return Ok(key);
    }
    let key: String = rand::random::<[u8; 32]>()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    conn.execute(
        "UPDATE users SET device_key = ?2 WHERE id = ?1 AND device_key IS NULL",
        params![user_id.to_string(), key],
    )?;
    // Whoever wrote first wins; read back what is stored.
    let stored: Option<String> = conn.query_row(
        "SELECT device_key FROM users WHERE id = ?1",
        [user_id.to_string()],
        |r| r.get(0),
    )?;
    stored.ok_or_else(|| Error::Internal(anyhow::anyhow!("device key not stored")))
}

/// Disables (or enables again) an account; disabling ends all its sessions at once. False
/// when no account has that email.
pub fn set_disabled(conn: &Connection, email: &str, disabled: bool) -> Result<bool, Error> {
    let changed = conn.execute(
        "UPDATE users SET disabled = ?2 WHERE email = ?1",
        params![email.trim(), i64::from(disabled)],
    )?;
    if changed > 0 && disabled {
        end_sessions_of(conn, email)?;
    }
    Ok(changed > 0)
}

/// Replaces an account's password hash and ends all its sessions. False when no account has
/// that email.
pub fn set_password_hash(conn: &Connection, email: &str, hash: &str) -> Result<bool, Error> {
    let changed = conn.execute(
        "UPDATE users SET password_hash = ?2 WHERE email = ?1",
        params![email.trim(), hash],
    )?;
    if changed > 0 {
        end_sessions_of(conn, email)?;
    }
    Ok(changed > 0)
}

fn end_sessions_of(conn: &Connection, email: &str) -> Result<(), Error> {
    conn.execute(
        "DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE email = ?1)",
        [email.trim()],
    )?;
    Ok(())
}

/// Users.
pub fn find_user_by_email(conn: &Connection, email: &str) -> Result<Option<UserRow>, Error> {
    Ok(conn
        .query_row(
            &format!("SELECT {USER_COLUMNS} FROM users u WHERE u.email = ?1 AND u.disabled = 0"),
            [email.trim()],
            user_from_row,
        )
        .optional()?)
}

/// Creates a user; the email must be new.
pub fn insert_user(conn: &Connection, user: &UserRow, now: DateTime<Utc>) -> Result<(), Error> {
    let exists: bool = conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM users WHERE email = ?1)",
        [&user.email],
        |r| r.get(0),
    )?;
    if exists {
        return Err(Error::BadRequest(format!(
            "A user with the email {} already exists",
            user.email
        )));
    }
    conn.execute(
        "INSERT INTO users (id, email, name, password_hash, person_id, created_at, site_admin) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![user.id.to_string(), user.email, user.name, user.password_hash, user.person_id.to_string(), now.to_rfc3339(), user.site_admin],
    )?;
    Ok(())
}

/// Makes the account a site administrator, or not; false when no account has the email.
pub fn set_site_admin(conn: &Connection, email: &str, site_admin: bool) -> Result<bool, Error> {
    Ok(conn.execute(
        "UPDATE users SET site_admin = ?2 WHERE email = ?1",
        params![email.trim(), site_admin],
    )? > 0)
}

/// An account as site administrators see it: who, what role, and whether it can sign in.
pub struct AccountRow {
    pub user: UserRow,
    pub created_at: DateTime<Utc>,
    pub last_active: Option<DateTime<Utc>>,
}

/// Every account by name, or only the account `only`.
pub fn accounts(conn: &Connection, only: Option<Uuid>) -> Result<Vec<AccountRow>, Error> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {USER_COLUMNS}, u.created_at, (SELECT MAX(s.last_seen_at) FROM sessions s WHERE s.user_id = u.id) \
         FROM users u WHERE ?1 IS NULL OR u.id = ?1 ORDER BY u.name COLLATE NOCASE, u.email"
    ))?;
    let rows = stmt.query_map([only.map(|id| id.to_string())], |r| {
        Ok(AccountRow {
            user: user_from_row(r)?,
            created_at: parse_time(r.get(7)?)?,
            last_active: r.get::<_, Option<String>>(8)?.map(parse_time).transpose()?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The account with this id, disabled or not.
pub fn find_user_by_id(conn: &Connection, id: Uuid) -> Result<Option<UserRow>, Error> {
    Ok(conn
        .query_row(
            &format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = ?1"),
            [id.to_string()],
            user_from_row,
        )
        .optional()?)
}

/// Sessions, stored by the SHA-256 of their token so a copy of the database cannot sign in.
pub fn insert_session(
    conn: &Connection,
    token_hash: &str,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    conn.execute(
        "INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at) VALUES (?1, ?2, ?3, ?3)",
        params![token_hash, user_id.to_string(), now.to_rfc3339()],
    )?;
    Ok(())
}

/// The session for a token hash, with its user (if the user is still enabled).
pub fn find_session(conn: &Connection, token_hash: &str) -> Result<Option<SessionRow>, Error> {
    Ok(conn
        .query_row(
            &format!(
                "SELECT {USER_COLUMNS}, s.created_at, s.last_seen_at FROM sessions s JOIN users u ON u.id = s.user_id \
                 WHERE s.token_hash = ?1 AND u.disabled = 0"
            ),
            [token_hash],
            |row| {
                Ok(SessionRow {
                    user: user_from_row(row)?,
                    created_at: parse_time(row.get(7)?)?,
                    last_seen_at: parse_time(row.get(8)?)?,
                })
            },
        )
        .optional()?)
}

/// Marks a session as used now (for the idle timeout).
pub fn touch_session(conn: &Connection, token_hash: &str, now: DateTime<Utc>) -> Result<(), Error> {
    conn.execute(
        "UPDATE sessions SET last_seen_at = ?2 WHERE token_hash = ?1",
        params![token_hash, now.to_rfc3339()],
    )?;
    Ok(())
}

/// Ends a session.
pub fn delete_session(conn: &Connection, token_hash: &str) -> Result<(), Error> {
    conn.execute("DELETE FROM sessions WHERE token_hash = ?1", [token_hash])?;
    Ok(())
}

/// A setting (e.g. whether the demo data is loaded).
pub fn setting(conn: &Connection, key: &str) -> Result<Option<String>, Error> {
    Ok(conn
        .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
            r.get(0)
        })
        .optional()?)
}

/// When the account `user` was made (`None`: no such account).
pub fn account_created_at(conn: &Connection, user: Uuid) -> Result<Option<DateTime<Utc>>, Error> {
    let at: Option<String> = conn
        .prepare_cached("SELECT created_at FROM users WHERE id = ?1")?
        .query_row([user.to_string()], |r| r.get(0))
        .optional()?;
    Ok(at
        .and_then(|s| DateTime::parse_from_rfc3339(&s).ok())
        .map(|t| t.with_timezone(&Utc)))
}

/// Stores a setting.
pub fn set_setting(conn: &Connection, key: &str, value: &str) -> Result<(), Error> {
    conn.execute(
        "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [key, value],
    )?;
    Ok(())
}

/// Who is reading or writing synced data: their user and their entry in the directory.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Uuid,
    pub person_id: Uuid,
    pub name: String,
    /// A short, non-secret identifier of the session, for the audit trail ("command line"
    /// for server commands).
    pub session: String,
}

/// The teams `person` may read: coordinated, belonged to or observed.
pub fn teams_of(conn: &Connection, person: Uuid) -> Result<HashSet<Uuid>, Error> {
    let mut stmt = conn.prepare_cached("SELECT team_id FROM team_members WHERE person_id = ?1")?;
    let ids = stmt
        .query_map([person.to_string()], |r| parse_uuid(r.get(0)?))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(ids)
}

/// Everyone in any of `teams`.
fn people_in(conn: &Connection, teams: &HashSet<Uuid>) -> Result<HashSet<Uuid>, Error> {
    let mut stmt = conn.prepare_cached("SELECT person_id FROM team_members WHERE team_id = ?1")?;
    let mut people = HashSet::new();
    for team in teams {
        for p in stmt.query_map([team.to_string()], |r| parse_uuid(r.get(0)?))? {
            people.insert(p?);
        }
    }
    Ok(people)
}

/// A stored record (tombstones included) and who created it.
pub fn load_record(conn: &Connection, id: Uuid) -> Result<Option<(SyncRecord, Uuid)>, Error> {
    let row: Option<(String, String)> = conn
        .prepare_cached("SELECT body, created_by FROM records WHERE id = ?1")?
        .query_row([id.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    row.map(|(body, created_by)| {
        let record = serde_json::from_str(&body).map_err(json_err)?;
        Ok((
            record,
            Uuid::parse_str(&created_by).map_err(|e| Error::Internal(e.into()))?,
        ))
    })
    .transpose()
}

/// Every live record of one kind belonging to a team, typed.
pub fn team_records<E: Entity>(conn: &Connection, team_id: Uuid) -> Result<Vec<(Uuid, E)>, Error> {
    let mut stmt =
        conn.prepare_cached("SELECT body FROM records WHERE team_id = ?1 AND entity = ?2")?;
    let rows = stmt.query_map(params![team_id.to_string(), E::KIND.as_str()], |r| {
        r.get::<_, String>(0)
    })?;
    let mut out = Vec::new();
    for body in rows {
        let record: SyncRecord = serde_json::from_str(&body?).map_err(json_err)?;
        if let Some(entity) = record.typed::<E>().filter(|_| !record.deleted) {
            out.push((record.id, entity));
        }
    }
    Ok(out)
}

/// One live record, typed, with its version.
pub fn record_with_version<E: Entity>(
    conn: &Connection,
    id: Uuid,
) -> Result<Option<(E, u64)>, Error> {
    Ok(load_record(conn, id)?.and_then(|(r, _)| {
        r.typed::<E>()
            .filter(|_| !r.deleted)
            .map(|e| (e, r.version))
    }))
}

/// Records of one kind by id (live ones only), typed.
pub fn records_by_id<E: Entity>(
    conn: &Connection,
    ids: impl IntoIterator<Item = Uuid>,
) -> Result<HashMap<Uuid, E>, Error> {
    let mut out = HashMap::new();
    for id in ids {
        if let Some((record, _)) = load_record(conn, id)? {
            if let Some(entity) = record.typed::<E>().filter(|_| !record.deleted) {
                out.insert(id, entity);
            }
        }
    }
    Ok(out)
}

/// The stored version of a record (0 if there is none), for writers that are not devices.
pub fn current_version(conn: &Connection, id: Uuid) -> Result<u64, Error> {
    Ok(load_record(conn, id)?.map_or(0, |(r, _)| r.version))
}

fn next_change_seq(conn: &Connection) -> Result<i64, Error> {
    Ok(conn.query_row(
        "SELECT COALESCE(MAX(change_seq), 0) + 1 FROM records",
        [],
        |r| r.get(0),
    )?)
}

/// The team a record belongs to, for access checks and pulls.
fn team_of(record: &SyncRecord) -> Option<Uuid> {
    match record.entity {
        EntityKind::Team => Some(record.id),
        EntityKind::Organisation | EntityKind::Person | EntityKind::Availability => None,
        _ => record.uuid_field("team_id"),
    }
}

/// Whether `actor` may see `record` (created by `created_by`), given the teams they are in and
/// the people in those teams. Organisations are a shared directory of public bodies; people
/// are seen by those who share a team with them or added them; teams, meetings and the
/// team's patients, items, briefs and receipts only by its members.
fn may_see(
    actor: &Actor,
    record: &SyncRecord,
    created_by: Uuid,
    teams: &HashSet<Uuid>,
    people: &HashSet<Uuid>,
) -> bool {
    match record.entity {
        EntityKind::Organisation => true,
        EntityKind::Person => {
            record.id == actor.person_id
                || created_by == actor.user_id
                || people.contains(&record.id)
        }
        EntityKind::Availability => record.uuid_field("person_id").is_some_and(|p| {
            p == actor.person_id || created_by == actor.user_id || people.contains(&p)
        }),
        _ => team_of(record).is_some_and(|t| teams.contains(&t)),
    }
}

/// The agenda item whose restriction governs `record`: the item itself, the item of a brief or
/// an action, or (through the brief or action they belong to) of a read receipt or an action's
/// history line.
fn governing_item_id(conn: &Connection, record: &SyncRecord) -> Result<Option<Uuid>, Error> {
    let via = |field: &str| -> Result<Option<Uuid>, Error> {
        let Some(parent) = record.uuid_field(field) else {
            return Ok(None);
        };
        let item: Option<Option<String>> = conn
            .prepare_cached("SELECT item_id FROM records WHERE id = ?1")?
            .query_row([parent.to_string()], |r| r.get(0))
            .optional()?;
        Ok(item.flatten().and_then(|s| Uuid::parse_str(&s).ok()))
    };
    match record.entity {
        EntityKind::AgendaItem => Ok(Some(record.id)),
        EntityKind::Brief | EntityKind::Action => Ok(record.uuid_field("item_id")),
        EntityKind::ReadReceipt => via("brief_id"),
        EntityKind::ActionEvent => via("action_id"),
        _ => Ok(None),
    }
}

/// How much of `record` `person` is given under the safeguarding restriction of the agenda item
/// it belongs to ([`access::sight`]); [`Sight::Full`] for records of items that are not
/// restricted. `record` may be a change not yet stored (a new brief or action).
pub fn sight_of(conn: &Connection, person: Uuid, record: &SyncRecord) -> Result<Sight, Error> {
    let Some((item, team)) = restriction_of(conn, record)? else {
        return Ok(Sight::Full);
    };
    let owner = match record.entity {
        EntityKind::Action => record.typed::<Action>().map(|a| a.owner_id),
        EntityKind::ActionEvent => match record.uuid_field("action_id") {
            Some(action) => load_record(conn, action)?
                .and_then(|(r, _)| Action::from_fields(&r.fields).ok())
                .map(|a| a.owner_id),
            None => None,
        },
        _ => None,
    };
    Ok(access::sight(record.entity, &item, &team, person, owner))
}

/// The restricted agenda item (as stored) that `record` belongs to, with its team; `None` when
/// the record is not governed by a restricted item.
fn restriction_of(
    conn: &Connection,
    record: &SyncRecord,
) -> Result<Option<(AgendaItem, Team)>, Error> {
    let Some(item_id) = governing_item_id(conn, record)? else {
        return Ok(None);
    };
    // The stored flag answers the usual case (not restricted) without reading the item.
    let item = match is_restricted(conn, item_id)? {
        Some(false) => return Ok(None),
        Some(true) => match load_record(conn, item_id)? {
            Some((r, _)) => r,
            None => return Ok(None),
        },
        // A new item, not stored yet: as sent.
        None if record.entity == EntityKind::AgendaItem => record.clone(),
        None => return Ok(None),
    };
    let Some(item) = AgendaItem::from_fields(&item.fields)
        .ok()
        .filter(|i| i.restricted)
    else {
        return Ok(None);
    };
    let team = records_by_id::<Team>(conn, [item.team_id])?.remove(&item.team_id);
    Ok(team.map(|team| (item, team)))
}

/// Whether the stored record `id` is a restricted agenda item (`None`: nothing stored).
fn is_restricted(conn: &Connection, id: Uuid) -> Result<Option<bool>, Error> {
    Ok(conn
        .prepare_cached("SELECT restricted FROM records WHERE id = ?1")?
        .query_row([id.to_string()], |r| r.get(0))
        .optional()?)
}

/// The restricted agenda items of `teams` (ids only: who may see each is decided per record).
fn restricted_items(conn: &Connection, teams: &HashSet<Uuid>) -> Result<HashSet<Uuid>, Error> {
    let mut stmt =
        conn.prepare_cached("SELECT id FROM records WHERE team_id = ?1 AND restricted = 1")?;
    let mut ids = HashSet::new();
    for team_id in teams {
        for id in stmt.query_map([team_id.to_string()], |r| parse_uuid(r.get(0)?))? {
            ids.insert(id?);
        }
    }
    Ok(ids)
}

/// Moves records to the end of the change log, so every device pulls them again (and is given
/// what it may now see of them).
fn reannounce(conn: &Connection, ids: impl IntoIterator<Item = String>) -> Result<(), Error> {
    let mut update = conn.prepare_cached("UPDATE records SET change_seq = ?2 WHERE id = ?1")?;
    for id in ids {
        update.execute(params![id, next_change_seq(conn)?])?;
    }
    Ok(())
}

/// Ids of the records that belong to agenda item `item` (its brief, receipts, actions and
/// their history), not the item itself.
fn records_of_item(conn: &Connection, item: Uuid) -> Result<Vec<String>, Error> {
    let mut stmt = conn.prepare_cached("SELECT id FROM records WHERE item_id = ?1 AND id != ?1")?;
    let ids = stmt
        .query_map([item.to_string()], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(ids)
}

/// The stored data the write-permission table asks about ([`authorize::Facts`]).
pub struct StoredFacts<'a>(pub &'a Connection);

impl authorize::Facts for StoredFacts<'_> {
    type Error = Error;

    fn team(&mut self, id: Uuid) -> Result<Option<Team>, Error> {
        Ok(records_by_id::<Team>(self.0, [id])?.remove(&id))
    }

    fn teams_of(&mut self, person: Uuid) -> Result<Vec<Team>, Error> {
        Ok(records_by_id::<Team>(self.0, teams_of(self.0, person)?)?
            .into_values()
            .collect())
    }

    fn person(&mut self, id: Uuid) -> Result<Option<Person>, Error> {
        Ok(records_by_id::<Person>(self.0, [id])?.remove(&id))
    }

    fn has_account(&mut self, person: Uuid) -> Result<Option<bool>, Error> {
        let exists: bool = self
            .0
            .prepare_cached("SELECT EXISTS(SELECT 1 FROM users WHERE person_id = ?1)")?
            .query_row([person.to_string()], |r| r.get(0))?;
        Ok(Some(exists))
    }
}

/// A push applied inside one SQLite transaction, as `actor`.
struct SqlitePush<'a> {
    tx: &'a Transaction<'a>,
    actor: &'a Actor,
    now: DateTime<Utc>,
}

impl SqlitePush<'_> {
    fn person_exists(&self, id: Uuid) -> Result<bool, Error> {
        Ok(load_record(self.tx, id)?
            .is_some_and(|(r, _)| r.entity == EntityKind::Person && !r.deleted))
    }

    /// Integrity of a team (who may change it is the table's): everyone it names is in the
    /// directory.
    fn check_team_change(&self, after: &SyncRecord) -> Result<Result<(), String>, Error> {
        let Some(team) = after.typed::<Team>().filter(|_| !after.deleted) else {
            return Ok(Ok(()));
        };
        for person in std::iter::once(team.coordinator_id)
            .chain(team.member_ids.iter().copied())
            .chain(team.observer_ids.iter().copied())
        {
            if !self.person_exists(person)? {
                return Ok(Err(
                    "A member or the coordinator of the team is not in the directory".into(),
                ));
            }
        }
        Ok(Ok(()))
    }

    fn check_meeting_change(
        &self,
        before: Option<&SyncRecord>,
        after: &SyncRecord,
    ) -> Result<Result<(), String>, Error> {
        let concluding = after
            .typed::<Meeting>()
            .is_some_and(|m| m.status == MeetingStatus::Closed)
            && before
                .and_then(|b| b.typed::<Meeting>())
                .is_none_or(|m| m.status != MeetingStatus::Closed);
        if concluding {
            let team_id = after.uuid_field("team_id").unwrap_or_default();
            let items: Vec<(Uuid, AgendaItem)> = team_records::<AgendaItem>(self.tx, team_id)?
                .into_iter()
                .filter(|(_, i)| i.meeting_id == after.id)
                .collect();
            let actions = team_records::<Action>(self.tx, team_id)?;
            let blockers = conclusion_blockers(&items, &actions);
            if !blockers.is_empty() {
                return Ok(Err(format!(
                    "The meeting cannot be concluded: {} patient item{} still need{} an outcome (a decision with at least one action, no action needed, or deferred)",
                    blockers.len(),
                    if blockers.len() == 1 { "" } else { "s" },
                    if blockers.len() == 1 { "s" } else { "" }
                )));
            }
        }
        Ok(Ok(()))
    }

    fn check_action(
        &self,
        before: Option<&SyncRecord>,
        after: &SyncRecord,
        team_id: Uuid,
    ) -> Result<Option<String>, Error> {
        let Some(action) = after.typed::<Action>() else {
            return Ok(None);
        };
        let team = self.team_record::<Team>(Some(team_id), team_id)?;
        if !team.is_some_and(|t| t.includes(action.owner_id)) {
            return Ok(Some(
                "An action's owner must be one person in the team; add them to the team first"
                    .into(),
            ));
        }
        if action.item_id.is_some()
            && self
                .team_record::<AgendaItem>(action.item_id, team_id)?
                .is_none()
        {
            return Ok(Some(
                "The action's agenda item is not on the team's agenda".into(),
            ));
        }
        if action.patient_id.is_some()
            && self
                .team_record::<Patient>(action.patient_id, team_id)?
                .is_none()
        {
            return Ok(Some("The patient is not on the team's list".into()));
        }
        let previous = before.and_then(|b| b.typed::<Action>());
        if let Some(previous) = &previous {
            if !previous.status.can_become(action.status) {
                return Ok(Some(format!(
                    "An action that is {} cannot become {}",
                    previous.status.label().to_lowercase(),
                    action.status.label().to_lowercase()
                )));
            }
        }
        Ok(None)
    }

    /// Integrity of availability (who may set it is the table's): one record per person, at
    /// the id derived from them.
    fn check_availability(
        &self,
        before: Option<&SyncRecord>,
        after: &SyncRecord,
    ) -> Result<Result<(), String>, Error> {
        let Some(person) = after.uuid_field("person_id") else {
            return Ok(Ok(()));
        };
        if before.is_some_and(|b| b.uuid_field("person_id") != Some(person))
            || after.id != PersonAvailability::id_for(person)
        {
            return Ok(Err(
                "Availability belongs to one person and cannot be moved to another".into(),
            ));
        }
        Ok(Ok(()))
    }

    fn check_attendance(&self, after: &SyncRecord, team_id: Uuid) -> Result<Option<String>, Error> {
        let Some(answer) = after.typed::<Attendance>() else {
            return Ok(None);
        };
        let Some(team) = self.team_record::<Team>(Some(team_id), team_id)? else {
            return Ok(None);
        };
        if !team.includes(answer.person_id) {
            return Ok(Some(
                "Attendance can only be recorded for members of the team".into(),
            ));
        }
        if self
            .team_record::<Meeting>(Some(answer.meeting_id), team_id)?
            .is_none()
        {
            return Ok(Some("The meeting is not one of the team's meetings".into()));
        }
        if after.id != Attendance::id_for(answer.meeting_id, answer.person_id) {
            return Ok(Some(
                "This person already has an answer for this meeting: change that one".into(),
            ));
        }
        if let Some(deputy) = answer.deputy_id {
            if !self.person_exists(deputy)? {
                return Ok(Some("The deputy is not in the directory".into()));
            }
        }
        Ok(None)
    }

    fn check_action_event(
        &self,
        after: &SyncRecord,
        team_id: Uuid,
    ) -> Result<Option<String>, Error> {
        let Some(event) = after.typed::<ActionEvent>() else {
            return Ok(None);
        };
        if self
            .team_record::<Action>(Some(event.action_id), team_id)?
            .is_none()
        {
            return Ok(Some(
                "The history entry does not belong to an action of the team".into(),
            ));
        }
        Ok(None)
    }

    /// A live record of `kind` belonging to `team`, if there is one.
    fn team_record<E: Entity>(&self, id: Option<Uuid>, team: Uuid) -> Result<Option<E>, Error> {
        let Some(id) = id else { return Ok(None) };
        Ok(load_record(self.tx, id)?
            .filter(|(r, _)| !r.deleted && team_of(r) == Some(team))
            .and_then(|(r, _)| r.typed::<E>()))
    }

    /// Integrity of a team's records (who may write them is the table's): everything they point
    /// at belongs to the same team, and the safeguarding restriction holds.
    fn check_team_record(
        &self,
        before: Option<&SyncRecord>,
        after: &SyncRecord,
    ) -> Result<Result<(), String>, Error> {
        let Some(team_id) = team_of(after) else {
            return Ok(Err("The record does not name its team".into()));
        };
        if let Some(refusal) = self.check_restriction(before, after)? {
            return Ok(Err(refusal));
        }
        if after.deleted {
            return Ok(Ok(()));
        }
        let refusal = match after.entity {
            EntityKind::Patient => self.check_patient(after, team_id)?,
            EntityKind::AgendaItem => self.check_item(before, after, team_id)?,
            EntityKind::Brief => self.check_brief(after, team_id)?,
            EntityKind::ReadReceipt => self.check_receipt(after, team_id)?,
            EntityKind::Action => self.check_action(before, after, team_id)?,
            EntityKind::ActionEvent => self.check_action_event(after, team_id)?,
            EntityKind::Attendance => self.check_attendance(after, team_id)?,
            _ => None,
        };
        Ok(refusal.map_or(Ok(()), Err))
    }

    /// The safeguarding restriction rules ([`access`]) for a change to a team record.
    fn check_restriction(
        &self,
        before: Option<&SyncRecord>,
        after: &SyncRecord,
    ) -> Result<Option<String>, Error> {
        let person = self.actor.person_id;
        if after.entity == EntityKind::Action && before.is_none() {
            // Only those who see the discussion set its actions, whoever will own them.
            let hidden = restriction_of(self.tx, after)?
                .is_some_and(|(item, team)| !access::may_see_restricted(&item, &team, person));
            return Ok(hidden
                .then(|| "Action: it belongs to a restricted item that you may not see".into()));
        }
        if sight_of(self.tx, person, after)? != Sight::Hidden {
            return Ok(None);
        }
        Ok(Some(match (after.entity, before) {
            (EntityKind::Action, Some(_)) => "This action comes from a restricted item: ask the item's lead or the team's coordinator to give it to someone else".into(),
            _ => format!(
                "{}: it belongs to a restricted item that you may not see",
                after.entity.label()
            ),
        }))
    }

    fn check_patient(&self, after: &SyncRecord, team_id: Uuid) -> Result<Option<String>, Error> {
        let Some(patient) = after.typed::<Patient>() else {
            return Ok(None);
        };
        let duplicate: bool = self.tx.query_row(
            "SELECT EXISTS(SELECT 1 FROM records WHERE entity = 'patient' AND team_id = ?1 AND id != ?2 \
             AND json_extract(body, '$.deleted') = 0 AND json_extract(body, '$.fields.nhs_number') = ?3)",
            params![team_id.to_string(), after.id.to_string(), patient.nhs_number],
            |r| r.get(0),
        )?;
        // The message must not repeat the NHS number (no identifiers in error messages).
        Ok(duplicate.then(|| "This patient is already on the team's list: choose them from the list instead of adding them again".into()))
    }

    fn check_item(
        &self,
        before: Option<&SyncRecord>,
        after: &SyncRecord,
        team_id: Uuid,
    ) -> Result<Option<String>, Error> {
        let Some(item) = after.typed::<AgendaItem>() else {
            return Ok(None);
        };
        let Some(meeting) = self.team_record::<Meeting>(Some(item.meeting_id), team_id)? else {
            return Ok(Some(
                "The meeting for this item is not one of the team's meetings".into(),
            ));
        };
        if item.patient_id.is_some()
            && self
                .team_record::<Patient>(item.patient_id, team_id)?
                .is_none()
        {
            return Ok(Some("The patient is not on the team's list".into()));
        }
        let automatic =
            item.carried_from.is_some() || after.id == actions_review_id(item.meeting_id);
        if before.is_none() && !automatic {
            let team = self.team_record::<Team>(Some(team_id), team_id)?;
            if let Some(team) = team {
                match team.may_add_item(meeting.starts_at, self.actor.person_id, self.now) {
                    Err(reason) => return Ok(Some(reason)),
                    Ok(true) if !item.late => {
                        return Ok(Some(
                            "The agenda has closed, so this item must be marked as late".into(),
                        ))
                    }
                    Ok(_) => {}
                }
            }
        }
        Ok(None)
    }

    fn check_brief(&self, after: &SyncRecord, team_id: Uuid) -> Result<Option<String>, Error> {
        let Some(brief) = after.typed::<Brief>() else {
            return Ok(None);
        };
        let item = self.team_record::<AgendaItem>(Some(brief.item_id), team_id)?;
        if !item.is_some_and(|i| i.kind == ItemKind::PatientDiscussion) {
            return Ok(Some(
                "A brief must belong to a patient discussion on the team's agenda".into(),
            ));
        }
        if after.id != brief_id_for(brief.item_id) {
            return Ok(Some(
                "This item already has a brief: open it from the agenda".into(),
            ));
        }
        Ok(None)
    }

    fn check_receipt(&self, after: &SyncRecord, team_id: Uuid) -> Result<Option<String>, Error> {
        let Some(receipt) = after.typed::<ReadReceipt>() else {
            return Ok(None);
        };
        if after.id != ReadReceipt::id_for(receipt.brief_id, receipt.person_id)
            || self
                .team_record::<Brief>(Some(receipt.brief_id), team_id)?
                .is_none()
        {
            return Ok(Some(
                "The receipt does not match a brief of the team".into(),
            ));
        }
        Ok(None)
    }

    /// Re-sends a team's records and people to pulls, so that someone who has just joined
    /// the team receives records changed before they joined.
    fn reannounce_team(&self, team_id: Uuid, team: Option<&Team>) -> Result<(), Error> {
        let mut ids: Vec<String> = {
            let mut stmt = self.tx.prepare_cached(
                "SELECT id FROM records WHERE team_id = ?1 AND entity = 'meeting'",
            )?;
            let rows = stmt.query_map([team_id.to_string()], |r| r.get(0))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        if let Some(team) = team {
            for person in std::iter::once(team.coordinator_id)
                .chain(team.member_ids.iter().copied())
                .chain(team.observer_ids.iter().copied())
            {
                ids.push(person.to_string());
                ids.push(PersonAvailability::id_for(person).to_string());
            }
        }
        // A new coordinator sees every restricted item; the old one no longer does.
        {
            let mut stmt = self.tx.prepare_cached(
                "SELECT r.id FROM records r JOIN records i ON r.item_id = i.id \
                 WHERE i.team_id = ?1 AND i.restricted = 1",
            )?;
            let rows = stmt.query_map([team_id.to_string()], |r| r.get(0))?;
            for id in rows {
                ids.push(id?);
            }
        }
        reannounce(self.tx, ids)
    }
}

impl SyncStore for SqlitePush<'_> {
    type Error = Error;

    fn processed(&mut self, mutation_id: Uuid) -> Result<Option<MutationResult>, Error> {
        let body: Option<String> = self
            .tx
            .query_row(
                "SELECT result FROM processed_mutations WHERE mutation_id = ?1",
                [mutation_id.to_string()],
                |r| r.get(0),
            )
            .optional()?;
        body.map(|b| serde_json::from_str(&b).map_err(json_err))
            .transpose()
    }

    fn last_seq(&mut self, device: Uuid) -> Result<u64, Error> {
        let seq: Option<i64> = self
            .tx
            .query_row(
                "SELECT last_seq FROM devices WHERE device_id = ?1",
                [device.to_string()],
                |r| r.get(0),
            )
            .optional()?;
        Ok(seq.map_or(0, |s| s.max(0) as u64))
    }

    fn record(&mut self, id: Uuid) -> Result<Option<SyncRecord>, Error> {
        Ok(load_record(self.tx, id)?.map(|(record, _)| record))
    }

    fn may_see(&mut self, record: &SyncRecord) -> Result<bool, Error> {
        let created_by = load_record(self.tx, record.id)?.map_or(self.actor.user_id, |(_, c)| c);
        let teams = teams_of(self.tx, self.actor.person_id)?;
        let people = people_in(self.tx, &teams)?;
        Ok(may_see(self.actor, record, created_by, &teams, &people)
            && sight_of(self.tx, self.actor.person_id, record)? != Sight::Hidden)
    }

    fn authorize(
        &mut self,
        before: Option<&SyncRecord>,
        after: &SyncRecord,
    ) -> Result<Result<(), String>, Error> {
        let me = self.actor.person_id;
        if let Err(refusal) = authorize::decide(&mut StoredFacts(self.tx), me, before, after)? {
            return Ok(Err(refusal.0));
        }
        match after.entity {
            EntityKind::Organisation | EntityKind::Person => Ok(Ok(())),
            EntityKind::Team => self.check_team_change(after),
            EntityKind::Meeting => self.check_meeting_change(before, after),
            EntityKind::Availability => self.check_availability(before, after),
            _ => self.check_team_record(before, after),
        }
    }

    fn save_record(&mut self, record: &SyncRecord) -> Result<(), Error> {
        let action = if record.deleted {
            super::audit::AuditAction::Delete
        } else if record.version == 1 {
            super::audit::AuditAction::Create
        } else {
            super::audit::AuditAction::Change
        };
        super::audit::record_access(self.tx, self.actor, action, record, self.now)?;
        let body = serde_json::to_string(record).map_err(json_err)?;
        let team_id = team_of(record).map(|t| t.to_string());
        let governing_item = governing_item_id(self.tx, record)?;
        let item_id = governing_item.map(|i| i.to_string());
        let restricted = record.entity == EntityKind::AgendaItem
            && record.fields.get("restricted") == Some(&serde_json::Value::Bool(true));
        let was_restricted = record.entity == EntityKind::AgendaItem
            && is_restricted(self.tx, record.id)? == Some(true);
        self.tx.execute(
            "INSERT INTO records (id, entity, team_id, created_by, change_seq, body, item_id, restricted) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
             ON CONFLICT(id) DO UPDATE SET team_id = excluded.team_id, change_seq = excluded.change_seq, body = excluded.body, \
             item_id = COALESCE(excluded.item_id, records.item_id), restricted = excluded.restricted",
            params![
                record.id.to_string(),
                record.entity.as_str(),
                team_id,
                self.actor.user_id.to_string(),
                next_change_seq(self.tx)?,
                body,
                item_id,
                restricted
            ],
        )?;
        // Who sees a restricted item's brief and actions may have changed: send them again,
        // so that each device is given (or loses) what it may now see.
        if record.entity == EntityKind::AgendaItem && (restricted || was_restricted) {
            reannounce(self.tx, records_of_item(self.tx, record.id)?)?;
        }
        if record.entity == EntityKind::Action {
            let item_restricted = match governing_item {
                Some(item) => is_restricted(self.tx, item)? == Some(true),
                None => false,
            };
            if item_restricted {
                // The owner sees the action's history: a new owner gets it, the old one loses it.
                let events: Vec<String> = {
                    let mut stmt = self.tx.prepare_cached(
                        "SELECT id FROM records WHERE entity = 'action_event' AND json_extract(body, '$.fields.action_id') = ?1",
                    )?;
                    let rows = stmt.query_map([record.id.to_string()], |r| r.get(0))?;
                    rows.collect::<rusqlite::Result<_>>()?
                };
                reannounce(self.tx, events)?;
            }
        }
        if record.entity == EntityKind::Team {
            let team = record.typed::<Team>().filter(|_| !record.deleted);
            self.tx.execute(
                "DELETE FROM team_members WHERE team_id = ?1",
                [record.id.to_string()],
            )?;
            if let Some(team) = &team {
                let mut insert = self.tx.prepare_cached(
                    "INSERT OR IGNORE INTO team_members (team_id, person_id, may_write) VALUES (?1, ?2, ?3)",
                )?;
                for person in
                    std::iter::once(team.coordinator_id).chain(team.member_ids.iter().copied())
                {
                    insert.execute(params![record.id.to_string(), person.to_string(), 1])?;
                }
                for person in &team.observer_ids {
                    insert.execute(params![record.id.to_string(), person.to_string(), 0])?;
                }
            }
            self.reannounce_team(record.id, team.as_ref())?;
        }
        Ok(())
    }

    fn save_processed(
        &mut self,
        device: Uuid,
        seq: u64,
        result: &MutationResult,
    ) -> Result<(), Error> {
        self.tx.execute(
            "INSERT INTO devices (device_id, user_id, last_seq) VALUES (?1, ?2, ?3) \
             ON CONFLICT(device_id) DO UPDATE SET last_seq = excluded.last_seq",
            params![
                device.to_string(),
                self.actor.user_id.to_string(),
                seq as i64
            ],
        )?;
        self.tx.execute(
            "INSERT INTO processed_mutations (mutation_id, device_id, result, processed_at) VALUES (?1, ?2, ?3, ?4)",
            params![
                result.mutation_id().to_string(),
                device.to_string(),
                serde_json::to_string(result).map_err(json_err)?,
                Utc::now().to_rfc3339()
            ],
        )?;
        Ok(())
    }
}

/// Applies a device's batch of mutations as `actor`, in one durable transaction.
pub fn push(
    conn: &mut Connection,
    actor: &Actor,
    device: Uuid,
    mutations: &[Mutation],
    now: DateTime<Utc>,
) -> Result<Vec<MutationResult>, Error> {
    let tx = conn.transaction()?;
    let owner: Option<String> = tx
        .query_row(
            "SELECT user_id FROM devices WHERE device_id = ?1",
            [device.to_string()],
            |r| r.get(0),
        )
        .optional()?;
    if owner.is_some_and(|o| o != actor.user_id.to_string()) {
        return Err(Error::Forbidden(
            "This device is registered to another user. Sign out and sign in again to start afresh.".into(),
        ));
    }
    let writer = Writer {
        device,
        name: &actor.name,
        now,
    };
    let results = process_push(
        &mut SqlitePush {
            tx: &tx,
            actor,
            now,
        },
        &writer,
        mutations,
    )?;
    tx.commit()?;
    Ok(results)
}

/// Every change after `since` that `actor` may see, in change order, at most
/// [`MAX_PULL_RECORDS`] at a time.
pub fn pull(conn: &mut Connection, actor: &Actor, since: u64) -> Result<PullResponse, Error> {
    // The reads are audited in the same transaction as they are made.
    let tx = conn.transaction()?;
    let (response, withheld) = pull_in(&tx, actor, since)?;
    let now = Utc::now();
    // Withheld copies and deletions carry no patient data, so only whole records are reads.
    for (record, _) in response
        .records
        .iter()
        .zip(&withheld)
        .filter(|(_, withheld)| !**withheld)
    {
        super::audit::record_access(&tx, actor, super::audit::AuditAction::Read, record, now)?;
    }
    tx.commit()?;
    Ok(response)
}

/// The records of a pull, and for each whether it is a withheld copy (not the whole record).
fn pull_in(
    conn: &Connection,
    actor: &Actor,
    since: u64,
) -> Result<(PullResponse, Vec<bool>), Error> {
    let teams = teams_of(conn, actor.person_id)?;
    let people = people_in(conn, &teams)?;
    let restricted = restricted_items(conn, &teams)?;
    let mut stmt = conn.prepare_cached("SELECT change_seq, created_by, body, item_id FROM records WHERE change_seq > ?1 ORDER BY change_seq LIMIT ?2")?;
    let rows = stmt.query_map(params![since as i64, MAX_PULL_RECORDS as i64], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, Option<String>>(3)?,
        ))
    })?;
    let mut records = Vec::new();
    let mut withheld = Vec::new();
    let mut cursor = since;
    let mut scanned = 0;
    for row in rows {
        let (seq, created_by, body, item_id) = row?;
        scanned += 1;
        cursor = seq as u64;
        let record: SyncRecord = serde_json::from_str(&body).map_err(json_err)?;
        let created_by = Uuid::parse_str(&created_by).map_err(|e| Error::Internal(e.into()))?;
        if !may_see(actor, &record, created_by, &teams, &people) {
            continue;
        }
        let governed_by_restricted = item_id
            .and_then(|i| Uuid::parse_str(&i).ok())
            .is_some_and(|i| restricted.contains(&i));
        let sight = if governed_by_restricted {
            sight_of(conn, actor.person_id, &record)?
        } else {
            Sight::Full
        };
        withheld.push(sight != Sight::Full);
        records.push(match sight {
            Sight::Full => record,
            _ => access::copy_for(&record, sight),
        });
    }
    Ok((
        PullResponse {
            records,
            cursor,
            more: scanned == MAX_PULL_RECORDS,
        },
        withheld,
    ))
}

/// Checks a typed entity would be valid, for commands that build records directly.
pub fn valid<E: Entity>(entity: &E) -> Result<(), Error> {
    entity.validate().map_err(|e| Error::BadRequest(e.message))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Databases made before restricted items learn which item governs each record: the item
    /// itself, a brief or action by its `item_id`, a receipt through its brief, a history line
    /// through its action.
    #[test]
    fn the_restriction_migration_fills_in_each_records_item() {
        let store = Store::init(Connection::open_in_memory().unwrap()).unwrap();
        let conn = store.conn.lock().unwrap();
        let (item, brief, receipt, action, event, patient) = (
            Uuid::from_u128(1),
            Uuid::from_u128(2),
            Uuid::from_u128(3),
            Uuid::from_u128(4),
            Uuid::from_u128(5),
            Uuid::from_u128(6),
        );
        let rows = [
            (item, "agenda_item", serde_json::json!({})),
            (brief, "brief", serde_json::json!({"item_id": item})),
            (
                receipt,
                "read_receipt",
                serde_json::json!({"brief_id": brief}),
            ),
            (action, "action", serde_json::json!({"item_id": item})),
            (
                event,
                "action_event",
                serde_json::json!({"action_id": action}),
            ),
            (patient, "patient", serde_json::json!({})),
        ];
        for (seq, (id, entity, fields)) in rows.iter().enumerate() {
            conn.execute(
                "INSERT INTO records (id, entity, team_id, created_by, change_seq, body) VALUES (?1, ?2, 't', 'u', ?3, ?4)",
                params![id.to_string(), entity, seq as i64 + 1, serde_json::json!({"fields": fields}).to_string()],
            )
            .unwrap();
        }
        let backfill: Vec<&str> = MIGRATIONS[4]
            .lines()
            .filter(|l| l.starts_with("UPDATE"))
            .collect();
        assert_eq!(backfill.len(), 4);
        conn.execute_batch(&backfill.join("\n")).unwrap();
        for (id, entity, _) in &rows {
            let found: Option<String> = conn
                .query_row(
                    "SELECT item_id FROM records WHERE id = ?1",
                    [id.to_string()],
                    |r| r.get(0),
                )
                .unwrap();
            let expected = (*entity != "patient").then(|| item.to_string());
            assert_eq!(found, expected, "{entity}");
        }
    }
}
