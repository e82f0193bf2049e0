//! The signed links of one-click answers (issue 17): a link says which person answers which
//! meeting how, until when, and carries an HMAC-SHA256 over all of that with a key kept in the
//! database (one key for every server of a region). Changing any character of it breaks the
//! signature; each link has a nonce of its own, recorded when used, so it works once.
//!
//! A link is `/answer/<payload>.<signature>`, both base64url: the payload is
//! `1.<meeting>.<person>.<a|r|x>.<until, Unix seconds>.<nonce>`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;

use super::{self as store, Db};
use crate::args;
use crate::core::attendance::AttendanceStatus;
use crate::core::mail;
use crate::core::notify::{AnswerRequest, Answers};
use crate::server::error::Error;

/// What a link may do: record `status` for `person_id` at `meeting_id`, until `until`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnswerClaim {
    pub meeting_id: Uuid,
    pub person_id: Uuid,
    pub status: AttendanceStatus,
    pub until: i64,
    pub nonce: Uuid,
}

/// The answers a link may give.
pub const ANSWERS: [AttendanceStatus; 3] = [
    AttendanceStatus::Attending,
    AttendanceStatus::Remote,
    AttendanceStatus::Apologies,
];

fn code(status: AttendanceStatus) -> Option<&'static str> {
    match status {
        AttendanceStatus::Attending => Some("a"),
        AttendanceStatus::Remote => Some("r"),
        AttendanceStatus::Apologies => Some("x"),
        _ => None,
    }
}

fn status_of(code: &str) -> Option<AttendanceStatus> {
    ANSWERS.into_iter().find(|s| self::code(*s) == Some(code))
}

impl AnswerClaim {
    fn payload(&self) -> String {
        format!(
            "1.{}.{}.{}.{}.{}",
            self.meeting_id,
            self.person_id,
            code(self.status).unwrap_or("?"),
            self.until,
            self.nonce
        )
    }

    fn parse(payload: &str) -> Option<Self> {
        let mut parts = payload.split('.');
        if parts.next()? != "1" {
            return None;
        }
        let claim = Self {
            meeting_id: parts.next()?.parse().ok()?,
            person_id: parts.next()?.parse().ok()?,
            status: status_of(parts.next()?)?,
            until: parts.next()?.parse().ok()?,
            nonce: parts.next()?.parse().ok()?,
        };
        parts.next().is_none().then_some(claim)
    }

    /// Whether the link has run out at `now`.
    pub fn expired(&self, now: DateTime<Utc>) -> bool {
        now.timestamp() >= self.until
    }
}

fn mac(key: &[u8]) -> Hmac<Sha256> {
    // HMAC takes a key of any length.
    Hmac::<Sha256>::new_from_slice(key).unwrap_or_else(|_| unreachable!())
}

/// The link's token for `claim`.
pub fn sign(key: &[u8], claim: &AnswerClaim) -> String {
    let payload = claim.payload();
    let mut m = mac(key);
    m.update(payload.as_bytes());
    let signature = m.finalize().into_bytes();
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(payload.as_bytes()),
        URL_SAFE_NO_PAD.encode(signature)
    )
}

/// The claim of a token whose signature holds; `None` for anything altered, cut short or made
/// up (the signature is checked in constant time).
pub fn verify(key: &[u8], token: &str) -> Option<AnswerClaim> {
    if token.len() > 400 {
        return None;
    }
    let (payload, signature) = token.split_once('.')?;
    let payload = URL_SAFE_NO_PAD.decode(payload).ok()?;
    let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
    let mut m = mac(key);
    m.update(&payload);
    m.verify_slice(&signature).ok()?;
    AnswerClaim::parse(std::str::from_utf8(&payload).ok()?)
}

/// The three links (attending, remote, apologies) of one invitation's recipient for one
/// meeting, as URLs. Each has a nonce of its own, derived from the message, the person, the
/// meeting and the answer, so a series' invitation, which answers several meetings, never gives
/// two links the same nonce (using one would use up the other).
pub fn links_for(
    key: &[u8],
    base_url: &str,
    request: &AnswerRequest,
    message_id: Uuid,
) -> [String; 3] {
    ANSWERS.map(|status| {
        let claim = AnswerClaim {
            meeting_id: request.meeting_id,
            person_id: request.person_id,
            status,
            until: request.until.timestamp(),
            nonce: Uuid::new_v5(
                &message_id,
                format!(
                    "{}:{}:{}",
                    request.person_id,
                    request.meeting_id,
                    code(status).unwrap_or("?")
                )
                .as_bytes(),
            ),
        };
        format!(
            "{}/answer/{}",
            base_url.trim_end_matches('/'),
            sign(key, &claim)
        )
    })
}

const KEY_SETTING: &str = "answer_link_key";

/// The region's signing key if it has been made (links are only checked against it: before
/// any link was sent there is none, and no link can be valid). Works in a read snapshot.
pub fn existing_key(db: &dyn Db) -> Result<Option<Vec<u8>>, Error> {
    store::setting(db, KEY_SETTING)?
        .map(|hex| decode_hex(&hex))
        .transpose()
}

/// The region's signing key, made (at random) the first time it is needed; in a write
/// transaction.
pub fn key(db: &dyn Db) -> Result<Vec<u8>, Error> {
    if let Some(key) = existing_key(db)? {
        return Ok(key);
    }
    let fresh: String = rand::random::<[u8; 32]>()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    decode_hex(&store::setting_or_insert(db, KEY_SETTING, &fresh)?)
}

