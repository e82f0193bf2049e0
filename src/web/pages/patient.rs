//! One patient's timeline: every agenda item, outcome and action about them, and who is doing
//! what now.

use chrono::Utc;
use leptos::prelude::*;
use uuid::Uuid;

use crate::core::patient::Patient;
use crate::core::uk_time;
use crate::web::client::accounts::use_without_accounts_of;
use crate::web::client::sync::SyncClient;
use crate::web::components::action_card::ActionCard;
use crate::web::components::RecordNotHere;
use crate::web::pages::not_found::NotFound;
use crate::web::routes::{use_id, Page};
use crate::web::views::actions::{action_cards, mark_owners_without_accounts, Directory};
use crate::web::views::{self, patient::TimelineLine};

/// `/patients/<id>`.
#[component]
pub fn PatientPage() -> impl IntoView {
    let id = use_id();
    move || match id.get() {
        Some(id) => view! { <PatientTimeline patient_id=id/> }.into_any(),
        None => view! { <NotFound/> }.into_any(),
    }
}

#[component]
fn PatientTimeline(patient_id: Uuid) -> impl IntoView {
    let sync = expect_context::<SyncClient>();
    let patient = Memo::new(move |_| sync.entity::<Patient>(patient_id));
    let here = Memo::new(move |_| patient.with(Option::is_some));
    let without_accounts =
        use_without_accounts_of(move || patient.with(|p| p.as_ref().map(|p| p.team_id)));
    let open = Memo::new(move |_| {
        let mut cards = sync.read(|r| {
            let dir = Directory::load(r);
            action_cards(r, &dir, Utc::now(), |a| {
                a.patient_id == Some(patient_id) && a.status.is_open()
            })
        });
        without_accounts
            .with(|w| mark_owners_without_accounts(&mut cards, w.as_deref().unwrap_or_default()));
        cards
    });
    // Items with their outcomes, and every action, newest first.
    let timeline =
        Memo::new(move |_| sync.read(|r| views::patient::timeline(r, patient_id, Utc::now())));
    view! {
        <a class="nhsuk-back-link" href=Page::Teams.href()>"Back to your teams"</a>
        // Built once the patient is here; inside, each part follows its own data, so an open
        // action form survives a change to the patient's record.
        <Show when=move || here.get() fallback=|| view! {
            <RecordNotHere what="the patient"
                missing="You cannot open this patient: they are not on any of your teams' lists, or their record has been removed."/>
        }>
            <span class="nhsuk-caption-l">"Patient"</span>
            <h1 class="nhsuk-heading-l">{move || patient.with(|p| p.as_ref().map(Patient::identity_line))}</h1>
            <SharingObjection patient_id=patient_id/>
            <h2>"Who is doing what now"</h2>
            {move || open.with(|o| o.is_empty()).then(|| view! { <p class="nhsuk-body">"No open actions for this patient."</p> })}
            <ul class="mdt-card-list" data-testid="patient-actions">
                <For each=move || open.get() key=|c| (c.id, c.action.clone(), c.history.len(), c.owner_cannot_sign_in) children=|card| view! { <ActionCard card=card/> }/>
            </ul>
            <AccessHistory patient_id=patient_id/>
            <h2>"Timeline"</h2>
            <ol class="mdt-timeline" data-testid="patient-timeline">
                {move || timeline.get().into_iter().map(|TimelineLine { at, text: line, meeting }| view! {
                    <li>
                        <strong>{uk_time::format_date(uk_time::uk_today(at))}</strong>" "
                        {match meeting {
                            Some(m) => view! { <a href=Page::Meeting(m).href()>{line}</a> }.into_any(),
                            None => view! { <span>{line}</span> }.into_any(),
                        }}
                    </li>
                }).collect_view()}
            </ol>
        </Show>
    }
}

