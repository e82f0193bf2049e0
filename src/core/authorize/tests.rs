use super::*;

#[test]
fn write_table_document() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/write-permissions.md");
    let table = table_markdown();
    if std::env::var_os("MDT_WRITE_TABLE").is_some() {
        std::fs::write(path, &table).unwrap();
    }
    let stored = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        stored == table,
        "docs/write-permissions.md differs from core::authorize::who_may; run MDT_WRITE_TABLE=1 cargo test write_table_document"
    );
}

#[test]
fn every_field_of_every_kind_has_a_row_and_nobody_deletes_teams_or_history() {
    for kind in EntityKind::ALL {
        for field in kind.field_names() {
            // A field nobody may change is a deliberate row, not a missing one: the links
            // between records and what the server sets.
            let who = who_may(kind, Operation::Change, field);
            let fixed = matches!(
                *field,
                "team_id"
                    | "meeting_id"
                    | "item_id"
                    | "brief_id"
                    | "action_id"
                    | "person_id"
                    | "content_withheld"
            ) && !(kind == EntityKind::Action
                && matches!(*field, "meeting_id" | "item_id"));
            let append_only = kind == EntityKind::ActionEvent;
            assert_eq!(
                who.is_empty(),
                fixed || append_only,
                "{kind:?}.{field}: {who:?}"
            );
            assert!(!who.contains(&Relation::Observer), "{kind:?}.{field}");
        }
    }
    assert!(who_may(EntityKind::Team, Operation::Delete, "").is_empty());
    assert!(who_may(EntityKind::ActionEvent, Operation::Delete, "").is_empty());
    assert_eq!(
        who_may(EntityKind::Team, Operation::Change, "coordinator_id"),
        &[Relation::Coordinator]
    );
}

mod on_the_device {
    use super::super::*;
    use crate::core::directory::Role;
    use crate::core::meeting::{Meeting, MeetingStatus};
    use crate::core::record::Entity;
    use crate::core::sync::{PullResponse, Replica};
    use chrono::{TimeZone, Utc};
    use serde_json::json;

    const PAT: Uuid = Uuid::from_u128(1);
    const SOL: Uuid = Uuid::from_u128(2);
    const OLU: Uuid = Uuid::from_u128(3);
    const TEAM: Uuid = Uuid::from_u128(10);
    const MEETING: Uuid = Uuid::from_u128(11);

    fn record<E: Entity>(id: Uuid, entity: &E) -> SyncRecord {
        SyncRecord {
            entity: E::KIND,
            id,
            version: 1,
            updated_at: Utc.with_ymd_and_hms(2026, 11, 1, 9, 0, 0).unwrap(),
            updated_by: "Pat Coordinator".into(),
            deleted: false,
            fields: entity.to_fields(),
            field_stamps: Default::default(),
            conflicts: vec![],
        }
    }

    fn replica() -> Replica {
        replica_with(false)
    }

    /// The test team (archived or not) and its meeting, as a device holds them.
    fn replica_with(archived: bool) -> Replica {
        let team = Team {
            name: "Riverside MDT".into(),
            coordinator_id: PAT,
            member_ids: vec![SOL],
            observer_ids: vec![OLU],
            required_roles: vec![Role::Gp.into()],
            default_minutes: 90,
            place: String::new(),
            video_link: None,
            agenda_cutoff_hours: 48,
            brief_cutoff_hours: 24,
            archived,
            observers_see_measures: false,
            email_people_without_accounts: false,
        };
        let meeting = the_meeting(MeetingStatus::Planned);
        let mut r = Replica::new(Uuid::from_u128(99));
        r.apply_pull(PullResponse {
            records: vec![record(TEAM, &team), record(MEETING, &meeting)],
            cursor: 2,
            more: false,
        });
        r
    }

    fn stage(
        r: &mut Replica,
        me: Uuid,
        id: Uuid,
        kind: EntityKind,
        fields: serde_json::Value,
    ) -> Result<(), Refusal> {
        stage_at(
            r,
            me,
            id,
            kind,
            fields,
            Utc.with_ymd_and_hms(2026, 11, 30, 9, 0, 0).unwrap(),
        )
    }

