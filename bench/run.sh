#!/usr/bin/env bash
# run.sh - runs the benchmark and merges both harness binaries' records into one table.
#
#   bench/run.sh [BUILD_DIR]                  the full benchmark (make bench)
#   bench/run.sh [BUILD_DIR] --format         the tables again from BUILD_DIR/results.tsv
#   bench/run.sh [BUILD_DIR] --instructions   callgrind: instructions per evaluation of Perk and
#                                             of the Lua engines (make bench-instructions)
#
# Environment: BENCH_RULES (10,100,1000,10000,1000+9000; "N+D" = the N-rule set and D dormant
# promotions, bench/gen.c), BENCH_LINES (1,20,200), BENCH_SECONDS (0.3 per
# engine and cell), BENCH_SEED (42), BENCH_LOOP (runs under callgrind at 100 rules, 2000;
# BENCH_LOOP_LARGE at 10,000 rules, 100),
# BENCH_THREADS (2: the scaling test runs 1 to this many threads; 0 or 1 skips it),
# BENCH_THREAD_RULES (100,10000; 20-line carts), BENCH_THREAD_SECONDS (1 per run).
# Writes BUILD_DIR/data/ (workloads), BUILD_DIR/results.tsv (raw records) and
# BUILD_DIR/results.md (the tables, also printed).
set -euo pipefail

B=${1:-build-bench}
MODE=${2:-}
RULES=${BENCH_RULES:-10,100,1000,10000,1000+9000}
LINES=${BENCH_LINES:-1,20,200}
SECS=${BENCH_SECONDS:-0.3}
SEED=${BENCH_SEED:-42}
THREADS=${BENCH_THREADS:-2}
THREAD_RULES=${BENCH_THREAD_RULES:-100,10000}
THREAD_LINES=20
THREAD_SECS=${BENCH_THREAD_SECONDS:-1}
DATA=$B/data

for bin in perk_gen bench_lua54 bench_luajit; do
  [ -x "$B/$bin" ] || { echo "run.sh: $B/$bin is missing: run 'make bench'" >&2; exit 1; }
done

if [ "$MODE" = "--instructions" ]; then
  command -v valgrind >/dev/null || { echo "run.sh: valgrind is not installed (scripts/deps.sh --bench)" >&2; exit 1; }
  LOOP=${BENCH_LOOP:-2000}
  LOOP_LARGE=${BENCH_LOOP_LARGE:-100}
  "$B/perk_gen" --out "$DATA" --seed "$SEED" --rules 100,10000 --lines 20
  # count BIN ENGINE N LOOP: instructions per run of ENGINE (callgrind, counted function only)
  count() {
    local bin=$1 engine=$2 n=$3 loop=$4 out=$B/callgrind.out.$2.$1.$3 fn args
    if [ "$engine" = evaluate ]; then fn=perk_evaluate args=()
    elif [ "$engine" = checkout ]; then fn=bench_once_perk_checkout args=(--loop-engine checkout)
    else fn=bench_once_lua args=(--loop-engine "$engine"); fi
    echo "run.sh: callgrind: $loop runs of $engine ($bin), $n rules x 20 lines" >&2
    valgrind --tool=callgrind --toggle-collect="$fn" --callgrind-out-file="$out" \
      "$B/$bin" --perk-loop "$loop" "${args[@]}" --data "$DATA" --rules "$n" --lines 20 >"$B/loop.tsv" 2>"$B/callgrind.log" \
      || { cat "$B/callgrind.log" >&2; exit 1; }
    awk -v loop="$loop" '/^(summary|totals):/ {printf "%.0f\n", $2 / loop; exit}' "$out"
  }
  {
    echo "Machine instructions per run, counted by callgrind inside the named function only (\`make bench-instructions\`; runs cycle over the 32 carts of 20 lines; Lua engines after as many uncounted runs, so LuaJIT's traces are compiled). Stable from run to run, unlike the times."
    echo ""
    echo "| rules x lines | engine | instructions per run | / Perk |"
    echo "|---|---|---:|---:|"
    for n in 100 10000; do
      loop=$LOOP; [ "$n" = 10000 ] && loop=$LOOP_LARGE
      pe=$(count bench_lua54 evaluate $n "$loop"); vm=$(awk -F'\t' '$1 == "perk_loop" {print $5}' "$B/loop.tsv")
      pc=$(count bench_lua54 checkout $n "$loop")
      echo "| $n x 20 | Perk: perk_evaluate ($vm VM instructions) | $pe | 1.0 |"
      echo "| $n x 20 | Perk: perk_cart_* + perk_evaluate | $pc | 1.0 |"
      engines="lua_idx lua_idx_checkout"; [ "$n" = 100 ] && engines="$engines lua"
      for bin in bench_lua54 bench_luajit; do
        for e in $engines; do
          c=$(count $bin $e $n "$loop")
          base=$pe; [ "$e" = lua_idx_checkout ] && base=$pc
          name=${bin#bench_}; name=${name/lua54/Lua 5.4}; name=${name/luajit/LuaJIT}
          case $e in lua_idx) what="$name indexed: engine.evaluate" ;; lua_idx_checkout) what="$name indexed: checkout (cart into Lua + engine.cart + evaluate)" ;; lua) what="$name scan: engine.evaluate" ;; esac
          echo "| $n x 20 | $what | $c | $(awk -v a="$c" -v b="$base" 'BEGIN {printf "%.1f", a / b}') |"
        done
      done
    done
  } | tee "$B/instructions.md"
  exit 0
