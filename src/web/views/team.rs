//! A team as its pages show it: the teams list with each team's next meeting, a team's
//! meetings and series, and attendance by role over the meetings held.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use uuid::Uuid;

use crate::core::action::{Action, ActionStatus};
use crate::core::attendance::{attendance_by_role, attendance_recorded, Attendance};
use crate::core::entities::{Meeting, MeetingStatus, Person, Team};
use crate::core::schedule::{Booked, Candidate, PersonAvailability};
use crate::core::series::Series;
use crate::core::sync::{LocalView, Replica};
use crate::core::uk_time;

/// One line of the teams list.
#[derive(Debug, Clone, PartialEq)]
pub struct TeamSummary {
    pub id: Uuid,
    pub team: Team,
    /// When its next planned meeting starts, if one is planned.
    pub next_meeting: Option<DateTime<Utc>>,
    /// Actions declined by their owner, waiting for the coordinator to reassign or cancel.
    pub declined: usize,
}

impl TeamSummary {
    /// Every team on the device, sorted by name (case-insensitive).
    pub fn list(replica: &Replica, now: DateTime<Utc>) -> Vec<Self> {
        let meetings = replica.entities::<Meeting>();
        let actions = replica.entities::<Action>();
        let mut teams: Vec<Self> = replica
            .entities::<Team>()
            .into_iter()
            .map(|(id, team)| Self {
                id,
                next_meeting: meetings
                    .iter()
                    .filter(|(_, m)| {
                        m.team_id == id && m.status == MeetingStatus::Planned && m.ends_at > now
                    })
                    .map(|(_, m)| m.starts_at)
                    .min(),
                declined: actions
                    .iter()
                    .filter(|(_, a)| a.team_id == id && a.status == ActionStatus::Declined)
                    .count(),
                team,
            })
            .collect();
        teams.sort_by_cached_key(|t| t.team.name.to_lowercase());
        teams
    }
}

/// A team's meetings, earliest first, each with its view (to say which are not sent yet).
pub fn meetings_of(replica: &Replica, team_id: Uuid) -> Vec<(LocalView, Meeting)> {
    let mut list: Vec<(LocalView, Meeting)> = replica
        .all::<Meeting>()
        .into_iter()
        .filter(|(_, m)| m.team_id == team_id)
        .collect();
    list.sort_by_key(|(_, m)| m.starts_at);
    list
}

/// One of a team's meetings, with what the device knows of its sending.
pub type TeamMeeting = (LocalView, Meeting);

/// A team's meetings split for its page: those of today (UK date) and to come first, in date
/// order, so what is next leads; then those of earlier days, newest first, kept as its record.
pub fn coming_and_past(
    meetings: Vec<TeamMeeting>,
    now: DateTime<Utc>,
) -> (Vec<TeamMeeting>, Vec<TeamMeeting>) {
    let today = uk_time::uk_today(now);
    let (coming, mut past): (Vec<_>, Vec<_>) = meetings
        .into_iter()
        .partition(|(_, m)| uk_time::uk_today(m.ends_at) >= today);
    past.reverse();
    (coming, past)
}

/// The times the team already meets from `from` to `until` (UK dates), for the slot finder to
/// keep clear: its planned meetings and the occurrences of its series (also those further
/// ahead than the meetings a series puts in the calendar straight away).
pub fn booked_times(
    replica: &Replica,
    team_id: Uuid,
    from: NaiveDate,
    until: NaiveDate,
) -> Vec<Booked> {
    let meetings = meetings_of(replica, team_id)
        .into_iter()
        .filter(|(_, m)| m.status == MeetingStatus::Planned)
        .map(|(_, m)| {
            let (starts, ends) = (uk_time::to_uk(m.starts_at), uk_time::to_uk(m.ends_at));
            Booked {
                date: starts.date(),
                starts: starts.time(),
                // A meeting past midnight blocks the rest of its first day.
                ends: if ends.date() == starts.date() {
                    ends.time()
                } else {
                    end_of_day()
                },
            }
        });
    let series = series_of(replica, team_id).into_iter().flat_map(|(_, s)| {
        s.occurrences(from, until).into_iter().map(move |o| {
            let (ends, past_midnight) = o
                .starts
                .time()
                .overflowing_add_signed(Duration::minutes(i64::from(s.minutes)));
            Booked {
                date: o.starts.date(),
                starts: o.starts.time(),
                ends: if past_midnight == 0 {
                    ends
                } else {
                    end_of_day()
                },
            }
        })
    });
    let mut booked: Vec<Booked> = meetings
        .chain(series)
        .filter(|b| from <= b.date && b.date <= until)
        .collect();
    booked.sort_by_key(|b| (b.date, b.starts));
    booked.dedup();
    booked
}

