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
    /// A site administrator in no team: accounts only, no patient data.
    SiteAdmin,
}

#[tokio::test]
async fn each_role_reads_and_writes_exactly_what_the_rules_allow() {
    let h = Harness::new();
    let mut pat = h.pat().await;
    let s = setup(&h, &mut pat).await;
    let olu = h.user("olu.observer@example.nhs.net", "Olu Observer", Role::Other);
    let xan = h.user("xan.outsider@example.nhs.net", "Xan Outsider", Role::Gp);
    let sam = h.user("sam.admin@example.nhs.net", "Sam Admin", Role::Other);
    h.store
        .write_blocking(|c| {
            mdt::server::store::set_site_admin(c, "sam.admin@example.nhs.net", true)
        })
        .unwrap();
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
        due: uk_days_from_today(10),
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
    let sam_client = h.sign_in("sam.admin@example.nhs.net", sam).await;
    let mut clients = [
        (Who::Coordinator, pat),
        (Who::Member, sol),
        (Who::Observer, olu_client),
        (Who::Outsider, xan_client),
        (Who::SiteAdmin, sam_client),
    ];

    for (who, client) in clients.iter_mut() {
        let may_read = !matches!(who, Who::Outsider | Who::SiteAdmin);
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

        // Read via the API: the team's actions as CSV, and who in the team cannot sign in.
        for (route, what) in [
            ("actions.csv", "downloads the actions"),
            ("without-accounts", "asks who cannot sign in"),
        ] {
            let (status, _, _) = h
                .send(get(
                    &format!("/api/teams/{}/{route}", s.team_id),
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
                "{who:?} {what}"
            );
        }
        // The team's measures: its coordinator and members; an observer is told no; anyone
        // else finds no team.
        for file in ["measures", "measures.csv"] {
            let (status, _, _) = h
                .send(get(
                    &format!("/api/teams/{}/{file}", s.team_id),
                    Some(&client.cookie),
                ))
                .await;
            let expected = match who {
                Who::Coordinator | Who::Member => StatusCode::OK,
                Who::Observer => StatusCode::FORBIDDEN,
                Who::Outsider | Who::SiteAdmin => StatusCode::NOT_FOUND,
            };
            assert_eq!(status, expected, "{who:?} reads the {file}");
        }
        // A meeting's FHIR export: whoever reads the team's records (restricted content is
        // filtered per reader, see server_fhir); anyone else finds no meeting.
        let (status, _, _) = h
            .send(get(
                &format!("/api/meetings/{}/bundle.fhir.json", s.meeting_id),
                Some(&client.cookie),
            ))
            .await;
        let expected = match who {
            Who::Coordinator | Who::Member | Who::Observer => StatusCode::OK,
            Who::Outsider | Who::SiteAdmin => StatusCode::NOT_FOUND,
        };
        assert_eq!(status, expected, "{who:?} exports the meeting as FHIR");

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
                        Who::SiteAdmin => "69",
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

/// What one person is given of a record in a pull.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Given {
    Whole,
    /// The agenda item without its content, marked `content_withheld`.
    Withheld,
    /// A deletion with no fields (so an earlier copy is removed).
    Removed,
    Nothing,
}

fn given(pulled: &Value, id: Uuid) -> Given {
    match find(pulled, id) {
        None => Given::Nothing,
        Some(r) if r["deleted"] == json!(true) && r["fields"] == json!({}) => Given::Removed,
        Some(r) if r["fields"]["content_withheld"] == json!(true) => Given::Withheld,
        Some(_) => Given::Whole,
    }
}

/// The words of the restricted discussion, none of which may reach people outside it.
const SECRETS: [&str; 4] = [
    "Bruising seen at a home visit",
    "Son seemed to answer for her",
    "Make a safeguarding referral",
    "Is a safeguarding referral needed?",
];

#[tokio::test]
async fn a_restricted_item_is_seen_only_by_the_people_it_names() {
    use mdt::core::action::ActionEvent;
    use mdt::core::agenda::AgendaItem;
    use mdt::core::brief::{brief_id_for, Brief, ReadReceipt};

    let h = Harness::new();
    let mut pat = h.pat().await;
    let s = setup(&h, &mut pat).await;
    let nia = h.user(
        "nia.named@example.nhs.net",
        "Nia Named",
        Role::DistrictNurse,
    );
    let mo = h.user("mo.member@example.nhs.net", "Mo Member", Role::Gp);
    let olu = h.user("olu.observer@example.nhs.net", "Olu Observer", Role::Other);
    let xan = h.user("xan.outsider@example.nhs.net", "Xan Outsider", Role::Gp);
    let mut t = team("Riverside MDT", s.pat, vec![s.sol, nia, mo]);
    t.observer_ids = vec![olu];
    assert_eq!(pat.put(s.team_id, 1, &t).await["status"], "applied");

    // Sol asks for a restricted discussion of Ada (Sol is the requester and the lead) and
    // Pat names Nia; an ordinary item of the same meeting is the whole team's.
    let (patient_id, open_item) = add_patient_item(&mut pat, &s).await;
    let open_brief = add_brief(&mut pat, &s, open_item).await;
    let item_id = Uuid::new_v4();
    let restricted = AgendaItem {
        reason: SECRETS[0].into(),
        question: SECRETS[3].into(),
        position: 2048,
        restricted: true,
        restricted_to: vec![nia],
        ..item(s.team_id, s.meeting_id, patient_id, s.sol, 0)
    };
    assert_eq!(pat.put(item_id, 0, &restricted).await["status"], "applied");
    let brief_id = brief_id_for(item_id);
    let brief = Brief {
        team_id: s.team_id,
        item_id,
        author_id: s.sol,
        situation: SECRETS[1].into(),
        ..Brief::default()
    };
    let mut sol = h.sign_in("sol.worker@example.gov.uk", s.sol).await;
    assert_eq!(sol.put(brief_id, 0, &brief).await["status"], "applied");
    let receipt_id = ReadReceipt::id_for(brief_id, s.sol);
    let receipt = ReadReceipt {
        team_id: s.team_id,
        brief_id,
        person_id: s.sol,
        brief_version: 1,
        read_at: chrono::Utc::now(),
    };
    assert_eq!(sol.put(receipt_id, 0, &receipt).await["status"], "applied");
    // Two actions from the discussion: Sol's referral, and a visit Mo (not named) makes.
    let action = |description: &str, owner| Action {
        team_id: s.team_id,
        description: description.into(),
        owner_id: owner,
        due: uk_days_from_today(10),
        patient_id: Some(patient_id),
        meeting_id: Some(s.meeting_id),
        item_id: Some(item_id),
        status: ActionStatus::Proposed,
        completion_note: String::new(),
        reason: String::new(),
    };
    let (referral, visit) = (Uuid::new_v4(), Uuid::new_v4());
    assert_eq!(
        sol.put(referral, 0, &action(SECRETS[2], s.sol)).await["status"],
        "applied"
    );
    let visit_action = action("Visit on Thursday", mo);
    assert_eq!(sol.put(visit, 0, &visit_action).await["status"], "applied");
    let mut mo_client = h.sign_in("mo.member@example.nhs.net", mo).await;
    let accepted = Action {
        status: ActionStatus::Accepted,
        ..visit_action.clone()
    };
    assert_eq!(
        mo_client.put(visit, 1, &accepted).await["status"],
        "applied"
    );
    let event_id = Uuid::new_v4();
    let event = ActionEvent {
        team_id: s.team_id,
        action_id: visit,
        by: mo,
        at: chrono::Utc::now(),
        summary: "accepted the action".into(),
    };
    assert_eq!(
        mo_client.put(event_id, 0, &event).await["status"],
        "applied"
    );

    // Read via pull: who is given what of each record.
    use Given::*;
    let expected: [(&str, Uuid, [Given; 6]); 7] = [
        // Pat, Sol, Nia, Mo, Olu, Xan
        (
            "item",
            item_id,
            [Whole, Whole, Whole, Withheld, Withheld, Nothing],
        ),
        (
            "brief",
            brief_id,
            [Whole, Whole, Whole, Removed, Removed, Nothing],
        ),
        (
            "receipt",
            receipt_id,
            [Whole, Whole, Whole, Removed, Removed, Nothing],
        ),
        (
            "referral",
            referral,
            [Whole, Whole, Whole, Removed, Removed, Nothing],
        ),
        (
            "visit",
            visit,
            [Whole, Whole, Whole, Whole, Removed, Nothing],
        ),
        (
            "visit history",
            event_id,
            [Whole, Whole, Whole, Whole, Removed, Nothing],
        ),
        (
            "ordinary brief",
            open_brief,
            [Whole, Whole, Whole, Whole, Whole, Nothing],
        ),
    ];
    let mut nia_client = h.sign_in("nia.named@example.nhs.net", nia).await;
    let olu_client = h.sign_in("olu.observer@example.nhs.net", olu).await;
    let xan_client = h.sign_in("xan.outsider@example.nhs.net", xan).await;
    let people = [
        &pat,
        &sol,
        &nia_client,
        &mo_client,
        &olu_client,
        &xan_client,
    ];
    let names = ["Pat", "Sol", "Nia", "Mo", "Olu", "Xan"];
    for (i, client) in people.iter().enumerate() {
        let pulled = client.pull(0).await;
        for (what, id, outcomes) in &expected {
            assert_eq!(
                given(&pulled, *id),
                outcomes[i],
                "{} is given the {what}",
                names[i]
            );
        }
        // Denied reads reveal no content: none of the discussion's words, and for the withheld
        // item not even which patient it is about.
        let text = pulled.to_string();
        let allowed = expected[0].2[i] == Whole;
        for secret in SECRETS {
            assert_eq!(
                text.contains(secret),
                allowed,
                "{} and {secret:?}",
                names[i]
            );
        }
        if expected[0].2[i] == Withheld {
            let item = find(&pulled, item_id).unwrap();
            assert_eq!(item["fields"]["patient_id"], Value::Null);
            assert_eq!(item["fields"]["minutes"], json!(15));
        }

        // Read via the API: the team's actions as CSV.
        let (status, _, csv) = h
            .send(get(
                &format!("/api/teams/{}/actions.csv", s.team_id),
                Some(&client.cookie),
            ))
            .await;
        if expected[0].2[i] == Nothing {
            assert_eq!(status, StatusCode::NOT_FOUND);
            continue;
        }
        let csv = csv.as_str().unwrap().to_owned();
        assert_eq!(
            csv.contains(SECRETS[2]),
            expected[3].2[i] == Whole,
            "{}'s CSV and the referral",
            names[i]
        );
        assert_eq!(
            csv.contains("Visit on Thursday"),
            expected[4].2[i] == Whole,
            "{}'s CSV and the visit",
            names[i]
        );
    }

    // Writes. Mo, who may not see the item, may move it on the agenda but not change, remove or
    // open it up, nor touch its brief or the referral; he may record accepting his own action.
    let version_of =
        |pulled: &Value, id: Uuid| find(pulled, id).unwrap()["version"].as_u64().unwrap();
    let mo_pull = mo_client.pull(0).await;
    let item_version = version_of(&mo_pull, item_id);
    let refused = |answer: &Value| {
        let reason = answer["reason"].as_str().unwrap_or_default().to_owned();
        assert_eq!(answer["status"], "rejected", "{answer}");
        for secret in SECRETS {
            assert!(
                !reason.contains(secret),
                "a refusal reveals no content: {reason}"
            );
        }
        reason
    };
    for change in [
        json!({"reason": "Overwritten"}),
        json!({"restricted": false}),
        json!({"restricted_to": [mo]}),
        json!({"content_withheld": true}),
    ] {
        let m = mo_client.mutation("agenda_item", item_id, item_version, change);
        refused(&mo_client.push(vec![m]).await.remove(0));
    }
    let m = mo_client.mutation(
        "agenda_item",
        item_id,
        item_version,
        json!({"position": 4096}),
    );
    assert_eq!(mo_client.push(vec![m]).await[0]["status"], "applied");
    let mut delete = mo_client.mutation("agenda_item", item_id, item_version + 1, json!({}));
    delete["op"] = json!({"kind": "delete"});
    refused(&mo_client.push(vec![delete]).await.remove(0));
    for (kind, id, change) in [
        ("brief", brief_id, json!({"situation": "Overwritten"})),
        ("action", referral, json!({"description": "Overwritten"})),
    ] {
        let m = mo_client.mutation(kind, id, 1, change);
        let reason = refused(&mo_client.push(vec![m]).await.remove(0));
        assert!(
            reason.contains("does not exist (or you may not see it)"),
            "{reason}"
        );
    }
    let mo_receipt = ReadReceipt {
        person_id: mo,
        ..receipt.clone()
    };
    refused(
        &mo_client
            .put(ReadReceipt::id_for(brief_id, mo), 0, &mo_receipt)
            .await,
    );
    refused(
        &mo_client
            .put(Uuid::new_v4(), 0, &action("Mo's own idea", mo))
            .await,
    );
    let done = Action {
        status: ActionStatus::Done,
        completion_note: "Visited; all well".into(),
        ..accepted.clone()
    };
    assert_eq!(mo_client.put(visit, 2, &done).await["status"], "applied");
    // Reassigning his action to someone else would take it out of his sight: refused.
    let mo_pull = mo_client.pull(0).await;
    let reassigned = json!({"owner_id": s.sol, "status": "proposed"});
    let m = mo_client.mutation("action", visit, version_of(&mo_pull, visit), reassigned);
    refused(&mo_client.push(vec![m]).await.remove(0));

    // Nia (named) may work on the brief; Sol (the lead) may change the content but not who sees it.
    let nia_pull = nia_client.pull(0).await;
    let m = nia_client.mutation(
        "brief",
        brief_id,
        version_of(&nia_pull, brief_id),
        json!({"background": "Known to the falls team"}),
    );
    assert_eq!(nia_client.push(vec![m]).await[0]["status"], "applied");
    let sol_pull = sol.pull(0).await;
    let item_version = version_of(&sol_pull, item_id);
    let m = sol.mutation(
        "agenda_item",
        item_id,
        item_version,
        json!({"restricted_to": []}),
    );
    refused(&sol.push(vec![m]).await.remove(0));
    let m = sol.mutation(
        "agenda_item",
        item_id,
        item_version,
        json!({"question": "Refer today or tomorrow?"}),
    );
    assert_eq!(sol.push(vec![m]).await[0]["status"], "applied");
    // The observer writes nothing at all.
    let olu_pull = olu_client.pull(0).await;
    let mut olu_client = olu_client;
    let m = olu_client.mutation(
        "agenda_item",
        item_id,
        version_of(&olu_pull, item_id),
        json!({"position": 8192}),
    );
    refused(&olu_client.push(vec![m]).await.remove(0));

    // Pat no longer names Nia: her next pull (from where she was) takes the brief off her
    // device and leaves the item withheld; naming Mo gives him the brief.
    let nia_cursor = nia_client.pull(0).await["cursor"].as_u64().unwrap();
    let pat_pull = pat.pull(0).await;
    let m = pat.mutation(
        "agenda_item",
        item_id,
        version_of(&pat_pull, item_id),
        json!({"restricted_to": [mo]}),
    );
    assert_eq!(pat.push(vec![m]).await[0]["status"], "applied");
    let nia_next = nia_client.pull(nia_cursor).await;
    assert_eq!(given(&nia_next, item_id), Withheld);
    assert_eq!(given(&nia_next, brief_id), Removed);
    assert_eq!(given(&nia_next, referral), Removed);
    assert!(!nia_next.to_string().contains(SECRETS[1]));
    let mo_next = mo_client.pull(0).await;
    assert_eq!(given(&mo_next, brief_id), Whole);
    assert_eq!(given(&mo_next, referral), Whole);
    // Lifting the restriction gives the whole team everything again.
    let pat_pull = pat.pull(0).await;
    let m = pat.mutation(
        "agenda_item",
        item_id,
        version_of(&pat_pull, item_id),
        json!({"restricted": false}),
    );
    assert_eq!(pat.push(vec![m]).await[0]["status"], "applied");
    let olu_next = olu_client.pull(0).await;
    assert_eq!(given(&olu_next, item_id), Whole);
    assert_eq!(given(&olu_next, brief_id), Whole);
}
