//! Who may write what (DESIGN §2.7): one table of entity kind × operation × field → the
//! relations to the record that allow it, and the one function that decides a change with it.
//!
//! The server decides every pushed change with [`decide`]; the app asks the same question
//! before it queues a change ([`decide`] over its own copy), so a change the server would
//! refuse never waits in a device's outbox, and controls the person may not use are hidden.
//! Anything not granted here is refused: a new kind or field is writable by nobody until a row
//! names who may write it.
//!
//! Relations are read from the record *as stored* (for a change or a deletion) or as sent (for
//! a new record), so a change cannot grant its writer the relation that permits it: a member
//! who writes themselves in as coordinator is still judged as a member.

use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use super::access;
use super::action::{Action, ActionEvent, ActionStatus};
use super::agenda::AgendaItem;
use super::directory::Person;
use super::meeting::{Meeting, MeetingStatus};
use super::record::EntityKind;
use super::sync::{MutationOp, Replica, SyncRecord};
use super::team::Team;

/// How the writer stands to a record. A person may hold several at once (a member who owns an
/// action is a member and its subject).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Relation {
    /// Coordinates the record's team (for directory records: a team the person is in, or
    /// that uses the organisation; for new directory records: any team).
    Coordinator,
    /// A member (not only an observer) of the record's team (for directory records: as above).
    Member,
    /// Observes the record's team: reads it, writes nothing but their own reading of briefs.
    Observer,
    /// The record is about the writer: their own directory entry, availability, attendance or
    /// read receipt; an action they own; an agenda item they lead or asked for; a brief they
    /// wrote; a history line in their name.
    Subject,
    /// Named by the coordinator as someone who may see a restricted agenda item.
    Named,
    /// Anyone signed in: only for adding a public body to the shared directory.
    Anyone,
}

impl Relation {
    /// Every relation, in the order the table is printed.
    pub const ALL: [Relation; 6] = [
        Self::Coordinator,
        Self::Member,
        Self::Observer,
        Self::Subject,
        Self::Named,
        Self::Anyone,
    ];

    /// A short name for the printed table.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Coordinator => "coordinator",
            Self::Member => "member",
            Self::Observer => "observer",
            Self::Subject => "subject",
            Self::Named => "named",
            Self::Anyone => "anyone signed in",
        }
    }

    fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// The relations one writer has to one record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Relations(u8);

impl Relations {
    /// No relation at all: someone outside the team, or a site administrator as such.
    pub const NONE: Relations = Relations(0);

    /// Adds `relation` when `holds`.
    pub fn with(self, relation: Relation, holds: bool) -> Self {
        if holds {
            Self(self.0 | relation.bit())
        } else {
            self
        }
    }

    /// The same without `relation`.
    pub fn without(self, relation: Relation) -> Self {
        Self(self.0 & !relation.bit())
    }

    /// True when the writer holds `relation`.
    pub fn has(self, relation: Relation) -> bool {
        self.0 & relation.bit() != 0
    }

    /// True when the writer holds any of `allowed`.
    pub fn any_of(self, allowed: &[Relation]) -> bool {
        allowed.iter().any(|r| self.has(*r))
    }
}

impl std::ops::BitOr for Relations {
    type Output = Relations;

    fn bitor(self, other: Relations) -> Relations {
        Relations(self.0 | other.0)
    }
}

/// What a change does to a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    Create,
    Change,
    Delete,
}

impl Operation {
    /// Every operation, in the order the table is printed.
    pub const ALL: [Operation; 3] = [Self::Create, Self::Change, Self::Delete];

    /// A short name for the printed table.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Change => "change",
            Self::Delete => "delete",
        }
    }

    /// The operation a change from `before` (`None`: not stored yet) to `after` is.
    pub fn of(before: Option<&SyncRecord>, after: &SyncRecord) -> Self {
        match before {
            None => Self::Create,
            Some(_) if after.deleted => Self::Delete,
            Some(_) => Self::Change,
        }
    }
}

use Relation::{Coordinator as C, Member as M, Named as N, Subject as S};

/// Nobody: the operation is never allowed through a push.
const NOBODY: &[Relation] = &[];
const TEAM_WRITERS: &[Relation] = &[C, M];
const COORDINATOR: &[Relation] = &[C];
const SUBJECT: &[Relation] = &[S];
const SUBJECT_OR_COORDINATOR: &[Relation] = &[S, C];
const ITEM_WRITERS: &[Relation] = &[C, M, S, N];
const ACTION_WRITERS: &[Relation] = &[C, M, S];

