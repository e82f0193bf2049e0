//! A meeting's agenda: items in running order with their time slots, reordering by keyboard and
//! mouse, adding items, the readiness panel, and closing the meeting.

use chrono::Utc;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use uuid::Uuid;

use crate::core::agenda::{AgendaItem, ItemKind, ItemStatus};
use crate::core::api::CurrentUser;
use crate::core::brief::{BriefState, BriefStatus};
use crate::core::entities::{Meeting, MeetingStatus};
use crate::core::uk_time;
use crate::web::add_item::AddItemForm;
use crate::web::agenda_view::AgendaView;
use crate::web::components::ConflictNotice;
use crate::web::pages::not_found::NotFound;
use crate::web::sync::SyncClient;

/// `/meetings/<id>`.
#[component]
pub fn MeetingPage() -> impl IntoView {
    let params = use_params_map();
    move || match params
        .with(|p| p.get("id"))
        .and_then(|s| Uuid::parse_str(&s).ok())
    {
        Some(id) => view! { <MeetingAgenda meeting_id=id/> }.into_any(),
        None => view! { <NotFound/> }.into_any(),
    }
}

/// The agenda of one meeting, kept up to date from the device's copy.
#[component]
pub fn MeetingAgenda(meeting_id: Uuid) -> impl IntoView {
    let sync = expect_context::<SyncClient>();
    let data = Memo::new(move |_| sync.replica.with(|r| AgendaView::load(r, meeting_id)));
    move || {
        match data.get() {
        None => view! {
            <p class="nhsuk-body" role="status">"Loading the meeting… If this does not change, the meeting may have been removed or you may not be in its team."</p>
            <p class="nhsuk-body"><a href="/">"Back to your teams"</a></p>
        }
        .into_any(),
        Some(v) => view! { <AgendaBody data=data view=v/> }.into_any(),
    }
    }
}

