//! A meeting as FHIR R4 JSON shaped by UK Core (issue 16), so another clinical system can file
//! what the MDT decided: a `Bundle` of type `collection` holding the MDT (`CareTeam`), its people
//! (`Practitioner`, `PractitionerRole`), the meeting and who answered what (`Appointment`), each
//! action (`Task`, its history as notes), each outcome summary (`Composition`) and the patients
//! those name (`Patient`, with the NHS number under its NHS identifier system and its
//! verification status).
//!
//! Built from one meeting's records for one person ([`MeetingRecords`]): a patient appears only
//! when a summary or an action the person may see names them, so a restricted item's patient
//! never reaches someone outside it. The bundle does not claim a profile in `meta`: it follows
//! UK Core's identifier and extension rules without being validated against its profiles.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

use super::action::ActionStatus;
use super::attendance::AttendanceStatus;
use super::meeting::MeetingStatus;
use super::summary::{MeetingRecords, OutcomeSummary};

/// The media type of FHIR JSON.
pub const FHIR_JSON: &str = "application/fhir+json";
/// The identifier system of NHS numbers.
pub const NHS_NUMBER_SYSTEM: &str = "https://fhir.nhs.uk/Id/nhs-number";
/// UK Core's extension saying how far an NHS number was verified.
pub const NHS_NUMBER_VERIFICATION_EXTENSION: &str =
    "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus";
/// The code system of that extension's values.
pub const NHS_NUMBER_VERIFICATION_SYSTEM: &str =
    "https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland";

/// "urn:uuid:…": how resources in the bundle refer to each other.
fn urn(id: Uuid) -> String {
    format!("urn:uuid:{id}")
}

/// A FHIR instant (seconds, UTC).
fn instant(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Text made safe inside XHTML narrative.
fn xhtml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A generated narrative of paragraphs (blank ones left out; "Not recorded." when none is left).
fn narrative(paragraphs: &[String]) -> Value {
    let mut body: String = paragraphs
        .iter()
        .filter(|p| !p.trim().is_empty())
        .map(|p| format!("<p>{}</p>", xhtml(p)))
        .collect();
    if body.is_empty() {
        body = "<p>Not recorded.</p>".into();
    }
    json!({
        "status": "generated",
        "div": format!("<div xmlns=\"http://www.w3.org/1999/xhtml\">{body}</div>"),
    })
}

/// A Task's status for an action's.
pub fn task_status(status: ActionStatus) -> &'static str {
    match status {
        ActionStatus::Proposed => "requested",
        ActionStatus::Accepted => "accepted",
        ActionStatus::Declined => "rejected",
        ActionStatus::Done => "completed",
        ActionStatus::Cancelled => "cancelled",
    }
}

/// An Appointment participant's status for an attendance answer (none yet: needs action).
pub fn participation_status(status: Option<AttendanceStatus>) -> &'static str {
    match status {
        None | Some(AttendanceStatus::Invited) => "needs-action",
        Some(
            AttendanceStatus::Attending | AttendanceStatus::Remote | AttendanceStatus::Attended,
        ) => "accepted",
        Some(AttendanceStatus::Apologies | AttendanceStatus::Absent) => "declined",
    }
}

/// An Appointment's status for a meeting's.
pub fn appointment_status(status: MeetingStatus) -> &'static str {
    match status {
        MeetingStatus::Planned => "booked",
        MeetingStatus::Closed => "fulfilled",
        MeetingStatus::Cancelled => "cancelled",
    }
}

