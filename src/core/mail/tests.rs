//! Each kind of message as sent: its subject and words, the link into the app, why it was sent
//! and how to stop it, and nothing shaped like an NHS number; the scanner the tests of every
//! sent message rely on, at its edges.

use chrono::TimeZone;

use super::*;

fn links() -> Links {
    Links {
        base_url: "https://mdt.example.nhs.uk/".into(),
    }
}

fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

const MEETING: &str = "/meetings/6f1c2a4e-0b7d-4a52-9c1e-2d7b3a1f9e20";

#[test]
fn each_message_says_what_when_where_to_go_and_how_to_stop_it() {
    // Tuesday 1 December 2026, 13:00 in London (winter: UTC).
    let starts = at(2026, 12, 1, 13, 0);
    let invitation = invitation(
        "Riverside MDT",
        starts,
        at(2026, 12, 1, 14, 30),
        "Room 2",
        MEETING,
        false,
        &links(),
    );
    assert_eq!(
        invitation.subject,
        "Invitation: Riverside MDT meeting, Tue 1 Dec 2026, 13:00–14:30"
    );
    assert!(invitation.body.contains("Place: Room 2\n"));
    assert!(invitation
        .body
        .contains(&format!("https://mdt.example.nhs.uk{MEETING}")));
    assert!(invitation.body.contains("ask Riverside MDT's coordinator"));
    let changed = super::invitation(
        "Riverside MDT",
        starts,
        starts,
        " ",
        MEETING,
        true,
        &links(),
    );
    assert!(changed.subject.starts_with("Changed: "));
    assert!(!changed.body.contains("Place:"));

    // Briefs due by Monday noon for Tuesday's meeting (summer time: 11:00 UTC is 12:00).
    let summer = at(2027, 6, 8, 12, 0);
    let reminder = brief_reminder(
        "Riverside MDT",
        summer,
        at(2027, 6, 7, 11, 0),
        2,
        MEETING,
        &links(),
    );
    assert_eq!(
        reminder.subject,
        "2 briefs due for Tuesday's Riverside MDT by Monday 12:00"
    );
    assert!(reminder
        .body
        .contains("To stop reminders of briefs to write, change your email settings: https://mdt.example.nhs.uk/settings/email"));
    let one = brief_reminder(
        "Riverside MDT",
        summer,
        at(2027, 6, 7, 11, 0),
        1,
        MEETING,
        &links(),
    );
    assert!(one.subject.starts_with("1 brief due"));

    let digest = actions_digest("Riverside MDT", 1, 0, &links());
    assert_eq!(
        digest.subject,
        "Your Riverside MDT actions: 1 overdue, 0 due this week"
    );
    assert!(digest
        .body
        .contains("You have 1 action overdue and no actions due this week"));
    assert!(digest.body.contains("https://mdt.example.nhs.uk/actions"));

    let chased = chase(
        "Riverside MDT",
        "Pat Coordinator",
        Chased::Brief,
        None,
        "/items/x/brief",
        &links(),
    );
    assert_eq!(
        chased.subject,
        "Pat Coordinator asks for your brief (Riverside MDT)"
    );
    let overdue = chase(
        "Riverside MDT",
        "Pat Coordinator",
        Chased::Action,
        None,
        "/actions",
        &links(),
    );
    assert!(overdue
        .body
        .contains("an action you own is past its due date"));

    let lost = quorum_lost(
        "Riverside MDT",
        starts,
        "a social worker",
        MEETING,
        &links(),
    );
    assert_eq!(
        lost.subject,
        "Quorum lost: Riverside MDT meeting, Tue 1 Dec 2026, 13:00"
    );
    assert!(lost.body.contains("no longer has a social worker"));

    let cancelled = cancellation("Riverside MDT", starts, "/teams/t", &links());
    assert_eq!(
        cancelled.subject,
        "Cancelled: Riverside MDT meeting, Tue 1 Dec 2026, 13:00"
    );

    for m in [
        invitation, changed, reminder, one, digest, chased, overdue, lost, cancelled,
    ] {
        assert!(m.body.contains(&format!(
            "You received this because you are in Riverside MDT and get {}.",
            m.kind.label()
        )));
        assert!(m.body.contains("This email never contains patient details"));
        assert!(
            !patient_shaped(&m.subject) && !patient_shaped(&m.body),
            "{m:?}"
        );
    }
}

