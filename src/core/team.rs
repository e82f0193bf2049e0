//! A multidisciplinary team: who sits on it, who runs it, who must come for quorum, and its
//! agenda and brief cut-offs.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::directory::Role;
use super::record::{Entity, EntityKind};
use super::validation::{self as check, ValidationError};

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
    /// The coordinator lets the team's observers (a commissioner reviewing the MDT) see its
    /// measures, which are otherwise for the coordinator and members only.
    #[serde(default)]
    pub observers_see_measures: bool,
    /// The coordinator sends meeting invitations by email to members who have no account (a GP
    /// who never signs in): off until turned on, as they never chose to get them.
    #[serde(default)]
    pub email_people_without_accounts: bool,
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

    /// Whether `person` may see the team's measures: its coordinator and members, and its
    /// observers when the coordinator allows.
    pub fn may_see_measures(&self, person: Uuid) -> bool {
        self.includes(person)
            || (self.observers_see_measures && self.observer_ids.contains(&person))
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
        "observers_see_measures",
        "email_people_without_accounts",
    ];

    fn validate(&self) -> Result<(), ValidationError> {
        check::required_line("name", "the team's name", &self.name, 200)?;
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
        check::optional_line("place", "the place", &self.place, 300)?;
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

#[cfg(test)]
impl Team {
    /// A team for tests elsewhere in the core: no observers, no quorum, 90 minutes, cut-offs of
    /// 48 hours (agenda) and 24 hours (briefs); each test sets what it is about.
    pub(crate) fn example(name: &str, coordinator_id: Uuid, member_ids: Vec<Uuid>) -> Self {
        Self {
            name: name.into(),
            coordinator_id,
            member_ids,
            observer_ids: Vec::new(),
            required_roles: Vec::new(),
            default_minutes: 90,
            place: String::new(),
            video_link: None,
            agenda_cutoff_hours: 48,
            brief_cutoff_hours: 24,
            archived: false,
            observers_see_measures: false,
            email_people_without_accounts: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::directory::Person;
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
            observers_see_measures: false,
            email_people_without_accounts: false,
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
}
