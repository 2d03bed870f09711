#!/usr/bin/env bash
# UnionHall benchmark, outdoor-worker service stations: the public nearest-first search
# over 200,000 stations on PostgreSQL, against its ceiling in the same run (see
# ../shared/benchmarks.md).
#
#   bash bench/stations.sh       # DURATION=10 CONNECTIONS=64 STATIONS=200000 by default
#
# 1. Fresh database unionhall_stations_bench (dropped and re-created, left for
#    inspection); release service on it, with the per-address limit of the public
#    endpoints raised out of the way (UNIONHALL_PUBLIC_REQUESTS_PER_MINUTE=1e9: every
#    request still passes through the limiter, none is refused); `unionhall demo` (the
#    eleven city federations); then bench/stations_load.sql loads STATIONS stations
#    uniformly over the province's box with one INSERT ... SELECT.
# 2. Sanity: for a few points, the service's answer (radius 3 km, limit 200) has as many
#    stations as a brute-force haversine over the whole table in SQL.
# 3. The SQL of one search is captured from PostgreSQL's statement log (a second
#    instance of the service connects as a role with log_statement=all and answers one
#    search) and checked against bench/stations_search.sql; the run stops if they no
#    longer match.
# 4. wrk -t2 -cCONNECTIONS with bench/stations_search.lua: GET /v1/stations?near=…&
#    radius_m=3000 without a token, a random point of the province each request;
#    db = pgbench on bench/stations_search.sql (the same statement, random point);
#    http = GET /healthz under the same wrk settings; ceiling = 1/(1/db + 1/http).
#
# Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth, superuser: the capture
# role and the log file), psql, pgbench, jq, python3; installs wrk if missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-64}
STATIONS=${STATIONS:-200000}
RADIUS_M=3000
PG=${PG:-postgres://postgres@127.0.0.1:5432}
DB=unionhall_stations_bench
CAPTURE_ROLE=unionhall_stations_capture
PII_KEY=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
BIN=${BIN:-"$CARGO_TARGET_DIR/release/unionhall"}
TMP=$(mktemp -d -t unionhall-stations.XXXXXX)
PID=""
CPID=""
cleanup() {
    [[ -n "$CPID" ]] && kill "$CPID" 2>/dev/null && wait "$CPID" 2>/dev/null || true
    [[ -n "$PID" ]] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
    psql -q "$PG/postgres" -c "DROP ROLE IF EXISTS $CAPTURE_ROLE" >/dev/null 2>&1 || true
    rm -rf "$TMP"
}
trap cleanup EXIT
die() { echo "stations bench: $*" >&2; exit 1; }
T_START=$(date +%s)
stage() { echo "[$(( $(date +%s) - T_START )) s] $*" >&2; }

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
command -v pgbench >/dev/null || die "pgbench (PostgreSQL client) is required"
pg_isready -q -h 127.0.0.1 -p 5432 || pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start

[[ -n "${SKIP_BUILD:-}" ]] || cargo build --release -q -p unionhall-api   # SKIP_BUILD=1: use $BIN as is

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_ready() {
    local url=$1 i
    for i in $(seq 1 2000); do
        curl -fs -o /dev/null "$url/readyz" && return 0
        sleep 0.005
    done
    die "server did not become ready"
}
rss_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
sql() { psql -Atq -v ON_ERROR_STOP=1 "$PG/$DB" -c "$1"; }

stage "built"
# --- the service on a fresh PostgreSQL database -----------------------------------
psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
SERVER_ENV=(UNIONHALL_JWT_SECRET=bench-secret-bench-secret-bench-secret-0123 UNIONHALL_PII_KEY="$PII_KEY"
    UNIONHALL_ADMIN_PASSWORD=bench-admin-password UNIONHALL_PUBLIC_REQUESTS_PER_MINUTE=1000000000)
PORT=$(free_port)
BASE=http://127.0.0.1:$PORT
env "${SERVER_ENV[@]}" UNIONHALL_BIND=127.0.0.1:$PORT UNIONHALL_DATABASE_URL="$PG/$DB" \
    UNIONHALL_DATA_DIR="$TMP/pg" "$BIN" serve >"$TMP/pg.log" 2>&1 &
PID=$!
wait_ready "$BASE"
sleep 1
IDLE_RSS=$(rss_kb "$PID" VmRSS)
env "${SERVER_ENV[@]}" UNIONHALL_DATABASE_URL="$PG/$DB" UNIONHALL_LOG=warn "$BIN" demo >/dev/null

stage "demo loaded; loading $STATIONS stations"
T0=$(date +%s%N)
psql -q -v ON_ERROR_STOP=1 -v stations="$STATIONS" -f bench/stations_load.sql "$PG/$DB" >/dev/null
LOAD_MS=$(( ($(date +%s%N) - T0) / 1000000 ))
NSTATIONS=$(sql "SELECT count(*) FROM stations")
[[ "$NSTATIONS" -ge "$STATIONS" ]] || die "loaded $NSTATIONS stations, wanted $STATIONS"

# --- the service and a brute-force haversine agree ---------------------------------
HAVERSINE="2 * 6371008.8 * asin(sqrt(power(sin(radians(lat - :lat) / 2), 2)
    + cos(radians(:lat)) * cos(radians(lat)) * power(sin(radians(lng - :lng) / 2), 2)))"
