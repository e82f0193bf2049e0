//! Which records stay on disk: each team's current and next meeting, open actions, unsent work.

use chrono::TimeZone;
use serde_json::{json, Value};

use super::*;
use crate::core::sync::{PullResponse, SyncRecord};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 0).unwrap()
}

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn record(kind: EntityKind, n: u128, fields: Value) -> SyncRecord {
    SyncRecord {
        entity: kind,
        id: id(n),
        version: 1,
        updated_at: now(),
        updated_by: "Tester".into(),
        deleted: false,
        fields: fields.as_object().unwrap().clone(),
        field_stamps: Default::default(),
        conflicts: vec![],
    }
}

const TEAM: u128 = 1;

fn meeting(n: u128, starts_in_hours: i64, status: &str) -> SyncRecord {
    let starts = now() + Duration::hours(starts_in_hours);
    record(
        EntityKind::Meeting,
        n,
        json!({"team_id": id(TEAM), "starts_at": starts, "ends_at": starts + Duration::minutes(90), "place": "Room 2", "status": status}),
    )
}

fn patient(n: u128, nhs: &str) -> SyncRecord {
    record(
        EntityKind::Patient,
        n,
        json!({"team_id": id(TEAM), "nhs_number": nhs, "name": format!("Patient {n}"), "date_of_birth": "1940-01-01"}),
    )
}

fn item(n: u128, meeting: u128, patient: u128) -> SyncRecord {
    record(
        EntityKind::AgendaItem,
        n,
        json!({"team_id": id(TEAM), "meeting_id": id(meeting), "kind": "patient_discussion", "patient_id": id(patient),
               "reason": "Falls", "question": "What next?", "requested_by": id(7), "requested_on": "2026-11-01", "minutes": 10, "position": 1}),
    )
}

fn brief(n: u128, item: u128) -> SyncRecord {
    record(
        EntityKind::Brief,
        n,
        json!({"team_id": id(TEAM), "item_id": id(item), "author_id": id(7), "situation": "At home"}),
    )
}

fn action(n: u128, patient: u128, status: &str) -> SyncRecord {
    let note = if status == "done" {
        "Referral sent"
    } else {
        ""
    };
    record(
        EntityKind::Action,
        n,
        json!({"team_id": id(TEAM), "description": "Refer to falls clinic", "owner_id": id(7), "due": "2026-12-01",
               "patient_id": id(patient), "status": status, "completion_note": note}),
    )
}

#[test]
fn only_the_current_and_next_meetings_and_open_actions_stay_on_disk() {
    let mut replica = Replica::new(id(99));
    let records = vec![
        record(
            EntityKind::Team,
            TEAM,
            json!({"name": "Riverside MDT", "coordinator_id": id(7), "member_ids": [], "default_minutes": 90}),
        ),
        meeting(10, -72, "closed"),      // three days ago: past
        meeting(11, -3, "planned"),      // ended an hour and a half ago: current
        meeting(12, 20, "cancelled"),    // cancelled: skipped
        meeting(13, 7 * 24, "planned"),  // next
        meeting(14, 14 * 24, "planned"), // after next
        patient(20, "9434765919"),
        patient(21, "4010232137"),
        patient(22, "9990000018"),
        patient(23, "9990000026"),
        patient(24, "9990000034"),
        item(30, 10, 20), // past meeting only
        item(31, 11, 21), // current
        item(32, 13, 21), // next (same patient)
        item(33, 14, 22), // after next
        brief(40, 31),
        brief(41, 33),
        record(
            EntityKind::ReadReceipt,
            50,
            json!({"team_id": id(TEAM), "brief_id": id(40), "person_id": id(7), "brief_version": 1, "read_at": now()}),
        ),
        record(
            EntityKind::ReadReceipt,
            51,
            json!({"team_id": id(TEAM), "brief_id": id(41), "person_id": id(7), "brief_version": 1, "read_at": now()}),
        ),
        action(60, 23, "accepted"),
        action(61, 24, "done"),
        record(
            EntityKind::ActionEvent,
            70,
            json!({"team_id": id(TEAM), "action_id": id(60), "by": id(7), "at": now(), "summary": "accepted the action"}),
        ),
        record(
            EntityKind::ActionEvent,
            71,
            json!({"team_id": id(TEAM), "action_id": id(61), "by": id(7), "at": now(), "summary": "marked it done"}),
        ),
    ];
    let all: Vec<Uuid> = records.iter().map(|r| r.id).collect();
    replica.apply_pull(PullResponse {
        records,
        cursor: 30,
        more: false,
    });
    // Every record above is valid: the test would prove nothing if one failed to load.
    for r in replica.confirmed().values() {
        if let Err(e) = r.entity.validate_fields(&r.fields) {
            panic!("{:?} {} is invalid: {}", r.entity, r.id, e.message);
        }
    }

    assert_eq!(offline_meetings(&replica, now()), [id(11), id(13)].into());
    let keep = records_to_keep(&replica, now());
    let kept = |n: u128| keep.contains(&id(n));
    // Meetings and the team are kept whatever their date; they hold no patient data.
    for n in [TEAM, 10, 11, 12, 13, 14] {
        assert!(kept(n), "{n} kept");
    }
    // The current and next meetings' items, briefs, receipts and patients.
    for n in [31, 32, 40, 50, 21] {
        assert!(kept(n), "{n} kept");
    }
    // The open action, its history and its patient; not the finished one.
    for n in [60, 70, 23] {
        assert!(kept(n), "{n} kept");
    }
    // Past and later meetings' patient data stays off the disk.
    for n in [30, 20, 33, 41, 51, 22, 61, 71, 24] {
        assert!(!kept(n), "{n} not kept");
    }
    assert!(keep.iter().all(|k| all.contains(k)));

    // An unsent edit of a later meeting's brief is kept, so it is not hidden after a reload.
    replica
        .stage_update(
            id(1000),
            EntityKind::Brief,
            id(41),
            json!({"situation": "Back home"})
                .as_object()
                .unwrap()
                .clone(),
        )
        .unwrap();
    assert!(records_to_keep(&replica, now()).contains(&id(41)));
}
