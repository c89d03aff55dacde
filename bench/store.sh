#!/usr/bin/env bash
# bench/store.sh BUILD_DIR - `make bench-store`: commits per second and commit latency of the
# contested workload through `perk serve`, in one run, against
#   sqlite  one node on a SQLite file (fsync per commit: synchronous=FULL, the default)
#   pg      1, 2 and 4 nodes (processes) on one PostgreSQL database (a throwaway cluster from
#           tests/pg/cluster.sh with PERK_PG_DURABLE=1: fsync and synchronous_commit on, so both
#           stores flush every commit to disk)
# Every configuration gets a fresh store with the same rules and coupons, and the same client:
# BUILD_DIR/store_client (bench/store_client.c), BENCH_STORE_CLIENTS threads (16) with one
# persistent connection each, spread over the nodes, committing BENCH_STORE_ORDERS orders (4000)
# that all want the same limited promotions (the workload of tests/pg/contest.sh, its limits
# scaled to the order count so that each runs out part-way through the run):
#   flash    limit ORDERS/4 uses, ¥20 off              cap     limit ¥15 x ORDERS/4 total, partial
#   once     limit 1 per customer (ORDERS/20 customers) seckill limit 2 units per customer
#   club     coupons CLUB-0..CLUB-19, ORDERS/80 uses each
# A 503 store_busy (PostgreSQL: the store's own bounded retries after serialization failures ran
# out; nothing was committed) is sent again by the client with the same order id, as a storefront
# would (up to 5 times), and counted in its own column; errors (anything else, or a 503 still at
# the sixth send) must be 0.
# After each configuration: the limits (every budget, code and per-customer count used exactly up
# to its limit and not beyond), the orders stored (every order answered, none lost or extra, the
# discounts answered = the ones stored), and `perk db check`. Prints a table and writes it to
# BUILD_DIR/store.md. BENCH_STORE_THREADS: worker threads per node (4). BENCH_STORE_CONFIGS: which
# configurations to run (default "sqlite:1 pg:1 pg:2 pg:4"). Exits 1 if any check failed.
# shellcheck disable=SC2154 # the r_* variables are set by printf -v from the client's line
set -u
B=${1:-build-bench}
root=$(cd "$(dirname "$0")/.." && pwd)
perk="$root/$B/perk"
client="$root/$B/store_client"
orders=${BENCH_STORE_ORDERS:-4000}
clients=${BENCH_STORE_CLIENTS:-16}
threads=${BENCH_STORE_THREADS:-4}
configs=${BENCH_STORE_CONFIGS:-sqlite:1 pg:1 pg:2 pg:4}
for bin in "$perk" "$client"; do
  [ -x "$bin" ] || { echo "bench-store: $bin is missing (make bench-store builds it)"; exit 1; }
done
case $orders in '' | *[!0-9]*) echo "bench-store: BENCH_STORE_ORDERS must be a number"; exit 1 ;; esac
[ "$orders" -ge 400 ] || { echo "bench-store: BENCH_STORE_ORDERS must be at least 400 (the limits are fractions of it)"; exit 1; }
command -v psql >/dev/null || { echo "bench-store: psql is missing (scripts/deps.sh installs postgresql)"; exit 1; }
command -v sqlite3 >/dev/null || { echo "bench-store: sqlite3 is missing"; exit 1; }

# the limits, from the order count; every order asks for all of them
flash_uses=$((orders / 4))
cap_yuan=$((15 * orders / 4))
customers=$((orders / 20))
units=2
codes=20
code_uses=$((orders / 80))

