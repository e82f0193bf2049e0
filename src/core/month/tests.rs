//! The month calendar: weeks from Monday covering the month, meetings on their UK date (summer
//! time included), series marked even when an occurrence was moved, bank holidays, and months
//! at the edges of what dates hold.

use chrono::{NaiveTime, TimeZone};

use super::*;
use crate::core::schedule::Recurrence;
use crate::core::series::SeriesException;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn meeting(starts_at: DateTime<Utc>, status: MeetingStatus) -> Meeting {
    Meeting {
        team_id: Uuid::from_u128(1),
        starts_at,
        ends_at: starts_at + Duration::minutes(90),
        place: String::new(),
        video_link: None,
        status,
    }
}

fn holidays() -> BankHolidays {
    BankHolidays {
        division: "test".into(),
        source: String::new(),
        dates: [d(2026, 12, 25), d(2026, 12, 28), d(2027, 1, 1)].into(),
    }
}

const SERIES: Uuid = Uuid::from_u128(7);

/// The 2nd Tuesday of each month at 13:00; January's moved to Thursday the 14th.
fn monthly() -> Series {
    Series {
        team_id: Uuid::from_u128(1),
        rule: Recurrence::Monthly { nth: 2, weekday: 1 },
        first_date: d(2026, 12, 8),
        starts: NaiveTime::from_hms_opt(13, 0, 0).unwrap(),
        minutes: 90,
        until: None,
        exceptions: vec![SeriesException {
            date: d(2027, 1, 12),
            moved_to: Some(d(2027, 1, 14).and_hms_opt(13, 0, 0).unwrap()),
        }],
        place: String::new(),
        video_link: None,
        sequence: 0,
        cancelled: false,
    }
}

fn at(y: i32, m: u32, day: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, day, h, min, 0).unwrap()
}

fn meetings() -> Vec<(Uuid, Meeting)> {
    vec![
        (
            Series::meeting_id(SERIES, d(2026, 12, 8)),
            meeting(at(2026, 12, 8, 13, 0), MeetingStatus::Planned),
        ),
        (
            Uuid::from_u128(20),
            meeting(at(2026, 12, 1, 13, 0), MeetingStatus::Closed),
        ),
        (
            Uuid::from_u128(21),
            meeting(at(2026, 12, 15, 9, 0), MeetingStatus::Cancelled),
        ),
        // Two on one day: listed in the order they start.
        (
            Uuid::from_u128(23),
            meeting(at(2026, 12, 15, 14, 0), MeetingStatus::Planned),
        ),
        (
            Uuid::from_u128(22),
            meeting(at(2026, 12, 15, 8, 0), MeetingStatus::Planned),
        ),
        // The moved January occurrence keeps the id of the date the rule gave it.
        (
            Series::meeting_id(SERIES, d(2027, 1, 12)),
            meeting(at(2027, 1, 14, 13, 0), MeetingStatus::Planned),
        ),
        // 23:30 UTC on 30 June is 00:30 on 1 July in London (summer time).
        (
            Uuid::from_u128(24),
            meeting(at(2027, 6, 30, 23, 30), MeetingStatus::Planned),
        ),
    ]
}

fn day(grid: &MonthGrid, date: NaiveDate) -> &CalendarDay {
    grid.weeks
        .iter()
        .flatten()
        .find(|c| c.date == date)
        .unwrap_or_else(|| panic!("{date} not on the grid"))
}

#[test]
fn december_runs_monday_to_sunday_with_meetings_series_and_bank_holidays() {
    let grid = MonthGrid::of(
        d(2026, 12, 17),
        &meetings(),
        &[(SERIES, monthly())],
        &holidays(),
        d(2026, 11, 30),
    );
    assert_eq!(grid.first, d(2026, 12, 1));
    assert_eq!(grid.title(), "December 2026");
    // From Monday 30 November to Sunday 3 January: five weeks.
    assert_eq!(grid.weeks.len(), 5);
    assert_eq!(grid.weeks[0][0].date, d(2026, 11, 30));
    assert!(!grid.weeks[0][0].in_month && grid.weeks[0][0].today);
    assert_eq!(grid.weeks[4][6].date, d(2027, 1, 3));
    assert!(day(&grid, d(2027, 1, 1)).bank_holiday && !day(&grid, d(2027, 1, 1)).in_month);
    assert!(day(&grid, d(2026, 12, 25)).bank_holiday);
    assert!(day(&grid, d(2026, 12, 28)).bank_holiday);
    assert!(!day(&grid, d(2026, 12, 24)).bank_holiday);

    let tuesday = &day(&grid, d(2026, 12, 8)).meetings;
    assert_eq!(tuesday.len(), 1);
    assert_eq!(
        tuesday[0].series.as_deref(),
        Some("the 2nd Tuesday of the month")
    );
    let first = &day(&grid, d(2026, 12, 1)).meetings;
    assert_eq!(
        (first[0].status, first[0].series.clone()),
        (MeetingStatus::Closed, None)
    );
    let busy: Vec<Uuid> = day(&grid, d(2026, 12, 15))
        .meetings
        .iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(
        busy,
        vec![
            Uuid::from_u128(22),
            Uuid::from_u128(21),
            Uuid::from_u128(23)
        ]
    );
    // Planned in the month: the series meeting and two on the 15th (not the concluded or
    // cancelled ones).
    assert_eq!(grid.planned(), 3);
    assert_eq!(grid.days().count(), 31);
}

