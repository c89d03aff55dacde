#!/usr/bin/env bash
# tests/cli/store.sh PERK - end-to-end test of the store commands through the real binary, on
# temporary databases: publish (then history, show, rollback), scheduled activation with --at,
# coupons generate (10000 unique codes), commit (twice: the second replays,
# even after a new version was published), points, events (JSON lines, consumer ack and resume),
# perk events ack, perk db backup, a backup with sqlite3, and the messages of the error paths.
# Prints one line per failed check and ends with "N passed, N failed" (tests/run.sh counts it).
set -u
perk=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
[ -x "$perk" ] || { echo "usage: tests/cli/store.sh PATH/TO/perk"; echo "0 passed, 1 failed"; exit 1; }
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
out_lines() { check "stdout has $1 lines" [ "$(wc -l <"$work/out")" -eq "$1" ]; }

# ------------------------------------------------------------------ rules
# One line of ¥100.00 in every order: v1 takes ¥20 off (at most 3 orders), v2 ¥30, v4 ¥40;
# 1 point per ¥1 paid; 100 points pay ¥1.
rules() {
  cat <<EOF
ruleset "shop" { currency CNY timezone "Asia/Shanghai" }
promotion flash "限量立减" {
  limit 3 uses
  then ¥$1 off order
}
earn base "消费积分" { then 1 point per ¥1 on items }
redeem { rate 100 points = ¥1 pays for goods }
EOF
}
rules 20 >v1.perk
rules 30 >v2.perk
rules 40 >v4.perk
now=$(date +%s)

# ------------------------------------------------------------------ publish, history, show, rollback
run "publish v1" 0 "$perk" publish v1.perk -m "spring sale" --author ana --db "$db"
out_has "published version 1 ("
out_has ", active now"
run "history after v1" 0 "$perk" history --db "$db"
check "v1 is marked active" grep -qE '^\*       1  .*  ana ' "$work/out"
run "publish v2" 0 "$perk" publish v2.perk -m "deeper discount" --author ben --db "$db"
out_has "published version 2 ("
run "history after v2" 0 "$perk" history --db "$db"
check "v2 is marked active" grep -qE '^\*       2 ' "$work/out"
check "v1 is no longer active" grep -qE '^        1 ' "$work/out"

run "show v1" 0 "$perk" show 1 --db "$db" --bytecode v1.pbc
out_has "version:   1"
out_has "author:    ana"
out_has "message:   spring sale"
out_has "--- v1.perk"
out_has 'then ¥20 off order'
check "show (not active) has no active mark" bash -c "! grep -qF '(active)' '$work/out'"
sum=$(sha256sum v1.pbc | cut -d' ' -f1)
out_has "checksum:  sha256:$sum"
run "the saved bytecode evaluates" 0 "$perk" disasm v1.pbc
out_has "flash"

run "rollback to v1" 0 "$perk" rollback 1 -m "v2 discount too deep" --author cat --db "$db"
out_has "version 1 is active again (was 2)"
run "history after rollback" 0 "$perk" history --activations --db "$db"
check "v1 is active again" grep -qE '^\*       1 ' "$work/out"
out_has "rollback  version 1"
out_has "v2 discount too deep"
run "rollback to the active version" 0 "$perk" rollback 1 -m "again" --db "$db"
out_has "version 1 stays active"

# ------------------------------------------------------------------ scheduled activation
at=$((now + 3600))
run "publish v3 scheduled" 0 "$perk" publish v2.perk -m "tonight" --at "$at" --db "$db"
out_has "published version 3"
out_has "scheduled: active from"
run "history before the time" 0 "$perk" history --db "$db"
check "v3 is scheduled, not active" grep -qE '^        3 .*scheduled ' "$work/out"
check "v1 still active" grep -qE '^\*       1 ' "$work/out"
run "history at the time" 0 "$perk" history --db "$db" --now "$at"
check "v3 active at its time" grep -qE '^\*       3 ' "$work/out"
run "show v3 an hour later" 0 "$perk" show 3 --db "$db" --now "$((at + 1))"
out_has "version:   3 (active)"
# the same instant written with an offset
at_text=$(date -u -d "@$at" +%Y-%m-%dT%H:%M:%S+00:00)
run "history --now with an offset" 0 "$perk" history --db "$db" --now "$at_text"
check "v3 active at its time (RFC 3339)" grep -qE '^\*       3 ' "$work/out"
run "publish --at in the past" 2 "$perk" publish v2.perk -m "late" --at 2020-01-01T00:00+08:00 --db "$db"
err_has "perk: error: --at 2020-01-01T00:00+08:00 (2019-12-31T16:00:00Z) is in the past"
err_has "leave --at out to activate now"
run "publish --at garbage" 2 "$perk" publish v2.perk -m "x" --at tomorrow --db "$db"
err_has "perk: error: --at tomorrow: expected a time from 1970 to 9999 as epoch seconds"
run "history: nothing published by the refused ones" 0 "$perk" history --db "$db"
out_lines 4

