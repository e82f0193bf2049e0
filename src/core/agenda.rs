//! Agenda items and the rules of an agenda: derived time slots, overrun, reordering,
//! cut-offs and carrying undiscussed items forward to the next meeting.

use std::collections::HashSet;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::meeting::{Meeting, MeetingStatus};

use super::record::{Entity, EntityKind};
use super::team::Team;
use super::validation::{self as check, ValidationError};

/// What an agenda item is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    /// A patient brought to the MDT with a question.
    PatientDiscussion,
    /// Listed and recorded, no discussion time (streamlined).
    ForInformation,
    /// A recurring item, e.g. safeguarding updates.
    StandingItem,
    /// Review of the team's open actions.
    ActionsReview,
}

impl ItemKind {
    /// Every kind, in the order offered in forms.
    pub const ALL: [ItemKind; 4] = [
        Self::PatientDiscussion,
        Self::ForInformation,
        Self::StandingItem,
        Self::ActionsReview,
    ];

    /// What people call it.
    pub fn label(self) -> &'static str {
        match self {
            Self::PatientDiscussion => "Patient discussion",
            Self::ForInformation => "For information",
            Self::StandingItem => "Standing item",
            Self::ActionsReview => "Actions review",
        }
    }

    /// The wire name (as serde writes it).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PatientDiscussion => "patient_discussion",
            Self::ForInformation => "for_information",
            Self::StandingItem => "standing_item",
            Self::ActionsReview => "actions_review",
        }
    }

    /// Parses [`ItemKind::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Where an item stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    /// Waiting to be discussed.
    #[default]
    Open,
    /// Discussed at the meeting.
    Discussed,
}

/// Longest slot one item may have.
pub const MAX_ITEM_MINUTES: u32 = 120;
/// Gap between positions of consecutive items, leaving room to move items between others.
pub const POSITION_STEP: i64 = 1024;
/// Largest distance of an item's position from zero (room for a billion items a step apart,
/// and no overflow when positions are added or doubled).
pub const MAX_POSITION: u64 = 1 << 50;
/// Most times an item may be deferred (it says "deferred N×"; anything more is a mistake).
pub const MAX_DEFERRALS: u32 = 1000;

/// One entry on a meeting's agenda.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgendaItem {
    pub team_id: Uuid,
    pub meeting_id: Uuid,
    pub kind: ItemKind,
    /// For items that are not about a patient (and optional for those that are).
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub patient_id: Option<Uuid>,
    /// Why the patient is brought to the MDT.
    #[serde(default)]
    pub reason: String,
    /// What the MDT is asked to decide or advise.
    #[serde(default)]
    pub question: String,
    #[serde(default)]
    pub requested_by: Option<Uuid>,
    /// When the item was first asked for; kept when it is carried forward.
    pub requested_on: NaiveDate,
    #[serde(default)]
    pub lead_professional_id: Option<Uuid>,
    pub minutes: u32,
    /// Sort key: items run in ascending position order.
    pub position: i64,
    /// People who must be there for this item ("someone who knows the patient").
    #[serde(default)]
    pub required_people: Vec<Uuid>,
    /// Added after the agenda cut-off (by the coordinator).
    #[serde(default)]
    pub late: bool,
    /// How many meetings this item has been carried past without discussion.
    #[serde(default)]
    pub deferrals: u32,
    /// The item on the earlier meeting this one was carried from.
    #[serde(default)]
    pub carried_from: Option<Uuid>,
    #[serde(default)]
    pub status: ItemStatus,
    /// How the discussion ended; required before the item is closed.
    #[serde(default)]
    pub outcome: Option<Outcome>,
    /// When the coordinator sent the item's outcome summary to the patient's GP record and
    /// the social care record (the one change a concluded meeting's item still takes).
    #[serde(default)]
    pub summary_sent_on: Option<NaiveDate>,
    /// Safeguarding-restricted: the item's content, brief and outcome are seen only by the
    /// people [`crate::core::access::may_see_restricted`] names; the rest of the team sees that
    /// a restricted item exists (see `content_withheld`).
    #[serde(default)]
    pub restricted: bool,
    /// People the coordinator names as also allowed to see a restricted item.
    #[serde(default)]
    pub restricted_to: Vec<Uuid>,
    /// Set by the server on the copy it gives someone who may not see a restricted item: the
    /// content fields are blank because they were withheld, not because they are empty. Never
    /// stored, and refused when a device sends it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub content_withheld: bool,
}

