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
PII_KEY=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
BIN=${BIN:-"$CARGO_TARGET_DIR/release/unionhall"}
TMP=$(mktemp -d -t unionhall-bench.XXXXXX)
PID=""
cleanup() {
    [[ -n "$PID" ]] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
command -v pgbench >/dev/null || { echo "pgbench (PostgreSQL client) is required" >&2; exit 1; }
pg_isready -q -h 127.0.0.1 -p 5432 || pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start

# SKIP_BUILD=1 BIN=<binary> measures a binary built before (e.g. a copy kept aside).
[ -n "${SKIP_BUILD:-}" ] || cargo build --release -q -p unionhall-api

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_ready() {
    local url=$1 i
    for i in $(seq 1 2000); do
        curl -fs -o /dev/null "$url/readyz" && return 0
        sleep 0.005
    done
    echo "server did not become ready" >&2
    exit 1
}
rss_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

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
PORT=$(free_port)
BASE=http://127.0.0.1:$PORT
UNIONHALL_BIND=127.0.0.1:$PORT UNIONHALL_DATABASE_URL="$PG/$DB" UNIONHALL_DATA_DIR="$TMP/pg" \
    UNIONHALL_JWT_SECRET=bench-secret-bench-secret-bench-secret-0123 UNIONHALL_PII_KEY="$PII_KEY" \
    UNIONHALL_ADMIN_PASSWORD=bench-admin-password \
    "$BIN" serve >"$TMP/pg.log" 2>&1 &
PID=$!
wait_ready "$BASE"
sleep 1
IDLE_RSS=$(rss_kb "$PID" VmRSS)
UNIONHALL_DATABASE_URL="$PG/$DB" UNIONHALL_JWT_SECRET=bench-secret-bench-secret-bench-secret-0123 \
    UNIONHALL_PII_KEY="$PII_KEY" UNIONHALL_LOG=warn "$BIN" demo >/dev/null
TOKEN=$(curl -fsS "$BASE/v1/auth/token" -H 'Content-Type: application/json' \
    -d '{"grant_type":"password","username":"admin","password":"bench-admin-password"}' | jq -r .access_token)
ROOT=$(curl -fsS "$BASE/v1/me" -H "Authorization: Bearer $TOKEN" | jq -r '.roles[0].org_id')
# Enough organisations that a page of 50 is full.
for i in $(seq 1 60); do
    curl -fsS -o /dev/null "$BASE/v1/orgs" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
        -d "{\"name\":\"基层工会 $i\",\"code\":\"bench-$i\",\"kind\":\"grassroots_union\",\"parent_id\":\"$ROOT\"}"
done

ADMIN_ID=$(psql -Atq "$PG/$DB" -c "SELECT id FROM users WHERE username = 'admin'")
ROOT_PATH=$(psql -Atq "$PG/$DB" -c "SELECT path FROM orgs WHERE parent_id IS NULL")
ROOT_UPPER="${ROOT_PATH%/}0"

# wrk_run PATH: prints "req/s p50_ms p99_ms"
wrk_run() {
    wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency -H "Authorization: Bearer $TOKEN" "$BASE$1" >"$TMP/wrk.out"
    local rps p50 p99
    rps=$(awk '/Requests\/sec/ { print $2 }' "$TMP/wrk.out")
    p50=$(awk '$1 == "50%" { print $2 }' "$TMP/wrk.out")
    p99=$(awk '$1 == "99%" { print $2 }' "$TMP/wrk.out")
    if grep -q "Non-2xx" "$TMP/wrk.out"; then echo "non-2xx answers on $1" >&2; cat "$TMP/wrk.out" >&2; exit 1; fi
    echo "$rps $(to_ms "$p50") $(to_ms "$p99")"
}
to_ms() { python3 -c 'import sys,re; v=sys.argv[1]; n,u=re.match(r"([\d.]+)(\w+)",v).groups(); print(round(float(n)*{"us":0.001,"ms":1,"s":1000}[u],2))' "$1"; }
pgbench_run() {
    pgbench -n -M prepared -c "$CONNECTIONS" -j 2 -T "$DURATION" \
        -D admin_id="$ADMIN_ID" -D root_path="$ROOT_PATH" -D root_upper="$ROOT_UPPER" \
        -f "$1" "$PG/$DB" >"$TMP/pgbench.out" 2>&1 || true
    local tps
    tps=$(awk '/^tps/ { print $3 }' "$TMP/pgbench.out")
    if [[ -z "$tps" ]]; then
        echo "pgbench failed on $1 (too many connections? other tests running?):" >&2
        tail -5 "$TMP/pgbench.out" >&2
        exit 1
    fi
    echo "$tps"
}

read -r HTTP _ _ < <(wrk_run /healthz)
ROWS=()
for path in me orgs; do
    url=/v1/me; [[ $path == orgs ]] && url='/v1/orgs?limit=50'
    read -r SVC P50 P99 < <(wrk_run "$url")
    DBTPS=$(pgbench_run "bench/$path.sql")
    CEIL=$(python3 -c "print(round(1/(1/$DBTPS + 1/$HTTP)))")
    RATIO=$(python3 -c "print(round($SVC/$CEIL, 2))")
    ROWS+=("| \`GET $url\` | $(printf '%.0f' "$SVC") | $(printf '%.0f' "$DBTPS") | $(printf '%.0f' "$HTTP") | $CEIL | **$RATIO** | $P50 | $P99 |")
done
PEAK_RSS=$(rss_kb "$PID" VmHWM)

echo
echo "Date: $(date -u +%Y-%m-%d) · machine: $(nproc) cores, $(free -h | awk '/Mem:/ { print $2 }') RAM · wrk -t2 -c$CONNECTIONS -d${DURATION}s · pgbench -M prepared -c$CONNECTIONS -j2 -T$DURATION"
echo
echo "| Path | service req/s | db tps | http req/s (/healthz) | ceiling | ratio | p50 ms | p99 ms |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
echo
echo "Idle RSS after start-up: $((IDLE_RSS / 1024)) MB · peak RSS under load (VmHWM): $((PEAK_RSS / 1024)) MB · start-up to ready on SQLite (fresh, with migrations): ${STARTUP_MS} ms"
