//! Which emails a saved change sends, and to whom (issue 17). The server calls these inside
//! the transaction that saves the change, and writes what they return to the outbox, so a
//! message exists exactly when its cause was committed.
//!
//! - A meeting: what each transition sends is one table, [`MEETING_TRANSITIONS`] (planned →
//!   invitation; moved → update; cancelled or deleted before it starts → cancellation;
//!   concluded → nothing, ever).
//! - A series made, changed or cancelled: the same for the whole series; its invitation
//!   answers its next meetings by link ([`SERIES_ANSWERS`]).
//! - One meeting of a series changed on its own: the same table, sent as a change of that
//!   occurrence of the series' calendar event ([`occurrence_messages`]).
//! - An apology that leaves a required role uncovered: the coordinator is told at once.
//!
//! Every message is built by `core::mail` from the team's name, times, places and staff names;
//! nothing about a patient is an input here.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::attendance::{Attendance, AttendanceStatus, QuorumPanel};
use super::directory::Role;
use super::ics::{self, Addressed, EventText};
use super::mail::{self, Links, Message, MessageKind, Recipient};
use super::meeting::{Meeting, MeetingStatus};
use super::series::Series;
use super::team::Team;

/// Where the server's messages come from, and where their links lead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailOrigin {
    pub links: Links,
    /// The address messages are sent from (and the organizer of their calendar files).
    pub from_address: String,
}

/// Someone a message may go to: their name, address, and what they choose to receive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addressee {
    pub name: String,
    pub email: String,
    pub recipient: Recipient,
}

/// One message for one person, ready for the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// The same for every recipient of one message, and for the same cause every time it is
    /// looked at: the outbox keeps one row per message and recipient, so nothing goes twice.
    pub message_id: Uuid,
    pub email: String,
    pub message: Message,
    /// The calendar file attached (an invitation or a cancellation).
    pub calendar: Option<String>,
    /// An invitation carries one-click answers for its recipient (added by the server, which
    /// signs them).
    pub answers: Option<Answers>,
}

/// The one-click answers an invitation carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answers {
    /// A meeting's invitation: the three answers to it.
    Meeting(AnswerRequest),
    /// A series' invitation: the three answers to each of its next meetings, each named by its
    /// start (people without an account have no other way to answer).
    Series(Vec<AnswerRequest>),
}

/// Who may answer which meeting from an invitation, until when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnswerRequest {
    pub meeting_id: Uuid,
    pub person_id: Uuid,
    /// When the meeting starts: the links stop working then.
    pub until: DateTime<Utc>,
}

/// How many of a series' next meetings its invitation answers by link (the rest are answered
/// in the app or through the coordinator; a long list of links would bury the email).
pub const SERIES_ANSWERS: usize = 4;

/// A team and the people its messages may go to, by person id (someone without an email
/// address is not in `people`).
#[derive(Debug, Clone, Copy)]
pub struct TeamMail<'a> {
    pub team_id: Uuid,
    pub team: &'a Team,
    pub people: &'a HashMap<Uuid, Addressee>,
}

impl TeamMail<'_> {
    /// Everyone invited to the team's meetings (the coordinator and the members) who has an
    /// address and wants messages of `kind`, each once.
    fn invited(&self, kind: MessageKind) -> Vec<(Uuid, &Addressee)> {
        let mut seen = HashSet::new();
        std::iter::once(self.team.coordinator_id)
            .chain(self.team.member_ids.iter().copied())
            .filter(|p| seen.insert(*p))
            .filter_map(|p| self.people.get(&p).map(|a| (p, a)))
            .filter(|(_, a)| a.recipient.wants(kind))
            .collect()
    }

    fn team_path(&self) -> String {
        format!("/teams/{}", self.team_id)
    }
}

const MESSAGE_NAMESPACE: Uuid = Uuid::from_u128(0x6d64_745f_6d61_696c_5f6f_7574_626f_7801);

/// The id of the message that `cause` (a kind of event) of `record` at `version` sends.
pub fn message_id(cause: &str, record: Uuid, version: u64) -> Uuid {
    Uuid::new_v5(
        &MESSAGE_NAMESPACE,
        format!("{cause}:{record}:{version}").as_bytes(),
    )
}

/// The calendar UID of a meeting, the same in the download and in every email.
pub fn meeting_uid(meeting_id: Uuid) -> String {
    format!("meeting-{meeting_id}@mdt")
}

/// The calendar UID of a series, the same in the download and in every email.
pub fn series_uid(series_id: Uuid) -> String {
    format!("series-{series_id}@mdt")
}

