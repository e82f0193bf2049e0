//! The embedded engine: one SQLite file in WAL mode, one writer connection (SQLite allows one
//! writer at a time anyway) and a few reader connections beside it, so reads never wait behind
//! a push. `synchronous=FULL` makes an acknowledged push durable.

use std::borrow::Cow;
use std::path::Path;
use std::sync::{Condvar, Mutex};

use anyhow::Context;
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, TransactionBehavior};

use super::db::{Db, Engine, KeySpace, Lock, Row, Value};
use super::schema::MIGRATIONS;
use crate::server::error::Error;

/// How many connections serve reads at once (quick reads run on the async threads, the rest
/// on blocking threads).
const READERS: usize = 8;

/// The SQLite engine: a writer and a small pool of readers on one file.
pub struct Sqlite {
    writer: Mutex<Connection>,
    /// How long the write under way waited for the writer (for the metrics).
    last_wait_micros: std::sync::atomic::AtomicU64,
    readers: Mutex<Vec<Connection>>,
    reader_free: Condvar,
}

fn configure(conn: &Connection) -> anyhow::Result<()> {
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(())
}

/// Brings the schema up to date; `PRAGMA user_version` records how many steps have run.
pub(super) fn migrate(conn: &mut Connection) -> anyhow::Result<()> {
    let done: usize = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    for (i, step) in MIGRATIONS.iter().enumerate().skip(done) {
        let tx = conn.transaction()?;
        tx.execute_batch(step.sql(Engine::Sqlite))
            .with_context(|| format!("migration {} failed", i + 1))?;
        tx.pragma_update(None, "user_version", i + 1)?;
        tx.commit()?;
        tracing::info!(version = i + 1, "database schema migrated");
    }
    Ok(())
}

impl Sqlite {
    /// Opens (creating if needed) `mdt.sqlite3` in `data_dir` and brings its schema up to date.
    pub fn open(data_dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("cannot create the data directory {}", data_dir.display()))?;
        let path = data_dir.join("mdt.sqlite3");
        let open = || -> anyhow::Result<Connection> {
            let conn = Connection::open(&path)
                .with_context(|| format!("cannot open {}", path.display()))?;
            configure(&conn)?;
            Ok(conn)
        };
        let mut writer = open()?;
        migrate(&mut writer)?;
        let readers = (0..READERS)
            .map(|_| open())
            .collect::<anyhow::Result<_>>()?;
        Ok(Self {
            writer: Mutex::new(writer),
            last_wait_micros: std::sync::atomic::AtomicU64::new(0),
            readers: Mutex::new(readers),
            reader_free: Condvar::new(),
        })
    }

    /// Runs `f` in a write transaction (`BEGIN IMMEDIATE`: the writer lock is taken at once).
    pub fn write<T>(&self, f: impl FnOnce(&dyn Db) -> Result<T, Error>) -> Result<T, Error> {
        let asked = std::time::Instant::now();
        let mut conn = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        self.last_wait_micros.store(
            asked.elapsed().as_micros() as u64,
            std::sync::atomic::Ordering::Relaxed,
        );
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let db = SqliteTx::new(&tx);
        let out = f(&db)?;
        if db.failed.get() {
            // As on PostgreSQL, whose aborted transaction cannot commit: never half a write.
            return Err(Error::Internal(anyhow::anyhow!(
                "a transaction whose statement failed was to be committed"
            )));
        }
        tx.commit()?;
        Ok(out)
    }

    /// How long the write under way waited for the writer (read inside it: the writer is
    /// held, so no other write changes it meanwhile).
    pub fn writer_wait(&self) -> std::time::Duration {
        std::time::Duration::from_micros(
            self.last_wait_micros
                .load(std::sync::atomic::Ordering::Relaxed),
        )
    }

    /// Runs `f` in a read transaction on a reader connection: one consistent snapshot, never
    /// behind the writer.
    pub fn read<T>(&self, f: impl FnOnce(&dyn Db) -> Result<T, Error>) -> Result<T, Error> {
        self.with_reader(|conn| {
            let tx = conn.transaction()?;
            f(&SqliteTx::new(&tx))
        })
    }

    /// Runs `f` on a reader connection without a transaction (each statement is its own
    /// snapshot): for reads of one indexed row, a few microseconds.
    pub fn read_quick<T>(&self, f: impl FnOnce(&dyn Db) -> Result<T, Error>) -> Result<T, Error> {
        self.with_reader(|conn| f(&SqliteTx::new(conn)))
    }

    fn with_reader<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let mut conn = {
            let mut free = self.readers.lock().unwrap_or_else(|p| p.into_inner());
            loop {
                if let Some(conn) = free.pop() {
                    break conn;
                }
                free = self
                    .reader_free
                    .wait(free)
                    .unwrap_or_else(|p| p.into_inner());
            }
        };
        let out = f(&mut conn);
        self.readers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(conn);
        self.reader_free.notify_one();
        out
    }

    /// Runs `f` over the SQLite file at `path` opened read-only, outside any store (checking a
    /// backup copy before it is trusted).
    pub(super) fn read_file<T>(
        path: &Path,
        f: impl FnOnce(&Connection, &dyn Db) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let conn = Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        let db = SqliteTx::new(&conn);
        f(&conn, &db)
    }

    /// Runs `f` over an open connection of the caller's (a backup reading what it copies).
    pub(super) fn over_connection<T>(
        conn: &Connection,
        f: impl FnOnce(&dyn Db) -> Result<T, Error>,
    ) -> Result<T, Error> {
        f(&SqliteTx::new(conn))
    }

    /// The writer connection itself, for tests of the schema.
    pub fn with_writer_connection<T>(&self, f: impl FnOnce(&mut Connection) -> T) -> T {
        f(&mut self.writer.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

/// Rewrites `$1` placeholders to SQLite's `?1` (a `$` before a digit is never anything else in
/// the store's statements: JSON paths are `'$.field'`).
fn sqlite_sql(sql: &str) -> Cow<'_, str> {
    let bytes = sql.as_bytes();
    if !bytes
        .windows(2)
        .any(|w| w[0] == b'$' && w[1].is_ascii_digit())
    {
        return Cow::Borrowed(sql);
    }
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(|n| n.is_ascii_digit()) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Int(n) => ToSqlOutput::Borrowed(ValueRef::Integer(*n)),
            Value::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
        })
    }
}

