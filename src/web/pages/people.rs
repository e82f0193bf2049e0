//! The directory: people who sit on MDTs, their contact details and how fresh those are, and
//! the organisations they work for.

use chrono::Utc;
use leptos::prelude::*;
use uuid::Uuid;

use crate::core::entities::{
    Organisation, OrganisationKind, Person, Role, CONFIRM_CONTACT_AFTER_DAYS,
};
use crate::core::{uk_time, ValidationError};
use crate::web::client::sync::SyncClient;
use crate::web::components::{field_error, ConflictNotice, ErrorSummary, RoleSelect, TextField};

/// The directory page.
#[component]
pub fn PeoplePage() -> impl IntoView {
    let sync = expect_context::<SyncClient>();
    let me = expect_context::<crate::core::api::CurrentUser>().person_id;
    let editing = RwSignal::new(None::<(Uuid, bool)>);
    let people = move || sync.list_by::<Person>(|e| &e.name);
    let org_name = move |id: Option<Uuid>| {
        id.and_then(|id| sync.entity::<Organisation>(id))
            .map(|o| o.name)
            .unwrap_or_default()
    };
    let confirm = move |id: Uuid, person: Person| {
        let _ = sync.save(
            id,
            &Person {
                last_confirmed: uk_time::uk_today(Utc::now()),
                ..person
            },
        );
    };
    view! {
        <h1>"Directory"</h1>
        <p class="nhsuk-body">
            {format!("People in your teams and people you added. Contact details not confirmed for {CONFIRM_CONTACT_AFTER_DAYS} days are marked so someone checks them.")}
        </p>
        {move || match editing.get() {
            None => view! {
                <button type="button" class="nhsuk-button" on:click=move |_| editing.set(Some((Uuid::new_v4(), true)))>"Add a person"</button>
            }.into_any(),
            Some((id, is_new)) => view! {
                <PersonForm id=id is_new=is_new on_done=Callback::new(move |_| editing.set(None))/>
            }.into_any(),
        }}
        <table class="nhsuk-table-responsive" data-testid="people-list">
            <caption class="nhsuk-table__caption">"People"</caption>
            <thead class="nhsuk-table__head" role="rowgroup"><tr role="row">
                <th scope="col">"Name"</th><th scope="col">"Role and organisation"</th><th scope="col">"Contact"</th>
                <th scope="col">"Details confirmed"</th><th scope="col"><span class="nhsuk-u-visually-hidden">"Actions"</span></th>
            </tr></thead>
            <tbody class="nhsuk-table__body">
                {move || {
                    let today = uk_time::uk_today(Utc::now());
                    people().into_iter().map(|(v, p)| {
                        let id = v.id;
                        let stale = p.needs_confirmation(today);
                        let for_confirm = p.clone();
                        let name = p.name.clone();
                        // Only the person or a coordinator of a team they are in keeps their
                        // details (core::authorize): nobody else is offered the buttons.
                        let may_edit = sync.may_change(me, id, "name");
                        view! {
                            <tr role="row" class="nhsuk-table__row">
                                <td class="nhsuk-table__cell">{p.name.clone()}</td>
                                <td class="nhsuk-table__cell">{p.role.label()}<br/>{org_name(p.organisation_id)}</td>
                                <td class="nhsuk-table__cell">
                                    {p.phone.clone().unwrap_or_default()}<br/>
                                    {p.email.clone().map(|e| view! { <a href=format!("mailto:{e}")>{e.clone()}</a> })}
                                </td>
                                <td class="nhsuk-table__cell">
                                    {uk_time::format_date(p.last_confirmed)}
                                    {stale.then(|| view! {
                                        <br/><strong class="nhsuk-tag nhsuk-tag--orange" data-testid="stale-contact">
                                            {format!("Not confirmed for {CONFIRM_CONTACT_AFTER_DAYS} days")}
                                        </strong>
                                    })}
                                </td>
                                <td class="nhsuk-table__cell mdt-actions">
                                    {may_edit.then(|| view! {
                                    <button type="button" class="mdt-link-button" on:click=move |_| editing.set(Some((id, false)))>
                                        "Change"<span class="nhsuk-u-visually-hidden">{format!(" {name}")}</span>
                                    </button>
                                    })}
                                    {(stale && may_edit).then(|| view! {
                                        <button type="button" class="mdt-link-button" on:click=move |_| confirm(id, for_confirm.clone())>
                                            "Details are correct"
                                        </button>
                                    })}
                                </td>
                            </tr>
                        }
                    }).collect_view()
                }}
            </tbody>
        </table>
        <Organisations/>
    }
}

