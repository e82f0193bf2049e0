//! "What needs you", the top of the home page: the signed-in person's week as the core works it
//! out (`core::needs`), each line a link to where it is done. Written as markup (one
//! `inner_html`): the lists are plain links, and the first page stays small.

use chrono::Utc;
use leptos::prelude::*;

use crate::core::action::ActionStatus;
use crate::core::api::CurrentUser;
use crate::core::attendance::AttendanceStatus;
use crate::core::needs::{CoordinatorAlert, WhatNeedsMe};
use crate::core::uk_time;
use crate::core::Role;
use crate::web::client::accounts::use_without_accounts_of_teams;
use crate::web::client::sync::SyncClient;
use crate::web::components::markup::Markup;
use crate::web::routes::Page;
use crate::web::views::team::teams_coordinated_by;

/// The person's meetings, briefs, actions and requests, and a coordinator's warnings; a single
/// sentence when nothing needs them.
#[component]
pub fn WhatNeedsYou() -> impl IntoView {
    let sync = expect_context::<SyncClient>();
    let me = expect_context::<CurrentUser>();
    let cannot_sign_in =
        use_without_accounts_of_teams(move || sync.read(|r| teams_coordinated_by(r, me.person_id)));
    // The markup itself is kept: comparing text is all a change costs.
    let markup = Memo::new(move |_| {
        cannot_sign_in.with(|without| {
            sync.read(|r| needs_markup(&WhatNeedsMe::of(r, me.person_id, Utc::now(), without)))
        })
    });
    view! {
        <section aria-labelledby="needs-title" data-testid="what-needs-you">
            <h1 id="needs-title">"What needs you"</h1>
            {move || if sync.holds_copy() {
                view! { <div inner_html=markup></div> }.into_any()
            } else {
                view! {
                    <p class="nhsuk-body" role="status" data-testid="first-copy-coming">
                        "Fetching your teams' meetings, briefs and actions to this device…"
                    </p>
                }.into_any()
            }}
        </section>
    }
}

/// One section: a heading and a list of lines (nothing when there are none).
fn section(m: &mut Markup, title: &str, test_id: &'static str, lines: impl FnOnce(&mut Markup)) {
    m.element("h2", &[("class", Some("nhsuk-heading-m"))], title);
    m.open(
        "ul",
        &[
            ("class", Some("nhsuk-list mdt-needs")),
            ("data-testid", Some(test_id)),
        ],
    );
    lines(m);
    m.close("ul");
}

/// A line: a link, then plain text after it, then an optional tag.
fn line(m: &mut Markup, page: Page, link: &str, after: &str, tag: Option<(&str, &str)>) {
    m.open("li", &[]);
    m.element("a", &[("href", Some(&page.href()))], link);
    m.text(after);
    if let Some((class, text)) = tag {
        m.text(" ");
        m.element("strong", &[("class", Some(class))], text);
    }
    m.close("li");
}

