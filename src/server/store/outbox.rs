//! The email outbox (issue 17): messages are written in the same transaction as the change that
//! causes them ([`enqueue_for_push`]), so a message exists exactly when its cause was committed,
//! and a crash never loses one. One server of a region sends them: it holds the `mail` lease
//! ([`take_lease`]), claims what is due ([`claim_due`], which also moves the row's next attempt
//! on, so a crash mid-send retries later rather than never), and marks each sent or failed.
//!
//! Each row is one message to one recipient (`message_id`, `recipient` is the key), so the same
//! cause looked at twice still sends once.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use uuid::Uuid;

use super::accounts::{set_setting, setting};
use super::db::{Db, Value};
use super::records::{json_err, records_by_id, team_records, team_records_with_version};
use crate::args;
use crate::core::action::Action;
use crate::core::agenda::AgendaItem;
use crate::core::attendance::{Attendance, AttendanceStatus};
use crate::core::brief::Brief;
use crate::core::directory::{Person, Role};
use crate::core::mail::{MailPreferences, Recipient};
use crate::core::meeting::{Meeting, MeetingStatus};
use crate::core::notify::{
    self, Addressee, AnswerChange, MailOrigin, OccurrenceOf, Outgoing, TeamMail,
};
use crate::core::record::EntityKind;
use crate::core::reminders::{self, REMIND_BEFORE};
use crate::core::series::Series;
use crate::core::sync::SyncRecord;
use crate::core::team::Team;
use crate::server::error::Error;

/// The lease that lets one server send the outbox.
pub const MAIL_LEASE: &str = "mail";

/// How long a sent message stays in the outbox.
pub const KEEP_SENT: Duration = Duration::days(90);

/// Writes messages to the outbox; a message already there for the same recipient is kept as it
/// is (sent once).
pub fn enqueue(db: &dyn Db, outgoing: &[Outgoing], now: DateTime<Utc>) -> Result<(), Error> {
    for o in outgoing {
        db.execute_later(
            "INSERT INTO outbox (message_id, recipient, kind, subject, body, calendar, created_at, next_attempt_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) ON CONFLICT DO NOTHING",
            args![
                o.message_id,
                o.email.as_str(),
                notify::kind_name(o.message.kind),
                o.message.subject.as_str(),
                o.message.body.as_str(),
                o.calendar.clone(),
                now
            ],
        )?;
    }
    Ok(())
}

/// The kinds of record whose changes may send a message.
pub fn may_send_mail(kind: EntityKind) -> bool {
    matches!(
        kind,
        EntityKind::Meeting | EntityKind::Series | EntityKind::Attendance
    )
}

