#!/usr/bin/env bash
# scripts/test-deb.sh [--build-only] - the Debian packages end to end:
#   1. copies the working tree (tracked and new files, not ignored ones, plus the console's npm
#      packages) to build-deb/perk-VERSION and runs `dpkg-buildpackage -us -uc -b` there, so the
#      source tree is left as it was;
#   2. lintian on the result: no error; the symbols file (debian/libperk0.symbols) shipped;
#   3. as root (the CI machine), installs perk, libperk0 and libperk-dev with dpkg -i, builds
#      examples/checkout.c with `pkg-config --cflags --libs perk` alone against them, runs it
#      (loading /usr/lib/<multiarch>/libperk.so.0), checks `perk --version`, the man page and
#      the completion, then removes the packages again.
# The .deb files stay in build-deb/. Prints "N passed, N failed"; exit 1 if any failed.
set -u
cd "$(dirname "$0")/.."
root=$(pwd)
build_only=false; [ "${1:-}" = --build-only ] && build_only=true
passed=0; failed=0
ok()   { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }
check() { local what=$1; shift; if "$@"; then ok; else fail "$what"; fi; }

ver=$(dpkg-parsechangelog -l debian/changelog -S Version)
arch=$(dpkg --print-architecture)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
out=$root/build-deb
src=$out/perk-$ver
rm -rf "$out" && mkdir -p "$src"
status_before=$(git status --porcelain 2>/dev/null)
git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
  tar --null -T - -cf - | tar -xf - -C "$src"
# The console's npm packages (console/package-lock.json) go in with the source, as a vendored
# component: a package build has no network, and the console is built into perk from them.
[ -e console/node_modules/.package-lock.json ] || scripts/deps.sh >/dev/null
cp -a console/node_modules "$src/console/node_modules"
(cd "$src" && dpkg-buildpackage -us -uc -b) >"$out/build.log" 2>&1
rc=$?
check "dpkg-buildpackage -us -uc -b exits 0 (exit $rc; see build-deb/build.log: $(tail -3 "$out/build.log" | tr '\n' ' '))" test $rc -eq 0
for p in perk libperk0 libperk-dev; do
  check "built ${p}_${ver}_$arch.deb" test -f "$out/${p}_${ver}_$arch.deb"
done
check "the source tree is as it was (git status unchanged)" test "$(git status --porcelain 2>/dev/null)" = "$status_before"

# what each package holds
for p in perk libperk0 libperk-dev; do
  dpkg-deb -c "$out/${p}_${ver}_$arch.deb" 2>/dev/null | awk '{ print $6 }' | sed 's|^\./|/|' >"$out/$p.contents"
done
check "perk has /usr/bin/perk" grep -qx /usr/bin/perk "$out/perk.contents"
check "perk has the man pages" grep -q 'man1/perk-check\.1' "$out/perk.contents"
check "perk has the expire timer" grep -q 'perk-expire\.timer$' "$out/perk.contents"
check "libperk0 has libperk.so.0 and its real file only" test "$(grep -c 'libperk\.so' "$out/libperk0.contents")" -eq 2
check "libperk-dev has perk.h, libperk.a, libperk.so, perk.pc" test \
  "$(grep -cE '/perk\.h$|/libperk\.a$|/libperk\.so$|/perk\.pc$' "$out/libperk-dev.contents")" -eq 4
dep=$(dpkg-deb -f "$out/libperk0_${ver}_$arch.deb" Depends)
check "libperk0 depends on libc alone ($dep)" sh -c "echo '$dep' | grep -qE '^libc6 \\(>= [0-9.]+\\)\$'"
# the symbols file went into the package (dpkg-gensymbols checked it at level 4 in the build)
syms=$(dpkg-deb -I "$out/libperk0_${ver}_$arch.deb" symbols 2>/dev/null)
check "libperk0 ships a symbols file listing perk_evaluate@PERK_0" sh -c "echo '$syms' | grep -q '^ perk_evaluate@PERK_0 '"
check "libperk0's symbols file lists every exported symbol ($(echo "$syms" | grep -c '@PERK_0') of them)" \
  test "$(echo "$syms" | grep -c '@PERK_0')" -eq "$(grep -c '@PERK_0' debian/libperk0.symbols)"

if command -v lintian >/dev/null; then
  lintian --fail-on error "$out"/perk_"${ver}"_"$arch".changes >"$out/lintian.log" 2>&1
  rc=$?
  check "lintian: no error (exit $rc: $(grep '^E:' "$out/lintian.log" | head -5 | tr '\n' ' '))" test $rc -eq 0
else
  fail "lintian is not installed (scripts/deps.sh --deb)"
fi

if $build_only; then :
elif [ "$(id -u)" != 0 ]; then
  echo "note: not root: the packages are not installed (the CI machine runs this as root)"
else
  debs=("$out/perk_${ver}_$arch.deb" "$out/libperk0_${ver}_$arch.deb" "$out/libperk-dev_${ver}_$arch.deb")
  dpkg -i "${debs[@]}" >"$out/dpkg.log" 2>&1
  rc=$?
  check "dpkg -i perk libperk0 libperk-dev (exit $rc: $(tail -3 "$out/dpkg.log" | tr '\n' ' '))" test $rc -eq 0
  tmp=$(mktemp -d)
  check "/usr/bin/perk --version is $ver" sh -c "/usr/bin/perk --version | head -1 | grep -qx 'perk $ver'"
  flags=$(env -u PKG_CONFIG_PATH pkg-config --cflags --libs perk 2>&1)
  check "pkg-config --libs perk is -lperk ($flags)" test "$(echo $flags)" = "-lperk"
  # shellcheck disable=SC2086 # flags are words
  ${CC:-cc} -std=c11 -Wall -Wextra -Werror -o "$tmp/checkout" examples/checkout.c $flags 2>"$tmp/cc.err"
  rc=$?
  check "examples/checkout.c builds against the installed packages (exit $rc: $(head -3 "$tmp/cc.err"))" test $rc -eq 0
  # (/lib may be a link to /usr/lib: compare the files)
  resolved=$(ldd "$tmp/checkout" | awk '$1 == "libperk.so.0" { print $3 }')
  check "the example loads /usr/lib/$multiarch/libperk.so.0 (got '$resolved')" \
    test -n "$resolved" -a "$(readlink -f "$resolved")" = "$(readlink -f "/usr/lib/$multiarch/libperk.so.0")"
  /usr/bin/perk compile rules/tea_shop.perk -o "$tmp/tea.pbc" 2>/dev/null
  "$tmp/checkout" "$tmp/tea.pbc" >"$tmp/out" 2>&1
  rc=$?
  check "the example runs and its totals hold (exit $rc: $(tail -2 "$tmp/out" | tr '\n' ' '))" test $rc -eq 0
  check "man finds perk-commit(1)" sh -c "man -w perk-commit >/dev/null 2>&1"
  check "the completion is where bash-completion looks" test -f /usr/share/bash-completion/completions/perk
  check "the units are installed" test -f /lib/systemd/system/perk-expire.timer
  rm -rf "$tmp"
  dpkg -r perk libperk-dev libperk0 >>"$out/dpkg.log" 2>&1
  rc=$?
  check "dpkg -r removes them (exit $rc)" test $rc -eq 0
  check "nothing of libperk is left in /usr/lib/$multiarch" sh -c "! ls /usr/lib/$multiarch/libperk* >/dev/null 2>&1"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
