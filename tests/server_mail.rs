//! Email for real (issue 17): the server binary, with `--smtp-url` pointing at a real SMTP
//! server on loopback (aiosmtpd), on the engine the run asks for (SQLite, then PostgreSQL).
//!
//! - Each kind of message a change sends arrives, with its words, its link, and a calendar file
//!   a third-party parser reads, whose UID and SEQUENCE match the download, so an update and a
//!   cancellation change the one event; nothing about a patient in any of them.
//! - The outbox: SIGKILL between commit and send, and during sending, loses nothing and sends
//!   each message once (at most the one in flight again); two servers on one database send
//!   each message once, and the second takes over when the first dies.
//! - The SMTP server down for a while: messages wait, then go.
//!
//! Synthetic people and patients only.

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{Datelike, DurationRound, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

use common::mail::{Received, SmtpSink};
use common::{request, TestDatabase, NHS_A, PASSWORD};
use mdt::core::attendance::Attendance;
use mdt::core::entities::{Entity, Meeting, MeetingStatus, Role, Team};
use mdt::core::mail::patient_shaped;
use mdt::core::schedule::Recurrence;
use mdt::core::series::Series;
use mdt::server::demo::{add_user, NewUser};
use mdt::server::store::outbox;

const PUBLIC_URL: &str = "https://mdt.example.nhs.uk";

/// One `mdt-server` process with email on.
struct MailServer {
    child: Child,
    addr: SocketAddr,
}

impl MailServer {
    fn start(place: &TestDatabase, smtp_url: &str, name: &str) -> Self {
        let addr = common::region::free_port();
        let mut command = Command::new(env!("CARGO_BIN_EXE_mdt-server"));
        match place.url() {
            Some(url) => command.args(["--database-url", &url]),
            None => command.arg("--data-dir").arg(place.dir.path()),
        };
        let child = command
            .args(["--addr", &addr.to_string(), "--server-name", name])
            .args(["--smtp-url", smtp_url])
            .args(["--mail-from", "MDT coordination <mdt@example.nhs.uk>"])
            .args(["--public-url", PUBLIC_URL])
            .args(["--mail-retry-seconds", "1", "--mail-check-seconds", "1"])
            .arg("--dist")
            .arg(place.dir.path().join("no-app"))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the server starts");
        common::region::wait_until_listening(addr, Duration::from_secs(30), || {
            format!("{name} did not start listening")
        });
        Self { child, addr }
    }

    /// SIGKILL: no shutdown, as in a crash.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for MailServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Someone signed in to a server over HTTP, pushing as the app does.
struct Http {
    addr: SocketAddr,
    cookie: String,
    device: Uuid,
    seq: u64,
}

impl Http {
    async fn sign_in(addr: SocketAddr, email: &str) -> Self {
        let body = json!({"email": email, "password": PASSWORD});
        let (status, head, text) = request(addr, "POST", "/api/session", None, Some(&body))
            .await
            .expect("sign-in answered");
        assert_eq!(status, 200, "{text}");
        Self {
            addr,
            cookie: common::session_cookie_in(&head),
            device: Uuid::new_v4(),
            seq: 0,
        }
    }

    fn mutation(&mut self, entity: &str, id: Uuid, base: u64, fields: Value) -> Value {
        self.seq += 1;
        json!({
            "mutation_id": Uuid::new_v4(), "seq": self.seq, "entity": entity, "id": id,
            "base_version": base, "op": {"kind": "update", "fields": fields}
        })
    }

    fn entity<E: Entity>(&mut self, id: Uuid, base: u64, e: &E) -> Value {
        let kind = serde_json::to_value(E::KIND).unwrap();
        self.mutation(
            kind.as_str().unwrap(),
            id,
            base,
            Value::Object(e.to_fields()),
        )
    }

    /// Pushes; every change must be applied.
    async fn push(&self, mutations: Vec<Value>) {
        for result in self.push_answered(mutations).await {
            assert_eq!(result["status"], "applied", "{result}");
        }
    }

    /// Pushes, and returns the server's answer to each change.
    async fn push_answered(&self, mutations: Vec<Value>) -> Vec<Value> {
        let body = json!({"device_id": self.device, "mutations": mutations});
        let (status, _, text) = request(
            self.addr,
            "POST",
            "/api/sync/push",
            Some(&self.cookie),
            Some(&body),
        )
        .await
        .expect("push answered");
        assert_eq!(status, 200, "{text}");
        let answer: Value = serde_json::from_str(&text).unwrap();
        answer["results"].as_array().unwrap().clone()
    }

    async fn get(&self, path: &str) -> String {
        let (status, _, text) = request(self.addr, "GET", path, Some(&self.cookie), None)
            .await
            .expect("answered");
        assert_eq!(status, 200, "{path}: {text}");
        text
    }
}

/// The people of the tests: three with accounts (Pat coordinates, Gita is the team's only GP).
struct People {
    pat: Uuid,
    gita: Uuid,
    sol: Uuid,
}

fn people(place: &TestDatabase) -> People {
    let store = place.open();
    let user = |email: &str, name: &str, role| {
        add_user(
            &store,
            &NewUser {
                email,
                name,
                role,
                password: PASSWORD,
            },
            Utc::now(),
        )
        .unwrap()
        .person_id
    };
    People {
        pat: user(
            "pat.coordinator@example.nhs.net",
            "Pat Coordinator",
            Role::PracticeManager,
        ),
        gita: user("gita.gp@example.nhs.net", "Gita Synthetic", Role::Gp),
        sol: user(
            "sol.worker@example.gov.uk",
            "Sol Worker",
            Role::SocialWorker,
        ),
    }
}

fn team(p: &People, noor: Uuid) -> Team {
    let mut team = common::team("Brook MDT", p.pat, vec![p.gita, p.sol, noor]);
    team.required_roles = vec![Role::Gp.into()];
    team
}

/// A weekly series at 13:00 for an hour in Room 2, from `first` (UK date).
fn weekly_series(team_id: Uuid, first: chrono::NaiveDate) -> Series {
    Series {
        team_id,
        rule: Recurrence::Weekly {
            interval: 1,
            weekday: first.weekday().num_days_from_monday() as u8,
        },
        first_date: first,
        starts: chrono::NaiveTime::from_hms_opt(13, 0, 0).unwrap(),
        minutes: 60,
        until: None,
        exceptions: vec![],
        place: "Room 2".into(),
        video_link: None,
        sequence: 0,
        cancelled: false,
    }
}

fn meeting_in(team_id: Uuid, days: i64) -> Meeting {
    let starts_at = Utc::now()
        .duration_trunc(chrono::Duration::minutes(1))
        .unwrap()
        + chrono::Duration::days(days);
    Meeting {
        team_id,
        starts_at,
        ends_at: starts_at + chrono::Duration::minutes(90),
        place: "Room 2".into(),
        video_link: None,
        status: MeetingStatus::Planned,
    }
}

/// Pat makes the team (with Noor, who has an email address but no account) and the meetings.
async fn team_with_meetings(pat: &mut Http, p: &People, meetings: usize) -> (Uuid, Vec<Uuid>) {
    let team_id = Uuid::new_v4();
    let noor = Uuid::new_v4();
    let mut noor_person = common::person("Noor Noaccount", Role::DistrictNurse);
    noor_person.email = Some("noor.nurse@example.nhs.net".into());
    let mut batch = vec![pat.entity(noor, 0, &noor_person)];
    batch.push(pat.entity(team_id, 0, &team(p, noor)));
    let ids: Vec<Uuid> = (0..meetings).map(|_| Uuid::new_v4()).collect();
    for (i, id) in ids.iter().enumerate() {
        batch.push(pat.entity(*id, 0, &meeting_in(team_id, 7 + i as i64)));
    }
    pat.push(batch).await;
    (team_id, ids)
}

/// Messages of one kind by subject start, each checked for patient data.
fn with_subject<'a>(all: &'a [Received], start: &str) -> Vec<&'a Received> {
    all.iter()
        .filter(|m| m.subject.starts_with(start))
        .collect()
}

