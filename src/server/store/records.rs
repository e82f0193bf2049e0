//! Synced records and their change log: reading records, applying a device's push (the rules
//! are the core's: [`process_push`] and the write-permission table, checked here against the
//! stored data) and answering pulls in change order.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::audit_log::AuditAction;
use super::db::{Db, Lock, Value};
use super::visibility::{
    governing_item_id, is_restricted, organisation_of, placeholders, restricted_items,
    restriction_of, sight_of, team_of, Sightlines, StoredFacts,
};
use super::{Actor, Changed};
use crate::args;
use crate::core::access::{self, Sight};
use crate::core::action::{conclusion_blockers, Action, ActionEvent};
use crate::core::agenda::{actions_review_id, AgendaItem, ItemKind};
use crate::core::attendance::Attendance;
use crate::core::authorize;
use crate::core::brief::{brief_id_for, Brief, ReadReceipt};
use crate::core::entities::{Entity, EntityKind, Meeting, MeetingStatus, Team};
use crate::core::notify::MailOrigin;
use crate::core::patient::Patient;
use crate::core::schedule::PersonAvailability;
use crate::core::sync::{
    process_push, Mutation, MutationResult, PullResponse, SyncRecord, SyncStore, Writer,
    MAX_PULL_RECORDS,
};
use crate::server::error::Error;

pub(crate) fn json_err(e: serde_json::Error) -> Error {
    Error::Internal(e.into())
}

/// A stored record (tombstones included) and who created it.
pub fn load_record(db: &dyn Db, id: Uuid) -> Result<Option<(SyncRecord, Uuid)>, Error> {
    let Some(row) = db.query_opt(
        "SELECT body, created_by FROM records WHERE id = $1",
        args![id],
    )?
    else {
        return Ok(None);
    };
    let record = serde_json::from_str(&row.text(0)?).map_err(json_err)?;
    Ok(Some((record, row.uuid(1)?)))
}

/// Every live record of one kind belonging to a team, typed.
pub fn team_records<E: Entity>(db: &dyn Db, team_id: Uuid) -> Result<Vec<(Uuid, E)>, Error> {
    Ok(team_records_with_version(db, team_id)?
        .into_iter()
        .map(|(id, _, entity)| (id, entity))
        .collect())
}

/// Every live record of one kind belonging to a team, typed, with its version (a brief's
/// readiness names the version that was read).
pub fn team_records_with_version<E: Entity>(
    db: &dyn Db,
    team_id: Uuid,
) -> Result<Vec<(Uuid, u64, E)>, Error> {
    let mut out = Vec::new();
    for row in db.query(
        "SELECT body FROM records WHERE team_id = $1 AND entity = $2",
        args![team_id, E::KIND.as_str()],
    )? {
        let record: SyncRecord = serde_json::from_str(&row.text(0)?).map_err(json_err)?;
        if let Some(entity) = record.typed::<E>().filter(|_| !record.deleted) {
            out.push((record.id, record.version, entity));
        }
    }
    Ok(out)
}

/// For each of a team's briefs that is ready now, its agenda item and when the server stored
/// it as ready (the time stamped on its `status` field).
pub fn briefs_ready_at(db: &dyn Db, team_id: Uuid) -> Result<Vec<(Uuid, DateTime<Utc>)>, Error> {
    let mut out = Vec::new();
    for row in db.query(
        "SELECT body FROM records WHERE team_id = $1 AND entity = $2",
        args![team_id, EntityKind::Brief.as_str()],
    )? {
        let record: SyncRecord = serde_json::from_str(&row.text(0)?).map_err(json_err)?;
        let ready_at = record.field_stamps.get("status").and_then(|s| s.at);
        if let Some((brief, at)) = record
            .typed::<Brief>()
            .filter(|b| !record.deleted && b.status == crate::core::brief::BriefStatus::Ready)
            .zip(ready_at)
        {
            out.push((brief.item_id, at));
        }
    }
    Ok(out)
}

/// One live record, typed, with its version.
pub fn record_with_version<E: Entity>(db: &dyn Db, id: Uuid) -> Result<Option<(E, u64)>, Error> {
    Ok(load_record(db, id)?.and_then(|(r, _)| {
        r.typed::<E>()
            .filter(|_| !r.deleted)
            .map(|e| (e, r.version))
    }))
}

/// Records of one kind by id (live ones only), typed.
pub fn records_by_id<E: Entity>(
    db: &dyn Db,
    ids: impl IntoIterator<Item = Uuid>,
) -> Result<HashMap<Uuid, E>, Error> {
    let mut out = HashMap::new();
    for id in ids {
        if let Some((record, _)) = load_record(db, id)? {
            if let Some(entity) = record.typed::<E>().filter(|_| !record.deleted) {
                out.insert(id, entity);
            }
        }
    }
    Ok(out)
}

/// The stored version of a record (0 if there is none), for writers that are not devices.
pub fn current_version(db: &dyn Db, id: Uuid) -> Result<u64, Error> {
    Ok(load_record(db, id)?.map_or(0, |(r, _)| r.version))
}

/// The newest change number (0 before the first change).
pub fn latest_change(db: &dyn Db) -> Result<u64, Error> {
    let latest = db
        .query_one("SELECT MAX(change_seq) FROM records", &[])?
        .opt_int(0)?;
    Ok(latest.map_or(0, |n| n.max(0) as u64))
}

/// Hands out change numbers within one push. The push holds [`Lock::ChangeLog`] from before
/// it reads the head of the log to its commit, so two servers never hand out the same number
/// and numbers commit in order (see docs/region.md); within the push they are counted here.
struct ChangeNumbers {
    next: std::cell::Cell<i64>,
}

