//! Outcome summaries (issue 16): after a meeting, one page per patient item for the patient's GP
//! record and the social care record, saying who was present, what the MDT was asked, what it
//! decided and who is doing what by when. The same summary is printed by the app and carried as
//! a FHIR `Composition` in the meeting's export ([`super::fhir`]).
//!
//! Built from one meeting's records as one person may see them: an item under a safeguarding
//! restriction the person is outside of gives no summary (and no patient), so a summary can
//! never carry what its reader may not see.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::access::{sight, Sight};
use super::action::{Action, ActionEvent, ActionStatus};
use super::agenda::{AgendaItem, ItemKind, Outcome};
use super::attendance::{Attendance, AttendanceStatus};
use super::directory::{Organisation, Person, Role};
use super::meeting::Meeting;
use super::patient::Patient;
use super::record::EntityKind;
use super::team::Team;

/// One meeting's records, and the people and places they name.
#[derive(Debug, Clone, Copy)]
pub struct MeetingRecords<'a> {
    pub meeting_id: Uuid,
    pub meeting: &'a Meeting,
    pub team_id: Uuid,
    pub team: &'a Team,
    pub people: &'a HashMap<Uuid, Person>,
    pub organisations: &'a HashMap<Uuid, Organisation>,
    pub patients: &'a HashMap<Uuid, Patient>,
    /// The meeting's agenda items.
    pub items: &'a [(Uuid, AgendaItem)],
    /// Actions agreed at the meeting.
    pub actions: &'a [(Uuid, Action)],
    /// The history of those actions.
    pub events: &'a [ActionEvent],
    /// The meeting's attendance.
    pub attendance: &'a [Attendance],
}

/// Someone who was at the meeting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Present {
    pub person_id: Uuid,
    pub name: String,
    pub role: Option<Role>,
    /// Whom they stood in for.
    pub deputy_for: Option<String>,
}

/// An action in a summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryAction {
    pub action_id: Uuid,
    pub description: String,
    pub owner: String,
    pub due: NaiveDate,
    pub status: ActionStatus,
}

/// One patient item's outcome summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutcomeSummary {
    pub item_id: Uuid,
    pub patient_id: Uuid,
    /// "Ada Synthetic (NHS 999 000 0018, born 2 Mar 1941)".
    pub patient: String,
    pub team: String,
    pub meeting_starts_at: DateTime<Utc>,
    /// Who was there; `None` when attendance was not recorded.
    pub present: Option<Vec<Present>>,
    pub reason: String,
    pub question: String,
    pub outcome: Outcome,
    pub actions: Vec<SummaryAction>,
    pub objects_to_sharing: bool,
}

impl MeetingRecords<'_> {
    /// The name of a person, or words saying they are not in the directory.
    pub fn name_of(&self, person: Uuid) -> String {
        self.people
            .get(&person)
            .map_or_else(|| "Someone not in the directory".into(), |p| p.name.clone())
    }

    /// What `viewer` is given of `item` and the records that belong to it.
    pub fn sight_of_item(&self, item: &AgendaItem, viewer: Uuid) -> Sight {
        if item.content_withheld {
            return Sight::Withheld;
        }
        sight(EntityKind::AgendaItem, item, self.team, viewer, None)
    }

    /// Whether `viewer` may see `action` (through its item's restriction; an owner always sees
    /// their own action).
    pub fn may_see_action(&self, action: &Action, viewer: Uuid) -> bool {
        let Some(item) = action
            .item_id
            .and_then(|id| self.items.iter().find(|(i, _)| *i == id))
        else {
            return true;
        };
        sight(
            EntityKind::Action,
            &item.1,
            self.team,
            viewer,
            Some(action.owner_id),
        ) == Sight::Full
    }

    /// Who was at the meeting, in the order of the team's list, deputies after the person they
    /// stood in for; `None` when nobody's attendance was recorded.
    pub fn present(&self) -> Option<Vec<Present>> {
        let here: Vec<&Attendance> = self
            .attendance
            .iter()
            .filter(|a| a.meeting_id == self.meeting_id)
            .collect();
        if !here.iter().any(|a| a.status.is_record_of_the_meeting()) {
            return None;
        }
        let attended = |person: Uuid| {
            here.iter()
                .any(|a| a.person_id == person && a.status == AttendanceStatus::Attended)
        };
        let mut out: Vec<Present> = Vec::new();
        let order =
            std::iter::once(self.team.coordinator_id).chain(self.team.member_ids.iter().copied());
        for person in order {
            if attended(person) && !out.iter().any(|p| p.person_id == person) {
                out.push(self.present_person(person, None));
            }
            if let Some(deputy) = here
                .iter()
                .find(|a| a.person_id == person)
                .and_then(|a| a.deputy_id)
                .filter(|d| attended(*d) && !out.iter().any(|p| p.person_id == *d))
            {
                out.push(self.present_person(deputy, Some(self.name_of(person))));
            }
        }
        Some(out)
    }

    fn present_person(&self, person: Uuid, deputy_for: Option<String>) -> Present {
        Present {
            person_id: person,
            name: self.name_of(person),
            role: self.people.get(&person).map(|p| p.role),
            deputy_for,
        }
    }

    /// The outcome summary of every patient item closed with a decision or "no action" that
    /// `viewer` may see in full, in agenda order.
    pub fn summaries(&self, viewer: Uuid) -> Vec<OutcomeSummary> {
        let mut items: Vec<&(Uuid, AgendaItem)> = self
            .items
            .iter()
            .filter(|(_, i)| {
                i.meeting_id == self.meeting_id && i.kind == ItemKind::PatientDiscussion
            })
            .collect();
        items.sort_by_key(|(id, i)| (i.position, *id));
        let present = self.present();
        items
            .into_iter()
            .filter_map(|(item_id, item)| {
                if self.sight_of_item(item, viewer) != Sight::Full {
                    return None;
                }
                let outcome = item
                    .outcome
                    .clone()
                    .filter(|o| matches!(o, Outcome::Decision { .. } | Outcome::NoAction { .. }))?;
                let patient_id = item.patient_id?;
                let patient = self.patients.get(&patient_id)?;
                let mut actions: Vec<SummaryAction> = self
                    .actions
                    .iter()
                    .filter(|(_, a)| {
                        a.item_id == Some(*item_id) && a.status != ActionStatus::Cancelled
                    })
                    .map(|(id, a)| SummaryAction {
                        action_id: *id,
                        description: a.description.clone(),
                        owner: self.name_of(a.owner_id),
                        due: a.due,
                        status: a.status,
                    })
                    .collect();
                actions.sort_by(|a, b| (a.due, &a.description).cmp(&(b.due, &b.description)));
                Some(OutcomeSummary {
                    item_id: *item_id,
                    patient_id,
                    patient: patient.identity_line(),
                    team: self.team.name.clone(),
                    meeting_starts_at: self.meeting.starts_at,
                    present: present.clone(),
                    reason: item.reason.clone(),
                    question: item.question.clone(),
                    outcome,
                    actions,
                    objects_to_sharing: patient.objects_to_sharing,
                })
            })
            .collect()
    }
}

#[cfg(test)]
pub(crate) mod tests;