/// Whether the calendar event changes: time, length, place or video link.
fn calendar_changed(before: &Meeting, after: &Meeting) -> bool {
    before.starts_at != after.starts_at
        || before.ends_at != after.ends_at
        || before.place != after.place
        || before.video_link != after.video_link
}

/// Where a meeting stands for the calendars of the people invited to it, at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MeetingStage {
    /// Not saved yet, or deleted.
    Absent,
    /// Planned, and its start is still to come.
    ToCome,
    /// Planned, and its start has passed: being held, or held and not yet concluded.
    Started,
    /// Called off.
    Cancelled,
    /// Held and concluded by the coordinator.
    Concluded,
}

impl MeetingStage {
    /// Every stage, for the tests that walk the table.
    pub const ALL: [MeetingStage; 5] = [
        Self::Absent,
        Self::ToCome,
        Self::Started,
        Self::Cancelled,
        Self::Concluded,
    ];

    /// The stage of `meeting` (`None`: absent) at `now`.
    pub fn of(meeting: Option<&Meeting>, now: DateTime<Utc>) -> Self {
        match meeting {
            None => Self::Absent,
            Some(m) => match m.status {
                MeetingStatus::Cancelled => Self::Cancelled,
                MeetingStatus::Closed => Self::Concluded,
                MeetingStatus::Planned if m.starts_at > now => Self::ToCome,
                MeetingStatus::Planned => Self::Started,
            },
        }
    }
}

/// What a saved change to a meeting sends to everyone invited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CalendarMessage {
    Nothing,
    /// An invitation (METHOD:REQUEST) with one-click answers: the event goes in calendars.
    Invitation,
    /// The same event changed (METHOD:REQUEST, "Changed:"): calendars move it. One-click
    /// answers only while the meeting is still to come.
    Update,
    /// METHOD:CANCEL: the event is removed from calendars. Only a meeting called off (cancelled
    /// or deleted) before it starts sends one.
    Cancellation,
}

/// One row of [`MEETING_TRANSITIONS`]: `None` in `before` or `after` matches any stage;
/// `calendar_changed` is whether time, length, place or video link changed (`None`: either).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MeetingTransition {
    pub before: Option<MeetingStage>,
    pub after: Option<MeetingStage>,
    pub calendar_changed: Option<bool>,
    pub sends: CalendarMessage,
    /// Why, in words (the hazard log quotes these).
    pub why: &'static str,
}

const fn row(
    before: Option<MeetingStage>,
    after: Option<MeetingStage>,
    calendar_changed: Option<bool>,
    sends: CalendarMessage,
    why: &'static str,
) -> MeetingTransition {
    MeetingTransition {
        before,
        after,
        calendar_changed,
        sends,
        why,
    }
}

/// Every transition of a meeting and what it sends to people's calendars: the first row that
/// fits decides. A cancellation removes the meeting from everyone's calendar, so only a
/// meeting called off before its start sends one; concluding a meeting (hazard H39 in
/// docs/hazard-log.md) never does, whenever it happens.
pub const MEETING_TRANSITIONS: &[MeetingTransition] = {
    use CalendarMessage as Send;
    use MeetingStage::*;
    &[
        row(Some(ToCome), Some(ToCome), Some(true), Send::Update,
            "moved, or given another place or video link: calendars move the same event"),
        row(Some(ToCome), Some(ToCome), Some(false), Send::Nothing,
            "saved for another reason: the event is unchanged"),
        row(Some(ToCome), Some(Cancelled), None, Send::Cancellation,
            "called off before it starts: the event leaves calendars"),
        row(Some(ToCome), Some(Absent), None, Send::Cancellation,
            "deleted before it starts: the event leaves calendars"),
        row(Some(ToCome), Some(Started), None, Send::Update,
            "moved to a time that has passed: calendars show when it was held, and nobody waits for it later"),
        row(Some(ToCome), Some(Concluded), None, Send::Nothing,
            "concluded before its start (the write rules refuse this): never a cancellation"),
        row(None, Some(ToCome), None, Send::Invitation,
            "planned, planned again after a cancellation, or moved from the past to a time to come"),
        row(Some(Started), Some(Concluded), None, Send::Nothing,
            "held and concluded: the event stays in calendars as it was"),
        row(Some(Started), Some(Cancelled), None, Send::Nothing,
            "called off after its start: the event is already in the past"),
        row(Some(Started), Some(Absent), None, Send::Nothing,
            "deleted after its start: the event is already in the past"),
        row(None, None, None, Send::Nothing,
            "anything else (history being recorded, a concluded or cancelled meeting edited): nothing to come changes"),
    ]
};