impl ChangeNumbers {
    fn after(head: u64) -> Self {
        Self {
            next: std::cell::Cell::new(head as i64 + 1),
        }
    }

    fn take(&self) -> i64 {
        let n = self.next.get();
        self.next.set(n + 1);
        n
    }
}

/// Moves records to the end of the change log, so every device pulls them again (and is given
/// what it may now see of them).
fn reannounce(
    db: &dyn Db,
    numbers: &ChangeNumbers,
    ids: impl IntoIterator<Item = String>,
) -> Result<(), Error> {
    for id in ids {
        // A number is used only when the record exists (ids of people without a record are
        // passed along with the rest).
        let n = numbers.next.get();
        if db.execute(
            "UPDATE records SET change_seq = $2 WHERE id = $1",
            args![id, n],
        )? > 0
        {
            numbers.take();
        }
    }
    Ok(())
}

/// Ids of the records that belong to agenda item `item` (its brief, receipts, actions and
/// their history), not the item itself.
fn records_of_item(db: &dyn Db, item: Uuid) -> Result<Vec<String>, Error> {
    db.query(
        "SELECT id FROM records WHERE item_id = $1 AND id != $1",
        args![item],
    )?
    .iter()
    .map(|r| r.text(0))
    .collect()
}

/// A push applied inside one write transaction, as `actor`.
struct StorePush<'a> {
    db: &'a Deferring<'a>,
    actor: &'a Actor,
    now: DateTime<Utc>,
    /// Who should hear of what this push saved.
    changed: Changed,
    numbers: ChangeNumbers,
    /// The device's last applied sequence number, as stored and then as this push moves it.
    last_seq: u64,
    /// Answers already stored for the batch's mutation ids, and those given in this push.
    processed: HashMap<Uuid, MutationResult>,
    /// The batch's records as stored (read in one query; `None`: not stored), kept up to date
    /// as it saves them.
    records: HashMap<Uuid, Option<SyncRecord>>,
    /// Answers of this push, written together at its end (one statement).
    answered: Vec<(MutationResult, DateTime<Utc>)>,
}

