//! The exhaustive write matrix: every record kind × operation (create, change of each field,
//! delete) × relation of the writer to the record (coordinator, member, subject, named person,
//! observer, coordinator of another team, site administrator, and anonymous), each a real push
//! through the router, compared with an expected table written here independently of
//! `core::authorize`. Every case starts from a fresh record (or a fresh world where a record
//! is one per person), so one case's change never decides another's. Synthetic people only.

mod common;

use std::collections::BTreeSet;
use std::fmt::Write as _;

use axum::http::StatusCode;
use chrono::{Duration, NaiveDate, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

use common::*;
use mdt::core::attendance::Attendance;
use mdt::core::brief::{brief_id_for, ReadReceipt};
use mdt::core::entities::{EntityKind, Role};
use mdt::core::schedule::PersonAvailability;

/// Who pushes: each holds exactly one relation to the records of the world (the subject and
/// the named person are also members of the team, as they always are).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Who {
    Coordinator,
    Member,
    Subject,
    Named,
    Observer,
    OtherTeam,
    SiteAdmin,
}

const EVERYONE: [Who; 7] = [
    Who::Coordinator,
    Who::Member,
    Who::Subject,
    Who::Named,
    Who::Observer,
    Who::OtherTeam,
    Who::SiteAdmin,
];

impl Who {
    fn code(self) -> char {
        match self {
            Who::Coordinator => 'C',
            Who::Member => 'M',
            Who::Subject => 'S',
            Who::Named => 'N',
            Who::Observer => 'O',
            Who::OtherTeam => 'X',
            Who::SiteAdmin => 'A',
        }
    }
}

/// The expected table, written from the rules in words (DESIGN §2.7), not from the code:
/// `kind operation field: who may` with C coordinator, M member, S subject, N named person,
/// O observer, X coordinator of another team, A site administrator; `-` nobody. The subject
/// can sign in, so only they keep their own directory entry and availability. The records:
/// an organisation the team works with; the subject's own directory entry; the team; a
/// meeting; a patient; a *restricted* agenda item led and asked for by the subject, with the
/// named person named; a brief, an action, a read receipt, attendance and availability of the
/// subject; a history line in the subject's name; a series.
const EXPECTED: &str = "
organisation create *: CMSNOXA
organisation change name: C
organisation change kind: C
organisation delete *: -
person create *: CMSNOXA
person change name: S
person change role: S
person change organisation_id: S
person change phone: S
person change email: S
person change last_confirmed: S
person delete *: -
team create *: C
team change name: C
team change coordinator_id: C
team change member_ids: C
team change observer_ids: C
team change required_roles: C
team change default_minutes: C
team change place: C
team change video_link: C
team change agenda_cutoff_hours: C
team change brief_cutoff_hours: C
team change archived: C
team change observers_see_measures: C
team change email_people_without_accounts: C
team delete *: -
meeting create *: CMSN
meeting change team_id: -
meeting change starts_at: CMSN
meeting change ends_at: CMSN
meeting change place: CMSN
meeting change video_link: CMSN
meeting change status: CMSN
meeting delete *: CMSN
patient create *: CMSN
patient change team_id: -
patient change nhs_number: CMSN
patient change name: CMSN
patient change date_of_birth: CMSN
patient change registered_practice_id: CMSN
patient change lead_professional_id: CMSN
patient change objects_to_sharing: CMSN
patient delete *: CMSN
agenda_item create *: CMSN
agenda_item change team_id: -
agenda_item change meeting_id: -
agenda_item change kind: CSN
agenda_item change title: CSN
agenda_item change patient_id: CSN
agenda_item change reason: CSN
agenda_item change question: CSN
agenda_item change requested_by: CSN
agenda_item change requested_on: CSN
agenda_item change lead_professional_id: CSN
agenda_item change minutes: CMSN
agenda_item change position: CMSN
agenda_item change required_people: CSN
agenda_item change late: CSN
agenda_item change deferrals: CSN
agenda_item change carried_from: CSN
agenda_item change status: CSN
agenda_item change outcome: CSN
agenda_item change summary_sent_on: C
agenda_item change restricted: C
agenda_item change restricted_to: C
agenda_item change content_withheld: -
agenda_item delete *: CSN
brief create *: CMSN
brief change team_id: -
brief change item_id: -
brief change author_id: CMSN
brief change situation: CMSN
brief change background: CMSN
brief change assessment: CMSN
brief change request: CMSN
brief change services_involved: CMSN
brief change risks: CMSN
brief change safeguarding_concern: CMSN
brief change patient_wishes: CMSN
brief change consent_to_share: CMSN
brief change status: CMSN
brief delete *: C
read_receipt create *: S
read_receipt change team_id: -
read_receipt change brief_id: -
read_receipt change person_id: -
read_receipt change brief_version: S
read_receipt change read_at: S
read_receipt delete *: -
action create *: CMSN
action change team_id: -
action change description: CMSN
action change owner_id: CMSN
action change due: CMSN
action change patient_id: CMSN
action change meeting_id: CMSN
action change item_id: CMSN
action change status: S
action change completion_note: CMSN
action change reason: CMSN
action delete *: CMSN
action_event create *: CMSN
action_event change team_id: -
action_event change action_id: -
action_event change by: -
action_event change at: -
action_event change summary: -
action_event delete *: -
attendance create *: CS
attendance change team_id: -
attendance change meeting_id: -
attendance change person_id: -
attendance change status: CS
attendance change deputy_id: CS
attendance delete *: C
availability create *: S
availability change person_id: -
availability change commitments: S
availability change absences: S
availability change prefers_remote: S
availability delete *: S
series create *: CMSN
series change team_id: -
series change rule: CMSN
series change first_date: CMSN
series change starts: CMSN
series change minutes: CMSN
series change until: CMSN
series change exceptions: CMSN
series change place: CMSN
series change video_link: CMSN
series change sequence: CMSN
series change cancelled: CMSN
series delete *: CMSN
";

