#!/usr/bin/env bash
# UnionHall roster benchmark (issue 3): bulk roster syncs and the member list on
# PostgreSQL, each against its ceiling in the same run on the same machine (see
# ../shared/benchmarks.md). Prints Markdown tables to paste into BENCHMARKS.md.
#
#   bash bench/roster.sh         # ROWS=100000 MEMBERS=1000000 DURATION=10 CONNECTIONS=64
#
# About 2½ minutes after the release build on 2 cores (a minute of it loading members).
#
# 1. Roster sync. bench/roster_gen.py writes a ROWS-rider NDJSON snapshot and a third
#    one (the same less 5% of riders, 10% of the rest changed). A platform is registered
#    through the API (admin token) for the demo union ja-meituan-riders, auto_enrol=false
#    (AUTO_ENROL=true to include enrolment: then the work is no longer comparable with
#    the COPY of riders alone), and synced with its own client_credentials token:
#    PUT /v1/platforms/{code}/roster, application/x-ndjson, first (all created), again
#    (all unchanged), then the third snapshot (updated, deactivated). Each report's
#    counts are checked; a wrong count or a non-200 stops the run. Ceiling: the riders
#    the first sync stored, exported with \copy, loaded by psql's `\copy … FROM` into
#    riders_copy (LIKE riders INCLUDING ALL, plus the same foreign keys); median of 3.
#    Figures: wall time, rows/s, time ÷ COPY time, the service's CPU time, its VmHWM.
#    The service keeps its default request timeout (UNIONHALL_REQUEST_TIMEOUT_SECS, 30 s:
#    a longer sync answers 503 and is rolled back) and roster body limit (64 MiB);
#    REQUEST_TIMEOUT=<secs> overrides the timeout, and the table says so.
# 2. Member list. bench/members_load.sql adds MEMBERS members in SQL across the demo's
#    city subtrees; wrk -t2 -cCONNECTIONS on GET /v1/members?org_id=<吉安市总工会>&limit=50
#    with an admin token; ceiling 1/(1/db + 1/http) with db = pgbench on bench/members.sql
#    (the request's own SQL) and http = GET /healthz under the same wrk settings. The
#    SQL is re-captured from PostgreSQL's statement log on every run (a second instance
#    of the service, connected as a role with log_statement=all, answers one request;
#    PGLOG=<file> if pg_lsclusters can't tell where the log is) and the run stops if
#    bench/members.sql no longer matches it. Then a probe, not a target: the same list
#    for a new union holding 20 of the members, one request at a time.
#
# Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth, superuser: the capture
# role and the log file), psql, pgbench, jq, python3; installs wrk if missing.
# Uses the database unionhall_roster_bench (dropped and re-created, left for inspection).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

ROWS=${ROWS:-100000}
MEMBERS=${MEMBERS:-1000000}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-64}
AUTO_ENROL=${AUTO_ENROL:-false}
PG=${PG:-postgres://postgres@127.0.0.1:5432}
DB=unionhall_roster_bench
CAPTURE_ROLE=unionhall_roster_capture
JWT_SECRET=bench-secret-bench-secret-bench-secret-0123
# PII_KEY=<64 hex characters> fixes the key, so the database left behind can be served
# again afterwards (for a profile, say); by default every run draws its own.
PII_KEY=${PII_KEY:-$(python3 -c 'import secrets; print(secrets.token_hex(32))')}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
BIN="$CARGO_TARGET_DIR/release/unionhall"
TMP=$(mktemp -d -t unionhall-roster.XXXXXX)
PID=""
CPID=""
cleanup() {
    [[ -n "$CPID" ]] && kill "$CPID" 2>/dev/null && wait "$CPID" 2>/dev/null || true
    [[ -n "$PID" ]] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
    psql -q "$PG/postgres" -c "DROP ROLE IF EXISTS $CAPTURE_ROLE" >/dev/null 2>&1 || true
    rm -rf "$TMP"
}
trap cleanup EXIT
die() { echo "bench/roster.sh: $*" >&2; exit 1; }

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
for tool in pgbench psql jq python3 curl; do
    command -v "$tool" >/dev/null || die "$tool is required"
done
pg_isready -q -h 127.0.0.1 -p 5432 || pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start

cargo build --release -q -p unionhall-api

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
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }   # user + system, all threads
TICK=$(getconf CLK_TCK)
now_ns() { date +%s%N; }
secs() { python3 -c "print(f'{($2 - $1) / 1e9:.2f}')" ; }
sql() { psql -Atq -v ON_ERROR_STOP=1 "$PG/$DB" -c "$1"; }
admin_token() {
    curl -fsS "$BASE/v1/auth/token" -H 'Content-Type: application/json' \
        -d '{"grant_type":"password","username":"admin","password":"bench-admin-password"}' | jq -r .access_token
}

