//! Backups of the embedded database (issue 30), with the real binary: `mdt-server backup`
//! while eight devices push without pause, restored with `mdt-server restore` into an empty
//! directory; copies damaged three ways refused; a backup killed at random moments never
//! leaving half a file where the copy goes. SQLite only (a region's PostgreSQL is backed up
//! with its own tools), so this file does nothing when the run is on PostgreSQL.

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use common::{request, PASSWORD};
use mdt::server::store::{self, backup, Store};
use serde_json::{json, Value};
use uuid::Uuid;

fn on_postgresql() -> bool {
    common::test_database_url().is_some()
}

fn mdt_server(data_dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mdt-server"));
    command
        .arg("--data-dir")
        .arg(data_dir)
        .env("RUST_LOG", "warn");
    command
}

fn run(command: &mut Command) -> Output {
    command.stdin(Stdio::null()).output().unwrap()
}

fn words(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A data directory with Pat's account and the demo's teams, patients and audit trail, plus
/// `extra` directory entries so a copy takes a little while.
fn populated(dir: &Path, extra: usize) -> Store {
    let store = Store::open(dir).unwrap();
    mdt::server::demo::load_demo(&store, Utc::now()).unwrap();
    let user = mdt::server::demo::add_user(
        &store,
        &mdt::server::demo::NewUser {
            email: "pat.coordinator@example.nhs.net",
            name: "Pat Coordinator",
            role: mdt::core::entities::Role::PracticeManager,
            password: PASSWORD,
        },
        Utc::now(),
    )
    .unwrap();
    let actor = store::Actor {
        user_id: user.id,
        person_id: user.person_id,
        name: "Pat Coordinator".into(),
        session: "test".into(),
    };
    let device = Uuid::new_v4();
    for (batch, seq) in (0..extra).collect::<Vec<_>>().chunks(100).zip(1u64..) {
        let mutations: Vec<mdt::core::sync::Mutation> = batch
            .iter()
            .enumerate()
            .map(|(i, n)| {
                serde_json::from_value(json!({
                    "mutation_id": Uuid::new_v4(), "seq": (seq - 1) * 100 + i as u64 + 1,
                    "entity": "organisation", "id": Uuid::new_v4(), "base_version": 0,
                    "op": {"kind": "update", "fields": {"name": format!("Filler practice {n} of a busy region's directory"), "kind": "gp_practice"}}
                }))
                .unwrap()
            })
            .collect();
        store
            .push_blocking(&actor, device, &mutations, Utc::now())
            .unwrap();
    }
    store
}

fn partials_in(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".partial-"))
        .collect()
}

struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A device pushing one new directory entry after another until told to stop: the ids the
/// server acknowledged, in order.
async fn keep_pushing(
    addr: SocketAddr,
    cookie: String,
    stop: Arc<AtomicBool>,
    acked: Arc<Mutex<Vec<Uuid>>>,
) {
    let device = Uuid::new_v4();
    let mut seq = 0;
    while !stop.load(Ordering::Relaxed) {
        seq += 1;
        let id = Uuid::new_v4();
        let body = json!({"device_id": device, "mutations": [{
            "mutation_id": Uuid::new_v4(), "seq": seq, "entity": "organisation", "id": id,
            "base_version": 0, "op": {"kind": "update", "fields": {"name": format!("Practice {id}"), "kind": "gp_practice"}}
        }]});
        let (status, _, text) = request(addr, "POST", "/api/sync/push", Some(&cookie), Some(&body))
            .await
            .expect("the server answers pushes during a backup");
        assert_eq!(status, 200, "{text}");
        let answer: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(answer["results"][0]["status"], "applied", "{answer}");
        acked.lock().unwrap().push(id);
    }
}

