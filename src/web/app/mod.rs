//! The app's shell: signing in, unlocking the device's copy, the signed-in view with its
//! header and routes, and locking after a while without use. The route table (which page
//! answers which path) is the shell's, in `route_table`.

mod route_table;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::Router;

use std::cell::RefCell;
use std::rc::Rc;

use crate::core::api::CurrentUser;
use crate::web::client::api::{self, ApiError};
use crate::web::client::listeners;
use crate::web::client::sync::SyncClient;
use crate::web::client::vault::{self, LastUser, Loaded, Vault};
use crate::web::components::{Header, RefusedChanges, SessionEnded};
use crate::web::pages::offline_passphrase::OfflinePassphrasePage;
use crate::web::pages::sign_in::{SignInField, SignInPage, TypedBeforeStart};
use crate::web::pages::unlock::{OpenElsewherePage, UnlockPage};

/// Mounts the app on the page.
pub fn start() {
    register_service_worker();
    leptos::mount::mount_to_body(App);
}

/// The service worker keeps the app itself (HTML, script, wasm, styles) so it starts offline;
/// it never stores API answers.
fn register_service_worker() {
    if let Some(window) = web_sys::window() {
        let container = window.navigator().service_worker();
        let _ = container.register("/sw.js");
    }
}

/// How long without a key press, click or touch before the app locks.
const IDLE_LOCK_MS: f64 = 15.0 * 60.0 * 1000.0;

/// The idle lock in milliseconds: 15 minutes, or shorter when the page sets
/// `window.mdtIdleLockMs` (tests).
fn idle_lock_ms() -> f64 {
    web_sys::window()
        .and_then(|w| js_sys::Reflect::get(&w, &"mdtIdleLockMs".into()).ok())
        .and_then(|v| v.as_f64())
        .filter(|ms| *ms > 0.0)
        .map_or(IDLE_LOCK_MS, |ms| ms.min(IDLE_LOCK_MS))
}

/// The opened copy handed to the signed-in app.
#[derive(Clone)]
struct Opened {
    user: CurrentUser,
    vault: Option<Vault>,
    loaded: Rc<RefCell<Option<Loaded>>>,
}

/// Where the app is in finding out who is signed in and opening their copy.
#[derive(Clone)]
enum SessionState {
    Checking,
    SignedOut {
        problem: Option<String>,
    },
    Opening,
    Locked {
        user: LastUser,
        reason: String,
    },
    /// Signed in through their organisation, with no offline passphrase on this device yet.
    NeedsPassphrase(CurrentUser),
    OpenElsewhere,
    SignedIn(Opened),
}

/// After the server has accepted the session: opens (or creates) the copy with the server's
/// device key, adding the password's protection when the password was just typed.
async fn open_signed_in(user: CurrentUser, password: Option<String>) -> SessionState {
    // Someone who signed in through their organisation has no password to protect the copy
    // with: they choose an offline passphrase first (hazard H42).
    if user.signed_in_through_organisation
        && password.is_none()
        && !Vault::opens_offline(user.user_id).await
    {
        return SessionState::NeedsPassphrase(user);
    }
    let vault = match api::device_key().await {
        Ok(key) => match Vault::open_signed_in(&user, &key, password.as_deref()).await {
            Ok(v) => Some(v),
            Err(e) => {
                leptos::logging::warn!("offline copy unavailable: {e}");
                None
            }
        },
        Err(ApiError::SignedOut) => return SessionState::SignedOut { problem: None },
        Err(e) => {
            return SessionState::SignedOut {
                problem: Some(e.to_string()),
            }
        }
    };
    finish_opening(user, vault).await
}

async fn finish_opening(user: CurrentUser, vault: Option<Vault>) -> SessionState {
    if !vault::claim_tab(user.user_id).await {
        return SessionState::OpenElsewhere;
    }
    let loaded = match &vault {
        Some(v) => v.load().await.unwrap_or_else(|e| {
            leptos::logging::warn!("offline copy not loaded: {e}");
            None
        }),
        None => None,
    };
    vault::ask_for_persistent_storage();
    SessionState::SignedIn(Opened {
        user,
        vault,
        loaded: Rc::new(RefCell::new(loaded)),
    })
}

