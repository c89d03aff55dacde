#!/usr/bin/env bash
# scripts/fuzz-seeds.sh [PERK] - regenerates the seed corpora of the fuzz targets in
# tests/fuzz/corpus/<target>/ from what the repository already holds (PERK: a built perk CLI,
# default build/perk, used to compile programs). Deterministic: running it twice gives the same
# files, so the committed corpus only changes when its sources do. The regressions in
# tests/fuzz/regressions/ are never touched.
#   fuzz_compile   rules/*.perk (includes spliced in), rules/lib/*.perk, tests/diagnostics/*.perk,
#                  every ```perk block of docs/*.md
#   fuzz_bytecode  rules/*.perk and the docs blocks, compiled to .pbc
#   fuzz_cart      every `cart { ... }` of rules/*.test, examples/carts/*.json, every ```json block
#                  of docs/*.md
#   fuzz_pipeline  generator choices: 24 byte strings derived from SHA-256 of fixed texts
set -eu
cd "$(dirname "$0")/.."
perk=${1:-build/perk}
[ -x "$perk" ] || { echo "fuzz-seeds: $perk is not built (make all)" >&2; exit 1; }
C=tests/fuzz/corpus
for t in fuzz_compile fuzz_bytecode fuzz_cart fuzz_pipeline; do
  mkdir -p "$C/$t"
  find "$C/$t" -type f -delete
done

# --- rule files ----------------------------------------------------------------------------
# An in-memory rule text has no directory for its includes: splice `include "x"` in (one level).
for f in rules/*.perk; do
  awk -v dir="$(dirname "$f")" '
    /^[[:space:]]*include[[:space:]]+"[^"]*"[[:space:]]*$/ {
      match($0, /"[^"]*"/); inc = dir "/" substr($0, RSTART + 1, RLENGTH - 2)
      while ((getline line < inc) > 0) print line
      close(inc); next }
    { print }' "$f" >"$C/fuzz_compile/rules_$(basename "$f")"
done
for f in rules/lib/*.perk; do cp "$f" "$C/fuzz_compile/rules_lib_$(basename "$f")"; done
for f in tests/diagnostics/*.perk; do cp "$f" "$C/fuzz_compile/diag_$(basename "$f")"; done
for doc in docs/*.md; do
  awk -v out="$C/fuzz_compile/docs_$(basename "$doc" .md)" '
    /^```perk[[:space:]]*$/ { n++; f = sprintf("%s_%02d.perk", out, n); inblk = 1; next }
    /^```/ && inblk { inblk = 0; close(f); next }
    inblk { print > f }' "$doc"
done

# --- programs ------------------------------------------------------------------------------
for f in rules/*.perk; do
  "$perk" compile "$f" -o "$C/fuzz_bytecode/rules_$(basename "$f" .perk).pbc" 2>/dev/null
done
for f in "$C"/fuzz_compile/docs_*.perk; do
  "$perk" compile "$f" -o "$C/fuzz_bytecode/$(basename "$f" .perk).pbc" 2>/dev/null
done

# --- carts ---------------------------------------------------------------------------------
for f in rules/*.test; do
  awk -v out="$C/fuzz_cart/test_$(basename "$f" .test)" '
    /^cart \{[[:space:]]*$/ { n++; f = sprintf("%s_%02d.json", out, n); print "{" > f; inblk = 1; next }
    inblk && /^\}$/ { print "}" > f; close(f); inblk = 0; next }
    inblk { print > f }' "$f"
done
for f in examples/carts/*.json; do cp "$f" "$C/fuzz_cart/example_$(basename "$f")"; done
for doc in docs/*.md; do
  awk -v out="$C/fuzz_cart/docs_$(basename "$doc" .md)" '
    /^```json[[:space:]]*$/ { n++; f = sprintf("%s_%02d.json", out, n); inblk = 1; next }
    /^```/ && inblk { inblk = 0; close(f); next }
    inblk { print > f }' "$doc"
done

# --- generator choices ---------------------------------------------------------------------
for i in $(seq -w 0 23); do
  out="$C/fuzz_pipeline/seed_$i"
  : >"$out"
  # 32 to 192 bytes: longer strings choose more promotions and fuller carts
  for j in $(seq 0 $(( (10#$i % 6) ))); do
    printf 'perk fuzz_pipeline seed %s.%s' "$i" "$j" | sha256sum | cut -c1-64 | xxd -r -p >>"$out"
  done
done

du -sh "$C"
for t in fuzz_compile fuzz_bytecode fuzz_cart fuzz_pipeline; do
  echo "$t: $(find "$C/$t" -type f | wc -l) seeds"
done
