//! `/teams/<id>/measures`: the team's measures by month or quarter over any range (twelve
//! months by default), worked out by the server over the whole history: a chart, a sentence and
//! a table for each measure, what waits now, and the same figures as a CSV file. Online only,
//! and saying so.

use chrono::Utc;
use leptos::prelude::*;
use leptos::task::spawn_local;
use uuid::Uuid;

use crate::core::measures::{date_from_parts, MeasuresQuery, TeamMeasures};
use crate::core::uk_time;
use crate::core::ValidationError;
use crate::web::client::api::{self, ApiError};
use crate::web::components::bar_chart::BarChart;
use crate::web::components::data_table::DataTable;
use crate::web::components::team_nav::{TeamHeader, TeamOpens};
use crate::web::components::{field_error, DateInput, ErrorSummary};
use crate::web::pages::not_found::NotFound;
use crate::web::routes::{use_id, Page};
use crate::web::views::measures::charts;

/// `/teams/<id>/measures`.
#[component]
pub fn TeamMeasuresPage() -> impl IntoView {
    let id = use_id();
    move || match id.get() {
        Some(id) => {
            view! { <TeamOpens team_id=id><TeamMeasures team_id=id/></TeamOpens> }.into_any()
        }
        None => view! { <NotFound/> }.into_any(),
    }
}

/// What the page knows of the figures.
#[derive(Clone, PartialEq)]
enum Figures {
    Loading,
    Shown(Box<TeamMeasures>),
    Failed(String),
}

/// The error in words for this page: the measures need the server.
fn failure(error: ApiError) -> String {
    match error {
        ApiError::Unreachable => "The measures are worked out by the server from the team's whole history, so they need a connection. Try again when you are back online.".into(),
        other => other.to_string(),
    }
}

#[component]
fn TeamMeasures(team_id: Uuid) -> impl IntoView {
    let figures = RwSignal::new(Figures::Loading);
    let shown_query = RwSignal::new(MeasuresQuery::default());
    let load = move |query: MeasuresQuery| {
        figures.set(Figures::Loading);
        shown_query.set(query.clone());
        spawn_local(async move {
            let answer = match api::team_measures(team_id, &query).await {
                Ok(m) => Figures::Shown(Box::new(m)),
                Err(e) => Figures::Failed(failure(e)),
            };
            let _ = figures.try_set(answer);
        });
    };
    load(MeasuresQuery::default());

    let parts = || {
        (
            RwSignal::new(String::new()),
            RwSignal::new(String::new()),
            RwSignal::new(String::new()),
        )
    };
    let (from_day, from_month, from_year) = parts();
    let (to_day, to_month, to_year) = parts();
    let by_quarter = RwSignal::new(false);
    let error = RwSignal::new(None::<ValidationError>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let read = || -> Result<MeasuresQuery, ValidationError> {
            let from = date_from_parts(
                "from",
                "The start of the range",
                &from_day.get_untracked(),
                &from_month.get_untracked(),
                &from_year.get_untracked(),
            )?;
            let to = date_from_parts(
                "to",
                "The end of the range",
                &to_day.get_untracked(),
                &to_month.get_untracked(),
                &to_year.get_untracked(),
            )?;
            let query = MeasuresQuery {
                from,
                to,
                by: Some(
                    if by_quarter.get_untracked() {
                        "quarter"
                    } else {
                        "month"
                    }
                    .into(),
                ),
            };
            // The same checks the server makes, before asking it.
            query.resolve(uk_time::uk_today(Utc::now()))?;
            Ok(query)
        };
        match read() {
            Ok(query) => {
                error.set(None);
                load(query);
            }
            Err(e) => error.set(Some(e)),
        }
    };
    let error_signal = Signal::from(error);

    view! {
        <TeamHeader team_id=team_id current=Page::TeamMeasures(team_id)/>
        <h2>"Measures"</h2>
        <p class="nhsuk-body">"How the team's meetings are going over time, worked out from everything the team has recorded. Counts only: no patient is named."</p>
        <ErrorSummary error=error_signal id_prefix="measures"/>
        <form class="mdt-measures-form" on:submit=submit novalidate>
            <DateInput id="measures-from".into() legend="From" day=from_day month=from_month year=from_year
                hint="Leave blank for twelve months before the end. For example, 1 4 2026"
                error=field_error(error_signal, "from")/>
            <DateInput id="measures-to".into() legend="To" day=to_day month=to_month year=to_year
                hint="Leave blank for today"
                error=field_error(error_signal, "to")/>
            <div class="nhsuk-form-group">
                <fieldset class="nhsuk-fieldset">
                    <legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">"Show figures by"</legend>
                    <div class="nhsuk-radios nhsuk-radios--inline">
                        <div class="nhsuk-radios__item">
                            <input class="nhsuk-radios__input" id="measures-by-month" name="measures-by" type="radio"
                                prop:checked=move || !by_quarter.get() on:change=move |_| by_quarter.set(false)/>
                            <label class="nhsuk-label nhsuk-radios__label" for="measures-by-month">"Month"</label>
                        </div>
                        <div class="nhsuk-radios__item">
                            <input class="nhsuk-radios__input" id="measures-by-quarter" name="measures-by" type="radio"
                                prop:checked=move || by_quarter.get() on:change=move |_| by_quarter.set(true)/>
                            <label class="nhsuk-label nhsuk-radios__label" for="measures-by-quarter">"Quarter"</label>
                        </div>
                    </div>
                </fieldset>
            </div>
            <button class="nhsuk-button nhsuk-button--secondary" type="submit">"Show these measures"</button>
        </form>
        <div aria-live="polite">
            {move || match figures.get() {
                Figures::Loading => view! { <p class="nhsuk-body" role="status">"Working out the measures…"</p> }.into_any(),
                Figures::Failed(message) => view! {
                    <div class="nhsuk-warning-callout" data-testid="measures-failed">
                        <h3 class="nhsuk-warning-callout__label">"The measures could not be shown"</h3>
                        <p>{message}</p>
                    </div>
                }.into_any(),
                Figures::Shown(measures) => view! { <Shown measures=*measures team_id=team_id query=shown_query.get_untracked()/> }.into_any(),
            }}
        </div>
    }
}