/// The table: who may `op` a record of `kind` (for [`Operation::Change`], the field `field`).
///
/// Fields that link a record to its team, meeting, item, brief, action or person never change
/// (a record moved between teams would be written under one team's rules and read under
/// another's); fields the server sets are written by nobody.
pub fn who_may(kind: EntityKind, op: Operation, field: &str) -> &'static [Relation] {
    use EntityKind as K;
    use Operation::{Change, Create, Delete};
    match (kind, op) {
        // The shared directory: anyone signed in adds people and organisations (a coordinator
        // puts colleagues in the directory before building a team around them);
        // a person's entry is kept by them or a coordinator of a team they are in; an
        // organisation by coordinators of teams that draw on it. Nothing leaves the directory.
        (K::Organisation, Create) => &[Relation::Anyone],
        (K::Organisation, Change) => match field {
            "name" | "kind" => COORDINATOR,
            _ => NOBODY,
        },
        (K::Person, Create) => &[Relation::Anyone],
        (K::Person, Change) => match field {
            "name" | "role" | "organisation_id" | "phone" | "email" | "last_confirmed" => {
                SUBJECT_OR_COORDINATOR
            }
            _ => NOBODY,
        },
        (K::Organisation | K::Person, Delete) => NOBODY,

        // A team is its coordinator's: its members, quorum and who coordinates (hand-over).
        // It is archived, never deleted, so it can be restored.
        (K::Team, Create) => COORDINATOR,
        (K::Team, Change) => match field {
            "name"
            | "coordinator_id"
            | "member_ids"
            | "observer_ids"
            | "required_roles"
            | "default_minutes"
            | "place"
            | "video_link"
            | "agenda_cutoff_hours"
            | "brief_cutoff_hours"
            | "archived"
            | "observers_see_measures"
            | "email_people_without_accounts" => COORDINATOR,
            _ => NOBODY,
        },
        (K::Team, Delete) => NOBODY,

        (K::Meeting, Create | Delete) => TEAM_WRITERS,
        (K::Meeting, Change) => match field {
            "starts_at" | "ends_at" | "place" | "video_link" | "status" => TEAM_WRITERS,
            _ => NOBODY,
        },
        (K::Series, Create | Delete) => TEAM_WRITERS,
        (K::Series, Change) => match field {
            "rule" | "first_date" | "starts" | "minutes" | "until" | "exceptions" | "place"
            | "video_link" | "sequence" | "cancelled" => TEAM_WRITERS,
            _ => NOBODY,
        },
        (K::Patient, Create | Delete) => TEAM_WRITERS,
        (K::Patient, Change) => match field {
            "nhs_number"
            | "name"
            | "date_of_birth"
            | "registered_practice_id"
            | "lead_professional_id"
            | "objects_to_sharing" => TEAM_WRITERS,
            _ => NOBODY,
        },

        // Agenda items: the team's writers; who may see a restricted one is the
        // coordinator's choice alone (and the restriction narrows the rest, see `access`).
        (K::AgendaItem, Create | Delete) => TEAM_WRITERS,
        (K::AgendaItem, Change) => match field {
            "restricted_to" | "summary_sent_on" => COORDINATOR,
            "kind"
            | "title"
            | "patient_id"
            | "reason"
            | "question"
            | "requested_by"
            | "requested_on"
            | "lead_professional_id"
            | "minutes"
            | "position"
            | "required_people"
            | "late"
            | "deferrals"
            | "carried_from"
            | "status"
            | "outcome"
            | "restricted" => ITEM_WRITERS,
            _ => NOBODY,
        },
        (K::Brief, Create) => TEAM_WRITERS,
        (K::Brief, Change) => match field {
            "author_id"
            | "situation"
            | "background"
            | "assessment"
            | "request"
            | "services_involved"
            | "risks"
            | "safeguarding_concern"
            | "patient_wishes"
            | "consent_to_share"
            | "status" => TEAM_WRITERS,
            _ => NOBODY,
        },
        (K::Brief, Delete) => COORDINATOR,
        // Only the reader records their own reading (observers included).
        (K::ReadReceipt, Create) => SUBJECT,
        (K::ReadReceipt, Change) => match field {
            "brief_version" | "read_at" => SUBJECT,
            _ => NOBODY,
        },
        (K::ReadReceipt, Delete) => NOBODY,

        (K::Action, Create | Delete) => TEAM_WRITERS,
        (K::Action, Change) => match field {
            "description" | "owner_id" | "due" | "patient_id" | "meeting_id" | "item_id"
            | "status" | "completion_note" | "reason" => ACTION_WRITERS,
            _ => NOBODY,
        },
        // An action's history is append-only.
        (K::ActionEvent, Create) => TEAM_WRITERS,
        (K::ActionEvent, Change | Delete) => NOBODY,

        // Each person answers for themselves; the coordinator records who came.
        (K::Attendance, Create) => SUBJECT_OR_COORDINATOR,
        (K::Attendance, Change) => match field {
            "status" | "deputy_id" => SUBJECT_OR_COORDINATOR,
            _ => NOBODY,
        },
        (K::Attendance, Delete) => COORDINATOR,
        // A person's availability: theirs, or (for someone who cannot sign in) their
        // coordinator's.
        (K::Availability, Create) => SUBJECT_OR_COORDINATOR,
        (K::Availability, Change) => match field {
            "commitments" | "absences" | "prefers_remote" => SUBJECT_OR_COORDINATOR,
            _ => NOBODY,
        },
        (K::Availability, Delete) => SUBJECT,
    }
}

