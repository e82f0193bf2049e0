//! The core's modules form layers: the record contract at the bottom names no entity, the sync
//! protocol builds on it alone, the per-kind dispatch and the automation sit above the
//! entities, and no module imports one that imports it back
//! (directly or round a longer circle). Read from the source, so a new import that breaks the
//! layering fails here.
#![cfg(not(target_arch = "wasm32"))]

use std::collections::{BTreeMap, BTreeSet};

/// Each core module and the core modules its code (not its comments or tests) names.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/core");
    let mut modules = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).expect("src/core") {
        let path = entry.expect("entry").path();
        let Some(name) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        if path.extension().is_some_and(|e| e == "rs") && name != "mod" {
            let source = std::fs::read_to_string(&path).expect("source");
            let code = source.split("#[cfg(test)]").next().unwrap_or_default();
            modules.insert(name.to_owned(), code.to_owned());
        }
    }
    let names: BTreeSet<String> = modules.keys().cloned().collect();
    modules
        .iter()
        .map(|(name, code)| {
            let mut uses = BTreeSet::new();
            for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
                for prefix in ["super::", "crate::core::"] {
                    for (at, _) in line.match_indices(prefix) {
                        let rest = &line[at + prefix.len()..];
                        let target: String = rest
                            .chars()
                            .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                            .collect();
                        if names.contains(&target) && &target != name {
                            uses.insert(target);
                        }
                    }
                }
            }
            (name.clone(), uses)
        })
        .collect()
}

#[test]
fn the_record_contract_at_the_bottom_names_no_entity() {
    let graph = imports();
    let record = &graph["record"];
    assert!(
        record.iter().all(|m| m == "validation"),
        "core::record may build on validation only, found {record:?}"
    );
    // Every entity module stands on the contract, not on the dispatch above it.
    for (module, uses) in &graph {
        if module != "kinds" {
            assert!(
                !uses.contains("kinds"),
                "{module} imports the per-kind dispatch (core::kinds), which sits above it"
            );
        }
    }
    assert!(graph["kinds"].contains("record"));
    // The sync protocol (wire types, merge, replica) stands on the contract alone; what stages
    // agendas, actions reviews and series meetings is core::automation, above the entities.
    let sync = &graph["sync"];
    assert!(
        sync.iter().all(|m| m == "record" || m == "validation"),
        "core::sync may build on record and validation only, found {sync:?}"
    );
    // `core::entities` only gathers the directory, team and meeting types for code outside the
    // core; inside it, each module imports what it uses from where it lives.
    for (module, uses) in &graph {
        assert!(
            !uses.contains("entities"),
            "{module} imports core::entities; import from core::record, directory, team or meeting"
        );
    }
}

#[test]
fn no_core_module_imports_one_that_imports_it_back() {
    let graph = imports();
    // Depth-first search for a path from each module back to itself.
    for start in graph.keys() {
        let mut stack: Vec<Vec<&str>> = vec![vec![start.as_str()]];
        let mut seen = BTreeSet::new();
        while let Some(path) = stack.pop() {
            let last = *path.last().expect("a path is never empty");
            for next in &graph[last] {
                if next == start {
                    panic!(
                        "a circle of imports in core/: {} -> {start}",
                        path.join(" -> ")
                    );
                }
                if seen.insert(next.as_str()) {
                    let mut longer = path.clone();
                    longer.push(next);
                    stack.push(longer);
                }
            }
        }
    }
    assert!(graph.len() >= 15, "read {} modules", graph.len());
}
