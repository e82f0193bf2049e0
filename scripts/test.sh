#!/usr/bin/env bash
# Runs every test: formatting and lints, native tests (domain, property tests, server through
# the router and over HTTP), wasm-bindgen tests in headless Chromium, and end-to-end tests of
# the built app in Chromium. Installs what it needs first.
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
ensure_chromium
ensure_region_packages
ensure_fhir_validator
ensure_mail_sink
ensure_totp_tool
ensure_metrics_parser
start_test_postgres
# The region tests (several servers, nginx, PostgreSQL restarts) must run, not skip.
export MDT_REQUIRE_REGION_TESTS=1

# One build of each kind: incremental caches only help repeated edits, and double the disk used.
export CARGO_INCREMENTAL=0

started=$SECONDS
timed() { local t=$SECONDS; "$@"; printf '    (%ss)\n' $((SECONDS - t)); }

step "Formatting and lints (native and wasm32)"
timed cargo fmt --all -- --check
timed cargo clippy --all-targets -- -D warnings
timed cargo clippy --target wasm32-unknown-unknown --lib --bins --test web -- -D warnings
timed cargo clippy --target wasm32-unknown-unknown --lib --bins --features lazy-pages -- -D warnings

step "Native tests: domain, sync properties, server API (on SQLite)"
timed env -u MDT_TEST_DATABASE_URL cargo test --all-targets

step "Server tests again on PostgreSQL ($MDT_TEST_DATABASE_URL)"
timed cargo test --test 'server_*'

step "The write matrix and the access tests for people who signed in the other ways in"
# With a second factor (required of everyone), and through a real OpenID provider (npm's
# oidc-provider): what someone may see and change never depends on how they signed in.
timed env -u MDT_TEST_DATABASE_URL MDT_TEST_WAY_IN=second-factor cargo test --test server_write_matrix --test server_access
timed env -u MDT_TEST_DATABASE_URL MDT_TEST_WAY_IN=organisation cargo test --test server_write_matrix --test server_access

step "Browser tests: wasm-bindgen-test in headless Chromium"
# Without debug info the test wasm is ~15x smaller and loads in seconds.
timed env CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
  CHROMEDRIVER="$(command -v chromedriver)" \
  CARGO_PROFILE_DEV_DEBUG=0 \
  cargo test --target wasm32-unknown-unknown --test web

build_app
step "Download size budget (scripts/size-budget.json)"
node scripts/check-size.mjs dist
step "End-to-end tests: the real server and the built app in Chromium"
# The server binary the native tests built (a plain `cargo build` would resolve features without
# the dev-dependencies and compile a second copy of half the dependencies).
cargo test --all-targets --no-run
timed env MDT_SERVER_BIN="$ROOT/target/debug/mdt-server" MDT_DIST="$ROOT/dist" node --test --test-concurrency=1 tests/e2e/

step "The same tests on other days: a year ahead and back, and on a Saturday (faketime, Playwright's clock)"
ensure_faketime
timed "$ROOT/scripts/test-any-day.sh" --quick

step "All tests passed in $((SECONDS - started))s; build output: $(du -sh target | cut -f1)"
