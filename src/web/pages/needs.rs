//! "What needs you", the top of the home page: the signed-in person's week as the core works it
//! out (`core::needs`), each line a link to where it is done.

use chrono::Utc;
use leptos::prelude::*;

use crate::core::action::ActionStatus;
use crate::core::api::CurrentUser;
use crate::core::attendance::AttendanceStatus;
use crate::core::needs::{CoordinatorAlert, WhatNeedsMe};
use crate::core::uk_time;
use crate::web::client::accounts::use_without_accounts_of_teams;
use crate::web::client::sync::SyncClient;
use crate::web::routes::Page;
use crate::web::views::team::teams_coordinated_by;

/// The person's meetings, briefs, actions and requests, and a coordinator's warnings; a single
/// sentence when nothing needs them.
#[component]
pub fn WhatNeedsYou() -> impl IntoView {
    let sync = expect_context::<SyncClient>();
    let me = expect_context::<CurrentUser>();
    let cannot_sign_in =
        use_without_accounts_of_teams(move || sync.read(|r| teams_coordinated_by(r, me.person_id)));
    let needs = Memo::new(move |_| {
        cannot_sign_in
            .with(|without| sync.read(|r| WhatNeedsMe::of(r, me.person_id, Utc::now(), without)))
    });
    let roles = |roles: &[crate::core::Role]| {
        roles
            .iter()
            .map(|r| r.label())
            .collect::<Vec<_>>()
            .join(", ")
    };
    view! {
        <section aria-labelledby="needs-title" data-testid="what-needs-you">
            <h1 id="needs-title">"What needs you"</h1>
            {move || needs.with(|n| n.is_empty()).then(|| view! {
                <p class="nhsuk-body" data-testid="nothing-needs-you">"Nothing needs you this week: no meetings, briefs or actions due."</p>
            })}
            {move || needs.with(|n| (!n.coordinator.is_empty()).then(|| view! {
                <h2 class="nhsuk-heading-m">"Meetings you run: to sort out"</h2>
                <ul class="nhsuk-list mdt-needs" data-testid="needs-coordinator">
                    {n.coordinator.iter().map(|alert| {
                        let (text, meeting_id) = match alert {
                            CoordinatorAlert::NoQuorum { meeting_id, team_name, starts_at, missing } => (
                                format!("{team_name}, {}: nobody is expected for {}", uk_time::format_uk(*starts_at), roles(missing)),
                                *meeting_id,
                            ),
                            CoordinatorAlert::QuorumNotConfirmed { meeting_id, team_name, starts_at, unconfirmed } => (
                                format!("{team_name}, {}: not yet confirmed who comes for {}", uk_time::format_uk(*starts_at), roles(unconfirmed)),
                                *meeting_id,
                            ),
                            CoordinatorAlert::BriefsNotReady { meeting_id, team_name, starts_at, not_ready, due } => (
                                format!(
                                    "{team_name}, {}: {not_ready} brief{} not ready (due by {})",
                                    uk_time::format_uk(*starts_at),
                                    if *not_ready == 1 { "" } else { "s" },
                                    uk_time::format_uk(*due)
                                ),
                                *meeting_id,
                            ),
                        };
                        let warning = matches!(alert, CoordinatorAlert::NoQuorum { .. });
                        view! {
                            <li class:mdt-warning=warning><a href=Page::Meeting(meeting_id).href()>{text}</a></li>
                        }
                    }).collect_view()}
                </ul>
            }))}
            {move || needs.with(|n| (!n.meetings.is_empty()).then(|| view! {
                <h2 class="nhsuk-heading-m">"Your meetings this week"</h2>
                <ul class="nhsuk-list mdt-needs" data-testid="needs-meetings">
                    {n.meetings.iter().map(|m| {
                        let answer = if m.answer == AttendanceStatus::Invited {
                            view! { <strong class="nhsuk-tag nhsuk-tag--orange">"Not answered: say if you are coming"</strong> }.into_any()
                        } else {
                            view! { <span>{format!("Your answer: {}", m.answer.label())}</span> }.into_any()
                        };
                        view! {
                            <li>
                                <a href=Page::Meeting(m.meeting_id).href()>{format!("{}, {}", m.team_name, uk_time::format_uk(m.starts_at))}</a>
                                " · " {answer}
                            </li>
                        }
                    }).collect_view()}
                </ul>
            }))}
            {move || needs.with(|n| (!n.briefs_to_write.is_empty()).then(|| view! {
                <h2 class="nhsuk-heading-m">"Briefs to write"</h2>
                <ul class="nhsuk-list mdt-needs" data-testid="needs-write">
                    {n.briefs_to_write.iter().map(|t| view! {
                        <li>
                            <a href=Page::Brief(t.item_id).href()>{t.about.clone()}</a>
                            {format!(" · {}, due by {}", t.team_name, uk_time::format_uk(t.by))}
                            {t.late.then(|| view! { " " <strong class="nhsuk-tag nhsuk-tag--red">"Past the cut-off"</strong> })}
                        </li>
                    }).collect_view()}
                </ul>
            }))}
            {move || needs.with(|n| (!n.briefs_to_read.is_empty()).then(|| view! {
                <h2 class="nhsuk-heading-m">"Briefs to read before the meeting"</h2>
                <ul class="nhsuk-list mdt-needs" data-testid="needs-read">
                    {n.briefs_to_read.iter().map(|t| view! {
                        <li>
                            <a href=Page::Brief(t.item_id).href()>{t.about.clone()}</a>
                            {format!(" · {}, meeting {}", t.team_name, uk_time::format_uk(t.by))}
                        </li>
                    }).collect_view()}
                </ul>
            }))}
            {move || needs.with(|n| (!n.actions.is_empty()).then(|| view! {
                <h2 class="nhsuk-heading-m">"Your actions"</h2>
                <ul class="nhsuk-list mdt-needs" data-testid="needs-actions">
                    {n.actions.iter().map(|a| {
                        let target = a.patient_id.map_or(Page::MyActions, Page::Patient);
                        let about = (!a.about.is_empty()).then(|| format!(" · for {}", a.about));
                        view! {
                            <li>
                                <a href=target.href()>{a.description.clone()}</a>
                                {about}
                                {format!(" · due {}", uk_time::format_date(a.due))}
                                {a.overdue.then(|| view! { " " <strong class="nhsuk-tag nhsuk-tag--red">"Overdue"</strong> })}
                                {(a.status == ActionStatus::Proposed).then(|| view! { " " <strong class="nhsuk-tag nhsuk-tag--orange">"Accept or decline it"</strong> })}
                            </li>
                        }
                    }).collect_view()}
                </ul>
                <p class="nhsuk-body"><a href=Page::MyActions.href()>"All your actions"</a></p>
            }))}
            {move || needs.with(|n| (!n.requested.is_empty()).then(|| view! {
                <h2 class="nhsuk-heading-m">"Items you asked for"</h2>
                <ul class="nhsuk-list mdt-needs" data-testid="needs-requested">
                    {n.requested.iter().map(|r| view! {
                        <li>
                            <a href=Page::Meeting(r.meeting_id).href()>{r.about.clone()}</a>
                            {format!(" · {}, discussed at about {}", r.team_name, uk_time::format_uk(r.discussed_at))}
                            {(r.deferrals > 0).then(|| format!(" (deferred {}×)", r.deferrals))}
                        </li>
                    }).collect_view()}
                </ul>
            }))}
        </section>
    }
}
