//! Ways in, as the database keeps them: the single sign-on providers a site administrator set
//! up, each account's links to a provider's stable subject, sign-ins under way through a
//! provider (each usable once), and the record of every sign-in and refusal.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::accounts::UserRow;
use super::db::{Db, Row};
use crate::args;
use crate::core::sign_in::{ClientAuthentication, ProviderSettings};
use crate::server::error::Error;

/// A provider with its secrets: the client secret, or the private key of `private_key_jwt`
/// (PEM). Secrets never leave the server: the API shows [`ProviderSettings`] only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderRow {
    pub settings: ProviderSettings,
    pub client_secret: Option<String>,
    pub private_key_pem: Option<String>,
}

const PROVIDER_COLUMNS: &str = "id, label, issuer, client_id, client_secret, private_key_pem, scopes, email_claim, acr_values, domains";

fn provider_from_row(row: &Row) -> Result<ProviderRow, Error> {
    let client_secret = row.opt_text(4)?;
    let private_key_pem = row.opt_text(5)?;
    Ok(ProviderRow {
        settings: ProviderSettings {
            id: row.text(0)?,
            label: row.text(1)?,
            issuer: row.text(2)?,
            client_id: row.text(3)?,
            client_authentication: if private_key_pem.is_some() {
                ClientAuthentication::PrivateKeyJwt
            } else {
                ClientAuthentication::Secret
            },
            scopes: row.text(6)?,
            email_claim: row.text(7)?,
            acr_values: row.opt_text(8)?,
            domains: row.text(9)?.split_whitespace().map(str::to_owned).collect(),
        },
        client_secret,
        private_key_pem,
    })
}

/// Adds a provider, or replaces the one with the same id.
pub fn put_provider(db: &dyn Db, provider: &ProviderRow, now: DateTime<Utc>) -> Result<(), Error> {
    let s = &provider.settings;
    db.execute("DELETE FROM sign_in_providers WHERE id = $1", args![&s.id])?;
    db.execute(
        &format!(
            "INSERT INTO sign_in_providers ({PROVIDER_COLUMNS}, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        ),
        args![
            &s.id,
            &s.label,
            &s.issuer,
            &s.client_id,
            provider.client_secret.clone(),
            provider.private_key_pem.clone(),
            &s.scopes,
            &s.email_claim,
            s.acr_values.clone(),
            s.domains.join(" "),
            now
        ],
    )?;
    Ok(())
}

/// Every provider, by name.
pub fn providers(db: &dyn Db) -> Result<Vec<ProviderRow>, Error> {
    db.query(
        &format!("SELECT {PROVIDER_COLUMNS} FROM sign_in_providers ORDER BY label, id"),
        &[],
    )?
    .iter()
    .map(provider_from_row)
    .collect()
}

/// The provider `id`.
pub fn provider(db: &dyn Db, id: &str) -> Result<Option<ProviderRow>, Error> {
    db.query_opt(
        &format!("SELECT {PROVIDER_COLUMNS} FROM sign_in_providers WHERE id = $1"),
        args![id],
    )?
    .as_ref()
    .map(provider_from_row)
    .transpose()
}

/// Removes a provider: nobody can sign in through it any more (their links stay, and work
/// again if it is added back with the same issuer). False when there was none.
pub fn remove_provider(db: &dyn Db, id: &str) -> Result<bool, Error> {
    Ok(db.execute("DELETE FROM sign_in_providers WHERE id = $1", args![id])? > 0)
}

/// How long a sign-in through a provider may take, from the button to coming back.
pub const FLOW_LIFETIME: Duration = Duration::minutes(10);

/// A sign-in under way through a provider: what the callback must find and check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowRow {
    /// SHA-256 of the `state` sent to the provider.
    pub state_hash: String,
    pub provider_id: String,
    /// SHA-256 of the random value in the browser's flow cookie: the callback must come back
    /// to the browser that started it (so nobody can sign someone else in as themselves).
    pub browser_hash: String,
    pub nonce: String,
    pub pkce_verifier: String,
    pub created_at: DateTime<Utc>,
}

