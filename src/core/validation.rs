//! Field checks shared by every entity, with messages written for the person who typed the value.

use serde::{Deserialize, Serialize};

/// First day of the window every date and time the app stores must fall in (dates of birth
/// excepted): far enough back for any record a team still holds.
pub const EARLIEST_DATE: chrono::NaiveDate = match chrono::NaiveDate::from_ymd_opt(2000, 1, 1) {
    Some(d) => d,
    None => panic!("a valid date"),
};
/// Last day of that window: nothing downstream (series expansion, slot arithmetic, UK time)
/// can overflow or run for long inside it.
pub const LATEST_DATE: chrono::NaiveDate = match chrono::NaiveDate::from_ymd_opt(2100, 12, 31) {
    Some(d) => d,
    None => panic!("a valid date"),
};
/// Earliest date of birth accepted.
pub const EARLIEST_BIRTH_DATE: chrono::NaiveDate = match chrono::NaiveDate::from_ymd_opt(1890, 1, 1)
{
    Some(d) => d,
    None => panic!("a valid date"),
};
/// Most people one list in a record may name (members, observers, people required or named).
pub const MAX_PEOPLE_IN_LIST: usize = 200;

/// Checks a date lies in the window [`EARLIEST_DATE`]..=[`LATEST_DATE`].
pub fn date_in_window(
    field: &str,
    what: &str,
    value: chrono::NaiveDate,
) -> Result<(), ValidationError> {
    if (EARLIEST_DATE..=LATEST_DATE).contains(&value) {
        Ok(())
    } else {
        Err(ValidationError::field(
            field,
            format!("Enter {what} between 2000 and 2100"),
        ))
    }
}

/// Checks an instant lies in the window (by its UTC date).
pub fn instant_in_window(
    field: &str,
    what: &str,
    value: chrono::DateTime<chrono::Utc>,
) -> Result<(), ValidationError> {
    date_in_window(field, what, value.date_naive())
}

/// Checks a list of people is not longer than [`MAX_PEOPLE_IN_LIST`].
pub fn people_list<T>(field: &str, list: &[T]) -> Result<(), ValidationError> {
    if list.len() > MAX_PEOPLE_IN_LIST {
        Err(ValidationError::field(
            field,
            format!("A list can name at most {MAX_PEOPLE_IN_LIST} people"),
        ))
    } else {
        Ok(())
    }
}

/// A value a person entered that the app cannot accept, and why, in plain words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct ValidationError {
    /// The field at fault, when there is one (lets the form put the message beside it).
    pub field: Option<String>,
    /// What is wrong and what to do, e.g. "Enter the team's name".
    pub message: String,
}

impl ValidationError {
    /// An error about one field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self {
            field: Some(field.to_owned()),
            message: message.into(),
        }
    }

    /// An error about the record as a whole.
    pub fn record(message: impl Into<String>) -> Self {
        Self {
            field: None,
            message: message.into(),
        }
    }

    /// Turns a serde message about a record's fields into one a person can act on.
    pub fn from_serde(kind_label: &str, err: &serde_json::Error) -> Self {
        let text = err.to_string();
        let quoted = text.split('`').nth(1).map(str::to_owned);
        if text.starts_with("missing field") {
            let field = quoted.unwrap_or_default();
            Self::field(
                &field,
                format!("{kind_label}: {} is required", humanise(&field)),
            )
        } else if text.starts_with("unknown field") {
            let field = quoted.unwrap_or_default();
            Self::field(
                &field,
                format!("{kind_label}: there is no field called \"{field}\""),
            )
        } else if text.starts_with("unknown variant") {
            let value = quoted.unwrap_or_default();
            Self::record(format!(
                "{kind_label}: \"{value}\" is not one of the allowed values"
            ))
        } else {
            let cleaned = text.split(" at line").next().unwrap_or(&text);
            Self::record(format!("{kind_label}: {cleaned}"))
        }
    }
}

/// `member_ids` → "member ids": field names as words.
pub fn humanise(field: &str) -> String {
    field.replace('_', " ")
}

/// A required line of text: not blank, at most `max` characters.
pub fn required_text(
    field: &str,
    label: &str,
    value: &str,
    max: usize,
) -> Result<(), ValidationError> {
    if value.trim().is_empty() {
        return Err(ValidationError::field(field, format!("Enter {label}")));
    }
    optional_text(field, label, value, max)
}

