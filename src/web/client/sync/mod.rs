//! The app's sync client: the local replica, its persistence on this device, and the
//! background push/pull loop. Pages read records from here and change them through one door
//! ([`SyncClient::apply`]), so every change shows at once, survives a reload, and reaches the
//! server when it can.
//!
//! Split by job: this module holds the state pages read and the door for changes;
//! `device_copy` saves to the encrypted copy on the device, one save at a time; `network` runs
//! the push/pull loop with backoff and live updates; `drafts` keeps typing not yet in the
//! outbox. Domain commands (agree an action, record a reading, change a series) are pure core
//! functions that return [`Change`]s.

mod device_copy;
mod drafts;
mod network;

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use uuid::Uuid;

use super::vault::{Loaded, Vault};
use crate::core::api::CurrentUser;
use crate::core::entities::Entity;
use crate::core::series::Series;
use crate::core::sync::{Change, LocalView, RefusedChange, Replica};
use crate::core::ValidationError;
use device_copy::DeviceCopy;
use drafts::Drafts;
use network::Network;

/// What the header shows about sync.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SyncStatus {
    /// False after a request failed to reach the server, until one succeeds.
    pub online: bool,
    pub syncing: bool,
    pub last_synced: Option<DateTime<Utc>>,
    /// Why the last sync failed, if it did.
    pub problem: Option<String>,
    /// Changes the server refused, with reasons, until the person dismisses them.
    pub refused: Vec<RefusedChange>,
    /// The session ended while syncing.
    pub signed_out: bool,
    /// When the next attempt is due after a failure (backing off).
    pub retry_at: Option<DateTime<Utc>>,
    /// The device's copy could not be saved (storage full or refused).
    pub storage_problem: Option<String>,
}

/// Handle to the sync client, shared through context. Cheap to copy.
#[derive(Clone, Copy)]
pub struct SyncClient {
    /// The device's copy; pages read it through view models ([`SyncClient::read`]) and the
    /// typed reads below, and change it only through [`SyncClient::apply`].
    replica: RwSignal<Replica>,
    pub status: RwSignal<SyncStatus>,
    /// When each unsent change was made.
    pub queued_at: RwSignal<BTreeMap<Uuid, DateTime<Utc>>>,
    /// The device holds a whole copy: one kept from before, or a first sync that has finished.
    /// Until then an empty list means "not here yet", not "nothing".
    holds_copy: RwSignal<bool>,
    /// Patient records opened while offline, not yet reported for the audit trail.
    offline_views: StoredValue<Vec<(Uuid, DateTime<Utc>)>>,
    user: StoredValue<Option<CurrentUser>>,
    copy: DeviceCopy,
    drafts: Drafts,
    network: Network,
}

impl SyncClient {
    /// A client with nothing saved on the device (tests, and the moment before a copy opens).
    pub fn new(device: Uuid) -> Self {
        Self::build(
            Replica::new(device),
            None,
            None,
            BTreeMap::new(),
            HashMap::new(),
            true,
            true,
        )
    }

    /// Whether the device holds a whole copy yet (tracked): false on a new device until its
    /// first sync has brought everything, when pages say the work is on its way instead of
    /// showing empty lists.
    pub fn holds_copy(&self) -> bool {
        self.holds_copy.get()
    }

    /// Notes that the device now holds a whole copy (its first sync has brought everything; the
    /// network loop calls this, and browser tests that feed the replica directly).
    pub fn note_copy_held(&self) {
        if !self.holds_copy.get_untracked() {
            self.holds_copy.set(true);
        }
    }

    /// A client over the device's opened copy, restoring what it holds (unsent changes first).
    /// Without a vault (the browser gives no storage) the client works from memory and says so.
    pub fn open(user: CurrentUser, vault: Option<Vault>, loaded: Option<Loaded>) -> Self {
        let has_vault = vault.is_some();
        let client = match loaded {
            Some(l) if l.state.user.user_id == user.user_id => {
                let mut client = Self::build(
                    l.replica,
                    Some(user),
                    vault,
                    l.state.queued_at,
                    l.on_disk,
                    l.state.complete,
                    true,
                );
                client.drafts = Drafts::new(l.state.drafts);
                client.offline_views.set_value(l.state.offline_views);
                client
            }
            // A new device: its copy comes with the first sync.
            _ => Self::build(
                Replica::new(Uuid::new_v4()),
                Some(user),
                vault,
                BTreeMap::new(),
                HashMap::new(),
                true,
                false,
            ),
        };
        if !has_vault {
            client.status.update(|s| {
                s.storage_problem = Some("This browser does not let the app keep a copy for working offline (private browsing may be on). Keep this page open until your changes are sent.".into());
            });
        }
        client
    }

