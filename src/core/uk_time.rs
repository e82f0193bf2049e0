//! UK wall-clock time (Europe/London) without shipping a time-zone database to the browser.
//!
//! Since 1996 the UK has changed clocks at 01:00 UTC on the last Sunday of March (GMT → BST,
//! +1 h) and of October (BST → GMT). These two rules are all the app needs for the dates it
//! handles; a test cross-checks them against `chrono-tz` for every hour of 2000–2040.
//! All instants are stored in UTC; people type and read UK local times.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc, Weekday};

/// The last Sunday of `month` in `year`.
fn last_sunday(year: i32, month: u32) -> NaiveDate {
    let first_of_next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)
    }
    .expect("valid month");
    let last_day = first_of_next.pred_opt().expect("has a previous day");
    let back = last_day.weekday().num_days_from_sunday();
    last_day - Duration::days(i64::from(back))
}

/// The UTC instants at which BST starts and ends in `year`.
fn bst_bounds(year: i32) -> (DateTime<Utc>, DateTime<Utc>) {
    let at_one = |d: NaiveDate| Utc.from_utc_datetime(&d.and_hms_opt(1, 0, 0).expect("01:00"));
    (at_one(last_sunday(year, 3)), at_one(last_sunday(year, 10)))
}

/// True when British Summer Time is in force at `instant`.
pub fn is_bst(instant: DateTime<Utc>) -> bool {
    let (start, end) = bst_bounds(instant.year());
    instant >= start && instant < end
}

/// The offset from UTC, in hours, in force in the UK at `instant` (0 or 1).
pub fn offset_hours(instant: DateTime<Utc>) -> i64 {
    i64::from(is_bst(instant))
}

/// The UK wall-clock time of a UTC instant.
pub fn to_uk(instant: DateTime<Utc>) -> NaiveDateTime {
    instant.naive_utc() + Duration::hours(offset_hours(instant))
}

/// Why a UK wall-clock time could not be turned into an instant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UkTimeError {
    /// The clocks go forward over this time, so it never happens.
    #[error("{0} does not exist in the UK: the clocks go forward an hour that night. Choose a time before 01:00 or from 02:00.")]
    SkippedByClockChange(NaiveDateTime),
}

/// The UTC instant of a UK wall-clock time.
///
/// A time that happens twice (the hour after 01:00 on the last Sunday of October) is read as
/// the first, BST, occurrence — the one a person booking ahead means. A time skipped when the
/// clocks go forward is an error that says so.
pub fn from_uk(local: NaiveDateTime) -> Result<DateTime<Utc>, UkTimeError> {
    let as_bst = Utc.from_utc_datetime(&(local - Duration::hours(1)));
    if is_bst(as_bst) {
        return Ok(as_bst);
    }
    let as_gmt = Utc.from_utc_datetime(&local);
    if !is_bst(as_gmt) {
        return Ok(as_gmt);
    }
    Err(UkTimeError::SkippedByClockChange(local))
}

/// "Tue 14 Oct 2025, 13:30" in UK time: how dates are shown to people.
pub fn format_uk(instant: DateTime<Utc>) -> String {
    to_uk(instant).format("%a %-d %b %Y, %H:%M").to_string()
}

/// "Tuesday 14 October 2025, 13:30" in UK time: a date and time written out in full, for an
/// email read away from the app.
pub fn format_uk_long(instant: DateTime<Utc>) -> String {
    to_uk(instant).format("%A %-d %B %Y, %H:%M").to_string()
}

/// "13:30" in UK time.
pub fn format_uk_time(instant: DateTime<Utc>) -> String {
    to_uk(instant).format("%H:%M").to_string()
}

/// "14 Oct 2025": a calendar date as shown to people.
pub fn format_date(date: NaiveDate) -> String {
    date.format("%-d %b %Y").to_string()
}

/// Today's date in the UK at `now`.
pub fn uk_today(now: DateTime<Utc>) -> NaiveDate {
    to_uk(now).date()
}

/// True for Saturday and Sunday.
pub fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn winter_is_gmt_and_summer_is_bst() {
        assert_eq!(
            from_uk(local("2025-01-14 13:30")).unwrap().to_rfc3339(),
            "2025-01-14T13:30:00+00:00"
        );
        assert_eq!(
            from_uk(local("2025-07-14 13:30")).unwrap().to_rfc3339(),
            "2025-07-14T12:30:00+00:00"
        );
    }

    #[test]
    fn the_skipped_hour_in_march_is_refused_with_a_reason() {
        let err = from_uk(local("2025-03-30 01:30")).unwrap_err();
        assert!(err.to_string().contains("clocks go forward"));
        assert!(from_uk(local("2025-03-30 00:59")).is_ok());
        assert_eq!(
            from_uk(local("2025-03-30 02:00")).unwrap().to_rfc3339(),
            "2025-03-30T01:00:00+00:00"
        );
    }

    #[test]
    fn the_repeated_hour_in_october_means_the_first_one() {
        assert_eq!(
            from_uk(local("2025-10-26 01:30")).unwrap().to_rfc3339(),
            "2025-10-26T00:30:00+00:00"
        );
    }

    #[test]
    fn matches_the_tz_database_every_hour_2000_to_2040() {
        use chrono::Offset;
        let london = chrono_tz::Europe::London;
        let mut t = Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).unwrap();
        let end = Utc.with_ymd_and_hms(2041, 1, 1, 0, 0, 0).unwrap();
        while t < end {
            let expected = london
                .offset_from_utc_datetime(&t.naive_utc())
                .fix()
                .local_minus_utc();
            assert_eq!(offset_hours(t) * 3600, i64::from(expected), "at {t}");
            t += Duration::minutes(30);
        }
    }

    #[test]
    fn round_trips_every_local_half_hour_that_exists() {
        let mut l = local("2024-01-01 00:00");
        while l < local("2027-01-01 00:00") {
            if let Ok(instant) = from_uk(l) {
                assert_eq!(to_uk(instant), l);
            }
            l += Duration::minutes(30);
        }
    }

    #[test]
    fn formats_in_uk_time() {
        let t = Utc.with_ymd_and_hms(2025, 10, 14, 12, 30, 0).unwrap();
        assert_eq!(format_uk(t), "Tue 14 Oct 2025, 13:30");
        assert_eq!(format_uk_time(t), "13:30");
    }
}
