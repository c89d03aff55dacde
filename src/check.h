/* check.h - the semantic pass: names, types, constants, and the ruleset's settings.
 *
 * Input: the AST from parse.h. Output: the same AST with the checker fields of every node filled
 * (type, is_const, value, decl, fact, index; see ast.h), and a check_info summary for the code
 * generator. Reports every problem it finds through the diag engine.
 */
#ifndef PERK_CHECK_H
#define PERK_CHECK_H

#include <stdbool.h>
#include <stdint.h>

#include "ast.h"
#include "diag.h"

typedef struct check_info {
    const char *ruleset_name;  /* "" when there is no header (an error for a main file) */
    const char *currency;      /* ISO code */
    int exponent;
    int rounding;              /* PROG_ROUND_* (runtime/program.h) */
    const char *timezone;      /* IANA name, default "UTC" */
    int64_t max_discount_ppm;  /* -1 = none */
    int coupon_policy;         /* PROG_COUPONS_* */
    int64_t points_pending_seconds, points_expire_seconds;
    /* declarations in declaration order; node->index is the position here */
    ast_node **promotions; int n_promotions;
    ast_node **earns; int n_earns;
    ast_node **multipliers; int n_multipliers;
    ast_node **tiers; int n_tiers;     /* in declaration order = ascending (checked) */
    ast_node **lets; int n_lets;
    ast_node *redeem;          /* or NULL */
    ast_node *points;          /* or NULL */
} check_info;

/* Checks `file`. Arrays in *info are allocated in `arena`. Returns true when no error was found. */
bool check_program(ast_node *file, diag_engine *diags, ast_arena *arena, check_info *info);

#endif
