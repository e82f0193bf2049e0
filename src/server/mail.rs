//! Sending the outbox over SMTP (issue 17). Configured by `--smtp-url` (`smtp://` with
//! `?tls=required` for STARTTLS, `smtps://` for TLS, `user:password@` for credentials), a
//! from-address and the app's public address for links. Without them the server runs as
//! before: nothing is written to the outbox and the app says email is off.
//!
//! One background task per server. It sends only while it holds the `mail` lease in the
//! database, so with several servers on one database exactly one sends; the lease runs out
//! when its server dies, and another takes over. Messages are claimed before they are sent
//! (their next attempt moved on), sent, then marked; a failure waits for the next attempt with
//! growing delays, and an address the SMTP server refuses for good is given up and kept.

use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use sha2::{Digest, Sha256};

use super::store::outbox::{self, Due, MAIL_LEASE};
use super::store::Store;
use crate::core::mail::Links;
use crate::core::notify::MailOrigin;

/// How email is sent, from the command line.
#[derive(Debug, Clone)]
pub struct MailSettings {
    /// `smtp://host:port`, `smtp://user:password@host:587?tls=required`, `smtps://host`.
    pub smtp_url: String,
    /// The sender, `mdt@practice.nhs.uk` or `MDT coordination <mdt@practice.nhs.uk>`.
    pub from: String,
    /// The app's address as people reach it (links in messages).
    pub public_url: String,
    /// The wait before the first retry; each later one waits twice as long, up to an hour.
    pub retry_first: StdDuration,
    /// How often the sender looks for reminders and digests that are due.
    pub check_every: StdDuration,
}

/// How long a sender's lease lasts without being renewed: another server takes over this long
/// after the sender dies.
const LEASE: StdDuration = StdDuration::from_secs(15);

/// Messages claimed at a time.
const BATCH: usize = 20;

/// The longest wait between attempts.
const RETRY_MAX: StdDuration = StdDuration::from_secs(3600);

/// When the next attempt of a message that has had `attempts` may be.
pub fn retry_at(now: DateTime<Utc>, first: StdDuration, attempts: u32) -> DateTime<Utc> {
    let factor = 2u32.saturating_pow(attempts.saturating_sub(1).min(20));
    let wait = first.saturating_mul(factor).min(RETRY_MAX);
    now + Duration::from_std(wait).unwrap_or_else(|_| Duration::hours(1))
}

/// A started sender.
pub struct Sender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    store: Store,
    holder: String,
    retry_first: StdDuration,
    check_every: StdDuration,
    origin: MailOrigin,
    /// When reminders and digests were last looked for (by this server, while it held the
    /// lease).
    checked: std::sync::Mutex<Option<std::time::Instant>>,
}

impl Sender {
    /// Checks the settings and turns email on for `store` (pushes write the outbox from now
    /// on). Fails with a plain reason when a setting is wrong, so the server does not start
    /// with email silently off.
    pub fn new(store: Store, settings: &MailSettings, holder: String) -> anyhow::Result<Self> {
        let from: Mailbox = settings.from.parse().map_err(|e| {
            anyhow::anyhow!(
                "the from-address \"{}\" is not an email address: {e}",
                settings.from
            )
        })?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&settings.smtp_url)
            .map_err(|e| anyhow::anyhow!("the SMTP address is not usable: {e}"))?
            .timeout(Some(StdDuration::from_secs(20)))
            .build();
        let public = settings.public_url.trim_end_matches('/');
        if !(public.starts_with("https://") || public.starts_with("http://")) {
            anyhow::bail!(
                "the public address \"{}\" must start with https:// (or http://)",
                settings.public_url
            );
        }
        let origin = MailOrigin {
            links: Links {
                base_url: public.to_owned(),
            },
            from_address: from.email.to_string(),
        };
        store.send_mail_from(origin.clone());
        Ok(Self {
            transport,
            from,
            store,
            holder,
            retry_first: settings.retry_first,
            check_every: settings.check_every,
            origin,
            checked: std::sync::Mutex::new(None),
        })
    }

    /// Sends the outbox until `shutdown` says stop, then lets the lease go.
    pub async fn run(self, mut shutdown: tokio::sync::watch::Receiver<bool>) {
        loop {
            if *shutdown.borrow() {
                break;
            }
            let rest = match self.round().await {
                Ok(true) => StdDuration::ZERO,
                Ok(false) => StdDuration::from_secs(1),
                Err(e) => {
                    tracing::warn!("email: the outbox could not be read: {e}");
                    StdDuration::from_secs(5)
                }
            };
            if !rest.is_zero() {
                tokio::select! {
                    _ = tokio::time::sleep(rest) => {}
                    changed = shutdown.changed() => {
                        // The server is gone (its state dropped): stop, never spin.
                        if changed.is_err() {
                            break;
                        }
                    }
                }
            }
        }
        let holder = self.holder.clone();
        let _ = self
            .store
            .write(move |db| outbox::release_lease(db, MAIL_LEASE, &holder))
            .await;
    }

    /// Takes or renews the lease and sends what is due. True when it sent (or tried) a full
    /// batch, so more may be waiting.
    async fn round(&self) -> Result<bool, super::error::Error> {
        let holder = self.holder.clone();
        let ttl = Duration::from_std(LEASE).unwrap_or_else(|_| Duration::seconds(15));
        let first = self.retry_first;
        let check = {
            let mut checked = self.checked.lock().unwrap_or_else(|p| p.into_inner());
            let due = checked.is_none_or(|at| at.elapsed() >= self.check_every);
            if due {
                *checked = Some(std::time::Instant::now());
            }
            due.then(|| self.origin.clone())
        };
        let due = self
            .store
            .write(move |db| {
                let now = Utc::now();
                if !outbox::take_lease(db, MAIL_LEASE, &holder, now, ttl)? {
                    return Ok(Vec::new());
                }
                if let Some(origin) = &check {
                    outbox::enqueue_scheduled(db, origin, now)?;
                }
                outbox::claim_due(db, &holder, now, BATCH, |n| retry_at(now, first, n))
            })
            .await?;
        let full = due.len() == BATCH;
        for message in due {
            let outcome = self.send(&message).await;
            let (id, to) = (message.message_id, message.recipient.clone());
            self.store
                .write(move |db| match outcome {
                    Ok(()) => outbox::mark_sent(db, id, &to, Utc::now()),
                    Err((reason, permanent)) => {
                        tracing::warn!(
                            message = %id,
                            permanent,
                            "email: not sent: {reason}"
                        );
                        outbox::mark_failed(db, id, &to, &reason, permanent, Utc::now())
                    }
                })
                .await?;
        }
        Ok(full)
    }

    /// Sends one message; on failure the reason, and whether it is for good.
    async fn send(&self, due: &Due) -> Result<(), (String, bool)> {
        let email = build(&self.from, due).map_err(|e| (e, true))?;
        self.transport
            .send(email)
            .await
            .map(|_| ())
            .map_err(|e| (e.to_string(), e.is_permanent()))
    }
}

