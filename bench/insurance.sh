#!/usr/bin/env bash
# UnionHall insurance benchmark (issue 4): one group enrollment of MEMBERS members by
# selector, and the stats over them, on PostgreSQL, against the bulk-path ceiling in the
# same run on the same machine (see ../shared/benchmarks.md). Prints Markdown tables to
# paste into BENCHMARKS.md.
#
#   bash bench/insurance.sh            # MEMBERS=100000 by default
#   REQUEST_TIMEOUT=120 bash bench/insurance.sh   # if the enrollment hits the 30 s default
#   DIAG=1 bash bench/insurance.sh     # also: where the request's time goes (see below)
#
# 1. A fresh database, the release service (PII key, JWT secret, admin password by
#    environment, like bench/run.sh), `unionhall demo`, a new grassroots union
#    (bench-insurance-riders) under the demo's Ji'an gig federation (ja-gig) made through
#    the API, and MEMBERS active gig delivery riders in it loaded by SQL
#    (bench/insurance_members.sql).
# 2. The hospital_allowance plan of the issue through the API, owned by that union:
#    ¥80 premium a share, ¥50 a day beyond 3 days, capped at ¥4,500 a share, a term from
#    30 days ago to 335 days ahead (China time); created as a draft and opened with
#    PATCH + If-Match.
# 3. Timed: POST /v1/insurance/enrollments {plan_id, shares: 1, paid_by: union,
#    selector: {org_id: <the union>}} with the admin token, one request. The report must
#    say MEMBERS enrolled, nobody skipped, and the totals MEMBERS × ¥80 / × ¥4,500; the
#    table must then hold MEMBERS rows of the plan. Also timed: the service's CPU, the
#    CPU of PostgreSQL's backends serving this database, the service's VmHWM after it.
# 4. Timed: GET /v1/insurance/stats?org_id=<the union> (median of 5), checked against
#    the enrollment (members, premiums, coverage).
# 5. Ceiling: psql, `CREATE TABLE insurance_enrollments_copy (LIKE
#    insurance_enrollments INCLUDING ALL)` (columns, defaults, the CHECK on committed_fen,
#    the primary key, uq_insurance_enrollments_plan_member, idx_insurance_enrollments_member;
#    LIKE never copies foreign keys, so the two of insurance_enrollments, plan_id →
#    insurance_plans and member_id → members, are added by ALTER TABLE: the service's
#    insert checks them too), then one timed
#    `INSERT INTO insurance_enrollments_copy SELECT * FROM insurance_enrollments WHERE plan_id = …`:
#    the same rows, into the same shape. Median of 3 (TRUNCATE and CHECKPOINT between),
#    the psql process's wall time (a connection included, as the service's time
#    includes HTTP). For the record, the same without the foreign keys (as LIKE alone
#    gives it).
# 6. Probe, not the figure (PROBE=0 skips it): the first plan's enrollments deleted, the
#    same request to a second instance of the service whose pool reaches PostgreSQL by
#    its Unix socket instead of TCP. sqlx 0.9.0 leaves Nagle's algorithm on for TCP, and
#    each 500-row batch INSERT (a ~79 KB Bind message, sent in 5 writes) then waits for
#    PostgreSQL's delayed ACK (~40 ms) before its last bytes leave; a Unix socket has no
#    Nagle, so the gap between the two rows is what that costs.
#
# DIAG=1 (diagnosis, not the figure): the database is created with
# log_min_duration_statement = 0 (parameters not logged), so every statement the service
# runs is in PostgreSQL's log with its duration; the statements of the enrollment request
# are summed by kind, set against the request's wall time, the gaps between consecutive
# batch INSERTs (result sent → next Bind received) are summed, and the slowest SELECT is
# printed. Logging adds a little to the request's time.
#
# The service keeps its default request timeout (UNIONHALL_REQUEST_TIMEOUT_SECS, 30 s: a
# longer request is answered 503 and rolled back); REQUEST_TIMEOUT=<secs> overrides it,
# and the table says so.
#
# Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth, superuser for DIAG=1 and
# its log file), psql, jq, python3, curl. Uses the database unionhall_insurance_bench
# (dropped and re-created, left for inspection).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

