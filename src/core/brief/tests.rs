//! Brief rules, the draft/ready cycle and the readiness panel.

use chrono::TimeZone;
use serde_json::json;

use super::*;

fn brief() -> Brief {
    Brief {
        team_id: Uuid::from_u128(1),
        item_id: Uuid::from_u128(2),
        author_id: Uuid::from_u128(3),
        situation: "Two falls this month; lives alone.".into(),
        request: "Advice on a care package review.".into(),
        consent_to_share: Some(true),
        ..Brief::default()
    }
}

#[test]
fn ready_needs_situation_request_and_consent() {
    let mut b = Brief {
        status: BriefStatus::Ready,
        ..brief()
    };
    assert!(b.validate().is_ok());
    b.consent_to_share = None;
    assert_eq!(
        b.validate().unwrap_err().field.as_deref(),
        Some("consent_to_share")
    );
    let empty = Brief {
        status: BriefStatus::Ready,
        team_id: b.team_id,
        item_id: b.item_id,
        author_id: b.author_id,
        ..Brief::default()
    };
    let fields: Vec<_> = empty
        .missing_for_ready()
        .into_iter()
        .filter_map(|e| e.field)
        .collect();
    assert_eq!(fields, vec!["situation", "request", "consent_to_share"]);
    // A draft may be incomplete.
    assert!(Brief {
        status: BriefStatus::Draft,
        ..empty
    }
    .validate()
    .is_ok());
}

#[test]
fn editing_a_ready_brief_returns_it_to_draft_unless_the_edit_says_ready() {
    let mut fields = Brief {
        status: BriefStatus::Ready,
        ..brief()
    }
    .to_fields();
    assert!(!return_to_draft_if_edited(
        &mut fields,
        &["author_id".to_string()]
    ));
    assert_eq!(fields["status"], json!("ready"));
    assert!(!return_to_draft_if_edited(
        &mut fields,
        &["situation".to_string(), "status".to_string()]
    ));
    assert_eq!(fields["status"], json!("ready"));
    assert!(return_to_draft_if_edited(
        &mut fields,
        &["risks".to_string()]
    ));
    assert_eq!(fields["status"], json!("draft"));
}

#[test]
fn ids_are_the_same_on_every_device() {
    let (b, p) = (Uuid::from_u128(5), Uuid::from_u128(6));
    assert_eq!(ReadReceipt::id_for(b, p), ReadReceipt::id_for(b, p));
    assert_ne!(ReadReceipt::id_for(b, p), ReadReceipt::id_for(p, b));
    assert_eq!(brief_id_for(b), brief_id_for(b));
    assert_ne!(brief_id_for(b), b);
}

