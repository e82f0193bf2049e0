//! `/conflicts`: every record two people changed at the same time, with both values, who
//! entered the other one and when, and a choice (keep, use the other, or merge).

use leptos::prelude::*;
use uuid::Uuid;

use crate::core::agenda::AgendaItem;
use crate::core::brief::Brief;
use crate::core::entities::EntityKind;
use crate::core::patient::Patient;
use crate::core::sync::{LocalView, Replica};
use crate::web::client::sync::SyncClient;
use crate::web::components::ConflictNotice;
use crate::web::routes::Page;

/// What the record is, in words, and where it is edited.
fn describe(replica: &Replica, view: &LocalView) -> (String, Option<String>) {
    let text = |name: &str| {
        view.fields
            .get(name)
            .and_then(|v| v.as_str())
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let patient_of_item = |item: Uuid| {
        replica
            .view(item)
            .and_then(|v| v.typed::<AgendaItem>())
            .and_then(|i| i.patient_id)
            .and_then(|p| replica.view(p))
            .and_then(|v| v.typed::<Patient>())
            .map(|p| p.name)
    };
    let label = view.entity.label();
    match view.entity {
        EntityKind::Brief => {
            let item = view.typed::<Brief>().map(|b| b.item_id);
            let whose = item.and_then(patient_of_item);
            (
                match whose {
                    Some(name) => format!("Brief for {name}"),
                    None => label.to_string(),
                },
                item.map(|i| Page::Brief(i).href()),
            )
        }
        EntityKind::AgendaItem => {
            let meeting = view.typed::<AgendaItem>().map(|i| i.meeting_id);
            (
                format!(
                    "Agenda item{}",
                    patient_of_item(view.id)
                        .map(|n| format!(": {n}"))
                        .unwrap_or_default()
                ),
                meeting.map(|m| Page::Meeting(m).href()),
            )
        }
        EntityKind::Meeting => (label.to_string(), Some(Page::Meeting(view.id).href())),
        EntityKind::Team => (
            format!(
                "Team{}",
                text("name").map(|n| format!(": {n}")).unwrap_or_default()
            ),
            Some(Page::Team(view.id).href()),
        ),
        EntityKind::Action => (
            format!(
                "Action{}",
                text("description")
                    .map(|d| format!(": {d}"))
                    .unwrap_or_default()
            ),
            Some("/actions".into()),
        ),
        _ => (
            format!(
                "{label}{}",
                text("name").map(|n| format!(": {n}")).unwrap_or_default()
            ),
            None,
        ),
    }
}

/// The conflicts page.
#[component]
pub fn ConflictsPage() -> impl IntoView {
    let sync = expect_context::<SyncClient>();
    let conflicted = move || {
        sync.replica.with(|r| {
            r.conflicted()
                .filter_map(|record| r.view(record.id))
                .filter(|v| !v.conflicts.is_empty())
                .map(|v| {
                    let (what, link) = describe(r, &v);
                    (v.id, what, link)
                })
                .collect::<Vec<_>>()
        })
    };
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
                        <For each=move || conflicted() key=|(id, what, _)| (*id, what.clone()) children=move |(id, what, link)| view! {
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