    fn build(
        replica: Replica,
        user: Option<CurrentUser>,
        vault: Option<Vault>,
        queued_at: BTreeMap<Uuid, DateTime<Utc>>,
        on_disk: HashMap<Uuid, u64>,
        complete: bool,
        holds_copy: bool,
    ) -> Self {
        Self {
            replica: RwSignal::new(replica),
            status: RwSignal::new(SyncStatus {
                online: true,
                ..SyncStatus::default()
            }),
            queued_at: RwSignal::new(queued_at),
            holds_copy: RwSignal::new(holds_copy),
            offline_views: StoredValue::new(Vec::new()),
            user: StoredValue::new(user),
            copy: DeviceCopy::new(vault, on_disk, complete),
            drafts: Drafts::new(BTreeMap::new()),
            network: Network::new(!complete),
        }
    }

    /// Reads the device's copy through a view model (a `views::…` loader), tracked: a render or
    /// memo that reads through here runs again when the copy changes.
    pub fn read<T>(&self, view_model: impl FnOnce(&Replica) -> T) -> T {
        self.replica.with(view_model)
    }

    /// One record as `E` (this device's changes on top), tracked.
    pub fn entity<E: Entity>(&self, id: Uuid) -> Option<E> {
        self.replica.with(|r| r.entity::<E>(id))
    }

    /// One record as `E` with the server version the device's copy is based on, tracked.
    pub fn versioned<E: Entity>(&self, id: Uuid) -> Option<(u64, E)> {
        self.edit_base::<E>(id)
            .and_then(|(version, entity)| entity.map(|e| (version, e)))
    }

    /// What a form edits from: the server version the device's copy is based on (0 for a
    /// record not yet on the server) and the record as `E` if it is valid; `None` when the
    /// record is not on the device. Tracked.
    pub fn edit_base<E: Entity>(&self, id: Uuid) -> Option<(u64, Option<E>)> {
        self.replica
            .with(|r| r.view(id).map(|v| (v.version, v.typed::<E>())))
    }

    /// Whether the server has the record (not only this device's unsent creation), tracked.
    pub fn on_server(&self, id: Uuid) -> bool {
        self.replica
            .with(|r| r.view(id).is_some_and(|v| !v.unsent || v.version > 0))
    }

    /// The record as shown, with its conflicts and who last changed it, tracked.
    pub fn shown(&self, id: Uuid) -> Option<LocalView> {
        self.replica.with(|r| r.view(id))
    }

    /// Whether a change of this device to the record has not reached the server, tracked.
    pub fn is_unsent(&self, id: Uuid) -> bool {
        self.replica.with(|r| r.outbox.iter().any(|m| m.id == id))
    }

    /// Records with a same-field conflict waiting for a person to choose, tracked.
    pub fn conflict_count(&self) -> usize {
        self.replica.with(|r| r.conflicted().count())
    }

    /// Whether `me` may change `field` of record `id` (the write table the server applies),
    /// tracked: pages hide the controls that would only be refused.
    pub fn may_change(&self, me: Uuid, id: Uuid, field: &str) -> bool {
        self.replica
            .with(|r| crate::core::authorize::may_change(r, me, id, field))
    }

    /// The replica itself, for this client's browser tests and benchmarks, which feed it pulls
    /// directly; the app's pages and components never use it (tests/web_layers.rs).
    pub fn replica(&self) -> RwSignal<Replica> {
        self.replica
    }

    /// The oldest unsent change's time, if any.
    pub fn oldest_unsent(&self) -> Option<DateTime<Utc>> {
        let outbox: HashSet<Uuid> = self
            .replica
            .with(|r| r.outbox.iter().map(|m| m.mutation_id).collect());
        self.queued_at.with(|q| {
            q.iter()
                .filter(|(id, _)| outbox.contains(id))
                .map(|(_, at)| *at)
                .min()
        })
    }

    /// Number of changes not yet accepted by the server.
    pub fn unsent(&self) -> usize {
        self.replica.with(|r| r.outbox.len())
    }

    /// Every live record of a kind, sorted by a name (case-insensitive), tracked for renders.
    pub fn list_by<E: Entity>(&self, name: impl Fn(&E) -> &str) -> Vec<(LocalView, E)> {
        let mut list = self.replica.with(|r| r.all::<E>());
        list.sort_by_cached_key(|(_, e)| name(e).to_lowercase());
        list
    }

    /// Notes that a patient record was opened; while offline the view is kept (encrypted) and
    /// reported to the audit trail once the connection is back (online views are audited by
    /// the server when it sends the record).
    pub fn note_view(&self, record_id: Uuid) {
        if self.status.get_untracked().online {
            return;
        }
        self.offline_views
            .update_value(|v| v.push((record_id, Utc::now())));
        self.request_save(false, true);
    }

