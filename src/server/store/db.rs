//! The engine-neutral SQL surface the store's modules are written against: one transaction
//! ([`Db`]), values in and rows out ([`Value`], [`Row`]), and the few places where SQLite and
//! PostgreSQL say the same thing differently ([`Engine`]).
//!
//! Statements are written once, with PostgreSQL's `$1` placeholders (the SQLite engine rewrites
//! them to `?1`), integers as 64-bit, booleans as 0/1 integers, times as RFC 3339 text and ids
//! as text, so both engines store the same values and every module works on either.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::server::error::Error;

/// Which database engine a transaction runs on (for the few statements spelled differently).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// The embedded default: one file, one writer, readers beside it.
    Sqlite,
    /// A region's shared database, with several servers in front of it.
    Postgres,
}

impl Engine {
    /// An expression for the text at `path` inside the JSON held by the text column `column`
    /// (`NULL` when absent), e.g. `json_text("body", &["fields", "nhs_number"])`.
    pub fn json_text(self, column: &str, path: &[&str]) -> String {
        match self {
            Self::Sqlite => format!("json_extract({column}, '$.{}')", path.join(".")),
            Self::Postgres => format!("(({column})::jsonb #>> '{{{}}}')", path.join(",")),
        }
    }
}

/// Application-wide locks that order writers across every server of one database. Taken in
/// this order (never the other way round), and held until the transaction ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lock {
    /// Numbering and committing changes to synced records: held from a push's first read to
    /// its commit, so change numbers become visible in order and a pull's cursor never skips
    /// one (see DESIGN.md, sync).
    ChangeLog = 1,
    /// Appending to the audit chain: one chain, each row hashed over the one before.
    AuditChain = 2,
}

/// Locks on one key among many (an account's sign-in failures, a person's look-ups), so a
/// count and the row that raises it are decided by one writer at a time *per key*, while
/// other keys go ahead. Taken after any [`Lock`] a transaction holds and never before one,
/// and several keys in the order [`Db::lock_keys`] sorts them, so two writers never wait
/// for each other in a circle. Held until the transaction ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySpace {
    /// Failed sign-ins counted under an account or a client address ("MDT2").
    SignIn = 0x4d44_5432,
    /// Colleague look-ups counted under a person ("MDT3").
    Lookups = 0x4d44_5433,
}

/// The 32-bit lock number of `key`: the first four bytes of its SHA-256. Two keys that share
/// a number only wait for each other; a lock is never wrong for it.
pub fn key_number(key: &str) -> i32 {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(key.as_bytes());
    i32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

/// A value bound to a statement or read from a row.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Text(String),
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Self::Int(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Self::Int(i64::from(v))
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Self::Text(v.to_owned())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Self::Text(v)
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Self::Text(v.clone())
    }
}
impl From<Uuid> for Value {
    fn from(v: Uuid) -> Self {
        Self::Text(v.to_string())
    }
}
impl From<&Uuid> for Value {
    fn from(v: &Uuid) -> Self {
        Self::Text(v.to_string())
    }
}
impl From<DateTime<Utc>> for Value {
    /// Stored as RFC 3339 text with microseconds, so stored times sort as text.
    fn from(v: DateTime<Utc>) -> Self {
        Self::Text(v.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Self::Null, Into::into)
    }
}

impl Value {
    /// The value as a key (for telling rows apart by their id).
    pub fn clone_key(&self) -> String {
        match self {
            Self::Null => String::new(),
            Self::Int(n) => n.to_string(),
            Self::Text(s) => s.clone(),
        }
    }
}

/// Builds the parameter list of a statement: `args![team_id, "patient", 3]`.
#[macro_export]
macro_rules! args {
    ($($value:expr),* $(,)?) => {
        &[$($crate::server::store::db::Value::from($value)),*][..]
    };
}

/// One row of a result, by column position.
#[derive(Debug, Clone, PartialEq)]
pub struct Row(pub Vec<Value>);

fn column_error(what: &str, i: usize, found: &Value) -> Error {
    Error::Internal(anyhow::anyhow!(
        "database column {i}: expected {what}, found {found:?}"
    ))
}

impl Row {
    fn at(&self, i: usize) -> Result<&Value, Error> {
        self.0
            .get(i)
            .ok_or_else(|| Error::Internal(anyhow::anyhow!("database row has no column {i}")))
    }

    /// A text column that may be `NULL`.
    pub fn opt_text(&self, i: usize) -> Result<Option<String>, Error> {
        match self.at(i)? {
            Value::Null => Ok(None),
            Value::Text(s) => Ok(Some(s.clone())),
            other => Err(column_error("text", i, other)),
        }
    }

