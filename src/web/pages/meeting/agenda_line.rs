//! One line of a meeting's agenda. A meeting can hold 200 items, so a line is written as markup
//! (`components::markup`, every value escaped) in one piece: its heading, tags, details, warnings,
//! outcome and actions, and its buttons, which carry a [`LineAction`] the list handles with one
//! listener. Only the running meeting's highlight and the outcome form react; anything else that
//! changes (the line, or what the viewer may do) rebuilds the line.

use leptos::prelude::*;
use uuid::Uuid;

use crate::core::access::RESTRICTED_EXPLANATION;
use crate::core::agenda::ItemKind;
use crate::web::components::markup::Markup;
use crate::web::pages::meeting::outcome::OutcomeForm;
use crate::web::pages::meeting::restriction::RestrictionControls;
use crate::web::routes::Page;
use crate::web::views::agenda::{AgendaRow, AgendaView, BriefBadge};

/// What a line's button asks the list to do (its `data-action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineAction {
    MoveUp,
    MoveDown,
    RecordOutcome,
    Restrict,
    Remove,
}

impl LineAction {
    const ALL: [Self; 5] = [
        Self::MoveUp,
        Self::MoveDown,
        Self::RecordOutcome,
        Self::Restrict,
        Self::Remove,
    ];

    /// The `data-action` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MoveUp => "move-up",
            Self::MoveDown => "move-down",
            Self::RecordOutcome => "record-outcome",
            Self::Restrict => "restrict",
            Self::Remove => "remove",
        }
    }

    /// Reads [`LineAction::as_str`].
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == value)
    }
}

/// One line of the agenda; see the module documentation.
#[component]
pub fn AgendaLine(
    row: AgendaRow,
    is_coordinator: bool,
    /// False for observers: no reordering, outcomes or removal.
    may_edit: bool,
    data: Memo<Option<AgendaView>>,
    /// The item being discussed when the meeting is run from the app.
    current: RwSignal<Option<usize>>,
    /// The item whose outcome form is open.
    recording: RwSignal<Option<Uuid>>,
) -> impl IntoView {
    let (id, index) = (row.id, row.index);
    let summary = summary_markup(&row);
    let actions = actions_markup(&row, may_edit);
    view! {
        <li class="mdt-agenda__item" class:mdt-agenda__item--discussed=row.discussed
            class:mdt-agenda__item--current=move || current.get() == Some(index)
            aria-current=move || (current.get() == Some(index)).then_some("step")
            draggable=if may_edit { "true" } else { "false" } data-testid="agenda-item"
            data-id=id.to_string() data-index=index
            data-withheld=row.withheld.then_some("true")>
            <div class="mdt-agenda__time">{row.time}</div>
            <div class="mdt-agenda__body">
                <div inner_html=summary></div>
                {move || (recording.get() == Some(id)).then(|| view! {
                    <OutcomeForm data=data item_id=id on_done=Callback::new(move |_| recording.set(None))/>
                })}
                {(row.restricted && !row.withheld && is_coordinator).then(|| view! {
                    <RestrictionControls data=data item_id=id/>
                })}
                <div class="mdt-agenda__actions" inner_html=actions></div>
            </div>
        </li>
    }
}