fn expected(kind: &str, op: &str, field: &str) -> BTreeSet<char> {
    let key = format!("{kind} {op} {field}:");
    let line = EXPECTED
        .lines()
        .find(|l| l.starts_with(&key))
        .unwrap_or_else(|| panic!("the expected table has no row for {key}"));
    line[key.len()..]
        .trim()
        .chars()
        .filter(|c| *c != '-')
        .collect()
}

/// A synthetic NHS number in the 999 range with a valid check digit, from a serial number.
fn nhs(serial: u32) -> String {
    for n in serial * 10.. {
        let digits: Vec<u8> = format!("999{:06}", n % 1_000_000)
            .bytes()
            .map(|b| b - b'0')
            .collect();
        let first_nine: [u8; 9] = digits.clone().try_into().unwrap();
        if let Some(check) = mdt::core::patient::check_digit(&first_nine) {
            return format!("999{:06}{check}", n % 1_000_000);
        }
    }
    unreachable!()
}

/// Everyone, the team and the records every case hangs from.
struct World<'a> {
    h: &'a Harness,
    pat: Client<'a>,
    sol_client: Client<'a>,
    actor: Client<'a>,
    team: Uuid,
    other_team: Uuid,
    meeting: Uuid,
    meeting2: Uuid,
    patient: Uuid,
    patient2: Uuid,
    item: Uuid,
    item2: Uuid,
    action: Uuid,
    organisation: Uuid,
    pat_id: Uuid,
    mo: Uuid,
    sol: Uuid,
    nia: Uuid,
    olu: Uuid,
    kit: Uuid,
    serial: u32,
}

fn day(offset: i64) -> String {
    (Utc::now().date_naive() + Duration::days(offset)).to_string()
}

