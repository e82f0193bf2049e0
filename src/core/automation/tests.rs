//! Carry-forward, actions reviews and series meetings, staged on a replica.

use uuid::Uuid;

use crate::core::sync::tests::now;
use crate::core::sync::{MutationOp, Replica};

#[test]
fn the_replica_carries_undiscussed_items_forward_once_with_their_briefs() {
    use crate::core::agenda::AgendaItem;
    use crate::core::brief::{brief_id_for, Brief, BriefStatus};
    use crate::core::meeting::{Meeting, MeetingStatus};
    use chrono::Duration;

    let team = Uuid::from_u128(1);
    let mut replica = Replica::new(Uuid::from_u128(5));
    let (past, next) = (Uuid::from_u128(10), Uuid::from_u128(11));
    let start = now() - Duration::days(7);
    for (id, starts_at) in [(past, start), (next, start + Duration::days(28))] {
        let m = Meeting {
            team_id: team,
            starts_at,
            ends_at: starts_at + Duration::minutes(90),
            place: String::new(),
            video_link: None,
            status: MeetingStatus::Planned,
        };
        replica.stage_entity(Uuid::new_v4(), id, &m).unwrap();
    }
    let item_id = Uuid::from_u128(20);
    let item = AgendaItem {
        patient_id: Some(Uuid::from_u128(30)),
        reason: "Falls".into(),
        question: "Care review?".into(),
        requested_by: Some(Uuid::from_u128(40)),
        requested_on: chrono::NaiveDate::from_ymd_opt(2026, 10, 14).unwrap(),
        minutes: 15,
        position: 1024,
        ..AgendaItem::example(team, past)
    };
    replica
        .stage_entity(Uuid::new_v4(), item_id, &item)
        .unwrap();
    let brief = Brief {
        team_id: team,
        item_id,
        author_id: Uuid::from_u128(40),
        situation: "Lives alone".into(),
        request: "Advice".into(),
        consent_to_share: Some(true),
        status: BriefStatus::Ready,
        ..Brief::default()
    };
    replica
        .stage_entity(Uuid::new_v4(), brief_id_for(item_id), &brief)
        .unwrap();

    assert_eq!(replica.stage_carry_forward(now(), Uuid::new_v4), 1);
    assert_eq!(
        replica.stage_carry_forward(now(), Uuid::new_v4),
        0,
        "only once"
    );
    let carried = replica
        .all::<AgendaItem>()
        .into_iter()
        .find(|(_, i)| i.meeting_id == next)
        .unwrap();
    assert_eq!(carried.1.deferrals, 1);
    let copy = replica
        .view(brief_id_for(carried.0.id))
        .unwrap()
        .typed::<Brief>()
        .unwrap();
    assert_eq!(
        copy.status,
        BriefStatus::Draft,
        "the copied brief must be checked again"
    );
    assert_eq!(copy.situation, "Lives alone");
}

#[test]
fn open_actions_put_a_review_item_on_the_next_meeting_once() {
    use crate::core::action::{Action, ActionStatus};
    use crate::core::agenda::{actions_review_id, AgendaItem, ItemKind};
    use crate::core::meeting::{Meeting, MeetingStatus};
    use chrono::Duration;

    let team = Uuid::from_u128(1);
    let mut replica = Replica::new(Uuid::from_u128(5));
    let next = Uuid::from_u128(11);
    let starts_at = now() + Duration::days(14);
    let m = Meeting {
        team_id: team,
        starts_at,
        ends_at: starts_at + Duration::minutes(90),
        place: String::new(),
        video_link: None,
        status: MeetingStatus::Planned,
    };
    replica.stage_entity(Uuid::new_v4(), next, &m).unwrap();
    assert_eq!(
        replica.stage_actions_reviews(now(), Uuid::new_v4),
        0,
        "no open actions, no review"
    );
    let action = Action {
        team_id: team,
        description: "Refer to falls service".into(),
        owner_id: Uuid::from_u128(7),
        due: chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
        patient_id: None,
        meeting_id: None,
        item_id: None,
        status: ActionStatus::Accepted,
        completion_note: String::new(),
        reason: String::new(),
    };
    replica
        .stage_entity(Uuid::new_v4(), Uuid::from_u128(30), &action)
        .unwrap();
    assert_eq!(replica.stage_actions_reviews(now(), Uuid::new_v4), 1);
    assert_eq!(
        replica.stage_actions_reviews(now(), Uuid::new_v4),
        0,
        "only once"
    );
    let review = replica
        .view(actions_review_id(next))
        .unwrap()
        .typed::<AgendaItem>()
        .unwrap();
    assert_eq!(
        (review.kind, review.meeting_id),
        (ItemKind::ActionsReview, next)
    );
}