/// A backup taken while eight devices push without pause restores into a database that
/// passes every check and holds every change acknowledged before the backup began; the
/// devices were never held up long (they went on being answered throughout).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_under_eight_writers_restores_every_acknowledged_change() {
    if on_postgresql() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    drop(populated(&data, 2000));
    let addr = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let _server = Server(
        mdt_server(&data)
            .args(["--addr", &addr.to_string()])
            .arg("--dist")
            .arg(dir.path().join("no-dist"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    common::region::wait_until_listening(addr, common::HANG_DEADLINE, || {
        "the server did not start".into()
    });
    let sign_in = json!({"email": "pat.coordinator@example.nhs.net", "password": PASSWORD});
    let (status, head, _) = request(addr, "POST", "/api/session", None, Some(&sign_in))
        .await
        .unwrap();
    assert_eq!(status, 200);
    let cookie = common::session_cookie_in(&head);

    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(Mutex::new(Vec::new()));
    let writers: Vec<_> = (0..8)
        .map(|_| {
            tokio::spawn(keep_pushing(
                addr,
                cookie.clone(),
                stop.clone(),
                acked.clone(),
            ))
        })
        .collect();
    while acked.lock().unwrap().len() < 200 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Everything acknowledged before the backup begins must be in it.
    let before: Vec<Uuid> = acked.lock().unwrap().clone();
    let copy = dir.path().join("backups").join("mdt-backup.sqlite3");
    let output = {
        let (data, copy) = (data.clone(), copy.clone());
        tokio::task::spawn_blocking(move || {
            run(mdt_server(&data).arg("backup").arg("--to").arg(&copy))
        })
        .await
        .unwrap()
    };
    assert!(output.status.success(), "{}", words(&output));
    let during = acked.lock().unwrap().len() - before.len();
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, Ordering::Relaxed);
    for writer in writers {
        writer.await.unwrap();
    }
    eprintln!(
        "backup: {}; {} pushes acknowledged before it began, {during} while it ran",
        words(&output).trim(),
        before.len()
    );
    assert!(words(&output).contains("chain verified"));
    assert!(partials_in(&dir.path().join("backups")).is_empty());

    let restored = dir.path().join("restored");
    let output = run(mdt_server(&restored)
        .arg("restore")
        .arg("--from")
        .arg(&copy));
    assert!(output.status.success(), "{}", words(&output));
    let store = Store::open(&restored).unwrap();
    let found = store
        .read_blocking(|db| {
            store::records_by_id::<mdt::core::entities::Organisation>(db, before.iter().copied())
        })
        .unwrap();
    let missing = before.iter().filter(|id| !found.contains_key(id)).count();
    assert_eq!(
        missing, 0,
        "{missing} acknowledged changes are missing from the copy"
    );
    assert!(store
        .read_blocking(store::audit_log::verify)
        .unwrap()
        .is_ok());
}

/// Damaged copies are refused in words and nothing is put in the data directory: one cut
/// short, one with a page overwritten, one whose audit trail was altered.
#[test]
fn a_damaged_copy_is_refused_and_nothing_is_restored() {
    if on_postgresql() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    drop(populated(&data, 200));
    let good = dir.path().join("good.sqlite3");
    let output = run(mdt_server(&data).arg("backup").arg("--to").arg(&good));
    assert!(output.status.success(), "{}", words(&output));
    let bytes = std::fs::read(&good).unwrap();

    let cut = dir.path().join("cut.sqlite3");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let overwritten = dir.path().join("overwritten.sqlite3");
    let mut damaged = bytes.clone();
    for b in &mut damaged[4096..4200] {
        *b = 0xAB;
    }
    std::fs::write(&overwritten, &damaged).unwrap();
    let altered = dir.path().join("altered.sqlite3");
    std::fs::write(&altered, &bytes).unwrap();
    {
        let conn = rusqlite::Connection::open(&altered).unwrap();
        conn.execute_batch(
            "DROP TRIGGER IF EXISTS audit_no_update; \
             UPDATE audit SET session = 'someone else' WHERE seq = (SELECT MAX(seq) / 2 FROM audit);",
        )
        .unwrap();
    }
    for (copy, expected) in [
        (&cut, "is not a usable copy"),
        (&overwritten, "is not a usable copy"),
        (&altered, "the audit trail is broken"),
    ] {
        let target = dir.path().join(format!(
            "restored-{}",
            copy.file_stem().unwrap().to_string_lossy()
        ));
        let output = run(mdt_server(&target).arg("restore").arg("--from").arg(copy));
        assert!(!output.status.success(), "{}", copy.display());
        assert!(
            words(&output).contains(expected),
            "{}: {}",
            copy.display(),
            words(&output)
        );
        assert!(
            !target.join("mdt.sqlite3").exists(),
            "nothing restored from {}",
            copy.display()
        );
        assert!(backup::check_copy(copy).is_err());
    }
    assert!(backup::check_copy(&good).is_ok());
}

/// A backup killed at random moments never leaves half a file where the copy goes: the
/// copy is either absent or passes every check, and the next backup clears what the killed
/// ones left under their temporary names.
#[test]
fn a_backup_killed_midway_leaves_no_half_file() {
    if on_postgresql() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    drop(populated(&data, 3000));
    let backups = dir.path().join("backups");
    let copy = backups.join("mdt.sqlite3");
    // How long a whole backup takes here, to kill them all through it.
    let started = Instant::now();
    let output = run(mdt_server(&data).arg("backup").arg("--to").arg(&copy));
    assert!(output.status.success(), "{}", words(&output));
    let whole = started.elapsed();
    std::fs::remove_file(&copy).unwrap();
    let (mut seen_absent, mut seen_whole, mut seen_midway) = (0, 0, 0);
    let mut round = 0u32;
    // Twenty kills spread over a whole run (early, in the copy, at the check and the rename),
    // and more until one has landed midway (a temporary file left behind).
    while round < 20 || (seen_midway == 0 && round < 100) {
        let mut child = mdt_server(&data)
            .arg("backup")
            .arg("--to")
            .arg(&copy)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(whole.mul_f64(f64::from(round % 20) / 19.0 * 1.1));
        let _ = child.kill();
        let _ = child.wait();
        if !partials_in(&backups).is_empty() {
            seen_midway += 1;
        }
        if copy.exists() {
            let facts = backup::check_copy(&copy);
            assert!(facts.is_ok(), "round {round}: {facts:?}");
            seen_whole += 1;
            std::fs::remove_file(&copy).unwrap();
        } else {
            seen_absent += 1;
        }
        round += 1;
    }
    eprintln!(
        "a whole backup took {whole:?}; killed {round} times: {seen_absent} left no copy ({seen_midway} of them a temporary file), {seen_whole} a whole one"
    );
    assert!(
        seen_midway > 0,
        "no kill landed while the copy was being written"
    );
    let output = run(mdt_server(&data).arg("backup").arg("--to").arg(&copy));
    assert!(output.status.success(), "{}", words(&output));
    assert!(
        partials_in(&backups).is_empty(),
        "{:?}",
        partials_in(&backups)
    );
    assert!(backup::check_copy(&copy).is_ok());
}

/// A restore never goes over a data directory that holds a database (a running server's),
/// and the commands say what to use on PostgreSQL.
#[test]
fn restore_refuses_a_data_directory_in_use_and_postgresql_is_pointed_to_its_tools() {
    if on_postgresql() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let store = populated(&data, 10);
    let before = store.read_blocking(store::latest_change).unwrap();
    let copy = dir.path().join("copy.sqlite3");
    let output = run(mdt_server(&data).arg("backup").arg("--to").arg(&copy));
    assert!(output.status.success(), "{}", words(&output));
    let output = run(mdt_server(&data).arg("restore").arg("--from").arg(&copy));
    assert!(!output.status.success());
    assert!(
        words(&output).contains("already holds a database"),
        "{}",
        words(&output)
    );
    assert_eq!(store.read_blocking(store::latest_change).unwrap(), before);
    let output = run(mdt_server(&data)
        .args(["--database-url", "postgres://nobody@127.0.0.1:1/none"])
        .arg("backup")
        .arg("--to")
        .arg(PathBuf::from("x")));
    assert!(!output.status.success());
    assert!(words(&output).contains("pg_dump"), "{}", words(&output));
}
