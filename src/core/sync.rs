//! The sync protocol (DESIGN §4): wire types, the server's merge rule, the push algorithm over any
//! storage, and the client's replica with its outbox.
//!
//! Everything here is pure, so the same code runs in the server (over a SQLite transaction), in
//! the browser (over memory and local storage) and in property tests (over hash maps).
//!
//! The rules, in one place:
//! * A mutation carries only the fields it changes and the record version it was based on.
//! * A device's mutations are applied in sequence order; a replayed mutation id returns the
//!   stored result and changes nothing; a gap in the sequence is refused (retry later).
//! * A field changed by *another device* since the mutation's base version, to a different
//!   value, is a conflict: the stored value stays, the incoming one is kept beside it for a
//!   person to choose, and every other field of the mutation is merged.
//! * A later write to that field from someone who has seen the conflict resolves it.

use std::any::Any;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::record::{Entity, EntityKind};
use super::validation::ValidationError;

pub use super::record::Fields;

/// Largest number of mutations accepted in one push.
pub const MAX_PUSH_MUTATIONS: usize = 500;
/// Largest number of records returned by one pull; the client pulls again while `more` is set.
pub const MAX_PULL_RECORDS: usize = 1000;

/// First wait after a failed sync; doubled after each further failure, up to the maximum.
pub const RETRY_FIRST_MS: f64 = 2_000.0;
/// Longest wait between attempts while the server cannot be reached (five minutes).
pub const RETRY_MAX_MS: f64 = 300_000.0;

/// Milliseconds a device waits before attempt `failures + 1`: exponential backoff with jitter
/// (`jitter` in 0..1 picks between half and all of the delay), so devices that come back online
/// together do not all retry at the same moment.
pub fn retry_delay_ms(failures: u32, jitter: f64) -> f64 {
    let ceiling = (RETRY_FIRST_MS * 2f64.powi(failures.min(20) as i32)).min(RETRY_MAX_MS);
    ceiling * (0.5 + 0.5 * jitter.clamp(0.0, 1.0))
}

/// Who last wrote a field, and in which record version: the basis of conflict detection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldStamp {
    pub version: u64,
    pub device: Uuid,
    /// Who wrote the value now stored, and when: shown beside the other value of a conflict.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub by: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<DateTime<Utc>>,
}

/// Two people changed the same field at once: both values are kept until a person chooses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldConflict {
    pub field: String,
    /// The value that arrived second and was *not* written, kept here so nothing is lost.
    pub other_value: Value,
    pub other_by: String,
    pub other_at: DateTime<Utc>,
    /// The record version at which the conflict was recorded; a write based on this version
    /// or later has seen it and resolves it.
    pub version: u64,
}

/// A synced record: its envelope (id, server version, last change) and its fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncRecord {
    pub entity: EntityKind,
    pub id: Uuid,
    /// Server-assigned, +1 on every applied mutation.
    pub version: u64,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
    /// A tombstone: kept so that other devices learn of the deletion.
    pub deleted: bool,
    pub fields: Fields,
    #[serde(default)]
    pub field_stamps: BTreeMap<String, FieldStamp>,
    #[serde(default)]
    pub conflicts: Vec<FieldConflict>,
}

impl SyncRecord {
    /// The record as a typed entity, if it is of that kind and valid.
    pub fn typed<E: Entity>(&self) -> Option<E> {
        (self.entity == E::KIND)
            .then(|| E::from_fields(&self.fields).ok())
            .flatten()
    }

    /// A field holding a record's or person's id (a team, a meeting, an owner), if it does.
    pub fn uuid_field(&self, field: &str) -> Option<Uuid> {
        self.fields
            .get(field)
            .and_then(|v| v.as_str())
            .and_then(|s| Uuid::parse_str(s).ok())
    }
}

/// What a mutation does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum MutationOp {
    /// Create (base version 0) or change the named fields.
    Update { fields: Fields },
    /// Delete the record (leaves a tombstone).
    Delete,
}

/// One change made on a device, queued in its outbox until the server answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mutation {
    /// Made on the device; the server never applies the same id twice.
    pub mutation_id: Uuid,
    /// Per-device sequence number, from 1, with no gaps.
    pub seq: u64,
    pub entity: EntityKind,
    pub id: Uuid,
    /// The record version the device saw when it made the change (0 for a new record).
    pub base_version: u64,
    pub op: MutationOp,
}

