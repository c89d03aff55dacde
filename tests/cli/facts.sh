#!/usr/bin/env bash
# tests/cli/facts.sh PERK - the store owns the customer facts it knows (issue 14, item 3) on the
# command line: `perk customers set/import/show` record and show the CRM's membership, `perk
# commit` prices an order with the store's tier, points, order count and member_since whatever
# the cart claims and reports each override, and `perk eval --db` prices the same way.
# Prints "N passed, N failed".
set -u
perk=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
[ -x "$perk" ] || { echo "usage: tests/cli/facts.sh PATH/TO/perk"; echo "0 passed, 1 failed"; exit 1; }
work=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
cd "$work" || exit 1
unset PERK_DB
db="$work/perk.db"

passed=0
failed=0
step=""
rc=0
run() {
  step=$1
  local want=$2
  shift 2
  "$@" >"$work/out" 2>"$work/err"
  rc=$?
  check "exit status $want" [ "$rc" -eq "$want" ]
}
check() {
  local what=$1
  shift
  if "$@"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL [$step] $what (exit status $rc)"
    sed 's/^/    out: /' "$work/out" | head -15
    sed 's/^/    err: /' "$work/err" | head -15
  fi
}
out_has() { check "stdout has '$1'" grep -qF -- "$1" "$work/out"; }
err_has() { check "stderr has '$1'" grep -qF -- "$1" "$work/err"; }
# jq_is FILTER EXPECTED: stdout's value (jq -r) equals EXPECTED.
jq_is() {
  local got
  got=$(jq -r "$1" "$work/out" 2>/dev/null)
  check "$1 is '$2' (got '$got')" [ "$got" = "$2" ]
}

# Every order is one line of ¥200.00. gold: 10% off; a first order: ¥15 off; a member of a year
# or more: ¥5 off; 1 point per ¥1 paid for goods, 100 points = ¥1. Points are available at once.
cat >shop.perk <<'EOF2'
ruleset "shop" { currency CNY timezone "Asia/Shanghai" }
tier silver "银卡" { spend ¥100 within 365 days }
tier gold "金卡" { spend ¥1000 within 365 days }
promotion gold_day "金卡9折" { priority 10 when customer.tier >= gold then 10% off order }
promotion newcomer "新人券" { priority 20 when customer.first_order then ¥15 off order }
promotion loyal "老会员立减" { priority 30 when today - customer.member_since >= 365 days then ¥5 off order }
earn base "消费积分" { then 1 point per ¥1 on items }
redeem { rate 100 points = ¥1 pays for goods }
EOF2
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
recent=$(date -u -d '-30 days' +%Y-%m-%d)
# order ID CUSTOMER_EXTRA [ORDER_EXTRA]
order() {
  printf '{"order":{"id":"%s","time":"%s"%s},"customer":{"id":"ann"%s},"lines":[{"id":"L1","sku":"TEA","price":"200.00","quantity":1}]}\n' \
    "$1" "$now" "${3:-}" "$2"
}

run "publish" 0 "$perk" publish shop.perk -m one --db "$db"

# ------------------------------------------------------------------ perk customers
run "set without --member-since" 2 "$perk" customers set ann --db "$db"
err_has "needs --member-since"
run "set an impossible date" 2 "$perk" customers set ann --member-since 2026-02-30 --db "$db"
err_has "wants a date YYYY-MM-DD"
run "set in a store that does not exist" 1 "$perk" customers set ann --member-since "$recent" --db "$work/nope.db"
check "no store was created" [ ! -e "$work/nope.db" ]
run "set" 0 "$perk" customers set ann --member-since "$recent" --db "$db"
out_has "customer ann: member since $recent"
run "show a new customer" 0 "$perk" customers show ann --db "$db"
jq_is .member_since "$recent"
jq_is .first_order true
jq_is .order_count 0
jq_is .tier null

# ------------------------------------------------------------------ perk commit
# A1 claims gold and a membership since 2020. Claimed: 20000 - 2000 - 1500 - 500 = 16000. The
# store: no tier, member for 30 days: 20000 - 1500 = 18500 (¥185.00), 185 points, silver after.
order A1 ', "tier": "gold", "member_since": "2020-01-01"' >a1.json
run "commit A1" 0 "$perk" commit a1.json --db "$db"
jq_is .result.payable 185.00
jq_is .points_earned 185
jq_is .tier silver
jq_is '[.customer_facts.overrides[] | "\(.fact)=\(.claimed)->\(.store)"] | join(" ")' \
  "customer.tier=gold->null customer.member_since=2020-01-01->$recent"
