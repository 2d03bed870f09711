#!/usr/bin/env bash
# Instructions the service spends per request (user space), counted by callgrind: a
# figure that, unlike req/s on a shared machine, is the same from run to run, for
# comparing two builds. Not a ceiling ratio (bench/run.sh is that); a microscope.
#
#   bash bench/instructions.sh            # GET /v1/me and GET /v1/orgs?limit=50 (page kept,
#                                         # and every page built), N=200 each
#
# Same data as bench/run.sh (the demo plus 60 organisations, so a page of 50 is full), on
# PostgreSQL at 127.0.0.1:5432, one worker. For each path it runs the service under
# callgrind twice, once with a warm-up only and once with N more requests on one
# keep-alive connection, and prints (total difference) / N. Installs valgrind if missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

N=${N:-200}
PG=${PG:-postgres://postgres@127.0.0.1:5432}
DB=unionhall_bench_instructions
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
BIN=${BIN:-"$CARGO_TARGET_DIR/release/unionhall"}
TMP=$(mktemp -d -t unionhall-instructions.XXXXXX)
PID=""
cleanup() {
    [[ -n "$PID" ]] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT
NAME=instructions
source bench/lib.sh

command -v valgrind >/dev/null || { apt-get update -qq && apt-get install -y -qq valgrind >/dev/null; }
pg_isready -q -h 127.0.0.1 -p 5432 || pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
[ -n "${SKIP_BUILD:-}" ] || cargo build --release -q -p unionhall-api

PORT=$(free_port)
BASE=http://127.0.0.1:$PORT
export UNIONHALL_BIND=127.0.0.1:$PORT UNIONHALL_DATABASE_URL="$PG/$DB" UNIONHALL_DATA_DIR="$TMP/data" \
    UNIONHALL_JWT_SECRET=bench-secret-bench-secret-bench-secret-0123 \
    UNIONHALL_PII_KEY=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff \
    UNIONHALL_ADMIN_PASSWORD=bench-admin-password UNIONHALL_LOG=warn UNIONHALL_WORKERS=1

# Under callgrind start-up takes seconds, not milliseconds.
wait_slow() {
    for _ in $(seq 1 1200); do curl -fs -o /dev/null "$BASE/readyz" && return 0; sleep 0.1; done
    die "the server under callgrind did not become ready"
}

# --- the data: the demo plus 60 organisations --------------------------------------
psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
"$BIN" serve >"$TMP/setup.log" 2>&1 &
PID=$!
wait_ready "$BASE"
"$BIN" demo >/dev/null
add_unions "$BASE" "$(admin_token "$BASE")" 60
kill "$PID"; wait "$PID" || true; PID=""

# total_instructions PATH COUNT [ENV...]: the whole run's instructions, COUNT requests
# after 20 warm-up ones, the service started with ENV (NAME=value ...) added.
total_instructions() {
    env "${@:3}" valgrind --tool=callgrind --callgrind-out-file="$TMP/cg.out" "$BIN" serve >"$TMP/cg.log" 2>&1 &
    PID=$!
    wait_slow
    python3 - "$BASE" "$1" "$2" <<'PY'
import http.client, json, sys, urllib.parse
base, path, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
host = urllib.parse.urlparse(base)
c = http.client.HTTPConnection(host.hostname, host.port, timeout=120)
c.request("POST", "/v1/auth/token", json.dumps({"grant_type": "password", "username": "admin",
          "password": "bench-admin-password"}), {"Content-Type": "application/json"})
token = json.loads(c.getresponse().read())["access_token"]
for _ in range(20 + count):
    c.request("GET", path, headers={"Authorization": "Bearer " + token})
    r = c.getresponse(); r.read()
    if r.status != 200: sys.exit(f"{path}: {r.status}")
PY
    kill -INT "$PID"; wait "$PID" || true; PID=""
    callgrind_annotate "$TMP/cg.out" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }'
}

echo
echo "Date: $(date -u +%Y-%m-%d) · commit $(git rev-parse --short HEAD) · callgrind, one worker, N=$N"
echo
echo "| Path | instructions per request |"
echo "|---|---|"
# count_row LABEL PATH [ENV...]: a table row of instructions per request.
count_row() {
    local base more
    base=$(total_instructions "$2" 0 "${@:3}")
    more=$(total_instructions "$2" "$N" "${@:3}")
    echo "| $1 | $(( (more - base) / N )) |"
}
count_row '`GET /v1/me`' /v1/me
# The warm-up builds the page; the counted requests are served the kept one.
count_row '`GET /v1/orgs?limit=50`, page kept' '/v1/orgs?limit=50'
count_row '`GET /v1/orgs?limit=50`, every page built' '/v1/orgs?limit=50' UNIONHALL_ORG_PAGE_CACHE_ENTRIES=0
psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)"
