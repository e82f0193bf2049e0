//! Action points: one owner, a due date, a status that only moves along legal paths, and an
//! append-only history of who changed what when.
//!
//! History entries are records of their own ([`ActionEvent`]), never a list inside the action,
//! so two people changing an action at once never fight over its history.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::agenda::{AgendaItem, ItemKind, ItemStatus, Outcome};
use super::record::{Entity, EntityKind};
use super::sync::{Change, Replica};
use super::uk_time;
use super::validation::{self as check, ValidationError};

/// Where an action stands.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum ActionStatus {
    /// Agreed at the meeting; waiting for the owner to take it on.
    #[default]
    Proposed,
    /// The owner has taken it on.
    Accepted,
    /// The owner cannot take it on (with a reason): the coordinator must reassign or cancel.
    Declined,
    Done,
    Cancelled,
}

impl ActionStatus {
    /// Every status, in the order offered in filters.
    pub const ALL: [ActionStatus; 5] = [
        Self::Proposed,
        Self::Accepted,
        Self::Declined,
        Self::Done,
        Self::Cancelled,
    ];

    /// What people call it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Proposed => "Proposed",
            Self::Accepted => "Accepted",
            Self::Declined => "Declined",
            Self::Done => "Done",
            Self::Cancelled => "Cancelled",
        }
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Proposed => "proposed",
            Self::Accepted => "accepted",
            Self::Declined => "declined",
            Self::Done => "done",
            Self::Cancelled => "cancelled",
        }
    }

    /// Parses [`ActionStatus::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Still needs someone to do something.
    pub fn is_open(self) -> bool {
        matches!(self, Self::Proposed | Self::Accepted | Self::Declined)
    }

    /// The legal moves: proposed → accepted → done; proposed/accepted → cancelled;
    /// proposed → declined → proposed (reassigned) or cancelled.
    pub fn can_become(self, next: Self) -> bool {
        use ActionStatus::*;
        self == next
            || matches!(
                (self, next),
                (Proposed, Accepted)
                    | (Proposed, Declined)
                    | (Proposed, Cancelled)
                    | (Accepted, Done)
                    | (Accepted, Cancelled)
                    | (Accepted, Proposed)
                    | (Declined, Proposed)
                    | (Declined, Cancelled)
            )
    }
}

/// One thing someone agreed to do for a patient.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Action {
    pub team_id: Uuid,
    pub description: String,
    /// One person (never a team or "social services").
    pub owner_id: Uuid,
    pub due: NaiveDate,
    #[serde(default)]
    pub patient_id: Option<Uuid>,
    #[serde(default)]
    pub meeting_id: Option<Uuid>,
    #[serde(default)]
    pub item_id: Option<Uuid>,
    #[serde(default)]
    pub status: ActionStatus,
    /// Required when done: what was done.
    #[serde(default)]
    pub completion_note: String,
    /// Why it was cancelled or declined.
    #[serde(default)]
    pub reason: String,
}

/// A change someone makes to an action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionChange {
    Accept,
    Decline {
        reason: String,
    },
    Complete {
        note: String,
    },
    Cancel {
        reason: String,
    },
    /// A new owner (back to proposed, for them to accept).
    Reassign {
        owner: Uuid,
    },
    Reschedule {
        due: NaiveDate,
    },
}

/// How the history line of an action marked done starts ("marked it done: referral sent"):
/// the measures read when an action was done from it.
pub const DONE_SUMMARY: &str = "marked it done";

/// Who changes an action: the person signed in and, when they are the team's coordinator
/// accepting or declining for an owner who does not sign in (a GP who never logs on), that
/// owner's name, so the history says who really answered and for whom.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChangedBy<'a> {
    pub person: Uuid,
    pub for_owner: Option<&'a str>,
}

impl ChangedBy<'_> {
    /// The person acting for themselves.
    pub fn person(person: Uuid) -> Self {
        Self {
            person,
            for_owner: None,
        }
    }
}

impl<'a> ChangedBy<'a> {
    /// A coordinator acting for an owner who cannot sign in, named `owner_name`.
    pub fn for_owner(coordinator: Uuid, owner_name: &'a str) -> Self {
        Self {
            person: coordinator,
            for_owner: Some(owner_name),
        }
    }
}