impl Mutation {
    /// Why the change cannot be stored whatever the rules say: a null character in any field
    /// name or value, at any depth. PostgreSQL stores neither text nor JSON holding one, and
    /// no person types one, so both engines refuse it the same way, before the rules run.
    pub fn unstorable(&self) -> Option<String> {
        fn has_null(value: &serde_json::Value) -> bool {
            match value {
                serde_json::Value::String(s) => s.contains('\0'),
                serde_json::Value::Array(items) => items.iter().any(has_null),
                serde_json::Value::Object(map) => {
                    map.iter().any(|(k, v)| k.contains('\0') || has_null(v))
                }
                _ => false,
            }
        }
        let MutationOp::Update { fields } = &self.op else {
            return None;
        };
        let (name, _) = fields
            .iter()
            .find(|(name, value)| name.contains('\0') || has_null(value))?;
        let what = if name.contains('\0') {
            "A field's name".to_owned()
        } else {
            format!("The field \"{name}\"")
        };
        Some(format!(
            "{}: {what} contains a character that cannot be stored (a null character); remove it and save again",
            self.entity.label()
        ))
    }
}

/// A batch of mutations from one device, in sequence order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushRequest {
    pub device_id: Uuid,
    pub mutations: Vec<Mutation>,
}

/// The server's answer to one mutation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case", deny_unknown_fields)]
pub enum MutationResult {
    /// Written; the record is now at `version`.
    Applied { mutation_id: Uuid, version: u64 },
    /// Written except for `fields`, which someone else changed at the same time; both values
    /// are kept on the record for a person to choose.
    Conflict {
        mutation_id: Uuid,
        version: u64,
        fields: Vec<String>,
    },
    /// Not written, with the reason. `retryable` means "send it again later" (a sequence gap);
    /// otherwise the change cannot be made as it stands.
    Rejected {
        mutation_id: Uuid,
        reason: String,
        retryable: bool,
        /// The device's copy of the record is out of step with the server's (it names a
        /// version the server never issued): the device fetches everything again.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        resync: bool,
    },
}

impl MutationResult {
    /// The mutation this answers.
    pub fn mutation_id(&self) -> Uuid {
        match self {
            Self::Applied { mutation_id, .. }
            | Self::Conflict { mutation_id, .. }
            | Self::Rejected { mutation_id, .. } => *mutation_id,
        }
    }

    /// True when the server has finished with the mutation (it leaves the outbox).
    pub fn is_final(&self) -> bool {
        !matches!(
            self,
            Self::Rejected {
                retryable: true,
                ..
            }
        )
    }

    fn rejected(mutation_id: Uuid, reason: impl Into<String>) -> Self {
        Self::Rejected {
            mutation_id,
            reason: reason.into(),
            retryable: false,
            resync: false,
        }
    }
}

/// The answer to a push: one result per mutation, in the order sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushResponse {
    pub results: Vec<MutationResult>,
}

/// Every visible change after a cursor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PullResponse {
    pub records: Vec<SyncRecord>,
    /// Pass this as `since` next time.
    pub cursor: u64,
    /// More changes are waiting: pull again straight away.
    pub more: bool,
}

impl PullResponse {
    /// The answer when nothing changed after `cursor`: no records, the same cursor.
    pub fn nothing_after(cursor: u64) -> Self {
        Self {
            records: Vec::new(),
            cursor,
            more: false,
        }
    }
}

/// A [`PullResponse`] whose records are still JSON text, each checked only as JSON: the app
/// reads them into [`SyncRecord`]s a few at a time ([`RawPullResponse::record`]), so a page of
/// a thousand records never holds a phone's screen for long.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPullResponse<'a> {
    #[serde(borrow)]
    pub records: Vec<&'a serde_json::value::RawValue>,
    pub cursor: u64,
    pub more: bool,
}

impl<'a> RawPullResponse<'a> {
    /// Reads the answer's outline; the records stay text.
    pub fn parse(json: &'a str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(json)
    }

    /// Reads one of [`RawPullResponse::records`] as a record.
    pub fn record(raw: &serde_json::value::RawValue) -> Result<SyncRecord, serde_json::Error> {
        serde_json::from_str(raw.get())
    }

    /// The answer with the records read, as [`PullResponse`].
    pub fn with_records(&self, records: Vec<SyncRecord>) -> PullResponse {
        PullResponse {
            records,
            cursor: self.cursor,
            more: self.more,
        }
    }
}

/// How a mutation's sequence number relates to what the server has seen from its device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SequenceCheck {
    /// The next one expected: process it.
    Next,
    /// Already used by an earlier mutation.
    AlreadySeen,
    /// Earlier mutations have not arrived yet.
    Gap { expected: u64 },
}

/// Compares `seq` with the last sequence number processed for the device.
pub fn check_sequence(last_seq: u64, seq: u64) -> SequenceCheck {
    if seq == last_seq + 1 {
        SequenceCheck::Next
    } else if seq <= last_seq {
        SequenceCheck::AlreadySeen
    } else {
        SequenceCheck::Gap {
            expected: last_seq + 1,
        }
    }
}