fi

TSV=$B/results.tsv
if [ "$MODE" != "--format" ]; then
# both Lua engines' hand-checked cases, in both embedded runtimes, before anything is measured
for engine in bench/lua_engine.lua bench/lua_engine_indexed.lua; do
  "$B/bench_lua54" --lua-test bench/test_lua_engine.lua "$engine" >&2
  "$B/bench_luajit" --lua-test bench/test_lua_engine.lua "$engine" >&2
done

# the threads test needs 20-line carts of its rulesets
uniq_list() { tr ',' '\n' <<<"$1" | awk 'NF && !seen[$0]++' | paste -sd, -; }
"$B/perk_gen" --out "$DATA" --seed "$SEED" --rules "$(uniq_list "$RULES,$THREAD_RULES")" \
  --lines "$(uniq_list "$LINES,$THREAD_LINES")"
run_date=$(date -u '+%Y-%m-%d %H:%M')
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
# each binary times Perk and its runtime's two Lua engines in one process, interleaved
"$B/bench_lua54" --data "$DATA" --rules "$RULES" --lines "$LINES" --seconds "$SECS" --time perk,lua,json >"$TSV.lua54"
"$B/bench_luajit" --data "$DATA" --rules "$RULES" --lines "$LINES" --seconds "$SECS" --time perk,lua >"$TSV.luajit"
# evaluation throughput with 1 and 2 threads (a context each, one program)
: >"$TSV.threads"
if [ "$THREADS" -ge 2 ]; then
  for n in ${THREAD_RULES//,/ }; do
    "$B/bench_lua54" --threads "$THREADS" --data "$DATA" --rules "$n" --lines "$THREAD_LINES" \
      --seconds "$THREAD_SECS" >>"$TSV.threads"
  done
fi
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
{ cat "$TSV.lua54" "$TSV.luajit" "$TSV.threads"; printf 'load\t%s\t%s\t%s\n' "$load_start" "$load_end" "$run_date"; } >"$TSV"
rm -f "$TSV.lua54" "$TSV.luajit" "$TSV.threads"
fi

cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null || true)
cc_version=$(${CC:-cc} --version 2>/dev/null | head -n 1)
lua_version=$(dpkg-query -W -f='${Version}' liblua5.4-dev 2>/dev/null || echo "?")
jit_version=$(dpkg-query -W -f='${Version}' libluajit-5.1-dev 2>/dev/null || echo "?")

