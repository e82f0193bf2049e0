//! View models: what a page shows, computed from the replica (typed, sorted, grouped), so
//! components stay thin and the rules stay testable.

pub mod actions;
pub mod agenda;
pub mod conflicts;
pub mod measures;
pub mod patient;
pub mod search;
pub mod sync_status;
pub mod team;
