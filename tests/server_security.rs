//! HTTP hardening: the security headers of every response (app page and API), HSTS only over
//! HTTPS, and cross-site requests refused.

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use serde_json::json;

use common::{get, Harness};
use mdt::server::{app, AppState, Config};

/// The headers every response must carry, as (name, value).
const SECURITY_HEADERS: &[(&str, &str)] = &[
    (
        "content-security-policy",
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    ),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
    ("cross-origin-opener-policy", "same-origin"),
];

fn check_headers(headers: &axum::http::HeaderMap, what: &str) {
    for (name, value) in SECURITY_HEADERS {
        assert_eq!(
            headers.get(*name).and_then(|v| v.to_str().ok()),
            Some(*value),
            "{name} on {what}"
        );
    }
    let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(!csp.contains("unsafe-inline") && !csp.contains("'unsafe-eval'"));
}

fn harness_with_app(secure: bool) -> (axum::Router, common::TestDatabase) {
    let place = common::TestDatabase::new();
    let dist = place.dir.path().join("dist");
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::write(
        dist.join("index.html"),
        "<!doctype html><title>MDT</title><script type=\"module\" src=\"/boot.js\"></script>",
    )
    .unwrap();
    let store = place.open();
    let config = Config {
        secure_cookies: secure,
        dist_dir: Some(dist),
        ..Config::default()
    };
    (app(AppState::new(store, config)), place)
}

async fn headers_of(
    app: &axum::Router,
    request: Request<Body>,
) -> (StatusCode, axum::http::HeaderMap) {
    use tower::ServiceExt;
    let response = app.clone().oneshot(request).await.unwrap();
    (response.status(), response.headers().clone())
}

