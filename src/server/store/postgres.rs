//! The region engine: PostgreSQL through a pool of connections, so any number of stateless
//! servers can share one database.
//!
//! The driver is `tokio-postgres` (the most used PostgreSQL driver in Rust; its blocking face,
//! the `postgres` crate by the same maintainer, listens for the region's news) with the `r2d2`
//! pool. Each pooled connection runs on a small runtime of its own that the calling thread
//! drives while it waits (as the `postgres` crate does), keeps its prepared statements, and
//! *pipelines*: statements whose answers are not needed before the next one is sent go to the
//! database together. A push of one change is two round trips: `START TRANSACTION`, the lock
//! and the read of what it will change; then its writes and `COMMIT`.
//!
//! Blocking, because the push rules of the core are plain synchronous code over the [`Db`]
//! trait, and every store call already runs on tokio's blocking threads (as SQLite's do): one
//! implementation of the store serves both engines. sqlx was the other candidate; its
//! async-only interface would have split the store in two.
//!
//! Reads run in `REPEATABLE READ READ ONLY` transactions (one snapshot for a whole pull);
//! writes in `READ COMMITTED` transactions that take the application locks of [`Lock`] before
//! they read what they will change, so writers of the change log and of the audit chain run one
//! after another and each sees everything committed before it.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use anyhow::Context;
use futures_util::future::{join3, join_all};
use tokio_postgres::types::{to_sql_checked, IsNull, ToSql, Type};
use tokio_postgres::{NoTls, Statement};

use super::db::{key_number, Db, Engine, KeySpace, Lock, Row, Value};
use super::schema::MIGRATIONS;
use crate::server::error::Error;

/// Connections per server process.
pub const POOL_SIZE: u32 = 16;

/// How long a request waits for a free connection (or for the database to come back) before
/// the server answers 503.
pub const CHECKOUT_TIMEOUT: Duration = Duration::from_secs(5);

/// Most writes kept back for one round trip ([`Db::execute_later`]); more are sent at once.
const MOST_KEPT_BACK: usize = 16;

type Pool = r2d2::Pool<Manager>;

/// Opens pooled connections.
struct Manager {
    config: tokio_postgres::Config,
}

/// A pooled connection: the client, the runtime its connection task runs on, and the
/// statements prepared on it.
struct Connection {
    /// Both always `Some` until dropped.
    link: Option<Link>,
    statements: HashMap<String, Statement>,
    /// Left in an unknown state (a transaction begun that was not ended): the pool throws it
    /// away instead of handing it out again.
    poisoned: bool,
}

/// A client and the single-threaded runtime that carries its messages (driven only while a
/// caller waits in [`Link::wait`]).
struct Link {
    client: tokio_postgres::Client,
    runtime: tokio::runtime::Runtime,
}

impl Link {
    fn connect(config: &tokio_postgres::Config) -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (client, connection) = runtime
            .block_on(config.connect(NoTls))
            .map_err(std::io::Error::other)?;
        runtime.spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "database connection ended");
            }
        });
        Ok(Self { client, runtime })
    }

    /// Runs `work` to its end, carrying the connection's messages meanwhile.
    fn wait<T>(&self, work: impl Future<Output = T>) -> T {
        self.runtime.block_on(work)
    }
}

impl Connection {
    fn link(&self) -> &Link {
        self.link
            .as_ref()
            .expect("a pooled connection has its client")
    }
}

impl Drop for Connection {
    /// Closing a connection blocks on its own runtime, which a thread driving async tasks
    /// must not do: such a thread hands the close to a thread of its own.
    fn drop(&mut self) {
        if let Some(link) = self.link.take() {
            if tokio::runtime::Handle::try_current().is_ok() {
                std::thread::spawn(move || drop(link));
            }
        }
    }
}

impl r2d2::ManageConnection for Manager {
    type Connection = Connection;
    /// Either the database's refusal or the connection's runtime not starting.
    type Error = std::io::Error;