    /// A text column.
    pub fn text(&self, i: usize) -> Result<String, Error> {
        self.opt_text(i)?
            .ok_or_else(|| column_error("text", i, &Value::Null))
    }

    /// An integer column that may be `NULL`.
    pub fn opt_int(&self, i: usize) -> Result<Option<i64>, Error> {
        match self.at(i)? {
            Value::Null => Ok(None),
            Value::Int(n) => Ok(Some(*n)),
            other => Err(column_error("an integer", i, other)),
        }
    }

    /// An integer column.
    pub fn int(&self, i: usize) -> Result<i64, Error> {
        self.opt_int(i)?
            .ok_or_else(|| column_error("an integer", i, &Value::Null))
    }

    /// A 0/1 column.
    pub fn bool(&self, i: usize) -> Result<bool, Error> {
        Ok(self.int(i)? != 0)
    }

    /// An id column that may be `NULL`.
    pub fn opt_uuid(&self, i: usize) -> Result<Option<Uuid>, Error> {
        self.opt_text(i)?
            .map(|s| Uuid::parse_str(&s).map_err(|e| Error::Internal(e.into())))
            .transpose()
    }

    /// An id column.
    pub fn uuid(&self, i: usize) -> Result<Uuid, Error> {
        Uuid::parse_str(&self.text(i)?).map_err(|e| Error::Internal(e.into()))
    }

    /// A time column that may be `NULL`.
    pub fn opt_time(&self, i: usize) -> Result<Option<DateTime<Utc>>, Error> {
        self.opt_text(i)?
            .map(|s| {
                DateTime::parse_from_rfc3339(&s)
                    .map(|t| t.with_timezone(&Utc))
                    .map_err(|e| Error::Internal(e.into()))
            })
            .transpose()
    }

    /// A time column.
    pub fn time(&self, i: usize) -> Result<DateTime<Utc>, Error> {
        self.opt_time(i)?
            .ok_or_else(|| column_error("a time", i, &Value::Null))
    }
}

/// One open transaction on either engine. Every store function takes `&dyn Db`, so the same
/// code serves both; the handle commits when the closure given to
/// [`super::Store::read`]/[`super::Store::write`] returns `Ok`, and rolls back otherwise.
pub trait Db {
    /// The engine underneath, for statements spelled differently ([`Engine::json_text`]).
    fn engine(&self) -> Engine;

    /// Runs a statement; the number of rows it changed.
    fn execute(&self, sql: &str, args: &[Value]) -> Result<u64, Error>;

    /// Runs a query; every row.
    fn query(&self, sql: &str, args: &[Value]) -> Result<Vec<Row>, Error>;

    /// Runs a write whose answer nobody reads. SQLite runs it at once; PostgreSQL sends it
    /// together with the next statement or with the `COMMIT` (one round trip instead of two),
    /// in order, so every later read still sees it. A failure surfaces there, and fails the
    /// transaction all the same.
    fn execute_later(&self, sql: &str, args: &[Value]) -> Result<(), Error> {
        self.execute(sql, args).map(|_| ())
    }

    /// Takes an application lock until the end of the transaction (see [`Lock`]). On SQLite a
    /// write transaction already excludes every other writer, so this does nothing there.
    fn lock(&self, lock: Lock) -> Result<(), Error>;

    /// Takes the locks of `keys` in `space` until the end of the transaction, in the order of
    /// their lock numbers (see [`KeySpace`]). Nothing on SQLite, as [`Db::lock`].
    fn lock_keys(&self, space: KeySpace, keys: &[&str]) -> Result<(), Error>;
}

impl dyn Db + '_ {
    /// The first row, if any.
    pub fn query_opt(&self, sql: &str, args: &[Value]) -> Result<Option<Row>, Error> {
        Ok(self.query(sql, args)?.into_iter().next())
    }

    /// The only row of a query that always returns one (`SELECT COUNT(*)`, `EXISTS`).
    pub fn query_one(&self, sql: &str, args: &[Value]) -> Result<Row, Error> {
        self.query_opt(sql, args)?.ok_or_else(|| {
            Error::Internal(anyhow::anyhow!("a query expected to return a row did not"))
        })
    }

    /// Whether `SELECT EXISTS(...)` said yes.
    pub fn exists(&self, sql: &str, args: &[Value]) -> Result<bool, Error> {
        self.query_one(sql, args)?.bool(0)
    }
}
