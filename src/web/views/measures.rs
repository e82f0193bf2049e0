//! The measures page's charts: for each measure a title, its sentence, the bars to draw and the
//! table of the same figures (the table is what a screen reader reads, and what a person checks
//! a bar against).

use chrono::Datelike;

use crate::core::directory::Role;
use crate::core::measures::{tenths, MeasuresLine, TeamMeasures, ATTENDANCE_TARGET_PERCENT};

/// One series of bars (each row has one bar per series).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Series {
    pub name: &'static str,
    /// The CSS modifier that colours it.
    pub class: &'static str,
}

/// One row of a chart: its label and a value per series (`None`: nothing to measure), with the
/// value as written beside the bar. Values are whole numbers in the chart's own unit (a share in
/// hundredths of a percent, days), so drawing needs no floating point (whose formatting code
/// would double the page's download).
#[derive(Debug, Clone, PartialEq)]
pub struct ChartRow {
    pub label: String,
    pub values: Vec<Option<u64>>,
    pub texts: Vec<String>,
}

/// One measure as a chart and a table.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// The section's id (for links and tests).
    pub id: &'static str,
    pub title: &'static str,
    /// The measure in one sentence.
    pub summary: String,
    pub series: Vec<Series>,
    pub rows: Vec<ChartRow>,
    /// The value a full-length bar stands for.
    pub max: u64,
    /// A target drawn across the bars, with its label.
    pub target: Option<(u64, &'static str)>,
    pub headers: Vec<&'static str>,
    pub table: Vec<Vec<String>>,
}

/// "Dec 2025" for a month, "Jan–Mar 2026" for a quarter, "14–31 Jan 2026" for part of a month.
pub fn period_label(line: &MeasuresLine) -> String {
    let (from, to) = (line.from, line.to);
    let whole_month_start = from.day() == 1;
    let ends_month = to.succ_opt().is_none_or(|next| next.day() == 1);
    if from.year() == to.year() && from.month() == to.month() {
        if whole_month_start && ends_month {
            from.format("%b %Y").to_string()
        } else if from == to {
            from.format("%-d %b %Y").to_string()
        } else {
            format!("{}–{}", from.format("%-d"), to.format("%-d %b %Y"))
        }
    } else if from.year() == to.year() {
        format!("{}–{}", from.format("%b"), to.format("%b %Y"))
    } else {
        format!("{}–{}", from.format("%b %Y"), to.format("%b %Y"))
    }
}

const SHARE: Series = Series {
    name: "Share",
    class: "a",
};

/// A whole share of 100 in the charts' unit for shares (hundredths of a percent).
const FULL_SHARE: u64 = 10_000;

fn share_value(p: Option<u32>) -> Option<u64> {
    p.map(|p| u64::from(p) * 100)
}

fn percent_text(p: Option<u32>) -> String {
    p.map_or_else(|| "–".into(), |p| format!("{p}%"))
}