    fn connect(&self) -> std::io::Result<Connection> {
        Ok(Connection {
            link: Some(Link::connect(&self.config)?),
            statements: HashMap::new(),
            poisoned: false,
        })
    }

    fn is_valid(&self, conn: &mut Connection) -> std::io::Result<()> {
        let link = conn.link();
        link.wait(link.client.simple_query(""))
            .map(|_| ())
            .map_err(std::io::Error::other)
    }

    fn has_broken(&self, conn: &mut Connection) -> bool {
        conn.poisoned || conn.link.as_ref().is_none_or(|l| l.client.is_closed())
    }
}

/// The PostgreSQL engine: a pool of connections to one database.
pub struct Postgres {
    pool: Pool,
    config: postgres::Config,
    /// Connections taken from the pool so far ([`Postgres::checkouts`]).
    checkouts: std::sync::atomic::AtomicU64,
}

/// The application lock's key space (`pg_advisory_xact_lock(key, lock)`): "MDT1".
const LOCK_SPACE: i32 = 0x4d44_5431;

impl Postgres {
    /// Connects to `url` (`postgres://user@host:port/db`), creates the pool and brings the
    /// schema up to date (one server at a time, under an advisory lock).
    pub fn open(url: &str) -> anyhow::Result<Self> {
        let config: tokio_postgres::Config = url
            .parse()
            .context("the database URL is not a valid postgres:// address")?;
        let manager = Manager {
            config: config.clone(),
        };
        let pool = r2d2::Pool::builder()
            .max_size(POOL_SIZE)
            .min_idle(Some(2))
            .connection_timeout(CHECKOUT_TIMEOUT)
            .test_on_check_out(false)
            .build(manager)
            .context("cannot connect to the database")?;
        let engine = Self {
            pool,
            config: config.into(),
            checkouts: std::sync::atomic::AtomicU64::new(0),
        };
        engine.migrate()?;
        Ok(engine)
    }

