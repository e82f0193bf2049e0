//! The person's own part in a meeting, first on its page: their answer, the briefs they are to
//! write, those they have still to read and the items they asked for or lead. A member on a phone sees what is theirs before the
//! coordinator's running of the meeting (issue 29).

use leptos::prelude::*;
use uuid::Uuid;

use crate::core::api::CurrentUser;
use crate::core::attendance::{Attendance as Answer, AttendanceStatus};
use crate::core::entities::MeetingStatus;
use crate::web::client::sync::SyncClient;
use crate::web::routes::Page;
use crate::web::views::agenda::AgendaView;

/// "Your part": shown to the meeting's members while it is planned (a concluded meeting's page
/// is its record, and a cancelled one asks nothing of anyone).
#[component]
pub fn MyPart(data: Memo<Option<AgendaView>>) -> impl IntoView {
    let sync = expect_context::<SyncClient>();
    let me = expect_context::<CurrentUser>();
    let part = Memo::new(move |_| {
        data.with(|d| {
            d.as_ref()
                .filter(|v| {
                    v.meeting.status == MeetingStatus::Planned && v.team.includes(me.person_id)
                })
                .map(|v| {
                    (
                        v.my_part(me.person_id),
                        v.meeting.starts_at <= chrono::Utc::now(),
                    )
                })
        })
    });
    let error = RwSignal::new(None::<String>);
    let answer = move |status: AttendanceStatus| {
        let Some(v) = data.get_untracked() else {
            return;
        };
        let before = v
            .attendance
            .iter()
            .find(|a| a.person_id == me.person_id)
            .and_then(|a| a.deputy_id);
        let record = Answer {
            team_id: v.meeting.team_id,
            meeting_id: v.meeting_id,
            person_id: me.person_id,
            status,
            deputy_id: before.filter(|_| status == AttendanceStatus::Apologies),
        };
        match sync.save(Answer::id_for(v.meeting_id, me.person_id), &record) {
            Ok(()) => error.set(None),
            Err(e) => error.set(Some(e.message)),
        }
    };
    move || {
        part.get().map(|(part, started)| {
            let current = part.answer;
            view! {
                <section class="mdt-panel mdt-my-part" aria-labelledby="my-part-title" data-testid="my-part">
                    <h2 class="nhsuk-heading-m" id="my-part-title">"Your part"</h2>
                    <div class="nhsuk-form-group">
                        <label class="nhsuk-label" for="my-answer">"Your answer"</label>
                        {move || error.get().map(|e| view! { <span class="nhsuk-error-message" role="alert">{e}</span> })}
                        <select class="nhsuk-select" id="my-answer"
                            on:change=move |ev| {
                                let value = event_target_value(&ev);
                                if let Some(s) = AttendanceStatus::ALL.into_iter().find(|s| format!("{s:?}") == value) {
                                    answer(s);
                                }
                            }>
                            {AttendanceStatus::offered(started, current).into_iter().map(|s| view! {
                                <option value=format!("{s:?}") selected=s == current>{s.label()}</option>
                            }).collect_view()}
                        </select>
                        {(current == AttendanceStatus::Apologies).then(|| view! {
                            <p class="nhsuk-body-s">"Name your deputy under “Who is coming”, further down."</p>
                        })}
                    </div>
                    {brief_list("Briefs for you to write", &part.to_write, "my-briefs-to-write")}
                    {brief_list("Briefs to read before the meeting", &part.to_read, "my-briefs-to-read")}
                    {(!part.mine.is_empty()).then(|| view! {
                        <h3 class="nhsuk-heading-xs">"Your items on this agenda"</h3>
                        <ul class="nhsuk-list mdt-compact-list" data-testid="my-items">
                            {part.mine.iter().map(|(_, heading)| view! { <li>{heading.clone()}</li> }).collect_view()}
                        </ul>
                    })}
                    {(part.to_write.is_empty() && part.to_read.is_empty()).then(|| view! {
                        <p class="nhsuk-body-s">"No brief waits for you."</p>
                    })}
                </section>
            }
        })
    }
}

/// A short list of briefs, each a link to it (nothing when there are none).
fn brief_list(
    heading: &'static str,
    items: &[(Uuid, String)],
    test_id: &'static str,
) -> impl IntoView {
    (!items.is_empty()).then(|| {
        view! {
            <h3 class="nhsuk-heading-xs">{heading}</h3>
            <ul class="nhsuk-list mdt-compact-list" data-testid=test_id>
                {items.iter().map(|(item, text)| view! {
                    <li><a href=Page::Brief(*item).href()>{text.clone()}</a></li>
                }).collect_view()}
            </ul>
        }
    })
}
