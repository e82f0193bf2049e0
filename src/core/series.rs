//! A meeting series: a rule (weekly, monthly on the nth weekday, …) from a first date, at a UK
//! wall-clock time, with skipped and moved meetings; the meetings it makes keep the same ids on
//! every device.

use std::collections::HashSet;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::meeting::{Meeting, MeetingStatus};
use super::schedule::{Recurrence, MAX_OCCURRENCES};
use super::uk_time;
use super::validation::{self as check, ValidationError};

/// A recurring meeting: a rule in UK wall-clock time, with skipped and moved occurrences.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Series {
    pub team_id: Uuid,
    pub rule: Recurrence,
    /// The first occurrence (must match the rule).
    pub first_date: NaiveDate,
    pub starts: NaiveTime,
    pub minutes: u32,
    #[serde(default)]
    pub until: Option<NaiveDate>,
    #[serde(default)]
    pub exceptions: Vec<SeriesException>,
    #[serde(default)]
    pub place: String,
    #[serde(default)]
    pub video_link: Option<String>,
    /// Bumped on every change, so calendar programs replace their copy.
    #[serde(default)]
    pub sequence: u32,
    #[serde(default)]
    pub cancelled: bool,
}

impl super::record::Entity for Series {
    const KIND: super::record::EntityKind = super::record::EntityKind::Series;
    const FIELDS: &'static [&'static str] = &[
        "team_id",
        "rule",
        "first_date",
        "starts",
        "minutes",
        "until",
        "exceptions",
        "place",
        "video_link",
        "sequence",
        "cancelled",
    ];

    fn validate(&self) -> Result<(), ValidationError> {
        Series::validate(self)
    }
}

impl Series {
    /// The meeting id of an occurrence, the same on every device, so materialising the series
    /// twice never makes two meetings.
    pub fn meeting_id(series: Uuid, original: NaiveDate) -> Uuid {
        let mut bytes = [0u8; 20];
        bytes[..16].copy_from_slice(series.as_bytes());
        bytes[16..].copy_from_slice(&original.num_days_from_ce().to_be_bytes());
        Uuid::new_v5(&SERIES_NAMESPACE, &bytes)
    }
}

const SERIES_NAMESPACE: Uuid = Uuid::from_u128(0x6d64_7473_6572_6965_736d_6565_7469_6e01);

/// One occurrence skipped, or moved to another UK date and time.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeriesException {
    /// The occurrence's date under the rule.
    pub date: NaiveDate,
    /// Where it moved to; `None` means skipped.
    #[serde(default)]
    pub moved_to: Option<NaiveDateTime>,
}

/// One meeting of a series, in UK local time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occurrence {
    /// The date under the rule (the calendar's RECURRENCE-ID).
    pub original: NaiveDate,
    pub starts: NaiveDateTime,
}

impl Series {
    /// The occurrences from `from` to `to` (inclusive), moved ones at their new time, skipped
    /// ones left out; at most [`MAX_OCCURRENCES`].
    pub fn occurrences(&self, from: NaiveDate, to: NaiveDate) -> Vec<Occurrence> {
        let until = self.until.map_or(to, |u| u.min(to));
        self.rule
            .dates(self.first_date, until, MAX_OCCURRENCES)
            .into_iter()
            .filter(|d| *d >= from)
            .filter_map(|original| {
                self.planned_start(original)
                    .map(|starts| Occurrence { original, starts })
            })
            .collect()
    }

    /// When the occurrence that the rule puts on `original` happens now, in UK local time:
    /// moved, or at the series' usual time; `None` when it is skipped, after the series' end
    /// date, or the whole series is cancelled.
    pub fn planned_start(&self, original: NaiveDate) -> Option<NaiveDateTime> {
        if self.cancelled || self.until.is_some_and(|u| original > u) {
            return None;
        }
        match self.exceptions.iter().find(|e| e.date == original) {
            Some(SeriesException { moved_to, .. }) => *moved_to,
            None => Some(original.and_time(self.starts)),
        }
    }

    /// When the occurrence the rule puts on `original` starts under the rule, in UK local time,
    /// whether or not it was moved since: the RECURRENCE-ID that names it in calendars.
    pub fn original_start(&self, original: NaiveDate) -> NaiveDateTime {
        original.and_time(self.starts)
    }

    /// Every meeting the series may have made, skipped ones included, up to the same horizon
    /// as [`Series::meeting_changes`]: each meeting's id with its date under the rule (which
    /// occurrence of the series' calendar event it is).
    pub fn meeting_dates(&self, series_id: Uuid, now: DateTime<Utc>) -> Vec<(Uuid, NaiveDate)> {
        let horizon = uk_time::uk_today(now) + chrono::Duration::days(366 * 2);
        self.rule
            .dates(self.first_date, horizon, MAX_OCCURRENCES)
            .into_iter()
            .map(|original| (Series::meeting_id(series_id, original), original))
            .collect()
    }

    /// The ids of [`Series::meeting_dates`]: a meeting among them belongs to the series'
    /// calendar event, not to one of its own.
    pub fn meeting_ids(&self, series_id: Uuid, now: DateTime<Utc>) -> HashSet<Uuid> {
        self.meeting_dates(series_id, now)
            .into_iter()
            .map(|(id, _)| id)
            .collect()
    }

