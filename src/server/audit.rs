//! The audit trail: one append-only row for every read and change of patient data (who, which
//! record, which patient, what, when in UTC, from which session), each row chained to the one
//! before by a SHA-256 hash so that editing or deleting a row is detectable
//! (`mdt-server audit verify`).

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::error::Error;
use super::store::Actor;
use crate::core::action::Action;
use crate::core::agenda::AgendaItem;
use crate::core::brief::Brief;
use crate::core::entities::{Entity, EntityKind};
use crate::core::offline::holds_patient_data;
use crate::core::sync::SyncRecord;

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
    /// Included in a download (the team's actions as CSV).
    Export,
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
            Self::ViewedOffline => "opened while offline",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [
            Self::Read,
            Self::Create,
            Self::Change,
            Self::Delete,
            Self::Export,
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
pub fn patient_of(conn: &Connection, record: &SyncRecord) -> Result<Option<Uuid>, Error> {
    let load = |id: Uuid| -> Result<Option<SyncRecord>, Error> {
        Ok(super::store::load_record(conn, id)?.map(|(r, _)| r))
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

/// Appends one row, chained to the last. Call inside the transaction that does the read or
/// write, so the trail and the data never disagree.
pub fn append(
    conn: &Connection,
    actor: &Actor,
    action: AuditAction,
    entity: EntityKind,
    record_id: Uuid,
    patient_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    // Cached statements: a first sync appends thousands of rows in one transaction.
    let (last_seq, prev): (i64, String) = conn
        .prepare_cached("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
        .unwrap_or((0, GENESIS.to_owned()));
    let seq = last_seq + 1;
    let at = now.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let user = actor.user_id.to_string();
    let record = record_id.to_string();
    let patient = patient_id.map(|p| p.to_string()).unwrap_or_default();
    let hash = row_hash(
        &prev,
        seq,
        [
            &at,
            &user,
            &actor.session,
            action.as_str(),
            entity.as_str(),
            &record,
            &patient,
        ],
    );
    conn.prepare_cached(
        "INSERT INTO audit (seq, at, user_id, session, action, entity, record_id, patient_id, prev_hash, hash) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![seq, at, user, actor.session, action.as_str(), entity.as_str(), record, patient, prev, hash])?;
    Ok(())
}

/// Audits a record sent to or written by `actor`, if it holds patient data.
pub fn record_access(
    conn: &Connection,
    actor: &Actor,
    action: AuditAction,
    record: &SyncRecord,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    if !holds_patient_data(record.entity) {
        return Ok(());
    }
    let patient = patient_of(conn, record)?;
    append(conn, actor, action, record.entity, record.id, patient, now)
}

/// Where the chain breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the audit trail is broken at entry {seq}: {reason}")]
pub struct ChainBreak {
    pub seq: i64,
    pub reason: String,
}

/// Recomputes every row's hash from the one before; the number of rows when intact.
pub fn verify(conn: &Connection) -> Result<Result<u64, ChainBreak>, Error> {
    let mut stmt = conn.prepare(
        "SELECT seq, at, user_id, session, action, entity, record_id, patient_id, prev_hash, hash FROM audit ORDER BY seq",
    )?;
    let mut rows = stmt.query([])?;
    let mut prev = GENESIS.to_owned();
    let mut expected_seq = 1;
    let mut count = 0;
    while let Some(r) = rows.next()? {
        let seq: i64 = r.get(0)?;
        let fields: Vec<String> = (1..10)
            .map(|i| r.get::<_, String>(i))
            .collect::<Result<_, _>>()?;
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
    Ok(Ok(count))
}

/// Every entry about `patient`, newest first, with the user's name, and how many entries could
/// not be read (left out, so one bad row never stops the history being shown).
pub fn entries_for_patient(
    conn: &Connection,
    patient: Uuid,
) -> Result<(Vec<AuditEntry>, usize), Error> {
    let mut stmt = conn.prepare(
        "SELECT a.seq, a.at, a.user_id, COALESCE(u.name, ''), a.session, a.action, a.entity, a.record_id, a.patient_id \
         FROM audit a LEFT JOIN users u ON u.id = a.user_id WHERE a.patient_id = ?1 ORDER BY a.seq DESC LIMIT 2000",
    )?;
    let rows = stmt.query_map([patient.to_string()], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, String>(5)?,
            r.get::<_, String>(6)?,
            r.get::<_, String>(7)?,
            r.get::<_, String>(8)?,
        ))
    })?;
    let mut out = Vec::new();
    let mut unreadable = 0;
    for row in rows {
        let (seq, at, user, name, session, action, entity, record, patient_id) = row?;
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

// ---- HTTP: a patient's access history (coordinators), and views made offline (devices). ----

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;

use super::auth::Session;
use super::error::ApiJson;
use super::AppState;
use crate::core::access::Sight;
use crate::core::entities::Team;
use crate::core::patient::Patient;

/// The audit routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/patients/{patient}/access", get(access_history))
        .route("/api/audit/views", post(report_views))
}

/// One line of a patient's access history, as the coordinator's page shows it.
#[derive(Debug, Clone, Serialize)]
pub struct AccessLine {
    pub at: DateTime<Utc>,
    pub who: String,
    pub what: String,
    pub record: String,
    pub session: String,
}

fn team_of_patient(conn: &Connection, patient: Uuid) -> Result<Option<Team>, Error> {
    let typed = |id: Uuid| -> Result<Option<SyncRecord>, Error> {
        Ok(super::store::load_record(conn, id)?
            .map(|(r, _)| r)
            .filter(|r| !r.deleted))
    };
    let Some(p) = typed(patient)?.and_then(|r| r.typed::<Patient>()) else {
        return Ok(None);
    };
    Ok(typed(p.team_id)?.and_then(|r| r.typed::<Team>()))
}

/// `GET /api/patients/{id}/access`: who saw or changed this patient's records, newest first.
/// Only the coordinator of the patient's team may see it; to anyone else it does not exist.
async fn access_history(
    State(state): State<AppState>,
    session: Session,
    Path(patient): Path<String>,
) -> Result<ApiJson<Vec<AccessLine>>, Error> {
    let patient = Uuid::parse_str(&patient).map_err(|_| Error::NotFound)?;
    let me = session.actor.person_id;
    let lines = state
        .store
        .call(move |conn| {
            let team = team_of_patient(conn, patient)?.ok_or(Error::NotFound)?;
            if team.coordinator_id != me {
                return Err(Error::NotFound);
            }
            let (entries, unreadable) = entries_for_patient(conn, patient)?;
            let mut lines: Vec<AccessLine> = entries
                .into_iter()
                .map(|e| AccessLine {
                    at: e.at,
                    who: e.user_name,
                    what: e.action.label().to_owned(),
                    record: e.entity.label().to_owned(),
                    session: e.session,
                })
                .collect();
            if unreadable > 0 {
                // Said on the page, so nobody takes the history for complete.
                lines.insert(
                    0,
                    AccessLine {
                        at: Utc::now(),
                        who: "The server".into(),
                        what: format!(
                            "could not read {unreadable} entr{} of this history, which {} not shown; ask your administrator to run `mdt-server audit verify`",
                            if unreadable == 1 { "y" } else { "ies" },
                            if unreadable == 1 { "is" } else { "are" }
                        ),
                        record: String::new(),
                        session: String::new(),
                    },
                );
            }
            Ok(lines)
        })
        .await?;
    Ok(ApiJson(lines))
}

/// Records opened on a device while it was offline.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ViewReport {
    pub views: Vec<OfflineView>,
}

/// One record opened offline, and when.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfflineView {
    pub record_id: Uuid,
    pub at: DateTime<Utc>,
}

/// How far ahead of the server's clock a device's clock may be for its report to count.
pub const VIEW_CLOCK_SLACK_MINUTES: i64 = 5;

/// Most views one report may carry.
pub const MAX_VIEWS_PER_REPORT: usize = 500;

/// `POST /api/audit/views`: a device reports what it opened offline. Each view of a patient
/// record the person may see becomes one audit row at the time it happened (never in the
/// future); others are ignored. Answers how many were recorded.
async fn report_views(
    State(state): State<AppState>,
    session: Session,
    ApiJson(report): ApiJson<ViewReport>,
) -> Result<ApiJson<serde_json::Value>, Error> {
    if report.views.len() > MAX_VIEWS_PER_REPORT {
        return Err(Error::BadRequest(format!(
            "Report at most {MAX_VIEWS_PER_REPORT} views at a time."
        )));
    }
    let actor = session.actor.clone();
    let received = report.views.len();
    state
        .store
        .call(move |conn| {
            let teams = super::store::teams_of(conn, actor.person_id)?;
            let since = super::store::account_created_at(conn, actor.user_id)?;
            let tx = conn.transaction()?;
            let now = Utc::now();
            let latest = now + chrono::Duration::minutes(VIEW_CLOCK_SLACK_MINUTES);
            for view in &report.views {
                // A view before the account existed, or from the future, did not happen.
                if since.is_none_or(|s| view.at < s) || view.at > latest {
                    continue;
                }
                let Some((record, _)) = super::store::load_record(&tx, view.record_id)? else {
                    continue;
                };
                let in_my_team = record
                    .fields
                    .get("team_id")
                    .and_then(|v| v.as_str())
                    .and_then(|s| Uuid::parse_str(s).ok())
                    .is_some_and(|t| teams.contains(&t));
                if record.deleted || !holds_patient_data(record.entity) || !in_my_team {
                    continue;
                }
                // Only records the person may see in full (not a restricted item's).
                if super::store::sight_of(&tx, actor.person_id, &record)? != Sight::Full {
                    continue;
                }
                let patient = patient_of(&tx, &record)?;
                append(
                    &tx,
                    &actor,
                    AuditAction::ViewedOffline,
                    record.entity,
                    record.id,
                    patient,
                    view.at.min(now),
                )?;
            }
            tx.commit()?;
            Ok(())
        })
        .await?;
    // The same answer whatever was recorded, so a report cannot probe for hidden records.
    Ok(ApiJson(serde_json::json!({ "received": received })))
}
