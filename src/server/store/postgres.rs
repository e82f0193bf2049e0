//! The region engine: PostgreSQL through a pool of connections, so any number of stateless
//! servers can share one database.
//!
//! The driver is the `postgres` crate (the blocking face of `tokio-postgres`, both by the same
//! maintainer, the most used PostgreSQL driver in Rust) with the `r2d2` pool, each pooled
//! connection keeping its prepared statements. Blocking, because
//! the push rules of the core are plain synchronous code over the [`Db`] trait, and every store
//! call already runs on tokio's blocking threads (as SQLite's do): one implementation of the
//! store serves both engines. sqlx was the other candidate; its async-only interface would have
//! split the store in two.
//!
//! Reads run in `REPEATABLE READ READ ONLY` transactions (one snapshot for a whole pull);
//! writes in `READ COMMITTED` transactions that take the application locks of [`Lock`] before
//! they read what they will change, so writers of the change log and of the audit chain run one
//! after another and each sees everything committed before it.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::time::Duration;

use anyhow::Context;
use postgres::types::{to_sql_checked, IsNull, ToSql, Type};
use postgres::{IsolationLevel, NoTls, Statement};

use super::db::{Db, Engine, Lock, Row, Value};
use super::schema::MIGRATIONS;
use crate::server::error::Error;

/// Connections per server process.
const POOL_SIZE: u32 = 16;

/// How long a request waits for a free connection (or for the database to come back) before
/// the server answers 503.
const CHECKOUT_TIMEOUT: Duration = Duration::from_secs(5);

type Pool = r2d2::Pool<Manager>;

/// Opens pooled connections.
struct Manager {
    config: postgres::Config,
}

/// A pooled connection and the statements prepared on it.
struct Connection {
    /// Always `Some` until dropped.
    client: Option<postgres::Client>,
    statements: HashMap<String, Statement>,
    /// Left in an unknown state (a transaction begun by hand that was not ended): the pool
    /// throws it away instead of handing it out again.
    poisoned: bool,
}

impl Connection {
    fn client(&mut self) -> &mut postgres::Client {
        self.client
            .as_mut()
            .expect("a pooled connection has its client")
    }
}

impl Drop for Connection {
    /// Closing a connection blocks on the driver's own runtime, which a thread driving async
    /// tasks must not do: such a thread hands the close to a thread of its own.
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            if tokio::runtime::Handle::try_current().is_ok() {
                std::thread::spawn(move || drop(client));
            }
        }
    }
}

impl r2d2::ManageConnection for Manager {
    type Connection = Connection;
    type Error = postgres::Error;

    fn connect(&self) -> Result<Connection, postgres::Error> {
        Ok(Connection {
            client: Some(self.config.connect(NoTls)?),
            statements: HashMap::new(),
            poisoned: false,
        })
    }

    fn is_valid(&self, conn: &mut Connection) -> Result<(), postgres::Error> {
        conn.client().simple_query("").map(|_| ())
    }

    fn has_broken(&self, conn: &mut Connection) -> bool {
        conn.poisoned || conn.client.as_ref().is_none_or(|c| c.is_closed())
    }
}

/// The PostgreSQL engine: a pool of connections to one database.
pub struct Postgres {
    pool: Pool,
    config: postgres::Config,
}

/// The application lock's key space (`pg_advisory_xact_lock(key, lock)`): "MDT1".
const LOCK_SPACE: i32 = 0x4d44_5431;

impl Postgres {
    /// Connects to `url` (`postgres://user@host:port/db`), creates the pool and brings the
    /// schema up to date (one server at a time, under an advisory lock).
    pub fn open(url: &str) -> anyhow::Result<Self> {
        let config: postgres::Config = url
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
        let engine = Self { pool, config };
        engine.migrate()?;
        Ok(engine)
    }

    /// The connection settings, for a listener connection of its own.
    pub fn config(&self) -> &postgres::Config {
        &self.config
    }

