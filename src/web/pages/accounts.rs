//! Accounts, for site administrators: who can sign in, adding an account, disabling and enabling
//! one, and setting a new password. Nothing here shows teams or patients: being a site
//! administrator gives no access to patient data (that comes only from belonging to a team).

use leptos::prelude::*;
use uuid::Uuid;

use crate::core::api::{Account, CurrentUser, NewAccount};
use crate::core::entities::Role;
use crate::core::uk_time;
use crate::web::client::api;
use crate::web::components::{RoleSelect, TextField};

/// `/accounts`.
#[component]
pub fn AccountsPage() -> impl IntoView {
    let me = expect_context::<CurrentUser>();
    if !me.site_admin {
        return view! {
            <h1>"Accounts"</h1>
            <div class="nhsuk-inset-text"><p>"Only site administrators can manage accounts. Ask yours if someone needs an account, or needs theirs disabled."</p></div>
        }
        .into_any();
    }
    let accounts = LocalResource::new(api::accounts);
    let notice = RwSignal::new(None::<String>);
    let refresh = move |message: String| {
        notice.set(Some(message));
        accounts.refetch();
    };
    view! {
        <h1>"Accounts"</h1>
        <p class="nhsuk-body">"Everyone who can sign in. As a site administrator you manage accounts here; you see a team's patients only if you are in that team."</p>
        {move || notice.get().map(|n| view! { <div class="nhsuk-inset-text" role="status" data-testid="accounts-notice"><p>{n}</p></div> })}
        {move || match accounts.get() {
            None => view! { <p class="nhsuk-body" role="status">"Loading the accounts…"</p> }.into_any(),
            Some(Err(e)) => view! { <p class="nhsuk-error-message" role="alert">{e.to_string()}</p> }.into_any(),
            Some(Ok(list)) => view! { <AccountTable accounts=list me=me.user_id on_changed=Callback::new(refresh)/> }.into_any(),
        }}
        <AddAccountForm on_added=Callback::new(refresh)/>
        <SignInRules/>
    }
    .into_any()
}

/// "How people sign in": the second-factor rule and the single sign-on providers.
#[component]
fn SignInRules() -> impl IntoView {
    let settings = LocalResource::new(api::sign_in_settings);
    let notice = RwSignal::new(None::<Result<String, String>>);
    let done = move |result: Result<String, String>| {
        notice.set(Some(result));
        settings.refetch();
    };
    view! {
        <h2 id="sign-in-rules">"How people sign in"</h2>
        {move || notice.get().map(|n| match n {
            Ok(text) => view! { <div class="nhsuk-inset-text" role="status"><p>{text}</p></div> }.into_any(),
            Err(text) => view! { <p class="nhsuk-error-message" role="alert">{text}</p> }.into_any(),
        })}
        {move || match settings.get() {
            None => view! { <p class="nhsuk-body" role="status">"Loading how people sign in…"</p> }.into_any(),
            Some(Err(e)) => view! { <p class="nhsuk-error-message" role="alert">{e.to_string()}</p> }.into_any(),
            Some(Ok(s)) => view! {
                <SecondFactorRuleForm required=s.second_factor_required on_done=Callback::new(done)/>
                <h3>"Signing in through an organisation"</h3>
                {match (&s.redirect_uri, &s.jwks_uri) {
                    (Some(redirect), Some(jwks)) => view! {
                        <p class="nhsuk-body mdt-break">"Register this app with each provider (NHS CIS2, Microsoft Entra ID) with the redirect URI "
                            <code>{redirect.clone()}</code>"; for private_key_jwt (CIS2) give it the public keys at "<code>{jwks.clone()}</code>"."</p>
                    }.into_any(),
                    _ => view! {
                        <div class="nhsuk-warning-callout"><h4 class="nhsuk-warning-callout__label">"Not ready"</h4>
                            <p>"The server was started without --public-url, so providers have no address to send people back to. Restart it with its public address first."</p></div>
                    }.into_any(),
                }}
                <ProviderList providers=s.providers on_done=Callback::new(done)/>
                <ProviderForm on_done=Callback::new(done)/>
            }.into_any(),
        }}
    }
}

