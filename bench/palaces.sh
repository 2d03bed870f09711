#!/usr/bin/env bash
# UnionHall benchmark, workers' cultural palaces (issue 5): on PostgreSQL with 100 venues
# and a month of bookings, availability requests and booking requests on distinct slots,
# each against its ceiling in the same run (see ../shared/benchmarks.md).
#
#   bash bench/palaces.sh        # DURATION=10 CONNECTIONS=64 by default
#
# 1. Fresh database unionhall_palaces_bench (dropped and re-created, left for
#    inspection); release service on it; `unionhall demo`; via the API a palace of the
#    root union and 100 table-tennis venues (8 tables, 60-minute slots, 08:00–22:00 every
#    day, bookable 31 days ahead, no daily limits, guests allowed); then
#    bench/palaces_load.sql gives the venues deterministic ids and loads a month of
#    bookings (~40 % of units, at most 6 of 8 per slot) with their booking_cells and
#    booking_days rows, exactly as the service writes them.
# 2. The SQL of one availability request and one booking request is captured from
#    PostgreSQL's statement log (a second instance of the service connects as a role
#    with log_statement=all and answers one of each) and checked against
#    bench/palaces_availability.sql and bench/palaces_booking.sql; the run stops if they
#    no longer match.
# 3. Availability: wrk -t2 -cCONNECTIONS with bench/palaces_availability.lua (random
#    venue and date of the month, admin token); db = pgbench on
#    bench/palaces_availability.sql (random venue and date).
# 4. Booking: wrk with bench/palaces_booking.lua, staff (admin) booking 1 unit for a
#    guest, every request a different (venue, slot); any non-201 stops the run. db =
#    pgbench on bench/palaces_booking.sql, every transaction a different (venue, slot)
#    (a per-client counter), committed; collisions with earlier bookings are counted.
# http = GET /healthz under the same wrk settings; ceiling = 1/(1/db + 1/http).
#
# Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth, superuser: the capture
# role and the log file), psql, pgbench, jq, python3; installs wrk if missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-64}
VENUES=100
DAYS=30
PG=${PG:-postgres://postgres@127.0.0.1:5432}
DB=unionhall_palaces_bench
CAPTURE_ROLE=unionhall_palaces_capture
PII_KEY=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
BIN="$CARGO_TARGET_DIR/release/unionhall"
TMP=$(mktemp -d -t unionhall-palaces.XXXXXX)
PID=""
CPID=""
cleanup() {
    [[ -n "$CPID" ]] && kill "$CPID" 2>/dev/null && wait "$CPID" 2>/dev/null || true
    [[ -n "$PID" ]] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
    psql -q "$PG/postgres" -c "DROP ROLE IF EXISTS $CAPTURE_ROLE" >/dev/null 2>&1 || true
    rm -rf "$TMP"
}
trap cleanup EXIT
die() { echo "palaces bench: $*" >&2; exit 1; }
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
TOKEN=$(curl -fsS "$BASE/v1/auth/token" -H 'Content-Type: application/json' \
    -d '{"grant_type":"password","username":"admin","password":"bench-admin-password"}' | jq -r .access_token)
ROOT=$(curl -fsS "$BASE/v1/me" -H "Authorization: Bearer $TOKEN" | jq -r '.roles[0].org_id')
ADMIN_ID=$(sql "SELECT id FROM users WHERE username = 'admin'")

api_post() { # PATH BODY -> response body; dies unless 201
    local code
    code=$(curl -sS -o "$TMP/post.out" -w '%{http_code}' "$BASE$1" -H "Authorization: Bearer $TOKEN" \
        -H 'Content-Type: application/json' -d "$2")
    [[ "$code" == 201 ]] || { cat "$TMP/post.out" >&2; die "POST $1 answered $code"; }
    cat "$TMP/post.out"
}

PALACE=$(api_post /v1/palaces "{\"org_id\":\"$ROOT\",\"name\":\"压测职工文化宫\",
    \"address\":\"九江市浔阳区长虹西大道 1 号\",\"region_code\":\"360402\",
    \"location\":{\"lat\":29.7051,\"lng\":116.0019},\"photos\":[],\"time_zone\":\"Asia/Shanghai\"}" | jq -r .id)
HOURS='[{"from":"08:00","to":"22:00"}]'
for i in $(seq 1 "$VENUES"); do
    api_post "/v1/palaces/$PALACE/venues" "{\"name\":\"乒乓球馆 $i\",\"kind\":\"table_tennis\",\"units\":8,
        \"slot_minutes\":60,\"member_price_fen\":0,\"guest_price_fen\":2000,
        \"opening_hours\":{\"mon\":$HOURS,\"tue\":$HOURS,\"wed\":$HOURS,\"thu\":$HOURS,\"fri\":$HOURS,\"sat\":$HOURS,\"sun\":$HOURS},
        \"booking_rules\":{\"max_days_ahead\":31,\"max_minutes_per_member_per_day\":null,
            \"max_units_per_union_per_day\":null,\"max_units_per_booking\":null,\"members_only\":false}}" >/dev/null
done

# Local (Asia/Shanghai) dates: the month loaded (tomorrow on) and the days bookable.
TOMORROW=$(TZ=Asia/Shanghai date -d tomorrow +%F)
LOAD_DAYS=$(for d in $(seq 0 $((DAYS - 1))); do TZ=Asia/Shanghai date -d "$TOMORROW +$d days" +%F; done | paste -sd,)
BOOK_DAYS=$(for d in $(seq 0 $((DAYS))); do TZ=Asia/Shanghai date -d "$TOMORROW +$d days" +%F; done | paste -sd,)
# Midnight of tomorrow, Asia/Shanghai (UTC+8, no DST), as Unix seconds: pgbench's dates.
DAY0=$(TZ=Asia/Shanghai date -d "$TOMORROW 00:00" +%s)

stage "palace and $VENUES venues created; loading a month of bookings"
T0=$(date +%s%N)
psql -q -v ON_ERROR_STOP=1 -v palace_id="$PALACE" -v admin_id="$ADMIN_ID" -v first_day="$TOMORROW" \
    -v days="$DAYS" -f bench/palaces_load.sql "$PG/$DB" >/dev/null
LOAD_S=$(( ($(date +%s%N) - T0) / 1000000000 ))
read -r NBOOKINGS NHOLDING NCELLS NDAYS FILL < <(sql "SELECT
    (SELECT count(*) FROM bookings), (SELECT count(*) FROM bookings WHERE status = 'booked'),
    (SELECT count(*) FROM booking_cells), (SELECT count(*) FROM booking_days),
    (SELECT round(100.0 * sum(units) / ($VENUES * $DAYS * 14 * 8), 1) FROM bookings WHERE status = 'booked')" | tr '|' ' ')
# The service and the loaded rows must agree on free units.
V0=01900000-0000-7000-8000-000000000000
FREE_API=$(curl -fsS "$BASE/v1/venues/$V0/availability?date=$TOMORROW" -H "Authorization: Bearer $TOKEN" \
    | jq '[.slots[].free_units] | add')
FREE_SQL=$(sql "SELECT 14 * 8 - coalesce(sum(units), 0) FROM bookings WHERE venue_id = '$V0'
    AND local_date = '$TOMORROW' AND status = 'booked'")
[[ "$FREE_API" == "$FREE_SQL" ]] || die "availability says $FREE_API free units on $TOMORROW, the rows $FREE_SQL"

stage "loaded; capturing the requests' SQL"
# --- the requests' SQL, from PostgreSQL's statement log ---------------------------
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
capture() { # NAME CURL-ARGS...: the statements one request runs, in $TMP/NAME.log
    local name=$1 offset
    shift
    offset=$(stat -c %s "$PGLOG")
    curl -fsS -o /dev/null "$@" -H "Authorization: Bearer $TOKEN"
    sleep 1
    tail -c +"$((offset + 1))" "$PGLOG" | grep -F " $CAPTURE_ROLE@$DB " >"$TMP/$name.log" || true
}
capture availability "http://127.0.0.1:$CPORT/v1/venues/$V0/availability?date=$TOMORROW"
LASTDAY=${BOOK_DAYS##*,}
capture booking "http://127.0.0.1:$CPORT/v1/bookings" -H 'Content-Type: application/json' \
    -d "{\"venue_id\":\"01900000-0000-7000-8000-000000000099\",\"start\":\"${LASTDAY}T21:00:00+08:00\",\"end\":\"${LASTDAY}T22:00:00+08:00\",\"units\":1,\"guest_name\":\"压测散客\"}"
kill "$CPID"; wait "$CPID" 2>/dev/null || true; CPID=""
psql -q "$PG/postgres" -c "DROP ROLE IF EXISTS $CAPTURE_ROLE"
check_sql() { # NAME: compare $TMP/NAME.log with bench/palaces_NAME.sql, print the statement count
    python3 - "$TMP/$1.log" "bench/palaces_$1.sql" <<'EOF' || die "bench/palaces_$1.sql no longer matches the SQL the request runs: update it from the captured statements above"
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
# A statement's shape: parameters ($n, :var, :var::type, and the SQL expressions
# bench files build a parameter with) become ?, whitespace collapses.
def norm(s):
    s = re.sub(r"/\*p\*/.*?/\*p\*/", "?", s)  # a parameter a bench file builds with SQL
    s = re.sub(r"to_timestamp\(:[a-z_0-9]+\)", "?", s)
    s = re.sub(r"\('01900000-0000-7000-8000-' \|\| lpad\(:[a-z_0-9]+::text, 12, '0'\)\)::uuid", "?", s)
    s = re.sub(r"(\$\d+)|(:[a-z_0-9]+(::[a-z0-9]+)?)", "?", s)
    return re.sub(r"\s+", " ", s).strip()
try:
    text = "\n".join(l for l in open(bench, encoding="utf-8") if not l.lstrip().startswith(("--", "\\")))
except FileNotFoundError:
    text = ""
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
}
AVAIL_STATEMENTS=$(check_sql availability)
BOOK_STATEMENTS=$(check_sql booking)

# --- load -------------------------------------------------------------------------
to_ms() { python3 -c 'import sys,re; v=sys.argv[1]; n,u=re.match(r"([\d.]+)(\w+)",v).groups(); print(round(float(n)*{"us":0.001,"ms":1,"s":1000}[u],2))' "$1"; }
# wrk_run OUT ARGS...: prints "req/s p50_ms p99_ms"; any non-2xx answer stops the run.
wrk_run() {
    local out=$1
    shift
    PALACES_VENUES=$VENUES PALACES_THREADS=2 wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency \
        -H "Authorization: Bearer $TOKEN" "$@" >"$out" 2>"$out.err"
    local rps p50 p99
    rps=$(awk '/Requests\/sec/ { print $2 }' "$out")
    p50=$(awk '$1 == "50%" { print $2 }' "$out")
    p99=$(awk '$1 == "99%" { print $2 }' "$out")
    if grep -q "Non-2xx" "$out"; then cat "$out" "$out.err" >&2; die "non-2xx answers under wrk $*"; fi
    echo "$rps $(to_ms "$p50") $(to_ms "$p99")"
}
# pgbench_run FILE: prints tps
pgbench_run() {
    pgbench -n -M prepared -c "$CONNECTIONS" -j 2 -T "$DURATION" \
        -D admin_id="$ADMIN_ID" -D day0="$DAY0" -D days="$DAYS" -D venues="$VENUES" -D n=0 \
        -D clients="$CONNECTIONS" -D palace_id="$PALACE" -D one=1 -D zero=0 -D cap=8 -D minutes=60 -D price=2000 -D booked=booked -D cancelled=cancelled -f "$1" "$PG/$DB" >"$TMP/pgbench.out" 2>&1 || true
    local tps
    tps=$(awk '/^tps/ { print $3 }' "$TMP/pgbench.out")
    if [[ -z "$tps" ]] || grep -q "aborted in command" "$TMP/pgbench.out"; then
        tail -5 "$TMP/pgbench.out" >&2
        die "pgbench failed on $1 (too many connections? other tests running?)"
    fi
    echo "$tps"
}
ceiling() { python3 -c "print(round(1/(1/$1 + 1/$2)))"; }
row() { # LABEL SVC DB HTTP P50 P99
    local ceil ratio
    ceil=$(ceiling "$3" "$4")
    ratio=$(python3 -c "print(round($2/$ceil, 2))")
    echo "| $1 | $(printf '%.0f' "$2") | $(printf '%.0f' "$3") | $(printf '%.0f' "$4") | $ceil | **$ratio** | $5 | $6 |"
}

stage "SQL checked; measuring"
read -r HTTP _ _ < <(wrk_run "$TMP/healthz.out" "$BASE/healthz")

export PALACES_DAYS=$LOAD_DAYS
read -r A_SVC A_P50 A_P99 < <(wrk_run "$TMP/avail.out" -s bench/palaces_availability.lua "$BASE/")
A_DB=$(pgbench_run bench/palaces_availability.sql)

BEFORE=$(sql "SELECT count(*) FROM bookings")
export PALACES_DAYS=$BOOK_DAYS
read -r B_SVC B_P50 B_P99 < <(wrk_run "$TMP/book.out" -s bench/palaces_booking.lua "$BASE/")
B_STATUSES=$(awk '/^statuses:/ { $1 = ""; print }' "$TMP/book.out")
B_WRAPPED=$(awk '/^wrapped:/ { print $2 }' "$TMP/book.out")
B_MADE=$(( $(sql "SELECT count(*) FROM bookings") - BEFORE ))
B_DB=$(pgbench_run bench/palaces_booking.sql)
B_DB_TXNS=$(awk '/number of transactions actually processed/ { print $NF }' "$TMP/pgbench.out" | cut -d/ -f1)
# pgbench's bookings are the ones created by nobody's request: created_at within the run
# and guest '压测 pgbench'. A collision is a (venue, slot) it took more than once, or one
# already taken by the wrk run.
read -r PG_MADE PG_COLLIDE OVERFULL < <(sql "SELECT count(*),
    count(*) - count(DISTINCT (venue_id, start_at)),
    (SELECT count(*) FROM booking_cells WHERE booked_units > 8)
    FROM bookings WHERE guest_name = '压测 pgbench'" | tr '|' ' ')
PG_ON_WRK=$(sql "SELECT count(*) FROM bookings p JOIN bookings w ON w.venue_id = p.venue_id
    AND w.start_at = p.start_at AND w.guest_name = '压测散客' WHERE p.guest_name = '压测 pgbench'")
PEAK_RSS=$(rss_kb "$PID" VmHWM)

echo
echo "Date: $(date -u +%Y-%m-%d) · machine: $(nproc) cores, $(free -h | awk '/Mem:/ { print $2 }') RAM · wrk -t2 -c$CONNECTIONS -d${DURATION}s · pgbench -M prepared -c$CONNECTIONS -j2 -T$DURATION"
echo "Data: $VENUES venues × $DAYS days × 14 slots × 8 units; $NBOOKINGS bookings ($NHOLDING holding units: $FILL % of units), $NCELLS booking_cells, $NDAYS booking_days rows; loaded in ${LOAD_S} s"
echo
echo "| Path | service req/s | db tps | http req/s (/healthz) | ceiling | ratio | p50 ms | p99 ms |"
echo "|---|---|---|---|---|---|---|---|"
row "\`GET /v1/venues/{id}/availability?date=\` ($AVAIL_STATEMENTS statements)" "$A_SVC" "$A_DB" "$HTTP" "$A_P50" "$A_P99"
row "\`POST /v1/bookings\` (staff for a guest, distinct slots; $BOOK_STATEMENTS statements)" "$B_SVC" "$B_DB" "$HTTP" "$B_P50" "$B_P99"
echo
echo "Booking run: wrk answers:$B_STATUSES; $B_MADE bookings made; requests past the slot space (wrapped): ${B_WRAPPED:-0}. pgbench: $B_DB_TXNS transactions, $PG_MADE bookings, $PG_COLLIDE on a (venue, slot) it had already taken, $PG_ON_WRK on one the wrk run took, $OVERFULL cells over capacity."
echo "Idle RSS after start-up: $((IDLE_RSS / 1024)) MB · peak RSS under load (VmHWM): $((PEAK_RSS / 1024)) MB"
