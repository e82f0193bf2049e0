//! Protected-time scheduling: people's weekly commitments, the slot finder that ranks meeting
//! times by role quorum, and recurring series in UK wall-clock time.
//!
//! Everything here works in UK local dates and times (clinics are "Monday 08:30", whatever the
//! season); instants in UTC are made only when a meeting is created, through `uk_time`.

use std::collections::BinaryHeap;

use chrono::{Datelike, Duration, NaiveDate, NaiveTime, Timelike, Weekday};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::calendar::BankHolidays;
use super::directory::Role;
use super::validation::ValidationError;

/// Weekday names by stored index (0 = Monday).
pub const WEEKDAY_NAMES: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// Weekday as stored: 0 = Monday … 6 = Sunday.
pub fn weekday_index(w: Weekday) -> u8 {
    w.num_days_from_monday() as u8
}

/// A repeating commitment in UK local time, e.g. "Monday 08:30–12:30 clinic", weekly or
/// fortnightly, optionally between two dates.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Commitment {
    /// 0 = Monday … 6 = Sunday.
    pub weekday: u8,
    pub starts: NaiveTime,
    pub ends: NaiveTime,
    pub label: String,
    /// 1: every week; 2: every other week (counted from `anchor`).
    #[serde(default = "every_week")]
    pub every_weeks: u8,
    /// A date in a week when a fortnightly commitment happens.
    #[serde(default)]
    pub anchor: Option<NaiveDate>,
    #[serde(default)]
    pub from: Option<NaiveDate>,
    #[serde(default)]
    pub until: Option<NaiveDate>,
}

fn every_week() -> u8 {
    1
}

impl Commitment {
    /// Whether the commitment happens on `date`.
    pub fn occurs_on(&self, date: NaiveDate) -> bool {
        if weekday_index(date.weekday()) != self.weekday
            || self.from.is_some_and(|f| date < f)
            || self.until.is_some_and(|u| date > u)
        {
            return false;
        }
        match (self.every_weeks, self.anchor) {
            (0 | 1, _) => true,
            (n, Some(anchor)) => {
                let monday = |d: NaiveDate| {
                    d - Duration::days(i64::from(d.weekday().num_days_from_monday()))
                };
                let weeks = (monday(date) - monday(anchor)).num_weeks();
                weeks.rem_euclid(i64::from(n)) == 0
            }
            (_, None) => true,
        }
    }

    /// Checks times and the repeat pattern.
    pub fn validate(&self) -> Result<(), ValidationError> {
        if self.weekday > 6 {
            return Err(ValidationError::field(
                "weekday",
                "Choose a day of the week",
            ));
        }
        if self.ends <= self.starts {
            return Err(ValidationError::field(
                "ends",
                "A commitment must end after it starts",
            ));
        }
        if !(1..=4).contains(&self.every_weeks) {
            return Err(ValidationError::field(
                "every_weeks",
                "Repeat every 1 to 4 weeks",
            ));
        }
        for (field, date) in [
            ("anchor", self.anchor),
            ("from", self.from),
            ("until", self.until),
        ] {
            if let Some(date) = date {
                super::validation::date_in_window(field, "the date", date)?;
            }
        }
        if self.every_weeks > 1 && self.anchor.is_none() {
            return Err(ValidationError::field(
                "anchor",
                "Give a date in a week when it happens",
            ));
        }
        super::validation::required_text(
            "label",
            "what the commitment is, like Clinic",
            &self.label,
            100,
        )
    }
}

/// A one-off absence (leave, training), whole days, inclusive.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Absence {
    pub from: NaiveDate,
    pub until: NaiveDate,
    pub label: String,
}

/// When someone cannot come to a meeting.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Availability {
    #[serde(default)]
    pub commitments: Vec<Commitment>,
    #[serde(default)]
    pub absences: Vec<Absence>,
    /// Would rather join by video (e.g. community staff between home visits).
    #[serde(default)]
    pub prefers_remote: bool,
}

impl Availability {
    /// What stops the person attending `date` from `start` to `end`, if anything.
    pub fn clash(&self, date: NaiveDate, start: NaiveTime, end: NaiveTime) -> Option<&str> {
        if let Some(a) = self
            .absences
            .iter()
            .find(|a| a.from <= date && date <= a.until)
        {
            return Some(&a.label);
        }
        self.commitments
            .iter()
            .find(|c| c.occurs_on(date) && c.starts < end && start < c.ends)
            .map(|c| c.label.as_str())
    }
}

