//! The page for addresses the app does not know.

use crate::web::routes::Page;
use leptos::prelude::*;

/// Shown for an unknown address, with a way back.
#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <h1>"Page not found"</h1>
        <p class="nhsuk-body">"If you typed the web address, check it is correct."</p>
        <p class="nhsuk-body"><a href=Page::Teams.href()>"Go to your teams"</a></p>
    }
}
