//! A year of the demo team's history, so a new user sees the measures, patients' timelines and
//! outcome summaries filled in on first start: a monthly series (one meeting skipped for the
//! summer, one moved for a bank holiday), each meeting held and concluded with recorded
//! attendance, patient items with briefs (some ready by the cut-off, some late, some missing),
//! decisions, "no action" and deferrals (carried to the next meeting as the app would), and
//! actions done on time, done late, still open or cancelled, with their history. Synthetic people
//! and patients only; every record goes through the same push path as the app's, written at the
//! time it happened.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Timelike, Utc};
use uuid::Uuid;

use super::{at_uk, Author};
use crate::core::action::{Action, ActionEvent, ActionStatus, DONE_SUMMARY};
use crate::core::agenda::{carried_id, AgendaItem, ItemKind, ItemStatus, Outcome};
use crate::core::attendance::{Attendance, AttendanceStatus};
use crate::core::brief::{brief_id_for, Brief, BriefStatus};
use crate::core::entities::{Meeting, MeetingStatus};
use crate::core::patient::{synthetic_nhs_numbers, Patient};
use crate::core::schedule::Recurrence;
use crate::core::series::{Series, SeriesException};
use crate::server::error::Error;

/// The demo team and its people, as `load_demo` made them.
pub(super) struct Team {
    pub id: Uuid,
    pub coordinator: Uuid,
    /// Tom (social worker, can sign in), Asha (GP), Grace (district nurse), Ian (palliative
    /// care), Maya (care navigator).
    pub members: [Uuid; 5],
    /// Names of the members, for history lines written by the coordinator on their behalf.
    pub names: [String; 5],
    pub practice: Uuid,
    /// The patients already on the team's list.
    pub patients: Vec<Uuid>,
}

/// Synthetic patients added for the history (after the four the demo starts with).
const MORE_PATIENTS: [(&str, (i32, u32, u32)); 8] = [
    ("Eli Synthetic", (1940, 2, 14)),
    ("Fay Example", (1935, 11, 3)),
    ("Gus Placeholder", (1952, 6, 27)),
    ("Hal Sample", (1944, 8, 9)),
    ("Ivy Synthetic", (1939, 12, 24)),
    ("Jon Example", (1957, 3, 18)),
    ("Kit Placeholder", (1948, 10, 1)),
    ("Lou Sample", (1942, 5, 30)),
];

const REASONS: [(&str, &str); 6] = [
    (
        "Frequent falls at home",
        "Is a falls assessment and more care needed?",
    ),
    (
        "Carer strain reported by family",
        "What respite can we offer, and who leads?",
    ),
    (
        "Recent hospital discharge, struggling with medicines",
        "Does a pharmacist review and a medicines prompt help?",
    ),
    (
        "Weight loss and low mood",
        "Who should assess nutrition and mood first?",
    ),
    (
        "Approaching the end of life, wishes not recorded",
        "Who has the advance care planning conversation?",
    ),
    (
        "Housing no longer suitable (stairs)",
        "Should we refer for adaptations or rehousing?",
    ),
];

const DECISIONS: [&str; 4] = [
    "Refer for a falls assessment; increase care to two calls a day",
    "Arrange a carer's assessment and a week of respite",
    "Pharmacist medicines review; blister packs from the pharmacy",
    "Advance care planning visit by the GP and the palliative care nurse",
];

