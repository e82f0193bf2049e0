//! The action state machine, overdue at the UK midnight boundary, outcomes, filters and CSV.

use chrono::TimeZone;
use proptest::prelude::*;

use super::*;

fn owner() -> Uuid {
    Uuid::from_u128(7)
}

fn action(due: NaiveDate) -> Action {
    Action {
        team_id: Uuid::from_u128(1),
        description: "Refer to the falls service".into(),
        owner_id: owner(),
        due,
        patient_id: Some(Uuid::from_u128(50)),
        meeting_id: None,
        item_id: Some(Uuid::from_u128(60)),
        status: ActionStatus::Proposed,
        completion_note: String::new(),
        reason: String::new(),
    }
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

#[test]
fn the_owner_accepts_then_completes_with_a_note() {
    let mut a = action(date(2026, 12, 1));
    assert!(a
        .apply(&ActionChange::Accept, Uuid::from_u128(99))
        .unwrap_err()
        .message
        .contains("Only the owner"));
    assert_eq!(
        a.apply(&ActionChange::Accept, owner()).unwrap(),
        "accepted the action"
    );
    assert_eq!(a.status, ActionStatus::Accepted);
    let err = a
        .apply(&ActionChange::Complete { note: " ".into() }, owner())
        .unwrap_err();
    assert_eq!(err.message, "Enter what was done");
    assert_eq!(a.status, ActionStatus::Accepted, "unchanged on error");
    a.apply(
        &ActionChange::Complete {
            note: "Referral sent 2 Dec".into(),
        },
        owner(),
    )
    .unwrap();
    assert_eq!(a.status, ActionStatus::Done);
    assert!(a
        .apply(&ActionChange::Cancel { reason: "x".into() }, owner())
        .unwrap_err()
        .message
        .contains("cannot become cancelled"));
    assert!(a
        .apply(
            &ActionChange::Reassign {
                owner: Uuid::from_u128(8)
            },
            owner()
        )
        .is_err());
}

#[test]
fn done_needs_acceptance_first_and_a_stored_done_needs_a_note() {
    let mut a = action(date(2026, 12, 1));
    assert!(a
        .apply(
            &ActionChange::Complete {
                note: "done".into()
            },
            owner()
        )
        .unwrap_err()
        .message
        .contains("proposed cannot become done"));
    let stored = Action {
        status: ActionStatus::Done,
        ..action(date(2026, 12, 1))
    };
    assert_eq!(
        stored.validate().unwrap_err().field.as_deref(),
        Some("completion_note")
    );
}

#[test]
fn declining_needs_a_reason_and_flags_it_for_reassignment() {
    let mut a = action(date(2026, 12, 1));
    assert!(a
        .apply(&ActionChange::Decline { reason: "".into() }, owner())
        .is_err());
    a.apply(
        &ActionChange::Decline {
            reason: "Not my caseload; try the DN team lead".into(),
        },
        owner(),
    )
    .unwrap();
    assert_eq!(a.status, ActionStatus::Declined);
    assert!(a.status.is_open(), "a declined action is still outstanding");
    a.apply(
        &ActionChange::Reassign {
            owner: Uuid::from_u128(8),
        },
        Uuid::from_u128(1),
    )
    .unwrap();
    assert_eq!(
        (a.owner_id, a.status),
        (Uuid::from_u128(8), ActionStatus::Proposed)
    );
    assert!(a.reason.is_empty());
}

#[test]
fn overdue_starts_at_uk_midnight_in_summer_and_winter() {
    // Due Saturday 28 March 2026; the clocks go forward early on Sunday 29 March.
    let a = action(date(2026, 3, 28));
    let before = Utc.with_ymd_and_hms(2026, 3, 28, 23, 59, 59).unwrap(); // 23:59:59 GMT on the due date
    let after = Utc.with_ymd_and_hms(2026, 3, 29, 0, 0, 0).unwrap(); // 00:00 GMT, the next day
    assert!(!a.is_overdue(before));
    assert!(a.is_overdue(after));
    // In BST, UK midnight is 23:00 UTC the evening before.
    let summer = action(date(2026, 7, 14));
    assert!(!summer.is_overdue(Utc.with_ymd_and_hms(2026, 7, 14, 22, 59, 59).unwrap()));
    assert!(summer.is_overdue(Utc.with_ymd_and_hms(2026, 7, 14, 23, 0, 0).unwrap()));
    // The clocks go back at 01:00 UTC on Sunday 25 October 2026. Due the Saturday before: overdue
    // from 00:00 BST on the Sunday (23:00 UTC on Saturday). Due that Sunday: overdue from 00:00
    // GMT on Monday (00:00 UTC).
    let saturday = action(date(2026, 10, 24));
    assert!(!saturday.is_overdue(Utc.with_ymd_and_hms(2026, 10, 24, 22, 59, 59).unwrap()));
    assert!(saturday.is_overdue(Utc.with_ymd_and_hms(2026, 10, 24, 23, 0, 0).unwrap()));
    let sunday = action(date(2026, 10, 25));
    assert!(!sunday.is_overdue(Utc.with_ymd_and_hms(2026, 10, 25, 23, 59, 59).unwrap()));
    assert!(sunday.is_overdue(Utc.with_ymd_and_hms(2026, 10, 26, 0, 0, 0).unwrap()));
    // Finished actions are never overdue.
    let done = Action {
        status: ActionStatus::Done,
        completion_note: "ok".into(),
        ..action(date(2020, 1, 1))
    };
    assert!(!done.is_overdue(after));
}

#[test]
fn a_meeting_cannot_conclude_while_a_patient_item_lacks_an_outcome() {
    use crate::core::agenda::{AgendaItem, ItemKind};
    let item = |kind, outcome: Option<Outcome>| AgendaItem {
        team_id: Uuid::from_u128(1),
        meeting_id: Uuid::from_u128(2),
        kind,
        title: "Standing".into(),
        patient_id: Some(Uuid::from_u128(50)),
        reason: "r".into(),
        question: "q".into(),
        requested_by: Some(owner()),
        requested_on: date(2026, 11, 1),
        lead_professional_id: None,
        minutes: 10,
        position: 1,
        required_people: vec![],
        late: false,
        deferrals: 0,
        carried_from: None,
        status: if outcome.is_some() {
            ItemStatus::Discussed
        } else {
            ItemStatus::Open
        },
        outcome,
        summary_sent_on: None,
        restricted: false,
        restricted_to: vec![],
        content_withheld: false,
    };
    let (decided, none, deferred, open, standing) = (
        Uuid::from_u128(10),
        Uuid::from_u128(11),
        Uuid::from_u128(12),
        Uuid::from_u128(13),
        Uuid::from_u128(14),
    );
    let mut items = vec![
        (
            decided,
            item(
                ItemKind::PatientDiscussion,
                Some(Outcome::Decision {
                    text: "Care review".into(),
                }),
            ),
        ),
        (
            none,
            item(
                ItemKind::PatientDiscussion,
                Some(Outcome::NoAction {
                    reason: "Stable".into(),
                }),
            ),
        ),
        (
            deferred,
            item(
                ItemKind::PatientDiscussion,
                Some(Outcome::Deferred {
                    reason: "GP away".into(),
                }),
            ),
        ),
        (open, item(ItemKind::PatientDiscussion, None)),
        (standing, item(ItemKind::StandingItem, None)),
    ];
    let blockers = conclusion_blockers(&items, &[]);
    assert_eq!(
        blockers,
        vec![
            Blocker {
                item_id: decided,
                problem: "has a decision but no action"
            },
            Blocker {
                item_id: open,
                problem: "has no outcome yet"
            },
        ]
    );
    let act = Action {
        item_id: Some(decided),
        ..action(date(2026, 12, 1))
    };
    items.retain(|(id, _)| *id != open);
    assert!(conclusion_blockers(&items, &[(Uuid::from_u128(70), act)]).is_empty());
    // An item cannot be closed without an outcome at all.
    let closed_without = AgendaItem {
        status: ItemStatus::Discussed,
        outcome: None,
        summary_sent_on: None,
        ..item(ItemKind::PatientDiscussion, None)
    };
    assert_eq!(
        closed_without.validate().unwrap_err().field.as_deref(),
        Some("outcome")
    );
}

#[test]
fn a_deferred_item_carries_forward_and_a_decided_one_does_not() {
    use crate::core::agenda::{carry_forward, AgendaItem};
    use crate::core::meeting::{Meeting, MeetingStatus};
    let start = Utc.with_ymd_and_hms(2026, 11, 3, 13, 0, 0).unwrap();
    let meeting = |starts_at: DateTime<Utc>, status| Meeting {
        team_id: Uuid::from_u128(1),
        starts_at,
        ends_at: starts_at + chrono::Duration::minutes(90),
        place: String::new(),
        video_link: None,
        status,
    };
    let meetings = vec![
        (Uuid::from_u128(2), meeting(start, MeetingStatus::Closed)),
        (
            Uuid::from_u128(3),
            meeting(start + chrono::Duration::weeks(4), MeetingStatus::Planned),
        ),
    ];
    let base = AgendaItem {
        team_id: Uuid::from_u128(1),
        meeting_id: Uuid::from_u128(2),
        kind: crate::core::agenda::ItemKind::PatientDiscussion,
        title: String::new(),
        patient_id: Some(Uuid::from_u128(50)),
        reason: "r".into(),
        question: "q".into(),
        requested_by: Some(owner()),
        requested_on: date(2026, 10, 1),
        lead_professional_id: None,
        minutes: 10,
        position: 1,
        required_people: vec![],
        late: false,
        deferrals: 0,
        carried_from: None,
        status: ItemStatus::Discussed,
        outcome: Some(Outcome::Deferred {
            reason: "GP away".into(),
        }),
        summary_sent_on: None,
        restricted: false,
        restricted_to: vec![],
        content_withheld: false,
    };
    let decided = AgendaItem {
        outcome: Some(Outcome::NoAction {
            reason: "Stable".into(),
        }),
        ..base.clone()
    };
    let carried = carry_forward(
        &meetings,
        &[(Uuid::from_u128(20), base), (Uuid::from_u128(21), decided)],
        start,
    );
    assert_eq!(carried.len(), 1);
    assert_eq!(carried[0].1.carried_from, Some(Uuid::from_u128(20)));
    assert_eq!(
        (carried[0].1.deferrals, carried[0].1.outcome.clone()),
        (1, None)
    );
}

#[test]
fn the_filter_matches_every_typed_word_and_each_chosen_field() {
    let now = Utc.with_ymd_and_hms(2026, 12, 10, 9, 0, 0).unwrap();
    let overdue = ActionRow::new(
        Uuid::from_u128(1),
        action(date(2026, 12, 1)),
        "Sol Worker".into(),
        "Northshire Council".into(),
        "Ada Synthetic".into(),
    );
    let later = ActionRow::new(
        Uuid::from_u128(2),
        Action {
            description: "Book a respite stay".into(),
            owner_id: Uuid::from_u128(8),
            due: date(2027, 1, 5),
            ..action(date(2027, 1, 5))
        },
        "Grace Placeholder".into(),
        "Community Trust".into(),
        String::new(),
    );
    let f = |filter: ActionFilter| {
        [&overdue, &later]
            .iter()
            .filter(|r| filter.matches(r, now))
            .map(|r| r.id.as_u128())
            .collect::<Vec<_>>()
    };
    assert_eq!(f(ActionFilter::default()), vec![1, 2]);
    assert_eq!(
        f(ActionFilter {
            text: "FALLS sol".into(),
            ..Default::default()
        }),
        vec![1]
    );
    assert_eq!(
        f(ActionFilter {
            text: "ada council".into(),
            ..Default::default()
        }),
        vec![1]
    );
    assert_eq!(
        f(ActionFilter {
            text: "respite sol".into(),
            ..Default::default()
        }),
        Vec::<u128>::new()
    );
    assert_eq!(
        f(ActionFilter {
            overdue_only: true,
            ..Default::default()
        }),
        vec![1]
    );
    assert_eq!(
        f(ActionFilter {
            owner: Some(Uuid::from_u128(8)),
            ..Default::default()
        }),
        vec![2]
    );
    assert_eq!(
        f(ActionFilter {
            patient: Some(Uuid::from_u128(50)),
            ..Default::default()
        }),
        vec![1, 2]
    );
    assert_eq!(
        f(ActionFilter {
            status: Some(ActionStatus::Done),
            ..Default::default()
        }),
        Vec::<u128>::new()
    );
    let mut mine = vec![
        (later.id, later.action.clone()),
        (overdue.id, overdue.action.clone()),
    ];
    sort_for_owner(&mut mine, now);
    assert_eq!(mine[0].0, overdue.id, "overdue first");
}

#[test]
fn csv_has_a_header_uk_dates_and_rfc_4180_quoting() {
    let now = Utc.with_ymd_and_hms(2026, 12, 10, 9, 0, 0).unwrap();
    let tricky = Action {
        description: "Call \"Bea\", then write\nto GP".into(),
        ..action(date(2026, 12, 1))
    };
    let rows = vec![ActionRow::new(
        Uuid::from_u128(1),
        tricky,
        "Sol Worker".into(),
        "Council, Adult Care".into(),
        "=HYPERLINK(x)".into(),
    )];
    let csv = actions_csv(&rows, now);
    let expected = "Action,Owner,Organisation,Patient,Due,Status,Overdue,Completion note,Reason\r\n\
\"Call \"\"Bea\"\", then write\nto GP\",Sol Worker,\"Council, Adult Care\",'=HYPERLINK(x),01/12/2026,Proposed,Yes,,\r\n";
    assert_eq!(csv, expected);
}

#[derive(Debug, Clone)]
enum Step {
    Accept,
    Decline,
    Complete,
    Cancel,
    Reassign(u8),
    Reschedule(u8),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        Just(Step::Accept),
        Just(Step::Decline),
        Just(Step::Complete),
        Just(Step::Cancel),
        (0u8..4).prop_map(Step::Reassign),
        (0u8..60).prop_map(Step::Reschedule),
    ]
}

