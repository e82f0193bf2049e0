//! `GET /metrics` (issue 30), on the engine the run asks for: what the server did is counted
//! exactly, and the page is judged by the Prometheus project's own Python parser
//! (tests/metrics/parse.py), never by the code under test. Without the token there is no page.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use common::{get, json_request, Harness, PASSWORD};
use http_body_util::BodyExt;
use mdt::core::Role;
use mdt::server::{app, AppState, Config};
use serde_json::{json, Value};
use tower::ServiceExt;
use uuid::Uuid;

const TOKEN: &str = "a-long-random-metrics-token-for-the-tests-0123456789";

async fn send(app: &Router, request: Request<Body>) -> (StatusCode, axum::http::HeaderMap, String) {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        headers,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

fn scrape_request(token: Option<&str>) -> Request<Body> {
    let mut builder = Request::builder().uri("/metrics");
    if let Some(token) = token {
        builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    builder.body(Body::empty()).unwrap()
}

/// The families Python's prometheus_client reads from `text`.
fn parsed(text: &str) -> serde_json::Map<String, Value> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = std::env::var_os("MDT_METRICS_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join(".tools/metrics-venv/bin/python"));
    let mut child = Command::new(&python)
        .arg(root.join("tests/metrics/parse.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "{} (prometheus_client) does not run ({e}): run ./scripts/test.sh, which installs it",
                python.display()
            )
        });
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "the Prometheus parser refused the page: {}\n{text}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    json["families"].as_object().unwrap().clone()
}

/// The value of the sample `name` with exactly `labels` in `family`.
fn sample(
    families: &serde_json::Map<String, Value>,
    family: &str,
    name: &str,
    labels: Value,
) -> Option<f64> {
    families.get(family)?["samples"]
        .as_array()?
        .iter()
        .find(|s| s[0] == name && s[1] == labels)
        .and_then(|s| s[2].as_f64())
}

/// Every histogram's buckets rise to `+Inf`, which equals its `_count`.
fn check_histograms(families: &serde_json::Map<String, Value>) -> usize {
    let mut checked = 0;
    for (name, family) in families {
        if family["type"] != "histogram" {
            continue;
        }
        let samples = family["samples"].as_array().unwrap();
        let mut series: std::collections::BTreeMap<String, Vec<(f64, f64)>> = Default::default();
        let mut counts: std::collections::BTreeMap<String, f64> = Default::default();
        for s in samples {
            let mut labels = s[1].as_object().unwrap().clone();
            let le = labels.remove("le");
            let key = Value::Object(labels).to_string();
            if s[0] == format!("{name}_bucket") {
                let le = le.unwrap();
                let bound = match le.as_str().unwrap() {
                    "+Inf" => f64::INFINITY,
                    b => b.parse().unwrap(),
                };
                series
                    .entry(key)
                    .or_default()
                    .push((bound, s[2].as_f64().unwrap()));
            } else if s[0] == format!("{name}_count") {
                counts.insert(key, s[2].as_f64().unwrap());
            }
        }
        for (key, mut buckets) in series {
            buckets.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap());
            assert!(
                buckets.windows(2).all(|w| w[0].1 <= w[1].1),
                "{name} {key}: buckets fall"
            );
            let last = buckets.last().unwrap();
            assert!(last.0.is_infinite(), "{name} {key}: no +Inf bucket");
            assert_eq!(
                Some(&last.1),
                counts.get(&key),
                "{name} {key}: +Inf is not the count"
            );
            checked += 1;
        }
    }
    checked
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_parse_with_prometheus_client_and_count_what_happened() {
    let h = Harness::new();
    h.user(
        "pat.coordinator@example.nhs.net",
        "Pat Coordinator",
        Role::PracticeManager,
    );
    let server = app(AppState::new(
        h.store.clone(),
        Config {
            metrics_token: Some(TOKEN.into()),
            ..Config::default()
        },
    ));
    // One wrong password, then Pat signs in.
    let (status, _, _) = send(
        &server,
        json_request(
            "POST",
            "/api/session",
            &json!({"email": "pat.coordinator@example.nhs.net", "password": "not-the-password"}),
            None,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, headers, _) = send(
        &server,
        json_request(
            "POST",
            "/api/session",
            &json!({"email": "pat.coordinator@example.nhs.net", "password": PASSWORD}),
            None,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let cookie = common::session_cookie(&headers);
    // Changes the server itself made (Pat's directory entry) are counted too: measured from here.
    let (_, _, text) = send(&server, scrape_request(Some(TOKEN))).await;
    let before = parsed(&text);
    let pushed_before = |result: &str| {
        sample(
            &before,
            "mdt_push_mutations",
            "mdt_push_mutations_total",
            json!({"result": result}),
        )
        .unwrap_or(0.0)
    };
    let (applied_before, rejected_before) = (pushed_before("applied"), pushed_before("rejected"));
    // Three changes: two applied, one rejected (a patient of a team that does not exist).
    let device = Uuid::new_v4();
    let mutations = json!([
        {"mutation_id": Uuid::new_v4(), "seq": 1, "entity": "organisation", "id": Uuid::new_v4(),
         "base_version": 0, "op": {"kind": "update", "fields": {"name": "Riverside Surgery", "kind": "gp_practice"}}},
        {"mutation_id": Uuid::new_v4(), "seq": 2, "entity": "organisation", "id": Uuid::new_v4(),
         "base_version": 0, "op": {"kind": "update", "fields": {"name": "Hillside Surgery", "kind": "gp_practice"}}},
        {"mutation_id": Uuid::new_v4(), "seq": 3, "entity": "patient", "id": Uuid::new_v4(),
         "base_version": 0, "op": {"kind": "update", "fields": {"team_id": Uuid::new_v4(), "nhs_number": common::NHS_A,
            "name": "Ada Synthetic", "date_of_birth": "1941-03-02"}}}
    ]);
    let (status, _, text) = send(
        &server,
        json_request(
            "POST",
            "/api/sync/push",
            &json!({"device_id": device, "mutations": mutations}),
            Some(&cookie),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let results: Value = serde_json::from_str(&text).unwrap();
    let statuses: Vec<&str> = results["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["applied", "applied", "rejected"]);
    // A live-update stream held open, and an address that is no route.
    let stream = server
        .clone()
        .oneshot(get("/api/sync/events", Some(&cookie)))
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    let (status, _, _) = send(&server, get("/no/such/page.png", None)).await;
    assert!(status.is_success() || status == StatusCode::NOT_FOUND);

    let (status, headers, text) = send(&server, scrape_request(Some(TOKEN))).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert!(headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let families = parsed(&text);
    for family in [
        "mdt_http_requests",
        "mdt_http_request_duration_seconds",
        "mdt_db_wait_seconds",
        "mdt_db_wait_timeouts",
        "mdt_push_mutations",
        "mdt_sign_in_refusals",
        "mdt_live_streams",
        "mdt_live_streams_closed_for_room",
        "mdt_connections_open",
        "mdt_connections_refused",
        "mdt_outbox_waiting",
        "mdt_outbox_given_up",
        "mdt_outbox_oldest_waiting_age_seconds",
    ] {
        assert!(
            families.contains_key(family),
            "{family} missing from:\n{text}"
        );
    }
    assert_eq!(families["mdt_http_requests"]["type"], "counter");
    assert_eq!(families["mdt_live_streams"]["type"], "gauge");
    let pushed = |result: &str| {
        sample(
            &families,
            "mdt_push_mutations",
            "mdt_push_mutations_total",
            json!({"result": result}),
        )
    };
    assert_eq!(pushed("applied"), Some(applied_before + 2.0));
    assert_eq!(pushed("rejected"), Some(rejected_before + 1.0));
    assert_eq!(
        sample(
            &families,
            "mdt_sign_in_refusals",
            "mdt_sign_in_refusals_total",
            json!({"reason": "bad_credentials"})
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &families,
            "mdt_http_requests",
            "mdt_http_requests_total",
            json!({"route": "/api/sync/push", "method": "POST", "status": "200"})
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &families,
            "mdt_http_requests",
            "mdt_http_requests_total",
            json!({"route": "/api/session", "method": "POST", "status": "401"})
        ),
        Some(1.0)
    );
    assert!(
        families["mdt_http_requests"]["samples"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s[1]["route"] == "other"),
        "an address that is no route is counted as other: {text}"
    );
    assert!(
        !text.contains("/no/such/page.png"),
        "addresses that are no route never become labels"
    );
    assert_eq!(
        sample(&families, "mdt_live_streams", "mdt_live_streams", json!({})),
        Some(1.0)
    );
    assert!(check_histograms(&families) >= 4, "{text}");
    drop(stream);
}

/// No token configured: no page; a wrong or missing token: no page either (404, as if there
/// were none).
#[tokio::test]
async fn metrics_need_the_token_and_are_absent_by_default() {
    let h = Harness::new();
    let (status, _, _) = send(&h.app, scrape_request(Some(TOKEN))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let server = app(AppState::new(
        h.store.clone(),
        Config {
            metrics_token: Some(TOKEN.into()),
            ..Config::default()
        },
    ));
    for token in [None, Some("wrong"), Some(&TOKEN[..TOKEN.len() - 1])] {
        let (status, _, text) = send(&server, scrape_request(token)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{token:?}");
        assert!(!text.contains("mdt_"), "{token:?}");
    }
    let (status, _, text) = send(&server, scrape_request(Some(TOKEN))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(text.contains("mdt_http_requests_total"));
}
