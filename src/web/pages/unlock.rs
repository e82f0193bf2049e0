//! The screens between signing in and the app: unlocking the copy on this device (offline, or
//! after the idle lock), and "the app is open in another tab".

use leptos::prelude::*;

use crate::web::client::vault::LastUser;

/// Asks for the password to open the copy kept on this device.
#[component]
pub fn UnlockPage(
    /// Whose copy it is.
    user: LastUser,
    /// Why it is locked, shown above the form.
    reason: String,
    /// A failed attempt, in words.
    #[prop(into)]
    problem: Signal<Option<String>>,
    /// Unlocking is under way (the key takes a moment to derive).
    #[prop(into)]
    busy: Signal<bool>,
    /// Called with the password typed.
    on_unlock: Callback<String>,
    /// Signing in as someone else (the copy stays until its owner signs out).
    on_switch_user: Callback<()>,
) -> impl IntoView {
    let password = RwSignal::new(String::new());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        on_unlock.run(password.get_untracked());
        password.set(String::new());
    };
    view! {
        <div class="nhsuk-width-container">
            <main class="nhsuk-main-wrapper" id="maincontent">
                <div class="nhsuk-grid-row">
                    <div class="nhsuk-grid-column-two-thirds">
                        <h1>"Unlock"</h1>
                        <p class="nhsuk-body" data-testid="lock-reason">{reason}</p>
                        <p class="nhsuk-body">{if user.passphrase {
                            format!("Enter the offline passphrase {} ({}) set for this device.", user.name, user.email)
                        } else {
                            format!("Enter the password of {} ({}).", user.name, user.email)
                        }}</p>
                        {move || problem.get().map(|e| view! {
                            <div class="nhsuk-error-summary" role="alert" tabindex="-1">
                                <h2 class="nhsuk-error-summary__title">"There is a problem"</h2>
                                <div class="nhsuk-error-summary__body"><p>{e}</p></div>
                            </div>
                        })}
                        <form on:submit=submit novalidate>
                            <input type="email" name="email" autocomplete="username" value=user.email.clone() hidden/>
                            <div class="nhsuk-form-group">
                                <label class="nhsuk-label" for="unlock-password">{if user.passphrase { "Offline passphrase" } else { "Password" }}</label>
                                <input class="nhsuk-input" id="unlock-password" type="password" autocomplete="current-password"
                                    prop:value=move || password.get() on:input=move |ev| password.set(event_target_value(&ev))/>
                            </div>
                            <button class="nhsuk-button" type="submit" disabled=move || busy.get()>
                                {move || if busy.get() { "Unlocking…" } else { "Unlock" }}
                            </button>
                        </form>
                        <p class="nhsuk-body-s">
                            <button type="button" class="mdt-link-button" on:click=move |_| on_switch_user.run(())>
                                "Not you? Sign in as someone else"
                            </button>
                        </p>
                    </div>
                </div>
            </main>
        </div>
    }
}

/// Shown when another tab or window already has the app open for this person.
#[component]
pub fn OpenElsewherePage() -> impl IntoView {
    view! {
        <div class="nhsuk-width-container">
            <main class="nhsuk-main-wrapper" id="maincontent">
                <h1>"The app is open in another tab"</h1>
                <p class="nhsuk-body" data-testid="open-elsewhere">
                    "To keep your changes in order, the app works in one tab or window at a time. Use the other one, or close it and then reload this page."
                </p>
                <button type="button" class="nhsuk-button" on:click=move |_| {
                    if let Some(w) = web_sys::window() { let _ = w.location().reload(); }
                }>"Reload this page"</button>
            </main>
        </div>
    }
}
