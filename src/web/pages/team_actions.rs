//! A team's actions: filter by owner, patient, status and overdue, with a live text filter, and
//! download them as CSV.

use chrono::Utc;
use leptos::prelude::*;
use uuid::Uuid;

use crate::core::action::{ActionFilter, ActionRow, ActionStatus};
use crate::core::api::CurrentUser;
use crate::core::entities::Team;
use crate::core::uk_time;
use crate::web::client::accounts::use_members_without_accounts;
use crate::web::client::api;
use crate::web::client::sync::SyncClient;
use crate::web::components::action_card::ActionCard;
use crate::web::components::markup::Markup;
use crate::web::components::team_nav::{TeamNav, TeamOpens};
use crate::web::pages::not_found::NotFound;
use crate::web::routes::{use_id, Page};
use crate::web::views::actions::{
    action_cards, action_rows, mark_owners_without_accounts, Directory,
};

/// Rows shown at first; "Show more" adds as many again.
pub const PAGE_ROWS: usize = 200;

/// Declined actions shown as cards before "Show all".
const DECLINED_CARDS: usize = 5;

/// `/teams/<id>/actions`.
#[component]
pub fn TeamActionsPage() -> impl IntoView {
    let id = use_id();
    move || match id.get() {
        Some(id) => {
            view! { <TeamOpens team_id=id><TeamActions team_id=id/></TeamOpens> }.into_any()
        }
        None => view! { <NotFound/> }.into_any(),
    }
}

