/* check.h - the semantic pass: names, types, constants, and the ruleset's settings.
 *
 * Input: the AST from parse.h. Output: the same AST with the checker fields of every node filled
 * (type, is_const, value, decl, fact, index; see ast.h), and a check_info summary for the code
 * generator. Reports every problem it finds through the diag engine.
 *
 * What the code generator can rely on after a check without errors:
 * - Every expression node has a type; constants have is_const and value (money in minor units of
 *   the ruleset currency, percent in ppm, dates in days since 1970-01-01, times in minutes,
 *   durations in seconds, weekdays 0 = Monday, tiers by index, bools 0/1). Decimals and
 *   multipliers are value/value2, reduced (x1.5 -> 3/2). date - date is a duration in seconds;
 *   date +/- duration only ever adds whole days.
 * - An item column inside `where` (AST_NAME `price`, or AST_CALL `attr("k")`) has
 *   type TY_ITEM_FIELD, elem_type = its value type (TY_MONEY for price), fact = PERK_FIELD_*
 *   (attr: -1). Item predicates only use: field CMP value, value CMP field, field in/not in a
 *   fixed list or a range, category in "text" (prefix) / = "text" (exact), "text" in tags,
 *   joined by and/or/not; the value side never depends on the item, texts are fixed.
 * - AST_NAME of a let copies the let's type/elem_type/is_const/value/value2, decl = the AST_LET
 *   (compile decl->a for a non-constant let); of a tier: TY_TIER, constant index, decl = AST_TIER;
 *   a multiplier's earn-rule names: decl = the AST_EARN, value = its index.
 * - Fixed texts are read with check_const_string() (an AST_STRING, or an AST_NAME whose let
 *   holds one). Lists after `in` are always constant; a constant list of
 *   weekdays has value = bit mask (bit 0 = Monday).
 * - Declarations: AST_PROMOTION value = effective priority (default 100); AST_TIER value = spend
 *   in minor units; CL_EVERY value = weekday mask; CL_PAYS_FOR value = PROG_PAYS_* mask;
 *   ACT_PERCENT_OFF / ACT_AMOUNT_OFF is corrected to match the type of the action's amount;
 *   `cap` inside an earn rule is CL_EARN_CAP.
 */
#ifndef PERK_CHECK_H
#define PERK_CHECK_H

#include <stdbool.h>
#include <stdint.h>

#include "ast.h"
#include "diag.h"

typedef struct check_info {
    const char *ruleset_name; /* "" when there is no header (an error for a main file) */
    const char *currency;     /* ISO code */
    int exponent;
    int rounding;             /* PROG_ROUND_* (runtime/program.h) */
    const char *timezone;     /* IANA name, default "UTC" */
    int64_t max_discount_ppm; /* -1 = none */
    int coupon_policy;        /* PROG_COUPONS_* */
    int64_t points_pending_seconds, points_expire_seconds;
    int points_expire_year_end; /* 1: `expire at end of year`, 2: `... of next year`, 0: neither */
    /* declarations in declaration order; node->index is the position here */
    ast_node **promotions;
    int n_promotions;
    ast_node **earns;
    int n_earns;
    ast_node **multipliers;
    int n_multipliers;
    ast_node **tiers;
    int n_tiers; /* in declaration order = ascending (checked) */
    ast_node **lets;
    int n_lets;
    ast_node *redeem; /* or NULL */
    ast_node *points; /* or NULL */
} check_info;

/* Checks `file`. Arrays in *info are allocated in `arena`. Returns true when no error was found. */
bool check_program(ast_node *file, diag_engine *diags, ast_arena *arena, check_info *info);

/* The text of a checked constant string expression: a string literal, or a name of a let that
 * holds one (followed through lets). NULL for anything else. */
const char *check_const_string(const ast_node *n);

#endif
