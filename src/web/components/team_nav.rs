//! The team's own navigation, on each of its pages: its meetings, calendar, actions, a time
//! for a meeting, people, attendance, measures and details, each a page of its own (one job a
//! page), the one shown marked for assistive technology and by sight.

use leptos::prelude::*;
use uuid::Uuid;

use crate::core::api::CurrentUser;
use crate::core::entities::Team;
use crate::web::client::sync::SyncClient;
use crate::web::components::RecordNotHere;
use crate::web::routes::Page;

/// What someone who cannot open a team's page is told, and where to go instead.
pub const TEAM_NOT_OPEN: &str = "You cannot open this team: you are not one of its members or observers, or it has been removed. Ask the team's coordinator to add you if you need it.";
/// The same for a site administrator, whose role is accounts, not teams' records.
pub const TEAM_NOT_OPEN_ADMIN: &str = "You cannot open this team: as a site administrator you manage accounts, not teams' meetings and patients. To see the team, ask its coordinator to add you as a member or observer.";

/// A team's page when the team is one of the person's (on this device); otherwise, once the
/// copy is up to date, that they cannot open it and the way back — never an empty page with
/// controls that do nothing, for someone from another team or a site administrator alike.
#[component]
pub fn TeamOpens(team_id: Uuid, children: ChildrenFn) -> impl IntoView {
    let sync = expect_context::<SyncClient>();
    let site_admin = use_context::<CurrentUser>().is_some_and(|me| me.site_admin);
    let here = Memo::new(move |_| sync.entity::<Team>(team_id).is_some());
    move || {
        if here.get() {
            children().into_any()
        } else {
            view! {
                <a class="nhsuk-back-link" href=Page::Teams.href()>"Back to your teams"</a>
                <h1>"Team"</h1>
                <RecordNotHere what="the team" missing=if site_admin { TEAM_NOT_OPEN_ADMIN } else { TEAM_NOT_OPEN }/>
            }
            .into_any()
        }
    }
}

/// The team's pages in the order the navigation lists them.
fn team_pages(team_id: Uuid) -> [(Page, &'static str); 8] {
    [
        (Page::Team(team_id), "Meetings"),
        (Page::TeamCalendar(team_id), "Calendar"),
        (Page::TeamActions(team_id), "Actions"),
        (Page::FindTime(team_id), "Find a time"),
        (Page::TeamPeople(team_id), "People"),
        (Page::TeamAttendance(team_id), "Attendance"),
        (Page::TeamMeasures(team_id), "Measures"),
        (Page::TeamDetails(team_id), "Team details"),
    ]
}

/// The back link, the team's name as the page's heading, and the team's navigation with
/// `current` marked. Observers are told they read only; an archived team says so.
#[component]
pub fn TeamHeader(team_id: Uuid, current: Page) -> impl IntoView {
    let sync = expect_context::<SyncClient>();
    let team = Memo::new(move |_| sync.entity::<Team>(team_id));
    let may_write = crate::web::components::may_change_team(team_id);
    view! {
        <a class="nhsuk-back-link" href=Page::Teams.href()>"Back to your teams"</a>
        <h1>{move || team.with(|t| t.as_ref().map_or_else(|| "Team".to_string(), |t| t.name.clone()))}</h1>
        <TeamNav team_id=team_id current=current/>
        {move || (!may_write.get()).then(|| view! {
            <div class="nhsuk-inset-text" data-testid="read-only"><p>"You observe this team: you can read its meetings, agendas and briefs but not change them."</p></div>
        })}
        {move || team.with(|t| t.as_ref().is_some_and(|t| t.archived)).then(|| view! {
            <div class="nhsuk-warning-callout" data-testid="archived"><h2 class="nhsuk-warning-callout__label">"Archived"</h2>
            <p>"This team is archived: it is kept, with its meetings, patients and history, but is not on anyone's list of teams. Nothing in it can be added or changed until its coordinator restores it."</p></div>
        })}
    }
}

/// The team's navigation alone, with `current` marked (for team pages with their own heading).
#[component]
pub fn TeamNav(team_id: Uuid, current: Page) -> impl IntoView {
    view! {
        <nav class="mdt-subnav" aria-label="Team">
            <ul class="mdt-subnav__list">
                {team_pages(team_id).into_iter().map(|(page, text)| view! {
                    <li><a class="mdt-subnav__link" href=page.href() aria-current=(page == current).then_some("page")>{text}</a></li>
                }).collect_view()}
            </ul>
        </nav>
    }
}
