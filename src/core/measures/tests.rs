//! The measures against a quarter of synthetic records worked out by hand (the working is in
//! the comments), with an empty month and the start of summer time at the edges.

use chrono::{DateTime, Duration, TimeZone, Utc};

use super::*;
use crate::core::agenda::Outcome;
use crate::core::attendance::AttendanceStatus;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn at(y: i32, m: u32, day: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, day, h, min, 0).unwrap()
}

const TEAM: Uuid = Uuid::from_u128(1);
const M_JAN: Uuid = Uuid::from_u128(10);
const M_FEB: Uuid = Uuid::from_u128(11);
/// 23:30 UTC on 31 March 2027 is 00:30 on 1 April in London (summer time began on 28 March).
const M_BST: Uuid = Uuid::from_u128(12);
const M_APR: Uuid = Uuid::from_u128(13);
const M_CANCELLED: Uuid = Uuid::from_u128(14);

fn meeting(starts_at: DateTime<Utc>, status: MeetingStatus) -> Meeting {
    Meeting {
        team_id: TEAM,
        starts_at,
        ends_at: starts_at + Duration::minutes(60),
        place: String::new(),
        video_link: None,
        status,
    }
}

fn item(
    meeting_id: Uuid,
    requested_on: NaiveDate,
    status: ItemStatus,
    outcome: Option<Outcome>,
    deferrals: u32,
) -> AgendaItem {
    AgendaItem {
        patient_id: Some(Uuid::from_u128(99)),
        requested_on,
        deferrals,
        status,
        outcome,
        ..AgendaItem::example(TEAM, meeting_id)
    }
}

fn decision() -> Option<Outcome> {
    Some(Outcome::Decision {
        text: "Refer".into(),
    })
}

fn action(due: NaiveDate, status: ActionStatus) -> Action {
    Action {
        team_id: TEAM,
        description: "Do it".into(),
        owner_id: Uuid::from_u128(7),
        due,
        patient_id: None,
        meeting_id: None,
        item_id: None,
        status,
        completion_note: if status == ActionStatus::Done {
            "Done".into()
        } else {
            String::new()
        },
        reason: if status == ActionStatus::Declined {
            "Not mine".into()
        } else {
            String::new()
        },
    }
}

fn done_at(action_id: u128, when: DateTime<Utc>) -> ActionEvent {
    ActionEvent {
        team_id: TEAM,
        action_id: Uuid::from_u128(action_id),
        by: Uuid::from_u128(7),
        at: when,
        summary: "marked it done: sent".into(),
    }
}

const COORDINATOR: Uuid = Uuid::from_u128(100);
const GP: Uuid = Uuid::from_u128(101);
const SOCIAL_WORKER: Uuid = Uuid::from_u128(102);
const GP_DEPUTY: Uuid = Uuid::from_u128(103);

fn team() -> Team {
    Team::example("Test MDT", COORDINATOR, vec![GP, SOCIAL_WORKER])
}

fn roles() -> HashMap<Uuid, Role> {
    HashMap::from([
        (COORDINATOR, Role::PracticeManager),
        (GP, Role::Gp),
        (SOCIAL_WORKER, Role::SocialWorker),
        (GP_DEPUTY, Role::Gp),
    ])
}

fn attended(meeting_id: Uuid, person_id: Uuid, status: AttendanceStatus) -> Attendance {
    Attendance {
        team_id: TEAM,
        meeting_id,
        person_id,
        status,
        deputy_id: None,
    }
}

struct Fixture {
    team: Team,
    roles: HashMap<Uuid, Role>,
    meetings: Vec<(Uuid, Meeting)>,
    items: Vec<(Uuid, AgendaItem)>,
    actions: Vec<(Uuid, Action)>,
    events: Vec<ActionEvent>,
    attendance: Vec<Attendance>,
    briefs_ready: Vec<(Uuid, DateTime<Utc>)>,
}

impl Fixture {
    fn records(&self) -> TeamRecords<'_> {
        TeamRecords {
            team: &self.team,
            roles: &self.roles,
            meetings: &self.meetings,
            items: &self.items,
            actions: &self.actions,
            events: &self.events,
            attendance: &self.attendance,
            briefs_ready: &self.briefs_ready,
        }
    }
}

