//! The record contract, the ground floor of the core: which kinds of record the app syncs and
//! what every entity can do (check itself, become a field map and back). It names no entity, so
//! every entity module can build on it and nothing here depends on them; the per-kind dispatch
//! over the entities lives one floor up, in the `kinds` module.

use serde::{de::DeserializeOwned, Deserialize, Serialize};

use super::validation::ValidationError;

/// A record's content: field name → JSON value.
pub type Fields = serde_json::Map<String, serde_json::Value>;

/// The kinds of record the app syncs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    Organisation,
    Person,
    Team,
    Meeting,
    Patient,
    AgendaItem,
    Brief,
    ReadReceipt,
    Action,
    ActionEvent,
    Attendance,
    Availability,
    Series,
}

impl EntityKind {
    /// Every kind, in the order a fresh client should load them.
    pub const ALL: [EntityKind; 13] = [
        Self::Organisation,
        Self::Person,
        Self::Team,
        Self::Meeting,
        Self::Patient,
        Self::AgendaItem,
        Self::Brief,
        Self::ReadReceipt,
        Self::Action,
        Self::ActionEvent,
        Self::Attendance,
        Self::Availability,
        Self::Series,
    ];

    /// The stable name used on the wire and in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Organisation => "organisation",
            Self::Person => "person",
            Self::Team => "team",
            Self::Meeting => "meeting",
            Self::Patient => "patient",
            Self::AgendaItem => "agenda_item",
            Self::Brief => "brief",
            Self::ReadReceipt => "read_receipt",
            Self::Action => "action",
            Self::ActionEvent => "action_event",
            Self::Attendance => "attendance",
            Self::Availability => "availability",
            Self::Series => "series",
        }
    }

    /// Parses [`EntityKind::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// What people call it, for messages.
    pub fn label(self) -> &'static str {
        match self {
            Self::Organisation => "Organisation",
            Self::Person => "Person",
            Self::Team => "Team",
            Self::Meeting => "Meeting",
            Self::Patient => "Patient",
            Self::AgendaItem => "Agenda item",
            Self::Brief => "Brief",
            Self::ReadReceipt => "Read receipt",
            Self::Action => "Action",
            Self::ActionEvent => "Action history",
            Self::Attendance => "Attendance",
            Self::Availability => "Availability",
            Self::Series => "Meeting series",
        }
    }
}

/// Behaviour shared by every synced entity.
pub trait Entity: Serialize + DeserializeOwned + Clone + Send + Sync + 'static {
    /// Which kind of record this is.
    const KIND: EntityKind;
    /// Every field name, so a mutation naming anything else is refused before it is stored.
    const FIELDS: &'static [&'static str];

    /// The rules beyond types: lengths, formats, relations between fields.
    fn validate(&self) -> Result<(), ValidationError>;

    /// Reads and checks a record's fields.
    fn from_fields(fields: &Fields) -> Result<Self, ValidationError> {
        // Read from the map where it is (no copy of the record's fields first): every view of
        // every record goes through here.
        let entity = Self::deserialize(fields)
            .map_err(|e| ValidationError::from_serde(Self::KIND.label(), &e))?;
        entity.validate()?;
        Ok(entity)
    }

    /// The entity as a record's field map.
    fn to_fields(&self) -> Fields {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => serde_json::Map::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kinds_names_agree_with_serde() {
        for kind in EntityKind::ALL {
            assert_eq!(serde_json::to_value(kind).unwrap(), json!(kind.as_str()));
            assert_eq!(EntityKind::parse(kind.as_str()), Some(kind));
        }
    }
}