    fn stage_at(
        r: &mut Replica,
        me: Uuid,
        id: Uuid,
        kind: EntityKind,
        fields: serde_json::Value,
        now: chrono::DateTime<Utc>,
    ) -> Result<(), Refusal> {
        let from = r.outbox.len();
        r.stage_update(
            Uuid::new_v4(),
            kind,
            id,
            fields.as_object().unwrap().clone(),
        )
        .unwrap();
        let decision = check_queued(r, me, from, now);
        if decision.is_err() {
            r.outbox.truncate(from);
        }
        decision
    }

    #[test]
    fn a_change_the_server_would_refuse_is_refused_on_the_device_before_it_is_queued() {
        let mut r = replica();
        let takeover = stage(
            &mut r,
            SOL,
            TEAM,
            EntityKind::Team,
            json!({"coordinator_id": SOL, "member_ids": [PAT]}),
        );
        assert_eq!(
            takeover.unwrap_err().0,
            "Only the team's coordinator can change who coordinates the team: ask them to make the change"
        );
        assert!(r.outbox.is_empty());
        // The observer may change nothing; the member may move the meeting.
        assert!(stage(
            &mut r,
            OLU,
            MEETING,
            EntityKind::Meeting,
            json!({"place": "Room 2"})
        )
        .is_err());
        assert!(stage(
            &mut r,
            SOL,
            MEETING,
            EntityKind::Meeting,
            json!({"place": "Room 2"})
        )
        .is_ok());
        assert_eq!(r.outbox.len(), 1);
        // The coordinator hands over.
        assert!(stage(
            &mut r,
            PAT,
            TEAM,
            EntityKind::Team,
            json!({"coordinator_id": SOL, "member_ids": [PAT]})
        )
        .is_ok());
        assert!(
            may_change(&r, SOL, TEAM, "member_ids"),
            "the new coordinator, as the device shows it"
        );
        assert!(!may_change(&r, OLU, MEETING, "place"));
    }