fn fixture() -> Fixture {
    let mut standing = item(M_JAN, d(2027, 1, 1), ItemStatus::Discussed, decision(), 0);
    standing.kind = ItemKind::StandingItem;
    let id = Uuid::from_u128;
    use AttendanceStatus::{Absent, Apologies, Attended, Attending};
    Fixture {
        team: team(),
        roles: roles(),
        attendance: vec![
            // January, recorded: the coordinator and the GP came, the social worker did not.
            attended(M_JAN, COORDINATOR, Attended),
            attended(M_JAN, GP, Attended),
            attended(M_JAN, SOCIAL_WORKER, Absent),
            // February: only answers beforehand, never recorded, so left out.
            attended(M_FEB, COORDINATOR, Attending),
            attended(M_FEB, GP, Attending),
            // 1 April (UK): the GP sent apologies and a deputy who came; the social worker came;
            // the coordinator was not recorded at all (expected, so missed).
            Attendance {
                deputy_id: Some(GP_DEPUTY),
                ..attended(M_BST, GP, Apologies)
            },
            attended(M_BST, GP_DEPUTY, Attended),
            attended(M_BST, SOCIAL_WORKER, Attended),
        ],
        briefs_ready: vec![
            // The January meeting starts 13:00 UTC on 12 January; with a 24-hour cut-off the
            // briefs are due by 13:00 on the 11th: A exactly then (in time), B a minute late.
            (id(20), at(2027, 1, 11, 13, 0)),
            (id(21), at(2027, 1, 11, 13, 1)),
            // D well before the February meeting.
            (id(24), at(2027, 2, 1, 9, 0)),
            // F exactly 24 hours before 23:30 UTC on 31 March.
            (id(26), at(2027, 3, 30, 23, 30)),
            // A brief for an item on the meeting to come: not in any held period.
            (id(27), at(2027, 3, 10, 9, 0)),
        ],
        meetings: vec![
            (
                M_JAN,
                meeting(at(2027, 1, 12, 13, 0), MeetingStatus::Closed),
            ),
            (M_FEB, meeting(at(2027, 2, 9, 13, 0), MeetingStatus::Closed)),
            (
                M_BST,
                meeting(at(2027, 3, 31, 23, 30), MeetingStatus::Closed),
            ),
            (
                M_APR,
                meeting(at(2027, 4, 13, 12, 0), MeetingStatus::Planned),
            ),
            (
                M_CANCELLED,
                meeting(at(2027, 1, 26, 13, 0), MeetingStatus::Cancelled),
            ),
        ],
        items: vec![
            // January: A concluded 10 days after its request; B 28 days, deferred once
            // before; C deferred; a standing item (not a patient item).
            (
                id(20),
                item(M_JAN, d(2027, 1, 2), ItemStatus::Discussed, decision(), 0),
            ),
            (
                id(21),
                item(
                    M_JAN,
                    d(2026, 12, 15),
                    ItemStatus::Discussed,
                    Some(Outcome::NoAction {
                        reason: "Stable".into(),
                    }),
                    1,
                ),
            ),
            (
                id(22),
                item(
                    M_JAN,
                    d(2027, 1, 5),
                    ItemStatus::Discussed,
                    Some(Outcome::Deferred {
                        reason: "GP away".into(),
                    }),
                    0,
                ),
            ),
            (id(23), standing),
            // February: D concluded 20 days after its request, deferred twice; E never reached.
            (
                id(24),
                item(M_FEB, d(2027, 1, 20), ItemStatus::Discussed, decision(), 2),
            ),
            (
                id(25),
                item(M_FEB, d(2027, 2, 1), ItemStatus::Open, None, 0),
            ),
            // The meeting on 1 April (UK): F concluded 31 days after its request.
            (
                id(26),
                item(M_BST, d(2027, 3, 1), ItemStatus::Discussed, decision(), 0),
            ),
            // Waiting on the April meeting: G since 5 March, H since 20 March.
            (
                id(27),
                item(M_APR, d(2027, 3, 5), ItemStatus::Open, None, 0),
            ),
            (
                id(28),
                item(M_APR, d(2027, 3, 20), ItemStatus::Open, None, 0),
            ),
            // On the cancelled meeting: neither measured nor waiting.
            (
                id(29),
                item(M_CANCELLED, d(2027, 1, 1), ItemStatus::Open, None, 0),
            ),
        ],
        actions: vec![
            (id(41), action(d(2027, 1, 20), ActionStatus::Done)),
            (id(42), action(d(2027, 1, 25), ActionStatus::Done)),
            (id(43), action(d(2027, 1, 28), ActionStatus::Accepted)),
            (id(44), action(d(2027, 1, 29), ActionStatus::Cancelled)),
            (id(45), action(d(2027, 2, 15), ActionStatus::Done)),
            (id(46), action(d(2027, 3, 31), ActionStatus::Done)),
            (id(47), action(d(2027, 4, 30), ActionStatus::Proposed)),
            (id(48), action(d(2027, 5, 15), ActionStatus::Declined)),
        ],
        events: vec![
            // On time: 23:30 UTC on 20 January is still 20 January in London (winter).
            done_at(41, at(2027, 1, 20, 23, 30)),
            // Late by ten minutes past midnight.
            done_at(42, at(2027, 1, 26, 0, 10)),
            done_at(45, at(2027, 2, 10, 9, 0)),
            // Late: 23:30 UTC on 31 March is 1 April in London (summer).
            done_at(46, at(2027, 3, 31, 23, 30)),
        ],
    }
}

