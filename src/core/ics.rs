//! Calendar files (RFC 5545) for meeting series and single meetings.
//!
//! Only the team's name, the place and the video link go into a calendar file: never a patient
//! name, NHS number or brief text, because calendars are synced to phones and shared widely.
//! Times are written in Europe/London with a VTIMEZONE, so a series stays at the same UK
//! wall-clock time across the clock changes.

use chrono::{DateTime, NaiveDateTime, Utc};

use super::meeting::{Meeting, MeetingStatus};
use super::series::{Series, SeriesException};
use super::uk_time;

const VTIMEZONE: [&str; 18] = [
    "BEGIN:VTIMEZONE",
    "TZID:Europe/London",
    "BEGIN:DAYLIGHT",
    "TZOFFSETFROM:+0000",
    "TZOFFSETTO:+0100",
    "TZNAME:BST",
    "DTSTART:19700329T010000",
    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
    "END:DAYLIGHT",
    "BEGIN:STANDARD",
    "TZOFFSETFROM:+0100",
    "TZOFFSETTO:+0000",
    "TZNAME:GMT",
    "DTSTART:19701025T020000",
    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
    "END:STANDARD",
    "END:VTIMEZONE",
    "",
];

/// Escapes a TEXT value (RFC 5545 §3.3.11).
fn text(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace(';', "\\;")
        .replace(',', "\\,")
        .replace("\r\n", "\\n")
        .replace('\n', "\\n")
}

/// Folds a content line at 75 octets (continuation lines start with one space) and ends it
/// with CRLF, never splitting a UTF-8 character.
fn fold(line: &str, out: &mut String) {
    let mut width = 0;
    for c in line.chars() {
        let len = c.len_utf8();
        if width + len > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += len;
    }
    out.push_str("\r\n");
}

fn local(at: NaiveDateTime) -> String {
    at.format("%Y%m%dT%H%M%S").to_string()
}

fn utc(at: DateTime<Utc>) -> String {
    at.format("%Y%m%dT%H%M%SZ").to_string()
}

/// What a calendar event says: the team and where, never patients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventText<'a> {
    pub team_name: &'a str,
    pub place: &'a str,
    pub video_link: Option<&'a str>,
}

fn event_lines(lines: &mut Vec<String>, about: &EventText<'_>) {
    lines.push(format!(
        "SUMMARY:{}",
        text(&format!(
            "{} MDT meeting",
            about.team_name.trim_end_matches(" MDT")
        ))
    ));
    if !about.place.is_empty() {
        lines.push(format!("LOCATION:{}", text(about.place)));
    }
    if let Some(link) = about.video_link.filter(|l| !l.is_empty()) {
        lines.push(format!("URL:{link}"));
        lines.push(format!(
            "DESCRIPTION:{}",
            text(&format!("Join by video: {link}"))
        ));
    }
}

fn calendar(method: &str, events: Vec<Vec<String>>) -> String {
    let mut lines: Vec<String> = vec![
        "BEGIN:VCALENDAR".into(),
        "VERSION:2.0".into(),
        "PRODID:-//MDT coordination//EN".into(),
        "CALSCALE:GREGORIAN".into(),
        format!("METHOD:{method}"),
    ];
    lines.extend(
        VTIMEZONE
            .iter()
            .filter(|l| !l.is_empty())
            .map(|l| (*l).to_string()),
    );
    for event in events {
        lines.extend(event);
    }
    lines.push("END:VCALENDAR".into());
    let mut out = String::new();
    for line in lines {
        fold(&line, &mut out);
    }
    out
}

/// The calendar file of a whole series: one VEVENT with the RRULE, EXDATEs for skipped and
/// moved occurrences, and an override VEVENT for each moved one.
pub fn series_ics(series: &Series, uid: &str, about: &EventText<'_>, now: DateTime<Utc>) -> String {
    let method = if series.cancelled {
        "CANCEL"
    } else {
        "PUBLISH"
    };
    calendar(method, series_events(series, uid, about, now))
}

