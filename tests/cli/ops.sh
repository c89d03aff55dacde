#!/usr/bin/env bash
# tests/cli/ops.sh PERK - the operations commands against a real store (temporary database):
# perk refund (lines, amounts, replay, conflicts, bad input), perk cancel (the rest of the
# order, budget and coupon uses released, replay), perk budgets (uses and money, used and left)
# and perk coupons list / export / issue / revoke / wallet, their text and --json output (checked
# with jq), the points they reverse and what the budget allows afterwards. Cents are hand-checked in
# the comments. Prints "N passed, N failed" (tests/run.sh counts it).
set -u
perk=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
[ -x "$perk" ] || { echo "usage: tests/cli/ops.sh PATH/TO/perk"; echo "0 passed, 1 failed"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
unset PERK_DB
db="$work/perk.db"
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
# jq_is FILTER VALUE: the JSON on stdout has FILTER == VALUE (as jq prints it, raw)
jq_is() { check "$1 is $2 (got $(jq -r "$1" "$work/out" 2>&1))" [ "$(jq -r "$1" "$work/out" 2>/dev/null)" = "$2" ]; }

# ¥20 off every order for the first 3 orders (a budget of 3 uses); 1 point per ¥1 paid.
cat >shop.perk <<'EOF2'
ruleset "shop" { currency CNY timezone "Asia/Shanghai" }
promotion flash "限量立减" {
  limit 3 uses
  then ¥20 off order
}
earn base "消费积分" { then 1 point per ¥1 on items }
EOF2
run "publish" 0 "$perk" publish shop.perk -m v1 --db "$db"
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
order() { # order ID CUSTOMER
  printf '{"order": {"id": "%s", "time": "%s"}, "customer": {"id": "%s", "points": 0},\n' "$1" "$now" "$2"
  printf ' "lines": [{"id": "l1", "sku": "TEA", "price": "100.00", "quantity": 1},\n'
  printf '           {"id": "l2", "sku": "CUP", "price": "50.00", "quantity": 2}]}\n'
}
# A1: subtotal 100.00 + 2 x 50.00 = 200.00; ¥20 off the order, allocated 10.00 / 10.00 by line
# value (100.00 : 100.00): l1 pays 90.00, l2 pays 90.00; payable 180.00, 180 points
order A1 alice >a1.json
run "commit A1" 0 "$perk" commit a1.json --db "$db"
out_has '"payable": "180.00"'
out_has '"points_earned": 180,'

# R1: 45.00 of l1. The order keeps floor(180 x (180.00 - 45.00) / 180.00) = 135 points: 45 reversed
run "refund R1: 45.00 of l1" 0 "$perk" refund A1 --id R1 --lines l1=45.00 --db "$db"
out_has "order A1: refund R1 recorded"
out_has "amount:          45.00"
out_has "refunded total:  45.00"
out_has "points reversed: 45"
run "points after R1" 0 "$perk" points alice --db "$db"
out_has "balance:        135"
run "R1 again (--json): replayed, nothing changes" 0 "$perk" refund A1 --id R1 --lines l1=45.00 --json --db "$db"
jq_is .status already_recorded
jq_is .order_id A1
jq_is .refund_id R1
jq_is .amount 45.00
jq_is .refunded_total 45.00
jq_is .full false
jq_is .points_reversed 45
jq_is .budget_released false
run "R1 with other content" 1 "$perk" refund A1 --id R1 --lines l1=40.00 --db "$db"
# l1 paid 90.00, 45.00 already refunded: 45.00 left
run "R2: 46.00 of l1 is more than is left" 1 "$perk" refund A1 --id R2 --lines l1=46.00 --db "$db"
err_has "at most 4500 more can be refunded, not 4600"
run "R2: a line the order does not have" 1 "$perk" refund A1 --id R2 --lines l9=1.00 --db "$db"
err_has "order A1 has no line l9"
run "R2: three decimals" 2 "$perk" refund A1 --id R2 --lines l1=1.005 --db "$db"
err_has '--lines "1.005": expected a positive amount with at most 2 decimals'
run "R2: not LINE=AMOUNT" 2 "$perk" refund A1 --id R2 --lines l1 --db "$db"
err_has 'expected LINE=AMOUNT'
run "R2: a negative amount" 2 "$perk" refund A1 --id R2 --amount -5.00 --db "$db"
err_has '--amount "-5.00": expected a positive amount'
run "R2: lines that do not add up to --amount" 1 "$perk" refund A1 --id R2 --lines l2=5.00 --amount 6.00 --db "$db"
run "a refund without --id" 2 "$perk" refund A1 --lines l1=1.00 --db "$db"
err_has "name the refund with --id REFUND_ID"
run "a refund without an order" 2 "$perk" refund --id R9 --db "$db"
run "refund of an order never committed" 1 "$perk" refund NOPE --id R9 --db "$db"
err_has "order NOPE was never committed"
run "refund in a missing store" 1 "$perk" refund A1 --id R9 --db "$work/none.db"
check "the missing store was not created" [ ! -e "$work/none.db" ]
# R2: 10.00 of l1 + 20.00 of l2 = 30.00; refunded 75.00 in all; keeps floor(180 x 105 / 180) = 105,
# so 135 - 105 = 30 more points reversed
run "refund R2: two lines (--json)" 0 "$perk" refund A1 --id R2 --lines l1=10.00,l2=20.00 --amount 30.00 --json --db "$db"
jq_is .status recorded
jq_is .amount 30.00
jq_is .refunded_total 75.00
jq_is .points_reversed 30
jq_is .full false

# cancel: the rest, 180.00 - 75.00 = 105.00; all 180 points gone (the last 105 reversed); the
# order's use of the 3-use budget released
run "cancel A1 (--json)" 0 "$perk" cancel A1 --json --db "$db"
jq_is .status recorded
jq_is .refund_id cancel:A1
jq_is .amount 105.00
jq_is .refunded_total 180.00
jq_is .full true
jq_is .points_reversed 105
jq_is .budget_released true
run "points after the cancellation" 0 "$perk" points alice --db "$db"
out_has "balance:        0"
run "cancel A1 again: replayed" 0 "$perk" cancel A1 --db "$db"
out_has "refund cancel:A1 was already recorded (nothing changed)"
out_has "refunded total:  180.00 (the whole order: cancelled)"
out_has "budget and coupon uses released"
run "refund after the cancellation" 1 "$perk" refund A1 --id R3 --lines l2=1.00 --db "$db"
# the budget has its 3 uses again: A2, A3, A4 get ¥20 off (payable 180.00), A5 none (200.00)
for o in A2 A3 A4; do
  order $o bob >$o.json
  run "commit $o after the cancellation" 0 "$perk" commit $o.json --db "$db"
  out_has '"payable": "180.00"'
done
order A5 bob >A5.json
run "commit A5: the budget is used up" 0 "$perk" commit A5.json --db "$db"
out_has '"payable": "200.00"'
# cancel with an id of its own, without --release-budget on refund: A5 refunded whole by refund
run "refund A5 whole (no --lines)" 0 "$perk" refund A5 --id R5 --json --db "$db"
jq_is .amount 200.00
jq_is .full true
jq_is .budget_released false
run "cancel A4 with --id C4" 0 "$perk" cancel A4 --id C4 --json --db "$db"
jq_is .refund_id C4
jq_is .amount 180.00
# perk budgets: A2, A3, A4 hold the 3 uses (A1's was released; A4 was cancelled just above, so
# its use is released too): 2 used, 1 left; money given 2 x 20.00 = 40.00
run "budgets (text)" 0 "$perk" budgets --db "$db"
out_has "ruleset shop, version 1"
check "flash: 2 used, limit 3, 1 left, 40.00 given" grep -qE '^flash +2 +3 +1 +40\.00 +- +- +-$' "$work/out"
run "budgets --json --customer bob" 0 "$perk" budgets --json --customer bob --db "$db"
jq_is '.budgets | length' 1
jq_is '.budgets[0].promotion' flash
jq_is '.budgets[0].label' 限量立减
jq_is '.budgets[0].uses' 2
jq_is '.budgets[0].limit_uses' 3
jq_is '.budgets[0].uses_left' 1
jq_is '.budgets[0].money' 40.00
jq_is '.budgets[0].limit_money' null
jq_is '.budgets[0].customer_uses' 2
jq_is .ruleset_version 1
run "budgets before the rule set was active" 1 "$perk" budgets --now 2020-01-01 --db "$db"
err_has "no rule set is active"
run "budgets with a bad --now" 2 "$perk" budgets --now yesterday --db "$db"
run "budgets of a missing store" 1 "$perk" budgets --db "$work/none.db"

run "the store is consistent" 0 "$perk" db check --db "$db"
out_has ": ok ("

# perk coupons list / export: verdicts for anyone at --now, JSON and CSV. A date alone in --expires
# is a day in the shop's zone (Asia/Shanghai, +08:00): --expires 2030-01-01 is valid until
# 2030-01-02 00:00 Shanghai = 2030-01-01T16:00:00Z = 1893542400 - 8 x 3600 = 1893513600.
run "coupon SAVE10" 0 "$perk" coupons add save-10 --campaign spring --max-uses 2 --expires 2030-01-01 --db "$db"
run "coupon OLD1" 0 "$perk" coupons add OLD1 --campaign old --expires 2020-01-01 --db "$db"
run "coupon VIP1" 0 "$perk" coupons add VIP1 --campaign spring --customer alice --per-customer 1 --db "$db"
run "coupons list" 0 "$perk" coupons list --db "$db"
check "header and 3 codes" [ "$(wc -l <"$work/out")" -eq 4 ]
check "OLD1 is expired (2020-01-01 is past)" grep -qE '^OLD1 +old +expired +0 +- +-  2020-01-02 00:00 Asia/Shanghai$' "$work/out"
check "SAVE10 is valid, 0 of 2 uses" grep -qE '^SAVE10 +spring +valid +0 +2 +-  2030-01-02 00:00 Asia/Shanghai$' "$work/out"
check "VIP1 is restricted" grep -qE '^VIP1 +spring +valid +0 +- +1  never  restricted$' "$work/out"
run "coupons list --campaign spring --json" 0 "$perk" coupons list --campaign spring --json --db "$db"
jq_is 'length' 2
jq_is '.[0].code' SAVE10
jq_is '.[0].max_uses' 2
jq_is '.[0].expires_at' 1893513600
jq_is '.[1].code' VIP1
jq_is '.[1].restricted' true
jq_is '.[1].expires_at' null
run "coupons list as at 2030-01-02: SAVE10 has expired" 0 "$perk" coupons list --json --now 2030-01-02 --db "$db"
jq_is '[.[] | select(.code == "SAVE10")][0].status' expired
run "coupons export" 0 "$perk" coupons export --db "$db"
check "CSV header" [ "$(head -1 "$work/out")" = "code,campaign,status,uses,max_uses,max_per_customer,expires,restricted" ]
check "CSV row of SAVE10" grep -qx 'SAVE10,"spring",valid,0,2,0,2030-01-01T16:00:00Z,no' "$work/out"
check "CSV has 3 rows" [ "$(wc -l <"$work/out")" -eq 4 ]
# a store without an active rule set has no zone: a date alone is a day in UTC, and it says so
run "coupon in a store with no rule set" 0 "$perk" coupons add NOZONE1 --campaign c --expires 2030-01-01 --db "$work/nozone.db"
err_has "times are in UTC: no rule set is active"
run "its expiry" 0 "$perk" coupons list --json --db "$work/nozone.db"
jq_is '.[0].expires_at' 1893542400
run "coupons list with an argument" 2 "$perk" coupons list extra --db "$db"
run "coupons list of a missing store" 1 "$perk" coupons list --db "$work/none.db"

# perk coupons issue / wallet / revoke: codes issued to one customer for a period, revoked with
# who and why; the wallet's statuses at the period's boundaries
run "issue GIFT-A1 to alice" 0 "$perk" coupons issue gift-a1 --campaign spring --customer alice --max-uses 2 \
  --per-customer 1 --by ops --json --db "$db"
jq_is .created true
jq_is .customer_id alice
jq_is .coupon.code GIFTA1
jq_is .coupon.status valid
jq_is .coupon.uses_left 1
jq_is .coupon.max_uses 2
jq_is .coupon.revoked null
run "issue GIFT-A1 again: a retry" 0 "$perk" coupons issue GIFT-A1 --campaign spring --customer alice --max-uses 2 \
  --per-customer 1 --by ops --db "$db"
out_has "coupon GIFTA1 was already issued to alice with these terms: nothing changed"
run "issue GIFT-A1 to bob" 1 "$perk" coupons issue GIFT-A1 --campaign spring --customer bob --by ops --db "$db"
err_has "coupon GIFTA1 already exists and it was issued to another customer"
run "issue SAVE10 (anyone's code) to bob" 1 "$perk" coupons issue SAVE10 --campaign spring --customer bob --db "$db"
err_has "it may be used by anyone"
run "issue of an unknown campaign" 1 "$perk" coupons issue G-2 --campaign sprng --customer bob --db "$db"
err_has 'campaign "sprng" is unknown'
run "issue without --customer" 2 "$perk" coupons issue G-2 --campaign spring --db "$db"
run "issue ending before it starts" 1 "$perk" coupons issue G-2 --campaign spring --customer bob \
  --from 2030-01-02 --expires 2029-12-31 --db "$db"
err_has "never be valid"
run "issue with a bad --from" 2 "$perk" coupons issue G-2 --campaign spring --customer bob --from soon --db "$db"
# GIFT-A2: valid from 2030-01-01 00:00 Shanghai = 2029-12-31T16:00:00Z (1893456000 - 28800 =
# 1893427200) through 2030-02-01, i.e. until 2030-02-02 00:00 Shanghai = 2030-02-01T16:00:00Z =
# 1893427200 + 32 days x 86400 = 1896192000
run "issue GIFT-A2 for January 2030" 0 "$perk" coupons issue GIFT-A2 --campaign spring --customer alice \
  --from 2030-01-01 --expires 2030-02-01 --by ops --db "$db"
out_has "issued coupon GIFTA2 of campaign spring to alice (not yet valid now)"
run "wallet of alice" 0 "$perk" coupons wallet alice --json --db "$db"
jq_is .customer_id alice
jq_is '.coupons | length' 3
jq_is '[.coupons[].code] | sort | join(",")' GIFTA1,GIFTA2,VIP1
jq_is '.coupons[] | select(.code == "GIFTA2") | .status' not_yet_valid
jq_is '.coupons[] | select(.code == "GIFTA2") | .valid_from' 1893427200
jq_is '.coupons[] | select(.code == "GIFTA2") | .expires_at' 1896192000
jq_is '.coupons[] | select(.code == "VIP1") | .uses_left' 1
for at in 2029-12-31T15:59:59Z:not_yet_valid 2029-12-31T16:00:00Z:valid 2030-02-01T15:59:59Z:valid \
          2030-02-01T16:00:00Z:expired 2030-01-01T00:00:00+08:00:valid 2030-02-02T00:00:00+08:00:expired; do
  run "wallet at ${at%:*}" 0 "$perk" coupons wallet alice --json --now "${at%:*}" --db "$db"
  jq_is '.coupons[] | select(.code == "GIFTA2") | .status' "${at##*:}"
done
run "wallet of alice as text" 0 "$perk" coupons wallet alice --now 2030-01-15 --db "$db"
check "wallet header" grep -qE '^CODE +CAMPAIGN +STATUS +USES LEFT +VALID FROM +EXPIRES$' "$work/out"
check "GIFTA2 valid in January, unlimited" \
  grep -qE '^GIFTA2 +spring +valid +unlimited  2030-01-01 00:00 Asia/Shanghai +2030-02-02 00:00 Asia/Shanghai$' "$work/out"
run "wallet of a customer without codes" 0 "$perk" coupons wallet nobody --json --db "$db"
jq_is '.coupons | length' 0
run "revoke GIFT-A1" 0 "$perk" coupons revoke gift-a1 --reason "sent twice" --by ops --json --db "$db"
jq_is .code GIFTA1
jq_is .held_by_reservations 0
jq_is .coupon.status revoked
jq_is .coupon.usable false
jq_is .coupon.revoked.by ops
jq_is .coupon.revoked.reason "sent twice"
run "revoke GIFT-A1 again" 1 "$perk" coupons revoke GIFT-A1 --reason again --by eve --db "$db"
err_has "coupon GIFTA1 was already revoked"
err_has "by ops (sent twice); nothing was changed"
run "revoke without --reason" 2 "$perk" coupons revoke GIFT-A2 --db "$db"
err_has "revoke needs --reason TEXT"
run "revoke an unknown code" 1 "$perk" coupons revoke NOPE --reason x --db "$db"
err_has "coupon NOPE does not exist"
run "revoke VIP1 as text" 0 "$perk" coupons revoke VIP1 --reason "left the club" --by ops --db "$db"
out_has "revoked coupon VIP1 (campaign spring) by ops: left the club"
run "wallet after the revocations" 0 "$perk" coupons wallet alice --db "$db"
check "GIFTA1 revoked, by whom and why" grep -qE '^GIFTA1 +spring +revoked +- .* revoked [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2} Asia/Shanghai by ops: sent twice$' "$work/out"
run "coupons list shows revoked codes" 0 "$perk" coupons list --campaign spring --json --db "$db"
jq_is '.[] | select(.code == "GIFTA1") | .status' revoked
check "audit log: 2 issues and 2 revocations by ops" \
  [ "$(sqlite3 "$db" "SELECT group_concat(action) FROM audit_log WHERE actor = 'ops'")" = "coupon.issue,coupon.issue,coupon.revoke,coupon.revoke" ]
run "the store is consistent after issuing and revoking" 0 "$perk" db check --db "$db"

# perk coupons change / change-code: codes changed in place, revoked ones left alone, refused as a
# whole when one code cannot take it
live=$(sqlite3 "$db" "SELECT COUNT(*) FROM coupons WHERE campaign = 'spring' AND revoked_at IS NULL")
run "change spring to end before GIFTA2 starts" 1 "$perk" coupons change spring --expires 2029-06-30 --reason x --db "$db"
err_has "coupon GIFTA2 is valid from 1893427200"
check "nothing changed" [ "$(sqlite3 "$db" "SELECT COUNT(*) FROM coupons WHERE campaign = 'spring' AND max_uses = 5")" = 0 ]
# through 2031-12-31 in Shanghai: until 2032-01-01 00:00 +08:00 = 2031-12-31T16:00:00Z = 1956499200
run "extend spring through 2031, 5 uses a code" 0 "$perk" coupons change spring --expires 2031-12-31 --max-uses 5 \
  --reason "双11 延期" --by ops --json --db "$db"
jq_is .campaign spring
jq_is .changed "$live"
jq_is .revoked_left_alone 2
jq_is .expires_at 1956499200
jq_is .max_uses 5
check "the store: every live code of spring ends then, with 5 uses" \
  [ "$(sqlite3 "$db" "SELECT COUNT(*) FROM coupons WHERE campaign = 'spring' AND revoked_at IS NULL AND expires_at = 1956499200 AND max_uses = 5")" = "$live" ]
check "the revoked codes are as they were" \
  [ "$(sqlite3 "$db" "SELECT COUNT(*) FROM coupons WHERE campaign = 'spring' AND revoked_at IS NOT NULL AND max_uses = 5")" = 0 ]
run "change-code GIFT-A2: never ends" 0 "$perk" coupons change-code gift-a2 --expires never --reason goodwill --by ops --db "$db"
out_has "changed 1 code(s) of coupon GIFTA2"
check "GIFTA2 never ends" [ "$(sqlite3 "$db" "SELECT expires_at FROM coupons WHERE code = 'GIFTA2'")" = 0 ]
run "change without --reason" 2 "$perk" coupons change spring --max-uses 3 --db "$db"
err_has "change needs --reason TEXT"
run "change with nothing to change" 2 "$perk" coupons change spring --reason x --db "$db"
err_has "change needs --expires, --max-uses or --per-customer"
run "change an unknown campaign" 1 "$perk" coupons change sprng --max-uses 3 --reason x --db "$db"
err_has 'campaign sprng has no code'
run "change to an end in the past" 1 "$perk" coupons change spring --expires 2001-01-01 --reason x --db "$db"
err_has "is in the past"
check "audit log: 2 changes by ops" \
  [ "$(sqlite3 "$db" "SELECT COUNT(*) FROM audit_log WHERE actor = 'ops' AND action = 'coupon.change'")" = 2 ]
check "outbox: 2 coupon.changed events" \
  [ "$(sqlite3 "$db" "SELECT COUNT(*) FROM events WHERE type = 'coupon.changed'")" = 2 ]
run "the store is consistent after the changes" 0 "$perk" db check --db "$db"

# a money budget and a per-customer limit: ¥10 off while ¥25 lasts, once per customer
db2="$work/money.db"
cat >cap.perk <<'EOF2'
ruleset "cap" { currency CNY timezone "Asia/Shanghai" }
promotion cap "限额立减" {
  limit ¥25 total, partial
  limit 1 per customer
  then ¥10 off order
}
EOF2
run "publish cap" 0 "$perk" publish cap.perk -m cap --db "$db2"
for o in B1:c1 B2:c2 B3:c3; do order "${o%%:*}" "${o#*:}" >"${o%%:*}.json"; "$perk" commit "${o%%:*}.json" --db "$db2" >"$work/${o%%:*}.out" 2>&1; done
# B1 10.00, B2 10.00, B3 what is left: 25.00 - 20.00 = 5.00 (payable 200.00 - 5.00 = 195.00)
check "B3 gets the last 5.00 of the budget" grep -q '"payable": "195.00"' "$work/B3.out"
run "budgets --json: money used up" 0 "$perk" budgets --json --customer c1 --db "$db2"
jq_is '.budgets[0].uses' 3
jq_is '.budgets[0].limit_uses' null
jq_is '.budgets[0].uses_left' null
jq_is '.budgets[0].money' 25.00
jq_is '.budgets[0].limit_money' 25.00
jq_is '.budgets[0].money_left' 0.00
jq_is '.budgets[0].limit_per_customer' 1
jq_is '.budgets[0].customer_uses' 1
run "cancel B2" 0 "$perk" cancel B2 --db "$db2"
run "budgets after cancelling B2: 10.00 back" 0 "$perk" budgets --db "$db2"
# 25.00 - (10.00 + 5.00) = 10.00 left
check "cap: 2 used, 15.00 given, 10.00 left, 1 per customer" grep -qE '^cap +2 +- +- +15\.00 +25\.00 +10\.00 +1$' "$work/out"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
