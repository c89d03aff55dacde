#!/usr/bin/env bash
# tests/service/contest.sh PERK - 16 concurrent clients commit 2,000 orders over HTTP to the REAL
# `perk serve` (each client one curl process on keep-alive connections), while 4 more hold
# reservations, against contested budgets: a use limit, a money limit, a per-customer limit and
# coupons with a use limit. Checks that no limit is ever exceeded (committed + still held <=
# limit), that every order was answered 201 and is in the store exactly once with its ledger rows
# and event once, and that the discounts answered are the ones stored.
# PERK_TEST_QUICK=1 (valgrind runs) commits 160 orders instead.
# Prints one line per failed check and ends with "N passed, N failed" (tests/run.sh counts it).
set -u
perk=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
[ -x "$perk" ] || { echo "usage: tests/service/contest.sh PATH/TO/perk"; echo "0 passed, 1 failed"; exit 1; }
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
wrap=${PERK_WRAP:-}
per=$([ "${PERK_TEST_QUICK:-0}" = 1 ] && echo 10 || echo 125) # orders per client; 16 clients

passed=0
failed=0
check() {
  local what=$1
  shift
  if "$@"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL $what"
  fi
}
q() { sqlite3 "$work/perk.db" "$1"; }

# flash: ¥20 off, 50 uses in all. cap: ¥15 off, ¥1000 in all, partial (66 full uses: 66 x 15 = 990, and
# a 67th gets the ¥10 left). once: ¥3 off, once per customer (40 customers). club: ¥5 off with a CLUB code
# (10 codes of 5 uses each). Every order is ¥100.00 and earns 1 point per ¥1.
cat >rules.perk <<'EOF'
ruleset "shop" { currency CNY timezone "Asia/Shanghai" }
promotion flash "限量立减" {
  limit 50 uses
  then ¥20 off order
}
promotion cap "预算立减" {
  limit ¥1000 total, partial
  then ¥15 off order
}
promotion once "首单立减" {
  limit 1 per customer
  then ¥3 off order
}
promotion club "会员券" {
  requires coupon from "CLUB"
  then ¥5 off order
}
earn base "消费积分" { then 1 point per ¥1 on items }
EOF
"$perk" publish rules.perk -m contest --db perk.db >/dev/null
for k in $(seq 0 9); do "$perk" coupons add "CLUB-$k" --campaign CLUB --max-uses 5 --db perk.db >/dev/null; done
key=$("$perk" keys create --scope checkout --db perk.db 2>/dev/null)

: >serve.log
$wrap "$perk" serve --db perk.db --listen 127.0.0.1:0 --threads 4 --poll-ms 100 2>>serve.log &
server_pid=$!
port=""
for _ in $(seq 1 600); do
  port=$(grep -o '"listening on 127.0.0.1:[0-9]*' serve.log | head -1 | sed 's/.*://')
  [ -n "$port" ] && break
  sleep 0.05
done
check "server starts" [ -n "$port" ]
url="http://127.0.0.1:$port"

# one curl config per client: every request a distinct order (client c, number k), customer
# c<k % 40>, coupon CLUB-<k % 10>; answers appended to out_c as "<status> <body>" lines
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
write_config() { # CLIENT PREFIX PATH COUNT
  local c=$1 prefix=$2 path=$3 n=$4 k
  for k in $(seq 1 "$n"); do
    printf 'url = "%s%s"\nheader = "Authorization: Bearer %s"\nheader = "Content-Type: application/json"\n' \
      "$url" "$path" "$key"
    printf 'data = "{\\"order\\":{\\"id\\":\\"%s%d-%d\\",\\"time\\":\\"%s\\"},\\"customer\\":{\\"id\\":\\"c%d\\"},' \
      "$prefix" "$c" "$k" "$now" $(((c * n + k) % 40))
    printf '\\"lines\\":[{\\"id\\":\\"l1\\",\\"sku\\":\\"T1\\",\\"price\\":\\"100.00\\",\\"quantity\\":1}],\\"coupons\\":[\\"CLUB-%d\\"]}"\n' \
      $(((c + k) % 10))
    printf 'write-out = "%%{http_code} "\noutput = "/dev/stdout"\n'
    [ "$k" -lt "$n" ] && printf 'next\n'
  done
}
for c in $(seq 1 16); do write_config "$c" O /v1/orders "$per" >"cfg_$c"; done
for c in $(seq 1 4); do write_config "$c" R '/v1/reservations?ttl=600' 10 >"rcfg_$c"; done
start=$(date +%s.%N)
for c in $(seq 1 16); do
  (curl -s -K "cfg_$c" | sed 's/}\([0-9][0-9][0-9]\) /}\n\1 /g' >"out_$c") &
  bg_pids+=($!)
