//! Patients, agenda items, briefs and read receipts through push and pull: validation with
//! reasons, cut-offs, need-to-know. Synthetic patients only (NHS numbers in the 999 range).
#![cfg(not(target_arch = "wasm32"))]

mod common;

use chrono::{Duration, Utc};
use serde_json::json;
use uuid::Uuid;

use common::*;
use mdt::core::agenda::AgendaItem;
use mdt::core::brief::{brief_id_for, Brief, BriefStatus, ReadReceipt};
use mdt::core::entities::{Meeting, Role};

fn brief(team_id: Uuid, item_id: Uuid, author: Uuid) -> Brief {
    Brief {
        team_id,
        item_id,
        author_id: author,
        situation: "Lives alone; two falls.".into(),
        request: "Review of care package.".into(),
        consent_to_share: Some(true),
        ..Brief::default()
    }
}

#[tokio::test]
async fn an_agenda_with_briefs_and_receipts_syncs_between_members() {
    let h = Harness::new();
    let me = h.coordinator();
    let mut pat = h.sign_in("pat.coordinator@example.nhs.net", me).await;
    let s = setup(&h, &mut pat).await;

    let (p1, p2) = (Uuid::new_v4(), Uuid::new_v4());
    assert_eq!(
        pat.put(p1, 0, &patient(s.team_id, NHS_A, "Ada Synthetic"))
            .await["status"],
        "applied"
    );
    assert_eq!(
        pat.put(p2, 0, &patient(s.team_id, NHS_B, "Bea Example"))
            .await["status"],
        "applied"
    );
    let (i1, i2) = (Uuid::new_v4(), Uuid::new_v4());
    assert_eq!(
        pat.put(i1, 0, &item(s.team_id, s.meeting_id, p1, s.sol, 1024))
            .await["status"],
        "applied"
    );
    assert_eq!(
        pat.put(i2, 0, &item(s.team_id, s.meeting_id, p2, s.pat, 2048))
            .await["status"],
        "applied"
    );

    let mut sol = h.sign_in("sol.worker@example.gov.uk", s.sol).await;
    let brief_id = brief_id_for(i1);
    let ready = Brief {
        status: BriefStatus::Ready,
        ..brief(s.team_id, i1, s.sol)
    };
    assert_eq!(sol.put(brief_id, 0, &ready).await["status"], "applied");

    // Pat reads it: the receipt names the version read.
    let pulled = pat.pull(0).await;
    let brief_record = find(&pulled, brief_id).expect("a member sees the brief");
    assert_eq!(brief_record["fields"]["status"], "ready");
    let version = brief_record["version"].as_u64().unwrap();
    let receipt = ReadReceipt {
        team_id: s.team_id,
        brief_id,
        person_id: s.pat,
        brief_version: version,
        read_at: Utc::now(),
    };
    assert_eq!(
        pat.put(ReadReceipt::id_for(brief_id, s.pat), 0, &receipt)
            .await["status"],
        "applied"
    );
    assert!(
        find(&sol.pull(0).await, ReadReceipt::id_for(brief_id, s.pat)).is_some(),
        "the author sees who read it"
    );

    // Nobody can record someone else's reading.
    let forged = ReadReceipt {
        person_id: s.sol,
        ..receipt.clone()
    };
    let result = pat
        .put(ReadReceipt::id_for(brief_id, s.sol), 0, &forged)
        .await;
    assert_eq!(
        result["reason"],
        "You can only record your own reading of a brief"
    );

    // Editing a ready brief returns it to draft, on the server, whoever edits it.
    let edit = sol.mutation(
        "brief",
        brief_id,
        version,
        json!({"risks": "Stairs at home"}),
    );
    assert_eq!(sol.push(vec![edit]).await[0]["status"], "applied");
    let after = pat.pull(0).await;
    assert_eq!(find(&after, brief_id).unwrap()["fields"]["status"], "draft");
}

