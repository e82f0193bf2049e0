//! The one typed client of the JSON API. Components call these functions; none builds a URL.

use gloo_net::http::{Request, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::core::api::{ApiErrorBody, Colleague, ColleagueLookup, CurrentUser, SignInRequest};
use crate::core::sync::{PullResponse, PushRequest, PushResponse, RawPullResponse};
use crate::web::client::tasks;

/// Header the server requires on state-changing requests (CSRF defence).
const APP_HEADER: (&str, &str) = ("X-Requested-With", "mdt-app");

/// Why a call to the server did not work, in words for the person using the app.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApiError {
    /// No answer: offline, server down, or the connection dropped.
    #[error("The server cannot be reached. Your changes are kept on this device and will be sent when the connection is back.")]
    Unreachable,
    /// The session has ended.
    #[error("Your session has ended. Sign in again to carry on; unsent changes are kept.")]
    SignedOut,
    /// The server is up but could not do it now (5xx, e.g. its disk is full), with its
    /// explanation: worth trying again later, like [`ApiError::Unreachable`].
    #[error("{0}")]
    Unavailable(String),
    /// The server refused, with its explanation.
    #[error("{0}")]
    Refused(String),
}

impl ApiError {
    /// Sending the same thing again later may work.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Unreachable | Self::Unavailable(_))
    }
}

async fn send<T: DeserializeOwned>(
    request: Result<gloo_net::http::Request, gloo_net::Error>,
) -> Result<T, ApiError> {
    let request = request
        .map_err(|e| ApiError::Refused(format!("The request could not be prepared: {e}")))?;
    let response = request.send().await.map_err(|_| ApiError::Unreachable)?;
    read(response).await
}

/// An answer the app cannot read (a server of another version).
fn not_understood() -> ApiError {
    ApiError::Refused(
        "The server sent an answer this version of the app does not understand. Reload the page."
            .into(),
    )
}

async fn read<T: DeserializeOwned>(response: Response) -> Result<T, ApiError> {
    if response.ok() {
        return response.json::<T>().await.map_err(|_| not_understood());
    }
    Err(refusal(response).await)
}

/// Why the server did not answer with what was asked for (a response that is not OK).
async fn refusal(response: Response) -> ApiError {
    if response.status() == 401 && !response.url().ends_with("/api/session") {
        return ApiError::SignedOut;
    }
    // Proxies and crashed servers answer with HTML; only trust our JSON error bodies.
    match response.json::<ApiErrorBody>().await {
        Ok(body) if response.status() >= 500 => ApiError::Unavailable(body.error),
        Ok(body) => ApiError::Refused(body.error),
        Err(_) if response.status() >= 500 => ApiError::Unreachable,
        Err(_) => ApiError::Refused(format!(
            "The server refused the request ({}).",
            response.status()
        )),
    }
}

fn post_json(url: &str, body: &impl Serialize) -> Result<Request, gloo_net::Error> {
    with_app_header(Request::post(url)).json(body)
}

fn with_app_header(builder: RequestBuilder) -> RequestBuilder {
    builder.header(APP_HEADER.0, APP_HEADER.1)
}

/// Where a sign-in with a password got to.
#[derive(Debug, Clone, PartialEq)]
pub enum SignInStep {
    /// Signed in: the server has set the session cookie.
    SignedIn(CurrentUser),
    /// The password was right; a code from the authenticator app (or a recovery code) is next,
    /// or setting the app up first.
    SecondFactor(crate::core::api::SecondFactorNeeded),
}

/// Signs in with a password.
pub async fn sign_in(email: &str, password: &str) -> Result<SignInStep, ApiError> {
    let body = SignInRequest {
        email: email.to_owned(),
        password: password.to_owned(),
    };
    let request = post_json("/api/session", &body)
        .map_err(|e| ApiError::Refused(format!("The request could not be prepared: {e}")))?;
    let response = request.send().await.map_err(|_| ApiError::Unreachable)?;
    if response.status() == 202 {
        return read(response).await.map(SignInStep::SecondFactor);
    }
    read(response).await.map(SignInStep::SignedIn)
}

/// A code for a sign-in waiting for its second factor; the server sets the session cookie.
pub async fn second_factor_code(pending: &str, code: &str) -> Result<CurrentUser, ApiError> {
    let body = crate::core::api::SecondFactorCode {
        pending: pending.to_owned(),
        code: code.to_owned(),
    };
    send(post_json("/api/session/second-factor", &body)).await
}