async fn world(h: &Harness, who: Who) -> World<'_> {
    let mut pat = h.pat().await;
    let pat_id = pat_client_person(h);
    let mo = h.user(
        "mo.member@example.nhs.net",
        "Mo Member",
        Role::DistrictNurse,
    );
    let sol = h.user(
        "sol.subject@example.gov.uk",
        "Sol Subject",
        Role::SocialWorker,
    );
    let nia = h.user("nia.named@example.nhs.net", "Nia Named", Role::Gp);
    let olu = h.user("olu.observer@example.nhs.net", "Olu Observer", Role::Other);
    let xan = h.user("xan.other@example.nhs.net", "Xan Other", Role::Gp);
    let sam = h.user("sam.admin@example.nhs.net", "Sam Admin", Role::Other);
    h.store
        .write_blocking(|c| {
            mdt::server::store::set_site_admin(c, "sam.admin@example.nhs.net", true)
        })
        .unwrap();
    let mut sol_client = h.sign_in("sol.subject@example.gov.uk", sol).await;
    let mut xan_client = h.sign_in("xan.other@example.nhs.net", xan).await;

    // Kit: someone in the directory without an account, ready to be added to things.
    let kit = Uuid::new_v4();
    assert_eq!(
        pat.put(kit, 0, &person("Kit Synthetic", Role::Pharmacist))
            .await["status"],
        "applied"
    );
    let team_id = Uuid::new_v4();
    let mut t = team("Riverside MDT", pat_id, vec![mo, sol, nia]);
    t.observer_ids = vec![olu];
    assert_eq!(pat.put(team_id, 0, &t).await["status"], "applied");
    let other_team = Uuid::new_v4();
    assert_eq!(
        xan_client
            .put(other_team, 0, &team("Hillside MDT", xan, vec![]))
            .await["status"],
        "applied"
    );
    // The organisation Sol works for, which the team therefore works with.
    let organisation = Uuid::new_v4();
    let m = pat.mutation(
        "organisation",
        organisation,
        0,
        json!({"name": "Riverside Council", "kind": "adult_social_care"}),
    );
    assert_eq!(pat.push(vec![m]).await[0]["status"], "applied");
    let m = sol_client.mutation("person", sol, 1, json!({"organisation_id": organisation}));
    assert_eq!(
        sol_client.push(vec![m]).await[0]["status"],
        "applied",
        "Sol's organisation"
    );

    let meeting_id = Uuid::new_v4();
    assert_eq!(
        pat.put(meeting_id, 0, &meeting(team_id)).await["status"],
        "applied"
    );
    let meeting2 = Uuid::new_v4();
    assert_eq!(
        pat.put(meeting2, 0, &meeting(team_id)).await["status"],
        "applied"
    );
    let mut w = World {
        h,
        actor: match who {
            Who::Coordinator => h.sign_in("pat.coordinator@example.nhs.net", pat_id).await,
            Who::Member => h.sign_in("mo.member@example.nhs.net", mo).await,
            Who::Subject => h.sign_in("sol.subject@example.gov.uk", sol).await,
            Who::Named => h.sign_in("nia.named@example.nhs.net", nia).await,
            Who::Observer => h.sign_in("olu.observer@example.nhs.net", olu).await,
            Who::OtherTeam => xan_client,
            Who::SiteAdmin => h.sign_in("sam.admin@example.nhs.net", sam).await,
        },
        pat,
        sol_client,
        team: team_id,
        other_team,
        meeting: meeting_id,
        meeting2,
        patient: Uuid::nil(),
        patient2: Uuid::nil(),
        item: Uuid::nil(),
        item2: Uuid::nil(),
        action: Uuid::nil(),
        organisation,
        pat_id,
        mo,
        sol,
        nia,
        olu,
        kit,
        serial: 100,
    };
    let f = w.patient_fields();
    w.patient = w.create_by_pat("patient", f).await;
    let f = w.patient_fields();
    w.patient2 = w.create_by_pat("patient", f).await;
    w.item = w.create_by_pat("agenda_item", w.plain_item_fields()).await;
    w.item2 = w.create_by_pat("agenda_item", w.plain_item_fields()).await;
    w.action = w.create_by_pat("action", w.action_fields()).await;
    w
}

/// Whose client makes the base record a case changes.
#[derive(Clone, Copy, PartialEq)]
enum Maker {
    Pat,
    Sol,
}

impl<'a> World<'a> {
    fn next_nhs(&mut self) -> String {
        self.serial += 1;
        nhs(self.serial)
    }

    async fn create_by(&mut self, maker: Maker, kind: &str, id: Uuid, fields: Value) {
        let client = match maker {
            Maker::Pat => &mut self.pat,
            Maker::Sol => &mut self.sol_client,
        };
        let m = client.mutation(kind, id, 0, fields);
        let result = client.push(vec![m]).await.remove(0);
        assert_eq!(result["status"], "applied", "setting up a {kind}: {result}");
    }

    async fn create_by_pat(&mut self, kind: &str, fields: Value) -> Uuid {
        let id = Uuid::new_v4();
        self.create_by(Maker::Pat, kind, id, fields).await;
        id
    }

    async fn version(&self, id: Uuid) -> u64 {
        self.h
            .store
            .write_blocking(|c| mdt::server::store::current_version(c, id))
            .unwrap()
    }