/// Records a sign-in under way, forgetting ones that have expired.
pub fn insert_flow(db: &dyn Db, flow: &FlowRow) -> Result<(), Error> {
    db.execute(
        "DELETE FROM sign_in_flows WHERE created_at < $1",
        args![flow.created_at - FLOW_LIFETIME],
    )?;
    db.execute(
        "INSERT INTO sign_in_flows (state_hash, provider_id, browser_hash, nonce, pkce_verifier, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        args![
            &flow.state_hash,
            &flow.provider_id,
            &flow.browser_hash,
            &flow.nonce,
            &flow.pkce_verifier,
            flow.created_at
        ],
    )?;
    Ok(())
}

/// Takes the sign-in under way with this state, once: whoever deletes the row has it, so a
/// callback replayed, even at the same moment, finds nothing.
pub fn take_flow(db: &dyn Db, state_hash: &str) -> Result<Option<FlowRow>, Error> {
    db.query_opt(
        "DELETE FROM sign_in_flows WHERE state_hash = $1 \
         RETURNING state_hash, provider_id, browser_hash, nonce, pkce_verifier, created_at",
        args![state_hash],
    )?
    .map(|row| {
        Ok(FlowRow {
            state_hash: row.text(0)?,
            provider_id: row.text(1)?,
            browser_hash: row.text(2)?,
            nonce: row.text(3)?,
            pkce_verifier: row.text(4)?,
            created_at: row.time(5)?,
        })
    })
    .transpose()
}

/// The account linked to a provider's subject (disabled or not).
pub fn linked_user(db: &dyn Db, issuer: &str, subject: &str) -> Result<Option<UserRow>, Error> {
    let Some(row) = db.query_opt(
        "SELECT user_id FROM sign_in_identities WHERE issuer = $1 AND subject = $2",
        args![issuer, subject],
    )?
    else {
        return Ok(None);
    };
    super::accounts::find_user_by_id(db, row.uuid(0)?)
}

/// Links a provider's subject to an account (the first sign-in through it).
pub fn link_identity(
    db: &dyn Db,
    issuer: &str,
    subject: &str,
    user_id: Uuid,
    provider_id: &str,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    db.execute(
        "INSERT INTO sign_in_identities (issuer, subject, user_id, provider_id, created_at, last_used_at) VALUES ($1, $2, $3, $4, $5, $5)",
        args![issuer, subject, user_id, provider_id, now],
    )?;
    Ok(())
}

/// Notes a later sign-in through a linked subject.
pub fn touch_identity(
    db: &dyn Db,
    issuer: &str,
    subject: &str,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    db.execute(
        "UPDATE sign_in_identities SET last_used_at = $3 WHERE issuer = $1 AND subject = $2",
        args![issuer, subject, now],
    )?;
    Ok(())
}

/// The providers an account is linked to, by provider id.
pub fn identities_of(db: &dyn Db, user_id: Uuid) -> Result<Vec<String>, Error> {
    db.query(
        "SELECT provider_id FROM sign_in_identities WHERE user_id = $1 ORDER BY provider_id",
        args![user_id],
    )?
    .iter()
    .map(|r| r.text(0))
    .collect()
}

/// Invites the account with this email to sign in through `provider` (`None`: withdraws the
/// invitation). False when no account has that email.
pub fn set_invitation(db: &dyn Db, email: &str, provider: Option<&str>) -> Result<bool, Error> {
    Ok(db.execute(
        "UPDATE users SET sso_invite = $2 WHERE lower(email) = lower($1)",
        args![email.trim(), provider],
    )? > 0)
}

/// The provider the account with this email is invited to sign in through, if any.
pub fn invitation(db: &dyn Db, user_id: Uuid) -> Result<Option<String>, Error> {
    Ok(db
        .query_opt("SELECT sso_invite FROM users WHERE id = $1", args![user_id])?
        .map(|r| r.opt_text(0))
        .transpose()?
        .flatten())
}

