//! `GET /api/teams/{team}/actions.csv`: a team's actions as a spreadsheet-friendly file.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::Utc;
use uuid::Uuid;

use super::auth::Session;
use super::error::Error;
use super::store::{self, records_by_id, team_records};
use super::AppState;
use crate::core::access::Sight;
use crate::core::action::{actions_csv, Action, ActionRow};
use crate::core::entities::{Organisation, Person};
use crate::core::patient::Patient;

/// The action routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/teams/{team}/actions.csv", get(export_csv))
}

async fn export_csv(
    State(state): State<AppState>,
    session: Session,
    Path(team): Path<String>,
) -> Result<Response, Error> {
    let team_id = Uuid::parse_str(&team).map_err(|_| Error::NotFound)?;
    let person = session.actor.person_id;
    let actor = session.actor.clone();
    let csv = state
        .store
        .write(move |db| {
            // Only the team's members may export, and someone else's team looks like no team.
            if !store::teams_of(db, person)?.contains(&team_id) {
                return Err(Error::NotFound);
            }
            let mut actions = team_records::<Action>(db, team_id)?;
            // Actions from a restricted item only for those who may see them.
            let mut visible = Vec::with_capacity(actions.len());
            for (id, action) in actions {
                let Some((record, _)) = store::load_record(db, id)? else {
                    continue;
                };
                if store::sight_of(db, person, &record)? == Sight::Full {
                    visible.push((id, action));
                }
            }
            actions = visible;
            actions.sort_by(|(ia, a), (ib, b)| {
                (a.due, &a.description, ia).cmp(&(b.due, &b.description, ib))
            });
            let people = records_by_id::<Person>(db, actions.iter().map(|(_, a)| a.owner_id))?;
            let organisations = records_by_id::<Organisation>(
                db,
                people.values().filter_map(|p| p.organisation_id),
            )?;
            let patients: std::collections::HashMap<Uuid, Patient> =
                team_records::<Patient>(db, team_id)?.into_iter().collect();
            // Every action in the file is an export of its patient's data.
            let now = Utc::now();
            for (id, a) in &actions {
                super::audit::append(
                    db,
                    &actor,
                    super::audit::AuditAction::Export,
                    crate::core::entities::EntityKind::Action,
                    *id,
                    a.patient_id,
                    now,
                )?;
            }
            let rows: Vec<ActionRow> = actions
                .into_iter()
                .map(|(id, a)| {
                    let owner = people.get(&a.owner_id);
                    let organisation = owner
                        .and_then(|p| p.organisation_id)
                        .and_then(|o| organisations.get(&o))
                        .map(|o| o.name.clone())
                        .unwrap_or_default();
                    let patient = a
                        .patient_id
                        .and_then(|p| patients.get(&p))
                        .map(Patient::identity_line)
                        .unwrap_or_default();
                    let owner_name = owner.map(|p| p.name.clone()).unwrap_or_default();
                    ActionRow::new(id, a, owner_name, organisation, patient)
                })
                .collect();
            Ok(actions_csv(&rows, now))
        })
        .await?;
    let filename = format!(
        "attachment; filename=\"team-actions-{}.csv\"",
        Utc::now().format("%Y-%m-%d")
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, filename),
        ],
        csv,
    )
        .into_response())
}
