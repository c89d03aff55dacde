#!/usr/bin/env bash
# tests/cli/conventions.sh PERK - the command line's shared conventions (issue 18, "Help and
# conventions") through the real binary on temporary stores: --json of history, show, points,
# publish, rollback, test and expire (parsed with jq, values checked against the store and the
# text output), `-` as standard input for rule files, carts, orders and imports (named <stdin>),
# store text output in the rule set's time zone (Asia/Shanghai, America/New_York with its summer
# time; UTC said so when nothing is active), and --at / --now taking the same forms everywhere.
# Prints one line per failed check and ends with "N passed, N failed" (tests/run.sh counts it).
set -u
perk=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
[ -x "$perk" ] || { echo "usage: tests/cli/conventions.sh PATH/TO/perk"; echo "0 passed, 1 failed"; exit 1; }
command -v jq >/dev/null || { echo "tests/cli/conventions.sh needs jq"; echo "0 passed, 1 failed"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
unset PERK_DB
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
# run_in NAME EXPECTED_STATUS INPUT CMD...: the same with INPUT (a file) as standard input.
run_in() {
  step=$1
  local want=$2 input=$3
  shift 3
  "$@" <"$input" >"$work/out" 2>"$work/err"
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
err_lacks() { check "stderr lacks '$1'" bash -c "! grep -qF -- \"\$1\" '$work/err'" _ "$1"; }
# jq_is FILTER VALUE: the JSON on stdout has FILTER == VALUE (as jq -r prints it)
jq_is() { check "$1 is $2 (got $(jq -r "$1" "$work/out" 2>&1 | head -3))" [ "$(jq -r "$1" "$work/out" 2>/dev/null)" = "$2" ]; }
# local_time ZONE EPOCH: what the text outputs print, computed by date(1) from the system's zones
local_time() { echo "$(TZ=$1 date -d "@$2" '+%Y-%m-%d %H:%M') $1"; }

# ------------------------------------------------------------------ rules
# One line of ¥100.00: v1 takes ¥20 off (payable ¥80.00, 80 points at 1 per ¥1), v2 ¥30 off
# (payable ¥70.00, 70 points); points expire 30 days after they are earned.
rules() {
  cat <<EOF
ruleset "shop" { currency CNY timezone "$2" }
promotion flash "限量立减" {
  limit 3 uses
  then ¥$1 off order
}
earn base "消费积分" { then 1 point per ¥1 on items }
redeem { rate 100 points = ¥1 pays for goods }
points { expire after 30 days }
EOF
}
rules 20 Asia/Shanghai >v1.perk
rules 30 Asia/Shanghai >v2.perk
rules 20 America/New_York >ny.perk

# ------------------------------------------------------------------ publish --json
run "publish --json" 0 "$perk" publish v1.perk -m "spring sale" --author ana --json --db "$db"
jq_is .version 1
jq_is .scheduled false
jq_is .ruleset shop
jq_is .timezone Asia/Shanghai
created=$(jq -r .created_at "$work/out")
sha=$(jq -r .sha256 "$work/out")
bytes=$(jq -r .bytecode_bytes "$work/out")
jq_is .activate_at "$created"
now=$(date +%s)
check "created_at is the clock's ($created near $now)" [ $((now - created)) -ge 0 -a $((now - created)) -lt 60 ]

run "show --json" 0 "$perk" show 1 --json --bytecode v1.pbc --db "$db"
jq_is .id 1
jq_is .active true
jq_is .author ana
jq_is .message "spring sale"
jq_is .created_at "$created"
jq_is .checksum "$sha"
jq_is .bytecode_bytes "$bytes"
jq_is .currency CNY
jq_is .timezone Asia/Shanghai
jq_is '.sources["v1.perk"] | contains("then ¥20 off order")' true
check "publish's sha256 is the saved bytecode's" [ "$(sha256sum v1.pbc | cut -d' ' -f1)" = "$sha" ]
check "publish's size is the saved bytecode's" [ "$(stat -c %s v1.pbc)" = "$bytes" ]

# ------------------------------------------------------------------ local times in text output
run "show in the rule set's zone" 0 "$perk" show 1 --db "$db"
out_has "created:   $(local_time Asia/Shanghai "$created")"
out_has "activate:  $(local_time Asia/Shanghai "$created")"
out_has "ruleset:   shop (CNY, Asia/Shanghai)"
check "no UTC ISO time in the text" bash -c "! grep -qE '[0-9]T[0-9]{2}:[0-9]{2}:[0-9]{2}Z' '$work/out'"
run "history in the rule set's zone" 0 "$perk" history --db "$db"
check "v1's row has its local creation time" grep -qF "*       1  $(local_time Asia/Shanghai "$created")  ana" "$work/out"
err_lacks "times are in UTC"

printf 'a long enough password\n' >pw.txt
run "users add" 0 "$perk" users add ana --role viewer --password-file pw.txt --db "$db"
run "users list in the rule set's zone" 0 "$perk" users list --db "$db"
check "ana's line ends with a local time in Asia/Shanghai" grep -qE '^ana +viewer +[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2} Asia/Shanghai$' "$work/out"
added=$(sed -n 's/^ana  *viewer  *\(.*\) Asia\/Shanghai$/\1/p' "$work/out")
check "the time is the clock's, in Shanghai ($added)" [ $(( $(TZ=Asia/Shanghai date -d "$added" +%s) - $(date +%s) )) -le 60 -a $(( $(date +%s) - $(TZ=Asia/Shanghai date -d "$added" +%s) )) -le 120 ]

# ------------------------------------------------------------------ history --json, rollback --json
run "publish v2" 0 "$perk" publish v2.perk -m "deeper" --author ben --db "$db"
run "rollback --json" 0 "$perk" rollback 1 -m "too deep" --author cat --json --db "$db"
jq_is .version 1
jq_is .previous 2
jq_is .already_active false
run "rollback --json to the active version" 0 "$perk" rollback 1 -m "again" --json --db "$db"
jq_is .previous 1
jq_is .already_active true
run "history --json --activations" 0 "$perk" history --json --activations --db "$db"
jq_is '.versions | length' 2
jq_is '.versions[0].id' 2
jq_is '.versions[0].active' false
jq_is '.versions[0].author' ben
jq_is '.versions[1].id' 1
jq_is '.versions[1].active' true
jq_is '.versions[1].created_at' "$created"
jq_is '.versions[1].checksum' "$sha"
jq_is '.versions[1].next_activation_at' null
jq_is '.activations | length' 4
jq_is '.activations[0].kind' rollback
jq_is '.activations[0].message' again
jq_is '.activations[3].kind' publish
jq_is '.activations[3].version' 1
jq_is '.activations[3].activate_at' "$created"
run "history --json without --activations" 0 "$perk" history --json --db "$db"
jq_is 'has("activations")' false

# ------------------------------------------------------------------ points and expire
# the order comes from standard input (-)
order_time=$(date -u +%Y-%m-%dT%H:%M:%SZ)
cat >a1.json <<EOF
{"order": {"id": "A1", "time": "$order_time"}, "customer": {"id": "alice", "points": 0},
 "lines": [{"sku": "TEA", "price": "100.00", "quantity": 1}]}
EOF
run_in "commit - (the order on stdin)" 0 a1.json "$perk" commit - --db "$db"
out_has '"payable": "80.00"'
out_has '"points_earned": 80'
run "points --json" 0 "$perk" points alice --json --db "$db"
jq_is .customer_id alice
jq_is .balance 80
jq_is .pending 0
jq_is .debt 0
jq_is '.ledger | length' 1
jq_is '.ledger[0].kind' earn
jq_is '.ledger[0].points' 80
jq_is '.ledger[0].order_id' A1
jq_is '.ledger[0].rule_id' base
jq_is '.ledger[0].note' null
earned=$(jq -r '.ledger[0].created_at' "$work/out")
expires=$(jq -r '.ledger[0].expires_at' "$work/out")
available=$(jq -r '.ledger[0].available_at' "$work/out")
check "the points expire 30 days after they are available ($available -> $expires)" [ $((expires - available)) -eq 2592000 ]
jq_is .next_expiry_at "$expires"
run "points in the rule set's zone" 0 "$perk" points alice --db "$db"
out_has "next expiry $(local_time Asia/Shanghai "$expires"))"
check "the ledger row has local times" grep -qE "^ +1  $(local_time Asia/Shanghai "$earned")  earn +\+80  $(local_time Asia/Shanghai "$available")  $(local_time Asia/Shanghai "$expires")  A1 " "$work/out"
run "expire --json before the expiry" 0 "$perk" expire --json --db "$db"
jq_is .points 0
jq_is .customers 0
run "expire --json after the expiry" 0 "$perk" expire --json --now "$((expires + 1))" --db "$db"
jq_is .points 80
jq_is .customers 1
jq_is .now "$((expires + 1))"
run "expire again: nothing left" 0 "$perk" expire --now "$((expires + 1))" --db "$db"
out_has "expired 0 points of 0 customers (as of $(local_time Asia/Shanghai "$((expires + 1))"))"
run "points after the expiry" 0 "$perk" points alice --json --now "$((expires + 1))" --db "$db"
jq_is .balance 0
jq_is '.ledger[1].kind' expire
jq_is '.ledger[1].points' -80

# ------------------------------------------------------------------ another zone, summer time
ny="$work/ny.db"
# 2099-01-15 12:00Z is 07:00 in New York (EST, -5); 2099-07-15 12:00Z is 08:00 (EDT, -4)
winter=4072161600
summer=4087800000
run "publish a New York rule set for the winter" 0 "$perk" publish ny.perk -m w --at "$winter" --json --db "$ny"
jq_is .scheduled true
jq_is .activate_at "$winter"
jq_is .timezone America/New_York
run "publish for the summer" 0 "$perk" publish ny.perk -m s --at 2099-07-15T12:00:00Z --db "$ny"
out_has "scheduled: active from 2099-07-15 08:00 America/New_York (2099-07-15T12:00:00Z)"
run "history as of the summer" 0 "$perk" history --now "$summer" --db "$ny"
out_has "2099-07-15 08:00 America/New_York"
out_has "2099-01-15 07:00 America/New_York"
check "the zone is the system's too" [ "$(local_time America/New_York "$summer")" = "2099-07-15 08:00 America/New_York" ]

# ------------------------------------------------------------------ no active version: UTC, said so
run "history with nothing active yet" 0 "$perk" history --db "$ny"
err_has "perk: note: times are in UTC: no rule set is active"
out_has "scheduled 2099-01-15 12:00 UTC"
run "history --json says nothing on stderr" 0 "$perk" history --json --db "$ny"
check "stderr is empty" [ ! -s "$work/err" ]
jq_is '.versions[1].next_activation_at' "$winter"

# ------------------------------------------------------------------ --at and --now: one set of forms
# the same instant, 2099-01-15T12:00:00Z, in every form; one second before it nothing is active
for form in 4072161600 2099-01-15T12:00:00Z 2099-01-15T20:00+08:00 2099-01-15T07:00:00-05:00; do
  run "history --now $form" 0 "$perk" history --json --now "$form" --db "$ny"
  jq_is '.versions[1].active' true
  run "budgets --now $form" 0 "$perk" budgets --json --now "$form" --db "$ny"
  jq_is .ruleset_version 1
  jq_is '.budgets[0].limit_uses' 3
  run "points --now $form" 0 "$perk" points nobody --json --now "$form" --db "$ny"
  jq_is .balance 0
done
run "history --now a second before" 0 "$perk" history --json --now 2099-01-15T11:59:59Z --db "$ny"
jq_is '[.versions[].active] | any' false
run "budgets --now a second before" 1 "$perk" budgets --now 4072161599 --db "$ny"
err_has "no rule set is active"
run "history --now YYYY-MM-DD (midnight UTC)" 0 "$perk" history --json --now 2099-01-16 --db "$ny"
jq_is '.versions[1].active' true
for form in 4072161600 2099-01-15T12:00:00Z 2099-01-15T20:00+08:00; do
  run "publish --at $form" 0 "$perk" publish ny.perk -m "at $form" --at "$form" --json --db "$work/at.db"
  jq_is .activate_at 4072161600
done
run "publish --at YYYY-MM-DD" 0 "$perk" publish ny.perk -m d --at 2099-01-16 --json --db "$work/at.db"
jq_is .activate_at 4072204800
# one message for every time option
for cmd in "history" "points x" "expire" "budgets" "events" "rollback 1 -m x" "show 1"; do
  # shellcheck disable=SC2086
  run "$cmd --now garbage" 2 "$perk" $cmd --now 2099-13-01 --db "$ny"
  err_has "perk: error: --now 2099-13-01: expected a time from 1970 to 9999 as epoch seconds, YYYY-MM-DD"
done
run "publish --at garbage" 2 "$perk" publish ny.perk -m x --at 2099-13-01 --db "$ny"
err_has "perk: error: --at 2099-13-01: expected a time from 1970 to 9999 as epoch seconds, YYYY-MM-DD"
run "--now past year 9999" 2 "$perk" history --now 253402300800 --db "$ny"
err_has "--now 253402300800: expected a time from 1970 to 9999"

# ------------------------------------------------------------------ rule files from stdin
run_in "check -" 0 v1.perk "$perk" check -
printf 'ruleset "x" {\n  currency CNY\n}\npromotion p { then 10%% off ordr }\n' >bad.perk
run_in "check - with an error" 1 bad.perk "$perk" check -
err_has "<stdin>:4:"
run_in "check --json -" 1 bad.perk "$perk" check --json -
jq_is '.[0].file' "<stdin>"
run_in "compile -" 0 v1.perk "$perk" compile - -o stdin.pbc
"$perk" compile v1.perk -o file.pbc 2>/dev/null
run "the same rules from stdin and from a file" 0 "$perk" disasm stdin.pbc
check "same disassembly but for the file name" bash -c "diff <(sed 's/<stdin>/v1.perk/g' '$work/out') <('$perk' disasm file.pbc)"
cat >cart.json <<EOF
{"order": {"time": "2026-06-01T12:00:00+08:00"}, "lines": [{"sku": "TEA", "price": "100.00", "quantity": 1}]}
EOF
run_in "eval - (rule text)" 0 v1.perk "$perk" eval - --cart cart.json
jq_is .payable 80.00
run_in "eval - (bytecode)" 0 file.pbc "$perk" eval - --cart cart.json
jq_is .payable 80.00
jq_is .points_earned 80
run_in "eval --cart -" 0 cart.json "$perk" eval file.pbc --cart -
jq_is .discount 20.00
printf '{"lines": [' >badcart.json
run_in "eval --cart - with bad JSON" 1 badcart.json "$perk" eval file.pbc --cart -
err_has "perk: error: <stdin>: invalid JSON"
run_in "eval - --cart -" 2 cart.json "$perk" eval - --cart -
err_has "standard input can be read only once"
run_in "disasm -" 0 file.pbc "$perk" disasm -
out_has "flash"
run_in "gen-orders --ruleset -" 0 v1.perk "$perk" gen-orders --ruleset - --count 3
check "three orders" [ "$(wc -l <"$work/out")" -eq 3 ]
"$perk" gen-orders --ruleset v1.perk --count 40 -o orders.jsonl 2>/dev/null
"$perk" diff v1.perk v2.perk --orders orders.jsonl --json >diff_files.json 2>/dev/null
run_in "diff - NEW (the old rules on stdin)" 0 v1.perk "$perk" diff - v2.perk --orders orders.jsonl --json
check "the same report as with the file" bash -c "diff <(jq -S .totals '$work/out') <(jq -S .totals '$work/diff_files.json')"
jq_is '.orders.compared' 40
run_in "diff --orders - (the orders on stdin)" 0 orders.jsonl "$perk" diff v1.perk v2.perk --orders - --json
check "the same totals" bash -c "diff <(jq -S .totals '$work/out') <(jq -S .totals '$work/diff_files.json')"
run_in "diff - with --orders -" 2 v1.perk "$perk" diff - v2.perk --orders -
err_has "standard input can be read only once"
run_in "compile - with other files" 1 v1.perk "$perk" compile - v2.perk -o x.pbc
err_has "- (standard input) must be the only rule file"
run_in "publish -" 0 v2.perk "$perk" publish - -m "from a pipe" --json --db "$work/stdin.db"
jq_is .version 1
run "show a version published from stdin" 0 "$perk" show 1 --json --db "$work/stdin.db"
jq_is '.sources["<stdin>"] | contains("then ¥30 off order")' true
printf '[{"id": "c1", "member_since": "2024-05-01"}, {"id": "c2"}]' >cust.json
run_in "customers import - with an error" 1 cust.json "$perk" customers import - --db "$work/stdin.db"
err_has "perk: error: <stdin>: \$[1].member_since: required"
# includes of rule text from stdin resolve against the current directory
mkdir -p inc/lib
printf 'promotion extra { then ¥5 off order }\n' >inc/lib/extra.perk
printf 'ruleset "i" { currency CNY }\ninclude "lib/extra.perk"\n' >inc/main.perk
run_in "check - with an include, from its folder" 0 inc/main.perk bash -c "cd '$work/inc' && '$perk' check -"
run_in "check - with an include, elsewhere" 1 inc/main.perk "$perk" check -
err_has "<stdin>:2:1: error: cannot include 'lib/extra.perk'"

# ------------------------------------------------------------------ perk test --json
mkdir -p t
cp "$root/rules/stacking.perk" "$root/rules/stacking.test" t/
"$perk" test t >text.out 2>/dev/null
want_passed=$(sed -n 's/^\([0-9]*\) passed, 0 failed$/\1/p' text.out)
run "test --json" 0 "$perk" test --json t
check "the text run passed some cases ($want_passed)" [ "${want_passed:-0}" -gt 0 ]
jq_is .passed "$want_passed"
jq_is .failed 0
jq_is .files 1
jq_is '.messages | length' 0
line=$(grep -n '^expect ' t/stacking.test | head -1 | cut -d: -f1)
sed -i "${line}s/.*/expect payable 0.01/" t/stacking.test
run "test --json with a failing case" 1 "$perk" test --json t
jq_is .failed 1
jq_is .passed "$((want_passed - 1))"
jq_is "[.messages[] | select(contains(\"stacking.test:$line:\"))] | length" 1

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
