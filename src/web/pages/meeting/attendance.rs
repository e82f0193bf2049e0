//! Who is coming to a meeting: each member's answer (with a deputy for apologies), and the
//! quorum panel that warns the coordinator when a required role will be missing.

use leptos::prelude::*;
use uuid::Uuid;

use crate::core::api::CurrentUser;
use crate::core::attendance::{Attendance as Answer, AttendanceStatus};
use crate::core::meeting::MeetingStatus;
use crate::web::client::sync::SyncClient;
use crate::web::views::agenda::AgendaView;

/// The attendance section of a meeting page.
#[component]
pub fn Attendance(data: Memo<Option<AgendaView>>, is_coordinator: Signal<bool>) -> impl IntoView {
    let sync = expect_context::<SyncClient>();
    let me = expect_context::<CurrentUser>();
    let error = RwSignal::new(None::<String>);
    let answer = move |person: Uuid, status: AttendanceStatus, deputy: Option<Uuid>| {
        let Some(v) = data.get_untracked() else {
            return;
        };
        let record = Answer {
            team_id: v.meeting.team_id,
            meeting_id: v.meeting_id,
            person_id: person,
            status,
            deputy_id: deputy.filter(|_| status == AttendanceStatus::Apologies),
        };
        match sync.save(Answer::id_for(v.meeting_id, person), &record) {
            Ok(()) => error.set(None),
            Err(e) => error.set(Some(e.message)),
        }
    };
    let started = move || {
        data.with(|d| {
            d.as_ref()
                .is_some_and(|v| v.meeting.starts_at <= chrono::Utc::now())
        })
    };
    let record_all = move |_| {
        let Some(v) = data.get_untracked() else {
            return;
        };
        let records = crate::core::attendance::record_expected_as_attended(
            &v.team,
            v.meeting.team_id,
            v.meeting_id,
            &v.attendance,
        );
        match sync.save_all(&records) {
            Ok(()) => error.set(None),
            Err(e) => error.set(Some(e.message)),
        }
    };
    let someone_unrecorded = move || {
        data.with(|d| {
            d.as_ref().is_some_and(|v| {
                v.member_names().iter().any(|(id, _)| {
                    matches!(
                        v.status_of(*id),
                        AttendanceStatus::Invited
                            | AttendanceStatus::Attending
                            | AttendanceStatus::Remote
                    )
                })
            })
        })
    };
    let rows: Memo<Vec<Row>> = Memo::new(move |_| {
        data.with(|d| {
            d.as_ref()
                .map(|v| {
                    v.member_names()
                        .into_iter()
                        .map(|(id, name)| {
                            let role = v.people.get(&id).map(|p| p.role.label()).unwrap_or("");
                            let deputy = v
                                .attendance
                                .iter()
                                .find(|a| a.person_id == id)
                                .and_then(|a| a.deputy_id);
                            (
                                id,
                                name,
                                role,
                                v.status_of(id),
                                deputy,
                                id == me.person_id || is_coordinator.get(),
                            )
                        })
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    });
    // (role, who covers it, covered, confirmed) per required role.
    let quorum = Memo::new(move |_| {
        data.with(|d| {
            d.as_ref()
                .map(|v| {
                    v.quorum()
                        .roles
                        .iter()
                        .map(|c| {
                            let said_yes = |p: &Uuid| c.said_coming.contains(p);
                            (
                                c.role,
                                c.covered_by
                                    .iter()
                                    .map(|p| {
                                        let name = v.name(Some(*p));
                                        if said_yes(p) {
                                            name
                                        } else {
                                            format!("{name} (not answered)")
                                        }
                                    })
                                    .collect::<Vec<_>>(),
                                c.met(),
                                c.is_confirmed(),
                            )
                        })
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    });
    // A concluded meeting is a record: who attended, not who is coming, and nothing to answer.
    let held = Memo::new(move |_| {
        data.with(|d| {
            d.as_ref()
                .is_some_and(|v| v.meeting.status == MeetingStatus::Closed)
        })
    });
    view! {
        <Show when=move || !held.get() fallback=move || view! { <HeldAttendance rows=rows/> }>
        <section class="mdt-attendance" aria-labelledby="attendance-title" data-testid="attendance">
            <h2 id="attendance-title">"Who is coming"</h2>
            {move || {
                let roles = quorum.get();
                let missing: Vec<&str> = roles.iter().filter(|(_, _, met, _)| !met).map(|(r, _, _, _)| r.label()).collect();
                view! {
                    {(!missing.is_empty()).then(|| view! {
                        <div class="nhsuk-warning-callout" data-testid="quorum-warning">
                            <h3 class="nhsuk-warning-callout__label">"Quorum is lost"</h3>
                            <p>{format!("Nobody is expected for: {}. Ask for a deputy, or move the meeting.", missing.join(", "))}</p>
                        </div>
                    })}
                    <ul class="nhsuk-list" data-testid="quorum-panel">
                        {roles.iter().map(|(role, names, met, confirmed)| view! {
                            <li>
                                <strong>{format!("{}: ", role.label())}</strong>
                                {if names.is_empty() { "nobody expected".to_string() } else { names.join(", ") }}
                                " "
                                // Expected is not confirmed: silence is not a yes.
                                {match (*met, *confirmed) {
                                    (_, true) => view! { <strong class="nhsuk-tag nhsuk-tag--green">"Confirmed"</strong> }.into_any(),
                                    (true, false) => view! { <strong class="nhsuk-tag nhsuk-tag--yellow">"Expected, not confirmed"</strong> }.into_any(),
                                    (false, false) => view! { <strong class="nhsuk-tag nhsuk-tag--red">"Not covered"</strong> }.into_any(),
                                }}
                            </li>
                        }).collect_view()}
                    </ul>
                }
            }}
            {move || error.get().map(|e| view! { <p class="nhsuk-error-message" role="alert">{e}</p> })}
            {move || (is_coordinator.get() && started() && someone_unrecorded()).then(|| view! {
                <div class="nhsuk-inset-text" data-testid="record-attendance">
                    <p>"The meeting has started. Record who came: mark everyone still expected as attended, then change anyone who did not come to Absent."</p>
                    <button type="button" class="nhsuk-button nhsuk-button--secondary" on:click=record_all>"Mark everyone expected as attended"</button>
                </div>
            })}
            <table class="nhsuk-table">
                <caption class="nhsuk-table__caption nhsuk-u-visually-hidden">"Members' answers"</caption>
                <thead><tr><th scope="col">"Member"</th><th scope="col">"Answer"</th></tr></thead>
                <tbody>
                    <For each=move || rows.get() key=|r| r.clone() children=move |(id, name, role, status, deputy, may_answer)| {
                        let select_id = format!("attendance-{id}");
                        let deputy_id = format!("deputy-{id}");
                        let label = format!("Answer for {name}");
                        view! {
                            <tr data-testid="attendance-row">
                                <td>{name.clone()}<br/><span class="nhsuk-body-s">{role}</span></td>
                                <td>
                                    {if may_answer {
                                        view! {
                                            <label class="nhsuk-u-visually-hidden" for=select_id.clone()>{label}</label>
                                            <select class="nhsuk-select" id=select_id
                                                on:change=move |ev| {
                                                    let value = event_target_value(&ev);
                                                    if let Some(s) = AttendanceStatus::ALL.into_iter().find(|s| format!("{s:?}") == value) {
                                                        answer(id, s, deputy);
                                                    }
                                                }>
                                                {AttendanceStatus::offered(started(), status).into_iter().map(|s| view! {
                                                    <option value=format!("{s:?}") selected=s == status>{s.label()}</option>
                                                }).collect_view()}
                                            </select>
                                        }.into_any()
                                    } else {
                                        view! { <span>{status.label()}</span> }.into_any()
                                    }}
                                    {(status == AttendanceStatus::Apologies && may_answer).then(|| {
                                        let people = data.with_untracked(|d| d.as_ref().map(AgendaView::member_names).unwrap_or_default());
                                        view! {
                                            <div class="nhsuk-form-group">
                                                <label class="nhsuk-label" for=deputy_id.clone()>{format!("Deputy for {name}")}</label>
                                                <select class="nhsuk-select" id=deputy_id
                                                    on:change=move |ev| answer(id, AttendanceStatus::Apologies, Uuid::parse_str(&event_target_value(&ev)).ok())>
                                                    <option value="" selected=deputy.is_none()>"No deputy"</option>
                                                    {people.into_iter().filter(|(p, _)| *p != id).map(|(p, n)| view! {
                                                        <option value=p.to_string() selected=deputy == Some(p)>{n}</option>
                                                    }).collect_view()}
                                                </select>
                                            </div>
                                        }
                                    })}
                                </td>
                            </tr>
                        }
                    }/>
                </tbody>
            </table>
        </section>
        </Show>
    }
}

/// (person, name, role label, status, deputy, may answer): one row of the attendance table.
type Row = (
    Uuid,
    String,
    &'static str,
    AttendanceStatus,
    Option<Uuid>,
    bool,
);

/// A concluded meeting's attendance, as its record: who attended, who sent apologies (and
/// their deputy), who was absent; answers never turned into attendance said as such.
#[component]
fn HeldAttendance(rows: Memo<Vec<Row>>) -> impl IntoView {
    let names = move |id: Uuid| {
        rows.with(|r| {
            r.iter()
                .find(|row| row.0 == id)
                .map(|row| row.1.clone())
                .unwrap_or_default()
        })
    };
    view! {
        <section class="mdt-attendance" aria-labelledby="attendance-title" data-testid="attendance">
            <h2 id="attendance-title">"Who attended"</h2>
            <table class="nhsuk-table">
                <caption class="nhsuk-table__caption nhsuk-u-visually-hidden">"Attendance at the meeting"</caption>
                <thead><tr><th scope="col">"Member"</th><th scope="col">"Attendance"</th></tr></thead>
                <tbody>
                    {move || rows.get().into_iter().map(|(_, name, role, status, deputy, _)| view! {
                        <tr data-testid="attendance-row">
                            <td>{name}<br/><span class="nhsuk-body-s">{role}</span></td>
                            <td>
                                {status.as_record()}
                                {deputy.filter(|_| status == AttendanceStatus::Apologies).map(|d| format!("; deputy: {}", names(d)))}
                            </td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}
