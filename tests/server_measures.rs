//! A team's measures from the server: figures from the records stored (a concluded meeting, an
//! action done on time), the query's defaults and refusals, and extreme or hostile parameters
//! answered with a clear 400, never a crash. Who may read them is in `server_access`.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use axum::http::StatusCode;
use chrono::{Duration, NaiveDate, Utc};
use serde_json::json;
use uuid::Uuid;

use common::*;
use mdt::core::action::{Action, ActionStatus};
use mdt::core::agenda::{ItemStatus, Outcome};
use mdt::core::attendance::{Attendance, AttendanceStatus};
use mdt::core::entities::{Meeting, MeetingStatus};
use mdt::core::uk_time;

#[tokio::test]
async fn measures_count_what_the_team_recorded_and_bad_queries_are_refused_in_words() {
    let h = Harness::new();
    let mut pat = h.pat().await;
    let s = setup(&h, &mut pat).await;
    let today = uk_time::uk_today(Utc::now());
    let url = format!("/api/teams/{}/measures", s.team_id);

    // Nothing recorded yet: twelve empty months, nothing waiting.
    let (status, _, body) = h.send(get(&url, Some(&pat.cookie))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["lines"].as_array().unwrap().len(), 12);
    assert!(body["lines"]
        .as_array()
        .unwrap()
        .iter()
        .all(|l| l["meetings_held"] == 0 && l["median_days_to_discussion"].is_null()));

    // A meeting held a week ago with one item concluded seven days after it was asked for, and
    // an action due yesterday, proposed (nobody has taken it on).
    let held_id = Uuid::new_v4();
    let starts = Utc::now() - Duration::days(7);
    let held = Meeting {
        team_id: s.team_id,
        starts_at: starts,
        ends_at: starts + Duration::hours(1),
        place: String::new(),
        video_link: None,
        status: MeetingStatus::Planned,
    };
    assert_eq!(pat.put(held_id, 0, &held).await["status"], "applied");
    let patient_id = Uuid::new_v4();
    pat.put(patient_id, 0, &patient(s.team_id, NHS_A, "Ada Synthetic"))
        .await;
    let item_id = Uuid::new_v4();
    let mut it = item(s.team_id, held_id, patient_id, s.sol, 1024);
    it.requested_on = uk_time::uk_today(starts) - Duration::days(7);
    // Added now, after the meeting's agenda closed: the coordinator's, marked late.
    it.late = true;
    let put = pat.put(item_id, 0, &it).await;
    assert_eq!(put["status"], "applied", "{put}");
    let decided = pat.mutation(
        "agenda_item",
        item_id,
        1,
        json!({"status": ItemStatus::Discussed, "outcome": Outcome::NoAction { reason: "Stable".into() }}),
    );
    assert_eq!(pat.push(vec![decided]).await[0]["status"], "applied");
    // Its brief marked ready now: after the meeting, so not ready by the cut-off. Pat was there
    // (attendance recorded), Sol was not.
    let brief = mdt::core::brief::Brief {
        team_id: s.team_id,
        item_id,
        author_id: s.pat,
        situation: "Lives alone".into(),
        request: "Review".into(),
        consent_to_share: Some(true),
        status: mdt::core::brief::BriefStatus::Ready,
        ..mdt::core::brief::Brief::default()
    };
    let put = pat
        .put(mdt::core::brief::brief_id_for(item_id), 0, &brief)
        .await;
    assert_eq!(put["status"], "applied", "{put}");
    for (person, status) in [
        (s.pat, AttendanceStatus::Attended),
        (s.sol, AttendanceStatus::Absent),
    ] {
        let record = Attendance {
            team_id: s.team_id,
            meeting_id: held_id,
            person_id: person,
            status,
            deputy_id: None,
        };
        let put = pat
            .put(Attendance::id_for(held_id, person), 0, &record)
            .await;
        assert_eq!(put["status"], "applied", "{put}");
    }
    let close = pat.mutation("meeting", held_id, 1, json!({"status": "closed"}));
    assert_eq!(
        pat.push(vec![close]).await[0]["status"],
        "applied",
        "concluded"
    );
    let action = Action {
        team_id: s.team_id,
        description: "Phone the family".into(),
        owner_id: s.sol,
        due: today - Duration::days(1),
        patient_id: Some(patient_id),
        meeting_id: Some(held_id),
        item_id: Some(item_id),
        status: ActionStatus::Proposed,
        completion_note: String::new(),
        reason: String::new(),
    };
    assert_eq!(
        pat.put(Uuid::new_v4(), 0, &action).await["status"],
        "applied"
    );

    let from = today - Duration::days(40);
    let (status, _, body) = h
        .send(get(
            &format!("{url}?from={from}&to={today}&by=quarter"),
            Some(&pat.cookie),
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let lines = body["lines"].as_array().unwrap();
    let held_line = lines
        .iter()
        .find(|l| l["meetings_held"] == 1)
        .unwrap_or_else(|| panic!("the held meeting is counted: {body}"));
    assert_eq!(held_line["concluded"], 1);
    assert_eq!(held_line["median_days_to_discussion"], 7);
    assert_eq!(
        held_line["briefs_ready_by_cutoff"], 0,
        "ready after the meeting"
    );
    let roles: Vec<(String, u64, u64)> = held_line["attendance"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["role"].as_str().unwrap().to_owned(),
                r["attended"].as_u64().unwrap(),
                r["expected"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        roles,
        vec![
            ("practice_manager".to_owned(), 1, 1),
            ("social_worker".to_owned(), 0, 1)
        ],
        "{body}"
    );
    let due: u64 = lines
        .iter()
        .map(|l| l["actions_due"].as_u64().unwrap())
        .sum();
    let on_time: u64 = lines
        .iter()
        .map(|l| l["done_by_due"].as_u64().unwrap())
        .sum();
    assert_eq!((due, on_time), (1, 0));
    assert_eq!(body["unallocated_actions"], 1);
    // Counts only: nobody is named.
    assert!(!body.to_string().contains("Ada"), "{body}");

    // The same figures as a spreadsheet file.
    let (status, headers, csv) = h
        .send(get(
            &format!(
                "/api/teams/{}/measures.csv?from={from}&to={today}&by=quarter",
                s.team_id
            ),
            Some(&pat.cookie),
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{csv}");
    assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
    assert!(headers["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with(&format!(
            "attachment; filename=\"team-measures-{from}-to-{today}"
        )));
    let csv = csv.as_str().unwrap().to_owned();
    assert!(csv.starts_with("From,To,Meetings held,Patient items,Concluded with an outcome,"));
    assert!(csv.contains(",Practice manager attended,Practice manager expected,Social worker attended,Social worker expected\r\n"), "{csv}");
    assert!(
        csv.ends_with(
            "Patient items waiting now,Waiting since,Actions nobody has taken on\r\n0,,1\r\n"
        ),
        "{csv}"
    );
    assert!(!csv.contains("Ada"));
    let (status, _, refused) = h
        .send(get(
            &format!("/api/teams/{}/measures.csv?by=week", s.team_id),
            Some(&pat.cookie),
        ))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(refused
        .to_string()
        .contains("Choose measures by month or by quarter"));

    // Refused in words: a cut that does not exist, a reversed or too long range, a date that is
    // not a date, an unknown parameter, extremes of what dates hold.
    for (query, words) in [
        ("by=week", "Choose measures by month or by quarter"),
        (
            "from=2027-02-01&to=2027-01-01",
            "The start of the range must be on or before its end",
        ),
        (
            // ("+" is written %2B in an address.)
            "from=-262143-01-01&to=%2B262142-12-31",
            "Choose a range of ten years or less",
        ),
        ("from=2027-02-30", "bad parameter"),
        ("from=yesterday", "bad parameter"),
        ("colour=red", "bad parameter"),
        ("to=99999999999999999999", "bad parameter"),
    ] {
        let (status, _, body) = h
            .send(get(&format!("{url}?{query}"), Some(&pat.cookie)))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert!(body.to_string().contains(words), "{query}: {body}");
    }
    // The widest range at the end of what dates hold is answered.
    let last = NaiveDate::MAX;
    let first = last - Duration::days(mdt::core::measures::MAX_RANGE_DAYS);
    let (status, _, body) = h
        .send(get(
            &format!("{url}?from={first}&to={last}&by=month").replace('+', "%2B"),
            Some(&pat.cookie),
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["lines"].as_array().unwrap().len() >= 120);
}

/// The demo's year of history fills every measure: meetings held in most months (August
/// skipped), items concluded and deferred, actions done on time and late, a role below the
/// attendance target, briefs both in time and late; and the meeting's FHIR export of the last
/// one holds its patients.
#[tokio::test]
async fn the_demo_team_has_a_year_of_measures() {
    let h = Harness::new();
    let started = std::time::Instant::now();
    mdt::server::demo::load_demo(&h.store, Utc::now()).unwrap();
    eprintln!("demo loaded in {:?}", started.elapsed());
    let cookie = h.demo_cookie("priya.example@demo.nhs.test").await;
    let (_, _, pulled) = h.send(get("/api/sync/pull", Some(&cookie))).await;
    let records = pulled["records"].as_array().unwrap();
    let team = records.iter().find(|r| r["entity"] == "team").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _, m) = h
        .send(get(&format!("/api/teams/{team}/measures"), Some(&cookie)))
        .await;
    assert_eq!(status, StatusCode::OK, "{m}");
    let lines = m["lines"].as_array().unwrap();
    let held = lines
        .iter()
        .filter(|l| l["meetings_held"].as_u64() > Some(0))
        .count();
    assert!(
        (9..=12).contains(&held),
        "{held} months with a meeting: {m}"
    );
    let sum = |key: &str| -> u64 { lines.iter().map(|l| l[key].as_u64().unwrap()).sum() };
    let whole = &m["whole"];
    assert!(whole["patient_items"].as_u64().unwrap() >= 36, "{whole}");
    assert!(sum("concluded") < sum("patient_items"), "some deferred");
    assert!(
        whole["deferrals"].as_u64().unwrap() > 0,
        "carried items were deferred once"
    );
    let (due, on_time) = (sum("actions_due"), sum("done_by_due"));
    assert!(
        due > 0 && on_time > 0 && on_time < due,
        "{on_time} of {due} on time"
    );
    let ready = whole["briefs_ready_by_cutoff"].as_u64().unwrap();
    assert!(
        ready > 0 && ready < whole["patient_items"].as_u64().unwrap(),
        "{whole}"
    );
    let nurse = whole["attendance"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["role"] == "district_nurse")
        .unwrap();
    assert!(
        nurse["attended"].as_u64().unwrap() * 3 < nurse["expected"].as_u64().unwrap() * 2,
        "the district nurse is below the two-thirds target: {nurse}"
    );
    // A summer month skipped: the series has a month with no meeting between held ones.
    let first_held = lines
        .iter()
        .position(|l| l["meetings_held"].as_u64() > Some(0))
        .unwrap();
    let last_held = lines
        .iter()
        .rposition(|l| l["meetings_held"].as_u64() > Some(0))
        .unwrap();
    assert!(
        lines[first_held..=last_held]
            .iter()
            .any(|l| l["meetings_held"] == 0),
        "a skipped month: {m}"
    );
}

#[tokio::test]
async fn observers_see_the_measures_only_when_the_coordinator_allows() {
    let h = Harness::new();
    let mut pat = h.pat().await;
    let s = setup(&h, &mut pat).await;
    let olu = h.user(
        "olu.observer@example.nhs.net",
        "Olu Observer",
        mdt::core::entities::Role::Other,
    );
    let mut t = team("Riverside MDT", s.pat, vec![s.sol]);
    t.observer_ids = vec![olu];
    assert_eq!(pat.put(s.team_id, 1, &t).await["status"], "applied");
    let observer = h.sign_in("olu.observer@example.nhs.net", olu).await;
    let mut sol = h.sign_in("sol.worker@example.gov.uk", s.sol).await;
    let files = ["measures", "measures.csv"].map(|f| format!("/api/teams/{}/{f}", s.team_id));
    for url in &files {
        let (status, _, body) = h.send(get(url, Some(&observer.cookie))).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{url}");
        assert!(
            body.to_string()
                .contains("its coordinator can let observers see them"),
            "{body}"
        );
    }
    // A member may not open them to observers; the coordinator may, and close them again.
    let by_member = sol.mutation(
        "team",
        s.team_id,
        2,
        json!({"observers_see_measures": true}),
    );
    assert_eq!(sol.push(vec![by_member]).await[0]["status"], "rejected");
    let allow = pat.mutation(
        "team",
        s.team_id,
        2,
        json!({"observers_see_measures": true}),
    );
    assert_eq!(pat.push(vec![allow]).await[0]["status"], "applied");
    for url in &files {
        let (status, _, body) = h.send(get(url, Some(&observer.cookie))).await;
        assert_eq!(status, StatusCode::OK, "{url}: {body}");
    }
    let close = pat.mutation(
        "team",
        s.team_id,
        3,
        json!({"observers_see_measures": false}),
    );
    assert_eq!(pat.push(vec![close]).await[0]["status"], "applied");
    let (status, _, _) = h.send(get(&files[0], Some(&observer.cookie))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
