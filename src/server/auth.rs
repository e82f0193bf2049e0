//! Sign-in, sessions and sign-out.
//!
//! Passwords are stored as argon2id hashes. A session is a random 256-bit token in an HttpOnly,
//! SameSite=Strict cookie; the database keeps only its SHA-256, so a copy of the database cannot
//! be used to sign in. A fresh token is issued at every sign-in (and any old one ended).

use std::sync::LazyLock;

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use axum::extract::{FromRequestParts, State};
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use base64::Engine;
use chrono::{Duration, Utc};
use sha2::{Digest, Sha256};

use super::error::{ApiJson, Error};
use super::store::{self, Actor};
use super::AppState;
use crate::core::api::{CurrentUser, DeviceKey, SignInRequest};

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "mdt_session";
/// A session unused for this long ends (a shared PC left signed in).
pub const IDLE_TIMEOUT: Duration = Duration::minutes(30);
/// A session ends this long after sign-in, used or not.
pub const ABSOLUTE_TIMEOUT: Duration = Duration::hours(12);

/// The session routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/session",
            post(sign_in).get(current_user).delete(sign_out),
        )
        .route("/api/session/device-key", get(device_key))
        .route("/api/session/probe", get(probe))
        .route("/api/session/all", get(all_sessions))
        .route("/api/session/end-others", post(end_others))
        .route("/api/session/{id}/end", post(end_one))
}

/// Hashes a new password with argon2id and a random salt.
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("cannot hash password: {e}"))
}

/// True when `password` matches the stored hash.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// Failed sign-ins allowed per account within [`ATTEMPT_WINDOW`] before 429.
pub const ACCOUNT_ATTEMPTS: usize = 5;
/// Failed sign-ins allowed per client address within [`ATTEMPT_WINDOW`] (a shared office
/// behind one address gets more room than one account).
pub const ADDRESS_ATTEMPTS: usize = 20;
/// How long failed sign-ins count.
pub const ATTEMPT_WINDOW: Duration = Duration::minutes(15);

/// The keys failed sign-ins are counted under, with how many each allows: the account, and
/// the client's address when known.
pub(crate) fn limit_keys(email: &str, address: Option<std::net::IpAddr>) -> Vec<store::Limit> {
    let mut keys = vec![store::Limit {
        key: account_key(email),
        most: ACCOUNT_ATTEMPTS as u64,
    }];
    if let Some(ip) = address {
        keys.push(store::Limit {
            key: address_key(ip),
            most: ADDRESS_ATTEMPTS as u64,
        });
    }
    keys
}

/// The key failures from one client address are counted under, whichever way in they tried.
pub(crate) fn address_key(ip: std::net::IpAddr) -> String {
    format!("address:{ip}")
}

pub(crate) fn account_key(email: &str) -> String {
    format!("account:{}", email.to_lowercase())
}

/// How long a used session goes without its last-seen time being written again: reads do not
/// write, and the idle timeout is kept to within this much.
pub const TOUCH_INTERVAL: Duration = Duration::minutes(1);

/// The client's address, when the server knows it: the peer's, or behind a trusted proxy
/// ([`super::Config::behind_proxy`]) the last address the proxy appended to
/// `X-Forwarded-For`.
pub struct ClientAddress(pub Option<std::net::IpAddr>);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip());
        if !state.config.behind_proxy {
            return Ok(Self(peer));
        }
        // The proxy appends the address it saw last; anything before it came from the client.
        let forwarded = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .next_back()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|a| a.trim().parse().ok());
        Ok(Self(forwarded.or(peer)))
    }
}

/// Checked when the email is unknown, so a wrong email takes as long as a wrong password.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_password("not-a-real-password-for-timing").unwrap_or_default());

/// The SHA-256 of `bytes` in hex: how tokens, states and codes are stored (a copy of the
/// database holds nothing that can be used).
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub(crate) fn token_hash(token: &str) -> String {
    sha256_hex(token.as_bytes())
}

/// A new random 256-bit token, URL-safe: sessions, waiting sign-ins, single sign-on flows.
pub(crate) fn random_token() -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