/// A person's availability as a synced record: one per person (see [`PersonAvailability::id_for`]).
/// Unknown fields are still refused: the inner [`Availability`] denies them, and a mutation naming
/// anything outside [`Entity::FIELDS`](super::record::Entity::FIELDS) is refused before merging.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PersonAvailability {
    pub person_id: Uuid,
    #[serde(flatten)]
    pub availability: Availability,
}

impl PersonAvailability {
    /// The record id for a person, the same on every device.
    pub fn id_for(person: Uuid) -> Uuid {
        Uuid::new_v5(&AVAILABILITY_NAMESPACE, person.as_bytes())
    }
}

const AVAILABILITY_NAMESPACE: Uuid = Uuid::from_u128(0x6d64_7461_7661_696c_6162_696c_6974_7901);

impl super::record::Entity for PersonAvailability {
    const KIND: super::record::EntityKind = super::record::EntityKind::Availability;
    const FIELDS: &'static [&'static str] =
        &["person_id", "commitments", "absences", "prefers_remote"];

    fn validate(&self) -> Result<(), ValidationError> {
        let a = &self.availability;
        for c in &a.commitments {
            c.validate()?;
        }
        for a in &a.absences {
            super::validation::date_in_window("from", "the first day away", a.from)?;
            super::validation::date_in_window("until", "the last day away", a.until)?;
            if a.until < a.from {
                return Err(ValidationError::field(
                    "until",
                    "An absence must end on or after the day it starts",
                ));
            }
            super::validation::required_text(
                "label",
                "what the absence is, like Annual leave",
                &a.label,
                100,
            )?;
        }
        if self.availability.commitments.len() > 50 || self.availability.absences.len() > 200 {
            return Err(ValidationError::record(
                "Too many commitments or absences for one person",
            ));
        }
        Ok(())
    }
}

/// Someone the finder considers.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub id: Uuid,
    pub role: Role,
    /// Must be free: no slot is offered over their commitments.
    pub must_attend: bool,
    pub availability: Availability,
}

/// What to look for.
#[derive(Debug, Clone, PartialEq)]
pub struct SlotQuery {
    pub first_day: NaiveDate,
    pub weeks: u32,
    /// Days of the week to consider (0 = Monday).
    pub weekdays: Vec<u8>,
    pub earliest: NaiveTime,
    /// The meeting must end by this time.
    pub latest: NaiveTime,
    pub minutes: u32,
    pub step_minutes: u32,
    /// Roles needed, with how many of each (e.g. one GP, one social worker, one district nurse).
    pub quorum: Vec<(Role, u32)>,
    pub people: Vec<Candidate>,
    /// The team's own meetings already planned in the window: no slot is offered over them,
    /// whoever is free, so a new series never lands on top of the existing meeting.
    pub booked: Vec<Booked>,
}

impl SlotQuery {
    /// The window's last day.
    fn last_day(&self) -> NaiveDate {
        self.first_day + Duration::weeks(i64::from(self.weeks)) - Duration::days(1)
    }

    /// The Monday of the week grid's first week: the week of the window's first day that is
    /// one of the days asked for, so a search made on a Friday or at the weekend does not open
    /// on a week with nothing left in it.
    pub fn first_monday(&self) -> NaiveDate {
        let first = (0..7)
            .map(|d| self.first_day + Duration::days(d))
            .find(|d| self.weekdays.contains(&weekday_index(d.weekday())))
            .unwrap_or(self.first_day);
        first - Duration::days(i64::from(first.weekday().num_days_from_monday()))
    }

    /// The week of the grid (counted from [`SlotQuery::first_monday`]) to open on: the first
    /// with a day to choose, one of the days asked for that is in the window and not a bank
    /// holiday; so the grid never opens on a week of dashes (issue 29). 0 when none has.
    pub fn first_open_week(&self, holidays: &BankHolidays) -> u32 {
        let monday = self.first_monday();
        (0..self.grid_weeks())
            .find(|week| {
                self.weekdays.iter().filter(|d| **d < 7).any(|d| {
                    let date =
                        monday + Duration::weeks(i64::from(*week)) + Duration::days(i64::from(*d));
                    date >= self.first_day && date <= self.last_day() && !holidays.contains(date)
                })
            })
            .unwrap_or(0)
    }

