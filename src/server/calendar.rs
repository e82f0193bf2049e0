//! Calendar downloads and the bank-holiday list:
//! `GET /api/meetings/{meeting}/calendar.ics` and `GET /api/bank-holidays`.
//!
//! A calendar file carries only the team's name, the place and the video link (see
//! `core::ics`), never anything about patients.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::Utc;
use uuid::Uuid;

use super::auth::Session;
use super::error::{ApiJson, Error};
use super::store::{self, records_by_id};
use super::AppState;
use crate::core::calendar::BankHolidays;
use crate::core::entities::{Meeting, Team};
use crate::core::ics::{meeting_ics, series_ics, EventText};
use crate::core::series::Series;

/// The calendar routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/meetings/{meeting}/calendar.ics",
            get(meeting_calendar),
        )
        .route("/api/series/{series}/calendar.ics", get(series_calendar))
        .route("/api/bank-holidays", get(bank_holidays))
}

async fn bank_holidays(State(state): State<AppState>, _session: Session) -> ApiJson<BankHolidays> {
    ApiJson((*state.config.bank_holidays).clone())
}

async fn series_calendar(
    State(state): State<AppState>,
    session: Session,
    Path(series): Path<String>,
) -> Result<Response, Error> {
    let series_id = Uuid::parse_str(&series).map_err(|_| Error::NotFound)?;
    let person = session.actor.person_id;
    let ics = state
        .store
        .read(move |db| {
            let teams = store::teams_of(db, person)?;
            let (series, _) =
                store::record_with_version::<Series>(db, series_id)?.ok_or(Error::NotFound)?;
            if !teams.contains(&series.team_id) {
                return Err(Error::NotFound);
            }
            let team = records_by_id::<Team>(db, [series.team_id])?
                .remove(&series.team_id)
                .ok_or(Error::NotFound)?;
            let about = EventText {
                team_name: &team.name,
                place: &series.place,
                video_link: series.video_link.as_deref(),
            };
            Ok(series_ics(
                &series,
                &format!("series-{series_id}@mdt"),
                &about,
                Utc::now(),
            ))
        })
        .await?;
    Ok(calendar_file(ics, "mdt-series.ics"))
}

fn calendar_file(ics: String, name: &'static str) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                "text/calendar; charset=utf-8".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        ics,
    )
        .into_response()
}

async fn meeting_calendar(
    State(state): State<AppState>,
    session: Session,
    Path(meeting): Path<String>,
) -> Result<Response, Error> {
    let meeting_id = Uuid::parse_str(&meeting).map_err(|_| Error::NotFound)?;
    let person = session.actor.person_id;
    let ics = state
        .store
        .read(move |db| {
            let teams = store::teams_of(db, person)?;
            let (meeting, version) =
                store::record_with_version::<Meeting>(db, meeting_id)?.ok_or(Error::NotFound)?;
            if !teams.contains(&meeting.team_id) {
                return Err(Error::NotFound);
            }
            let team = records_by_id::<Team>(db, [meeting.team_id])?
                .remove(&meeting.team_id)
                .ok_or(Error::NotFound)?;
            let about = EventText {
                team_name: &team.name,
                place: &meeting.place,
                video_link: meeting.video_link.as_deref(),
            };
            Ok(meeting_ics(
                &meeting,
                &format!("meeting-{meeting_id}@mdt"),
                version as u32,
                &about,
                Utc::now(),
            ))
        })
        .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"mdt-meeting.ics\"",
            ),
        ],
        ics,
    )
        .into_response())
}
