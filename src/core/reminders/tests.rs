//! Reminders at the edges of their windows (exactly 24 hours before the cut-off, one second
//! either side, the cut-off itself; Monday 07:00 UK in summer and winter), counted per writer,
//! never twice in a window, and only to people who want them.

use std::collections::HashMap;

use chrono::TimeZone;

use super::*;
use crate::core::brief::BriefStatus;
use crate::core::mail::{Links, MailPreferences, Recipient};
use crate::core::notify::Addressee;
use crate::core::team::Team;

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn at(y: i32, m: u32, d: u32, h: u32, min: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, s).unwrap()
}

fn origin() -> MailOrigin {
    MailOrigin {
        links: Links {
            base_url: "https://mdt.example.nhs.uk".into(),
        },
        from_address: "mdt@mdt.example.nhs.uk".into(),
    }
}

const PAT: u128 = 1;
const GITA: u128 = 2;
const SOL: u128 = 3;
const OUTSIDER: u128 = 9;

fn people(quiet: &[u128]) -> HashMap<Uuid, Addressee> {
    [
        (PAT, "pat"),
        (GITA, "gita"),
        (SOL, "sol"),
        (OUTSIDER, "out"),
    ]
    .into_iter()
    .map(|(n, name)| {
        let preferences = if quiet.contains(&n) {
            MailPreferences {
                brief_reminders: false,
                actions_digest: false,
                chases: false,
                quorum_warnings: false,
            }
        } else {
            MailPreferences::default()
        };
        (
            id(n),
            Addressee {
                name: name.into(),
                email: format!("{name}@example.nhs.net"),
                recipient: Recipient::Account(preferences),
            },
        )
    })
    .collect()
}

fn team() -> Team {
    Team::example("Riverside MDT", id(PAT), vec![id(GITA), id(SOL)])
}

/// Tuesday 8 December 2026, 13:00 UK (winter: UTC); briefs due 24 hours before.
fn meeting() -> Meeting {
    let starts_at = at(2026, 12, 8, 13, 0, 0);
    Meeting {
        team_id: id(100),
        starts_at,
        ends_at: starts_at + Duration::minutes(90),
        place: String::new(),
        video_link: None,
        status: MeetingStatus::Planned,
    }
}

fn item(n: u128, lead: u128) -> (Uuid, AgendaItem) {
    let mut item = AgendaItem::example(id(100), id(200));
    item.lead_professional_id = Some(id(lead));
    (id(n), item)
}

fn brief(item: u128, author: u128, status: BriefStatus) -> (Uuid, u64, Brief) {
    (
        id(item + 1000),
        1,
        Brief {
            team_id: id(100),
            item_id: id(item),
            author_id: id(author),
            situation: "Written".into(),
            background: String::new(),
            assessment: String::new(),
            request: String::new(),
            services_involved: String::new(),
            risks: String::new(),
            safeguarding_concern: false,
            patient_wishes: String::new(),
            consent_to_share: None,
            status,
        },
    )
}

fn reminders(now: DateTime<Utc>, quiet: &[u128]) -> Vec<Outgoing> {
    let team = team();
    let people = people(quiet);
    let to = TeamMail {
        team_id: id(100),
        team: &team,
        people: &people,
    };
    let mut discussed = item(14, GITA);
    discussed.1.status = ItemStatus::Discussed;
    let items = vec![
        item(11, GITA),
        item(12, GITA),
        item(13, SOL),
        discussed,
        item(15, OUTSIDER),
        item(16, SOL),
    ];
    let briefs = vec![
        brief(12, GITA, BriefStatus::Draft),
        brief(16, SOL, BriefStatus::Ready),
    ];
    brief_reminders(id(200), &meeting(), &to, &items, &briefs, &origin(), now)
}

