//! The form that adds an item to a meeting's agenda, including a new patient when needed.

use std::collections::BTreeSet;

use chrono::Utc;
use leptos::prelude::*;
use uuid::Uuid;

use crate::core::access::RESTRICTED_EXPLANATION;
use crate::core::agenda::{AgendaItem, ItemKind, ItemStatus};
use crate::core::api::CurrentUser;
use crate::core::entities::Entity;
use crate::core::patient::{date_of_birth_from_parts, parse_nhs_number, Patient};
use crate::core::validation::{self as check, every_problem};
use crate::core::{uk_time, ValidationError};
use crate::web::client::sync::SyncClient;
use crate::web::components::{problem_at, DateInput, Problem, ProblemSummary, TextField};
use crate::web::views::agenda::AgendaView;

/// Value of the patient choice meaning "someone not on the list yet".
const NEW_PATIENT: &str = "new";

/// Adds an item. After the agenda cut-off only the coordinator can, and the item is marked late.
#[component]
pub fn AddItemForm(data: Memo<Option<AgendaView>>) -> impl IntoView {
    let sync = expect_context::<SyncClient>();
    let me = expect_context::<CurrentUser>();
    let open = RwSignal::new(false);
    let kind = RwSignal::new(ItemKind::PatientDiscussion);
    let patient = RwSignal::new(String::new());
    let nhs_number = RwSignal::new(String::new());
    let patient_name = RwSignal::new(String::new());
    let birth_day = RwSignal::new(String::new());
    let birth_month = RwSignal::new(String::new());
    let birth_year = RwSignal::new(String::new());
    let title = RwSignal::new(String::new());
    let reason = RwSignal::new(String::new());
    let question = RwSignal::new(String::new());
    let requested_by = RwSignal::new(me.person_id);
    let lead = RwSignal::new(None::<Uuid>);
    let minutes = RwSignal::new("15".to_string());
    let required = RwSignal::new(BTreeSet::<Uuid>::new());
    let restricted = RwSignal::new(false);
    let problems = RwSignal::new(Vec::<Problem>::new());
    let added = RwSignal::new(None::<String>);
    let err = Signal::from(problems);
    let field_error =
        |problems: Signal<Vec<Problem>>, field: &str| problem_at(problems, format!("item-{field}"));

    // Whether this person may add now, and whether the item would be late.
    let permission = move || {
        data.with(|d| {
            d.as_ref().map(|v| {
                v.team
                    .may_add_item(v.meeting.starts_at, me.person_id, Utc::now())
            })
        })
    };

    let reset = move || {
        for s in [
            patient,
            nhs_number,
            patient_name,
            birth_day,
            birth_month,
            birth_year,
            title,
            reason,
            question,
        ] {
            s.set(String::new());
        }
        lead.set(None);
        required.set(BTreeSet::new());
        restricted.set(false);
        minutes.set("15".into());
        problems.set(Vec::new());
    };

    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(v) = data.get_untracked() else {
            return;
        };
        let late = match v
            .team
            .may_add_item(v.meeting.starts_at, me.person_id, Utc::now())
        {
            Ok(late) => late,
            Err(reason) => {
                problems.set(vec![Problem::general(reason)]);
                return;
            }
        };
        let team_id = v.meeting.team_id;
        // Every problem at once: a wrong NHS number and an impossible date of birth are both
        // reported, with whatever else the item lacks, so one press shows all to put right.
        let mut found: Vec<ValidationError> = Vec::new();
        let item_minutes = match minutes.get_untracked().trim().parse::<u32>() {
            Ok(m) => m,
            Err(_) => {
                found.push(ValidationError::field(
                    "minutes",
                    "Enter the minutes as a whole number, like 15",
                ));
                15
            }
        };
        let kind_now = kind.get_untracked();
        // A new patient is checked and created with the item, never half of it.
        let mut new_patient = None;
        let patient_id = if kind_now == ItemKind::PatientDiscussion
            || (kind_now == ItemKind::ForInformation && !patient.get_untracked().is_empty())
        {
            let choice = patient.get_untracked();
            if choice == NEW_PATIENT {
                let nhs = match parse_nhs_number(&nhs_number.get_untracked()) {
                    Ok(n) if v.patients.values().any(|p| p.nhs_number == n) => {
                        found.push(ValidationError::field(
                            "nhs_number",
                            "This patient is already on the team's list: choose them from the list",
                        ));
                        None
                    }
                    Ok(n) => Some(n),
                    Err(e) => {
                        found.push(ValidationError::field("nhs_number", e.to_string()));
                        None
                    }
                };
                let dob = date_of_birth_from_parts(
                    &birth_day.get_untracked(),
                    &birth_month.get_untracked(),
                    &birth_year.get_untracked(),
                    uk_time::uk_today(Utc::now()),
                )
                .map_err(|e| found.push(e))
                .ok();
                let name = patient_name.get_untracked().trim().to_owned();
                match (nhs, dob) {
                    (Some(nhs_number), Some(date_of_birth)) => {
                        let p = Patient {
                            team_id,
                            nhs_number,
                            name,
                            date_of_birth,
                            registered_practice_id: None,
                            objects_to_sharing: false,
                            lead_professional_id: lead.get_untracked(),
                        };
                        match p.validate() {
                            Ok(()) => {
                                let id = Uuid::new_v4();
                                new_patient = Some((id, p));
                                Some(id)
                            }
                            Err(e) => {
                                found.push(e);
                                Some(Uuid::nil())
                            }
                        }
                    }
                    _ => {
                        if let Err(e) =
                            check::required_text("name", "the patient's full name", &name, 200)
                        {
                            found.push(e);
                        }
                        // Stands in for the patient while the item's own fields are checked.
                        Some(Uuid::nil())
                    }
                }
            } else {
                Uuid::parse_str(&choice).ok()
            }
        } else {
            None
        };
        let item = AgendaItem {
            team_id,
            meeting_id: v.meeting_id,
            kind: kind_now,
            title: title.get_untracked().trim().to_owned(),
            patient_id,
            reason: reason.get_untracked().trim().to_owned(),
            question: question.get_untracked().trim().to_owned(),
            requested_by: Some(requested_by.get_untracked()),
            requested_on: uk_time::uk_today(Utc::now()),
            lead_professional_id: lead.get_untracked(),
            minutes: if kind_now == ItemKind::ForInformation {
                0
            } else {
                item_minutes
            },
            position: v.agenda.next_position(),
            required_people: required.get_untracked().into_iter().collect(),
            late,
            deferrals: 0,
            carried_from: None,
            status: ItemStatus::Open,
            outcome: None,
            summary_sent_on: None,
            restricted: kind_now == ItemKind::PatientDiscussion && restricted.get_untracked(),
            restricted_to: vec![],
            content_withheld: false,
        };
        found.extend(every_problem(
            item.clone(),
            |i: &AgendaItem| i.validate(),
            |i: &mut AgendaItem, field: &str| {
                match field {
                    "title" => i.title = "—".into(),
                    "reason" => i.reason = "—".into(),
                    "question" => i.question = "—".into(),
                    "patient_id" => i.patient_id = Some(Uuid::nil()),
                    "minutes" => i.minutes = 0,
                    _ => return false,
                }
                true
            },
            8,
        ));
        if !found.is_empty() {
            problems.set(
                found
                    .into_iter()
                    .map(|e| Problem::from_validation("item", e))
                    .collect(),
            );
            return;
        }
        if let Some((id, p)) = &new_patient {
            if let Err(e) = sync.save(*id, p) {
                problems.set(vec![Problem::from_validation("item", e)]);
                return;
            }
        }
        match sync.save(Uuid::new_v4(), &item) {
            Ok(()) => {
                added.set(Some(format!(
                    "Added “{}” to the agenda.",
                    v.item_heading(&item)
                )));
                if let Some((_, p)) = new_patient {
                    added.set(Some(format!(
                        "Added {} to the team's list and to the agenda.",
                        p.name
                    )));
                }
                reset();
                open.set(false);
            }
            Err(e) => problems.set(vec![Problem::from_validation("item", e)]),
        }
    };

    let members =
        move || data.with(|d| d.as_ref().map(AgendaView::member_names).unwrap_or_default());
    let patients = move || {
        data.with(|d| {
            d.as_ref()
                .map(|v| {
                    let mut list: Vec<(Uuid, String)> = v
                        .patients
                        .iter()
                        .map(|(id, p)| (*id, p.identity_line()))
                        .collect();
                    list.sort_by_cached_key(|(_, n)| n.to_lowercase());
                    list
                })
                .unwrap_or_default()
        })
    };
    let person_select = move |id: &'static str,
                              label: &'static str,
                              value: Signal<Option<Uuid>>,
                              set: Callback<Option<Uuid>>,
                              optional: bool| {
        view! {
            <div class="nhsuk-form-group">
                <label class="nhsuk-label" for=id>{label}</label>
                <select class="nhsuk-select" id=id on:change=move |ev| set.run(Uuid::parse_str(&event_target_value(&ev)).ok())>
                    {optional.then(|| view! { <option value="" selected=move || value.get().is_none()>"Not set"</option> })}
                    {move || members().into_iter().map(|(pid, name)| view! {
                        <option value=pid.to_string() selected=move || value.get() == Some(pid)>{name}</option>
                    }).collect_view()}
                </select>
            </div>
        }
    };

    view! {
        <h2 id="add-item">"Add an item"</h2>
        {move || added.get().map(|a| view! { <div class="nhsuk-inset-text" role="status"><p>{a}</p></div> })}
        {move || match permission() {
            Some(Err(reason)) => view! { <div class="nhsuk-inset-text" data-testid="agenda-closed"><p>{reason}</p></div> }.into_any(),
            _ if !open.get() => view! {
                <button type="button" class="nhsuk-button" on:click=move |_| { open.set(true); added.set(None); }>
                    {move || if matches!(permission(), Some(Ok(true))) { "Add a late item" } else { "Add an item" }}
                </button>
            }.into_any(),
            _ => view! {
                <div class="mdt-panel">
                    {matches!(permission(), Some(Ok(true))).then(|| view! {
                        <p class="nhsuk-body"><strong class="nhsuk-tag nhsuk-tag--orange">"Late"</strong>" The agenda has closed; as coordinator you can still add items, marked as late."</p>
                    })}
                    <ProblemSummary problems=err/>
                    <form on:submit=save novalidate>
                        <div class="nhsuk-form-group">
                            <label class="nhsuk-label" for="item-kind">"Type of item"</label>
                            <select class="nhsuk-select" id="item-kind"
                                on:change=move |ev| if let Some(k) = ItemKind::parse(&event_target_value(&ev)) {
                                    kind.set(k);
                                    minutes.set(match k { ItemKind::PatientDiscussion => "15", ItemKind::ForInformation => "0", _ => "10" }.into());
                                }>
                                {ItemKind::ALL.into_iter().map(|k| view! {
                                    <option value=k.as_str() selected=move || kind.get() == k>{k.label()}</option>
                                }).collect_view()}
                            </select>
                        </div>
                        {move || (kind.get() != ItemKind::PatientDiscussion).then(|| view! {
                            <TextField id="item-title".into() label="Title" value=title error=field_error(err, "title")
                                hint="For example, Safeguarding updates"/>
                        })}
                        {move || matches!(kind.get(), ItemKind::PatientDiscussion | ItemKind::ForInformation).then(|| view! {
                            <div class="nhsuk-form-group" class:nhsuk-form-group--error=move || field_error(err, "patient_id").get().is_some()>
                                <label class="nhsuk-label" for="item-patient_id">"Patient"</label>
                                {move || field_error(err, "patient_id").get().map(|e| view! { <span class="nhsuk-error-message">{e}</span> })}
                                <select class="nhsuk-select" id="item-patient_id" on:change=move |ev| patient.set(event_target_value(&ev))>
                                    <option value="" selected=move || patient.get().is_empty()>"Choose a patient"</option>
                                    {move || patients().into_iter().map(|(pid, line)| view! {
                                        <option value=pid.to_string() selected=move || patient.get() == pid.to_string()>{line}</option>
                                    }).collect_view()}
                                    <option value=NEW_PATIENT selected=move || patient.get() == NEW_PATIENT>"Someone not on the list yet"</option>
                                </select>
                            </div>
                        })}
                        {move || (patient.get() == NEW_PATIENT).then(|| view! {
                            <fieldset class="nhsuk-fieldset mdt-subpanel">
                                <legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">"New patient"</legend>
                                <TextField id="item-nhs_number".into() label="NHS number" value=nhs_number
                                    error=field_error(err, "nhs_number") hint="10 digits, like 943 476 5919" width_class="nhsuk-input--width-10"/>
                                <TextField id="item-name".into() label="Full name" value=patient_name error=field_error(err, "name")/>
                                <DateInput id="item-date_of_birth".into() legend="Date of birth" day=birth_day month=birth_month year=birth_year
                                    hint="For example, 12 4 1938" error=field_error(err, "date_of_birth")/>
                            </fieldset>
                        })}
                        {move || (kind.get() == ItemKind::PatientDiscussion).then(|| view! {
                            <TextField id="item-reason".into() label="Reason for discussion" value=reason error=field_error(err, "reason")/>
                            <TextField id="item-question".into() label="Question for the MDT" value=question error=field_error(err, "question")
                                hint="What you want the team to decide or advise"/>
                            {person_select("item-requested_by", "Asked for by", Signal::derive(move || Some(requested_by.get())),
                                Callback::new(move |p: Option<Uuid>| if let Some(p) = p { requested_by.set(p) }), false)}
                            {person_select("item-lead_professional_id", "Lead professional", lead.into(),
                                Callback::new(move |p| lead.set(p)), true)}
                            <div class="nhsuk-form-group">
                                <fieldset class="nhsuk-fieldset">
                                    <legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">"Who must be there for this item"</legend>
                                    <div class="nhsuk-hint">"Someone who knows the patient. They can join just for this item's time."</div>
                                    <div class="nhsuk-checkboxes mdt-checkboxes--columns">
                                        {move || members().into_iter().map(|(pid, name)| {
                                            let input_id = format!("required-{pid}");
                                            view! {
                                                <div class="nhsuk-checkboxes__item">
                                                    <input class="nhsuk-checkboxes__input" id=input_id.clone() type="checkbox"
                                                        prop:checked=move || required.with(|r| r.contains(&pid))
                                                        on:change=move |ev| {
                                                            let on = event_target_checked(&ev);
                                                            required.update(|r| { if on { r.insert(pid); } else { r.remove(&pid); } });
                                                        }/>
                                                    <label class="nhsuk-label nhsuk-checkboxes__label" for=input_id>{name}</label>
                                                </div>
                                            }
                                        }).collect_view()}
                                    </div>
                                </fieldset>
                            </div>
                        })}
                        {move || (kind.get() == ItemKind::PatientDiscussion).then(|| view! {
                            <div class="nhsuk-form-group">
                                <div class="nhsuk-checkboxes">
                                    <div class="nhsuk-checkboxes__item">
                                        <input class="nhsuk-checkboxes__input" id="item-restricted" type="checkbox"
                                            aria-describedby="item-restricted-hint"
                                            prop:checked=move || restricted.get()
                                            on:change=move |ev| restricted.set(event_target_checked(&ev))/>
                                        <label class="nhsuk-label nhsuk-checkboxes__label" for="item-restricted">"Safeguarding: restrict who can see this item"</label>
                                        <div class="nhsuk-hint nhsuk-checkboxes__hint" id="item-restricted-hint">{RESTRICTED_EXPLANATION}" The rest of the team sees only that a restricted item is on the agenda."</div>
                                    </div>
                                </div>
                            </div>
                        })}
                        {move || (kind.get() != ItemKind::ForInformation).then(|| view! {
                            <TextField id="item-minutes".into() label="Minutes" value=minutes error=field_error(err, "minutes")
                                width_class="nhsuk-input--width-3"/>
                        })}
                        <div class="nhsuk-button-group">
                            <button class="nhsuk-button" type="submit">"Add to agenda"</button>
                            <button class="nhsuk-button nhsuk-button--secondary" type="button" on:click=move |_| { reset(); open.set(false); }>"Close without adding"</button>
                        </div>
                    </form>
                </div>
            }.into_any(),
        }}
    }
}
