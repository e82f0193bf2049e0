//! The team's people and what Find a time knows of each: their regular commitments and days
//! away. The coordinator records them for anyone who cannot sign in; everyone else keeps
//! their own.

use chrono::Utc;
use leptos::prelude::*;
use uuid::Uuid;

use crate::core::api::CurrentUser;
use crate::core::entities::Team;
use crate::core::uk_time;
use crate::web::client::accounts::use_members_without_accounts;
use crate::web::client::sync::SyncClient;
use crate::web::routes::Page;
use crate::web::views::team::{members_of, MemberLine};

/// `people` on the team page: each person, their role, what of their availability is recorded
/// and, for the coordinator, a way in to record it for people who cannot sign in.
#[component]
pub fn TeamPeople(team_id: Uuid) -> impl IntoView {
    let sync = expect_context::<SyncClient>();
    let me = expect_context::<CurrentUser>();
    let lines =
        Memo::new(move |_| sync.read(|r| members_of(r, team_id, uk_time::uk_today(Utc::now()))));
    let coordinating = Memo::new(move |_| {
        sync.entity::<Team>(team_id)
            .is_some_and(|t| t.coordinator_id == me.person_id)
    });
    let without = use_members_without_accounts(team_id);
    view! {
        <h2 id="team-people">"People and their availability"</h2>
        <p class="nhsuk-body">"Find a time keeps clear of the clinics, home-visit rounds and days away recorded here. People who sign in keep their own; the coordinator keeps them for anyone who cannot."</p>
        <dl class="nhsuk-summary-list" data-testid="team-people">
            {move || lines.get().into_iter().map(|line| {
                let cannot_sign_in = without.with(|w| w.as_ref().map(|w| w.contains(&line.id)));
                view! { <PersonRow line=line me=me.person_id coordinating=coordinating.get() cannot_sign_in=cannot_sign_in/> }
            }).collect_view()}
        </dl>
    }
}

#[component]
fn PersonRow(
    line: MemberLine,
    me: Uuid,
    coordinating: bool,
    /// `None`: not known (offline).
    cannot_sign_in: Option<bool>,
) -> impl IntoView {
    let recorded = match (line.commitments, line.absences) {
        (0, 0) => "Nothing recorded: free at any time as far as Find a time knows".to_string(),
        (c, a) => format!(
            "{c} regular commitment{}, {a} day{} away coming up",
            if c == 1 { "" } else { "s" },
            if a == 1 { "" } else { "s" }
        ),
    };
    let action = if line.id == me {
        Some((Page::MyAvailability, "Change your availability".to_string()))
    } else if coordinating && cannot_sign_in == Some(true) {
        Some((
            Page::Availability(line.id),
            format!("Record clinics and days away for {}", line.name),
        ))
    } else {
        None
    };
    view! {
        <div class="nhsuk-summary-list__row">
            <dt class="nhsuk-summary-list__key">
                {line.name.clone()}
                <span class="nhsuk-u-secondary-text-colour nhsuk-u-font-size-16">" "{line.role}{line.coordinator.then_some(", coordinator")}</span>
            </dt>
            <dd class="nhsuk-summary-list__value">
                {recorded}
                {(cannot_sign_in == Some(true)).then(|| view! { <br/><strong class="nhsuk-tag nhsuk-tag--grey">"Cannot sign in"</strong> })}
            </dd>
            <dd class="nhsuk-summary-list__actions">
                {action.map(|(page, text)| view! { <a href=page.href()>{text}</a> })}
            </dd>
        </div>
    }
}
