//! A team's measures over time (issue 16, first part): how many patient items a period's
//! meetings concluded, how long people waited to be discussed, how often items were deferred,
//! whether actions were done by their due date; and, now, the backlog and the actions nobody
//! has taken on. Pure functions over the records, so the server can work them out over a team's
//! whole history and the figures are tested against fixtures worked out by hand.
//!
//! Dates are UK dates: a meeting belongs to the day (and so the month) it starts in London, an
//! action is done on time when it was marked done by the end of its due date in London.
//!
//! Attendance by role counts only meetings whose attendance was recorded afterwards (see
//! [`attendance_recorded`](super::attendance::attendance_recorded)); a brief counts as ready by
//! the cut-off when it is ready now and the server stored "ready" at or before the meeting's
//! start less the team's brief cut-off (a brief edited back to draft and marked ready again
//! counts from the later time).

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::action::{csv_line, Action, ActionEvent, ActionStatus, DONE_SUMMARY};
use super::agenda::{AgendaItem, ItemKind, ItemStatus, Outcome};
use super::attendance::{attendance_by_role, Attendance, RoleAttendance};
use super::directory::Role;
use super::meeting::{Meeting, MeetingStatus};
use super::team::Team;
use super::uk_time;
use super::validation::ValidationError;

/// A run of UK dates, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Period {
    /// True when `date` is in the period.
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.from <= date && date <= self.to
    }
}

/// How a date range is cut into periods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Granularity {
    Month,
    Quarter,
}

/// The calendar months or quarters that `from..=to` touches, each cut to the range (so the first
/// and last may be part of a month). Empty when `to` is before `from`.
pub fn periods(from: NaiveDate, to: NaiveDate, granularity: Granularity) -> Vec<Period> {
    let months = match granularity {
        Granularity::Month => 1,
        Granularity::Quarter => 3,
    };
    let mut out = Vec::new();
    let mut start = from;
    while start <= to {
        // The first day of the next month (or quarter) after `start`.
        let month0 = start.month0() - start.month0() % months + months;
        let next = NaiveDate::from_ymd_opt(start.year() + (month0 / 12) as i32, month0 % 12 + 1, 1);
        let end = next.and_then(|n| n.pred_opt()).map_or(to, |e| e.min(to));
        out.push(Period {
            from: start,
            to: end,
        });
        match next {
            Some(n) => start = n,
            None => break,
        }
    }
    out
}

/// The nearest-rank percentile `p` (1–100) of `values`: the smallest value with at least p % of
/// the values at or below it. `None` for no values.
pub fn percentile(values: &[i64], p: u32) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let n = sorted.len() as u64;
    let rank = (u64::from(p.clamp(1, 100)) * n).div_ceil(100).max(1);
    sorted.get((rank - 1) as usize).copied()
}

/// The figures of one period.
#[derive(Debug, Clone, PartialEq)]
pub struct PeriodMeasures {
    pub period: Period,
    /// Meetings concluded that started in the period.
    pub meetings_held: usize,
    /// Patient items on those meetings.
    pub patient_items: usize,
    /// Of those, closed with a decision or "no action needed".
    pub concluded: usize,
    /// Of those, deferred to a later meeting (or left without an outcome).
    pub not_concluded: usize,
    /// Days from each concluded item's request to its meeting.
    pub days_to_discussion: Vec<i64>,
    /// Times the concluded items had been carried past a meeting before, summed.
    pub deferrals: u32,
    /// Actions due in the period (not cancelled).
    pub actions_due: usize,
    /// Of those, marked done by the end of their due date.
    pub done_by_due: usize,
    /// Attendance by role at the held meetings whose attendance was recorded.
    pub attendance: Vec<RoleAttendance>,
    /// Patient items on the held meetings whose brief was ready by the brief cut-off.
    pub briefs_ready_by_cutoff: usize,
}

impl PeriodMeasures {
    /// Median days from request to discussion.
    pub fn median_days(&self) -> Option<i64> {
        percentile(&self.days_to_discussion, 50)
    }

    /// 90th-percentile days from request to discussion.
    pub fn p90_days(&self) -> Option<i64> {
        percentile(&self.days_to_discussion, 90)
    }
}

/// The team's records the measures are worked out from.
#[derive(Debug, Clone, Copy)]
pub struct TeamRecords<'a> {
    pub team: &'a Team,
    /// The role of each of the team's people.
    pub roles: &'a HashMap<Uuid, Role>,
    pub meetings: &'a [(Uuid, Meeting)],
    pub items: &'a [(Uuid, AgendaItem)],
    pub actions: &'a [(Uuid, Action)],
    pub events: &'a [ActionEvent],
    pub attendance: &'a [Attendance],
    /// For each brief ready now, its item and when it was stored as ready.
    pub briefs_ready: &'a [(Uuid, DateTime<Utc>)],
}