/// A new authenticator secret (QR code and key) for a sign-in that must set one up.
pub async fn second_factor_set_up(
    pending: &str,
) -> Result<crate::core::api::SecondFactorSetUp, ApiError> {
    let body = crate::core::api::SecondFactorSetUpRequest {
        pending: pending.to_owned(),
    };
    send(post_json("/api/session/second-factor/set-up", &body)).await
}

/// Finishes setting up the authenticator with a code from it: signed in, with the recovery
/// codes to keep.
pub async fn second_factor_confirm(
    pending: &str,
    code: &str,
) -> Result<crate::core::api::SecondFactorReady, ApiError> {
    let body = crate::core::api::SecondFactorCode {
        pending: pending.to_owned(),
        code: code.to_owned(),
    };
    send(post_json("/api/session/second-factor/confirm", &body)).await
}

/// The ways to sign in through an organisation, for the sign-in page (asked before anyone
/// has signed in).
pub async fn sign_in_options() -> Result<crate::core::sign_in::SignInOptions, ApiError> {
    send(Request::get("/api/sign-in/options").build()).await
}

/// Where the browser goes to sign in through the provider `provider_id`: a whole-page
/// navigation, since the provider's own pages follow.
pub fn sign_in_through(provider_id: &str) -> String {
    let id: String = provider_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    format!("/api/sso/{id}/start")
}

/// The signed-in user, or `None` when there is no session.
pub async fn current_user() -> Result<Option<CurrentUser>, ApiError> {
    let response = Request::get("/api/session/probe")
        .send()
        .await
        .map_err(|_| ApiError::Unreachable)?;
    if response.status() == 204 || response.status() == 401 {
        return Ok(None);
    }
    read(response).await.map(Some)
}

/// The server's half of the key to this user's offline copy.
pub async fn device_key() -> Result<String, ApiError> {
    send::<crate::core::api::DeviceKey>(Request::get("/api/session/device-key").build())
        .await
        .map(|k| k.device_key)
}

/// One line of a patient's access history (coordinators only).
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct AccessLine {
    pub at: chrono::DateTime<chrono::Utc>,
    pub who: String,
    pub what: String,
    pub record: String,
    pub session: String,
}

/// Who saw or changed a patient's records, newest first (the team's coordinator only).
pub async fn patient_access(patient: uuid::Uuid) -> Result<Vec<AccessLine>, ApiError> {
    send(Request::get(&format!("/api/patients/{patient}/access")).build()).await
}

/// Reports records opened while offline, for the audit trail.
pub async fn report_views(
    views: &[(uuid::Uuid, chrono::DateTime<chrono::Utc>)],
) -> Result<(), ApiError> {
    let body = serde_json::json!({
        "views": views.iter().map(|(id, at)| serde_json::json!({"record_id": id, "at": at})).collect::<Vec<_>>()
    });
    send::<serde_json::Value>(post_json("/api/audit/views", &body))
        .await
        .map(drop)
}

/// Every account (site administrators only).
pub async fn accounts() -> Result<Vec<crate::core::api::Account>, ApiError> {
    send(Request::get("/api/admin/accounts").build()).await
}

/// Adds an account (site administrators only).
pub async fn add_account(
    new: &crate::core::api::NewAccount,
) -> Result<crate::core::api::Account, ApiError> {
    send(post_json("/api/admin/accounts", new)).await
}

/// Sends a request whose answer has no body (`204 No Content`).
async fn send_for_nothing(
    request: Result<gloo_net::http::Request, gloo_net::Error>,
) -> Result<(), ApiError> {
    let request = request
        .map_err(|e| ApiError::Refused(format!("The request could not be prepared: {e}")))?;
    let response = request.send().await.map_err(|_| ApiError::Unreachable)?;
    if response.ok() {
        Ok(())
    } else {
        Err(refusal(response).await)
    }
}

/// Posts to `url` for an answer with no body.
async fn post_for_nothing(url: &str) -> Result<(), ApiError> {
    send_for_nothing(post_json(url, &serde_json::json!({}))).await
}

/// Ends every session of an account at once (site administrators only).
pub async fn end_account_sessions(user: uuid::Uuid) -> Result<(), ApiError> {
    post_for_nothing(&format!("/api/admin/accounts/{user}/sessions/end")).await
}

/// How people sign in: the second-factor rule and the providers (site administrators only).
pub async fn sign_in_settings() -> Result<crate::core::sign_in::SignInSettings, ApiError> {
    send(Request::get("/api/admin/sign-in").build()).await
}

