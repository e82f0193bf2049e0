//! A team's meetings by month: a week grid on wider screens, a list of the days with meetings on
//! phones; series and bank holidays marked; previous and next month by button (or the Page Up
//! and Page Down keys anywhere on the page).

use chrono::{Datelike, Utc};
use leptos::prelude::*;
use leptos::task::spawn_local;
use uuid::Uuid;

use crate::core::calendar::BankHolidays;
use crate::core::entities::{MeetingStatus, Team};
use crate::core::month::{month_of, months_from, CalendarDay, CalendarMeeting};
use crate::core::uk_time;
use crate::web::client::api;
use crate::web::client::sync::SyncClient;
use crate::web::components::team_nav::{TeamNav, TeamOpens};
use crate::web::pages::not_found::NotFound;
use crate::web::routes::{use_id, Page};
use crate::web::views::team::month_of as team_month;

/// `/teams/<id>/calendar`.
#[component]
pub fn TeamCalendarPage() -> impl IntoView {
    let id = use_id();
    move || match id.get() {
        Some(id) => {
            view! { <TeamOpens team_id=id><TeamCalendar team_id=id/></TeamOpens> }.into_any()
        }
        None => view! { <NotFound/> }.into_any(),
    }
}

const WEEKDAYS: [(&str, &str); 7] = [
    ("Mon", "Monday"),
    ("Tue", "Tuesday"),
    ("Wed", "Wednesday"),
    ("Thu", "Thursday"),
    ("Fri", "Friday"),
    ("Sat", "Saturday"),
    ("Sun", "Sunday"),
];

#[component]
fn TeamCalendar(team_id: Uuid) -> impl IntoView {
    let sync = expect_context::<SyncClient>();
    let today = uk_time::uk_today(Utc::now());
    let month = RwSignal::new(month_of(today));
    let holidays = RwSignal::new(BankHolidays::shipped());
    spawn_local(async move {
        if let Ok(list) = api::bank_holidays().await {
            let _ = holidays.try_set(list);
        }
    });
    let team_name = Memo::new(move |_| {
        sync.entity::<Team>(team_id)
            .map(|t| t.name)
            .unwrap_or_default()
    });
    let grid = Memo::new(move |_| {
        let shown = month.get();
        holidays.with(|h| sync.read(|r| team_month(r, team_id, shown, h, today)))
    });
    let step = move |delta: i32| {
        if let Some(next) = months_from(month.get_untracked(), delta) {
            month.set(next);
        }
    };
    let keys = move |ev: leptos::ev::KeyboardEvent| match ev.key().as_str() {
        "PageUp" => {
            ev.prevent_default();
            step(-1);
        }
        "PageDown" => {
            ev.prevent_default();
            step(1);
        }
        _ => {}
    };
    view! {
        <div on:keydown=keys>
            <a class="nhsuk-back-link" href=Page::Team(team_id).href()>"Back to the team"</a>
            <h1>{move || format!("Calendar: {}", team_name.get())}</h1>
        <TeamNav team_id=team_id current=Page::TeamCalendar(team_id)/>
            <div class="mdt-calendar__nav">
                <button type="button" class="nhsuk-button nhsuk-button--secondary" on:click=move |_| step(-1)>"Previous month"</button>
                <h2 class="mdt-calendar__title" aria-live="polite" data-testid="calendar-month">{move || grid.with(|g| g.title())}</h2>
                <button type="button" class="nhsuk-button nhsuk-button--secondary" on:click=move |_| step(1)>"Next month"</button>
            </div>
            <p class="nhsuk-body">
                {move || grid.with(|g| match g.planned() {
                    0 => "No meetings planned this month.".to_string(),
                    1 => "1 meeting planned this month.".to_string(),
                    n => format!("{n} meetings planned this month."),
                })}
                {move || (month.get() != month_of(today)).then(|| view! {
                    " " <button type="button" class="mdt-link-button" on:click=move |_| month.set(month_of(today))>"Back to this month"</button>
                })}
            </p>
            <table class="nhsuk-table mdt-calendar" data-testid="calendar-grid">
                <caption class="nhsuk-table__caption nhsuk-u-visually-hidden">{move || grid.with(|g| format!("Meetings in {}", g.title()))}</caption>
                <thead class="nhsuk-table__head">
                    <tr>{WEEKDAYS.iter().map(|(short, long)| view! {
                        <th scope="col"><abbr title=*long>{*short}</abbr></th>
                    }).collect_view()}</tr>
                </thead>
                <tbody>
                    {move || grid.with(|g| g.weeks.iter().map(|week| view! {
                        <tr>{week.iter().map(|day| view! { <DayCell day=day.clone()/> }).collect_view()}</tr>
                    }).collect_view())}
                </tbody>
            </table>
            <ul class="nhsuk-list mdt-calendar__list" data-testid="calendar-list">
                {move || grid.with(|g| {
                    let days: Vec<CalendarDay> = g
                        .days()
                        .filter(|d| !d.meetings.is_empty() || d.bank_holiday)
                        .cloned()
                        .collect();
                    if days.is_empty() {
                        return view! { <li>"Nothing this month."</li> }.into_any();
                    }
                    days.into_iter().map(|day| view! {
                        <li>
                            <strong>{day.date.format("%a %-d %b").to_string()}</strong>
                            {day.bank_holiday.then_some(" · bank holiday")}
                            <ul class="nhsuk-list">{day.meetings.into_iter().map(|m| view! { <li><MeetingLink meeting=m/></li> }).collect_view()}</ul>
                        </li>
                    }).collect_view().into_any()
                })}
            </ul>
            <p class="nhsuk-body-s">"Page Up and Page Down show the previous and next month."</p>
        </div>
    }
}

/// One day of the grid.
#[component]
fn DayCell(day: CalendarDay) -> impl IntoView {
    let label = day.date.format("%-d %B").to_string();
    view! {
        <td class="mdt-calendar__day" class:mdt-calendar__day--other=!day.in_month
            class:mdt-calendar__day--today=day.today
            aria-current=day.today.then_some("date")>
            <span class="mdt-calendar__date">
                <span aria-hidden="true">{day.date.day()}</span>
                <span class="nhsuk-u-visually-hidden">{label}</span>
            </span>
            {day.bank_holiday.then(|| view! { <span class="mdt-calendar__holiday">"Bank holiday"</span> })}
            {day.meetings.into_iter().map(|m| view! { <MeetingLink meeting=m/> }).collect_view()}
        </td>
    }
}

/// A meeting as a link: its time, and whether it is one of a series, cancelled or concluded.
#[component]
fn MeetingLink(meeting: CalendarMeeting) -> impl IntoView {
    let status = match meeting.status {
        MeetingStatus::Planned => None,
        MeetingStatus::Cancelled => Some("cancelled"),
        MeetingStatus::Closed => Some("concluded"),
    };
    let text = format!(
        "{} meeting{}",
        uk_time::format_uk_time(meeting.starts_at),
        status.map(|s| format!(" ({s})")).unwrap_or_default()
    );
    view! {
        <a class="mdt-calendar__meeting" class:mdt-calendar__meeting--cancelled=meeting.status == MeetingStatus::Cancelled
            href=Page::Meeting(meeting.id).href()>
            {text}
            {meeting.series.map(|rule| view! { <span class="mdt-calendar__series">{format!("Series: {rule}")}</span> })}
        </a>
    }
}