# ------------------------------------------------------------------ coupons
start=$(date +%s%N)
run "generate 10000 codes" 0 "$perk" coupons generate SPRING --count 10000 --db "$db"
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo "# 10000 codes in ${elapsed_ms} ms (printed, not asserted: speed claims live in bench/)"
out_lines 10000
check "codes are unique" [ "$(sort -u "$work/out" | wc -l)" -eq 10000 ]
check "codes look like 7K4M-Q2XD-9RTB-5" bash -c "! grep -vqE '^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]$' '$work/out'"
err_has "perk: generated 10000 codes for campaign SPRING"
code=$(head -1 "$work/out")
run "a generated code is valid" 0 "$perk" coupons check "$code" --db "$db"
out_has "valid (campaign SPRING"
run "generate needs --count" 2 "$perk" coupons generate SPRING --db "$db"
err_has "generate needs --count N"
run "generate --count 0" 2 "$perk" coupons generate SPRING --count 0 --db "$db"
err_has "--count must be 1..1000000"

# ------------------------------------------------------------------ commit
# orders happen now: the store refuses an order time further than 5 minutes from its clock
order_time=$(date -u +%Y-%m-%dT%H:%M:%SZ)
tomorrow=$(date -u -d tomorrow +%Y-%m-%d)
order() { # order ID CUSTOMER QUANTITY [EXTRA_ORDER_MEMBERS] [CUSTOMER_POINTS]
  cat <<EOF
{"order": {"id": "$1", "time": "${ORDER_TIME_OVERRIDE:-$order_time}"${4:-}},
 "customer": {"id": "$2", "points": ${5:-0}},
 "lines": [{"sku": "TEA", "price": "100.00", "quantity": $3}]}
EOF
}
order A1 alice 1 >a1.json
run "commit A1" 0 "$perk" commit a1.json --db "$db"
# v1 is active: 10000 - 2000 = 8000 payable, 80 points
out_has '"status": "committed"'
out_has '"ruleset_version": 1'
out_has '"payable": "80.00"'
out_has '"points_earned": 80'
run "commit A1 again" 0 "$perk" commit a1.json --db "$db"
out_has '"status": "already committed"'
out_has '"payable": "80.00"'
# a new version active now: the retry is still priced with v1 and replays
run "publish v4" 0 "$perk" publish v4.perk -m "v4" --db "$db"
run "commit A1 after a publish" 0 "$perk" commit a1.json --db "$db"
out_has '"status": "already committed"'
out_has '"ruleset_version": 1'
out_has '"payable": "80.00"'
order A2 bob 1 >a2.json
run "commit A2 with v4" 0 "$perk" commit a2.json --db "$db"
out_has '"ruleset_version": 4'
out_has '"payable": "60.00"' # 10000 - 4000
order A1 alice 2 >a1-changed.json
run "A1 with other content" 1 "$perk" commit a1-changed.json --db "$db"
err_has "perk: error: a1-changed.json: order A1 was already committed with different content"
# alice has 80 points; her cart claims 5000 and redeems 1000: priced with the store's 80 (the
# claim is overridden and reported; a dry run, so nothing is written): 10000 - 4000 - 80 = 5920
order A3 alice 1 ', "points_to_redeem": 1000' 5000 >a3.json
run "redeem above the balance" 0 "$perk" commit a3.json --dry-run --db "$db"
out_has '"payable": "59.20"'
check "the claim of 5000 points is overridden by the store's 80" bash -c \
  "jq -e '.customer_facts.overrides[] | select(.fact == \"customer.points_balance\" and .claimed == 5000 and .store == 80)' '$work/out' >/dev/null"
