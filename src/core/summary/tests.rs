//! Outcome summaries from one synthetic meeting: who was present (a deputy included), the
//! items concluded in agenda order, cancelled actions left out, and a restricted item given only
//! to the people it names.

use chrono::{Duration, TimeZone};

use super::*;
use crate::core::agenda::ItemStatus;
use crate::core::directory::OrganisationKind;
use crate::core::meeting::MeetingStatus;

pub(crate) const TEAM: Uuid = Uuid::from_u128(1);
pub(crate) const MEETING: Uuid = Uuid::from_u128(2);
pub(crate) const PAT: Uuid = Uuid::from_u128(10);
pub(crate) const GP: Uuid = Uuid::from_u128(11);
pub(crate) const SOL: Uuid = Uuid::from_u128(12);
pub(crate) const DEPUTY: Uuid = Uuid::from_u128(13);
pub(crate) const PRACTICE: Uuid = Uuid::from_u128(20);
pub(crate) const ADA: Uuid = Uuid::from_u128(30);
pub(crate) const BEN: Uuid = Uuid::from_u128(31);
pub(crate) const CAL: Uuid = Uuid::from_u128(32);
/// Ada's item: a decision and two actions (and a cancelled one).
pub(crate) const ITEM_ADA: Uuid = Uuid::from_u128(40);
/// Ben's item: restricted to its lead, the GP.
pub(crate) const ITEM_BEN: Uuid = Uuid::from_u128(41);
/// Cal's item: deferred.
pub(crate) const ITEM_CAL: Uuid = Uuid::from_u128(42);
/// Ada again, earlier on the agenda: no action needed.
pub(crate) const ITEM_ADA_FIRST: Uuid = Uuid::from_u128(43);
pub(crate) const ACTION_CALL: Uuid = Uuid::from_u128(50);
pub(crate) const ACTION_REFER: Uuid = Uuid::from_u128(51);
pub(crate) const ACTION_CANCELLED: Uuid = Uuid::from_u128(52);
pub(crate) const ACTION_BEN: Uuid = Uuid::from_u128(53);

/// One meeting's records, owned, for the summary and FHIR tests.
pub(crate) struct Fixture {
    pub meeting: Meeting,
    pub team: Team,
    pub people: HashMap<Uuid, Person>,
    pub organisations: HashMap<Uuid, Organisation>,
    pub patients: HashMap<Uuid, Patient>,
    pub items: Vec<(Uuid, AgendaItem)>,
    pub actions: Vec<(Uuid, Action)>,
    pub events: Vec<ActionEvent>,
    pub attendance: Vec<Attendance>,
}

impl Fixture {
    pub(crate) fn records(&self) -> MeetingRecords<'_> {
        MeetingRecords {
            meeting_id: MEETING,
            meeting: &self.meeting,
            team_id: TEAM,
            team: &self.team,
            people: &self.people,
            organisations: &self.organisations,
            patients: &self.patients,
            items: &self.items,
            actions: &self.actions,
            events: &self.events,
            attendance: &self.attendance,
        }
    }
}

fn person(name: &str, role: Role) -> Person {
    Person {
        name: name.into(),
        role,
        organisation_id: Some(PRACTICE),
        phone: Some("01632 960000".into()),
        email: Some(format!(
            "{}@example.nhs.net",
            name.to_lowercase().replace(' ', ".")
        )),
        last_confirmed: NaiveDate::from_ymd_opt(2026, 10, 1).unwrap(),
    }
}

fn patient(name: &str, nhs_number: &str) -> Patient {
    Patient {
        team_id: TEAM,
        nhs_number: nhs_number.into(),
        name: name.into(),
        date_of_birth: NaiveDate::from_ymd_opt(1941, 3, 2).unwrap(),
        registered_practice_id: Some(PRACTICE),
        lead_professional_id: Some(GP),
        objects_to_sharing: false,
    }
}

