//! Search across the directory (people and organisations) and the patients on the teams'
//! lists: by name, NHS number (typed with or without spaces or dashes), date of birth (typed
//! as "12 Apr 1938", "12/04/1938" or "1938-04-12"), role or organisation. Every word typed must
//! match somewhere in the entry, in any order and any case.

use std::collections::HashMap;

use chrono::NaiveDate;
use uuid::Uuid;

use super::directory::{Organisation, Person};
use super::patient::Patient;

/// Most entries listed of each kind; the count says how many more matched.
pub const MAX_HITS: usize = 50;
/// Longest query looked at (a pasted paragraph is cut, never slow).
pub const MAX_QUERY_CHARS: usize = 200;

/// A person found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonHit {
    pub id: Uuid,
    pub name: String,
    pub role: &'static str,
    pub organisation: String,
}

/// An organisation found, with how many people in the directory work there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganisationHit {
    pub id: Uuid,
    pub name: String,
    pub people: usize,
}

/// A patient found, on one team's list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatientHit {
    pub id: Uuid,
    /// "Ada Synthetic (NHS 999 000 0018, born 12 Apr 1938)".
    pub identity: String,
    pub team: String,
}

/// What a search found: at most [`MAX_HITS`] of each kind, best first, and how many matched.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SearchResults {
    pub people: Vec<PersonHit>,
    pub people_total: usize,
    pub organisations: Vec<OrganisationHit>,
    pub organisations_total: usize,
    pub patients: Vec<PatientHit>,
    pub patients_total: usize,
}

impl SearchResults {
    /// Nothing matched.
    pub fn is_empty(&self) -> bool {
        self.people_total == 0 && self.organisations_total == 0 && self.patients_total == 0
    }
}

/// The words of a query, lower-case. Groups of three or more digits run together up to ten
/// ("999 000 0018" is one word, so an NHS number matches however it is spaced; "12 1938", a
/// day and a year, stays two).
fn words(query: &str) -> Vec<String> {
    let query: String = query.chars().take(MAX_QUERY_CHARS).collect();
    let digit_group = |w: &str| w.len() >= 3 && w.bytes().all(|b| b.is_ascii_digit());
    let mut words: Vec<String> = Vec::new();
    for word in query.split_whitespace() {
        let word = normalise(&word.to_lowercase());
        match words.last_mut() {
            Some(last)
                if digit_group(&word) && digit_group(last) && last.len() + word.len() <= 10 =>
            {
                last.push_str(&word)
            }
            _ => words.push(word),
        }
    }
    words
}

