//! Meeting series: occurrences, checks and edits (their calendar files are tested in
//! `core::ics`, which shares these fixtures).

use chrono::{Duration, TimeZone};

use super::*;

/// A monthly series with one skipped and one moved meeting.
pub(crate) fn series() -> Series {
    Series {
        team_id: Uuid::from_u128(1),
        rule: Recurrence::Monthly { nth: 2, weekday: 1 },
        first_date: NaiveDate::from_ymd_opt(2026, 1, 13).unwrap(),
        starts: NaiveTime::from_hms_opt(13, 0, 0).unwrap(),
        minutes: 90,
        until: None,
        exceptions: vec![
            SeriesException { date: NaiveDate::from_ymd_opt(2026, 4, 14).unwrap(), moved_to: None },
            SeriesException {
                date: NaiveDate::from_ymd_opt(2026, 6, 9).unwrap(),
                moved_to: Some(NaiveDate::from_ymd_opt(2026, 6, 10).unwrap().and_hms_opt(14, 0, 0).unwrap()),
            },
        ],
        place: "Riverside Surgery, room 2; ground floor".into(),
        video_link: Some("https://meet.example.nhs.uk/riverside-mdt-with-a-long-address-that-needs-folding-in-the-file".into()),
        sequence: 3,
        cancelled: false,
    }
}

/// A fixed "now" for the tests.
pub(crate) fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap()
}

#[test]
fn occurrences_skip_and_move_and_stay_capped() {
    let s = series();
    let all = s.occurrences(
        NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
        NaiveDate::from_ymd_opt(2026, 6, 30).unwrap(),
    );
    let dates: Vec<String> = all
        .iter()
        .map(|o| o.starts.format("%d %b %H:%M").to_string())
        .collect();
    assert_eq!(
        dates,
        vec![
            "13 Jan 13:00",
            "10 Feb 13:00",
            "10 Mar 13:00",
            "12 May 13:00",
            "10 Jun 14:00"
        ]
    );
    let weekly = Series {
        rule: Recurrence::Weekly {
            interval: 1,
            weekday: 1,
        },
        exceptions: vec![],
        ..s.clone()
    };
    assert_eq!(
        weekly
            .occurrences(s.first_date, NaiveDate::from_ymd_opt(2100, 1, 1).unwrap())
            .len(),
        MAX_OCCURRENCES
    );
    assert!(
        Series {
            first_date: NaiveDate::from_ymd_opt(2026, 1, 14).unwrap(),
            ..s
        }
        .validate()
        .is_err(),
        "the first date must match the rule"
    );
}

#[test]
fn a_series_checks_its_end_date_and_exceptions() {
    assert!(series().validate().is_ok());
    let date = |m, d| NaiveDate::from_ymd_opt(2026, m, d).unwrap();
    let with = |f: &dyn Fn(&mut Series)| {
        let mut s = series();
        f(&mut s);
        s.validate().map_err(|e| e.message)
    };
    assert!(with(&|s| s.until = Some(date(1, 1)))
        .unwrap_err()
        .contains("end on or after"));
    // 15 April is not a second Tuesday.
    assert!(with(&|s| s.exceptions.push(SeriesException {
        date: date(4, 15),
        moved_to: None
    }))
    .unwrap_err()
    .contains("no meeting on 15 Apr 2026"));
    assert!(with(&|s| s.exceptions.push(SeriesException {
        date: date(4, 14),
        moved_to: None
    }))
    .unwrap_err()
    .contains("more than once"));
    // 01:30 on 29 March 2026 never happens in the UK.
    assert!(with(&|s| s.exceptions.push(SeriesException {
        date: date(3, 10),
        moved_to: Some(date(3, 29).and_hms_opt(1, 30, 0).unwrap()),
    }))
    .unwrap_err()
    .contains("does not exist"));
    // A weekly rule's first meeting must fall on its weekday (else calendars add a stray one).
    let weekly = Series {
        rule: Recurrence::Weekly {
            interval: 1,
            weekday: 1,
        },
        first_date: date(1, 12),
        exceptions: vec![],
        ..series()
    };
    assert_eq!(
        weekly.validate().unwrap_err().message,
        "The first meeting, Monday 12 January 2026, is not on a Tuesday: choose a first date that is, or another repeat"
    );
    assert!(Series {
        first_date: date(1, 13),
        ..weekly
    }
    .validate()
    .is_ok());
    // Mon 30 Nov 2026 is the 5th Monday: "the 4th Monday" is refused in words a person reads,
    // and the rule Find a time offers for that date is accepted.
    let fifth_monday = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
    let fourth = Series {
        rule: Recurrence::Monthly { nth: 4, weekday: 0 },
        first_date: fifth_monday,
        exceptions: vec![],
        ..series()
    };
    assert_eq!(
        fourth.validate().unwrap_err().message,
        "The first meeting, Monday 30 November 2026, is not the 4th Monday of the month: choose a first date that is, or another repeat"
    );
    for rule in Recurrence::monthly_rules_on(fifth_monday) {
        assert!(
            Series {
                rule,
                ..fourth.clone()
            }
            .validate()
            .is_ok(),
            "{rule:?}"
        );
    }
}