/// A whole series as an emailed invitation (METHOD:REQUEST, or CANCEL when it is cancelled):
/// the same UID and SEQUENCE as [`series_ics`], so calendar programs update the one event.
pub fn series_invitation_ics(
    series: &Series,
    uid: &str,
    about: &EventText<'_>,
    to: &Addressed<'_>,
    now: DateTime<Utc>,
) -> String {
    let method = if series.cancelled {
        "CANCEL"
    } else {
        "REQUEST"
    };
    calendar(method, to.sign(series_events(series, uid, about, now)))
}

fn series_events(
    series: &Series,
    uid: &str,
    about: &EventText<'_>,
    now: DateTime<Utc>,
) -> Vec<Vec<String>> {
    let start = series.first_date.and_time(series.starts);
    let end = start + chrono::Duration::minutes(i64::from(series.minutes));
    let mut main = vec![
        "BEGIN:VEVENT".to_string(),
        format!("UID:{uid}"),
        format!("DTSTAMP:{}", utc(now)),
        format!("SEQUENCE:{}", series.sequence),
        format!("DTSTART;TZID=Europe/London:{}", local(start)),
        format!("DTEND;TZID=Europe/London:{}", local(end)),
    ];
    let mut rrule = series.rule.rrule();
    if let Some(until) = series.until {
        // UNTIL in UTC at the end of that UK day.
        let last =
            uk_time::from_uk(until.and_hms_opt(23, 59, 59).unwrap_or_default()).unwrap_or(now);
        rrule.push_str(&format!(";UNTIL={}", utc(last)));
    }
    main.push(format!("RRULE:{rrule}"));
    let skipped: Vec<&SeriesException> = series
        .exceptions
        .iter()
        .filter(|e| e.moved_to.is_none())
        .collect();
    if !skipped.is_empty() {
        let dates: Vec<String> = skipped
            .iter()
            .map(|e| local(series.original_start(e.date)))
            .collect();
        main.push(format!("EXDATE;TZID=Europe/London:{}", dates.join(",")));
    }
    if series.cancelled {
        main.push("STATUS:CANCELLED".into());
    }
    event_lines(&mut main, about);
    main.push("END:VEVENT".into());
    let mut events = vec![main];
    for (date, to) in series
        .exceptions
        .iter()
        .filter_map(|e| e.moved_to.map(|to| (e.date, to)))
    {
        events.push(event(
            &EventParts {
                uid,
                sequence: series.sequence,
                recurrence_id: Some(series.original_start(date)),
                starts: to,
                ends: to + chrono::Duration::minutes(i64::from(series.minutes)),
                cancelled: false,
            },
            about,
            now,
        ));
    }
    events
}

/// One meeting of a series changed on its own (moved, given another place, or called off), as
/// an emailed invitation: an override of the series' event, with the series' UID, the
/// occurrence's original start (`original_start`, UK time) as RECURRENCE-ID and a SEQUENCE of
/// its own, so calendar programs change that one occurrence and leave the rest of the series
/// as it is. METHOD:CANCEL with STATUS:CANCELLED when the meeting is called off.
pub fn occurrence_invitation_ics(
    meeting: &Meeting,
    series_uid: &str,
    original_start: NaiveDateTime,
    sequence: u32,
    about: &EventText<'_>,
    to: &Addressed<'_>,
    now: DateTime<Utc>,
) -> String {
    let cancelled = meeting.status == MeetingStatus::Cancelled;
    let method = if cancelled { "CANCEL" } else { "REQUEST" };
    let parts = EventParts {
        recurrence_id: Some(original_start),
        ..EventParts::of(meeting, series_uid, sequence)
    };
    calendar(method, to.sign(vec![event(&parts, about, now)]))
}

/// The calendar file of one meeting (METHOD:CANCEL when it is cancelled).
pub fn meeting_ics(
    meeting: &Meeting,
    uid: &str,
    sequence: u32,
    about: &EventText<'_>,
    now: DateTime<Utc>,
) -> String {
    let cancelled = meeting.status == MeetingStatus::Cancelled;
    let method = if cancelled { "CANCEL" } else { "PUBLISH" };
    calendar(
        method,
        vec![meeting_event(meeting, uid, sequence, about, now)],
    )
}

