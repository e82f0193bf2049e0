//! Fuzzing the API: random and malformed JSON (and bytes) sent to every route, signed in and
//! not, must never produce a 5xx or a panic. 10,000 cases in CI; `MDT_FUZZ_CASES` for more.

mod common;

use std::sync::OnceLock;

use axum::body::Body;
use axum::http::{header, Request};
use proptest::prelude::*;
use serde_json::{json, Map, Value};
use tower::ServiceExt;

use common::Harness;

fn cases() -> u32 {
    std::env::var("MDT_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000)
}

/// One server (and a signed-in cookie) shared by every case.
struct Fixture {
    runtime: tokio::runtime::Runtime,
    harness: Harness,
    cookie: String,
    team: String,
    /// A valid one-click answer link of the fixture's meeting (for the answer pages).
    answer_token: String,
}

/// Records the fixture makes with known ids, so bodies can name them (the chase).
const ITEM: u128 = 0xf022_0001;
const ACTION: u128 = 0xf022_0002;
const MEETING: u128 = 0xf022_0003;
const PATIENT: u128 = 0xf022_0004;

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let harness = Harness::new();
        let me = harness.coordinator();
        // A site administrator too, so the account routes run past their permission check.
        harness
            .store
            .write_blocking(|c| {
                mdt::server::store::set_site_admin(c, "pat.coordinator@example.nhs.net", true)
            })
            .unwrap();
        // Email on, so the email routes and the outbox run too (nothing is sent: no sender).
        harness.store.send_mail_from(mdt::core::notify::MailOrigin {
            links: mdt::core::mail::Links {
                base_url: "https://mdt.example.nhs.uk".into(),
            },
            from_address: "mdt@example.nhs.uk".into(),
        });
        let (cookie, team) = runtime.block_on(async {
            let mut client = harness.sign_in("pat.coordinator@example.nhs.net", me).await;
            let team_id = uuid::Uuid::new_v4();
            client
                .put(team_id, 0, &common::team("Fuzz MDT", me, vec![]))
                .await;
            // A meeting (its invitation makes the answer-link key), a patient item whose brief
            // is missing, and an overdue action: what the chase and the answer pages act on.
            let id = uuid::Uuid::from_u128;
            client.put(id(MEETING), 0, &common::meeting(team_id)).await;
            client
                .put(
                    id(PATIENT),
                    0,
                    &common::patient(team_id, common::NHS_A, "Ada Synthetic"),
                )
                .await;
            client
                .put(
                    id(ITEM),
                    0,
                    &common::item(team_id, id(MEETING), id(PATIENT), me, 1),
                )
                .await;
            let action = json!({
                "team_id": team_id, "description": "Refer to the falls service", "owner_id": me,
                "due": (chrono::Utc::now() - chrono::Duration::days(3)).date_naive(),
                "status": "proposed", "completion_note": "", "reason": ""
            });
            let m = client.mutation("action", id(ACTION), 0, action);
            client.push(vec![m]).await;
            (client.cookie.clone(), team_id.to_string())
        });
        let key = harness
            .store
            .read_blocking(mdt::server::store::answer_links::existing_key)
            .unwrap()
            .expect("the invitation made the key");
        let answer_token = mdt::server::store::answer_links::sign(
            &key,
            &mdt::server::store::answer_links::AnswerClaim {
                meeting_id: uuid::Uuid::from_u128(MEETING),
                person_id: me,
                status: mdt::core::attendance::AttendanceStatus::Remote,
                until: chrono::Utc::now().timestamp() + 86_400,
                nonce: uuid::Uuid::new_v4(),
            },
        );
        Fixture {
            runtime,
            harness,
            cookie,
            team,
            answer_token,
        }
    })
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "\\PC{0,40}".prop_map(Value::String),
        // Values that look like the real thing.
        prop_oneof![
            Just(json!("00000000-0000-0000-0000-000000000000")),
            Just(json!("9990000018")),
            Just(json!("2026-11-22T10:00:00Z")),
            Just(json!("organisation")),
            Just(json!("update")),
            Just(json!("delete")),
        ],
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop_oneof![
                        Just("email".to_string()),
                        Just("password".to_string()),
                        Just("device_id".to_string()),
                        Just("mutations".to_string()),
                        Just("mutation_id".to_string()),
                        Just("seq".to_string()),
                        Just("entity".to_string()),
                        Just("id".to_string()),
                        Just("base_version".to_string()),
                        Just("op".to_string()),
                        Just("kind".to_string()),
                        Just("fields".to_string()),
                        Just("name".to_string()),
                        "[a-z_]{1,12}",
                    ],
                    inner,
                ),
                0..6
            )
            .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// A push that is well-formed down to the mutation, with random contents.
fn near_valid_push() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(vec![
            "organisation",
            "person",
            "team",
            "meeting",
            "patient",
            "agenda_item",
            "brief",
            "read_receipt",
            "action",
            "action_event",
            "attendance",
            "availability",
            "series",
        ]),
        any::<u64>(),
        any::<u64>(),
        prop::collection::vec(("[a-z_]{1,16}", json_value()), 0..8),
        any::<bool>(),
    )
        .prop_map(|(entity, seq, base, fields, delete)| {
            let op = if delete {
                json!({"kind": "delete"})
            } else {
                json!({"kind": "update", "fields": fields.into_iter().collect::<Map<_, _>>()})
            };
            json!({"device_id": uuid::Uuid::new_v4(), "mutations": [{
                "mutation_id": uuid::Uuid::new_v4(), "seq": seq % 4, "entity": entity,
                "id": uuid::Uuid::new_v4(), "base_version": base % 3, "op": op
            }]})
        })
}

