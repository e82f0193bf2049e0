//! Which page answers which path: the route table of the app shell. The addresses themselves
//! ([`Page`], [`use_id`]) live in `web::routes`, which imports no page; this table imports
//! every page, and only the shell imports it.

use leptos::prelude::*;
use leptos_router::components::{Route, Routes};
use leptos_router::path;

use crate::web::pages::{
    accounts::AccountsPage, availability::AvailabilityPage, brief::BriefPage,
    conflicts::ConflictsPage, email_settings::EmailSettingsPage, find_time::FindTimePage,
    meeting::MeetingPage, my_actions::MyActionsPage, not_found::NotFound, pack::PrintoutsPage,
    patient::PatientPage, people::PeoplePage, search::SearchPage, sessions::SessionsPage,
    team::NewTeamPage, team::TeamAttendancePage, team::TeamDetailsPage, team::TeamPage,
    team::TeamPeoplePage, team_actions::TeamActionsPage, team_calendar::TeamCalendarPage,
    team_measures::TeamMeasuresPage, teams::TeamsPage,
};

#[cfg(doc)]
use crate::web::routes::{use_id, Page};

/// The pages loaded when first visited: with the `lazy-pages` feature (the app as Trunk builds
/// it) each one's code is split out of the first download by `scripts/split-wasm.mjs`; without it
/// (the browser tests, which are not split) each route renders its page at once. Each page's route
/// type, from one list.
macro_rules! lazy_pages {
    ($($route:ident => $page:ident),* $(,)?) => {
        $(
            #[doc = concat!("The route to [`", stringify!($page), "`], loaded when first visited.")]
            pub struct $route;

            #[cfg(feature = "lazy-pages")]
            #[leptos_router::lazy_route]
            impl leptos_router::LazyRoute for $route {
                fn data() -> Self {
                    Self
                }

                fn view(_this: Self) -> AnyView {
                    view! { <$page/> }.into_any()
                }
            }

            #[cfg(not(feature = "lazy-pages"))]
            impl $route {
                fn view() -> AnyView {
                    view! { <$page/> }.into_any()
                }
            }
        )*
    };
}

lazy_pages!(
    MeetingRoute => MeetingPage,
    BriefRoute => BriefPage,
    TeamRoute => TeamPage,
    TeamPeopleRoute => TeamPeoplePage,
    TeamAttendanceRoute => TeamAttendancePage,
    TeamDetailsRoute => TeamDetailsPage,
    TeamActionsRoute => TeamActionsPage,
    MyActionsRoute => MyActionsPage,
    PatientRoute => PatientPage,
    AvailabilityRoute => AvailabilityPage,
    // The brief pack and the outcome summaries: one module (see `PrintoutsPage`).
    PrintoutsRoute => PrintoutsPage,
    PeopleRoute => PeoplePage,
    FindTimeRoute => FindTimePage,
    ConflictsRoute => ConflictsPage,
    NewTeamRoute => NewTeamPage,
    AccountsRoute => AccountsPage,
    TeamCalendarRoute => TeamCalendarPage,
    TeamMeasuresRoute => TeamMeasuresPage,
    SearchRoute => SearchPage,
    EmailSettingsRoute => EmailSettingsPage,
    SessionsRoute => SessionsPage,
);

/// The view of a lazily loaded page's route (see [`lazy_pages`]).
#[cfg(feature = "lazy-pages")]
macro_rules! page {
    ($route:ident) => {
        leptos_router::Lazy::<$route>::new()
    };
}
#[cfg(not(feature = "lazy-pages"))]
macro_rules! page {
    ($route:ident) => {
        $route::view
    };
}

/// Which page answers which path. Anything else is "Page not found"; so is a path whose id is
/// not an id (each page shows [`NotFound`] when [`use_id`] gives `None`).
#[component]
pub fn AppRoutes() -> impl IntoView {
    view! {
        <Routes fallback=NotFound>
            <Route path=path!("/") view=TeamsPage/>
            <Route path=path!("/teams/new") view={page!(NewTeamRoute)}/>
            <Route path=path!("/teams/:id") view={page!(TeamRoute)}/>
            <Route path=path!("/teams/:id/people") view={page!(TeamPeopleRoute)}/>
            <Route path=path!("/teams/:id/attendance") view={page!(TeamAttendanceRoute)}/>
            <Route path=path!("/teams/:id/details") view={page!(TeamDetailsRoute)}/>
            <Route path=path!("/teams/:id/actions") view={page!(TeamActionsRoute)}/>
            <Route path=path!("/teams/:id/calendar") view={page!(TeamCalendarRoute)}/>
            <Route path=path!("/teams/:id/measures") view={page!(TeamMeasuresRoute)}/>
            <Route path=path!("/teams/:id/find-a-time") view={page!(FindTimeRoute)}/>
            <Route path=path!("/meetings/:id") view={page!(MeetingRoute)}/>
            <Route path=path!("/meetings/:id/pack") view={page!(PrintoutsRoute)}/>
            <Route path=path!("/meetings/:id/summaries") view={page!(PrintoutsRoute)}/>
            <Route path=path!("/items/:id/brief") view={page!(BriefRoute)}/>
            <Route path=path!("/patients/:id") view={page!(PatientRoute)}/>
            <Route path=path!("/actions") view={page!(MyActionsRoute)}/>
            <Route path=path!("/availability") view={page!(AvailabilityRoute)}/>
            <Route path=path!("/availability/:person") view={page!(AvailabilityRoute)}/>
            <Route path=path!("/people") view={page!(PeopleRoute)}/>
            <Route path=path!("/accounts") view={page!(AccountsRoute)}/>
            <Route path=path!("/conflicts") view={page!(ConflictsRoute)}/>
            <Route path=path!("/search") view={page!(SearchRoute)}/>
            <Route path=path!("/settings/email") view={page!(EmailSettingsRoute)}/>
            <Route path=path!("/settings/sessions") view={page!(SessionsRoute)}/>
        </Routes>
    }
}