    /// How many weeks (Monday to Sunday) the week grid shows, from [`SlotQuery::first_monday`]
    /// to the week of the window's last day, so the grid reaches every day of the window
    /// whatever day the search is made.
    pub fn grid_weeks(&self) -> u32 {
        if self.weeks == 0 {
            return 0;
        }
        let weeks = (self.last_day() - self.first_monday())
            .num_days()
            .div_euclid(7)
            + 1;
        weeks.max(1) as u32
    }
}

/// A meeting the team already has, in UK wall-clock time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Booked {
    pub date: NaiveDate,
    pub starts: NaiveTime,
    pub ends: NaiveTime,
}

impl Booked {
    /// Whether a meeting on `date` from `starts` to `ends` would overlap this one.
    pub fn overlaps(&self, date: NaiveDate, starts: NaiveTime, ends: NaiveTime) -> bool {
        self.date == date && starts < self.ends && self.starts < ends
    }
}

/// One ranked slot, with who is free and who clashes with what.
#[derive(Debug, Clone, PartialEq)]
pub struct SlotOption {
    pub date: NaiveDate,
    pub starts: NaiveTime,
    pub ends: NaiveTime,
    pub quorum_met: bool,
    /// Free people who hold a quorum role.
    pub required_free: u32,
    /// Free people who hold no quorum role.
    pub optional_free: u32,
    /// Free people who would rather join remotely.
    pub remote: u32,
    pub free: Vec<Uuid>,
    /// (person, what they have on)
    pub clashes: Vec<(Uuid, String)>,
    /// The team already meets at (part of) this time; such a slot never meets quorum.
    pub team_meeting: bool,
}

/// Most start times one day can hold (24 hours in 5-minute steps).
const MAX_STEPS: usize = 288;
/// A set of start indexes for one day.
type StepSet = [u64; MAX_STEPS.div_ceil(64)];

fn set_range(set: &mut StepSet, from: usize, to: usize) {
    for i in from..to.min(MAX_STEPS) {
        set[i / 64] |= 1 << (i % 64);
    }
}

fn has(set: &StepSet, i: usize) -> bool {
    set[i / 64] & (1 << (i % 64)) != 0
}

fn minutes_of(t: NaiveTime) -> i64 {
    i64::from(t.num_seconds_from_midnight() / 60)
}

/// Ranks meeting slots: quorum met first, then more quorum-role people free, then more others
/// free, then fewer joining remotely, then earlier. Never offers a slot on a bank holiday or over
/// the commitments of someone who must attend, nor over the team's own meetings.
pub struct SlotFinder<'a> {
    query: &'a SlotQuery,
    holidays: &'a BankHolidays,
}

/// Ordering key of a slot (bigger is better), with its position for ties: earlier wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Rank {
    quorum: bool,
    required: u32,
    optional: u32,
    fewer_remote: std::cmp::Reverse<u32>,
    earlier: std::cmp::Reverse<(NaiveDate, u32)>,
}

impl<'a> SlotFinder<'a> {
    /// A finder for `query`, skipping `holidays`.
    pub fn new(query: &'a SlotQuery, holidays: &'a BankHolidays) -> Self {
        Self { query, holidays }
    }