    fn patient_fields(&mut self) -> Value {
        json!({"team_id": self.team, "nhs_number": self.next_nhs(), "name": "Ada Synthetic",
               "date_of_birth": "1941-03-02"})
    }

    fn plain_item_fields(&self) -> Value {
        json!({"team_id": self.team, "meeting_id": self.meeting, "kind": "patient_discussion",
               "patient_id": self.patient, "reason": "Two falls this month",
               "question": "Does the care package need review?", "requested_by": self.sol,
               "requested_on": uk_days_from_today(-7), "lead_professional_id": self.sol, "minutes": 15,
               "position": 1024})
    }

    fn restricted_item_fields(&self) -> Value {
        let mut f = self.plain_item_fields();
        f["restricted"] = json!(true);
        f["restricted_to"] = json!([self.nia]);
        f
    }

    fn action_fields(&self) -> Value {
        json!({"team_id": self.team, "description": "Refer to the falls service",
               "owner_id": self.sol, "due": day(30), "patient_id": self.patient,
               "meeting_id": self.meeting, "item_id": self.item})
    }

    fn brief_fields(&self, item: Uuid) -> Value {
        json!({"team_id": self.team, "item_id": item, "author_id": self.sol,
               "situation": "Lives alone", "request": "Review the package",
               "consent_to_share": true})
    }

    fn series_fields(&self) -> Value {
        // A Tuesday in the coming weeks.
        let mut d = Utc::now().date_naive() + Duration::days(14);
        while chrono::Datelike::weekday(&d) != chrono::Weekday::Tue {
            d += Duration::days(1);
        }
        json!({"team_id": self.team, "rule": {"freq": "weekly", "interval": 1, "weekday": 1},
               "first_date": d, "starts": "13:00:00", "minutes": 90})
    }

    /// A new meeting of the team, made by the coordinator.
    async fn fresh_meeting(&mut self) -> Uuid {
        let id = Uuid::new_v4();
        assert_eq!(
            self.pat.put(id, 0, &meeting(self.team)).await["status"],
            "applied"
        );
        id
    }

    /// A new patient item on the agenda, with a brief by the coordinator: (item, brief).
    async fn fresh_brief(&mut self) -> (Uuid, Uuid) {
        let item = self
            .create_by_pat("agenda_item", self.plain_item_fields())
            .await;
        let brief = brief_id_for(item);
        self.create_by(Maker::Pat, "brief", brief, self.brief_fields(item))
            .await;
        (item, brief)
    }

    /// The subject's reading of `brief`: its id and fields.
    fn receipt(&self, brief: Uuid) -> (Uuid, Value) {
        (
            ReadReceipt::id_for(brief, self.sol),
            json!({"team_id": self.team, "brief_id": brief, "person_id": self.sol,
                   "brief_version": 1, "read_at": Utc::now()}),
        )
    }

    /// A fresh record of `kind` for a case to change or delete, made by whoever would make
    /// it; its id and fields.
    async fn base(&mut self, kind: EntityKind) -> (Uuid, Value) {
        match kind {
            EntityKind::Organisation => (self.organisation, json!({})),
            EntityKind::Person => (self.sol, json!({})),
            EntityKind::Team => {
                let mut t = team(
                    "Riverside MDT",
                    self.pat_id,
                    vec![self.mo, self.sol, self.nia],
                );
                t.observer_ids = vec![self.olu];
                let id = Uuid::new_v4();
                assert_eq!(self.pat.put(id, 0, &t).await["status"], "applied");
                (id, json!({}))
            }
            EntityKind::Meeting => (self.fresh_meeting().await, json!({})),
            EntityKind::Patient => {
                let f = self.patient_fields();
                (self.create_by_pat("patient", f.clone()).await, f)
            }
            EntityKind::AgendaItem => {
                let f = self.restricted_item_fields();
                (self.create_by_pat("agenda_item", f.clone()).await, f)
            }
            EntityKind::Brief => {
                let (item, brief) = self.fresh_brief().await;
                (brief, json!({"item": item}))
            }
            EntityKind::ReadReceipt => {
                let (_, brief) = self.fresh_brief().await;
                let (id, f) = self.receipt(brief);
                self.create_by(Maker::Sol, "read_receipt", id, f).await;
                (id, json!({"brief": brief}))
            }
            EntityKind::Action => {
                let f = self.action_fields();
                (self.create_by_pat("action", f.clone()).await, f)
            }
            EntityKind::ActionEvent => {
                let id = Uuid::new_v4();
                let f = json!({"team_id": self.team, "action_id": self.action, "by": self.sol,
                               "at": Utc::now(), "summary": "agreed the action"});
                self.create_by(Maker::Sol, "action_event", id, f).await;
                (id, json!({}))
            }
            EntityKind::Attendance => {
                let meeting = self.fresh_meeting().await;
                let id = Attendance::id_for(meeting, self.sol);
                let f = json!({"team_id": self.team, "meeting_id": meeting, "person_id": self.sol,
                               "status": "attending"});
                self.create_by(Maker::Sol, "attendance", id, f).await;
                (id, json!({}))
            }
            EntityKind::Availability => {
                let id = PersonAvailability::id_for(self.sol);
                if self.version(id).await == 0 {
                    let f = json!({"person_id": self.sol, "commitments": [], "absences": []});
                    self.create_by(Maker::Sol, "availability", id, f).await;
                }
                (id, json!({}))
            }
            EntityKind::Series => {
                let f = self.series_fields();
                (self.create_by_pat("series", f.clone()).await, f)
            }
        }
    }

