//! Calendar files, parsed back with an independent iCalendar parser (the `icalendar` crate).

use chrono::{Duration, TimeZone};
use icalendar::parser::{read_calendar, unfold};

use super::*;
use crate::core::series::tests::{now, series};
use uuid::Uuid;

fn about(s: &Series) -> EventText<'_> {
    EventText {
        team_name: "Riverside Neighbourhood MDT",
        place: &s.place,
        video_link: s.video_link.as_deref(),
    }
}

/// A property as parsed: (name, parameters, value).
pub(crate) type Prop = (String, String, String);
/// A component as parsed: (name, properties).
pub(crate) type Parsed = (String, Vec<Prop>);

/// Every component with its properties, depth first.
pub(crate) fn parse(ics: &str) -> Vec<Parsed> {
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
fn one_occurrence_changed_on_its_own_overrides_the_series_event_by_its_original_start() {
    let s = series();
    // The occurrence of 14 July (13:00 BST under the rule) moved to 15:00 that day.
    let starts_at = Utc.with_ymd_and_hms(2026, 7, 14, 14, 0, 0).unwrap();
    let moved = Meeting {
        team_id: Uuid::from_u128(1),
        starts_at,
        ends_at: starts_at + Duration::minutes(90),
        place: "Room 5".into(),
        video_link: None,
        status: MeetingStatus::Planned,
    };
    let original = s.original_start(chrono::NaiveDate::from_ymd_opt(2026, 7, 14).unwrap());
    let to = Addressed {
        organizer_name: "Riverside MDT",
        organizer_email: "mdt@example.nhs.uk",
        attendee_name: "Gita GP",
        attendee_email: "gita@example.nhs.net",
    };
    let about = EventText {
        team_name: "Riverside MDT",
        place: "Room 5",
        video_link: None,
    };
    let ics = occurrence_invitation_ics(
        &moved,
        "series-1@mdt.example",
        original,
        7,
        &about,
        &to,
        now(),
    );
    assert!(ics.contains("METHOD:REQUEST\r\n"));
    let parsed = parse(&ics);
    let events: Vec<&Parsed> = parsed.iter().filter(|(n, _)| n == "VEVENT").collect();
    assert_eq!(events.len(), 1, "the one occurrence, not the whole series");
    let event = &events[0].1;
    assert_eq!(prop(event, "UID").unwrap().2, "series-1@mdt.example");
    let recurrence = prop(event, "RECURRENCE-ID").unwrap();
    assert_eq!(
        (recurrence.1.as_str(), recurrence.2.as_str()),
        ("TZID=Europe/London", "20260714T130000")
    );
    assert_eq!(prop(event, "DTSTART").unwrap().2, "20260714T150000");
    assert_eq!(prop(event, "DTEND").unwrap().2, "20260714T163000");
    assert_eq!(prop(event, "SEQUENCE").unwrap().2, "7");
    assert_eq!(prop(event, "LOCATION").unwrap().2, "Room 5");
    assert!(prop(event, "STATUS").is_none());
    assert_eq!(
        prop(event, "ATTENDEE").unwrap().2,
        "mailto:gita@example.nhs.net"
    );
    // Called off: CANCEL for that occurrence only.
    let cancelled = Meeting {
        status: MeetingStatus::Cancelled,
        ..moved
    };
    let ics = occurrence_invitation_ics(
        &cancelled,
        "series-1@mdt.example",
        original,
        8,
        &about,
        &to,
        now(),
    );
    assert!(ics.contains("METHOD:CANCEL\r\n"));
    let parsed = parse(&ics);
    let event = &parsed.iter().find(|(n, _)| n == "VEVENT").unwrap().1;
    assert_eq!(prop(event, "STATUS").unwrap().2, "CANCELLED");
    assert_eq!(prop(event, "RECURRENCE-ID").unwrap().2, "20260714T130000");
    assert_eq!(prop(event, "SEQUENCE").unwrap().2, "8");
}
