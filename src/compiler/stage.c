/* stage.c - the evaluation stage of a promotion, from its action kinds, its coupon and its
 * `stage` clause (docs/semantics.md, "Stages"). One definition for the code generator, the
 * checker's warnings and the margin guard, so that all three see the same order. */
#include "stage.h"

#include <stddef.h>

/* `10% off order` (or `items`, or a let naming the whole order) is a 满折: an order offer. */
static bool is_whole_order(const ast_node *set)
{
    for (int hops = 0; set != NULL && hops < 64; hops++) {
        if (set->kind == AST_ITEMS) return true;
        if (set->kind != AST_NAME || set->decl == NULL || set->decl->kind != AST_LET) return false;
        set = set->decl->a;
    }
    return false;
}

static prog_stage action_stage(const ast_node *action)
{
    if (action == NULL || action->kind != AST_ACTION || action->op < 0 || action->op >= PROG_ACT_COUNT)
        return PROG_STAGE_ORDER;
    switch (prog_action_table[action->op].stage) {
    case PROG_ASTAGE_ITEMS: return PROG_STAGE_ITEMS;
    case PROG_ASTAGE_ORDER: return PROG_STAGE_ORDER;
    case PROG_ASTAGE_SHIPPING: return PROG_STAGE_SHIPPING;
    case PROG_ASTAGE_SET: return is_whole_order(action->b) ? PROG_STAGE_ORDER : PROG_STAGE_ITEMS;
    }
    return PROG_STAGE_ORDER;
}

prog_stage stage_natural(const ast_node *promotion)
{
    prog_stage stage = PROG_STAGE_COUNT;
    bool coupon = false;
    for (int i = 0; i < promotion->list.count; i++) {
        const ast_node *cl = promotion->list.items[i];
        if (cl == NULL || cl->kind != AST_CLAUSE) continue;
        if (cl->op == CL_COUPON || cl->op == CL_COUPON_FROM) coupon = true;
        if (cl->op != CL_THEN) continue;
        prog_stage s = action_stage(cl->a);
        if (s < stage) stage = s;
    }
    if (stage == PROG_STAGE_COUNT) stage = PROG_STAGE_ORDER;
    /* a coupon is applied after the shop's own offers, whatever it takes off; a shipping coupon
     * stays with shipping, which comes later still */
    if (coupon && stage < PROG_STAGE_COUPONS) stage = PROG_STAGE_COUPONS;
    return stage;
}

const ast_node *stage_clause(const ast_node *promotion)
{
    for (int i = 0; i < promotion->list.count; i++) {
        const ast_node *cl = promotion->list.items[i];
        if (cl != NULL && cl->kind == AST_CLAUSE && cl->op == CL_STAGE) return cl;
    }
    return NULL;
}

prog_stage stage_of(const ast_node *promotion)
{
    const ast_node *cl = stage_clause(promotion);
    if (cl != NULL && cl->ival >= 0 && cl->ival < PROG_STAGE_COUNT) return (prog_stage)cl->ival;
    return stage_natural(promotion);
}

int32_t stage_priority(const ast_node *promotion)
{
    for (int i = 0; i < promotion->list.count; i++) {
        const ast_node *cl = promotion->list.items[i];
        if (cl != NULL && cl->kind == AST_CLAUSE && cl->op == CL_PRIORITY && cl->a != NULL)
            return (int32_t)cl->a->value;
    }
    return 100;
}
