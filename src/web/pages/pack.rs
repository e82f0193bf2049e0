//! The brief pack: the whole agenda and every brief, laid out for the browser's
//! Print → Save as PDF (one patient per page, the patient's identifiers on every page).

use leptos::prelude::*;
use uuid::Uuid;

use crate::core::access::RESTRICTED_EXPLANATION;
use crate::core::agenda::ItemKind;
use crate::core::brief::{Brief, BriefStatus};
use crate::core::uk_time;
use crate::web::client::sync::SyncClient;
use crate::web::components::{Checkbox, MeetingOpens};
use crate::web::pages::not_found::NotFound;
use crate::web::pages::summaries::Summaries;
use crate::web::routes::Page;
use crate::web::views::agenda::AgendaView;

/// `/meetings/<id>/pack` and `/meetings/<id>/summaries`: a meeting's printouts, before it (the
/// brief pack) and after it (the outcome summaries). One lazily loaded module for both: a third
/// module reading a meeting's agenda made wasm-split keep every lazy page's text in the first
/// download (+75 KB, BENCHMARKS.md, issue 16).
#[component]
pub fn PrintoutsPage() -> impl IntoView {
    let location = leptos_router::hooks::use_location();
    move || match location.pathname.with(|p| Page::from_path(p)) {
        Some(Page::BriefPack(id)) => {
            view! { <MeetingOpens meeting_id=id><BriefPack meeting_id=id/></MeetingOpens> }
                .into_any()
        }
        Some(Page::OutcomeSummaries(id)) => {
            view! { <MeetingOpens meeting_id=id><Summaries meeting_id=id/></MeetingOpens> }
                .into_any()
        }
        _ => view! { <NotFound/> }.into_any(),
    }
}

