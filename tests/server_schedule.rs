//! Attendance answers, the meeting calendar download and the bank-holiday list over the API.
//! Synthetic people and patients only.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use axum::http::StatusCode;
use serde_json::json;
use uuid::Uuid;

use common::*;
use mdt::core::attendance::{Attendance, AttendanceStatus};
use mdt::core::entities::Role;

fn answer(s: &Setup, person: Uuid, status: AttendanceStatus) -> Attendance {
    Attendance {
        team_id: s.team_id,
        meeting_id: s.meeting_id,
        person_id: person,
        status,
        deputy_id: None,
    }
}

#[tokio::test]
async fn members_answer_for_themselves_and_the_coordinator_for_anyone() {
    let h = Harness::new();
    let me = h.coordinator();
    let mut pat = h.sign_in("pat.coordinator@example.nhs.net", me).await;
    let s = setup(&h, &mut pat).await;
    let mut sol = h.sign_in("sol.worker@example.gov.uk", s.sol).await;

    let apologies = answer(&s, s.sol, AttendanceStatus::Apologies);
    let id = Attendance::id_for(s.meeting_id, s.sol);
    assert_eq!(sol.put(id, 0, &apologies).await["status"], "applied");
    let for_pat = sol
        .put(
            Attendance::id_for(s.meeting_id, s.pat),
            0,
            &answer(&s, s.pat, AttendanceStatus::Attending),
        )
        .await;
    assert_eq!(
        for_pat["reason"],
        "Only the person themselves or the coordinator can answer for them"
    );
    let by_coordinator = pat.mutation("attendance", id, 1, json!({"status": "remote"}));
    assert_eq!(pat.push(vec![by_coordinator]).await[0]["status"], "applied");
    let olu = h.user("olu.outsider@example.nhs.net", "Olu Outsider", Role::Gp);
    let stranger = pat
        .put(
            Attendance::id_for(s.meeting_id, olu),
            0,
            &answer(&s, olu, AttendanceStatus::Attending),
        )
        .await;
    assert_eq!(
        stranger["reason"],
        "Attendance can only be recorded for members of the team"
    );
    let deputy_without_apologies = Attendance {
        deputy_id: Some(s.pat),
        ..answer(&s, s.sol, AttendanceStatus::Attending)
    };
    let result = sol.put(id, 2, &deputy_without_apologies).await;
    assert_eq!(result["reason"], "A deputy is named only with apologies");
}

