//! The emails the app sends (issue 17, first part): what each kind of message says, built only
//! from what may travel by email. The inputs are a team's name, meeting times, counts, staff
//! names and links into the app; no patient, NHS number or clinical text is ever an input, so
//! no message can carry one. [`patient_shaped`] finds NHS-number-shaped text, for the tests that
//! scan every message sent.
//!
//! Every message says why it was sent and how to stop it (the person's email preferences).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::uk_time;

/// The kinds of message, each of which a person can turn off (invitations excepted: they are
/// how the meeting reaches their calendar).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// A meeting's invitation (or its update) with the calendar file.
    Invitation,
    /// A meeting called off (the calendar file cancels the event).
    Cancellation,
    /// Briefs the person must write before the cut-off.
    BriefReminder,
    /// The weekly list of the person's actions due and overdue.
    ActionsDigest,
    /// The coordinator asking for a missing brief or an overdue action.
    Chase,
    /// To the coordinator: an apology has left a required role uncovered.
    QuorumLost,
}

impl MessageKind {
    /// Words for the preferences page and for "why you received this".
    pub fn label(self) -> &'static str {
        match self {
            Self::Invitation => "meeting invitations and changes",
            Self::Cancellation => "meetings called off",
            Self::BriefReminder => "reminders of briefs to write",
            Self::ActionsDigest => "a weekly list of your actions",
            Self::Chase => "requests from your team's coordinator",
            Self::QuorumLost => "warnings that a meeting has lost its quorum",
        }
    }
}

/// Which messages a person with an account chooses to get (all of them at first). Invitations
/// and cancellations are not a choice: they keep the person's calendar right.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailPreferences {
    pub brief_reminders: bool,
    pub actions_digest: bool,
    pub chases: bool,
    pub quorum_warnings: bool,
}

impl Default for MailPreferences {
    fn default() -> Self {
        Self {
            brief_reminders: true,
            actions_digest: true,
            chases: true,
            quorum_warnings: true,
        }
    }
}

/// Who a message would go to, as far as deciding whether to send it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recipient {
    /// Someone who signs in, with their choices.
    Account(MailPreferences),
    /// Someone in the directory with an email address but no account (a GP who never logs on):
    /// invitations and cancellations only, and only when the team's coordinator turned them on.
    NoAccount { invitations_on: bool },
}

impl Recipient {
    /// Whether a message of `kind` goes to this person.
    pub fn wants(self, kind: MessageKind) -> bool {
        let calendar = matches!(kind, MessageKind::Invitation | MessageKind::Cancellation);
        match self {
            Self::NoAccount { invitations_on } => calendar && invitations_on,
            Self::Account(p) => match kind {
                MessageKind::Invitation | MessageKind::Cancellation => true,
                MessageKind::BriefReminder => p.brief_reminders,
                MessageKind::ActionsDigest => p.actions_digest,
                MessageKind::Chase => p.chases,
                MessageKind::QuorumLost => p.quorum_warnings,
            },
        }
    }
}

/// One message, ready for the outbox: plain text, short, with a link into the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub kind: MessageKind,
    pub subject: String,
    pub body: String,
}

/// Where links in messages lead: the app's address as people reach it, and the page of the
/// person's email preferences.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Links {
    pub base_url: String,
}

impl Links {
    fn to(&self, path: &str) -> String {
        format!("{}{path}", self.base_url.trim_end_matches('/'))
    }

    /// The preferences page, for "how to stop these".
    pub fn preferences(&self) -> String {
        self.to("/settings/email")
    }
}

/// `text` on one line: every run of whitespace (line breaks included: `\n`, `\r`, NEL, the
/// Unicode line and paragraph separators) becomes one space. Names and places go into subjects
/// and bodies through this, so a stored value can never start a line of its own that imitates
/// the message's text or links (validation refuses line breaks in them; this also covers
/// values stored before it did).
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Where the footer starts (the usual signature separator).
const FOOTER_START: &str = "\n\n--\n";

