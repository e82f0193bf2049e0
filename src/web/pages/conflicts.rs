//! `/conflicts`: every record two people changed at the same time, with both values, who
//! entered the other one and when, and a choice (keep, use the other, or merge).

use leptos::prelude::*;

use crate::web::client::sync::SyncClient;
use crate::web::components::ConflictNotice;
use crate::web::views::conflicts::{conflicted, Conflicted};

/// The conflicts page.
#[component]
pub fn ConflictsPage() -> impl IntoView {
    let sync = expect_context::<SyncClient>();
    let conflicted = move || sync.read(conflicted);
    view! {
        <h1>"Changes to choose between"</h1>
        <p class="nhsuk-body">"When two people change the same thing at the same time (for example one of them offline), both versions are kept here until someone chooses. Choosing sends your choice to everyone."</p>
        {move || {
            let list = conflicted();
            if list.is_empty() {
                view! { <p class="nhsuk-body" data-testid="no-conflicts">"There is nothing to choose between."</p> }.into_any()
            } else {
                view! {
                    <ul class="nhsuk-list">
                        <For each=move || conflicted() key=|c| (c.id, c.what.clone()) children=move |Conflicted { id, what, link }| view! {
                            <li class="mdt-panel">
                                <h2 class="nhsuk-heading-s">{what}</h2>
                                {link.map(|l| view! { <p class="nhsuk-body-s"><a href=l>"Open it"</a></p> })}
                                <ConflictNotice id=id/>
                            </li>
                        }/>
                    </ul>
                }.into_any()
            }
        }}
    }
}
