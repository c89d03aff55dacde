/* analyze.c - static analysis of a checked ruleset (see analyze.h). */
#include "analyze.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "civil.h"
#include "facts.h"
#include "stage.h"

#define PPM 1000000

/* ------------------------------------------------------------------ helpers */

int64_t analyze_today(void)
{
    const char *env = getenv("PERK_TODAY");
    int y, m, d;
    if (env && sscanf(env, "%d-%d-%d", &y, &m, &d) == 3 && civil_valid_date(y, m, d))
        return civil_days_from_date(y, m, d);
    return (int64_t)(time(NULL) / 86400);
}

static const ast_node *clause(const ast_node *decl, int op)
{
    for (int i = 0; i < decl->list.count; i++) {
        const ast_node *cl = decl->list.items[i];
        if (cl->kind == AST_CLAUSE && cl->op == op) return cl;
    }
    return NULL;
}

static bool has_conditions(const ast_node *decl)
{
    for (int i = 0; i < decl->list.count; i++) {
        const ast_node *cl = decl->list.items[i];
        if (cl->kind != AST_CLAUSE) continue;
        switch (cl->op) {
        case CL_WHEN:
        case CL_VALID:
        case CL_EVERY:
        case CL_HOURS:
        case CL_COUPON:
        case CL_COUPON_FROM:
        case CL_LIMIT_USES:
        case CL_LIMIT_MONEY:
        case CL_LIMIT_CUSTOMER:
        case CL_LIMIT_UNITS: return true;
        default: break;
        }
    }
    return false;
}

static bool needs_coupon(const ast_node *decl)
{
    return clause(decl, CL_COUPON) || clause(decl, CL_COUPON_FROM);
}

static const char *group_of(const ast_node *decl)
{
    const ast_node *cl = clause(decl, CL_EXCLUSIVE);
    return cl ? cl->name : NULL;
}

static bool is_stop(const ast_node *decl) { return clause(decl, CL_STOP) != NULL; }

static int64_t clamp_ppm(int64_t v) { return v < 0 ? 0 : v > PPM ? PPM : v; }

/* ------------------------------------------------------------------ per-promotion bound */

/* The smallest `price >= X` (or `> X`) that a target's `where` demands, or 0. */
static int64_t min_price_of(const ast_node *set)
{
    while (set && set->kind == AST_NAME && set->decl && set->decl->kind == AST_LET) set = set->decl->a;
    if (!set || set->kind != AST_WHERE) return 0;
    int64_t best = min_price_of(set->a);
    const ast_node *stack[64];
    int n = 0;
    stack[n++] = set->b;
    while (n > 0) {
        const ast_node *p = stack[--n];
        if (p->kind == AST_BINARY && p->op == OP_AND && n + 2 <= 64) {
            stack[n++] = p->a;
            stack[n++] = p->b;
            continue;
        }
        if (p->kind == AST_BINARY && (p->op == OP_GE || p->op == OP_GT) && p->a->kind == AST_NAME &&
            !p->a->decl && p->a->fact == PERK_FIELD_PRICE && p->b->is_const && p->b->value > best)
            best = p->b->value;
    }
    return best;
}

/* The money threshold a promotion's conditions demand of its goods (`sum(S) >= X` or
 * `order.subtotal >= X`), or 0. Discounts allocated proportionally over goods worth at least X
 * take at most D / X of any item. */
static int64_t threshold_of(const ast_node *decl)
{
    int64_t best = 0;
    for (int i = 0; i < decl->list.count; i++) {
        const ast_node *cl = decl->list.items[i];
        if (cl->kind != AST_CLAUSE || cl->op != CL_WHEN) continue;
        const ast_node *stack[64];
        int n = 0;
        stack[n++] = cl->a;
        while (n > 0) {
            const ast_node *e = stack[--n];
            if (e->kind == AST_BINARY && e->op == OP_AND && n + 2 <= 64) {
                stack[n++] = e->a;
                stack[n++] = e->b;
                continue;
            }
            if (e->kind != AST_BINARY || (e->op != OP_GE && e->op != OP_GT) || !e->b->is_const ||
                e->b->type != TY_MONEY)
                continue;
            bool measures_goods = (e->a->kind == AST_FIELD && e->a->fact == PERK_FACT_ORDER_SUBTOTAL) ||
                                  (e->a->kind == AST_CALL && e->a->name && strcmp(e->a->name, "sum") == 0 &&
                                   e->a->list.count == 1);
            if (measures_goods && e->b->value > best) best = e->b->value;
        }
    }
    return best;
}

