//! Pre-meeting patient briefs (SBAR), read receipts, and a meeting's readiness.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::agenda::{AgendaItem, ItemKind};
use super::record::{Entity, EntityKind};
use super::sync::{Change, Replica};
use super::validation::{self as check, ValidationError};

/// Highest record version a receipt may name (far beyond any brief's edits; keeps the number
/// inside what JSON and SQLite hold exactly).
pub const MAX_VERSION: u64 = 1 << 40;

/// Whether a brief can be relied on at the meeting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BriefStatus {
    #[default]
    Draft,
    Ready,
}

/// Longest text in one brief section.
pub const MAX_SECTION_CHARS: usize = 5000;

/// One structured brief for one patient item, written before the meeting so that everyone
/// arrives having read about the patient.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Brief {
    pub team_id: Uuid,
    pub item_id: Uuid,
    /// Who writes it (usually the item's lead professional).
    pub author_id: Uuid,
    /// S: what is happening now.
    #[serde(default)]
    pub situation: String,
    /// B: relevant history.
    #[serde(default)]
    pub background: String,
    /// A: the writer's assessment.
    #[serde(default)]
    pub assessment: String,
    /// R: what is asked of the MDT.
    #[serde(default)]
    pub request: String,
    #[serde(default)]
    pub services_involved: String,
    #[serde(default)]
    pub risks: String,
    /// A safeguarding concern exists (details in `risks`).
    #[serde(default)]
    pub safeguarding_concern: bool,
    #[serde(default)]
    pub patient_wishes: String,
    /// Whether the patient agreed to their information being shared with the MDT; `None` until
    /// someone has asked.
    #[serde(default)]
    pub consent_to_share: Option<bool>,
    #[serde(default)]
    pub status: BriefStatus,
}

/// The fields that are not what a person writes (every other field of a brief is content:
/// changing it returns a ready brief to draft).
const NOT_CONTENT: [&str; 4] = ["team_id", "item_id", "author_id", "status"];

impl Brief {
    /// What must still be filled in before the brief can be marked ready, as form field names
    /// and messages.
    pub fn missing_for_ready(&self) -> Vec<ValidationError> {
        let mut missing = Vec::new();
        if self.situation.trim().is_empty() {
            missing.push(ValidationError::field(
                "situation",
                "Describe the situation before marking the brief ready",
            ));
        }
        if self.request.trim().is_empty() {
            missing.push(ValidationError::field(
                "request",
                "Say what you are asking the MDT before marking the brief ready",
            ));
        }
        if self.consent_to_share.is_none() {
            missing.push(ValidationError::field(
                "consent_to_share",
                "Record whether the patient consented to sharing before marking the brief ready",
            ));
        }
        missing
    }

    /// True when no section has been written yet.
    pub fn is_blank(&self) -> bool {
        [
            &self.situation,
            &self.background,
            &self.assessment,
            &self.request,
            &self.services_involved,
            &self.risks,
            &self.patient_wishes,
        ]
        .iter()
        .all(|s| s.trim().is_empty())
            && self.consent_to_share.is_none()
            && !self.safeguarding_concern
    }
}

impl Entity for Brief {
    const KIND: EntityKind = EntityKind::Brief;
    const FIELDS: &'static [&'static str] = &[
        "team_id",
        "item_id",
        "author_id",
        "situation",
        "background",
        "assessment",
        "request",
        "services_involved",
        "risks",
        "safeguarding_concern",
        "patient_wishes",
        "consent_to_share",
        "status",
    ];

    fn validate(&self) -> Result<(), ValidationError> {
        for (field, label, value) in [
            ("situation", "the situation", &self.situation),
            ("background", "the background", &self.background),
            ("assessment", "the assessment", &self.assessment),
            ("request", "the request", &self.request),
            (
                "services_involved",
                "the services involved",
                &self.services_involved,
            ),
            ("risks", "the risks", &self.risks),
            (
                "patient_wishes",
                "the patient's wishes",
                &self.patient_wishes,
            ),
        ] {
            check::optional_text(field, label, value, MAX_SECTION_CHARS)?;
        }
        if self.status == BriefStatus::Ready {
            if let Some(first) = self.missing_for_ready().into_iter().next() {
                return Err(first);
            }
        }
        Ok(())
    }
}

