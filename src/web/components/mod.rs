//! Components shared by several pages, following the NHS design system's markup.

pub mod action_card;
pub mod bar_chart;
pub mod data_table;
pub mod markup;
pub mod markup_list;
pub mod team_nav;

use leptos::prelude::*;
use leptos::task::spawn_local;
use uuid::Uuid;

use crate::core::api::CurrentUser;
use crate::core::uk_time;
use crate::core::ValidationError;
use crate::web::client::api;
use crate::web::client::sync::SyncClient;
use crate::web::routes::Page;
use crate::web::views::sync_status::{self, SyncFacts};

/// The NHS-style header: service name, navigation, who is signed in, sync state, sign-out.
#[component]
pub fn Header(user: Option<CurrentUser>) -> impl IntoView {
    let signed_in = user.is_some();
    let site_admin = user.as_ref().is_some_and(|u| u.site_admin);
    let location = leptos_router::hooks::use_location();
    let current = Memo::new(move |_| {
        location
            .pathname
            .with(|p| Page::from_path(p).map(Page::nav_entry))
    });
    // One navigation link, marked when the page shown belongs to it.
    let link = move |page: Page, text: &'static str| {
        view! {
            <li><a class="mdt-nav__link" href=page.href()
                aria-current=move || (current.get() == Some(page)).then_some("page")>{text}</a></li>
        }
    };
    view! {
        <header class="nhsuk-header mdt-header" role="banner">
            <div class="nhsuk-width-container mdt-header__container">
                // Its name starts with the words shown (WCAG 2.5.3); the logo is decoration.
                <a class="mdt-header__service" href=Page::Teams.href()>
                    <span class="mdt-header__logo" aria-hidden="true">"NHS"</span>
                    <span class="mdt-header__name">"MDT coordination"</span>
                    <span class="nhsuk-u-visually-hidden">" homepage"</span>
                </a>
                {user.map(|u| view! {
                    <div class="mdt-header__account">
                        <span class="mdt-header__user">"Signed in as " <strong>{u.name}</strong></span>
                        <a class="mdt-header__link" href=Page::EmailSettings.href()>"Email settings"</a>
                        <SignOutButton/>
                    </div>
                })}
            </div>
            {signed_in.then(|| view! {
                <nav class="mdt-nav" aria-label="Primary navigation">
                    <div class="nhsuk-width-container mdt-nav__container">
                        <ul class="mdt-nav__list">
                            {link(Page::Teams, "Teams and meetings")}
                            {link(Page::MyActions, "My actions")}
                            {link(Page::MyAvailability, "My availability")}
                            {link(Page::People, "Directory")}
                            {link(Page::Search, "Search")}
                            {site_admin.then(|| link(Page::Accounts, "Accounts"))}
                        </ul>
                        <SyncIndicator/>
                    </div>
                </nav>
            })}
        </header>
    }
}

/// Signs out after warning about unsent changes, wipes this device's copy and reloads.
#[component]
fn SignOutButton() -> impl IntoView {
    let sync = expect_context::<SyncClient>();
    let sign_out = move |_| {
        let unsent = untrack(|| sync.unsent());
        if unsent > 0 {
            let question = format!(
                "{unsent} change(s) have not reached the server yet and will be lost if you sign out now. Sign out anyway?"
            );
            let confirmed = web_sys::window()
                .and_then(|w| w.confirm_with_message(&question).ok())
                .unwrap_or(false);
            if !confirmed {
                return;
            }
        }
        spawn_local(async move {
            let _ = api::sign_out().await;
            sync.wipe().await;
            if let Some(window) = web_sys::window() {
                let _ = window.location().set_href("/");
            }
        });
    };
    view! {
        <button type="button" class="mdt-header__signout" on:click=sign_out>"Sign out"</button>
    }
}