/// An optional line of text: at most `max` characters and no control characters.
pub fn optional_text(
    field: &str,
    label: &str,
    value: &str,
    max: usize,
) -> Result<(), ValidationError> {
    if value.chars().count() > max {
        return Err(ValidationError::field(
            field,
            format!("{} must be {max} characters or fewer", capitalise(label)),
        ));
    }
    if value.chars().any(|c| c.is_control() && c != '\n') {
        return Err(ValidationError::field(
            field,
            format!(
                "{} contains characters that cannot be stored",
                capitalise(label)
            ),
        ));
    }
    Ok(())
}

/// Whether `c` breaks a line somewhere text is shown or sent: the ASCII line breaks, NEL and the
/// Unicode line and paragraph separators.
fn breaks_line(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r' | '\u{0b}' | '\u{0c}' | '\u{85}' | '\u{2028}' | '\u{2029}'
    )
}

/// A required name or place: [`required_text`] on one line. Names and places go into email
/// subjects and bodies, where a line break could start a line that imitates the message's own
/// text or links.
pub fn required_line(
    field: &str,
    label: &str,
    value: &str,
    max: usize,
) -> Result<(), ValidationError> {
    one_line(field, label, value)?;
    required_text(field, label, value, max)
}

/// An optional name or place: [`optional_text`] on one line (see [`required_line`]).
pub fn optional_line(
    field: &str,
    label: &str,
    value: &str,
    max: usize,
) -> Result<(), ValidationError> {
    one_line(field, label, value)?;
    optional_text(field, label, value, max)
}

fn one_line(field: &str, label: &str, value: &str) -> Result<(), ValidationError> {
    if value.chars().any(breaks_line) {
        return Err(ValidationError::field(
            field,
            format!("{} must be on one line", capitalise(label)),
        ));
    }
    Ok(())
}

/// An email address in the shape `name@domain.tld` (deliverability is not checked).
pub fn email(field: &str, value: &str) -> Result<(), ValidationError> {
    let bad = || {
        ValidationError::field(
            field,
            "Enter an email address in the correct format, like name@example.nhs.net",
        )
    };
    if value.len() > 254 || value.chars().any(char::is_whitespace) {
        return Err(bad());
    }
    let (local, domain) = value.split_once('@').ok_or_else(bad)?;
    let domain_ok = domain.contains('.')
        && !domain.contains('@')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..");
    if local.is_empty() || !domain_ok {
        return Err(bad());
    }
    Ok(())
}

/// A UK phone number: digits, spaces, brackets, dashes and a leading +; 10 to 15 digits.
pub fn phone(field: &str, value: &str) -> Result<(), ValidationError> {
    let allowed = value.chars().enumerate().all(|(i, c)| {
        c.is_ascii_digit() || matches!(c, ' ' | '(' | ')' | '-') || (c == '+' && i == 0)
    });
    let digits = value.chars().filter(char::is_ascii_digit).count();
    if !allowed || !(10..=15).contains(&digits) {
        return Err(ValidationError::field(
            field,
            "Enter a phone number, like 01632 960 001 or +44 1632 960 001",
        ));
    }
    Ok(())
}

/// A video-call link: must be https so it is safe to click.
pub fn https_link(field: &str, value: &str) -> Result<(), ValidationError> {
    let rest = value.strip_prefix("https://").unwrap_or("");
    if rest.is_empty()
        || value.len() > 500
        || value.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(ValidationError::field(
            field,
            "Enter the video link as a full web address starting with https://",
        ));
    }
    Ok(())
}

/// Shortest password accepted (NCSC and OWASP ASVS guidance: length over complexity rules).
pub const MIN_PASSWORD_CHARS: usize = 12;

/// A new password: long enough, and not absurdly long (argon2 cost grows with length).
pub fn password(value: &str) -> Result<(), ValidationError> {
    let chars = value.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(ValidationError::field(
            "password",
            format!("The password must be at least {MIN_PASSWORD_CHARS} characters long"),
        ));
    }
    if chars > 256 {
        return Err(ValidationError::field(
            "password",
            "The password must be 256 characters or fewer",
        ));
    }
    let lower = value.to_lowercase();
    let first = value.chars().next();
    let one_character = value.chars().all(|c| Some(c) == first);
    if one_character || COMMON_PASSWORDS.contains(&lower.as_str()) {
        return Err(ValidationError::field(
            "password",
            "That password is too common and easy to guess. Choose another, for example three or four unrelated words",
        ));
    }
    Ok(())
}