impl StorePush<'_> {
    fn person_exists(&self, id: Uuid) -> Result<bool, Error> {
        Ok(load_record(self.db, id)?
            .is_some_and(|(r, _)| r.entity == EntityKind::Person && !r.deleted))
    }

    /// Integrity of a team (who may change it is the table's): everyone it names is in the
    /// directory.
    fn check_team_change(&self, after: &SyncRecord) -> Result<Result<(), String>, Error> {
        let Some(team) = after.typed::<Team>().filter(|_| !after.deleted) else {
            return Ok(Ok(()));
        };
        for person in std::iter::once(team.coordinator_id)
            .chain(team.member_ids.iter().copied())
            .chain(team.observer_ids.iter().copied())
        {
            if !self.person_exists(person)? {
                return Ok(Err(
                    "A member or the coordinator of the team is not in the directory".into(),
                ));
            }
        }
        Ok(Ok(()))
    }

    fn check_meeting_change(
        &self,
        before: Option<&SyncRecord>,
        after: &SyncRecord,
    ) -> Result<Result<(), String>, Error> {
        let concluding = after
            .typed::<Meeting>()
            .is_some_and(|m| m.status == MeetingStatus::Closed)
            && before
                .and_then(|b| b.typed::<Meeting>())
                .is_none_or(|m| m.status != MeetingStatus::Closed);
        if concluding {
            let team_id = after.uuid_field("team_id").unwrap_or_default();
            let items: Vec<(Uuid, AgendaItem)> = team_records::<AgendaItem>(self.db, team_id)?
                .into_iter()
                .filter(|(_, i)| i.meeting_id == after.id)
                .collect();
            let actions = team_records::<Action>(self.db, team_id)?;
            let blockers = conclusion_blockers(&items, &actions);
            if !blockers.is_empty() {
                return Ok(Err(format!(
                    "The meeting cannot be concluded: {} patient item{} still need{} an outcome (a decision with at least one action, no action needed, or deferred)",
                    blockers.len(),
                    if blockers.len() == 1 { "" } else { "s" },
                    if blockers.len() == 1 { "s" } else { "" }
                )));
            }
        }
        Ok(Ok(()))
    }

    fn check_action(
        &self,
        before: Option<&SyncRecord>,
        after: &SyncRecord,
        team_id: Uuid,
    ) -> Result<Option<String>, Error> {
        let Some(action) = after.typed::<Action>() else {
            return Ok(None);
        };
        let team = self.team_record::<Team>(Some(team_id), team_id)?;
        if !team.is_some_and(|t| t.includes(action.owner_id)) {
            return Ok(Some(
                "An action's owner must be one person in the team; add them to the team first"
                    .into(),
            ));
        }
        if action.item_id.is_some()
            && self
                .team_record::<AgendaItem>(action.item_id, team_id)?
                .is_none()
        {
            return Ok(Some(
                "The action's agenda item is not on the team's agenda".into(),
            ));
        }
        if action.patient_id.is_some()
            && self
                .team_record::<Patient>(action.patient_id, team_id)?
                .is_none()
        {
            return Ok(Some("The patient is not on the team's list".into()));
        }
        let previous = before.and_then(|b| b.typed::<Action>());
        if let Some(previous) = &previous {
            if !previous.status.can_become(action.status) {
                return Ok(Some(format!(
                    "An action that is {} cannot become {}",
                    previous.status.label().to_lowercase(),
                    action.status.label().to_lowercase()
                )));
            }
        }
        Ok(None)
    }

    /// Integrity of availability (who may set it is the table's): one record per person, at
    /// the id derived from them.
    fn check_availability(
        &self,
        before: Option<&SyncRecord>,
        after: &SyncRecord,
    ) -> Result<Result<(), String>, Error> {
        let Some(person) = after.uuid_field("person_id") else {
            return Ok(Ok(()));
        };
        if before.is_some_and(|b| b.uuid_field("person_id") != Some(person))
            || after.id != PersonAvailability::id_for(person)
        {
            return Ok(Err(
                "Availability belongs to one person and cannot be moved to another".into(),
            ));
        }
        Ok(Ok(()))
    }

    fn check_attendance(&self, after: &SyncRecord, team_id: Uuid) -> Result<Option<String>, Error> {
        let Some(answer) = after.typed::<Attendance>() else {
            return Ok(None);
        };
        let Some(team) = self.team_record::<Team>(Some(team_id), team_id)? else {
            return Ok(None);
        };
        if !team.includes(answer.person_id) {
            return Ok(Some(
                "Attendance can only be recorded for members of the team".into(),
            ));
        }
        if self
            .team_record::<Meeting>(Some(answer.meeting_id), team_id)?
            .is_none()
        {
            return Ok(Some("The meeting is not one of the team's meetings".into()));
        }
        if after.id != Attendance::id_for(answer.meeting_id, answer.person_id) {
            return Ok(Some(
                "This person already has an answer for this meeting: change that one".into(),
            ));
        }
        if let Some(deputy) = answer.deputy_id {
            if !self.person_exists(deputy)? {
                return Ok(Some("The deputy is not in the directory".into()));
            }
        }
        Ok(None)
    }

    fn check_action_event(
        &self,
        after: &SyncRecord,
        team_id: Uuid,
    ) -> Result<Option<String>, Error> {
        let Some(event) = after.typed::<ActionEvent>() else {
            return Ok(None);
        };
        if self
            .team_record::<Action>(Some(event.action_id), team_id)?
            .is_none()
        {
            return Ok(Some(
                "The history entry does not belong to an action of the team".into(),
            ));
        }
        Ok(None)
    }

    /// A live record of `kind` belonging to `team`, if there is one.
    fn team_record<E: Entity>(&self, id: Option<Uuid>, team: Uuid) -> Result<Option<E>, Error> {
        let Some(id) = id else { return Ok(None) };
        Ok(load_record(self.db, id)?
            .filter(|(r, _)| !r.deleted && team_of(r) == Some(team))
            .and_then(|(r, _)| r.typed::<E>()))
    }

    /// Integrity of a team's records (who may write them is the table's): everything they point
    /// at belongs to the same team, and the safeguarding restriction holds.
    fn check_team_record(
        &self,
        before: Option<&SyncRecord>,
        after: &SyncRecord,
    ) -> Result<Result<(), String>, Error> {
        let Some(team_id) = team_of(after) else {
            return Ok(Err("The record does not name its team".into()));
        };
        if let Some(refusal) = self.check_restriction(before, after)? {
            return Ok(Err(refusal));
        }
        if after.deleted {
            return Ok(Ok(()));
        }
        let refusal = match after.entity {
            EntityKind::Patient => self.check_patient(after, team_id)?,
            EntityKind::AgendaItem => self.check_item(before, after, team_id)?,
            EntityKind::Brief => self.check_brief(after, team_id)?,
            EntityKind::ReadReceipt => self.check_receipt(after, team_id)?,
            EntityKind::Action => self.check_action(before, after, team_id)?,
            EntityKind::ActionEvent => self.check_action_event(after, team_id)?,
            EntityKind::Attendance => self.check_attendance(after, team_id)?,
            _ => None,
        };
        Ok(refusal.map_or(Ok(()), Err))
    }

    /// The safeguarding restriction rules ([`access`]) for a change to a team record.
    fn check_restriction(
        &self,
        before: Option<&SyncRecord>,
        after: &SyncRecord,
    ) -> Result<Option<String>, Error> {
        let person = self.actor.person_id;
        if after.entity == EntityKind::Action && before.is_none() {
            // Only those who see the discussion set its actions, whoever will own them.
            let hidden = restriction_of(self.db, after)?
                .is_some_and(|(item, team)| !access::may_see_restricted(&item, &team, person));
            return Ok(hidden
                .then(|| "Action: it belongs to a restricted item that you may not see".into()));
        }
        if sight_of(self.db, person, after)? != Sight::Hidden {
            return Ok(None);
        }
        Ok(Some(match (after.entity, before) {
            (EntityKind::Action, Some(_)) => "This action comes from a restricted item: ask the item's lead or the team's coordinator to give it to someone else".into(),
            _ => format!(
                "{}: it belongs to a restricted item that you may not see",
                after.entity.label()
            ),
        }))
    }

    fn check_patient(&self, after: &SyncRecord, team_id: Uuid) -> Result<Option<String>, Error> {
        let Some(patient) = after.typed::<Patient>() else {
            return Ok(None);
        };
        let same_number = self.db.query(
            &format!(
                "SELECT body FROM records WHERE entity = 'patient' AND team_id = $1 AND id != $2 AND {} = $3",
                self.db.engine().json_text("body", &["fields", "nhs_number"])
            ),
            args![team_id, after.id, &patient.nhs_number],
        )?;
        let mut duplicate = false;
        for row in same_number {
            let other: SyncRecord = serde_json::from_str(&row.text(0)?).map_err(json_err)?;
            duplicate |= !other.deleted;
        }
        // The message must not repeat the NHS number (no identifiers in error messages).
        Ok(duplicate.then(|| "This patient is already on the team's list: choose them from the list instead of adding them again".into()))
    }

    fn check_item(
        &self,
        before: Option<&SyncRecord>,
        after: &SyncRecord,
        team_id: Uuid,
    ) -> Result<Option<String>, Error> {
        let Some(item) = after.typed::<AgendaItem>() else {
            return Ok(None);
        };
        let Some(meeting) = self.team_record::<Meeting>(Some(item.meeting_id), team_id)? else {
            return Ok(Some(
                "The meeting for this item is not one of the team's meetings".into(),
            ));
        };
        if item.patient_id.is_some()
            && self
                .team_record::<Patient>(item.patient_id, team_id)?
                .is_none()
        {
            return Ok(Some("The patient is not on the team's list".into()));
        }
        let automatic =
            item.carried_from.is_some() || after.id == actions_review_id(item.meeting_id);
        if before.is_none() && !automatic {
            let team = self.team_record::<Team>(Some(team_id), team_id)?;
            if let Some(team) = team {
                match team.may_add_item(meeting.starts_at, self.actor.person_id, self.now) {
                    Err(reason) => return Ok(Some(reason)),
                    Ok(true) if !item.late => {
                        return Ok(Some(
                            "The agenda has closed, so this item must be marked as late".into(),
                        ))
                    }
                    Ok(_) => {}
                }
            }
        }
        Ok(None)
    }

    fn check_brief(&self, after: &SyncRecord, team_id: Uuid) -> Result<Option<String>, Error> {
        let Some(brief) = after.typed::<Brief>() else {
            return Ok(None);
        };
        let item = self.team_record::<AgendaItem>(Some(brief.item_id), team_id)?;
        if !item.is_some_and(|i| i.kind == ItemKind::PatientDiscussion) {
            return Ok(Some(
                "A brief must belong to a patient discussion on the team's agenda".into(),
            ));
        }
        if after.id != brief_id_for(brief.item_id) {
            return Ok(Some(
                "This item already has a brief: open it from the agenda".into(),
            ));
        }
        Ok(None)
    }

    fn check_receipt(&self, after: &SyncRecord, team_id: Uuid) -> Result<Option<String>, Error> {
        let Some(receipt) = after.typed::<ReadReceipt>() else {
            return Ok(None);
        };
        if after.id != ReadReceipt::id_for(receipt.brief_id, receipt.person_id)
            || self
                .team_record::<Brief>(Some(receipt.brief_id), team_id)?
                .is_none()
        {
            return Ok(Some(
                "The receipt does not match a brief of the team".into(),
            ));
        }
        Ok(None)
    }

    /// Re-sends a team's records and people to pulls, so that someone who has just joined
    /// the team receives records changed before they joined.
    fn reannounce_team(&self, team_id: Uuid, team: Option<&Team>) -> Result<(), Error> {
        let mut ids: Vec<String> = self
            .db
            .query(
                "SELECT id FROM records WHERE team_id = $1 AND entity = 'meeting'",
                args![team_id],
            )?
            .iter()
            .map(|r| r.text(0))
            .collect::<Result<_, _>>()?;
        if let Some(team) = team {
            for person in std::iter::once(team.coordinator_id)
                .chain(team.member_ids.iter().copied())
                .chain(team.observer_ids.iter().copied())
            {
                ids.push(person.to_string());
                ids.push(PersonAvailability::id_for(person).to_string());
            }
        }
        // A new coordinator sees every restricted item; the old one no longer does.
        for row in self.db.query(
            "SELECT r.id FROM records r JOIN records i ON r.item_id = i.id \
             WHERE i.team_id = $1 AND i.restricted = 1",
            args![team_id],
        )? {
            ids.push(row.text(0)?);
        }
        reannounce(self.db, &self.numbers, ids)
    }
}