/// A mutation merged into a record.
#[derive(Debug, Clone, PartialEq)]
pub struct Merged {
    pub record: SyncRecord,
    /// Fields left unchanged because of a concurrent edit (now listed in `record.conflicts`).
    pub conflicts: Vec<String>,
}

/// Who is writing, from which device, when.
#[derive(Debug, Clone)]
pub struct Writer<'a> {
    pub device: Uuid,
    pub name: &'a str,
    pub now: DateTime<Utc>,
}

/// The server's merge rule for one mutation against the stored record (if any).
///
/// Returns the record to store, or the reason the mutation cannot be applied. The merged
/// record is validated as a whole, so a record is never stored half-valid.
pub fn merge(
    current: Option<&SyncRecord>,
    m: &Mutation,
    writer: &Writer<'_>,
) -> Result<Merged, ValidationError> {
    let label = m.entity.label();
    if let Some(cur) = current {
        if cur.entity != m.entity {
            return Err(ValidationError::record(format!(
                "{label}: this id already belongs to a {}",
                cur.entity.label().to_lowercase()
            )));
        }
        if cur.deleted {
            return Err(ValidationError::record(format!(
                "{label}: it was deleted by {} and can no longer be changed",
                cur.updated_by
            )));
        }
    } else if m.base_version != 0 || matches!(m.op, MutationOp::Delete) {
        return Err(ValidationError::record(format!(
            "{label}: it does not exist (or you may not see it)"
        )));
    }

    let version = current.map_or(0, |c| c.version) + 1;
    let mut record = current.cloned().unwrap_or_else(|| SyncRecord {
        entity: m.entity,
        id: m.id,
        version: 0,
        updated_at: writer.now,
        updated_by: writer.name.to_owned(),
        deleted: false,
        fields: Fields::new(),
        field_stamps: BTreeMap::new(),
        conflicts: Vec::new(),
    });
    let mut conflicts = Vec::new();

    match &m.op {
        MutationOp::Delete => {
            if record.version > m.base_version {
                return Err(ValidationError::record(format!(
                    "{label}: {} changed it after you loaded it; look at the change and delete it again if you still want to",
                    record.updated_by
                )));
            }
            record.deleted = true;
        }
        MutationOp::Update { fields } => {
            let allowed = m.entity.field_names();
            if let Some(unknown) = fields.keys().find(|k| !allowed.contains(&k.as_str())) {
                return Err(ValidationError::field(
                    unknown,
                    format!("{label}: there is no field called \"{unknown}\""),
                ));
            }
            for (name, value) in fields {
                let stamp = record.field_stamps.get(name);
                let changed_by_other_since_base =
                    stamp.is_some_and(|s| s.version > m.base_version && s.device != writer.device);
                let differs = record.fields.get(name).unwrap_or(&Value::Null) != value;
                if changed_by_other_since_base && differs {
                    conflicts.push(name.clone());
                    record.conflicts.push(FieldConflict {
                        field: name.clone(),
                        other_value: value.clone(),
                        other_by: writer.name.to_owned(),
                        other_at: writer.now,
                        version,
                    });
                    continue;
                }
                // A writer who has seen the conflicts on this field settles them.
                record
                    .conflicts
                    .retain(|c| !(c.field == *name && c.version <= m.base_version));
                if differs || stamp.is_none() {
                    record.fields.insert(name.clone(), value.clone());
                    record.field_stamps.insert(
                        name.clone(),
                        FieldStamp {
                            version,
                            device: writer.device,
                            by: writer.name.to_owned(),
                            at: Some(writer.now),
                        },
                    );
                }
            }
            let changed: Vec<String> = fields
                .keys()
                .filter(|k| !conflicts.contains(k))
                .cloned()
                .collect();
            if m.entity
                .after_change(&mut record.fields, &changed)
                .is_some()
            {
                record.field_stamps.insert(
                    "status".into(),
                    FieldStamp {
                        version,
                        device: writer.device,
                        by: writer.name.to_owned(),
                        at: Some(writer.now),
                    },
                );
            }
            m.entity.validate_fields(&record.fields)?;
        }
    }

    record.version = version;
    record.updated_at = writer.now;
    record.updated_by = writer.name.to_owned();
    Ok(Merged { record, conflicts })
}

