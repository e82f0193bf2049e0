#!/usr/bin/env bash
# Region benchmarks (figures for BENCHMARKS.md, all in one run so they compare):
#   * a pull with nothing new (wrk, loopback, 32 connections, 10 s) on SQLite, on PostgreSQL with
#     one server and with two servers behind nginx (deploy/nginx.conf), beside a trivial JSON
#     route of the same binary (GET /api/version);
#   * durable pushes (1 and 100 changes per push) and the initial sync of 10,000 records, on both
#     engines (examples/sync_bench.rs).
# Needs Debian's wrk, postgresql and nginx (installed when missing). Release build.
# MDT_BENCH_BEFORE=DIR (a release target directory of an older commit, holding mdt-server and
# examples/sync_bench) adds that build's SQLite figures to the same run, for before/after.
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
ensure_region_packages
if ! command -v wrk >/dev/null; then
  step "Installing Debian's wrk"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq wrk
fi
unset MDT_TEST_DATABASE_URL
start_test_postgres
DURATION="${MDT_BENCH_SECONDS:-10}"

step "Building the server (release)"
cargo build --release --quiet --bin mdt-server --example sync_bench
BIN="$ROOT/target/release/mdt-server"
WORK="$(mktemp -d /tmp/mdt-bench.XXXXXX)"
mkdir -p "$WORK/dist" && echo '<!doctype html><title>bench</title>' >"$WORK/dist/index.html"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
  stop_test_postgres
}
trap cleanup EXIT

wait_for() { for _ in $(seq 1 200); do curl -fsS "$1" >/dev/null 2>&1 && return 0; sleep 0.05; done; die "$1 did not answer"; }

# start_server NAME ARGS… : starts a server; its port is left in PORT.
start_server() {
  local name="$1"
  shift
  PORT="$(free_port)"
  "$BIN" "$@" --addr "127.0.0.1:$PORT" --dist "$WORK/dist" --server-name "$name" >"$WORK/$name.log" 2>&1 &
  PIDS+=($!)
  wait_for "http://127.0.0.1:$PORT/healthz"
}

# sign_in PORT : a session cookie for the benchmark account.
sign_in() {
  curl -fsS -D - -o /dev/null -H 'content-type: application/json' -H 'x-requested-with: mdt-app' \
    --data '{"email":"bench.user@example.nhs.net","password":"bench-password-2026"}' \
    "http://127.0.0.1:$1/api/session" | awk -F'[ ;]' 'tolower($1)=="set-cookie:" {print $2}'
}

add_account() {
  echo "bench-password-2026" | "$BIN" "$@" user add --email bench.user@example.nhs.net --name "Bench User" --role gp >/dev/null
}

# load URL_BASE COOKIE LABEL : wrk on a pull with nothing new and on the trivial route.
load() {
  local base="$1" cookie="$2" label="$3" cursor
  cursor="$(curl -fsS -H "cookie: $cookie" "$base/api/sync/pull?since=0" | python3 -c 'import json,sys; print(json.load(sys.stdin)["cursor"])')"
  # Warm up, then measure.
  wrk -t2 -c32 -d2s -H "cookie: $cookie" "$base/api/sync/pull?since=$cursor" >/dev/null
  local pull trivial
  pull="$(wrk -t2 -c32 -d"${DURATION}s" -H "cookie: $cookie" "$base/api/sync/pull?since=$cursor" | awk '/Requests\/sec/ {print $2}')"
  trivial="$(wrk -t2 -c32 -d"${DURATION}s" "$base/api/version" | awk '/Requests\/sec/ {print $2}')"
  printf 'BENCH pull-nothing-new %-34s %10s req/s   trivial route %10s req/s   ratio %s\n' \
    "$label" "$pull" "$trivial" "$(python3 -c "print(f'{$pull/$trivial:.2f}')")"
}

