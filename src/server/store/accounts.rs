//! Accounts, sessions and settings: everything a server needs to know about people signing
//! in, kept in the database so any server of a region can answer any request. (The counters
//! that limit sign-ins and look-ups are in [`super::limits`].)

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::db::{Db, Engine, Row};
use crate::args;
use crate::core::mail::MailPreferences;
use crate::server::error::Error;

/// A signed-in user, as the store knows them.
#[derive(Debug, Clone, PartialEq)]
pub struct UserRow {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub person_id: Uuid,
    pub password_hash: String,
    /// A disabled account cannot sign in and has no sessions.
    pub disabled: bool,
    /// Manages accounts (see [`crate::server::admin`]); no access to patient data by it.
    pub site_admin: bool,
}

/// A session found by its token.
#[derive(Debug, Clone)]
pub struct SessionRow {
    pub user: UserRow,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    /// How it began: `password`, or `sso:{provider}` (`None` before this was kept).
    pub how: Option<String>,
}

const USER_COLUMNS: &str =
    "u.id, u.email, u.name, u.person_id, u.password_hash, u.disabled, u.site_admin";

fn user_from_row(row: &Row) -> Result<UserRow, Error> {
    Ok(UserRow {
        id: row.uuid(0)?,
        email: row.text(1)?,
        name: row.text(2)?,
        person_id: row.uuid(3)?,
        password_hash: row.text(4)?,
        disabled: row.bool(5)?,
        site_admin: row.bool(6)?,
    })
}

/// The user's device key (created on first use): with it, a signed-in session opens the
/// encrypted offline copy without the password.
pub fn device_key(db: &dyn Db, user_id: Uuid) -> Result<String, Error> {
    let read = || -> Result<Option<String>, Error> {
        Ok(db
            .query_opt("SELECT device_key FROM users WHERE id = $1", args![user_id])?
            .map(|r| r.opt_text(0))
            .transpose()?
            .flatten())
    };
    if let Some(key) = read()? {
        return Ok(key);
    }
    let key: String = rand::random::<[u8; 32]>()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    db.execute(
        "UPDATE users SET device_key = $2 WHERE id = $1 AND device_key IS NULL",
        args![user_id, key],
    )?;
    // Whoever wrote first wins; read back what is stored.
    read()?.ok_or_else(|| Error::Internal(anyhow::anyhow!("device key not stored")))
}

/// Disables (or enables again) an account; disabling ends all its sessions at once. False
/// when no account has that email.
pub fn set_disabled(db: &dyn Db, email: &str, disabled: bool) -> Result<bool, Error> {
    let changed = db.execute(
        "UPDATE users SET disabled = $2 WHERE lower(email) = lower($1)",
        args![email.trim(), disabled],
    )?;
    if changed > 0 && disabled {
        end_sessions_of(db, email)?;
    }
    if changed > 0 {
        sessions_changed(db, None)?;
    }
    Ok(changed > 0)
}

/// Replaces an account's password hash and ends all its sessions. False when no account has
/// that email.
pub fn set_password_hash(db: &dyn Db, email: &str, hash: &str) -> Result<bool, Error> {
    let changed = db.execute(
        "UPDATE users SET password_hash = $2 WHERE lower(email) = lower($1)",
        args![email.trim(), hash],
    )?;
    if changed > 0 {
        end_sessions_of(db, email)?;
    }
    Ok(changed > 0)
}

/// Ends every session of the account with this email (a lost phone, a reset).
pub fn end_sessions_of(db: &dyn Db, email: &str) -> Result<(), Error> {
    db.execute(
        "DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE lower(email) = lower($1))",
        args![email.trim()],
    )?;
    sessions_changed(db, None)
}