/// Requires a second factor of every password account, or only of site administrators.
pub async fn set_second_factor_rule(required: bool) -> Result<(), ApiError> {
    let rule = crate::core::sign_in::SecondFactorRule { required };
    send_for_nothing(with_app_header(Request::put("/api/admin/sign-in/second-factor")).json(&rule))
        .await
}

/// Adds or changes a single sign-on provider.
pub async fn put_provider(
    update: &crate::core::sign_in::ProviderUpdate,
) -> Result<crate::core::sign_in::ProviderSettings, ApiError> {
    let id: String = update
        .settings
        .id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    send(with_app_header(Request::put(&format!("/api/admin/sign-in/providers/{id}"))).json(update))
        .await
}

/// Removes a single sign-on provider.
pub async fn remove_provider(id: &str) -> Result<(), ApiError> {
    let id: String = id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    send_for_nothing(
        with_app_header(Request::delete(&format!(
            "/api/admin/sign-in/providers/{id}"
        )))
        .build(),
    )
    .await
}

/// Where the signed-in person is signed in.
pub async fn my_sessions() -> Result<Vec<crate::core::sign_in::SessionInfo>, ApiError> {
    send(Request::get("/api/session/all").build()).await
}

/// Ends one of the person's own sessions (by the id the sessions page shows).
pub async fn end_my_session(id: &str) -> Result<(), ApiError> {
    let id: String = id.chars().filter(char::is_ascii_hexdigit).collect();
    post_for_nothing(&format!("/api/session/{id}/end")).await
}

/// Signs the person out everywhere but this browser.
pub async fn end_my_other_sessions() -> Result<(), ApiError> {
    send::<serde_json::Value>(post_json("/api/session/end-others", &serde_json::json!({})))
        .await
        .map(drop)
}

/// Stops an account signing in and ends its sessions, or lets it sign in again.
pub async fn set_account_disabled(user: uuid::Uuid, disabled: bool) -> Result<(), ApiError> {
    let what = if disabled { "disable" } else { "enable" };
    send::<serde_json::Value>(post_json(
        &format!("/api/admin/accounts/{user}/{what}"),
        &serde_json::json!({}),
    ))
    .await
    .map(drop)
}

/// Sets a new password for an account and ends its sessions.
pub async fn reset_account_password(user: uuid::Uuid, password: &str) -> Result<(), ApiError> {
    send::<serde_json::Value>(post_json(
        &format!("/api/admin/accounts/{user}/password"),
        &crate::core::api::PasswordReset {
            password: password.to_owned(),
        },
    ))
    .await
    .map(drop)
}

/// Ends the session on the server.
pub async fn sign_out() -> Result<(), ApiError> {
    let response = with_app_header(Request::delete("/api/session"))
        .send()
        .await
        .map_err(|_| ApiError::Unreachable)?;
    if response.ok() || response.status() == 401 {
        Ok(())
    } else {
        read::<serde_json::Value>(response).await.map(drop)
    }
}

/// Which of a team's coordinator and members cannot sign in, for the coordinator to act for
/// them. Online only: offline, the page says nothing rather than guessing.
pub async fn members_without_accounts(
    team: uuid::Uuid,
) -> Result<crate::core::api::MembersWithoutAccounts, ApiError> {
    send(Request::get(&format!("/api/teams/{team}/without-accounts")).build()).await
}

/// Finds a colleague who can sign in, by their exact email.
pub async fn lookup_colleague(email: &str) -> Result<Colleague, ApiError> {
    send(post_json(
        "/api/directory/lookup",
        &ColleagueLookup {
            email: email.to_owned(),
        },
    ))
    .await
}

/// Where the browser downloads a team's actions as CSV (the session cookie goes with it).
pub fn actions_csv_url(team: uuid::Uuid) -> String {
    format!("/api/teams/{team}/actions.csv")
}

