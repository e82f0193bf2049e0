//! Choosing an offline passphrase, once per device, after signing in through one's
//! organisation: that way in has no password here, and the copy kept on the device for working
//! offline must still open only for its owner (DESIGN §5, hazard H42).

use leptos::prelude::*;

use crate::core::api::CurrentUser;
use crate::core::validation;

/// Asks for a new offline passphrase, typed twice.
#[component]
pub fn OfflinePassphrasePage(
    /// Who signed in.
    user: CurrentUser,
    /// The copy is being protected (the key takes a moment to derive).
    #[prop(into)]
    busy: Signal<bool>,
    /// Called with the passphrase once both fields agree and it is long enough.
    on_set: Callback<String>,
) -> impl IntoView {
    let first = RwSignal::new(String::new());
    let second = RwSignal::new(String::new());
    // (field id, message) of what is wrong.
    let problem = RwSignal::new(None::<(&'static str, String)>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (a, b) = (first.get_untracked(), second.get_untracked());
        let wrong = match validation::password(&a) {
            Err(e) => Some((
                "offline-passphrase",
                e.message.replace("password", "passphrase"),
            )),
            Ok(()) if a != b => Some((
                "offline-passphrase-again",
                "The two passphrases are different: type the same one in both boxes".to_owned(),
            )),
            Ok(()) => None,
        };
        problem.set(wrong.clone());
        match wrong {
            None => on_set.run(a),
            Some(_) => focus_error_summary(),
        }
    };
    let error_for = move |id: &'static str| {
        move || {
            problem
                .get()
                .filter(|(field, _)| *field == id)
                .map(|(_, message)| {
                    view! { <span class="nhsuk-error-message" id=format!("{id}-error")><span class="nhsuk-u-visually-hidden">"Error: "</span>{message}</span> }
                })
        }
    };
    let group_class = move |id: &'static str| {
        move || {
            if problem.get().is_some_and(|(field, _)| field == id) {
                "nhsuk-form-group nhsuk-form-group--error"
            } else {
                "nhsuk-form-group"
            }
        }
    };
    view! {
        <div class="nhsuk-width-container">
            <main class="nhsuk-main-wrapper" id="maincontent">
                <div class="nhsuk-grid-row">
                    <div class="nhsuk-grid-column-two-thirds">
                        <h1>"Choose an offline passphrase"</h1>
                        <p class="nhsuk-body">{format!(
                            "You signed in through your organisation, {}. This device keeps a copy of your teams' work so you can carry on without a connection, for example between home visits. The copy is locked: choose a passphrase to open it when you are offline or the app has locked itself.",
                            user.name
                        )}</p>
                        <p class="nhsuk-body">"Use at least 12 characters, for example three or four unrelated words. It is not sent anywhere and is needed only on this device."</p>
                        {move || problem.get().map(|(id, message)| view! {
                            <div class="nhsuk-error-summary" id="passphrase-problem" role="alert" tabindex="-1" aria-labelledby="passphrase-problem-title">
                                <h2 class="nhsuk-error-summary__title" id="passphrase-problem-title">"There is a problem"</h2>
                                <div class="nhsuk-error-summary__body">
                                    <ul class="nhsuk-list nhsuk-error-summary__list">
                                        <li><a href=format!("#{id}")>{message}</a></li>
                                    </ul>
                                </div>
                            </div>
                        })}
                        <form on:submit=submit novalidate>
                            <input type="email" name="email" autocomplete="username" value=user.email.clone() hidden/>
                            <div class=group_class("offline-passphrase")>
                                <label class="nhsuk-label" for="offline-passphrase">"Offline passphrase"</label>
                                {error_for("offline-passphrase")}
                                <input class="nhsuk-input" id="offline-passphrase" type="password" autocomplete="new-password"
                                    prop:value=move || first.get() on:input=move |ev| first.set(event_target_value(&ev))/>
                            </div>
                            <div class=group_class("offline-passphrase-again")>
                                <label class="nhsuk-label" for="offline-passphrase-again">"Type it again"</label>
                                {error_for("offline-passphrase-again")}
                                <input class="nhsuk-input" id="offline-passphrase-again" type="password" autocomplete="new-password"
                                    prop:value=move || second.get() on:input=move |ev| second.set(event_target_value(&ev))/>
                            </div>
                            <button class="nhsuk-button" type="submit" disabled=move || busy.get()>
                                {move || if busy.get() { "Locking your copy…" } else { "Save passphrase and continue" }}
                            </button>
                        </form>
                    </div>
                </div>
            </main>
        </div>
    }
}

/// Moves focus to the error summary once it is on the page (the NHS pattern), so a screen
/// reader hears it and the field links are next.
fn focus_error_summary() {
    leptos::task::spawn_local(async {
        gloo_timers::future::TimeoutFuture::new(0).await;
        use wasm_bindgen::JsCast;
        if let Some(summary) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.get_element_by_id("passphrase-problem"))
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = summary.focus();
        }
    });
}
