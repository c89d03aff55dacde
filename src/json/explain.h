/* explain.h - a readable account of a perk_result for `perk eval --explain`.
 *
 * Prints, in this order: the lines (original, discount, final), every promotion in evaluation
 * (priority) order with a ✓ and what it gave or a ✗ and why not (the failed condition with its
 * observed values and source location), shipping, coupons, points per earn rule, redemption,
 * near-miss hints and the amount payable. Columns are aligned by display width, so CJK labels
 * (two columns per character) line up. Plain text unless EXPLAIN_COLOR is given.
 */
#ifndef PERK_EXPLAIN_H
#define PERK_EXPLAIN_H

#include <stddef.h>
#include <stdio.h>

#include <cart_json.h>
#include "perk.h"
#include "result_json.h"

enum {
    EXPLAIN_COLOR = 1u << 0 /* ANSI colors: green ✓, red ✗ */
};

/* Writes the explanation of r to out. names supplies promotion/earn/condition names (see
 * result_names_from_program); doc (may be NULL) supplies line ids, skus, names and quantities. */
void explain_print(FILE *out, const result_names *names, const perk_result *r, const cart_doc *doc,
                   int flags);

/* Why promotion result `pr` (of result r) did not apply, as the explanation words it:
 * "sum(tea) >= ¥300 not met: ¥285.84 < ¥300.00 (rules/tea_shop.perk:30:8)" for a failed
 * condition, else the reason's sentence ("its coupon was not entered"); "applied" when it did.
 * Always NUL-terminates buf (cap > 0). Used by `perk diff` to say why a promotion stopped. */
void explain_promotion_reason(const result_names *names, const perk_result *r,
                              const perk_promotion_result *pr, char *buf, size_t cap);

/* Terminal columns the UTF-8 text takes: 2 for East Asian wide and fullwidth characters, 0 for
 * combining marks and control characters, 1 otherwise (also for each invalid byte). */
size_t explain_display_width(const char *s);

#endif