# --- the service on a fresh PostgreSQL database, with the demo data ----------------
psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
SERVER_ENV=(UNIONHALL_DATABASE_URL="$PG/$DB" UNIONHALL_JWT_SECRET="$JWT_SECRET" UNIONHALL_PII_KEY="$PII_KEY"
    UNIONHALL_ADMIN_PASSWORD=bench-admin-password)
if [[ -n "${REQUEST_TIMEOUT:-}" ]]; then SERVER_ENV+=(UNIONHALL_REQUEST_TIMEOUT_SECS="$REQUEST_TIMEOUT"); fi
PORT=$(free_port)
BASE=http://127.0.0.1:$PORT
env "${SERVER_ENV[@]}" UNIONHALL_BIND=127.0.0.1:$PORT UNIONHALL_DATA_DIR="$TMP/pg" \
    "$BIN" serve >"$TMP/pg.log" 2>&1 &
PID=$!
wait_ready "$BASE"
sleep 1
IDLE_RSS=$(rss_kb "$PID" VmRSS)
env "${SERVER_ENV[@]}" UNIONHALL_LOG=warn "$BIN" demo >/dev/null
TOKEN=$(admin_token)
UNION_ID=$(sql "SELECT id FROM orgs WHERE code = 'ja-meituan-riders'")
[[ -n "$UNION_ID" ]] || die "the demo union ja-meituan-riders is missing"

# --- 1. roster syncs ---------------------------------------------------------------
python3 bench/roster_gen.py "$TMP/roster" "$ROWS" >"$TMP/expect.json"
CHANGED=$(jq .changed "$TMP/expect.json")
REMOVED=$(jq .removed "$TMP/expect.json")
ROWS3=$(jq .snapshot3_rows "$TMP/expect.json")

PCODE=bench-roster
curl -fsS "$BASE/v1/platforms" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    -d "{\"code\":\"$PCODE\",\"name\":\"美团外卖（吉安）压测\",\"org_id\":\"$UNION_ID\",\"auto_enrol\":$AUTO_ENROL}" \
    >"$TMP/platform.json"
PLATFORM_ID=$(jq -r .id "$TMP/platform.json")
PTOKEN=$(curl -fsS "$BASE/v1/auth/token" -H 'Content-Type: application/json' \
    -d "$(jq -c '{grant_type: "client_credentials", client_id, client_secret}' "$TMP/platform.json")" |
    jq -r .access_token)

# sync NAME FILE "received created updated unchanged deactivated rejected":
# one timed PUT; sets SYNC_SECS (wall), SYNC_CPU (the service's CPU seconds) and
# SYNC_HWM (VmHWM after it, kB); stops the run unless the report says exactly that.
sync() {
    local name=$1 file=$2 want=$3 status t0 t1 c0 got
    sql "CHECKPOINT" >/dev/null
    c0=$(cpu_ticks "$PID")
    t0=$(now_ns)
    status=$(curl -sS -o "$TMP/$name.json" -w '%{http_code}' -X PUT "$BASE/v1/platforms/$PCODE/roster" \
        -H "Authorization: Bearer $PTOKEN" -H 'Content-Type: application/x-ndjson' \
        --data-binary @"$file") || die "$name: curl failed"
    t1=$(now_ns)
    SYNC_SECS=$(secs "$t0" "$t1")
    SYNC_CPU=$(python3 -c "print(f'{($(cpu_ticks "$PID") - $c0) / $TICK:.2f}')")
    SYNC_HWM=$(rss_kb "$PID" VmHWM)
    if [[ "$status" != 200 ]]; then
        echo "$name: HTTP $status after ${SYNC_SECS} s:" >&2
        head -c 2000 "$TMP/$name.json" >&2; echo >&2
        if [[ "$status" == 503 ]] && grep -q "timed out" "$TMP/$name.json"; then
            echo "The sync ran into the service's request timeout (UNIONHALL_REQUEST_TIMEOUT_SECS," \
                "default 30 s) and was rolled back; rerun with REQUEST_TIMEOUT=<secs> to time it anyway." >&2
        fi
        exit 1
    fi
    got=$(jq -r '[.received, .created, .updated, .unchanged, .deactivated, .rejected] | map(tostring) | join(" ")' "$TMP/$name.json")
    if [[ "$got" != "$want" ]]; then
        echo "$name: the report says received/created/updated/unchanged/deactivated/rejected = $got," \
            "expected $want" >&2
        jq -c '.errors[:5]' "$TMP/$name.json" >&2
        exit 1
    fi
}

