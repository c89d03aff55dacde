#!/usr/bin/env bash
# run.sh - runs the benchmark and merges both harness binaries' records into one table.
#
#   bench/run.sh [BUILD_DIR]                  the full benchmark (make bench)
#   bench/run.sh [BUILD_DIR] --instructions   callgrind on one cell (make bench-instructions)
#
# Environment: BENCH_RULES (10,100,1000,10000,1000+9000; "N+D" = the N-rule set and D dormant
# promotions, bench/gen.c), BENCH_LINES (1,20,200), BENCH_SECONDS (0.3 per
# engine and cell), BENCH_SEED (42), BENCH_LOOP (evaluations under callgrind, 2000).
# Writes BUILD_DIR/data/ (workloads), BUILD_DIR/results.tsv (raw records) and
# BUILD_DIR/results.md (the tables, also printed).
set -euo pipefail

B=${1:-build-bench}
MODE=${2:-}
RULES=${BENCH_RULES:-10,100,1000,10000,1000+9000}
LINES=${BENCH_LINES:-1,20,200}
SECS=${BENCH_SECONDS:-0.3}
SEED=${BENCH_SEED:-42}
DATA=$B/data

for bin in perk_gen bench_lua54 bench_luajit; do
  [ -x "$B/$bin" ] || { echo "run.sh: $B/$bin is missing: run 'make bench'" >&2; exit 1; }
done

if [ "$MODE" = "--instructions" ]; then
  command -v valgrind >/dev/null || { echo "run.sh: valgrind is not installed (scripts/deps.sh --bench)" >&2; exit 1; }
  LOOP=${BENCH_LOOP:-2000}
  N=100 M=20
  "$B/perk_gen" --out "$DATA" --seed "$SEED" --rules $N --lines $M
  OUT=$B/callgrind.out
  echo "run.sh: callgrind: $LOOP evaluations of $N rules x $M lines (perk_evaluate only)" >&2
  valgrind --tool=callgrind --toggle-collect=perk_evaluate --callgrind-out-file="$OUT" \
    "$B/bench_lua54" --perk-loop "$LOOP" --data "$DATA" --rules $N --lines $M >"$B/perk_loop.tsv" 2>"$B/callgrind.log" \
    || { cat "$B/callgrind.log" >&2; exit 1; }
  total=$(awk '/^(summary|totals):/ {print $2; exit}' "$OUT")
  vm=$(awk -F'\t' '$1 == "perk_loop" {print $5}' "$B/perk_loop.tsv")
  awk -v total="$total" -v loop="$LOOP" -v n="$N" -v m="$M" -v vm="$vm" 'BEGIN {
    per = total / loop
    printf "cell: %d rules x %d lines, %d evaluations under callgrind (--toggle-collect=perk_evaluate)\n", n, m, loop
    printf "machine instructions per evaluation:       %.0f\n", per
    printf "per rule-item pair (%d x %d):              %.1f\n", n, m, per / (n * m)
    printf "Perk VM instructions per evaluation:       %.1f (perk_result.instructions)\n", vm
    printf "machine instructions per VM instruction:   %.1f (the actions and set work are inside the VM instructions)\n", per / vm
  }' | tee "$B/instructions.md"
  exit 0
fi

# the Lua engine's hand-checked cases, in both embedded runtimes, before anything is measured
"$B/bench_lua54" --lua-test bench/test_lua_engine.lua >&2
"$B/bench_luajit" --lua-test bench/test_lua_engine.lua >&2

"$B/perk_gen" --out "$DATA" --seed "$SEED" --rules "$RULES" --lines "$LINES"
TSV=$B/results.tsv
"$B/bench_lua54" --data "$DATA" --rules "$RULES" --lines "$LINES" --seconds "$SECS" --time perk,lua >"$TSV.lua54"
"$B/bench_luajit" --data "$DATA" --rules "$RULES" --lines "$LINES" --seconds "$SECS" --time lua >"$TSV.luajit"
cat "$TSV.lua54" "$TSV.luajit" >"$TSV"
rm -f "$TSV.lua54" "$TSV.luajit"

cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null || true)
cc_version=$(${CC:-cc} --version 2>/dev/null | head -n 1)
lua_version=$(dpkg-query -W -f='${Version}' liblua5.4-dev 2>/dev/null || echo "?")
jit_version=$(dpkg-query -W -f='${Version}' libluajit-5.1-dev 2>/dev/null || echo "?")

awk -F'\t' -v cpu="${cpu:-unknown}" -v cc="$cc_version" -v luav="$lua_version" -v jitv="$jit_version" \
    -v secs="$SECS" -v seed="$SEED" -v date="$(date -u +%Y-%m-%d)" -v cores="$(nproc)" '
