//! `GET /metrics`: what an operator watches, in the Prometheus text format (issue 30), from
//! the Prometheus project's own crate (`prometheus-client`).
//!
//! Off unless the server is started with `--metrics-token`; then the scraper sends it as
//! `Authorization: Bearer <token>`, and anything else is answered 404, as if there were no
//! such page (the figures say how busy a practice is and when people sign in).
//!
//! - `mdt_http_requests_total{route,method,status}` and
//!   `mdt_http_request_duration_seconds{route,method}`: `route` is the route's pattern
//!   (`/api/teams/{team}/…`), or `other` for the app's files and unknown addresses, so the
//!   number of series stays bounded whatever is asked for.
//! - `mdt_db_wait_seconds` and `mdt_db_wait_timeouts_total`: waits for a turn at the database.
//! - `mdt_push_mutations_total{result}`: changes pushed, applied, rejected or in conflict.
//! - `mdt_sign_in_refusals_total{reason}`: refused sign-ins (wrong password, too many attempts).
//! - `mdt_live_streams`, `mdt_live_streams_closed_for_room_total`: live-update streams.
//! - `mdt_connections_open`, `mdt_connections_refused_total{reason}`: the accept loop.
//! - `mdt_outbox_waiting`, `mdt_outbox_given_up`, `mdt_outbox_oldest_waiting_age_seconds`:
//!   email not yet sent (read from the database at each scrape).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use prometheus_client::encoding::prometheus_text;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use super::store::Store;
use super::AppState;

type Labels = Vec<(String, String)>;

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// The metrics kept while the server runs (the rest are read at each scrape).
pub struct Metrics {
    registry: Registry,
    requests: Family<Labels, Counter>,
    durations: Family<Labels, Histogram>,
    sign_in_refusals: Family<Labels, Counter>,
}

fn duration_histogram() -> Histogram {
    // 1 ms to about 33 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

impl Metrics {
    /// The metrics of a server over `store` (whose own counters are registered too).
    pub fn new(store: &Store) -> Self {
        let mut registry = Registry::default();
        let requests = Family::<Labels, Counter>::default();
        registry.register(
            "mdt_http_requests",
            "HTTP requests answered, by route pattern, method and status",
            requests.clone(),
        );
        let durations =
            Family::<Labels, Histogram>::new_with_constructor(duration_histogram as fn() -> _);
        registry.register(
            "mdt_http_request_duration_seconds",
            "Time from a request's arrival to its answer's head, by route pattern and method",
            durations.clone(),
        );
        let sign_in_refusals = Family::<Labels, Counter>::default();
        registry.register(
            "mdt_sign_in_refusals",
            "Refused sign-ins, by reason",
            sign_in_refusals.clone(),
        );
        let stats = store.stats();
        registry.register(
            "mdt_db_wait_seconds",
            "Time requests waited for a turn at the database",
            stats.waits.clone(),
        );
        registry.register(
            "mdt_db_wait_timeouts",
            "Requests answered 503 because no turn at the database came in time",
            stats.wait_timeouts.clone(),
        );
        registry.register(
            "mdt_push_mutations",
            "Changes pushed by devices, by result (applied, rejected, conflict)",
            stats.pushed.clone(),
        );
        Self {
            registry,
            requests,
            durations,
            sign_in_refusals,
        }
    }

    /// Counts a refused sign-in (`reason` as recorded: `bad_credentials`, …).
    pub fn sign_in_refused(&self, reason: &str) {
        self.sign_in_refusals
            .get_or_create(&labels(&[("reason", reason)]))
            .inc();
    }
}

/// Counts every request by its route's pattern (the layer sits on the routes, so the pattern
/// is known; the app's files and unknown addresses share `other`).
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("other", |p| p.as_str())
        .to_owned();
    let method = request.method().as_str().to_owned();
    let response = next.run(request).await;
    let metrics = &state.metrics;
    metrics
        .durations
        .get_or_create(&labels(&[("route", &route), ("method", &method)]))
        .observe(started.elapsed().as_secs_f64());
    metrics
        .requests
        .get_or_create(&labels(&[
            ("route", &route),
            ("method", &method),
            ("status", response.status().as_str()),
        ]))
        .inc();
    response
}

/// Whether `headers` carry the metrics token (compared in constant time).
fn authorised(token: &str, headers: &HeaderMap) -> bool {
    let Some(given) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    let (a, b) = (token.as_bytes(), given.trim().as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `GET /metrics`.
pub async fn scrape(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(token) = state.config.metrics_token.as_deref() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if !authorised(token, &headers) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let outbox = state
        .store
        .read(|db| super::store::outbox::waiting_summary(db, Utc::now()))
        .await;
    let mut now = Registry::default();
    let gauge = |registry: &mut Registry, name: &str, help: &str, value: i64| {
        let g = Gauge::<i64>::default();
        g.set(value);
        registry.register(name, help, g);
    };
    let counter = |registry: &mut Registry, name: &str, help: &str, value: u64| {
        let c = Counter::<u64>::default();
        c.inc_by(value);
        registry.register(name, help, c);
    };
    gauge(
        &mut now,
        "mdt_live_streams",
        "Live-update streams open on this server",
        state.streams.open_now() as i64,
    );
    counter(
        &mut now,
        "mdt_live_streams_closed_for_room",
        "Live-update streams closed because their account opened more than it may hold",
        state.streams.closed_for_room(),
    );
    let connections = &state.connections;
    gauge(
        &mut now,
        "mdt_connections_open",
        "Connections open on this server",
        connections.open.load(Ordering::Relaxed) as i64,
    );
    let refused = Family::<Labels, Counter>::default();
    for (reason, value) in [
        ("server_full", &connections.refused_total),
        ("address_full", &connections.refused_per_address),
        ("out_of_descriptors", &connections.out_of_descriptors),
        ("tls_handshake", &connections.tls_failed),
    ] {
        refused
            .get_or_create(&labels(&[("reason", reason)]))
            .inc_by(value.load(Ordering::Relaxed));
    }
    now.register(
        "mdt_connections_refused",
        "Connections closed without an answer, by reason",
        refused,
    );
    if let Ok(outbox) = outbox {
        gauge(
            &mut now,
            "mdt_outbox_waiting",
            "Emails waiting to be sent",
            outbox.waiting as i64,
        );
        gauge(
            &mut now,
            "mdt_outbox_given_up",
            "Emails given up after their tries",
            outbox.given_up as i64,
        );
        gauge(
            &mut now,
            "mdt_outbox_oldest_waiting_age_seconds",
            "Age of the oldest email still waiting (0 when none waits)",
            outbox.oldest_waiting_seconds,
        );
    }
    let mut text = String::new();
    let encoded = prometheus_text::encode(&mut text, &state.metrics.registry)
        .and_then(|()| prometheus_text::encode(&mut text, &now));
    if encoded.is_err() {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    (
        [
            (header::CONTENT_TYPE, prometheus_text::CONTENT_TYPE),
            (header::CACHE_CONTROL, "no-store"),
        ],
        text,
    )
        .into_response()
}

/// Shared by every request.
pub type Shared = Arc<Metrics>;