/// The session cookie's value, if the request carries one.
pub(crate) fn session_token(headers: &HeaderMap) -> Option<String> {
    cookie_value(headers, SESSION_COOKIE)
}

/// The value of the cookie `name`, if the request carries one.
pub(crate) fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(found, _)| *found == name)
        .map(|(_, value)| value.to_owned())
}

fn session_cookie(state: &AppState, token: &str, max_age: i64) -> HeaderValue {
    let secure = if state.config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age}{secure}"
    ))
    .expect("cookie is ASCII")
}

/// The signed-in user of a request. Extracting it from a request without a live session
/// answers 401.
#[derive(Debug, Clone)]
pub struct Session {
    pub actor: Actor,
    pub email: String,
    /// May manage accounts ([`super::admin`]).
    pub site_admin: bool,
    /// Began with single sign-on through the person's organisation.
    pub through_organisation: bool,
    token_hash: String,
}

impl Session {
    /// The stored hash of the session's token (to check later that it is still live).
    pub fn token_hash(&self) -> &str {
        &self.token_hash
    }

    /// The user as the app sees them.
    pub fn current_user(&self) -> CurrentUser {
        CurrentUser {
            user_id: self.actor.user_id,
            name: self.actor.name.clone(),
            email: self.email.clone(),
            person_id: self.actor.person_id,
            site_admin: self.site_admin,
            signed_in_through_organisation: self.through_organisation,
        }
    }
}

impl FromRequestParts<AppState> for Session {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        let token = session_token(&parts.headers).ok_or(Error::Unauthorized)?;
        let hash = token_hash(&token);
        let mut found = state
            .store
            .session(&hash)
            .await?
            .ok_or(Error::Unauthorized)?;
        let now = Utc::now();
        let due = |found: &store::SessionRow| {
            now - found.last_seen_at >= TOUCH_INTERVAL || now - found.created_at > ABSOLUTE_TIMEOUT
        };
        if due(&found) {
            // A remembered copy may be behind another server's touch: decide on the stored
            // one, and look it up again next time.
            state.store.forget_session(&hash);
            found = state
                .store
                .session(&hash)
                .await?
                .ok_or(Error::Unauthorized)?;
            state.store.forget_session(&hash);
        }
        let expired =
            now - found.last_seen_at > IDLE_TIMEOUT || now - found.created_at > ABSOLUTE_TIMEOUT;
        // Written only when it ends or once a minute, so reads do not queue behind writes.
        if expired || due(&found) {
            let hash = hash.clone();
            state
                .store
                .write(move |db| {
                    if expired {
                        store::delete_session(db, &hash)
                    } else {
                        store::touch_session(db, &hash, now)
                    }
                })
                .await?;
        }
        if expired {
            return Err(Error::Unauthorized);
        }
        Ok(Session {
            actor: Actor {
                user_id: found.user.id,
                person_id: found.user.person_id,
                name: found.user.name,
                session: hash[..16].to_owned(),
            },
            email: found.user.email,
            site_admin: found.user.site_admin,
            through_organisation: found.how.as_deref().is_some_and(|h| h.starts_with("sso:")),
            token_hash: hash,
        })
    }
}

