//! Which change sends what to whom: invitations on planning and moving a meeting (not on an
//! unrelated edit or a past meeting), cancellations, series, the coordinator's quorum warning,
//! and calendar files a third-party parser reads with the download's UID and SEQUENCE.

use chrono::TimeZone;

use super::*;
use crate::core::mail::MailPreferences;
use crate::core::schedule::Recurrence;

fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

fn now() -> DateTime<Utc> {
    at(2026, 11, 30, 9, 0)
}

fn origin() -> MailOrigin {
    MailOrigin {
        links: Links {
            base_url: "https://mdt.example.nhs.uk".into(),
        },
        from_address: "mdt@mdt.example.nhs.uk".into(),
    }
}

struct Fixture {
    team_id: Uuid,
    team: Team,
    people: HashMap<Uuid, Addressee>,
    coordinator: Uuid,
    gp: Uuid,
    nurse: Uuid,
    no_account: Uuid,
    observer: Uuid,
}

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn fixture() -> Fixture {
    let (coordinator, gp, nurse, no_account, observer, no_email) =
        (id(1), id(2), id(3), id(4), id(5), id(6));
    let mut team = Team::example(
        "Riverside MDT",
        coordinator,
        vec![gp, nurse, no_account, no_email],
    );
    team.observer_ids = vec![observer];
    team.required_roles = vec![crate::core::team::RoleNeed {
        role: Role::Gp,
        count: 1,
    }];
    let person = |name: &str, email: &str, recipient| Addressee {
        name: name.into(),
        email: email.into(),
        recipient,
    };
    let account = Recipient::Account(MailPreferences::default());
    let people = HashMap::from([
        (
            coordinator,
            person("Pat Coordinator", "pat@example.nhs.net", account),
        ),
        (gp, person("Gita GP", "gita@example.nhs.net", account)),
        (nurse, person("Nia Nurse", "nia@example.nhs.net", account)),
        (
            no_account,
            person(
                "Noor Noaccount",
                "noor@example.nhs.net",
                Recipient::NoAccount {
                    invitations_on: false,
                },
            ),
        ),
        (
            observer,
            person("Olu Observer", "olu@example.nhs.net", account),
        ),
    ]);
    Fixture {
        team_id: id(100),
        team,
        people,
        coordinator,
        gp,
        nurse,
        no_account,
        observer,
    }
}

impl Fixture {
    fn to(&self) -> TeamMail<'_> {
        TeamMail {
            team_id: self.team_id,
            team: &self.team,
            people: &self.people,
        }
    }
}

fn meeting(team_id: Uuid, starts: DateTime<Utc>) -> Meeting {
    Meeting {
        team_id,
        starts_at: starts,
        ends_at: starts + chrono::Duration::minutes(90),
        place: "Room 2".into(),
        video_link: None,
        status: MeetingStatus::Planned,
    }
}

fn emails(sent: &[Outgoing]) -> Vec<&str> {
    let mut all: Vec<&str> = sent.iter().map(|o| o.email.as_str()).collect();
    all.sort_unstable();
    all
}

/// The properties of the one VEVENT in a calendar file, and its METHOD, as `icalendar` reads
/// them.
fn parsed(ics: &str) -> (String, HashMap<String, String>) {
    let unfolded = icalendar::parser::unfold(ics);
    let calendar = icalendar::parser::read_calendar(&unfolded)
        .expect("a calendar file the icalendar crate reads");
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
    let props = event
        .properties
        .iter()
        .map(|p| (p.name.to_string(), p.val.to_string()))
        .collect();
    (method, props)
}

