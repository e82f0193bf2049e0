//! Search: names in any case and order, NHS numbers however spaced, roles and organisations,
//! patients only on the lists given, ranking, caps and hostile queries.

use chrono::NaiveDate;

use super::*;
use crate::core::directory::{OrganisationKind, Role};

const RIVERSIDE: Uuid = Uuid::from_u128(1);
const HILLSIDE: Uuid = Uuid::from_u128(2);
const UNKNOWN_TEAM: Uuid = Uuid::from_u128(3);
const SURGERY: Uuid = Uuid::from_u128(10);
const COUNCIL: Uuid = Uuid::from_u128(11);

fn person(name: &str, role: Role, organisation: Option<Uuid>) -> Person {
    Person {
        name: name.into(),
        role,
        organisation_id: organisation,
        phone: None,
        email: Some(format!(
            "{}@example.nhs.net",
            name.to_lowercase().replace(' ', ".")
        )),
        last_confirmed: NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
    }
}

fn patient(team: Uuid, nhs: &str, name: &str) -> Patient {
    Patient {
        team_id: team,
        nhs_number: nhs.into(),
        name: name.into(),
        date_of_birth: NaiveDate::from_ymd_opt(1938, 4, 12).unwrap(),
        registered_practice_id: None,
        objects_to_sharing: false,
        lead_professional_id: None,
    }
}

struct Fixture {
    people: Vec<(Uuid, Person)>,
    organisations: Vec<(Uuid, Organisation)>,
    patients: Vec<(Uuid, Patient)>,
    teams: HashMap<Uuid, String>,
}

fn fixture() -> Fixture {
    Fixture {
        people: vec![
            (
                Uuid::from_u128(20),
                person("Dr Gita Synthetic", Role::Gp, Some(SURGERY)),
            ),
            (
                Uuid::from_u128(21),
                person("Sol Worker", Role::SocialWorker, Some(COUNCIL)),
            ),
            (
                Uuid::from_u128(22),
                person("Nia Example", Role::DistrictNurse, None),
            ),
        ],
        organisations: vec![
            (
                SURGERY,
                Organisation {
                    name: "Riverside Surgery".into(),
                    kind: OrganisationKind::GpPractice,
                },
            ),
            (
                COUNCIL,
                Organisation {
                    name: "Exampleshire Council Adult Social Care".into(),
                    kind: OrganisationKind::AdultSocialCare,
                },
            ),
        ],
        patients: vec![
            (
                Uuid::from_u128(30),
                patient(RIVERSIDE, "9990000018", "Ada Synthetic"),
            ),
            (
                Uuid::from_u128(31),
                patient(HILLSIDE, "9990000026", "Bertie Example"),
            ),
            // On a team not given (not the searcher's): never found.
            (
                Uuid::from_u128(32),
                patient(UNKNOWN_TEAM, "9990000034", "Ada Hidden"),
            ),
        ],
        teams: [
            (RIVERSIDE, "Riverside MDT".to_string()),
            (HILLSIDE, "Hillside MDT".to_string()),
        ]
        .into(),
    }
}

fn run(query: &str) -> SearchResults {
    let f = fixture();
    search(query, &f.people, &f.organisations, &f.patients, &f.teams)
}

fn people(r: &SearchResults) -> Vec<&str> {
    r.people.iter().map(|p| p.name.as_str()).collect()
}

fn patients(r: &SearchResults) -> Vec<&str> {
    r.patients
        .iter()
        .map(|p| p.identity.split(" (").next().unwrap())
        .collect()
}