/// The filterable list of one team's actions.
#[component]
pub fn TeamActions(
    team_id: Uuid,
    /// Rows shown at first (default [`PAGE_ROWS`]); "Show more" adds as many again.
    #[prop(optional)]
    page_rows: Option<usize>,
) -> impl IntoView {
    let page_rows = page_rows.unwrap_or(PAGE_ROWS);
    let sync = expect_context::<SyncClient>();
    let data = Memo::new(move |_| {
        sync.read(|r| {
            let dir = Directory::load(r);
            let rows = action_rows(r, &dir, Some(team_id));
            let team = dir
                .teams
                .get(&team_id)
                .map(|t| t.name.clone())
                .unwrap_or_default();
            let members = dir.members_of(team_id);
            let mut patients: Vec<(Uuid, String)> = dir
                .patients
                .iter()
                .filter(|(_, p)| p.team_id == team_id)
                .map(|(id, p)| (*id, p.identity_line()))
                .collect();
            patients.sort_by_cached_key(|(_, n)| n.to_lowercase());
            // Declined actions (rare) get full cards with their history, for reassignment.
            let declined = if rows
                .iter()
                .any(|row| row.action.status == ActionStatus::Declined)
            {
                action_cards(r, &dir, Utc::now(), |a| {
                    a.team_id == team_id && a.status == ActionStatus::Declined
                })
            } else {
                Vec::new()
            };
            (team, rows, members, patients, declined)
        })
    });
    let declined = Memo::new(move |_| data.with(|d| d.4.clone()));
    // For the coordinator: open actions of people who cannot sign in, to answer for them.
    let me = expect_context::<CurrentUser>();
    let without_accounts = use_members_without_accounts(team_id);
    let coordinating = Memo::new(move |_| {
        sync.entity::<Team>(team_id)
            .is_some_and(|t| t.coordinator_id == me.person_id)
    });
    let for_others = Memo::new(move |_| {
        if !coordinating.get() {
            return Vec::new();
        }
        without_accounts.with(|people| {
            let people = people.as_deref().unwrap_or_default();
            if people.is_empty() {
                return Vec::new();
            }
            let mut cards = sync.read(|r| {
                let dir = Directory::load(r);
                action_cards(r, &dir, Utc::now(), |a| {
                    a.team_id == team_id
                        && matches!(a.status, ActionStatus::Proposed | ActionStatus::Accepted)
                        && people.contains(&a.owner_id)
                })
            });
            mark_owners_without_accounts(&mut cards, people);
            cards
        })
    });
    // The filters' choices, apart, so a change to an action does not rewrite them.
    let owners = Memo::new(move |_| data.with(|d| d.2.clone()));
    let patients = Memo::new(move |_| data.with(|d| d.3.clone()));
    // Declined actions shown as full cards; a long backlog is shown a few at a time.
    let declined_shown = RwSignal::new(DECLINED_CARDS);
    let filter = RwSignal::new(ActionFilter {
        open_only: true,
        ..ActionFilter::default()
    });
    let limit = RwSignal::new(page_rows);
    let now = Utc::now();
    // Positions of the matching rows: a keystroke copies only the rows it shows.
    let filtered = Memo::new(move |_| {
        filter.with(|f| {
            data.with(|(_, rows, _, _, _)| {
                rows.iter()
                    .enumerate()
                    .filter(|(_, r)| f.matches(r, now))
                    .map(|(i, _)| i)
                    .collect::<Vec<usize>>()
            })
        })
    });
    // The coordinator chases an overdue action's owner by email (a button in its row).
    let chased = RwSignal::new(None::<Result<String, String>>);
    let chase = Action::new_local(move |action: &Uuid| {
        let body = crate::core::api::ChaseBody {
            item_id: None,
            action_id: Some(*action),
        };
        async move {
            let outcome = api::chase(&body)
                .await
                .map(|sent| {
                    format!(
                        "Sent: {} has been asked about the overdue action by email.",
                        sent.to
                    )
                })
                .map_err(|e| e.to_string());
            chased.set(Some(outcome));
        }
    });
    let on_table_click = move |ev: leptos::ev::MouseEvent| {
        use wasm_bindgen::JsCast;
        let Some(id) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|t| t.closest("button[data-chase]").ok().flatten())
            .and_then(|button| button.get_attribute("data-chase"))
            .and_then(|id| Uuid::parse_str(&id).ok())
        else {
            return;
        };
        chased.set(None);
        chase.dispatch(id);
    };
    // The rows shown, as markup: written straight from the rows, never copied.
    let shown_markup = move || {
        let limit = limit.get();
        let chasing = coordinating.get();
        filtered.with(|f| {
            data.with(|(_, rows, _, _, _)| {
                let mut body = String::new();
                for i in f.iter().take(limit) {
                    body.push_str(&row_markup(&rows[*i], now, chasing));
                }
                body
            })
        })
    };
    let set = move |change: Box<dyn Fn(&mut ActionFilter)>| {
        filter.update(|f| change(f));
        limit.set(page_rows);
    };
    view! {
        <a class="nhsuk-back-link" href=Page::Team(team_id).href()>"Back to the team"</a>
        <h1>{move || format!("Actions: {}", data.with(|d| d.0.clone()))}</h1>
        <TeamNav team_id=team_id current=Page::TeamActions(team_id)/>
        <p class="nhsuk-body"><a href=api::actions_csv_url(team_id) download="">"Download all the team's actions (CSV)"</a></p>
        {move || (!declined.with(Vec::is_empty)).then(|| view! {
            <section aria-labelledby="declined-title" data-testid="declined-actions">
                <h2 id="declined-title">"Declined: these need a new owner"</h2>
                <ul class="mdt-card-list">
                    <For each=move || declined.with(|d| d.iter().take(declined_shown.get()).cloned().collect::<Vec<_>>())
                        key=|c| (c.id, c.action.clone(), c.history.len()) children=|card| view! { <ActionCard card=card/> }/>
                </ul>
                {move || {
                    let total = declined.with(Vec::len);
                    let shown = declined_shown.get().min(total);
                    (shown < total).then(|| view! {
                        <button type="button" class="nhsuk-button nhsuk-button--secondary"
                            on:click=move |_| declined_shown.set(usize::MAX)>
                            {format!("Show all {total} declined actions (showing {shown})")}
                        </button>
                    })
                }}
            </section>
        })}
        {move || (!for_others.with(Vec::is_empty)).then(|| view! {
            <section aria-labelledby="for-others-title" data-testid="actions-for-others">
                <h2 id="for-others-title">"Waiting on people who do not sign in"</h2>
                <p class="nhsuk-body">"Ask them, then accept, decline or mark done for them here. Each answer is recorded in your name, for them."</p>
                <ul class="mdt-card-list">
                    <For each=move || for_others.get()
                        key=|c| (c.id, c.action.clone(), c.history.len()) children=|card| view! { <ActionCard card=card/> }/>
                </ul>
            </section>
        })}
        <div class="mdt-filters" role="search" aria-label="Filter actions">
            <div class="nhsuk-form-group">
                <label class="nhsuk-label" for="filter-text">"Search"</label>
                <input class="nhsuk-input nhsuk-input--width-20" id="filter-text" type="search" autocomplete="off"
                    on:input=move |ev| { let t = event_target_value(&ev); set(Box::new(move |f| f.text = t.clone())); }/>
            </div>
            <div class="nhsuk-form-group">
                <label class="nhsuk-label" for="filter-owner">"Owner"</label>
                <select class="nhsuk-select" id="filter-owner" inner_html=move || {
                        let chosen = filter.with_untracked(|f| f.owner);
                        owners.with(|o| options_markup("Anyone", o, chosen))
                    }
                    on:change=move |ev| { let v = Uuid::parse_str(&event_target_value(&ev)).ok(); set(Box::new(move |f| f.owner = v)); }>
                </select>
            </div>
            <div class="nhsuk-form-group">
                <label class="nhsuk-label" for="filter-patient">"Patient"</label>
                <select class="nhsuk-select" id="filter-patient" inner_html=move || {
                        let chosen = filter.with_untracked(|f| f.patient);
                        patients.with(|p| options_markup("Any patient", p, chosen))
                    }
                    on:change=move |ev| { let v = Uuid::parse_str(&event_target_value(&ev)).ok(); set(Box::new(move |f| f.patient = v)); }>
                </select>
            </div>
            <div class="nhsuk-form-group">
                <label class="nhsuk-label" for="filter-status">"Status"</label>
                <select class="nhsuk-select" id="filter-status"
                    on:change=move |ev| { let v = ActionStatus::parse(&event_target_value(&ev)); set(Box::new(move |f| { f.status = v; if v.is_some() { f.open_only = false; } })); }>
                    <option value="">"Any outstanding"</option>
                    {ActionStatus::ALL.into_iter().map(|s| view! { <option value=s.as_str()>{s.label()}</option> }).collect_view()}
                </select>
            </div>
            <div class="nhsuk-form-group nhsuk-checkboxes">
                <div class="nhsuk-checkboxes__item">
                    <input class="nhsuk-checkboxes__input" id="filter-overdue" type="checkbox"
                        on:change=move |ev| { let on = event_target_checked(&ev); set(Box::new(move |f| f.overdue_only = on)); }/>
                    <label class="nhsuk-label nhsuk-checkboxes__label" for="filter-overdue">"Overdue only"</label>
                </div>
            </div>
        </div>
        <p class="nhsuk-body" role="status" aria-live="polite" data-testid="action-count">
            {move || {
                let total = filtered.with(Vec::len);
                let showing = total.min(limit.get());
                if showing < total { format!("Showing {showing} of {total} actions") } else { format!("{total} action{}", if total == 1 { "" } else { "s" }) }
            }}
        </p>
        <div role="status" data-testid="chase-result">{move || chased.get().map(|c| match c {
            Ok(text) => view! { <div class="nhsuk-inset-text"><p>{text}</p></div> }.into_any(),
            Err(e) => view! { <p class="nhsuk-error-message">{e}</p> }.into_any(),
        })}</div>
        <table class="nhsuk-table" data-testid="team-actions" on:click=on_table_click>
            <caption class="nhsuk-table__caption nhsuk-u-visually-hidden">"The team's actions"</caption>
            <thead><tr><th scope="col">"Action"</th><th scope="col">"Owner"</th><th scope="col">"Patient"</th><th scope="col">"Due"</th><th scope="col">"Status"</th></tr></thead>
            // Up to hundreds of plain rows (links only): written as markup in one piece and
            // replaced whole when the filter changes, like a hand-written list would be.
            <tbody inner_html=shown_markup></tbody>
        </table>
        {move || (filtered.with(Vec::len) > limit.get()).then(|| view! {
            <button type="button" class="nhsuk-button nhsuk-button--secondary" on:click=move |_| limit.update(|l| *l += page_rows)>
                {format!("Show {page_rows} more")}
            </button>
        })}
    }
}