/// When an action was marked done (the UK date of the latest "marked it done" in its history).
fn done_on(events: &[ActionEvent], action: Uuid) -> Option<NaiveDate> {
    events
        .iter()
        .filter(|e| e.action_id == action && e.summary.starts_with(DONE_SUMMARY))
        .map(|e| e.at)
        .max()
        .map(uk_time::uk_today)
}

impl TeamRecords<'_> {
    /// The figures of `period`.
    pub fn measure(&self, period: Period) -> PeriodMeasures {
        let held: Vec<(Uuid, NaiveDate, DateTime<Utc>)> = self
            .meetings
            .iter()
            .filter(|(_, m)| m.status == MeetingStatus::Closed)
            .map(|(id, m)| (*id, uk_time::uk_today(m.starts_at), m.starts_at))
            .filter(|(_, day, _)| period.contains(*day))
            .collect();
        let held_ids: Vec<Uuid> = held.iter().map(|(id, _, _)| *id).collect();
        let ready_at: HashMap<Uuid, DateTime<Utc>> = self.briefs_ready.iter().copied().collect();
        let cutoff = Duration::hours(i64::from(self.team.brief_cutoff_hours));
        let mut measures = PeriodMeasures {
            period,
            meetings_held: held.len(),
            patient_items: 0,
            concluded: 0,
            not_concluded: 0,
            days_to_discussion: Vec::new(),
            deferrals: 0,
            actions_due: 0,
            done_by_due: 0,
            attendance: attendance_by_role(&held_ids, self.team, self.roles, self.attendance),
            briefs_ready_by_cutoff: 0,
        };
        for (item_id, item) in self.items {
            let Some((_, day, starts_at)) = held.iter().find(|(id, _, _)| *id == item.meeting_id)
            else {
                continue;
            };
            if item.kind != ItemKind::PatientDiscussion {
                continue;
            }
            measures.patient_items += 1;
            let due = starts_at.checked_sub_signed(cutoff);
            if ready_at
                .get(item_id)
                .zip(due)
                .is_some_and(|(ready, due)| *ready <= due)
            {
                measures.briefs_ready_by_cutoff += 1;
            }
            let concluded = item.status == ItemStatus::Discussed
                && matches!(
                    item.outcome,
                    Some(Outcome::Decision { .. } | Outcome::NoAction { .. })
                );
            if concluded {
                measures.concluded += 1;
                measures
                    .days_to_discussion
                    .push((*day - item.requested_on).num_days().max(0));
                measures.deferrals = measures.deferrals.saturating_add(item.deferrals);
            } else {
                measures.not_concluded += 1;
            }
        }
        for (id, action) in self.actions {
            if action.status == ActionStatus::Cancelled || !period.contains(action.due) {
                continue;
            }
            measures.actions_due += 1;
            if action.status == ActionStatus::Done
                && done_on(self.events, *id).is_some_and(|d| d <= action.due)
            {
                measures.done_by_due += 1;
            }
        }
        measures
    }

    /// What waits now: patient items not yet discussed on meetings still to come (the backlog,
    /// with the longest-waiting), and open actions nobody has taken on (proposed or declined).
    pub fn backlog(&self, today: NaiveDate) -> Backlog {
        let waiting: Vec<(Uuid, NaiveDate)> = self
            .items
            .iter()
            .filter(|(_, i)| i.kind == ItemKind::PatientDiscussion && i.status == ItemStatus::Open)
            .filter(|(_, i)| {
                self.meetings.iter().any(|(id, m)| {
                    *id == i.meeting_id
                        && m.status == MeetingStatus::Planned
                        && uk_time::uk_today(m.starts_at) >= today
                })
            })
            .map(|(id, i)| (*id, i.requested_on))
            .collect();
        let oldest = waiting
            .iter()
            .min_by_key(|(id, requested)| (*requested, *id))
            .copied();
        Backlog {
            waiting: waiting.len(),
            oldest,
            unallocated: self
                .actions
                .iter()
                .filter(|(_, a)| {
                    matches!(a.status, ActionStatus::Proposed | ActionStatus::Declined)
                })
                .count(),
        }
    }
}

/// What waits now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backlog {
    /// Patient items waiting to be discussed.
    pub waiting: usize,
    /// The item waiting longest, and since when.
    pub oldest: Option<(Uuid, NaiveDate)>,
    /// Open actions with no owner who has taken them on.
    pub unallocated: usize,
}

