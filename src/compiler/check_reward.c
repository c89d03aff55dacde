/* check_reward.c - the checker's rules for reward coupons (满500返50券, `then coupon from
 * "RETURN50"`, docs/semantics.md "Reward coupons") across the rule set: a promotion rewards one
 * campaign at most (reward-coupon-twice); the campaign is redeemed by a promotion of the rule set
 * (`requires coupon from "RETURN50"`), else the code could pay for nothing
 * (reward-coupon-not-redeemed); a window that ends before every redeeming promotion starts gives
 * a code nobody can use (reward-coupon-ends-before-use); a promotion that rewards the campaign it
 * requires pays for its own next use (a warning, reward-coupon-pays-itself). A reward written
 * without `valid` takes the period of the redeeming promotions: their earliest start to their
 * latest end when each has a `valid` window, else it never expires. O(promotions x rewards). */
#include "check_internal.h"

#include <stdio.h>
#include <string.h>

/* The campaign promotion p requires (`requires coupon from "X"`), or NULL. */
static const ast_node *redeem_clause(const ast_node *p)
{
    for (int k = 0; k < p->list.count; k++) {
        const ast_node *cl = p->list.items[k];
        if (cl != NULL && cl->kind == AST_CLAUSE && cl->op == CL_COUPON_FROM && cl->name != NULL) return cl;
    }
    return NULL;
}

/* p's `valid` clause, or NULL. */
static const ast_node *valid_clause(const ast_node *p)
{
    for (int k = 0; k < p->list.count; k++) {
        const ast_node *cl = p->list.items[k];
        if (cl != NULL && cl->kind == AST_CLAUSE && cl->op == CL_VALID) return cl;
    }
    return NULL;
}

static void check_one(check_ctx *c, const ast_node *p, ast_node *act)
{
    const char *campaign = act->name;
    const ast_node *own = redeem_clause(p);
    if (own != NULL && strcmp(own->name, campaign) == 0) {
        diag_report(c->diags, DIAG_REWARD_PAYS_ITSELF, act->span,
                    "reward another campaign, or drop the reward: each order paid with a code would earn "
                    "the next one",
                    "promotion `%s` requires a coupon from \"%s\" and rewards one from the same campaign",
                    p->name ? p->name : "", campaign);
        diag_note(c->diags, own->span, "the coupon it requires is here");
    }
    int redeemers = 0;
    bool all_windows = true, usable = false;
    int64_t first = INT64_MAX, last = INT64_MIN;
    const ast_node *earliest = NULL;
    for (int i = 0; i < c->info->n_promotions; i++) {
        const ast_node *q = c->info->promotions[i];
        const ast_node *cl = redeem_clause(q);
        if (cl == NULL || strcmp(cl->name, campaign) != 0) continue;
        redeemers++;
        const ast_node *v = valid_clause(q);
        if (v == NULL) {
            all_windows = false;
            usable = true;
            continue;
        }
        if (v->value < first) {
            first = v->value;
            earliest = v;
        }
        if (v->value2 > last) last = v->value2;
        if (act->ival != 2 || v->value <= act->value2) usable = true;
    }
    if (redeemers == 0) {
        char hint[240];
        snprintf(hint, sizeof hint,
                 "add a promotion with `requires coupon from \"%s\"` that says what the code is worth", campaign);
        diag_report(c->diags, DIAG_REWARD_NOT_REDEEMED, act->span, hint,
                    "no promotion of this rule set redeems a coupon from \"%s\": the code would buy nothing",
                    campaign);
        return;
    }
    if (!usable && earliest != NULL) {
        diag_report(c->diags, DIAG_REWARD_ENDS_BEFORE_USE, ast_span_join(act->a->span, act->b->span),
                    "end the coupon's period after a redeeming promotion starts, or leave `valid` out so it "
                    "lasts as long as they do",
                    "the reward coupon expires before any promotion that redeems \"%s\" starts", campaign);
        diag_note(c->diags, earliest->span, "the earliest one starts here");
        return;
    }
    if (act->a == NULL) { /* no clause: the redeeming promotions' period */
        act->ival = all_windows ? 2 : 0;
        act->value = all_windows ? first : 0;
        act->value2 = all_windows ? last : 0;
    }
}

void check_reward_coupons(check_ctx *c)
{
    for (int i = 0; i < c->info->n_promotions; i++) {
        const ast_node *p = c->info->promotions[i];
        const ast_node *first = NULL;
        for (int k = 0; k < p->list.count; k++) {
            const ast_node *cl = p->list.items[k];
            if (cl == NULL || cl->kind != AST_CLAUSE || cl->op != CL_THEN || cl->a == NULL) continue;
            ast_node *act = cl->a;
            if (act->kind != AST_ACTION || act->op != ACT_REWARD_COUPON) continue;
            if (act->name == NULL || act->name[0] == '\0') continue; /* reported by check_rules.c */
            if (first != NULL) {
                diag_report(c->diags, DIAG_REWARD_TWICE, act->span,
                            "keep one: an order earns one code per promotion; for two codes write two promotions",
                            "promotion `%s` rewards a second coupon", p->name ? p->name : "");
                diag_note(c->diags, first->span, "the first reward is here");
                continue;
            }
            first = act;
            /* `then coupon from "X"` then, on the next line, `valid D1 to D2`: the grammar gives the
             * `valid` to the coupon, which may not be what was meant */
            if (act->a != NULL && act->a->span.first_line > act->span.first_line)
                diag_report(c->diags, DIAG_REWARD_VALID_NEXT_LINE,
                            act->b ? ast_span_join(act->a->span, act->b->span) : act->a->span,
                            "put it on the line of `coupon from` if it is the code's period; the promotion's "
                            "own `valid` goes before its `then`",
                            "this `valid` right after `coupon from \"%s\"` is the coupon's period, not the "
                            "promotion's", act->name);
            check_one(c, p, act);
        }
    }
}