/// The time now, moved on every `every_ms` milliseconds while the calling component lives:
/// for controls that appear at a moment (concluding a meeting once it has started).
pub fn use_clock(every_ms: u32) -> Signal<chrono::DateTime<chrono::Utc>> {
    let now = RwSignal::new(chrono::Utc::now());
    let interval = StoredValue::new_local(Some(gloo_timers::callback::Interval::new(
        every_ms,
        move || {
            let _ = now.try_set(chrono::Utc::now());
        },
    )));
    on_cleanup(move || {
        let _ = interval.try_update_value(|i| i.take());
    });
    now.into()
}

/// Always-visible sync state in one plain sentence ([`sync_status::sentence`]: online, offline
/// or syncing; unsent changes and how old the oldest is; when last synced), and conflicts to
/// resolve (a link to the conflicts page).
#[component]
pub fn SyncIndicator() -> impl IntoView {
    let sync = expect_context::<SyncClient>();
    // Re-render every 30 s so "oldest 5 min ago" and "trying again in" stay true.
    let tick = RwSignal::new(0u32);
    let interval = StoredValue::new_local(Some(gloo_timers::callback::Interval::new(
        30_000,
        move || {
            let _ = tick.try_update(|t| *t += 1);
        },
    )));
    on_cleanup(move || {
        let _ = interval.try_update_value(|i| i.take());
    });
    let text = move || {
        tick.track();
        let status = sync.status.get();
        sync_status::sentence(
            &SyncFacts {
                online: status.online,
                syncing: status.syncing,
                unsent: sync.unsent(),
                oldest_unsent: sync.oldest_unsent(),
                last_synced: status.last_synced,
                retry_at: status.retry_at,
            },
            chrono::Utc::now(),
        )
    };
    let conflicts = move || sync.conflict_count();
    view! {
        <p class="mdt-sync" role="status" aria-live="polite" data-testid="sync-status"
            class:mdt-sync--offline=move || !sync.status.get().online
            class:mdt-sync--pending={move || sync.unsent() > 0}>
            <span class="mdt-sync__dot" aria-hidden="true"></span>
            {text}
            {move || match conflicts() {
                0 => None,
                n => Some(view! {
                    " · "<a class="mdt-sync__conflicts" href=Page::Conflicts.href() data-testid="conflicts-link">
                        {if n == 1 { "1 conflict to resolve".to_string() } else { format!("{n} conflicts to resolve") }}
                    </a>
                }),
            }}
        </p>
        {move || sync.status.get().storage_problem.map(|p| view! {
            <p class="mdt-sync mdt-sync--problem" role="alert">{p}</p>
        })}
    }
}

/// What a page shows while the record it is about is not on this device: "Loading…" until the
/// device has brought its copy up to date once, then that the record is not one of theirs (or
/// was removed), with the way back — never a wait for ever (issue 15, problem 10).
#[component]
pub fn RecordNotHere(
    /// "the meeting".
    what: &'static str,
    /// Said once the copy is up to date and the record is still not in it.
    missing: &'static str,
) -> impl IntoView {
    let sync = expect_context::<SyncClient>();
    move || {
        if sync.status.with(|s| s.last_synced.is_none() && s.online) {
            view! { <p class="nhsuk-body" role="status">{format!("Loading {what}…")}</p> }
                .into_any()
        } else {
            view! {
                <div class="nhsuk-inset-text" data-testid="not-available">
                    <p>{missing}</p>
                    <p><a href=Page::Teams.href()>"Back to your teams"</a></p>
                </div>
            }
            .into_any()
        }
    }
}

/// What someone who cannot open a meeting (or its printouts) is told.
pub const MEETING_NOT_OPEN: &str =
    "You cannot open this meeting: it is not one of your teams' meetings, or it has been removed.";