/// A filter's `<option>`s: "any" first, then one per choice, the current choice selected (the
/// choices are rewritten when the team's people or patients change; 500 patients as elements
/// made one by one were a measurable part of the page's first render).
fn options_markup(any: &str, choices: &[(Uuid, String)], chosen: Option<Uuid>) -> String {
    let mut m = Markup::with_capacity(64 * (choices.len() + 1));
    m.element("option", &[("value", Some(""))], any);
    for (id, name) in choices {
        let value = id.to_string();
        m.element(
            "option",
            &[
                ("value", Some(&value)),
                ("selected", (chosen == Some(*id)).then_some("")),
            ],
            name,
        );
    }
    m.finish()
}

/// One row: the action, its owner and their organisation, the patient (a link to their
/// page), the due date (marked when overdue, with the coordinator's chase when `chase`) and the
/// status.
pub fn row_markup(row: &ActionRow, now: chrono::DateTime<Utc>, chase: bool) -> String {
    let overdue = row.action.is_overdue(now);
    let mut m = Markup::new();
    m.open("tr", &[("data-testid", Some("action-row"))])
        .element("td", &[], &row.action.description)
        .open("td", &[])
        .text(&row.owner_name)
        .open("br", &[])
        .element(
            "span",
            &[("class", Some("nhsuk-body-s"))],
            &row.owner_organisation,
        )
        .close("td")
        .open("td", &[]);
    if let Some(patient) = row.action.patient_id {
        m.element(
            "a",
            &[("href", Some(&Page::Patient(patient).href()))],
            &row.patient,
        );
    }
    m.close("td")
        .open("td", &[("class", overdue.then_some("mdt-overdue"))])
        .text(&uk_time::format_date(row.action.due))
        .text(if overdue { " (overdue)" } else { "" });
    let in_hand = matches!(
        row.action.status,
        ActionStatus::Proposed | ActionStatus::Accepted
    );
    if overdue && chase && in_hand {
        m.open("br", &[]).element(
            "button",
            &[
                ("type", Some("button")),
                ("class", Some("mdt-link-button")),
                ("data-chase", Some(&row.id.to_string())),
                (
                    "aria-label",
                    Some(&format!("Chase {} by email", row.owner_name)),
                ),
            ],
            "Chase by email",
        );
    }
    m.close("td")
        .element("td", &[], row.action.status.label())
        .close("tr");
    m.finish()
}
