//! The second factor of password accounts, on the engine the run asks for: set-up from the
//! QR code's secret, codes from an independent TOTP implementation (pyotp), each 30-second step
//! accepted once, recovery codes once each, limited tries (also under a burst), and who must use
//! one (site administrators always; everyone when the site requires it).

mod common;

use axum::http::StatusCode;
use common::{json_request, session_cookie, totp_code, Harness, PASSWORD};
use mdt::core::Role;
use mdt::server::store;
use serde_json::{json, Value};

const ADMIN: &str = "ada.admin@example.nhs.net";

fn admin(h: &Harness) {
    h.user(ADMIN, "Ada Admin", Role::PracticeManager);
    h.store
        .write_blocking(|db| store::set_site_admin(db, ADMIN, true))
        .unwrap();
}

async fn post(h: &Harness, uri: &str, body: Value) -> (StatusCode, axum::http::HeaderMap, Value) {
    h.send(json_request("POST", uri, &body, None)).await
}

async fn password(h: &Harness, email: &str) -> (StatusCode, Value) {
    let (status, _, body) = post(
        h,
        "/api/session",
        json!({"email": email, "password": PASSWORD}),
    )
    .await;
    (status, body)
}

/// Sets up the admin's authenticator through a first sign-in: (secret, recovery codes, the
/// code used at set-up).
async fn set_up(h: &Harness) -> (String, Vec<String>, String) {
    let (status, waiting) = password(h, ADMIN).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{waiting}");
    assert_eq!(waiting["set_up"], json!(true));
    let pending = waiting["pending"].as_str().unwrap();
    let (status, _, set_up) = post(
        h,
        "/api/session/second-factor/set-up",
        json!({"pending": pending}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{set_up}");
    let secret = set_up["secret"].as_str().unwrap().to_owned();
    let uri = set_up["uri"].as_str().unwrap();
    assert!(
        uri.starts_with("otpauth://totp/MDT%20coordination:"),
        "{uri}"
    );
    assert!(
        uri.contains(&format!("secret={}", secret.replace(' ', ""))),
        "{uri}"
    );
    assert!(uri.contains("issuer=MDT%20coordination"), "{uri}");
    let svg = set_up["qr_svg"].as_str().unwrap();
    assert!(
        svg.contains("<svg") && svg.contains("</svg>"),
        "a QR code as SVG"
    );
    assert_eq!(secret.replace(' ', "").len(), 32, "160 bits in base32");
    // A wrong code does not finish the set-up.
    let (status, _, refused) = post(
        h,
        "/api/session/second-factor/confirm",
        json!({"pending": pending, "code": "000000"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    let code = totp_code(&secret, 0);
    let (status, headers, ready) = post(
        h,
        "/api/session/second-factor/confirm",
        json!({"pending": pending, "code": code}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{ready}");
    assert_eq!(ready["user"]["email"], json!(ADMIN));
    let cookie = session_cookie(&headers);
    let (status, _, me) = h.send(common::get("/api/session", Some(&cookie))).await;
    assert_eq!(
        (status, me["email"].clone()),
        (StatusCode::OK, json!(ADMIN))
    );
    let codes: Vec<String> = ready["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(codes.len(), 10);
    (secret, codes, code)
}

async fn code_answer(h: &Harness, pending: &str, code: &str) -> (StatusCode, Value) {
    let (status, _, body) = post(
        h,
        "/api/session/second-factor",
        json!({"pending": pending, "code": code}),
    )
    .await;
    (status, body)
}

async fn pending(h: &Harness) -> String {
    let (status, waiting) = password(h, ADMIN).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{waiting}");
    assert_eq!(waiting["set_up"], json!(false));
    waiting["pending"].as_str().unwrap().to_owned()
}

fn clear_failures(h: &Harness) {
    h.store
        .write_blocking(|db| store::clear_failures(db, &format!("account:{ADMIN}")))
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_site_administrator_sets_up_an_authenticator_and_each_code_works_once() {
    let h = Harness::new();
    admin(&h);
    let (secret, codes, used_at_set_up) = set_up(&h).await;

    // The code used at set-up cannot be used again, even at once.
    let p = pending(&h).await;
    let (status, body) = code_answer(&h, &p, &used_at_set_up).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let event = h
        .store
        .read_blocking(|db| store::sign_in_events(db, 1))
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!(event.reason, "TOTP code already used");
    // The next step's code (the authenticator a little ahead) is accepted, once.
    let next = totp_code(&secret, 1);
    let (status, body) = code_answer(&h, &p, &next).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    clear_failures(&h);
    let p = pending(&h).await;
    let (status, _) = code_answer(&h, &p, &next).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a code's step is used once"
    );
    // A code far from now is refused.
    let (status, _) = code_answer(&h, &p, &totp_code(&secret, 4)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // A recovery code works once, typed any way.
    clear_failures(&h);
    let p = pending(&h).await;
    let typed = codes[3].to_uppercase().replace('-', " ");
    let (status, body) = code_answer(&h, &p, &typed).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let event = h
        .store
        .read_blocking(|db| store::sign_in_events(db, 1))
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!(
        (event.outcome.as_str(), event.how.as_str()),
        ("signed_in", "password+recovery code")
    );
    let p = pending(&h).await;
    let (status, _) = code_answer(&h, &p, &codes[3]).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a recovery code works once"
    );
    let user = h
        .store
        .read_blocking(|db| store::any_user_by_email(db, ADMIN))
        .unwrap()
        .unwrap();
    assert_eq!(
        h.store
            .read_blocking(|db| store::recovery_codes_left(db, user.id))
            .unwrap(),
        9
    );
    // Set-up cannot be started again over a confirmed factor.
    let (status, _, body) = post(
        &h,
        "/api/session/second-factor/set-up",
        json!({"pending": p}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_codes_run_out_the_tries_and_then_the_account_waits() {
    let h = Harness::new();
    admin(&h);
    let (secret, _, _) = set_up(&h).await;
    clear_failures(&h);
    let p = pending(&h).await;
    for i in 0..4 {
        let (status, body) = code_answer(&h, &p, "123456").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "try {i}: {body}");
        assert!(body["error"]
            .as_str()
            .unwrap()
            .contains("That code is not right"));
    }
    // The fifth wrong code reaches the account's limit (5 failures in 15 minutes)...
    let (status, _) = code_answer(&h, &p, "654321").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // ...so the right code no longer helps: this sign-in has had its tries,
    let (status, body) = code_answer(&h, &p, &totp_code(&secret, 1)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("too many wrong codes"),
        "{body}"
    );
    // and a new one is refused at the password until the window passes.
    let (status, _) = password(&h, ADMIN).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
}

/// A burst of 40 codes at one waiting sign-in: at most its 5 tries are checked; a burst of the
/// same right code on 40 waiting sign-ins: one session.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_gets_no_more_tries_and_one_code_one_session() {
    let h = std::sync::Arc::new(Harness::new());
    admin(&h);
    let (secret, _, _) = set_up(&h).await;
    clear_failures(&h);
    let p = pending(&h).await;
    let mut burst = Vec::new();
    for _ in 0..40 {
        let (h, p) = (h.clone(), p.clone());
        burst.push(tokio::spawn(
            async move { code_answer(&h, &p, "111111").await },
        ));
    }
    let mut checked = 0;
    for answer in burst {
        let (status, body) = answer.await.unwrap();
        // Refused: a wrong code, no tries left, or the account's limit reached.
        assert!(
            status == StatusCode::BAD_REQUEST || status == StatusCode::TOO_MANY_REQUESTS,
            "{status} {body}"
        );
        if body["error"]
            .as_str()
            .unwrap()
            .contains("That code is not right")
        {
            checked += 1;
        }
    }
    assert!(
        checked <= 5,
        "{checked} codes were checked: more than the 5 tries"
    );
    assert!(checked >= 1);

    clear_failures(&h);
    let mut waiting = Vec::new();
    for _ in 0..40 {
        waiting.push(pending(&h).await);
    }
    let code = totp_code(&secret, 1);
    let mut burst = Vec::new();
    for p in waiting {
        let (h, code) = (h.clone(), code.clone());
        burst.push(tokio::spawn(
            async move { code_answer(&h, &p, &code).await },
        ));
    }
    let mut sessions = 0;
    for answer in burst {
        if answer.await.unwrap().0 == StatusCode::OK {
            sessions += 1;
        }
    }
    assert_eq!(sessions, 1, "one code, one session");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_site_setting_requires_a_second_factor_of_everyone() {
    let h = Harness::new();
    let sol = "sol.worker@example.gov.uk";
    h.user(sol, "Sol Worker", Role::SocialWorker);
    let (status, body) = password(&h, sol).await;
    assert_eq!(status, StatusCode::OK, "not required by default: {body}");
    h.store
        .write_blocking(|db| {
            store::set_setting(db, mdt::server::second_factor::REQUIRED_SETTING, "1")
        })
        .unwrap();
    let (status, body) = password(&h, sol).await;
    assert_eq!(
        (status, body["set_up"].clone()),
        (StatusCode::ACCEPTED, json!(true))
    );
    // Nothing but the second factor's own routes answer a waiting sign-in.
    let (status, _, _) = h.send(common::get("/api/session", None)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // The helper everyone's tests use goes through it.
    let (status, _, me) = h.password_sign_in(sol, PASSWORD).await;
    assert_eq!((status, me["email"].clone()), (StatusCode::OK, json!(sol)));
}
