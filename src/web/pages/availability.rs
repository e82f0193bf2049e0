//! "My availability": the weekly commitments (clinics, home-visit rounds) and absences the
//! slot finder works around, and whether someone would rather join remotely.

use chrono::{NaiveDate, NaiveTime};
use leptos::prelude::*;
use uuid::Uuid;

use crate::core::api::CurrentUser;
use crate::core::entities::Person;
use crate::core::schedule::{Absence, Availability, Commitment, PersonAvailability, WEEKDAY_NAMES};
use crate::core::{uk_time, ValidationError};
use crate::web::client::sync::SyncClient;
use crate::web::components::{field_error, ErrorSummary, TextField};
use crate::web::routes::use_person;

/// `/availability` (your own) and `/availability/<person>` (a coordinator for a member).
#[component]
pub fn AvailabilityPage() -> impl IntoView {
    let me = expect_context::<CurrentUser>();
    let person = use_person();
    move || {
        let person = person.get().unwrap_or(me.person_id);
        view! { <AvailabilityEditor person_id=person/> }
    }
}

#[component]
fn AvailabilityEditor(person_id: Uuid) -> impl IntoView {
    let sync = expect_context::<SyncClient>();
    let me = expect_context::<CurrentUser>();
    let id = PersonAvailability::id_for(person_id);
    let current = Memo::new(move |_| {
        sync.entity::<PersonAvailability>(id)
            .unwrap_or(PersonAvailability {
                person_id,
                availability: Availability::default(),
            })
    });
    let name = Memo::new(move |_| sync.entity::<Person>(person_id).map(|p| p.name));
    let error = RwSignal::new(None::<ValidationError>);
    let err = Signal::derive(move || error.get());
    let save = move |next: PersonAvailability| match sync.save(id, &next) {
        Ok(()) => {
            error.set(None);
            true
        }
        Err(e) => {
            error.set(Some(e));
            false
        }
    };

    let day = RwSignal::new(0u8);
    let starts = RwSignal::new("08:30".to_string());
    let ends = RwSignal::new("12:30".to_string());
    let label = RwSignal::new("Clinic".to_string());
    let fortnightly = RwSignal::new(false);
    let commitment_from = RwSignal::new(String::new());
    let commitment_until = RwSignal::new(String::new());
    let add_commitment = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let time = |s: String, field: &str| {
            NaiveTime::parse_from_str(s.trim(), "%H:%M").map_err(|_| {
                ValidationError::field(field, "Enter the time as hours and minutes, like 08:30")
            })
        };
        let parsed = time(starts.get_untracked(), "starts")
            .and_then(|s| time(ends.get_untracked(), "ends").map(|e| (s, e)));
        let (s, e) = match parsed {
            Ok(t) => t,
            Err(e) => {
                error.set(Some(e));
                return;
            }
        };
        let optional_date =
            |s: String, field: &str| -> Result<Option<NaiveDate>, ValidationError> {
                let s = s.trim().to_owned();
                if s.is_empty() {
                    return Ok(None);
                }
                NaiveDate::parse_from_str(&s, "%Y-%m-%d")
                    .map(Some)
                    .map_err(|_| ValidationError::field(field, "Enter the date, or leave it blank"))
            };
        let dates =
            optional_date(commitment_from.get_untracked(), "commitment-from").and_then(|f| {
                optional_date(commitment_until.get_untracked(), "commitment-until").map(|u| (f, u))
            });
        let (from, until) = match dates {
            Ok(d) => d,
            Err(e) => {
                error.set(Some(e));
                return;
            }
        };
        let every_other = fortnightly.get_untracked();
        let commitment = Commitment {
            weekday: day.get_untracked(),
            starts: s,
            ends: e,
            label: label.get_untracked().trim().to_owned(),
            every_weeks: if every_other { 2 } else { 1 },
            anchor: every_other.then(|| uk_time::uk_today(chrono::Utc::now())),
            from,
            until,
        };
        let mut next = current.get_untracked();
        next.availability.commitments.push(commitment);
        save(next);
    };

    let absence_from = RwSignal::new(String::new());
    let absence_until = RwSignal::new(String::new());
    let absence_label = RwSignal::new("Annual leave".to_string());
    let add_absence = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let date = |s: String, field: &str| {
            NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
                .map_err(|_| ValidationError::field(field, "Enter the date"))
        };
        match date(absence_from.get_untracked(), "from")
            .and_then(|f| date(absence_until.get_untracked(), "until").map(|u| (f, u)))
        {
            Ok((from, until)) => {
                let mut next = current.get_untracked();
                next.availability.absences.push(Absence {
                    from,
                    until,
                    label: absence_label.get_untracked().trim().to_owned(),
                });
                if save(next) {
                    absence_from.set(String::new());
                    absence_until.set(String::new());
                }
            }
            Err(e) => error.set(Some(e)),
        }
    };

    view! {
        <h1>{move || if person_id == me.person_id { "My availability".to_string() } else { format!("Availability: {}", name.get().unwrap_or_default()) }}</h1>
        <p class="nhsuk-body">"Regular commitments such as clinics or home-visit rounds, in UK time, and days away. The slot finder never offers a meeting over them for people who must attend."</p>
        <ErrorSummary error=err id_prefix="availability"/>
        <h2>"Regular commitments"</h2>
        <ul class="nhsuk-list" data-testid="commitments">
            {move || current.get().availability.commitments.into_iter().enumerate().map(|(i, c)| {
                let mut text = format!("{} {}–{}: {}{}", WEEKDAY_NAMES[usize::from(c.weekday.min(6))], c.starts.format("%H:%M"), c.ends.format("%H:%M"), c.label,
                    if c.every_weeks > 1 { " (every other week)" } else { "" });
                if let Some(f) = c.from {
                    text.push_str(&format!(", from {}", uk_time::format_date(f)));
                }
                if let Some(u) = c.until {
                    text.push_str(&format!(", until {}", uk_time::format_date(u)));
                }
                view! {
                    <li>{text.clone()}" "
                        <button type="button" class="mdt-link-button"
                            on:click=move |_| { let mut next = current.get_untracked(); next.availability.commitments.remove(i); save(next); }>"Remove"<span class="nhsuk-u-visually-hidden">{format!(" {text}")}</span></button>
                    </li>
                }
            }).collect_view()}
        </ul>
        <form class="mdt-panel" on:submit=add_commitment novalidate>
            <h3>"Add a regular commitment"</h3>
            <div class="mdt-inline-fields">
                <div class="nhsuk-form-group">
                    <label class="nhsuk-label" for="availability-day">"Day"</label>
                    <select class="nhsuk-select" id="availability-day" on:change=move |ev| day.set(event_target_value(&ev).parse().unwrap_or(0))>
                        {WEEKDAY_NAMES.iter().enumerate().map(|(i, d)| view! { <option value=i.to_string() selected=move || usize::from(day.get()) == i>{*d}</option> }).collect_view()}
                    </select>
                </div>
                <TextField id="availability-starts".into() label="From" value=starts input_type="time" error=field_error(err, "starts") width_class="nhsuk-input--width-5"/>
                <TextField id="availability-ends".into() label="To" value=ends input_type="time" error=field_error(err, "ends") width_class="nhsuk-input--width-5"/>
            </div>
            <TextField id="availability-label".into() label="What it is" value=label error=field_error(err, "label") hint="For example: Clinic, Home visits"/>
            <div class="mdt-inline-fields">
                <TextField id="availability-commitment-from".into() label="Starting (optional)" value=commitment_from input_type="date"
                    error=field_error(err, "commitment-from") width_class="nhsuk-input--width-10"/>
                <TextField id="availability-commitment-until".into() label="Ending (optional)" value=commitment_until input_type="date"
                    error=field_error(err, "commitment-until") width_class="nhsuk-input--width-10"/>
            </div>
            <div class="nhsuk-checkboxes nhsuk-form-group">
                <div class="nhsuk-checkboxes__item">
                    <input class="nhsuk-checkboxes__input" id="availability-fortnightly" type="checkbox"
                        prop:checked=move || fortnightly.get() on:change=move |ev| fortnightly.set(event_target_checked(&ev))/>
                    <label class="nhsuk-label nhsuk-checkboxes__label" for="availability-fortnightly">"Every other week, starting this week"</label>
                </div>
            </div>
            <button class="nhsuk-button" type="submit">"Add commitment"</button>
        </form>
        <h2>"Days away"</h2>
        <ul class="nhsuk-list" data-testid="absences">
            {move || current.get().availability.absences.into_iter().enumerate().map(|(i, a)| view! {
                <li>{format!("{} to {}: {}", uk_time::format_date(a.from), uk_time::format_date(a.until), a.label)}" "
                    <button type="button" class="mdt-link-button"
                        on:click=move |_| { let mut next = current.get_untracked(); next.availability.absences.remove(i); save(next); }>
                        "Remove"<span class="nhsuk-u-visually-hidden">{format!(" {} from {}", a.label, uk_time::format_date(a.from))}</span>
                    </button>
                </li>
            }).collect_view()}
        </ul>
        <form class="mdt-panel" on:submit=add_absence novalidate>
            <h3>"Add days away"</h3>
            <div class="mdt-inline-fields">
                <TextField id="availability-from".into() label="First day" value=absence_from input_type="date" error=field_error(err, "from") width_class="nhsuk-input--width-10"/>
                <TextField id="availability-until".into() label="Last day" value=absence_until input_type="date" error=field_error(err, "until") width_class="nhsuk-input--width-10"/>
            </div>
            <TextField id="availability-absence-label".into() label="Reason" value=absence_label error=field_error(err, "absence-label")/>
            <button class="nhsuk-button nhsuk-button--secondary" type="submit">"Add days away"</button>
        </form>
        <div class="nhsuk-checkboxes nhsuk-form-group">
            <div class="nhsuk-checkboxes__item">
                <input class="nhsuk-checkboxes__input" id="availability-remote" type="checkbox"
                    prop:checked=move || current.get().availability.prefers_remote
                    on:change=move |ev| { let mut next = current.get_untracked(); next.availability.prefers_remote = event_target_checked(&ev); save(next); }/>
                <label class="nhsuk-label nhsuk-checkboxes__label" for="availability-remote">"I would rather join meetings by video"</label>
            </div>
        </div>
    }
}