/// Rules that depend on the value written as well as on who writes it, listed with the table.
pub const VALUE_RULES: &[&str] = &[
    "Action: only its owner accepts or declines it, or the team's coordinator for an owner who cannot sign in.",
    "Action history: a line is written in the writer's own name.",
    "Team: the person who creates a team is its coordinator; nobody removes themselves.",
    "Availability and directory entries: a coordinator keeps them only for a team member who cannot sign in.",
    "Agenda item (restricted): people who may not see it may move it or change its length only; only the coordinator lifts the restriction or names people.",
    "Agenda item: nothing on a concluded meeting's agenda is added, changed or removed.",
    "Meeting: it is concluded only once it has started (before then it can be cancelled instead).",
    "Team (archived): nothing of an archived team is added, changed or removed (its meetings, series, patients, agenda items, briefs, read receipts, actions, their history and attendance); the team itself takes only its coordinator restoring it.",
];

/// Why a change to an archived team's records is refused.
pub const ARCHIVED: &str = "This team is archived: its records can be read but not added to, changed or removed. Its coordinator can restore it from the team's page";

/// Why a team cannot be created with someone else as its coordinator.
pub const TEAM_CREATE_REFUSAL: &str = "You can only create a team that you coordinate: put yourself as its coordinator, and hand it over later if someone else will run it";

/// What a writer's side of the question needs to know about the stored data.
pub trait Facts {
    type Error;
    /// A live team, as stored.
    fn team(&mut self, id: Uuid) -> Result<Option<Team>, Self::Error>;
    /// Every live team `person` coordinates, is a member of or observes, as stored.
    fn teams_of(&mut self, person: Uuid) -> Result<Vec<Team>, Self::Error>;
    /// A live directory entry.
    fn person(&mut self, id: Uuid) -> Result<Option<Person>, Self::Error>;
    /// Whether `person` can sign in (`None`: not known on this side; the server decides).
    fn has_account(&mut self, person: Uuid) -> Result<Option<bool>, Self::Error>;
    /// A live meeting, as stored.
    fn meeting(&mut self, id: Uuid) -> Result<Option<Meeting>, Self::Error>;
    /// The moment the change is judged at (the server's push time, or the device's clock):
    /// injected, so rules about time are tested at any moment.
    fn now(&self) -> DateTime<Utc>;
}

/// A change refused, with what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal(pub String);

/// The team-scoped relations `me` has within `team`.
fn in_team(team: &Team, me: Uuid) -> Relations {
    Relations::NONE
        .with(Relation::Coordinator, team.coordinator_id == me)
        .with(Relation::Member, team.member_ids.contains(&me))
        .with(Relation::Observer, team.observer_ids.contains(&me))
}