    /// The best `limit` slots, best first.
    pub fn find(&self, limit: usize) -> Vec<SlotOption> {
        let q = self.query;
        let step = i64::from(q.step_minutes.max(1));
        let length = i64::from(q.minutes);
        let day_start = minutes_of(q.earliest);
        let last_start = minutes_of(q.latest) - length;
        if last_start < day_start || limit == 0 {
            return Vec::new();
        }
        let steps = (((last_start - day_start) / step) as usize + 1).min(MAX_STEPS);
        let quorum_role = |r: Role| q.quorum.iter().any(|(role, _)| *role == r);
        // Worst-first heap of the best slots so far.
        let mut best: BinaryHeap<std::cmp::Reverse<(Rank, NaiveDate, u32)>> =
            BinaryHeap::with_capacity(limit + 1);
        let mut busy: Vec<StepSet> = vec![[0; MAX_STEPS.div_ceil(64)]; q.people.len()];
        for day in 0..i64::from(q.weeks) * 7 {
            let date = q.first_day + Duration::days(day);
            if !q.weekdays.contains(&weekday_index(date.weekday())) || self.holidays.contains(date)
            {
                continue;
            }
            // The start indexes of a meeting [start, start + length) that would overlap the
            // time from `b0` to `b1` (minutes from midnight).
            let overlapping = |set: &mut StepSet, b0: i64, b1: i64| {
                // start + length > b0 and start < b1
                let lo = (b0 - length - day_start).div_euclid(step) + 1;
                let hi = (b1 - day_start + step - 1).div_euclid(step);
                set_range(set, lo.max(0) as usize, hi.clamp(0, steps as i64) as usize);
            };
            // Starts over the team's own meetings are never offered.
            let mut team_busy: StepSet = [0; MAX_STEPS.div_ceil(64)];
            for b in q.booked.iter().filter(|b| b.date == date) {
                overlapping(&mut team_busy, minutes_of(b.starts), minutes_of(b.ends));
            }
            // Each person's blocked start indexes today: a start is blocked when the meeting
            // would overlap a commitment or absence.
            for (person, set) in q.people.iter().zip(busy.iter_mut()) {
                *set = [0; MAX_STEPS.div_ceil(64)];
                let a = &person.availability;
                if a.absences
                    .iter()
                    .any(|ab| ab.from <= date && date <= ab.until)
                {
                    set_range(set, 0, steps);
                    continue;
                }
                for c in a.commitments.iter().filter(|c| c.occurs_on(date)) {
                    overlapping(set, minutes_of(c.starts), minutes_of(c.ends));
                }
            }
            'start: for s in 0..steps {
                if has(&team_busy, s) {
                    continue;
                }
                let mut counts = [0u32; Role::ALL.len()];
                let (mut required, mut optional, mut remote) = (0, 0, 0);
                for (person, set) in q.people.iter().zip(&busy) {
                    let free = !has(set, s);
                    if !free {
                        if person.must_attend {
                            continue 'start;
                        }
                        continue;
                    }
                    counts[person.role as usize] += 1;
                    if quorum_role(person.role) {
                        required += 1;
                    } else {
                        optional += 1;
                    }
                    remote += u32::from(person.availability.prefers_remote);
                }
                let quorum = q
                    .quorum
                    .iter()
                    .all(|(role, n)| counts[*role as usize] >= *n);
                let rank = Rank {
                    quorum,
                    required,
                    optional,
                    fewer_remote: std::cmp::Reverse(remote),
                    earlier: std::cmp::Reverse((date, s as u32)),
                };
                if best.len() < limit {
                    best.push(std::cmp::Reverse((rank, date, s as u32)));
                } else if best.peek().is_some_and(|w| w.0 .0 < rank) {
                    best.pop();
                    best.push(std::cmp::Reverse((rank, date, s as u32)));
                }
            }
        }
        let mut ranked: Vec<_> = best.into_iter().map(|r| r.0).collect();
        ranked.sort_by_key(|r| std::cmp::Reverse(r.0));
        ranked
            .into_iter()
            .map(|(_, date, s)| {
                self.evaluate(date, q.earliest + Duration::minutes(i64::from(s) * step))
            })
            .collect()
    }

    /// One start time judged on its own: who is free and who clashes with what, and whether the
    /// quorum holds (every role covered and everyone who must attend free; never on a bank
    /// holiday or over the team's own meetings). The same judgement [`SlotFinder::find`] ranks by.
    pub fn evaluate(&self, date: NaiveDate, starts: NaiveTime) -> SlotOption {
        let q = self.query;
        let ends = starts + Duration::minutes(i64::from(q.minutes));
        let mut free = Vec::new();
        let mut clashes = Vec::new();
        let mut counts = [0u32; Role::ALL.len()];
        let (mut required, mut optional, mut remote) = (0, 0, 0);
        let mut must_attend_free = true;
        for p in &q.people {
            match p.availability.clash(date, starts, ends) {
                None => {
                    free.push(p.id);
                    counts[p.role as usize] += 1;
                    if q.quorum.iter().any(|(role, _)| *role == p.role) {
                        required += 1;
                    } else {
                        optional += 1;
                    }
                    remote += u32::from(p.availability.prefers_remote);
                }
                Some(what) => {
                    must_attend_free &= !p.must_attend;
                    clashes.push((p.id, what.to_owned()));
                }
            }
        }
        let team_meeting = q.booked.iter().any(|b| b.overlaps(date, starts, ends));
        let quorum_met = must_attend_free
            && !team_meeting
            && !self.holidays.contains(date)
            && q.quorum
                .iter()
                .all(|(role, n)| counts[*role as usize] >= *n);
        SlotOption {
            date,
            starts,
            ends,
            quorum_met,
            required_free: required,
            optional_free: optional,
            remote,
            free,
            clashes,
            team_meeting,
        }
    }

    /// One week of the window at a glance, for the grid on the find-a-time page: each weekday
    /// of the query in the week starting `monday`, each start time `row_minutes` apart that
    /// finishes by the query's latest time.
    pub fn week(&self, monday: NaiveDate, row_minutes: u32) -> WeekGrid {
        let q = self.query;
        let row = i64::from(row_minutes.max(5));
        let last_start = minutes_of(q.latest) - i64::from(q.minutes);
        let starts: Vec<NaiveTime> = (0..)
            .map(|i| minutes_of(q.earliest) + i * row)
            .take_while(|m| *m <= last_start)
            .take(MAX_STEPS)
            .filter_map(|m| NaiveTime::from_hms_opt((m / 60) as u32, (m % 60) as u32, 0))
            .collect();
        let mut weekdays = q.weekdays.clone();
        weekdays.sort_unstable();
        weekdays.dedup();
        let days = weekdays
            .into_iter()
            .filter(|d| *d < 7)
            .map(|d| {
                let date = monday + Duration::days(i64::from(d));
                GridDay {
                    date,
                    bank_holiday: self.holidays.contains(date),
                    slots: starts.iter().map(|t| self.evaluate(date, *t)).collect(),
                }
            })
            .collect();
        WeekGrid { starts, days }
    }
}