/// How an item's discussion ended: exactly one of these closes it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Outcome {
    /// A decision, carried out through one or more actions.
    Decision { text: String },
    /// Discussed; nothing needs doing (with why).
    NoAction { reason: String },
    /// Not dealt with this time (with why); the item moves to the next meeting.
    Deferred { reason: String },
}

impl Outcome {
    /// What people call this kind of outcome.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Decision { .. } => "Decision",
            Self::NoAction { .. } => "No action needed",
            Self::Deferred { .. } => "Deferred",
        }
    }

    /// The decision or the reason.
    pub fn text(&self) -> &str {
        match self {
            Self::Decision { text } => text,
            Self::NoAction { reason } | Self::Deferred { reason } => reason,
        }
    }
}

impl AgendaItem {
    /// The minutes the item takes on the agenda: none for "for information" items.
    pub fn slot_minutes(&self) -> u32 {
        match self.kind {
            ItemKind::ForInformation => 0,
            _ => self.minutes,
        }
    }

    /// A patient item concluded with a decision or "no action needed": it has an outcome
    /// summary to send to the patient's records.
    pub fn has_summary(&self) -> bool {
        self.kind == ItemKind::PatientDiscussion
            && self.status == ItemStatus::Discussed
            && matches!(
                self.outcome,
                Some(Outcome::Decision { .. } | Outcome::NoAction { .. })
            )
    }

    /// Deferred twice or more: the coordinator should make sure it is reached next time.
    pub fn needs_coordinator_attention(&self) -> bool {
        self.deferrals >= 2
    }
}

