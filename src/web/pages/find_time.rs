//! Finding protected time: the team's slot finder, and turning a good slot into a meeting or a
//! recurring series.

use std::collections::HashMap;

use chrono::{Datelike, Duration, NaiveTime, Utc};
use leptos::prelude::*;
use leptos::task::spawn_local;
use uuid::Uuid;

use crate::core::calendar::BankHolidays;
use crate::core::entities::{Meeting, MeetingStatus, Team};
use crate::core::schedule::{
    score_series, weekday_index, Recurrence, SlotFinder, SlotOption, SlotQuery,
};
use crate::core::series::Series;
use crate::core::{uk_time, ValidationError};
use crate::web::client::api;
use crate::web::client::sync::SyncClient;
use crate::web::components::team_nav::{TeamNav, TeamOpens};
use crate::web::components::{field_error, ErrorSummary, TextField};
use crate::web::pages::not_found::NotFound;
use crate::web::routes::{use_id, Page};
use crate::web::views::{self, actions::Directory};

/// How many meetings of a new series are put in the calendar straight away.
const SERIES_AHEAD: usize = 6;

/// `/teams/<id>/find-a-time`.
#[component]
pub fn FindTimePage() -> impl IntoView {
    let id = use_id();
    move || match id.get() {
        Some(id) => view! { <TeamOpens team_id=id><FindTime team_id=id/></TeamOpens> }.into_any(),
        None => view! { <NotFound/> }.into_any(),
    }
}

