//! Calendar files, parsed back with an independent iCalendar parser (the `icalendar` crate).

use chrono::{Duration, TimeZone};
use icalendar::parser::{read_calendar, unfold};

use super::*;

fn series() -> Series {
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

fn about(s: &Series) -> EventText<'_> {
    EventText {
        team_name: "Riverside Neighbourhood MDT",
        place: &s.place,
        video_link: s.video_link.as_deref(),
    }
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap()
}

/// A property as parsed: (name, parameters, value).
type Prop = (String, String, String);
/// A component as parsed: (name, properties).
type Parsed = (String, Vec<Prop>);

/// Every component with its properties, depth first.
fn parse(ics: &str) -> Vec<Parsed> {
    let unfolded = unfold(ics);
    let calendar = read_calendar(&unfolded).expect("the calendar parses");
    let mut out = Vec::new();
    fn walk(c: &icalendar::parser::Component<'_>, out: &mut Vec<Parsed>) {
        let props = c
            .properties
            .iter()
            .map(|p| {
                let params = p
                    .params
                    .iter()
                    .map(|q| {
                        format!(
                            "{}={}",
                            q.key.as_str(),
                            q.val.as_ref().map(|v| v.as_str()).unwrap_or("")
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(";");
                (
                    p.name.as_str().to_string(),
                    params,
                    p.val.as_str().to_string(),
                )
            })
            .collect();
        out.push((c.name.as_str().to_string(), props));
        for child in &c.components {
            walk(child, out);
        }
    }
    for c in &calendar.components {
        walk(c, &mut out);
    }
    out
}

fn prop<'a>(
    props: &'a [(String, String, String)],
    name: &str,
) -> Option<&'a (String, String, String)> {
    props.iter().find(|(n, _, _)| n == name)
}

#[test]
fn a_series_file_has_the_rule_exceptions_timezone_and_a_stable_uid() {
    let s = series();
    let ics = series_ics(&s, "series-1@mdt.example", &about(&s), now());
    let parsed = parse(&ics);
    let names: Vec<&str> = parsed.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        vec!["VTIMEZONE", "DAYLIGHT", "STANDARD", "VEVENT", "VEVENT"]
    );
    let tz = &parsed[0].1;
    assert_eq!(prop(tz, "TZID").unwrap().2, "Europe/London");
    let main = &parsed[3].1;
    assert_eq!(prop(main, "UID").unwrap().2, "series-1@mdt.example");
    assert_eq!(prop(main, "SEQUENCE").unwrap().2, "3");
    assert_eq!(prop(main, "RRULE").unwrap().2, "FREQ=MONTHLY;BYDAY=2TU");
    let start = prop(main, "DTSTART").unwrap();
    assert_eq!(
        (start.1.as_str(), start.2.as_str()),
        ("TZID=Europe/London", "20260113T130000")
    );
    assert_eq!(prop(main, "DTEND").unwrap().2, "20260113T143000");
    assert_eq!(prop(main, "EXDATE").unwrap().2, "20260414T130000");
    assert_eq!(prop(main, "DTSTAMP").unwrap().2, "20261122T090000Z");
    assert_eq!(
        prop(main, "LOCATION").unwrap().2,
        "Riverside Surgery, room 2; ground floor"
    );
    assert!(
        ics.contains("LOCATION:Riverside Surgery\\, room 2\\; ground floor\r\n"),
        "TEXT is escaped in the file"
    );
    let moved = &parsed[4].1;
    assert_eq!(
        prop(moved, "UID").unwrap().2,
        "series-1@mdt.example",
        "the override keeps the series UID"
    );
    assert_eq!(prop(moved, "RECURRENCE-ID").unwrap().2, "20260609T130000");
    assert_eq!(prop(moved, "DTSTART").unwrap().2, "20260610T140000");
    // The same series gives the same UID and content on every download.
    assert_eq!(
        ics,
        series_ics(&s, "series-1@mdt.example", &about(&s), now())
    );
    assert!(ics.contains("METHOD:PUBLISH\r\n"));
}

