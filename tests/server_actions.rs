//! Outcomes and actions through push and pull: owners inside the team, legal status changes by
//! the right people, meeting conclusion, and the CSV export. Synthetic people and patients only.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use axum::http::StatusCode;
use chrono::Utc;
use serde_json::json;
use uuid::Uuid;

use common::*;
use mdt::core::action::{Action, ActionEvent, ActionStatus};
use mdt::core::agenda::{AgendaItem, ItemStatus, Outcome};
use mdt::core::entities::Role;

fn action(team_id: Uuid, owner: Uuid, item: Uuid, patient: Uuid) -> Action {
    Action {
        team_id,
        description: "Refer to the falls service".into(),
        owner_id: owner,
        due: uk_days_from_today(10),
        patient_id: Some(patient),
        meeting_id: None,
        item_id: Some(item),
        status: ActionStatus::Proposed,
        completion_note: String::new(),
        reason: String::new(),
    }
}

#[tokio::test]
async fn an_action_is_owned_by_one_team_member_who_accepts_and_completes_it() {
    let h = Harness::new();
    let me = h.coordinator();
    let mut pat = h.sign_in("pat.coordinator@example.nhs.net", me).await;
    let s = setup(&h, &mut pat).await;
    let (patient_id, item_id) = add_patient_item(&mut pat, &s).await;

    // Never someone outside the team.
    let outsider = h.user("olu.outsider@example.nhs.net", "Olu Outsider", Role::Gp);
    let stray = pat
        .put(
            Uuid::new_v4(),
            0,
            &action(s.team_id, outsider, item_id, patient_id),
        )
        .await;
    assert_eq!(
        stray["reason"],
        "An action's owner must be one person in the team; add them to the team first"
    );

    let action_id = Uuid::new_v4();
    assert_eq!(
        pat.put(action_id, 0, &action(s.team_id, s.sol, item_id, patient_id))
            .await["status"],
        "applied"
    );
    // Only Sol can accept it.
    let by_pat = pat.mutation("action", action_id, 1, json!({"status": "accepted"}));
    assert_eq!(
        pat.push(vec![by_pat]).await[0]["reason"],
        "Only the owner can accept or decline an action: they can sign in, so ask them to answer it"
    );

    let mut sol = h.sign_in("sol.worker@example.gov.uk", s.sol).await;
    let pulled = sol.pull(0).await;
    assert_eq!(
        find(&pulled, action_id).unwrap()["fields"]["owner_id"],
        json!(s.sol)
    );
    let accept = sol.mutation("action", action_id, 1, json!({"status": "accepted"}));
    let event = ActionEvent {
        team_id: s.team_id,
        action_id,
        by: s.sol,
        at: Utc::now(),
        summary: "accepted the action".into(),
    };
    let log = sol.mutation(
        "action_event",
        Uuid::new_v4(),
        0,
        serde_json::Value::Object(mdt::core::entities::Entity::to_fields(&event)),
    );
    let results = sol.push(vec![accept, log]).await;
    assert!(
        results.iter().all(|r| r["status"] == "applied"),
        "{results:?}"
    );
    // Nobody writes history in someone else's name.
    let forged = ActionEvent { by: s.pat, ..event };
    let forged = sol.mutation(
        "action_event",
        Uuid::new_v4(),
        0,
        serde_json::Value::Object(mdt::core::entities::Entity::to_fields(&forged)),
    );
    assert_eq!(
        sol.push(vec![forged]).await[0]["reason"],
        "A history entry must name the person who made the change"
    );

    // Done needs a note; then it cannot go back.
    let bare = sol.mutation("action", action_id, 2, json!({"status": "done"}));
    assert_eq!(
        sol.push(vec![bare]).await[0]["reason"],
        "Say what was done before marking the action done"
    );
    let done = sol.mutation(
        "action",
        action_id,
        2,
        json!({"status": "done", "completion_note": "Referral sent"}),
    );
    assert_eq!(sol.push(vec![done]).await[0]["status"], "applied");
    let back = pat.mutation("action", action_id, 3, json!({"status": "proposed"}));
    assert_eq!(
        pat.push(vec![back]).await[0]["reason"],
        "An action that is done cannot become proposed"
    );
    let record = find(&pat.pull(0).await, action_id).unwrap().clone();
    assert_eq!(record["fields"]["status"], "done");
    assert_eq!(record["updated_by"], "Sol Worker");
}

