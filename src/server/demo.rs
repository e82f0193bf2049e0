//! Accounts and the synthetic demo team, written through the same push path as the app so
//! they carry versions and reach pulls like any other change.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc, Weekday};

use crate::core::agenda::{AgendaItem, ItemKind, ItemStatus};
use crate::core::brief::{brief_id_for, Brief, BriefStatus};
use crate::core::patient::Patient;
use uuid::Uuid;

mod history;

use super::auth::hash_password;
use super::error::Error;
use super::store::{self, Actor, Store, UserRow};
use crate::core::entities::{
    Entity, Meeting, MeetingStatus, Organisation, OrganisationKind, Person, Role, Team,
};
use crate::core::sync::{Mutation, MutationOp, MutationResult};
use crate::core::{uk_time, validation};

/// The password of every demo account (synthetic data only; printed by the `demo` command).
pub const DEMO_PASSWORD: &str = "demo-password-2026";

/// A new account request.
#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub role: Role,
    pub password: &'a str,
}

/// Writes records as one person, from one device, in sequence.
struct Author<'a> {
    store: &'a Store,
    actor: Actor,
    device: Uuid,
    seq: u64,
    now: DateTime<Utc>,
}

impl Author<'_> {
    fn put<E: Entity>(&mut self, id: Uuid, entity: &E) -> Result<(), Error> {
        let base_version = self
            .store
            .read_blocking(|db| store::current_version(db, id))?;
        let m = self.mutation(id, base_version, entity);
        let now = self.now;
        self.push_all(vec![m], now)
    }

    /// A mutation of this author's device writing `entity` over version `base_version` (its
    /// sequence number is given when it is pushed).
    fn mutation<E: Entity>(&mut self, id: Uuid, base_version: u64, entity: &E) -> Mutation {
        Mutation {
            mutation_id: Uuid::new_v4(),
            seq: 0,
            entity: E::KIND,
            id,
            base_version,
            op: MutationOp::Update {
                fields: entity.to_fields(),
            },
        }
    }

    /// Pushes `mutations` in one transaction as if at `at` (the history is written as it
    /// happened, so a brief is stored as ready when it was); every one must apply.
    fn push_all(&mut self, mut mutations: Vec<Mutation>, at: DateTime<Utc>) -> Result<(), Error> {
        for m in &mut mutations {
            self.seq += 1;
            m.seq = self.seq;
        }
        let (actor, device) = (self.actor.clone(), self.device);
        let results = self.store.push_blocking(&actor, device, &mutations, at)?;
        for result in &results {
            match result {
                MutationResult::Applied { .. } => {}
                MutationResult::Rejected { reason, .. } => {
                    return Err(Error::BadRequest(reason.clone()))
                }
                other => {
                    return Err(Error::Internal(anyhow::anyhow!(
                        "unexpected push result {other:?}"
                    )))
                }
            }
        }
        Ok(())
    }
}

/// Creates a user and their entry in the directory. The password must be at least 12 characters.
pub fn add_user(store: &Store, new: &NewUser<'_>, now: DateTime<Utc>) -> Result<UserRow, Error> {
    validation::password(new.password).map_err(|e| Error::BadRequest(e.message))?;
    add_account(store, new, hash_password(new.password)?, now)
}

/// Adds an account that has no password: its person signs in only through their
/// organisation ([`crate::server::sso`]). `new.password` is ignored.
pub fn add_user_without_password(
    store: &Store,
    new: &NewUser<'_>,
    now: DateTime<Utc>,
) -> Result<UserRow, Error> {
    // An empty hash matches no password (see `auth::verify_password`).
    add_account(store, new, String::new(), now)
}

