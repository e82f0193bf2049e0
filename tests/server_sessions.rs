//! Sign-in hardening: rate limits per account and per address, timeouts on a simulated clock,
//! disabled accounts and password resets ending sessions. Synthetic accounts only.

mod common;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Request, StatusCode};
use chrono::{Duration, Utc};
use serde_json::json;

use common::{get, json_request, Harness, PASSWORD};
use mdt::core::entities::Role;
use mdt::server::store;

fn sign_in_from(email: &str, password: &str, address: Option<[u8; 4]>) -> Request<Body> {
    let mut request = json_request(
        "POST",
        "/api/session",
        &json!({"email": email, "password": password}),
        None,
    );
    if let Some(ip) = address {
        request
            .extensions_mut()
            .insert(ConnectInfo(std::net::SocketAddr::from((ip, 40000))));
    }
    request
}

#[tokio::test]
async fn a_flood_of_wrong_passwords_is_stopped_with_429_per_account_and_per_address() {
    let h = Harness::new();
    h.coordinator();
    h.user(
        "sol.worker@example.gov.uk",
        "Sol Worker",
        Role::SocialWorker,
    );
    let pat = "pat.coordinator@example.nhs.net";
    for _ in 0..mdt::server::auth::ACCOUNT_ATTEMPTS {
        let (status, _, body) = h
            .send(sign_in_from(pat, "wrong-password-guess", None))
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        // Wrong password and unknown email get the same words.
        assert_eq!(
            body["error"],
            "The email address or password is not right. Check them and try again."
        );
    }
    let (status, headers, body) = h.send(sign_in_from(pat, PASSWORD, None)).await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits"
    );
    assert_eq!(headers[header::RETRY_AFTER], "900");
    assert!(body["error"].as_str().unwrap().contains("Wait 15 minutes"));
    // Another account is not affected.
    let (status, _, _) = h
        .send(sign_in_from("sol.worker@example.gov.uk", PASSWORD, None))
        .await;
    assert_eq!(status, StatusCode::OK);

    // One address trying many accounts is stopped too; another address is not.
    let h = Harness::new();
    h.coordinator();
    let attacker = [203, 0, 113, 9];
    for i in 0..mdt::server::auth::ADDRESS_ATTEMPTS {
        let (status, _, _) = h
            .send(sign_in_from(
                &format!("guess{i}@example.nhs.net"),
                "wrong-password-guess",
                Some(attacker),
            ))
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, _, _) = h.send(sign_in_from(pat, PASSWORD, Some(attacker))).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let (status, _, _) = h
        .send(sign_in_from(pat, PASSWORD, Some([198, 51, 100, 4])))
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn idle_and_absolute_timeouts_end_sessions_on_a_simulated_clock() {
    let h = Harness::new();
    let me = h.coordinator();
    let set_times = |created: chrono::DateTime<Utc>, seen: chrono::DateTime<Utc>| {
        h.store
            .write_blocking(|conn| {
                conn.execute(
                    "UPDATE sessions SET created_at = $1, last_seen_at = $2",
                    mdt::args![created, seen],
                )?;
                Ok(())
            })
            .unwrap()
    };
    let status = |cookie: String| {
        let h = &h;
        async move { h.send(get("/api/session", Some(&cookie))).await.0 }
    };

    let client = h.sign_in("pat.coordinator@example.nhs.net", me).await;
    // 29 minutes idle: still signed in (and the request counts as use).
    set_times(
        Utc::now() - Duration::hours(1),
        Utc::now() - Duration::minutes(29),
    );
    assert_eq!(status(client.cookie.clone()).await, StatusCode::OK);
    // 31 minutes idle: ended.
    set_times(
        Utc::now() - Duration::hours(1),
        Utc::now() - Duration::minutes(31),
    );
    assert_eq!(
        status(client.cookie.clone()).await,
        StatusCode::UNAUTHORIZED
    );

    let client = h.sign_in("pat.coordinator@example.nhs.net", me).await;
    // In use all along, but signed in 12 hours and a minute ago: ended.
    set_times(Utc::now() - Duration::minutes(12 * 60 + 1), Utc::now());
    assert_eq!(
        status(client.cookie.clone()).await,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn disabling_an_account_or_resetting_its_password_ends_its_sessions() {
    let h = Harness::new();
    let me = h.coordinator();
    let email = "pat.coordinator@example.nhs.net";
    let client = h.sign_in(email, me).await;
    assert_eq!(
        h.send(get("/api/session", Some(&client.cookie))).await.0,
        StatusCode::OK
    );

    let found = h
        .store
        .write_blocking(|conn| store::set_disabled(conn, email, true))
        .unwrap();
    assert!(found);
    assert_eq!(
        h.send(get("/api/session", Some(&client.cookie))).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (status, _, body) = h.send(sign_in_from(email, PASSWORD, None)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(
        body["error"], "The email address or password is not right. Check them and try again.",
        "a disabled account is not revealed"
    );
    h.store
        .write_blocking(|conn| store::set_disabled(conn, email, false))
        .unwrap();
    let client = h.sign_in(email, me).await;

    // An administrator resets the password: the old sessions end, the old password fails.
    let hash = mdt::server::auth::hash_password("a new long passphrase").unwrap();
    h.store
        .write_blocking(|conn| store::set_password_hash(conn, email, &hash))
        .unwrap();
    assert_eq!(
        h.send(get("/api/session", Some(&client.cookie))).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        h.send(sign_in_from(email, PASSWORD, None)).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        h.send(sign_in_from(email, "a new long passphrase", None))
            .await
            .0,
        StatusCode::OK
    );
    assert!(!h
        .store
        .write_blocking(|conn| store::set_disabled(conn, "nobody@example.nhs.net", true))
        .unwrap());
}

/// The app asks who is signed in as it starts: the user when someone is, `204 No Content`
/// (not an error, which browsers would log) when nobody is or the session has ended.
#[tokio::test]
async fn the_start_up_probe_says_who_is_signed_in_without_an_error_when_nobody_is() {
    let h = Harness::new();
    let me = h.coordinator();
    let (status, _, _) = h.send(get("/api/session/probe", None)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let client = h.sign_in("pat.coordinator@example.nhs.net", me).await;
    let (status, _, body) = h
        .send(get("/api/session/probe", Some(&client.cookie)))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["person_id"], serde_json::json!(me.to_string()));
    let request = axum::http::Request::delete("/api/session")
        .header("cookie", &client.cookie)
        .header("x-requested-with", "mdt-app")
        .body(axum::body::Body::empty())
        .unwrap();
    assert_eq!(h.send(request).await.0, StatusCode::NO_CONTENT);
    let (status, _, _) = h
        .send(get("/api/session/probe", Some(&client.cookie)))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "an ended session is nobody");
}
