#!/usr/bin/env bash
# Installs the Debian packages Perk builds with, when any is missing.
# As root it runs apt-get itself; otherwise it prints the exact command to run.
# Usage: scripts/deps.sh [--bench | --fuzz | --valgrind | --deb]
#   --bench adds Lua 5.4 and LuaJIT for `make bench` (and wrk for `make bench-serve`); --fuzz adds clang and its runtime libraries
#   (libFuzzer, sanitizers) for `make fuzz`; --valgrind adds valgrind for `make test-valgrind`;
#   --deb adds the Debian packaging tools for `make deb` / `make test-deb`.
set -eu
pkgs="build-essential clang flex bison pkg-config libsqlite3-dev sqlite3 libcmocka-dev libjansson-dev tzdata jq libmicrohttpd-dev libcurl4-openssl-dev curl python3 python3-yaml groff-base"
if [ "${1:-}" = "--bench" ]; then pkgs="$pkgs liblua5.4-dev libluajit-5.1-dev valgrind wrk"; fi
if [ "${1:-}" = "--fuzz" ]; then pkgs="$pkgs clang libclang-rt-dev"; fi
if [ "${1:-}" = "--valgrind" ]; then pkgs="$pkgs valgrind"; fi
if [ "${1:-}" = "--deb" ]; then pkgs="$pkgs debhelper dpkg-dev fakeroot lintian"; fi
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
cmd="apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" = 0 ]; then
  echo "deps: installing$missing" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null || true
  $cmd >/dev/null
else
  echo "deps: missing Debian packages:$missing" >&2
  echo "deps: run:  sudo apt-get update && sudo $cmd" >&2
  exit 1
fi
