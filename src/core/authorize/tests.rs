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