impl Entity for AgendaItem {
    const KIND: EntityKind = EntityKind::AgendaItem;
    const FIELDS: &'static [&'static str] = &[
        "team_id",
        "meeting_id",
        "kind",
        "title",
        "patient_id",
        "reason",
        "question",
        "requested_by",
        "requested_on",
        "lead_professional_id",
        "minutes",
        "position",
        "required_people",
        "late",
        "deferrals",
        "carried_from",
        "status",
        "outcome",
        "summary_sent_on",
        "restricted",
        "restricted_to",
        "content_withheld",
    ];

    fn validate(&self) -> Result<(), ValidationError> {
        check::people_list("required_people", &self.required_people)?;
        check::people_list("restricted_to", &self.restricted_to)?;
        check::date_in_window(
            "requested_on",
            "the date it was asked for",
            self.requested_on,
        )?;
        if self.position.unsigned_abs() > MAX_POSITION {
            return Err(ValidationError::field(
                "position",
                "The item's place on the agenda is out of range: move it again",
            ));
        }
        if self.deferrals > MAX_DEFERRALS {
            return Err(ValidationError::field(
                "deferrals",
                format!("An item can be deferred at most {MAX_DEFERRALS} times"),
            ));
        }
        let mut seen = HashSet::new();
        if !self.required_people.iter().all(|p| seen.insert(*p)) {
            return Err(ValidationError::field(
                "required_people",
                "A person is listed more than once",
            ));
        }
        let mut named = HashSet::new();
        if !self.restricted_to.iter().all(|p| named.insert(*p)) {
            return Err(ValidationError::field(
                "restricted_to",
                "A person is named more than once",
            ));
        }
        if self.content_withheld {
            // A withheld copy has only the item's place on the agenda; there is no content
            // to check.
            return Ok(());
        }
        check::optional_line("title", "the title", &self.title, 200)?;
        check::optional_text("reason", "the reason", &self.reason, 2000)?;
        check::optional_text("question", "the question", &self.question, 2000)?;
        if self.minutes > MAX_ITEM_MINUTES {
            return Err(ValidationError::field(
                "minutes",
                format!("An item can have at most {MAX_ITEM_MINUTES} minutes"),
            ));
        }
        match self.kind {
            ItemKind::PatientDiscussion => {
                if self.patient_id.is_none() {
                    return Err(ValidationError::field(
                        "patient_id",
                        "Choose the patient to discuss",
                    ));
                }
                check::required_text("reason", "the reason for discussion", &self.reason, 2000)?;
                check::required_text("question", "the question for the MDT", &self.question, 2000)?;
                if self.requested_by.is_none() {
                    return Err(ValidationError::field(
                        "requested_by",
                        "Choose who asked for the discussion",
                    ));
                }
                if self.minutes == 0 {
                    return Err(ValidationError::field(
                        "minutes",
                        "Give the discussion at least 1 minute",
                    ));
                }
            }
            ItemKind::ForInformation => {
                if self.patient_id.is_none() && self.title.trim().is_empty() {
                    return Err(ValidationError::field(
                        "title",
                        "Enter what the item is about",
                    ));
                }
            }
            ItemKind::StandingItem | ItemKind::ActionsReview => {
                check::required_line("title", "the item's title", &self.title, 200)?;
            }
        }
        if let Some(outcome) = &self.outcome {
            let what = match outcome {
                Outcome::Decision { .. } => "the decision",
                Outcome::NoAction { .. } => "why no action is needed",
                Outcome::Deferred { .. } => "why the item is deferred",
            };
            check::required_text("outcome", what, outcome.text(), 2000)?;
        }
        if let Some(sent) = self.summary_sent_on {
            check::date_in_window("summary_sent_on", "the date the summary was sent", sent)?;
            if !self.has_summary() {
                return Err(ValidationError::field(
                    "summary_sent_on",
                    "An outcome summary can be marked sent only once the item is concluded with a decision or no action needed",
                ));
            }
        }
        if self.status == ItemStatus::Discussed && self.outcome.is_none() {
            return Err(ValidationError::field(
                "outcome",
                "Record the outcome (a decision, no action needed, or deferred) before closing the item",
            ));
        }
        Ok(())
    }
}

/// When an item runs, derived from the meeting start and the items before it.
#[derive(Debug, Clone, PartialEq)]
pub struct Slot {
    pub id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

/// A meeting's items in running order.
#[derive(Debug, Clone, PartialEq)]
pub struct Agenda {
    items: Vec<(Uuid, AgendaItem)>,
}

impl Agenda {
    /// The agenda of these items, sorted by position (ties by id, so every device agrees).
    pub fn new(items: impl IntoIterator<Item = (Uuid, AgendaItem)>) -> Self {
        let mut items: Vec<_> = items.into_iter().collect();
        // Ids are unique, so the order is total and an unstable sort (smaller code) gives it.
        items.sort_unstable_by_key(|(id, item)| (item.position, *id));
        Self { items }
    }

    /// The items in running order.
    pub fn items(&self) -> &[(Uuid, AgendaItem)] {
        &self.items
    }

    /// Each item's time slot: back to back from the meeting start.
    pub fn schedule(&self, meeting_start: DateTime<Utc>) -> Vec<Slot> {
        let mut at = meeting_start;
        self.items
            .iter()
            .map(|(id, item)| {
                let starts_at = at;
                at += Duration::minutes(i64::from(item.slot_minutes()));
                Slot {
                    id: *id,
                    starts_at,
                    ends_at: at,
                }
            })
            .collect()
    }

    /// Minutes all items need together.
    pub fn total_minutes(&self) -> u32 {
        self.items.iter().map(|(_, i)| i.slot_minutes()).sum()
    }

