//! Site administrators: they manage accounts through the API and see no patient data by it;
//! nobody else may use the account routes. Synthetic people and patients only.

mod common;

use axum::http::StatusCode;
use serde_json::{json, Value};

use common::*;
use mdt::core::entities::Role;
use mdt::server::store;

const ADMIN: &str = "sam.admin@example.nhs.net";

fn make_admin(h: &Harness) -> uuid::Uuid {
    let person = h.user(ADMIN, "Sam Admin", Role::Other);
    assert!(h
        .store
        .write_blocking(|c| store::set_site_admin(c, ADMIN, true))
        .unwrap());
    person
}

async fn post(h: &Harness, uri: &str, body: Value, cookie: &str) -> (StatusCode, Value) {
    let (status, _, body) = h.send(json_request("POST", uri, &body, Some(cookie))).await;
    (status, body)
}

async fn sign_in_status(h: &Harness, email: &str, password: &str) -> StatusCode {
    h.send(json_request(
        "POST",
        "/api/session",
        &json!({"email": email, "password": password}),
        None,
    ))
    .await
    .0
}

#[tokio::test]
async fn a_site_admin_manages_accounts_and_sees_no_patient_data() {
    let h = Harness::new();
    let mut pat = h.pat().await;
    let s = setup(&h, &mut pat).await;
    add_patient_item(&mut pat, &s).await;
    let admin_person = make_admin(&h);
    let admin = h.sign_in(ADMIN, admin_person).await;

    // The session says who is an administrator, so the app can offer the Accounts page.
    let (_, _, me) = h.send(get("/api/session", Some(&admin.cookie))).await;
    assert_eq!(me["site_admin"], json!(true));
    let (_, _, me) = h.send(get("/api/session", Some(&pat.cookie))).await;
    assert_eq!(me["site_admin"], json!(false));

    // The list: every account with its role and status, and nothing about teams or patients.
    let (status, _, list) = h
        .send(get("/api/admin/accounts", Some(&admin.cookie)))
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let emails: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["email"].as_str().unwrap())
        .collect();
    assert_eq!(
        emails,
        [
            "pat.coordinator@example.nhs.net",
            ADMIN,
            "sol.worker@example.gov.uk"
        ]
    );
    let sol = list
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["email"] == "sol.worker@example.gov.uk")
        .unwrap()
        .clone();
    assert_eq!(sol["role"], "social_worker");
    assert_eq!(sol["disabled"], json!(false));
    let text = list.to_string();
    for private in ["Ada Synthetic", NHS_A, "Riverside", "Two falls", "password"] {
        assert!(!text.contains(private), "{private} in {text}");
    }
    // Being an administrator gives no access to the teams' records.
    let pulled = admin.pull(0).await;
    for record in pulled["records"].as_array().unwrap() {
        assert!(
            matches!(record["entity"].as_str(), Some("person" | "organisation")),
            "{record}"
        );
    }
    let (status, _, _) = h
        .send(get(
            &format!("/api/teams/{}/actions.csv", s.team_id),
            Some(&admin.cookie),
        ))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Add an account: weak passwords and taken emails are refused in plain words.
    let new = |email: &str, password: &str| json!({"email": email, "name": "Nia Nurse", "role": "district_nurse", "password": password});
    let (status, body) = post(
        &h,
        "/api/admin/accounts",
        new("nia.nurse@example.nhs.net", "password1234"),
        &admin.cookie,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"].as_str().unwrap().contains("common"), "{body}");
    let (status, body) = post(
        &h,
        "/api/admin/accounts",
        new("sol.worker@example.gov.uk", "a-long-synthetic-pass"),
        &admin.cookie,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, nia) = post(
        &h,
        "/api/admin/accounts",
        new("nia.nurse@example.nhs.net", "a-long-synthetic-pass"),
        &admin.cookie,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{nia}");
    assert_eq!(nia["role"], "district_nurse");
    assert_eq!(
        sign_in_status(&h, "nia.nurse@example.nhs.net", "a-long-synthetic-pass").await,
        StatusCode::OK
    );

    // Disable Sol: his session ends at once and he cannot sign in; enable him again.
    let sol_id = sol["user_id"].as_str().unwrap();
    let sol_client = h.sign_in("sol.worker@example.gov.uk", s.sol).await;
    let (status, _) = post(
        &h,
        &format!("/api/admin/accounts/{sol_id}/disable"),
        json!({}),
        &admin.cookie,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = h.send(get("/api/session", Some(&sol_client.cookie))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        sign_in_status(&h, "sol.worker@example.gov.uk", PASSWORD).await,
        StatusCode::UNAUTHORIZED
    );
    let (status, _) = post(
        &h,
        &format!("/api/admin/accounts/{sol_id}/enable"),
        json!({}),
        &admin.cookie,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let sol_client = h.sign_in("sol.worker@example.gov.uk", s.sol).await;

    // A new password ends his sessions; the old one no longer works.
    let (status, body) = post(
        &h,
        &format!("/api/admin/accounts/{sol_id}/password"),
        json!({"password": "short"}),
        &admin.cookie,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _) = post(
        &h,
        &format!("/api/admin/accounts/{sol_id}/password"),
        json!({"password": "another-synthetic-pass"}),
        &admin.cookie,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = h.send(get("/api/session", Some(&sol_client.cookie))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        sign_in_status(&h, "sol.worker@example.gov.uk", PASSWORD).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        sign_in_status(&h, "sol.worker@example.gov.uk", "another-synthetic-pass").await,
        StatusCode::OK
    );

    // An administrator cannot lock themselves out; an unknown account is 404.
    let (_, _, me) = h.send(get("/api/session", Some(&admin.cookie))).await;
    let (status, body) = post(
        &h,
        &format!(
            "/api/admin/accounts/{}/disable",
            me["user_id"].as_str().unwrap()
        ),
        json!({}),
        &admin.cookie,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _) = post(
        &h,
        &format!("/api/admin/accounts/{}/disable", uuid::Uuid::new_v4()),
        json!({}),
        &admin.cookie,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn nobody_else_may_use_the_account_routes() {
    let h = Harness::new();
    let pat = h.pat().await;
    let (_, _, me) = h.send(get("/api/session", Some(&pat.cookie))).await;
    let someone = me["user_id"].as_str().unwrap().to_owned();
    let (status, _, body) = h.send(get("/api/admin/accounts", Some(&pat.cookie))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        body["error"],
        "Only site administrators can manage accounts."
    );
    for (uri, body) in [
        (
            "/api/admin/accounts".to_owned(),
            json!({"email": "x.synthetic@example.nhs.net", "name": "X", "role": "gp", "password": "a-long-synthetic-pass"}),
        ),
        (format!("/api/admin/accounts/{someone}/disable"), json!({})),
        (format!("/api/admin/accounts/{someone}/enable"), json!({})),
        (
            format!("/api/admin/accounts/{someone}/password"),
            json!({"password": "a-long-synthetic-pass"}),
        ),
    ] {
        let (status, _) = post(&h, &uri, body.clone(), &pat.cookie).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{uri}");
        // Without a session: 401.
        let (status, _, _) = h.send(json_request("POST", &uri, &body, None)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{uri}");
    }
    assert!(h
        .store
        .write_blocking(|c| store::find_user_by_email(c, "x.synthetic@example.nhs.net"))
        .unwrap()
        .is_none());
    // Taking the role away takes effect at once.
    let admin_person = make_admin(&h);
    let admin = h.sign_in(ADMIN, admin_person).await;
    h.store
        .write_blocking(|c| store::set_site_admin(c, ADMIN, false))
        .unwrap();
    let (status, _, _) = h
        .send(get("/api/admin/accounts", Some(&admin.cookie)))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

/// The Accounts page's "How people sign in": the second-factor rule and single sign-on
/// providers, for site administrators only, secrets never shown and kept when left out.
#[tokio::test]
async fn a_site_admin_sets_the_second_factor_rule_and_the_providers() {
    let h = Harness::new();
    let admin_person = make_admin(&h);
    let sol = h.user(
        "sol.worker@example.gov.uk",
        "Sol Worker",
        Role::SocialWorker,
    );
    let admin = h.sign_in(ADMIN, admin_person).await.cookie;
    let member = h.sign_in("sol.worker@example.gov.uk", sol).await.cookie;
    let put = |uri: &str, body: Value, cookie: &str| json_request("PUT", uri, &body, Some(cookie));

    let (status, _, settings) = h.send(get("/api/admin/sign-in", Some(&admin))).await;
    assert_eq!(status, StatusCode::OK, "{settings}");
    assert_eq!(settings["second_factor_required"], json!(false));
    assert_eq!(settings["providers"], json!([]));
    let provider = |secret: Option<&str>, domains: &[&str]| {
        json!({
            "settings": {
                "id": "northshire", "label": "Northshire Council", "issuer": "https://login.example.test/tenant/v2.0/",
                "client_id": "mdt-app", "client_authentication": "secret", "scopes": "openid email profile",
                "email_claim": "email", "acr_values": null, "domains": domains,
            },
            "client_secret": secret,
        })
    };
    for (method, uri, body) in [
        ("GET", "/api/admin/sign-in", json!({})),
        (
            "PUT",
            "/api/admin/sign-in/second-factor",
            json!({"required": true}),
        ),
        (
            "PUT",
            "/api/admin/sign-in/providers/northshire",
            provider(Some("s3cret-value"), &[]),
        ),
        (
            "DELETE",
            "/api/admin/sign-in/providers/northshire",
            json!({}),
        ),
    ] {
        let (status, _, _) = h
            .send(json_request(method, uri, &body, Some(&member)))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {uri}");
    }

    let (status, _, _) = h
        .send(put(
            "/api/admin/sign-in/second-factor",
            json!({"required": true}),
            &admin,
        ))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(h
        .store
        .read_blocking(mdt::server::second_factor::required_for_everyone)
        .unwrap());

    let uri = "/api/admin/sign-in/providers/northshire";
    let (status, _, body) = h
        .send(put(uri, provider(None, &["northshire.gov.uk"]), &admin))
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a new provider needs its secret: {body}"
    );
    let (status, _, body) = h
        .send(put(
            "/api/admin/sign-in/providers/other",
            provider(Some("s3cret-value"), &[]),
            &admin,
        ))
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "the short name is the address's: {body}"
    );
    let (status, _, body) = h
        .send(put(
            uri,
            provider(Some("s3cret-value"), &["Northshire.gov.uk", "@nhs.net"]),
            &admin,
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["issuer"],
        json!("https://login.example.test/tenant/v2.0"),
        "tidied"
    );
    assert_eq!(body["domains"], json!(["nhs.net", "northshire.gov.uk"]));
    // Changing the domains without the secret keeps the secret.
    let (status, _, _) = h
        .send(put(uri, provider(None, &["northshire.gov.uk"]), &admin))
        .await;
    assert_eq!(status, StatusCode::OK);
    let stored = h
        .store
        .read_blocking(|db| store::provider(db, "northshire"))
        .unwrap()
        .unwrap();
    assert_eq!(stored.client_secret.as_deref(), Some("s3cret-value"));
    assert_eq!(stored.settings.domains, vec!["northshire.gov.uk"]);
    let (_, _, settings) = h.send(get("/api/admin/sign-in", Some(&admin))).await;
    assert!(
        !settings.to_string().contains("s3cret-value"),
        "secrets are never shown"
    );
    // A bad key for private_key_jwt is refused in words.
    let mut jwt = provider(None, &[]);
    jwt["settings"]["client_authentication"] = json!("private_key_jwt");
    jwt["private_key_pem"] =
        json!("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----");
    let (status, _, body) = h.send(put(uri, jwt, &admin)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"].as_str().unwrap().contains("RSA key"),
        "{body}"
    );

    // An account that signs in only through the provider.
    let (status, _, body) = h
        .send(json_request(
            "POST",
            "/api/admin/accounts",
            &json!({"email": "ray.synthetic@elsewhere.example", "name": "Ray Synthetic", "role": "gp", "password": "", "sso": "northshire"}),
            Some(&admin),
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let ray = h
        .store
        .read_blocking(|db| store::any_user_by_email(db, "ray.synthetic@elsewhere.example"))
        .unwrap()
        .unwrap();
    assert_eq!(
        h.store
            .read_blocking(|db| store::invitation(db, ray.id))
            .unwrap()
            .as_deref(),
        Some("northshire")
    );
    assert_eq!(
        sign_in_status(&h, "ray.synthetic@elsewhere.example", "").await,
        StatusCode::BAD_REQUEST
    );

    let (status, _, _) = h
        .send(json_request("DELETE", uri, &json!({}), Some(&admin)))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _, _) = h
        .send(json_request("DELETE", uri, &json!({}), Some(&admin)))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
