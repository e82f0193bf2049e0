//! The per-kind dispatch over the entities: what is checked, and which fields exist, for a
//! record known only by its [`EntityKind`]. Above every entity module (it names them all),
//! below the sync protocol and the server, which use it.

use super::action::{Action, ActionEvent};
use super::agenda::AgendaItem;
use super::attendance::Attendance;
use super::brief::{Brief, ReadReceipt};
use super::directory::{Organisation, Person};
use super::meeting::Meeting;
use super::patient::Patient;
use super::record::{Entity, EntityKind};
use super::schedule::PersonAvailability;
use super::series::Series;
use super::team::Team;
use super::validation::ValidationError;

impl EntityKind {
    /// Checks a full field map as this kind of record.
    pub fn validate_fields(
        self,
        fields: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<(), ValidationError> {
        match self {
            Self::Organisation => Organisation::from_fields(fields).map(drop),
            Self::Person => Person::from_fields(fields).map(drop),
            Self::Team => Team::from_fields(fields).map(drop),
            Self::Meeting => Meeting::from_fields(fields).map(drop),
            Self::Patient => Patient::from_fields(fields).map(drop),
            Self::AgendaItem => AgendaItem::from_fields(fields).map(drop),
            Self::Brief => Brief::from_fields(fields).map(drop),
            Self::ReadReceipt => ReadReceipt::from_fields(fields).map(drop),
            Self::Action => Action::from_fields(fields).map(drop),
            Self::ActionEvent => ActionEvent::from_fields(fields).map(drop),
            Self::Attendance => Attendance::from_fields(fields).map(drop),
            Self::Availability => PersonAvailability::from_fields(fields).map(drop),
            Self::Series => Series::from_fields(fields).map(drop),
        }
    }

    /// The fields a record of this kind may carry.
    pub fn field_names(self) -> &'static [&'static str] {
        match self {
            Self::Organisation => Organisation::FIELDS,
            Self::Person => Person::FIELDS,
            Self::Team => Team::FIELDS,
            Self::Meeting => Meeting::FIELDS,
            Self::Patient => Patient::FIELDS,
            Self::AgendaItem => AgendaItem::FIELDS,
            Self::Brief => Brief::FIELDS,
            Self::ReadReceipt => ReadReceipt::FIELDS,
            Self::Action => Action::FIELDS,
            Self::ActionEvent => ActionEvent::FIELDS,
            Self::Attendance => Attendance::FIELDS,
            Self::Availability => PersonAvailability::FIELDS,
            Self::Series => Series::FIELDS,
        }
    }

    /// Rules that follow from a change rather than from the record alone, applied wherever a
    /// change is merged (server and devices alike). Returns a note for the person when the rule
    /// changed something they did not ask for.
    pub fn after_change(
        self,
        fields: &mut serde_json::Map<String, serde_json::Value>,
        changed: &[String],
    ) -> Option<&'static str> {
        match self {
            Self::Brief => super::brief::return_to_draft_if_edited(fields, changed)
                .then_some("The brief was changed after it was marked ready, so it is back to draft. Mark it ready again when you have finished."),
            _ => None,
        }
    }
}