/// Whether anyone in `team` works for `organisation`.
fn team_uses<F: Facts>(facts: &mut F, team: &Team, organisation: Uuid) -> Result<bool, F::Error> {
    for person in std::iter::once(team.coordinator_id)
        .chain(team.member_ids.iter().copied())
        .chain(team.observer_ids.iter().copied())
    {
        if facts
            .person(person)?
            .is_some_and(|p| p.organisation_id == Some(organisation))
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// How `me` stands to `record` (the stored record for a change or deletion, the new one for a
/// creation).
pub fn relations<F: Facts>(
    facts: &mut F,
    me: Uuid,
    record: &SyncRecord,
    op: Operation,
) -> Result<Relations, F::Error> {
    use EntityKind as K;
    let subject_field = |field: &str| record.uuid_field(field) == Some(me);
    Ok(match record.entity {
        // Adding to the directory needs no relation (see the table).
        K::Organisation | K::Person if op == Operation::Create => Relations::NONE,
        K::Person => {
            let mut r = Relations::NONE.with(Relation::Subject, record.id == me);
            for team in facts.teams_of(record.id)? {
                r = r | in_team(&team, me);
            }
            // Someone who can sign in keeps their own entry (their role counts towards their
            // teams' quorum): a coordinator keeps it only for people who cannot, so nobody
            // rewrites a colleague's role or number by building a team around them.
            if record.id != me && facts.has_account(record.id)? == Some(true) {
                r = r.without(Relation::Coordinator);
            }
            r
        }
        K::Organisation => {
            let mut r = Relations::NONE;
            for team in facts.teams_of(me)? {
                let mine = in_team(&team, me);
                if mine != Relations::NONE && team_uses(facts, &team, record.id)? {
                    r = r | mine;
                }
            }
            r
        }
        K::Availability => {
            let Some(person) = record.uuid_field("person_id") else {
                return Ok(Relations::NONE);
            };
            let mut r = Relations::NONE.with(Relation::Subject, person == me);
            // Coordinators keep availability only for people who cannot keep their own, so
            // nobody can steer another team's slot finder by building a team around them.
            if person != me && facts.has_account(person)? != Some(true) {
                let coordinates = facts
                    .teams_of(person)?
                    .iter()
                    .any(|t| t.coordinator_id == me);
                r = r.with(Relation::Coordinator, coordinates);
            }
            r
        }
        K::Team => match op {
            Operation::Create => match record.typed::<Team>() {
                Some(team) => in_team(&team, me),
                None => Relations::NONE,
            },
            _ => match facts.team(record.id)? {
                Some(team) => in_team(&team, me),
                None => Relations::NONE,
            },
        },
        kind => {
            let Some(team) = record.uuid_field("team_id") else {
                return Ok(Relations::NONE);
            };
            let Some(team) = facts.team(team)? else {
                return Ok(Relations::NONE);
            };
            let within = in_team(&team, me);
            // Outside the team, being named in a record gives nothing.
            if within == Relations::NONE {
                return Ok(within);
            }
            // Observers are never subjects of a record they could then write, except their
            // own reading of a brief.
            let may_be_subject = within.has(Relation::Coordinator)
                || within.has(Relation::Member)
                || kind == K::ReadReceipt;
            let subject = may_be_subject
                && match kind {
                    K::ReadReceipt | K::Attendance => subject_field("person_id"),
                    K::Action => subject_field("owner_id"),
                    K::ActionEvent => subject_field("by"),
                    K::Brief => subject_field("author_id"),
                    K::AgendaItem => {
                        subject_field("lead_professional_id") || subject_field("requested_by")
                    }
                    _ => false,
                };
            let named = kind == K::AgendaItem
                && may_be_subject
                && record
                    .typed::<AgendaItem>()
                    .is_some_and(|i| i.restricted_to.contains(&me));
            within
                .with(Relation::Subject, subject)
                .with(Relation::Named, named)
        }
    })
}

/// The fields whose value differs between `before` and `after` (every field of a new record).
pub fn changed_fields<'a>(before: Option<&SyncRecord>, after: &'a SyncRecord) -> Vec<&'a str> {
    let null = serde_json::Value::Null;
    after
        .fields
        .iter()
        .filter(|(name, value)| {
            before.is_none_or(|b| b.fields.get(name.as_str()).unwrap_or(&null) != *value)
        })
        .map(|(name, _)| name.as_str())
        .collect()
}

