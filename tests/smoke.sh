#!/usr/bin/env bash
# Smoke walk-through of a running UnionHall: the README's curl session, checked.
# Builds nothing. Needs curl and python3.
#
#   UNIONHALL_URL             base URL (default http://127.0.0.1:8080)
#   UNIONHALL_ADMIN_USERNAME  bootstrap admin (default admin)
#   UNIONHALL_ADMIN_PASSWORD  its password (required)
#
# Exits non-zero, naming the step, on any unexpected answer.
set -euo pipefail

BASE="${UNIONHALL_URL:-http://127.0.0.1:8080}"
BASE="${BASE%/}"
ADMIN_USER="${UNIONHALL_ADMIN_USERNAME:-admin}"
ADMIN_PASS="${UNIONHALL_ADMIN_PASSWORD:?set UNIONHALL_ADMIN_PASSWORD}"

SMOKE_TMP=$(mktemp -d -t unionhall-smoke.XXXXXX)
trap 'rm -rf "$SMOKE_TMP"' EXIT
BODY="$SMOKE_TMP/body"
HDRS="$SMOKE_TMP/headers"
STATUS=""
CTYPE=""

fail() {
    local step=$1
    shift
    echo "smoke: FAIL [$step]: $*" >&2
    if [[ -s "$BODY" ]]; then
        echo "smoke: response body (first 2000 bytes):" >&2
        head -c 2000 "$BODY" >&2
        echo >&2
    fi
    exit 1
}

pass() {
    echo "smoke: ok   [$1]${2:+ $2}"
}

