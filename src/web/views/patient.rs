//! One patient as their page shows them: a timeline of every agenda item (with its outcome)
//! and every action about them, newest first.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::actions::{action_cards, Directory};
use crate::core::agenda::AgendaItem;
use crate::core::entities::{Meeting, Team};
use crate::core::patient::Patient;
use crate::core::sync::Replica;
use crate::core::uk_time;

/// One line of a patient's timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineLine {
    pub at: DateTime<Utc>,
    pub text: String,
    /// The meeting the line is about (items link to it; actions do not).
    pub meeting: Option<Uuid>,
}

/// The patient's timeline, newest first: items with their outcomes, and every action (dated
/// 09:00 UK time on its due day).
pub fn timeline(replica: &Replica, patient_id: Uuid, now: DateTime<Utc>) -> Vec<TimelineLine> {
    let dir = Directory::load(replica);
    let meetings: std::collections::HashMap<Uuid, Meeting> =
        replica.entities::<Meeting>().into_iter().collect();
    let mut lines: Vec<TimelineLine> = Vec::new();
    for (_, item) in replica
        .entities::<AgendaItem>()
        .into_iter()
        .filter(|(_, i)| i.patient_id == Some(patient_id))
    {
        let Some(m) = meetings.get(&item.meeting_id) else {
            continue;
        };
        let outcome = item
            .outcome
            .as_ref()
            .map(|o| format!(" Outcome — {}: {}", o.label(), o.text()))
            .unwrap_or_else(|| " No outcome yet.".into());
        let deferred = if item.deferrals > 0 {
            format!(" (deferred {}×)", item.deferrals)
        } else {
            String::new()
        };
        let asked = if item.question.is_empty() {
            &item.title
        } else {
            &item.question
        };
        lines.push(TimelineLine {
            at: m.starts_at,
            text: format!("MDT: “{asked}”{deferred}.{outcome}"),
            meeting: Some(item.meeting_id),
        });
    }
    for card in action_cards(replica, &dir, now, |a| a.patient_id == Some(patient_id)) {
        let at = uk_time::from_uk(card.action.due.and_hms_opt(9, 0, 0).unwrap_or_default())
            .unwrap_or(now);
        lines.push(TimelineLine {
            at,
            text: format!(
                "Action due: {} — {} ({}){}",
                card.action.description,
                card.owner_name,
                card.action.status.label().to_lowercase(),
                if card.overdue { ", overdue" } else { "" }
            ),
            meeting: None,
        });
    }
    lines.sort_by_key(|line| std::cmp::Reverse(line.at));
    lines
}

/// Whether `person` coordinates the patient's team (and so may see who opened the record).
pub fn coordinates(replica: &Replica, patient_id: Uuid, person: Uuid) -> bool {
    replica
        .entity::<Patient>(patient_id)
        .and_then(|p| replica.entity::<Team>(p.team_id))
        .is_some_and(|t| t.coordinator_id == person)
}
