//! Patients and their NHS numbers.
//!
//! A patient is one record per team, however many meetings discuss them, so their history stays
//! together. The NHS number is checked with the Modulus 11 algorithm before it is ever stored, so
//! a mistyped digit cannot put the wrong person on an agenda.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::record::{Entity, EntityKind};
use super::validation::{self as check, ValidationError};

/// Why a typed NHS number is not acceptable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NhsNumberError {
    #[error("Enter the NHS number as 10 digits, like 943 476 5919")]
    NotTenDigits,
    #[error("This is not a valid NHS number: check it for a mistyped digit")]
    CheckDigit,
    #[error("000 000 0000 is not a real NHS number")]
    AllZeros,
}

/// Synthetic NHS numbers for demos, tests and benchmarks: the 999 range (never issued to
/// anyone) with valid check digits, in order (`999 000 001 8`, `999 000 002 6`, …).
pub fn synthetic_nhs_numbers() -> impl Iterator<Item = String> {
    (0u32..1_000_000).filter_map(|n| {
        let mut digits = [9u8, 9, 9, 0, 0, 0, 0, 0, 0];
        let mut rest = n;
        for d in digits[3..].iter_mut().rev() {
            *d = (rest % 10) as u8;
            rest /= 10;
        }
        let check = check_digit(&digits)?;
        let mut s: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
        s.push(char::from(b'0' + check));
        Some(s)
    })
}

/// The Modulus 11 check digit for the first nine digits, or `None` when no digit can be valid
/// (the remainder gives 10).
pub fn check_digit(first_nine: &[u8; 9]) -> Option<u8> {
    let sum: u32 = first_nine
        .iter()
        .zip((2..=10).rev())
        .map(|(d, w)| u32::from(*d) * w)
        .sum();
    match 11 - (sum % 11) {
        11 => Some(0),
        10 => None,
        d => Some(d as u8),
    }
}

/// Reads an NHS number as typed (spaces and dashes allowed) into its 10 digits.
pub fn parse_nhs_number(typed: &str) -> Result<String, NhsNumberError> {
    let digits: String = typed.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    if digits.len() != 10 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(NhsNumberError::NotTenDigits);
    }
    if digits.bytes().all(|b| b == b'0') {
        return Err(NhsNumberError::AllZeros);
    }
    let d: Vec<u8> = digits.bytes().map(|b| b - b'0').collect();
    let first_nine: [u8; 9] = d[..9].try_into().expect("ten digits");
    if check_digit(&first_nine) != Some(d[9]) {
        return Err(NhsNumberError::CheckDigit);
    }
    Ok(digits)
}

/// "9434765919" → "943 476 5919", the way NHS numbers are shown to people.
pub fn format_nhs_number(digits: &str) -> String {
    if digits.len() == 10 && digits.is_ascii() {
        format!("{} {} {}", &digits[..3], &digits[3..6], &digits[6..])
    } else {
        digits.to_owned()
    }
}

/// A person an MDT discusses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Patient {
    /// The team whose list the patient is on (need-to-know: only its members see them).
    pub team_id: Uuid,
    /// Ten digits, no spaces (see [`format_nhs_number`] for display).
    pub nhs_number: String,
    pub name: String,
    pub date_of_birth: NaiveDate,
    /// The patient's GP practice (an organisation).
    #[serde(default)]
    pub registered_practice_id: Option<Uuid>,
    /// The professional who knows the patient best and leads their care.
    #[serde(default)]
    pub lead_professional_id: Option<Uuid>,
    /// The patient has objected to their information being shared beyond their direct care:
    /// shown on every agenda item and brief about them, so the MDT shares only what it must.
    #[serde(default)]
    pub objects_to_sharing: bool,
}

impl Patient {
    /// "Ada Synthetic (NHS 943 476 5919, born 2 Mar 1941)": enough to be sure of the person.
    pub fn identity_line(&self) -> String {
        format!(
            "{} (NHS {}, born {})",
            self.name,
            format_nhs_number(&self.nhs_number),
            super::uk_time::format_date(self.date_of_birth)
        )
    }
}

impl Entity for Patient {
    const KIND: EntityKind = EntityKind::Patient;
    const FIELDS: &'static [&'static str] = &[
        "team_id",
        "nhs_number",
        "name",
        "date_of_birth",
        "registered_practice_id",
        "lead_professional_id",
        "objects_to_sharing",
    ];

    fn validate(&self) -> Result<(), ValidationError> {
        let stored = parse_nhs_number(&self.nhs_number)
            .map_err(|e| ValidationError::field("nhs_number", e.to_string()))?;
        if stored != self.nhs_number {
            return Err(ValidationError::field(
                "nhs_number",
                "Store the NHS number as 10 digits without spaces",
            ));
        }
        check::required_line("name", "the patient's full name", &self.name, 200)?;
        if !(check::EARLIEST_BIRTH_DATE..=check::LATEST_DATE).contains(&self.date_of_birth) {
            return Err(ValidationError::field(
                "date_of_birth",
                "Enter the date of birth as a real date, like 2 3 1941",
            ));
        }
        Ok(())
    }
}