#[test]
fn a_moved_occurrence_is_still_the_series_and_summer_time_moves_a_meeting_to_the_uk_date() {
    let series = [(SERIES, monthly())];
    let january = MonthGrid::of(
        d(2027, 1, 1),
        &meetings(),
        &series,
        &holidays(),
        d(2026, 11, 30),
    );
    let moved = &day(&january, d(2027, 1, 14)).meetings;
    assert_eq!(moved.len(), 1);
    assert!(moved[0].series.is_some(), "moved, still the series'");
    assert!(day(&january, d(2027, 1, 12)).meetings.is_empty());

    let july = MonthGrid::of(
        d(2027, 7, 1),
        &meetings(),
        &series,
        &holidays(),
        d(2026, 11, 30),
    );
    assert_eq!(day(&july, d(2027, 7, 1)).meetings.len(), 1);
    let june = MonthGrid::of(
        d(2027, 6, 1),
        &meetings(),
        &series,
        &holidays(),
        d(2026, 11, 30),
    );
    assert!(day(&june, d(2027, 6, 30)).meetings.is_empty());
    // June's grid runs to Sunday 4 July: the meeting is on its filling day, not in June.
    assert_eq!(day(&june, d(2027, 7, 1)).meetings.len(), 1);
    assert!(!day(&june, d(2027, 7, 1)).in_month);
    assert_eq!(june.planned(), 0);
}

#[test]
fn every_month_for_two_centuries_is_whole_weeks_covering_each_day_once() {
    let mut month = d(1900, 1, 1);
    while month < d(2101, 1, 1) {
        let grid = MonthGrid::of(month, &[], &[], &holidays(), month);
        assert!((4..=6).contains(&grid.weeks.len()), "{month}");
        let days: Vec<NaiveDate> = grid.weeks.iter().flatten().map(|c| c.date).collect();
        assert_eq!(days[0].weekday(), chrono::Weekday::Mon, "{month}");
        assert!(days.windows(2).all(|w| w[1] == w[0].succ_opt().unwrap()));
        assert!(grid.weeks.iter().all(|w| w.len() == 7));
        let inside: Vec<NaiveDate> = grid.days().map(|c| c.date).collect();
        assert_eq!(inside.first(), Some(&month));
        assert_eq!(
            months_from(month, 1).unwrap().pred_opt(),
            inside.last().copied()
        );
        month = months_from(month, 1).unwrap();
    }
    // February 2027 starts on a Monday and has 28 days: exactly four weeks.
    assert_eq!(
        MonthGrid::of(d(2027, 2, 1), &[], &[], &holidays(), d(2027, 2, 1))
            .weeks
            .len(),
        4
    );
}

#[test]
fn months_step_across_years_and_stop_at_the_ends_of_what_dates_hold() {
    assert_eq!(months_from(d(2026, 12, 1), 1), Some(d(2027, 1, 1)));
    assert_eq!(months_from(d(2027, 1, 1), -1), Some(d(2026, 12, 1)));
    assert_eq!(months_from(d(2026, 3, 1), -15), Some(d(2024, 12, 1)));
    assert_eq!(month_of(d(2028, 2, 29)), d(2028, 2, 1));
    let last = month_of(NaiveDate::MAX);
    assert_eq!(months_from(last, 1), None);
    let first = month_of(NaiveDate::MIN);
    assert_eq!(months_from(first, -1), None);
    assert_eq!(months_from(first, i32::MIN), None);
    assert_eq!(months_from(last, i32::MAX), None);
    // The grids of those months are made without a panic, cut short where dates end.
    let series = [(SERIES, monthly())];
    for edge in [last, first] {
        let grid = MonthGrid::of(edge, &meetings(), &series, &holidays(), edge);
        assert!(grid.days().count() >= 28, "{edge}");
    }
}
