//! Need-to-know: which teams a person is in, which records they may see, and how much of a
//! record under a safeguarding restriction they are given. Pulls filter by it; pushes ask it
//! before accepting a change (with the write-permission table of [`authorize`]).

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::db::{Db, Value};
use super::records::{load_record, records_by_id};
use super::Actor;
use crate::args;
use crate::core::access::{self, Sight};
use crate::core::action::Action;
use crate::core::agenda::AgendaItem;
use crate::core::authorize;
use crate::core::entities::{Entity, EntityKind, Person, Team};
use crate::core::meeting::Meeting;
use crate::core::sync::SyncRecord;
use crate::server::error::Error;

/// The teams `person` may read: coordinated, belonged to or observed.
pub fn teams_of(db: &dyn Db, person: Uuid) -> Result<HashSet<Uuid>, Error> {
    db.query(
        "SELECT team_id FROM team_members WHERE person_id = $1",
        args![person],
    )?
    .iter()
    .map(|r| r.uuid(0))
    .collect()
}

/// Everyone in any of `teams`.
pub fn people_in(db: &dyn Db, teams: &HashSet<Uuid>) -> Result<HashSet<Uuid>, Error> {
    ids_in_teams(
        db,
        "SELECT DISTINCT person_id FROM team_members WHERE team_id IN",
        teams,
    )
}

/// The ids `select` (a query ending "… team_id IN") finds for `teams`, in one statement.
fn ids_in_teams(db: &dyn Db, select: &str, teams: &HashSet<Uuid>) -> Result<HashSet<Uuid>, Error> {
    if teams.is_empty() {
        return Ok(HashSet::new());
    }
    db.query(
        &format!("{select} ({})", placeholders(1, teams.len())),
        &teams.iter().map(Value::from).collect::<Vec<_>>(),
    )?
    .iter()
    .map(|r| r.uuid(0))
    .collect()
}

/// `$first, …` for `n` values, for an `IN (…)` list.
pub(super) fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The team a record belongs to, for access checks and pulls.
pub fn team_of(record: &SyncRecord) -> Option<Uuid> {
    match record.entity {
        EntityKind::Team => Some(record.id),
        EntityKind::Organisation | EntityKind::Person | EntityKind::Availability => None,
        _ => record.uuid_field("team_id"),
    }
}

/// The organisation a record refers to (a person's employer, a patient's registered
/// practice), stored beside it so that "the organisations my records use" is one indexed
/// look-up instead of reading every record.
pub fn organisation_of(record: &SyncRecord) -> Option<Uuid> {
    match record.entity {
        EntityKind::Person => record.uuid_field("organisation_id"),
        EntityKind::Patient => record.uuid_field("registered_practice_id"),
        _ => None,
    }
}

/// What one person may see, worked out once per pull or push from the indexed columns:
/// their teams, everyone in those teams, and the organisations that what they see refers to.
/// Need-to-know (DESIGN.md §5): a team's records go to its members only; the directory goes
/// to a device only as far as its person's teams use it.
#[derive(Debug, Clone, Default)]
pub struct Sightlines {
    /// The teams the person coordinates, belongs to or observes.
    pub teams: HashSet<Uuid>,
    /// Everyone in any of those teams, the person included when they are in one.
    pub people: HashSet<Uuid>,
    /// The organisations a record the person may see refers to: those of the people in their
    /// teams and of the people they added, and their teams' patients' practices.
    pub organisations: HashSet<Uuid>,
}

impl Sightlines {
    /// What `actor` may see now.
    pub fn of(db: &dyn Db, actor: &Actor) -> Result<Self, Error> {
        let mut sight = Self::without_organisations(db, actor)?;
        sight.organisations = organisations_used(db, actor, &sight.teams, &sight.people)?;
        Ok(sight)
    }

