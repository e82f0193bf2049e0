#!/usr/bin/env bash
# Installs what building and testing need, pinned and idempotent: each tool is skipped when the
# right version is already there. Sourced by scripts/run.sh and scripts/test.sh.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# Trunk 0.22 needs a newer rustc than this machine kind has.
TRUNK_VERSION="0.21.14"
WASM_SPLIT_VERSION="0.2.3"

export PATH="$HOME/.cargo/bin:$ROOT/node_modules/.bin:$PATH"

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    die "need root to run: $*"; fi
}

command -v cargo >/dev/null || die "cargo is missing: install Rust with rustup first"
command -v npm >/dev/null || die "npm is missing: install Node.js 20 or newer first"

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  step "Adding the wasm32 Rust target"
  rustup target add wasm32-unknown-unknown
fi

# wasm-bindgen-cli must be exactly the wasm-bindgen version in Cargo.lock.
WASM_BINDGEN_VERSION="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)"
[ -n "$WASM_BINDGEN_VERSION" ] || die "cannot find wasm-bindgen in Cargo.lock"
if ! wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $WASM_BINDGEN_VERSION"; then
  step "Installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 2 minutes)"
  # --locked fails here (a pinned dependency is missing from the registry); unlocked works.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --debug --force
fi

if ! trunk --version 2>/dev/null | grep -qx "trunk $TRUNK_VERSION"; then
  step "Installing Trunk $TRUNK_VERSION (about 5 minutes)"
  cargo install trunk --version "$TRUNK_VERSION" --locked --debug --force
fi

# wasm-split-cli splits the lazily loaded pages out of the first download (scripts/split-wasm.mjs).
if ! cargo install --list | grep -qx "wasm_split_cli_support v$WASM_SPLIT_VERSION:"; then
  step "Installing wasm-split-cli $WASM_SPLIT_VERSION (about 1 minute)"
  cargo install wasm_split_cli_support --version "$WASM_SPLIT_VERSION" --features build-binary --locked --force
fi

# NHS design system styles, wasm-opt (npm binaryen; never Debian's 108, which breaks the wasm),
# playwright-core and axe-core, and the OpenID provider of the single sign-on tests
# (oidc-provider), pinned by package-lock.json.
if ! npm ls --depth=0 >/dev/null 2>&1 || [ ! -x node_modules/.bin/wasm-opt ] || [ ! -d node_modules/oidc-provider ]; then
  step "Installing npm packages (nhsuk-frontend, binaryen, playwright-core, axe-core, oidc-provider)"
  npm ci --no-audit --no-fund
fi

# A Python virtual environment at `$1` with the pinned packages of requirements file `$2`, made
# again only when the file changes (announced as `$3`).
ensure_venv() {
  local venv="$1" requirements="$2"
  if ! cmp -s "$requirements" "$venv/installed.txt"; then
    step "Installing $3"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps -r "$requirements"
    cp "$requirements" "$venv/installed.txt"
  fi
}

# The FHIR export's third-party validators (tests/fhir/validate.py): Python's jsonschema and
# the fhir.resources R4 models in a virtual environment of their own (pinned by
# tests/fhir/requirements.txt); HL7's R4 schema comes with the npm packages.
FHIR_VENV="$ROOT/.tools/fhir-venv"
ensure_fhir_validator() {
  ensure_venv "$FHIR_VENV" tests/fhir/requirements.txt "the FHIR validators (fhir.resources, jsonschema)"
  export MDT_FHIR_PYTHON="$FHIR_VENV/bin/python"
}

# A real SMTP server for the email tests: Python's aiosmtpd (pinned, in a venv of its own),
# started by the tests on loopback (tests/mail/smtp_sink.py).
MAIL_VENV="$ROOT/.tools/mail-venv"
ensure_mail_sink() {
  ensure_venv "$MAIL_VENV" tests/mail/requirements.txt "the SMTP server of the email tests (aiosmtpd)"
  export MDT_MAIL_PYTHON="$MAIL_VENV/bin/python"
}

# An implementation of TOTP independent of the app's, for the second-factor tests: PyPI's pyotp
# (pinned, in a venv of its own), run by tests/auth/totp.py.
AUTH_VENV="$ROOT/.tools/auth-venv"
ensure_totp_tool() {
  ensure_venv "$AUTH_VENV" tests/auth/requirements.txt "the independent TOTP implementation of the tests (pyotp)"
  export MDT_AUTH_PYTHON="$AUTH_VENV/bin/python"
}

# A Prometheus text-format parser that is not the code under test, for the metrics tests:
# PyPI's prometheus_client (pinned, in a venv of its own), run by tests/metrics/parse.py.
METRICS_VENV="$ROOT/.tools/metrics-venv"
ensure_metrics_parser() {
  ensure_venv "$METRICS_VENV" tests/metrics/requirements.txt "the Prometheus text-format parser of the metrics tests (prometheus_client)"
  export MDT_METRICS_PYTHON="$METRICS_VENV/bin/python"
}

