/* disasm.h - a readable listing of a compiled program (`perk disasm`, debugging, tests). */
#ifndef PERK_DISASM_H
#define PERK_DISASM_H

#include <stdio.h>

#include "program.h"

/* Writes a listing of `p` to `out`: the ruleset header (name, currency, time zone, rounding,
 * settings), the constant pools, every condition, then each promotion, earn rule, multiplier, the
 * redeem block and the tiers with their settings, source locations, conditions, actions and
 * instructions (one per line, operands decoded: strings quoted, fact and field names, comparison
 * names, jump targets, actions with money in the program's currency). Meant for verified
 * programs, but prints placeholders rather than crashing on bad indices. */
void perk_disasm(const prog_data *p, FILE *out);

#endif
