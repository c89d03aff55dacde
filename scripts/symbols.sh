#!/usr/bin/env bash
# scripts/symbols.sh [BUILD_DIR] - prints what debian/libperk0.symbols should hold for the
# libperk.so in BUILD_DIR (default build/): every exported symbol of the PERK_0 version node.
# A symbol already in debian/libperk0.symbols keeps the version it first appeared in; a new one
# gets the version of debian/changelog's top entry. The package build checks the file strictly
# (DPKG_GENSYMBOLS_CHECK_LEVEL=4 in debian/rules): a symbol added, removed or renamed without
# updating the file fails it, so an ABI change is always a deliberate edit.
# Use: scripts/symbols.sh > debian/libperk0.symbols.new && mv debian/libperk0.symbols.new debian/libperk0.symbols
set -eu
cd "$(dirname "$0")/.."
b=${1:-build}
lib=$b/libperk.so
[ -e "$lib" ] || { echo "symbols.sh: $lib is not built (make $lib)" >&2; exit 1; }
ver=$(dpkg-parsechangelog -l debian/changelog -S Version | sed 's/-[^-]*$//')
old=debian/libperk0.symbols
echo "libperk.so.0 libperk0 #MINVER#"
nm -D --defined-only "$lib" | awk '{ print $NF }' | sed -e 's/@@/@/' -e '/@/!s/.*/&@&/' | LC_ALL=C sort -u |
while read -r sym; do
  since=$ver
  if [ -f "$old" ]; then
    prev=$(awk -v s="$sym" '$1 == s { print $2 }' "$old")
    [ -n "$prev" ] && since=$prev
  fi
  echo " $sym $since"
done