static int64_t ratio_ppm(int64_t num, int64_t den)
{
    if (den <= 0) return PPM;
    __int128 r = (__int128)num * PPM / den;
    return clamp_ppm(r > PPM ? PPM : (int64_t)r);
}

/* A bundle's units at the lowest prices its parts admit (sum of units x the part's lowest price),
 * or 0 when a part admits any price (a part without `price >= X`) or the sum overflows. */
static int64_t bundle_floor(const ast_node *act)
{
    __int128 sum = 0;
    for (int i = 0; i < act->list.count; i++) {
        const ast_node *part = act->list.items[i];
        if (!part || !part->a || !part->b) return 0;
        int64_t p = min_price_of(part->b);
        if (p <= 0 || part->a->value <= 0) return 0;
        sum += (__int128)p * part->a->value;
        if (sum > INT64_MAX) return 0;
    }
    return (int64_t)sum;
}

/* The most one action can take off one item, in ppm of the item's price. */
static int64_t action_bound(const ast_node *act, int64_t threshold)
{
    if (act->op < 0 || act->op >= PROG_ACT_COUNT) return 0; /* earn and multiply: not in a promotion */
    switch (prog_action_table[act->op].margin) { /* every kind says how: no silent 0 for a new one */
    case PROG_MARGIN_NONE: return 0;             /* gifts, shipping and effects take nothing off an item */
    case PROG_MARGIN_PERCENT: return clamp_ppm(act->a->value);
    case PROG_MARGIN_AMOUNT: return threshold > 0 ? ratio_ppm(act->a->value, threshold) : PPM;
    case PROG_MARGIN_AMOUNT_EACH: {
        int64_t p = min_price_of(act->b);
        return p > 0 ? ratio_ppm(act->a->value, p) : PPM;
    }
    case PROG_MARGIN_FIXED_PRICE: {
        int64_t p = min_price_of(act->b);
        return p > 0 ? clamp_ppm(PPM - ratio_ppm(act->a->value, p)) : PPM;
    }
    case PROG_MARGIN_QTY_PRICE: {
        int64_t p = min_price_of(act->b), lowest = INT64_MAX;
        for (int i = 0; i < act->list.count; i++)
            if (act->list.items[i]->b && act->list.items[i]->b->value < lowest)
                lowest = act->list.items[i]->b->value;
        return (p > 0 && lowest != INT64_MAX) ? clamp_ppm(PPM - ratio_ppm(lowest, p)) : PPM;
    }
    case PROG_MARGIN_TIERS: {
        int64_t best = 0;
        for (int i = 0; i < act->list.count; i++) {
            const ast_node *st = act->list.items[i];
            const ast_node *v = st->b && st->b->kind == AST_ACTION ? st->b->a : st->b;
            if (!v || !st->a) continue;
            int64_t b = v->type == TY_PERCENT ? v->value : ratio_ppm(v->value, st->a->value);
            if (b > best) best = b;
        }
        return clamp_ppm(best);
    }
    case PROG_MARGIN_COUNT_TIERS: {
        /* an amount off a row of n units is spread over at least n units, each at least the
         * lowest price the set admits; a percent is its own bound */
        int64_t best = 0, p = min_price_of(act->b);
        for (int i = 0; i < act->list.count; i++) {
            const ast_node *st = act->list.items[i];
            const ast_node *v = st->b && st->b->kind == AST_ACTION ? st->b->a : st->b;
            if (!v || !st->a) continue;
            int64_t b = PPM;
            if (v->type == TY_PERCENT)
                b = v->value;
            else if (p > 0 && st->a->value > 0 && (__int128)p * st->a->value <= INT64_MAX)
                b = ratio_ppm(v->value, p * st->a->value);
            if (b > best) best = b;
        }
        return clamp_ppm(best);
    }
    case PROG_MARGIN_EVERY: return ratio_ppm(act->c->value, act->a->value);
    case PROG_MARGIN_BUY_GET:
        return act->list.count > 1 && act->list.items[1] ? clamp_ppm(act->list.items[1]->value) : PPM;
    case PROG_MARGIN_N_FOR: {
        int64_t p = min_price_of(act->b);
        if (p <= 0) return PPM;
        __int128 group = (__int128)p * act->a->value;
        return group > INT64_MAX ? PPM : clamp_ppm(PPM - ratio_ppm(act->c->value, (int64_t)group));
    }
    case PROG_MARGIN_BUNDLE: {
        /* the saving is at most the units' prices minus the bundle price, spread by price */
        int64_t floor = bundle_floor(act);
        return floor <= 0 || !act->c ? PPM : clamp_ppm(PPM - ratio_ppm(act->c->value, floor));
    }
    }
    return PPM; /* a value outside the enum: assume the worst */
}