impl SyncStore for StorePush<'_> {
    type Error = Error;

    fn processed(&mut self, mutation_id: Uuid) -> Result<Option<MutationResult>, Error> {
        Ok(self.processed.get(&mutation_id).cloned())
    }

    fn last_seq(&mut self, _device: Uuid) -> Result<u64, Error> {
        Ok(self.last_seq)
    }

    fn record(&mut self, id: Uuid) -> Result<Option<SyncRecord>, Error> {
        match self.records.get(&id) {
            Some(known) => Ok(known.clone()),
            None => Ok(load_record(self.db, id)?.map(|(record, _)| record)),
        }
    }

    fn may_see(&mut self, record: &SyncRecord) -> Result<bool, Error> {
        let created_by = load_record(self.db, record.id)?.map_or(self.actor.user_id, |(_, c)| c);
        let sight = if record.entity == EntityKind::Organisation {
            Sightlines::of(self.db, self.actor)?
        } else {
            Sightlines::without_organisations(self.db, self.actor)?
        };
        Ok(sight.may_see(self.actor, record, created_by)
            && sight_of(self.db, self.actor.person_id, record)? != Sight::Hidden)
    }

    fn authorize(
        &mut self,
        before: Option<&SyncRecord>,
        after: &SyncRecord,
    ) -> Result<Result<(), String>, Error> {
        let me = self.actor.person_id;
        if let Err(refusal) = authorize::decide(
            &mut StoredFacts {
                db: self.db,
                now: self.now,
            },
            me,
            before,
            after,
        )? {
            return Ok(Err(refusal.0));
        }
        match after.entity {
            EntityKind::Organisation | EntityKind::Person => Ok(Ok(())),
            EntityKind::Team => self.check_team_change(after),
            EntityKind::Meeting => self.check_meeting_change(before, after),
            EntityKind::Availability => self.check_availability(before, after),
            _ => self.check_team_record(before, after),
        }
    }

    fn save_record(&mut self, record: &SyncRecord) -> Result<(), Error> {
        self.changed.note(record);
        self.records.insert(record.id, Some(record.clone()));
        let action = if record.deleted {
            AuditAction::Delete
        } else if record.version == 1 {
            AuditAction::Create
        } else {
            AuditAction::Change
        };
        super::audit_log::record_access(self.db, self.actor, action, record, self.now)?;
        let body = serde_json::to_string(record).map_err(json_err)?;
        let governing_item = governing_item_id(self.db, record)?;
        let restricted = record.entity == EntityKind::AgendaItem
            && record.fields.get("restricted") == Some(&serde_json::Value::Bool(true));
        let was_restricted = record.entity == EntityKind::AgendaItem
            && is_restricted(self.db, record.id)? == Some(true);
        self.db.save_record([
            Value::from(record.id),
            Value::from(record.entity.as_str()),
            Value::from(team_of(record)),
            Value::from(self.actor.user_id),
            Value::from(self.numbers.take()),
            Value::from(body),
            Value::from(governing_item),
            Value::from(restricted),
            Value::from(organisation_of(record)),
        ]);
        // Who sees a restricted item's brief and actions may have changed: send them again,
        // so that each device is given (or loses) what it may now see.
        if record.entity == EntityKind::AgendaItem && (restricted || was_restricted) {
            reannounce(self.db, &self.numbers, records_of_item(self.db, record.id)?)?;
        }
        if record.entity == EntityKind::Action {
            let item_restricted = match governing_item {
                Some(item) => is_restricted(self.db, item)? == Some(true),
                None => false,
            };
            if item_restricted {
                // The owner sees the action's history: a new owner gets it, the old one loses it.
                let events: Vec<String> = self
                    .db
                    .query(
                        &format!(
                            "SELECT id FROM records WHERE entity = 'action_event' AND {} = $1",
                            self.db.engine().json_text("body", &["fields", "action_id"])
                        ),
                        args![record.id],
                    )?
                    .iter()
                    .map(|r| r.text(0))
                    .collect::<Result<_, _>>()?;
                reannounce(self.db, &self.numbers, events)?;
            }
        }
        if record.entity == EntityKind::Team {
            let team = record.typed::<Team>().filter(|_| !record.deleted);
            self.db.execute_later(
                "DELETE FROM team_members WHERE team_id = $1",
                args![record.id],
            )?;
            if let Some(team) = &team {
                let insert = "INSERT INTO team_members (team_id, person_id, may_write) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";
                for person in
                    std::iter::once(team.coordinator_id).chain(team.member_ids.iter().copied())
                {
                    self.db.execute_later(insert, args![record.id, person, 1])?;
                }
                for person in &team.observer_ids {
                    self.db.execute_later(insert, args![record.id, person, 0])?;
                }
            }
            self.reannounce_team(record.id, team.as_ref())?;
        }
        Ok(())
    }

    fn save_processed(
        &mut self,
        _device: Uuid,
        seq: u64,
        result: &MutationResult,
    ) -> Result<(), Error> {
        self.last_seq = seq;
        self.processed.insert(result.mutation_id(), result.clone());
        self.answered.push((result.clone(), Utc::now()));
        Ok(())
    }
}