/// A meeting's page (or its brief pack or summaries) when the meeting is one of the person's;
/// otherwise, once the copy is up to date, that they cannot open it and the way back — never a
/// bare print button over nothing.
#[component]
pub fn MeetingOpens(meeting_id: Uuid, children: ChildrenFn) -> impl IntoView {
    let sync = expect_context::<SyncClient>();
    let here = Memo::new(move |_| {
        sync.entity::<crate::core::meeting::Meeting>(meeting_id)
            .is_some()
    });
    move || {
        if here.get() {
            children().into_any()
        } else {
            view! { <RecordNotHere what="the meeting" missing=MEETING_NOT_OPEN/> }.into_any()
        }
    }
}

/// Tells the person their session ended, without losing the outbox.
#[component]
pub fn SessionEnded() -> impl IntoView {
    let sync = expect_context::<SyncClient>();
    move || {
        sync.status.get().signed_out.then(|| {
            view! {
                <div class="nhsuk-warning-callout" role="alert">
                    <h2 class="nhsuk-warning-callout__label">"Your session has ended"</h2>
                    <p>"Your unsent changes are kept on this device. "
                        <a href=Page::Teams.href()>"Sign in again"</a>" to send them."</p>
                </div>
            }
        })
    }
}

/// Changes the server refused, with its reasons, until dismissed.
#[component]
pub fn RefusedChanges() -> impl IntoView {
    let sync = expect_context::<SyncClient>();
    move || {
        let status = sync.status.get();
        let problem = status.problem.clone();
        let refused = status.refused.clone();
        (!refused.is_empty() || problem.is_some()).then(|| view! {
            <div class="nhsuk-error-summary" role="alert" tabindex="-1">
                <h2 class="nhsuk-error-summary__title">"Some changes were not saved"</h2>
                <div class="nhsuk-error-summary__body">
                    <ul class="nhsuk-list nhsuk-error-summary__list">
                        {problem.map(|p| view! { <li>{p}</li> })}
                        {refused.into_iter().map(|r| view! {
                            <li>{format!("{}: {}", r.entity.label(), r.reason)}</li>
                        }).collect_view()}
                    </ul>
                    <button type="button" class="nhsuk-button nhsuk-button--secondary"
                        on:click=move |_| sync.status.update(|s| { s.refused.clear(); s.problem = None; })>
                        "Dismiss"
                    </button>
                </div>
            </div>
        })
    }
}

/// One problem with what was entered: the words, and the id of the field at fault (`None`
/// when it is about the whole form, such as the server being out of reach).
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub message: String,
    pub field_id: Option<String>,
}

impl Problem {
    /// A problem with the field whose element id is `field_id`.
    pub fn at(field_id: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            field_id: Some(field_id.into()),
        }
    }

    /// A problem with the whole form.
    pub fn general(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            field_id: None,
        }
    }

    /// A validation error of a form whose field ids are `{id_prefix}-{field}`.
    pub fn from_validation(id_prefix: &str, error: ValidationError) -> Self {
        Self {
            field_id: error.field.map(|f| format!("{id_prefix}-{f}")),
            message: error.message,
        }
    }
}

/// The message for the field with element id `field_id` among `problems` (for the field's own
/// error message and red border, as the design system marks a field at fault).
pub fn problem_at(problems: Signal<Vec<Problem>>, field_id: String) -> Signal<Option<String>> {
    Signal::derive(move || {
        problems.with(|all| {
            all.iter()
                .find(|p| p.field_id.as_deref() == Some(field_id.as_str()))
                .map(|p| p.message.clone())
        })
    })
}

/// A field's own error message (the design system's `nhsuk-error-message`), with the id
/// `{field_id}-error` that [`described_by`] points the field at.
#[component]
pub fn FieldError(field_id: String, #[prop(into)] error: Signal<Option<String>>) -> impl IntoView {
    move || {
        error.get().map(|message| {
            view! {
                <span class="nhsuk-error-message" id=format!("{field_id}-error")>
                    <span class="nhsuk-u-visually-hidden">"Error: "</span>{message}
                </span>
            }
        })
    }
}