    /// The record the actor tries to create: id and fields.
    async fn new_record(&mut self, kind: EntityKind, me: Uuid) -> (Uuid, Value) {
        let fresh = Uuid::new_v4();
        match kind {
            EntityKind::Organisation => (
                fresh,
                json!({"name": "Hillside Hospice", "kind": "hospice"}),
            ),
            EntityKind::Person => (
                fresh,
                json!({"name": "Lee Synthetic", "role": "gp", "last_confirmed": uk_days_from_today(-30)}),
            ),
            // A team coordinated by the team's coordinator, with the writer in it.
            EntityKind::Team => (
                fresh,
                json!({"name": "New MDT", "coordinator_id": self.pat_id,
                       "member_ids": if me == self.pat_id { json!([]) } else { json!([me]) },
                       "default_minutes": 60}),
            ),
            EntityKind::Meeting => (fresh, serde_json::to_value(meeting(self.team)).unwrap()),
            EntityKind::Patient => (fresh, self.patient_fields()),
            EntityKind::AgendaItem => (fresh, self.plain_item_fields()),
            EntityKind::Brief => {
                let item = self
                    .create_by_pat("agenda_item", self.plain_item_fields())
                    .await;
                (brief_id_for(item), self.brief_fields(item))
            }
            EntityKind::ReadReceipt => {
                let (_, brief) = self.fresh_brief().await;
                self.receipt(brief)
            }
            EntityKind::Action => (fresh, self.action_fields()),
            EntityKind::ActionEvent => (
                fresh,
                json!({"team_id": self.team, "action_id": self.action, "by": me,
                       "at": Utc::now(), "summary": "noted a change"}),
            ),
            EntityKind::Attendance => {
                let meeting = self.fresh_meeting().await;
                (
                    Attendance::id_for(meeting, self.sol),
                    json!({"team_id": self.team, "meeting_id": meeting, "person_id": self.sol,
                           "status": "apologies"}),
                )
            }
            EntityKind::Availability => (
                PersonAvailability::id_for(self.sol),
                json!({"person_id": self.sol, "commitments": [], "absences": [],
                       "prefers_remote": true}),
            ),
            EntityKind::Series => (fresh, self.series_fields()),
        }
    }

