//! The sign-in page.

use leptos::prelude::*;

use crate::core::api::{CurrentUser, SecondFactorNeeded};
use crate::web::client::api;
use crate::web::components::{described_by, problem_at, FieldError, Problem, ProblemSummary};
use crate::web::pages::second_factor::SecondFactorStep;

/// Which field of the sign-in form had the keyboard focus.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SignInField {
    Email,
    Password,
}

/// What a person did in the page's static sign-in form (`index.html`) before the app arrived
/// to take it over: the app's form starts from it, so nothing typed is lost.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TypedBeforeStart {
    pub email: String,
    pub password: String,
    pub focused: Option<SignInField>,
    /// They pressed "Sign in" (or Enter): the app signs in straight away.
    pub sign_in_requested: bool,
}

/// Email and password form. What was typed stays in place when sign-in fails.
#[component]
pub fn SignInPage(
    /// Why the session check failed, if it did (e.g. the server is unreachable).
    problem: Option<String>,
    /// What was typed into the static form before the app started, if anything.
    typed: Option<TypedBeforeStart>,
    /// Called with the user and the password once signed in (the password also protects the
    /// copy kept on this device for working offline).
    on_signed_in: Callback<(CurrentUser, String)>,
) -> impl IntoView {
    let typed = typed.unwrap_or_default();
    let email = RwSignal::new(typed.email);
    let password = RwSignal::new(typed.password);
    let sign_in = Action::new_local(|(email, password): &(String, String)| {
        let (email, password) = (email.clone(), password.clone());
        async move {
            api::sign_in(&email, &password)
                .await
                .map(|user| (user, password))
        }
    });
    // A right password for an account with a second factor: its step comes next.
    let waiting = RwSignal::new(None::<SecondFactorNeeded>);
    Effect::new(move || match sign_in.value().get() {
        Some(Ok((api::SignInStep::SignedIn(user), password))) => on_signed_in.run((user, password)),
        Some(Ok((api::SignInStep::SecondFactor(needed), _))) => waiting.set(Some(needed)),
        _ => {}
    });
    // What stops the sign-in, each linked to its field: an empty field is caught here; the
    // server's refusal (a wrong email or password, too many tries) points at the email address,
    // where someone starts again; no connection is about the whole form.
    let missing = RwSignal::new(Vec::<Problem>::new());
    let problems = Signal::derive(move || {
        let missing = missing.get();
        if !missing.is_empty() || sign_in.pending().get() {
            return missing;
        }
        match sign_in.value().get() {
            Some(Err(e @ api::ApiError::Refused(_))) => vec![Problem::at("email", e.to_string())],
            Some(Err(e)) => vec![Problem::general(e.to_string())],
            _ => problem.clone().map(Problem::general).into_iter().collect(),
        }
    });
    let email_error = problem_at(problems, "email".to_owned());
    let password_error = problem_at(problems, "password".to_owned());
    let try_sign_in = move || {
        let (typed_email, typed_password) = (email.get_untracked(), password.get_untracked());
        let mut empty = Vec::new();
        if typed_email.trim().is_empty() {
            empty.push(Problem::at("email", "Enter your email address"));
        }
        if typed_password.is_empty() {
            empty.push(Problem::at("password", "Enter your password"));
        }
        let ready = empty.is_empty();
        missing.set(empty);
        if ready {
            sign_in.dispatch((typed_email, typed_password));
        }
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        try_sign_in();
    };
    // Carry on where the static form left off: the same field keeps the keyboard, and a
    // sign-in already asked for goes ahead.
    if let Some(field) = typed.focused {
        let id = match field {
            SignInField::Email => "email",
            SignInField::Password => "password",
        };
        // Effects run once the page is in place.
        Effect::new(move |_| {
            use wasm_bindgen::JsCast;
            let input = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.get_element_by_id(id))
                .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
            if let Some(input) = input {
                let _ = input.focus();
            }
        });
    }
    if typed.sign_in_requested {
        try_sign_in();
    }
    let second_step = move || {
        waiting.get().map(|needed| {
            let on_done =
                Callback::new(move |user| on_signed_in.run((user, password.get_untracked())));
            let on_restart = Callback::new(move |_| {
                password.set(String::new());
                waiting.set(None);
            });
            view! {
                <Suspense fallback=|| view! { <p class="nhsuk-body" role="status">"Loading…"</p> }>
                    {move || Suspend::new(second_factor_step(needed.clone(), on_done, on_restart))}
                </Suspense>
            }
        })
    };
    view! {
        <div class="nhsuk-width-container">
            <main class="nhsuk-main-wrapper" id="maincontent">
                <div class="nhsuk-grid-row">
                    <div class="nhsuk-grid-column-two-thirds">
                        {second_step}
                        <div hidden=move || waiting.get().is_some()>
                        <h1>"Sign in"</h1>
                        <p class="nhsuk-body">"Use the email address and password your MDT coordinator set up for you."</p>
                        <ProblemSummary problems=problems/>
                        <form on:submit=on_submit novalidate>
                            <div class="nhsuk-form-group" class:nhsuk-form-group--error=move || email_error.get().is_some()>
                                <label class="nhsuk-label" for="email">"Email address"</label>
                                <FieldError field_id="email".to_owned() error=email_error/>
                                <input class="nhsuk-input" class:nhsuk-input--error=move || email_error.get().is_some()
                                    id="email" name="email" type="email" autocomplete="username"
                                    aria-describedby=described_by("email".to_owned(), email_error)
                                    spellcheck="false" prop:value=move || email.get()
                                    on:input=move |ev| email.set(event_target_value(&ev))/>
                            </div>
                            <div class="nhsuk-form-group" class:nhsuk-form-group--error=move || password_error.get().is_some()>
                                <label class="nhsuk-label" for="password">"Password"</label>
                                <FieldError field_id="password".to_owned() error=password_error/>
                                <input class="nhsuk-input" class:nhsuk-input--error=move || password_error.get().is_some()
                                    id="password" name="password" type="password"
                                    aria-describedby=described_by("password".to_owned(), password_error)
                                    autocomplete="current-password" prop:value=move || password.get()
                                    on:input=move |ev| password.set(event_target_value(&ev))/>
                            </div>
                            <button class="nhsuk-button" type="submit" disabled=move || sign_in.pending().get()>
                                {move || if sign_in.pending().get() { "Signing in…" } else { "Sign in" }}
                            </button>
                        </form>
                        <SignInThroughOrganisation/>
                        </div>
                    </div>
                </div>
            </main>
        </div>
    }
}

