//! Closing an agenda item with its outcome: a decision with its actions, no action needed, or
//! deferred.

use chrono::{Duration, NaiveDate, Utc};
use leptos::prelude::*;
use uuid::Uuid;

use crate::core::action::{Action, ActionStatus};
use crate::core::agenda::{AgendaItem, ItemStatus, Outcome};
use crate::core::api::CurrentUser;
use crate::core::entities::Entity;
use crate::core::uk_time;
use crate::web::client::sync::SyncClient;
use crate::web::components::{described_by, problem_at, FieldError, Problem, ProblemSummary};
use crate::web::views::agenda::AgendaView;

/// One action being written into the outcome form.
#[derive(Clone, Copy)]
struct ActionDraft {
    description: RwSignal<String>,
    owner: RwSignal<Option<Uuid>>,
    due: RwSignal<String>,
}

impl ActionDraft {
    fn new() -> Self {
        let due = uk_time::uk_today(Utc::now()) + Duration::days(14);
        Self {
            description: RwSignal::new(String::new()),
            owner: RwSignal::new(None),
            due: RwSignal::new(due.format("%Y-%m-%d").to_string()),
        }
    }
}

/// The outcome of one item, recorded during or after the meeting.
#[component]
pub fn OutcomeForm(
    data: Memo<Option<AgendaView>>,
    item_id: Uuid,
    on_done: Callback<()>,
) -> impl IntoView {
    let sync = expect_context::<SyncClient>();
    let me = expect_context::<CurrentUser>();
    let existing = data.with_untracked(|d| d.as_ref().and_then(|v| v.item(item_id).cloned()));
    let (kind0, text0) = match existing.as_ref().and_then(|i| i.outcome.clone()) {
        Some(Outcome::Decision { text }) => ("decision", text),
        Some(Outcome::NoAction { reason }) => ("no_action", reason),
        Some(Outcome::Deferred { reason }) => ("deferred", reason),
        None => ("decision", String::new()),
    };
    let kind = RwSignal::new(kind0);
    let text = RwSignal::new(text0);
    let has_actions = data.with_untracked(|d| {
        d.as_ref()
            .is_some_and(|v| v.actions.iter().any(|(_, a)| a.item_id == Some(item_id)))
    });
    let drafts = RwSignal::new(if has_actions {
        Vec::new()
    } else {
        vec![ActionDraft::new()]
    });
    let errors = RwSignal::new(Vec::<Problem>::new());
    let members =
        move || data.with(|d| d.as_ref().map(AgendaView::member_names).unwrap_or_default());

    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(item) = existing.clone() else { return };
        let text_now = text.get_untracked().trim().to_owned();
        let outcome = match kind.get_untracked() {
            "no_action" => Outcome::NoAction { reason: text_now },
            "deferred" => Outcome::Deferred { reason: text_now },
            _ => Outcome::Decision { text: text_now },
        };
        let closed = AgendaItem {
            status: ItemStatus::Discussed,
            outcome: Some(outcome.clone()),
            ..item.clone()
        };
        // Every problem at once, each naming the field at fault, so one press of "Save
        // outcome" shows all there is to put right.
        let text_id = format!("outcome-{item_id}-text");
        let mut problems = Vec::new();
        if let Err(e) = closed.validate() {
            problems.push(Problem::at(text_id.clone(), e.message));
        }
        let mut actions = Vec::new();
        if matches!(outcome, Outcome::Decision { .. }) {
            for (n, d) in drafts.get_untracked().iter().enumerate() {
                let label = format!("Action {}", n + 1);
                let field = |name: &str| format!("action-{item_id}-{n}-{name}");
                let description = d.description.get_untracked().trim().to_owned();
                let before = problems.len();
                if description.is_empty() {
                    problems.push(Problem::at(
                        field("description"),
                        format!("{label}: say what needs doing"),
                    ));
                }
                let owner = d.owner.get_untracked();
                if owner.is_none() {
                    problems.push(Problem::at(
                        field("owner"),
                        format!("{label}: choose the one person who owns it"),
                    ));
                }
                let due = NaiveDate::parse_from_str(d.due.get_untracked().trim(), "%Y-%m-%d").ok();
                match due {
                    None => problems.push(Problem::at(
                        field("due"),
                        format!("{label}: enter the due date"),
                    )),
                    Some(due) => {
                        if let Err(e) = crate::core::action::check_due_not_past(due, Utc::now()) {
                            problems
                                .push(Problem::at(field("due"), format!("{label}: {}", e.message)));
                        }
                    }
                }
                let (Some(owner), Some(due), true) = (owner, due, problems.len() == before) else {
                    continue;
                };
                let action = Action {
                    team_id: item.team_id,
                    description,
                    owner_id: owner,
                    due,
                    patient_id: item.patient_id,
                    meeting_id: Some(item.meeting_id),
                    item_id: Some(item_id),
                    status: ActionStatus::Proposed,
                    completion_note: String::new(),
                    reason: String::new(),
                };
                match action.validate() {
                    Ok(()) => actions.push(action),
                    Err(e) => problems.push(Problem {
                        field_id: e.field.as_deref().map(field),
                        message: format!("{label}: {}", e.message),
                    }),
                }
            }
            if actions.is_empty() && !has_actions && problems.is_empty() {
                problems.push(Problem::at(
                    format!("action-{item_id}-0-description"),
                    "A decision needs at least one action with one owner",
                ));
            }
        }
        if !problems.is_empty() {
            errors.set(problems);
            return;
        }
        for action in &actions {
            if let Err(e) = sync.create_action(action, me.person_id) {
                errors.set(vec![Problem::general(e.message)]);
                return;
            }
        }
        match sync.save(item_id, &closed) {
            Ok(()) => on_done.run(()),
            Err(e) => errors.set(vec![Problem::general(e.message)]),
        }
    };

    let text_error = problem_at(errors.into(), format!("outcome-{item_id}-text"));
    let text_label = move || match kind.get() {
        "no_action" => "Why no action is needed",
        "deferred" => "Why it is deferred (it moves to the next meeting)",
        _ => "The decision",
    };
    view! {
        <div class="mdt-panel mdt-outcome" data-testid="outcome-form">
            <h4 class="nhsuk-heading-s">"Record the outcome"</h4>
            <ProblemSummary problems=errors/>
            <form on:submit=save novalidate>
                <div class="nhsuk-form-group">
                    <fieldset class="nhsuk-fieldset">
                        <legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">"Outcome"</legend>
                        <div class="nhsuk-radios nhsuk-radios--inline">
                            {[("decision", "Decision"), ("no_action", "No action needed"), ("deferred", "Deferred")].into_iter().map(|(value, label)| {
                                let id = format!("outcome-{item_id}-{value}");
                                view! {
                                    <div class="nhsuk-radios__item">
                                        <input class="nhsuk-radios__input" id=id.clone() name=format!("outcome-{item_id}") type="radio"
                                            prop:checked=move || kind.get() == value on:change=move |_| kind.set(value)/>
                                        <label class="nhsuk-label nhsuk-radios__label" for=id>{label}</label>
                                    </div>
                                }
                            }).collect_view()}
                        </div>
                    </fieldset>
                </div>
                <div class="nhsuk-form-group" class:nhsuk-form-group--error=move || text_error.get().is_some()>
                    <label class="nhsuk-label" for=format!("outcome-{item_id}-text")>{text_label}</label>
                    <FieldError field_id=format!("outcome-{item_id}-text") error=text_error/>
                    <textarea class="nhsuk-textarea" class:nhsuk-textarea--error=move || text_error.get().is_some()
                        id=format!("outcome-{item_id}-text") rows="2"
                        aria-describedby=described_by(format!("outcome-{item_id}-text"), text_error)
                        prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))></textarea>
                </div>
                {move || (kind.get() == "decision").then(|| view! {
                    <fieldset class="nhsuk-fieldset mdt-subpanel">
                        <legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">"Actions: one owner and a due date each"</legend>
                        {move || drafts.get().into_iter().enumerate().map(|(n, d)| {
                            let prefix = format!("action-{item_id}-{n}");
                            let label = format!("Action {}", n + 1);
                                let problems = Signal::from(errors);
                            let [description_error, owner_error, due_error] = ["description", "owner", "due"]
                                .map(|name| problem_at(problems, format!("{prefix}-{name}")));
                            view! {
                                <div class="mdt-action-draft">
                                    <div class="nhsuk-form-group" class:nhsuk-form-group--error=move || description_error.get().is_some()>
                                        <label class="nhsuk-label" for=format!("{prefix}-description")>{format!("{label}: what needs doing")}</label>
                                        <FieldError field_id=format!("{prefix}-description") error=description_error/>
                                        <input class="nhsuk-input" class:nhsuk-input--error=move || description_error.get().is_some()
                                            id=format!("{prefix}-description") type="text"
                                            aria-describedby=described_by(format!("{prefix}-description"), description_error)
                                            prop:value=move || d.description.get() on:input=move |ev| d.description.set(event_target_value(&ev))/>
                                    </div>
                                    <div class="mdt-inline-fields">
                                        <div class="nhsuk-form-group" class:nhsuk-form-group--error=move || owner_error.get().is_some()>
                                            <label class="nhsuk-label" for=format!("{prefix}-owner")>{format!("{label}: owner")}</label>
                                            <FieldError field_id=format!("{prefix}-owner") error=owner_error/>
                                            <select class="nhsuk-select" class:nhsuk-select--error=move || owner_error.get().is_some()
                                                id=format!("{prefix}-owner")
                                                aria-describedby=described_by(format!("{prefix}-owner"), owner_error)
                                                on:change=move |ev| d.owner.set(Uuid::parse_str(&event_target_value(&ev)).ok())>
                                                <option value="" selected=move || d.owner.get().is_none()>"Choose one person"</option>
                                                {move || members().into_iter().map(|(pid, name)| view! {
                                                    <option value=pid.to_string() selected=move || d.owner.get() == Some(pid)>{name}</option>
                                                }).collect_view()}
                                            </select>
                                        </div>
                                        <div class="nhsuk-form-group" class:nhsuk-form-group--error=move || due_error.get().is_some()>
                                            <label class="nhsuk-label" for=format!("{prefix}-due")>{format!("{label}: due date")}</label>
                                            <FieldError field_id=format!("{prefix}-due") error=due_error/>
                                            <input class="nhsuk-input nhsuk-input--width-10" class:nhsuk-input--error=move || due_error.get().is_some()
                                                id=format!("{prefix}-due") type="date"
                                                aria-describedby=described_by(format!("{prefix}-due"), due_error)
                                                prop:value=move || d.due.get() on:input=move |ev| d.due.set(event_target_value(&ev))/>
                                        </div>
                                    </div>
                                </div>
                            }
                        }).collect_view()}
                        <button type="button" class="nhsuk-button nhsuk-button--secondary"
                            on:click=move |_| drafts.update(|d| d.push(ActionDraft::new()))>"Add another action"</button>
                    </fieldset>
                })}
                <div class="nhsuk-button-group">
                    <button class="nhsuk-button" type="submit">"Save outcome"</button>
                    <button class="nhsuk-button nhsuk-button--secondary" type="button" on:click=move |_| on_done.run(())>"Cancel"</button>
                </div>
            </form>
        </div>
    }
}