/// Writes what a push's saved records send, comparing each with how it was stored before
/// (`before`: the stored records of those kinds, by id).
pub fn enqueue_for_push(
    db: &dyn Db,
    before: &HashMap<Uuid, SyncRecord>,
    saved: &[&SyncRecord],
    origin: &MailOrigin,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let typed = |r: Option<&SyncRecord>| r.filter(|r| !r.deleted).cloned();
    // Meetings of a series changed in this push are in the series' own calendar event (its
    // invitation or update says it all).
    let mut in_series: HashSet<Uuid> = HashSet::new();
    let mut outgoing = Vec::new();
    let mut teams = Teams::default();
    for after in saved.iter().filter(|r| r.entity == EntityKind::Series) {
        let was = typed(before.get(&after.id)).and_then(|r| r.typed::<Series>());
        let is = typed(Some(after)).and_then(|r| r.typed::<Series>());
        let Some(team_id) = is.as_ref().or(was.as_ref()).map(|s| s.team_id) else {
            continue;
        };
        for s in is.iter().chain(was.iter()) {
            in_series.extend(s.meeting_ids(after.id, now));
        }
        let Some(team) = teams.get(db, team_id)? else {
            continue;
        };
        outgoing.extend(notify::series_messages(
            after.id,
            after.version,
            was.as_ref(),
            is.as_ref(),
            &team.mail(team_id),
            origin,
            now,
        ));
    }
    for after in saved.iter().filter(|r| r.entity == EntityKind::Meeting) {
        let was = typed(before.get(&after.id)).and_then(|r| r.typed::<Meeting>());
        let is = typed(Some(after)).and_then(|r| r.typed::<Meeting>());
        let Some(team_id) = is.as_ref().or(was.as_ref()).map(|m| m.team_id) else {
            continue;
        };
        if in_series.contains(&after.id) {
            continue;
        }
        // A meeting of a series changed on its own changes that occurrence of the series'
        // event; any other meeting is an event of its own.
        let occurrence = teams.occurrence(db, team_id, after.id, now)?;
        let Some(team) = teams.get(db, team_id)? else {
            continue;
        };
        outgoing.extend(match &occurrence {
            Some((series_id, series, original)) => notify::occurrence_messages(
                after.id,
                after.version,
                was.as_ref(),
                is.as_ref(),
                &OccurrenceOf {
                    series_id: *series_id,
                    series,
                    original: *original,
                },
                &team.mail(team_id),
                origin,
                now,
            ),
            None => notify::meeting_messages(
                after.id,
                after.version,
                was.as_ref(),
                is.as_ref(),
                &team.mail(team_id),
                origin,
                now,
            ),
        });
    }
    // Each meeting's answers as saved, read once per push.
    let mut answers: HashMap<Uuid, Vec<Attendance>> = HashMap::new();
    for after in saved
        .iter()
        .filter(|r| r.entity == EntityKind::Attendance && !r.deleted)
    {
        let Some(answer) = after.typed::<Attendance>() else {
            continue;
        };
        let was = typed(before.get(&after.id)).and_then(|r| r.typed::<Attendance>());
        // Only an apology, or a change to one (its deputy), can lose the quorum: the common
        // answers (attending, recorded attendance after the meeting) read nothing more.
        if answer.status != AttendanceStatus::Apologies || was.as_ref() == Some(&answer) {
            continue;
        }
        let Some(meeting) = records_by_id::<Meeting>(db, [answer.meeting_id])?
            .remove(&answer.meeting_id)
            .filter(|m| m.status == MeetingStatus::Planned && m.starts_at > now)
        else {
            continue;
        };
        let Some(team) = teams.get(db, answer.team_id)? else {
            continue;
        };
        let now_answers = match answers.entry(answer.meeting_id) {
            Entry::Occupied(found) => found.into_mut(),
            Entry::Vacant(slot) => slot.insert(
                team_records::<Attendance>(db, answer.team_id)?
                    .into_iter()
                    .map(|(_, a)| a)
                    .filter(|a| a.meeting_id == answer.meeting_id)
                    .collect::<Vec<_>>(),
            ),
        };
        let then_answers: Vec<Attendance> = now_answers
            .iter()
            .filter(|a| a.person_id != answer.person_id)
            .cloned()
            .chain(was)
            .collect();
        let change = AnswerChange {
            attendance_id: after.id,
            version: after.version,
            meeting_id: answer.meeting_id,
            meeting: &meeting,
            roles: &team.roles,
            before: &then_answers,
            after: now_answers,
        };
        outgoing.extend(notify::quorum_messages(
            &change,
            &team.mail(answer.team_id),
            origin,
            now,
        ));
    }
    super::answer_links::add_to(db, &origin.links.base_url, &mut outgoing)?;
    enqueue(db, &outgoing, now)
}