/// Opens the copy with the password alone (offline start, or after the idle lock).
async fn unlock(last: LastUser, password: String) -> Result<SessionState, String> {
    let vault = Vault::open_with_password(last.user_id, &password)
        .await
        .map_err(|e| e.to_string())?;
    let loaded = vault.load().await.map_err(|e| e.to_string())?;
    let Some(loaded) = loaded else {
        return Err(vault::VaultError::NoCopy.to_string());
    };
    let user = loaded.state.user.clone();
    // Online with an ended session: the same password signs in again, quietly (an offline
    // passphrase is no password: they sign in through their organisation again).
    if !last.passphrase && matches!(api::current_user().await, Ok(None)) {
        let _ = api::sign_in(&user.email, &password).await;
    }
    if !vault::claim_tab(user.user_id).await {
        return Ok(SessionState::OpenElsewhere);
    }
    Ok(SessionState::SignedIn(Opened {
        user,
        vault: Some(vault),
        loaded: Rc::new(RefCell::new(Some(loaded))),
    }))
}

/// The offline passphrase page, loaded when first needed (once per device, after a first single
/// sign-on there), so its code stays out of the first page's download.
#[cfg_attr(feature = "lazy-pages", leptos::lazy)]
async fn passphrase_page(
    user: CurrentUser,
    busy: Signal<bool>,
    on_set: Callback<String>,
) -> AnyView {
    view! { <OfflinePassphrasePage user=user busy=busy on_set=on_set/> }.into_any()
}

/// Whether the page's static first paint (`index.html`, `#mdt-shell`) is still showing.
fn static_shell_showing() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("mdt-shell"))
        .is_some()
}

/// Takes the static first paint away as the app shows its own page, returning what was typed
/// into its sign-in form; `None` once it has gone.
fn take_static_shell() -> Option<TypedBeforeStart> {
    use wasm_bindgen::JsCast;
    let document = web_sys::window()?.document()?;
    let shell = document.get_element_by_id("mdt-shell")?;
    let input = |selector: &str| {
        shell
            .query_selector(selector)
            .ok()
            .flatten()
            .and_then(|e| e.dyn_into::<web_sys::HtmlInputElement>().ok())
    };
    let value = |selector: &str| input(selector).map(|i| i.value()).unwrap_or_default();
    let focused = document.active_element().and_then(|active| {
        let is = |selector: &str| {
            input(selector).is_some_and(|i| AsRef::<web_sys::Element>::as_ref(&i) == &active)
        };
        if is("#email") {
            Some(SignInField::Email)
        } else if is("#password") {
            Some(SignInField::Password)
        } else {
            None
        }
    });
    let sign_in_requested = shell
        .query_selector("form[data-sign-in-requested]")
        .ok()
        .flatten()
        .is_some();
    let typed = TypedBeforeStart {
        email: value("#email"),
        password: value("#password"),
        focused,
        sign_in_requested,
    };
    shell.remove();
    Some(typed)
}

