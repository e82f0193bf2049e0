//! Live updates: a push tells the devices of the team it concerns to pull, within a second,
//! from whichever server they are connected to, and nobody else; the stream carries no data.

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::StatusCode;
use http_body_util::BodyExt;
use mdt::core::entities::Role;
use mdt::server::store::Engine;
use mdt::server::{app, AppState, Config};
use serde_json::json;
use tower::ServiceExt;
use uuid::Uuid;

use common::*;

/// An open event stream, read event by event.
struct Events {
    body: Body,
    buffer: String,
}

impl Events {
    async fn open(app: &axum::Router, cookie: &str) -> Self {
        let response = app
            .clone()
            .oneshot(get("/api/sync/events", Some(cookie)))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers()["content-type"],
            "text/event-stream",
            "an event stream"
        );
        assert_eq!(response.headers()["x-accel-buffering"], "no");
        Self {
            body: response.into_body(),
            buffer: String::new(),
        }
    }

    /// Whether the server ends the stream within `limit` (events and comments read on the
    /// way are dropped).
    async fn ends_within(&mut self, limit: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            match tokio::time::timeout_at(deadline, self.body.frame()).await {
                Err(_) => return false,
                Ok(None) | Ok(Some(Err(_))) => return true,
                Ok(Some(Ok(_))) => {}
            }
        }
    }

    /// The next event (comments skipped), or `None` if none comes within `limit`.
    async fn next(&mut self, limit: Duration) -> Option<String> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let event: String = self.buffer.drain(..end + 2).collect();
                if event.lines().any(|l| l.starts_with("event:")) {
                    return Some(event);
                }
            }
            let frame = tokio::time::timeout_at(deadline, self.body.frame())
                .await
                .ok()??
                .ok()?;
            if let Ok(data) = frame.into_data() {
                self.buffer.push_str(&String::from_utf8_lossy(&data));
            }
        }
    }
}

