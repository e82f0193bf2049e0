//! `GET /api/sync/events`: live updates. A signed-in device keeps this Server-Sent Events
//! stream open; whenever a push that concerns one of the person's teams commits (on this
//! server or any other of the region), it receives `event: change` and pulls at once instead
//! of waiting for its next poll. The event carries no data: what the device may see is decided
//! by the pull, as always.

use std::collections::HashSet;
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderName, HeaderValue};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use futures_util::stream::{self, Stream};
use tokio::sync::broadcast::error::RecvError;
use uuid::Uuid;

use super::auth::Session;
use super::error::Error;
use super::store::{self, Changed, Store};
use super::AppState;

/// The live-update route.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/sync/events", get(events))
}

/// How often a stream checks that its session is still live (a signed-out or disabled
/// account stops hearing news within this time).
const SESSION_CHECK: Duration = Duration::from_secs(60);

/// A comment line sent this often keeps proxies from closing a quiet stream.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// What one open stream knows.
struct Listener {
    store: Store,
    news: tokio::sync::broadcast::Receiver<Changed>,
    shutdown: tokio::sync::watch::Receiver<bool>,
    person: Uuid,
    token_hash: String,
    teams: HashSet<Uuid>,
    /// The first event tells the device to pull (it may have missed news while connecting).
    greeted: bool,
}

enum Next {
    Pull,
    End,
}

impl Listener {
    async fn next(&mut self) -> Next {
        if !self.greeted {
            self.greeted = true;
            return Next::Pull;
        }
        let mut check =
            tokio::time::interval_at(tokio::time::Instant::now() + SESSION_CHECK, SESSION_CHECK);
        loop {
            tokio::select! {
                news = self.news.recv() => match news {
                    Ok(changed) => {
                        if changed.membership && !changed.concerns(&self.teams) {
                            // Perhaps added to the team just now.
                            if let Ok(teams) = self.teams_now().await {
                                self.teams = teams;
                            }
                        }
                        if changed.concerns(&self.teams) {
                            return Next::Pull;
                        }
                    }
                    // Fell behind: something may concern us; a pull finds out.
                    Err(RecvError::Lagged(_)) => return Next::Pull,
                    Err(RecvError::Closed) => return Next::End,
                },
                _ = self.shutdown.changed() => return Next::End,
                _ = check.tick() => {
                    let hash = self.token_hash.clone();
                    let live = self
                        .store
                        .read(move |db| store::find_session(db, &hash))
                        .await;
                    match live {
                        Ok(Some(_)) => {
                            if let Ok(teams) = self.teams_now().await {
                                self.teams = teams;
                            }
                        }
                        Ok(None) => return Next::End,
                        // The database is away: keep the stream; polls carry on meanwhile.
                        Err(_) => {}
                    }
                }
            }
        }
    }

    async fn teams_now(&self) -> Result<HashSet<Uuid>, Error> {
        let person = self.person;
        self.store.read(move |db| store::teams_of(db, person)).await
    }
}

async fn events(State(state): State<AppState>, session: Session) -> Result<Response, Error> {
    let person = session.actor.person_id;
    // Subscribed before the teams are read, so nothing committed in between is missed.
    let news = state.store.subscribe();
    let teams = state
        .store
        .read(move |db| store::teams_of(db, person))
        .await?;
    let listener = Listener {
        store: state.store.clone(),
        news,
        shutdown: state.shutdown.subscribe(),
        person,
        token_hash: session.token_hash().to_owned(),
        teams,
        greeted: false,
    };
    let mut response = Sse::new(stream_of(listener))
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response();
    // nginx and other proxies pass each event on at once instead of buffering the stream.
    response.headers_mut().insert(
        HeaderName::from_static("x-accel-buffering"),
        HeaderValue::from_static("no"),
    );
    Ok(response)
}

fn stream_of(listener: Listener) -> impl Stream<Item = Result<Event, Infallible>> {
    stream::unfold(listener, |mut listener| async move {
        match listener.next().await {
            Next::Pull => Some((Ok(Event::default().event("change").data("pull")), listener)),
            Next::End => None,
        }
    })
}