/// One SQLite transaction as a [`Db`].
struct SqliteTx<'a> {
    conn: &'a Connection,
    /// A statement failed: the transaction must not commit (see [`Sqlite::write`]).
    failed: std::cell::Cell<bool>,
}

impl<'a> SqliteTx<'a> {
    fn new(conn: &'a Connection) -> Self {
        Self {
            conn,
            failed: std::cell::Cell::new(false),
        }
    }

    /// Notes a failure on the way out.
    fn noted<T>(&self, result: Result<T, Error>) -> Result<T, Error> {
        if result.is_err() {
            self.failed.set(true);
        }
        result
    }
}

impl Db for SqliteTx<'_> {
    fn engine(&self) -> Engine {
        Engine::Sqlite
    }

    fn execute(&self, sql: &str, args: &[Value]) -> Result<u64, Error> {
        self.noted((|| {
            let mut stmt = self.conn.prepare_cached(&sqlite_sql(sql))?;
            Ok(stmt.execute(rusqlite::params_from_iter(args))? as u64)
        })())
    }

    fn query(&self, sql: &str, args: &[Value]) -> Result<Vec<Row>, Error> {
        self.noted(self.rows(sql, args))
    }

    fn lock(&self, _: Lock) -> Result<(), Error> {
        Ok(())
    }

    fn lock_keys(&self, _: KeySpace, _: &[&str]) -> Result<(), Error> {
        Ok(())
    }
}

impl SqliteTx<'_> {
    fn rows(&self, sql: &str, args: &[Value]) -> Result<Vec<Row>, Error> {
        let mut stmt = self.conn.prepare_cached(&sqlite_sql(sql))?;
        let columns = stmt.column_count();
        let mut rows = stmt.query(rusqlite::params_from_iter(args))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let mut values = Vec::with_capacity(columns);
            for i in 0..columns {
                values.push(match row.get_ref(i)? {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(n) => Value::Int(n),
                    ValueRef::Real(f) => Value::Int(f as i64),
                    ValueRef::Text(t) | ValueRef::Blob(t) => {
                        Value::Text(String::from_utf8_lossy(t).into_owned())
                    }
                });
            }
            out.push(Row(values));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_sqlites_and_json_paths_stay() {
        assert_eq!(
            sqlite_sql("SELECT json_extract(body, '$.fields.x') FROM t WHERE a = $1 AND b = $12"),
            "SELECT json_extract(body, '$.fields.x') FROM t WHERE a = ?1 AND b = ?12"
        );
        assert!(matches!(sqlite_sql("SELECT 1"), Cow::Borrowed(_)));
    }
}
