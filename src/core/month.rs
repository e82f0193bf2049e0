//! A team's meetings as a month calendar: weeks from Monday, each day with its meetings (on
//! their UK date), whether it is a bank holiday, and which meetings belong to a series.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use uuid::Uuid;

use super::calendar::BankHolidays;
use super::meeting::{Meeting, MeetingStatus};
use super::series::Series;
use super::uk_time;

/// How far from the month a series occurrence may have been moved and still be recognised as
/// the series' (an occurrence keeps the id of the date the rule gave it).
const MOVED_BY_AT_MOST: Duration = Duration::days(92);

/// One meeting on the calendar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarMeeting {
    pub id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub status: MeetingStatus,
    /// The series' rule in words ("Monthly: the 2nd Tuesday") when it is one of a series.
    pub series: Option<String>,
}

/// One day of the grid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarDay {
    pub date: NaiveDate,
    /// False for the days of the weeks either side that fill the first and last rows.
    pub in_month: bool,
    pub today: bool,
    pub bank_holiday: bool,
    /// In the order they start.
    pub meetings: Vec<CalendarMeeting>,
}

/// A month of a team's meetings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthGrid {
    /// The first day of the month.
    pub first: NaiveDate,
    /// Whole weeks, Monday to Sunday, covering the month.
    pub weeks: Vec<Vec<CalendarDay>>,
}

/// The first day of `date`'s month.
pub fn month_of(date: NaiveDate) -> NaiveDate {
    date.with_day(1).unwrap_or(date)
}

/// The first day of the month `delta` months from `first` (`None` past what dates can hold).
pub fn months_from(first: NaiveDate, delta: i32) -> Option<NaiveDate> {
    let index = first
        .year()
        .checked_mul(12)?
        .checked_add(first.month0() as i32)?
        .checked_add(delta)?;
    NaiveDate::from_ymd_opt(index.div_euclid(12), index.rem_euclid(12) as u32 + 1, 1)
}

impl MonthGrid {
    /// The month starting `first` (any day of it will do) with `meetings`, marking those that
    /// belong to one of `series`, the bank holidays in `holidays`, and `today`.
    pub fn of(
        first: NaiveDate,
        meetings: &[(Uuid, Meeting)],
        series: &[(Uuid, Series)],
        holidays: &BankHolidays,
        today: NaiveDate,
    ) -> Self {
        let first = month_of(first);
        let last = months_from(first, 1)
            .and_then(|next| next.pred_opt())
            .unwrap_or(NaiveDate::MAX);
        let grid_start = first
            .checked_sub_signed(Duration::days(
                first.weekday().num_days_from_monday().into(),
            ))
            .unwrap_or(first);
        let grid_end = last
            .checked_add_signed(Duration::days(
                (6 - last.weekday().num_days_from_monday()).into(),
            ))
            .unwrap_or(last);

        // Which meeting ids belong to which series, over the months an occurrence could have
        // been moved from.
        let mut of_series: HashMap<Uuid, String> = HashMap::new();
        let from = grid_start
            .checked_sub_signed(MOVED_BY_AT_MOST)
            .unwrap_or(grid_start);
        let to = grid_end
            .checked_add_signed(MOVED_BY_AT_MOST)
            .unwrap_or(grid_end);
        for (series_id, s) in series {
            for occurrence in s.occurrences(from, to) {
                of_series.insert(
                    Series::meeting_id(*series_id, occurrence.original),
                    s.rule.describe(),
                );
            }
        }

        let mut by_day: HashMap<NaiveDate, Vec<CalendarMeeting>> = HashMap::new();
        for (id, m) in meetings {
            let day = uk_time::uk_today(m.starts_at);
            if day < grid_start || day > grid_end {
                continue;
            }
            by_day.entry(day).or_default().push(CalendarMeeting {
                id: *id,
                starts_at: m.starts_at,
                status: m.status,
                series: of_series.get(id).cloned(),
            });
        }
        let mut weeks = Vec::new();
        // `None` once past the grid or the last date there is.
        let mut next = Some(grid_start);
        while let Some(first_of_week) = next.filter(|d| *d <= grid_end) {
            let mut week = Vec::with_capacity(7);
            next = Some(first_of_week);
            while let Some(day) = next.filter(|_| week.len() < 7) {
                let mut meetings = by_day.remove(&day).unwrap_or_default();
                meetings.sort_by_key(|m| (m.starts_at, m.id));
                week.push(CalendarDay {
                    date: day,
                    in_month: day.month() == first.month() && day.year() == first.year(),
                    today: day == today,
                    bank_holiday: holidays.contains(day),
                    meetings,
                });
                next = day.succ_opt();
            }
            weeks.push(week);
        }
        Self { first, weeks }
    }

    /// "December 2026".
    pub fn title(&self) -> String {
        self.first.format("%B %Y").to_string()
    }

    /// How many of the month's meetings are planned (not cancelled or concluded).
    pub fn planned(&self) -> usize {
        self.days()
            .flat_map(|d| &d.meetings)
            .filter(|m| m.status == MeetingStatus::Planned)
            .count()
    }

    /// The days of the month itself (not the filling days either side).
    pub fn days(&self) -> impl Iterator<Item = &CalendarDay> {
        self.weeks.iter().flatten().filter(|d| d.in_month)
    }
}

#[cfg(test)]
mod tests;
