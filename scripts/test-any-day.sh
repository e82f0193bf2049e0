#!/usr/bin/env bash
# Runs the tests on other days than today, so that none depends on the day it runs (issue 26):
#
# - the native tests (domain, server through its router and over HTTP, on SQLite) under Debian's
#   libfaketime with the clock a year ahead and a year back (`faketime` wraps each test
#   binary, and every server a test starts inherits it);
# - the end-to-end tests with the clock a year ahead, on the next Saturday and on the next
#   Sunday (UK dates): every server they start runs under libfaketime and every browser page
#   under Playwright's clock, moved by MDT_E2E_SHIFT_DAYS days; each test file starts at 10:00
#   UK time on that day (MDT_E2E_AT), so no run crosses midnight (tests/e2e/helpers.mjs).
#
# The end-to-end runs use the server and app already built (target/debug/mdt-server and dist/,
# as ./scripts/test.sh leaves them); the native runs reuse the native test build.
#
#   ./scripts/test-any-day.sh                  # all of it (about 30 minutes here)
#   ./scripts/test-any-day.sh --quick          # what ./scripts/test.sh runs: native a year ahead
#                                              # and back with fewer property and fuzz cases, and
#                                              # the e2e suite once, a year ahead on a Saturday
#   ./scripts/test-any-day.sh --e2e [FILES…]   # only the e2e runs (of these files)
#   ./scripts/test-any-day.sh --native         # only the native runs
#   MDT_ANY_DAY_SHIFTS="365 6" ./scripts/test-any-day.sh --e2e   # chosen e2e shifts (days)
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

mode=all
case "${1:-}" in
  --quick | --e2e | --native) mode="${1#--}"; shift ;;
esac

ensure_chromium
ensure_region_packages
ensure_mail_sink
ensure_totp_tool
ensure_fhir_validator
ensure_faketime
start_test_postgres
export MDT_REQUIRE_REGION_TESTS=1 CARGO_INCREMENTAL=0

uk_day() { TZ=Europe/London date -d "+$1 days" '+%a %-d %b %Y'; }

# Days from today's UK date to the next Saturday and the next Sunday; never 0, so that each
# run moves the clock (today itself is what ./scripts/test.sh tests).
weekday="$(TZ=Europe/London date +%u)" # 1 Monday … 7 Sunday
to_saturday=$(((6 - weekday + 7) % 7))
[ "$to_saturday" -ne 0 ] || to_saturday=7
to_sunday=$(((7 - weekday) % 7))
[ "$to_sunday" -ne 0 ] || to_sunday=7
# A year ahead, moved on to the Saturday on or after it.
year_saturday=$((365 + (6 - $(TZ=Europe/London date -d '+365 days' +%u) + 7) % 7))

logs="$(mktemp -d /tmp/mdt-any-day.XXXXXX)"
summary=()
failed=0
started=$SECONDS

# Runs "$@" with its output kept in $logs/$1.log, and adds a line to the summary.
run_logged() {
  local name="$1" label="$2"
  shift 2
  local log="$logs/$name.log" t=$SECONDS rc
  set +e
  "$@" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  set -e
  local line
  line="$(printf '%-44s %s, %ss' "$label" "$(counts "$log")" $((SECONDS - t)))"
  if [ "$rc" -ne 0 ]; then
    failed=1
    line="$line  FAILED (exit $rc; log: $log)"
  fi
  summary+=("$line")
}

# "N passed, M failed" from a log of cargo test or node --test.
counts() {
  awk '
    /^test result:/ { for (i = 1; i <= NF; i++) { if ($(i) ~ /^passed;?$/) p += $(i-1); if ($(i) ~ /^failed;?$/) f += $(i-1) } }
    /^# pass / { p += $3 } /^# fail / { f += $3 }
    END { printf "%d passed, %d failed", p, f }' "$1"
}

# The native tests (SQLite) with the clock moved by `$1` (libfaketime's form: +365d, -365d).
native_on() {
  local offset="$1" host runner_var
  host="$(rustc -vV | sed -n 's/^host: //p')"
  runner_var="CARGO_TARGET_$(echo "$host" | tr 'a-z-' 'A-Z_')_RUNNER"
  step "Native tests with the clock at $offset ($(TZ=Europe/London faketime -f "$offset" date '+%a %-d %b %Y'))"
  # Each test binary runs under faketime; a server it starts inherits the preload.
  run_logged "native$offset" "native tests, clock $offset" \
    env -u MDT_TEST_DATABASE_URL "$runner_var=faketime -f $offset" \
    cargo test --all-targets
}

# The e2e suite (or the files given) with the clock `$1` days ahead, named `$2`.
e2e_on() {
  local shift_days="$1" name="$2"
  shift 2
  local targets=("$@")
  [ ${#targets[@]} -gt 0 ] || targets=(tests/e2e/)
  [[ "$shift_days" =~ ^[+-]?[0-9]+$ ]] || die "a shift is a whole number of days, not \"$shift_days\""
  [ -x "$ROOT/target/debug/mdt-server" ] || die "no target/debug/mdt-server: build it first (./scripts/test.sh builds it)"
  [ -f "$ROOT/dist/index.html" ] || die "no dist/: build the app first (./scripts/test.sh builds it)"
  step "End-to-end tests on $name: MDT_E2E_SHIFT_DAYS=$shift_days (UK date $(uk_day "$shift_days"))"
  run_logged "e2e$shift_days" "e2e, $name ($(uk_day "$shift_days"))" \
    env MDT_E2E_SHIFT_DAYS="$shift_days" MDT_SERVER_BIN="$ROOT/target/debug/mdt-server" \
    MDT_DIST="$ROOT/dist" node --test --test-concurrency=1 "${targets[@]}"
}

case "$mode" in
  quick)
    # The full case counts ran on today's clock already; here the dates are what matter.
    export MDT_SYNC_CASES="${MDT_SYNC_CASES:-500}" MDT_CRASH_ROUNDS="${MDT_CRASH_ROUNDS:-5}" \
      MDT_FUZZ_CASES="${MDT_FUZZ_CASES:-1000}" MDT_SEMANTIC_FUZZ_CASES="${MDT_SEMANTIC_FUZZ_CASES:-1000}"
    native_on +365d
    native_on -365d
    e2e_on "$year_saturday" "a year ahead, a Saturday"
    ;;
  native)
    native_on +365d
    native_on -365d
    ;;
  all | e2e)
    [ "$mode" = e2e ] || { native_on +365d; native_on -365d; }
    if [ -n "${MDT_ANY_DAY_SHIFTS:-}" ]; then
      read -r -a shifts <<<"$MDT_ANY_DAY_SHIFTS"
      for s in "${shifts[@]}"; do e2e_on "$s" "$s days ahead" "$@"; done
    else
      e2e_on 365 "a year ahead" "$@"
      e2e_on "$to_saturday" "the next Saturday" "$@"
      e2e_on "$to_sunday" "the next Sunday" "$@"
    fi
    ;;
esac

step "On other days: $((SECONDS - started))s"
printf '  %s\n' "${summary[@]}"
if [ "$failed" -ne 0 ]; then
  die "some tests failed on another day; each run's log is in $logs"
fi
rm -rf "$logs"
