//! The home page's lists from a week of synthetic records: meetings and answers, briefs to write
//! and read (restricted items only for those who may see them), actions due, items asked for
//! with their slot, and a coordinator's quorum and brief warnings.

use chrono::TimeZone;
use serde::Serialize;

use super::*;
use crate::core::brief::{brief_id_for, BriefStatus};
use crate::core::record::Entity;
use crate::core::sync::{PullResponse, SyncRecord};

const PAT: Uuid = Uuid::from_u128(1);
const SOL: Uuid = Uuid::from_u128(2);
const GITA: Uuid = Uuid::from_u128(3);
/// A GP who never signs in.
const NIA: Uuid = Uuid::from_u128(4);
const OLU: Uuid = Uuid::from_u128(5);
const TEAM: Uuid = Uuid::from_u128(10);
const OTHER_TEAM: Uuid = Uuid::from_u128(11);
/// Tue 1 Dec 2026 13:00 (within the week).
const M1: Uuid = Uuid::from_u128(20);
/// Tue 8 Dec (beyond the week, within the coordinator's fortnight).
const M2: Uuid = Uuid::from_u128(21);
/// Fri 4 Dec, cancelled.
const M3: Uuid = Uuid::from_u128(22);
/// Yesterday's, over (never concluded).
const M4: Uuid = Uuid::from_u128(23);
/// 12 Jan 2027.
const M5: Uuid = Uuid::from_u128(24);
/// Another team's meeting tomorrow.
const M6: Uuid = Uuid::from_u128(25);
const ADA: Uuid = Uuid::from_u128(30);
const BERTIE: Uuid = Uuid::from_u128(31);
const CORA: Uuid = Uuid::from_u128(32);
const DORA: Uuid = Uuid::from_u128(33);
const I_ADA: Uuid = Uuid::from_u128(40);
const I_BERTIE: Uuid = Uuid::from_u128(41);
const I_CORA: Uuid = Uuid::from_u128(42);
const I_DORA: Uuid = Uuid::from_u128(43);
const I_LATER: Uuid = Uuid::from_u128(44);
const I_ELSEWHERE: Uuid = Uuid::from_u128(45);
const I_CANCELLED: Uuid = Uuid::from_u128(46);