/* Several actions of one promotion apply one after the other: 1 - prod(1 - d). */
static int64_t combine(int64_t a, int64_t b)
{
    return PPM - (int64_t)((__int128)(PPM - a) * (PPM - b) / PPM);
}

static int64_t promotion_bound(const ast_node *decl)
{
    int64_t thr = threshold_of(decl), d = 0;
    for (int i = 0; i < decl->list.count; i++) {
        const ast_node *cl = decl->list.items[i];
        if (cl->kind == AST_CLAUSE && cl->op == CL_THEN && cl->a) d = combine(d, action_bound(cl->a, thr));
    }
    return d;
}

/* ------------------------------------------------------------------ margin guard */

typedef struct promo {
    const ast_node *decl;
    int64_t d;
    const char *group;
    bool coupon, stop;
} promo;

/* Evaluation order: stage, then priority (then declaration, which callers keep). */
static int64_t prio(const ast_node *d) { return ((int64_t)stage_of(d) << 32) + stage_priority(d); }

/* The best path among promotions [0, end) (plus `forced`, which must be on it), choosing at most
 * one per exclusive group and, with coupons one per order, at most one coupon promotion `coupon`
 * (-1: none). Exact for those constraints. */
static int64_t best_path(const promo *ps, int end, int forced, int coupon_choice, bool one_coupon, bool *take)
{
    for (int i = 0; i < end; i++) take[i] = false;
    if (forced >= 0) take[forced] = true;
    for (int i = 0; i < end; i++) {
        if (i == forced || ps[i].d <= 0 || ps[i].stop) continue;
        if (one_coupon && ps[i].coupon && i != coupon_choice) continue;
        if (one_coupon && forced >= 0 && ps[forced].coupon && ps[i].coupon) continue;
        if (!ps[i].group) {
            take[i] = true;
            continue;
        }
        /* in a group: keep only the best member (the forced rule owns its group) */
        bool beaten = false;
        for (int j = 0; j < end && !beaten; j++) {
            if (j == i || !ps[j].group || strcmp(ps[j].group, ps[i].group) != 0 || ps[j].stop) continue;
            if (one_coupon && ps[j].coupon && j != coupon_choice && j != forced) continue;
            if (j == forced || ps[j].d > ps[i].d || (ps[j].d == ps[i].d && j < i)) beaten = true;
        }
        if (forced >= 0 && ps[forced].group && strcmp(ps[forced].group, ps[i].group) == 0) beaten = true;
        if (!beaten) take[i] = true;
    }
    int64_t d = 0;
    for (int i = 0; i < end; i++)
        if (take[i]) d = combine(d, ps[i].d);
    return d;
}

void analyze_margin_bound(const check_info *info, analyze_margin *out)
{
    memset(out, 0, sizeof *out);
    int n = info->n_promotions;
    if (n == 0) return;
    promo *ps = calloc((size_t)n, sizeof *ps);
    bool *take = calloc((size_t)n, sizeof *take), *best_take = calloc((size_t)n, sizeof *best_take);
    if (!ps || !take || !best_take) abort();
    /* evaluation order: stage, priority, then declaration (stable insertion sort keeps it simple) */
    for (int i = 0; i < n; i++) {
        const ast_node *d = info->promotions[i];
        promo p = { d, promotion_bound(d), group_of(d), needs_coupon(d), is_stop(d) };
        int k = i;
        while (k > 0 && prio(ps[k - 1].decl) > prio(d)) {
            ps[k] = ps[k - 1];
            k--;
        }
        ps[k] = p;
    }
    bool one_coupon = info->coupon_policy == 1;
    int64_t best = -1;
    int best_end = n;
    /* a path either contains no `stop` promotion, or ends at one */
    for (int s = -1; s < n && s < 2000; s++) {
        if (s >= 0 && (!ps[s].stop || ps[s].d <= 0)) continue;
        int end = s >= 0 ? s + 1 : n;
        for (int c = -1; c < end; c++) {
            if (c >= 0 && !ps[c].coupon) continue;
            if (!one_coupon && c >= 0) break;
            int64_t d = best_path(ps, end, s, c, one_coupon, take);
            if (d > best) {
                best = d;
                best_end = end;
                memcpy(best_take, take, (size_t)end * sizeof *take);
            }
        }
    }
    out->max_ppm = best < 0 ? 0 : best;
    for (int i = 0; i < best_end && out->n_path < 64; i++)
        if (best_take[i]) {
            out->path[out->n_path] = ps[i].decl;
            out->step_ppm[out->n_path++] = ps[i].d;
        }
    free(ps);
    free(take);
    free(best_take);
}