fn item(patient_id: Uuid, position: i64, outcome: Outcome) -> AgendaItem {
    AgendaItem {
        patient_id: Some(patient_id),
        position,
        status: ItemStatus::Discussed,
        outcome: Some(outcome),
        requested_by: Some(SOL),
        lead_professional_id: Some(SOL),
        ..AgendaItem::example(TEAM, MEETING)
    }
}

fn action(
    description: &str,
    owner: Uuid,
    item: Uuid,
    due_day: u32,
    status: ActionStatus,
) -> Action {
    Action {
        team_id: TEAM,
        description: description.into(),
        owner_id: owner,
        due: NaiveDate::from_ymd_opt(2026, 12, due_day).unwrap(),
        patient_id: Some(if item == ITEM_BEN { BEN } else { ADA }),
        meeting_id: Some(MEETING),
        item_id: Some(item),
        status,
        completion_note: if status == ActionStatus::Done {
            "Sent".into()
        } else {
            String::new()
        },
        reason: String::new(),
    }
}

fn attendance(person_id: Uuid, status: AttendanceStatus, deputy_id: Option<Uuid>) -> Attendance {
    Attendance {
        team_id: TEAM,
        meeting_id: MEETING,
        person_id,
        status,
        deputy_id,
    }
}

pub(crate) fn fixture() -> Fixture {
    let starts_at = Utc.with_ymd_and_hms(2026, 11, 24, 13, 0, 0).unwrap();
    let mut ben = item(
        BEN,
        2048,
        Outcome::Decision {
            text: "Safeguarding referral".into(),
        },
    );
    ben.restricted = true;
    ben.lead_professional_id = Some(GP);
    ben.requested_by = Some(GP);
    Fixture {
        meeting: Meeting {
            team_id: TEAM,
            starts_at,
            ends_at: starts_at + Duration::minutes(90),
            place: "Surgery meeting room".into(),
            video_link: None,
            status: MeetingStatus::Closed,
        },
        team: Team::example("Riverside MDT", PAT, vec![GP, SOL]),
        people: HashMap::from([
            (PAT, person("Pat Coordinator", Role::PracticeManager)),
            (GP, person("Gita Gp", Role::Gp)),
            (SOL, person("Sol Worker", Role::SocialWorker)),
            (DEPUTY, person("Dee Deputy", Role::Gp)),
        ]),
        organisations: HashMap::from([(
            PRACTICE,
            Organisation {
                name: "Riverside Surgery".into(),
                kind: OrganisationKind::GpPractice,
            },
        )]),
        patients: HashMap::from([
            (ADA, patient("Ada Synthetic", "9990000018")),
            (BEN, patient("Ben Synthetic", "9990000026")),
            (CAL, patient("Cal Synthetic", "9990000034")),
        ]),
        items: vec![
            (
                ITEM_ADA,
                item(
                    ADA,
                    1024,
                    Outcome::Decision {
                        text: "Increase care package".into(),
                    },
                ),
            ),
            (ITEM_BEN, ben),
            (
                ITEM_CAL,
                item(
                    CAL,
                    3072,
                    Outcome::Deferred {
                        reason: "GP away".into(),
                    },
                ),
            ),
            (
                ITEM_ADA_FIRST,
                item(
                    ADA,
                    0,
                    Outcome::NoAction {
                        reason: "Stable".into(),
                    },
                ),
            ),
        ],
        actions: vec![
            (
                ACTION_REFER,
                action(
                    "Refer to reablement",
                    SOL,
                    ITEM_ADA,
                    8,
                    ActionStatus::Accepted,
                ),
            ),
            (
                ACTION_CALL,
                action("Phone the family", PAT, ITEM_ADA, 1, ActionStatus::Done),
            ),
            (
                ACTION_CANCELLED,
                action("Book a visit", SOL, ITEM_ADA, 3, ActionStatus::Cancelled),
            ),
            (
                ACTION_BEN,
                action("Make the referral", GP, ITEM_BEN, 2, ActionStatus::Proposed),
            ),
        ],
        events: vec![ActionEvent {
            team_id: TEAM,
            action_id: ACTION_CALL,
            by: PAT,
            at: starts_at + Duration::days(2),
            summary: "marked it done: Sent".into(),
        }],
        attendance: vec![
            attendance(PAT, AttendanceStatus::Attended, None),
            attendance(GP, AttendanceStatus::Apologies, Some(DEPUTY)),
            attendance(DEPUTY, AttendanceStatus::Attended, None),
            attendance(SOL, AttendanceStatus::Absent, None),
        ],
    }
}