/// For the coordinator of the patient's team: who has seen or changed this patient's records
/// (the audit trail), fetched when asked for. Others are told it is for the coordinator.
#[component]
fn AccessHistory(patient_id: Uuid) -> impl IntoView {
    use crate::core::api::CurrentUser;
    let sync = expect_context::<SyncClient>();
    let me = expect_context::<CurrentUser>();
    let coordinates =
        Memo::new(move |_| sync.read(|r| views::patient::coordinates(r, patient_id, me.person_id)));
    let load = Action::new_local(move |_: &()| crate::web::client::api::patient_access(patient_id));
    view! {
        <Show when=move || coordinates.get()>
            <h2>"Who has seen or changed this record"</h2>
            <p class="nhsuk-body-s">"From the audit trail: every time this patient's information was sent to a device, changed, downloaded or opened offline. Only you, as the team's coordinator, can see this."</p>
            {move || match load.value().get() {
                None => view! {
                    <button type="button" class="nhsuk-button nhsuk-button--secondary" disabled=move || load.pending().get()
                        on:click=move |_| { load.dispatch(()); }>"Show the access history"</button>
                }.into_any(),
                Some(Err(e)) => view! { <p class="nhsuk-error-message" role="alert">{e.to_string()}</p> }.into_any(),
                Some(Ok(lines)) => view! {
                    <table class="nhsuk-table" data-testid="access-history">
                        <caption class="nhsuk-table__caption nhsuk-u-visually-hidden">"Access history"</caption>
                        <thead><tr><th scope="col">"When (UK time)"</th><th scope="col">"Who"</th><th scope="col">"What"</th><th scope="col">"Session"</th></tr></thead>
                        <tbody>
                            {lines.into_iter().map(|l| view! {
                                <tr>
                                    <td>{uk_time::format_uk(l.at)}</td>
                                    <td>{l.who}</td>
                                    <td>{format!("{} {}", l.record, l.what)}</td>
                                    <td><code>{l.session}</code></td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any(),
            }}
        </Show>
    }
}

/// Records whether the patient objects to their information being shared, and says so plainly:
/// the flag then shows on every agenda item and brief about them.
#[component]
fn SharingObjection(patient_id: Uuid) -> impl IntoView {
    let sync = expect_context::<SyncClient>();
    let current = Memo::new(move |_| sync.versioned::<Patient>(patient_id));
    let error = RwSignal::new(None::<String>);
    let set = move |objects: bool| {
        let Some((version, before)) = current.get_untracked() else {
            return;
        };
        let after = Patient {
            objects_to_sharing: objects,
            ..before.clone()
        };
        match sync.save_edit(patient_id, version, Some(&before), &after) {
            Ok(()) => error.set(None),
            Err(e) => error.set(Some(e.message)),
        }
    };
    let objects = move || current.with(|c| c.as_ref().is_some_and(|(_, p)| p.objects_to_sharing));
    let me = expect_context::<crate::core::api::CurrentUser>();
    let may_change = Signal::derive(move || {
        let team = current.with(|c| c.as_ref().map(|(_, p)| p.team_id));
        team.is_none_or(|t| sync.read(|r| views::team::team_writable(r, t, me.person_id)))
    });
    view! {
        {move || objects().then(|| view! {
            <div class="nhsuk-warning-callout" data-testid="sharing-objection">
                <h2 class="nhsuk-warning-callout__label">"Objects to sharing"</h2>
                <p>"This patient has objected to their information being shared. Share only what their care needs, and only with the people involved."</p>
            </div>
        })}
        <div class="nhsuk-checkboxes nhsuk-form-group">
            <div class="nhsuk-checkboxes__item">
                <input class="nhsuk-checkboxes__input" id="objects-to-sharing" type="checkbox"
                    disabled=move || !may_change.get()
                    prop:checked=objects on:change=move |ev| set(event_target_checked(&ev))/>
                <label class="nhsuk-label nhsuk-checkboxes__label" for="objects-to-sharing">
                    "The patient objects to their information being shared"
                </label>
            </div>
        </div>
        {move || error.get().map(|e| view! { <p class="nhsuk-error-message" role="alert">{e}</p> })}
    }
}
