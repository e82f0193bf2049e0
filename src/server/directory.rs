//! `POST /api/directory/lookup`: find a colleague with an account by their exact email.
//! `GET /api/teams/{team}/without-accounts`: which of a team's people cannot sign in.
//!
//! People are otherwise visible only to their teammates and whoever added them; this lets a
//! coordinator add an existing user to a team without listing everyone who can sign in.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::Router;
use chrono::{Duration, Utc};

use super::auth::Session;
use super::error::{ApiJson, Error};
use super::store;
use super::AppState;
use crate::core::api::{Colleague, ColleagueLookup, MembersWithoutAccounts};
use crate::core::entities::Team;

/// The directory routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/directory/lookup", post(lookup))
        .route("/api/teams/{team}/without-accounts", get(without_accounts))
}

/// The team's coordinator and members who cannot sign in, for the team's own people only
/// (anyone else's team looks like no team). Observers are left out: nobody acts for them.
async fn without_accounts(
    State(state): State<AppState>,
    session: Session,
    Path(team): Path<String>,
) -> Result<ApiJson<MembersWithoutAccounts>, Error> {
    let team_id = uuid::Uuid::parse_str(&team).map_err(|_| Error::NotFound)?;
    let person = session.actor.person_id;
    let person_ids = state
        .store
        .read(move |db| {
            if !store::teams_of(db, person)?.contains(&team_id) {
                return Err(Error::NotFound);
            }
            let Some(team) = store::records_by_id::<Team>(db, [team_id])?.remove(&team_id) else {
                return Err(Error::NotFound);
            };
            let people: Vec<uuid::Uuid> = std::iter::once(team.coordinator_id)
                .chain(team.member_ids.iter().copied())
                .collect();
            store::without_accounts(db, &people)
        })
        .await?;
    Ok(ApiJson(MembersWithoutAccounts { person_ids }))
}

/// Look-ups one person may make within [`LOOKUP_WINDOW`]: enough to build a large team at
/// once, too few to map a directory of email addresses to people.
pub const LOOKUPS_PER_WINDOW: usize = 30;
/// How long look-ups count.
pub const LOOKUP_WINDOW: Duration = Duration::minutes(15);

async fn lookup(
    State(state): State<AppState>,
    session: Session,
    ApiJson(req): ApiJson<ColleagueLookup>,
) -> Result<ApiJson<Colleague>, Error> {
    let email = req.email.trim().to_owned();
    if email.is_empty() {
        return Err(Error::BadRequest(
            "Enter your colleague's email address.".into(),
        ));
    }
    if email.len() > 320 {
        return Err(Error::BadRequest(
            "That is not an email address: check it and try again.".into(),
        ));
    }
    // Counted in the database, so that every server of a region shares one count.
    let person = session.actor.person_id;
    let user = state
        .store
        .write(move |db| {
            let now = Utc::now();
            if !store::take_lookup(
                db,
                person,
                now,
                now - LOOKUP_WINDOW,
                LOOKUPS_PER_WINDOW as u64,
            )? {
                return Err(Error::TooManyLookups);
            }
            store::find_user_by_email(db, &email)
        })
        .await?;
    match user {
        Some(u) => Ok(ApiJson(Colleague {
            person_id: u.person_id,
            name: u.name,
        })),
        None => Err(Error::NotFoundWith(
            "No one with that email address can sign in to the app yet. Check the address, or ask your administrator to add them.".into(),
        )),
    }
}