/// Reads a date of birth typed as the design system's day, month and year boxes, with the
/// design system's messages for what is missing or wrong (a birth date cannot be after `today`
/// or before [`check::EARLIEST_BIRTH_DATE`]).
pub fn date_of_birth_from_parts(
    day: &str,
    month: &str,
    year: &str,
    today: NaiveDate,
) -> Result<NaiveDate, ValidationError> {
    let field = "date_of_birth";
    let parts = [
        ("day", day.trim()),
        ("month", month.trim()),
        ("year", year.trim()),
    ];
    let missing: Vec<&str> = parts
        .iter()
        .filter(|(_, v)| v.is_empty())
        .map(|(name, _)| *name)
        .collect();
    match missing.as_slice() {
        [] => {}
        [_, _, _] => {
            return Err(ValidationError::field(
                field,
                "Enter the patient's date of birth",
            ))
        }
        [one] => {
            return Err(ValidationError::field(
                field,
                format!("Date of birth must include a {one}"),
            ))
        }
        [first, second] => {
            return Err(ValidationError::field(
                field,
                format!("Date of birth must include a {first} and {second}"),
            ))
        }
        _ => unreachable!("three parts"),
    }
    let number = |s: &str, max_digits: usize| {
        (s.len() <= max_digits && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u32>().ok())
            .flatten()
    };
    let real_date = || ValidationError::field(field, "Date of birth must be a real date");
    let (Some(d), Some(m)) = (number(parts[0].1, 2), number(parts[1].1, 2)) else {
        return Err(real_date());
    };
    if parts[2].1.len() != 4 {
        return Err(ValidationError::field(
            field,
            "Year must include 4 numbers, like 1941",
        ));
    }
    let Some(y) = number(parts[2].1, 4) else {
        return Err(real_date());
    };
    let date = NaiveDate::from_ymd_opt(y as i32, m, d).ok_or_else(real_date)?;
    if date > today {
        return Err(ValidationError::field(
            field,
            "Date of birth must be today or in the past",
        ));
    }
    if date < check::EARLIEST_BIRTH_DATE {
        return Err(ValidationError::field(
            field,
            format!(
                "Date of birth must be after {}",
                super::uk_time::format_date(check::EARLIEST_BIRTH_DATE)
            ),
        ));
    }
    Ok(date)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_date_of_birth_from_day_month_and_year_boxes_with_the_design_systems_messages() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        let dob = |d: &str, m: &str, y: &str| date_of_birth_from_parts(d, m, y, today);
        let message = |d: &str, m: &str, y: &str| {
            let e = dob(d, m, y).unwrap_err();
            assert_eq!(e.field.as_deref(), Some("date_of_birth"));
            e.message
        };
        assert_eq!(
            dob(" 2", "03 ", "1941"),
            Ok(NaiveDate::from_ymd_opt(1941, 3, 2).unwrap())
        );
        assert_eq!(dob("30", "11", "2026"), Ok(today), "born today");
        assert_eq!(message("", " ", ""), "Enter the patient's date of birth");
        assert_eq!(
            message("2", "", "1941"),
            "Date of birth must include a month"
        );
        assert_eq!(
            message("", "", "1941"),
            "Date of birth must include a day and month"
        );
        assert_eq!(
            message("2", "", ""),
            "Date of birth must include a month and year"
        );
        assert_eq!(
            message("31", "2", "1941"),
            "Date of birth must be a real date"
        );
        assert_eq!(
            message("29", "2", "1941"),
            "Date of birth must be a real date"
        );
        assert_eq!(dob("29", "2", "1940").unwrap().to_string(), "1940-02-29");
        for (d, m) in [
            ("0", "3"),
            ("2", "13"),
            ("2", "0"),
            ("-1", "3"),
            ("2.", "3"),
            ("٣", "3"),
            ("002", "3"),
        ] {
            assert_eq!(
                message(d, m, "1941"),
                "Date of birth must be a real date",
                "{d}/{m}"
            );
        }
        // Edges of what the numbers hold: never a panic or an overflow.
        assert_eq!(
            message("4294967296", "1", "1941"),
            "Date of birth must be a real date"
        );
        assert_eq!(
            message("2", "3", "41"),
            "Year must include 4 numbers, like 1941"
        );
        assert_eq!(
            message("2", "3", "+1941"),
            "Year must include 4 numbers, like 1941"
        );
        assert_eq!(
            message("2", "3", "19x1"),
            "Date of birth must be a real date"
        );
        assert_eq!(
            message("1", "12", "2026"),
            "Date of birth must be today or in the past"
        );
        assert_eq!(
            message("31", "12", "1889"),
            "Date of birth must be after 1 Jan 1890"
        );
        assert!(dob("1", "1", "1890").is_ok());
    }

    #[test]
    fn synthetic_numbers_are_valid_distinct_and_in_the_999_range() {
        let numbers: Vec<String> = synthetic_nhs_numbers().take(2_000).collect();
        assert_eq!(numbers[..2], ["9990000018", "9990000026"]);
        assert!(numbers
            .iter()
            .all(|n| n.starts_with("999") && parse_nhs_number(n).as_deref() == Ok(n.as_str())));
        let distinct: std::collections::HashSet<_> = numbers.iter().collect();
        assert_eq!(distinct.len(), numbers.len());
    }

    #[test]
    fn an_objection_to_sharing_is_recorded_and_older_records_have_none() {
        use crate::core::record::Entity;
        let mut fields = serde_json::json!({
            "team_id": Uuid::from_u128(1), "nhs_number": "9990000018",
            "name": "Ada Synthetic", "date_of_birth": "1938-04-12"
        })
        .as_object()
        .unwrap()
        .clone();
        let before = Patient::from_fields(&fields).unwrap();
        assert!(
            !before.objects_to_sharing,
            "records written before the flag existed"
        );
        fields.insert("objects_to_sharing".into(), serde_json::json!(true));
        let objecting = Patient::from_fields(&fields).unwrap();
        assert!(objecting.objects_to_sharing);
        assert_eq!(
            Patient::from_fields(&objecting.to_fields()).unwrap(),
            objecting
        );
    }

    #[test]
    fn the_published_examples() {
        assert_eq!(parse_nhs_number("943 476 5919").unwrap(), "9434765919");
        assert_eq!(parse_nhs_number("4010232137").unwrap(), "4010232137");
        assert_eq!(
            parse_nhs_number("943 476 5918"),
            Err(NhsNumberError::CheckDigit)
        );
        assert_eq!(
            parse_nhs_number("999 123 4560"),
            Err(NhsNumberError::CheckDigit)
        );
        assert_eq!(
            parse_nhs_number("000 000 0000"),
            Err(NhsNumberError::AllZeros)
        );
        assert_eq!(
            parse_nhs_number("943 476 591"),
            Err(NhsNumberError::NotTenDigits)
        );
        assert_eq!(
            parse_nhs_number("943 476 591x"),
            Err(NhsNumberError::NotTenDigits)
        );
        assert_eq!(format_nhs_number("9434765919"), "943 476 5919");
    }

    #[test]
    fn a_remainder_of_ten_has_no_valid_check_digit() {
        // 999 123 456: weights give a check value of 10, so no tenth digit makes it valid.
        assert_eq!(check_digit(&[9, 9, 9, 1, 2, 3, 4, 5, 6]), None);
        assert!((0..=9).all(|d| parse_nhs_number(&format!("999123456{d}")).is_err()));
    }

    #[test]
    fn a_patient_needs_a_valid_number_stored_without_spaces() {
        let mut p = Patient {
            team_id: Uuid::from_u128(1),
            nhs_number: "9434765919".into(),
            name: "Ada Synthetic".into(),
            date_of_birth: NaiveDate::from_ymd_opt(1941, 3, 2).unwrap(),
            registered_practice_id: None,
            objects_to_sharing: false,
            lead_professional_id: None,
        };
        assert!(p.validate().is_ok());
        assert_eq!(
            p.identity_line(),
            "Ada Synthetic (NHS 943 476 5919, born 2 Mar 1941)"
        );
        p.nhs_number = "943 476 5919".into();
        assert_eq!(
            p.validate().unwrap_err().field.as_deref(),
            Some("nhs_number")
        );
        p.nhs_number = "9434765918".into();
        assert!(p
            .validate()
            .unwrap_err()
            .message
            .contains("not a valid NHS number"));
    }

    proptest! {
        #[test]
        fn nine_digits_have_at_most_one_valid_check_digit(first in prop::array::uniform9(0u8..10)) {
            let prefix: String = first.iter().map(|d| char::from(b'0' + d)).collect();
            let valid = (0..=9).filter(|d| parse_nhs_number(&format!("{prefix}{d}")).is_ok()).count();
            prop_assert!(valid <= 1);
            let expected = usize::from(check_digit(&first).is_some() && !first.iter().all(|d| *d == 0));
            prop_assert_eq!(valid, expected);
        }

        #[test]
        fn formatting_round_trips(first in prop::array::uniform9(0u8..10)) {
            if let Some(check) = check_digit(&first) {
                let digits: String = first.iter().chain(std::iter::once(&check)).map(|d| char::from(b'0' + d)).collect();
                if let Ok(stored) = parse_nhs_number(&digits) {
                    prop_assert_eq!(parse_nhs_number(&format_nhs_number(&stored)), Ok(stored.clone()));
                }
            }
        }
    }
}