/// Most rows one statement writes (well under either engine's limit on parameters).
const ROWS_PER_STATEMENT: usize = 200;

/// The columns of a saved record, in the order [`Deferring`] writes them.
const RECORD_COLUMNS: usize = 9;

/// A push's transaction, with the records it saves written in batches: each save is queued,
/// and the queue is written (a few hundred rows per statement) before anything else touches
/// the database and before the push ends. Every read therefore still sees every earlier
/// write, while a batch of changes that needs no reads in between (new organisations, say)
/// costs one statement instead of one per change.
struct Deferring<'a> {
    db: &'a dyn Db,
    queue: std::cell::RefCell<Vec<[Value; RECORD_COLUMNS]>>,
}

impl<'a> Deferring<'a> {
    fn new(db: &'a dyn Db) -> Self {
        Self {
            db,
            queue: std::cell::RefCell::new(Vec::new()),
        }
    }

    /// Queues a record's row: id, entity, team, creator, change number, body, item,
    /// restricted, organisation.
    fn save_record(&self, row: [Value; RECORD_COLUMNS]) {
        self.queue.borrow_mut().push(row);
    }

    /// How many saves are queued.
    fn queued(&self) -> usize {
        self.queue.borrow().len()
    }

    /// Whether no record is queued twice (so the queue fits in one statement).
    fn queue_is_distinct(&self) -> bool {
        let queue = self.queue.borrow();
        let mut seen = std::collections::HashSet::new();
        queue.iter().all(|row| seen.insert(row[0].clone_key()))
    }

    /// Empties the queue for the caller to write.
    fn take_queue(&self) -> Vec<[Value; RECORD_COLUMNS]> {
        std::mem::take(&mut *self.queue.borrow_mut())
    }

    /// Writes the queue. A record saved twice goes in a later statement than its first save
    /// (one statement may not change a row twice).
    fn flush(&self) -> Result<(), Error> {
        let queue = self.take_queue();
        let mut rows = queue.as_slice();
        while !rows.is_empty() {
            let mut seen = std::collections::HashSet::new();
            let take = rows
                .iter()
                .take(ROWS_PER_STATEMENT)
                .take_while(|row| seen.insert(row[0].clone_key()))
                .count();
            let (now, later) = rows.split_at(take);
            let bound: Vec<Value> = now.iter().flat_map(|row| row.iter().cloned()).collect();
            self.db
                .execute_later(&records_upsert(1, now.len()), &bound)?;
            rows = later;
        }
        Ok(())
    }
}