/// A week of start times and who is free at each, see [`SlotFinder::week`].
#[derive(Debug, Clone, PartialEq)]
pub struct WeekGrid {
    /// The rows: start times in UK local time.
    pub starts: Vec<NaiveTime>,
    /// The columns, Monday first.
    pub days: Vec<GridDay>,
}

/// One day's column of the week grid.
#[derive(Debug, Clone, PartialEq)]
pub struct GridDay {
    pub date: NaiveDate,
    /// No meeting is offered on a bank holiday.
    pub bank_holiday: bool,
    /// One per row of [`WeekGrid::starts`].
    pub slots: Vec<SlotOption>,
}

/// How a series repeats: the subset of RFC 5545 RRULE that Outlook accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "freq", rename_all = "snake_case", deny_unknown_fields)]
pub enum Recurrence {
    /// Every `interval` weeks on `weekday` (0 = Monday).
    Weekly { interval: u8, weekday: u8 },
    /// The `nth` (1–4, or -1 for last) `weekday` of every month.
    Monthly { nth: i8, weekday: u8 },
}

const ICAL_DAYS: [&str; 7] = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];

/// Most occurrences any expansion produces (ten years of weekly meetings).
pub const MAX_OCCURRENCES: usize = 520;

impl Recurrence {
    /// The RRULE value, e.g. `FREQ=WEEKLY;INTERVAL=2;BYDAY=TU` or `FREQ=MONTHLY;BYDAY=2TU`.
    pub fn rrule(self) -> String {
        match self {
            Self::Weekly { interval, weekday } => {
                let day = ICAL_DAYS[usize::from(weekday.min(6))];
                if interval <= 1 {
                    format!("FREQ=WEEKLY;BYDAY={day}")
                } else {
                    format!("FREQ=WEEKLY;INTERVAL={interval};BYDAY={day}")
                }
            }
            Self::Monthly { nth, weekday } => format!(
                "FREQ=MONTHLY;BYDAY={nth}{}",
                ICAL_DAYS[usize::from(weekday.min(6))]
            ),
        }
    }

