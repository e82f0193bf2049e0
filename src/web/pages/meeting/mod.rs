//! A meeting's agenda: items in running order with their time slots, reordering by keyboard and
//! mouse, adding items, the readiness panel, and closing the meeting.

pub mod add_item;
pub mod agenda_line;
pub mod attendance;
pub mod my_part;
pub mod outcome;
pub mod restriction;

use chrono::Utc;
use leptos::prelude::*;
use uuid::Uuid;
use wasm_bindgen::JsCast;

use crate::core::access::RESTRICTED_EXPLANATION;
use crate::core::agenda::{AgendaItem, ItemKind};
use crate::core::api::CurrentUser;
use crate::core::entities::{Meeting, MeetingStatus};
use crate::core::uk_time;
use crate::web::client::accounts::use_without_accounts_of;
use crate::web::client::api;
use crate::web::client::listeners::on_window;
use crate::web::client::sync::SyncClient;
use crate::web::components::markup::Markup;
use crate::web::components::markup_list::{keep_in_step, MarkupLine, MarkupLines};
use crate::web::components::{
    use_clock, ConflictNotice, RecordNotHere, SectionLinks, MEETING_NOT_OPEN,
};
use crate::web::pages::meeting::add_item::AddItemForm;
use crate::web::pages::meeting::agenda_line::{line_markup, LineAction};
use crate::web::pages::meeting::attendance::Attendance;
use crate::web::pages::meeting::my_part::MyPart;
use crate::web::pages::meeting::outcome::OutcomeForm;
use crate::web::pages::meeting::restriction::RestrictionControls;
use crate::web::pages::not_found::NotFound;
use crate::web::routes::{use_id, Page};
use crate::web::views::agenda::AgendaRow;
use crate::web::views::agenda::{AgendaView, ReadinessSummary};

/// `/meetings/<id>`.
#[component]
pub fn MeetingPage() -> impl IntoView {
    let id = use_id();
    move || match id.get() {
        Some(id) => view! { <MeetingAgenda meeting_id=id/> }.into_any(),
        None => view! { <NotFound/> }.into_any(),
    }
}

/// The agenda of one meeting, kept up to date from the device's copy.
#[component]
pub fn MeetingAgenda(meeting_id: Uuid) -> impl IntoView {
    let sync = expect_context::<SyncClient>();
    let data = Memo::new(move |_| sync.read(|r| AgendaView::load(r, meeting_id)));
    // Built once when the meeting arrives; everything inside follows `data` line by line, so
    // running state and open forms survive changes.
    let loaded = Memo::new(move |_| data.with(Option::is_some));
    move || {
        if loaded.get() {
            view! { <AgendaBody data=data meeting_id=meeting_id/> }.into_any()
        } else {
            view! {
                <RecordNotHere what="the meeting" missing=MEETING_NOT_OPEN/>
            }
            .into_any()
        }
    }
}