#[tokio::test]
async fn bad_patient_and_brief_data_is_refused_with_reasons_and_no_identifiers() {
    let h = Harness::new();
    let me = h.coordinator();
    let mut pat = h.sign_in("pat.coordinator@example.nhs.net", me).await;
    let s = setup(&h, &mut pat).await;

    let bad = pat
        .put(
            Uuid::new_v4(),
            0,
            &patient(s.team_id, "9990000019", "Ada Synthetic"),
        )
        .await;
    assert_eq!(bad["status"], "rejected");
    assert_eq!(
        bad["reason"],
        "This is not a valid NHS number: check it for a mistyped digit"
    );
    let short = pat
        .put(
            Uuid::new_v4(),
            0,
            &patient(s.team_id, "999000001", "Ada Synthetic"),
        )
        .await;
    assert_eq!(
        short["reason"],
        "Enter the NHS number as 10 digits, like 943 476 5919"
    );

    let p1 = Uuid::new_v4();
    assert_eq!(
        pat.put(p1, 0, &patient(s.team_id, NHS_A, "Ada Synthetic"))
            .await["status"],
        "applied"
    );
    let twice = pat
        .put(
            Uuid::new_v4(),
            0,
            &patient(s.team_id, NHS_A, "Ada Synthetic"),
        )
        .await;
    assert!(twice["reason"]
        .as_str()
        .unwrap()
        .contains("already on the team's list"));
    assert!(
        !twice.to_string().contains(NHS_A),
        "no NHS number in the message"
    );

    let i1 = Uuid::new_v4();
    assert_eq!(
        pat.put(i1, 0, &item(s.team_id, s.meeting_id, p1, s.sol, 1024))
            .await["status"],
        "applied"
    );
    let no_question = AgendaItem {
        question: String::new(),
        ..item(s.team_id, s.meeting_id, p1, s.sol, 2048)
    };
    assert_eq!(
        pat.put(Uuid::new_v4(), 0, &no_question).await["reason"],
        "Enter the question for the MDT"
    );

    let not_ready = Brief {
        status: BriefStatus::Ready,
        request: " ".into(),
        ..brief(s.team_id, i1, s.pat)
    };
    let result = pat.put(brief_id_for(i1), 0, &not_ready).await;
    assert_eq!(
        result["reason"],
        "Say what you are asking the MDT before marking the brief ready"
    );
    let second_brief = pat
        .put(Uuid::new_v4(), 0, &brief(s.team_id, i1, s.pat))
        .await;
    assert_eq!(
        second_brief["reason"],
        "This item already has a brief: open it from the agenda"
    );
}

#[tokio::test]
async fn another_teams_member_cannot_read_or_touch_a_brief() {
    let h = Harness::new();
    let me = h.coordinator();
    let mut pat = h.sign_in("pat.coordinator@example.nhs.net", me).await;
    let s = setup(&h, &mut pat).await;
    let p1 = Uuid::new_v4();
    pat.put(p1, 0, &patient(s.team_id, NHS_A, "Ada Synthetic"))
        .await;
    let i1 = Uuid::new_v4();
    pat.put(i1, 0, &item(s.team_id, s.meeting_id, p1, s.sol, 1024))
        .await;
    let brief_id = brief_id_for(i1);
    assert_eq!(
        pat.put(brief_id, 0, &brief(s.team_id, i1, s.pat)).await["status"],
        "applied"
    );

    let olu_person = h.user("olu.outsider@example.nhs.net", "Olu Outsider", Role::Gp);
    let mut olu = h.sign_in("olu.outsider@example.nhs.net", olu_person).await;
    let own_team = Uuid::new_v4();
    assert_eq!(
        olu.put(own_team, 0, &team("Hilltop MDT", olu_person, vec![]))
            .await["status"],
        "applied"
    );

    let pulled = olu.pull(0).await;
    for hidden in [p1, i1, brief_id] {
        assert!(
            find(&pulled, hidden).is_none(),
            "outsider must not receive {hidden}"
        );
    }
    assert!(!pulled.to_string().contains("Ada Synthetic"));
    let receipt = ReadReceipt {
        team_id: s.team_id,
        brief_id,
        person_id: olu_person,
        brief_version: 1,
        read_at: Utc::now(),
    };
    let result = olu
        .put(ReadReceipt::id_for(brief_id, olu_person), 0, &receipt)
        .await;
    assert_eq!(
        result["reason"],
        "You can only change the records of teams you belong to"
    );
    let edit = olu.mutation("brief", brief_id, 1, json!({"situation": "overwritten"}));
    assert_eq!(
        olu.push(vec![edit]).await[0]["reason"],
        "Brief: it does not exist (or you may not see it)"
    );
    // Moving a patient into one's own team is refused too.
    let steal = olu.mutation("patient", p1, 1, json!({"team_id": own_team}));
    assert_eq!(
        olu.push(vec![steal]).await[0]["reason"],
        "Patient: it does not exist (or you may not see it)"
    );
}

