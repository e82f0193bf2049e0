//! Merge rules, the push algorithm and, by property test, the protocol as a whole.

use std::collections::HashMap;

use chrono::TimeZone;
use proptest::prelude::*;
use serde_json::json;

use super::*;
use crate::core::directory::{Organisation, OrganisationKind};

/// The push algorithm over hash maps: the reference the SQLite store must behave like.
#[derive(Default)]
struct MemoryStore {
    records: HashMap<Uuid, SyncRecord>,
    change_seq: HashMap<Uuid, u64>,
    next_change: u64,
    processed: HashMap<Uuid, MutationResult>,
    seqs: HashMap<Uuid, u64>,
    /// Every processed mutation in order, with its answer.
    log: Vec<(Uuid, MutationResult)>,
}

impl SyncStore for MemoryStore {
    type Error = std::convert::Infallible;
    fn processed(&mut self, id: Uuid) -> Result<Option<MutationResult>, Self::Error> {
        Ok(self.processed.get(&id).cloned())
    }
    fn last_seq(&mut self, device: Uuid) -> Result<u64, Self::Error> {
        Ok(self.seqs.get(&device).copied().unwrap_or(0))
    }
    fn record(&mut self, id: Uuid) -> Result<Option<SyncRecord>, Self::Error> {
        Ok(self.records.get(&id).cloned())
    }
    fn may_see(&mut self, record: &SyncRecord) -> Result<bool, Self::Error> {
        Ok(record.fields.get("name") != Some(&json!("Hidden")))
    }
    fn authorize(
        &mut self,
        _: Option<&SyncRecord>,
        after: &SyncRecord,
    ) -> Result<Result<(), String>, Self::Error> {
        let forbidden = after.fields.get("name") == Some(&json!("Forbidden"));
        // Stands for a rule that panics on a value nobody foresaw.
        assert!(
            after.fields.get("name") != Some(&json!("Unforeseen")),
            "a rule panicked"
        );
        Ok(if forbidden {
            Err("not allowed".into())
        } else {
            Ok(())
        })
    }
    fn save_record(&mut self, record: &SyncRecord) -> Result<(), Self::Error> {
        self.next_change += 1;
        self.change_seq.insert(record.id, self.next_change);
        self.records.insert(record.id, record.clone());
        Ok(())
    }
    fn save_processed(
        &mut self,
        device: Uuid,
        seq: u64,
        result: &MutationResult,
    ) -> Result<(), Self::Error> {
        self.seqs.insert(device, seq);
        self.processed.insert(result.mutation_id(), result.clone());
        self.log.push((result.mutation_id(), result.clone()));
        Ok(())
    }
}

impl MemoryStore {
    fn push(&mut self, device: Uuid, mutations: &[Mutation]) -> Vec<MutationResult> {
        let writer = Writer {
            device,
            name: "Tester",
            now: now(),
        };
        let Ok(results) = process_push(self, &writer, mutations);
        results
    }

    fn pull(&self, since: u64) -> PullResponse {
        let mut changed: Vec<_> = self
            .change_seq
            .iter()
            .filter(|(_, s)| **s > since)
            .collect();
        changed.sort_by_key(|(_, s)| **s);
        PullResponse {
            records: changed
                .iter()
                .map(|(id, _)| self.records[*id].clone())
                .collect(),
            cursor: self.next_change.max(since),
            more: false,
        }
    }
}

pub(crate) fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 3, 9, 0, 0).unwrap()
}

fn org(name: &str) -> Fields {
    Organisation {
        name: name.into(),
        kind: OrganisationKind::GpPractice,
    }
    .to_fields()
}

fn update(seq: u64, id: Uuid, base: u64, fields: Fields) -> Mutation {
    Mutation {
        mutation_id: Uuid::new_v4(),
        seq,
        entity: EntityKind::Organisation,
        id,
        base_version: base,
        op: MutationOp::Update { fields },
    }
}

fn writer(device: u128) -> Writer<'static> {
    Writer {
        device: Uuid::from_u128(device),
        name: "Tester",
        now: now(),
    }
}

/// An organisation created by device 1 at version 1.
fn created_org(id: Uuid) -> SyncRecord {
    merge(
        None,
        &update(1, id, 0, org("Riverside Surgery")),
        &writer(1),
    )
    .unwrap()
    .record
}

fn name(value: &str) -> Fields {
    json!({ "name": value }).as_object().unwrap().clone()
}

#[test]
fn retries_back_off_exponentially_with_jitter_up_to_five_minutes() {
    assert_eq!(retry_delay_ms(0, 1.0), 2_000.0);
    assert_eq!(retry_delay_ms(0, 0.0), 1_000.0);
    assert_eq!(retry_delay_ms(3, 1.0), 16_000.0);
    assert_eq!(retry_delay_ms(30, 1.0), RETRY_MAX_MS);
    let mut previous_ceiling = 0.0;
    for failures in 0..12 {
        let ceiling = retry_delay_ms(failures, 1.0);
        assert!(ceiling >= previous_ceiling, "never shrinks");
        previous_ceiling = ceiling;
        for jitter in [0.0, 0.3, 0.9, 1.0, -1.0, 2.0] {
            let d = retry_delay_ms(failures, jitter);
            assert!(
                d >= ceiling / 2.0 && d <= ceiling,
                "{d} within half and all of {ceiling}"
            );
        }
    }
}