#[component]
fn AgendaBody(data: Memo<Option<AgendaView>>, meeting_id: Uuid) -> impl IntoView {
    let sync = expect_context::<SyncClient>();
    let me = expect_context::<CurrentUser>();
    let header = Memo::new(move |_| {
        data.with(|d| {
            d.as_ref().map(|v| {
                (
                    v.team.name.clone(),
                    v.meeting.clone(),
                    v.team.coordinator_id == me.person_id,
                    v.team.includes(me.person_id),
                )
            })
        })
    });
    let is_coordinator = Signal::derive(move || header.with(|h| h.as_ref().is_some_and(|h| h.2)));
    let is_member = Signal::derive(move || header.with(|h| h.as_ref().is_some_and(|h| h.3)));
    let open = move || {
        header.with(|h| {
            h.as_ref()
                .is_some_and(|h| h.1.status == MeetingStatus::Planned)
        })
    };
    // A meeting is run on its day and concluded once it has started (core::authorize refuses
    // concluding earlier): the buttons appear when that moment comes, with the page open.
    let now = use_clock(15_000);
    let on_its_day =
        move || header.with(|h| h.as_ref().is_some_and(|h| h.1.is_on_its_day(now.get())));
    let has_started = move || {
        header.with(|h| {
            h.as_ref()
                .is_some_and(|h| h.1.may_conclude(now.get()).is_ok())
        })
    };
    // Once the meeting is concluded: its outcome summaries, and how many are still to send.
    let summaries_to_send = Memo::new(move |_| {
        data.with(|d| {
            d.as_ref()
                .filter(|v| v.meeting.status == MeetingStatus::Closed)
                .map(|v| v.summaries_to_send(me.person_id))
                .filter(|(_, all)| *all > 0)
        })
    });
    // Observers read the agenda, and a concluded or cancelled meeting's agenda is its record:
    // neither is shown controls that change it.
    let may_edit = Signal::derive(move || is_member.get() && open());
    let team_id =
        data.with_untracked(|d| d.as_ref().map(|v| v.meeting.team_id).unwrap_or_default());
    // Concluding needs an outcome on every patient item; the refusal names them, and follows
    // the agenda: each item given its outcome leaves the list, and the refusal goes with the
    // last (it used to stay on screen after every outcome was recorded).
    let refused = RwSignal::new(false);
    // A refusal of the conclusion itself (by the device's copy of the write rules, which
    // refuses a meeting not yet started).
    let conclude_error = RwSignal::new(None::<String>);
    let blockers = Memo::new(move |_| {
        if !refused.get() {
            return Vec::new();
        }
        data.with(|d| {
            d.as_ref()
                .map(AgendaView::conclusion_blockers)
                .unwrap_or_default()
        })
    });
    let conclude = move |_| {
        let Some(v) = data.get_untracked() else {
            return;
        };
        if !v.conclusion_blockers().is_empty() {
            refused.set(true);
            return;
        }
        refused.set(false);
        let question = "Conclude the meeting? Deferred items move to the team's next meeting. It stays in everyone's calendar as held.";
        if web_sys::window()
            .and_then(|w| w.confirm_with_message(question).ok())
            .unwrap_or(false)
        {
            let saved = sync.save(
                meeting_id,
                &Meeting {
                    status: MeetingStatus::Closed,
                    ..v.meeting
                },
            );
            conclude_error.set(saved.err().map(|e| e.message));
        }
    };
    // Running the meeting: which item is being discussed, and since when.
    let current = RwSignal::new(None::<usize>);
    // While the "Now discussing" panel sticks to the top of the screen, a control that gets
    // focus underneath it is scrolled clear (WCAG 2.2, 2.4.11).
    let now_panel = NodeRef::<leptos::html::Div>::new();
    on_window("focusin", true, move || {
        // After the browser's own scrolling to the control, which may put it under the panel.
        request_animation_frame(move || keep_focus_clear_of(now_panel));
    });
    let started = RwSignal::new(0.0f64);
    let clock = RwSignal::new(0.0f64);
    let now_ms = || js_sys::Date::now();
    let ticker = StoredValue::new_local(None::<gloo_timers::callback::Interval>);
    let start_item = move |index: Option<usize>| {
        current.set(index);
        started.set(now_ms());
        clock.set(now_ms());
        ticker.set_value(
            index.map(|_| gloo_timers::callback::Interval::new(1000, move || clock.set(now_ms()))),
        );
    };
    let item_count = move || data.with(|d| d.as_ref().map_or(0, |v| v.agenda.items().len()));
    // Once the meeting is concluded or cancelled (here or on another device), it is no longer
    // being run: the "Now discussing" panel and its timer go.
    Effect::new(move |_| {
        if !open() && current.get_untracked().is_some() {
            start_item(None);
        }
    });
    // The readiness panel is shown once there is a patient item (whose brief it follows).
    let has_patient_items = Signal::derive(move || {
        data.with(|d| {
            d.as_ref().is_some_and(|v| {
                v.agenda
                    .items()
                    .iter()
                    .any(|(_, i)| i.kind == ItemKind::PatientDiscussion && !i.content_withheld)
            })
        })
    });
    view! {
        <a class="nhsuk-back-link" href=Page::Team(team_id).href()>"Back to the team"</a>
        {move || header.get().map(|(team_name, meeting, _, _)| {
            let status_text = match meeting.status {
                MeetingStatus::Planned => None,
                MeetingStatus::Cancelled => Some("This meeting is cancelled."),
                MeetingStatus::Closed => Some("This meeting is concluded. Deferred items have moved to the next meeting."),
            };
            view! {
                <h1 class="nhsuk-heading-l">{format!("{team_name} — {}", uk_time::format_uk(meeting.starts_at))}</h1>
                <p class="nhsuk-body">
                    {format!("{}–{} UK time", uk_time::format_uk_time(meeting.starts_at), uk_time::format_uk_time(meeting.ends_at))}
                    {(!meeting.place.is_empty()).then(|| format!(" · {}", meeting.place))}
                </p>
                {status_text.map(|t| view! { <div class="nhsuk-inset-text"><p>{t}</p></div> })}
            }
        })}
        <ConflictNotice id=meeting_id/>
        // The person's own part first: on a phone, their answer and briefs are on the first
        // screen, before the coordinator's running of the meeting.
        <Show when=move || !is_coordinator.get()>
            <MyPart data=data/>
        </Show>
        <ul class="nhsuk-list mdt-inline-links">
            <li><a href=Page::BriefPack(meeting_id).href()>"Brief pack to print"</a></li>
            {move || summaries_to_send.get().map(|(unsent, all)| view! {
                <li><a href=Page::OutcomeSummaries(meeting_id).href() data-testid="summaries-link">{match unsent {
                    0 => format!("Outcome summaries ({all}, all sent)"),
                    n => format!("Outcome summaries ({n} of {all} still to send)"),
                }}</a></li>
            })}
            <li><a href=api::meeting_calendar_url(meeting_id) download="">"Add to calendar"</a></li>
        </ul>
        <SectionLinks sections=vec![
            ("attendance-title", "Who is coming", Signal::stored(true)),
            ("agenda", "Agenda", Signal::stored(true)),
            ("readiness-title", "Readiness", has_patient_items),
        ]/>
        // One primary action: running the meeting (concluding it is the coordinator's, after).
        <div class="nhsuk-button-group">
            {move || (is_coordinator.get() && open() && on_its_day()).then(|| view! {
                <button type="button" class="nhsuk-button"
                    on:click=move |_| start_item(if current.get_untracked().is_some() { None } else { Some(0) })>
                    {move || if current.get().is_some() { "Stop running the meeting" } else { "Run the meeting" }}
                </button>
            })}
            {move || (is_coordinator.get() && open() && has_started()).then(|| view! {
                <button type="button" class="nhsuk-button nhsuk-button--secondary" on:click=conclude>"Conclude the meeting"</button>
            })}
        </div>
        {move || conclude_error.get().map(|why| view! {
            <div class="nhsuk-error-summary" role="alert" tabindex="-1" data-testid="conclude-error">
                <h2 class="nhsuk-error-summary__title">"The meeting cannot be concluded"</h2>
                <div class="nhsuk-error-summary__body"><p>{why}</p></div>
            </div>
        })}
        {move || (!blockers.get().is_empty()).then(|| view! {
            <div class="nhsuk-error-summary" role="alert" tabindex="-1" data-testid="conclude-refused">
                <h2 class="nhsuk-error-summary__title">"The meeting cannot be concluded yet"</h2>
                <div class="nhsuk-error-summary__body">
                    <p>"Every patient item needs an outcome: a decision with at least one action, no action needed, or deferred."</p>
                    <ul class="nhsuk-list nhsuk-error-summary__list">
                        {blockers.get().into_iter().map(|b| view! { <li>{b}</li> }).collect_view()}
                    </ul>
                </div>
            </div>
        })}
        {move || current.get().and_then(|index| data.with(|d| d.as_ref().and_then(|v| {
            let (_, item) = v.agenda.items().get(index)?;
            let slot = v.slots.get(index)?;
            let elapsed = ((clock.get() - started.get()) / 1000.0).max(0.0) as i64;
            let allowed = i64::from(item.slot_minutes()) * 60;
            let over = elapsed > allowed;
            let count = item_count();
            Some(view! {
                <div class="mdt-now" role="region" aria-label="Now discussing" data-testid="now-discussing" node_ref=now_panel>
                    // An item with no time of its own (for information) has no slot or timer.
                    <p class="mdt-now__label">{if allowed > 0 {
                        format!("Now discussing (item {} of {count}), slot {}–{}", index + 1, uk_time::format_uk_time(slot.starts_at), uk_time::format_uk_time(slot.ends_at))
                    } else {
                        format!("Now discussing (item {} of {count}), for information: no time set", index + 1)
                    }}</p>
                    <p class="mdt-now__heading">{v.item_heading(item)}</p>
                    {(allowed > 0).then(|| view! {
                        <p class="mdt-now__timer" class:mdt-now__timer--over=over>
                            {format!("{}:{:02} of {}:00 minutes", elapsed / 60, elapsed % 60, allowed / 60)}
                            {over.then_some(" — over time")}
                        </p>
                    })}
                    <div class="nhsuk-button-group">
                        {(index + 1 < count).then(|| view! {
                            <button type="button" class="nhsuk-button" on:click=move |_| start_item(Some(index + 1))>"Next item"</button>
                        })}
                    </div>
                </div>
            })
        })))}
        <Attendance data=data is_coordinator=is_coordinator/>
        {move || (!is_member.get()).then(|| view! {
            <div class="nhsuk-inset-text" data-testid="read-only"><p>"You observe this team: you can read its agenda and briefs but not change them."</p></div>
        })}
        <AgendaList data=data is_coordinator=is_coordinator may_edit=may_edit current=current/>
        {move || (open() && may_edit.get()).then(|| view! { <AddItemForm data=data/> })}
        <ReadinessPanel data=data/>
    }
}

