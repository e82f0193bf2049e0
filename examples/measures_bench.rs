//! Measures benchmark (native): the server working out a year of a team's measures by month
//! over a team of about 10,000 records (a year of weekly meetings, their items, actions with
//! their history, attendance and briefs), beside reading the same records alone (the baseline,
//! measured in the same run). Prints figures for BENCHMARKS.md.
//!
//! `cargo run --release --example measures_bench`

fn main() {
    #[cfg(not(target_arch = "wasm32"))]
    native::run();
}

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use std::time::Instant;

    use chrono::{Duration, NaiveDate, TimeZone, Utc};
    use mdt::core::action::{Action, ActionEvent, ActionStatus};
    use mdt::core::agenda::{AgendaItem, ItemKind, ItemStatus, Outcome};
    use mdt::core::attendance::{Attendance, AttendanceStatus};
    use mdt::core::brief::{brief_id_for, Brief, BriefStatus};
    use mdt::core::entities::{Entity, Meeting, MeetingStatus, Person, Role, Team};
    use mdt::core::measures::MeasuresQuery;
    use mdt::core::patient::{synthetic_nhs_numbers, Patient};
    use mdt::core::sync::{Mutation, MutationOp, MutationResult};
    use mdt::server::demo::{add_user, NewUser};
    use mdt::server::measures::StoredRecords;
    use mdt::server::store::{Actor, Store};
    use uuid::Uuid;

    struct Writer {
        device: Uuid,
        seq: u64,
        batch: Vec<Mutation>,
    }

    impl Writer {
        fn put<E: Entity>(&mut self, id: Uuid, base_version: u64, entity: &E) {
            self.seq += 1;
            self.batch.push(Mutation {
                mutation_id: Uuid::new_v4(),
                seq: self.seq,
                entity: E::KIND,
                id,
                base_version,
                op: MutationOp::Update {
                    fields: entity.to_fields(),
                },
            });
        }

        fn flush(&mut self, store: &Store, actor: &Actor, at: chrono::DateTime<Utc>) {
            for chunk in std::mem::take(&mut self.batch).chunks(500) {
                let results = store
                    .push_blocking(actor, self.device, chunk, at)
                    .expect("push");
                if let Some(refused) = results
                    .iter()
                    .find(|r| !matches!(r, MutationResult::Applied { .. }))
                {
                    panic!("the benchmark's data was not accepted: {refused:?}");
                }
            }
        }
    }

    fn median(mut runs: Vec<f64>) -> f64 {
        runs.sort_by(f64::total_cmp);
        runs[runs.len() / 2]
    }

    pub fn run() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(dir.path()).expect("store");
        let user = add_user(
            &store,
            &NewUser {
                email: "pat.coordinator@example.nhs.net",
                name: "Pat Coordinator",
                role: Role::PracticeManager,
                password: "correct-horse-battery",
            },
            Utc::now(),
        )
        .expect("user");
        let actor = Actor {
            user_id: user.id,
            person_id: user.person_id,
            name: "Pat Coordinator".into(),
            session: "benchmark".into(),
        };
        let mut w = Writer {
            device: Uuid::new_v4(),
            seq: 0,
            batch: Vec::new(),
        };
        let today = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        let roles = [
            Role::Gp,
            Role::SocialWorker,
            Role::DistrictNurse,
            Role::PalliativeCareNurse,
            Role::CareNavigator,
        ];
        let members: Vec<Uuid> = (0..9).map(|_| Uuid::new_v4()).collect();
        for (i, id) in members.iter().enumerate() {
            w.put(
                *id,
                0,
                &Person {
                    name: format!("Synthetic Member {i}"),
                    role: roles[i % roles.len()],
                    organisation_id: None,
                    phone: None,
                    email: None,
                    last_confirmed: today,
                },
            );
        }
        let team_id = Uuid::new_v4();
        let team = Team {
            name: "Benchmark MDT".into(),
            coordinator_id: user.person_id,
            member_ids: members.clone(),
            observer_ids: vec![],
            required_roles: vec![],
            default_minutes: 120,
            place: String::new(),
            video_link: None,
            agenda_cutoff_hours: 48,
            brief_cutoff_hours: 24,
            archived: false,
            observers_see_measures: false,
            email_people_without_accounts: false,
        };
        w.put(team_id, 0, &team);
        let patients: Vec<Uuid> = synthetic_nhs_numbers()
            .take(300)
            .enumerate()
            .map(|(i, nhs)| {
                let id = Uuid::new_v4();
                w.put(
                    id,
                    0,
                    &Patient {
                        team_id,
                        nhs_number: nhs,
                        name: format!("Patient {i} Synthetic"),
                        date_of_birth: NaiveDate::from_ymd_opt(1940, 1, 1).unwrap(),
                        registered_practice_id: None,
                        lead_professional_id: None,
                        objects_to_sharing: false,
                    },
                );
                id
            })
            .collect();
        let start = Utc.with_ymd_and_hms(2025, 12, 2, 13, 0, 0).unwrap();
        w.flush(&store, &actor, start - Duration::days(30));
        let mut briefs_written = 0;
        for week in 0..52i64 {
            let starts_at = start + Duration::weeks(week);
            let meeting_id = Uuid::new_v4();
            let meeting = Meeting {
                team_id,
                starts_at,
                ends_at: starts_at + Duration::hours(2),
                place: String::new(),
                video_link: None,
                status: MeetingStatus::Planned,
            };
            w.put(meeting_id, 0, &meeting);
            let day = starts_at.date_naive();
            let mut actions = Vec::new();
            for j in 0..40usize {
                let item_id = Uuid::new_v4();
                let owner = members[(week as usize + j) % members.len()];
                w.put(
                    item_id,
                    0,
                    &AgendaItem {
                        team_id,
                        meeting_id,
                        kind: ItemKind::PatientDiscussion,
                        title: String::new(),
                        patient_id: Some(patients[(week as usize * 40 + j) % patients.len()]),
                        reason: "Synthetic reason".into(),
                        question: "Synthetic question?".into(),
                        requested_by: Some(owner),
                        requested_on: day - Duration::days(5 + (j as i64 % 30)),
                        lead_professional_id: Some(owner),
                        minutes: 3,
                        position: 1024 * (j as i64 + 1),
                        required_people: vec![],
                        late: false,
                        deferrals: (j % 3) as u32,
                        carried_from: None,
                        status: ItemStatus::Discussed,
                        outcome: Some(Outcome::Decision {
                            text: "Synthetic decision".into(),
                        }),
                        summary_sent_on: None,
                        restricted: false,
                        restricted_to: vec![],
                        content_withheld: false,
                    },
                );
                let action_id = Uuid::new_v4();
                let done = j % 4 != 0;
                actions.push((
                    action_id,
                    Action {
                        team_id,
                        description: "Synthetic action".into(),
                        owner_id: owner,
                        due: day + Duration::days(14),
                        patient_id: None,
                        meeting_id: Some(meeting_id),
                        item_id: Some(item_id),
                        status: if done {
                            ActionStatus::Done
                        } else {
                            ActionStatus::Accepted
                        },
                        completion_note: if done { "Done".into() } else { String::new() },
                        reason: String::new(),
                    },
                ));
                if j < 14 {
                    w.put(
                        brief_id_for(item_id),
                        0,
                        &Brief {
                            team_id,
                            item_id,
                            author_id: owner,
                            situation: "Synthetic situation".into(),
                            request: "Synthetic request".into(),
                            consent_to_share: Some(true),
                            status: BriefStatus::Ready,
                            ..Brief::default()
                        },
                    );
                    briefs_written += 1;
                }
            }
            for (id, action) in &actions {
                w.put(*id, 0, action);
                for (n, summary) in ["agreed the action", "marked it done: Done"]
                    .iter()
                    .enumerate()
                {
                    w.put(
                        Uuid::new_v4(),
                        0,
                        &ActionEvent {
                            team_id,
                            action_id: *id,
                            by: user.person_id,
                            at: starts_at + Duration::days(n as i64 * 10),
                            summary: (*summary).into(),
                        },
                    );
                }
            }
            for (i, person) in std::iter::once(user.person_id)
                .chain(members.iter().copied())
                .enumerate()
            {
                w.put(
                    Attendance::id_for(meeting_id, person),
                    0,
                    &Attendance {
                        team_id,
                        meeting_id,
                        person_id: person,
                        status: if (i + week as usize).is_multiple_of(4) {
                            AttendanceStatus::Absent
                        } else {
                            AttendanceStatus::Attended
                        },
                        deputy_id: None,
                    },
                );
            }
            w.put(
                meeting_id,
                1,
                &Meeting {
                    status: MeetingStatus::Closed,
                    ..meeting
                },
            );
            w.flush(&store, &actor, starts_at - Duration::days(2));
        }
        let records: i64 = store
            .read_blocking(|db| {
                db.query_one(
                    "SELECT COUNT(*) FROM records WHERE team_id = $1",
                    mdt::args![team_id],
                )?
                .int(0)
            })
            .expect("count");
        println!(
            "team of {records} records (52 meetings, 2,080 items, 2,080 actions, 4,160 history lines, 520 attendance records, {briefs_written} briefs, 300 patients)"
        );

        let query = MeasuresQuery {
            from: Some(NaiveDate::from_ymd_opt(2025, 12, 1).unwrap()),
            to: Some(today),
            by: Some("month".into()),
        };
        let runs = 15;
        let (mut read_only, mut whole, mut compute_only) = (Vec::new(), Vec::new(), Vec::new());
        let mut lines = 0;
        for _ in 0..runs {
            let started = Instant::now();
            let stored = store
                .read_blocking(|db| StoredRecords::load(db, team_id))
                .expect("read");
            read_only.push(started.elapsed().as_secs_f64() * 1000.0);

            let started = Instant::now();
            let report = store
                .read_blocking(|db| {
                    let stored = StoredRecords::load(db, team_id)?;
                    stored
                        .records()
                        .report(&query, today)
                        .map_err(|e| mdt::server::error::Error::BadRequest(e.message))
                })
                .expect("measures");
            whole.push(started.elapsed().as_secs_f64() * 1000.0);
            lines = report.lines.len();
            assert!(report.whole.patient_items > 2000, "{:?}", report.whole);

            let started = Instant::now();
            let report = stored.records().report(&query, today).expect("report");
            compute_only.push(started.elapsed().as_secs_f64() * 1000.0);
            std::hint::black_box(report);
        }
        let (read, all, compute) = (median(read_only), median(whole), median(compute_only));
        println!(
            "BENCH measures: reading the team's records (baseline): {read:.1} ms median of {runs}"
        );
        println!(
            "BENCH measures: a year of measures by month ({lines} lines), read and worked out: {all:.1} ms median ({:.2}x the baseline)",
            all / read
        );
        println!(
            "BENCH measures: working out alone (records already read): {compute:.1} ms median ({:.2}x the baseline)",
            compute / read
        );
    }
}
