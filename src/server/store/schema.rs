//! The schema: one list of steps, each written for SQLite and for PostgreSQL, so both engines
//! hold the same tables with the same meaning. SQLite counts the steps it has run in
//! `PRAGMA user_version`, PostgreSQL in the `schema_version` table. Integers are 64-bit on
//! both, booleans 0/1, times RFC 3339 text, ids text (see [`super::db`]).

use super::db::Engine;

/// One step of the schema, in both dialects.
pub struct Migration {
    /// What the step is for.
    pub purpose: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

impl Migration {
    /// The step's SQL for `engine`.
    pub fn sql(&self, engine: Engine) -> &'static str {
        match engine {
            Engine::Sqlite => self.sqlite,
            Engine::Postgres => self.postgres,
        }
    }
}

/// The single sign-on tables, written alike for both engines.
const SIGN_IN_TABLES: &str = r#"
CREATE TABLE sign_in_providers (
    id TEXT PRIMARY KEY,
    label TEXT NOT NULL,
    issuer TEXT NOT NULL,
    client_id TEXT NOT NULL,
    client_secret TEXT,
    private_key_pem TEXT,
    scopes TEXT NOT NULL,
    email_claim TEXT NOT NULL,
    acr_values TEXT,
    domains TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE sign_in_identities (
    issuer TEXT NOT NULL,
    subject TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    provider_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_used_at TEXT NOT NULL,
    PRIMARY KEY (issuer, subject)
);
CREATE INDEX sign_in_identities_user ON sign_in_identities(user_id);
CREATE TABLE sign_in_flows (
    state_hash TEXT PRIMARY KEY,
    provider_id TEXT NOT NULL,
    browser_hash TEXT NOT NULL,
    nonce TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE sign_in_events (
    id TEXT PRIMARY KEY,
    at TEXT NOT NULL,
    user_id TEXT,
    email TEXT,
    how TEXT NOT NULL,
    outcome TEXT NOT NULL,
    reason TEXT NOT NULL,
    address TEXT
);
CREATE INDEX sign_in_events_at ON sign_in_events(at);
ALTER TABLE users ADD COLUMN sso_invite TEXT;
ALTER TABLE sessions ADD COLUMN how TEXT;
ALTER TABLE sessions ADD COLUMN user_agent TEXT;
"#;

/// The second-factor tables, written alike for both engines (BIGINT is SQLite's INTEGER).
const SECOND_FACTOR_TABLES: &str = r#"
CREATE TABLE second_factors (
    user_id TEXT PRIMARY KEY REFERENCES users(id),
    secret TEXT NOT NULL,
    confirmed BIGINT NOT NULL DEFAULT 0,
    last_step BIGINT,
    created_at TEXT NOT NULL
);
CREATE TABLE recovery_codes (
    code_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    used_at TEXT
);
CREATE INDEX recovery_codes_user ON recovery_codes(user_id);
CREATE TABLE pending_sign_ins (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    created_at TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0
);
"#;

/// Every schema step, oldest first. Add steps at the end; never change one that has shipped.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        purpose: "Accounts, sessions, synced records and their change log, team membership, devices and the mutations they sent, settings.",
        sqlite: r#"
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE COLLATE NOCASE,
    name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    person_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    created_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);
-- Every synced record: the envelope and fields as JSON, plus columns for access and pulls.
CREATE TABLE records (
    id TEXT PRIMARY KEY,
    entity TEXT NOT NULL,
    team_id TEXT,
    created_by TEXT NOT NULL,
    change_seq INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE UNIQUE INDEX records_change_seq ON records(change_seq);
CREATE INDEX records_team ON records(team_id);
-- Who is in which team (coordinator included), kept in step with team records.
CREATE TABLE team_members (
    team_id TEXT NOT NULL,
    person_id TEXT NOT NULL,
    PRIMARY KEY (team_id, person_id)
);
CREATE INDEX team_members_person ON team_members(person_id);
CREATE TABLE devices (
    device_id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    last_seq INTEGER NOT NULL
);
CREATE TABLE processed_mutations (
    mutation_id TEXT PRIMARY KEY,
    device_id TEXT NOT NULL,
    result TEXT NOT NULL,
    processed_at TEXT NOT NULL
);
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"#,
        postgres: r#"
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    person_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    disabled BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX users_email ON users (lower(email));
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    created_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE TABLE records (
    id TEXT PRIMARY KEY,
    entity TEXT NOT NULL,
    team_id TEXT,
    created_by TEXT NOT NULL,
    change_seq BIGINT NOT NULL,
    body TEXT NOT NULL
);
CREATE UNIQUE INDEX records_change_seq ON records(change_seq);
CREATE INDEX records_team ON records(team_id);
CREATE TABLE team_members (
    team_id TEXT NOT NULL,
    person_id TEXT NOT NULL,
    PRIMARY KEY (team_id, person_id)
);
CREATE INDEX team_members_person ON team_members(person_id);
CREATE TABLE devices (
    device_id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    last_seq BIGINT NOT NULL
);
CREATE TABLE processed_mutations (
    mutation_id TEXT PRIMARY KEY,
    device_id TEXT NOT NULL,
    result TEXT NOT NULL,
    processed_at TEXT NOT NULL
);
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"#,
    },
    Migration {
        purpose: "The server's half of each user's offline-copy key (see `accounts::device_key`).",
        sqlite: r#"
ALTER TABLE users ADD COLUMN device_key TEXT;
"#,
        postgres: r#"
ALTER TABLE users ADD COLUMN device_key TEXT;
"#,
    },
    Migration {
        purpose: "The audit trail (see `audit_log`): append-only for the app, hash-chained against anyone else.",
        sqlite: r#"
CREATE TABLE audit (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    user_id TEXT NOT NULL,
    session TEXT NOT NULL,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    record_id TEXT NOT NULL,
    patient_id TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_patient ON audit(patient_id);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
"#,
        postgres: r#"
CREATE TABLE audit (
    seq BIGINT PRIMARY KEY,
    at TEXT NOT NULL,
    user_id TEXT NOT NULL,
    session TEXT NOT NULL,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    record_id TEXT NOT NULL,
    patient_id TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_patient ON audit(patient_id);
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN RAISE EXCEPTION 'the audit trail is append-only'; END
$body$;
CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
"#,
    },
    Migration {
        purpose: "Observers read a team's records but may not change them.",
        sqlite: r#"
ALTER TABLE team_members ADD COLUMN may_write INTEGER NOT NULL DEFAULT 1;
"#,
        postgres: r#"
ALTER TABLE team_members ADD COLUMN may_write BIGINT NOT NULL DEFAULT 1;
"#,
    },
    Migration {
        purpose: "Safeguarding-restricted items: each record notes the agenda item whose restriction governs it (the item itself, its brief and read receipts, actions and their history).",
        sqlite: r#"
ALTER TABLE records ADD COLUMN item_id TEXT;
ALTER TABLE records ADD COLUMN restricted INTEGER NOT NULL DEFAULT 0;
UPDATE records SET item_id = id WHERE entity = 'agenda_item';
UPDATE records SET item_id = json_extract(body, '$.fields.item_id') WHERE entity IN ('brief', 'action');
UPDATE records SET item_id = (SELECT b.item_id FROM records b WHERE b.id = json_extract(records.body, '$.fields.brief_id')) WHERE entity = 'read_receipt';
UPDATE records SET item_id = (SELECT a.item_id FROM records a WHERE a.id = json_extract(records.body, '$.fields.action_id')) WHERE entity = 'action_event';
CREATE INDEX records_item ON records(item_id);
CREATE INDEX records_restricted ON records(team_id) WHERE restricted = 1;
"#,
        postgres: r#"
ALTER TABLE records ADD COLUMN item_id TEXT;
ALTER TABLE records ADD COLUMN restricted BIGINT NOT NULL DEFAULT 0;
UPDATE records SET item_id = id WHERE entity = 'agenda_item';
UPDATE records SET item_id = body::jsonb #>> '{fields,item_id}' WHERE entity IN ('brief', 'action');
UPDATE records SET item_id = (SELECT b.item_id FROM records b WHERE b.id = records.body::jsonb #>> '{fields,brief_id}') WHERE entity = 'read_receipt';
UPDATE records SET item_id = (SELECT a.item_id FROM records a WHERE a.id = records.body::jsonb #>> '{fields,action_id}') WHERE entity = 'action_event';
CREATE INDEX records_item ON records(item_id);
CREATE INDEX records_restricted ON records(team_id) WHERE restricted = 1;
"#,
    },
    Migration {
        purpose: "Site administrators manage accounts; they see patient data only through teams.",
        sqlite: r#"
ALTER TABLE users ADD COLUMN site_admin INTEGER NOT NULL DEFAULT 0;
"#,
        postgres: r#"
ALTER TABLE users ADD COLUMN site_admin BIGINT NOT NULL DEFAULT 0;
"#,
    },
    Migration {
        purpose: "Finding a team's patient by NHS number (the duplicate check on every new patient) without reading every patient of the team.",
        sqlite: r#"
CREATE INDEX records_patient_nhs ON records(team_id, json_extract(body, '$.fields.nhs_number')) WHERE entity = 'patient';
"#,
        postgres: r#"
CREATE INDEX records_patient_nhs ON records (team_id, (body::jsonb #>> '{fields,nhs_number}')) WHERE entity = 'patient';
"#,
    },
    Migration {
        purpose: "Several servers share one database: failed sign-ins and colleague look-ups are counted in it, not in one server's memory; emails are compared without case on both engines; an action's history is found by its action.",
        sqlite: r#"
CREATE TABLE sign_in_failures (
    key TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX sign_in_failures_key ON sign_in_failures(key);
CREATE TABLE directory_lookups (
    person_id TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX directory_lookups_person ON directory_lookups(person_id);
CREATE INDEX users_email_lower ON users(lower(email));
CREATE INDEX records_action_event ON records(json_extract(body, '$.fields.action_id')) WHERE entity = 'action_event';
"#,
        postgres: r#"
CREATE TABLE sign_in_failures (
    key TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX sign_in_failures_key ON sign_in_failures(key);
CREATE TABLE directory_lookups (
    person_id TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX directory_lookups_person ON directory_lookups(person_id);
CREATE INDEX records_action_event ON records ((body::jsonb #>> '{fields,action_id}')) WHERE entity = 'action_event';
"#,
    },
    Migration {
        purpose: "Email: the outbox written with the change that causes a message, the lease that lets one server of a region send, and each person's choice of messages.",
        sqlite: r#"
-- Emails waiting to go, written in the same transaction as the change that caused them (a
-- transactional outbox), one row per message and recipient: sent at most once each.
CREATE TABLE outbox (
    message_id TEXT NOT NULL,
    recipient TEXT NOT NULL,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    calendar TEXT,
    created_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    sending_since TEXT,
    sent_at TEXT,
    given_up_at TEXT,
    last_error TEXT,
    PRIMARY KEY (message_id, recipient)
);
CREATE INDEX outbox_due ON outbox(next_attempt_at) WHERE sent_at IS NULL AND given_up_at IS NULL;
-- Work only one server of a region may do at a time (sending the outbox): who holds it, until when.
CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
-- Each person's choice of emails (JSON of core::mail::MailPreferences); none stored: all on.
CREATE TABLE mail_preferences (
    user_id TEXT PRIMARY KEY,
    preferences TEXT NOT NULL
);
-- One-click answer links from invitation emails that have been used (each works once).
CREATE TABLE used_answer_links (
    nonce TEXT PRIMARY KEY,
    used_at TEXT NOT NULL
);
"#,
        postgres: r#"
-- Emails waiting to go, written in the same transaction as the change that caused them (a
-- transactional outbox), one row per message and recipient: sent at most once each.
CREATE TABLE outbox (
    message_id TEXT NOT NULL,
    recipient TEXT NOT NULL,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    calendar TEXT,
    created_at TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    sending_since TEXT,
    sent_at TEXT,
    given_up_at TEXT,
    last_error TEXT,
    PRIMARY KEY (message_id, recipient)
);
CREATE INDEX outbox_due ON outbox(next_attempt_at) WHERE sent_at IS NULL AND given_up_at IS NULL;
-- Work only one server of a region may do at a time (sending the outbox): who holds it, until when.
CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
-- Each person's choice of emails (JSON of core::mail::MailPreferences); none stored: all on.
CREATE TABLE mail_preferences (
    user_id TEXT PRIMARY KEY,
    preferences TEXT NOT NULL
);
-- One-click answer links from invitation emails that have been used (each works once).
CREATE TABLE used_answer_links (
    nonce TEXT PRIMARY KEY,
    used_at TEXT NOT NULL
);
"#,
    },
    Migration {
        purpose: "A pull reads only what its person may see (docs/region.md): each record notes the organisation it refers to, a team's changes are found in change order by team, and the directory entries someone added by who added them.",
        sqlite: r#"
ALTER TABLE records ADD COLUMN org_id TEXT;
UPDATE records SET org_id = json_extract(body, '$.fields.organisation_id') WHERE entity = 'person';
UPDATE records SET org_id = json_extract(body, '$.fields.registered_practice_id') WHERE entity = 'patient';
CREATE INDEX records_team_change ON records(team_id, change_seq);
DROP INDEX records_team;
CREATE INDEX records_directory_creator ON records(created_by, change_seq) WHERE team_id IS NULL;
CREATE INDEX records_org_use ON records(team_id, org_id) WHERE org_id IS NOT NULL;
"#,
        postgres: r#"
ALTER TABLE records ADD COLUMN org_id TEXT;
UPDATE records SET org_id = body::jsonb #>> '{fields,organisation_id}' WHERE entity = 'person';
UPDATE records SET org_id = body::jsonb #>> '{fields,registered_practice_id}' WHERE entity = 'patient';
CREATE INDEX records_team_change ON records(team_id, change_seq);
DROP INDEX records_team;
CREATE INDEX records_directory_creator ON records(created_by, change_seq) WHERE team_id IS NULL;
CREATE INDEX records_org_use ON records(team_id, org_id) WHERE org_id IS NOT NULL;
"#,
    },
    Migration {
        purpose: "Single sign-on through a person's organisation (OpenID Connect): the providers a site administrator set up, each person's link to a provider's stable subject, sign-ins under way (one use each), a record of every sign-in and refusal, and how each session was signed in.",
        sqlite: SIGN_IN_TABLES,
        postgres: SIGN_IN_TABLES,
    },
    Migration {
        purpose: "A second factor for password accounts: each account's TOTP secret (confirmed once a code from it is shown, with the last time step used so a code works once), its one-time recovery codes (hashed), and sign-ins waiting for their second factor (with the tries they have had).",
        sqlite: SECOND_FACTOR_TABLES,
        postgres: SECOND_FACTOR_TABLES,
    },
    Migration {
        purpose: "Sign-in limits decided in one step (issue 30): each sign-in's attempt is counted before its password is checked, under an id that releases it when the password is right; failures are counted by key and time through one index.",
        sqlite: r#"
ALTER TABLE sign_in_failures ADD COLUMN slot TEXT;
CREATE INDEX sign_in_failures_slot ON sign_in_failures(slot);
CREATE INDEX sign_in_failures_key_at ON sign_in_failures(key, at);
DROP INDEX sign_in_failures_key;
"#,
        postgres: r#"
ALTER TABLE sign_in_failures ADD COLUMN slot TEXT;
CREATE INDEX sign_in_failures_slot ON sign_in_failures(slot);
CREATE INDEX sign_in_failures_key_at ON sign_in_failures(key, at);
DROP INDEX sign_in_failures_key;
"#,
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    /// Every step has both dialects, and the two create the same tables and indexes.
    #[test]
    fn both_dialects_create_the_same_tables_and_indexes() {
        let names = |sql: &str, what: &str| -> Vec<String> {
            let mut found: Vec<String> = sql
                .split(what)
                .skip(1)
                .filter_map(|rest| rest.split_whitespace().next())
                .map(|name| name.trim_end_matches('(').to_owned())
                .collect();
            found.sort();
            found
        };
        for (i, step) in MIGRATIONS.iter().enumerate() {
            let (lite, pg) = (step.sql(Engine::Sqlite), step.sql(Engine::Postgres));
            assert!(
                !lite.trim().is_empty() && !pg.trim().is_empty(),
                "step {}",
                i + 1
            );
            for what in ["CREATE TABLE ", "ALTER TABLE "] {
                assert_eq!(names(lite, what), names(pg, what), "step {}: {what}", i + 1);
            }
            let indexes = |sql: &str| {
                let mut all = names(sql, "CREATE INDEX ");
                all.extend(names(sql, "CREATE UNIQUE INDEX "));
                all.retain(|n| n != "users_email" && n != "users_email_lower");
                all.sort();
                all
            };
            assert_eq!(indexes(lite), indexes(pg), "step {}: indexes", i + 1);
        }
    }

    /// Databases made before restricted items learn which item governs each record: the item
    /// itself, a brief or action by its `item_id`, a receipt through its brief, a history line
    /// through its action.
    #[test]
    fn the_restriction_migration_fills_in_each_records_item() {
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        crate::server::store::sqlite::migrate(&mut conn).unwrap();
        let (item, brief, receipt, action, event, patient) = (
            Uuid::from_u128(1),
            Uuid::from_u128(2),
            Uuid::from_u128(3),
            Uuid::from_u128(4),
            Uuid::from_u128(5),
            Uuid::from_u128(6),
        );
        let rows = [
            (item, "agenda_item", serde_json::json!({})),
            (brief, "brief", serde_json::json!({"item_id": item})),
            (
                receipt,
                "read_receipt",
                serde_json::json!({"brief_id": brief}),
            ),
            (action, "action", serde_json::json!({"item_id": item})),
            (
                event,
                "action_event",
                serde_json::json!({"action_id": action}),
            ),
            (patient, "patient", serde_json::json!({})),
        ];
        for (seq, (id, entity, fields)) in rows.iter().enumerate() {
            conn.execute(
                "INSERT INTO records (id, entity, team_id, created_by, change_seq, body) VALUES (?1, ?2, 't', 'u', ?3, ?4)",
                rusqlite::params![id.to_string(), entity, seq as i64 + 1, serde_json::json!({"fields": fields}).to_string()],
            )
            .unwrap();
        }
        let backfill: Vec<&str> = MIGRATIONS[4]
            .sql(Engine::Sqlite)
            .lines()
            .filter(|l| l.starts_with("UPDATE"))
            .collect();
        assert_eq!(backfill.len(), 4);
        conn.execute_batch(&backfill.join("\n")).unwrap();
        for (id, entity, _) in &rows {
            let found: Option<String> = conn
                .query_row(
                    "SELECT item_id FROM records WHERE id = ?1",
                    [id.to_string()],
                    |r| r.get(0),
                )
                .unwrap();
            let expected = (*entity != "patient").then(|| item.to_string());
            assert_eq!(found, expected, "{entity}");
        }
    }
}