/// The query string of a measures request (dates and a cut: nothing to escape).
fn measures_query(query: &crate::core::measures::MeasuresQuery) -> String {
    let mut parts = Vec::new();
    if let Some(from) = query.from {
        parts.push(format!("from={from}"));
    }
    if let Some(to) = query.to {
        parts.push(format!("to={to}"));
    }
    if let Some(by) = &query.by {
        parts.push(format!("by={by}"));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

/// A team's measures, worked out by the server over the team's whole history. Online only.
pub async fn team_measures(
    team: uuid::Uuid,
    query: &crate::core::measures::MeasuresQuery,
) -> Result<crate::core::measures::TeamMeasures, ApiError> {
    send(
        Request::get(&format!(
            "/api/teams/{team}/measures{}",
            measures_query(query)
        ))
        .build(),
    )
    .await
}

/// Where the browser downloads the same measures as CSV.
pub fn measures_csv_url(team: uuid::Uuid, query: &crate::core::measures::MeasuresQuery) -> String {
    format!("/api/teams/{team}/measures.csv{}", measures_query(query))
}

/// Where the browser downloads a meeting as a FHIR R4 bundle (what the reader may see of it).
pub fn meeting_fhir_url(meeting: uuid::Uuid) -> String {
    format!("/api/meetings/{meeting}/bundle.fhir.json")
}

/// Where the browser downloads a meeting's calendar file.
pub fn meeting_calendar_url(meeting: uuid::Uuid) -> String {
    format!("/api/meetings/{meeting}/calendar.ics")
}

/// The bank holidays the server uses (replaceable by an administrator).
pub async fn bank_holidays() -> Result<crate::core::calendar::BankHolidays, ApiError> {
    send(Request::get("/api/bank-holidays").build()).await
}

/// Whether the server sends email, and the signed-in person's choices.
pub async fn email_settings() -> Result<crate::core::api::EmailSettings, ApiError> {
    send(Request::get("/api/email").build()).await
}

/// Stores the signed-in person's choice of emails.
pub async fn set_email_preferences(
    preferences: &crate::core::mail::MailPreferences,
) -> Result<crate::core::api::EmailSettings, ApiError> {
    send(with_app_header(Request::put("/api/email/preferences")).json(preferences)).await
}

/// The coordinator's chase of a missing brief or an overdue action; whom it went to.
pub async fn chase(
    what: &crate::core::api::ChaseBody,
) -> Result<crate::core::api::ChaseSent, ApiError> {
    send(post_json("/api/chase", what)).await
}

/// Where the browser downloads a series' calendar file.
pub fn series_calendar_url(series: uuid::Uuid) -> String {
    format!("/api/series/{series}/calendar.ics")
}

/// The open live-update stream (`/api/sync/events`): the server says "pull now" whenever a
/// change concerns one of the person's teams. Closed when dropped; while open, the browser
/// reconnects by itself after a drop.
pub struct LiveUpdates {
    source: web_sys::EventSource,
    _on_change: wasm_bindgen::closure::Closure<dyn Fn()>,
}

impl Drop for LiveUpdates {
    fn drop(&mut self) {
        self.source.close();
    }
}

/// Opens the live-update stream; `on_change` runs at each "pull now". `None` when the browser
/// cannot open one (polling carries on regardless).
pub fn live_updates(on_change: impl Fn() + 'static) -> Option<LiveUpdates> {
    use wasm_bindgen::JsCast;
    let source = web_sys::EventSource::new("/api/sync/events").ok()?;
    let on_change = wasm_bindgen::closure::Closure::<dyn Fn()>::new(on_change);
    source
        .add_event_listener_with_callback("change", on_change.as_ref().unchecked_ref())
        .ok()?;
    Some(LiveUpdates {
        source,
        _on_change: on_change,
    })
}

/// Sends queued changes.
pub async fn push(request: &PushRequest) -> Result<PushResponse, ApiError> {
    send(post_json("/api/sync/push", request)).await
}

/// Fetches changes after `since`, reading the answer a few records at a time (a first sync
/// brings a thousand a page) and handing the page back to the browser between slices.
pub async fn pull(since: u64) -> Result<PullResponse, ApiError> {
    let response = Request::get("/api/sync/pull")
        .query([("since", since.to_string())])
        .send()
        .await
        .map_err(|_| ApiError::Unreachable)?;
    if !response.ok() {
        return Err(refusal(response).await);
    }
    // As bytes: copied into the app's memory as they are, where text would be converted from
    // the browser's UTF-16 (a third of a phone's time on a page of a thousand records).
    let bytes = response.binary().await.map_err(|_| ApiError::Unreachable)?;
    let mut slices = tasks::Slices::start();
    let text = std::str::from_utf8(&bytes).map_err(|_| not_understood())?;
    let raw = RawPullResponse::parse(text).map_err(|_| not_understood())?;
    slices.pause_if_due().await;
    let mut records = Vec::with_capacity(raw.records.len());
    for record in &raw.records {
        records.push(RawPullResponse::record(record).map_err(|_| not_understood())?);
        slices.pause_if_due().await;
    }
    Ok(raw.with_records(records))
}
