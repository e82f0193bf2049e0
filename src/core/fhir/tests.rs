//! The meeting of the summary tests as a FHIR bundle: every reference resolves inside it, the
//! statuses map as documented, NHS numbers carry their system and verification status, and a
//! restricted item's patient never reaches someone outside it.

use std::collections::HashSet;

use chrono::TimeZone;

use super::*;
use crate::core::summary::tests::*;

fn bundle_for(f: &Fixture, viewer: Uuid) -> Value {
    f.records().fhir_bundle(
        viewer,
        Uuid::from_u128(999),
        Utc.with_ymd_and_hms(2026, 11, 30, 9, 0, 0).unwrap(),
    )
}

fn resources<'a>(bundle: &'a Value, kind: &str) -> Vec<&'a Value> {
    bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .filter(|r| r["resourceType"] == kind)
        .collect()
}

fn by_id(bundle: &Value, id: Uuid) -> &Value {
    bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .find(|r| r["id"] == id.to_string())
        .unwrap_or_else(|| panic!("{id} is in the bundle"))
}

/// Every `"reference"` anywhere in `value`.
fn references(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                if key == "reference" {
                    out.push(v.as_str().unwrap().to_owned());
                } else {
                    references(v, out);
                }
            }
        }
        Value::Array(values) => values.iter().for_each(|v| references(v, out)),
        _ => {}
    }
}

#[test]
fn every_reference_resolves_inside_the_bundle() {
    let f = fixture();
    for viewer in [PAT, GP, SOL, DEPUTY] {
        let bundle = bundle_for(&f, viewer);
        assert_eq!(bundle["resourceType"], "Bundle");
        assert_eq!(bundle["type"], "collection");
        assert_eq!(bundle["timestamp"], "2026-11-30T09:00:00Z");
        let full_urls: HashSet<&str> = bundle["entry"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["fullUrl"].as_str().unwrap())
            .collect();
        assert_eq!(
            full_urls.len(),
            bundle["entry"].as_array().unwrap().len(),
            "ids are unique"
        );
        let mut refs = Vec::new();
        references(&bundle, &mut refs);
        assert!(!refs.is_empty());
        for r in refs {
            assert!(full_urls.contains(r.as_str()), "{r} resolves for {viewer}");
        }
    }
}

#[test]
fn a_restricted_items_patient_reaches_only_the_people_it_names() {
    let f = fixture();
    let outside = bundle_for(&f, SOL).to_string();
    assert!(!outside.contains("9990000026"), "Ben's NHS number");
    assert!(!outside.contains("Ben Synthetic"));
    assert!(!outside.contains("Safeguarding referral"));
    assert!(!outside.contains(&BEN.to_string()));
    let bundle = bundle_for(&f, SOL);
    assert_eq!(resources(&bundle, "Patient").len(), 1, "Ada only");
    assert_eq!(
        resources(&bundle, "Composition").len(),
        2,
        "Ada's two items"
    );
    // Cal's item was deferred and has no actions: Cal is not in anyone's bundle.
    let lead = bundle_for(&f, GP);
    assert!(lead.to_string().contains("9990000026"));
    assert!(!lead.to_string().contains("9990000034"));
    assert_eq!(resources(&lead, "Patient").len(), 2);
    assert_eq!(resources(&lead, "Composition").len(), 3);
    assert_eq!(resources(&lead, "Task").len(), 4);
    assert_eq!(
        resources(&bundle, "Task").len(),
        3,
        "Ben's action withheld from Sol"
    );
}

