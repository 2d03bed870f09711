#!/usr/bin/env bash
# UnionHall benchmark, the federation's figures (issue 7): GET /v1/stats/overview on the
# demo province scaled to MEMBERS members, for the province (the root) and for one city,
# each against its ceiling in the same run (see ../shared/benchmarks.md).
#
#   bash bench/overview.sh       # MEMBERS=1000000 DURATION=30 CONNECTIONS=64 by default
#
# 1. Fresh database unionhall_overview_bench (dropped and re-created, left for
#    inspection); the release service on it; `unionhall demo`; bench/members_load.sql
#    adds MEMBERS members round-robin over the demo's organisations below the root.
# 2. The SQL of one overview request for each subtree is captured from PostgreSQL's
#    statement log (bench/lib.sh) and checked against bench/overview.sql (the same
#    statements for both; only the subtree's path bounds differ).
# 3. wrk -t2 -cCONNECTIONS on GET /v1/stats/overview (root admin; then ?org_id=<Ji'an>);
#    db = pgbench on bench/overview.sql with that subtree's bounds; http = /healthz.
#
# Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth, superuser: the capture
# role and the log file), psql, pgbench, jq, python3; installs wrk if missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

NAME=overview
# The province's overview over a million members takes a second or more of database
# time; at 64 connections a request waits tens of seconds, so measure long enough and
# let wrk wait.
DURATION=${DURATION:-30}
export WRK_TIMEOUT=${WRK_TIMEOUT:-120s}
CONNECTIONS=${CONNECTIONS:-64}
MEMBERS=${MEMBERS:-1000000}
PG=${PG:-postgres://postgres@127.0.0.1:5432}
DB=unionhall_overview_bench
PII_KEY=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
BIN=${BIN:-$CARGO_TARGET_DIR/release/unionhall}
TMP=$(mktemp -d -t unionhall-overview.XXXXXX)
PID=""
CPID=""
# shellcheck source=bench/lib.sh
source bench/lib.sh
cleanup() {
    [[ -n "$CPID" ]] && kill "$CPID" 2>/dev/null && wait "$CPID" 2>/dev/null || true
    [[ -n "$PID" ]] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
    psql -q "$PG/postgres" -c "DROP ROLE IF EXISTS unionhall_overview_capture" >/dev/null 2>&1 || true
    rm -rf "$TMP"
}
trap cleanup EXIT

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
command -v pgbench >/dev/null || die "pgbench (PostgreSQL client) is required"
pg_isready -q -h 127.0.0.1 -p 5432 || pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
[[ -n "${SKIP_BUILD:-}" ]] || cargo build --release -q -p unionhall-api   # SKIP_BUILD=1: use $BIN as is
stage "built"

# --- the service on a fresh database, the demo, MEMBERS more members ------------------
psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
SERVER_ENV=(UNIONHALL_JWT_SECRET=bench-secret-bench-secret-bench-secret-0123 UNIONHALL_PII_KEY="$PII_KEY"
    UNIONHALL_ADMIN_PASSWORD=bench-admin-password)
PORT=$(free_port)
BASE=http://127.0.0.1:$PORT
env "${SERVER_ENV[@]}" UNIONHALL_BIND=127.0.0.1:$PORT UNIONHALL_DATABASE_URL="$PG/$DB" \
    UNIONHALL_DATA_DIR="$TMP/pg" "$BIN" serve >"$TMP/pg.log" 2>&1 &
PID=$!
wait_ready "$BASE"
env "${SERVER_ENV[@]}" UNIONHALL_DATABASE_URL="$PG/$DB" UNIONHALL_LOG=warn "$BIN" demo >/dev/null
T0=$(date +%s)
psql -q -v ON_ERROR_STOP=1 -v members="$MEMBERS" -f bench/members_load.sql "$PG/$DB" >/dev/null
LOAD_S=$(( $(date +%s) - T0 ))
psql -q "$PG/$DB" -c "VACUUM ANALYZE"
TOKEN=$(admin_token "$BASE")
ADMIN_ID=$(sql "SELECT id FROM users WHERE username = 'admin'")
read -r ROOT_PATH ROOT_ID < <(sql "SELECT path, id FROM orgs WHERE parent_id IS NULL" | tr '|' ' ')
read -r CITY_PATH CITY_ID < <(sql "SELECT path, id FROM orgs WHERE code = 'ja'" | tr '|' ' ')
TOTAL=$(sql "SELECT count(*) FROM members WHERE status = 'active'")
CITY_TOTAL=$(sql "SELECT count(*) FROM members m JOIN orgs o ON o.id = m.org_id
    WHERE m.status = 'active' AND o.path LIKE '$CITY_PATH%'")
# The service's figures must be the rows' own.
GOT=$(curl -fsS "$BASE/v1/stats/overview" -H "Authorization: Bearer $TOKEN" | jq .members.total)
[[ "$GOT" == "$TOTAL" ]] || die "the overview counts $GOT active members, the rows $TOTAL"
stage "loaded $MEMBERS members in ${LOAD_S} s ($TOTAL active; $CITY_TOTAL in Ji'an); capturing the SQL"

# --- the requests' SQL ------------------------------------------------------------------
CPORT=$(free_port)
capture_start unionhall_overview_capture "$CPORT" "${SERVER_ENV[@]}"
CBASE="http://127.0.0.1:$CPORT"
capture root "$TOKEN" "$CBASE/v1/stats/overview"
capture city "$TOKEN" "$CBASE/v1/stats/overview?org_id=$CITY_ID"
capture_stop
ROOT_STATEMENTS=$(check_sql root bench/overview.sql)
CITY_STATEMENTS=$(check_sql city bench/overview.sql)

# --- load -------------------------------------------------------------------------------
# pgbench's dates and bounds: this year, this month (Asia/Shanghai), now.
YEAR_STARTS=$(TZ=Asia/Shanghai date +%Y-01-01)
MONTH_STARTS=$(TZ=Asia/Shanghai date +%Y-%m-01)
NEXT_MONTH=$(TZ=Asia/Shanghai date -d "$MONTH_STARTS +1 month" +%F)
bounds() { # PATH -> the subtree's exclusive upper bound (the last '/' becomes '0')
    echo "${1%/}0"
}
stage "SQL checked ($ROOT_STATEMENTS statements); measuring"
read -r HTTP _ _ < <(wrk_run "$TMP/healthz.out" "$TOKEN" "$BASE/healthz")
measure() { # LABEL URL PATH ORG_ID
    local svc p50 p99 db
    read -r svc p50 p99 < <(wrk_run "$TMP/overview.out" "$TOKEN" "$2")
    db=$(pgbench_run bench/overview.sql -D admin_id="$ADMIN_ID" -D org_id="$4" -D one=1 -D zero=0 \
        -D lo="$3" -D hi="$(bounds "$3")" \
        -D year_starts="$YEAR_STARTS" -D month_starts="$MONTH_STARTS" -D next_month="$NEXT_MONTH" \
        -D active=active -D cancelled=cancelled -D booked=booked -D open=open -D limit=1)
    row "$1" "$svc" "$db" "$HTTP" "$p50" "$p99"
}
ROOT_ROW=$(measure "\`GET /v1/stats/overview\` (the province: $TOTAL active members; $ROOT_STATEMENTS statements)" \
    "$BASE/v1/stats/overview" "$ROOT_PATH" "$ROOT_ID")
CITY_ROW=$(measure "\`GET /v1/stats/overview?org_id=<吉安市总工会>\` ($CITY_TOTAL active members)" \
    "$BASE/v1/stats/overview?org_id=$CITY_ID" "$CITY_PATH" "$CITY_ID")
PEAK_RSS=$(rss_kb "$PID" VmHWM)

echo
echo "Date: $(date -u +%Y-%m-%d) · machine: $(nproc) cores, $(free -h | awk '/Mem:/ { print $2 }') RAM · wrk -t2 -c$CONNECTIONS -d${DURATION}s · pgbench -M prepared -c$CONNECTIONS -j2 -T$DURATION"
echo "Data: the demo province plus $MEMBERS members by SQL (${LOAD_S} s); $TOTAL active"
echo
echo "| Path | service req/s | db tps | http req/s (/healthz) | ceiling | ratio | p50 ms | p99 ms |"
echo "|---|---|---|---|---|---|---|---|"
echo "$ROOT_ROW"
echo "$CITY_ROW"
echo
echo "Peak RSS under load (VmHWM): $((PEAK_RSS / 1024)) MB"
