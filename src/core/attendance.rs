//! Who is coming to a meeting, whether the team's quorum holds, and attendance by role over
//! time against the two-thirds target.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::directory::Role;

use super::record::{Entity, EntityKind};
use super::team::Team;
use super::validation::ValidationError;

/// A member's answer for one meeting (before), or what happened (after).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttendanceStatus {
    #[default]
    Invited,
    Attending,
    Remote,
    /// Cannot come; may name a deputy.
    Apologies,
    Attended,
    Absent,
}

impl AttendanceStatus {
    /// Every status, in the order offered.
    pub const ALL: [AttendanceStatus; 6] = [
        Self::Invited,
        Self::Attending,
        Self::Remote,
        Self::Apologies,
        Self::Attended,
        Self::Absent,
    ];

    /// What people call it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Invited => "Not answered yet",
            Self::Attending => "Attending in person",
            Self::Remote => "Attending remotely",
            Self::Apologies => "Apologies",
            Self::Attended => "Attended",
            Self::Absent => "Absent",
        }
    }

    /// The answers that fit a meeting at this moment: before it starts, whether one is coming
    /// (there is nothing yet to have attended); once it has started, who came. A status
    /// already recorded is always kept in the list, so a choice made earlier still shows.
    pub fn offered(started: bool, current: Self) -> Vec<Self> {
        let fitting: &[Self] = if started {
            &[Self::Attended, Self::Absent, Self::Apologies]
        } else {
            &[
                Self::Invited,
                Self::Attending,
                Self::Remote,
                Self::Apologies,
            ]
        };
        Self::ALL
            .into_iter()
            .filter(|s| fitting.contains(s) || *s == current)
            .collect()
    }

    /// What a held meeting's record says of someone's answer: who attended, who did not, and
    /// an answer never turned into attendance said as what it was.
    pub fn as_record(self) -> &'static str {
        match self {
            Self::Attended => "Attended",
            Self::Absent => "Absent",
            Self::Apologies => "Sent apologies",
            Self::Attending | Self::Remote => "Said they would come; attendance not recorded",
            Self::Invited => "Did not answer; attendance not recorded",
        }
    }

    /// Still expected to be there (no apologies, not recorded absent).
    pub fn expected(self) -> bool {
        !matches!(self, Self::Apologies | Self::Absent)
    }

    /// The person has said they are coming (or was there): more than merely not having said no.
    pub fn says_coming(self) -> bool {
        matches!(self, Self::Attending | Self::Remote | Self::Attended)
    }

    /// What happened, recorded after the meeting (not an answer beforehand).
    pub fn is_record_of_the_meeting(self) -> bool {
        matches!(self, Self::Attended | Self::Absent)
    }
}

/// One member's attendance at one meeting.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attendance {
    pub team_id: Uuid,
    pub meeting_id: Uuid,
    pub person_id: Uuid,
    #[serde(default)]
    pub status: AttendanceStatus,
    /// Who comes instead (with apologies).
    #[serde(default)]
    pub deputy_id: Option<Uuid>,
}

impl Attendance {
    /// One record per person and meeting, the same id on every device.
    pub fn id_for(meeting: Uuid, person: Uuid) -> Uuid {
        let mut bytes = [0u8; 32];
        bytes[..16].copy_from_slice(meeting.as_bytes());
        bytes[16..].copy_from_slice(person.as_bytes());
        Uuid::new_v5(&ATTENDANCE_NAMESPACE, &bytes)
    }
}

const ATTENDANCE_NAMESPACE: Uuid = Uuid::from_u128(0x6d64_7461_7474_656e_6461_6e63_6501_0001);

impl Entity for Attendance {
    const KIND: EntityKind = EntityKind::Attendance;
    const FIELDS: &'static [&'static str] =
        &["team_id", "meeting_id", "person_id", "status", "deputy_id"];

    fn validate(&self) -> Result<(), ValidationError> {
        if self.deputy_id.is_some() && self.status != AttendanceStatus::Apologies {
            return Err(ValidationError::field(
                "deputy_id",
                "A deputy is named only with apologies",
            ));
        }
        if self.deputy_id == Some(self.person_id) {
            return Err(ValidationError::field(
                "deputy_id",
                "Choose someone else as deputy",
            ));
        }
        Ok(())
    }
}

