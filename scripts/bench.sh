#!/usr/bin/env bash
# Prints the project's benchmark figures (see BENCHMARKS.md for what each measures):
# the browser render benchmarks (optimised wasm in headless Chromium) and the bundle size.
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
ensure_chromium

step "Slot finder (native, release)"
cargo run --release --quiet --example slot_finder_bench

step "Sync: durable pushes and initial sync (native, release)"
cargo run --release --quiet --example sync_bench

step "Browser benchmarks (release wasm, headless Chromium)"
env CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
  CHROMEDRIVER="$(command -v chromedriver)" \
  cargo test --release --target wasm32-unknown-unknown --test web bench -- --nocapture 2>&1 | grep BENCH

build_app
step "Bundle size (raw, gzip -9, brotli 11)"
for f in dist/*.wasm dist/*.js dist/*.css; do
  raw=$(stat -c %s "$f")
  gz=$(gzip -9 -c "$f" | wc -c)
  if command -v brotli >/dev/null; then br=$(brotli -q 11 -c "$f" | wc -c); else br="(brotli not installed)"; fi
  printf '%-48s %10s %10s %10s\n' "$(basename "$f")" "$raw" "$gz" "$br"
done