/// The figures: what waits now, then a section per measure, then the download.
#[component]
fn Shown(measures: TeamMeasures, team_id: Uuid, query: MeasuresQuery) -> impl IntoView {
    let backlog = measures.backlog_summary();
    let range = format!(
        "From {} to {}",
        uk_time::format_date(measures.whole.from),
        uk_time::format_date(measures.whole.to)
    );
    view! {
        <h2 id="measures-now">"Waiting now"</h2>
        <p class="nhsuk-body" data-testid="measures-backlog">{backlog}</p>
        <p class="nhsuk-body-s" data-testid="measures-range">{range}</p>
        {charts(&measures).into_iter().map(|chart| {
            let caption = format!("{}: the figures", chart.title);
            let (headers, rows, id) = (chart.headers.clone(), chart.table.clone(), chart.id);
            let title = chart.title;
            view! {
                <section class="mdt-measure" data-testid=format!("measure-{id}")>
                    <h2 id=format!("measure-{id}")>{chart.title}</h2>
                    <p class="nhsuk-body">{chart.summary.clone()}</p>
                    <BarChart chart=chart/>
                    // The chart and its sentence say it; the figures are a click away (a
                    // year of months under each of five charts made the page 14,000 px tall
                    // on a phone, issue 29).
                    <details class="nhsuk-details mdt-measure__figures">
                        <summary class="nhsuk-details__summary">
                            <span class="nhsuk-details__summary-text">{format!("{title}: the figures as a table")}</span>
                        </summary>
                        <div class="nhsuk-details__text">
                            <DataTable caption=caption headers=headers rows=rows testid=format!("table-{id}")/>
                        </div>
                    </details>
                </section>
            }
        }).collect_view()}
        <p class="nhsuk-body">
            <a href=api::measures_csv_url(team_id, &query) download="" data-testid="measures-csv">"Download these figures (CSV)"</a>
        </p>
    }
}
