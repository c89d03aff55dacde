#!/usr/bin/env bash
# tests/cli/cli.sh PERK - the command line's contract: exit statuses (0 ok, 1 errors found,
# 2 usage), diagnostics as text and JSON, compile/disasm round trips of every ruleset, eval as
# JSON and as an explanation, determinism, rejected carts and programs, and `perk test --update`.
# Prints "N passed, N failed".
set -u
perk=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export PERK_TODAY=${PERK_TODAY:-2026-03-01}
passed=0; failed=0
ok()   { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }
# expect_status WANT DESCRIPTION CMD...: runs CMD (stdout > $tmp/out, stderr > $tmp/err)
expect_status() {
  local want=$1 what=$2; shift 2
  "$@" >"$tmp/out" 2>"$tmp/err"; local rc=$?
  if [ "$rc" -eq "$want" ]; then ok; else fail "$what: exit $rc, wanted $want"; sed 's/^/    /' "$tmp/err" | head -5; fi
}
contains() { # contains FILE TEXT DESCRIPTION
  if grep -qF -- "$2" "$1"; then ok; else fail "$3: '$2' not in output"; sed 's/^/    /' "$1" | head -10; fi
}

# --- exit statuses and diagnostics
expect_status 2 "no command" "$perk"
expect_status 2 "unknown command" "$perk" frobnicate
expect_status 2 "check without files" "$perk" check
expect_status 2 "check with an unknown option" "$perk" check --bogus rules/tea_shop.perk
expect_status 0 "check a clean ruleset" "$perk" check rules/tea_shop.perk
expect_status 1 "check a bad ruleset" "$perk" check tests/diagnostics/check-01-missing-header.perk
contains "$tmp/err" "error:" "a bad ruleset prints an error"
expect_status 1 "check --json of a bad ruleset" "$perk" check --json tests/diagnostics/parse-01-missing-value.perk
if jq -e 'type == "array" and length >= 1 and (.[0] | has("file") and has("line") and has("column") and has("severity") and has("code") and has("message"))' "$tmp/out" >/dev/null; then ok; else fail "check --json prints an array of diagnostics"; head -5 "$tmp/out"; fi
expect_status 0 "check --json of a clean ruleset" "$perk" check --json rules/storefront.perk
if jq -e 'type == "array" and length == 0' "$tmp/out" >/dev/null; then ok; else fail "check --json of a clean file prints []"; fi
# fix-its (docs/cli.md "Fix-its"): in JSON with code-point columns, end exclusive; check --fix
expect_status 1 "check --json of a misspelt fact" "$perk" check --json tests/diagnostics/check-08-unknown-fact.perk
if jq -e '.[0].fixes == [{"file": "tests/diagnostics/check-08-unknown-fact.perk", "line": 6, "column": 8, "end_line": 6, "end_column": 21, "text": "customer.tier"}]' "$tmp/out" >/dev/null; then ok; else fail "check --json gives the fix of a misspelt fact"; head -5 "$tmp/out"; fi
printf 'ruleset "茶铺" { currency CNY }\npromotion p "会员日" { when order.subtotl >= 300; then 10%% off each items }\n' > "$tmp/fixme.perk"
expect_status 0 "check --fix fixes what it can and then checks clean" "$perk" check --fix "$tmp/fixme.perk"
contains "$tmp/out" "fixme.perk:2:46: fixed [stray-semicolon]: remove ';'" "check --fix lists the ';' it removed"
contains "$tmp/out" "fixme.perk:2:26: fixed [unknown-fact]: replace 'order.subtotl' with 'order.subtotal'" "check --fix lists the fact (column in code points)"
contains "$tmp/out" "4 fixes applied" "check --fix counts its edits"
if [ "$(sed -n 2p "$tmp/fixme.perk")" = 'promotion p "会员日" { when order.subtotal >= ¥300 then 10% off items }' ]; then ok; else fail "check --fix rewrote the file"; cat "$tmp/fixme.perk"; fi
expect_status 0 "check --fix of a clean file" "$perk" check --fix "$tmp/fixme.perk"
contains "$tmp/out" "0 fixes applied" "nothing left to fix"
printf 'ruleset "s" { currency CNY }\nlet tea = items where category in "tea"\npromotion p {\n  then 10%% off tea\n  when sum(tea) >= ¥1 and customer.tier = "gold"\n}\n' > "$tmp/nofix.perk"
cp "$tmp/nofix.perk" "$tmp/nofix.orig"
expect_status 1 "check --fix leaves what it cannot fix, and fails" "$perk" check --fix "$tmp/nofix.perk"
if cmp -s "$tmp/nofix.perk" "$tmp/nofix.orig"; then ok; else fail "check --fix left a file without fixes as it was"; fi
expect_status 2 "check --fix cannot rewrite stdin" "$perk" check --fix - < "$tmp/fixme.perk"
expect_status 2 "check --fix with --json is a usage error" "$perk" check --fix --json "$tmp/fixme.perk"
expect_status 1 "--werror turns warnings into failures" "$perk" check --werror tests/diagnostics/analyze-07-margin-guard.perk
expect_status 0 "warnings alone do not fail" "$perk" check tests/diagnostics/analyze-07-margin-guard.perk
expect_status 1 "check a missing file" "$perk" check "$tmp/nope.perk"
printf '\x00\xff\xfe binary \x01' > "$tmp/garbage.perk"
expect_status 1 "check binary garbage" "$perk" check "$tmp/garbage.perk"