done
for c in $(seq 1 4); do
  (curl -s -K "rcfg_$c" >"rout_$c") &
  bg_pids+=($!)
done
wait "${bg_pids[@]}" 2>/dev/null
bg_pids=()
secs=$(echo "$(date +%s.%N) - $start" | bc)
total=$((16 * per))
echo "# $total orders and 40 reservations in ${secs}s"

# each out_c holds "{...}201 {...}201 ..." pieces: split them into one "body status" per line
cat out_* | grep -o '{"order_id".*' >answers.txt
answers=$(grep -c '"order_id"' answers.txt)
check "every order answered ($answers of $total)" [ "$answers" -eq "$total" ]
check "every order answered 201 committed" bash -c "[ \$(grep -c '\"status\":\"committed\"' answers.txt) -eq $total ]"
check "$total orders stored, once each" [ "$(q "SELECT count(*) FROM orders")" -eq "$total" ]
check "one earn ledger row per order" [ "$(q "SELECT count(*) FROM ledger WHERE kind = 'earn'")" -eq "$total" ]
check "no order without its earn row" [ "$(q "SELECT count(*) FROM orders o WHERE (SELECT count(*) FROM ledger l WHERE l.order_id = o.order_id AND l.kind = 'earn') <> 1")" -eq 0 ]
check "one order.committed event per order" [ "$(q "SELECT count(*) FROM events WHERE type = 'order.committed'")" -eq "$total" ]

# committed plus what open reservations still hold, per budget and coupon
held() { q "SELECT count(*) FROM reservation_holds h JOIN reservations r ON r.id = h.reservation_id WHERE r.state = 'open' AND $1"; }
flash=$(($(q "SELECT uses FROM budget_totals WHERE promo_id = 'flash'") + $(held "h.promo_id = 'flash'")))
check "flash: committed + held = 50 uses, its limit (got $flash)" [ "$flash" -eq 50 ]
cap=$(($(q "SELECT money FROM budget_totals WHERE promo_id = 'cap'") + $(q "SELECT coalesce(sum(h.discount), 0) FROM reservation_holds h JOIN reservations r ON r.id = h.reservation_id WHERE r.state = 'open' AND h.promo_id = 'cap'")))
# the engine gives the last use what is left of the money budget: 66 x 1500 + 1000 = 100000
check "cap: committed + held = 100000 fen, its limit, never more (got $cap)" [ "$cap" -eq 100000 ]
odd=$(q "SELECT group_concat(d) FROM (SELECT discount d FROM budget_uses WHERE promo_id = 'cap' AND released_at IS NULL UNION ALL SELECT h.discount FROM reservation_holds h JOIN reservations r ON r.id = h.reservation_id WHERE r.state = 'open' AND h.promo_id = 'cap') WHERE d <> 1500")
check "cap: one use got the 1000 fen left, every other 1500 (got '$odd')" [ "$odd" = 1000 ]
over=$(q "SELECT count(*) FROM (SELECT u.customer_id, count(*) n FROM budget_uses u WHERE u.promo_id = 'once' AND u.released_at IS NULL GROUP BY u.customer_id) WHERE n > 1")
check "once: no customer used it twice (got $over)" [ "$over" -eq 0 ]
once=$(($(q "SELECT uses FROM budget_totals WHERE promo_id = 'once'") + $(held "h.promo_id = 'once'")))
check "once: 40 customers, 40 uses committed or held (got $once)" [ "$once" -eq 40 ]
for k in 0 3 9; do
  n=$(($(q "SELECT count(*) FROM coupon_uses WHERE code = 'CLUB$k' AND released_at IS NULL") + $(held "h.code = 'CLUB$k'")))
  check "CLUB-$k: committed + held = 5 uses, its limit (got $n)" [ "$n" -eq 5 ]
done
check "coupon counters match their uses" [ "$(q "SELECT count(*) FROM coupons c WHERE c.uses <> (SELECT count(*) FROM coupon_uses u WHERE u.code = c.code AND u.released_at IS NULL)")" -eq 0 ]
# what was answered is what was stored: ¥ in the answers, fen in the store
answered=$(jq -r '.discount' answers.txt | awk '{ s += $1 * 100 } END { printf "%d", s }')
stored=$(q "SELECT sum(discount) FROM orders")
check "the discounts answered add up to the stored ones ($answered = $stored fen)" [ "$answered" -eq "$stored" ]
check "the server is still up" kill -0 "$server_pid"
kill -TERM "$server_pid"
wait "$server_pid"
check "exit 0 on SIGTERM" [ $? -eq 0 ]
server_pid=""

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
