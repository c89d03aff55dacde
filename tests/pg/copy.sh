#!/usr/bin/env bash
# tests/pg/copy.sh PERK - perk db copy from a SQLite store to PostgreSQL (PERK_TEST_PG, a URI: run
# it inside tests/pg/with-cluster.sh) and back: a SQLite store with versions and activations (a
# rollback), orders, a refund and a cancellation, coupons and their uses, a reservation (made through
# a real `perk serve`), ledger entries, events and a consumer position, API keys and a console user
# is copied; perk db check passes on both ends; the row counts printed match the source's; the
# same answers come from both (perk points, perk coupons list, perk history, perk events, perk
# budgets); ids go on after the copied ones (a new order on the copy); a target that holds data is
# refused and left as it was; the copy back to a new SQLite file answers the same again.
# Prints one line per failed check and ends with "N passed, N failed" (tests/run.sh counts it).
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
perk=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
[ -x "$perk" ] || give_up "usage: tests/pg/copy.sh PATH/TO/perk"
need_pg
work=$(mktemp -d)
server_pid=""
cleanup() {
  kill_all ${server_pid:+"$server_pid"}
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work" || exit 1
unset PERK_DB
pg=$(use_schema copy_to)
db=$work/perk.db

# ------------------------------------------------------------------ the SQLite shop
cat >shop.perk <<'EOF2'
ruleset "shop" { currency CNY timezone "Asia/Shanghai" }
promotion flash "限量立减" {
  limit 3 uses
  then ¥20 off order
}
promotion club "会员券" {
  requires coupon from "CLUB"
  then ¥5 off order
}
promotion back "满150返券" {
  when order.subtotal >= ¥150
  then coupon from "BACK" valid 30 days
}
promotion use_back "返券抵1元" {
  requires coupon from "BACK"
  then ¥1 off order
}
earn base "消费积分" { then 1 point per ¥1 on items }
redeem { rate 100 points = ¥1 pays for goods }
EOF2
sed 's/¥20 off/¥25 off/' shop.perk >shop2.perk
"$perk" publish shop.perk -m one --db "$db" >/dev/null
"$perk" publish shop2.perk -m two --db "$db" >/dev/null
"$perk" rollback 1 -m back --db "$db" >/dev/null
for k in 1 2 3; do "$perk" coupons add "CLUB-$k" --campaign CLUB --max-uses 2 --db "$db" >/dev/null; done
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
order() { # ID CUSTOMER [COUPON]
  local coupons="[]"
  [ -n "${3:-}" ] && coupons="[\"$3\"]"
  printf '{"order":{"id":"%s","time":"%s"},"customer":{"id":"%s"},"lines":[{"id":"l1","sku":"TEA","price":"100.00","quantity":1},{"id":"l2","sku":"CUP","price":"50.00","quantity":2}],"coupons":%s}\n' \
    "$1" "$now" "$2" "$coupons"
}
for i in 1 2 3 4 5; do
  order "A$i" "c$((i % 3))" "CLUB-$((i % 3 + 1))" >"a$i.json"
  "$perk" commit "a$i.json" --db "$db" >/dev/null || echo "setup: commit A$i failed"
done
"$perk" refund A1 --id R1 --lines l1=45.00 --db "$db" >/dev/null || echo "setup: refund failed"
"$perk" cancel A2 --db "$db" >/dev/null || echo "setup: cancel failed"
"$perk" events --consumer crm --ack --limit 3 --db "$db" >/dev/null
printf 'correct horse battery staple\n' >pw.txt
"$perk" users add ana --role viewer --password-file pw.txt --db "$db" >/dev/null || echo "setup: users add failed"
key=$("$perk" keys create --scope checkout --db "$db" 2>/dev/null)
# a reservation, through a real perk serve on the SQLite store
: >serve.log
"$perk" serve --db "$db" --listen 127.0.0.1:0 --threads 2 2>>serve.log &
server_pid=$!
port=$(listen_port serve.log "$server_pid" 200)
order H1 c1 CLUB-3 >h1.json
code=$(curl -s -o res.json -w '%{http_code}' -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
  --data-binary @h1.json "http://127.0.0.1:$port/v1/reservations?ttl=3600")
check "a reservation is held on the SQLite store (status $code)" [ "$code" = 201 ]
kill -TERM "$server_pid"
wait "$server_pid"
server_pid=""
check "perk db check passes on the SQLite store" "$perk" db check --db "$db" >/dev/null

# ------------------------------------------------------------------ SQLite -> PostgreSQL
"$perk" db copy --from "$db" --to "$pg" >copy.out 2>copy.err
check "perk db copy to PostgreSQL exits 0 ($(head -c 300 copy.err))" [ $? -eq 0 ]
check "the copy ran perk db check on both ends" [ "$(grep -c ': ok (perk db check)' copy.out)" -eq 2 ]
for t in versions activations coupons orders coupon_uses budget_uses ledger refunds events consumers order_lines \
  refund_lines reservations reservation_holds api_keys console_users; do
  want=$(sqlite3 "$db" "SELECT count(*) FROM $t")
  printed=$(awk -v t="$t" '$1 == t { print $2 }' copy.out)
  got=$(psql_q "SELECT count(*) FROM copy_to.$t")
  check "$t: $want rows in SQLite, $printed printed, $got in PostgreSQL" [ "$want" -gt 0 ] && [ "$printed" = "$want" ] && [ "$got" = "$want" ]
done
check "perk db check passes on the PostgreSQL copy" "$perk" db check --db "$pg" >/dev/null

# the same answers from both stores
same() { # WHAT CMD... (run with --db appended: each store)
  local what=$1
  shift
  "$@" --db "$db" >a.out 2>&1
  "$@" --db "$pg" >b.out 2>&1
  check "$what: the same answer from SQLite and PostgreSQL" cmp -s a.out b.out
  [ -s a.out ] || check "$what answers something" false
  cmp -s a.out b.out || diff a.out b.out | head -6
}
for c in c0 c1 c2; do same "perk points $c" "$perk" points "$c" --json --now 2030-01-01; done
"$perk" coupons wallet c1 --json --db "$db" | jq -S 'del(.at)' >a.out
"$perk" coupons wallet c1 --json --db "$pg" | jq -S 'del(.at)' >b.out
check "perk coupons wallet c1 (but its time): the same answer from SQLite and PostgreSQL" cmp -s a.out b.out
same "perk history" "$perk" history --json
same "perk history --activations" "$perk" history --activations --json
same "perk events (the outbox)" "$perk" events --after 0
same "perk events for consumer crm" "$perk" events --consumer crm
# the counters, row by row, as each database prints them
rows() { # SQL
  sqlite3 -separator '|' "$db" "$1" >a.rows
  psql -X -A -t -q -F '|' "$pg" -c "$1" >b.rows
  check "the same rows from both: $1" cmp -s a.rows b.rows
  [ -s a.rows ] || check "some rows for: $1" false
}
rows "SELECT code, campaign, uses, max_uses, max_per_customer, only_customer FROM coupons ORDER BY code"
rows "SELECT code, order_id, customer_id, CASE WHEN released_at IS NULL THEN 1 ELSE 0 END FROM coupon_uses ORDER BY id"
rows "SELECT ruleset, promo_id, uses, money FROM budget_totals ORDER BY ruleset, promo_id"
rows "SELECT id, reservation_id, promo_id, code, discount FROM reservation_holds ORDER BY id"
rows "SELECT order_id, promo_id, code FROM reward_coupons ORDER BY order_id"

# ids go on after the copied ones; the copy takes new work
max_events=$(sqlite3 "$db" "SELECT max(id) FROM events")
check "a publish on the copy" "$perk" publish shop2.perk -m three --db "$pg" --json >pub.json
check "its version id follows the copied ones ($(jq -r .version pub.json 2>/dev/null))" [ "$(psql_q "SELECT max(id) FROM copy_to.versions")" = 3 ]
check "its event id follows the copied ones" [ "$(psql_q "SELECT max(id) FROM copy_to.events")" -gt "$max_events" ]
check "a console user added on the copy" "$perk" users add bob --role viewer --password-file pw.txt --db "$pg" >/dev/null
check "perk db check passes on the copy after new work" "$perk" db check --db "$pg" >/dev/null

# a target with data is refused, and left as it was
orders=$(psql_q "SELECT count(*) FROM copy_to.orders")
"$perk" db copy --from "$db" --to "$pg" >again.out 2>again.err
check "a copy into a store that holds data fails (exit 1)" [ $? -eq 1 ]
check "and says why ($(head -c 200 again.err))" grep -q "already holds data" again.err
check "and leaves it as it was" [ "$(psql_q "SELECT count(*) FROM copy_to.orders")" = "$orders" ]
"$perk" db copy --from "$db" >/dev/null 2>usage.err
check "perk db copy without --to is a usage error (exit 2)" [ $? -eq 2 ]
"$perk" db copy --from nowhere.db --to "$work/x.db" >/dev/null 2>missing.err
check "a missing source is named ($(head -c 200 missing.err))" grep -q "nowhere.db" missing.err

# ------------------------------------------------------------------ PostgreSQL -> SQLite
"$perk" db copy --from "$pg" --to "$work/back.db" >back.out 2>back.err
check "perk db copy back to a new SQLite file exits 0 ($(head -c 300 back.err))" [ $? -eq 0 ]
for c in c0 c1 c2; do
  "$perk" points "$c" --json --now 2030-01-01 --db "$pg" >a.out 2>&1
  "$perk" points "$c" --json --now 2030-01-01 --db "$work/back.db" >b.out 2>&1
  check "perk points $c: the same from PostgreSQL and its copy back" cmp -s a.out b.out
done
check "the copy back has the version published on the copy" [ "$(sqlite3 back.db "SELECT count(*) FROM versions")" = 3 ]
check "the copy back has the user added on the copy" [ "$(sqlite3 back.db "SELECT count(*) FROM console_users WHERE name = 'bob'")" = 1 ]
check "perk db check passes on the copy back" "$perk" db check --db "$work/back.db" >/dev/null

summary