    /// One change per field: the fields to send (usually just that one) with a new value
    /// that is valid in itself, so only permission decides.
    fn change(&self, kind: EntityKind, field: &str, base: &Value) -> Value {
        let v = match (kind, field) {
            (EntityKind::Organisation, "name") => json!("Riverside City Council"),
            (EntityKind::Organisation, "kind") => json!("other"),
            (EntityKind::Person, "name") => json!("Sol Subject-Jones"),
            (EntityKind::Person, "role") => json!("gp"),
            (EntityKind::Person, "organisation_id") => json!(null),
            (EntityKind::Person, "phone") => json!("01632 960 123"),
            (EntityKind::Person, "email") => json!("sol.new@example.gov.uk"),
            (EntityKind::Person, "last_confirmed") => json!(day(-1)),
            (EntityKind::Team, "name") => json!("Riverside North MDT"),
            (EntityKind::Team, "coordinator_id") => {
                return json!({"coordinator_id": self.mo, "member_ids": [self.sol, self.nia, self.pat_id]})
            }
            (EntityKind::Team, "member_ids") => json!([self.mo, self.sol, self.nia, self.kit]),
            (EntityKind::Team, "observer_ids") => json!([]),
            (EntityKind::Team, "required_roles") => json!([{"role": "gp", "count": 2}]),
            (EntityKind::Team, "default_minutes") => json!(60),
            (EntityKind::Team, "place") => json!("Room 9"),
            (EntityKind::Team, "video_link") => json!("https://meet.example.nhs.uk/riverside"),
            (EntityKind::Team, "agenda_cutoff_hours") => json!(72),
            (EntityKind::Team, "brief_cutoff_hours") => json!(12),
            (EntityKind::Team, "archived") => json!(true),
            (EntityKind::Team, "observers_see_measures") => json!(true),
            (EntityKind::Team, "email_people_without_accounts") => json!(true),
            (_, "team_id") => json!(self.other_team),
            (EntityKind::Meeting, "starts_at") => {
                let m = meeting(self.team);
                json!(m.starts_at + Duration::minutes(30))
            }
            (EntityKind::Meeting, "ends_at") => {
                let m = meeting(self.team);
                json!(m.ends_at + Duration::minutes(30))
            }
            (_, "place") => json!("Room 12"),
            (_, "video_link") => json!("https://meet.example.nhs.uk/other"),
            (EntityKind::Meeting, "status") => json!("cancelled"),
            (EntityKind::Patient, "nhs_number") => json!(nhs(9000)),
            (EntityKind::Patient, "name") => json!("Ada Synthetic-Jones"),
            (EntityKind::Patient, "date_of_birth") => json!("1941-03-03"),
            (EntityKind::Patient, "registered_practice_id") => json!(self.organisation),
            (EntityKind::Patient, "lead_professional_id") => json!(self.sol),
            (EntityKind::Patient, "objects_to_sharing") => json!(true),
            (EntityKind::AgendaItem, "meeting_id") => json!(self.meeting2),
            (EntityKind::AgendaItem, "kind") => json!("for_information"),
            (EntityKind::AgendaItem, "title") => json!("Falls"),
            (EntityKind::AgendaItem, "patient_id") => json!(self.patient2),
            (EntityKind::AgendaItem, "reason") => json!("Three falls now"),
            (EntityKind::AgendaItem, "question") => json!("Is a care home needed?"),
            (EntityKind::AgendaItem, "requested_by") => json!(self.mo),
            (EntityKind::AgendaItem, "requested_on") => json!(uk_days_from_today(-6)),
            (EntityKind::AgendaItem, "lead_professional_id") => json!(self.mo),
            (EntityKind::AgendaItem, "minutes") => json!(20),
            (EntityKind::AgendaItem, "position") => json!(4096),
            (EntityKind::AgendaItem, "required_people") => json!([self.sol, self.mo]),
            (EntityKind::AgendaItem, "late") => json!(true),
            (EntityKind::AgendaItem, "deferrals") => json!(1),
            (EntityKind::AgendaItem, "carried_from") => json!(self.item2),
            (EntityKind::AgendaItem, "status") => {
                return json!({"status": "discussed", "outcome": {"kind": "no_action", "reason": "Settled"}})
            }
            (EntityKind::AgendaItem, "outcome") => {
                json!({"kind": "deferred", "reason": "Await the OT"})
            }
            (EntityKind::AgendaItem, "summary_sent_on") => {
                return json!({"status": "discussed", "outcome": {"kind": "no_action", "reason": "Settled"}, "summary_sent_on": day(0)})
            }
            (EntityKind::AgendaItem, "restricted") => json!(false),
            (EntityKind::AgendaItem, "restricted_to") => json!([self.nia, self.mo]),
            (EntityKind::AgendaItem, "content_withheld") => json!(true),
            (EntityKind::Brief, "item_id") => json!(self.item2),
            (EntityKind::Brief, "author_id") => json!(self.mo),
            (EntityKind::Brief, "safeguarding_concern") => json!(true),
            (EntityKind::Brief, "consent_to_share") => json!(false),
            (EntityKind::Brief, "status") => json!("ready"),
            (EntityKind::Brief, _) => json!(format!("New {field}")),
            (EntityKind::ReadReceipt, "brief_id") => json!(brief_id_for(self.item2)),
            (EntityKind::ReadReceipt, "person_id") => json!(self.mo),
            (EntityKind::ReadReceipt, "brief_version") => json!(2),
            (EntityKind::ReadReceipt, "read_at") => json!(Utc::now() + Duration::seconds(1)),
            (EntityKind::Action, "description") => json!("Refer to the falls service urgently"),
            (EntityKind::Action, "owner_id") => json!(self.mo),
            (EntityKind::Action, "due") => json!(day(40)),
            (EntityKind::Action, "patient_id") => json!(self.patient2),
            (EntityKind::Action, "meeting_id") => json!(self.meeting2),
            (EntityKind::Action, "item_id") => json!(self.item2),
            (EntityKind::Action, "status") => json!("accepted"),
            (EntityKind::Action, "completion_note") => json!("Started"),
            (EntityKind::Action, "reason") => json!("Waiting list"),
            (EntityKind::ActionEvent, "action_id") => json!(Uuid::new_v4()),
            (EntityKind::ActionEvent, "by") => json!(self.mo),
            (EntityKind::ActionEvent, "at") => json!(Utc::now() + Duration::seconds(5)),
            (EntityKind::ActionEvent, "summary") => json!("rewrote history"),
            (EntityKind::Attendance, "meeting_id") => json!(self.meeting2),
            (EntityKind::Attendance, "person_id") => json!(self.mo),
            (EntityKind::Attendance, "status") => json!("remote"),
            (EntityKind::Attendance, "deputy_id") => {
                return json!({"status": "apologies", "deputy_id": self.mo})
            }
            (EntityKind::Availability, "person_id") => json!(self.mo),
            (EntityKind::Availability, "commitments") => {
                json!([{"weekday": 0, "starts": "09:00:00",
                "ends": "12:00:00", "label": "Clinic"}])
            }
            (EntityKind::Availability, "absences") => json!([{"from": day(3), "until": day(4),
                "label": "Annual leave"}]),
            (EntityKind::Availability, "prefers_remote") => json!(true),
            (EntityKind::Series, "rule") => json!({"freq": "weekly", "interval": 2, "weekday": 1}),
            (EntityKind::Series, "first_date") => {
                let d: NaiveDate = serde_json::from_value(base["first_date"].clone()).unwrap();
                json!(d + Duration::days(7))
            }
            (EntityKind::Series, "starts") => json!("14:00:00"),
            (EntityKind::Series, "minutes") => json!(60),
            (EntityKind::Series, "until") => {
                let d: NaiveDate = serde_json::from_value(base["first_date"].clone()).unwrap();
                json!(d + Duration::days(70))
            }
            (EntityKind::Series, "exceptions") => {
                let d: NaiveDate = serde_json::from_value(base["first_date"].clone()).unwrap();
                json!([{"date": d + Duration::days(7)}])
            }
            (EntityKind::Series, "sequence") => json!(1),
            (EntityKind::Series, "cancelled") => json!(true),
            (kind, field) => panic!("no test change for {kind:?}.{field}"),
        };
        json!({ field: v })
    }
}

