//! The second factor of password accounts: TOTP (RFC 6238, the codes of any authenticator app)
//! and ten one-time recovery codes.
//!
//! After a right password, an account with a second factor, or one that must have one (every
//! site administrator; everyone when the site requires it, `mdt-server second-factor require`),
//! gets no session yet but a waiting sign-in: a random token good for 10 minutes and 5 tries,
//! each try taken before its code is checked, in one statement, so a burst cannot try more. A
//! TOTP code is accepted for the current 30-second step or the one either side, and each step
//! once (a code seen over someone's shoulder cannot be used again). Recovery codes are stored as
//! SHA-256 hashes (80 random bits each, so a hash cannot be walked back) and each works once.
//! Wrong codes count against the account and the address like wrong passwords.
//!
//! People who sign in through their organisation prove the second factor there (CIS2's
//! smartcards and security keys; Entra ID's own rules), so this applies to passwords only.

use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use chrono::Utc;
use totp_rs::{Algorithm, TOTP};

use super::auth::{self, ClientAddress};
use super::error::{ApiJson, Error};
use super::store::{self, UserRow};
use super::AppState;
use crate::core::api::{
    CurrentUser, SecondFactorCode, SecondFactorNeeded, SecondFactorReady, SecondFactorSetUp,
    SecondFactorSetUpRequest,
};

/// The setting that requires a second factor of every password account.
pub const REQUIRED_SETTING: &str = "require_second_factor";
/// Tries one waiting sign-in has for its code.
pub const CODE_ATTEMPTS: i64 = 5;
/// Recovery codes made at set-up.
pub const RECOVERY_CODES: usize = 10;
/// The name authenticator apps show beside the account.
const ISSUER: &str = "MDT coordination";

/// The second factor routes (a waiting sign-in's code, set-up and its confirmation).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/session/second-factor", post(check_code))
        .route("/api/session/second-factor/set-up", post(set_up))
        .route("/api/session/second-factor/confirm", post(confirm))
}

/// Whether the site requires a second factor of every password account.
pub fn required_for_everyone(db: &dyn store::Db) -> Result<bool, Error> {
    Ok(store::setting(db, REQUIRED_SETTING)?.as_deref() == Some("1"))
}

/// After a right password: a session at once, or (`202`) a waiting sign-in when the account
/// has or needs a second factor.
pub(crate) async fn after_password(
    state: &AppState,
    user: UserRow,
    headers: &HeaderMap,
    address: Option<std::net::IpAddr>,
    attempt: uuid::Uuid,
) -> Result<Response, Error> {
    let user_id = user.id;
    let site_admin = user.site_admin;
    let token = auth::random_token();
    let hash = auth::token_hash(&token);
    let waiting = state
        .store
        .write(move |db| {
            let has = store::second_factor(db, user_id)?.is_some_and(|f| f.confirmed);
            let needed = has || site_admin || required_for_everyone(db)?;
            if needed {
                // The password was right: its attempt no longer counts (each code takes one
                // of its own).
                store::release_attempt(db, attempt)?;
                store::insert_pending_sign_in(db, &hash, user_id, Utc::now())?;
            }
            Ok(needed.then_some(!has))
        })
        .await?;
    let Some(set_up) = waiting else {
        let cookie =
            auth::begin_session(state, &user, "password", headers, address, Some(attempt)).await?;
        let mut response = ApiJson(current_user(&user)).into_response();
        response.headers_mut().insert(SET_COOKIE, cookie);
        return Ok(response);
    };
    Ok((
        StatusCode::ACCEPTED,
        ApiJson(SecondFactorNeeded {
            pending: token,
            set_up,
        }),
    )
        .into_response())
}

fn current_user(user: &UserRow) -> CurrentUser {
    CurrentUser {
        user_id: user.id,
        name: user.name.clone(),
        email: user.email.clone(),
        person_id: user.person_id,
        site_admin: user.site_admin,
        signed_in_through_organisation: false,
    }
}

/// The TOTP of a base32 secret: six digits, 30-second steps, SHA-1 (what every authenticator
/// app supports).
fn totp(secret_base32: &str, email: &str) -> Result<TOTP, Error> {
    let secret = totp_rs::Secret::Encoded(secret_base32.to_owned())
        .to_bytes()
        .map_err(|e| Error::Internal(anyhow::anyhow!("stored TOTP secret: {e:?}")))?;
    TOTP::new(
        Algorithm::SHA1,
        6,
        1,
        30,
        secret,
        Some(ISSUER.to_owned()),
        email.replace(':', ""),
    )
    .map_err(|e| Error::Internal(anyhow::anyhow!("TOTP: {e}")))
}