awk -F'\t' -v cpu="${cpu:-unknown}" -v cc="$cc_version" -v luav="$lua_version" -v jitv="$jit_version" \
    -v secs="$SECS" -v seed="$SEED" -v cores="$(nproc)" '
function us(ns) { return ns == "" ? "-" : sprintf(ns >= 1e6 ? "%.0f" : ns >= 1e5 ? "%.0f" : ns >= 1e4 ? "%.1f" : "%.2f", ns / 1000) }
function ratio(a, b) { return (a == "" || b == "" || b == 0) ? "-" : sprintf("%.1f", a / b) }
function bytes(b) { return b >= 1048576 ? sprintf("%.1f MB", b / 1048576) : b >= 10240 ? sprintf("%.0f kB", b / 1024) : sprintf("%d B", b) }
$1 == "timer" { timer = $2 }
$1 == "load" { load_start = $2; load_end = $3; date = $4 }
$1 == "luacall" { luacall[$2] = $3 }
$1 == "compile" { comp[$2] = $3; pbc[$2] = $4; nrules[$2] = $5; if (!($2 in seenN)) { seenN[$2] = 1; Ns[++nN] = $2 } }
$1 == "memory" { mem[$2] = $3 }
$1 == "context" { ctx[$2] = $3; ctxs[$2] = $4; ctxl[$2] = $5 }
$1 == "luaload" { lload[$2, $3] = $4; lmem[$2, $3] = $5 }
$1 == "threads" {
  key = $2 SUBSEP $3 SUBSEP $11
  if (!(key in seenT)) { seenT[key] = 1; Tcells[++nT] = key }
  # per round: wall rate, control, per-CPU-second rate; ratios are taken within a round
  tw[key, $4, $5] = $6; tc[key, $4, $5] = $7; tp[key, $4, $5] = $8; tcp[key, $4, $5] = $9; tl[key, $4] = $10
  if ($4 + 1 > trounds[key]) trounds[key] = $4 + 1
  if ($5 > tmax[key]) tmax[key] = $5
}
$1 == "jsonsize" { jin[$2, $3] = $4; jout[$2, $3] = $5; japplied[$2, $3] = $6 }
$1 == "check" { checked[$2, $3, $4] = $5 }
$1 == "nojson" { nojson = 1 }
$1 == "mix" && !(($2, $3) in mix) { mix[$2, $3] = sprintf("| %s | %s | %s | %s | %s | %s | %s | %s | %s of %.0f | %s |", $2, $3, $4, $5, $6, $7, $8, $9, $10, $4 + $5 + $6 + $7 + $8 + $9, $11) }
$1 == "time" {
  med[$2, $3, $4] = $5; p99[$2, $3, $4] = $6; mean[$2, $3, $4] = $7; cput[$2, $3, $4] = $9
  if (!($3 in seenM)) { seenM[$3] = 1; Ms[++nM] = $3 }
}
END {
  print "# Perk benchmark results"
  print ""
  printf "%s UTC, %s (%d cores), %s, Lua 5.4 %s, LuaJIT %s. Seed %s, %s s per engine and cell. Load average (1, 5, 15 min) %s at the start, %s at the end: the machine is shared, so times move between runs; `make bench-instructions` gives the stable figures.\n", date, cpu, cores, cc, luav, jitv, seed, secs, load_start, load_end
  printf "Every cart was checked before timing: Perk, and both Lua engines in Lua 5.4 and in LuaJIT (the indexed one also through its checkout path), give the same discount, shipping, points, gifts and final line amounts.\n"
  printf "Times are per evaluation in microseconds (median / p99 over single-evaluation samples; reading the clock costs %d ns, calling into Lua %s ns (5.4) / %s ns (LuaJIT), both included). Each Lua runtime runs in the same process as Perk (bench_lua54, bench_luajit), timed in interleaved blocks (Perk, Lua, Perk, Lua, ...: 10 rounds), so both meet the same machine load; the Perk figures beside each runtime come from that runtime'"'"'s process.\n", timer, luacall["lua54"], luacall["luajit"]
  print ""
  print "## Evaluation time"
  print ""
  print "Perk eval = perk_evaluate on a loaded cart, explaining every promotion; applied only = the same from a context explaining only the promotions that applied (`PERK_EXPLAIN_APPLIED`, checked on every cart against the full result). Lua idx = bench/lua_engine_indexed.lua, the rule-indexed Lua engine (promotions and earn rules listed by key, per-day lists, no allocation per evaluation): engine.evaluate on a prebuilt Lua cart; it explains nothing, so the closest Perk column is applied only. Ratios = Lua time / Perk time (medians), Perk from the same process. Rules \"1000+9000\" = the 1,000-rule set plus 9,000 promotions scheduled outside every cart date (see the last section)."
  print ""
  print "| rules | lines | Perk eval | applied only | Lua 5.4 idx | / Perk eval | / applied only | Perk eval (LuaJIT process) | applied only (LuaJIT process) | LuaJIT idx | / Perk eval | / applied only |"
  print "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  for (i = 1; i <= nN; i++) for (j = 1; j <= nM; j++) {
    n = Ns[i]; m = Ms[j]
    if (!((n, m, "perk_eval") in med)) continue
    pe = med[n, m, "perk_eval"]; pa = med[n, m, "perk_eval_applied"]; l5 = med[n, m, "lua54_idx"]
    je = med[n, m, "perk_eval@luajit"]; ja = med[n, m, "perk_eval_applied@luajit"]; lj = med[n, m, "luajit_idx"]
    printf "| %s | %s | %s / %s | %s / %s | %s / %s | %s | %s | %s / %s | %s / %s | %s / %s | %s | %s |\n", n, m,
      us(pe), us(p99[n, m, "perk_eval"]), us(pa), us(p99[n, m, "perk_eval_applied"]), us(l5), us(p99[n, m, "lua54_idx"]),
      ratio(l5, pe), ratio(l5, pa),
      us(je), us(p99[n, m, "perk_eval@luajit"]), us(ja), us(p99[n, m, "perk_eval_applied@luajit"]), us(lj), us(p99[n, m, "luajit_idx"]),
      ratio(lj, je), ratio(lj, ja)
  }
  print ""
  print "## CPU time per evaluation"
  print ""
  print "The thread'"'"'s CPU time over the timing blocks divided by the evaluations in them (reading the clock twice and storing the sample included, so small values are a little high): what the work cost, which other processes do not inflate the way they inflate wall-clock medians (they still pollute the caches). A mean, so rare slow evaluations (LuaJIT recording or aborting a trace, a garbage collection) count in full. One row per process; ratios = Lua / Perk in that row."
  print ""
  print "| rules | lines | process | Perk (load + eval) | Perk eval | applied only | Lua idx | Lua idx checkout | Lua scan | idx / applied only | idx checkout / Perk |"
  print "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  for (i = 1; i <= nN; i++) for (j = 1; j <= nM; j++) {
    n = Ns[i]; m = Ms[j]
    for (q = 1; q <= 2; q++) {
      tag = q == 1 ? "" : "@luajit"; rt = q == 1 ? "lua54" : "luajit"
      if (!((n, m, "perk" tag) in cput) || cput[n, m, "perk" tag] == "") continue
      printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", n, m, q == 1 ? "Lua 5.4" : "LuaJIT",
        us(cput[n, m, "perk" tag]), us(cput[n, m, "perk_eval" tag]), us(cput[n, m, "perk_eval_applied" tag]),
        us(cput[n, m, rt "_idx"]), us(cput[n, m, rt "_idx_checkout"]), us(cput[n, m, rt]),
        ratio(cput[n, m, rt "_idx"], cput[n, m, "perk_eval_applied" tag]), ratio(cput[n, m, rt "_idx_checkout"], cput[n, m, "perk" tag])
    }
  }
  print ""
  print "## Checkout: cart loading and evaluation"
  print ""
  print "Perk = perk_cart_* (reset, customer, order, lines, coupons) + perk_evaluate, from the C structs a checkout holds. Lua idx checkout = the same cart written from C into one Lua cart table refilled in place (lua_pushstring interns each string, as Perk interns its), then one lua_pcall of engine.cart (the per-cart indexing) + engine.evaluate. evals/s = 1 / mean, one core."
  print ""
  print "| rules | lines | Perk | Lua 5.4 idx checkout | / Perk | Perk (LuaJIT process) | LuaJIT idx checkout | / Perk | Perk evals/s (1 core) |"
  print "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  for (i = 1; i <= nN; i++) for (j = 1; j <= nM; j++) {
    n = Ns[i]; m = Ms[j]
    if (!((n, m, "perk") in med)) continue
    pk = med[n, m, "perk"]; l5 = med[n, m, "lua54_idx_checkout"]; jk = med[n, m, "perk@luajit"]; lj = med[n, m, "luajit_idx_checkout"]
    rate = (mean[n, m, "perk"] > 0) ? sprintf("%.0f", 1e9 / mean[n, m, "perk"]) : "-"
    printf "| %s | %s | %s / %s | %s / %s | %s | %s / %s | %s / %s | %s | %s |\n", n, m,
      us(pk), us(p99[n, m, "perk"]), us(l5), us(p99[n, m, "lua54_idx_checkout"]), ratio(l5, pk),
      us(jk), us(p99[n, m, "perk@luajit"]), us(lj), us(p99[n, m, "luajit_idx_checkout"]), ratio(lj, jk), rate
  }
  print ""
  print "## The scan engine (the previous baseline)"
  print ""
  print "bench/lua_engine.lua tests every promotion'"'"'s gates on every cart (no index); kept as the earlier baseline, timed in the same blocks. Ratios to Perk eval from the same process."
  print ""
  print "| rules | lines | Lua 5.4 scan | / Perk eval | scan / idx | LuaJIT scan | / Perk eval | scan / idx |"
  print "|---:|---:|---:|---:|---:|---:|---:|---:|"
  for (i = 1; i <= nN; i++) for (j = 1; j <= nM; j++) {
    n = Ns[i]; m = Ms[j]
    if (!((n, m, "lua54") in med) && !((n, m, "luajit") in med)) continue
    printf "| %s | %s | %s / %s | %s | %s | %s / %s | %s | %s |\n", n, m,
      us(med[n, m, "lua54"]), us(p99[n, m, "lua54"]), ratio(med[n, m, "lua54"], med[n, m, "perk_eval"]), ratio(med[n, m, "lua54"], med[n, m, "lua54_idx"]),
      us(med[n, m, "luajit"]), us(p99[n, m, "luajit"]), ratio(med[n, m, "luajit"], med[n, m, "perk_eval@luajit"]), ratio(med[n, m, "luajit"], med[n, m, "luajit_idx"])
  }
  if (nT > 0) {
    print ""
    print "## Scaling with threads"
    print ""
    print "Perk (perk_cart_* + perk_evaluate) with 1 and 2 threads, each with its own context on the one program, cycling over the same read-only carts; per round, both thread counts, then the same threads running a control (arithmetic in registers: nothing shared, no memory). Wall = evaluations per second of wall time (what the machine gave); per CPU-s = each thread'"'"'s evaluations per second of its own CPU time, summed (what the threads would do on cores of their own: it falls if they slow each other down through shared cache lines or memory, not when other processes take turns). x = 2 threads / 1 thread in the same round. When the control'"'"'s wall x is also far below 2, the machine had no second core to give. Contexts made by the main thread, one after the other, share one malloc arena (two contexts can share cache lines where their blocks meet); made by each thread, each context'"'"'s blocks come from that thread'"'"'s arena."
    print ""
    print "| rules | lines | contexts made by | round | load | 1 thread wall | 2 threads wall | x | control x | 1 thread per CPU-s | 2 threads per CPU-s | x | control x |"
    print "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    for (c = 1; c <= nT; c++) {
      key = Tcells[c]; split(key, nm, SUBSEP); t2 = tmax[key]
      for (r = 0; r < trounds[key]; r++)
        printf "| %s | %s | %s | %d | %s | %.0f | %.0f | %.2f | %.2f | %.0f | %.0f | %.2f | %.2f |\n", nm[1], nm[2], nm[3] == "main" ? "main thread" : "each thread", r + 1, tl[key, r],
          tw[key, r, 1], tw[key, r, t2], tw[key, r, t2] / tw[key, r, 1], tc[key, r, t2] / tc[key, r, 1],
          tp[key, r, 1], tp[key, r, t2], tp[key, r, t2] / tp[key, r, 1], tcp[key, r, t2] / tcp[key, r, 1]
    }
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
  print "Compile = compiler_compile_text (parse, check, analyse, generate, write, verify). Loaded = bytes libperk holds for the program after perk_program_load (counting allocator). Context = bytes a context holds with the default limits (10,000 lines): new (perk_context_new), then once it has evaluated every cart of 20 lines, and every cart of 200 lines (a context grows with the carts it is fed, not with max_lines). Lua idx = the data file run and the indexed engine'"'"'s engine.load(), bytes held by the Lua heap (its per-day lists are built on a day'"'"'s first cart, after this)."
  print ""
  print "| rules | compile | per 1,000 rules | bytecode | loaded | per rule | context new / 20 / 200 lines | Lua 5.4 idx load / per rule | LuaJIT idx load / per rule |"
  print "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  for (i = 1; i <= nN; i++) {
    n = Ns[i]; r = nrules[n]
    printf "| %s | %.2f ms | %.2f ms | %s | %s | %.0f B | %s / %s / %s | %.2f ms / %.0f B | %.2f ms / %.0f B |\n", n,
      comp[n] * 1e3, comp[n] * 1e3 * 1000 / r, bytes(pbc[n]), bytes(mem[n]), mem[n] / r, bytes(ctx[n]), bytes(ctxs[n]), bytes(ctxl[n]),
      lload[n, "lua54_idx"] * 1e3, lmem[n, "lua54_idx"] / r, lload[n, "luajit_idx"] * 1e3, lmem[n, "luajit_idx"] / r
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
    print "| rules | lines | Perk eval | x | applied only | x | Lua 5.4 idx | x | LuaJIT idx | x | Lua 5.4 scan | x | LuaJIT scan | x |"
    print "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
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
          printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", r, m,
            us(med[r, m, "perk_eval"]), ratio(med[r, m, "perk_eval"], med[base, m, "perk_eval"]),
            us(med[r, m, "perk_eval_applied"]), ratio(med[r, m, "perk_eval_applied"], med[base, m, "perk_eval_applied"]),
            us(med[r, m, "lua54_idx"]), ratio(med[r, m, "lua54_idx"], med[base, m, "lua54_idx"]),
            us(med[r, m, "luajit_idx"]), ratio(med[r, m, "luajit_idx"], med[base, m, "luajit_idx"]),
            us(med[r, m, "lua54"]), ratio(med[r, m, "lua54"], med[base, m, "lua54"]),
            us(med[r, m, "luajit"]), ratio(med[r, m, "luajit"], med[base, m, "luajit"])
        }
      }
    }
  }
}' "$TSV" | tee "$B/results.md"