#[test]
fn a_create_needs_every_required_field() {
    let id = Uuid::new_v4();
    let err = merge(
        None,
        &update(1, id, 0, name("Riverside Surgery")),
        &writer(1),
    )
    .unwrap_err();
    assert_eq!(err.message, "Organisation: kind is required");
    let merged = merge(
        None,
        &update(1, id, 0, org("Riverside Surgery")),
        &writer(1),
    )
    .unwrap();
    assert_eq!(merged.record.version, 1);
    assert!(merged.conflicts.is_empty());
}

#[test]
fn edits_to_different_fields_merge() {
    let id = Uuid::new_v4();
    let created = created_org(id);
    let renamed = merge(
        Some(&created),
        &update(2, id, 1, name("Riverside Health Centre")),
        &writer(1),
    )
    .unwrap()
    .record;
    let kind = json!({"kind": "hospice"}).as_object().unwrap().clone();
    let merged = merge(Some(&renamed), &update(1, id, 1, kind), &writer(2)).unwrap();
    assert!(merged.conflicts.is_empty());
    assert_eq!(
        merged.record.fields["name"],
        json!("Riverside Health Centre")
    );
    assert_eq!(merged.record.fields["kind"], json!("hospice"));
    assert_eq!(merged.record.version, 3);
}

#[test]
fn same_field_edits_are_kept_as_a_conflict_until_someone_chooses() {
    let id = Uuid::new_v4();
    let created = created_org(id);
    let first = merge(
        Some(&created),
        &update(2, id, 1, name("Name A")),
        &writer(1),
    )
    .unwrap()
    .record;
    let second = merge(Some(&first), &update(1, id, 1, name("Name B")), &writer(2)).unwrap();
    assert_eq!(second.conflicts, vec!["name".to_string()]);
    let record = second.record;
    assert_eq!(
        record.fields["name"],
        json!("Name A"),
        "the first write stays"
    );
    assert_eq!(record.conflicts.len(), 1);
    assert_eq!(
        record.conflicts[0].other_value,
        json!("Name B"),
        "the second is kept, not dropped"
    );

    // The same value twice is not a conflict.
    let same = merge(Some(&first), &update(1, id, 1, name("Name A")), &writer(2)).unwrap();
    assert!(same.conflicts.is_empty());

    // Someone who has seen the conflict picks a value: it is resolved, even if they keep the
    // stored one (the replica always sends a resolution).
    let mut replica = Replica::new(Uuid::from_u128(2));
    replica.hold(record.clone());
    let keep = replica
        .stage_resolution(Uuid::new_v4(), id, "name", json!("Name A"))
        .unwrap()
        .clone();
    assert_eq!(keep.base_version, record.version);
    let kept = merge(Some(&record), &keep, &writer(2)).unwrap();
    assert!(kept.record.conflicts.is_empty());
    assert_eq!(kept.record.fields["name"], json!("Name A"));
    let resolved = merge(
        Some(&record),
        &update(2, id, record.version, name("Name B")),
        &writer(2),
    )
    .unwrap();
    assert!(resolved.conflicts.is_empty());
    assert!(resolved.record.conflicts.is_empty());
    assert_eq!(resolved.record.fields["name"], json!("Name B"));
}

#[test]
fn a_device_never_conflicts_with_its_own_earlier_changes() {
    let id = Uuid::new_v4();
    let created = created_org(id);
    let a = merge(Some(&created), &update(2, id, 1, name("A")), &writer(1))
        .unwrap()
        .record;
    let b = merge(Some(&a), &update(3, id, 1, name("B")), &writer(1)).unwrap();
    assert!(b.conflicts.is_empty());
    assert_eq!(b.record.fields["name"], json!("B"));
}

#[test]
fn bad_mutations_are_rejected_with_a_reason() {
    let id = Uuid::new_v4();
    let created = created_org(id);
    let unknown = json!({"colour": "blue"}).as_object().unwrap().clone();
    let err = merge(Some(&created), &update(2, id, 1, unknown), &writer(1)).unwrap_err();
    assert!(err.message.contains("no field called \"colour\""));
    let err = merge(Some(&created), &update(2, id, 1, name("")), &writer(1)).unwrap_err();
    assert_eq!(err.message, "Enter the organisation's name");
    let err = merge(None, &update(1, Uuid::new_v4(), 3, name("x")), &writer(1)).unwrap_err();
    assert!(err.message.contains("does not exist"));
}

#[test]
fn a_stale_delete_is_refused_and_a_deleted_record_stays_deleted() {
    let id = Uuid::new_v4();
    let created = created_org(id);
    let renamed = merge(Some(&created), &update(2, id, 1, name("B")), &writer(1))
        .unwrap()
        .record;
    let delete = |base| Mutation {
        op: MutationOp::Delete,
        ..update(1, id, base, Fields::new())
    };
    assert!(merge(Some(&renamed), &delete(1), &writer(2))
        .unwrap_err()
        .message
        .contains("changed it after you loaded it"));
    let gone = merge(Some(&renamed), &delete(2), &writer(2))
        .unwrap()
        .record;
    assert!(gone.deleted);
    assert!(merge(Some(&gone), &update(3, id, 3, name("C")), &writer(1))
        .unwrap_err()
        .message
        .contains("deleted"));
}

