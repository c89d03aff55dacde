#!/usr/bin/env bash
# scripts/test-install.sh BUILD - `make install` into a temporary DESTDIR, then use it as an
# embedder and an operator would, from the staged tree only:
#   - the installed files are exactly the expected ones (perk.h and perk_json.h in includedir);
#   - libperk.so.X.Y.Z has SONAME libperk.so.X, exports only perk_* symbols, needs only libc;
#   - examples/checkout.c builds with `pkg-config --cflags --libs perk` alone (shared, and
#     static with -Wl,-Bstatic), loads the staged libperk.so.X and prices the cart to the cent;
#     examples/json_checkout.c does the same with a JSON cart read by libperk (perk_json.h);
#   - the man pages render without warnings and list every option of `perk CMD --help`; the bash
#     completion completes commands and options; the systemd units name the installed perk;
#   - `make uninstall` removes every installed file.
# Prints "N passed, N failed"; exit 1 if any failed.
set -u
B=$1
cd "$(dirname "$0")/.."
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
stage=$tmp/stage
passed=0; failed=0
ok()   { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }
check() { local what=$1; shift; if "$@"; then ok; else fail "$what"; fi; }

ver=$(sed -n 's/^#define PERK_VERSION_STRING "\(.*\)"/\1/p' runtime/include/perk.h)
major=${ver%%.*}
prefix=/opt/perk-test
libdir=$prefix/lib64

make --no-print-directory -s install B="$B" DESTDIR="$stage" PREFIX="$prefix" libdir="$libdir" >"$tmp/install.log" 2>&1
rc=$?
check "make install exits 0 (exit $rc: $(tail -3 "$tmp/install.log"))" test $rc -eq 0

# exactly these files, no other
commands=$("$B/perk" help | awk '/^Commands:/ { f = 1; next } f && /^  [a-z]/ { print $1 }')
{
  echo "bin/perk"
  echo "include/perk.h"
  echo "include/perk_json.h"
  echo "lib/systemd/system/perk-expire.service"
  echo "lib/systemd/system/perk-expire.timer"
  echo "lib/systemd/system/perk-serve.service"
  echo "lib64/libperk.a"
  echo "lib64/libperk.so"
  echo "lib64/libperk.so.$major"
  echo "lib64/libperk.so.$ver"
  echo "lib64/pkgconfig/perk.pc"
  echo "share/bash-completion/completions/perk"
  echo "share/man/man1/perk.1"
  for c in $commands; do echo "share/man/man1/perk-$c.1"; done
} | sort >"$tmp/expected"
(cd "$stage$prefix" && find . \( -type f -o -type l \) | sed 's|^\./||' | sort) >"$tmp/installed"
check "installed files are the expected ones: $(diff "$tmp/expected" "$tmp/installed" | grep '^[<>]' | tr '\n' ' ')" \
  cmp -s "$tmp/expected" "$tmp/installed"
check "libperk.so -> libperk.so.$ver" test "$(readlink "$stage$libdir/libperk.so")" = "libperk.so.$ver"
check "libperk.so.$major -> libperk.so.$ver" test "$(readlink "$stage$libdir/libperk.so.$major")" = "libperk.so.$ver"

# the ABI: SONAME, exports, dependencies
lib=$stage$libdir/libperk.so.$ver
soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
check "SONAME is libperk.so.$major (got $soname)" test "$soname" = "libperk.so.$major"
# (the version node PERK_0 of runtime/libperk.map is an absolute symbol: type A)
nm -D --defined-only "$lib" | awk '$2 != "A" { print $3 }' | sed 's/@.*//' >"$tmp/exports"
check "libperk.so exports perk_* symbols" grep -q '^perk_evaluate$' "$tmp/exports"
check "libperk.so exports only perk_* symbols: $(grep -v '^perk_' "$tmp/exports" | head -5 | tr '\n' ' ')" \
  test -z "$(grep -v '^perk_' "$tmp/exports")"
