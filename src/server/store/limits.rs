//! The counters that limit sign-ins and colleague look-ups, each decided in one step: the
//! count and the row that raises it are read and written in one transaction that holds the
//! key's lock ([`KeySpace`]), so a burst of simultaneous requests can never slip past a limit
//! between reading a count and adding to it (issue 30). On SQLite a write transaction already
//! excludes every other writer; on PostgreSQL the key's advisory lock does, per key.
//!
//! A sign-in *takes an attempt* before its password is checked: the attempt is counted at
//! once, as if it failed, and released again when the password turns out right. A server that
//! stops between the two leaves one failure counted, which expires with the window.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::db::{Db, KeySpace};
use crate::args;
use crate::server::error::Error;

/// One limit: at most `most` failures counted under `key` within the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limit {
    /// An account (`account:<email>`) or a client address (`address:<ip>`).
    pub key: String,
    pub most: u64,
}

/// Counts an attempt under every limit in `limits` at `now`, unless one of them already has
/// `most` failures within `window`: the attempt's id, to release it if it succeeds, or `None`
/// (nothing counted) when a limit is reached. Older failures are forgotten on the way.
pub fn take_attempt(
    db: &dyn Db,
    limits: &[Limit],
    now: DateTime<Utc>,
    window: Duration,
) -> Result<Option<Uuid>, Error> {
    let keys: Vec<&str> = limits.iter().map(|l| l.key.as_str()).collect();
    db.lock_keys(KeySpace::SignIn, &keys)?;
    let since = now - window;
    for limit in limits {
        forget_before(db, &limit.key, since)?;
        if failures_since(db, &limit.key, since)? >= limit.most {
            return Ok(None);
        }
    }
    let attempt = Uuid::new_v4();
    for limit in limits {
        db.execute_later(
            "INSERT INTO sign_in_failures (key, at, slot) VALUES ($1, $2, $3)",
            args![&limit.key, now, attempt],
        )?;
    }
    Ok(Some(attempt))
}

/// Takes back an attempt that succeeded: it no longer counts as a failure anywhere.
pub fn release_attempt(db: &dyn Db, attempt: Uuid) -> Result<(), Error> {
    db.execute_later(
        "DELETE FROM sign_in_failures WHERE slot = $1",
        args![attempt],
    )
}

/// How many failures were counted under `key` at or after `since` (the key names an account
/// or a client address).
pub fn failures_since(db: &dyn Db, key: &str, since: DateTime<Utc>) -> Result<u64, Error> {
    Ok(db
        .query_one(
            "SELECT COUNT(*) FROM sign_in_failures WHERE key = $1 AND at >= $2",
            args![key, since],
        )?
        .int(0)?
        .max(0) as u64)
}

/// Counts one failure under each of `keys` at `now`, forgetting their failures from before
/// `now - window` (a refusal found without taking an attempt first: a provider's refusal).
pub fn record_failure(
    db: &dyn Db,
    keys: &[&str],
    now: DateTime<Utc>,
    window: Duration,
) -> Result<(), Error> {
    db.lock_keys(KeySpace::SignIn, keys)?;
    for key in keys {
        forget_before(db, key, now - window)?;
        db.execute_later(
            "INSERT INTO sign_in_failures (key, at) VALUES ($1, $2)",
            args![*key, now],
        )?;
    }
    Ok(())
}

/// Forgets the failures counted under `key` (a successful sign-in to the account).
pub fn clear_failures(db: &dyn Db, key: &str) -> Result<(), Error> {
    db.lock_keys(KeySpace::SignIn, &[key])?;
    db.execute_later("DELETE FROM sign_in_failures WHERE key = $1", args![key])
}

fn forget_before(db: &dyn Db, key: &str, since: DateTime<Utc>) -> Result<(), Error> {
    db.execute_later(
        "DELETE FROM sign_in_failures WHERE key = $1 AND at < $2",
        args![key, since],
    )
}

/// Counts a colleague look-up by `person` at `now`, unless they have made `limit` since
/// `since`: whether it was counted. Decided under the person's lock.
pub fn take_lookup(
    db: &dyn Db,
    person: Uuid,
    now: DateTime<Utc>,
    since: DateTime<Utc>,
    limit: u64,
) -> Result<bool, Error> {
    db.lock_keys(KeySpace::Lookups, &[&person.to_string()])?;
    db.execute_later(
        "DELETE FROM directory_lookups WHERE person_id = $1 AND at < $2",
        args![person, since],
    )?;
    let made = db
        .query_one(
            "SELECT COUNT(*) FROM directory_lookups WHERE person_id = $1",
            args![person],
        )?
        .int(0)?
        .max(0) as u64;
    if made >= limit {
        return Ok(false);
    }
    db.execute_later(
        "INSERT INTO directory_lookups (person_id, at) VALUES ($1, $2)",
        args![person, now],
    )?;
    Ok(true)
}
