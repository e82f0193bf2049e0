//! The app's sync client: the local replica, its persistence on this device, and the
//! background push/pull loop. Pages read records from here and save through here, so every
//! change shows at once, survives a reload, and reaches the server when it can.

use chrono::{DateTime, Utc};
use gloo_storage::{LocalStorage, Storage};
use leptos::prelude::*;
use leptos::task::spawn_local;
use uuid::Uuid;

use super::api::{self, ApiError};
use crate::core::entities::Entity;
use crate::core::ics::Series;
use crate::core::sync::{LocalView, PushRequest, RefusedChange, Replica};
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
}

/// Handle to the sync client, shared through context. Cheap to copy.
#[derive(Clone, Copy)]
pub struct SyncClient {
    pub replica: RwSignal<Replica>,
    pub status: RwSignal<SyncStatus>,
    storage_key: StoredValue<String>,
    again: StoredValue<bool>,
}

impl SyncClient {
    /// The client for `user_id`, restoring this device's unsent changes and copy if any.
    pub fn new(user_id: Uuid) -> Self {
        let storage_key = format!("mdt.replica.{user_id}");
        let replica = LocalStorage::get::<Replica>(&storage_key)
            .unwrap_or_else(|_| Replica::new(Uuid::new_v4()));
        Self {
            replica: RwSignal::new(replica),
            status: RwSignal::new(SyncStatus {
                online: true,
                ..SyncStatus::default()
            }),
            storage_key: StoredValue::new(storage_key),
            again: StoredValue::new(false),
        }
    }

    fn persist(&self) {
        let key = self.storage_key.get_value();
        self.replica.with_untracked(|r| {
            if LocalStorage::set(&key, r).is_err() {
                self.status.update(|s| {
                    s.problem = Some("This browser would not store your changes on the device; keep this page open until they are sent.".into());
                });
            }
        });
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

    fn after_change(&self) {
        self.persist();
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
        if self.status.get_untracked().syncing {
            self.again.set_value(true);
            return;
        }
        self.status.update(|s| s.syncing = true);
        loop {
            self.again.set_value(false);
            let outcome = self.push_then_pull().await;
            self.status.update(|s| match &outcome {
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
                Err(e @ ApiError::Refused(_)) => {
                    s.online = true;
                    s.problem = Some(e.to_string());
                }
            });
            if outcome.is_err() || !self.again.get_value() {
                break;
            }
        }
        self.status.update(|s| s.syncing = false);
    }

    async fn push_then_pull(&self) -> Result<(), ApiError> {
        let request = self.replica.with_untracked(|r| PushRequest {
            device_id: r.device_id,
            mutations: r
                .outbox
                .iter()
                .take(crate::core::sync::MAX_PUSH_MUTATIONS)
                .cloned()
                .collect(),
        });
        if !request.mutations.is_empty() {
            let response = api::push(&request).await?;
            let mut refused = Vec::new();
            self.replica
                .update(|r| refused = r.apply_push(&response.results));
            self.persist();
            if !refused.is_empty() {
                self.status.update(|s| s.refused.extend(refused));
            }
        }
        loop {
            let cursor = self.replica.with_untracked(|r| r.cursor);
            let pulled = api::pull(cursor).await?;
            let more = pulled.more;
            self.replica.update(|r| r.apply_pull(pulled));
            self.persist();
            if !more {
                break;
            }
        }
        // Undiscussed items of finished meetings move to the next meeting by themselves.
        let mut carried = 0;
        self.replica.update(|r| {
            carried = r.stage_series_meetings(Utc::now(), SERIES_WEEKS_AHEAD, Uuid::new_v4)
                + r.stage_carry_forward(Utc::now(), Uuid::new_v4)
                + r.stage_actions_reviews(Utc::now(), Uuid::new_v4)
        });
        if carried > 0 {
            self.persist();
            self.again.set_value(true);
        }
        Ok(())
    }

    /// Stages several changes as one: if any is refused, none is kept.
    fn stage_together(
        &self,
        stage: impl FnOnce(&mut Replica) -> Result<(), ValidationError>,
    ) -> Result<(), ValidationError> {
        let mut result = Ok(());
        self.replica.update(|r| {
            // Staging only appends to the outbox, so undoing it is cheap.
            let (queued, next_seq) = (r.outbox.len(), r.next_seq);
            result = stage(r);
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

    /// Deletes a record (it leaves a tombstone so other devices learn of it).
    pub fn delete(&self, id: Uuid) {
        self.replica.update(|r| {
            r.stage_delete(Uuid::new_v4(), id);
        });
        self.after_change();
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

    /// Starts background sync: now, every few seconds, and whenever the browser comes online.
    pub fn start(self) {
        spawn_local(async move {
            loop {
                self.sync_now().await;
                if self.status.get_untracked().signed_out {
                    break;
                }
                gloo_timers::future::TimeoutFuture::new(PULL_EVERY_MS).await;
            }
        });
        let on_online = wasm_bindgen::closure::Closure::<dyn Fn()>::new(move || {
            spawn_local(async move { self.sync_now().await });
        });
        if let Some(window) = web_sys::window() {
            let _ = window.add_event_listener_with_callback(
                "online",
                wasm_bindgen::JsCast::unchecked_ref(on_online.as_ref()),
            );
        }
        on_online.forget();
    }

    /// Forgets this device's copy (at sign-out).
    pub fn wipe(&self) {
        LocalStorage::delete(self.storage_key.get_value());
    }
}