#[test]
fn nhs_number_shapes_are_found_and_ids_phone_numbers_and_times_are_not() {
    for shaped in [
        "9990000018",
        "NHS 999 000 0018.",
        "(999-000-0018)",
        "born 1941, number 9990000026",
        "999 000 0018",
    ] {
        assert!(patient_shaped(shaped), "{shaped}");
    }
    for not in [
        "",
        "999 000 001",
        "99900000181",
        "01632 960 999",
        "+44 1632 960 001",
        "/meetings/a1234567890b-4a52",
        "id x9990000018",
        "9990000018y",
        "999  000 0018",
        "Tue 1 Dec 2026, 13:00–14:30",
        "2026-12-01",
    ] {
        assert!(!patient_shaped(not), "{not}");
    }
    assert!(
        !patient_shaped(&"1".repeat(100_000)),
        "a long run is not ten digits"
    );
}

#[test]
fn people_get_what_they_chose_and_those_without_accounts_only_invitations_when_allowed() {
    use MessageKind::*;
    let all = [
        Invitation,
        Cancellation,
        BriefReminder,
        ActionsDigest,
        Chase,
        QuorumLost,
    ];
    let everything = Recipient::Account(MailPreferences::default());
    assert!(all.iter().all(|k| everything.wants(*k)));
    let quiet = Recipient::Account(MailPreferences {
        brief_reminders: false,
        actions_digest: false,
        chases: false,
        quorum_warnings: false,
    });
    // Invitations keep the calendar right: not a choice.
    assert_eq!(
        all.iter().filter(|k| quiet.wants(**k)).collect::<Vec<_>>(),
        vec![&Invitation, &Cancellation]
    );
    let only_digest = Recipient::Account(MailPreferences {
        actions_digest: false,
        ..MailPreferences::default()
    });
    assert!(!only_digest.wants(ActionsDigest) && only_digest.wants(Chase));
    let off = Recipient::NoAccount {
        invitations_on: false,
    };
    assert!(all.iter().all(|k| !off.wants(*k)));
    let on = Recipient::NoAccount {
        invitations_on: true,
    };
    assert_eq!(
        all.iter().filter(|k| on.wants(**k)).collect::<Vec<_>>(),
        vec![&Invitation, &Cancellation]
    );
    // Stored as the person chose; an unknown choice is refused rather than ignored.
    let saved = serde_json::to_value(MailPreferences::default()).unwrap();
    assert_eq!(
        serde_json::from_value::<MailPreferences>(saved).unwrap(),
        MailPreferences::default()
    );
    assert!(
        serde_json::from_value::<MailPreferences>(serde_json::json!({
            "brief_reminders": true, "actions_digest": true, "chases": true,
            "quorum_warnings": true, "marketing": true
        }))
        .is_err()
    );
}

#[test]
fn answer_links_go_before_the_footer() {
    let starts = at(2026, 12, 1, 13, 0);
    let plain = invitation(
        "Riverside MDT",
        starts,
        starts,
        "",
        MEETING,
        false,
        &links(),
    );
    let with = with_answer_links(plain.clone(), "https://a/1", "https://a/2", "https://a/3");
    let (main, footer) = with.body.split_once("\n\n--\n").unwrap();
    assert!(main.ends_with(
        "Can you come? Answer with one click (no password needed):\nAttending in person: https://a/1\nAttending remotely: https://a/2\nApologies: https://a/3"
    ));
    assert!(footer.starts_with("You received this because you are in Riverside MDT"));
    assert_eq!(with.subject, plain.subject);
}