#[tokio::test]
async fn after_the_agenda_cut_off_only_the_coordinator_adds_late_items() {
    let h = Harness::new();
    let me = h.coordinator();
    let mut pat = h.sign_in("pat.coordinator@example.nhs.net", me).await;
    let s = setup(&h, &mut pat).await;
    let p1 = Uuid::new_v4();
    pat.put(p1, 0, &patient(s.team_id, NHS_A, "Ada Synthetic"))
        .await;
    // A meeting tomorrow: inside the 48-hour cut-off.
    let soon = Uuid::new_v4();
    let starts_at = Utc::now() + Duration::days(1);
    let tomorrow = Meeting {
        starts_at,
        ends_at: starts_at + Duration::minutes(90),
        ..meeting(s.team_id)
    };
    assert_eq!(pat.put(soon, 0, &tomorrow).await["status"], "applied");

    let mut sol = h.sign_in("sol.worker@example.gov.uk", s.sol).await;
    let refused = sol
        .put(Uuid::new_v4(), 0, &item(s.team_id, soon, p1, s.sol, 1024))
        .await;
    assert!(
        refused["reason"]
            .as_str()
            .unwrap()
            .contains("Ask the coordinator"),
        "{refused}"
    );
    let unmarked = pat
        .put(Uuid::new_v4(), 0, &item(s.team_id, soon, p1, s.sol, 1024))
        .await;
    assert_eq!(
        unmarked["reason"],
        "The agenda has closed, so this item must be marked as late"
    );
    let late = AgendaItem {
        late: true,
        ..item(s.team_id, soon, p1, s.sol, 1024)
    };
    assert_eq!(pat.put(Uuid::new_v4(), 0, &late).await["status"], "applied");
    // The meeting in two weeks is still open to everyone.
    assert_eq!(
        sol.put(
            Uuid::new_v4(),
            0,
            &item(s.team_id, s.meeting_id, p1, s.sol, 1024)
        )
        .await["status"],
        "applied"
    );
}