/// Refuses a due date before today in the UK: an action agreed (or moved) to a day already gone
/// would be overdue from the start, which is nearly always a mistyped year or month.
pub fn check_due_not_past(due: NaiveDate, now: DateTime<Utc>) -> Result<(), ValidationError> {
    let today = uk_time::uk_today(now);
    if due < today {
        return Err(ValidationError::field(
            "due",
            format!(
                "The due date, {}, has passed: choose today ({}) or a later day",
                uk_time::format_date(due),
                uk_time::format_date(today)
            ),
        ));
    }
    Ok(())
}

impl Action {
    /// Overdue: still open and its due date has passed in the UK (the day after the due date
    /// starts at UK midnight, BST or GMT).
    pub fn is_overdue(&self, now: DateTime<Utc>) -> bool {
        self.status.is_open() && uk_time::uk_today(now) > self.due
    }

    /// Applies a change made by `by` for themselves, checking it is legal, and returns the
    /// history entry to store with it. On error the action is unchanged.
    pub fn apply(&mut self, change: &ActionChange, by: Uuid) -> Result<String, ValidationError> {
        self.apply_as(change, ChangedBy::person(by))
    }

    /// [`Action::apply`], possibly by a coordinator answering for an owner who does not sign in
    /// (whether they may is the server's to check: see `authorize`).
    pub fn apply_as(
        &mut self,
        change: &ActionChange,
        by: ChangedBy<'_>,
    ) -> Result<String, ValidationError> {
        let mut next = self.clone();
        let for_owner = match by.for_owner {
            Some(name) if by.person != self.owner_id => Some(name),
            _ => None,
        };
        let answering = by.person == self.owner_id || for_owner.is_some();
        let on_behalf = for_owner
            .map(|name| format!(" for {name}, who does not sign in"))
            .unwrap_or_default();
        let summary = match change {
            ActionChange::Accept => {
                if !answering {
                    return Err(ValidationError::record(
                        "Only the owner can accept an action",
                    ));
                }
                next.status = ActionStatus::Accepted;
                format!("accepted the action{on_behalf}")
            }
            ActionChange::Decline { reason } => {
                if !answering {
                    return Err(ValidationError::record(
                        "Only the owner can decline an action",
                    ));
                }
                check::required_text("reason", "why you cannot take this on", reason, 1000)?;
                next.status = ActionStatus::Declined;
                next.reason = reason.trim().to_owned();
                format!("declined{on_behalf}: {}", next.reason)
            }
            ActionChange::Complete { note } => {
                check::required_text("completion_note", "what was done", note, 2000)?;
                next.status = ActionStatus::Done;
                next.completion_note = note.trim().to_owned();
                format!("{DONE_SUMMARY}{on_behalf}: {}", next.completion_note)
            }
            ActionChange::Cancel { reason } => {
                check::required_text("reason", "why the action is cancelled", reason, 1000)?;
                next.status = ActionStatus::Cancelled;
                next.reason = reason.trim().to_owned();
                format!("cancelled it: {}", next.reason)
            }
            ActionChange::Reassign { owner } => {
                if !self.status.is_open() {
                    return Err(ValidationError::record(
                        "A finished action cannot be given to someone else",
                    ));
                }
                next.owner_id = *owner;
                next.status = ActionStatus::Proposed;
                next.reason.clear();
                "gave it to a new owner".to_string()
            }
            ActionChange::Reschedule { due } => {
                if !self.status.is_open() {
                    return Err(ValidationError::record(
                        "A finished action cannot be rescheduled",
                    ));
                }
                next.due = *due;
                format!("moved the due date to {}", uk_time::format_date(*due))
            }
        };
        if !self.status.can_become(next.status) {
            return Err(ValidationError::record(format!(
                "An action that is {} cannot become {}",
                self.status.label().to_lowercase(),
                next.status.label().to_lowercase()
            )));
        }
        next.validate()?;
        *self = next;
        Ok(summary)
    }
}