/// How long a test waits for news before calling it lost: far above the milliseconds it takes
/// (a hang detector, not a stopwatch; the figures are in BENCHMARKS.md).
const SOON: Duration = Duration::from_secs(10);
/// How long a test listens to show that nothing comes.
const QUIET: Duration = Duration::from_millis(600);
/// Streams re-check their session this often whatever the news (live.rs `SESSION_CHECK`): a
/// stream that ends sooner ended on the news of its session.
const SESSION_CHECK: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_tells_the_teams_devices_to_pull_at_once_and_nobody_else() {
    let h = Harness::new();
    let mut pat = h.pat().await;
    let s = setup(&h, &mut pat).await;
    let sol = h.sign_in("sol.worker@example.gov.uk", s.sol).await;
    let olu_person = h.user("olu.outsider@example.nhs.net", "Olu Outsider", Role::Gp);
    let olu = h.sign_in("olu.outsider@example.nhs.net", olu_person).await;

    let mut sol_events = Events::open(&h.app, &sol.cookie).await;
    let mut olu_events = Events::open(&h.app, &olu.cookie).await;
    // Each stream starts by telling the device to pull (it may have missed news meanwhile).
    let greeting = sol_events.next(SOON).await.expect("a greeting");
    assert!(greeting.contains("event: change") && greeting.contains("data: pull"));
    assert!(olu_events.next(SOON).await.is_some());

    // A change to the team's records: Sol hears it at once, Olu (in no team) does not.
    let patient_id = Uuid::new_v4();
    assert_eq!(
        pat.put(patient_id, 0, &patient(s.team_id, NHS_A, "Ada Synthetic"))
            .await["status"],
        "applied"
    );
    let event = sol_events
        .next(SOON)
        .await
        .expect("Sol hears of the change");
    assert!(
        !event.contains("Ada") && !event.contains(NHS_A),
        "no data in the event: {event}"
    );
    assert_eq!(olu_events.next(QUIET).await, None, "not Olu's team");

    // A refused change saves nothing and tells nobody.
    let refused = olu
        .push(vec![json!({
            "mutation_id": Uuid::new_v4(), "seq": 1, "entity": "patient", "id": patient_id,
            "base_version": 1, "op": {"kind": "update", "fields": {"name": "Changed"}}
        })])
        .await;
    assert_eq!(refused[0]["status"], "rejected", "{refused:?}");
    assert_eq!(sol_events.next(QUIET).await, None, "nothing was saved");

    // Olu joins the team: from then on Olu hears of its changes.
    let joined = team("Riverside MDT", s.pat, vec![s.sol, olu_person]);
    assert_eq!(pat.put(s.team_id, 1, &joined).await["status"], "applied");
    assert!(
        olu_events.next(SOON).await.is_some(),
        "Olu hears of joining"
    );
    assert!(sol_events.next(SOON).await.is_some());
    pat.put(
        Uuid::new_v4(),
        0,
        &patient(s.team_id, NHS_B, "Bea Synthetic"),
    )
    .await;
    assert!(olu_events.next(SOON).await.is_some(), "now Olu's team");

    // Without a session there is no stream.
    let (status, _, _) = h.send(get("/api/sync/events", None)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_to_one_server_reaches_devices_on_another_server_of_the_region() {
    let h = Harness::new();
    if h.store.engine() != Engine::Postgres {
        // One embedded SQLite file is served by one server; nothing to cross.
        return;
    }
    let mut pat = h.pat().await;
    let s = setup(&h, &mut pat).await;
    let sol = h.sign_in("sol.worker@example.gov.uk", s.sol).await;
    // A second server on the same database, as another process behind the load balancer.
    let other = app(AppState::new(h.place.open(), Config::default()));
    let mut on_other = Events::open(&other, &sol.cookie).await;
    assert!(on_other.next(SOON).await.is_some());
    pat.put(
        Uuid::new_v4(),
        0,
        &patient(s.team_id, NHS_A, "Ada Synthetic"),
    )
    .await;
    assert!(
        on_other.next(SOON).await.is_some(),
        "the other server heard of the push"
    );
}

/// Signing out, a password change and disabling the account end the account's live-update
/// streams at once (long before the streams' own minute-by-minute check), on this server and,
/// on PostgreSQL, on every other server of the region; other sessions' streams go on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_a_new_password_and_disabling_end_streams_at_once() {
    let h = Harness::new();
    let mut pat = h.pat().await;
    let s = setup(&h, &mut pat).await;
    let sol_email = "sol.worker@example.gov.uk";
    let first = h.sign_in(sol_email, s.sol).await;
    let second = h.sign_in(sol_email, s.sol).await;
    let mut first_events = Events::open(&h.app, &first.cookie).await;
    let mut second_events = Events::open(&h.app, &second.cookie).await;
    assert!(first_events.next(SOON).await.is_some());
    assert!(second_events.next(SOON).await.is_some());
    let region = h.store.engine() == Engine::Postgres;
    let other = app(AppState::new(h.place.open(), Config::default()));
    let mut on_other = Events::open(&other, &first.cookie).await;
    assert!(on_other.next(SOON).await.is_some());

    let started = std::time::Instant::now();
    let (status, _, _) = h
        .send(
            axum::http::Request::builder()
                .method("DELETE")
                .uri("/api/session")
                .header("cookie", &first.cookie)
                .header("x-requested-with", "mdt-app")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert!(status.is_success(), "{status}");
    assert!(
        first_events.ends_within(SOON).await,
        "signed out: the stream ends"
    );
    if region {
        assert!(
            on_other.ends_within(SOON).await,
            "signed out on one server: the stream on another ends"
        );
    }
    assert!(started.elapsed() < SESSION_CHECK);
    assert!(
        !second_events.ends_within(QUIET).await,
        "another session goes on"
    );

    // A new password ends every session of the account, and so their streams.
    let started = std::time::Instant::now();
    let hash = mdt::server::auth::hash_password("another-long-synthetic-pass").unwrap();
    assert!(h
        .store
        .write_blocking(|db| mdt::server::store::set_password_hash(db, sol_email, &hash))
        .unwrap());
    assert!(
        second_events.ends_within(SOON).await,
        "a new password: the stream ends"
    );
    assert!(started.elapsed() < SESSION_CHECK);

    // Disabling the account ends its streams too.
    h.store
        .write_blocking(|db| {
            mdt::server::store::set_password_hash(
                db,
                sol_email,
                &mdt::server::auth::hash_password(PASSWORD).unwrap(),
            )
        })
        .unwrap();
    let third = h.sign_in(sol_email, s.sol).await;
    let mut third_events = Events::open(&h.app, &third.cookie).await;
    assert!(third_events.next(SOON).await.is_some());
    let started = std::time::Instant::now();
    assert!(h
        .store
        .write_blocking(|db| mdt::server::store::set_disabled(db, sol_email, true))
        .unwrap());
    assert!(
        third_events.ends_within(SOON).await,
        "disabled: the stream ends"
    );
    assert!(started.elapsed() < SESSION_CHECK);
}

/// One account holds at most eight streams: opening a ninth and more closes the oldest, so
/// one account (or a stolen cookie) cannot hold the server's connections.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_holds_at_most_eight_streams_and_the_oldest_close() {
    let h = Harness::new();
    let mut pat = h.pat().await;
    let s = setup(&h, &mut pat).await;
    let sol = h.sign_in("sol.worker@example.gov.uk", s.sol).await;
    let most = mdt::server::live::MAX_STREAMS_PER_ACCOUNT;
    let mut streams = Vec::new();
    for _ in 0..most + 4 {
        let mut events = Events::open(&h.app, &sol.cookie).await;
        assert!(events.next(SOON).await.is_some());
        streams.push(events);
    }
    for (i, events) in streams.iter_mut().enumerate() {
        if i < 4 {
            assert!(
                events.ends_within(SOON).await,
                "stream {i} (among the oldest) ends"
            );
        } else {
            assert!(!events.ends_within(QUIET).await, "stream {i} goes on");
        }
    }
    // Pat's streams are not Sol's: Pat opens as many as Pat may.
    let mut pats = Events::open(&h.app, &pat.cookie).await;
    assert!(pats.next(SOON).await.is_some());
    assert!(!streams[most + 3].ends_within(QUIET).await);
}

#[tokio::test]
async fn the_version_needs_no_session() {
    let h = Harness::new();
    let (status, _, body) = h.send(get("/api/version", None)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
}

#[tokio::test]
async fn the_health_check_says_the_database_answers() {
    let h = Harness::new();
    let (status, _, body) = h.send(get("/healthz", None)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "ok");
    let engine = match h.store.engine() {
        Engine::Sqlite => "sqlite",
        Engine::Postgres => "postgres",
    };
    assert_eq!(body["database"], engine);
}