/// Decides whether `me` may make the change from `before` (the stored record; `None` for a new
/// one) to `after` (the record as it would be stored): `Ok(Err(refusal))` says why not.
pub fn decide<F: Facts>(
    facts: &mut F,
    me: Uuid,
    before: Option<&SyncRecord>,
    after: &SyncRecord,
) -> Result<Result<(), Refusal>, F::Error> {
    let op = Operation::of(before, after);
    let kind = after.entity;
    let mine = relations(facts, me, before.unwrap_or(after), op)?.with(Relation::Anyone, true);
    match op {
        Operation::Create | Operation::Delete => {
            let allowed = who_may(kind, op, "");
            if !mine.any_of(allowed) {
                return Ok(Err(refusal(kind, op, "", allowed, mine)));
            }
        }
        Operation::Change => {
            let before = before.expect("a change has a stored record");
            let changed = changed_fields(Some(before), after);
            // A change that changes nothing still needs the right to change something, so a
            // refused writer cannot even touch the record's version.
            if changed.is_empty()
                && !kind
                    .field_names()
                    .iter()
                    .any(|f| mine.any_of(who_may(kind, op, f)))
            {
                let field = kind.field_names().first().copied().unwrap_or_default();
                return Ok(Err(refusal(
                    kind,
                    op,
                    field,
                    who_may(kind, op, field),
                    mine,
                )));
            }
            for field in changed {
                let allowed = who_may(kind, op, field);
                if !mine.any_of(allowed) {
                    return Ok(Err(refusal(kind, op, field, allowed, mine)));
                }
            }
        }
    }
    if archived_team(facts, before.unwrap_or(after))?.is_some() && !restores(before, after) {
        return Ok(Err(Refusal(ARCHIVED.into())));
    }
    Ok(value_rules(facts, me, before, after, op)?.map_or(Ok(()), |r| Err(Refusal(r))))
}

/// The stored team `record` belongs to (the team itself for a team), when it is archived.
/// Directory entries, organisations and availability belong to no team.
fn archived_team<F: Facts>(facts: &mut F, record: &SyncRecord) -> Result<Option<Team>, F::Error> {
    use EntityKind as K;
    let team_id = match record.entity {
        K::Team => Some(record.id),
        K::Person | K::Organisation | K::Availability => None,
        _ => record.uuid_field("team_id"),
    };
    let Some(team_id) = team_id else {
        return Ok(None);
    };
    Ok(facts.team(team_id)?.filter(|t| t.archived))
}

/// Whether the change restores an archived team: it takes the archive mark off and changes
/// nothing else (who may do that is the table's: the coordinator).
fn restores(before: Option<&SyncRecord>, after: &SyncRecord) -> bool {
    after.entity == EntityKind::Team
        && before.is_some()
        && changed_fields(before, after) == ["archived"]
        && after.typed::<Team>().is_some_and(|t| !t.archived)
}

/// Why a change to the agenda of a concluded meeting is refused.
pub const CONCLUDED: &str = "This meeting is concluded: its agenda is the record of what was decided and cannot change. Add the item to the team's next meeting instead";

