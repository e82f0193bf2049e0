//! Shared harness of the server tests: a store, `app(state)` driven with `oneshot`, signed-in
//! clients that push and pull. Synthetic people only.
//!
//! Every test runs on the engine the run asks for: SQLite in a temporary directory by default,
//! or, when `MDT_TEST_DATABASE_URL` names a PostgreSQL database, a fresh schema of its own in
//! that database (dropped afterwards). `./scripts/test.sh` runs the server tests both ways.
#![allow(dead_code)]

pub mod mail;
pub mod oidc;
pub mod region;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use chrono::{Duration, DurationRound, Utc};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;
use uuid::Uuid;

use chrono::NaiveDate;
use mdt::core::agenda::{AgendaItem, ItemKind, ItemStatus};
use mdt::core::entities::{Entity, Meeting, MeetingStatus, Person, Role, Team};
use mdt::core::patient::Patient;
use mdt::server::demo::{add_user, NewUser};
use mdt::server::store::{Engine, Store};
use mdt::server::{app, AppState, Config};

pub const PASSWORD: &str = "correct-horse-battery";

pub struct Harness {
    pub app: Router,
    pub store: Store,
    pub place: TestDatabase,
    /// Recovery codes of the accounts that set up a second factor here, by email, for later
    /// sign-ins (see [`Harness::second_factor`]).
    pub recovery_codes: std::sync::Mutex<std::collections::HashMap<String, Vec<String>>>,
    /// The provider people sign in through when the run asks for it ([`WayIn::Organisation`]).
    pub organisation: tokio::sync::OnceCell<oidc::WayInThroughOrganisation>,
}

/// How the tests' people sign in: the run chooses with `MDT_TEST_WAY_IN` (`password`, the
/// default; `second-factor`: a password and an authenticator code, required of everyone;
/// `organisation`: through a real OpenID provider), so the write matrix and the access tests
/// show that what a person may do never depends on how they signed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WayIn {
    Password,
    SecondFactor,
    Organisation,
}

pub fn way_in() -> WayIn {
    match std::env::var("MDT_TEST_WAY_IN")
        .unwrap_or_default()
        .as_str()
    {
        "" | "password" => WayIn::Password,
        "second-factor" => WayIn::SecondFactor,
        "organisation" => WayIn::Organisation,
        other => panic!("MDT_TEST_WAY_IN={other}: use password, second-factor or organisation"),
    }
}

pub struct Client<'a> {
    pub h: &'a Harness,
    pub cookie: String,
    pub device: Uuid,
    pub seq: u64,
}

impl Harness {
    pub fn new() -> Self {
        let place = TestDatabase::new();
        let store = place.open();
        let app = app(AppState::new(store.clone(), Config::default()));
        if way_in() == WayIn::SecondFactor {
            store
                .write_blocking(|db| {
                    mdt::server::store::set_setting(
                        db,
                        mdt::server::second_factor::REQUIRED_SETTING,
                        "1",
                    )
                })
                .unwrap();
        }
        Self {
            app,
            store,
            place,
            recovery_codes: Default::default(),
            organisation: Default::default(),
        }
    }

    /// Signs in with a password, through the second factor when the account has or needs one
    /// (every site administrator): the first time it sets up an authenticator, with codes from
    /// an independent TOTP implementation ([`totp_code`]), and keeps the recovery codes; later
    /// sign-ins use one of those. The answer of the request that began the session.
    pub async fn password_sign_in(
        &self,
        email: &str,
        password: &str,
    ) -> (StatusCode, axum::http::HeaderMap, Value) {
        if way_in() == WayIn::Organisation {
            return self.sign_in_through_organisation(email).await;
        }
        let body = json!({"email": email, "password": password});
        let answer = self
            .send(json_request("POST", "/api/session", &body, None))
            .await;
        self.second_factor(email, answer).await
    }