# --- compile and disasm every ruleset
for f in rules/*.perk; do
  name=$(basename "$f" .perk)
  expect_status 0 "compile $f" "$perk" compile "$f" -o "$tmp/$name.pbc"
  expect_status 0 "disasm $name.pbc" "$perk" disasm "$tmp/$name.pbc"
  # every promotion appears with its source location
  for id in $(sed -n 's/^promotion \([A-Za-z_0-9]*\).*/\1/p' "$f"); do
    if grep -Eq "promotion #[0-9]+ $id .* at $f:[0-9]+:[0-9]+" "$tmp/out"; then ok; else fail "disasm of $name shows $id with its location"; fi
  done
done
expect_status 2 "compile without -o" "$perk" compile rules/tea_shop.perk
head -c 100 "$tmp/tea_shop.pbc" > "$tmp/truncated.pbc"
expect_status 1 "a truncated program is rejected" "$perk" disasm "$tmp/truncated.pbc"
contains "$tmp/err" "truncated" "the truncated program's message"
cp "$tmp/tea_shop.pbc" "$tmp/flipped.pbc"
printf '\x5a' | dd of="$tmp/flipped.pbc" bs=1 seek=200 conv=notrunc status=none
expect_status 1 "a corrupted program is rejected" "$perk" eval "$tmp/flipped.pbc" --cart examples/carts/sample.json
contains "$tmp/err" "checksum" "the corrupted program's message"

