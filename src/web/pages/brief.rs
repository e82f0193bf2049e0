//! Writing and reading one patient's pre-meeting brief (SBAR).
//!
//! Social workers write these between home visits: every keystroke is kept on the device at
//! once (so a reload or a closed tab loses nothing), saved into the sync outbox after a short
//! pause, and the page warns before leaving while typing is not yet saved.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use wasm_bindgen::JsCast;

use crate::core::access::RESTRICTED_EXPLANATION;
use crate::core::agenda::AgendaItem;
use crate::core::api::CurrentUser;
use crate::core::brief::{brief_id_for, Brief, BriefStatus};
use crate::core::{uk_time, ValidationError};
use crate::web::client::sync::SyncClient;
use crate::web::components::{ConflictNotice, RecordNotHere};
use crate::web::pages::not_found::NotFound;
use crate::web::routes::{use_id, Page};
use crate::web::views::agenda::AgendaView;

/// Quiet time after the last keystroke before the text goes into the outbox.
const SAVE_AFTER_MS: u32 = 800;

/// `/items/<id>/brief`.
#[component]
pub fn BriefPage() -> impl IntoView {
    let id = use_id();
    move || match id.get() {
        Some(id) => view! { <BriefLoader item_id=id/> }.into_any(),
        None => view! { <NotFound/> }.into_any(),
    }
}

/// Waits for the item (and its meeting) to be on the device.
#[component]
fn BriefLoader(item_id: Uuid) -> impl IntoView {
    let sync = expect_context::<SyncClient>();
    // Only the meeting matters here: the editor is not rebuilt when the item is reordered.
    let meeting = Memo::new(move |_| {
        sync.entity::<AgendaItem>(item_id)
            .map(|i| (i.meeting_id, i.content_withheld))
    });
    move || {
        match meeting.get() {
        None => view! {
            <RecordNotHere what="the brief"
                missing="You cannot open this brief: its item is not on one of your teams' agendas, or it has been removed."/>
        }.into_any(),
        Some((meeting_id, true)) => view! {
            <h1 class="nhsuk-heading-l">"Restricted item"</h1>
            <div class="nhsuk-inset-text" data-testid="brief-restricted">
                <p>"This item is restricted for safeguarding. "{RESTRICTED_EXPLANATION}</p>
                <p>"Ask the team's coordinator if you need to see it."</p>
            </div>
            <a class="nhsuk-button nhsuk-button--secondary" role="button" href=Page::Meeting(meeting_id).href()>"Back to the agenda"</a>
        }
        .into_any(),
        Some((meeting_id, false)) => {
            view! { <BriefEditor item_id=item_id meeting_id=meeting_id/> }.into_any()
        }
    }
    }
}

/// What is typed but not yet in the outbox, kept in the device's encrypted copy under the
/// brief's id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct LocalDraft {
    base_version: u64,
    before: Option<Brief>,
    typed: Brief,
}

fn draft_key(brief_id: Uuid) -> String {
    format!("brief:{brief_id}")
}

/// The form's fields as signals.
#[derive(Clone, Copy)]
struct BriefFields {
    situation: RwSignal<String>,
    background: RwSignal<String>,
    assessment: RwSignal<String>,
    request: RwSignal<String>,
    services_involved: RwSignal<String>,
    risks: RwSignal<String>,
    safeguarding_concern: RwSignal<bool>,
    patient_wishes: RwSignal<String>,
    consent_to_share: RwSignal<Option<bool>>,
}

impl BriefFields {
    fn new() -> Self {
        Self {
            situation: RwSignal::new(String::new()),
            background: RwSignal::new(String::new()),
            assessment: RwSignal::new(String::new()),
            request: RwSignal::new(String::new()),
            services_involved: RwSignal::new(String::new()),
            risks: RwSignal::new(String::new()),
            safeguarding_concern: RwSignal::new(false),
            patient_wishes: RwSignal::new(String::new()),
            consent_to_share: RwSignal::new(None),
        }
    }

