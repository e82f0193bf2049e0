//! What the agenda, readiness panel and brief pack show for one meeting, derived from the
//! device's copy in one pass so pages render from plain data.

use std::collections::{HashMap, HashSet};

use uuid::Uuid;

use crate::core::agenda::{carried_id, Agenda, AgendaItem, Slot};
use crate::core::brief::{Brief, ReadReceipt, Readiness};
use crate::core::entities::{Meeting, Person, Team};
use crate::core::patient::Patient;
use crate::core::sync::Replica;

/// One meeting with its team, agenda and everything the agenda refers to.
#[derive(Debug, Clone, PartialEq)]
pub struct AgendaView {
    pub meeting_id: Uuid,
    pub meeting: Meeting,
    pub team: Team,
    pub agenda: Agenda,
    pub slots: Vec<Slot>,
    pub patients: HashMap<Uuid, Patient>,
    pub people: HashMap<Uuid, Person>,
    /// (brief id, version, brief) for this meeting's items.
    pub briefs: Vec<(Uuid, u64, Brief)>,
    pub receipts: Vec<ReadReceipt>,
    /// Items of this meeting already carried to a later one.
    pub carried_on: HashSet<Uuid>,
}

impl AgendaView {
    /// The view of `meeting_id`, if the meeting and its team are on this device.
    pub fn load(replica: &Replica, meeting_id: Uuid) -> Option<Self> {
        let meeting = replica.view(meeting_id)?.typed::<Meeting>()?;
        let team = replica.view(meeting.team_id)?.typed::<Team>()?;
        let team_id = meeting.team_id;
        let all_items = replica.all::<AgendaItem>();
        let item_ids: HashSet<Uuid> = all_items.iter().map(|(v, _)| v.id).collect();
        let items: Vec<(Uuid, AgendaItem)> = all_items
            .into_iter()
            .filter(|(_, i)| i.meeting_id == meeting_id)
            .map(|(v, i)| (v.id, i))
            .collect();
        let carried_on = items
            .iter()
            .map(|(id, _)| *id)
            .filter(|id| item_ids.contains(&carried_id(*id)))
            .collect();
        let on_agenda: HashSet<Uuid> = items.iter().map(|(id, _)| *id).collect();
        let agenda = Agenda::new(items);
        let slots = agenda.schedule(meeting.starts_at);
        let patients = replica
            .all::<Patient>()
            .into_iter()
            .filter(|(_, p)| p.team_id == team_id)
            .map(|(v, p)| (v.id, p))
            .collect();
        let people = replica
            .all::<Person>()
            .into_iter()
            .map(|(v, p)| (v.id, p))
            .collect();
        let briefs: Vec<(Uuid, u64, Brief)> = replica
            .all::<Brief>()
            .into_iter()
            .filter(|(_, b)| on_agenda.contains(&b.item_id))
            .map(|(v, b)| (v.id, v.version, b))
            .collect();
        let brief_ids: HashSet<Uuid> = briefs.iter().map(|(id, _, _)| *id).collect();
        let receipts = replica
            .all::<ReadReceipt>()
            .into_iter()
            .filter(|(_, r)| brief_ids.contains(&r.brief_id))
            .map(|(_, r)| r)
            .collect();
        Some(Self {
            meeting_id,
            meeting,
            team,
            agenda,
            slots,
            patients,
            people,
            briefs,
            receipts,
            carried_on,
        })
    }

    /// The coordinator and members: who is expected to read the briefs.
    pub fn members(&self) -> Vec<Uuid> {
        let mut members = vec![self.team.coordinator_id];
        members.extend(
            self.team
                .member_ids
                .iter()
                .filter(|m| **m != self.team.coordinator_id),
        );
        members
    }

    /// A person's name, or a placeholder when they are not on this device.
    pub fn name(&self, person: Option<Uuid>) -> String {
        person.and_then(|p| self.people.get(&p)).map_or_else(
            || "someone not in your directory".into(),
            |p| p.name.clone(),
        )
    }

    /// The brief of an item, with its id and version.
    pub fn brief_of(&self, item: Uuid) -> Option<&(Uuid, u64, Brief)> {
        self.briefs.iter().find(|(_, _, b)| b.item_id == item)
    }

    /// The readiness panel for this meeting.
    pub fn readiness(&self) -> Readiness {
        Readiness::of(
            self.agenda.items(),
            &self.briefs,
            &self.receipts,
            &self.members(),
        )
    }

    /// What to call an item: the patient (name, NHS number, date of birth) or its title.
    pub fn item_heading(&self, item: &AgendaItem) -> String {
        match item.patient_id.and_then(|p| self.patients.get(&p)) {
            Some(patient) => patient.identity_line(),
            None if !item.title.is_empty() => item.title.clone(),
            None => item.kind.label().into(),
        }
    }
}
