//! A pull reads only what its person may see (docs/region.md): counted, not timed. A new
//! device among ten teams is given exactly its person's records in the fewest pages, a poll
//! after other teams' work decodes none of theirs, and across random teams, memberships,
//! contacts, organisations and restrictions every person's pull is exactly what the
//! visibility rules give them. Runs on whichever engine the run asks for (SQLite, or
//! PostgreSQL with `MDT_TEST_DATABASE_URL`).

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use axum::http::StatusCode;
use common::{item, meeting, patient, team, Client, Harness};
use mdt::core::access;
use mdt::core::agenda::AgendaItem;
use mdt::core::brief::{brief_id_for, Brief};
use mdt::core::entities::{Entity, Role, Team};
use mdt::core::sync::{SyncRecord, MAX_PULL_RECORDS};
use proptest::prelude::*;
use serde_json::{json, Value};
use tower::ServiceExt;
use uuid::Uuid;

/// The `n`th synthetic NHS number in the 999 test range with a valid check digit.
fn nhs_number(n: u32) -> String {
    let mut candidate = 0u32;
    let mut found = 0u32;
    loop {
        let digits = format!("999{candidate:06}");
        let sum: u32 = digits
            .chars()
            .zip((2..=10).rev())
            .map(|(d, w)| d.to_digit(10).unwrap() * w)
            .sum();
        let check = (11 - sum % 11) % 11;
        candidate += 1;
        if check == 10 {
            continue;
        }
        if found == n {
            return format!("{digits}{check}");
        }
        found += 1;
    }
}

/// Pushes `mutations` in batches the server accepts, asserting each is applied.
async fn push_all(client: &Client<'_>, mutations: Vec<Value>) {
    for batch in mutations.chunks(500) {
        for result in client.push(batch.to_vec()).await {
            assert_eq!(result["status"], "applied", "{result}");
        }
    }
}

/// A new device's first sync: pages until the server says there is no more. Returns the
/// records (id → record) and how many requests it took, and the cursor.
async fn first_sync(client: &Client<'_>) -> (Vec<Value>, usize, u64) {
    let (mut records, mut requests, mut since) = (Vec::new(), 0, 0);
    loop {
        let page = client.pull(since).await;
        requests += 1;
        records.extend(page["records"].as_array().unwrap().iter().cloned());
        since = page["cursor"].as_u64().unwrap();
        if page["more"] == false {
            return (records, requests, since);
        }
        assert!(requests < 100, "a first sync that never ends");
    }
}

