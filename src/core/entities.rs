//! The first records of the directory and the meeting calendar (DESIGN §2.1), with their rules.
//!
//! Each entity is the *content* of a synced record: the sync envelope (id, version, who changed
//! it when) lives in [`crate::core::sync::SyncRecord`]. Entities deserialize from the record's
//! field map, refusing unknown fields, and [`Entity::validate`] states what is wrong in words a
//! coordinator can act on.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use super::record::{Entity, EntityKind};
use super::uk_time;
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
        check::required_text("name", "the organisation's name", &self.name, 200)
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
        check::required_text("name", "the person's full name", &self.name, 200)?;
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

/// Shortest and longest meeting a team may default to, in minutes.
pub const MEETING_MINUTES_RANGE: std::ops::RangeInclusive<u32> = 15..=480;

/// A multidisciplinary team: who sits on it, who runs it, and who must be there for quorum.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Team {
    pub name: String,
    /// The person who runs the meetings (usually the practice manager).
    pub coordinator_id: Uuid,
    pub member_ids: Vec<Uuid>,
    /// People who may read the team's records but not change them (a student, a commissioner
    /// reviewing the MDT): read-only access on a need-to-know basis.
    #[serde(default)]
    pub observer_ids: Vec<Uuid>,
    /// Roles that must be present for the meeting to go ahead, e.g. a GP, a social worker and a
    /// district nurse — or two GPs where one cannot speak for the whole practice.
    #[serde(default)]
    pub required_roles: Vec<RoleNeed>,
    pub default_minutes: u32,
    #[serde(default)]
    pub place: String,
    #[serde(default)]
    pub video_link: Option<String>,
    /// Items may be added until this many hours before a meeting (later only by the
    /// coordinator, marked late).
    #[serde(default = "default_agenda_cutoff_hours")]
    pub agenda_cutoff_hours: u32,
    /// Briefs should be ready this many hours before a meeting.
    #[serde(default = "default_brief_cutoff_hours")]
    pub brief_cutoff_hours: u32,
    /// Set by the coordinator instead of deleting the team: an archived team keeps its
    /// records (and its patients' history) and can be restored; the app lists it apart.
    #[serde(default)]
    pub archived: bool,
}

/// A role the meeting needs, and how many people of it must come (the quorum).
///
/// Written as `{"role": "gp", "count": 2}`; a bare role (`"gp"`) is read as one of it, so records
/// written before counts existed still load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "RoleNeedWire")]
pub struct RoleNeed {
    pub role: Role,
    pub count: u8,
}

/// Most people of one role a quorum may ask for.
pub const MAX_ROLE_COUNT: u8 = 5;

impl RoleNeed {
    /// One person of `role`.
    pub fn one(role: Role) -> Self {
        Self { role, count: 1 }
    }
}

