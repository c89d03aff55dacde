#!/usr/bin/env bash
# scripts/run-main.sh BUILD - the main job on the embedded defaults: check every ruleset in rules/,
# compile the tea shop ruleset, and evaluate the sample cart with an explanation.
set -eu
B=${1:-build}
echo "== perk check rules/*.perk"
"$B/perk" check rules/*.perk && echo "all rulesets are clean"
echo
echo "== perk compile rules/tea_shop.perk -o $B/tea_shop.pbc"
"$B/perk" compile rules/tea_shop.perk -o "$B/tea_shop.pbc"
echo
echo "== perk eval $B/tea_shop.pbc --cart examples/carts/sample.json --explain"
"$B/perk" eval "$B/tea_shop.pbc" --cart examples/carts/sample.json --explain