#[test]
fn a_series_keeps_its_next_weeks_of_meetings_in_the_calendar_once() {
    use crate::core::meeting::Meeting;
    use crate::core::schedule::Recurrence;
    use crate::core::series::Series;

    let mut replica = Replica::new(Uuid::from_u128(5));
    let series_id = Uuid::from_u128(77);
    // Weekly on Tuesdays at 13:00 from the first Tuesday after `now()` (Tue 3 Nov 2026, 09:00).
    let series = Series {
        team_id: Uuid::from_u128(1),
        rule: Recurrence::Weekly {
            interval: 1,
            weekday: 1,
        },
        first_date: chrono::NaiveDate::from_ymd_opt(2026, 11, 3).unwrap(),
        starts: chrono::NaiveTime::from_hms_opt(13, 0, 0).unwrap(),
        minutes: 90,
        until: None,
        exceptions: vec![crate::core::series::SeriesException {
            date: chrono::NaiveDate::from_ymd_opt(2026, 11, 17).unwrap(),
            moved_to: None,
        }],
        place: "Room 2".into(),
        video_link: None,
        sequence: 0,
        cancelled: false,
    };
    replica
        .stage_entity(Uuid::new_v4(), series_id, &series)
        .unwrap();
    // 3 Nov (13:00, still ahead), 10, 24 Nov and 1 Dec: 17 Nov is skipped; four weeks ahead.
    assert_eq!(replica.stage_series_meetings(now(), 4, Uuid::new_v4), 4);
    assert_eq!(
        replica.stage_series_meetings(now(), 4, Uuid::new_v4),
        0,
        "only once"
    );
    let first = replica
        .view(Series::meeting_id(series_id, series.first_date))
        .unwrap()
        .typed::<Meeting>()
        .unwrap();
    assert_eq!(
        crate::core::uk_time::format_uk(first.starts_at),
        "Tue 3 Nov 2026, 13:00"
    );
    assert!(replica
        .view(Series::meeting_id(
            series_id,
            chrono::NaiveDate::from_ymd_opt(2026, 11, 17).unwrap()
        ))
        .is_none());

    // Cancelling the series queues the series edit (sequence bumped) and cancels its four
    // meetings, each as an edit of the status alone.
    let queued = replica.outbox.len();
    let cancelled = Series {
        cancelled: true,
        ..series.clone()
    };
    assert_eq!(
        replica
            .stage_series_change(series_id, cancelled, now(), Uuid::new_v4)
            .unwrap(),
        4
    );
    assert_eq!(replica.outbox.len(), queued + 5);
    let edited = replica.view(series_id).unwrap().typed::<Series>().unwrap();
    assert!(edited.cancelled);
    assert_eq!(edited.sequence, 1);
    for m in &replica.outbox[queued + 1..] {
        match &m.op {
            MutationOp::Update { fields } => {
                assert_eq!(fields.keys().collect::<Vec<_>>(), vec!["status"])
            }
            other => panic!("expected an update, got {other:?}"),
        }
    }
    assert_eq!(
        replica.stage_series_meetings(now(), 4, Uuid::new_v4),
        0,
        "a cancelled series plans nothing more"
    );
    // A series that does not validate is refused and nothing is queued.
    let before = replica.outbox.len();
    let bad = Series {
        minutes: 1,
        ..edited.clone()
    };
    assert!(replica
        .stage_series_change(series_id, bad, now(), Uuid::new_v4)
        .is_err());
    assert_eq!(replica.outbox.len(), before);
}