impl From<Role> for RoleNeed {
    fn from(role: Role) -> Self {
        Self::one(role)
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RoleNeedWire {
    Bare(Role),
    Counted(CountedRole),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CountedRole {
    role: Role,
    count: u8,
}

impl From<RoleNeedWire> for RoleNeed {
    fn from(wire: RoleNeedWire) -> Self {
        match wire {
            RoleNeedWire::Bare(role) => Self::one(role),
            RoleNeedWire::Counted(CountedRole { role, count }) => Self { role, count },
        }
    }
}

fn default_agenda_cutoff_hours() -> u32 {
    48
}

fn default_brief_cutoff_hours() -> u32 {
    24
}

/// Longest cut-off a team may set (two weeks).
pub const MAX_CUTOFF_HOURS: u32 = 336;

impl Team {
    /// True when `person` coordinates or sits on the team: the need-to-know test for its data.
    pub fn includes(&self, person: Uuid) -> bool {
        self.coordinator_id == person || self.member_ids.contains(&person)
    }

    /// True when `person` may read the team's records: its coordinator, members and observers.
    pub fn can_read(&self, person: Uuid) -> bool {
        self.includes(person) || self.observer_ids.contains(&person)
    }

    /// The quorum as (role, how many), the form the slot finder and the quorum panel use.
    pub fn quorum(&self) -> Vec<(Role, u32)> {
        self.required_roles
            .iter()
            .map(|need| (need.role, u32::from(need.count)))
            .collect()
    }
}

impl Entity for Team {
    const KIND: EntityKind = EntityKind::Team;
    const FIELDS: &'static [&'static str] = &[
        "name",
        "coordinator_id",
        "member_ids",
        "observer_ids",
        "required_roles",
        "default_minutes",
        "place",
        "video_link",
        "agenda_cutoff_hours",
        "brief_cutoff_hours",
        "archived",
    ];

    fn validate(&self) -> Result<(), ValidationError> {
        check::required_text("name", "the team's name", &self.name, 200)?;
        check::people_list("member_ids", &self.member_ids)?;
        check::people_list("observer_ids", &self.observer_ids)?;
        for (field, value) in [
            ("agenda_cutoff_hours", self.agenda_cutoff_hours),
            ("brief_cutoff_hours", self.brief_cutoff_hours),
        ] {
            if value > MAX_CUTOFF_HOURS {
                return Err(ValidationError::field(
                    field,
                    format!("A cut-off can be at most {MAX_CUTOFF_HOURS} hours (two weeks) before the meeting"),
                ));
            }
        }
        check::optional_text("place", "the place", &self.place, 300)?;
        if !MEETING_MINUTES_RANGE.contains(&self.default_minutes) {
            return Err(ValidationError::field(
                "default_minutes",
                format!(
                    "The default meeting length must be between {} and {} minutes",
                    MEETING_MINUTES_RANGE.start(),
                    MEETING_MINUTES_RANGE.end()
                ),
            ));
        }
        let mut seen = std::collections::HashSet::new();
        if !self.member_ids.iter().all(|m| seen.insert(*m)) {
            return Err(ValidationError::field(
                "member_ids",
                "A person is listed as a member more than once",
            ));
        }
        let mut observers = std::collections::HashSet::new();
        if !self
            .observer_ids
            .iter()
            .all(|o| observers.insert(*o) && !self.includes(*o))
        {
            return Err(ValidationError::field(
                "observer_ids",
                "An observer is listed twice, or is also the coordinator or a member",
            ));
        }
        let mut roles = std::collections::HashSet::new();
        if !self.required_roles.iter().all(|r| roles.insert(r.role)) {
            return Err(ValidationError::field(
                "required_roles",
                "A required role is listed more than once",
            ));
        }
        if let Some(need) = self
            .required_roles
            .iter()
            .find(|r| !(1..=MAX_ROLE_COUNT).contains(&r.count))
        {
            return Err(ValidationError::field(
                "required_roles",
                format!(
                    "Ask for between 1 and {MAX_ROLE_COUNT} people of each role ({} asks for {})",
                    need.role.label(),
                    need.count
                ),
            ));
        }
        if let Some(link) = self.video_link.as_deref().filter(|l| !l.is_empty()) {
            check::https_link("video_link", link)?;
        }
        Ok(())
    }
}

/// Whether a meeting is going ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MeetingStatus {
    Planned,
    Cancelled,
    /// Held and closed by the coordinator; undiscussed items move to the next meeting.
    Closed,
}

/// Longest meeting the app accepts: anything longer is almost certainly a typing mistake.
pub const MAX_MEETING_HOURS: i64 = 8;

/// One MDT meeting. Times are instants (UTC); people enter and read them in UK time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Meeting {
    pub team_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    #[serde(default)]
    pub place: String,
    #[serde(default)]
    pub video_link: Option<String>,
    pub status: MeetingStatus,
}