fn add_account(
    store: &Store,
    new: &NewUser<'_>,
    password_hash: String,
    now: DateTime<Utc>,
) -> Result<UserRow, Error> {
    validation::required_text("name", "the person's full name", new.name, 200)
        .map_err(|e| Error::BadRequest(e.message))?;
    validation::email("email", new.email).map_err(|e| Error::BadRequest(e.message))?;
    let user = UserRow {
        id: Uuid::new_v4(),
        email: new.email.trim().to_owned(),
        name: new.name.trim().to_owned(),
        person_id: Uuid::new_v4(),
        password_hash,
        disabled: false,
        site_admin: false,
    };
    store.write_blocking(|db| store::insert_user(db, &user, now))?;
    let mut author = Author {
        store,
        actor: Actor {
            user_id: user.id,
            person_id: user.person_id,
            name: user.name.clone(),
            session: "command line".into(),
        },
        device: Uuid::new_v4(),
        seq: 0,
        now,
    };
    author.put(
        user.person_id,
        &Person {
            name: user.name.clone(),
            role: new.role,
            organisation_id: None,
            phone: None,
            email: Some(user.email.clone()),
            last_confirmed: uk_time::uk_today(now),
        },
    )?;
    Ok(user)
}

/// What `demo` created, for printing.
#[derive(Debug, Clone)]
pub struct DemoSummary {
    pub already_loaded: bool,
    /// (email, what they can see)
    pub accounts: Vec<(String, String)>,
}

const DEMO_ACCOUNTS: [(&str, &str, &str); 4] = [
    (
        "priya.example@demo.nhs.test",
        "Priya Example",
        "coordinator of Riverside Neighbourhood MDT",
    ),
    (
        "tom.sample@demo.nhs.test",
        "Tom Sample",
        "social worker in Riverside Neighbourhood MDT",
    ),
    (
        "hana.hillside@demo.nhs.test",
        "Hana Hillside",
        "coordinator of Hillside MDT (sees none of Riverside)",
    ),
    (
        "sam.admin@demo.nhs.test",
        "Sam Admin",
        "site administrator: manages accounts, in no team, sees no patients; sets up an authenticator app at first sign-in",
    ),
];

/// The next `count` dates after `today` falling on `weekday`.
fn next_weekdays(today: NaiveDate, weekday: Weekday, count: usize) -> Vec<NaiveDate> {
    (1..=7 * count as i64 + 7)
        .map(|d| today + Duration::days(d))
        .filter(|d| d.weekday() == weekday)
        .take(count)
        .collect()
}

fn at_uk(date: NaiveDate, hour: u32, minute: u32) -> Result<DateTime<Utc>, Error> {
    let time =
        NaiveTime::from_hms_opt(hour, minute, 0).ok_or(Error::BadRequest("bad time".into()))?;
    uk_time::from_uk(date.and_time(time)).map_err(|e| Error::BadRequest(e.to_string()))
}