# --- eval
expect_status 0 "eval the sample cart" "$perk" eval "$tmp/tea_shop.pbc" --cart examples/carts/sample.json
if jq -e '.payable == "326.34" and .discount == "62.66" and .points_earned == 1152' "$tmp/out" >/dev/null; then ok; else fail "eval JSON totals"; fi
cp "$tmp/out" "$tmp/first.json"
expect_status 0 "eval again" "$perk" eval rules/tea_shop.perk --cart examples/carts/sample.json
if cmp -s "$tmp/out" "$tmp/first.json"; then ok; else fail "eval is byte-identical from .pbc and .perk, run after run"; fi
expect_status 0 "eval --explain" "$perk" eval "$tmp/tea_shop.pbc" --cart examples/carts/sample.json --explain
contains "$tmp/out" "sum(tea) >= ¥300 not met: ¥285.84 < ¥300.00 (rules/tea_shop.perk:" "explain says which condition failed and where"
contains "$tmp/out" "add ¥14.16 of tea" "explain shows the near-miss hint"
expect_status 0 "eval --max-hints 1" "$perk" eval "$tmp/tea_shop.pbc" --cart examples/carts/sample.json --max-hints 1
if jq -e '[.hints[].promotion] == ["tea_gift"] and .payable == "326.34"' "$tmp/out" >/dev/null; then ok; else fail "--max-hints 1 keeps the first hint only, amounts unchanged"; fi
expect_status 0 "eval --applied-only" "$perk" eval "$tmp/tea_shop.pbc" --cart examples/carts/sample.json --applied-only
if jq -e '([.promotions[].id] == ["clearance", "member_day", "free_shipping"]) and .promotions_not_listed == 3 and .payable == "326.34"' "$tmp/out" >/dev/null; then ok; else fail "--applied-only lists the 3 applied promotions and counts the 3 others"; fi
expect_status 2 "eval --max-hints with no number" "$perk" eval "$tmp/tea_shop.pbc" --cart examples/carts/sample.json --max-hints x
contains "$tmp/err" "expected a number from 0 to 1000000" "--max-hints says what it expects"
printf '{"order": {"time": "2026-03-04T10:00:00+08:00"}, "lines": [{"sku": "A", "price": "1.234", "quantity": 1}]}' > "$tmp/bad.json"
expect_status 1 "eval a cart with too many decimals" "$perk" eval "$tmp/tea_shop.pbc" --cart "$tmp/bad.json"
contains "$tmp/err" "lines[0].price" "the bad cart's JSON path"
# the file is named once: "perk: error: FILE: $.lines[0].price: ...", not "FILE: FILE: ..."
if grep -qF -- "$tmp/bad.json: $tmp/bad.json" "$tmp/err"; then fail "the cart path is printed twice"; else ok; fi
contains "$tmp/err" "perk: error: $tmp/bad.json: \$.lines[0].price" "the cart path, then the JSON path"
printf '{"lines": [' > "$tmp/broken.json"
expect_status 1 "eval broken JSON" "$perk" eval "$tmp/tea_shop.pbc" --cart "$tmp/broken.json"
contains "$tmp/err" "perk: error: $tmp/broken.json: invalid JSON" "broken JSON: the path once, then what is wrong"
expect_status 1 "eval a missing cart" "$perk" eval "$tmp/tea_shop.pbc" --cart "$tmp/nope.json"
contains "$tmp/err" "perk: error: $tmp/nope.json: cannot open" "a missing cart: the path once"
expect_status 2 "eval without a cart" "$perk" eval "$tmp/tea_shop.pbc"

# --- perk test --update rewrites a wrong expectation and says so
cp rules/jp_select.perk "$tmp/jp.perk"
sed 's/expect payable ¥5391/expect payable ¥5000/' rules/jp_select.test > "$tmp/jp.test"
expect_status 1 "a wrong expectation fails" "$perk" test "$tmp/jp.test"
contains "$tmp/err" "- expect payable ¥5000" "the failure shows the expectation"
contains "$tmp/err" "+ expect payable ¥5391" "the failure shows the actual value"
expect_status 0 "perk test --update" "$perk" test --update "$tmp/jp.test"
contains "$tmp/err" "updated: expect payable ¥5391" "--update says what changed"
expect_status 0 "the updated test passes" "$perk" test "$tmp/jp.test"

# --- inline rules: a test file that carries its rules needs no .perk beside it
cat > "$tmp/inline.test" <<'TEST'
rules
  ruleset "t" { currency CNY }
  promotion ten "10% off" { then 10% off items }
end
case "10% of 30.00"
cart {
  "order": {"time": "2026-03-04T12:00:00Z"},
  "lines": [{"sku": "a", "price": "30.00", "quantity": 1}]
}
expect applied ten ¥3.00
end
rules
  ruleset "t" { currency CNY }
  promotion bad "x" { then 10% of items }
end
case "skipped: its rules do not compile"
cart {
  "order": {"time": "2026-03-04T12:00:00Z"},
  "lines": [{"sku": "a", "price": "30.00", "quantity": 1}]
}
expect payable ¥27.00
end
rules
  promotion never_closed "x" { then ¥1 off order }
TEST
expect_status 1 "inline rules: one block passes, one does not compile" "$perk" test "$tmp/inline.test"
contains "$tmp/out" "1 passed, 2 failed" "inline rules: a case passes, the bad block and the open one fail"
contains "$tmp/err" "$tmp/inline.test:14:" "a diagnostic in inline rules names the test file's line"
contains "$tmp/err" "FAIL $tmp/inline.test:12: these rules do not compile" "the bad block is named"
contains "$tmp/err" "$tmp/inline.test:23: error: this rules block has no \`end\` line" "an open block is named"

# --- eval with order facts and stores (rules/cross_store.perk, hand-checked there)
cat > "$tmp/stores.json" <<'JSON'
{"order": {"region": "新疆", "shipping": "25.00", "attrs": {"buyer": "company"}},
 "lines": [{"sku": "TEA-1", "store": "茶叶旗舰店", "price": "120.00", "quantity": 1},
           {"sku": "CUP-1", "store": "茶具专营店", "price": "150.00", "quantity": 1}]}
