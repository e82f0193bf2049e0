//! `/settings/email`: which emails the person gets (every message's footer links here), and
//! whether this server sends email at all.

use leptos::prelude::*;

use crate::core::api::EmailSettings;
use crate::core::mail::MailPreferences;
use crate::web::client::api;
use crate::web::components::Checkbox;

/// `/settings/email`.
#[component]
pub fn EmailSettingsPage() -> impl IntoView {
    let settings = LocalResource::new(api::email_settings);
    view! {
        <h1>"Email settings"</h1>
        <p class="nhsuk-body">
            <a href=crate::web::routes::Page::Sessions.href()>"See where you are signed in"</a>
            " (and sign out on a device you no longer have)."
        </p>
        {move || match settings.get() {
            None => view! { <p class="nhsuk-body" role="status">"Loading your email settings…"</p> }.into_any(),
            Some(Err(e)) => view! { <p class="nhsuk-error-message" role="alert">{e.to_string()}</p> }.into_any(),
            Some(Ok(s)) => view! { <EmailChoices settings=s/> }.into_any(),
        }}
    }
}

/// The choices, and whether email is on.
#[component]
fn EmailChoices(settings: EmailSettings) -> impl IntoView {
    let p = settings.preferences;
    let brief_reminders = RwSignal::new(p.brief_reminders);
    let actions_digest = RwSignal::new(p.actions_digest);
    let chases = RwSignal::new(p.chases);
    let quorum_warnings = RwSignal::new(p.quorum_warnings);
    let notice = RwSignal::new(None::<Result<String, String>>);
    let save = Action::new_local(move |preferences: &MailPreferences| {
        let preferences = *preferences;
        async move {
            notice.set(Some(
                api::set_email_preferences(&preferences)
                    .await
                    .map(|_| "Saved. From now on you get only the emails ticked.".to_string())
                    .map_err(|e| e.to_string()),
            ));
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        save.dispatch(MailPreferences {
            brief_reminders: brief_reminders.get_untracked(),
            actions_digest: actions_digest.get_untracked(),
            chases: chases.get_untracked(),
            quorum_warnings: quorum_warnings.get_untracked(),
        });
    };
    view! {
        {(!settings.on).then(|| view! {
            <div class="nhsuk-warning-callout" data-testid="email-off">
                <h2 class="nhsuk-warning-callout__label"><span role="text"><span class="nhsuk-u-visually-hidden">"Important: "</span>"Email is off"</span></h2>
                <p>"This server sends no emails: no invitations, reminders or requests. Your choices below are kept for when your system administrator turns email on."</p>
            </div>
        })}
        <p class="nhsuk-body">"Meeting invitations, changes and cancellations always come while you are in a team: they keep your calendar right. Choose which other emails you get. No email ever contains patient details."</p>
        <form on:submit=on_submit novalidate>
            <fieldset class="nhsuk-fieldset">
                <legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--m">"Send me"</legend>
                <Checkbox id="email-brief_reminders" label="Reminders of briefs to write"
                    hint="The day before briefs you are writing are due." checked=brief_reminders/>
                <Checkbox id="email-actions_digest" label="A weekly list of your actions"
                    hint="On Monday mornings: how many of your actions are overdue or due that week." checked=actions_digest/>
                <Checkbox id="email-chases" label="Requests from your team's coordinator"
                    hint="When your coordinator asks for a missing brief or an overdue action." checked=chases/>
                <Checkbox id="email-quorum_warnings" label="Warnings that a meeting has lost its quorum"
                    hint="For coordinators: at once, when an apology leaves a role the meeting needs uncovered." checked=quorum_warnings/>
            </fieldset>
            <button class="nhsuk-button" type="submit" disabled=move || save.pending().get()>"Save email settings"</button>
        </form>
        {move || notice.get().map(|n| match n {
            Ok(text) => view! { <div class="nhsuk-inset-text" role="status" data-testid="email-saved"><p>{text}</p></div> }.into_any(),
            Err(e) => view! { <p class="nhsuk-error-message" role="alert">{e}</p> }.into_any(),
        })}
    }
}
