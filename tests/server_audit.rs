//! The audit trail: every read and write of patient data makes exactly one row, chained by hash;
//! a changed or removed row breaks verification; the coordinator sees a patient's history.

mod common;

use axum::http::StatusCode;
use serde_json::json;
use uuid::Uuid;

use common::*;
use mdt::core::brief::Brief;
use mdt::server::audit;

fn rows(h: &Harness) -> Vec<(i64, String, String, String, String)> {
    h.store
        .read_blocking(|db| {
            db.query(
                "SELECT seq, user_id, action, entity, patient_id FROM audit ORDER BY seq",
                &[],
            )?
            .iter()
            .map(|r| Ok((r.int(0)?, r.text(1)?, r.text(2)?, r.text(3)?, r.text(4)?)))
            .collect()
        })
        .unwrap()
}

fn verify(h: &Harness) -> Result<u64, audit::ChainBreak> {
    h.store.read_blocking(|db| audit::verify(db)).unwrap()
}

#[tokio::test]
async fn every_read_and_write_of_patient_data_makes_exactly_one_chained_row() {
    let h = Harness::new();
    let mut pat = h.pat().await;
    let s = setup(&h, &mut pat).await;
    assert!(
        rows(&h).is_empty(),
        "a team and a meeting hold no patient data"
    );

    // Writes: creating the patient and the item, then a brief, then changing the brief.
    let (patient_id, item_id) = add_patient_item(&mut pat, &s).await;
    let after_writes = rows(&h);
    assert_eq!(after_writes.len(), 2, "{after_writes:?}");
    assert!(after_writes
        .iter()
        .all(|r| r.2 == "create" && r.4 == patient_id.to_string()));
    let brief_id = add_brief(&mut pat, &s, item_id).await;
    let changed = Brief {
        team_id: s.team_id,
        item_id,
        author_id: s.sol,
        situation: "Lives alone; two falls".into(),
        ..Brief::default()
    };
    assert_eq!(pat.put(brief_id, 1, &changed).await["status"], "applied");
    let r = rows(&h);
    assert_eq!(r.len(), 4);
    assert_eq!((r[2].2.as_str(), r[2].3.as_str()), ("create", "brief"));
    assert_eq!((r[3].2.as_str(), r[3].3.as_str()), ("change", "brief"));
    assert!(
        r.iter().all(|row| row.4 == patient_id.to_string()),
        "a brief is about its item's patient"
    );

    // A refused write makes no row.
    let bad = pat.mutation("patient", Uuid::new_v4(), 0, json!({"team_id": s.team_id, "nhs_number": "1234567890", "name": "X", "date_of_birth": "1940-01-01"}));
    assert_eq!(pat.push(vec![bad]).await[0]["status"], "rejected");
    assert_eq!(rows(&h).len(), 4);

    // Reads: Sol's first pull sends the patient, the item and the brief: three rows in her name.
    let sol = h.sign_in("sol.worker@example.gov.uk", s.sol).await;
    let sol_user = h
        .store
        .write_blocking(|c| mdt::server::store::find_user_by_email(c, "sol.worker@example.gov.uk"))
        .unwrap()
        .unwrap()
        .id;
    let pulled = sol.pull(0).await;
    let patient_records = pulled["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| ["patient", "agenda_item", "brief"].contains(&r["entity"].as_str().unwrap()))
        .count();
    assert_eq!(patient_records, 3);
    let r = rows(&h);
    let reads: Vec<_> = r[4..].iter().collect();
    assert_eq!(reads.len(), 3, "{reads:?}");
    assert!(reads
        .iter()
        .all(|row| row.1 == sol_user.to_string() && row.2 == "read"));
    // A pull with nothing new reads nothing.
    let cursor = pulled["cursor"].as_u64().unwrap();
    sol.pull(cursor).await;
    assert_eq!(rows(&h).len(), 7);

    // Views made offline, reported later: one row each for a record Sol may see; an unknown
    // record and another team's record are ignored.
    let (status, _, body) = h
        .send(json_request(
            "POST",
            "/api/audit/views",
            &json!({"views": [
                {"record_id": brief_id, "at": chrono::Utc::now()},
                {"record_id": Uuid::new_v4(), "at": chrono::Utc::now()}
            ]}),
            Some(&sol.cookie),
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The answer is the same whatever was recorded (it must not reveal hidden records).
    assert_eq!(body["received"], 2);
    let r = rows(&h);
    assert_eq!(r.len(), 8);
    assert_eq!(
        (r[7].2.as_str(), r[7].4.as_str()),
        ("viewed_offline", patient_id.to_string().as_str())
    );

    assert_eq!(verify(&h), Ok(8));

    // The coordinator's view of Ada's history; nobody else may see it.
    let (status, _, history) = h
        .send(get(
            &format!("/api/patients/{patient_id}/access"),
            Some(&pat.cookie),
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{history}");
    let lines = history.as_array().unwrap();
    assert_eq!(lines.len(), 8);
    assert_eq!(lines[0]["who"], "Sol Worker");
    assert_eq!(lines[0]["what"], "opened while offline");
    assert!(lines.iter().any(|l| l["who"] == "Pat Coordinator"
        && l["what"] == "changed"
        && l["record"] == "Brief"));
    let (status, _, _) = h
        .send(get(
            &format!("/api/patients/{patient_id}/access"),
            Some(&sol.cookie),
        ))
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "a member who does not coordinate cannot see it"
    );
}

/// A trail with a few rows: Pat adds Ada to the agenda and pulls.
async fn a_short_trail(h: &Harness) {
    let mut pat = h.pat().await;
    let s = setup(h, &mut pat).await;
    add_patient_item(&mut pat, &s).await;
    pat.pull(0).await;
}

#[tokio::test]
async fn changing_or_removing_a_row_breaks_verification() {
    let h = Harness::new();
    a_short_trail(&h).await;
    let total = rows(&h).len() as u64;
    assert!(total >= 4);
    assert_eq!(verify(&h), Ok(total));

    // The app itself cannot change or delete a row.
    for change in [
        "UPDATE audit SET action = 'read' WHERE seq = 1",
        "DELETE FROM audit WHERE seq = 1",
    ] {
        let refused = h.store.write_blocking(|db| db.execute(change, &[]));
        assert!(refused.is_err(), "append-only: {change}");
    }
    assert_eq!(verify(&h), Ok(total));

    // Someone with the database file drops the guard and edits a row: detected, at that row.
    drop_audit_guard(&h.store);
    h.store
        .write_blocking(|db| {
            db.execute(
                "UPDATE audit SET user_id = '00000000-0000-0000-0000-000000000000' WHERE seq = 2",
                &[],
            )
        })
        .unwrap();
    let broken = verify(&h).unwrap_err();
    assert_eq!(broken.seq, 2);
    assert!(broken.reason.contains("changed"), "{broken}");

    // Removing a row instead is detected too.
    let h2 = Harness::new();
    a_short_trail(&h2).await;
    drop_audit_guard(&h2.store);
    h2.store
        .write_blocking(|db| db.execute("DELETE FROM audit WHERE seq = 2", &[]))
        .unwrap();
    let broken = h2
        .store
        .read_blocking(|db| audit::verify(db))
        .unwrap()
        .unwrap_err();
    assert_eq!(broken.seq, 3);
    assert!(broken.reason.contains("missing"), "{broken}");
}
