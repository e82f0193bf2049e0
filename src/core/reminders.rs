//! Messages that time sends, not a change (issue 17): brief reminders before the cut-off, the
//! weekly digest of actions, and the coordinator's chase. The server's sender looks at these
//! every few minutes; each message's id comes from what it is about and when, so looking again
//! never sends it twice (the outbox keeps one per message and recipient).

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Timelike, Utc, Weekday};
use uuid::Uuid;

use super::action::{Action, ActionStatus};
use super::agenda::{AgendaItem, ItemStatus};
use super::brief::{Brief, BriefState, Readiness};
use super::mail::{self, Chased, MessageKind};
use super::meeting::{Meeting, MeetingStatus};
use super::notify::{message_id, MailOrigin, Outgoing, TeamMail};
use super::uk_time;

/// How long before the brief cut-off the reminder goes.
pub const REMIND_BEFORE: Duration = Duration::hours(24);

/// The digest goes on Mondays from this hour (UK time).
pub const DIGEST_HOUR: u32 = 7;

/// To each person writing briefs for `meeting` that are not ready, once, in the day before the
/// cut-off: how many, for which meeting, by when.
pub fn brief_reminders(
    meeting_id: Uuid,
    meeting: &Meeting,
    to: &TeamMail<'_>,
    items: &[(Uuid, AgendaItem)],
    briefs: &[(Uuid, u64, Brief)],
    origin: &MailOrigin,
    now: DateTime<Utc>,
) -> Vec<Outgoing> {
    let due = to.team.briefs_due_at(meeting.starts_at);
    if meeting.status != MeetingStatus::Planned || now < due - REMIND_BEFORE || now >= due {
        return Vec::new();
    }
    let open: Vec<(Uuid, AgendaItem)> = items
        .iter()
        .filter(|(_, i)| i.meeting_id == meeting_id && i.status == ItemStatus::Open)
        .cloned()
        .collect();
    let mut owed: BTreeMap<Uuid, usize> = BTreeMap::new();
    for row in Readiness::of(&open, briefs, &[], &[]).rows {
        if matches!(row.brief, BriefState::Ready { .. }) {
            continue;
        }
        if let Some(author) = row.author.filter(|a| to.team.includes(*a)) {
            *owed.entry(author).or_default() += 1;
        }
    }
    let id = message_id("brief-reminder", meeting_id, due.timestamp().max(0) as u64);
    owed.into_iter()
        .filter_map(|(author, count)| {
            let person = to
                .people
                .get(&author)
                .filter(|p| p.recipient.wants(MessageKind::BriefReminder))?;
            Some(Outgoing {
                message_id: id,
                email: person.email.clone(),
                message: mail::brief_reminder(
                    &to.team.name,
                    meeting.starts_at,
                    due,
                    count,
                    &format!("/meetings/{meeting_id}"),
                    &origin.links,
                ),
                calendar: None,
                answers: None,
            })
        })
        .collect()
}

/// The Monday that starts the UK week of `now`, when the digest is due: from
/// [`DIGEST_HOUR`] on Monday until the week ends (a server down on Monday morning still sends
/// it later that week).
pub fn digest_week(now: DateTime<Utc>) -> Option<NaiveDate> {
    let local = uk_time::to_uk(now);
    let monday = local.date() - Duration::days(i64::from(local.weekday().num_days_from_monday()));
    let started = local.weekday() != Weekday::Mon || local.hour() >= DIGEST_HOUR;
    started.then_some(monday)
}

/// An action still in its owner's hands (taken on, or waiting to be).
fn open(action: &Action) -> bool {
    matches!(
        action.status,
        ActionStatus::Proposed | ActionStatus::Accepted
    )
}

/// The weekly digest of one team's actions: to each owner with actions overdue or due in the
/// week, how many of each (never what they are: an action's text may describe a patient).
pub fn actions_digests(
    to: &TeamMail<'_>,
    actions: &[Action],
    origin: &MailOrigin,
    now: DateTime<Utc>,
) -> Vec<Outgoing> {
    let Some(week) = digest_week(now) else {
        return Vec::new();
    };
    let today = uk_time::uk_today(now);
    let week_end = week + Duration::days(6);
    let mut counts: BTreeMap<Uuid, (usize, usize)> = BTreeMap::new();
    for action in actions.iter().filter(|a| open(a)) {
        let entry = counts.entry(action.owner_id).or_default();
        if action.due < today {
            entry.0 += 1;
        } else if action.due <= week_end {
            entry.1 += 1;
        }
    }
    let id = message_id(
        "actions-digest",
        to.team_id,
        week.num_days_from_ce().max(0) as u64,
    );
    counts
        .into_iter()
        .filter(|(owner, (overdue, due))| (*overdue + *due) > 0 && to.team.includes(*owner))
        .filter_map(|(owner, (overdue, due))| {
            let person = to
                .people
                .get(&owner)
                .filter(|p| p.recipient.wants(MessageKind::ActionsDigest))?;
            Some(Outgoing {
                message_id: id,
                email: person.email.clone(),
                message: mail::actions_digest(&to.team.name, overdue, due, &origin.links),
                calendar: None,
                answers: None,
            })
        })
        .collect()
}

/// What the coordinator chases, and whom.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChaseRequest {
    /// The item whose brief is missing, or the overdue action.
    pub about: Uuid,
    pub what: Chased,
    pub person_id: Uuid,
    /// For a brief: when its meeting starts (the email names the meeting and the cut-off).
    pub meeting_starts_at: Option<DateTime<Utc>>,
}

/// The coordinator's chase: at most one a day for the same brief or action (the message id is
/// the thing and the UK day), so a second press the same day sends nothing.
pub fn chase(
    request: &ChaseRequest,
    coordinator: &str,
    to: &TeamMail<'_>,
    origin: &MailOrigin,
    now: DateTime<Utc>,
) -> Option<Outgoing> {
    let person = to
        .people
        .get(&request.person_id)
        .filter(|p| p.recipient.wants(MessageKind::Chase))?;
    let path = match request.what {
        Chased::Brief => format!("/items/{}/brief", request.about),
        Chased::Action => "/actions".to_owned(),
    };
    let day = uk_time::uk_today(now).num_days_from_ce().max(0) as u64;
    Some(Outgoing {
        message_id: message_id("chase", request.about, day),
        email: person.email.clone(),
        message: mail::chase(
            &to.team.name,
            coordinator,
            request.what,
            request.meeting_starts_at.map(|starts| {
                let due_by = to.team.briefs_due_at(starts);
                mail::BriefDue {
                    meeting_starts_at: starts,
                    due_by,
                    late: now >= due_by,
                }
            }),
            &path,
            &origin.links,
        ),
        calendar: None,
        answers: None,
    })
}

#[cfg(test)]
mod tests;