thread_local! {
    /// Sessions changed by the write under way on this thread (`None`: any), for the store to
    /// forget once it commits ([`take_sessions_changed`]).
    static SESSIONS_CHANGED: std::cell::RefCell<Vec<Option<String>>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// The sessions changed on this thread since the last call (a write runs on one thread, from
/// its closure to its commit).
pub(super) fn take_sessions_changed() -> Vec<Option<String>> {
    SESSIONS_CHANGED.with(|changed| std::mem::take(&mut *changed.borrow_mut()))
}

/// Tells every server of a region that a session (by its token hash) or an account (`None`:
/// any session may have changed) changed, so none goes on answering from a session it
/// remembers ([`super::memory`]). On PostgreSQL the news goes with the transaction and is
/// heard only if it commits; SQLite servers remember nothing.
fn sessions_changed(db: &dyn Db, token_hash: Option<&str>) -> Result<(), Error> {
    SESSIONS_CHANGED.with(|changed| changed.borrow_mut().push(token_hash.map(str::to_owned)));
    if db.engine() == Engine::Postgres {
        db.execute_later(
            &format!(
                "SELECT pg_notify({}, $2)",
                super::changes::channel_sql("$1")
            ),
            args![super::changes::SESSIONS_CHANNEL, token_hash.unwrap_or("")],
        )?;
    }
    Ok(())
}

/// The enabled account with this email (compared without case).
pub fn find_user_by_email(db: &dyn Db, email: &str) -> Result<Option<UserRow>, Error> {
    db.query_opt(
        &format!(
            "SELECT {USER_COLUMNS} FROM users u WHERE lower(u.email) = lower($1) AND u.disabled = 0"
        ),
        args![email.trim()],
    )?
    .as_ref()
    .map(user_from_row)
    .transpose()
}

/// The account with this email, disabled or not (a first sign-in through a provider, and
/// commands, must know about both).
pub fn any_user_by_email(db: &dyn Db, email: &str) -> Result<Option<UserRow>, Error> {
    db.query_opt(
        &format!("SELECT {USER_COLUMNS} FROM users u WHERE lower(u.email) = lower($1)"),
        args![email.trim()],
    )?
    .as_ref()
    .map(user_from_row)
    .transpose()
}

/// Which of `people` have no account: the people a coordinator keeps records for (the same
/// test as the write rules' `has_account`; a disabled account still counts as theirs).
pub fn without_accounts(db: &dyn Db, people: &[Uuid]) -> Result<Vec<Uuid>, Error> {
    let mut out = Vec::new();
    for person in people {
        if !db.exists(
            "SELECT EXISTS(SELECT 1 FROM users WHERE person_id = $1)",
            args![*person],
        )? {
            out.push(*person);
        }
    }
    Ok(out)
}

/// Creates a user; the email must be new.
pub fn insert_user(db: &dyn Db, user: &UserRow, now: DateTime<Utc>) -> Result<(), Error> {
    if db.exists(
        "SELECT EXISTS(SELECT 1 FROM users WHERE lower(email) = lower($1))",
        args![&user.email],
    )? {
        return Err(Error::BadRequest(format!(
            "A user with the email {} already exists",
            user.email
        )));
    }
    db.execute(
        "INSERT INTO users (id, email, name, password_hash, person_id, created_at, site_admin) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        args![user.id, &user.email, &user.name, &user.password_hash, user.person_id, now, user.site_admin],
    )?;
    Ok(())
}

/// Makes the account a site administrator, or not; false when no account has the email.
pub fn set_site_admin(db: &dyn Db, email: &str, site_admin: bool) -> Result<bool, Error> {
    let changed = db.execute(
        "UPDATE users SET site_admin = $2 WHERE lower(email) = lower($1)",
        args![email.trim(), site_admin],
    )? > 0;
    if changed {
        sessions_changed(db, None)?;
    }
    Ok(changed)
}

/// An account as site administrators see it: who, what role, and whether it can sign in.
pub struct AccountRow {
    pub user: UserRow,
    pub created_at: DateTime<Utc>,
    pub last_active: Option<DateTime<Utc>>,
}

/// Every account by name, or only the account `only`.
pub fn accounts(db: &dyn Db, only: Option<Uuid>) -> Result<Vec<AccountRow>, Error> {
    let select = format!(
        "SELECT {USER_COLUMNS}, u.created_at, (SELECT MAX(s.last_seen_at) FROM sessions s WHERE s.user_id = u.id) \
         FROM users u"
    );
    let rows = match only {
        Some(id) => db.query(&format!("{select} WHERE u.id = $1"), args![id])?,
        None => db.query(&format!("{select} ORDER BY lower(u.name), u.email"), &[])?,
    };
    rows.iter()
        .map(|r| {
            Ok(AccountRow {
                user: user_from_row(r)?,
                created_at: r.time(7)?,
                last_active: r.opt_time(8)?,
            })
        })
        .collect()
}

/// The account with this id, disabled or not.
pub fn find_user_by_id(db: &dyn Db, id: Uuid) -> Result<Option<UserRow>, Error> {
    db.query_opt(
        &format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1"),
        args![id],
    )?
    .as_ref()
    .map(user_from_row)
    .transpose()
}

/// When the account `user` was made (`None`: no such account).
pub fn account_created_at(db: &dyn Db, user: Uuid) -> Result<Option<DateTime<Utc>>, Error> {
    Ok(db
        .query_opt("SELECT created_at FROM users WHERE id = $1", args![user])?
        .and_then(|r| r.time(0).ok()))
}

/// Sessions, stored by the SHA-256 of their token so a copy of the database cannot sign in.
pub fn insert_session(
    db: &dyn Db,
    token_hash: &str,
    user_id: Uuid,
    how: &str,
    user_agent: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    db.execute(
        "INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, how, user_agent) VALUES ($1, $2, $3, $3, $4, $5)",
        args![token_hash, user_id, now, how, user_agent],
    )?;
    Ok(())
}

/// The session for a token hash, with its user (if the user is still enabled).
pub fn find_session(db: &dyn Db, token_hash: &str) -> Result<Option<SessionRow>, Error> {
    db.query_opt(
        &format!(
            "SELECT {USER_COLUMNS}, s.created_at, s.last_seen_at, s.how FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND u.disabled = 0"
        ),
        args![token_hash],
    )?
    .map(|row| {
        Ok(SessionRow {
            user: user_from_row(&row)?,
            created_at: row.time(7)?,
            last_seen_at: row.time(8)?,
            how: row.opt_text(9)?,
        })
    })
    .transpose()
}

/// Marks a session as used now (for the idle timeout).
pub fn touch_session(db: &dyn Db, token_hash: &str, now: DateTime<Utc>) -> Result<(), Error> {
    db.execute(
        "UPDATE sessions SET last_seen_at = $2 WHERE token_hash = $1",
        args![token_hash, now],
    )?;
    Ok(())
}

/// One of an account's sessions as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSummary {
    pub token_hash: String,
    pub how: Option<String>,
    pub user_agent: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
}