#[test]
fn a_planned_meeting_invites_the_coordinator_and_members_with_an_address_and_a_calendar_request() {
    let f = fixture();
    let m = meeting(f.team_id, at(2026, 12, 8, 13, 0));
    let sent = meeting_messages(id(200), 1, None, Some(&m), &f.to(), &origin(), now());
    // Not the observer, not the member without an account (not turned on), not the one
    // without an address.
    assert_eq!(
        emails(&sent),
        [
            "gita@example.nhs.net",
            "nia@example.nhs.net",
            "pat@example.nhs.net"
        ]
    );
    assert!(sent.iter().all(|o| o.message_id == sent[0].message_id));
    let gita = sent.iter().find(|o| o.email.starts_with("gita")).unwrap();
    assert_eq!(gita.message.kind, MessageKind::Invitation);
    assert_eq!(
        gita.message.subject,
        "Invitation: Riverside MDT meeting, Tue 8 Dec 2026, 13:00–14:30"
    );
    assert!(gita
        .message
        .body
        .contains(&format!("https://mdt.example.nhs.uk/meetings/{}", id(200))));
    let (method, event) = parsed(gita.calendar.as_deref().unwrap());
    assert_eq!(method, "REQUEST");
    assert_eq!(event["UID"], format!("meeting-{}@mdt", id(200)));
    assert_eq!(event["SEQUENCE"], "1");
    assert_eq!(event["ATTENDEE"], "mailto:gita@example.nhs.net");
    assert_eq!(event["ORGANIZER"], "mailto:mdt@mdt.example.nhs.uk");
    assert_eq!(event["DTSTART"], "20261208T130000");
    // Each invitation asks for its recipient's one-click answers, until the meeting starts.
    assert_eq!(
        gita.answers,
        Some(Answers::Meeting(AnswerRequest {
            meeting_id: id(200),
            person_id: f.gp,
            until: m.starts_at,
        }))
    );
    for left_out in [f.observer, f.no_account] {
        assert!(!emails(&sent).contains(&f.people[&left_out].email.as_str()));
    }
}

#[test]
fn people_without_an_account_are_invited_only_when_the_coordinator_turns_it_on() {
    let mut f = fixture();
    f.people.get_mut(&f.no_account).unwrap().recipient = Recipient::NoAccount {
        invitations_on: true,
    };
    let m = meeting(f.team_id, at(2026, 12, 8, 13, 0));
    let sent = meeting_messages(id(200), 1, None, Some(&m), &f.to(), &origin(), now());
    assert!(emails(&sent).contains(&"noor@example.nhs.net"));
    // A quorum warning never goes to someone without an account, even the coordinator.
    f.people.get_mut(&f.coordinator).unwrap().recipient = Recipient::NoAccount {
        invitations_on: true,
    };
    assert!(!f.people[&f.coordinator]
        .recipient
        .wants(MessageKind::QuorumLost));
}

#[test]
fn moving_a_meeting_updates_the_same_event_and_other_edits_send_nothing() {
    let f = fixture();
    let before = meeting(f.team_id, at(2026, 12, 8, 13, 0));
    let moved = meeting(f.team_id, at(2026, 12, 8, 14, 0));
    let sent = meeting_messages(
        id(200),
        3,
        Some(&before),
        Some(&moved),
        &f.to(),
        &origin(),
        now(),
    );
    assert_eq!(sent.len(), 3);
    assert!(sent[0]
        .message
        .subject
        .starts_with("Changed: Riverside MDT"));
    let (method, event) = parsed(sent[0].calendar.as_deref().unwrap());
    assert_eq!(method, "REQUEST");
    assert_eq!(event["UID"], format!("meeting-{}@mdt", id(200)));
    assert_eq!(event["SEQUENCE"], "3");
    // A new place or video link is a change too.
    let elsewhere = Meeting {
        place: "Room 5".into(),
        ..before.clone()
    };
    assert_eq!(
        meeting_messages(
            id(200),
            4,
            Some(&before),
            Some(&elsewhere),
            &f.to(),
            &origin(),
            now()
        )
        .len(),
        3
    );
    // The same calendar event (the record saved for another reason): nothing.
    assert!(meeting_messages(
        id(200),
        5,
        Some(&before),
        Some(&before),
        &f.to(),
        &origin(),
        now()
    )
    .is_empty());
    // The same change looked at again: the same message id (the outbox keeps one).
    let again = meeting_messages(
        id(200),
        3,
        Some(&before),
        Some(&moved),
        &f.to(),
        &origin(),
        now(),
    );
    assert_eq!(again[0].message_id, sent[0].message_id);
    assert_ne!(
        message_id("invitation", id(200), 3),
        message_id("invitation", id(200), 4)
    );
}