/// One sign-in or refusal, whichever way in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInEvent {
    pub at: DateTime<Utc>,
    /// The account, when known.
    pub user_id: Option<Uuid>,
    /// The email given or claimed, when known.
    pub email: Option<String>,
    /// `password`, or `sso:{provider}`.
    pub how: String,
    /// `signed_in` or `refused`.
    pub outcome: String,
    /// Why (a refusal's code and, for a token, which check failed), for the administrator.
    pub reason: String,
    pub address: Option<String>,
}

/// How long sign-in records are kept: older ones are forgotten as new ones come.
pub const SIGN_IN_EVENTS_KEPT: Duration = Duration::days(400);

/// Records a sign-in or refusal.
pub fn record_sign_in(db: &dyn Db, event: &SignInEvent) -> Result<(), Error> {
    db.execute(
        "DELETE FROM sign_in_events WHERE at < $1",
        args![event.at - SIGN_IN_EVENTS_KEPT],
    )?;
    db.execute(
        "INSERT INTO sign_in_events (id, at, user_id, email, how, outcome, reason, address) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        args![
            Uuid::new_v4(),
            event.at,
            event.user_id,
            event.email.clone(),
            &event.how,
            &event.outcome,
            &event.reason,
            event.address.clone()
        ],
    )?;
    Ok(())
}

/// The latest sign-ins and refusals, newest first.
pub fn sign_in_events(db: &dyn Db, limit: u32) -> Result<Vec<SignInEvent>, Error> {
    db.query(
        "SELECT at, user_id, email, how, outcome, reason, address FROM sign_in_events ORDER BY at DESC LIMIT $1",
        args![i64::from(limit)],
    )?
    .iter()
    .map(|r| {
        Ok(SignInEvent {
            at: r.time(0)?,
            user_id: r.opt_uuid(1)?,
            email: r.opt_text(2)?,
            how: r.text(3)?,
            outcome: r.text(4)?,
            reason: r.text(5)?,
            address: r.opt_text(6)?,
        })
    })
    .collect()
}

/// An account's TOTP secret (base32), whether a code from it has been shown (set-up finished),
/// and the last time step a code was accepted for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecondFactorRow {
    pub secret: String,
    pub confirmed: bool,
    pub last_step: Option<i64>,
}

/// The account's second factor, if it has one (set up or being set up).
pub fn second_factor(db: &dyn Db, user_id: Uuid) -> Result<Option<SecondFactorRow>, Error> {
    db.query_opt(
        "SELECT secret, confirmed, last_step FROM second_factors WHERE user_id = $1",
        args![user_id],
    )?
    .map(|r| {
        Ok(SecondFactorRow {
            secret: r.text(0)?,
            confirmed: r.bool(1)?,
            last_step: r.opt_int(2)?,
        })
    })
    .transpose()
}

/// Starts setting up a second factor with a new secret, replacing one not yet confirmed.
/// False (nothing changed) when the account already has a confirmed one.
pub fn begin_second_factor(
    db: &dyn Db,
    user_id: Uuid,
    secret: &str,
    now: DateTime<Utc>,
) -> Result<bool, Error> {
    db.execute(
        "DELETE FROM second_factors WHERE user_id = $1 AND confirmed = 0",
        args![user_id],
    )?;
    Ok(db.execute(
        "INSERT INTO second_factors (user_id, secret, confirmed, created_at) VALUES ($1, $2, 0, $3) ON CONFLICT (user_id) DO NOTHING",
        args![user_id, secret, now],
    )? > 0)
}

/// Takes the time step `step` of the account's TOTP, once: true when no code of this or a later
/// step was accepted before (in one statement, so two requests with the same code at the same
/// moment cannot both pass). `confirm` also finishes a set-up.
pub fn take_totp_step(db: &dyn Db, user_id: Uuid, step: i64, confirm: bool) -> Result<bool, Error> {
    let confirmed = if confirm { "" } else { "AND confirmed = 1" };
    Ok(db.execute(
        &format!(
            "UPDATE second_factors SET last_step = $2, confirmed = 1 WHERE user_id = $1 {confirmed} AND (last_step IS NULL OR last_step < $2)"
        ),
        args![user_id, step],
    )? > 0)
}