/// Applied after every change to a brief, wherever it is merged: an edit to a ready brief's
/// content that does not itself say "ready" returns it to draft, so "ready" always means the
/// text people read is the text that was checked.
pub fn return_to_draft_if_edited(
    fields: &mut serde_json::Map<String, serde_json::Value>,
    changed: &[String],
) -> bool {
    let edited = changed.iter().any(|f| !NOT_CONTENT.contains(&f.as_str()));
    let sets_status = changed.iter().any(|f| f == "status");
    let ready = fields.get("status").and_then(|s| s.as_str()) == Some("ready");
    if edited && !sets_status && ready {
        fields.insert("status".into(), serde_json::json!("draft"));
        true
    } else {
        false
    }
}

/// A person opened a brief: which version they read and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadReceipt {
    pub team_id: Uuid,
    pub brief_id: Uuid,
    pub person_id: Uuid,
    /// The brief's version when it was read; an older number means they read an earlier text.
    pub brief_version: u64,
    pub read_at: DateTime<Utc>,
}

impl ReadReceipt {
    /// One receipt per person and brief (updated on each new read), the same id on every device.
    pub fn id_for(brief: Uuid, person: Uuid) -> Uuid {
        let mut bytes = [0u8; 32];
        bytes[..16].copy_from_slice(brief.as_bytes());
        bytes[16..].copy_from_slice(person.as_bytes());
        Uuid::new_v5(&RECEIPT_NAMESPACE, &bytes)
    }
}

const RECEIPT_NAMESPACE: Uuid = Uuid::from_u128(0x6d64_7472_6561_6472_6563_6569_7074_0001);

impl ReadReceipt {
    /// The command "I have read this brief": a receipt for the brief's current version, or
    /// nothing when the person's receipt already covers it (or the brief is not yet on the
    /// server), so opening a brief again sends nothing.
    pub fn reading(
        replica: &Replica,
        brief_id: Uuid,
        team_id: Uuid,
        person_id: Uuid,
        at: DateTime<Utc>,
    ) -> Option<Change> {
        let version = replica.view(brief_id)?.version;
        let receipt_id = Self::id_for(brief_id, person_id);
        let already = replica
            .entity::<ReadReceipt>(receipt_id)
            .is_some_and(|r| r.brief_version >= version);
        if version == 0 || already {
            return None;
        }
        let receipt = ReadReceipt {
            team_id,
            brief_id,
            person_id,
            brief_version: version,
            read_at: at,
        };
        Some(Change::put(receipt_id, &receipt))
    }
}

impl Entity for ReadReceipt {
    const KIND: EntityKind = EntityKind::ReadReceipt;
    const FIELDS: &'static [&'static str] = &[
        "team_id",
        "brief_id",
        "person_id",
        "brief_version",
        "read_at",
    ];

    fn validate(&self) -> Result<(), ValidationError> {
        check::instant_in_window("read_at", "the time it was read", self.read_at)?;
        if self.brief_version == 0 || self.brief_version > MAX_VERSION {
            return Err(ValidationError::field(
                "brief_version",
                "A receipt must name the version that was read",
            ));
        }
        Ok(())
    }
}

/// The brief id for an item: one brief per item, the same id on every device, so two people
/// starting the same brief offline write to one record (and see a conflict, not a duplicate).
pub fn brief_id_for(item: Uuid) -> Uuid {
    Uuid::new_v5(&BRIEF_NAMESPACE, item.as_bytes())
}