#[test]
fn a_replayed_push_is_answered_from_the_record_and_not_applied_again() {
    let mut server = MemoryStore::default();
    let device = Uuid::from_u128(1);
    let id = Uuid::new_v4();
    let batch = vec![
        update(1, id, 0, org("Riverside Surgery")),
        update(2, id, 1, name("B")),
    ];
    let first = server.push(device, &batch);
    let again = server.push(device, &batch);
    assert_eq!(first, again);
    assert_eq!(server.records[&id].version, 2);
    assert_eq!(server.log.len(), 2);
}

#[test]
fn a_sequence_gap_is_refused_for_retry_and_a_reused_number_is_refused() {
    let mut server = MemoryStore::default();
    let device = Uuid::from_u128(1);
    let id = Uuid::new_v4();
    let results = server.push(device, &[update(2, id, 0, org("Riverside Surgery"))]);
    assert!(
        matches!(&results[0], MutationResult::Rejected { retryable: true, reason, .. } if reason.contains("arrived before change number 1"))
    );
    assert!(server.records.is_empty());
    server.push(device, &[update(1, id, 0, org("Riverside Surgery"))]);
    let reused = server.push(device, &[update(1, id, 1, name("B"))]);
    assert!(matches!(
        &reused[0],
        MutationResult::Rejected {
            retryable: false,
            ..
        }
    ));
    assert_eq!(
        server.records[&id].fields["name"],
        json!("Riverside Surgery")
    );
}

#[test]
fn a_change_whose_rules_panic_is_refused_alone_and_the_batch_goes_on() {
    let mut server = MemoryStore::default();
    let device = Uuid::from_u128(1);
    let (bad, good) = (Uuid::new_v4(), Uuid::new_v4());
    let unforeseen = update(1, bad, 0, org("Unforeseen"));
    let results = server.push(
        device,
        &[
            unforeseen.clone(),
            update(2, good, 0, org("Riverside Surgery")),
        ],
    );
    assert!(
        matches!(&results[0], MutationResult::Rejected { retryable: false, reason, .. } if reason.contains("could not be processed")),
        "{results:?}"
    );
    assert!(matches!(&results[1], MutationResult::Applied { .. }));
    assert!(!server.records.contains_key(&bad));
    // Sent again, the same answers: the device is never stuck.
    let again = server.push(device, &[unforeseen]);
    assert_eq!(again[0], results[0]);
}

#[test]
fn an_unauthorised_change_is_rejected_and_consumes_its_sequence_number() {
    let mut server = MemoryStore::default();
    let device = Uuid::from_u128(1);
    let results = server.push(device, &[update(1, Uuid::new_v4(), 0, org("Forbidden"))]);
    assert!(
        matches!(&results[0], MutationResult::Rejected { retryable: false, reason, .. } if reason == "not allowed")
    );
    let next = server.push(device, &[update(2, Uuid::new_v4(), 0, org("Allowed"))]);
    assert!(matches!(
        next[0],
        MutationResult::Applied { version: 1, .. }
    ));
}

#[test]
fn the_replica_shows_unsent_changes_and_drops_them_once_answered() {
    let mut server = MemoryStore::default();
    let mut replica = Replica::new(Uuid::from_u128(5));
    let id = Uuid::new_v4();
    replica
        .stage_entity(
            Uuid::new_v4(),
            id,
            &Organisation {
                name: "Riverside Surgery".into(),
                kind: OrganisationKind::GpPractice,
            },
        )
        .unwrap();
    assert!(replica.view(id).unwrap().unsent);
    // An invalid edit is refused locally, before it is queued.
    let err = replica
        .stage_update(Uuid::new_v4(), EntityKind::Organisation, id, name(" "))
        .unwrap_err();
    assert_eq!(err.message, "Enter the organisation's name");
    // A change that changes nothing queues nothing.
    assert!(replica
        .stage_update(
            Uuid::new_v4(),
            EntityKind::Organisation,
            id,
            name("Riverside Surgery")
        )
        .unwrap()
        .is_none());
    assert_eq!(replica.outbox.len(), 1);

    let results = server.push(replica.device_id, &replica.outbox.clone());
    assert!(replica.apply_push(&results).is_empty());
    assert!(replica.outbox.is_empty());
    let between = replica
        .view(id)
        .expect("still shown between the push and the next pull");
    assert!(!between.unsent);
    assert_eq!(replica.all::<Organisation>().len(), 1);
    replica.apply_pull(server.pull(replica.cursor));
    assert!(replica.accepted.is_empty());
    let view = replica.view(id).unwrap();
    assert!(!view.unsent);
    assert_eq!(view.version, 1);
    assert_eq!(replica.all::<Organisation>().len(), 1);

    replica.stage_delete(Uuid::new_v4(), id).unwrap();
    assert!(replica.view(id).is_none());
    assert!(replica.all::<Organisation>().is_empty());
}