if [ -n "${MDT_BENCH_BEFORE:-}" ]; then
  step "Before: the older build on SQLite (its trivial route: an unknown /api/ path, 404)"
  OLD_BIN="$MDT_BENCH_BEFORE/mdt-server"
  echo "bench-password-2026" | "$OLD_BIN" --data-dir "$WORK/before" user add --email bench.user@example.nhs.net --name "Bench User" --role gp >/dev/null 2>&1
  PORT="$(free_port)"
  "$OLD_BIN" --data-dir "$WORK/before" --addr "127.0.0.1:$PORT" --dist "$WORK/dist" >"$WORK/before.log" 2>&1 &
  PIDS+=($!)
  wait_for "http://127.0.0.1:$PORT/"
  cookie="$(sign_in "$PORT")"
  base="http://127.0.0.1:$PORT"
  cursor="$(curl -fsS -H "cookie: $cookie" "$base/api/sync/pull?since=0" | python3 -c 'import json,sys; print(json.load(sys.stdin)["cursor"])')"
  wrk -t2 -c32 -d2s -H "cookie: $cookie" "$base/api/sync/pull?since=$cursor" >/dev/null
  pull="$(wrk -t2 -c32 -d"${DURATION}s" -H "cookie: $cookie" "$base/api/sync/pull?since=$cursor" | awk '/Requests\/sec/ {print $2}')"
  trivial="$(wrk -t2 -c32 -d"${DURATION}s" "$base/api/nothing-here" | awk '/Requests\/sec/ {print $2}')"
  printf 'BENCH before: pull-nothing-new SQLite, 1 server        %10s req/s   404 route     %10s req/s   ratio %s\n' \
    "$pull" "$trivial" "$(python3 -c "print(f'{$pull/$trivial:.2f}')")"
  kill "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null || true
  "$MDT_BENCH_BEFORE/examples/sync_bench" 2>/dev/null | sed 's/^BENCH /BENCH before: /'
fi

step "Pull with nothing new: SQLite, one server"
add_account --data-dir "$WORK/sqlite" 2>/dev/null
start_server sqlite --data-dir "$WORK/sqlite"
load "http://127.0.0.1:$PORT" "$(sign_in "$PORT")" "SQLite, 1 server"
kill "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null || true

step "Pull with nothing new: PostgreSQL, one server and two behind nginx"
psql "$MDT_TEST_DATABASE_URL" -qc "CREATE DATABASE bench"
DB="${MDT_TEST_DATABASE_URL%/*}/bench"
add_account --database-url "$DB" 2>/dev/null
start_server pg-a --database-url "$DB" --behind-proxy
port_a="$PORT"
load "http://127.0.0.1:$port_a" "$(sign_in "$port_a")" "PostgreSQL, 1 server"
start_server pg-b --database-url "$DB" --behind-proxy
port_b="$PORT"
front="$(free_port)"
mkdir -p "$WORK/nginx/logs"
python3 - "$ROOT/deploy/nginx.conf" "$WORK/nginx" "$front" "$port_a" "$port_b" <<'PY'
import sys
conf, work, front, a, b = sys.argv[1:]
text = open(conf).read()
text = text.replace("server 127.0.0.1:8081 ", f"server 127.0.0.1:{a} ").replace("server 127.0.0.1:8082 ", f"server 127.0.0.1:{b} ")
text = text.replace("listen 127.0.0.1:8080;", f"listen 127.0.0.1:{front};")
text = text.replace("http {\n", f"http {{\n    client_body_temp_path {work}/body; proxy_temp_path {work}/proxy; fastcgi_temp_path {work}/fastcgi; uwsgi_temp_path {work}/uwsgi; scgi_temp_path {work}/scgi;\n    access_log off;\n", 1)
open(f"{work}/nginx.conf", "w").write(text)
PY
user_directive=""; [ "$(id -u)" -eq 0 ] && user_directive=" user root;"
/usr/sbin/nginx -p "$WORK/nginx" -e "$WORK/nginx/logs/error.log" -c "$WORK/nginx/nginx.conf" -g "daemon off; pid $WORK/nginx/nginx.pid;$user_directive" &
PIDS+=($!)
wait_for "http://127.0.0.1:$front/healthz"
load "http://127.0.0.1:$front" "$(sign_in "$front")" "PostgreSQL, 2 servers behind nginx"

step "Durable pushes and initial sync of 10,000 records: SQLite"
"$ROOT/target/release/examples/sync_bench" 2>/dev/null
step "Durable pushes and initial sync of 10,000 records: PostgreSQL"
psql "$MDT_TEST_DATABASE_URL" -qc "CREATE DATABASE bench_sync"
MDT_BENCH_DATABASE_URL="${MDT_TEST_DATABASE_URL%/*}/bench_sync" "$ROOT/target/release/examples/sync_bench" 2>/dev/null
