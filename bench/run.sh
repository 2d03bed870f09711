#!/usr/bin/env bash
# UnionHall benchmark: the service against its ceiling, in one run on one machine
# (see ../shared/benchmarks.md). Prints a Markdown table to paste into BENCHMARKS.md.
#
#   bash bench/run.sh            # DURATION=10 CONNECTIONS=64 by default
#
# Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth); installs wrk if missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-64}
PG=${PG:-postgres://postgres@127.0.0.1:5432}
DB=unionhall_bench
NAME=run
PII_KEY=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
BIN=${BIN:-"$CARGO_TARGET_DIR/release/unionhall"}
TMP=$(mktemp -d -t unionhall-bench.XXXXXX)
PID=""
BUILT_PID=""
CPID=""
# shellcheck source=bench/lib.sh
source bench/lib.sh
cleanup() {
    for p in "$CPID" "$BUILT_PID" "$PID"; do
        [[ -n "$p" ]] && kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true
    done
    psql -q "$PG/postgres" -c "DROP ROLE IF EXISTS unionhall_run_capture" >/dev/null 2>&1 || true
    rm -rf "$TMP"
}
trap cleanup EXIT

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
command -v pgbench >/dev/null || die "pgbench (PostgreSQL client) is required"
pg_isready -q -h 127.0.0.1 -p 5432 || pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start

# SKIP_BUILD=1 BIN=<binary> measures a binary built before (e.g. a copy kept aside).
[ -n "${SKIP_BUILD:-}" ] || cargo build --release -q -p unionhall-api

# --- start-up to ready on SQLite (fresh data directory, migrations included) ------
PORT=$(free_port)
T0=$(date +%s%N)
UNIONHALL_BIND=127.0.0.1:$PORT UNIONHALL_DATA_DIR="$TMP/sqlite" UNIONHALL_ADMIN_PASSWORD=bench-admin-password \
    UNIONHALL_LOG=warn "$BIN" serve >"$TMP/sqlite.log" 2>&1 &
PID=$!
wait_ready "http://127.0.0.1:$PORT"
STARTUP_MS=$(( ($(date +%s%N) - T0) / 1000000 ))
kill "$PID"; wait "$PID" || true; PID=""

# --- the service on PostgreSQL ----------------------------------------------------
psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
SERVER_ENV=(UNIONHALL_JWT_SECRET=bench-secret-bench-secret-bench-secret-0123 UNIONHALL_PII_KEY="$PII_KEY"
    UNIONHALL_ADMIN_PASSWORD=bench-admin-password)
PORT=$(free_port)
BASE=http://127.0.0.1:$PORT
env "${SERVER_ENV[@]}" UNIONHALL_BIND=127.0.0.1:$PORT UNIONHALL_DATABASE_URL="$PG/$DB" \
    UNIONHALL_DATA_DIR="$TMP/pg" "$BIN" serve >"$TMP/pg.log" 2>&1 &
PID=$!
wait_ready "$BASE"
sleep 1
IDLE_RSS=$(rss_kb "$PID" VmRSS)
env "${SERVER_ENV[@]}" UNIONHALL_DATABASE_URL="$PG/$DB" UNIONHALL_LOG=warn "$BIN" demo >/dev/null
TOKEN=$(admin_token "$BASE")
add_unions "$BASE" "$TOKEN" 60
ADMIN_ID=$(sql "SELECT id FROM users WHERE username = 'admin'")
ROOT_PATH=$(sql "SELECT path FROM orgs WHERE parent_id IS NULL")
ROOT_UPPER="${ROOT_PATH%/}0"

# A second instance on the same database that keeps no organisation pages, so every
# request builds its page: what the first request after a change to the tree costs.
BUILT_PORT=$(free_port)
BUILT_BASE=http://127.0.0.1:$BUILT_PORT
env "${SERVER_ENV[@]}" UNIONHALL_ORG_PAGE_CACHE_ENTRIES=0 UNIONHALL_BIND=127.0.0.1:$BUILT_PORT \
    UNIONHALL_DATABASE_URL="$PG/$DB" UNIONHALL_DATA_DIR="$TMP/built" UNIONHALL_LOG=warn \
    "$BIN" serve >"$TMP/built.log" 2>&1 &
BUILT_PID=$!
wait_ready "$BUILT_BASE"

# --- the requests' SQL, checked against bench/*.sql -----------------------------------
# The first /v1/orgs request builds the page (orgs_built.sql); the second, at the same
# tree version, is served the kept page and runs only the caller lookup (orgs.sql).
CPORT=$(free_port)
capture_start unionhall_run_capture "$CPORT" "${SERVER_ENV[@]}"
CBASE="http://127.0.0.1:$CPORT"
capture me "$TOKEN" "$CBASE/v1/me"
capture orgs_built "$TOKEN" "$CBASE/v1/orgs?limit=50"
capture orgs "$TOKEN" "$CBASE/v1/orgs?limit=50"
capture_stop
for name in me orgs_built orgs; do check_sql "$name" "bench/$name.sql" >/dev/null; done

# --- load -----------------------------------------------------------------------------
# measure LABEL BASE URL SQL [PID]: adds a table row; stops PID (an instance measured
# for this row only) before pgbench, which needs the connections it held.
ROWS=()
measure() {
    local out svc p50 p99 db
    out=$(wrk_run "$TMP/wrk.out" "$TOKEN" "$2$3")
    read -r svc p50 p99 <<<"$out"
    if [[ -n "${5:-}" ]]; then kill "$5"; wait "$5" 2>/dev/null || true; fi
    db=$(pgbench_run "$4" -D admin_id="$ADMIN_ID" -D root_path="$ROOT_PATH" -D root_upper="$ROOT_UPPER")
    ROWS+=("$(row "$1" "$svc" "$db" "$HTTP" "$p50" "$p99")")
}
HTTP_OUT=$(wrk_run "$TMP/wrk.out" "$TOKEN" "$BASE/healthz")
read -r HTTP _ _ <<<"$HTTP_OUT"
measure '`GET /v1/me`' "$BASE" /v1/me bench/me.sql
measure '`GET /v1/orgs?limit=50`' "$BASE" '/v1/orgs?limit=50' bench/orgs.sql
measure '`GET /v1/orgs?limit=50`, every page built' "$BUILT_BASE" '/v1/orgs?limit=50' bench/orgs_built.sql "$BUILT_PID"
BUILT_PID=""
PEAK_RSS=$(rss_kb "$PID" VmHWM)

echo
echo "Date: $(date -u +%Y-%m-%d) · machine: $(nproc) cores, $(free -h | awk '/Mem:/ { print $2 }') RAM · wrk -t2 -c$CONNECTIONS -d${DURATION}s · pgbench -M prepared -c$CONNECTIONS -j2 -T$DURATION"
echo
echo "| Path | service req/s | db tps | http req/s (/healthz) | ceiling | ratio | p50 ms | p99 ms |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
echo
echo "Idle RSS after start-up: $((IDLE_RSS / 1024)) MB · peak RSS under load (VmHWM): $((PEAK_RSS / 1024)) MB · start-up to ready on SQLite (fresh, with migrations): ${STARTUP_MS} ms"