/// The `aria-describedby` of a field with an error shown by [`FieldError`] (nothing otherwise),
/// so a screen reader reads the error with the field.
pub fn described_by(
    field_id: String,
    error: Signal<Option<String>>,
) -> impl Fn() -> Option<String> + Send + Sync + 'static {
    move || error.get().map(|_| format!("{field_id}-error"))
}

/// The design system's error summary: every problem at once, each linking to (and moving the
/// keyboard to) its field. When problems appear it takes the focus and comes into view, so
/// someone who pressed a button sees at once why nothing was saved, screen readers read it,
/// and a sticky panel over the page top never hides it (the meeting page scrolls the focused
/// element clear of its panel).
#[component]
pub fn ProblemSummary(
    #[prop(into)] problems: Signal<Vec<Problem>>,
    /// The summary's heading; "There is a problem" unless given.
    #[prop(optional)]
    title: Option<&'static str>,
) -> impl IntoView {
    let summary = NodeRef::<leptos::html::Div>::new();
    Effect::new(move |_| {
        if problems.with(|p| !p.is_empty()) {
            // Once the summary is in the page.
            request_animation_frame(move || {
                if let Some(element) = summary.try_get_untracked().flatten() {
                    element.scroll_into_view();
                    let _ = element.focus();
                }
            });
        }
    });
    move || {
        let all = problems.get();
        (!all.is_empty()).then(|| {
            let lines = all
                .into_iter()
                .map(|problem| match problem.field_id {
                    Some(target) => {
                        // A link that moves focus to the field (the router would treat a bare
                        // `#id` as a navigation).
                        let href = format!("#{target}");
                        let go = move |ev: leptos::ev::MouseEvent| {
                            ev.prevent_default();
                            focus_field(&target);
                        };
                        view! { <li><a href=href on:click=go>{problem.message}</a></li> }.into_any()
                    }
                    None => view! { <li>{problem.message}</li> }.into_any(),
                })
                .collect_view();
            view! {
                <div class="nhsuk-error-summary" role="alert" tabindex="-1" node_ref=summary data-testid="problem-summary">
                    <h2 class="nhsuk-error-summary__title">{title.unwrap_or("There is a problem")}</h2>
                    <div class="nhsuk-error-summary__body">
                        <ul class="nhsuk-list nhsuk-error-summary__list">{lines}</ul>
                    </div>
                </div>
            }
        })
    }
}

/// The error summary of a form that stops at its first problem, linking to the field
/// `{id_prefix}-{field}` (see [`ProblemSummary`]).
#[component]
pub fn ErrorSummary(
    #[prop(into)] error: Signal<Option<ValidationError>>,
    id_prefix: &'static str,
) -> impl IntoView {
    let problems = Signal::derive(move || {
        error
            .get()
            .map(|e| Problem::from_validation(id_prefix, e))
            .into_iter()
            .collect::<Vec<_>>()
    });
    view! { <ProblemSummary problems=problems/> }
}

/// Moves focus to the form field with `id` (or, for a group of checkboxes or radios, its first
/// input) and brings it into view, as the design system's error summary does.
fn focus_field(id: &str) {
    use wasm_bindgen::JsCast;
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let Some(element) = document.get_element_by_id(id) else {
        return;
    };
    let input = if matches!(element.tag_name().as_str(), "INPUT" | "SELECT" | "TEXTAREA") {
        Some(element)
    } else {
        element
            .query_selector("input, select, textarea")
            .ok()
            .flatten()
    };
    if let Some(target) = input.and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
        target.scroll_into_view();
        let _ = target.focus();
    }
}

