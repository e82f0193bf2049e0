//! A meeting's agenda: items in running order with their time slots, reordering by keyboard and
//! mouse, adding items, the readiness panel, and closing the meeting.

pub mod add_item;
pub mod agenda_line;
pub mod attendance;
pub mod outcome;
pub mod restriction;

use chrono::Utc;
use leptos::prelude::*;
use uuid::Uuid;
use wasm_bindgen::JsCast;

use crate::core::access::RESTRICTED_EXPLANATION;
use crate::core::action::conclusion_blockers;
use crate::core::agenda::AgendaItem;
use crate::core::api::CurrentUser;
use crate::core::entities::{Meeting, MeetingStatus};
use crate::core::uk_time;
use crate::web::client::api;
use crate::web::client::sync::SyncClient;
use crate::web::components::markup::Markup;
use crate::web::components::ConflictNotice;
use crate::web::pages::meeting::add_item::AddItemForm;
use crate::web::pages::meeting::agenda_line::{AgendaLine, LineAction};
use crate::web::pages::meeting::attendance::Attendance;
use crate::web::pages::not_found::NotFound;
use crate::web::routes::{use_id, Page};
use crate::web::views::agenda::AgendaView;

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
                <p class="nhsuk-body" role="status">"Loading the meeting… If this does not change, the meeting may have been removed or you may not be in its team."</p>
                <p class="nhsuk-body"><a href=Page::Teams.href()>"Back to your teams"</a></p>
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
    // Observers read the agenda; they are shown no controls that change it.
    let may_edit = Signal::derive(move || header.with(|h| h.as_ref().is_some_and(|h| h.3)));
    let open = move || {
        header.with(|h| {
            h.as_ref()
                .is_some_and(|h| h.1.status == MeetingStatus::Planned)
        })
    };
    let team_id =
        data.with_untracked(|d| d.as_ref().map(|v| v.meeting.team_id).unwrap_or_default());
    // Concluding needs an outcome on every patient item; the refusal names them.
    let blockers = RwSignal::new(Vec::<String>::new());
    let conclude = move |_| {
        let Some(v) = data.get_untracked() else {
            return;
        };
        let found = conclusion_blockers(v.agenda.items(), &v.actions);
        if !found.is_empty() {
            blockers.set(
                found
                    .iter()
                    .map(|b| {
                        let heading = v
                            .agenda
                            .items()
                            .iter()
                            .find(|(i, _)| *i == b.item_id)
                            .map(|(_, i)| v.item_heading(i))
                            .unwrap_or_default();
                        format!("{heading} {}", b.problem)
                    })
                    .collect(),
            );
            return;
        }
        blockers.set(Vec::new());
        let question = "Conclude the meeting? Deferred items move to the team's next meeting.";
        if web_sys::window()
            .and_then(|w| w.confirm_with_message(question).ok())
            .unwrap_or(false)
        {
            let _ = sync.save(
                meeting_id,
                &Meeting {
                    status: MeetingStatus::Closed,
                    ..v.meeting
                },
            );
        }
    };
    // Running the meeting: which item is being discussed, and since when.
    let current = RwSignal::new(None::<usize>);
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
        <div class="nhsuk-button-group">
            <a class="nhsuk-button nhsuk-button--secondary" href=Page::BriefPack(meeting_id).href() role="button">"Brief pack to print"</a>
            <a class="nhsuk-button nhsuk-button--secondary" href=api::meeting_calendar_url(meeting_id) download="" role="button">"Add to calendar"</a>
            {move || open().then(|| view! {
                <button type="button" class="nhsuk-button nhsuk-button--secondary"
                    on:click=move |_| start_item(if current.get_untracked().is_some() { None } else { Some(0) })>
                    {move || if current.get().is_some() { "Stop running the meeting" } else { "Run the meeting" }}
                </button>
            })}
            {move || (is_coordinator.get() && open()).then(|| view! {
                <button type="button" class="nhsuk-button nhsuk-button--secondary" on:click=conclude>"Conclude the meeting"</button>
            })}
        </div>
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
                <div class="mdt-now" role="region" aria-label="Now discussing" data-testid="now-discussing">
                    <p class="mdt-now__label">{format!("Now discussing (item {} of {count}), slot {}–{}", index + 1, uk_time::format_uk_time(slot.starts_at), uk_time::format_uk_time(slot.ends_at))}</p>
                    <p class="mdt-now__heading">{v.item_heading(item)}</p>
                    <p class="mdt-now__timer" class:mdt-now__timer--over=over>
                        {format!("{}:{:02} of {}:00 minutes", elapsed / 60, elapsed % 60, allowed / 60)}
                        {over.then_some(" — over time")}
                    </p>
                    <div class="nhsuk-button-group">
                        {(index + 1 < count).then(|| view! {
                            <button type="button" class="nhsuk-button" on:click=move |_| start_item(Some(index + 1))>"Next item"</button>
                        })}
                    </div>
                </div>
            })
        })))}
        <Attendance data=data is_coordinator=is_coordinator/>
        {move || (!may_edit.get()).then(|| view! {
            <div class="nhsuk-inset-text" data-testid="read-only"><p>"You observe this team: you can read its agenda and briefs but not change them."</p></div>
        })}
        <AgendaList data=data is_coordinator=is_coordinator may_edit=may_edit current=current/>
        {move || (open() && may_edit.get()).then(|| view! { <AddItemForm data=data/> })}
        <ReadinessPanel data=data/>
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
    let recording = RwSignal::new(None::<Uuid>);
    let announce = RwSignal::new(String::new());
    let move_to = move |id: Uuid, to: usize, focus: &'static str| {
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
            // Keep the keyboard where it was: on the same control of the moved item.
            leptos::task::spawn_local(async move {
                leptos::task::tick().await;
                let element = web_sys::window()
                    .and_then(|w| w.document())
                    .and_then(|d| d.get_element_by_id(&format!("{focus}-{id}")));
                if let Some(el) = element.and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
                    let _ = el.focus();
                }
            });
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
    // Each line with what the viewer may do, worked out once per line: a line is rebuilt when
    // it or the viewer's rights change, and holds no reactive code for either.
    let rows = Memo::new(move |_| {
        let (coordinator, edit) = (is_coordinator.get(), may_edit.get());
        data.with(|d| d.as_ref().map(|v| v.rows(coordinator)).unwrap_or_default())
            .into_iter()
            .map(|row| (row, coordinator, edit))
            .collect::<Vec<_>>()
    });
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
            Some(LineAction::MoveUp) => move_to(id, index.saturating_sub(1), "move-up"),
            Some(LineAction::MoveDown) => move_to(id, index + 1, "move-down"),
            Some(LineAction::RecordOutcome) => recording.set(Some(id)),
            Some(LineAction::Restrict) => restrict(id),
            Some(LineAction::Remove) => {
                let heading = rows.with_untracked(|rows| {
                    rows.iter()
                        .find(|(row, _, _)| row.id == id)
                        .map(|(row, _, _)| row.heading.clone())
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
        {move || data.with(|d| d.as_ref().map(|v| {
            let total = i64::from(v.agenda.total_minutes());
            let length = v.meeting.minutes();
            let overrun = v.agenda.overrun_minutes(&v.meeting);
            view! {
                <p class="nhsuk-body" data-testid="agenda-total">
                    {format!("{} of {} planned", minutes_text(total), minutes_text(length))}
                </p>
                {(overrun > 0).then(|| view! {
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
        <ol class="mdt-agenda" data-testid="agenda-list"
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
                    move_to(from, index, "move-up");
                }
                dragged.set(None);
            }>
            <For each=move || rows.get() key=|line| line.clone() children=move |(row, is_coordinator, may_edit)| {
                view! { <AgendaLine row=row is_coordinator=is_coordinator may_edit=may_edit data=data current=current recording=recording/> }
            }/>
        </ol>
    }
}

/// Briefs ready and missing with their authors, who has read which, and who still has to act
/// before the brief cut-off.
#[component]
fn ReadinessPanel(data: Memo<Option<AgendaView>>) -> impl IntoView {
    let summary = Memo::new(move |_| {
        data.with(|d| {
            d.as_ref()
                .map(|v| v.readiness_summary(Utc::now()))
                .unwrap_or_default()
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
                <table class="nhsuk-table">
                    <caption class="nhsuk-table__caption nhsuk-u-visually-hidden">"Briefs and who has read them"</caption>
                    <thead><tr><th scope="col">"Patient"</th><th scope="col">"Brief"</th><th scope="col">"Written by"</th><th scope="col">"Read by"</th></tr></thead>
                    <tbody>
                        // One brief a line, up to one per agenda item: each row is written as
                        // markup in one piece (components::markup).
                        <For each=move || summary.with(|s| s.lines.clone()) key=|line| line.clone() children=|line| {
                            let mut cells = Markup::new();
                            cells.element("td", &[], &line.heading).element("td", &[], line.state).element("td", &[], &line.author);
                            cells.open("td", &[]).open("ul", &[("class", Some("nhsuk-list mdt-compact-list"))]);
                            for reader in &line.read {
                                cells.element("li", &[], reader);
                            }
                            cells.close("ul").close("td");
                            view! { <tr data-testid="readiness-row" inner_html=cells.finish()></tr> }
                        }/>
                    </tbody>
                </table>
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