/// Scrolls the page so the focused control is not under the sticky `panel` (when the panel is
/// shown, stuck to the top of the screen, and the control is not in it).
fn keep_focus_clear_of(panel: NodeRef<leptos::html::Div>) {
    // The page may be gone by the time the frame comes (a link was followed): then nothing.
    let Some(panel) = panel.try_get_untracked().flatten() else {
        return;
    };
    let Some(window) = web_sys::window() else {
        return;
    };
    let Some(focused) = window.document().and_then(|d| d.active_element()) else {
        return;
    };
    if panel.contains(Some(&focused)) {
        return;
    }
    let (stuck, control) = (
        panel.get_bounding_client_rect(),
        focused.get_bounding_client_rect(),
    );
    // Stuck: at the top edge (on a phone the panel scrolls with the page, see style/app.css).
    let is_stuck = stuck.top().abs() < 1.0;
    if is_stuck && control.top() < stuck.bottom() {
        window.scroll_by_with_x_and_y(0.0, control.top() - stuck.bottom() - 16.0);
    }
}

/// Minutes as words: "15 minutes", "1 minute".
fn minutes_text(m: i64) -> String {
    if m == 1 {
        "1 minute".into()
    } else {
        format!("{m} minutes")
    }
}

/// The items in running order, with slot times, flags and reorder controls. Lines are keyed
/// by their content, so a change re-renders only the lines it touches.
#[component]
fn AgendaList(
    data: Memo<Option<AgendaView>>,
    is_coordinator: Signal<bool>,
    /// False for observers: no reordering, outcomes or removal.
    may_edit: Signal<bool>,
    /// The item being discussed when the meeting is run from the app.
    current: RwSignal<Option<usize>>,
) -> impl IntoView {
    let sync = expect_context::<SyncClient>();
    let dragged = RwSignal::new(None::<Uuid>);
    // Move up and down are shown only while the order is being changed: the rest of the time a
    // line offers its brief, its outcome and "More".
    let reordering = RwSignal::new(false);
    let recording = RwSignal::new(None::<Uuid>);
    let announce = RwSignal::new(String::new());
    let focus_after = StoredValue::new(None::<(Uuid, LineAction)>);
    let move_to = move |id: Uuid, to: usize, focus: LineAction| {
        let Some(v) = data.get_untracked() else {
            return;
        };
        let mut agenda = v.agenda.clone();
        let changes = agenda.move_item(id, to);
        let updated: Vec<(Uuid, AgendaItem)> = changes
            .iter()
            .filter_map(|(changed, position)| {
                agenda
                    .items()
                    .iter()
                    .find(|(i, _)| i == changed)
                    .map(|(i, item)| {
                        (
                            *i,
                            AgendaItem {
                                position: *position,
                                ..item.clone()
                            },
                        )
                    })
            })
            .collect();
        if sync.save_all(&updated).is_ok() {
            let heading = agenda
                .items()
                .get(to)
                .map(|(_, i)| v.item_heading(i))
                .unwrap_or_default();
            announce.set(format!(
                "Moved {heading} to position {} of {}",
                to + 1,
                agenda.items().len()
            ));
            // Keep the keyboard where it was: on the same control of the moved item, once the
            // list shows the move.
            if !changes.is_empty() {
                focus_after.set_value(Some((id, focus)));
            }
        }
    };
    let remove = move |id: Uuid, heading: String| {
        let question = format!("Remove “{heading}” from the agenda?");
        if web_sys::window()
            .and_then(|w| w.confirm_with_message(&question).ok())
            .unwrap_or(false)
        {
            if let Err(e) = sync.delete(id) {
                announce.set(e.message);
            }
        }
    };
    // The coordinator's chase of a brief: the answer (to whom it went, or why not) is shown
    // above the list and read out.
    let chased = RwSignal::new(None::<Result<String, String>>);
    let chase = Action::new_local(move |item: &Uuid| {
        let body = crate::core::api::ChaseBody {
            item_id: Some(*item),
            action_id: None,
        };
        async move {
            let outcome = crate::web::client::api::chase(&body)
                .await
                .map(|sent| format!("Sent: {} has been asked for the brief by email.", sent.to))
                .map_err(|e| e.to_string());
            chased.set(Some(outcome));
        }
    });
    let restrict = move |id: Uuid| {
        let Some(item) = data.with_untracked(|d| d.as_ref().and_then(|v| v.item(id).cloned()))
        else {
            return;
        };
        let question = format!("Restrict this item? {RESTRICTED_EXPLANATION}");
        if web_sys::window()
            .and_then(|w| w.confirm_with_message(&question).ok())
            .unwrap_or(false)
        {
            let _ = sync.save(
                id,
                &AgendaItem {
                    restricted: true,
                    ..item
                },
            );
        }
    };
    // Each line with what the viewer may do, and its markup.
    let rows = Memo::new(move |_| {
        let coordinator = is_coordinator.get();
        data.with(|d| d.as_ref().map(|v| v.rows(coordinator)).unwrap_or_default())
    });
    let lines = Memo::new(move |_| {
        let edit = may_edit.get();
        rows.with(|rows| {
            rows.iter()
                .map(|row| (row.id, line_markup(row, edit)))
                .collect::<Vec<MarkupLine>>()
        })
    });
    let list = NodeRef::<leptos::html::Ol>::new();
    let first_lines = lines.get_untracked();
    let first_markup: String = first_lines.iter().map(|(_, html)| html.as_str()).collect();
    keep_lines(
        KeptLines {
            list,
            lines,
            rows,
            data,
            is_coordinator,
            may_edit,
            current,
            recording,
            focus_after,
        },
        first_lines,
    );
    // Dragging and the lines' buttons are handled once for the whole list: the line (and the
    // button) are found from the event's target.
    let line_of = |target: Option<web_sys::EventTarget>| -> Option<(Uuid, usize)> {
        let line = target?
            .dyn_into::<web_sys::Element>()
            .ok()?
            .closest("li[data-index]")
            .ok()??;
        let id = Uuid::parse_str(&line.get_attribute("data-id")?).ok()?;
        let index = line.get_attribute("data-index")?.parse().ok()?;
        Some((id, index))
    };
    let on_click = move |ev: leptos::ev::MouseEvent| {
        let Some(action) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|t| t.closest("button[data-action]").ok().flatten())
            .and_then(|button| button.get_attribute("data-action"))
        else {
            return;
        };
        let Some((id, index)) = line_of(ev.target()) else {
            return;
        };
        match LineAction::parse(&action) {
            Some(LineAction::MoveUp) => move_to(id, index.saturating_sub(1), LineAction::MoveUp),
            Some(LineAction::MoveDown) => move_to(id, index + 1, LineAction::MoveDown),
            Some(LineAction::RecordOutcome) => recording.set(Some(id)),
            Some(LineAction::Restrict) => restrict(id),
            Some(LineAction::ChaseBrief) => {
                chased.set(None);
                chase.dispatch(id);
            }
            Some(LineAction::Remove) => {
                let heading = rows.with_untracked(|rows| {
                    rows.iter()
                        .find(|row| row.id == id)
                        .map(|row| row.heading.clone())
                });
                if let Some(heading) = heading {
                    remove(id, heading);
                }
            }
            None => {}
        }
    };
    view! {
        <h2 id="agenda">"Agenda"</h2>
        <p class="nhsuk-u-visually-hidden" role="status" aria-live="polite">{move || announce.get()}</p>
        <div role="status" data-testid="chase-result">{move || chased.get().map(|c| match c {
            Ok(text) => view! { <div class="nhsuk-inset-text"><p>{text}</p></div> }.into_any(),
            Err(e) => view! { <p class="nhsuk-error-message">{e}</p> }.into_any(),
        })}</div>
        {move || data.with(|d| d.as_ref().map(|v| {
            let total = i64::from(v.agenda.total_minutes());
            let length = v.meeting.minutes();
            let overrun = v.agenda.overrun_minutes(&v.meeting);
            view! {
                <p class="nhsuk-body" data-testid="agenda-total">
                    {format!("{} of {} planned", minutes_text(total), minutes_text(length))}
                </p>
                // Advice for planning: a held or cancelled meeting has nothing left to shorten.
                {(overrun > 0 && v.meeting.status == MeetingStatus::Planned).then(|| view! {
                    <div class="nhsuk-warning-callout" data-testid="overrun">
                        <h3 class="nhsuk-warning-callout__label">"The agenda overruns the meeting"</h3>
                        <p>{format!("The items need {} more than the meeting's {}. Shorten items, move some to the next meeting, or lengthen the meeting.", minutes_text(overrun), minutes_text(length))}</p>
                    </div>
                })}
            }
        }))}
        <Show when=move || rows.with(|r| r.is_empty())>
            <p class="nhsuk-body" data-testid="empty-agenda">"No items yet. Add the first one below."</p>
        </Show>
        <Show when=move || may_edit.get() && rows.with(|r| r.len() > 1)>
            <button type="button" class="nhsuk-button nhsuk-button--secondary nhsuk-button--small" aria-pressed=move || reordering.get().to_string()
                on:click=move |_| reordering.update(|r| *r = !*r)>
                {move || if reordering.get() { "Finish changing the order" } else { "Change the order" }}
            </button>
        </Show>
        // The lines are written as markup and kept in step by `keep_lines`.
        <ol class="mdt-agenda" class:mdt-agenda--reordering=move || reordering.get() data-testid="agenda-list" node_ref=list inner_html=first_markup
            on:click=on_click
            on:dragstart=move |ev: leptos::ev::DragEvent| {
                if let Some((id, _)) = line_of(ev.target()) {
                    dragged.set(Some(id));
                    if let Some(dt) = ev.data_transfer() { let _ = dt.set_data("text/plain", &id.to_string()); }
                }
            }
            on:dragover=move |ev: leptos::ev::DragEvent| ev.prevent_default()
            on:drop=move |ev: leptos::ev::DragEvent| {
                ev.prevent_default();
                if let (Some(from), Some((_, index))) = (dragged.get_untracked(), line_of(ev.target())) {
                    move_to(from, index, LineAction::MoveUp);
                }
                dragged.set(None);
            }>
        </ol>
    }
}

