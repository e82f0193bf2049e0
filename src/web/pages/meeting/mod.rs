//! A meeting's agenda: items in running order with their time slots, reordering by keyboard and
//! mouse, adding items, the readiness panel, and closing the meeting.

pub mod add_item;
pub mod attendance;
pub mod outcome;
pub mod restriction;

use chrono::Utc;
use leptos::prelude::*;
use uuid::Uuid;
use wasm_bindgen::JsCast;

use crate::core::access::RESTRICTED_EXPLANATION;
use crate::core::action::conclusion_blockers;
use crate::core::agenda::{AgendaItem, ItemKind};
use crate::core::api::CurrentUser;
use crate::core::entities::{Meeting, MeetingStatus};
use crate::core::uk_time;
use crate::web::client::api;
use crate::web::client::sync::SyncClient;
use crate::web::components::ConflictNotice;
use crate::web::pages::meeting::add_item::AddItemForm;
use crate::web::pages::meeting::attendance::Attendance;
use crate::web::pages::meeting::outcome::OutcomeForm;
use crate::web::pages::meeting::restriction::RestrictionControls;
use crate::web::pages::not_found::NotFound;
use crate::web::routes::{use_id, Page};
use crate::web::views::agenda::{AgendaRow, AgendaView, BriefBadge};

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
    // Dragging is handled once for the whole list: the line is found from the event's target.
    let line_of = |ev: &leptos::ev::DragEvent| -> Option<(Uuid, usize)> {
        let line = ev
            .target()?
            .dyn_into::<web_sys::Element>()
            .ok()?
            .closest("li[data-index]")
            .ok()??;
        let id = Uuid::parse_str(&line.get_attribute("data-id")?).ok()?;
        let index = line.get_attribute("data-index")?.parse().ok()?;
        Some((id, index))
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
            on:dragstart=move |ev: leptos::ev::DragEvent| {
                if let Some((id, _)) = line_of(&ev) {
                    dragged.set(Some(id));
                    if let Some(dt) = ev.data_transfer() { let _ = dt.set_data("text/plain", &id.to_string()); }
                }
            }
            on:dragover=move |ev: leptos::ev::DragEvent| ev.prevent_default()
            on:drop=move |ev: leptos::ev::DragEvent| {
                ev.prevent_default();
                if let (Some(from), Some((_, index))) = (dragged.get_untracked(), line_of(&ev)) {
                    move_to(from, index, "move-up");
                }
                dragged.set(None);
            }>
            <For each=move || rows.get() key=|line| line.clone() children=move |(row, is_coordinator, may_edit)| {
                let line = AgendaLineHandles { data, current, recording, move_to: Callback::new(move |(id, to, focus)| move_to(id, to, focus)), remove: Callback::new(move |(id, heading)| remove(id, heading)), restrict: Callback::new(restrict) };
                view! { <AgendaLine row=row is_coordinator=is_coordinator may_edit=may_edit handles=line/> }
            }/>
        </ol>
    }
}