proptest! {
    #[test]
    fn legal_changes_keep_one_owner_and_a_history_entry_each(steps in prop::collection::vec(step(), 0..40)) {
        let people: Vec<Uuid> = (0..4).map(|i| Uuid::from_u128(100 + i)).collect();
        let mut a = Action { owner_id: people[0], ..action(date(2026, 12, 1)) };
        let mut history = Vec::new();
        let mut changes = 0;
        for s in steps {
            // The owner acts on their own action; anyone else may reassign, reschedule or cancel.
            let change = match s {
                Step::Accept => ActionChange::Accept,
                Step::Decline => ActionChange::Decline { reason: "not mine".into() },
                Step::Complete => ActionChange::Complete { note: "done it".into() },
                Step::Cancel => ActionChange::Cancel { reason: "no longer needed".into() },
                Step::Reassign(i) => ActionChange::Reassign { owner: people[i as usize] },
                Step::Reschedule(d) => ActionChange::Reschedule { due: date(2026, 12, 1) + chrono::Duration::days(i64::from(d)) },
            };
            let before = a.clone();
            match a.apply(&change, a.owner_id) {
                Ok(entry) => {
                    changes += 1;
                    history.push(entry);
                    prop_assert!(before.status.can_become(a.status));
                }
                Err(_) => prop_assert_eq!(&a, &before, "a refused change leaves the action as it was"),
            }
            prop_assert!(people.contains(&a.owner_id), "exactly one owner, always a person");
            prop_assert!(a.validate().is_ok());
            if a.status == ActionStatus::Done {
                prop_assert!(!a.completion_note.is_empty());
            }
        }
        prop_assert_eq!(history.len(), changes);
    }
}