#[test]
fn a_quarter_worked_out_by_hand() {
    let f = fixture();
    let q1 = f.records().measure(Period {
        from: d(2027, 1, 1),
        to: d(2027, 3, 31),
    });
    // Held: January and February (the 31 March 23:30 UTC meeting is 1 April in London).
    assert_eq!(q1.meetings_held, 2);
    // Patient items A, B, C, D, E; concluded A, B, D; not C (deferred) or E (never reached).
    assert_eq!(
        (q1.patient_items, q1.concluded, q1.not_concluded),
        (5, 3, 2)
    );
    let mut days = q1.days_to_discussion.clone();
    days.sort_unstable();
    assert_eq!(days, vec![10, 20, 28]);
    // Nearest rank: median is the 2nd of 3 (20), the 90th percentile the 3rd (28).
    assert_eq!((q1.median_days(), q1.p90_days()), (Some(20), Some(28)));
    // Deferrals before being concluded: B once, D twice.
    assert_eq!(q1.deferrals, 3);
    // Due in the quarter, not cancelled: 41, 42, 43, 45, 46; on time: 41 and 45.
    assert_eq!((q1.actions_due, q1.done_by_due), (5, 2));
    // Briefs of the five patient items ready by the cut-off: A and D (B a minute late; C and E
    // had none).
    assert_eq!(q1.briefs_ready_by_cutoff, 2);
    // Attendance: only January was recorded (February's answers are not records).
    assert_eq!(
        q1.attendance
            .iter()
            .map(|r| (r.role, r.attended, r.expected))
            .collect::<Vec<_>>(),
        vec![
            (Role::Gp, 1, 1),
            (Role::PracticeManager, 1, 1),
            (Role::SocialWorker, 0, 1)
        ]
    );
}

#[test]
fn attendance_and_briefs_in_the_month_summer_time_began() {
    let f = fixture();
    let april = f.records().measure(Period {
        from: d(2027, 4, 1),
        to: d(2027, 4, 30),
    });
    // F's brief was ready exactly at the cut-off.
    assert_eq!((april.patient_items, april.briefs_ready_by_cutoff), (1, 1));
    // The GP counts as attending through the deputy who came; the deputy is not a member so
    // is not expected; the coordinator, not recorded, missed it.
    assert_eq!(
        april
            .attendance
            .iter()
            .map(|r| (r.role, r.attended, r.expected))
            .collect::<Vec<_>>(),
        vec![
            (Role::Gp, 1, 1),
            (Role::PracticeManager, 0, 1),
            (Role::SocialWorker, 1, 1)
        ]
    );
    // A month with no held meeting has no attendance and no briefs.
    let march = f.records().measure(Period {
        from: d(2027, 3, 1),
        to: d(2027, 3, 31),
    });
    assert!(march.attendance.is_empty());
    assert_eq!(march.briefs_ready_by_cutoff, 0);
}