/// "On this page": links to a long page's sections (the design system's contents list), each
/// moving the view and the keyboard to its heading. `sections` gives (heading id, words, shown).
#[component]
pub fn SectionLinks(sections: Vec<(&'static str, &'static str, Signal<bool>)>) -> impl IntoView {
    view! {
        <nav class="nhsuk-contents-list mdt-section-links" aria-label="On this page">
            <ol class="nhsuk-contents-list__list">
                {sections.into_iter().map(|(id, text, shown)| {
                    let go = move |ev: leptos::ev::MouseEvent| {
                        ev.prevent_default();
                        go_to_heading(id);
                    };
                    view! {
                        <Show when=move || shown.get()>
                            <li class="nhsuk-contents-list__item">
                                <a class="nhsuk-contents-list__link" href=format!("#{id}") on:click=go>{text}</a>
                            </li>
                        </Show>
                    }
                }).collect_view()}
            </ol>
        </nav>
    }
}

/// Scrolls to the heading with `id` and puts the keyboard there (the router would treat a bare
/// `#id` link as a navigation).
fn go_to_heading(id: &str) {
    use wasm_bindgen::JsCast;
    let heading = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(id))
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
    if let Some(heading) = heading {
        if !heading.has_attribute("tabindex") {
            let _ = heading.set_attribute("tabindex", "-1");
        }
        heading.scroll_into_view();
        let _ = heading.focus();
    }
}

/// The message for `field` out of a form's current error.
pub fn field_error(
    error: Signal<Option<ValidationError>>,
    field: &'static str,
) -> Signal<Option<String>> {
    Signal::derive(move || {
        error
            .get()
            .filter(|e| e.field.as_deref() == Some(field))
            .map(|e| e.message)
    })
}

/// A labelled text input with hint and error, bound to a signal.
#[component]
pub fn TextField(
    /// The element id; the error summary links here.
    id: String,
    #[prop(into)] label: String,
    value: RwSignal<String>,
    #[prop(into, optional)] hint: Option<String>,
    #[prop(into)] error: Signal<Option<String>>,
    #[prop(default = "text")] input_type: &'static str,
    #[prop(optional)] autocomplete: Option<&'static str>,
    #[prop(optional)] width_class: Option<&'static str>,
) -> impl IntoView {
    let hint_id = format!("{id}-hint");
    let error_id = format!("{id}-error");
    let described_by = {
        let (hint_id, error_id) = (hint_id.clone(), error_id.clone());
        let has_hint = hint.is_some();
        move || {
            let mut ids = Vec::new();
            if has_hint {
                ids.push(hint_id.clone());
            }
            if error.get().is_some() {
                ids.push(error_id.clone());
            }
            ids.join(" ")
        }
    };
    let input_class = move || {
        let mut c = String::from("nhsuk-input");
        if let Some(w) = width_class {
            c.push(' ');
            c.push_str(w);
        }
        if error.get().is_some() {
            c.push_str(" nhsuk-input--error");
        }
        c
    };
    view! {
        <div class="nhsuk-form-group" class:nhsuk-form-group--error=move || error.get().is_some()>
            <label class="nhsuk-label" for=id.clone()>{label}</label>
            {hint.map(|h| view! { <div class="nhsuk-hint" id=hint_id.clone()>{h}</div> })}
            {move || error.get().map(|e| view! {
                <span class="nhsuk-error-message" id=error_id.clone()>
                    <span class="nhsuk-u-visually-hidden">"Error: "</span>{e}
                </span>
            })}
            <input class=input_class id=id.clone() name=id.clone() type=input_type
                autocomplete=autocomplete.unwrap_or("off")
                aria-describedby=described_by
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))/>
        </div>
    }
}

/// One checkbox with its label and hint (the design system's checkbox), bound to `checked`.
#[component]
pub fn Checkbox(
    id: &'static str,
    #[prop(into)] label: String,
    #[prop(into)] hint: String,
    checked: RwSignal<bool>,
) -> impl IntoView {
    let hint_id = format!("{id}-hint");
    view! {
        <div class="nhsuk-form-group">
            <div class="nhsuk-checkboxes">
                <div class="nhsuk-checkboxes__item">
                    <input class="nhsuk-checkboxes__input" id=id type="checkbox" aria-describedby=hint_id.clone()
                        prop:checked=move || checked.get()
                        on:change=move |ev| checked.set(event_target_checked(&ev))/>
                    <label class="nhsuk-label nhsuk-checkboxes__label" for=id>{label}</label>
                    <div class="nhsuk-hint nhsuk-checkboxes__hint" id=hint_id>{hint}</div>
                </div>
            </div>
        </div>
    }
}

