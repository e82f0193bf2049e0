//! One-click answers from an invitation email (issue 17): `GET /answer/{token}` shows what the
//! link will record and a button; `POST /answer/{token}` records it. Nothing changes on the
//! GET, because mail systems open links to scan them. No password is needed: the signed link
//! (see [`super::store::answer_links`]) is the permission, for that person's answer to that meeting
//! and nothing else, once, until the meeting starts. A replayed, expired or altered link
//! changes nothing and the page says so plainly.
//!
//! The pages are small server-made HTML in the NHS style (the app itself needs a sign-in).

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::error::Error;
use super::store::answer_links::{self, AnswerClaim};
use super::store::{self, Actor, Db};
use super::AppState;
use crate::core::attendance::{Attendance, AttendanceStatus};
use crate::core::entities::{Entity, Meeting, MeetingStatus, Person, Team};
use crate::core::sync::{Mutation, MutationOp, MutationResult};
use crate::core::uk_time;

/// The answer routes (outside `/api`: they are pages, opened from an email).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/answer/{token}", get(show).post(record))
        .route("/answer.css", get(style))
}

const STYLE: &str = include_str!("answer.css");

async fn style() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        STYLE,
    )
        .into_response()
}

/// Why a link does nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Refusal {
    Altered,
    Expired,
    Used,
    Cancelled,
    /// The person's account is disabled: nothing of theirs is recorded.
    AccountDisabled,
    /// The rules refused the answer (the person has left the team, …).
    Refused(String),
}

impl Refusal {
    fn page(&self, app: &str) -> Response {
        let (status, title, text) = match self {
            Self::Altered => (
                StatusCode::BAD_REQUEST,
                "This link does not work",
                "It may have been changed or cut short when it was copied. Nothing was recorded. Use the link in the email as it is, or answer in the app.".to_owned(),
            ),
            Self::Expired => (
                StatusCode::GONE,
                "This link has expired",
                "Answer links stop working when the meeting starts. Nothing was recorded. Open the app to see the meeting.".to_owned(),
            ),
            Self::Used => (
                StatusCode::GONE,
                "This link has been used already",
                "Each answer link works once. Nothing was changed now: your answer stays as it is. To change it, use another link from the email or answer in the app.".to_owned(),
            ),
            Self::Cancelled => (
                StatusCode::GONE,
                "This meeting is not taking place",
                "It has been cancelled or removed, so there is nothing to answer. Nothing was recorded.".to_owned(),
            ),
            Self::AccountDisabled => (
                StatusCode::FORBIDDEN,
                "This account is disabled",
                "Answers cannot be recorded for a disabled account. Nothing was recorded. If this is wrong, ask your administrator.".to_owned(),
            ),
            Self::Refused(reason) => (
                StatusCode::CONFLICT,
                "Your answer could not be recorded",
                format!("{reason}. Nothing was changed. Ask your team's coordinator, or answer in the app."),
            ),
        };
        page(
            status,
            title,
            &format!(
                "<p>{}</p><p><a href=\"{}\">Open the app</a></p>",
                escape(&text),
                escape(app)
            ),
        )
    }
}

/// What the page says about the meeting: the team's name and when (nothing about patients).
struct Facts {
    team: String,
    person: String,
    starts: String,
}

/// What a link that passes every check is for: its claim, what its page says, the meeting's
/// team and the account of the person answering (none when they have none).
struct Checked {
    claim: AnswerClaim,
    facts: Facts,
    team_id: Uuid,
    account: Option<store::UserRow>,
}

/// Checks a link at `now` and reads what its page shows, without changing anything: signed by
/// this site, not run out, not used, its meeting still planned and not yet started (the
/// meeting's start *now*: one moved earlier into the past takes no more answers), and its
/// person's account, if they have one, not disabled.
fn check(db: &dyn Db, token: &str, now: DateTime<Utc>) -> Result<Result<Checked, Refusal>, Error> {
    let Some(claim) =
        answer_links::existing_key(db)?.and_then(|key| answer_links::verify(&key, token))
    else {
        return Ok(Err(Refusal::Altered));
    };
    if claim.expired(now) {
        return Ok(Err(Refusal::Expired));
    }
    if answer_links::answer_link_used(db, claim.nonce)? {
        return Ok(Err(Refusal::Used));
    }
    let meeting = store::records_by_id::<Meeting>(db, [claim.meeting_id])?
        .remove(&claim.meeting_id)
        .filter(|m| m.status == MeetingStatus::Planned);
    let Some(meeting) = meeting else {
        return Ok(Err(Refusal::Cancelled));
    };
    if meeting.starts_at <= now {
        return Ok(Err(Refusal::Expired));
    }
    let account = store::find_user_by_person(db, claim.person_id)?;
    if account.as_ref().is_some_and(|a| a.disabled) {
        return Ok(Err(Refusal::AccountDisabled));
    }
    let team = store::records_by_id::<Team>(db, [meeting.team_id])?
        .remove(&meeting.team_id)
        .map(|t| t.name)
        .unwrap_or_default();
    let person = store::records_by_id::<Person>(db, [claim.person_id])?
        .remove(&claim.person_id)
        .map(|p| p.name)
        .unwrap_or_default();
    Ok(Ok(Checked {
        claim,
        facts: Facts {
            team,
            person,
            starts: uk_time::format_uk(meeting.starts_at),
        },
        team_id: meeting.team_id,
        account,
    }))
}

fn answer_words(status: AttendanceStatus) -> &'static str {
    match status {
        AttendanceStatus::Attending => "I will attend in person",
        AttendanceStatus::Remote => "I will attend remotely",
        _ => "I send my apologies: I cannot come",
    }
}