fn roles(roles: &[Role]) -> String {
    roles
        .iter()
        .map(|r| r.label())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The sections of "What needs you" as HTML.
pub fn needs_markup(needs: &WhatNeedsMe) -> String {
    let mut m = Markup::with_capacity(4096);
    if needs.is_empty() {
        m.element(
            "p",
            &[
                ("class", Some("nhsuk-body")),
                ("data-testid", Some("nothing-needs-you")),
            ],
            "Nothing needs you this week: no meetings, briefs or actions due.",
        );
        return m.finish();
    }
    if !needs.coordinator.is_empty() {
        section(
            &mut m,
            "Meetings you run: to sort out",
            "needs-coordinator",
            |m| {
                for alert in &needs.coordinator {
                    let text = match alert {
                        CoordinatorAlert::NoQuorum {
                            team_name,
                            starts_at,
                            missing,
                            ..
                        } => format!(
                            "{team_name}, {}: nobody is expected for {}",
                            uk_time::format_uk(*starts_at),
                            roles(missing)
                        ),
                        CoordinatorAlert::QuorumNotConfirmed {
                            team_name,
                            starts_at,
                            unconfirmed,
                            ..
                        } => {
                            format!(
                                "{team_name}, {}: not yet confirmed who comes for {}",
                                uk_time::format_uk(*starts_at),
                                roles(unconfirmed)
                            )
                        }
                        CoordinatorAlert::BriefsNotReady {
                            team_name,
                            starts_at,
                            not_ready,
                            due,
                            ..
                        } => {
                            format!(
                                "{team_name}, {}: {not_ready} brief{} not ready (due by {})",
                                uk_time::format_uk(*starts_at),
                                if *not_ready == 1 { "" } else { "s" },
                                uk_time::format_uk(*due)
                            )
                        }
                    };
                    let warning = matches!(alert, CoordinatorAlert::NoQuorum { .. });
                    m.open("li", &[("class", warning.then_some("mdt-warning"))]);
                    m.element(
                        "a",
                        &[("href", Some(&Page::Meeting(alert.meeting_id()).href()))],
                        &text,
                    );
                    m.close("li");
                }
            },
        );
    }
    if !needs.meetings.is_empty() {
        section(&mut m, "Your meetings this week", "needs-meetings", |m| {
            for meeting in &needs.meetings {
                let link = format!(
                    "{}, {}",
                    meeting.team_name,
                    uk_time::format_uk(meeting.starts_at)
                );
                if meeting.answer == AttendanceStatus::Invited {
                    let tag = (
                        "nhsuk-tag nhsuk-tag--orange",
                        "Not answered: say if you are coming",
                    );
                    line(m, Page::Meeting(meeting.meeting_id), &link, " ·", Some(tag));
                } else {
                    let after = format!(" · Your answer: {}", meeting.answer.label());
                    line(m, Page::Meeting(meeting.meeting_id), &link, &after, None);
                }
            }
        });
    }
    if !needs.briefs_to_write.is_empty() {
        section(&mut m, "Briefs to write", "needs-write", |m| {
            for task in &needs.briefs_to_write {
                let after = format!(
                    " · {}, due by {}",
                    task.team_name,
                    uk_time::format_uk(task.by)
                );
                let late = task
                    .late
                    .then_some(("nhsuk-tag nhsuk-tag--red", "Past the cut-off"));
                line(m, Page::Brief(task.item_id), &task.about, &after, late);
            }
        });
    }
    if !needs.briefs_to_read.is_empty() {
        section(
            &mut m,
            "Briefs to read before the meeting",
            "needs-read",
            |m| {
                for task in &needs.briefs_to_read {
                    let after = format!(
                        " · {}, meeting {}",
                        task.team_name,
                        uk_time::format_uk(task.by)
                    );
                    line(m, Page::Brief(task.item_id), &task.about, &after, None);
                }
            },
        );
    }
    if !needs.actions.is_empty() {
        section(&mut m, "Your actions", "needs-actions", |m| {
            for action in &needs.actions {
                let target = action.patient_id.map_or(Page::MyActions, Page::Patient);
                let mut after = String::new();
                if !action.about.is_empty() {
                    after.push_str(&format!(" · for {}", action.about));
                }
                after.push_str(&format!(" · due {}", uk_time::format_date(action.due)));
                let tag = if action.overdue {
                    Some(("nhsuk-tag nhsuk-tag--red", "Overdue"))
                } else if action.status == ActionStatus::Proposed {
                    Some(("nhsuk-tag nhsuk-tag--orange", "Accept or decline it"))
                } else {
                    None
                };
                line(m, target, &action.description, &after, tag);
            }
        });
        m.open("p", &[("class", Some("nhsuk-body"))]);
        m.element(
            "a",
            &[("href", Some(&Page::MyActions.href()))],
            "All your actions",
        );
        m.close("p");
    }
    if !needs.requested.is_empty() {
        section(&mut m, "Items you asked for", "needs-requested", |m| {
            for request in &needs.requested {
                let mut after = format!(
                    " · {}, discussed at about {}",
                    request.team_name,
                    uk_time::format_uk(request.discussed_at)
                );
                if request.deferrals > 0 {
                    after.push_str(&format!(" (deferred {}×)", request.deferrals));
                }
                line(
                    m,
                    Page::Meeting(request.meeting_id),
                    &request.about,
                    &after,
                    None,
                );
            }
        });
    }
    m.finish()
}
