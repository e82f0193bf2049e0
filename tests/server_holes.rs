//! Regression tests for the holes found by the last outside test (issue 12), each as the
//! attacker or the unlucky device did it. Each failed on the commit before the write table.
//! Synthetic people only.

mod common;

use std::time::Instant;

use axum::http::StatusCode;
use chrono::{Duration, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

use common::*;
use mdt::core::entities::Role;
use mdt::core::schedule::PersonAvailability;

/// Pushes with a deadline that detects a hang (see [`send_within`], [`common::HANG_DEADLINE`]).
async fn push_within(client: &Client<'_>, mutations: Vec<Value>) -> (StatusCode, Value) {
    let body = json!({"device_id": client.device, "mutations": mutations});
    let request = json_request("POST", "/api/sync/push", &body, Some(&client.cookie));
    let app = client.h.app.clone();
    let started = Instant::now();
    let answer =
        tokio::task::spawn_blocking(move || send_within(app, request, common::HANG_DEADLINE))
            .await
            .unwrap()
            .expect("the push was answered (no hang)");
    assert!(started.elapsed() < common::HANG_DEADLINE);
    answer
}

#[tokio::test]
async fn a_member_cannot_make_themselves_coordinator_or_change_who_is_in_the_team() {
    let h = Harness::new();
    let mut pat = h.pat().await;
    let s = setup(&h, &mut pat).await;
    let mut sol = h.sign_in("sol.worker@example.gov.uk", s.sol).await;
    let xan = h.user("xan.outsider@example.nhs.net", "Xan Outsider", Role::Gp);
    let takeover = sol.mutation(
        "team",
        s.team_id,
        1,
        json!({"coordinator_id": s.sol, "member_ids": [s.pat]}),
    );
    let add_outsider = sol.mutation("team", s.team_id, 1, json!({"member_ids": [s.sol, xan]}));
    let remove_coordinator = sol.mutation("team", s.team_id, 1, json!({"observer_ids": [xan]}));
    for result in sol
        .push(vec![takeover, add_outsider, remove_coordinator])
        .await
    {
        assert_eq!(result["status"], "rejected", "{result}");
        assert!(
            result["reason"]
                .as_str()
                .unwrap()
                .starts_with("Only the team's coordinator can change"),
            "{result}"
        );
    }
    let team = find(&pat.pull(0).await, s.team_id).unwrap().clone();
    assert_eq!(team["version"], 1);
    assert_eq!(team["fields"]["coordinator_id"], json!(s.pat));
    // The coordinator hands over: that is allowed, and then the new coordinator decides.
    let handover = pat.mutation(
        "team",
        s.team_id,
        1,
        json!({"coordinator_id": s.sol, "member_ids": [s.pat]}),
    );
    assert_eq!(pat.push(vec![handover]).await[0]["status"], "applied");
    let undo = pat.mutation("team", s.team_id, 2, json!({"coordinator_id": s.pat}));
    assert_eq!(pat.push(vec![undo]).await[0]["status"], "rejected");
}

#[tokio::test]
async fn nobody_deletes_a_team_and_the_coordinator_archives_and_restores_it() {
    let h = Harness::new();
    let mut pat = h.pat().await;
    let s = setup(&h, &mut pat).await;
    let (patient_id, _) = add_patient_item(&mut pat, &s).await;
    let mut sol = h.sign_in("sol.worker@example.gov.uk", s.sol).await;
    for client in [&mut sol, &mut pat] {
        client.seq += 1;
        let delete = json!({"mutation_id": Uuid::new_v4(), "seq": client.seq, "entity": "team",
                            "id": s.team_id, "base_version": 1, "op": {"kind": "delete"}});
        let result = client.push(vec![delete]).await.remove(0);
        assert_eq!(result["status"], "rejected");
        assert!(
            result["reason"].as_str().unwrap().contains("archive"),
            "{result}"
        );
    }
    let archive = sol.mutation("team", s.team_id, 1, json!({"archived": true}));
    assert_eq!(sol.push(vec![archive]).await[0]["status"], "rejected");
    let archive = pat.mutation("team", s.team_id, 1, json!({"archived": true}));
    assert_eq!(pat.push(vec![archive]).await[0]["status"], "applied");
    // Archived, everything is still there for the coordinator: patients, the access history.
    let pulled = pat.pull(0).await;
    assert!(find(&pulled, patient_id).is_some());
    let (status, _, _) = h
        .send(get(
            &format!("/api/patients/{patient_id}/access"),
            Some(&pat.cookie),
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    let restore = pat.mutation("team", s.team_id, 2, json!({"archived": false}));
    assert_eq!(pat.push(vec![restore]).await[0]["status"], "applied");
}

/// An archived team is read-only until its coordinator restores it (issue 30): no new meeting,
/// patient, item or action from the coordinator or a member, no change to what is there, no
/// rename, no answer by link; refused in words, and nothing queued to email. Restored, it
/// takes changes again.
#[tokio::test]
async fn an_archived_team_is_read_only_until_its_coordinator_restores_it() {
    let h = Harness::new();
    let mut pat = h.pat().await;
    let s = setup(&h, &mut pat).await;
    let (patient_id, item_id) = add_patient_item(&mut pat, &s).await;
    let mut sol = h.sign_in("sol.worker@example.gov.uk", s.sol).await;
    let archive = pat.mutation("team", s.team_id, 1, json!({"archived": true}));
    assert_eq!(pat.push(vec![archive]).await[0]["status"], "applied");
    let outbox_before = h
        .store
        .read_blocking(mdt::server::store::outbox::counts)
        .unwrap();
    let action = mdt::core::action::Action {
        team_id: s.team_id,
        description: "Refer to the falls service".into(),
        owner_id: s.sol,
        due: uk_days_from_today(10),
        patient_id: Some(patient_id),
        meeting_id: None,
        item_id: Some(item_id),
        status: Default::default(),
        completion_note: String::new(),
        reason: String::new(),
    };
    for client in [&mut pat, &mut sol] {
        let refused = [
            client.put(Uuid::new_v4(), 0, &meeting(s.team_id)).await,
            client
                .put(
                    Uuid::new_v4(),
                    0,
                    &patient(s.team_id, NHS_B, "Bea Synthetic"),
                )
                .await,
            client
                .put(
                    Uuid::new_v4(),
                    0,
                    &item(s.team_id, s.meeting_id, patient_id, s.sol, 2048),
                )
                .await,
            client.put(Uuid::new_v4(), 0, &action).await,
        ];
        let moved = client.mutation("meeting", s.meeting_id, 1, json!({"place": "Room 9"}));
        let moved = client.push(vec![moved]).await.remove(0);
        for result in refused.iter().chain([&moved]) {
            assert_eq!(result["status"], "rejected", "{result}");
            assert_eq!(result["reason"], mdt::core::authorize::ARCHIVED, "{result}");
        }
    }
    let renamed = pat.mutation("team", s.team_id, 2, json!({"name": "Riverside (old)"}));
    assert_eq!(
        pat.push(vec![renamed]).await[0]["reason"],
        mdt::core::authorize::ARCHIVED
    );
    // Nothing refused was queued to email.
    let outbox_after = h
        .store
        .read_blocking(mdt::server::store::outbox::counts)
        .unwrap();
    assert_eq!(outbox_before, outbox_after);
    // An answer by link is refused in the same words and leaves the link unused.
    let key = h
        .store
        .write_blocking(mdt::server::store::answer_links::key)
        .unwrap();
    let starts = Utc::now() + Duration::days(13);
    let claim = mdt::server::store::answer_links::AnswerClaim {
        meeting_id: s.meeting_id,
        person_id: s.sol,
        status: mdt::core::attendance::AttendanceStatus::Attending,
        until: starts.timestamp(),
        nonce: Uuid::new_v4(),
    };
    let link = format!(
        "/answer/{}",
        mdt::server::store::answer_links::sign(&key, &claim)
    );
    let post = || {
        axum::http::Request::builder()
            .method("POST")
            .uri(&link)
            .body(axum::body::Body::empty())
            .unwrap()
    };
    let (status, _, page) = h.send(post()).await;
    assert_eq!(status, StatusCode::CONFLICT, "{page}");
    assert!(
        page.as_str().unwrap().contains("This team is archived"),
        "{page}"
    );
    // A member cannot restore it; the coordinator can, and then it takes changes again.
    let restore = sol.mutation("team", s.team_id, 2, json!({"archived": false}));
    assert_eq!(sol.push(vec![restore]).await[0]["status"], "rejected");
    let restore = pat.mutation("team", s.team_id, 2, json!({"archived": false}));
    assert_eq!(pat.push(vec![restore]).await[0]["status"], "applied");
    let moved = sol.mutation("meeting", s.meeting_id, 1, json!({"place": "Room 9"}));
    assert_eq!(sol.push(vec![moved]).await[0]["status"], "applied");
    let (status, _, page) = h.send(post()).await;
    assert_eq!(status, StatusCode::OK, "{page}");
}

#[tokio::test]
async fn observers_and_outsiders_cannot_change_the_directory() {
    let h = Harness::new();
    let mut pat = h.pat().await;
    let s = setup(&h, &mut pat).await;
    let olu = h.user("olu.observer@example.nhs.net", "Olu Observer", Role::Other);
    let mut t = team("Riverside MDT", s.pat, vec![s.sol]);
    t.observer_ids = vec![olu];
    assert_eq!(pat.put(s.team_id, 1, &t).await["status"], "applied");
    let org = Uuid::new_v4();
    let m = pat.mutation(
        "organisation",
        org,
        0,
        json!({"name": "Riverside Surgery", "kind": "gp_practice"}),
    );
    assert_eq!(pat.push(vec![m]).await[0]["status"], "applied");
    let m = pat.mutation("person", s.pat, 1, json!({"organisation_id": org}));
    assert_eq!(pat.push(vec![m]).await[0]["status"], "applied");

    let mut olu_client = h.sign_in("olu.observer@example.nhs.net", olu).await;
    let role = olu_client.mutation(
        "person",
        s.sol,
        1,
        json!({"role": "gp", "phone": "01632 960 000"}),
    );
    let rename = olu_client.mutation("organisation", org, 1, json!({"name": "Renamed"}));
    for result in olu_client.push(vec![role, rename]).await {
        assert_eq!(result["status"], "rejected", "{result}");
    }
    let xan = h.user("xan.outsider@example.nhs.net", "Xan Outsider", Role::Gp);
    let mut xan_client = h.sign_in("xan.outsider@example.nhs.net", xan).await;
    let rename = xan_client.mutation("organisation", org, 1, json!({"name": "Renamed"}));
    assert_eq!(xan_client.push(vec![rename]).await[0]["status"], "rejected");
    // Nor does someone who builds a team around Sol (her role counts towards quorum).
    let trap = team("Trap", xan, vec![s.sol]);
    assert_eq!(
        xan_client.put(Uuid::new_v4(), 0, &trap).await["status"],
        "applied"
    );
    let role = xan_client.mutation("person", s.sol, 1, json!({"role": "gp"}));
    assert_eq!(xan_client.push(vec![role]).await[0]["status"], "rejected");
    let pulled = pat.pull(0).await;
    assert_eq!(
        find(&pulled, org).unwrap()["fields"]["name"],
        "Riverside Surgery"
    );
    assert_eq!(
        find(&pulled, s.sol).unwrap()["fields"]["role"],
        "social_worker"
    );
    // The coordinator keeps the details of a member who cannot sign in.
    let kit = person_without_account(&mut pat, "Kit Synthetic", Role::Pharmacist).await;
    let mut t = team("Riverside MDT", s.pat, vec![s.sol, kit]);
    t.observer_ids = vec![olu];
    assert_eq!(pat.put(s.team_id, 2, &t).await["status"], "applied");
    let phone = pat.mutation("person", kit, 1, json!({"phone": "01632 960 321"}));
    assert_eq!(pat.push(vec![phone]).await[0]["status"], "applied");
}

/// A monthly series near the end of what the date library holds used to loop for ever while
/// holding the database; other extreme dates answered 500 for the whole batch, every time the
/// device sent it. Now each is refused on its own and the rest of the batch is applied.
#[tokio::test]
async fn extreme_dates_are_refused_quickly_and_the_rest_of_the_batch_applies() {
    let h = Harness::new();
    let mut pat = h.pat().await;
    let s = setup(&h, &mut pat).await;
    let series = |first_date: &str, extra: Value| {
        let mut f = json!({"team_id": s.team_id, "rule": {"freq": "monthly", "nth": 2, "weekday": 1},
                           "first_date": first_date, "starts": "13:00:00", "minutes": 90});
        for (k, v) in extra.as_object().unwrap() {
            f[k] = v.clone();
        }
        f
    };
    // A valid first meeting (the 2nd Tuesday of next month) and its successor, so only the
    // extreme part of each series is at fault.
    let first = nth_weekday_months_ahead(2, chrono::Weekday::Tue, 1).to_string();
    let second = nth_weekday_months_ahead(2, chrono::Weekday::Tue, 2).to_string();
    let hostile = vec![
        // The 2nd Tuesday of the last December the date library holds, skipped: expanding it
        // to check the exception used to loop for ever.
        series(
            "+262142-12-11",
            json!({"exceptions": [{"date": "+262142-12-11"}]}),
        ),
        series("+262142-12-09", json!({})),
        series(&first, json!({"until": "+262142-12-31"})),
        series(&first, json!({"exceptions": [{"date": "+262142-12-09"}]})),
        series(
            &first,
            json!({"exceptions": [{"date": second, "moved_to": "+262142-01-01T13:00:00"}]}),
        ),
        json!({"team_id": s.team_id, "starts_at": "-262143-01-01T00:00:00Z", "ends_at": "-262143-01-01T01:00:00Z", "status": "planned"}),
        json!({"team_id": s.team_id, "starts_at": "+262142-12-31T22:00:00Z", "ends_at": "+262142-12-31T23:00:00Z", "status": "planned"}),
    ];
    let mut mutations: Vec<Value> = hostile
        .into_iter()
        .enumerate()
        .map(|(i, f)| {
            pat.mutation(
                if i < 5 { "series" } else { "meeting" },
                Uuid::new_v4(),
                0,
                f,
            )
        })
        .collect();
    let good_id = Uuid::new_v4();
    mutations.push(pat.mutation(
        "meeting",
        good_id,
        0,
        serde_json::to_value(meeting(s.team_id)).unwrap(),
    ));
    let (status, body) = push_within(&pat, mutations.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let results = body["results"].as_array().unwrap();
    for r in &results[..7] {
        assert_eq!(r["status"], "rejected", "{r}");
        assert!(
            r["reason"]
                .as_str()
                .unwrap()
                .contains("between 2000 and 2100"),
            "{r}"
        );
    }
    assert_eq!(results[7]["status"], "applied");
    // Sent again (as a device does when an answer is lost): the same answers, no 500.
    let (status, again) = push_within(&pat, mutations).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["results"], body["results"]);
    // The server still answers other requests (no hang).
    let started = Instant::now();
    pat.pull(0).await;
    assert!(started.elapsed() < common::HANG_DEADLINE);
}

#[tokio::test]
async fn offline_views_are_recorded_only_when_possible_and_bad_history_rows_never_break_the_page() {
    let h = Harness::new();
    let mut pat = h.pat().await;
    let s = setup(&h, &mut pat).await;
    let (patient_id, item_id) = add_patient_item(&mut pat, &s).await;
    let brief_id = add_brief(&mut pat, &s, item_id).await;
    // A restricted item with a brief Sol may not see.
    let gita = h.user("gita.gp@example.nhs.net", "Gita Synthetic", Role::Gp);
    assert_eq!(
        pat.put(
            s.team_id,
            1,
            &team("Riverside MDT", s.pat, vec![s.sol, gita])
        )
        .await["status"],
        "applied"
    );
    let patient_b = Uuid::new_v4();
    pat.put(patient_b, 0, &patient(s.team_id, NHS_B, "Bea Synthetic"))
        .await;
    let mut restricted = item(s.team_id, s.meeting_id, patient_b, gita, 2048);
    restricted.restricted = true;
    let restricted_id = Uuid::new_v4();
    assert_eq!(
        pat.put(restricted_id, 0, &restricted).await["status"],
        "applied"
    );
    let hidden_brief = mdt::core::brief::brief_id_for(restricted_id);
    let brief = mdt::core::brief::Brief {
        team_id: s.team_id,
        item_id: restricted_id,
        author_id: gita,
        situation: "Safeguarding concern".into(),
        ..Default::default()
    };
    assert_eq!(pat.put(hidden_brief, 0, &brief).await["status"], "applied");

    let sol = h.sign_in("sol.worker@example.gov.uk", s.sol).await;
    let report = |views: Value| {
        json_request(
            "POST",
            "/api/audit/views",
            &json!({"views": views}),
            Some(&sol.cookie),
        )
    };
    let rows_about = |patient: Uuid| {
        h.store
            .write_blocking(move |c| mdt::server::audit::entries_for_patient(c, patient))
            .unwrap()
            .0
            .into_iter()
            .filter(|e| e.action == mdt::server::audit::AuditAction::ViewedOffline)
            .count()
    };
    // An absurd time, one from the future, one before the account existed: none recorded.
    let (status, _, body) = h
        .send(report(json!([
            {"record_id": brief_id, "at": "-0001-01-01T00:00:00Z"},
            {"record_id": brief_id, "at": (Utc::now() + Duration::hours(2))},
            {"record_id": brief_id, "at": "2001-01-01T00:00:00Z"},
        ])))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(rows_about(patient_id), 0);
    // A view of the hidden brief is not recorded, and the answer is the same as for a real one.
    let (_, _, hidden_answer) = h
        .send(report(
            json!([{"record_id": hidden_brief, "at": Utc::now()}]),
        ))
        .await;
    assert_eq!(rows_about(patient_b), 0);
    let (_, _, real_answer) = h
        .send(report(json!([{"record_id": brief_id, "at": Utc::now()}])))
        .await;
    assert_eq!(rows_about(patient_id), 1);
    assert_eq!(hidden_answer, real_answer);

    // A row that cannot be read (written before these checks) is left out, and said so.
    drop_audit_guard(&h.store);
    h.store
        .write_blocking(|db| {
            db.execute(
                "UPDATE audit SET at = '-0001-01-01T00:00:00Z' WHERE seq = (SELECT MAX(seq) FROM audit WHERE patient_id = $1)",
                mdt::args![patient_id],
            )
        })
        .unwrap();
    let (status, _, history) = h
        .send(get(
            &format!("/api/patients/{patient_id}/access"),
            Some(&pat.cookie),
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{history}");
    assert!(
        history[0]["what"]
            .as_str()
            .unwrap()
            .contains("could not read 1 entry"),
        "{history}"
    );
}

#[tokio::test]
async fn a_base_version_the_server_never_issued_is_refused_and_asks_for_a_resync() {
    let h = Harness::new();
    let mut pat = h.pat().await;
    let s = setup(&h, &mut pat).await;
    let mut sol = h.sign_in("sol.worker@example.gov.uk", s.sol).await;
    // A same-field conflict on the meeting's place.
    let a = pat.mutation("meeting", s.meeting_id, 1, json!({"place": "Room 3"}));
    assert_eq!(pat.push(vec![a]).await[0]["status"], "applied");
    let b = sol.mutation("meeting", s.meeting_id, 1, json!({"place": "Room 4"}));
    assert_eq!(sol.push(vec![b]).await[0]["status"], "conflict");
    let ahead = sol.mutation("meeting", s.meeting_id, 99, json!({"place": "Room 5"}));
    let result = sol.push(vec![ahead]).await.remove(0);
    assert_eq!(result["status"], "rejected");
    assert_eq!(result["resync"], true);
    assert!(result["reason"]
        .as_str()
        .unwrap()
        .contains("ahead of the server"));
    let stored = find(&pat.pull(0).await, s.meeting_id).unwrap().clone();
    assert_eq!(stored["fields"]["place"], "Room 3");
    assert_eq!(
        stored["conflicts"].as_array().unwrap().len(),
        1,
        "the conflict stays open"
    );
}

#[tokio::test]
async fn colleague_lookups_are_limited() {
    let h = Harness::new();
    let pat = h.pat().await;
    let lookup = |email: &str| {
        json_request(
            "POST",
            "/api/directory/lookup",
            &json!({"email": email}),
            Some(&pat.cookie),
        )
    };
    for i in 0..mdt::server::directory::LOOKUPS_PER_WINDOW {
        let (status, _, _) = h.send(lookup(&format!("nobody{i}@example.nhs.net"))).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    let (status, headers, body) = h.send(lookup("pat.coordinator@example.nhs.net")).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(headers.contains_key("retry-after"));
    assert!(body["error"].as_str().unwrap().contains("Wait 15 minutes"));
}

#[tokio::test]
async fn nobody_sets_the_availability_of_someone_who_can_sign_in_by_building_a_team_around_them() {
    let h = Harness::new();
    let mut pat = h.pat().await;
    let s = setup(&h, &mut pat).await;
    let eve = h.user("eve.attacker@example.nhs.net", "Eve Attacker", Role::Other);
    let mut eve_client = h.sign_in("eve.attacker@example.nhs.net", eve).await;
    let trap = Uuid::new_v4();
    assert_eq!(
        eve_client
            .put(trap, 0, &team("Trap", eve, vec![s.sol]))
            .await["status"],
        "applied"
    );
    let m = eve_client.mutation(
        "availability",
        PersonAvailability::id_for(s.sol),
        0,
        json!({"person_id": s.sol, "commitments": [{"weekday": 1, "starts": "08:00:00", "ends": "18:00:00", "label": "Clinic"}], "absences": []}),
    );
    let result = eve_client.push(vec![m]).await.remove(0);
    assert_eq!(result["status"], "rejected", "{result}");
    assert!(find(&pat.pull(0).await, PersonAvailability::id_for(s.sol)).is_none());
}

/// A device whose outbox holds a refused change goes on syncing the rest, in the same batch
/// and afterwards.
#[tokio::test]
async fn a_refused_change_never_blocks_the_devices_other_changes() {
    let h = Harness::new();
    let mut pat = h.pat().await;
    let s = setup(&h, &mut pat).await;
    let mut sol = h.sign_in("sol.worker@example.gov.uk", s.sol).await;
    let refused = sol.mutation("team", s.team_id, 1, json!({"name": "Sol's team now"}));
    let fine = sol.mutation("meeting", s.meeting_id, 1, json!({"place": "Room 7"}));
    let results = sol.push(vec![refused.clone(), fine]).await;
    assert_eq!(results[0]["status"], "rejected");
    assert_eq!(results[1]["status"], "applied");
    // The same batch again (answer lost), then a later change: all answered, nothing stuck.
    let results = sol.push(vec![refused]).await;
    assert_eq!(results[0]["status"], "rejected");
    let later = sol.mutation("meeting", s.meeting_id, 2, json!({"place": "Room 8"}));
    assert_eq!(sol.push(vec![later]).await[0]["status"], "applied");
}

/// A null character cannot be stored by PostgreSQL (in text or JSON), so every engine refuses
/// it in any field, with a plain reason, and the rest of the batch applies. Found by the
/// semantic fuzzer on PostgreSQL as a 500.
#[tokio::test]
async fn a_null_character_in_any_field_is_refused_on_every_engine() {
    let h = Harness::new();
    let mut pat = h.pat().await;
    let s = setup(&h, &mut pat).await;
    let (patient, _) = add_patient_item(&mut pat, &s).await;
    let poisoned = "ñ🙂\u{202e}evil\0";
    let fresh = Uuid::new_v4();
    let batch = vec![
        // A change to an existing patient's name: based on its version, and based on nothing
        // (a device that never saw it: stored as a conflict, where the fuzzer found it).
        pat.mutation("patient", patient, 1, json!({"name": poisoned})),
        pat.mutation("patient", patient, 0, json!({"name": poisoned})),
        pat.mutation(
            "patient",
            fresh,
            0,
            json!({"team_id": s.team_id, "nhs_number": NHS_B, "name": "Bo Synthetic",
                   "date_of_birth": "1950-01-01", "objects_to_sharing": false,
                   "unknown\u{0}key": "x"}),
        ),
        pat.mutation(
            "organisation",
            Uuid::new_v4(),
            0,
            json!({"name": poisoned, "kind": "gp_practice"}),
        ),
        pat.mutation(
            "organisation",
            Uuid::new_v4(),
            0,
            json!({"name": "Synthetic Surgery", "kind": "gp_practice"}),
        ),
    ];
    let (status, body) = push_within(&pat, batch).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let results = body["results"].as_array().expect("results");
    for refused in &results[..4] {
        assert_eq!(refused["status"], "rejected", "{refused}");
        let reason = refused["reason"].as_str().unwrap_or_default();
        assert!(reason.contains("cannot be stored"), "{reason}");
    }
    assert_eq!(results[4]["status"], "applied", "{}", results[4]);
    let pulled = pat.pull(0).await;
    let stored = find(&pulled, patient).expect("the patient is still there");
    assert_eq!(stored["fields"]["name"], "Ada Synthetic");
    assert!(find(&pulled, fresh).is_none());
}

/// Outside pushes too (signing in, looking up a colleague), a null character is a 4xx on every
/// engine, never a 500.
#[tokio::test]
async fn a_null_character_in_a_sign_in_or_a_look_up_is_a_4xx() {
    let h = Harness::new();
    let (status, _, body) = h
        .send(json_request(
            "POST",
            "/api/session",
            &json!({"email": "pat\u{0}@example.nhs.net", "password": "x\u{0}y-long-enough"}),
            None,
        ))
        .await;
    assert!(status.is_client_error(), "{status}: {body}");
    let pat = h.pat().await;
    let (status, _, body) = h
        .send(json_request(
            "POST",
            "/api/directory/lookup",
            &json!({"email": "someone\u{0}@example.nhs.net"}),
            Some(&pat.cookie),
        ))
        .await;
    assert!(status.is_client_error(), "{status}: {body}");
}