    /// Minutes by which the items overrun the meeting (0 when they fit).
    pub fn overrun_minutes(&self, meeting: &Meeting) -> i64 {
        (i64::from(self.total_minutes()) - meeting.minutes()).max(0)
    }

    /// The position for a new item at the end.
    pub fn next_position(&self) -> i64 {
        self.items
            .last()
            .map_or(POSITION_STEP, |(_, i)| i.position + POSITION_STEP)
    }

    /// The position for an item placed before all others (carried items go first: they have
    /// waited longest).
    pub fn first_position(&self) -> i64 {
        self.items
            .first()
            .map_or(POSITION_STEP, |(_, i)| i.position - POSITION_STEP)
    }

    /// Moves an item to `to_index` (0-based, clamped) and returns the positions to write: usually
    /// one, or all of them when there is no room left between neighbours.
    pub fn move_item(&mut self, id: Uuid, to_index: usize) -> Vec<(Uuid, i64)> {
        let Some(from) = self.items.iter().position(|(i, _)| *i == id) else {
            return Vec::new();
        };
        let to = to_index.min(self.items.len() - 1);
        if from == to {
            return Vec::new();
        }
        let moving = self.items.remove(from);
        self.items.insert(to, moving);
        let before = to.checked_sub(1).map(|i| self.items[i].1.position);
        let after = self.items.get(to + 1).map(|(_, i)| i.position);
        let position = match (before, after) {
            (Some(b), Some(a)) if a - b >= 2 => Some(b + (a - b) / 2),
            (Some(b), None) => Some(b + POSITION_STEP),
            (None, Some(a)) => Some(a - POSITION_STEP),
            _ => None,
        };
        match position {
            Some(p) => {
                self.items[to].1.position = p;
                vec![(id, p)]
            }
            None => self
                .items
                .iter_mut()
                .enumerate()
                .map(|(i, (id, item))| {
                    item.position = (i as i64 + 1) * POSITION_STEP;
                    (*id, item.position)
                })
                .collect(),
        }
    }
}

/// The id of the copy of `item` carried to the next meeting. The same on every device, so
/// two devices carrying the same item forward write one record, not two.
pub fn carried_id(item: Uuid) -> Uuid {
    Uuid::new_v5(&CARRY_NAMESPACE, item.as_bytes())
}

/// The id of a meeting's automatic "review of open actions" item, the same on every device.
pub fn actions_review_id(meeting: Uuid) -> Uuid {
    Uuid::new_v5(&REVIEW_NAMESPACE, meeting.as_bytes())
}

const REVIEW_NAMESPACE: Uuid = Uuid::from_u128(0x6d64_7461_6374_696f_6e72_6576_6965_7701);

const CARRY_NAMESPACE: Uuid = Uuid::from_u128(0x6d64_7463_6172_7279_666f_7277_6172_6401);

/// Whether an item still needs discussing once its meeting is over.
fn carries(item: &AgendaItem) -> bool {
    (item.status == ItemStatus::Open || matches!(item.outcome, Some(Outcome::Deferred { .. })))
        && matches!(
            item.kind,
            ItemKind::PatientDiscussion | ItemKind::ForInformation
        )
}

/// True when a meeting is over for carry-forward: closed, or past its end.
fn is_over(meeting: &Meeting, now: DateTime<Utc>) -> bool {
    meeting.status == MeetingStatus::Closed
        || (meeting.status == MeetingStatus::Planned && meeting.ends_at <= now)
}

/// The items to create so that every undiscussed item of a finished meeting is on the team's
/// next meeting: same patient, question and first request date, one more deferral. Items
/// already carried are left alone, so running this again creates nothing.
///
/// `meetings` and `items` are one team's; `now` decides which meetings are over.
pub fn carry_forward(
    meetings: &[(Uuid, Meeting)],
    items: &[(Uuid, AgendaItem)],
    now: DateTime<Utc>,
) -> Vec<(Uuid, AgendaItem)> {
    let existing: HashSet<Uuid> = items.iter().map(|(id, _)| *id).collect();
    let mut created = Vec::new();
    for (meeting_id, meeting) in meetings.iter().filter(|(_, m)| is_over(m, now)) {
        let Some((next_id, _)) = meetings
            .iter()
            .filter(|(_, m)| {
                m.status == MeetingStatus::Planned
                    && m.starts_at > meeting.starts_at
                    && m.ends_at > now
            })
            .min_by_key(|(id, m)| (m.starts_at, *id))
        else {
            continue;
        };
        let target = Agenda::new(
            items
                .iter()
                .chain(created.iter())
                .filter(|(_, i)| i.meeting_id == *next_id)
                .cloned(),
        );
        let mut position = target.first_position();
        let mut to_carry: Vec<_> = Agenda::new(
            items
                .iter()
                .filter(|(id, i)| {
                    i.meeting_id == *meeting_id
                        && carries(i)
                        // A device given a withheld copy leaves the item to someone who may
                        // see it (the coordinator always may).
                        && !i.content_withheld
                        && !existing.contains(&carried_id(*id))
                })
                .cloned(),
        )
        .items
        .into_iter()
        .collect();
        // Keep their running order, ahead of the new items.
        to_carry.reverse();
        for (id, item) in to_carry {
            created.push((
                carried_id(id),
                AgendaItem {
                    meeting_id: *next_id,
                    position,
                    late: false,
                    deferrals: item.deferrals + 1,
                    carried_from: Some(id),
                    status: ItemStatus::Open,
                    outcome: None,
                    summary_sent_on: None,
                    ..item
                },
            ));
            position -= POSITION_STEP;
        }
    }
    created
}

impl Team {
    /// The last moment items may be added (except late ones, by the coordinator).
    pub fn agenda_closes_at(&self, meeting_start: DateTime<Utc>) -> DateTime<Utc> {
        meeting_start - Duration::hours(i64::from(self.agenda_cutoff_hours))
    }