MEMBERS=${MEMBERS:-100000}
DIAG=${DIAG:-0}
PG=${PG:-postgres://postgres@127.0.0.1:5432}
DB=unionhall_insurance_bench
JWT_SECRET=bench-secret-bench-secret-bench-secret-0123
PII_KEY=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
BIN="$CARGO_TARGET_DIR/release/unionhall"
TMP=$(mktemp -d -t unionhall-insurance.XXXXXX)
PID=""
SPID=""
cleanup() {
    [[ -n "$SPID" ]] && kill "$SPID" 2>/dev/null && wait "$SPID" 2>/dev/null || true
    [[ -n "$PID" ]] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT
die() { echo "bench/insurance.sh: $*" >&2; exit 1; }

for tool in psql jq python3 curl; do
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
# CPU ticks of PostgreSQL's backends connected to $DB (the service's pool, whoever else).
pg_ticks() {
    local pids p total=0
    pids=$(psql -Atq "$PG/postgres" -c "SELECT pid FROM pg_stat_activity WHERE datname = '$DB'")
    for p in $pids; do
        [[ -r /proc/$p/stat ]] && total=$((total + $(cpu_ticks "$p")))
    done
    echo "$total"
}
now_ns() { date +%s%N; }
secs() { python3 -c "print(f'{($2 - $1) / 1e9:.3f}')"; }
sql() { psql -Atq -v ON_ERROR_STOP=1 "$PG/$DB" -c "$1"; }
api() {   # api METHOD PATH [JSON] [extra curl args…]: the body on stdout, dies unless 2xx
    local method=$1 path=$2 body=${3:-} status
    shift 3 || shift $#
    status=$(curl -sS -o "$TMP/api.out" -w '%{http_code}' -X "$method" "$BASE$path" \
        -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
        ${body:+--data-binary "$body"} "$@") || die "$method $path: curl failed"
    [[ "$status" == 2* ]] || { head -c 2000 "$TMP/api.out" >&2; echo >&2; die "$method $path: HTTP $status"; }
    cat "$TMP/api.out"
}

# --- 1. the service on a fresh PostgreSQL database, the demo, a union of MEMBERS ----
psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
if [[ "$DIAG" == 1 ]]; then
    PGLOG=${PGLOG:-$(pg_lsclusters --no-header 2>/dev/null | awk '$3 == 5432 { print $7 }')}
    [[ -r "$PGLOG" ]] || die "DIAG=1: can't read PostgreSQL's log file ('$PGLOG'); set PGLOG=/path/to/it"
    psql -q -v ON_ERROR_STOP=1 "$PG/postgres" -c "ALTER DATABASE $DB SET log_min_duration_statement = 0" \
        -c "ALTER DATABASE $DB SET log_parameter_max_length = 0"
fi
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
TOKEN=$(curl -fsS "$BASE/v1/auth/token" -H 'Content-Type: application/json' \
    -d '{"grant_type":"password","username":"admin","password":"bench-admin-password"}' | jq -r .access_token)
[[ -n "$TOKEN" && "$TOKEN" != null ]] || die "no admin token"

GIG_ID=$(sql "SELECT id FROM orgs WHERE code = 'ja-gig'")
[[ -n "$GIG_ID" ]] || die "the demo's gig federation ja-gig is missing"
UNION_ID=$(api POST /v1/orgs \
    "{\"name\":\"吉安市众包骑手工会（压测）\",\"code\":\"bench-insurance-riders\",\"kind\":\"grassroots_union\",\"parent_id\":\"$GIG_ID\"}" |
    jq -r .id)
T0=$(now_ns)
psql -q -v ON_ERROR_STOP=1 -v members="$MEMBERS" -v org_id="$UNION_ID" -f bench/insurance_members.sql "$PG/$DB" >/dev/null
LOAD_SECS=$(secs "$T0" "$(now_ns)")
IN_UNION=$(sql "SELECT count(*) FROM members WHERE org_id = '$UNION_ID' AND status = 'active'")
[[ "$IN_UNION" == "$MEMBERS" ]] || die "active members in the union: $IN_UNION, expected $MEMBERS"
TOTAL_MEMBERS=$(sql "SELECT count(*) FROM members")

# --- 2. the plan of the issue, opened ------------------------------------------------
read -r TERM_START TERM_END < <(python3 -c '
import datetime, zoneinfo
t = datetime.datetime.now(zoneinfo.ZoneInfo("Asia/Shanghai")).date()
print(t - datetime.timedelta(days=30), t + datetime.timedelta(days=335))')
PLAN_BODY=$(jq -nc --arg org "$UNION_ID" --arg start "$TERM_START" --arg stop "$TERM_END" '{
    name: "住院津贴互助保障（压测）", org_id: $org, share_premium_fen: 8000, max_shares: 5,
    term_start: $start, term_end: $stop, waiting_days: 0,
    benefits: {kind: "hospital_allowance", daily_allowance_fen: 5000, deductible_days: 3, term_cap_fen: 450000}}')
PLAN_ID=$(api POST /v1/insurance/plans "$PLAN_BODY" | jq -r .id)
ETAG=$(curl -fsS -D - -o /dev/null "$BASE/v1/insurance/plans/$PLAN_ID" -H "Authorization: Bearer $TOKEN" |
    awk 'tolower($1) == "etag:" { sub("\r", ""); print $2 }')
[[ -n "$ETAG" ]] || die "no ETag on the plan"
STATUS=$(api PATCH "/v1/insurance/plans/$PLAN_ID" '{"status":"open"}' -H "If-Match: $ETAG" | jq -r .status)
[[ "$STATUS" == open ]] || die "the plan is $STATUS, not open"

# --- 3. the group enrollment, one request --------------------------------------------
ENROL_BODY=$(jq -nc --arg plan "$PLAN_ID" --arg org "$UNION_ID" \
    '{plan_id: $plan, shares: 1, paid_by: "union", selector: {org_id: $org}}')
sql "ANALYZE" >/dev/null
sql "CHECKPOINT" >/dev/null
HWM_BEFORE=$(rss_kb "$PID" VmHWM)
[[ "$DIAG" == 1 ]] && LOG_OFFSET=$(stat -c %s "$PGLOG")
C0=$(cpu_ticks "$PID")
P0=$(pg_ticks)
T0=$(now_ns)
HTTP_STATUS=$(curl -sS -o "$TMP/enrol.json" -w '%{http_code}' "$BASE/v1/insurance/enrollments" \
    -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -H "Idempotency-Key: bench-$PLAN_ID" \
    --data-binary "$ENROL_BODY") || die "enrollment: curl failed"
T1=$(now_ns)
ENROL_SECS=$(secs "$T0" "$T1")
ENROL_CPU=$(python3 -c "print(f'{($(cpu_ticks "$PID") - $C0) / $TICK:.2f}')")
ENROL_PG_CPU=$(python3 -c "print(f'{($(pg_ticks) - $P0) / $TICK:.2f}')")
ENROL_HWM=$(rss_kb "$PID" VmHWM)
if [[ "$DIAG" == 1 ]]; then   # the request's statements only, before this script's own
    sleep 1
    tail -c +"$((LOG_OFFSET + 1))" "$PGLOG" | grep -F "@$DB " >"$TMP/statements.log" || true
fi
if [[ "$HTTP_STATUS" != 201 ]]; then
    echo "enrollment: HTTP $HTTP_STATUS after ${ENROL_SECS} s:" >&2
    head -c 2000 "$TMP/enrol.json" >&2; echo >&2
    if [[ "$HTTP_STATUS" == 503 ]] && grep -q "timed out" "$TMP/enrol.json"; then
        echo "The enrollment ran into the service's request timeout (UNIONHALL_REQUEST_TIMEOUT_SECS," \
            "default 30 s) and was rolled back; rerun with REQUEST_TIMEOUT=<secs> to time it anyway." >&2
    fi
    exit 1
fi
GOT=$(jq -r '[.enrolled, (.skipped | length), .total_premium_fen, .total_coverage_fen] | map(tostring) | join(" ")' "$TMP/enrol.json")
WANT="$MEMBERS 0 $((MEMBERS * 8000)) $((MEMBERS * 450000))"
[[ "$GOT" == "$WANT" ]] || die "the report says enrolled/skipped/premium/coverage = $GOT, expected $WANT"
STORED=$(sql "SELECT count(*) FROM insurance_enrollments WHERE plan_id = '$PLAN_ID'")
[[ "$STORED" == "$MEMBERS" ]] || die "enrollments stored: $STORED, expected $MEMBERS"
RESPONSE_BYTES=$(stat -c %s "$TMP/enrol.json")

if [[ "$DIAG" == 1 ]]; then
    python3 - "$TMP/statements.log" "$ENROL_SECS" >"$TMP/diag.txt" <<'EOF'
import re, sys, collections, datetime, statistics
kinds = collections.OrderedDict()
total = 0.0
slowest = (0.0, "")
ins = []          # (start, end) of each INSERT INTO insurance_enrollments, bind to execute
line_re = re.compile(r"^(\S+ \S+) \S+ \[(\d+)\] .*LOG:  duration: ([\d.]+) ms  (execute [^:]*|statement|bind [^:]*|parse [^:]*): (.*)$")
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    m = line_re.search(line)
    if not m:
        continue
    at = datetime.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S.%f").timestamp() * 1000
    ms, step, text = float(m.group(3)), m.group(4).split()[0], m.group(5).strip()
    if text.startswith('INSERT INTO "insurance_enrollments"'):
        if step == "execute" and ins:
            ins[-1][1] = at
        elif not ins or ins[-1][1] is not None:   # a parse, or a bind not after its parse
            ins.append([at - ms, None])
    if step in ("bind", "parse"):
        key = ("parse/bind", "")
    else:
        words = text.split()
        head = " ".join(words[:2]).upper()
        tbl = re.search(r'(?:FROM|INTO|UPDATE)\s+"?(\w+)"?', text, re.I)
        key = (head, tbl.group(1) if tbl else "")
        if text.upper().startswith("SELECT") and ms > slowest[0]:
            slowest = (ms, text)
    n, t = kinds.get(key, (0, 0.0))
    kinds[key] = (n + 1, t + ms)
    total += ms
wall = float(sys.argv[2]) * 1000
print("| statements (PostgreSQL's log, this request) | count | total ms |")
print("|---|---|---|")
for (head, tbl), (n, t) in kinds.items():
    print(f"| {head} … {tbl} | {n} | {t:,.0f} |")
print(f"| **all: time inside PostgreSQL** | | **{total:,.0f}** |")
print(f"| the request's wall time | | {wall:,.0f} |")
# Between one batch INSERT's result and the next one's Bind arriving: the service
# building and sending the next 500 rows (log timestamps are to the millisecond).
gaps = [b[0] - a[1] for a, b in zip(ins, ins[1:]) if a[1] is not None]
if gaps:
    print(f"| between consecutive batch INSERTs (result sent → next Bind received): {len(gaps)} gaps, median {statistics.median(gaps):.0f} ms | | {sum(gaps):,.0f} |")
print("SLOWEST_SELECT_MS", f"{slowest[0]:.0f}")
print("SLOWEST_SELECT", slowest[1])
EOF
fi

# --- 4. the stats ---------------------------------------------------------------------
STATS_RUNS=()
for _ in 1 2 3 4 5; do
    STATS_RUNS+=("$(curl -fsS -o "$TMP/stats.json" -w '%{time_total}' "$BASE/v1/insurance/stats?org_id=$UNION_ID" \
        -H "Authorization: Bearer $TOKEN")")
done
STATS_MS=$(printf '%s\n' "${STATS_RUNS[@]}" | sort -n | sed -n 3p | python3 -c 'print(round(float(input()) * 1000))')
GOT=$(jq -r '[.enrolled_members, .enrollments, .premiums_fen, .coverage_fen] | map(tostring) | join(" ")' "$TMP/stats.json")
WANT="$MEMBERS $MEMBERS $((MEMBERS * 8000)) $((MEMBERS * 450000))"
[[ "$GOT" == "$WANT" ]] || die "the stats say members/enrollments/premiums/coverage = $GOT, expected $WANT"
PLAN_STATS_RUNS=()
for _ in 1 2 3 4 5; do
    PLAN_STATS_RUNS+=("$(curl -fsS -o "$TMP/pstats.json" -w '%{time_total}' \
        "$BASE/v1/insurance/stats?org_id=$UNION_ID&plan_id=$PLAN_ID" -H "Authorization: Bearer $TOKEN")")
done
PLAN_STATS_MS=$(printf '%s\n' "${PLAN_STATS_RUNS[@]}" | sort -n | sed -n 3p | python3 -c 'print(round(float(input()) * 1000))')
[[ "$(jq .enrolled_members "$TMP/pstats.json")" == "$MEMBERS" ]] || die "the plan's stats disagree"
PEAK_RSS=$(rss_kb "$PID" VmHWM)

# --- 5. the ceiling: one INSERT … SELECT of the same rows, in psql -------------------------
INSERT_SQL="INSERT INTO insurance_enrollments_copy SELECT * FROM insurance_enrollments WHERE plan_id = '$PLAN_ID'"
ceiling() {   # ceiling LABEL: three timed loads into the emptied copy; prints the median
    local runs=() t0 t1
    for _ in 1 2 3; do
        sql "TRUNCATE insurance_enrollments_copy" >/dev/null
        sql "CHECKPOINT" >/dev/null
        t0=$(now_ns)
        psql -q -v ON_ERROR_STOP=1 "$PG/$DB" -c "$INSERT_SQL"
        t1=$(now_ns)
        runs+=("$(secs "$t0" "$t1")")
        [[ "$(sql 'SELECT count(*) FROM insurance_enrollments_copy')" == "$MEMBERS" ]] ||
            die "the INSERT … SELECT loaded a different row count"
    done
    echo "$(printf '%s\n' "${runs[@]}" | sort -n | sed -n 2p) ${runs[*]}"
}
sql "DROP TABLE IF EXISTS insurance_enrollments_copy" >/dev/null
sql "CREATE TABLE insurance_enrollments_copy (LIKE insurance_enrollments INCLUDING ALL)" >/dev/null
read -r NOFK_SECS NOFK_RUNS < <(ceiling)
sql "ALTER TABLE insurance_enrollments_copy
         ADD FOREIGN KEY (plan_id) REFERENCES insurance_plans (id),
         ADD FOREIGN KEY (member_id) REFERENCES members (id)" >/dev/null
read -r CEIL_SECS CEIL_RUNS < <(ceiling)
INDEXES=$(sql "SELECT count(*) FROM pg_indexes WHERE tablename = 'insurance_enrollments_copy'")
ORIG_INDEXES=$(sql "SELECT count(*) FROM pg_indexes WHERE tablename = 'insurance_enrollments'")
FKS=$(sql "SELECT count(*) FROM pg_constraint WHERE conrelid = 'insurance_enrollments_copy'::regclass AND contype = 'f'")
ORIG_FKS=$(sql "SELECT count(*) FROM pg_constraint WHERE conrelid = 'insurance_enrollments'::regclass AND contype = 'f'")
[[ "$INDEXES" == "$ORIG_INDEXES" && "$FKS" == "$ORIG_FKS" ]] ||
    die "the copy has $INDEXES indexes / $FKS foreign keys, the table $ORIG_INDEXES / $ORIG_FKS"
sql "DROP TABLE insurance_enrollments_copy" >/dev/null

# --- 6. probe, not the figure: the same enrollment with the service on a Unix socket ----
# The same request to a second instance of the service whose pool connects to PostgreSQL
# through its Unix socket instead of TCP (no Nagle's algorithm there), after deleting the
# first plan's enrollments (so the work is the same: nobody enrolled before). PROBE=0 skips it.
PROBE_SECS=""
SOCKDIR=$(sql "SHOW unix_socket_directories" | cut -d, -f1 | tr -d ' ')
if [[ "${PROBE:-1}" == 1 && -S "$SOCKDIR/.s.PGSQL.5432" ]]; then
    sql "DELETE FROM insurance_enrollments WHERE plan_id = '$PLAN_ID'" >/dev/null
    sql "VACUUM ANALYZE insurance_enrollments" >/dev/null
    SOCK_URL="postgres://postgres@$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$SOCKDIR")/$DB"
    SPORT=$(free_port)
    env "${SERVER_ENV[@]}" UNIONHALL_DATABASE_URL="$SOCK_URL" UNIONHALL_MIGRATE_ON_START=false \
        UNIONHALL_BIND=127.0.0.1:$SPORT UNIONHALL_DATA_DIR="$TMP/sock" UNIONHALL_LOG=warn \
        "$BIN" serve >"$TMP/sock.log" 2>&1 &
    SPID=$!
    wait_ready "http://127.0.0.1:$SPORT"
    sql "CHECKPOINT" >/dev/null
    T0=$(now_ns)
    HTTP_STATUS=$(curl -sS -o "$TMP/probe.json" -w '%{http_code}' "http://127.0.0.1:$SPORT/v1/insurance/enrollments" \
        -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
        --data-binary "$ENROL_BODY") || true
    PROBE_SECS=$(secs "$T0" "$(now_ns)")
    kill "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null || true; SPID=""
    [[ "$HTTP_STATUS" == 201 && "$(jq .enrolled "$TMP/probe.json")" == "$MEMBERS" ]] ||
        die "Unix-socket probe: HTTP $HTTP_STATUS, $(head -c 500 "$TMP/probe.json")"
fi

# --- the report ------------------------------------------------------------------------
ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }
rate() { python3 -c "print(f'{$1 / $2:,.0f}')"; }
mb() { echo $(($1 / 1024)); }
verdict() { python3 -c "print('met' if $1 else '**not met**')"; }
if git rev-parse --git-dir >/dev/null 2>&1; then
    SOURCE="commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- crates migrations || echo ' + uncommitted changes')"
else
    SOURCE="source ${SOURCE_LABEL:-$PWD (not a git checkout)}"
fi
echo
echo "Date: $(date -u +%Y-%m-%d) · $SOURCE" \
    "· machine: $(nproc) cores, $(free -h | awk '/Mem:/ { print $2 }') RAM · PostgreSQL $(sql 'SHOW server_version' | cut -d' ' -f1)" \
    "· MEMBERS=$MEMBERS (of $TOTAL_MEMBERS members in the database; loaded by SQL in ${LOAD_SECS} s)" \
    "· request timeout ${REQUEST_TIMEOUT:-30 (default)} s$([[ "$DIAG" == 1 ]] && echo ' · DIAG=1: every statement logged')"
echo
echo "| Group enrollment (POST /v1/insurance/enrollments, selector over one union, paid_by union) | rows | time s | rows/s | ceiling s | ratio (service ÷ ceiling) | service CPU s | PostgreSQL CPU s | stats ms (org / org+plan, median of 5) | peak RSS (VmHWM), MB | idle RSS, MB |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
echo "| one request, $MEMBERS enrolled, 0 skipped (response $RESPONSE_BYTES bytes) | $MEMBERS | $ENROL_SECS | $(rate "$MEMBERS" "$ENROL_SECS") | $CEIL_SECS | **$(ratio "$ENROL_SECS" "$CEIL_SECS")** | $ENROL_CPU | $ENROL_PG_CPU | $STATS_MS / $PLAN_STATS_MS | $(mb "$ENROL_HWM") (before: $(mb "$HWM_BEFORE"); end of run: $(mb "$PEAK_RSS")) | $(mb "$IDLE_RSS") |"
echo "| ceiling: psql, one \`INSERT INTO insurance_enrollments_copy SELECT * FROM insurance_enrollments WHERE plan_id = …\` (LIKE … INCLUDING ALL: $INDEXES indexes, CHECK; + the $FKS foreign keys LIKE leaves out; median of $CEIL_RUNS s) | $MEMBERS | $CEIL_SECS | $(rate "$MEMBERS" "$CEIL_SECS") | $CEIL_SECS | 1 | | | | | |"
echo "| for the record: the same without the foreign keys (LIKE … INCLUDING ALL alone; median of $NOFK_RUNS s) | $MEMBERS | $NOFK_SECS | $(rate "$MEMBERS" "$NOFK_SECS") | | $(ratio "$ENROL_SECS" "$NOFK_SECS") | | | | | |"
if [[ -n "$PROBE_SECS" ]]; then
    echo "| probe: the same request, the service's pool on PostgreSQL's Unix socket instead of TCP | $MEMBERS | $PROBE_SECS | $(rate "$MEMBERS" "$PROBE_SECS") | $CEIL_SECS | $(ratio "$PROBE_SECS" "$CEIL_SECS") | | | | | |"
fi
echo
echo "| Target (issue 4) | Result |"
echo "|---|---|"
echo "| group enrollment of $MEMBERS ≤ 3 × the INSERT … SELECT | $(verdict "$ENROL_SECS <= 3 * $CEIL_SECS") ($(ratio "$ENROL_SECS" "$CEIL_SECS") ×) |"
if [[ "$DIAG" == 1 ]]; then
    echo
    grep -v '^SLOWEST' "$TMP/diag.txt"
    SLOW_MS=$(awk '$1 == "SLOWEST_SELECT_MS" { print $2 }' "$TMP/diag.txt")
    echo
    echo "Slowest SELECT of the request (${SLOW_MS} ms in the log):"
    sed -n 's/^SLOWEST_SELECT //p' "$TMP/diag.txt" | cut -c1-600
fi
