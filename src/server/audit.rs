//! The audit trail over HTTP: a patient's access history (coordinators) and views made
//! offline (devices). The trail itself is kept by [`crate::server::store::audit_log`].

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::auth::Session;
use super::error::{ApiJson, Error};
pub use super::store::audit_log::{
    append, entries_for_patient, patient_of, record_access, verify, AuditAction, AuditEntry,
    ChainBreak, GENESIS,
};
use super::store::{self, Db};
use super::AppState;
use crate::core::access::Sight;
use crate::core::entities::Team;
use crate::core::offline::holds_patient_data;
use crate::core::patient::Patient;
use crate::core::sync::SyncRecord;

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

fn team_of_patient(db: &dyn Db, patient: Uuid) -> Result<Option<Team>, Error> {
    let typed = |id: Uuid| -> Result<Option<SyncRecord>, Error> {
        Ok(store::load_record(db, id)?
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
        .read(move |db| {
            let team = team_of_patient(db, patient)?.ok_or(Error::NotFound)?;
            if team.coordinator_id != me {
                return Err(Error::NotFound);
            }
            let (entries, unreadable) = entries_for_patient(db, patient)?;
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
        .write(move |db| {
            let teams = store::teams_of(db, actor.person_id)?;
            let since = store::account_created_at(db, actor.user_id)?;
            let now = Utc::now();
            let latest = now + chrono::Duration::minutes(VIEW_CLOCK_SLACK_MINUTES);
            for view in &report.views {
                // A view before the account existed, or from the future, did not happen.
                if since.is_none_or(|s| view.at < s) || view.at > latest {
                    continue;
                }
                let Some((record, _)) = store::load_record(db, view.record_id)? else {
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
                if store::sight_of(db, actor.person_id, &record)? != Sight::Full {
                    continue;
                }
                let patient = patient_of(db, &record)?;
                append(
                    db,
                    &actor,
                    AuditAction::ViewedOffline,
                    record.entity,
                    record.id,
                    patient,
                    view.at.min(now),
                )?;
            }
            Ok(())
        })
        .await?;
    // The same answer whatever was recorded, so a report cannot probe for hidden records.
    Ok(ApiJson(serde_json::json!({ "received": received })))
}