/// The readiness table's rows, one brief a line (up to one per agenda item), written as markup
/// and kept in step like the agenda's lines (`components::markup_list`).
#[component]
fn ReadinessRows(summary: Memo<ReadinessSummary>) -> impl IntoView {
    let lines = Memo::new(move |_| {
        summary.with(|s| {
            s.lines
                .iter()
                .map(|line| {
                    // The design system's responsive table: on a phone each cell is a line
                    // with its column's name before it.
                    let mut row = Markup::new();
                    let cell = |row: &mut Markup, heading: &str| {
                        row.open("td", &[("class", Some("nhsuk-table__cell"))])
                            .element(
                                "span",
                                &[
                                    ("class", Some("nhsuk-table-responsive__heading")),
                                    ("aria-hidden", Some("true")),
                                ],
                                heading,
                            );
                    };
                    row.open(
                        "tr",
                        &[
                            ("class", Some("nhsuk-table__row")),
                            ("role", Some("row")),
                            ("data-testid", Some("readiness-row")),
                        ],
                    );
                    for (heading, text) in [
                        ("Patient ", line.heading.as_str()),
                        ("Brief ", line.state),
                        ("Written by ", line.author.as_str()),
                    ] {
                        cell(&mut row, heading);
                        row.text(text).close("td");
                    }
                    cell(&mut row, "Read by ");
                    row.open("ul", &[("class", Some("nhsuk-list mdt-compact-list"))]);
                    for reader in &line.read {
                        row.element("li", &[], reader);
                    }
                    row.close("ul").close("td").close("tr");
                    (line.item_id, row.finish())
                })
                .collect::<Vec<MarkupLine>>()
        })
    });
    let body = NodeRef::<leptos::html::Tbody>::new();
    let first = lines.get_untracked();
    let first_markup: String = first.iter().map(|(_, html)| html.as_str()).collect();
    keep_in_step(body, lines, first);
    view! { <tbody class="nhsuk-table__body" role="rowgroup" node_ref=body inner_html=first_markup></tbody> }
}