#[component]
fn AgendaBody(data: Memo<Option<AgendaView>>, view: AgendaView) -> impl IntoView {
    let sync = expect_context::<SyncClient>();
    let me = expect_context::<CurrentUser>();
    let is_coordinator = view.team.coordinator_id == me.person_id;
    let meeting = view.meeting.clone();
    let team_id = view.meeting.team_id;
    let meeting_id = view.meeting_id;
    let title = format!(
        "{} — {}",
        view.team.name,
        uk_time::format_uk(meeting.starts_at)
    );
    let status_text = match meeting.status {
        MeetingStatus::Planned => None,
        MeetingStatus::Cancelled => Some("This meeting is cancelled."),
        MeetingStatus::Closed => {
            Some("This meeting is closed. Items not discussed have moved to the next meeting.")
        }
    };
    let close = move |_| {
        let question = "Close the meeting? Items not marked as discussed will move to the team's next meeting.";
        let ok = web_sys::window()
            .and_then(|w| w.confirm_with_message(question).ok())
            .unwrap_or(false);
        if ok {
            if let Some(v) = data.get_untracked() {
                let _ = sync.save(
                    meeting_id,
                    &Meeting {
                        status: MeetingStatus::Closed,
                        ..v.meeting
                    },
                );
            }
        }
    };
    let open = meeting.status == MeetingStatus::Planned;
    view! {
        <a class="nhsuk-back-link" href=format!("/teams/{team_id}")>"Back to the team"</a>
        <h1 class="nhsuk-heading-l">{title}</h1>
        <p class="nhsuk-body">
            {format!("{}–{} UK time", uk_time::format_uk_time(meeting.starts_at), uk_time::format_uk_time(meeting.ends_at))}
            {(!meeting.place.is_empty()).then(|| format!(" · {}", meeting.place))}
        </p>
        {status_text.map(|t| view! { <div class="nhsuk-inset-text"><p>{t}</p></div> })}
        <ConflictNotice id=meeting_id/>
        <div class="nhsuk-button-group">
            <a class="nhsuk-button nhsuk-button--secondary" href=format!("/meetings/{meeting_id}/pack") role="button">"Brief pack to print"</a>
            {(is_coordinator && open).then(|| view! {
                <button type="button" class="nhsuk-button nhsuk-button--secondary" on:click=close>"Close meeting"</button>
            })}
        </div>
        <AgendaList data=data is_coordinator=is_coordinator/>
        {open.then(|| view! { <AddItemForm data=data/> })}
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

/// The items in running order, with slot times, flags and reorder controls.
#[component]
fn AgendaList(data: Memo<Option<AgendaView>>, is_coordinator: bool) -> impl IntoView {
    let sync = expect_context::<SyncClient>();
    let dragged = RwSignal::new(None::<Uuid>);
    let announce = RwSignal::new(String::new());
    let move_to = move |id: Uuid, to: usize| {
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
        }
    };
    let set_status = move |id: Uuid, status: ItemStatus| {
        if let Some(item) = data.get_untracked().and_then(|v| {
            v.agenda
                .items()
                .iter()
                .find(|(i, _)| *i == id)
                .map(|(_, i)| i.clone())
        }) {
            let _ = sync.save(id, &AgendaItem { status, ..item });
        }
    };
    let remove = move |id: Uuid, heading: String| {
        let question = format!("Remove “{heading}” from the agenda?");
        if web_sys::window()
            .and_then(|w| w.confirm_with_message(&question).ok())
            .unwrap_or(false)
        {
            sync.delete(id);
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
        {move || {
            let Some(v) = data.get() else { return ().into_any() };
            let count = v.agenda.items().len();
            if count == 0 {
                return view! { <p class="nhsuk-body" data-testid="empty-agenda">"No items yet. Add the first one below."</p> }.into_any();
            }
            let member_set: std::collections::HashSet<Uuid> = v.members().into_iter().collect();
            view! {
                <ol class="mdt-agenda" data-testid="agenda-list">
                    {v.agenda.items().iter().zip(v.slots.iter()).enumerate().map(|(index, ((id, item), slot))| {
                        let id = *id;
                        let heading = v.item_heading(item);
                        let heading_for_move = heading.clone();
                        let brief = v.brief_of(id).cloned();
                        let carried = v.carried_on.contains(&id);
                        let not_members: Vec<String> = item.required_people.iter().filter(|p| !member_set.contains(p)).map(|p| v.name(Some(*p))).collect();
                        let time = if item.kind == ItemKind::ForInformation {
                            format!("{} · for information", uk_time::format_uk_time(slot.starts_at))
                        } else {
                            format!("{}–{}", uk_time::format_uk_time(slot.starts_at), uk_time::format_uk_time(slot.ends_at))
                        };
                        let discussed = item.status == ItemStatus::Discussed;
                        let brief_state = match &brief {
                            None => BriefState::Missing,
                            Some((_, _, b)) if b.is_blank() => BriefState::Missing,
                            Some((_, version, b)) if b.status == BriefStatus::Ready => BriefState::Ready { version: *version },
                            Some(_) => BriefState::Draft,
                        };
                        let is_patient = item.kind == ItemKind::PatientDiscussion;
                        view! {
                            <li class="mdt-agenda__item" class:mdt-agenda__item--discussed=discussed
                                draggable="true" data-testid="agenda-item"
                                on:dragstart=move |ev: leptos::ev::DragEvent| {
                                    dragged.set(Some(id));
                                    if let Some(dt) = ev.data_transfer() { let _ = dt.set_data("text/plain", &id.to_string()); }
                                }
                                on:dragover=move |ev: leptos::ev::DragEvent| ev.prevent_default()
                                on:drop=move |ev: leptos::ev::DragEvent| {
                                    ev.prevent_default();
                                    if let Some(from) = dragged.get_untracked() { move_to(from, index); }
                                    dragged.set(None);
                                }>
                                <div class="mdt-agenda__time">{time}</div>
                                <div class="mdt-agenda__body">
                                    <h3 class="mdt-agenda__heading">
                                        {is_patient.then(|| view! { <span class="nhsuk-u-visually-hidden">"Patient: "</span> })}
                                        {heading.clone()}
                                    </h3>
                                    <p class="mdt-agenda__tags">
                                        {(!is_patient).then(|| view! { <strong class="nhsuk-tag nhsuk-tag--grey">{item.kind.label()}</strong> })}
                                        {item.late.then(|| view! { <strong class="nhsuk-tag nhsuk-tag--orange">"Late"</strong> })}
                                        {(item.deferrals > 0).then(|| view! { <strong class="nhsuk-tag nhsuk-tag--yellow" data-testid="deferred">{format!("Deferred {}×", item.deferrals)}</strong> })}
                                        {(is_coordinator && item.needs_coordinator_attention()).then(|| view! { <strong class="nhsuk-tag nhsuk-tag--red">"Needs your attention"</strong> })}
                                        {discussed.then(|| view! { <strong class="nhsuk-tag nhsuk-tag--green">"Discussed"</strong> })}
                                        {carried.then(|| view! { <strong class="nhsuk-tag nhsuk-tag--grey">"Moved to the next meeting"</strong> })}
                                        {is_patient.then(|| match brief_state {
                                            BriefState::Ready { .. } => view! { <strong class="nhsuk-tag nhsuk-tag--green">"Brief ready"</strong> }.into_any(),
                                            BriefState::Draft => view! { <strong class="nhsuk-tag nhsuk-tag--yellow">"Brief in draft"</strong> }.into_any(),
                                            BriefState::Missing => view! { <strong class="nhsuk-tag nhsuk-tag--red">"No brief yet"</strong> }.into_any(),
                                        })}
                                    </p>
                                    {is_patient.then(|| view! {
                                        <dl class="mdt-agenda__details">
                                            <dt>"Reason"</dt><dd>{item.reason.clone()}</dd>
                                            <dt>"Question for the MDT"</dt><dd>{item.question.clone()}</dd>
                                            <dt>"Asked for by"</dt>
                                            <dd>{format!("{} · waiting since {}", v.name(item.requested_by), uk_time::format_date(item.requested_on))}</dd>
                                            {item.lead_professional_id.map(|lead| view! { <dt>"Lead professional"</dt><dd>{v.name(Some(lead))}</dd> })}
                                            {(!item.required_people.is_empty()).then(|| view! {
                                                <dt>"Must be there"</dt>
                                                <dd>{item.required_people.iter().map(|p| v.name(Some(*p))).collect::<Vec<_>>().join(", ")}</dd>
                                            })}
                                        </dl>
                                    })}
                                    {(!not_members.is_empty()).then(|| view! {
                                        <p class="mdt-warning" data-testid="presence-warning">
                                            <strong>"Warning: "</strong>
                                            {format!("{} must be there but {} not in the team.", not_members.join(", "), if not_members.len() == 1 { "is" } else { "are" })}
                                        </p>
                                    })}
                                    <div class="mdt-agenda__actions">
                                        {is_patient.then(|| view! {
                                            <a class="mdt-link-button" href=format!("/items/{id}/brief")>
                                                {match brief_state { BriefState::Missing => "Write the brief", _ => "Open the brief" }}
                                                <span class="nhsuk-u-visually-hidden">{format!(" for {heading}")}</span>
                                            </a>
                                        })}
                                        <button type="button" class="mdt-link-button" disabled=index == 0
                                            aria-label=format!("Move up: {heading_for_move}")
                                            on:click=move |_| move_to(id, index.saturating_sub(1))>
                                            "Move up"
                                        </button>
                                        <button type="button" class="mdt-link-button" disabled=index + 1 == count
                                            aria-label=format!("Move down: {heading_for_move}")
                                            on:click=move |_| move_to(id, index + 1)>
                                            "Move down"
                                        </button>
                                        {if discussed {
                                            view! { <button type="button" class="mdt-link-button" on:click=move |_| set_status(id, ItemStatus::Open)>"Not discussed after all"</button> }.into_any()
                                        } else {
                                            view! { <button type="button" class="mdt-link-button" on:click=move |_| set_status(id, ItemStatus::Discussed)>"Mark discussed"</button> }.into_any()
                                        }}
                                        {
                                            let heading = heading.clone();
                                            view! { <button type="button" class="mdt-link-button" on:click=move |_| remove(id, heading.clone())>"Remove"</button> }
                                        }
                                    </div>
                                </div>
                            </li>
                        }
                    }).collect_view()}
                </ol>
            }.into_any()
        }}
    }
}

/// Briefs ready and missing with their authors, who has read which, and who still has to act
/// before the brief cut-off.
#[component]
fn ReadinessPanel(data: Memo<Option<AgendaView>>) -> impl IntoView {
    move || {
        let v = data.get()?;
        let readiness = v.readiness();
        if readiness.rows.is_empty() {
            return None;
        }
        let due = v.team.briefs_due_at(v.meeting.starts_at);
        let before_cutoff = Utc::now() < due;
        let total = readiness.rows.len();
        let ready = readiness.ready();
        let authors = readiness.authors_to_act();
        let readers = readiness.readers_to_act();
        let members = v.members();
        Some(view! {
            <section class="mdt-readiness" aria-labelledby="readiness-title" data-testid="readiness">
                <h2 id="readiness-title">"Readiness"</h2>
                <p class="nhsuk-body-l" data-testid="readiness-count">{format!("{ready} of {total} briefs ready")}</p>
                <p class="nhsuk-body">{format!("Briefs are due by {} (UK time).", uk_time::format_uk(due))}</p>
                <table class="nhsuk-table">
                    <caption class="nhsuk-table__caption nhsuk-u-visually-hidden">"Briefs and who has read them"</caption>
                    <thead><tr><th scope="col">"Patient"</th><th scope="col">"Brief"</th><th scope="col">"Written by"</th><th scope="col">"Read by"</th></tr></thead>
                    <tbody>
                        {readiness.rows.iter().map(|row| {
                            let heading = v.agenda.items().iter().find(|(i, _)| *i == row.item_id).map(|(_, i)| v.item_heading(i)).unwrap_or_default();
                            let state = match row.brief { BriefState::Ready { .. } => "Ready", BriefState::Draft => "Draft", BriefState::Missing => "Missing" };
                            let read: Vec<String> = if row.brief == BriefState::Missing { vec!["Nothing to read yet".to_string()] } else { members.iter().map(|m| {
                                let name = v.name(Some(*m));
                                match (row.readers.get(m).copied().flatten(), &row.brief) {
                                    (Some(seen), BriefState::Ready { version }) if seen < *version => format!("{name} (an earlier version)"),
                                    (Some(_), _) => format!("{name} ✓"),
                                    (None, _) => format!("{name} — not yet"),
                                }
                            }).collect() };
                            view! {
                                <tr data-testid="readiness-row">
                                    <td>{heading}</td>
                                    <td>{state}</td>
                                    <td>{v.name(row.author)}</td>
                                    <td><ul class="nhsuk-list mdt-compact-list">{read.into_iter().map(|r| view! { <li>{r}</li> }).collect_view()}</ul></td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
                {if before_cutoff {
                    view! {
                        <h3>"Still to act before the brief cut-off"</h3>
                        <ul class="nhsuk-list nhsuk-list--bullet" data-testid="to-act">
                            {authors.iter().map(|(author, n)| view! {
                                <li>{format!("{}: finish {} brief{}", v.name(*author), n, if *n == 1 { "" } else { "s" })}</li>
                            }).collect_view()}
                            {readers.iter().map(|(reader, n)| view! {
                                <li>{format!("{}: read {} brief{}", v.name(Some(*reader)), n, if *n == 1 { "" } else { "s" })}</li>
                            }).collect_view()}
                        </ul>
                    }.into_any()
                } else {
                    view! {
                        <p class="nhsuk-body"><strong>"The brief cut-off has passed."</strong>
                            {(ready < total).then(|| format!(" {} brief{} not ready.", total - ready, if total - ready == 1 { " is" } else { "s are" }))}
                        </p>
                    }.into_any()
                }}
            </section>
        })
    }
}