/// After a meeting, the quick way to record it: every member still expected (no apologies, not
/// recorded absent) recorded as attended, for the coordinator to correct person by person.
/// Returns the records to save, with their ids.
pub fn record_expected_as_attended(
    team: &Team,
    team_id: Uuid,
    meeting_id: Uuid,
    attendance: &[Attendance],
) -> Vec<(Uuid, Attendance)> {
    std::iter::once(team.coordinator_id)
        .chain(team.member_ids.iter().copied())
        .filter_map(|person| {
            let current = attendance
                .iter()
                .find(|a| a.meeting_id == meeting_id && a.person_id == person);
            let status = current.map_or(AttendanceStatus::Invited, |a| a.status);
            matches!(
                status,
                AttendanceStatus::Invited | AttendanceStatus::Attending | AttendanceStatus::Remote
            )
            .then(|| {
                (
                    Attendance::id_for(meeting_id, person),
                    Attendance {
                        team_id,
                        meeting_id,
                        person_id: person,
                        status: AttendanceStatus::Attended,
                        deputy_id: None,
                    },
                )
            })
        })
        .collect()
}

/// One required role on the quorum panel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleCover {
    pub role: Role,
    pub needed: u32,
    /// People expected who hold the role (deputies included): nobody has said they cannot come.
    pub covered_by: Vec<Uuid>,
    /// Of those, the people who have said they are coming (or attended): silence is not a yes.
    pub said_coming: Vec<Uuid>,
}

impl RoleCover {
    /// Enough people of this role are expected.
    pub fn met(&self) -> bool {
        self.covered_by.len() as u32 >= self.needed
    }

    /// Enough people of this role have said they are coming.
    pub fn is_confirmed(&self) -> bool {
        self.said_coming.len() as u32 >= self.needed
    }
}

/// Whether a meeting will be quorate, role by role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuorumPanel {
    pub roles: Vec<RoleCover>,
}

impl QuorumPanel {
    /// The team's required roles (with how many of each) against who is expected: members who have not sent
    /// apologies, and deputies named with apologies.
    pub fn of(team: &Team, roles: &HashMap<Uuid, Role>, attendance: &[Attendance]) -> Self {
        let status = |p: Uuid| {
            attendance
                .iter()
                .find(|a| a.person_id == p)
                .map_or(AttendanceStatus::Invited, |a| a.status)
        };
        let mut expected: Vec<Uuid> = std::iter::once(team.coordinator_id)
            .chain(team.member_ids.iter().copied())
            .filter(|p| status(*p).expected())
            .collect();
        expected.extend(
            attendance
                .iter()
                .filter(|a| a.status == AttendanceStatus::Apologies)
                .filter_map(|a| a.deputy_id),
        );
        expected.sort_unstable();
        expected.dedup();
        let covers = team
            .quorum()
            .into_iter()
            .map(|(role, needed)| {
                let covered_by: Vec<Uuid> = expected
                    .iter()
                    .copied()
                    .filter(|p| roles.get(p) == Some(&role))
                    .collect();
                let said_coming = covered_by
                    .iter()
                    .copied()
                    .filter(|p| status(*p).says_coming())
                    .collect();
                RoleCover {
                    role,
                    needed,
                    covered_by,
                    said_coming,
                }
            })
            .collect();
        Self { roles: covers }
    }

    /// Every required role is covered.
    pub fn met(&self) -> bool {
        self.roles.iter().all(RoleCover::met)
    }

    /// Every required role is covered by people who have said they are coming.
    pub fn is_confirmed(&self) -> bool {
        self.roles.iter().all(RoleCover::is_confirmed)
    }

    /// Roles nobody will cover: what the coordinator is warned about.
    pub fn missing(&self) -> Vec<Role> {
        self.roles
            .iter()
            .filter(|r| !r.met())
            .map(|r| r.role)
            .collect()
    }
}

/// The share of meetings the people of each role attended (two-thirds is the target).
pub const ATTENDANCE_TARGET: f64 = 2.0 / 3.0;

/// Attendance of one role over held meetings.
#[derive(Debug, Clone, PartialEq)]
pub struct RoleAttendance {
    pub role: Role,
    pub attended: u32,
    pub expected: u32,
}

impl RoleAttendance {
    /// Attended / expected (1.0 when nobody was expected).
    pub fn share(&self) -> f64 {
        if self.expected == 0 {
            1.0
        } else {
            f64::from(self.attended) / f64::from(self.expected)
        }
    }

    /// Meets the two-thirds target.
    pub fn meets_target(&self) -> bool {
        self.share() + 1e-9 >= ATTENDANCE_TARGET
    }
}