/// Writes the messages time sends (brief reminders in the day before a cut-off, the weekly
/// digest of actions), each once: looking again at the same moment, or a minute later, finds
/// them already in the outbox. Run by the server holding the mail lease.
pub fn enqueue_scheduled(
    db: &dyn Db,
    origin: &MailOrigin,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    // Sent messages are kept a while (to answer "was it sent?"), then go; waiting ones stay.
    db.execute(
        "DELETE FROM outbox WHERE sent_at IS NOT NULL AND sent_at < $1",
        args![now - KEEP_SENT],
    )?;
    let mut outgoing = Vec::new();
    let mut teams = Teams::default();
    // Meetings whose brief reminders may be due: planned, starting within the longest cut-off
    // and reminder window the rules allow.
    let horizon =
        now + REMIND_BEFORE + Duration::hours(i64::from(crate::core::team::MAX_CUTOFF_HOURS));
    let starts = db.engine().json_text("body", &["fields", "starts_at"]);
    let rows = db.query(
        &format!(
            "SELECT body FROM records WHERE entity = 'meeting' AND {starts} > $1 AND {starts} < $2"
        ),
        // Stored as RFC 3339 in UTC, so the text compares as the time (the bounds are
        // coarse; each meeting is checked again below).
        args![
            now.format("%Y-%m-%dT%H:%M:%S").to_string(),
            horizon.format("%Y-%m-%dT%H:%M:%S").to_string()
        ],
    )?;
    for row in rows {
        let record: SyncRecord = serde_json::from_str(&row.text(0)?).map_err(json_err)?;
        let Some(meeting) = record.typed::<Meeting>().filter(|_| !record.deleted) else {
            continue;
        };
        if meeting.starts_at <= now {
            continue;
        }
        let Some(team) = teams.get(db, meeting.team_id)? else {
            continue;
        };
        let items: Vec<(Uuid, AgendaItem)> = team_records::<AgendaItem>(db, meeting.team_id)?
            .into_iter()
            .filter(|(_, i)| i.meeting_id == record.id)
            .collect();
        if items.is_empty() {
            continue;
        }
        let briefs: Vec<(Uuid, u64, Brief)> =
            team_records_with_version::<Brief>(db, meeting.team_id)?;
        outgoing.extend(reminders::brief_reminders(
            record.id,
            &meeting,
            &team.mail(meeting.team_id),
            &items,
            &briefs,
            origin,
            now,
        ));
    }
    // The weekly digest: each team once a week, when first looked at that week (a setting per
    // team notes the week done, so later looks skip it).
    if let Some(week) = reminders::digest_week(now) {
        let week = week.to_string();
        for team_id in live_teams(db)? {
            let done_key = format!("actions_digest:{team_id}");
            if setting(db, &done_key)?.as_deref() == Some(week.as_str()) {
                continue;
            }
            if let Some(team) = teams.get(db, team_id)? {
                let actions: Vec<Action> = team_records::<Action>(db, team_id)?
                    .into_iter()
                    .map(|(_, a)| a)
                    .collect();
                outgoing.extend(reminders::actions_digests(
                    &team.mail(team_id),
                    &actions,
                    origin,
                    now,
                ));
            }
            set_setting(db, &done_key, &week)?;
        }
    }
    enqueue(db, &outgoing, now)
}

/// The ids of every team.
fn live_teams(db: &dyn Db) -> Result<Vec<Uuid>, Error> {
    db.query("SELECT id FROM records WHERE entity = 'team'", &[])?
        .iter()
        .map(|r| r.uuid(0))
        .collect()
}

/// The message a coordinator's chase sends, written to the outbox; `Ok(None)` when the same
/// thing was chased already today (the earlier message, when it was written).
pub fn enqueue_chase(
    db: &dyn Db,
    outgoing: &Outgoing,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, Error> {
    let earlier = db.query_opt(
        "SELECT created_at FROM outbox WHERE message_id = $1 AND recipient = $2",
        args![outgoing.message_id, outgoing.email.as_str()],
    )?;
    if let Some(row) = earlier {
        return Ok(Some(row.time(0)?));
    }
    enqueue(db, std::slice::from_ref(outgoing), now)?;
    Ok(None)
}

/// The people a team's messages may go to (for the chase).
pub fn team_mail_facts(db: &dyn Db, team_id: Uuid) -> Result<Option<TeamFacts>, Error> {
    team_facts(db, team_id)
}

/// A team and the people its messages go to, read once per push.
pub struct TeamFacts {
    pub team: Team,
    pub people: HashMap<Uuid, Addressee>,
    pub roles: HashMap<Uuid, Role>,
}

impl TeamFacts {
    /// The team's messages' view of it.
    pub fn mail(&self, team_id: Uuid) -> TeamMail<'_> {
        TeamMail {
            team_id,
            team: &self.team,
            people: &self.people,
        }
    }
}

#[derive(Default)]
struct Teams {
    facts: HashMap<Uuid, Option<TeamFacts>>,
    /// Each team's series, and which series and occurrence each of their meetings is.
    series_meetings: HashMap<Uuid, SeriesMeetings>,
}

/// A team's series by id, and each meeting they may have made: its series and its date under
/// the rule.
#[derive(Default)]
struct SeriesMeetings {
    series: HashMap<Uuid, Series>,
    meetings: HashMap<Uuid, (Uuid, NaiveDate)>,
}

impl Teams {
    fn get(&mut self, db: &dyn Db, team_id: Uuid) -> Result<Option<&TeamFacts>, Error> {
        if let Entry::Vacant(slot) = self.facts.entry(team_id) {
            slot.insert(team_facts(db, team_id)?);
        }
        Ok(self.facts.get(&team_id).and_then(Option::as_ref))
    }

