//! Semantic fuzzing: well-formed pushes of every record kind, with values at the edges of what
//! their types allow (dates at the date library's limits and at the stored window's edges,
//! huge and negative numbers, out-of-range rule parts, long lists, empty, enormous and unusual
//! text), by every role. Every push is answered (a hang fails it) without a 5xx, and after each
//! case the invariants hold: the team exists and is coordinated by the person who created it
//! (who never hands it over here), and a safeguarding-restricted brief never reaches anyone
//! outside it. 10,000 cases in CI; `MDT_SEMANTIC_FUZZ_CASES` for more.

mod common;

use std::sync::{Mutex, OnceLock};
use std::time::Instant;

use proptest::prelude::*;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use common::*;
use mdt::core::brief::{brief_id_for, Brief};
use mdt::core::entities::{EntityKind, Role};

fn cases() -> u32 {
    std::env::var("MDT_SEMANTIC_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000)
}

const SECRET: &str = "SECRET-SAFEGUARDING-CONCERN";

/// The people who push, and what they are to the team.
const ROLES: [&str; 5] = [
    "coordinator",
    "member",
    "observer",
    "other team",
    "site admin",
];

struct Fixture {
    runtime: tokio::runtime::Runtime,
    harness: &'static Harness,
    /// (cookie, device, next sequence number) per role.
    clients: Mutex<Vec<(String, Uuid, u64)>>,
    team: Uuid,
    pat: Uuid,
    /// Ids a mutation may aim at: the team's records, people, and the other team.
    targets: Vec<Uuid>,
    people: Vec<Uuid>,
    secret_item: Uuid,
    secret_brief: Uuid,
    /// One valid record of every kind (its id and fields): cases start from these, so most
    /// pushes are well-formed and only the values they perturb are extreme.
    templates: Vec<(EntityKind, Uuid, Map<String, Value>)>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let harness: &'static Harness = Box::leak(Box::new(Harness::new()));
        let fixture = runtime.block_on(async {
            let mut pat = harness.pat().await;
            let s = setup(harness, &mut pat).await;
            let mo = harness.user(
                "mo.member@example.nhs.net",
                "Mo Member",
                Role::DistrictNurse,
            );
            let olu = harness.user("olu.observer@example.nhs.net", "Olu Observer", Role::Other);
            let xan = harness.user("xan.other@example.nhs.net", "Xan Other", Role::Gp);
            let sam = harness.user("sam.admin@example.nhs.net", "Sam Admin", Role::Other);
            harness
                .store
                .write_blocking(|c| {
                    mdt::server::store::set_site_admin(c, "sam.admin@example.nhs.net", true)
                })
                .unwrap();
            let mut t = team("Riverside MDT", s.pat, vec![s.sol, mo]);
            t.observer_ids = vec![olu];
            assert_eq!(pat.put(s.team_id, 1, &t).await["status"], "applied");
            let mut xan_client = harness.sign_in("xan.other@example.nhs.net", xan).await;
            let other_team = Uuid::new_v4();
            xan_client
                .put(other_team, 0, &team("Hillside MDT", xan, vec![]))
                .await;
            let (patient_id, item_id) = add_patient_item(&mut pat, &s).await;
            let brief_id = add_brief(&mut pat, &s, item_id).await;
            // The restricted item: led by Sol, who never pushes here; Mo is not named.
            let patient_b = Uuid::new_v4();
            pat.put(patient_b, 0, &patient(s.team_id, NHS_B, "Bea Synthetic"))
                .await;
            let mut secret = item(s.team_id, s.meeting_id, patient_b, s.sol, 2048);
            secret.restricted = true;
            secret.reason = SECRET.into();
            let secret_item = Uuid::new_v4();
            assert_eq!(pat.put(secret_item, 0, &secret).await["status"], "applied");
            let secret_brief = brief_id_for(secret_item);
            let brief = Brief {
                team_id: s.team_id,
                item_id: secret_item,
                author_id: s.sol,
                situation: SECRET.into(),
                ..Default::default()
            };
            assert_eq!(pat.put(secret_brief, 0, &brief).await["status"], "applied");
            let action_id = Uuid::new_v4();
            let m = pat.mutation(
                "action",
                action_id,
                0,
                json!({"team_id": s.team_id,
                "description": "Refer", "owner_id": mo, "due": uk_days_from_today(15), "item_id": item_id}),
            );
            pat.push(vec![m]).await;
            let series_id = Uuid::new_v4();
            let m = pat.mutation(
                "series",
                series_id,
                0,
                json!({"team_id": s.team_id,
                "rule": {"freq": "monthly", "nth": 2, "weekday": 1}, "first_date": nth_weekday_months_ahead(2, chrono::Weekday::Tue, 1),
                "starts": "13:00:00", "minutes": 90}),
            );
            pat.push(vec![m]).await;
            let organisation = Uuid::new_v4();
            let kit = Uuid::new_v4();
            let m1 = pat.mutation("organisation", organisation, 0, json!({"name": "Riverside Surgery", "kind": "gp_practice"}));
            let m2 = pat.mutation("person", kit, 0, json!({"name": "Kit Synthetic", "role": "pharmacist", "last_confirmed": uk_days_from_today(-30)}));
            let event_id = Uuid::new_v4();
            let m3 = pat.mutation("action_event", event_id, 0, json!({"team_id": s.team_id, "action_id": action_id, "by": s.pat, "at": chrono::Utc::now(), "summary": "agreed the action"}));
            for r in pat.push(vec![m1, m2, m3]).await {
                assert_eq!(r["status"], "applied", "{r}");
            }
            let mut mo_client = harness.sign_in("mo.member@example.nhs.net", mo).await;
            let receipt_id = mdt::core::brief::ReadReceipt::id_for(brief_id, mo);
            let attendance_id = mdt::core::attendance::Attendance::id_for(s.meeting_id, mo);
            let availability_id = mdt::core::schedule::PersonAvailability::id_for(mo);
            let m1 = mo_client.mutation("read_receipt", receipt_id, 0, json!({"team_id": s.team_id, "brief_id": brief_id, "person_id": mo, "brief_version": 1, "read_at": chrono::Utc::now()}));
            let m2 = mo_client.mutation("attendance", attendance_id, 0, json!({"team_id": s.team_id, "meeting_id": s.meeting_id, "person_id": mo, "status": "attending"}));
            let m3 = mo_client.mutation("availability", availability_id, 0, json!({"person_id": mo, "commitments": [], "absences": []}));
            for r in mo_client.push(vec![m1, m2, m3]).await {
                assert_eq!(r["status"], "applied", "{r}");
            }
            let mut templates = Vec::new();
            for id in [organisation, kit, s.team_id, s.meeting_id, patient_id, item_id, brief_id,
                       receipt_id, action_id, event_id, attendance_id, availability_id, series_id] {
                let (record, _) = harness
                    .store
                    .write_blocking(|c| mdt::server::store::load_record(c, id))
                    .unwrap()
                    .unwrap();
                templates.push((record.entity, id, record.fields));
            }

            let mut clients = Vec::new();
            for (email, person) in [
                ("pat.coordinator@example.nhs.net", s.pat),
                ("mo.member@example.nhs.net", mo),
                ("olu.observer@example.nhs.net", olu),
                ("xan.other@example.nhs.net", xan),
                ("sam.admin@example.nhs.net", sam),
            ] {
                let c = harness.sign_in(email, person).await;
                clients.push((c.cookie.clone(), c.device, 0));
            }
            let people = vec![s.pat, s.sol, mo, olu, xan, sam];
            let mut targets = vec![
                s.team_id,
                s.meeting_id,
                patient_id,
                item_id,
                brief_id,
                action_id,
                series_id,
                other_team,
                secret_item,
                secret_brief,
                patient_b,
            ];
            targets.extend(&people);
            targets.extend(
                people
                    .iter()
                    .map(|p| mdt::core::schedule::PersonAvailability::id_for(*p)),
            );
            (
                harness,
                templates,
                Mutex::new(clients),
                s.team_id,
                s.pat,
                targets,
                people,
                secret_item,
                secret_brief,
            )
        });
        let (harness, templates, clients, team, pat, targets, people, secret_item, secret_brief) =
            fixture;
        Fixture {
            runtime,
            harness,
            clients,
            team,
            pat,
            targets,
            people,
            secret_item,
            secret_brief,
            templates,
        }
    })
}

