/* vm_loyalty.c - points: redemption (points paying part of the order) and earning (base
 * points per money paid, multipliers, caps), run after every promotion.
 *
 * Order: redemption first, because points never earn points: the goods part of the redemption
 * is allocated over the lines by their final amounts and subtracted from each line's earn base.
 * All products are exact (__int128) and every rounding direction is fixed: the money points can
 * pay is rounded down, the points that money costs are rounded up. See docs/semantics.md.
 */
#include <string.h>

#include "vm_internal.h"

#define PPM_ONE 1000000

/* floor(a * b / c) for a, b >= 0, c > 0; false when the result exceeds int64. */
static bool mul_div_floor(int64_t a, int64_t b, int64_t c, int64_t *out)
{
    __int128 q = (__int128)a * b / c;
    if (q > INT64_MAX) return false;
    *out = (int64_t)q;
    return true;
}

/* ceil(a * b / c) for a, b >= 0, c > 0. */
static bool mul_div_ceil(int64_t a, int64_t b, int64_t c, int64_t *out)
{
    __int128 p = (__int128)a * b;
    __int128 q = p / c + (p % c != 0);
    if (q > INT64_MAX) return false;
    *out = (int64_t)q;
    return true;
}

static perk_status overflow(perk_context *ctx, const char *what)
{
    return ctx_fail(ctx, PERK_OVERFLOW, "arithmetic overflow in %s", what);
}

static perk_status redeem(perk_context *ctx)
{
    const prog_redeem *r = &ctx->d->redeem;
    perk_result *res = &ctx->res;
    memset(ctx->redeemed, 0, ctx->n_lines * sizeof(int64_t));
    if (!r->present) return PERK_OK;
    if (r->points <= 0 || r->money <= 0)
        return ctx_fail(ctx, PERK_MALFORMED, "redemption rate %lld points = %lld must be positive",
                        (long long)r->points, (long long)r->money);
    ctx->rule_original = false;
    vm_outcome o = vm_run(ctx, r->code, VM_BLOCK_REDEEM, 0);
    if (o == VM_ERROR) return ctx->status;
    int64_t balance = ctx->points_balance == PERK_UNKNOWN ? 0 : ctx->points_balance; /* unknown: none */
    if (o != VM_PASSED || balance <= 0 || balance < r->min_balance) return PERK_OK;

    int64_t goods = ctx->subtotal_cur, ship = ctx->ship_cur, base = 0;
    if (r->pays_for & PROG_PAYS_GOODS) base += goods;
    if ((r->pays_for & PROG_PAYS_SHIPPING) && __builtin_add_overflow(base, ship, &base))
        return overflow(ctx, "the redeemable amount");
    int64_t share = r->max_share_ppm < 0 ? 0 : r->max_share_ppm > PPM_ONE ? PPM_ONE : r->max_share_ppm;
    int64_t permitted, by_balance, value_max;
    mul_div_floor(base, share, PPM_ONE, &permitted); /* <= base */
    if (!mul_div_floor(balance, r->money, r->points, &by_balance)) by_balance = INT64_MAX;
    value_max = permitted < by_balance ? permitted : by_balance;
    if (!mul_div_ceil(value_max, r->points, r->money, &res->points_redeemable))
        return overflow(ctx, "the redeemable points");

    int64_t value = value_max, used = res->points_redeemable;
    if (ctx->points_to_redeem >= 0) {
        int64_t asked;
        if (!mul_div_floor(ctx->points_to_redeem, r->money, r->points, &asked)) asked = INT64_MAX;
        if (asked < value) value = asked;
        if (!mul_div_ceil(value, r->points, r->money, &used)) return overflow(ctx, "the redeemed points");
    }
    res->redeem_value = value;
    res->points_redeemed = used;
    /* shipping first, then goods */
    int64_t on_ship = 0;
    if (r->pays_for & PROG_PAYS_SHIPPING) on_ship = value < ship ? value : ship;
    res->redeem_shipping = on_ship;
    res->redeem_goods = value - on_ship;
    if (res->redeem_goods > 0) {
        for (uint32_t i = 0; i < ctx->n_lines; i++) ctx->scratch_w[i] = ctx->cur[i];
        if (res->redeem_goods > goods ||
            !eval_allocate(ctx, res->redeem_goods, ctx->scratch_w, ctx->n_lines, ctx->redeemed))
            return ctx_fail(ctx, PERK_MALFORMED, "internal error: redemption exceeds the goods");
    }
    return PERK_OK;
}