/// A chart of one share per period.
fn share_chart(
    measures: &TeamMeasures,
    id: &'static str,
    title: &'static str,
    summary: String,
    share: impl Fn(&MeasuresLine) -> Option<u32>,
    headers: [&'static str; 3],
    counts: impl Fn(&MeasuresLine) -> (usize, usize),
) -> Chart {
    let rows = measures
        .lines
        .iter()
        .map(|l| ChartRow {
            label: period_label(l),
            values: vec![share_value(share(l))],
            texts: vec![share(l).map_or_else(|| "none".into(), |p| format!("{p}%"))],
        })
        .collect();
    let table = measures
        .lines
        .iter()
        .map(|l| {
            let (whole, part) = counts(l);
            vec![
                period_label(l),
                whole.to_string(),
                part.to_string(),
                percent_text(share(l)),
            ]
        })
        .collect();
    Chart {
        id,
        title,
        summary,
        series: vec![SHARE],
        rows,
        max: FULL_SHARE,
        target: None,
        headers: vec!["Period", headers[0], headers[1], headers[2]],
        table,
    }
}

/// Every chart of the measures page, in the order shown.
pub fn charts(measures: &TeamMeasures) -> Vec<Chart> {
    let concluded = share_chart(
        measures,
        "concluded",
        "Patient items concluded with an outcome",
        measures.concluded_summary(),
        MeasuresLine::concluded_percent,
        ["Patient items", "Concluded", "Share"],
        |l| (l.patient_items, l.concluded),
    );
    let done = share_chart(
        measures,
        "done-by-due",
        "Actions done by their due date",
        measures.done_by_due_summary(),
        MeasuresLine::done_by_due_percent,
        ["Actions due", "Done by the due date", "Share"],
        |l| (l.actions_due, l.done_by_due),
    );
    let briefs = share_chart(
        measures,
        "briefs",
        "Briefs ready by the cut-off",
        measures.briefs_summary(),
        MeasuresLine::briefs_ready_percent,
        ["Patient items", "Brief ready in time", "Share"],
        |l| (l.patient_items, l.briefs_ready_by_cutoff),
    );
    vec![
        concluded,
        waiting_chart(measures),
        done,
        attendance_chart(measures),
        briefs,
    ]
}

fn days_text(days: Option<i64>) -> String {
    days.map_or_else(|| "–".into(), |d| d.to_string())
}

/// Median and 90th-percentile days to discussion per period, with deferrals per item.
fn waiting_chart(measures: &TeamMeasures) -> Chart {
    let max = measures
        .lines
        .iter()
        .filter_map(|l| l.p90_days_to_discussion)
        .max()
        .unwrap_or(0)
        .max(7)
        .unsigned_abs();
    Chart {
        id: "waiting",
        title: "Days from request to discussion",
        summary: measures.waiting_summary(),
        series: vec![
            Series {
                name: "Median",
                class: "a",
            },
            Series {
                name: "9 in 10 within",
                class: "b",
            },
        ],
        rows: measures
            .lines
            .iter()
            .map(|l| ChartRow {
                label: period_label(l),
                values: vec![
                    l.median_days_to_discussion.map(i64::unsigned_abs),
                    l.p90_days_to_discussion.map(i64::unsigned_abs),
                ],
                texts: vec![
                    l.median_days_to_discussion
                        .map_or_else(|| "none".into(), |d| format!("{d} days")),
                    l.p90_days_to_discussion
                        .map_or_else(|| "none".into(), |d| format!("{d} days")),
                ],
            })
            .collect(),
        max,
        target: None,
        headers: vec![
            "Period",
            "Items concluded",
            "Median days",
            "90th percentile days",
            "Deferrals per item",
        ],
        table: measures
            .lines
            .iter()
            .map(|l| {
                vec![
                    period_label(l),
                    l.concluded.to_string(),
                    days_text(l.median_days_to_discussion),
                    days_text(l.p90_days_to_discussion),
                    l.deferrals_per_item_tenths()
                        .map_or_else(|| "–".into(), tenths),
                ]
            })
            .collect(),
    }
}

/// Each role's attendance over the whole range against the two-thirds target.
fn attendance_chart(measures: &TeamMeasures) -> Chart {
    let roles: Vec<(Role, u32, u32)> = measures
        .whole
        .attendance
        .iter()
        .map(|r| (r.role, r.attended, r.expected))
        .collect();
    Chart {
        id: "attendance",
        title: "Attendance by role",
        summary: measures.attendance_summary(),
        series: vec![SHARE],
        rows: roles
            .iter()
            .map(|(role, _, _)| {
                let p = measures.whole.attendance_percent(*role);
                ChartRow {
                    label: role.label().into(),
                    values: vec![share_value(p)],
                    texts: vec![percent_text(p)],
                }
            })
            .collect(),
        max: FULL_SHARE,
        // Two-thirds, in hundredths of a percent.
        target: Some((
            u64::from(ATTENDANCE_TARGET_PERCENT) * 100 + 67,
            "Target: two-thirds",
        )),
        headers: vec!["Role", "Attended", "Expected", "Share"],
        table: roles
            .iter()
            .map(|(role, attended, expected)| {
                vec![
                    role.label().to_owned(),
                    attended.to_string(),
                    expected.to_string(),
                    percent_text(measures.whole.attendance_percent(*role)),
                ]
            })
            .collect(),
    }
}
