//! The server's HTTP API, driven through `app(state)` with `oneshot` and over a real socket.
//! All people and places are synthetic.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use chrono::Utc;
use serde_json::{json, Value};
use tower::ServiceExt;
use uuid::Uuid;

use common::*;
use mdt::core::entities::{Entity, Organisation, OrganisationKind, Role};

#[tokio::test]
async fn every_api_call_but_sign_in_needs_a_session() {
    let h = Harness::new();
    for req in [
        get("/api/sync/pull", None),
        get("/api/session", None),
        json_request(
            "POST",
            "/api/sync/push",
            &json!({"device_id": Uuid::new_v4(), "mutations": []}),
            None,
        ),
    ] {
        let (status, _, body) = h.send(req).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(body["error"].as_str().unwrap().contains("not signed in"));
    }
    let (status, _, _) = h
        .send(get("/api/sync/pull", Some("mdt_session=forged")))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn sign_in_issues_a_fresh_session_and_sign_out_ends_it() {
    let h = Harness::new();
    let me = h.user("sam.synthetic@example.nhs.net", "Sam Synthetic", Role::Gp);

    let wrong = json!({"email": "sam.synthetic@example.nhs.net", "password": "not-the-password"});
    let (status, headers, body) = h
        .send(json_request("POST", "/api/session", &wrong, None))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(headers.get(header::SET_COOKIE).is_none());
    let unknown = json!({"email": "nobody@example.nhs.net", "password": "not-the-password"});
    let (_, _, body2) = h
        .send(json_request("POST", "/api/session", &unknown, None))
        .await;
    assert_eq!(body, body2, "wrong email and wrong password read the same");

    let first = h.sign_in("sam.synthetic@example.nhs.net", me).await;
    let (status, _, body) = h.send(get("/api/session", Some(&first.cookie))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["name"], "Sam Synthetic");

    // Signing in again while presenting the old cookie ends the old session.
    let again = json!({"email": "SAM.synthetic@example.nhs.net", "password": PASSWORD});
    let (status, headers, _) = h
        .send(json_request(
            "POST",
            "/api/session",
            &again,
            Some(&first.cookie),
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    let second = session_cookie(&headers);
    assert_ne!(second, first.cookie);
    assert_eq!(
        h.send(get("/api/session", Some(&first.cookie))).await.0,
        StatusCode::UNAUTHORIZED
    );

    let sign_out = Request::builder()
        .method("DELETE")
        .uri("/api/session")
        .header(header::COOKIE, &second)
        .header("x-requested-with", "mdt-app")
        .body(Body::empty())
        .unwrap();
    let (status, headers, _) = h.send(sign_out).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(headers
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    assert_eq!(
        h.send(get("/api/sync/pull", Some(&second))).await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn bad_input_gets_a_clear_4xx_never_a_5xx() {
    let h = Harness::new();
    let me = h.user("sam.synthetic@example.nhs.net", "Sam Synthetic", Role::Gp);
    let mut c = h.sign_in("sam.synthetic@example.nhs.net", me).await;
    let cookie_value = c.cookie.clone();
    let cookie = Some(cookie_value.as_str());

    let raw = |body: &str, content_type: &str| {
        Request::builder()
            .method("POST")
            .uri("/api/sync/push")
            .header(header::CONTENT_TYPE, content_type)
            .header("x-requested-with", "mdt-app")
            .header(header::COOKIE, &cookie_value)
            .body(Body::from(body.to_owned()))
            .unwrap()
    };
    let (status, _, body) = h.send(raw("{not json", "application/json")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "The request body is not valid JSON.");

    let (status, _, body) = h
        .send(raw(
            r#"{"device_id":"x","mutations":[]}"#,
            "application/json",
        ))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"].as_str().unwrap().contains("device_id"),
        "{body}"
    );

    let (status, _, body) = h
        .send(json_request(
            "POST",
            "/api/sync/push",
            &json!({"device_id": Uuid::new_v4(), "mutations": [], "extra": 1}),
            cookie,
        ))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("unknown field `extra`"),
        "{body}"
    );

    let (status, _, _) = h.send(raw("{}", "text/plain")).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let huge = format!(
        r#"{{"device_id":"{}","mutations":[],"pad":"{}"}}"#,
        Uuid::new_v4(),
        "x".repeat(3 * 1024 * 1024)
    );
    let (status, _, body) = h.send(raw(&huge, "application/json")).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(body["error"].as_str().unwrap().contains("too large"));

    let (status, _, body) = h.send(get("/api/sync/pull?since=yesterday", cookie)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"].as_str().unwrap().contains("bad parameter"));

    // A state change without the app's header is refused (CSRF defence).
    let forged = Request::builder()
        .method("POST")
        .uri("/api/sync/push")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::COOKIE, &cookie_value)
        .body(Body::from("{}"))
        .unwrap();
    assert_eq!(h.send(forged).await.0, StatusCode::FORBIDDEN);

    // Invalid values are rejected per mutation, with a reason, and nothing is stored.
    let id = Uuid::new_v4();
    let bad_team = c.mutation(
        "team",
        id,
        0,
        json!({"name": "", "coordinator_id": me, "member_ids": [], "default_minutes": 90}),
    );
    let bad_role = c.mutation(
        "person",
        Uuid::new_v4(),
        0,
        json!({"name": "Pat Example", "role": "wizard", "last_confirmed": uk_days_from_today(-30)}),
    );
    let unknown_field = c.mutation(
        "organisation",
        Uuid::new_v4(),
        0,
        json!({"name": "Riverside Surgery", "kind": "gp_practice", "colour": "blue"}),
    );
    let results = c.push(vec![bad_team, bad_role, unknown_field]).await;
    assert_eq!(results[0]["status"], "rejected");
    assert_eq!(results[0]["reason"], "Enter the team's name");
    assert!(results[1]["reason"]
        .as_str()
        .unwrap()
        .contains("\"wizard\" is not one of the allowed values"));
    assert!(results[2]["reason"]
        .as_str()
        .unwrap()
        .contains("no field called \"colour\""));
    assert!(!c.pulled_ids().await.contains(&id.to_string()));

    let (status, _, body) = h.send(get("/api/no-such-thing", cookie)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body["error"].is_string());
}

#[tokio::test]
async fn a_team_is_seen_only_by_its_members() {
    let h = Harness::new();
    let coordinator = h.user(
        "pat.coordinator@example.nhs.net",
        "Pat Coordinator",
        Role::PracticeManager,
    );
    let outsider = h.user("olu.outsider@example.nhs.net", "Olu Outsider", Role::Gp);
    let mut pat = h
        .sign_in("pat.coordinator@example.nhs.net", coordinator)
        .await;
    let olu = h.sign_in("olu.outsider@example.nhs.net", outsider).await;

    let org = Uuid::new_v4();
    assert_eq!(
        pat.put(
            org,
            0,
            &Organisation {
                name: "Riverside Surgery".into(),
                kind: OrganisationKind::GpPractice
            }
        )
        .await["status"],
        "applied"
    );
    let (gp, sw) = (Uuid::new_v4(), Uuid::new_v4());
    assert_eq!(
        pat.put(gp, 0, &person("Dr Gita Synthetic", Role::Gp)).await["status"],
        "applied"
    );
    assert_eq!(
        pat.put(sw, 0, &person("Sol Worker", Role::SocialWorker))
            .await["status"],
        "applied"
    );
    let team_id = Uuid::new_v4();
    let result = pat
        .put(
            team_id,
            0,
            &team("Riverside MDT", coordinator, vec![gp, sw]),
        )
        .await;
    assert_eq!(
        result,
        json!({"status": "applied", "mutation_id": result["mutation_id"], "version": 1})
    );
    let meeting_id = Uuid::new_v4();
    assert_eq!(
        pat.put(meeting_id, 0, &meeting(team_id)).await["status"],
        "applied"
    );

    let mine = pat.pulled_ids().await;
    for id in [team_id, meeting_id, gp, sw, coordinator] {
        assert!(mine.contains(&id.to_string()), "member sees {id}");
    }
    let theirs = olu.pulled_ids().await;
    for id in [team_id, meeting_id, gp, sw, coordinator] {
        assert!(
            !theirs.contains(&id.to_string()),
            "outsider must not see {id}"
        );
    }
    assert!(
        theirs.contains(&outsider.to_string()),
        "everyone sees themselves"
    );

    // The outsider cannot change or even detect the team, nor plan meetings for it.
    let mut olu = olu;
    let rename = olu.mutation("team", team_id, 1, json!({"name": "Taken over"}));
    let sneaky_meeting = olu.mutation(
        "meeting",
        Uuid::new_v4(),
        0,
        Value::Object(meeting(team_id).to_fields()),
    );
    let results = olu.push(vec![rename, sneaky_meeting]).await;
    assert_eq!(
        results[0]["reason"],
        "Team: it does not exist (or you may not see it)"
    );
    assert_eq!(
        results[1]["reason"],
        "You can only plan meetings for teams you belong to"
    );
    // Nor create a team they are not in.
    let foreign = olu.mutation(
        "team",
        Uuid::new_v4(),
        0,
        Value::Object(team("Not mine", coordinator, vec![]).to_fields()),
    );
    assert_eq!(
        olu.push(vec![foreign]).await[0]["reason"],
        mdt::core::authorize::TEAM_CREATE_REFUSAL
    );

    // Once added to the team, the outsider receives what was written before they joined.
    let cursor = olu.pull(0).await["cursor"].as_u64().unwrap();
    let joined = pat
        .put(
            team_id,
            1,
            &team("Riverside MDT", coordinator, vec![gp, sw, outsider]),
        )
        .await;
    assert_eq!(joined["status"], "applied");
    let later: Vec<String> = olu.pull(cursor).await["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    for id in [team_id, meeting_id, gp, sw] {
        assert!(later.contains(&id.to_string()), "new member receives {id}");
    }
}

#[tokio::test]
async fn pushes_are_idempotent_ordered_and_keep_conflicts() {
    let h = Harness::new();
    let me = h.coordinator();
    let mut laptop = h.sign_in("pat.coordinator@example.nhs.net", me).await;
    let mut phone = h.sign_in("pat.coordinator@example.nhs.net", me).await;

    let team_id = Uuid::new_v4();
    let create = laptop.mutation(
        "team",
        team_id,
        0,
        Value::Object(team("Riverside MDT", me, vec![]).to_fields()),
    );
    let first = laptop.push(vec![create.clone()]).await;
    let replay = laptop.push(vec![create]).await;
    assert_eq!(first, replay, "a replay is answered from the record");
    let pulled = laptop.pull(0).await;
    let stored = pulled["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == json!(team_id))
        .unwrap()
        .clone();
    assert_eq!(stored["version"], 1, "not applied twice");

    // A gap in the device's sequence is refused for retry and changes nothing.
    laptop.seq += 1; // skip one
    let gap = laptop.mutation("team", team_id, 1, json!({"place": "Room 9"}));
    let results = laptop.push(vec![gap]).await;
    assert_eq!(results[0]["status"], "rejected");
    assert_eq!(results[0]["retryable"], true);

    // Two devices change the same field from version 1: the second value is kept as a conflict.
    phone.seq = 0;
    let a = phone.mutation("team", team_id, 1, json!({"name": "Riverside North MDT"}));
    assert_eq!(phone.push(vec![a]).await[0]["status"], "applied");
    laptop.seq = 1;
    let b = laptop.mutation(
        "team",
        team_id,
        1,
        json!({"name": "Riverside South MDT", "place": "Room 4"}),
    );
    let result = laptop.push(vec![b]).await.remove(0);
    assert_eq!(result["status"], "conflict");
    assert_eq!(result["fields"], json!(["name"]));
    let record = laptop.pull(0).await["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == json!(team_id))
        .unwrap()
        .clone();
    assert_eq!(record["fields"]["name"], "Riverside North MDT");
    assert_eq!(
        record["fields"]["place"], "Room 4",
        "different fields merge"
    );
    assert_eq!(record["conflicts"][0]["other_value"], "Riverside South MDT");
    assert_eq!(record["conflicts"][0]["other_by"], "Pat Coordinator");

    // Another user cannot use a device id that is registered to someone else.
    let other = h.user("olu.outsider@example.nhs.net", "Olu Outsider", Role::Gp);
    let mut olu = h.sign_in("olu.outsider@example.nhs.net", other).await;
    olu.device = laptop.device;
    let (status, body) = olu.push_raw(vec![]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
}

#[tokio::test]
async fn pull_pages_through_many_changes_with_its_cursor() {
    let h = Harness::new();
    let me = h.coordinator();
    let mut c = h.sign_in("pat.coordinator@example.nhs.net", me).await;
    let batch: Vec<Value> = (0..1200)
        .map(|i| {
            c.mutation(
                "organisation",
                Uuid::new_v4(),
                0,
                json!({"name": format!("Practice {i}"), "kind": "gp_practice"}),
            )
        })
        .collect();
    let (first, rest) = batch.split_at(500);
    assert!(c
        .push(first.to_vec())
        .await
        .iter()
        .all(|r| r["status"] == "applied"));
    let (second, third) = rest.split_at(500);
    c.push(second.to_vec()).await;
    c.push(third.to_vec()).await;
    let mut since = 0;
    let mut seen = 0;
    loop {
        let page = c.pull(since).await;
        seen += page["records"].as_array().unwrap().len();
        since = page["cursor"].as_u64().unwrap();
        if page["more"] == false {
            break;
        }
    }
    assert_eq!(seen, 1201, "1200 organisations and my own directory entry");
    assert!(
        c.pull(since).await["records"]
            .as_array()
            .unwrap()
            .is_empty(),
        "nothing after the cursor"
    );
    let too_many: Vec<Value> = (0..501)
        .map(|_| c.mutation("organisation", Uuid::new_v4(), 0, json!({})))
        .collect();
    let (status, body) = c.push_raw(too_many).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"].as_str().unwrap().contains("At most 500"));
}

#[tokio::test]
async fn the_demo_loads_once_and_its_coordinator_sees_the_demo_team() {
    let h = Harness::new();
    let summary = mdt::server::demo::load_demo(&h.store, Utc::now()).unwrap();
    assert!(!summary.already_loaded);
    assert!(
        mdt::server::demo::load_demo(&h.store, Utc::now())
            .unwrap()
            .already_loaded
    );
    let cookie = h.demo_cookie("priya.example@demo.nhs.test").await;
    let (_, _, pulled) = h.send(get("/api/sync/pull", Some(&cookie))).await;
    let names: Vec<&str> = pulled["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["entity"] == "team")
        .map(|r| r["fields"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["Riverside Neighbourhood MDT"]);

    // Responses are compressed for browsers that accept it.
    let mut compressed = get("/api/sync/pull", Some(&cookie));
    compressed
        .headers_mut()
        .insert(header::ACCEPT_ENCODING, "br, gzip".parse().unwrap());
    let response = h.app.clone().oneshot(compressed).await.unwrap();
    assert_eq!(response.headers()[header::CONTENT_ENCODING], "br");
}

/// Raw HTTP/1.1 over a socket: no client library between the test and the server.
async fn http(addr: std::net::SocketAddr, request: String) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response
}

#[tokio::test]
async fn over_real_http_sign_in_then_pull() {
    let h = Harness::new();
    let me = h.coordinator();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = h.app.clone();
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let unauthenticated = http(
        addr,
        "GET /api/sync/pull HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".into(),
    )
    .await;
    assert!(
        unauthenticated.starts_with("HTTP/1.1 401"),
        "{unauthenticated}"
    );

    let body =
        json!({"email": "pat.coordinator@example.nhs.net", "password": PASSWORD}).to_string();
    let sign_in = http(addr, format!(
        "POST /api/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Requested-With: mdt-app\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )).await;
    assert!(sign_in.starts_with("HTTP/1.1 200"), "{sign_in}");
    let cookie = sign_in
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: "))
        .and_then(|c| c.split(';').next())
        .unwrap()
        .to_owned();

    let pulled = http(addr, format!("GET /api/sync/pull?since=0 HTTP/1.1\r\nHost: x\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n")).await;
    assert!(pulled.starts_with("HTTP/1.1 200"), "{pulled}");
    assert!(pulled.to_lowercase().contains("cache-control: no-store"));
    assert!(
        pulled.contains(&me.to_string()),
        "the user's own directory entry comes back"
    );
    server.abort();
}

#[tokio::test]
async fn a_colleague_is_found_only_by_their_exact_email() {
    let h = Harness::new();
    let me = h.coordinator();
    let sol = h.user(
        "sol.worker@example.gov.uk",
        "Sol Worker",
        Role::SocialWorker,
    );
    let pat = h.sign_in("pat.coordinator@example.nhs.net", me).await;
    let lookup = |email: &str| {
        json_request(
            "POST",
            "/api/directory/lookup",
            &json!({ "email": email }),
            Some(&pat.cookie),
        )
    };
    let (status, _, body) = h.send(lookup("SOL.worker@example.gov.uk")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"person_id": sol, "name": "Sol Worker"}));
    let (status, _, body) = h.send(lookup("sol@example.gov.uk")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body["error"]
        .as_str()
        .unwrap()
        .contains("No one with that email address"));
    let anonymous = json_request(
        "POST",
        "/api/directory/lookup",
        &json!({ "email": "sol.worker@example.gov.uk" }),
        None,
    );
    assert_eq!(h.send(anonymous).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_team_says_which_of_its_people_cannot_sign_in_to_its_own_people_only() {
    let h = Harness::new();
    let mut pat = h.pat().await;
    let s = common::setup(&h, &mut pat).await;
    let gp = common::person_without_account(&mut pat, "Dr Gita Synthetic", Role::Gp).await;
    let observer = common::person_without_account(&mut pat, "Obi Synthetic", Role::Other).await;
    let mut team = common::team("Riverside MDT", s.pat, vec![s.sol, gp]);
    team.observer_ids = vec![observer];
    assert_eq!(pat.put(s.team_id, 1, &team).await["status"], "applied");
    let url = format!("/api/teams/{}/without-accounts", s.team_id);
    // The coordinator and a member both hear: the GP cannot sign in (an observer is nobody's
    // to act for, and Pat and Sol have accounts).
    let sol = h.sign_in("sol.worker@example.gov.uk", s.sol).await;
    for client in [&pat, &sol] {
        let (status, _, body) = h.send(get(&url, Some(&client.cookie))).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body, json!({ "person_ids": [gp] }));
    }
    let outsider = h.user("omar.outsider@example.nhs.net", "Omar Outsider", Role::Gp);
    let omar = h.sign_in("omar.outsider@example.nhs.net", outsider).await;
    // Someone outside the team, an unknown team, a non-id and nobody signed in learn nothing.
    for (uri, cookie, expected) in [
        (
            url.clone(),
            Some(omar.cookie.clone()),
            StatusCode::NOT_FOUND,
        ),
        (
            format!("/api/teams/{}/without-accounts", uuid::Uuid::new_v4()),
            Some(pat.cookie.clone()),
            StatusCode::NOT_FOUND,
        ),
        (
            "/api/teams/not-a-team/without-accounts".to_string(),
            Some(pat.cookie.clone()),
            StatusCode::NOT_FOUND,
        ),
        (url.clone(), None, StatusCode::UNAUTHORIZED),
    ] {
        let (status, _, body) = h.send(get(&uri, cookie.as_deref())).await;
        assert_eq!(status, expected, "{uri}: {body}");
        assert!(!body.to_string().contains(&gp.to_string()), "{body}");
    }
}

#[tokio::test]
async fn each_user_gets_one_device_key_and_only_when_signed_in() {
    let h = Harness::new();
    let pat = h.coordinator();
    let sol = h.user(
        "sol.worker@example.gov.uk",
        "Sol Worker",
        Role::SocialWorker,
    );
    let (status, _, _) = h.send(get("/api/session/device-key", None)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let pat_client = h.sign_in("pat.coordinator@example.nhs.net", pat).await;
    let key = |client: &common::Client<'_>| {
        let cookie = client.cookie.clone();
        let h = &h;
        async move {
            let (status, headers, body) =
                h.send(get("/api/session/device-key", Some(&cookie))).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            assert_eq!(headers[header::CACHE_CONTROL], "no-store");
            body["device_key"].as_str().unwrap().to_owned()
        }
    };
    let first = key(&pat_client).await;
    assert_eq!(first.len(), 64);
    assert!(first.chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(key(&pat_client).await, first, "stable across requests");
    let again = h.sign_in("pat.coordinator@example.nhs.net", pat).await;
    assert_eq!(key(&again).await, first, "and across sessions");
    let sol_client = h.sign_in("sol.worker@example.gov.uk", sol).await;
    assert_ne!(key(&sol_client).await, first, "every user has their own");
}