    /// How many times a connection has been taken from the pool (for tests that show what
    /// is answered without the database).
    pub fn checkouts(&self) -> u64 {
        self.checkouts.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The connection settings, for a listener connection of its own.
    pub fn config(&self) -> &postgres::Config {
        &self.config
    }

    fn migrate(&self) -> anyhow::Result<()> {
        let conn = self.pool.get().context("cannot connect to the database")?;
        let link = conn.link();
        let client = &link.client;
        link.wait(async {
            client
                .batch_execute(&format!(
                    "START TRANSACTION; SELECT pg_advisory_xact_lock({LOCK_SPACE}, 0); \
                     CREATE TABLE IF NOT EXISTS schema_version (steps BIGINT NOT NULL)"
                ))
                .await?;
            let done: i64 = match client
                .query_opt("SELECT steps FROM schema_version", &[])
                .await?
            {
                Some(row) => row.get(0),
                None => {
                    client
                        .execute("INSERT INTO schema_version (steps) VALUES (0)", &[])
                        .await?;
                    0
                }
            };
            for (i, step) in MIGRATIONS.iter().enumerate().skip(done as usize) {
                client
                    .batch_execute(step.sql(Engine::Postgres))
                    .await
                    .with_context(|| format!("migration {} failed", i + 1))?;
                client
                    .execute("UPDATE schema_version SET steps = $1", &[&((i + 1) as i64)])
                    .await?;
                tracing::info!(version = i + 1, "database schema migrated");
            }
            client.batch_execute("COMMIT").await?;
            anyhow::Ok(())
        })
        .inspect_err(|_| {
            // Whatever happened, the connection is not handed out mid-transaction.
            let _ = link.wait(client.batch_execute("ROLLBACK"));
        })
    }

    /// A connection from the pool; 503 when none comes within [`CHECKOUT_TIMEOUT`] (the
    /// database is away, or every connection busy).
    fn checkout(&self) -> Result<r2d2::PooledConnection<Manager>, Error> {
        self.checkouts
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.pool.get().map_err(|e| {
            tracing::warn!(error = %e, "no database connection");
            Error::Unavailable
        })
    }

    /// Runs `f` in a transaction opened by `opening` and holding `lock` (both sent with the
    /// first statement `f` runs) and ended by `COMMIT` when `f` returns `Ok` (sent with the
    /// writes still kept back), or by `ROLLBACK`.
    fn run<T>(
        &self,
        opening: &str,
        lock: Option<Lock>,
        f: impl FnOnce(&dyn Db) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let mut conn = self.checkout()?;
        let Connection {
            link,
            statements,
            poisoned,
        } = &mut *conn;
        let link = link.as_ref().expect("a pooled connection has its client");
        // Until the transaction is ended, the connection counts as spoilt (a panic or an
        // error on the way leaves it to be thrown away, never reused mid-transaction).
        *poisoned = true;
        let db = PgTx::new(link, statements, Some(opening.to_owned()));
        let out = match lock {
            Some(lock) => db.lock(lock).and_then(|()| f(&db)),
            None => f(&db),
        };
        let ended = db.end(out.is_ok());
        match (out, ended) {
            (Ok(value), Ok(())) => {
                *poisoned = false;
                Ok(value)
            }
            (Ok(_), Err(e)) => Err(e),
            (Err(e), rolled_back) => {
                *poisoned = rolled_back.is_err();
                Err(e)
            }
        }
    }

    /// Runs `f` without a transaction: each statement is its own snapshot, one round trip.
    /// For reads of a single indexed row (a session, the head of the change log).
    pub fn read_quick<T>(&self, f: impl FnOnce(&dyn Db) -> Result<T, Error>) -> Result<T, Error> {
        let mut conn = self.checkout()?;
        let Connection {
            link, statements, ..
        } = &mut *conn;
        let link = link.as_ref().expect("a pooled connection has its client");
        f(&PgTx::new(link, statements, None))
    }

    /// Runs `f` in a write transaction (`READ COMMITTED`; writers order themselves with
    /// [`Lock`]).
    pub fn write<T>(&self, f: impl FnOnce(&dyn Db) -> Result<T, Error>) -> Result<T, Error> {
        self.run("START TRANSACTION ISOLATION LEVEL READ COMMITTED", None, f)
    }

    /// Runs `f` in a write transaction that holds `lock` from its start: the `START
    /// TRANSACTION` and the lock go to the database with `f`'s first statement (one round
    /// trip), each its own statement, so everything `f` reads is read after the lock is
    /// granted.
    pub fn write_locked<T>(
        &self,
        lock: Lock,
        f: impl FnOnce(&dyn Db) -> Result<T, Error>,
    ) -> Result<T, Error> {
        self.run(
            "START TRANSACTION ISOLATION LEVEL READ COMMITTED",
            Some(lock),
            f,
        )
    }

    /// Runs `f` in a read-only snapshot (`REPEATABLE READ`).
    pub fn read<T>(&self, f: impl FnOnce(&dyn Db) -> Result<T, Error>) -> Result<T, Error> {
        self.run(
            "START TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY",
            None,
            f,
        )
    }
}

impl ToSql for Value {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(n) => match *ty {
                Type::INT2 => i16::try_from(*n)?.to_sql(ty, out),
                Type::INT4 => i32::try_from(*n)?.to_sql(ty, out),
                Type::BOOL => (*n != 0).to_sql(ty, out),
                _ => n.to_sql(ty, out),
            },
            Value::Text(s) => s.as_str().to_sql(ty, out),
        }
    }

    fn accepts(ty: &Type) -> bool {
        <i64 as ToSql>::accepts(ty)
            || <i32 as ToSql>::accepts(ty)
            || <bool as ToSql>::accepts(ty)
            || <&str as ToSql>::accepts(ty)
    }

    to_sql_checked!();
}