/// The storage a push is applied to: a SQLite transaction on the server, maps in tests.
///
/// Every method may fail with the store's own error, which aborts the whole push without
/// acknowledging anything.
pub trait SyncStore {
    type Error;
    /// The stored answer for a mutation id already processed.
    fn processed(&mut self, mutation_id: Uuid) -> Result<Option<MutationResult>, Self::Error>;
    /// The last sequence number processed for the device (0 if none).
    fn last_seq(&mut self, device: Uuid) -> Result<u64, Self::Error>;
    /// The stored record with this id, of any kind, including tombstones.
    fn record(&mut self, id: Uuid) -> Result<Option<SyncRecord>, Self::Error>;
    /// Whether the writer may see this stored record at all. A hidden record is reported as
    /// missing, never described, so a push cannot be used to learn about other teams' data.
    fn may_see(&mut self, record: &SyncRecord) -> Result<bool, Self::Error>;
    /// Whether the writer may make this change (`Err(reason)` to refuse), e.g. need-to-know.
    fn authorize(
        &mut self,
        before: Option<&SyncRecord>,
        after: &SyncRecord,
    ) -> Result<Result<(), String>, Self::Error>;
    /// Stores the record (and makes it visible to pulls after the current cursor).
    fn save_record(&mut self, record: &SyncRecord) -> Result<(), Self::Error>;
    /// Records the answer for the mutation and advances the device's sequence.
    fn save_processed(
        &mut self,
        device: Uuid,
        seq: u64,
        result: &MutationResult,
    ) -> Result<(), Self::Error>;
}

/// Applies a device's batch in order, idempotently, answering every mutation.
pub fn process_push<S: SyncStore>(
    store: &mut S,
    writer: &Writer<'_>,
    mutations: &[Mutation],
) -> Result<Vec<MutationResult>, S::Error> {
    let mut results = Vec::with_capacity(mutations.len());
    for m in mutations {
        if let Some(previous) = store.processed(m.mutation_id)? {
            results.push(previous);
            continue;
        }
        match check_sequence(store.last_seq(writer.device)?, m.seq) {
            SequenceCheck::Gap { expected } => {
                results.push(MutationResult::Rejected {
                    mutation_id: m.mutation_id,
                    reason: format!(
                        "Change number {} arrived before change number {expected} from this device; it will be sent again",
                        m.seq
                    ),
                    retryable: true,
                    resync: false,
                });
                continue;
            }
            SequenceCheck::AlreadySeen => {
                // Not stored: the sequence number belongs to another mutation.
                results.push(MutationResult::rejected(
                    m.mutation_id,
                    format!(
                        "Change number {} from this device was already used by another change",
                        m.seq
                    ),
                ));
                continue;
            }
            SequenceCheck::Next => {}
        }
        let current = store.record(m.id)?;
        let hidden = match &current {
            Some(record) => !store.may_see(record)?,
            None => false,
        };
        let result = if hidden {
            MutationResult::rejected(
                m.mutation_id,
                format!(
                    "{}: it does not exist (or you may not see it)",
                    m.entity.label()
                ),
            )
        } else if let Some(reason) = m.unstorable() {
            MutationResult::rejected(m.mutation_id, reason)
        } else if current.as_ref().is_some_and(|c| m.base_version > c.version) {
            MutationResult::Rejected {
                mutation_id: m.mutation_id,
                reason: format!(
                    "{}: this device is ahead of the server, so the change was not saved; the device will fetch the latest copy again",
                    m.entity.label()
                ),
                retryable: false,
                resync: true,
            }
        } else {
            // Merging and deciding are pure over the stored records: should either panic on a
            // value nobody foresaw, that one change is refused and the rest of the batch goes
            // on (a device must never be stuck resending a batch that fails as a whole).
            let decided = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                merge(current.as_ref(), m, writer).map(|merged| {
                    let decision = store.authorize(current.as_ref(), &merged.record);
                    (merged, decision)
                })
            }));
            match decided {
                Err(_) => MutationResult::rejected(
                    m.mutation_id,
                    format!(
                        "{}: this change could not be processed and was not saved; check what was entered and make it again",
                        m.entity.label()
                    ),
                ),
                Ok(Err(e)) => MutationResult::rejected(m.mutation_id, e.message),
                Ok(Ok((merged, decision))) => match decision? {
                    Err(reason) => MutationResult::rejected(m.mutation_id, reason),
                    Ok(()) => {
                        store.save_record(&merged.record)?;
                        if merged.conflicts.is_empty() {
                            MutationResult::Applied {
                                mutation_id: m.mutation_id,
                                version: merged.record.version,
                            }
                        } else {
                            MutationResult::Conflict {
                                mutation_id: m.mutation_id,
                                version: merged.record.version,
                                fields: merged.conflicts,
                            }
                        }
                    }
                },
            }
        };
        store.save_processed(writer.device, m.seq, &result)?;
        results.push(result);
    }
    Ok(results)
}

/// A record as the app shows it: the server's copy with this device's unsent changes on top.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalView {
    pub entity: EntityKind,
    pub id: Uuid,
    /// The server version the unsent changes are based on (0: not yet on the server).
    pub version: u64,
    pub fields: Fields,
    pub unsent: bool,
    pub conflicts: Vec<FieldConflict>,
    pub updated_at: Option<DateTime<Utc>>,
    pub updated_by: Option<String>,
    /// Who wrote each field's stored value and when (server copy only).
    pub field_stamps: BTreeMap<String, FieldStamp>,
}