async fn sign_in(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    ApiJson(req): ApiJson<SignInRequest>,
) -> Result<Response, Error> {
    let email = req.email.trim().to_owned();
    if email.is_empty() || req.password.is_empty() {
        return Err(Error::BadRequest(
            "Enter your email address and password.".into(),
        ));
    }
    let lookup = email.clone();
    let limits = limit_keys(&email, address);
    // The attempt is counted before the password is checked, in the same transaction as the
    // count it is weighed against, so a burst cannot check more passwords than the limits
    // allow (it is released when the password is right).
    let taken = state
        .store
        .write(move |db| {
            let Some(attempt) = store::take_attempt(db, &limits, Utc::now(), ATTEMPT_WINDOW)?
            else {
                return Ok(None);
            };
            Ok(Some((attempt, store::find_user_by_email(db, &lookup)?)))
        })
        .await?;
    let Some((attempt, user)) = taken else {
        let refusal = Refusal {
            email: &email,
            user_id: None,
            how: "password",
            reason: "too_many_attempts",
            counts: false,
        };
        record_refusal(&state, address, refusal).await?;
        return Err(Error::TooManyAttempts);
    };
    let hash = user
        .as_ref()
        .map_or_else(|| DUMMY_HASH.clone(), |u| u.password_hash.clone());
    let password = req.password;
    let matches = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .map_err(|e| Error::Internal(e.into()))?;
    let Some(user) = user.filter(|u| matches && !u.disabled) else {
        let refusal = Refusal {
            email: &email,
            user_id: None,
            how: "password",
            reason: "bad_credentials",
            // The attempt taken above already counts.
            counts: false,
        };
        record_refusal(&state, address, refusal).await?;
        return Err(Error::BadCredentials);
    };
    tracing::info!(user = %user.id, "password accepted");
    super::second_factor::after_password(&state, user, &headers, address, attempt).await
}

/// A refused sign-in with a password, for the record.
pub(crate) struct Refusal<'a> {
    pub email: &'a str,
    pub user_id: Option<uuid::Uuid>,
    /// `password`, or `password+second factor`.
    pub how: &'static str,
    pub reason: &'static str,
    /// Also counts against the account and the address (a refusal for too many attempts is
    /// not itself another attempt).
    pub counts: bool,
}

/// Records a refused sign-in, counting it against the account and the address when it counts.
pub(crate) async fn record_refusal(
    state: &AppState,
    address: Option<std::net::IpAddr>,
    refusal: Refusal<'_>,
) -> Result<(), Error> {
    let Refusal {
        email,
        user_id,
        how,
        reason,
        counts,
    } = refusal;
    let email = email.to_owned();
    state.metrics.sign_in_refused(reason);
    state
        .store
        .write(move |db| {
            let now = Utc::now();
            if counts {
                let limits = limit_keys(&email, address);
                let keys: Vec<&str> = limits.iter().map(|l| l.key.as_str()).collect();
                store::record_failure(db, &keys, now, ATTEMPT_WINDOW)?;
            }
            store::record_sign_in(
                db,
                &store::SignInEvent {
                    at: now,
                    user_id,
                    email: Some(email.chars().take(254).collect()),
                    how: how.into(),
                    outcome: "refused".into(),
                    reason: reason.into(),
                    address: address.map(|a| a.to_string()),
                },
            )
        })
        .await
}

/// Starts a session for `user`, however they proved who they are: a fresh token (any session
/// the browser had is ended), the account's failure count cleared and the sign-in's `attempt`
/// released (see [`store::take_attempt`]), the sign-in recorded. The `Set-Cookie` value to
/// send. `how` is `password` or `sso:{provider}`.
pub(crate) async fn begin_session(
    state: &AppState,
    user: &store::UserRow,
    how: &str,
    headers: &HeaderMap,
    address: Option<std::net::IpAddr>,
    attempt: Option<uuid::Uuid>,
) -> Result<HeaderValue, Error> {
    let token = random_token();
    let new_hash = token_hash(&token);
    let old_hash = session_token(headers).map(|t| token_hash(&t));
    let user_agent = super::sso::user_agent(headers);
    let (user_id, signed_in, email, how) = (
        user.id,
        account_key(&user.email),
        user.email.clone(),
        how.to_owned(),
    );
    state
        .store
        .write(move |db| {
            let now = Utc::now();
            // A successful sign-in clears the account's count (not the address's), and its
            // own attempt from both.
            if let Some(attempt) = attempt {
                store::release_attempt(db, attempt)?;
            }
            store::clear_failures(db, &signed_in)?;
            if let Some(old) = old_hash {
                store::delete_session(db, &old)?;
            }
            store::insert_session(db, &new_hash, user_id, &how, user_agent.as_deref(), now)?;
            store::record_sign_in(
                db,
                &store::SignInEvent {
                    at: now,
                    user_id: Some(user_id),
                    email: Some(email),
                    how,
                    outcome: "signed_in".into(),
                    reason: String::new(),
                    address: address.map(|a| a.to_string()),
                },
            )
        })
        .await?;
    Ok(session_cookie(
        state,
        &token,
        ABSOLUTE_TIMEOUT.num_seconds(),
    ))
}

