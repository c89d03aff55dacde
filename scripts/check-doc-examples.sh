#!/usr/bin/env bash
# scripts/check-doc-examples.sh PERK DOC.md... - compiles every ```perk block of the docs as a
# complete rule file, so the documentation cannot go stale. Prints "N passed, N failed".
# PERK_WRAP, when set, is a command prefix for perk (tests/run.sh sets it to valgrind).
set -u
perk=$(cd "$(dirname "$1")" && pwd)/$(basename "$1"); shift
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
passed=0; failed=0
for doc in "$@"; do
  # split the blocks into numbered files, remembering the line each starts on
  awk -v dir="$tmp" -v base="$(basename "$doc" .md)" '
    /^```perk[[:space:]]*$/ { n++; f = sprintf("%s/%s-%03d.perk", dir, base, n); start = NR; inblk = 1;
                              printf "%s:%d\n", FILENAME, NR + 1 > (f ".where"); next }
    /^```/ && inblk { inblk = 0; close(f); next }
    inblk { print > f }' "$doc"
done
for f in "$tmp"/*.perk; do
  [ -e "$f" ] || continue
  where=$(cat "$f.where")
  # shellcheck disable=SC2086 # PERK_WRAP is a command and its options
  if (cd "$tmp" && ${PERK_WRAP:-} "$perk" check "$(basename "$f")") >"$f.log" 2>&1; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1)); echo "docs example at $where does not compile:"; sed 's/^/    /' "$f.log" | head -20
  fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