fn date() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!("+262142-12-31")),
        Just(json!("-262143-01-01")),
        Just(json!("0000-01-01")),
        Just(json!("1889-12-31")),
        Just(json!("1999-12-31")),
        Just(json!("2000-01-01")),
        // An ordinary day to come (the 2nd Tuesday of next month).
        Just(json!(nth_weekday_months_ahead(2, chrono::Weekday::Tue, 1))),
        Just(json!("2100-12-31")),
        Just(json!("2101-01-01")),
        Just(json!("2026-02-30")),
    ]
}

fn instant() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!("+262142-12-31T23:59:59Z")),
        Just(json!("-262143-01-01T00:00:00Z")),
        Just(json!("-0001-01-01T00:00:00Z")),
        Just(json!("1999-12-31T23:59:59Z")),
        Just(json!("2000-01-01T00:00:00Z")),
        // An ordinary moment to come: 13:00 UTC on the 2nd Tuesday of next month.
        Just(json!(nth_weekday_months_ahead(2, chrono::Weekday::Tue, 1)
            .and_hms_opt(13, 0, 0)
            .unwrap()
            .and_utc())),
        Just(json!("2100-12-31T23:00:00Z")),
        Just(json!("2101-01-01T00:00:00Z")),
        Just(json!("2026-03-29T01:30:00+01:00")),
    ]
}

fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!(0)),
        Just(json!(1)),
        Just(json!(-1)),
        Just(json!(15)),
        Just(json!(u8::MAX)),
        Just(json!(u32::MAX)),
        Just(json!(u64::MAX)),
        Just(json!(i64::MIN)),
        Just(json!(i64::MAX)),
        Just(json!(9_007_199_254_740_993u64)),
        Just(json!(1e308)),
        Just(json!(-0.5)),
    ]
}

fn text() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!("")),
        Just(json!(" ")),
        Just(json!("x".repeat(200))),
        Just(json!("x".repeat(201))),
        Just(json!("é".repeat(2000))),
        Just(json!("ñ🙂\u{202e}evil\u{0}")),
        Just(json!("https://meet.example.nhs.uk/x")),
        Just(json!("9990000018")),
        "[a-z ]{0,20}".prop_map(Value::String),
    ]
}

fn person_id(f: &'static Fixture) -> impl Strategy<Value = Value> {
    prop_oneof![
        (0..f.people.len()).prop_map(move |i| json!(f.people[i])),
        Just(json!(Uuid::nil())),
        Just(json!(Uuid::max())),
    ]
}

fn people_list(f: &'static Fixture) -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!([])),
        prop::collection::vec(person_id(f), 0..4).prop_map(Value::Array),
        Just(json!(vec![Uuid::nil(); 250])),
        (0..300usize).prop_map(|n| json!((0..n).map(|_| Uuid::new_v4()).collect::<Vec<_>>())),
    ]
}

fn rule() -> impl Strategy<Value = Value> {
    prop_oneof![
        (any::<i8>(), any::<u8>()).prop_map(|(nth, weekday)| json!({"freq": "monthly", "nth": nth, "weekday": weekday})),
        (any::<u8>(), any::<u8>()).prop_map(|(interval, weekday)| json!({"freq": "weekly", "interval": interval, "weekday": weekday})),
        Just(json!({"freq": "monthly", "nth": -1, "weekday": 1})),
    ]
}

fn exceptions() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!([])),
        prop::collection::vec(
            (
                date(),
                prop::option::of(prop_oneof![
                    Just("+262142-01-01T13:00:00".to_string()),
                    // Skipped when the clocks go forward.
                    Just("2026-03-29T01:30:00".to_string()),
                    Just(format!(
                        "{}T14:00:00",
                        nth_weekday_months_ahead(2, chrono::Weekday::Tue, 2)
                    ))
                ])
            ),
            0..5
        )
        .prop_map(|v| json!(v
            .into_iter()
            .map(|(d, m)| json!({"date": d, "moved_to": m}))
            .collect::<Vec<_>>())),
        (0..400usize).prop_map(|n| json!((0..n)
            .map(|i| json!({"date": format!("20{:02}-01-13", i % 100)}))
            .collect::<Vec<_>>())),
    ]
}

