#!/usr/bin/env bash
# UnionHall benchmark, the knowledge quiz (issue 6): on PostgreSQL, MEMBERS members
# (300,000) each start and submit one 20-question attempt. Prints the starts and the
# submissions per second at CONNECTIONS (64) connections with p50 and p99, the
# submission path against its ceiling (see ../shared/benchmarks.md), and the
# leaderboard's top 50 (p50, p99) polled while the submissions run.
# Targets: submissions ≥ 0.5 of the ceiling; leaderboard p99 ≤ 20 ms during the load.
#
#   bash bench/quiz.sh          # MEMBERS=300000 CONNECTIONS=64 DURATION=10 by default
#   SKIP_BUILD=1 MEMBERS=5000 bash bench/quiz.sh      # quick, with the binary as built
#
# 1. Fresh database unionhall_quiz_bench (dropped and re-created, left for inspection);
#    release service on it; `unionhall demo`; via the API, as the admin, a quiz of the
#    root union (time limit 86,400 s, run window open now) moved to `registration`
#    with 20 questions (12 single choice, 4 multiple choice, 4 true/false, 5 points
#    each). bench/quiz_load.sql then loads MEMBERS active members, each with a member
#    account and their registration, and sets the quiz's `registered`; the quiz moves
#    to `running` through the API.
# 2. Access tokens: bench/quiz_tokens.py signs each member account's token (and a
#    long-lived admin token) with the service's secret, issuer, audience and key id, as
#    the service does; one of each is checked against GET /v1/me first.
# 3. Starts: wrk -t2 -cCONNECTIONS with bench/quiz_members.lua (QUIZ_PHASE=start), every
#    member once, with their own token. Then every member has exactly one attempt, or
#    the run stops. The attempts are renumbered so that attempt n (member n's) is
#    01930000-0000-7000-8000-<n>: wrk and pgbench can name it without a lookup (the
#    paper's shuffle follows from the id, and nothing was answered yet, so nothing
#    else changes); VACUUM FULL leaves the table as packed as the inserts had.
# 4. The SQL of one submission is captured from PostgreSQL's statement log (a second
#    instance of the service connects as a role with log_statement=all and answers
#    one) and checked against bench/quiz_submission.sql; the run stops if they no
#    longer match. db = pgbench on that file, every transaction submitting a different
#    unsubmitted attempt; then the rows pgbench (and the capture) submitted are put
#    back as started, their idempotency records deleted, and the table packed again,
#    so that the service submits every attempt itself. http = GET /healthz under the
#    same wrk settings; ceiling = 1/(1/db + 1/http). While pgbench, and later the
#    service, write the idempotency records, that table is analyzed every 5 s, as
#    autovacuum would (it is off on this server; see analyze_meanwhile).
# 5. Submissions: wrk -t2 -cCONNECTIONS with bench/quiz_members.lua (QUIZ_PHASE=submit),
#    every attempt once, by its owner, with an Idempotency-Key, answering "A" to all 20
#    questions (valid on every paper; the shuffle makes the scores differ). Meanwhile a
#    second wrk (-t1 -cLEADERBOARD_CONNECTIONS, each connection pausing
#    LEADERBOARD_DELAY_MS between requests) reads GET …/leaderboard?limit=50 as the
#    admin. At the end every attempt must be submitted, with its idempotency record, and
#    the board's top score must be the rows' best. Then the same leaderboard reads run
#    alone for DURATION seconds: what they cost without the submissions beside them.
# Any answer but the expected one (201; 200 for the leaderboard) or a socket error
# stops the run, printing the first refused body. A phase's rate is its members over
# the time from wrk's start to its last answer.
#
# Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth, superuser: the capture
# role and the log file), psql, pgbench, jq, curl, python3; installs wrk if missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