#[test]
fn cancelling_or_deleting_a_meeting_to_come_cancels_the_event_and_past_meetings_send_nothing() {
    let f = fixture();
    let before = meeting(f.team_id, at(2026, 12, 8, 13, 0));
    let cancelled = Meeting {
        status: MeetingStatus::Cancelled,
        ..before.clone()
    };
    for after in [Some(&cancelled), None] {
        let sent = meeting_messages(id(200), 2, Some(&before), after, &f.to(), &origin(), now());
        assert_eq!(sent.len(), 3);
        assert_eq!(sent[0].message.kind, MessageKind::Cancellation);
        assert_eq!(
            sent[0].message.subject,
            "Cancelled: Riverside MDT meeting, Tue 8 Dec 2026, 13:00"
        );
        let (method, event) = parsed(sent[0].calendar.as_deref().unwrap());
        assert_eq!(method, "CANCEL");
        assert_eq!(event["UID"], format!("meeting-{}@mdt", id(200)));
        assert_eq!(event["STATUS"], "CANCELLED");
        assert_eq!(event["SEQUENCE"], "2");
        assert_eq!(sent[0].answers, None, "nothing to answer");
    }
    // A meeting that has started (history being recorded, a meeting planned in the past).
    let past = meeting(f.team_id, at(2026, 11, 30, 9, 0));
    assert!(meeting_messages(id(201), 1, None, Some(&past), &f.to(), &origin(), now()).is_empty());
    let past_cancelled = Meeting {
        status: MeetingStatus::Cancelled,
        ..past.clone()
    };
    assert!(meeting_messages(
        id(201),
        2,
        Some(&past),
        Some(&past_cancelled),
        &f.to(),
        &origin(),
        now()
    )
    .is_empty());
    // Planned again after a cancellation: a new invitation.
    let sent = meeting_messages(
        id(200),
        3,
        Some(&cancelled),
        Some(&before),
        &f.to(),
        &origin(),
        now(),
    );
    assert_eq!(sent[0].message.kind, MessageKind::Invitation);
}

fn series(team_id: Uuid) -> Series {
    Series {
        team_id,
        rule: Recurrence::Monthly { nth: 2, weekday: 1 },
        first_date: chrono::NaiveDate::from_ymd_opt(2026, 12, 8).unwrap(),
        starts: chrono::NaiveTime::from_hms_opt(13, 0, 0).unwrap(),
        minutes: 60,
        until: None,
        exceptions: Vec::new(),
        place: "Room 2".into(),
        video_link: None,
        sequence: 0,
        cancelled: false,
    }
}

#[test]
fn a_series_is_invited_changed_and_cancelled_as_one_event() {
    let f = fixture();
    let s = series(f.team_id);
    let sent = series_messages(id(300), 1, None, Some(&s), &f.to(), &origin(), now());
    assert_eq!(sent.len(), 3);
    assert_eq!(
        sent[0].message.subject,
        "Invitation: Riverside MDT meetings, the 2nd Tuesday of the month"
    );
    assert!(sent[0]
        .message
        .body
        .contains("from Tue 8 Dec 2026, 13:00–14:00"));
    let (method, event) = parsed(sent[0].calendar.as_deref().unwrap());
    assert_eq!(method, "REQUEST");
    assert_eq!(event["UID"], format!("series-{}@mdt", id(300)));
    assert_eq!(event["RRULE"], "FREQ=MONTHLY;BYDAY=2TU");
    let later = Series {
        starts: chrono::NaiveTime::from_hms_opt(14, 0, 0).unwrap(),
        sequence: 1,
        ..s.clone()
    };
    let sent = series_messages(
        id(300),
        2,
        Some(&s),
        Some(&later),
        &f.to(),
        &origin(),
        now(),
    );
    assert!(sent[0].message.subject.starts_with("Changed:"));
    assert_eq!(
        parsed(sent[0].calendar.as_deref().unwrap()).1["SEQUENCE"],
        "1"
    );
    let cancelled = Series {
        cancelled: true,
        sequence: 2,
        ..later.clone()
    };
    let sent = series_messages(
        id(300),
        3,
        Some(&later),
        Some(&cancelled),
        &f.to(),
        &origin(),
        now(),
    );
    assert_eq!(sent[0].message.kind, MessageKind::Cancellation);
    assert_eq!(parsed(sent[0].calendar.as_deref().unwrap()).0, "CANCEL");
    // The series' own meetings are known by id, so they are not invited one by one.
    let ids = s.meeting_ids(id(300), now());
    assert!(ids.contains(&Series::meeting_id(id(300), s.first_date)));
    assert!(!ids.contains(&id(200)));
}