impl LocalView {
    /// The record as a typed entity, if valid.
    pub fn typed<E: Entity>(&self) -> Option<E> {
        (self.entity == E::KIND)
            .then(|| E::from_fields(&self.fields).ok())
            .flatten()
    }
}

/// A change a person or a command asks for, before it is queued. Commands (agree an action,
/// record a reading, move a series) are pure functions that return these; the app stages them
/// through one door ([`Replica::stage_all`]), all or none.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// A record's content set to these fields (a new record, or every field of one); only
    /// fields that differ from what the device shows are sent.
    Put {
        kind: EntityKind,
        id: Uuid,
        fields: Fields,
    },
    /// What a form changed: the fields where `after` differs from `before` (what the form
    /// showed, at `base_version`; 0 for a new record), so edits made elsewhere survive.
    Edit {
        kind: EntityKind,
        id: Uuid,
        base_version: u64,
        before: Fields,
        after: Fields,
    },
    /// A record deleted (a tombstone tells other devices).
    Delete { id: Uuid },
    /// A same-field conflict settled by choosing a value (always sent, even if unchanged).
    Resolve {
        id: Uuid,
        field: String,
        value: Value,
    },
}

impl Change {
    /// A typed entity as the whole new content of record `id`.
    pub fn put<E: Entity>(id: Uuid, entity: &E) -> Self {
        Self::Put {
            kind: E::KIND,
            id,
            fields: entity.to_fields(),
        }
    }

    /// What a form that showed `before` (at `base_version`; `None` for a new record) changed.
    pub fn edit<E: Entity>(id: Uuid, base_version: u64, before: Option<&E>, after: &E) -> Self {
        Self::Edit {
            kind: E::KIND,
            id,
            base_version,
            before: before.map(Entity::to_fields).unwrap_or_default(),
            after: after.to_fields(),
        }
    }

    /// The record the change is to.
    pub fn id(&self) -> Uuid {
        match self {
            Self::Put { id, .. }
            | Self::Edit { id, .. }
            | Self::Delete { id }
            | Self::Resolve { id, .. } => *id,
        }
    }
}

/// A change the server refused, kept so the app can tell the person what was not saved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefusedChange {
    pub entity: EntityKind,
    pub id: Uuid,
    pub reason: String,
}

/// A device's copy of the data it may see, plus its outbox of unsent changes.
///
/// Edits are applied to the local view at once (the app never waits for the network) and queued
/// as mutations; a pull replaces the server copy and the queued edits stay on top until the
/// server answers them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Replica {
    pub device_id: Uuid,
    /// Sequence number of the next mutation this device makes.
    pub next_seq: u64,
    /// Pull cursor: the server's change sequence already held.
    pub cursor: u64,
    /// The server's copy of each record (changed only through [`Replica::hold`] and the
    /// replica's own methods, so the parsed entities below never go stale).
    confirmed: BTreeMap<Uuid, SyncRecord>,
    pub outbox: Vec<Mutation>,
    /// Changes the server applied that no pull has brought back yet, with the version they
    /// made: still shown, so a record never blinks out between the push and the next pull.
    #[serde(default)]
    pub accepted: Vec<(Mutation, u64)>,
    /// Each server copy's typed entity, parsed on its first read and dropped when the copy is
    /// replaced: pages re-read the same records on every change, and parsing (deserialising and
    /// checking) was most of a list's cost.
    #[serde(skip)]
    parsed: ParsedEntities,
}

/// The typed entities of a replica's server copies, by record id. A record that is not valid as
/// its kind is remembered as such, so it is not parsed again either.
#[derive(Default)]
struct ParsedEntities(Mutex<HashMap<Uuid, Arc<dyn Any + Send + Sync>>>);

/// What the cache holds for a record that did not parse as its kind.
struct NotValid;

impl ParsedEntities {
    /// The record's entity, parsed now if it was not before.
    fn get<E: Entity>(&self, record: &SyncRecord) -> Option<Arc<E>> {
        if record.entity != E::KIND {
            return None;
        }
        let mut held = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let parsed =
            held.entry(record.id)
                .or_insert_with(|| match E::from_fields(&record.fields) {
                    Ok(entity) => Arc::new(entity),
                    Err(_) => Arc::new(NotValid),
                });
        Arc::clone(parsed).downcast::<E>().ok()
    }

    fn forget(&mut self, id: &Uuid) {
        self.0
            .get_mut()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .remove(id);
    }

    fn len(&self) -> usize {
        self.0.lock().map_or(0, |held| held.len())
    }
}

impl Clone for ParsedEntities {
    fn clone(&self) -> Self {
        let held = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        Self(Mutex::new(held.clone()))
    }
}

