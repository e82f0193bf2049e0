//! `POST /api/sync/push` and `GET /api/sync/pull?since=`: the sync protocol over HTTP.

use axum::extract::State;
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;

use super::auth::Session;
use super::error::{ApiJson, ApiQuery, Error};
use super::AppState;
use crate::core::sync::{PullResponse, PushRequest, PushResponse, MAX_PUSH_MUTATIONS};

/// The sync routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/sync/push", post(push))
        .route("/api/sync/pull", get(pull))
}

async fn push(
    State(state): State<AppState>,
    session: Session,
    ApiJson(req): ApiJson<PushRequest>,
) -> Result<ApiJson<PushResponse>, Error> {
    if req.mutations.len() > MAX_PUSH_MUTATIONS {
        return Err(Error::BadRequest(format!(
            "At most {MAX_PUSH_MUTATIONS} changes can be sent at once; send the rest in another request."
        )));
    }
    let actor = session.actor;
    let results = state
        .store
        .push(actor, req.device_id, req.mutations)
        .await?;
    Ok(ApiJson(PushResponse { results }))
}

/// `?since=` the cursor of the previous pull (0 or absent: everything).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PullParams {
    #[serde(default)]
    since: u64,
}

async fn pull(
    State(state): State<AppState>,
    session: Session,
    ApiQuery(params): ApiQuery<PullParams>,
) -> Result<ApiJson<PullResponse>, Error> {
    let response = state.store.pull(session.actor, params.since).await?;
    Ok(ApiJson(response))
}