    fn fill(&self, b: &Brief) {
        self.situation.set(b.situation.clone());
        self.background.set(b.background.clone());
        self.assessment.set(b.assessment.clone());
        self.request.set(b.request.clone());
        self.services_involved.set(b.services_involved.clone());
        self.risks.set(b.risks.clone());
        self.safeguarding_concern.set(b.safeguarding_concern);
        self.patient_wishes.set(b.patient_wishes.clone());
        self.consent_to_share.set(b.consent_to_share);
    }

    /// The brief as typed, on top of `base` (ids, author, status).
    fn read(&self, base: &Brief) -> Brief {
        Brief {
            situation: self.situation.get_untracked(),
            background: self.background.get_untracked(),
            assessment: self.assessment.get_untracked(),
            request: self.request.get_untracked(),
            services_involved: self.services_involved.get_untracked(),
            risks: self.risks.get_untracked(),
            safeguarding_concern: self.safeguarding_concern.get_untracked(),
            patient_wishes: self.patient_wishes.get_untracked(),
            consent_to_share: self.consent_to_share.get_untracked(),
            ..base.clone()
        }
    }

    fn text(&self, field: &str) -> Option<RwSignal<String>> {
        Some(match field {
            "situation" => self.situation,
            "background" => self.background,
            "assessment" => self.assessment,
            "request" => self.request,
            "services_involved" => self.services_involved,
            "risks" => self.risks,
            "patient_wishes" => self.patient_wishes,
            _ => return None,
        })
    }
}

/// The text sections, in SBAR order: (field, label, hint, rows).
const SECTIONS: [(&str, &str, &str, u32); 7] = [
    (
        "situation",
        "Situation (required)",
        "What is happening now, and why the MDT needs to know.",
        4,
    ),
    (
        "background",
        "Background",
        "Relevant history, diagnoses, recent admissions.",
        4,
    ),
    (
        "assessment",
        "Assessment",
        "Your view of what is going on.",
        4,
    ),
    (
        "request",
        "Request (required)",
        "What you are asking the MDT to decide or advise.",
        3,
    ),
    (
        "services_involved",
        "Services currently involved",
        "For example: district nursing twice a week, care agency 3 calls a day.",
        3,
    ),
    ("risks", "Risks", "Including any safeguarding concern.", 3),
    (
        "patient_wishes",
        "The patient's wishes",
        "What matters to them, in their words where possible.",
        3,
    ),
];

