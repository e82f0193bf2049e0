//! Durability: an acknowledged push survives the server being killed at any moment, a push
//! the disk cannot hold is answered with a 5xx and no acknowledgement, then succeeds on retry,
//! and a server told to stop (SIGTERM) finishes the push in flight before it exits.
//! Synthetic data only (organisations with made-up names).

mod common;

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use common::{request, Harness, NoAnswer, PASSWORD};

fn organisation(client: &mut common::Client<'_>, name: &str) -> (Uuid, Value) {
    let id = Uuid::new_v4();
    let m = client.mutation(
        "organisation",
        id,
        0,
        json!({"name": name, "kind": "gp_practice"}),
    );
    (id, m)
}

/// A database with almost no room left. On SQLite, a page limit on the file; on PostgreSQL (a
/// test cluster on this machine, run as root), the records table moved to a tablespace on a
/// 48 KiB tmpfs, so writing to it fails with "No space left on device" (SQLSTATE 53100).
enum SmallDisk {
    Sqlite,
    Postgres {
        mount: std::path::PathBuf,
        tablespace: String,
        admin_url: String,
    },
}

impl SmallDisk {
    fn squeeze(h: &Harness) -> Option<Self> {
        if h.store
            .with_sqlite_connection(|conn| {
                let pages: i64 = conn
                    .pragma_query_value(None, "page_count", |r| r.get(0))
                    .unwrap();
                conn.pragma_update(None, "max_page_count", pages + 2)
                    .unwrap();
            })
            .is_some()
        {
            return Some(Self::Sqlite);
        }
        let admin_url = common::test_database_url()?;
        let local = admin_url.contains("@127.0.0.1") || admin_url.contains("@localhost");
        let root = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
        if !local || !root {
            assert!(
                std::env::var("MDT_REQUIRE_REGION_TESTS").as_deref() != Ok("1"),
                "the full-disk test on PostgreSQL needs a local cluster and root (to mount a tmpfs)"
            );
            eprintln!("skipped on PostgreSQL: needs a local cluster and root to mount a tmpfs");
            return None;
        }
        let name = format!("small_{}", Uuid::new_v4().simple());
        let mount = std::env::temp_dir().join(&name);
        std::fs::create_dir_all(&mount).unwrap();
        let run = |program: &str, args: &[&str]| {
            let out = Command::new(program).args(args).output().unwrap();
            assert!(
                out.status.success(),
                "{program} {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let path = mount.to_str().unwrap();
        run("mount", &["-t", "tmpfs", "-o", "size=48k", "tmpfs", path]);
        run("chown", &["postgres", path]);
        common::on_own_thread(
            &admin_url,
            &format!("CREATE TABLESPACE {name} LOCATION '{path}'"),
        )
        .unwrap();
        h.store
            .write_blocking(|db| {
                db.execute(&format!("ALTER TABLE records SET TABLESPACE {name}"), &[])
            })
            .unwrap();
        Some(Self::Postgres {
            mount,
            tablespace: name,
            admin_url,
        })
    }

    /// Space is freed.
    fn release(&self, h: &Harness) {
        match self {
            Self::Sqlite => {
                h.store.with_sqlite_connection(|conn| {
                    conn.pragma_update(None, "max_page_count", 1_073_741_823i64)
                        .unwrap()
                });
            }
            Self::Postgres { .. } => {
                h.store
                    .write_blocking(|db| {
                        db.execute("ALTER TABLE records SET TABLESPACE pg_default", &[])
                    })
                    .unwrap();
            }
        }
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        if let Self::Postgres {
            mount,
            tablespace,
            admin_url,
        } = self
        {
            let _ = common::on_own_thread(
                admin_url,
                &format!("DROP TABLESPACE IF EXISTS {tablespace}"),
            );
            let _ = Command::new("umount").arg(&*mount).status();
            let _ = std::fs::remove_dir(&*mount);
        }
    }
}

#[tokio::test]
async fn a_full_disk_answers_5xx_without_acknowledging_and_the_retry_applies_once() {
    let h = Harness::new();
    let me = h.coordinator();
    let mut client = h.sign_in("pat.coordinator@example.nhs.net", me).await;
    // Leave the database a few pages to grow into: the batch below needs far more.
    let Some(small) = SmallDisk::squeeze(&h) else {
        return;
    };
    let long_name = "Synthetic Practice ".repeat(10);
    let batch: Vec<(Uuid, Value)> = (0..200)
        .map(|i| organisation(&mut client, &format!("{long_name}{i}")))
        .collect();
    let mutations: Vec<Value> = batch.iter().map(|(_, m)| m.clone()).collect();

    let (status, body) = client.push_raw(mutations.clone()).await;
    assert_eq!(status, StatusCode::INSUFFICIENT_STORAGE, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("run out of storage space"),
        "{body}"
    );
    assert!(body.get("results").is_none(), "nothing is acknowledged");
    let stored = client.pulled_ids().await;
    assert!(
        batch
            .iter()
            .all(|(id, _)| !stored.contains(&id.to_string())),
        "nothing of the batch was stored"
    );

    // Space is freed; the device sends the very same batch again.
    small.release(&h);
    let results = client.push(mutations.clone()).await;
    assert_eq!(results.len(), 200);
    assert!(
        results.iter().all(|r| r["status"] == "applied"),
        "{results:?}"
    );
    // A third copy (say the answer was lost) changes nothing.
    let again = client.push(mutations).await;
    assert_eq!(again, results);
    let stored = client.pulled_ids().await;
    for (id, _) in &batch {
        assert_eq!(
            stored.iter().filter(|s| **s == id.to_string()).count(),
            1,
            "each organisation exactly once"
        );
    }
}

// ---- Crash test: the real server binary, killed with SIGKILL while clients push. ----

/// Rounds in CI; set `MDT_CRASH_ROUNDS` for a longer local run.
fn rounds() -> usize {
    std::env::var("MDT_CRASH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50)
}

/// A small deterministic generator, so a failing run can be repeated (`MDT_CRASH_SEED`).
struct Xorshift(u64);

impl Xorshift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

struct Server {
    child: Child,
    addr: SocketAddr,
}

fn free_port() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

fn start_server(place: &common::TestDatabase, dist: &std::path::Path) -> Server {
    let addr = free_port();
    let mut command = Command::new(env!("CARGO_BIN_EXE_mdt-server"));
    match place.url() {
        Some(url) => command.args(["--database-url", &url]),
        None => command.arg("--data-dir").arg(place.dir.path()),
    };
    let child = command
        .args(["--addr", &addr.to_string()])
        .arg("--dist")
        .arg(dist)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the server starts");
    common::region::wait_until_listening(addr, Duration::from_secs(20), || {
        "the server did not start listening".into()
    });
    Server { child, addr }
}

/// Pat signs in over HTTP; the session cookie.
async fn sign_in_pat(addr: SocketAddr) -> String {
    let sign_in = json!({"email": "pat.coordinator@example.nhs.net", "password": PASSWORD});
    let (status, head, _) = request(addr, "POST", "/api/session", None, Some(&sign_in))
        .await
        .expect("sign-in answered");
    assert_eq!(status, 200);
    common::session_cookie_in(&head)
}

/// A client as the app is: an outbox that is sent until the server answers it.
struct CrashClient {
    device: Uuid,
    seq: u64,
    outbox: Vec<(Uuid, Value)>,
    acknowledged: HashSet<Uuid>,
    /// Pushes cut off by a kill before their answer arrived.
    cut: usize,
}

impl CrashClient {
    fn stage(&mut self, n: usize) {
        for _ in 0..n {
            self.seq += 1;
            let id = Uuid::new_v4();
            let m = json!({
                "mutation_id": Uuid::new_v4(), "seq": self.seq, "entity": "organisation", "id": id,
                "base_version": 0, "op": {"kind": "update", "fields": {"name": format!("Crash test practice {id}"), "kind": "gp_practice"}}
            });
            self.outbox.push((id, m));
        }
    }

    /// Sends the outbox once; acknowledged mutations leave it.
    async fn send(&mut self, addr: SocketAddr, cookie: &str) {
        if self.outbox.is_empty() {
            return;
        }
        // As the app does, at most a push's worth at a time, oldest first.
        let batch: Vec<Value> = self
            .outbox
            .iter()
            .take(mdt::core::sync::MAX_PUSH_MUTATIONS)
            .map(|(_, m)| m.clone())
            .collect();
        let body = json!({"device_id": self.device, "mutations": batch});
        let text = match request(addr, "POST", "/api/sync/push", Some(cookie), Some(&body)).await {
            Ok((200, _, text)) => text,
            Ok((status, _, text)) => panic!("push answered {status}: {text}"),
            Err(NoAnswer::Cut) => {
                self.cut += 1;
                return;
            }
            Err(NoAnswer::Refused) => return,
        };
        let answer: Value = serde_json::from_str(&text).expect("a push answer is JSON");
        let results = answer["results"].as_array().expect("results");
        assert_eq!(results.len(), batch.len());
        let mut kept = Vec::new();
        let sent: Vec<_> = self.outbox.drain(..batch.len()).collect();
        for ((id, m), result) in sent.into_iter().zip(results) {
            assert_eq!(result["mutation_id"], m["mutation_id"]);
            match result["status"].as_str() {
                Some("applied") => {
                    self.acknowledged.insert(id);
                }
                Some("rejected") if result["retryable"] == json!(true) => kept.push((id, m)),
                other => panic!("unexpected answer {other:?}: {result}"),
            }
        }
        kept.append(&mut self.outbox);
        self.outbox = kept;
    }
}

/// The database's writers held back by another connection: on SQLite a write transaction on
/// the file, on PostgreSQL the change log's lock. Released when dropped.
struct HeldWriters {
    release: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl HeldWriters {
    fn hold(place: &common::TestDatabase) -> Self {
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let (held, is_held) = std::sync::mpsc::channel::<()>();
        let url = place.url();
        let file = place.dir.path().join("mdt.sqlite3");
        let thread = std::thread::spawn(move || match url {
            Some(url) => {
                let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
                // The key space and number of `Lock::ChangeLog` ("MDT1", 1).
                client
                    .execute("SELECT pg_advisory_lock(1296323633, 1)", &[])
                    .unwrap();
                held.send(()).unwrap();
                let _ = wait.recv();
                client
                    .execute("SELECT pg_advisory_unlock(1296323633, 1)", &[])
                    .unwrap();
            }
            None => {
                let conn = rusqlite::Connection::open(file).unwrap();
                conn.execute_batch("BEGIN IMMEDIATE").unwrap();
                held.send(()).unwrap();
                let _ = wait.recv();
                conn.execute_batch("COMMIT").unwrap();
            }
        });
        is_held.recv().unwrap();
        Self {
            release: Some(release),
            thread: Some(thread),
        }
    }
}

impl Drop for HeldWriters {
    fn drop(&mut self) {
        drop(self.release.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// How many organisations the database holds.
fn organisations_stored(store: &mdt::server::store::Store) -> i64 {
    store
        .read_blocking(|db| {
            db.query_one(
                "SELECT COUNT(*) FROM records WHERE entity = 'organisation'",
                &[],
            )?
            .int(0)
        })
        .unwrap()
}

/// A database with Pat's account (made before any server starts) and a stand-in built app.
fn place_with_pat() -> (common::TestDatabase, tempfile::TempDir) {
    let place = common::TestDatabase::new();
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(
        dist.path().join("index.html"),
        "<!doctype html><title>test</title>",
    )
    .unwrap();
    mdt::server::demo::add_user(
        &place.open(),
        &mdt::server::demo::NewUser {
            email: "pat.coordinator@example.nhs.net",
            name: "Pat Coordinator",
            role: mdt::core::entities::Role::PracticeManager,
            password: PASSWORD,
        },
        chrono::Utc::now(),
    )
    .unwrap();
    (place, dist)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killing_the_server_at_random_moments_loses_no_acknowledged_change() {
    let (place, dist) = place_with_pat();
    let seed = std::env::var("MDT_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x5eed_cafe_u64);
    let mut rng = Xorshift(seed);
    let mut server = start_server(&place, dist.path());
    let cookie = sign_in_pat(server.addr).await;

    let mut clients: Vec<CrashClient> = (0..3)
        .map(|_| CrashClient {
            device: Uuid::new_v4(),
            seq: 0,
            outbox: Vec::new(),
            acknowledged: HashSet::new(),
            cut: 0,
        })
        .collect();
    for _round in 0..rounds() {
        // Every client queues work and pushes it (with retries) while the clock runs down.
        let kill_after = Duration::from_millis(rng.next() % 120);
        for c in &mut clients {
            c.stage(1 + (rng.next() % 40) as usize);
        }
        let addr = server.addr;
        let pushing: Vec<_> = clients
            .drain(..)
            .map(|mut c| {
                let cookie = cookie.clone();
                tokio::spawn(async move {
                    for _ in 0..5 {
                        c.send(addr, &cookie).await;
                        if c.outbox.is_empty() {
                            c.stage(5);
                        }
                    }
                    c
                })
            })
            .collect();
        tokio::time::sleep(kill_after).await;
        // SIGKILL: no shutdown, no flushing, as in a power cut of the process.
        server.child.kill().unwrap();
        server.child.wait().unwrap();
        for task in pushing {
            clients.push(task.await.unwrap());
        }
        server = start_server(&place, dist.path());
    }
    // The network heals: every client drains its outbox.
    for c in &mut clients {
        for _ in 0..5 {
            c.send(server.addr, &cookie).await;
        }
        assert!(c.outbox.is_empty(), "outbox drained after the last restart");
    }

    // Everything acknowledged is stored exactly once, at version 1 (applied once).
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut since = 0;
    loop {
        let (status, _, text) = request(
            server.addr,
            "GET",
            &format!("/api/sync/pull?since={since}"),
            Some(&cookie),
            None,
        )
        .await
        .expect("pull answered");
        assert_eq!(status, 200, "{text}");
        let page: Value = serde_json::from_str(&text).unwrap();
        for r in page["records"].as_array().unwrap() {
            *seen
                .entry(r["id"].as_str().unwrap().to_owned())
                .or_default() += 1;
            if r["entity"] == "organisation" {
                assert_eq!(r["version"], 1, "applied exactly once: {r}");
            }
        }
        since = page["cursor"].as_u64().unwrap();
        if page["more"] != json!(true) {
            break;
        }
    }
    let acknowledged: usize = clients.iter().map(|c| c.acknowledged.len()).sum();
    assert!(
        acknowledged > 100,
        "the test pushed enough ({acknowledged})"
    );
    for c in &clients {
        for id in &c.acknowledged {
            assert_eq!(
                seen.get(&id.to_string()),
                Some(&1),
                "acknowledged {id} is stored exactly once"
            );
        }
    }
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    let store = place.open();
    if let Some(check) = store.with_sqlite_connection(|conn| {
        conn.query_row("PRAGMA integrity_check", [], |r| r.get::<_, String>(0))
            .unwrap()
    }) {
        assert_eq!(check, "ok");
    }
    let stored = organisations_stored(&store);
    assert_eq!(
        stored as usize, acknowledged,
        "every stored change was acknowledged once the clients drained their outboxes"
    );
    let cut: usize = clients.iter().map(|c| c.cut).sum();
    assert!(cut > 0, "some kills landed in the middle of a push");
    println!(
        "crash test: {} rounds, {acknowledged} changes acknowledged, {cut} pushes cut off mid-request",
        rounds()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_the_push_in_flight_ends_live_streams_and_exits() {
    let (place, dist) = place_with_pat();
    let mut server = start_server(&place, dist.path());
    let cookie = sign_in_pat(server.addr).await;

    // A device listening for live updates (a stream that would otherwise never end).
    let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        stream
            .write_all(
                format!("GET /api/sync/events HTTP/1.1\r\nHost: test\r\nCookie: {cookie}\r\n\r\n")
                    .as_bytes(),
            )
            .await
            .unwrap();
        let mut first = [0u8; 256];
        let n = stream.read(&mut first).await.unwrap();
        assert!(String::from_utf8_lossy(&first[..n]).starts_with("HTTP/1.1 200"));
    }

    // A big push, and SIGTERM while it is being applied.
    let device = Uuid::new_v4();
    let mutations: Vec<Value> = (0..500)
        .map(|i| {
            json!({
                "mutation_id": Uuid::new_v4(), "seq": i + 1, "entity": "organisation", "id": Uuid::new_v4(),
                "base_version": 0, "op": {"kind": "update", "fields": {"name": format!("Shutdown practice {i}"), "kind": "gp_practice"}}
            })
        })
        .collect();
    let body = json!({"device_id": device, "mutations": mutations});
    let addr = server.addr;
    // Writers are held back from outside, so the push is certainly in flight (accepted, read,
    // waiting to write) when the signal comes.
    let held = HeldWriters::hold(&place);
    let push = tokio::spawn({
        let cookie = cookie.clone();
        async move { request(addr, "POST", "/api/sync/push", Some(&cookie), Some(&body)).await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let stopping = Instant::now();
    let status = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!push.is_finished(), "the push waits for the writers' lock");
    drop(held);

    let (status, _, answer) = push.await.unwrap().expect("the push in flight is answered");
    assert_eq!(status, 200, "{answer}");
    let answer: Value = serde_json::from_str(&answer).unwrap();
    let results = answer["results"].as_array().unwrap();
    assert_eq!(results.len(), 500);
    assert!(results.iter().all(|r| r["status"] == "applied"));
    let exited = tokio::task::block_in_place(|| loop {
        if let Some(code) = server.child.try_wait().unwrap() {
            break code;
        }
        assert!(
            stopping.elapsed() < Duration::from_secs(10),
            "the server exits despite the open event stream"
        );
        std::thread::sleep(Duration::from_millis(20));
    });
    assert!(exited.success(), "{exited:?}");
    // The stream was ended by the server, not left hanging.
    {
        use tokio::io::AsyncReadExt;
        let mut rest = Vec::new();
        let read = tokio::time::timeout(common::HANG_DEADLINE, stream.read_to_end(&mut rest)).await;
        assert!(read.is_ok(), "the event stream was closed");
    }
    let stored = organisations_stored(&place.open());
    assert_eq!(stored, 500, "everything acknowledged was stored");
}
