#!/usr/bin/env bash
# tests/cli/help.sh PERK - every command's help against its parser and against docs/cli.md:
#   - `perk help CMD`, `perk CMD --help` and `perk CMD -h` exit 0 and print the same text;
#   - every option the help lists (long and short form) is accepted (`perk CMD --opt 1 --help`
#     exits 0, while an unknown option exits 2), and every --option of the synopsis is listed;
#   - docs/cli.md's section "### `perk CMD`" names exactly the options the help lists, and has a
#     section for each command `perk help` lists, and no other;
#   - the man page `perk help --man CMD` (installed by make install) lists exactly those options;
#   - "did you mean" for mistyped commands and options; `perk --version` names the formats.
# The help and the parser come from one table (src/cli/cli_options.c); this keeps the docs with
# them. PERK_WRAP, when set, is a command prefix for perk (tests/run.sh sets it to valgrind); it
# wraps the help runs, not the option-by-option parser checks.
# Prints "N passed, N failed".
set -u
perk=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
doc=docs/cli.md
passed=0; failed=0
ok()   { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }
# shellcheck disable=SC2086 # PERK_WRAP is a command and its options
run() { ${PERK_WRAP:-} "$perk" "$@"; }
# the option-by-option parser checks run unwrapped: hundreds of runs, none past the parser
run_plain() { "$perk" "$@"; }
# check WHAT CONDITION...: one pass or fail
check() { local what=$1; shift; if "$@"; then ok; else fail "$what"; fi; }

commands=$(run help | awk '/^Commands:/ { f = 1; next } f && /^  [a-z]/ { print $1 }')
[ -n "$commands" ] && ok || fail "perk help lists no command"
doc_commands=$(grep -oE '^### `perk [a-z-]+`' "$doc" | sed -E 's/^### `perk ([a-z-]+)`/\1/')
check "docs/cli.md has a section for each command and no other (docs: $(echo $doc_commands); perk: $(echo $commands))" \
  test "$(echo "$commands" | sort)" = "$(echo "$doc_commands" | sort)"

for cmd in $commands; do
  run help "$cmd" >"$tmp/help" 2>"$tmp/err"; rc=$?
  check "perk help $cmd exits 0 (exit $rc)" test $rc -eq 0
  check "perk help $cmd lists its options" grep -q '^Options:$' "$tmp/help"
  for h in --help -h; do
    run "$cmd" $h >"$tmp/h" 2>"$tmp/err"; rc=$?
    check "perk $cmd $h exits 0 (exit $rc)" test $rc -eq 0
    check "perk $cmd $h prints what perk help $cmd prints" cmp -s "$tmp/help" "$tmp/h"
  done
  run "$cmd" --no-such-option --help >/dev/null 2>&1; rc=$?
  check "perk $cmd --no-such-option exits 2 (exit $rc)" test $rc -eq 2

  # option lines: "  -o, --output FILE  text" or "      --json  text"
  awk '/^Options:$/ { f = 1; next } f' "$tmp/help" |
    sed -nE 's/^  (-([a-zA-Z]), )?    ?--([a-z][a-z-]*)( ([^ ]+))?  .*$/\3 \2 \5/p; s/^  -([a-zA-Z]), --([a-z][a-z-]*)( ([^ ]+))?  .*$/\2 \1 \4/p' |
    sed -nE 's/^([a-z-]+) ([a-zA-Z]?) ?(.*)$/\1|\2|\3/p' | sort -u >"$tmp/opts"
  lines=$(awk '/^Options:$/ { f = 1; next } f' "$tmp/help" | grep -c -- '--')
  check "perk help $cmd: every option line parsed ($(wc -l <"$tmp/opts") of $lines)" test "$(wc -l <"$tmp/opts")" -eq "$lines"

  # the docs section of the command: from its heading to the next heading
  awk -v h="### \`perk $cmd\`" '$0 == h { f = 1; next } f && /^#/ { exit } f' "$doc" >"$tmp/section"
  # (-h/--help, which every command takes, is documented once above the sections)
  doc_opts=$(grep -oE -- '--[a-z][a-z-]*' "$tmp/section" | grep -vx -- --help | sort -u)
  help_opts=$(cut -d'|' -f1 "$tmp/opts" | grep -vx help | sed 's/^/--/' | sort -u)
  check "docs/cli.md section of $cmd lists exactly the options of perk $cmd --help (docs: $(echo $doc_opts); help: $(echo $help_opts))" \
    test "$doc_opts" = "$help_opts"

  while IFS='|' read -r name short arg; do
    [ "$name" = help ] && continue
    value=(); [ -n "$arg" ] && value=(1)
    run_plain "$cmd" "--$name" "${value[@]}" --help >/dev/null 2>"$tmp/err"; rc=$?
    check "perk $cmd accepts --$name (exit $rc: $(head -1 "$tmp/err"))" test $rc -eq 0
    if [ -n "$short" ]; then
      run_plain "$cmd" "-$short" "${value[@]}" --help >/dev/null 2>"$tmp/err"; rc=$?
      check "perk $cmd accepts -$short (exit $rc: $(head -1 "$tmp/err"))" test $rc -eq 0
      check "docs/cli.md section of $cmd names -$short" grep -qF -- "\`-$short\`" "$tmp/section"
    fi
  done <"$tmp/opts"

  # every --option of the synopsis is one the command takes
  for o in $(sed -n '1,/^$/p' "$tmp/help" | grep -oE -- '--[a-z][a-z-]*' | sort -u); do
    check "perk $cmd: $o of the synopsis is among its options" grep -q "^${o#--}|" "$tmp/opts"
  done