/// The design system's date input: day, month and year boxes in a fieldset (never the
/// browser's date picker, which is hard to use for a date decades ago and reads differently in
/// every browser). The day box carries `id`, so an error summary link lands on it.
#[component]
pub fn DateInput(
    id: String,
    #[prop(into)] legend: String,
    day: RwSignal<String>,
    month: RwSignal<String>,
    year: RwSignal<String>,
    #[prop(into)] hint: String,
    #[prop(into)] error: Signal<Option<String>>,
) -> impl IntoView {
    let hint_id = format!("{id}-hint");
    let error_id = format!("{id}-error");
    let described_by = {
        let (hint_id, error_id) = (hint_id.clone(), error_id.clone());
        move || {
            if error.get().is_some() {
                format!("{hint_id} {error_id}")
            } else {
                hint_id.clone()
            }
        }
    };
    let boxes = [
        (id.clone(), "Day", day, "nhsuk-input--width-2"),
        (
            format!("{id}-month"),
            "Month",
            month,
            "nhsuk-input--width-2",
        ),
        (format!("{id}-year"), "Year", year, "nhsuk-input--width-4"),
    ];
    view! {
        <div class="nhsuk-form-group" class:nhsuk-form-group--error=move || error.get().is_some()>
            <fieldset class="nhsuk-fieldset" role="group" aria-describedby=described_by>
                <legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">{legend}</legend>
                <div class="nhsuk-hint" id=hint_id>{hint}</div>
                {move || error.get().map(|e| view! {
                    <span class="nhsuk-error-message" id=error_id.clone()>
                        <span class="nhsuk-u-visually-hidden">"Error: "</span>{e}
                    </span>
                })}
                <div class="nhsuk-date-input">
                    {boxes.into_iter().map(|(box_id, label, value, width)| view! {
                        <div class="nhsuk-date-input__item">
                            <div class="nhsuk-form-group">
                                <label class="nhsuk-label nhsuk-date-input__label" for=box_id.clone()>{label}</label>
                                <input class=move || format!("nhsuk-input nhsuk-date-input__input {width}{}", if error.get().is_some() { " nhsuk-input--error" } else { "" })
                                    id=box_id.clone() name=box_id type="text" inputmode="numeric" autocomplete="off"
                                    prop:value=move || value.get()
                                    on:input=move |ev| value.set(event_target_value(&ev))/>
                            </div>
                        </div>
                    }).collect_view()}
                </div>
            </fieldset>
        </div>
    }
}

