//! Sync benchmark (native): durable pushes per second, unbatched and batched, and the initial
//! sync of a team holding 10,000 records. Prints figures for BENCHMARKS.md.
//!
//! `cargo run --release --example sync_bench` (the database goes in a temporary directory on
//! the same disk as the system's temp dir; every push is one SQLite transaction in WAL mode with
//! `synchronous=FULL`, so each includes a real fsync).

fn main() {
    #[cfg(not(target_arch = "wasm32"))]
    native::run();
}

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use std::time::Instant;

    use chrono::{Duration, NaiveDate, Utc};
    use mdt::core::agenda::{AgendaItem, ItemKind, ItemStatus};
    use mdt::core::entities::{
        Entity, Meeting, MeetingStatus, Organisation, OrganisationKind, Role, Team,
    };
    use mdt::core::patient::Patient;
    use mdt::core::sync::{Mutation, MutationOp, PullResponse, Replica};
    use mdt::server::demo::{add_user, NewUser};
    use mdt::server::store::{Actor, Store};
    use uuid::Uuid;

    struct Device {
        id: Uuid,
        seq: u64,
    }

    impl Device {
        fn mutation<E: Entity>(&mut self, id: Uuid, entity: &E) -> Mutation {
            self.seq += 1;
            Mutation {
                mutation_id: Uuid::new_v4(),
                seq: self.seq,
                entity: E::KIND,
                id,
                base_version: 0,
                op: MutationOp::Update {
                    fields: entity.to_fields(),
                },
            }
        }
    }

    fn push(store: &Store, actor: &Actor, device: Uuid, batch: &[Mutation]) {
        let results = store
            .push_blocking(actor, device, batch, Utc::now())
            .expect("push");
        if let Some(refused) = results
            .iter()
            .find(|r| !matches!(r, mdt::core::sync::MutationResult::Applied { .. }))
        {
            panic!("the benchmark's data was not accepted: {refused:?}");
        }
    }

    pub fn run() {
        let dir = tempfile::tempdir().expect("temp dir");
        // `MDT_BENCH_DATABASE_URL=postgres://…` measures PostgreSQL instead (an empty database).
        let store = match std::env::var("MDT_BENCH_DATABASE_URL") {
            Ok(url) if !url.is_empty() => Store::connect(&url).expect("database"),
            _ => Store::open(dir.path()).expect("store"),
        };
        println!("engine: {:?}", store.engine());
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

        // Durable pushes: one change per push, then 100 changes per push.
        let org = |i: usize| Organisation {
            name: format!("Synthetic practice {i}"),
            kind: OrganisationKind::GpPractice,
        };
        let mut device = Device {
            id: Uuid::new_v4(),
            seq: 0,
        };
        let unbatched = 1000;
        let started = Instant::now();
        for i in 0..unbatched {
            let m = device.mutation(Uuid::new_v4(), &org(i));
            push(&store, &actor, device.id, &[m]);
        }
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "BENCH durable-push unbatched: {unbatched} pushes of 1 change in {:.2} s: {:.0} pushes/s ({:.2} ms each)",
            seconds,
            unbatched as f64 / seconds,
            seconds * 1000.0 / unbatched as f64
        );
        let (batches, per_batch) = (60, 100);
        let started = Instant::now();
        for b in 0..batches {
            let batch: Vec<Mutation> = (0..per_batch)
                .map(|i| device.mutation(Uuid::new_v4(), &org(10_000 + b * per_batch + i)))
                .collect();
            push(&store, &actor, device.id, &batch);
        }
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "BENCH durable-push batched: {batches} pushes of {per_batch} changes in {:.2} s: {:.0} pushes/s, {:.0} changes/s",
            seconds,
            batches as f64 / seconds,
            (batches * per_batch) as f64 / seconds
        );

        // Many devices at once, as a region's server sees them: eight devices, each pushing one
        // change at a time, all together. Every push still waits for the one before it to
        // commit (the change log is written in order), but the work around it overlaps.
        let (devices, each) = (8, 250);
        let started = Instant::now();
        std::thread::scope(|scope| {
            for d in 0..devices {
                let (store, actor) = (&store, &actor);
                scope.spawn(move || {
                    let mut device = Device {
                        id: Uuid::new_v4(),
                        seq: 0,
                    };
                    for i in 0..each {
                        let m = device.mutation(Uuid::new_v4(), &org(20_000 + d * each + i));
                        push(store, actor, device.id, &[m]);
                    }
                });
            }
        });
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "BENCH durable-push concurrent: {devices} devices at once, {} pushes of 1 change in {:.2} s: {:.0} pushes/s",
            devices * each,
            seconds,
            (devices * each) as f64 / seconds
        );

        // A team with 10,000 records: the team, 50 meetings, 4,975 patients and as many items.
        let team_id = Uuid::new_v4();
        let mut setup = Device {
            id: Uuid::new_v4(),
            seq: 0,
        };
        // A member who is outside every restricted item.
        let mo = add_user(
            &store,
            &NewUser {
                email: "mo.member@example.nhs.net",
                name: "Mo Member",
                role: Role::Gp,
                password: "correct-horse-battery",
            },
            Utc::now(),
        )
        .expect("user");
        let mo = Actor {
            user_id: mo.id,
            person_id: mo.person_id,
            name: "Mo Member".into(),
            session: "benchmark".into(),
        };
        let team = Team {
            name: "Benchmark MDT".into(),
            coordinator_id: actor.person_id,
            member_ids: vec![mo.person_id],
            observer_ids: vec![],
            required_roles: vec![Role::Gp.into()],
            default_minutes: 90,
            place: String::new(),
            video_link: None,
            agenda_cutoff_hours: 48,
            brief_cutoff_hours: 24,
            archived: false,
            observers_see_measures: false,
            email_people_without_accounts: false,
        };
        let mut all = vec![setup.mutation(team_id, &team)];
        let first = Utc::now() + Duration::days(7);
        let meetings: Vec<Uuid> = (0..50).map(|_| Uuid::new_v4()).collect();
        for (i, id) in meetings.iter().enumerate() {
            let starts_at = first + Duration::weeks(i as i64);
            all.push(setup.mutation(
                *id,
                &Meeting {
                    team_id,
                    starts_at,
                    ends_at: starts_at + Duration::minutes(90),
                    place: "Room 2".into(),
                    video_link: None,
                    status: MeetingStatus::Planned,
                },
            ));
        }
        let born = NaiveDate::from_ymd_opt(1940, 1, 1).expect("date");
        for (i, nhs) in mdt::core::patient::synthetic_nhs_numbers()
            .take(4_975)
            .enumerate()
        {
            let patient_id = Uuid::new_v4();
            all.push(setup.mutation(
                patient_id,
                &Patient {
                    team_id,
                    nhs_number: nhs,
                    name: format!("Synthetic Patient {i}"),
                    date_of_birth: born,
                    registered_practice_id: None,
                    objects_to_sharing: false,
                    lead_professional_id: None,
                },
            ));
            all.push(setup.mutation(
                Uuid::new_v4(),
                &AgendaItem {
                    team_id,
                    meeting_id: meetings[i % meetings.len()],
                    kind: ItemKind::PatientDiscussion,
                    title: String::new(),
                    patient_id: Some(patient_id),
                    reason: "Two falls in a month; lives alone".into(),
                    question: "Is a care package review needed?".into(),
                    requested_by: Some(actor.person_id),
                    requested_on: Utc::now().date_naive(),
                    lead_professional_id: None,
                    minutes: 10,
                    position: i as i64,
                    required_people: vec![],
                    late: false,
                    deferrals: 0,
                    carried_from: None,
                    status: ItemStatus::default(),
                    outcome: None,
                    summary_sent_on: None,
                    // One item in ten is restricted (safeguarding).
                    restricted: i % 10 == 0,
                    restricted_to: vec![],
                    content_withheld: false,
                },
            ));
        }
        for batch in all.chunks(mdt::core::sync::MAX_PUSH_MUTATIONS) {
            push(&store, &actor, setup.id, batch);
        }

        // Initial sync as a new device does it: pull pages from cursor 0 until done, each page
        // serialised to JSON by the server and parsed and applied by the client. The
        // coordinator sees everything; Mo is given 498 restricted items as withheld copies.
        for (who, actor) in [
            ("the coordinator", &actor),
            ("a member outside the 498 restricted items", &mo),
        ] {
            let runs = 5;
            let mut times = Vec::new();
            let mut held = 0;
            for _ in 0..runs {
                let started = Instant::now();
                let mut replica = Replica::new(Uuid::new_v4());
                loop {
                    let page = store.pull_blocking(actor, replica.cursor).expect("pull");
                    let wire = serde_json::to_string(&page).expect("json");
                    let parsed: PullResponse = serde_json::from_str(&wire).expect("parse");
                    let more = parsed.more;
                    replica.apply_pull(parsed);
                    if !more {
                        break;
                    }
                }
                times.push(started.elapsed().as_secs_f64() * 1000.0);
                held = replica
                    .confirmed()
                    .values()
                    .filter(|r| r.fields.get("team_id") == Some(&serde_json::json!(team_id)))
                    .count()
                    + 1;
            }
            times.sort_by(|a, b| a.total_cmp(b));
            assert!(held >= 10_000, "the team holds {held} records");
            println!(
            "BENCH initial-sync by {who}: a team of {held} records (plus {} directory records) pulled into a new replica: median {:.0} ms, min {:.0} ms over {runs} runs",
            unbatched + batches * per_batch + devices * each,
            times[runs / 2],
            times[0]
        );
        }
    }
}
