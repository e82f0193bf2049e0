//! The directory: organisations (GP practices, council teams, trusts, hospices) and the
//! people who work for them, with the professional roles MDTs draw on.

use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::record::{Entity, EntityKind};
use super::validation::{self as check, ValidationError};

/// What sort of body an organisation is: MDTs bring several together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrganisationKind {
    GpPractice,
    AdultSocialCare,
    CommunityTrust,
    Hospice,
    VoluntarySector,
    Other,
}

impl OrganisationKind {
    /// Every kind, in the order offered in forms.
    pub const ALL: [OrganisationKind; 6] = [
        Self::GpPractice,
        Self::AdultSocialCare,
        Self::CommunityTrust,
        Self::Hospice,
        Self::VoluntarySector,
        Self::Other,
    ];

    /// What people call it.
    pub fn label(self) -> &'static str {
        match self {
            Self::GpPractice => "GP practice",
            Self::AdultSocialCare => "Council adult social care",
            Self::CommunityTrust => "Community health trust",
            Self::Hospice => "Hospice",
            Self::VoluntarySector => "Voluntary sector",
            Self::Other => "Other",
        }
    }

    /// The wire name (as serde writes it).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::GpPractice => "gp_practice",
            Self::AdultSocialCare => "adult_social_care",
            Self::CommunityTrust => "community_trust",
            Self::Hospice => "hospice",
            Self::VoluntarySector => "voluntary_sector",
            Self::Other => "other",
        }
    }

    /// Parses [`OrganisationKind::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A GP practice, council team, trust, hospice or charity that people work for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Organisation {
    pub name: String,
    pub kind: OrganisationKind,
}

impl Entity for Organisation {
    const KIND: EntityKind = EntityKind::Organisation;
    const FIELDS: &'static [&'static str] = &["name", "kind"];

    fn validate(&self) -> Result<(), ValidationError> {
        check::required_line("name", "the organisation's name", &self.name, 200)
    }
}

/// The professional roles MDTs draw on; quorum rules are written in these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Gp,
    PracticeManager,
    PracticeNurse,
    SocialWorker,
    DistrictNurse,
    CommunityMatron,
    PalliativeCareNurse,
    CareNavigator,
    SocialPrescriber,
    MentalHealthPractitioner,
    OccupationalTherapist,
    Pharmacist,
    Other,
}

impl Role {
    /// Every role, in the order offered in forms.
    pub const ALL: [Role; 13] = [
        Self::Gp,
        Self::PracticeManager,
        Self::PracticeNurse,
        Self::SocialWorker,
        Self::DistrictNurse,
        Self::CommunityMatron,
        Self::PalliativeCareNurse,
        Self::CareNavigator,
        Self::SocialPrescriber,
        Self::MentalHealthPractitioner,
        Self::OccupationalTherapist,
        Self::Pharmacist,
        Self::Other,
    ];

    /// More than one of the role, inside a sentence: "GPs", "social workers".
    pub fn plural(self) -> String {
        match self {
            Self::Gp => "GPs".into(),
            Self::Other => "people in other roles".into(),
            other => format!("{}s", other.label().to_lowercase()),
        }
    }

    /// What people call the role.
    pub fn label(self) -> &'static str {
        match self {
            Self::Gp => "GP",
            Self::PracticeManager => "Practice manager",
            Self::PracticeNurse => "Practice nurse",
            Self::SocialWorker => "Social worker",
            Self::DistrictNurse => "District nurse",
            Self::CommunityMatron => "Community matron",
            Self::PalliativeCareNurse => "Palliative care nurse",
            Self::CareNavigator => "Care navigator",
            Self::SocialPrescriber => "Social prescriber",
            Self::MentalHealthPractitioner => "Mental health practitioner",
            Self::OccupationalTherapist => "Occupational therapist",
            Self::Pharmacist => "Pharmacist",
            Self::Other => "Other",
        }
    }

    /// The wire name (as serde writes it).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Gp => "gp",
            Self::PracticeManager => "practice_manager",
            Self::PracticeNurse => "practice_nurse",
            Self::SocialWorker => "social_worker",
            Self::DistrictNurse => "district_nurse",
            Self::CommunityMatron => "community_matron",
            Self::PalliativeCareNurse => "palliative_care_nurse",
            Self::CareNavigator => "care_navigator",
            Self::SocialPrescriber => "social_prescriber",
            Self::MentalHealthPractitioner => "mental_health_practitioner",
            Self::OccupationalTherapist => "occupational_therapist",
            Self::Pharmacist => "pharmacist",
            Self::Other => "other",
        }
    }

    /// Parses [`Role::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// How long a contact's details may go unconfirmed before the directory asks for a check.
pub const CONFIRM_CONTACT_AFTER_DAYS: i64 = 90;

/// Someone in the directory: a member of staff who may sit on an MDT.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Person {
    pub name: String,
    pub role: Role,
    #[serde(default)]
    pub organisation_id: Option<Uuid>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    /// When someone last checked these contact details were right.
    pub last_confirmed: NaiveDate,
}

impl Person {
    /// True when the contact details are older than [`CONFIRM_CONTACT_AFTER_DAYS`] on `today`:
    /// out-of-date contact lists were one of the failures staff described.
    pub fn needs_confirmation(&self, today: NaiveDate) -> bool {
        today - self.last_confirmed > Duration::days(CONFIRM_CONTACT_AFTER_DAYS)
    }
}

impl Entity for Person {
    const KIND: EntityKind = EntityKind::Person;
    const FIELDS: &'static [&'static str] = &[
        "name",
        "role",
        "organisation_id",
        "phone",
        "email",
        "last_confirmed",
    ];

    fn validate(&self) -> Result<(), ValidationError> {
        check::required_line("name", "the person's full name", &self.name, 200)?;
        check::date_in_window(
            "last_confirmed",
            "the date the details were confirmed",
            self.last_confirmed,
        )?;
        if let Some(phone) = self.phone.as_deref().filter(|p| !p.is_empty()) {
            check::phone("phone", phone)?;
        }
        if let Some(email) = self.email.as_deref().filter(|e| !e.is_empty()) {
            check::email("email", email)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn contact_details_go_stale_after_90_days() {
        let p = Person {
            name: "Dr Ada Synthetic".into(),
            role: Role::Gp,
            organisation_id: None,
            phone: Some("01632 960 001".into()),
            email: Some("ada.synthetic@example.nhs.net".into()),
            last_confirmed: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
        };
        assert!(p.validate().is_ok());
        assert!(!p.needs_confirmation(NaiveDate::from_ymd_opt(2026, 4, 1).unwrap()));
        assert!(p.needs_confirmation(NaiveDate::from_ymd_opt(2026, 4, 2).unwrap()));
    }

    #[test]
    fn labels_and_wire_names_agree_with_serde() {
        for role in Role::ALL {
            assert_eq!(serde_json::to_value(role).unwrap(), json!(role.as_str()));
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        for kind in OrganisationKind::ALL {
            assert_eq!(serde_json::to_value(kind).unwrap(), json!(kind.as_str()));
        }
    }
}
