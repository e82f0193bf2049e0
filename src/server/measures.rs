//! `GET /api/teams/{team}/measures?from=&to=&by=month|quarter` (and `measures.csv`, the same
//! figures as a file): a team's measures over its whole history (a device keeps only recent
//! meetings), worked out by `core::measures`. Counts only: no patient is named. For the team's coordinator and members; observers are told they may not.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::Utc;
use std::collections::HashMap;
use uuid::Uuid;

use super::auth::Session;
use super::error::{ApiJson, ApiQuery, Error};
use super::store::{self, records_by_id, team_records};
use super::AppState;
use crate::core::action::{Action, ActionEvent};
use crate::core::agenda::AgendaItem;
use crate::core::attendance::Attendance;
use crate::core::directory::{Person, Role};
use crate::core::entities::{Meeting, Team};
use crate::core::measures::{MeasuresQuery, TeamMeasures, TeamRecords};
use crate::core::uk_time;

/// The measures routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/teams/{team}/measures", get(measures))
        .route("/api/teams/{team}/measures.csv", get(measures_csv))
}

async fn measures(
    State(state): State<AppState>,
    session: Session,
    Path(team): Path<String>,
    ApiQuery(query): ApiQuery<MeasuresQuery>,
) -> Result<ApiJson<TeamMeasures>, Error> {
    Ok(ApiJson(team_measures(state, session, team, query).await?))
}

/// The same figures as a spreadsheet file.
async fn measures_csv(
    State(state): State<AppState>,
    session: Session,
    Path(team): Path<String>,
    ApiQuery(query): ApiQuery<MeasuresQuery>,
) -> Result<Response, Error> {
    let report = team_measures(state, session, team, query).await?;
    let filename = format!(
        "attachment; filename=\"team-measures-{}-to-{}.csv\"",
        report.whole.from, report.whole.to
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, filename),
        ],
        report.to_csv(),
    )
        .into_response())
}

async fn team_measures(
    state: AppState,
    session: Session,
    team: String,
    query: MeasuresQuery,
) -> Result<TeamMeasures, Error> {
    let team_id = Uuid::parse_str(&team).map_err(|_| Error::NotFound)?;
    let person = session.actor.person_id;
    state
        .store
        .read(move |db| {
            // Someone else's team looks like no team.
            if !store::teams_of(db, person)?.contains(&team_id) {
                return Err(Error::NotFound);
            }
            let Some(team) = records_by_id::<Team>(db, [team_id])?.remove(&team_id) else {
                return Err(Error::NotFound);
            };
            if !team.includes(person) {
                return Err(Error::Forbidden(
                    "The team's measures are for its coordinator and members".into(),
                ));
            }
            let meetings = team_records::<Meeting>(db, team_id)?;
            let items = team_records::<AgendaItem>(db, team_id)?;
            let actions = team_records::<Action>(db, team_id)?;
            let events: Vec<ActionEvent> = team_records::<ActionEvent>(db, team_id)?
                .into_iter()
                .map(|(_, e)| e)
                .collect();
            let people =
                std::iter::once(team.coordinator_id).chain(team.member_ids.iter().copied());
            let roles: HashMap<Uuid, Role> = records_by_id::<Person>(db, people)?
                .into_iter()
                .map(|(id, p)| (id, p.role))
                .collect();
            let attendance: Vec<Attendance> = team_records::<Attendance>(db, team_id)?
                .into_iter()
                .map(|(_, a)| a)
                .collect();
            let briefs_ready = store::briefs_ready_at(db, team_id)?;
            let records = TeamRecords {
                team: &team,
                roles: &roles,
                meetings: &meetings,
                items: &items,
                actions: &actions,
                events: &events,
                attendance: &attendance,
                briefs_ready: &briefs_ready,
            };
            records
                .report(&query, uk_time::uk_today(Utc::now()))
                .map_err(|e| Error::BadRequest(e.message))
        })
        .await
}
