//! The store: everything the server keeps, behind one handle that works the same on the
//! embedded SQLite file and on a region's PostgreSQL database.
//!
//! Split by what it holds: [`accounts`] (users, sessions, settings), [`limits`] (the counters
//! that limit sign-ins and look-ups, each decided in one step),
//! [`records`] (synced records and the change log, pushes and pulls), [`visibility`]
//! (need-to-know) and [`audit_log`] (the hash-chained trail). Each is written once against
//! [`Db`], one open transaction of either engine; [`schema`] holds the tables in both dialects.
//! Handlers ask the [`Store`] for a read snapshot or a write transaction and call those
//! modules inside it, without knowing which engine is underneath.

pub mod accounts;
pub mod answer_links;
pub mod audit_log;
pub mod backup;
pub mod changes;
pub mod db;
pub mod limits;
pub mod memory;
pub mod migrate;
pub mod outbox;
pub mod postgres;
pub mod records;
pub mod schema;
pub mod sign_in;
pub mod sqlite;
pub mod visibility;

use std::path::Path;
use std::sync::{Arc, Weak};
use std::time::Duration;

use chrono::{DateTime, Utc};
use uuid::Uuid;

pub use self::accounts::*;
pub use self::changes::Changed;
pub use self::db::{Db, Engine};
pub use self::limits::*;
pub use self::records::{
    briefs_ready_at, current_version, latest_change, load_record, record_with_version,
    records_by_id, team_records, team_records_with_version,
};
pub use self::sign_in::*;
pub use self::visibility::{sight_of, teams_of, StoredFacts};
use super::error::Error;
use crate::core::notify::MailOrigin;
use crate::core::sync::{Mutation, MutationResult, PullResponse};

/// Who is reading or writing synced data: their user and their entry in the directory.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Uuid,
    pub person_id: Uuid,
    pub name: String,
    /// A short, non-secret identifier of the session, for the audit trail ("command line"
    /// for server commands).
    pub session: String,
}

enum Backend {
    Sqlite(sqlite::Sqlite),
    Postgres(postgres::Postgres),
}

/// The database handle shared by every request (cheap to clone).
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    backend: Backend,
    /// News of committed pushes, for this server's live-update streams.
    feed: tokio::sync::broadcast::Sender<Changed>,
    /// News of sessions ended or changed (a token hash; `None`: any of an account's), on this
    /// server or any other of the region, so live-update streams end at once.
    session_news: tokio::sync::broadcast::Sender<Option<String>>,
    /// Set when email is on: pushes then write the messages they cause to the outbox.
    mail: std::sync::OnceLock<MailOrigin>,
    /// Stored records decoded by pulls since the store was opened ([`Store::pull_rows_decoded`]).
    pull_rows_decoded: std::sync::atomic::AtomicU64,
    /// What this server knows without asking the database (PostgreSQL, while listening).
    memory: memory::Memory,
    /// How the store is doing, for the metrics ([`Store::stats`]).
    stats: Stats,
    /// Requests wait for a database connection in the order they came (PostgreSQL): the
    /// pool itself hands a freed connection to whichever waiting thread wakes first, so under
    /// load a few requests waited far longer than the rest.
    queue: tokio::sync::Semaphore,
}

/// How the store is doing, counted as it works: read by the server's metrics
/// (`GET /metrics`), which register these very counters (they share their values when cloned).
#[derive(Clone, Debug)]
pub struct Stats {
    /// Seconds requests waited for a turn at the database (PostgreSQL's pool; SQLite's single
    /// writer).
    pub waits: prometheus_client::metrics::histogram::Histogram,
    /// Requests that waited longer than the store allows and were answered 503.
    pub wait_timeouts: prometheus_client::metrics::counter::Counter,
    /// Changes pushed, by result: `applied`, `rejected`, `conflict`.
    pub pushed: prometheus_client::metrics::family::Family<
        Vec<(String, String)>,
        prometheus_client::metrics::counter::Counter,
    >,
}

impl Default for Stats {
    fn default() -> Self {
        Self {
            // 1 ms to about 16 s.
            waits: prometheus_client::metrics::histogram::Histogram::new(
                prometheus_client::metrics::histogram::exponential_buckets(0.001, 2.0, 15),
            ),
            wait_timeouts: Default::default(),
            pushed: Default::default(),
        }
    }
}