async fn show(State(state): State<AppState>, Path(token): Path<String>) -> Result<Response, Error> {
    let checked = {
        let token = token.clone();
        state
            .store
            .read(move |db| check(db, &token, Utc::now()))
            .await?
    };
    let app = "/";
    let Checked { claim, facts, .. } = match checked {
        Ok(found) => found,
        Err(refusal) => return Ok(refusal.page(app)),
    };
    let body = format!(
        "<p>{} meeting, {} (UK time).</p>\
         <p>Your answer, {}: <strong>{}</strong>.</p>\
         <form method=\"post\" action=\"/answer/{}\">\
         <button class=\"button\" type=\"submit\">Record my answer</button></form>\
         <p>Nothing is recorded until you press the button. To see the agenda and briefs, <a href=\"{}\">open the app</a>.</p>",
        escape(&facts.team),
        escape(&facts.starts),
        escape(&facts.person),
        answer_words(claim.status),
        escape(&token),
        escape(&format!("/meetings/{}", claim.meeting_id)),
    );
    Ok(page(StatusCode::OK, "Answer the invitation", &body))
}

async fn record(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, Error> {
    let store = state.store.clone();
    let outcome = tokio::task::spawn_blocking(move || apply(&store, &token))
        .await
        .map_err(|e| Error::Internal(e.into()))??;
    let (claim, facts) = match outcome {
        Ok(found) => found,
        Err(refusal) => return Ok(refusal.page("/")),
    };
    let meeting = format!("/meetings/{}", claim.meeting_id);
    let mut body = format!(
        "<p>{} meeting, {} (UK time): <strong>{}</strong>. Thank you, {}.</p>",
        escape(&facts.team),
        escape(&facts.starts),
        answer_words(claim.status),
        escape(&facts.person),
    );
    if claim.status == AttendanceStatus::Apologies {
        body.push_str(&format!(
            "<h2>Can someone come in your place?</h2>\
             <p>The meeting may need someone in your role. Ask a colleague, then name them as your deputy in the app: <a href=\"{}\">open the meeting</a>. If you cannot sign in, tell your team's coordinator who is coming instead.</p>",
            escape(&meeting)
        ));
    } else {
        body.push_str(&format!(
            "<p>To see the agenda and briefs before the meeting, <a href=\"{}\">open the meeting in the app</a>.</p>",
            escape(&meeting)
        ));
    }
    Ok(page(StatusCode::OK, "Your answer is recorded", &body))
}

/// Records a link's answer, as its person, through the same rules as the app's changes, in
/// one transaction with the link's checks and its use: the link is used exactly when the
/// answer is recorded, however many requests race with it, and a refused answer leaves it
/// unused.
fn apply(
    store: &store::Store,
    token: &str,
) -> Result<Result<(AnswerClaim, Facts), Refusal>, Error> {
    let now = Utc::now();
    let mut answered = None;
    let decide = |db: &dyn Db| {
        let Checked {
            claim,
            facts,
            team_id,
            account,
        } = match check(db, token, now)? {
            Ok(checked) => checked,
            Err(refusal) => return Ok(Err(refusal)),
        };
        // Taken first, in the same transaction: a second request for the link finds it used.
        if !answer_links::use_answer_link(db, claim.nonce, now)? {
            return Ok(Err(Refusal::Used));
        }
        let answer_id = Attendance::id_for(claim.meeting_id, claim.person_id);
        let deputy =
            store::record_with_version::<Attendance>(db, answer_id)?.and_then(|(a, _)| a.deputy_id);
        let actor = Actor {
            // Someone without an account answers as themselves, under an id of their own.
            user_id: account.as_ref().map_or_else(
                || Uuid::new_v5(&ANSWER_NAMESPACE, claim.person_id.as_bytes()),
                |u| u.id,
            ),
            person_id: claim.person_id,
            name: facts.person.clone(),
            session: "answer link from an email".into(),
        };
        let answer = Attendance {
            team_id,
            meeting_id: claim.meeting_id,
            person_id: claim.person_id,
            status: claim.status,
            // A deputy named before stays named with apologies.
            deputy_id: deputy.filter(|_| claim.status == AttendanceStatus::Apologies),
        };
        let mutation = Mutation {
            mutation_id: Uuid::new_v4(),
            seq: 1,
            entity: Attendance::KIND,
            id: answer_id,
            base_version: store::current_version(db, answer_id)?,
            op: MutationOp::Update {
                fields: answer.to_fields(),
            },
        };
        answered = Some((claim, facts));
        Ok(Ok((actor, vec![mutation])))
    };
    let judge = |results: &[MutationResult]| match results.first() {
        Some(MutationResult::Applied { .. }) => Ok(()),
        Some(MutationResult::Rejected { reason, .. }) => {
            Err(Refusal::Refused(reason.trim_end_matches('.').to_owned()))
        }
        _ => Err(Refusal::Refused(
            "Someone changed your answer at the same moment; try the link again".into(),
        )),
    };
    match store.push_guarded(Uuid::new_v4(), now, decide, judge)? {
        Ok(_) => Ok(Ok(answered.ok_or_else(|| {
            Error::Internal(anyhow::anyhow!("an answer was pushed without its link"))
        })?)),
        Err(refusal) => Ok(Err(refusal)),
    }
}

const ANSWER_NAMESPACE: Uuid = Uuid::from_u128(0x6d64_745f_616e_7377_6572_5f6c_696e_6b01);

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en-GB\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"referrer\" content=\"no-referrer\">\
         <title>{title} – MDT coordination</title><link rel=\"stylesheet\" href=\"/answer.css\"></head>\
         <body><header><span class=\"logo\">NHS</span> MDT coordination</header>\
         <main id=\"maincontent\"><h1>{title}</h1>{body}</main></body></html>",
        title = escape(title),
    );
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        html,
    )
        .into_response()
}
