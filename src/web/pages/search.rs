//! Search across the directory and the teams' patients: by name, NHS number (with or without
//! spaces), role or organisation, answered as you type from the device's copy (offline too).

use leptos::prelude::*;

use crate::core::api::CurrentUser;
use crate::core::search::MAX_HITS;
use crate::web::client::sync::SyncClient;
use crate::web::routes::Page;
use crate::web::views::search::search_device;

/// `/search`.
#[component]
pub fn SearchPage() -> impl IntoView {
    let sync = expect_context::<SyncClient>();
    let me = expect_context::<CurrentUser>();
    let query = RwSignal::new(String::new());
    let results =
        Memo::new(move |_| query.with(|q| sync.read(|r| search_device(r, me.person_id, q))));
    let shown = |n: usize, total: usize, what: &str| {
        if total > n {
            format!("{what}: the first {n} of {total} (type more to narrow it)")
        } else {
            format!("{what}: {total}")
        }
    };
    view! {
        <h1>"Search"</h1>
        <form role="search" on:submit=|ev: leptos::ev::SubmitEvent| ev.prevent_default()>
            <div class="nhsuk-form-group">
                <label class="nhsuk-label" for="search-query">"Search for a person, organisation or patient"</label>
                <div class="nhsuk-hint" id="search-query-hint">"A name, an NHS number, a role (like district nurse) or an organisation. Patients are searched on your teams' lists only."</div>
                <input class="nhsuk-input" id="search-query" name="q" type="search" autocomplete="off" spellcheck="false"
                    aria-describedby="search-query-hint" maxlength="200"
                    prop:value=move || query.get() on:input=move |ev| query.set(event_target_value(&ev))/>
            </div>
        </form>
        <div aria-live="polite" data-testid="search-results">
            {move || results.with(|r| {
                if query.with(|q| q.trim().is_empty()) {
                    return view! { <p class="nhsuk-body">"Results show here as you type."</p> }.into_any();
                }
                if r.is_empty() {
                    return view! { <p class="nhsuk-body" data-testid="search-nothing">"Nothing found. Check the spelling, or try part of the name or number."</p> }.into_any();
                }
                view! {
                    {(r.patients_total > 0).then(|| view! {
                        <h2 class="nhsuk-heading-m">{shown(r.patients.len(), r.patients_total, "Patients")}</h2>
                        <ul class="nhsuk-list mdt-needs" data-testid="search-patients">
                            {r.patients.iter().map(|p| view! {
                                <li><a href=Page::Patient(p.id).href()>{p.identity.clone()}</a>{format!(" · {}", p.team)}</li>
                            }).collect_view()}
                        </ul>
                    })}
                    {(r.people_total > 0).then(|| view! {
                        <h2 class="nhsuk-heading-m">{shown(r.people.len(), r.people_total, "People")}</h2>
                        <ul class="nhsuk-list mdt-needs" data-testid="search-people">
                            {r.people.iter().map(|p| {
                                let organisation = (!p.organisation.is_empty()).then(|| format!(", {}", p.organisation));
                                view! { <li><strong>{p.name.clone()}</strong>{format!(" · {}", p.role)}{organisation}</li> }
                            }).collect_view()}
                        </ul>
                        <p class="nhsuk-body"><a href=Page::People.href()>"Contact details are in the directory"</a></p>
                    })}
                    {(r.organisations_total > 0).then(|| view! {
                        <h2 class="nhsuk-heading-m">{shown(r.organisations.len(), r.organisations_total, "Organisations")}</h2>
                        <ul class="nhsuk-list mdt-needs" data-testid="search-organisations">
                            {r.organisations.iter().map(|o| view! {
                                <li>{format!("{} · {} {} in the directory", o.name, o.people, if o.people == 1 { "person" } else { "people" })}</li>
                            }).collect_view()}
                        </ul>
                    })}
                }.into_any()
            })}
        </div>
        <p class="nhsuk-body-s">{format!("Up to {MAX_HITS} of each are listed.")}</p>
    }
}