impl Stats {
    fn count_results(&self, results: &[MutationResult]) {
        for result in results {
            let label = match result {
                MutationResult::Applied { .. } => "applied",
                MutationResult::Rejected { .. } => "rejected",
                MutationResult::Conflict { .. } => "conflict",
            };
            self.pushed
                .get_or_create(&vec![("result".to_owned(), label.to_owned())])
                .inc();
        }
    }
}

/// How long opening a PostgreSQL store waits for its change listener to be in place.
const LISTEN_READY: Duration = Duration::from_secs(10);

/// How many pieces of news a slow listener may fall behind by before it is told to pull
/// anyway (it then misses nothing: a pull fetches everything new).
const FEED_CAPACITY: usize = 256;

impl Store {
    /// Opens (creating if needed) the embedded database in `data_dir`.
    pub fn open(data_dir: &Path) -> anyhow::Result<Self> {
        Ok(Self::over(Backend::Sqlite(sqlite::Sqlite::open(data_dir)?)))
    }

    /// Connects to a PostgreSQL database (`postgres://…`) and brings its schema up to date.
    pub fn connect(url: &str) -> anyhow::Result<Self> {
        let open = || postgres::Postgres::open(url);
        let engine = if tokio::runtime::Handle::try_current().is_ok() {
            std::thread::scope(|scope| scope.spawn(open).join())
                .map_err(|_| anyhow::anyhow!("connecting to the database panicked"))??
        } else {
            open()?
        };
        let listen_to = engine.config().clone();
        let store = Self::over(Backend::Postgres(engine));
        let weak = Arc::downgrade(&store.inner);
        let (listening, is_listening) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("mdt-listen".into())
            .spawn(move || listen(listen_to, weak, listening))?;
        // Ready only once the region's news is heard: a push committed before would otherwise
        // be missed by this server's live-update streams.
        if is_listening.recv_timeout(LISTEN_READY).is_err() {
            tracing::warn!("not yet listening for changes; live updates start when it is");
        }
        Ok(store)
    }

    fn over(backend: Backend) -> Self {
        Self {
            inner: Arc::new(Inner {
                backend,
                feed: tokio::sync::broadcast::channel(FEED_CAPACITY).0,
                session_news: tokio::sync::broadcast::channel(FEED_CAPACITY).0,
                mail: std::sync::OnceLock::new(),
                pull_rows_decoded: std::sync::atomic::AtomicU64::new(0),
                memory: memory::Memory::default(),
                queue: tokio::sync::Semaphore::new(postgres::POOL_SIZE as usize),
                stats: Stats::default(),
            }),
        }
    }

    /// How the store is doing (waits for the database, pushes by result), for the metrics.
    pub fn stats(&self) -> &Stats {
        &self.inner.stats
    }