#[test]
fn shares_csv_and_sentences_from_the_hand_worked_quarter() {
    let f = fixture();
    let query = MeasuresQuery {
        from: Some(d(2027, 1, 1)),
        to: Some(d(2027, 4, 30)),
        by: Some("quarter".into()),
    };
    let report = f.records().report(&query, d(2027, 4, 1)).unwrap();
    let q1 = &report.lines[0];
    // 3 of 5 concluded is 60%; 2 of 5 on time is 40%; 2 of 5 briefs 40%; 3 deferrals over 3
    // concluded items is 1.0 each.
    assert_eq!(q1.concluded_percent(), Some(60));
    assert_eq!(q1.done_by_due_percent(), Some(40));
    assert_eq!(q1.briefs_ready_percent(), Some(40));
    assert_eq!(
        q1.deferrals_per_item_tenths().map(tenths),
        Some("1.0".into())
    );
    assert_eq!(q1.attendance_percent(Role::SocialWorker), Some(0));
    assert_eq!(q1.attendance_percent(Role::Pharmacist), None);
    // The whole range (1 January to 30 April): A, B, D, F concluded of 6 patient items; waits
    // 10, 20, 28, 31: median the 2nd (20), 90th percentile the 4th (31).
    let w = &report.whole;
    assert_eq!((w.patient_items, w.concluded), (6, 4));
    assert_eq!(
        (w.median_days_to_discussion, w.p90_days_to_discussion),
        (Some(20), Some(31))
    );
    assert_eq!(
        report.concluded_summary(),
        "67% of 6 patient items discussed from 1 Jan 2027 to 30 Apr 2027 were concluded with an outcome."
    );
    // Due in the range: 41, 42, 43, 45, 46, 47; on time 41 and 45: 2 of 6 is 33%.
    assert_eq!(
        report.done_by_due_summary(),
        "33% of 6 actions due from 1 Jan 2027 to 30 Apr 2027 were done by their due date."
    );
    // Deferrals 1 + 2 over 4 concluded items: 0.75, shown to one place rounded half up.
    assert_eq!(
        report.waiting_summary(),
        "People waited a median of 20 days from the request to the discussion that concluded their item (9 in 10 within 31 days); each had been deferred 0.8 times on average."
    );
    // Over both recorded meetings: GP 2 of 2, practice manager 1 of 2, social worker 1 of 2.
    assert_eq!(
        report.attendance_summary(),
        "Below the two-thirds attendance target: practice managers, social workers."
    );
    // A, D and F of 6.
    assert_eq!(
        report.briefs_summary(),
        "50% of 6 patient items had their brief ready by the cut-off."
    );
    assert_eq!(
        report.backlog_summary(),
        "2 patient items are waiting to be discussed, the oldest asked for on 5 Mar 2027; 2 actions nobody has taken on."
    );

    let csv = report.to_csv();
    let rows: Vec<&str> = csv.split("\r\n").collect();
    assert!(rows[0].starts_with("From,To,Meetings held,Patient items,"));
    assert!(rows[0].ends_with(
        "GP attended,GP expected,Practice manager attended,Practice manager expected,Social worker attended,Social worker expected"
    ));
    assert_eq!(
        rows[1],
        "2027-01-01,2027-03-31,2,5,3,60,20,28,3,1.0,5,2,40,2,40,1,1,1,1,0,1"
    );
    // April: the 1 April meeting; the proposed action due on the 30th; F's brief in time.
    assert_eq!(
        rows[2],
        "2027-04-01,2027-04-30,1,1,1,100,31,31,0,0.0,1,0,0,1,100,1,1,0,1,1,1"
    );
    assert_eq!(rows[3], "");
    assert_eq!(
        &rows[4..],
        &[
            "Patient items waiting now,Waiting since,Actions nobody has taken on",
            "2,2027-03-05,2",
            ""
        ]
    );
}

#[test]
fn shares_round_half_up_and_never_divide_by_nothing() {
    assert_eq!(percent(0, 0), None);
    assert_eq!(percent(1, 3), Some(33));
    assert_eq!(percent(2, 3), Some(67));
    assert_eq!(percent(1, 8), Some(13), "12.5 rounds up");
    assert_eq!(percent(5, 3), Some(100), "a part above the whole is capped");
    assert_eq!(percent(usize::MAX, usize::MAX), Some(100));
    assert_eq!(percent(1, usize::MAX), Some(0));
    assert_eq!(tenths(0), "0.0");
    assert_eq!(tenths(15), "1.5");
    assert_eq!(tenths(u64::MAX), "1844674407370955161.5");
}

