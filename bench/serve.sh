#!/usr/bin/env bash
# bench/serve.sh BUILD_DIR [SECONDS] - `make bench-serve`: perk serve under wrk. Publishes the tea
# shop into a temporary store, starts the server on a free loopback port, and runs wrk against
# POST /v1/evaluate (the sample cart; full and applied-only explanations) and GET /healthz for
# SECONDS each (default 10), with 2 threads and 16 connections. Prints wrk's reports; the server
# is always stopped on exit.
set -eu
B=${1:-build}
secs=${2:-10}
root=$(cd "$(dirname "$0")/.." && pwd)
perk="$root/$B/perk"
work=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
"$perk" publish "$root/rules/tea_shop.perk" -m bench --db "$work/perk.db" >/dev/null
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
body=$(jq -c . "$root/examples/carts/sample.json")
cat >"$work/post.lua" <<EOF2
wrk.method = "POST"
wrk.body = [==[$body]==]
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $key"
EOF2
for path in /v1/evaluate "/v1/evaluate?explain=applied"; do
  echo "== POST $path (sample cart, tea shop)"
  wrk -t2 -c16 -d"${secs}s" --latency -s "$work/post.lua" "http://127.0.0.1:$port$path"
done
echo "== GET /healthz"
wrk -t2 -c16 -d"${secs}s" --latency "http://127.0.0.1:$port/healthz"
kill -TERM "$pid"
wait "$pid"
pid=""
errors=$(grep -c '"status":[45]' "$work/serve.log" || true)
echo "bench-serve: $errors answers with status 4xx/5xx"
