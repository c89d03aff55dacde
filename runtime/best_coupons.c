/* best_coupons.c - perk_best_coupons(): the best coupon combination (最优券组合) of the cart's
 * coupons, found by evaluating subsets of them in the caller's context.
 *
 * The saving of a set S is what perk_evaluate() gives for the cart with only S entered: discount
 * plus shipping saving. The best set has the largest saving; on a tie fewer codes, then the codes
 * first in wallet order. The pruning below rests on one lemma (docs/semantics.md, "The best
 * coupon combination", which gives the proof):
 *
 *   when the rules read coupons only through `requires coupon` / `requires coupon from` (no
 *   condition reads order.coupons), a code c of S such that no promotion it unlocks applied in
 *   the evaluation of S can be left out: S without c saves exactly as much.
 *
 * So the best set (which has no such code: leaving it out would win the tie) is among the sets
 *   - of the candidate codes: valid status, and the key (code or campaign) of a promotion that
 *     can apply on this cart (not excluded, budget not used up, its guard string in the cart, its
 *     precheck on a fact fixed for the cart holding);
 *   - with at most one code of each class: the codes all of whose promotions lie in one exclusive
 *     group (or, with `coupons one per order`, every code) form a class, as one promotion of a
 *     group applies at most. A code that unlocks a promotion requiring both a code and a campaign
 *     is in no class (two codes may be needed together).
 * Sets are tried by size, smallest first; once a set saves everything (subtotal + shipping) no
 * larger set can win and the search stops.
 */
#include <string.h>

#include "vm_internal.h"

/* True when a condition of the rules reads which coupons were entered (COUPON, COUPON_FROM, the
 * order.coupons fact): a code can then matter without unlocking a promotion. */
static bool rules_read_coupons(const prog_data *d)
{
    for (uint32_t k = 0; k < d->n_code; k++) {
        const prog_insn *in = &d->code[k];
        if (in->op == PERK_OP_COUPON || in->op == PERK_OP_COUPON_FROM) return true;
        if (in->op == PERK_OP_LOAD_FACT && in->arg == PERK_FACT_ORDER_COUPONS) return true;
    }
    return false;
}

/* Whether promotion r can apply on this cart with some coupons: the gates, the guard and the
 * precheck that do not depend on the coupons (evaluate.c: early_gate, late_gate, guard_absent,
 * decide_before_block). */
static bool can_apply(const perk_context *ctx, uint32_t r)
{
    const prog_rule *rule = &ctx->d->rules[r];
    const ctx_mark *m = ctx_mark_of(ctx, r);
    if (m != NULL && m->excluded) return false;
    if (m != NULL) {
        const perk_usage *u = &m->usage;
        if (rule->limit_uses >= 0 && u->uses >= rule->limit_uses) return false;
        if (rule->limit_per_customer >= 0 && u->customer_uses >= rule->limit_per_customer) return false;
        if (rule->limit_money >= 0 && u->money >= rule->limit_money) return false;
    }
    if (eval_guard_absent(ctx, r)) return false;
    /* a precheck on a fact fixed for the cart (not the running subtotal or shipping; the count of
     * coupons is never read when pruning) that does not hold: its block fails whatever is entered.
     * ctx->facts is that of the last evaluation, of the same cart. */
    const guard_precheck *c = &ctx->program->ridx.precheck[r];
    if ((ctx->program->ridx.hot[r].flags & RHOT_PRECHECK) && c->fact != PERK_FACT_ORDER_SUBTOTAL &&
        c->fact != PERK_FACT_ORDER_SHIPPING && c->fact != PERK_FACT_ORDER_COUPONS && c->fact < PERK_FACT_COUNT &&
        !guard_precheck_holds_at(c, ctx->facts[c->fact]))
        return false;
    return true;
}

static bool valid_status(perk_coupon_status s) { return s == PERK_COUPON_VALID || s == PERK_COUPON_UNCHECKED; }

typedef struct search {
    uint32_t cand;                          /* candidate codes (wallet bits) */
    uint32_t n_classes;                     /* classes of codes, at most one of each */
    uint32_t class_bits[PERK_BEST_COUPONS_MAX];
    uint32_t class_key[PERK_BEST_COUPONS_MAX]; /* group string id, or PROG_NONE: one per order */
} search;

/* The candidates and their classes (see the header). */
static void prune(const perk_context *ctx, search *s)
{
    const prog_data *d = ctx->d;
    bool one = d->coupon_policy == PROG_COUPONS_ONE_PER_ORDER;
    for (uint32_t c = 0; c < ctx->n_wallet; c++) {
        const ctx_coupon *w = &ctx->wallet[c];
        if (!valid_status(w->status)) continue;
        bool any = false, free_code = false, same_group = true;
        uint32_t group = PROG_NONE;
        for (uint32_t r = 0; r < d->n_rules; r++) {
            const prog_rule *rule = &d->rules[r];
            bool key = (rule->coupon != PROG_NONE && rule->coupon == w->code_id) ||
                       (rule->coupon_campaign != PROG_NONE && rule->coupon_campaign == w->campaign_id);
            if (!key || !can_apply(ctx, r)) continue;
            if (rule->coupon != PROG_NONE && rule->coupon_campaign != PROG_NONE) free_code = true;
            if (!any) group = rule->group;
            if (rule->group == PROG_NONE || rule->group != group) same_group = false;
            any = true;
        }
        if (!any) continue;
        s->cand |= UINT32_C(1) << c;
        if (free_code || (!one && !same_group)) continue;
        uint32_t key = one ? PROG_NONE : group, k = 0;
        while (k < s->n_classes && s->class_key[k] != key) k++;
        if (k == s->n_classes) {
            s->class_key[k] = key;
            s->class_bits[k] = 0;
            s->n_classes++;
        }
        s->class_bits[k] |= UINT32_C(1) << c;
    }
}