fn value_at(row: &tokio_postgres::Row, i: usize) -> Result<Value, Error> {
    let ty = row.columns()[i].type_();
    Ok(match *ty {
        Type::INT8 => row
            .try_get::<_, Option<i64>>(i)?
            .map_or(Value::Null, Value::Int),
        Type::INT4 => row
            .try_get::<_, Option<i32>>(i)?
            .map_or(Value::Null, |n| Value::Int(n.into())),
        Type::INT2 => row
            .try_get::<_, Option<i16>>(i)?
            .map_or(Value::Null, |n| Value::Int(n.into())),
        Type::BOOL => row
            .try_get::<_, Option<bool>>(i)?
            .map_or(Value::Null, |b| Value::Int(b.into())),
        Type::NUMERIC => {
            // SUM over BIGINT: read as text, then as an integer.
            let text: Option<String> = row.try_get(i).ok().flatten();
            text.and_then(|t| t.parse().ok())
                .map_or(Value::Null, Value::Int)
        }
        _ => row
            .try_get::<_, Option<String>>(i)?
            .map_or(Value::Null, Value::Text),
    })
}

/// One PostgreSQL transaction (or bare connection) as a [`Db`].
struct PgTx<'a> {
    link: &'a Link,
    statements: RefCell<&'a mut HashMap<String, Statement>>,
    /// Application locks already taken (a bit per [`Lock`]), so each is asked for once.
    held: Cell<u8>,
    /// Whether the statements run inside a transaction (`None`: each commits on its own).
    in_transaction: bool,
    /// The transaction's opening (`START TRANSACTION …`, a lock), not sent yet: it goes with
    /// the first statement, in the same round trip.
    opening: RefCell<Option<String>>,
    /// Writes kept back ([`Db::execute_later`]), sent with the next statement or the `COMMIT`.
    kept_back: RefCell<Vec<(Statement, Vec<Value>)>>,
    /// A statement failed, so the database has aborted the transaction: it may only be rolled
    /// back (a `COMMIT` would roll it back and say nothing).
    failed: Cell<bool>,
}

fn params(args: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    args.iter().map(|v| v as &(dyn ToSql + Sync)).collect()
}

impl<'a> PgTx<'a> {
    fn new(
        link: &'a Link,
        statements: &'a mut HashMap<String, Statement>,
        opening: Option<String>,
    ) -> Self {
        Self {
            link,
            statements: RefCell::new(statements),
            held: Cell::new(0),
            in_transaction: opening.is_some(),
            opening: RefCell::new(opening),
            kept_back: RefCell::new(Vec::new()),
            failed: Cell::new(false),
        }
    }

    /// The statement for `sql`, prepared once per connection.
    fn statement(&self, sql: &str) -> Result<Statement, Error> {
        if let Some(stmt) = self.statements.borrow().get(sql) {
            return Ok(stmt.clone());
        }
        let stmt = self
            .link
            .wait(self.link.client.prepare(sql))
            .inspect_err(|_| self.failed.set(self.in_transaction))?;
        self.statements
            .borrow_mut()
            .insert(sql.to_owned(), stmt.clone());
        Ok(stmt)
    }

    /// Sends the opening and the writes kept back, then `last`, in one round trip, and waits
    /// for every answer; the first failure is the answer. Requests go out in the order their
    /// futures are first polled, which `join3` and `join_all` do in order.
    fn send<T>(
        &self,
        last: impl Future<Output = Result<T, tokio_postgres::Error>>,
    ) -> Result<T, Error> {
        if self.failed.get() {
            return Err(Error::Internal(anyhow::anyhow!(
                "a statement was sent after the transaction had failed"
            )));
        }
        let opening = self.opening.take();
        let kept_back = std::mem::take(&mut *self.kept_back.borrow_mut());
        let bound: Vec<_> = kept_back.iter().map(|(_, args)| params(args)).collect();
        let client = &self.link.client;
        let answer = self.link.wait(async {
            let opened = async {
                match &opening {
                    Some(sql) => client.batch_execute(sql).await,
                    None => Ok(()),
                }
            };
            let written = join_all(
                kept_back
                    .iter()
                    .zip(&bound)
                    .map(|((stmt, _), args)| client.execute(stmt, args)),
            );
            let (opened, written, answer) = join3(opened, written, last).await;
            opened?;
            for w in written {
                w?;
            }
            answer
        });
        if answer.is_err() && self.in_transaction {
            self.failed.set(true);
        }
        Ok(answer?)
    }