#[test]
fn editing_a_series_changes_only_the_meetings_the_edit_touches() {
    let series_id = Uuid::from_u128(77);
    let before = Series {
        first_date: NaiveDate::from_ymd_opt(2026, 12, 8).unwrap(),
        exceptions: vec![],
        ..series()
    };
    let now = now(); // 22 November 2026
                     // The planned meetings: 8 Dec, 12 Jan, 9 Feb, 9 Mar; the one on 12 Jan was moved to another
                     // room directly on its meeting page.
    let planned: std::collections::HashMap<Uuid, Meeting> = before
        .occurrences(
            before.first_date,
            NaiveDate::from_ymd_opt(2027, 3, 31).unwrap(),
        )
        .into_iter()
        .map(|o| {
            let starts_at = uk_time::from_uk(o.starts).unwrap();
            let mut m = Meeting {
                team_id: before.team_id,
                starts_at,
                ends_at: starts_at + Duration::minutes(90),
                place: before.place.clone(),
                video_link: None,
                status: MeetingStatus::Planned,
            };
            if o.original.month() == 1 {
                m.place = "Room 5".into();
            }
            (Series::meeting_id(series_id, o.original), m)
        })
        .collect();
    assert_eq!(planned.len(), 4);
    let lookup = |id: Uuid| planned.get(&id).cloned();
    let id_on = |m, d| {
        Series::meeting_id(
            series_id,
            NaiveDate::from_ymd_opt(if m == 12 { 2026 } else { 2027 }, m, d).unwrap(),
        )
    };

    // Skip 9 Feb, move 9 Mar to Wednesday 10 Mar 09:00 (GMT).
    let mut after = before.clone();
    after.exceptions = vec![
        SeriesException {
            date: NaiveDate::from_ymd_opt(2027, 2, 9).unwrap(),
            moved_to: None,
        },
        SeriesException {
            date: NaiveDate::from_ymd_opt(2027, 3, 9).unwrap(),
            moved_to: Some(
                NaiveDate::from_ymd_opt(2027, 3, 10)
                    .unwrap()
                    .and_hms_opt(9, 0, 0)
                    .unwrap(),
            ),
        },
    ];
    let changes: std::collections::HashMap<Uuid, Meeting> = after
        .meeting_changes(&before, series_id, lookup, now)
        .into_iter()
        .collect();
    assert_eq!(
        changes.len(),
        2,
        "only the skipped and the moved meeting change"
    );
    assert_eq!(changes[&id_on(2, 9)].status, MeetingStatus::Cancelled);
    let moved = &changes[&id_on(3, 9)];
    assert_eq!(
        uk_time::to_uk(moved.starts_at)
            .format("%d %b %H:%M")
            .to_string(),
        "10 Mar 09:00"
    );
    assert_eq!(moved.ends_at - moved.starts_at, Duration::minutes(90));

    // Restoring the skipped one plans it again; nothing else changes.
    let mut restored = after.clone();
    restored.exceptions.remove(0);
    let cancelled_feb = |id: Uuid| {
        if id == id_on(2, 9) {
            changes.get(&id).cloned()
        } else {
            lookup(id)
        }
    };
    let again = restored.meeting_changes(&after, series_id, cancelled_feb, now);
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].1.status, MeetingStatus::Planned);

    // An end date after January cancels February and March but keeps January's own room.
    let ended = Series {
        until: Some(NaiveDate::from_ymd_opt(2027, 1, 31).unwrap()),
        ..before.clone()
    };
    let mut ids: Vec<Uuid> = ended
        .meeting_changes(&before, series_id, lookup, now)
        .into_iter()
        .map(|(id, m)| {
            assert_eq!(m.status, MeetingStatus::Cancelled);
            id
        })
        .collect();
    ids.sort();
    let mut expected = vec![id_on(2, 9), id_on(3, 9)];
    expected.sort();
    assert_eq!(ids, expected);

    // Cancelling the series cancels every future meeting, but not one that has already started.
    let cancelled = Series {
        cancelled: true,
        ..before.clone()
    };
    let later = uk_time::from_uk(
        NaiveDate::from_ymd_opt(2026, 12, 8)
            .unwrap()
            .and_hms_opt(13, 30, 0)
            .unwrap(),
    )
    .unwrap();
    let all = cancelled.meeting_changes(&before, series_id, lookup, later);
    assert_eq!(all.len(), 3, "8 December is under way and stays as it was");
    assert!(all
        .iter()
        .all(|(_, m)| m.status == MeetingStatus::Cancelled));
    assert_eq!(
        all.iter()
            .find(|(id, _)| *id == id_on(1, 12))
            .unwrap()
            .1
            .place,
        "Room 5"
    );
}