#[component]
fn BriefEditor(item_id: Uuid, meeting_id: Uuid) -> impl IntoView {
    let sync = expect_context::<SyncClient>();
    let me = expect_context::<CurrentUser>();
    let brief_id = brief_id_for(item_id);
    let data = Memo::new(move |_| sync.read(|r| AgendaView::load(r, meeting_id)));
    let record = Memo::new(move |_| sync.edit_base::<Brief>(brief_id));
    let unsent = Memo::new(move |_| sync.is_unsent(brief_id));

    // Observers read briefs; they do not write them.
    let read_only =
        move || data.with(|d| d.as_ref().is_some_and(|v| !v.team.includes(me.person_id)));
    // Opening a brief offline is reported to the audit trail when the connection is back.
    sync.note_view(brief_id);
    let fields = BriefFields::new();
    // What the form was filled from: the base of the next save.
    let shown = StoredValue::new((0u64, None::<Brief>));
    // Typing not yet in the outbox.
    let typing = RwSignal::new(false);
    let keystrokes = StoredValue::new(0u64);
    let note = RwSignal::new(None::<String>);
    let errors = RwSignal::new(Vec::<ValidationError>::new());
    let receipt_done = StoredValue::new(false);

    let base_brief = move || -> Option<Brief> {
        let current = shown.with_value(|(_, b)| b.clone());
        current.or_else(|| {
            data.with_untracked(|d| {
                d.as_ref().map(|v| Brief {
                    team_id: v.meeting.team_id,
                    item_id,
                    author_id: me.person_id,
                    ..Brief::default()
                })
            })
        })
    };

    // Restore typing that never reached the outbox (a reload or crash mid-sentence).
    if let Some(draft) = sync.draft::<LocalDraft>(&draft_key(brief_id)) {
        shown.set_value((draft.base_version, draft.before.clone()));
        fields.fill(&draft.typed);
        typing.set(true);
        note.set(Some(
            "We restored what you typed before the page was closed. It is saved on this device."
                .into(),
        ));
    }

    // Fill from the record, and follow changes made elsewhere while the person is not typing.
    Effect::new(move || {
        let Some((version, brief)) = record.get() else {
            return;
        };
        if typing.get_untracked() || shown.with_value(|(v, b)| *v == version && *b == brief) {
            return;
        }
        if let Some(b) = &brief {
            fields.fill(b);
        }
        shown.set_value((version, brief));
    });

    // Opening a brief records that this person read this version.
    Effect::new(move || {
        let Some((version, Some(brief))) = record.get() else {
            return;
        };
        if version > 0 && !receipt_done.get_value() {
            receipt_done.set_value(true);
            sync.record_reading(brief_id, brief.team_id, me.person_id);
        }
    });

    let commit = move |status: Option<BriefStatus>| -> Result<(), Vec<ValidationError>> {
        let Some(base) = base_brief() else {
            return Ok(());
        };
        let (base_version, before) = shown.get_value();
        let mut after = fields.read(&base);
        let was_ready = before
            .as_ref()
            .is_some_and(|b| b.status == BriefStatus::Ready);
        let content_changed = before.as_ref().map_or(!after.is_blank(), |b| {
            Brief {
                status: b.status,
                ..after.clone()
            } != *b
        });
        match status {
            Some(BriefStatus::Ready) => {
                after.status = BriefStatus::Ready;
                let missing = after.missing_for_ready();
                if !missing.is_empty() {
                    return Err(missing);
                }
            }
            Some(s) => after.status = s,
            None if was_ready && content_changed => {
                after.status = BriefStatus::Draft;
                note.set(Some("This brief was ready; your change has put it back to draft. Mark it ready again when you have finished.".into()));
            }
            None => {}
        }
        sync.save_edit(brief_id, base_version, before.as_ref(), &after)
            .map_err(|e| vec![e])?;
        shown.set_value((base_version, Some(after)));
        sync.drop_draft(&draft_key(brief_id));
        typing.set(false);
        Ok(())
    };

    let on_typed = move || {
        typing.set(true);
        errors.set(Vec::new());
        if let Some(base) = base_brief() {
            let (base_version, before) = shown.get_value();
            sync.keep_draft(
                &draft_key(brief_id),
                &LocalDraft {
                    base_version,
                    before,
                    typed: fields.read(&base),
                },
            );
        }
        let n = keystrokes.get_value() + 1;
        keystrokes.set_value(n);
        leptos::task::spawn_local(async move {
            gloo_timers::future::TimeoutFuture::new(SAVE_AFTER_MS).await;
            if keystrokes.try_get_value() == Some(n) && typing.try_get_untracked() == Some(true) {
                if let Err(e) = commit(None) {
                    errors.set(e);
                }
            }
        });
    };

    // Warn before leaving while typing is not yet saved.
    let guard = wasm_bindgen::closure::Closure::<dyn Fn(web_sys::BeforeUnloadEvent)>::new(
        move |ev: web_sys::BeforeUnloadEvent| {
            if typing.try_get_untracked() == Some(true) {
                ev.prevent_default();
                ev.set_return_value("Your latest typing is not saved yet.");
            }
        },
    );
    if let Some(window) = web_sys::window() {
        let _ =
            window.add_event_listener_with_callback("beforeunload", guard.as_ref().unchecked_ref());
    }
    let guard = send_wrapper::SendWrapper::new(guard);
    on_cleanup(move || {
        if let Some(window) = web_sys::window() {
            let _ = window.remove_event_listener_with_callback(
                "beforeunload",
                guard.as_ref().unchecked_ref(),
            );
        }
        if typing.try_get_untracked() == Some(true) {
            let _ = commit(None);
        }
    });

    let mark_ready = move |_| match commit(Some(BriefStatus::Ready)) {
        Ok(()) => {
            errors.set(Vec::new());
            note.set(Some(
                "The brief is ready. Everyone in the team can now read it.".into(),
            ));
        }
        Err(e) => errors.set(e),
    };
    let back_to_draft = move |_| {
        if commit(Some(BriefStatus::Draft)).is_ok() {
            note.set(Some("The brief is back to draft.".into()));
        }
    };

    let heading = move || {
        data.with(|d| {
            d.as_ref().and_then(|v| {
                v.agenda
                    .items()
                    .iter()
                    .find(|(i, _)| *i == item_id)
                    .map(|(_, item)| {
                        let objects = item
                            .patient_id
                            .and_then(|p| v.patients.get(&p))
                            .is_some_and(|p| p.objects_to_sharing);
                        (
                            (v.item_heading(item), objects),
                            item.question.clone(),
                            format!(
                                "{} — {}",
                                v.team.name,
                                uk_time::format_uk(v.meeting.starts_at)
                            ),
                        )
                    })
            })
        })
    };
    let status = move || record.get().and_then(|(_, b)| b).map(|b| b.status);
    // How much typing is on disk (encrypted) right now: what a crash or reload would keep.
    let kept_chars = move || {
        sync.draft_on_disk::<LocalDraft>(&draft_key(brief_id))
            .map(|d| {
                let b = d.typed;
                [
                    b.situation,
                    b.background,
                    b.assessment,
                    b.request,
                    b.services_involved,
                    b.risks,
                    b.patient_wishes,
                ]
                .iter()
                .map(|t| t.chars().count())
                .sum::<usize>()
            })
            .unwrap_or(0)
            .to_string()
    };
    let save_state = move || {
        if typing.get() && sync.saving_to_device() {
            "Typing…"
        } else if typing.get() {
            "Typing… kept on this device"
        } else if unsent.get() {
            // Said as it is: offline, being sent, or waiting for the server to take it.
            sync.status
                .with(|s| match (s.online, s.retry_at.is_some()) {
                    (false, _) => {
                        "Saved on this device; it will be sent when the connection is back"
                    }
                    (true, true) => {
                        "Saved on this device; the server could not take it yet, trying again"
                    }
                    (true, false) => "Saved on this device; being sent",
                })
        } else if record.get().is_some_and(|(v, _)| v > 0) {
            "Saved"
        } else {
            "Not started"
        }
    };
    let field_error = move |field: &'static str| {
        Signal::derive(move || {
            errors.with(|es| {
                es.iter()
                    .find(|e| e.field.as_deref() == Some(field))
                    .map(|e| e.message.clone())
            })
        })
    };

    view! {
        <a class="nhsuk-back-link" href=Page::Meeting(meeting_id).href()>"Back to the agenda"</a>
        {move || heading().map(|((patient, objects), question, meeting)| view! {
            <span class="nhsuk-caption-l">{meeting}</span>
            <h1 class="nhsuk-heading-l">"Brief: "{patient}</h1>
            {objects.then(|| view! {
                <div class="nhsuk-warning-callout" data-testid="sharing-objection">
                    <h2 class="nhsuk-warning-callout__label">"Objects to sharing"</h2>
                    <p>"This patient has objected to their information being shared. Write only what the MDT needs to decide on their care."</p>
                </div>
            })}
            <div class="nhsuk-inset-text"><p><strong>"Question for the MDT: "</strong>{question}</p></div>
        })}
        <p class="nhsuk-body">
            {move || match status() {
                Some(BriefStatus::Ready) => view! { <strong class="nhsuk-tag nhsuk-tag--green" data-testid="brief-status">"Ready"</strong> }.into_any(),
                _ => view! { <strong class="nhsuk-tag nhsuk-tag--yellow" data-testid="brief-status">"Draft"</strong> }.into_any(),
            }}
            " "<span role="status" aria-live="polite" data-testid="save-state" data-kept-chars=kept_chars>{save_state}</span>
        </p>
        <ConflictNotice id=brief_id/>
        {move || note.get().map(|n| view! { <div class="nhsuk-inset-text" role="status" data-testid="brief-note"><p>{n}</p></div> })}
        {move || (!errors.get().is_empty()).then(|| view! {
            <div class="nhsuk-error-summary" role="alert" tabindex="-1">
                <h2 class="nhsuk-error-summary__title">"The brief is not ready yet"</h2>
                <div class="nhsuk-error-summary__body">
                    <ul class="nhsuk-list nhsuk-error-summary__list">
                        {errors.get().into_iter().map(|e| view! {
                            <li><a href=format!("#brief-{}", e.field.clone().unwrap_or_default())>{e.message}</a></li>
                        }).collect_view()}
                    </ul>
                </div>
            </div>
        })}
        {move || read_only().then(|| view! {
            <div class="nhsuk-inset-text" data-testid="read-only"><p>"You observe this team: you can read this brief but not change it."</p></div>
        })}
        <form novalidate on:submit=move |ev: leptos::ev::SubmitEvent| ev.prevent_default()>
            <fieldset class="mdt-plain-fieldset" disabled=read_only>
            {SECTIONS.into_iter().map(|(field, label, hint, rows)| {
                let value = fields.text(field).expect("a text section");
                let id = format!("brief-{field}");
                let error = field_error(field);
                view! {
                    <div class="nhsuk-form-group" class:nhsuk-form-group--error=move || error.get().is_some()>
                        <label class="nhsuk-label nhsuk-label--s" for=id.clone()>{label}</label>
                        <div class="nhsuk-hint" id=format!("{id}-hint")>{hint}</div>
                        {move || error.get().map(|e| view! { <span class="nhsuk-error-message">{e}</span> })}
                        <textarea class="nhsuk-textarea" id=id.clone() name=id.clone() rows=rows
                            aria-describedby=format!("{id}-hint")
                            prop:value=move || value.get()
                            on:input=move |ev| { value.set(event_target_value(&ev)); on_typed(); }></textarea>
                    </div>
                }
            }).collect_view()}
            <div class="nhsuk-form-group">
                <div class="nhsuk-checkboxes">
                    <div class="nhsuk-checkboxes__item">
                        <input class="nhsuk-checkboxes__input" id="brief-safeguarding_concern" type="checkbox"
                            prop:checked=move || fields.safeguarding_concern.get()
                            on:change=move |ev| { fields.safeguarding_concern.set(event_target_checked(&ev)); on_typed(); }/>
                        <label class="nhsuk-label nhsuk-checkboxes__label" for="brief-safeguarding_concern">"There is a safeguarding concern"</label>
                    </div>
                </div>
            </div>
            <div class="nhsuk-form-group" class:nhsuk-form-group--error=move || field_error("consent_to_share").get().is_some()>
                <fieldset class="nhsuk-fieldset" id="brief-consent_to_share">
                    <legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">"Has the patient consented to their information being shared with the MDT? (required)"</legend>
                    {move || field_error("consent_to_share").get().map(|e| view! { <span class="nhsuk-error-message">{e}</span> })}
                    <div class="nhsuk-radios">
                        {[(Some(true), "consent-yes", "Yes"), (Some(false), "consent-no", "No"), (None, "consent-unknown", "Not asked yet")].into_iter().map(|(value, id, label)| view! {
                            <div class="nhsuk-radios__item">
                                <input class="nhsuk-radios__input" id=id name="consent" type="radio"
                                    prop:checked=move || fields.consent_to_share.get() == value
                                    on:change=move |_| { fields.consent_to_share.set(value); on_typed(); }/>
                                <label class="nhsuk-label nhsuk-radios__label" for=id>{label}</label>
                            </div>
                        }).collect_view()}
                    </div>
                </fieldset>
            </div>
            </fieldset>
            <div class="nhsuk-button-group">
                {move || match (read_only(), status() == Some(BriefStatus::Ready)) {
                    (true, _) => ().into_any(),
                    (false, true) => view! { <button type="button" class="nhsuk-button nhsuk-button--secondary" on:click=back_to_draft>"Put back to draft"</button> }.into_any(),
                    (false, false) => view! { <button type="button" class="nhsuk-button" on:click=mark_ready>"Mark as ready"</button> }.into_any(),
                }}
                <a class="nhsuk-button nhsuk-button--secondary" role="button" href=Page::Meeting(meeting_id).href()>"Back to the agenda"</a>
            </div>
        </form>
        {move || (!read_only()).then(|| view! {
            <p class="nhsuk-body-s">"Saved automatically as you type, on this device first and then to the server."</p>
        })}
    }
}
