#!/usr/bin/env bash
# Region and phone benchmark (issue 27): how a person's device fares when their team is one of
# many in a region, and how the app fares on a phone's connection. Not part of the test command.
#
#   1. A throwaway PostgreSQL cluster with three databases: the region (the demo plus N teams of
#      about R records each, loaded through the push API by scripts/bench_region_load.mjs), the
#      demo alone, and the measured team alone (loaded the same way).
#   2. sync: a new device's first sync (requests, bytes, server time) for the demo's coordinator
#      Priya and for a member of team 0, in the region and on the database of their team alone;
#      the ratio of the server times (goal ≤ 1.3×) and the requests against ⌈records/1000⌉+1.
#   3. browser: in Chromium on slow 4G, that member signing in until the app says it is up to
#      date, in the region and on their team alone (median of 3).
#   4. polls: a device polling with nothing new, with wrk at 4, 8, 16, 32 and 64 connections on
#      PostgreSQL and at 32 on SQLite (the demo and the one team), beside GET /api/version.
#   5. pages: the first opening of the meeting, measures and calendar pages on slow 4G.
#   6. lighthouse: Lighthouse 12.2.3 on the sign-in page and the signed-in home page, mobile and
#      desktop, beside a plain page with the same sign-in markup and NHS stylesheets.
# Each measurement prints a BENCH line; a Markdown summary for BENCHMARKS.md comes last.
#
# Settings (environment):
#   MDT_BENCH_TEAMS=100 MDT_BENCH_RECORDS=2000   the region's size (quick: 3 and 300)
#   MDT_BENCH_ONLY=sync,browser,polls,pages,lighthouse   the stages to run (default: all)
#   MDT_SERVER_BIN=target/release/mdt-server   use this server instead of building the release one
#   MDT_DIST=dist                               the built app (built with trunk when missing)
#   MDT_BENCH_SECONDS=10                        wrk's time per measurement
#   MDT_BENCH_SYNC_RUNS=9 MDT_BENCH_RUNS=3 MDT_BENCH_LIGHTHOUSE_RUNS=3   repetitions (medians)
#   MDT_BENCH_LOAD_JOBS=4                       teams loaded at once
#   MDT_BENCH_KEEP_DB=1                         leave the PostgreSQL cluster running at the end
#                                               and say how to reuse and stop it
#   MDT_BENCH_REUSE_DB=postgres://…/bench_region   skip loading: use that region database and
#                                               its siblings bench_alone_team, bench_alone_demo
#                                               (from a run with MDT_BENCH_KEEP_DB=1)
#   MDT_BENCH_OUT=FILE                          also keep the results (JSON lines) and summary
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

TEAMS="${MDT_BENCH_TEAMS:-100}"
RECORDS="${MDT_BENCH_RECORDS:-2000}"
ONLY="${MDT_BENCH_ONLY:-sync,browser,polls,pages,lighthouse}"
DURATION="${MDT_BENCH_SECONDS:-10}"
SYNC_RUNS="${MDT_BENCH_SYNC_RUNS:-9}"
RUNS="${MDT_BENCH_RUNS:-3}"
LH_RUNS="${MDT_BENCH_LIGHTHOUSE_RUNS:-3}"
JOBS="${MDT_BENCH_LOAD_JOBS:-4}"
REUSE="${MDT_BENCH_REUSE_DB:-}"
DIST="${MDT_DIST:-dist}"
for stage in ${ONLY//,/ }; do
  case "$stage" in sync | browser | polls | pages | lighthouse) ;; *) die "unknown stage \"$stage\" in MDT_BENCH_ONLY (use sync, browser, polls, pages, lighthouse)" ;; esac
done
wants() { [[ ",$ONLY," == *",$1,"* ]]; }
browser_stages() { wants browser || wants pages || wants lighthouse; }

ensure_region_packages
browser_stages && ensure_chromium
if wants polls && ! command -v wrk >/dev/null; then
  step "Installing Debian's wrk"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq wrk
fi
wants lighthouse && ensure_lighthouse

if [ -n "${MDT_SERVER_BIN:-}" ]; then
  BIN="$(cd "$(dirname "$MDT_SERVER_BIN")" && pwd)/$(basename "$MDT_SERVER_BIN")"
