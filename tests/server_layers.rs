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

/// The server's modules (`src/server/*.rs`, the store as one) and which of them each imports,
/// read from the code before its unit tests.
fn module_graph() -> std::collections::BTreeMap<String, std::collections::BTreeSet<String>> {
    let server = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/server");
    let mut files: std::collections::BTreeMap<String, Vec<std::path::PathBuf>> = Default::default();
    for file in sources(&server) {
        let relative = file.strip_prefix(&server).unwrap();
        let module = relative
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_owned();
        if module != "mod" {
            files.entry(module).or_default().push(file);
        }
    }
    let names: Vec<String> = files.keys().cloned().collect();
    let mut graph = std::collections::BTreeMap::new();
    for (module, paths) in &files {
        let mut imports = std::collections::BTreeSet::new();
        for path in paths {
            let source = std::fs::read_to_string(path).unwrap();
            let code = source.split("#[cfg(test)]").next().unwrap_or_default();
            for line in code.lines() {
                let line = line.split("//").next().unwrap_or_default();
                // `crate::server::x`, and from a top-level file `super::x` or `super::{x, y}`.
                let mut named: Vec<&str> = line
                    .match_indices("crate::server::")
                    .map(|(at, _)| &line[at + "crate::server::".len()..])
                    .collect();
                if path.parent() == Some(server.as_path()) {
                    named.extend(line.match_indices("super::").map(|(at, _)| &line[at + 7..]));
                }
                for rest in named {
                    let rest = rest.trim_start_matches('{');
                    for word in rest
                        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ',' || c == ' '))
                        .next()
                        .unwrap_or_default()
                        .split(',')
                    {
                        let word = word.trim();
                        if word != module && names.iter().any(|n| n == word) {
                            imports.insert(word.to_owned());
                        }
                    }
                }
            }
        }
        graph.insert(module.clone(), imports);
    }
    graph
}

/// Whether `from` reaches `to` through the graph's imports.
fn reaches(
    graph: &std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
    from: &str,
    to: &str,
) -> bool {
    let mut seen = std::collections::BTreeSet::new();
    let mut next: Vec<&str> = graph[from].iter().map(String::as_str).collect();
    while let Some(module) = next.pop() {
        if module == to {
            return true;
        }
        if seen.insert(module) {
            next.extend(graph[module].iter().map(String::as_str));
        }
    }
    false
}

/// No circle of imports runs through the store, the audit trail, answer links or the outbox's
/// sender; the one circle left is sign-in's own (a password, a second factor, a provider and the
/// demo's accounts), and no other module joins it.
#[test]
fn no_circle_of_imports_runs_through_the_store() {
    let graph = module_graph();
    assert!(graph.len() > 15 && graph.contains_key("store"), "{graph:?}");
    assert!(
        graph["audit"].contains("store"),
        "the graph reads imports: {graph:?}"
    );
    let on_circles: Vec<&String> = graph
        .keys()
        .filter(|module| reaches(&graph, module, module))
        .collect();
    for bottom in [
        "store", "error", "audit", "answers", "mail", "metrics", "listen",
    ] {
        assert!(
            !on_circles.iter().any(|m| *m == bottom),
            "{bottom} is on a circle of imports: {on_circles:?}\n{graph:#?}"
        );
    }
    let known = ["auth", "demo", "second_factor", "sso"];
    assert!(
        on_circles.iter().all(|m| known.contains(&m.as_str())),
        "a new circle of imports: {on_circles:?}\n{graph:#?}"
    );
}

#[test]
fn the_circle_check_sees_a_circle() {
    let graph: std::collections::BTreeMap<String, std::collections::BTreeSet<String>> = [
        ("store", vec!["audit"]),
        ("audit", vec!["auth"]),
        ("auth", vec!["store"]),
        ("live", vec!["store"]),
    ]
    .into_iter()
    .map(|(m, i)| (m.to_owned(), i.into_iter().map(str::to_owned).collect()))
    .collect();
    assert!(reaches(&graph, "store", "store"));
    assert!(!reaches(&graph, "live", "live"));
}