#[test]
fn agreeing_and_changing_an_action_are_changes_staged_all_or_none() {
    use crate::core::sync::{Change, MutationOp};
    let at = Utc.with_ymd_and_hms(2026, 11, 30, 10, 0, 0).unwrap();
    let (id, first_line, second_line) = (
        Uuid::from_u128(500),
        Uuid::from_u128(501),
        Uuid::from_u128(502),
    );
    let agreed = agree(&action(date(2026, 12, 1)), id, first_line, owner(), at).unwrap();
    assert_eq!(agreed.len(), 2);
    assert_eq!(agreed[0], Change::put(id, &action(date(2026, 12, 1))));
    let Change::Put { fields, .. } = &agreed[1] else {
        panic!("{agreed:?}")
    };
    let line = ActionEvent::from_fields(fields).unwrap();
    assert_eq!((line.action_id, line.by, line.at), (id, owner(), at));
    assert_eq!(line.summary, "agreed the action");

    let mut replica = Replica::new(Uuid::from_u128(2));
    let none = |_: &mut Replica, _: usize| Ok(());
    replica.stage_all(agreed, Uuid::new_v4, none).unwrap();
    assert_eq!(replica.outbox.len(), 2);

    // Not on the device: refused with a plain reason.
    let missing = change(
        &replica,
        Uuid::from_u128(999),
        &ActionChange::Accept,
        second_line,
        ChangedBy::person(owner()),
        at,
    );
    assert!(missing.unwrap_err().message.contains("not on this device"));
    // Not allowed to this person: refused, nothing made.
    let not_theirs = change(
        &replica,
        id,
        &ActionChange::Decline {
            reason: "Away".into(),
        },
        second_line,
        ChangedBy::person(Uuid::from_u128(99)),
        at,
    );
    assert_eq!(
        not_theirs.unwrap_err().message,
        "Only the owner can decline an action"
    );

    let accepted = change(
        &replica,
        id,
        &ActionChange::Accept,
        second_line,
        ChangedBy::person(owner()),
        at,
    )
    .unwrap();
    let Change::Edit { before, after, .. } = &accepted[0] else {
        panic!("{accepted:?}")
    };
    assert_eq!(before["status"], "proposed");
    assert_eq!(after["status"], "accepted");
    assert_eq!(accepted[1].id(), second_line);

    // A check that refuses the whole set leaves the replica as it was.
    let before_outbox = replica.outbox.clone();
    let seq = replica.next_seq;
    let refused = replica.stage_all(accepted.clone(), Uuid::new_v4, |r: &mut Replica, queued| {
        assert_eq!(
            r.outbox.len(),
            queued + 2,
            "the check sees every change queued"
        );
        Err(crate::core::ValidationError::record("Not allowed"))
    });
    assert_eq!(refused.unwrap_err().message, "Not allowed");
    assert_eq!(
        (replica.outbox.clone(), replica.next_seq),
        (before_outbox.clone(), seq)
    );
    // A change that fails its own checks part-way leaves it as it was too.
    let mut bad = accepted.clone();
    bad.push(Change::put(
        Uuid::from_u128(503),
        &Action {
            description: String::new(),
            ..action(date(2026, 12, 1))
        },
    ));
    assert!(replica.stage_all(bad, Uuid::new_v4, none).is_err());
    assert_eq!(
        (replica.outbox.clone(), replica.next_seq),
        (before_outbox, seq)
    );

    replica.stage_all(accepted, Uuid::new_v4, none).unwrap();
    assert_eq!(
        replica.entity::<Action>(id).unwrap().status,
        ActionStatus::Accepted
    );
    assert!(matches!(&replica.outbox[2].op, MutationOp::Update { fields } if fields.len() == 1));
}

