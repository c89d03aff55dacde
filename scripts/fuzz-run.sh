#!/usr/bin/env bash
# scripts/fuzz-run.sh BUILD_DIR SECONDS TARGET... - runs each libFuzzer target built by `make fuzz`
# (BUILD_DIR/fuzz/TARGET) for SECONDS seconds, one after the other, and prints one line per target:
#   fuzz_cart: 1234567 executions in 60 s, corpus 812 inputs, ok
# New inputs go to BUILD_DIR/corpus/TARGET (the committed seeds in tests/fuzz/corpus/TARGET and the
# regressions are read, never written). A crash, leak, timeout or broken invariant leaves its input
# in BUILD_DIR/artifacts/TARGET/ and the log in BUILD_DIR/logs/TARGET.log; the script then goes on
# with the other targets and exits 1 at the end. To reproduce: BUILD_DIR/fuzz/TARGET FILE.
# FUZZ_JOBS=2 runs two targets at a time (each still for SECONDS seconds).
set -u
cd "$(dirname "$0")/.."
[ $# -ge 3 ] || { echo "usage: $0 BUILD_DIR SECONDS TARGET..." >&2; exit 2; }
B=$1; seconds=$2; shift 2

# Longest input per target: a rule file of a few hundred lines, a program of a few such files, a
# cart of ~40 lines, and generator choices for 6 promotions and 2 carts.
max_len() {
  case $1 in
    fuzz_compile) echo 8192 ;;
    fuzz_bytecode) echo 16384 ;;
    fuzz_cart) echo 8192 ;;
    fuzz_pipeline) echo 512 ;;
    *) echo 4096 ;;
  esac
}

run_target() {
  local t=$1 bin="$B/fuzz/$1"
  local corpus="$B/corpus/$t" artifacts="$B/artifacts/$t/" log="$B/logs/$t.log"
  mkdir -p "$corpus" "$artifacts" "$B/logs"
  if [ ! -x "$bin" ]; then echo "$t: not built ($bin)"; return 1; fi
  local seeds=()
  for d in "tests/fuzz/corpus/$t" "tests/fuzz/regressions/$t"; do [ -d "$d" ] && seeds+=("$d"); done
  local dict=()
  [ -f "tests/fuzz/$t.dict" ] && dict=(-dict="tests/fuzz/$t.dict")
  "$bin" -max_total_time="$seconds" -max_len="$(max_len "$t")" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$artifacts" "${dict[@]}" "$corpus" "${seeds[@]}" >"$log" 2>&1
  local rc=$?
  local execs time_s
  execs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$' | tail -1)
  [ -n "$execs" ] || execs=$(grep -Eo '^#[0-9]+' "$log" | tail -1 | tr -d '#')
  time_s=$(grep -Eo 'Done [0-9]+ runs in [0-9]+ second' "$log" | grep -Eo 'in [0-9]+' | grep -Eo '[0-9]+' | tail -1)
  local n_corpus
  n_corpus=$(find "$corpus" -type f | wc -l)
  if [ $rc -eq 0 ]; then
    echo "$t: ${execs:-?} executions in ${time_s:-$seconds} s, corpus $n_corpus new inputs, ok"
    return 0
  fi
  echo "$t: FAILED after ${execs:-?} executions (exit $rc); log $log"
  grep -E '^(==[0-9]+==ERROR|SUMMARY|fuzz: invariant|.*runtime error)' "$log" | head -5 | sed 's/^/    /'
  grep -E 'Test unit written to' "$log" | sed 's/^/    /'
  return 1
}

failed=0
jobs=${FUZZ_JOBS:-1}
if [ "$jobs" -gt 1 ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  pids=()
  for t in "$@"; do
    ( run_target "$t" >"$tmp/$t.out"; echo $? >"$tmp/$t.rc" ) &
    pids+=($!)
    if [ ${#pids[@]} -ge "$jobs" ]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
  done
  wait
  for t in "$@"; do
    cat "$tmp/$t.out"
    [ "$(cat "$tmp/$t.rc")" = 0 ] || failed=1
  done
else
  for t in "$@"; do run_target "$t" || failed=1; done
fi
exit $failed
