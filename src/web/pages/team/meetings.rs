//! A team's meetings: plan, change and cancel them, with every time in UK time.

use chrono::{Duration, NaiveDate, NaiveTime, Utc};
use leptos::prelude::*;
use uuid::Uuid;

use crate::core::api::CurrentUser;
use crate::core::entities::{Meeting, MeetingStatus, Team};
use crate::core::series::{Series, SeriesException};
use crate::core::{uk_time, ValidationError};
use crate::web::client::api;
use crate::web::client::sync::SyncClient;
use crate::web::components::{
    field_error, may_change_team, ConflictNotice, ErrorSummary, TextField,
};
use crate::web::routes::Page;
use crate::web::views;

/// The meetings of one team, and a form to plan or change one.
#[component]
pub fn TeamMeetings(team_id: Uuid) -> impl IntoView {
    let sync = expect_context::<SyncClient>();
    // `None`: the form is closed; `Some(id)`: editing that meeting (or a new one).
    let editing = RwSignal::new(None::<(Uuid, bool)>);
    let meetings = move || sync.read(|r| views::team::meetings_of(r, team_id));
    let team_known = move || sync.on_server(team_id);
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
    let series = move || sync.read(|r| views::team::series_of(r, team_id));
    let editing_series = RwSignal::new(None::<Uuid>);
    let may_change = may_change_team(team_id);
    // One table of meetings: the coming ones, or the past ones under "Past meetings".
    let meeting_table = move |list: Vec<views::team::TeamMeeting>,
                              test_id: &'static str,
                              caption: &'static str| {
        view! {
            <table class="nhsuk-table-responsive" data-testid=test_id>
                <caption class="nhsuk-table__caption nhsuk-u-visually-hidden">{caption}</caption>
                <thead class="nhsuk-table__head" role="rowgroup"><tr role="row">
                    <th scope="col" role="columnheader">"When"</th><th scope="col" role="columnheader">"Where"</th><th scope="col" role="columnheader">"Status"</th><th scope="col" role="columnheader"><span class="nhsuk-u-visually-hidden">"Actions"</span></th>
                </tr></thead>
                <tbody class="nhsuk-table__body">
                    {list.into_iter().map(|(v, m)| {
                        let id = v.id;
                        let (m1, m2) = (m.clone(), m.clone());
                        let cancelled = m.status == MeetingStatus::Cancelled;
                        // A concluded meeting's record is final: nothing to change or cancel.
                        let closed = m.status == MeetingStatus::Closed;
                        let has_started = m.starts_at <= Utc::now();
                        view! {
                            <tr role="row" class="nhsuk-table__row" class:mdt-row--cancelled=cancelled>
                                <td role="cell" class="nhsuk-table__cell">
                                    <span class="nhsuk-table-responsive__heading" aria-hidden="true">"When "</span>
                                    <a href=Page::Meeting(id).href()>
                                        {format!("{}–{}", uk_time::format_uk(m.starts_at), uk_time::format_uk_time(m.ends_at))}
                                    </a>
                                    {v.unsent.then(|| view! { <strong class="nhsuk-tag nhsuk-tag--grey mdt-tag-inline">"Not sent yet"</strong> })}
                                </td>
                                <td role="cell" class="nhsuk-table__cell">
                                    <span class="nhsuk-table-responsive__heading" aria-hidden="true">"Where "</span>
                                    {m.place.clone()}
                                    {m.video_link.clone().map(|l| view! { <br/><a href=l.clone() rel="noreferrer" target="_blank">"Video link"</a> })}
                                </td>
                                <td role="cell" class="nhsuk-table__cell">
                                    <span class="nhsuk-table-responsive__heading" aria-hidden="true">"Status "</span>
                                    {match m.status {
                                        MeetingStatus::Cancelled => view! { <strong class="nhsuk-tag nhsuk-tag--red">"Cancelled"</strong> }.into_any(),
                                        MeetingStatus::Closed => view! { <strong class="nhsuk-tag nhsuk-tag--grey">"Closed"</strong> }.into_any(),
                                        MeetingStatus::Planned if m.ends_at < Utc::now() => view! { <strong class="nhsuk-tag nhsuk-tag--grey">"Held"</strong> }.into_any(),
                                        MeetingStatus::Planned => view! { <strong class="nhsuk-tag nhsuk-tag--blue">"Planned"</strong> }.into_any(),
                                    }}
                                </td>
                                <td role="cell" class="nhsuk-table__cell mdt-actions">
                                    <Show when=move || may_change.get() && !closed>
                                    <button type="button" class="mdt-link-button" on:click=move |_| editing.set(Some((id, false)))>
                                        "Change"<span class="nhsuk-u-visually-hidden">{format!(" meeting on {}", uk_time::format_uk(m.starts_at))}</span>
                                    </button>
                                    {
                                        let (m1, m2) = (m1.clone(), m2.clone());
                                        if cancelled {
                                            view! { <button type="button" class="mdt-link-button" on:click=move |_| set_status(id, m1.clone(), MeetingStatus::Planned)>"Reinstate"</button> }.into_any()
                                        } else if !has_started {
                                            view! { <button type="button" class="mdt-link-button" on:click=move |_| set_status(id, m2.clone(), MeetingStatus::Cancelled)>"Cancel meeting"</button> }.into_any()
                                        } else {
                                            // A meeting that has started was held (or is
                                            // being): concluded, never cancelled afterwards.
                                            ().into_any()
                                        }
                                    }
                                    </Show>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        }
    };
    view! {
        <h2 id="meetings">"Meetings"</h2>
        {move || {
            let list = series();
            (!list.is_empty()).then(|| view! {
                <ul class="nhsuk-list" data-testid="series-list">
                    {list.into_iter().map(|(id, s)| {
                        let what = format!("{} at {}", s.rule.describe(), s.starts.format("%H:%M"));
                        view! {
                            <li>
                                {format!("Series: {what}, from {}{} ", uk_time::format_date(s.first_date),
                                    s.until.map(|u| format!(" until {}", uk_time::format_date(u))).unwrap_or_default())}
                                <a href=api::series_calendar_url(id) download="">"Add the series to your calendar"</a>
                                <Show when=move || may_change.get()>
                                " · "
                                <button type="button" class="mdt-link-button" aria-expanded=move || (editing_series.get() == Some(id)).to_string()
                                    on:click=move |_| editing_series.update(|e| *e = if *e == Some(id) { None } else { Some(id) })>
                                    "Change series"<span class="nhsuk-u-visually-hidden">{format!(" {what}")}</span>
                                </button>
                                </Show>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            })
        }}
        {move || editing_series.get().map(|id| view! {
            <SeriesEditor series_id=id on_done=Callback::new(move |_| editing_series.set(None))/>
        })}
        <p class="nhsuk-body-s">"All times are UK time (GMT or BST)."</p>
        {move || {
            let (coming, past) = views::team::coming_and_past(meetings(), Utc::now());
            let past_count = past.len();
            view! {
                {if coming.is_empty() {
                    view! { <p class="nhsuk-body" data-testid="no-meetings">"No meetings planned yet."</p> }.into_any()
                } else {
                    meeting_table(coming, "meeting-list", "Meetings of this team, today and to come").into_any()
                }}
                // Held meetings are the team's record: there when wanted, behind one line, so
                // a year of them never pushes what is next down the page.
                {(past_count > 0).then(|| view! {
                    <details class="nhsuk-details" data-testid="past-meetings">
                        <summary class="nhsuk-details__summary">
                            <span class="nhsuk-details__summary-text">{format!("Past meetings ({past_count}), newest first")}</span>
                        </summary>
                        <div class="nhsuk-details__text">
                            {meeting_table(past, "past-meeting-list", "Past meetings of this team")}
                        </div>
                    </details>
                })}
            }
        }}
        {move || match editing.get() {
            None if !may_change.get() => ().into_any(),
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

/// How many of a series' coming meetings the editor lists.
const SERIES_EDITOR_MEETINGS: usize = 12;

/// Change a series: skip or move one of its meetings, give it an end date, or cancel it. Each
/// change bumps the series' calendar sequence and changes the meetings already planned.
#[component]
fn SeriesEditor(series_id: Uuid, on_done: Callback<()>) -> impl IntoView {
    let sync = expect_context::<SyncClient>();
    let series = Memo::new(move |_| sync.entity::<Series>(series_id));
    let error = RwSignal::new(None::<ValidationError>);
    let err = Signal::derive(move || error.get());
    let notice = RwSignal::new(None::<String>);
    let change = move |edit: &dyn Fn(&mut Series), done: &str| {
        let Some(mut s) = series.get_untracked() else {
            return;
        };
        edit(&mut s);
        match sync.change_series(series_id, s) {
            Ok(n) => {
                error.set(None);
                notice.set(Some(match n {
                    0 => done.to_string(),
                    1 => format!("{done} 1 planned meeting changed."),
                    n => format!("{done} {n} planned meetings changed."),
                }));
            }
            Err(e) => {
                notice.set(None);
                error.set(Some(e));
            }
        }
    };
    // The next meetings under the rule, whatever has become of them: (date, now at).
    let coming = move || {
        series.with(|s| {
            let Some(s) = s else { return Vec::new() };
            let today = uk_time::uk_today(Utc::now());
            let to = s.until.unwrap_or(today + Duration::weeks(104));
            s.rule
                .dates(s.first_date, to, crate::core::schedule::MAX_OCCURRENCES)
                .into_iter()
                .filter(|d| *d >= today)
                .take(SERIES_EDITOR_MEETINGS)
                .map(|d| (d, s.planned_start(d)))
                .collect::<Vec<_>>()
        })
    };
    let moving = RwSignal::new(None::<NaiveDate>);
    let move_date = RwSignal::new(String::new());
    let move_time = RwSignal::new(String::new());
    let until = RwSignal::new(
        series
            .get_untracked()
            .and_then(|s| s.until)
            .map(|u| u.format("%Y-%m-%d").to_string())
            .unwrap_or_default(),
    );
    let save_move = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(original) = moving.get_untracked() else {
            return;
        };
        let at = NaiveDate::parse_from_str(move_date.get_untracked().trim(), "%Y-%m-%d")
            .map_err(|_| ValidationError::field("move-date", "Enter the new date"))
            .and_then(|d| {
                NaiveTime::parse_from_str(move_time.get_untracked().trim(), "%H:%M")
                    .map(|t| d.and_time(t))
                    .map_err(|_| {
                        ValidationError::field("move-time", "Enter the new time, like 13:00")
                    })
            });
        match at {
            Ok(at) => {
                change(
                    &|s| {
                        s.exceptions.retain(|e| e.date != original);
                        s.exceptions.push(SeriesException {
                            date: original,
                            moved_to: Some(at),
                        });
                    },
                    &format!(
                        "The meeting of {} is moved.",
                        uk_time::format_date(original)
                    ),
                );
                if error.get_untracked().is_none() {
                    moving.set(None);
                }
            }
            Err(e) => error.set(Some(e)),
        }
    };
    let save_until = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = until.get_untracked();
        let date = if text.trim().is_empty() {
            Ok(None)
        } else {
            NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
                .map(Some)
                .map_err(|_| ValidationError::field("until", "Enter the date of the last meeting"))
        };
        match date {
            Ok(d) => change(
                &|s| s.until = d,
                &match d {
                    Some(d) => format!("The series ends on {}.", uk_time::format_date(d)),
                    None => "The series has no end date.".to_string(),
                },
            ),
            Err(e) => error.set(Some(e)),
        }
    };
    let cancel_series = move |_| {
        let ok = web_sys::window()
            .and_then(|w| {
                w.confirm_with_message("Cancel the whole series? Its coming meetings are cancelled and calendars are told.")
                    .ok()
            })
            .unwrap_or(false);
        if ok {
            change(&|s| s.cancelled = true, "The series is cancelled.");
            if error.get_untracked().is_none() {
                on_done.run(());
            }
        }
    };
    view! {
        <section class="mdt-panel" data-testid="series-editor" aria-labelledby="series-editor-title">
            <h3 id="series-editor-title">{move || series.get().map(|s| format!("Change the series: {} at {}", s.rule.describe(), s.starts.format("%H:%M"))).unwrap_or_default()}</h3>
            <ErrorSummary error=err id_prefix="series"/>
            {move || notice.get().map(|n| view! { <div class="nhsuk-inset-text" role="status"><p>{n}</p></div> })}
            <p class="nhsuk-body-s">"Changes go into everyone's calendar when they download the series again."</p>
            <table class="nhsuk-table-responsive" id="series-exceptions" tabindex="-1" data-testid="series-meetings">
                <caption class="nhsuk-table__caption nhsuk-table__caption--s">"Coming meetings of the series"</caption>
                <thead class="nhsuk-table__head" role="rowgroup"><tr role="row"><th scope="col" role="columnheader">"Under the rule"</th><th scope="col" role="columnheader">"Now"</th><th scope="col" role="columnheader"><span class="nhsuk-u-visually-hidden">"Change"</span></th></tr></thead>
                <tbody class="nhsuk-table__body">
                    {move || coming().into_iter().map(|(date, at)| {
                        let day = uk_time::format_date(date);
                        view! {
                            <tr role="row" class="nhsuk-table__row">
                                <td role="cell" class="nhsuk-table__cell"><span class="nhsuk-table-responsive__heading" aria-hidden="true">"Under the rule "</span>{date.format("%a %-d %b %Y").to_string()}</td>
                                <td role="cell" class="nhsuk-table__cell"><span class="nhsuk-table-responsive__heading" aria-hidden="true">"Now "</span>{match at {
                                    None => view! { <strong class="nhsuk-tag nhsuk-tag--grey">"Skipped"</strong> }.into_any(),
                                    Some(at) if at.date() == date => view! { <span>{at.format("%H:%M").to_string()}</span> }.into_any(),
                                    Some(at) => view! { <span>{format!("Moved to {}", at.format("%a %-d %b, %H:%M"))}</span> }.into_any(),
                                }}</td>
                                <td role="cell" class="nhsuk-table__cell mdt-actions">
                                    {if at.is_none() || at.is_some_and(|a| a.date() != date || a.time() != series.get_untracked().map(|s| s.starts).unwrap_or_default()) {
                                        let day = day.clone();
                                        view! {
                                            <button type="button" class="mdt-link-button"
                                                on:click=move |_| change(&|s| s.exceptions.retain(|e| e.date != date), &format!("The meeting of {day} is back as usual."))>
                                                "Restore"<span class="nhsuk-u-visually-hidden">{format!(" the meeting of {}", uk_time::format_date(date))}</span>
                                            </button>
                                        }.into_any()
                                    } else { ().into_any() }}
                                    {at.is_some().then(|| {
                                        let (day1, day2) = (day.clone(), day.clone());
                                        view! {
                                            <button type="button" class="mdt-link-button"
                                                on:click=move |_| change(&|s| {
                                                    s.exceptions.retain(|e| e.date != date);
                                                    s.exceptions.push(SeriesException { date, moved_to: None });
                                                }, &format!("The meeting of {day1} is skipped."))>
                                                "Skip"<span class="nhsuk-u-visually-hidden">{format!(" the meeting of {day2}")}</span>
                                            </button>
                                            <button type="button" class="mdt-link-button"
                                                on:click=move |_| {
                                                    let at = at.unwrap_or_default();
                                                    move_date.set(at.format("%Y-%m-%d").to_string());
                                                    move_time.set(at.format("%H:%M").to_string());
                                                    moving.set(Some(date));
                                                }>
                                                "Move"<span class="nhsuk-u-visually-hidden">{format!(" the meeting of {day}")}</span>
                                            </button>
                                        }
                                    })}
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            {move || moving.get().map(|original| view! {
                <form on:submit=save_move novalidate class="mdt-panel" data-testid="move-meeting">
                    <h4>{format!("Move the meeting of {}", uk_time::format_date(original))}</h4>
                    <div class="mdt-inline-fields">
                        <TextField id="series-move-date".into() label="New date" value=move_date input_type="date"
                            error=field_error(err, "move-date") width_class="nhsuk-input--width-10"/>
                        <TextField id="series-move-time".into() label="New start (UK time)" value=move_time input_type="time"
                            error=field_error(err, "move-time") width_class="nhsuk-input--width-5"/>
                    </div>
                    <div class="nhsuk-button-group">
                        <button class="nhsuk-button" type="submit">"Move meeting"</button>
                        <button class="nhsuk-button nhsuk-button--secondary" type="button" on:click=move |_| moving.set(None)>"Keep it where it is"</button>
                    </div>
                </form>
            })}
            <form on:submit=save_until novalidate>
                <TextField id="series-until".into() label="Last meeting on or before (optional)" value=until input_type="date"
                    error=field_error(err, "until") width_class="nhsuk-input--width-10" hint="Leave blank for a series with no end date."/>
                <button class="nhsuk-button nhsuk-button--secondary" type="submit">"Save end date"</button>
            </form>
            <div class="nhsuk-button-group">
                <button type="button" class="nhsuk-button nhsuk-button--warning" on:click=cancel_series>"Cancel the whole series"</button>
                <button type="button" class="nhsuk-button nhsuk-button--secondary" on:click=move |_| on_done.run(())>"Close"</button>
            </div>
        </section>
    }
}

/// Plan a new meeting or change one. Defaults come from the team.
#[component]
fn MeetingForm(team_id: Uuid, id: Uuid, is_new: bool, on_done: Callback<()>) -> impl IntoView {
    let sync = expect_context::<SyncClient>();
    let team = untrack(|| sync.entity::<Team>(team_id));
    let (base_version, existing) = untrack(|| sync.edit_base::<Meeting>(id)).unwrap_or((0, None));
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

/// Attendance by role over the team's last six held meetings, against the two-thirds target
/// (`figures`), or only the held meetings whose attendance is still to record (the prompt the
/// meetings page shows after each meeting).
#[component]
pub fn AttendanceByRole(team_id: Uuid, figures: bool) -> impl IntoView {
    let sync = expect_context::<SyncClient>();
    let me = expect_context::<CurrentUser>();
    let summary = Memo::new(move |_| {
        sync.read(|r| views::team::attendance_by_role_of(r, team_id, Utc::now()))
    });
    let coordinating = Memo::new(move |_| {
        sync.entity::<Team>(team_id)
            .is_some_and(|t| t.coordinator_id == me.person_id)
    });
    view! {
        <Show when=move || figures || summary.with(|s| !s.unrecorded.is_empty())>
            <h2 id="attendance-by-role">{if figures { "Attendance by role" } else { "Attendance to record" }}</h2>
            {move || {
                let unrecorded = summary.with(|s| s.unrecorded.clone());
                (!unrecorded.is_empty()).then(|| view! {
                    <div class="nhsuk-inset-text" data-testid="attendance-unrecorded">
                        <p>{if coordinating.get() {
                            "Who came is not recorded for these meetings, so they are left out of the figures. Record it on each meeting's page:"
                        } else {
                            "Who came is not recorded for these meetings, so they are left out of the figures:"
                        }}</p>
                        <ul class="nhsuk-list">
                            {unrecorded.into_iter().map(|(id, starts)| view! {
                                <li><a href=Page::Meeting(id).href()>{format!("Meeting on {}", uk_time::format_uk(starts))}</a></li>
                            }).collect_view()}
                        </ul>
                    </div>
                })
            }}
            {move || summary.with(|s| if !figures {
                ().into_any()
            } else if s.lines.is_empty() {
                view! { <p class="nhsuk-body-s">"No figures yet: no meeting's attendance has been recorded."</p> }.into_any()
            } else {
                let counted = s.meetings_counted;
                view! {
                    <p class="nhsuk-body-s">{format!(
                        "Over the last {} held with attendance recorded. The target is two thirds.",
                        if counted == 1 { "meeting".to_string() } else { format!("{counted} meetings") }
                    )}</p>
                    <table class="nhsuk-table-responsive" data-testid="attendance-by-role">
                        <thead class="nhsuk-table__head" role="rowgroup"><tr role="row">
                            <th scope="col" role="columnheader">"Role"</th><th scope="col" role="columnheader">"Attended"</th><th scope="col" role="columnheader">"Share"</th>
                        </tr></thead>
                        <tbody class="nhsuk-table__body">
                            {s.lines.iter().map(|&views::team::RoleAttendanceLine { role, attended, expected, percent, meets_target: ok }| view! {
                                <tr role="row" class="nhsuk-table__row">
                                    <td role="cell" class="nhsuk-table__cell"><span class="nhsuk-table-responsive__heading" aria-hidden="true">"Role "</span>{role}</td>
                                    <td role="cell" class="nhsuk-table__cell"><span class="nhsuk-table-responsive__heading" aria-hidden="true">"Attended "</span>{format!("{attended} of {expected}")}</td>
                                    <td role="cell" class="nhsuk-table__cell"><span class="nhsuk-table-responsive__heading" aria-hidden="true">"Share "</span>{format!("{percent}%")}{(!ok).then(|| view! { " " <strong class="nhsuk-tag nhsuk-tag--orange">"Below target"</strong> })}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            })}
        </Show>
    }
}
