//! The home page: the teams you belong to and their next meetings.

use chrono::Utc;
use leptos::prelude::*;

use crate::core::entities::{Meeting, MeetingStatus, Team};
use crate::core::uk_time;
use crate::web::sync::SyncClient;

/// Lists the signed-in person's teams, each with its next planned meeting.
#[component]
pub fn TeamsPage() -> impl IntoView {
    let sync = expect_context::<SyncClient>();
    let teams = move || {
        sync.replica.with(|r| {
            let now = Utc::now();
            let meetings = r.all::<Meeting>();
            let mut teams: Vec<_> = r
                .all::<Team>()
                .into_iter()
                .map(|(view, team)| {
                    let next = meetings
                        .iter()
                        .filter(|(_, m)| {
                            m.team_id == view.id
                                && m.status == MeetingStatus::Planned
                                && m.ends_at > now
                        })
                        .map(|(_, m)| m.starts_at)
                        .min();
                    (view.id, team, next)
                })
                .collect();
            teams.sort_by_key(|(_, team, _)| team.name.to_lowercase());
            teams
        })
    };
    view! {
        <h1>"Your teams"</h1>
        <p class="nhsuk-body">"The multidisciplinary teams you coordinate or belong to."</p>
        <a class="nhsuk-button" href="/teams/new" role="button" draggable="false">"Create a team"</a>
        {move || {
            let teams = teams();
            if teams.is_empty() {
                view! {
                    <p class="nhsuk-body" data-testid="no-teams">"You are not in any team yet. Create one, or ask your MDT coordinator to add you."</p>
                }.into_any()
            } else {
                view! {
                    <ul class="nhsuk-list mdt-cards" data-testid="team-list">
                        {teams.into_iter().map(|(id, team, next)| view! {
                            <li class="nhsuk-card nhsuk-card--clickable">
                                <div class="nhsuk-card__content">
                                    <h2 class="nhsuk-card__heading nhsuk-heading-m">
                                        <a class="nhsuk-card__link" href=format!("/teams/{id}")>{team.name.clone()}</a>
                                    </h2>
                                    <p class="nhsuk-card__description">
                                        {format!("{} members · ", team.member_ids.len())}
                                        {match next {
                                            Some(t) => format!("next meeting {}", uk_time::format_uk(t)),
                                            None => "no meeting planned".into(),
                                        }}
                                    </p>
                                </div>
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }
        }}
    }
}
