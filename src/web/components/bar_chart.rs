//! A horizontal bar chart drawn as SVG by the app: one row per period (or role), a bar per
//! series, the value written beside each bar and an optional target line. Bars are placed in
//! percentages of the width, so text keeps its size from a phone to a desktop. The chart is an
//! image summarised in words (`label`); the figures themselves are in the table beside it.

use leptos::prelude::*;

use crate::web::views::measures::Chart;

/// Where the label column ends and the bars begin, and how wide a full bar is, in hundredths of
/// a percent of the width (whole numbers throughout: no floating point in the page).
const BARS_FROM: u64 = 3600;
const BARS_SPAN: u64 = 4600;
/// Heights in pixels.
const BAR_HEIGHT: u64 = 16;
const BAR_GAP: u64 = 4;
const ROW_GAP: u64 = 12;
const TOP: u64 = 24;

/// The x of `value` (in hundredths of a percent of the width) on a chart whose full bar is
/// `max`.
fn x_of(value: u64, max: u64) -> u64 {
    BARS_FROM + (BARS_SPAN * value.min(max)).checked_div(max).unwrap_or(0)
}

/// Hundredths of a percent as an SVG length: 3450 is "34.50%".
fn percent(hundredths: u64) -> String {
    format!("{}.{:02}%", hundredths / 100, hundredths % 100)
}

/// The chart of `chart`.
#[component]
pub fn BarChart(chart: Chart) -> impl IntoView {
    let series = chart.series.len().max(1) as u64;
    let row_height = series * (BAR_HEIGHT + BAR_GAP) + ROW_GAP;
    let height = TOP + row_height * chart.rows.len() as u64;
    let max = chart.max;
    let legend = (chart.series.len() > 1).then(|| {
        view! {
            <ul class="mdt-chart__legend">
                {chart.series.iter().map(|s| view! {
                    <li><span class=format!("mdt-chart__swatch mdt-chart__bar--{}", s.class) aria-hidden="true"></span>{s.name}</li>
                }).collect_view()}
            </ul>
        }
    });
    let target = chart.target.map(|(value, text)| {
        let x = percent(x_of(value, max));
        view! {
            <line class="mdt-chart__target" x1=x.clone() x2=x.clone() y1="18" y2=format!("{height}")></line>
            <text class="mdt-chart__target-label" x=x y="14" text-anchor="middle">{text}</text>
        }
    });
    let rows = chart
        .rows
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let y = TOP + row_height * i as u64;
            let bars = row
                .values
                .iter()
                .zip(&row.texts)
                .zip(&chart.series)
                .enumerate()
                .map(|(j, ((value, text), s))| {
                    let top = y + j as u64 * (BAR_HEIGHT + BAR_GAP);
                    let end = value.map_or(BARS_FROM, |v| x_of(v, max));
                    view! {
                        <rect class=format!("mdt-chart__bar mdt-chart__bar--{}", s.class)
                            x=percent(BARS_FROM) y=format!("{top}")
                            width=percent(end - BARS_FROM) height=format!("{BAR_HEIGHT}")></rect>
                        <text class="mdt-chart__value" x=percent(end + 100) y=format!("{}", top + BAR_HEIGHT - 3)>{text.clone()}</text>
                    }
                })
                .collect_view();
            view! {
                <text class="mdt-chart__label" x="0" y=format!("{}", y + BAR_HEIGHT - 3)>{row.label.clone()}</text>
                {bars}
            }
        })
        .collect_view();
    view! {
        {legend}
        <svg class="mdt-chart" role="img" aria-label=chart.summary.clone() width="100%" height=format!("{height}")
            data-testid=format!("chart-{}", chart.id)>
            <line class="mdt-chart__axis" x1=percent(BARS_FROM) x2=percent(BARS_FROM) y1="18" y2=format!("{height}")></line>
            {rows}
            {target}
        </svg>
    }
}