static void fmt_ppm(int64_t ppm, char *buf, size_t cap)
{
    /* one decimal, rounded half up: 685000 -> "68.5%" */
    int64_t tenths = (ppm + 500) / 1000;
    snprintf(buf, cap, "%lld.%lld%%", (long long)(tenths / 10), (long long)(tenths % 10));
}

static const ast_node *setting_node(const ast_node *file, int op)
{
    for (int i = 0; file && i < file->list.count; i++) {
        const ast_node *d = file->list.items[i];
        if (d->kind != AST_RULESET) continue;
        for (int k = 0; k < d->list.count; k++)
            if (d->list.items[k]->kind == AST_SETTING && d->list.items[k]->op == op) return d->list.items[k];
    }
    return NULL;
}

static void margin_guard(const check_info *info, const ast_node *file, diag_engine *diags)
{
    if (info->max_discount_ppm < 0) return;
    analyze_margin m;
    analyze_margin_bound(info, &m);
    if (m.max_ppm <= info->max_discount_ppm) return;
    char got[32], lim[32], step[32];
    fmt_ppm(m.max_ppm, got, sizeof got);
    fmt_ppm(info->max_discount_ppm, lim, sizeof lim);
    const ast_node *at = setting_node(file, SET_MAX_DISCOUNT);
    ast_span span = at ? at->span : (m.n_path ? m.path[0]->span : (ast_span){ 0, 1, 1, 1, 1, 0, 0 });
    char path[512] = "";
    size_t k = 0;
    for (int i = 0; i < m.n_path && k + 80 < sizeof path; i++) {
        fmt_ppm(m.step_ppm[i], step, sizeof step);
        k += (size_t)snprintf(path + k, sizeof path - k, "%s%s %s", i ? " + " : "", m.path[i]->name, step);
    }
    diag_report(diags, DIAG_ANALYZE_MARGIN, span,
                "put the promotions in one exclusive group, add a `cap`, or lower a percentage",
                "an item can be discounted by up to %s, over the limit of %s: %s", got, lim, path);
    for (int i = 0; i < m.n_path; i++) {
        fmt_ppm(m.step_ppm[i], step, sizeof step);
        diag_note(diags, m.path[i]->span, "`%s` can take up to %s of an item", m.path[i]->name, step);
    }
}

/* ------------------------------------------------------------------ one promotion over half */

/* What one action can take of the set it applies to, in ppm, when its own figures say so (a
 * percentage, an amount over the threshold its conditions demand, a step, a tier, the reward
 * share of a buy-get within one set, a price over the lowest price its set admits); -1 when the
 * cart decides (an amount off with no threshold). */
static int64_t set_share(const ast_node *act, int64_t threshold)
{
    if (act->op < 0 || act->op >= PROG_ACT_COUNT) return -1;
    switch (prog_action_table[act->op].margin) {
    case PROG_MARGIN_NONE: return 0;
    case PROG_MARGIN_PERCENT:
    case PROG_MARGIN_TIERS:
    case PROG_MARGIN_EVERY: return action_bound(act, threshold);
    case PROG_MARGIN_COUNT_TIERS: {
        /* an amount row over units of unknown price: unbounded, as an amount with no threshold */
        bool amount_row = false;
        for (int i = 0; i < act->list.count; i++) {
            const ast_node *st = act->list.items[i];
            const ast_node *v = st->b && st->b->kind == AST_ACTION ? st->b->a : st->b;
            if (v && v->type == TY_MONEY) amount_row = true;
        }
        return amount_row && min_price_of(act->b) <= 0 ? -1 : action_bound(act, threshold);
    }
    case PROG_MARGIN_AMOUNT: return threshold > 0 ? action_bound(act, threshold) : -1;
    case PROG_MARGIN_AMOUNT_EACH:
    case PROG_MARGIN_FIXED_PRICE:
    case PROG_MARGIN_QTY_PRICE:
    case PROG_MARGIN_N_FOR: return min_price_of(act->b) > 0 ? action_bound(act, threshold) : -1;
    case PROG_MARGIN_BUNDLE: return bundle_floor(act) > 0 ? action_bound(act, threshold) : -1;
    case PROG_MARGIN_BUY_GET: {
        /* buy 1 get 1 free takes half of the two units; get 2 free of buy 1, two thirds */
        if (act->list.count > 0 && act->list.items[0] != NULL) return -1; /* rewards from another set */
        if (!act->a || !act->c || act->a->value <= 0 || act->c->value <= 0) return -1;
        __int128 share =
            (__int128)action_bound(act, threshold) * act->c->value / (act->a->value + act->c->value);
        return clamp_ppm((int64_t)share);
    }
    }
    return -1;
}