/// A concluded meeting's agenda is the record of what was decided: the server refuses adding an
/// item to it, changing one and removing one, whoever asks (its coordinator too), while the
/// next meeting's agenda stays open (issue 15, problem 4). Moving an item between meetings is
/// refused anyway (an item's meeting is fixed once saved).
#[tokio::test]
async fn a_concluded_meetings_agenda_cannot_change() {
    use mdt::core::agenda::ItemStatus;
    use mdt::core::entities::MeetingStatus;
    let h = Harness::new();
    let me = h.coordinator();
    let mut pat = h.sign_in("pat.coordinator@example.nhs.net", me).await;
    let s = setup(&h, &mut pat).await;
    let patient_id = Uuid::new_v4();
    pat.put(patient_id, 0, &patient(s.team_id, NHS_A, "Ada Synthetic"))
        .await;
    let (on_it, second, elsewhere) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let on_meeting = item(s.team_id, s.meeting_id, patient_id, s.sol, 1024);
    for (id, position) in [(on_it, 1024), (second, 2048)] {
        let put = AgendaItem {
            position,
            ..on_meeting.clone()
        };
        assert_eq!(pat.put(id, 0, &put).await["status"], "applied");
    }
    let next_id = Uuid::new_v4();
    let next = Meeting {
        starts_at: meeting(s.team_id).starts_at + Duration::days(28),
        ends_at: meeting(s.team_id).ends_at + Duration::days(28),
        ..meeting(s.team_id)
    };
    assert_eq!(pat.put(next_id, 0, &next).await["status"], "applied");
    let on_next = AgendaItem {
        meeting_id: next_id,
        ..on_meeting.clone()
    };
    assert_eq!(pat.put(elsewhere, 0, &on_next).await["status"], "applied");

    // The meeting is concluded (the item given its outcome first, as the app asks).
    let decided = AgendaItem {
        status: ItemStatus::Discussed,
        outcome: Some(mdt::core::agenda::Outcome::NoAction {
            reason: "Stable".into(),
        }),
        ..on_meeting.clone()
    };
    assert_eq!(pat.put(on_it, 1, &decided).await["status"], "applied");
    let deferred = AgendaItem {
        position: 2048,
        status: ItemStatus::Discussed,
        outcome: Some(mdt::core::agenda::Outcome::Deferred {
            reason: "The GP is away".into(),
        }),
        ..on_meeting.clone()
    };
    assert_eq!(pat.put(second, 1, &deferred).await["status"], "applied");
    let concluded = Meeting {
        status: MeetingStatus::Closed,
        ..meeting(s.team_id)
    };
    let stored = find(&pat.pull(0).await, s.meeting_id).unwrap().clone();
    let version = stored["version"].as_u64().unwrap();
    // Held now (a meeting is concluded only once it has started).
    let (starts_at, ends_at) = started_an_hour_ago();
    let closed = Meeting {
        starts_at,
        ends_at,
        ..concluded
    };
    let result = pat.put(s.meeting_id, version, &closed).await;
    assert_eq!(result["status"], "applied", "{result}");

    let refused = |result: serde_json::Value| {
        assert_eq!(result["status"], "rejected", "{result}");
        assert_eq!(
            result["reason"],
            mdt::core::authorize::CONCLUDED,
            "{result}"
        );
    };
    // Adding and changing: refused, for the coordinator and for the requester.
    refused(pat.put(Uuid::new_v4(), 0, &on_meeting).await);
    refused(
        pat.put(
            on_it,
            2,
            &AgendaItem {
                outcome: Some(mdt::core::agenda::Outcome::NoAction {
                    reason: "Changed afterwards".into(),
                }),
                ..decided.clone()
            },
        )
        .await,
    );
    assert_eq!(pat.put(second, 2, &on_next).await["status"], "rejected");
    let mut sol = h.sign_in("sol.worker@example.gov.uk", s.sol).await;
    refused(
        sol.put(
            second,
            2,
            &AgendaItem {
                minutes: 20,
                ..deferred.clone()
            },
        )
        .await,
    );
    assert_eq!(
        pat.put(elsewhere, 1, &on_meeting).await["status"],
        "rejected"
    );
    // Removing one: refused.
    let mut delete = pat.mutation("agenda_item", on_it, 2, json!({}));
    delete["op"] = json!({"kind": "delete"});
    refused(pat.push(vec![delete]).await.remove(0));
    // The next meeting's agenda is open as ever.
    assert_eq!(
        pat.put(
            elsewhere,
            1,
            &AgendaItem {
                minutes: 20,
                ..on_next.clone()
            }
        )
        .await["status"],
        "applied"
    );
    assert_eq!(
        pat.put(Uuid::new_v4(), 0, &on_next).await["status"],
        "applied"
    );
}
