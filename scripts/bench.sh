#!/usr/bin/env bash
# Prints the project's benchmark figures (see BENCHMARKS.md for what each measures):
# the browser render benchmarks (optimised wasm in headless Chromium) and the bundle size.
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
ensure_chromium

step "Slot finder (native, release)"
cargo run --release --quiet --example slot_finder_bench

step "Sync: durable pushes and initial sync (native, release)"
cargo run --release --quiet --example sync_bench

step "Measures: a year of a 10,000-record team's measures on the server (native, release)"
cargo run --release --quiet --example measures_bench

step "Browser benchmarks (release wasm, headless Chromium)"
env CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
  CHROMEDRIVER="$(command -v chromedriver)" \
  cargo test --release --target wasm32-unknown-unknown --test web bench -- --nocapture 2>&1 | grep BENCH

build_app
step "Bundle size (raw, gzip -9, brotli 11: the copies the build writes and the server sends)"
for f in dist/*.wasm dist/*.js dist/*.css; do
  printf '%-48s %10s %10s %10s\n' "$(basename "$f")" "$(stat -c %s "$f")" "$(stat -c %s "$f.gz")" "$(stat -c %s "$f.br")"
done
node scripts/check-size.mjs dist

step "Cold first load to a usable sign-in form (headless Chromium, localhost)"
cargo build --release --quiet --bin mdt-server
MDT_SERVER_BIN="$ROOT/target/release/mdt-server" MDT_DIST="$ROOT/dist" node scripts/bench_load.mjs