fn at(d: u32, m: u32, h: u32, min: u32) -> DateTime<Utc> {
    let year = if m == 1 { 2027 } else { 2026 };
    Utc.with_ymd_and_hms(year, m, d, h, min, 0).unwrap()
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// Monday 30 Nov 2026, 09:00 in London (GMT).
fn monday_morning() -> DateTime<Utc> {
    at(30, 11, 9, 0)
}

fn record<E: Entity + Serialize>(id: Uuid, version: u64, entity: &E) -> SyncRecord {
    SyncRecord {
        entity: E::KIND,
        id,
        version,
        updated_at: at(1, 11, 9, 0),
        updated_by: "Pat Coordinator".into(),
        deleted: false,
        fields: entity.to_fields(),
        field_stamps: Default::default(),
        conflicts: vec![],
    }
}

fn team(name: &str, coordinator: Uuid, members: Vec<Uuid>) -> Team {
    Team {
        name: name.into(),
        coordinator_id: coordinator,
        member_ids: members,
        observer_ids: vec![OLU],
        required_roles: vec![Role::Gp.into(), Role::SocialWorker.into()],
        default_minutes: 90,
        place: String::new(),
        video_link: None,
        agenda_cutoff_hours: 48,
        brief_cutoff_hours: 24,
        archived: false,
        observers_see_measures: false,
        email_people_without_accounts: false,
    }
}

fn meeting(team_id: Uuid, starts_at: DateTime<Utc>, status: MeetingStatus) -> Meeting {
    Meeting {
        team_id,
        starts_at,
        ends_at: starts_at + Duration::minutes(90),
        place: String::new(),
        video_link: None,
        status,
    }
}

fn person(name: &str, role: Role) -> Person {
    Person {
        name: name.into(),
        role,
        organisation_id: None,
        phone: None,
        email: None,
        last_confirmed: date(2026, 11, 1),
    }
}

fn patient(nhs: &str, name: &str) -> Patient {
    Patient {
        team_id: TEAM,
        nhs_number: nhs.into(),
        name: name.into(),
        date_of_birth: date(1940, 5, 6),
        registered_practice_id: None,
        objects_to_sharing: false,
        lead_professional_id: None,
    }
}

fn item(meeting_id: Uuid, patient: Option<Uuid>, lead: Uuid, position: i64) -> AgendaItem {
    AgendaItem {
        patient_id: patient,
        requested_by: Some(SOL),
        requested_on: date(2026, 11, 20),
        lead_professional_id: Some(lead),
        minutes: 20,
        position,
        ..AgendaItem::example(TEAM, meeting_id)
    }
}

fn ready_brief(item_id: Uuid, author: Uuid) -> Brief {
    Brief {
        team_id: TEAM,
        item_id,
        author_id: author,
        situation: "Lives alone".into(),
        request: "Who leads?".into(),
        consent_to_share: Some(true),
        status: BriefStatus::Ready,
        ..Brief::default()
    }
}

fn receipt(item_id: Uuid, person_id: Uuid, version: u64) -> ReadReceipt {
    ReadReceipt {
        team_id: TEAM,
        brief_id: brief_id_for(item_id),
        person_id,
        brief_version: version,
        read_at: at(29, 11, 18, 0),
    }
}

fn answer(meeting_id: Uuid, person_id: Uuid, status: AttendanceStatus) -> Attendance {
    Attendance {
        team_id: TEAM,
        meeting_id,
        person_id,
        status,
        deputy_id: None,
    }
}

fn action(owner: Uuid, description: &str, due: NaiveDate, status: ActionStatus) -> Action {
    Action {
        team_id: TEAM,
        description: description.into(),
        owner_id: owner,
        due,
        patient_id: Some(ADA),
        meeting_id: Some(M4),
        item_id: None,
        status,
        completion_note: if status == ActionStatus::Done {
            "Done".into()
        } else {
            String::new()
        },
        reason: String::new(),
    }
}

/// A week of Riverside MDT: Pat coordinates; Sol (social worker), Gita and Nia (GPs, Nia never
/// signs in) are members; Olu observes. Sol is also on nothing of Hillside MDT.
fn riverside() -> Replica {
    let mut restricted = item(M1, Some(CORA), GITA, 3 * 1024);
    restricted.restricted = true;
    restricted.requested_by = Some(GITA);
    let mut later = item(M5, Some(DORA), SOL, 1024);
    later.deferrals = 2;
    let mut elsewhere = item(M6, None, GITA, 1024);
    elsewhere.team_id = OTHER_TEAM;
    elsewhere.title = "Hillside business".into();
    elsewhere.kind = ItemKind::ForInformation;
    let mut review = item(M1, None, PAT, 0);
    review.kind = ItemKind::ActionsReview;
    review.title = "Actions review".into();
    let mut records = vec![
        record(TEAM, 1, &team("Riverside MDT", PAT, vec![SOL, GITA, NIA])),
        record(OTHER_TEAM, 1, &team("Hillside MDT", GITA, vec![])),
        record(SOL, 1, &person("Sol Worker", Role::SocialWorker)),
        record(GITA, 1, &person("Dr Gita Synthetic", Role::Gp)),
        record(NIA, 1, &person("Dr Nia Synthetic", Role::Gp)),
        record(PAT, 1, &person("Pat Coordinator", Role::PracticeManager)),
        record(
            M1,
            1,
            &meeting(TEAM, at(1, 12, 13, 0), MeetingStatus::Planned),
        ),
        record(
            M2,
            1,
            &meeting(TEAM, at(8, 12, 13, 0), MeetingStatus::Planned),
        ),
        record(
            M3,
            1,
            &meeting(TEAM, at(4, 12, 13, 0), MeetingStatus::Cancelled),
        ),
        record(
            M4,
            1,
            &meeting(TEAM, at(29, 11, 8, 0), MeetingStatus::Planned),
        ),
        record(
            M5,
            1,
            &meeting(TEAM, at(12, 1, 13, 0), MeetingStatus::Planned),
        ),
        record(
            M6,
            1,
            &meeting(OTHER_TEAM, at(1, 12, 10, 0), MeetingStatus::Planned),
        ),
        record(ADA, 1, &patient("9990000018", "Ada Synthetic")),
        record(BERTIE, 1, &patient("9990000026", "Bertie Example")),
        record(CORA, 1, &patient("9990000034", "Cora Placeholder")),
        record(DORA, 1, &patient("9990000042", "Dora Synthetic")),
        record(Uuid::from_u128(39), 1, &review),
        // Ada: Sol leads, no brief yet.
        record(I_ADA, 1, &item(M1, Some(ADA), SOL, 1024)),
        // Bertie: Gita's brief is at version 3; Sol read version 2.
        record(I_BERTIE, 1, &item(M1, Some(BERTIE), GITA, 2 * 1024)),
        record(brief_id_for(I_BERTIE), 3, &ready_brief(I_BERTIE, GITA)),
        record(Uuid::from_u128(60), 1, &receipt(I_BERTIE, SOL, 2)),
        // Cora: restricted, Gita leads, her brief ready and unread by Sol (who may not see it).
        record(I_CORA, 1, &restricted),
        record(brief_id_for(I_CORA), 1, &ready_brief(I_CORA, GITA)),
        // Dora (on M1 too): Sol leads and her brief is ready.
        record(I_DORA, 1, &item(M1, Some(DORA), SOL, 4 * 1024)),
        record(brief_id_for(I_DORA), 1, &ready_brief(I_DORA, SOL)),
        // Dora again in January, carried twice, at Sol's request; its brief is not due yet.
        record(I_LATER, 1, &later),
        // An item on the cancelled meeting: never listed.
        record(I_CANCELLED, 1, &item(M3, Some(ADA), SOL, 1024)),
        record(I_ELSEWHERE, 1, &elsewhere),
        // Answers: Sol is coming to M1 and sends apologies for M2; Gita sends apologies to M1.
        record(
            Uuid::from_u128(70),
            1,
            &answer(M1, SOL, AttendanceStatus::Attending),
        ),
        record(
            Uuid::from_u128(71),
            1,
            &answer(M1, GITA, AttendanceStatus::Apologies),
        ),
        record(
            Uuid::from_u128(72),
            1,
            &answer(M2, SOL, AttendanceStatus::Apologies),
        ),
    ];
    let actions = [
        (
            81,
            action(
                SOL,
                "Chase the OT assessment",
                date(2026, 11, 20),
                ActionStatus::Accepted,
            ),
        ),
        (
            82,
            action(
                SOL,
                "Arrange a carers assessment",
                date(2027, 1, 1),
                ActionStatus::Proposed,
            ),
        ),
        (
            83,
            action(
                SOL,
                "Refer to the falls service",
                date(2026, 12, 3),
                ActionStatus::Accepted,
            ),
        ),
        (
            84,
            action(
                SOL,
                "Review the care plan",
                date(2026, 12, 20),
                ActionStatus::Accepted,
            ),
        ),
        (
            85,
            action(SOL, "Done already", date(2026, 11, 1), ActionStatus::Done),
        ),
        (
            86,
            action(
                GITA,
                "Review her medication",
                date(2026, 11, 2),
                ActionStatus::Accepted,
            ),
        ),
        (
            87,
            Action {
                reason: "Not my patch".into(),
                ..action(
                    SOL,
                    "Declined one",
                    date(2026, 11, 2),
                    ActionStatus::Declined,
                )
            },
        ),
    ];
    for (n, a) in &actions {
        records.push(record(Uuid::from_u128(*n), 1, a));
    }
    let mut r = Replica::new(Uuid::from_u128(99));
    let cursor = records.len() as u64;
    r.apply_pull(PullResponse {
        records,
        cursor,
        more: false,
    });
    r
}

fn abouts(tasks: &[BriefTask]) -> Vec<(&str, Uuid)> {
    tasks
        .iter()
        .map(|t| (t.about.split(' ').next().unwrap(), t.item_id))
        .collect()
}

#[test]
fn a_members_week_meetings_briefs_actions_and_what_they_asked_for() {
    let sol = WhatNeedsMe::of(&riverside(), SOL, monday_morning(), &[]);
    // This week's meetings only: not next week's, the cancelled one, yesterday's or another
    // team's; with her answer.
    assert_eq!(
        sol.meetings,
        vec![MeetingAhead {
            meeting_id: M1,
            team_name: "Riverside MDT".into(),
            starts_at: at(1, 12, 13, 0),
            answer: AttendanceStatus::Attending,
        }]
    );
    // She writes Ada's brief by the cut-off, 24 hours before the meeting: not late yet.
    assert_eq!(abouts(&sol.briefs_to_write), vec![("Ada", I_ADA)]);
    assert_eq!(sol.briefs_to_write[0].by, at(30, 11, 13, 0));
    assert!(!sol.briefs_to_write[0].late);
    assert_eq!(
        sol.briefs_to_write[0].about,
        "Ada Synthetic (NHS 999 000 0018, born 6 May 1940)"
    );
    // She reads Bertie's (she read an earlier version), not Cora's (restricted, not hers to
    // see) nor Dora's (her own).
    assert_eq!(abouts(&sol.briefs_to_read), vec![("Bertie", I_BERTIE)]);
    assert_eq!(sol.briefs_to_read[0].by, at(1, 12, 13, 0));
    // Overdue first, then due this week, then one waiting for her answer; not done, declined
    // or later ones, nor Gita's.
    let actions: Vec<(&str, bool)> = sol
        .actions
        .iter()
        .map(|a| (a.description.as_str(), a.overdue))
        .collect();
    assert_eq!(
        actions,
        vec![
            ("Chase the OT assessment", true),
            ("Refer to the falls service", false),
            ("Arrange a carers assessment", false),
        ]
    );
    assert_eq!(sol.actions[2].status, ActionStatus::Proposed);
    assert!(sol.actions[0].about.starts_with("Ada Synthetic"));
    // The items she asked for, each with when its slot starts (after the actions review and
    // the items before it), the January one with its deferrals; never the cancelled meeting's.
    let asked: Vec<(Uuid, DateTime<Utc>, u32)> = sol
        .requested
        .iter()
        .map(|r| (r.item_id, r.discussed_at, r.deferrals))
        .collect();
    let review = |n: i64| at(1, 12, 13, 0) + Duration::minutes(n);
    assert_eq!(sol.requested[0].discussed_at, review(sol_review_minutes()));
    assert_eq!(
        asked,
        vec![
            (I_ADA, review(sol_review_minutes()), 0),
            (I_BERTIE, review(sol_review_minutes() + 20), 0),
            (I_DORA, review(sol_review_minutes() + 60), 0),
            (I_LATER, at(12, 1, 13, 0), 2),
        ]
    );
    // Not a coordinator: no warnings.
    assert!(sol.coordinator.is_empty());
}

/// The actions review's slot length, as the agenda gives it.
fn sol_review_minutes() -> i64 {
    let mut review = item(M1, None, PAT, 0);
    review.kind = ItemKind::ActionsReview;
    i64::from(review.slot_minutes())
}

#[test]
fn a_brief_past_its_cut_off_is_still_listed_as_late_until_the_meeting_ends() {
    let afternoon = at(30, 11, 14, 0);
    let sol = WhatNeedsMe::of(&riverside(), SOL, afternoon, &[]);
    assert_eq!(abouts(&sol.briefs_to_write), vec![("Ada", I_ADA)]);
    assert!(sol.briefs_to_write[0].late);
    // Once the meeting is over, nothing about it is listed.
    let after = WhatNeedsMe::of(&riverside(), SOL, at(1, 12, 14, 30), &[]);
    assert!(after.briefs_to_write.is_empty());
    assert!(after.briefs_to_read.is_empty());
    assert!(after.meetings.iter().all(|m| m.meeting_id != M1));
    assert!(after.requested.iter().all(|r| r.meeting_id != M1));
}

#[test]
fn a_lead_sees_their_restricted_item_and_an_observer_has_nothing_to_do() {
    let gita = WhatNeedsMe::of(&riverside(), GITA, monday_morning(), &[]);
    // Gita's briefs are ready; she is not asked to read them; she sees M1 with her apologies.
    assert!(gita.briefs_to_write.is_empty());
    assert_eq!(abouts(&gita.briefs_to_read), vec![("Dora", I_DORA)]);
    let riverside_meeting = gita.meetings.iter().find(|m| m.meeting_id == M1).unwrap();
    assert_eq!(riverside_meeting.answer, AttendanceStatus::Apologies);
    assert_eq!(gita.meetings.len(), 2);
    // Her overdue action; Hillside's meeting tomorrow (she coordinates it) is listed with no
    // answer, and its warnings are hers: nobody covers either role there.
    assert_eq!(gita.actions.len(), 1);
    assert!(gita.actions[0].overdue);
    let hillside = gita.meetings.iter().find(|m| m.meeting_id == M6).unwrap();
    assert_eq!(hillside.answer, AttendanceStatus::Invited);
    assert!(matches!(
        &gita.coordinator[..],
        [CoordinatorAlert::NoQuorum { meeting_id: M6, missing, .. }]
            if missing == &vec![Role::SocialWorker]
    ));

    // Olu observes: meetings are not his to answer, nothing to write, read or do.
    let olu = WhatNeedsMe::of(&riverside(), OLU, monday_morning(), &[]);
    assert!(olu.meetings.is_empty(), "{olu:?}");
    assert!(olu.is_empty(), "{olu:?}");
    // Someone in no team: nothing at all, and no panic on records they cannot read.
    assert!(WhatNeedsMe::of(&riverside(), Uuid::from_u128(404), monday_morning(), &[]).is_empty());
    assert!(WhatNeedsMe::of(&Replica::new(Uuid::nil()), SOL, monday_morning(), &[]).is_empty());
}

#[test]
fn a_coordinator_is_warned_of_quorum_and_briefs_for_the_next_fortnight() {
    let pat = WhatNeedsMe::of(&riverside(), PAT, monday_morning(), &[]);
    // M1: Gita sent apologies; Nia covers GP but has not answered (not confirmed); Ada's is
    // the one patient brief not ready (the restricted Cora's, which he may see, is ready).
    // M2: Sol sent apologies; nobody covers the social worker role.
    assert_eq!(
        pat.coordinator,
        vec![
            CoordinatorAlert::QuorumNotConfirmed {
                meeting_id: M1,
                team_name: "Riverside MDT".into(),
                starts_at: at(1, 12, 13, 0),
                unconfirmed: vec![Role::Gp],
            },
            CoordinatorAlert::BriefsNotReady {
                meeting_id: M1,
                team_name: "Riverside MDT".into(),
                starts_at: at(1, 12, 13, 0),
                not_ready: 1,
                due: at(30, 11, 13, 0),
            },
            CoordinatorAlert::NoQuorum {
                meeting_id: M2,
                team_name: "Riverside MDT".into(),
                starts_at: at(8, 12, 13, 0),
                missing: vec![Role::SocialWorker],
            },
        ]
    );
    // Nia cannot sign in: the coordinator answers for her, so her silence is no risk.
    let knowing = WhatNeedsMe::of(&riverside(), PAT, monday_morning(), &[NIA]);
    assert!(knowing
        .coordinator
        .iter()
        .all(|a| !matches!(a, CoordinatorAlert::QuorumNotConfirmed { .. })));
    // The January meeting is beyond the fortnight: no warnings about it yet.
    assert!(pat.coordinator.iter().all(|a| a.meeting_id() != M5));
    // The coordinator's own week: M1 with no answer.
    assert_eq!(pat.meetings.len(), 1);
    assert_eq!(pat.meetings[0].answer, AttendanceStatus::Invited);
}

#[test]
fn an_archived_team_is_left_out_and_action_due_dates_turn_over_at_uk_midnight() {
    let mut replica = riverside();
    let mut archived = team("Riverside MDT", PAT, vec![SOL, GITA, NIA]);
    archived.archived = true;
    replica.apply_pull(PullResponse {
        records: vec![record(TEAM, 2, &archived)],
        cursor: 100,
        more: false,
    });
    assert!(WhatNeedsMe::of(&replica, SOL, monday_morning(), &[]).is_empty());

    // "Refer to the falls service" is due 3 Dec: at 23:30 UTC on 3 Dec it is still 3 Dec in
    // London in winter, so not overdue; at 00:00 UTC on 4 Dec it is.
    let sol = |now| WhatNeedsMe::of(&riverside(), SOL, now, &[]);
    let falls = |needs: &WhatNeedsMe| {
        needs
            .actions
            .iter()
            .find(|a| a.description == "Refer to the falls service")
            .map(|a| a.overdue)
    };
    assert_eq!(falls(&sol(at(3, 12, 23, 30))), Some(false));
    assert_eq!(falls(&sol(at(4, 12, 0, 0))), Some(true));
}