/// Passwords of 12 or more characters that appear at the top of published breach lists (and
/// local favourites), refused whatever their case.
const COMMON_PASSWORDS: &[&str] = &[
    "123456789012",
    "1234567890123",
    "12345678901234",
    "123456789123",
    "111111111111",
    "000000000000",
    "123123123123",
    "qwertyuiop12",
    "qwertyuiop123",
    "qwertyuiopas",
    "1q2w3e4r5t6y",
    "1qaz2wsx3edc",
    "zaq12wsxcde3",
    "password1234",
    "password12345",
    "password123456",
    "passwordpassword",
    "password1!password",
    "p@ssword1234",
    "p@ssw0rd1234",
    "passw0rd1234",
    "iloveyou1234",
    "letmein12345",
    "letmeinletmein",
    "welcome12345",
    "welcome123456",
    "changeme1234",
    "changeme12345",
    "administrator",
    "admin1234567",
    "abcdefghijkl",
    "abcd12345678",
    "football1234",
    "liverpool123",
    "chelsea12345",
    "arsenal12345",
    "manchesterunited",
    "sunshine1234",
    "princess1234",
    "superman1234",
    "monkey123456",
    "dragon123456",
    "baseball1234",
    "trustno1trustno1",
    "nhs123456789",
    "nhspassword1",
    "nhspassword123",
    "council12345",
    "summer202626",
    "winter202626",
    "spring202626",
    "autumn202626",
    "correcthorsebatterystaple",
];

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Every problem a form's record has, not only the first: `check` gives the first problem,
/// `set_aside` puts an acceptable stand-in in the field at fault (false when it cannot, which
/// ends the search), and the check runs again, at most `limit` times. So a person who left two
/// fields empty is told about both at once, in the order the record's own check finds them.
pub fn every_problem<T>(
    mut value: T,
    check: impl Fn(&T) -> Result<(), ValidationError>,
    mut set_aside: impl FnMut(&mut T, &str) -> bool,
    limit: usize,
) -> Vec<ValidationError> {
    let mut found: Vec<ValidationError> = Vec::new();
    while found.len() < limit {
        let Err(problem) = check(&value) else { break };
        let already = found.iter().any(|f| f.field == problem.field);
        let field = problem.field.clone();
        if !already {
            found.push(problem);
        }
        match field {
            Some(field) if !already && set_aside(&mut value, &field) => {}
            _ => break,
        }
    }
    found
}

#[cfg(test)]
mod password_tests {
    use super::*;

    #[test]
    fn names_and_places_are_one_line() {
        for broken in [
            "Riverside\nBcc: someone",
            "Riverside\r\nMDT",
            "Riverside\rMDT",
            "Riverside\u{85}MDT",
            "Riverside\u{2028}MDT",
            "Riverside\u{2029}MDT",
            "Riverside\u{0b}MDT",
        ] {
            let refused = required_line("name", "the team's name", broken, 200).unwrap_err();
            assert_eq!(
                refused.message, "The team's name must be on one line",
                "{broken:?}"
            );
            assert_eq!(refused.field.as_deref(), Some("name"));
            assert!(optional_line("place", "the place", broken, 300).is_err());
        }
        assert!(required_line("name", "the team's name", "Riverside MDT – Tuesdays", 200).is_ok());
        assert!(optional_line("place", "the place", "", 300).is_ok());
        assert!(required_line("name", "the team's name", "  ", 200).is_err());
        // Long text keeps its paragraphs.
        assert!(optional_text("reason", "the reason", "One.\nTwo.", 2000).is_ok());
    }