impl Db for Deferring<'_> {
    fn engine(&self) -> super::db::Engine {
        self.db.engine()
    }

    fn execute(&self, sql: &str, args: &[Value]) -> Result<u64, Error> {
        self.flush()?;
        self.db.execute(sql, args)
    }

    fn execute_later(&self, sql: &str, args: &[Value]) -> Result<(), Error> {
        self.flush()?;
        self.db.execute_later(sql, args)
    }

    fn query(&self, sql: &str, args: &[Value]) -> Result<Vec<super::db::Row>, Error> {
        self.flush()?;
        self.db.query(sql, args)
    }

    fn lock(&self, lock: Lock) -> Result<(), Error> {
        self.flush()?;
        self.db.lock(lock)
    }

    fn lock_keys(&self, space: super::db::KeySpace, keys: &[&str]) -> Result<(), Error> {
        self.flush()?;
        self.db.lock_keys(space, keys)
    }
}

impl StorePush<'_> {
    /// Ends the push: writes the records still queued, the answers, the device's place and
    /// (on PostgreSQL) the news for other servers. On PostgreSQL that is one statement (the
    /// writes as data-modifying `WITH` clauses, then `pg_notify`, delivered only if the push
    /// commits), sent with the `COMMIT`; on SQLite, a few statements in the same process.
    fn finish(&mut self, device: Uuid) -> Result<(), Error> {
        if !self.changed.is_empty() {
            // The last number this push handed out: the head of the log once it commits.
            self.changed.head = (self.numbers.next.get() - 1).max(0) as u64;
        }
        if self.answered.is_empty() {
            return self.db.flush();
        }
        let mut answers = Vec::with_capacity(self.answered.len());
        for (result, at) in &self.answered {
            answers.push([
                Value::from(result.mutation_id()),
                Value::from(device),
                Value::from(serde_json::to_string(result).map_err(json_err)?),
                Value::from(*at),
            ]);
        }
        let device_row = [
            Value::from(device),
            Value::from(self.actor.user_id),
            Value::from(self.last_seq as i64),
        ];
        const DEVICE: &str =
            "INSERT INTO devices (device_id, user_id, last_seq) VALUES ($1, $2, $3) \
             ON CONFLICT(device_id) DO UPDATE SET last_seq = excluded.last_seq";
        let small = answers.len() <= ROWS_PER_STATEMENT
            && self.db.queued() <= ROWS_PER_STATEMENT
            && self.db.queue_is_distinct();
        if self.db.engine() != super::db::Engine::Postgres || !small {
            self.db.execute_later(DEVICE, &device_row)?;
            for chunk in answers.chunks(ROWS_PER_STATEMENT) {
                let bound: Vec<Value> = chunk.iter().flatten().cloned().collect();
                self.db
                    .execute_later(&answers_insert(1, chunk.len()), &bound)?;
            }
            self.db.flush()?;
            if self.db.engine() == super::db::Engine::Postgres && !self.changed.is_empty() {
                self.db.execute_later(
                    &format!(
                        "SELECT pg_notify({}, $2)",
                        super::changes::channel_sql("$1")
                    ),
                    args![super::changes::CHANNEL, self.changed.to_payload()],
                )?;
            }
            return Ok(());
        }
        // PostgreSQL, one round trip.
        let mut bound: Vec<Value> = device_row.to_vec();
        let mut clauses = vec![format!("device AS ({DEVICE} RETURNING 1)")];
        clauses.push(format!(
            "answers AS ({} RETURNING 1)",
            answers_insert(bound.len() + 1, answers.len())
        ));
        bound.extend(answers.iter().flatten().cloned());
        let queued = self.db.take_queue();
        if !queued.is_empty() {
            clauses.push(format!(
                "saved AS ({} RETURNING 1)",
                records_upsert(bound.len() + 1, queued.len())
            ));
            bound.extend(queued.iter().flatten().cloned());
        }
        let news = if self.changed.is_empty() {
            "SELECT 1".to_owned()
        } else {
            bound.push(Value::from(super::changes::CHANNEL));
            bound.push(Value::from(self.changed.to_payload()));
            format!(
                "SELECT pg_notify({}, ${})",
                super::changes::channel_sql(&format!("${}", bound.len() - 1)),
                bound.len()
            )
        };
        self.db
            .db
            .execute_later(&format!("WITH {} {news}", clauses.join(", ")), &bound)?;
        Ok(())
    }
}

/// `INSERT INTO processed_mutations … VALUES` with `rows` rows of placeholders from `$first`.
fn answers_insert(first: usize, rows: usize) -> String {
    let values: Vec<String> = (0..rows)
        .map(|i| format!("({})", placeholders(first + i * 4, 4)))
        .collect();
    format!(
        "INSERT INTO processed_mutations (mutation_id, device_id, result, processed_at) VALUES {}",
        values.join(", ")
    )
}

/// The upsert of `rows` records with placeholders from `$first` (see [`Deferring`]).
fn records_upsert(first: usize, rows: usize) -> String {
    let values: Vec<String> = (0..rows)
        .map(|i| {
            format!(
                "({})",
                placeholders(first + i * RECORD_COLUMNS, RECORD_COLUMNS)
            )
        })
        .collect();
    format!(
        "INSERT INTO records (id, entity, team_id, created_by, change_seq, body, item_id, restricted, org_id) VALUES {} \
         ON CONFLICT(id) DO UPDATE SET team_id = excluded.team_id, change_seq = excluded.change_seq, body = excluded.body, \
         item_id = COALESCE(excluded.item_id, records.item_id), restricted = excluded.restricted, org_id = excluded.org_id",
        values.join(", ")
    )
}