sync first "$TMP/roster/snapshot1.ndjson" "$ROWS $ROWS 0 0 0 0"
FIRST_SECS=$SYNC_SECS FIRST_CPU=$SYNC_CPU FIRST_HWM=$SYNC_HWM
FIRST_ENROLLED=$(jq .enrolled "$TMP/first.json")

# Ceiling: the same rows, loaded by PostgreSQL alone into a table like riders.
STORED=$(sql "SELECT count(*) FROM riders WHERE platform_id = '$PLATFORM_ID'")
[[ "$STORED" == "$ROWS" ]] || die "riders stored: $STORED, expected $ROWS"
psql -q -v ON_ERROR_STOP=1 "$PG/$DB" \
    -c "\\copy (SELECT * FROM riders WHERE platform_id = '$PLATFORM_ID') TO '$TMP/riders.copy'" \
    -c "DROP TABLE IF EXISTS riders_copy" \
    -c "CREATE TABLE riders_copy (LIKE riders INCLUDING ALL)" \
    -c "ALTER TABLE riders_copy ADD FOREIGN KEY (platform_id) REFERENCES platforms (id),
                                ADD FOREIGN KEY (member_id) REFERENCES members (id)"
# Three loads into the emptied table; the median is the ceiling (the machine is shared).
COPY_RUNS=()
for _ in 1 2 3; do
    sql "TRUNCATE riders_copy" >/dev/null
    sql "CHECKPOINT" >/dev/null
    T0=$(now_ns)
    psql -q -v ON_ERROR_STOP=1 "$PG/$DB" -c "\\copy riders_copy FROM '$TMP/riders.copy'"
    T1=$(now_ns)
    COPY_RUNS+=("$(secs "$T0" "$T1")")
    [[ "$(sql 'SELECT count(*) FROM riders_copy')" == "$ROWS" ]] || die "COPY loaded a different row count"
done
COPY_SECS=$(printf '%s\n' "${COPY_RUNS[@]}" | sort -n | sed -n 2p)
INDEXES=$(sql "SELECT count(*) FROM pg_indexes WHERE tablename = 'riders_copy'")
sql "DROP TABLE riders_copy"
rm -f "$TMP/riders.copy"

sync unchanged "$TMP/roster/snapshot1.ndjson" "$ROWS 0 0 $ROWS 0 0"
UNCHANGED_SECS=$SYNC_SECS UNCHANGED_CPU=$SYNC_CPU UNCHANGED_HWM=$SYNC_HWM
sync changed "$TMP/roster/snapshot3.ndjson" "$ROWS3 0 $CHANGED $((ROWS3 - CHANGED)) $REMOVED 0"
CHANGED_SECS=$SYNC_SECS CHANGED_CPU=$SYNC_CPU CHANGED_HWM=$SYNC_HWM
SYNC_RSS=$SYNC_HWM
INACTIVE=$(sql "SELECT count(*) FROM riders WHERE platform_id = '$PLATFORM_ID' AND status = 'inactive'")
[[ "$INACTIVE" == "$REMOVED" ]] || die "inactive riders: $INACTIVE, expected $REMOVED"

