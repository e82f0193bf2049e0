//! Browser entry point: mounts the app (Trunk builds this for wasm32).

#[cfg(target_arch = "wasm32")]
fn main() {
    mdt::web::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("mdt-web is the browser app; build it with Trunk. The server is mdt-server.");
}

/// Room in the data segment for `scripts/split-wasm.mjs`: wasm-split-cli lays each module's data
/// out again, aligned module by module, and when that comes out even a few bytes longer than the
/// linker's layout it keeps every lazily loaded page's data in the first download (+28 KB brotli,
/// BENCHMARKS.md, issue 29). These bytes are kept by the linker (`#[used]`) but used by no code,
/// so no module claims them and they are the slack the new layout may take. Non-zero, so they are
/// stored data rather than zeroed memory; they compress to almost nothing.
#[cfg(target_arch = "wasm32")]
#[used]
static SPLIT_SLACK: [u8; 4096] = [0x5a; 4096];