work=$(mktemp -d /tmp/perk-bench-store.XXXXXX)
chmod 755 "$work" # the cluster's owner (postgres, when we are root) must reach $work/pg
node_pids=()
pg_uri=""
stop_nodes() {
  local p
  for p in "${node_pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${node_pids[@]}"; do wait "$p" 2>/dev/null; done
  node_pids=()
}
cleanup() {
  stop_nodes
  [ -n "$pg_uri" ] && "$root/tests/pg/cluster.sh" stop "$work/pg" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
unset PERK_DB

cat >"$work/rules.perk" <<EOF2
ruleset "shop" { currency CNY timezone "Asia/Shanghai" }
let tea = items where sku = "T1"
promotion seckill "秒杀" {
  limit $units units per customer
  then price tea at ¥80
}
promotion flash "限量立减" {
  limit $flash_uses uses
  then ¥20 off order
}
promotion cap "预算立减" {
  limit ¥$cap_yuan total, partial
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

# one CPU sample of the whole machine: busy and total jiffies (all cores)
cpu_sample() { awk '/^cpu / { t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t }' /proc/stat; }
# a process's CPU time in seconds (utime + stime)
proc_cpu() { awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "/proc/$1/stat" 2>/dev/null || echo 0; }
# the cluster's CPU time so far: the postmaster's children (the nodes' sessions, the WAL writer,
# the checkpointer...) that are alive now; 0 without a cluster
pg_cpu() {
  local pm t=0 c
  pm=$(head -1 "$work/pg/data/postmaster.pid" 2>/dev/null) || { echo 0; return; }
  for c in $pm $(pgrep -P "$pm"); do t=$(echo "$t + $(proc_cpu "$c")" | bc); done
  echo "$t"
}

# q SQL: one query on the configuration's store
q() {
  if [ "$backend" = sqlite ]; then sqlite3 "$db" "$1"; else psql -X -A -t -q "$db" -c "$1"; fi
}

failures=0
check() { # WHAT COMMAND...: one check of the configuration; a failure is printed and counted
  local what=$1
  shift
  if "$@"; then return 0; fi
  echo "  FAIL [$name] $what"
  bad="${bad:+$bad; }$what"
  failures=$((failures + 1))
  return 1
}

start_node() { # I: perk serve on a free port; its port in $port
  local i=$1 log="$work/$name.node$1.log"
  "$perk" serve --db "$db" --listen 127.0.0.1:0 --threads "$threads" 2>"$log" >/dev/null &
  node_pids+=($!)
  port=""
  for _ in $(seq 1 200); do
    port=$(grep -o '"listening on 127.0.0.1:[0-9]*' "$log" | head -1 | sed 's/.*://')
    [ -n "$port" ] && return 0
    kill -0 "$!" 2>/dev/null || break
    sleep 0.05
  done
  echo "  node $i did not start:"
  tail -5 "$log"
  return 1
}

printf '%s\n' "| store | nodes | workers | orders | commits/s | p50 ms | p99 ms | max ms | re-priced | serialization retries | 503 busy, sent again | errors | limits and orders | db check | machine CPU busy | CPU, all processes | nodes CPU | PostgreSQL CPU | client CPU |" \
  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---:|---:|---:|---:|---:|" >"$work/table.md"

run_config() { # BACKEND NODES
  backend=$1
  local nodes=$2 i ports=() key
  name="$backend-$nodes"
  bad=""
  echo "== $backend, $nodes node(s) x $threads workers, $clients clients, $orders orders"
  if [ "$backend" = sqlite ]; then
    db=$work/$name.db
  else
    if [ -z "$pg_uri" ]; then
      pg_uri=$(PERK_PG_DURABLE=1 "$root/tests/pg/cluster.sh" start "$work/pg") ||
        { echo "bench-store: the PostgreSQL cluster did not start"; exit 1; }
    fi
    local schema="bench_${backend}_$nodes"
    psql -X -q "$pg_uri" -c "SET client_min_messages = warning; DROP SCHEMA IF EXISTS $schema CASCADE; CREATE SCHEMA $schema"
    db="$pg_uri&options=-csearch_path%3D$schema"
  fi
  "$perk" publish "$work/rules.perk" -m bench --db "$db" >/dev/null || { check "publish" false; return; }
  for k in $(seq 0 $((codes - 1))); do
    "$perk" coupons add "CLUB-$k" --campaign CLUB --max-uses "$code_uses" --db "$db" >/dev/null ||
      { check "coupons add" false; return; }
  done
  key=$("$perk" keys create --scope checkout --db "$db" 2>/dev/null)
  for i in $(seq 1 "$nodes"); do
    start_node "$i" || { check "node $i starts" false; stop_nodes; return; }
    ports+=("$port")
  done
  local serr_before=0 cpu0 cpu1 out rc
  local log_lines=0
  if [ "$backend" = pg ]; then
    serr_before=$(grep -c 'could not serialize access\|deadlock detected' "$work/pg/server.log")
    log_lines=$(wc -l <"$work/pg/server.log")
  fi
  local pg0=0
  [ "$backend" = pg ] && pg0=$(pg_cpu)
  read -r -a cpu0 <<<"$(cpu_sample)"
  local load0
  load0=$(cut -d' ' -f1 /proc/loadavg)
  out=$("$client" --ports "$(
    IFS=,
    echo "${ports[*]}"
  )" --key "$key" --clients "$clients" --orders "$orders" --customers "$customers" --codes "$codes" --tag "O$nodes-" 2>"$work/client.err")
  rc=$?
  read -r -a cpu1 <<<"$(cpu_sample)"
  local load1 nodes_cpu=0 p
  load1=$(cut -d' ' -f1 /proc/loadavg)
  for p in "${node_pids[@]}"; do nodes_cpu=$(echo "$nodes_cpu + $(proc_cpu "$p")" | bc); done
  local pgcpu="n/a"
  [ "$backend" = pg ] && pgcpu=$(printf '%.1f s' "$(echo "$(pg_cpu) - $pg0" | bc)")
  # the nodes' sessions on the server (pooling, docs/operations.md): all but this query's own
  local sessions="n/a"
  [ "$backend" = pg ] &&
    sessions=$(psql -X -A -t -q "$pg_uri" -c "SELECT count(*) - 1 FROM pg_stat_activity WHERE backend_type = 'client backend'")
  stop_nodes
  echo "  $out"
  [ -s "$work/client.err" ] && sed 's/^/  /' "$work/client.err"
  # name=value pairs of the client's line as shell variables r_NAME (0 when it printed none)
  local kv
  for kv in committed errors seconds commits_per_s p50_ms p99_ms max_ms retries busy coupons flash cap once \
    seckill discount client_cpu_s; do
    printf -v "r_$kv" '%s' 0
  done
  for kv in $out; do
    case ${kv%%=*} in *[!a-z0-9_]*) continue ;; esac
    printf -v "r_${kv%%=*}" '%s' "${kv#*=}"
  done
  check "the client ran to its end (exit $rc)" [ "$rc" -eq 0 ]
  local serr="n/a"
  if [ "$backend" = pg ]; then
    serr=$(($(grep -c 'could not serialize access\|deadlock detected' "$work/pg/server.log") - serr_before))
    # which statements failed: the server logs each ERROR, its DETAIL and HINT, then its STATEMENT
    [ "$serr" -gt 0 ] && echo "  serialization failures by statement (server log):"
    tail -n +$((log_lines + 1)) "$work/pg/server.log" |
      awk '/ERROR: .*(could not serialize|deadlock detected)/ { e = 1; next }
        e && /STATEMENT:/ { sub(/.*STATEMENT: +/, ""); print substr($0, 1, 90) }
        !/(DETAIL|HINT|CONTEXT):/ { e = 0 }' |
      sort | uniq -c | sort -rn | head -6 | sed 's/^/   /'
  fi

  # the orders: every one answered committed is stored, once, with the discount it was answered
  check "$orders orders answered committed (got ${r_committed:-?}), errors 0 (got ${r_errors:-?})" \
    [ "${r_committed:-0}" -eq "$orders" ] && [ "${r_errors:-1}" -eq 0 ]
  check "the store holds exactly the $orders orders" [ "$(q "SELECT count(*) FROM orders")" -eq "$orders" ]
  check "the discounts answered add up to the stored ones" [ "$(q "SELECT sum(discount) FROM orders")" = "${r_discount:-?}" ]
  check "one earn ledger entry per order" \
    [ "$(q "SELECT count(*) FROM orders o WHERE (SELECT count(*) FROM ledger l WHERE l.order_id = o.order_id AND l.kind = 'earn') <> 1")" -eq 0 ]
  check "one order.committed event per order" [ "$(q "SELECT count(*) FROM events WHERE type = 'order.committed'")" -eq "$orders" ]
  # the limits: the demand is far above each, so each is used exactly up to it, never beyond
  local v
  v=$(q "SELECT uses FROM budget_totals WHERE promo_id = 'flash'")
  check "flash: $v uses = $flash_uses, answered $r_flash" [ "$v" -eq "$flash_uses" ] && [ "$r_flash" -eq "$flash_uses" ]
  v=$(q "SELECT money FROM budget_totals WHERE promo_id = 'cap'")
  check "cap: $v fen = $((cap_yuan * 100))" [ "$v" -eq $((cap_yuan * 100)) ]
  v=$(q "SELECT count(*) || ' ' || count(DISTINCT customer_id) FROM budget_uses WHERE promo_id = 'once' AND released_at IS NULL")
  check "once: $v uses by distinct customers = $customers $customers, answered $r_once" [ "$v" = "$customers $customers" ] && [ "$r_once" -eq "$customers" ]
  v=$(q "SELECT coalesce(max(n), 0) || ' ' || coalesce(sum(n), 0) FROM (SELECT sum(units) AS n FROM budget_uses WHERE promo_id = 'seckill' AND released_at IS NULL GROUP BY customer_id) x")
  check "seckill: at most $units units per customer and $((units * customers)) in all (max, sum: $v), answered $r_seckill" \
    [ "$v" = "$units $((units * customers))" ] && [ "$r_seckill" -eq $((units * customers)) ]
  v=$(q "SELECT max(uses) || ' ' || sum(uses) FROM coupons")
  check "coupons: at most $code_uses uses per code, $((codes * code_uses)) in all (max, sum: $v), answered $r_coupons" \
    [ "$v" = "$code_uses $((codes * code_uses))" ] && [ "$r_coupons" -eq $((codes * code_uses)) ]
  check "coupon counters match their uses" \
    [ "$(q "SELECT count(*) FROM coupons c WHERE c.uses <> (SELECT count(*) FROM coupon_uses u WHERE u.code = c.code AND u.released_at IS NULL)")" -eq 0 ]
  local dbcheck=clean
  "$perk" db check --db "$db" >"$work/dbcheck.txt" 2>&1 || { dbcheck=FAILED; check "perk db check" false; sed 's/^/  /' "$work/dbcheck.txt" | head -10; }

  # the orders refused a limited promotion or coupon because it was used up (the expected outcome
  # for most of them), and re-priced: a commit the store refused because another order took the
  # last of a budget or code between this one's pricing and its commit (the checkout's attempts - 1)
  local refused=$((5 * orders - r_flash - r_cap - r_once - r_seckill - r_coupons))
  local busy total
  busy=$((cpu1[0] - cpu0[0]))
  total=$((cpu1[1] - cpu0[1]))
  local mcpu mbusy
  mcpu=$(awk -v b="$busy" -v t="$total" -v n="$(nproc)" 'BEGIN { printf "%.0f%% of %d", t ? 100 * b / t : 0, n }')
  mbusy=$(awk -v b="$busy" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.0f s", b / hz }')
  echo "  refused for a used-up limit: $refused (flash $r_flash, cap $r_cap, once $r_once, seckill $r_seckill, coupons $r_coupons applied);" \
    "re-priced $r_retries; serialization retries $serr; 503 store_busy sent again $r_busy; load average $load0 -> $load1;" \
    "PostgreSQL sessions held by the nodes: $sessions"
  echo "  CPU: machine $mcpu cores busy ($mbusy of CPU, every process); perk nodes ${nodes_cpu} s; PostgreSQL $pgcpu;" \
    "client ${r_client_cpu_s} s; in ${r_seconds} s"
  printf '| %s | %d | %d | %d | %.0f | %s | %s | %s | %d | %s | %d | %d | %s | %s | %s | %s | %.1f s | %s | %.2f s |\n' \
    "$([ "$backend" = sqlite ] && echo SQLite || echo PostgreSQL)" "$nodes" $((nodes * threads)) "$orders" \
    "$r_commits_per_s" "$r_p50_ms" "$r_p99_ms" "$r_max_ms" "$r_retries" "$serr" "$r_busy" "$r_errors" \
    "$([ -z "$bad" ] && echo "held, none lost" || echo "FAILED: $bad")" "$dbcheck" "$mcpu" "$mbusy" "$nodes_cpu" "$pgcpu" "$r_client_cpu_s" \
    >>"$work/table.md"
  echo "$refused" >>"$work/refused"
  unset "${!r_@}"
}

start=$(date -u '+%Y-%m-%d %H:%M')
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
for c in $configs; do
  case $c in
  sqlite:1 | pg:[1-9] | pg:[1-9][0-9]) run_config "${c%%:*}" "${c#*:}" ;;
  *) echo "bench-store: unknown configuration '$c' (sqlite:1, pg:N)"; failures=$((failures + 1)) ;;
  esac
done

{
  echo "## make bench-store ($start UTC)"
  echo
  echo "$(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')), load average $load_start at the start," \
    "$(cut -d' ' -f1-3 /proc/loadavg) at the end; $clients clients, $threads worker threads per node;" \
    "PostgreSQL $(psql --version | awk '{ print $3 }') with fsync and synchronous_commit on; SQLite with synchronous=FULL."
  echo "Each configuration: $orders orders; limits: flash $flash_uses uses, cap ¥$cap_yuan, once per customer" \
    "($customers customers), seckill $units units per customer, $codes coupon codes of $code_uses uses" \
    "(refusals for a used-up limit, expected, in the configurations' order: $(paste -sd/ "$work/refused" 2>/dev/null))."
  echo
  cat "$work/table.md"
} >"$work/store.md"
cp "$work/store.md" "$root/$B/store.md"
echo
cat "$work/store.md"
echo
echo "(written to $B/store.md)"
[ "$failures" -eq 0 ] || { echo "bench-store: $failures check(s) failed"; exit 1; }