const BRIEF_NAMESPACE: Uuid = Uuid::from_u128(0x6d64_7462_7269_6566_666f_7269_7465_6d01);

/// Where one patient item's brief stands.
#[derive(Debug, Clone, PartialEq)]
pub enum BriefState {
    Missing,
    Draft,
    Ready { version: u64 },
}

/// One patient item on the readiness panel.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadinessRow {
    pub item_id: Uuid,
    pub brief: BriefState,
    /// Who should write the brief: its author, else the item's lead, else who asked for it.
    pub author: Option<Uuid>,
    /// Each team member and the version of the brief they read (`None`: not read).
    pub readers: BTreeMap<Uuid, Option<u64>>,
}

impl ReadinessRow {
    /// Members who have not read the current ready text.
    pub fn not_read(&self) -> Vec<Uuid> {
        let BriefState::Ready { version } = self.brief else {
            return Vec::new();
        };
        self.readers
            .iter()
            .filter(|(_, read)| read.is_none_or(|v| v < version))
            .map(|(p, _)| *p)
            .collect()
    }
}

/// A meeting's readiness: every patient item's brief, who wrote it, who read it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Readiness {
    pub rows: Vec<ReadinessRow>,
}

impl Readiness {
    /// Builds the panel for one meeting's items.
    ///
    /// `briefs` holds (id, version, brief); `receipts` every receipt of the team; `members` the
    /// people expected to read briefs.
    pub fn of(
        items: &[(Uuid, AgendaItem)],
        briefs: &[(Uuid, u64, Brief)],
        receipts: &[ReadReceipt],
        members: &[Uuid],
    ) -> Self {
        let briefs: HashMap<Uuid, (Uuid, u64, &Brief)> = briefs
            .iter()
            .map(|(id, v, b)| (b.item_id, (*id, *v, b)))
            .collect();
        let rows = items
            .iter()
            .filter(|(_, i)| i.kind == ItemKind::PatientDiscussion)
            .map(|(item_id, item)| {
                let found = briefs.get(item_id);
                let brief = match found {
                    None => BriefState::Missing,
                    Some((_, _, b)) if b.is_blank() => BriefState::Missing,
                    Some((_, v, b)) if b.status == BriefStatus::Ready => {
                        BriefState::Ready { version: *v }
                    }
                    Some(_) => BriefState::Draft,
                };
                let author = found
                    .map(|(_, _, b)| b.author_id)
                    .or(item.lead_professional_id)
                    .or(item.requested_by);
                let readers = members
                    .iter()
                    .map(|m| {
                        let read = found.and_then(|(brief_id, _, _)| {
                            receipts
                                .iter()
                                .filter(|r| r.brief_id == *brief_id && r.person_id == *m)
                                .map(|r| r.brief_version)
                                .max()
                        });
                        (*m, read)
                    })
                    .collect();
                ReadinessRow {
                    item_id: *item_id,
                    brief,
                    author,
                    readers,
                }
            })
            .collect();
        Self { rows }
    }

    /// Briefs ready to read.
    pub fn ready(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| matches!(r.brief, BriefState::Ready { .. }))
            .count()
    }

    /// People who still have to write a brief, with how many.
    pub fn authors_to_act(&self) -> BTreeMap<Option<Uuid>, usize> {
        let mut to_act = BTreeMap::new();
        for row in self
            .rows
            .iter()
            .filter(|r| !matches!(r.brief, BriefState::Ready { .. }))
        {
            *to_act.entry(row.author).or_insert(0) += 1;
        }
        to_act
    }

    /// People who still have ready briefs to read, with how many.
    pub fn readers_to_act(&self) -> BTreeMap<Uuid, usize> {
        let mut to_act = BTreeMap::new();
        for row in &self.rows {
            for person in row.not_read() {
                *to_act.entry(person).or_insert(0) += 1;
            }
        }
        to_act
    }
}

#[cfg(test)]
mod tests;