fn end_of_day() -> chrono::NaiveTime {
    chrono::NaiveTime::from_hms_opt(23, 59, 59).unwrap_or_default()
}

/// A team's series that are not cancelled, by first date.
pub fn series_of(replica: &Replica, team_id: Uuid) -> Vec<(Uuid, Series)> {
    let mut list: Vec<(Uuid, Series)> = replica
        .entities::<Series>()
        .into_iter()
        .filter(|(_, s)| s.team_id == team_id && !s.cancelled)
        .collect();
    list.sort_by_key(|(_, s)| s.first_date);
    list
}

/// A month of the team's meetings for the calendar page (series marked, bank holidays shown).
pub fn month_of(
    replica: &Replica,
    team_id: Uuid,
    month: NaiveDate,
    holidays: &crate::core::calendar::BankHolidays,
    today: NaiveDate,
) -> crate::core::month::MonthGrid {
    let meetings: Vec<(Uuid, Meeting)> = replica
        .entities::<Meeting>()
        .into_iter()
        .filter(|(_, m)| m.team_id == team_id)
        .collect();
    let series: Vec<(Uuid, Series)> = replica
        .entities::<Series>()
        .into_iter()
        .filter(|(_, s)| s.team_id == team_id)
        .collect();
    crate::core::month::MonthGrid::of(month, &meetings, &series, holidays, today)
}

/// How many meetings back attendance by role looks.
pub const ATTENDANCE_MEETINGS: usize = 6;

/// One role's attendance line.
#[derive(Debug, Clone, PartialEq)]
pub struct RoleAttendanceLine {
    pub role: &'static str,
    pub attended: u32,
    pub expected: u32,
    /// Whole percent.
    pub percent: u32,
    pub meets_target: bool,
}

/// Attendance by role over the team's last [`ATTENDANCE_MEETINGS`] meetings held whose
/// attendance was recorded, and the meetings held since the oldest of those (or, with fewer
/// recorded, any of the last few held) whose attendance nobody has recorded yet.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AttendanceSummary {
    /// Empty when no meeting's attendance is recorded: no figures rather than everyone at 0%.
    pub lines: Vec<RoleAttendanceLine>,
    /// How many recorded meetings the lines are over.
    pub meetings_counted: usize,
    /// (meeting, when it started), newest first: for the coordinator to record.
    pub unrecorded: Vec<(Uuid, DateTime<Utc>)>,
}

/// See [`AttendanceSummary`]; empty when the team is not on the device.
pub fn attendance_by_role_of(
    replica: &Replica,
    team_id: Uuid,
    now: DateTime<Utc>,
) -> AttendanceSummary {
    let Some(team) = replica.entity::<Team>(team_id) else {
        return AttendanceSummary::default();
    };
    let mut held: Vec<(Uuid, Meeting)> = replica
        .entities::<Meeting>()
        .into_iter()
        .filter(|(_, m)| {
            m.team_id == team_id && m.status != MeetingStatus::Cancelled && m.ends_at < now
        })
        .collect();
    held.sort_by_key(|(_, m)| std::cmp::Reverse(m.starts_at));
    let held_ids: Vec<Uuid> = held.iter().map(|(id, _)| *id).collect();
    let answers: Vec<Attendance> = replica
        .entities::<Attendance>()
        .into_iter()
        .map(|(_, a)| a)
        .filter(|a| held_ids.contains(&a.meeting_id))
        .collect();
    let mut meetings = Vec::new();
    let mut unrecorded = Vec::new();
    for (id, meeting) in &held {
        if meetings.len() == ATTENDANCE_MEETINGS {
            break;
        }
        if attendance_recorded(*id, &answers) {
            meetings.push(*id);
        } else if unrecorded.len() < ATTENDANCE_MEETINGS {
            unrecorded.push((*id, meeting.starts_at));
        }
    }
    let roles = replica
        .entities::<Person>()
        .into_iter()
        .map(|(id, p)| (id, p.role))
        .collect();
    let lines = attendance_by_role(&meetings, &team, &roles, &answers)
        .into_iter()
        .map(|a| RoleAttendanceLine {
            role: a.role.label(),
            attended: a.attended,
            expected: a.expected,
            percent: (a.share() * 100.0).round() as u32,
            meets_target: a.meets_target(),
        })
        .collect();
    AttendanceSummary {
        lines,
        meetings_counted: meetings.len(),
        unrecorded,
    }
}

