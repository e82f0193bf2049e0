//! Agenda timing, reordering, cut-offs and carry-forward.

use chrono::TimeZone;
use proptest::prelude::*;

use super::*;

fn at(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, h, m, 0).unwrap()
}

fn item(meeting: Uuid, kind: ItemKind, minutes: u32, position: i64) -> AgendaItem {
    AgendaItem {
        kind,
        title: "Safeguarding updates".into(),
        patient_id: Some(Uuid::from_u128(50)),
        reason: "Frequent falls".into(),
        question: "Is a care package review needed?".into(),
        requested_by: Some(Uuid::from_u128(60)),
        requested_on: NaiveDate::from_ymd_opt(2026, 10, 14).unwrap(),
        minutes,
        position,
        ..AgendaItem::example(Uuid::from_u128(1), meeting)
    }
}

fn meeting(starts_at: DateTime<Utc>, minutes: i64) -> Meeting {
    Meeting {
        team_id: Uuid::from_u128(1),
        starts_at,
        ends_at: starts_at + Duration::minutes(minutes),
        place: String::new(),
        video_link: None,
        status: MeetingStatus::Planned,
    }
}

#[test]
fn slots_follow_order_and_minutes_and_information_items_take_no_time() {
    let m = Uuid::from_u128(9);
    let agenda = Agenda::new(vec![
        (
            Uuid::from_u128(3),
            item(m, ItemKind::PatientDiscussion, 20, 3000),
        ),
        (
            Uuid::from_u128(1),
            item(m, ItemKind::StandingItem, 10, 1000),
        ),
        (
            Uuid::from_u128(2),
            item(m, ItemKind::ForInformation, 15, 2000),
        ),
    ]);
    let slots = agenda.schedule(at(13, 0));
    let ids: Vec<u128> = slots.iter().map(|s| s.id.as_u128()).collect();
    assert_eq!(ids, vec![1, 2, 3]);
    assert_eq!(
        (slots[0].starts_at, slots[0].ends_at),
        (at(13, 0), at(13, 10))
    );
    assert_eq!(
        (slots[1].starts_at, slots[1].ends_at),
        (at(13, 10), at(13, 10))
    );
    assert_eq!(
        (slots[2].starts_at, slots[2].ends_at),
        (at(13, 10), at(13, 30))
    );
    assert_eq!(agenda.total_minutes(), 30);
    assert_eq!(agenda.overrun_minutes(&meeting(at(13, 0), 30)), 0);
    assert_eq!(agenda.overrun_minutes(&meeting(at(13, 0), 25)), 5);
}

#[test]
fn item_rules_say_what_is_missing() {
    let m = Uuid::from_u128(9);
    let mut patient = item(m, ItemKind::PatientDiscussion, 15, 1);
    assert!(patient.validate().is_ok());
    patient.question = " ".into();
    assert_eq!(
        patient.validate().unwrap_err().message,
        "Enter the question for the MDT"
    );
    let mut patient = item(m, ItemKind::PatientDiscussion, 15, 1);
    patient.patient_id = None;
    assert_eq!(
        patient.validate().unwrap_err().field.as_deref(),
        Some("patient_id")
    );
    let mut standing = item(m, ItemKind::StandingItem, 10, 1);
    standing.title.clear();
    assert_eq!(
        standing.validate().unwrap_err().message,
        "Enter the item's title"
    );
    let long = item(m, ItemKind::StandingItem, 121, 1);
    assert!(long.validate().is_err());
}

#[test]
fn the_agenda_cut_off_lets_only_the_coordinator_add_late_items() {
    let coordinator = Uuid::from_u128(7);
    let team = Team {
        name: "Riverside MDT".into(),
        coordinator_id: coordinator,
        member_ids: vec![Uuid::from_u128(8)],
        observer_ids: vec![],
        required_roles: vec![],
        default_minutes: 90,
        place: String::new(),
        video_link: None,
        agenda_cutoff_hours: 48,
        brief_cutoff_hours: 24,
        archived: false,
        observers_see_measures: false,
        email_people_without_accounts: false,
    };
    let start = at(13, 0);
    let before = start - Duration::hours(49);
    let after = start - Duration::hours(47);
    assert_eq!(
        team.may_add_item(start, Uuid::from_u128(8), before),
        Ok(false)
    );
    assert!(team
        .may_add_item(start, Uuid::from_u128(8), after)
        .unwrap_err()
        .contains("Ask the coordinator"));
    assert_eq!(team.may_add_item(start, coordinator, after), Ok(true));
    assert_eq!(team.briefs_due_at(start), start - Duration::hours(24));
}