#[component]
fn FindTime(team_id: Uuid) -> impl IntoView {
    let sync = expect_context::<SyncClient>();
    let may_plan = crate::web::components::may_change_team(team_id);
    let done = RwSignal::new(None::<String>);
    let holidays = RwSignal::new(BankHolidays::shipped());
    spawn_local(async move {
        if let Ok(list) = api::bank_holidays().await {
            holidays.set(list);
        }
    });
    let team = Memo::new(move |_| sync.entity::<Team>(team_id));
    let weeks = RwSignal::new("6".to_string());
    let earliest = RwSignal::new("08:00".to_string());
    let latest = RwSignal::new("18:00".to_string());
    let minutes = RwSignal::new(String::new());
    let coordinator_must = RwSignal::new(true);
    let error = RwSignal::new(None::<ValidationError>);
    let err = Signal::derive(move || error.get());
    let results = RwSignal::new(None::<(SlotQuery, Vec<SlotOption>)>);
    let names = Memo::new(move |_| sync.read(Directory::people_names));
    // People whose clinics Find a time cannot know: nothing recorded.
    let unknown = Memo::new(move |_| {
        sync.read(|r| views::team::members_of(r, team_id, uk_time::uk_today(Utc::now())))
            .into_iter()
            .filter(|m| m.commitments == 0 && m.absences == 0)
            .map(|m| m.name)
            .collect::<Vec<_>>()
    });

    let find = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(team) = team.get_untracked() else {
            return;
        };
        let time = |s: String, field: &str| {
            NaiveTime::parse_from_str(s.trim(), "%H:%M")
                .map_err(|_| ValidationError::field(field, "Enter the time like 08:00"))
        };
        let number = |s: String, field: &str, what: &str| {
            s.trim().parse::<u32>().map_err(|_| {
                ValidationError::field(field, format!("Enter {what} as a whole number"))
            })
        };
        let minutes_text = if minutes.get_untracked().trim().is_empty() {
            team.default_minutes.to_string()
        } else {
            minutes.get_untracked()
        };
        let parsed = (|| {
            Ok::<_, ValidationError>((
                number(weeks.get_untracked(), "weeks", "the number of weeks")?.clamp(1, 26),
                time(earliest.get_untracked(), "earliest")?,
                time(latest.get_untracked(), "latest")?,
                number(minutes_text, "minutes", "the meeting length")?,
            ))
        })();
        let (weeks_n, from, to, length) = match parsed {
            Ok(p) => p,
            Err(e) => {
                error.set(Some(e));
                return;
            }
        };
        let must = coordinator_must.get_untracked();
        let people = untrack(|| sync.read(|r| views::team::candidates(r, &team, must)));
        let first_day = uk_time::uk_today(Utc::now()) + Duration::days(1);
        let booked = untrack(|| {
            sync.read(|r| {
                views::team::booked_times(
                    r,
                    team_id,
                    first_day,
                    first_day + Duration::weeks(i64::from(weeks_n)),
                )
            })
        });
        let query = SlotQuery {
            first_day,
            weeks: weeks_n,
            weekdays: vec![0, 1, 2, 3, 4],
            earliest: from,
            latest: to,
            minutes: length,
            step_minutes: 15,
            quorum: team.quorum(),
            people,
            booked,
        };
        // The best time on each of the ten best days: a choice of days, not ten starts on one.
        // Only times the quorum can come are "best" while there are any; the nearest misses
        // are offered, said as such, only when no time fits (issue 29).
        let mut days = std::collections::HashSet::new();
        let ranked: Vec<SlotOption> = holidays
            .with_untracked(|h| SlotFinder::new(&query, h).find(400))
            .into_iter()
            .filter(|o| days.insert(o.date))
            .collect();
        let any_quorum = ranked.iter().any(|o| o.quorum_met);
        let options: Vec<SlotOption> = ranked
            .into_iter()
            .filter(|o| o.quorum_met || !any_quorum)
            .take(if any_quorum { 10 } else { 3 })
            .collect();
        error.set(None);
        results.set(Some((query, options)));
    };

    let plan = Callback::new(move |(option, rule): (SlotOption, Option<Recurrence>)| {
        done.set(None);
        let Some(team) = team.get_untracked() else {
            return;
        };
        let meeting_for =
            |date: chrono::NaiveDate, starts: NaiveTime| -> Result<Meeting, ValidationError> {
                let starts_at = uk_time::from_uk(date.and_time(starts))
                    .map_err(|e| ValidationError::record(e.to_string()))?;
                Ok(Meeting {
                    team_id,
                    starts_at,
                    ends_at: starts_at + Duration::minutes(i64::from(option_minutes(&option))),
                    place: team.place.clone(),
                    video_link: team.video_link.clone(),
                    status: MeetingStatus::Planned,
                })
            };
        let result = match rule {
            None => {
                meeting_for(option.date, option.starts).and_then(|m| sync.save(Uuid::new_v4(), &m))
            }
            Some(rule) => {
                let series_id = Uuid::new_v4();
                let series = Series {
                    team_id,
                    rule,
                    first_date: option.date,
                    starts: option.starts,
                    minutes: option_minutes(&option),
                    until: None,
                    exceptions: vec![],
                    place: team.place.clone(),
                    video_link: team.video_link.clone(),
                    sequence: 0,
                    cancelled: false,
                };
                let meetings: Result<Vec<(Uuid, Meeting)>, ValidationError> = series
                    .occurrences(option.date, option.date + Duration::weeks(60))
                    .into_iter()
                    .take(SERIES_AHEAD)
                    .map(|o| {
                        meeting_for(o.starts.date(), o.starts.time())
                            .map(|m| (Series::meeting_id(series_id, o.original), m))
                    })
                    .collect();
                meetings.and_then(|ms| {
                    sync.save(series_id, &series)
                        .and_then(|_| sync.save_all(&ms))
                })
            }
        };
        match result {
            Ok(()) => {
                results.set(None);
                error.set(None);
                done.set(Some(match rule {
                    None => "The meeting is planned.".to_string(),
                    Some(_) => format!(
                        "The series is set up and its next {SERIES_AHEAD} meetings are planned."
                    ),
                }));
            }
            Err(e) => error.set(Some(e)),
        }
    });
    let names = Signal::derive(move || names.get());

    view! {
        <a class="nhsuk-back-link" href=Page::Team(team_id).href()>"Back to the team"</a>
        <h1>{move || format!("Find a time: {}", team.get().map(|t| t.name).unwrap_or_default())}</h1>
        <TeamNav team_id=team_id current=Page::FindTime(team_id)/>
        <p class="nhsuk-body">"Looks at everyone's regular commitments and days away and the team's own meetings, skips bank holidays, and ranks times by whether the roles the team needs can all come, then by how many people can."</p>
        {move || {
            let names = unknown.get();
            (!names.is_empty()).then(|| view! {
                <div class="nhsuk-inset-text" data-testid="nothing-recorded">
                    <p>{format!("Nothing is recorded for {}, so every time looks free for them. People who sign in record their own clinics and days away under My availability; the coordinator records them for anyone who cannot, ", names.join(", "))}
                    <a href=Page::TeamPeople(team_id).href()>"on the team's People page"</a>"."</p>
                </div>
            })
        }}
        <ErrorSummary error=err id_prefix="find"/>
        {move || done.get().map(|d| view! {
            <div class="nhsuk-inset-text" role="status" data-testid="planned">
                <p>{d}" "<a href=Page::Team(team_id).href()>"See the team's meetings"</a></p>
            </div>
        })}
        <form class="mdt-panel" on:submit=find novalidate>
            <div class="mdt-inline-fields">
                <TextField id="find-weeks".into() label="Weeks ahead" value=weeks error=field_error(err, "weeks") width_class="nhsuk-input--width-3"/>
                <TextField id="find-earliest".into() label="Not before" value=earliest input_type="time" error=field_error(err, "earliest") width_class="nhsuk-input--width-10"/>
                <TextField id="find-latest".into() label="Finished by" value=latest input_type="time" error=field_error(err, "latest") width_class="nhsuk-input--width-10"/>
                <TextField id="find-minutes".into() label="Length (minutes)" value=minutes error=field_error(err, "minutes") width_class="nhsuk-input--width-4"
                    hint="Blank: the team's usual length"/>
            </div>
            <div class="nhsuk-checkboxes nhsuk-form-group">
                <div class="nhsuk-checkboxes__item">
                    <input class="nhsuk-checkboxes__input" id="find-coordinator" type="checkbox"
                        prop:checked=move || coordinator_must.get() on:change=move |ev| coordinator_must.set(event_target_checked(&ev))/>
                    <label class="nhsuk-label nhsuk-checkboxes__label" for="find-coordinator">"The coordinator must be free"</label>
                </div>
            </div>
            <button class="nhsuk-button" type="submit">"Find times"</button>
        </form>
        {move || results.get().map(|(query, options)| {
            if options.is_empty() {
                return view! { <p class="nhsuk-body">"No times fit. Try more weeks or a wider time of day."</p> }.into_any();
            }
            let query = std::sync::Arc::new(query);
            let grid_query = query.clone();
            view! {
                <h2>"Best times"</h2>
                {(!options.iter().any(|o| o.quorum_met)).then(|| view! {
                    <div class="nhsuk-warning-callout" data-testid="no-quorum-anywhere">
                        <h3 class="nhsuk-warning-callout__label">"No time lets every role the team needs come"</h3>
                        <p>"These come closest. Try more weeks, a wider time of day, or ask who could deputise."</p>
                    </div>
                })}
                // The three best lead; the other days wait behind one line (ten cards of
                // buttons made the page 5,000 px long, issue 29).
                <ol class="mdt-card-list" data-testid="slot-options">
                    {options.iter().take(BEST_SHOWN).enumerate().map(|(n, option)| view! {
                        <SlotCard number=Some(n + 1) option=option.clone() query=query.clone() holidays=holidays names=names plan=plan may_plan=may_plan/>
                    }).collect_view()}
                </ol>
                {(options.len() > BEST_SHOWN).then(|| view! {
                    <details class="nhsuk-details" data-testid="more-slot-options">
                        <summary class="nhsuk-details__summary">
                            <span class="nhsuk-details__summary-text">{format!("{} more times, on other days", options.len() - BEST_SHOWN)}</span>
                        </summary>
                        <div class="nhsuk-details__text">
                            <ol class="mdt-card-list" start=(BEST_SHOWN + 1).to_string()>
                                {options.iter().enumerate().skip(BEST_SHOWN).map(|(n, option)| view! {
                                    <SlotCard number=Some(n + 1) option=option.clone() query=query.clone() holidays=holidays names=names plan=plan may_plan=may_plan/>
                                }).collect_view()}
                            </ol>
                        </div>
                    </details>
                })}
                <WeekAtAGlance query=grid_query holidays=holidays names=names plan=plan may_plan=may_plan/>
            }.into_any()
        })}
    }
}