/// The time step whose code `code` is, among the current step and the one either side.
fn matching_step(totp: &TOTP, code: &str, unix_seconds: u64) -> Option<i64> {
    let now = unix_seconds / 30;
    [now.saturating_sub(1), now, now + 1]
        .into_iter()
        .find(|step| constant_time_eq(totp.generate(step * 30).as_bytes(), code.as_bytes()))
        .map(|step| step as i64)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A typed code with its spaces and hyphens taken out, lower case.
fn normalise(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

/// The stored form of a recovery code.
fn recovery_hash(code: &str) -> String {
    auth::token_hash(&format!("recovery:{}", normalise(code)))
}

/// Ten new recovery codes: 16 base32 characters (80 random bits) in groups of four.
fn new_recovery_codes() -> Vec<String> {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";
    (0..RECOVERY_CODES)
        .map(|_| {
            let bytes: [u8; 16] = rand::random();
            let chars: Vec<char> = bytes
                .iter()
                .map(|b| ALPHABET[usize::from(*b) % 32] as char)
                .collect();
            chars
                .chunks(4)
                .map(|c| c.iter().collect::<String>())
                .collect::<Vec<_>>()
                .join("-")
        })
        .collect()
}

/// Takes a try of the waiting sign-in before its code is checked: its account and the
/// attempt counted against the account and the address (released when the code is right), in
/// one transaction so a burst of codes cannot pass the limits. Refused when the sign-in has
/// expired or has no tries left (400, start again) or the account or address has reached its
/// limit of failures (429).
async fn take_try(
    state: &AppState,
    pending: &str,
    address: Option<std::net::IpAddr>,
) -> Result<(UserRow, uuid::Uuid), Error> {
    let hash = auth::token_hash(pending);
    let taken = state
        .store
        .write(move |db| {
            let Some(user_id) = store::try_pending_sign_in(db, &hash, CODE_ATTEMPTS, Utc::now())?
            else {
                return Ok(None);
            };
            let Some(user) = store::find_user_by_id(db, user_id)?.filter(|u| !u.disabled) else {
                return Ok(None);
            };
            let limits = auth::limit_keys(&user.email, address);
            let attempt = store::take_attempt(db, &limits, Utc::now(), auth::ATTEMPT_WINDOW)?;
            Ok(Some((user, attempt)))
        })
        .await?;
    let (user, attempt) = taken.ok_or_else(|| {
        Error::BadRequest(
            "This sign-in has expired or had too many wrong codes. Start again: enter your email address and password.".into(),
        )
    })?;
    Ok((user, attempt.ok_or(Error::TooManyAttempts)?))
}

/// Records a wrong code (its attempt, taken by [`take_try`], already counts against the
/// account and the address): the error to answer with.
async fn wrong_code(
    state: &AppState,
    user: &UserRow,
    address: Option<std::net::IpAddr>,
    reason: &'static str,
) -> Result<Error, Error> {
    let refusal = auth::Refusal {
        email: &user.email,
        user_id: Some(user.id),
        how: "password+second factor",
        reason,
        counts: false,
    };
    auth::record_refusal(state, address, refusal).await?;
    Ok(Error::BadRequest(
        "That code is not right. Enter the 6-digit code your authenticator app shows now, or one of your recovery codes.".into(),
    ))
}

/// A waiting sign-in's code: a TOTP code (each 30-second step once) or a recovery code (each
/// once). The session begins when it is right.
async fn check_code(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    ApiJson(request): ApiJson<SecondFactorCode>,
) -> Result<Response, Error> {
    let (user, attempt) = take_try(&state, &request.pending, address).await?;
    let code = normalise(&request.code);
    let factor = {
        let id = user.id;
        state
            .store
            .read(move |db| store::second_factor(db, id))
            .await?
            .filter(|f| f.confirmed)
            .ok_or_else(|| Error::BadRequest("Set up your authenticator app first.".into()))?
    };
    let (user_id, now) = (user.id, Utc::now());
    let how = if code.len() == 6 && code.chars().all(|c| c.is_ascii_digit()) {
        let step = matching_step(
            &totp(&factor.secret, &user.email)?,
            &code,
            now.timestamp().max(0) as u64,
        );
        let Some(step) = step else {
            return Err(wrong_code(&state, &user, address, "wrong TOTP code").await?);
        };
        let fresh = state
            .store
            .write(move |db| store::take_totp_step(db, user_id, step, false))
            .await?;
        if !fresh {
            return Err(wrong_code(&state, &user, address, "TOTP code already used").await?);
        }
        "password+totp"
    } else {
        let hash = recovery_hash(&code);
        let used = state
            .store
            .write(move |db| store::use_recovery_code(db, user_id, &hash, now))
            .await?;
        if !used {
            return Err(wrong_code(&state, &user, address, "wrong or used recovery code").await?);
        }
        "password+recovery code"
    };
    let pending = auth::token_hash(&request.pending);
    state
        .store
        .write(move |db| store::end_pending_sign_in(db, &pending))
        .await?;
    let cookie = auth::begin_session(&state, &user, how, &headers, address, Some(attempt)).await?;
    let mut response = ApiJson(current_user(&user)).into_response();
    response.headers_mut().insert(SET_COOKIE, cookie);
    Ok(response)
}

/// A new authenticator secret for a waiting sign-in that must set one up: the QR code and the
/// key as text. Asking again replaces a secret not yet confirmed.
async fn set_up(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<SecondFactorSetUpRequest>,
) -> Result<ApiJson<SecondFactorSetUp>, Error> {
    let hash = auth::token_hash(&request.pending);
    // 160 random bits, the size RFC 4226 recommends for HMAC-SHA-1.
    let secret = totp_rs::Secret::Raw(rand::random::<[u8; 20]>().to_vec())
        .to_encoded()
        .to_string();
    let stored = secret.clone();
    let user = state
        .store
        .write(move |db| {
            let Some(user_id) = store::pending_sign_in_user(db, &hash, CODE_ATTEMPTS, Utc::now())?
            else {
                return Ok(None);
            };
            if !store::begin_second_factor(db, user_id, &stored, Utc::now())? {
                return Err(Error::BadRequest(
                    "You already have an authenticator app set up: enter its code.".into(),
                ));
            }
            store::find_user_by_id(db, user_id)
        })
        .await?
        .ok_or_else(|| {
            Error::BadRequest(
                "This sign-in has expired. Start again: enter your email address and password."
                    .into(),
            )
        })?;
    let totp = totp(&secret, &user.email)?;
    let uri = totp.get_url();
    let qr_svg = qrcode::QrCode::new(uri.as_bytes())
        .map_err(|e| Error::Internal(anyhow::anyhow!("QR code: {e}")))?
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    let grouped = secret
        .chars()
        .collect::<Vec<_>>()
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join(" ");
    Ok(ApiJson(SecondFactorSetUp {
        secret: grouped,
        uri,
        qr_svg,
    }))
}

/// Confirms a set-up with a code from the new authenticator: the factor is kept, ten recovery
/// codes are made (shown this once) and the session begins.
async fn confirm(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    ApiJson(request): ApiJson<SecondFactorCode>,
) -> Result<Response, Error> {
    let (user, attempt) = take_try(&state, &request.pending, address).await?;
    let user_id = user.id;
    let factor = state
        .store
        .read(move |db| store::second_factor(db, user_id))
        .await?
        .filter(|f| !f.confirmed)
        .ok_or_else(|| {
            Error::BadRequest("Start setting up your authenticator app again.".into())
        })?;
    let code = normalise(&request.code);
    let now = Utc::now();
    let Some(step) = matching_step(
        &totp(&factor.secret, &user.email)?,
        &code,
        now.timestamp().max(0) as u64,
    ) else {
        return Err(wrong_code(&state, &user, address, "wrong TOTP code at set-up").await?);
    };
    let codes = new_recovery_codes();
    let hashes: Vec<String> = codes.iter().map(|c| recovery_hash(c)).collect();
    let pending = auth::token_hash(&request.pending);
    let confirmed = state
        .store
        .write(move |db| {
            if !store::take_totp_step(db, user_id, step, true)? {
                return Ok(false);
            }
            store::set_recovery_codes(db, user_id, &hashes)?;
            store::end_pending_sign_in(db, &pending)?;
            Ok(true)
        })
        .await?;
    if !confirmed {
        return Err(wrong_code(&state, &user, address, "TOTP code already used").await?);
    }
    let cookie = auth::begin_session(
        &state,
        &user,
        "password+totp",
        &headers,
        address,
        Some(attempt),
    )
    .await?;
    let mut response = ApiJson(SecondFactorReady {
        user: current_user(&user),
        recovery_codes: codes,
    })
    .into_response();
    response.headers_mut().insert(SET_COOKIE, cookie);
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238's SHA-1 test vectors (8 digits there; the same HOTP truncated to 6 here).
    #[test]
    fn codes_match_the_rfc_vectors_and_only_the_steps_either_side() {
        let secret = totp_rs::Secret::Raw(b"12345678901234567890".to_vec())
            .to_encoded()
            .to_string();
        let totp = totp(&secret, "ada.synthetic@example.nhs.net").unwrap();
        // RFC 6238 appendix B: 59 s → 94287082, 1111111109 s → 07081804.
        assert_eq!(totp.generate(59), "287082");
        assert_eq!(totp.generate(1_111_111_109), "081804");
        assert_eq!(matching_step(&totp, "287082", 59), Some(1));
        assert_eq!(
            matching_step(&totp, "287082", 59 + 30),
            Some(1),
            "one step late"
        );
        assert_eq!(
            matching_step(&totp, "287082", 59 + 60),
            None,
            "two steps late"
        );
        assert_eq!(matching_step(&totp, "28708", 59), None);
        assert_eq!(matching_step(&totp, "2870820", 59), None);
    }

    #[test]
    fn recovery_codes_are_long_random_and_typed_any_way() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), RECOVERY_CODES);
        for code in &codes {
            assert_eq!(code.len(), 19, "{code}");
            assert_eq!(
                recovery_hash(code),
                recovery_hash(&code.to_uppercase().replace('-', " "))
            );
        }
        assert_ne!(recovery_hash(&codes[0]), recovery_hash(&codes[1]));
    }
}
