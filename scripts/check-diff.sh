#!/usr/bin/env bash
# scripts/check-diff.sh PERK - drives `perk gen-orders` and `perk diff` from the command line:
# generated orders are valid carts for every ruleset in rules/ (a ruleset against itself changes
# nothing), the same seed gives the same file, the report does not depend on --threads or on
# reading standard input, bad lines give exit 1 with the report still printed, a currency
# mismatch and usage errors are refused, and nothing but the report is printed when stderr is not
# a terminal. Prints "N passed, N failed".
#   PERK_TEST_LONG=1  also replays 100,000 generated orders and prints how long it took.
set -u
perk=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
cd "$(dirname "$0")/.."
export PERK_TODAY=${PERK_TODAY:-2026-03-01}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
passed=0; failed=0

check() { # check NAME COMMAND...: passes when the command succeeds
  local name=$1; shift
  if "$@" >"$tmp/check.log" 2>&1; then passed=$((passed + 1));
  else failed=$((failed + 1)); echo "FAIL: $name"; sed 's/^/    /' "$tmp/check.log" | head -20; fi
}

# The tea shop with the member day at 15% instead of 10% (its include is copied beside it).
mkdir -p "$tmp/v15/lib"
cp rules/lib/catalogue.perk "$tmp/v15/lib/"
sed 's/then 10% off order/then 15% off order/' rules/tea_shop.perk >"$tmp/v15/tea_shop.perk"
new="$tmp/v15/tea_shop.perk"
count=2000

"$perk" gen-orders --ruleset rules/tea_shop.perk --count $count --seed 7 -o "$tmp/orders.jsonl" 2>"$tmp/gen.err"
check "gen-orders writes $count lines" test "$(wc -l <"$tmp/orders.jsonl")" -eq $count
check "gen-orders: same seed, same orders (file and stdout)" \
  cmp "$tmp/orders.jsonl" <("$perk" gen-orders --ruleset rules/tea_shop.perk --count $count --seed 7 2>/dev/null)
check "gen-orders: another seed, other orders" \
  bash -c "! cmp -s '$tmp/orders.jsonl' <('$perk' gen-orders --ruleset rules/tea_shop.perk --count $count --seed 8 2>/dev/null)"
check "gen-orders uses the catalogue's tags and tiers" \
  bash -c "grep -q '\"clearance\"' '$tmp/orders.jsonl' && grep -q '\"tier\": \"gold\"' '$tmp/orders.jsonl'"

# every ruleset: its generated orders are valid carts, and against itself nothing changes
for rules in rules/*.perk; do
  name=$(basename "$rules" .perk)
  "$perk" gen-orders --ruleset "$rules" --count 500 --seed 1 -o "$tmp/$name.jsonl" 2>/dev/null
  check "$name: self diff of generated orders" \
    bash -c "'$perk' diff '$rules' '$rules' --orders '$tmp/$name.jsonl' >'$tmp/$name.out' 2>&1 &&
             grep -Eq '^  compared +500 ' '$tmp/$name.out' && grep -Eq '^  payable changed +0$' '$tmp/$name.out' &&
             grep -q \"No order's payable changed.\" '$tmp/$name.out'"
done

# the report is the same with 1, 2 or 3 threads and from standard input
"$perk" diff rules/tea_shop.perk "$new" --orders "$tmp/orders.jsonl" --json >"$tmp/t1.json" 2>"$tmp/t1.err" --threads 1
check "diff exits 0 and prints only the report" test ! -s "$tmp/t1.err"
if command -v python3 >/dev/null; then check "diff --json is valid JSON" python3 -m json.tool "$tmp/t1.json"; fi
check "member day 15% lowers the payable" grep -q '"payable": "-' "$tmp/t1.json"
for t in 2 3; do
  check "--threads $t gives the same report" \
    cmp "$tmp/t1.json" <("$perk" diff rules/tea_shop.perk "$new" --orders "$tmp/orders.jsonl" --json --threads $t 2>/dev/null)
done
check "orders from standard input give the same report" \
  cmp "$tmp/t1.json" <("$perk" diff rules/tea_shop.perk "$new" --orders - --json <"$tmp/orders.jsonl" 2>/dev/null)
check "--top 3 lists 3 orders" \
  bash -c "'$perk' diff rules/tea_shop.perk '$new' --orders '$tmp/orders.jsonl' --top 3 | grep -q '^Top 3 orders by payable change'"

# a bad line: reported with its line number, the others still compared, exit 1
{ head -3 "$tmp/orders.jsonl"; echo '{"lines": [}'; tail -n +4 "$tmp/orders.jsonl"; } >"$tmp/bad.jsonl"
"$perk" diff rules/tea_shop.perk "$new" --orders "$tmp/bad.jsonl" >"$tmp/bad.out" 2>"$tmp/bad.err"
check "a bad line exits 1" test $? -eq 1
check "a bad line is reported with its line number" grep -Eq '^  line 4 +parse +invalid JSON' "$tmp/bad.out"
check "the other orders are compared" grep -Eq "^  compared +$count " "$tmp/bad.out"

# refusals
"$perk" diff rules/tea_shop.perk rules/jp_select.perk --orders "$tmp/orders.jsonl" >/dev/null 2>"$tmp/cur.err"
check "currency mismatch exits 1" test $? -eq 1
check "currency mismatch is explained" grep -q 'currency mismatch: OLD is in CNY, NEW is in JPY' "$tmp/cur.err"
"$perk" diff rules/tea_shop.perk "$new" >/dev/null 2>&1
check "missing --orders is a usage error" test $? -eq 2
"$perk" diff rules/tea_shop.perk "$new" --orders "$tmp/orders.jsonl" --top -1 >/dev/null 2>&1
check "a negative --top is a usage error" test $? -eq 2
"$perk" gen-orders --ruleset rules/tea_shop.perk >/dev/null 2>&1
check "gen-orders without --count is a usage error" test $? -eq 2
"$perk" diff rules/tea_shop.perk "$new" --orders "$tmp/nonexistent.jsonl" >/dev/null 2>"$tmp/nf.err"
check "a missing orders file exits 1" bash -c "test $? -eq 1 && grep -q 'cannot open' '$tmp/nf.err'"

if [ "${PERK_TEST_LONG:-0}" = 1 ]; then
  "$perk" gen-orders --ruleset rules/tea_shop.perk --count 100000 --seed 42 -o "$tmp/100k.jsonl" 2>/dev/null
  start=$(date +%s.%N)
  "$perk" diff rules/tea_shop.perk "$new" --orders "$tmp/100k.jsonl" >"$tmp/100k.out" 2>&1
  rc=$?
  end=$(date +%s.%N)
  echo "perk diff: 100000 orders in $(echo "$end - $start" | bc) s"
  check "100,000 orders replay" bash -c "test $rc -eq 0 && grep -Eq '^  compared +100000 ' '$tmp/100k.out'"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