/// Longest range one request covers (ten years of months is 120 lines).
pub const MAX_RANGE_DAYS: i64 = 3660;

/// What a measures request asks for: a range of UK dates (by default the twelve months to
/// today) cut by month (the default) or by quarter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeasuresQuery {
    #[serde(default)]
    pub from: Option<NaiveDate>,
    #[serde(default)]
    pub to: Option<NaiveDate>,
    /// "month" or "quarter".
    #[serde(default)]
    pub by: Option<String>,
}

impl MeasuresQuery {
    /// The range and the cut, with defaults filled in, or what is wrong with them in words.
    pub fn resolve(&self, today: NaiveDate) -> Result<(Period, Granularity), ValidationError> {
        let granularity = match self.by.as_deref() {
            None | Some("month") => Granularity::Month,
            Some("quarter") => Granularity::Quarter,
            Some(_) => {
                return Err(ValidationError::field(
                    "by",
                    "Choose measures by month or by quarter",
                ))
            }
        };
        let to = self.to.unwrap_or(today);
        let from = match self.from {
            Some(from) => from,
            // The first day of the month eleven months before `to`'s: twelve whole months.
            None => {
                let first = to.with_day(1).unwrap_or(to);
                (0..11).fold(first, |d, _| {
                    d.pred_opt().and_then(|p| p.with_day(1)).unwrap_or(d)
                })
            }
        };
        if from > to {
            return Err(ValidationError::field(
                "from",
                "The start of the range must be on or before its end",
            ));
        }
        if (to - from).num_days() > MAX_RANGE_DAYS {
            return Err(ValidationError::field(
                "from",
                "Choose a range of ten years or less",
            ));
        }
        Ok((Period { from, to }, granularity))
    }
}

/// Attendance of one role over a period's recorded meetings, as sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleLine {
    pub role: Role,
    pub attended: u32,
    pub expected: u32,
}

impl RoleLine {
    /// Attended at least two-thirds of the meetings expected.
    pub fn meets_target(&self) -> bool {
        RoleAttendance {
            role: self.role,
            attended: self.attended,
            expected: self.expected,
        }
        .meets_target()
    }
}

/// Reads one end of a range typed as the design system's day, month and year boxes: `None`
/// when all three are blank (the default end), otherwise a real date or, for the form's field
/// `field`, what is wrong in words.
pub fn date_from_parts(
    field: &'static str,
    label: &str,
    day: &str,
    month: &str,
    year: &str,
) -> Result<Option<NaiveDate>, ValidationError> {
    let (day, month, year) = (day.trim(), month.trim(), year.trim());
    if day.is_empty() && month.is_empty() && year.is_empty() {
        return Ok(None);
    }
    let number = |s: &str, digits: std::ops::RangeInclusive<usize>| {
        (digits.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u32>().ok())
            .flatten()
    };
    match (
        number(day, 1..=2),
        number(month, 1..=2),
        number(year, 4..=4),
    ) {
        (Some(d), Some(m), Some(y)) => NaiveDate::from_ymd_opt(y as i32, m, d)
            .map(Some)
            .ok_or_else(|| ValidationError::field(field, format!("{label} must be a real date"))),
        _ => Err(ValidationError::field(
            field,
            format!("{label} must be a day, month and year, like 1 4 2026"),
        )),
    }
}

/// One period's figures as sent (the list of waiting times worked into its median and 90th
/// percentile).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeasuresLine {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub meetings_held: usize,
    pub patient_items: usize,
    pub concluded: usize,
    pub not_concluded: usize,
    pub median_days_to_discussion: Option<i64>,
    pub p90_days_to_discussion: Option<i64>,
    pub deferrals: u32,
    pub actions_due: usize,
    pub done_by_due: usize,
    /// Attendance by role at the meetings whose attendance was recorded.
    pub attendance: Vec<RoleLine>,
    pub briefs_ready_by_cutoff: usize,
}

impl From<&PeriodMeasures> for MeasuresLine {
    fn from(m: &PeriodMeasures) -> Self {
        Self {
            from: m.period.from,
            to: m.period.to,
            meetings_held: m.meetings_held,
            patient_items: m.patient_items,
            concluded: m.concluded,
            not_concluded: m.not_concluded,
            median_days_to_discussion: m.median_days(),
            p90_days_to_discussion: m.p90_days(),
            deferrals: m.deferrals,
            actions_due: m.actions_due,
            done_by_due: m.done_by_due,
            attendance: m
                .attendance
                .iter()
                .map(|r| RoleLine {
                    role: r.role,
                    attended: r.attended,
                    expected: r.expected,
                })
                .collect(),
            briefs_ready_by_cutoff: m.briefs_ready_by_cutoff,
        }
    }
}

