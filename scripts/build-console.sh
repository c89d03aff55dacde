#!/usr/bin/env bash
# scripts/build-console.sh OUT_DIR - builds the operators' console (console/, docs/console.md) into
# OUT_DIR: console/src/main.js and what it imports (CodeMirror) bundled and minified by esbuild
# into app.js, with index.html and app.css beside it. The npm packages come from
# console/package-lock.json, installed by scripts/deps.sh (npm ci). Run by make.
set -eu
cd "$(dirname "$0")/.."
out=$1
step="building the console (scripts/build-console.sh)"
if ! command -v node >/dev/null 2>&1; then
  echo "error: $step needs Node.js and npm, which are not installed: run scripts/deps.sh" >&2
  exit 1
fi
esbuild=console/node_modules/.bin/esbuild
if [ ! -x "$esbuild" ] || [ console/package-lock.json -nt console/node_modules/.package-lock.json ]; then
  echo "error: $step needs the npm packages of console/package-lock.json: run scripts/deps.sh (it runs npm ci in console/)" >&2
  exit 1
fi
mkdir -p "$out"
"$esbuild" console/src/main.js --bundle --minify --format=iife --target=es2020 --legal-comments=none \
  --log-level=warning --outfile="$out/app.js"
cp console/index.html "$out/index.html"
cp console/style.css "$out/app.css"
