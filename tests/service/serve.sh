#!/usr/bin/env bash
# tests/service/serve.sh PERK - drives the REAL `perk serve` over HTTP with curl, on a free
# loopback port and temporary databases: every route's success and error cases, hostile requests
# (bad JSON, huge body, wrong key, missing scope, unknown route or method, too many lines), a
# publish while 8 clients evaluate (every answer from exactly one version, none fails), 16
# concurrent orders against a contested budget and coupon (never exceeded, every order once),
# SIGTERM under load (no committed order lost, exit 0), and docs/openapi.yaml against the
# running server (scripts/check-openapi.py). Servers are started here and always killed on exit.
# PERK_TEST_QUICK=1 (valgrind runs) makes the load parts smaller.
# Prints one line per failed check and ends with "N passed, N failed" (tests/run.sh counts it).
set -u
perk=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
[ -x "$perk" ] || { echo "usage: tests/service/serve.sh PATH/TO/perk"; echo "0 passed, 1 failed"; exit 1; }
work=$(mktemp -d)
server_pid=""
bg_pids=()
cleanup() {
  for p in "${bg_pids[@]}"; do kill "$p" 2>/dev/null; done
  [ -n "$server_pid" ] && kill -KILL "$server_pid" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work" || exit 1
unset PERK_DB
quick=${PERK_TEST_QUICK:-0}
wrap=${PERK_WRAP:-}

passed=0
failed=0
step=""
check() {
  local what=$1
  shift
  if "$@"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL [$step] $what"
    [ -f "$work/body" ] && sed 's/^/    body: /' "$work/body" | head -5
  fi
}

# ------------------------------------------------------------------ fixtures
# v1 takes ¥20 off (3 uses in all), v2 ¥30; a CLUB coupon takes ¥5; ¥50 off from ¥300 (for hints).
rules() {
  cat <<EOF2
ruleset "shop" { currency CNY timezone "Asia/Shanghai" }
promotion flash "限量立减" {
  limit 3 uses
  then ¥$1 off order
}
promotion club "会员券" {
  requires coupon from "CLUB"
  then ¥5 off order
}
promotion big "满300减50" {
  when sum(items) >= ¥300
  then ¥50 off order
}
earn base "消费积分" { then 1 point per ¥1 on items }
redeem { rate 100 points = ¥1 pays for goods }
EOF2
}
rules 20 >v1.perk
rules 30 >v2.perk
# cart ORDER_ID CUSTOMER [COUPON] [PRICE]
cart() {
  local coupons="[]"
  [ -n "${3:-}" ] && coupons="[\"$3\"]"
  # dated now: the store refuses an order further than 5 minutes from its clock
  printf '{"order":{"id":"%s","time":"%s"},"customer":{"id":"%s"},"lines":[{"id":"l1","sku":"T1","price":"%s","quantity":1}],"coupons":%s}\n' \
    "$1" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$2" "${4:-100.00}" "$coupons"
}

# start_server DB [OPTIONS...]: starts perk serve on a free port; sets $url and $server_pid.
start_server() {
  local db=$1
  shift
  : >"$work/serve.log"
  $wrap "$perk" serve --db "$db" --listen 127.0.0.1:0 --threads 4 --poll-ms 50 "$@" 2>>"$work/serve.log" &
  server_pid=$!
  local port="" i
  for i in $(seq 1 600); do
    port=$(grep -o '"listening on 127.0.0.1:[0-9]*' "$work/serve.log" | head -1 | sed 's/.*://')
    [ -n "$port" ] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.05
  done
  url="http://127.0.0.1:$port"
  [ -n "$port" ]
}
# stop_server: SIGTERM, then the exit status in $server_rc.
stop_server() {
  kill -TERM "$server_pid" 2>/dev/null
  wait "$server_pid"
  server_rc=$?
  server_pid=""
}

# req METHOD PATH KEY [BODY_FILE] [EXTRA CURL ARGS...]: the status in $code, the body in $work/body.
req() {
  local method=$1 path=$2 key=$3 body=${4:-}
  shift 3
  [ $# -gt 0 ] && shift
  local args=(-s -o "$work/body" -D "$work/headers" -w '%{http_code}' -X "$method")
  [ -n "$key" ] && args+=(-H "Authorization: Bearer $key")
  [ -n "$body" ] && args+=(--data-binary "@$body" -H 'Content-Type: application/json')
  code=$(curl "${args[@]}" "$@" "$url$path")
}
status_is() { check "status $1 (got $code)" [ "$code" = "$1" ]; }
# jq_is FILTER EXPECTED: the body's value (jq -r) equals EXPECTED.
jq_is() {
  local got
  got=$(jq -r "$1" "$work/body" 2>/dev/null)
  check "$1 is '$2' (got '$got')" [ "$got" = "$2" ]
}
error_is() { status_is "$1"; jq_is .error.code "$2"; [ $# -gt 2 ] && jq_is .error.path "$3"; return 0; }

# ------------------------------------------------------------------ readiness before a publish
db="$work/perk.db"
step="empty store"
"$perk" coupons add CLUB-1 --campaign CLUB --max-uses 2 --db "$db" >/dev/null 2>&1
"$perk" coupons add CLUB-2 --campaign CLUB --max-uses 2 --db "$db" >/dev/null 2>&1
ckey=$("$perk" keys create --scope checkout --name "test checkout" --db "$db" 2>/dev/null)
okey=$("$perk" keys create --scope operator --db "$db" 2>/dev/null)
rkey=$("$perk" keys create --scope read --db "$db" 2>/dev/null)
check "keys are printed once, prefixed perk_" [ "${ckey:0:5}" = perk_ ] && [ ${#okey} -eq 53 ]
check "the key itself is not stored" bash -c "! sqlite3 '$db' 'SELECT * FROM api_keys' | grep -qF '$ckey'"
check "server starts" start_server "$db"
req GET /healthz ""
status_is 200
req GET /readyz ""
error_is 503 not_ready
cart E0 c0 >e0.json
req POST /v1/evaluate "$ckey" e0.json
error_is 503 not_ready

step="publish while running"
"$perk" publish v1.perk -m one --db "$db" >/dev/null
for i in $(seq 1 100); do req GET /readyz ""; [ "$code" = 200 ] && break; sleep 0.05; done
status_is 200
jq_is .ruleset_version 1

# ------------------------------------------------------------------ evaluate
step="evaluate"
req POST /v1/evaluate "$ckey" e0.json -H 'X-Request-Id: test-req-1'
status_is 200
jq_is .ruleset_version 1
jq_is .status ok
jq_is .discount 20.00
jq_is '.promotions | length' 3
jq_is '.hints[0].promotion' big
check "X-Request-Id echoed" grep -qi '^X-Request-Id: test-req-1' "$work/headers"
check "X-Perk-Version header" grep -qi '^X-Perk-Version: 1' "$work/headers"
req POST '/v1/evaluate?explain=applied' "$ckey" e0.json
status_is 200
jq_is '.promotions | length' 1
jq_is .promotions_not_listed 2
req POST '/v1/evaluate?explain=some' "$ckey" e0.json
error_is 400 invalid_parameter explain
"$perk" compile v1.perk -o v1.pbc >/dev/null 2>&1
# the cart names customer c0: both price it with the store's facts (perk eval --db)
"$perk" eval v1.pbc --cart e0.json --db "$db" >eval.json 2>/dev/null
req POST /v1/evaluate "$ckey" e0.json
jq_is '.customer_facts.from_store | length' 4
jq_is '.customer_facts.overrides | length' 0
check "same JSON as perk eval" bash -c "jq -S 'del(.ruleset_version)' '$work/body' >a.json; jq -S . eval.json >b.json; cmp -s a.json b.json"

step="hostile requests"
printf '{"lines": [' >bad.json
req POST /v1/evaluate "$ckey" bad.json
error_is 400 invalid_json
printf '{"lines":[{"id":"l1","sku":"T1","price":"1.00","quantity":-2}]}' >neg.json
req POST /v1/evaluate "$ckey" neg.json
error_is 400 invalid_cart '$.lines[0].quantity'
printf '[1,2]' >arr.json
req POST /v1/evaluate "$ckey" arr.json
check "a JSON array is a 400 (got $code)" [ "$code" = 400 ]
head -c 1100000 /dev/zero | tr '\0' ' ' >huge.json
req POST /v1/evaluate "$ckey" huge.json
error_is 413 body_too_large
req POST /v1/evaluate "" e0.json
error_is 401 unauthorized
req POST /v1/evaluate "perk_000000000000000000000000000000000000000000000000" e0.json
error_is 401 unauthorized
req POST /v1/evaluate "$rkey" e0.json
error_is 403 forbidden
req GET /v1/nothing "$ckey"
error_is 404 not_found
req DELETE /v1/evaluate "$ckey"
error_is 405 method_not_allowed
check "405 names the allowed method" grep -qi '^Allow: POST' "$work/headers"
req GET /v1/orders/X/refund "$okey"
error_is 405 method_not_allowed
printf '\xff\xfe{"x":1}' >binary.json
req POST /v1/evaluate "$ckey" binary.json
check "invalid UTF-8 is a 400 (got $code)" [ "$code" = 400 ]
check "the server is still up after the hostile requests" kill -0 "$server_pid"

# ------------------------------------------------------------------ orders
step="orders"
cart A1 c1 CLUB-1 >a1.json
req POST /v1/orders "$ckey" a1.json
status_is 201
jq_is .status committed
jq_is .discount 25.00
jq_is .points_earned 75
jq_is .ruleset_version 1
req POST /v1/orders "$ckey" a1.json
status_is 200
jq_is .status already_committed
cart A1 c1 "" 90.00 >a1b.json
req POST /v1/orders "$ckey" a1b.json
error_is 409 order_conflict
printf '{"customer":{"id":"c1"},"lines":[{"id":"l1","sku":"T1","price":"1.00","quantity":1}]}' >noid.json
req POST /v1/orders "$ckey" noid.json
error_is 400 invalid_order '$.order.id'
req POST /v1/orders "$rkey" a1.json
error_is 403 forbidden

step="points"
cart A2 c1 >a2.json
req POST /v1/orders "$ckey" a2.json
status_is 201
req GET /v1/customers/c1/points "$rkey"
status_is 200
jq_is .balance 155
jq_is '.ledger | length' 2
req GET '/v1/customers/c1/points?limit=1' "$ckey"
jq_is '.ledger | length' 1
jq_is .next_after 1
req GET '/v1/customers/c1/points?limit=1&after=1' "$ckey"
jq_is '.ledger[0].order_id' A2
req GET '/v1/customers/c1/points?limit=0' "$ckey"
error_is 400 invalid_parameter limit
req GET /v1/customers/nobody/points "$ckey"
status_is 200
jq_is .balance 0

step="refund and cancel"
printf '{"refund_id":"r1","lines":[{"line_id":"l1","amount":"10.00"}]}' >r1.json
req POST /v1/orders/A1/refund "$okey" r1.json
status_is 201
jq_is .amount 10.00
jq_is .points_reversed 10
req POST /v1/orders/A1/refund "$okey" r1.json
status_is 200
jq_is .status already_recorded
printf '{"refund_id":"r2","lines":[{"line_id":"l1","amount":"ten"}]}' >r2.json
req POST /v1/orders/A1/refund "$okey" r2.json
error_is 400 invalid_request '$.lines[0].amount'
printf '{"lines":[]}' >r3.json
req POST /v1/orders/A1/refund "$okey" r3.json
error_is 400 invalid_request '$.refund_id'
printf '{"refund_id":"r9"}' >r9.json
req POST /v1/orders/NOPE/refund "$okey" r9.json
error_is 404 not_found
req POST /v1/orders/A1/refund "$ckey" r1.json
error_is 403 forbidden
req POST /v1/orders/A2/cancel "$okey"
status_is 201
jq_is .full true
jq_is .budget_released true
req POST /v1/orders/A2/cancel "$okey"
status_is 200
req POST /v1/orders/NOPE/cancel "$okey"
error_is 404 not_found

step="coupons"
printf '{"code":"club-1","customer_id":"c9"}' >cv.json
req POST /v1/coupons/validate "$ckey" cv.json
status_is 200
jq_is .valid true
jq_is .uses 1
printf '{"code":"NOPE"}' >cv2.json
req POST /v1/coupons/validate "$ckey" cv2.json
jq_is .status unknown
printf '{"customer_id":"c9"}' >cv3.json
req POST /v1/coupons/validate "$ckey" cv3.json
error_is 400 invalid_request '$.code'
printf '{"code":"@@@"}' >cv4.json
req POST /v1/coupons/validate "$ckey" cv4.json
error_is 400 invalid_request '$.code'

step="coupons: issue, wallet, revoke"
# issue (operator): CLUB is known (the store has its codes, and the rule set requires them)
printf '{"code":"vip-c9-1","campaign":"CLUB","customer_id":"c9","max_uses":2,"max_per_customer":1}' >ci.json
req POST /v1/coupons "$okey" ci.json
status_is 201
jq_is .created true
jq_is .customer_id c9
jq_is .coupon.code VIPC91
jq_is .coupon.status valid
jq_is .coupon.usable true
jq_is .coupon.uses_left 1
jq_is .coupon.max_per_customer 1
jq_is .coupon.revoked null
req POST /v1/coupons "$okey" ci.json
status_is 200
jq_is .created false
printf '{"code":"VIP-C9-1","campaign":"CLUB","customer_id":"c8"}' >ci2.json
req POST /v1/coupons "$okey" ci2.json
error_is 409 code_taken '$.code'
printf '{"code":"CLUB-2","campaign":"CLUB","customer_id":"c9","max_uses":2}' >ci2b.json
req POST /v1/coupons "$okey" ci2b.json
error_is 409 code_taken '$.code'
printf '{"code":"x-1","campaign":"CLUBB","customer_id":"c9"}' >ci3.json
req POST /v1/coupons "$okey" ci3.json
error_is 422 unknown_campaign '$.campaign'
printf '{"code":"x-2","campaign":"CLUB","customer_id":"c9","valid_from":2000000000,"expires_at":1900000000}' >ci4.json
req POST /v1/coupons "$okey" ci4.json
error_is 400 invalid_period '$.expires_at'
printf '{"code":"x-3","campaign":"CLUB","customer_id":"c9","expires_at":1000}' >ci5.json
req POST /v1/coupons "$okey" ci5.json
error_is 400 invalid_period '$.expires_at'
printf '{"code":"x-4","campaign":"CLUB"}' >ci6.json
req POST /v1/coupons "$okey" ci6.json
error_is 400 invalid_request '$.customer_id'
printf '{"code":"x@4","campaign":"CLUB","customer_id":"c9"}' >ci7.json
req POST /v1/coupons "$okey" ci7.json
error_is 400 invalid_request '$.code'
printf '{"code":"x-5","campaign":"CLUB","customer_id":"c9","max_uses":-1}' >ci8.json
req POST /v1/coupons "$okey" ci8.json
error_is 400 invalid_request '$.max_uses'
printf '[1]' >ci9.json
req POST /v1/coupons "$okey" ci9.json
error_is 400 invalid_json '$'
req POST /v1/coupons "$ckey" ci.json
error_is 403 forbidden
req POST /v1/coupons "$rkey" ci.json
error_is 403 forbidden
req POST /v1/coupons "" ci.json
error_is 401 unauthorized
check "nothing but VIPC91 was issued ($(sqlite3 "$db" "SELECT group_concat(code) FROM coupons WHERE only_customer IS NOT NULL"))" \
  [ "$(sqlite3 "$db" "SELECT group_concat(code) FROM coupons WHERE only_customer IS NOT NULL")" = VIPC91 ]
# a code valid from an hour from now, issued by a named operator
later=$(( $(date +%s) + 3600 ))
printf '{"code":"vip-c9-2","campaign":"CLUB","customer_id":"c9","valid_from":%d,"by":"ana"}' "$later" >ci10.json
req POST /v1/coupons "$okey" ci10.json
status_is 201
jq_is .coupon.status not_yet_valid
jq_is .coupon.valid_from "$later"
jq_is .coupon.expires_at null
# the wallet (read scope): oldest first
req GET /v1/customers/c9/coupons "$rkey"
status_is 200
jq_is .customer_id c9
jq_is '.coupons | length' 2
jq_is '.coupons[0].code' VIPC91
jq_is '.coupons[0].status' valid
jq_is '.coupons[0].uses_left' 1
jq_is '.coupons[1].code' VIPC92
jq_is '.coupons[1].status' not_yet_valid
jq_is '.coupons[1].usable' false
jq_is '.coupons[1].uses_left' 0
jq_is '.coupons[1].max_uses' null
req GET /v1/customers/nobody/coupons "$ckey"
status_is 200
jq_is '.coupons | length' 0
req GET /v1/customers/c9/coupons ""
error_is 401 unauthorized
printf '{"code":"VIP-C9-2","customer_id":"c9"}' >cv5.json
req POST /v1/coupons/validate "$ckey" cv5.json
jq_is .status not_yet_valid
jq_is .valid false
jq_is .valid_from "$later"
# revoke (operator): who and why kept
printf '{"reason":"sent to the wrong customer","by":"bo"}' >rv.json
req POST /v1/coupons/vip-c9-1/revoke "$ckey" rv.json
error_is 403 forbidden
req POST /v1/coupons/vip-c9-1/revoke "$okey" rv.json
status_is 200
jq_is .code VIPC91
jq_is .held_by_reservations 0
jq_is .coupon.status revoked
jq_is .coupon.usable false
jq_is .coupon.revoked.by bo
jq_is .coupon.revoked.reason 'sent to the wrong customer'
check "revoked_at is now" bash -c "(( \$(jq -r .revoked_at '$work/body') - \$(date +%s) <= 1 ))"
req POST /v1/coupons/VIPC91/revoke "$okey" rv.json
error_is 409 already_revoked code
check "the first revocation is named" grep -qF 'already revoked' "$work/body"
req POST /v1/coupons/NOPE-1/revoke "$okey" rv.json
error_is 404 unknown_coupon code
req POST /v1/coupons/a@b/revoke "$okey" rv.json
error_is 400 invalid_request code
printf '{"by":"bo"}' >rv2.json
req POST /v1/coupons/VIP-C9-2/revoke "$okey" rv2.json
error_is 400 invalid_request '$.reason'
printf '{"reason":""}' >rv3.json
req POST /v1/coupons/VIP-C9-2/revoke "$okey" rv3.json
error_is 400 invalid_request '$.reason'
req GET /v1/customers/c9/coupons "$rkey"
jq_is '.coupons[0].status' revoked
jq_is '.coupons[0].revoked.reason' 'sent to the wrong customer'
printf '{"code":"vip-c9-1","customer_id":"c9"}' >cv6.json
req POST /v1/coupons/validate "$ckey" cv6.json
jq_is .status revoked
check "revoked_at in the verdict" [ "$(jq -r .revoked_at "$work/body")" != null ]
# every change is in the audit log: who (the key when no name is given) and what
audit=$(sqlite3 "$db" "SELECT actor || ' ' || action FROM audit_log ORDER BY id" | tr '\n' ';')
check "audit log: issue by the key, issue by ana, revoke by bo (got $audit)" \
  [ "$audit" = "key:${okey:0:12} coupon.issue;ana coupon.issue;bo coupon.revoke;" ]

step="budgets and events"
req GET /v1/budgets "$rkey"
status_is 200
jq_is '.budgets[0].promotion' flash
jq_is '.budgets[0].uses' 1
jq_is '.budgets[0].uses_left' 2
req GET '/v1/events?after=0&limit=2' "$okey"
status_is 200
jq_is '.events | length' 2
jq_is '.events[0].type' ruleset.published
jq_is .next_after 2
req GET '/v1/events?limit=abc' "$okey"
error_is 400 invalid_parameter limit
req GET /v1/events "$ckey"
error_is 403 forbidden

step="metrics and log"
req GET /metrics ""
status_is 200
for m in perk_http_requests_total perk_http_request_duration_seconds_bucket perk_evaluations_total \
         perk_vm_instructions_total 'perk_promotion_applied_total{promotion="flash"}' \
         'perk_promotion_discount_minor_total{promotion="flash"}' perk_store_commit_duration_seconds_count \
         'perk_ruleset_version 1'; do
  check "metrics have $m" grep -qF "$m" "$work/body"
done
# a SQLite store never connects again: both counts are there, at 0 (tests/pg/restart.sh: PostgreSQL)
check "metrics: no store reconnection on SQLite" bash -c "grep -qx 'perk_store_reconnects_total{result=\"ok\"} 0' '$work/body' && grep -qx 'perk_store_reconnects_total{result=\"failed\"} 0' '$work/body'"
check "access log has the request id" grep -qF '"request_id":"test-req-1"' "$work/serve.log"
check "access log lines are JSON" bash -c "grep '\"request_id\"' '$work/serve.log' | jq -e . >/dev/null"
check "no key in the log" bash -c "! grep -qF -e '$ckey' -e '$okey' -e '$rkey' '$work/serve.log'"

step="openapi"
check "docs/openapi.yaml matches the server" python3 "$root/scripts/check-openapi.py" "$root/docs/openapi.yaml" "$url" \
  "$ckey" "$okey" "$rkey"
# the reservation the check made holds flash: give it back (the contested orders below count on it)
rsv=$(sqlite3 "$db" "SELECT id FROM reservations WHERE order_id = 'OAPI-RSV'")
req POST "/v1/reservations/$rsv/release" "$ckey"
status_is 200
jq_is .released true
jq_is .state released

# ------------------------------------------------------------------ a publish under load
step="publish under 8 evaluating clients"
n=$([ "$quick" = 1 ] && echo 15 || echo 150)
urls=()
for i in $(seq 1 "$n"); do urls+=("$url/v1/evaluate"); done
for c in $(seq 1 8); do
  curl -s -H "Authorization: Bearer $ckey" --data-binary @e0.json -w ' %{http_code}\n' "${urls[@]}" >"load_$c.out" 2>/dev/null &
  bg_pids+=($!)
done
sleep 0.3
"$perk" publish v2.perk -m two --db "$db" >/dev/null
wait "${bg_pids[@]}" 2>/dev/null
bg_pids=()
cat load_*.out >load.all
check "every request answered 200 ($(wc -l <load.all) of $((8 * n)))" bash -c \
  "[ \$(grep -c ' 200\$' load.all) -eq $((8 * n)) ]"
# version 1 gives ¥20 off, version 2 ¥30: a mixed answer would pair one version with the other's price
check "every answer from exactly one version" bash -c \
  "sed 's/ 200\$//' load.all | jq -r '\"\(.ruleset_version) \(.discount)\"' | sort -u | grep -vxE '1 20.00|2 30.00' | wc -l | grep -qx 0"
for i in $(seq 1 100); do req GET /readyz ""; [ "$(jq -r .ruleset_version "$work/body")" = 2 ] && break; sleep 0.05; done
jq_is .ruleset_version 2
req POST /v1/evaluate "$ckey" e0.json
jq_is .discount 30.00

# ------------------------------------------------------------------ contested budget and coupon
step="16 concurrent orders, contested budget and coupon"
# flash has 3 uses in all (1 is taken by A1), CLUB-2 2 uses
for i in $(seq 1 16); do
  cart "B$i" "cb$i" CLUB-2 >"b$i.json"
  curl -s -o "b$i.out" -w '%{http_code}' -H "Authorization: Bearer $ckey" --data-binary "@b$i.json" "$url/v1/orders" >"b$i.code" &
  bg_pids+=($!)
done
wait "${bg_pids[@]}" 2>/dev/null
bg_pids=()
check "all 16 committed" bash -c "[ \$(cat b*.code | grep -o 201 | wc -l) -eq 16 ]"
flash=$(cat b*.out | jq -r '.result.promotions[] | select(.id=="flash") | .id' | wc -l)
club=$(cat b*.out | jq -r '.result.promotions[] | select(.id=="club") | .id' | wc -l)
check "flash applied to exactly the 2 uses left (got $flash)" [ "$flash" -eq 2 ]
check "CLUB-2 used exactly twice (got $club)" [ "$club" -eq 2 ]
req GET /v1/budgets "$okey"
jq_is '.budgets[0].uses' 3
jq_is '.budgets[0].uses_left' 0
check "each order once in the store" [ "$(sqlite3 "$db" "SELECT count(*) FROM orders WHERE order_id LIKE 'B%'")" -eq 16 ]
for i in 1 7 16; do
  req POST /v1/orders "$ckey" "b$i.json"
  check "B$i again is a replay (got $code)" [ "$code" = 200 ]
done
check "replays wrote nothing" [ "$(sqlite3 "$db" "SELECT count(*) FROM orders WHERE order_id LIKE 'B%'")" -eq 16 ]

# ------------------------------------------------------------------ customer facts from the store
step="the store's customer facts override the cart's claims"
# flash is used up: sf's first order pays ¥100.00 and earns 100 points (available at once)
cart F1 sf >f1.json
req POST /v1/orders "$ckey" f1.json
status_is 201
jq_is .points_earned 100
jq_is '.customer_facts.overrides | length' 0
printf '{"member_since":"2025-01-01"}' >ms.json
req PUT /v1/customers/sf "$okey" ms.json
status_is 200
jq_is .member_since 2025-01-01
req PUT /v1/customers/sf "$ckey" ms.json
error_is 403 forbidden
printf '{"member_since":"2025-02-30"}' >ms_bad.json
req PUT /v1/customers/sf "$okey" ms_bad.json
error_is 400 invalid_request '$.member_since'
# the cart claims a first order, no earlier order, 5000 points and a membership since 2020, and
# redeems the most it may: priced with 1 order, 100 points and member since 2025-01-01
printf '{"order":{"id":"F2","time":"%s","points_to_redeem":"max"},"customer":{"id":"sf","first_order":true,"orders":0,"points":5000,"member_since":"2020-01-01"},"lines":[{"id":"l1","sku":"T1","price":"100.00","quantity":1}]}' \
  "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >f2.json
req POST /v1/evaluate "$ckey" f2.json
status_is 200
jq_is '.customer_facts.from_store | join(",")' customer.tier,customer.points_balance,customer.first_order,customer.order_count,customer.member_since
jq_is '[.customer_facts.overrides[] | "\(.fact)=\(.claimed)->\(.store)"] | join(" ")' \
  "customer.points_balance=5000->100 customer.first_order=true->false customer.order_count=0->1 customer.member_since=2020-01-01->2025-01-01"
jq_is .redeem.redeemed 100
req POST /v1/orders "$ckey" f2.json
status_is 201
jq_is '.customer_facts.overrides | length' 4
jq_is '.customer_facts.overrides[0].store' 100
# 100 points pay ¥1.00 of the ¥100.00 (flash is used up): ¥99.00
jq_is .points_redeemed 100
jq_is .payable 99.00

step="graceful shutdown"
stop_server
check "exit 0 on SIGTERM (got $server_rc)" [ "$server_rc" -eq 0 ]
check "logged stopped" grep -qF '"event":"stopped"' "$work/serve.log"

# ------------------------------------------------------------------ limits
step="limits"
check "server restarts" start_server "$db" --max-lines 3 --max-body 4096
printf '{"lines":[%s]}' "$(for i in 1 2 3 4; do printf '{"id":"l%d","sku":"S","price":"1.00","quantity":1}' $i; [ $i -lt 4 ] && printf ,; done)" >lines4.json
req POST /v1/evaluate "$ckey" lines4.json
error_is 400 limit_exceeded '$.lines'
check "the message names max_lines" grep -qF max_lines "$work/body"
head -c 5000 /dev/zero | tr '\0' ' ' >b5k.json
req POST /v1/evaluate "$ckey" b5k.json
error_is 413 body_too_large
check "the message names max_body" grep -qF max_body "$work/body"
# a body sent in chunks without a length is counted as it arrives
req POST /v1/evaluate "$ckey" b5k.json -H 'Transfer-Encoding: chunked'
error_is 413 body_too_large
stop_server
check "server restarts" start_server "$db" --request-timeout 1
# a body trickling in (never idle for the connection timeout) and ending after the request deadline
python3 - "${url#http://127.0.0.1:}" "$ckey" >slow.txt <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(("POST /v1/evaluate HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
           "Content-Length: 100\r\n\r\n" % sys.argv[2]).encode())
reply = b""
try:
    for _ in range(4):
        s.sendall(b" " * 25)
        time.sleep(0.4)
except OSError:
    pass
s.settimeout(5)
try:
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        reply += chunk
except OSError:
    pass
print(reply.decode(errors="replace"))
PY
check "a trickling body gets 408 request_timeout" grep -qF '"code":"request_timeout"' slow.txt
check "the message names request_timeout" grep -qF '(request_timeout)' slow.txt
# slowloris: 32 connections trickle header lines, never finishing them; the server closes each
# once its headers have taken more than --request-timeout (1 s), and answers others meanwhile
python3 - "${url#http://127.0.0.1:}" >loris.txt <<'PY' &
import socket, sys, time
port = int(sys.argv[1])
socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(32)]
for s in socks:
    s.sendall(b"POST /v1/evaluate HTTP/1.1\r\nHost: x\r\n")
t0, closed = time.time(), set()
while time.time() - t0 < 6 and len(closed) < len(socks):
    for i, s in enumerate(socks):
        if i not in closed:
            try:
                s.sendall(b"X-Slow: 1\r\n")
            except OSError:
                closed.add(i)
    time.sleep(0.3)
print("closed %d after %.1f s" % (len(closed), time.time() - t0))
PY
loris=$!
sleep 0.5
req GET /healthz ""
check "answers others while 32 connections trickle headers (got $code)" [ "$code" = 200 ]
wait "$loris"
check "closes every trickling connection within 6 s ($(cat loris.txt))" grep -qE '^closed 32 after [0-5]\.' loris.txt
check "logs header_timeout" grep -qF '"event":"header_timeout"' "$work/serve.log"
stop_server

# ------------------------------------------------------------------ SIGTERM under load
step="SIGTERM under load"
check "server restarts" start_server "$db"
per=$([ "$quick" = 1 ] && echo 10 || echo 60)
for c in $(seq 1 8); do
  (
    for k in $(seq 1 "$per"); do
      cart "S${c}_$k" "s$c" >"s$c.json"
      got=$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $ckey" --data-binary "@s$c.json" "$url/v1/orders" 2>>curl_err.txt)
      [ "$got" = 201 ] && echo "S${c}_$k" >>"ok_$c.txt"
      [ "$got" = 000 ] && break # the server has stopped accepting
    done
  ) &
  bg_pids+=($!)
done
sleep "$([ "$quick" = 1 ] && echo 1 || echo 1.5)"
stop_server
wait "${bg_pids[@]}" 2>/dev/null
bg_pids=()
check "exit 0 on SIGTERM under load (got $server_rc)" [ "$server_rc" -eq 0 ]
cat ok_*.txt 2>/dev/null | sort >acked.txt
sqlite3 "$db" "SELECT order_id FROM orders WHERE order_id LIKE 'S%'" | sort >stored.txt
check "some orders were acknowledged ($(wc -l <acked.txt))" [ -s acked.txt ]
# every order the server committed was answered 201 (none cut off while in flight)
answered=$(grep -c '"path":"/v1/orders","status":201' "$work/serve.log")
check "every committed order was answered ($answered answered, $(wc -l <stored.txt) stored)" [ "$answered" -eq "$(wc -l <stored.txt)" ]
check "every acknowledged order is in the store" bash -c "[ -z \"\$(comm -23 acked.txt stored.txt)\" ]"

# ------------------------------------------------------------------ webhook delivery
step="webhook"
printf 'test-webhook-secret-0123456789\n' >secret.txt
python3 "$root/tests/service/webhook_receiver.py" secret.txt hooks.txt >hook_port.txt &
bg_pids+=($!)
for _ in $(seq 1 100); do [ -s hook_port.txt ] && break; sleep 0.05; done
hook="http://127.0.0.1:$(head -1 hook_port.txt)/hook"
check "server starts with --webhook" start_server "$db" --webhook "$hook" --webhook-secret-file secret.txt
events=$(sqlite3 "$db" "SELECT count(*) FROM events")
for _ in $(seq 1 400); do [ "$(wc -l <hooks.txt 2>/dev/null || echo 0)" -ge "$events" ] && break; sleep 0.05; done
check "all $events events delivered once, after a failed first try (got $(wc -l <hooks.txt))" \
  [ "$(wc -l <hooks.txt)" -eq "$events" ]
check "in id order, X-Perk-Event-Id matching" bash -c "[ \"\$(cut -d' ' -f1 hooks.txt | tr '\n' ' ')\" = \"\$(seq 1 $events | tr '\n' ' ')\" ] && awk '\$1 != \$2 {exit 1}' hooks.txt"
check "every signature verifies" bash -c "! grep -qv ' good\$' hooks.txt"
check "the failed try is logged" grep -qF '"event":"webhook_failed"' "$work/serve.log"
check "the secret is not logged" bash -c "! grep -qF test-webhook-secret '$work/serve.log'"
cart W1 w1 >w1.json
req POST /v1/orders "$ckey" w1.json
for _ in $(seq 1 100); do [ "$(wc -l <hooks.txt)" -gt "$events" ] && break; sleep 0.05; done
check "a new order's events follow" [ "$(tail -1 hooks.txt | cut -d' ' -f1)" -eq "$(sqlite3 "$db" "SELECT max(id) FROM events")" ]
stop_server
delivered=$(wc -l <hooks.txt)
check "server restarts" start_server "$db" --webhook "$hook" --webhook-secret-file secret.txt
sleep 0.5
check "a restart resumes: nothing delivered twice" [ "$(wc -l <hooks.txt)" -eq "$delivered" ]
stop_server
check "a webhook without a secret refuses to start" bash -c "! '$perk' serve --db '$db' --listen 127.0.0.1:0 --webhook '$hook' 2>/dev/null"

# ------------------------------------------------------------------ reservations
step="reservations"
db3="$work/rsv.db"
"$perk" publish v1.perk -m one --db "$db3" >/dev/null
"$perk" coupons add CLUB-9 --campaign CLUB --max-uses 1 --db "$db3" >/dev/null 2>&1
ckey3=$("$perk" keys create --scope checkout --db "$db3" 2>/dev/null)
rkey3=$("$perk" keys create --scope read --db "$db3" 2>/dev/null)
okey3=$("$perk" keys create --scope operator --db "$db3" 2>/dev/null)
check "server starts" start_server "$db3"
# X1 holds flash (¥20) and CLUB-9 (¥5, its only use): ¥100.00 - 25.00 = 75.00
cart X1 x1 CLUB-9 >x1.json
req POST '/v1/reservations?ttl=600' "$ckey3" x1.json
status_is 201
jq_is .state open
jq_is .discount 25.00
jq_is .payable 75.00
jq_is .ttl_seconds 600
r1=$(jq -r .reservation_id "$work/body")
check "a reservation id is rsv_ and 32 hex digits" bash -c "[[ '$r1' =~ ^rsv_[0-9a-f]{32}\$ ]]"
check "expires 600 s from now" bash -c "(( \$(jq -r .expires_at '$work/body') - \$(date +%s) >= 598 ))"
req GET "/v1/reservations/$r1" "$rkey3"
status_is 200
jq_is .promotions_held 2
jq_is .coupons_held 1
jq_is .customer_id x1
# X2 holds flash for 4 s (from the store's clock in whole seconds: more than 3 s from now, time
# for the checks below on a loaded machine), X3 for
# 900 s (the default): 3 of flash's 3 uses are held
cart X2 x2 >x2.json
req POST '/v1/reservations?ttl=4' "$ckey3" x2.json
status_is 201
jq_is .discount 20.00
r2=$(jq -r .reservation_id "$work/body")
cart X3 x3 >x3.json
req POST /v1/reservations "$ckey3" x3.json
status_is 201
jq_is .ttl_seconds 900
r3=$(jq -r .reservation_id "$work/body")
req GET /v1/budgets "$okey3"
jq_is '.budgets[0].uses' 3
jq_is '.budgets[0].uses_left' 0
# another customer's order: flash and CLUB-9 are held by others, so neither applies
cart X4 x4 CLUB-9 >x4.json
req POST /v1/orders "$ckey3" x4.json
status_is 201
jq_is .discount 0.00
# a reservation while everything is held: priced without them, and no budget is exceeded
cart X5 x5 >x5.json
req POST /v1/reservations "$ckey3" x5.json
status_is 201
jq_is .discount 0.00
req GET /v1/budgets "$okey3"
jq_is '.budgets[0].uses' 3
# X2's TTL ends: its hold is given back (and the sweep counts it)
sleep 4.2
req GET "/v1/reservations/$r2" "$ckey3"
jq_is .state expired
req GET /v1/budgets "$okey3"
jq_is '.budgets[0].uses' 2
req GET /metrics ""
check "metrics: 3 reservations open" grep -qx 'perk_reservations_open 3' "$work/body"
check "metrics: 1 reservation expired" grep -qx 'perk_reservations_expired_total 1' "$work/body"
# x1 pays: the order consumes R1 and gets the reserved price
req POST "/v1/orders?reservation=$r1" "$ckey3" x1.json
status_is 201
jq_is .reservation_consumed true
jq_is .discount 25.00
jq_is .payable 75.00
req GET "/v1/reservations/$r1" "$rkey3"
jq_is .state committed
jq_is .order_id X1
# x2's reservation expired: the order is priced afresh (flash has a use left again)
req POST "/v1/orders?reservation=$r2" "$ckey3" x2.json
status_is 201
jq_is .reservation_consumed false
jq_is .discount 20.00
check "flash: committed never over 3 ($(sqlite3 "$db3" "SELECT uses FROM budget_totals WHERE promo_id='flash'"))" \
  [ "$(sqlite3 "$db3" "SELECT uses FROM budget_totals WHERE promo_id='flash'")" -eq 2 ]
# evaluate as the cart says (the default): it carries no usage, so flash applies (¥20.00), and no
# verdict for CLUB-9, so it is an unknown code; ?budgets=store prices as a commit now would: flash's
# 3 uses are 2 committed + 1 held by R3, CLUB-9's one use is X1's, so ¥0.00 off
rows3() { sqlite3 "$db3" "SELECT (SELECT count(*) FROM reservations) || ' ' || (SELECT count(*) FROM orders)"; }
rows_before=$(rows3)
cart X7 x7 CLUB-9 >x7.json
req POST '/v1/evaluate?explain=all' "$ckey3" x7.json
status_is 200
jq_is .discount 20.00
jq_is '.coupons[0].verdict' unknown
req POST '/v1/evaluate?explain=all&budgets=store' "$ckey3" x7.json
status_is 200
jq_is .discount 0.00
jq_is .payable 100.00
jq_is '[.promotions[] | select(.id == "flash")][0].applied' false
jq_is '[.promotions[] | select(.id == "flash")][0].reason' budget_uses
jq_is '.coupons[0].verdict' used_up
jq_is '.customer_facts.from_store | length' 4
# an anonymous cart with no order id or time: the store's budgets and clock, no customer facts
printf '{"lines":[{"id":"l1","sku":"T1","price":"100.00","quantity":1}],"coupons":["CLUB-9"]}' >anon3.json
req POST '/v1/evaluate?explain=applied&budgets=store' "$ckey3" anon3.json
status_is 200
jq_is .discount 0.00
jq_is 'has("customer_facts")' false
req POST '/v1/evaluate?budgets=everything' "$ckey3" anon3.json
error_is 400 invalid_parameter budgets
check "evaluating against the store held and wrote nothing ($rows_before, then $(rows3))" [ "$(rows3)" = "$rows_before" ]
req POST "/v1/reservations/$r3/release" "$ckey3"
status_is 200
jq_is .released true
req POST "/v1/reservations/$r3/release" "$ckey3"
status_is 200
jq_is .released false
# R3 released: flash has a use left again, and the store-priced cart gets it (¥20.00)
req POST '/v1/evaluate?budgets=store' "$ckey3" x7.json
jq_is .discount 20.00
req POST "/v1/reservations/$r1/release" "$ckey3"
error_is 409 conflict
req GET /v1/reservations/rsv_nothing "$rkey3"
error_is 404 not_found
req POST '/v1/reservations?ttl=0' "$ckey3" x3.json
error_is 400 invalid_parameter ttl
req POST /v1/reservations "$rkey3" x3.json
error_is 403 forbidden
printf '{"lines":[{"id":"l1","sku":"T1","price":"1.00","quantity":1}]}' >noid3.json
req POST /v1/reservations "$ckey3" noid3.json
error_is 400 invalid_order '$.order.id'
# the Python example (docs/service.md): flash has one use left, so ¥100.00 - 20.00 = 80.00 all along
step="python example"
python3 "$root/examples/checkout.py" "$url" "$ckey3" PY1 py1 >py.out 2>py.err
check "examples/checkout.py exits 0" [ $? -eq 0 ]
check "it evaluates at 80.00" grep -qE '^evaluate: payable 80.00 \(discount 20.00, version 1\)$' py.out
check "it reserves at 80.00" grep -qE '^reserve: rsv_[0-9a-f]{32} payable 80.00 until [0-9]+$' py.out
check "it commits at 80.00, consuming the reservation" \
  grep -qxF 'commit: PY1 committed payable 80.00 reservation_consumed true points 80' py.out
check "the order is in the store once" [ "$(sqlite3 "$db3" "SELECT count(*) FROM orders WHERE order_id = 'PY1'")" -eq 1 ]
python3 "$root/examples/checkout.py" "$url" "$rkey3" PY2 py2 >py2.out 2>py2.err
check "with a read key it exits 1" [ $? -eq 1 ]
check "and prints the service's error" grep -qF 'error: POST /v1/evaluate?explain=applied: 403 forbidden' py2.err
# a released reservation is ignored: X5 is priced afresh, and PY1 took flash's last use
req POST "/v1/orders?reservation=$r3" "$ckey3" x5.json
status_is 201
jq_is .reservation_consumed false
jq_is .discount 0.00

# a code revoked while a reservation holds it: the revocation wins (docs/service.md, "Coupons")
step="a coupon revoked while reserved"
printf '{"code":"RV-1","campaign":"CLUB","customer_id":"x6","max_uses":1}' >rv1.json
req POST /v1/coupons "$okey3" rv1.json
status_is 201
# flash is used up: the code's ¥5 is the whole discount
cart X6 x6 RV-1 >x6.json
req POST /v1/reservations "$ckey3" x6.json
status_is 201
jq_is .discount 5.00
r6=$(jq -r .reservation_id "$work/body")
printf '{"reason":"fraud","by":"ops"}' >rvr.json
req POST /v1/coupons/RV-1/revoke "$okey3" rvr.json
status_is 200
jq_is .held_by_reservations 1
jq_is .coupon.status revoked
req POST "/v1/orders?reservation=$r6" "$ckey3" x6.json
status_is 201
jq_is .discount 0.00
jq_is .payable 100.00
jq_is '.result.coupons[0].verdict' revoked
jq_is '.result.coupons[0].accepted' false
check "no use of RV-1 was recorded" [ "$(sqlite3 "$db3" "SELECT count(*) FROM coupon_uses WHERE code = 'RV1'")" -eq 0 ]
# a code used up by a committed order has nothing left to revoke
printf '{"code":"RV-2","campaign":"CLUB","customer_id":"x7","max_uses":1}' >rv2i.json
req POST /v1/coupons "$okey3" rv2i.json
status_is 201
cart X7 x7 RV-2 >x7.json
req POST /v1/orders "$ckey3" x7.json
status_is 201
jq_is .discount 5.00
req GET /v1/customers/x7/coupons "$rkey3"
jq_is '.coupons[0].status' used_up
jq_is '.coupons[0].uses' 1
req POST /v1/coupons/RV-2/revoke "$okey3" rvr.json
error_is 409 used_up code
# an order committed with a code that is revoked afterwards still replays at its price
printf '{"code":"RV-3","campaign":"CLUB","customer_id":"x8","max_uses":2}' >rv3i.json
req POST /v1/coupons "$okey3" rv3i.json
status_is 201
cart X8 x8 RV-3 >x8.json
req POST /v1/orders "$ckey3" x8.json
status_is 201
jq_is .discount 5.00
req POST /v1/coupons/RV-3/revoke "$okey3" rvr.json
status_is 200
req POST /v1/orders "$ckey3" x8.json
status_is 200
jq_is .status already_committed
jq_is .discount 5.00
stop_server

# ------------------------------------------------------------------ reward coupons (满500返50券)
step="reward coupons"
db4="$work/reward.db"
cat >reward.perk <<'EOF2'
ruleset "shop" { currency CNY timezone "Asia/Shanghai" }
promotion back "满500返券" {
  when sum(items) >= ¥500
  then coupon from "BACK" valid 30 days
}
promotion use_back "返券抵50" {
  requires coupon from "BACK"
  then ¥50 off order
}
EOF2
"$perk" publish reward.perk -m rewards --db "$db4" >/dev/null
ckey4=$("$perk" keys create --scope checkout --db "$db4" 2>/dev/null)
rkey4=$("$perk" keys create --scope read --db "$db4" 2>/dev/null)
okey4=$("$perk" keys create --scope operator --db "$db4" 2>/dev/null)
check "server starts" start_server "$db4"
# the evaluation says what a commit would issue
cart W1 w1 "" 600.00 >w1.json
req POST /v1/evaluate "$ckey4" w1.json
jq_is '.reward_coupons[0].campaign' BACK
jq_is '.reward_coupons[0].valid_days' 30
req POST /v1/orders "$ckey4" w1.json
status_is 201
jq_is '.reward_coupons | length' 1
jq_is '.reward_coupons[0].campaign' BACK
jq_is '.reward_coupons[0].promotion' back
check "valid for 30 days (2592000 s)" bash -c "(( \$(jq -r '.reward_coupons[0].expires_at - .reward_coupons[0].valid_from' '$work/body') == 2592000 ))"
wcode=$(jq -r '.reward_coupons[0].code' "$work/body")
# a retry returns the same code
req POST /v1/orders "$ckey4" w1.json
status_is 200
jq_is '.reward_coupons[0].code' "$wcode"
check "one code issued" [ "$(sqlite3 "$db4" "SELECT count(*) FROM coupons")" -eq 1 ]
printf '{"code":"%s","customer_id":"w1"}' "$wcode" >wv1.json
req POST /v1/coupons/validate "$ckey4" wv1.json
jq_is .valid true
printf '{"code":"%s","customer_id":"w2"}' "$wcode" >wv2.json
req POST /v1/coupons/validate "$ckey4" wv2.json
jq_is .status not_for_customer
req GET /v1/customers/w1/coupons "$rkey4"
jq_is '.coupons | length' 1
jq_is '.coupons[0].code' "$wcode"
jq_is '.coupons[0].max_uses' 1
# a ¥100 order earns nothing
cart W2 w1 >w2.json
req POST /v1/orders "$ckey4" w2.json
status_is 201
jq_is '.reward_coupons | length' 0
# cancelling W1 revokes the unused code
req POST /v1/orders/W1/cancel "$okey4"
status_is 201
jq_is .full true
jq_is .rewards_revoked 1
jq_is .rewards_kept 0
req POST /v1/coupons/validate "$ckey4" wv1.json
jq_is .status revoked
stop_server

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