/// A team's measures as the server sends them: a line per period and what waits now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeamMeasures {
    pub lines: Vec<MeasuresLine>,
    /// The whole range as one period (its median is of every wait in the range, not a median
    /// of the lines' medians).
    pub whole: MeasuresLine,
    pub waiting: usize,
    /// When the item waiting longest was asked for.
    pub waiting_since: Option<NaiveDate>,
    pub unallocated_actions: usize,
}

impl TeamRecords<'_> {
    /// The measures `query` asks for, on `today`.
    pub fn report(
        &self,
        query: &MeasuresQuery,
        today: NaiveDate,
    ) -> Result<TeamMeasures, ValidationError> {
        let (range, granularity) = query.resolve(today)?;
        let lines = periods(range.from, range.to, granularity)
            .into_iter()
            .map(|p| MeasuresLine::from(&self.measure(p)))
            .collect();
        let backlog = self.backlog(today);
        Ok(TeamMeasures {
            lines,
            whole: MeasuresLine::from(&self.measure(range)),
            waiting: backlog.waiting,
            waiting_since: backlog.oldest.map(|(_, since)| since),
            unallocated_actions: backlog.unallocated,
        })
    }
}

/// `part` of `whole` as a whole percentage, rounded half up; `None` when `whole` is 0.
pub fn percent(part: usize, whole: usize) -> Option<u32> {
    if whole == 0 {
        return None;
    }
    let (part, whole) = (part.min(whole) as u128, whole as u128);
    Some(((part * 200 + whole) / (whole * 2)) as u32)
}

impl MeasuresLine {
    /// Share of patient items closed with an outcome.
    pub fn concluded_percent(&self) -> Option<u32> {
        percent(self.concluded, self.patient_items)
    }

    /// Share of actions due that were done by their due date.
    pub fn done_by_due_percent(&self) -> Option<u32> {
        percent(self.done_by_due, self.actions_due)
    }

    /// Share of patient items whose brief was ready by the cut-off.
    pub fn briefs_ready_percent(&self) -> Option<u32> {
        percent(self.briefs_ready_by_cutoff, self.patient_items)
    }

    /// Deferrals per concluded item, in tenths ("1.5" is 15), rounded half up.
    pub fn deferrals_per_item_tenths(&self) -> Option<u64> {
        (self.concluded > 0).then(|| {
            let c = self.concluded as u64;
            (u64::from(self.deferrals) * 20 + c) / (c * 2)
        })
    }

    /// The share of each role's expected attendances that happened.
    pub fn attendance_percent(&self, role: Role) -> Option<u32> {
        self.attendance
            .iter()
            .find(|r| r.role == role)
            .and_then(|r| percent(r.attended as usize, r.expected as usize))
    }
}

/// Tenths as words' digits: 15 is "1.5".
pub fn tenths(n: u64) -> String {
    format!("{}.{}", n / 10, n % 10)
}

/// Target share of meetings each role attends, as a percentage (two-thirds, rounded down).
pub const ATTENDANCE_TARGET_PERCENT: u32 = 66;