    /// How many stored records pulls have decoded since this store was opened: the work a
    /// pull does, counted rather than timed, so tests can show that a person's pulls never
    /// read another team's records.
    pub fn pull_rows_decoded(&self) -> u64 {
        self.inner
            .pull_rows_decoded
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Turns email on (once, at start-up): from now on each push writes the messages it
    /// causes to the outbox, in its own transaction. Without it nothing is written there.
    pub fn send_mail_from(&self, origin: MailOrigin) {
        let _ = self.inner.mail.set(origin);
    }

    /// Whether email is on.
    pub fn mail_on(&self) -> bool {
        self.inner.mail.get().is_some()
    }

    /// Where messages come from and lead to, when email is on.
    pub fn mail_origin(&self) -> Option<MailOrigin> {
        self.inner.mail.get().cloned()
    }

    /// News of every push committed from now on (by any server sharing the database).
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<Changed> {
        self.inner.feed.subscribe()
    }

    /// News of every session ended or changed from now on, by any server sharing the database:
    /// its token hash, or `None` when any session may have (an account disabled, its password
    /// changed, all its sessions ended). Live-update streams end on it at once.
    pub fn session_news(&self) -> tokio::sync::broadcast::Receiver<Option<String>> {
        self.inner.session_news.subscribe()
    }

    /// The engine underneath (for logs and the health check).
    pub fn engine(&self) -> Engine {
        match &self.inner.backend {
            Backend::Sqlite(_) => Engine::Sqlite,
            Backend::Postgres(_) => Engine::Postgres,
        }
    }

    /// Runs `f` in one read-only snapshot and waits for it (commands, tests).
    pub fn read_blocking<T: Send>(
        &self,
        f: impl FnOnce(&dyn Db) -> Result<T, Error> + Send,
    ) -> Result<T, Error> {
        self.off_runtime(|| self.read_here(f))
    }

    /// Runs `f` in one write transaction and waits for it; committed when `f` returns `Ok`.
    pub fn write_blocking<T: Send>(
        &self,
        f: impl FnOnce(&dyn Db) -> Result<T, Error> + Send,
    ) -> Result<T, Error> {
        self.off_runtime(|| self.write_here(f))
    }

    /// Runs `work` on this thread, or, when this thread may be driving async tasks (where the
    /// PostgreSQL driver must not block), on a thread of its own.
    fn off_runtime<T: Send>(
        &self,
        work: impl FnOnce() -> Result<T, Error> + Send,
    ) -> Result<T, Error> {
        let on_runtime = tokio::runtime::Handle::try_current().is_ok();
        if !on_runtime || self.engine() == Engine::Sqlite {
            return work();
        }
        std::thread::scope(|scope| {
            scope
                .spawn(work)
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
    }

    fn read_here<T>(&self, f: impl FnOnce(&dyn Db) -> Result<T, Error>) -> Result<T, Error> {
        match &self.inner.backend {
            Backend::Sqlite(db) => db.read(f),
            Backend::Postgres(db) => db.read(f),
        }
    }

    fn write_here<T>(&self, f: impl FnOnce(&dyn Db) -> Result<T, Error>) -> Result<T, Error> {
        accounts::take_sessions_changed();
        let out = match &self.inner.backend {
            Backend::Sqlite(db) => self.sqlite_write(db, f),
            Backend::Postgres(db) => db.write(f),
        };
        // Sessions this write changed are forgotten here at once (other servers hear of it).
        let changed = accounts::take_sessions_changed();
        if out.is_ok() {
            for session in changed {
                match &session {
                    Some(token_hash) => self.inner.memory.forget_session(token_hash),
                    None => self.inner.memory.forget_sessions(),
                }
                let _ = self.inner.session_news.send(session);
            }
        }
        out
    }

    /// A write on SQLite, with its wait for the single writer counted.
    fn sqlite_write<T>(
        &self,
        db: &sqlite::Sqlite,
        f: impl FnOnce(&dyn Db) -> Result<T, Error>,
    ) -> Result<T, Error> {
        db.write(|tx| {
            self.inner
                .stats
                .waits
                .observe(db.writer_wait().as_secs_f64());
            f(tx)
        })
    }

    /// Runs `f` in one read-only snapshot on a blocking thread. Reads never wait for writers.
    pub async fn read<T, F>(&self, f: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Db) -> Result<T, Error> + Send + 'static,
    {
        let _turn = self.turn().await?;
        let store = self.clone();
        blocking(move || store.read_here(f)).await
    }

    /// Runs `f`, a read of one indexed row or two (a session, the head of the change log),
    /// without a transaction. On SQLite it runs at once on this thread (a few microseconds,
    /// less than handing it to another thread); on PostgreSQL on a blocking thread, in one
    /// round trip per statement. Never for reads that scan: use [`Store::read`].
    pub async fn read_quick<T, F>(&self, f: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Db) -> Result<T, Error> + Send + 'static,
    {
        match &self.inner.backend {
            Backend::Sqlite(db) => db.read_quick(f),
            Backend::Postgres(_) => {
                let _turn = self.turn().await?;
                let store = self.clone();
                blocking(move || match &store.inner.backend {
                    Backend::Postgres(db) => db.read_quick(f),
                    Backend::Sqlite(db) => db.read_quick(f),
                })
                .await
            }
        }
    }

    /// Runs `f` in one write transaction on a blocking thread; committed (durably) when `f`
    /// returns `Ok`, rolled back otherwise.
    pub async fn write<T, F>(&self, f: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Db) -> Result<T, Error> + Send + 'static,
    {
        let _turn = self.turn().await?;
        let store = self.clone();
        blocking(move || store.write_here(f)).await
    }

    /// Waits, in arrival order, for a turn at the database (PostgreSQL; at once on SQLite,
    /// whose readers never wait and whose writer queues in SQLite itself). As many turns as
    /// the pool has connections, so a request with a turn finds one free.
    async fn turn(&self) -> Result<Option<tokio::sync::SemaphorePermit<'_>>, Error> {
        if self.engine() == Engine::Sqlite {
            return Ok(None);
        }
        let asked = std::time::Instant::now();
        match tokio::time::timeout(postgres::CHECKOUT_TIMEOUT, self.inner.queue.acquire()).await {
            Ok(Ok(permit)) => {
                self.inner
                    .stats
                    .waits
                    .observe(asked.elapsed().as_secs_f64());
                Ok(Some(permit))
            }
            _ => {
                self.inner.stats.wait_timeouts.inc();
                tracing::warn!("no turn at the database in time");
                Err(Error::Unavailable)
            }
        }
    }

    /// Applies a device's batch of changes as `actor`, in one durable transaction.
    pub fn push_blocking(
        &self,
        actor: &Actor,
        device: Uuid,
        mutations: &[Mutation],
        now: DateTime<Utc>,
    ) -> Result<Vec<MutationResult>, Error> {
        self.off_runtime(|| self.push_here(actor, device, mutations, now))
    }

    fn push_here(
        &self,
        actor: &Actor,
        device: Uuid,
        mutations: &[Mutation],
        now: DateTime<Utc>,
    ) -> Result<Vec<MutationResult>, Error> {
        // On PostgreSQL the push itself notifies the region (when, and only if, it commits).
        let mail = self.inner.mail.get();
        let push = |db: &dyn Db| records::push(db, actor, device, mutations, now, mail);
        let (results, changed) = self.write_change_log(push)?;
        self.pushed(&results, changed);
        Ok(results)
    }

    /// Runs `f`, a push, in one write transaction that holds the change log from its start
    /// (PostgreSQL; SQLite's single writer does the same).
    fn write_change_log<T>(&self, f: impl FnOnce(&dyn Db) -> Result<T, Error>) -> Result<T, Error> {
        match &self.inner.backend {
            Backend::Sqlite(db) => self.sqlite_write(db, f),
            Backend::Postgres(db) => db.write_locked(db::Lock::ChangeLog, f),
        }
    }

    /// What follows a committed push on this server: a pull that follows sees the new head at
    /// once (other servers hear it), SQLite's streams hear of it, the results are counted.
    fn pushed(&self, results: &[MutationResult], changed: Changed) {
        self.inner.memory.raise_head(changed.head);
        if !changed.is_empty() && self.engine() == Engine::Sqlite {
            let _ = self.inner.feed.send(changed);
        }
        self.inner.stats.count_results(results);
    }

    /// A push decided together with what permits it, in one transaction: `decide` runs first
    /// (inside the change log's lock on PostgreSQL) and either gives the actor and changes to
    /// push or refuses with a `U`; `judge` then weighs the push's results. Committed only when
    /// both say yes; otherwise everything `decide` wrote (a one-time token taken, say) is rolled
    /// back with the push, and the refusal returned. So a token is used exactly when its change
    /// is made, however many requests race for it (issue 30).
    pub fn push_guarded<U>(
        &self,
        device: Uuid,
        now: DateTime<Utc>,
        decide: impl FnOnce(&dyn Db) -> Result<Result<(Actor, Vec<Mutation>), U>, Error> + Send,
        judge: impl FnOnce(&[MutationResult]) -> Result<(), U> + Send,
    ) -> Result<Result<Vec<MutationResult>, U>, Error>
    where
        U: Send,
    {
        self.off_runtime(|| {
            let mail = self.inner.mail.get();
            let mut refused = None;
            let push = |db: &dyn Db| {
                let undo = || Error::Internal(anyhow::anyhow!("a guarded push was refused"));
                let (actor, mutations) = match decide(db)? {
                    Ok(decided) => decided,
                    Err(refusal) => {
                        refused = Some(refusal);
                        return Err(undo());
                    }
                };
                let (results, changed) = records::push(db, &actor, device, &mutations, now, mail)?;
                if let Err(refusal) = judge(&results) {
                    refused = Some(refusal);
                    return Err(undo());
                }
                Ok((results, changed))
            };
            let out = self.write_change_log(push);
            let (results, changed) = match (out, refused) {
                (_, Some(refusal)) => return Ok(Err(refusal)),
                (out, None) => out?,
            };
            self.pushed(&results, changed);
            Ok(Ok(results))
        })
    }

    /// Every change after `since` that `actor` may see (one page), with the whole records
    /// among them audited as reads before it is returned.
    pub fn pull_blocking(&self, actor: &Actor, since: u64) -> Result<PullResponse, Error> {
        self.off_runtime(|| self.pull_here(actor, since))
    }

    fn pull_here(&self, actor: &Actor, since: u64) -> Result<PullResponse, Error> {
        let records::Pulled {
            response,
            withheld,
            decoded,
        } = self.read_here(|db| records::pull(db, actor, since))?;
        self.inner
            .pull_rows_decoded
            .fetch_add(decoded, std::sync::atomic::Ordering::Relaxed);
        let reads: Vec<_> = response
            .records
            .iter()
            .zip(&withheld)
            .filter(|(_, withheld)| !**withheld)
            .map(|(record, _)| record)
            .filter(|record| crate::core::offline::holds_patient_data(record.entity))
            .collect();
        if !reads.is_empty() {
            let now = Utc::now();
            self.write_here(|db| audit_log::record_reads(db, actor, reads, now))?;
        }
        Ok(response)
    }

    /// [`Store::push_blocking`] on a blocking thread.
    pub async fn push(
        &self,
        actor: Actor,
        device: Uuid,
        mutations: Vec<Mutation>,
    ) -> Result<Vec<MutationResult>, Error> {
        let store = self.clone();
        blocking(move || store.push_here(&actor, device, &mutations, Utc::now())).await
    }

    /// [`Store::pull_blocking`] on a blocking thread.
    /// Most polls find nothing new: one quick look at the head of the change log answers them
    /// without a snapshot or a blocking thread.
    /// On PostgreSQL, a server that hears the region's news knows the head without asking
    /// ([`memory`]).
    pub async fn pull(&self, actor: Actor, since: u64) -> Result<PullResponse, Error> {
        if self.inner.memory.at_head(since) {
            return Ok(PullResponse::nothing_after(since));
        }
        if self.read_quick(records::latest_change).await? <= since {
            return Ok(PullResponse::nothing_after(since));
        }
        let store = self.clone();
        blocking(move || store.pull_here(&actor, since)).await
    }

    /// The live session with this token hash, with its user: from memory when this server
    /// looked it up recently and nothing changed sessions since ([`memory`]), else from the
    /// database.
    pub async fn session(&self, token_hash: &str) -> Result<Option<SessionRow>, Error> {
        if let Some(row) = self.inner.memory.session(token_hash) {
            return Ok(Some(row));
        }
        let generation = self.inner.memory.generation();
        let hash = token_hash.to_owned();
        let found = self
            .read_quick(move |db| accounts::find_session(db, &hash))
            .await?;
        if let Some(row) = &found {
            self.inner
                .memory
                .remember_session(token_hash, row.clone(), generation);
        }
        Ok(found)
    }

    /// Forgets what this server remembers of a session, so its next use is looked up.
    /// (Writes that end or change sessions are forgotten by the store itself.)
    pub fn forget_session(&self, token_hash: &str) {
        self.inner.memory.forget_session(token_hash);
    }

    /// How many times a request has taken a database connection since the store was opened
    /// (PostgreSQL; 0 on SQLite): tests count them to show what is answered from memory.
    pub fn database_checkouts(&self) -> u64 {
        match &self.inner.backend {
            Backend::Postgres(db) => db.checkouts(),
            Backend::Sqlite(_) => 0,
        }
    }

    /// The SQLite writer connection, for tests of the embedded schema (`None` on PostgreSQL).
    pub fn with_sqlite_connection<T>(
        &self,
        f: impl FnOnce(&mut rusqlite::Connection) -> T,
    ) -> Option<T> {
        match &self.inner.backend {
            Backend::Sqlite(db) => Some(db.with_writer_connection(f)),
            Backend::Postgres(_) => None,
        }
    }
}

/// Runs store work on tokio's blocking threads (database calls block).
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| Error::Internal(anyhow::anyhow!("database task failed: {e}")))?
}