/// The rules of [`VALUE_RULES`].
fn value_rules<F: Facts>(
    facts: &mut F,
    me: Uuid,
    before: Option<&SyncRecord>,
    after: &SyncRecord,
    op: Operation,
) -> Result<Option<String>, F::Error> {
    use EntityKind as K;
    if after.entity == K::Meeting && op != Operation::Delete {
        // A meeting is concluded once it has been held: concluding one still to come would
        // tell everyone it happened (and it used to remove it from their calendars).
        let was_concluded = before
            .and_then(|b| b.typed::<Meeting>())
            .is_some_and(|m| m.status == MeetingStatus::Closed);
        let concluding = after
            .typed::<Meeting>()
            .filter(|m| m.status == MeetingStatus::Closed && !was_concluded);
        if let Some(Err(refusal)) = concluding.map(|m| m.may_conclude(facts.now())) {
            return Ok(Some(refusal));
        }
    }
    if after.entity == K::AgendaItem {
        // A concluded meeting's agenda is the record of what was decided: no item on it is
        // added, changed or removed (an item never moves to another meeting: its meeting is
        // fixed once saved).
        let item = if op == Operation::Delete {
            before.and_then(|b| b.typed::<AgendaItem>())
        } else {
            after.typed::<AgendaItem>()
        };
        // Marking the outcome summary sent is the one change its items still take.
        let marks_summary_sent = op == Operation::Change
            && before.is_some_and(|b| {
                b.fields.iter().all(|(k, v)| {
                    k == "summary_sent_on" || after.fields.get(k).unwrap_or(&Value::Null) == v
                }) && after
                    .fields
                    .keys()
                    .all(|k| k == "summary_sent_on" || b.fields.contains_key(k))
            });
        if let Some(item) = item.filter(|_| !marks_summary_sent) {
            if facts
                .meeting(item.meeting_id)?
                .is_some_and(|m| m.status == MeetingStatus::Closed)
            {
                return Ok(Some(CONCLUDED.into()));
            }
        }
    }
    if op == Operation::Delete {
        if after.entity == K::AgendaItem {
            let item = before.and_then(|b| b.typed::<AgendaItem>());
            if let Some(item) = item {
                if let Some(team) = facts.team(item.team_id)? {
                    if !access::may_see_restricted(&item, &team, me) {
                        return Ok(Some("This item is restricted: only its lead, the person who asked for it and the team's coordinator can remove it".into()));
                    }
                }
            }
        }
        return Ok(None);
    }
    Ok(match after.entity {
        K::Action => {
            let Some(action) = after.typed::<Action>() else {
                return Ok(None);
            };
            let previous = before.and_then(|b| b.typed::<Action>());
            let status_changed = previous
                .as_ref()
                .map_or(action.status != ActionStatus::Proposed, |p| {
                    p.status != action.status
                });
            let answering = status_changed
                && matches!(
                    action.status,
                    ActionStatus::Accepted | ActionStatus::Declined
                );
            if !answering || action.owner_id == me {
                return Ok(None);
            }
            // The coordinator answers for an owner who cannot sign in (a GP who never logs
            // on), never for a colleague who can answer for themselves.
            let coordinates = facts
                .team(action.team_id)?
                .is_some_and(|t| t.coordinator_id == me && t.includes(action.owner_id));
            if coordinates && facts.has_account(action.owner_id)? != Some(true) {
                return Ok(None);
            }
            Some(if coordinates {
                "Only the owner can accept or decline an action: they can sign in, so ask them to answer it".into()
            } else {
                "Only the owner can accept or decline an action".into()
            })
        }
        K::ActionEvent => after
            .typed::<ActionEvent>()
            .filter(|e| e.by != me)
            .map(|_| "A history entry must name the person who made the change".into()),
        K::Team => {
            let Some(team) = after.typed::<Team>() else {
                return Ok(None);
            };
            if !team.includes(me) {
                Some("You cannot remove yourself from a team: hand it over to another coordinator first, and ask them to remove you".into())
            } else {
                None
            }
        }
        K::AgendaItem => {
            let Some(item) = after.typed::<AgendaItem>() else {
                return Ok(None);
            };
            let Some(team) = facts.team(item.team_id)? else {
                return Ok(None);
            };
            let before = before.and_then(|b| b.typed::<AgendaItem>());
            access::item_change_refusal(before.as_ref(), &item, &team, me).map(str::to_string)
        }
        _ => None,
    })
}

/// Words for a field in a refusal ("the team's members").
fn field_words(kind: EntityKind, field: &str) -> String {
    match (kind, field) {
        (EntityKind::Team, "coordinator_id") => "who coordinates the team".into(),
        (EntityKind::Team, "member_ids") => "the team's members".into(),
        (EntityKind::Team, "observer_ids") => "the team's observers".into(),
        (EntityKind::Team, "archived") => "whether the team is archived".into(),
        (EntityKind::AgendaItem, "restricted_to") => "who may see a restricted item".into(),
        _ => format!(
            "the {} of {}",
            super::validation::humanise(field).to_lowercase(),
            a_kind(kind)
        ),
    }
}

fn a_kind(kind: EntityKind) -> String {
    let label = kind.label().to_lowercase();
    let article = if label.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {label}")
}

