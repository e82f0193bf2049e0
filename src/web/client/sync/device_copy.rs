//! The device's encrypted copy (see `client::vault`): what is saved when, one save at a time,
//! always writing the latest state, and the copy let go of on lock or deleted on sign-out.

use std::collections::HashMap;

use chrono::Utc;
use leptos::prelude::*;
use leptos::task::spawn_local;
use uuid::Uuid;

use super::SyncClient;
use crate::core::sync::SyncRecord;
use crate::web::client::tasks;
use crate::web::client::vault::{self, SavedState, Vault};

/// The state of the device's copy and of the saves to it.
#[derive(Clone, Copy)]
pub(super) struct DeviceCopy {
    vault: StoredValue<Option<Vault>, LocalStorage>,
    /// Version of each record in the copy on disk.
    on_disk: StoredValue<HashMap<Uuid, u64>>,
    /// Every record is on disk (none left out as not needed offline).
    pub(super) complete: StoredValue<bool>,
    /// A save is running.
    saving: StoredValue<bool>,
    /// A save asked for while one runs: (asked, with records, strict).
    save_again: StoredValue<(bool, bool, bool)>,
    /// Something asked to be saved has not reached the disk yet (shown while typing).
    saving_to_device: RwSignal<bool>,
}

impl DeviceCopy {
    pub(super) fn new(vault: Option<Vault>, on_disk: HashMap<Uuid, u64>, complete: bool) -> Self {
        Self {
            vault: StoredValue::new_local(vault),
            on_disk: StoredValue::new(on_disk),
            complete: StoredValue::new(complete),
            saving: StoredValue::new(false),
            save_again: StoredValue::new((false, false, false)),
            saving_to_device: RwSignal::new(false),
        }
    }

    pub(super) fn exists(&self) -> bool {
        self.vault.with_value(Option::is_some)
    }
}

impl SyncClient {
    /// Whether something asked to be saved on the device has not reached the disk yet
    /// (tracked).
    pub fn saving_to_device(&self) -> bool {
        self.copy.saving_to_device.get()
    }

    /// Asks for the device's copy to be saved: `records` after a pull, `strict` when unsent
    /// changes are involved (flushed to disk before the save counts as done). Saves run one at
    /// a time, always writing the latest state.
    pub(super) fn request_save(&self, records: bool, strict: bool) {
        let copy = self.copy;
        if !copy.exists() {
            return;
        }
        copy.save_again.update_value(|(asked, r, s)| {
            *asked = true;
            *r |= records;
            *s |= strict;
        });
        if !copy.saving_to_device.get_untracked() {
            copy.saving_to_device.set(true);
        }
        if copy.saving.get_value() {
            return;
        }
        copy.saving.set_value(true);
        let this = *self;
        spawn_local(async move {
            loop {
                // Not in the task that asked (a pull's, which has just redrawn the page).
                tasks::yield_to_browser().await;
                let Some((_, records, strict)) = copy.save_again.try_get_value() else {
                    return;
                };
                copy.save_again.set_value((false, false, false));
                let outcome = this.save_once(records, strict).await;
                let _ = this
                    .status
                    .try_update(|s| s.storage_problem = outcome.err());
                if !copy
                    .save_again
                    .try_get_value()
                    .is_some_and(|(asked, _, _)| asked)
                {
                    break;
                }
            }
            let _ = copy.saving.try_set_value(false);
            let _ = copy.saving_to_device.try_set(false);
        });
    }

    async fn save_once(&self, records: bool, strict: bool) -> Result<(), String> {
        let copy = self.copy;
        let Some(vault) = copy.vault.try_with_value(Clone::clone).flatten() else {
            return Ok(());
        };
        let Some(user) = self.user.try_get_value().flatten() else {
            return Ok(());
        };
        let now = Utc::now();
        let (mut put, mut delete, mut complete) = (Vec::<SyncRecord>::new(), Vec::new(), None);
        if records {
            let on_disk = copy.on_disk.get_value();
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
                // While the records left out last time have not come back yet (the backfill
                // is due), memory holds only what was saved: calling that complete would leave
                // them out for good, a past brief or patient never shown again until sign-out
                // (issue 29).
                let backfilled = !self.network.backfill_due.try_get_value().unwrap_or(false);
                complete = Some(backfilled && r.confirmed().keys().all(|id| keep.contains(id)));
            });
            tasks::yield_to_browser().await;
        }
        let state = self.replica.with_untracked(|r| SavedState {
            user,
            device_id: r.device_id,
            next_seq: r.next_seq,
            cursor: r.cursor,
            outbox: r.outbox.clone(),
            accepted: r.accepted.clone(),
            queued_at: self.queued_at.get_untracked(),
            complete: complete.unwrap_or_else(|| copy.complete.get_value()),
            drafts: self.drafts.now(),
            offline_views: self.offline_views.get_value(),
        });
        let refs: Vec<&SyncRecord> = put.iter().collect();
        let drafts = state.drafts.clone();
        vault
            .save(&state, &refs, &delete, strict)
            .await
            .map_err(|e| format!("Your changes could not be saved on this device: {e} Keep this page open until they are sent."))?;
        let _ = copy.on_disk.try_update_value(|d| {
            for r in &put {
                d.insert(r.id, r.version);
            }
            for id in &delete {
                d.remove(id);
            }
        });
        if let Some(c) = complete {
            let _ = copy.complete.try_set_value(c);
        }
        self.drafts.saved(drafts);
        Ok(())
    }

    /// Saves the whole copy now (records included) and waits for it: used after loading many
    /// records at once, and by the benchmarks.
    pub async fn save_now(&self) {
        self.request_save(true, false);
        self.flush().await;
    }

    /// Waits until every requested save has reached the disk.
    pub async fn flush(&self) {
        while self.copy.saving.try_get_value().unwrap_or(false) {
            gloo_timers::future::TimeoutFuture::new(20).await;
        }
    }

    /// Lets go of the device's copy (the app is locking): the key goes with it.
    pub fn close_copy(&self) {
        if let Some(vault) = self.copy.vault.try_with_value(Clone::clone).flatten() {
            vault.close();
        }
        let _ = self.copy.vault.try_set_value(None);
    }

    /// Stops, lets pending saves finish, and deletes this person's copy from the device
    /// (sign-out).
    pub async fn wipe(&self) {
        self.stop();
        self.flush().await;
        if let Some(vault) = self.copy.vault.try_with_value(Clone::clone).flatten() {
            vault.close();
        }
        if let Some(user) = self.user.try_get_value().flatten() {
            if let Err(e) = vault::destroy(user.user_id).await {
                leptos::logging::warn!("could not delete the offline copy: {e}");
            }
        }
        vault::release_tab();
    }
}