    /// Signs in through the run's OpenID provider (started on first use): the answer of
    /// `GET /api/session` with the session, its cookie in `Set-Cookie` as a sign-in's would be.
    pub async fn sign_in_through_organisation(
        &self,
        email: &str,
    ) -> (StatusCode, axum::http::HeaderMap, Value) {
        let way = self
            .organisation
            .get_or_init(|| oidc::WayInThroughOrganisation::start(&self.store))
            .await;
        let cookie = way.sign_in(&self.store, email).await;
        let (status, _, body) = self.send(get("/api/session", Some(&cookie))).await;
        assert_eq!(
            body["signed_in_through_organisation"],
            json!(true),
            "{body}"
        );
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(
            header::SET_COOKIE,
            format!("{cookie}; HttpOnly; SameSite=Strict; Path=/")
                .parse()
                .unwrap(),
        );
        (status, headers, body)
    }

    /// Completes a sign-in that answered `202` (a second factor needed); any other answer is
    /// returned as it is.
    pub async fn second_factor(
        &self,
        email: &str,
        answer: (StatusCode, axum::http::HeaderMap, Value),
    ) -> (StatusCode, axum::http::HeaderMap, Value) {
        let (status, _, body) = &answer;
        if *status != StatusCode::ACCEPTED {
            return answer;
        }
        let pending = body["pending"].as_str().unwrap().to_owned();
        if body["set_up"] == json!(true) {
            let (status, _, set_up) = self
                .send(json_request(
                    "POST",
                    "/api/session/second-factor/set-up",
                    &json!({"pending": pending}),
                    None,
                ))
                .await;
            assert_eq!(status, StatusCode::OK, "{set_up}");
            let code = totp_code(set_up["secret"].as_str().unwrap(), 0);
            let (status, headers, ready) = self
                .send(json_request(
                    "POST",
                    "/api/session/second-factor/confirm",
                    &json!({"pending": pending, "code": code}),
                    None,
                ))
                .await;
            assert_eq!(status, StatusCode::OK, "{ready}");
            let codes = ready["recovery_codes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_str().unwrap().to_owned())
                .collect();
            self.recovery_codes
                .lock()
                .unwrap()
                .insert(email.to_lowercase(), codes);
            return (status, headers, ready["user"].clone());
        }
        let code = self
            .recovery_codes
            .lock()
            .unwrap()
            .get_mut(&email.to_lowercase())
            .and_then(Vec::pop)
            .expect("a recovery code kept from this account's set-up");
        self.send(json_request(
            "POST",
            "/api/session/second-factor",
            &json!({"pending": pending, "code": code}),
            None,
        ))
        .await
    }

    pub fn user(&self, email: &str, name: &str, role: Role) -> Uuid {
        let user = add_user(
            &self.store,
            &NewUser {
                email,
                name,
                role,
                password: PASSWORD,
            },
            Utc::now(),
        )
        .unwrap();
        user.person_id
    }

    /// Pat, the practice manager most tests sign in as.
    pub fn coordinator(&self) -> Uuid {
        self.user(
            "pat.coordinator@example.nhs.net",
            "Pat Coordinator",
            Role::PracticeManager,
        )
    }

    /// Pat, the coordinator, signed in.
    pub async fn pat(&self) -> Client<'_> {
        let person = self.coordinator();
        self.sign_in("pat.coordinator@example.nhs.net", person)
            .await
    }

    pub async fn send(&self, request: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Value) {
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        (status, headers, body)
    }

    /// Signs in one of the demo's accounts (after `load_demo`); returns the session cookie.
    pub async fn demo_cookie(&self, email: &str) -> String {
        let (status, headers, _) = self
            .password_sign_in(email, mdt::server::demo::DEMO_PASSWORD)
            .await;
        assert_eq!(status, StatusCode::OK);
        session_cookie(&headers)
    }

    pub async fn sign_in(&self, email: &str, person_id: Uuid) -> Client<'_> {
        let (status, headers, body) = self.password_sign_in(email, PASSWORD).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["person_id"], json!(person_id.to_string()));
        Client {
            h: self,
            cookie: session_cookie(&headers),
            device: Uuid::new_v4(),
            seq: 0,
        }
    }
}

