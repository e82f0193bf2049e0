//! Every path of the app in one place: the route table (which page answers which path), the
//! typed parameters pages read from their path, and the links pages build. No page writes or
//! parses a URL by hand, so a path changes here or nowhere.

use leptos::prelude::*;
use leptos_router::components::{Route, Routes};
use leptos_router::hooks::use_params;
use leptos_router::params::Params;
use leptos_router::path;
use uuid::Uuid;

use crate::web::pages::{
    accounts::AccountsPage, availability::AvailabilityPage, brief::BriefPage,
    conflicts::ConflictsPage, find_time::FindTimePage, meeting::MeetingPage,
    my_actions::MyActionsPage, not_found::NotFound, pack::PackPage, patient::PatientPage,
    people::PeoplePage, team::NewTeamPage, team::TeamPage, team_actions::TeamActionsPage,
    teams::TeamsPage,
};

/// A place in the app that a link can lead to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// The signed-in person's teams and meetings (home).
    Teams,
    /// The form that creates a team.
    NewTeam,
    Team(Uuid),
    TeamActions(Uuid),
    FindTime(Uuid),
    Meeting(Uuid),
    /// The printable brief pack of a meeting.
    BriefPack(Uuid),
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
}

impl Page {
    /// The path of this place, for a link's `href` or for navigating.
    pub fn href(self) -> String {
        match self {
            Self::Teams => "/".into(),
            Self::NewTeam => "/teams/new".into(),
            Self::Team(id) => format!("/teams/{id}"),
            Self::TeamActions(id) => format!("/teams/{id}/actions"),
            Self::FindTime(id) => format!("/teams/{id}/find-a-time"),
            Self::Meeting(id) => format!("/meetings/{id}"),
            Self::BriefPack(id) => format!("/meetings/{id}/pack"),
            Self::Brief(item) => format!("/items/{item}/brief"),
            Self::Patient(id) => format!("/patients/{id}"),
            Self::MyActions => "/actions".into(),
            Self::MyAvailability => "/availability".into(),
            Self::Availability(person) => format!("/availability/{person}"),
            Self::People => "/people".into(),
            Self::Accounts => "/accounts".into(),
            Self::Conflicts => "/conflicts".into(),
        }
    }

    /// The place a path leads to, if any: the inverse of [`Page::href`] (and what
    /// [`AppRoutes`] answers for the same path).
    pub fn from_path(path: &str) -> Option<Self> {
        let segments: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
        let id = |s: &str| Uuid::parse_str(s).ok();
        Some(match segments.as_slice() {
            [] => Self::Teams,
            ["teams", "new"] => Self::NewTeam,
            ["teams", team] => Self::Team(id(team)?),
            ["teams", team, "actions"] => Self::TeamActions(id(team)?),
            ["teams", team, "find-a-time"] => Self::FindTime(id(team)?),
            ["meetings", meeting] => Self::Meeting(id(meeting)?),
            ["meetings", meeting, "pack"] => Self::BriefPack(id(meeting)?),
            ["items", item, "brief"] => Self::Brief(id(item)?),
            ["patients", patient] => Self::Patient(id(patient)?),
            ["actions"] => Self::MyActions,
            ["availability"] => Self::MyAvailability,
            ["availability", person] => Self::Availability(id(person)?),
            ["people"] => Self::People,
            ["accounts"] => Self::Accounts,
            ["conflicts"] => Self::Conflicts,
            _ => return None,
        })
    }
}

/// Which page answers which path. Anything else is "Page not found"; so is a path whose id is
/// not an id (each page shows [`NotFound`] when [`use_id`] gives `None`).
#[component]
pub fn AppRoutes() -> impl IntoView {
    view! {
        <Routes fallback=NotFound>
            <Route path=path!("/") view=TeamsPage/>
            <Route path=path!("/teams/new") view=NewTeamPage/>
            <Route path=path!("/teams/:id") view=TeamPage/>
            <Route path=path!("/teams/:id/actions") view=TeamActionsPage/>
            <Route path=path!("/teams/:id/find-a-time") view=FindTimePage/>
            <Route path=path!("/meetings/:id") view=MeetingPage/>
            <Route path=path!("/meetings/:id/pack") view=PackPage/>
            <Route path=path!("/items/:id/brief") view=BriefPage/>
            <Route path=path!("/patients/:id") view=PatientPage/>
            <Route path=path!("/actions") view=MyActionsPage/>
            <Route path=path!("/availability") view=AvailabilityPage/>
            <Route path=path!("/availability/:person") view=AvailabilityPage/>
            <Route path=path!("/people") view=PeoplePage/>
            <Route path=path!("/accounts") view=AccountsPage/>
            <Route path=path!("/conflicts") view=ConflictsPage/>
        </Routes>
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
