//! The server: the JSON API under `/api`, the built app from `dist/`, SQLite underneath.
//!
//! [`app`] builds the whole HTTP surface from a state, so tests drive exactly what runs in
//! production, through `oneshot` or over a real socket.

pub mod actions;
pub mod admin;
pub mod answers;
pub mod audit;
pub mod auth;
pub mod calendar;
pub mod cli;
pub mod demo;
pub mod directory;
pub mod email_api;
pub mod error;
pub mod exports;
pub mod listen;
pub mod live;
pub mod mail;
pub mod measures;
pub mod metrics;
pub mod second_factor;
pub mod sso;
pub mod static_files;
pub mod store;
pub mod sync_api;

use std::path::PathBuf;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::header::{self, HeaderName, HeaderValue};
use axum::http::Method;
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use self::error::Error;
use self::store::Store;
use crate::core::calendar::BankHolidays;

/// Largest request body the API reads (a push of 500 changes fits easily).
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// Header every state-changing API request must carry. Browsers cannot add it to a cross-site
/// form post, so together with SameSite=Strict cookies it stops cross-site request forgery.
pub const APP_HEADER: &str = "x-requested-with";
/// The value of [`APP_HEADER`] the app sends.
pub const APP_HEADER_VALUE: &str = "mdt-app";

/// The Content Security Policy of every response: only the app's own files, no inline or
/// eval'd script (wasm compilation is allowed), no plugins, no `<base>`, never framed.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/// HSTS sent when people reach the server over HTTPS: a year, subdomains included.
pub const STRICT_TRANSPORT_SECURITY: &str = "max-age=31536000; includeSubDomains";

/// Settings fixed at start-up.
#[derive(Debug, Clone)]
pub struct Config {
    /// People reach the server over HTTPS (directly or through a TLS proxy): the session
    /// cookie is marked `Secure` and responses carry HSTS.
    pub secure_cookies: bool,
    /// The built app (Trunk's `dist/`); `None` serves only the API.
    pub dist_dir: Option<PathBuf>,
    /// Bank holidays the slot finder skips (replaceable without rebuilding).
    pub bank_holidays: Arc<BankHolidays>,
    /// The server runs behind a reverse proxy that appends the client's address to
    /// `X-Forwarded-For`: sign-in limits count that address, not the proxy's (which would
    /// otherwise lock a whole region out after a few failed sign-ins).
    pub behind_proxy: bool,
    /// Sent as `X-MDT-Server` on every response, to tell the servers of a region apart (in
    /// logs and tests); not sent when `None`.
    pub server_name: Option<String>,
    /// The app's address as people reach it (`https://mdt.practice.nhs.uk`): links in emails,
    /// and where single sign-on providers send people back (`{public_url}/api/sso/callback`).
    pub public_url: Option<String>,
    /// The bearer token a scraper must send for `GET /metrics`; without one there is no
    /// `/metrics` ([`metrics`]).
    pub metrics_token: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            secure_cookies: false,
            dist_dir: None,
            bank_holidays: Arc::new(BankHolidays::shipped()),
            behind_proxy: false,
            server_name: None,
            public_url: None,
            metrics_token: None,
        }
    }
}

/// What every request handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<Config>,
    /// Set once when the server starts shutting down: live-update streams end, so the
    /// graceful shutdown only waits for requests in flight.
    pub shutdown: Arc<tokio::sync::watch::Sender<bool>>,
    /// What this server has learnt about single sign-on providers (discovery, keys).
    pub sso: Arc<sso::Providers>,
    /// Connections open and turned away by the accept loop ([`listen`]).
    pub connections: Arc<listen::Counters>,
    /// The live-update streams open on this server, by account ([`live::Streams`]).
    pub streams: Arc<live::Streams>,
    /// What `GET /metrics` reports ([`metrics`]).
    pub metrics: metrics::Shared,
}

