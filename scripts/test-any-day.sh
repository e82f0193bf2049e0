#!/usr/bin/env bash
# Runs the end-to-end tests on other days than today, so that none depends on the day it runs:
# with the clock a year ahead, on the next Saturday and on the next Sunday (UK dates). Every
# server the tests start runs under Debian's libfaketime and every browser page under
# Playwright's clock, moved by MDT_E2E_SHIFT_DAYS days (tests/e2e/helpers.mjs). Uses the server
# and app already built (target/debug/mdt-server and dist/, as ./scripts/test.sh leaves them);
# never builds.
#
#   ./scripts/test-any-day.sh                      # the whole e2e suite, three times
#   ./scripts/test-any-day.sh tests/e2e/app.test.mjs
#   MDT_ANY_DAY_SHIFTS="365 6" ./scripts/test-any-day.sh   # chosen shifts (days) instead
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

SERVER_BIN="$ROOT/target/debug/mdt-server"
[ -x "$SERVER_BIN" ] || die "no $SERVER_BIN: build it first (./scripts/test.sh builds it)"
[ -f "$ROOT/dist/index.html" ] || die "no dist/: build the app first (./scripts/test.sh builds it)"

ensure_chromium
ensure_region_packages
ensure_mail_sink
ensure_faketime
start_test_postgres

# Days from today's UK date to the next Saturday and the next Sunday; never 0, so that each
# run moves the clock (today itself is what ./scripts/test.sh tests).
weekday="$(TZ=Europe/London date +%u)" # 1 Monday … 7 Sunday
to_saturday=$(((6 - weekday + 7) % 7))
[ "$to_saturday" -ne 0 ] || to_saturday=7
to_sunday=$(((7 - weekday) % 7))
[ "$to_sunday" -ne 0 ] || to_sunday=7

if [ -n "${MDT_ANY_DAY_SHIFTS:-}" ]; then
  read -r -a shifts <<<"$MDT_ANY_DAY_SHIFTS"
  names=()
  for shift in "${shifts[@]}"; do names+=("$shift days ahead"); done
else
  shifts=(365 "$to_saturday" "$to_sunday")
  names=("a year ahead" "the next Saturday" "the next Sunday")
fi

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(tests/e2e/)

logs="$(mktemp -d /tmp/mdt-any-day.XXXXXX)"
summary=()
failed=0
started=$SECONDS
for i in "${!shifts[@]}"; do
  shift_days="${shifts[$i]}"
  [[ "$shift_days" =~ ^[+-]?[0-9]+$ ]] || die "a shift is a whole number of days, not \"$shift_days\""
  day="$(TZ=Europe/London date -d "+$shift_days days" '+%a %-d %b %Y')"
  step "End-to-end tests on ${names[$i]}: MDT_E2E_SHIFT_DAYS=$shift_days (UK date $day)"
  log="$logs/shift-$shift_days.log"
  t=$SECONDS
  set +e
  env MDT_E2E_SHIFT_DAYS="$shift_days" MDT_SERVER_BIN="$SERVER_BIN" MDT_DIST="$ROOT/dist" \
    node --test --test-concurrency=1 "${targets[@]}" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  set -e
  pass="$(awk '/^# pass /{print $3}' "$log" | tail -1)"
  fail="$(awk '/^# fail /{print $3}' "$log" | tail -1)"
  line="$(printf '%-18s MDT_E2E_SHIFT_DAYS=%-4s %-16s %s passed, %s failed, %ss' \
    "${names[$i]}" "$shift_days" "($day)" "${pass:-?}" "${fail:-?}" $((SECONDS - t)))"
  if [ "$rc" -ne 0 ]; then
    failed=1
    line="$line  FAILED (exit $rc; log: $log)"
  fi
  summary+=("$line")
done

step "Summary ($((SECONDS - started))s)"
printf '  %s\n' "${summary[@]}"
if [ "$failed" -ne 0 ]; then
  die "the end-to-end tests failed on some day; each run's log is in $logs"
fi
rm -rf "$logs"