#[test]
fn a_summary_per_concluded_item_with_who_was_there_and_who_does_what() {
    let f = fixture();
    let summaries = f.records().summaries(SOL);
    // Sol is outside Ben's restriction; Cal's item was deferred: Ada's two items, in agenda
    // order.
    assert_eq!(
        summaries.iter().map(|s| s.item_id).collect::<Vec<_>>(),
        vec![ITEM_ADA_FIRST, ITEM_ADA]
    );
    let ada = &summaries[1];
    assert_eq!(
        ada.patient,
        "Ada Synthetic (NHS 999 000 0018, born 2 Mar 1941)"
    );
    assert_eq!(ada.team, "Riverside MDT");
    assert_eq!(ada.question, "Care package review?");
    assert_eq!(ada.outcome.text(), "Increase care package");
    // Pat came; the GP sent Dee in her place; Sol was absent.
    let present: Vec<(String, Option<String>)> = ada
        .present
        .clone()
        .unwrap()
        .into_iter()
        .map(|p| (p.name, p.deputy_for))
        .collect();
    assert_eq!(
        present,
        vec![
            ("Pat Coordinator".to_owned(), None),
            ("Dee Deputy".to_owned(), Some("Gita Gp".to_owned()))
        ]
    );
    // Actions by due date; the cancelled one left out.
    assert_eq!(
        ada.actions
            .iter()
            .map(|a| (a.description.as_str(), a.owner.as_str(), a.due.to_string()))
            .collect::<Vec<_>>(),
        vec![
            (
                "Phone the family",
                "Pat Coordinator",
                "2026-12-01".to_owned()
            ),
            ("Refer to reablement", "Sol Worker", "2026-12-08".to_owned())
        ]
    );
    assert!(summaries[0].actions.is_empty());
}

#[test]
fn a_restricted_item_is_summarised_only_for_the_people_it_names() {
    let f = fixture();
    let ids = |viewer| -> Vec<Uuid> {
        f.records()
            .summaries(viewer)
            .iter()
            .map(|s| s.item_id)
            .collect()
    };
    // The lead (the GP) and the coordinator see Ben's summary; Sol and the deputy do not.
    assert_eq!(ids(GP), vec![ITEM_ADA_FIRST, ITEM_ADA, ITEM_BEN]);
    assert_eq!(ids(PAT), vec![ITEM_ADA_FIRST, ITEM_ADA, ITEM_BEN]);
    assert!(!ids(SOL).contains(&ITEM_BEN));
    assert!(!ids(DEPUTY).contains(&ITEM_BEN));
    // A withheld copy on a device gives no summary even to someone the rules would allow.
    let mut withheld = fixture();
    withheld.items[1].1.content_withheld = true;
    assert!(!withheld
        .records()
        .summaries(GP)
        .iter()
        .any(|s| s.item_id == ITEM_BEN));
}

#[test]
fn attendance_not_recorded_says_so_rather_than_naming_nobody() {
    let mut f = fixture();
    f.attendance = vec![attendance(PAT, AttendanceStatus::Attending, None)];
    assert_eq!(f.records().present(), None);
    assert!(f
        .records()
        .summaries(PAT)
        .iter()
        .all(|s| s.present.is_none()));
}
