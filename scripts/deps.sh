#!/usr/bin/env bash
# Installs the Debian packages Perk builds with, when any is missing.
# As root it runs apt-get itself; otherwise it prints the exact command to run.
# Usage: scripts/deps.sh [--bench | --fuzz | --valgrind | --deb]
#   --bench adds Lua 5.4 and LuaJIT for `make bench` (and wrk for `make bench-serve`); --fuzz adds clang and its runtime libraries
#   (libFuzzer, sanitizers) for `make fuzz`; --valgrind adds valgrind for `make test-valgrind`;
#   --deb adds the Debian packaging tools for `make deb` / `make test-deb`.
set -eu
pkgs="build-essential clang flex bison pkg-config libsqlite3-dev sqlite3 libcmocka-dev libjansson-dev tzdata jq libmicrohttpd-dev libcurl4-openssl-dev curl python3 python3-yaml groff-base"
# the PostgreSQL store: libpq to build with, the server (initdb, pg_ctl) for the tests' throwaway clusters
pkgs="$pkgs postgresql libpq-dev"
# the operators' console (docs/console.md): Argon2id passwords; the browser tests (chromium driven by
# Selenium, a CJK font for the Chinese screenshots); Node.js and npm build its front end
pkgs="$pkgs libargon2-dev chromium chromium-driver python3-selenium fonts-wqy-microhei"
command -v npm >/dev/null 2>&1 || pkgs="$pkgs nodejs npm"
if [ "${1:-}" = "--bench" ]; then pkgs="$pkgs liblua5.4-dev libluajit-5.1-dev valgrind wrk"; fi
if [ "${1:-}" = "--fuzz" ]; then pkgs="$pkgs clang libclang-rt-dev"; fi
if [ "${1:-}" = "--valgrind" ]; then pkgs="$pkgs valgrind"; fi
if [ "${1:-}" = "--deb" ]; then pkgs="$pkgs debhelper dpkg-dev fakeroot lintian"; fi
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# The console's npm packages, exactly as console/package-lock.json pins them.
console_npm() {
  if [ ! -e console/node_modules/.package-lock.json ] || [ console/package-lock.json -nt console/node_modules/.package-lock.json ]; then
    echo "deps: npm ci in console/ (the console's front end: CodeMirror, esbuild)" >&2
    (cd console && npm ci --no-audit --no-fund --loglevel=error) || { echo "deps: npm ci in console/ failed" >&2; exit 1; }
  fi
}
cd "$(dirname "$0")/.."
if [ -z "$missing" ]; then console_npm; exit 0; fi
cmd="apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" = 0 ]; then
  echo "deps: installing$missing" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null || true
  $cmd >/dev/null
  console_npm
else
  echo "deps: missing Debian packages:$missing" >&2
  echo "deps: run:  sudo apt-get update && sudo $cmd" >&2
  exit 1
fi