#[test]
fn a_coordinator_answers_for_an_owner_who_does_not_sign_in_and_the_history_says_so() {
    let coordinator = Uuid::from_u128(99);
    let mut a = action(date(2026, 12, 1));
    // Without saying whom they act for, a coordinator is refused as before.
    assert_eq!(
        a.apply(&ActionChange::Accept, coordinator)
            .unwrap_err()
            .message,
        "Only the owner can accept an action"
    );
    let for_gp = ChangedBy::for_owner(coordinator, "Dr Alex Test");
    let mut declined = a.clone();
    assert_eq!(
        declined
            .apply_as(
                &ActionChange::Decline {
                    reason: "Retired in March".into()
                },
                for_gp
            )
            .unwrap(),
        "declined for Dr Alex Test, who does not sign in: Retired in March"
    );
    assert_eq!(declined.status, ActionStatus::Declined);
    assert_eq!(
        a.apply_as(&ActionChange::Accept, for_gp).unwrap(),
        "accepted the action for Dr Alex Test, who does not sign in"
    );
    assert_eq!(a.status, ActionStatus::Accepted);
    assert_eq!(a.owner_id, owner(), "still the owner's action");
    // Then it can be completed: the step that was never reachable for such owners.
    assert_eq!(
        a.apply_as(
            &ActionChange::Complete {
                note: "Referral faxed 3 Dec".into(),
            },
            for_gp,
        )
        .unwrap(),
        "marked it done for Dr Alex Test, who does not sign in: Referral faxed 3 Dec"
    );
    assert_eq!(a.status, ActionStatus::Done);
    // The owner answering for themselves is never written as "for" anyone.
    let mut own = action(date(2026, 12, 1));
    assert_eq!(
        own.apply_as(&ActionChange::Accept, ChangedBy::for_owner(owner(), "x"))
            .unwrap(),
        "accepted the action"
    );
}

