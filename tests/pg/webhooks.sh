#!/usr/bin/env bash
# tests/pg/webhooks.sh PERK - the webhook relay of several REAL `perk serve` nodes on one
# PostgreSQL database (PERK_TEST_PG: run it inside tests/pg/with-cluster.sh). Two nodes both run
# `--webhook` to one receiver: exactly one delivers (the consumer's claim), every event arrives,
# in id order, once; the delivering node is SIGKILLed and the other takes over within its claim
# time (2 s here) and delivers the rest: nothing lost, ids still increasing (at most the event in
# flight at the kill repeated); a node stopped with SIGTERM gives the claim up and the other
# takes over at once. Prints one line per failed check and ends with "N passed, N failed".
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
perk=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
[ -x "$perk" ] || give_up "usage: tests/pg/webhooks.sh PATH/TO/perk"
need_pg
work=$(mktemp -d)
# node_pid[N], node_port[N]: the nodes that start_node (lib.sh) started
declare -A node_pid node_port
recv_pid=""
cleanup() {
  kill_all "${node_pid[@]}" $recv_pid
  drop_work
}
trap cleanup EXIT
cd "$work" || exit 1
unset PERK_DB
db=$(use_schema webhooks)

# the receiver: accepts every delivery, appends its event id to got.txt
cat >recv.py <<'PY'
import http.server, json, sys
out = open(sys.argv[1], "a")
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        out.write(f"{body['id']}\n"); out.flush()
        self.send_response(204); self.end_headers()
    def log_message(self, *a): pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
PY
: >got.txt
python3 recv.py got.txt >recv.port &
recv_pid=$!
for _ in $(seq 1 100); do [ -s recv.port ] && break; sleep 0.05; done
hook="http://127.0.0.1:$(cat recv.port)/hook"
printf 'a-webhook-secret-of-32-bytes-xxxx\n' >secret

# the nodes' options: the webhook, claim 2 s
hooked=(--threads 2 --webhook "$hook" --webhook-secret-file secret --webhook-claim-seconds 2)
cat >r.perk <<'R'
ruleset "shop" { currency CNY timezone "Asia/Shanghai" }
promotion flash "立减" { then ¥1 off order }
R
"$perk" publish r.perk -m one --db "$db" >/dev/null
commit_orders() { # FROM TO: orders with ids FROM..TO through perk commit (one event each at least)
  local i t
  t=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  for i in $(seq "$1" "$2"); do
    printf '{"order":{"id":"W%s","time":"%s"},"customer":{"id":"c%s"},"lines":[{"sku":"TEA","price":"10.00","quantity":1}]}' \
      "$i" "$t" "$((i % 5))" >o.json
    "$perk" commit o.json --db "$db" >/dev/null || echo "commit W$i failed"
  done
}
events() { psql_q "SELECT COUNT(*) FROM webhooks.events"; }
# wait_all N MS: whether got.txt holds N distinct ids within MS ms
wait_all() {
  local t0
  t0=$(date +%s%3N)
  while [ "$(sort -un got.txt | wc -l)" -lt "$1" ]; do
    [ $(($(date +%s%3N) - t0)) -gt "$2" ] && return 1
    sleep 0.1
  done
}
increasing() { # every id after the first delivery of each: no id below one already seen, bar one repeat
  awk 'BEGIN{ok=1; rep=0} { if ($1 <= max) { if ($1 == max && !rep) rep=1; else ok=0 } if ($1 > max) max=$1 } END{exit !ok}' got.txt
}

check "node 1 starts" start_node 1 "${hooked[@]}"
check "node 2 starts" start_node 2 "${hooked[@]}"
commit_orders 1 20
n=$(events)
check "the orders wrote events ($n)" [ "$n" -ge 20 ]
check "every event is delivered" wait_all "$n" 10000
check "each event once ($(wc -l <got.txt) deliveries of $n)" [ "$(wc -l <got.txt)" -eq "$n" ]
check "in id order" increasing
holder=$(psql_q "SELECT holder FROM webhooks.consumers WHERE name = 'webhook'")
check "one node holds the claim ($holder)" [ -n "$holder" ]
claimed=$(grep -l '"webhook_claimed"' node1.log node2.log | wc -l)
check "exactly one node claimed delivery ($claimed)" [ "$claimed" -eq 1 ]
# kill the node that delivers; orders committed meanwhile are delivered by the other
hpid=${holder##*:}
dead=0
for k in 1 2; do [ "${node_pid[$k]}" = "$hpid" ] && dead=$k; done
check "the holder is one of the nodes ($holder)" [ "$dead" -ne 0 ]
[ "$dead" -ne 0 ] || { summary; exit 1; }
alive=$((3 - dead))
kill -KILL "${node_pid[$dead]}"
wait "${node_pid[$dead]}" 2>/dev/null
unset "node_pid[$dead]"
commit_orders 21 40
n=$(events)
check "after a SIGKILL of the delivering node, the other delivers everything" wait_all "$n" 10000
check "still in id order (at most the event in flight repeated)" increasing
check "nothing lost ($(sort -un got.txt | wc -l) of $n)" [ "$(sort -un got.txt | wc -l)" -eq "$n" ]
check "the surviving node took the claim" grep -q '"webhook_claimed"' "node$alive.log"
# a SIGTERM gives the claim up: a fresh node takes over at once (well within the 2 s claim)
check "node 3 starts" start_node 3 "${hooked[@]}"
sleep 0.5
alive_pid=${node_pid[$alive]}
kill -TERM "$alive_pid"
wait "$alive_pid"
check "node $alive exits 0 on SIGTERM" [ $? -eq 0 ]
unset "node_pid[$alive]"
after=$(psql_q "SELECT COALESCE(holder, '') FROM webhooks.consumers WHERE name = 'webhook'")
check "node $alive gave the claim up as it stopped (holder now: '${after}')" [ "${after##*:}" != "$alive_pid" ]
commit_orders 41 45
n=$(events)
check "node 3 delivers the rest" wait_all "$n" 5000
check "in id order to the end" increasing
check "nothing lost to the end" [ "$(sort -un got.txt | wc -l)" -eq "$n" ]
outbox=$(psql_q "SELECT position FROM webhooks.consumers WHERE name = 'webhook'")
check "the consumer's position is the last event ($outbox)" [ "$outbox" = "$(psql_q 'SELECT MAX(id) FROM webhooks.events')" ]

summary