/// A cache says nothing about a replica's content.
impl PartialEq for ParsedEntities {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl std::fmt::Debug for ParsedEntities {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ParsedEntities({} records)", self.len())
    }
}

impl Replica {
    /// An empty replica for a new device.
    pub fn new(device_id: Uuid) -> Self {
        Self {
            device_id,
            next_seq: 1,
            cursor: 0,
            confirmed: BTreeMap::new(),
            outbox: Vec::new(),
            accepted: Vec::new(),
            parsed: ParsedEntities::default(),
        }
    }

    /// The server's copy of every record this device holds (tombstones included).
    pub fn confirmed(&self) -> &BTreeMap<Uuid, SyncRecord> {
        &self.confirmed
    }

    /// Keeps a server copy of a record as it is (loading the device's saved copy), replacing
    /// whatever was held for it.
    pub fn hold(&mut self, record: SyncRecord) {
        self.parsed.forget(&record.id);
        self.confirmed.insert(record.id, record);
    }

    /// The server's copy of a record as `E` when nothing of this device's is on top of it
    /// (parsed once, shared after), `None` when something is or it is not valid as `E`.
    fn confirmed_entity<E: Entity>(&self, id: Uuid) -> Option<Arc<E>> {
        self.confirmed
            .get(&id)
            .filter(|r| !r.deleted)
            .and_then(|r| self.parsed.get::<E>(r))
    }

    /// Whether any change of this device (unsent, or sent and not yet pulled back) is on top of
    /// the server's copy of a record.
    fn changed_here(&self, id: Uuid) -> bool {
        self.outbox.iter().any(|m| m.id == id) || self.accepted.iter().any(|(m, _)| m.id == id)
    }

    /// One record as `E` (server copy plus this device's changes), parsed at most once while
    /// nothing changes it; `None` if unknown, deleted or not valid as `E`.
    pub fn entity<E: Entity>(&self, id: Uuid) -> Option<E> {
        if self.changed_here(id) {
            self.view(id).and_then(|v| v.typed::<E>())
        } else {
            self.confirmed_entity::<E>(id).map(|e| (*e).clone())
        }
    }

    /// The record as shown: server copy plus unsent changes; `None` if unknown or deleted.
    pub fn view(&self, id: Uuid) -> Option<LocalView> {
        let confirmed = self.confirmed.get(&id);
        let mut view = confirmed.map(|r| LocalView {
            entity: r.entity,
            id,
            version: r.version,
            fields: r.fields.clone(),
            unsent: false,
            conflicts: r.conflicts.clone(),
            updated_at: Some(r.updated_at),
            updated_by: Some(r.updated_by.clone()),
            field_stamps: r.field_stamps.clone(),
        });
        let mut deleted = confirmed.is_some_and(|r| r.deleted);
        let confirmed_version = confirmed.map_or(0, |r| r.version);
        let accepted = self
            .accepted
            .iter()
            .filter(|(m, version)| m.id == id && *version > confirmed_version)
            .map(|(m, _)| (m, false));
        let queued = self.outbox.iter().filter(|m| m.id == id).map(|m| (m, true));
        for (m, unsent) in accepted.chain(queued) {
            let v = view.get_or_insert_with(|| LocalView {
                entity: m.entity,
                id,
                version: 0,
                fields: Fields::new(),
                unsent,
                conflicts: Vec::new(),
                updated_at: None,
                updated_by: None,
                field_stamps: BTreeMap::new(),
            });
            v.unsent |= unsent;
            match &m.op {
                MutationOp::Update { fields } => {
                    for (k, val) in fields {
                        v.fields.insert(k.clone(), val.clone());
                    }
                }
                MutationOp::Delete => deleted = true,
            }
        }
        view.filter(|_| !deleted)
    }

    /// Every live record of a kind that is valid as `E`, in id order.
    pub fn all<E: Entity>(&self) -> Vec<(LocalView, E)> {
        let mut ids: Vec<Uuid> = self
            .confirmed
            .values()
            .filter(|r| r.entity == E::KIND)
            .map(|r| r.id)
            .chain(
                self.outbox
                    .iter()
                    .chain(self.accepted.iter().map(|(m, _)| m))
                    .filter(|m| m.entity == E::KIND)
                    .map(|m| m.id),
            )
            .collect();
        ids.sort();
        ids.dedup();
        let changed: std::collections::HashSet<Uuid> = self.changed_ids();
        ids.into_iter()
            .filter_map(|id| self.view(id))
            .filter_map(|v| {
                let entity = if changed.contains(&v.id) {
                    v.typed::<E>()
                } else {
                    self.confirmed_entity::<E>(v.id).map(|e| (*e).clone())
                };
                entity.map(|e| (v, e))
            })
            .collect()
    }

