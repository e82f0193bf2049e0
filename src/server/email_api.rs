//! Email in the app (issue 17): whether email is on and the person's choices
//! (`GET /api/email`, `PUT /api/email/preferences`), and the coordinator's chase of a missing
//! brief or an overdue action (`POST /api/chase`): at most once a day for the same thing, the
//! answer saying to whom it went or when it went already.

use axum::extract::State;
use axum::routing::{get, post, put};
use axum::Router;
use chrono::Utc;
use uuid::Uuid;

use super::auth::Session;
use super::error::{ApiJson, Error};
use super::store::{self, outbox, Db};
use super::AppState;
use crate::core::action::{Action, ActionStatus};
use crate::core::agenda::{AgendaItem, ItemStatus};
use crate::core::api::{ChaseBody, ChaseSent, EmailSettings};
use crate::core::brief::{Brief, BriefState, Readiness};
use crate::core::entities::{Meeting, MeetingStatus};
use crate::core::mail::{Chased, MailPreferences, MessageKind, Recipient};
use crate::core::reminders::{self, ChaseRequest};
use crate::core::uk_time;

/// The email routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/email", get(email))
        .route("/api/email/preferences", put(set_preferences))
        .route("/api/chase", post(chase))
}

async fn email(
    State(state): State<AppState>,
    session: Session,
) -> Result<ApiJson<EmailSettings>, Error> {
    let on = state.store.mail_on();
    let user = session.actor.user_id;
    let preferences = state
        .store
        .read(move |db| store::mail_preferences(db, user))
        .await?;
    Ok(ApiJson(EmailSettings { on, preferences }))
}

async fn set_preferences(
    State(state): State<AppState>,
    session: Session,
    ApiJson(preferences): ApiJson<MailPreferences>,
) -> Result<ApiJson<EmailSettings>, Error> {
    let user = session.actor.user_id;
    state
        .store
        .write(move |db| store::set_mail_preferences(db, user, &preferences))
        .await?;
    Ok(ApiJson(EmailSettings {
        on: state.store.mail_on(),
        preferences,
    }))
}

async fn chase(
    State(state): State<AppState>,
    session: Session,
    ApiJson(body): ApiJson<ChaseBody>,
) -> Result<ApiJson<ChaseSent>, Error> {
    let Some(origin) = state.store.mail_origin() else {
        return Err(Error::BadRequest(
            "Email is off on this server, so nobody can be chased by email. Ask your system administrator to set it up, or ring them.".into(),
        ));
    };
    let about = match (body.item_id, body.action_id) {
        (Some(item), None) => (item, Chased::Brief),
        (None, Some(action)) => (action, Chased::Action),
        _ => {
            return Err(Error::BadRequest(
                "Say what to chase: a brief (item_id) or an action (action_id), one of them".into(),
            ))
        }
    };
    let me = session.actor.clone();
    let to = state
        .store
        .write(move |db| {
            let now = Utc::now();
            // Whose team it is first: someone outside the team learns nothing of it.
            let team_id = match about.1 {
                Chased::Brief => store::records_by_id::<AgendaItem>(db, [about.0])?
                    .remove(&about.0)
                    .map(|i| i.team_id),
                Chased::Action => store::records_by_id::<Action>(db, [about.0])?
                    .remove(&about.0)
                    .map(|a| a.team_id),
            }
            .ok_or(Error::NotFound)?;
            let facts = outbox::team_mail_facts(db, team_id)?.ok_or(Error::NotFound)?;
            if !facts.team.includes(me.person_id) && !facts.team.observer_ids.contains(&me.person_id) {
                return Err(Error::NotFound);
            }
            if facts.team.coordinator_id != me.person_id {
                return Err(Error::Forbidden(
                    "Only the team's coordinator can chase by email".into(),
                ));
            }
            let (person_id, meeting_starts_at) = match about.1 {
                Chased::Brief => {
                    let (writer, starts) = brief_writer(db, about.0, now)?;
                    (writer, Some(starts))
                }
                Chased::Action => (overdue_owner(db, about.0, now)?, None),
            };
            let name = store::records_by_id::<crate::core::entities::Person>(db, [person_id])?
                .remove(&person_id)
                .map(|p| p.name)
                .unwrap_or_else(|| "They".into());
            let Some(person) = facts.people.get(&person_id) else {
                return Err(Error::BadRequest(format!(
                    "{name} has no email address in the directory: add it on the People page, or ring them"
                )));
            };
            if matches!(person.recipient, Recipient::NoAccount { .. })
                || !person.recipient.wants(MessageKind::Chase)
            {
                return Err(Error::BadRequest(format!(
                    "{name} does not get requests by email (no account, or turned off): ring them instead"
                )));
            }
            let request = ChaseRequest {
                about: about.0,
                what: about.1,
                person_id,
                meeting_starts_at,
            };
            let outgoing = reminders::chase(&request, &me.name, &facts.mail(team_id), &origin, now)
                .ok_or_else(|| Error::BadRequest(format!("{name} cannot be chased by email")))?;
            if let Some(earlier) = outbox::enqueue_chase(db, &outgoing, now)? {
                return Err(Error::TooSoon(format!(
                    "You chased {name} about this today at {} already; you can chase again tomorrow",
                    uk_time::format_uk_time(earlier)
                )));
            }
            tracing::info!(chased = %person_id, by = %me.person_id, "chase sent by email");
            Ok(name)
        })
        .await?;
    Ok(ApiJson(ChaseSent { to }))
}

