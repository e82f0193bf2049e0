//! One MDT meeting: when and where it is held, and whether it is going ahead. Times are
//! instants (UTC); people enter and read them in UK time.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::record::{Entity, EntityKind};
use super::uk_time;
use super::validation::{self as check, ValidationError};

/// Whether a meeting is going ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MeetingStatus {
    Planned,
    Cancelled,
    /// Held and closed by the coordinator; undiscussed items move to the next meeting.
    Closed,
}

/// Longest meeting the app accepts: anything longer is almost certainly a typing mistake.
pub const MAX_MEETING_HOURS: i64 = 8;

/// One MDT meeting. Times are instants (UTC); people enter and read them in UK time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Meeting {
    pub team_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    #[serde(default)]
    pub place: String,
    #[serde(default)]
    pub video_link: Option<String>,
    pub status: MeetingStatus,
}

impl Meeting {
    /// Turns a date and start and end times typed in UK time (`2026-07-07`, `13:00`, `14:30`)
    /// into UTC instants, saying which field is wrong if one is.
    pub fn times_from_uk(
        date: &str,
        start: &str,
        end: &str,
    ) -> Result<(DateTime<Utc>, DateTime<Utc>), ValidationError> {
        let date = NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d")
            .map_err(|_| ValidationError::field("date", "Enter the date of the meeting"))?;
        let time = |field: &str, s: &str, what: &str| {
            chrono::NaiveTime::parse_from_str(s.trim(), "%H:%M").map_err(|_| {
                ValidationError::field(
                    field,
                    format!("Enter the {what} time as hours and minutes, like 13:30"),
                )
            })
        };
        let start = time("starts_at", start, "start")?;
        let end = time("ends_at", end, "end")?;
        let starts_at = uk_time::from_uk(date.and_time(start))
            .map_err(|e| ValidationError::field("starts_at", e.to_string()))?;
        let ends_at = uk_time::from_uk(date.and_time(end))
            .map_err(|e| ValidationError::field("ends_at", e.to_string()))?;
        Ok((starts_at, ends_at))
    }

    /// Length in whole minutes.
    pub fn minutes(&self) -> i64 {
        (self.ends_at - self.starts_at).num_minutes()
    }

    /// Whether the meeting may be concluded at `now`: only once it has started, so a meeting
    /// still to come is never recorded as held (to call it off, it is cancelled). The refusal
    /// says when it starts and what to do instead.
    pub fn may_conclude(&self, now: DateTime<Utc>) -> Result<(), String> {
        if now >= self.starts_at {
            return Ok(());
        }
        let local = uk_time::to_uk(self.starts_at);
        Err(format!(
            "This meeting starts on {} at {}; you can conclude it once it has started. To call it off, cancel it.",
            local.format("%a %-d %b %Y"),
            local.format("%H:%M")
        ))
    }

    /// Whether `now` is on the meeting's day in the UK: the day it can be run (the timer).
    pub fn is_on_its_day(&self, now: DateTime<Utc>) -> bool {
        uk_time::uk_today(now) == uk_time::uk_today(self.starts_at)
    }
}

impl Entity for Meeting {
    const KIND: EntityKind = EntityKind::Meeting;
    const FIELDS: &'static [&'static str] = &[
        "team_id",
        "starts_at",
        "ends_at",
        "place",
        "video_link",
        "status",
    ];

    fn validate(&self) -> Result<(), ValidationError> {
        check::instant_in_window("starts_at", "a start date", self.starts_at)?;
        check::instant_in_window("ends_at", "an end date", self.ends_at)?;
        if self.ends_at <= self.starts_at {
            return Err(ValidationError::field(
                "ends_at",
                "The meeting must end after it starts",
            ));
        }
        if self.ends_at - self.starts_at > Duration::hours(MAX_MEETING_HOURS) {
            return Err(ValidationError::field(
                "ends_at",
                format!("A meeting can last at most {MAX_MEETING_HOURS} hours"),
            ));
        }
        check::optional_line("place", "the place", &self.place, 300)?;
        if let Some(link) = self.video_link.as_deref().filter(|l| !l.is_empty()) {
            check::https_link("video_link", link)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn meetings_must_end_after_they_start_and_not_run_all_day() {
        let start = Utc.with_ymd_and_hms(2026, 3, 3, 12, 30, 0).unwrap();
        let mut m = Meeting {
            team_id: Uuid::from_u128(7),
            starts_at: start,
            ends_at: start + Duration::minutes(90),
            place: String::new(),
            video_link: None,
            status: MeetingStatus::Planned,
        };
        assert!(m.validate().is_ok());
        assert_eq!(m.minutes(), 90);
        m.ends_at = start;
        assert!(m.validate().is_err());
        m.ends_at = start + Duration::hours(9);
        assert!(m
            .validate()
            .unwrap_err()
            .message
            .contains("at most 8 hours"));
    }

    #[test]
    fn typed_uk_times_become_utc() {
        let (s, e) = Meeting::times_from_uk("2026-07-07", "13:00", "14:30").unwrap();
        assert_eq!(s.to_rfc3339(), "2026-07-07T12:00:00+00:00");
        assert_eq!((e - s).num_minutes(), 90);
        let (winter, _) = Meeting::times_from_uk("2026-12-01", "13:00", "14:30").unwrap();
        assert_eq!(winter.to_rfc3339(), "2026-12-01T13:00:00+00:00");
        assert_eq!(
            Meeting::times_from_uk("", "13:00", "14:00")
                .unwrap_err()
                .field
                .as_deref(),
            Some("date")
        );
        assert_eq!(
            Meeting::times_from_uk("2026-07-07", "1pm", "14:00")
                .unwrap_err()
                .field
                .as_deref(),
            Some("starts_at")
        );
        assert!(Meeting::times_from_uk("2026-03-29", "01:30", "02:30")
            .unwrap_err()
            .message
            .contains("clocks go forward"));
    }
}