/// A word as the entries hold it: a date of birth typed UK-style or as ISO ("08/03/1944",
/// "8/3/1944", "8-3-1944", "8.3.1944", "1944-03-08") becomes the ISO date every patient's entry
/// carries, so it never matches part of another date (18/3/1944); an NHS number typed with
/// dashes ("999-000-0131") becomes its digits. Anything else is left as typed.
fn normalise(word: &str) -> String {
    let parts: Vec<&str> = word.split(['/', '-', '.']).collect();
    let numbers: Option<Vec<u32>> = parts
        .iter()
        .map(|p| {
            (!p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
                .then(|| p.parse().ok())
                .flatten()
        })
        .collect();
    if let (Some(n), [a, b, c]) = (numbers, parts.as_slice()) {
        let date = if a.len() == 4 && b.len() <= 2 && c.len() <= 2 {
            NaiveDate::from_ymd_opt(n[0] as i32, n[1], n[2])
        } else if c.len() == 4 && a.len() <= 2 && b.len() <= 2 {
            NaiveDate::from_ymd_opt(n[2] as i32, n[1], n[0])
        } else {
            None
        };
        if let Some(date) = date {
            return date.format("%Y-%m-%d").to_string();
        }
    }
    let nhs_shaped = word.contains('-')
        && word.bytes().any(|b| b.is_ascii_digit())
        && word.bytes().all(|b| b.is_ascii_digit() || b == b'-');
    if nhs_shaped {
        word.replace('-', "")
    } else {
        word.to_owned()
    }
}

/// Every word is somewhere in `haystack` (already lower-case).
fn matches(haystack: &str, words: &[String]) -> bool {
    words.iter().all(|w| haystack.contains(w.as_str()))
}

/// How well `name` answers the query: a name starting with the first word ranks first.
fn rank(name: &str, words: &[String]) -> (bool, String) {
    let lower = name.to_lowercase();
    let starts = words.first().is_some_and(|w| {
        lower
            .split_whitespace()
            .any(|part| part.starts_with(w.as_str()))
    });
    (!starts, lower)
}

/// Searches `people`, `organisations` and `patients` (`team_names` names each patient's team)
/// for `query`. A blank query finds nothing.
pub fn search(
    query: &str,
    people: &[(Uuid, Person)],
    organisations: &[(Uuid, Organisation)],
    patients: &[(Uuid, Patient)],
    team_names: &HashMap<Uuid, String>,
) -> SearchResults {
    let words = words(query);
    if words.is_empty() {
        return SearchResults::default();
    }
    let org_names: HashMap<Uuid, &str> = organisations
        .iter()
        .map(|(id, o)| (*id, o.name.as_str()))
        .collect();

    let mut found_people: Vec<PersonHit> = people
        .iter()
        .filter_map(|(id, p)| {
            let organisation = p
                .organisation_id
                .and_then(|o| org_names.get(&o))
                .copied()
                .unwrap_or_default();
            // An email address is found by the part before the @ (a shared domain such as
            // nhs.net would otherwise match everyone), or whole when the words have an @.
            let email = p.email.as_deref().unwrap_or_default().to_lowercase();
            let local_part = email.split('@').next().unwrap_or_default();
            let haystack = format!(
                "{} {} {} {}",
                p.name,
                p.role.label(),
                organisation,
                local_part
            )
            .to_lowercase();
            let found = words.iter().all(|w| {
                if w.contains('@') {
                    email.contains(w.as_str())
                } else {
                    haystack.contains(w.as_str())
                }
            });
            found.then(|| PersonHit {
                id: *id,
                name: p.name.clone(),
                role: p.role.label(),
                organisation: organisation.to_owned(),
            })
        })
        .collect();
    found_people.sort_by_cached_key(|h| (rank(&h.name, &words), String::new(), h.id));

    let mut found_orgs: Vec<OrganisationHit> = organisations
        .iter()
        .filter(|(_, o)| matches(&o.name.to_lowercase(), &words))
        .map(|(id, o)| OrganisationHit {
            id: *id,
            name: o.name.clone(),
            people: people
                .iter()
                .filter(|(_, p)| p.organisation_id == Some(*id))
                .count(),
        })
        .collect();
    found_orgs.sort_by_cached_key(|h| (rank(&h.name, &words), String::new(), h.id));

    let mut found_patients: Vec<PatientHit> = patients
        .iter()
        .filter_map(|(id, p)| {
            let team = team_names.get(&p.team_id)?;
            let haystack = format!(
                "{} {} {} {}",
                p.name,
                p.nhs_number,
                p.date_of_birth.format("%-d %b %Y"),
                p.date_of_birth.format("%Y-%m-%d")
            )
            .to_lowercase();
            matches(&haystack, &words).then(|| PatientHit {
                id: *id,
                identity: p.identity_line(),
                team: team.clone(),
            })
        })
        .collect();
    found_patients.sort_by_cached_key(|h| (rank(&h.identity, &words), h.team.clone(), h.id));

    // (The three lists share one key type, so the app carries one copy of the sort.)
    let cut = |n: usize| n.min(MAX_HITS);
    let (people_total, organisations_total, patients_total) =
        (found_people.len(), found_orgs.len(), found_patients.len());
    found_people.truncate(cut(people_total));
    found_orgs.truncate(cut(organisations_total));
    found_patients.truncate(cut(patients_total));
    SearchResults {
        people: found_people,
        people_total,
        organisations: found_orgs,
        organisations_total,
        patients: found_patients,
        patients_total,
    }
}

#[cfg(test)]
mod tests;