/// What every line of the agenda shares with the list around it.
#[derive(Clone, Copy)]
struct AgendaLineHandles {
    data: Memo<Option<AgendaView>>,
    /// The item being discussed when the meeting is run from the app.
    current: RwSignal<Option<usize>>,
    /// The item whose outcome form is open.
    recording: RwSignal<Option<Uuid>>,
    /// (item, new position, the control to keep focus on).
    move_to: Callback<(Uuid, usize, &'static str)>,
    /// (item, its heading for the question).
    remove: Callback<(Uuid, String)>,
    restrict: Callback<Uuid>,
}

/// One line of the agenda. Everything but the running meeting's highlight and the outcome form
/// is fixed for the line's life: the list rebuilds a line when it or the viewer's rights change.
#[component]
fn AgendaLine(
    row: AgendaRow,
    is_coordinator: bool,
    /// False for observers: no reordering, outcomes or removal.
    may_edit: bool,
    handles: AgendaLineHandles,
) -> impl IntoView {
    let AgendaLineHandles {
        data,
        current,
        recording,
        move_to,
        remove,
        restrict,
    } = handles;
    let AgendaRow {
        id,
        index,
        count,
        heading,
        ..
    } = row.clone();
    let heading_for_remove = heading.clone();
    let up_label = format!("Move up: {heading}");
    let down_label = format!("Move down: {heading}");
    view! {
        <li class="mdt-agenda__item" class:mdt-agenda__item--discussed=row.discussed
            class:mdt-agenda__item--current=move || current.get() == Some(index)
            aria-current=move || (current.get() == Some(index)).then_some("step")
            draggable=if may_edit { "true" } else { "false" } data-testid="agenda-item"
            data-id=id.to_string() data-index=index
            data-withheld=row.withheld.then_some("true")>
            <div class="mdt-agenda__time">{row.time.clone()}</div>
            <div class="mdt-agenda__body">
                <h3 class="mdt-agenda__heading">
                    {row.is_patient.then(|| view! { <span class="nhsuk-u-visually-hidden">"Patient: "</span> })}
                    {match row.patient_id {
                        Some(pid) => view! { <a href=Page::Patient(pid).href() class="mdt-agenda__patient">{heading.clone()}</a> }.into_any(),
                        None => view! { <span>{heading.clone()}</span> }.into_any(),
                    }}
                </h3>
                <p class="mdt-agenda__tags">
                    {(!row.is_patient).then(|| view! { <strong class="nhsuk-tag nhsuk-tag--grey">{row.kind_label}</strong> })}
                    {row.restricted.then(|| view! { <strong class="nhsuk-tag nhsuk-tag--purple" data-testid="restricted" title=RESTRICTED_EXPLANATION>"Restricted"</strong> })}
                    {row.objects_to_sharing.then(|| view! { <strong class="nhsuk-tag nhsuk-tag--red" data-testid="objects-to-sharing" title="The patient objects to their information being shared: share only what their care needs">"Objects to sharing"</strong> })}
                    {row.late.then(|| view! { <strong class="nhsuk-tag nhsuk-tag--orange">"Late"</strong> })}
                    {(row.deferrals > 0).then(|| view! { <strong class="nhsuk-tag nhsuk-tag--yellow" data-testid="deferred">{format!("Deferred {}×", row.deferrals)}</strong> })}
                    {row.needs_attention.then(|| view! { <strong class="nhsuk-tag nhsuk-tag--red">"Needs your attention"</strong> })}
                    {row.discussed.then(|| view! { <strong class="nhsuk-tag nhsuk-tag--green">"Discussed"</strong> })}
                    {row.carried.then(|| view! { <strong class="nhsuk-tag nhsuk-tag--grey">"Moved to the next meeting"</strong> })}
                    {row.brief.map(|b| match b {
                        BriefBadge::Ready => view! { <strong class="nhsuk-tag nhsuk-tag--green">"Brief ready"</strong> }.into_any(),
                        BriefBadge::Draft => view! { <strong class="nhsuk-tag nhsuk-tag--yellow">"Brief in draft"</strong> }.into_any(),
                        BriefBadge::Missing => view! { <strong class="nhsuk-tag nhsuk-tag--red">"No brief yet"</strong> }.into_any(),
                    })}
                </p>
                {(!row.details.is_empty()).then(|| view! {
                    <dl class="mdt-agenda__details">
                        {row.details.iter().map(|(term, text)| view! { <dt>{*term}</dt><dd>{text.clone()}</dd> }).collect_view()}
                    </dl>
                })}
                {(!row.apologies.is_empty()).then(|| view! {
                    <p class="mdt-warning" data-testid="apologies-warning">
                        <strong>"Warning: "</strong>
                        {format!("{} must be there but sent apologies. Find someone else who knows the patient, or move the item.", row.apologies.join(", "))}
                    </p>
                })}
                {(!row.not_members.is_empty()).then(|| view! {
                    <p class="mdt-warning" data-testid="presence-warning">
                        <strong>"Warning: "</strong>
                        {format!("{} must be there but {} not in the team.", row.not_members.join(", "), if row.not_members.len() == 1 { "is" } else { "are" })}
                    </p>
                })}
                {row.outcome.clone().map(|(label, text)| view! {
                    <p class="mdt-agenda__outcome" data-testid="outcome"><strong>{format!("Outcome — {label}: ")}</strong>{text}</p>
                })}
                {(!row.item_actions.is_empty()).then(|| view! {
                    <ul class="nhsuk-list nhsuk-list--bullet mdt-compact-list" data-testid="item-actions">
                        {row.item_actions.iter().map(|a| view! { <li>{a.clone()}</li> }).collect_view()}
                    </ul>
                })}
                {(row.kind == ItemKind::ActionsReview).then(|| if row.review.is_empty() {
                    view! { <p class="nhsuk-body">"No open actions."</p> }.into_any()
                } else {
                    view! {
                        <div class="mdt-review" data-testid="actions-review">
                            {row.review.iter().map(|(owner, lines)| view! {
                                <h4 class="nhsuk-heading-xs">{owner.clone()}</h4>
                                <ul class="nhsuk-list nhsuk-list--bullet mdt-compact-list">
                                    {lines.iter().map(|l| view! { <li>{l.clone()}</li> }).collect_view()}
                                </ul>
                            }).collect_view()}
                        </div>
                    }.into_any()
                })}
                {move || (recording.get() == Some(id)).then(|| view! {
                    <OutcomeForm data=data item_id=id on_done=Callback::new(move |_| recording.set(None))/>
                })}
                {(row.restricted && !row.withheld && is_coordinator).then(|| view! {
                    <RestrictionControls data=data item_id=id/>
                })}
                <div class="mdt-agenda__actions">
                    {row.brief.map(|b| {
                        let label = if b == BriefBadge::Missing && may_edit { "Write the brief" } else { "Open the brief" };
                        view! {
                            <a class="mdt-link-button" href=Page::Brief(id).href()
                                aria-label=format!("{label} for {heading}")>
                                {label}
                            </a>
                        }
                    })}
                    {may_edit.then(|| view! {
                        <button type="button" class="mdt-link-button" id=format!("move-up-{id}") disabled=index == 0
                            aria-label=up_label
                            on:click=move |_| move_to.run((id, index.saturating_sub(1), "move-up"))>
                            "Move up"
                        </button>
                        <button type="button" class="mdt-link-button" id=format!("move-down-{id}") disabled=index + 1 == count
                            aria-label=down_label
                            on:click=move |_| move_to.run((id, index + 1, "move-down"))>
                            "Move down"
                        </button>
                    })}
                    {(may_edit && !row.withheld).then(|| {
                        let discussed = row.discussed;
                        let can_restrict = row.is_patient && !row.restricted;
                        let outcome_label = if discussed { "Change the outcome" } else { "Record the outcome" };
                        view! {
                            <button type="button" class="mdt-link-button" on:click=move |_| recording.set(Some(id))
                                aria-label=format!("{outcome_label} for {}", row.heading)>
                                {outcome_label}
                            </button>
                            {can_restrict.then(|| view! {
                                <button type="button" class="mdt-link-button" on:click=move |_| restrict.run(id)>"Restrict"</button>
                            })}
                            <button type="button" class="mdt-link-button" on:click=move |_| remove.run((id, heading_for_remove.clone()))>"Remove"</button>
                        }
                    })}
                </div>
            </div>
        </li>
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
                        <For each=move || summary.with(|s| s.lines.clone()) key=|line| line.clone() children=|line| view! {
                            <tr data-testid="readiness-row">
                                <td>{line.heading}</td>
                                <td>{line.state}</td>
                                <td>{line.author}</td>
                                <td><ul class="nhsuk-list mdt-compact-list">{line.read.into_iter().map(|r| view! { <li>{r}</li> }).collect_view()}</ul></td>
                            </tr>
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