static bool allowed(const search *s, uint32_t mask)
{
    for (uint32_t k = 0; k < s->n_classes; k++) {
        uint32_t b = mask & s->class_bits[k];
        if (b & (b - 1)) return false;
    }
    return true;
}

/* Whether set a beats set b of equal saving: fewer codes, then (same size) the set holding the
 * first code, in wallet order, that is in one of them only. */
static bool wins_tie(uint32_t a, uint32_t b)
{
    int na = __builtin_popcount(a), nb = __builtin_popcount(b);
    if (na != nb) return na < nb;
    uint32_t x = a ^ b;
    return x != 0 && (a & x & -x) != 0;
}

static perk_status try_set(perk_context *ctx, uint32_t mask, int64_t *saving)
{
    ctx_coupons_select(ctx, ctx->wallet, ctx->n_wallet, mask);
    const perk_result *r = perk_evaluate(ctx);
    if (r->status != PERK_OK) return r->status;
    /* both parts are at most subtotal / shipping, themselves at most max_money x lines: no overflow
     * the evaluation did not already rule out, but checked all the same */
    if (__builtin_add_overflow(r->discount, r->shipping_before - r->shipping_after, saving))
        return ctx_fail(ctx, PERK_OVERFLOW, "best coupons: the saving overflows");
    return PERK_OK;
}

perk_status perk_best_coupons(perk_context *ctx, unsigned flags, perk_best_coupons_result *best)
{
    if (ctx == NULL || best == NULL) return PERK_INVALID;
    memset(best, 0, sizeof *best);
    if (ctx->cart_status != PERK_OK) return ctx->cart_status;
    if (!ctx->have_order)
        return ctx_fail(ctx, PERK_STATE, "perk_cart_set_order() must be called before perk_best_coupons()");
    if ((flags & ~PERK_BEST_EXHAUSTIVE) != 0)
        return ctx_fail(ctx, PERK_INVALID, "perk_best_coupons: unknown flags 0x%x", flags);
    if (ctx->n_coupons > PERK_BEST_COUPONS_MAX)
        return ctx_fail(ctx, PERK_LIMIT, "best coupons: %u codes, at most %d are searched", ctx->n_coupons,
                        PERK_BEST_COUPONS_MAX);
    uint32_t n = ctx->n_wallet = ctx->n_coupons;
    for (uint32_t c = 0; c < n; c++)
        ctx->wallet[c] = (ctx_coupon){ ctx->coupon_code[c], ctx->coupon_code_id[c], ctx->coupon_campaign_id[c],
                                       ctx->coupon_status[c] };
    uint32_t all = n == 32 ? UINT32_MAX : (UINT32_C(1) << n) - 1;
    best->n_codes = n;
    /* the empty set first: its evaluation also computes the cart's facts, which pruning reads */
    uint32_t best_mask = 0;
    int64_t best_saving = 0;
    perk_status st = try_set(ctx, 0, &best_saving);
    best->evaluations++;
    search s = { 0 };
    best->pruned = !(flags & PERK_BEST_EXHAUSTIVE) && !rules_read_coupons(ctx->d);
    if (best->pruned && st == PERK_OK)
        prune(ctx, &s);
    else
        s.cand = all;
    best->candidates = (uint32_t)__builtin_popcount(s.cand);

    int64_t most = 0;
    if (__builtin_add_overflow(ctx->subtotal_orig, ctx->shipping, &most)) most = INT64_MAX;
    for (int size = 1; size <= (int)best->candidates && st == PERK_OK; size++) {
        if (best->pruned && best_saving >= most) break; /* a larger set cannot win */
        for (uint32_t mask = s.cand;; mask = (mask - 1) & s.cand) {
            if (__builtin_popcount(mask) == size && allowed(&s, mask)) {
                int64_t saving = 0;
                st = try_set(ctx, mask, &saving);
                best->evaluations++;
                if (st != PERK_OK) break;
                if (saving > best_saving || (saving == best_saving && wins_tie(mask, best_mask))) {
                    best_saving = saving;
                    best_mask = mask;
                }
            }
            if (mask == 0) break;
        }
    }
    if (st == PERK_OK) {
        st = try_set(ctx, best_mask, &best_saving);
        best->evaluations++;
    }
    /* the cart keeps its whole wallet; the result stays that of the last set evaluated */
    ctx_coupons_select(ctx, ctx->wallet, n, all);
    if (st != PERK_OK) return st;
    const perk_result *r = &ctx->res;
    best->chosen = best_mask;
    best->n_chosen = (uint32_t)__builtin_popcount(best_mask);
    best->saving = best_saving;
    best->discount = r->discount;
    best->shipping_saving = r->shipping_before - r->shipping_after;
    best->result = r;
    return PERK_OK;
}
