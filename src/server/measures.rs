//! `GET /api/teams/{team}/measures?from=&to=&by=month|quarter` (and `measures.csv`, the same
//! figures as a file): a team's measures over its whole history (a device keeps only recent
//! meetings), worked out by `core::measures`. Counts only: no patient is named. For the team's coordinator and members,
//! and its observers when the coordinator allows; other observers are told they may not.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use uuid::Uuid;

use super::auth::Session;
use super::error::{ApiJson, ApiQuery, Error};
use super::store::{self, records_by_id, team_records, Db};
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
            // Observers are refused before anything else is read.
            let Some(team) = records_by_id::<Team>(db, [team_id])?.remove(&team_id) else {
                return Err(Error::NotFound);
            };
            if !team.may_see_measures(person) {
                return Err(Error::Forbidden(
                    "The team's measures are for its coordinator and members; its coordinator can let observers see them".into(),
                ));
            }
            StoredRecords::load(db, team_id)?
                .records()
                .report(&query, uk_time::uk_today(Utc::now()))
                .map_err(|e| Error::BadRequest(e.message))
        })
        .await
}

/// Everything the measures are worked out from, as stored for one team (whole history).
pub struct StoredRecords {
    pub team: Team,
    pub roles: HashMap<Uuid, Role>,
    pub meetings: Vec<(Uuid, Meeting)>,
    pub items: Vec<(Uuid, AgendaItem)>,
    pub actions: Vec<(Uuid, Action)>,
    pub events: Vec<ActionEvent>,
    pub attendance: Vec<Attendance>,
    pub briefs_ready: Vec<(Uuid, DateTime<Utc>)>,
}

impl StoredRecords {
    /// Reads a team's records (public so the benchmark measures the same reading).
    pub fn load(db: &dyn Db, team_id: Uuid) -> Result<Self, Error> {
        let Some(team) = records_by_id::<Team>(db, [team_id])?.remove(&team_id) else {
            return Err(Error::NotFound);
        };
        let people = std::iter::once(team.coordinator_id).chain(team.member_ids.iter().copied());
        let roles = records_by_id::<Person>(db, people)?
            .into_iter()
            .map(|(id, p)| (id, p.role))
            .collect();
        Ok(Self {
            roles,
            meetings: team_records::<Meeting>(db, team_id)?,
            items: team_records::<AgendaItem>(db, team_id)?,
            actions: team_records::<Action>(db, team_id)?,
            events: team_records::<ActionEvent>(db, team_id)?
                .into_iter()
                .map(|(_, e)| e)
                .collect(),
            attendance: team_records::<Attendance>(db, team_id)?
                .into_iter()
                .map(|(_, a)| a)
                .collect(),
            briefs_ready: store::briefs_ready_at(db, team_id)?,
            team,
        })
    }

    /// The records as the core's measures take them.
    pub fn records(&self) -> TeamRecords<'_> {
        TeamRecords {
            team: &self.team,
            roles: &self.roles,
            meetings: &self.meetings,
            items: &self.items,
            actions: &self.actions,
            events: &self.events,
            attendance: &self.attendance,
            briefs_ready: &self.briefs_ready,
        }
    }
}
