//! `POST /api/directory/lookup`: find a colleague with an account by their exact email.
//!
//! People are otherwise visible only to their teammates and whoever added them; this lets a
//! coordinator add an existing user to a team without listing everyone who can sign in.

use axum::extract::State;
use axum::routing::post;
use axum::Router;
use chrono::{Duration, Utc};

use super::auth::Session;
use super::error::{ApiJson, Error};
use super::store;
use super::AppState;
use crate::core::api::{Colleague, ColleagueLookup};

/// The directory routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/directory/lookup", post(lookup))
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
