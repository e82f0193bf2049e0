//! `/api/admin/...`: site administrators manage accounts — list, add, disable, enable, set a new
//! password. They see accounts only (name, email, role, status): being a site administrator
//! gives no access to teams or patients, which are seen only through team membership like
//! anyone else's (DESIGN §2.7, "need to know").

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::Router;
use chrono::Utc;
use uuid::Uuid;

use super::auth::{hash_password, Session};
use super::demo::{add_user, NewUser};
use super::error::{ApiJson, Error};
use super::store::{self, AccountRow};
use super::AppState;
use crate::core::api::{Account, NewAccount, PasswordReset};
use crate::core::entities::{Person, Role};

/// The account administration routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/admin/accounts", get(list).post(create))
        .route("/api/admin/accounts/{id}/disable", post(disable))
        .route("/api/admin/accounts/{id}/enable", post(enable))
        .route("/api/admin/accounts/{id}/password", post(reset_password))
        .route("/api/admin/accounts/{id}/sessions/end", post(end_sessions))
        .route("/api/admin/sign-in", axum::routing::get(sign_in_settings))
        .route(
            "/api/admin/sign-in/second-factor",
            axum::routing::put(set_second_factor_rule),
        )
        .route(
            "/api/admin/sign-in/providers/{id}",
            axum::routing::put(put_provider).delete(remove_provider),
        )
}

/// Refuses (403) anyone but a site administrator.
fn require_admin(session: &Session) -> Result<(), Error> {
    if session.site_admin {
        Ok(())
    } else {
        Err(Error::Forbidden(
            "Only site administrators can manage accounts.".into(),
        ))
    }
}

fn account(db: &dyn store::Db, row: AccountRow) -> Result<Account, Error> {
    // The role comes from the person's own directory entry.
    let role = store::records_by_id::<Person>(db, [row.user.person_id])?
        .remove(&row.user.person_id)
        .map_or(Role::Other, |p| p.role);
    Ok(Account {
        user_id: row.user.id,
        email: row.user.email,
        name: row.user.name,
        role,
        disabled: row.user.disabled,
        site_admin: row.user.site_admin,
        created_at: row.created_at,
        last_active: row.last_active,
    })
}

async fn list(
    State(state): State<AppState>,
    session: Session,
) -> Result<ApiJson<Vec<Account>>, Error> {
    require_admin(&session)?;
    let accounts = state
        .store
        .read(|db| {
            store::accounts(db, None)?
                .into_iter()
                .map(|row| account(db, row))
                .collect::<Result<Vec<_>, _>>()
        })
        .await?;
    Ok(ApiJson(accounts))
}

async fn create(
    State(state): State<AppState>,
    admin: Session,
    ApiJson(new): ApiJson<NewAccount>,
) -> Result<ApiJson<Account>, Error> {
    require_admin(&admin)?;
    let store = state.store.clone();
    let user = tokio::task::spawn_blocking(move || {
        let person = NewUser {
            email: &new.email,
            name: &new.name,
            role: new.role,
            password: &new.password,
        };
        let Some(provider) = new.sso.as_deref().filter(|p| !p.is_empty()) else {
            return add_user(&store, &person, Utc::now());
        };
        if store
            .read_blocking(|db| store::provider(db, provider))?
            .is_none()
        {
            return Err(Error::BadRequest(format!(
                "There is no single sign-on provider called {provider}."
            )));
        }
        let user = super::demo::add_user_without_password(&store, &person, Utc::now())?;
        store.write_blocking(|db| store::set_invitation(db, &user.email, Some(provider)))?;
        Ok(user)
    })
    .await
    .map_err(|e| Error::Internal(e.into()))??;
    tracing::info!(admin = %admin.actor.user_id, user = %user.id, "account added");
    let id = user.id;
    let account = state
        .store
        .read(move |db| {
            let row = store::accounts(db, Some(id))?
                .pop()
                .ok_or(Error::NotFound)?;
            account(db, row)
        })
        .await?;
    Ok(ApiJson(account))
}