run "commit without arguments" 2 "$perk" commit --db "$db"
err_has "perk: error: no order file given"
err_has "usage: perk commit"
run "commit a missing file" 1 "$perk" commit missing.json --db "$db"
err_has "missing.json"
run "commit into a missing database" 1 "$perk" commit a2.json --db "$work/typo.db"
err_has "perk: error: $work/typo.db: No such file or directory (publish a rule set first, or check --db / \$PERK_DB)"
check "no database was created" [ ! -e "$work/typo.db" ]
echo '{"order": {"id": "N1"}, "customer": {"id": "x"}, "lines": []}' >notime.json
run "commit without a time" 1 "$perk" commit notime.json --db "$db"
err_has "perk: error: notime.json: \$.order.time is required to commit an order"
echo '{"order": {"time": "2026-03-04T10:00:00+08:00"}, "lines": []}' >noid.json
run "commit without ids" 1 "$perk" commit noid.json --db "$db"
err_has "perk: error: noid.json: an order to commit needs \$.order.id and \$.customer.id"
echo '{"lines": [' >broken.json
run "commit broken JSON" 1 "$perk" commit broken.json --db "$db"
err_has "perk: error: broken.json: invalid JSON at line"

# ------------------------------------------------------------------ points
run "points of alice" 0 "$perk" points alice --db "$db" --now "$tomorrow"
out_has "balance:        80"
out_has "pending:        0"
check "one earn entry of 80 for A1" grep -qE 'earn +\+80 .* A1 +base' "$work/out"
run "points of nobody" 0 "$perk" points nobody --db "$db"
out_has "balance:        0"
run "points without a customer" 2 "$perk" points --db "$db"
err_has "expected one CUSTOMER"

# ------------------------------------------------------------------ events
run "events from the start" 0 "$perk" events --after 0 --db "$db"
total=$(wc -l <"$work/out")
# 4 publishes + 2 rollbacks + 2 orders x (order.committed + points.changed) = 10
check "10 events (got $total)" [ "$total" -eq 10 ]
jq_quiet() { jq "$@" >/dev/null; }
if command -v jq >/dev/null; then
  check "every line is a JSON object with id, type, time, data" jq_quiet -e -s 'all(.[]; (.id|type) == "number" and (.type|type) == "string" and (.time|type) == "number" and (.data|type) == "object")' "$work/out"
  check "ids increase" jq_quiet -e -s '[.[].id] == ([.[].id] | sort) and ([.[].id] | unique | length) == length' "$work/out"
elif command -v python3 >/dev/null; then
  check "every line is a JSON object with id, type, time, data" python3 -c '
import json, sys
ids = []
for line in open(sys.argv[1]):
    e = json.loads(line)
    assert isinstance(e["id"], int) and isinstance(e["type"], str) and isinstance(e["data"], dict)
    ids.append(e["id"])
assert ids == sorted(set(ids))' "$work/out"
else
  check "every line looks like a JSON object" bash -c "! grep -vqE '^\{\"data\":\{.*\},\"id\":[0-9]+,\"time\":[0-9]+,\"type\":\"[a-z._]+\"\}$' '$work/out'"
fi
out_has '"type":"ruleset.published"'
out_has '"type":"ruleset.rolled_back"'
out_has '"type":"order.committed"'
out_has '"type":"points.changed"'
check "A1 committed exactly once" [ "$(grep -c '"order_id":"A1"' "$work/out")" -eq 2 ] # order.committed + points.changed
run "events after 8" 0 "$perk" events --after 8 --db "$db"
out_lines 2
out_has '"id":9,'

run "consumer reads 4 and acknowledges" 0 "$perk" events --consumer crm --ack --limit 4 --db "$db"
out_lines 4
out_has '"id":4,'
run "consumer resumes after 4" 0 "$perk" events --consumer crm --ack --db "$db"
out_lines 6
check "resumes at id 5" grep -q '^{.*"id":5,' "$work/out"
run "consumer is up to date" 0 "$perk" events --consumer crm --db "$db"
out_lines 0
order A4 carol 1 >a4.json
run "commit A4" 0 "$perk" commit a4.json --db "$db"
run "commit with a program that is not published" 2 "$perk" commit a2.json --program "$work/none.pbc" --db "$db"
err_has "is not a published version: an order is committed only when priced by the store's active version"
run "db check on a consistent store" 0 "$perk" db check --db "$db"
out_has ": ok ("
run "db check without a subcommand" 2 "$perk" db --db "$db"
run "consumer sees only the new order" 0 "$perk" events --consumer crm --db "$db"
out_lines 2
out_has '"order_id":"A4"'
run "without --ack the position stays" 0 "$perk" events --consumer crm --db "$db"
out_lines 2
run "--ack needs --consumer" 2 "$perk" events --ack --db "$db"
err_has "--ack needs --consumer NAME"
run "--limit 0" 2 "$perk" events --limit 0 --db "$db"
err_has "--limit must be >= 1"