#[test]
fn names_in_any_case_and_order_and_patients_only_on_the_teams_given() {
    let r = run("SYNTHETIC");
    assert_eq!(people(&r), vec!["Dr Gita Synthetic"]);
    assert_eq!(patients(&r), vec!["Ada Synthetic"]);
    assert_eq!(r.patients[0].team, "Riverside MDT");
    assert_eq!(
        r.patients[0].identity,
        "Ada Synthetic (NHS 999 000 0018, born 12 Apr 1938)"
    );
    assert_eq!(people(&run("synthetic gita")), vec!["Dr Gita Synthetic"]);
    // Every word must match: "ada" and "hillside" together find nothing.
    assert!(run("ada bertie").patients.is_empty());
    // "Ada Hidden" is on a team the searcher is not in.
    assert_eq!(patients(&run("ada")), vec!["Ada Synthetic"]);
    assert!(run("hidden").is_empty());
}

#[test]
fn nhs_numbers_match_however_they_are_spaced_and_dates_of_birth_by_day_and_year() {
    for typed in [
        "9990000018",
        "999 000 0018",
        " 999  000 0018 ",
        "999 0000018",
    ] {
        assert_eq!(patients(&run(typed)), vec!["Ada Synthetic"], "{typed}");
    }
    // A partial number finds every patient it is part of.
    assert_eq!(patients(&run("999000")).len(), 2);
    // Day and year of birth stay two words.
    assert_eq!(patients(&run("12 1938")).len(), 2);
    assert_eq!(patients(&run("apr 1938 bertie")), vec!["Bertie Example"]);
}

/// One patient, Cora, with `nhs` and born on 8 March 1944, searched for with `query`.
fn finds_cora(nhs: &str, query: &str) -> bool {
    let mut cora = patient(RIVERSIDE, nhs, "Cora Example");
    cora.date_of_birth = NaiveDate::from_ymd_opt(1944, 3, 8).unwrap();
    let f = fixture();
    let r = search(query, &[], &[], &[(Uuid::from_u128(40), cora)], &f.teams);
    r.patients_total == 1
}

#[test]
fn nhs_numbers_typed_with_dashes_and_dates_of_birth_typed_as_dates_find_the_patient() {
    for typed in [
        "999-000-0131",
        "999 000 0131",
        "9990000131",
        "999-0000131",
        "08/03/1944",
        "8/3/1944",
        "08/3/1944",
        "1944-03-08",
        "8-3-1944",
        "8.3.1944",
        "cora 08/03/1944",
        "999-000-0131 8/3/1944",
    ] {
        assert!(finds_cora("9990000131", typed), "{typed}");
    }
    // Another date, another number, or a date that does not exist: not Cora.
    for typed in [
        "09/03/1944",
        "3/8/1944",
        "1944-08-03",
        "31/02/1944",
        "999-000-0018",
        "cora 9/3/1944",
    ] {
        assert!(!finds_cora("9990000131", typed), "{typed}");
    }
    // A date typed UK-style never matches part of a longer one (18/03/1944 is not 8/3/1944).
    let mut older = patient(RIVERSIDE, "9990000131", "Cora Example");
    older.date_of_birth = NaiveDate::from_ymd_opt(1944, 3, 18).unwrap();
    let f = fixture();
    let r = search(
        "8/3/1944",
        &[],
        &[],
        &[(Uuid::from_u128(41), older)],
        &f.teams,
    );
    assert_eq!(r.patients_total, 0);
}

proptest::proptest! {
    /// Any valid NHS number, typed whole, 3-3-4 with spaces or with dashes, finds its patient.
    #[test]
    fn any_nhs_number_however_typed_finds_its_patient(
        first_nine in proptest::array::uniform9(0u8..10),
        way in 0usize..4,
    ) {
        let Some(check) = crate::core::patient::check_digit(&first_nine) else {
            return Ok(());
        };
        let digits: String = first_nine
            .iter()
            .chain(std::iter::once(&check))
            .map(|d| char::from(b'0' + d))
            .collect();
        let (a, b, c) = (&digits[..3], &digits[3..6], &digits[6..]);
        let typed = match way {
            0 => digits.clone(),
            1 => format!("{a} {b} {c}"),
            2 => format!("{a}-{b}-{c}"),
            _ => format!(" {a}-{b} {c} "),
        };
        proptest::prop_assert!(finds_cora(&digits, &typed), "{}", typed);
    }
}