/// The row of [`MEETING_TRANSITIONS`] for a change from stage `before` to `after`.
pub fn meeting_transition(
    before: MeetingStage,
    after: MeetingStage,
    calendar_changed: bool,
) -> &'static MeetingTransition {
    MEETING_TRANSITIONS
        .iter()
        .find(|r| {
            r.before.is_none_or(|b| b == before)
                && r.after.is_none_or(|a| a == after)
                && r.calendar_changed.is_none_or(|c| c == calendar_changed)
        })
        .expect("the table's last row fits every change")
}

/// The row of [`MEETING_TRANSITIONS`] for saving `after` (`None`: deleted) over `before`
/// (`None`: new), judged at `now`.
pub fn transition_of(
    before: Option<&Meeting>,
    after: Option<&Meeting>,
    now: DateTime<Utc>,
) -> &'static MeetingTransition {
    let changed = match (before, after) {
        (Some(b), Some(a)) => calendar_changed(b, a),
        _ => false,
    };
    meeting_transition(
        MeetingStage::of(before, now),
        MeetingStage::of(after, now),
        changed,
    )
}

/// What saving a meeting (`after`; `None` when deleted) over `before` sends: the row of
/// [`MEETING_TRANSITIONS`] that fits, judged at `now`.
pub fn meeting_messages(
    meeting_id: Uuid,
    version: u64,
    before: Option<&Meeting>,
    after: Option<&Meeting>,
    to: &TeamMail<'_>,
    origin: &MailOrigin,
    now: DateTime<Utc>,
) -> Vec<Outgoing> {
    let change = MeetingChange {
        meeting_id,
        version,
        before,
        after,
    };
    calendar_messages(&change, to, origin, now, |meeting, about, person| {
        ics::meeting_invitation_ics(
            meeting,
            &meeting_uid(meeting_id),
            version as u32,
            about,
            person,
            now,
        )
    })
}

/// A meeting of a series, by the series and the occurrence's date under the rule.
#[derive(Debug, Clone, Copy)]
pub struct OccurrenceOf<'a> {
    pub series_id: Uuid,
    pub series: &'a Series,
    pub original: NaiveDate,
}

/// What saving one meeting of a series on its own (not with a change to the series) sends: the
/// same row of [`MEETING_TRANSITIONS`] as a meeting of its own (so concluding never cancels),
/// to the same people, its calendar file a change of that occurrence of the series' event (the
/// series' UID, the occurrence's original start as RECURRENCE-ID) with a SEQUENCE above the
/// series' that rises with each change of the meeting (the series' SEQUENCE plus the meeting's
/// version). A meeting the app makes for the series (none before), one the series skips, and
/// any of a cancelled series send nothing: the series' own event already says so.
#[allow(clippy::too_many_arguments)]
pub fn occurrence_messages(
    meeting_id: Uuid,
    version: u64,
    before: Option<&Meeting>,
    after: Option<&Meeting>,
    of: &OccurrenceOf<'_>,
    to: &TeamMail<'_>,
    origin: &MailOrigin,
    now: DateTime<Utc>,
) -> Vec<Outgoing> {
    if before.is_none() || of.series.planned_start(of.original).is_none() {
        return Vec::new();
    }
    let change = MeetingChange {
        meeting_id,
        version,
        before,
        after,
    };
    let sequence = of
        .series
        .sequence
        .saturating_add(u32::try_from(version).unwrap_or(u32::MAX));
    let original_start = of.series.original_start(of.original);
    calendar_messages(&change, to, origin, now, |meeting, about, person| {
        ics::occurrence_invitation_ics(
            meeting,
            &series_uid(of.series_id),
            original_start,
            sequence,
            about,
            person,
            now,
        )
    })
}

/// One saved change of a meeting: its id, new version, and how it was and is (`None`: new, or
/// deleted).
struct MeetingChange<'a> {
    meeting_id: Uuid,
    version: u64,
    before: Option<&'a Meeting>,
    after: Option<&'a Meeting>,
}

