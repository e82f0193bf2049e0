//! A region for real: three `mdt-server` processes on one PostgreSQL database behind nginx
//! (`deploy/nginx.conf`). Eight devices push thousands of changes at once through the front
//! door (nginx hands each request to the next server) while three devices pull continuously;
//! then one server is killed mid-push and PostgreSQL is stopped and started under load.
//! Afterwards every acknowledged change is stored exactly once, every puller holds exactly what
//! the database holds (a pull that skipped a change would never get it: cursors only move
//! forward), and the audit chain is intact.
//!
//! Needs Debian's PostgreSQL 15 and nginx (`./scripts/test.sh` installs both).

mod common;

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use uuid::Uuid;

use common::region::{Nginx, Postgres, Server};
use common::{request, NoAnswer, PASSWORD};
use mdt::core::entities::{Entity, Role, Team};
use mdt::core::sync::{Mutation, MutationOp};
use mdt::server::demo::{add_user, NewUser};
use mdt::server::store::{Actor, Store};

const WRITERS: usize = 8;
const PULLERS: usize = 3;

fn changes_per_writer() -> usize {
    std::env::var("MDT_REGION_CHANGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5_200)
        / WRITERS
}

/// What the devices saw of the servers' answers.
#[derive(Default)]
struct Answers {
    ok: AtomicUsize,
    unavailable_with_retry_after: AtomicUsize,
    unavailable_without_retry_after: AtomicUsize,
    internal_errors: AtomicUsize,
    no_answer: AtomicUsize,
    slowest_ms: AtomicUsize,
}

impl Answers {
    fn note(&self, started: Instant, answer: &Result<(u16, String, String), NoAnswer>) {
        let ms = started.elapsed().as_millis() as usize;
        self.slowest_ms.fetch_max(ms, Ordering::Relaxed);
        let counter = match answer {
            Ok((200, _, _)) => &self.ok,
            Ok((503, head, _)) if head.to_lowercase().contains("retry-after:") => {
                &self.unavailable_with_retry_after
            }
            Ok((502..=504, _, _)) => &self.unavailable_without_retry_after,
            Ok((500, _, _)) => &self.internal_errors,
            Ok((status, _, body)) => panic!("unexpected answer {status}: {body}"),
            Err(_) => &self.no_answer,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

async fn sign_in(front: SocketAddr, email: &str) -> String {
    let body = json!({"email": email, "password": PASSWORD});
    for _ in 0..100 {
        if let Ok((200, head, _)) = request(front, "POST", "/api/session", None, Some(&body)).await
        {
            return common::session_cookie_in(&head);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{email} could not sign in");
}

/// A device that adds patients to the team's list and corrects the names of the ones it added,
/// sending its outbox until every change is acknowledged. (Patients: every change and every
/// pull of one is an audit row, so three servers append to the audit chain at once.)
struct Writer {
    front: SocketAddr,
    team_id: Uuid,
    /// Synthetic NHS numbers (each writer has a range of its own).
    numbers: Box<dyn Iterator<Item = String> + Send>,
    cookie: String,
    device: Uuid,
    seq: u64,
    outbox: Vec<(Uuid, u64, Value)>,
    /// Acknowledged: record id → the version the server gave it.
    acknowledged: HashMap<Uuid, u64>,
    acknowledged_mutations: HashSet<Uuid>,
    /// Every mutation staged, for the report when something goes wrong.
    staged: HashSet<Uuid>,
    answers: Arc<Answers>,
    rng: u64,
}

impl Writer {
    fn random(&mut self) -> u64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng
    }

    /// A synthetic NHS number (999 range, valid check digit) this writer has not used.
    fn nhs_number(&mut self) -> String {
        self.numbers.next().expect("numbers enough for the test")
    }

    fn stage(&mut self, n: usize) {
        let pending: HashSet<Uuid> = self.outbox.iter().map(|(id, _, _)| *id).collect();
        for _ in 0..n {
            self.seq += 1;
            // A third are renames of an organisation already acknowledged and not in flight.
            let rename = self
                .random()
                .is_multiple_of(3)
                .then(|| {
                    self.acknowledged
                        .iter()
                        .find(|(id, _)| !pending.contains(id))
                        .map(|(id, v)| (*id, *v))
                })
                .flatten()
                .filter(|(id, _)| !self.outbox.iter().any(|(o, _, _)| o == id));
            let (id, base) = rename.unwrap_or((Uuid::new_v4(), 0));
            let fields = if base == 0 {
                json!({
                    "team_id": self.team_id, "nhs_number": self.nhs_number(),
                    "name": "Synthetic Patient", "date_of_birth": "1941-03-02",
                    "objects_to_sharing": false
                })
            } else {
                json!({"name": format!("Synthetic Patient {}", base + 1)})
            };
            let mutation_id = Uuid::new_v4();
            self.staged.insert(mutation_id);
            let m = json!({
                "mutation_id": mutation_id, "seq": self.seq, "entity": "patient", "id": id,
                "base_version": base, "op": {"kind": "update", "fields": fields}
            });
            self.outbox.push((id, base, m));
        }
    }

    /// Sends (at most a push's worth of) the outbox once.
    async fn send(&mut self) {
        let batch: Vec<Value> = self
            .outbox
            .iter()
            .take(100)
            .map(|(_, _, m)| m.clone())
            .collect();
        let body = json!({"device_id": self.device, "mutations": batch});
        let started = Instant::now();
        let answer = request(
            self.front,
            "POST",
            "/api/sync/push",
            Some(&self.cookie),
            Some(&body),
        )
        .await;
        self.answers.note(started, &answer);
        let Ok((200, _, text)) = answer else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            return;
        };
        let answer: Value = serde_json::from_str(&text).expect("a push answer is JSON");
        let results = answer["results"].as_array().expect("results").clone();
        assert_eq!(results.len(), batch.len());
        let sent: Vec<_> = self.outbox.drain(..batch.len()).collect();
        let mut kept = Vec::new();
        for ((id, base, m), result) in sent.into_iter().zip(results) {
            assert_eq!(result["mutation_id"], m["mutation_id"]);
            match result["status"].as_str() {
                Some("applied") => {
                    let version = result["version"].as_u64().expect("a version");
                    assert_eq!(version, base + 1, "{result}");
                    self.acknowledged.insert(id, version);
                    self.acknowledged_mutations
                        .insert(Uuid::parse_str(m["mutation_id"].as_str().unwrap()).unwrap());
                }
                Some("rejected") if result["retryable"] == json!(true) => kept.push((id, base, m)),
                other => panic!("unexpected result {other:?}: {result}"),
            }
        }
        kept.append(&mut self.outbox);
        self.outbox = kept;
    }

    /// Stages and sends until `target` more changes are acknowledged.
    async fn write(mut self, target: usize) -> Self {
        let goal = self.acknowledged_mutations.len() + target;
        while self.acknowledged_mutations.len() < goal || !self.outbox.is_empty() {
            let staged = self.acknowledged_mutations.len() + self.outbox.len();
            if staged < goal && self.outbox.len() < 60 {
                let n = 1 + (self.random() % 40) as usize;
                self.stage(n.min(goal - staged));
            }
            self.send().await;
        }
        self
    }
}

/// A device that pulls continuously and keeps what it is given.
struct Puller {
    front: SocketAddr,
    cookie: String,
    cursor: u64,
    /// Record id → (version, deleted).
    held: HashMap<Uuid, u64>,
    answers: Arc<Answers>,
}

impl Puller {
    /// One pull and the pages after it; true when it reached the end of the log.
    async fn pull(&mut self) -> bool {
        let path = format!("/api/sync/pull?since={}", self.cursor);
        let started = Instant::now();
        let answer = request(self.front, "GET", &path, Some(&self.cookie), None).await;
        self.answers.note(started, &answer);
        let Ok((200, _, text)) = answer else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            return false;
        };
        let page: Value = serde_json::from_str(&text).expect("a pull answer is JSON");
        for record in page["records"].as_array().unwrap() {
            let id = Uuid::parse_str(record["id"].as_str().unwrap()).unwrap();
            let version = record["version"].as_u64().unwrap();
            let held = self.held.entry(id).or_insert(0);
            assert!(
                version >= *held,
                "a pull never goes back in time ({id}: {held} then {version})"
            );
            *held = version;
        }
        let cursor = page["cursor"].as_u64().unwrap();
        assert!(cursor >= self.cursor, "the cursor only moves forward");
        self.cursor = cursor;
        page["more"] == json!(false)
    }

    async fn follow(mut self, stop: Arc<AtomicBool>) -> Self {
        loop {
            let stopping = stop.load(Ordering::SeqCst);
            let at_end = self.pull().await;
            if stopping && at_end {
                return self;
            }
            if at_end {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
}

/// Every patient's version, the answers the servers stored for each mutation, and whether the
/// audit chain is intact.
fn database_state(
    url: &str,
) -> (
    HashMap<Uuid, u64>,
    HashMap<Uuid, String>,
    Result<u64, String>,
) {
    let store = Store::connect(url).expect("the database answers");
    store
        .read_blocking(|db| {
            let mut versions = HashMap::new();
            for row in db.query("SELECT id, body FROM records WHERE entity = 'patient'", &[])? {
                let body: Value = serde_json::from_str(&row.text(1)?).unwrap();
                versions.insert(row.uuid(0)?, body["version"].as_u64().unwrap());
            }
            let mut processed = HashMap::new();
            for row in db.query("SELECT mutation_id, result FROM processed_mutations", &[])? {
                processed.insert(row.uuid(0)?, row.text(1)?);
            }
            let audit = mdt::server::audit::verify(db)?.map_err(|b| b.to_string());
            Ok((versions, processed, audit))
        })
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_servers_behind_nginx_converge_and_survive_a_killed_server_and_a_database_restart() {
    let required = std::env::var("MDT_REQUIRE_REGION_TESTS").is_ok_and(|v| v == "1");
    if !Postgres::available() || Nginx::binary().is_none() {
        assert!(
            !required,
            "PostgreSQL 15 and nginx are needed (./scripts/test.sh installs them)"
        );
        eprintln!("skipped: Debian's postgresql-15 and nginx are not installed");
        return;
    }
    let pg = Postgres::start();
    let url = pg.url();

    // The accounts and a team, made directly in the database before the servers start.
    let people: Vec<String> = (0..WRITERS)
        .map(|i| format!("writer{i}@example.nhs.net"))
        .chain((0..PULLERS).map(|i| format!("puller{i}@example.nhs.net")))
        .collect();
    let team_id = {
        let store = Store::connect(&url).unwrap();
        let mut person_ids = Vec::new();
        for email in &people {
            let user = add_user(
                &store,
                &NewUser {
                    email,
                    name: "Synthetic Colleague",
                    role: Role::Gp,
                    password: PASSWORD,
                },
                chrono::Utc::now(),
            )
            .unwrap();
            person_ids.push(user.person_id);
        }
        let coordinator = add_user(
            &store,
            &NewUser {
                email: "pat.coordinator@example.nhs.net",
                name: "Pat Coordinator",
                role: Role::PracticeManager,
                password: PASSWORD,
            },
            chrono::Utc::now(),
        )
        .unwrap();
        let team = Team {
            name: "Region MDT".into(),
            coordinator_id: coordinator.person_id,
            member_ids: person_ids,
            observer_ids: vec![],
            required_roles: vec![],
            default_minutes: 60,
            place: "Room 1".into(),
            video_link: None,
            agenda_cutoff_hours: 48,
            brief_cutoff_hours: 24,
            archived: false,
            observers_see_measures: false,
            email_people_without_accounts: false,
        };
        let actor = Actor {
            user_id: coordinator.id,
            person_id: coordinator.person_id,
            name: "Pat Coordinator".into(),
            session: "test".into(),
        };
        let team_id = Uuid::new_v4();
        let results = store
            .push_blocking(
                &actor,
                Uuid::new_v4(),
                &[Mutation {
                    mutation_id: Uuid::new_v4(),
                    seq: 1,
                    entity: Team::KIND,
                    id: team_id,
                    base_version: 0,
                    op: MutationOp::Update {
                        fields: team.to_fields(),
                    },
                }],
                chrono::Utc::now(),
            )
            .unwrap();
        assert!(format!("{results:?}").contains("Applied"), "{results:?}");
        team_id
    };

    // What the set-up itself wrote (each account's directory entry, the team).
    let (_, setup_mutations, _) = database_state(&url);
    let setup: HashSet<Uuid> = setup_mutations.into_keys().collect();
    assert_eq!(setup.len(), people.len() + 2, "the accounts and the team");

    let dist = tempfile::tempdir().unwrap();
    std::fs::write(
        dist.path().join("index.html"),
        "<!doctype html><title>test</title>",
    )
    .unwrap();
    let mut servers: Vec<Server> = (0..3)
        .map(|i| Server::start(&url, &format!("server-{i}"), dist.path()))
        .collect();
    let nginx = Nginx::start(&servers.iter().map(|s| s.addr).collect::<Vec<_>>());
    let front = nginx.addr;

    // Requests through the front door reach every server.
    let mut seen_servers = HashSet::new();
    for _ in 0..9 {
        let (status, head, _) = request(front, "GET", "/healthz", None, None).await.unwrap();
        assert_eq!(status, 200);
        let name = head
            .lines()
            .find_map(|l| {
                l.to_lowercase()
                    .strip_prefix("x-mdt-server: ")
                    .map(str::to_owned)
            })
            .expect("the server says its name");
        seen_servers.insert(name);
    }
    assert_eq!(
        seen_servers.len(),
        3,
        "nginx spreads requests over all three servers"
    );

    let answers = Arc::new(Answers::default());
    let mut writers = Vec::new();
    for (i, email) in people.iter().take(WRITERS).enumerate() {
        writers.push(Writer {
            front,
            team_id,
            numbers: Box::new(mdt::core::patient::synthetic_nhs_numbers().skip(i * 90_000)),
            cookie: sign_in(front, email).await,
            device: Uuid::new_v4(),
            seq: 0,
            outbox: Vec::new(),
            acknowledged: HashMap::new(),
            acknowledged_mutations: HashSet::new(),
            staged: HashSet::new(),
            answers: answers.clone(),
            rng: 0x9e37_79b9_7f4a_7c15 ^ (i as u64 + 1),
        });
    }
    let mut pullers = Vec::new();
    for email in people.iter().skip(WRITERS) {
        pullers.push(Puller {
            front,
            cookie: sign_in(front, email).await,
            cursor: 0,
            held: HashMap::new(),
            answers: answers.clone(),
        });
    }

    // 1. Convergence: everyone at once, all servers up.
    let started = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let pulling: Vec<_> = pullers
        .drain(..)
        .map(|p| tokio::spawn(p.follow(stop.clone())))
        .collect();
    let per_writer = changes_per_writer();
    let writing: Vec<_> = writers
        .drain(..)
        .map(|w| tokio::spawn(w.write(per_writer)))
        .collect();
    for w in writing {
        writers.push(w.await.unwrap());
    }
    stop.store(true, Ordering::SeqCst);
    for p in pulling {
        pullers.push(p.await.unwrap());
    }
    let acknowledged: usize = writers.iter().map(|w| w.acknowledged_mutations.len()).sum();
    println!(
        "REGION convergence: {acknowledged} changes acknowledged by 3 servers in {:.1} s while {PULLERS} devices pulled",
        started.elapsed().as_secs_f64()
    );
    assert!(acknowledged >= per_writer * WRITERS);
    check(&url, &setup, &writers, &pullers);
    assert_eq!(
        answers.internal_errors.load(Ordering::Relaxed),
        0,
        "no 500s"
    );

    // 2. Faults: a server is killed mid-push, then PostgreSQL stops and starts, under load.
    let answers = Arc::new(Answers::default());
    for w in &mut writers {
        w.answers = answers.clone();
    }
    for p in &mut pullers {
        p.answers = answers.clone();
    }
    let stop = Arc::new(AtomicBool::new(false));
    let pulling: Vec<_> = pullers
        .drain(..)
        .map(|p| tokio::spawn(p.follow(stop.clone())))
        .collect();
    let writing: Vec<_> = writers
        .drain(..)
        .map(|w| tokio::spawn(w.write(per_writer / 2)))
        .collect();
    tokio::time::sleep(Duration::from_millis(700)).await;
    servers[1].kill();
    tokio::time::sleep(Duration::from_millis(700)).await;
    let outage = Instant::now();
    tokio::task::block_in_place(|| pg.pause());
    tokio::time::sleep(Duration::from_secs(3)).await;
    tokio::task::block_in_place(|| pg.resume());
    let back_at = Instant::now();
    tokio::task::block_in_place(|| servers[1].restart());
    // The servers recover by themselves: a request succeeds soon after the database is back.
    let recovered = loop {
        if let Ok((200, _, _)) = request(front, "GET", "/healthz", None, None).await {
            break back_at.elapsed();
        }
        assert!(
            back_at.elapsed() < Duration::from_secs(20),
            "the servers did not recover"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    for w in writing {
        writers.push(w.await.unwrap());
    }
    stop.store(true, Ordering::SeqCst);
    for p in pulling {
        pullers.push(p.await.unwrap());
    }
    println!(
        "REGION faults: database away {:.1} s; first success {:.2} s after it was back; answers: {} ok, {} 503 with Retry-After, {} other 5xx, {} 500, {} unanswered; slowest {} ms",
        (back_at - outage).as_secs_f64(),
        recovered.as_secs_f64(),
        answers.ok.load(Ordering::Relaxed),
        answers.unavailable_with_retry_after.load(Ordering::Relaxed),
        answers.unavailable_without_retry_after.load(Ordering::Relaxed),
        answers.internal_errors.load(Ordering::Relaxed),
        answers.no_answer.load(Ordering::Relaxed),
        answers.slowest_ms.load(Ordering::Relaxed),
    );
    assert!(
        answers.unavailable_with_retry_after.load(Ordering::Relaxed) > 0,
        "while the database was away the servers said so (503 with Retry-After)"
    );
    assert_eq!(
        answers.internal_errors.load(Ordering::Relaxed),
        0,
        "never a 500"
    );
    assert_eq!(
        answers
            .unavailable_without_retry_after
            .load(Ordering::Relaxed),
        0,
        "every 5xx was a 503 that says when to try again"
    );
    assert!(
        answers.slowest_ms.load(Ordering::Relaxed) <= 10_000,
        "no request hung"
    );
    check(&url, &setup, &writers, &pullers);
    drop(nginx);
    drop(servers);
}

/// Every acknowledged change is stored once, at its version; every puller holds exactly the
/// database's patients at the database's versions; the audit chain is intact.
fn check(url: &str, setup: &HashSet<Uuid>, writers: &[Writer], pullers: &[Puller]) {
    let (versions, mut processed, audit) = database_state(url);
    processed.retain(|id, _| !setup.contains(id));
    let acknowledged: usize = writers.iter().map(|w| w.acknowledged_mutations.len()).sum();
    // Mutations the servers finished with (beyond the set-up's): each acknowledged one.
    let unacknowledged: Vec<String> = processed
        .iter()
        .filter(|(id, _)| {
            !writers
                .iter()
                .any(|w| w.acknowledged_mutations.contains(id))
        })
        .map(|(id, result)| {
            let by = writers.iter().position(|w| w.staged.contains(id));
            format!("{result} staged by writer {by:?}")
        })
        .collect();
    assert_eq!(
        processed.len(),
        acknowledged,
        "each change applied exactly once; finished but not acknowledged: {unacknowledged:?}"
    );
    for w in writers {
        for (id, version) in &w.acknowledged {
            assert_eq!(
                versions.get(id),
                Some(version),
                "acknowledged {id} is stored at the version the server gave"
            );
        }
    }
    let created: usize = writers.iter().map(|w| w.acknowledged.len()).sum();
    assert_eq!(versions.len(), created, "no patient stored twice or lost");
    for (i, p) in pullers.iter().enumerate() {
        let held: HashMap<Uuid, u64> = p
            .held
            .iter()
            .filter(|(id, _)| versions.contains_key(id))
            .map(|(id, v)| (*id, *v))
            .collect();
        assert_eq!(
            held.len(),
            versions.len(),
            "puller {i} was given every patient"
        );
        for (id, version) in &versions {
            assert_eq!(
                held.get(id),
                Some(version),
                "puller {i} holds {id} as stored"
            );
        }
    }
    audit.expect("the audit chain is intact");
}