# req STEP METHOD URL [CURL ARGS...]: sets STATUS, CTYPE; body in $BODY, headers in $HDRS.
req() {
    local step=$1 method=$2 url=$3
    shift 3
    [[ "$url" == http://* || "$url" == https://* ]] || url="$BASE$url"
    : >"$BODY"
    : >"$HDRS"
    local out
    out=$(curl -sS --max-time 15 -X "$method" -o "$BODY" -D "$HDRS" \
        -w '%{http_code} %{content_type}' "$@" "$url") ||
        fail "$step" "request $method $url failed (curl exit $?)"
    STATUS=${out%% *}
    CTYPE=${out#* }
}

expect_status() {
    local step=$1 want=$2
    [[ "$STATUS" == "$want" ]] || fail "$step" "expected HTTP $want, got $STATUS"
}

expect_problem_json() {
    local step=$1
    [[ "${CTYPE,,}" == application/problem+json* ]] ||
        fail "$step" "expected Content-Type application/problem+json, got '${CTYPE}'"
    python3 - "$BODY" "$STATUS" <<'PY' || fail "$step" "body is not an RFC 9457 problem document with status $STATUS"
import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
assert isinstance(d, dict), d
for k in ("type", "title", "status"):
    assert k in d, f"missing {k}"
assert d["status"] == int(sys.argv[2]), d["status"]
PY
}

# header NAME: value of a response header from $HDRS (last response, case-insensitive).
header() {
    local name=${1,,}
    awk -v n="$name" 'BEGIN { FS = ":" }
        { sub(/\r$/, "") }
        tolower($1) == n { v = substr($0, length($1) + 2); sub(/^[ \t]+/, "", v); val = v }
        END { if (val != "") print val }' "$HDRS"
}

# json PATH: a value from $BODY by dotted path (numbers index arrays); empty/null fails.
json() {
    python3 - "$BODY" "$1" <<'PY'
import json, sys
try:
    d = json.load(open(sys.argv[1], encoding="utf-8"))
    for part in sys.argv[2].split("."):
        d = d[int(part)] if isinstance(d, list) else d[part]
except (ValueError, LookupError, TypeError) as e:
    sys.exit(f"smoke: cannot read {sys.argv[2]} from the response: {e!r}")
if d is None or d == "":
    sys.exit(f"smoke: {sys.argv[2]} is empty")
print(d if isinstance(d, str) else json.dumps(d))
PY
}

# --- 0. the README's walk-through, verbatim ------------------------------------
# The block between the smoke markers in README.md runs as written, with `curl`
# wrapped to fail on any HTTP error status and `jq` to fail on a missing field.
S="README walk-through"
README="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/README.md"
WALK="$SMOKE_TMP/walkthrough.sh"
awk '/<!-- smoke:end -->/ { on = 0 } on && !/^```/ { print } /<!-- smoke:begin -->/ { on = 1 }' "$README" >"$WALK"
[[ -s "$WALK" ]] || fail "$S" "no smoke block found in $README"
(
    cd "$SMOKE_TMP"
    export UNIONHALL="$BASE" UNIONHALL_ADMIN_PASSWORD="$ADMIN_PASS"
    curl() { command curl --fail-with-body --max-time 15 "$@"; }
    jq() { command jq -e "$@"; }
    set -euo pipefail
    # shellcheck disable=SC1090
    source "$WALK" >"$SMOKE_TMP/walkthrough.out" 2>&1
) || { BODY="$SMOKE_TMP/walkthrough.out"; fail "$S" "a command in the README block failed"; }
pass "$S"

# --- 1. liveness / readiness ------------------------------------------------
S="GET /healthz"
req "$S" GET /healthz
expect_status "$S" 200
[[ -n "$(header x-request-id)" ]] || fail "$S" "no X-Request-Id header"
pass "$S"

S="GET /readyz"
req "$S" GET /readyz
expect_status "$S" 200
pass "$S"

# --- 2. password grant ------------------------------------------------------
S="POST /v1/auth/token (password grant)"
LOGIN=$(python3 -c 'import json, sys; print(json.dumps({"grant_type": "password", "username": sys.argv[1], "password": sys.argv[2]}))' "$ADMIN_USER" "$ADMIN_PASS")
req "$S" POST /v1/auth/token -H 'Content-Type: application/json' --data-binary "$LOGIN"
expect_status "$S" 200
ACCESS=$(json access_token) || fail "$S" "no access_token in the response"
REFRESH=$(json refresh_token) || fail "$S" "no refresh_token in the response"
pass "$S"
AUTH=(-H "Authorization: Bearer $ACCESS")

# --- 3. who am I --------------------------------------------------------------
S="GET /v1/me"
req "$S" GET /v1/me "${AUTH[@]}"
expect_status "$S" 200
ROOT_ORG=$(json roles.0.org_id) || fail "$S" "no roles[0].org_id in the response"
pass "$S" "(root org $ROOT_ORG)"

# --- 4. list organisations ------------------------------------------------------
S="GET /v1/orgs?limit=10"
req "$S" GET '/v1/orgs?limit=10' "${AUTH[@]}"
expect_status "$S" 200
python3 - "$BODY" <<'PY' || fail "$S" 'body is not {"items": [...], "next_cursor": ...}'
import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
assert isinstance(d.get("items"), list), "items"
assert "next_cursor" in d, "next_cursor"
assert d["next_cursor"] is None or isinstance(d["next_cursor"], str), "next_cursor type"
assert len(d["items"]) <= 10, "more than limit"
PY
pass "$S"

# --- 5. create an organisation ----------------------------------------------------
S="POST /v1/orgs"
CODE="smoke-$(python3 -c 'import secrets; print(secrets.token_hex(6))')"
ORG=$(python3 -c 'import json, sys; print(json.dumps({"name": "南昌市总工会", "code": sys.argv[1], "kind": "city_federation", "parent_id": sys.argv[2], "region_code": "360100"}, ensure_ascii=False))' "$CODE" "$ROOT_ORG")
req "$S" POST /v1/orgs "${AUTH[@]}" -H 'Content-Type: application/json; charset=utf-8' --data-binary "$ORG"
expect_status "$S" 201
LOCATION=$(header location)
[[ -n "$LOCATION" ]] || fail "$S" "no Location header"
pass "$S" "(Location: $LOCATION)"

S="GET Location of the new org"
req "$S" GET "$LOCATION" "${AUTH[@]}"
expect_status "$S" 200
GOT_CODE=$(json code) || fail "$S" "no code in the response"
[[ "$GOT_CODE" == "$CODE" ]] || fail "$S" "code is '$GOT_CODE', expected '$CODE'"
GOT_NAME=$(json name) || fail "$S" "no name in the response"
[[ "$GOT_NAME" == "南昌市总工会" ]] || fail "$S" "name did not round-trip: '$GOT_NAME'"
pass "$S"

# --- 6. refresh grant (form body) -------------------------------------------------
S="POST /v1/auth/token (refresh grant, form)"
req "$S" POST /v1/auth/token \
    --data-urlencode 'grant_type=refresh_token' \
    --data-urlencode "refresh_token=$REFRESH"
expect_status "$S" 200
json access_token >/dev/null || fail "$S" "no access_token in the response"
NEW_REFRESH=$(json refresh_token) || fail "$S" "no refresh_token in the response"
[[ "$NEW_REFRESH" != "$REFRESH" ]] || fail "$S" "refresh token was not rotated"
pass "$S"

# --- 7. errors are problem+json -----------------------------------------------------
S="GET /v1/orgs/<nil uuid> (404)"
req "$S" GET /v1/orgs/00000000-0000-0000-0000-000000000000 "${AUTH[@]}"
expect_status "$S" 404
expect_problem_json "$S"
pass "$S"

S="GET /v1/me without a token (401)"
req "$S" GET /v1/me
expect_status "$S" 401
expect_problem_json "$S"
pass "$S"

echo "smoke: all steps passed against $BASE"