# at-least-once delivery end to end: a consumer reads without acknowledging, stores, then
# acknowledges with `perk events ack`; one that dies before its ack gets the same events again
run "consumer wh reads 3 (no ack)" 0 "$perk" events --consumer wh --limit 3 --db "$db"
out_lines 3
last=$(tail -1 "$work/out" | jq -r .id)
run "wh died before storing: the same 3 again" 0 "$perk" events --consumer wh --limit 3 --db "$db"
check "same last id $last" [ "$(tail -1 "$work/out" | jq -r .id)" = "$last" ]
run "wh stored them and acknowledges $last" 0 "$perk" events ack "$last" --consumer wh --db "$db"
out_has "wh: acknowledged up to $last"
run "wh resumes after $last" 0 "$perk" events --consumer wh --limit 1 --db "$db"
check "first event after the ack is $((last + 1))" [ "$(jq -r .id "$work/out")" = "$((last + 1))" ]
run "acknowledging an older id keeps the position" 0 "$perk" events ack 1 --consumer wh --db "$db"
out_has "wh: acknowledged up to $last"
run "acknowledging an event that does not exist" 1 "$perk" events ack 999999 --consumer wh --db "$db"
err_has "cannot acknowledge event 999999"
run "ack without --consumer" 2 "$perk" events ack 3 --db "$db"
err_has "ack needs --consumer NAME"
run "ack without an id" 2 "$perk" events ack --consumer wh --db "$db"
run "ack of a bad id" 2 "$perk" events ack x1 --consumer wh --db "$db"
err_has 'the event id must be a number >= 1, not "x1"'
run "--follow never acknowledges" 2 "$perk" events --consumer wh --ack --follow --db "$db"
err_has "--follow never acknowledges"
# a follower that is killed acknowledges nothing
"$perk" events --consumer wh --follow --db "$db" >"$work/follow.out" 2>&1 &
fpid=$!
sleep 0.5
kill -TERM "$fpid"; wait "$fpid"
run "after a killed --follow, wh is still at $last" 0 "$perk" events --consumer wh --limit 1 --db "$db"
check "still resumes at $((last + 1))" [ "$(jq -r .id "$work/out")" = "$((last + 1))" ]
check "the follower printed the events after $last" grep -q "\"id\":$((last + 1))," "$work/follow.out"

# perk db backup: SQLite's online backup API, atomic, checked
run "db backup" 0 "$perk" db backup "$work/b1.db" --db "$db"
out_has "backed up to $work/b1.db ("
run "the backup passes db check" 0 "$perk" db check --db "$work/b1.db"
run "the backup has the events" 0 "$perk" events --after 0 --db "$work/b1.db"
check "same number of events as the store" [ "$(wc -l <"$work/out")" -eq "$("$perk" events --after 0 --db "$db" | wc -l)" ]
run "db backup over an older backup" 0 "$perk" db backup "$work/b1.db" --db "$db"
ln -s "$work/b1.db" "$work/link.db"
run "db backup to a symbolic link" 1 "$perk" db backup "$work/link.db" --db "$db"
err_has "is not a regular file; it is left as it is"
run "db backup onto the store itself" 1 "$perk" db backup "$db" --db "$db"
err_has "is the store itself"
run "db backup into a missing folder" 1 "$perk" db backup "$work/nope/b.db" --db "$db"
check "no temporary file left" [ -z "$(ls "$work" | grep '\.tmp-')" ]
run "db backup without a file" 2 "$perk" db backup --db "$db"
err_has "say where to write the backup"
run "db backup of a missing store" 1 "$perk" db backup "$work/b2.db" --db "$work/none.db"
check "a missing store is not created" [ ! -e "$work/none.db" ]
# while another process commits: the copy is one consistent snapshot
( for i in 1 2 3 4 5 6 7 8; do order "BK$i" bk 1 >"bk$i.json"; "$perk" commit "bk$i.json" --db "$db" >/dev/null 2>&1; done ) &
cpid=$!
run "db backup while orders commit" 0 "$perk" db backup "$work/b3.db" --db "$db"
wait "$cpid"
run "the concurrent backup passes db check" 0 "$perk" db check --db "$work/b3.db"