#[test]
fn a_series_invitation_answers_each_of_its_next_meetings_by_link_before_the_footer() {
    let series = series_invitation(
        "Riverside MDT",
        at(2026, 12, 8, 13, 0),
        at(2026, 12, 8, 14, 0),
        "the 2nd Tuesday of the month",
        "Room 2",
        "/teams/x",
        false,
        &links(),
    );
    // Answering is not only for people who sign in to the app.
    assert!(
        !series.body.contains("Say whether you can come"),
        "{}",
        series.body
    );
    let link = |n: u32| [1, 2, 3].map(|k| format!("https://a/{n}/{k}"));
    // 13:00 in winter, and 13:00 BST (12:00 UTC) in April: each meeting by its UK day and time.
    let with = with_series_answer_links(
        series.clone(),
        &[
            (at(2026, 12, 8, 13, 0), link(1)),
            (at(2027, 4, 13, 12, 0), link(2)),
        ],
    );
    let (main, footer) = with.body.split_once("\n\n--\n").unwrap();
    assert!(
        main.contains(
            "Can you come? Answer for each of the next meetings with one click (no password needed):\n\n\
             Tue 8 Dec 2026, 13:00 (UK time):\n\
             Attending in person: https://a/1/1\nAttending remotely: https://a/1/2\nApologies: https://a/1/3\n\n\
             Tue 13 Apr 2027, 13:00 (UK time):\n\
             Attending in person: https://a/2/1\nAttending remotely: https://a/2/2\nApologies: https://a/2/3\n\n\
             For later meetings, answer in the app, or tell the team's coordinator if you do not sign in to it."
        ),
        "{main}"
    );
    assert!(footer.starts_with("You received this because you are in Riverside MDT"));
    // No meetings to answer: the message as it was.
    assert_eq!(with_series_answer_links(series.clone(), &[]), series);
}

/// A name or place stored with line breaks (before validation refused them, or by another way
/// in) never starts a line of its own in a message: it is folded onto one line in the subject,
/// the body and the footer, so it cannot imitate a header, the message's words or its links.
#[test]
fn names_and_places_with_line_breaks_stay_on_one_line() {
    let team =
        "Riverside MDT\nBcc: victim@example.com\r\nhttps://evil.example/sign-in\u{2028}Click here";
    let place = "Room 2\n\nYour password has expired: https://evil.example";
    let starts = at(2026, 12, 1, 13, 0);
    let messages = [
        invitation(
            team,
            starts,
            at(2026, 12, 1, 14, 30),
            place,
            MEETING,
            false,
            &links(),
        ),
        series_invitation(
            team,
            starts,
            at(2026, 12, 1, 14, 30),
            "every Tuesday",
            place,
            "/teams/x",
            true,
            &links(),
        ),
        series_cancellation(team, "every Tuesday", "/teams/x", &links()),
        cancellation(team, starts, "/teams/x", &links()),
        brief_reminder(team, starts, at(2026, 11, 30, 13, 0), 2, MEETING, &links()),
        actions_digest(team, 1, 2, &links()),
        chase(
            team,
            "Pat\nCoordinator",
            Chased::Action,
            None,
            "/actions",
            &links(),
        ),
        quorum_lost(team, starts, "a GP", MEETING, &links()),
    ];
    for message in &messages {
        assert!(
            !message
                .subject
                .chars()
                .any(|c| c.is_control() || c == '\u{2028}'),
            "{:?}",
            message.subject
        );
        for line in message.body.lines() {
            assert!(!line.starts_with("Bcc:"), "{line:?}");
            assert!(!line.starts_with("https://evil"), "{line:?}");
            assert!(!line.starts_with("Your password"), "{line:?}");
            assert!(!line.contains('\u{2028}'), "{line:?}");
        }
        assert!(
            message.body.contains(
                "Riverside MDT Bcc: victim@example.com https://evil.example/sign-in Click here"
            ),
            "{}",
            message.body
        );
    }
    assert!(messages[0]
        .body
        .contains("Place: Room 2 Your password has expired: https://evil.example\n"));
    assert!(messages[6]
        .body
        .starts_with("Pat Coordinator, who coordinates"));
}