/* Without a `max discount` header, a promotion that can take more than half of what it applies
 * to is warned about: `95% off` written for 95折 (5% off) is the classic. With the header, the
 * margin guard checks every promotion, and every stack of them, against the shop's own bound. */
static void over_half(const check_info *info, diag_engine *diags)
{
    if (info->max_discount_ppm >= 0) return;
    for (int i = 0; i < info->n_promotions; i++) {
        const ast_node *d = info->promotions[i];
        int64_t thr = threshold_of(d), share = 0;
        const ast_node *at = NULL, *pct = NULL;
        for (int k = 0; k < d->list.count; k++) {
            const ast_node *cl = d->list.items[k];
            if (cl->kind != AST_CLAUSE || cl->op != CL_THEN || !cl->a) continue;
            int64_t s = set_share(cl->a, thr);
            if (s < 0) continue;
            share = combine(share, s);
            if (at == NULL || s > PPM / 2) at = cl;
            if (cl->a->op == ACT_PERCENT_OFF && cl->a->a && cl->a->a->kind == AST_PERCENT &&
                cl->a->a->sym == NULL)
                pct = cl->a->a;
        }
        if (share <= PPM / 2 || at == NULL) continue;
        char got[32], bound[32], hint[320];
        fmt_ppm(share, got, sizeof got);
        /* the bound to suggest is what the margin guard will hold this promotion to: per item, so
         * at least its share of the set (a free unit of a buy-get is 100% of that unit) */
        int64_t item = promotion_bound(d);
        fmt_ppm(item > share ? item : share, bound, sizeof bound);
        if (pct != NULL && pct->value > PPM / 2 && pct->value < PPM && pct->value % 10000 == 0) {
            /* `95% off` may be a 95折 (95% of the price): say what each reading takes */
            int64_t whole = pct->value / 10000;
            snprintf(hint, sizeof hint,
                     "if the brief says %" PRId64 "\xE6\x8A\x98 (%" PRId64 "%% of the price), write `%" PRId64
                     "\xE6\x8A\x98 off` (%" PRId64
                     "%% off); if the shop means %s off, say so with `max discount "
                     "%s` in the ruleset header",
                     whole, whole, whole, 100 - whole, got, bound);
        } else {
            snprintf(hint, sizeof hint,
                     "check the figures; if the shop means it, say so with `max discount %s` in the ruleset "
                     "header (the margin guard then checks every promotion against it)",
                     bound);
        }
        diag_report(diags, DIAG_ANALYZE_OVER_HALF, at->span, hint,
                    "promotion `%s` can take %s of what it applies to, more than half",
                    d->name ? d->name : "", got);
    }
}

/* ------------------------------------------------------------------ contradictions */

typedef struct range {
    int64_t lo, hi; /* inclusive */
    const ast_node *lo_at, *hi_at;
} range;