JSON
expect_status 0 "eval a cart with region, order attributes and stores" "$perk" eval rules/cross_store.perk --cart "$tmp/stores.json"
# company: ¥5 off (117.78 / 147.22); 新疆: no free shipping; payable 270.00 - 5.00 + 25.00
if jq -e '.payable == "290.00" and .shipping.after == "25.00" and .discount == "5.00"' "$tmp/out" >/dev/null; then ok; else fail "eval with order facts: payable 290.00"; head -c 600 "$tmp/out"; fi
printf '{"lines": [{"sku": "A", "store": 7, "price": "1.00", "quantity": 1}]}' > "$tmp/badstore.json"
expect_status 1 "a store that is not a string is refused" "$perk" eval rules/cross_store.perk --cart "$tmp/badstore.json"
contains "$tmp/err" "store" "the message names the store"

# --- eval --best-coupons: the cart's coupons as a wallet (rules/wallet.perk, hand-checked)
cat > "$tmp/wallet.json" <<'JSON'
{"order": {"time": "2027-03-10T12:00:00+08:00", "shipping": "10.00"},
 "lines": [{"sku": "TEA", "price": "100.00", "quantity": 4}],
 "coupons": ["STORE30", "STORE50", {"code": "PLAT-8Q2M", "campaign": "PLAT"}, "SHIP", "JUNK"]}
JSON
expect_status 0 "eval --best-coupons" "$perk" eval rules/wallet.perk --cart "$tmp/wallet.json" --best-coupons
# STORE50 -50.00 -> 350.00, PLAT -15.00, SHIP -10.00: 75.00; STORE30 beside STORE50 would win the group
if jq -e '.best_coupons.codes == ["STORE50", "PLAT-8Q2M", "SHIP"] and .best_coupons.saving == "75.00" and .best_coupons.shipping_saving == "10.00" and .best_coupons.wallet == 5 and .best_coupons.candidates == 4 and .best_coupons.evaluations == 13 and .payable == "335.00" and ([.coupons[].code] == ["STORE50", "PLAT-8Q2M", "SHIP"])' "$tmp/out" >/dev/null; then ok; else fail "eval --best-coupons JSON: the chosen set, its saving and its result"; head -c 600 "$tmp/out"; fi
expect_status 0 "eval --best-coupons --explain" "$perk" eval rules/wallet.perk --cart "$tmp/wallet.json" --best-coupons --explain
contains "$tmp/out" "best coupons: STORE50, PLAT-8Q2M, SHIP (saves ¥75.00; 13 of 32 subsets evaluated)" "the explanation names the best set"
python3 -c 'import json; print(json.dumps({"order": {"time": "2027-03-10T12:00:00+08:00"}, "lines": [{"sku": "T", "price": "1.00", "quantity": 1}], "coupons": ["K%d" % i for i in range(17)]}))' > "$tmp/wallet17.json"
expect_status 1 "eval --best-coupons with 17 codes" "$perk" eval rules/wallet.perk --cart "$tmp/wallet17.json" --best-coupons
contains "$tmp/err" "17 coupons exceed the limit of 16" "17 codes are refused with the limit"

# limit 2 units per customer (rules/member_mall.perk, 秒杀): 3 phones, 2 at ¥999: 2 x 300.00 = 600.00
# off, and the result says how many units got the price, in JSON and in the explanation
printf '{"order":{"time":"2027-11-11T10:00:00+08:00"},"lines":[{"sku":"PHONE-X","price":"1299.00","quantity":3}]}' >"$tmp/phones.json"
expect_status 0 "eval of a unit limit" "$perk" eval rules/member_mall.perk --cart "$tmp/phones.json"
if jq -e '[.promotions[] | select(.id == "seckill")][0] | .discount == "600.00" and .units == 2' "$tmp/out" >/dev/null; then ok; else fail "eval JSON: seckill 600.00 off for 2 units"; fi
expect_status 0 "eval of a unit limit --explain" "$perk" eval rules/member_mall.perk --cart "$tmp/phones.json" --explain
contains "$tmp/out" "-¥600.00 on line #1; 2 units at its price (its limit per customer)" "the explanation counts the units"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