/// The TOTP code of a base32 `secret` for now, or `steps` 30-second steps from now, computed
/// by PyPI's pyotp (tests/auth/totp.py): an implementation independent of the app's.
pub fn totp_code(secret: &str, steps: i64) -> String {
    let python = std::env::var("MDT_AUTH_PYTHON")
        .unwrap_or_else(|_| format!("{}/.tools/auth-venv/bin/python", env!("CARGO_MANIFEST_DIR")));
    let output = std::process::Command::new(&python)
        .arg(format!("{}/tests/auth/totp.py", env!("CARGO_MANIFEST_DIR")))
        .arg(secret)
        .arg(steps.to_string())
        .output()
        .unwrap_or_else(|e| {
            panic!("{python} (pyotp) does not run ({e}): run ./scripts/test.sh, which installs it")
        });
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// Where a test's data lives: a temporary directory for SQLite, and on PostgreSQL a schema of
/// its own (so tests running at once never see each other's rows), dropped at the end.
pub struct TestDatabase {
    pub dir: tempfile::TempDir,
    postgres: Option<(String, String)>,
}

/// The PostgreSQL database the tests run on, if the run asks for one.
pub fn test_database_url() -> Option<String> {
    std::env::var("MDT_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
}

impl TestDatabase {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let postgres = test_database_url().map(|url| {
            let schema = format!("test_{}", Uuid::new_v4().simple());
            on_own_thread(&url, &format!("CREATE SCHEMA {schema}"))
                .expect("the test database (MDT_TEST_DATABASE_URL) answers");
            (url, schema)
        });
        Self { dir, postgres }
    }

    /// The address of this test's data: the database URL with the schema chosen, or `None`
    /// for SQLite (use [`TestDatabase::dir`]).
    pub fn url(&self) -> Option<String> {
        self.postgres.as_ref().map(|(url, schema)| {
            let separator = if url.contains('?') { '&' } else { '?' };
            format!("{url}{separator}options=-csearch_path%3D{schema}")
        })
    }

    /// A store on this test's data (another handle each call, as another server would have).
    pub fn open(&self) -> Store {
        match self.url() {
            Some(url) => Store::connect(&url).unwrap(),
            None => Store::open(self.dir.path()).unwrap(),
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((url, schema)) = &self.postgres {
            let _ = on_own_thread(url, &format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
        }
    }
}

/// Runs `sql` on a connection of its own, from a thread of its own (the driver may not block
/// a thread that drives async tasks).
pub fn on_own_thread(url: &str, sql: &str) -> Result<(), postgres::Error> {
    let (url, sql) = (url.to_owned(), sql.to_owned());
    std::thread::spawn(move || {
        postgres::Client::connect(&url, postgres::NoTls)?.batch_execute(&sql)
    })
    .join()
    .unwrap()
}

/// Removes the database's guard against changing or deleting audit rows, as someone with
/// direct access to the database could.
pub fn drop_audit_guard(store: &Store) {
    let statements: &[&str] = match store.engine() {
        Engine::Sqlite => &[
            "DROP TRIGGER IF EXISTS audit_no_update",
            "DROP TRIGGER IF EXISTS audit_no_delete",
        ],
        Engine::Postgres => &[
            "DROP TRIGGER IF EXISTS audit_no_change ON audit",
            "DROP TRIGGER IF EXISTS audit_no_truncate ON audit",
        ],
    };
    store
        .write_blocking(|db| {
            for sql in statements {
                db.execute(sql, &[])?;
            }
            Ok(())
        })
        .unwrap();
}

/// How long a test waits before it calls an answer a hang: far above any normal answer (a push
/// of one change answers in well under a second in a debug build, even with the machine busy),
/// so it detects a hang and never times a busy machine (speed is measured by benchmarks). A
/// 2-second deadline failed on PostgreSQL with the test command running on a loaded machine
/// (issue 30).
pub const HANG_DEADLINE: std::time::Duration = std::time::Duration::from_secs(30);

/// Sends `request` to the app from a thread (and runtime) of its own and waits at most `limit`
/// for the answer: a request that hangs, even one that blocks the thread serving it, gives
/// `None` instead of hanging the test.
pub fn send_within(
    app: Router,
    request: Request<Body>,
    limit: std::time::Duration,
) -> Option<(StatusCode, Value)> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let answer = runtime.block_on(async {
            let response = app.oneshot(request).await.unwrap();
            let status = response.status();
            let bytes = response.into_body().collect().await.unwrap().to_bytes();
            (
                status,
                serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            )
        });
        let _ = tx.send(answer);
    });
    rx.recv_timeout(limit).ok()
}

