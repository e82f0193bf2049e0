//! Bank holidays (England and Wales), shipped as a data file an administrator can replace
//! without rebuilding (`resources/bank-holidays-england-wales.json`).

use std::collections::BTreeSet;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The file shipped with the app, used when no replacement is configured.
pub const SHIPPED_BANK_HOLIDAYS: &str =
    include_str!("../../resources/bank-holidays-england-wales.json");

/// Bank holidays as stored in the data file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BankHolidays {
    pub division: String,
    #[serde(default)]
    pub source: String,
    pub dates: BTreeSet<NaiveDate>,
}

impl BankHolidays {
    /// Reads a bank-holiday file, saying what is wrong with it in words.
    pub fn parse(json: &str) -> Result<Self, String> {
        let parsed: Self = serde_json::from_str(json)
            .map_err(|e| format!("The bank holiday file is not valid: {e}"))?;
        if parsed.dates.is_empty() {
            return Err("The bank holiday file lists no dates".into());
        }
        Ok(parsed)
    }

    /// The shipped England and Wales list.
    pub fn shipped() -> Self {
        Self::parse(SHIPPED_BANK_HOLIDAYS).expect("the shipped bank holiday file is valid")
    }

    /// True on a bank holiday.
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.dates.contains(&date)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, Duration, Weekday};

    /// Easter Sunday (Anonymous Gregorian algorithm).
    fn easter(year: i32) -> NaiveDate {
        let a = year % 19;
        let b = year / 100;
        let c = year % 100;
        let d = b / 4;
        let e = b % 4;
        let f = (b + 8) / 25;
        let g = (b - f + 1) / 3;
        let h = (19 * a + b - d - g + 15) % 30;
        let i = c / 4;
        let k = c % 4;
        let l = (32 + 2 * e + 2 * i - h - k) % 7;
        let m = (a + 11 * h + 22 * l) / 451;
        let month = (h + l - 7 * m + 114) / 31;
        let day = (h + l - 7 * m + 114) % 31 + 1;
        NaiveDate::from_ymd_opt(year, month as u32, day as u32).unwrap()
    }

    fn first_monday(year: i32, month: u32) -> NaiveDate {
        (1..=7)
            .map(|d| NaiveDate::from_ymd_opt(year, month, d).unwrap())
            .find(|d| d.weekday() == Weekday::Mon)
            .unwrap()
    }

    fn last_monday(year: i32, month: u32) -> NaiveDate {
        let mut d = NaiveDate::from_ymd_opt(year, month + 1, 1)
            .unwrap()
            .pred_opt()
            .unwrap();
        while d.weekday() != Weekday::Mon {
            d = d.pred_opt().unwrap();
        }
        d
    }

    /// The statutory rules for England and Wales, with weekend substitutes.
    fn by_rule(year: i32) -> BTreeSet<NaiveDate> {
        let mut days = BTreeSet::new();
        let new_year = NaiveDate::from_ymd_opt(year, 1, 1).unwrap();
        days.insert(match new_year.weekday() {
            Weekday::Sat => new_year + Duration::days(2),
            Weekday::Sun => new_year + Duration::days(1),
            _ => new_year,
        });
        let e = easter(year);
        days.insert(e - Duration::days(2));
        days.insert(e + Duration::days(1));
        days.insert(first_monday(year, 5));
        days.insert(last_monday(year, 5));
        days.insert(last_monday(year, 8));
        let christmas = NaiveDate::from_ymd_opt(year, 12, 25).unwrap();
        let (c, b) = match christmas.weekday() {
            Weekday::Fri => (christmas, christmas + Duration::days(3)),
            Weekday::Sat => (christmas + Duration::days(2), christmas + Duration::days(3)),
            Weekday::Sun => (christmas + Duration::days(2), christmas + Duration::days(1)),
            _ => (christmas, christmas + Duration::days(1)),
        };
        days.insert(c);
        days.insert(b);
        days
    }

    #[test]
    fn the_shipped_file_matches_the_statutory_rules_2024_to_2030() {
        let shipped = BankHolidays::shipped();
        for year in 2024..=2030 {
            let in_file: BTreeSet<NaiveDate> = shipped
                .dates
                .iter()
                .copied()
                .filter(|d| d.year() == year)
                .collect();
            assert_eq!(in_file, by_rule(year), "{year}");
        }
        assert!(
            shipped.contains(NaiveDate::from_ymd_opt(2026, 12, 28).unwrap()),
            "Boxing Day 2026 is substituted"
        );
    }

    #[test]
    fn a_bad_file_is_refused_in_words() {
        assert!(BankHolidays::parse("{")
            .unwrap_err()
            .starts_with("The bank holiday file is not valid"));
        assert!(BankHolidays::parse(r#"{"division":"x","dates":[]}"#)
            .unwrap_err()
            .contains("no dates"));
        assert!(BankHolidays::parse(r#"{"division":"x","dates":["2026-13-01"]}"#).is_err());
    }
}