/* Narrows ranges[fact] by `fact op const` (or `const op fact`) comparisons in a conjunction. */
static void collect(const ast_node *e, range *ranges, uint32_t *weekday_mask, const ast_node **mask_at)
{
    if (e->kind == AST_BINARY && e->op == OP_AND) {
        collect(e->a, ranges, weekday_mask, mask_at);
        collect(e->b, ranges, weekday_mask, mask_at);
        return;
    }
    if (e->kind != AST_BINARY) return;
    const ast_node *f = e->a, *v = e->b;
    int op = e->op;
    if (f->kind != AST_FIELD && v->kind == AST_FIELD) {
        const ast_node *t = f;
        f = v;
        v = t;
        op = op == OP_LT ? OP_GT : op == OP_LE ? OP_GE : op == OP_GT ? OP_LT : op == OP_GE ? OP_LE : op;
    }
    if (f->kind != AST_FIELD || f->fact < 0 || f->fact >= PERK_FACT_COUNT) return;
    if (op == OP_IN && f->fact == PERK_FACT_TIME_WEEKDAY && v->kind == AST_LIST) {
        uint32_t m = 0;
        for (int i = 0; i < v->list.count; i++) m |= 1u << (v->list.items[i]->value & 7);
        *weekday_mask &= m;
        *mask_at = e;
        return;
    }
    if (op == OP_IN && v->kind == AST_RANGE && v->a->is_const && v->b->is_const) {
        range *r = &ranges[f->fact];
        if (v->a->value > r->lo) {
            r->lo = v->a->value;
            r->lo_at = e;
        }
        if (v->b->value < r->hi) {
            r->hi = v->b->value;
            r->hi_at = e;
        }
        return;
    }
    if (!v->is_const) return;
    range *r = &ranges[f->fact];
    int64_t x = v->value;
    if (f->fact == PERK_FACT_TIME_WEEKDAY && op == OP_EQ) {
        *weekday_mask &= 1u << (x & 7);
        *mask_at = e;
        return;
    }
    switch (op) {
    case OP_EQ:
        if (x > r->lo) {
            r->lo = x;
            r->lo_at = e;
        }
        if (x < r->hi) {
            r->hi = x;
            r->hi_at = e;
        }
        break;
    case OP_GE:
        if (x > r->lo) {
            r->lo = x;
            r->lo_at = e;
        }
        break;
    case OP_GT:
        if (x < INT64_MAX && x + 1 > r->lo) {
            r->lo = x + 1;
            r->lo_at = e;
        }
        break;
    case OP_LE:
        if (x < r->hi) {
            r->hi = x;
            r->hi_at = e;
        }
        break;
    case OP_LT:
        if (x > INT64_MIN && x - 1 < r->hi) {
            r->hi = x - 1;
            r->hi_at = e;
        }
        break;
    default: break;
    }
}

static void contradictions(const ast_node *decl, diag_engine *diags)
{
    range ranges[PERK_FACT_COUNT];
    for (int i = 0; i < PERK_FACT_COUNT; i++) ranges[i] = (range){ INT64_MIN, INT64_MAX, NULL, NULL };
    uint32_t mask = 0x7f;
    const ast_node *mask_at = NULL;
    /* with `hours` across midnight, `every` reads the day the window started, not `weekday`
     * (docs/semantics.md 13.2): `every friday` and `when weekday = saturday` can both hold */
    const ast_node *h = clause(decl, CL_HOURS);
    bool overnight = h != NULL && h->ival != 0;
    for (int i = 0; i < decl->list.count; i++) {
        const ast_node *cl = decl->list.items[i];
        if (cl->kind != AST_CLAUSE) continue;
        if (cl->op == CL_WHEN) collect(cl->a, ranges, &mask, &mask_at);
        if (cl->op == CL_EVERY && !overnight) {
            uint32_t m = 0;
            if (cl->a->kind == AST_LIST)
                for (int k = 0; k < cl->a->list.count; k++) m |= 1u << (cl->a->list.items[k]->value & 7);
            else
                m = 1u << (cl->a->value & 7);
            mask &= m;
            mask_at = cl;
        }
        if (cl->op == CL_VALID && cl->a->is_const && cl->b->is_const) {
            range *r = &ranges[PERK_FACT_TIME_TODAY];
            if (cl->a->value > r->lo) {
                r->lo = cl->a->value;
                r->lo_at = cl;
            }
            if (cl->b->value < r->hi) {
                r->hi = cl->b->value;
                r->hi_at = cl;
            }
        }
    }
    if (mask == 0 && mask_at) {
        diag_report(diags, DIAG_ANALYZE_NEVER, mask_at->span,
                    "check the weekdays of its `every` and `when` clauses",
                    "promotion `%s` can never apply: no weekday satisfies all its conditions", decl->name);
        return;
    }
    /* weekday facts narrowed by ranges (weekday >= saturday and weekday <= monday) */
    for (int f = 0; f < PERK_FACT_COUNT; f++) {
        const range *r = &ranges[f];
        if (r->lo <= r->hi || !r->lo_at || !r->hi_at) continue;
        diag_report(diags, DIAG_ANALYZE_NEVER, r->hi_at->span,
                    "these conditions exclude each other; one of them is probably a typo",
                    "promotion `%s` can never apply: this condition contradicts another one", decl->name);
        diag_note(diags, r->lo_at->span, "which requires this");
        return;
    }
}