#[test]
fn each_writer_is_reminded_once_in_the_day_before_the_cut_off_of_the_briefs_not_ready() {
    // Due Monday 7 December 13:00; the reminder window opens Sunday 13:00.
    let due = at(2026, 12, 7, 13, 0, 0);
    let sent = reminders(due - REMIND_BEFORE, &[]);
    let by: Vec<(&str, &str)> = sent
        .iter()
        .map(|o| (o.email.as_str(), o.message.subject.as_str()))
        .collect();
    // Gita: two (one blank, one draft); Sol: one (the other is ready); not the discussed
    // item, not someone outside the team.
    assert_eq!(
        by,
        [
            (
                "gita@example.nhs.net",
                "2 briefs due for Tuesday's Riverside MDT by Monday 13:00"
            ),
            (
                "sol@example.nhs.net",
                "1 brief due for Tuesday's Riverside MDT by Monday 13:00"
            ),
        ]
    );
    assert_eq!(sent[0].message_id, sent[1].message_id);
    // The same id all through the window: looked at again, nothing more goes.
    assert_eq!(
        reminders(due - Duration::seconds(1), &[])[0].message_id,
        sent[0].message_id
    );
    // Outside the window: a second early, at the cut-off, after it.
    assert!(reminders(due - REMIND_BEFORE - Duration::seconds(1), &[]).is_empty());
    assert!(reminders(due, &[]).is_empty());
    assert!(reminders(due + Duration::hours(1), &[]).is_empty());
    // Someone who turned reminders off.
    let quiet = reminders(due - Duration::hours(2), &[GITA]);
    assert_eq!(quiet.len(), 1);
    assert_eq!(quiet[0].email, "sol@example.nhs.net");
}

#[test]
fn a_cancelled_meeting_reminds_nobody() {
    let team = team();
    let people = people(&[]);
    let to = TeamMail {
        team_id: id(100),
        team: &team,
        people: &people,
    };
    let cancelled = Meeting {
        status: MeetingStatus::Cancelled,
        ..meeting()
    };
    let items = vec![item(11, GITA)];
    let now = at(2026, 12, 7, 12, 0, 0);
    assert!(brief_reminders(id(200), &cancelled, &to, &items, &[], &origin(), now).is_empty());
    assert_eq!(
        brief_reminders(id(200), &meeting(), &to, &items, &[], &origin(), now).len(),
        1
    );
}

#[test]
fn the_digest_week_starts_at_seven_on_monday_uk_time_in_winter_and_summer() {
    // Winter: UK = UTC.
    assert_eq!(digest_week(at(2026, 12, 7, 6, 59, 59)), None);
    let monday = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
    assert_eq!(digest_week(at(2026, 12, 7, 7, 0, 0)), Some(monday));
    assert_eq!(digest_week(at(2026, 12, 13, 23, 59, 59)), Some(monday));
    // Sunday night in the UK is still the week before.
    assert_eq!(
        digest_week(at(2026, 12, 6, 23, 0, 0)),
        NaiveDate::from_ymd_opt(2026, 11, 30)
    );
    // Summer: 07:00 BST is 06:00 UTC.
    let june = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
    assert_eq!(digest_week(at(2026, 6, 1, 5, 59, 59)), None);
    assert_eq!(digest_week(at(2026, 6, 1, 6, 0, 0)), Some(june));
    // Sunday 23:30 UTC in summer is already Monday 00:30 in the UK, before seven.
    assert_eq!(digest_week(at(2026, 5, 31, 23, 30, 0)), None);
}

fn action(owner: u128, due: NaiveDate, status: ActionStatus) -> Action {
    Action {
        team_id: id(100),
        description: "Refer to the falls service".into(),
        owner_id: id(owner),
        due,
        patient_id: None,
        meeting_id: None,
        item_id: None,
        status,
        completion_note: String::new(),
        reason: String::new(),
    }
}