fn answer(f: &Fixture, person: Uuid, status: AttendanceStatus, deputy: Option<Uuid>) -> Attendance {
    Attendance {
        team_id: f.team_id,
        meeting_id: id(200),
        person_id: person,
        status,
        deputy_id: deputy,
    }
}

fn roles(f: &Fixture) -> HashMap<Uuid, Role> {
    HashMap::from([
        (f.coordinator, Role::PracticeManager),
        (f.gp, Role::Gp),
        (f.nurse, Role::DistrictNurse),
        (id(9), Role::Gp),
    ])
}

#[test]
fn the_coordinator_hears_at_once_when_an_apology_loses_the_quorum_and_only_then() {
    let f = fixture();
    let m = meeting(f.team_id, at(2026, 12, 8, 13, 0));
    let roles = roles(&f);
    let before = vec![answer(&f, f.gp, AttendanceStatus::Attending, None)];
    let change = |after: &[Attendance], before: &[Attendance]| {
        let change = AnswerChange {
            attendance_id: id(400),
            version: 2,
            meeting_id: id(200),
            meeting: &m,
            roles: &roles,
            before,
            after,
        };
        quorum_messages(&change, &f.to(), &origin(), now())
    };
    // The only GP sends apologies: the coordinator is told which role is missing.
    let apology = vec![answer(&f, f.gp, AttendanceStatus::Apologies, None)];
    let sent = change(&apology, &before);
    assert_eq!(emails(&sent), ["pat@example.nhs.net"]);
    assert_eq!(sent[0].message.kind, MessageKind::QuorumLost);
    assert_eq!(
        sent[0].message.subject,
        "Quorum lost: Riverside MDT meeting, Tue 8 Dec 2026, 13:00"
    );
    assert!(sent[0].message.body.contains("no longer has a GP."));
    assert!(sent[0].calendar.is_none());
    // With a GP deputy named, the quorum holds: nothing.
    let deputised = vec![answer(&f, f.gp, AttendanceStatus::Apologies, Some(id(9)))];
    assert!(change(&deputised, &before).is_empty());
    // Lost already before this answer: the coordinator was told then.
    assert!(change(&apology, &apology).is_empty());
    // The GP deputy withdrawn from an apology: lost now, so told now.
    assert_eq!(change(&apology, &deputised).len(), 1);
    // Someone whose role is not required sends apologies: nothing.
    let nurse_away = vec![
        answer(&f, f.gp, AttendanceStatus::Attending, None),
        answer(&f, f.nurse, AttendanceStatus::Apologies, None),
    ];
    assert!(change(&nurse_away, &before).is_empty());
    // A coordinator who turned these warnings off is not sent one.
    let mut quiet = fixture();
    quiet.people.get_mut(&quiet.coordinator).unwrap().recipient =
        Recipient::Account(MailPreferences {
            quorum_warnings: false,
            ..MailPreferences::default()
        });
    let change = AnswerChange {
        attendance_id: id(400),
        version: 2,
        meeting_id: id(200),
        meeting: &m,
        roles: &roles,
        before: &before,
        after: &apology,
    };
    assert!(quorum_messages(&change, &quiet.to(), &origin(), now()).is_empty());
    // A cancelled or past meeting: nothing.
    let past = meeting(f.team_id, at(2026, 11, 29, 13, 0));
    let change = AnswerChange {
        meeting: &past,
        ..change
    };
    assert!(quorum_messages(&change, &f.to(), &origin(), now()).is_empty());
}

#[test]
fn names_that_would_break_a_calendar_file_do_not() {
    let mut f = fixture();
    f.team.name = "Brook \"North\"; MDT, Ward 1".into();
    f.people.get_mut(&f.gp).unwrap().name = "Gita \"G\" GP\r\nX-INJECTED:1".into();
    f.people.get_mut(&f.gp).unwrap().email = "gita@example.nhs.net\r\nX-INJECTED:2".into();
    let m = meeting(f.team_id, at(2026, 12, 8, 13, 0));
    let sent = meeting_messages(id(200), 1, None, Some(&m), &f.to(), &origin(), now());
    for o in &sent {
        let ics = o.calendar.as_deref().unwrap();
        assert!(!ics.contains("\r\nX-INJECTED"), "{ics}");
        let (_, event) = parsed(ics);
        assert!(event.contains_key("ATTENDEE"));
        assert!(!mail::patient_shaped(&o.message.subject));
        assert!(!mail::patient_shaped(&o.message.body));
    }
}