/// Someone in the directory (added by `client`) who cannot sign in: a coordinator keeps their
/// details and availability.
pub async fn person_without_account(client: &mut Client<'_>, name: &str, role: Role) -> Uuid {
    let id = Uuid::new_v4();
    assert_eq!(
        client.put(id, 0, &person(name, role)).await["status"],
        "applied"
    );
    id
}

pub fn json_request(method: &str, uri: &str, body: &Value, cookie: Option<&str>) -> Request<Body> {
    let mut builder = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .header("x-requested-with", "mdt-app");
    if let Some(c) = cookie {
        builder = builder.header(header::COOKIE, c);
    }
    builder.body(Body::from(body.to_string())).unwrap()
}

pub fn get(uri: &str, cookie: Option<&str>) -> Request<Body> {
    let mut builder = Request::builder().uri(uri);
    if let Some(c) = cookie {
        builder = builder.header(header::COOKIE, c);
    }
    builder.body(Body::empty()).unwrap()
}

/// The session cookie (`name=value`) set in a raw HTTP response head, as [`request`] gives it.
pub fn session_cookie_in(head: &str) -> String {
    head.lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.trim()
                .eq_ignore_ascii_case("set-cookie")
                .then(|| value.trim())
        })
        .and_then(|c| c.split(';').next())
        .expect("a session cookie")
        .to_owned()
}

pub fn session_cookie(headers: &axum::http::HeaderMap) -> String {
    let set = headers
        .get(header::SET_COOKIE)
        .expect("a session cookie")
        .to_str()
        .unwrap();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict") && set.contains("Path=/"),
        "{set}"
    );
    set.split(';').next().unwrap().to_owned()
}