function us(ns) { return ns == "" ? "-" : sprintf(ns >= 1e6 ? "%.0f" : ns >= 1e5 ? "%.0f" : ns >= 1e4 ? "%.1f" : "%.2f", ns / 1000) }
function ratio(a, b) { return (a == "" || b == "" || b == 0) ? "-" : sprintf("%.1f", a / b) }
function bytes(b) { return b >= 1048576 ? sprintf("%.1f MB", b / 1048576) : b >= 10240 ? sprintf("%.0f kB", b / 1024) : sprintf("%d B", b) }
$1 == "timer" { timer = $2 }
$1 == "luacall" { luacall[$2] = $3 }
$1 == "compile" { comp[$2] = $3; pbc[$2] = $4; nrules[$2] = $5; if (!($2 in seenN)) { seenN[$2] = 1; Ns[++nN] = $2 } }
$1 == "memory" { mem[$2] = $3 }
$1 == "context" { ctx[$2] = $3; ctxs[$2] = $4; ctxl[$2] = $5 }
$1 == "luaload" { lload[$2, $3] = $4; lmem[$2, $3] = $5 }
$1 == "jsonsize" { jin[$2, $3] = $4; jout[$2, $3] = $5; japplied[$2, $3] = $6 }
$1 == "check" { checked[$2, $3, $4] = $5 }
$1 == "nojson" { nojson = 1 }
$1 == "mix" && !(($2, $3) in mix) { mix[$2, $3] = sprintf("| %s | %s | %s | %s | %s | %s | %s | %s | %s of %.0f | %s |", $2, $3, $4, $5, $6, $7, $8, $9, $10, $4 + $5 + $6 + $7 + $8 + $9, $11) }
$1 == "time" {
  med[$2, $3, $4] = $5; p99[$2, $3, $4] = $6; mean[$2, $3, $4] = $7
  if (!($3 in seenM)) { seenM[$3] = 1; Ms[++nM] = $3 }
}
END {
  print "# Perk benchmark results"
  print ""
  printf "%s UTC, %s (%d cores; one core used), %s, Lua 5.4 %s, LuaJIT %s. Seed %s, %s s per engine and cell.\n", date, cpu, cores, cc, luav, jitv, seed, secs
  printf "Every cart was checked before timing: Perk, Lua 5.4 and LuaJIT give the same discount, shipping, points, gifts and final line amounts.\n"
  printf "Times are per evaluation in microseconds (median / p99 over single-evaluation samples; reading the clock costs %d ns, calling into Lua %s ns (5.4) / %s ns (LuaJIT), both included).\n", timer, luacall["lua54"], luacall["luajit"]
  print ""
  print "## Evaluation time"
  print ""
  print "Perk = perk_cart_* (reset, customer, order, lines, coupons) + perk_evaluate, what a checkout pays per cart; Perk eval = perk_evaluate alone on a loaded cart, explaining every promotion; applied only = the same from a context that explains only the promotions that applied (`PERK_EXPLAIN_APPLIED`: the same amounts, points, hints and coupon verdicts; checked on every cart). Lua = engine.evaluate on a prebuilt Lua cart (it computes the amounts and explains nothing). Ratios are Lua time / Perk time (medians). Rules \"1000+9000\" = the 1,000-rule set plus 9,000 promotions scheduled outside every cart date (see the last section)."
  print ""
  print "| rules | lines | Perk med / p99 | Perk eval med / p99 | applied only med / p99 | Lua 5.4 med / p99 | LuaJIT med / p99 | Lua 5.4 / Perk | LuaJIT / Perk | Lua 5.4 / Perk eval | LuaJIT / Perk eval | Lua 5.4 / applied only | LuaJIT / applied only | Perk evals/s (1 core) |"
  print "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  for (i = 1; i <= nN; i++) for (j = 1; j <= nM; j++) {
    n = Ns[i]; m = Ms[j]
    if (!((n, m, "perk") in med)) continue
    pk = med[n, m, "perk"]; pe = med[n, m, "perk_eval"]; pa = med[n, m, "perk_eval_applied"]
    l5 = med[n, m, "lua54"]; lj = med[n, m, "luajit"]
    rate = (mean[n, m, "perk"] > 0) ? sprintf("%.0f", 1e9 / mean[n, m, "perk"]) : "-"
    printf "| %s | %s | %s / %s | %s / %s | %s / %s | %s / %s | %s / %s | %s | %s | %s | %s | %s | %s | %s |\n", n, m,
      us(pk), us(p99[n, m, "perk"]), us(pe), us(p99[n, m, "perk_eval"]), us(pa), us(p99[n, m, "perk_eval_applied"]),
      us(l5), us(p99[n, m, "lua54"]), us(lj), us(p99[n, m, "luajit"]), ratio(l5, pk), ratio(lj, pk), ratio(l5, pe),
      ratio(lj, pe), ratio(l5, pa), ratio(lj, pa), rate
  }
  print ""
  print "## The workload"
  print ""
  print "What the promotions did per cart, on average over the carts of a cell (Perk reasons; Lua agrees on every amount). Conditions include the schedules (`valid`, `every`, `hours`); nothing = the rule ran but had nothing to discount. Visited = the promotions Perk looked at (`perk_result.promotions_visited`); the rule index gave every other one its default result without any work. Explaining only what applied, fewer are visited: none after a `stop` applied."
  print ""
  print "| rules | lines | applied | condition failed | coupon missing | exclusive | stopped | nothing | visited | visited, applied only |"
  print "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  for (i = 1; i <= nN; i++) for (j = 1; j <= nM; j++) if ((Ns[i], Ms[j]) in mix) print mix[Ns[i], Ms[j]]
  print ""
  print "## Compilation and memory"
  print ""
  print "Compile = compiler_compile_text (parse, check, analyse, generate, write, verify). Loaded = bytes libperk holds for the program after perk_program_load (counting allocator). Context = bytes a context holds with the default limits (10,000 lines): new (perk_context_new), then once it has evaluated every cart of 20 lines, and every cart of 200 lines (a context grows with the carts it is fed, not with max_lines). Lua = the data file run and engine.load()ed, bytes held by the Lua heap."
  print ""
  print "| rules | compile | per 1,000 rules | bytecode | loaded | per rule | context new / 20 / 200 lines | Lua 5.4 load / per rule | LuaJIT load / per rule |"
  print "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  for (i = 1; i <= nN; i++) {
    n = Ns[i]; r = nrules[n]
    printf "| %s | %.2f ms | %.2f ms | %s | %s | %.0f B | %s / %s / %s | %.2f ms / %.0f B | %.2f ms / %.0f B |\n", n,
      comp[n] * 1e3, comp[n] * 1e3 * 1000 / r, bytes(pbc[n]), bytes(mem[n]), mem[n] / r, bytes(ctx[n]), bytes(ctxs[n]), bytes(ctxl[n]),
      lload[n, "lua54"] * 1e3, lmem[n, "lua54"] / r, lload[n, "luajit"] * 1e3, lmem[n, "luajit"] / r
  }
  print ""
  print "## JSON in, JSON out"
  print ""
  if (nojson) {
    print "Not measured: this build has no src/json/cart_json.h (the JSON helpers were not merged when it was built)."
  } else {
    print "cart_json_parse + cart_json_feed + perk_evaluate + result_json_render per cart, against the Perk column above (same carts). JSON = the result explaining every promotion; applied only = `RESULT_JSON_APPLIED_ONLY` (`perk eval --applied-only`), the applied promotions listed and the others counted. Sizes are the average cart document and rendered results."
    print ""
    print "| rules | lines | JSON med / p99 | applied only med / p99 | Perk (structs) med | JSON / Perk | applied only / Perk | cart JSON | result JSON | applied only |"
    print "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    for (i = 1; i <= nN; i++) for (j = 1; j <= nM; j++) {
      n = Ns[i]; m = Ms[j]
      if (!((n, m, "perk_json") in med)) continue
      printf "| %s | %s | %s / %s | %s / %s | %s | %s | %s | %s | %s | %s |\n", n, m,
        us(med[n, m, "perk_json"]), us(p99[n, m, "perk_json"]),
        us(med[n, m, "perk_json_applied"]), us(p99[n, m, "perk_json_applied"]), us(med[n, m, "perk"]),
        ratio(med[n, m, "perk_json"], med[n, m, "perk"]), ratio(med[n, m, "perk_json_applied"], med[n, m, "perk"]),
        bytes(jin[n, m]), bytes(jout[n, m]), bytes(japplied[n, m])
    }
  }
  # growth with rules: from the N-rule set to N+D (D dormant promotions) and to the plain 10N set
  ng = 0
  for (i = 1; i <= nN; i++) if (index(Ns[i], "+") > 0) ng++
  if (ng > 0) {
    print ""
    print "## Growth with rules"
    print ""
    print "Cost relative to the base set (x = time / the base set'"'"'s time, medians). \"N+D\" is the N-rule set with D more promotions of the same mix, each scheduled outside every cart date (campaigns over or not started: what a large ruleset mostly holds): no cart can use them, and the rule index should make them cost next to nothing. The plain 10N set adds rules that can apply: about ten times more promotions match each cart, and each must be worked out."
    print ""
    print "| rules | lines | Perk eval | x | applied only | x | Lua 5.4 | x | LuaJIT | x |"
    print "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    for (i = 1; i <= nN; i++) {
      n = Ns[i]
      if (index(n, "+") == 0) continue
      base = substr(n, 1, index(n, "+") - 1); big = base * 10 ""
      for (j = 1; j <= nM; j++) {
        m = Ms[j]
        split(base SUBSEP n SUBSEP big, rows, SUBSEP)
        for (k = 1; k <= 3; k++) {
          r = rows[k]
          if (!((r, m, "perk_eval") in med)) continue
          printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", r, m,
            us(med[r, m, "perk_eval"]), ratio(med[r, m, "perk_eval"], med[base, m, "perk_eval"]),
            us(med[r, m, "perk_eval_applied"]), ratio(med[r, m, "perk_eval_applied"], med[base, m, "perk_eval_applied"]),
            us(med[r, m, "lua54"]), ratio(med[r, m, "lua54"], med[base, m, "lua54"]),
            us(med[r, m, "luajit"]), ratio(med[r, m, "luajit"], med[base, m, "luajit"])
        }
      }
    }
  }
}' "$TSV" | tee "$B/results.md"