    /// Ends the transaction: `COMMIT` (with the writes kept back, and the opening if even
    /// that is still here) or `ROLLBACK`. Nothing is sent when nothing was and nothing is
    /// left to write.
    fn end(self, commit: bool) -> Result<(), Error> {
        let nothing_sent = self.opening.borrow().is_some();
        if nothing_sent && (!commit || self.kept_back.borrow().is_empty()) {
            return Ok(());
        }
        let client = &self.link.client;
        if commit && !self.failed.get() {
            self.send(client.batch_execute("COMMIT"))
        } else {
            let rolled_back = self.link.wait(client.batch_execute("ROLLBACK"));
            if commit {
                return Err(Error::Internal(anyhow::anyhow!(
                    "a transaction whose statement failed was to be committed"
                )));
            }
            Ok(rolled_back?)
        }
    }
}

impl Db for PgTx<'_> {
    fn engine(&self) -> Engine {
        Engine::Postgres
    }

    fn execute(&self, sql: &str, args: &[Value]) -> Result<u64, Error> {
        let stmt = self.statement(sql)?;
        let args = params(args);
        self.send(self.link.client.execute(&stmt, &args))
    }

    fn execute_later(&self, sql: &str, args: &[Value]) -> Result<(), Error> {
        if !self.in_transaction || self.kept_back.borrow().len() >= MOST_KEPT_BACK {
            return self.execute(sql, args).map(|_| ());
        }
        let stmt = self.statement(sql)?;
        self.kept_back.borrow_mut().push((stmt, args.to_vec()));
        Ok(())
    }

    fn query(&self, sql: &str, args: &[Value]) -> Result<Vec<Row>, Error> {
        let stmt = self.statement(sql)?;
        let args = params(args);
        let rows = self.send(self.link.client.query(&stmt, &args))?;
        rows.iter()
            .map(|row| {
                (0..row.len())
                    .map(|i| value_at(row, i))
                    .collect::<Result<Vec<_>, _>>()
                    .map(Row)
            })
            .collect()
    }

    fn lock(&self, lock: Lock) -> Result<(), Error> {
        let bit = 1u8 << (lock as u8);
        if self.held.get() & bit != 0 {
            return Ok(());
        }
        if !self.in_transaction {
            return Err(Error::Internal(anyhow::anyhow!(
                "a lock was asked for outside a transaction"
            )));
        }
        // Kept back: the statements after it are sent after it, so they run once it is held.
        self.execute_later(
            "SELECT pg_advisory_xact_lock($1, $2)",
            &[Value::Int(LOCK_SPACE.into()), Value::Int(lock as i64)],
        )?;
        self.held.set(self.held.get() | bit);
        Ok(())
    }

    fn lock_keys(&self, space: KeySpace, keys: &[&str]) -> Result<(), Error> {
        if !self.in_transaction {
            return Err(Error::Internal(anyhow::anyhow!(
                "a key lock was asked for outside a transaction"
            )));
        }
        let mut numbers: Vec<i32> = keys.iter().map(|k| key_number(k)).collect();
        numbers.sort_unstable();
        numbers.dedup();
        for number in numbers {
            // Kept back, as `lock`: the count that follows is read once the lock is held.
            self.execute_later(
                "SELECT pg_advisory_xact_lock($1, $2)",
                &[Value::Int(space as i64), Value::Int(number.into())],
            )?;
        }
        Ok(())
    }
}
