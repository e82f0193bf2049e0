//! What a server of a region knows without asking the database: the head of the change log
//! and the sessions it has recently looked up (PostgreSQL only; see docs/region.md, "Polls
//! with nothing new never wait on the database").
//!
//! Most requests are polls from devices that are already up to date. On PostgreSQL each used
//! to cost two round trips through the pool (the session, the head of the log), so under load
//! they queued behind each other for a connection. Every commit of the region is announced on
//! `LISTEN` (with the head it reached, [`super::Changed::head`]) and every change to sessions
//! or accounts too ([`super::changes::SESSIONS_CHANNEL`]), so a server that is listening can
//! answer those from memory:
//!
//! - the head only ever rises; a poll whose cursor is at or above it has nothing to fetch;
//! - a remembered session is forgotten when any session or account changes anywhere in the
//!   region, after [`SESSION_MEMORY`] at the latest, and whenever the listener is not
//!   connected (news may be missed then), so an ended session stops working everywhere as
//!   soon as the news arrives.
//!
//! Nothing is trusted until the listener is connected and has read the head *after* it began
//! listening, so no commit falls between what it read and what it hears.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::accounts::SessionRow;

/// How long a remembered session is used before it is looked up again, whatever the news.
pub const SESSION_MEMORY: Duration = Duration::from_secs(30);

/// Most sessions remembered at once (all are forgotten when it is reached).
const MOST_SESSIONS: usize = 100_000;

/// The head of the change log and recently used sessions, as this server last heard them.
#[derive(Default)]
pub struct Memory {
    /// Highest change number heard of.
    head: AtomicU64,
    /// The listener is connected and read the head after it began listening.
    trusted: AtomicBool,
    /// Raised every time remembered sessions are forgotten, so a look-up that started before
    /// is not remembered after ([`Memory::remember_session`]).
    generation: AtomicU64,
    sessions: Mutex<HashMap<String, (SessionRow, Instant)>>,
}

impl Memory {
    /// The listener is connected again and the head of the log, read after it began
    /// listening, is `head`: from now on memory answers.
    pub fn listening(&self, head: u64) {
        self.raise_head(head);
        self.forget_sessions();
        self.trusted.store(true, Ordering::SeqCst);
    }

    /// The listener lost its connection: news may be missed, so nothing is answered from
    /// memory until it is back.
    pub fn deaf(&self) {
        self.trusted.store(false, Ordering::SeqCst);
        self.forget_sessions();
    }

    /// A commit reached change number `head`.
    pub fn raise_head(&self, head: u64) {
        self.head.fetch_max(head, Ordering::SeqCst);
    }

    /// Whether a pull from `since` certainly has nothing to fetch.
    pub fn at_head(&self, since: u64) -> bool {
        self.trusted.load(Ordering::SeqCst) && since >= self.head.load(Ordering::SeqCst)
    }

    /// A value to hand back to [`Memory::remember_session`], taken before looking a session up.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// The session with this token hash, if it was looked up within [`SESSION_MEMORY`] and
    /// nothing has changed sessions since.
    pub fn session(&self, token_hash: &str) -> Option<SessionRow> {
        if !self.trusted.load(Ordering::SeqCst) {
            return None;
        }
        let sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        sessions
            .get(token_hash)
            .filter(|(_, at)| at.elapsed() < SESSION_MEMORY)
            .map(|(row, _)| row.clone())
    }

    /// Remembers a session looked up in the database, unless sessions were forgotten since
    /// `generation` was taken (the look-up may predate the change that ended it).
    pub fn remember_session(&self, token_hash: &str, row: SessionRow, generation: u64) {
        if !self.trusted.load(Ordering::SeqCst) {
            return;
        }
        let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        if self.generation.load(Ordering::SeqCst) != generation {
            return;
        }
        if sessions.len() >= MOST_SESSIONS {
            sessions.clear();
        }
        sessions.insert(token_hash.to_owned(), (row, Instant::now()));
    }

    /// Forgets one session (it changed or ended). A look-up of any session under way is not
    /// remembered either (it cannot tell whether it read this one before the change).
    pub fn forget_session(&self, token_hash: &str) {
        let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        self.generation.fetch_add(1, Ordering::SeqCst);
        sessions.remove(token_hash);
    }

    /// Forgets every session (a session or account changed somewhere in the region).
    pub fn forget_sessions(&self) {
        let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        self.generation.fetch_add(1, Ordering::SeqCst);
        sessions.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::store::accounts::UserRow;
    use chrono::Utc;
    use uuid::Uuid;

    fn row() -> SessionRow {
        SessionRow {
            user: UserRow {
                id: Uuid::new_v4(),
                email: "ada.synthetic@example.nhs.net".into(),
                name: "Ada Synthetic".into(),
                person_id: Uuid::new_v4(),
                password_hash: String::new(),
                disabled: false,
                site_admin: false,
            },
            created_at: Utc::now(),
            last_seen_at: Utc::now(),
            how: Some("password".into()),
        }
    }

    #[test]
    fn nothing_is_answered_until_listening_nor_after_the_listener_is_lost() {
        let memory = Memory::default();
        assert!(!memory.at_head(u64::MAX), "not listening yet");
        memory.remember_session("a", row(), memory.generation());
        assert!(memory.session("a").is_none());
        memory.listening(10);
        assert!(memory.at_head(10) && memory.at_head(11) && !memory.at_head(9));
        memory.raise_head(12);
        memory.raise_head(11);
        assert!(
            !memory.at_head(11) && memory.at_head(12),
            "the head only rises"
        );
        memory.remember_session("a", row(), memory.generation());
        assert!(memory.session("a").is_some());
        memory.deaf();
        assert!(!memory.at_head(u64::MAX));
        assert!(memory.session("a").is_none());
        memory.listening(0);
        assert!(memory.session("a").is_none(), "forgotten while deaf");
        assert!(memory.at_head(12), "the head heard before is kept");
    }

    #[test]
    fn a_look_up_that_began_before_sessions_changed_is_not_remembered() {
        let memory = Memory::default();
        memory.listening(0);
        let before = memory.generation();
        // Meanwhile someone signs out (the news arrives while the look-up is under way).
        memory.forget_sessions();
        memory.remember_session("a", row(), before);
        assert!(memory.session("a").is_none());
        memory.remember_session("a", row(), memory.generation());
        assert!(memory.session("a").is_some());
        memory.forget_session("a");
        assert!(memory.session("a").is_none());
    }
}