/// A GP who never signs in used to leave their actions proposed for ever. The coordinator
/// answers for them (in their own name, the history saying for whom); nobody else does, and
/// nobody answers for a colleague who can sign in.
#[tokio::test]
async fn the_coordinator_answers_for_an_owner_who_cannot_sign_in_and_nobody_else_does() {
    let h = Harness::new();
    let me = h.coordinator();
    let mut pat = h.sign_in("pat.coordinator@example.nhs.net", me).await;
    let s = setup(&h, &mut pat).await;
    let (patient_id, item_id) = add_patient_item(&mut pat, &s).await;
    let gp = person_without_account(&mut pat, "Dr Gita Synthetic", Role::Gp).await;
    let mut t = team("Riverside MDT", s.pat, vec![s.sol, gp]);
    assert_eq!(pat.put(s.team_id, 1, &t).await["status"], "applied");

    let for_gp = Uuid::new_v4();
    let for_sol = Uuid::new_v4();
    for (id, owner) in [(for_gp, gp), (for_sol, s.sol)] {
        assert_eq!(
            pat.put(id, 0, &action(s.team_id, owner, item_id, patient_id))
                .await["status"],
            "applied"
        );
    }

    // Sol, a member, cannot answer for the GP, accepting or declining.
    let mut sol = h.sign_in("sol.worker@example.gov.uk", s.sol).await;
    for fields in [
        json!({"status": "accepted"}),
        json!({"status": "declined", "reason": "Not theirs"}),
    ] {
        let by_sol = sol.mutation("action", for_gp, 1, fields);
        assert_eq!(
            sol.push(vec![by_sol]).await[0]["reason"],
            "Only the owner can accept or decline an action"
        );
    }
    // The coordinator cannot answer for Sol, who can sign in.
    let for_colleague = pat.mutation("action", for_sol, 1, json!({"status": "accepted"}));
    assert_eq!(
        pat.push(vec![for_colleague]).await[0]["reason"],
        "Only the owner can accept or decline an action: they can sign in, so ask them to answer it"
    );

    // The coordinator accepts for the GP, with a history line in the coordinator's own name.
    let accept = pat.mutation("action", for_gp, 1, json!({"status": "accepted"}));
    let line = ActionEvent {
        team_id: s.team_id,
        action_id: for_gp,
        by: s.pat,
        at: Utc::now(),
        summary: "accepted the action for Dr Gita Synthetic, who does not sign in".into(),
    };
    let line = pat.mutation(
        "action_event",
        Uuid::new_v4(),
        0,
        serde_json::Value::Object(mdt::core::entities::Entity::to_fields(&line)),
    );
    let results = pat.push(vec![accept, line]).await;
    assert!(
        results.iter().all(|r| r["status"] == "applied"),
        "{results:?}"
    );
    // And can then record it done, the step such actions never reached.
    let done = pat.mutation(
        "action",
        for_gp,
        2,
        json!({"status": "done", "completion_note": "Dr Synthetic phoned the family"}),
    );
    assert_eq!(pat.push(vec![done]).await[0]["status"], "applied");

    // Once the GP is no longer in the team, nobody answers for them there.
    let later = Uuid::new_v4();
    assert_eq!(
        pat.put(later, 0, &action(s.team_id, gp, item_id, patient_id))
            .await["status"],
        "applied"
    );
    t.member_ids = vec![s.sol];
    assert_eq!(pat.put(s.team_id, 2, &t).await["status"], "applied");
    let after_leaving = pat.mutation("action", later, 1, json!({"status": "accepted"}));
    assert_eq!(
        pat.push(vec![after_leaving]).await[0]["reason"],
        "Only the owner can accept or decline an action"
    );
}