impl Entity for Action {
    const KIND: EntityKind = EntityKind::Action;
    const FIELDS: &'static [&'static str] = &[
        "team_id",
        "description",
        "owner_id",
        "due",
        "patient_id",
        "meeting_id",
        "item_id",
        "status",
        "completion_note",
        "reason",
    ];

    fn validate(&self) -> Result<(), ValidationError> {
        check::required_text("description", "what needs doing", &self.description, 1000)?;
        check::date_in_window("due", "the due date", self.due)?;
        check::optional_text(
            "completion_note",
            "the completion note",
            &self.completion_note,
            2000,
        )?;
        check::optional_text("reason", "the reason", &self.reason, 1000)?;
        match self.status {
            ActionStatus::Done if self.completion_note.trim().is_empty() => {
                Err(ValidationError::field(
                    "completion_note",
                    "Say what was done before marking the action done",
                ))
            }
            ActionStatus::Cancelled | ActionStatus::Declined if self.reason.trim().is_empty() => {
                Err(ValidationError::field("reason", "Give a reason"))
            }
            _ => Ok(()),
        }
    }
}

/// One line of an action's history: who changed what, when.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionEvent {
    pub team_id: Uuid,
    pub action_id: Uuid,
    pub by: Uuid,
    pub at: DateTime<Utc>,
    /// e.g. "accepted the action", "marked it done: referral sent".
    pub summary: String,
}

impl Entity for ActionEvent {
    const KIND: EntityKind = EntityKind::ActionEvent;
    const FIELDS: &'static [&'static str] = &["team_id", "action_id", "by", "at", "summary"];

    fn validate(&self) -> Result<(), ValidationError> {
        check::instant_in_window("at", "the time of the change", self.at)?;
        check::required_text("summary", "what changed", &self.summary, 2100)
    }
}

/// The command "agree an action": the action (record `id`) and the first line of its history,
/// together, so no action ever exists without saying who agreed it and when. Refused when the
/// action is not valid or is due before `at`'s day.
pub fn agree(
    action: &Action,
    id: Uuid,
    history_id: Uuid,
    by: Uuid,
    at: DateTime<Utc>,
) -> Result<Vec<Change>, ValidationError> {
    action.validate()?;
    check_due_not_past(action.due, at)?;
    let event = ActionEvent {
        team_id: action.team_id,
        action_id: id,
        by,
        at,
        summary: "agreed the action".into(),
    };
    Ok(vec![
        Change::put(id, action),
        Change::put(history_id, &event),
    ])
}

/// The command "change an action" (accept, decline, reassign, complete…): the action moved
/// through its state machine as the device shows it, and a line of history saying who did what.
/// Refused when the action is not on the device, the change is not allowed from where it is, or
/// it moves the due date to a day already gone.
pub fn change(
    replica: &Replica,
    id: Uuid,
    change: &ActionChange,
    history_id: Uuid,
    by: ChangedBy<'_>,
    at: DateTime<Utc>,
) -> Result<Vec<Change>, ValidationError> {
    if let ActionChange::Reschedule { due } = change {
        check_due_not_past(*due, at)?;
    }
    let Some((version, before)) = replica
        .view(id)
        .and_then(|v| v.typed::<Action>().map(|a| (v.version, a)))
    else {
        return Err(ValidationError::record(
            "This action is not on this device any more",
        ));
    };
    let mut after = before.clone();
    let summary = after.apply_as(change, by)?;
    let event = ActionEvent {
        team_id: after.team_id,
        action_id: id,
        by: by.person,
        at,
        summary,
    };
    Ok(vec![
        Change::edit(id, version, Some(&before), &after),
        Change::put(history_id, &event),
    ])
}

/// Why a meeting cannot be concluded yet: an item and what it lacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocker {
    pub item_id: Uuid,
    pub problem: &'static str,
}

/// The items stopping a meeting from being concluded: every patient item needs an outcome, and
/// a decision needs at least one action. Items whose content was withheld from this device are
/// judged by those who may see them (the coordinator, who concludes, always may).
pub fn conclusion_blockers(
    items: &[(Uuid, AgendaItem)],
    actions: &[(Uuid, Action)],
) -> Vec<Blocker> {
    items
        .iter()
        .filter(|(_, i)| i.kind == ItemKind::PatientDiscussion && !i.content_withheld)
        .filter_map(|(id, item)| {
            let problem = match (&item.outcome, item.status) {
                (None, _) | (Some(_), ItemStatus::Open) => "has no outcome yet",
                (Some(Outcome::Decision { .. }), _)
                    if !actions.iter().any(|(_, a)| {
                        a.item_id == Some(*id) && a.status != ActionStatus::Cancelled
                    }) =>
                {
                    "has a decision but no action"
                }
                _ => return None,
            };
            Some(Blocker {
                item_id: *id,
                problem,
            })
        })
        .collect()
}