    fn migrate(&self) -> anyhow::Result<()> {
        let mut conn = self.pool.get().context("cannot connect to the database")?;
        let mut tx = conn.client().transaction()?;
        tx.execute("SELECT pg_advisory_xact_lock($1, 0)", &[&LOCK_SPACE])?;
        tx.batch_execute("CREATE TABLE IF NOT EXISTS schema_version (steps BIGINT NOT NULL)")?;
        let done: i64 = match tx.query_opt("SELECT steps FROM schema_version", &[])? {
            Some(row) => row.get(0),
            None => {
                tx.execute("INSERT INTO schema_version (steps) VALUES (0)", &[])?;
                0
            }
        };
        for (i, step) in MIGRATIONS.iter().enumerate().skip(done as usize) {
            tx.batch_execute(step.sql(Engine::Postgres))
                .with_context(|| format!("migration {} failed", i + 1))?;
            tx.execute("UPDATE schema_version SET steps = $1", &[&((i + 1) as i64)])?;
            tracing::info!(version = i + 1, "database schema migrated");
        }
        tx.commit()?;
        Ok(())
    }

    /// A connection from the pool; 503 when none comes within [`CHECKOUT_TIMEOUT`] (the
    /// database is away, or every connection busy).
    fn checkout(&self) -> Result<r2d2::PooledConnection<Manager>, Error> {
        self.pool.get().map_err(|e| {
            tracing::warn!(error = %e, "no database connection");
            Error::Unavailable
        })
    }

    fn run<T>(
        &self,
        isolation: IsolationLevel,
        read_only: bool,
        f: impl FnOnce(&dyn Db) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let mut conn = self.checkout()?;
        let Connection {
            client, statements, ..
        } = &mut *conn;
        let client = client.as_mut().expect("a pooled connection has its client");
        let tx = client
            .build_transaction()
            .isolation_level(isolation)
            .read_only(read_only)
            .start()?;
        let db = PgTx {
            tx: RefCell::new(PgConn::Transaction(tx)),
            statements: RefCell::new(statements),
            held: Cell::new(0),
        };
        let out = f(&db)?;
        if let PgConn::Transaction(tx) = db.tx.into_inner() {
            tx.commit()?;
        }
        Ok(out)
    }

    /// Runs `f` without a transaction: each statement is its own snapshot, one round trip.
    /// For reads of a single indexed row (a session, the head of the change log).
    pub fn read_quick<T>(&self, f: impl FnOnce(&dyn Db) -> Result<T, Error>) -> Result<T, Error> {
        let mut conn = self.checkout()?;
        let Connection {
            client, statements, ..
        } = &mut *conn;
        let client = client.as_mut().expect("a pooled connection has its client");
        let db = PgTx {
            tx: RefCell::new(PgConn::Autocommit(client)),
            statements: RefCell::new(statements),
            held: Cell::new(0),
        };
        f(&db)
    }

    /// Runs `f` in a write transaction (`READ COMMITTED`; writers order themselves with
    /// [`Lock`]).
    pub fn write<T>(&self, f: impl FnOnce(&dyn Db) -> Result<T, Error>) -> Result<T, Error> {
        self.run(IsolationLevel::ReadCommitted, false, f)
    }

    /// Runs `f` in a write transaction that holds `lock` from its start: the `START
    /// TRANSACTION` and the lock go to the database together (one round trip instead of two),
    /// each its own statement, so everything `f` reads is read after the lock is granted.
    pub fn write_locked<T>(
        &self,
        lock: Lock,
        f: impl FnOnce(&dyn Db) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let mut conn = self.checkout()?;
        let Connection {
            client,
            statements,
            poisoned,
        } = &mut *conn;
        // Until the transaction is ended, the connection counts as spoilt (a panic or an
        // error on the way leaves it to be thrown away, never reused mid-transaction).
        *poisoned = true;
        let client = client.as_mut().expect("a pooled connection has its client");
        client.batch_execute(&format!(
            "START TRANSACTION ISOLATION LEVEL READ COMMITTED; SELECT pg_advisory_xact_lock({LOCK_SPACE}, {})",
            lock as i32
        ))?;
        let db = PgTx {
            tx: RefCell::new(PgConn::ByHand(client)),
            statements: RefCell::new(statements),
            held: Cell::new(1u8 << (lock as u8)),
        };
        let out = f(&db);
        let PgConn::ByHand(client) = db.tx.into_inner() else {
            unreachable!("begun by hand")
        };
        let ended = match &out {
            Ok(_) => client.batch_execute("COMMIT"),
            Err(_) => client.batch_execute("ROLLBACK"),
        };
        match (out, ended) {
            (Ok(value), Ok(())) => {
                *poisoned = false;
                Ok(value)
            }
            (Ok(_), Err(e)) => Err(e.into()),
            (Err(e), rolled_back) => {
                *poisoned = rolled_back.is_err();
                Err(e)
            }
        }
    }