/// Add or change a person. Saving also records that their details were confirmed today.
#[component]
fn PersonForm(id: Uuid, is_new: bool, on_done: Callback<()>) -> impl IntoView {
    let sync = expect_context::<SyncClient>();
    let (base_version, existing) = untrack(|| sync.edit_base::<Person>(id)).unwrap_or((0, None));
    let name = RwSignal::new(
        existing
            .as_ref()
            .map(|p| p.name.clone())
            .unwrap_or_default(),
    );
    let role = RwSignal::new(existing.as_ref().map_or(Role::Gp, |p| p.role));
    let organisation = RwSignal::new(existing.as_ref().and_then(|p| p.organisation_id));
    let phone = RwSignal::new(
        existing
            .as_ref()
            .and_then(|p| p.phone.clone())
            .unwrap_or_default(),
    );
    let email = RwSignal::new(
        existing
            .as_ref()
            .and_then(|p| p.email.clone())
            .unwrap_or_default(),
    );
    let error = RwSignal::new(None::<ValidationError>);
    let err = Signal::derive(move || error.get());
    let organisations = move || sync.list_by::<Organisation>(|e| &e.name);
    let optional = |s: String| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let person = Person {
            name: name.get_untracked().trim().to_owned(),
            role: role.get_untracked(),
            organisation_id: organisation.get_untracked(),
            phone: optional(phone.get_untracked()),
            email: optional(email.get_untracked()),
            last_confirmed: uk_time::uk_today(Utc::now()),
        };
        match sync.save_edit(id, base_version, existing.as_ref(), &person) {
            Ok(()) => on_done.run(()),
            Err(e) => error.set(Some(e)),
        }
    };
    view! {
        <div class="mdt-panel">
            <h2>{if is_new { "Add a person" } else { "Change a person's details" }}</h2>
            {(!is_new).then(|| view! { <ConflictNotice id=id/> })}
            <ErrorSummary error=err id_prefix="person"/>
            <form on:submit=save novalidate>
                <TextField id="person-name".into() label="Full name" value=name error=field_error(err, "name") autocomplete="off"/>
                <RoleSelect id="person-role" role=role/>
                <div class="nhsuk-form-group">
                    <label class="nhsuk-label" for="person-organisation_id">"Organisation"</label>
                    <select class="nhsuk-select" id="person-organisation_id"
                        on:change=move |ev| organisation.set(Uuid::parse_str(&event_target_value(&ev)).ok())>
                        <option value="" selected=move || organisation.get().is_none()>"Not recorded"</option>
                        {move || organisations().into_iter().map(|(v, o)| view! {
                            <option value=v.id.to_string() selected=move || organisation.get() == Some(v.id)>{o.name}</option>
                        }).collect_view()}
                    </select>
                </div>
                <TextField id="person-phone".into() label="Phone (optional)" value=phone error=field_error(err, "phone")
                    input_type="tel" width_class="nhsuk-input--width-20"/>
                <TextField id="person-email".into() label="Email (optional)" value=email error=field_error(err, "email")
                    input_type="email"/>
                <div class="nhsuk-button-group">
                    <button class="nhsuk-button" type="submit">{if is_new { "Add person" } else { "Save details" }}</button>
                    <button class="nhsuk-button nhsuk-button--secondary" type="button" on:click=move |_| on_done.run(())>"Close without saving"</button>
                </div>
            </form>
        </div>
    }
}

/// The organisations people work for, with a short form to add one.
#[component]
fn Organisations() -> impl IntoView {
    let sync = expect_context::<SyncClient>();
    let name = RwSignal::new(String::new());
    let kind = RwSignal::new(OrganisationKind::GpPractice);
    let error = RwSignal::new(None::<ValidationError>);
    let err = Signal::derive(move || error.get());
    let organisations = move || sync.list_by::<Organisation>(|e| &e.name);
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let org = Organisation {
            name: name.get_untracked().trim().to_owned(),
            kind: kind.get_untracked(),
        };
        match sync.save(Uuid::new_v4(), &org) {
            Ok(()) => {
                error.set(None);
                name.set(String::new());
            }
            Err(e) => error.set(Some(e)),
        }
    };
    view! {
        <h2>"Organisations"</h2>
        <ul class="nhsuk-list nhsuk-list--bullet">
            {move || organisations().into_iter().map(|(_, o)| view! {
                <li>{o.name}" — "{o.kind.label()}</li>
            }).collect_view()}
        </ul>
        <details class="nhsuk-details">
            <summary class="nhsuk-details__summary"><span class="nhsuk-details__summary-text">"Add an organisation"</span></summary>
            <div class="nhsuk-details__text">
                <ErrorSummary error=err id_prefix="organisation"/>
                <form on:submit=add novalidate>
                    <TextField id="organisation-name".into() label="Name" value=name error=field_error(err, "name")/>
                    <div class="nhsuk-form-group">
                        <label class="nhsuk-label" for="organisation-kind">"Type"</label>
                        <select class="nhsuk-select" id="organisation-kind"
                            on:change=move |ev| if let Some(k) = OrganisationKind::parse(&event_target_value(&ev)) { kind.set(k) }>
                            {OrganisationKind::ALL.into_iter().map(|k| view! {
                                <option value=k.as_str() selected=move || kind.get() == k>{k.label()}</option>
                            }).collect_view()}
                        </select>
                    </div>
                    <button class="nhsuk-button nhsuk-button--secondary" type="submit">"Add organisation"</button>
                </form>
            </div>
        </details>
    }
}
