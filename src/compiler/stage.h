/* stage.h - the evaluation stage of a promotion (docs/semantics.md, "Stages"): single-item offers,
 * then store-wide order offers, then coupons, then shipping. The code generator sorts promotions
 * by it, the checker warns when an explicit `stage` or `priority` contradicts it, and the margin
 * guard follows the same order. */
#ifndef PERK_COMPILER_STAGE_H
#define PERK_COMPILER_STAGE_H

#include "ast.h"
#include "program.h"

/* The stage its actions and coupon give it, ignoring a `stage` clause: the earliest stage of its
 * actions (runtime/actions.h, column stage), and the coupons stage for a coupon-gated promotion
 * whose actions would run earlier. A promotion without actions counts as an order offer. */
prog_stage stage_natural(const ast_node *promotion);

/* Its `stage` clause, or NULL. */
const ast_node *stage_clause(const ast_node *promotion);

/* The stage it runs in: the `stage` clause's, else the natural one. */
prog_stage stage_of(const ast_node *promotion);

/* Its priority: the `priority` clause's constant, else 100 (the default). */
int32_t stage_priority(const ast_node *promotion);

#endif