IN_CIRCLE_TOTAL=0
for point in "28.682000,115.857900" "25.831100,114.933500" "29.980000,116.050000" "24.600000,118.400000" "27.300000,114.100000"; do
    lat=${point%,*} lng=${point#*,}
    api=$(curl -fsS "$BASE/v1/stations?near=$point&radius_m=$RADIUS_M&limit=200" | jq '.items | length')
    brute=$(psql -Atq "$PG/$DB" -c "SELECT count(*) FROM stations WHERE $(echo "$HAVERSINE" | sed "s/:lat/$lat/g; s/:lng/$lng/g") <= $RADIUS_M")
    [[ "$api" == "$brute" ]] || die "near $point: the service answers $api stations, a brute-force haversine $brute"
    IN_CIRCLE_TOTAL=$((IN_CIRCLE_TOTAL + api))
done
EXPLAIN=$(psql -Atq "$PG/$DB" -c "EXPLAIN SELECT id FROM stations WHERE lat_band IN (2863,2864,2865,2866,2867,2868,2869)
    AND lng BETWEEN 115.82 AND 115.89 AND lat BETWEEN 28.65 AND 28.71" | head -3 | tr -s ' ' | paste -sd' ')

stage "loaded in ${LOAD_MS} ms and checked; capturing the search's SQL"
# --- the request's SQL, from PostgreSQL's statement log ----------------------------
PGLOG=${PGLOG:-$(pg_lsclusters --no-header 2>/dev/null | awk '$3 == 5432 { print $7 }')}
[[ -r "$PGLOG" ]] || die "can't read PostgreSQL's log file ('$PGLOG'); set PGLOG=/path/to/it"
psql -q -v ON_ERROR_STOP=1 "$PG/postgres" -c "DROP ROLE IF EXISTS $CAPTURE_ROLE" \
    -c "CREATE ROLE $CAPTURE_ROLE LOGIN SUPERUSER" -c "ALTER ROLE $CAPTURE_ROLE SET log_statement = 'all'"
CPORT=$(free_port)
env "${SERVER_ENV[@]}" UNIONHALL_DATABASE_URL="postgres://$CAPTURE_ROLE@127.0.0.1:5432/$DB" \
    UNIONHALL_MIGRATE_ON_START=false UNIONHALL_BIND=127.0.0.1:$CPORT UNIONHALL_DATA_DIR="$TMP/capture" \
    UNIONHALL_DB_MAX_CONNECTIONS=1 UNIONHALL_LOG=warn "$BIN" serve >"$TMP/capture.log" 2>&1 &
CPID=$!
wait_ready "http://127.0.0.1:$CPORT"
sleep 1
OFFSET=$(stat -c %s "$PGLOG")
curl -fsS -o /dev/null "http://127.0.0.1:$CPORT/v1/stations?near=28.682,115.8579&radius_m=$RADIUS_M"
sleep 1
tail -c +"$((OFFSET + 1))" "$PGLOG" | grep -F " $CAPTURE_ROLE@$DB " >"$TMP/search.log" || true
kill "$CPID"; wait "$CPID" 2>/dev/null || true; CPID=""
psql -q "$PG/postgres" -c "DROP ROLE IF EXISTS $CAPTURE_ROLE"
STATEMENTS=$(python3 - "$TMP/search.log" bench/stations_search.sql <<'EOF'
import re, sys
log, bench = sys.argv[1], sys.argv[2]
captured, params = [], []
for line in open(log, encoding="utf-8"):
    m = re.search(r"LOG:  (?:execute [^:]*|statement): (.*)$", line)
    if m and m.group(1).strip().rstrip(";") not in ("", "SELECT 1"):
        captured.append(m.group(1).strip().rstrip(";"))
        params.append("")
    m = re.search(r"DETAIL:  parameters: (.*)$", line)
    if m and params:
        params[-1] = m.group(1)
# A statement's shape: parameters ($n, :var, and the SQL expressions the bench file
# builds a parameter with between /*p*/ marks) become ?, whitespace collapses.
def norm(s):
    s = re.sub(r"/\*p\*/.*?/\*p\*/", "?", s)
    s = re.sub(r"(\$\d+)|(:[a-z_0-9]+(::[a-z0-9]+)?)", "?", s)
    return re.sub(r"\s+", " ", s).strip()
text = "\n".join(l for l in open(bench, encoding="utf-8") if not l.lstrip().startswith(("--", "\\")))
ours = [s.strip().rstrip(";") for s in text.split(";\n") if s.strip()]
if [norm(s) for s in captured] != [norm(s) for s in ours]:
    print("captured from PostgreSQL's log (with $n parameters):", file=sys.stderr)
    for s, p in zip(captured, params):
        print("  " + s + ";" + ("\n    -- " + p if p else ""), file=sys.stderr)
    print(bench + " has:", file=sys.stderr)
    for s in ours:
        print("  " + s + ";", file=sys.stderr)
    sys.exit(1)
print(len(captured))
EOF
) || die "bench/stations_search.sql no longer matches the SQL the search runs: update it from the captured statements above"

# --- load -------------------------------------------------------------------------
to_ms() { python3 -c 'import sys,re; v=sys.argv[1]; n,u=re.match(r"([\d.]+)(\w+)",v).groups(); print(round(float(n)*{"us":0.001,"ms":1,"s":1000}[u],2))' "$1"; }
# wrk_run OUT ARGS...: prints "req/s p50_ms p99_ms"; any non-2xx answer stops the run.
wrk_run() {
    local out=$1
    shift
    wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency "$@" >"$out" 2>"$out.err"
    local rps p50 p99
    rps=$(awk '/Requests\/sec/ { print $2 }' "$out")
    p50=$(awk '$1 == "50%" { print $2 }' "$out")
    p99=$(awk '$1 == "99%" { print $2 }' "$out")
    if grep -q "Non-2xx" "$out"; then cat "$out" "$out.err" >&2; die "non-2xx answers under wrk $*"; fi
    echo "$rps $(to_ms "$p50") $(to_ms "$p99")"
}
# The search box of a 3 km radius (crates/domain/src/geo.rs): half-height in degrees
# (with the 1e-9° slack) and the angle in radians, for pgbench's parameters.
read -r HALF_DEG ANGLE < <(python3 -c "
import math
a = $RADIUS_M / 6371008.8
print(repr(math.degrees(a) + 1e-9), repr(a))")
pgbench_run() { # FILE: prints tps
    pgbench -n -M prepared -c "$CONNECTIONS" -j 2 -T "$DURATION" -D half="$HALF_DEG" -D angle="$ANGLE" \
        -f "$1" "$PG/$DB" >"$TMP/pgbench.out" 2>&1 || true
    local tps
    tps=$(awk '/^tps/ { print $3 }' "$TMP/pgbench.out")
    if [[ -z "$tps" ]] || grep -q "aborted in command" "$TMP/pgbench.out"; then
        tail -5 "$TMP/pgbench.out" >&2
        die "pgbench failed on $1 (too many connections? other tests running?)"
    fi
    echo "$tps"
}
ceiling() { python3 -c "print(round(1/(1/$1 + 1/$2)))"; }

stage "SQL checked ($STATEMENTS statement); measuring"
read -r HTTP _ _ < <(wrk_run "$TMP/healthz.out" "$BASE/healthz")
read -r S_SVC S_P50 S_P99 < <(STATIONS_RADIUS_M=$RADIUS_M wrk_run "$TMP/search.out" -s bench/stations_search.lua "$BASE/")
S_DB=$(pgbench_run bench/stations_search.sql)
PEAK_RSS=$(rss_kb "$PID" VmHWM)
CEIL=$(ceiling "$S_DB" "$HTTP")
RATIO=$(python3 -c "print(round($S_SVC/$CEIL, 2))")

echo
echo "Date: $(date -u +%Y-%m-%d) · machine: $(nproc) cores, $(free -h | awk '/Mem:/ { print $2 }') RAM, load average $(cut -d' ' -f1-3 /proc/loadavg) · wrk -t2 -c$CONNECTIONS -d${DURATION}s · pgbench -M prepared -c$CONNECTIONS -j2 -T$DURATION"
echo "Data: $NSTATIONS stations (uniform over lat 24.5-30.1, lng 113.6-118.5), loaded by one INSERT … SELECT in ${LOAD_MS} ms; a 3 km search answered $((IN_CIRCLE_TOTAL / 5)) stations on average at the five check points"
echo "Plan of the box: $EXPLAIN"
echo
echo "| Path | service req/s | db tps | http req/s (/healthz) | ceiling | ratio | p50 ms | p99 ms |"
echo "|---|---|---|---|---|---|---|---|"
echo "| \`GET /v1/stations?near=…&radius_m=$RADIUS_M\` (no token; $STATEMENTS statement) | $(printf '%.0f' "$S_SVC") | $(printf '%.0f' "$S_DB") | $(printf '%.0f' "$HTTP") | $CEIL | **$RATIO** | $S_P50 | $S_P99 |"
echo
echo "Idle RSS after start-up: $((IDLE_RSS / 1024)) MB · peak RSS under load (VmHWM): $((PEAK_RSS / 1024)) MB"