fn recipients(messages: &[&Received]) -> Vec<String> {
    let mut to: Vec<String> = messages.iter().map(|m| m.recipient().to_owned()).collect();
    to.sort();
    to
}

/// The METHOD, UID and SEQUENCE of a calendar file, read by the `icalendar` crate.
fn calendar_identity(ics: &str) -> (String, String, String) {
    let unfolded = icalendar::parser::unfold(ics);
    let calendar = icalendar::parser::read_calendar(&unfolded).expect("a calendar file");
    let method = calendar
        .properties
        .iter()
        .find(|p| p.name == "METHOD")
        .map(|p| p.val.to_string())
        .expect("METHOD");
    let event = calendar
        .components
        .iter()
        .find(|c| c.name == "VEVENT")
        .expect("VEVENT");
    let prop = |name: &str| {
        event
            .properties
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.val.to_string())
            .unwrap_or_else(|| panic!("{name} in {ics}"))
    };
    (method, prop("UID"), prop("SEQUENCE"))
}

/// No message carries anything about a patient: no NHS-number-shaped text, the patient's name
/// or the brief's words, in any header, body or attachment.
fn assert_no_patient_data(all: &[Received], words: &[&str]) {
    for m in all {
        assert!(
            !patient_shaped(&m.raw),
            "NHS-number-shaped text in {}",
            m.raw
        );
        for text in [Some(&m.raw), m.text.as_ref(), m.calendar.as_ref()]
            .into_iter()
            .flatten()
        {
            assert!(!patient_shaped(text), "{text}");
            for w in words {
                assert!(!text.contains(w), "{w:?} in {text}");
            }
        }
    }
}