    /// Records with a change of this device on top of the server's copy.
    fn changed_ids(&self) -> std::collections::HashSet<Uuid> {
        self.outbox
            .iter()
            .chain(self.accepted.iter().map(|(m, _)| m))
            .map(|m| m.id)
            .collect()
    }

    /// Every live record of a kind that is valid as `E`, in id order, as [`Replica::all`] gives
    /// them but without the rest of each view: a record with no change of this device on top is
    /// read straight from the server's copy, with nothing copied first. For lists that need
    /// only the entities (a directory, a team's actions).
    pub fn entities<E: Entity>(&self) -> Vec<(Uuid, E)> {
        self.live_of_kind(E::KIND)
            .into_iter()
            .filter_map(|(id, confirmed)| {
                let entity = match confirmed {
                    Some(record) => self.parsed.get::<E>(record).map(|e| (*e).clone()),
                    None => self.view(id).and_then(|v| v.typed::<E>()),
                };
                entity.map(|e| (id, e))
            })
            .collect()
    }

    /// The ids [`Replica::entities`] reads, in id order, each with the server's copy to read it
    /// from when no change of this device is on top of it (`None`: read its view). The same
    /// code for every kind: the order is worked out here once, not sorted again in each kind's
    /// copy of `entities` (the app's download).
    fn live_of_kind(&self, kind: EntityKind) -> Vec<(Uuid, Option<&SyncRecord>)> {
        let changed = self.changed_ids();
        let mut ids: Vec<(Uuid, Option<&SyncRecord>)> = self
            .confirmed
            .values()
            .filter(|r| r.entity == kind && !r.deleted && !changed.contains(&r.id))
            .map(|r| (r.id, Some(r)))
            .collect();
        if !changed.is_empty() {
            ids.extend(changed.into_iter().map(|id| (id, None)));
            ids.sort_by_key(|(id, _)| *id);
        }
        ids
    }

    /// Records that hold a same-field conflict waiting for a person to choose.
    pub fn conflicted(&self) -> impl Iterator<Item = &SyncRecord> {
        self.confirmed
            .values()
            .filter(|r| !r.deleted && !r.conflicts.is_empty())
    }

    /// Queues a change to (or creation of) a record, after checking the result is valid, and
    /// shows it locally at once. Only fields that differ from the current view are sent.
    pub fn stage_update(
        &mut self,
        mutation_id: Uuid,
        entity: EntityKind,
        id: Uuid,
        changes: Fields,
    ) -> Result<Option<&Mutation>, ValidationError> {
        let current = self.view(id);
        if let Some(cur) = &current {
            if cur.entity != entity {
                return Err(ValidationError::record(
                    "This id belongs to another kind of record",
                ));
            }
        }
        let mut merged = current
            .as_ref()
            .map(|v| v.fields.clone())
            .unwrap_or_default();
        let mut changed = Fields::new();
        for (k, v) in changes {
            if merged.get(&k) != Some(&v) {
                merged.insert(k.clone(), v.clone());
                changed.insert(k, v);
            }
        }
        entity.validate_fields(&merged)?;
        if changed.is_empty() {
            return Ok(None);
        }
        Ok(Some(self.push_mutation(
            mutation_id,
            entity,
            id,
            MutationOp::Update { fields: changed },
        )))
    }

    /// Queues what a person changed in a form: the fields where `after` differs from `before`
    /// (what the form showed when they started, at `base_version`). Fields they did not touch
    /// are not sent, so an edit made elsewhere meanwhile is never overwritten by a stale form,
    /// and a field both changed is caught as a conflict by the server.
    pub fn stage_edit(
        &mut self,
        mutation_id: Uuid,
        entity: EntityKind,
        id: Uuid,
        base_version: u64,
        before: &Fields,
        after: Fields,
    ) -> Result<Option<&Mutation>, ValidationError> {
        let changes: Fields = after
            .into_iter()
            .filter(|(k, v)| before.get(k) != Some(v))
            .collect();
        let mut merged = self.view(id).map(|v| v.fields).unwrap_or_default();
        merged.extend(changes.clone());
        entity.validate_fields(&merged)?;
        if changes.is_empty() {
            return Ok(None);
        }
        let mutation = Mutation {
            mutation_id,
            seq: self.next_seq,
            entity,
            id,
            base_version,
            op: MutationOp::Update { fields: changes },
        };
        self.next_seq += 1;
        self.outbox.push(mutation);
        Ok(self.outbox.last())
    }

    /// Settles a conflict on `field` by choosing `value` (which may equal the current value, so
    /// unlike [`Replica::stage_update`] it is always sent).
    pub fn stage_resolution(
        &mut self,
        mutation_id: Uuid,
        id: Uuid,
        field: &str,
        value: Value,
    ) -> Option<&Mutation> {
        let view = self.view(id)?;
        let mut fields = Fields::new();
        fields.insert(field.to_owned(), value);
        Some(self.push_mutation(mutation_id, view.entity, id, MutationOp::Update { fields }))
    }