#[test]
fn an_undiscussed_item_is_carried_to_the_next_meeting_exactly_once() {
    let (first, second, third) = (
        Uuid::from_u128(101),
        Uuid::from_u128(102),
        Uuid::from_u128(103),
    );
    let meetings = vec![
        (first, meeting(at(13, 0), 90)),
        (third, meeting(at(13, 0) + Duration::weeks(8), 90)),
        (second, meeting(at(13, 0) + Duration::weeks(4), 90)),
    ];
    let waiting = Uuid::from_u128(201);
    let discussed = Uuid::from_u128(202);
    let standing = Uuid::from_u128(203);
    let mut done = item(first, ItemKind::PatientDiscussion, 15, 2000);
    done.status = ItemStatus::Discussed;
    let mut items = vec![
        (waiting, item(first, ItemKind::PatientDiscussion, 15, 1000)),
        (discussed, done),
        (standing, item(first, ItemKind::StandingItem, 10, 3000)),
        (
            Uuid::from_u128(204),
            item(second, ItemKind::PatientDiscussion, 10, 1000),
        ),
    ];

    // Before the first meeting ends nothing moves.
    assert!(carry_forward(&meetings, &items, at(14, 0)).is_empty());

    let after_first = at(15, 0);
    let carried = carry_forward(&meetings, &items, after_first);
    assert_eq!(carried.len(), 1, "only the undiscussed patient item moves");
    let (id, copy) = &carried[0];
    assert_eq!(*id, carried_id(waiting));
    assert_eq!(
        copy.meeting_id, second,
        "to the next meeting, not a later one"
    );
    assert_eq!(copy.deferrals, 1);
    assert_eq!(
        copy.requested_on,
        NaiveDate::from_ymd_opt(2026, 10, 14).unwrap(),
        "keeps the first request date"
    );
    assert_eq!(copy.carried_from, Some(waiting));
    assert!(copy.position < 1000, "carried items go ahead of new ones");

    // Another device running the same rule makes the same record; running it again adds none.
    assert_eq!(carry_forward(&meetings, &items, after_first), carried);
    items.extend(carried);
    assert!(carry_forward(&meetings, &items, after_first).is_empty());

    // Missed again at the second meeting: carried to the third with two deferrals, and flagged.
    let after_second = at(15, 0) + Duration::weeks(4);
    let again = carry_forward(&meetings, &items, after_second);
    let twice = again
        .iter()
        .find(|(_, i)| i.carried_from == Some(carried_id(waiting)))
        .unwrap();
    assert_eq!(twice.1.meeting_id, third);
    assert_eq!(twice.1.deferrals, 2);
    assert!(twice.1.needs_coordinator_attention());
}

#[test]
fn a_cancelled_meeting_is_skipped_and_a_closed_one_carries_at_once() {
    let (first, cancelled, next) = (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3));
    let mut closed = meeting(at(13, 0), 90);
    closed.status = MeetingStatus::Closed;
    let mut off = meeting(at(13, 0) + Duration::weeks(1), 90);
    off.status = MeetingStatus::Cancelled;
    let meetings = vec![
        (first, closed),
        (cancelled, off),
        (next, meeting(at(13, 0) + Duration::weeks(2), 90)),
    ];
    let items = vec![(
        Uuid::from_u128(9),
        item(first, ItemKind::PatientDiscussion, 15, 1),
    )];
    let carried = carry_forward(&meetings, &items, at(13, 30));
    assert_eq!(
        carried.len(),
        1,
        "closing the meeting carries items even before its end time"
    );
    assert_eq!(carried[0].1.meeting_id, next);
}

proptest! {
    #[test]
    fn moving_items_keeps_every_item_once_in_the_requested_order(
        positions in prop::collection::vec(-5i64..5, 1..12),
        moves in prop::collection::vec((0usize..12, 0usize..12), 0..40),
    ) {
        let m = Uuid::from_u128(9);
        // Crowded positions force the renumbering path as well as the midpoint path.
        let items: Vec<_> = positions
            .iter()
            .enumerate()
            .map(|(i, p)| (Uuid::from_u128(i as u128 + 1), item(m, ItemKind::StandingItem, 5, *p)))
            .collect();
        let mut agenda = Agenda::new(items.clone());
        let mut expected: Vec<Uuid> = agenda.items().iter().map(|(id, _)| *id).collect();
        let mut stored: std::collections::HashMap<Uuid, AgendaItem> = items.into_iter().collect();
        for (from, to) in moves {
            let from = from % expected.len();
            let id = expected[from];
            let moved = expected.remove(from);
            let to = to.min(expected.len());
            expected.insert(to, moved);
            // Only the returned positions are written, as a device would.
            for (changed, position) in agenda.move_item(id, to) {
                stored.get_mut(&changed).unwrap().position = position;
            }
            let rebuilt = Agenda::new(stored.clone());
            let order: Vec<Uuid> = rebuilt.items().iter().map(|(id, _)| *id).collect();
            prop_assert_eq!(&order, &expected);
        }
    }
}