/// A value for `field`: usually of the field's own shape, sometimes anything.
fn value_for(f: &'static Fixture, field: &'static str) -> BoxedStrategy<Value> {
    let suited: BoxedStrategy<Value> = match field {
        "starts_at" | "ends_at" | "read_at" | "at" => instant().boxed(),
        "requested_on" | "due" | "last_confirmed" | "first_date" | "until" | "date_of_birth"
        | "summary_sent_on" => {
            prop_oneof![date(), Just(Value::Null)].boxed()
        }
        "rule" => rule().boxed(),
        "exceptions" => exceptions().boxed(),
        "member_ids" | "observer_ids" | "required_people" | "restricted_to" => people_list(f).boxed(),
        "coordinator_id" | "owner_id" | "person_id" | "by" | "author_id" | "deputy_id"
        | "lead_professional_id" | "requested_by" => person_id(f).boxed(),
        "team_id" | "meeting_id" | "item_id" | "brief_id" | "action_id" | "patient_id"
        | "organisation_id" | "registered_practice_id" | "carried_from" => {
            let targets = f.targets.clone();
            prop_oneof![
                (0..targets.len()).prop_map(move |i| json!(targets[i])),
                Just(json!(Uuid::new_v4()))
            ]
            .boxed()
        }
        "minutes" | "position" | "deferrals" | "sequence" | "brief_version" | "default_minutes"
        | "agenda_cutoff_hours" | "brief_cutoff_hours" => number().boxed(),
        "starts" => prop_oneof![Just(json!("13:00:00")), Just(json!("23:59:59")), Just(json!("24:00:00"))].boxed(),
        "commitments" => prop_oneof![
            Just(json!([{"weekday": 200, "starts": "09:00:00", "ends": "10:00:00", "label": "Clinic"}])),
            Just(json!([{"weekday": 1, "starts": "09:00:00", "ends": "10:00:00", "label": "Clinic", "every_weeks": 4, "anchor": "+262142-01-01"}])),
            Just(json!(vec![json!({"weekday": 1, "starts": "09:00:00", "ends": "10:00:00", "label": "Clinic"}); 60])),
        ]
        .boxed(),
        "absences" => prop_oneof![
            Just(json!([{"from": "-262143-01-01", "until": "+262142-12-31", "label": "Away"}])),
            Just(json!([{"from": uk_days_from_today(3), "until": uk_days_from_today(4), "label": "Away"}])),
        ]
        .boxed(),
        "outcome" => prop_oneof![
            Just(json!({"kind": "decision", "text": "x".repeat(5000)})),
            Just(json!({"kind": "deferred", "reason": ""})),
            Just(Value::Null)
        ]
        .boxed(),
        "required_roles" => prop_oneof![
            Just(json!([{"role": "gp", "count": 255}])),
            Just(json!(vec!["gp"; 20])),
            Just(json!([{"role": "gp", "count": 2}])),
        ]
        .boxed(),
        _ => text().boxed(),
    };
    let anything = prop_oneof![
        date(),
        instant(),
        number(),
        text(),
        Just(Value::Null),
        Just(json!(true)),
        Just(json!({})),
        Just(json!([])),
    ];
    prop_oneof![4 => suited, 1 => anything].boxed()
}

#[derive(Debug, Clone)]
struct Case {
    role: usize,
    /// Which template (so which kind).
    template: usize,
    /// 0: create a new record from the template; 1: change the stored one; 2: delete it.
    op: u8,
    /// 0: the stored version (most cases); 1: 0; 2: one above; 3: u64::MAX.
    base: u8,
    /// Fields replaced, with their new values.
    perturb: Vec<(String, Value)>,
}

/// Values that only break things together: a series whose first date and skipped date are
/// both at the edge (expanding it used to loop for ever).
fn series_pair() -> impl Strategy<Value = Vec<(String, Value)>> {
    date().prop_map(|d| {
        vec![
            ("first_date".to_owned(), d.clone()),
            ("exceptions".to_owned(), json!([{"date": d}])),
        ]
    })
}

fn case() -> impl Strategy<Value = Case> {
    let f = fixture();
    (0..f.templates.len())
        .prop_flat_map(move |t| {
            let kind = f.templates[t].0;
            let names = kind.field_names();
            let single = prop::collection::vec(
                (0..names.len()).prop_flat_map(move |i| {
                    let name = names[i];
                    value_for(f, name).prop_map(move |v| (name.to_owned(), v))
                }),
                1..4,
            );
            let perturb = if kind == EntityKind::Series {
                prop_oneof![4 => single, 1 => series_pair()].boxed()
            } else {
                single.boxed()
            };
            (
                0..ROLES.len(),
                Just(t),
                prop_oneof![3 => Just(0u8), 6 => Just(1u8), 1 => Just(2u8)],
                prop_oneof![8 => Just(0u8), 1 => Just(1u8), 1 => Just(2u8), 1 => Just(3u8)],
                perturb,
            )
        })
        .prop_map(|(role, template, op, base, perturb)| Case {
            role,
            template,
            op,
            base,
            perturb,
        })
}

