//! Every address of the app in one place: the places a link can lead to ([`Page`]), the typed
//! parameters pages read from their path, and the links pages build. No page writes or parses a
//! URL by hand, so a path changes here or nowhere. This module imports no page (pages import it),
//! so addresses and pages never import each other in a circle; which page answers which path is
//! the app shell's route table (`web::app::route_table`), checked against [`Page::from_path`].

use leptos::prelude::*;
use leptos_router::hooks::use_params;
use leptos_router::params::Params;
use uuid::Uuid;

/// A place in the app that a link can lead to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// The signed-in person's teams and meetings (home).
    Teams,
    /// The form that creates a team.
    NewTeam,
    /// A team's meetings (the team's first page).
    Team(Uuid),
    /// A team's people and what is recorded of their availability.
    TeamPeople(Uuid),
    /// A team's attendance by role.
    TeamAttendance(Uuid),
    /// A team's details: name, people, quorum, cut-offs (the coordinator's to change).
    TeamDetails(Uuid),
    TeamActions(Uuid),
    /// The team's meetings by month.
    TeamCalendar(Uuid),
    /// The team's measures over time.
    TeamMeasures(Uuid),
    FindTime(Uuid),
    Meeting(Uuid),
    /// The printable brief pack of a meeting.
    BriefPack(Uuid),
    /// A concluded meeting's outcome summaries, one per patient item.
    OutcomeSummaries(Uuid),
    /// The brief of an agenda item (by the item's id).
    Brief(Uuid),
    Patient(Uuid),
    MyActions,
    MyAvailability,
    /// Another person's availability (a coordinator recording a member's commitments).
    Availability(Uuid),
    People,
    Accounts,
    Conflicts,
    /// Search across the directory and the teams' patients.
    Search,
    /// Which emails the person gets (the link at the foot of every email).
    EmailSettings,
    /// Where the person is signed in, to sign out elsewhere.
    Sessions,
}

impl Page {
    /// The path of this place, for a link's `href` or for navigating.
    pub fn href(self) -> String {
        match self {
            Self::Teams => "/".into(),
            Self::NewTeam => "/teams/new".into(),
            Self::Team(id) => format!("/teams/{id}"),
            Self::TeamPeople(id) => format!("/teams/{id}/people"),
            Self::TeamAttendance(id) => format!("/teams/{id}/attendance"),
            Self::TeamDetails(id) => format!("/teams/{id}/details"),
            Self::TeamActions(id) => format!("/teams/{id}/actions"),
            Self::TeamCalendar(id) => format!("/teams/{id}/calendar"),
            Self::TeamMeasures(id) => format!("/teams/{id}/measures"),
            Self::FindTime(id) => format!("/teams/{id}/find-a-time"),
            Self::Meeting(id) => format!("/meetings/{id}"),
            Self::BriefPack(id) => format!("/meetings/{id}/pack"),
            Self::OutcomeSummaries(id) => format!("/meetings/{id}/summaries"),
            Self::Brief(item) => format!("/items/{item}/brief"),
            Self::Patient(id) => format!("/patients/{id}"),
            Self::MyActions => "/actions".into(),
            Self::MyAvailability => "/availability".into(),
            Self::Availability(person) => format!("/availability/{person}"),
            Self::People => "/people".into(),
            Self::Accounts => "/accounts".into(),
            Self::Conflicts => "/conflicts".into(),
            Self::Search => "/search".into(),
            Self::EmailSettings => "/settings/email".into(),
            Self::Sessions => "/settings/sessions".into(),
        }
    }

    /// The place a path leads to, if any: the inverse of [`Page::href`] (and what
    /// the app shell's route table answers for the same path).
    pub fn from_path(path: &str) -> Option<Self> {
        let segments: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
        let id = |s: &str| Uuid::parse_str(s).ok();
        Some(match segments.as_slice() {
            [] => Self::Teams,
            ["teams", "new"] => Self::NewTeam,
            ["teams", team] => Self::Team(id(team)?),
            ["teams", team, "people"] => Self::TeamPeople(id(team)?),
            ["teams", team, "attendance"] => Self::TeamAttendance(id(team)?),
            ["teams", team, "details"] => Self::TeamDetails(id(team)?),
            ["teams", team, "actions"] => Self::TeamActions(id(team)?),
            ["teams", team, "calendar"] => Self::TeamCalendar(id(team)?),
            ["teams", team, "measures"] => Self::TeamMeasures(id(team)?),
            ["teams", team, "find-a-time"] => Self::FindTime(id(team)?),
            ["meetings", meeting] => Self::Meeting(id(meeting)?),
            ["meetings", meeting, "pack"] => Self::BriefPack(id(meeting)?),
            ["meetings", meeting, "summaries"] => Self::OutcomeSummaries(id(meeting)?),
            ["items", item, "brief"] => Self::Brief(id(item)?),
            ["patients", patient] => Self::Patient(id(patient)?),
            ["actions"] => Self::MyActions,
            ["availability"] => Self::MyAvailability,
            ["availability", person] => Self::Availability(id(person)?),
            ["people"] => Self::People,
            ["accounts"] => Self::Accounts,
            ["conflicts"] => Self::Conflicts,
            ["search"] => Self::Search,
            ["settings", "email"] => Self::EmailSettings,
            ["settings", "sessions"] => Self::Sessions,
            _ => return None,
        })
    }
}

impl Page {
    /// The entry of the primary navigation this page belongs to, marked as the current one
    /// (`aria-current`) so people know where they are: a meeting, brief or patient is reached
    /// through "Teams and meetings", another person's availability through their team.
    pub fn nav_entry(self) -> Page {
        match self {
            Self::MyActions => Self::MyActions,
            Self::MyAvailability => Self::MyAvailability,
            Self::People => Self::People,
            Self::Accounts => Self::Accounts,
            Self::Search => Self::Search,
            _ => Self::Teams,
        }
    }
}

/// The `:id` of the current path.
#[derive(Params, Clone, PartialEq, Debug)]
struct IdParam {
    id: Option<Uuid>,
}

/// The `:person` of `/availability/:person`.
#[derive(Params, Clone, PartialEq, Debug)]
struct PersonParam {
    person: Option<Uuid>,
}

/// The id in the current page's path (`/meetings/:id`, …); `None` when the path's id is not an
/// id, for the page to answer "Page not found".
pub fn use_id() -> Memo<Option<Uuid>> {
    let params = use_params::<IdParam>();
    Memo::new(move |_| params.with(|p| p.as_ref().ok().and_then(|p| p.id)))
}

/// The person in `/availability/:person` (`None` on `/availability`: the signed-in person).
pub fn use_person() -> Memo<Option<Uuid>> {
    let params = use_params::<PersonParam>();
    Memo::new(move |_| params.with(|p| p.as_ref().ok().and_then(|p| p.person)))
}