impl Meeting {
    /// Turns a date and start and end times typed in UK time (`2026-07-07`, `13:00`, `14:30`)
    /// into UTC instants, saying which field is wrong if one is.
    pub fn times_from_uk(
        date: &str,
        start: &str,
        end: &str,
    ) -> Result<(DateTime<Utc>, DateTime<Utc>), ValidationError> {
        let date = NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d")
            .map_err(|_| ValidationError::field("date", "Enter the date of the meeting"))?;
        let time = |field: &str, s: &str, what: &str| {
            chrono::NaiveTime::parse_from_str(s.trim(), "%H:%M").map_err(|_| {
                ValidationError::field(
                    field,
                    format!("Enter the {what} time as hours and minutes, like 13:30"),
                )
            })
        };
        let start = time("starts_at", start, "start")?;
        let end = time("ends_at", end, "end")?;
        let starts_at = uk_time::from_uk(date.and_time(start))
            .map_err(|e| ValidationError::field("starts_at", e.to_string()))?;
        let ends_at = uk_time::from_uk(date.and_time(end))
            .map_err(|e| ValidationError::field("ends_at", e.to_string()))?;
        Ok((starts_at, ends_at))
    }

    /// Length in whole minutes.
    pub fn minutes(&self) -> i64 {
        (self.ends_at - self.starts_at).num_minutes()
    }
}