# --- 2. member list over MEMBERS members ----------------------------------------------
T0=$(now_ns)
psql -q -v ON_ERROR_STOP=1 -v members="$MEMBERS" -f bench/members_load.sql "$PG/$DB" >/dev/null
LOAD_SECS=$(secs "$T0" "$(now_ns)")
TOTAL_MEMBERS=$(sql "SELECT count(*) FROM members")
ADMIN_ID=$(sql "SELECT id FROM users WHERE username = 'admin'")
ROOT_PATH=$(sql "SELECT path FROM orgs WHERE parent_id IS NULL")
ROOT_UPPER="${ROOT_PATH%/}0"
CITY_ID=$(sql "SELECT id FROM orgs WHERE code = 'ja'")
CITY_PATH=$(sql "SELECT path FROM orgs WHERE code = 'ja'")
CITY_UPPER="${CITY_PATH%/}0"
CITY_MEMBERS=$(sql "SELECT count(*) FROM members m JOIN orgs o ON o.id = m.org_id
                    WHERE o.path >= '$CITY_PATH' AND o.path < '$CITY_UPPER'")
LIST_URL="/v1/members?org_id=$CITY_ID&limit=50"
TOKEN=$(admin_token)
ITEMS=$(curl -fsS "$BASE$LIST_URL" -H "Authorization: Bearer $TOKEN" | jq '.items | length')
[[ "$ITEMS" == 50 ]] || die "the member list answered $ITEMS items, expected 50"

# The request's SQL, from PostgreSQL's statement log: a second instance of the service
# connects as a role whose sessions log every statement, and answers one request.
PGLOG=${PGLOG:-$(pg_lsclusters --no-header 2>/dev/null | awk '$3 == 5432 { print $7 }')}
[[ -r "$PGLOG" ]] || die "can't read PostgreSQL's log file ('$PGLOG'); set PGLOG=/path/to/it"
psql -q -v ON_ERROR_STOP=1 "$PG/postgres" -c "DROP ROLE IF EXISTS $CAPTURE_ROLE" \
    -c "CREATE ROLE $CAPTURE_ROLE LOGIN SUPERUSER" -c "ALTER ROLE $CAPTURE_ROLE SET log_statement = 'all'"
CPORT=$(free_port)
env "${SERVER_ENV[@]}" UNIONHALL_DATABASE_URL="postgres://$CAPTURE_ROLE@127.0.0.1:5432/$DB" \
    UNIONHALL_MIGRATE_ON_START=false UNIONHALL_BIND=127.0.0.1:$CPORT UNIONHALL_DATA_DIR="$TMP/capture" \
    UNIONHALL_LOG=warn "$BIN" serve >"$TMP/capture.log" 2>&1 &
CPID=$!
wait_ready "http://127.0.0.1:$CPORT"
sleep 1
OFFSET=$(stat -c %s "$PGLOG")
curl -fsS -o /dev/null "http://127.0.0.1:$CPORT$LIST_URL" -H "Authorization: Bearer $TOKEN"
sleep 1
kill "$CPID"; wait "$CPID" 2>/dev/null || true; CPID=""
tail -c +"$((OFFSET + 1))" "$PGLOG" | grep -F " $CAPTURE_ROLE@$DB " >"$TMP/statements.log" || true
psql -q "$PG/postgres" -c "DROP ROLE IF EXISTS $CAPTURE_ROLE"
python3 - "$TMP/statements.log" bench/members.sql >"$TMP/sqlcheck.out" <<'EOF' || { cat "$TMP/sqlcheck.out" >&2; die "bench/members.sql no longer matches the SQL GET /v1/members runs: update it from the captured statements above"; }
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
norm = lambda s: re.sub(r"\s+", " ", re.sub(r"(\$\d+)|(:[a-z_]+(::[a-z0-9]+)?)", "?", s)).strip()
text = "\n".join(l for l in open(bench, encoding="utf-8") if not l.lstrip().startswith(("--", "\\")))
ours = [s.strip() for s in text.split(";\n") if s.strip()]
ours = [s.rstrip(";") for s in ours]
if [norm(s) for s in captured] != [norm(s) for s in ours]:
    print("captured from PostgreSQL's log (with $n parameters):")
    for s, p in zip(captured, params):
        print("  " + s + ";" + ("\n    -- " + p if p else ""))
    print("bench/members.sql has:")
    for s in ours:
        print("  " + s + ";")
    sys.exit(1)
print(len(captured))
EOF
STATEMENTS=$(cat "$TMP/sqlcheck.out")

# The list query's own plan and time, for the record.
sed -n 's/^SELECT \(.*FROM "members".*\)/EXPLAIN (ANALYZE, BUFFERS) SELECT \1/p' bench/members.sql |
    psql -Atq "$PG/$DB" -v admin_id="'$ADMIN_ID'" -v root_path="'$ROOT_PATH'" -v root_upper="'$ROOT_UPPER'" \
        -v city_id="'$CITY_ID'" -v city_path="'$CITY_PATH'" -v city_upper="'$CITY_UPPER'" \
        -v one=1 -v zero=0 -v page=51 >"$TMP/plan.txt" 2>&1 || true
LIST_PLAN_MS=$(awk '/Execution Time/ { print $3 }' "$TMP/plan.txt")

to_ms() { python3 -c 'import sys,re; v=sys.argv[1]; n,u=re.match(r"([\d.]+)(\w+)",v).groups(); print(round(float(n)*{"us":0.001,"ms":1,"s":1000}[u],2))' "$1"; }
wrk_run() {
    wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency -H "Authorization: Bearer $TOKEN" "$BASE$1" >"$TMP/wrk.out"
    local rps p50 p99
    rps=$(awk '/Requests\/sec/ { print $2 }' "$TMP/wrk.out")
    p50=$(awk '$1 == "50%" { print $2 }' "$TMP/wrk.out")
    p99=$(awk '$1 == "99%" { print $2 }' "$TMP/wrk.out")
    if grep -q "Non-2xx" "$TMP/wrk.out"; then echo "non-2xx answers on $1" >&2; cat "$TMP/wrk.out" >&2; exit 1; fi
    echo "$rps $(to_ms "$p50") $(to_ms "$p99")"
}
pgbench_run() {
    pgbench -n -M prepared -c "$CONNECTIONS" -j 2 -T "$DURATION" \
        -D admin_id="$ADMIN_ID" -D root_path="$ROOT_PATH" -D root_upper="$ROOT_UPPER" \
        -D city_id="$CITY_ID" -D city_path="$CITY_PATH" -D city_upper="$CITY_UPPER" \
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
TOKEN=$(admin_token)
read -r HTTP _ _ < <(wrk_run /healthz)
read -r SVC P50 P99 < <(wrk_run "$LIST_URL")
DBTPS=$(pgbench_run bench/members.sql)
CEIL=$(python3 -c "print(round(1/(1/$DBTPS + 1/$HTTP)))")
RATIO=$(python3 -c "print(round($SVC/$CEIL, 2))")
PEAK_RSS=$(rss_kb "$PID" VmHWM)

# --- a probe, not a target: the list of a small union among MEMBERS members -----------
# A new grassroots union under the Ji'an gig federation, given the 20 newest members.
GIG_ID=$(sql "SELECT id FROM orgs WHERE code = 'ja-gig'")
SMALL_ID=$(curl -fsS "$BASE/v1/orgs" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    -d "{\"name\":\"吉州区配送站工会\",\"code\":\"bench-small\",\"kind\":\"grassroots_union\",\"parent_id\":\"$GIG_ID\"}" |
    jq -r .id)
sql "UPDATE members SET org_id = '$SMALL_ID' WHERE id IN (SELECT id FROM members ORDER BY id DESC LIMIT 20)" >/dev/null
SMALL_RUNS=()
for _ in 1 2 3 4 5; do
    SMALL_RUNS+=("$(curl -fsS -o "$TMP/small.json" -w '%{time_total}' "$BASE/v1/members?org_id=$SMALL_ID&limit=50" \
        -H "Authorization: Bearer $TOKEN")")
done
[[ "$(jq '.items | length' "$TMP/small.json")" == 20 ]] || die "the small union's list is not its 20 members"
SMALL_MS=$(printf '%s\n' "${SMALL_RUNS[@]}" | sort -n | sed -n 3p | python3 -c 'print(round(float(input()) * 1000))')
SMALL_PATH=$(sql "SELECT path FROM orgs WHERE id = '$SMALL_ID'")
sed -n 's/^SELECT \(.*FROM "members".*\)/EXPLAIN ANALYZE SELECT \1/p' bench/members.sql |
    psql -Atq "$PG/$DB" -v root_path="'$ROOT_PATH'" -v root_upper="'$ROOT_UPPER'" \
        -v city_path="'$SMALL_PATH'" -v city_upper="'${SMALL_PATH%/}0'" \
        -v one=1 -v zero=0 -v page=51 >"$TMP/small-plan.txt" 2>&1 || true
SMALL_SCANNED=$(awk '/Index Scan using members_pkey/ { for (i = 1; i <= NF; i++) if ($i ~ /^rows=/) r = $i } END { sub("rows=", "", r); print r }' "$TMP/small-plan.txt")

# --- the report ----------------------------------------------------------------------
ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }
rate() { python3 -c "print(f'{$1 / $2:,.0f}')"; }
mb() { echo $(($1 / 1024)); }
counts() { jq -r '[.received, .created, .updated, .unchanged, .deactivated] | map(tostring) | join(" / ")' "$TMP/$1.json"; }
verdict() { python3 -c "print('met' if $1 else '**not met**')"; }
echo
if git rev-parse --git-dir >/dev/null 2>&1; then
    SOURCE="commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- crates migrations || echo ' + uncommitted changes')"
else
    SOURCE="source ${SOURCE_LABEL:-$PWD (not a git checkout)}"
fi
echo "Date: $(date -u +%Y-%m-%d) · $SOURCE" \
    "· machine: $(nproc) cores, $(free -h | awk '/Mem:/ { print $2 }') RAM · PostgreSQL $(sql 'SHOW server_version' | cut -d' ' -f1)" \
    "· ROWS=$ROWS MEMBERS=$MEMBERS · platform auto_enrol=$AUTO_ENROL · request timeout ${REQUEST_TIMEOUT:-30 (default)} s"
echo
echo "| Roster sync (PUT …/roster, NDJSON, platform token) | rows | time s | rows/s | ÷ COPY time | service CPU s | VmHWM after, MB | received / created / updated / unchanged / deactivated |"
echo "|---|---|---|---|---|---|---|---|"
echo "| first sync (all created) | $ROWS | $FIRST_SECS | $(rate "$ROWS" "$FIRST_SECS") | **$(ratio "$FIRST_SECS" "$COPY_SECS")** | $FIRST_CPU | $(mb "$FIRST_HWM") | $(counts first) |"
echo "| same snapshot again (all unchanged) | $ROWS | $UNCHANGED_SECS | $(rate "$ROWS" "$UNCHANGED_SECS") | **$(ratio "$UNCHANGED_SECS" "$COPY_SECS")** | $UNCHANGED_CPU | $(mb "$UNCHANGED_HWM") | $(counts unchanged) |"
echo "| 10% changed, 5% missing | $ROWS3 | $CHANGED_SECS | $(rate "$ROWS3" "$CHANGED_SECS") | $(ratio "$CHANGED_SECS" "$COPY_SECS") | $CHANGED_CPU | $(mb "$CHANGED_HWM") | $(counts changed) |"
echo "| ceiling: psql \`\\copy riders_copy FROM\` (same rows, same $INDEXES indexes and foreign keys; median of ${COPY_RUNS[*]} s) | $ROWS | $COPY_SECS | $(rate "$ROWS" "$COPY_SECS") | 1 | | | |"
echo
echo "Service RSS: idle after start-up $(mb "$IDLE_RSS") MB · peak (VmHWM) over the three syncs **$(mb "$SYNC_RSS") MB**," \
    "at the end of the run $(mb "$PEAK_RSS") MB."
if [[ "$AUTO_ENROL" == true ]]; then echo "The first sync enrolled $FIRST_ENROLLED consenting riders as members."; fi
echo
echo "Member list over $TOTAL_MEMBERS members ($CITY_MEMBERS in the city's subtree; loaded by SQL in ${LOAD_SECS} s)," \
    "wrk -t2 -c$CONNECTIONS -d${DURATION}s · pgbench -M prepared -c$CONNECTIONS -j2 -T$DURATION on bench/members.sql" \
    "($STATEMENTS statements, as captured from the statement log this run) · the list query alone (EXPLAIN ANALYZE): ${LIST_PLAN_MS:-?} ms"
echo
echo "| Path | service req/s | db tps | http req/s (/healthz) | ceiling | ratio | p50 ms | p99 ms |"
echo "|---|---|---|---|---|---|---|---|"
echo "| \`GET /v1/members?org_id=<吉安市总工会>&limit=50\` | $(printf '%.0f' "$SVC") | $(printf '%.0f' "$DBTPS") | $(printf '%.0f' "$HTTP") | $CEIL | **$RATIO** | $P50 | $P99 |"
echo
echo "Probe, not a target: the same list for a union with 20 of the $TOTAL_MEMBERS members, one request at a time:" \
    "median ${SMALL_MS} ms; its list query walks ${SMALL_SCANNED:-?} rows of members_pkey."
echo
echo "| Target (issue 3) | Result |"
echo "|---|---|"
echo "| first sync ≤ 3 × COPY time | $(verdict "$FIRST_SECS <= 3 * $COPY_SECS") ($(ratio "$FIRST_SECS" "$COPY_SECS") ×) |"
echo "| unchanged resync ≤ COPY time | $(verdict "$UNCHANGED_SECS <= $COPY_SECS") ($(ratio "$UNCHANGED_SECS" "$COPY_SECS") ×) |"
echo "| peak RSS ≤ 300 MB | $(verdict "$SYNC_RSS <= 300 * 1024") ($(mb "$SYNC_RSS") MB) |"
echo "| member list ≥ 0.5 of its ceiling at $CONNECTIONS connections | $(verdict "$RATIO >= 0.5") ($RATIO) |"