#[test]
fn lines_are_crlf_and_folded_at_75_octets() {
    let s = series();
    let ics = series_ics(&s, "series-1@mdt.example", &about(&s), now());
    assert!(ics.ends_with("END:VCALENDAR\r\n"));
    assert!(
        !ics.replace("\r\n", "").contains('\n'),
        "no bare line feeds"
    );
    for line in ics.split("\r\n") {
        assert!(line.len() <= 75, "{} octets: {line}", line.len());
    }
    assert!(ics.contains("\r\n "), "the long video link was folded");
    let unfolded = unfold(&ics);
    assert!(unfolded.contains("URL:https://meet.example.nhs.uk/riverside-mdt-with-a-long-address-that-needs-folding-in-the-file"));
    // Multi-byte characters are never split.
    let mut out = String::new();
    fold(&format!("SUMMARY:{}", "é".repeat(60)), &mut out);
    assert!(out.split("\r\n").all(|l| l.len() <= 75));
}

#[test]
fn a_cancelled_series_or_meeting_says_cancel() {
    let s = Series {
        cancelled: true,
        sequence: 4,
        ..series()
    };
    let ics = series_ics(&s, "series-1@mdt.example", &about(&s), now());
    assert!(ics.contains("METHOD:CANCEL\r\n"));
    let parsed = parse(&ics);
    assert_eq!(prop(&parsed[3].1, "STATUS").unwrap().2, "CANCELLED");

    let starts_at = Utc.with_ymd_and_hms(2026, 7, 14, 12, 0, 0).unwrap();
    let meeting = Meeting {
        team_id: Uuid::from_u128(1),
        starts_at,
        ends_at: starts_at + Duration::minutes(90),
        place: "Room 2".into(),
        video_link: None,
        status: MeetingStatus::Cancelled,
    };
    let one = meeting_ics(
        &meeting,
        "meeting-9@mdt.example",
        2,
        &EventText {
            team_name: "Riverside MDT",
            place: "Room 2",
            video_link: None,
        },
        now(),
    );
    let parsed = parse(&one);
    let event = &parsed.iter().find(|(n, _)| n == "VEVENT").unwrap().1;
    assert_eq!(
        prop(event, "DTSTART").unwrap().2,
        "20260714T130000",
        "13:00 BST written as UK wall-clock time"
    );
    assert_eq!(prop(event, "SEQUENCE").unwrap().2, "2");
    assert!(one.contains("METHOD:CANCEL\r\n"));
}

#[test]
fn no_patient_data_reaches_a_calendar_file() {
    // The calendar functions take only the team's name, place and video link, so nothing else
    // can leak; this checks the output of a realistic team against the patients of that team.
    let s = series();
    let ics = series_ics(&s, "series-1@mdt.example", &about(&s), now());
    for forbidden in [
        "Ada Synthetic",
        "999 000 0018",
        "9990000018",
        "Two falls",
        "brief",
        "patient",
    ] {
        assert!(
            !ics.to_lowercase().contains(&forbidden.to_lowercase()),
            "{forbidden}"
        );
    }
    let parsed = parse(&ics);
    let allowed = [
        "UID",
        "DTSTAMP",
        "SEQUENCE",
        "DTSTART",
        "DTEND",
        "RRULE",
        "EXDATE",
        "SUMMARY",
        "LOCATION",
        "URL",
        "DESCRIPTION",
        "RECURRENCE-ID",
        "STATUS",
    ];
    for (_, props) in parsed.iter().filter(|(n, _)| n == "VEVENT") {
        for (name, _, _) in props {
            assert!(
                allowed.contains(&name.as_str()),
                "unexpected property {name}"
            );
        }
    }
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
    assert!(weekly.validate().is_err());
    assert!(Series {
        first_date: date(1, 13),
        ..weekly
    }
    .validate()
    .is_ok());
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