#[test]
fn roles_and_organisations_find_people_and_organisations_count_their_people() {
    assert_eq!(people(&run("social worker")), vec!["Sol Worker"]);
    assert_eq!(people(&run("district nurse")), vec!["Nia Example"]);
    assert_eq!(people(&run("riverside")), vec!["Dr Gita Synthetic"]);
    let r = run("council");
    assert_eq!(people(&r), vec!["Sol Worker"]);
    assert_eq!(r.organisations.len(), 1);
    assert_eq!(
        r.organisations[0].name,
        "Exampleshire Council Adult Social Care"
    );
    assert_eq!(r.organisations[0].people, 1);
    // By email too: the part before the @, or the whole address when an @ is typed; never
    // by a domain everyone shares.
    assert_eq!(people(&run("sol.worker@")), vec!["Sol Worker"]);
    assert_eq!(
        people(&run("sol.worker@example.nhs.net")),
        vec!["Sol Worker"]
    );
    assert_eq!(people(&run("gita.synthetic")), vec!["Dr Gita Synthetic"]);
    assert!(run("nhs.net").people.is_empty());
    assert_eq!(run("@example.nhs.net").people.len(), 3);
}

#[test]
fn names_starting_with_the_first_word_rank_first_and_long_lists_are_capped_with_a_count() {
    let mut f = fixture();
    f.people.push((
        Uuid::from_u128(23),
        person("Example Ward Nurse", Role::DistrictNurse, None),
    ));
    let r = search("exam", &f.people, &f.organisations, &f.patients, &f.teams);
    // "Example Ward Nurse" and "Nia Example" both start a word of their name with "exam"
    // (alphabetical then); Sol matches only by his organisation, Exampleshire Council.
    assert_eq!(
        people(&r),
        vec!["Example Ward Nurse", "Nia Example", "Sol Worker"]
    );
    let r = search("nurse", &f.people, &f.organisations, &f.patients, &f.teams);
    // Both by role; "Example Ward Nurse" has "nurse" in its name.
    assert_eq!(people(&r)[0], "Example Ward Nurse");

    let many: Vec<(Uuid, Patient)> = crate::core::patient::synthetic_nhs_numbers()
        .take(MAX_HITS + 25)
        .enumerate()
        .map(|(n, nhs)| {
            (
                Uuid::from_u128(1000 + n as u128),
                patient(RIVERSIDE, &nhs, &format!("Patient {n:03}")),
            )
        })
        .collect();
    let r = search("patient", &[], &[], &many, &f.teams);
    assert_eq!(r.patients.len(), MAX_HITS);
    assert_eq!(r.patients_total, MAX_HITS + 25);
    assert!(r.patients[0].identity.starts_with("Patient 000"));
}

#[test]
fn blank_long_and_strange_queries_find_nothing_or_finish_quickly() {
    assert!(run("").is_empty());
    assert!(run("   \t\n").is_empty());
    // A pasted paragraph is cut to the first 200 characters: still answered.
    let long = format!("ada {}", "x".repeat(100_000));
    assert!(run(&long).is_empty());
    // Characters with special meaning elsewhere are plain text here.
    for odd in ["%", "_", "*", ".*", "'; drop table", "\u{0}", "🙂", "ǅ"] {
        assert!(run(odd).is_empty(), "{odd}");
    }
    // Case folding beyond ASCII.
    let mut f = fixture();
    f.people.push((
        Uuid::from_u128(24),
        person("Zoë Ødegård", Role::Other, None),
    ));
    let r = search(
        "ØDEGÅRD zoË",
        &f.people,
        &f.organisations,
        &f.patients,
        &f.teams,
    );
    assert_eq!(people(&r), vec!["Zoë Ødegård"]);
}