# A2 claims a first order (新人券 again), no orders, gold and 5000 points, and redeems the most it
# may. Claimed: 20000 - 2000 - 1500 - 5000 points (¥50) = 11500. The store: silver, 1 order, 185
# points: 20000 - 185 = 19815 (¥198.15); 198 points earned; balance 185 - 185 + 198 = 198 (shown
# by perk customers show below: the commit's own "balance" is at the order's time, which may be a
# second before the store's clock stamped A1's points).
order A2 ', "tier": "gold", "first_order": true, "orders": 0, "points": 5000' ', "points_to_redeem": "max"' >a2.json
run "commit A2" 0 "$perk" commit a2.json --db "$db"
jq_is .result.payable 198.15
jq_is .points_redeemed 185
jq_is .points_earned 198
jq_is '[.customer_facts.overrides[] | "\(.fact)=\(.claimed)->\(.store)"] | join(" ")' \
  "customer.tier=gold->silver customer.points_balance=5000->185 customer.first_order=true->false customer.order_count=0->1"
run "commit A2 again replays" 0 "$perk" commit a2.json --db "$db"
jq_is .status "already committed"
jq_is .result.payable 198.15

# ------------------------------------------------------------------ perk eval --db
# A3 claims a first order and 5000 points. Without the store: 20000 - 1500 = 18500, less 5000
# points (¥50.00) = 13500. With it: 2 orders, 198 points: 20000 - 198 = 19802.
order A3 ", \"first_order\": true, \"points\": 5000, \"member_since\": \"$recent\"" ', "points_to_redeem": "max"' >a3.json
run "eval without the store takes the claims" 0 "$perk" eval shop.perk --cart a3.json
jq_is .payable 135.00
jq_is .customer_facts null
run "eval --db prices with the store's facts" 0 "$perk" eval shop.perk --cart a3.json --db "$db"
jq_is .payable 198.02
jq_is .redeem.redeemed 198
jq_is '.customer_facts.from_store | join(",")' \
  customer.tier,customer.points_balance,customer.first_order,customer.order_count,customer.member_since
jq_is '[.customer_facts.overrides[].fact] | join(",")' customer.points_balance,customer.first_order
run "eval --db --explain says so" 0 "$perk" eval shop.perk --cart a3.json --db "$db" --explain
out_has "customer facts from the store: customer.tier, customer.points_balance"
out_has "customer.points_balance: the cart claims 5000, the store has 198 (the store's is used)"
run "eval --db with a store that does not exist" 1 "$perk" eval shop.perk --cart a3.json --db "$work/nope.db"
err_has "no such store"
check "no store was created" [ ! -e "$work/nope.db" ]

# ------------------------------------------------------------------ perk customers import / show
printf '[{"id":"bo","member_since":"2024-05-01"},{"id":"cy","member_since":"2024-13-01"}]' >bad.json
run "import with a bad date" 1 "$perk" customers import bad.json --db "$db"
err_has '$[1].member_since: expected a date YYYY-MM-DD or null'
run "nothing of it was recorded" 0 "$perk" customers show bo --db "$db"
jq_is .crm_record false
printf '[{"id":"bo","member_since":"2024-05-01"},{"id":"cy","member_since":null}]' >good.json
run "import" 0 "$perk" customers import good.json --db "$db"
out_has "recorded 2 customers"
run "show bo" 0 "$perk" customers show bo --db "$db"
jq_is .member_since 2024-05-01
run "show cy (not a member)" 0 "$perk" customers show cy --db "$db"
jq_is .crm_record true
jq_is .member_since null
run "show ann after two orders" 0 "$perk" customers show ann --db "$db"
jq_is .order_count 2
jq_is .first_order false
jq_is .points_balance 198
jq_is .tier silver
run "an unknown subcommand" 2 "$perk" customers delete ann --db "$db"
err_has "unknown subcommand 'delete'"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
