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

/// A password sign-in from a browser with this description: (cookie, session id prefix unknown).
async fn sign_in_with_browser(h: &Harness, email: &str, user_agent: &str) -> String {
    let mut request = json_request(
        "POST",
        "/api/session",
        &json!({"email": email, "password": PASSWORD}),
        None,
    );
    request
        .headers_mut()
        .insert(header::USER_AGENT, user_agent.parse().unwrap());
    let (status, headers, body) = h.send(request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    common::session_cookie(&headers)
}

const PHONE: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36";
const LAPTOP: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0";

#[tokio::test]
async fn a_person_sees_where_they_are_signed_in_and_signs_out_everywhere_else() {
    let h = Harness::new();
    let sol = "sol.worker@example.gov.uk";
    h.user(sol, "Sol Worker", Role::SocialWorker);
    h.coordinator();
    let phone = sign_in_with_browser(&h, sol, PHONE).await;
    let laptop = sign_in_with_browser(&h, sol, LAPTOP).await;
    let other_person = sign_in_with_browser(&h, "pat.coordinator@example.nhs.net", LAPTOP).await;

    let (status, _, list) = h.send(get("/api/session/all", Some(&laptop))).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2, "only Sol's own: {list:?}");
    let mine = |device: &str| {
        list.iter()
            .find(|s| s["device"] == json!(device))
            .unwrap_or_else(|| panic!("{device} in {list:?}"))
            .clone()
    };
    let (on_phone, on_laptop) = (mine("Chrome on Android"), mine("Edge on Windows"));
    assert_eq!(on_laptop["current"], json!(true));
    assert_eq!(on_phone["current"], json!(false));
    assert_eq!(on_phone["how"], json!("Password"));
    assert_eq!(on_phone["id"].as_str().unwrap().len(), 16);

    // Nobody can end someone else's session by its id.
    let pats_id = {
        let (_, _, pats) = h.send(get("/api/session/all", Some(&other_person))).await;
        pats[0]["id"].as_str().unwrap().to_owned()
    };
    let (status, _, _) = h
        .send(json_request(
            "POST",
            &format!("/api/session/{pats_id}/end"),
            &json!({}),
            Some(&laptop),
        ))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        h.send(get("/api/session", Some(&other_person))).await.0,
        StatusCode::OK
    );

    // Ending the phone's session by its id, then everywhere else.
    let third = sign_in_with_browser(&h, sol, PHONE).await;
    let id = on_phone["id"].as_str().unwrap();
    let (status, _, _) = h
        .send(json_request(
            "POST",
            &format!("/api/session/{id}/end"),
            &json!({}),
            Some(&laptop),
        ))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        h.send(get("/api/session", Some(&phone))).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (status, _, ended) = h
        .send(json_request(
            "POST",
            "/api/session/end-others",
            &json!({}),
            Some(&laptop),
        ))
        .await;
    assert_eq!((status, ended["ended"].clone()), (StatusCode::OK, json!(1)));
    assert_eq!(
        h.send(get("/api/session", Some(&third))).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        h.send(get("/api/session", Some(&laptop))).await.0,
        StatusCode::OK,
        "this one stays"
    );
    assert_eq!(
        h.send(get("/api/session", Some(&other_person))).await.0,
        StatusCode::OK,
        "nobody else's"
    );
}

#[tokio::test]
async fn a_site_administrator_ends_every_session_of_a_person() {
    let h = Harness::new();
    let sol = "sol.worker@example.gov.uk";
    h.user(sol, "Sol Worker", Role::SocialWorker);
    h.user("ada.admin@example.nhs.net", "Ada Admin", Role::Other);
    h.store
        .write_blocking(|db| store::set_site_admin(db, "ada.admin@example.nhs.net", true))
        .unwrap();
    let phone = sign_in_with_browser(&h, sol, PHONE).await;
    let laptop = sign_in_with_browser(&h, sol, LAPTOP).await;
    let (_, headers, _) = h
        .password_sign_in("ada.admin@example.nhs.net", PASSWORD)
        .await;
    let admin = common::session_cookie(&headers);
    let sol_id = h
        .store
        .read_blocking(|db| store::any_user_by_email(db, sol))
        .unwrap()
        .unwrap()
        .id;
    // Only an administrator may.
    let (status, _, _) = h
        .send(json_request(
            "POST",
            &format!("/api/admin/accounts/{sol_id}/sessions/end"),
            &json!({}),
            Some(&phone),
        ))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, body) = h
        .send(json_request(
            "POST",
            &format!("/api/admin/accounts/{sol_id}/sessions/end"),
            &json!({}),
            Some(&admin),
        ))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    for cookie in [&phone, &laptop] {
        assert_eq!(
            h.send(get("/api/session", Some(cookie))).await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        h.send(get("/api/session", Some(&admin))).await.0,
        StatusCode::OK
    );
    // They can sign in again.
    sign_in_with_browser(&h, sol, PHONE).await;
}