#[test]
fn a_form_sends_only_what_the_person_changed_so_edits_elsewhere_survive() {
    let mut server = MemoryStore::default();
    let id = Uuid::new_v4();
    let mut elsewhere = Replica::new(Uuid::from_u128(1));
    let mut here = Replica::new(Uuid::from_u128(2));
    elsewhere
        .stage_entity(
            Uuid::new_v4(),
            id,
            &Organisation {
                name: "Riverside Surgery".into(),
                kind: OrganisationKind::GpPractice,
            },
        )
        .unwrap();
    elsewhere.apply_push(&server.push(elsewhere.device_id, &elsewhere.outbox.clone()));
    here.apply_pull(server.pull(0));
    let form_opened = here.view(id).unwrap();

    // Meanwhile someone else changes the kind.
    elsewhere.apply_pull(server.pull(0));
    elsewhere
        .stage_update(
            Uuid::new_v4(),
            EntityKind::Organisation,
            id,
            json!({"kind": "hospice"}).as_object().unwrap().clone(),
        )
        .unwrap();
    elsewhere.apply_push(&server.push(elsewhere.device_id, &elsewhere.outbox.clone()));
    here.apply_pull(server.pull(here.cursor));

    // The form still shows the old kind; the person changes only the name.
    let mut after = form_opened.fields.clone();
    after.insert("name".into(), json!("Riverside Health Centre"));
    let m = here
        .stage_edit(
            Uuid::new_v4(),
            EntityKind::Organisation,
            id,
            form_opened.version,
            &form_opened.fields,
            after,
        )
        .unwrap()
        .unwrap()
        .clone();
    assert_eq!(m.base_version, 1);
    assert_eq!(
        m.op,
        MutationOp::Update {
            fields: name("Riverside Health Centre")
        }
    );
    let results = server.push(here.device_id, &[m]);
    assert!(matches!(results[0], MutationResult::Applied { .. }));
    assert_eq!(
        server.records[&id].fields["kind"],
        json!("hospice"),
        "the other edit survives"
    );
    assert_eq!(
        server.records[&id].fields["name"],
        json!("Riverside Health Centre")
    );

    // An invalid form is refused, and an unchanged one sends nothing.
    let blank = name(" ");
    assert!(here
        .stage_edit(
            Uuid::new_v4(),
            EntityKind::Organisation,
            id,
            2,
            &Fields::new(),
            blank
        )
        .is_err());
    let view = here.view(id).unwrap();
    assert!(here
        .stage_edit(
            Uuid::new_v4(),
            EntityKind::Organisation,
            id,
            view.version,
            &view.fields,
            view.fields.clone()
        )
        .unwrap()
        .is_none());
}

#[test]
fn a_refused_change_is_reported_and_leaves_the_outbox() {
    let mut server = MemoryStore::default();
    let mut replica = Replica::new(Uuid::from_u128(5));
    let id = Uuid::new_v4();
    replica
        .stage_entity(
            Uuid::new_v4(),
            id,
            &Organisation {
                name: "Forbidden".into(),
                kind: OrganisationKind::Hospice,
            },
        )
        .unwrap();
    let results = server.push(replica.device_id, &replica.outbox.clone());
    let refused = replica.apply_push(&results);
    assert_eq!(
        refused,
        vec![RefusedChange {
            entity: EntityKind::Organisation,
            id,
            reason: "not allowed".into()
        }]
    );
    assert!(replica.outbox.is_empty());
    assert!(replica.view(id).is_none());
}

/// How a push travels over an unreliable network.
#[derive(Debug, Clone, Copy)]
enum Delivery {
    Normal,
    /// The request never reaches the server.
    LostRequest,
    /// The server applies it but the answer never comes back.
    LostResponse,
    /// The request arrives twice.
    Duplicated,
    /// Only the later half of the outbox arrives (reordering): a sequence gap.
    LaterHalfOnly,
    /// The whole outbox arrives in reverse order.
    Reversed,
}

#[derive(Debug, Clone)]
enum Step {
    Edit {
        client: usize,
        record: usize,
        field_is_name: bool,
        value: u8,
    },
    Push {
        client: usize,
        delivery: Delivery,
    },
    Pull {
        client: usize,
    },
    /// The client loses or regains its connection (edits carry on while offline).
    Network {
        client: usize,
        online: bool,
    },
}

fn step(clients: usize, records: usize) -> impl Strategy<Value = Step> {
    let delivery = prop_oneof![
        3 => Just(Delivery::Normal),
        1 => Just(Delivery::LostRequest),
        1 => Just(Delivery::LostResponse),
        1 => Just(Delivery::Duplicated),
        1 => Just(Delivery::LaterHalfOnly),
        1 => Just(Delivery::Reversed),
    ];
    prop_oneof![
        3 => (0..clients, 0..records, any::<bool>(), 0u8..4).prop_map(|(client, record, field_is_name, value)| Step::Edit { client, record, field_is_name, value }),
        2 => (0..clients, delivery).prop_map(|(client, delivery)| Step::Push { client, delivery }),
        1 => (0..clients).prop_map(|client| Step::Pull { client }),
        1 => (0..clients, any::<bool>()).prop_map(|(client, online)| Step::Network { client, online }),
    ]
}