    /// What `actor` may see of everything but organisations (left empty): enough to judge any
    /// record that is not an organisation, one query fewer (a push judges every stored record
    /// it changes).
    pub fn without_organisations(db: &dyn Db, actor: &Actor) -> Result<Self, Error> {
        let teams = teams_of(db, actor.person_id)?;
        let people = people_in(db, &teams)?;
        Ok(Self {
            teams,
            people,
            organisations: HashSet::new(),
        })
    }

    /// Whether `actor` may see `record` (created by `created_by`). Organisations are seen by
    /// whoever added them and by those whose records refer to them; people by those who share
    /// a team with them or added them (and by themselves), with their availability; teams,
    /// meetings and the team's patients, items, briefs and receipts only by its members.
    pub fn may_see(&self, actor: &Actor, record: &SyncRecord, created_by: Uuid) -> bool {
        let in_sight = |person: Uuid| {
            person == actor.person_id
                || created_by == actor.user_id
                || self.people.contains(&person)
        };
        match record.entity {
            EntityKind::Organisation => {
                created_by == actor.user_id || self.organisations.contains(&record.id)
            }
            EntityKind::Person => in_sight(record.id),
            EntityKind::Availability => record.uuid_field("person_id").is_some_and(in_sight),
            _ => team_of(record).is_some_and(|t| self.teams.contains(&t)),
        }
    }
}

/// The organisations referred to by the records `actor` may see (see [`Sightlines`]): read
/// from the `org_id` column of their teams' records, their teams' people and the people they
/// added, never from a record's body.
fn organisations_used(
    db: &dyn Db,
    actor: &Actor,
    teams: &HashSet<Uuid>,
    people: &HashSet<Uuid>,
) -> Result<HashSet<Uuid>, Error> {
    let mut bound = vec![Value::from(actor.user_id), Value::from(actor.person_id)];
    let mut sql = String::from(
        "SELECT org_id FROM records WHERE team_id IS NULL AND org_id IS NOT NULL \
         AND (created_by = $1 OR id = $2)",
    );
    if !people.is_empty() {
        sql.push_str(&format!(
            " UNION SELECT org_id FROM records WHERE team_id IS NULL AND org_id IS NOT NULL AND id IN ({})",
            placeholders(bound.len() + 1, people.len())
        ));
        bound.extend(people.iter().map(Value::from));
    }
    if !teams.is_empty() {
        sql.push_str(&format!(
            " UNION SELECT org_id FROM records WHERE org_id IS NOT NULL AND team_id IN ({})",
            placeholders(bound.len() + 1, teams.len())
        ));
        bound.extend(teams.iter().map(Value::from));
    }
    db.query(&sql, &bound)?.iter().map(|r| r.uuid(0)).collect()
}

/// The agenda item whose restriction governs `record`: the item itself, the item of a brief or
/// an action, or (through the brief or action they belong to) of a read receipt or an action's
/// history line.
pub fn governing_item_id(db: &dyn Db, record: &SyncRecord) -> Result<Option<Uuid>, Error> {
    let via = |field: &str| -> Result<Option<Uuid>, Error> {
        let Some(parent) = record.uuid_field(field) else {
            return Ok(None);
        };
        let item = db
            .query_opt("SELECT item_id FROM records WHERE id = $1", args![parent])?
            .map(|r| r.opt_text(0))
            .transpose()?
            .flatten();
        Ok(item.and_then(|s| Uuid::parse_str(&s).ok()))
    };
    match record.entity {
        EntityKind::AgendaItem => Ok(Some(record.id)),
        EntityKind::Brief | EntityKind::Action => Ok(record.uuid_field("item_id")),
        EntityKind::ReadReceipt => via("brief_id"),
        EntityKind::ActionEvent => via("action_id"),
        _ => Ok(None),
    }
}

