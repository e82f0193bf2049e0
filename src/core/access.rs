//! Need-to-know rules for safeguarding-restricted agenda items (DESIGN §2.7).
//!
//! A team's records are read by its coordinator, members and observers (see
//! [`Team::can_read`]). Within a team, an agenda item marked *restricted* narrows that further:
//! its content, brief and outcome are seen only by the item's lead professional, the person who
//! asked for it, the team's coordinator and the people the coordinator names. Everyone else in
//! the team is given a *withheld* copy of the item — its place, length and lead on the agenda,
//! so they know a restricted item exists and how long it takes — and nothing of its brief.
//! Actions arising from it are seen by the permitted people and by the action's owner, who has
//! to know what to do.
//!
//! The server applies these rules to every read (pulls, exports) and every write; they live here
//! so they are tested natively and the app explains them with the same words.

use uuid::Uuid;

use super::agenda::AgendaItem;
use super::record::EntityKind;
use super::sync::SyncRecord;
use super::team::Team;

/// What a person is given of a record that belongs to a restricted item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sight {
    /// The whole record.
    Full,
    /// A copy of the agenda item without its content (see [`WITHHELD_ITEM_FIELDS`]).
    Withheld,
    /// Nothing: the record is sent as a deletion, so a copy made before the item was
    /// restricted is removed from the device.
    Hidden,
}

/// The agenda item fields that only the permitted people see.
pub const WITHHELD_ITEM_FIELDS: &[&str] = &[
    "title",
    "patient_id",
    "reason",
    "question",
    "outcome",
    "restricted_to",
];

/// What a withheld field holds in the copy: the value of an empty item, so the app's own
/// copy of the item, written back with a new position, differs only in the position.
fn blank(field: &str) -> serde_json::Value {
    match field {
        "title" | "reason" | "question" => serde_json::Value::String(String::new()),
        "restricted_to" => serde_json::Value::Array(vec![]),
        _ => serde_json::Value::Null,
    }
}

/// What the coordinator, lead and requester of a restricted item are told about who sees it.
pub const RESTRICTED_EXPLANATION: &str = "Only the item's lead, the person who asked for it, the team's coordinator and the people the coordinator names can see its details, brief and outcome.";

/// True when `person` may see the content of `item` (always, for an item that is not restricted).
pub fn may_see_restricted(item: &AgendaItem, team: &Team, person: Uuid) -> bool {
    !item.restricted
        || team.coordinator_id == person
        || item.lead_professional_id == Some(person)
        || item.requested_by == Some(person)
        || item.restricted_to.contains(&person)
}

/// How much of a record of `kind` that belongs to `item` (the item itself, its brief, a read
/// receipt of the brief, an action from it or an action's history line) `person` is given.
/// `action_owner` is the owner of the action concerned, for actions and their history.
pub fn sight(
    kind: EntityKind,
    item: &AgendaItem,
    team: &Team,
    person: Uuid,
    action_owner: Option<Uuid>,
) -> Sight {
    if may_see_restricted(item, team, person) {
        return Sight::Full;
    }
    match kind {
        EntityKind::AgendaItem => Sight::Withheld,
        EntityKind::Action | EntityKind::ActionEvent if action_owner == Some(person) => Sight::Full,
        _ => Sight::Hidden,
    }
}

/// The copy of `record` a person with `sight` of it is given.
pub fn copy_for(record: &SyncRecord, sight: Sight) -> SyncRecord {
    match sight {
        Sight::Full => record.clone(),
        Sight::Withheld => {
            let mut copy = record.clone();
            for field in WITHHELD_ITEM_FIELDS {
                copy.fields.insert((*field).into(), blank(field));
                copy.field_stamps.remove(*field);
            }
            copy.conflicts
                .retain(|c| !WITHHELD_ITEM_FIELDS.contains(&c.field.as_str()));
            copy.fields
                .insert("content_withheld".into(), serde_json::Value::Bool(true));
            copy
        }
        Sight::Hidden => SyncRecord {
            entity: record.entity,
            id: record.id,
            version: record.version,
            updated_at: record.updated_at,
            updated_by: String::new(),
            deleted: true,
            fields: Default::default(),
            field_stamps: Default::default(),
            conflicts: vec![],
        },
    }
}

/// Why a change to an agenda item is refused under the restriction rules, if it is.
///
/// Someone who may not see a restricted item may still move it or change its length (the
/// agenda is everyone's), but nothing else of it; only the coordinator lifts a
/// restriction or names people; anyone who may change the item may restrict it.
pub fn item_change_refusal(
    before: Option<&AgendaItem>,
    after: &AgendaItem,
    team: &Team,
    person: Uuid,
) -> Option<&'static str> {
    if after.content_withheld {
        return Some("This item's details were withheld from you, so they cannot be copied or saved from your device");
    }
    let is_coordinator = team.coordinator_id == person;
    let Some(before) = before else {
        return (!after.restricted_to.is_empty() && !is_coordinator).then_some(
            "Only the team's coordinator can name people who may see a restricted item",
        );
    };
    if before.restricted && !may_see_restricted(before, team, person) {
        // Everything but the item's place and length is its content.
        let mut moved = before.clone();
        moved.position = after.position;
        moved.minutes = after.minutes;
        let content_changed = moved != *after;
        if content_changed {
            return Some("This item is restricted: only its lead, the person who asked for it, the team's coordinator and the people the coordinator names can change it");
        }
    }
    if (before.restricted && !after.restricted || before.restricted_to != after.restricted_to)
        && !is_coordinator
    {
        return Some("Only the team's coordinator can lift a restriction or change who may see a restricted item");
    }
    None
}

#[cfg(test)]
mod tests;