impl AppState {
    /// State over an opened store.
    pub fn new(store: Store, config: Config) -> Self {
        Self {
            metrics: Arc::new(metrics::Metrics::new(&store)),
            store,
            config: Arc::new(config),
            shutdown: Arc::new(tokio::sync::watch::channel(false).0),
            sso: Arc::new(sso::Providers::default()),
            connections: Arc::new(listen::Counters::default()),
            streams: Arc::new(live::Streams::default()),
        }
    }
}

/// The whole HTTP surface: `/api/...` and the app.
pub fn app(state: AppState) -> Router {
    let api = Router::new()
        .merge(auth::router())
        .merge(sync_api::router())
        .merge(live::router())
        .merge(directory::router())
        .merge(actions::router())
        .merge(measures::router())
        .merge(exports::router())
        .merge(email_api::router())
        .merge(calendar::router())
        .merge(audit::router())
        .merge(admin::router())
        .merge(sso::router())
        .merge(second_factor::router())
        .route("/api/version", axum::routing::get(version))
        .route("/api/{*rest}", any(|| async { Error::NotFound }))
        .layer(middleware::from_fn(require_app_header))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ));

    let https = state.config.secure_cookies;
    let server_name = state
        .config
        .server_name
        .as_deref()
        .and_then(|n| HeaderValue::from_str(n).ok());
    let router = Router::new()
        .merge(api)
        .merge(answers::router())
        .route("/healthz", axum::routing::get(health))
        .route("/metrics", axum::routing::get(metrics::scrape));
    let router = match &state.config.dist_dir {
        Some(dist) => router.merge(static_files::router(dist)),
        None => router.fallback(|| async { Html(NOT_BUILT_PAGE) }),
    };
    router
        .layer(middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .with_state(state)
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("x-mdt-server"),
            move |_: &Response| server_name.clone(),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            move |_: &Response| https.then(|| HeaderValue::from_static(STRICT_TRANSPORT_SECURITY)),
        ))
        // Answers are smaller over the wire with brotli or gzip; the app's files come
        // compressed already (at build time, at the best level) and pass through untouched.
        .layer(CompressionLayer::new())
        .layer(TraceLayer::new_for_http())
        .layer(CatchPanicLayer::custom(panic_response))
}

/// `GET /api/version`: which release this server runs (no session needed; touches nothing, so
/// it is also the benchmarks' baseline of a trivial JSON route).
async fn version() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({ "version": env!("CARGO_PKG_VERSION") }))
}

/// `GET /healthz`: 200 when this server can reach its database (a load balancer's check),
/// 503 with `Retry-After` when it cannot.
async fn health(axum::extract::State(state): axum::extract::State<AppState>) -> Response {
    let engine = state.store.engine();
    let answer = state
        .store
        .read(|db| store::latest_change(db).map(|_| ()))
        .await;
    match answer {
        Ok(()) => axum::Json(serde_json::json!({
            "status": "ok",
            "database": match engine {
                store::Engine::Sqlite => "sqlite",
                store::Engine::Postgres => "postgres",
            },
        }))
        .into_response(),
        Err(Error::Internal(e)) => {
            tracing::warn!(error = %e, "health check failed");
            Error::Unavailable.into_response()
        }
        Err(e) => e.into_response(),
    }
}

/// A bug in one request answers 500 with the usual message; the server carries on.
fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    Error::Internal(anyhow::anyhow!("a request handler panicked")).into_response()
}

const NOT_BUILT_PAGE: &str = "<!doctype html><title>MDT</title><p>The app has not been built. \
Start it with <code>./scripts/run.sh</code>, which builds it first.</p>";

/// Refuses state-changing API requests that lack the app's header (see [`APP_HEADER`]).
async fn require_app_header(request: Request<Body>, next: Next) -> Response {
    let changes_state = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    let has_header = request
        .headers()
        .get(APP_HEADER)
        .is_some_and(|v| v.as_bytes() == APP_HEADER_VALUE.as_bytes());
    if changes_state && !has_header {
        return Error::Forbidden(format!(
            "This request must come from the MDT app (missing the {APP_HEADER} header)."
        ))
        .into_response();
    }
    next.run(request).await
}