/* ------------------------------------------------------------------ the other checks */

static void schedule_in_past(const ast_node *decl, int64_t today, diag_engine *diags)
{
    const ast_node *v = clause(decl, CL_VALID);
    if (!v || !v->b || !v->b->is_const || v->b->value >= today) return;
    int y, m, d;
    civil_date_from_days(v->b->value, &y, &m, &d);
    diag_report(
        diags, DIAG_ANALYZE_PAST, v->span, "move its dates, or delete the promotion if the campaign is over",
        "promotion `%s` can never apply again: its schedule ended on %04d-%02d-%02d", decl->name, y, m, d);
}

/* A promotion with no condition whose action takes something off every non-empty cart. */
static bool always_applies(const ast_node *decl)
{
    if (has_conditions(decl)) return false;
    for (int i = 0; i < decl->list.count; i++) {
        const ast_node *cl = decl->list.items[i];
        if (cl->kind != AST_CLAUSE || cl->op != CL_THEN || !cl->a) continue;
        const ast_node *act = cl->a;
        if ((act->op == ACT_PERCENT_OFF || act->op == ACT_AMOUNT_OFF) && act->b && act->b->kind == AST_ITEMS)
            return true;
    }
    return false;
}

static void normalize_group(const char *s, char *out, size_t cap)
{
    size_t k = 0;
    for (; *s && k + 1 < cap; s++)
        if (isalnum((unsigned char)*s) || ((unsigned char)*s & 0x80))
            out[k++] = (char)tolower((unsigned char)*s);
    out[k] = '\0';
}

typedef struct grouped {
    const ast_node *decl;
    const char *group;
    char norm[128];
    int index; /* declaration order */
} grouped;

static int cmp_grouped(const void *x, const void *y)
{
    const grouped *a = x, *b = y;
    int c = strcmp(a->norm, b->norm);
    if (c) return c;
    if ((c = strcmp(a->group, b->group))) return c;
    int64_t pa = prio(a->decl), pb = prio(b->decl);
    if (pa != pb) return pa < pb ? -1 : 1;
    return a->index - b->index;
}

/* Sorting by (normalised group, group, evaluation order) puts every group in one run, so both
 * checks are linear after the sort (10,000 promotions must not take a quadratic pass). */
static void exclusive_checks(const check_info *info, diag_engine *diags)
{
    int n = 0;
    grouped *g = calloc((size_t)info->n_promotions + 1, sizeof *g);
    if (!g) abort();
    for (int i = 0; i < info->n_promotions; i++) {
        const char *name = group_of(info->promotions[i]);
        if (!name) continue;
        g[n].decl = info->promotions[i];
        g[n].group = name;
        g[n].index = i;
        normalize_group(name, g[n].norm, sizeof g[n].norm);
        n++;
    }
    qsort(g, (size_t)n, sizeof *g, cmp_grouped);
    for (int start = 0; start < n;) {
        int end = start;
        while (end < n && strcmp(g[end].norm, g[start].norm) == 0) end++;
        /* spellings of one normalised name: each spelling after the first is reported once */
        for (int k = start + 1; k < end; k++) {
            if (strcmp(g[k].group, g[k - 1].group) == 0) continue;
            const ast_node *cl = clause(g[k].decl, CL_EXCLUSIVE), *ca = clause(g[start].decl, CL_EXCLUSIVE);
            diag_report(diags, DIAG_ANALYZE_GROUP_SPELLING, cl ? cl->span : g[k].decl->span,
                        "spell the group the same way in both promotions",
                        "exclusive groups \"%s\" and \"%s\" differ only in spelling, so they do not exclude "
                        "each other",
                        g[k].group, g[start].group);
            diag_note(diags, ca ? ca->span : g[start].decl->span, "the other spelling is here");
        }
        /* within one exact group, in evaluation order: once a promotion always applies, every
         * later one is shadowed */
        const grouped *winner = NULL;
        for (int k = start; k < end; k++) {
            if (k > start && strcmp(g[k].group, g[k - 1].group) != 0) winner = NULL;
            if (winner) {
                diag_report(diags, DIAG_ANALYZE_SHADOWED, g[k].decl->span,
                            "give it a higher priority, a different group, or conditions to the other",
                            "promotion `%s` can never apply: `%s` of the same exclusive group \"%s\" always "
                            "applies first",
                            g[k].decl->name, winner->decl->name, g[k].group);
                diag_note(diags, winner->decl->span, "`%s` has no conditions and runs first",
                          winner->decl->name);
            } else if (always_applies(g[k].decl) && !clause(g[k].decl, CL_EXCLUSIVE)->ival) {
                /* in a best-deal group the member that takes the most wins, not the first */
                winner = &g[k];
            }
        }
        start = end;
    }
    free(g);
}

