//! `POST /api/directory/lookup`: find a colleague with an account by their exact email.
//!
//! People are otherwise visible only to their teammates and whoever added them; this lets a
//! coordinator add an existing user to a team without listing everyone who can sign in.

use axum::extract::State;
use axum::routing::post;
use axum::Router;

use super::auth::Session;
use super::error::{ApiJson, Error};
use super::store;
use super::AppState;
use crate::core::api::{Colleague, ColleagueLookup};

/// The directory routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/directory/lookup", post(lookup))
}

async fn lookup(
    State(state): State<AppState>,
    _session: Session,
    ApiJson(req): ApiJson<ColleagueLookup>,
) -> Result<ApiJson<Colleague>, Error> {
    let email = req.email.trim().to_owned();
    if email.is_empty() {
        return Err(Error::BadRequest(
            "Enter your colleague's email address.".into(),
        ));
    }
    let user = state
        .store
        .call(move |conn| store::find_user_by_email(conn, &email))
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