# ------------------------------------------------------------------ the store's clock
ORDER_TIME_OVERRIDE=2020-01-01T00:00:00Z order B1 bob 1 >backdated.json
run "commit an order dated 2020" 1 "$perk" commit backdated.json --db "$db"
err_has "order B1 is dated 1577836800"
err_has "behind the store's clock"
run "commit an order dated 2020 as delayed" 1 "$perk" commit backdated.json --delayed --db "$db"
err_has "more than the 604800 s a delayed order may be late"
ORDER_TIME_OVERRIDE=$(date -u -d '-2 days' +%Y-%m-%dT%H:%M:%SZ) order B2 bob 1 >delayed.json
run "commit a 2-day-old order" 1 "$perk" commit delayed.json --db "$db"
run "commit a 2-day-old order as delayed" 0 "$perk" commit delayed.json --delayed --db "$db"
out_has '"status": "committed"'

# ------------------------------------------------------------------ backup and reading a copy
if command -v sqlite3 >/dev/null; then
  run "online backup" 0 sqlite3 "$db" ".backup '$work/backup.db'"
  run "history of the backup" 0 "$perk" history --db "$work/backup.db"
  check "backup: 4 versions" [ "$(grep -cE '^[* ] +[0-9]+ ' "$work/out")" -eq 4 ]
  run "points in the backup" 0 "$perk" points alice --db "$work/backup.db" --now "$tomorrow"
  out_has "balance:        80"
  run "integrity of the backup" 0 sqlite3 "$work/backup.db" "PRAGMA integrity_check"
  out_has "ok"
  # a store in a directory nobody may write (a read-only mount): reads keep working, writes say
  # read-only (WAL cannot create its -shm file there; the store falls back to an immutable read)
  mkdir "$work/ro" && cp "$work/backup.db" "$work/ro/perk.db" && chmod 444 "$work/ro/perk.db" && chmod 555 "$work/ro"
  as_other=()
  if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then # root ignores permissions
    chmod 755 "$work"
    as_other=(setpriv --reuid=65534 --regid=65534 --clear-groups)
  fi
  if [ "$(id -u)" != 0 ] || [ ${#as_other[@]} -gt 0 ]; then
    run "history of a read-only store" 0 "${as_other[@]}" "$perk" history --db "$work/ro/perk.db"
    check "read-only store: 4 versions" [ "$(grep -cE '^[* ] +[0-9]+ ' "$work/out")" -eq 4 ]
    run "points of a read-only store" 0 "${as_other[@]}" "$perk" points alice --db "$work/ro/perk.db" --now "$tomorrow"
    out_has "balance:        80"
    run "writing to a read-only store" 1 "${as_other[@]}" "$perk" expire --db "$work/ro/perk.db"
    err_has "read-only"
  fi
  chmod 755 "$work/ro"
  # a restore, with the event counter moved past what consumers have seen (docs/operations.md)
  run "last event id" 0 "$perk" events --after 0 --db "$db"
  last=$(tail -1 "$work/out" | sed 's/.*"id":\([0-9]*\),.*/\1/')
  cp "$work/backup.db" "$work/restored.db"
  run "move the event counter" 0 sqlite3 "$work/restored.db" "UPDATE sqlite_sequence SET seq = $last WHERE name = 'events'"
  order R1 rita 1 >r1.json
  run "commit into the restored store" 0 "$perk" commit r1.json --db "$work/restored.db"
  out_has "\"event_id\": $((last + 1)),"
fi

# ------------------------------------------------------------------ other error paths
run "history of a missing database" 1 "$perk" history --db "$work/none.db"
err_has "perk: error: cannot open database $work/none.db: No such file or directory (check --db or \$PERK_DB)"
check "reading did not create it" [ ! -e "$work/none.db" ]
run "publish without a message" 2 "$perk" publish v1.perk --db "$db"
err_has "perk: error: say what changed with -m MESSAGE"
run "publish without files" 2 "$perk" publish -m "x" --db "$db"
err_has "perk: error: no rule files given"
echo 'ruleset "bad" { currency XXX }' >bad.perk
run "publish rules with errors" 1 "$perk" publish bad.perk -m "x" --db "$db"
err_has "perk: nothing was published"
run "show a version that does not exist" 1 "$perk" show 99 --db "$db"
err_has "perk: error: version 99 does not exist"
run "show a bad version number" 2 "$perk" show abc --db "$db"
err_has "VERSION must be a positive number"
run "rollback to a version that does not exist" 1 "$perk" rollback 99 -m "x" --db "$db"
err_has "perk: error: version 99 does not exist"
run "rollback without a message" 2 "$perk" rollback 1 --db "$db"
err_has "say why with -m MESSAGE"
run "--now garbage" 2 "$perk" history --db "$db" --now yesterday
err_has "perk: error: --now yesterday: expected a time from 1970 to 9999 as epoch seconds"
echo "not a database, just text" >junk.db
run "a file that is not a store" 1 "$perk" history --db junk.db
err_has "perk: error:"
check "the message says what is wrong" grep -qiE "not a (perk|database)|corrupt|not a Perk" "$work/err"

# ------------------------------------------------------------------ the service in docs/operations.md
bdir=$(dirname "$perk")
awk '/<!-- compiled and run by tests\/cli\/store.sh -->/ {m = 1; next}
     m && /^```c$/ {c = 1; next}
     c && /^```$/ {exit}
     c {print}' "$root/docs/operations.md" >service.c
step="docs/operations.md service"
check "the snippet is there" [ -s service.c ]
san=""
if nm "$bdir/libperk.a" 2>/dev/null | grep -q __asan_; then san="-fsanitize=address,undefined"; fi
# shellcheck disable=SC2046
run "compile the service" 0 "${CC:-cc}" -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror $san \
  -I"$root/src" -I"$root/runtime/include" -I"$root/runtime" -o service service.c "$bdir/libperkc.a" "$bdir/libperk.a" \
  $(pkg-config --libs jansson sqlite3) $(pkg-config --libs libpq 2>/dev/null || echo -lpq) -lpthread -lm
if [ -x service ]; then
  sdb="$work/service.db"
  run "service: publish v1" 0 "$perk" publish v1.perk -m one --db "$sdb"
  mkfifo orders.fifo
  ./service "$sdb" <orders.fifo >service.out 2>service.err &
  service_pid=$!
  exec 3>orders.fifo
  # send LINE, then wait until the service has answered N lines on stdout+stderr
  send() {
    printf '%s\n' "$1" >&3
    for _ in $(seq 1 200); do
      [ "$(cat service.out service.err | wc -l)" -ge "$2" ] && return 0
      sleep 0.05
    done
    return 1
  }
  one_line() { tr -d '\n' <"$1"; }
  step="service prices S1 with v1"
  check "answered" send "$(order S1 sam 1 | one_line /dev/stdin)" 1
  run "service: publish v2 while it runs" 0 "$perk" publish v2.perk -m two --db "$sdb"
  step="service prices S2 with v2"
  check "answered" send "$(order S2 sue 1 | one_line /dev/stdin)" 2
  step="service retries S1 under v2"
  check "answered" send "$(order S1 sam 1 | one_line /dev/stdin)" 3
  run "service: roll back to v1" 0 "$perk" rollback 1 -m back --db "$sdb"
  step="service retries S1 under v1"
  check "answered" send "$(order S1 sam 1 | one_line /dev/stdin)" 4
  step="service gets a broken line"
  check "answered" send '{"lines": [' 5
  exec 3>&-
  wait "$service_pid"
  rc=$?
  cp service.out "$work/out"
  cp service.err "$work/err"
  step="service output"
  check "exit status 1 (some orders failed)" [ "$rc" -eq 1 ]
  out_has "S1: payable 8000, 80 points, version 1"                       # 10000 - 2000
  out_has "S2: payable 7000, 70 points, version 2"                       # 10000 - 3000
  out_has "S1: payable 8000, 80 points, version 1 (already committed)"   # replayed
  err_has "order S1 was already committed, priced by rule-set version 1; a retry priced by version 2 cannot match it"
  err_has "bad order: invalid JSON at line"
  out_lines 3
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