/// The second-factor rule: everyone, or site administrators only.
#[component]
fn SecondFactorRuleForm(
    required: bool,
    on_done: Callback<Result<String, String>>,
) -> impl IntoView {
    let checked = RwSignal::new(required);
    let save = Action::new_local(move |required: &bool| {
        let required = *required;
        async move {
            on_done.run(
                api::set_second_factor_rule(required)
                    .await
                    .map(|()| {
                        if required {
                            "Everyone who signs in with a password now needs an authenticator app: each sets one up at their next sign-in.".to_owned()
                        } else {
                            "Only site administrators now need an authenticator app.".to_owned()
                        }
                    })
                    .map_err(|e| e.to_string()),
            );
        }
    });
    view! {
        <form novalidate on:submit=move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            save.dispatch(checked.get_untracked());
        }>
            <crate::web::components::Checkbox id="second-factor-required"
                label="Require a second factor of everyone who signs in with a password"
                hint="They set up an authenticator app at their next sign-in. Site administrators always need one; people who sign in through their organisation prove it there."
                checked=checked/>
            <button class="nhsuk-button nhsuk-button--secondary" type="submit" disabled=move || save.pending().get()>"Save the rule"</button>
        </form>
    }
}

/// The providers set up, each with a way to remove it.
#[component]
fn ProviderList(
    providers: Vec<crate::core::sign_in::ProviderSettings>,
    on_done: Callback<Result<String, String>>,
) -> impl IntoView {
    if providers.is_empty() {
        return view! { <p class="nhsuk-body">"No providers yet: everyone signs in with an email address and password."</p> }.into_any();
    }
    let remove = Action::new_local(move |(id, label): &(String, String)| {
        let (id, label) = (id.clone(), label.clone());
        async move {
            on_done.run(
                api::remove_provider(&id)
                    .await
                    .map(|()| format!("Removed {label}: nobody can sign in through it now."))
                    .map_err(|e| e.to_string()),
            );
        }
    });
    view! {
        <ul class="nhsuk-list" data-testid="providers">
            {providers.into_iter().map(|p| {
                let (id, label) = (p.id.clone(), p.label.clone());
                let domains = if p.domains.is_empty() { "invited people only".to_owned() } else { p.domains.join(", ") };
                view! {
                    <li class="nhsuk-card"><div class="nhsuk-card__content">
                        <h4 class="nhsuk-card__heading">{format!("Sign in with {}", p.label)}</h4>
                        <dl class="nhsuk-summary-list">
                            <div class="nhsuk-summary-list__row"><dt class="nhsuk-summary-list__key">"Issuer"</dt><dd class="nhsuk-summary-list__value mdt-break">{p.issuer.clone()}</dd></div>
                            <div class="nhsuk-summary-list__row"><dt class="nhsuk-summary-list__key">"Client"</dt><dd class="nhsuk-summary-list__value">{format!("{} ({})", p.client_id, match p.client_authentication {
                                crate::core::sign_in::ClientAuthentication::Secret => "client secret",
                                crate::core::sign_in::ClientAuthentication::PrivateKeyJwt => "private_key_jwt",
                            })}</dd></div>
                            <div class="nhsuk-summary-list__row"><dt class="nhsuk-summary-list__key">"New accounts for"</dt><dd class="nhsuk-summary-list__value">{domains}</dd></div>
                        </dl>
                        <button type="button" class="mdt-link-button" on:click=move |_| {
                            let confirmed = web_sys::window()
                                .and_then(|w| w.confirm_with_message(&format!("Remove {label}? Nobody can sign in through it until it is added again.")).ok())
                                .unwrap_or(false);
                            if confirmed {
                                remove.dispatch((id.clone(), label.clone()));
                            }
                        }>"Remove"<span class="nhsuk-u-visually-hidden">{format!(" {}", p.label)}</span></button>
                    </div></li>
                }
            }).collect_view()}
        </ul>
    }
    .into_any()
}