#[derive(Debug, Clone)]
enum Body_ {
    Json(Value),
    Bytes(Vec<u8>),
}

/// Bodies of the chase: the fixture's brief and action, other ids, both, neither.
fn chase_body() -> impl Strategy<Value = Value> {
    let id = |n: u128| json!(uuid::Uuid::from_u128(n));
    prop_oneof![
        Just(json!({"item_id": id(ITEM)})),
        Just(json!({"action_id": id(ACTION)})),
        Just(json!({"item_id": id(MEETING)})),
        Just(json!({"action_id": id(ITEM)})),
        Just(json!({"item_id": id(ITEM), "action_id": id(ACTION)})),
        Just(json!({})),
        Just(json!({"item_id": "not-an-id"})),
        Just(
            json!({"brief_reminders": true, "actions_digest": false, "chases": true, "quorum_warnings": false})
        ),
    ]
}

fn body() -> impl Strategy<Value = Body_> {
    prop_oneof![
        3 => json_value().prop_map(Body_::Json),
        1 => chase_body().prop_map(Body_::Json),
        2 => near_valid_push().prop_map(Body_::Json),
        1 => prop::collection::vec(any::<u8>(), 0..200).prop_map(Body_::Bytes),
    ]
}

/// (method, path) of every route, with holes filled from the case.
fn route() -> impl Strategy<Value = (&'static str, String)> {
    (
        0usize..32,
        prop_oneof![
            Just("00000000-0000-0000-0000-000000000000".to_string()),
            Just("not-a-uuid".to_string()),
            Just("%00%ff".to_string()),
            "[a-z0-9-]{0,40}",
        ],
        prop_oneof![
            Just("0".to_string()),
            Just("-1".to_string()),
            Just("18446744073709551616".to_string()),
            "[a-z0-9]{0,8}"
        ],
    )
        .prop_map(|(n, id, since)| match n {
            0 => ("POST", "/api/session".to_string()),
            1 => ("GET", "/api/session".to_string()),
            2 => ("DELETE", "/api/session".to_string()),
            3 => ("POST", "/api/sync/push".to_string()),
            4 => ("GET", format!("/api/sync/pull?since={since}")),
            5 => ("POST", "/api/directory/lookup".to_string()),
            6 => ("GET", format!("/api/teams/{id}/actions.csv")),
            7 => ("GET", format!("/api/meetings/{id}/calendar.ics")),
            8 => ("GET", format!("/api/series/{id}/calendar.ics")),
            9 => ("GET", "/api/bank-holidays".to_string()),
            10 => ("GET", "/api/session/device-key".to_string()),
            11 => ("GET", "/api/admin/accounts".to_string()),
            12 => ("POST", "/api/admin/accounts".to_string()),
            13 => ("POST", format!("/api/admin/accounts/{id}/disable")),
            14 => ("POST", format!("/api/admin/accounts/{id}/enable")),
            15 => ("POST", format!("/api/admin/accounts/{id}/password")),
            16 => ("GET", "/api/version".to_string()),
            17 => ("GET", "/healthz".to_string()),
            // The live-update stream only answers GET (an open stream is tested in server_live).
            18 => ("POST", "/api/sync/events".to_string()),
            19 => ("GET", format!("/api/teams/{id}/without-accounts")),
            20 => (
                "GET",
                format!("/api/teams/{id}/measures?from={since}&to={id}&by={since}"),
            ),
            21 => (
                "GET",
                format!("/api/teams/{id}/measures.csv?by={since}&from={id}"),
            ),
            22 => ("GET", format!("/api/meetings/{id}/bundle.fhir.json")),
            23 => ("GET", "/api/email".to_string()),
            24 => ("PUT", "/api/email/preferences".to_string()),
            25 | 26 => ("POST", "/api/chase".to_string()),
            27 => ("GET", format!("/answer/{id}")),
            28 => ("POST", format!("/answer/{id}")),
            // A valid link of the fixture's (filled in by the test).
            29 => ("GET", "/answer/VALID".to_string()),
            30 => ("POST", "/answer/VALID".to_string()),
            _ => ("PUT", format!("/api/{id}")),
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn no_request_gets_a_5xx_or_panics(
        (method, path) in route(),
        body in body(),
        signed_in in any::<bool>(),
        own_team in any::<bool>(),
        json_type in any::<bool>(),
    ) {
        let f = fixture();
        // Sometimes aim at a team that exists, so the deeper code paths run.
        let path = if own_team { path.replace("00000000-0000-0000-0000-000000000000", &f.team) } else { path };
        let path = path.replace("/answer/VALID", &format!("/answer/{}", f.answer_token));
        let mut request = Request::builder()
            .method(method)
            .uri(&path)
            .header("x-requested-with", "mdt-app");
        if json_type {
            request = request.header(header::CONTENT_TYPE, "application/json");
        }
        // Signing out for real would end the shared session: that one goes without it.
        if signed_in && !(method == "DELETE" && path == "/api/session") {
            request = request.header(header::COOKIE, &f.cookie);
        }
        let bytes = match &body {
            Body_::Json(v) => v.to_string().into_bytes(),
            Body_::Bytes(b) => b.clone(),
        };
        let Ok(request) = request.body(Body::from(bytes)) else {
            // The path itself is not a valid URI: nothing reaches the server.
            return Ok(());
        };
        let response = f.runtime.block_on(f.harness.app.clone().oneshot(request)).unwrap();
        prop_assert!(
            !response.status().is_server_error(),
            "{} {} ({:?}) answered {}",
            method,
            path,
            body,
            response.status()
        );
    }
}