/// The footer every message ends with: why it was sent and how to stop it.
fn footer(kind: MessageKind, team: &str, links: &Links) -> String {
    let stop = match kind {
        MessageKind::Invitation | MessageKind::Cancellation => format!(
            "Meeting invitations keep your calendar right while you are in the team; to stop them, ask {team}'s coordinator to take you off the team."
        ),
        _ => format!(
            "To stop {}, change your email settings: {}",
            kind.label(),
            links.preferences()
        ),
    };
    format!(
        "{FOOTER_START}You received this because you are in {team} and get {}.\n{stop}\nThis email never contains patient details: open the app to see them.\n",
        kind.label()
    )
}

/// A message of `kind` for `team`, its body ending with the footer of that kind (so the kind
/// is named once).
fn message(kind: MessageKind, team: &str, links: &Links, subject: String, body: String) -> Message {
    Message {
        kind,
        subject,
        body: body + &footer(kind, team, links),
    }
}

/// The one-click answers of an invitation, placed before its footer: each link records that
/// answer for this person and this meeting only, without a password.
pub fn with_answer_links(
    message: Message,
    attending: &str,
    remote: &str,
    apologies: &str,
) -> Message {
    let block = format!(
        "\n\nCan you come? Answer with one click (no password needed):\n{}",
        answer_lines(attending, remote, apologies)
    );
    before_footer(message, &block)
}

/// The three one-click answers, one a line.
fn answer_lines(attending: &str, remote: &str, apologies: &str) -> String {
    format!(
        "Attending in person: {attending}\nAttending remotely: {remote}\nApologies: {apologies}"
    )
}

/// `message` with `block` placed before its footer.
fn before_footer(message: Message, block: &str) -> Message {
    let at = message
        .body
        .find(FOOTER_START)
        .unwrap_or(message.body.len());
    let mut body = message.body;
    body.insert_str(at, block);
    Message { body, ..message }
}

/// The one-click answers of a series' invitation, placed before its footer: for each of the
/// series' next meetings (`meetings`: its start and its attending, remote and apologies links)
/// its day and time and three links, each recording that answer for this person and that
/// meeting only, without a password, so someone without an account can answer too.
pub fn with_series_answer_links(
    message: Message,
    meetings: &[(DateTime<Utc>, [String; 3])],
) -> Message {
    if meetings.is_empty() {
        return message;
    }
    let mut block = String::from(
        "\n\nCan you come? Answer for each of the next meetings with one click (no password needed):",
    );
    for (starts_at, [attending, remote, apologies]) in meetings {
        block.push_str(&format!(
            "\n\n{} (UK time):\n{}",
            uk_time::format_uk(*starts_at),
            answer_lines(attending, remote, apologies)
        ));
    }
    block.push_str(
        "\n\nFor later meetings, answer in the app, or tell the team's coordinator if you do not sign in to it.",
    );
    before_footer(message, &block)
}

/// "Tuesday's MDT" for a meeting on a Tuesday.
fn day_of(at: DateTime<Utc>) -> String {
    uk_time::to_uk(at).format("%A").to_string()
}

/// A meeting's invitation (or, with `changed`, its update).
pub fn invitation(
    team: &str,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    place: &str,
    meeting_path: &str,
    changed: bool,
    links: &Links,
) -> Message {
    let team = &one_line(team);
    let place = &one_line(place);
    let when = format!(
        "{}–{}",
        uk_time::format_uk(starts_at),
        uk_time::format_uk_time(ends_at)
    );
    let subject = if changed {
        format!("Changed: {team} meeting, {when}")
    } else {
        format!("Invitation: {team} meeting, {when}")
    };
    let place = if place.trim().is_empty() {
        String::new()
    } else {
        format!("Place: {}\n", place.trim())
    };
    let body = format!(
        "{team} meets on {when} (UK time).\n{place}\nSay whether you can come, and see the agenda and briefs, in the app:\n{}\n\nThe calendar file attached adds the meeting to your calendar.",
        links.to(meeting_path),
    );
    message(MessageKind::Invitation, team, links, subject, body)
}

