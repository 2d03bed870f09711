# Shared helpers of the benchmark scripts (sourced, not run). Each script sets before
# sourcing: PG (server URL without a database), DB (its database), TMP (a scratch
# directory), CONNECTIONS and DURATION; and NAME, a word for its messages.
#
# What ../shared/benchmarks.md asks of every path: the service under wrk, the path's
# own SQL under pgbench (captured from PostgreSQL's statement log and checked against
# the committed bench/*.sql), /healthz under the same wrk settings, and
# ceiling = 1 / (1/db + 1/http).

die() { echo "$NAME bench: $*" >&2; exit 1; }
T_START=$(date +%s)
stage() { echo "[$(( $(date +%s) - T_START )) s] $*" >&2; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# wait_ready URL: until /readyz answers.
wait_ready() {
    local url=$1 i
    for i in $(seq 1 2000); do
        curl -fs -o /dev/null "$url/readyz" && return 0
        sleep 0.005
    done
    die "server did not become ready"
}

# rss_kb PID KEY: VmRSS or VmHWM of a process, in kB.
rss_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

# admin_token BASE: an access token of the first admin (the scripts start the service
# with UNIONHALL_ADMIN_PASSWORD=bench-admin-password).
admin_token() {
    curl -fsS "$1/v1/auth/token" -H 'Content-Type: application/json' \
        -d '{"grant_type":"password","username":"admin","password":"bench-admin-password"}' | jq -r .access_token
}

# add_unions BASE TOKEN N: N grassroots unions under the caller's organisation (after the
# demo, enough that a page of 50 organisations is full).
add_unions() {
    local root i
    root=$(curl -fsS "$1/v1/me" -H "Authorization: Bearer $2" | jq -r '.roles[0].org_id')
    for i in $(seq 1 "$3"); do
        curl -fsS -o /dev/null "$1/v1/orgs" -H "Authorization: Bearer $2" -H 'Content-Type: application/json' \
            -d "{\"name\":\"基层工会 $i\",\"code\":\"bench-$i\",\"kind\":\"grassroots_union\",\"parent_id\":\"$root\"}"
    done
}

# sql STATEMENT: one value per line from the bench database.
sql() { psql -Atq -v ON_ERROR_STOP=1 "$PG/$DB" -c "$1"; }

to_ms() { python3 -c 'import sys,re; v=sys.argv[1]; n,u=re.match(r"([\d.]+)(\w+)",v).groups(); print(round(float(n)*{"us":0.001,"ms":1,"s":1000}[u],2))' "$1"; }

# wrk_run OUT TOKEN ARGS...: prints "req/s p50_ms p99_ms"; any non-2xx answer stops the run.
# WRK_TIMEOUT (wrk's own default, 2s) for paths slower than that.
wrk_run() {
    local out=$1 token=$2
    shift 2
    wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --timeout "${WRK_TIMEOUT:-2s}" --latency \
        -H "Authorization: Bearer $token" "$@" \
        >"$out" 2>"$out.err"
    if grep -q "Non-2xx\|Socket errors" "$out"; then cat "$out" "$out.err" >&2; die "non-2xx answers under wrk $*"; fi
    echo "$(awk '/Requests\/sec/ { print $2 }' "$out") $(to_ms "$(awk '$1 == "50%" { print $2 }' "$out")") $(to_ms "$(awk '$1 == "99%" { print $2 }' "$out")")"
}

# pgbench_run FILE [-D var=value ...]: prints tps.
pgbench_run() {
    local file=$1
    shift
    pgbench -n -M prepared -c "$CONNECTIONS" -j 2 -T "$DURATION" "$@" -f "$file" "$PG/$DB" \
        >"$TMP/pgbench.out" 2>&1 || true
    local tps
    tps=$(awk '/^tps/ { print $3 }' "$TMP/pgbench.out")
    if [[ -z "$tps" ]] || grep -q "aborted in command" "$TMP/pgbench.out"; then
        tail -5 "$TMP/pgbench.out" >&2
        die "pgbench failed on $file (too many connections? other tests running?)"
    fi
    echo "$tps"
}

ceiling() { python3 -c "print(round(1/(1/$1 + 1/$2), 1))"; }

# row LABEL SVC DB HTTP P50 P99: a Markdown table row with the ratio to the ceiling.
row() {
    local ceil ratio
    ceil=$(ceiling "$3" "$4")
    ratio=$(python3 -c "print(round($2/$ceil, 2))")
    echo "| $1 | $(printf '%.0f' "$2") | $(printf '%.0f' "$3") | $(printf '%.0f' "$4") | $ceil | **$ratio** | $5 | $6 |"
}

# capture_start ROLE PORT ENV...: a second instance of the service, connected as ROLE,
# a superuser with log_statement=all, so the statements one request runs can be read
# from PostgreSQL's log. Sets CPID; capture_stop ends it.
capture_start() {
    local role=$1 port=$2
    shift 2
    PGLOG=${PGLOG:-$(pg_lsclusters --no-header 2>/dev/null | awk '$3 == 5432 { print $7 }')}
    [[ -r "$PGLOG" ]] || die "can't read PostgreSQL's log file ('$PGLOG'); set PGLOG=/path/to/it"
    CAPTURE_ROLE=$role
    psql -q -v ON_ERROR_STOP=1 "$PG/postgres" -c "DROP ROLE IF EXISTS $role" \
        -c "CREATE ROLE $role LOGIN SUPERUSER" -c "ALTER ROLE $role SET log_statement = 'all'"
    env "$@" UNIONHALL_DATABASE_URL="postgres://$role@127.0.0.1:5432/$DB" \
        UNIONHALL_MIGRATE_ON_START=false UNIONHALL_BIND=127.0.0.1:$port UNIONHALL_DATA_DIR="$TMP/capture" \
        UNIONHALL_DB_MAX_CONNECTIONS=1 UNIONHALL_LOG=warn "$BIN" serve >"$TMP/capture.log" 2>&1 &
    CPID=$!
    wait_ready "http://127.0.0.1:$port"
    sleep 1
}

capture_stop() {
    kill "$CPID" 2>/dev/null; wait "$CPID" 2>/dev/null || true; CPID=""
    psql -q "$PG/postgres" -c "DROP ROLE IF EXISTS $CAPTURE_ROLE"
}

# capture NAME TOKEN CURL-ARGS...: the statements one request runs, in $TMP/NAME.log.
capture() {
    local name=$1 token=$2 offset
    shift 2
    offset=$(stat -c %s "$PGLOG")
    curl -fsS -o /dev/null "$@" -H "Authorization: Bearer $token"
    sleep 1
    tail -c +"$((offset + 1))" "$PGLOG" | grep -F " $CAPTURE_ROLE@$DB " >"$TMP/$name.log" || true
}

# check_sql NAME FILE: compares $TMP/NAME.log with FILE (parameters as pgbench
# variables, or /*p*/…/*p*/ around one built in SQL); prints the statement count, or
# shows both and stops the run when they differ.
check_sql() {
    python3 - "$TMP/$1.log" "$2" <<'EOF' || die "$2 no longer matches the SQL the request runs: update it from the captured statements above"
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
    s = re.sub(r"'\d{4}-\d{2}-\d{2}'", "?", s)  # a date the service writes as a literal
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