/// One concrete change to a meeting, and what it must send.
struct Case {
    name: &'static str,
    before: Option<Meeting>,
    after: Option<Meeting>,
    sends: CalendarMessage,
}

fn with_status(m: &Meeting, status: MeetingStatus) -> Meeting {
    Meeting {
        status,
        ..m.clone()
    }
}

fn moved_to(m: &Meeting, starts: DateTime<Utc>) -> Meeting {
    Meeting {
        starts_at: starts,
        ends_at: starts + chrono::Duration::minutes(90),
        ..m.clone()
    }
}

/// Every row of the transition table, as changes a person makes (issue 26): planned, moved,
/// cancelled, deleted and concluded, before and after the meeting's start.
fn transition_cases(team_id: Uuid) -> Vec<Case> {
    use CalendarMessage::*;
    use MeetingStatus::{Cancelled, Closed};
    // Eight days ahead (the Tuesday after "now"), and one that started an hour ago.
    let to_come = meeting(team_id, at(2026, 12, 8, 13, 0));
    let started = meeting(team_id, now() - chrono::Duration::hours(1));
    let case = |name, before: Option<&Meeting>, after: Option<&Meeting>, sends| Case {
        name,
        before: before.cloned(),
        after: after.cloned(),
        sends,
    };
    vec![
        case("planned", None, Some(&to_come), Invitation),
        case(
            "moved to another time to come",
            Some(&to_come),
            Some(&moved_to(&to_come, at(2026, 12, 9, 13, 0))),
            Update,
        ),
        case(
            "given another place",
            Some(&to_come),
            Some(&Meeting {
                place: "Room 5".into(),
                ..to_come.clone()
            }),
            Update,
        ),
        case("saved unchanged", Some(&to_come), Some(&to_come), Nothing),
        case(
            "cancelled before its start",
            Some(&to_come),
            Some(&with_status(&to_come, Cancelled)),
            Cancellation,
        ),
        case(
            "deleted before its start",
            Some(&to_come),
            None,
            Cancellation,
        ),
        case(
            "moved into the past",
            Some(&to_come),
            Some(&moved_to(&to_come, now() - chrono::Duration::days(1))),
            Update,
        ),
        case(
            "concluded before its start",
            Some(&to_come),
            Some(&with_status(&to_come, Closed)),
            Nothing,
        ),
        case(
            "planned again after a cancellation",
            Some(&with_status(&to_come, Cancelled)),
            Some(&to_come),
            Invitation,
        ),
        case(
            "moved from the past to a time to come",
            Some(&started),
            Some(&to_come),
            Invitation,
        ),
        case(
            "concluded after its start",
            Some(&started),
            Some(&with_status(&started, Closed)),
            Nothing,
        ),
        case(
            "cancelled after its start",
            Some(&started),
            Some(&with_status(&started, Cancelled)),
            Nothing,
        ),
        case("deleted after its start", Some(&started), None, Nothing),
        case("recorded after it was held", None, Some(&started), Nothing),
        case(
            "a concluded meeting deleted",
            Some(&with_status(&started, Closed)),
            None,
            Nothing,
        ),
        case(
            "a cancelled meeting deleted",
            Some(&with_status(&to_come, Cancelled)),
            None,
            Nothing,
        ),
    ]
}