/// A series' invitation (or, with `changed`, its update): when it starts and how it repeats.
/// The answers themselves come as one-click links for the next meetings
/// ([`with_series_answer_links`]), which need no account.
#[allow(clippy::too_many_arguments)]
pub fn series_invitation(
    team: &str,
    first_starts_at: DateTime<Utc>,
    first_ends_at: DateTime<Utc>,
    repeats: &str,
    place: &str,
    team_path: &str,
    changed: bool,
    links: &Links,
) -> Message {
    let team = &one_line(team);
    let place = &one_line(place);
    let subject = if changed {
        format!("Changed: {team} meetings, {repeats}")
    } else {
        format!("Invitation: {team} meetings, {repeats}")
    };
    let place = if place.trim().is_empty() {
        String::new()
    } else {
        format!("Place: {}\n", place.trim())
    };
    let body = format!(
        "{team} meets {repeats}, from {}–{} (UK time).\n{place}\nThe agendas and briefs are in the app:\n{}\n\nThe calendar file attached adds the meetings to your calendar.",
        uk_time::format_uk(first_starts_at),
        uk_time::format_uk_time(first_ends_at),
        links.to(team_path),
    );
    message(MessageKind::Invitation, team, links, subject, body)
}

/// A whole series called off.
pub fn series_cancellation(team: &str, repeats: &str, team_path: &str, links: &Links) -> Message {
    let team = &one_line(team);
    message(
        MessageKind::Cancellation,
        team,
        links,
        format!("Cancelled: {team} meetings, {repeats}"),
        format!(
            "{team}'s meetings {repeats} are cancelled. The calendar file attached removes them from your calendar.\n\nThe team's other meetings: {}",
            links.to(team_path),
        ),
    )
}

/// A meeting called off.
pub fn cancellation(
    team: &str,
    starts_at: DateTime<Utc>,
    team_path: &str,
    links: &Links,
) -> Message {
    let team = &one_line(team);
    let when = uk_time::format_uk(starts_at);
    message(
        MessageKind::Cancellation,
        team,
        links,
        format!("Cancelled: {team} meeting, {when}"),
        format!(
            "{team}'s meeting on {when} (UK time) is cancelled. The calendar file attached removes it from your calendar.\n\nThe team's other meetings: {}",
            links.to(team_path),
        ),
    )
}

/// Briefs the person must write before the cut-off: "2 briefs due for Tuesday's MDT by Monday
/// 12:00".
pub fn brief_reminder(
    team: &str,
    meeting_starts_at: DateTime<Utc>,
    due_by: DateTime<Utc>,
    count: usize,
    meeting_path: &str,
    links: &Links,
) -> Message {
    let team = &one_line(team);
    let briefs = if count == 1 {
        "1 brief".to_string()
    } else {
        format!("{count} briefs")
    };
    let by = format!("{} {}", day_of(due_by), uk_time::format_uk_time(due_by));
    message(
        MessageKind::BriefReminder,
        team,
        links,
        format!(
            "{briefs} due for {}'s {team} by {by}",
            day_of(meeting_starts_at)
        ),
        format!(
            "You are writing {briefs} for {team}'s meeting on {} (UK time). Briefs should be ready by {} so everyone can read them first.\n\nOpen the meeting to write them:\n{}",
            uk_time::format_uk(meeting_starts_at),
            uk_time::format_uk(due_by),
            links.to(meeting_path),
        ),
    )
}

/// The weekly list of the person's actions: how many are overdue and due this week (no action's
/// text, which may describe a patient).
pub fn actions_digest(team: &str, overdue: usize, due_this_week: usize, links: &Links) -> Message {
    let team = &one_line(team);
    let count = |n: usize, what: &str| match n {
        0 => format!("no {what}s"),
        1 => format!("1 {what}"),
        n => format!("{n} {what}s"),
    };
    message(
        MessageKind::ActionsDigest,
        team,
        links,
        format!(
            "Your {team} actions: {} overdue, {} due this week",
            overdue, due_this_week
        ),
        format!(
            "You have {} overdue and {} due this week in {team}.\n\nSee them, and mark them done, in the app:\n{}",
            count(overdue, "action"),
            count(due_this_week, "action"),
            links.to("/actions"),
        ),
    )
}