fn outcome(result: &Value) -> bool {
    matches!(result["status"].as_str(), Some("applied" | "conflict"))
}

/// Runs every case of one record kind for one writer; the differences from the table.
async fn cases_for(kind: EntityKind, who: Who) -> Vec<String> {
    let h = Harness::new();
    let mut w = world(&h, who).await;
    let me = match who {
        Who::Coordinator => w.pat_id,
        Who::Member => w.mo,
        Who::Subject => w.sol,
        Who::Named => w.nia,
        Who::Observer => w.olu,
        _ => Uuid::new_v4(),
    };
    let me = if matches!(who, Who::OtherTeam | Who::SiteAdmin) {
        // Their person id, as signed in.
        let email = if who == Who::OtherTeam {
            "xan.other@example.nhs.net"
        } else {
            "sam.admin@example.nhs.net"
        };
        h.store
            .write_blocking(|c| mdt::server::store::find_user_by_email(c, email))
            .unwrap()
            .unwrap()
            .person_id
    } else {
        me
    };
    let mut differences = Vec::new();
    let mut check = |op: &str, field: &str, result: &Value| {
        let allowed = outcome(result);
        let want = expected(kind.as_str(), op, field).contains(&who.code());
        if allowed != want {
            differences.push(format!(
                "{} {op} {field} by {who:?}: expected {}, got {result}",
                kind.as_str(),
                if want { "applied" } else { "refused" }
            ));
        }
    };

    // Create.
    let (id, fields) = w.new_record(kind, me).await;
    let m = w.actor.mutation(kind.as_str(), id, 0, fields);
    let result = w.actor.push(vec![m]).await.remove(0);
    check("create", "*", &result);

    // Change each field, each on a fresh record.
    for field in kind.field_names() {
        let (id, base) = w.base(kind).await;
        let change = w.change(kind, field, &base);
        let version = w.version(id).await;
        let m = w.actor.mutation(kind.as_str(), id, version, change);
        let result = w.actor.push(vec![m]).await.remove(0);
        check("change", field, &result);
    }

    // Delete a fresh record.
    let (id, _) = w.base(kind).await;
    let version = w.version(id).await;
    w.actor.seq += 1;
    let m = json!({"mutation_id": Uuid::new_v4(), "seq": w.actor.seq, "entity": kind.as_str(),
                   "id": id, "base_version": version, "op": {"kind": "delete"}});
    let result = w.actor.push(vec![m]).await.remove(0);
    check("delete", "*", &result);
    differences
}