/// Who a rule allows, in words ("the team's coordinator or members").
fn who_words(kind: EntityKind, allowed: &[Relation]) -> String {
    let subject = match kind {
        EntityKind::Person | EntityKind::Availability => "the person themselves",
        EntityKind::Action => "the action's owner",
        EntityKind::AgendaItem => "the item's lead or requester",
        EntityKind::Brief => "the brief's author",
        EntityKind::ReadReceipt => "the reader",
        EntityKind::Attendance => "the person themselves",
        _ => "the person concerned",
    };
    let words: Vec<&str> = allowed
        .iter()
        .filter_map(|r| match r {
            Relation::Coordinator => Some(match kind {
                EntityKind::Person => "a coordinator of a team they are in",
                EntityKind::Organisation => "a coordinator of a team it works with",
                EntityKind::Availability => "their team's coordinator",
                _ => "the team's coordinator",
            }),
            Relation::Member => Some(match kind {
                EntityKind::Person | EntityKind::Organisation => "people who work in a team",
                _ => "the team's members",
            }),
            Relation::Subject => Some(subject),
            Relation::Anyone => Some("anyone signed in"),
            Relation::Named | Relation::Observer => None,
        })
        .collect();
    match words.as_slice() {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

/// The refusal for a write the table does not allow, saying what to do instead.
fn refusal(
    kind: EntityKind,
    op: Operation,
    field: &str,
    allowed: &[Relation],
    mine: Relations,
) -> Refusal {
    use EntityKind as K;
    let mine = mine.without(Relation::Anyone);
    if kind == K::Team && op == Operation::Create {
        return Refusal(TEAM_CREATE_REFUSAL.into());
    }
    if mine == Relations::NONE && !matches!(kind, K::Organisation | K::Person | K::Availability) {
        return Refusal(if kind == K::Meeting {
            "You can only plan meetings for teams you belong to".into()
        } else {
            "You can only change the records of teams you belong to".into()
        });
    }
    if mine.has(Relation::Observer) && !mine.any_of(&[Relation::Coordinator, Relation::Member]) {
        return Refusal(
            "You observe this team, so you can read its records but not change them".into(),
        );
    }
    let message = match (op, allowed, kind) {
        (Operation::Create | Operation::Change, [_, ..], K::ReadReceipt) => {
            "You can only record your own reading of a brief".into()
        }
        (Operation::Create | Operation::Change, [_, ..], K::Attendance) => {
            "Only the person themselves or the coordinator can answer for them".into()
        }
        (Operation::Create | Operation::Change, [_, ..], K::Availability) => {
            "Only the person or their team's coordinator can set their availability".into()
        }

        (Operation::Delete, [], _) => match kind {
            K::Team => "A team cannot be deleted: its coordinator can archive it instead, and restore it later".into(),
            K::Person | K::Organisation => format!("{} cannot be removed from the directory: people and organisations stay so that past meetings still make sense", a_kind(kind)),
            K::ActionEvent => "An action's history cannot be changed or removed".into(),
            _ => format!("{} cannot be removed", a_kind(kind)),
        },
        (Operation::Change, [], _) => match kind {
            K::ActionEvent => "An action's history cannot be changed or removed".into(),
            _ => format!(
                "{} cannot be changed once it is saved: make a new {} instead",
                capitalise(&field_words(kind, field)),
                kind.label().to_lowercase()
            ),
        },
        (Operation::Create, allowed, _) => format!(
            "Only {} can add {}",
            who_words(kind, allowed),
            a_kind(kind)
        ),
        (Operation::Delete, allowed, _) => format!(
            "Only {} can remove {}",
            who_words(kind, allowed),
            a_kind(kind)
        ),
        (Operation::Change, allowed, _) => format!(
            "Only {} can change {}: ask them to make the change",
            who_words(kind, allowed),
            field_words(kind, field)
        ),
    };
    Refusal(message)
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// The table as Markdown, for the hazard log's control (docs/write-permissions.md is this
/// text; a test keeps the two the same).
pub fn table_markdown() -> String {
    let mut out = String::from(
        "# Who may write what\n\nGenerated from `core::authorize::who_may` (a test fails when this file and the table differ; `MDT_WRITE_TABLE=1 cargo test write_table_document` rewrites it). Anything not listed is refused. Site administrators (as such) and people outside a team hold none of these relations but \"anyone signed in\".\n\n| record | operation | field | who may |\n|---|---|---|---|\n",
    );
    for kind in EntityKind::ALL {
        for op in Operation::ALL {
            let fields: Vec<&str> = if op == Operation::Change {
                kind.field_names().to_vec()
            } else {
                vec![""]
            };
            for field in fields {
                let who = who_may(kind, op, field);
                let who = if who.is_empty() {
                    "nobody".to_owned()
                } else {
                    who.iter()
                        .map(|r| r.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                out.push_str(&format!(
                    "| {} | {} | {} | {} |\n",
                    kind.as_str(),
                    op.as_str(),
                    if field.is_empty() { "(record)" } else { field },
                    who
                ));
            }
        }
    }
    out.push_str("\nRules that also depend on the value written:\n\n");
    for rule in VALUE_RULES {
        out.push_str(&format!("- {rule}\n"));
    }
    out
}

/// The device's side of [`Facts`]: its own copy of the records (with its unsent changes), at
/// the device's clock. Whether someone can sign in is not known there, so the server has the
/// last word on that.
pub struct ReplicaFacts<'a> {
    pub replica: &'a Replica,
    pub now: DateTime<Utc>,
}

impl Facts for ReplicaFacts<'_> {
    type Error = std::convert::Infallible;

    fn team(&mut self, id: Uuid) -> Result<Option<Team>, Self::Error> {
        Ok(self.replica.view(id).and_then(|v| v.typed::<Team>()))
    }

    fn teams_of(&mut self, person: Uuid) -> Result<Vec<Team>, Self::Error> {
        Ok(self
            .replica
            .entities::<Team>()
            .into_iter()
            .map(|(_, t)| t)
            .filter(|t| t.can_read(person))
            .collect())
    }

    fn person(&mut self, id: Uuid) -> Result<Option<Person>, Self::Error> {
        Ok(self.replica.view(id).and_then(|v| v.typed::<Person>()))
    }

    fn has_account(&mut self, _person: Uuid) -> Result<Option<bool>, Self::Error> {
        Ok(None)
    }

    fn meeting(&mut self, id: Uuid) -> Result<Option<Meeting>, Self::Error> {
        Ok(self.replica.view(id).and_then(|v| v.typed::<Meeting>()))
    }

    fn now(&self) -> DateTime<Utc> {
        self.now
    }
}

/// The record as the device shows it, as the table reads it (`None`: not there).
fn shown(replica: &Replica, id: Uuid) -> Option<SyncRecord> {
    replica.view(id).map(|v| SyncRecord {
        entity: v.entity,
        id,
        version: v.version,
        updated_at: v.updated_at.unwrap_or_default(),
        updated_by: v.updated_by.unwrap_or_default(),
        deleted: false,
        fields: v.fields,
        field_stamps: Default::default(),
        conflicts: vec![],
    })
}

/// Checks the changes a device has just queued (the outbox from `from` on) against the table,
/// as the server will, at the device's clock `now`: the refusal of the first it would refuse.
/// The app calls this before it keeps the changes, so a change the server would refuse is
/// never queued.
pub fn check_queued(
    replica: &mut Replica,
    me: Uuid,
    from: usize,
    now: DateTime<Utc>,
) -> Result<(), Refusal> {
    let new = replica.outbox.split_off(from.min(replica.outbox.len()));
    let mut refusal = None;
    for m in &new {
        let before = shown(replica, m.id);
        replica.outbox.push(m.clone());
        let after = match (&m.op, shown(replica, m.id), &before) {
            (MutationOp::Delete, _, Some(b)) => SyncRecord {
                deleted: true,
                ..b.clone()
            },
            (_, Some(a), _) => a,
            // Deleting what the device does not hold: the server will say so.
            _ => continue,
        };
        // Judged against the records as they were before this change, as the server does.
        let queued = replica.outbox.pop();
        let mut facts = ReplicaFacts { replica, now };
        let Ok(decision) = decide(&mut facts, me, before.as_ref(), &after);
        replica.outbox.extend(queued);
        if let Err(r) = decision {
            refusal = Some(r);
            break;
        }
    }
    replica.outbox.truncate(from);
    replica.outbox.extend(new);
    refusal.map_or(Ok(()), Err)
}

/// Whether `me` may change field `field` of the record `id` the device holds (to hide the
/// controls that would only be refused).
pub fn may_change(replica: &Replica, me: Uuid, id: Uuid, field: &str) -> bool {
    let Some(record) = shown(replica, id) else {
        return false;
    };
    // Who may change a field does not depend on the time (only value rules do).
    let mut facts = ReplicaFacts {
        replica,
        now: DateTime::<Utc>::MIN_UTC,
    };
    // An archived team's records are read-only, but for restoring the team itself.
    let Ok(archived) = archived_team(&mut facts, &record);
    if archived.is_some() && !(record.entity == EntityKind::Team && field == "archived") {
        return false;
    }
    let Ok(mine) = relations(&mut facts, me, &record, Operation::Change);
    mine.with(Relation::Anyone, true)
        .any_of(who_may(record.entity, Operation::Change, field))
}

#[cfg(test)]
mod tests;