    /// Queues changes as one: each is checked as it is staged (a later change sees the earlier
    /// ones), then `check` sees the replica with all of them queued (from outbox position
    /// `queued`); if anything is refused, nothing is kept and the replica is as before.
    pub fn stage_all(
        &mut self,
        changes: Vec<Change>,
        mut new_mutation_id: impl FnMut() -> Uuid,
        check: impl FnOnce(&mut Replica, usize) -> Result<(), ValidationError>,
    ) -> Result<(), ValidationError> {
        // Staging only appends to the outbox, so undoing it is cheap.
        let (queued, next_seq) = (self.outbox.len(), self.next_seq);
        let staged = || -> Result<(), ValidationError> {
            for change in changes {
                self.stage_change(new_mutation_id(), change)?;
            }
            Ok(())
        };
        let result = staged().and_then(|()| check(self, queued));
        if result.is_err() {
            self.outbox.truncate(queued);
            self.next_seq = next_seq;
        }
        result
    }

    /// Queues one change (see [`Change`]).
    fn stage_change(&mut self, mutation_id: Uuid, change: Change) -> Result<(), ValidationError> {
        match change {
            Change::Put { kind, id, fields } => {
                self.stage_update(mutation_id, kind, id, fields)?;
            }
            Change::Edit {
                kind,
                id,
                base_version,
                before,
                after,
            } => {
                self.stage_edit(mutation_id, kind, id, base_version, &before, after)?;
            }
            Change::Delete { id } => {
                self.stage_delete(mutation_id, id);
            }
            Change::Resolve { id, field, value } => {
                self.stage_resolution(mutation_id, id, &field, value);
            }
        }
        Ok(())
    }

    /// Queues a typed entity as the full new content of a record.
    pub fn stage_entity<E: Entity>(
        &mut self,
        mutation_id: Uuid,
        id: Uuid,
        entity: &E,
    ) -> Result<Option<&Mutation>, ValidationError> {
        self.stage_update(mutation_id, E::KIND, id, entity.to_fields())
    }

    /// Queues a deletion.
    pub fn stage_delete(&mut self, mutation_id: Uuid, id: Uuid) -> Option<&Mutation> {
        let view = self.view(id)?;
        Some(self.push_mutation(mutation_id, view.entity, id, MutationOp::Delete))
    }

    fn push_mutation(
        &mut self,
        mutation_id: Uuid,
        entity: EntityKind,
        id: Uuid,
        op: MutationOp,
    ) -> &Mutation {
        let base_version = self.confirmed.get(&id).map_or(0, |r| r.version);
        self.outbox.push(Mutation {
            mutation_id,
            seq: self.next_seq,
            entity,
            id,
            base_version,
            op,
        });
        self.next_seq += 1;
        self.outbox.last().expect("just pushed")
    }

    /// Takes the server's answers to a push: finished mutations leave the outbox; refused ones
    /// are returned so the app can say what was not saved.
    pub fn apply_push(&mut self, results: &[MutationResult]) -> Vec<RefusedChange> {
        let mut refused = Vec::new();
        for result in results.iter().filter(|r| r.is_final()) {
            let Some(pos) = self
                .outbox
                .iter()
                .position(|m| m.mutation_id == result.mutation_id())
            else {
                continue;
            };
            let m = self.outbox.remove(pos);
            match result {
                MutationResult::Rejected { reason, resync, .. } => {
                    if *resync {
                        // Out of step with the server: fetch everything again, and take the
                        // server's copy of this record whatever version the device holds.
                        self.confirmed.remove(&m.id);
                        self.parsed.forget(&m.id);
                        self.cursor = 0;
                    }
                    refused.push(RefusedChange {
                        entity: m.entity,
                        id: m.id,
                        reason: reason.clone(),
                    })
                }
                MutationResult::Applied { version, .. } => self.accepted.push((m, *version)),
                MutationResult::Conflict { .. } => {}
            }
        }
        refused
    }

    /// Takes a pull: newer server copies replace older ones and the cursor moves on.
    pub fn apply_pull(&mut self, pull: PullResponse) {
        for record in pull.records {
            let newer = self
                .confirmed
                .get(&record.id)
                .is_none_or(|r| r.version <= record.version);
            if newer {
                self.hold(record);
            }
        }
        self.cursor = self.cursor.max(pull.cursor);
        // A complete pull after a push brings back every record it changed that this device
        // may still see, so nothing accepted needs showing on top any more.
        if pull.more {
            let confirmed = &self.confirmed;
            self.accepted
                .retain(|(m, v)| confirmed.get(&m.id).is_none_or(|r| r.version < *v));
        } else {
            self.accepted.clear();
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
