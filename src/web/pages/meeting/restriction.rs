//! The coordinator's controls for a safeguarding-restricted item: who else may see it, and
//! lifting the restriction. The rules themselves are in [`crate::core::access`].

use leptos::prelude::*;
use uuid::Uuid;

use crate::core::agenda::AgendaItem;
use crate::web::client::sync::SyncClient;
use crate::web::views::agenda::AgendaView;

/// Shown under a restricted item to the team's coordinator (the server refuses these changes
/// from anyone else).
#[component]
pub fn RestrictionControls(data: Memo<Option<AgendaView>>, item_id: Uuid) -> impl IntoView {
    let sync = expect_context::<SyncClient>();
    let chosen = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let item = move || data.with(|d| d.as_ref().and_then(|v| v.item(item_id).cloned()));
    let save = move |changed: AgendaItem| {
        error.set(sync.save(item_id, &changed).err().map(|e| e.message));
    };
    // Team people who cannot see the item yet, to name.
    let candidates = move || {
        data.with(|d| {
            let (Some(v), Some(item)) = (d.as_ref(), item()) else {
                return Vec::new();
            };
            let mut people: Vec<Uuid> = v.members();
            people.extend(v.team.observer_ids.iter().copied());
            people
                .into_iter()
                .filter(|p| !crate::core::access::may_see_restricted(&item, &v.team, *p))
                .map(|p| (p, v.name(Some(p))))
                .collect::<Vec<_>>()
        })
    };
    let named = move || {
        data.with(|d| {
            let (Some(v), Some(item)) = (d.as_ref(), item()) else {
                return Vec::new();
            };
            item.restricted_to
                .iter()
                .map(|p| (*p, v.name(Some(*p))))
                .collect::<Vec<_>>()
        })
    };
    let select_id = format!("restrict-name-{item_id}");
    view! {
        <div class="mdt-subpanel" data-testid="restriction-controls">
            <h4 class="nhsuk-heading-xs">"Who else may see this item"</h4>
            {move || error.get().map(|e| view! { <p class="nhsuk-error-message" role="alert">{e}</p> })}
            <ul class="nhsuk-list mdt-compact-list">
                {move || named().into_iter().map(|(person, name)| view! {
                    <li>
                        {name.clone()}" "
                        <button type="button" class="mdt-link-button"
                            on:click=move |_| if let Some(item) = item() {
                                save(AgendaItem {
                                    restricted_to: item.restricted_to.iter().copied().filter(|p| *p != person).collect(),
                                    ..item
                                });
                            }>
                            "Remove"<span class="nhsuk-u-visually-hidden">{format!(" {name} from who can see this item")}</span>
                        </button>
                    </li>
                }).collect_view()}
            </ul>
            {move || {
                let people = candidates();
                (!people.is_empty()).then(|| view! {
                    <div class="nhsuk-form-group">
                        <label class="nhsuk-label" for=select_id.clone()>"Let someone else see it"</label>
                        <select class="nhsuk-select" id=select_id.clone() on:change=move |ev| chosen.set(event_target_value(&ev))>
                            <option value="" selected=move || chosen.get().is_empty()>"Choose a person"</option>
                            {people.into_iter().map(|(p, name)| view! { <option value=p.to_string()>{name}</option> }).collect_view()}
                        </select>
                        " "
                        <button type="button" class="nhsuk-button nhsuk-button--secondary nhsuk-u-margin-bottom-0"
                            on:click=move |_| {
                                let (Ok(person), Some(item)) = (Uuid::parse_str(&chosen.get_untracked()), item()) else {
                                    error.set(Some("Choose the person who may see the item".into()));
                                    return;
                                };
                                let mut restricted_to = item.restricted_to.clone();
                                restricted_to.push(person);
                                chosen.set(String::new());
                                save(AgendaItem { restricted_to, ..item });
                            }>
                            "Allow"
                        </button>
                    </div>
                })
            }}
            <button type="button" class="mdt-link-button"
                on:click=move |_| {
                    let confirmed = web_sys::window()
                        .and_then(|w| w.confirm_with_message("Lift the restriction? The whole team will see the item, its brief and its outcome.").ok())
                        .unwrap_or(false);
                    if let (true, Some(item)) = (confirmed, item()) {
                        save(AgendaItem { restricted: false, restricted_to: vec![], ..item });
                    }
                }>
                "Lift the restriction"
            </button>
        </div>
    }
}
