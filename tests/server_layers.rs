//! The server's layers, read from the source: the store (`server::store`) sits at the bottom.
//! It imports nothing of the server above it but its `error`, so the store, the audit trail,
//! sign-in, answer links and the outbox never import each other in a circle (issue 30, item 10),
//! and every guard that must hold under a burst lives behind the store's one interface.
#![cfg(not(target_arch = "wasm32"))]

use std::path::Path;

mod source_files;
use source_files::rust_sources as sources;

/// The lines of code (comments and the unit tests at the end left out) of `source` that reach
/// above the store: any `crate::server::` path but the store's own and the error type, or a
/// `super::super::` out of it.
fn upward_paths(source: &str) -> Vec<String> {
    let code = source.split("#[cfg(test)]").next().unwrap_or_default();
    code.lines()
        .map(|line| line.split("//").next().unwrap_or_default().trim())
        .filter(|line| {
            let above = line.match_indices("crate::server::").any(|(at, _)| {
                let rest = &line[at + "crate::server::".len()..];
                !(rest.starts_with("store") || rest.starts_with("error"))
            });
            above || line.contains("super::super::")
        })
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_store_imports_nothing_above_it() {
    let store = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/server/store");
    let files = sources(&store);
    assert!(files.len() > 10, "the store moved: {files:?}");
    let mut found = Vec::new();
    for file in &files {
        let source = std::fs::read_to_string(file).expect("source");
        for line in upward_paths(&source) {
            found.push(format!("{}: {line}", file.display()));
        }
    }
    assert!(
        found.is_empty(),
        "server::store must not reach above itself (move what it needs into the store):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_check_sees_a_path_above_the_store_and_lets_its_own_pass() {
    let source = "use crate::server::store::Db;\nuse crate::server::error::Error;\n// crate::server::audit in a comment\nlet a = crate::server::audit::AuditAction::Create;\nuse super::super::auth;\n#[cfg(test)]\nmod tests { use crate::server::auth; }\n";
    assert_eq!(
        upward_paths(source),
        vec![
            "let a = crate::server::audit::AuditAction::Create;".to_owned(),
            "use super::super::auth;".to_owned()
        ]
    );
}