else
  step "Building the server (release)"
  cargo build --release --quiet --bin mdt-server
  BIN="$ROOT/target/release/mdt-server"
fi
[ -x "$BIN" ] || die "no server binary at $BIN"
if browser_stages && [ ! -f "$DIST/index.html" ]; then build_app; fi
[ -f "$DIST/index.html" ] || die "no built app in $DIST (trunk build --release)"

# The accounts the benchmark signs in as (scripts/bench_region_load.mjs makes them).
read -r MEMBER PASSWORD ADMIN < <(node --input-type=module -e "
  import { measuredMember, BENCH_PASSWORD, BENCH_ADMIN } from './scripts/bench_region_load.mjs';
  console.log(measuredMember(0), BENCH_PASSWORD, BENCH_ADMIN.email);")
[ -n "${ADMIN:-}" ] || die "cannot read the benchmark's accounts from scripts/bench_region_load.mjs"
PRIYA="priya.example@demo.nhs.test"
DEMO_PASSWORD="demo-password-2026"

WORK="$(mktemp -d /tmp/mdt-phone-bench.XXXXXX)"
export MDT_BENCH_RESULTS="$WORK/results.jsonl"
PIDS=()
KEEP_DB=""
cleanup() {
  local status=$?
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ $status -ne 0 ]; then
    for log in "$WORK"/*.log; do
      [ -f "$log" ] && { echo "--- last lines of $log"; tail -n 15 "$log"; }
    done
  fi
  rm -rf "$WORK"
  if [ -n "$KEEP_DB" ]; then
    printf '\nThe PostgreSQL cluster is still running. Run again without loading:\n  MDT_BENCH_REUSE_DB=%s %s\nStop it with:\n  %s\n' \
      "$REGION_DB" "$0" "runuser -u postgres -- $PG_BIN/pg_ctl -D $TEST_PG_DIR/data stop && rm -rf $TEST_PG_DIR"
  else
    stop_test_postgres
  fi
}

if [ -n "$REUSE" ]; then
  REGION_DB="$REUSE"
  export MDT_TEST_DATABASE_URL="${REUSE%/*}/postgres"
  start_test_postgres # uses the given cluster as it is
else
  unset MDT_TEST_DATABASE_URL
  step "Starting a throwaway PostgreSQL cluster"
  start_test_postgres
  REGION_DB="${MDT_TEST_DATABASE_URL%/*}/bench_region"
  [ "${MDT_BENCH_KEEP_DB:-}" = 1 ] && KEEP_DB=1
fi
trap cleanup EXIT
ALONE_TEAM_DB="${REGION_DB%/*}/bench_alone_team"
ALONE_DEMO_DB="${REGION_DB%/*}/bench_alone_demo"

wait_for() { for _ in $(seq 1 600); do curl -fsS "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done; die "$1 did not answer"; }

# start_server NAME ARGS… : a server on a free port serving the app; its address is left in URL.
start_server() {
  local name="$1" port
  shift
  port="$(free_port)"
  "$BIN" "$@" --addr "127.0.0.1:$port" --dist "$DIST" --server-name "$name" >"$WORK/$name.log" 2>&1 &
  PIDS+=($!)
  URL="http://127.0.0.1:$port"
  wait_for "$URL/healthz"
}

add_admin() {
  echo "$PASSWORD" | "$BIN" "$@" user add --email "$ADMIN" --name "Bench Admin" --role other --site-admin >/dev/null 2>>"$WORK/cli.log"
}
load_demo() { "$BIN" "$@" demo >/dev/null 2>>"$WORK/cli.log"; }

if [ -z "$REUSE" ]; then
  for db in bench_region bench_alone_team bench_alone_demo; do
    psql "$MDT_TEST_DATABASE_URL" -v ON_ERROR_STOP=1 -qc "CREATE DATABASE $db"
  done
  step "The region: the demo and $TEAMS teams of about $RECORDS records, through the push API"
  load_demo --database-url "$REGION_DB"
  add_admin --database-url "$REGION_DB"
  start_server region --database-url "$REGION_DB"
  REGION_URL="$URL"
  node scripts/bench_region_load.mjs --base "$REGION_URL" --teams "0-$((TEAMS - 1))" --records "$RECORDS" --jobs "$JOBS" --label region

  step "Team 0 alone, and the demo alone"
  add_admin --database-url "$ALONE_TEAM_DB"
  start_server alone-team --database-url "$ALONE_TEAM_DB"
  TEAM_URL="$URL"
  node scripts/bench_region_load.mjs --base "$TEAM_URL" --teams 0 --records "$RECORDS" --label "team 0 alone"
  load_demo --database-url "$ALONE_DEMO_DB"
  start_server alone-demo --database-url "$ALONE_DEMO_DB"
  DEMO_URL="$URL"
else
  step "Reusing the databases of $REGION_DB"
  for db in "$REGION_DB" "$ALONE_TEAM_DB" "$ALONE_DEMO_DB"; do
    psql "$db" -qAtc "SELECT 1" >/dev/null || die "cannot open $db (made by a run with MDT_BENCH_KEEP_DB=1?)"
  done
  TEAMS="$(psql "$REGION_DB" -qAtc "SELECT count(*) FROM records WHERE entity = 'team' AND body::text LIKE '%Bench Neighbourhood MDT%'")"
  echo "The region holds $TEAMS benchmark teams (MDT_BENCH_RECORDS=$RECORDS is taken as their size)."
  start_server region --database-url "$REGION_DB"
  REGION_URL="$URL"
  start_server alone-team --database-url "$ALONE_TEAM_DB"
  TEAM_URL="$URL"
  start_server alone-demo --database-url "$ALONE_DEMO_DB"
  DEMO_URL="$URL"
fi
REGION="region of $TEAMS teams"

if wants sync; then
  step "A new device's first sync, in the region and alone"
  node scripts/bench_sync.mjs sync --runs "$SYNC_RUNS" \
    --person "Priya (demo coordinator)|$PRIYA|$DEMO_PASSWORD|$REGION_URL|$DEMO_URL|$REGION|the demo alone" \
    --person "team 0 member|$MEMBER|$PASSWORD|$REGION_URL|$TEAM_URL|$REGION|their team alone"
fi

if wants browser; then
  step "First sync in Chromium on slow 4G, in the region and alone"
  node scripts/bench_phone.mjs sync --email "$MEMBER" --password "$PASSWORD" --runs "$RUNS" \
    --server "$REGION|$REGION_URL" --server "their team alone|$TEAM_URL"
fi

if wants polls; then
  step "Polls with nothing new: PostgreSQL (the region) and SQLite (the demo and team 0)"
  add_admin --data-dir "$WORK/sqlite"
  load_demo --data-dir "$WORK/sqlite"
  start_server sqlite --data-dir "$WORK/sqlite"
  SQLITE_URL="$URL"
  node scripts/bench_region_load.mjs --base "$SQLITE_URL" --teams 0 --records "$RECORDS" --label "SQLite: team 0"
  node scripts/bench_sync.mjs polls --seconds "$DURATION" \
    --target "PostgreSQL, $REGION|$MEMBER|$PASSWORD|$REGION_URL|4,8,16,32,64" \
    --target "SQLite, the demo and one team|$MEMBER|$PASSWORD|$SQLITE_URL|32"
fi

if wants pages; then
  step "First opening of the meeting, measures and calendar pages on slow 4G"
  node scripts/bench_phone.mjs pages --email "$MEMBER" --password "$PASSWORD" --runs "$RUNS" --server "$REGION|$REGION_URL"
fi

if wants lighthouse; then
  step "Lighthouse $LIGHTHOUSE_VERSION: sign-in and signed-in home pages beside a plain page"
  node scripts/bench_lighthouse.mjs --app "$REGION_URL" --email "$MEMBER" --password "$PASSWORD" --runs "$LH_RUNS" --dist "$DIST"
fi

step "Summary for BENCHMARKS.md"
node scripts/bench_summary.mjs --teams "$TEAMS" --records "$RECORDS" --binary "${BIN#"$ROOT"/}" --only "$ONLY" | tee "$WORK/summary.md"
if [ -n "${MDT_BENCH_OUT:-}" ]; then
  cp "$MDT_BENCH_RESULTS" "$MDT_BENCH_OUT.jsonl"
  cp "$WORK/summary.md" "$MDT_BENCH_OUT.md"
  echo "Kept $MDT_BENCH_OUT.jsonl and $MDT_BENCH_OUT.md"
fi