    /// The series of the team that `meeting` is one of, and which occurrence (its calendar
    /// event is that occurrence of the series' event); `None` for a meeting of its own.
    fn occurrence(
        &mut self,
        db: &dyn Db,
        team_id: Uuid,
        meeting: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Option<(Uuid, Series, NaiveDate)>, Error> {
        if let Entry::Vacant(slot) = self.series_meetings.entry(team_id) {
            let mut found = SeriesMeetings::default();
            for (series_id, series) in team_records::<Series>(db, team_id)? {
                for (id, original) in series.meeting_dates(series_id, now) {
                    found.meetings.insert(id, (series_id, original));
                }
                found.series.insert(series_id, series);
            }
            slot.insert(found);
        }
        let known = &self.series_meetings[&team_id];
        Ok(known
            .meetings
            .get(&meeting)
            .and_then(|(series_id, original)| {
                known
                    .series
                    .get(series_id)
                    .map(|s| (*series_id, s.clone(), *original))
            }))
    }
}

/// The team, its people's addresses and choices, and their roles (for the quorum).
fn team_facts(db: &dyn Db, team_id: Uuid) -> Result<Option<TeamFacts>, Error> {
    let Some(team) = records_by_id::<Team>(db, [team_id])?.remove(&team_id) else {
        return Ok(None);
    };
    if team.archived {
        return Ok(None);
    }
    let everyone: Vec<Uuid> = std::iter::once(team.coordinator_id)
        .chain(team.member_ids.iter().copied())
        .chain(team.observer_ids.iter().copied())
        .collect();
    let persons = records_by_id::<Person>(db, everyone.iter().copied())?;
    let choices = preferences_of(db, &everyone)?;
    let mut people = HashMap::new();
    let mut roles = HashMap::new();
    for (id, person) in persons {
        roles.insert(id, person.role);
        let Some(email) = person.email.clone().filter(|e| !e.trim().is_empty()) else {
            continue;
        };
        let recipient = match choices.get(&id) {
            Some(preferences) => Recipient::Account(*preferences),
            None => Recipient::NoAccount {
                invitations_on: team.email_people_without_accounts,
            },
        };
        people.insert(
            id,
            Addressee {
                name: person.name.clone(),
                email: email.trim().to_owned(),
                recipient,
            },
        );
    }
    Ok(Some(TeamFacts {
        team,
        people,
        roles,
    }))
}

/// The choices of the people among `persons` who have an account that is not disabled (the
/// default choices for those who never changed them).
fn preferences_of(db: &dyn Db, persons: &[Uuid]) -> Result<HashMap<Uuid, MailPreferences>, Error> {
    let mut out = HashMap::new();
    for person in persons {
        let Some(row) = db.query_opt(
            "SELECT p.preferences FROM users u LEFT JOIN mail_preferences p ON p.user_id = u.id \
             WHERE u.person_id = $1 AND u.disabled = 0",
            args![person],
        )?
        else {
            continue;
        };
        let preferences = match row.opt_text(0)? {
            Some(json) => serde_json::from_str(&json).map_err(json_err)?,
            None => MailPreferences::default(),
        };
        out.insert(*person, preferences);
    }
    Ok(out)
}

/// Takes (or keeps) the lease `name` for `holder` until `now + ttl`, when nobody holds it, it
/// has run out, or `holder` has it already. True when `holder` has it.
pub fn take_lease(
    db: &dyn Db,
    name: &str,
    holder: &str,
    now: DateTime<Utc>,
    ttl: Duration,
) -> Result<bool, Error> {
    let changed = db.execute(
        "INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3) \
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
         WHERE leases.holder = excluded.holder OR leases.expires_at < $4",
        args![name, holder, now + ttl, now],
    )?;
    Ok(changed == 1)
}

/// Lets the lease go (a server shutting down), so another server takes over at once.
pub fn release_lease(db: &dyn Db, name: &str, holder: &str) -> Result<(), Error> {
    db.execute(
        "DELETE FROM leases WHERE name = $1 AND holder = $2",
        args![name, holder],
    )?;
    Ok(())
}

/// One message to one recipient, claimed for sending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    pub message_id: Uuid,
    pub recipient: String,
    pub kind: String,
    pub subject: String,
    pub body: String,
    pub calendar: Option<String>,
    /// Attempts before this one.
    pub attempts: u32,
}