#[test]
fn due_dates_already_gone_are_refused_when_agreed_or_moved_and_today_is_accepted() {
    // 00:30 on 1 Dec in London (GMT): today is 1 Dec, 30 Nov has passed.
    let at = Utc.with_ymd_and_hms(2026, 12, 1, 0, 30, 0).unwrap();
    let id = Uuid::from_u128(500);
    let past = agree(
        &action(date(2026, 11, 30)),
        id,
        Uuid::from_u128(501),
        owner(),
        at,
    )
    .unwrap_err();
    assert_eq!(past.field.as_deref(), Some("due"));
    assert_eq!(
        past.message,
        "The due date, 30 Nov 2026, has passed: choose today (1 Dec 2026) or a later day"
    );
    // In summer the UK day starts an hour before UTC's: 23:30 UTC on 30 Jun is 1 Jul in London.
    let summer = Utc.with_ymd_and_hms(2027, 6, 30, 23, 30, 0).unwrap();
    assert!(check_due_not_past(date(2027, 6, 30), summer).is_err());
    assert!(check_due_not_past(date(2027, 7, 1), summer).is_ok());

    let agreed = agree(
        &action(date(2026, 12, 1)),
        id,
        Uuid::from_u128(501),
        owner(),
        at,
    )
    .unwrap();
    let mut replica = Replica::new(Uuid::from_u128(2));
    replica
        .stage_all(agreed, Uuid::new_v4, |_: &mut Replica, _| Ok(()))
        .unwrap();
    let moved_back = change(
        &replica,
        id,
        &ActionChange::Reschedule {
            due: date(2026, 11, 1),
        },
        Uuid::from_u128(502),
        ChangedBy::person(owner()),
        at,
    );
    assert_eq!(moved_back.unwrap_err().field.as_deref(), Some("due"));
    assert!(change(
        &replica,
        id,
        &ActionChange::Reschedule {
            due: date(2026, 12, 24),
        },
        Uuid::from_u128(502),
        ChangedBy::person(owner()),
        at,
    )
    .is_ok());
    // An invalid action is refused by the command too, not only by the form.
    let blank = Action {
        description: " ".into(),
        ..action(date(2026, 12, 1))
    };
    assert!(agree(&blank, id, Uuid::from_u128(501), owner(), at).is_err());
}
