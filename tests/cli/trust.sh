#!/usr/bin/env bash
# tests/cli/trust.sh PERK - the command line distrusts what it is given and bounds what it holds
# (issue "The store trusts nothing a caller claims, and every resource stays bounded", CLI and
# compiler items): atomic outputs and checked writes to stdout (item 5), the source limit on every
# file and stdin read (item 6), SIGXFSZ (item 9), includes confined to the rule folder (item 11),
# control characters in store data (item 12), and errors that used to mislead (item 14). Each
# section is named after its item. Prints "N passed, N failed".
set -u
perk=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
[ -x "$perk" ] || { echo "usage: tests/cli/trust.sh PATH/TO/perk"; echo "0 passed, 1 failed"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
unset PERK_DB
export PERK_TODAY=${PERK_TODAY:-2026-03-01}
db="$work/perk.db"

passed=0
failed=0
step=""
rc=0

# run NAME EXPECTED_STATUS CMD...: runs CMD with stdout in $work/out and stderr in $work/err.
run() {
  step=$1
  local want=$2
  shift 2
  "$@" >"$work/out" 2>"$work/err"
  rc=$?
  check "exit status $want" [ "$rc" -eq "$want" ]
}
# check WHAT CMD...: one check of the current step.
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
err_lacks() { check "stderr lacks '$1'" bash -c '! grep -qF -- "$1" "$2"' _ "$1" "$work/err"; }

cat >shop.perk <<'EOF2'
ruleset "shop" { currency CNY timezone "Asia/Shanghai" }
promotion flash "立减" { then ¥20 off order }
earn base "积分" { then 1 point per ¥1 on items }
EOF2
cat >cart.json <<'EOF2'
{"order": {"id": "A1", "time": "2026-03-04T10:00:00+08:00"}, "customer": {"id": "al"},
 "lines": [{"sku": "TEA", "price": "100.00", "quantity": 1}]}
EOF2

# ------------------------------------------------------------------ item 5: atomic outputs
run "item 5: compile to a new file" 0 "$perk" compile shop.perk -o out.pbc
run "item 5: the program loads" 0 "$perk" disasm out.pbc
# two compiles of different programs to one name, many times: every result is a whole program
cat >other.perk <<'EOF2'
ruleset "other" { currency CNY }
promotion a { then ¥1 off order }
promotion b { then 2% off order }
EOF2
bad=0
for i in $(seq 1 30); do
  "$perk" compile shop.perk -o race.pbc 2>/dev/null & p1=$!
  "$perk" compile other.perk -o race.pbc 2>/dev/null & p2=$!
  wait $p1 || bad=$((bad + 1)); wait $p2 || bad=$((bad + 1))
  "$perk" disasm race.pbc >/dev/null 2>&1 || bad=$((bad + 1))
done
step="item 5: 30 x two compiles to one name"
check "every compile succeeded and every result loads ($bad failures)" [ "$bad" -eq 0 ]
check "no temporary file is left" [ -z "$(ls -A | grep -v -e '^shop.perk$' -e '^other.perk$' -e '^cart.json$' -e '^out.pbc$' -e '^race.pbc$' -e '^out$' -e '^err$')" ]
mkfifo fifo.pbc
run "item 5: a FIFO is refused" 1 "$perk" compile shop.perk -o fifo.pbc
err_has "fifo.pbc is a FIFO; perk writes only regular files"
check "the FIFO is still a FIFO" [ -p fifo.pbc ]
echo "keep" >kept.txt
ln -s kept.txt link.pbc
run "item 5: a symbolic link is refused" 1 "$perk" compile shop.perk -o link.pbc
err_has "link.pbc is a symbolic link"
check "the link and its target are unchanged" bash -c '[ -L link.pbc ] && [ "$(cat kept.txt)" = keep ]'
run "item 5: a device is refused" 1 "$perk" compile shop.perk -o /dev/null
err_has "/dev/null is a device"
check "/dev/null is still a device" [ -c /dev/null ]
run "item 5: gen-orders -o a device is refused" 1 "$perk" gen-orders --ruleset shop.perk --count 1 -o /dev/null
err_has "/dev/null is a device"
if [ -w /dev/full ]; then
  step="item 5: eval > /dev/full"
  "$perk" eval out.pbc --cart cart.json >/dev/full 2>"$work/err"; rc=$?
  check "exit status 1" [ "$rc" -eq 1 ]
  err_has "perk: error: cannot write to standard output"
  step="item 5: check --json > /dev/full"
  "$perk" check --json shop.perk >/dev/full 2>"$work/err"; rc=$?
  check "exit status 1" [ "$rc" -eq 1 ]
  run "item 5: publish" 0 "$perk" publish shop.perk -m "v1" --db "$db"
  step="item 5: coupons generate > /dev/full"
  "$perk" coupons generate SPRING --count 5 --db "$db" >/dev/full 2>"$work/err"; rc=$?
  check "exit status 1" [ "$rc" -eq 1 ]
  err_has "rolled back"
  check "no code was stored" [ "$(sqlite3 "$db" 'SELECT COUNT(*) FROM coupons')" -eq 0 ]
  run "item 5: coupons generate to a file" 0 "$perk" coupons generate SPRING --count 5 --db "$db"
  check "5 codes printed and stored" [ "$(wc -l <"$work/out")" -eq 5 ] && [ "$(sqlite3 "$db" 'SELECT COUNT(*) FROM coupons')" -eq 5 ]
fi

# ------------------------------------------------------------------ item 6: every read is bounded
step="item 6: fmt - of an endless stdin"
# `yes` never ends: perk must stop at the 8 MiB source limit (it used to read until it aborted)
(yes '# a comment line' | "$perk" fmt -) >"$work/out" 2>"$work/err"; rc=$?
check "exit status 1" [ "$rc" -eq 1 ]
err_has "'<stdin>' is larger than the limit of 8388608 bytes (nothing past it was read) [file-too-large]"
run "item 6: fmt - of a small stdin" 0 "$perk" fmt - <shop.perk
out_has 'promotion flash "立减"'
mkdir -p big
cp shop.perk big/shop.perk
head -c $((8 * 1024 * 1024 + 1)) /dev/zero | tr '\0' '#' >big/shop.test
run "item 6: a .test file past the limit" 1 "$perk" test big
err_has "big/shop.test is larger than the limit of 8388608 bytes [file-too-large]"
head -c $((8 * 1024 * 1024 + 1)) /dev/zero | tr '\0' ' ' >big-order.json
"$perk" publish shop.perk -m v1 --db "$work/six.db" >/dev/null 2>&1
run "item 6: an order file past the limit" 1 "$perk" commit big-order.json --db "$work/six.db"
err_has "big-order.json is larger than the limit of 8388608 bytes [file-too-large]"

# ------------------------------------------------------------------ item 9: ulimit -f
rm -f "$db"
"$perk" publish shop.perk -m "v1" --db "$db" >/dev/null 2>&1
step="item 9: commit past ulimit -f"
(ulimit -f 1; exec "$perk" commit cart.json --db "$db") >"$work/out" 2>"$work/err"; rc=$?
check "not killed by SIGXFSZ (exit 1, not 153)" [ "$rc" -eq 1 ]
err_has "perk: error:"

# ------------------------------------------------------------------ item 11: includes stay in the rule folder
mkdir -p inc/rules inc/shared
printf 'ruleset "t" { currency CNY }\ninclude "/etc/passwd"\n' >inc/rules/passwd.perk
run "item 11: include /etc/passwd" 1 "$perk" check inc/rules/passwd.perk
err_has "cannot include '/etc/passwd': it is outside the folder of the top-level rule file [include-refused]"
check "no line of /etc/passwd is shown" bash -c '! grep -q "root:" "$1"' _ "$work/err"
printf 'ruleset "t" { currency CNY }\ninclude "/proc/self/environ"\n' >inc/rules/environ.perk
run "item 11: include /proc/self/environ" 1 "$perk" check inc/rules/environ.perk
err_has "it is a system file (under /proc, /sys or /dev), not a rule file [include-refused]"
check "no environment variable is shown" bash -c '! grep -q "PATH=" "$1"' _ "$work/err"
printf 'let shared_goods = items where category in "tea"\n' >inc/shared/goods.perk
printf 'ruleset "t" { currency CNY }\ninclude "../shared/goods.perk"\npromotion p { then 10%% off shared_goods }\n' >inc/rules/up.perk
run "item 11: include ../" 1 "$perk" check inc/rules/up.perk
err_has "cannot include '../shared/goods.perk': it is outside the folder of the top-level rule file"
run "item 11: include ../ inside --include-path" 0 "$perk" check --include-path inc/shared inc/rules/up.perk
printf 'ruleset "t" { currency CNY }\ninclude "goods.perk"\npromotion p { then 10%% off shared_goods }\n' >inc/rules/bare.perk
run "item 11: include found in --include-path" 0 "$perk" compile inc/rules/bare.perk -o inc.pbc --include-path inc/shared
run "item 11: the same include without it" 1 "$perk" check inc/rules/bare.perk
err_has "cannot include 'goods.perk': no such file [include-not-found]"
ln -s /etc/passwd inc/rules/link.perk
printf 'ruleset "t" { currency CNY }\ninclude "link.perk"\n' >inc/rules/via-link.perk
run "item 11: a symbolic link out of the folder" 1 "$perk" check inc/rules/via-link.perk
err_has "cannot include 'link.perk': it is outside the folder of the top-level rule file"
mkfifo inc/rules/pipe.perk
printf 'ruleset "t" { currency CNY }\ninclude "pipe.perk"\n' >inc/rules/via-pipe.perk
run "item 11: a FIFO in the folder (refused, not waited on)" 1 timeout 10 "$perk" check inc/rules/via-pipe.perk
err_has "cannot include 'pipe.perk': it is a FIFO, not a regular file"

# ------------------------------------------------------------------ item 12: store text on a terminal
rm -f "$db"
esc=$'\e]0;pwned\a\e[2J'
run "item 12: publish with escapes in -m and --author" 0 "$perk" publish shop.perk -m "spring${esc}sale" --author "ana${esc}" --db "$db"
run "item 12: history" 0 "$perk" history --activations --db "$db"
check "no raw ESC or BEL in the output" bash -c '! grep -q $'"'"'[\x1b\x07]'"'"' "$1"' _ "$work/out"
out_has 'spring\x1b]0;pwned\x07\x1b[2Jsale'
run "item 12: show" 0 "$perk" show 1 --db "$db"
check "no raw ESC or BEL in show" bash -c '! grep -q $'"'"'[\x1b\x07]'"'"' "$1"' _ "$work/out"
out_has 'author:    ana\x1b]0;pwned\x07\x1b[2J'
out_has 'promotion flash "立减"'
printf '{"order": {"id": "O\\u001b[31m", "time": "%s"}, "customer": {"id": "c\\u009b1m\\u202e"}, "lines": [{"sku": "T", "price": "100.00", "quantity": 1}]}\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >esc-order.json
run "item 12: commit an order with escapes in its ids" 0 "$perk" commit esc-order.json --db "$db"
run "item 12: points" 0 "$perk" points $'c\u009b1m\u202e' --db "$db"
out_has 'customer:       c\u009b1m\u202e'
check "the order id is escaped" grep -qF 'O\x1b[31m' "$work/out"

# ------------------------------------------------------------------ item 14: errors that misled
# (the flat chain of 300 `or` terms: golden diagnostic tests/diagnostics/check-67-flat-or-chain)
printf 'ruleset "t" { currency CNY }\r# old Mac line endings\rpromotion p {\r  then 10%% off ordr\r}\r' >cr.perk
run "item 14: CR-only line endings" 1 "$perk" check cr.perk
err_has "cr.perk:4:16: error: unknown name \`ordr\`"
check "no 'no ruleset header'" bash -c '! grep -q "ruleset header" "$1"' _ "$work/err"
mkdir -p no-tests
cp shop.perk no-tests/
run "item 14: perk test on a folder without .test files" 1 "$perk" test no-tests
err_has "perk: error: no .test files found in no-tests: nothing was tested"
echo "garbage" >v2.pbc
run "item 14: a damaged program names its file once" 1 "$perk" disasm v2.pbc
err_has "perk: error: v2.pbc: bad magic"
check "the file name is not repeated" bash -c '! grep -q "v2.pbc: v2.pbc" "$1"' _ "$work/err"
run "item 14: --repeat past int64" 2 "$perk" eval out.pbc --cart cart.json --repeat 99999999999999999999
err_has "--repeat 99999999999999999999: expected a number from 1 to 1000000000"
run "item 14: --repeat 0" 2 "$perk" eval out.pbc --cart cart.json --repeat 0
run "item 14: publish --at INT64_MAX" 2 "$perk" publish shop.perk -m "far" --at 9223372036854775807 --db "$work/at.db"
err_has "--at 9223372036854775807: expected a time from 1970 to 9999"
check "nothing was created" [ ! -e "$work/at.db" ]
printf '\xef\xbb\xbf' | cat - cart.json >bom.json
run "item 14: a cart with a UTF-8 byte order mark is read" 0 "$perk" eval out.pbc --cart bom.json
if command -v iconv >/dev/null; then
  iconv -f UTF-8 -t UTF-16 cart.json >utf16.json
  run "item 14: a UTF-16 cart" 1 "$perk" eval out.pbc --cart utf16.json
  err_has "the cart is encoded as UTF-16 (little-endian), not UTF-8: save it as UTF-8"
  iconv -f UTF-8 -t UTF-16BE cart.json >utf16be.json
  run "item 14: a UTF-16BE cart without a byte order mark" 1 "$perk" eval out.pbc --cart utf16be.json
  err_has "UTF-16 (big-endian)"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