#[test]
fn months_include_an_empty_one_and_the_summer_time_edge() {
    let f = fixture();
    let months: Vec<PeriodMeasures> = periods(d(2027, 1, 1), d(2027, 4, 30), Granularity::Month)
        .into_iter()
        .map(|p| f.records().measure(p))
        .collect();
    let row = |m: &PeriodMeasures| {
        (
            m.meetings_held,
            m.patient_items,
            m.concluded,
            m.median_days(),
            m.p90_days(),
            m.actions_due,
            m.done_by_due,
        )
    };
    // January: A (10 days) and B (28): median the 1st of 2, 90th percentile the 2nd.
    assert_eq!(row(&months[0]), (1, 3, 2, Some(10), Some(28), 3, 1));
    assert_eq!(row(&months[1]), (1, 2, 1, Some(20), Some(20), 1, 1));
    // March: no meeting held; one action due, done late (the summer time edge).
    assert_eq!(row(&months[2]), (0, 0, 0, None, None, 1, 0));
    // April: the meeting of 1 April (UK) with F; the proposed action due on the 30th.
    assert_eq!(row(&months[3]), (1, 1, 1, Some(31), Some(31), 1, 0));
    assert_eq!(months[0].deferrals, 1);
    assert_eq!(months[1].deferrals, 2);
}

#[test]
fn the_backlog_now_and_actions_nobody_has_taken_on() {
    let f = fixture();
    let backlog = f.records().backlog(d(2027, 4, 1));
    // G and H wait for the April meeting; the cancelled meeting's item does not count.
    assert_eq!(backlog.waiting, 2);
    assert_eq!(backlog.oldest, Some((Uuid::from_u128(27), d(2027, 3, 5))));
    // Proposed (47) and declined (48); accepted and finished ones are someone's.
    assert_eq!(backlog.unallocated, 2);
    // After the April meeting's day nothing waits on it.
    assert_eq!(f.records().backlog(d(2027, 4, 14)).waiting, 0);
    let (team, roles) = (team(), roles());
    let empty = TeamRecords {
        team: &team,
        roles: &roles,
        meetings: &[],
        items: &[],
        actions: &[],
        events: &[],
        attendance: &[],
        briefs_ready: &[],
    };
    assert_eq!(
        empty.backlog(d(2027, 4, 1)),
        Backlog {
            waiting: 0,
            oldest: None,
            unallocated: 0
        }
    );
}

#[test]
fn periods_cut_to_the_range_and_percentiles_at_their_edges() {
    let by_month = periods(d(2027, 1, 15), d(2027, 4, 1), Granularity::Month);
    assert_eq!(
        by_month,
        vec![
            Period {
                from: d(2027, 1, 15),
                to: d(2027, 1, 31)
            },
            Period {
                from: d(2027, 2, 1),
                to: d(2027, 2, 28)
            },
            Period {
                from: d(2027, 3, 1),
                to: d(2027, 3, 31)
            },
            Period {
                from: d(2027, 4, 1),
                to: d(2027, 4, 1)
            },
        ]
    );
    assert_eq!(
        periods(d(2026, 11, 20), d(2027, 4, 1), Granularity::Quarter),
        vec![
            Period {
                from: d(2026, 11, 20),
                to: d(2026, 12, 31)
            },
            Period {
                from: d(2027, 1, 1),
                to: d(2027, 3, 31)
            },
            Period {
                from: d(2027, 4, 1),
                to: d(2027, 4, 1)
            },
        ]
    );
    assert!(periods(d(2027, 2, 1), d(2027, 1, 31), Granularity::Month).is_empty());
    // The last month dates can hold ends the list without a panic.
    let end = periods(
        NaiveDate::MAX.with_day(1).unwrap(),
        NaiveDate::MAX,
        Granularity::Quarter,
    );
    assert_eq!(end.last().map(|p| p.to), Some(NaiveDate::MAX));

    assert_eq!(percentile(&[], 50), None);
    assert_eq!(percentile(&[5], 50), Some(5));
    assert_eq!(percentile(&[5], 90), Some(5));
    assert_eq!(percentile(&[4, 1, 3, 2], 50), Some(2));
    assert_eq!(percentile(&[4, 1, 3, 2], 90), Some(4));
    assert_eq!(
        percentile(&[4, 1, 3, 2], 0),
        Some(1),
        "0 is taken as the least"
    );
    assert_eq!(
        percentile(&[4, 1, 3, 2], 250),
        Some(4),
        "above 100 is the most"
    );
    assert_eq!(percentile(&[i64::MIN, i64::MAX], 50), Some(i64::MIN));
}

