//! One action with what can be done to it: accept, decline, mark done, give to someone else,
//! cancel — each through the core state machine, each recorded in the action's history.

use leptos::prelude::*;
use uuid::Uuid;

use crate::core::action::{ActionChange, ActionStatus, ChangedBy};
use crate::core::api::CurrentUser;
use crate::core::uk_time;
use crate::web::client::sync::SyncClient;
use crate::web::routes::Page;
use crate::web::views::actions::ActionCardData;

/// Which small form is open under the card.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    None,
    Decline,
    Complete,
    Cancel,
}

/// An action card with its controls.
#[component]
pub fn ActionCard(card: ActionCardData) -> impl IntoView {
    let sync = expect_context::<SyncClient>();
    let me = expect_context::<CurrentUser>();
    let id = card.id;
    let step = RwSignal::new(Step::None);
    let text = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let a = card.action.clone();
    let is_owner = a.owner_id == me.person_id;
    let is_coordinator = card.coordinator == Some(me.person_id);
    // A coordinator answers for an owner who cannot sign in; the history names them both.
    let for_owner =
        (!is_owner && is_coordinator && card.owner_cannot_sign_in).then(|| card.owner_name.clone());
    let answers = is_owner || for_owner.is_some();
    let owner_name = StoredValue::new(for_owner);
    let apply = move |change: ActionChange| {
        let result = owner_name.with_value(|name| {
            let by = match name {
                Some(name) => ChangedBy::for_owner(me.person_id, name),
                None => ChangedBy::person(me.person_id),
            };
            sync.change_action(id, &change, by)
        });
        match result {
            Ok(()) => {
                step.set(Step::None);
                text.set(String::new());
                error.set(None);
            }
            Err(e) => error.set(Some(e.message)),
        }
    };
    let status = a.status;
    let members = card.members.clone();
    let field_label = move || match step.get() {
        Step::Decline if !is_owner => ("Why can they not take this on?", "Decline the action"),
        Step::Decline => ("Why can you not take this on?", "Decline the action"),
        Step::Complete => ("What was done?", "Mark as done"),
        Step::Cancel => ("Why is it no longer needed?", "Cancel the action"),
        Step::None => ("", ""),
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let t = text.get_untracked();
        apply(match step.get_untracked() {
            Step::Decline => ActionChange::Decline { reason: t },
            Step::Complete => ActionChange::Complete { note: t },
            _ => ActionChange::Cancel { reason: t },
        });
    };
    let field_id = format!("action-{id}-text");
    view! {
        <li class:mdt-card--overdue=card.overdue data-testid="action-card">
            <h3 class="nhsuk-heading-s">{a.description.clone()}</h3>
            <p class="nhsuk-body-s">
                {format!("{} · owner: {}", card.team_name, card.owner_name)}
                {(!card.owner_organisation.is_empty()).then(|| format!(" ({})", card.owner_organisation))}
            </p>
            {card.patient.clone().map(|(pid, line)| view! {
                <p class="nhsuk-body-s">"For "<a href=Page::Patient(pid).href()>{line}</a></p>
            })}
            <p class="nhsuk-body-s">
                <strong class="nhsuk-tag" class:nhsuk-tag--green={status == ActionStatus::Done} class:nhsuk-tag--grey={status == ActionStatus::Cancelled}
                    class:nhsuk-tag--orange={status == ActionStatus::Declined} data-testid="action-status">{status.label()}</strong>
                " Due "{uk_time::format_date(a.due)}
                {card.overdue.then(|| view! { " " <strong class="nhsuk-tag nhsuk-tag--red">"Overdue"</strong> })}
            </p>
            {(status == ActionStatus::Declined).then(|| view! {
                <p class="mdt-warning">{format!("Declined: {}", a.reason)}
                    {is_coordinator.then_some(" Give it to someone else or cancel it.")}</p>
            })}
            {(status == ActionStatus::Done).then(|| view! { <p class="nhsuk-body-s">{format!("Done: {}", a.completion_note)}</p> })}
            {(answers && !is_owner && status.is_open()).then(|| view! {
                <p class="nhsuk-inset-text" data-testid="answer-for-owner">
                    {format!("{} does not sign in: as the team's coordinator you answer for them once you have asked them. The history records that you did.", card.owner_name)}
                </p>
            })}
            {move || error.get().map(|e| view! { <p class="nhsuk-error-message" role="alert">{e}</p> })}
            // While a step's form is open its own button finishes it ("Mark as done" under
            // "What was done?"): the buttons that open steps step aside, so no two say the same.
            <div class="nhsuk-button-group" style:display=move || (step.get() != Step::None).then_some("none")>
                {(is_owner && status == ActionStatus::Proposed).then(|| view! {
                    <button type="button" class="nhsuk-button" on:click=move |_| apply(ActionChange::Accept)>"Accept"</button>
                    <button type="button" class="nhsuk-button nhsuk-button--secondary" on:click=move |_| step.set(Step::Decline)>"Decline"</button>
                })}
                {(answers && !is_owner && status == ActionStatus::Proposed).then(|| {
                    let owner = card.owner_name.clone();
                    view! {
                        <button type="button" class="nhsuk-button" on:click=move |_| apply(ActionChange::Accept)>{format!("Accept for {owner}")}</button>
                        <button type="button" class="nhsuk-button nhsuk-button--secondary" on:click=move |_| step.set(Step::Decline)>"Decline for them"</button>
                    }
                })}
                {(status == ActionStatus::Accepted).then(|| view! {
                    <button type="button" class="nhsuk-button" on:click=move |_| step.set(Step::Complete)>"Mark done"</button>
                })}
                {(is_coordinator && status.is_open()).then(|| view! {
                    <button type="button" class="nhsuk-button nhsuk-button--secondary" on:click=move |_| step.set(Step::Cancel)>"Cancel action"</button>
                })}
            </div>
            {(is_coordinator && status.is_open()).then(|| {
                let select_id = format!("action-{id}-owner");
                view! {
                    <div class="nhsuk-form-group">
                        <label class="nhsuk-label" for=select_id.clone()>"Give to someone else"</label>
                        <select class="nhsuk-select" id=select_id
                            on:change=move |ev| if let Ok(owner) = Uuid::parse_str(&event_target_value(&ev)) { apply(ActionChange::Reassign { owner }) }>
                            {members.iter().map(|(pid, name)| view! {
                                <option value=pid.to_string() selected={*pid == a.owner_id}>{name.clone()}</option>
                            }).collect_view()}
                        </select>
                    </div>
                }
            })}
            {move || (step.get() != Step::None).then(|| {
                let (label, button): (&str, &str) = field_label();
                let field_id = field_id.clone();
                view! {
                    <form class="mdt-subpanel" on:submit=submit novalidate>
                        <div class="nhsuk-form-group">
                            <label class="nhsuk-label" for=field_id.clone()>{label}</label>
                            <textarea class="nhsuk-textarea" id=field_id rows="2" prop:value=move || text.get()
                                on:input=move |ev| text.set(event_target_value(&ev))></textarea>
                        </div>
                        <div class="nhsuk-button-group">
                            <button class="nhsuk-button" type="submit">{button}</button>
                            <button class="nhsuk-button nhsuk-button--secondary" type="button" on:click=move |_| step.set(Step::None)>"Back"</button>
                        </div>
                    </form>
                }
            })}
            {(!card.history.is_empty()).then(|| view! {
                <details class="nhsuk-details">
                    <summary class="nhsuk-details__summary"><span class="nhsuk-details__summary-text">"History"</span></summary>
                    <div class="nhsuk-details__text">
                        <ul class="nhsuk-list mdt-compact-list">{card.history.iter().map(|h| view! { <li>{h.clone()}</li> }).collect_view()}</ul>
                    </div>
                </details>
            })}
        </li>
    }
}