    /// When briefs should be ready.
    pub fn briefs_due_at(&self, meeting_start: DateTime<Utc>) -> DateTime<Utc> {
        meeting_start - Duration::hours(i64::from(self.brief_cutoff_hours))
    }

    /// Whether `person` may add an item to a meeting at `now`, and whether it counts as late.
    /// (The automatic actions review is not subject to the cut-off: see [`actions_review_id`].)
    pub fn may_add_item(
        &self,
        meeting_start: DateTime<Utc>,
        person: Uuid,
        now: DateTime<Utc>,
    ) -> Result<bool, String> {
        if now <= self.agenda_closes_at(meeting_start) {
            Ok(false)
        } else if person == self.coordinator_id {
            Ok(true)
        } else {
            Err(format!(
                "The agenda closed {} hours before the meeting. Ask the coordinator to add the item as a late item.",
                self.agenda_cutoff_hours
            ))
        }
    }
}

#[cfg(test)]
impl AgendaItem {
    /// A patient item for tests elsewhere in the core: 15 minutes, open, asked for on 1 Nov
    /// 2026 by nobody in particular; each test sets what it is about.
    pub(crate) fn example(team_id: Uuid, meeting_id: Uuid) -> Self {
        Self {
            team_id,
            meeting_id,
            kind: ItemKind::PatientDiscussion,
            title: String::new(),
            patient_id: None,
            reason: "Two falls".into(),
            question: "Care package review?".into(),
            requested_by: None,
            requested_on: NaiveDate::from_ymd_opt(2026, 11, 1).expect("a date"),
            lead_professional_id: None,
            minutes: 15,
            position: 0,
            required_people: vec![],
            late: false,
            deferrals: 0,
            carried_from: None,
            status: ItemStatus::Open,
            outcome: None,
            summary_sent_on: None,
            restricted: false,
            restricted_to: vec![],
            content_withheld: false,
        }
    }
}

#[cfg(test)]
mod tests;