fn wait_until(limit: Duration, what: &str, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !ok() {
        assert!(Instant::now() < deadline, "{what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn each_change_that_sends_mail_reaches_a_real_smtp_server_with_calendar_files_that_keep_one_event(
) {
    let sink = SmtpSink::start();
    let place = TestDatabase::new();
    let p = people(&place);
    let server = MailServer::start(&place, &sink.url(), "mail-a");
    let mut pat = Http::sign_in(server.addr, "pat.coordinator@example.nhs.net").await;
    let (team_id, meetings) = team_with_meetings(&mut pat, &p, 1).await;
    let meeting_id = meetings[0];

    // A patient on the agenda, with a brief: none of it may reach an email.
    let patient_id = Uuid::new_v4();
    let item_id = Uuid::new_v4();
    let patient = common::patient(team_id, NHS_A, "Ada Synthetic");
    let item = common::item(team_id, meeting_id, patient_id, p.gita, 1);
    let batch = vec![
        pat.entity(patient_id, 0, &patient),
        pat.entity(item_id, 0, &item),
    ];
    pat.push(batch).await;

    // The invitation: to Pat, Gita and Sol (not Noor: no account, and not turned on).
    let all = sink.wait_for(3, Duration::from_secs(30));
    let invitations = with_subject(&all, "Invitation: Brook MDT meeting");
    assert_eq!(
        recipients(&invitations),
        [
            "gita.gp@example.nhs.net",
            "pat.coordinator@example.nhs.net",
            "sol.worker@example.gov.uk"
        ]
    );
    let gita = invitations
        .iter()
        .find(|m| m.recipient() == "gita.gp@example.nhs.net")
        .unwrap();
    assert_eq!(gita.from, "MDT coordination <mdt@example.nhs.uk>");
    let text = gita.text.as_deref().unwrap();
    assert!(
        text.contains(&format!("{PUBLIC_URL}/meetings/{meeting_id}")),
        "{text}"
    );
    assert!(
        text.contains("You received this because you are in Brook MDT"),
        "{text}"
    );
    assert!(text.contains("never contains patient details"), "{text}");
    // The MIME type names the iTIP method (quoted or not), as Outlook looks for it.
    let kind = gita.calendar_type.as_deref().unwrap().replace('"', "");
    assert!(
        kind.contains("text/calendar") && kind.contains("method=REQUEST"),
        "{kind}"
    );
    let (method, uid, sequence) = calendar_identity(gita.calendar.as_deref().unwrap());
    assert_eq!(method, "REQUEST");
    // The same event as the download.
    let download = pat
        .get(&format!("/api/meetings/{meeting_id}/calendar.ics"))
        .await;
    let (_, download_uid, download_sequence) = calendar_identity(&download);
    assert_eq!((uid.clone(), sequence), (download_uid, download_sequence));

    // Moved an hour later: an update of the same event, with a higher SEQUENCE.
    let mut moved = meeting_in(team_id, 7);
    moved.starts_at += chrono::Duration::hours(1);
    moved.ends_at += chrono::Duration::hours(1);
    let m = pat.entity(meeting_id, 1, &moved);
    pat.push(vec![m]).await;
    let all = sink.wait_for(6, Duration::from_secs(30));
    let changed = with_subject(&all, "Changed: Brook MDT meeting");
    assert_eq!(changed.len(), 3);
    let (method, changed_uid, changed_sequence) =
        calendar_identity(changed[0].calendar.as_deref().unwrap());
    assert_eq!(
        (method.as_str(), changed_uid.as_str()),
        ("REQUEST", uid.as_str())
    );
    assert_eq!(changed_sequence, "2");

    // Gita, the only GP, sends apologies: Pat (the coordinator) is told at once, nobody else.
    let mut gita_http = Http::sign_in(server.addr, "gita.gp@example.nhs.net").await;
    let answer = json!({"team_id": team_id, "meeting_id": meeting_id, "person_id": p.gita, "status": "apologies"});
    let m = gita_http.mutation(
        "attendance",
        Attendance::id_for(meeting_id, p.gita),
        0,
        answer,
    );
    gita_http.push(vec![m]).await;
    let all = sink.wait_for(7, Duration::from_secs(30));
    let quorum = with_subject(&all, "Quorum lost: Brook MDT meeting");
    assert_eq!(recipients(&quorum), ["pat.coordinator@example.nhs.net"]);
    assert!(quorum[0]
        .text
        .as_deref()
        .unwrap()
        .contains("no longer has a GP"));
    assert!(quorum[0].calendar.is_none());

    // Cancelled: the same event is cancelled.
    let cancelled = Meeting {
        status: MeetingStatus::Cancelled,
        ..moved.clone()
    };
    let m = pat.entity(meeting_id, 2, &cancelled);
    pat.push(vec![m]).await;
    let all = sink.wait_for(10, Duration::from_secs(30));
    let gone = with_subject(&all, "Cancelled: Brook MDT meeting");
    assert_eq!(gone.len(), 3);
    assert!(gone[0]
        .calendar_type
        .as_deref()
        .unwrap()
        .replace('"', "")
        .contains("method=CANCEL"));
    let (method, cancelled_uid, cancelled_sequence) =
        calendar_identity(gone[0].calendar.as_deref().unwrap());
    assert_eq!(
        (method.as_str(), cancelled_uid.as_str()),
        ("CANCEL", uid.as_str())
    );
    assert_eq!(cancelled_sequence, "3");

    // A series: one invitation per person for the whole series, none for its meetings.
    let series_id = Uuid::new_v4();
    let first = (Utc::now() + chrono::Duration::days(10)).date_naive();
    let series = weekly_series(team_id, first);
    let m = pat.entity(series_id, 0, &series);
    pat.push(vec![m]).await;
    let all = sink.wait_for(13, Duration::from_secs(30));
    let series_invites = with_subject(&all, "Invitation: Brook MDT meetings, every week");
    assert_eq!(
        series_invites.len(),
        3,
        "{:#?}",
        all.iter().map(|m| &m.subject).collect::<Vec<_>>()
    );
    let (method, series_uid, _) = calendar_identity(series_invites[0].calendar.as_deref().unwrap());
    assert_eq!(method, "REQUEST");
    assert_eq!(series_uid, format!("series-{series_id}@mdt"));
    assert_eq!(all.len(), 13, "nothing else was sent");

    assert_no_patient_data(
        &all,
        &[
            "Ada Synthetic",
            NHS_A,
            "999 000 0018",
            "Two falls this month",
        ],
    );
    // Each message once.
    let mut ids: Vec<&str> = all.iter().map(|m| m.message_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), all.len());
}

/// Issue 26: concluding a meeting never removes it from people's calendars. Concluding one
/// still to come is refused and sends nothing; concluding one that has started sends nothing;
/// only cancelling one to come sends a cancellation, one to each invitee.
#[tokio::test(flavor = "multi_thread")]
async fn concluding_a_meeting_never_cancels_it_in_calendars_and_cancelling_one_to_come_does() {
    let sink = SmtpSink::start();
    let place = TestDatabase::new();
    let p = people(&place);
    let server = MailServer::start(&place, &sink.url(), "mail-conclude");
    let mut pat = Http::sign_in(server.addr, "pat.coordinator@example.nhs.net").await;
    // Two meetings to come (7 and 8 days ahead): an invitation each to Pat, Gita and Sol.
    let (_, meetings) = team_with_meetings(&mut pat, &p, 2).await;
    let (held, to_cancel) = (meetings[0], meetings[1]);
    let all = sink.wait_for(6, Duration::from_secs(60));
    assert_eq!(with_subject(&all, "Invitation: Brook MDT meeting").len(), 6);

    // Concluding the first while it is still to come: refused in words, nothing written.
    let early = pat.mutation("meeting", held, 1, json!({"status": "closed"}));
    let answer = pat.push_answered(vec![early]).await.remove(0);
    assert_eq!(answer["status"], "rejected", "{answer}");
    let reason = answer["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("This meeting starts on ")
            && reason
                .ends_with("; you can conclude it once it has started. To call it off, cancel it."),
        "{reason}"
    );
    let counts = outbox_counts(&place);
    assert_eq!(counts.waiting + counts.sent, 6);

    // Held now: moved to an hour ago (calendars move the event there), then concluded.
    let (starts_at, ends_at) = common::started_an_hour_ago();
    let moved = pat.mutation(
        "meeting",
        held,
        1,
        json!({"starts_at": starts_at, "ends_at": ends_at}),
    );
    pat.push(vec![moved]).await;
    let all = sink.wait_for(9, Duration::from_secs(60));
    assert_eq!(with_subject(&all, "Changed: Brook MDT meeting").len(), 3);
    let conclude = pat.mutation("meeting", held, 2, json!({"status": "closed"}));
    pat.push(vec![conclude]).await;

    // The second, still to come, is cancelled: one cancellation to each invitee, for it alone.
    let cancel = pat.mutation("meeting", to_cancel, 1, json!({"status": "cancelled"}));
    pat.push(vec![cancel]).await;
    let all = sink.wait_for(12, Duration::from_secs(60));
    let cancelled = with_subject(&all, "Cancelled: Brook MDT meeting");
    assert_eq!(
        recipients(&cancelled),
        [
            "gita.gp@example.nhs.net",
            "pat.coordinator@example.nhs.net",
            "sol.worker@example.gov.uk"
        ]
    );
    for message in &cancelled {
        let (method, uid, _) = calendar_identity(message.calendar.as_deref().unwrap());
        assert_eq!(method, "CANCEL");
        assert_eq!(uid, format!("meeting-{to_cancel}@mdt"));
    }
    // Nothing else was written or sent: the conclusion sent nothing at all.
    let counts = outbox_counts(&place);
    assert_eq!((counts.waiting, counts.sent, counts.given_up), (0, 12, 0));
    assert_eq!(
        all.len(),
        12,
        "{:#?}",
        all.iter().map(|m| &m.subject).collect::<Vec<_>>()
    );
    // Every calendar file about the concluded meeting adds or moves it; none removes it.
    for ics in all.iter().filter_map(|m| m.calendar.as_deref()) {
        let (method, uid, _) = calendar_identity(ics);
        if uid == format!("meeting-{held}@mdt") {
            assert_eq!(method, "REQUEST");
        }
    }
}

/// How many copies of each message (by Message-ID) arrived.
fn copies(all: &[Received]) -> HashMap<String, usize> {
    let mut n = HashMap::new();
    for m in all {
        *n.entry(m.message_id.clone()).or_insert(0) += 1;
    }
    n
}

fn outbox_counts(place: &TestDatabase) -> outbox::OutboxCounts {
    place.open().read_blocking(outbox::counts).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_killed_before_or_while_sending_loses_no_message_and_sends_each_once() {
    let mut sink = SmtpSink::start();
    let place = TestDatabase::new();
    let p = people(&place);

    // Between commit and send: the SMTP server is not there yet, so nothing can go out.
    sink.stop();
    let mut server = MailServer::start(&place, &sink.url(), "mail-a");
    let mut pat = Http::sign_in(server.addr, "pat.coordinator@example.nhs.net").await;
    team_with_meetings(&mut pat, &p, 2).await;
    server.kill();
    assert_eq!(
        outbox_counts(&place).waiting,
        6,
        "committed with the meetings"
    );
    sink.resume();
    let mut server = MailServer::start(&place, &sink.url(), "mail-a");
    let all = sink.wait_for(6, Duration::from_secs(30));
    assert_eq!(all.len(), 6);
    assert!(copies(&all).values().all(|n| *n == 1));

    // During sending: 300 messages, the server killed once some have gone.
    let mut pat = Http::sign_in(server.addr, "pat.coordinator@example.nhs.net").await;
    team_with_meetings(&mut pat, &p, 100).await;
    wait_until(Duration::from_secs(30), "sending started", || {
        sink.received().len() >= 6 + 10
    });
    server.kill();
    let at_kill = sink.received().len();
    assert!(
        at_kill < 6 + 300,
        "killed while sending ({at_kill} had arrived)"
    );
    let _server = MailServer::start(&place, &sink.url(), "mail-a");
    let all = sink.wait_for(6 + 300, Duration::from_secs(60));
    let copies = copies(&all);
    assert_eq!(copies.len(), 306, "every message arrived");
    let twice: Vec<_> = copies.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        twice.len() <= 1 && twice.iter().all(|(_, n)| **n == 2),
        "at most the message in flight at the kill again: {twice:?}"
    );
    wait_until(Duration::from_secs(10), "the outbox is marked sent", || {
        let counts = outbox_counts(&place);
        counts.waiting == 0 && counts.sent == 306
    });
}

#[tokio::test(flavor = "multi_thread")]
async fn two_servers_on_one_database_send_each_message_once_and_one_takes_over_when_the_other_dies()
{
    let sink = SmtpSink::start();
    let place = TestDatabase::new();
    let p = people(&place);
    let mut a = MailServer::start(&place, &sink.url(), "mail-a");
    let b = MailServer::start(&place, &sink.url(), "mail-b");
    let mut pat_a = Http::sign_in(a.addr, "pat.coordinator@example.nhs.net").await;
    let mut pat_b = Http::sign_in(b.addr, "pat.coordinator@example.nhs.net").await;
    // Changes through both servers at once.
    let (one, two) = tokio::join!(
        team_with_meetings(&mut pat_a, &p, 40),
        team_with_meetings(&mut pat_b, &p, 40)
    );
    assert_ne!(one.0, two.0);
    let all = sink.wait_for(240, Duration::from_secs(60));
    assert_eq!(all.len(), 240);
    assert!(
        copies(&all).values().all(|n| *n == 1),
        "no message sent twice"
    );

    // The sender dies (whichever it was): the other takes over when its lease runs out.
    a.kill();
    team_with_meetings(&mut pat_b, &p, 1).await;
    let all = sink.wait_for(243, Duration::from_secs(60));
    assert_eq!(all.len(), 243);
    assert!(copies(&all).values().all(|n| *n == 1));
}

#[tokio::test(flavor = "multi_thread")]
async fn messages_wait_while_the_smtp_server_is_down_and_go_when_it_returns() {
    let mut sink = SmtpSink::start();
    let place = TestDatabase::new();
    let p = people(&place);
    let _server = MailServer::start(&place, &sink.url(), "mail-a");
    let mut pat = Http::sign_in(_server.addr, "pat.coordinator@example.nhs.net").await;
    sink.stop();
    team_with_meetings(&mut pat, &p, 3).await;
    // A few attempts fail (1 s, 2 s, ... apart); the messages wait.
    std::thread::sleep(Duration::from_secs(4));
    let counts = outbox_counts(&place);
    assert_eq!((counts.waiting, counts.sent), (9, 0));
    sink.resume();
    let all = sink.wait_for(9, Duration::from_secs(60));
    assert_eq!(all.len(), 9);
    assert!(copies(&all).values().all(|n| *n == 1));
    wait_until(Duration::from_secs(10), "the outbox is marked sent", || {
        outbox_counts(&place).sent == 9
    });
}

#[tokio::test]
async fn without_an_smtp_server_nothing_is_written_to_the_outbox() {
    let h = common::Harness::new();
    let mut pat = h.pat().await;
    let team_id = Uuid::new_v4();
    let me = common::pat_client_person(&h);
    pat.put(team_id, 0, &common::team("Brook MDT", me, vec![]))
        .await;
    pat.put(Uuid::new_v4(), 0, &common::meeting(team_id)).await;
    let counts = h.store.read_blocking(outbox::counts).unwrap();
    assert_eq!(counts, outbox::OutboxCounts::default());
}

/// The one-click answer link after `label` ("Apologies: ") in a message, as a path.
fn answer_link(message: &Received, label: &str) -> String {
    let text = message.text.as_deref().unwrap();
    let url = text
        .lines()
        .find_map(|l| l.strip_prefix(label))
        .unwrap_or_else(|| panic!("no {label:?} link in {text}"));
    url.strip_prefix(PUBLIC_URL)
        .expect("a link into the app")
        .to_owned()
}

/// Someone's answer to the meeting as stored (status, deputy).
fn stored_answer(place: &TestDatabase, meeting: Uuid, person: Uuid) -> Option<(String, u64)> {
    place
        .open()
        .read_blocking(|db| {
            mdt::server::store::record_with_version::<Attendance>(
                db,
                Attendance::id_for(meeting, person),
            )
        })
        .unwrap()
        .map(|(a, version)| {
            (
                serde_json::to_value(a.status)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_owned(),
                version,
            )
        })
}

async fn page(addr: SocketAddr, method: &str, path: &str) -> (u16, String) {
    let (status, _, body) = request(addr, method, path, None, None)
        .await
        .expect("answered");
    (status, body)
}

#[tokio::test(flavor = "multi_thread")]
async fn one_click_answers_need_no_password_work_once_and_refuse_altered_or_expired_links_plainly()
{
    let sink = SmtpSink::start();
    let place = TestDatabase::new();
    let p = people(&place);
    let server = MailServer::start(&place, &sink.url(), "mail-a");
    let mut pat = Http::sign_in(server.addr, "pat.coordinator@example.nhs.net").await;
    let (_, meetings) = team_with_meetings(&mut pat, &p, 1).await;
    let meeting_id = meetings[0];
    let all = sink.wait_for(3, Duration::from_secs(30));
    let to = |email: &str| all.iter().find(|m| m.recipient() == email).unwrap().clone();
    let gita = to("gita.gp@example.nhs.net");
    assert!(gita
        .text
        .as_deref()
        .unwrap()
        .contains("Can you come? Answer with one click (no password needed):"));
    let apologies = answer_link(&gita, "Apologies: ");
    let before = stored_answer(&place, meeting_id, p.gita);

    // Opening the link (as a mail scanner would) shows what it records and changes nothing.
    let (status, shown) = page(server.addr, "GET", &apologies).await;
    assert_eq!(status, 200, "{shown}");
    assert!(
        shown.contains("I send my apologies: I cannot come"),
        "{shown}"
    );
    assert!(shown.contains("Brook MDT meeting"), "{shown}");
    assert!(shown.contains("Record my answer"), "{shown}");
    assert_eq!(stored_answer(&place, meeting_id, p.gita), before);

    // Pressing the button records it, without a password, and asks for a deputy.
    let (status, done) = page(server.addr, "POST", &apologies).await;
    assert_eq!(status, 200, "{done}");
    assert!(done.contains("Your answer is recorded"), "{done}");
    assert!(done.contains("Can someone come in your place?"), "{done}");
    let (answer, version) = stored_answer(&place, meeting_id, p.gita).unwrap();
    assert_eq!(answer, "apologies");
    // Gita was the only GP: Pat hears at once.
    let all = sink.wait_for(4, Duration::from_secs(30));
    assert_eq!(
        recipients(&with_subject(&all, "Quorum lost: Brook MDT meeting")),
        ["pat.coordinator@example.nhs.net"]
    );

    // The same link again: refused plainly, nothing changed.
    for method in ["GET", "POST"] {
        let (status, again) = page(server.addr, method, &apologies).await;
        assert_eq!(status, 410, "{again}");
        assert!(again.contains("This link has been used already"), "{again}");
    }
    assert_eq!(
        stored_answer(&place, meeting_id, p.gita),
        Some(("apologies".into(), version))
    );

    // Another of her links still works once (she changes her mind).
    let attending = answer_link(&gita, "Attending in person: ");
    assert_eq!(page(server.addr, "POST", &attending).await.0, 200);
    assert_eq!(
        stored_answer(&place, meeting_id, p.gita).unwrap().0,
        "attending"
    );

    // Altered: one character of the token changed, or cut short: refused, nothing changed.
    let sol = to("sol.worker@example.gov.uk");
    let remote = answer_link(&sol, "Attending remotely: ");
    let sol_before = stored_answer(&place, meeting_id, p.sol);
    let mut altered: Vec<char> = remote.chars().collect();
    let i = altered.len() - 5;
    altered[i] = if altered[i] == 'A' { 'B' } else { 'A' };
    let altered: String = altered.into_iter().collect();
    for bad in [
        altered.as_str(),
        &remote[..remote.len() - 10],
        "/answer/nonsense",
    ] {
        for method in ["GET", "POST"] {
            let (status, refused) = page(server.addr, method, bad).await;
            assert_eq!(status, 400, "{refused}");
            assert!(refused.contains("This link does not work"), "{refused}");
            assert!(refused.contains("Nothing was recorded"), "{refused}");
        }
    }
    assert_eq!(stored_answer(&place, meeting_id, p.sol), sol_before);

    // Expired: a link signed by this region for a meeting that has started.
    let key = place
        .open()
        .read_blocking(mdt::server::store::answer_links::existing_key)
        .unwrap()
        .expect("made when the first invitation was written");
    let expired = mdt::server::store::answer_links::sign(
        &key,
        &mdt::server::store::answer_links::AnswerClaim {
            meeting_id,
            person_id: p.sol,
            status: mdt::core::attendance::AttendanceStatus::Remote,
            until: Utc::now().timestamp() - 1,
            nonce: Uuid::new_v4(),
        },
    );
    for method in ["GET", "POST"] {
        let (status, refused) = page(server.addr, method, &format!("/answer/{expired}")).await;
        assert_eq!(status, 410, "{refused}");
        assert!(refused.contains("This link has expired"), "{refused}");
    }
    assert_eq!(stored_answer(&place, meeting_id, p.sol), sol_before);

    // Sol's own link works, for Sol's answer only.
    assert_eq!(page(server.addr, "POST", &remote).await.0, 200);
    assert_eq!(
        stored_answer(&place, meeting_id, p.sol).unwrap().0,
        "remote"
    );
    assert_eq!(
        stored_answer(&place, meeting_id, p.gita).unwrap().0,
        "attending"
    );
    assert_no_patient_data(&sink.received(), &[]);
}

impl Http {
    async fn send_json(&self, method: &str, path: &str, body: &Value) -> (u16, Value) {
        let (status, _, text) = request(self.addr, method, path, Some(&self.cookie), Some(body))
            .await
            .expect("answered");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn reminders_digests_and_chases_reach_those_who_want_them_once_and_people_without_accounts_only_when_turned_on(
) {
    let sink = SmtpSink::start();
    let place = TestDatabase::new();
    let p = people(&place);
    let server = MailServer::start(&place, &sink.url(), "mail-a");
    let mut pat = Http::sign_in(server.addr, "pat.coordinator@example.nhs.net").await;
    let gita = Http::sign_in(server.addr, "gita.gp@example.nhs.net").await;

    // Email is on; everything is on until someone changes it. Gita turns brief reminders off.
    let (status, settings) = gita.send_json("GET", "/api/email", &Value::Null).await;
    assert_eq!(status, 200);
    assert_eq!(settings["on"], true);
    assert_eq!(settings["preferences"]["brief_reminders"], true);
    let off = json!({"brief_reminders": false, "actions_digest": true, "chases": true, "quorum_warnings": true});
    assert_eq!(
        gita.send_json("PUT", "/api/email/preferences", &off)
            .await
            .0,
        200
    );
    let (_, settings) = gita.send_json("GET", "/api/email", &Value::Null).await;
    assert_eq!(settings["preferences"]["brief_reminders"], false);
    // Choices are checked: an unknown one is refused in words.
    let (status, refused) = gita
        .send_json(
            "PUT",
            "/api/email/preferences",
            &json!({"brief_reminders": false, "everything": true}),
        )
        .await;
    assert_eq!(status, 400, "{refused}");

    // A team whose coordinator sends invitations to members without an account, and whose
    // briefs are due 24 hours before: a meeting in 30 hours has its cut-off in 6.
    let team_id = Uuid::new_v4();
    let noor = Uuid::new_v4();
    let mut noor_person = common::person("Noor Noaccount", Role::DistrictNurse);
    noor_person.email = Some("noor.nurse@example.nhs.net".into());
    let mut t = team(&p, noor);
    t.email_people_without_accounts = true;
    t.agenda_cutoff_hours = 1;
    let meeting_id = Uuid::new_v4();
    let m = meeting_in(team_id, 0);
    let soon = Meeting {
        starts_at: m.starts_at + chrono::Duration::hours(30),
        ends_at: m.ends_at + chrono::Duration::hours(30),
        ..m
    };
    let (sol_item, gita_item, patient_id) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let mut item_for_sol = common::item(team_id, meeting_id, patient_id, p.sol, 1);
    item_for_sol.meeting_id = meeting_id;
    let item_for_gita = common::item(team_id, meeting_id, patient_id, p.gita, 2);
    let overdue = Uuid::new_v4();
    let action = json!({
        "team_id": team_id, "description": "Refer to the falls service", "owner_id": p.sol,
        "due": (Utc::now() - chrono::Duration::days(3)).date_naive(), "status": "proposed",
        "completion_note": "", "reason": ""
    });
    let batch = vec![
        pat.entity(noor, 0, &noor_person),
        pat.entity(team_id, 0, &t),
        pat.entity(meeting_id, 0, &soon),
        pat.entity(
            patient_id,
            0,
            &common::patient(team_id, NHS_A, "Ada Synthetic"),
        ),
        pat.entity(sol_item, 0, &item_for_sol),
        pat.entity(gita_item, 0, &item_for_gita),
        pat.mutation("action", overdue, 0, action),
    ];
    pat.push(batch).await;

    // Invitations to all four (Noor too, now it is on); Sol's brief reminder (not Gita's: she
    // turned them off); the weekly digest to Sol. On a Monday before 07:00 UK the digest is not
    // due yet: the test then looks for due messages as the server would eight hours later, and
    // the running server sends what that writes. It looks now too (as the server would, before
    // the brief cut-off six hours from now has passed), so the brief reminder is not missed.
    if mdt::core::reminders::digest_week(Utc::now()).is_none() {
        let origin = mdt::core::notify::MailOrigin {
            links: mdt::core::mail::Links {
                base_url: PUBLIC_URL.into(),
            },
            from_address: "mdt@example.nhs.uk".into(),
        };
        let later = Utc::now() + chrono::Duration::hours(8);
        let store = place.open();
        for at in [Utc::now(), later] {
            store
                .write_blocking(|db| outbox::enqueue_scheduled(db, &origin, at))
                .unwrap();
        }
        // What was written for eight hours from now is due then: make it due now, for the
        // running server to send.
        store
            .write_blocking(|db| {
                db.execute(
                    "UPDATE outbox SET next_attempt_at = $1 WHERE sent_at IS NULL AND next_attempt_at > $1",
                    mdt::args![Utc::now()],
                )
            })
            .unwrap();
    }
    let expected = 4 + 1 + 1;
    let all = sink.wait_for(expected, Duration::from_secs(30));
    assert_eq!(
        recipients(&with_subject(&all, "Invitation: Brook MDT meeting")),
        [
            "gita.gp@example.nhs.net",
            "noor.nurse@example.nhs.net",
            "pat.coordinator@example.nhs.net",
            "sol.worker@example.gov.uk"
        ]
    );
    let reminders = with_subject(&all, "1 brief due for");
    assert_eq!(recipients(&reminders), ["sol.worker@example.gov.uk"]);
    assert!(reminders[0]
        .text
        .as_deref()
        .unwrap()
        .contains(&format!("{PUBLIC_URL}/meetings/{meeting_id}")));
    let digests = with_subject(&all, "Your Brook MDT actions: 1 overdue, 0 due this week");
    assert_eq!(recipients(&digests), ["sol.worker@example.gov.uk"]);
    assert!(digests[0]
        .text
        .as_deref()
        .unwrap()
        .contains(&format!("{PUBLIC_URL}/actions")));
    assert!(all
        .iter()
        .all(|m| !m.subject.contains("brief due") || m.recipient() != "gita.gp@example.nhs.net"));

    // The coordinator chases Sol's missing brief: it goes at once; a second press the same day
    // sends nothing and says when the first went.
    let (status, sent) = pat
        .send_json("POST", "/api/chase", &json!({"item_id": sol_item}))
        .await;
    assert_eq!(
        (status, sent["to"].as_str()),
        (200, Some("Sol Worker")),
        "{sent}"
    );
    let (status, again) = pat
        .send_json("POST", "/api/chase", &json!({"item_id": sol_item}))
        .await;
    assert_eq!(status, 429, "{again}");
    assert!(again["error"]
        .as_str()
        .unwrap()
        .starts_with("You chased Sol Worker about this today at "));
    // Only the coordinator chases; someone outside the team learns nothing.
    let (status, refused) = gita
        .send_json("POST", "/api/chase", &json!({"item_id": sol_item}))
        .await;
    assert_eq!(status, 403, "{refused}");
    {
        let store = place.open();
        add_user(
            &store,
            &NewUser {
                email: "out.sider@example.nhs.net",
                name: "Out Sider",
                role: Role::Gp,
                password: PASSWORD,
            },
            Utc::now(),
        )
        .unwrap();
    }
    let outsider = Http::sign_in(server.addr, "out.sider@example.nhs.net").await;
    let (status, _) = outsider
        .send_json("POST", "/api/chase", &json!({"item_id": sol_item}))
        .await;
    assert_eq!(status, 404);
    // The overdue action is chased too; a brief not due and an action not overdue are not.
    let (status, sent) = pat
        .send_json("POST", "/api/chase", &json!({"action_id": overdue}))
        .await;
    assert_eq!(status, 200, "{sent}");
    let (status, refused) = pat
        .send_json("POST", "/api/chase", &json!({"item_id": Uuid::new_v4()}))
        .await;
    assert_eq!(status, 404, "{refused}");
    let (status, refused) = pat
        .send_json(
            "POST",
            "/api/chase",
            &json!({"item_id": sol_item, "action_id": overdue}),
        )
        .await;
    assert_eq!(status, 400, "{refused}");
    let all = sink.wait_for(expected + 2, Duration::from_secs(30));
    let chases = with_subject(&all, "Pat Coordinator asks");
    assert_eq!(
        recipients(&chases),
        ["sol.worker@example.gov.uk", "sol.worker@example.gov.uk"]
    );
    // The brief's chase names the meeting's day and time and when the brief is due (the
    // team's cut-off, 24 hours before), in UK time.
    let uk = |at: chrono::DateTime<Utc>| {
        at.with_timezone(&chrono_tz::Europe::London)
            .format("%A %-d %B %Y, %H:%M")
            .to_string()
    };
    let brief_chase = chases
        .iter()
        .find(|m| m.subject.contains("asks for your brief"))
        .unwrap();
    let text = brief_chase.text.as_deref().unwrap();
    assert!(text.contains(&uk(soon.starts_at)), "{text}");
    assert!(
        text.contains(&format!(
            "ready by {}",
            uk(soon.starts_at - chrono::Duration::hours(24))
        )),
        "{text}"
    );
    assert_eq!(all.len(), expected + 2, "nothing else, nothing twice");
    assert_no_patient_data(
        &all,
        &[
            "Ada Synthetic",
            NHS_A,
            "Two falls this month",
            "Refer to the falls service",
        ],
    );
}

#[test]
fn sent_messages_are_kept_ninety_days_and_waiting_ones_until_they_go() {
    use mdt::core::mail::{Links, Message, MessageKind};
    use mdt::core::notify::{MailOrigin, Outgoing};
    let place = TestDatabase::new();
    let store = place.open();
    let now = Utc::now();
    let message = |n: u128| Outgoing {
        message_id: Uuid::from_u128(n),
        email: "sol.worker@example.gov.uk".into(),
        message: Message {
            kind: MessageKind::Chase,
            subject: format!("Message {n}"),
            body: "Body".into(),
        },
        calendar: None,
        answers: None,
    };
    let origin = MailOrigin {
        links: Links {
            base_url: PUBLIC_URL.into(),
        },
        from_address: "mdt@example.nhs.uk".into(),
    };
    store
        .write_blocking(|db| {
            let long_ago = now - outbox::KEEP_SENT - chrono::Duration::days(1);
            let lately = now - outbox::KEEP_SENT + chrono::Duration::days(1);
            outbox::enqueue(db, &[message(1), message(2)], long_ago)?;
            outbox::enqueue(db, &[message(3)], lately)?;
            outbox::mark_sent(
                db,
                Uuid::from_u128(1),
                "sol.worker@example.gov.uk",
                long_ago,
            )?;
            outbox::mark_sent(db, Uuid::from_u128(3), "sol.worker@example.gov.uk", lately)?;
            // Message 2 never went (an SMTP server away for months): it stays.
            outbox::enqueue_scheduled(db, &origin, now)
        })
        .unwrap();
    let counts = store.read_blocking(outbox::counts).unwrap();
    assert_eq!((counts.sent, counts.waiting), (1, 1));
}

/// The VEVENT of a calendar file as the `icalendar` crate reads it: each property's value and
/// parameters (`KEY=value;…`), with the file's METHOD.
fn occurrence_event(ics: &str) -> (String, HashMap<String, (String, String)>) {
    let unfolded = icalendar::parser::unfold(ics);
    let calendar = icalendar::parser::read_calendar(&unfolded).expect("a calendar file");
    let method = calendar
        .properties
        .iter()
        .find(|p| p.name == "METHOD")
        .map(|p| p.val.to_string())
        .expect("METHOD");
    let events: Vec<_> = calendar
        .components
        .iter()
        .filter(|c| c.name == "VEVENT")
        .collect();
    assert_eq!(events.len(), 1, "one occurrence in {ics}");
    let props = events[0]
        .properties
        .iter()
        .map(|p| {
            let params = p
                .params
                .iter()
                .map(|q| {
                    format!(
                        "{}={}",
                        q.key.as_str(),
                        q.val.as_ref().map(|v| v.as_str()).unwrap_or("")
                    )
                })
                .collect::<Vec<_>>()
                .join(";");
            (p.name.to_string(), (params, p.val.to_string()))
        })
        .collect();
    (method, props)
}

/// Every one-click link of a message after `label`, in the order the message lists them.
fn answer_links(message: &Received, label: &str) -> Vec<String> {
    let text = message.text.as_deref().unwrap();
    text.lines()
        .filter_map(|l| l.strip_prefix(label))
        .map(|url| url.strip_prefix(PUBLIC_URL).expect("a link").to_owned())
        .collect()
}

/// Someone's answer to a meeting as the API gives it to the coordinator's device (a pull).
async fn pulled_answer(pat: &Http, meeting: Uuid, person: Uuid) -> Option<String> {
    let pulled: Value = serde_json::from_str(&pat.get("/api/sync/pull?since=0").await).unwrap();
    let id = Attendance::id_for(meeting, person).to_string();
    pulled["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id.as_str() && r["deleted"] != true)
        .map(|r| r["fields"]["status"].as_str().unwrap().to_owned())
}

/// Issue 29: a series' invitation carries one-click answers for its next meetings, for
/// members with and without an account, each link for one meeting, once. One meeting of the
/// series moved or cancelled on its own reaches the team as a change of that occurrence of the
/// series' calendar event: the series' UID, the occurrence's original start as RECURRENCE-ID,
/// and a SEQUENCE above the series' that rises with each change.
#[tokio::test(flavor = "multi_thread")]
async fn a_series_invitation_answers_its_next_meetings_by_link_and_one_meeting_changed_alone_updates_its_occurrence(
) {
    let sink = SmtpSink::start();
    let place = TestDatabase::new();
    let p = people(&place);
    let server = MailServer::start(&place, &sink.url(), "mail-a");
    let mut pat = Http::sign_in(server.addr, "pat.coordinator@example.nhs.net").await;

    // Noor has an email address in the directory and no account; the coordinator sends her
    // the team's invitations.
    let team_id = Uuid::new_v4();
    let noor = Uuid::new_v4();
    let mut noor_person = common::person("Noor Noaccount", Role::DistrictNurse);
    noor_person.email = Some("noor.nurse@example.nhs.net".into());
    let mut t = team(&p, noor);
    t.email_people_without_accounts = true;
    let batch = vec![
        pat.entity(noor, 0, &noor_person),
        pat.entity(team_id, 0, &t),
    ];
    pat.push(batch).await;

    // A weekly series from ten days on (UK), and then its meetings, as the app makes them.
    let series_id = Uuid::new_v4();
    let first = common::uk_days_from_today(10);
    let series = weekly_series(team_id, first);
    let m = pat.entity(series_id, 0, &series);
    pat.push(vec![m]).await;
    let occurrences = series.occurrences(first, first + chrono::Duration::weeks(8));
    let meetings: Vec<(Uuid, Meeting, chrono::NaiveDateTime)> = occurrences
        .iter()
        .map(|o| {
            let starts_at = mdt::core::uk_time::from_uk(o.starts).unwrap();
            let meeting = Meeting {
                team_id,
                starts_at,
                ends_at: starts_at + chrono::Duration::minutes(60),
                place: "Room 2".into(),
                video_link: None,
                status: MeetingStatus::Planned,
            };
            (Series::meeting_id(series_id, o.original), meeting, o.starts)
        })
        .collect();
    let batch = meetings
        .iter()
        .map(|(id, m, _)| pat.entity(*id, 0, m))
        .collect();
    pat.push(batch).await;

    // One invitation to each of the four, none for the meetings one by one.
    let all = sink.wait_for(4, Duration::from_secs(30));
    assert_eq!(
        all.len(),
        4,
        "{:#?}",
        all.iter().map(|m| &m.subject).collect::<Vec<_>>()
    );
    let invites = with_subject(&all, "Invitation: Brook MDT meetings, every week");
    assert_eq!(
        recipients(&invites),
        [
            "gita.gp@example.nhs.net",
            "noor.nurse@example.nhs.net",
            "pat.coordinator@example.nhs.net",
            "sol.worker@example.gov.uk"
        ]
    );
    let (_, _, series_sequence) = calendar_identity(invites[0].calendar.as_deref().unwrap());
    let series_sequence: u32 = series_sequence.parse().unwrap();
    let noor_invite = *invites
        .iter()
        .find(|m| m.recipient() == "noor.nurse@example.nhs.net")
        .unwrap();
    let text = noor_invite.text.as_deref().unwrap();
    assert!(
        !text.contains(
            "Say whether you can come to each meeting, and see the agendas and briefs, in the app"
        ),
        "someone without an account cannot answer in the app: {text}"
    );
    // The next four meetings, each named by its day and time, each with its three answers.
    let attending = answer_links(noor_invite, "Attending in person: ");
    let apologies = answer_links(noor_invite, "Apologies: ");
    assert_eq!((attending.len(), apologies.len()), (4, 4), "{text}");
    for (_, m, _) in &meetings[..4] {
        let day = m
            .starts_at
            .with_timezone(&chrono_tz::Europe::London)
            .format("%a %-d %b %Y, %H:%M")
            .to_string();
        assert!(text.contains(&day), "{day} in {text}");
    }

    // Noor sends apologies for the second meeting by link: recorded for that meeting only.
    let (second, third) = (meetings[1].0, meetings[2].0);
    let (status, shown) = page(server.addr, "GET", &apologies[1]).await;
    assert_eq!(status, 200, "{shown}");
    assert_eq!(
        pulled_answer(&pat, second, noor).await,
        None,
        "a look changes nothing"
    );
    let (status, done) = page(server.addr, "POST", &apologies[1]).await;
    assert_eq!(status, 200, "{done}");
    assert!(done.contains("Your answer is recorded"), "{done}");
    assert_eq!(
        pulled_answer(&pat, second, noor).await.as_deref(),
        Some("apologies")
    );
    assert_eq!(pulled_answer(&pat, meetings[0].0, noor).await, None);
    // The link works once.
    let (status, again) = page(server.addr, "POST", &apologies[1]).await;
    assert_eq!(status, 410, "{again}");
    assert!(again.contains("This link has been used already"), "{again}");
    // Her link for the first meeting is its own (used once, it does not use the others).
    assert_eq!(page(server.addr, "POST", &attending[0]).await.0, 200);
    assert_eq!(
        pulled_answer(&pat, meetings[0].0, noor).await.as_deref(),
        Some("attending")
    );
    assert_eq!(
        pulled_answer(&pat, second, noor).await.as_deref(),
        Some("apologies")
    );

    // The third meeting moved on its own, an hour later: the four hear of it, and their
    // calendars move that occurrence of the series' event.
    let (_, third_meeting, third_original) = meetings[2].clone();
    let mut moved = third_meeting.clone();
    moved.starts_at += chrono::Duration::hours(1);
    moved.ends_at += chrono::Duration::hours(1);
    let m = pat.entity(third, 1, &moved);
    pat.push(vec![m]).await;
    let all = sink.wait_for(8, Duration::from_secs(30));
    let changed = with_subject(&all, "Changed: Brook MDT meeting");
    assert_eq!(
        recipients(&changed),
        [
            "gita.gp@example.nhs.net",
            "noor.nurse@example.nhs.net",
            "pat.coordinator@example.nhs.net",
            "sol.worker@example.gov.uk"
        ],
        "{:#?}",
        all.iter().map(|m| &m.subject).collect::<Vec<_>>()
    );
    let original = third_original.format("%Y%m%dT%H%M%S").to_string();
    let (method, event) = occurrence_event(changed[0].calendar.as_deref().unwrap());
    assert_eq!(method, "REQUEST");
    assert_eq!(event["UID"].1, format!("series-{series_id}@mdt"));
    assert_eq!(
        event["RECURRENCE-ID"],
        ("TZID=Europe/London".to_owned(), original.clone())
    );
    let moved_local = moved
        .starts_at
        .with_timezone(&chrono_tz::Europe::London)
        .format("%Y%m%dT%H%M%S")
        .to_string();
    assert_eq!(event["DTSTART"].1, moved_local);
    let first_change: u32 = event["SEQUENCE"].1.parse().unwrap();
    assert!(
        first_change > series_sequence,
        "{first_change} > {series_sequence}"
    );

    // Moved again: the same occurrence, a higher SEQUENCE still.
    let mut again = moved.clone();
    again.place = "Room 5".into();
    let m = pat.entity(third, 2, &again);
    pat.push(vec![m]).await;
    let all = sink.wait_for(12, Duration::from_secs(30));
    let changed = with_subject(&all, "Changed: Brook MDT meeting");
    assert_eq!(changed.len(), 8);
    let latest = changed
        .iter()
        .map(|m| occurrence_event(m.calendar.as_deref().unwrap()).1)
        .find(|e| e["LOCATION"].1 == "Room 5")
        .expect("the second change");
    assert_eq!(latest["UID"].1, format!("series-{series_id}@mdt"));
    assert_eq!(latest["RECURRENCE-ID"].1, original);
    let second_change: u32 = latest["SEQUENCE"].1.parse().unwrap();
    assert!(
        second_change > first_change,
        "{second_change} > {first_change}"
    );

    // The fourth meeting called off on its own: that occurrence leaves calendars.
    let (fourth, fourth_meeting, fourth_original) = meetings[3].clone();
    let cancelled = Meeting {
        status: MeetingStatus::Cancelled,
        ..fourth_meeting
    };
    let m = pat.entity(fourth, 1, &cancelled);
    pat.push(vec![m]).await;
    let all = sink.wait_for(16, Duration::from_secs(30));
    let gone = with_subject(&all, "Cancelled: Brook MDT meeting");
    assert_eq!(gone.len(), 4);
    let (method, event) = occurrence_event(gone[0].calendar.as_deref().unwrap());
    assert_eq!(method, "CANCEL");
    assert_eq!(event["UID"].1, format!("series-{series_id}@mdt"));
    assert_eq!(event["STATUS"].1, "CANCELLED");
    assert_eq!(
        event["RECURRENCE-ID"].1,
        fourth_original.format("%Y%m%dT%H%M%S").to_string()
    );
    assert!(event["SEQUENCE"].1.parse::<u32>().unwrap() > series_sequence);
    assert_eq!(all.len(), 16, "nothing else, nothing twice");
    assert_no_patient_data(&all, &[]);
}