#[test]
fn every_meeting_transition_sends_what_its_row_says_and_every_row_is_tested() {
    let f = fixture();
    let mut rows_seen = HashSet::new();
    for case in transition_cases(f.team_id) {
        let row = transition_of(case.before.as_ref(), case.after.as_ref(), now());
        rows_seen.insert(MEETING_TRANSITIONS.iter().position(|r| r == row).unwrap());
        assert_eq!(row.sends, case.sends, "{}: {}", case.name, row.why);
        let sent = meeting_messages(
            id(300),
            4,
            case.before.as_ref(),
            case.after.as_ref(),
            &f.to(),
            &origin(),
            now(),
        );
        if case.sends == CalendarMessage::Nothing {
            assert!(
                sent.is_empty(),
                "{}: sent {:?}",
                case.name,
                sent.iter().map(|o| &o.message.subject).collect::<Vec<_>>()
            );
            continue;
        }
        // The coordinator and the two members with an account and an address, once each.
        assert_eq!(
            emails(&sent),
            [
                "gita@example.nhs.net",
                "nia@example.nhs.net",
                "pat@example.nhs.net"
            ],
            "{}",
            case.name
        );
        let (method, event) = parsed(sent[0].calendar.as_deref().unwrap());
        assert_eq!(
            event["UID"],
            format!("meeting-{}@mdt", id(300)),
            "{}",
            case.name
        );
        assert_eq!(event["SEQUENCE"], "4", "{}", case.name);
        let subject = &sent[0].message.subject;
        match case.sends {
            CalendarMessage::Invitation => {
                assert_eq!(method, "REQUEST", "{}", case.name);
                assert!(
                    subject.starts_with("Invitation: "),
                    "{}: {subject}",
                    case.name
                );
            }
            CalendarMessage::Update => {
                assert_eq!(method, "REQUEST", "{}", case.name);
                assert!(subject.starts_with("Changed: "), "{}: {subject}", case.name);
            }
            CalendarMessage::Cancellation => {
                assert_eq!(method, "CANCEL", "{}", case.name);
                assert!(
                    subject.starts_with("Cancelled: "),
                    "{}: {subject}",
                    case.name
                );
            }
            CalendarMessage::Nothing => unreachable!(),
        }
        // One-click answers only for a meeting still to come, and never with a cancellation.
        let to_come = case.after.as_ref().is_some_and(|m| m.starts_at > now());
        for o in &sent {
            assert_eq!(
                o.answers.is_some(),
                case.sends != CalendarMessage::Cancellation && to_come,
                "{}",
                case.name
            );
        }
    }
    let untested: Vec<&str> = (0..MEETING_TRANSITIONS.len())
        .filter(|i| !rows_seen.contains(i))
        .map(|i| MEETING_TRANSITIONS[i].why)
        .collect();
    assert!(untested.is_empty(), "rows no case reaches: {untested:?}");
}