#[test]
fn the_weekly_digest_counts_overdue_and_due_this_week_and_never_says_what_they_are() {
    let team = team();
    let people = people(&[SOL]);
    let to = TeamMail {
        team_id: id(100),
        team: &team,
        people: &people,
    };
    // Wednesday 9 December 2026.
    let now = at(2026, 12, 9, 10, 0, 0);
    let day = |d: u32| NaiveDate::from_ymd_opt(2026, 12, d).unwrap();
    let actions = vec![
        action(GITA, day(8), ActionStatus::Accepted),  // overdue
        action(GITA, day(9), ActionStatus::Proposed),  // due today: this week
        action(GITA, day(13), ActionStatus::Accepted), // Sunday: this week
        action(GITA, day(14), ActionStatus::Accepted), // next week: not counted
        action(GITA, day(1), ActionStatus::Done),      // done
        action(GITA, day(1), ActionStatus::Cancelled), // cancelled
        action(GITA, day(1), ActionStatus::Declined),  // with the coordinator
        action(PAT, day(20), ActionStatus::Accepted),  // nothing due: no message
        action(SOL, day(1), ActionStatus::Accepted),   // turned off
        action(OUTSIDER, day(1), ActionStatus::Accepted), // not in the team
    ];
    let sent = actions_digests(&to, &actions, &origin(), now);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].email, "gita@example.nhs.net");
    assert_eq!(
        sent[0].message.subject,
        "Your Riverside MDT actions: 1 overdue, 2 due this week"
    );
    assert!(!sent[0].message.body.contains("falls"));
    // The same week: the same id; the next week: another.
    let later = actions_digests(&to, &actions, &origin(), at(2026, 12, 13, 22, 0, 0));
    assert_eq!(later[0].message_id, sent[0].message_id);
    let next = actions_digests(&to, &actions, &origin(), at(2026, 12, 14, 8, 0, 0));
    assert_ne!(next[0].message_id, sent[0].message_id);
    // Before Monday 07:00, nothing.
    assert!(actions_digests(&to, &actions, &origin(), at(2026, 12, 14, 6, 0, 0)).is_empty());
}

#[test]
fn a_chase_goes_once_a_day_for_the_same_thing_and_not_to_someone_who_turned_chases_off() {
    let team = team();
    let people = people(&[SOL]);
    let to = TeamMail {
        team_id: id(100),
        team: &team,
        people: &people,
    };
    let request = ChaseRequest {
        about: id(11),
        what: Chased::Brief,
        person_id: id(GITA),
        meeting_starts_at: Some(at(2026, 12, 8, 13, 0, 0)),
    };
    let morning = chase(
        &request,
        "Pat Coordinator",
        &to,
        &origin(),
        at(2026, 12, 7, 9, 0, 0),
    )
    .unwrap();
    assert_eq!(
        morning.message.subject,
        "Pat Coordinator asks for your brief (Riverside MDT)"
    );
    assert!(morning.message.body.contains(&format!(
        "https://mdt.example.nhs.uk/items/{}/brief",
        id(11)
    )));
    // Which meeting, and by when (the team's cut-off, 24 hours before), in UK time.
    assert!(
        morning.message.body.contains(
            "for Riverside MDT's meeting on Tuesday 8 December 2026, 13:00 (UK time) is not ready yet. It should be ready by Monday 7 December 2026, 13:00 (UK time)"
        ),
        "{}",
        morning.message.body
    );
    let evening = chase(
        &request,
        "Pat Coordinator",
        &to,
        &origin(),
        at(2026, 12, 7, 23, 59, 0),
    )
    .unwrap();
    assert_eq!(evening.message_id, morning.message_id);
    // After the cut-off the brief is late, and the chase says so.
    assert!(
        evening
            .message
            .body
            .contains("It was due to be ready by Monday 7 December 2026, 13:00 (UK time)"),
        "{}",
        evening.message.body
    );
    let tomorrow = chase(
        &request,
        "Pat Coordinator",
        &to,
        &origin(),
        at(2026, 12, 8, 0, 0, 0),
    )
    .unwrap();
    assert_ne!(tomorrow.message_id, morning.message_id);
    let sol = ChaseRequest {
        person_id: id(SOL),
        ..request
    };
    assert!(chase(
        &sol,
        "Pat Coordinator",
        &to,
        &origin(),
        at(2026, 12, 7, 9, 0, 0)
    )
    .is_none());
}