check "libperk.so exports perk_version" grep -q '^perk_version$' "$tmp/exports"
check "the version node is PERK_$major" sh -c "nm -D --defined-only '$lib' | grep -q ' A PERK_$major\$'"
needed=$(readelf -d "$lib" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
check "libperk.so needs only libc (needs: $needed)" test "$needed" = "libc.so.6 "
check "perk.h and perk_json.h alone in includedir" test "$(ls "$stage$prefix/include" | tr '\n' ' ')" = "perk.h perk_json.h "

# pkg-config, from the staged tree only
export PKG_CONFIG_PATH=$stage$libdir/pkgconfig PKG_CONFIG_SYSROOT_DIR=$stage PKG_CONFIG_LIBDIR=$stage$libdir/pkgconfig
check "pkg-config --modversion perk is $ver" test "$(pkg-config --modversion perk)" = "$ver"
flags=$(pkg-config --cflags --libs perk | sed 's/ *$//')
check "pkg-config flags point into the stage ($flags)" test "$flags" = "-I$stage$prefix/include -L$stage$libdir -lperk"
cc=${CC:-cc}
# shellcheck disable=SC2086 # flags are words
$cc -std=c11 -Wall -Wextra -Werror -o "$tmp/checkout" examples/checkout.c $(pkg-config --cflags --libs perk) 2>"$tmp/cc.err"
rc=$?
check "examples/checkout.c builds with pkg-config only (exit $rc: $(head -3 "$tmp/cc.err"))" test $rc -eq 0
"$stage$prefix/bin/perk" compile rules/tea_shop.perk -o "$tmp/tea_shop.pbc" 2>"$tmp/compile.err"
check "the installed perk compiles rules/tea_shop.perk" test -s "$tmp/tea_shop.pbc"
resolved=$(LD_LIBRARY_PATH=$stage$libdir ldd "$tmp/checkout" | awk '$1 == "libperk.so.'"$major"'" { print $3 }')
check "the example loads the staged libperk.so.$major (got '$resolved')" test "$resolved" = "$stage$libdir/libperk.so.$major"
LD_LIBRARY_PATH=$stage$libdir "$tmp/checkout" "$tmp/tea_shop.pbc" >"$tmp/out" 2>&1
rc=$?
check "the example runs against the staged library and its totals hold (exit $rc: $(tail -2 "$tmp/out"))" test $rc -eq 0
check "the example prints the payable ¥326.34" grep -q 'payable.*¥326.34' "$tmp/out"
# shellcheck disable=SC2086
$cc -std=c11 -o "$tmp/checkout-static" examples/checkout.c $(pkg-config --cflags perk) \
  -Wl,-Bstatic $(pkg-config --static --libs perk) -Wl,-Bdynamic 2>"$tmp/cc.err"
rc=$?
check "the example links libperk.a statically (exit $rc: $(head -3 "$tmp/cc.err"))" test $rc -eq 0
check "the static example needs no libperk.so" sh -c "! ldd '$tmp/checkout-static' | grep -q libperk"
"$tmp/checkout-static" "$tmp/tea_shop.pbc" >/dev/null 2>&1
check "the static example runs" test $? -eq 0
# the JSON cart path of libperk (perk_json.h), no JSON library linked
# shellcheck disable=SC2086
$cc -std=c11 -Wall -Wextra -Werror -o "$tmp/json_checkout" examples/json_checkout.c $(pkg-config --cflags --libs perk) \
  2>"$tmp/cc.err"
rc=$?
check "examples/json_checkout.c builds with pkg-config only (exit $rc: $(head -3 "$tmp/cc.err"))" test $rc -eq 0
LD_LIBRARY_PATH=$stage$libdir "$tmp/json_checkout" "$tmp/tea_shop.pbc" >"$tmp/out" 2>&1
rc=$?
check "the JSON example prices the JSON cart and refuses the bad one (exit $rc: $(tail -2 "$tmp/out"))" test $rc -eq 0
check "the JSON example prints payable 32634" grep -q 'payable 32634' "$tmp/out"

# man pages: each renders without warnings and lists each option of the command's --help
man1=$stage$prefix/share/man/man1
for page in "$man1"/*.1; do
  out=$(groff -man -Tutf8 -ww -z "$page" 2>&1)
  check "$(basename "$page") renders without warnings ($out)" test -z "$out"
done
for c in $commands; do
  groff -man -Tutf8 -P -cbou "$man1/perk-$c.1" 2>/dev/null >"$tmp/man.txt"
  for o in $("$B/perk" help "$c" | awk '/^Options:$/ { f = 1; next } f' | grep -oE -- '--[a-z][a-z-]*'); do
    check "perk-$c.1 lists $o" grep -qe "$o" "$tmp/man.txt"
  done
done
groff -man -Tutf8 -P -cbou "$man1/perk.1" 2>/dev/null >"$tmp/man.txt"
for c in $commands; do check "perk.1 lists perk-$c(1)" grep -q "perk-$c(1)" "$tmp/man.txt"; done

# bash completion
comp=$stage$prefix/share/bash-completion/completions/perk
got=$(bash -c 'source "$1"; COMP_WORDS=(perk chec); COMP_CWORD=1; _perk; echo "${COMPREPLY[*]}"' _ "$comp")
check "completion: perk chec<TAB> -> check (got '$got')" test "$got" = "check"
got=$(bash -c 'source "$1"; COMP_WORDS=(perk commit --dr); COMP_CWORD=2; _perk; echo "${COMPREPLY[*]}"' _ "$comp")
check "completion: perk commit --dr<TAB> -> --dry-run (got '$got')" test "$got" = "--dry-run"

# systemd units name the installed perk
for u in perk-serve.service perk-expire.service; do
  check "$u runs $prefix/bin/perk" grep -q "^ExecStart=$prefix/bin/perk " "$stage$prefix/lib/systemd/system/$u"
done
check "perk-expire.timer starts perk-expire.service" grep -q '^OnCalendar=' "$stage$prefix/lib/systemd/system/perk-expire.timer"

make --no-print-directory -s uninstall B="$B" DESTDIR="$stage" PREFIX="$prefix" libdir="$libdir" >"$tmp/uninstall.log" 2>&1
rc=$?
check "make uninstall exits 0 (exit $rc)" test $rc -eq 0
left=$(find "$stage" \( -type f -o -type l \) | sed "s|^$stage||")
check "make uninstall removes every installed file (left: $left)" test -z "$left"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
