//! One line of a meeting's agenda. A meeting can hold 200 items, so a line is written as markup
//! (`components::markup`, every value escaped) in one piece: its heading, tags, details, warnings,
//! outcome and actions, and its buttons, which carry a [`LineAction`] the list handles with one
//! listener. The list keeps the lines with `components::markup_list` (a changed line is
//! rewritten, an unchanged one kept) and itself marks the running meeting's current item and
//! mounts the outcome form and restriction controls into the lines that need them.

use crate::core::access::RESTRICTED_EXPLANATION;
use crate::core::agenda::ItemKind;
use crate::web::components::markup::Markup;
use crate::web::routes::Page;
use crate::web::views::agenda::{AgendaRow, BriefBadge};

/// What a line's button asks the list to do (its `data-action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineAction {
    MoveUp,
    MoveDown,
    RecordOutcome,
    Restrict,
    Remove,
    /// The coordinator asks the brief's writer by email.
    ChaseBrief,
}

impl LineAction {
    const ALL: [Self; 6] = [
        Self::MoveUp,
        Self::MoveDown,
        Self::RecordOutcome,
        Self::Restrict,
        Self::Remove,
        Self::ChaseBrief,
    ];

    /// The `data-action` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MoveUp => "move-up",
            Self::MoveDown => "move-down",
            Self::RecordOutcome => "record-outcome",
            Self::Restrict => "restrict",
            Self::Remove => "remove",
            Self::ChaseBrief => "chase-brief",
        }
    }

    /// Reads [`LineAction::as_str`].
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == value)
    }
}

/// One line of the agenda as a whole `<li>`: its time, summary and buttons, with the running
/// meeting's highlight, the outcome form and the restriction controls left to the list (which
/// mounts the form and controls into the line it chooses, before `.mdt-agenda__actions`).
pub fn line_markup(row: &AgendaRow, may_edit: bool) -> String {
    let mut m = Markup::with_capacity(2048);
    let index = row.index.to_string();
    let id = row.id.to_string();
    m.open(
        "li",
        &[
            (
                "class",
                Some(if row.discussed {
                    "mdt-agenda__item mdt-agenda__item--discussed"
                } else {
                    "mdt-agenda__item"
                }),
            ),
            ("draggable", Some(if may_edit { "true" } else { "false" })),
            ("data-testid", Some("agenda-item")),
            ("data-id", Some(&id)),
            ("data-index", Some(&index)),
            ("data-withheld", row.withheld.then_some("true")),
        ],
    )
    .element("div", &[("class", Some("mdt-agenda__time"))], &row.time)
    .open("div", &[("class", Some("mdt-agenda__body"))]);
    write_summary(&mut m, row);
    m.open("div", &[("class", Some("mdt-agenda__actions"))]);
    write_actions(&mut m, row, may_edit);
    m.close("div").close("div").close("li");
    m.finish()
}

/// The line's heading, tags, details, warnings, outcome, actions and (for an actions review)
/// the team's open actions by owner.
pub fn summary_markup(row: &AgendaRow) -> String {
    let mut m = Markup::new();
    write_summary(&mut m, row);
    m.finish()
}

fn write_summary(m: &mut Markup, row: &AgendaRow) {
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
        tag(m, "nhsuk-tag nhsuk-tag--grey", None, row.kind_label);
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
        tag(m, "nhsuk-tag nhsuk-tag--orange", None, "Late");
    }
    if row.deferrals > 0 {
        tag(
            m,
            "nhsuk-tag nhsuk-tag--yellow",
            Some("deferred"),
            &format!("Deferred {}×", row.deferrals),
        );
    }
    if row.needs_attention {
        tag(m, "nhsuk-tag nhsuk-tag--red", None, "Needs your attention");
    }
    if row.discussed {
        tag(m, "nhsuk-tag nhsuk-tag--green", None, "Discussed");
    }
    if row.carried {
        tag(
            m,
            "nhsuk-tag nhsuk-tag--grey",
            None,
            "Moved to the next meeting",
        );
    }
    match row.brief {
        Some(BriefBadge::Ready) => tag(m, "nhsuk-tag nhsuk-tag--green", None, "Brief ready"),
        Some(BriefBadge::Draft) => tag(m, "nhsuk-tag nhsuk-tag--yellow", None, "Brief in draft"),
        Some(BriefBadge::Missing) => tag(m, "nhsuk-tag nhsuk-tag--red", None, "No brief yet"),
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
            m,
            "apologies-warning",
            &format!(
                "{} must be there but sent apologies. Find someone else who knows the patient, or move the item.",
                row.apologies.join(", ")
            ),
        );
    }
    if !row.not_members.is_empty() {
        warning(
            m,
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
        list(m, Some("item-actions"), &row.item_actions);
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
                list(m, None, lines);
            }
            m.close("div");
        }
    }
}

/// The line's link to its brief and its buttons (what the viewer may do).
pub fn actions_markup(row: &AgendaRow, may_edit: bool) -> String {
    let mut m = Markup::new();
    write_actions(&mut m, row, may_edit);
    m.finish()
}

fn write_actions(m: &mut Markup, row: &AgendaRow, may_edit: bool) {
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
                ("href", Some(&Page::Brief(id).href())),
                ("aria-label", Some(&format!("{label} for {}", row.heading))),
            ],
            label,
        );
    }
    // No class or type on each button (the stylesheet styles the line's buttons as link buttons,
    // and they are in no form): 200 lines of markup parse faster without them. Move up and down
    // show only while the agenda is being reordered (`.mdt-agenda--reordering`).
    let button =
        |m: &mut Markup, action: LineAction, disabled: bool, label: Option<&str>, text: &str| {
            m.element(
                "button",
                &[
                    ("disabled", disabled.then_some("")),
                    ("aria-label", label),
                    ("data-action", Some(action.as_str())),
                ],
                text,
            );
        };
    if may_edit {
        button(
            m,
            LineAction::MoveUp,
            row.index == 0,
            Some(&format!("Move up: {}", row.heading)),
            "Move up",
        );
        button(
            m,
            LineAction::MoveDown,
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
            m,
            LineAction::RecordOutcome,
            false,
            Some(&format!("{outcome} for {}", row.heading)),
            outcome,
        );
        // Less used and harder to undo: behind "More", so a line shows one thing to do.
        m.open("details", &[("class", Some("mdt-agenda__more"))]);
        m.open("summary", &[]);
        m.text("More");
        m.element(
            "span",
            &[("class", Some("nhsuk-u-visually-hidden"))],
            &format!(" for {}", row.heading),
        );
        m.close("summary");
        if row.chase {
            button(
                m,
                LineAction::ChaseBrief,
                false,
                None,
                "Chase the brief by email",
            );
        }
        if row.is_patient && !row.restricted {
            button(m, LineAction::Restrict, false, None, "Restrict");
        }
        button(m, LineAction::Remove, false, None, "Remove");
        m.close("details");
    }
}