/// The messages of a meeting's change, by the row of [`MEETING_TRANSITIONS`] that fits, each
/// with the calendar file `calendar` writes for the meeting (as it now stands, or as called
/// off) and the recipient.
fn calendar_messages(
    change: &MeetingChange<'_>,
    to: &TeamMail<'_>,
    origin: &MailOrigin,
    now: DateTime<Utc>,
    calendar: impl Fn(&Meeting, &EventText<'_>, &Addressed<'_>) -> String,
) -> Vec<Outgoing> {
    let MeetingChange {
        meeting_id,
        version,
        before,
        after,
    } = *change;
    let transition = transition_of(before, after, now);
    let (kind, cause, meeting) = match (transition.sends, after, before) {
        (CalendarMessage::Nothing, _, _) => return Vec::new(),
        (CalendarMessage::Invitation | CalendarMessage::Update, Some(m), _) => {
            (MessageKind::Invitation, "invitation", m.clone())
        }
        (CalendarMessage::Cancellation, after, Some(b)) => {
            let cancelled = Meeting {
                status: MeetingStatus::Cancelled,
                ..after.cloned().unwrap_or_else(|| b.clone())
            };
            (MessageKind::Cancellation, "cancellation", cancelled)
        }
        // The table sends nothing else: an invitation needs the meeting, a cancellation what
        // was there before.
        _ => return Vec::new(),
    };
    let message = match kind {
        MessageKind::Invitation => mail::invitation(
            &to.team.name,
            meeting.starts_at,
            meeting.ends_at,
            &meeting.place,
            &format!("/meetings/{meeting_id}"),
            transition.sends == CalendarMessage::Update,
            &origin.links,
        ),
        _ => mail::cancellation(
            &to.team.name,
            meeting.starts_at,
            &to.team_path(),
            &origin.links,
        ),
    };
    let about = EventText {
        team_name: &to.team.name,
        place: &meeting.place,
        video_link: meeting.video_link.as_deref(),
    };
    let id = message_id(cause, meeting_id, version);
    // One-click answers work only until the meeting starts.
    let answerable = kind == MessageKind::Invitation && meeting.starts_at > now;
    to.invited(kind)
        .into_iter()
        .map(|(person_id, person)| Outgoing {
            message_id: id,
            email: person.email.clone(),
            message: message.clone(),
            calendar: Some(calendar(&meeting, &about, &addressed(to, origin, person))),
            answers: answerable.then_some(Answers::Meeting(AnswerRequest {
                meeting_id,
                person_id,
                until: meeting.starts_at,
            })),
        })
        .collect()
}

fn addressed<'a>(
    to: &'a TeamMail<'_>,
    origin: &'a MailOrigin,
    person: &'a Addressee,
) -> Addressed<'a> {
    Addressed {
        organizer_name: &to.team.name,
        organizer_email: &origin.from_address,
        attendee_name: &person.name,
        attendee_email: &person.email,
    }
}

/// What saving a series (`after`; `None` when deleted) over `before` sends: an invitation when
/// it is made, an update when its calendar changes (its SEQUENCE moves on), a cancellation when
/// it is cancelled or deleted.
pub fn series_messages(
    series_id: Uuid,
    version: u64,
    before: Option<&Series>,
    after: Option<&Series>,
    to: &TeamMail<'_>,
    origin: &MailOrigin,
    now: DateTime<Utc>,
) -> Vec<Outgoing> {
    let live = |s: &&Series| !s.cancelled;
    let (kind, cause, series, changed) = match (before.filter(live), after.filter(live)) {
        (None, Some(s)) => (MessageKind::Invitation, "invitation", s.clone(), false),
        (Some(b), Some(s)) if b != s => (MessageKind::Invitation, "invitation", s.clone(), true),
        (Some(b), None) => {
            let cancelled = Series {
                cancelled: true,
                ..after.cloned().unwrap_or_else(|| b.clone())
            };
            (MessageKind::Cancellation, "cancellation", cancelled, false)
        }
        _ => return Vec::new(),
    };
    let repeats = series.rule.describe();
    let message = match kind {
        MessageKind::Invitation => {
            let Some((starts, ends)) = first_meeting(&series) else {
                return Vec::new();
            };
            mail::series_invitation(
                &to.team.name,
                starts,
                ends,
                &repeats,
                &series.place,
                &to.team_path(),
                changed,
                &origin.links,
            )
        }
        _ => mail::series_cancellation(&to.team.name, &repeats, &to.team_path(), &origin.links),
    };
    let about = EventText {
        team_name: &to.team.name,
        place: &series.place,
        video_link: series.video_link.as_deref(),
    };
    let id = message_id(cause, series_id, version);
    let answerable = if kind == MessageKind::Invitation {
        next_meetings(&series, series_id, now)
    } else {
        Vec::new()
    };
    to.invited(kind)
        .into_iter()
        .map(|(person_id, person)| Outgoing {
            message_id: id,
            email: person.email.clone(),
            message: message.clone(),
            answers: (!answerable.is_empty()).then(|| {
                Answers::Series(
                    answerable
                        .iter()
                        .map(|(meeting_id, starts_at)| AnswerRequest {
                            meeting_id: *meeting_id,
                            person_id,
                            until: *starts_at,
                        })
                        .collect(),
                )
            }),
            calendar: Some(ics::series_invitation_ics(
                &series,
                &series_uid(series_id),
                &about,
                &addressed(to, origin, person),
                now,
            )),
        })
        .collect()
}