#[tokio::test]
async fn every_response_carries_the_security_headers_and_hsts_only_over_https() {
    let (plain, _dir) = harness_with_app(false);
    let (status, headers) = headers_of(&plain, get("/", None)).await;
    assert_eq!(status, StatusCode::OK);
    check_headers(&headers, "the app page");
    assert!(
        headers.get(header::STRICT_TRANSPORT_SECURITY).is_none(),
        "no HSTS over plain HTTP"
    );
    // A deep link is the app page too, with the same headers.
    let (_, headers) = headers_of(&plain, get("/teams/abc", None)).await;
    check_headers(&headers, "a deep link");

    let (status, headers) = headers_of(&plain, get("/api/sync/pull", None)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    check_headers(&headers, "an API error");
    assert_eq!(headers[header::CACHE_CONTROL], "no-store");

    let (https, _dir2) = harness_with_app(true);
    for uri in ["/", "/api/session"] {
        let (_, headers) = headers_of(&https, get(uri, None)).await;
        check_headers(&headers, uri);
        assert_eq!(
            headers[header::STRICT_TRANSPORT_SECURITY],
            "max-age=31536000; includeSubDomains",
            "HSTS on {uri} over HTTPS"
        );
    }
}

#[tokio::test]
async fn a_cross_site_post_without_the_app_header_is_refused_and_changes_nothing() {
    let h = Harness::new();
    let me = h.coordinator();
    let client = h.sign_in("pat.coordinator@example.nhs.net", me).await;
    let before = client.pulled_ids().await;
    // What a hostile page's form could send: the cookie rides along, the custom header cannot.
    let id = uuid::Uuid::new_v4();
    let body = json!({"device_id": uuid::Uuid::new_v4(), "mutations": [{
        "mutation_id": uuid::Uuid::new_v4(), "seq": 1, "entity": "organisation", "id": id,
        "base_version": 0, "op": {"kind": "update", "fields": {"name": "Forged Practice", "kind": "gp_practice"}}
    }]});
    for content_type in [
        "application/json",
        "text/plain",
        "application/x-www-form-urlencoded",
    ] {
        let request = Request::builder()
            .method("POST")
            .uri("/api/sync/push")
            .header(header::CONTENT_TYPE, content_type)
            .header(header::ORIGIN, "https://evil.example")
            .header(header::COOKIE, &client.cookie)
            .body(Body::from(body.to_string()))
            .unwrap();
        let (status, headers, answer) = h.send(request).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{content_type}: {answer}");
        check_headers(&headers, "a refused cross-site post");
    }
    // Signing out by a forged DELETE is refused too: the session still works.
    let forged_sign_out = Request::builder()
        .method("DELETE")
        .uri("/api/session")
        .header(header::COOKIE, &client.cookie)
        .body(Body::empty())
        .unwrap();
    assert_eq!(h.send(forged_sign_out).await.0, StatusCode::FORBIDDEN);
    let after = client.pulled_ids().await;
    assert_eq!(before, after, "nothing was written");
    assert!(!after.contains(&id.to_string()));
}

/// Bytes of a response body.
async fn body_of(
    app: &axum::Router,
    request: Request<Body>,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let response = app.clone().oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    (
        parts.status,
        parts.headers,
        body.collect().await.unwrap().to_bytes().to_vec(),
    )
}

fn get_encoded(uri: &str, accept_encoding: &str) -> Request<Body> {
    Request::builder()
        .uri(uri)
        .header(header::ACCEPT_ENCODING, accept_encoding)
        .body(Body::empty())
        .unwrap()
}

#[tokio::test]
async fn the_apps_files_go_as_compressed_at_build_time_and_hashed_names_are_cached_for_good() {
    let (app, place) = harness_with_app(false);
    let dist = place.dir.path().join("dist");
    // What the build writes: a hashed wasm with its brotli and gzip copies (stand-ins whose
    // bytes tell which copy was sent), and a plain file without copies.
    let wasm = "mdt-web-0123456789abcdef_bg.wasm";
    std::fs::write(dist.join(wasm), b"\0asm raw").unwrap();
    std::fs::write(dist.join(format!("{wasm}.br")), b"brotli copy").unwrap();
    std::fs::write(dist.join(format!("{wasm}.gz")), b"gzip copy").unwrap();
    std::fs::write(
        dist.join("sw.js"),
        b"self.addEventListener('fetch', () => {});",
    )
    .unwrap();

    let (status, headers, body) = body_of(&app, get_encoded(&format!("/{wasm}"), "gzip, br")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, b"brotli copy", "brotli preferred when accepted");
    assert_eq!(headers[header::CONTENT_ENCODING], "br");
    assert_eq!(headers[header::CONTENT_TYPE], "application/wasm");
    assert_eq!(
        headers[header::CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(headers[header::VARY], "accept-encoding");
    check_headers(&headers, "the wasm");

    let (_, headers, body) = body_of(&app, get_encoded(&format!("/{wasm}"), "gzip")).await;
    assert_eq!(
        (body.as_slice(), &headers[header::CONTENT_ENCODING]),
        (
            &b"gzip copy"[..],
            &"gzip".parse::<axum::http::HeaderValue>().unwrap()
        )
    );
    let (_, headers, body) = body_of(&app, get_encoded(&format!("/{wasm}"), "identity")).await;
    assert_eq!(body, b"\0asm raw", "no encoding accepted: the file itself");
    assert!(headers.get(header::CONTENT_ENCODING).is_none());

    // The page, the service worker and the app's own routes are checked on every load.
    for path in ["/", "/sw.js", "/teams/abc"] {
        let (status, headers, _) = body_of(&app, get_encoded(path, "br")).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(headers[header::CACHE_CONTROL], "no-cache", "{path}");
    }
    // An older build's hashed file is gone: 404, never the page cached for a year.
    let (status, headers, _) =
        body_of(&app, get_encoded("/mdt-web-fedcba9876543210_bg.wasm", "br")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(headers[header::CACHE_CONTROL], "no-store");
    check_headers(&headers, "a missing hashed file");
}