/// Adds a provider (or changes one with the same short name).
#[component]
fn ProviderForm(on_done: Callback<Result<String, String>>) -> impl IntoView {
    use crate::core::sign_in::{
        parse_domains, ClientAuthentication, ProviderSettings, ProviderUpdate,
    };
    let id = RwSignal::new(String::new());
    let label = RwSignal::new(String::new());
    let issuer = RwSignal::new(String::new());
    let client_id = RwSignal::new(String::new());
    let private_key_jwt = RwSignal::new(false);
    let secret = RwSignal::new(String::new());
    let pem = RwSignal::new(String::new());
    let scopes = RwSignal::new("openid email profile".to_owned());
    let email_claim = RwSignal::new("email".to_owned());
    let acr = RwSignal::new(String::new());
    let domains = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let save = Action::new_local(move |update: &ProviderUpdate| {
        let update = update.clone();
        async move {
            match api::put_provider(&update).await {
                Ok(saved) => {
                    error.set(None);
                    for field in [id, label, issuer, client_id, secret, pem, acr, domains] {
                        field.set(String::new());
                    }
                    on_done.run(Ok(format!(
                        "People can now choose \"Sign in with {}\".",
                        saved.label
                    )));
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        }
    });
    let no_error = Signal::derive(|| None::<String>);
    view! {
        <details class="nhsuk-details">
            <summary class="nhsuk-details__summary"><span class="nhsuk-details__summary-text">"Add a provider"</span></summary>
            <div class="nhsuk-details__text">
                <form novalidate on:submit=move |ev: leptos::ev::SubmitEvent| {
                    ev.prevent_default();
                    let jwt = private_key_jwt.get_untracked();
                    save.dispatch(ProviderUpdate {
                        settings: ProviderSettings {
                            id: id.get_untracked().trim().to_owned(),
                            label: label.get_untracked().trim().to_owned(),
                            issuer: issuer.get_untracked().trim().to_owned(),
                            client_id: client_id.get_untracked().trim().to_owned(),
                            client_authentication: if jwt { ClientAuthentication::PrivateKeyJwt } else { ClientAuthentication::Secret },
                            scopes: scopes.get_untracked().trim().to_owned(),
                            email_claim: email_claim.get_untracked().trim().to_owned(),
                            acr_values: Some(acr.get_untracked().trim().to_owned()).filter(|a| !a.is_empty()),
                            domains: parse_domains(&domains.get_untracked()),
                        },
                        client_secret: (!jwt).then(|| secret.get_untracked()),
                        private_key_pem: jwt.then(|| pem.get_untracked()),
                    });
                }>
                    {move || error.get().map(|e| view! {
                        <div class="nhsuk-error-summary" role="alert" tabindex="-1">
                            <h2 class="nhsuk-error-summary__title">"The provider was not saved"</h2>
                            <div class="nhsuk-error-summary__body"><p>{e}</p></div>
                        </div>
                    })}
                    <TextField id="provider-label".into() label="Name on the button" hint="\"Sign in with …\", for example NHS Care Identity" value=label error=no_error/>
                    <TextField id="provider-id".into() label="Short name" hint="Lower-case letters, digits and hyphens, for example nhs-cis2" value=id error=no_error/>
                    <TextField id="provider-issuer".into() label="Issuer" hint="Exactly as the provider's discovery document gives it" value=issuer error=no_error/>
                    <TextField id="provider-client-id".into() label="Client id" value=client_id error=no_error/>
                    <crate::web::components::Checkbox id="provider-private-key-jwt" label="Authenticate with private_key_jwt (CIS2)"
                        hint="Otherwise with a client secret (Entra ID)." checked=private_key_jwt/>
                    <div hidden=move || private_key_jwt.get()>
                        <TextField id="provider-secret".into() label="Client secret" value=secret error=no_error input_type="password" autocomplete="off"/>
                    </div>
                    <div class="nhsuk-form-group" hidden=move || !private_key_jwt.get()>
                        <label class="nhsuk-label" for="provider-key">"RSA private key (PEM)"</label>
                        <div class="nhsuk-hint" id="provider-key-hint">"Its public half is published for the provider at /api/sso/jwks.json."</div>
                        <textarea class="nhsuk-textarea" id="provider-key" rows="6" aria-describedby="provider-key-hint" spellcheck="false"
                            prop:value=move || pem.get() on:input=move |ev| pem.set(event_target_value(&ev))></textarea>
                    </div>
                    <TextField id="provider-scopes".into() label="Scopes" value=scopes error=no_error/>
                    <TextField id="provider-email-claim".into() label="Claim holding each person's email" hint="The ID token claim: email; for Entra ID without email, preferred_username" value=email_claim error=no_error/>
                    <TextField id="provider-acr".into() label="acr values (optional)" hint="Asked for and required, for example AAL3_ANY for CIS2" value=acr error=no_error/>
                    <TextField id="provider-domains".into() label="Email domains that may make an account" hint="Separated by commas, for example northshire.gov.uk. Anyone else needs an account made for them here." value=domains error=no_error/>
                    <button class="nhsuk-button" type="submit" disabled=move || save.pending().get()>"Save provider"</button>
                </form>
            </div>
        </details>
    }
}

/// The accounts with their status and what can be done to each.
#[component]
fn AccountTable(
    accounts: Vec<Account>,
    /// The administrator's own account: it cannot be disabled or reset from here.
    me: Uuid,
    on_changed: Callback<String>,
) -> impl IntoView {
    let resetting = RwSignal::new(None::<Uuid>);
    let error = RwSignal::new(None::<String>);
    let set_disabled = Action::new_local(move |(id, name, disabled): &(Uuid, String, bool)| {
        let (id, name, disabled) = (*id, name.clone(), *disabled);
        async move {
            match api::set_account_disabled(id, disabled).await {
                Ok(()) => {
                    error.set(None);
                    on_changed.run(if disabled {
                        format!("{name} can no longer sign in; their sessions have ended.")
                    } else {
                        format!("{name} can sign in again.")
                    });
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        }
    });
    let end_sessions = Action::new_local(move |(id, name): &(Uuid, String)| {
        let (id, name) = (*id, name.clone());
        async move {
            match api::end_account_sessions(id).await {
                Ok(()) => {
                    error.set(None);
                    on_changed.run(format!(
                        "{name} is signed out everywhere. They can sign in again."
                    ));
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        }
    });
    view! {
        {move || error.get().map(|e| view! { <p class="nhsuk-error-message" role="alert">{e}</p> })}
        <table class="nhsuk-table-responsive" data-testid="accounts">
            <caption class="nhsuk-table__caption nhsuk-u-visually-hidden">"Accounts"</caption>
            <thead class="nhsuk-table__head" role="rowgroup">
                <tr role="row"><th scope="col" role="columnheader">"Name"</th><th scope="col" role="columnheader">"Email"</th><th scope="col" role="columnheader">"Role"</th><th scope="col" role="columnheader">"Status"</th><th scope="col" role="columnheader">"Last active"</th><th scope="col" role="columnheader">"Actions"</th></tr>
            </thead>
            <tbody class="nhsuk-table__body">
                {accounts.into_iter().map(|a| {
                    let (id, name) = (a.user_id, a.name.clone());
                    let own = id == me;
                    view! {
                        <tr role="row" class="nhsuk-table__row" data-testid="account-row">
                            <td role="cell" class="nhsuk-table__cell"><span class="nhsuk-table-responsive__heading" aria-hidden="true">"Name "</span>{a.name.clone()}</td>
                            <td role="cell" class="nhsuk-table__cell"><span class="nhsuk-table-responsive__heading" aria-hidden="true">"Email "</span>{a.email.clone()}</td>
                            <td role="cell" class="nhsuk-table__cell"><span class="nhsuk-table-responsive__heading" aria-hidden="true">"Role "</span>{a.role.label()}</td>
                            <td role="cell" class="nhsuk-table__cell"><span class="nhsuk-table-responsive__heading" aria-hidden="true">"Status "</span>
                                {if a.disabled {
                                    view! { <strong class="nhsuk-tag nhsuk-tag--grey">"Disabled"</strong> }.into_any()
                                } else {
                                    view! { <strong class="nhsuk-tag nhsuk-tag--green">"Active"</strong> }.into_any()
                                }}
                                {a.site_admin.then(|| view! { " "<strong class="nhsuk-tag nhsuk-tag--blue">"Site administrator"</strong> })}
                            </td>
                            <td role="cell" class="nhsuk-table__cell"><span class="nhsuk-table-responsive__heading" aria-hidden="true">"Last active "</span>{a.last_active.map_or_else(|| "No session now".to_string(), uk_time::format_uk)}</td>
                            <td role="cell" class="nhsuk-table__cell mdt-actions">
                                {(!own).then(|| {
                                    let disabled = a.disabled;
                                    let name_for_reset = name.clone();
                                    let name_shown = name.clone();
                                    let name_for_sign_out = name.clone();
                                    view! {
                                        <button type="button" class="mdt-link-button"
                                            on:click=move |_| {
                                                // Disabling ends their sessions at once: ask first.
                                                let confirmed = !disabled
                                                    || web_sys::window()
                                                        .and_then(|w| w.confirm_with_message(&format!("Disable {name}'s account? They are signed out everywhere at once and cannot sign in until it is enabled again.")).ok())
                                                        .unwrap_or(false);
                                                if confirmed {
                                                    set_disabled.dispatch((id, name.clone(), !disabled));
                                                }
                                            }>
                                            {if disabled { "Enable" } else { "Disable" }}<span class="nhsuk-u-visually-hidden">{format!(" {name_shown}")}</span>
                                        </button>
                                        " "
                                        <button type="button" class="mdt-link-button"
                                            on:click={
                                                let name = name_for_sign_out.clone();
                                                move |_| {
                                                    let confirmed = web_sys::window()
                                                        .and_then(|w| w.confirm_with_message(&format!("Sign {name} out everywhere? Every browser they are signed in with must sign in again.")).ok())
                                                        .unwrap_or(false);
                                                    if confirmed {
                                                        end_sessions.dispatch((id, name.clone()));
                                                    }
                                                }
                                            }>
                                            "Sign out everywhere"<span class="nhsuk-u-visually-hidden">{format!(" {}", name_for_sign_out)}</span>
                                        </button>
                                        " "
                                        <button type="button" class="mdt-link-button" aria-expanded=move || (resetting.get() == Some(id)).to_string()
                                            on:click=move |_| resetting.update(|r| *r = if *r == Some(id) { None } else { Some(id) })>
                                            "Set a new password"<span class="nhsuk-u-visually-hidden">{format!(" for {name_for_reset}")}</span>
                                        </button>
                                    }
                                })}
                                {own.then_some("This is you")}
                                {move || (resetting.get() == Some(id)).then(|| view! {
                                    <PasswordForm user=id on_done=Callback::new(move |message: String| {
                                        resetting.set(None);
                                        on_changed.run(message);
                                    })/>
                                })}
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

/// A new password for someone who has forgotten theirs (their sessions end).
#[component]
fn PasswordForm(user: Uuid, on_done: Callback<String>) -> impl IntoView {
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let input_id = format!("new-password-{user}");
    let save = Action::new_local(move |value: &String| {
        let value = value.clone();
        async move {
            match api::reset_account_password(user, &value).await {
                Ok(()) => on_done.run(
                    "New password set; their sessions have ended. Pass it on safely and ask them to change it.".into(),
                ),
                Err(e) => error.set(Some(e.to_string())),
            }
        }
    });
    view! {
        <form class="mdt-subpanel" novalidate on:submit=move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            save.dispatch(password.get_untracked());
        }>
            // The server's refusal arrives later: announce it.
            <div aria-live="polite">
                <TextField id=input_id label="New password" value=password error=Signal::derive(move || error.get())
                    hint="At least 12 characters, not a common password." input_type="password" autocomplete="new-password"/>
            </div>
            <button class="nhsuk-button nhsuk-button--secondary" type="submit" disabled=move || save.pending().get()>"Set password"</button>
        </form>
    }
}

/// Adds an account with a first password the administrator passes on.
#[component]
fn AddAccountForm(on_added: Callback<String>) -> impl IntoView {
    let email = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let role = RwSignal::new(Role::Other);
    let password = RwSignal::new(String::new());
    // "" for a password; a provider's id for single sign-on only.
    let way_in = RwSignal::new(String::new());
    let providers = LocalResource::new(api::sign_in_options);
    let error = RwSignal::new(None::<String>);
    let add = Action::new_local(move |new: &NewAccount| {
        let new = new.clone();
        async move {
            match api::add_account(&new).await {
                Ok(account) => {
                    error.set(None);
                    for field in [email, name, password] {
                        field.set(String::new());
                    }
                    role.set(Role::Other);
                    let through = std::mem::take(&mut *way_in.write());
                    on_added.run(if through.is_empty() {
                        format!("Added {} <{}>. They can sign in now.", account.name, account.email)
                    } else {
                        format!(
                            "Added {} <{}>. They sign in through their organisation; their first sign-in there links to this account.",
                            account.name, account.email
                        )
                    });
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        }
    });
    // Errors are about the whole form (from the server), shown in the summary above it.
    let no_error = Signal::derive(|| None::<String>);
    view! {
        <h2 id="add-account">"Add an account"</h2>
        <form novalidate on:submit=move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            add.dispatch(NewAccount {
                email: email.get_untracked().trim().to_owned(),
                name: name.get_untracked().trim().to_owned(),
                role: role.get_untracked(),
                password: password.get_untracked(),
                sso: Some(way_in.get_untracked()).filter(|w| !w.is_empty()),
            });
        }>
            {move || error.get().map(|e| view! {
                <div class="nhsuk-error-summary" role="alert" tabindex="-1">
                    <h2 class="nhsuk-error-summary__title">"The account was not added"</h2>
                    <div class="nhsuk-error-summary__body"><p>{e}</p></div>
                </div>
            })}
            <TextField id="account-name".into() label="Full name" value=name error=no_error/>
            <TextField id="account-email".into() label="Email address" value=email error=no_error input_type="email"/>
            <RoleSelect id="account-role" role=role/>
            {move || {
                let options = providers.get().and_then(Result::ok).map(|o| o.providers).unwrap_or_default();
                (!options.is_empty()).then(|| view! {
                    <div class="nhsuk-form-group">
                        <label class="nhsuk-label" for="account-way-in">"How they sign in"</label>
                        <select class="nhsuk-select" id="account-way-in" on:change=move |ev| way_in.set(event_target_value(&ev))
                            prop:value=move || way_in.get()>
                            <option value="">"With a password you give them"</option>
                            {options.into_iter().map(|p| view! {
                                <option value=p.id.clone()>{format!("Through {} (no password)", p.label)}</option>
                            }).collect_view()}
                        </select>
                    </div>
                })
            }}
            <div hidden=move || !way_in.get().is_empty()>
                <TextField id="account-password".into() label="First password" value=password error=no_error
                    input_type="password" autocomplete="new-password"/>
            </div>
            <button class="nhsuk-button" type="submit" disabled=move || add.pending().get()>"Add account"</button>
        </form>
    }
}
