#!/usr/bin/env bash
# Installs what building and testing need, pinned and idempotent: each tool is skipped when the
# right version is already there. Sourced by scripts/run.sh and scripts/test.sh.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# Trunk 0.22 needs a newer rustc than this machine kind has.
TRUNK_VERSION="0.21.14"

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

# NHS design system styles, wasm-opt (npm binaryen; never Debian's 108, which breaks the wasm)
# and playwright-core, pinned by package-lock.json.
if ! npm ls --depth=0 >/dev/null 2>&1 || [ ! -x node_modules/.bin/wasm-opt ]; then
  step "Installing npm packages (nhsuk-frontend, binaryen, playwright-core)"
  npm ci --no-audit --no-fund
fi

# Debian's Chromium and ChromeDriver, for the browser tests (never a downloaded browser).
ensure_chromium() {
  if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    step "Installing Debian's chromium and chromium-driver"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq chromium chromium-driver
  fi
}

# The browser app, size-optimised (wasm-release profile + wasm-opt -Oz), into dist/.
build_app() {
  step "Building the browser app (trunk build --release)"
  trunk build --release
}
