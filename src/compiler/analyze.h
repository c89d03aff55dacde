/* analyze.h - static analysis of a checked ruleset, run by `perk check` after the checker.
 *
 * Finds rules that are valid but wrong in a way an operator would want to know before
 * publishing: a promotion that can never apply (contradictory conditions, a schedule wholly in
 * the past, a higher-priority promotion of its exclusive group that always wins), exclusive
 * groups that differ only in spelling, a multiplier that another always overrides, a coupon
 * promotion whose code is never issued (when the issued codes are known), and the margin guard:
 * the largest combined discount any item can receive through every stackable path, against the
 * ruleset's `max discount`.
 */
#ifndef PERK_ANALYZE_H
#define PERK_ANALYZE_H

#include <stdbool.h>
#include <stdint.h>

#include "check.h"
#include "diag.h"

typedef struct analyze_options {
    int64_t today_days;                /* "today" for schedule checks, days since 1970-01-01 */
    const char *const *issued_coupons; /* codes known to the store, or NULL: not checked */
    int n_issued_coupons;
    const char *const *issued_campaigns;
    int n_issued_campaigns;
} analyze_options;

/* The margin guard's result: the worst path found. */
typedef struct analyze_margin {
    int64_t max_ppm; /* combined discount as parts per million of an item's price */
    int n_path;
    const ast_node *path[64]; /* the promotions on that path, in evaluation order */
    int64_t step_ppm[64];     /* what each contributes on its own */
} analyze_margin;

/* "today" from the environment variable PERK_TODAY (YYYY-MM-DD, for reproducible checks) or
 * the system clock (UTC). */
int64_t analyze_today(void);

/* Runs every analysis on `file` (checked without errors) and reports warnings through diags. */
void analyze_program(const ast_node *file, const check_info *info, const analyze_options *opt,
                     diag_engine *diags);

/* The margin guard alone (also used by tests with hand-checked bounds). */
void analyze_margin_bound(const check_info *info, analyze_margin *out);

#endif