/// The whole app: checks the session, opens the device's copy, then shows the app.
#[component]
pub fn App() -> impl IntoView {
    let session = RwSignal::new_local(SessionState::Checking);
    let unlock_problem = RwSignal::new(None::<String>);
    let unlocking = RwSignal::new(false);
    spawn_local(async move {
        vault::forget_unencrypted_copies();
        let state = match api::current_user().await {
            Ok(Some(user)) => open_signed_in(user, None).await,
            Ok(None) => SessionState::SignedOut { problem: None },
            Err(ApiError::Unreachable) => match vault::last_user() {
                Some(last) if Vault::opens_offline(last.user_id).await => SessionState::Locked {
                    user: last,
                    reason: "You are offline. Your work is kept on this device: enter your password to open it.".into(),
                },
                _ => SessionState::SignedOut {
                    problem: Some("You are offline, and no work is kept on this device yet. Connect to the internet to sign in.".into()),
                },
            },
            Err(e) => SessionState::SignedOut {
                problem: Some(e.to_string()),
            },
        };
        session.set(state);
    });
    let on_signed_in = Callback::new(move |(user, password): (CurrentUser, String)| {
        session.set(SessionState::Opening);
        spawn_local(async move { session.set(open_signed_in(user, Some(password)).await) });
    });
    let on_lock = Callback::new(move |user: CurrentUser| {
        unlock_problem.set(None);
        session.set(SessionState::Locked {
            user: LastUser {
                user_id: user.user_id,
                name: user.name,
                email: user.email,
                passphrase: user.signed_in_through_organisation,
            },
            reason: "The app locked itself after a while without use, to protect patient information. Your unsent changes are kept.".into(),
        });
    });
    view! {
        <a class="nhsuk-skip-link" href="#maincontent">"Skip to main content"</a>
        <Router>
            {move || {
                let state = session.get();
                // The static first paint says as much until the app knows where it stands; then
                // the app's own page, whatever it is, takes its place.
                if matches!(state, SessionState::Checking) && static_shell_showing() {
                    return ().into_any();
                }
                let typed = take_static_shell();
                match state {
                SessionState::Checking | SessionState::Opening => view! {
                    <main class="nhsuk-width-container nhsuk-main-wrapper" id="maincontent">
                        <p class="nhsuk-body" role="status">"Opening your work on this device…"</p>
                    </main>
                }.into_any(),
                SessionState::SignedOut { problem } => view! {
                    <Header user=None/>
                    <SignInPage problem=problem typed=typed on_signed_in=on_signed_in/>
                }.into_any(),
                SessionState::Locked { user, reason } => {
                    let last = user.clone();
                    view! {
                        <Header user=None/>
                        <UnlockPage user=user reason=reason problem=unlock_problem busy=unlocking
                            on_unlock=Callback::new(move |password: String| {
                                let last = last.clone();
                                unlocking.set(true);
                                spawn_local(async move {
                                    match unlock(last, password).await {
                                        Ok(state) => { unlock_problem.set(None); session.set(state); }
                                        Err(e) => unlock_problem.set(Some(e)),
                                    }
                                    unlocking.set(false);
                                });
                            })
                            on_switch_user=Callback::new(move |_| session.set(SessionState::SignedOut { problem: None }))/>
                    }.into_any()
                }
                SessionState::NeedsPassphrase(user) => {
                    let owner = user.clone();
                    let on_set = Callback::new(move |passphrase: String| {
                        let owner = owner.clone();
                        unlocking.set(true);
                        spawn_local(async move {
                            let state = open_signed_in(owner, Some(passphrase)).await;
                            unlocking.set(false);
                            session.set(state);
                        });
                    });
                    let busy = Signal::from(unlocking);
                    view! {
                        <Header user=None/>
                        <Suspense fallback=|| ()>
                            {move || Suspend::new(passphrase_page(user.clone(), busy, on_set))}
                        </Suspense>
                    }.into_any()
                }
                SessionState::OpenElsewhere => view! { <Header user=None/><OpenElsewherePage/> }.into_any(),
                SessionState::SignedIn(opened) => view! { <SignedIn opened=opened on_lock=on_lock/> }.into_any(),
                }
            }}
        </Router>
    }
}

/// The app for a signed-in person: starts sync, locks when idle, and routes between pages.
#[component]
fn SignedIn(opened: Opened, on_lock: Callback<CurrentUser>) -> impl IntoView {
    let user = opened.user.clone();
    let loaded = opened.loaded.borrow_mut().take();
    let sync = SyncClient::open(user.clone(), opened.vault.clone(), loaded);
    provide_context(sync);
    provide_context(user.clone());
    sync.start();
    watch_idle(sync, user.clone(), on_lock);
    view! {
        <Header user=Some(user)/>
        <div class="nhsuk-width-container">
            <main class="nhsuk-main-wrapper" id="maincontent">
                <SessionEnded/>
                <RefusedChanges/>
                <ErrorBoundary fallback=|errors| view! {
                    <div class="nhsuk-error-summary" role="alert">
                        <h2 class="nhsuk-error-summary__title">"Something went wrong on this page"</h2>
                        <ul class="nhsuk-list nhsuk-error-summary__list">
                            {move || errors.get().into_iter().map(|(_, e)| view! { <li>{e.to_string()}</li> }).collect_view()}
                        </ul>
                    </div>
                }>
                    <route_table::AppRoutes/>
                </ErrorBoundary>
            </main>
        </div>
    }
}

/// Locks the app after [`idle_lock_ms`] without a key press, click, touch or scroll: sync
/// stops, pending saves finish, and the copy's key is dropped with the signed-in view. The
/// listeners go with the signed-in view (its owner), so a lock and unlock adds none.
fn watch_idle(sync: SyncClient, user: CurrentUser, on_lock: Callback<CurrentUser>) {
    let last_active = Rc::new(std::cell::Cell::new(js_sys::Date::now()));
    for event in ["keydown", "pointerdown", "touchstart", "scroll", "input"] {
        let last = last_active.clone();
        listeners::on_window(event, true, move || last.set(js_sys::Date::now()));
    }
    let limit = idle_lock_ms();
    spawn_local(async move {
        loop {
            gloo_timers::future::TimeoutFuture::new(1_000).await;
            if sync.status.try_with_untracked(|_| ()).is_none() {
                return;
            }
            if js_sys::Date::now() - last_active.get() >= limit {
                sync.stop();
                sync.flush().await;
                sync.close_copy();
                on_lock.run(user.clone());
                return;
            }
        }
    });
}