/// Adds the one-click answers to every invitation among `outgoing` that asks for them.
pub fn add_to(
    db: &dyn Db,
    base_url: &str,
    outgoing: &mut [crate::core::notify::Outgoing],
) -> Result<(), Error> {
    if outgoing.iter().all(|o| o.answers.is_none()) {
        return Ok(());
    }
    let key = key(db)?;
    for o in outgoing.iter_mut() {
        match &o.answers {
            None => {}
            Some(Answers::Meeting(request)) => {
                let [attending, remote, apologies] =
                    links_for(&key, base_url, request, o.message_id);
                o.message =
                    mail::with_answer_links(o.message.clone(), &attending, &remote, &apologies);
            }
            Some(Answers::Series(requests)) => {
                let meetings: Vec<_> = requests
                    .iter()
                    .map(|r| (r.until, links_for(&key, base_url, r, o.message_id)))
                    .collect();
                o.message = mail::with_series_answer_links(o.message.clone(), &meetings);
            }
        }
    }
    Ok(())
}

fn decode_hex(hex: &str) -> Result<Vec<u8>, Error> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2).unwrap_or("zz"), 16))
        .collect::<Result<_, _>>()
        .map_err(|_| Error::Internal(anyhow::anyhow!("the answer-link key is not hex")))
}

/// Records that a one-click answer link was used; false when it had been already.
pub fn use_answer_link(db: &dyn Db, nonce: Uuid, now: DateTime<Utc>) -> Result<bool, Error> {
    Ok(db.execute(
        "INSERT INTO used_answer_links (nonce, used_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        args![nonce, now],
    )? == 1)
}

/// Whether a one-click answer link has been used.
pub fn answer_link_used(db: &dyn Db, nonce: Uuid) -> Result<bool, Error> {
    db.exists(
        "SELECT EXISTS (SELECT 1 FROM used_answer_links WHERE nonce = $1)",
        args![nonce],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim() -> AnswerClaim {
        AnswerClaim {
            meeting_id: Uuid::from_u128(1),
            person_id: Uuid::from_u128(2),
            status: AttendanceStatus::Apologies,
            until: 1_800_000_000,
            nonce: Uuid::from_u128(3),
        }
    }

    #[test]
    fn a_signed_link_reads_back_and_any_change_to_it_is_refused() {
        let key = b"a key of the region, 32 bytes lo";
        let token = sign(key, &claim());
        assert_eq!(verify(key, &token), Some(claim()));
        // Another key (another region), every single character changed, cut short, padded.
        assert_eq!(verify(b"another key", &token), None);
        for i in 0..token.len() {
            let mut altered: Vec<char> = token.chars().collect();
            altered[i] = if altered[i] == 'A' { 'B' } else { 'A' };
            let altered: String = altered.into_iter().collect();
            if altered != token {
                assert_eq!(verify(key, &altered), None, "changed at {i}");
            }
        }
        for cut in 0..token.len() {
            assert_eq!(verify(key, &token[..cut]), None);
        }
        assert_eq!(verify(key, &format!("{token}A")), None);
        assert_eq!(verify(key, &"A".repeat(10_000)), None);
        // A payload that says something else, properly signed, but not a claim.
        let mut m = mac(key);
        m.update(b"1.not-a-uuid");
        let forged = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(b"1.not-a-uuid"),
            URL_SAFE_NO_PAD.encode(m.finalize().into_bytes())
        );
        assert_eq!(verify(key, &forged), None);
    }

    #[test]
    fn links_expire_when_the_meeting_starts_and_only_three_answers_exist() {
        let c = claim();
        let at = |s: i64| DateTime::from_timestamp(s, 0).unwrap();
        assert!(!c.expired(at(c.until - 1)));
        assert!(c.expired(at(c.until)));
        assert_eq!(code(AttendanceStatus::Attended), None);
        assert_eq!(code(AttendanceStatus::Invited), None);
        for s in ANSWERS {
            assert_eq!(status_of(code(s).unwrap()), Some(s));
        }
        let request = AnswerRequest {
            meeting_id: c.meeting_id,
            person_id: c.person_id,
            until: at(c.until),
        };
        let links = links_for(
            b"k",
            "https://mdt.example.nhs.uk/",
            &request,
            Uuid::from_u128(9),
        );
        let claims: Vec<AnswerClaim> = links
            .iter()
            .map(|l| {
                let token = l
                    .strip_prefix("https://mdt.example.nhs.uk/answer/")
                    .unwrap();
                verify(b"k", token).unwrap()
            })
            .collect();
        assert_eq!(
            claims.iter().map(|c| c.status).collect::<Vec<_>>(),
            ANSWERS.to_vec()
        );
        // Each link has its own nonce (each works once, independently).
        assert_ne!(claims[0].nonce, claims[1].nonce);
        assert_ne!(claims[1].nonce, claims[2].nonce);
        // A series' invitation answers several meetings in one message: the same answer to
        // another meeting has a nonce of its own, so using one link never uses up another.
        let other = links_for(
            b"k",
            "https://mdt.example.nhs.uk/",
            &AnswerRequest {
                meeting_id: Uuid::from_u128(7),
                ..request
            },
            Uuid::from_u128(9),
        );
        let nonce = |l: &str| {
            verify(
                b"k",
                l.strip_prefix("https://mdt.example.nhs.uk/answer/")
                    .unwrap(),
            )
            .unwrap()
            .nonce
        };
        for (a, b) in links.iter().zip(&other) {
            assert_ne!(nonce(a), nonce(b));
        }
    }
}