/// The series' next [`SERIES_ANSWERS`] meetings still to come at `now`: each meeting's id (the
/// same the app gives the meeting it makes for the occurrence) and start.
fn next_meetings(
    series: &Series,
    series_id: Uuid,
    now: DateTime<Utc>,
) -> Vec<(Uuid, DateTime<Utc>)> {
    let today = super::uk_time::uk_today(now);
    series
        .occurrences(today, today + chrono::Duration::days(400))
        .into_iter()
        .filter_map(|o| {
            let starts = super::uk_time::from_uk(o.starts).ok()?;
            (starts > now).then(|| (Series::meeting_id(series_id, o.original), starts))
        })
        .take(SERIES_ANSWERS)
        .collect()
}

/// The first meeting of a series, in UTC.
fn first_meeting(series: &Series) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let first = series
        .occurrences(
            series.first_date,
            series.first_date + chrono::Duration::days(400),
        )
        .into_iter()
        .next()?;
    let starts = super::uk_time::from_uk(first.starts).ok()?;
    Some((
        starts,
        starts + chrono::Duration::minutes(i64::from(series.minutes)),
    ))
}

/// Everything about one answer to a meeting that decides whether the coordinator hears of it.
#[derive(Debug, Clone, Copy)]
pub struct AnswerChange<'a> {
    /// The attendance record and its new version (the message's cause).
    pub attendance_id: Uuid,
    pub version: u64,
    pub meeting_id: Uuid,
    pub meeting: &'a Meeting,
    /// Everyone's role, for the quorum.
    pub roles: &'a HashMap<Uuid, Role>,
    /// The meeting's answers before and after the change.
    pub before: &'a [Attendance],
    pub after: &'a [Attendance],
}

/// To the coordinator, when an apology leaves a required role uncovered that was covered
/// before (a meeting still to come, not cancelled).
pub fn quorum_messages(
    change: &AnswerChange<'_>,
    to: &TeamMail<'_>,
    origin: &MailOrigin,
    now: DateTime<Utc>,
) -> Vec<Outgoing> {
    let meeting = change.meeting;
    if meeting.status != MeetingStatus::Planned || meeting.starts_at <= now {
        return Vec::new();
    }
    let apology = change
        .after
        .iter()
        .any(|a| a.status == AttendanceStatus::Apologies);
    let before = QuorumPanel::of(to.team, change.roles, change.before);
    let after = QuorumPanel::of(to.team, change.roles, change.after);
    if !apology || !before.met() || after.met() {
        return Vec::new();
    }
    let Some(coordinator) = to
        .people
        .get(&to.team.coordinator_id)
        .filter(|c| c.recipient.wants(MessageKind::QuorumLost))
    else {
        return Vec::new();
    };
    let missing: Vec<String> = after
        .roles
        .iter()
        .filter(|r| !r.met())
        .map(|r| {
            let short = r.needed - r.covered_by.len() as u32;
            if short == 1 {
                one_of(r.role)
            } else {
                format!("{short} more {}", r.role.plural())
            }
        })
        .collect();
    let message = mail::quorum_lost(
        &to.team.name,
        meeting.starts_at,
        &join_words(&missing),
        &format!("/meetings/{}", change.meeting_id),
        &origin.links,
    );
    vec![Outgoing {
        message_id: message_id("quorum-lost", change.attendance_id, change.version),
        email: coordinator.email.clone(),
        message,
        calendar: None,
        answers: None,
    }]
}

/// One person of `role` inside a sentence: "a GP", "an occupational therapist".
fn one_of(role: Role) -> String {
    match role {
        Role::Gp => "a GP".into(),
        Role::Other => "someone in another role".into(),
        _ => {
            let name = role.label().to_lowercase();
            let article = if name.starts_with(['a', 'e', 'i', 'o', 'u']) {
                "an"
            } else {
                "a"
            };
            format!("{article} {name}")
        }
    }
}

/// "a, b and c".
fn join_words(words: &[String]) -> String {
    match words {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// The kinds of message stored in the outbox, as text.
pub fn kind_name(kind: MessageKind) -> &'static str {
    match kind {
        MessageKind::Invitation => "invitation",
        MessageKind::Cancellation => "cancellation",
        MessageKind::BriefReminder => "brief_reminder",
        MessageKind::ActionsDigest => "actions_digest",
        MessageKind::Chase => "chase",
        MessageKind::QuorumLost => "quorum_lost",
    }
}

#[cfg(test)]
mod tests;