    /// The replica's meeting starts on Tue 8 Dec 2026 at 13:00 UK time (GMT).
    fn meeting_start() -> chrono::DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 8, 13, 0, 0).unwrap()
    }

    /// The replica's meeting (90 minutes from [`meeting_start`]) as `status`.
    fn the_meeting(status: MeetingStatus) -> Meeting {
        Meeting {
            team_id: TEAM,
            starts_at: meeting_start(),
            ends_at: meeting_start() + chrono::Duration::minutes(90),
            place: String::new(),
            video_link: None,
            status,
        }
    }

    #[test]
    fn a_meeting_is_concluded_only_once_it_has_started_and_says_what_to_do_before() {
        let start = meeting_start();
        let concluding = json!({"status": "closed"});
        // Before the start (a second, an hour, eight days): refused in words, nothing queued.
        for early in [
            chrono::Duration::seconds(1),
            chrono::Duration::hours(1),
            chrono::Duration::days(8),
        ] {
            let mut r = replica();
            let refusal = stage_at(
                &mut r,
                PAT,
                MEETING,
                EntityKind::Meeting,
                concluding.clone(),
                start - early,
            )
            .unwrap_err();
            assert_eq!(
                refusal.0,
                "This meeting starts on Tue 8 Dec 2026 at 13:00; you can conclude it once it has started. To call it off, cancel it."
            );
            assert!(r.outbox.is_empty());
            // Cancelling it, or moving it, is still allowed then.
            assert!(stage_at(
                &mut r,
                PAT,
                MEETING,
                EntityKind::Meeting,
                json!({"status": "cancelled"}),
                start - early
            )
            .is_ok());
        }
        // From its start on (and on later days), the coordinator concludes it.
        for late in [
            chrono::Duration::zero(),
            chrono::Duration::minutes(90),
            chrono::Duration::days(3),
        ] {
            let mut r = replica();
            assert!(stage_at(
                &mut r,
                PAT,
                MEETING,
                EntityKind::Meeting,
                concluding.clone(),
                start + late
            )
            .is_ok());
            assert_eq!(r.outbox.len(), 1);
        }
        // A new meeting saved as concluded is judged the same way.
        let mut r = replica();
        let new = serde_json::Value::Object(the_meeting(MeetingStatus::Closed).to_fields());
        let id = Uuid::from_u128(12);
        assert!(stage_at(
            &mut r,
            PAT,
            id,
            EntityKind::Meeting,
            new.clone(),
            start - chrono::Duration::hours(1)
        )
        .is_err());
        assert!(stage_at(&mut r, PAT, id, EntityKind::Meeting, new, start).is_ok());
    }

    #[test]
    fn a_meeting_is_run_on_its_uk_day_only() {
        let meeting = the_meeting(MeetingStatus::Planned);
        // 00:00 to 23:59 UK time on 8 Dec (GMT in December).
        assert!(meeting.is_on_its_day(Utc.with_ymd_and_hms(2026, 12, 8, 0, 0, 0).unwrap()));
        assert!(meeting.is_on_its_day(Utc.with_ymd_and_hms(2026, 12, 8, 23, 59, 0).unwrap()));
        assert!(!meeting.is_on_its_day(Utc.with_ymd_and_hms(2026, 12, 7, 23, 59, 0).unwrap()));
        assert!(!meeting.is_on_its_day(Utc.with_ymd_and_hms(2026, 12, 9, 0, 0, 0).unwrap()));
        // In summer the UK day starts at 23:00 UTC the day before.
        let summer = Meeting {
            starts_at: Utc.with_ymd_and_hms(2027, 7, 6, 8, 0, 0).unwrap(),
            ends_at: Utc.with_ymd_and_hms(2027, 7, 6, 9, 0, 0).unwrap(),
            ..meeting
        };
        assert!(summer.is_on_its_day(Utc.with_ymd_and_hms(2027, 7, 5, 23, 30, 0).unwrap()));
        assert!(!summer.is_on_its_day(Utc.with_ymd_and_hms(2027, 7, 5, 22, 30, 0).unwrap()));
    }

    /// A record of `kind` that names the test team and meeting and has `me` in every field
    /// that can make someone its subject; for a team, the team as the replica holds it.
    fn naming(replica: &Replica, kind: EntityKind, id: Uuid, me: Uuid) -> SyncRecord {
        if kind == EntityKind::Team {
            return shown(replica, TEAM).unwrap();
        }
        let mut fields = serde_json::Map::new();
        for field in kind.field_names() {
            let value = match *field {
                "team_id" => json!(TEAM),
                "meeting_id" => json!(MEETING),
                "person_id"
                | "owner_id"
                | "by"
                | "author_id"
                | "lead_professional_id"
                | "requested_by" => json!(me),
                _ => continue,
            };
            fields.insert((*field).to_owned(), value);
        }
        SyncRecord {
            entity: kind,
            id,
            version: 1,
            updated_at: Utc.with_ymd_and_hms(2026, 11, 1, 9, 0, 0).unwrap(),
            updated_by: "Pat Coordinator".into(),
            deleted: false,
            fields,
            field_stamps: Default::default(),
            conflicts: vec![],
        }
    }

    /// Every kind × operation × field × person: whatever the rules allow on a live team is
    /// refused, in the same words, once the team is archived (but for restoring it), and
    /// records of no team (the directory, availability) are not affected.
    #[test]
    fn nothing_of_an_archived_team_is_added_changed_or_removed() {
        let at = Utc.with_ymd_and_hms(2026, 11, 30, 9, 0, 0).unwrap();
        let (live, archived) = (replica_with(false), replica_with(true));
        let mut allowed_and_refused = 0;
        for kind in EntityKind::ALL {
            let team_scoped = !matches!(
                kind,
                EntityKind::Person | EntityKind::Organisation | EntityKind::Availability
            );
            for me in [PAT, SOL, OLU] {
                let id = if kind == EntityKind::Team {
                    TEAM
                } else {
                    Uuid::from_u128(50)
                };
                // (before, after) on each replica.
                let mut cases: Vec<(
                    Option<SyncRecord>,
                    SyncRecord,
                    Option<SyncRecord>,
                    SyncRecord,
                )> = Vec::new();
                let (l, a) = (naming(&live, kind, id, me), naming(&archived, kind, id, me));
                if kind != EntityKind::Team {
                    cases.push((None, l.clone(), None, a.clone()));
                }
                let (mut ld, mut ad) = (l.clone(), a.clone());
                ld.deleted = true;
                ad.deleted = true;
                cases.push((Some(l.clone()), ld, Some(a.clone()), ad));
                for field in kind.field_names() {
                    if kind == EntityKind::Team && *field == "archived" {
                        continue;
                    }
                    let (mut lc, mut ac) = (l.clone(), a.clone());
                    lc.fields.insert((*field).to_owned(), json!("changed"));
                    ac.fields.insert((*field).to_owned(), json!("changed"));
                    cases.push((Some(l.clone()), lc, Some(a.clone()), ac));
                }
                for (lb, la, ab, aa) in cases {
                    let Ok(on_live) = decide(
                        &mut ReplicaFacts {
                            replica: &live,
                            now: at,
                        },
                        me,
                        lb.as_ref(),
                        &la,
                    );
                    let Ok(on_archived) = decide(
                        &mut ReplicaFacts {
                            replica: &archived,
                            now: at,
                        },
                        me,
                        ab.as_ref(),
                        &aa,
                    );
                    let what = format!("{kind:?} {:?} by {me}", Operation::of(lb.as_ref(), &la));
                    if !team_scoped {
                        assert_eq!(on_live, on_archived, "{what}");
                    } else if on_live.is_ok() {
                        assert_eq!(on_archived, Err(Refusal(ARCHIVED.into())), "{what}");
                        allowed_and_refused += 1;
                    } else {
                        assert!(on_archived.is_err(), "{what}");
                    }
                }
            }
        }
        // The matrix is not vacuous: many changes the rules allow were tried.
        assert!(allowed_and_refused > 50, "{allowed_and_refused}");
    }

    /// The coordinator restores an archived team (the archive mark alone); a member may not,
    /// and a restore that also renames it is refused; the device shows only that control.
    #[test]
    fn only_the_coordinator_restores_an_archived_team_and_the_device_hides_other_controls() {
        let mut r = replica_with(true);
        let renamed = stage(
            &mut r,
            PAT,
            TEAM,
            EntityKind::Team,
            json!({"archived": false, "name": "Riverside MDT (new)"}),
        );
        assert_eq!(renamed.unwrap_err().0, ARCHIVED);
        let by_member = stage(
            &mut r,
            SOL,
            TEAM,
            EntityKind::Team,
            json!({"archived": false}),
        );
        assert!(by_member.is_err());
        assert!(r.outbox.is_empty());
        let meeting = stage(
            &mut r,
            PAT,
            Uuid::from_u128(60),
            EntityKind::Meeting,
            serde_json::Value::Object(the_meeting(MeetingStatus::Planned).to_fields()),
        );
        assert_eq!(meeting.unwrap_err().0, ARCHIVED);
        assert!(may_change(&r, PAT, TEAM, "archived"));
        assert!(!may_change(&r, PAT, TEAM, "name"));
        assert!(!may_change(&r, PAT, MEETING, "place"));
        assert!(!may_change(&r, SOL, TEAM, "archived"));
        assert!(stage(
            &mut r,
            PAT,
            TEAM,
            EntityKind::Team,
            json!({"archived": false})
        )
        .is_ok());
        assert_eq!(r.outbox.len(), 1);
        // Restored, its records take changes again.
        assert!(stage(
            &mut r,
            SOL,
            MEETING,
            EntityKind::Meeting,
            json!({"place": "Room 4"})
        )
        .is_ok());
    }
}