/// How much of `record` `person` is given under the safeguarding restriction of the agenda item
/// it belongs to ([`access::sight`]); [`Sight::Full`] for records of items that are not
/// restricted. `record` may be a change not yet stored (a new brief or action).
pub fn sight_of(db: &dyn Db, person: Uuid, record: &SyncRecord) -> Result<Sight, Error> {
    let Some((item, team)) = restriction_of(db, record)? else {
        return Ok(Sight::Full);
    };
    let owner = match record.entity {
        EntityKind::Action => record.typed::<Action>().map(|a| a.owner_id),
        EntityKind::ActionEvent => match record.uuid_field("action_id") {
            Some(action) => load_record(db, action)?
                .and_then(|(r, _)| Action::from_fields(&r.fields).ok())
                .map(|a| a.owner_id),
            None => None,
        },
        _ => None,
    };
    Ok(access::sight(record.entity, &item, &team, person, owner))
}

/// The restricted agenda item (as stored) that `record` belongs to, with its team; `None` when
/// the record is not governed by a restricted item.
pub fn restriction_of(
    db: &dyn Db,
    record: &SyncRecord,
) -> Result<Option<(AgendaItem, Team)>, Error> {
    let Some(item_id) = governing_item_id(db, record)? else {
        return Ok(None);
    };
    // The stored flag answers the usual case (not restricted) without reading the item.
    let item = match is_restricted(db, item_id)? {
        Some(false) => return Ok(None),
        Some(true) => match load_record(db, item_id)? {
            Some((r, _)) => r,
            None => return Ok(None),
        },
        // A new item, not stored yet: as sent.
        None if record.entity == EntityKind::AgendaItem => record.clone(),
        None => return Ok(None),
    };
    let Some(item) = AgendaItem::from_fields(&item.fields)
        .ok()
        .filter(|i| i.restricted)
    else {
        return Ok(None);
    };
    let team = records_by_id::<Team>(db, [item.team_id])?.remove(&item.team_id);
    Ok(team.map(|team| (item, team)))
}

/// Whether the stored record `id` is a restricted agenda item (`None`: nothing stored).
pub fn is_restricted(db: &dyn Db, id: Uuid) -> Result<Option<bool>, Error> {
    db.query_opt("SELECT restricted FROM records WHERE id = $1", args![id])?
        .map(|r| r.bool(0))
        .transpose()
}

/// The restricted agenda items of `teams` (ids only: who may see each is decided per record).
pub fn restricted_items(db: &dyn Db, teams: &HashSet<Uuid>) -> Result<HashSet<Uuid>, Error> {
    ids_in_teams(
        db,
        "SELECT id FROM records WHERE restricted = 1 AND team_id IN",
        teams,
    )
}

/// The stored data the write-permission table asks about ([`authorize::Facts`]), judged at
/// `now` (the push's time).
pub struct StoredFacts<'a> {
    pub db: &'a dyn Db,
    pub now: DateTime<Utc>,
}

impl authorize::Facts for StoredFacts<'_> {
    type Error = Error;

    fn team(&mut self, id: Uuid) -> Result<Option<Team>, Error> {
        Ok(records_by_id::<Team>(self.db, [id])?.remove(&id))
    }

    fn teams_of(&mut self, person: Uuid) -> Result<Vec<Team>, Error> {
        Ok(records_by_id::<Team>(self.db, teams_of(self.db, person)?)?
            .into_values()
            .collect())
    }

    fn person(&mut self, id: Uuid) -> Result<Option<Person>, Error> {
        Ok(records_by_id::<Person>(self.db, [id])?.remove(&id))
    }

    fn has_account(&mut self, person: Uuid) -> Result<Option<bool>, Error> {
        Ok(Some(self.db.exists(
            "SELECT EXISTS(SELECT 1 FROM users WHERE person_id = $1)",
            args![person],
        )?))
    }

    fn meeting(&mut self, id: Uuid) -> Result<Option<Meeting>, Error> {
        Ok(records_by_id::<Meeting>(self.db, [id])?.remove(&id))
    }

    fn now(&self) -> DateTime<Utc> {
        self.now
    }
}
