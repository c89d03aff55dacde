#!/usr/bin/env bash
# tests/pg/restart.sh PERK - the PostgreSQL server stopped and started again under load (issue 16).
# Two REAL `perk serve` nodes on one database (PERK_TEST_PG: run it inside
# tests/pg/with-cluster.sh, whose cluster it halts and resumes through tests/pg/cluster.sh) and
# client processes (tests/pg/restart_client.py) committing orders against contested budgets and
# coupons. Twice: the server is stopped (pg_ctl stop -m fast, then -m immediate: a crash) mid-run,
# left down for a few seconds while the clients keep sending, and started again. Checks: while it
# is down every request is answered 503 store_unavailable with a message saying the store cannot
# be reached, within the request time limit (never a 500, never a hang) and /readyz says so; after
# the start both nodes are ready again within a few seconds without being restarted and commit
# orders; the orders answered with an error during the outage, sent again with the same id, are
# committed once; the store holds exactly the orders answered 2xx, each once (its earn entry, its
# event), no budget or coupon over its limit, the discounts answered equal the stored ones and
# perk db check is clean; /metrics counts the reconnections.
# RESTART_CLIENTS (4), RESTART_UP and RESTART_DOWN seconds (3 and 3).
# Prints one line per failed check and ends with "N passed, N failed" (tests/run.sh counts it).
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
perk=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
[ -x "$perk" ] || give_up "usage: tests/pg/restart.sh PATH/TO/perk"
need_pg
# the cluster's folder is the URI's host (tests/pg/cluster.sh: a unix socket folder)
cluster=$(printf '%s\n' "$PERK_TEST_PG" | sed -n 's/.*[?&]host=\([^&]*\).*/\1/p')
[ -f "$cluster/port" ] || give_up "no cluster of tests/pg/cluster.sh at '$cluster'"
python=$(command -v /usr/bin/python3 || command -v python3)
clients=${RESTART_CLIENTS:-4}
up=${RESTART_UP:-3}
down=${RESTART_DOWN:-3}
timeout=5 # --request-timeout of the nodes: no answer may take longer
work=$(mktemp -d)
# node_pid[I], node_port[I]: the nodes that start_node (lib.sh) started
declare -a node_pid node_port
cleanup() {
  kill_all "${node_pid[@]}"
  # a failed run leaves the server halted at most: with-cluster.sh stops it either way
  drop_work
}
trap cleanup EXIT
cd "$work" || exit 1
unset PERK_DB
now() { date +%s.%N; }

# The test cluster runs with synchronous_commit off (cluster.sh): a crash of the server (-m
# immediate) would lose commits it had acknowledged, by that setting's design. These sessions turn
# it on, as a production server has it, so that every acknowledged order must survive the crash.
db=$(use_schema restart "%20-csynchronous_commit%3Don")
q() { psql_q "$1" "$db"; }