#[test]
fn readiness_shows_ready_missing_and_who_has_read_which_version() {
    let meeting = Uuid::from_u128(9);
    let item = |n: u128, lead: u128| {
        (
            Uuid::from_u128(n),
            AgendaItem {
                patient_id: Some(Uuid::from_u128(100 + n)),
                reason: "r".into(),
                question: "q".into(),
                requested_by: Some(Uuid::from_u128(70)),
                lead_professional_id: Some(Uuid::from_u128(lead)),
                minutes: 10,
                position: n as i64,
                ..AgendaItem::example(Uuid::from_u128(1), meeting)
            },
        )
    };
    let items = vec![item(11, 31), item(12, 32), item(13, 33)];
    let ready = Brief {
        item_id: Uuid::from_u128(11),
        author_id: Uuid::from_u128(31),
        status: BriefStatus::Ready,
        ..brief()
    };
    let draft = Brief {
        item_id: Uuid::from_u128(12),
        author_id: Uuid::from_u128(32),
        ..brief()
    };
    let briefs = vec![
        (Uuid::from_u128(41), 4, ready),
        (Uuid::from_u128(42), 2, draft),
    ];
    let reader = Uuid::from_u128(50);
    let late_reader = Uuid::from_u128(51);
    let at = Utc.with_ymd_and_hms(2026, 11, 30, 9, 0, 0).unwrap();
    let receipts = vec![
        ReadReceipt {
            team_id: Uuid::from_u128(1),
            brief_id: Uuid::from_u128(41),
            person_id: reader,
            brief_version: 4,
            read_at: at,
        },
        ReadReceipt {
            team_id: Uuid::from_u128(1),
            brief_id: Uuid::from_u128(41),
            person_id: late_reader,
            brief_version: 3,
            read_at: at,
        },
    ];
    let panel = Readiness::of(&items, &briefs, &receipts, &[reader, late_reader]);
    assert_eq!(panel.ready(), 1);
    assert_eq!(panel.rows[0].brief, BriefState::Ready { version: 4 });
    assert_eq!(panel.rows[1].brief, BriefState::Draft);
    assert_eq!(panel.rows[2].brief, BriefState::Missing);
    assert_eq!(
        panel.rows[2].author,
        Some(Uuid::from_u128(33)),
        "the lead is asked to write a missing brief"
    );
    assert_eq!(panel.rows[0].readers[&reader], Some(4));
    assert_eq!(
        panel.rows[0].not_read(),
        vec![late_reader],
        "read an older text: must read again"
    );
    let authors = panel.authors_to_act();
    assert_eq!(authors.get(&Some(Uuid::from_u128(32))), Some(&1));
    assert_eq!(authors.get(&Some(Uuid::from_u128(33))), Some(&1));
    assert_eq!(panel.readers_to_act().get(&late_reader), Some(&1));
}

#[test]
fn reading_a_brief_makes_one_receipt_per_version_and_none_for_an_unsent_brief() {
    use crate::core::sync::{Change, SyncRecord};
    let at = Utc.with_ymd_and_hms(2026, 11, 30, 9, 0, 0).unwrap();
    let (brief_id, team, reader) = (Uuid::from_u128(40), Uuid::from_u128(1), Uuid::from_u128(9));
    let on_server = |version: u64| SyncRecord {
        entity: EntityKind::Brief,
        id: brief_id,
        version,
        updated_at: at,
        updated_by: "Synthetic Author".into(),
        deleted: false,
        fields: brief().to_fields(),
        field_stamps: Default::default(),
        conflicts: Vec::new(),
    };
    let mut replica = Replica::new(Uuid::from_u128(2));
    let none = |_: &mut Replica, _: usize| Ok(());

    // Written on this device and not yet on the server: nothing to read a version of.
    replica
        .stage_all(vec![Change::put(brief_id, &brief())], Uuid::new_v4, none)
        .unwrap();
    assert_eq!(
        ReadReceipt::reading(&replica, brief_id, team, reader, at),
        None
    );
    replica.outbox.clear();
    assert_eq!(
        ReadReceipt::reading(&replica, Uuid::from_u128(41), team, reader, at),
        None
    );

    replica.hold(on_server(3));
    let read = ReadReceipt::reading(&replica, brief_id, team, reader, at).unwrap();
    let Change::Put { id, fields, .. } = &read else {
        panic!("{read:?}")
    };
    assert_eq!(*id, ReadReceipt::id_for(brief_id, reader));
    let receipt = ReadReceipt::from_fields(fields).unwrap();
    assert_eq!(
        (receipt.brief_version, receipt.person_id, receipt.read_at),
        (3, reader, at)
    );

    // Read once: opening it again sends nothing; a new version is read again.
    replica.stage_all(vec![read], Uuid::new_v4, none).unwrap();
    assert_eq!(
        ReadReceipt::reading(&replica, brief_id, team, reader, at),
        None
    );
    replica.hold(on_server(4));
    let again = ReadReceipt::reading(&replica, brief_id, team, reader, at).unwrap();
    let Change::Put { fields, .. } = &again else {
        panic!("{again:?}")
    };
    assert_eq!(ReadReceipt::from_fields(fields).unwrap().brief_version, 4);
}
