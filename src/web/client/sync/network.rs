//! The network loop: push the outbox, pull until up to date, back off after failures, wake at
//! once on "online" and on the server's live updates, and stop on lock or sign-out.

use std::collections::HashSet;

use chrono::Utc;
use leptos::prelude::*;
use leptos::task::spawn_local;
use uuid::Uuid;

use super::SyncClient;
use crate::core::sync::{retry_delay_ms, PushRequest, RETRY_MAX_MS};
use crate::web::client::api::{self, ApiError};
use crate::web::client::tasks;

/// How far ahead each series' meetings are kept in the calendar.
const SERIES_WEEKS_AHEAD: i64 = 12;

/// How often the app pulls when nothing else prompts it.
const PULL_EVERY_MS: u32 = 15_000;

thread_local! {
    /// The open live-update stream of the running sync, closed when it stops.
    static LIVE_UPDATES: std::cell::RefCell<Option<api::LiveUpdates>> =
        const { std::cell::RefCell::new(None) };
}

/// Where the loop stands.
#[derive(Clone, Copy)]
pub(super) struct Network {
    /// Something asked for a sync while one ran: run again.
    again: StoredValue<bool>,
    /// Failed attempts in a row (the backoff grows with them).
    failures: StoredValue<u32>,
    stopped: StoredValue<bool>,
    /// Records left out of the device's copy last session still have to be fetched again.
    pub(super) backfill_due: StoredValue<bool>,
}

impl Network {
    pub(super) fn new(backfill_due: bool) -> Self {
        Self {
            again: StoredValue::new(false),
            failures: StoredValue::new(0),
            stopped: StoredValue::new(false),
            backfill_due: StoredValue::new(backfill_due),
        }
    }
}

impl SyncClient {
    /// Stops syncing and saving (the app is locking or signing out).
    pub fn stop(&self) {
        let _ = self.network.stopped.try_set_value(true);
        LIVE_UPDATES.with(|live| live.borrow_mut().take());
    }

    pub(super) fn stopped(&self) -> bool {
        self.network.stopped.try_get_value().unwrap_or(true)
    }

    /// Pushes the outbox, then pulls until up to date. Overlapping calls coalesce.
    pub async fn sync_now(self) {
        let network = self.network;
        if self.stopped() || self.status.get_untracked().syncing {
            let _ = network.again.try_set_value(true);
            return;
        }
        self.status.update(|s| s.syncing = true);
        loop {
            network.again.set_value(false);
            let outcome = self.push_then_pull().await;
            if self.stopped() {
                return;
            }
            let failures = match &outcome {
                Ok(()) => 0,
                Err(e) if e.is_transient() => network.failures.get_value() + 1,
                Err(_) => network.failures.get_value(),
            };
            network.failures.set_value(failures);
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
            if outcome.is_err() || !network.again.get_value() {
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
        // Records left out of the device's copy last time come back once per session, straight
        // after the pull: a past meeting, brief or patient opened by its address waits for them
        // (issue 29), so nothing else queues in front.
        if self.network.backfill_due.get_value() {
            self.pull_from(Some(0)).await?;
            self.network.backfill_due.set_value(false);
            // Now the copy may be complete again: say so on disk.
            self.request_save(true, true);
        }
        let views = self.offline_views.get_value();
        if !views.is_empty() {
            api::report_views(&views).await?;
            self.offline_views
                .update_value(|v| v.retain(|seen| !views.contains(seen)));
            self.request_save(false, true);
        }
        // Undiscussed items of finished meetings move to the next meeting by themselves.
        // The pages redraw only when something was added: a round of sync that changes nothing
        // (every poll, mostly) costs a phone no redraw.
        let mut carried = 0;
        self.replica.update_untracked(|r| {
            carried = r.stage_series_meetings(Utc::now(), SERIES_WEEKS_AHEAD, Uuid::new_v4)
                + r.stage_carry_forward(Utc::now(), Uuid::new_v4)
                + r.stage_actions_reviews(Utc::now(), Uuid::new_v4)
        });
        if carried > 0 {
            self.replica.notify();
            self.note_and_save_outbox();
            self.network.again.set_value(true);
        }
        Ok(())
    }

    /// Pulls pages until up to date: from the replica's cursor (resuming where the last pull
    /// stopped), or from `since` (fetching again what the device's copy left out). The pages
    /// showing the copy redraw once, when the pages pulled so far are all in (or a pull fails):
    /// a new device's first sync is several pages, and a half-pulled copy would only redraw
    /// the screen to say less than is true ("nothing needs you" before the actions arrive).
    async fn pull_from(&self, since: Option<u64>) -> Result<(), ApiError> {
        let mut unshown = false;
        let outcome = self.pull_pages(since, &mut unshown).await;
        if unshown && !self.stopped() {
            self.replica.notify();
        }
        outcome
    }

    async fn pull_pages(&self, since: Option<u64>, unshown: &mut bool) -> Result<(), ApiError> {
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
            // A pull that brings nothing (a poll, mostly) changes nothing shown: no redraw.
            self.replica.update_untracked(|r| {
                let accepted = r.accepted.len();
                r.apply_pull(pulled);
                *unshown |= brought_records || r.accepted.len() != accepted;
            });
            // The save runs in a task of its own (it begins by yielding), as does the next page.
            self.request_save(brought_records, false);
            if !more {
                self.note_copy_held();
                return Ok(());
            }
            tasks::yield_to_browser().await;
            if cursor.is_some() {
                cursor = Some(next);
            }
        }
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
        crate::web::client::listeners::on_window("online", false, move || {
            if self.stopped() {
                return;
            }
            let _ = self.network.failures.try_set_value(0);
            spawn_local(async move { self.sync_now().await });
        });
    }
}
