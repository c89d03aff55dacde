#!/usr/bin/env bash
# tests/run.sh BUILD_DIR... - runs every test suite against each built tree and ends with the
# single summary line "N passed, N failed" (counting individual test cases where a suite reports
# them: cmocka cases, rule-test cases, docs examples, golden files).
#   VALGRIND=1  run everything under valgrind memcheck (leaks and errors fail the suite; --fair-sched
#               so that threads waiting on each other, as the hot-reload test's do, take turns): the unit
#               tests, the CLI runs and the embedding example. It also sets PERK_TEST_QUICK=1 (so it
#               ends in minutes) and PERK_TEST_VALGRIND=1, for what valgrind's 20-50x slowdown
#               breaks: test_cart_json's "refused in 0.25 s" bound becomes 5 s and the
#               crash test waits 20 times longer before each kill. Everything else runs as is.
#   PERK_TEST_QUICK=1  ask the heavy suites (store concurrency and crashes, the random invariants)
#               for a smaller size
#   PERK_TEST_LONG=1   also run the long checks (perk diff on 100,000 generated orders, timed)
set -u
cd "$(dirname "$0")/.."
passed=0
failed=0
failures=()
log_dir=$(mktemp -d)
trap 'rm -rf "$log_dir"' EXIT

vg=()
if [ "${VALGRIND:-0}" = 1 ]; then
  vg=(valgrind -q --fair-sched=yes --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect --track-fds=no)
  export PERK_TEST_QUICK=1 PERK_TEST_VALGRIND=1
  # the scripts below run their programs through this prefix
  export PERK_WRAP="${vg[*]}"
fi

note_fail() { failed=$((failed + $2)); failures+=("$1"); }

# run_cmocka NAME CMD...: counts cmocka's "[  PASSED  ] N test(s)" / "[  FAILED  ] N test(s)".
run_cmocka() {
  local name=$1; shift
  local log="$log_dir/$(echo "$name" | tr '/ ' '__').log"
  "$@" >"$log" 2>&1
  local rc=$?
  local p f
  p=$(grep -Eo '^\[  PASSED  \] [0-9]+' "$log" | awk '{s+=$4} END {print s+0}')
  f=$(grep -Eo '^\[  FAILED  \] [0-9]+ test' "$log" | awk '{s+=$4} END {print s+0}')
  passed=$((passed + p))
  if [ "$f" -gt 0 ]; then
    note_fail "$name ($f failed)" "$f"; sed -n '1,200p' "$log" | grep -E 'FAIL|error|Error|ERROR|failure' | head -20
  elif [ $rc -ne 0 ]; then
    note_fail "$name (exit $rc)" 1; tail -30 "$log"
  elif [ "$p" -eq 0 ]; then
    note_fail "$name (ran no test)" 1; tail -10 "$log"
  fi
}

# run_summary NAME CMD...: a command that prints "N passed, N failed" itself.
run_summary() {
  local name=$1; shift
  local log="$log_dir/$(echo "$name" | tr '/ ' '__').log"
  "$@" >"$log" 2>&1
  local rc=$?
  local line p f
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
  p=$(echo "$line" | awk '{print $1+0}'); f=$(echo "$line" | awk '{print $3+0}')
  passed=$((passed + p))
  if [ -z "$line" ]; then note_fail "$name (exit $rc, no summary)" 1; tail -30 "$log";
  elif [ "$f" -gt 0 ] || [ $rc -ne 0 ]; then note_fail "$name ($f failed, exit $rc)" $(( f > 0 ? f : 1 )); tail -60 "$log"; fi
}

# run_one NAME CMD...: one pass/fail for a command's exit status.
run_one() {
  local name=$1; shift
  local log="$log_dir/$(echo "$name" | tr '/ ' '__').log"
  if "$@" >"$log" 2>&1; then passed=$((passed + 1)); else note_fail "$name" 1; tail -30 "$log"; fi
}

# The sample campaigns are dated in 2026; "today" is pinned so that the schedule analysis
# (a campaign wholly in the past) gives the same verdict on every day the suite runs.
export PERK_TODAY=${PERK_TODAY:-2026-03-01}

