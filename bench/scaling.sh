#!/usr/bin/env bash
# bench/scaling.sh [PERK] - checks that compile time and context creation grow no faster than
# O(n log n) in the number of attr(...) comparisons (docs/security.md): it times `perk compile` and
# `perk eval` (program load + perk_context_new + one tiny cart) on a generated ruleset of N and of
# 2N comparisons and fails if doubling the input more than SCALING_MAX_RATIO (default 2.6) times
# the time. Best of SCALING_RUNS (default 2) runs per size, to shrug off a busy machine.
#   SCALING_N=50000   comparisons in the smaller ruleset (10 per promotion)
# Run by `make bench-scaling`; a benchmark, not part of `make test` (timings need a quiet machine).
set -eu
perk=${1:-build/perk}
n=${SCALING_N:-50000}
max_ratio=${SCALING_MAX_RATIO:-2.6}
runs=${SCALING_RUNS:-2}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

# gen N FILE: N comparisons, 10 per promotion, over 97 keys (so keys repeat and values do not)
gen() {
  awk -v n="$1" 'BEGIN {
    print "ruleset \"scaling\" {\n  currency CNY\n}\n"
    for (i = 0; i < n; i += 10) {
      printf "promotion p%d {\n  when count(items where ", i / 10
      for (j = 0; j < 10; j++) printf "%sattr(\"k%d\") = \"v%d\"", (j ? " or " : ""), (i + j) % 97, i + j
      printf ") >= 1\n  then 1%% off order\n}\n"
    }
  }' > "$2"
}

printf '{"order":{"currency":"CNY","time":"2026-03-04T12:00:00+08:00"},"lines":[{"sku":"A","price":"10.00","quantity":1,"attrs":{"k5":"v5"}}]}\n' > "$dir/cart.json"

# best TIMES...: the smallest
best() { printf '%s\n' "$@" | sort -g | head -1; }
# secs CMD...: wall seconds of one run (the command must succeed)
secs() {
  local t0 t1
  t0=$(date +%s.%N)
  "$@" > /dev/null
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc -l
}

declare -A compile_t eval_t
for size in "$n" $((2 * n)); do
  gen "$size" "$dir/r$size.perk"
  c=(); e=()
  for ((k = 0; k < runs; k++)); do
    c+=("$(secs "$perk" compile "$dir/r$size.perk" -o "$dir/r$size.pbc")")
    e+=("$(secs "$perk" eval "$dir/r$size.pbc" --cart "$dir/cart.json")")
  done
  compile_t[$size]=$(best "${c[@]}")
  eval_t[$size]=$(best "${e[@]}")
done

status=0
check() { # check WHAT T1 T2
  local ratio
  ratio=$(echo "$3 / $2" | bc -l)
  printf '%-34s %8.3f s  %8.3f s   x%.2f\n' "$1" "$2" "$3" "$ratio"
  if [ "$(echo "$ratio > $max_ratio" | bc -l)" = 1 ]; then
    echo "  FAIL: doubling the input multiplied the time by more than $max_ratio (quadratic?)"
    status=1
  fi
}
printf '%-34s %10s  %10s   %s\n' "attr comparisons" "$n" "$((2 * n))" "ratio"
check "perk compile" "${compile_t[$n]}" "${compile_t[$((2 * n))]}"
check "perk eval (load + context + cart)" "${eval_t[$n]}" "${eval_t[$((2 * n))]}"
[ $status = 0 ] && echo "scaling: ok (at most x$max_ratio per doubling)"
exit $status