async fn current_user(session: Session) -> ApiJson<CurrentUser> {
    ApiJson(session.current_user())
}

/// Who is signed in, for the app as it starts: the user, or `204 No Content` when nobody is.
/// Opening the app signed out is not an error, so it is not answered with one (browsers log
/// every 401 in the console, where it looks like a fault to anyone checking the page).
async fn probe(State(state): State<AppState>, mut parts: Parts) -> Result<Response, Error> {
    match Session::from_request_parts(&mut parts, &state).await {
        Ok(session) => Ok(ApiJson(session.current_user()).into_response()),
        Err(Error::Unauthorized) => Ok(StatusCode::NO_CONTENT.into_response()),
        Err(e) => Err(e),
    }
}

/// The server's half of the key to this user's offline copy (see [`DeviceKey`]).
async fn device_key(
    State(state): State<AppState>,
    session: Session,
) -> Result<ApiJson<DeviceKey>, Error> {
    let user_id = session.current_user().user_id;
    let device_key = state
        .store
        .write(move |db| store::device_key(db, user_id))
        .await?;
    Ok(ApiJson(DeviceKey { device_key }))
}

async fn sign_out(State(state): State<AppState>, session: Session) -> Result<Response, Error> {
    let hash = session.token_hash.clone();
    state
        .store
        .write(move |db| store::delete_session(db, &hash))
        .await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    response
        .headers_mut()
        .insert(SET_COOKIE, session_cookie(&state, "", 0));
    Ok(response)
}

/// Where the person is signed in: each session with its browser, how it began and when it was
/// last used (within a minute), their current one marked.
async fn all_sessions(
    State(state): State<AppState>,
    session: Session,
) -> Result<ApiJson<Vec<crate::core::sign_in::SessionInfo>>, Error> {
    use crate::core::sign_in::{describe_device, describe_sign_in, SessionInfo};
    let user_id = session.actor.user_id;
    let (sessions, providers) = state
        .store
        .read(move |db| Ok((store::sessions_of(db, user_id)?, store::providers(db)?)))
        .await?;
    let label = |how: Option<&str>| {
        how.and_then(|h| h.strip_prefix("sso:")).and_then(|id| {
            providers
                .iter()
                .find(|p| p.settings.id == id)
                .map(|p| p.settings.label.clone())
        })
    };
    Ok(ApiJson(
        sessions
            .into_iter()
            .map(|s| SessionInfo {
                id: s.token_hash[..16].to_owned(),
                device: describe_device(s.user_agent.as_deref()),
                how: describe_sign_in(s.how.as_deref(), label(s.how.as_deref()).as_deref()),
                started_at: s.created_at,
                last_used_at: s.last_seen_at,
                current: s.token_hash == session.token_hash,
            })
            .collect(),
    ))
}

/// Signs the person out everywhere but here (a lost phone, a shared computer left signed in).
async fn end_others(
    State(state): State<AppState>,
    session: Session,
) -> Result<ApiJson<serde_json::Value>, Error> {
    let (user_id, keep) = (session.actor.user_id, session.token_hash.clone());
    let ended = state
        .store
        .write(move |db| store::end_other_sessions(db, user_id, &keep))
        .await?;
    tracing::info!(user = %user_id, ended, "signed out everywhere else");
    Ok(ApiJson(serde_json::json!({ "ended": ended })))
}

/// Ends one of the person's own sessions by the id the sessions page shows.
async fn end_one(
    State(state): State<AppState>,
    session: Session,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<StatusCode, Error> {
    let user_id = session.actor.user_id;
    let ended = state
        .store
        .write(move |db| store::end_session_of(db, user_id, &id))
        .await?;
    if ended {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Error::NotFound)
    }
}
