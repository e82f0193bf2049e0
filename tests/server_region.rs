//! Several servers, one database: whatever one server learns (a session, failed sign-ins,
//! colleague look-ups, a device key, the audit chain) every other server knows, so a client may
//! reach a different server on every request. Behind a proxy, limits count the client's
//! address, not the proxy's.

mod common;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use mdt::args;
use mdt::server::{app, audit, AppState, Config};
use serde_json::{json, Value};
use tower::ServiceExt;
use uuid::Uuid;

use common::*;

async fn send(app: &Router, request: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Value) {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        headers,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// Another server on the same database, behind the same proxy.
fn second_server(h: &Harness, config: Config) -> Router {
    app(AppState::new(h.place.open(), config))
}

fn with_cookie(mut request: Request<Body>, cookie: &str) -> Request<Body> {
    request
        .headers_mut()
        .insert(header::COOKIE, cookie.parse().unwrap());
    request
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_limits_and_keys_made_on_one_server_hold_on_every_other() {
    let h = Harness::new();
    let mut pat = h.pat().await;
    let s = setup(&h, &mut pat).await;
    let other = second_server(&h, Config::default());

    // Signed in on one server, known on the other; the device key is the same on both.
    let (status, _, me) = send(&other, with_cookie(get("/api/session", None), &pat.cookie)).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["person_id"], json!(s.pat));
    let (_, _, key_here) = h
        .send(get("/api/session/device-key", Some(&pat.cookie)))
        .await;
    let (_, _, key_there) = send(
        &other,
        with_cookie(get("/api/session/device-key", None), &pat.cookie),
    )
    .await;
    assert!(key_here["device_key"].is_string());
    assert_eq!(key_here, key_there);

    // A push on one server is pulled from the other.
    let patient_id = Uuid::new_v4();
    pat.put(patient_id, 0, &patient(s.team_id, NHS_A, "Ada Synthetic"))
        .await;
    let (status, _, pulled) = send(
        &other,
        with_cookie(get("/api/sync/pull?since=0", None), &pat.cookie),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(find(&pulled, patient_id).is_some());

    // Failed sign-ins are counted together: wrong passwords spread over both servers lock the
    // account on both.
    let wrong = json!({"email": "sol.worker@example.gov.uk", "password": "not-the-password"});
    for attempt in 0..mdt::server::auth::ACCOUNT_ATTEMPTS {
        let server = if attempt % 2 == 0 { &h.app } else { &other };
        let (status, _, _) = send(server, json_request("POST", "/api/session", &wrong, None)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let right = json!({"email": "sol.worker@example.gov.uk", "password": PASSWORD});
    for server in [&h.app, &other] {
        let (status, _, _) = send(server, json_request("POST", "/api/session", &right, None)).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    }

    // Signing out on one server ends the session on the other.
    let (status, _, _) = send(
        &other,
        with_cookie(
            json_request("DELETE", "/api/session", &json!({}), None),
            &pat.cookie,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _, _) = send(&other, with_cookie(get("/api/session", None), &pat.cookie)).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "at once where it was ended"
    );
    // The other server remembered the session (store::memory) and forgets it when it hears
    // the news: within milliseconds; the deadline only detects a hang, and is well inside the
    // 30 s after which a remembered session is looked up again anyway.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (status, _, _) = h.send(get("/api/session", Some(&pat.cookie))).await;
        if status == StatusCode::UNAUTHORIZED {
            break;
        }
        assert_eq!(status, StatusCode::OK);
        assert!(
            std::time::Instant::now() < deadline,
            "the other server never heard that the session ended"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }

    // Both servers appended to one audit chain, which is intact.
    let entries = h
        .store
        .read_blocking(|db| audit::verify(db))
        .unwrap()
        .expect("the chain is intact");
    assert!(entries > 0);
}

fn sign_in_through_proxy(email: &str, forwarded_for: &str) -> Request<Body> {
    let mut request = json_request(
        "POST",
        "/api/session",
        &json!({"email": email, "password": "not-the-password"}),
        None,
    );
    request
        .headers_mut()
        .insert("x-forwarded-for", forwarded_for.parse().unwrap());
    // Every request reaches the server from the proxy's own address.
    request
        .extensions_mut()
        .insert(ConnectInfo(std::net::SocketAddr::from((
            [127, 0, 0, 1],
            50000,
        ))));
    request
}

#[tokio::test]
async fn behind_a_proxy_sign_in_limits_count_the_clients_address_not_the_proxys() {
    let h = Harness::new();
    h.coordinator();
    let proxied = second_server(
        &h,
        Config {
            behind_proxy: true,
            server_name: Some("server-b".into()),
            ..Config::default()
        },
    );
    // One client fails many times (claiming other addresses in front of the real one).
    for i in 0..mdt::server::auth::ADDRESS_ATTEMPTS {
        let (status, headers, _) = send(
            &proxied,
            sign_in_through_proxy(
                &format!("guess{i}@example.nhs.net"),
                &format!("198.51.100.{i}, 203.0.113.9"),
            ),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(headers["x-mdt-server"], "server-b");
    }
    let (status, _, _) = send(
        &proxied,
        sign_in_through_proxy("another.guess@example.nhs.net", "203.0.113.9"),
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "that client is held");
    // Everyone else behind the same proxy still signs in.
    let pat = json!({"email": "pat.coordinator@example.nhs.net", "password": PASSWORD});
    let mut request = json_request("POST", "/api/session", &pat, None);
    request
        .headers_mut()
        .insert("x-forwarded-for", "203.0.113.77".parse().unwrap());
    request
        .extensions_mut()
        .insert(ConnectInfo(std::net::SocketAddr::from((
            [127, 0, 0, 1],
            50001,
        ))));
    let (status, _, body) = send(&proxied, request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn a_batch_saving_one_record_several_times_and_hundreds_at_once_is_stored_in_order() {
    let h = Harness::new();
    let mut pat = h.pat().await;
    let s = setup(&h, &mut pat).await;
    // One record created and changed twice in the same push, then 450 new ones (more than one
    // statement's worth), then the first changed again.
    let first = Uuid::new_v4();
    let mut batch = vec![
        pat.mutation(
            "patient",
            first,
            0,
            json!({"team_id": s.team_id, "nhs_number": NHS_A, "name": "Ada Synthetic",
                   "date_of_birth": "1941-03-02", "objects_to_sharing": false}),
        ),
        pat.mutation("patient", first, 1, json!({"name": "Ada Synthetic-Two"})),
        pat.mutation("patient", first, 2, json!({"name": "Ada Synthetic-Three"})),
    ];
    let others: Vec<Uuid> = (0..450).map(|_| Uuid::new_v4()).collect();
    for (i, id) in others.iter().enumerate() {
        batch.push(pat.mutation(
            "organisation",
            *id,
            0,
            json!({"name": format!("Synthetic practice {i}"), "kind": "gp_practice"}),
        ));
    }
    batch.push(pat.mutation("patient", first, 3, json!({"name": "Ada Synthetic-Four"})));
    let results = pat.push(batch.clone()).await;
    assert_eq!(results.len(), batch.len());
    assert!(
        results.iter().all(|r| r["status"] == "applied"),
        "{:?}",
        results.iter().find(|r| r["status"] != "applied")
    );
    let versions: Vec<u64> = results
        .iter()
        .filter(|r| {
            batch
                .iter()
                .any(|m| m["mutation_id"] == r["mutation_id"] && m["id"] == json!(first))
        })
        .map(|r| r["version"].as_u64().unwrap())
        .collect();
    assert_eq!(versions, vec![1, 2, 3, 4]);
    // Resent as a whole (the answer was lost): the same answers, nothing applied twice.
    let again = pat.push(batch).await;
    assert_eq!(again, results);
    let pulled = pat.pull(0).await;
    assert_eq!(
        find(&pulled, first).unwrap()["fields"]["name"],
        "Ada Synthetic-Four"
    );
    assert_eq!(find(&pulled, first).unwrap()["version"], 4);
    for id in &others {
        assert_eq!(find(&pulled, *id).unwrap()["version"], 1);
    }
    // Change numbers are distinct and the cursor covers them all.
    let cursor = pulled["cursor"].as_u64().unwrap();
    assert!(cursor >= 455, "{cursor}");
    assert_eq!(pat.pull(cursor).await["records"], json!([]));
}

/// The value stored under a setting, read in a fresh snapshot.
fn setting(store: &mdt::server::store::Store, key: &str) -> Option<String> {
    let key = key.to_owned();
    store
        .read_blocking(move |db| {
            db.query_opt("SELECT value FROM settings WHERE key = $1", args![key])?
                .map(|row| row.text(0))
                .transpose()
        })
        .expect("read")
}

#[test]
fn a_write_in_which_a_statement_failed_never_commits_even_if_the_caller_carries_on() {
    let h = Harness::new();
    let insert = "INSERT INTO settings (key, value) VALUES ($1, $2)";
    let outcome = h.store.write_blocking(|db| {
        db.execute(insert, args!["carried-on", "written before the failure"])?;
        // The same key again breaks the primary key; the caller ignores the failure.
        let refused = db.execute(insert, args!["carried-on", "again"]);
        assert!(refused.is_err(), "a duplicate key is refused");
        Ok(())
    });
    assert!(outcome.is_err(), "the write reports the failure");
    assert_eq!(
        setting(&h.store, "carried-on"),
        None,
        "nothing was committed"
    );
    // The store carries on: the next write on the same connection commits.
    h.store
        .write_blocking(|db| db.execute(insert, args!["next", "fine"]).map(|_| ()))
        .expect("a later write");
    assert_eq!(setting(&h.store, "next").as_deref(), Some("fine"));
}

#[test]
fn writes_kept_back_for_the_commit_are_committed_in_order_and_seen_by_later_reads() {
    let h = Harness::new();
    let insert = "INSERT INTO settings (key, value) VALUES ($1, $2)";
    let update = "UPDATE settings SET value = $2 WHERE key = $1";
    // Nothing but writes kept back: they go with the COMMIT (on PostgreSQL), in order.
    h.store
        .write_blocking(|db| {
            db.execute_later(insert, args!["kept", "first"])?;
            db.execute_later(update, args!["kept", "second"])?;
            Ok(())
        })
        .expect("write");
    assert_eq!(setting(&h.store, "kept").as_deref(), Some("second"));
    // More than are ever kept back at once, then a read in the same transaction sees them all.
    let seen = h
        .store
        .write_blocking(|db| {
            for i in 0..40 {
                db.execute_later(insert, args![format!("many-{i:02}"), i.to_string()])?;
            }
            db.query_one("SELECT COUNT(*) FROM settings WHERE key LIKE 'many-%'", &[])?
                .int(0)
        })
        .expect("write");
    assert_eq!(seen, 40);
    // A write kept back that fails fails the whole transaction, at the commit.
    let outcome = h.store.write_blocking(|db| {
        db.execute(insert, args!["before", "x"])?;
        db.execute_later(insert, args!["kept", "a duplicate key"])?;
        Ok(())
    });
    assert!(outcome.is_err(), "the failed write kept back is reported");
    assert_eq!(setting(&h.store, "before"), None, "nothing was committed");
    assert_eq!(setting(&h.store, "kept").as_deref(), Some("second"));
}
