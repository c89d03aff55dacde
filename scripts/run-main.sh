#!/usr/bin/env bash
# scripts/run-main.sh BUILD - the main job on the embedded defaults: check every ruleset in rules/,
# compile the tea shop ruleset, and evaluate the sample cart with an explanation.
set -eu
B=${1:-build}
# the sample campaigns run in spring 2026: check them as of then (see docs/cli.md, PERK_TODAY)
export PERK_TODAY=${PERK_TODAY:-2026-03-01}
echo "== perk check rules/*.perk"
"$B/perk" check rules/*.perk && echo "all rulesets are clean"
echo
echo "== perk compile rules/tea_shop.perk -o $B/tea_shop.pbc"
"$B/perk" compile rules/tea_shop.perk -o "$B/tea_shop.pbc"
echo
echo "== perk eval $B/tea_shop.pbc --cart examples/carts/sample.json --explain"
"$B/perk" eval "$B/tea_shop.pbc" --cart examples/carts/sample.json --explain
