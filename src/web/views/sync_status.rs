//! What the header tells a person about their changes reaching the server: one plain sentence
//! for each state the sync client can be in, worked out here so every state is tested. Earlier
//! wordings could contradict themselves ("Offline · trying again in 1 s", "Syncing… · all changes
//! saved · not synced yet").

use chrono::{DateTime, Utc};

use crate::core::uk_time;

/// The facts the sentence is made from (the sync client's status and outbox).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SyncFacts {
    /// False after a request failed to reach the server, until one succeeds.
    pub online: bool,
    /// A push or pull is under way.
    pub syncing: bool,
    /// Changes made on this device the server has not yet taken.
    pub unsent: usize,
    /// When the oldest of them was made.
    pub oldest_unsent: Option<DateTime<Utc>>,
    /// When the device's copy was last brought up to date.
    pub last_synced: Option<DateTime<Utc>>,
    /// When the next attempt is due, after the server could not take the changes.
    pub retry_at: Option<DateTime<Utc>>,
}

/// The sentence for `facts` at `now`, e.g. "Online · all changes saved · last synced 10:05" or
/// "Offline · 3 unsent changes (oldest 5 min ago), kept on this device and sent when the
/// connection is back · last synced 10:05".
pub fn sentence(facts: &SyncFacts, now: DateTime<Utc>) -> String {
    let changes = |n: usize| match n {
        1 => "1 unsent change".to_string(),
        n => format!("{n} unsent changes"),
    };
    let oldest = facts
        .oldest_unsent
        .map(|at| format!(" (oldest {})", ago(at, now)))
        .unwrap_or_default();
    let last = facts
        .last_synced
        .map(|t| format!(" · last synced {}", uk_time::format_uk_time(t)));
    match (facts.online, facts.syncing, facts.unsent, last) {
        (_, true, 0, None) => "Getting your teams' work for the first time…".into(),
        // A check for news with nothing to send says what was true before it: the line does not
        // change (and jump to two lines on a phone) every few seconds.
        (true, true, 0, Some(last)) => format!("Online · all changes saved{last}"),
        (false, true, 0, Some(last)) => format!("Offline · all changes saved{last}"),
        (_, true, n, _) => format!("Sending {}{oldest}…", changes(n)),
        (true, false, 0, Some(last)) => format!("Online · all changes saved{last}"),
        (true, false, 0, None) => "Connecting to the server…".into(),
        (true, false, n, last) => match facts.retry_at {
            Some(at) => format!(
                "Online · {}{oldest}, kept on this device: the server could not take them, trying again in {} s{}",
                changes(n),
                (at - now).num_seconds().max(1),
                last.unwrap_or_default()
            ),
            None => format!(
                "Online · {}{oldest}, being sent{}",
                changes(n),
                last.unwrap_or_default()
            ),
        },
        (false, false, 0, Some(last)) => format!("Offline · all changes saved{last}"),
        (false, false, 0, None) => {
            "Offline · not connected yet; the app keeps trying".into()
        }
        (false, false, n, last) => format!(
            "Offline · {}{oldest}, kept on this device and sent when the connection is back{}",
            changes(n),
            last.unwrap_or_default()
        ),
    }
}

/// "just now", "5 min ago", "2 h 10 min ago".
pub fn ago(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let minutes = (now - at).num_minutes();
    match minutes {
        i64::MIN..=0 => "just now".into(),
        1..=59 => format!("{minutes} min ago"),
        _ => format!("{} h {} min ago", minutes / 60, minutes % 60),
    }
}