#[test]
fn resources_carry_uk_core_identifiers_and_mapped_statuses() {
    let f = fixture();
    let bundle = bundle_for(&f, GP);
    let ada = by_id(&bundle, ADA);
    assert_eq!(ada["identifier"][0]["system"], NHS_NUMBER_SYSTEM);
    assert_eq!(ada["identifier"][0]["value"], "9990000018");
    assert_eq!(
        ada["identifier"][0]["extension"][0]["url"],
        NHS_NUMBER_VERIFICATION_EXTENSION
    );
    assert_eq!(ada["birthDate"], "1941-03-02");
    assert_eq!(
        ada["generalPractitioner"][0]["display"],
        "Riverside Surgery"
    );

    // Proposed, accepted, done and cancelled actions as Task statuses; due dates and history.
    let status = |id| by_id(&bundle, id)["status"].as_str().unwrap().to_owned();
    assert_eq!(status(ACTION_BEN), "requested");
    assert_eq!(status(ACTION_REFER), "accepted");
    assert_eq!(status(ACTION_CALL), "completed");
    assert_eq!(status(ACTION_CANCELLED), "cancelled");
    let call = by_id(&bundle, ACTION_CALL);
    assert_eq!(call["intent"], "plan");
    assert_eq!(call["restriction"]["period"]["end"], "2026-12-01");
    assert_eq!(call["owner"]["reference"], format!("urn:uuid:{PAT}"));
    assert_eq!(call["for"]["reference"], format!("urn:uuid:{ADA}"));
    assert_eq!(call["note"][0]["text"], "marked it done: Sent");
    assert_eq!(call["note"][0]["time"], "2026-11-26T13:00:00Z");
    assert_eq!(call["note"][1]["text"], "Completion note: Sent");

    // The meeting, and each person's answer.
    let meeting = by_id(&bundle, MEETING);
    assert_eq!(meeting["status"], "fulfilled");
    assert_eq!(meeting["start"], "2026-11-24T13:00:00Z");
    assert_eq!(meeting["end"], "2026-11-24T14:30:00Z");
    let answer = |person: Uuid| {
        meeting["participant"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["actor"]["reference"] == format!("urn:uuid:{person}"))
            .map(|p| p["status"].as_str().unwrap().to_owned())
    };
    assert_eq!(answer(PAT).as_deref(), Some("accepted"));
    assert_eq!(answer(GP).as_deref(), Some("declined"), "apologies");
    assert_eq!(
        answer(DEPUTY).as_deref(),
        Some("accepted"),
        "the deputy came"
    );
    assert_eq!(answer(SOL).as_deref(), Some("declined"), "absent");

    // The MDT with each member's role at their organisation.
    let team = by_id(&bundle, TEAM);
    assert_eq!(team["name"], "Riverside MDT");
    assert_eq!(team["participant"].as_array().unwrap().len(), 3);
    let gp_role = by_id(&bundle, f.records().practitioner_role_id(GP));
    assert_eq!(gp_role["code"][0]["text"], "GP");
    assert_eq!(gp_role["organization"]["display"], "Riverside Surgery");

    // The outcome summary.
    let summary = by_id(&bundle, ITEM_ADA);
    assert_eq!(summary["status"], "final");
    assert_eq!(summary["subject"]["reference"], format!("urn:uuid:{ADA}"));
    let sections: Vec<&str> = summary["section"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        sections,
        vec![
            "Present",
            "Reason for discussion",
            "Question for the MDT",
            "Decision",
            "Actions"
        ]
    );
    assert!(summary["section"][0]["text"]["div"]
        .as_str()
        .unwrap()
        .contains("<p>Dee Deputy, GP (for Gita Gp)</p>"));
    assert_eq!(summary["section"][4]["entry"].as_array().unwrap().len(), 2);
}

#[test]
fn typed_text_is_escaped_in_narrative_and_blank_text_never_becomes_an_empty_string() {
    let mut f = fixture();
    f.items[0].1.question = "<script>alert(1)</script> & \"more\"".into();
    f.items[0].1.reason = "   ".into();
    f.meeting.place = "  ".into();
    let bundle = bundle_for(&f, GP);
    let summary = by_id(&bundle, ITEM_ADA);
    assert_eq!(
        summary["section"][2]["text"]["div"],
        "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;more&quot;</p></div>"
    );
    assert_eq!(
        summary["section"][1]["text"]["div"],
        "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Not recorded.</p></div>"
    );
    assert!(by_id(&bundle, MEETING).get("comment").is_none());
    // FHIR strings are never empty.
    fn no_empty_strings(v: &Value) {
        match v {
            Value::String(s) => assert!(!s.trim().is_empty()),
            Value::Array(a) => a.iter().for_each(no_empty_strings),
            Value::Object(o) => o.values().for_each(no_empty_strings),
            _ => {}
        }
    }
    no_empty_strings(&bundle);
}