#[tokio::test]
async fn a_meeting_cannot_be_concluded_while_a_patient_item_has_no_outcome() {
    let h = Harness::new();
    let me = h.coordinator();
    let mut pat = h.sign_in("pat.coordinator@example.nhs.net", me).await;
    let s = setup(&h, &mut pat).await;
    let (patient_id, item_id) = add_patient_item(&mut pat, &s).await;

    // Concluding a meeting still to come is refused before anything else (issue 26).
    let early = pat.mutation("meeting", s.meeting_id, 1, json!({"status": "closed"}));
    let refused = pat.push(vec![early]).await.remove(0);
    assert!(
        refused["reason"]
            .as_str()
            .unwrap()
            .ends_with("you can conclude it once it has started. To call it off, cancel it."),
        "{refused}"
    );
    let held = hold_meeting_now(&mut pat, s.meeting_id, 1).await;

    let conclude = pat.mutation("meeting", s.meeting_id, held, json!({"status": "closed"}));
    let refused = pat.push(vec![conclude]).await.remove(0);
    assert!(
        refused["reason"]
            .as_str()
            .unwrap()
            .starts_with("The meeting cannot be concluded: 1 patient item still needs an outcome"),
        "{refused}"
    );

    // Closing an item without an outcome is refused too.
    let bare = pat.mutation("agenda_item", item_id, 1, json!({"status": "discussed"}));
    assert!(pat.push(vec![bare]).await[0]["reason"]
        .as_str()
        .unwrap()
        .starts_with("Record the outcome"));

    // A decision with an action, in one batch with the conclusion: accepted in order.
    let decided = AgendaItem {
        status: ItemStatus::Discussed,
        outcome: Some(Outcome::Decision {
            text: "Urgent care package review".into(),
        }),
        ..item(s.team_id, s.meeting_id, patient_id, s.sol, 1024)
    };
    let a = pat.mutation(
        "action",
        Uuid::new_v4(),
        0,
        serde_json::Value::Object(mdt::core::entities::Entity::to_fields(&action(
            s.team_id, s.sol, item_id, patient_id,
        ))),
    );
    let close_item = pat.mutation(
        "agenda_item",
        item_id,
        1,
        json!({"status": "discussed", "outcome": decided.outcome}),
    );
    let close_meeting = pat.mutation("meeting", s.meeting_id, held, json!({"status": "closed"}));
    let results = pat.push(vec![a, close_item, close_meeting]).await;
    assert!(
        results.iter().all(|r| r["status"] == "applied"),
        "{results:?}"
    );
}

#[tokio::test]
async fn the_csv_export_has_a_header_uk_dates_and_only_goes_to_members() {
    let h = Harness::new();
    let me = h.coordinator();
    let mut pat = h.sign_in("pat.coordinator@example.nhs.net", me).await;
    let s = setup(&h, &mut pat).await;
    let (patient_id, item_id) = add_patient_item(&mut pat, &s).await;
    let tricky = Action {
        description: "Call the daughter, then \"confirm\" the plan".into(),
        ..action(s.team_id, s.sol, item_id, patient_id)
    };
    assert_eq!(
        pat.put(Uuid::new_v4(), 0, &tricky).await["status"],
        "applied"
    );

    let url = format!("/api/teams/{}/actions.csv", s.team_id);
    let response = h.send(get(&url, Some(&pat.cookie))).await;
    assert_eq!(response.0, StatusCode::OK);
    assert_eq!(response.1["content-type"], "text/csv; charset=utf-8");
    assert!(response.1["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment; filename=\"team-actions-"));
    let body = response.2.as_str().unwrap().to_owned();
    let mut lines = body.split("\r\n");
    assert_eq!(
        lines.next().unwrap(),
        "Action,Owner,Organisation,Patient,Due,Status,Overdue,Completion note,Reason"
    );
    assert_eq!(
        lines.next().unwrap(),
        format!(
            "\"Call the daughter, then \"\"confirm\"\" the plan\",Sol Worker,,\"Ada Synthetic (NHS 999 000 0018, born 2 Mar 1941)\",{},Proposed,No,,",
            tricky.due.format("%d/%m/%Y")
        )
    );

    let olu = h.user("olu.outsider@example.nhs.net", "Olu Outsider", Role::Gp);
    let outsider = h.sign_in("olu.outsider@example.nhs.net", olu).await;
    assert_eq!(
        h.send(get(&url, Some(&outsider.cookie))).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(h.send(get(&url, None)).await.0, StatusCode::UNAUTHORIZED);
}