/// Hears the region's news on a connection of its own (`LISTEN`) and passes it to this
/// server's listeners, until the store is dropped. After a lost connection it reconnects
/// (waiting longer each time, up to 5 s) and tells everyone to pull, since news may have been
/// missed meanwhile.
fn listen(config: ::postgres::Config, store: Weak<Inner>, listening: std::sync::mpsc::Sender<()>) {
    let mut wait = Duration::from_millis(100);
    let mut first = true;
    loop {
        let mut sessions_channel = String::new();
        let connected = config.connect(::postgres::NoTls).and_then(|mut client| {
            let schema: String = client.query_one("SELECT current_schema()", &[])?.get(0);
            let quoted = |name: String| format!("\"{}\"", name.replace('"', "\"\""));
            sessions_channel = changes::channel(changes::SESSIONS_CHANNEL, &schema);
            client.batch_execute(&format!(
                "LISTEN {}; LISTEN {}",
                quoted(changes::channel(changes::CHANNEL, &schema)),
                quoted(sessions_channel.clone())
            ))?;
            // Read only once listening: every later commit is heard.
            let head = read_head(&mut client)?;
            Ok((client, head))
        });
        let mut client = match connected {
            Ok((client, head)) => {
                if let Some(inner) = store.upgrade() {
                    inner.memory.listening(head);
                }
                client
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for changes; trying again");
                std::thread::sleep(wait);
                wait = (wait * 2).min(Duration::from_secs(5));
                if store.strong_count() == 0 {
                    return;
                }
                continue;
            }
        };
        wait = Duration::from_millis(100);
        if first {
            let _ = listening.send(());
        } else {
            let Some(inner) = store.upgrade() else { return };
            let _ = inner.feed.send(Changed::everyone());
        }
        first = false;
        loop {
            let next = {
                let mut notifications = client.notifications();
                let mut heard = notifications.timeout_iter(Duration::from_secs(1));
                ::postgres::fallible_iterator::FallibleIterator::next(&mut heard)
                    .map(|note| note.map(|n| (n.channel().to_owned(), n.payload().to_owned())))
            };
            let Some(inner) = store.upgrade() else { return };
            match next {
                Ok(Some((channel, ended))) if channel == sessions_channel => {
                    if ended.is_empty() {
                        inner.memory.forget_sessions();
                        let _ = inner.session_news.send(None);
                    } else {
                        inner.memory.forget_session(&ended);
                        let _ = inner.session_news.send(Some(ended));
                    }
                }
                Ok(Some((_, payload))) => {
                    let changed = Changed::from_payload(&payload);
                    // Known before the devices are told, so the pulls they make find it.
                    if changed.head > 0 {
                        inner.memory.raise_head(changed.head);
                    } else {
                        match read_head(&mut client) {
                            Ok(head) => inner.memory.raise_head(head),
                            Err(e) => {
                                tracing::warn!(error = %e, "lost the change listener's connection");
                                inner.memory.deaf();
                                break;
                            }
                        }
                    }
                    let _ = inner.feed.send(changed);
                }
                Ok(None) if client.is_closed() => {
                    inner.memory.deaf();
                    break;
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "lost the change listener's connection");
                    inner.memory.deaf();
                    break;
                }
            }
        }
    }
}

/// The head of the change log, read on the listener's own connection.
fn read_head(client: &mut ::postgres::Client) -> Result<u64, ::postgres::Error> {
    let head: Option<i64> = client
        .query_one("SELECT MAX(change_seq) FROM records", &[])?
        .get(0);
    Ok(head.map_or(0, |h| h.max(0) as u64))
}

/// Checks a typed entity would be valid, for commands that build records directly.
pub fn valid<E: crate::core::entities::Entity>(entity: &E) -> Result<(), Error> {
    entity.validate().map_err(|e| Error::BadRequest(e.message))
}