/// The account's sessions, most recently used first.
pub fn sessions_of(db: &dyn Db, user_id: Uuid) -> Result<Vec<SessionSummary>, Error> {
    db.query(
        "SELECT token_hash, how, user_agent, created_at, last_seen_at FROM sessions WHERE user_id = $1 ORDER BY last_seen_at DESC",
        args![user_id],
    )?
    .iter()
    .map(|r| {
        Ok(SessionSummary {
            token_hash: r.text(0)?,
            how: r.opt_text(1)?,
            user_agent: r.opt_text(2)?,
            created_at: r.time(3)?,
            last_seen_at: r.time(4)?,
        })
    })
    .collect()
}

/// Ends every session of the account but `keep` (signing out everywhere else); how many ended.
pub fn end_other_sessions(db: &dyn Db, user_id: Uuid, keep: &str) -> Result<u64, Error> {
    let ended = db.execute(
        "DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2",
        args![user_id, keep],
    )?;
    if ended > 0 {
        sessions_changed(db, None)?;
    }
    Ok(ended)
}

/// Ends one of the account's own sessions, named by the start of its stored hash (the id the
/// sessions page shows); false when it has none such.
pub fn end_session_of(db: &dyn Db, user_id: Uuid, id: &str) -> Result<bool, Error> {
    let found = sessions_of(db, user_id)?
        .into_iter()
        .find(|s| s.token_hash.starts_with(id) && id.len() >= 16);
    match found {
        Some(session) => {
            delete_session(db, &session.token_hash)?;
            Ok(true)
        }
        None => Ok(false),
    }
}

/// Ends a session.
pub fn delete_session(db: &dyn Db, token_hash: &str) -> Result<(), Error> {
    db.execute(
        "DELETE FROM sessions WHERE token_hash = $1",
        args![token_hash],
    )?;
    sessions_changed(db, Some(token_hash))
}

/// A setting (e.g. whether the demo data is loaded).
pub fn setting(db: &dyn Db, key: &str) -> Result<Option<String>, Error> {
    db.query_opt("SELECT value FROM settings WHERE key = $1", args![key])?
        .map(|r| r.text(0))
        .transpose()
}

/// Stores a setting.
pub fn set_setting(db: &dyn Db, key: &str, value: &str) -> Result<(), Error> {
    db.execute(
        "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        args![key, value],
    )?;
    Ok(())
}

/// A setting, stored as `value` first if nobody has stored one (the first writer wins: every
/// server of a region then reads the same value).
pub fn setting_or_insert(db: &dyn Db, key: &str, value: &str) -> Result<String, Error> {
    db.execute(
        "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
        args![key, value],
    )?;
    setting(db, key)?
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("the setting {key} was not stored")))
}

/// The account of a directory entry, if it has one, disabled or not (a disabled account's
/// one-click answers are refused, never recorded as someone without an account).
pub fn find_user_by_person(db: &dyn Db, person_id: Uuid) -> Result<Option<UserRow>, Error> {
    db.query_opt(
        &format!("SELECT {USER_COLUMNS} FROM users u WHERE u.person_id = $1"),
        args![person_id],
    )?
    .as_ref()
    .map(user_from_row)
    .transpose()
}

/// A person's choice of emails (everything on until they change it).
pub fn mail_preferences(db: &dyn Db, user_id: Uuid) -> Result<MailPreferences, Error> {
    match db.query_opt(
        "SELECT preferences FROM mail_preferences WHERE user_id = $1",
        args![user_id],
    )? {
        Some(row) => serde_json::from_str(&row.text(0)?)
            .map_err(|e| Error::Internal(anyhow::anyhow!("stored email preferences: {e}"))),
        None => Ok(MailPreferences::default()),
    }
}

/// Stores a person's choice of emails.
pub fn set_mail_preferences(
    db: &dyn Db,
    user_id: Uuid,
    preferences: &MailPreferences,
) -> Result<(), Error> {
    let json = serde_json::to_string(preferences).map_err(|e| Error::Internal(e.into()))?;
    db.execute(
        "INSERT INTO mail_preferences (user_id, preferences) VALUES ($1, $2) \
         ON CONFLICT (user_id) DO UPDATE SET preferences = excluded.preferences",
        args![user_id, json],
    )?;
    Ok(())
}