# Debian's Chromium and ChromeDriver, for the browser tests (never a downloaded browser).
ensure_chromium() {
  if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    step "Installing Debian's chromium and chromium-driver"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq chromium chromium-driver
  fi
}

# Lighthouse for the phone benchmark (scripts/bench_lighthouse.mjs), pinned, in a directory of
# its own beside the project's node_modules (it is no part of the test command). It drives
# Debian's Chromium (CHROME_PATH); its puppeteer-core downloads no browser.
LIGHTHOUSE_VERSION="12.2.3"
LIGHTHOUSE_DIR="$ROOT/.tools/lighthouse"
ensure_lighthouse() {
  if [ "$(node -p "require('$LIGHTHOUSE_DIR/node_modules/lighthouse/package.json').version" 2>/dev/null)" != "$LIGHTHOUSE_VERSION" ]; then
    step "Installing Lighthouse $LIGHTHOUSE_VERSION"
    rm -rf "$LIGHTHOUSE_DIR"
    mkdir -p "$LIGHTHOUSE_DIR"
    npm install --prefix "$LIGHTHOUSE_DIR" --no-audit --no-fund --save-exact "lighthouse@$LIGHTHOUSE_VERSION"
  fi
  export CHROME_PATH=/usr/bin/chromium
}

# Debian's libfaketime, for running the servers of the tests on another day
# (scripts/test-any-day.sh sets MDT_E2E_SHIFT_DAYS; tests/e2e/helpers.mjs preloads the library).
ensure_faketime() {
  if [ -z "$(faketime_lib)" ]; then
    step "Installing Debian's faketime"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq faketime
    [ -n "$(faketime_lib)" ] || die "libfaketime did not install"
  fi
  export MDT_FAKETIME_LIB="$(faketime_lib)"
}

# Where Debian put libfaketime.so.1 (under the machine's multiarch directory), or nothing.
faketime_lib() {
  local lib
  for lib in /usr/lib/*/faketime/libfaketime.so.1; do
    [ -f "$lib" ] && { echo "$lib"; return; }
  done
}

# Debian's PostgreSQL 15 (the region engine) and nginx (the load balancer of the multi-server
# tests), for the tests; never a mock of either.
PG_BIN="/usr/lib/postgresql/15/bin"
ensure_region_packages() {
  local missing=()
  [ -x "$PG_BIN/initdb" ] || missing+=(postgresql)
  command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
  if [ ${#missing[@]} -gt 0 ]; then
    step "Installing Debian's ${missing[*]}"
    as_root apt-get update -qq
    # The packages' own services are not used (and cannot start without systemd here).
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" || true
    [ -x "$PG_BIN/initdb" ] || die "PostgreSQL 15 did not install"
    [ -x /usr/sbin/nginx ] || die "nginx did not install"
  fi
}

# A free TCP port on the loopback interface.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Starts a throwaway PostgreSQL cluster in a temporary directory on a free loopback port (as
# the postgres OS user: initdb refuses root) and exports MDT_TEST_DATABASE_URL; stopped and
# removed by stop_test_postgres (called on exit). Uses MDT_TEST_DATABASE_URL as it is when
# already set.
start_test_postgres() {
  if [ -n "${MDT_TEST_DATABASE_URL:-}" ]; then
    TEST_PG_DIR=""
    return
  fi
  TEST_PG_DIR="$(mktemp -d /tmp/mdt-test-pg.XXXXXX)"
  local port
  port="$(free_port)"
  chown postgres "$TEST_PG_DIR" 2>/dev/null || true
  chmod 700 "$TEST_PG_DIR"
  run_as_postgres "$PG_BIN/initdb" -D "$TEST_PG_DIR/data" -A trust -U postgres -E UTF8 >"$TEST_PG_DIR/initdb.log" 2>&1 \
    || { cat "$TEST_PG_DIR/initdb.log" >&2; die "initdb failed"; }
  run_as_postgres "$PG_BIN/pg_ctl" -D "$TEST_PG_DIR/data" -l "$TEST_PG_DIR/server.log" -w -t 60 \
    -o "-p $port -k $TEST_PG_DIR -c listen_addresses=127.0.0.1 -c max_connections=400 -c shared_buffers=128MB" start >/dev/null \
    || { cat "$TEST_PG_DIR/server.log" >&2; die "PostgreSQL did not start"; }
  export MDT_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
  export TEST_PG_PORT="$port"
  trap stop_test_postgres EXIT
}

stop_test_postgres() {
  if [ -n "${TEST_PG_DIR:-}" ] && [ -d "$TEST_PG_DIR/data" ]; then
    run_as_postgres "$PG_BIN/pg_ctl" -D "$TEST_PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$TEST_PG_DIR"
  fi
}

run_as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then
    # runuser keeps the arguments as they are (no shell between).
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# The browser app, size-optimised (wasm-release profile + wasm-opt -Oz), into dist/.
build_app() {
  step "Building the browser app (trunk build --release)"
  trunk build --release
}
