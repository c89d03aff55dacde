#!/usr/bin/env bash
# tests/pg/contest.sh sqlite|pg PERK - the multi-node proof (issue 16): N REAL `perk serve` nodes
# (processes) on ONE store -- a PostgreSQL database (pg: PERK_TEST_PG, run it inside
# tests/pg/with-cluster.sh) or one SQLite file shared by the processes (sqlite) -- and M client
# processes (tests/pg/contest_client.py) committing orders through the HTTP API, half of them
# reserved first and committed with ?reservation=ID, against limits far below what the clients try:
# a 50-use budget, a ¥1000 money budget, once per customer (40 customers) and 10 coupons of 5 uses.
# Two rounds on fresh stores: all nodes up; then one node SIGKILLed every few seconds and restarted
# on its port (clients send the same order id to another node). Checks after each round: no limit
# exceeded (committed + still held = the limit, exactly, as the demand is far above it), every
# order a client got a 2xx for committed exactly once (with its earn entry and its event), no other
# order in the store, the discounts answered equal the stored ones, perk db check clean. Prints
# orders/s, retries and p50/p99 commit latency per round.
# CONTEST_NODES (4), CONTEST_CLIENTS (8), CONTEST_ORDERS per round (1000), CONTEST_KILL_EVERY
# seconds in the second round (3; 0 = no second round).
# Prints one line per failed check and ends with "N passed, N failed" (tests/run.sh counts it).
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
backend=${1:-}
perk=$(cd "$(dirname "${2:-.}")" && pwd)/$(basename "${2:-perk}")
usage="usage: tests/pg/contest.sh sqlite|pg PATH/TO/perk"
case $backend in sqlite | pg) ;; *) give_up "$usage" ;; esac
[ -x "$perk" ] || give_up "$usage"
if [ "$backend" = pg ]; then need_pg; fi
python=$(command -v /usr/bin/python3 || command -v python3)
nodes=${CONTEST_NODES:-4}
clients=${CONTEST_CLIENTS:-8}
orders=${CONTEST_ORDERS:-1000}
kill_every=${CONTEST_KILL_EVERY:-3}
per=$(((orders + clients - 1) / clients))
total=$((per * clients))
work=$(mktemp -d)
declare -a node_port
killer_pid=""
# each node's pid in $work/pid.I: the killer (a subshell) restarts nodes, and the round's end and
# the cleanup must stop the running ones
node_pid() { cat "$work/pid.$1" 2>/dev/null; }
cleanup() {
  [ -n "$killer_pid" ] && kill "$killer_pid" 2>/dev/null
  local f
  for f in "$work"/pid.*; do [ -f "$f" ] && kill -KILL "$(cat "$f")" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work" || exit 1
unset PERK_DB

# a fresh store per round: a file, or a schema of the cluster's database
new_store() { # NAME
  if [ "$backend" = sqlite ]; then
    db=$work/$1.db
  else
    db=$(use_schema "$1")
  fi
}
q() {
  if [ "$backend" = sqlite ]; then sqlite3 "$db" "$1"; else psql_q "$1" "$db"; fi
}

cat >rules.perk <<'EOF2'
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
EOF2

# free loopback ports for the nodes, kept across restarts
read -r -a node_port <<<"$(python3 -c "
import socket
ss = [socket.socket() for _ in range($nodes)]
for s in ss: s.bind(('127.0.0.1', 0))
print(' '.join(str(s.getsockname()[1]) for s in ss))
for s in ss: s.close()")"

start_node() { # I: perk serve on node_port[I]; waits until it listens
  local i=$1 t
  for t in $(seq 1 100); do
    : >"node$i.log"
    "$perk" serve --db "$db" --listen "127.0.0.1:${node_port[$i]}" --threads 4 >/dev/null 2>>"node$i.log" &
    echo $! >"$work/pid.$i"
    for _ in $(seq 1 100); do
      grep -q '"listening on' "node$i.log" && return 0
      kill -0 "$(node_pid "$i")" 2>/dev/null || break
      sleep 0.02
    done
    kill -KILL "$(node_pid "$i")" 2>/dev/null
    wait "$(node_pid "$i")" 2>/dev/null
    sleep 0.1 # the port may still be in use by the killed node's sockets
  done
  return 1
}

# killer: every kill_every seconds, SIGKILL one node (in turn) and start it again on its port
killer() {
  local i=0
  while :; do
    sleep "$kill_every"
    kill -KILL "$(node_pid "$i")" 2>/dev/null
    wait "$(node_pid "$i")" 2>/dev/null
    echo "killed node $i" >>kills.log
    start_node "$i" || echo "node $i did not restart" >>kills.log
    i=$(((i + 1) % nodes))
  done
}

run_round() { # NAME KILLS(0|1)
  check_label=$1 # the round names its failed checks (lib.sh)
  local kills=$2 i c
  new_store "contest_$1"
  "$perk" publish rules.perk -m contest --db "$db" >/dev/null || check "publish" false
  for k in $(seq 0 9); do "$perk" coupons add "CLUB-$k" --campaign CLUB --max-uses 5 --db "$db" >/dev/null; done
  key=$("$perk" keys create --scope checkout --db "$db" 2>/dev/null)
  for i in $(seq 0 $((nodes - 1))); do check "node $i starts" start_node "$i"; done
  : >kills.log
  local start
  start=$(date +%s.%N)
  [ "$kills" = 1 ] && { killer & killer_pid=$!; }
  local cpids=()
  for c in $(seq 1 "$clients"); do
    "$python" "$here/contest_client.py" "$c" "$per" "$key" "O" "out_$1_$c.jsonl" "${node_port[@]}" &
    cpids+=($!)
  done
  local bad=0
  for p in "${cpids[@]}"; do wait "$p" || bad=$((bad + 1)); done
  local secs
  secs=$(echo "$(date +%s.%N) - $start" | bc)
  if [ -n "$killer_pid" ]; then
    kill "$killer_pid" 2>/dev/null
    wait "$killer_pid" 2>/dev/null
    killer_pid=""
  fi
  check "every client committed all its orders ($bad did not)" [ "$bad" -eq 0 ]
  cat out_"$1"_*.jsonl >answers.jsonl
  local answered distinct
  # an order is answered as committed by 201 "committed", or by 200 "already_committed" to a retry
  # whose first attempt committed but lost its answer (a node killed, a connection lost)
  answered=$(jq -r 'select(.status == 200 or .status == 201) | select(.committed == "committed" or .committed == "already_committed") | .order_id' answers.jsonl | sort)
  distinct=$(echo "$answered" | sort -u | grep -c .)
  check "$total orders answered 2xx committed ($(echo "$answered" | grep -c .)), each once ($distinct distinct)" \
    [ "$(echo "$answered" | grep -c .)" -eq "$total" ] && [ "$distinct" -eq "$total" ]
  check "the store holds exactly the orders answered (no order lost, none extra)" \
    [ "$(q "SELECT order_id FROM orders ORDER BY order_id" | sort)" = "$answered" ]
  check "one earn ledger entry per order" [ "$(q "SELECT count(*) FROM orders o WHERE (SELECT count(*) FROM ledger l WHERE l.order_id = o.order_id AND l.kind = 'earn') <> 1")" -eq 0 ]
  check "one order.committed event per order" [ "$(q "SELECT count(*) FROM events WHERE type = 'order.committed'")" -eq "$total" ]
  held() { q "SELECT count(*) FROM reservation_holds h JOIN reservations r ON r.id = h.reservation_id WHERE r.state = 'open' AND $1"; }
  local flash_c flash cap_c cap once over
  flash_c=$(q "SELECT uses FROM budget_totals WHERE promo_id = 'flash'")
  flash=$((flash_c + $(held "h.promo_id = 'flash'")))
  check "flash: $flash_c committed <= 50, committed + held = 50 (got $flash)" [ "$flash_c" -le 50 ] && [ "$flash" -eq 50 ]
  cap_c=$(q "SELECT money FROM budget_totals WHERE promo_id = 'cap'")
  cap=$((cap_c + $(q "SELECT coalesce(sum(h.discount), 0) FROM reservation_holds h JOIN reservations r ON r.id = h.reservation_id WHERE r.state = 'open' AND h.promo_id = 'cap'")))
  check "cap: $cap_c fen committed <= 100000, committed + held = 100000 (got $cap)" [ "$cap_c" -le 100000 ] && [ "$cap" -eq 100000 ]
  over=$(q "SELECT count(*) FROM (SELECT u.customer_id, count(*) n FROM budget_uses u WHERE u.promo_id = 'once' AND u.released_at IS NULL GROUP BY u.customer_id) x WHERE n > 1")
  check "once: no customer used it twice (got $over)" [ "$over" -eq 0 ]
  for k in $(seq 0 9); do
    c=$(q "SELECT count(*) FROM coupon_uses WHERE code = 'CLUB$k' AND released_at IS NULL")
    n=$((c + $(held "h.code = 'CLUB$k'")))
    check "CLUB-$k: $c committed <= 5, committed + held = 5 (got $n)" [ "$c" -le 5 ] && [ "$n" -eq 5 ]
  done
  check "coupon counters match their uses" [ "$(q "SELECT count(*) FROM coupons c WHERE c.uses <> (SELECT count(*) FROM coupon_uses u WHERE u.code = c.code AND u.released_at IS NULL)")" -eq 0 ]
  local said stored
  said=$(jq -r 'select(.committed == "committed" or .committed == "already_committed") | .discount' answers.jsonl | awk '{ s += $1 * 100 } END { printf "%d", s }')
  stored=$(q "SELECT sum(discount) FROM orders")
  check "the discounts answered add up to the stored ones ($said = $stored fen)" [ "$said" = "$stored" ]
  check "perk db check is clean" "$perk" db check --db "$db" >/dev/null
  for i in $(seq 0 $((nodes - 1))); do
    kill -TERM "$(node_pid "$i")" 2>/dev/null
    wait "$(node_pid "$i")" 2>/dev/null
    rm -f "$work/pid.$i"
  done
  local stats
  stats=$(jq -s -r --arg secs "$secs" '
    (map(.ms) | sort) as $ms | (map(.retries) | add) as $r | (map(select(.committed == "already_committed")) | length) as $a |
    "\(length) orders in \($secs | tonumber * 100 | round / 100) s: \(length / ($secs | tonumber) | round) orders/s, \($r) retries, \($a) answered already_committed, commit p50 \($ms[(length * 0.5 | floor)] | round) ms, p99 \($ms[(length * 0.99 | floor)] | round) ms"' answers.jsonl)
  echo "# $backend, $nodes nodes, $clients clients, $1: $stats$([ "$kills" = 1 ] && echo ", $(grep -c killed kills.log) nodes killed")"
}

run_round steady 0
[ "$kill_every" != 0 ] && run_round kills 1

summary
