//! Actions as the pages show them: with owner, organisation, team, patient and history worked
//! out once from the device's copy.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::core::action::{Action, ActionEvent, ActionRow};
use crate::core::entities::{Organisation, Person, Team};
use crate::core::patient::Patient;
use crate::core::sync::Replica;
use crate::core::uk_time;

/// Names the action pages need, looked up once.
pub struct Directory {
    pub people: HashMap<Uuid, Person>,
    pub organisations: HashMap<Uuid, Organisation>,
    pub patients: HashMap<Uuid, Patient>,
    pub teams: HashMap<Uuid, Team>,
}

impl Directory {
    /// Everything on this device.
    pub fn load(replica: &Replica) -> Self {
        fn map<E: crate::core::entities::Entity>(r: &Replica) -> HashMap<Uuid, E> {
            r.entities::<E>().into_iter().collect()
        }
        Self {
            people: map(replica),
            organisations: map(replica),
            patients: map(replica),
            teams: map(replica),
        }
    }

    /// Everyone's name on this device, by person (for labelling people in grids and lists).
    pub fn people_names(replica: &Replica) -> HashMap<Uuid, String> {
        replica
            .entities::<Person>()
            .into_iter()
            .map(|(id, p)| (id, p.name))
            .collect()
    }

    /// A person's name, or a placeholder.
    pub fn name(&self, person: Uuid) -> String {
        self.people.get(&person).map_or_else(
            || "someone not in your directory".into(),
            |p| p.name.clone(),
        )
    }

    /// A person's organisation's name, or empty.
    pub fn organisation_of(&self, person: Uuid) -> String {
        self.people
            .get(&person)
            .and_then(|p| p.organisation_id)
            .and_then(|o| self.organisations.get(&o))
            .map(|o| o.name.clone())
            .unwrap_or_default()
    }

    /// The patient's identity line, or empty.
    pub fn patient(&self, patient: Option<Uuid>) -> String {
        patient
            .and_then(|p| self.patients.get(&p))
            .map(Patient::identity_line)
            .unwrap_or_default()
    }

    /// A team's members and coordinator with their names, sorted by name.
    pub fn members_of(&self, team: Uuid) -> Vec<(Uuid, String)> {
        let Some(t) = self.teams.get(&team) else {
            return Vec::new();
        };
        let mut people: Vec<(Uuid, String)> = std::iter::once(t.coordinator_id)
            .chain(
                t.member_ids
                    .iter()
                    .copied()
                    .filter(|m| *m != t.coordinator_id),
            )
            .map(|p| (p, self.name(p)))
            .collect();
        people.sort_by_cached_key(|(_, n)| n.to_lowercase());
        people
    }
}

/// The rows of a team's action list (or every team's, with `team: None`).
pub fn action_rows(replica: &Replica, dir: &Directory, team: Option<Uuid>) -> Vec<ActionRow> {
    let mut rows: Vec<ActionRow> = replica
        .entities::<Action>()
        .into_iter()
        .filter(|(_, a)| team.is_none_or(|t| a.team_id == t))
        .map(|(id, a)| {
            let owner = dir.name(a.owner_id);
            let organisation = dir.organisation_of(a.owner_id);
            let patient = dir.patient(a.patient_id);
            ActionRow::new(id, a, owner, organisation, patient)
        })
        .collect();
    rows.sort_by(|a, b| {
        (a.action.due, &a.action.description, a.id).cmp(&(
            b.action.due,
            &b.action.description,
            b.id,
        ))
    });
    rows
}

/// One action as a card: everything shown about it, and its history.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionCardData {
    pub id: Uuid,
    pub action: Action,
    pub team_name: String,
    pub coordinator: Option<Uuid>,
    pub owner_name: String,
    pub owner_organisation: String,
    pub patient: Option<(Uuid, String)>,
    pub overdue: bool,
    /// "22 Nov 2026, 13:02 — Sol Worker accepted the action", oldest first.
    pub history: Vec<String>,
    /// Who the action could be given to.
    pub members: Vec<(Uuid, String)>,
    /// The owner cannot sign in, as the server told this page: the coordinator answers for
    /// them (false until known).
    pub owner_cannot_sign_in: bool,
}

/// Marks the cards whose owner is among `without_accounts` (see [`ActionCardData`]).
pub fn mark_owners_without_accounts(cards: &mut [ActionCardData], without_accounts: &[Uuid]) {
    for card in cards {
        card.owner_cannot_sign_in = without_accounts.contains(&card.action.owner_id);
    }
}

/// Cards for the actions that pass `keep`, with their history, in the order given by `order`.
pub fn action_cards(
    replica: &Replica,
    dir: &Directory,
    now: DateTime<Utc>,
    keep: impl Fn(&Action) -> bool,
) -> Vec<ActionCardData> {
    let mut actions: Vec<(Uuid, Action)> = replica
        .entities::<Action>()
        .into_iter()
        .filter(|(_, a)| keep(a))
        .collect();
    if actions.is_empty() {
        return Vec::new();
    }
    // Histories only of the actions shown: reading every event is the expensive part.
    let kept: std::collections::HashSet<Uuid> = actions.iter().map(|(id, _)| *id).collect();
    let mut events: HashMap<Uuid, Vec<ActionEvent>> = HashMap::new();
    for (_, e) in replica.entities::<ActionEvent>() {
        if kept.contains(&e.action_id) {
            events.entry(e.action_id).or_default().push(e);
        }
    }
    crate::core::action::sort_for_owner(&mut actions, now);
    actions
        .into_iter()
        .map(|(id, a)| {
            let mut history = events.remove(&id).unwrap_or_default();
            history.sort_by_key(|e| e.at);
            ActionCardData {
                id,
                team_name: dir
                    .teams
                    .get(&a.team_id)
                    .map(|t| t.name.clone())
                    .unwrap_or_default(),
                coordinator: dir.teams.get(&a.team_id).map(|t| t.coordinator_id),
                owner_name: dir.name(a.owner_id),
                owner_organisation: dir.organisation_of(a.owner_id),
                patient: a.patient_id.map(|p| (p, dir.patient(Some(p)))),
                overdue: a.is_overdue(now),
                history: history
                    .iter()
                    .map(|e| {
                        format!(
                            "{} — {} {}",
                            uk_time::format_uk(e.at),
                            dir.name(e.by),
                            e.summary
                        )
                    })
                    .collect(),
                members: dir.members_of(a.team_id),
                owner_cannot_sign_in: false,
                action: a,
            }
        })
        .collect()
}