/// The organisations a replica shows, read through each record's full view (what
/// [`Replica::entities`] must equal).
/// Every organisation as the full views show it, each parsed afresh (no cache): what the
/// cached reads (`entities`, `all`, `entity`) must equal.
fn organisations_through_views(r: &Replica) -> Vec<(Uuid, Organisation)> {
    let mut ids: Vec<Uuid> = r
        .confirmed()
        .keys()
        .copied()
        .chain(r.outbox.iter().map(|m| m.id))
        .chain(r.accepted.iter().map(|(m, _)| m.id))
        .collect();
    ids.sort();
    ids.dedup();
    ids.into_iter()
        .filter_map(|id| r.view(id))
        .filter_map(|v| {
            (v.entity == EntityKind::Organisation)
                .then(|| Organisation::from_fields(&v.fields).ok())
                .flatten()
                .map(|e| (v.id, e))
        })
        .collect()
}

/// The cached reads of a replica all equal what fresh parsing of the full views gives.
fn cached_reads_match_views(r: &Replica) -> Result<(), TestCaseError> {
    let expected = organisations_through_views(r);
    prop_assert_eq!(&r.entities::<Organisation>(), &expected);
    let all: Vec<(Uuid, Organisation)> = r
        .all::<Organisation>()
        .into_iter()
        .map(|(v, e)| (v.id, e))
        .collect();
    prop_assert_eq!(&all, &expected);
    for id in r.confirmed().keys() {
        prop_assert_eq!(
            r.entity::<Organisation>(*id),
            expected
                .iter()
                .find(|(e, _)| e == id)
                .map(|(_, o)| o.clone())
        );
    }
    Ok(())
}

