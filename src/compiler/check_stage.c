/* check_stage.c - warnings about the evaluation order of promotions (docs/semantics.md,
 * "Stages"): a `stage` clause that runs a promotion earlier than its kind belongs (an order offer
 * among the single-item offers), and a priority that looks meant to run a promotion before one of
 * an earlier stage, which priority cannot do (shipping offers excepted: whenever they run, the
 * goods cost the same). */
#include "check_internal.h"

#include <inttypes.h>
#include <stdio.h>

#include "stage.h"

/* What a stage holds, for messages: "an order offer". */
static const char *stage_kind_text(prog_stage stage)
{
    switch (stage) {
    case PROG_STAGE_ITEMS: return "a single-item offer";
    case PROG_STAGE_ORDER: return "an order offer";
    case PROG_STAGE_COUPONS: return "a coupon promotion";
    case PROG_STAGE_SHIPPING: return "a shipping offer";
    case PROG_STAGE_COUNT: break;
    }
    return "a promotion";
}

static const ast_node *priority_clause(const ast_node *p)
{
    for (int i = 0; i < p->list.count; i++) {
        const ast_node *cl = p->list.items[i];
        if (cl != NULL && cl->kind == AST_CLAUSE && cl->op == CL_PRIORITY && cl->a != NULL && cl->a->is_const)
            return cl;
    }
    return NULL;
}

void check_stages(check_ctx *c)
{
    int n = c->info->n_promotions;
    /* per stage, the promotion with the highest priority (the first declared among equals) */
    const ast_node *latest[PROG_STAGE_COUNT] = { 0 };
    for (int i = 0; i < n; i++) {
        const ast_node *p = c->info->promotions[i];
        prog_stage s = stage_of(p);
        if (latest[s] == NULL || stage_priority(p) > stage_priority(latest[s])) latest[s] = p;

        const ast_node *cl = stage_clause(p);
        prog_stage natural = stage_natural(p);
        if (cl != NULL && s < natural) {
            char hint[300];
            snprintf(hint, sizeof hint,
                     "stages run items, order, coupons, shipping; moved earlier, `%s` changes the prices "
                     "that the other offers of stage %s see; remove the clause unless the shop means that",
                     p->name ? p->name : "", prog_stage_name(s));
            diag_report(c->diags, DIAG_STAGE_BEFORE_KIND, cl->span, hint,
                        "`stage %s` runs `%s`, %s, before the other offers of stage %s", prog_stage_name(s),
                        p->name ? p->name : "", stage_kind_text(natural), prog_stage_name(natural));
        }
    }
    for (int i = 0; i < n; i++) {
        const ast_node *p = c->info->promotions[i];
        const ast_node *pr = priority_clause(p);
        prog_stage s = stage_of(p);
        /* shipping offers take nothing off goods: running them later changes no goods price */
        if (pr == NULL || s == PROG_STAGE_SHIPPING) continue;
        const ast_node *q = NULL;
        for (int k = 0; k < (int)s; k++)
            if (latest[k] != NULL && (q == NULL || stage_priority(latest[k]) > stage_priority(q)))
                q = latest[k];
        if (q == NULL || stage_priority(q) <= stage_priority(p)) continue;
        char hint[300];
        snprintf(hint, sizeof hint,
                 "stages run items, order, coupons, shipping, whatever the priorities; priority orders the "
                 "promotions of one stage; `stage %s` in `%s` would move it (and is warned about too)",
                 prog_stage_name(stage_of(q)), p->name ? p->name : "");
        diag_report(c->diags, DIAG_PRIORITY_ACROSS_STAGES, pr->span, hint,
                    "`priority %" PRId32 "` does not run `%s`, %s, before `%s` (priority %" PRId32
                    "), %s: its stage %s comes first",
                    stage_priority(p), p->name ? p->name : "", stage_kind_text(s), q->name ? q->name : "",
                    stage_priority(q), stage_kind_text(stage_of(q)), prog_stage_name(stage_of(q)));
        diag_note(c->diags, q->span, "`%s` is here", q->name ? q->name : "");
    }
}