/// One candidate time: who can come, who cannot and why, how well the same time repeats, and
/// the buttons that plan it once, weekly or monthly.
#[component]
fn SlotCard(
    /// Its place in the ranking, when it came from the ranked list.
    number: Option<usize>,
    option: SlotOption,
    query: std::sync::Arc<SlotQuery>,
    holidays: RwSignal<BankHolidays>,
    names: Signal<HashMap<Uuid, String>>,
    plan: Callback<(SlotOption, Option<Recurrence>)>,
    /// False for the team's observers, who may look but not plan.
    may_plan: Signal<bool>,
) -> impl IntoView {
    let name =
        move |id: Uuid| names.with(|n| n.get(&id).cloned().unwrap_or_else(|| "someone".into()));
    let weekly = Recurrence::Weekly {
        interval: 1,
        weekday: weekday_index(option.date.weekday()),
    };
    // Only monthly rules that fit the date: a 5th Monday is "the last Monday", never "the 4th".
    let monthly = Recurrence::monthly_rules_on(option.date);
    let monthly_words = monthly
        .iter()
        .map(|rule| rule.describe())
        .collect::<Vec<_>>()
        .join(" or ");
    let (weeks_total, weeks_ok) =
        holidays.with_untracked(|h| score_series(&query, h, weekly, option.date, option.starts));
    let free: Vec<String> = option.free.iter().map(|p| name(*p)).collect();
    let clashes: Vec<String> = option
        .clashes
        .iter()
        .map(|(p, what)| format!("{} ({what})", name(*p)))
        .collect();
    let (o1, o2, o3) = (option.clone(), option.clone(), option.clone());
    let when = format!(
        "{}, {}–{}",
        option.date.format("%a %-d %b %Y"),
        option.starts.format("%H:%M"),
        option.ends.format("%H:%M")
    );
    view! {
        <li data-testid="slot-option">
            <h3 class="nhsuk-heading-s">{match number { Some(n) => format!("{n}. {when}"), None => when }}
                " "{if option.quorum_met {
                    view! { <strong class="nhsuk-tag nhsuk-tag--green">"Quorum met"</strong> }.into_any()
                } else {
                    view! { <strong class="nhsuk-tag nhsuk-tag--red">"No quorum"</strong> }.into_any()
                }}
            </h3>
            <p class="nhsuk-body-s">{format!("Every week at this time meets quorum on {weeks_ok} of the {weeks_total} weeks in the window. Monthly, it would be {monthly_words}.")}</p>
            {option.team_meeting.then(|| view! { <p class="nhsuk-body-s"><strong>"The team already meets at this time."</strong></p> })}
            <p class="nhsuk-body-s"><strong>"Free: "</strong>{if free.is_empty() { "nobody".to_string() } else { free.join(", ") }}</p>
            {(!clashes.is_empty()).then(|| view! { <p class="nhsuk-body-s"><strong>"Can't: "</strong>{clashes.join(", ")}</p> })}
            {move || may_plan.get().then(|| {
                let (o1, o2) = (o1.clone(), o2.clone());
                view! {
                    <div class="nhsuk-button-group">
                        <button type="button" class="nhsuk-button nhsuk-button--secondary" on:click=move |_| plan.run((o1.clone(), None))>"Plan this meeting"</button>
                        <button type="button" class="nhsuk-button nhsuk-button--secondary" on:click=move |_| plan.run((o2.clone(), Some(weekly)))>"Every week at this time"</button>
                        {monthly.iter().map(|rule| {
                            let (option, rule) = (o3.clone(), *rule);
                            view! {
                                <button type="button" class="nhsuk-button nhsuk-button--secondary" on:click=move |_| plan.run((option.clone(), Some(rule)))>{format!("Monthly: {}", rule.describe())}</button>
                            }
                        }).collect_view()}
                    </div>
                }
            })}
        </li>
    }
}