/// The writer of an item's brief that is not ready, for a meeting still to come, and when that
/// meeting starts.
fn brief_writer(
    db: &dyn Db,
    item_id: Uuid,
    now: chrono::DateTime<Utc>,
) -> Result<(Uuid, chrono::DateTime<Utc>), Error> {
    let item = store::records_by_id::<AgendaItem>(db, [item_id])?
        .remove(&item_id)
        .ok_or(Error::NotFound)?;
    let meeting = store::records_by_id::<Meeting>(db, [item.meeting_id])?
        .remove(&item.meeting_id)
        .ok_or(Error::NotFound)?;
    if meeting.status != MeetingStatus::Planned
        || meeting.starts_at <= now
        || item.status != ItemStatus::Open
    {
        return Err(Error::BadRequest(
            "The meeting has started or is not going ahead: there is no brief to chase".into(),
        ));
    }
    let briefs: Vec<(Uuid, u64, Brief)> =
        store::team_records_with_version::<Brief>(db, item.team_id)?
            .into_iter()
            .filter(|(_, _, b)| b.item_id == item_id)
            .collect();
    let row = Readiness::of(&[(item_id, item)], &briefs, &[], &[])
        .rows
        .into_iter()
        .next()
        .ok_or_else(|| Error::BadRequest("Only a patient item has a brief to chase".into()))?;
    if matches!(row.brief, BriefState::Ready { .. }) {
        return Err(Error::BadRequest(
            "The brief is ready: there is nothing to chase".into(),
        ));
    }
    let writer = row.author.ok_or_else(|| {
        Error::BadRequest("Nobody is writing this brief yet: name a lead professional first".into())
    })?;
    Ok((writer, meeting.starts_at))
}

/// The owner of an action that is overdue and still in its owner's hands.
fn overdue_owner(db: &dyn Db, action_id: Uuid, now: chrono::DateTime<Utc>) -> Result<Uuid, Error> {
    let action = store::records_by_id::<Action>(db, [action_id])?
        .remove(&action_id)
        .ok_or(Error::NotFound)?;
    let open = matches!(
        action.status,
        ActionStatus::Proposed | ActionStatus::Accepted
    );
    if !open || action.due >= uk_time::uk_today(now) {
        return Err(Error::BadRequest(
            "This action is not overdue: only an overdue action can be chased".into(),
        ));
    }
    Ok(action.owner_id)
}