/// Replaces the account's recovery codes (by their hashes).
pub fn set_recovery_codes(db: &dyn Db, user_id: Uuid, hashes: &[String]) -> Result<(), Error> {
    db.execute(
        "DELETE FROM recovery_codes WHERE user_id = $1",
        args![user_id],
    )?;
    for hash in hashes {
        db.execute(
            "INSERT INTO recovery_codes (code_hash, user_id) VALUES ($1, $2)",
            args![hash, user_id],
        )?;
    }
    Ok(())
}

/// Uses one of the account's recovery codes, once (in one statement): whether it was an
/// unused code of theirs.
pub fn use_recovery_code(
    db: &dyn Db,
    user_id: Uuid,
    hash: &str,
    now: DateTime<Utc>,
) -> Result<bool, Error> {
    Ok(db.execute(
        "UPDATE recovery_codes SET used_at = $3 WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL",
        args![user_id, hash, now],
    )? > 0)
}

/// How many of the account's recovery codes are unused.
pub fn recovery_codes_left(db: &dyn Db, user_id: Uuid) -> Result<u64, Error> {
    Ok(db
        .query_one(
            "SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL",
            args![user_id],
        )?
        .int(0)?
        .max(0) as u64)
}

/// Takes the account's second factor and recovery codes away (a lost phone): the next sign-in
/// sets one up again where it is required.
pub fn remove_second_factor(db: &dyn Db, user_id: Uuid) -> Result<bool, Error> {
    db.execute(
        "DELETE FROM recovery_codes WHERE user_id = $1",
        args![user_id],
    )?;
    Ok(db.execute(
        "DELETE FROM second_factors WHERE user_id = $1",
        args![user_id],
    )? > 0)
}

/// How long a sign-in may wait for its second factor (time to install an authenticator app).
pub const PENDING_LIFETIME: Duration = Duration::minutes(10);

/// A sign-in whose password was right, waiting for its second factor.
pub fn insert_pending_sign_in(
    db: &dyn Db,
    token_hash: &str,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    db.execute(
        "DELETE FROM pending_sign_ins WHERE created_at < $1",
        args![now - PENDING_LIFETIME],
    )?;
    db.execute(
        "INSERT INTO pending_sign_ins (token_hash, user_id, created_at, attempts) VALUES ($1, $2, $3, 0)",
        args![token_hash, user_id, now],
    )?;
    Ok(())
}

/// Takes one try of a waiting sign-in before its code is checked (so a burst cannot try more
/// than `limit` codes): its account, or `None` when it has expired, is unknown or has had
/// `limit` tries.
pub fn try_pending_sign_in(
    db: &dyn Db,
    token_hash: &str,
    limit: i64,
    now: DateTime<Utc>,
) -> Result<Option<Uuid>, Error> {
    db.query_opt(
        "UPDATE pending_sign_ins SET attempts = attempts + 1 \
         WHERE token_hash = $1 AND attempts < $2 AND created_at >= $3 RETURNING user_id",
        args![token_hash, limit, now - PENDING_LIFETIME],
    )?
    .map(|r| r.uuid(0))
    .transpose()
}

/// The account of a waiting sign-in without taking a try (showing the set-up page).
pub fn pending_sign_in_user(
    db: &dyn Db,
    token_hash: &str,
    limit: i64,
    now: DateTime<Utc>,
) -> Result<Option<Uuid>, Error> {
    db.query_opt(
        "SELECT user_id FROM pending_sign_ins WHERE token_hash = $1 AND attempts < $2 AND created_at >= $3",
        args![token_hash, limit, now - PENDING_LIFETIME],
    )?
    .map(|r| r.uuid(0))
    .transpose()
}

/// Ends a waiting sign-in (it succeeded).
pub fn end_pending_sign_in(db: &dyn Db, token_hash: &str) -> Result<(), Error> {
    db.execute(
        "DELETE FROM pending_sign_ins WHERE token_hash = $1",
        args![token_hash],
    )?;
    Ok(())
}