impl MeetingRecords<'_> {
    /// The PractitionerRole of `person` in this team (a fixed id per team and person).
    pub fn practitioner_role_id(&self, person: Uuid) -> Uuid {
        Uuid::new_v5(&self.team_id, person.as_bytes())
    }

    /// A reference to a person: to their Practitioner when they are in the directory (and so in
    /// the bundle), otherwise their name alone.
    fn person_ref(&self, person: Uuid) -> Value {
        match self.people.get(&person) {
            Some(p) => json!({"reference": urn(person), "display": p.name}),
            None => json!({"display": self.name_of(person)}),
        }
    }

    /// The meeting as a FHIR R4 `collection` Bundle for `viewer`, stamped `now`.
    pub fn fhir_bundle(&self, viewer: Uuid, bundle_id: Uuid, now: DateTime<Utc>) -> Value {
        let summaries = self.summaries(viewer);
        let actions: Vec<_> = self
            .actions
            .iter()
            .filter(|(_, a)| {
                a.meeting_id == Some(self.meeting_id) && self.may_see_action(a, viewer)
            })
            .collect();
        let team_people: Vec<Uuid> = std::iter::once(self.team.coordinator_id)
            .chain(self.team.member_ids.iter().copied())
            .chain(self.team.observer_ids.iter().copied())
            .collect();

        // Everyone the bundle names, so each reference resolves inside it.
        let mut named: BTreeSet<Uuid> = team_people.iter().copied().collect();
        named.extend(
            self.attendance
                .iter()
                .filter(|a| a.meeting_id == self.meeting_id)
                .flat_map(|a| std::iter::once(a.person_id).chain(a.deputy_id)),
        );
        named.extend(actions.iter().map(|(_, a)| a.owner_id));
        named.extend(
            self.events
                .iter()
                .filter(|e| actions.iter().any(|(id, _)| *id == e.action_id))
                .map(|e| e.by),
        );
        let patients: BTreeSet<Uuid> = summaries
            .iter()
            .map(|s| s.patient_id)
            .chain(actions.iter().filter_map(|(_, a)| a.patient_id))
            .filter(|p| self.patients.contains_key(p))
            .collect();

        let mut entries: Vec<Value> = Vec::new();
        entries.push(self.care_team(&team_people));
        entries.push(self.appointment());
        for person in named.iter().filter(|p| self.people.contains_key(p)) {
            entries.push(self.practitioner(*person));
        }
        for person in team_people.iter().filter(|p| self.people.contains_key(p)) {
            entries.push(self.practitioner_role(*person));
        }
        for patient in &patients {
            entries.push(self.patient(*patient));
        }
        for (id, action) in &actions {
            entries.push(self.task(
                *id,
                action,
                patients.contains(&action.patient_id.unwrap_or_default()),
            ));
        }
        for summary in &summaries {
            entries.push(self.composition(summary));
        }
        json!({
            "resourceType": "Bundle",
            "id": bundle_id.to_string(),
            "type": "collection",
            "timestamp": instant(now),
            "entry": entries
                .into_iter()
                .map(|resource| {
                    let id = resource["id"].as_str().unwrap_or_default().to_owned();
                    json!({"fullUrl": format!("urn:uuid:{id}"), "resource": resource})
                })
                .collect::<Vec<_>>(),
        })
    }

    fn care_team(&self, people: &[Uuid]) -> Value {
        let participants: Vec<Value> = people
            .iter()
            .map(|person| {
                let role = if *person == self.team.coordinator_id {
                    "Coordinator"
                } else if self.team.observer_ids.contains(person) {
                    "Observer"
                } else {
                    "Member"
                };
                let member = if self.people.contains_key(person) {
                    json!({"reference": urn(self.practitioner_role_id(*person)), "display": self.name_of(*person)})
                } else {
                    self.person_ref(*person)
                };
                json!({"role": [{"text": role}], "member": member})
            })
            .collect();
        json!({
            "resourceType": "CareTeam",
            "id": self.team_id.to_string(),
            "status": if self.team.archived { "inactive" } else { "active" },
            "category": [{"text": "Multidisciplinary team"}],
            "name": self.team.name,
            "participant": participants,
        })
    }

    fn appointment(&self) -> Value {
        let answers: Vec<_> = self
            .attendance
            .iter()
            .filter(|a| a.meeting_id == self.meeting_id)
            .collect();
        let mut invited: Vec<Uuid> = std::iter::once(self.team.coordinator_id)
            .chain(self.team.member_ids.iter().copied())
            .collect();
        for deputy in answers.iter().filter_map(|a| a.deputy_id) {
            if !invited.contains(&deputy) {
                invited.push(deputy);
            }
        }
        let participants: Vec<Value> = invited
            .iter()
            .map(|person| {
                let answer = answers
                    .iter()
                    .find(|a| a.person_id == *person)
                    .map(|a| a.status);
                json!({
                    "actor": self.person_ref(*person),
                    "required": "required",
                    "status": participation_status(answer),
                })
            })
            .collect();
        let mut appointment = json!({
            "resourceType": "Appointment",
            "id": self.meeting_id.to_string(),
            "status": appointment_status(self.meeting.status),
            "description": format!("{} meeting", self.team.name),
            "start": instant(self.meeting.starts_at),
            "end": instant(self.meeting.ends_at),
            "participant": participants,
        });
        if !self.meeting.place.trim().is_empty() {
            appointment["comment"] = json!(format!("Place: {}", self.meeting.place));
        }
        appointment
    }

    fn practitioner(&self, person: Uuid) -> Value {
        let p = &self.people[&person];
        let mut telecom = Vec::new();
        if let Some(phone) = p.phone.as_deref().filter(|s| !s.trim().is_empty()) {
            telecom.push(json!({"system": "phone", "value": phone, "use": "work"}));
        }
        if let Some(email) = p.email.as_deref().filter(|s| !s.trim().is_empty()) {
            telecom.push(json!({"system": "email", "value": email, "use": "work"}));
        }
        let mut practitioner = json!({
            "resourceType": "Practitioner",
            "id": person.to_string(),
            "name": [{"text": p.name}],
        });
        if !telecom.is_empty() {
            practitioner["telecom"] = json!(telecom);
        }
        practitioner
    }

    fn practitioner_role(&self, person: Uuid) -> Value {
        let p = &self.people[&person];
        let mut role = json!({
            "resourceType": "PractitionerRole",
            "id": self.practitioner_role_id(person).to_string(),
            "active": true,
            "practitioner": {"reference": urn(person), "display": p.name},
            "code": [{"text": p.role.label()}],
        });
        if let Some(org) = p.organisation_id.and_then(|o| self.organisations.get(&o)) {
            role["organization"] = json!({"display": org.name});
        }
        role
    }

    fn patient(&self, id: Uuid) -> Value {
        let p = &self.patients[&id];
        let mut patient = json!({
            "resourceType": "Patient",
            "id": id.to_string(),
            "identifier": [{
                // Checked with Modulus 11 here, not traced on the Personal Demographics Service.
                "extension": [{
                    "url": NHS_NUMBER_VERIFICATION_EXTENSION,
                    "valueCodeableConcept": {"coding": [{
                        "system": NHS_NUMBER_VERIFICATION_SYSTEM,
                        "code": "02",
                        "display": "Number present but not traced",
                    }]},
                }],
                "system": NHS_NUMBER_SYSTEM,
                "value": p.nhs_number,
            }],
            "name": [{"text": p.name}],
            "birthDate": p.date_of_birth.format("%Y-%m-%d").to_string(),
        });
        if let Some(practice) = p
            .registered_practice_id
            .and_then(|o| self.organisations.get(&o))
        {
            patient["generalPractitioner"] = json!([{"display": practice.name}]);
        }
        patient
    }

    fn task(&self, id: Uuid, action: &super::action::Action, patient_in_bundle: bool) -> Value {
        let mut history: Vec<_> = self.events.iter().filter(|e| e.action_id == id).collect();
        history.sort_by_key(|e| e.at);
        let mut notes: Vec<Value> = history
            .iter()
            .map(|e| {
                let mut note = json!({"time": instant(e.at), "text": e.summary});
                if self.people.contains_key(&e.by) {
                    note["authorReference"] = json!({"reference": urn(e.by)});
                } else {
                    note["authorString"] = json!(self.name_of(e.by));
                }
                note
            })
            .collect();
        if !action.completion_note.trim().is_empty() {
            notes.push(json!({"text": format!("Completion note: {}", action.completion_note)}));
        }
        let mut task = json!({
            "resourceType": "Task",
            "id": id.to_string(),
            "status": task_status(action.status),
            "intent": "plan",
            "description": action.description,
            "owner": self.person_ref(action.owner_id),
            "restriction": {"period": {"end": action.due.format("%Y-%m-%d").to_string()}},
        });
        if patient_in_bundle {
            if let Some(patient) = action.patient_id {
                task["for"] = json!({"reference": urn(patient)});
            }
        }
        if !action.reason.trim().is_empty() {
            task["statusReason"] = json!({"text": action.reason});
        }
        if !notes.is_empty() {
            task["note"] = json!(notes);
        }
        task
    }

    fn composition(&self, summary: &OutcomeSummary) -> Value {
        let present = match &summary.present {
            None => vec!["Attendance was not recorded.".to_owned()],
            Some(people) if people.is_empty() => vec!["Nobody was recorded as present.".to_owned()],
            Some(people) => people
                .iter()
                .map(|p| {
                    let role = p
                        .role
                        .map(|r| format!(", {}", r.label()))
                        .unwrap_or_default();
                    match &p.deputy_for {
                        Some(whom) => format!("{}{role} (for {whom})", p.name),
                        None => format!("{}{role}", p.name),
                    }
                })
                .collect(),
        };
        let actions_text: Vec<String> = if summary.actions.is_empty() {
            vec!["No actions.".into()]
        } else {
            summary
                .actions
                .iter()
                .map(|a| {
                    format!(
                        "{} — {} by {} ({})",
                        a.description,
                        a.owner,
                        super::uk_time::format_date(a.due),
                        a.status.label()
                    )
                })
                .collect()
        };
        let task_refs: Vec<Value> = summary
            .actions
            .iter()
            .map(|a| json!({"reference": urn(a.action_id)}))
            .collect();
        let mut actions_section = json!({
            "title": "Actions",
            "text": narrative(&actions_text),
        });
        if !task_refs.is_empty() {
            actions_section["entry"] = json!(task_refs);
        }
        json!({
            "resourceType": "Composition",
            "id": summary.item_id.to_string(),
            "status": "final",
            "type": {"text": "Multidisciplinary team meeting outcome summary"},
            "subject": {"reference": urn(summary.patient_id)},
            "date": instant(self.meeting.ends_at),
            "author": [self.person_ref(self.team.coordinator_id)],
            "title": format!("{} outcome summary", summary.team),
            "event": [{
                "period": {"start": instant(self.meeting.starts_at), "end": instant(self.meeting.ends_at)},
                "detail": [{"reference": urn(self.meeting_id)}],
            }],
            "section": [
                {"title": "Present", "text": narrative(&present)},
                {"title": "Reason for discussion", "text": narrative(std::slice::from_ref(&summary.reason))},
                {"title": "Question for the MDT", "text": narrative(std::slice::from_ref(&summary.question))},
                {"title": summary.outcome.label(), "text": narrative(&[summary.outcome.text().to_owned()])},
                actions_section,
            ],
        })
    }
}

#[cfg(test)]
mod tests;