#[test]
fn concluding_a_meeting_never_sends_a_cancellation_whenever_it_starts() {
    let f = fixture();
    // From two days before the start to two days after, every quarter of an hour.
    let starts = at(2026, 12, 8, 13, 0);
    for quarter in -(2 * 96)..=(2 * 96) {
        let now = starts + chrono::Duration::minutes(15 * quarter);
        let planned = meeting(f.team_id, starts);
        let concluded = with_status(&planned, MeetingStatus::Closed);
        let sent = meeting_messages(
            id(301),
            2,
            Some(&planned),
            Some(&concluded),
            &f.to(),
            &origin(),
            now,
        );
        assert!(sent.is_empty(), "concluding at {now} sent {}", sent.len());
    }
    // Whatever the stages and the calendar, the table never answers a conclusion with one.
    for before in MeetingStage::ALL {
        for changed in [false, true] {
            assert_ne!(
                meeting_transition(before, MeetingStage::Concluded, changed).sends,
                CalendarMessage::Cancellation,
                "{before:?} -> concluded"
            );
        }
    }
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

#[test]
fn a_series_invitation_asks_everyone_invited_for_one_click_answers_to_its_next_four_meetings() {
    let mut f = fixture();
    f.people.get_mut(&f.no_account).unwrap().recipient = Recipient::NoAccount {
        invitations_on: true,
    };
    // The 2nd Tuesday of each month from 8 December, January's skipped.
    let s = Series {
        exceptions: vec![crate::core::series::SeriesException {
            date: day(2027, 1, 12),
            moved_to: None,
        }],
        ..series(f.team_id)
    };
    let sent = series_messages(id(300), 1, None, Some(&s), &f.to(), &origin(), now());
    let noor = sent
        .iter()
        .find(|o| o.email == "noor@example.nhs.net")
        .expect("someone without an account is invited when it is turned on");
    // 13:00 UK time each: 12:00 UTC in April (BST).
    let next = [
        (day(2026, 12, 8), at(2026, 12, 8, 13, 0)),
        (day(2027, 2, 9), at(2027, 2, 9, 13, 0)),
        (day(2027, 3, 9), at(2027, 3, 9, 13, 0)),
        (day(2027, 4, 13), at(2027, 4, 13, 12, 0)),
    ];
    let expected = |person| {
        Some(Answers::Series(
            next.iter()
                .map(|(original, starts)| AnswerRequest {
                    meeting_id: Series::meeting_id(id(300), *original),
                    person_id: person,
                    until: *starts,
                })
                .collect(),
        ))
    };
    assert_eq!(noor.answers, expected(f.no_account));
    let gita = sent.iter().find(|o| o.email.starts_with("gita")).unwrap();
    assert_eq!(gita.answers, expected(f.gp));
    // Later: only meetings still to come (the first has started).
    let later = series_messages(
        id(300),
        1,
        None,
        Some(&s),
        &f.to(),
        &origin(),
        at(2026, 12, 8, 13, 0),
    );
    let Some(Answers::Series(requests)) = &later[0].answers else {
        panic!("answers");
    };
    assert_eq!(requests.len(), SERIES_ANSWERS);
    assert_eq!(requests[0].until, at(2027, 2, 9, 13, 0));
    // A changed series is answered too; a cancelled one is not.
    let changed = Series {
        place: "Room 5".into(),
        sequence: 1,
        ..s.clone()
    };
    let sent = series_messages(
        id(300),
        2,
        Some(&s),
        Some(&changed),
        &f.to(),
        &origin(),
        now(),
    );
    assert!(sent.iter().all(|o| o.answers.is_some()));
    let cancelled = Series {
        cancelled: true,
        ..changed.clone()
    };
    let sent = series_messages(
        id(300),
        3,
        Some(&changed),
        Some(&cancelled),
        &f.to(),
        &origin(),
        now(),
    );
    assert!(!sent.is_empty() && sent.iter().all(|o| o.answers.is_none()));
}

/// The properties of the VEVENT in a calendar file with their parameters, as `icalendar`
/// reads them.
fn with_params(ics: &str) -> HashMap<String, (String, String)> {
    let events: Vec<_> = crate::core::ics::tests::parse(ics)
        .into_iter()
        .filter(|(name, _)| name == "VEVENT")
        .collect();
    assert_eq!(events.len(), 1, "{ics}");
    events[0]
        .1
        .iter()
        .map(|(name, params, value)| (name.clone(), (params.clone(), value.clone())))
        .collect()
}

#[test]
fn one_meeting_of_a_series_changed_on_its_own_changes_that_occurrence_of_the_series_event() {
    let f = fixture();
    let s = Series {
        sequence: 2,
        ..series(f.team_id)
    };
    let original = day(2027, 1, 12);
    let of = OccurrenceOf {
        series_id: id(300),
        series: &s,
        original,
    };
    let meeting_id = Series::meeting_id(id(300), original);
    let planned = meeting(f.team_id, at(2027, 1, 12, 13, 0));
    let moved = moved_to(&planned, at(2027, 1, 12, 14, 0));
    let send = |version, before: Option<&Meeting>, after: Option<&Meeting>, of: &OccurrenceOf| {
        occurrence_messages(
            meeting_id,
            version,
            before,
            after,
            of,
            &f.to(),
            &origin(),
            now(),
        )
    };

    // Moved: to the same people as a meeting of its own, with one-click answers.
    let sent = send(3, Some(&planned), Some(&moved), &of);
    assert_eq!(
        emails(&sent),
        [
            "gita@example.nhs.net",
            "nia@example.nhs.net",
            "pat@example.nhs.net"
        ]
    );
    assert!(sent[0]
        .message
        .subject
        .starts_with("Changed: Riverside MDT meeting, Tue 12 Jan 2027, 14:00"));
    let gita = sent.iter().find(|o| o.email.starts_with("gita")).unwrap();
    assert_eq!(
        gita.answers,
        Some(Answers::Meeting(AnswerRequest {
            meeting_id,
            person_id: f.gp,
            until: moved.starts_at,
        }))
    );
    let (method, _) = parsed(gita.calendar.as_deref().unwrap());
    assert_eq!(method, "REQUEST");
    let event = with_params(gita.calendar.as_deref().unwrap());
    assert_eq!(event["UID"].1, format!("series-{}@mdt", id(300)));
    assert_eq!(
        event["RECURRENCE-ID"],
        ("TZID=Europe/London".into(), "20270112T130000".into()),
        "the occurrence's original start"
    );
    assert_eq!(event["DTSTART"].1, "20270112T140000");
    // Above the series' own SEQUENCE (2), and rising with each change of the meeting.
    assert_eq!(event["SEQUENCE"].1, "5");
    let again = send(4, Some(&moved), Some(&planned), &of);
    assert_eq!(
        with_params(again[0].calendar.as_deref().unwrap())["SEQUENCE"].1,
        "6"
    );
    assert_ne!(again[0].message_id, sent[0].message_id);
    // Even after the series itself changed many times since.
    let busy = Series {
        sequence: 40,
        ..s.clone()
    };
    let later = send(
        5,
        Some(&planned),
        Some(&moved),
        &OccurrenceOf {
            series: &busy,
            ..of
        },
    );
    assert!(
        with_params(later[0].calendar.as_deref().unwrap())["SEQUENCE"]
            .1
            .parse::<u32>()
            .unwrap()
            > 40
    );

    // Called off on its own: that occurrence leaves calendars, the series stays.
    let cancelled = with_status(&planned, MeetingStatus::Cancelled);
    for after in [Some(&cancelled), None] {
        let sent = send(6, Some(&planned), after, &of);
        assert_eq!(sent.len(), 3);
        assert_eq!(sent[0].message.kind, MessageKind::Cancellation);
        let (method, _) = parsed(sent[0].calendar.as_deref().unwrap());
        assert_eq!(method, "CANCEL");
        let event = with_params(sent[0].calendar.as_deref().unwrap());
        assert_eq!(event["UID"].1, format!("series-{}@mdt", id(300)));
        assert_eq!(event["RECURRENCE-ID"].1, "20270112T130000");
        assert_eq!(event["STATUS"].1, "CANCELLED");
        assert_eq!(event["SEQUENCE"].1, "8");
        assert!(sent.iter().all(|o| o.answers.is_none()));
    }

    // Made by the app for the series: the series' event has it already.
    assert!(send(1, None, Some(&planned), &of).is_empty());
    // Skipped by the series, or the whole series cancelled: the series' event says so.
    let skipping = Series {
        exceptions: vec![crate::core::series::SeriesException {
            date: original,
            moved_to: None,
        }],
        ..s.clone()
    };
    let gone = Series {
        cancelled: true,
        ..s.clone()
    };
    for series in [&skipping, &gone] {
        let of = OccurrenceOf { series, ..of };
        assert!(send(6, Some(&planned), Some(&cancelled), &of).is_empty());
        assert!(send(6, Some(&planned), Some(&moved), &of).is_empty());
    }
}

#[test]
fn a_meeting_of_a_series_follows_the_transition_table_and_concluding_it_never_cancels_it() {
    let f = fixture();
    let s = series(f.team_id);
    let of = OccurrenceOf {
        series_id: id(300),
        series: &s,
        original: s.first_date,
    };
    for case in transition_cases(f.team_id) {
        let sent = occurrence_messages(
            id(301),
            4,
            case.before.as_ref(),
            case.after.as_ref(),
            &of,
            &f.to(),
            &origin(),
            now(),
        );
        let expected = if case.before.is_none() {
            CalendarMessage::Nothing
        } else {
            case.sends
        };
        let method = sent
            .first()
            .map(|o| parsed(o.calendar.as_deref().unwrap()).0);
        match expected {
            CalendarMessage::Nothing => assert!(sent.is_empty(), "{}", case.name),
            CalendarMessage::Cancellation => {
                assert_eq!(method.as_deref(), Some("CANCEL"), "{}", case.name)
            }
            _ => assert_eq!(method.as_deref(), Some("REQUEST"), "{}", case.name),
        }
        for o in &sent {
            assert_eq!(
                with_params(o.calendar.as_deref().unwrap())["UID"].1,
                format!("series-{}@mdt", id(300)),
                "{}",
                case.name
            );
        }
    }
    // Concluded at any moment from two days before its start to two days after: nothing.
    let starts = at(2026, 12, 8, 13, 0);
    for quarter in -(2 * 96)..=(2 * 96) {
        let now = starts + chrono::Duration::minutes(15 * quarter);
        let planned = meeting(f.team_id, starts);
        let concluded = with_status(&planned, MeetingStatus::Closed);
        let sent = occurrence_messages(
            id(301),
            2,
            Some(&planned),
            Some(&concluded),
            &of,
            &f.to(),
            &origin(),
            now,
        );
        assert!(sent.is_empty(), "concluding at {now} sent {}", sent.len());
    }
}