/// The email of one outbox row: plain text, with its calendar file attached, and a Message-ID
/// of its own per recipient (the same on a retry, so mail systems can drop a duplicate).
pub fn build(from: &Mailbox, due: &Due) -> Result<lettre::Message, String> {
    let to: Mailbox = due
        .recipient
        .parse()
        .map_err(|e| format!("the address {} is not usable: {e}", due.recipient))?;
    let recipient_hash = hex(&Sha256::digest(due.recipient.to_lowercase().as_bytes())[..6]);
    let domain = from.email.domain().to_owned();
    let builder = lettre::Message::builder()
        .from(from.clone())
        .to(to)
        .subject(due.subject.clone())
        .message_id(Some(format!(
            "<{}.{recipient_hash}@{domain}>",
            due.message_id
        )));
    let text = SinglePart::builder()
        .header(ContentType::TEXT_PLAIN)
        .body(due.body.clone());
    let built = match &due.calendar {
        None => builder.singlepart(text),
        Some(ics) => {
            let method = if ics.contains("\r\nMETHOD:CANCEL\r\n") {
                "CANCEL"
            } else {
                "REQUEST"
            };
            let kind =
                ContentType::parse(&format!("text/calendar; charset=utf-8; method={method}"))
                    .map_err(|e| e.to_string())?;
            let name = if method == "CANCEL" {
                "cancelled.ics"
            } else {
                "invitation.ics"
            };
            builder.multipart(
                MultiPart::mixed()
                    .singlepart(text)
                    .singlepart(Attachment::new(name.to_owned()).body(ics.clone(), kind)),
            )
        }
    };
    built.map_err(|e| e.to_string())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_wait_longer_each_time_up_to_an_hour_even_at_the_edges() {
        let now = Utc::now();
        let first = StdDuration::from_secs(30);
        assert_eq!(retry_at(now, first, 0), now + Duration::seconds(30));
        assert_eq!(retry_at(now, first, 1), now + Duration::seconds(30));
        assert_eq!(retry_at(now, first, 2), now + Duration::seconds(60));
        assert_eq!(retry_at(now, first, 8), now + Duration::seconds(3600));
        assert_eq!(
            retry_at(now, first, u32::MAX),
            now + Duration::seconds(3600)
        );
        assert_eq!(
            retry_at(now, StdDuration::MAX, u32::MAX),
            now + Duration::seconds(3600)
        );
    }

    fn due(recipient: &str, calendar: Option<&str>) -> Due {
        Due {
            message_id: uuid::Uuid::from_u128(7),
            recipient: recipient.into(),
            kind: "invitation".into(),
            subject: "Invitation: Riverside MDT meeting".into(),
            body: "Riverside MDT meets.".into(),
            calendar: calendar.map(str::to_owned),
            attempts: 0,
        }
    }

    #[test]
    fn a_message_carries_its_calendar_file_and_a_message_id_per_recipient() {
        let from: Mailbox = "MDT coordination <mdt@example.nhs.uk>".parse().unwrap();
        let ics = "BEGIN:VCALENDAR\r\nMETHOD:CANCEL\r\nEND:VCALENDAR\r\n";
        let one = build(&from, &due("a@example.nhs.net", Some(ics))).unwrap();
        let text = String::from_utf8(one.formatted()).unwrap();
        assert!(text.contains("text/calendar; charset=utf-8; method=CANCEL"));
        assert!(text.contains("cancelled.ics"));
        let id = |m: &lettre::Message| {
            m.headers()
                .get_raw("Message-ID")
                .map(str::to_owned)
                .unwrap()
        };
        let other = build(&from, &due("b@example.nhs.net", None)).unwrap();
        assert_ne!(id(&one), id(&other));
        assert_eq!(
            id(&one),
            id(&build(&from, &due("A@example.nhs.net", None)).unwrap())
        );
        assert!(id(&one).ends_with("@example.nhs.uk>"));
        // An address that cannot be used is refused for good (never retried forever).
        assert!(build(&from, &due("not an address\r\nBcc: x@y", None)).is_err());
    }
}