static bool targets_all_of(const ast_node *winner, const ast_node *loser)
{
    const ast_node *tw = clause(winner, CL_THEN), *tl = clause(loser, CL_THEN);
    if (!tw || !tl || !tw->a || !tl->a) return false;
    if (tw->a->list.count == 0) return true; /* `on all` */
    for (int i = 0; i < tl->a->list.count; i++) {
        const ast_node *t = tl->a->list.items[i];
        bool found = false;
        for (int k = 0; k < tw->a->list.count && !found; k++)
            found = tw->a->list.items[k]->name && t->name && strcmp(tw->a->list.items[k]->name, t->name) == 0;
        if (!found) return false;
    }
    return tl->a->list.count > 0;
}

static void multiplier_checks(const check_info *info, diag_engine *diags)
{
    for (int i = 0; i < info->n_multipliers; i++) {
        const ast_node *loser = info->multipliers[i];
        const ast_node *tl = clause(loser, CL_THEN);
        if (!tl || !tl->a || !tl->a->a) continue;
        for (int j = 0; j < info->n_multipliers; j++) {
            const ast_node *w = info->multipliers[j];
            const ast_node *tw = clause(w, CL_THEN);
            if (i == j || has_conditions(w) || !tw || !tw->a || !tw->a->a) continue;
            /* compare factors a/b >= c/d exactly */
            __int128 lhs = (__int128)tw->a->a->value * (tl->a->a->value2 ? tl->a->a->value2 : 1);
            __int128 rhs = (__int128)tl->a->a->value * (tw->a->a->value2 ? tw->a->a->value2 : 1);
            bool wins = lhs > rhs || (lhs == rhs && j < i);
            if (wins && targets_all_of(w, loser)) {
                diag_report(diags, DIAG_ANALYZE_MULTIPLIER, loser->span,
                            "the largest multiplier wins; raise this one or give the other conditions",
                            "multiplier `%s` never takes effect: `%s` always applies to the same earn rules "
                            "with a factor at least as large",
                            loser->name, w->name);
                diag_note(diags, w->span, "`%s` is here", w->name);
                break;
            }
        }
    }
}

static bool in_list(const char *s, const char *const *list, int n)
{
    for (int i = 0; i < n; i++)
        if (strcmp(list[i], s) == 0) return true;
    return false;
}

static void coupon_checks(const check_info *info, const analyze_options *opt, diag_engine *diags)
{
    if (!opt->issued_coupons && !opt->issued_campaigns) return;
    for (int i = 0; i < info->n_promotions; i++) {
        const ast_node *d = info->promotions[i];
        const ast_node *c = clause(d, CL_COUPON), *cf = clause(d, CL_COUPON_FROM);
        if (c && opt->issued_coupons && !in_list(c->name, opt->issued_coupons, opt->n_issued_coupons))
            diag_report(
                diags, DIAG_ANALYZE_COUPON, c->span, "issue it with `perk coupons add`, or fix the code",
                "promotion `%s` requires coupon \"%s\", which has never been issued", d->name, c->name);
        if (cf && opt->issued_campaigns && !in_list(cf->name, opt->issued_campaigns, opt->n_issued_campaigns))
            diag_report(
                diags, DIAG_ANALYZE_COUPON, cf->span,
                "generate codes with `perk coupons generate`, or fix the campaign name",
                "promotion `%s` requires a coupon of campaign \"%s\", but no code of it has been issued",
                d->name, cf->name);
    }
}

void analyze_program(const ast_node *file, const check_info *info, const analyze_options *opt,
                     diag_engine *diags)
{
    for (int i = 0; i < info->n_promotions; i++) {
        contradictions(info->promotions[i], diags);
        schedule_in_past(info->promotions[i], opt->today_days, diags);
    }
    for (int i = 0; i < info->n_earns; i++) contradictions(info->earns[i], diags);
    exclusive_checks(info, diags);
    multiplier_checks(info, diags);
    coupon_checks(info, opt, diags);
    margin_guard(info, file, diags);
    over_half(info, diags);
}