/// Applies a device's batch of mutations as `actor`, and says who should hear of it. Call
/// inside one write transaction: the change log is locked from the first read, so the batch is
/// applied as if alone.
pub fn push(
    db: &dyn Db,
    actor: &Actor,
    device: Uuid,
    mutations: &[Mutation],
    now: DateTime<Utc>,
    mail: Option<&MailOrigin>,
) -> Result<(Vec<MutationResult>, Changed), Error> {
    db.lock(Lock::ChangeLog)?;
    // Everything the batch needs to know first, in one round trip: the head of the change
    // log, the device's place, the answers already given to its mutations (a resent batch)
    // and the records it changes.
    let n = mutations.len();
    let sql = format!(
        "SELECT 'head', CAST((SELECT MAX(change_seq) FROM records) AS TEXT), NULL \
         UNION ALL SELECT 'device', user_id, CAST(last_seq AS TEXT) FROM devices WHERE device_id = $1 \
         UNION ALL SELECT 'answer', mutation_id, result FROM processed_mutations WHERE mutation_id IN ({}) \
         UNION ALL SELECT 'record', id, body FROM records WHERE id IN ({})",
        if n == 0 { "NULL".to_owned() } else { placeholders(2, n) },
        if n == 0 { "NULL".to_owned() } else { placeholders(2 + n, n) },
    );
    let mut bound = vec![Value::from(device)];
    bound.extend(mutations.iter().map(|m| Value::from(m.mutation_id)));
    bound.extend(mutations.iter().map(|m| Value::from(m.id)));
    let (mut latest, mut owner, mut last_seq) = (0, None, 0);
    let mut processed = HashMap::new();
    let mut records: HashMap<Uuid, Option<SyncRecord>> =
        mutations.iter().map(|m| (m.id, None)).collect();
    for row in db.query(&sql, &bound)? {
        match row.text(0)?.as_str() {
            "head" => latest = row.opt_text(1)?.and_then(|t| t.parse().ok()).unwrap_or(0),
            "device" => {
                owner = Some(row.uuid(1)?);
                last_seq = row.opt_text(2)?.and_then(|t| t.parse().ok()).unwrap_or(0);
            }
            "answer" => {
                let result: MutationResult =
                    serde_json::from_str(&row.text(2)?).map_err(json_err)?;
                processed.insert(row.uuid(1)?, result);
            }
            _ => {
                let record: SyncRecord = serde_json::from_str(&row.text(2)?).map_err(json_err)?;
                records.insert(record.id, Some(record));
            }
        }
    }
    if owner.is_some_and(|o| o != actor.user_id) {
        return Err(Error::Forbidden(
            "This device is registered to another user. Sign out and sign in again to start afresh.".into(),
        ));
    }
    let writer = Writer {
        device,
        name: &actor.name,
        now,
    };
    // With email on, the records that may send a message, as stored before this push.
    let mail_before: HashMap<Uuid, SyncRecord> = match mail {
        Some(_) => records
            .iter()
            .filter_map(|(id, r)| r.as_ref().map(|r| (*id, r)))
            .filter(|(_, r)| super::outbox::may_send_mail(r.entity))
            .map(|(id, r)| (id, r.clone()))
            .collect(),
        None => HashMap::new(),
    };
    let deferring = Deferring::new(db);
    let mut push = StorePush {
        db: &deferring,
        actor,
        now,
        changed: Changed::default(),
        numbers: ChangeNumbers::after(latest),
        last_seq,
        processed,
        records,
        answered: Vec::new(),
    };
    let results = process_push(&mut push, &writer, mutations)?;
    if let Some(origin) = mail {
        // The messages these changes send, in the same transaction (the outbox).
        let saved: Vec<&SyncRecord> = push
            .records
            .values()
            .flatten()
            .filter(|r| super::outbox::may_send_mail(r.entity))
            .filter(|r| mail_before.get(&r.id).map(|b| b.version) != Some(r.version))
            .collect();
        if !saved.is_empty() {
            super::outbox::enqueue_for_push(push.db, &mail_before, &saved, origin, now)?;
        }
    }
    push.finish(device)?;
    let changed = push.changed;
    Ok((results, changed))
}

/// Every change after `since` that `actor` may see, in change order, at most
/// [`MAX_PULL_RECORDS`] at a time, and for each whether it is a withheld copy (not the whole
/// record). Run in one read snapshot; the whole records sent are then audited as reads
/// ([`super::audit_log::record_reads`]) before the answer goes out.
///
/// The changes are found through what the person may see ([`Sightlines`]), never by reading
/// the region's change log: their teams' records by team, their teams' people and their
/// availability by id, what they added to the directory by its creator and the organisations
/// their records use by id, each in change order from an index (docs/region.md, "A pull reads
/// only what the person may see"). So the cost of a pull follows the person's own records,
/// and a new device (cursor 0) is given the current state of what it may see, one page per
/// request. Each source is read one record past the page, which tells whether more follow;
/// when none do, the cursor moves to the head of the snapshot, which is gap-free because the
/// committed changes are always a prefix of the numbering.
pub fn pull(db: &dyn Db, actor: &Actor, since: u64) -> Result<Pulled, Error> {
    // Nothing new (most polls): one look at the head of the change log.
    let head = latest_change(db)?;
    if head <= since {
        return Ok(Pulled {
            response: PullResponse::nothing_after(since),
            withheld: Vec::new(),
            decoded: 0,
        });
    }
    let sight = Sightlines::of(db, actor)?;
    let restricted = restricted_items(db, &sight.teams)?;
    let mut candidates = changes_in_sight(db, actor, &sight, since)?;
    candidates.sort_by_key(|c| c.change_seq);
    candidates.dedup_by_key(|c| c.change_seq);
    let more = candidates.len() > MAX_PULL_RECORDS;
    candidates.truncate(MAX_PULL_RECORDS);
    let cursor = match (more, candidates.last()) {
        (true, Some(last)) => last.change_seq,
        _ => head,
    };
    let mut records = Vec::with_capacity(candidates.len());
    let mut withheld = Vec::with_capacity(candidates.len());
    let mut decoded = candidates.len() as u64;
    for candidate in candidates {
        let record: SyncRecord = serde_json::from_str(&candidate.body).map_err(json_err)?;
        // The sources only narrow the search: the rule itself decides.
        if !sight.may_see(actor, &record, candidate.created_by) {
            continue;
        }
        let governed_by_restricted = candidate
            .item_id
            .is_some_and(|item| restricted.contains(&item));
        let seen = if governed_by_restricted {
            sight_of(db, actor.person_id, &record)?
        } else {
            Sight::Full
        };
        withheld.push(seen != Sight::Full);
        records.push(match seen {
            Sight::Full => record,
            _ => access::copy_for(&record, seen),
        });
    }
    decoded += add_organisations_referred_to(db, &mut records, &mut withheld)?;
    Ok(Pulled {
        response: PullResponse {
            records,
            cursor,
            more,
        },
        withheld,
        decoded,
    })
}

