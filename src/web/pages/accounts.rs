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
    }
    .into_any()
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
                    on_added.run(format!(
                        "Added {} <{}>. They can sign in now.",
                        account.name, account.email
                    ));
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
            <TextField id="account-password".into() label="First password" value=password error=no_error
                input_type="password" autocomplete="new-password"/>
            <button class="nhsuk-button" type="submit" disabled=move || add.pending().get()>"Add account"</button>
        </form>
    }
}
