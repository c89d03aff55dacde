#!/usr/bin/env bash
# scripts/run-example.sh BUILD EXAMPLE - compiles the sample ruleset and runs an embedding example
# against it (the example links libperk only, so it takes a compiled .pbc).
set -eu
B=$1; ex=$2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$B/perk" compile rules/tea_shop.perk -o "$tmp/tea_shop.pbc"
"$ex" "$tmp/tea_shop.pbc"