/// One page of a pull, as the store answers it.
pub struct Pulled {
    pub response: PullResponse,
    /// For each record sent, whether it is a withheld copy (not audited as a read).
    pub withheld: Vec<bool>,
    /// How many stored records were decoded to answer it: the measure of a pull's work that
    /// tests count (a pull never decodes a record its person may not see).
    pub decoded: u64,
}

/// A stored change that a pull may send, before its body is decoded.
struct Candidate {
    change_seq: u64,
    created_by: Uuid,
    body: String,
    item_id: Option<Uuid>,
}

/// The changes after `since` that [`Sightlines`] may let `actor` see, from each source at
/// most one page and one more, in one statement. A record may come from two sources (an
/// organisation someone added and their team uses); the caller removes the repeat.
fn changes_in_sight(
    db: &dyn Db,
    actor: &Actor,
    sight: &Sightlines,
    since: u64,
) -> Result<Vec<Candidate>, Error> {
    const COLUMNS: &str = "change_seq, created_by, body, item_id";
    let mut bound = vec![
        Value::from(since as i64),
        Value::from(MAX_PULL_RECORDS as i64 + 1),
        Value::from(actor.user_id),
    ];
    let mut sources = vec![format!(
        "SELECT {COLUMNS} FROM records WHERE team_id IS NULL AND created_by = $3 AND change_seq > $1"
    )];
    let ids_in = |bound: &mut Vec<Value>, ids: Vec<Uuid>| {
        let list = placeholders(bound.len() + 1, ids.len());
        bound.extend(ids.into_iter().map(Value::from));
        list
    };
    if !sight.teams.is_empty() {
        let list = ids_in(&mut bound, sight.teams.iter().copied().collect());
        sources.push(format!(
            "SELECT {COLUMNS} FROM records WHERE team_id IN ({list}) AND change_seq > $1"
        ));
    }
    // People and their availability (an availability record's id is derived from its person's).
    let people: Vec<Uuid> = sight
        .people
        .iter()
        .copied()
        .chain(std::iter::once(actor.person_id))
        .collect::<std::collections::HashSet<_>>()
        .into_iter()
        .flat_map(|p| [p, PersonAvailability::id_for(p)])
        .collect();
    // The directory by id: people, their availability and the organisations in use.
    let ids: Vec<Uuid> = people
        .into_iter()
        .chain(sight.organisations.iter().copied())
        .collect();
    let list = ids_in(&mut bound, ids);
    sources.push(format!(
        "SELECT {COLUMNS} FROM records WHERE team_id IS NULL AND id IN ({list}) AND change_seq > $1"
    ));
    let sql = sources
        .iter()
        .enumerate()
        .map(|(i, source)| {
            format!("SELECT * FROM ({source} ORDER BY change_seq LIMIT $2) AS source{i}")
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    db.query(&sql, &bound)?
        .iter()
        .map(|row| {
            Ok(Candidate {
                change_seq: row.int(0)? as u64,
                created_by: row.uuid(1)?,
                body: row.text(2)?,
                item_id: row.opt_uuid(3).ok().flatten(),
            })
        })
        .collect()
}

/// Adds to a pull the organisations its people and patients refer to that it does not
/// already carry. A device comes to see an organisation without the organisation changing
/// (someone who works there joins the team, a patient's practice is set to it), so its own
/// change number may be behind the device's cursor.
fn add_organisations_referred_to(
    db: &dyn Db,
    records: &mut Vec<SyncRecord>,
    withheld: &mut Vec<bool>,
) -> Result<u64, Error> {
    let carried: std::collections::HashSet<Uuid> = records
        .iter()
        .filter(|r| r.entity == EntityKind::Organisation)
        .map(|r| r.id)
        .collect();
    let mut wanted: Vec<Uuid> = records
        .iter()
        .filter_map(super::visibility::organisation_of)
        .filter(|id| !carried.contains(id))
        .collect();
    wanted.sort();
    wanted.dedup();
    if wanted.is_empty() {
        return Ok(0);
    }
    let rows = db.query(
        &format!(
            "SELECT body FROM records WHERE entity = 'organisation' AND id IN ({})",
            placeholders(1, wanted.len())
        ),
        &wanted.iter().map(Value::from).collect::<Vec<_>>(),
    )?;
    for row in &rows {
        records.push(serde_json::from_str(&row.text(0)?).map_err(json_err)?);
        withheld.push(false);
    }
    Ok(rows.len() as u64)
}