done

# the man page of every command (perk help --man, what make install installs) names exactly the
# options of its --help
for cmd in $commands; do
  run_plain help --man "$cmd" >"$tmp/man" 2>/dev/null
  man_opts=$(sed -n 's/^\(\\fB\\-[a-zA-Z]\\fR, \)\{0,1\}\\fB\\-\\-\([a-z][a-z\\-]*\)\\fR.*/\2/p' "$tmp/man" | sed 's/\\-/-/g' | sort -u)
  help_opts=$(run_plain help "$cmd" | awk '/^Options:$/ { f = 1; next } f' | grep -oE -- '^ +(-[a-zA-Z], )?--[a-z][a-z-]*' | sed 's/.*--//' | sort -u)
  check "man page of $cmd lists exactly the options of its --help (man: $(echo $man_opts); help: $(echo $help_opts))" \
    test -n "$man_opts" -a "$man_opts" = "$help_opts"
done
run_plain help --man >"$tmp/man" 2>/dev/null
for cmd in $commands; do
  check "perk.1 names perk-$cmd(1)" grep -qF "perk\\-$cmd (1)" "$tmp/man"
done

# "did you mean" for a mistyped command and a mistyped option
run_plain chek >/dev/null 2>"$tmp/err"; rc=$?
check "perk chek exits 2 (exit $rc)" test $rc -eq 2
check "perk chek suggests check ($(head -1 "$tmp/err"))" grep -qF "perk: unknown command 'chek'; did you mean 'check'?" "$tmp/err"
run_plain bugdets >/dev/null 2>"$tmp/err"
check "perk bugdets suggests budgets" grep -qF "did you mean 'budgets'?" "$tmp/err"
run_plain zzzzzz >/dev/null 2>"$tmp/err"
check "perk zzzzzz suggests nothing" sh -c "! grep -q 'did you mean' '$tmp/err'"
run_plain check --jsno x.perk >/dev/null 2>"$tmp/err"; rc=$?
check "perk check --jsno exits 2 (exit $rc)" test $rc -eq 2
check "perk check --jsno suggests --json" grep -qF "perk: --jsno: did you mean --json?" "$tmp/err"
run_plain history --actvations >/dev/null 2>"$tmp/err"
check "perk history --actvations suggests --activations" grep -qF "did you mean --activations?" "$tmp/err"
run_plain help evl >/dev/null 2>"$tmp/err"
check "perk help evl suggests eval" grep -qF "did you mean 'eval'?" "$tmp/err"

# --no-color wins over --color (and over a terminal): no escape sequence at all
printf 'ruleset "x" { currency XXX }\n' >"$tmp/bad.perk"
run_plain check --color "$tmp/bad.perk" >/dev/null 2>"$tmp/err"
check "perk check --color colors" grep -q $'\e\\[' "$tmp/err"
run_plain check --color --no-color "$tmp/bad.perk" >/dev/null 2>"$tmp/err"; rc=$?
check "perk check --no-color still reports (exit $rc)" sh -c "test $rc -eq 1 && grep -q 'unknown currency' '$tmp/err'"
check "perk check --color --no-color does not color" sh -c "! grep -q \"\$(printf '\\033')\" '$tmp/err'"

# perk --version: the program, the library, and the formats it reads and writes
run_plain --version >"$tmp/v" 2>&1; rc=$?
check "perk --version exits 0" test $rc -eq 0
check "perk --version names perk, libperk, the bytecode format and the store schema ($(tr '\n' ' ' <"$tmp/v"))" \
  grep -qzE '^perk [0-9]+\.[0-9]+\.[0-9]+
libperk [0-9]+\.[0-9]+\.[0-9]+
bytecode format [0-9]+
store schema [0-9]+
$' "$tmp/v"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