/// How many of the best times are shown before "more times".
const BEST_SHOWN: usize = 3;

/// Minutes between the rows of the week grid.
const GRID_ROW_MINUTES: u32 = 30;

/// The week grid: for each half hour of each weekday in the window, how many people are free
/// and whether the quorum holds. Choosing a cell shows who is free and lets the coordinator
/// plan that time.
#[component]
fn WeekAtAGlance(
    query: std::sync::Arc<SlotQuery>,
    holidays: RwSignal<BankHolidays>,
    names: Signal<HashMap<Uuid, String>>,
    plan: Callback<(SlotOption, Option<Recurrence>)>,
    /// False for the team's observers, who may look but not plan.
    may_plan: Signal<bool>,
) -> impl IntoView {
    // Opens on the first week with a day to choose (never a week of dashes).
    let week = RwSignal::new(holidays.with_untracked(|h| query.first_open_week(h)));
    let chosen = RwSignal::new(None::<SlotOption>);
    let first_monday = query.first_monday();
    let last_week = query.grid_weeks().saturating_sub(1);
    let grid_query = query.clone();
    let grid = Memo::new(move |_| {
        let monday = first_monday + Duration::weeks(i64::from(week.get()));
        holidays.with(|h| SlotFinder::new(&grid_query, h).week(monday, GRID_ROW_MINUTES))
    });
    let people = query.people.len();
    let first_day = query.first_day;
    view! {
        <h2 id="week-grid-title">"Week at a glance"</h2>
        <p class="nhsuk-body-s">"How many of the team are free for a meeting starting at each time. Green: the quorum can come. MDT: the team already meets then. Choose a time to see who."</p>
        <div class="nhsuk-button-group">
            <button type="button" class="nhsuk-button nhsuk-button--secondary" disabled=move || week.get() == 0
                on:click=move |_| { week.update(|w| *w = w.saturating_sub(1)); chosen.set(None); }>"Previous week"</button>
            <button type="button" class="nhsuk-button nhsuk-button--secondary" disabled={move || week.get() >= last_week}
                on:click=move |_| { week.update(|w| *w = (*w + 1).min(last_week)); chosen.set(None); }>"Next week"</button>
        </div>
        <div class="mdt-week-grid" data-testid="week-grid">
            <table class="nhsuk-table" aria-labelledby="week-grid-title">
                <caption class="nhsuk-table__caption nhsuk-table__caption--s">
                    {move || grid.with(|g| g.days.first().map(|d| format!("Week of {}", d.date.format("%-d %B %Y"))).unwrap_or_default())}
                </caption>
                <thead><tr>
                    <th scope="col">"Starts"</th>
                    {move || grid.with(|g| g.days.iter().map(|d| {
                        let label = format!("{}{}", d.date.format("%a %-d %b"), if d.bank_holiday { " (bank holiday)" } else { "" });
                        view! { <th scope="col">{label}</th> }
                    }).collect_view())}
                </tr></thead>
                <tbody>
                    {move || grid.with(|g| g.starts.iter().enumerate().map(|(row, time)| view! {
                        <tr>
                            <th scope="row">{time.format("%H:%M").to_string()}</th>
                            {g.days.iter().map(|day| {
                                let slot = day.slots[row].clone();
                                if day.date < first_day || day.bank_holiday {
                                    return view! { <td class="mdt-week-grid__closed">"–"</td> }.into_any();
                                }
                                let free = slot.free.len();
                                // The visible "3/5" starts the button's name (WCAG 2.5.3); the
                                // rest is for screen readers, who do not see the row and column.
                                let said = format!(" free, {} {}{}", slot.date.format("%A %-d %B"), slot.starts.format("%H:%M"),
                                    if slot.team_meeting { ", the team already meets" } else if slot.quorum_met { ", quorum met" } else { ", no quorum" });
                                let ok = slot.quorum_met;
                                let booked = slot.team_meeting;
                                let selected = {
                                    let slot = slot.clone();
                                    move || chosen.with(|c| c.as_ref().is_some_and(|c| c.date == slot.date && c.starts == slot.starts))
                                };
                                view! {
                                    <td class:mdt-week-grid__quorum=ok class:mdt-week-grid__booked=booked>
                                        <button type="button" class="mdt-week-grid__cell" aria-pressed=move || selected().to_string()
                                            on:click=move |_| chosen.set(Some(slot.clone()))>
                                            {format!("{free}/{people}")}{booked.then_some(" MDT")}
                                            <span class="nhsuk-u-visually-hidden">{said}</span>
                                        </button>
                                    </td>
                                }.into_any()
                            }).collect_view()}
                        </tr>
                    }).collect_view())}
                </tbody>
            </table>
        </div>
        {move || chosen.get().map(|slot| view! {
            <ul class="mdt-card-list" data-testid="chosen-slot" aria-live="polite">
                <SlotCard number=None option=slot query=query.clone() holidays=holidays names=names plan=plan may_plan=may_plan/>
            </ul>
        })}
    }
}

fn option_minutes(option: &SlotOption) -> u32 {
    (option.ends - option.starts).num_minutes().max(0) as u32
}
