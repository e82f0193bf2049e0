//! Who should hear that a push was saved: the teams whose records changed, or everyone when a
//! directory record changed. Devices are told only "pull now" (the event carries no data);
//! what they may see is decided by the pull, as always.
//!
//! On SQLite the news goes straight to this server's listeners; on PostgreSQL it goes out with
//! `NOTIFY` inside the push's transaction (so it is heard exactly when the push commits, by
//! every server of the region, this one included) and comes back through each server's
//! `LISTEN` connection.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::visibility::team_of;
use crate::core::entities::EntityKind;
use crate::core::sync::SyncRecord;

/// The PostgreSQL notification channel for saved changes (its name for a schema: [`channel`]).
pub const CHANNEL: &str = "mdt_changes";

/// The channel on which any change to sessions or accounts is announced, so that no server
/// goes on answering from a session it remembers ([`super::memory`]).
pub const SESSIONS_CHANNEL: &str = "mdt_sessions";

/// SQL for the name of the channel `$n` (a placeholder bound to [`CHANNEL`] or
/// [`SESSIONS_CHANNEL`]) in the schema the transaction works in. Notifications go to the whole
/// database; naming the channel after the schema keeps deployments that share a database in
/// schemas of their own (as the tests do) from hearing each other's news.
pub fn channel_sql(placeholder: &str) -> String {
    format!("{placeholder} || '_' || current_schema()")
}

/// The name of `channel` in `schema`, as [`channel_sql`] makes it.
pub fn channel(channel: &str, schema: &str) -> String {
    format!("{channel}_{schema}")
}

/// More teams than this in one push are announced to everyone (a notification holds at most
/// 8,000 bytes).
const MAX_TEAMS: usize = 100;

/// What one push changed, as far as telling devices goes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Changed {
    /// Teams whose records changed.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub teams: BTreeSet<Uuid>,
    /// A team record itself changed (who is in it may be different now).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub membership: bool,
    /// A directory record changed (people, organisations, availability), or too many teams
    /// to list: everyone pulls.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub everyone: bool,
    /// The highest change number the push committed (0: not known), so that every server of
    /// the region knows the head of the change log without asking the database, and answers
    /// a poll that is already there from memory.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub head: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Changed {
    /// Notes a saved record.
    pub fn note(&mut self, record: &SyncRecord) {
        if record.entity == EntityKind::Team {
            self.membership = true;
        }
        match team_of(record) {
            Some(team) => {
                self.teams.insert(team);
            }
            None => self.everyone = true,
        }
        if self.teams.len() > MAX_TEAMS {
            self.everyone = true;
        }
    }

    /// Nothing was saved.
    pub fn is_empty(&self) -> bool {
        self.teams.is_empty() && !self.everyone
    }

    /// Whether a device of someone in `teams` should pull.
    pub fn concerns(&self, teams: &std::collections::HashSet<Uuid>) -> bool {
        self.everyone || self.teams.iter().any(|t| teams.contains(t))
    }

    /// As sent in a notification (never more than the channel carries).
    pub fn to_payload(&self) -> String {
        let everyone = Self {
            everyone: true,
            head: self.head,
            ..Self::default()
        };
        let fits = if self.everyone { &everyone } else { self };
        serde_json::to_string(fits).unwrap_or_else(|_| r#"{"everyone":true}"#.to_owned())
    }

    /// From a notification; anything unreadable means everyone pulls.
    pub fn from_payload(payload: &str) -> Self {
        serde_json::from_str(payload).unwrap_or(Self {
            everyone: true,
            ..Self::default()
        })
    }

    /// Everyone pulls (after the server may have missed news, e.g. its listener reconnected).
    pub fn everyone() -> Self {
        Self {
            everyone: true,
            ..Self::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn a_payload_round_trips_and_stays_small() {
        let mut changed = Changed::default();
        for _ in 0..MAX_TEAMS {
            changed.teams.insert(Uuid::new_v4());
        }
        changed.membership = true;
        changed.head = u64::MAX;
        let payload = changed.to_payload();
        assert!(payload.len() < 8000, "{}", payload.len());
        assert_eq!(Changed::from_payload(&payload), changed);
        assert!(Changed::from_payload("not json").everyone);
        let one = Uuid::new_v4();
        assert!(changed.concerns(&changed.teams.iter().copied().collect()));
        assert!(!changed.concerns(&HashSet::from([one])));
        assert!(Changed::everyone().concerns(&HashSet::new()));
        // The head goes with news for everyone too, and news without it says nothing of it.
        let mut directory = Changed::everyone();
        directory.head = 42;
        assert_eq!(Changed::from_payload(&directory.to_payload()).head, 42);
        assert_eq!(Changed::from_payload(r#"{"everyone":true}"#).head, 0);
    }
}