/// What the agenda's list needs to keep its lines in step (see [`keep_lines`]).
struct KeptLines {
    list: NodeRef<leptos::html::Ol>,
    lines: Memo<Vec<MarkupLine>>,
    rows: Memo<Vec<AgendaRow>>,
    data: Memo<Option<AgendaView>>,
    is_coordinator: Signal<bool>,
    /// False for observers and once the meeting is over: no form or controls are mounted.
    may_edit: Signal<bool>,
    current: RwSignal<Option<usize>>,
    recording: RwSignal<Option<Uuid>>,
    /// The line and the button on it to focus once the list has changed (after a move).
    focus_after: StoredValue<Option<(Uuid, LineAction)>>,
}

/// A component mounted into one agenda line.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum LinePart {
    OutcomeForm,
    RestrictionControls,
}

/// A component mounted into a line: the element holding it (moved into the line's new element
/// when the line is rewritten, so a half-written outcome survives a change pulled from
/// elsewhere) and the handle that unmounts it when dropped.
struct Mounted {
    holder: web_sys::HtmlElement,
    _handle: leptos::mount::UnmountHandle<leptos::tachys::view::any_view::AnyViewState>,
}

/// Keeps the list's lines in step with the agenda (`MarkupLines`), marks the item being
/// discussed, and mounts the outcome form and the restriction controls into the lines that
/// need them, under this page's owner (so they see its context). Runs after each change; the
/// first lines are already in the list, written as its `inner_html`.
fn keep_lines(parts: KeptLines, first_lines: Vec<MarkupLine>) {
    use std::collections::HashMap;

    let KeptLines {
        list,
        lines,
        rows,
        data,
        is_coordinator,
        may_edit,
        current,
        recording,
        focus_after,
    } = parts;
    let owner = Owner::current().expect("the agenda is rendered under an owner");
    let mut kept: Option<MarkupLines> = None;
    let mut first_lines = Some(first_lines);
    let mut mounted: HashMap<(Uuid, LinePart), Mounted> = HashMap::new();
    Effect::new(move |_| {
        let Some(ol) = list.get() else {
            return;
        };
        let (current_index, recording_id, coordinator, editable) = (
            current.get(),
            recording.get(),
            is_coordinator.get(),
            may_edit.get(),
        );
        let kept = lines.with(|lines| MarkupLines::step(&mut kept, &mut first_lines, &ol, lines));
        for (index, line) in kept.elements().enumerate() {
            let is_current = current_index == Some(index);
            let _ = line
                .class_list()
                .toggle_with_force("mdt-agenda__item--current", is_current);
            if is_current {
                let _ = line.set_attribute("aria-current", "step");
            } else if line.has_attribute("aria-current") {
                let _ = line.remove_attribute("aria-current");
            }
        }
        // The parts wanted now, each line's from the last to the first: a line shows its
        // outcome form, then its restriction controls, then its buttons.
        let wanted: Vec<(Uuid, LinePart)> = rows.with(|rows| {
            let mut wanted = Vec::new();
            for row in rows.iter().filter(|row| editable && !row.withheld) {
                if row.restricted && coordinator {
                    wanted.push((row.id, LinePart::RestrictionControls));
                }
                if recording_id == Some(row.id) {
                    wanted.push((row.id, LinePart::OutcomeForm));
                }
            }
            wanted
        });
        mounted.retain(|part, _| wanted.contains(part));
        // What the part being placed goes straight before: the line's buttons, or the part
        // placed after it.
        let mut before: Option<(Uuid, web_sys::Node)> = None;
        for (id, part) in wanted {
            let reference = match &before {
                Some((line, node)) if *line == id => Some(node.clone()),
                _ => kept
                    .element(id)
                    .and_then(|line| line.query_selector(".mdt-agenda__actions").ok().flatten())
                    .map(web_sys::Node::from),
            };
            let Some(reference) = reference else {
                continue;
            };
            let entry = mounted.entry((id, part)).or_insert_with(|| {
                let holder: web_sys::HtmlElement = web_sys::window()
                    .and_then(|w| w.document())
                    .and_then(|d| d.create_element("div").ok())
                    .expect("a document to write the agenda in")
                    .unchecked_into();
                // Untracked: what the part reads while it is built is its own business, not
                // a reason to run this effect again.
                let handle = untrack(|| owner.with(|| {
                    leptos::mount::mount_to(holder.clone(), move || match part {
                        LinePart::OutcomeForm => view! {
                            <OutcomeForm data=data item_id=id on_done=Callback::new(move |_| recording.set(None))/>
                        }
                        .into_any(),
                        LinePart::RestrictionControls => {
                            view! { <RestrictionControls data=data item_id=id/> }.into_any()
                        }
                    })
                }));
                Mounted {
                    holder,
                    _handle: handle,
                }
            });
            let holder: &web_sys::Node = entry.holder.as_ref();
            if holder.next_sibling().as_ref() != Some(&reference) {
                let focused = focused_within(holder);
                if let Some(body) = reference.parent_node() {
                    let _ = body.insert_before(holder, Some(&reference));
                }
                if let Some(focused) = focused {
                    let _ = focused.focus();
                }
            }
            before = Some((id, holder.clone()));
        }
        if let Some((id, action)) = focus_after.try_update_value(Option::take).flatten() {
            if let Some(control) = kept
                .element(id)
                .and_then(|line| {
                    line.query_selector(&format!("button[data-action={}]", action.as_str()))
                        .ok()
                })
                .flatten()
                .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
            {
                let _ = control.focus();
            }
        }
    });
}