fn run_protocol(clients: usize, steps: &[Step]) -> Result<(), TestCaseError> {
    const RECORDS: usize = 3;
    let mut server = MemoryStore::default();
    let seed_device = Uuid::from_u128(999);
    let ids: Vec<Uuid> = (0..RECORDS)
        .map(|i| Uuid::from_u128(1000 + i as u128))
        .collect();
    let seed: Vec<Mutation> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| update(i as u64 + 1, *id, 0, org(&format!("Practice {i}"))))
        .collect();
    server.push(seed_device, &seed);

    let mut replicas: Vec<Replica> = (0..clients)
        .map(|c| Replica::new(Uuid::from_u128(c as u128 + 1)))
        .collect();
    for r in &mut replicas {
        r.apply_pull(server.pull(0));
    }
    let mut staged: Vec<Mutation> = Vec::new();
    let mut staged_by: Vec<Vec<Uuid>> = vec![Vec::new(); clients];
    let mut next_id = 1u128 << 64;
    let kinds = [
        OrganisationKind::GpPractice,
        OrganisationKind::Hospice,
        OrganisationKind::CommunityTrust,
        OrganisationKind::Other,
    ];

    // Every answer a client acted on, to check it against the server's record of the truth.
    let mut received: Vec<MutationResult> = Vec::new();
    let mut deliver = |server: &mut MemoryStore, replica: &mut Replica, delivery: Delivery| {
        let batch = replica.outbox.clone();
        if batch.is_empty() {
            return;
        }
        match delivery {
            Delivery::Normal => {
                let results = server.push(replica.device_id, &batch);
                replica.apply_push(&results);
                received.extend(results);
            }
            Delivery::LostRequest => {}
            Delivery::LostResponse => {
                server.push(replica.device_id, &batch);
            }
            Delivery::Duplicated => {
                server.push(replica.device_id, &batch);
                let results = server.push(replica.device_id, &batch);
                replica.apply_push(&results);
                received.extend(results);
            }
            Delivery::LaterHalfOnly => {
                let results = server.push(replica.device_id, &batch[batch.len() / 2..]);
                replica.apply_push(&results);
                received.extend(results);
            }
            Delivery::Reversed => {
                let reversed: Vec<Mutation> = batch.iter().rev().cloned().collect();
                let results = server.push(replica.device_id, &reversed);
                replica.apply_push(&results);
                received.extend(results);
            }
        }
    };
    let mut online = vec![true; clients];

    for s in steps {
        match *s {
            Step::Edit {
                client,
                record,
                field_is_name,
                value,
            } => {
                next_id += 1;
                let fields = if field_is_name {
                    name(&format!("Name {value}"))
                } else {
                    json!({ "kind": kinds[value as usize] })
                        .as_object()
                        .unwrap()
                        .clone()
                };
                let r = &mut replicas[client];
                if let Some(m) = r
                    .stage_update(
                        Uuid::from_u128(next_id),
                        EntityKind::Organisation,
                        ids[record],
                        fields,
                    )
                    .unwrap()
                {
                    staged_by[client].push(m.mutation_id);
                    staged.push(m.clone());
                }
            }
            Step::Push { client, delivery } if online[client] => {
                deliver(&mut server, &mut replicas[client], delivery)
            }
            Step::Pull { client } if online[client] => {
                let r = &mut replicas[client];
                r.apply_pull(server.pull(r.cursor));
            }
            Step::Push { .. } | Step::Pull { .. } => {}
            Step::Network { client, online: on } => online[client] = on,
        }
        // Lists read through `entities` (the server's copy where nothing is on top) show
        // exactly what the full views show, whatever is unsent, accepted or deleted.
        for r in &replicas {
            cached_reads_match_views(r)?;
        }
    }
    // The network heals: everyone flushes their outbox and pulls.
    for r in &mut replicas {
        for _ in 0..3 {
            deliver(&mut server, r, Delivery::Normal);
        }
        prop_assert!(r.outbox.is_empty(), "outbox drained");
    }
    for r in &mut replicas {
        r.apply_pull(server.pull(r.cursor));
    }

    // No client was told anything but the truth about a mutation the server finished.
    for answer in received.iter().filter(|r| r.is_final()) {
        prop_assert_eq!(Some(answer), server.processed.get(&answer.mutation_id()));
    }
    // Every mutation made was processed exactly once.
    for m in &staged {
        let times = server
            .log
            .iter()
            .filter(|(id, _)| *id == m.mutation_id)
            .count();
        prop_assert_eq!(
            times,
            1,
            "mutation {} processed {} times",
            m.mutation_id,
            times
        );
    }
    // Each record's version counts exactly the mutations written to it: none twice, none lost.
    for id in &ids {
        let written = server
            .log
            .iter()
            .filter(|(mid, res)| {
                !matches!(res, MutationResult::Rejected { .. })
                    && (seed.iter().chain(&staged)).any(|m| m.mutation_id == *mid && m.id == *id)
            })
            .count() as u64;
        prop_assert_eq!(server.records[id].version, written);
        // The stored value of each field is the last write that was not held as a conflict.
        for field in ["name", "kind"] {
            let mut last = None;
            for (mid, res) in &server.log {
                let Some(m) = seed
                    .iter()
                    .chain(&staged)
                    .find(|m| m.mutation_id == *mid && m.id == *id)
                else {
                    continue;
                };
                let MutationOp::Update { fields } = &m.op else {
                    continue;
                };
                let held = match res {
                    MutationResult::Applied { .. } => false,
                    MutationResult::Conflict { fields, .. } => fields.iter().any(|f| f == field),
                    MutationResult::Rejected { .. } => true,
                };
                if let (false, Some(v)) = (held, fields.get(field)) {
                    last = Some(v.clone());
                }
            }
            prop_assert_eq!(Some(&server.records[id].fields[field]), last.as_ref());
        }
    }
    // Every same-field concurrent edit was surfaced as a conflict, and nothing else was: replay
    // the server's log with an independent model of "who wrote each field last, at which
    // version". A write conflicts when another device changed the field to a different value
    // after the version the writer had seen.
    let device_of = |mid: &Uuid| -> Uuid {
        replicas
            .iter()
            .map(|r| r.device_id)
            .zip(0..)
            .find_map(|(d, c)| staged_by[c].contains(mid).then_some(d))
            .unwrap_or(seed_device)
    };
    let mut last_write: HashMap<(Uuid, String), (u64, Uuid, Value)> = HashMap::new();
    for (mid, res) in &server.log {
        let Some(m) = seed.iter().chain(&staged).find(|m| m.mutation_id == *mid) else {
            continue;
        };
        let MutationOp::Update { fields } = &m.op else {
            continue;
        };
        let (version, held): (u64, Vec<String>) = match res {
            MutationResult::Applied { version, .. } => (*version, vec![]),
            MutationResult::Conflict {
                version, fields, ..
            } => (*version, fields.clone()),
            MutationResult::Rejected { .. } => continue,
        };
        let device = device_of(mid);
        for (field, value) in fields {
            let key = (m.id, field.clone());
            let concurrent = last_write
                .get(&key)
                .is_some_and(|(v, d, old)| *v > m.base_version && *d != device && old != value);
            prop_assert_eq!(
                held.contains(field),
                concurrent,
                "field {} of mutation {}: conflict answered {}, expected {}",
                field,
                mid,
                held.contains(field),
                concurrent
            );
            let unchanged = last_write.get(&key).is_some_and(|(_, _, old)| old == value);
            if !concurrent && !unchanged {
                last_write.insert(key, (version, device, value.clone()));
            }
        }
    }
    // Every conflict answer left the losing value on the record unless a later write settled it.
    for (mid, res) in &server.log {
        if let MutationResult::Conflict {
            fields, version, ..
        } = res
        {
            let m = staged.iter().find(|m| m.mutation_id == *mid).unwrap();
            for f in fields {
                let kept = server.records[&m.id]
                    .conflicts
                    .iter()
                    .any(|c| c.field == *f && c.version == *version);
                let settled = server.log.iter().any(|(later, r)| {
                    matches!(r, MutationResult::Applied { .. } | MutationResult::Conflict { .. })
                        && staged.iter().any(|l| {
                            l.mutation_id == *later
                                && l.id == m.id
                                && l.base_version >= *version
                                && matches!(&l.op, MutationOp::Update { fields } if fields.contains_key(f))
                        })
                });
                prop_assert!(kept || settled, "conflict on {} lost", f);
            }
        }
    }
    // Everyone converges on the server's copy.
    for r in &replicas {
        for id in &ids {
            prop_assert_eq!(&r.confirmed[id], &server.records[id]);
            prop_assert_eq!(&r.view(*id).unwrap().fields, &server.records[id].fields);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn two_clients_over_a_bad_network_never_lose_or_double_apply(steps in prop::collection::vec(step(2, 3), 1..60)) {
        run_protocol(2, &steps)?;
    }

    #[test]
    fn four_clients_converge(steps in prop::collection::vec(step(4, 3), 1..80)) {
        run_protocol(4, &steps)?;
    }
}

/// Cases of the big convergence test: 10,000 in CI; set `MDT_SYNC_CASES` for a longer local run.
fn convergence_cases() -> u32 {
    std::env::var("MDT_SYNC_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: convergence_cases(), ..ProptestConfig::default() })]

    /// K = 3..5 clients editing while randomly offline, over a network that loses, duplicates
    /// and reorders pushes, retrying until it heals: every client and the server end with the
    /// same data, every acknowledged mutation is applied exactly once, and every same-field
    /// concurrent edit is surfaced as a conflict.
    #[test]
    fn three_to_five_clients_randomly_offline_converge(
        clients in 3usize..=5,
        steps in prop::collection::vec(step(5, 3), 1..100),
    ) {
        let steps: Vec<Step> = steps
            .into_iter()
            .map(|s| match s {
                Step::Edit { client, record, field_is_name, value } => Step::Edit { client: client % clients, record, field_is_name, value },
                Step::Push { client, delivery } => Step::Push { client: client % clients, delivery },
                Step::Pull { client } => Step::Pull { client: client % clients },
                Step::Network { client, online } => Step::Network { client: client % clients, online },
            })
            .collect();
        run_protocol(clients, &steps)?;
    }
}

#[test]
fn a_device_ahead_of_the_server_is_refused_and_fetches_everything_again() {
    let mut server = MemoryStore::default();
    let id = Uuid::new_v4();
    server.push(
        Uuid::from_u128(1),
        &[update(1, id, 0, org("Riverside Surgery"))],
    );
    // A device whose copy claims a version the server never issued (say the server was
    // restored from an older backup).
    let mut device = Replica::new(Uuid::from_u128(2));
    device.apply_pull(server.pull(0));
    let mut claimed = device.confirmed()[&id].clone();
    claimed.version = 7;
    device.hold(claimed);
    let cursor = device.cursor;
    assert!(cursor > 0);
    device
        .stage_update(
            Uuid::new_v4(),
            EntityKind::Organisation,
            id,
            name("Renamed"),
        )
        .unwrap();
    let results = server.push(device.device_id, &device.outbox.clone());
    assert!(
        matches!(&results[0], MutationResult::Rejected { resync: true, reason, .. } if reason.contains("ahead of the server")),
        "{results:?}"
    );
    assert_eq!(
        server.records[&id].fields["name"],
        json!("Riverside Surgery")
    );
    let refused = device.apply_push(&results);
    assert_eq!(refused.len(), 1);
    assert_eq!(device.cursor, 0, "the next pull starts from the beginning");
    assert!(device.outbox.is_empty());
    device.apply_pull(server.pull(0));
    assert_eq!(
        device.confirmed[&id].version, 1,
        "the server's copy replaces the device's"
    );
    assert_eq!(
        device.view(id).unwrap().fields["name"],
        json!("Riverside Surgery")
    );
}

#[test]
fn a_null_character_anywhere_in_a_change_makes_it_unstorable() {
    let change = |fields: serde_json::Value| Mutation {
        mutation_id: Uuid::new_v4(),
        seq: 1,
        entity: EntityKind::Patient,
        id: Uuid::new_v4(),
        base_version: 0,
        op: MutationOp::Update {
            fields: fields.as_object().cloned().unwrap_or_default(),
        },
    };
    for (fields, says) in [
        (
            serde_json::json!({"name": "Ada\u{0}"}),
            "The field \"name\"",
        ),
        (serde_json::json!({"bad\u{0}name": "x"}), "A field's name"),
        (
            serde_json::json!({"list": [["deep", "\u{0}"]]}),
            "The field \"list\"",
        ),
        (
            serde_json::json!({"map": {"k\u{0}": 1}}),
            "The field \"map\"",
        ),
    ] {
        let reason = change(fields.clone())
            .unstorable()
            .unwrap_or_else(|| panic!("{fields}"));
        assert!(reason.starts_with("Patient: "), "{reason}");
        assert!(reason.contains(says), "{reason}");
        assert!(
            !reason.contains('\u{0}'),
            "the reason never repeats the character"
        );
    }
    for fine in [
        serde_json::json!({"name": "ñ🙂\u{202e}evil \\0 \u{1}"}),
        serde_json::json!({}),
        serde_json::json!({"n": null, "x": 0, "b": false}),
    ] {
        assert_eq!(change(fine.clone()).unstorable(), None, "{fine}");
    }
    let mut delete = change(serde_json::json!({}));
    delete.op = MutationOp::Delete;
    assert_eq!(delete.unstorable(), None);
}

#[test]
fn entities_lists_what_the_views_show_through_deletes_and_unsent_changes() {
    fn same_as_views(r: &Replica) {
        cached_reads_match_views(r).unwrap();
    }
    let mut server = MemoryStore::default();
    let mut replica = Replica::new(Uuid::from_u128(5));
    let practice = |i: usize| Organisation {
        name: format!("Practice {i}"),
        kind: OrganisationKind::GpPractice,
    };
    let ids: Vec<Uuid> = (0..4).map(|_| Uuid::new_v4()).collect();
    for (i, id) in ids.iter().enumerate() {
        replica
            .stage_entity(Uuid::new_v4(), *id, &practice(i))
            .unwrap();
    }
    same_as_views(&replica);
    let results = server.push(replica.device_id, &replica.outbox.clone());
    replica.apply_push(&results);
    // Accepted by the server, not yet pulled back.
    same_as_views(&replica);
    replica.apply_pull(server.pull(replica.cursor));
    same_as_views(&replica);
    assert_eq!(replica.entities::<Organisation>().len(), 4);

    // One deleted on the server and pulled; one deleted here, unsent; one renamed here; one new.
    replica.stage_delete(Uuid::new_v4(), ids[0]).unwrap();
    let results = server.push(replica.device_id, &replica.outbox.clone());
    replica.apply_push(&results);
    replica.apply_pull(server.pull(replica.cursor));
    replica.stage_delete(Uuid::new_v4(), ids[1]).unwrap();
    replica
        .stage_update(
            Uuid::new_v4(),
            EntityKind::Organisation,
            ids[2],
            name("Renamed"),
        )
        .unwrap();
    let new = Uuid::new_v4();
    replica
        .stage_entity(Uuid::new_v4(), new, &practice(9))
        .unwrap();
    same_as_views(&replica);
    let listed = replica.entities::<Organisation>();
    let mut expected = vec![ids[2], ids[3], new];
    expected.sort();
    assert_eq!(
        listed.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
        expected
    );
    let renamed = listed.iter().find(|(id, _)| *id == ids[2]).unwrap();
    assert_eq!(renamed.1.name, "Renamed");
    // Another kind never shows up in the list.
    assert!(replica.entities::<crate::core::team::Team>().is_empty());
}

#[test]
fn a_parsed_entity_is_never_read_after_its_record_changed() {
    let mut server = MemoryStore::default();
    let mut device = Replica::new(Uuid::from_u128(7));
    let id = Uuid::from_u128(70);
    server.push(Uuid::from_u128(1), &[update(1, id, 0, org("First name"))]);
    device.apply_pull(server.pull(0));
    // Read (and so parsed and kept) before each change.
    assert_eq!(
        device.entity::<Organisation>(id).unwrap().name,
        "First name"
    );

    // A newer copy pulled from the server.
    server.push(Uuid::from_u128(1), &[update(2, id, 1, name("Second name"))]);
    device.apply_pull(server.pull(device.cursor));
    assert_eq!(
        device.entity::<Organisation>(id).unwrap().name,
        "Second name"
    );

    // This device's change on top, then the server's answer, then the pull that brings it back.
    device
        .stage_update(
            Uuid::new_v4(),
            EntityKind::Organisation,
            id,
            name("Third name"),
        )
        .unwrap();
    assert_eq!(
        device.entity::<Organisation>(id).unwrap().name,
        "Third name"
    );
    let results = server.push(device.device_id, &device.outbox.clone());
    device.apply_push(&results);
    assert_eq!(
        device.entity::<Organisation>(id).unwrap().name,
        "Third name"
    );
    device.apply_pull(server.pull(device.cursor));
    assert_eq!(
        device.entity::<Organisation>(id).unwrap().name,
        "Third name"
    );

    // A copy held directly (loaded from the device's disk) replaces the parsed one.
    let mut loaded = device.confirmed()[&id].clone();
    loaded.fields.insert("name".into(), json!("Loaded name"));
    device.hold(loaded);
    assert_eq!(
        device.entity::<Organisation>(id).unwrap().name,
        "Loaded name"
    );

    // A copy that is not valid reads as nothing, and a valid one after it reads again.
    let mut broken = device.confirmed()[&id].clone();
    broken.fields.insert("name".into(), json!(""));
    device.hold(broken);
    assert_eq!(device.entity::<Organisation>(id), None);
    assert!(device.entities::<Organisation>().is_empty());
    let mut mended = device.confirmed()[&id].clone();
    mended.fields.insert("name".into(), json!("Mended name"));
    device.hold(mended);
    assert_eq!(device.entities::<Organisation>()[0].1.name, "Mended name");

    // Deleted on the server: gone from every read.
    let deleting = Mutation {
        op: MutationOp::Delete,
        ..update(3, id, device.confirmed()[&id].version, name("x"))
    };
    server.push(Uuid::from_u128(1), &[deleting]);
    device.apply_pull(server.pull(device.cursor));
    assert_eq!(device.entity::<Organisation>(id), None);
    assert!(device.all::<Organisation>().is_empty());
    // A clone keeps what was parsed but reads the same.
    let copy = device.clone();
    assert_eq!(copy, device);
    assert_eq!(copy.entity::<Organisation>(id), None);
}