/// What the coordinator chases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chased {
    Brief,
    Action,
}

/// The meeting a chased brief is for and when briefs for it are due (the team's cut-off), so
/// the person chased knows which meeting and by when without opening the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BriefDue {
    pub meeting_starts_at: DateTime<Utc>,
    pub due_by: DateTime<Utc>,
    /// The cut-off has passed already (the brief is late).
    pub late: bool,
}

/// The coordinator asking for a missing brief (`brief`: its meeting and cut-off) or an overdue
/// action.
pub fn chase(
    team: &str,
    coordinator: &str,
    what: Chased,
    brief: Option<BriefDue>,
    path: &str,
    links: &Links,
) -> Message {
    let team = &one_line(team);
    let coordinator = &one_line(coordinator);
    let (subject, ask) = match (what, brief) {
        (Chased::Brief, Some(due)) => (
            format!("{coordinator} asks for your brief ({team})"),
            format!(
                "a brief you are writing for {team}'s meeting on {} (UK time) is not ready yet. {} {} (UK time), so everyone can read it before the meeting",
                uk_time::format_uk_long(due.meeting_starts_at),
                if due.late { "It was due to be ready by" } else { "It should be ready by" },
                uk_time::format_uk_long(due.due_by),
            ),
        ),
        (Chased::Brief, None) => (
            format!("{coordinator} asks for your brief ({team})"),
            "a brief you are writing for the next meeting is not ready yet".to_owned(),
        ),
        (Chased::Action, _) => (
            format!("{coordinator} asks about an overdue action ({team})"),
            "an action you own is past its due date".to_owned(),
        ),
    };
    let body = format!(
        "{coordinator}, who coordinates {team}, asks you to look at it: {ask}.\n\nOpen it in the app:\n{}",
        links.to(path),
    );
    message(MessageKind::Chase, team, links, subject, body)
}

/// To the coordinator: an apology has left a role the meeting needs uncovered.
pub fn quorum_lost(
    team: &str,
    meeting_starts_at: DateTime<Utc>,
    missing_roles: &str,
    meeting_path: &str,
    links: &Links,
) -> Message {
    let team = &one_line(team);
    let when = uk_time::format_uk(meeting_starts_at);
    message(
        MessageKind::QuorumLost,
        team,
        links,
        format!("Quorum lost: {team} meeting, {when}"),
        format!(
            "After an apology, {team}'s meeting on {when} (UK time) no longer has {missing_roles}.\n\nAsk for a deputy or move the meeting:\n{}",
            links.to(meeting_path),
        ),
    )
}

/// True when `text` holds something shaped like an NHS number: ten digits standing alone (not
/// part of a longer run of letters and digits, such as an id in a link), in a row or written
/// 3-3-4 with single spaces or hyphens. For the tests that scan every message sent; the
/// messages are built so this never happens.
pub fn patient_shaped(text: &str) -> bool {
    let bytes = text.as_bytes();
    let joined = |b: Option<&u8>| b.is_some_and(u8::is_ascii_alphanumeric);
    (0..bytes.len()).any(|start| {
        if !bytes[start].is_ascii_digit() || (start > 0 && joined(bytes.get(start - 1))) {
            return false;
        }
        let (mut digits, mut end) = (0, start);
        while end < bytes.len() && digits < 10 {
            if bytes[end].is_ascii_digit() {
                digits += 1;
                end += 1;
            } else if (digits == 3 || digits == 6)
                && matches!(bytes[end], b' ' | b'-')
                && bytes.get(end + 1).is_some_and(u8::is_ascii_digit)
            {
                end += 1;
            } else {
                break;
            }
        }
        digits == 10 && !joined(bytes.get(end))
    })
}

#[cfg(test)]
mod tests;