/// The second-factor step, loaded when first needed: most sign-ins never need it, so its code
/// stays out of the first page's download (split out with the `lazy-pages` feature).
#[cfg_attr(feature = "lazy-pages", leptos::lazy)]
async fn second_factor_step(
    needed: SecondFactorNeeded,
    on_done: Callback<CurrentUser>,
    on_restart: Callback<()>,
) -> AnyView {
    view! { <SecondFactorStep needed=needed on_done=on_done on_restart=on_restart/> }.into_any()
}

/// "Sign in with …" buttons for each single sign-on provider the site administrator set up
/// (nothing when there are none, or when the server cannot be asked). Below the form, so
/// they never move it when they arrive.
#[component]
fn SignInThroughOrganisation() -> impl IntoView {
    let providers = RwSignal::new(Vec::new());
    leptos::task::spawn_local(async move {
        if let Ok(options) = api::sign_in_options().await {
            providers.try_set(options.providers);
        }
    });
    move || {
        let providers = providers.get();
        (!providers.is_empty()).then(|| {
            view! {
                <div class="mdt-sign-in-through" data-testid="sign-in-through">
                    <h2 class="nhsuk-heading-s">"Or sign in through your organisation"</h2>
                    <ul class="nhsuk-list">
                        {providers.into_iter().map(|p| view! {
                            <li>
                                <a class="nhsuk-button nhsuk-button--secondary" rel="external" href=api::sign_in_through(&p.id)>
                                    {format!("Sign in with {}", p.label)}
                                </a>
                            </li>
                        }).collect_view()}
                    </ul>
                </div>
            }
        })
    }
}