/// The printable pack for one meeting.
#[component]
pub fn BriefPack(meeting_id: Uuid) -> impl IntoView {
    let sync = expect_context::<SyncClient>();
    let data = Memo::new(move |_| sync.read(|r| AgendaView::load(r, meeting_id)));
    // Restricted (safeguarding) items are left out unless someone allowed to see them chooses
    // to print them: a pack is easily left on a printer or forwarded.
    let include_restricted = RwSignal::new(false);
    let has_restricted = move || {
        data.with(|d| {
            d.as_ref().is_some_and(|v| {
                v.agenda
                    .items()
                    .iter()
                    .any(|(_, i)| i.restricted && !i.content_withheld)
            })
        })
    };
    let print = move |_| {
        if let Some(w) = web_sys::window() {
            let _ = w.print();
        }
    };
    view! {
        <div class="mdt-pack__controls">
            <a class="nhsuk-back-link" href=Page::Meeting(meeting_id).href()>"Back to the agenda"</a>
            <Show when=has_restricted>
                <Checkbox id="pack-include-restricted" label="Include restricted (safeguarding) items"
                    hint="Left out unless you need them on paper. Each restricted sheet is marked on every printed page."
                    checked=include_restricted/>
            </Show>
            <button type="button" class="nhsuk-button" on:click=print>"Print or save as PDF"</button>
        </div>
        {move || data.get().map(|v| {
            let include_restricted = include_restricted.get();
            // Left out of this pack: shown on the cover without who it is about.
            let left_out = move |item: &crate::core::agenda::AgendaItem| item.restricted && !include_restricted;
            let title = format!("{} — {}", v.team.name, uk_time::format_uk(v.meeting.starts_at));
            let sheet_title = title.clone();
            view! {
                <article class="mdt-pack" data-testid="brief-pack">
                    <section class="mdt-pack__cover">
                        <h1 class="nhsuk-heading-l">"Brief pack: "{title}</h1>
                        <p class="nhsuk-body">
                            {format!("{}–{} UK time", uk_time::format_uk_time(v.meeting.starts_at), uk_time::format_uk_time(v.meeting.ends_at))}
                            {(!v.meeting.place.is_empty()).then(|| format!(" · {}", v.meeting.place))}
                        </p>
                        <p class="nhsuk-body mdt-pack__confidential"><strong>"Confidential: contains patient information. "</strong>
                            "Keep it secure and destroy it after the meeting."</p>
                        <table class="nhsuk-table">
                            <caption class="nhsuk-table__caption">"Agenda"</caption>
                            <thead><tr><th scope="col">"Time"</th><th scope="col">"Item"</th><th scope="col">"Lead"</th><th scope="col">"Brief"</th></tr></thead>
                            <tbody>
                                {v.agenda.items().iter().zip(v.slots.iter()).map(|((id, item), slot)| {
                                    let brief = match (item.kind, v.brief_of(*id)) {
                                        _ if item.content_withheld => "Restricted",
                                        _ if left_out(item) => "Restricted: left out of this pack",
                                        (ItemKind::PatientDiscussion, Some((_, _, b))) if b.status == BriefStatus::Ready => "Ready",
                                        (ItemKind::PatientDiscussion, Some((_, _, b))) if !b.is_blank() => "Draft",
                                        (ItemKind::PatientDiscussion, _) => "Missing",
                                        _ => "—",
                                    };
                                    view! {
                                        <tr>
                                            <td>{format!("{}–{}", uk_time::format_uk_time(slot.starts_at), uk_time::format_uk_time(slot.ends_at))}</td>
                                            <td>{if left_out(item) { "Restricted item (safeguarding)".to_string() } else { v.item_heading(item) }}</td>
                                            <td>{item.lead_professional_id.map(|l| v.name(Some(l))).unwrap_or_default()}</td>
                                            <td>{brief}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    </section>
                    {v.agenda.items().iter().zip(v.slots.iter()).filter(|((_, i), _)| i.kind == ItemKind::PatientDiscussion && !i.content_withheld && !left_out(i)).enumerate().map(|(n, ((id, item), slot))| {
                        let identity = v.item_heading(item);
                        let brief = v.brief_of(*id).map(|(_, _, b)| b.clone());
                        // The running header repeats on every printed page of the sheet.
                        let running = if item.restricted {
                            format!("RESTRICTED (safeguarding) · {identity} · {sheet_title}")
                        } else {
                            format!("{identity} · {sheet_title}")
                        };
                        view! {
                            <section class="mdt-pack__patient" class:mdt-pack__patient--restricted=item.restricted data-testid="pack-patient">
                                <table class="mdt-pack__sheet">
                                    <thead><tr><th class="mdt-pack__running">{running}</th></tr></thead>
                                    <tbody><tr><td>
                                        {item.restricted.then(|| view! {
                                            <div class="mdt-pack__restricted" data-testid="pack-restricted">
                                                <p class="nhsuk-body"><strong>"Restricted (safeguarding). "</strong>{RESTRICTED_EXPLANATION}" Do not share this page."</p>
                                            </div>
                                        })}
                                        <h2 class="nhsuk-heading-m">{format!("{}. {}", n + 1, identity)}</h2>
                                        <dl class="mdt-agenda__details">
                                            <dt>"Time"</dt><dd>{format!("{}–{}", uk_time::format_uk_time(slot.starts_at), uk_time::format_uk_time(slot.ends_at))}</dd>
                                            <dt>"Reason"</dt><dd>{item.reason.clone()}</dd>
                                            <dt>"Question for the MDT"</dt><dd>{item.question.clone()}</dd>
                                            <dt>"Asked for by"</dt><dd>{format!("{}, waiting since {}", v.name(item.requested_by), uk_time::format_date(item.requested_on))}</dd>
                                            {(item.deferrals > 0).then(|| view! { <dt>"Deferred"</dt><dd>{format!("{} time(s)", item.deferrals)}</dd> })}
                                        </dl>
                                        {brief_sections(brief, &v)}
                                    </td></tr></tbody>
                                </table>
                            </section>
                        }
                    }).collect_view()}
                </article>
            }
        })}
    }
}

fn brief_sections(brief: Option<Brief>, v: &AgendaView) -> AnyView {
    let Some(b) = brief.filter(|b| !b.is_blank()) else {
        return view! { <p class="nhsuk-body"><strong>"No brief has been written for this patient."</strong></p> }.into_any();
    };
    let status = if b.status == BriefStatus::Ready {
        "Ready"
    } else {
        "Draft — not yet marked ready"
    };
    let consent = match b.consent_to_share {
        Some(true) => "Yes",
        Some(false) => "No",
        None => "Not asked yet",
    };
    let author = v.name(Some(b.author_id));
    let sections = [
        ("Situation", b.situation.clone()),
        ("Background", b.background.clone()),
        ("Assessment", b.assessment.clone()),
        ("Request", b.request.clone()),
        ("Services currently involved", b.services_involved.clone()),
        ("Risks", b.risks.clone()),
        ("The patient's wishes", b.patient_wishes.clone()),
    ];
    view! {
        <p class="nhsuk-body">{format!("Brief by {author} · {status}")}</p>
        {b.safeguarding_concern.then(|| view! { <p class="nhsuk-body"><strong class="nhsuk-tag nhsuk-tag--red">"Safeguarding concern"</strong></p> })}
        {sections.into_iter().filter(|(_, text)| !text.trim().is_empty()).map(|(label, text)| view! {
            <h3 class="nhsuk-heading-s">{label}</h3>
            <p class="nhsuk-body mdt-pre">{text}</p>
        }).collect_view()}
        <p class="nhsuk-body"><strong>"Consent to share: "</strong>{consent}</p>
    }
    .into_any()
}