    /// In words: "every week on Tuesday", "every 2 weeks on Thursday", "the 2nd Tuesday of the
    /// month", "the last Friday of the month".
    pub fn describe(self) -> String {
        match self {
            Self::Weekly { interval, weekday } if interval <= 1 => {
                format!(
                    "every week on {}",
                    WEEKDAY_NAMES[usize::from(weekday.min(6))]
                )
            }
            Self::Weekly { interval, weekday } => format!(
                "every {interval} weeks on {}",
                WEEKDAY_NAMES[usize::from(weekday.min(6))]
            ),
            Self::Monthly { nth, weekday } => {
                let ordinal = match nth {
                    1 => "1st",
                    2 => "2nd",
                    3 => "3rd",
                    4 => "4th",
                    _ => "last",
                };
                format!(
                    "the {ordinal} {} of the month",
                    WEEKDAY_NAMES[usize::from(weekday.min(6))]
                )
            }
        }
    }

    /// Checks the rule is one the app can write as an RRULE: a weekday, every 1–4 weeks, or
    /// the 1st–4th or last weekday of the month.
    pub fn validate(self) -> Result<(), ValidationError> {
        let (weekday_ok, repeat_ok) = match self {
            Self::Weekly { interval, weekday } => (weekday <= 6, (1..=4).contains(&interval)),
            Self::Monthly { nth, weekday } => (weekday <= 6, (1..=4).contains(&nth) || nth == -1),
        };
        if !weekday_ok {
            return Err(ValidationError::field("rule", "Choose a day of the week"));
        }
        if !repeat_ok {
            return Err(ValidationError::field(
                "rule",
                "Repeat every 1 to 4 weeks, or on the 1st, 2nd, 3rd, 4th or last weekday of the month",
            ));
        }
        Ok(())
    }

    /// The monthly rules a series starting on `date` can have: "the nth weekday of the month"
    /// when `date` is its month's 1st–4th of that weekday, and "the last weekday of the month"
    /// when no later one follows in its month. A 29th–31st is only ever "the last" (most
    /// months have no 5th Monday, so "the 5th" is no rule). Every rule given matches `date`,
    /// and there is always at least one.
    pub fn monthly_rules_on(date: NaiveDate) -> Vec<Recurrence> {
        let weekday = weekday_index(date.weekday());
        let mut rules = Vec::with_capacity(2);
        let nth = (date.day() - 1) / 7 + 1;
        if nth <= 4 {
            rules.push(Self::Monthly {
                nth: nth as i8,
                weekday,
            });
        }
        let is_last = date
            .checked_add_signed(Duration::weeks(1))
            .is_none_or(|next| next.month() != date.month());
        if is_last {
            rules.push(Self::Monthly { nth: -1, weekday });
        }
        rules
    }

    /// Whether the rule can fall on `date` (right weekday; for monthly rules, the right week).
    pub fn matches(self, date: NaiveDate) -> bool {
        match self {
            Self::Weekly { weekday, .. } => weekday_index(date.weekday()) == weekday,
            Self::Monthly { nth, weekday } => {
                nth_weekday(date.year(), date.month(), nth, weekday) == Some(date)
            }
        }
    }