    /// Runs `f` in a read-only snapshot (`REPEATABLE READ`).
    pub fn read<T>(&self, f: impl FnOnce(&dyn Db) -> Result<T, Error>) -> Result<T, Error> {
        self.run(IsolationLevel::RepeatableRead, true, f)
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

fn value_at(row: &postgres::Row, i: usize) -> Result<Value, Error> {
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

/// A transaction, or a bare connection whose statements commit one by one.
enum PgConn<'a> {
    Transaction(postgres::Transaction<'a>),
    Autocommit(&'a mut postgres::Client),
    /// Inside a transaction begun (and to be ended) by [`Postgres::write_locked`].
    ByHand(&'a mut postgres::Client),
}

impl PgConn<'_> {
    fn prepare(&mut self, sql: &str) -> Result<Statement, postgres::Error> {
        match self {
            Self::Transaction(tx) => tx.prepare(sql),
            Self::Autocommit(client) | Self::ByHand(client) => client.prepare(sql),
        }
    }

    fn execute(
        &mut self,
        stmt: &Statement,
        args: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, postgres::Error> {
        match self {
            Self::Transaction(tx) => tx.execute(stmt, args),
            Self::Autocommit(client) | Self::ByHand(client) => client.execute(stmt, args),
        }
    }

    fn query(
        &mut self,
        stmt: &Statement,
        args: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<postgres::Row>, postgres::Error> {
        match self {
            Self::Transaction(tx) => tx.query(stmt, args),
            Self::Autocommit(client) | Self::ByHand(client) => client.query(stmt, args),
        }
    }
}

/// One PostgreSQL transaction (or bare connection) as a [`Db`].
struct PgTx<'a> {
    tx: RefCell<PgConn<'a>>,
    statements: RefCell<&'a mut HashMap<String, Statement>>,
    /// Application locks already taken (a bit per [`Lock`]), so each is asked for once.
    held: Cell<u8>,
}

fn params(args: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    args.iter().map(|v| v as &(dyn ToSql + Sync)).collect()
}

impl PgTx<'_> {
    /// The statement for `sql`, prepared once per connection.
    fn statement(&self, sql: &str) -> Result<Statement, Error> {
        if let Some(stmt) = self.statements.borrow().get(sql) {
            return Ok(stmt.clone());
        }
        let stmt = self.tx.borrow_mut().prepare(sql)?;
        self.statements
            .borrow_mut()
            .insert(sql.to_owned(), stmt.clone());
        Ok(stmt)
    }
}

impl Db for PgTx<'_> {
    fn engine(&self) -> Engine {
        Engine::Postgres
    }

    fn execute(&self, sql: &str, args: &[Value]) -> Result<u64, Error> {
        let stmt = self.statement(sql)?;
        Ok(self.tx.borrow_mut().execute(&stmt, &params(args))?)
    }

    fn query(&self, sql: &str, args: &[Value]) -> Result<Vec<Row>, Error> {
        let stmt = self.statement(sql)?;
        let rows = self.tx.borrow_mut().query(&stmt, &params(args))?;
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
        let args: [&(dyn ToSql + Sync); 2] = [&LOCK_SPACE, &(lock as i32)];
        match &mut *self.tx.borrow_mut() {
            PgConn::Transaction(tx) => tx.execute("SELECT pg_advisory_xact_lock($1, $2)", &args)?,
            PgConn::ByHand(client) => {
                client.execute("SELECT pg_advisory_xact_lock($1, $2)", &args)?
            }
            PgConn::Autocommit(_) => {
                return Err(Error::Internal(anyhow::anyhow!(
                    "a lock was asked for outside a transaction"
                )))
            }
        };
        self.held.set(self.held.get() | bit);
        Ok(())
    }
}