/// Fields of a record that two people changed at once, with a choice for each: keep the value
/// now stored, use the other one, or (for text) write a merge of both. Nothing is discarded
/// until the person chooses.
#[component]
pub fn ConflictNotice(id: Uuid) -> impl IntoView {
    let sync = expect_context::<SyncClient>();
    move || {
        let view = sync.shown(id)?;
        if view.conflicts.is_empty() {
            return None;
        }
        let current = view.fields.clone();
        let stamps = view.field_stamps.clone();
        Some(view! {
            <div class="nhsuk-warning-callout" role="region" aria-label="Changes made at the same time" data-testid="conflict">
                <h2 class="nhsuk-warning-callout__label">"Two people changed this at the same time"</h2>
                <p>"Nothing was thrown away. Choose which value to keep for each field, or merge them."</p>
                {view.conflicts.into_iter().enumerate().map(|(n, c)| {
                    let field = c.field.clone();
                    let kept = current.get(&field).cloned().unwrap_or(serde_json::Value::Null);
                    let (keep_field, other_field, merge_field) = (field.clone(), field.clone(), field.clone());
                    let kept_for_button = kept.clone();
                    let other = c.other_value.clone();
                    let texts = kept.as_str().zip(c.other_value.as_str()).map(|(a, b)| format!("{a}\n\n{b}"));
                    let merge_id = format!("merge-{id}-{n}");
                    let saved_by = stamps
                        .get(&field)
                        .filter(|s| !s.by.is_empty())
                        .map(|s| match s.at {
                            Some(at) => format!(" (entered by {} at {})", s.by, uk_time::format_uk(at)),
                            None => format!(" (entered by {})", s.by),
                        })
                        .unwrap_or_default();
                    let label = {
                        let text = crate::core::validation::humanise(&field);
                        let mut chars = text.chars();
                        chars.next().map(|c| c.to_uppercase().chain(chars).collect::<String>()).unwrap_or_default()
                    };
                    view! {
                        <div class="mdt-conflict">
                            <p><strong>{label}</strong>
                                ": now "<q>{display_value(&kept)}</q>{saved_by}"; "
                                {c.other_by.clone()}" entered "<q>{display_value(&c.other_value)}</q>
                                " at "{uk_time::format_uk(c.other_at)}"."</p>
                            <div class="nhsuk-button-group">
                                <button type="button" class="nhsuk-button nhsuk-button--secondary"
                                    on:click=move |_| sync.resolve(id, &keep_field, kept_for_button.clone())>
                                    "Keep “"{display_value(&kept)}"”"
                                </button>
                                <button type="button" class="nhsuk-button nhsuk-button--secondary"
                                    on:click=move |_| sync.resolve(id, &other_field, other.clone())>
                                    "Use “"{display_value(&c.other_value)}"”"
                                </button>
                            </div>
                            {texts.map(|both| {
                                let merged = RwSignal::new(both);
                                view! {
                                    <div class="nhsuk-form-group">
                                        <label class="nhsuk-label" for=merge_id.clone()>"Or merge them"</label>
                                        <textarea class="nhsuk-textarea" id=merge_id rows="4"
                                            prop:value=move || merged.get() on:input=move |ev| merged.set(event_target_value(&ev))></textarea>
                                        <button type="button" class="nhsuk-button nhsuk-button--secondary"
                                            on:click=move |_| sync.resolve(id, &merge_field, serde_json::Value::String(merged.get_untracked()))>
                                            "Save the merged text"
                                        </button>
                                    </div>
                                }
                            })}
                        </div>
                    }
                }).collect_view()}
            </div>
        })
    }
}

fn display_value(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => "(blank)".into(),
        other => other.to_string(),
    }
}

/// Whether the signed-in person may change `team_id`'s records: its coordinator and members
/// may, observers read only (the server refuses their changes), so pages hide the controls
/// an observer could not use. True while the team is not on the device yet (a new team).
pub fn may_change_team(team_id: Uuid) -> Signal<bool> {
    let sync = expect_context::<SyncClient>();
    let me = expect_context::<CurrentUser>();
    Signal::derive(move || {
        sync.read(|r| crate::web::views::team::team_writable(r, team_id, me.person_id))
    })
}

/// The professional role picker ("Role"), used wherever a person's role is chosen.
#[component]
pub fn RoleSelect(
    /// The element id (the label points at it).
    id: &'static str,
    role: RwSignal<crate::core::entities::Role>,
) -> impl IntoView {
    use crate::core::entities::Role;
    view! {
        <div class="nhsuk-form-group">
            <label class="nhsuk-label" for=id>"Role"</label>
            <select class="nhsuk-select" id=id
                on:change=move |ev| if let Some(r) = Role::parse(&event_target_value(&ev)) { role.set(r) }>
                {Role::ALL.into_iter().map(|r| view! {
                    <option value=r.as_str() selected=move || role.get() == r>{r.label()}</option>
                }).collect_view()}
            </select>
        </div>
    }
}
