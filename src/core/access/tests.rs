//! Who sees a restricted item's content, what the others are given, and who may change it.

use chrono::{NaiveDate, TimeZone, Utc};
use proptest::prelude::*;

use super::*;
use crate::core::agenda::{ItemKind, ItemStatus, Outcome};
use crate::core::record::Entity;
use crate::core::sync::{FieldConflict, FieldStamp};

const COORDINATOR: Uuid = Uuid::from_u128(1);
const LEAD: Uuid = Uuid::from_u128(2);
const REQUESTER: Uuid = Uuid::from_u128(3);
const NAMED: Uuid = Uuid::from_u128(4);
const OTHER_MEMBER: Uuid = Uuid::from_u128(5);
const OBSERVER: Uuid = Uuid::from_u128(6);
const PATIENT: Uuid = Uuid::from_u128(0x5a71_e400);

fn team() -> Team {
    Team {
        name: "Riverside MDT".into(),
        coordinator_id: COORDINATOR,
        member_ids: vec![LEAD, REQUESTER, NAMED, OTHER_MEMBER],
        observer_ids: vec![OBSERVER],
        required_roles: vec![],
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

fn item(restricted: bool) -> AgendaItem {
    AgendaItem {
        team_id: Uuid::from_u128(100),
        meeting_id: Uuid::from_u128(101),
        kind: ItemKind::PatientDiscussion,
        title: String::new(),
        patient_id: Some(PATIENT),
        reason: "Bruising noticed at a home visit".into(),
        question: "Should a safeguarding referral be made?".into(),
        requested_by: Some(REQUESTER),
        requested_on: NaiveDate::from_ymd_opt(2026, 11, 2).unwrap(),
        lead_professional_id: Some(LEAD),
        minutes: 15,
        position: 1024,
        required_people: vec![LEAD],
        late: false,
        deferrals: 0,
        carried_from: None,
        status: ItemStatus::Discussed,
        outcome: Some(Outcome::Decision {
            text: "Referral to the local authority today".into(),
        }),
        summary_sent_on: None,
        restricted,
        restricted_to: if restricted { vec![NAMED] } else { vec![] },
        content_withheld: false,
    }
}

fn item_record(item: &AgendaItem) -> SyncRecord {
    let at = Utc.with_ymd_and_hms(2026, 11, 20, 10, 0, 0).unwrap();
    let stamp = FieldStamp {
        version: 3,
        device: Uuid::from_u128(77),
        by: "Ada Synthetic".into(),
        at: Some(at),
    };
    SyncRecord {
        entity: EntityKind::AgendaItem,
        id: Uuid::from_u128(200),
        version: 3,
        updated_at: at,
        updated_by: "Ada Synthetic".into(),
        deleted: false,
        fields: item.to_fields(),
        field_stamps: [
            ("reason".to_string(), stamp.clone()),
            ("position".to_string(), stamp),
        ]
        .into_iter()
        .collect(),
        conflicts: vec![
            FieldConflict {
                field: "question".into(),
                other_value: "Is there a carer we should call?".into(),
                other_by: "Sol Synthetic".into(),
                other_at: at,
                version: 3,
            },
            FieldConflict {
                field: "minutes".into(),
                other_value: 20.into(),
                other_by: "Sol Synthetic".into(),
                other_at: at,
                version: 3,
            },
        ],
    }
}

#[test]
fn only_the_lead_requester_coordinator_and_named_people_see_a_restricted_item() {
    let (team, restricted) = (team(), item(true));
    for person in [COORDINATOR, LEAD, REQUESTER, NAMED] {
        assert!(may_see_restricted(&restricted, &team, person), "{person}");
    }
    for person in [OTHER_MEMBER, OBSERVER] {
        assert!(!may_see_restricted(&restricted, &team, person), "{person}");
    }
    // An item that is not restricted is the whole team's.
    for person in [OTHER_MEMBER, OBSERVER, COORDINATOR] {
        assert!(may_see_restricted(&item(false), &team, person));
    }
}

#[test]
fn the_rest_of_the_team_sees_that_the_item_exists_and_nothing_of_its_brief() {
    let (team, item) = (team(), item(true));
    let sight_of = |kind, person, owner| sight(kind, &item, &team, person, owner);
    assert_eq!(
        sight_of(EntityKind::AgendaItem, OTHER_MEMBER, None),
        Sight::Withheld
    );
    assert_eq!(
        sight_of(EntityKind::Brief, OTHER_MEMBER, None),
        Sight::Hidden
    );
    assert_eq!(
        sight_of(EntityKind::ReadReceipt, OBSERVER, None),
        Sight::Hidden
    );
    assert_eq!(
        sight_of(EntityKind::Action, OTHER_MEMBER, Some(LEAD)),
        Sight::Hidden
    );
    assert_eq!(
        sight_of(EntityKind::ActionEvent, OTHER_MEMBER, Some(LEAD)),
        Sight::Hidden
    );
    // The owner of an action from the item sees the action and its history, not the brief.
    assert_eq!(
        sight_of(EntityKind::Action, OTHER_MEMBER, Some(OTHER_MEMBER)),
        Sight::Full
    );
    assert_eq!(
        sight_of(EntityKind::ActionEvent, OTHER_MEMBER, Some(OTHER_MEMBER)),
        Sight::Full
    );
    assert_eq!(
        sight_of(EntityKind::Brief, OTHER_MEMBER, Some(OTHER_MEMBER)),
        Sight::Hidden
    );
    for kind in [
        EntityKind::AgendaItem,
        EntityKind::Brief,
        EntityKind::Action,
    ] {
        assert_eq!(sight_of(kind, NAMED, None), Sight::Full);
    }
}

#[test]
fn a_withheld_copy_keeps_the_agenda_slot_and_drops_the_content() {
    let record = item_record(&item(true));
    let copy = copy_for(&record, Sight::Withheld);
    let empty = AgendaItem {
        title: String::new(),
        patient_id: None,
        reason: String::new(),
        question: String::new(),
        outcome: None,
        summary_sent_on: None,
        restricted_to: vec![],
        ..item(true)
    }
    .to_fields();
    for field in WITHHELD_ITEM_FIELDS {
        assert_eq!(copy.fields[*field], empty[*field], "{field} was sent");
        assert!(!copy.field_stamps.contains_key(*field));
    }
    assert!(copy.conflicts.iter().all(|c| c.field == "minutes"));
    let json = serde_json::to_string(&copy).unwrap();
    for secret in [
        "Bruising",
        "referral",
        "carer",
        &PATIENT.to_string(),
        &NAMED.to_string(),
    ] {
        assert!(!json.contains(secret), "{secret} leaked: {json}");
    }
    // The app can still show it: a valid item, marked as withheld, in its place and length.
    let shown = copy
        .typed::<AgendaItem>()
        .expect("a withheld copy is a valid item");
    assert!(shown.content_withheld && shown.restricted);
    assert_eq!((shown.position, shown.minutes), (1024, 15));
    assert_eq!(shown.lead_professional_id, Some(LEAD));
    assert_eq!(copy.version, record.version);
    // The device's copy written back with a new position changes only the position.
    let moved = AgendaItem {
        position: 4096,
        ..shown
    }
    .to_fields();
    let changed: Vec<&String> = moved
        .iter()
        .filter(|(k, v)| copy.fields.get(*k) != Some(v))
        .map(|(k, _)| k)
        .collect();
    assert_eq!(changed, ["position"]);
}

#[test]
fn a_hidden_record_is_sent_as_a_deletion_so_old_copies_are_removed() {
    let record = item_record(&item(true));
    let copy = copy_for(&record, Sight::Hidden);
    assert!(copy.deleted && copy.fields.is_empty() && copy.conflicts.is_empty());
    assert_eq!((copy.id, copy.version), (record.id, record.version));
    assert_eq!(copy_for(&record, Sight::Full), record);
}

#[test]
fn people_who_may_not_see_an_item_may_move_it_but_not_change_it() {
    let (team, before) = (team(), item(true));
    let moved = AgendaItem {
        position: 4096,
        minutes: 20,
        ..before.clone()
    };
    assert_eq!(
        item_change_refusal(Some(&before), &moved, &team, OTHER_MEMBER),
        None
    );
    let edits = [
        AgendaItem {
            reason: "Changed".into(),
            ..before.clone()
        },
        AgendaItem {
            outcome: None,
            summary_sent_on: None,
            status: ItemStatus::Open,
            ..before.clone()
        },
        AgendaItem {
            restricted_to: vec![NAMED, OTHER_MEMBER],
            ..before.clone()
        },
        AgendaItem {
            lead_professional_id: Some(OTHER_MEMBER),
            ..before.clone()
        },
        AgendaItem {
            restricted: false,
            ..before.clone()
        },
    ];
    for edit in &edits {
        assert!(item_change_refusal(Some(&before), edit, &team, OTHER_MEMBER).is_some());
    }
    // The lead may change the content; only the coordinator may lift or widen the restriction.
    assert_eq!(
        item_change_refusal(Some(&before), &edits[0], &team, LEAD),
        None
    );
    assert!(item_change_refusal(Some(&before), &edits[2], &team, LEAD).is_some());
    assert!(item_change_refusal(Some(&before), &edits[4], &team, LEAD).is_some());
    for edit in &edits {
        assert_eq!(
            item_change_refusal(Some(&before), edit, &team, COORDINATOR),
            None
        );
    }
    // Anyone who may change an item may restrict it; naming people is the coordinator's.
    let open = item(false);
    let restrict = AgendaItem {
        restricted: true,
        ..open.clone()
    };
    assert_eq!(
        item_change_refusal(Some(&open), &restrict, &team, OTHER_MEMBER),
        None
    );
    assert_eq!(item_change_refusal(None, &restrict, &team, REQUESTER), None);
    assert!(item_change_refusal(None, &before, &team, REQUESTER).is_some());
    assert_eq!(item_change_refusal(None, &before, &team, COORDINATOR), None);
    // A withheld copy can never be written back.
    let withheld = AgendaItem {
        content_withheld: true,
        ..before.clone()
    };
    assert!(item_change_refusal(Some(&before), &withheld, &team, COORDINATOR).is_some());
}

fn person() -> impl Strategy<Value = Uuid> {
    (1u128..=8).prop_map(Uuid::from_u128)
}

proptest! {
    /// Whatever the item says and whoever asks, a copy given to someone who may not see the
    /// item carries none of its content, and everyone else gets the record unchanged.
    #[test]
    fn nothing_of_a_restricted_item_reaches_people_outside_it(
        reason in "[a-z]{6,20}",
        question in "[a-z]{6,20}",
        decision in "[a-z]{6,20}",
        lead in proptest::option::of(person()),
        requester in person(),
        named in proptest::collection::vec(person(), 0..3),
        viewer in person(),
        owner in proptest::option::of(person()),
        kind in prop_oneof![
            Just(EntityKind::AgendaItem),
            Just(EntityKind::Brief),
            Just(EntityKind::ReadReceipt),
            Just(EntityKind::Action),
            Just(EntityKind::ActionEvent),
        ],
    ) {
        let mut named = named;
        named.sort();
        named.dedup();
        let item = AgendaItem {
            reason: format!("R{reason}"),
            question: format!("Q{question}"),
            outcome: Some(Outcome::Decision { text: format!("D{decision}") }),
            lead_professional_id: lead,
            requested_by: Some(requester),
            restricted_to: named.clone(),
            ..item(true)
        };
        let team = team();
        let allowed = viewer == COORDINATOR
            || lead == Some(viewer)
            || requester == viewer
            || named.contains(&viewer);
        let given = sight(kind, &item, &team, viewer, owner);
        let owner_sees = matches!(kind, EntityKind::Action | EntityKind::ActionEvent)
            && owner == Some(viewer);
        prop_assert_eq!(given == Sight::Full, allowed || owner_sees);
        let record = item_record(&item);
        let copy = copy_for(&record, given);
        let json = serde_json::to_string(&copy).unwrap();
        if given == Sight::Full {
            prop_assert_eq!(copy, record);
        } else {
            for secret in [&item.reason, &item.question, &format!("D{decision}"), &PATIENT.to_string()] {
                prop_assert!(!json.contains(secret.as_str()), "{} leaked", secret);
            }
        }
    }
}