    /// The meetings of this series already in the calendar that an edit from `before` to
    /// `self` changes, with their new content: a skipped occurrence (or one after a new end
    /// date, or every one of a cancelled series) is cancelled, a moved one gets its new time,
    /// one no longer skipped is planned again. Meetings that have started are left alone, and
    /// so are occurrences the edit does not touch, so a change made to one meeting directly
    /// survives an unrelated edit of the series. `meeting` looks up a meeting by id.
    pub fn meeting_changes(
        &self,
        before: &Series,
        series_id: Uuid,
        meeting: impl Fn(Uuid) -> Option<Meeting>,
        now: DateTime<Utc>,
    ) -> Vec<(Uuid, Meeting)> {
        let horizon = uk_time::uk_today(now) + chrono::Duration::days(366 * 2);
        self.rule
            .dates(self.first_date, horizon, MAX_OCCURRENCES)
            .into_iter()
            .filter(|original| before.planned_start(*original) != self.planned_start(*original))
            .filter_map(|original| {
                let id = Series::meeting_id(series_id, original);
                let current = meeting(id).filter(|m| m.starts_at > now)?;
                let changed = match self.planned_start(original) {
                    None => Meeting {
                        status: MeetingStatus::Cancelled,
                        ..current.clone()
                    },
                    Some(at) => {
                        let starts_at = uk_time::from_uk(at).ok()?;
                        Meeting {
                            starts_at,
                            ends_at: starts_at + chrono::Duration::minutes(i64::from(self.minutes)),
                            status: MeetingStatus::Planned,
                            ..current.clone()
                        }
                    }
                };
                (changed != current).then_some((id, changed))
            })
            .collect()
    }

    /// Checks the series can be written down and expanded.
    pub fn validate(&self) -> Result<(), ValidationError> {
        self.rule.validate()?;
        check::date_in_window("first_date", "the first meeting's date", self.first_date)?;
        if let Some(until) = self.until {
            check::date_in_window("until", "the series' end date", until)?;
        }
        if self.sequence > MAX_SEQUENCE {
            return Err(ValidationError::field(
                "sequence",
                "The series has been changed too many times: start a new series",
            ));
        }
        for e in &self.exceptions {
            check::date_in_window("exceptions", "the skipped meeting's date", e.date)?;
            if let Some(to) = e.moved_to {
                check::date_in_window("exceptions", "the new date", to.date())?;
            }
        }
        if !self.rule.matches(self.first_date) {
            let day = self.first_date.format("%A %-d %B %Y");
            let message = match self.rule {
                Recurrence::Weekly { weekday, .. } => format!(
                    "The first meeting, {day}, is not on a {}: choose a first date that is, or another repeat",
                    super::schedule::WEEKDAY_NAMES[usize::from(weekday.min(6))]
                ),
                Recurrence::Monthly { .. } => format!(
                    "The first meeting, {day}, is not {}: choose a first date that is, or another repeat",
                    self.rule.describe()
                ),
            };
            return Err(ValidationError::field("first_date", message));
        }
        if !(15..=480).contains(&self.minutes) {
            return Err(ValidationError::field(
                "minutes",
                "A meeting lasts between 15 and 480 minutes",
            ));
        }
        check::optional_line("place", "the place", &self.place, 300)?;
        if let Some(link) = self.video_link.as_deref().filter(|l| !l.is_empty()) {
            check::https_link("video_link", link)?;
        }
        if self.until.is_some_and(|u| u < self.first_date) {
            return Err(ValidationError::field(
                "until",
                "The series must end on or after its first meeting",
            ));
        }
        if self.exceptions.len() > MAX_EXCEPTIONS {
            return Err(ValidationError::field(
                "exceptions",
                format!("A series can have at most {MAX_EXCEPTIONS} skipped or moved meetings; start a new series instead"),
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for e in &self.exceptions {
            if !seen.insert(e.date) {
                return Err(ValidationError::field(
                    "exceptions",
                    "A meeting of the series is skipped or moved more than once",
                ));
            }
            let on_the_rule = e.date >= self.first_date
                && self
                    .rule
                    .dates(self.first_date, e.date, MAX_OCCURRENCES)
                    .last()
                    == Some(&e.date);
            if !on_the_rule {
                return Err(ValidationError::field(
                    "exceptions",
                    format!(
                        "The series has no meeting on {}",
                        uk_time::format_date(e.date)
                    ),
                ));
            }
            if let Some(to) = e.moved_to {
                uk_time::from_uk(to).map_err(|_| {
                    ValidationError::field(
                        "exceptions",
                        "That time does not exist in the UK (the clocks go forward then)",
                    )
                })?;
            }
        }
        Ok(())
    }
}

/// Most times a series may be changed (its calendar SEQUENCE).
pub const MAX_SEQUENCE: u32 = 100_000;

/// Most skipped or moved meetings one series may hold.
pub const MAX_EXCEPTIONS: usize = 100;

#[cfg(test)]
pub(crate) mod tests;