    #[test]
    fn passwords_must_be_long_and_not_common() {
        assert!(password("short")
            .unwrap_err()
            .message
            .contains("at least 12"));
        for common in [
            "Password1234",
            "QWERTYUIOP12",
            "aaaaaaaaaaaaaaaa",
            "nhs123456789",
        ] {
            assert!(
                password(common).unwrap_err().message.contains("too common"),
                "{common} refused"
            );
        }
        assert!(password("kettle orbit lantern").is_ok());
        assert!(password(&"x".repeat(257)).is_err());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_text_is_required() {
        assert_eq!(
            required_text("name", "the team's name", "  ", 10)
                .unwrap_err()
                .message,
            "Enter the team's name"
        );
        assert!(required_text("name", "the name", "Riverside", 20).is_ok());
        assert!(required_text("name", "the name", "Riverside Surgery", 5)
            .unwrap_err()
            .message
            .contains("5 characters or fewer"));
    }

    #[test]
    fn emails() {
        for ok in ["a@b.nhs.net", "first.last@council.gov.uk"] {
            assert!(email("email", ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "a",
            "a@b",
            "@b.com",
            "a@.com",
            "a b@c.com",
            "a@b..com",
            "a@b.com.",
        ] {
            assert!(email("email", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn phones() {
        for ok in ["01632 960 001", "+44 1632 960001", "(01632) 960-001"] {
            assert!(phone("phone", ok).is_ok(), "{ok}");
        }
        for bad in [
            "123",
            "01632 96O 001",
            "44+1632960001",
            "0163296000112345678",
        ] {
            assert!(phone("phone", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn links_must_be_https() {
        assert!(https_link("video_link", "https://meet.example.nhs.uk/mdt").is_ok());
        for bad in [
            "http://x.org",
            "https://",
            "javascript:alert(1)",
            "https://a b",
        ] {
            assert!(https_link("video_link", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_need_twelve_characters() {
        assert!(password("short-pass").is_err());
        assert!(password("a-long-enough-one").is_ok());
    }

    #[test]
    fn serde_errors_become_plain_words() {
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct T {
            team_name: String,
        }
        let missing = serde_json::from_str::<T>("{}").unwrap_err();
        assert_eq!(
            ValidationError::from_serde("Team", &missing).message,
            "Team: team name is required"
        );
        let unknown = serde_json::from_str::<T>(r#"{"team_name":"a","x":1}"#).unwrap_err();
        assert_eq!(
            ValidationError::from_serde("Team", &unknown).message,
            "Team: there is no field called \"x\""
        );
    }
}

#[cfg(test)]
mod every_problem_tests {
    use super::*;

    /// A form of two required texts and a number, checked in that order.
    #[derive(Clone)]
    struct Form {
        reason: String,
        question: String,
        minutes: u32,
    }

    fn check(form: &Form) -> Result<(), ValidationError> {
        required_text("reason", "the reason", &form.reason, 20)?;
        required_text("question", "the question", &form.question, 20)?;
        if form.minutes > 60 {
            return Err(ValidationError::field("minutes", "At most 60 minutes"));
        }
        Ok(())
    }

    fn set_aside(form: &mut Form, field: &str) -> bool {
        match field {
            "reason" => form.reason = "x".into(),
            "question" => form.question = "x".into(),
            _ => return false,
        }
        true
    }

    #[test]
    fn every_problem_is_found_in_the_checks_order() {
        let form = Form {
            reason: String::new(),
            question: " ".into(),
            minutes: 90,
        };
        let found = every_problem(form, check, set_aside, 10);
        let fields: Vec<_> = found.iter().map(|p| p.field.as_deref()).collect();
        assert_eq!(fields, [Some("reason"), Some("question"), Some("minutes")]);
    }

    #[test]
    fn a_good_form_has_none_and_the_limit_holds() {
        let good = Form {
            reason: "r".into(),
            question: "q".into(),
            minutes: 10,
        };
        assert!(every_problem(good, check, set_aside, 10).is_empty());
        let bad = Form {
            reason: String::new(),
            question: String::new(),
            minutes: 90,
        };
        assert_eq!(every_problem(bad, check, set_aside, 2).len(), 2);
    }

    #[test]
    fn a_field_that_cannot_be_set_aside_ends_the_search_without_repeating() {
        // The stand-in does not cure the problem: the same field again ends the search.
        let form = Form {
            reason: String::new(),
            question: String::new(),
            minutes: 0,
        };
        let found = every_problem(form, check, |_: &mut Form, _: &str| true, 10);
        assert_eq!(found.len(), 1);
    }
}
