# shellcheck shell=bash
# tests/pg/lib.sh - the helpers the PostgreSQL / multi-node test scripts share (nodes.sh,
# webhooks.sh, restart.sh, copy.sh, contest.sh). Each sources it first, before it changes folder
# (the directive lets `shellcheck -x` follow it):
#   # shellcheck source-path=SCRIPTDIR source=lib.sh
#   . "$(dirname "$0")/lib.sh"
# It counts the checks (passed, failed; check, summary), stops a script that cannot run with the
# summary line tests/run.sh's run_summary looks for (give_up, need_pg), queries the throwaway
# cluster of tests/pg/with-cluster.sh (psql_q, use_schema), starts `perk serve` nodes and waits
# until they listen (start_node, listen_port), and cleans up (kill_all, drop_work).
# The scripts provide the variables some helpers use: perk (the binary, an absolute path), db (the
# store's URI), work (the temporary folder) and the arrays node_pid and node_port.
# shellcheck disable=SC2034,SC2154 # variables shared with the scripts that source this file

# here: this folder, absolute (cluster.sh and the client programs beside the scripts)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
passed=0
failed=0

# check WHAT CMD...: one check, passed when CMD succeeds; a failure prints "FAIL WHAT", or
# "FAIL [LABEL] WHAT" while check_label is set (contest.sh: the round)
check() {
  local what=$1
  shift
  if "$@"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL ${check_label:+[$check_label] }$what"
  fi
}

# summary: the last line, "N passed, N failed" (tests/run.sh counts it); succeeds when none failed
summary() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}

# give_up MESSAGE: the script cannot run: prints MESSAGE and a summary of one failure, exits 1
give_up() {
  echo "$1"
  echo "0 passed, 1 failed"
  exit 1
}

# need_pg: gives up unless PERK_TEST_PG names a cluster (set by tests/pg/with-cluster.sh)
need_pg() {
  [ -n "${PERK_TEST_PG:-}" ] || give_up "PERK_TEST_PG is not set: run under tests/pg/with-cluster.sh"
}

# psql_q SQL [URI]: runs SQL (notices muted) on URI, by default the cluster's database
# ($PERK_TEST_PG); prints the rows unaligned, without headers
psql_q() { psql -X -A -t -q "${2:-$PERK_TEST_PG}" -c "SET client_min_messages = warning; $1"; }

# use_schema NAME [OPTIONS]: a fresh (empty) schema NAME in the cluster's database; prints the URI
# of sessions in it (search_path=NAME), with the URI-encoded server OPTIONS appended to the
# options parameter (e.g. "%20-csynchronous_commit%3Don")
use_schema() {
  psql_q "DROP SCHEMA IF EXISTS $1 CASCADE; CREATE SCHEMA $1" >/dev/null
  local opts="options=-csearch_path%3D$1${2:-}"
  case $PERK_TEST_PG in *\?*) echo "$PERK_TEST_PG&$opts" ;; *) echo "$PERK_TEST_PG?$opts" ;; esac
}

# listen_port LOG PID [TRIES]: waits (TRIES times 50 ms, 400 by default) until the `perk serve` of
# PID writes "listening on 127.0.0.1:PORT" to LOG, and prints PORT; prints nothing when it did not
# in time or the process ended
listen_port() {
  local port=""
  for _ in $(seq 1 "${3:-400}"); do
    port=$(grep -o '"listening on 127.0.0.1:[0-9]*' "$1" | head -1 | sed 's/.*://')
    [ -n "$port" ] && break
    kill -0 "$2" 2>/dev/null || break
    sleep 0.05
  done
  echo "$port"
}

# start_node N [OPTIONS...]: `perk serve --db $db` with OPTIONS on a free loopback port, stderr to
# nodeN.log; sets node_pid[N] and node_port[N], succeeds when it listens (listen_port)
# shellcheck disable=SC2004 # the arrays may be associative (nodes.sh): the key needs its $
start_node() {
  local n=$1
  shift
  : >"node$n.log"
  "$perk" serve --db "$db" --listen 127.0.0.1:0 "$@" 2>>"node$n.log" &
  node_pid[$n]=$!
  node_port[$n]=$(listen_port "node$n.log" "${node_pid[$n]}")
  [ -n "${node_port[$n]}" ]
}

# kill_all PID...: SIGKILLs each process (quietly: some may have ended) and waits for every child
kill_all() {
  local p
  for p in "$@"; do kill -KILL "$p" 2>/dev/null; done
  wait 2>/dev/null
}

# drop_work: removes the work folder $work, but keeps it (and says so) when a check failed
drop_work() {
  [ "$failed" -eq 0 ] && rm -rf "$work" || echo "kept $work"
}