async fn kind_matrix(kind: EntityKind) {
    let mut report = String::new();
    for who in EVERYONE {
        for line in cases_for(kind, who).await {
            writeln!(report, "{line}").unwrap();
        }
    }
    assert!(
        report.is_empty(),
        "the server's decisions differ from the table:\n{report}"
    );
}

#[tokio::test]
async fn organisations() {
    kind_matrix(EntityKind::Organisation).await;
}
#[tokio::test]
async fn people() {
    kind_matrix(EntityKind::Person).await;
}
#[tokio::test]
async fn teams() {
    kind_matrix(EntityKind::Team).await;
}
#[tokio::test]
async fn meetings() {
    kind_matrix(EntityKind::Meeting).await;
}
#[tokio::test]
async fn patients() {
    kind_matrix(EntityKind::Patient).await;
}
#[tokio::test]
async fn agenda_items() {
    kind_matrix(EntityKind::AgendaItem).await;
}
#[tokio::test]
async fn briefs() {
    kind_matrix(EntityKind::Brief).await;
}
#[tokio::test]
async fn read_receipts() {
    kind_matrix(EntityKind::ReadReceipt).await;
}
#[tokio::test]
async fn actions() {
    kind_matrix(EntityKind::Action).await;
}
#[tokio::test]
async fn action_history() {
    kind_matrix(EntityKind::ActionEvent).await;
}
#[tokio::test]
async fn attendance() {
    kind_matrix(EntityKind::Attendance).await;
}
#[tokio::test]
async fn availability() {
    kind_matrix(EntityKind::Availability).await;
}
#[tokio::test]
async fn series() {
    kind_matrix(EntityKind::Series).await;
}

/// The table covers every kind and field the app has: a new one fails here until the
/// expected table (and so `core::authorize`) says who may write it.
#[test]
fn the_expected_table_names_every_kind_operation_and_field() {
    for kind in EntityKind::ALL {
        expected(kind.as_str(), "create", "*");
        expected(kind.as_str(), "delete", "*");
        for field in kind.field_names() {
            expected(kind.as_str(), "change", field);
        }
    }
}

/// Without a session nothing is written, whatever the kind or operation.
#[tokio::test]
async fn anonymous_writes_get_401_and_change_nothing() {
    let h = Harness::new();
    let mut pat = h.pat().await;
    let s = setup(&h, &mut pat).await;
    for kind in EntityKind::ALL {
        for op in [
            json!({"kind": "update", "fields": {"name": "X"}}),
            json!({"kind": "delete"}),
        ] {
            let body = json!({"device_id": Uuid::new_v4(), "mutations": [{
                "mutation_id": Uuid::new_v4(), "seq": 1, "entity": kind.as_str(), "id": s.team_id,
                "base_version": 1, "op": op}]});
            let (status, _, _) = h
                .send(json_request("POST", "/api/sync/push", &body, None))
                .await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{kind:?}");
        }
    }
    let pulled = pat.pull(0).await;
    assert_eq!(find(&pulled, s.team_id).unwrap()["version"], 1);
}
