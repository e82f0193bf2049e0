//! Accounts and the synthetic demo team, written through the same push path as the app so
//! they carry versions and reach pulls like any other change.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc, Weekday};
use uuid::Uuid;

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
        self.seq += 1;
        let base_version = self
            .store
            .blocking(|conn| store::current_version(conn, id))?;
        let m = Mutation {
            mutation_id: Uuid::new_v4(),
            seq: self.seq,
            entity: E::KIND,
            id,
            base_version,
            op: MutationOp::Update {
                fields: entity.to_fields(),
            },
        };
        let (actor, device, now) = (self.actor.clone(), self.device, self.now);
        let results = self
            .store
            .blocking(|conn| store::push(conn, &actor, device, &[m], now))?;
        match results.first() {
            Some(MutationResult::Applied { .. }) => Ok(()),
            Some(MutationResult::Rejected { reason, .. }) => Err(Error::BadRequest(reason.clone())),
            other => Err(Error::Internal(anyhow::anyhow!(
                "unexpected push result {other:?}"
            ))),
        }
    }
}

/// Creates a user and their entry in the directory. The password must be at least 12 characters.
pub fn add_user(store: &Store, new: &NewUser<'_>, now: DateTime<Utc>) -> Result<UserRow, Error> {
    validation::required_text("name", "the person's full name", new.name, 200)
        .map_err(|e| Error::BadRequest(e.message))?;
    validation::email("email", new.email).map_err(|e| Error::BadRequest(e.message))?;
    validation::password(new.password).map_err(|e| Error::BadRequest(e.message))?;
    let user = UserRow {
        id: Uuid::new_v4(),
        email: new.email.trim().to_owned(),
        name: new.name.trim().to_owned(),
        person_id: Uuid::new_v4(),
        password_hash: hash_password(new.password)?,
    };
    store.blocking(|conn| store::insert_user(conn, &user, now))?;
    let mut author = Author {
        store,
        actor: Actor {
            user_id: user.id,
            person_id: user.person_id,
            name: user.name.clone(),
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

const DEMO_ACCOUNTS: [(&str, &str, &str); 3] = [
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
        .blocking(|conn| store::setting(conn, "demo_loaded"))?
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

    let author = |u: &UserRow| Author {
        store,
        actor: Actor {
            user_id: u.id,
            person_id: u.person_id,
            name: u.name.clone(),
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
            member_ids: people,
            required_roles: vec![Role::Gp, Role::SocialWorker, Role::DistrictNurse],
            default_minutes: 90,
            place: "Riverside Surgery, meeting room 2".into(),
            video_link: Some("https://meet.example.nhs.uk/riverside-mdt".into()),
            agenda_cutoff_hours: 48,
            brief_cutoff_hours: 24,
        },
    )?;
    for date in next_weekdays(today, Weekday::Tue, 3) {
        let starts_at = at_uk(date, 13, 0)?;
        riverside.put(
            Uuid::new_v4(),
            &Meeting {
                team_id: riverside_team,
                starts_at,
                ends_at: starts_at + Duration::minutes(90),
                place: "Riverside Surgery, meeting room 2".into(),
                video_link: Some("https://meet.example.nhs.uk/riverside-mdt".into()),
                status: MeetingStatus::Planned,
            },
        )?;
    }

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
            required_roles: vec![Role::Gp],
            default_minutes: 60,
            place: "Hillside Medical Practice".into(),
            video_link: None,
            agenda_cutoff_hours: 48,
            brief_cutoff_hours: 24,
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
    store.blocking(|conn| store::set_setting(conn, "demo_loaded", &now.to_rfc3339()))?;
    Ok(DemoSummary {
        already_loaded: false,
        accounts,
    })
}