fn opt<T: ToString>(value: Option<T>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

impl TeamMeasures {
    /// Every role with expected attendance in any period, in the order roles are offered.
    pub fn roles(&self) -> Vec<Role> {
        Role::ALL
            .into_iter()
            .filter(|role| {
                self.lines
                    .iter()
                    .any(|l| l.attendance.iter().any(|r| r.role == *role))
            })
            .collect()
    }

    /// The figures as CSV (RFC 4180, CRLF line ends): a row per period, then a blank line and
    /// what waits now. Counts and dates only, no patient.
    pub fn to_csv(&self) -> String {
        let roles = self.roles();
        let mut header: Vec<String> = [
            "From",
            "To",
            "Meetings held",
            "Patient items",
            "Concluded with an outcome",
            "Concluded %",
            "Median days to discussion",
            "90th percentile days to discussion",
            "Deferrals of concluded items",
            "Deferrals per concluded item",
            "Actions due",
            "Done by due date",
            "Done by due date %",
            "Briefs ready by cut-off",
            "Briefs ready by cut-off %",
        ]
        .iter()
        .map(|h| h.to_string())
        .collect();
        for role in &roles {
            header.push(format!("{} attended", role.label()));
            header.push(format!("{} expected", role.label()));
        }
        let mut rows = vec![header];
        for line in &self.lines {
            let mut row = vec![
                line.from.to_string(),
                line.to.to_string(),
                line.meetings_held.to_string(),
                line.patient_items.to_string(),
                line.concluded.to_string(),
                opt(line.concluded_percent()),
                opt(line.median_days_to_discussion),
                opt(line.p90_days_to_discussion),
                line.deferrals.to_string(),
                opt(line.deferrals_per_item_tenths().map(tenths)),
                line.actions_due.to_string(),
                line.done_by_due.to_string(),
                opt(line.done_by_due_percent()),
                line.briefs_ready_by_cutoff.to_string(),
                opt(line.briefs_ready_percent()),
            ];
            for role in &roles {
                let found = line.attendance.iter().find(|r| r.role == *role);
                row.push(opt(found.map(|r| r.attended)));
                row.push(opt(found.map(|r| r.expected)));
            }
            rows.push(row);
        }
        rows.push(Vec::new());
        rows.push(vec![
            "Patient items waiting now".into(),
            "Waiting since".into(),
            "Actions nobody has taken on".into(),
        ]);
        rows.push(vec![
            self.waiting.to_string(),
            opt(self.waiting_since),
            self.unallocated_actions.to_string(),
        ]);
        rows.iter()
            .map(|row| csv_line(&row.iter().map(String::as_str).collect::<Vec<_>>()))
            .collect()
    }
}

/// "3 patient items", "1 patient item".
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

impl TeamMeasures {
    /// The range in words: "from 1 December 2025 to 30 November 2026".
    fn range_words(&self) -> String {
        format!(
            "from {} to {}",
            uk_time::format_date(self.whole.from),
            uk_time::format_date(self.whole.to)
        )
    }

    /// One sentence on items concluded with an outcome.
    pub fn concluded_summary(&self) -> String {
        let w = &self.whole;
        match w.concluded_percent() {
            None => format!("No patient items were discussed {}.", self.range_words()),
            Some(p) => format!(
                "{p}% of {} discussed {} were concluded with an outcome.",
                count(w.patient_items, "patient item", "patient items"),
                self.range_words()
            ),
        }
    }

    /// One sentence on actions done by their due date.
    pub fn done_by_due_summary(&self) -> String {
        let w = &self.whole;
        match w.done_by_due_percent() {
            None => format!("No actions were due {}.", self.range_words()),
            Some(p) => format!(
                "{p}% of {} due {} were done by their due date.",
                count(w.actions_due, "action", "actions"),
                self.range_words()
            ),
        }
    }

    /// One sentence on how long people waited to be discussed, and how often they were deferred.
    pub fn waiting_summary(&self) -> String {
        let w = &self.whole;
        match (w.median_days_to_discussion, w.p90_days_to_discussion) {
            (Some(median), Some(p90)) => format!(
                "People waited a median of {} from the request to the discussion that concluded their item (9 in 10 within {}); each had been deferred {} times on average.",
                count(median.max(0) as usize, "day", "days"),
                count(p90.max(0) as usize, "day", "days"),
                w.deferrals_per_item_tenths().map(tenths).unwrap_or_default()
            ),
            _ => format!("No patient items were concluded {}.", self.range_words()),
        }
    }

    /// One sentence on attendance by role against the two-thirds target.
    pub fn attendance_summary(&self) -> String {
        let below: Vec<String> = self
            .whole
            .attendance
            .iter()
            .filter(|r| !r.meets_target())
            .map(|r| r.role.plural())
            .collect();
        if self.whole.attendance.is_empty() {
            format!(
                "No meeting's attendance was recorded {}.",
                self.range_words()
            )
        } else if below.is_empty() {
            "Every role attended at least two-thirds of the recorded meetings.".into()
        } else {
            format!(
                "Below the two-thirds attendance target: {}.",
                below.join(", ")
            )
        }
    }

    /// One sentence on briefs ready by the cut-off.
    pub fn briefs_summary(&self) -> String {
        let w = &self.whole;
        match w.briefs_ready_percent() {
            None => format!("No patient items were discussed {}.", self.range_words()),
            Some(p) => format!(
                "{p}% of {} had their brief ready by the cut-off.",
                count(w.patient_items, "patient item", "patient items")
            ),
        }
    }

    /// One sentence on what waits now.
    pub fn backlog_summary(&self) -> String {
        let waiting = match self.waiting_since {
            Some(since) if self.waiting > 0 => format!(
                "{} waiting to be discussed, the oldest asked for on {}",
                count(self.waiting, "patient item is", "patient items are"),
                uk_time::format_date(since)
            ),
            _ => "No patient items are waiting to be discussed".into(),
        };
        format!(
            "{waiting}; {} nobody has taken on.",
            count(self.unallocated_actions, "action", "actions")
        )
    }
}

#[cfg(test)]
mod tests;
