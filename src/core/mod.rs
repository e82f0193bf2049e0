//! The pure domain core: plain types with rules, shared by the browser app and the server.
//!
//! Nothing in here performs IO, reads a clock or touches the browser or the database, so every
//! rule can be tested natively and fast.

pub mod access;
pub mod action;
pub mod agenda;
pub mod api;
pub mod attendance;
pub mod authorize;
pub mod automation;
pub mod brief;
pub mod calendar;
pub mod directory;
pub mod entities;
pub mod fhir;
pub mod ics;
pub mod kinds;
pub mod mail;
pub mod measures;
pub mod meeting;
pub mod month;
pub mod needs;
pub mod notify;
pub mod offline;
pub mod patient;
pub mod record;
pub mod reminders;
pub mod schedule;
pub mod search;
pub mod series;
pub mod sign_in;
pub mod summary;
pub mod sync;
pub mod team;
pub mod uk_time;
pub mod validation;

pub use entities::{
    EntityKind, Meeting, MeetingStatus, Organisation, OrganisationKind, Person, Role, RoleNeed,
    Team,
};
pub use sync::{Mutation, MutationOp, MutationResult, SyncRecord};
pub use validation::ValidationError;
