//! A team's measures over time (issue 16, first part): how many patient items a period's
//! meetings concluded, how long people waited to be discussed, how often items were deferred,
//! whether actions were done by their due date; and, now, the backlog and the actions nobody
//! has taken on. Pure functions over the records, so the server can work them out over a team's
//! whole history and the figures are tested against fixtures worked out by hand.
//!
//! Dates are UK dates: a meeting belongs to the day (and so the month) it starts in London, an
//! action is done on time when it was marked done by the end of its due date in London.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::action::{Action, ActionEvent, ActionStatus, DONE_SUMMARY};
use super::agenda::{AgendaItem, ItemKind, ItemStatus, Outcome};
use super::meeting::{Meeting, MeetingStatus};
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
#[derive(Debug, Clone, PartialEq, Eq)]
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
    pub meetings: &'a [(Uuid, Meeting)],
    pub items: &'a [(Uuid, AgendaItem)],
    pub actions: &'a [(Uuid, Action)],
    pub events: &'a [ActionEvent],
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
        let held: Vec<(Uuid, NaiveDate)> = self
            .meetings
            .iter()
            .filter(|(_, m)| m.status == MeetingStatus::Closed)
            .map(|(id, m)| (*id, uk_time::uk_today(m.starts_at)))
            .filter(|(_, day)| period.contains(*day))
            .collect();
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
        };
        for (_, item) in self.items {
            let Some((_, day)) = held.iter().find(|(id, _)| *id == item.meeting_id) else {
                continue;
            };
            if item.kind != ItemKind::PatientDiscussion {
                continue;
            }
            measures.patient_items += 1;
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
        }
    }
}

/// A team's measures as the server sends them: a line per period and what waits now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeamMeasures {
    pub lines: Vec<MeasuresLine>,
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
            waiting: backlog.waiting,
            waiting_since: backlog.oldest.map(|(_, since)| since),
            unallocated_actions: backlog.unallocated,
        })
    }
}

#[cfg(test)]
mod tests;
