#!/usr/bin/env bash
# tests/pg/nodes.sh PERK - several REAL `perk serve` nodes (processes) on one PostgreSQL database
# (PERK_TEST_PG, a URI: run it inside tests/pg/with-cluster.sh): two nodes; a version published
# through the store (perk publish --db URI) and a rollback are served by BOTH within a second
# (LISTEN/NOTIFY), and so is a scheduled activation when it comes due (its time is cached, no
# notice needed), and again after every node's session was terminated by the server.
# (Orders through several nodes: tests/pg/contest.sh.)
# Prints one line per failed check and ends with "N passed, N failed" (tests/run.sh counts it).
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
perk=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
[ -x "$perk" ] || give_up "usage: tests/pg/nodes.sh PATH/TO/perk"
need_pg
work=$(mktemp -d)
# node_pid[N], node_port[N]: the nodes that start_node (lib.sh) started
declare -A node_pid node_port
cleanup() {
  kill_all "${node_pid[@]}"
  drop_work
}
trap cleanup EXIT
cd "$work" || exit 1
unset PERK_DB

# version_of N: the version node N serves (readyz), empty when none
version_of() { curl -s "http://127.0.0.1:${node_port[$1]}/readyz" | jq -r '.ruleset_version // empty' 2>/dev/null; }
# wait_version N V MS: whether node N serves version V within MS milliseconds; $waited = ms taken
wait_version() {
  local t0 t
  t0=$(date +%s%3N)
  while :; do
    t=$(($(date +%s%3N) - t0))
    [ "$(version_of "$1")" = "$2" ] && { waited=$t; return 0; }
    [ "$t" -gt "$3" ] && { waited=$t; return 1; }
    sleep 0.02
  done
}

# served N V MS WHAT: a check that node N serves version V within MS ms, naming the time taken
served() {
  local ok=0
  wait_version "$1" "$2" "$3" || ok=1
  check "node $1 serves version $2 within $3 ms $4 (took $waited ms)" [ $ok -eq 0 ]
}

rules() { # DISCOUNT
  cat <<EOF2
ruleset "shop" { currency CNY timezone "Asia/Shanghai" }
promotion flash "立减" { then ¥$1 off order }
EOF2
}

# ------------------------------------------------------------------ part 1: versions
db=$(use_schema swap) # each part in its own PostgreSQL schema of the cluster's database
rules 10 >v1.perk
rules 20 >v2.perk
rules 30 >v3.perk
"$perk" publish v1.perk -m one --db "$db" >/dev/null
check "node 1 starts" start_node 1 --threads 4
check "node 2 starts" start_node 2 --threads 4
check "node 1 serves version 1" wait_version 1 1 2000
check "node 2 serves version 1" wait_version 2 1 2000
"$perk" publish v2.perk -m two --db "$db" >/dev/null
served 1 2 1000 "of the publish"
served 2 2 1000 "of the publish"
"$perk" rollback 1 -m back --db "$db" >/dev/null
served 1 1 1000 "of the rollback"
served 2 1 1000 "of the rollback"
# scheduled 3 s ahead: not before its time, then within a second of it
at=$(($(date +%s) + 3))
"$perk" publish v3.perk -m three --at "$at" --db "$db" >/dev/null
check "a scheduled version is not served before its time" [ "$(version_of 2)" = 1 ]
while [ "$(date +%s)" -lt "$at" ]; do sleep 0.05; done
served 1 3 1000 "of its scheduled time"
served 2 3 1000 "of its scheduled time"
# a node whose session was cut (server-side terminate) listens again on its next look
psql_q "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND datname = current_database()" >/dev/null
sleep 0.5
"$perk" rollback 2 -m again --db "$db" >/dev/null
served 1 2 2000 "of a rollback after its sessions were terminated"
served 2 2 2000 "of a rollback after its sessions were terminated"
for n in 1 2; do
  kill -TERM "${node_pid[$n]}"
  wait "${node_pid[$n]}"
  check "node $n exits 0 on SIGTERM" [ $? -eq 0 ]
  unset "node_pid[$n]"
done

summary
