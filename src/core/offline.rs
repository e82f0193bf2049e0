//! What a device keeps on disk for working offline (DESIGN §5; hazard log "stale or lost offline
//! copy").
//!
//! Minimum necessary use: a laptop left in a car should hold as little patient data as the work
//! between home visits needs. That is each team's *current and next* meeting — its agenda
//! items, briefs, read receipts and patients — and the team's open actions, which are reviewed
//! at the next meeting. Everything without patient data (organisations, people, teams,
//! meetings, series, attendance, availability) is kept, so the app can start and show its
//! pages. Any record with a change not yet sent is kept too, so an offline edit is never hidden
//! after a reload. Records not kept stay in memory while the app is open and come back from the
//! server on the next start.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::action::{Action, ActionEvent};
use super::agenda::AgendaItem;
use super::brief::{Brief, ReadReceipt};
use super::meeting::{Meeting, MeetingStatus};
use super::record::EntityKind;
use super::sync::Replica;

/// A meeting still counts as "current" this long after it ends, so outcomes and attendance can
/// be recorded offline on the way back from it.
pub const CURRENT_MEETING_GRACE_HOURS: i64 = 12;

/// Kinds that hold or point at patient data; only these are filtered.
pub fn holds_patient_data(kind: EntityKind) -> bool {
    matches!(
        kind,
        EntityKind::Patient
            | EntityKind::AgendaItem
            | EntityKind::Brief
            | EntityKind::ReadReceipt
            | EntityKind::Action
            | EntityKind::ActionEvent
    )
}

/// The meetings whose data is kept offline: for each team, the meeting under way or ended in
/// the last [`CURRENT_MEETING_GRACE_HOURS`], and the next one after it (cancelled ones skipped).
pub fn offline_meetings(replica: &Replica, now: DateTime<Utc>) -> HashSet<Uuid> {
    let since = now - Duration::hours(CURRENT_MEETING_GRACE_HOURS);
    let mut by_team: HashMap<Uuid, Vec<(DateTime<Utc>, Uuid)>> = HashMap::new();
    for (id, m) in replica.entities::<Meeting>() {
        if m.status != MeetingStatus::Cancelled && m.ends_at >= since {
            by_team
                .entry(m.team_id)
                .or_default()
                .push((m.starts_at, id));
        }
    }
    by_team
        .into_values()
        .flat_map(|mut list| {
            list.sort();
            list.into_iter().take(2).map(|(_, id)| id)
        })
        .collect()
}

/// Every record id this device may write to disk now (see the module documentation).
pub fn records_to_keep(replica: &Replica, now: DateTime<Utc>) -> HashSet<Uuid> {
    let meetings = offline_meetings(replica, now);
    let mut keep: HashSet<Uuid> = replica
        .confirmed()
        .values()
        .filter(|r| !holds_patient_data(r.entity))
        .map(|r| r.id)
        .collect();
    keep.extend(replica.outbox.iter().map(|m| m.id));
    keep.extend(replica.accepted.iter().map(|(m, _)| m.id));

    let mut patients = HashSet::new();
    let mut items = HashSet::new();
    for (id, item) in replica.entities::<AgendaItem>() {
        if meetings.contains(&item.meeting_id) {
            items.insert(id);
            patients.extend(item.patient_id);
        }
    }
    let mut briefs = HashSet::new();
    for (id, brief) in replica.entities::<Brief>() {
        if items.contains(&brief.item_id) {
            briefs.insert(id);
        }
    }
    let receipts = replica
        .entities::<ReadReceipt>()
        .into_iter()
        .filter(|(_, r)| briefs.contains(&r.brief_id))
        .map(|(id, _)| id);
    let mut actions = HashSet::new();
    for (id, action) in replica.entities::<Action>() {
        if action.status.is_open() {
            actions.insert(id);
            patients.extend(action.patient_id);
        }
    }
    let events = replica
        .entities::<ActionEvent>()
        .into_iter()
        .filter(|(_, e)| actions.contains(&e.action_id))
        .map(|(id, _)| id);
    keep.extend(receipts.collect::<Vec<_>>());
    keep.extend(events.collect::<Vec<_>>());
    keep.extend(items);
    keep.extend(briefs);
    keep.extend(actions);
    keep.extend(patients);
    keep
}

#[cfg(test)]
mod tests;