fn run(c: Case) -> Result<(), TestCaseError> {
    let f = fixture();
    let h = f.harness;
    let mut c = c;
    let (kind, stored_id, template) = &f.templates[c.template];
    let id = if c.op == 0 {
        Uuid::new_v4()
    } else {
        *stored_id
    };
    // The coordinator never hands over nor touches the restricted item here, so that the
    // invariants below are exact.
    if c.role == 0 {
        c.perturb
            .retain(|(name, _)| name != "coordinator_id" && name != "archived");
        if id == f.secret_item || id == f.secret_brief {
            c.role = 1;
        }
    }
    let current = h
        .store
        .write_blocking(|conn| mdt::server::store::current_version(conn, id))
        .unwrap();
    let base_version = match (c.op, c.base) {
        (0, _) | (_, 1) => 0,
        (_, 0) => current,
        (_, 2) => current + 1,
        _ => u64::MAX,
    };
    let (cookie, device, seq) = {
        let mut clients = f.clients.lock().unwrap();
        let entry = &mut clients[c.role];
        entry.2 += 1;
        entry.clone()
    };
    let mut fields = if c.op == 0 {
        template.clone()
    } else {
        Map::new()
    };
    for (name, value) in &c.perturb {
        fields.insert(name.clone(), value.clone());
    }
    let op = if c.op == 2 {
        json!({"kind": "delete"})
    } else {
        json!({"kind": "update", "fields": fields})
    };
    let body = json!({"device_id": device, "mutations": [{"mutation_id": Uuid::new_v4(), "seq": seq,
        "entity": kind.as_str(), "id": id, "base_version": base_version, "op": op}]});
    let team_before = h
        .store
        .write_blocking(|conn| {
            mdt::server::store::record_with_version::<mdt::core::entities::Team>(conn, f.team)
        })
        .unwrap();
    let started = Instant::now();
    // From a thread of its own, so a push that hangs fails the case instead of the test.
    let request = json_request("POST", "/api/sync/push", &body, Some(&cookie));
    let (status, answer) =
        send_within(h.app.clone(), request, common::HANG_DEADLINE).ok_or_else(|| {
            TestCaseError::fail(format!(
                "no answer within {:?} (a hang): {body}",
                common::HANG_DEADLINE
            ))
        })?;
    prop_assert!(started.elapsed() < common::HANG_DEADLINE, "hung: {body}");
    prop_assert!(status.as_u16() < 500, "{status} for {body}: {answer}");
    prop_assert_eq!(status.as_u16(), 200, "{}: {}", body, answer);

    // Invariants: the team is there, coordinated by Pat, and changed by nobody but Pat.
    let team = h
        .store
        .write_blocking(|conn| {
            mdt::server::store::record_with_version::<mdt::core::entities::Team>(conn, f.team)
        })
        .unwrap();
    let (team, version) =
        team.ok_or_else(|| TestCaseError::fail(format!("the team is gone after {body}")))?;
    prop_assert_eq!(
        team.coordinator_id,
        f.pat,
        "coordinator changed by {}",
        body
    );
    if c.role != 0 {
        prop_assert_eq!(
            Some(version),
            team_before.map(|(_, v)| v),
            "the {} changed the team: {} -> {}",
            ROLES[c.role],
            body,
            answer
        );
    }
    Ok(())
}

/// Nobody outside the restricted item ever pulls its content.
fn restricted_content_stays_in(f: &'static Fixture) -> Result<(), TestCaseError> {
    let clients = f.clients.lock().unwrap().clone();
    for (role, (cookie, _, _)) in clients.iter().enumerate().skip(1) {
        let (_, _, pulled) = f
            .runtime
            .block_on(f.harness.send(get("/api/sync/pull?since=0", Some(cookie))));
        prop_assert!(
            !pulled.to_string().contains(SECRET),
            "the {} pulled restricted content",
            ROLES[role]
        );
    }
    Ok(())
}

proptest! {
    // No shrinking: the cases share one server, so the first failure is the one to report.
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, max_shrink_iters: 0, ..ProptestConfig::default() })]

    #[test]
    fn well_formed_pushes_with_extreme_values_never_break_the_rules(c in case()) {
        run(c)?;
        static COUNT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        if COUNT
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            .is_multiple_of(100)
        {
            restricted_content_stays_in(fixture())?;
        }
    }
}
