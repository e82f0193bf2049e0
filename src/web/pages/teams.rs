//! The home page: what needs you this week, then the teams you belong to and their next
//! meetings.

use chrono::Utc;
use leptos::prelude::*;

use crate::core::uk_time;
use crate::web::client::sync::SyncClient;
use crate::web::pages::needs::WhatNeedsYou;
use crate::web::routes::Page;
use crate::web::views::team::TeamSummary;

/// Lists the signed-in person's teams, each with its next planned meeting.
#[component]
pub fn TeamsPage() -> impl IntoView {
    let sync = expect_context::<SyncClient>();
    let teams = move || sync.read(|r| TeamSummary::list(r, Utc::now()));
    // Archived teams are kept, and listed apart so their coordinator can restore them.
    let archived = move || {
        teams()
            .into_iter()
            .filter(|t| t.team.archived)
            .map(|t| (t.id, t.team.name))
            .collect::<Vec<_>>()
    };
    let teams = move || {
        teams()
            .into_iter()
            .filter(|t| !t.team.archived)
            .collect::<Vec<_>>()
    };
    view! {
        <WhatNeedsYou/>
        // On a new device the teams come with its first sync: nothing is said of them before
        // (and nothing already on the screen is pushed down when they come).
        {move || sync.holds_copy().then(|| view! {
        <h2>"Your teams"</h2>
        <p class="nhsuk-body">"The multidisciplinary teams you coordinate or belong to."</p>
        <a class="nhsuk-button" href=Page::NewTeam.href() role="button" draggable="false">"Create a team"</a>
        {move || {
            let teams = teams();
            if teams.is_empty() {
                view! {
                    <p class="nhsuk-body" data-testid="no-teams">"You are not in any team yet. Create one, or ask your MDT coordinator to add you."</p>
                }.into_any()
            } else {
                view! {
                    <ul class="nhsuk-list mdt-cards" data-testid="team-list">
                        {teams.into_iter().map(|TeamSummary { id, team, next_meeting: next, declined }| view! {
                            <li class="nhsuk-card">
                                <div class="nhsuk-card__content">
                                    <h3 class="nhsuk-card__heading nhsuk-heading-m">
                                        <a class="nhsuk-card__link" href=Page::Team(id).href()>{team.name.clone()}</a>
                                    </h3>
                                    <p class="nhsuk-card__description">
                                        {format!("{} member{} · ", team.member_ids.len(), if team.member_ids.len() == 1 { "" } else { "s" })}
                                        {match next {
                                            Some(t) => format!("next meeting {}", uk_time::format_uk(t)),
                                            None => "no meeting planned".into(),
                                        }}
                                    </p>
                                    {(declined > 0).then(|| view! {
                                        <p class="nhsuk-body mdt-warning">
                                            <a href=Page::TeamActions(id).href()>{format!("{declined} declined action{} need{} a new owner", if declined == 1 { "" } else { "s" }, if declined == 1 { "s" } else { "" })}</a>
                                        </p>
                                    })}
                                </div>
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }
        }}
        {move || {
            let archived = archived();
            (!archived.is_empty()).then(|| view! {
                <h3>"Archived teams"</h3>
                <ul class="nhsuk-list" data-testid="archived-teams">
                    {archived.into_iter().map(|(id, name)| view! {
                        <li><a href=Page::Team(id).href()>{name}</a></li>
                    }).collect_view()}
                </ul>
            })
        }}
        })}
    }
}