/// Whether who came to `meeting` was recorded: someone is recorded as attended or absent.
/// Until then the meeting says nothing about attendance (answers beforehand are not records).
pub fn attendance_recorded(meeting: Uuid, attendance: &[Attendance]) -> bool {
    attendance
        .iter()
        .any(|a| a.meeting_id == meeting && a.status.is_record_of_the_meeting())
}

/// Attendance by role over `meetings` (held ones) whose attendance was recorded (see
/// [`attendance_recorded`]; the others are left out, not counted as everyone missing): each
/// member is expected at each meeting; a meeting counts as attended for them when recorded
/// `Attended` (in person or remotely), or when their deputy attended.
pub fn attendance_by_role(
    meetings: &[Uuid],
    team: &Team,
    roles: &HashMap<Uuid, Role>,
    attendance: &[Attendance],
) -> Vec<RoleAttendance> {
    let members: Vec<Uuid> = std::iter::once(team.coordinator_id)
        .chain(team.member_ids.iter().copied())
        .collect();
    let mut by_role: Vec<RoleAttendance> = Vec::new();
    for m in meetings
        .iter()
        .filter(|m| attendance_recorded(**m, attendance))
    {
        for person in &members {
            let Some(role) = roles.get(person) else {
                continue;
            };
            let record = attendance
                .iter()
                .find(|a| a.meeting_id == *m && a.person_id == *person);
            let attended = record.is_some_and(|a| {
                a.status == AttendanceStatus::Attended
                    || a.deputy_id.is_some_and(|d| {
                        attendance.iter().any(|x| {
                            x.meeting_id == *m
                                && x.person_id == d
                                && x.status == AttendanceStatus::Attended
                        })
                    })
            });
            match by_role.iter_mut().find(|r| r.role == *role) {
                Some(r) => {
                    r.expected += 1;
                    r.attended += u32::from(attended);
                }
                None => by_role.push(RoleAttendance {
                    role: *role,
                    attended: u32::from(attended),
                    expected: 1,
                }),
            }
        }
    }
    by_role.sort_by_key(|r| r.role);
    by_role
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_meeting_to_come_offers_answers_and_a_started_one_attendance() {
        use AttendanceStatus::*;
        for current in AttendanceStatus::ALL {
            let before = AttendanceStatus::offered(false, current);
            let after = AttendanceStatus::offered(true, current);
            assert!(
                before.contains(&current) && after.contains(&current),
                "{current:?} kept"
            );
            // Nobody has attended, or been absent from, a meeting still to come.
            for s in [Attended, Absent] {
                assert_eq!(before.contains(&s), current == s, "{s:?} before the start");
            }
            // Once it has started, attendance is recorded: who came and who did not.
            assert!(after.contains(&Attended) && after.contains(&Absent));
            for s in [Invited, Attending, Remote] {
                assert_eq!(after.contains(&s), current == s, "{s:?} after the start");
            }
            assert!(before.contains(&Apologies) && after.contains(&Apologies));
        }
        // Offered in the order people read them.
        assert_eq!(
            AttendanceStatus::offered(false, Invited),
            [Invited, Attending, Remote, Apologies]
        );
        assert_eq!(
            AttendanceStatus::offered(true, Attended),
            [Apologies, Attended, Absent]
        );
    }

    #[test]
    fn a_held_meeting_says_who_attended_not_who_was_expected() {
        for s in AttendanceStatus::ALL {
            let words = s.as_record();
            assert!(!words.contains("Expected"), "{s:?}: {words}");
            assert!(!words.is_empty());
        }
        assert_eq!(AttendanceStatus::Attended.as_record(), "Attended");
    }

    fn team() -> (Team, HashMap<Uuid, Role>) {
        let (coordinator, gp, gp2, sw, dn) = (
            Uuid::from_u128(1),
            Uuid::from_u128(2),
            Uuid::from_u128(3),
            Uuid::from_u128(4),
            Uuid::from_u128(5),
        );
        let team = Team {
            name: "Riverside MDT".into(),
            coordinator_id: coordinator,
            member_ids: vec![gp, gp2, sw, dn],
            observer_ids: vec![],
            required_roles: vec![
                Role::Gp.into(),
                Role::SocialWorker.into(),
                Role::DistrictNurse.into(),
            ],
            default_minutes: 90,
            place: String::new(),
            video_link: None,
            agenda_cutoff_hours: 48,
            brief_cutoff_hours: 24,
            archived: false,
            observers_see_measures: false,
            email_people_without_accounts: false,
        };
        let roles = [
            (coordinator, Role::PracticeManager),
            (gp, Role::Gp),
            (gp2, Role::Gp),
            (sw, Role::SocialWorker),
            (dn, Role::DistrictNurse),
        ]
        .into();
        (team, roles)
    }

    fn answer(person: u128, status: AttendanceStatus, deputy: Option<u128>) -> Attendance {
        Attendance {
            team_id: Uuid::from_u128(9),
            meeting_id: Uuid::from_u128(10),
            person_id: Uuid::from_u128(person),
            status,
            deputy_id: deputy.map(Uuid::from_u128),
        }
    }

    #[test]
    fn quorum_holds_until_the_only_social_worker_sends_apologies() {
        let (team, roles) = team();
        assert!(
            QuorumPanel::of(&team, &roles, &[]).met(),
            "everyone invited is expected"
        );
        let one_gp_away = [answer(2, AttendanceStatus::Apologies, None)];
        assert!(
            QuorumPanel::of(&team, &roles, &one_gp_away).met(),
            "the other GP covers"
        );
        let sw_away = [answer(4, AttendanceStatus::Apologies, None)];
        let panel = QuorumPanel::of(&team, &roles, &sw_away);
        assert!(!panel.met());
        assert_eq!(panel.missing(), vec![Role::SocialWorker]);
        // A deputy who is a social worker restores it.
        let mut roles_with_deputy = roles.clone();
        roles_with_deputy.insert(Uuid::from_u128(7), Role::SocialWorker);
        let deputised = [answer(4, AttendanceStatus::Apologies, Some(7))];
        assert!(QuorumPanel::of(&team, &roles_with_deputy, &deputised).met());
        assert!(
            answer(4, AttendanceStatus::Attending, Some(7))
                .validate()
                .is_err(),
            "deputies only with apologies"
        );
    }

    #[test]
    fn a_role_is_confirmed_only_by_people_who_said_they_are_coming() {
        let (team, roles) = team();
        // Nobody has answered: every role is expected, none confirmed.
        let silent = QuorumPanel::of(&team, &roles, &[]);
        assert!(silent.met() && !silent.is_confirmed());
        assert!(silent.roles.iter().all(|r| r.said_coming.is_empty()));
        // One GP says yes (remotely counts), the social worker says yes, the nurse attended.
        let answers = [
            answer(2, AttendanceStatus::Remote, None),
            answer(4, AttendanceStatus::Attending, None),
            answer(5, AttendanceStatus::Attended, None),
        ];
        let panel = QuorumPanel::of(&team, &roles, &answers);
        assert!(panel.met() && panel.is_confirmed());
        assert_eq!(panel.roles[0].said_coming, vec![Uuid::from_u128(2)]);
        assert_eq!(
            panel.roles[0].covered_by,
            vec![Uuid::from_u128(2), Uuid::from_u128(3)],
            "the GP who has not answered is still expected"
        );
        // A deputy confirms a role only once the deputy says they are coming.
        let mut roles = roles.clone();
        roles.insert(Uuid::from_u128(7), Role::SocialWorker);
        let deputised = [
            answer(2, AttendanceStatus::Attending, None),
            answer(5, AttendanceStatus::Attending, None),
            answer(4, AttendanceStatus::Apologies, Some(7)),
        ];
        let panel = QuorumPanel::of(&team, &roles, &deputised);
        assert!(panel.met() && !panel.is_confirmed());
        let deputy_says_yes = [
            deputised[0].clone(),
            deputised[1].clone(),
            deputised[2].clone(),
            answer(7, AttendanceStatus::Attending, None),
        ];
        assert!(QuorumPanel::of(&team, &roles, &deputy_says_yes).is_confirmed());
        // Confirmed never outruns expected.
        for status in AttendanceStatus::ALL {
            assert!(!status.says_coming() || status.expected(), "{status:?}");
        }
    }

    #[test]
    fn meetings_without_recorded_attendance_do_not_count() {
        let (team, roles) = team();
        let (recorded, unrecorded, answered) = (
            Uuid::from_u128(100),
            Uuid::from_u128(101),
            Uuid::from_u128(102),
        );
        let at = |meeting: Uuid, person: u128, status| Attendance {
            meeting_id: meeting,
            ..answer(person, status, None)
        };
        let records = vec![
            at(recorded, 5, AttendanceStatus::Attended),
            at(recorded, 4, AttendanceStatus::Absent),
            // Answers beforehand only: nobody recorded who came.
            at(answered, 5, AttendanceStatus::Attending),
            at(answered, 2, AttendanceStatus::Apologies),
        ];
        assert!(attendance_recorded(recorded, &records));
        assert!(!attendance_recorded(unrecorded, &records));
        assert!(!attendance_recorded(answered, &records));
        let by_role =
            attendance_by_role(&[recorded, unrecorded, answered], &team, &roles, &records);
        let dn = by_role
            .iter()
            .find(|r| r.role == Role::DistrictNurse)
            .unwrap();
        assert_eq!((dn.attended, dn.expected), (1, 1), "one recorded meeting");
        let sw = by_role
            .iter()
            .find(|r| r.role == Role::SocialWorker)
            .unwrap();
        assert_eq!((sw.attended, sw.expected), (0, 1));
        // No meeting recorded: no figures at all rather than everyone at 0%.
        assert!(attendance_by_role(&[unrecorded, answered], &team, &roles, &records).is_empty());
    }

    #[test]
    fn a_quorum_of_two_gps_is_lost_when_either_sends_apologies() {
        let (mut team, roles) = team();
        team.required_roles[0] = crate::core::RoleNeed {
            role: Role::Gp,
            count: 2,
        };
        let panel = QuorumPanel::of(&team, &roles, &[]);
        assert!(panel.met());
        assert_eq!(panel.roles[0].needed, 2);
        let one_gp_away = [answer(3, AttendanceStatus::Apologies, None)];
        let panel = QuorumPanel::of(&team, &roles, &one_gp_away);
        assert_eq!(panel.missing(), vec![Role::Gp]);
        assert_eq!(panel.roles[0].covered_by, vec![Uuid::from_u128(2)]);
    }

    #[test]
    fn recording_everyone_expected_as_attended_leaves_apologies_and_absences() {
        let (team, _) = team();
        let answers = [
            answer(2, AttendanceStatus::Remote, None),
            answer(3, AttendanceStatus::Apologies, Some(2)),
            answer(4, AttendanceStatus::Absent, None),
            answer(5, AttendanceStatus::Attended, None),
        ];
        let meeting = Uuid::from_u128(10);
        let records = record_expected_as_attended(&team, Uuid::from_u128(9), meeting, &answers);
        // The coordinator (no answer) and the GP who said remote; nobody else.
        let people: Vec<Uuid> = records.iter().map(|(_, a)| a.person_id).collect();
        assert_eq!(people, vec![Uuid::from_u128(1), Uuid::from_u128(2)]);
        for (id, a) in &records {
            assert_eq!(*id, Attendance::id_for(meeting, a.person_id));
            assert_eq!(a.status, AttendanceStatus::Attended);
            assert!(a.validate().is_ok());
        }
        // Another meeting's answers do not count for this one.
        let other =
            record_expected_as_attended(&team, Uuid::from_u128(9), Uuid::from_u128(11), &answers);
        assert_eq!(other.len(), 5);
    }

    #[test]
    fn attendance_by_role_against_two_thirds() {
        let (team, roles) = team();
        let meetings: Vec<Uuid> = (0..3).map(|i| Uuid::from_u128(100 + i)).collect();
        let mut records = Vec::new();
        for (i, m) in meetings.iter().enumerate() {
            for p in [1u128, 2, 3, 4, 5] {
                // The district nurse attends only the first meeting; everyone else all three.
                let status = if p == 5 && i > 0 {
                    AttendanceStatus::Absent
                } else {
                    AttendanceStatus::Attended
                };
                records.push(Attendance {
                    meeting_id: *m,
                    ..answer(p, status, None)
                });
            }
        }
        let by_role = attendance_by_role(&meetings, &team, &roles, &records);
        let dn = by_role
            .iter()
            .find(|r| r.role == Role::DistrictNurse)
            .unwrap();
        assert_eq!((dn.attended, dn.expected), (1, 3));
        assert!(!dn.meets_target());
        let gp = by_role.iter().find(|r| r.role == Role::Gp).unwrap();
        assert_eq!((gp.attended, gp.expected), (6, 6));
        assert!(gp.meets_target());
        assert!(
            RoleAttendance {
                role: Role::Gp,
                attended: 2,
                expected: 3
            }
            .meets_target(),
            "exactly two-thirds meets it"
        );
    }
}
