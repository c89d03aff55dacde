#!/usr/bin/env bash
# scripts/run-example.sh BUILD EXAMPLE - compiles the sample ruleset and runs an embedding example
# against it (the example links libperk only, so it takes a compiled .pbc).
# PERK_WRAP, when set, is a command prefix for both programs (tests/run.sh sets it to valgrind).
set -eu
B=$1; ex=$2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
# shellcheck disable=SC2086 # PERK_WRAP is a command and its options
${PERK_WRAP:-} "$B/perk" compile rules/tea_shop.perk -o "$tmp/tea_shop.pbc"
# shellcheck disable=SC2086
${PERK_WRAP:-} "$ex" "$tmp/tea_shop.pbc"