MEMBERS=${MEMBERS:-300000}
CONNECTIONS=${CONNECTIONS:-64}
DURATION=${DURATION:-10}
LEADERBOARD_CONNECTIONS=${LEADERBOARD_CONNECTIONS:-4}
LEADERBOARD_DELAY_MS=${LEADERBOARD_DELAY_MS:-50}
MAX_PHASE_SECONDS=${MAX_PHASE_SECONDS:-3600}
THREADS=2
QUESTIONS=20
PG=${PG:-postgres://postgres@127.0.0.1:5432}
DB=unionhall_quiz_bench
CAPTURE_ROLE=unionhall_quiz_capture
PII_KEY=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
JWT_SECRET=$(python3 -c 'import secrets; print("bench-" + secrets.token_hex(24))')
JWT_ISSUER=unionhall-bench
JWT_AUDIENCE=unionhall-bench-api
TOKEN_TTL=$((12 * 3600))
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
BIN="$CARGO_TARGET_DIR/release/unionhall"
TMP=$(mktemp -d -t unionhall-quiz.XXXXXX)
PID=""
CPID=""
WPIDS=()
cleanup() {
    local p
    for p in "${WPIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    [[ -n "$CPID" ]] && kill "$CPID" 2>/dev/null && wait "$CPID" 2>/dev/null || true
    [[ -n "$PID" ]] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
    psql -q "$PG/postgres" -c "DROP ROLE IF EXISTS $CAPTURE_ROLE" >/dev/null 2>&1 || true
    rm -rf "$TMP"
}
trap cleanup EXIT
die() { echo "quiz bench: $*" >&2; exit 1; }
T_START=$(date +%s)
stage() { echo "[$(( $(date +%s) - T_START )) s] $*" >&2; }
(( MEMBERS >= THREADS )) || die "MEMBERS must be at least $THREADS"

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
command -v pgbench >/dev/null || die "pgbench (PostgreSQL client) is required"
pg_isready -q -h 127.0.0.1 -p 5432 || pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start

[[ -n "${SKIP_BUILD:-}" ]] || cargo build --release -q -p unionhall-api   # SKIP_BUILD=1: use $BIN as is
# Both instances (and the demo) run this copy: a build in the shared target directory
# during the run can't swap the capture's binary.
cp "$BIN" "$TMP/unionhall"
BIN="$TMP/unionhall"

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
now_ns() { date +%s%N; }
utc() { date -u -d "$1" +%Y-%m-%dT%H:%M:%SZ; }

stage "built"
# --- the service on a fresh PostgreSQL database -----------------------------------
psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
SERVER_ENV=(UNIONHALL_JWT_SECRET="$JWT_SECRET" UNIONHALL_JWT_ISSUER=$JWT_ISSUER
    UNIONHALL_JWT_AUDIENCE=$JWT_AUDIENCE UNIONHALL_PII_KEY="$PII_KEY"
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

api() { # METHOD PATH EXPECTED-STATUS [BODY [HEADER]] -> response body; dies on another status
    local code
    code=$(curl -sS -o "$TMP/api.out" -w '%{http_code}' -X "$1" "$BASE$2" -H "Authorization: Bearer $TOKEN" \
        -H 'Content-Type: application/json' ${5:+-H "$5"} ${4:+-d "$4"})
    [[ "$code" == "$3" ]] || { cat "$TMP/api.out" >&2; die "$1 $2 answered $code"; }
    cat "$TMP/api.out"
}
set_status() { # COMPETITION STATUS: PATCH with the ETag the GET gives
    local etag
    etag=$(curl -fsS -D - -o /dev/null "$BASE/v1/competitions/$1" -H "Authorization: Bearer $TOKEN" \
        | awk -F': ' 'tolower($1) == "etag" { sub(/\r$/, "", $2); print $2 }')
    [[ -n "$etag" ]] || die "GET /v1/competitions/$1 gave no ETag"
    api PATCH "/v1/competitions/$1" 200 "{\"status\":\"$2\"}" "If-Match: $etag" >/dev/null
}

# The run is open from an hour ago for two days: a day's time limit fits in it.
QUIZ=$(api POST /v1/competitions 201 "{\"org_id\":\"$ROOT\",\"name\":\"2026 年江西省职工劳动法律知识竞赛（压测）\",
    \"category\":\"法律知识\",\"kind\":\"quiz\",
    \"registration_opens\":\"$(utc '-4 hours')\",\"registration_closes\":\"$(utc '-1 hour')\",
    \"run_starts\":\"$(utc '-1 hour')\",\"run_ends\":\"$(utc '+2 days')\",
    \"criteria\":[],\"tie_breaks\":[],\"time_limit_seconds\":86400}" | jq -r .id)
set_status "$QUIZ" registration
while IFS= read -r question; do
    [[ -n "$question" ]] || continue
    api POST "/v1/competitions/$QUIZ/questions" 201 "$question" | jq -r .id >>"$TMP/question_ids"
done <<'EOF'
{"kind":"single_choice","prompt":"《中华人民共和国工会法》规定，工会会员大会或者会员代表大会每年至少召开几次？","options":["一次","两次","三次","四次"],"correct":[0],"points":5}
{"kind":"single_choice","prompt":"中华全国总工会成立于哪一年？","options":["1925 年","1921 年","1949 年","1978 年"],"correct":[0],"points":5}
{"kind":"single_choice","prompt":"劳动合同期限三个月以上不满一年的，试用期不得超过多久？","options":["一个月","两个月","三个月","六个月"],"correct":[0],"points":5}
{"kind":"single_choice","prompt":"用人单位自用工之日起超过一个月不满一年未与劳动者订立书面劳动合同的，应当向劳动者每月支付几倍的工资？","options":["二倍","一倍","三倍","不需要支付"],"correct":[0],"points":5}
{"kind":"single_choice","prompt":"劳动争议申请仲裁的时效期间为多久？","options":["一年","六个月","两年","三年"],"correct":[0],"points":5}
{"kind":"single_choice","prompt":"国家实行劳动者每日工作时间不超过几小时、平均每周工作时间不超过四十四小时的工时制度？","options":["八小时","九小时","十小时","七小时"],"correct":[0],"points":5}
{"kind":"single_choice","prompt":"法定休假日安排劳动者工作的，用人单位应支付不低于工资的百分之多少的工资报酬？","options":["百分之三百","百分之二百","百分之一百五十","百分之一百"],"correct":[0],"points":5}
{"kind":"single_choice","prompt":"外卖骑手等新就业形态劳动者可以通过什么方式加入工会？","options":["线上或线下申请入会","只能由平台统一办理","不能加入工会","只能在户籍地入会"],"correct":[0],"points":5}
{"kind":"single_choice","prompt":"建立工会组织的用人单位，按每月全部职工工资总额的百分之几向工会拨缴经费？","options":["百分之二","百分之一","百分之三","百分之五"],"correct":[0],"points":5}
{"kind":"single_choice","prompt":"江西省总工会机关位于哪个城市？","options":["南昌","九江","赣州","上饶"],"correct":[0],"points":5}
{"kind":"single_choice","prompt":"每年的 5 月 1 日是什么节日？","options":["国际劳动节","五四青年节","建军节","国庆节"],"correct":[0],"points":5}
{"kind":"single_choice","prompt":"职工因工作原因受到事故伤害，用人单位应当自事故伤害发生之日起多少日内提出工伤认定申请？","options":["30 日","15 日","60 日","90 日"],"correct":[0],"points":5}
{"kind":"multiple_choice","prompt":"以下哪些是工会的基本职责？","options":["维护职工合法权益","组织职工参与民主管理","开展劳动和技能竞赛","经营房地产"],"correct":[0,1,2],"points":5}
{"kind":"multiple_choice","prompt":"劳动者依法享有哪些权利？","options":["平等就业和选择职业","取得劳动报酬","休息休假","无故旷工"],"correct":[0,1,2],"points":5}
{"kind":"multiple_choice","prompt":"以下哪些属于社会保险？","options":["基本养老保险","基本医疗保险","工伤保险","商业意外险"],"correct":[0,1,2],"points":5}
{"kind":"multiple_choice","prompt":"职工在工作中受伤后，以下哪些做法是正确的？","options":["及时就医","申请工伤认定","保留相关证据","私下了结不留记录"],"correct":[0,1,2],"points":5}
{"kind":"true_false","prompt":"《工会法》规定工会会员享有选举权和被选举权。","options":["正确","错误"],"correct":[0],"points":5}
{"kind":"true_false","prompt":"用人单位招用劳动者时可以扣押劳动者的居民身份证。","options":["正确","错误"],"correct":[1],"points":5}
{"kind":"true_false","prompt":"女职工在孕期、产期、哺乳期的，用人单位不得降低其基本工资。","options":["正确","错误"],"correct":[0],"points":5}
{"kind":"true_false","prompt":"劳动者在试用期内提前三日通知用人单位，可以解除劳动合同。","options":["正确","错误"],"correct":[0],"points":5}
EOF
[[ $(wc -l <"$TMP/question_ids") == "$QUESTIONS" ]] || die "expected $QUESTIONS questions"
MAX_SCORE=$((QUESTIONS * 5))
# "A" to every question: the same body for every attempt (all papers hold the same
# question ids, only their order and option keys are shuffled). ANSWERS is what the
# service stores for it (a map sorted by question id, compact JSON).
ANSWERS=$(LC_ALL=C sort "$TMP/question_ids" | jq -R . | jq -sc 'map({key: ., value: ["A"]}) | from_entries')
SUBMISSION_BODY="{\"answers\":$ANSWERS}"

stage "quiz $QUIZ with $QUESTIONS questions; loading $MEMBERS members, accounts and registrations"
T0=$(now_ns)
psql -q -v ON_ERROR_STOP=1 -v members="$MEMBERS" -v quiz_id="$QUIZ" -f bench/quiz_load.sql "$PG/$DB" >/dev/null
LOAD_S=$(( ($(now_ns) - T0) / 1000000000 ))
set_status "$QUIZ" running
REGISTERED=$(api GET "/v1/competitions/$QUIZ" 200 | jq -r '.registered, .status' | paste -sd' ')
[[ "$REGISTERED" == "$MEMBERS running" ]] || die "the quiz says '$REGISTERED', expected '$MEMBERS running'"

# --- tokens ---------------------------------------------------------------------------
stage "loaded in ${LOAD_S} s; minting tokens"
ADMIN_ROLES=$(sql "SELECT coalesce(json_agg(json_build_object('role', role, 'org_id', org_id)), '[]')
    FROM role_bindings WHERE user_id = '$ADMIN_ID'")
export QUIZ_JWT_SECRET=$JWT_SECRET
TOKEN=$(python3 bench/quiz_tokens.py user "$ADMIN_ID" "$ADMIN_ROLES" $JWT_ISSUER $JWT_AUDIENCE $TOKEN_TTL)
python3 bench/quiz_tokens.py members "$MEMBERS" $JWT_ISSUER $JWT_AUDIENCE $TOKEN_TTL >"$TMP/tokens"
unset QUIZ_JWT_SECRET
member_token() { sed -n "${1}{s/^[0-9]* //;p;q}" "$TMP/tokens"; }
[[ $(api GET /v1/me 200 | jq -r .id) == "$ADMIN_ID" ]] || die "the minted admin token is not the admin's"
ME=$(curl -fsS "$BASE/v1/me" -H "Authorization: Bearer $(member_token "$MEMBERS")" | jq -r '.member.id')
[[ "$ME" == "$(printf '01910000-0000-7000-8000-%012d' "$MEMBERS")" ]] || die "member $MEMBERS's token reads '$ME'"

# --- wrk helpers --------------------------------------------------------------------------
to_ms() { python3 -c 'import sys,re; v=sys.argv[1]; n,u=re.match(r"([\d.]+)(\w+)",v).groups(); print(round(float(n)*{"us":0.001,"ms":1,"s":1000}[u],2))' "$1"; }
percentile() { to_ms "$(awk -v p="$1" '$1 == p { print $2 }' "$2")"; }
check_wrk() { # OUT WHAT: dies on non-2xx answers or socket errors
    if grep -q "Non-2xx\|Socket errors" "$1"; then cat "$1" "$1.err" >&2; die "refused answers or socket errors under wrk ($2)"; fi
}
# members_phase PHASE OUT: every member once; writes "req/s p50_ms p99_ms seconds" to OUT.result
# (run in this shell, not a subshell, so that a failure stops everything)
members_phase() {
    local phase=$1 out=$2 t0 t1 wpid
    rm -f "$TMP"/done.*
    t0=$(now_ns)
    QUIZ_PHASE=$phase QUIZ_ID=$QUIZ QUIZ_TOKENS="$TMP/tokens" QUIZ_BODY=$SUBMISSION_BODY QUIZ_THREADS=$THREADS \
        QUIZ_DONE="$TMP/done." wrk -t$THREADS -c"$CONNECTIONS" -d"${MAX_PHASE_SECONDS}s" --timeout 60s --latency \
        -s bench/quiz_members.lua "$BASE/" >"$out" 2>"$out.err" &
    wpid=$!
    WPIDS+=("$wpid")
    while (( $(compgen -G "$TMP/done.*" | wc -l) < THREADS )); do
        kill -0 "$wpid" 2>/dev/null || { cat "$out" "$out.err" >&2; die "wrk ($phase) ended before every member was answered"; }
        (( $(now_ns) - t0 < MAX_PHASE_SECONDS * 1000000000 )) || die "the $phase phase outlasted ${MAX_PHASE_SECONDS} s"
        sleep 0.1
    done
    t1=$(now_ns)
    kill -INT "$wpid"
    wait "$wpid" || true
    check_wrk "$out" "$phase"
    cat "$TMP"/done.* | awk '{ print "  thread answers:", $0 }' >"$out.done"
    if grep -qv " 201=[0-9]*$" "$TMP"/done.*; then cat "$TMP"/done.* "$out.err" >&2; die "answers other than 201 ($phase)"; fi
    echo "$(python3 -c "print(round($MEMBERS / (($t1 - $t0) / 1e9), 1))") $(percentile 50% "$out") $(percentile 99% "$out") $(( (t1 - t0) / 1000000000 ))" >"$out.result"
}

# --- starts -----------------------------------------------------------------------
stage "tokens checked; $MEMBERS starts"
members_phase start "$TMP/start.out"
read -r S_SVC S_P50 S_P99 S_SECONDS <"$TMP/start.out.result"
read -r NATTEMPTS NMEMBERS < <(sql "SELECT count(*), count(DISTINCT member_id) FROM quiz_attempts WHERE competition_id = '$QUIZ'" | tr '|' ' ')
[[ "$NATTEMPTS $NMEMBERS" == "$MEMBERS $MEMBERS" ]] || die "$NATTEMPTS attempts of $NMEMBERS members after the starts, expected $MEMBERS"
sql "UPDATE quiz_attempts SET id = ('01930000-0000-7000-8000-' || right(member_id::text, 12))::uuid
    WHERE competition_id = '$QUIZ'" >/dev/null
sql "VACUUM (FULL, ANALYZE) quiz_attempts"
PAPER=$(curl -fsS "$BASE/v1/attempts/$(printf '01930000-0000-7000-8000-%012d' 1)" \
    -H "Authorization: Bearer $(member_token 1)" | jq '.paper | length')
[[ "$PAPER" == "$QUESTIONS" ]] || die "attempt 1's paper has '$PAPER' questions"

# --- the submission's SQL, from PostgreSQL's statement log --------------------------
stage "starts done; capturing a submission's SQL"
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
CODE=$(curl -sS -o "$TMP/submission_response.json" -w '%{http_code}' \
    "http://127.0.0.1:$CPORT/v1/attempts/$(printf '01930000-0000-7000-8000-%012d' "$MEMBERS")/submission" \
    -H "Authorization: Bearer $(member_token "$MEMBERS")" -H 'Content-Type: application/json' \
    -H "Idempotency-Key: capture-$MEMBERS" -d "$SUBMISSION_BODY")
[[ "$CODE" == 201 ]] || { cat "$TMP/submission_response.json" >&2; die "the captured submission answered $CODE"; }
sleep 1
tail -c +"$((OFFSET + 1))" "$PGLOG" | grep -F " $CAPTURE_ROLE@$DB " >"$TMP/submission.log" || true
kill "$CPID"; wait "$CPID" 2>/dev/null || true; CPID=""
psql -q "$PG/postgres" -c "DROP ROLE IF EXISTS $CAPTURE_ROLE"
# The statements in the log against those of the bench file, shapes only: parameters
# ($n, :var, :var::type, and /*p*/…/*p*/, a parameter the bench file builds in SQL)
# become ?, whitespace collapses. Prints the statement count.
SUBMIT_STATEMENTS=$(python3 - "$TMP/submission.log" bench/quiz_submission.sql <<'EOF' || die "bench/quiz_submission.sql no longer matches the SQL a submission runs: update it from the captured statements above"
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
def norm(s):
    s = re.sub(r"/\*p\*/.*?/\*p\*/", "?", s)
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
)
RESPONSE_BYTES=$(stat -c %s "$TMP/submission_response.json")

# --- the ceiling: pgbench on the submission's SQL, /healthz ----------------------------
stage "SQL checked ($SUBMIT_STATEMENTS statements); pgbench and /healthz"
# Puts every submitted attempt back as started and forgets the idempotency records of
# submissions not made by phase 5, then packs the table as the starts left it.
unsubmit() {
    sql "UPDATE quiz_attempts SET answers = '{}', submitted_at = NULL, score = NULL, max_score = NULL,
            correct_count = NULL, answered_count = NULL, time_taken_ms = NULL
        WHERE competition_id = '$QUIZ' AND submitted_at IS NOT NULL" >/dev/null
    sql "DELETE FROM idempotency_keys WHERE key LIKE 'pgbench-%' OR key LIKE 'capture-%'" >/dev/null
    sql "VACUUM (FULL, ANALYZE) quiz_attempts"
    sql "VACUUM (FULL, ANALYZE) idempotency_keys"
}
unsubmit
# This server runs with autovacuum off, and the idempotency records start each phase
# from an (analyzed) empty table: every connection's cached plan for their
# primary-key UPDATE would then stay the sequential scan it chose on an empty table
# while the table grows to 300,000 rows (seen: a submission ratio of 0.17). What
# autovacuum's default thresholds would do (ANALYZE after 50 rows + 10 % changed,
# which also has cached plans made again), this does every 5 s while a phase writes.
analyze_meanwhile() {
    while sleep 5; do sql "ANALYZE idempotency_keys" >/dev/null || true; done &
    APID=$!
    WPIDS+=("$APID")
}
analyze_meanwhile
pgbench -n -M prepared -c "$CONNECTIONS" -j 2 -T "$DURATION" \
    -D n=0 -D clients="$CONNECTIONS" -D members="$MEMBERS" -D quiz_id="$QUIZ" -D one=1 \
    -D answers="$ANSWERS" -D max_score=$MAX_SCORE -D questions=$QUESTIONS -D created=201 -D zero=0 \
    -D request_hash="$(printf 'bench' | sha256sum | cut -d' ' -f1)" \
    -D response_body="$(cat "$TMP/submission_response.json")" \
    -f bench/quiz_submission.sql "$PG/$DB" >"$TMP/pgbench.out" 2>&1 || true
kill "$APID"
DB_TPS=$(awk '/^tps/ { print $3 }' "$TMP/pgbench.out")
if [[ -z "$DB_TPS" ]] || grep -q "aborted in command" "$TMP/pgbench.out"; then
    tail -5 "$TMP/pgbench.out" >&2
    die "pgbench failed on bench/quiz_submission.sql (too many connections? other tests running?)"
fi
DB_TXNS=$(awk '/number of transactions actually processed/ { print $NF }' "$TMP/pgbench.out" | cut -d/ -f1)
PG_SUBMITTED=$(sql "SELECT count(*) FROM quiz_attempts WHERE competition_id = '$QUIZ' AND submitted_at IS NOT NULL")
unsubmit
[[ $(sql "SELECT count(*) FROM quiz_attempts WHERE competition_id = '$QUIZ' AND submitted_at IS NOT NULL") == 0 ]] || die "attempts still submitted"

wrk -t$THREADS -c"$CONNECTIONS" -d"${DURATION}s" --latency -H "Authorization: Bearer $TOKEN" \
    "$BASE/healthz" >"$TMP/healthz.out" 2>&1
check_wrk "$TMP/healthz.out" healthz
HTTP=$(awk '/Requests\/sec/ { print $2 }' "$TMP/healthz.out")

# --- submissions, with the leaderboard read meanwhile ------------------------------------
stage "ceiling measured; $MEMBERS submissions with the leaderboard polled"
QUIZ_ID=$QUIZ QUIZ_LEADERBOARD_DELAY_MS=$LEADERBOARD_DELAY_MS wrk -t1 -c"$LEADERBOARD_CONNECTIONS" \
    -d"${MAX_PHASE_SECONDS}s" --timeout 60s --latency -H "Authorization: Bearer $TOKEN" \
    -s bench/quiz_leaderboard.lua "$BASE/" >"$TMP/leaderboard.out" 2>"$TMP/leaderboard.out.err" &
LPID=$!
WPIDS+=("$LPID")
analyze_meanwhile
members_phase submit "$TMP/submit.out"
kill "$APID"
read -r B_SVC B_P50 B_P99 B_SECONDS <"$TMP/submit.out.result"
kill -INT "$LPID"
wait "$LPID" || true
check_wrk "$TMP/leaderboard.out" leaderboard
[[ $(awk '/^refused:/ { print $2 }' "$TMP/leaderboard.out") == 0 ]] || { cat "$TMP/leaderboard.out.err" >&2; die "leaderboard answers other than 200"; }
L_RPS=$(awk '/Requests\/sec/ { print $2 }' "$TMP/leaderboard.out")
L_P50=$(percentile 50% "$TMP/leaderboard.out")
L_P99=$(percentile 99% "$TMP/leaderboard.out")
L_REQS=$(awk '/requests in/ { print $1 }' "$TMP/leaderboard.out")
PEAK_RSS=$(rss_kb "$PID" VmHWM)
# The same leaderboard reads with nothing else running (every attempt submitted): what
# the reads cost by themselves, against what they cost beside the submissions.
QUIZ_ID=$QUIZ QUIZ_LEADERBOARD_DELAY_MS=$LEADERBOARD_DELAY_MS wrk -t1 -c"$LEADERBOARD_CONNECTIONS" \
    -d"${DURATION}s" --timeout 60s --latency -H "Authorization: Bearer $TOKEN" \
    -s bench/quiz_leaderboard.lua "$BASE/" >"$TMP/leaderboard_alone.out" 2>"$TMP/leaderboard_alone.out.err"
check_wrk "$TMP/leaderboard_alone.out" "leaderboard alone"
LA_RPS=$(awk '/Requests\/sec/ { print $2 }' "$TMP/leaderboard_alone.out")
LA_P50=$(percentile 50% "$TMP/leaderboard_alone.out")
LA_P99=$(percentile 99% "$TMP/leaderboard_alone.out")

read -r NSUBMITTED NKEYS < <(sql "SELECT (SELECT count(*) FROM quiz_attempts WHERE competition_id = '$QUIZ' AND submitted_at IS NOT NULL),
    (SELECT count(*) FROM idempotency_keys WHERE key LIKE 'submit-%' AND status_code = 201)" | tr '|' ' ')
[[ "$NSUBMITTED $NKEYS" == "$MEMBERS $MEMBERS" ]] || die "$NSUBMITTED attempts submitted and $NKEYS idempotency records, expected $MEMBERS"
read -r TOP_API BOARD_LEN < <(api GET "/v1/competitions/$QUIZ/leaderboard?limit=50" 200 | jq -r '"\(.items[0].score) \(.items | length)"')
read -r TOP_SQL MEAN_SCORE < <(sql "SELECT max(score), round(avg(score), 1) FROM quiz_attempts WHERE competition_id = '$QUIZ'" | tr '|' ' ')
[[ "$TOP_API" == "$TOP_SQL" && "$BOARD_LEN" == $(( MEMBERS < 50 ? MEMBERS : 50 )) ]] \
    || die "the leaderboard's top is $TOP_API ($BOARD_LEN rows), the rows' $TOP_SQL"
KEY_BYTES=$(sql "SELECT pg_size_pretty(pg_total_relation_size('idempotency_keys'))")

# --- report -----------------------------------------------------------------------
ceiling() { python3 -c "print(round(1/(1/$1 + 1/$2)))"; }
CEIL=$(ceiling "$DB_TPS" "$HTTP")
RATIO=$(python3 -c "print(round($B_SVC/$CEIL, 2))")
verdict() { python3 -c "print('met' if $1 else 'NOT met')"; }
echo
echo "Date: $(date -u +%Y-%m-%d) · machine: $(nproc) cores, $(free -h | awk '/Mem:/ { print $2 }') RAM · MEMBERS=$MEMBERS · wrk -t$THREADS -c$CONNECTIONS · pgbench -M prepared -c$CONNECTIONS -j2 -T$DURATION · /healthz wrk -d${DURATION}s · leaderboard wrk -t1 -c$LEADERBOARD_CONNECTIONS, ${LEADERBOARD_DELAY_MS} ms between a connection's requests"
echo "Data: $MEMBERS members with accounts and registrations (loaded in ${LOAD_S} s), $QUESTIONS questions; every member starts (${S_SECONDS} s) then submits (${B_SECONDS} s) one attempt (\"A\" to every question: mean score $MEAN_SCORE of $MAX_SCORE, top $TOP_SQL)."
echo
echo "| Path | service req/s | db tps | http req/s (/healthz) | ceiling | ratio | p50 ms | p99 ms |"
echo "|---|---|---|---|---|---|---|---|"
echo "| \`POST /v1/competitions/{id}/attempts\` (start; every member once) | $(printf '%.0f' "$S_SVC") | | | | | $S_P50 | $S_P99 |"
echo "| \`POST /v1/attempts/{id}/submission\` (every attempt once, Idempotency-Key; $SUBMIT_STATEMENTS statements; leaderboard polled meanwhile) | $(printf '%.0f' "$B_SVC") | $(printf '%.0f' "$DB_TPS") | $(printf '%.0f' "$HTTP") | $CEIL | **$RATIO** | $B_P50 | $B_P99 |"
echo "| \`GET /v1/competitions/{id}/leaderboard?limit=50\` during the submissions ($L_REQS requests) | $(printf '%.0f' "$L_RPS") | | | | | $L_P50 | **$L_P99** |"
echo "| the same, alone afterwards (all $MEMBERS attempts on the board) | $(printf '%.0f' "$LA_RPS") | | | | | $LA_P50 | $LA_P99 |"
echo
echo "Targets: submissions ≥ 0.5 of the ceiling: $(verdict "$RATIO >= 0.5") ($RATIO); leaderboard p99 ≤ 20 ms during the load: $(verdict "$L_P99 <= 20") ($L_P99 ms)."
echo "pgbench: $DB_TXNS transactions submitted $PG_SUBMITTED distinct attempts (then put back). A submission's response: $RESPONSE_BYTES bytes, stored with its Idempotency-Key; idempotency_keys after the run: $KEY_BYTES."
echo "Idle RSS after start-up: $((IDLE_RSS / 1024)) MB · peak RSS under load (VmHWM): $((PEAK_RSS / 1024)) MB"