/// One meeting as an emailed invitation (METHOD:REQUEST, or CANCEL when it is cancelled): the
/// same UID and SEQUENCE as [`meeting_ics`], so calendar programs update or remove the one
/// event the download or an earlier email put there.
pub fn meeting_invitation_ics(
    meeting: &Meeting,
    uid: &str,
    sequence: u32,
    about: &EventText<'_>,
    to: &Addressed<'_>,
    now: DateTime<Utc>,
) -> String {
    let method = if meeting.status == MeetingStatus::Cancelled {
        "CANCEL"
    } else {
        "REQUEST"
    };
    calendar(
        method,
        to.sign(vec![meeting_event(meeting, uid, sequence, about, now)]),
    )
}

/// Who an emailed calendar file is from and to: an invitation (RFC 5546) names its organizer
/// and the attendee. Answers go through the app, so no reply is asked of the calendar program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addressed<'a> {
    /// The team's name, shown as the organizer.
    pub organizer_name: &'a str,
    /// The address the server sends from.
    pub organizer_email: &'a str,
    pub attendee_name: &'a str,
    pub attendee_email: &'a str,
}

/// A parameter value (CN) quoted, without the characters a quoted value may not hold.
fn param(value: &str) -> String {
    let clean: String = value
        .chars()
        .filter(|c| *c != '"' && !c.is_control())
        .collect();
    format!("\"{clean}\"")
}

/// An address for a `mailto:` value: control characters and spaces never reach the file.
fn address(value: &str) -> String {
    value
        .chars()
        .filter(|c| !c.is_control() && !c.is_whitespace())
        .collect()
}

impl Addressed<'_> {
    /// Adds ORGANIZER and ATTENDEE to every event.
    fn sign(&self, mut events: Vec<Vec<String>>) -> Vec<Vec<String>> {
        for event in &mut events {
            let end = event.len().saturating_sub(1);
            event.insert(
                end,
                format!(
                    "ORGANIZER;CN={}:mailto:{}",
                    param(self.organizer_name),
                    address(self.organizer_email)
                ),
            );
            event.insert(
                end + 1,
                format!(
                    "ATTENDEE;CN={};ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=FALSE:mailto:{}",
                    param(self.attendee_name),
                    address(self.attendee_email)
                ),
            );
        }
        events
    }
}

fn meeting_event(
    meeting: &Meeting,
    uid: &str,
    sequence: u32,
    about: &EventText<'_>,
    now: DateTime<Utc>,
) -> Vec<String> {
    event(&EventParts::of(meeting, uid, sequence), about, now)
}

/// What one VEVENT (other than a series' main one) is: which event and which version of it,
/// for one occurrence of a series the original start it replaces, and when, in UK time.
struct EventParts<'a> {
    uid: &'a str,
    sequence: u32,
    /// The occurrence of a series this event overrides (RECURRENCE-ID), by its original start.
    recurrence_id: Option<NaiveDateTime>,
    starts: NaiveDateTime,
    ends: NaiveDateTime,
    cancelled: bool,
}

impl<'a> EventParts<'a> {
    /// A meeting as an event of its own.
    fn of(meeting: &Meeting, uid: &'a str, sequence: u32) -> Self {
        Self {
            uid,
            sequence,
            recurrence_id: None,
            starts: uk_time::to_uk(meeting.starts_at),
            ends: uk_time::to_uk(meeting.ends_at),
            cancelled: meeting.status == MeetingStatus::Cancelled,
        }
    }
}

/// One VEVENT: a meeting, or one occurrence of a series (moved by the series, or changed on its
/// own).
fn event(parts: &EventParts<'_>, about: &EventText<'_>, now: DateTime<Utc>) -> Vec<String> {
    let mut event = vec![
        "BEGIN:VEVENT".to_string(),
        format!("UID:{}", parts.uid),
        format!("DTSTAMP:{}", utc(now)),
        format!("SEQUENCE:{}", parts.sequence),
    ];
    if let Some(original) = parts.recurrence_id {
        event.push(format!(
            "RECURRENCE-ID;TZID=Europe/London:{}",
            local(original)
        ));
    }
    event.push(format!(
        "DTSTART;TZID=Europe/London:{}",
        local(parts.starts)
    ));
    event.push(format!("DTEND;TZID=Europe/London:{}", local(parts.ends)));
    if parts.cancelled {
        event.push("STATUS:CANCELLED".into());
    }
    event_lines(&mut event, about);
    event.push("END:VEVENT".into());
    event
}

#[cfg(test)]
pub(crate) mod tests;