/// The element with the keyboard focus if it is inside `holder` (moving an element takes the
/// focus away, so it is given back).
fn focused_within(holder: &web_sys::Node) -> Option<web_sys::HtmlElement> {
    let active = web_sys::window()?.document()?.active_element()?;
    holder
        .contains(Some(&active))
        .then(|| active.dyn_into::<web_sys::HtmlElement>().ok())
        .flatten()
}

/// Briefs ready and missing with their authors, who has read which, and who still has to act
/// before the brief cut-off.
#[component]
fn ReadinessPanel(data: Memo<Option<AgendaView>>) -> impl IntoView {
    let cannot_sign_in =
        use_without_accounts_of(move || data.with(|d| d.as_ref().map(|v| v.meeting.team_id)));
    let summary = Memo::new(move |_| {
        cannot_sign_in.with(|without| {
            data.with(|d| {
                d.as_ref()
                    .map(|v| {
                        v.readiness_summary(Utc::now(), without.as_deref().unwrap_or_default())
                    })
                    .unwrap_or_default()
            })
        })
    });
    let total = move || summary.with(|s| s.lines.len());
    let has_lines = move || total() > 0;
    view! {
        <Show when=has_lines>
            <section class="mdt-readiness" aria-labelledby="readiness-title" data-testid="readiness">
                <h2 id="readiness-title">"Readiness"</h2>
                <p class="nhsuk-body-l" data-testid="readiness-count">
                    {move || format!("{} of {} briefs ready", summary.with(|s| s.ready), total())}
                </p>
                <p class="nhsuk-body">
                    {move || summary.with(|s| s.due.map(|d| format!("Briefs are due by {} (UK time).", uk_time::format_uk(d))))}
                </p>
                // The count and what is still to do lead; each brief's line is there when wanted
                // (ten items' lines took a screen and a half, issue 29).
                <details class="nhsuk-details" data-testid="readiness-details">
                    <summary class="nhsuk-details__summary">
                        <span class="nhsuk-details__summary-text">"Each brief: who writes it and who has read it"</span>
                    </summary>
                    <div class="nhsuk-details__text">
                        <table class="nhsuk-table-responsive">
                            <caption class="nhsuk-table__caption nhsuk-u-visually-hidden">"Briefs and who has read them"</caption>
                            <thead class="nhsuk-table__head" role="rowgroup"><tr role="row"><th scope="col" role="columnheader">"Patient"</th><th scope="col" role="columnheader">"Brief"</th><th scope="col" role="columnheader">"Written by"</th><th scope="col" role="columnheader">"Read by"</th></tr></thead>
                            <ReadinessRows summary=summary/>
                        </table>
                    </div>
                </details>
                {move || summary.with(|s| if s.before_cutoff {
                    view! {
                        <h3>"Still to act before the brief cut-off"</h3>
                        <ul class="nhsuk-list nhsuk-list--bullet" data-testid="to-act">
                            {s.to_act.iter().map(|line| view! { <li>{line.clone()}</li> }).collect_view()}
                        </ul>
                    }.into_any()
                } else {
                    let missing = s.lines.len() - s.ready;
                    view! {
                        <p class="nhsuk-body"><strong>"The brief cut-off has passed."</strong>
                            {(missing > 0).then(|| format!(" {} brief{} not ready.", missing, if missing == 1 { " is" } else { "s are" }))}
                        </p>
                    }.into_any()
                })}
            </section>
        </Show>
    }
}