/// Loads a synthetic demo: two teams with their people, organisations and coming meetings, and
/// three accounts. Running it again changes nothing.
pub fn load_demo(store: &Store, now: DateTime<Utc>) -> Result<DemoSummary, Error> {
    let accounts = DEMO_ACCOUNTS
        .iter()
        .map(|(e, _, what)| (e.to_string(), what.to_string()))
        .collect();
    if store
        .read_blocking(|db| store::setting(db, "demo_loaded"))?
        .is_some()
    {
        return Ok(DemoSummary {
            already_loaded: true,
            accounts,
        });
    }
    let today = uk_time::uk_today(now);
    let user = |i: usize, role| {
        add_user(
            store,
            &NewUser {
                email: DEMO_ACCOUNTS[i].0,
                name: DEMO_ACCOUNTS[i].1,
                role,
                password: DEMO_PASSWORD,
            },
            now,
        )
    };
    let priya = user(0, Role::PracticeManager)?;
    let tom = user(1, Role::SocialWorker)?;
    let hana = user(2, Role::PracticeManager)?;
    let admin = user(3, Role::Other)?;
    store.write_blocking(|db| store::set_site_admin(db, &admin.email, true))?;

    let author = |u: &UserRow| Author {
        store,
        actor: Actor {
            user_id: u.id,
            person_id: u.person_id,
            name: u.name.clone(),
            session: "command line".into(),
        },
        device: Uuid::new_v4(),
        seq: 0,
        now,
    };
    let mut riverside = author(&priya);
    let org = |name: &str, kind| Organisation {
        name: name.into(),
        kind,
    };
    let surgery = Uuid::new_v4();
    let council = Uuid::new_v4();
    let trust = Uuid::new_v4();
    let hospice = Uuid::new_v4();
    riverside.put(
        surgery,
        &org("Riverside Surgery", OrganisationKind::GpPractice),
    )?;
    riverside.put(
        council,
        &org(
            "Northshire Council Adult Social Care",
            OrganisationKind::AdultSocialCare,
        ),
    )?;
    riverside.put(
        trust,
        &org(
            "Northshire Community Health NHS Trust",
            OrganisationKind::CommunityTrust,
        ),
    )?;
    riverside.put(
        hospice,
        &org("St Example Hospice", OrganisationKind::Hospice),
    )?;

    // Link the account holders to their organisations.
    let mut tom_author = author(&tom);
    tom_author.put(
        tom.person_id,
        &Person {
            name: tom.name.clone(),
            role: Role::SocialWorker,
            organisation_id: Some(council),
            phone: Some("01632 960 101".into()),
            email: Some(tom.email.clone()),
            last_confirmed: today,
        },
    )?;
    riverside.put(
        priya.person_id,
        &Person {
            name: priya.name.clone(),
            role: Role::PracticeManager,
            organisation_id: Some(surgery),
            phone: Some("01632 960 100".into()),
            email: Some(priya.email.clone()),
            last_confirmed: today,
        },
    )?;
    let mut people = vec![tom.person_id];
    for (name, role, organisation, phone, days_since_confirmed) in [
        ("Dr Asha Testwell", Role::Gp, surgery, "01632 960 102", 10),
        (
            "Grace Placeholder",
            Role::DistrictNurse,
            trust,
            "01632 960 103",
            30,
        ),
        (
            "Ian Fictional",
            Role::PalliativeCareNurse,
            hospice,
            "01632 960 104",
            200,
        ),
        (
            "Maya Demo",
            Role::CareNavigator,
            surgery,
            "01632 960 105",
            95,
        ),
    ] {
        let id = Uuid::new_v4();
        let email = format!(
            "{}@example.nhs.net",
            name.trim_start_matches("Dr ")
                .to_lowercase()
                .replace(' ', ".")
        );
        riverside.put(
            id,
            &Person {
                name: name.into(),
                role,
                organisation_id: Some(organisation),
                phone: Some(phone.into()),
                email: Some(email),
                last_confirmed: today - Duration::days(days_since_confirmed),
            },
        )?;
        people.push(id);
    }
    let riverside_team = Uuid::new_v4();
    riverside.put(
        riverside_team,
        &Team {
            name: "Riverside Neighbourhood MDT".into(),
            coordinator_id: priya.person_id,
            member_ids: people.clone(),
            observer_ids: vec![],
            required_roles: vec![
                Role::Gp.into(),
                Role::SocialWorker.into(),
                Role::DistrictNurse.into(),
            ],
            default_minutes: 90,
            place: "Riverside Surgery, meeting room 2".into(),
            video_link: Some("https://meet.example.nhs.uk/riverside-mdt".into()),
            agenda_cutoff_hours: 48,
            brief_cutoff_hours: 24,
            archived: false,
            observers_see_measures: false,
            email_people_without_accounts: false,
        },
    )?;
    let riverside_team_record = Team {
        name: "Riverside Neighbourhood MDT".into(),
        coordinator_id: priya.person_id,
        member_ids: Vec::new(),
        observer_ids: Vec::new(),
        required_roles: Vec::new(),
        default_minutes: 90,
        place: String::new(),
        video_link: None,
        agenda_cutoff_hours: 48,
        brief_cutoff_hours: 24,
        archived: false,
        observers_see_measures: false,
        email_people_without_accounts: false,
    };
    let last_tuesday = (1..=7)
        .map(|d| today - Duration::days(d))
        .find(|d| d.weekday() == Weekday::Tue)
        .unwrap_or(today);
    let mut meeting_ids = Vec::new();
    for date in std::iter::once(last_tuesday).chain(next_weekdays(today, Weekday::Tue, 3)) {
        let starts_at = at_uk(date, 13, 0)?;
        let id = Uuid::new_v4();
        riverside.put(
            id,
            &Meeting {
                team_id: riverside_team,
                starts_at,
                ends_at: starts_at + Duration::minutes(90),
                place: "Riverside Surgery, meeting room 2".into(),
                video_link: Some("https://meet.example.nhs.uk/riverside-mdt".into()),
                status: MeetingStatus::Planned,
            },
        )?;
        meeting_ids.push((id, starts_at));
    }
    let (tom_id, asha, grace, ian) = (people[0], people[1], people[2], people[3]);
    let demo_patient = |nhs: &str, name: &str, (y, m, d): (i32, u32, u32), lead: Uuid| Patient {
        team_id: riverside_team,
        nhs_number: nhs.into(),
        name: name.into(),
        date_of_birth: NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default(),
        registered_practice_id: Some(surgery),
        objects_to_sharing: false,
        lead_professional_id: Some(lead),
    };
    // Synthetic patients: NHS numbers in the 999 test range, with valid check digits.
    let patients = [
        demo_patient("9990000018", "Ada Synthetic", (1938, 4, 12), tom_id),
        demo_patient("9990000026", "Bertie Example", (1951, 9, 30), grace),
        demo_patient("9990000034", "Cora Placeholder", (1946, 1, 5), ian),
        demo_patient("9990000042", "Dev Sample", (1949, 7, 21), tom_id),
    ];
    let mut patient_ids = Vec::new();
    for p in &patients {
        let id = Uuid::new_v4();
        riverside.put(id, p)?;
        patient_ids.push(id);
    }
    history::write(
        &mut riverside,
        &mut tom_author,
        &history::Team {
            id: riverside_team,
            coordinator: priya.person_id,
            members: [people[0], people[1], people[2], people[3], people[4]],
            names: [
                tom.name.clone(),
                "Dr Asha Testwell".into(),
                "Grace Placeholder".into(),
                "Ian Fictional".into(),
                "Maya Demo".into(),
            ],
            practice: surgery,
            patients: patient_ids.clone(),
        },
        today,
    )?;
    let item = |meeting: (Uuid, DateTime<Utc>),
                kind,
                patient: Option<usize>,
                text: (&str, &str, &str),
                people: (Uuid, Uuid),
                minutes,
                position| AgendaItem {
        team_id: riverside_team,
        meeting_id: meeting.0,
        kind,
        title: text.0.into(),
        patient_id: patient.map(|i| patient_ids[i]),
        reason: text.1.into(),
        question: text.2.into(),
        requested_by: Some(people.0),
        requested_on: today - Duration::days(10),
        lead_professional_id: Some(people.1),
        minutes,
        position,
        required_people: if kind == ItemKind::PatientDiscussion {
            vec![people.1]
        } else {
            Vec::new()
        },
        // The coordinator may add after the cut-off; such items are marked late.
        late: riverside_team_record
            .may_add_item(meeting.1, priya.person_id, now)
            .unwrap_or(true),
        deferrals: 0,
        carried_from: None,
        status: ItemStatus::Open,
        outcome: None,
        summary_sent_on: None,
        restricted: false,
        restricted_to: vec![],
        content_withheld: false,
    };
    // Last week's meeting did not reach Dev: the app carries the item to the next meeting.
    let mut missed = item(
        meeting_ids[0],
        ItemKind::PatientDiscussion,
        Some(3),
        (
            "",
            "Carer (his wife) is close to breakdown",
            "What respite options can we offer this month?",
        ),
        (tom_id, tom_id),
        15,
        1024,
    );
    missed.requested_on = today - Duration::days(24);
    riverside.put(Uuid::new_v4(), &missed)?;
    let next = meeting_ids[1];
    let agenda = [
        item(
            next,
            ItemKind::StandingItem,
            None,
            ("Safeguarding updates", "", ""),
            (priya.person_id, priya.person_id),
            10,
            1024,
        ),
        item(
            next,
            ItemKind::PatientDiscussion,
            Some(0),
            (
                "",
                "Two falls in three weeks; lives alone",
                "Does her care package need an urgent review, and who leads it?",
            ),
            (asha, tom_id),
            20,
            2048,
        ),
        item(
            next,
            ItemKind::PatientDiscussion,
            Some(1),
            (
                "",
                "Leg ulcer not healing; missed two appointments",
                "Is a joint visit with the social worker needed?",
            ),
            (grace, grace),
            15,
            3072,
        ),
        item(
            next,
            ItemKind::ForInformation,
            Some(2),
            ("Now under hospice at home care", "", ""),
            (ian, ian),
            0,
            4096,
        ),
        item(
            next,
            ItemKind::ActionsReview,
            None,
            ("Open actions", "", ""),
            (priya.person_id, priya.person_id),
            10,
            5120,
        ),
    ];
    let mut item_ids = Vec::new();
    for i in &agenda {
        let id = Uuid::new_v4();
        riverside.put(id, i)?;
        item_ids.push(id);
    }
    riverside.put(
        brief_id_for(item_ids[1]),
        &Brief {
            team_id: riverside_team,
            item_id: item_ids[1],
            author_id: tom_id,
            situation: "Ada has fallen twice in three weeks at home; no injuries but she waited 2 hours on the floor the second time.".into(),
            background: "Lives alone in a first-floor flat. Osteoarthritis, atrial fibrillation. Daughter visits weekly.".into(),
            assessment: "Her current package (one call a day) no longer meets her needs; she is at risk of a long lie.".into(),
            request: "Agree an urgent care package review and a falls referral; confirm who leads.".into(),
            services_involved: "Home care agency (1 call a day), community pharmacy.".into(),
            risks: "Long lie after a fall; medication not taken when she is unwell.".into(),
            safeguarding_concern: false,
            patient_wishes: "Wants to stay at home; happy to have a pendant alarm.".into(),
            consent_to_share: Some(true),
            status: BriefStatus::Ready,
        },
    )?;
    riverside.put(
        brief_id_for(item_ids[2]),
        &Brief {
            team_id: riverside_team,
            item_id: item_ids[2],
            author_id: grace,
            situation: "Venous leg ulcer on the left leg, not healing after 10 weeks.".into(),
            ..Brief::default()
        },
    )?;

    let mut hillside = author(&hana);
    let practice = Uuid::new_v4();
    hillside.put(
        practice,
        &org("Hillside Medical Practice", OrganisationKind::GpPractice),
    )?;
    let gp = Uuid::new_v4();
    hillside.put(
        gp,
        &Person {
            name: "Dr Ben Hillside".into(),
            role: Role::Gp,
            organisation_id: Some(practice),
            phone: Some("01632 960 201".into()),
            email: Some("ben.hillside@example.nhs.net".into()),
            last_confirmed: today,
        },
    )?;
    let hillside_team = Uuid::new_v4();
    hillside.put(
        hillside_team,
        &Team {
            name: "Hillside MDT".into(),
            coordinator_id: hana.person_id,
            member_ids: vec![gp],
            observer_ids: vec![],
            required_roles: vec![Role::Gp.into()],
            default_minutes: 60,
            place: "Hillside Medical Practice".into(),
            video_link: None,
            agenda_cutoff_hours: 48,
            brief_cutoff_hours: 24,
            archived: false,
            observers_see_measures: false,
            email_people_without_accounts: false,
        },
    )?;
    for date in next_weekdays(today, Weekday::Thu, 2) {
        let starts_at = at_uk(date, 12, 30)?;
        hillside.put(
            Uuid::new_v4(),
            &Meeting {
                team_id: hillside_team,
                starts_at,
                ends_at: starts_at + Duration::minutes(60),
                place: "Hillside Medical Practice".into(),
                video_link: None,
                status: MeetingStatus::Planned,
            },
        )?;
    }
    store.write_blocking(|db| store::set_setting(db, "demo_loaded", &now.to_rfc3339()))?;
    Ok(DemoSummary {
        already_loaded: false,
        accounts,
    })
}
