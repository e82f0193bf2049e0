//! "My actions": everything I own across all my teams, overdue first, then by due date.

use chrono::Utc;
use leptos::prelude::*;

use crate::core::api::CurrentUser;
use crate::web::client::sync::SyncClient;
use crate::web::components::action_card::ActionCard;
use crate::web::views::actions::{action_cards, Directory};

/// `/actions`.
#[component]
pub fn MyActionsPage() -> impl IntoView {
    let sync = expect_context::<SyncClient>();
    let me = expect_context::<CurrentUser>();
    let show_finished = RwSignal::new(false);
    let cards = Memo::new(move |_| {
        let finished = show_finished.get();
        sync.read(|r| {
            let dir = Directory::load(r);
            action_cards(r, &dir, Utc::now(), |a| {
                a.owner_id == me.person_id && (finished || a.status.is_open())
            })
        })
    });
    view! {
        <h1>"My actions"</h1>
        <p class="nhsuk-body">"Actions you own in all your teams. Overdue ones come first, then by due date."</p>
        <div class="nhsuk-checkboxes">
            <div class="nhsuk-checkboxes__item">
                <input class="nhsuk-checkboxes__input" id="show-finished" type="checkbox"
                    prop:checked=move || show_finished.get() on:change=move |ev| show_finished.set(event_target_checked(&ev))/>
                <label class="nhsuk-label nhsuk-checkboxes__label" for="show-finished">"Show done and cancelled actions"</label>
            </div>
        </div>
        {move || cards.with(|c| c.is_empty()).then(|| view! {
            <p class="nhsuk-body" data-testid="no-actions">"You have no open actions."</p>
        })}
        <ul class="mdt-card-list" data-testid="my-actions">
            <For each=move || cards.get() key=|c| (c.id, c.action.clone(), c.history.len(), c.overdue) children=|card| view! { <ActionCard card=card/> }/>
        </ul>
    }
}