# the folders are the architecture: every include points down (docs/internals.md)
run_one "layout: includes point down" scripts/check-layout.sh
# the fuzzer's dictionary knows every keyword of the lexer
run_one "fuzz dictionary: keywords of grammar/lexer.l" scripts/check-fuzz-dict.sh

for B in "$@"; do
  [ -x "$B/perk" ] || { note_fail "$B: not built" 1; continue; }
  echo "== suites on $B"
  for t in "$B"/tests/test_*; do
    [ -x "$t" ] || continue
    case $(basename "$t") in
      # the PostgreSQL driver runs against a real throwaway cluster, started and stopped around it
      test_pg_driver) run_cmocka "$B/$(basename "$t")" tests/pg/with-cluster.sh "${vg[@]}" "$t" ;;
      # PostgreSQL's migrations from every version: nothing to run on SQLite, so only in the
      # PostgreSQL store suite below (tests/pg/store-suite.sh)
      test_store_pg_migrate) continue ;;
      *) run_cmocka "$B/$(basename "$t")" "${vg[@]}" "$t" ;;
    esac
  done
  # the same store tests again on PostgreSQL (issue 16): one throwaway cluster for them all
  # (tests/pg/with-cluster.sh), each test in a fresh schema of its own (store_test_util.h)
  if [ -x "$B/tests/test_pg_driver" ]; then
    pg_log="$log_dir/$(echo "$B" | tr '/ ' '__')_store_pg"
    mkdir -p "$pg_log"
    tests/pg/with-cluster.sh tests/pg/store-suite.sh "$pg_log" "$B" "${vg[@]}"
    for l in "$pg_log"/*.log; do
      [ -e "$l" ] || { note_fail "$B: store on postgresql: the cluster did not start" 1; break; }
      # the log ends in the binary's "exit status N": replay the log and that status
      run_cmocka "$B: store on postgresql: $(basename "$l" .log)" \
        sh -c 'cat "$1"; exit "$(tail -1 "$1" | awk "{print \$3}")"' _ "$l"
    done
  fi
  # every fuzz target replays its seed corpus and its crash regressions (fuzz.mk, tests/fuzz/)
  for rp in "$B"/fuzz-replay/*; do
    [ -x "$rp" ] || continue
    t=$(basename "$rp"); inputs=()
    for d in "tests/fuzz/corpus/$t" "tests/fuzz/regressions/$t"; do [ -d "$d" ] && inputs+=("$d"); done
    run_one "$B: fuzz replay $t" "${vg[@]}" "$rp" "${inputs[@]}"
  done
  # every ruleset in rules/ checks clean
  run_one "$B: perk check rules/*.perk" "${vg[@]}" "$B/perk" check --werror rules/*.perk
  # the rule files stay in the canonical layout (perk fmt --write rules/ fixes them)
  run_one "$B: perk fmt --check rules/" "${vg[@]}" "$B/perk" fmt --check rules/
  # the rule tests beside the rulesets
  run_summary "$B: perk test rules/" "${vg[@]}" "$B/perk" test rules/
  # the semantics of each construct: rules, cart and expected cents together (docs/testing.md)
  run_summary "$B: perk test tests/semantics/" "${vg[@]}" "$B/perk" test tests/semantics/
  # the command line's contract: exit statuses, JSON, round trips
  run_summary "$B: CLI" tests/cli/cli.sh "$B/perk"
  # every command's --help against its parser and docs/cli.md
  run_summary "$B: CLI help" tests/cli/help.sh "$B/perk"
  # every ```perk example in the docs compiles
  run_summary "$B: docs examples" scripts/check-doc-examples.sh "$B/perk" docs/*.md
  # perk gen-orders and perk diff from the command line
  run_summary "$B: perk diff / gen-orders" scripts/check-diff.sh "$B/perk"
  # the store commands end to end through the real binary (temporary databases)
  run_summary "$B: cli store" tests/cli/store.sh "$B/perk"
  # the operations commands (refund, cancel) against a real store, JSON checked with jq
  run_summary "$B: cli operations" tests/cli/ops.sh "$B/perk"
  # perk report: the shop's days in its zone, per promotion, per day and per tier, JSON and text
  run_summary "$B: cli report" tests/cli/report.sh "$B/perk"
  # what the command line distrusts and bounds: outputs, limits, includes, store text, errors
  run_summary "$B: cli trust" tests/cli/trust.sh "$B/perk"
  # the store's customer facts over the cart's claims: perk customers, commit, eval --db (issue 14 item 3)
  run_summary "$B: cli facts" tests/cli/facts.sh "$B/perk"
  # --json of the store commands, - as stdin, local times in the rule set's zone, --at/--now forms
  run_summary "$B: cli conventions" tests/cli/conventions.sh "$B/perk"
  # perk serve over HTTP: every route, hostile requests, hot swap and load (tests/service/)
  run_summary "$B: service" tests/service/serve.sh "$B/perk"
  # 16 clients commit 2,000 orders over HTTP against contested budgets and coupons
  run_summary "$B: service contest" tests/service/contest.sh "$B/perk"
  # several perk serve nodes on one PostgreSQL (a throwaway cluster): versions swapped on every
  # node within a second, contested orders through the nodes with one killed now and then
  run_summary "$B: PostgreSQL nodes" tests/pg/with-cluster.sh tests/pg/nodes.sh "$B/perk"
  # the webhook relay of two nodes: one delivers (the consumer's claim), the other takes over
  # after a SIGKILL or a SIGTERM; every event once, in id order
  run_summary "$B: PostgreSQL webhooks" tests/pg/with-cluster.sh tests/pg/webhooks.sh "$B/perk"
  # the PostgreSQL server stopped (fast, then a crash) and started again under 2 nodes and their
  # clients: 503 store_unavailable while down, the nodes recover by themselves, nothing committed
  # lost or doubled (tests/pg/restart.sh; about 30 s)
  run_summary "$B: PostgreSQL restart" tests/pg/with-cluster.sh tests/pg/restart.sh "$B/perk"
  # the multi-node proof (tests/pg/contest.sh): 4 perk serve processes on one store, 8 client
  # processes, contested limits, then a node SIGKILLed every 3 s: nothing exceeded, lost or doubled.
  # On one SQLite file shared by the processes, and on PostgreSQL (a throwaway cluster; about
  # 1.5 min on the plain build, 2-3 min on the ASan build).
  run_summary "$B: nodes contest (SQLite)" tests/pg/contest.sh sqlite "$B/perk"
  run_summary "$B: nodes contest (PostgreSQL)" tests/pg/with-cluster.sh tests/pg/contest.sh pg "$B/perk"
  # perk db copy from SQLite to PostgreSQL and back: rows, counters and answers the same, checked
  run_summary "$B: PostgreSQL db copy" tests/pg/with-cluster.sh tests/pg/copy.sh "$B/perk"
  # perk report on PostgreSQL: the same figures from the same orders (its SQL is portable)
  run_summary "$B: cli report (PostgreSQL)" tests/pg/with-cluster.sh tests/cli/report.sh "$B/perk" pg
  # the operators' console in a real headless chromium (Selenium) against perk serve, screenshots
  # into $B/screenshots/ (not under valgrind: the browser's timeouts are not made for it)
  if [ "${VALGRIND:-0}" != 1 ]; then
    run_summary "$B: console (browser)" /usr/bin/python3 tests/console/console_test.py "$B/perk"
  fi
  # the embedding example links libperk through perk.h only and runs
  for ex in "$B"/examples/*; do
    [ -x "$ex" ] || continue
    run_one "$B: example $(basename "$ex")" scripts/run-example.sh "$B" "$ex"
  done
done

# make install into a temporary DESTDIR: files, SONAME, exports (perk_* only), pkg-config, the
# example built and run against the staged tree, man pages, completion, uninstall. Once, on the
# first tree (an unsanitized one in `make test`), and not under valgrind (it runs compilers).
if [ "${VALGRIND:-0}" != 1 ] && [ -x "${1:-}/perk" ]; then
  run_summary "$1: make install (scripts/test-install.sh)" scripts/test-install.sh "$1"
fi

if [ ${#failures[@]} -gt 0 ]; then
  echo "== failures:"
  for f in "${failures[@]}"; do echo "  $f"; done
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
