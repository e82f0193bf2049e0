//! The second step of signing in with a password, when the account has or needs a second
//! factor: a code from an authenticator app (or a recovery code), or setting the app up from a
//! QR code, with the key also as text for typing in, and then the recovery codes to keep.

use leptos::prelude::*;

use crate::core::api::{CurrentUser, SecondFactorNeeded, SecondFactorSetUp};
use crate::web::client::api;

/// The field the code is typed into.
const CODE_FIELD: &str = "second-factor-code";
/// The error summary's id (focused when it appears, as the NHS pattern asks).
const SUMMARY: &str = "second-factor-problem";

/// Asks for the second factor of a waiting sign-in.
#[component]
pub fn SecondFactorStep(
    /// The waiting sign-in.
    needed: SecondFactorNeeded,
    /// Called once signed in.
    on_done: Callback<CurrentUser>,
    /// Back to the email and password (a sign-in that expired or ran out of tries).
    on_restart: Callback<()>,
) -> impl IntoView {
    let pending = StoredValue::new(needed.pending.clone());
    let code = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    // Set-up: the QR code and key once asked for; then the recovery codes once confirmed.
    let set_up = RwSignal::new(None::<SecondFactorSetUp>);
    let kept = RwSignal::new(None::<(CurrentUser, Vec<String>)>);
    let setting_up = needed.set_up;
    if setting_up {
        leptos::task::spawn_local(async move {
            match api::second_factor_set_up(&pending.get_value()).await {
                Ok(answer) => {
                    set_up.try_set(Some(answer));
                }
                Err(e) => {
                    problem.try_set(Some(e.to_string()));
                }
            }
        });
    }
    let fail = move |message: String| {
        problem.set(Some(message));
        busy.set(false);
        focus_after_render(SUMMARY);
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let typed = code.get_untracked();
        if typed.trim().is_empty() {
            fail("Enter the 6-digit code from your authenticator app".into());
            return;
        }
        busy.set(true);
        leptos::task::spawn_local(async move {
            let pending = pending.get_value();
            if setting_up {
                match api::second_factor_confirm(&pending, &typed).await {
                    Ok(ready) => {
                        busy.set(false);
                        problem.set(None);
                        kept.set(Some((ready.user, ready.recovery_codes)));
                        focus_after_render("recovery-codes-heading");
                    }
                    Err(e) => fail(e.to_string()),
                }
            } else {
                match api::second_factor_code(&pending, &typed).await {
                    Ok(user) => on_done.run(user),
                    Err(e) => fail(e.to_string()),
                }
            }
        });
    };
    let summary = move || {
        problem.get().map(|message| {
            let expired = message.contains("Start again");
            view! {
                <div class="nhsuk-error-summary" id=SUMMARY role="alert" tabindex="-1" aria-labelledby="second-factor-problem-title">
                    <h2 class="nhsuk-error-summary__title" id="second-factor-problem-title">"There is a problem"</h2>
                    <div class="nhsuk-error-summary__body">
                        <ul class="nhsuk-list nhsuk-error-summary__list">
                            <li><a href=format!("#{CODE_FIELD}")>{message}</a></li>
                        </ul>
                        {expired.then(|| view! {
                            <p><button type="button" class="mdt-link-button" on:click=move |_| on_restart.run(())>"Start again"</button></p>
                        })}
                    </div>
                </div>
            }
        })
    };
    let code_form = move |label: &'static str, hint: &'static str, button: &'static str| {
        view! {
            <form on:submit=submit novalidate>
                <div class=move || if problem.get().is_some() { "nhsuk-form-group nhsuk-form-group--error" } else { "nhsuk-form-group" }>
                    <label class="nhsuk-label" for=CODE_FIELD>{label}</label>
                    <div class="nhsuk-hint" id="second-factor-hint">{hint}</div>
                    <input class="nhsuk-input nhsuk-input--width-10" id=CODE_FIELD name="code" type="text"
                        autocomplete="one-time-code" spellcheck="false" aria-describedby="second-factor-hint"
                        prop:value=move || code.get() on:input=move |ev| code.set(event_target_value(&ev))/>
                </div>
                <button class="nhsuk-button" type="submit" disabled=move || busy.get()>
                    {move || if busy.get() { "Checking…" } else { button }}
                </button>
            </form>
        }
    };
    move || {
        if let Some((user, codes)) = kept.get() {
            return view! {
                <h1 id="recovery-codes-heading" tabindex="-1">"Keep your recovery codes"</h1>
                <p class="nhsuk-body">"Your authenticator app is set up. If you lose your phone, each of these codes signs you in once instead of a code from the app. Print them or keep them somewhere safe that is not your phone; they are not shown again."</p>
                <ul class="nhsuk-list mdt-recovery-codes" data-testid="recovery-codes">
                    {codes.into_iter().map(|c| view! { <li><code>{c}</code></li> }).collect_view()}
                </ul>
                <button class="nhsuk-button" type="button" on:click=move |_| on_done.run(user.clone())>
                    "I have kept my recovery codes: continue"
                </button>
            }
            .into_any();
        }
        if setting_up {
            view! {
                <h1>"Set up your authenticator app"</h1>
                <p class="nhsuk-body">"Signing in here needs a second step as well as your password, to protect patient information. Use an authenticator app on your phone (for example Microsoft Authenticator or Google Authenticator)."</p>
                {summary}
                {move || set_up.get().map(|s| view! {
                    <ol class="nhsuk-list nhsuk-list--number">
                        <li>"In the app, choose to add an account and scan this QR code:"
                            <div class="mdt-qr" role="img" aria-label="QR code for your authenticator app" inner_html=s.qr_svg></div>
                        </li>
                        <li>"Or, if you cannot scan it, type this key into the app:"
                            <p class="nhsuk-body"><code data-testid="second-factor-key">{s.secret}</code></p>
                        </li>
                        <li>"Enter the 6-digit code the app now shows."</li>
                    </ol>
                })}
                {code_form("Code from the app", "The code changes every 30 seconds.", "Check code")}
            }
            .into_any()
        } else {
            view! {
                <h1>"Enter the code from your authenticator app"</h1>
                {summary}
                {code_form(
                    "Code from your authenticator app",
                    "The 6 digits the app shows now. Lost your phone? Enter one of your recovery codes instead.",
                    "Continue",
                )}
            }
            .into_any()
        }
    }
}

/// Moves focus to the element `id` once the page has drawn it.
fn focus_after_render(id: &'static str) {
    leptos::task::spawn_local(async move {
        gloo_timers::future::TimeoutFuture::new(0).await;
        use wasm_bindgen::JsCast;
        if let Some(element) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.get_element_by_id(id))
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = element.focus();
        }
    });
}
