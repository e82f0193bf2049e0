//! `/settings/sessions`: where the person is signed in (browser and system, how, when last
//! used), to sign out on a device they no longer have or a computer they left signed in.

use leptos::prelude::*;

use crate::core::sign_in::SessionInfo;
use crate::core::uk_time;
use crate::web::client::api;

/// `/settings/sessions`.
#[component]
pub fn SessionsPage() -> impl IntoView {
    let sessions = LocalResource::new(api::my_sessions);
    let notice = RwSignal::new(None::<Result<String, String>>);
    let busy = RwSignal::new(false);
    let end_others = move |_| {
        busy.set(true);
        leptos::task::spawn_local(async move {
            let result = api::end_my_other_sessions().await;
            busy.set(false);
            notice.set(Some(
                result
                    .map(|()| "You are now signed in only here.".into())
                    .map_err(|e| e.to_string()),
            ));
            sessions.refetch();
        });
    };
    let end_one = move |session: SessionInfo| {
        busy.set(true);
        leptos::task::spawn_local(async move {
            let result = api::end_my_session(&session.id).await;
            busy.set(false);
            notice.set(Some(
                result
                    .map(|()| format!("Signed out of {}.", session.device))
                    .map_err(|e| e.to_string()),
            ));
            sessions.refetch();
        });
    };
    view! {
        <h1>"Where you are signed in"</h1>
        <p class="nhsuk-body">"Each browser you have signed in with, newest use first. If you see one you do not recognise, or have lost a phone or left a computer signed in, sign out there from here: that browser then has to sign in again to reach anything."</p>
        {move || notice.get().map(|n| match n {
            Ok(text) => view! { <div class="nhsuk-inset-text" role="status"><p>{text}</p></div> }.into_any(),
            Err(text) => view! { <p class="nhsuk-error-message" role="alert">{text}</p> }.into_any(),
        })}
        {move || match sessions.get() {
            None => view! { <p class="nhsuk-body" role="status">"Loading where you are signed in…"</p> }.into_any(),
            Some(Err(e)) => view! { <p class="nhsuk-error-message" role="alert">{e.to_string()}</p> }.into_any(),
            Some(Ok(list)) => {
                let others = list.iter().filter(|s| !s.current).count();
                view! {
                    <ul class="nhsuk-list mdt-sessions" data-testid="sessions">
                        {list.into_iter().map(|s| {
                            let shown = s.clone();
                            view! {
                                <li class="nhsuk-card">
                                    <div class="nhsuk-card__content">
                                        <h2 class="nhsuk-card__heading nhsuk-heading-s">
                                            {s.device.clone()}
                                            {s.current.then(|| view! { " "<strong class="nhsuk-tag nhsuk-tag--green">"This browser"</strong> })}
                                        </h2>
                                        <dl class="nhsuk-summary-list">
                                            <div class="nhsuk-summary-list__row"><dt class="nhsuk-summary-list__key">"Signed in"</dt><dd class="nhsuk-summary-list__value">{s.how.clone()}</dd></div>
                                            <div class="nhsuk-summary-list__row"><dt class="nhsuk-summary-list__key">"Since"</dt><dd class="nhsuk-summary-list__value">{uk_time::format_uk(s.started_at)}</dd></div>
                                            <div class="nhsuk-summary-list__row"><dt class="nhsuk-summary-list__key">"Last used"</dt><dd class="nhsuk-summary-list__value">{uk_time::format_uk(s.last_used_at)}</dd></div>
                                        </dl>
                                        {(!s.current).then(|| view! {
                                            <button type="button" class="nhsuk-button nhsuk-button--secondary" disabled=move || busy.get()
                                                on:click=move |_| end_one(shown.clone())>
                                                "Sign out"<span class="nhsuk-u-visually-hidden">{format!(" of {}", s.device)}</span>
                                            </button>
                                        })}
                                    </div>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                    {(others > 0).then(|| view! {
                        <button type="button" class="nhsuk-button nhsuk-button--warning" disabled=move || busy.get() on:click=end_others>
                            "Sign out everywhere else"
                        </button>
                    })}
                }.into_any()
            }
        }}
    }
}