#[tokio::test]
async fn a_meeting_calendar_file_carries_no_patient_data_and_only_goes_to_members() {
    let h = Harness::new();
    let me = h.coordinator();
    let mut pat = h.sign_in("pat.coordinator@example.nhs.net", me).await;
    let s = setup(&h, &mut pat).await;
    let patient_id = Uuid::new_v4();
    pat.put(patient_id, 0, &patient(s.team_id, NHS_A, "Ada Synthetic"))
        .await;
    pat.put(
        Uuid::new_v4(),
        0,
        &item(s.team_id, s.meeting_id, patient_id, s.sol, 1024),
    )
    .await;

    let url = format!("/api/meetings/{}/calendar.ics", s.meeting_id);
    let (status, headers, body) = h.send(get(&url, Some(&pat.cookie))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "text/calendar; charset=utf-8");
    let ics = body.as_str().unwrap();
    assert!(ics.starts_with("BEGIN:VCALENDAR\r\n"));
    assert!(ics.contains("DTSTART;TZID=Europe/London:"));
    assert!(ics.contains(&format!("UID:meeting-{}@mdt", s.meeting_id)));
    assert!(ics.contains("SUMMARY:Riverside MDT meeting\r\n"), "{ics}");
    for forbidden in [
        "Ada Synthetic",
        NHS_A,
        "999 000 0018",
        "Two falls",
        "care package",
    ] {
        assert!(
            !ics.contains(forbidden),
            "{forbidden} must not be in a calendar file"
        );
    }
    let olu = h.user("olu.outsider@example.nhs.net", "Olu Outsider", Role::Gp);
    let outsider = h.sign_in("olu.outsider@example.nhs.net", olu).await;
    assert_eq!(
        h.send(get(&url, Some(&outsider.cookie))).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(h.send(get(&url, None)).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_bank_holiday_list_is_served_to_signed_in_users() {
    let h = Harness::new();
    let me = h.coordinator();
    let pat = h.sign_in("pat.coordinator@example.nhs.net", me).await;
    let (status, _, body) = h.send(get("/api/bank-holidays", Some(&pat.cookie))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["division"], "england-and-wales");
    assert!(body["dates"]
        .as_array()
        .unwrap()
        .contains(&json!("2026-12-28")));
}

#[tokio::test]
async fn availability_is_set_by_the_person_or_their_coordinator_and_seen_by_teammates() {
    // People who can sign in keep their own; the coordinator keeps it for members who cannot
    // (so nobody steers a slot finder by building a team around someone else).
    use chrono::NaiveTime;
    use mdt::core::schedule::{Availability, Commitment, PersonAvailability};
    let h = Harness::new();
    let me = h.coordinator();
    let mut pat = h.sign_in("pat.coordinator@example.nhs.net", me).await;
    let s = setup(&h, &mut pat).await;
    let clinic = Commitment {
        weekday: 0,
        starts: NaiveTime::from_hms_opt(8, 30, 0).unwrap(),
        ends: NaiveTime::from_hms_opt(12, 30, 0).unwrap(),
        label: "Clinic".into(),
        every_weeks: 1,
        anchor: None,
        from: None,
        until: None,
    };
    let sols = PersonAvailability {
        person_id: s.sol,
        availability: Availability {
            commitments: vec![clinic.clone()],
            absences: vec![],
            prefers_remote: true,
        },
    };
    let mut sol = h.sign_in("sol.worker@example.gov.uk", s.sol).await;
    assert_eq!(
        sol.put(PersonAvailability::id_for(s.sol), 0, &sols).await["status"],
        "applied"
    );
    assert!(
        find(&pat.pull(0).await, PersonAvailability::id_for(s.sol)).is_some(),
        "the coordinator sees it"
    );
    let pats = PersonAvailability {
        person_id: s.pat,
        ..sols.clone()
    };
    assert_eq!(
        sol.put(PersonAvailability::id_for(s.pat), 0, &pats).await["reason"],
        "Only the person or their team's coordinator can set their availability"
    );
    let by_coordinator = pat.mutation(
        "availability",
        PersonAvailability::id_for(s.sol),
        1,
        json!({"prefers_remote": false}),
    );
    assert_eq!(
        pat.push(vec![by_coordinator]).await[0]["reason"],
        "Only the person or their team's coordinator can set their availability"
    );
    // Kit is in the directory and the team but cannot sign in: the coordinator keeps theirs.
    let kit = person_without_account(&mut pat, "Kit Synthetic", Role::Pharmacist).await;
    assert_eq!(
        pat.put(
            s.team_id,
            1,
            &team("Riverside MDT", s.pat, vec![s.sol, kit])
        )
        .await["status"],
        "applied"
    );
    let kits = PersonAvailability {
        person_id: kit,
        ..sols.clone()
    };
    assert_eq!(
        pat.put(PersonAvailability::id_for(kit), 0, &kits).await["status"],
        "applied"
    );
    let wrong_id = sol.put(Uuid::new_v4(), 0, &sols).await;
    assert_eq!(
        wrong_id["reason"],
        "Availability belongs to one person and cannot be moved to another"
    );
    let olu = h.user("olu.outsider@example.nhs.net", "Olu Outsider", Role::Gp);
    let outsider = h.sign_in("olu.outsider@example.nhs.net", olu).await;
    assert!(find(&outsider.pull(0).await, PersonAvailability::id_for(s.sol)).is_none());
    let bad = PersonAvailability {
        availability: Availability {
            commitments: vec![Commitment {
                ends: clinic.starts,
                ..clinic
            }],
            ..sols.availability.clone()
        },
        ..sols
    };
    assert_eq!(
        sol.put(PersonAvailability::id_for(s.sol), 1, &bad).await["reason"],
        "A commitment must end after it starts"
    );
}

#[tokio::test]
async fn a_series_calendar_file_has_its_rule_and_goes_only_to_members() {
    use chrono::NaiveTime;
    use mdt::core::schedule::Recurrence;
    use mdt::core::series::Series;
    let h = Harness::new();
    let me = h.coordinator();
    let mut pat = h.sign_in("pat.coordinator@example.nhs.net", me).await;
    let s = setup(&h, &mut pat).await;
    let series_id = Uuid::new_v4();
    let series = Series {
        team_id: s.team_id,
        rule: Recurrence::Monthly { nth: 2, weekday: 1 },
        // The 2nd Tuesday of the month after next.
        first_date: nth_weekday_months_ahead(2, chrono::Weekday::Tue, 2),
        starts: NaiveTime::from_hms_opt(13, 0, 0).unwrap(),
        minutes: 90,
        until: None,
        exceptions: vec![],
        place: "Room 2".into(),
        video_link: None,
        sequence: 0,
        cancelled: false,
    };
    assert_eq!(pat.put(series_id, 0, &series).await["status"], "applied");
    let url = format!("/api/series/{series_id}/calendar.ics");
    let (status, _, body) = h.send(get(&url, Some(&pat.cookie))).await;
    assert_eq!(status, StatusCode::OK);
    let ics = body.as_str().unwrap();
    assert!(ics.contains("RRULE:FREQ=MONTHLY;BYDAY=2TU\r\n"));
    assert!(ics.contains(&format!(
        "DTSTART;TZID=Europe/London:{}T130000\r\n",
        series.first_date.format("%Y%m%d")
    )));
    let olu = h.user("olu.outsider@example.nhs.net", "Olu Outsider", Role::Gp);
    let outsider = h.sign_in("olu.outsider@example.nhs.net", olu).await;
    assert_eq!(
        h.send(get(&url, Some(&outsider.cookie))).await.0,
        StatusCode::NOT_FOUND
    );
    let wrong_day = Series {
        first_date: series.first_date + chrono::Duration::days(1),
        ..series
    };
    assert_eq!(
        pat.put(Uuid::new_v4(), 0, &wrong_day).await["reason"],
        format!(
            "The first meeting, {}, is not the 2nd Tuesday of the month: choose a first date that is, or another repeat",
            wrong_day.first_date.format("%A %-d %B %Y")
        )
    );
}