impl Client<'_> {
    pub fn mutation(&mut self, entity: &str, id: Uuid, base_version: u64, fields: Value) -> Value {
        self.seq += 1;
        json!({
            "mutation_id": Uuid::new_v4(), "seq": self.seq, "entity": entity, "id": id,
            "base_version": base_version, "op": {"kind": "update", "fields": fields}
        })
    }

    pub async fn push_raw(&self, mutations: Vec<Value>) -> (StatusCode, Value) {
        let body = json!({"device_id": self.device, "mutations": mutations});
        let (status, _, body) = self
            .h
            .send(json_request(
                "POST",
                "/api/sync/push",
                &body,
                Some(&self.cookie),
            ))
            .await;
        (status, body)
    }

    pub async fn push(&self, mutations: Vec<Value>) -> Vec<Value> {
        let (status, body) = self.push_raw(mutations).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["results"].as_array().unwrap().clone()
    }

    pub async fn put<E: Entity>(&mut self, id: Uuid, base: u64, entity: &E) -> Value {
        let entity_name = serde_json::to_value(E::KIND).unwrap();
        let m = self.mutation(
            entity_name.as_str().unwrap(),
            id,
            base,
            Value::Object(entity.to_fields()),
        );
        self.push(vec![m]).await.remove(0)
    }

    pub async fn pull(&self, since: u64) -> Value {
        let (status, _, body) = self
            .h
            .send(get(
                &format!("/api/sync/pull?since={since}"),
                Some(&self.cookie),
            ))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    pub async fn pulled_ids(&self) -> Vec<String> {
        let body = self.pull(0).await;
        body["records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_owned())
            .collect()
    }
}

pub fn person(name: &str, role: Role) -> Person {
    Person {
        name: name.into(),
        role,
        organisation_id: None,
        phone: Some("01632 960 999".into()),
        email: None,
        last_confirmed: uk_days_from_today(-30),
    }
}

pub fn team(name: &str, coordinator: Uuid, members: Vec<Uuid>) -> Team {
    Team {
        name: name.into(),
        coordinator_id: coordinator,
        member_ids: members,
        observer_ids: vec![],
        required_roles: vec![Role::Gp.into(), Role::SocialWorker.into()],
        default_minutes: 90,
        place: "Room 2".into(),
        video_link: None,
        agenda_cutoff_hours: 48,
        brief_cutoff_hours: 24,
        archived: false,
        observers_see_measures: false,
        email_people_without_accounts: false,
    }
}

/// A meeting two weeks from now (so the agenda is open), 90 minutes long.
pub fn meeting(team_id: Uuid) -> Meeting {
    let starts_at = Utc::now().duration_trunc(Duration::minutes(1)).unwrap() + Duration::days(14);
    Meeting {
        team_id,
        starts_at,
        ends_at: starts_at + Duration::minutes(90),
        place: "Room 2".into(),
        video_link: None,
        status: MeetingStatus::Planned,
    }
}

/// Today's date in the UK plus `days` (negative: before): tests compute every date from
/// today, so they pass on any day.
pub fn uk_days_from_today(days: i64) -> NaiveDate {
    mdt::core::uk_time::uk_today(Utc::now()) + Duration::days(days)
}

/// The `nth` (1–4) `weekday` of the month `months_ahead` months after this one in the UK.
pub fn nth_weekday_months_ahead(nth: u8, weekday: chrono::Weekday, months_ahead: u32) -> NaiveDate {
    use chrono::Datelike;
    let first = uk_days_from_today(0).with_day(1).unwrap() + chrono::Months::new(months_ahead);
    NaiveDate::from_weekday_of_month_opt(first.year(), first.month(), weekday, nth).unwrap()
}

/// The times of a meeting that started an hour ago and is still going on (90 minutes): one
/// being held now, which may be run and concluded (a meeting is concluded only once it has
/// started, whatever day the tests run).
pub fn started_an_hour_ago() -> (chrono::DateTime<Utc>, chrono::DateTime<Utc>) {
    let starts_at = Utc::now().duration_trunc(Duration::minutes(1)).unwrap() - Duration::hours(1);
    (starts_at, starts_at + Duration::minutes(90))
}

/// Moves the meeting (stored at `base`) to have started an hour ago, so that it can be
/// concluded; returns its new version.
pub async fn hold_meeting_now(client: &mut Client<'_>, meeting_id: Uuid, base: u64) -> u64 {
    let (starts_at, ends_at) = started_an_hour_ago();
    let m = client.mutation(
        "meeting",
        meeting_id,
        base,
        json!({"starts_at": starts_at, "ends_at": ends_at}),
    );
    let result = client.push(vec![m]).await.remove(0);
    assert_eq!(result["status"], "applied", "{result}");
    result["version"].as_u64().unwrap()
}

/// A synthetic NHS number in the 999 test range with a valid check digit.
pub const NHS_A: &str = "9990000018";
pub const NHS_B: &str = "9990000026";

pub fn patient(team_id: Uuid, nhs: &str, name: &str) -> Patient {
    Patient {
        team_id,
        nhs_number: nhs.into(),
        name: name.into(),
        date_of_birth: NaiveDate::from_ymd_opt(1941, 3, 2).unwrap(),
        registered_practice_id: None,
        objects_to_sharing: false,
        lead_professional_id: None,
    }
}

pub fn item(
    team_id: Uuid,
    meeting_id: Uuid,
    patient_id: Uuid,
    requested_by: Uuid,
    position: i64,
) -> AgendaItem {
    AgendaItem {
        team_id,
        meeting_id,
        kind: ItemKind::PatientDiscussion,
        title: String::new(),
        patient_id: Some(patient_id),
        reason: "Two falls this month".into(),
        question: "Does the care package need review?".into(),
        requested_by: Some(requested_by),
        requested_on: uk_days_from_today(-7),
        lead_professional_id: Some(requested_by),
        minutes: 15,
        position,
        required_people: vec![requested_by],
        late: false,
        deferrals: 0,
        carried_from: None,
        status: ItemStatus::Open,
        outcome: None,
        summary_sent_on: None,
        restricted: false,
        restricted_to: vec![],
        content_withheld: false,
    }
}

pub struct Setup {
    pub team_id: Uuid,
    pub meeting_id: Uuid,
    pub pat: Uuid,
    pub sol: Uuid,
}

/// Pat coordinates a team with Sol (a social worker) in it, and a meeting in two weeks.
pub async fn setup(h: &Harness, pat_client: &mut Client<'_>) -> Setup {
    let pat = pat_client_person(h);
    let sol = h.user(
        "sol.worker@example.gov.uk",
        "Sol Worker",
        Role::SocialWorker,
    );
    let team_id = Uuid::new_v4();
    assert_eq!(
        pat_client
            .put(team_id, 0, &team("Riverside MDT", pat, vec![sol]))
            .await["status"],
        "applied"
    );
    let meeting_id = Uuid::new_v4();
    assert_eq!(
        pat_client.put(meeting_id, 0, &meeting(team_id)).await["status"],
        "applied"
    );
    Setup {
        team_id,
        meeting_id,
        pat,
        sol,
    }
}

pub fn pat_client_person(h: &Harness) -> Uuid {
    h.store
        .write_blocking(|c| {
            mdt::server::store::find_user_by_email(c, "pat.coordinator@example.nhs.net")
        })
        .unwrap()
        .unwrap()
        .person_id
}

pub fn find(pulled: &Value, id: Uuid) -> Option<&Value> {
    pulled["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == json!(id))
}

/// Ada Synthetic (NHS_A) on the team's list, discussed on the setup meeting at Sol's request.
pub async fn add_patient_item(pat: &mut Client<'_>, s: &Setup) -> (Uuid, Uuid) {
    let patient_id = Uuid::new_v4();
    pat.put(patient_id, 0, &patient(s.team_id, NHS_A, "Ada Synthetic"))
        .await;
    let item_id = Uuid::new_v4();
    pat.put(
        item_id,
        0,
        &item(s.team_id, s.meeting_id, patient_id, s.sol, 1024),
    )
    .await;
    (patient_id, item_id)
}

/// Sol's first brief ("Lives alone") for the item, written by `client`; returns its id.
pub async fn add_brief(client: &mut Client<'_>, s: &Setup, item_id: Uuid) -> Uuid {
    let brief_id = mdt::core::brief::brief_id_for(item_id);
    let brief = mdt::core::brief::Brief {
        team_id: s.team_id,
        item_id,
        author_id: s.sol,
        situation: "Lives alone".into(),
        ..mdt::core::brief::Brief::default()
    };
    assert_eq!(client.put(brief_id, 0, &brief).await["status"], "applied");
    brief_id
}

/// How a request can go without an answer.
#[derive(Debug, PartialEq)]
pub enum NoAnswer {
    /// Nobody listening (the server is down).
    Refused,
    /// Sent, but the connection was cut before the whole answer came (killed mid-request).
    Cut,
}

/// One HTTP/1.1 request over a fresh connection (`Connection: close`), answered within ten
/// seconds or not at all: status, head and body.
pub async fn request(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    body: Option<&Value>,
) -> Result<(u16, String, String), NoAnswer> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let body = body.map(Value::to_string).unwrap_or_default();
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\nX-Requested-With: mdt-app\r\nContent-Type: application/json\r\nContent-Length: {}\r\n", body.len());
    if let Some(c) = cookie {
        head.push_str(&format!("Cookie: {c}\r\n"));
    }
    head.push_str("\r\n");
    head.push_str(&body);
    let Ok(mut stream) = tokio::net::TcpStream::connect(addr).await else {
        return Err(NoAnswer::Refused);
    };
    let work = async {
        stream.write_all(head.as_bytes()).await.ok()?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await.ok()?;
        let text = String::from_utf8(response).ok()?;
        let (headers, body) = text.split_once("\r\n\r\n")?;
        let status: u16 = headers.split(' ').nth(1)?.parse().ok()?;
        Some((status, headers.to_owned(), body.to_owned()))
    };
    tokio::time::timeout(std::time::Duration::from_secs(10), work)
        .await
        .ok()
        .flatten()
        .ok_or(NoAnswer::Cut)
}

/// The real server binary with its data directory set and its log quiet, for the tests that
/// run it as a process.
pub fn server_command(data_dir: &std::path::Path) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_mdt-server"));
    command
        .arg("--data-dir")
        .arg(data_dir)
        .env("RUST_LOG", "warn");
    command
}

/// Adds an account to `data_dir` with `mdt-server user add`, the password typed on standard
/// input as an administrator would.
pub fn add_account_by_command(data_dir: &std::path::Path, email: &str, name: &str, password: &str) {
    use std::io::Write;
    let mut add = server_command(data_dir)
        .args(["user", "add", "--email", email, "--name", name])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    writeln!(add.stdin.take().unwrap(), "{password}").unwrap();
    assert!(add.wait().unwrap().success(), "mdt-server user add {email}");
}
