#!/usr/bin/env bash
# bench/serve.sh BUILD_DIR [SECONDS] - `make bench-serve`: perk serve under wrk on loopback, at 100
# rules x 20 lines (the workload of `make bench`: bench/gen.c, seed 42), beside the in-process
# figure for the same carts in the same run.
#
#   in-process   bench_lua54 --time perk on the same carts: perk_json (cart_json_parse + feed +
#                perk_evaluate + result_json_render) and perk_json_applied, median and p99
#   evaluate     POST /v1/evaluate (full explanation) and ?explain=applied, cycling over the carts
#   commit       POST /v1/orders, every request a new order id dated now (the store refuses other
#                times), on a durable store (fsync per commit)
#
# wrk: 2 threads, 16 connections, SECONDS each (default 10); the server runs 2 worker threads.
# Prints wrk's reports and a summary table (requests/s, p50, p99); the server is always stopped.
# BENCH_CONNECTIONS overrides the 16 connections.
set -eu
B=${1:-build-bench}
secs=${2:-10}
conns=${BENCH_CONNECTIONS:-16}
root=$(cd "$(dirname "$0")/.." && pwd)
perk="$root/$B/perk"
for bin in perk perk_gen bench_lua54; do
  [ -x "$root/$B/$bin" ] || { echo "bench-serve: $B/$bin is missing (make bench-serve builds it)"; exit 1; }
done
work=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT

"$root/$B/perk_gen" --out "$work/data" --seed 42 --rules 100 --lines 20 2>/dev/null
mkdir -p "$work/carts"
"$root/$B/bench_lua54" --dump-json "$work/carts" --data "$work/data" --lines 20 2>/dev/null
ncarts=$(ls "$work/carts" | wc -l)
echo "== in-process (same carts, same run): bench_lua54 --time perk --rules 100 --lines 20"
"$root/$B/bench_lua54" --data "$work/data" --rules 100 --lines 20 --seconds 2 --time perk \
  --engine-dir "$root/bench" 2>/dev/null | awk -F'\t' '$1 == "time"' >"$work/inproc.tsv"
awk -F'\t' '{ printf "  %-18s median %8.1f us  p99 %8.1f us  (%s samples)\n", $4, $5 / 1e3, $6 / 1e3, $8 }' "$work/inproc.tsv"

"$perk" publish "$work/data/rules_100.perk" -m bench --db "$work/perk.db" >/dev/null
key=$("$perk" keys create --scope checkout --db "$work/perk.db" 2>/dev/null)
"$perk" serve --db "$work/perk.db" --listen 127.0.0.1:0 --threads 2 2>"$work/serve.log" &
pid=$!
port=""
for _ in $(seq 1 100); do
  port=$(grep -o '"listening on 127.0.0.1:[0-9]*' "$work/serve.log" | sed 's/.*://' || true)
  [ -n "$port" ] && break
  sleep 0.05
done
[ -n "$port" ] || { echo "bench-serve: the server did not start"; cat "$work/serve.log"; exit 1; }

# the wrk script: every thread reads the carts and cycles over them; for commits, each request
# gets a new order id (thread, counter) and the time now
cat >"$work/carts.lua" <<EOF2
local dir, ncarts, key, commit = "$work/carts", $ncarts, "$key", os.getenv("BENCH_COMMIT") == "1"
local nthread = 0
function setup(thread)
  nthread = nthread + 1
  thread:set("tid", nthread)
end
function init(args)
  carts = {}
  for k = 0, ncarts - 1 do
    local f = assert(io.open(dir .. "/cart_" .. k .. ".json", "rb"))
    carts[k + 1] = f:read("*a")
    f:close()
  end
  n = 0
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. key
end
function request()
  n = n + 1
  local body = carts[n % ncarts + 1]
  if commit then
    local now = os.date("!%Y-%m-%dT%H:%M:%SZ")
    body = body:gsub('"order":{"time":"[^"]*"', '"order":{"id":"W' .. tid .. "-" .. n .. '","time":"' .. now .. '"', 1)
  end
  return wrk.format(nil, nil, nil, body)
end
EOF2

run() { # NAME PATH [ENV]
  echo "== $1: POST $2 ($ncarts carts of 20 lines, 100 rules; wrk -t2 -c$conns -d${secs}s)"
  env ${3:-} wrk -t2 -c"$conns" -d"${secs}s" --latency -s "$work/carts.lua" "http://127.0.0.1:$port$2" | tee "$work/$1.txt"
}
run evaluate /v1/evaluate
run evaluate_applied "/v1/evaluate?explain=applied"
run commit /v1/orders BENCH_COMMIT=1
orders=$(sqlite3 "$work/perk.db" "SELECT count(*) FROM orders" 2>/dev/null || echo "?")
kill -TERM "$pid"
wait "$pid"
pid=""
errors=$(grep -c '"status":[45]' "$work/serve.log" || true)

# the summary: wrk's Requests/sec and the 50% and 99% lines of its latency distribution
ms() { awk -v v="$1" 'BEGIN { u = v; if (u ~ /us$/) { sub(/us$/, "", u); u /= 1000 } else if (u ~ /ms$/) { sub(/ms$/, "", u) } else if (u ~ /s$/) { sub(/s$/, "", u); u *= 1000 } printf "%.2f", u }'; }
echo
echo "== summary ($(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end)"
printf '%-26s %12s %10s %10s\n' route requests/s p50_ms p99_ms
for r in evaluate evaluate_applied commit; do
  rps=$(awk '/^Requests\/sec:/ { print $2 }' "$work/$r.txt")
  p50=$(awk '$1 == "50%" { print $2 }' "$work/$r.txt")
  p99=$(awk '$1 == "99%" { print $2 }' "$work/$r.txt")
  printf '%-26s %12s %10s %10s\n' "$r" "$rps" "$(ms "$p50")" "$(ms "$p99")"
done
awk -F'\t' '{ printf "%-26s %12.0f %10.3f %10.3f\n", "in-process " $4, 1e9 / $5, $5 / 1e6, $6 / 1e6 }' "$work/inproc.tsv"
echo "(in-process requests/s = 1 / median on one core; orders stored: $orders; answers 4xx/5xx in the log: $errors)"