/// The line's heading, tags, details, warnings, outcome, actions and (for an actions review)
/// the team's open actions by owner.
pub fn summary_markup(row: &AgendaRow) -> String {
    let mut m = Markup::new();
    m.open("h3", &[("class", Some("mdt-agenda__heading"))]);
    if row.is_patient {
        m.element(
            "span",
            &[("class", Some("nhsuk-u-visually-hidden"))],
            "Patient: ",
        );
    }
    match row.patient_id {
        Some(patient) => m.element(
            "a",
            &[
                ("href", Some(&Page::Patient(patient).href())),
                ("class", Some("mdt-agenda__patient")),
            ],
            &row.heading,
        ),
        None => m.element("span", &[], &row.heading),
    };
    m.close("h3");

    m.open("p", &[("class", Some("mdt-agenda__tags"))]);
    let tag = |m: &mut Markup, colour: &'static str, testid: Option<&str>, text: &str| {
        m.element(
            "strong",
            &[("class", Some(colour)), ("data-testid", testid)],
            text,
        );
    };
    if !row.is_patient {
        tag(&mut m, "nhsuk-tag nhsuk-tag--grey", None, row.kind_label);
    }
    if row.restricted {
        m.element(
            "strong",
            &[
                ("class", Some("nhsuk-tag nhsuk-tag--purple")),
                ("data-testid", Some("restricted")),
                ("title", Some(RESTRICTED_EXPLANATION)),
            ],
            "Restricted",
        );
    }
    if row.objects_to_sharing {
        m.element(
            "strong",
            &[
                ("class", Some("nhsuk-tag nhsuk-tag--red")),
                ("data-testid", Some("objects-to-sharing")),
                ("title", Some("The patient objects to their information being shared: share only what their care needs")),
            ],
            "Objects to sharing",
        );
    }
    if row.late {
        tag(&mut m, "nhsuk-tag nhsuk-tag--orange", None, "Late");
    }
    if row.deferrals > 0 {
        tag(
            &mut m,
            "nhsuk-tag nhsuk-tag--yellow",
            Some("deferred"),
            &format!("Deferred {}×", row.deferrals),
        );
    }
    if row.needs_attention {
        tag(
            &mut m,
            "nhsuk-tag nhsuk-tag--red",
            None,
            "Needs your attention",
        );
    }
    if row.discussed {
        tag(&mut m, "nhsuk-tag nhsuk-tag--green", None, "Discussed");
    }
    if row.carried {
        tag(
            &mut m,
            "nhsuk-tag nhsuk-tag--grey",
            None,
            "Moved to the next meeting",
        );
    }
    match row.brief {
        Some(BriefBadge::Ready) => tag(&mut m, "nhsuk-tag nhsuk-tag--green", None, "Brief ready"),
        Some(BriefBadge::Draft) => tag(
            &mut m,
            "nhsuk-tag nhsuk-tag--yellow",
            None,
            "Brief in draft",
        ),
        Some(BriefBadge::Missing) => tag(&mut m, "nhsuk-tag nhsuk-tag--red", None, "No brief yet"),
        None => {}
    }
    m.close("p");

    if !row.details.is_empty() {
        m.open("dl", &[("class", Some("mdt-agenda__details"))]);
        for (term, text) in &row.details {
            m.element("dt", &[], term).element("dd", &[], text);
        }
        m.close("dl");
    }
    let warning = |m: &mut Markup, testid: &str, text: &str| {
        m.open(
            "p",
            &[
                ("class", Some("mdt-warning")),
                ("data-testid", Some(testid)),
            ],
        )
        .element("strong", &[], "Warning: ")
        .text(text)
        .close("p");
    };
    if !row.apologies.is_empty() {
        warning(
            &mut m,
            "apologies-warning",
            &format!(
                "{} must be there but sent apologies. Find someone else who knows the patient, or move the item.",
                row.apologies.join(", ")
            ),
        );
    }
    if !row.not_members.is_empty() {
        warning(
            &mut m,
            "presence-warning",
            &format!(
                "{} must be there but {} not in the team.",
                row.not_members.join(", "),
                if row.not_members.len() == 1 {
                    "is"
                } else {
                    "are"
                }
            ),
        );
    }
    if let Some((label, text)) = &row.outcome {
        m.open(
            "p",
            &[
                ("class", Some("mdt-agenda__outcome")),
                ("data-testid", Some("outcome")),
            ],
        )
        .element("strong", &[], &format!("Outcome — {label}: "))
        .text(text)
        .close("p");
    }
    let list = |m: &mut Markup, testid: Option<&str>, lines: &[String]| {
        m.open(
            "ul",
            &[
                (
                    "class",
                    Some("nhsuk-list nhsuk-list--bullet mdt-compact-list"),
                ),
                ("data-testid", testid),
            ],
        );
        for line in lines {
            m.element("li", &[], line);
        }
        m.close("ul");
    };
    if !row.item_actions.is_empty() {
        list(&mut m, Some("item-actions"), &row.item_actions);
    }
    if row.kind == ItemKind::ActionsReview {
        if row.review.is_empty() {
            m.element("p", &[("class", Some("nhsuk-body"))], "No open actions.");
        } else {
            m.open(
                "div",
                &[
                    ("class", Some("mdt-review")),
                    ("data-testid", Some("actions-review")),
                ],
            );
            for (owner, lines) in &row.review {
                m.element("h4", &[("class", Some("nhsuk-heading-xs"))], owner);
                list(&mut m, None, lines);
            }
            m.close("div");
        }
    }
    m.finish()
}

/// The line's link to its brief and its buttons (what the viewer may do).
pub fn actions_markup(row: &AgendaRow, may_edit: bool) -> String {
    let mut m = Markup::new();
    let id = row.id;
    if let Some(badge) = row.brief {
        let label = if badge == BriefBadge::Missing && may_edit {
            "Write the brief"
        } else {
            "Open the brief"
        };
        m.element(
            "a",
            &[
                ("class", Some("mdt-link-button")),
                ("href", Some(&Page::Brief(id).href())),
                ("aria-label", Some(&format!("{label} for {}", row.heading))),
            ],
            label,
        );
    }
    let button = |m: &mut Markup,
                  action: LineAction,
                  element_id: Option<&str>,
                  disabled: bool,
                  label: Option<&str>,
                  text: &str| {
        m.element(
            "button",
            &[
                ("type", Some("button")),
                ("class", Some("mdt-link-button")),
                ("id", element_id),
                ("disabled", disabled.then_some("")),
                ("aria-label", label),
                ("data-action", Some(action.as_str())),
            ],
            text,
        );
    };
    if may_edit {
        button(
            &mut m,
            LineAction::MoveUp,
            Some(&format!("move-up-{id}")),
            row.index == 0,
            Some(&format!("Move up: {}", row.heading)),
            "Move up",
        );
        button(
            &mut m,
            LineAction::MoveDown,
            Some(&format!("move-down-{id}")),
            row.index + 1 == row.count,
            Some(&format!("Move down: {}", row.heading)),
            "Move down",
        );
    }
    if may_edit && !row.withheld {
        let outcome = if row.discussed {
            "Change the outcome"
        } else {
            "Record the outcome"
        };
        button(
            &mut m,
            LineAction::RecordOutcome,
            None,
            false,
            Some(&format!("{outcome} for {}", row.heading)),
            outcome,
        );
        if row.is_patient && !row.restricted {
            button(&mut m, LineAction::Restrict, None, false, None, "Restrict");
        }
        button(&mut m, LineAction::Remove, None, false, None, "Remove");
    }
    m.finish()
}
