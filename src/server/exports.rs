//! `GET /api/meetings/{meeting}/bundle.fhir.json`: one meeting as a FHIR R4 Bundle shaped by
//! UK Core (`core::fhir`), for another clinical system to file. The same rules as the actions
//! CSV: the team's people only (anyone else finds no meeting), a restricted item's content and
//! patient only for those it names, and every patient record exported is written to the audit
//! trail.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::Utc;
use uuid::Uuid;

use super::audit::{self, AuditAction};
use super::auth::Session;
use super::error::Error;
use super::store::{self, records_by_id, team_records};
use super::AppState;
use crate::core::action::{Action, ActionEvent};
use crate::core::agenda::AgendaItem;
use crate::core::attendance::Attendance;
use crate::core::entities::{EntityKind, Meeting, Organisation, Person, Team};
use crate::core::fhir::FHIR_JSON;
use crate::core::patient::Patient;
use crate::core::summary::MeetingRecords;

/// The export routes.
pub fn router() -> Router<AppState> {
    Router::new().route(
        "/api/meetings/{meeting}/bundle.fhir.json",
        get(meeting_bundle),
    )
}

async fn meeting_bundle(
    State(state): State<AppState>,
    session: Session,
    Path(meeting): Path<String>,
) -> Result<Response, Error> {
    let meeting_id = Uuid::parse_str(&meeting).map_err(|_| Error::NotFound)?;
    let actor = session.actor.clone();
    let person = actor.person_id;
    let (bundle, day) = state
        .store
        .write(move |db| {
            let (meeting, _) =
                store::record_with_version::<Meeting>(db, meeting_id)?.ok_or(Error::NotFound)?;
            let team_id = meeting.team_id;
            // Someone else's meeting looks like no meeting.
            if !store::teams_of(db, person)?.contains(&team_id) {
                return Err(Error::NotFound);
            }
            let team = records_by_id::<Team>(db, [team_id])?
                .remove(&team_id)
                .ok_or(Error::NotFound)?;
            let items: Vec<(Uuid, AgendaItem)> = team_records::<AgendaItem>(db, team_id)?
                .into_iter()
                .filter(|(_, i)| i.meeting_id == meeting_id)
                .collect();
            let actions: Vec<(Uuid, Action)> = team_records::<Action>(db, team_id)?
                .into_iter()
                .filter(|(_, a)| a.meeting_id == Some(meeting_id))
                .collect();
            let events: Vec<ActionEvent> = team_records::<ActionEvent>(db, team_id)?
                .into_iter()
                .map(|(_, e)| e)
                .filter(|e| actions.iter().any(|(id, _)| *id == e.action_id))
                .collect();
            let attendance: Vec<Attendance> = team_records::<Attendance>(db, team_id)?
                .into_iter()
                .map(|(_, a)| a)
                .filter(|a| a.meeting_id == meeting_id)
                .collect();
            let patients: HashMap<Uuid, Patient> =
                team_records::<Patient>(db, team_id)?.into_iter().collect();
            let named = std::iter::once(team.coordinator_id)
                .chain(team.member_ids.iter().copied())
                .chain(team.observer_ids.iter().copied())
                .chain(
                    attendance
                        .iter()
                        .flat_map(|a| std::iter::once(a.person_id).chain(a.deputy_id)),
                )
                .chain(actions.iter().map(|(_, a)| a.owner_id))
                .chain(events.iter().map(|e| e.by));
            let people = records_by_id::<Person>(db, named)?;
            let organisations = records_by_id::<Organisation>(
                db,
                people
                    .values()
                    .filter_map(|p| p.organisation_id)
                    .chain(patients.values().filter_map(|p| p.registered_practice_id)),
            )?;
            let records = MeetingRecords {
                meeting_id,
                meeting: &meeting,
                team_id,
                team: &team,
                people: &people,
                organisations: &organisations,
                patients: &patients,
                items: &items,
                actions: &actions,
                events: &events,
                attendance: &attendance,
            };
            let now = Utc::now();
            let bundle = records.fhir_bundle(person, Uuid::new_v4(), now);
            // Each outcome summary and each action in the file is an export of patient data.
            for entry in bundle["entry"].as_array().into_iter().flatten() {
                let resource = &entry["resource"];
                let id = resource["id"]
                    .as_str()
                    .and_then(|s| Uuid::parse_str(s).ok());
                let (kind, patient) = match resource["resourceType"].as_str() {
                    Some("Composition") => (
                        EntityKind::AgendaItem,
                        resource["subject"]["reference"].as_str(),
                    ),
                    Some("Task") => (EntityKind::Action, resource["for"]["reference"].as_str()),
                    _ => continue,
                };
                let patient = patient
                    .and_then(|r| r.strip_prefix("urn:uuid:"))
                    .and_then(|s| Uuid::parse_str(s).ok());
                if let Some(id) = id {
                    audit::append(db, &actor, AuditAction::ExportFhir, kind, id, patient, now)?;
                }
            }
            Ok((bundle, meeting.starts_at))
        })
        .await?;
    let filename = format!(
        "attachment; filename=\"mdt-meeting-{}.fhir.json\"",
        crate::core::uk_time::uk_today(day).format("%Y-%m-%d")
    );
    Ok((
        [
            (header::CONTENT_TYPE, format!("{FHIR_JSON}; charset=utf-8")),
            (header::CONTENT_DISPOSITION, filename),
        ],
        bundle.to_string(),
    )
        .into_response())
}