    /// Dates of the rule from `first` (inclusive, which must itself match) up to `until`, at most
    /// `cap` of them.
    ///
    /// Whatever the rule and dates, it stops at the end of the stored-date window
    /// ([`LATEST_DATE`](super::validation::LATEST_DATE)), so it always ends, and soon.
    pub fn dates(self, first: NaiveDate, until: NaiveDate, cap: usize) -> Vec<NaiveDate> {
        let cap = cap.min(MAX_OCCURRENCES);
        let until = until.min(super::validation::LATEST_DATE);
        let mut out = Vec::new();
        match self {
            Self::Weekly { interval, .. } => {
                let step = Duration::weeks(i64::from(interval.max(1)));
                let mut d = Some(first);
                while let Some(day) = d.filter(|day| *day <= until && out.len() < cap) {
                    out.push(day);
                    d = day.checked_add_signed(step);
                }
            }
            Self::Monthly { nth, weekday } => {
                let (mut y, mut m) = (first.year(), first.month());
                while out.len() < cap && (y, m) <= (until.year(), until.month()) {
                    if let Some(d) = nth_weekday(y, m, nth, weekday) {
                        if d > until {
                            break;
                        }
                        if d >= first {
                            out.push(d);
                        }
                    }
                    (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
                }
            }
        }
        out
    }
}

/// The `nth` (1–5, or -1 for last) `weekday` (0 = Monday) of a month.
pub fn nth_weekday(year: i32, month: u32, nth: i8, weekday: u8) -> Option<NaiveDate> {
    let first = NaiveDate::from_ymd_opt(year, month, 1)?;
    let offset =
        (i64::from(weekday) - i64::from(first.weekday().num_days_from_monday())).rem_euclid(7);
    let first_match = first + Duration::days(offset);
    if nth > 0 {
        let d = first_match + Duration::weeks(i64::from(nth) - 1);
        (d.month() == month).then_some(d)
    } else {
        let mut d = first_match;
        while (d + Duration::weeks(1)).month() == month {
            d += Duration::weeks(1);
        }
        Some(d)
    }
}

/// How well a repeating slot suits the team: of the occurrences in the window, how many meet
/// quorum (bank holidays, must-attend clashes and the team's own meetings count as misses).
pub fn score_series(
    query: &SlotQuery,
    holidays: &BankHolidays,
    rule: Recurrence,
    first: NaiveDate,
    starts: NaiveTime,
) -> (usize, usize) {
    let until = query.first_day + Duration::weeks(i64::from(query.weeks)) - Duration::days(1);
    let dates = rule.dates(first, until, MAX_OCCURRENCES);
    let finder = SlotFinder::new(query, holidays);
    let good = dates
        .iter()
        .filter(|d| finder.evaluate(**d, starts).quorum_met)
        .count();
    (dates.len(), good)
}

#[cfg(test)]
mod tests;

/// The synthetic workload of the slot-finder benchmark (BENCHMARKS.md), shared by the native
/// example and the browser benchmark so both measure the same thing: 40 members with 3–6 weekly
/// or fortnightly commitments each, a GP + social worker + district nurse quorum, 26 weeks of
/// weekdays 08:00–18:00 in 5-minute steps, a 90-minute meeting.
pub fn benchmark_query() -> SlotQuery {
    let roles = [
        Role::Gp,
        Role::SocialWorker,
        Role::DistrictNurse,
        Role::PracticeNurse,
        Role::CareNavigator,
        Role::PalliativeCareNurse,
        Role::CommunityMatron,
        Role::Pharmacist,
    ];
    // A small deterministic generator: the same people every run.
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let first_day = NaiveDate::from_ymd_opt(2026, 11, 30).expect("valid date");
    let people = (0..40u128)
        .map(|i| {
            let commitments = (0..3 + next(4))
                .map(|_| {
                    let start = 16 + next(16) as u32; // half hours from 08:00
                    let length = 4 + next(8) as u32;
                    let end = (start + length).min(40);
                    Commitment {
                        weekday: next(5) as u8,
                        starts: NaiveTime::from_hms_opt(start / 2, (start % 2) * 30, 0)
                            .expect("valid time"),
                        ends: NaiveTime::from_hms_opt(end / 2, (end % 2) * 30, 0)
                            .expect("valid time"),
                        label: "Clinic".into(),
                        every_weeks: 1 + next(2) as u8,
                        anchor: Some(first_day),
                        from: None,
                        until: None,
                    }
                })
                .collect();
            Candidate {
                id: Uuid::from_u128(i + 1),
                role: roles[(i % 8) as usize],
                must_attend: i == 0,
                availability: Availability {
                    commitments,
                    absences: Vec::new(),
                    prefers_remote: i % 5 == 0,
                },
            }
        })
        .collect();
    SlotQuery {
        first_day,
        weeks: 26,
        weekdays: vec![0, 1, 2, 3, 4],
        earliest: NaiveTime::from_hms_opt(8, 0, 0).expect("valid time"),
        latest: NaiveTime::from_hms_opt(18, 0, 0).expect("valid time"),
        minutes: 90,
        step_minutes: 5,
        quorum: vec![
            (Role::Gp, 1),
            (Role::SocialWorker, 1),
            (Role::DistrictNurse, 1),
        ],
        people,
        booked: Vec::new(),
    }
}
