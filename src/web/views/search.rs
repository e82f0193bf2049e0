//! The search page's results from the device's copy: the directory as the device holds it, and
//! the patients on the lists of the teams the person reads.

use std::collections::HashMap;

use uuid::Uuid;

use crate::core::entities::{Organisation, Person, Team};
use crate::core::patient::Patient;
use crate::core::search::{search, SearchResults};
use crate::core::sync::Replica;

/// What `query` finds for `me`.
pub fn search_device(replica: &Replica, me: Uuid, query: &str) -> SearchResults {
    if query.trim().is_empty() {
        return SearchResults::default();
    }
    let teams: HashMap<Uuid, String> = replica
        .entities::<Team>()
        .into_iter()
        .filter(|(_, t)| t.can_read(me))
        .map(|(id, t)| (id, t.name))
        .collect();
    search(
        query,
        &replica.entities::<Person>(),
        &replica.entities::<Organisation>(),
        &replica.entities::<Patient>(),
        &teams,
    )
}