/// Writes the year before `today` for `team` through `author` (the coordinator) and `tom`
/// (who answers his own actions).
pub(super) fn write(
    author: &mut Author<'_>,
    tom: &mut Author<'_>,
    team: &Team,
    today: NaiveDate,
) -> Result<(), Error> {
    let coordinator = team.coordinator;
    let mut patients = team.patients.clone();
    let mut first = Vec::new();
    for (nhs, (name, (y, m, d))) in synthetic_nhs_numbers().skip(4).zip(MORE_PATIENTS) {
        let id = Uuid::new_v4();
        first.push(author.mutation(
            id,
            0,
            &Patient {
                team_id: team.id,
                nhs_number: nhs,
                name: name.into(),
                date_of_birth: NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default(),
                registered_practice_id: Some(team.practice),
                lead_professional_id: None,
                objects_to_sharing: name == "Hal Sample",
            },
        ));
        patients.push(id);
    }

    // The second Tuesday of each month since twelve months ago, until last week (the team has
    // met weekly since): August skipped, December moved to the Thursday for the bank holiday.
    let start = months_before(today, 12);
    let first_date = nth_tuesday(start.year(), start.month(), 2);
    let until = today - Duration::days(8);
    let mut series = Series {
        team_id: team.id,
        rule: Recurrence::Monthly { nth: 2, weekday: 1 },
        first_date,
        starts: chrono::NaiveTime::from_hms_opt(13, 0, 0).unwrap_or_default(),
        minutes: 90,
        until: Some(until),
        exceptions: Vec::new(),
        place: "Riverside Surgery, meeting room 2".into(),
        video_link: Some("https://meet.example.nhs.uk/riverside-mdt".into()),
        sequence: 0,
        cancelled: false,
    };
    let planned = series.occurrences(first_date, until);
    for o in &planned {
        if o.original.month() == 8 {
            series.exceptions.push(SeriesException {
                date: o.original,
                moved_to: None,
            });
        } else if o.original.month() == 12 {
            series.exceptions.push(SeriesException {
                date: o.original,
                moved_to: Some(
                    (o.original + Duration::days(2))
                        .and_hms_opt(12, 30, 0)
                        .unwrap_or_default(),
                ),
            });
        }
    }
    let series_id = Uuid::new_v4();
    first.push(author.mutation(series_id, 0, &series));
    let now = author.now;
    author.push_all(first, now)?;

    let occurrences = series.occurrences(first_date, until);
    let mut carried: Vec<(Uuid, AgendaItem)> = Vec::new();
    for (k, occurrence) in occurrences.iter().enumerate() {
        let starts_at = at_uk(
            occurrence.starts.date(),
            occurrence.starts.hour(),
            occurrence.starts.minute(),
        )?;
        let ends_at = starts_at + Duration::minutes(90);
        let meeting_id = Series::meeting_id(series_id, occurrence.original);
        let meeting = Meeting {
            team_id: team.id,
            starts_at,
            ends_at,
            place: series.place.clone(),
            video_link: series.video_link.clone(),
            status: MeetingStatus::Planned,
        };
        let day = occurrence.starts.date();
        let mut batch = vec![author.mutation(meeting_id, 0, &meeting)];
        let mut briefs: Vec<(DateTime<Utc>, Uuid, Brief)> = Vec::new();
        let mut tom_batch = Vec::new();
        let mut events = Vec::new();
        // Actions go after the items they come from; a cancelled one is cancelled after the
        // meeting (a decision needs a live action for the meeting to be concluded).
        let mut action_muts = Vec::new();
        let mut after_close = Vec::new();

        // Items carried from the last meeting come first, and are concluded this time.
        let mut items: Vec<(Uuid, AgendaItem)> = carried
            .drain(..)
            .map(|(from, item)| {
                (
                    carried_id(from),
                    AgendaItem {
                        meeting_id,
                        position: 0,
                        deferrals: item.deferrals + 1,
                        carried_from: Some(from),
                        status: ItemStatus::Discussed,
                        outcome: Some(Outcome::NoAction {
                            reason: "Settled since the last meeting; the GP keeps an eye".into(),
                        }),
                        ..item
                    },
                )
            })
            .collect();
        for j in 0..4usize {
            let lead_index = (k + j) % 5;
            let lead = team.members[lead_index];
            let (reason, question) = REASONS[(k + 2 * j) % REASONS.len()];
            let pattern = (k + j) % 7;
            let outcome = match pattern {
                4 => Outcome::NoAction {
                    reason: "Stable; the care in place is working".into(),
                },
                6 => Outcome::Deferred {
                    reason: "The lead professional could not attend".into(),
                },
                _ => Outcome::Decision {
                    text: DECISIONS[(k + j) % DECISIONS.len()].into(),
                },
            };
            let item = AgendaItem {
                team_id: team.id,
                meeting_id,
                kind: ItemKind::PatientDiscussion,
                title: String::new(),
                patient_id: Some(patients[(k * 3 + j) % patients.len()]),
                reason: reason.into(),
                question: question.into(),
                requested_by: Some(lead),
                requested_on: day - Duration::days(7 + ((k * 5 + j * 11) % 35) as i64),
                lead_professional_id: Some(lead),
                minutes: 15,
                position: 1024 * (j as i64 + 1),
                required_people: vec![lead],
                late: false,
                deferrals: 0,
                carried_from: None,
                status: ItemStatus::Discussed,
                outcome: Some(outcome.clone()),
                // The older summaries were sent; the last meeting's wait for the coordinator.
                summary_sent_on: (k + 1 < occurrences.len()
                    && !matches!(outcome, Outcome::Deferred { .. }))
                .then(|| day + Duration::days(1)),
                restricted: false,
                restricted_to: vec![],
                content_withheld: false,
            };
            let item_id = Uuid::new_v4();
            if matches!(outcome, Outcome::Deferred { .. }) {
                carried.push((
                    item_id,
                    AgendaItem {
                        status: ItemStatus::Open,
                        outcome: None,
                        summary_sent_on: None,
                        ..item.clone()
                    },
                ));
            }
            // Briefs: most ready two days or thirty hours ahead (in time for the 24-hour
            // cut-off), some only the morning of the meeting, every fifth never written.
            if (k + j) % 5 != 4 {
                let hours_ahead = [48, 30, 6, 20][(k + 3 * j) % 4];
                briefs.push((
                    starts_at - Duration::hours(hours_ahead),
                    brief_id_for(item_id),
                    Brief {
                        team_id: team.id,
                        item_id,
                        author_id: lead,
                        situation: reason.into(),
                        background: "Known to the practice and to adult social care.".into(),
                        assessment: "Needs are changing; the current plan no longer fits.".into(),
                        request: question.into(),
                        services_involved: "Home care, community nursing".into(),
                        risks: "Deterioration at home if nothing changes.".into(),
                        safeguarding_concern: false,
                        patient_wishes: "Wishes to stay at home.".into(),
                        consent_to_share: Some(true),
                        status: BriefStatus::Ready,
                    },
                ));
            }
            if let Outcome::Decision { text } = &outcome {
                let action_id = Uuid::new_v4();
                let due = day + Duration::days(14);
                let cancelled = k == 2 && j == 0;
                let late = (k * 2 + j) % 4 == 3;
                let done_on = if late {
                    due + Duration::days(6)
                } else {
                    due - Duration::days(3)
                };
                let status = if cancelled {
                    ActionStatus::Cancelled
                } else if done_on < today {
                    ActionStatus::Done
                } else {
                    ActionStatus::Accepted
                };
                let action = Action {
                    team_id: team.id,
                    description: format!("{text} (arrange)"),
                    owner_id: lead,
                    due,
                    patient_id: item.patient_id,
                    meeting_id: Some(meeting_id),
                    item_id: Some(item_id),
                    status,
                    completion_note: if status == ActionStatus::Done {
                        "Arranged and confirmed with the family".into()
                    } else {
                        String::new()
                    },
                    reason: if cancelled {
                        "The patient moved out of the area".into()
                    } else {
                        String::new()
                    },
                };
                // Tom answers his own; the coordinator answers for colleagues who do not sign
                // in, and says so.
                let on_behalf = if lead_index == 0 {
                    String::new()
                } else {
                    format!(" for {}, who does not sign in", team.names[lead_index])
                };
                let by = if lead_index == 0 { lead } else { coordinator };
                let mut history = vec![
                    (coordinator, ends_at, "agreed the action".to_string()),
                    (
                        by,
                        ends_at + Duration::days(1),
                        format!("accepted the action{on_behalf}"),
                    ),
                ];
                if status == ActionStatus::Done {
                    history.push((
                        by,
                        at_uk(done_on, 16, 0)?,
                        format!(
                            "{DONE_SUMMARY}{on_behalf}: Arranged and confirmed with the family"
                        ),
                    ));
                }
                if cancelled {
                    history.push((
                        coordinator,
                        ends_at + Duration::days(3),
                        "cancelled it: The patient moved out of the area".into(),
                    ));
                }
                if cancelled {
                    let accepted = Action {
                        status: ActionStatus::Accepted,
                        reason: String::new(),
                        ..action.clone()
                    };
                    action_muts.push(author.mutation(action_id, 0, &accepted));
                    after_close.push((action_id, action));
                } else if lead_index == 0 {
                    // Agreed as proposed by the coordinator; Tom accepts and finishes it himself.
                    let proposed = Action {
                        status: ActionStatus::Proposed,
                        completion_note: String::new(),
                        ..action.clone()
                    };
                    action_muts.push(author.mutation(action_id, 0, &proposed));
                    tom_batch.push((action_id, action));
                } else {
                    action_muts.push(author.mutation(action_id, 0, &action));
                }
                for (by, at, summary) in history {
                    events.push((
                        by,
                        ActionEvent {
                            team_id: team.id,
                            action_id,
                            by,
                            at,
                            summary,
                        },
                    ));
                }
            }
            items.push((item_id, item));
        }
        for (id, item) in &items {
            batch.push(author.mutation(*id, 0, item));
        }
        batch.append(&mut action_muts);
        // Who came: the district nurse misses every other meeting (below the two-thirds
        // target), the GP every third, the palliative care nurse sends apologies now and then.
        for (index, person) in std::iter::once(coordinator).chain(team.members).enumerate() {
            let status = match index {
                2 if k % 3 == 1 => AttendanceStatus::Absent,
                3 if k % 2 == 1 => AttendanceStatus::Absent,
                4 if k % 4 == 0 => AttendanceStatus::Apologies,
                _ => AttendanceStatus::Attended,
            };
            batch.push(author.mutation(
                Attendance::id_for(meeting_id, person),
                0,
                &Attendance {
                    team_id: team.id,
                    meeting_id,
                    person_id: person,
                    status,
                    deputy_id: None,
                },
            ));
        }
        author.push_all(batch, starts_at - Duration::days(3))?;
        for (at, id, brief) in briefs {
            let m = author.mutation(id, 0, &brief);
            author.push_all(vec![m], at)?;
        }
        // Tom answers his actions from his own device.
        let mut answers = Vec::new();
        for (id, action) in tom_batch {
            let accepted = Action {
                status: ActionStatus::Accepted,
                completion_note: String::new(),
                ..action.clone()
            };
            answers.push(tom.mutation(id, 1, &accepted));
            if action.status == ActionStatus::Done {
                answers.push(tom.mutation(id, 2, &action));
            }
        }
        let mut history = Vec::new();
        for (by, event) in events {
            let id = Uuid::new_v4();
            if by == team.members[0] {
                answers.push(tom.mutation(id, 0, &event));
            } else {
                history.push(author.mutation(id, 0, &event));
            }
        }
        if !answers.is_empty() {
            tom.push_all(answers, ends_at + Duration::days(1))?;
        }
        history.push(author.mutation(
            meeting_id,
            1,
            &Meeting {
                status: MeetingStatus::Closed,
                ..meeting
            },
        ));
        author.push_all(history, ends_at)?;
        for (id, action) in after_close {
            let m = author.mutation(id, 1, &action);
            author.push_all(vec![m], ends_at + Duration::days(3))?;
        }
    }
    Ok(())
}

/// The first day of the month `n` months before `date`'s.
fn months_before(date: NaiveDate, n: u32) -> NaiveDate {
    let index = date.year() * 12 + date.month0() as i32 - n as i32;
    NaiveDate::from_ymd_opt(index.div_euclid(12), index.rem_euclid(12) as u32 + 1, 1)
        .unwrap_or(date)
}

/// The `nth` Tuesday of a month.
fn nth_tuesday(year: i32, month: u32, nth: u8) -> NaiveDate {
    NaiveDate::from_weekday_of_month_opt(year, month, chrono::Weekday::Tue, nth).unwrap_or_default()
}
