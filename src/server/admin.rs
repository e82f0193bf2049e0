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
        add_user(
            &store,
            &NewUser {
                email: &new.email,
                name: &new.name,
                role: new.role,
                password: &new.password,
            },
            Utc::now(),
        )
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
