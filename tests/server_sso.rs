//! Single sign-on against a real OpenID provider (npm's `oidc-provider`), over real HTTP, on
//! the engine the run asks for: the code flow with both kinds of client authentication, who
//! may sign in for the first time, and every way an ID token or a callback can be wrong,
//! each refused in words, recorded, counted against the address, and never signing anyone in.

mod common;

use common::oidc::{Rig, Tamper, ALLOWED_DOMAIN};
use mdt::server::store;
use serde_json::json;

async fn current_email(rig: &Rig, browser: &reqwest::Client) -> Option<String> {
    let answer = browser
        .get(format!("{}/api/session", rig.app_url))
        .send()
        .await
        .unwrap();
    if answer.status() != 200 {
        return None;
    }
    let body: serde_json::Value = answer.json().await.unwrap();
    body["email"].as_str().map(str::to_owned)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_from_an_allowed_domain_signs_in_with_either_kind_of_client_and_out_again() {
    let rig = Rig::start().await;
    let options: serde_json::Value = Rig::browser()
        .get(format!("{}/api/sign-in/options", rig.app_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        options,
        json!({"providers": [
            {"id": "jwt", "label": "NHS Care Identity"},
            {"id": "basic", "label": "Northshire Council"},
        ]})
    );
    let alice = format!("alice.synthetic@{ALLOWED_DOMAIN}");
    for provider in ["basic", "jwt"] {
        let browser = Rig::browser();
        let (status, body, session) = rig.sign_in(&browser, provider, "alice").await;
        assert_eq!((status, session), (200, true), "{provider}: {body}");
        assert!(body.contains("You are signed in"), "{body}");
        assert_eq!(
            current_email(&rig, &browser).await.as_deref(),
            Some(alice.as_str())
        );
        let event = rig.last_event();
        assert_eq!(
            (
                event.outcome.as_str(),
                event.how.as_str(),
                event.email.as_deref()
            ),
            (
                "signed_in",
                format!("sso:{provider}").as_str(),
                Some(alice.as_str())
            )
        );
        let out = browser
            .delete(format!("{}/api/session", rig.app_url))
            .header("x-requested-with", "mdt-app")
            .send()
            .await
            .unwrap();
        assert_eq!(out.status(), 204);
        assert_eq!(
            current_email(&rig, &browser).await,
            None,
            "{provider}: signed out"
        );
    }
    // One account, made on the first sign-in, linked to the provider's subject (`alice`),
    // not to the email: both providers share the issuer, so both reach it.
    let accounts = rig
        .store
        .read_blocking(|db| store::accounts(db, None))
        .unwrap();
    assert_eq!(accounts.len(), 1);
    let user = &accounts[0].user;
    assert_eq!(user.email, alice);
    assert_eq!(user.name, "Alice Synthetic");
    assert!(!mdt::server::auth::verify_password("", &user.password_hash));
    let linked = rig
        .store
        .read_blocking(|db| store::linked_user(db, &rig.issuer, "alice"))
        .unwrap();
    assert_eq!(linked.map(|u| u.id), Some(user.id));
}

/// The app's `private_key_jwt` public key is published for the provider to fetch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_assertion_key_is_published() {
    let rig = Rig::start().await;
    let jwks: serde_json::Value = Rig::browser()
        .get(format!("{}/api/sso/jwks.json", rig.app_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1, "{jwks}");
    assert_eq!(keys[0]["n"], rig.client_public_jwk["n"]);
    assert_eq!(keys[0]["kty"], "RSA");
    assert!(keys[0].get("d").is_none(), "never the private half");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_sign_in_needs_an_allowed_domain_or_an_invitation_and_an_enabled_account() {
    let rig = Rig::start().await;
    // Bob's domain is not allowed: refused in words, no account made.
    let (status, body, session) = rig.sign_in(&Rig::browser(), "basic", "bob").await;
    assert_eq!((status, session), (403, false));
    assert!(
        body.contains("You do not have an account here yet"),
        "{body}"
    );
    assert!(body.contains("invite you"), "{body}");
    let event = rig.last_event();
    assert_eq!(event.outcome, "refused");
    assert!(event.reason.starts_with("not_allowed"), "{}", event.reason);
    assert_eq!(
        event.email.as_deref(),
        Some("bob.synthetic@elsewhere.example")
    );
    let count = |rig: &Rig| {
        rig.store
            .read_blocking(|db| store::accounts(db, None))
            .unwrap()
            .len()
    };
    assert_eq!(count(&rig), 0);

    // An administrator makes his account and invites him to the other provider only.
    let store = rig.store.clone();
    let bob = tokio::task::spawn_blocking(move || {
        let new = mdt::server::demo::NewUser {
            email: "bob.synthetic@elsewhere.example",
            name: "Bob Synthetic",
            role: mdt::core::Role::SocialWorker,
            password: "",
        };
        let user =
            mdt::server::demo::add_user_without_password(&store, &new, chrono::Utc::now()).unwrap();
        store
            .write_blocking(|db| store::set_invitation(db, &user.email, Some("jwt")))
            .unwrap();
        user
    })
    .await
    .unwrap();
    rig.forget_failures();
    let (status, _, session) = rig.sign_in(&Rig::browser(), "basic", "bob").await;
    assert_eq!((status, session), (403, false), "invited to jwt, not basic");
    rig.forget_failures();
    let browser = Rig::browser();
    let (status, body, session) = rig.sign_in(&browser, "jwt", "bob").await;
    assert_eq!((status, session), (200, true), "{body}");
    assert_eq!(
        current_email(&rig, &browser).await.as_deref(),
        Some("bob.synthetic@elsewhere.example")
    );
    assert_eq!(count(&rig), 1, "linked to his account, none made");

    // Disabling him stops every way in, linked or not.
    rig.store
        .write_blocking(|db| store::set_disabled(db, &bob.email, true))
        .unwrap();
    assert_eq!(current_email(&rig, &browser).await, None, "sessions ended");
    let (status, body, session) = rig.sign_in(&Rig::browser(), "jwt", "bob").await;
    assert_eq!((status, session), (403, false));
    assert!(body.contains("switched off"), "{body}");
    assert!(rig.last_event().reason.starts_with("account_disabled"));

    // Dan has a disabled account from before: his first sign-in from an allowed domain does
    // not link to it or make another.
    let store = rig.store.clone();
    tokio::task::spawn_blocking(move || {
        let new = mdt::server::demo::NewUser {
            email: &format!("dan.synthetic@{ALLOWED_DOMAIN}"),
            name: "Dan Synthetic",
            role: mdt::core::Role::Gp,
            password: "",
        };
        let user =
            mdt::server::demo::add_user_without_password(&store, &new, chrono::Utc::now()).unwrap();
        store
            .write_blocking(|db| store::set_disabled(db, &user.email, true))
            .unwrap();
    })
    .await
    .unwrap();
    rig.forget_failures();
    let (status, _, session) = rig.sign_in(&Rig::browser(), "basic", "dan").await;
    assert_eq!((status, session), (403, false));
    assert_eq!(count(&rig), 2);
    let linked = rig
        .store
        .read_blocking(|db| store::linked_user(db, &rig.issuer, "dan"))
        .unwrap();
    assert!(linked.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unverified_or_missing_email_is_refused() {
    let rig = Rig::start().await;
    for (login, reason) in [
        ("una", "email_verified is false"),
        ("nomail", "no usable email claim"),
    ] {
        rig.forget_failures();
        let (status, body, session) = rig.sign_in(&Rig::browser(), "basic", login).await;
        assert_eq!((status, session), (400, false), "{login}");
        assert!(body.contains("could not be confirmed"), "{body}");
        let event = rig.last_event();
        assert!(
            event.reason.starts_with("no_verified_email"),
            "{}",
            event.reason
        );
        assert!(event.reason.contains(reason), "{}", event.reason);
    }
}

/// Every way the ID token can be wrong, each alone on an otherwise good sign-in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_bad_id_token_is_refused_and_recorded() {
    let rig = Rig::start().await;
    let cases: Vec<(&str, Tamper, &str)> = vec![
        ("bad signature", Tamper::BadSignature, "bad signature"),
        (
            "another key, same id",
            Tamper::OtherKeySameKid,
            "bad signature",
        ),
        (
            "another provider's key",
            Tamper::OtherKeyOwnKid,
            "No matching key",
        ),
        ("alg none", Tamper::AlgNone, "No signature"),
        (
            "HS256 with the public key",
            Tamper::Hs256WithPublicKey,
            "Disallowed signature algorithm",
        ),
        (
            "wrong issuer",
            Tamper::Claims(|c| {
                c.insert("iss".into(), json!("http://127.0.0.1:9/another-issuer"));
            }),
            "Invalid issuer",
        ),
        (
            "wrong audience",
            Tamper::Claims(|c| {
                c.insert("aud".into(), json!("another-client"));
            }),
            "Invalid audiences",
        ),
        (
            "an extra untrusted audience",
            Tamper::Claims(|c| {
                let aud = c["aud"].clone();
                c.insert("aud".into(), json!([aud, "another-client"]));
            }),
            "Invalid audiences",
        ),
        (
            "expired beyond the allowed skew",
            Tamper::Claims(|c| {
                let t = chrono::Utc::now().timestamp();
                c.insert("iat".into(), json!(t - 200));
                c.insert("exp".into(), json!(t - 90));
            }),
            "Expired",
        ),
        (
            "issued in the future",
            Tamper::Claims(|c| {
                let t = chrono::Utc::now().timestamp();
                c.insert("iat".into(), json!(t + 600));
                c.insert("exp".into(), json!(t + 1200));
            }),
            "issued in the future",
        ),
        (
            "issued long ago",
            Tamper::Claims(|c| {
                let t = chrono::Utc::now().timestamp();
                c.insert("iat".into(), json!(t - 3600));
                c.insert("exp".into(), json!(t + 600));
            }),
            "issued too long ago",
        ),
        (
            "wrong nonce",
            Tamper::Claims(|c| {
                c.insert("nonce".into(), json!("not-the-nonce-we-sent"));
            }),
            "Invalid nonce",
        ),
        (
            "no nonce",
            Tamper::Claims(|c| {
                c.remove("nonce");
            }),
            "nonce",
        ),
        (
            "email said unverified",
            Tamper::Claims(|c| {
                c.insert("email_verified".into(), json!(false));
            }),
            "email_verified is false",
        ),
    ];
    for (name, tamper, reason) in cases {
        rig.forget_failures();
        rig.set_tamper(Some(tamper));
        let browser = Rig::browser();
        let (status, body, session) = rig.sign_in(&browser, "jwt", "alice").await;
        assert!(!session, "{name}: no session");
        assert_eq!(current_email(&rig, &browser).await, None, "{name}");
        assert!(
            status == 400
                && (body.contains("could not be checked")
                    || body.contains("could not be confirmed")),
            "{name}: {status} {body}"
        );
        let event = rig.last_event();
        assert_eq!(event.outcome, "refused", "{name}");
        assert!(
            event.reason.contains(reason),
            "{name}: recorded {:?}",
            event.reason
        );
    }
    // Nothing was made by any of them, and a good sign-in still works afterwards.
    assert!(rig
        .store
        .read_blocking(|db| store::accounts(db, None))
        .unwrap()
        .is_empty());
    rig.set_tamper(None);
    rig.forget_failures();
    let (status, _, session) = rig.sign_in(&Rig::browser(), "jwt", "alice").await;
    assert_eq!((status, session), (200, true));
}

/// A provider that rotates its keys: a token signed with a key published after we fetched
/// the set is checked against the set fetched again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_provider_key_is_fetched_and_used() {
    let rig = Rig::start().await;
    // The first sign-in fetches the provider's keys (the rotated one not among them yet).
    let (status, _, _) = rig.sign_in(&Rig::browser(), "basic", "alice").await;
    assert_eq!(status, 200);
    {
        use openidconnect::{JsonWebKey, PrivateSigningKey};
        let public = rig.keys.rotated.as_verification_key();
        assert_eq!(public.key_id().map(|k| k.as_str()), Some("rotated-key"));
        let mut control = rig.control.lock().unwrap();
        control.extra_keys = vec![serde_json::to_value(public).unwrap()];
    }
    rig.set_tamper(Some(Tamper::RotatedKey));
    let browser = Rig::browser();
    let (status, body, session) = rig.sign_in(&browser, "basic", "alice").await;
    assert_eq!((status, session), (200, true), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callback_replayed_forged_or_from_another_browser_is_refused() {
    let rig = Rig::start().await;
    let browser = Rig::browser();
    let callback = rig.to_callback(&browser, "basic", "alice").await;
    let (status, _, session) = rig.finish(&browser, &callback).await;
    assert_eq!((status, session), (200, true));

    // The same answer again (the flow cookie is gone, so send one as an attacker would).
    let (status, body, session) = rig.finish(&browser, &callback).await;
    assert_eq!((status, session), (400, false));
    assert!(body.contains("expired"), "{body}");
    assert!(rig.last_event().reason.starts_with("flow_unknown"));

    // The used code with a fresh flow's state: the provider refuses a code used once.
    rig.forget_failures();
    let attacker = Rig::browser();
    let fresh = rig.to_callback(&attacker, "basic", "alice").await;
    let state_of = |url: &str| {
        url.split(['?', '&'])
            .find_map(|p| p.strip_prefix("state="))
            .unwrap()
            .to_owned()
    };
    let code_of = |url: &str| {
        url.split(['?', '&'])
            .find_map(|p| p.strip_prefix("code="))
            .unwrap()
            .to_owned()
    };
    let replayed = format!(
        "{}/api/sso/callback?code={}&state={}",
        rig.app_url,
        code_of(&callback),
        state_of(&fresh)
    );
    let (status, _, session) = rig.finish(&attacker, &replayed).await;
    assert_eq!((status, session), (400, false));
    let event = rig.last_event();
    assert!(
        event.reason.starts_with("provider_refused"),
        "{}",
        event.reason
    );
    assert!(event.reason.contains("token request"), "{}", event.reason);

    // A state we never issued.
    rig.forget_failures();
    let forged = format!(
        "{}/api/sso/callback?code={}&state=not-a-state-we-issued",
        rig.app_url,
        code_of(&fresh)
    );
    let (status, _, session) = rig.finish(&attacker, &forged).await;
    assert_eq!((status, session), (400, false));
    assert!(rig.last_event().reason.starts_with("flow_unknown"));

    // A genuine answer taken to another browser (login CSRF: someone signing you in as
    // themselves) is refused, and cannot be used by the first browser afterwards either.
    rig.forget_failures();
    let victim_of = Rig::browser();
    let genuine = rig.to_callback(&victim_of, "basic", "alice").await;
    let (status, _, session) = rig.finish(&Rig::browser(), &genuine).await;
    assert_eq!((status, session), (400, false));
    assert!(rig.last_event().reason.contains("did not start"));
    let (status, _, session) = rig.finish(&victim_of, &genuine).await;
    assert_eq!((status, session), (400, false));

    // The provider naming another issuer in the answer (mix-up).
    rig.forget_failures();
    let mixed = Rig::browser();
    let answer = rig.to_callback(&mixed, "basic", "alice").await;
    let mixed_up = format!(
        "{}/api/sso/callback?code={}&state={}&iss=http%3A%2F%2F127.0.0.1%3A9%2Fother",
        rig.app_url,
        code_of(&answer),
        state_of(&answer)
    );
    let (status, _, session) = rig.finish(&mixed, &mixed_up).await;
    assert_eq!((status, session), (400, false));
    assert!(rig.last_event().reason.contains("mix-up"));

    // The person cancelling at the provider.
    rig.forget_failures();
    let cancelled = Rig::browser();
    let answer = rig.to_callback(&cancelled, "basic", "alice").await;
    let refused = format!(
        "{}/api/sso/callback?error=access_denied&state={}",
        rig.app_url,
        state_of(&answer)
    );
    let (status, body, session) = rig.finish(&cancelled, &refused).await;
    assert_eq!((status, session), (400, false));
    assert!(body.contains("did not sign you in"), "{body}");
}

/// Refusals count against the client's address with wrong passwords: past the limit even a
/// good sign-in through a provider waits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_count_towards_the_address_limit() {
    let rig = Rig::start().await;
    for _ in 0..mdt::server::auth::ADDRESS_ATTEMPTS {
        let (status, _, _) = rig.sign_in(&Rig::browser(), "basic", "bob").await;
        assert_eq!(status, 403);
    }
    let answer = Rig::browser()
        .get(format!("{}/api/sso/basic/start", rig.app_url))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 429);
    assert!(answer.text().await.unwrap().contains("Wait 15 minutes"));
    // A password sign-in from the same address is held back too.
    let password = Rig::browser()
        .post(format!("{}/api/session", rig.app_url))
        .header("x-requested-with", "mdt-app")
        .json(&json!({"email": "anyone@example.nhs.net", "password": "whatever-it-is"}))
        .send()
        .await
        .unwrap();
    assert_eq!(password.status(), 429);
}
