//! The sign-in page.

use leptos::prelude::*;

use crate::core::api::CurrentUser;
use crate::web::client::api;

/// Email and password form. What was typed stays in place when sign-in fails.
#[component]
pub fn SignInPage(
    /// Why the session check failed, if it did (e.g. the server is unreachable).
    problem: Option<String>,
    /// Called with the user and the password once signed in (the password also protects the
    /// copy kept on this device for working offline).
    on_signed_in: Callback<(CurrentUser, String)>,
) -> impl IntoView {
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let sign_in = Action::new_local(|(email, password): &(String, String)| {
        let (email, password) = (email.clone(), password.clone());
        async move {
            api::sign_in(&email, &password)
                .await
                .map(|user| (user, password))
        }
    });
    Effect::new(move || {
        if let Some(Ok(signed_in)) = sign_in.value().get() {
            on_signed_in.run(signed_in);
        }
    });
    let error = move || match sign_in.value().get() {
        Some(Err(e)) => Some(e.to_string()),
        _ => problem.clone(),
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        sign_in.dispatch((email.get_untracked(), password.get_untracked()));
    };
    view! {
        <div class="nhsuk-width-container">
            <main class="nhsuk-main-wrapper" id="maincontent">
                <div class="nhsuk-grid-row">
                    <div class="nhsuk-grid-column-two-thirds">
                        <h1>"Sign in"</h1>
                        <p class="nhsuk-body">"Use the email address and password your MDT coordinator set up for you."</p>
                        {move || error().map(|e| view! {
                            <div class="nhsuk-error-summary" role="alert" tabindex="-1">
                                <h2 class="nhsuk-error-summary__title">"There is a problem"</h2>
                                <div class="nhsuk-error-summary__body"><p>{e}</p></div>
                            </div>
                        })}
                        <form on:submit=on_submit novalidate>
                            <div class="nhsuk-form-group">
                                <label class="nhsuk-label" for="email">"Email address"</label>
                                <input class="nhsuk-input" id="email" name="email" type="email" autocomplete="username"
                                    spellcheck="false" prop:value=move || email.get()
                                    on:input=move |ev| email.set(event_target_value(&ev))/>
                            </div>
                            <div class="nhsuk-form-group">
                                <label class="nhsuk-label" for="password">"Password"</label>
                                <input class="nhsuk-input" id="password" name="password" type="password"
                                    autocomplete="current-password" prop:value=move || password.get()
                                    on:input=move |ev| password.set(event_target_value(&ev))/>
                            </div>
                            <button class="nhsuk-button" type="submit" disabled=move || sign_in.pending().get()>
                                {move || if sign_in.pending().get() { "Signing in…" } else { "Sign in" }}
                            </button>
                        </form>
                    </div>
                </div>
            </main>
        </div>
    }
}
