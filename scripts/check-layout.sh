#!/usr/bin/env bash
# scripts/check-layout.sh - checks that the folders are the architecture (docs/internals.md):
#   - runtime/ (libperk) includes nothing from src/;
#   - a folder of src/ includes another only through that folder's one header (src/X/X.h),
#     and only the folders below it, in this order:
#         cli -> service -> tools -> compiler ; service, tools -> checkout -> store, json ;  everything -> runtime
#   - an include without a folder names a header of the same folder or of runtime/, but not
#     runtime's *_internal.h headers (what a loaded program or a context is inside libperk).
# Prints each violation as file:line and exits 1 if there is any. Run by tests/run.sh.
set -u
cd "$(dirname "$0")/.."

# What each folder of src/ may include (besides itself and runtime/).
declare -A allowed=(
  [compiler]=""
  [json]=""
  [store]=""
  [checkout]="json store"
  [tools]="compiler json store checkout"
  [service]="compiler json store checkout tools"
  [cli]="compiler json store checkout tools service"
)
generated="parser.h lexer.h" # bison/flex output, for the front end only

bad=0
complain() { echo "$1: $2"; bad=1; }

for d in src/*/; do
  d=${d%/}; name=${d#src/}
  [ -n "${allowed[$name]+set}" ] || complain "$d" "a folder the layout does not know: add it to scripts/check-layout.sh and docs/internals.md"
done

while IFS=: read -r file line text; do
  header=$(sed -E 's/.*#include "([^"]+)".*/\1/' <<<"$text")
  case $file in
    runtime/*)
      if [[ $header == */* ]] || { [ ! -e "runtime/$header" ] && [ ! -e "runtime/include/$header" ]; }; then
        complain "$file:$line" "libperk must not include \"$header\" (runtime/ includes only runtime/)"
      fi
      continue ;;
  esac
  folder=$(cut -d/ -f2 <<<"$file")
  if [[ $header == */* ]]; then
    target=${header%%/*}
    if [ "$header" != "$target/$target.h" ]; then
      complain "$file:$line" "\"$header\" is internal to src/$target/: include \"$target/$target.h\""
    elif [[ " ${allowed[$folder]} " != *" $target "* ]]; then
      complain "$file:$line" "src/$folder/ may not include src/$target/ (dependencies point down: see docs/internals.md)"
    fi
  elif [ -e "src/$folder/$header" ]; then
    :
  elif [[ $header == *_internal.h ]] && [ -e "runtime/$header" ]; then
    complain "$file:$line" "\"$header\" is libperk's own: use what runtime/program.h or perk.h declares"
  elif [ -e "runtime/$header" ] || [ -e "runtime/include/$header" ]; then
    :
  elif [[ " $generated " == *" $header "* ]] && [ "$folder" = compiler ]; then
    :
  else
    complain "$file:$line" "\"$header\" is neither in src/$folder/ nor in runtime/"
  fi
done < <(grep -n '^#include "' runtime/*.[ch] runtime/include/*.h src/*/*.[ch] | sed -E 's/^([^:]+):([0-9]+):/\1:\2:/')

[ $bad -eq 0 ] && echo "layout: every include points down"
exit $bad