#[test]
fn a_request_defaults_to_twelve_months_by_month_and_refuses_bad_ranges() {
    let today = d(2027, 4, 1);
    let f = fixture();
    let report = f
        .records()
        .report(&MeasuresQuery::default(), today)
        .unwrap();
    // 1 May 2026 to 1 April 2027: twelve lines, the last one day long.
    assert_eq!(report.lines.len(), 12);
    assert_eq!(report.lines[0].from, d(2026, 5, 1));
    assert_eq!(report.lines[11].from, d(2027, 4, 1));
    assert_eq!(report.lines[11].to, today);
    let january = &report.lines[8];
    assert_eq!(january.from, d(2027, 1, 1));
    assert_eq!(
        (
            january.concluded,
            january.median_days_to_discussion,
            january.done_by_due
        ),
        (2, Some(10), 1)
    );
    assert_eq!(
        (
            report.waiting,
            report.waiting_since,
            report.unallocated_actions
        ),
        (2, Some(d(2027, 3, 5)), 2)
    );
    // By quarter, a given range.
    let by_quarter = MeasuresQuery {
        from: Some(d(2027, 1, 1)),
        to: Some(d(2027, 6, 30)),
        by: Some("quarter".into()),
    };
    let report = f.records().report(&by_quarter, today).unwrap();
    assert_eq!(report.lines.len(), 2);
    assert_eq!(
        (report.lines[0].actions_due, report.lines[0].done_by_due),
        (5, 2)
    );
    // Wrong cut, reversed range, too long a range: refused in words.
    let refused = |q: MeasuresQuery| f.records().report(&q, today).unwrap_err().message;
    assert_eq!(
        refused(MeasuresQuery {
            by: Some("week".into()),
            ..MeasuresQuery::default()
        }),
        "Choose measures by month or by quarter"
    );
    assert_eq!(
        refused(MeasuresQuery {
            from: Some(d(2027, 2, 1)),
            to: Some(d(2027, 1, 1)),
            by: None,
        }),
        "The start of the range must be on or before its end"
    );
    assert_eq!(
        refused(MeasuresQuery {
            from: Some(NaiveDate::MIN),
            to: Some(NaiveDate::MAX),
            by: None,
        }),
        "Choose a range of ten years or less"
    );
    // The widest range allowed, at the end of what dates hold: answered, never a panic.
    let last = MeasuresQuery {
        from: Some(NaiveDate::MAX - Duration::days(MAX_RANGE_DAYS)),
        to: Some(NaiveDate::MAX),
        by: Some("quarter".into()),
    };
    assert!(f.records().report(&last, today).unwrap().lines.len() >= 40);
    // A default range starting near the first date there is.
    let early = MeasuresQuery {
        to: Some(NaiveDate::MIN),
        ..MeasuresQuery::default()
    };
    assert_eq!(f.records().report(&early, today).unwrap().lines.len(), 1);
}

#[test]
fn range_ends_typed_as_day_month_and_year() {
    let read = |d, m, y| date_from_parts("from", "The start of the range", d, m, y);
    assert_eq!(read("", " ", ""), Ok(None));
    assert_eq!(read("1", "4", "2026"), Ok(Some(d(2026, 4, 1))));
    assert_eq!(read(" 29", "02 ", "2028"), Ok(Some(d(2028, 2, 29))));
    assert_eq!(
        read("29", "2", "2027").unwrap_err().message,
        "The start of the range must be a real date"
    );
    for (day, month, year) in [
        ("1", "", "2026"),
        ("1", "4", "26"),
        ("x", "4", "2026"),
        ("1", "4", "-2026"),
        ("123", "4", "2026"),
        ("1", "4", "99999999999"),
    ] {
        let error = read(day, month, year).unwrap_err();
        assert_eq!(error.field.as_deref(), Some("from"));
        assert_eq!(
            error.message,
            "The start of the range must be a day, month and year, like 1 4 2026"
        );
    }
}
