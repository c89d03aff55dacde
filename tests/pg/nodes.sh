#!/usr/bin/env bash
# tests/pg/nodes.sh PERK - several REAL `perk serve` nodes (processes) on one PostgreSQL database
# (PERK_TEST_PG, a URI: run it inside tests/pg/with-cluster.sh): two nodes; a version published
# through the store (perk publish --db URI) and a rollback are served by BOTH within a second
# (LISTEN/NOTIFY), and so is a scheduled activation when it comes due (its time is cached, no
# notice needed), and again after every node's session was terminated by the server.
# (Orders through several nodes: tests/pg/contest.sh.)
# Prints one line per failed check and ends with "N passed, N failed" (tests/run.sh counts it).
set -u
perk=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
[ -x "$perk" ] || { echo "usage: tests/pg/nodes.sh PATH/TO/perk"; echo "0 passed, 1 failed"; exit 1; }
[ -n "${PERK_TEST_PG:-}" ] || { echo "PERK_TEST_PG is not set: run under tests/pg/with-cluster.sh"; echo "0 passed, 1 failed"; exit 1; }
work=$(mktemp -d)
declare -A node_pid
cleanup() {
  for p in "${node_pid[@]}"; do kill -KILL "$p" 2>/dev/null; done
  wait 2>/dev/null
  [ "$failed" -eq 0 ] && rm -rf "$work" || echo "kept $work"
}
trap cleanup EXIT
cd "$work" || exit 1
unset PERK_DB
passed=0
failed=0
check() {
  local what=$1
  shift
  if "$@"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL $what"
  fi
}
psql_q() { psql -X -A -t -q "$PERK_TEST_PG" -c "SET client_min_messages = warning; $1"; }

# each part in its own PostgreSQL schema of the cluster's database
use_schema() {
  psql_q "DROP SCHEMA IF EXISTS $1 CASCADE; CREATE SCHEMA $1" >/dev/null
  case $PERK_TEST_PG in *\?*) db="$PERK_TEST_PG&options=-csearch_path%3D$1" ;; *) db="$PERK_TEST_PG?options=-csearch_path%3D$1" ;; esac
}

# start_node N [OPTIONS...]: perk serve on a free port; node_port[N], node_pid[N]
declare -A node_port
start_node() {
  local n=$1 port="" i
  shift
  : >"node$n.log"
  "$perk" serve --db "$db" --listen 127.0.0.1:0 --threads 4 "$@" 2>>"node$n.log" &
  node_pid[$n]=$!
  for i in $(seq 1 400); do
    port=$(grep -o '"listening on 127.0.0.1:[0-9]*' "node$n.log" | head -1 | sed 's/.*://')
    [ -n "$port" ] && break
    kill -0 "${node_pid[$n]}" 2>/dev/null || break
    sleep 0.05
  done
  node_port[$n]=$port
  [ -n "$port" ]
}
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
use_schema swap
rules 10 >v1.perk
rules 20 >v2.perk
rules 30 >v3.perk
"$perk" publish v1.perk -m one --db "$db" >/dev/null
check "node 1 starts" start_node 1
check "node 2 starts" start_node 2
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

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