fn ids(records: &[Value]) -> BTreeSet<String> {
    records
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

/// One team of the region, as made by [`make_team`].
struct RegionTeam {
    team_id: Uuid,
    coordinator: Uuid,
    coordinator_email: String,
    member: Uuid,
    member_email: String,
    /// Every record a member of the team may see (the team's records, its people and the
    /// organisations they use).
    visible: BTreeSet<String>,
}

/// A team with a coordinator and a member who can sign in, the organisation the coordinator
/// works for, a practice one of its patients is registered with, a meeting and `patients`
/// patients.
async fn make_team(h: &Harness, t: usize, patients: u32) -> RegionTeam {
    let coordinator_email = format!("coordinator{t}@example.nhs.net");
    let member_email = format!("member{t}@example.gov.uk");
    let coordinator = h.user(&coordinator_email, &format!("Coordinator {t}"), Role::Gp);
    let member = h.user(&member_email, &format!("Member {t}"), Role::SocialWorker);
    let mut c = h.sign_in(&coordinator_email, coordinator).await;
    let (team_id, employer, practice, meeting_id) = (
        Uuid::new_v4(),
        Uuid::new_v4(),
        Uuid::new_v4(),
        Uuid::new_v4(),
    );
    let mut batch = vec![
        c.mutation(
            "organisation",
            employer,
            0,
            json!({"name": format!("Trust {t}"), "kind": "community_trust"}),
        ),
        c.mutation(
            "organisation",
            practice,
            0,
            json!({"name": format!("Surgery {t}"), "kind": "gp_practice"}),
        ),
        c.mutation(
            "person",
            coordinator,
            1,
            json!({"organisation_id": employer}),
        ),
    ];
    push_all(&c, std::mem::take(&mut batch)).await;
    assert_eq!(
        c.put(
            team_id,
            0,
            &team(&format!("Team {t}"), coordinator, vec![member])
        )
        .await["status"],
        "applied"
    );
    assert_eq!(
        c.put(meeting_id, 0, &meeting(team_id)).await["status"],
        "applied"
    );
    let mut visible: BTreeSet<String> =
        [team_id, meeting_id, coordinator, member, employer, practice]
            .iter()
            .map(Uuid::to_string)
            .collect();
    for n in 0..patients {
        let id = Uuid::new_v4();
        let mut p = patient(team_id, &nhs_number(n), &format!("Synthetic Patient {n}"));
        if n == 0 {
            p.registered_practice_id = Some(practice);
        }
        batch.push(c.mutation("patient", id, 0, Value::Object(p.to_fields())));
        visible.insert(id.to_string());
    }
    push_all(&c, batch).await;
    RegionTeam {
        team_id,
        coordinator,
        coordinator_email,
        member,
        member_email,
        visible,
    }
}

#[tokio::test]
async fn a_new_device_among_ten_teams_gets_exactly_its_persons_records_in_the_fewest_pages() {
    let h = Harness::new();
    // The first team holds more than a page of records; nine others are busy around it.
    let mut region = vec![make_team(&h, 0, MAX_PULL_RECORDS as u32 + 150).await];
    for t in 1..10 {
        region.push(make_team(&h, t, 40).await);
    }
    let mine = &region[0];
    let member = h.sign_in(&mine.member_email, mine.member).await;

    let decoded_before = h.store.pull_rows_decoded();
    let (records, requests, cursor) = first_sync(&member).await;
    let decoded = h.store.pull_rows_decoded() - decoded_before;
    assert_eq!(
        ids(&records),
        mine.visible,
        "the team's records, its people and the organisations they use"
    );
    assert_eq!(records.len(), mine.visible.len(), "each record once");
    assert_eq!(
        requests,
        mine.visible.len().div_ceil(MAX_PULL_RECORDS),
        "one request per page of what the member may see, none more"
    );
    assert_eq!(
        decoded,
        records.len() as u64,
        "no record of another team (or of the directory they do not use) was read"
    );

    // The other teams carry on: new patients, renamed organisations, changed people.
    for other in &region[1..] {
        let mut c = h.sign_in(&other.coordinator_email, other.coordinator).await;
        let p = patient(other.team_id, &nhs_number(500), "Synthetic Newcomer");
        let batch = vec![
            c.mutation("patient", Uuid::new_v4(), 0, Value::Object(p.to_fields())),
            c.mutation(
                "person",
                other.coordinator,
                2,
                json!({"phone": "01632 960 123"}),
            ),
        ];
        push_all(&c, batch).await;
    }
    let decoded_before = h.store.pull_rows_decoded();
    let poll = member.pull(cursor).await;
    assert_eq!(
        poll["records"],
        json!([]),
        "nothing of the member's changed"
    );
    assert!(
        poll["cursor"].as_u64().unwrap() > cursor,
        "the cursor moves past the other teams' changes"
    );
    assert_eq!(
        h.store.pull_rows_decoded(),
        decoded_before,
        "a poll after other teams' work reads none of their records"
    );

    // Their own team's change reaches them, and only it is read.
    let cursor = poll["cursor"].as_u64().unwrap();
    let mut c = h.sign_in(&mine.coordinator_email, mine.coordinator).await;
    let newcomer = Uuid::new_v4();
    let p = patient(mine.team_id, &nhs_number(5000), "Synthetic Newcomer");
    let add = c.mutation("patient", newcomer, 0, Value::Object(p.to_fields()));
    push_all(&c, vec![add]).await;
    let decoded_before = h.store.pull_rows_decoded();
    let poll = member.pull(cursor).await;
    assert_eq!(
        ids(poll["records"].as_array().unwrap()),
        BTreeSet::from([newcomer.to_string()])
    );
    assert_eq!(h.store.pull_rows_decoded() - decoded_before, 1);
}

#[tokio::test]
async fn an_organisation_already_behind_the_cursor_comes_with_the_person_who_now_uses_it() {
    let h = Harness::new();
    let a = make_team(&h, 0, 1).await;
    let b = make_team(&h, 1, 1).await;
    let member = h.sign_in(&a.member_email, a.member).await;
    let (_, _, cursor) = first_sync(&member).await;
    // Team 1's trust existed before the member's sync and is not theirs to see...
    let theirs = h.sign_in(&b.coordinator_email, b.coordinator).await;
    let trust = theirs.pull(0).await["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["entity"] == "organisation" && r["fields"]["kind"] == "community_trust")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // ...until their coordinator, who works there, joins the member's team.
    let mut coordinator = h.sign_in(&a.coordinator_email, a.coordinator).await;
    let pulled = coordinator.pull(0).await;
    let stored = common::find(&pulled, a.team_id).unwrap();
    let mut joined = Team::from_fields(stored["fields"].as_object().unwrap()).unwrap();
    joined.member_ids.push(b.coordinator);
    let version = stored["version"].as_u64().unwrap();
    assert_eq!(
        coordinator.put(a.team_id, version, &joined).await["status"],
        "applied"
    );
    let poll = member.pull(cursor).await;
    let got = ids(poll["records"].as_array().unwrap());
    assert!(got.contains(&b.coordinator.to_string()), "the new teammate");
    assert!(
        got.contains(&trust),
        "and the organisation they work for: {got:?}"
    );
}

/// A small region: who is in which team, who added which contact and organisation, who works
/// where, and restricted discussions.
#[derive(Debug, Clone)]
struct Model {
    /// For each team: its coordinator (a user), and each user's place in it (0 none, 1 member,
    /// 2 observer) and each contact's (0 none, 1 member).
    teams: Vec<(usize, Vec<u8>, Vec<u8>)>,
    /// Organisations, by the user who added them.
    organisations: Vec<usize>,
    /// Where each user works (an index into `organisations`, taken modulo).
    works_at: Vec<Option<usize>>,
    /// Contacts without an account: who added them and where they work.
    contacts: Vec<(usize, Option<usize>)>,
    /// For each team, the practice of its one patient (an organisation, modulo).
    practices: Vec<Option<usize>>,
    /// For each team, a restricted discussion: its lead (a user) and whom the coordinator names.
    restricted: Vec<Option<(usize, Vec<bool>)>>,
}

const USERS: usize = 4;

fn model() -> impl Strategy<Value = Model> {
    let team = (
        0..USERS,
        proptest::collection::vec(0u8..3, USERS),
        proptest::collection::vec(0u8..2, 2),
    );
    (
        proptest::collection::vec(team, 1..=3),
        proptest::collection::vec(0..USERS, 0..=3),
        proptest::collection::vec(proptest::option::of(0usize..3), USERS),
        proptest::collection::vec((0..USERS, proptest::option::of(0usize..3)), 0..=2),
        proptest::collection::vec(proptest::option::of(0usize..3), 3),
        proptest::collection::vec(
            proptest::option::of((0..USERS, proptest::collection::vec(any::<bool>(), USERS))),
            3,
        ),
    )
        .prop_map(
            |(teams, organisations, works_at, contacts, practices, restricted)| Model {
                teams,
                organisations,
                works_at,
                contacts,
                practices,
                restricted,
            },
        )
}

/// Builds the model through the push API and checks every user's pull against the rules,
/// worked out here from the model alone (and, for restricted records, the core's rule).
async fn check_model(m: &Model) {
    let h = Harness::new();
    let emails: Vec<String> = (0..USERS)
        .map(|u| format!("user{u}@example.nhs.net"))
        .collect();
    let people: Vec<Uuid> = (0..USERS)
        .map(|u| h.user(&emails[u], &format!("Synthetic User {u}"), Role::Gp))
        .collect();
    let mut clients = Vec::new();
    for u in 0..USERS {
        clients.push(h.sign_in(&emails[u], people[u]).await);
    }
    let organisations: Vec<Uuid> = m.organisations.iter().map(|_| Uuid::new_v4()).collect();
    for (o, &by) in m.organisations.iter().enumerate() {
        let c = &mut clients[by];
        let org = c.mutation(
            "organisation",
            organisations[o],
            0,
            json!({"name": format!("Organisation {o}"), "kind": "other"}),
        );
        push_all(c, vec![org]).await;
    }
    let org_at = |choice: Option<usize>| {
        choice
            .filter(|_| !organisations.is_empty())
            .map(|i| organisations[i % organisations.len()])
    };
    for u in 0..USERS {
        if let Some(org) = org_at(m.works_at[u]) {
            let c = &mut clients[u];
            let change = c.mutation("person", people[u], 1, json!({"organisation_id": org}));
            push_all(c, vec![change]).await;
        }
    }
    let mut contacts = Vec::new();
    for (n, &(by, works)) in m.contacts.iter().enumerate() {
        let id = Uuid::new_v4();
        let mut p = common::person(&format!("Synthetic Contact {n}"), Role::DistrictNurse);
        p.organisation_id = org_at(works);
        let c = &mut clients[by];
        let create = c.mutation("person", id, 0, Value::Object(p.to_fields()));
        push_all(c, vec![create]).await;
        contacts.push(id);
    }
    // Teams, each with a meeting, a patient and perhaps a restricted discussion with a brief.
    let mut team_records: Vec<BTreeSet<Uuid>> = Vec::new();
    let mut teams = Vec::new();
    let mut restricted_records: Vec<(Uuid, usize)> = Vec::new();
    for (t, (coordinator, places, contact_places)) in m.teams.iter().enumerate() {
        let mut tm = team(&format!("Team {t}"), people[*coordinator], vec![]);
        for u in (0..USERS).filter(|u| u != coordinator) {
            match places[u] {
                1 => tm.member_ids.push(people[u]),
                2 => tm.observer_ids.push(people[u]),
                _ => {}
            }
        }
        for (k, contact) in contacts.iter().enumerate() {
            if contact_places[k % 2] == 1 && !tm.member_ids.contains(contact) {
                tm.member_ids.push(*contact);
            }
        }
        let c = &mut clients[*coordinator];
        let (team_id, meeting_id, patient_id) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        assert_eq!(c.put(team_id, 0, &tm).await["status"], "applied");
        assert_eq!(
            c.put(meeting_id, 0, &meeting(team_id)).await["status"],
            "applied"
        );
        let mut p = patient(team_id, common::NHS_A, "Ada Synthetic");
        p.registered_practice_id = org_at(m.practices[t]);
        assert_eq!(c.put(patient_id, 0, &p).await["status"], "applied");
        let mut records = BTreeSet::from([team_id, meeting_id, patient_id]);
        if let Some((lead, named)) = &m.restricted[t] {
            let in_team: Vec<Uuid> = tm
                .member_ids
                .iter()
                .chain(&tm.observer_ids)
                .copied()
                .collect();
            let lead = people[*lead];
            let item_id = Uuid::new_v4();
            let restricted = AgendaItem {
                restricted: true,
                lead_professional_id: Some(if in_team.contains(&lead) {
                    lead
                } else {
                    people[*coordinator]
                }),
                restricted_to: (0..USERS)
                    .filter(|u| named[*u] && in_team.contains(&people[*u]))
                    .map(|u| people[u])
                    .collect(),
                ..item(team_id, meeting_id, patient_id, people[*coordinator], 1024)
            };
            assert_eq!(c.put(item_id, 0, &restricted).await["status"], "applied");
            let brief = Brief {
                team_id,
                item_id,
                author_id: people[*coordinator],
                situation: "Lives alone".into(),
                ..Brief::default()
            };
            assert_eq!(
                c.put(brief_id_for(item_id), 0, &brief).await["status"],
                "applied"
            );
            records.extend([item_id, brief_id_for(item_id)]);
            restricted_records.extend([(item_id, t), (brief_id_for(item_id), t)]);
        }
        team_records.push(records);
        teams.push((team_id, tm));
    }

    // What each user may see, from the model.
    let stored = |id: Uuid| -> SyncRecord {
        h.store
            .read_blocking(move |db| mdt::server::store::load_record(db, id))
            .unwrap()
            .unwrap()
            .0
    };
    for u in 0..USERS {
        let me = people[u];
        let my_teams: Vec<usize> = (0..teams.len())
            .filter(|&t| teams[t].1.includes(me) || teams[t].1.observer_ids.contains(&me))
            .collect();
        let mut expected: BTreeSet<Uuid> = BTreeSet::from([me]);
        let mut seen_people = BTreeSet::from([me]);
        for &t in &my_teams {
            expected.extend(&team_records[t]);
            let tm = &teams[t].1;
            seen_people.extend(
                std::iter::once(tm.coordinator_id)
                    .chain(tm.member_ids.iter().copied())
                    .chain(tm.observer_ids.iter().copied()),
            );
        }
        for (k, &(by, _)) in m.contacts.iter().enumerate() {
            if by == u {
                seen_people.insert(contacts[k]);
            }
        }
        expected.extend(&seen_people);
        let works_for: HashMap<Uuid, Option<Uuid>> = (0..USERS)
            .map(|v| (people[v], org_at(m.works_at[v])))
            .chain(
                m.contacts
                    .iter()
                    .enumerate()
                    .map(|(k, &(_, w))| (contacts[k], org_at(w))),
            )
            .collect();
        for person in &seen_people {
            expected.extend(works_for[person]);
        }
        for &t in &my_teams {
            expected.extend(org_at(m.practices[t]));
        }
        for (o, &by) in m.organisations.iter().enumerate() {
            if by == u {
                expected.insert(organisations[o]);
            }
        }

        let (records, _, _) = first_sync(&clients[u]).await;
        let got: BTreeMap<String, Value> = records
            .iter()
            .map(|r| (r["id"].as_str().unwrap().to_owned(), r.clone()))
            .collect();
        let expected_ids: BTreeSet<String> = expected.iter().map(Uuid::to_string).collect();
        assert_eq!(
            got.keys().cloned().collect::<BTreeSet<_>>(),
            expected_ids,
            "user {u}: what they may see, no more and no less ({m:?})"
        );
        // Restricted records: whole, withheld or hidden as the core's rule says.
        for &(id, t) in &restricted_records {
            if !my_teams.contains(&t) {
                continue;
            }
            let whole = stored(id);
            let item_id = if whole.entity == mdt::core::record::EntityKind::AgendaItem {
                id
            } else {
                whole.uuid_field("item_id").unwrap()
            };
            let item = AgendaItem::from_fields(&stored(item_id).fields).unwrap();
            let sight = access::sight(whole.entity, &item, &teams[t].1, me, None);
            let want = serde_json::to_value(access::copy_for(&whole, sight)).unwrap();
            assert_eq!(
                got[&id.to_string()],
                want,
                "user {u}: {:?} of a restricted record",
                sight
            );
        }
    }
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .map_or(24, |c: u32| c.min(24))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn every_pull_is_exactly_what_its_person_may_see(m in model()) {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(check_model(&m));
    }
}

/// PostgreSQL only (SQLite reads the head and the session on the request's own thread, in
/// microseconds, and remembers nothing): a server that hears the region's news answers a poll
/// at the head, and the session behind it, without taking a database connection.
#[tokio::test]
async fn on_postgresql_a_poll_at_the_head_takes_no_database_connection() {
    if common::test_database_url().is_none() {
        return;
    }
    let h = Harness::new();
    let mine = make_team(&h, 0, 3).await;
    let member = h.sign_in(&mine.member_email, mine.member).await;
    let (_, _, cursor) = first_sync(&member).await;
    let before = h.store.database_checkouts();
    for _ in 0..20 {
        let poll = member.pull(cursor).await;
        assert_eq!(poll["records"], json!([]));
        assert_eq!(poll["cursor"].as_u64(), Some(cursor));
    }
    assert_eq!(
        h.store.database_checkouts(),
        before,
        "twenty polls at the head, none of them at the database"
    );
    // A change moves the head: the next poll goes to the database and brings it.
    let mut c = h.sign_in(&mine.coordinator_email, mine.coordinator).await;
    let newcomer = Uuid::new_v4();
    let p = patient(mine.team_id, &nhs_number(900), "Synthetic Newcomer");
    let add = c.mutation("patient", newcomer, 0, Value::Object(p.to_fields()));
    push_all(&c, vec![add]).await;
    let poll = member.pull(cursor).await;
    assert_eq!(
        ids(poll["records"].as_array().unwrap()),
        BTreeSet::from([newcomer.to_string()])
    );
    let cursor = poll["cursor"].as_u64().unwrap();
    let before = h.store.database_checkouts();
    assert_eq!(member.pull(cursor).await["records"], json!([]));
    assert_eq!(h.store.database_checkouts(), before);
}

/// Asks `app` who is signed in with `cookie` until it answers `want`; the status it gave.
async fn status_within(app: &axum::Router, cookie: &str, want: StatusCode) -> StatusCode {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let response = app
            .clone()
            .oneshot(common::get("/api/session", Some(cookie)))
            .await
            .unwrap();
        if response.status() == want || std::time::Instant::now() > deadline {
            return response.status();
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// PostgreSQL only (see above): a session another server remembers stops working there as soon
/// as that server hears it ended — signed out, or the account disabled — well before the
/// memory would lapse by itself ([`mdt::server::store::memory::SESSION_MEMORY`]).
#[tokio::test]
async fn on_postgresql_an_ended_session_stops_working_on_every_server_when_it_hears() {
    if common::test_database_url().is_none() {
        return;
    }
    assert!(mdt::server::store::memory::SESSION_MEMORY > std::time::Duration::from_secs(20));
    let h = Harness::new();
    let other_store = h.place.open();
    let other = mdt::server::app(mdt::server::AppState::new(
        other_store.clone(),
        mdt::server::Config::default(),
    ));
    let person = h.user("ada.synthetic@example.nhs.net", "Ada Synthetic", Role::Gp);
    for ending in ["sign out", "disable"] {
        let client = h.sign_in("ada.synthetic@example.nhs.net", person).await;
        assert_eq!(
            status_within(&other, &client.cookie, StatusCode::OK).await,
            StatusCode::OK
        );
        let before = other_store.database_checkouts();
        assert_eq!(
            status_within(&other, &client.cookie, StatusCode::OK).await,
            StatusCode::OK
        );
        assert_eq!(
            other_store.database_checkouts(),
            before,
            "the other server remembers the session"
        );
        match ending {
            "sign out" => {
                let request = axum::http::Request::delete("/api/session")
                    .header("cookie", &client.cookie)
                    .header("x-requested-with", "mdt-app")
                    .body(axum::body::Body::empty())
                    .unwrap();
                assert!(h.send(request).await.0.is_success());
            }
            _ => {
                assert!(h
                    .store
                    .write_blocking(|db| mdt::server::store::set_disabled(
                        db,
                        "ada.synthetic@example.nhs.net",
                        true
                    ))
                    .unwrap());
            }
        }
        assert_eq!(
            status_within(&other, &client.cookie, StatusCode::UNAUTHORIZED).await,
            StatusCode::UNAUTHORIZED,
            "after {ending}, the other server stops answering the session"
        );
        h.store
            .write_blocking(|db| {
                mdt::server::store::set_disabled(db, "ada.synthetic@example.nhs.net", false)
            })
            .unwrap();
    }
}