/// The email of the account `id`, refusing changes to one's own account (so an administrator
/// cannot lock everyone out by disabling themselves).
async fn target(state: &AppState, admin: &Session, id: &str) -> Result<String, Error> {
    let id = Uuid::parse_str(id).map_err(|_| Error::NotFound)?;
    if id == admin.actor.user_id {
        return Err(Error::BadRequest(
            "You cannot disable or reset your own account here; ask another site administrator."
                .into(),
        ));
    }
    let user = state
        .store
        .read(move |db| store::find_user_by_id(db, id))
        .await?
        .ok_or(Error::NotFound)?;
    Ok(user.email)
}

async fn set_disabled(
    state: AppState,
    admin: Session,
    id: String,
    disabled: bool,
) -> Result<ApiJson<serde_json::Value>, Error> {
    require_admin(&admin)?;
    let email = target(&state, &admin, &id).await?;
    state
        .store
        .write(move |db| store::set_disabled(db, &email, disabled))
        .await?;
    tracing::info!(admin = %admin.actor.user_id, account = %id, disabled, "account changed");
    Ok(ApiJson(serde_json::json!({ "disabled": disabled })))
}

async fn disable(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Result<ApiJson<serde_json::Value>, Error> {
    set_disabled(state, session, id, true).await
}

async fn enable(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Result<ApiJson<serde_json::Value>, Error> {
    set_disabled(state, session, id, false).await
}

async fn reset_password(
    State(state): State<AppState>,
    admin: Session,
    Path(id): Path<String>,
    ApiJson(reset): ApiJson<PasswordReset>,
) -> Result<ApiJson<serde_json::Value>, Error> {
    require_admin(&admin)?;
    crate::core::validation::password(&reset.password).map_err(|e| Error::BadRequest(e.message))?;
    let email = target(&state, &admin, &id).await?;
    let hash = tokio::task::spawn_blocking(move || hash_password(&reset.password))
        .await
        .map_err(|e| Error::Internal(e.into()))?
        .map_err(Error::Internal)?;
    state
        .store
        .write(move |db| store::set_password_hash(db, &email, &hash))
        .await?;
    tracing::info!(admin = %admin.actor.user_id, account = %id, "password reset");
    Ok(ApiJson(serde_json::json!({ "sessions_ended": true })))
}

/// Ends every session of an account at once (a stolen laptop, someone who has left), wherever
/// they signed in and however; the account can still sign in again.
async fn end_sessions(
    State(state): State<AppState>,
    admin: Session,
    Path(id): Path<String>,
) -> Result<axum::http::StatusCode, Error> {
    require_admin(&admin)?;
    let email = target(&state, &admin, &id).await?;
    let ended = email.clone();
    state
        .store
        .write(move |db| store::end_sessions_of(db, &ended))
        .await?;
    tracing::info!(admin = %admin.actor.user_id, "ended every session of an account");
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// How people sign in: the second-factor rule and the single sign-on providers (no secrets),
/// with what to register with a provider.
async fn sign_in_settings(
    State(state): State<AppState>,
    admin: Session,
) -> Result<ApiJson<crate::core::sign_in::SignInSettings>, Error> {
    require_admin(&admin)?;
    let (required, providers) = state
        .store
        .read(|db| {
            Ok((
                super::second_factor::required_for_everyone(db)?,
                store::providers(db)?,
            ))
        })
        .await?;
    let base = state
        .config
        .public_url
        .as_deref()
        .map(|u| u.trim_end_matches('/').to_owned());
    Ok(ApiJson(crate::core::sign_in::SignInSettings {
        second_factor_required: required,
        providers: providers.into_iter().map(|p| p.settings).collect(),
        redirect_uri: base.as_ref().map(|b| format!("{b}/api/sso/callback")),
        jwks_uri: base.map(|b| format!("{b}/api/sso/jwks.json")),
    }))
}

/// Requires a second factor of every password account, or only of site administrators.
async fn set_second_factor_rule(
    State(state): State<AppState>,
    admin: Session,
    ApiJson(rule): ApiJson<crate::core::sign_in::SecondFactorRule>,
) -> Result<axum::http::StatusCode, Error> {
    require_admin(&admin)?;
    state
        .store
        .write(move |db| {
            store::set_setting(
                db,
                super::second_factor::REQUIRED_SETTING,
                if rule.required { "1" } else { "0" },
            )
        })
        .await?;
    tracing::info!(admin = %admin.actor.user_id, required = rule.required, "second-factor rule changed");
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// Adds a single sign-on provider, or changes one (a secret or key left out is kept).
async fn put_provider(
    State(state): State<AppState>,
    admin: Session,
    Path(id): Path<String>,
    ApiJson(update): ApiJson<crate::core::sign_in::ProviderUpdate>,
) -> Result<ApiJson<crate::core::sign_in::ProviderSettings>, Error> {
    use crate::core::sign_in::ClientAuthentication;
    require_admin(&admin)?;
    let mut settings = update.settings;
    if settings.id != id {
        return Err(Error::BadRequest(
            "The provider's short name cannot change: remove it and add it again.".into(),
        ));
    }
    settings.issuer = settings.issuer.trim().trim_end_matches('/').to_owned();
    settings.label = settings.label.trim().to_owned();
    settings.domains = crate::core::sign_in::parse_domains(&settings.domains.join(" "));
    settings
        .validate()
        .map_err(|e| Error::BadRequest(e.message))?;
    let secret = update
        .client_secret
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty());
    let pem = update
        .private_key_pem
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty());
    if let Some(pem) = &pem {
        super::sso::signing_key(pem).map_err(Error::BadRequest)?;
    }
    if secret
        .as_ref()
        .is_some_and(|s| s.len() > 1000 || s.chars().any(char::is_control))
    {
        return Err(Error::BadRequest(
            "Enter the client secret on one line.".into(),
        ));
    }
    let stored = settings.clone();
    state
        .store
        .write(move |db| {
            let existing = store::provider(db, &stored.id)?;
            let (client_secret, private_key_pem) = match stored.client_authentication {
                ClientAuthentication::Secret => (
                    secret.or_else(|| existing.and_then(|e| e.client_secret)),
                    None,
                ),
                ClientAuthentication::PrivateKeyJwt => (
                    None,
                    pem.or_else(|| existing.and_then(|e| e.private_key_pem)),
                ),
            };
            match (
                &stored.client_authentication,
                &client_secret,
                &private_key_pem,
            ) {
                (ClientAuthentication::Secret, None, _) => {
                    return Err(Error::BadRequest(
                        "Enter the client secret the provider gave you.".into(),
                    ))
                }
                (ClientAuthentication::PrivateKeyJwt, _, None) => {
                    return Err(Error::BadRequest(
                        "Paste the RSA private key (PEM) this app signs with for the provider."
                            .into(),
                    ))
                }
                _ => {}
            }
            store::put_provider(
                db,
                &store::ProviderRow {
                    settings: stored,
                    client_secret,
                    private_key_pem,
                },
                Utc::now(),
            )
        })
        .await?;
    tracing::info!(admin = %admin.actor.user_id, provider = %settings.id, "single sign-on provider set");
    Ok(ApiJson(settings))
}

/// Removes a single sign-on provider: its button goes and nobody signs in through it.
async fn remove_provider(
    State(state): State<AppState>,
    admin: Session,
    Path(id): Path<String>,
) -> Result<axum::http::StatusCode, Error> {
    require_admin(&admin)?;
    let removed = state
        .store
        .write(move |db| store::remove_provider(db, &id))
        .await?;
    if removed {
        Ok(axum::http::StatusCode::NO_CONTENT)
    } else {
        Err(Error::NotFound)
    }
}