/// Claims up to `limit` messages due by `now` for `holder`, if it still holds the mail lease:
/// each is counted as attempted and its next attempt set to `retry_at(attempts)`, so if the
/// sender dies mid-send it is sent again after that, and no other server takes it meanwhile.
pub fn claim_due(
    db: &dyn Db,
    holder: &str,
    now: DateTime<Utc>,
    limit: usize,
    retry_at: impl Fn(u32) -> DateTime<Utc>,
) -> Result<Vec<Due>, Error> {
    let holds = db.exists(
        "SELECT EXISTS (SELECT 1 FROM leases WHERE name = $1 AND holder = $2 AND expires_at > $3)",
        args![MAIL_LEASE, holder, now],
    )?;
    if !holds {
        return Ok(Vec::new());
    }
    let rows = db.query(
        "SELECT message_id, recipient, kind, subject, body, calendar, attempts FROM outbox \
         WHERE sent_at IS NULL AND given_up_at IS NULL AND next_attempt_at <= $1 \
         ORDER BY next_attempt_at, created_at LIMIT $2",
        args![now, limit as i64],
    )?;
    let mut due = Vec::with_capacity(rows.len());
    for row in rows {
        let message = Due {
            message_id: row.uuid(0)?,
            recipient: row.text(1)?,
            kind: row.text(2)?,
            subject: row.text(3)?,
            body: row.text(4)?,
            calendar: row.opt_text(5)?,
            attempts: row.int(6)?.clamp(0, i64::from(u32::MAX)) as u32,
        };
        db.execute(
            "UPDATE outbox SET attempts = attempts + 1, sending_since = $1, next_attempt_at = $2 \
             WHERE message_id = $3 AND recipient = $4",
            args![
                now,
                retry_at(message.attempts + 1),
                message.message_id,
                message.recipient.as_str()
            ],
        )?;
        due.push(message);
    }
    Ok(due)
}

/// The SMTP server took the message.
pub fn mark_sent(
    db: &dyn Db,
    message_id: Uuid,
    recipient: &str,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    db.execute(
        "UPDATE outbox SET sent_at = $1, sending_since = NULL, last_error = NULL \
         WHERE message_id = $2 AND recipient = $3",
        args![now, message_id, recipient],
    )?;
    Ok(())
}

/// Sending failed: the message waits for its next attempt (set when it was claimed), or, when
/// the SMTP server refused it for good (an address that does not exist), is given up and kept
/// with the reason for the site administrator.
pub fn mark_failed(
    db: &dyn Db,
    message_id: Uuid,
    recipient: &str,
    error: &str,
    give_up: bool,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    db.execute(
        "UPDATE outbox SET sending_since = NULL, last_error = $1, given_up_at = $2 \
         WHERE message_id = $3 AND recipient = $4",
        args![
            error.chars().take(500).collect::<String>(),
            give_up.then_some(now),
            message_id,
            recipient
        ],
    )?;
    Ok(())
}

/// How the outbox stands: waiting, sent, given up (for the health check and the tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct OutboxCounts {
    pub waiting: u64,
    pub sent: u64,
    pub given_up: u64,
}

/// What an operator watches of the outbox: messages waiting, given up, and how long the
/// oldest waiting one has waited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WaitingSummary {
    pub waiting: u64,
    pub given_up: u64,
    /// Seconds since the oldest waiting message was written (0 when none waits).
    pub oldest_waiting_seconds: i64,
}

/// The outbox as an operator watches it, at `now`.
pub fn waiting_summary(db: &dyn Db, now: DateTime<Utc>) -> Result<WaitingSummary, Error> {
    let counted = counts(db)?;
    let oldest = db
        .query_one(
            "SELECT MIN(created_at) FROM outbox WHERE sent_at IS NULL AND given_up_at IS NULL",
            &[] as &[Value],
        )?
        .opt_time(0)?;
    Ok(WaitingSummary {
        waiting: counted.waiting,
        given_up: counted.given_up,
        oldest_waiting_seconds: oldest.map_or(0, |t| (now - t).num_seconds().max(0)),
    })
}

/// Counts the outbox's messages by state.
pub fn counts(db: &dyn Db) -> Result<OutboxCounts, Error> {
    let row = db.query_one(
        "SELECT \
         COALESCE(SUM(CASE WHEN sent_at IS NULL AND given_up_at IS NULL THEN 1 ELSE 0 END), 0), \
         COALESCE(SUM(CASE WHEN sent_at IS NOT NULL THEN 1 ELSE 0 END), 0), \
         COALESCE(SUM(CASE WHEN given_up_at IS NOT NULL THEN 1 ELSE 0 END), 0) FROM outbox",
        &[] as &[Value],
    )?;
    Ok(OutboxCounts {
        waiting: row.int(0)? as u64,
        sent: row.int(1)? as u64,
        given_up: row.int(2)? as u64,
    })
}