    /// The one door for changes: stages them as one (if any is refused, by its own checks or by
    /// the same write table the server uses, none is kept), shows them at once, saves the
    /// outbox on the device and sends it.
    pub fn apply(&self, changes: Vec<Change>) -> Result<(), ValidationError> {
        let me = self.user.get_value().map(|u| u.person_id);
        let mut result = Ok(());
        self.replica.update(|r| {
            result = r.stage_all(changes, Uuid::new_v4, |r, queued| match me {
                // The same table as the server's: a change it would refuse is never queued.
                Some(me) => crate::core::authorize::check_queued(r, me, queued, Utc::now())
                    .map_err(|refusal| ValidationError::record(refusal.0)),
                None => Ok(()),
            });
        });
        result?;
        self.note_and_save_outbox();
        let this = *self;
        leptos::task::spawn_local(async move { this.sync_now().await });
        Ok(())
    }

    /// Saves an entity (new or changed): checked, shown at once, queued and sent.
    pub fn save<E: Entity>(&self, id: Uuid, entity: &E) -> Result<(), ValidationError> {
        self.apply(vec![Change::put(id, entity)])
    }

    /// Saves what a person changed in a form that showed `before` (at `base_version`; `None`
    /// for a new record): only the changed fields are sent, so edits made elsewhere meanwhile
    /// survive and same-field edits become conflicts instead of silent overwrites.
    pub fn save_edit<E: Entity>(
        &self,
        id: Uuid,
        base_version: u64,
        before: Option<&E>,
        after: &E,
    ) -> Result<(), ValidationError> {
        self.apply(vec![Change::edit(id, base_version, before, after)])
    }

    /// Saves several records at once (e.g. new positions after a reorder), all or none.
    pub fn save_all<E: Entity>(&self, records: &[(Uuid, E)]) -> Result<(), ValidationError> {
        self.apply(
            records
                .iter()
                .map(|(id, entity)| Change::put(*id, entity))
                .collect(),
        )
    }

    /// Deletes a record (it leaves a tombstone so other devices learn of it), if the rules
    /// allow it.
    pub fn delete(&self, id: Uuid) -> Result<(), ValidationError> {
        self.apply(vec![Change::Delete { id }])
    }

    /// Settles a conflict on a field by choosing a value.
    pub fn resolve(&self, id: Uuid, field: &str, value: serde_json::Value) {
        let chosen = Change::Resolve {
            id,
            field: field.to_owned(),
            value,
        };
        if let Err(refused) = self.apply(vec![chosen]) {
            self.status.update(|s| s.problem = Some(refused.message));
        }
    }

    /// Saves a changed series and changes its meetings already in the calendar to match
    /// (skipped ones cancelled, moved ones moved), all or none. Returns how many meetings
    /// changed.
    pub fn change_series(&self, id: Uuid, after: Series) -> Result<usize, ValidationError> {
        let changes = self
            .replica
            .with_untracked(|r| r.series_change(id, after, Utc::now()))?;
        let meetings = changes.len() - 1;
        self.apply(changes)?;
        Ok(meetings)
    }

    /// Creates an action and the first line of its history, together.
    pub fn create_action(
        &self,
        action: &crate::core::action::Action,
        by: Uuid,
    ) -> Result<Uuid, ValidationError> {
        let id = Uuid::new_v4();
        self.apply(crate::core::action::agree(
            action,
            id,
            Uuid::new_v4(),
            by,
            Utc::now(),
        )?)?;
        Ok(id)
    }

    /// Changes an action through its state machine and records who did what (and for whom) in
    /// its history.
    pub fn change_action(
        &self,
        id: Uuid,
        change: &crate::core::action::ActionChange,
        by: crate::core::action::ChangedBy<'_>,
    ) -> Result<(), ValidationError> {
        let changes = self.replica.with_untracked(|r| {
            crate::core::action::change(r, id, change, Uuid::new_v4(), by, Utc::now())
        })?;
        self.apply(changes)
    }

    /// Marks that the person has read a brief's current version, once per version.
    pub fn record_reading(&self, brief_id: Uuid, team_id: Uuid, person_id: Uuid) {
        let reading = self.replica.with_untracked(|r| {
            crate::core::brief::ReadReceipt::reading(r, brief_id, team_id, person_id, Utc::now())
        });
        if let Some(reading) = reading {
            let _ = self.apply(vec![reading]);
        }
    }

    /// Notes when each new change was made (dropping answered ones) and saves the outbox.
    fn note_and_save_outbox(&self) {
        let now = Utc::now();
        let outbox: Vec<Uuid> = self
            .replica
            .with_untracked(|r| r.outbox.iter().map(|m| m.mutation_id).collect());
        self.queued_at.update(|q| {
            for id in &outbox {
                q.entry(*id).or_insert(now);
            }
            q.retain(|id, _| outbox.contains(id));
        });
        self.request_save(false, true);
    }
}
