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

/// How often a stream checks that its session is still live, whatever the news: a backstop,
/// since a session ended anywhere in the region ends its streams at once
/// ([`Store::session_news`]).
const SESSION_CHECK: Duration = Duration::from_secs(60);

/// A comment line sent this often keeps proxies from closing a quiet stream.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// Live-update streams one account may hold open (its browsers and devices); opening one more
/// closes its oldest, so one account cannot hold the server's connections (issue 30).
pub const MAX_STREAMS_PER_ACCOUNT: usize = 8;

/// The open live-update streams of every account on this server, oldest first, each with the
/// way to close it.
#[derive(Default)]
pub struct Streams {
    open: std::sync::Mutex<StreamTable>,
}

#[derive(Default)]
struct StreamTable {
    next_id: u64,
    by_account: std::collections::HashMap<
        Uuid,
        std::collections::VecDeque<(u64, tokio::sync::oneshot::Sender<()>)>,
    >,
    count: usize,
    closed_for_room: u64,
}

/// A stream's place in [`Streams`], given up when the stream ends.
struct StreamPlace {
    streams: std::sync::Arc<Streams>,
    account: Uuid,
    id: u64,
}

impl Streams {
    /// Registers a new stream of `account`, closing its oldest when it already holds
    /// [`MAX_STREAMS_PER_ACCOUNT`]: the stream's place, and what tells it to close.
    fn open(
        self: &std::sync::Arc<Self>,
        account: Uuid,
    ) -> (StreamPlace, tokio::sync::oneshot::Receiver<()>) {
        let (close, closed) = tokio::sync::oneshot::channel();
        let mut table = self.open.lock().unwrap_or_else(|p| p.into_inner());
        table.next_id += 1;
        let id = table.next_id;
        let mut evicted = 0;
        let streams = table.by_account.entry(account).or_default();
        while streams.len() >= MAX_STREAMS_PER_ACCOUNT {
            if let Some((_, oldest)) = streams.pop_front() {
                let _ = oldest.send(());
                evicted += 1;
            }
        }
        streams.push_back((id, close));
        table.count = table.count + 1 - evicted;
        table.closed_for_room += evicted as u64;
        (
            StreamPlace {
                streams: self.clone(),
                account,
                id,
            },
            closed,
        )
    }

    /// Streams open now on this server.
    pub fn open_now(&self) -> usize {
        self.open.lock().unwrap_or_else(|p| p.into_inner()).count
    }

    /// Streams closed because their account opened more than [`MAX_STREAMS_PER_ACCOUNT`].
    pub fn closed_for_room(&self) -> u64 {
        self.open
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .closed_for_room
    }
}

impl Drop for StreamPlace {
    fn drop(&mut self) {
        let mut table = self.streams.open.lock().unwrap_or_else(|p| p.into_inner());
        let mut removed = false;
        if let Some(streams) = table.by_account.get_mut(&self.account) {
            if let Some(at) = streams.iter().position(|(id, _)| *id == self.id) {
                streams.remove(at);
                removed = true;
            }
            if streams.is_empty() {
                table.by_account.remove(&self.account);
            }
        }
        if removed {
            table.count -= 1;
        }
    }
}

/// What one open stream knows.
struct Listener {
    store: Store,
    news: tokio::sync::broadcast::Receiver<Changed>,
    /// Sessions ended or changed anywhere in the region.
    sessions: tokio::sync::broadcast::Receiver<Option<String>>,
    /// Fires when the account opened more streams than it may hold and this is the oldest.
    evicted: tokio::sync::oneshot::Receiver<()>,
    /// Held while the stream is open.
    _place: StreamPlace,
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
                _ = &mut self.evicted => return Next::End,
                ended = self.sessions.recv() => match ended {
                    Ok(Some(hash)) if hash == self.token_hash => return Next::End,
                    Ok(Some(_)) => {}
                    // Any session may have ended (an account disabled, a password changed),
                    // or news was missed: look this one up now.
                    Ok(None) | Err(RecvError::Lagged(_)) => {
                        if !self.session_live().await {
                            return Next::End;
                        }
                    }
                    Err(RecvError::Closed) => return Next::End,
                },
                _ = check.tick() => {
                    if !self.session_live().await {
                        return Next::End;
                    }
                    if let Ok(teams) = self.teams_now().await {
                        self.teams = teams;
                    }
                }
            }
        }
    }

    /// Whether the stream's session is still live (true while the database is away: polls
    /// carry on meanwhile, and the next check decides).
    async fn session_live(&self) -> bool {
        let hash = self.token_hash.clone();
        let live = self
            .store
            .read(move |db| store::find_session(db, &hash))
            .await;
        !matches!(live, Ok(None))
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
    let sessions = state.store.session_news();
    let teams = state
        .store
        .read(move |db| store::teams_of(db, person))
        .await?;
    let (place, evicted) = state.streams.open(session.actor.user_id);
    let listener = Listener {
        store: state.store.clone(),
        news,
        sessions,
        evicted,
        _place: place,
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
