//! The browser app's layers, read from the source: pages and shared components read the
//! device's copy only through view models (`web::views`) and the sync client's typed reads, and
//! change it only through the client's door; they never query the replica themselves, build an
//! app URL by hand (`web::routes` does) or leak a listener with `forget()`. So a page that
//! starts poking at the raw replica again fails here, not in review.
#![cfg(not(target_arch = "wasm32"))]

use std::path::{Path, PathBuf};

mod source_files;
use source_files::rust_sources as sources;

/// The pages, the shared components and the app shell: what must stay thin.
fn thin_layers() -> Vec<PathBuf> {
    let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/web");
    let mut files = sources(&web.join("pages"));
    files.extend(sources(&web.join("components")));
    files.extend(sources(&web.join("app")));
    assert!(files.len() > 20, "the web layers moved: {files:?}");
    files
}

/// (file, line number, line) for every line of code (comments left out) containing one of
/// `needles`.
fn offending_lines(files: &[PathBuf], needles: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for file in files {
        let source = std::fs::read_to_string(file).expect("source");
        for (n, line) in source.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            if needles.iter().any(|needle| code.contains(needle)) {
                found.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
            }
        }
    }
    found
}

#[test]
fn pages_and_components_never_query_the_replica_themselves() {
    let raw_reads = [
        ".replica",
        "Replica",
        ".view(",
        ".all::<",
        ".entities::<",
        ".typed::<",
        ".outbox",
        ".confirmed",
        ".conflicted(",
        "authorize::may_change(",
        "stage_",
    ];
    let found = offending_lines(&thin_layers(), &raw_reads);
    assert!(
        found.is_empty(),
        "read through a view model (web::views) or a SyncClient read, and change through SyncClient::apply:\n{}",
        found.join("\n")
    );
}

#[test]
fn pages_and_components_build_no_url_and_leak_no_listener() {
    let found = offending_lines(
        &thin_layers(),
        &["format!(\"/", "href=\"/", ".forget()", "Closure::forget"],
    );
    assert!(
        found.is_empty(),
        "links come from web::routes (Page::href); listeners from client::listeners:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_check_finds_a_raw_read_when_there_is_one() {
    let dir = std::env::temp_dir().join(format!("mdt-web-layers-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let page = dir.join("page.rs");
    std::fs::write(
        &page,
        "// sync.replica in a comment is fine\nlet n = sync.replica.with(|r| r.outbox.len());\n",
    )
    .expect("write");
    let found = offending_lines(&[page], &[".replica", ".outbox"]);
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].ends_with("let n = sync.replica.with(|r| r.outbox.len());"));
}

/// The `use` lines of a file (a `use` may span lines until its `;`), comments left out.
fn use_statements(file: &Path) -> Vec<String> {
    let source = std::fs::read_to_string(file).expect("source");
    let mut statements = Vec::new();
    let mut current: Option<String> = None;
    for line in source.lines() {
        let code = line.split("//").next().unwrap_or_default().trim();
        if current.is_none() && (code.starts_with("use ") || code.starts_with("pub use ")) {
            current = Some(String::new());
        }
        if let Some(statement) = current.as_mut() {
            statement.push_str(code);
            if code.ends_with(';') {
                statements.extend(current.take());
            }
        }
    }
    statements
}

/// The addresses (`web::routes`: `Page`, the path parameters) sit below every page: pages and
/// shared components import them, so they import no page and no component, and the route
/// table that does import every page is the app shell's. Otherwise pages, components and
/// addresses import each other in a circle (issue 29).
#[test]
fn the_addresses_import_no_page_and_no_component() {
    let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/web");
    let routes = web.join("routes.rs");
    let upward: Vec<String> = use_statements(&routes)
        .into_iter()
        .filter(|u| {
            ["pages", "components", "app", "views", "client"]
                .iter()
                .any(|layer| u.contains(&format!("{layer}::")))
        })
        .collect();
    assert!(
        upward.is_empty(),
        "web::routes holds addresses only; the route table lives in web::app::route_table:\n{}",
        upward.join("\n")
    );
    // The route table is the shell's, and nothing but the shell reaches it.
    let table = web.join("app/route_table.rs");
    assert!(
        use_statements(&table)
            .iter()
            .any(|u| u.contains("web::pages")),
        "the route table moved: {}",
        table.display()
    );
    let reaching_in = offending_lines(&thin_layers(), &["route_table"])
        .into_iter()
        .filter(|line| !line.contains("src/web/app/"))
        .collect::<Vec<_>>();
    assert!(
        reaching_in.is_empty(),
        "only the shell uses its route table:\n{}",
        reaching_in.join("\n")
    );
}

#[test]
fn the_use_check_sees_a_use_spanning_lines() {
    let dir = std::env::temp_dir().join(format!("mdt-web-uses-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("routes.rs");
    std::fs::write(
        &file,
        "// use crate::web::pages::x; in a comment\nuse crate::web::{\n    pages::meeting::MeetingPage,\n};\nfn f() {}\n",
    )
    .expect("write");
    let uses = use_statements(&file);
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(
        uses,
        vec!["use crate::web::{pages::meeting::MeetingPage,};".to_owned()]
    );
    assert!(
        uses[0].contains("pages::"),
        "the check looks for the layer's path segment"
    );
}
