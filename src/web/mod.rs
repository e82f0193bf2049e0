//! The browser app (Leptos, client-side rendered). Thin components over the core: they read
//! records from the sync client and save through it; rules live in `crate::core`.

pub mod action_card;
pub mod action_view;
pub mod add_item;
pub mod agenda_view;
pub mod api;
pub mod attendance;
pub mod components;
pub mod meetings;
pub mod outcome;
pub mod pages;
pub mod sync;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

use crate::core::api::CurrentUser;
use components::{Header, RefusedChanges, SessionEnded};
use pages::{
    availability::AvailabilityPage, brief::BriefPage, find_time::FindTimePage,
    meeting::MeetingPage, my_actions::MyActionsPage, not_found::NotFound, pack::PackPage,
    patient::PatientPage, people::PeoplePage, sign_in::SignInPage, team::TeamPage,
    team_actions::TeamActionsPage, teams::TeamsPage,
};
use sync::SyncClient;

/// Mounts the app on the page.
pub fn start() {
    leptos::mount::mount_to_body(App);
}

/// Where the app is in finding out who is signed in.
#[derive(Debug, Clone, PartialEq)]
enum SessionState {
    Checking,
    SignedOut { problem: Option<String> },
    SignedIn(CurrentUser),
}

/// The whole app: checks the session, then shows sign-in or the signed-in app.
#[component]
pub fn App() -> impl IntoView {
    let session = RwSignal::new(SessionState::Checking);
    spawn_local(async move {
        let state = match api::current_user().await {
            Ok(Some(user)) => SessionState::SignedIn(user),
            Ok(None) => SessionState::SignedOut { problem: None },
            Err(e) => SessionState::SignedOut {
                problem: Some(e.to_string()),
            },
        };
        session.set(state);
    });
    view! {
        <a class="nhsuk-skip-link" href="#maincontent">"Skip to main content"</a>
        <Router>
            {move || match session.get() {
                SessionState::Checking => view! {
                    <main class="nhsuk-width-container nhsuk-main-wrapper" id="maincontent">
                        <p class="nhsuk-body" role="status">"Checking whether you are signed in…"</p>
                    </main>
                }.into_any(),
                SessionState::SignedOut { problem } => view! {
                    <Header user=None/>
                    <SignInPage
                        problem=problem
                        on_signed_in=Callback::new(move |user| session.set(SessionState::SignedIn(user)))
                    />
                }.into_any(),
                SessionState::SignedIn(user) => view! { <SignedIn user=user/> }.into_any(),
            }}
        </Router>
    }
}

/// The app for a signed-in person: starts sync and routes between pages.
#[component]
fn SignedIn(user: CurrentUser) -> impl IntoView {
    let sync = SyncClient::new(user.user_id);
    provide_context(sync);
    provide_context(user.clone());
    sync.start();
    view! {
        <Header user=Some(user)/>
        <div class="nhsuk-width-container">
            <main class="nhsuk-main-wrapper" id="maincontent">
                <SessionEnded/>
                <RefusedChanges/>
                <ErrorBoundary fallback=|errors| view! {
                    <div class="nhsuk-error-summary" role="alert">
                        <h2 class="nhsuk-error-summary__title">"Something went wrong on this page"</h2>
                        <ul class="nhsuk-list nhsuk-error-summary__list">
                            {move || errors.get().into_iter().map(|(_, e)| view! { <li>{e.to_string()}</li> }).collect_view()}
                        </ul>
                    </div>
                }>
                    <Routes fallback=NotFound>
                        <Route path=path!("/") view=TeamsPage/>
                        <Route path=path!("/teams/:id") view=TeamPage/>
                        <Route path=path!("/people") view=PeoplePage/>
                        <Route path=path!("/meetings/:id") view=MeetingPage/>
                        <Route path=path!("/meetings/:id/pack") view=PackPage/>
                        <Route path=path!("/items/:id/brief") view=BriefPage/>
                        <Route path=path!("/actions") view=MyActionsPage/>
                        <Route path=path!("/teams/:id/actions") view=TeamActionsPage/>
                        <Route path=path!("/patients/:id") view=PatientPage/>
                        <Route path=path!("/availability") view=AvailabilityPage/>
                        <Route path=path!("/availability/:person") view=AvailabilityPage/>
                        <Route path=path!("/teams/:id/find-a-time") view=FindTimePage/>
                    </Routes>
                </ErrorBoundary>
            </main>
        </div>
    }
}
