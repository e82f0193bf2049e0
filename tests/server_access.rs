//! The access matrix: for each role (coordinator, member, observer, outsider) and each kind of
//! team record, whether it can be read through a pull, read through the API, and written.
//! Denied reads reveal nothing: the record is absent, not described. Synthetic data only.

mod common;

use std::collections::HashSet;

use axum::http::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use common::*;
use mdt::core::action::{Action, ActionStatus};
use mdt::core::entities::Role;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Who {
    Coordinator,
    Member,
    Observer,
    Outsider,
}

#[tokio::test]
async fn each_role_reads_and_writes_exactly_what_the_rules_allow() {
    let h = Harness::new();
    let pat_person = h.coordinator();
    let mut pat = h
        .sign_in("pat.coordinator@example.nhs.net", pat_person)
        .await;
    let s = setup(&h, &mut pat).await;
    let olu = h.user("olu.observer@example.nhs.net", "Olu Observer", Role::Other);
    let xan = h.user("xan.outsider@example.nhs.net", "Xan Outsider", Role::Gp);
    // Olu observes the team.
    let mut t = team("Riverside MDT", s.pat, vec![s.sol]);
    t.observer_ids = vec![olu];
    assert_eq!(pat.put(s.team_id, 1, &t).await["status"], "applied");
    let (patient_id, item_id) = add_patient_item(&mut pat, &s).await;
    let brief_id = add_brief(&mut pat, &s, item_id).await;
    let action_id = Uuid::new_v4();
    let action = Action {
        team_id: s.team_id,
        description: "Refer to the falls service".into(),
        owner_id: s.sol,
        due: chrono::NaiveDate::from_ymd_opt(2026, 12, 15).unwrap(),
        patient_id: Some(patient_id),
        meeting_id: Some(s.meeting_id),
        item_id: Some(item_id),
        status: ActionStatus::Proposed,
        completion_note: String::new(),
        reason: String::new(),
    };
    assert_eq!(pat.put(action_id, 0, &action).await["status"], "applied");

    // (kind, id, a change of one field)
    let records: Vec<(&str, Uuid, Value)> = vec![
        ("meeting", s.meeting_id, json!({"place": "Room 9"})),
        (
            "patient",
            patient_id,
            json!({"name": "Ada Synthetic-Jones"}),
        ),
        ("agenda_item", item_id, json!({"reason": "Three falls now"})),
        (
            "brief",
            brief_id,
            json!({"background": "Daughter visits weekly"}),
        ),
        (
            "action",
            action_id,
            json!({"description": "Refer to the falls service urgently"}),
        ),
    ];

    let sol = h.sign_in("sol.worker@example.gov.uk", s.sol).await;
    let olu_client = h.sign_in("olu.observer@example.nhs.net", olu).await;
    let xan_client = h.sign_in("xan.outsider@example.nhs.net", xan).await;
    let mut clients = [
        (Who::Coordinator, pat),
        (Who::Member, sol),
        (Who::Observer, olu_client),
        (Who::Outsider, xan_client),
    ];

    for (who, client) in clients.iter_mut() {
        let may_read = *who != Who::Outsider;
        let may_write = matches!(who, Who::Coordinator | Who::Member);

        // Read via pull: all of the team's records, or none of them.
        let pulled = client.pull(0).await;
        let ids: HashSet<String> = pulled["records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_owned())
            .collect();
        for (kind, id, _) in &records {
            assert_eq!(
                ids.contains(&id.to_string()),
                may_read,
                "{who:?} pulls {kind}"
            );
        }
        if !may_read {
            let text = pulled.to_string();
            assert!(
                !text.contains("Ada Synthetic")
                    && !text.contains(NHS_A)
                    && !text.contains("Lives alone")
            );
        }

        // Read via the API: the team's actions as CSV.
        let (status, _, _) = h
            .send(get(
                &format!("/api/teams/{}/actions.csv", s.team_id),
                Some(&client.cookie),
            ))
            .await;
        assert_eq!(
            status,
            if may_read {
                StatusCode::OK
            } else {
                StatusCode::NOT_FOUND
            },
            "{who:?} downloads the actions"
        );

        // Write: change one field of each record (based on the version just pulled).
        for (kind, id, change) in &records {
            let version = pulled["records"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["id"] == json!(id))
                .map_or(1, |r| r["version"].as_u64().unwrap());
            let m = client.mutation(kind, *id, version, change.clone());
            let answer = client.push(vec![m]).await.remove(0);
            let written = matches!(answer["status"].as_str(), Some("applied" | "conflict"));
            assert_eq!(written, may_write, "{who:?} writes {kind}: {answer}");
            if !written {
                let reason = answer["reason"].as_str().unwrap_or_default();
                assert!(
                    !reason.contains("Ada")
                        && !reason.contains(NHS_A)
                        && !reason.contains("Lives alone"),
                    "a refusal reveals no content: {reason}"
                );
            }
        }

        // Create: a new patient on the team's list.
        let new_patient = client.mutation(
            "patient",
            Uuid::new_v4(),
            0,
            serde_json::to_value(mdt::core::entities::Entity::to_fields(&patient(
                s.team_id,
                &format!(
                    "99900000{}",
                    match who {
                        Who::Coordinator => "26",
                        Who::Member => "34",
                        Who::Observer => "42",
                        Who::Outsider => "50",
                    }
                ),
                "New Synthetic",
            )))
            .unwrap(),
        );
        let answer = client.push(vec![new_patient]).await.remove(0);
        assert_eq!(
            answer["status"] == "applied",
            may_write,
            "{who:?} creates a patient: {answer}"
        );
    }

    // An observer may record reading the brief (the readiness panel shows who has read it).
    let (_, olu_client) = &mut clients[2];
    let version = olu_client.pull(0).await["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == json!(brief_id))
        .map(|r| r["version"].as_u64().unwrap())
        .unwrap();
    let receipt = mdt::core::brief::ReadReceipt {
        team_id: s.team_id,
        brief_id,
        person_id: olu,
        brief_version: version,
        read_at: chrono::Utc::now(),
    };
    let id = mdt::core::brief::ReadReceipt::id_for(brief_id, olu);
    assert_eq!(olu_client.put(id, 0, &receipt).await["status"], "applied");
}