# limits the clients reach within the run: contested before, during and after the outages
cat >rules.perk <<'EOF2'
ruleset "shop" { currency CNY timezone "Asia/Shanghai" }
promotion flash "限量立减" {
  limit 150 uses
  then ¥20 off order
}
promotion cap "预算立减" {
  limit ¥1500 total, partial
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
"$perk" publish rules.perk -m restart --db "$db" >/dev/null || check "publish" false
for k in $(seq 0 9); do "$perk" coupons add "CLUB-$k" --campaign CLUB --max-uses 15 --db "$db" >/dev/null; done
key=$("$perk" keys create --scope checkout --db "$db" 2>/dev/null)

# readyz I: "STATUS CODE" of node I's /readyz ("200 ready", "503 store_unavailable"), and its time
readyz() {
  curl -s -m $((timeout + 2)) -o readyz.json -w '%{http_code} %{time_total}' "http://127.0.0.1:${node_port[$1]}/readyz" >readyz.out
  read -r code secs <readyz.out
  echo "$code $(jq -r '.status // .error.code' readyz.json 2>/dev/null) $secs"
}

check "node 0 starts" start_node 0 --threads 4 --request-timeout "$timeout"
check "node 1 starts" start_node 1 --threads 4 --request-timeout "$timeout"
for i in 0 1; do check "node $i is ready" [ "$(readyz "$i" | cut -d' ' -f1-2)" = "200 ready" ]; done

rm -f stop
cpids=()
for c in $(seq 1 "$clients"); do
  "$python" "$here/restart_client.py" "$c" "$key" "R" "out_$c.jsonl" "$work/stop" "$timeout" "${node_port[@]}" &
  cpids+=($!)
done

: >windows
outage() { # MODE: up, halt, down (checking /readyz), resume, wait until both nodes are ready
  local mode=$1 t_halted t_resume i state
  sleep "$up"
  check "pg_ctl stop -m $mode" "$here/cluster.sh" halt "$cluster" "$mode"
  t_halted=$(now)
  sleep 0.5
  for i in 0 1; do
    state=$(readyz "$i")
    check "while down ($mode), node $i's /readyz says 503 store_unavailable within ${timeout} s (got $state)" \
      awk -v s="$state" -v t="$timeout" 'BEGIN { split(s, a, " "); exit !(a[1] == 503 && a[2] == "store_unavailable" && a[3] < t) }'
  done
  sleep "$(echo "$down - 0.5" | bc)"
  t_resume=$(now)
  echo "$mode $t_halted $t_resume" >>windows
  check "pg_ctl start after -m $mode" "$here/cluster.sh" resume "$cluster"
  local t_up t_ready ok=1 waited
  t_up=$(now)
  for i in 0 1; do
    while :; do
      [ "$(readyz "$i" | cut -d' ' -f1-2)" = "200 ready" ] && break
      waited=$(echo "$(now) - $t_up" | bc)
      [ "$(echo "$waited > 5" | bc)" = 1 ] && { ok=0; break; }
      sleep 0.05
    done
  done
  t_ready=$(now)
  waited=$(echo "$t_ready - $t_up" | bc)
  for i in 0 1; do kill -0 "${node_pid[$i]}" 2>/dev/null || ok=0; done
  check "after -m $mode both nodes are ready again within 5 s of the start, not restarted (took $(printf '%.2f' "$waited") s)" \
    [ "$ok" = 1 ]
  echo "$mode-ready $t_ready $t_up" >>windows
}
outage fast
outage immediate
sleep "$up"
touch stop
bad=0
for p in "${cpids[@]}"; do wait "$p" || bad=$((bad + 1)); done
check "every client's orders were all committed in the end ($bad clients had one that was not)" [ "$bad" -eq 0 ]
cat out_*.jsonl >attempts.jsonl

# --- the answers, by phase
read -r _ fast_halted fast_resume < <(grep '^fast ' windows)
read -r _ imm_halted imm_resume < <(grep '^immediate ' windows)
read -r _ fast_ready fast_up < <(grep '^fast-ready ' windows)
read -r _ imm_ready imm_up < <(grep '^immediate-ready ' windows)
# attempts wholly inside an outage (sent after the stop returned, answered before the start began)
inside='select((.t0 >= $fh and .t1 <= $fr) or (.t0 >= $ih and .t1 <= $ir))'
jqa() { jq -c --argjson fh "$fast_halted" --argjson fr "$fast_resume" --argjson ih "$imm_halted" --argjson ir "$imm_resume" \
  --argjson fy "$fast_ready" --argjson iy "$imm_ready" "$@" attempts.jsonl; }
n_inside=$(jqa "$inside" | grep -c .)
check "requests were sent while the server was down ($n_inside)" [ "$n_inside" -ge 20 ]
wrong=$(jqa "$inside | select(.status != 503 or .code != \"store_unavailable\" or (.message | test(\"cannot be reached\") | not))" | head -3)
check "every request while down answered 503 store_unavailable 'cannot be reached' (wrong: ${wrong:-none})" [ -z "$wrong" ]
n500=$(jqa 'select(.status >= 500 and .status != 503)' | grep -c .)
check "no answer was a 5xx other than 503, at any time (got $n500: $(jqa 'select(.status >= 500 and .status != 503)' | head -2))" [ "$n500" -eq 0 ]
noans=$(jqa 'select(.status == 0)' | grep -c .)
check "every request got an answer ($noans did not: $(jqa 'select(.status == 0)' | head -2))" [ "$noans" -eq 0 ]
slow=$(jqa "select(.ms > $timeout * 1000)" | grep -c .)
check "no answer took longer than the request time limit of $timeout s ($slow did: $(jqa "select(.ms > $timeout * 1000)" | head -2))" [ "$slow" -eq 0 ]
# outside the outages a 503 may also be store_busy: a commit whose serialization retries ran out
# (docs/postgresql.md, Isolation); the client sends it again as any 503
other503=$(jqa 'select(.status == 503 and .code != "store_unavailable" and .code != "store_busy")' | head -3)
check "every 503 at any time says store_unavailable or store_busy (other: ${other503:-none})" [ -z "$other503" ]
after_fast=$(jqa 'select(.t0 >= $fy and .t1 <= $ih) | select(.status == 201 or .status == 200)' | grep -c .)
after_imm=$(jqa 'select(.t0 >= $iy) | select(.status == 201 or .status == 200)' | grep -c .)
check "orders commit after each restart ($after_fast after the first, $after_imm after the second)" \
  [ "$after_fast" -gt 0 -a "$after_imm" -gt 0 ]
# an order answered an error during an outage and committed by a later attempt with the same id
retried=$(jq -s -r '[group_by(.order_id)[] | select(any(.status == 503) and any(.status == 200 or .status == 201))] | length' attempts.jsonl)
check "orders answered 503 were committed by a retry with the same id ($retried)" [ "$retried" -ge 1 ]

# --- the store
jq -r 'select(.status == 200 or .status == 201) | .order_id' attempts.jsonl | sort >answered
orders=$(grep -c . answered)
check "each order answered 2xx once ($orders answers, $(sort -u answered | grep -c .) distinct)" [ "$(sort -u answered | grep -c .)" -eq "$orders" ]
check "every order sent was answered 2xx ($(jq -r .order_id attempts.jsonl | sort -u | grep -c .) sent, $orders answered)" \
  [ "$(jq -r .order_id attempts.jsonl | sort -u | grep -c .)" -eq "$orders" ]
q "SELECT order_id FROM orders" | sort >stored
check "the store holds exactly the orders answered 2xx (lost: $(comm -23 answered stored | head -5 | tr '\n' ' ')extra: $(comm -13 answered stored | head -5 | tr '\n' ' '))" \
  cmp -s answered stored
check "one earn ledger entry per order" [ "$(q "SELECT count(*) FROM orders o WHERE (SELECT count(*) FROM ledger l WHERE l.order_id = o.order_id AND l.kind = 'earn') <> 1")" -eq 0 ]
check "one order.committed event per order" [ "$(q "SELECT count(*) FROM events WHERE type = 'order.committed'")" -eq "$orders" ]
flash=$(q "SELECT coalesce((SELECT uses FROM budget_totals WHERE promo_id = 'flash'), 0)")
check "flash: $flash uses <= 150" [ "$flash" -le 150 ]
cap=$(q "SELECT coalesce((SELECT money FROM budget_totals WHERE promo_id = 'cap'), 0)")
check "cap: $cap fen <= 150000" [ "$cap" -le 150000 ]
over=$(q "SELECT count(*) FROM (SELECT u.customer_id, count(*) n FROM budget_uses u WHERE u.promo_id = 'once' AND u.released_at IS NULL GROUP BY u.customer_id) x WHERE n > 1")
check "once: no customer used it twice (got $over)" [ "$over" -eq 0 ]
club=$(q "SELECT string_agg(uses::text, ',' ORDER BY code) FROM coupons WHERE uses > 15")
check "no CLUB coupon used more than 15 times (${club:-none})" [ -z "$club" ]
check "coupon counters match their uses" [ "$(q "SELECT count(*) FROM coupons c WHERE c.uses <> (SELECT count(*) FROM coupon_uses u WHERE u.code = c.code AND u.released_at IS NULL)")" -eq 0 ]
said=$(jq -r 'select(.status == 200 or .status == 201) | .discount' attempts.jsonl | awk '{ s += $1 * 100 } END { printf "%d", s }')
stored=$(q "SELECT coalesce(sum(discount), 0) FROM orders")
check "the discounts answered add up to the stored ones ($said = $stored fen)" [ "$said" = "$stored" ]
check "perk db check is clean" "$perk" db check --db "$db" >/dev/null
reconnects=$(curl -s "http://127.0.0.1:${node_port[0]}/metrics" | awk '$1 == "perk_store_reconnects_total{result=\"ok\"}" { print $2 }')
check "node 0's /metrics counts its reconnections (${reconnects:-none})" [ "${reconnects:-0}" -ge 1 ]

for i in 0 1; do
  kill -TERM "${node_pid[$i]}"
  wait "${node_pid[$i]}"
  check "node $i exits 0 on SIGTERM" [ $? -eq 0 ]
done
node_pid=()
unknown=$(jqa 'select(.message // "" | test("may have been committed"))' | grep -c .)
echo "# $clients clients, 2 nodes: $orders orders, $(jq -s 'length' attempts.jsonl) attempts, $n_inside answered while down, $retried committed by a retry after a 503 ($unknown answers said the order may have been committed); pg_ctl start took $(printf '%.2f' "$(echo "$fast_up - $fast_resume" | bc)") s (fast) and $(printf '%.2f' "$(echo "$imm_up - $imm_resume" | bc)") s (immediate), both nodes ready $(printf '%.2f' "$(echo "$fast_ready - $fast_up" | bc)") s and $(printf '%.2f' "$(echo "$imm_ready - $imm_up" | bc)") s after it returned; node 0: $reconnects reconnections"
summary
