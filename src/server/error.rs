//! The one error type of the API. Every variant becomes a JSON body with a sentence a person can
//! act on; internal failures are logged and answered with a generic message, so no patient data
//! or internals ever reach the client or the URL.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::core::api::ApiErrorBody;

/// Everything a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No valid session: sign in first.
    #[error("You are not signed in, or your session has ended. Sign in to continue.")]
    Unauthorized,
    /// Wrong email or password (deliberately not saying which).
    #[error("The email address or password is not right. Check them and try again.")]
    BadCredentials,
    /// A request the server cannot act on, with the reason.
    #[error("{0}")]
    BadRequest(String),
    /// Signed in, but not allowed to do this.
    #[error("{0}")]
    Forbidden(String),
    #[error("There is nothing at this address.")]
    NotFound,
    /// Something asked for does not exist, with what to do about it.
    #[error("{0}")]
    NotFoundWith(String),
    /// Too many failed sign-ins for this account or from this address.
    #[error("Too many sign-in attempts. Wait 15 minutes and try again, or ask your administrator to reset your password.")]
    TooManyAttempts,
    /// Too many colleague look-ups by one person in a short time.
    #[error("You have looked up a lot of email addresses in a short time. Wait 15 minutes and try again.")]
    TooManyLookups,
    /// The same thing was done a moment ago (a chase sent today), with when and what to do.
    #[error("{0}")]
    TooSoon(String),
    #[error("The request is too large. Send fewer changes at a time.")]
    PayloadTooLarge,
    #[error("The request must be sent as JSON (Content-Type: application/json).")]
    UnsupportedMediaType,
    /// The disk under the database is full: nothing was saved, the device keeps its changes.
    #[error("The server has run out of storage space, so nothing was saved. Your changes are kept on this device and will be sent again; tell your system administrator.")]
    StorageFull,
    /// The database cannot be reached just now (restarting, or every connection busy): nothing
    /// was saved; try again shortly (the answer says when, in `Retry-After`).
    #[error("The server cannot reach its database just now, so nothing was saved. Your changes are kept on this device; try again in a few seconds.")]
    Unavailable,
    /// A failure inside the server; details are logged, never sent.
    #[error("Something went wrong on the server and nothing was saved. Try again in a minute; if it keeps happening, tell your system administrator.")]
    Internal(#[source] anyhow::Error),
}

impl Error {
    fn status(&self) -> StatusCode {
        match self {
            Self::Unauthorized | Self::BadCredentials => StatusCode::UNAUTHORIZED,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound | Self::NotFoundWith(_) => StatusCode::NOT_FOUND,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::TooManyAttempts | Self::TooManyLookups | Self::TooSoon(_) => {
                StatusCode::TOO_MANY_REQUESTS
            }
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::StorageFull => StatusCode::INSUFFICIENT_STORAGE,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        match &self {
            Self::Internal(e) => tracing::error!(error = %e, "internal error"),
            Self::StorageFull => tracing::error!("the database disk is full"),
            _ => {}
        }
        let body = ApiErrorBody {
            error: self.to_string(),
        };
        let mut response = (self.status(), Json(body)).into_response();
        let retry_after = match self {
            Self::TooManyAttempts | Self::TooManyLookups => Some("900"),
            Self::Unavailable => Some(UNAVAILABLE_RETRY_AFTER_SECONDS),
            _ => None,
        };
        if let Some(seconds) = retry_after {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static(seconds),
            );
        }
        response
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DiskFull) => Self::StorageFull,
            _ => Self::Internal(e.into()),
        }
    }
}

/// What a 503 asks the client to wait, in seconds: a database restart takes a few.
pub const UNAVAILABLE_RETRY_AFTER_SECONDS: &str = "2";

impl From<postgres::Error> for Error {
    fn from(e: postgres::Error) -> Self {
        use postgres::error::SqlState;
        let unavailable = e.is_closed()
            || e.code().is_some_and(|c| {
                [
                    SqlState::ADMIN_SHUTDOWN,
                    SqlState::CRASH_SHUTDOWN,
                    SqlState::CANNOT_CONNECT_NOW,
                    SqlState::CONNECTION_FAILURE,
                    SqlState::CONNECTION_EXCEPTION,
                    SqlState::TOO_MANY_CONNECTIONS,
                    SqlState::READ_ONLY_SQL_TRANSACTION,
                ]
                .contains(c)
            })
            || (e.code().is_none()
                && std::error::Error::source(&e).is_some_and(|s| s.is::<std::io::Error>()));
        let unstorable_text = e.code().is_some_and(|c| {
            [
                SqlState::CHARACTER_NOT_IN_REPERTOIRE,
                SqlState::UNTRANSLATABLE_CHARACTER,
            ]
            .contains(c)
        });
        if e.code() == Some(&SqlState::DISK_FULL) {
            Self::StorageFull
        } else if unstorable_text {
            // A null character typed (or sent) into a form: PostgreSQL stores no such text,
            // and SQLite's answer for the same input is a refusal too, never a 500.
            Self::BadRequest(
                "Something you entered contains a character that cannot be stored (a null character); remove it and try again".into(),
            )
        } else if unavailable {
            tracing::warn!(error = %e, "the database is unavailable");
            Self::Unavailable
        } else {
            Self::Internal(e.into())
        }
    }
}

impl From<anyhow::Error> for Error {
    fn from(e: anyhow::Error) -> Self {
        Self::Internal(e)
    }
}

impl From<JsonRejection> for Error {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::JsonDataError(e) => {
                let detail = e.body_text();
                let detail = detail
                    .strip_prefix("Failed to deserialize the JSON body into the target type: ")
                    .unwrap_or(&detail);
                Self::BadRequest(format!(
                    "The request does not have the expected fields: {detail}"
                ))
            }
            JsonRejection::JsonSyntaxError(_) => {
                Self::BadRequest("The request body is not valid JSON.".into())
            }
            JsonRejection::MissingJsonContentType(_) => Self::UnsupportedMediaType,
            JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Self::PayloadTooLarge
            }
            other => Self::BadRequest(format!(
                "The request body could not be read: {}",
                other.body_text()
            )),
        }
    }
}

impl From<QueryRejection> for Error {
    fn from(rejection: QueryRejection) -> Self {
        Self::BadRequest(format!(
            "The address has a bad parameter: {}",
            rejection.body_text()
        ))
    }
}

/// `Json` that answers bad input with our [`Error`] (a clear 4xx), never axum's plain text.
#[derive(Debug, Clone, Copy, Default, axum::extract::FromRequest)]
#[from_request(via(axum::Json), rejection(Error))]
pub struct ApiJson<T>(pub T);

impl<T: serde::Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        Json(self.0).into_response()
    }
}

/// `Query` that answers bad parameters with our [`Error`].
#[derive(Debug, Clone, Copy, Default, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(Error))]
pub struct ApiQuery<T>(pub T);