perk_status loyalty_earn(perk_context *ctx, uint32_t earn, const uint64_t *set)
{
    const prog_data *d = ctx->d;
    const prog_earn *e = &d->earns[earn];
    if (ctx->res.n_points >= ctx->max_points) return ctx_fail(ctx, PERK_LIMIT, "too many points results");
    if (e->per_money <= 0 || e->points < 0)
        return ctx_fail(ctx, PERK_MALFORMED, "earn rate %lld points per %lld must be positive",
                        (long long)e->points, (long long)e->per_money);
    int64_t base = 0;
    uint32_t words = set == NULL ? 0 : vm_words(ctx);
    for (uint32_t w = 0; w < words; w++) {
        uint64_t bits = set[w];
        while (bits != 0) {
            uint32_t i = w * 64 + (uint32_t)__builtin_ctzll(bits);
            bits &= bits - 1;
            base += ctx->cur[i] - ctx->redeemed[i]; /* <= the subtotal */
        }
    }
    /* the largest active multiplier for this rule; ties: the first declared */
    int64_t num = 1, den = 1;
    uint32_t mult = UINT32_MAX;
    const perk_program *prog = ctx->program;
    for (uint32_t k = prog->earn_mult_first[earn]; k < prog->earn_mult_first[earn + 1]; k++) {
        uint32_t m = prog->earn_mults[k];
        const prog_mult *pm = &d->mults[m];
        if (!ctx->mult_active[m] || pm->den <= 0 || pm->num < 0) continue;
        if (mult == UINT32_MAX || (__int128)pm->num * den > (__int128)num * pm->den) {
            num = pm->num;
            den = pm->den;
            mult = m;
        }
    }
    int64_t rate_num, rate_den, points;
    if (__builtin_mul_overflow(e->points, num, &rate_num) ||
        __builtin_mul_overflow(e->per_money, den, &rate_den))
        return overflow(ctx, "points earned");
    /* An exact number beyond int64 is above any cap: a capped rule earns its cap (semantics 9). */
    bool beyond = !mul_div_floor(base, rate_num, rate_den, &points);
    if (beyond && e->cap < 0) return overflow(ctx, "points earned");
    perk_points_result *p = &ctx->r_points[ctx->res.n_points++];
    p->earn_rule = earn;
    p->base = base;
    p->mult_num = num;
    p->mult_den = den;
    p->multiplier = mult;
    p->capped = e->cap >= 0 && (beyond || points > e->cap);
    p->points = p->capped ? e->cap : points;
    return PERK_OK;
}

/* The plain pass (rule index off) runs the block of an earn rule decided without it, its
 * instructions not counted, and checks that it ends as decided: the entry of an empty set when
 * the precheck held, nothing when it failed. Comparing both passes then checks every decision. */
static perk_status earn_reference_run(perk_context *ctx, uint32_t e, bool holds)
{
    uint32_t before = ctx->res.n_points;
    vm_outcome o = vm_run_uncounted(ctx, ctx->d->earns[e].code, VM_BLOCK_EARN, e);
    if (o == VM_ERROR) return ctx->status;
    bool as_decided =
        holds ? o == VM_PASSED && ctx->res.n_points == before + 1 && ctx->r_points[before].base == 0
              : o == VM_FAILED && ctx->res.n_points == before;
    if (!as_decided)
        return ctx_fail(ctx, PERK_MALFORMED,
                        "internal check failed: earn rule %s does not end as its strings say",
                        prog_string(ctx->d, ctx->d->earns[e].id));
    return PERK_OK;
}

/* Earn rule e without running its block, when none of its strings is in the cart (guard.h,
 * guard_earn): the empty set's entry if its precheck holds, nothing if not. *decided is false
 * when the block must run. Like a promotion decided before its block, it counts no instruction. */
static perk_status earn_without_block(perk_context *ctx, uint32_t e, bool *decided)
{
    const guard_earn *g = &ctx->program->earn_keys[e];
    *decided = false;
    if (g->n_keys == 0) return PERK_OK;
    for (uint32_t k = 0; k < g->n_keys; k++)
        if (cidx_guard_present(ctx, g->keys[k].kind, g->keys[k].string)) return PERK_OK;
    *decided = true;
    bool holds = g->precheck.kind == PRECHECK_NONE || eval_precheck_holds(ctx, &g->precheck);
    if (!ctx->use_index) return earn_reference_run(ctx, e, holds);
    return holds ? loyalty_earn(ctx, g->earn, NULL) : PERK_OK;
}

perk_status loyalty_run(perk_context *ctx)
{
    const prog_data *d = ctx->d;
    /* consumption (`consumes`) ends with the promotions: loyalty sees the whole cart */
    ctx->consumed_cur = ctx->consumed_orig = 0;
    perk_status st = redeem(ctx);
    if (st != PERK_OK) return st;

    ctx->rule_original = false;
    for (uint32_t m = 0; m < d->n_mults; m++) {
        ctx->mult_active[m] = false;
        vm_outcome o = vm_run(ctx, d->mults[m].code, VM_BLOCK_MULT, m);
        if (o == VM_ERROR) return ctx->status;
        if (o == VM_FAILED) ctx->mult_active[m] = false;
    }
    for (uint32_t e = 0; e < d->n_earns; e++) {
        bool decided;
        st = earn_without_block(ctx, e, &decided);
        if (st != PERK_OK) return st;
        if (decided) continue;
        uint32_t before = ctx->res.n_points;
        vm_outcome o = vm_run(ctx, d->earns[e].code, VM_BLOCK_EARN, e);
        if (o == VM_ERROR) return ctx->status;
        if (o == VM_FAILED) ctx->res.n_points = before; /* a soft condition failed after EARN */
    }
    int64_t total = 0;
    for (uint32_t k = 0; k < ctx->res.n_points; k++)
        if (__builtin_add_overflow(total, ctx->r_points[k].points, &total))
            return overflow(ctx, "points earned");
    ctx->res.points_earned = total;
    return PERK_OK;
}