impl Entity for Meeting {
    const KIND: EntityKind = EntityKind::Meeting;
    const FIELDS: &'static [&'static str] = &[
        "team_id",
        "starts_at",
        "ends_at",
        "place",
        "video_link",
        "status",
    ];

    fn validate(&self) -> Result<(), ValidationError> {
        check::instant_in_window("starts_at", "a start date", self.starts_at)?;
        check::instant_in_window("ends_at", "an end date", self.ends_at)?;
        if self.ends_at <= self.starts_at {
            return Err(ValidationError::field(
                "ends_at",
                "The meeting must end after it starts",
            ));
        }
        if self.ends_at - self.starts_at > Duration::hours(MAX_MEETING_HOURS) {
            return Err(ValidationError::field(
                "ends_at",
                format!("A meeting can last at most {MAX_MEETING_HOURS} hours"),
            ));
        }
        check::optional_text("place", "the place", &self.place, 300)?;
        if let Some(link) = self.video_link.as_deref().filter(|l| !l.is_empty()) {
            check::https_link("video_link", link)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    fn fields(v: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
        v.as_object().unwrap().clone()
    }

    fn team() -> Team {
        Team {
            name: "Riverside MDT".into(),
            coordinator_id: Uuid::from_u128(1),
            member_ids: vec![Uuid::from_u128(2), Uuid::from_u128(3)],
            observer_ids: vec![],
            required_roles: vec![Role::Gp.into(), Role::SocialWorker.into()],
            default_minutes: 90,
            place: "Riverside Surgery, room 2".into(),
            video_link: Some("https://meet.example.nhs.uk/riverside".into()),
            agenda_cutoff_hours: 48,
            brief_cutoff_hours: 24,
            archived: false,
        }
    }

    #[test]
    fn a_team_round_trips_through_its_fields() {
        let t = team();
        assert_eq!(Team::from_fields(&t.to_fields()).unwrap(), t);
        assert!(t.includes(Uuid::from_u128(1)) && t.includes(Uuid::from_u128(3)));
        assert!(!t.includes(Uuid::from_u128(9)));
    }

    #[test]
    fn team_rules() {
        let mut t = team();
        t.default_minutes = 5;
        assert_eq!(
            t.validate().unwrap_err().field.as_deref(),
            Some("default_minutes")
        );
        let mut t = team();
        t.member_ids.push(Uuid::from_u128(2));
        assert!(t.validate().unwrap_err().message.contains("more than once"));
        let mut t = team();
        t.name = " ".into();
        assert_eq!(t.validate().unwrap_err().message, "Enter the team's name");
        let mut t = team();
        t.video_link = Some("http://insecure".into());
        assert!(t.validate().is_err());
    }

    #[test]
    fn a_quorum_can_ask_for_several_people_of_a_role() {
        let mut t = team();
        t.required_roles = vec![
            RoleNeed {
                role: Role::Gp,
                count: 2,
            },
            Role::SocialWorker.into(),
        ];
        assert!(t.validate().is_ok());
        assert_eq!(t.quorum(), vec![(Role::Gp, 2), (Role::SocialWorker, 1)]);
        // Counted and bare roles both load; what is written back is always counted.
        let mut f = t.to_fields();
        f.insert(
            "required_roles".into(),
            json!([{"role": "gp", "count": 2}, "social_worker"]),
        );
        assert_eq!(Team::from_fields(&f).unwrap(), t);
        assert_eq!(
            t.to_fields()["required_roles"],
            json!([{"role": "gp", "count": 2}, {"role": "social_worker", "count": 1}])
        );
        t.required_roles[0].count = 0;
        assert!(t
            .validate()
            .unwrap_err()
            .message
            .contains("between 1 and 5"));
        t.required_roles[0].count = 6;
        assert!(t.validate().is_err());
        t.required_roles = vec![Role::Gp.into(), Role::Gp.into()];
        assert!(t.validate().unwrap_err().message.contains("more than once"));
    }

    #[test]
    fn unknown_fields_and_bad_roles_are_refused_in_words() {
        let mut f = team().to_fields();
        f.insert("colour".into(), json!("blue"));
        assert!(Team::from_fields(&f)
            .unwrap_err()
            .message
            .contains("no field called \"colour\""));
        let p =
            fields(json!({"name": "Sam Okafor", "role": "wizard", "last_confirmed": "2026-01-01"}));
        assert!(Person::from_fields(&p)
            .unwrap_err()
            .message
            .contains("\"wizard\" is not one of"));
        let p = fields(json!({"role": "gp", "last_confirmed": "2026-01-01"}));
        assert_eq!(
            Person::from_fields(&p).unwrap_err().message,
            "Person: name is required"
        );
    }

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
    fn meetings_must_end_after_they_start_and_not_run_all_day() {
        let start = Utc.with_ymd_and_hms(2026, 3, 3, 12, 30, 0).unwrap();
        let mut m = Meeting {
            team_id: Uuid::from_u128(7),
            starts_at: start,
            ends_at: start + Duration::minutes(90),
            place: String::new(),
            video_link: None,
            status: MeetingStatus::Planned,
        };
        assert!(m.validate().is_ok());
        assert_eq!(m.minutes(), 90);
        m.ends_at = start;
        assert!(m.validate().is_err());
        m.ends_at = start + Duration::hours(9);
        assert!(m
            .validate()
            .unwrap_err()
            .message
            .contains("at most 8 hours"));
    }

    #[test]
    fn typed_uk_times_become_utc() {
        let (s, e) = Meeting::times_from_uk("2026-07-07", "13:00", "14:30").unwrap();
        assert_eq!(s.to_rfc3339(), "2026-07-07T12:00:00+00:00");
        assert_eq!((e - s).num_minutes(), 90);
        let (winter, _) = Meeting::times_from_uk("2026-12-01", "13:00", "14:30").unwrap();
        assert_eq!(winter.to_rfc3339(), "2026-12-01T13:00:00+00:00");
        assert_eq!(
            Meeting::times_from_uk("", "13:00", "14:00")
                .unwrap_err()
                .field
                .as_deref(),
            Some("date")
        );
        assert_eq!(
            Meeting::times_from_uk("2026-07-07", "1pm", "14:00")
                .unwrap_err()
                .field
                .as_deref(),
            Some("starts_at")
        );
        assert!(Meeting::times_from_uk("2026-03-29", "01:30", "02:30")
            .unwrap_err()
            .message
            .contains("clocks go forward"));
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
        for kind in EntityKind::ALL {
            assert_eq!(serde_json::to_value(kind).unwrap(), json!(kind.as_str()));
            assert_eq!(EntityKind::parse(kind.as_str()), Some(kind));
        }
    }
}