/// Orders actions for "my actions": overdue first, then by due date, then by description.
pub fn sort_for_owner(actions: &mut [(Uuid, Action)], now: DateTime<Utc>) {
    actions.sort_by(|(ia, a), (ib, b)| {
        (!a.is_overdue(now), a.due, &a.description, ia).cmp(&(
            !b.is_overdue(now),
            b.due,
            &b.description,
            ib,
        ))
    });
}

/// An action with the names it is shown and searched by, worked out once.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ActionRow {
    pub id: Uuid,
    pub action: Action,
    pub owner_name: String,
    pub owner_organisation: String,
    /// "Ada Synthetic (NHS 943 476 5919, born 2 Mar 1941)", or empty.
    pub patient: String,
    /// Lower-case text the live filter searches: description, owner, organisation, patient.
    search: String,
}

impl ActionRow {
    /// A row for display and filtering.
    pub fn new(
        id: Uuid,
        action: Action,
        owner_name: String,
        owner_organisation: String,
        patient: String,
    ) -> Self {
        let search = format!(
            "{} {} {} {}",
            action.description, owner_name, owner_organisation, patient
        )
        .to_lowercase();
        Self {
            id,
            action,
            owner_name,
            owner_organisation,
            patient,
            search,
        }
    }
}

/// The filters of a team's action list; everything left empty matches everything.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ActionFilter {
    /// Words typed in the search box; every word must appear.
    pub text: String,
    pub owner: Option<Uuid>,
    pub patient: Option<Uuid>,
    pub status: Option<ActionStatus>,
    pub overdue_only: bool,
    /// Hide done and cancelled actions.
    pub open_only: bool,
}

impl ActionFilter {
    /// Whether `row` passes at `now`.
    pub fn matches(&self, row: &ActionRow, now: DateTime<Utc>) -> bool {
        let a = &row.action;
        self.owner.is_none_or(|o| a.owner_id == o)
            && self.patient.is_none_or(|p| a.patient_id == Some(p))
            && self.status.is_none_or(|s| a.status == s)
            && (!self.open_only || a.status.is_open())
            && (!self.overdue_only || a.is_overdue(now))
            && self.text.split_whitespace().all(|word| {
                // Typed text is usually lower case already: avoid an allocation per row.
                if word.chars().any(char::is_uppercase) {
                    row.search.contains(&word.to_lowercase())
                } else {
                    row.search.contains(word)
                }
            })
    }
}

/// One CSV line per RFC 4180: fields quoted when they hold a comma, quote or line break (quotes
/// doubled), CRLF at the end. A field that a spreadsheet would run as a formula (starting with
/// `=`, `+`, `-`, `@`) is prefixed with an apostrophe.
pub fn csv_line(fields: &[&str]) -> String {
    let mut line = fields
        .iter()
        .map(|f| {
            let f = if f.starts_with(['=', '+', '-', '@']) {
                format!("'{f}")
            } else {
                (*f).to_owned()
            };
            if f.contains([',', '"', '\r', '\n']) {
                format!("\"{}\"", f.replace('"', "\"\""))
            } else {
                f
            }
        })
        .collect::<Vec<_>>()
        .join(",");
    line.push_str("\r\n");
    line
}

/// A team's actions as CSV with a header row and UK dates (DD/MM/YYYY).
pub fn actions_csv(rows: &[ActionRow], now: DateTime<Utc>) -> String {
    let mut out = csv_line(&[
        "Action",
        "Owner",
        "Organisation",
        "Patient",
        "Due",
        "Status",
        "Overdue",
        "Completion note",
        "Reason",
    ]);
    for row in rows {
        let a = &row.action;
        out.push_str(&csv_line(&[
            &a.description,
            &row.owner_name,
            &row.owner_organisation,
            &row.patient,
            &a.due.format("%d/%m/%Y").to_string(),
            a.status.label(),
            if a.is_overdue(now) { "Yes" } else { "No" },
            &a.completion_note,
            &a.reason,
        ]));
    }
    out
}

#[cfg(test)]
mod tests;
