//! A table of figures in the NHS design system's responsive pattern: columns on a wide screen,
//! each row a stack of "heading value" lines on a phone.

use leptos::prelude::*;

/// The table: a caption, column headings and rows of text.
#[component]
pub fn DataTable(
    caption: String,
    headers: Vec<&'static str>,
    rows: Vec<Vec<String>>,
    #[prop(into)] testid: String,
) -> impl IntoView {
    let heads = headers.clone();
    view! {
        <table class="nhsuk-table-responsive" data-testid=testid>
            <caption class="nhsuk-table__caption nhsuk-table__caption--s">{caption}</caption>
            <thead class="nhsuk-table__head" role="rowgroup"><tr role="row">
                {headers.iter().map(|h| view! { <th scope="col" role="columnheader">{*h}</th> }).collect_view()}
            </tr></thead>
            <tbody class="nhsuk-table__body">
                {rows.into_iter().map(|row| view! {
                    <tr role="row" class="nhsuk-table__row">
                        {row.into_iter().zip(heads.clone()).map(|(cell, head)| view! {
                            <td role="cell" class="nhsuk-table__cell">
                                <span class="nhsuk-table-responsive__heading" aria-hidden="true">{format!("{head} ")}</span>{cell}
                            </td>
                        }).collect_view()}
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}
