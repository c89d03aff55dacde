#!/usr/bin/env bash
# tests/cli/report.sh PERK [pg] - `perk report` against a real store: the shop's days (the rule set's
# time zone, not UTC), the period totals, per promotion, per day and per tier, as text and JSON
# (checked with jq), and its refusals. Cents and points are hand-checked in the comments. With
# `pg`, the store is the PostgreSQL database in $PERK_TEST_PG (tests/pg/with-cluster.sh).
# Prints "N passed, N failed" (tests/run.sh counts it).
set -u
perk=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
[ -x "$perk" ] || { echo "usage: tests/cli/report.sh PATH/TO/perk"; echo "0 passed, 1 failed"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
unset PERK_DB
db="$work/perk.db"
if [ "${2:-}" = pg ]; then
  [ -n "${PERK_TEST_PG:-}" ] || { echo "report.sh: pg needs PERK_TEST_PG"; echo "0 passed, 1 failed"; exit 1; }
  db=$PERK_TEST_PG
fi
passed=0; failed=0; step=""; rc=0

run() {
  step=$1; local want=$2; shift 2
  "$@" >"$work/out" 2>"$work/err"; rc=$?
  check "exit status $want" [ "$rc" -eq "$want" ]
}
check() {
  local what=$1; shift
  if "$@"; then passed=$((passed + 1)); else
    failed=$((failed + 1)); echo "FAIL [$step] $what (exit status $rc)"
    sed 's/^/    out: /' "$work/out" | head -15; sed 's/^/    err: /' "$work/err" | head -15
  fi
}
out_has() { check "stdout has '$1'" grep -qF -- "$1" "$work/out"; }
err_has() { check "stderr has '$1'" grep -qF -- "$1" "$work/err"; }
jq_is() { check "$1 is $2 (got $(jq -c "$1" "$work/out" 2>&1))" [ "$(jq -c "$1" "$work/out" 2>/dev/null)" = "$2" ]; }

# A Shanghai shop (+08:00, no DST): ¥10 off from ¥100, 1 point per ¥1 paid for items, silver from
# ¥100 spent in a year.
cat >shop.perk <<'EOF2'
ruleset "shop" { currency CNY timezone "Asia/Shanghai" }
tier silver "银卡" { spend ¥100 within 365 days }
promotion off10 "满100减10" {
  when sum(items) >= ¥100
  then ¥10 off order
}
earn base "积分" {
  then 1 point per ¥1 on items
}
EOF2
run "publish" 0 "$perk" publish shop.perk -m one --db "$db"

# Three orders on two of the shop's days, D and D1 (3 and 2 days ago in Shanghai; committed as
# delayed orders, which the store takes up to 7 days late). In UTC all three fall on day D:
#   O1  a  D  23:30 +08:00 (D 15:30Z)  ¥120.00 - 10.00 = 110.00, 110 points; a had no tier, then silver
#   O2  a  D1 00:30 +08:00 (D 16:30Z)  ¥50.00, 50 points; a was silver when ordering
#   O3  b  D1 07:00 +08:00 (D 23:00Z)  ¥200.00 - 10.00 = 190.00, 190 points; b had no tier
D=$(TZ=Asia/Shanghai date -d '-3 days' +%Y-%m-%d)
D1=$(TZ=Asia/Shanghai date -d '-2 days' +%Y-%m-%d)
order() {
  printf '{"order":{"id":"%s","time":"%s"},"customer":{"id":"%s"},"lines":[{"sku":"T","price":"%s","quantity":1}]}\n' \
    "$1" "$2" "$3" "$4" >"$1.json"
  run "commit $1" 0 "$perk" commit "$1.json" --delayed --db "$db"
}
order O1 "${D}T23:30:00+08:00" a 120.00
out_has '"payable": "110.00"'
order O2 "${D1}T00:30:00+08:00" a 50.00
out_has '"points_earned": 50'
order O3 "${D1}T07:00:00+08:00" b 200.00
out_has '"payable": "190.00"'

run "report D..D1 as JSON" 0 "$perk" report --from "$D" --to "$D1" --json --db "$db"
jq_is .timezone '"Asia/Shanghai"'
# from D 00:00 Shanghai = D-1 16:00Z to D1+1 00:00 Shanghai = D1 16:00Z: 2 days of 86400 s
jq_is '.to_time - .from_time' 172800
jq_is .from_time "$(date -u -d "$D 00:00 +0800" +%s)"
jq_is '[.orders, .subtotal, .discount, .payable]' '[3,"370.00","20.00","350.00"]'
jq_is .points '{"issued":350,"redeemed":0,"expired":0}'
jq_is '.promotions | map([.promotion, .uses, .discount, .orders, .revenue])' '[["off10",2,"20.00",2,"300.00"]]'
# the shop's days: O1 on D; O2 and O3 on D1 (one UTC day would hold all three)
jq_is '.days' "[{\"date\":\"$D\",\"orders\":1,\"discount\":\"10.00\"},{\"date\":\"$D1\",\"orders\":2,\"discount\":\"10.00\"}]"
# per tier, by the tier when ordering: silver O2 (¥50.00, 50 points); none O1 + O3
# (110.00 + 190.00 = 300.00, 110 + 190 = 300 points); the version's tiers first, no tier last
jq_is '.tiers | map([.tier, .orders, .revenue, .points.issued])' '[["silver",1,"50.00",50],[null,2,"300.00",300]]'

run "report of D1 alone" 0 "$perk" report --from "$D1" --to "$D1" --json --db "$db"
jq_is '[.orders, .discount, .points.issued]' '[2,"10.00",240]'
jq_is '.tiers | map([.tier, .orders, .revenue])' '[["silver",1,"50.00"],[null,1,"190.00"]]'
run "report of D alone" 0 "$perk" report --from "$D" --to "$D" --json --db "$db"
jq_is '[.orders, .payable, (.days | length)]' '[1,"110.00",1]'
jq_is '.tiers | map(.tier)' '[null]'

run "report as text" 0 "$perk" report --from "$D" --to "$D1" --db "$db"
out_has "period $D to $D1 (days in Asia/Shanghai), 3 orders, subtotal 370.00, discount 20.00, payable 350.00 CNY"
check "a silver row: 1 order, 50.00, 50 issued" grep -qE '^silver +1 +50.00 +50 +0 +0$' "$work/out"
check "a no-tier row: 2 orders, 300.00, 300 issued" grep -qE '^\(no tier\) +2 +300.00 +300 +0 +0$' "$work/out"
run "report as CSV" 0 "$perk" report --from "$D" --to "$D1" --csv --db "$db"
check "CSV: off10's row" grep -qx 'shop,off10,满100减10,2,20.00,2,300.00,,' "$work/out"

run "--to before --from" 2 "$perk" report --from "$D1" --to "$D" --db "$db"
err_has "is before --from"
run "a date that is not one" 2 "$perk" report --from 2026-02-30 --to "$D" --db "$db"
err_has "must be dates YYYY-MM-DD"
run "a date before 1970" 2 "$perk" report --from 1969-12-31 --to "$D" --db "$db"
run "eleven years" 1 "$perk" report --from 2020-01-01 --to 2030-12-31 --db "$db"
err_has "longer than 3660 days"
run "an empty period's report" 0 "$perk" report --from 2026-01-01 --to 2026-01-02 --json --db "$db"
jq_is '[.orders, .days, .tiers]' '[0,[],[]]'

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