/// One of the team's people as the team page lists them with their availability.
#[derive(Debug, Clone, PartialEq)]
pub struct MemberLine {
    pub id: Uuid,
    pub name: String,
    pub role: &'static str,
    pub coordinator: bool,
    /// Regular commitments recorded (clinics, rounds).
    pub commitments: usize,
    /// Days away recorded that have not ended by `today`.
    pub absences: usize,
}

/// The team's coordinator (first) and members (by name) with how much of their availability
/// is recorded, so the coordinator sees whose clinics Find a time does not know; people not on
/// the device yet are left out.
pub fn members_of(replica: &Replica, team_id: Uuid, today: NaiveDate) -> Vec<MemberLine> {
    let Some(team) = replica.entity::<Team>(team_id) else {
        return Vec::new();
    };
    let mut lines: Vec<MemberLine> = std::iter::once(team.coordinator_id)
        .chain(
            team.member_ids
                .iter()
                .copied()
                .filter(|m| *m != team.coordinator_id),
        )
        .filter_map(|id| {
            let person = replica.entity::<Person>(id)?;
            let availability = availability_of(replica, id);
            Some(MemberLine {
                id,
                name: person.name,
                role: person.role.label(),
                coordinator: id == team.coordinator_id,
                commitments: availability.commitments.len(),
                absences: availability
                    .absences
                    .iter()
                    .filter(|a| a.until >= today)
                    .count(),
            })
        })
        .collect();
    lines.sort_by(|a, b| (!a.coordinator, &a.name).cmp(&(!b.coordinator, &b.name)));
    lines
}

/// What `person` has recorded of their availability (nothing recorded: free at all times).
fn availability_of(replica: &Replica, person: Uuid) -> crate::core::schedule::Availability {
    replica
        .entity::<PersonAvailability>(PersonAvailability::id_for(person))
        .map(|a| a.availability)
        .unwrap_or_default()
}

/// The live teams `person` coordinates (whose warnings the home page shows), in a stable order.
pub fn teams_coordinated_by(replica: &Replica, person: Uuid) -> Vec<Uuid> {
    let mut teams: Vec<Uuid> = replica
        .entities::<Team>()
        .into_iter()
        .filter(|(_, t)| t.coordinator_id == person && !t.archived)
        .map(|(id, _)| id)
        .collect();
    teams.sort_unstable();
    teams
}

/// Whether `person` may change the team's records: its coordinator and members may, observers
/// read only, and nobody while the team is archived (core::authorize::ARCHIVED). True while
/// the team is not on the device yet (a team being created).
pub fn team_writable(replica: &Replica, team_id: Uuid, person: Uuid) -> bool {
    replica
        .entity::<Team>(team_id)
        .is_none_or(|t| t.includes(person) && !t.archived)
}

/// The team's coordinator and members as the slot finder takes them: each with their role and
/// their recorded availability (none recorded: free at all times); the coordinator must attend
/// when `coordinator_must_attend`. People not on the device are left out.
pub fn candidates(replica: &Replica, team: &Team, coordinator_must_attend: bool) -> Vec<Candidate> {
    std::iter::once(team.coordinator_id)
        .chain(team.member_ids.iter().copied())
        .filter_map(|id| {
            let person = replica.entity::<Person>(id)?;
            let availability = availability_of(replica, id);
            Some(Candidate {
                id,
                role: person.role,
                must_attend: coordinator_must_attend && id == team.coordinator_id,
                availability,
            })
        })
        .collect()
}
