//! `/meetings/<id>/summaries`: after a meeting, one page per concluded patient item for the
//! patient's GP record and the social care record — who was present, the question, the outcome,
//! each action with its owner and due date — printable one patient a page, downloadable as FHIR
//! for clinical systems, and marked sent by the coordinator. Built from what the reader may see
//! (`core::summary`): a restricted item they are outside of is never offered.

use chrono::Utc;
use leptos::prelude::*;
use uuid::Uuid;

use crate::core::agenda::AgendaItem;
use crate::core::api::CurrentUser;
use crate::core::summary::OutcomeSummary;
use crate::core::uk_time;
use crate::web::client::api;
use crate::web::client::sync::SyncClient;
use crate::web::routes::Page;
use crate::web::views::agenda::AgendaView;

/// The outcome summaries of one meeting (at `/meetings/<id>/summaries`, served with the brief
/// pack by [`crate::web::pages::pack::PrintoutsPage`]).
#[component]
pub fn Summaries(meeting_id: Uuid) -> impl IntoView {
    let sync = expect_context::<SyncClient>();
    let me = expect_context::<CurrentUser>();
    let data = Memo::new(move |_| sync.read(|r| AgendaView::load(r, meeting_id)));
    let print = move |_| {
        if let Some(w) = web_sys::window() {
            let _ = w.print();
        }
    };
    let error = RwSignal::new(None::<String>);
    // Marks one item's summary sent today (or clears a mistaken mark): only that field is sent.
    let mark = move |item_id: Uuid, sent: bool| {
        let Some((version, Some(before))) = sync.edit_base::<AgendaItem>(item_id) else {
            return;
        };
        let after = AgendaItem {
            summary_sent_on: sent.then(|| uk_time::uk_today(Utc::now())),
            ..before.clone()
        };
        match sync.save_edit(item_id, version, Some(&before), &after) {
            Ok(()) => error.set(None),
            Err(e) => error.set(Some(e.message)),
        }
    };
    view! {
        <div class="mdt-pack__controls">
            <a class="nhsuk-back-link" href=Page::Meeting(meeting_id).href()>"Back to the meeting"</a>
        </div>
        {move || data.get().map(|v| {
            let summaries = v.summaries(me.person_id);
            let coordinating = v.team.coordinator_id == me.person_id;
            let unsent = summaries.iter().filter(|(_, sent)| sent.is_none()).count();
            let title = format!("{} — {}", v.team.name, uk_time::format_uk(v.meeting.starts_at));
            view! {
                <h1 class="nhsuk-heading-l">"Outcome summaries: "{title.clone()}</h1>
                <div class="mdt-pack__controls">
                    <p class="nhsuk-body">"One page per patient for their GP record and the social care record. Print them or save them as PDF, send them the usual secure way (for example NHSmail), then mark each one sent."</p>
                    <p class="nhsuk-body" data-testid="summaries-to-send" role="status">{match (summaries.len(), unsent) {
                        (0, _) => "No patient item of this meeting that you may see was concluded with a decision or \"no action needed\".".to_string(),
                        (_, 0) => "Every summary has been sent.".to_string(),
                        (all, 1) => format!("1 of {all} still to send."),
                        (all, n) => format!("{n} of {all} still to send."),
                    }}</p>
                    {move || error.get().map(|e| view! { <p class="nhsuk-error-message" role="alert">{e}</p> })}
                    <div class="nhsuk-button-group">
                        <button type="button" class="nhsuk-button" on:click=print disabled=summaries.is_empty()>"Print or save as PDF"</button>
                    </div>
                    <p class="nhsuk-body">
                        <a href=api::meeting_fhir_url(meeting_id) download="" data-testid="summaries-fhir">"Download the meeting for clinical systems (FHIR R4 JSON)"</a>
                    </p>
                </div>
                {summaries.into_iter().map(|(summary, sent)| {
                    let item_id = summary.item_id;
                    view! {
                        <SummarySheet summary=summary sent=sent title=title.clone()/>
                        {coordinating.then(|| view! {
                            <div class="mdt-pack__controls">
                                {if sent.is_some() {
                                    view! { <button type="button" class="nhsuk-button nhsuk-button--secondary" on:click=move |_| mark(item_id, false)>"Clear the sent mark"</button> }.into_any()
                                } else {
                                    view! { <button type="button" class="nhsuk-button nhsuk-button--secondary" data-testid="mark-sent" on:click=move |_| mark(item_id, true)>"Mark as sent today"</button> }.into_any()
                                }}
                            </div>
                        })}
                    }
                }).collect_view()}
            }
        })}
    }
}

/// One patient's summary, a printed page of its own.
#[component]
fn SummarySheet(
    summary: OutcomeSummary,
    sent: Option<chrono::NaiveDate>,
    title: String,
) -> impl IntoView {
    let present = match &summary.present {
        None => view! { <p class="nhsuk-body">"Attendance was not recorded."</p> }.into_any(),
        Some(people) if people.is_empty() => {
            view! { <p class="nhsuk-body">"Nobody was recorded as present."</p> }.into_any()
        }
        Some(people) => view! {
            <ul class="nhsuk-list nhsuk-list--bullet">
                {people.iter().map(|p| {
                    let role = p.role.map(|r| format!(", {}", r.label())).unwrap_or_default();
                    let deputy = p.deputy_for.as_ref().map(|w| format!(" (for {w})")).unwrap_or_default();
                    view! { <li>{format!("{}{role}{deputy}", p.name)}</li> }
                }).collect_view()}
            </ul>
        }
        .into_any(),
    };
    let actions = if summary.actions.is_empty() {
        view! { <p class="nhsuk-body">"No actions."</p> }.into_any()
    } else {
        view! {
            <table class="nhsuk-table">
                <caption class="nhsuk-table__caption nhsuk-table__caption--s">"Actions"</caption>
                <thead><tr><th scope="col">"Action"</th><th scope="col">"Owner"</th><th scope="col">"Due"</th><th scope="col">"Status"</th></tr></thead>
                <tbody>
                    {summary.actions.iter().map(|a| view! {
                        <tr>
                            <td>{a.description.clone()}</td>
                            <td>{a.owner.clone()}</td>
                            <td>{uk_time::format_date(a.due)}</td>
                            <td>{a.status.label()}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        }
        .into_any()
    };
    view! {
        <section class="mdt-pack__patient" data-testid="outcome-summary">
            <p class="mdt-pack__running nhsuk-body-s">{format!("{} · {title}", summary.patient)}</p>
            <h2>{summary.patient.clone()}</h2>
            <p class="nhsuk-body">{format!("Discussed at {} on {}.", summary.team, uk_time::format_uk(summary.meeting_starts_at))}</p>
            {summary.objects_to_sharing.then(|| view! {
                <p class="mdt-pack__restricted"><strong>"The patient has objected to sharing: "</strong>"send this only where their direct care needs it."</p>
            })}
            <h3>"Present"</h3>
            {present}
            <h3>"Reason for discussion"</h3>
            <p class="nhsuk-body mdt-pre">{summary.reason.clone()}</p>
            <h3>"Question for the MDT"</h3>
            <p class="nhsuk-body mdt-pre">{summary.question.clone()}</p>
            <h3>{summary.outcome.label()}</h3>
            <p class="nhsuk-body mdt-pre">{summary.outcome.text().to_owned()}</p>
            {actions}
            <p class="nhsuk-body-s" data-testid="summary-sent">{match sent {
                Some(day) => format!("Sent on {}.", uk_time::format_date(day)),
                None => "Not sent yet.".into(),
            }}</p>
        </section>
    }
}
