//! A team's meetings: plan, change and cancel them, with every time in UK time.

use chrono::{Duration, NaiveTime, Utc};
use leptos::prelude::*;
use uuid::Uuid;

use crate::core::entities::{Meeting, MeetingStatus, Team};
use crate::core::ics::Series;
use crate::core::{uk_time, ValidationError};
use crate::web::api;
use crate::web::components::{field_error, ConflictNotice, ErrorSummary, TextField};
use crate::web::sync::SyncClient;

/// The meetings of one team, and a form to plan or change one.
#[component]
pub fn TeamMeetings(team_id: Uuid) -> impl IntoView {
    let sync = expect_context::<SyncClient>();
    // `None`: the form is closed; `Some(id)`: editing that meeting (or a new one).
    let editing = RwSignal::new(None::<(Uuid, bool)>);
    let meetings = move || {
        let mut list: Vec<_> = sync
            .replica
            .with(|r| r.all::<Meeting>())
            .into_iter()
            .filter(|(_, m)| m.team_id == team_id)
            .collect();
        list.sort_by_key(|(_, m)| m.starts_at);
        list
    };
    let team_known = move || {
        sync.replica
            .with(|r| r.view(team_id).is_some_and(|v| !v.unsent || v.version > 0))
    };
    let set_status = move |id: Uuid, meeting: Meeting, status: MeetingStatus| {
        if status == MeetingStatus::Cancelled {
            let question = format!(
                "Cancel the meeting on {}?",
                uk_time::format_uk(meeting.starts_at)
            );
            let ok = web_sys::window()
                .and_then(|w| w.confirm_with_message(&question).ok())
                .unwrap_or(false);
            if !ok {
                return;
            }
        }
        let _ = sync.save(id, &Meeting { status, ..meeting });
    };
    let series = move || {
        let mut list: Vec<(Uuid, Series)> = sync
            .replica
            .with(|r| r.all::<Series>())
            .into_iter()
            .filter(|(_, s)| s.team_id == team_id && !s.cancelled)
            .map(|(v, s)| (v.id, s))
            .collect();
        list.sort_by_key(|(_, s)| s.first_date);
        list
    };
    view! {
        <h2 id="meetings">"Meetings"</h2>
        {move || {
            let list = series();
            (!list.is_empty()).then(|| view! {
                <ul class="nhsuk-list" data-testid="series-list">
                    {list.into_iter().map(|(id, s)| view! {
                        <li>
                            {format!("Series: {} at {}, from {} ", s.rule.describe(), s.starts.format("%H:%M"), uk_time::format_date(s.first_date))}
                            <a href=api::series_calendar_url(id) download="">"Add the series to your calendar"</a>
                        </li>
                    }).collect_view()}
                </ul>
            })
        }}
        <p class="nhsuk-body-s">"All times are UK time (GMT or BST)."</p>
        {move || {
            let list = meetings();
            if list.is_empty() {
                view! { <p class="nhsuk-body" data-testid="no-meetings">"No meetings planned yet."</p> }.into_any()
            } else {
                view! {
                    <table class="nhsuk-table" data-testid="meeting-list">
                        <caption class="nhsuk-table__caption nhsuk-u-visually-hidden">"Meetings of this team"</caption>
                        <thead class="nhsuk-table__head"><tr>
                            <th scope="col">"When"</th><th scope="col">"Where"</th><th scope="col">"Status"</th><th scope="col"><span class="nhsuk-u-visually-hidden">"Actions"</span></th>
                        </tr></thead>
                        <tbody class="nhsuk-table__body">
                            {list.into_iter().map(|(v, m)| {
                                let id = v.id;
                                let (m1, m2) = (m.clone(), m.clone());
                                let cancelled = m.status == MeetingStatus::Cancelled;
                                view! {
                                    <tr class="nhsuk-table__row" class:mdt-row--cancelled=cancelled>
                                        <td class="nhsuk-table__cell">
                                            <a href=format!("/meetings/{id}")>
                                                {format!("{}–{}", uk_time::format_uk(m.starts_at), uk_time::format_uk_time(m.ends_at))}
                                            </a>
                                            {v.unsent.then(|| view! { <strong class="nhsuk-tag nhsuk-tag--grey mdt-tag-inline">"Not sent yet"</strong> })}
                                        </td>
                                        <td class="nhsuk-table__cell">
                                            {m.place.clone()}
                                            {m.video_link.clone().map(|l| view! { <br/><a href=l.clone() rel="noreferrer" target="_blank">"Video link"</a> })}
                                        </td>
                                        <td class="nhsuk-table__cell">
                                            {match m.status {
                                                MeetingStatus::Cancelled => view! { <strong class="nhsuk-tag nhsuk-tag--red">"Cancelled"</strong> }.into_any(),
                                                MeetingStatus::Closed => view! { <strong class="nhsuk-tag nhsuk-tag--grey">"Closed"</strong> }.into_any(),
                                                MeetingStatus::Planned if m.ends_at < Utc::now() => view! { <strong class="nhsuk-tag nhsuk-tag--grey">"Held"</strong> }.into_any(),
                                                MeetingStatus::Planned => view! { <strong class="nhsuk-tag nhsuk-tag--blue">"Planned"</strong> }.into_any(),
                                            }}
                                        </td>
                                        <td class="nhsuk-table__cell mdt-actions">
                                            <button type="button" class="mdt-link-button" on:click=move |_| editing.set(Some((id, false)))>
                                                "Change"<span class="nhsuk-u-visually-hidden">{format!(" meeting on {}", uk_time::format_uk(m.starts_at))}</span>
                                            </button>
                                            {if cancelled {
                                                view! { <button type="button" class="mdt-link-button" on:click=move |_| set_status(id, m1.clone(), MeetingStatus::Planned)>"Reinstate"</button> }.into_any()
                                            } else {
                                                view! { <button type="button" class="mdt-link-button" on:click=move |_| set_status(id, m2.clone(), MeetingStatus::Cancelled)>"Cancel meeting"</button> }.into_any()
                                            }}
                                        </td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }
        }}
        {move || match editing.get() {
            None => view! {
                <button type="button" class="nhsuk-button nhsuk-button--secondary" disabled=move || !team_known()
                    on:click=move |_| editing.set(Some((Uuid::new_v4(), true)))>"Plan a meeting"</button>
            }.into_any(),
            Some((id, is_new)) => view! {
                <MeetingForm team_id=team_id id=id is_new=is_new on_done=Callback::new(move |_| editing.set(None))/>
            }.into_any(),
        }}
    }
}

/// Plan a new meeting or change one. Defaults come from the team.
#[component]
fn MeetingForm(team_id: Uuid, id: Uuid, is_new: bool, on_done: Callback<()>) -> impl IntoView {
    let sync = expect_context::<SyncClient>();
    let team = sync
        .replica
        .with_untracked(|r| r.view(team_id).and_then(|v| v.typed::<Team>()));
    let (base_version, existing) = sync
        .replica
        .with_untracked(|r| r.view(id).map(|v| (v.version, v.typed::<Meeting>())))
        .unwrap_or((0, None));
    let default_minutes = team.as_ref().map_or(90, |t| t.default_minutes);

    let (date0, start0, end0, place0, video0, status) = match &existing {
        Some(m) => (
            uk_time::to_uk(m.starts_at).format("%Y-%m-%d").to_string(),
            uk_time::format_uk_time(m.starts_at),
            uk_time::format_uk_time(m.ends_at),
            m.place.clone(),
            m.video_link.clone().unwrap_or_default(),
            m.status,
        ),
        None => {
            let start = NaiveTime::from_hms_opt(13, 0, 0).unwrap_or_default();
            let end = start + Duration::minutes(i64::from(default_minutes));
            (
                (uk_time::uk_today(Utc::now()) + Duration::days(7))
                    .format("%Y-%m-%d")
                    .to_string(),
                start.format("%H:%M").to_string(),
                end.format("%H:%M").to_string(),
                team.as_ref().map(|t| t.place.clone()).unwrap_or_default(),
                team.as_ref()
                    .and_then(|t| t.video_link.clone())
                    .unwrap_or_default(),
                MeetingStatus::Planned,
            )
        }
    };
    let date = RwSignal::new(date0);
    let start = RwSignal::new(start0);
    let end = RwSignal::new(end0);
    let place = RwSignal::new(place0);
    let video = RwSignal::new(video0);
    let error = RwSignal::new(None::<ValidationError>);
    let err = Signal::derive(move || error.get());

    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let result = Meeting::times_from_uk(
            &date.get_untracked(),
            &start.get_untracked(),
            &end.get_untracked(),
        )
        .and_then(|(starts_at, ends_at)| {
            let meeting = Meeting {
                team_id,
                starts_at,
                ends_at,
                place: place.get_untracked().trim().to_owned(),
                video_link: Some(video.get_untracked().trim().to_owned()).filter(|v| !v.is_empty()),
                status,
            };
            sync.save_edit(id, base_version, existing.as_ref(), &meeting)
        });
        match result {
            Ok(()) => on_done.run(()),
            Err(e) => error.set(Some(e)),
        }
    };
    view! {
        <div class="mdt-panel">
            <h3>{if is_new { "Plan a meeting" } else { "Change the meeting" }}</h3>
            {(!is_new).then(|| view! { <ConflictNotice id=id/> })}
            <ErrorSummary error=err id_prefix="meeting"/>
            <form on:submit=save novalidate>
                <TextField id="meeting-date".into() label="Date" value=date input_type="date"
                    error=field_error(err, "date") width_class="nhsuk-input--width-10"/>
                <div class="mdt-inline-fields">
                    <TextField id="meeting-starts_at".into() label="Starts (UK time)" value=start input_type="time"
                        error=field_error(err, "starts_at") width_class="nhsuk-input--width-5"/>
                    <TextField id="meeting-ends_at".into() label="Ends (UK time)" value=end input_type="time"
                        error=field_error(err, "ends_at") width_class="nhsuk-input--width-5"/>
                </div>
                <TextField id="meeting-place".into() label="Place" value=place error=field_error(err, "place")/>
                <TextField id="meeting-video_link".into() label="Video link (optional)" value=video
                    error=field_error(err, "video_link")/>
                <div class="nhsuk-button-group">
                    <button class="nhsuk-button" type="submit">{if is_new { "Add meeting" } else { "Save meeting" }}</button>
                    <button class="nhsuk-button nhsuk-button--secondary" type="button" on:click=move |_| on_done.run(())>"Close without saving"</button>
                </div>
            </form>
        </div>
    }
}

/// Attendance by role over the team's last six held meetings, against the two-thirds target.
#[component]
pub fn AttendanceByRole(team_id: Uuid) -> impl IntoView {
    use crate::core::attendance::{attendance_by_role, Attendance};
    use crate::core::entities::Person;
    let sync = expect_context::<SyncClient>();
    let rows = Memo::new(move |_| {
        sync.replica.with(|r| {
            let Some(team) = r.view(team_id).and_then(|v| v.typed::<Team>()) else {
                return Vec::new();
            };
            let now = Utc::now();
            let mut held: Vec<(Uuid, Meeting)> = r
                .all::<Meeting>()
                .into_iter()
                .filter(|(_, m)| {
                    m.team_id == team_id && m.status != MeetingStatus::Cancelled && m.ends_at < now
                })
                .map(|(v, m)| (v.id, m))
                .collect();
            held.sort_by_key(|(_, m)| std::cmp::Reverse(m.starts_at));
            let meetings: Vec<Uuid> = held.iter().take(6).map(|(id, _)| *id).collect();
            let roles = r
                .all::<Person>()
                .into_iter()
                .map(|(v, p)| (v.id, p.role))
                .collect();
            let answers: Vec<Attendance> = r
                .all::<Attendance>()
                .into_iter()
                .map(|(_, a)| a)
                .filter(|a| meetings.contains(&a.meeting_id))
                .collect();
            attendance_by_role(&meetings, &team, &roles, &answers)
                .into_iter()
                .map(|a| {
                    (
                        a.role.label(),
                        a.attended,
                        a.expected,
                        (a.share() * 100.0).round() as u32,
                        a.meets_target(),
                    )
                })
                .collect::<Vec<_>>()
        })
    });
    view! {
        <Show when=move || rows.with(|r| !r.is_empty())>
            <h2>"Attendance by role"</h2>
            <p class="nhsuk-body-s">"Over the last six meetings held. The target is two thirds. Record who attended on each meeting's page."</p>
            <table class="nhsuk-table" data-testid="attendance-by-role">
                <thead><tr><th scope="col">"Role"</th><th scope="col">"Attended"</th><th scope="col">"Share"</th></tr></thead>
                <tbody>
                    {move || rows.get().into_iter().map(|(role, attended, expected, percent, ok)| view! {
                        <tr>
                            <td>{role}</td>
                            <td>{format!("{attended} of {expected}")}</td>
                            <td>{format!("{percent}%")}{(!ok).then(|| view! { " " <strong class="nhsuk-tag nhsuk-tag--orange">"Below target"</strong> })}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </Show>
    }
}
