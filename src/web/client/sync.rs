//! The app's sync client: the local replica, its persistence on this device, and the
//! background push/pull loop. Pages read records from here and save through here, so every
//! change shows at once, survives a reload, and reaches the server when it can.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos::task::spawn_local;
use uuid::Uuid;

use super::api::{self, ApiError};
use super::vault::{Loaded, SavedState, Vault};
use crate::core::api::CurrentUser;
use crate::core::entities::Entity;
use crate::core::series::Series;
use crate::core::sync::{
    retry_delay_ms, LocalView, PushRequest, RefusedChange, Replica, SyncRecord, RETRY_MAX_MS,
};
use crate::core::ValidationError;

/// How far ahead each series' meetings are kept in the calendar.
const SERIES_WEEKS_AHEAD: i64 = 12;

/// How often the app pulls when nothing else prompts it.
const PULL_EVERY_MS: u32 = 15_000;
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

thread_local! {
    /// The open live-update stream of the running sync, closed when it stops.
    static LIVE_UPDATES: std::cell::RefCell<Option<api::LiveUpdates>> =
        const { std::cell::RefCell::new(None) };
}

/// Handle to the sync client, shared through context. Cheap to copy.
#[derive(Clone, Copy)]
pub struct SyncClient {
    pub replica: RwSignal<Replica>,
    pub status: RwSignal<SyncStatus>,
    /// When each unsent change was made.
    pub queued_at: RwSignal<BTreeMap<Uuid, DateTime<Utc>>>,
    /// Typing not yet in the outbox, by form (saved encrypted with the state).
    drafts: StoredValue<BTreeMap<String, serde_json::Value>>,
    /// Patient records opened while offline, not yet reported for the audit trail.
    offline_views: StoredValue<Vec<(Uuid, DateTime<Utc>)>>,
    /// Something asked to be saved on the device has not reached the disk yet.
    pub saving_to_device: RwSignal<bool>,
    /// The typing drafts as last written to disk (what a crash now would keep).
    pub drafts_on_disk: RwSignal<BTreeMap<String, serde_json::Value>>,
    user: StoredValue<Option<CurrentUser>>,
    vault: StoredValue<Option<Vault>, LocalStorage>,
    /// Version of each record in the device's copy on disk.
    on_disk: StoredValue<HashMap<Uuid, u64>>,
    /// Every record is on disk (none left out as not needed offline).
    complete: StoredValue<bool>,
    /// Records left out of the copy last session still have to be fetched again.
    backfill_due: StoredValue<bool>,
    again: StoredValue<bool>,
    saving: StoredValue<bool>,
    /// A save asked for while one runs: (asked, with records, strict).
    save_again: StoredValue<(bool, bool, bool)>,
    failures: StoredValue<u32>,
    stopped: StoredValue<bool>,
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
        )
    }

    /// A client over the device's opened copy, restoring what it holds (unsent changes first).
    /// Without a vault (the browser gives no storage) the client works from memory and says so.
    pub fn open(user: CurrentUser, vault: Option<Vault>, loaded: Option<Loaded>) -> Self {
        let has_vault = vault.is_some();
        let client = match loaded {
            Some(l) if l.state.user.user_id == user.user_id => {
                let client = Self::build(
                    l.replica,
                    Some(user),
                    vault,
                    l.state.queued_at,
                    l.on_disk,
                    l.state.complete,
                );
                client.drafts.set_value(l.state.drafts);
                client.offline_views.set_value(l.state.offline_views);
                client
            }
            _ => Self::build(
                Replica::new(Uuid::new_v4()),
                Some(user),
                vault,
                BTreeMap::new(),
                HashMap::new(),
                true,
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
    ) -> Self {
        Self {
            replica: RwSignal::new(replica),
            status: RwSignal::new(SyncStatus {
                online: true,
                ..SyncStatus::default()
            }),
            queued_at: RwSignal::new(queued_at),
            drafts: StoredValue::new(BTreeMap::new()),
            saving_to_device: RwSignal::new(false),
            offline_views: StoredValue::new(Vec::new()),
            drafts_on_disk: RwSignal::new(BTreeMap::new()),
            user: StoredValue::new(user),
            vault: StoredValue::new_local(vault),
            on_disk: StoredValue::new(on_disk),
            complete: StoredValue::new(complete),
            backfill_due: StoredValue::new(!complete),
            again: StoredValue::new(false),
            saving: StoredValue::new(false),
            save_again: StoredValue::new((false, false, false)),
            failures: StoredValue::new(0),
            stopped: StoredValue::new(false),
        }
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

    /// Asks for the device's copy to be saved: `records` after a pull, `strict` when unsent
    /// changes are involved (flushed to disk before the save counts as done). Saves run one at
    /// a time, always writing the latest state.
    fn request_save(&self, records: bool, strict: bool) {
        if self.vault.with_value(Option::is_none) {
            return;
        }
        self.save_again.update_value(|(asked, r, s)| {
            *asked = true;
            *r |= records;
            *s |= strict;
        });
        if !self.saving_to_device.get_untracked() {
            self.saving_to_device.set(true);
        }
        if self.saving.get_value() {
            return;
        }
        self.saving.set_value(true);
        let this = *self;
        spawn_local(async move {
            loop {
                let Some((_, records, strict)) = this.save_again.try_get_value() else {
                    return;
                };
                this.save_again.set_value((false, false, false));
                if let Err(problem) = this.save_once(records, strict).await {
                    let _ = this
                        .status
                        .try_update(|s| s.storage_problem = Some(problem));
                } else {
                    let _ = this.status.try_update(|s| s.storage_problem = None);
                }
                if !this
                    .save_again
                    .try_get_value()
                    .is_some_and(|(asked, _, _)| asked)
                {
                    break;
                }
            }
            let _ = this.saving.try_set_value(false);
            let _ = this.saving_to_device.try_set(false);
        });
    }

    async fn save_once(&self, records: bool, strict: bool) -> Result<(), String> {
        let Some(vault) = self.vault.try_with_value(Clone::clone).flatten() else {
            return Ok(());
        };
        let Some(user) = self.user.try_get_value().flatten() else {
            return Ok(());
        };
        let now = Utc::now();
        let (mut put, mut delete, mut complete) = (Vec::<SyncRecord>::new(), Vec::new(), None);
        if records {
            let on_disk = self.on_disk.get_value();
            self.replica.with_untracked(|r| {
                let keep = crate::core::offline::records_to_keep(r, now);
                for (id, record) in r.confirmed() {
                    if keep.contains(id) && on_disk.get(id) != Some(&record.version) {
                        put.push(record.clone());
                    }
                }
                delete = on_disk
                    .keys()
                    .filter(|id| !keep.contains(id) || !r.confirmed().contains_key(id))
                    .copied()
                    .collect();
                complete = Some(r.confirmed().keys().all(|id| keep.contains(id)));
            });
        }
        let state = self.replica.with_untracked(|r| SavedState {
            user,
            device_id: r.device_id,
            next_seq: r.next_seq,
            cursor: r.cursor,
            outbox: r.outbox.clone(),
            accepted: r.accepted.clone(),
            queued_at: self.queued_at.get_untracked(),
            complete: complete.unwrap_or_else(|| self.complete.get_value()),
            drafts: self.drafts.get_value(),
            offline_views: self.offline_views.get_value(),
        });
        let refs: Vec<&SyncRecord> = put.iter().collect();
        let drafts = state.drafts.clone();
        vault
            .save(&state, &refs, &delete, strict)
            .await
            .map_err(|e| format!("Your changes could not be saved on this device: {e} Keep this page open until they are sent."))?;
        let _ = self.on_disk.try_update_value(|d| {
            for r in &put {
                d.insert(r.id, r.version);
            }
            for id in &delete {
                d.remove(id);
            }
        });
        if let Some(c) = complete {
            let _ = self.complete.try_set_value(c);
        }
        let _ = self.drafts_on_disk.try_set(drafts);
        Ok(())
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

    /// Typing kept for `form` (see [`SyncClient::keep_draft`]).
    pub fn draft<T: serde::de::DeserializeOwned>(&self, form: &str) -> Option<T> {
        self.drafts
            .with_value(|d| d.get(form).cloned())
            .and_then(|v| serde_json::from_value(v).ok())
    }

    /// Keeps what is typed in `form` until it reaches the outbox, in the encrypted copy.
    pub fn keep_draft<T: serde::Serialize>(&self, form: &str, typed: &T) {
        if let Ok(value) = serde_json::to_value(typed) {
            self.drafts.update_value(|d| {
                d.insert(form.to_owned(), value);
            });
            self.request_save(false, false);
        }
    }

    /// Forgets the typing kept for `form` (it is in the outbox now).
    pub fn drop_draft(&self, form: &str) {
        let had = self
            .drafts
            .try_update_value(|d| d.remove(form).is_some())
            .unwrap_or(false);
        if had {
            self.request_save(false, false);
        }
    }

    /// Saves the whole copy now (records included) and waits for it: used after loading many
    /// records at once, and by the benchmarks.
    pub async fn save_now(&self) {
        self.request_save(true, false);
        self.flush().await;
    }

    /// Waits until every requested save has reached the disk.
    pub async fn flush(&self) {
        while self.saving.try_get_value().unwrap_or(false) {
            gloo_timers::future::TimeoutFuture::new(20).await;
        }
    }

    /// Lets go of the device's copy (the app is locking): the key goes with it.
    pub fn close_copy(&self) {
        if let Some(vault) = self.vault.try_with_value(Clone::clone).flatten() {
            vault.close();
        }
        let _ = self.vault.try_set_value(None);
    }

    /// Stops syncing and saving (the app is locking or signing out).
    pub fn stop(&self) {
        let _ = self.stopped.try_set_value(true);
        LIVE_UPDATES.with(|live| live.borrow_mut().take());
    }

    fn stopped(&self) -> bool {
        self.stopped.try_get_value().unwrap_or(true)
    }

    /// Saves an entity (new or changed): checked, shown at once, queued and sent.
    pub fn save<E: Entity>(&self, id: Uuid, entity: &E) -> Result<(), ValidationError> {
        self.stage_together(|r| r.stage_entity(Uuid::new_v4(), id, entity).map(drop))
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
        let before = before.map(Entity::to_fields).unwrap_or_default();
        self.stage_together(|r| {
            r.stage_edit(
                Uuid::new_v4(),
                E::KIND,
                id,
                base_version,
                &before,
                after.to_fields(),
            )
            .map(drop)
        })
    }

    /// Saves a changed series and changes its meetings already in the calendar to match
    /// (skipped ones cancelled, moved ones moved), all or none.
    pub fn change_series(&self, id: Uuid, after: Series) -> Result<usize, ValidationError> {
        let mut changed = 0;
        self.stage_together(|r| {
            changed = r.stage_series_change(id, after, Utc::now(), Uuid::new_v4)?;
            Ok(())
        })?;
        Ok(changed)
    }

    /// Settles a conflict on a field by choosing a value.
    pub fn resolve(&self, id: Uuid, field: &str, value: serde_json::Value) {
        self.replica.update(|r| {
            r.stage_resolution(Uuid::new_v4(), id, field, value);
        });
        self.after_change();
    }

    /// After staging: notes when new changes were made, saves the outbox and sends it.
    fn after_change(&self) {
        self.note_and_save_outbox();
        let this = *self;
        spawn_local(async move { this.sync_now().await });
    }

    /// Every live record of a kind, sorted by a name (case-insensitive), tracked for renders.
    pub fn list_by<E: Entity>(&self, name: impl Fn(&E) -> &str) -> Vec<(LocalView, E)> {
        let mut list = self.replica.with(|r| r.all::<E>());
        list.sort_by_key(|(_, e)| name(e).to_lowercase());
        list
    }

    /// Number of changes not yet accepted by the server.
    pub fn unsent(&self) -> usize {
        self.replica.with(|r| r.outbox.len())
    }

    /// Pushes the outbox, then pulls until up to date. Overlapping calls coalesce.
    pub async fn sync_now(self) {
        if self.stopped() || self.status.get_untracked().syncing {
            let _ = self.again.try_set_value(true);
            return;
        }
        self.status.update(|s| s.syncing = true);
        loop {
            self.again.set_value(false);
            let outcome = self.push_then_pull().await;
            if self.stopped() {
                return;
            }
            let failures = match &outcome {
                Ok(()) => 0,
                Err(e) if e.is_transient() => self.failures.get_value() + 1,
                Err(_) => self.failures.get_value(),
            };
            self.failures.set_value(failures);
            let retry_at = (failures > 0).then(|| {
                Utc::now()
                    + chrono::Duration::milliseconds(retry_delay_ms(
                        failures - 1,
                        js_sys::Math::random(),
                    ) as i64)
            });
            self.status.update(|s| {
                s.retry_at = retry_at;
                match &outcome {
                    Ok(()) => {
                        s.online = true;
                        s.problem = None;
                        s.last_synced = Some(Utc::now());
                    }
                    Err(ApiError::Unreachable) => {
                        s.online = false;
                        s.problem = None;
                    }
                    Err(ApiError::SignedOut) => s.signed_out = true,
                    Err(e @ (ApiError::Refused(_) | ApiError::Unavailable(_))) => {
                        s.online = true;
                        s.problem = Some(e.to_string());
                    }
                }
            });
            if outcome.is_err() || !self.again.get_value() {
                break;
            }
        }
        self.status.update(|s| s.syncing = false);
    }

    async fn push_then_pull(&self) -> Result<(), ApiError> {
        // Batches of up to MAX_PUSH_MUTATIONS, each one durable commit on the server.
        loop {
            let request = self.replica.with_untracked(|r| PushRequest {
                device_id: r.device_id,
                mutations: r
                    .outbox
                    .iter()
                    .take(crate::core::sync::MAX_PUSH_MUTATIONS)
                    .cloned()
                    .collect(),
            });
            if request.mutations.is_empty() {
                break;
            }
            let response = api::push(&request).await?;
            if self.stopped() {
                return Ok(());
            }
            let mut refused = Vec::new();
            self.replica
                .update(|r| refused = r.apply_push(&response.results));
            let outbox: HashSet<Uuid> = self
                .replica
                .with_untracked(|r| r.outbox.iter().map(|m| m.mutation_id).collect());
            self.queued_at
                .update(|q| q.retain(|id, _| outbox.contains(id)));
            self.request_save(false, true);
            if !refused.is_empty() {
                self.status.update(|s| s.refused.extend(refused));
            }
            // What is left was answered "retry later" (a gap): try again on the next round.
            if request
                .mutations
                .iter()
                .all(|m| outbox.contains(&m.mutation_id))
            {
                break;
            }
        }
        self.pull_from(None).await?;
        let views = self.offline_views.get_value();
        if !views.is_empty() {
            api::report_views(&views).await?;
            self.offline_views
                .update_value(|v| v.retain(|seen| !views.contains(seen)));
            self.request_save(false, true);
        }
        // Records left out of the device's copy last time come back once per session.
        if self.backfill_due.get_value() {
            self.pull_from(Some(0)).await?;
            self.backfill_due.set_value(false);
        }
        // Undiscussed items of finished meetings move to the next meeting by themselves.
        let mut carried = 0;
        self.replica.update(|r| {
            carried = r.stage_series_meetings(Utc::now(), SERIES_WEEKS_AHEAD, Uuid::new_v4)
                + r.stage_carry_forward(Utc::now(), Uuid::new_v4)
                + r.stage_actions_reviews(Utc::now(), Uuid::new_v4)
        });
        if carried > 0 {
            self.note_and_save_outbox();
            self.again.set_value(true);
        }
        Ok(())
    }

    /// Pulls pages until up to date: from the replica's cursor (resuming where the last pull
    /// stopped), or from `since` (fetching again what the device's copy left out).
    async fn pull_from(&self, since: Option<u64>) -> Result<(), ApiError> {
        let mut cursor = since;
        loop {
            let from = cursor.unwrap_or_else(|| self.replica.with_untracked(|r| r.cursor));
            let pulled = api::pull(from).await?;
            if self.stopped() {
                return Ok(());
            }
            let more = pulled.more;
            let next = pulled.cursor;
            // Working out what to keep offline reads every record: only when something came.
            let brought_records = !pulled.records.is_empty();
            self.replica.update(|r| r.apply_pull(pulled));
            self.request_save(brought_records, false);
            if !more {
                return Ok(());
            }
            if cursor.is_some() {
                cursor = Some(next);
            }
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

    /// Stages several changes as one: if any is refused, none is kept.
    fn stage_together(
        &self,
        stage: impl FnOnce(&mut Replica) -> Result<(), ValidationError>,
    ) -> Result<(), ValidationError> {
        let mut result = Ok(());
        let me = self.user.get_value().map(|u| u.person_id);
        self.replica.update(|r| {
            // Staging only appends to the outbox, so undoing it is cheap.
            let (queued, next_seq) = (r.outbox.len(), r.next_seq);
            result = stage(r).and_then(|()| {
                // The same table as the server's: a change it would refuse is never queued.
                match me {
                    Some(me) => crate::core::authorize::check_queued(r, me, queued)
                        .map_err(|refusal| ValidationError::record(refusal.0)),
                    None => Ok(()),
                }
            });
            if result.is_err() {
                r.outbox.truncate(queued);
                r.next_seq = next_seq;
            }
        });
        result?;
        self.after_change();
        Ok(())
    }

    /// Saves several records at once (e.g. new positions after a reorder), all or none.
    pub fn save_all<E: Entity>(&self, records: &[(Uuid, E)]) -> Result<(), ValidationError> {
        self.stage_together(|r| {
            for (id, entity) in records {
                r.stage_entity(Uuid::new_v4(), *id, entity)?;
            }
            Ok(())
        })
    }

    /// Deletes a record (it leaves a tombstone so other devices learn of it), if the rules
    /// allow it.
    pub fn delete(&self, id: Uuid) -> Result<(), ValidationError> {
        self.stage_together(|r| {
            r.stage_delete(Uuid::new_v4(), id);
            Ok(())
        })
    }

    /// Creates an action and the first line of its history, together.
    pub fn create_action(
        &self,
        action: &crate::core::action::Action,
        by: Uuid,
    ) -> Result<Uuid, ValidationError> {
        use crate::core::action::ActionEvent;
        let id = Uuid::new_v4();
        let event = ActionEvent {
            team_id: action.team_id,
            action_id: id,
            by,
            at: Utc::now(),
            summary: "agreed the action".into(),
        };
        self.stage_together(|r| {
            r.stage_entity(Uuid::new_v4(), id, action)?;
            r.stage_entity(Uuid::new_v4(), Uuid::new_v4(), &event)?;
            Ok(())
        })?;
        Ok(id)
    }

    /// Changes an action through its state machine and records who did what in its history.
    pub fn change_action(
        &self,
        id: Uuid,
        change: &crate::core::action::ActionChange,
        by: Uuid,
    ) -> Result<(), ValidationError> {
        use crate::core::action::{Action, ActionEvent};
        let Some((version, before)) = self.replica.with_untracked(|r| {
            r.view(id)
                .and_then(|v| v.typed::<Action>().map(|a| (v.version, a)))
        }) else {
            return Err(ValidationError::record(
                "This action is not on this device any more",
            ));
        };
        let mut after = before.clone();
        let summary = after.apply(change, by)?;
        let event = ActionEvent {
            team_id: after.team_id,
            action_id: id,
            by,
            at: Utc::now(),
            summary,
        };
        self.stage_together(|r| {
            r.stage_edit(
                Uuid::new_v4(),
                Action::KIND,
                id,
                version,
                &before.to_fields(),
                after.to_fields(),
            )?;
            r.stage_entity(Uuid::new_v4(), Uuid::new_v4(), &event)?;
            Ok(())
        })
    }

    /// Marks that the person has read a brief's current version, once per version.
    pub fn record_reading(&self, brief_id: Uuid, team_id: Uuid, person_id: Uuid) {
        use crate::core::brief::ReadReceipt;
        let Some(version) = self
            .replica
            .with_untracked(|r| r.view(brief_id).map(|v| v.version))
        else {
            return;
        };
        let receipt_id = ReadReceipt::id_for(brief_id, person_id);
        let already = self.replica.with_untracked(|r| {
            r.view(receipt_id)
                .and_then(|v| v.typed::<ReadReceipt>())
                .is_some_and(|rr| rr.brief_version >= version)
        });
        if version == 0 || already {
            return;
        }
        let receipt = ReadReceipt {
            team_id,
            brief_id,
            person_id,
            brief_version: version,
            read_at: Utc::now(),
        };
        let _ = self.save(receipt_id, &receipt);
    }

    /// Starts background sync: now, every few seconds while all is well, backing off after
    /// failures, at once whenever the browser says it is online again, and at once whenever
    /// the server says a change concerns one of the person's teams (live updates: during a
    /// meeting, the coordinator's recorded outcome appears on every screen). The "online"
    /// listener belongs to the caller's owner (the signed-in view) and goes with it.
    pub fn start(self) {
        let live = api::live_updates(move || {
            if !self.stopped() {
                spawn_local(async move { self.sync_now().await });
            }
        });
        LIVE_UPDATES.with(|slot| *slot.borrow_mut() = live);
        spawn_local(async move {
            loop {
                self.sync_now().await;
                if self.stopped() || self.status.get_untracked().signed_out {
                    break;
                }
                let wait = match self.status.get_untracked().retry_at {
                    Some(at) => (at - Utc::now())
                        .num_milliseconds()
                        .clamp(500, RETRY_MAX_MS as i64) as u32,
                    None => PULL_EVERY_MS,
                };
                // Sleep in short steps so an "online" event or a new change is not kept waiting.
                let until = Utc::now() + chrono::Duration::milliseconds(i64::from(wait));
                while Utc::now() < until && !self.stopped() {
                    gloo_timers::future::TimeoutFuture::new(500).await;
                    if self
                        .status
                        .try_with_untracked(|s| s.retry_at.is_none() && !s.online)
                        == Some(true)
                    {
                        break;
                    }
                }
                if self.stopped() {
                    break;
                }
            }
        });
        super::listeners::on_window("online", false, move || {
            if self.stopped() {
                return;
            }
            let _ = self.failures.try_set_value(0);
            spawn_local(async move { self.sync_now().await });
        });
    }

    /// Stops, lets pending saves finish, and deletes this person's copy from the device
    /// (sign-out).
    pub async fn wipe(&self) {
        self.stop();
        self.flush().await;
        if let Some(vault) = self.vault.try_with_value(Clone::clone).flatten() {
            vault.close();
        }
        if let Some(user) = self.user.try_get_value().flatten() {
            if let Err(e) = super::vault::destroy(user.user_id).await {
                leptos::logging::warn!("could not delete the offline copy: {e}");
            }
        }
        super::vault::release_tab();
    }
}
