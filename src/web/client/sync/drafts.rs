//! Typing not yet in the outbox: kept by form in the encrypted copy, so a crash, a reload or a
//! flat battery between home visits loses nothing that was typed.

use std::collections::BTreeMap;

use leptos::prelude::*;
use serde::{de::DeserializeOwned, Serialize};

use super::SyncClient;

/// What is typed in each form, and what of it is on disk.
#[derive(Clone, Copy)]
pub(super) struct Drafts {
    /// The typing as it is now, by form.
    held: StoredValue<BTreeMap<String, serde_json::Value>>,
    /// The typing as last written to disk (what a crash now would keep).
    on_disk: RwSignal<BTreeMap<String, serde_json::Value>>,
}

impl Drafts {
    pub(super) fn new(held: BTreeMap<String, serde_json::Value>) -> Self {
        Self {
            held: StoredValue::new(held),
            on_disk: RwSignal::new(BTreeMap::new()),
        }
    }

    /// Every form's typing as it is now, to be written to disk with the rest of the state.
    pub(super) fn now(&self) -> BTreeMap<String, serde_json::Value> {
        self.held.get_value()
    }

    /// Notes what reached the disk.
    pub(super) fn saved(&self, written: BTreeMap<String, serde_json::Value>) {
        let _ = self.on_disk.try_set(written);
    }
}

impl SyncClient {
    /// Typing kept for `form` (see [`SyncClient::keep_draft`]).
    pub fn draft<T: DeserializeOwned>(&self, form: &str) -> Option<T> {
        self.drafts
            .held
            .with_value(|d| d.get(form).cloned())
            .and_then(|v| serde_json::from_value(v).ok())
    }

    /// The typing for `form` as it is on disk now (tracked: changes as saves finish).
    pub fn draft_on_disk<T: DeserializeOwned>(&self, form: &str) -> Option<T> {
        self.drafts
            .on_disk
            .with(|d| d.get(form).cloned())
            .and_then(|v| serde_json::from_value(v).ok())
    }

    /// Keeps what is typed in `form` until it reaches the outbox, in the encrypted copy.
    pub fn keep_draft<T: Serialize>(&self, form: &str, typed: &T) {
        if let Ok(value) = serde_json::to_value(typed) {
            self.drafts.held.update_value(|d| {
                d.insert(form.to_owned(), value);
            });
            self.request_save(false, false);
        }
    }

    /// Forgets the typing kept for `form` (it is in the outbox now).
    pub fn drop_draft(&self, form: &str) {
        let had = self
            .drafts
            .held
            .try_update_value(|d| d.remove(form).is_some())
            .unwrap_or(false);
        if had {
            self.request_save(false, false);
        }
    }
}
