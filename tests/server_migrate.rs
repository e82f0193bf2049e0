//! Moving up from the embedded database to PostgreSQL: `mdt-server migrate` copies the demo
//! installation plus a team of 10,000 records, and the copy checks out: every table's rows,
//! the audit chain to its last hash, the change log's head; people sign in on the new database
//! and their devices carry on from their cursors. Runs in the PostgreSQL pass of the tests.

mod common;

use std::process::Command;

use chrono::Utc;
use mdt::core::entities::{Entity, Role, Team};
use mdt::core::patient::Patient;
use mdt::core::sync::{Mutation, MutationOp};
use mdt::server::demo::{add_user, load_demo, NewUser, DEMO_PASSWORD};
use mdt::server::store::{self, migrate, Actor, Store};
use mdt::server::{app, AppState, Config};
use serde_json::json;
use uuid::Uuid;

use common::*;

/// The demo, and a coordinator whose team holds 10,000 patients (pulled once, so the audit
/// trail holds their reads too).
fn embedded_installation(dir: &std::path::Path) -> Store {
    let store = Store::open(dir).unwrap();
    load_demo(&store, Utc::now()).unwrap();
    let user = add_user(
        &store,
        &NewUser {
            email: "big.team@example.nhs.net",
            name: "Bea Coordinator",
            role: Role::PracticeManager,
            password: PASSWORD,
        },
        Utc::now(),
    )
    .unwrap();
    let actor = Actor {
        user_id: user.id,
        person_id: user.person_id,
        name: "Bea Coordinator".into(),
        session: "test".into(),
    };
    let team_id = Uuid::new_v4();
    let device = Uuid::new_v4();
    let mut seq = 0;
    let mut mutation = |id: Uuid, entity: mdt::core::entities::EntityKind, fields| {
        seq += 1;
        Mutation {
            mutation_id: Uuid::new_v4(),
            seq,
            entity,
            id,
            base_version: 0,
            op: MutationOp::Update { fields },
        }
    };
    let mut team = team("Big Synthetic MDT", user.person_id, vec![]);
    team.required_roles.clear();
    let first = vec![mutation(team_id, Team::KIND, team.to_fields())];
    store
        .push_blocking(&actor, device, &first, Utc::now())
        .unwrap();
    let numbers: Vec<String> = mdt::core::patient::synthetic_nhs_numbers()
        .take(10_000)
        .collect();
    for chunk in numbers.chunks(500) {
        let batch: Vec<Mutation> = chunk
            .iter()
            .map(|nhs| {
                let p = Patient {
                    nhs_number: nhs.clone(),
                    ..patient(team_id, nhs, "Synthetic Patient")
                };
                mutation(Uuid::new_v4(), Patient::KIND, p.to_fields())
            })
            .collect();
        let results = store
            .push_blocking(&actor, device, &batch, Utc::now())
            .unwrap();
        assert!(results
            .iter()
            .all(|r| matches!(r, mdt::core::sync::MutationResult::Applied { .. })));
    }
    let mut cursor = 0;
    loop {
        let page = store.pull_blocking(&actor, cursor).unwrap();
        cursor = page.cursor;
        if !page.more {
            break;
        }
    }
    store
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_embedded_installation_moves_to_postgresql_whole_and_checked() {
    let target = TestDatabase::new();
    let Some(url) = target.url() else {
        eprintln!("skipped: runs in the PostgreSQL pass (MDT_TEST_DATABASE_URL)");
        return;
    };
    let source_dir = tempfile::tempdir().unwrap();
    let source = tokio::task::block_in_place(|| embedded_installation(source_dir.path()));
    let (records, audit_entries, latest) = source
        .read_blocking(|db| {
            Ok((
                db.query_one("SELECT COUNT(*) FROM records", &[])?.int(0)?,
                mdt::server::audit::verify(db)?.unwrap(),
                store::latest_change(db)?,
            ))
        })
        .unwrap();
    assert!(records > 10_000, "{records}");
    assert!(
        audit_entries > 20_000,
        "creations and reads: {audit_entries}"
    );
    drop(source);

    // The operator's command, as the README gives it.
    let out = Command::new(env!("CARGO_BIN_EXE_mdt-server"))
        .args(["migrate", "--from-sqlite"])
        .arg(source_dir.path())
        .args(["--to", &url])
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{printed}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        printed.contains(&format!("records: {records} rows")),
        "{printed}"
    );
    assert!(
        printed.contains(&format!("{audit_entries} audit entries")),
        "{printed}"
    );

    // The copy: the same chain, the same head of the change log.
    let copy = target.open();
    let (copied_audit, copied_latest) = copy
        .read_blocking(|db| {
            Ok((
                mdt::server::audit::verify(db)?.unwrap(),
                store::latest_change(db)?,
            ))
        })
        .unwrap();
    assert_eq!((copied_audit, copied_latest), (audit_entries, latest));

    // A second run into the same database refuses (it is no longer empty) and changes nothing.
    let again = Store::open(source_dir.path()).unwrap();
    let refused = tokio::task::block_in_place(|| migrate::copy(&again, &copy, &mut |_| {}));
    assert!(
        refused.unwrap_err().to_string().contains("empty database"),
        "a second copy is refused"
    );

    // People sign in on the new database and see their teams; a device carries on from its
    // cursor (nothing new) and its next change is numbered after the copied ones.
    let server = Harness {
        app: app(AppState::new(copy.clone(), Config::default())),
        store: copy.clone(),
        place: TestDatabase::new(),
        recovery_codes: Default::default(),
        organisation: Default::default(),
    };
    let (status, _, body) = server
        .send(json_request(
            "POST",
            "/api/session",
            &json!({"email": "priya.example@demo.nhs.test", "password": DEMO_PASSWORD}),
            None,
        ))
        .await;
    assert_eq!(status, 200, "{body}");
    let bea = server
        .sign_in("big.team@example.nhs.net", {
            copy.read_blocking(|db| store::find_user_by_email(db, "big.team@example.nhs.net"))
                .unwrap()
                .unwrap()
                .person_id
        })
        .await;
    let nothing_new = bea.pull(latest).await;
    assert_eq!(nothing_new["records"], json!([]));
    assert_eq!(nothing_new["cursor"], json!(latest));
    let everything = bea.pull(0).await;
    assert!(everything["records"].as_array().unwrap().len() > 100);
}
