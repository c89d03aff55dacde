/* vm_actions.c - what a promotion does to the cart (the action kinds of runtime/actions.h).
 *
 * An action never changes the cart directly: it adds to the pending discount of the current
 * promotion (ctx->pend per line, ctx->pend_ship) and appends pending gifts and effects.
 * evaluate.c then applies the promotion's cap and money budget (act_limit) and commits or
 * discards. Within one promotion an action sees the amounts left by the promotion's earlier
 * actions (current minus pending), so no line can go below zero.
 *
 * A discount on a set of lines is computed once on the set's total, rounded once by the
 * ruleset's rounding mode, and split over the lines by the largest remainder method. Unit-based
 * actions (BUY_GET, N_FOR) work on runs of equal-priced units, never unit by unit, so a quantity
 * of a million costs the same as a quantity of one. See docs/semantics.md for the exact rules.
 */
#include <string.h>

#include "vm_internal.h"

#define PPM_ONE 1000000

/* ------------------------------------------------------------------ helpers */

static void add_pend(perk_context *ctx, uint32_t line, int64_t amount)
{
    if (amount <= 0) return;
    int64_t avail = act_amount(ctx, line);
    if (amount > avail) amount = avail; /* never below zero (defensive: callers already cap) */
    ctx->pend[line] += amount;
    ctx->touched[line / 64] |= UINT64_C(1) << (line % 64);
}

/* The lines of `set`, ascending, into ctx->scratch_idx; their available amounts into
 * ctx->scratch_w. Returns the count; *total = sum of the amounts (fits: at most the subtotal). */
static uint32_t gather(perk_context *ctx, const uint64_t *set, int64_t *total)
{
    uint32_t n = 0, words = vm_words(ctx);
    int64_t sum = 0;
    for (uint32_t w = 0; w < words; w++) {
        uint64_t bits = set[w];
        while (bits != 0) {
            uint32_t i = w * 64 + (uint32_t)__builtin_ctzll(bits);
            bits &= bits - 1;
            ctx->scratch_idx[n] = i;
            ctx->scratch_w[n] = act_amount(ctx, i);
            sum += ctx->scratch_w[n];
            n++;
        }
    }
    *total = sum;
    return n;
}

/* The amount a threshold measures on `set`: original amounts in a rule that measures original
 * prices, else the available amounts. */
static int64_t measure(const perk_context *ctx, uint32_t n)
{
    int64_t m = 0;
    for (uint32_t k = 0; k < n; k++)
        m += ctx->rule_original ? ctx->orig[ctx->scratch_idx[k]] : ctx->scratch_w[k];
    return m;
}

/* Splits discount D (0 <= D <= sum of scratch_w) over the gathered lines by their amounts. */
static perk_status allocate_gathered(perk_context *ctx, int64_t D, uint32_t n)
{
    if (D <= 0 || n == 0) return PERK_OK;
    if (!eval_allocate(ctx, D, ctx->scratch_w, n, ctx->scratch_out))
        return ctx_fail(ctx, PERK_MALFORMED, "internal error: allocation failed");
    for (uint32_t k = 0; k < n; k++) add_pend(ctx, ctx->scratch_idx[k], ctx->scratch_out[k]);
    return PERK_OK;
}

static int64_t clamp(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : v > hi ? hi : v; }

static int64_t clamp128(__int128 v, int64_t lo, int64_t hi) { return v < lo ? lo : v > hi ? hi : (int64_t)v; }

static perk_status percent_of(perk_context *ctx, int64_t amount, int64_t ppm, int64_t *out)
{
    if (!eval_percent(ctx, amount, ppm, out))
        return ctx_fail(ctx, PERK_OVERFLOW, "arithmetic overflow computing %lld ppm of %lld", (long long)ppm,
                        (long long)amount);
    return PERK_OK;
}

/* The step with the largest threshold <= x (ties: the first), or NULL. */
static const prog_step *find_step(const prog_data *d, const prog_action *a, int64_t x)
{
    const prog_step *best = NULL;
    for (uint32_t k = 0; k < a->n_steps; k++) {
        const prog_step *s = &d->steps[a->steps + k];
        if (s->threshold <= x && (best == NULL || s->threshold > best->threshold)) best = s;
    }
    return best;
}

/* ------------------------------------------------------------------ unit runs */

/* The units of line i as at most two runs: current = q * qty + r, so r units cost q + 1 and
 * qty - r units cost q; the unit prices sum exactly to the line's amount. */
static uint32_t line_runs(const perk_context *ctx, uint32_t i, unit_run *out)
{
    int64_t a = act_amount(ctx, i), qty = ctx->qty[i];
    int64_t q = a / qty, r = a % qty;
    uint32_t n = 0;
    if (r > 0) out[n++] = (unit_run){ q + 1, r, i };
    if (qty - r > 0) out[n++] = (unit_run){ q, qty - r, i };
    return n;
}

static uint32_t gather_runs(perk_context *ctx, const uint64_t *set, unit_run *runs, int64_t *units)
{
    uint32_t n = 0, words = vm_words(ctx);
    int64_t u = 0;
    for (uint32_t w = 0; w < words; w++) {
        uint64_t bits = set[w];
        while (bits != 0) {
            uint32_t i = w * 64 + (uint32_t)__builtin_ctzll(bits);
            bits &= bits - 1;
            n += line_runs(ctx, i, runs + n);
            u += ctx->qty[i];
        }
    }
    *units = u;
    return n;
}

/* The order of units "most expensive first": price descending, then the earlier line first.
 * The cheapest-first order is exactly its reverse. (Price and line identify a run.) */
static bool run_before(const unit_run *a, const unit_run *b, bool cheapest_first)
{
    bool exp_first = a->price != b->price ? a->price > b->price : a->line < b->line;
    return cheapest_first ? !exp_first : exp_first;
}

static void sift_down(unit_run *r, uint32_t root, uint32_t n, bool cheapest_first)
{
    for (;;) {
        uint32_t child = 2 * root + 1;
        if (child >= n) return;
        /* a max-heap on "comes later" so that popping yields ascending order */
        if (child + 1 < n && run_before(&r[child], &r[child + 1], cheapest_first)) child++;
        if (!run_before(&r[root], &r[child], cheapest_first)) return;
        unit_run t = r[root];
        r[root] = r[child];
        r[child] = t;
        root = child;
    }
}

/* Heap sort: O(n log n), no allocation, deterministic (keys are unique). */
static void sort_runs(unit_run *r, uint32_t n, bool cheapest_first)
{
    if (n < 2) return;
    for (uint32_t i = n / 2; i-- > 0;) sift_down(r, i, n, cheapest_first);
    for (uint32_t end = n - 1; end > 0; end--) {
        unit_run t = r[0];
        r[0] = r[end];
        r[end] = t;
        sift_down(r, 0, end, cheapest_first);
    }
}

/* Sorts the entries of an N_FOR group (price = weight) by line, ascending: with the price
 * temporarily set to -line, "most expensive first" is "earlier line first". */
static void sort_group_by_line(unit_run *g, uint32_t n)
{
    for (uint32_t k = 0; k < n; k++) {
        g[k].count = g[k].price;
        g[k].price = -(int64_t)g[k].line;
    }
    sort_runs(g, n, false);
    for (uint32_t k = 0; k < n; k++) {
        g[k].price = g[k].count;
        g[k].count = 0;
    }
}

/* Commits the per-line sums accumulated in scratch_line for the lines of `set`. */
static void flush_line_sums(perk_context *ctx, const uint64_t *set)
{
    uint32_t words = vm_words(ctx);
    for (uint32_t w = 0; w < words; w++) {
        uint64_t bits = set[w];
        while (bits != 0) {
            uint32_t i = w * 64 + (uint32_t)__builtin_ctzll(bits);
            bits &= bits - 1;
            add_pend(ctx, i, ctx->scratch_line[i]);
            ctx->scratch_line[i] = 0;
        }
    }
}

/* ------------------------------------------------------------------ the actions */

static perk_status act_buy_get(perk_context *ctx, const prog_action *a, const uint64_t *buy,
                               const uint64_t *reward)
{
    int64_t p0 = a->p[0], p1 = a->p[1], p2 = a->p[2];
    if (p0 < 1 || p1 < 1 || p2 <= 0) return PERK_OK;
    uint32_t words = vm_words(ctx);
    bool same = memcmp(buy, reward, words * sizeof(uint64_t)) == 0;
    int64_t units_r;
    uint32_t n = gather_runs(ctx, reward, ctx->runs, &units_r);
    __int128 rewarded;
    if (same) {
        __int128 group = (__int128)p0 + p1; /* p0 + p1 may not fit in int64 */
        rewarded = (__int128)(units_r / group) * p1;
    } else {
        int64_t units_b = 0;
        for (uint32_t w = 0; w < words; w++) {
            uint64_t bits = buy[w];
            while (bits != 0) {
                units_b += ctx->qty[w * 64 + (uint32_t)__builtin_ctzll(bits)];
                bits &= bits - 1;
            }
        }
        rewarded = (__int128)(units_b / p0) * p1;
    }
    int64_t left = clamp128(rewarded, 0, units_r);
    if (left == 0) return PERK_OK;
    sort_runs(ctx->runs, n, true);
    for (uint32_t k = 0; k < n && left > 0; k++) {
        int64_t take = ctx->runs[k].count < left ? ctx->runs[k].count : left;
        ctx->scratch_line[ctx->runs[k].line] += take * ctx->runs[k].price; /* <= the line's amount */
        left -= take;
    }
    /* the discount of each line: its rewarded unit prices times p2, rounded once per line */
    for (uint32_t w = 0; w < words; w++) {
        uint64_t bits = reward[w];
        while (bits != 0) {
            uint32_t i = w * 64 + (uint32_t)__builtin_ctzll(bits);
            bits &= bits - 1;
            int64_t sum = ctx->scratch_line[i], d = 0;
            ctx->scratch_line[i] = 0;
            if (sum == 0) continue;
            perk_status st = percent_of(ctx, sum, p2, &d);
            if (st != PERK_OK) return st;
            add_pend(ctx, i, clamp(d, 0, sum));
        }
    }
    return PERK_OK;
}

/* Whether lines i and j have the same SKU (the hash decides most pairs; the text the rest). */
static int sku_cmp(const perk_context *ctx, uint32_t i, uint32_t j)
{
    if (ctx->sku_hash[i] != ctx->sku_hash[j]) return ctx->sku_hash[i] < ctx->sku_hash[j] ? -1 : 1;
    return strcmp(ctx->sku_text + ctx->sku_off[i], ctx->sku_text + ctx->sku_off[j]);
}

/* Whether lines i and j have the same store (lines without one are one group, first). */
static int store_cmp(const perk_context *ctx, uint32_t i, uint32_t j)
{
    bool hi = ctx->store_off[i] != UINT32_MAX, hj = ctx->store_off[j] != UINT32_MAX;
    if (hi != hj) return hi ? 1 : -1;
    if (!hi) return 0;
    if (ctx->store_hash[i] != ctx->store_hash[j]) return ctx->store_hash[i] < ctx->store_hash[j] ? -1 : 1;
    return strcmp(ctx->sku_text + ctx->store_off[i], ctx->sku_text + ctx->store_off[j]);
}

typedef int (*line_cmp)(const perk_context *ctx, uint32_t i, uint32_t j);

/* Line order for grouping: by the key `cmp` compares (SKU or store), then by line. */
static bool key_before(const perk_context *ctx, line_cmp cmp, uint32_t i, uint32_t j)
{
    int c = cmp(ctx, i, j);
    return c != 0 ? c < 0 : i < j;
}

static void key_sift_down(const perk_context *ctx, line_cmp cmp, uint32_t *x, uint32_t root, uint32_t n)
{
    for (;;) {
        uint32_t child = 2 * root + 1;
        if (child >= n) return;
        if (child + 1 < n && key_before(ctx, cmp, x[child], x[child + 1])) child++;
        if (!key_before(ctx, cmp, x[root], x[child])) return;
        uint32_t t = x[root];
        x[root] = x[child];
        x[child] = t;
        root = child;
    }
}

/* Heap sort of lines by key_before: O(n log n), no allocation. */
static void sort_by_key(const perk_context *ctx, line_cmp cmp, uint32_t *x, uint32_t n)
{
    if (n < 2) return;
    for (uint32_t i = n / 2; i-- > 0;) key_sift_down(ctx, cmp, x, i, n);
    for (uint32_t end = n - 1; end > 0; end--) {
        uint32_t t = x[0];
        x[0] = x[end];
        x[end] = t;
        key_sift_down(ctx, cmp, x, 0, end);
    }
}

/* TIERS_STORE, EVERY_STORE (`per store`, docs/semantics.md 5.3): the set's lines grouped by store
 * (the lines without one are one group), and TIERS / EVERY measured, taken and allocated within
 * each group as if it were the whole set; `up to` bounds each group's discount. A store below the
 * first threshold is a near miss (section 12): of those, the one closest to it (on a tie, the
 * store of the earlier line) is noted for a hint. */
static perk_status act_per_store(perk_context *ctx, const prog_action *a, const uint64_t *set)
{
    const prog_data *d = ctx->d;
    int64_t total;
    uint32_t n = gather(ctx, set, &total);
    sort_by_key(ctx, store_cmp, ctx->scratch_idx, n);
    for (uint32_t k = 0; k < n; k++) ctx->scratch_w[k] = act_amount(ctx, ctx->scratch_idx[k]);
    /* the first threshold and what reaching it takes off: the hint's goal */
    int64_t first = 0, first_off = 0;
    bool first_percent = false;
    if (a->kind == PROG_ACT_TIERS_STORE && a->n_steps > 0) {
        first = d->steps[a->steps].threshold;
        first_off = d->steps[a->steps].value;
        first_percent = d->steps[a->steps].is_percent;
    } else if (a->kind == PROG_ACT_EVERY_STORE && a->p[0] >= 1) {
        first = a->p[0];
        first_off = a->p[2] >= 0 && a->p[2] < a->p[1] ? a->p[2] : a->p[1];
    }
    int64_t near_short = 0;
    uint32_t near_line = UINT32_MAX;
    for (uint32_t g = 0; g < n;) {
        uint32_t e = g + 1;
        while (e < n && store_cmp(ctx, ctx->scratch_idx[g], ctx->scratch_idx[e]) == 0) e++;
        /* lines [g, e) share one store, in line order */
        int64_t sum = 0, m = 0, D = 0;
        for (uint32_t k = g; k < e; k++) {
            sum += ctx->scratch_w[k]; /* at most the subtotal: fits */
            m += ctx->rule_original ? ctx->orig[ctx->scratch_idx[k]] : ctx->scratch_w[k];
        }
        if (a->kind == PROG_ACT_TIERS_STORE) {
            const prog_step *s = find_step(d, a, m);
            if (s != NULL && s->is_percent) {
                perk_status st = percent_of(ctx, sum, s->value, &D);
                if (st != PERK_OK) return st;
            } else if (s != NULL) {
                D = s->value;
            }
        } else if (a->p[0] >= 1) {
            __int128 d128 = (__int128)(m / a->p[0]) * a->p[1];
            if (a->p[2] >= 0 && d128 > a->p[2]) d128 = a->p[2];
            D = clamp128(d128, 0, sum);
        }
        D = clamp(D, 0, sum);
        if (D > 0) {
            if (!eval_allocate(ctx, D, ctx->scratch_w + g, e - g, ctx->scratch_out + g))
                return ctx_fail(ctx, PERK_MALFORMED, "internal error: allocation failed");
            for (uint32_t k = g; k < e; k++) add_pend(ctx, ctx->scratch_idx[k], ctx->scratch_out[k]);
        }
        if (m < first) { /* below the first threshold: m >= 0, so first - m fits */
            uint32_t line = ctx->scratch_idx[g]; /* the group's earliest line */
            if (near_line == UINT32_MAX || first - m < near_short || (first - m == near_short && line < near_line)) {
                near_short = first - m;
                near_line = line;
            }
        }
        g = e;
    }
    if (near_line != UINT32_MAX && !ctx->pend_hint) {
        ctx->pend_hint = true;
        ctx->pend_hint_store = true;
        ctx->pend_hint_line = near_line;
        ctx->pend_hint_shortfall = near_short;
        ctx->pend_hint_value = first_off;
        ctx->pend_hint_percent = first_percent;
        ctx->pend_hint_set = a->str1;
    }
    return PERK_OK;
}

/* BUY_GET_SKU: buy p0 get p1 at p2 ppm off, the pairs formed within each SKU of the set: for
 * each SKU, k = floor(units / (p0 + p1)), and its k * p1 cheapest units (cheapest-first order,
 * as BUY_GET) are rewarded. Each line's discount is percent(sum of its rewarded unit prices, p2),
 * rounded once per line, as BUY_GET. Units of different SKUs never make a pair. */
static perk_status act_buy_get_sku(perk_context *ctx, const prog_action *a, const uint64_t *set)
{
    int64_t p0 = a->p[0], p1 = a->p[1], p2 = a->p[2];
    if (p0 < 1 || p1 < 1 || p2 <= 0) return PERK_OK;
    int64_t total;
    uint32_t n = gather(ctx, set, &total);
    sort_by_key(ctx, sku_cmp, ctx->scratch_idx, n);
    __int128 group = (__int128)p0 + p1; /* p0 + p1 may not fit in int64 */
    for (uint32_t g = 0; g < n;) {
        uint32_t e = g + 1;
        while (e < n && sku_cmp(ctx, ctx->scratch_idx[g], ctx->scratch_idx[e]) == 0) e++;
        /* lines [g, e) share one SKU, in line order */
        uint32_t nr = 0;
        int64_t units = 0;
        for (uint32_t k = g; k < e; k++) {
            uint32_t i = ctx->scratch_idx[k];
            nr += line_runs(ctx, i, ctx->runs + nr);
            units += ctx->qty[i]; /* <= the cart's items: fits */
        }
        int64_t left = (int64_t)((__int128)(units / group) * p1);
        if (left > 0) {
            sort_runs(ctx->runs, nr, true);
            for (uint32_t k = 0; k < nr && left > 0; k++) {
                int64_t take = ctx->runs[k].count < left ? ctx->runs[k].count : left;
                ctx->scratch_line[ctx->runs[k].line] += take * ctx->runs[k].price; /* <= the line's amount */
                left -= take;
            }
        }
        g = e;
    }
    uint32_t words = vm_words(ctx);
    for (uint32_t w = 0; w < words; w++) {
        uint64_t bits = set[w];
        while (bits != 0) {
            uint32_t i = w * 64 + (uint32_t)__builtin_ctzll(bits);
            bits &= bits - 1;
            int64_t sum = ctx->scratch_line[i], d = 0;
            ctx->scratch_line[i] = 0;
            if (sum == 0) continue;
            perk_status st = percent_of(ctx, sum, p2, &d);
            if (st != PERK_OK) return st;
            add_pend(ctx, i, clamp(d, 0, sum));
        }
    }
    return PERK_OK;
}

/* One N_FOR group that spans several runs: starts at runs[*r] with *rem units left there. */
static perk_status nfor_group(perk_context *ctx, int64_t p0, int64_t p1, uint32_t n_runs, uint32_t *r,
                              int64_t *rem)
{
    unit_run *g = ctx->group;
    uint32_t ng = 0;
    int64_t need = p0, sum = 0;
    while (need > 0 && *r < n_runs) {
        const unit_run *run = &ctx->runs[*r];
        int64_t take = *rem < need ? *rem : need;
        uint32_t pos = ctx->scratch_pos[run->line];
        if (pos == PROG_NONE) {
            pos = ng++;
            ctx->scratch_pos[run->line] = pos;
            g[pos] = (unit_run){ 0, 0, run->line };
        }
        g[pos].price += take * run->price; /* weight: the line's unit prices in this group */
        sum += take * run->price;
        need -= take;
        *rem -= take;
        if (*rem == 0 && ++*r < n_runs) *rem = ctx->runs[*r].count;
    }
    for (uint32_t k = 0; k < ng; k++) ctx->scratch_pos[g[k].line] = PROG_NONE;
    int64_t gd = sum - p1;
    if (gd <= 0) return PERK_OK;
    sort_group_by_line(g, ng); /* ties of the largest remainder go to the earlier line */
    for (uint32_t k = 0; k < ng; k++) ctx->scratch_w[k] = g[k].price;
    if (!eval_allocate(ctx, gd, ctx->scratch_w, ng, ctx->scratch_out))
        return ctx_fail(ctx, PERK_MALFORMED, "internal error: allocation failed");
    for (uint32_t k = 0; k < ng; k++) ctx->scratch_line[g[k].line] += ctx->scratch_out[k];
    return PERK_OK;
}

static perk_status act_n_for(perk_context *ctx, const prog_action *a, const uint64_t *set)
{
    int64_t p0 = a->p[0], p1 = a->p[1];
    if (p0 < 1 || p1 < 0) return PERK_OK;
    int64_t units;
    uint32_t n = gather_runs(ctx, set, ctx->runs, &units);
    int64_t groups = units / p0;
    if (groups == 0) return PERK_OK;
    sort_runs(ctx->runs, n, false);
    uint32_t r = 0;
    int64_t rem = ctx->runs[0].count;
    while (groups > 0 && r < n) {
        if (rem >= p0) {
            /* whole groups inside one run: p0 units of one line at one price */
            const unit_run *run = &ctx->runs[r];
            int64_t m = rem / p0 < groups ? rem / p0 : groups;
            __int128 per_group = (__int128)p0 * run->price - p1;
            if (per_group > 0) ctx->scratch_line[run->line] += (int64_t)(per_group * m); /* <= amount */
            rem -= m * p0;
            groups -= m;
            if (rem == 0 && ++r < n) rem = ctx->runs[r].count;
        } else {
            perk_status st = nfor_group(ctx, p0, p1, n, &r, &rem);
            if (st != PERK_OK) return st;
            groups--;
        }
    }
    flush_line_sums(ctx, set);
    return PERK_OK;
}

/* MOST_EXPENSIVE: p0 ppm off the p1 most expensive units of the set. Units are ordered as by
 * run_before (unit price descending, then the earlier line); a line's units are its runs (its
 * current amount split as evenly as the cents allow). The discount is computed once on the sum of
 * the chosen units, rounded by the ruleset, and allocated over the chosen lines in line order by
 * what their chosen units cost. Fewer than p1 units: all of them. */
static perk_status act_most_expensive(perk_context *ctx, const prog_action *a, const uint64_t *set)
{
    int64_t left = a->p[1], units, sum = 0, D = 0;
    if (left < 1) return PERK_OK;
    uint32_t n = gather_runs(ctx, set, ctx->runs, &units);
    sort_runs(ctx->runs, n, false);
    for (uint32_t k = 0; k < n && left > 0; k++) {
        int64_t take = ctx->runs[k].count < left ? ctx->runs[k].count : left;
        ctx->scratch_line[ctx->runs[k].line] += take * ctx->runs[k].price; /* <= the line's amount */
        sum += take * ctx->runs[k].price;                                  /* <= the subtotal */
        left -= take;
    }
    uint32_t m = 0, words = vm_words(ctx);
    for (uint32_t w = 0; w < words; w++) {
        uint64_t bits = set[w];
        while (bits != 0) {
            uint32_t i = w * 64 + (uint32_t)__builtin_ctzll(bits);
            bits &= bits - 1;
            if (ctx->scratch_line[i] > 0) {
                ctx->scratch_idx[m] = i;
                ctx->scratch_w[m++] = ctx->scratch_line[i];
            }
            ctx->scratch_line[i] = 0;
        }
    }
    perk_status st = percent_of(ctx, sum, a->p[0], &D);
    if (st != PERK_OK) return st;
    return allocate_gathered(ctx, clamp(D, 0, sum), m);
}

/* ------------------------------------------------------------------ bundles */

void act_bundle_reset(perk_context *ctx)
{
    /* every line the array holds: the block that ended early may have run on a larger cart */
    memset(ctx->bundle_mask, 0, (size_t)ctx->cap_lines * sizeof *ctx->bundle_mask);
    ctx->bundle_parts = 0;
}

/* Sets bit `bit` of the bundle mask of every line of `set`. */
static void bundle_mark(perk_context *ctx, const uint64_t *set, uint32_t bit)
{
    uint32_t words = vm_words(ctx);
    for (uint32_t w = 0; w < words; w++) {
        uint64_t bits = set[w];
        while (bits != 0) {
            ctx->bundle_mask[w * 64 + (uint32_t)__builtin_ctzll(bits)] |= (uint16_t)(1u << bit);
            bits &= bits - 1;
        }
    }
}

perk_status act_bundle_part(perk_context *ctx, uint32_t action, const uint64_t *set)
{
    const prog_action *a = &ctx->d->actions[action];
    if (a->kind != PROG_ACT_BUNDLE || a->n_steps > PROG_BUNDLE_MAX_PARTS || ctx->bundle_parts + 1 >= a->n_steps ||
        (ctx->bundle_parts > 0 && ctx->bundle_action != action)) {
        act_bundle_reset(ctx);
        return ctx_fail(ctx, PERK_MALFORMED, "action %u: a bundle part out of place", action);
    }
    bundle_mark(ctx, set, ctx->bundle_parts);
    ctx->bundle_action = action;
    ctx->bundle_parts++;
    return PERK_OK;
}

/* Takes `need` units for part k of one bundle instance from the runs (most expensive first), at
 * or after *cursor, adding each unit's price to its line's weight in ctx->group. Returns the units
 * still missing (0: the part is filled); *first = the run the first unit came from, *single =
 * every unit came from that run. Units taken are used: a run's count goes down. */
static int64_t bundle_take(perk_context *ctx, uint32_t n_runs, uint32_t k, int64_t need, uint32_t *cursor,
                           uint32_t *ng, int64_t *sum, uint32_t *first, bool *single)
{
    uint32_t r = *cursor;
    *first = PROG_NONE;
    *single = true;
    while (need > 0) {
        while (r < n_runs && (ctx->runs[r].count == 0 || !(ctx->bundle_mask[ctx->runs[r].line] & (1u << k)))) r++;
        if (r == n_runs) break;
        unit_run *run = &ctx->runs[r];
        int64_t take = run->count < need ? run->count : need;
        uint32_t pos = ctx->scratch_pos[run->line];
        if (pos == PROG_NONE) {
            pos = (*ng)++;
            ctx->scratch_pos[run->line] = pos;
            ctx->group[pos] = (unit_run){ 0, 0, run->line };
        }
        ctx->group[pos].price += take * run->price; /* <= the line's amount */
        *sum += take * run->price;                  /* <= the subtotal */
        run->count -= take;
        need -= take;
        if (*first == PROG_NONE)
            *first = r;
        else if (*first != r)
            *single = false;
    }
    *cursor = r; /* runs before r are used up or outside part k: later instances start here */
    return need;
}

/* BUNDLE (docs/semantics.md, "Bundles"): the parts are steps (units, name); parts 0..K-2 were
 * marked by BUNDLE_PART, `last` is part K-1. The units of the parts' lines are runs ordered most
 * expensive first (ties: the earlier line). One instance at a time, each part in written order
 * takes its units from the most expensive units still unused that belong to it; an instance some
 * part cannot fill, or whose units cost no more than the bundle price, ends the search. An
 * instance's saving (its units' prices minus the price) is split over its lines by what its units
 * there cost (largest remainder, ties to the earlier line). When every part took its units from
 * one run, the next instances would take the same units at the same prices: they are counted at
 * once, as many as the runs hold, so a million units cost what one does. One part short on the
 * first incomplete instance gives a near-miss hint (its name and the units missing). */
static perk_status act_bundle(perk_context *ctx, uint32_t action, const prog_action *a, const uint64_t *last)
{
    const prog_data *d = ctx->d;
    uint32_t parts = a->n_steps, marked = ctx->bundle_parts;
    ctx->bundle_parts = 0;
    if (parts < 2 || parts > PROG_BUNDLE_MAX_PARTS || marked + 1 != parts || ctx->bundle_action != action) {
        act_bundle_reset(ctx);
        return ctx_fail(ctx, PERK_MALFORMED, "action %u: a bundle of %u parts with %u marked", action, parts,
                        marked);
    }
    bundle_mark(ctx, last, parts - 1);
    uint32_t n = 0;
    for (uint32_t i = 0; i < ctx->n_lines; i++)
        if (ctx->bundle_mask[i] != 0) n += line_runs(ctx, i, ctx->runs + n);
    sort_runs(ctx->runs, n, false);
    int64_t price = a->p[0], need[PROG_BUNDLE_MAX_PARTS];
    uint32_t cursor[PROG_BUNDLE_MAX_PARTS], first[PROG_BUNDLE_MAX_PARTS];
    for (uint32_t k = 0; k < parts; k++) {
        need[k] = d->steps[a->steps + k].threshold;
        cursor[k] = 0;
    }
    perk_status st = PERK_OK;
    bool applied = false;
    while (st == PERK_OK) {
        uint32_t ng = 0, n_short = 0, short_part = 0;
        int64_t sum = 0, missing = 0;
        bool single_all = true;
        for (uint32_t k = 0; k < parts; k++) {
            bool single;
            int64_t m = bundle_take(ctx, n, k, need[k], &cursor[k], &ng, &sum, &first[k], &single);
            single_all = single_all && single;
            if (m > 0) {
                n_short++;
                short_part = k;
                missing = m;
            }
        }
        for (uint32_t g = 0; g < ng; g++) ctx->scratch_pos[ctx->group[g].line] = PROG_NONE;
        if (n_short > 0) {
            /* near miss: every part but one filled (the units of this attempt are not used) */
            if (n_short == 1 && !ctx->pend_hint) {
                int64_t name = d->steps[a->steps + short_part].value;
                ctx->pend_hint = true;
                ctx->pend_hint_shortfall = missing;
                ctx->pend_hint_value = price;
                ctx->pend_hint_percent = false;
                ctx->pend_hint_bundle = true;
                ctx->pend_hint_set = name >= 0 && name < (int64_t)d->n_strings ? (uint32_t)name : PROG_NONE;
            }
            break;
        }
        int64_t saving = sum - price;
        if (saving <= 0) { /* the units cost no more than the bundle: no discount (nor later) */
            if (!applied) { /* for the explanation */
                ctx->pend_bundle_cost = sum;
                ctx->pend_bundle_price = price;
            }
            break;
        }
        applied = true;
        /* the instance repeats while every run it used holds its units again */
        int64_t times = 1;
        if (single_all) {
            int64_t more = INT64_MAX;
            for (uint32_t k = 0; k < parts; k++) {
                int64_t per = 0;
                for (uint32_t j = 0; j < parts; j++)
                    if (first[j] == first[k]) per += need[j];
                int64_t fit = ctx->runs[first[k]].count / per;
                if (fit < more) more = fit;
            }
            for (uint32_t k = 0; k < parts; k++) ctx->runs[first[k]].count -= more * need[k];
            times += more;
        }
        sort_group_by_line(ctx->group, ng); /* ties of the largest remainder go to the earlier line */
        for (uint32_t g = 0; g < ng; g++) ctx->scratch_w[g] = ctx->group[g].price;
        if (!eval_allocate(ctx, saving, ctx->scratch_w, ng, ctx->scratch_out)) {
            st = ctx_fail(ctx, PERK_MALFORMED, "internal error: allocation failed");
            break;
        }
        /* out <= the line's weight in one instance, and `times` instances use distinct units */
        for (uint32_t g = 0; g < ng; g++) ctx->scratch_line[ctx->group[g].line] += ctx->scratch_out[g] * times;
    }
    for (uint32_t i = 0; i < ctx->n_lines; i++) {
        if (ctx->bundle_mask[i] == 0) continue;
        ctx->bundle_mask[i] = 0;
        if (st == PERK_OK) add_pend(ctx, i, ctx->scratch_line[i]);
        ctx->scratch_line[i] = 0;
    }
    return st;
}

static perk_status add_gift(perk_context *ctx, const prog_action *a)
{
    uint32_t k = ctx->res.n_gifts + ctx->pend_gifts;
    if (k >= ctx->max_gifts) return ctx_fail(ctx, PERK_LIMIT, "too many gifts");
    const prog_data *d = ctx->d;
    perk_gift *g = &ctx->r_gifts[k];
    g->promotion = ctx->rule_index;
    g->sku = a->str1 < d->n_strings ? prog_string(d, a->str1) : "";
    g->name = a->str2 < d->n_strings ? prog_string(d, a->str2) : NULL;
    g->quantity = a->p[0] < 1 ? 1 : a->p[0];
    ctx->pend_gifts++;
    return PERK_OK;
}

/* 满500返50券: the evaluation only reports the reward; the store issues the code at commit. */
static perk_status add_reward(perk_context *ctx, const prog_action *a)
{
    uint32_t k = ctx->res.n_reward_coupons + ctx->pend_rewards;
    if (k >= ctx->max_rewards) return ctx_fail(ctx, PERK_LIMIT, "too many reward coupons");
    const prog_data *d = ctx->d;
    perk_reward_coupon *r = &ctx->r_rewards[k];
    r->promotion = ctx->rule_index;
    r->campaign = a->str1 < d->n_strings ? prog_string(d, a->str1) : "";
    r->valid_seconds = a->p[0];
    r->valid_from = a->p[1];
    r->expires_at = a->p[2];
    ctx->pend_rewards++;
    return PERK_OK;
}

static perk_status add_effect(perk_context *ctx, const prog_action *a)
{
    uint32_t k = ctx->res.n_effects + ctx->pend_effects;
    if (k >= ctx->max_effects) return ctx_fail(ctx, PERK_LIMIT, "too many effects");
    const prog_data *d = ctx->d;
    perk_effect *e = &ctx->r_effects[k];
    e->promotion = ctx->rule_index;
    e->kind = a->str1 < d->n_strings ? prog_string(d, a->str1) : "";
    e->payload = a->str2 < d->n_strings ? prog_string(d, a->str2) : "";
    ctx->pend_effects++;
    return PERK_OK;
}

perk_status act_apply(perk_context *ctx, uint32_t action, const uint64_t *set, const uint64_t *set2)
{
    const prog_data *d = ctx->d;
    const prog_action *a = &d->actions[action];
    if (a->n_steps > 0 && (a->steps > d->n_steps || a->n_steps > d->n_steps - a->steps))
        return ctx_fail(ctx, PERK_MALFORMED, "action %u: steps out of range", action);
    const prog_action_info *info = prog_action_info_of(a->kind);
    bool two = info != NULL && info->sets == 2;
    if (two != (set2 != NULL))
        return ctx_fail(ctx, PERK_MALFORMED, "action %u: APPLY2 is for buy-get actions only", action);
    int64_t total = 0, D = 0;
    perk_status st = PERK_OK;
    switch ((prog_action_kind)a->kind) {
    case PROG_ACT_PERCENT_OFF: {
        uint32_t n = gather(ctx, set, &total);
        if ((st = percent_of(ctx, total, a->p[0], &D)) != PERK_OK) return st;
        return allocate_gathered(ctx, clamp(D, 0, total), n);
    }
    case PROG_ACT_AMOUNT_OFF: {
        uint32_t n = gather(ctx, set, &total);
        return allocate_gathered(ctx, clamp(a->p[0], 0, total), n);
    }
    case PROG_ACT_AMOUNT_OFF_EACH:
    case PROG_ACT_FIXED_PRICE:
    case PROG_ACT_QTY_PRICE: {
        uint32_t n = gather(ctx, set, &total);
        for (uint32_t k = 0; k < n; k++) {
            uint32_t i = ctx->scratch_idx[k];
            int64_t avail = ctx->scratch_w[k], qty = ctx->qty[i];
            __int128 d128;
            if (a->kind == PROG_ACT_AMOUNT_OFF_EACH) {
                d128 = (__int128)(a->p[0] < 0 ? 0 : a->p[0]) * qty;
            } else {
                int64_t unit = a->p[0];
                if (a->kind == PROG_ACT_QTY_PRICE) {
                    const prog_step *s = find_step(d, a, qty);
                    if (s == NULL) continue;
                    unit = s->value;
                }
                d128 = (__int128)avail - (__int128)(unit < 0 ? 0 : unit) * qty;
            }
            add_pend(ctx, i, clamp128(d128, 0, avail));
        }
        return PERK_OK;
    }
    case PROG_ACT_TIERS: {
        uint32_t n = gather(ctx, set, &total);
        const prog_step *s = find_step(d, a, measure(ctx, n));
        if (s == NULL) return PERK_OK;
        if (s->is_percent) {
            if ((st = percent_of(ctx, total, s->value, &D)) != PERK_OK) return st;
        } else {
            D = s->value;
        }
        return allocate_gathered(ctx, clamp(D, 0, total), n);
    }
    case PROG_ACT_EVERY: {
        if (a->p[0] < 1) return PERK_OK;
        uint32_t n = gather(ctx, set, &total);
        __int128 d128 = (__int128)(measure(ctx, n) / a->p[0]) * a->p[1];
        if (a->p[2] >= 0 && d128 > a->p[2]) d128 = a->p[2];
        return allocate_gathered(ctx, clamp128(d128, 0, total), n);
    }
    case PROG_ACT_BUY_GET: return act_buy_get(ctx, a, set, set2);
    case PROG_ACT_N_FOR: return act_n_for(ctx, a, set);
    case PROG_ACT_GIFT: return add_gift(ctx, a);
    case PROG_ACT_FREE_SHIPPING: ctx->pend_ship = ctx->ship_cur; return PERK_OK;
    case PROG_ACT_SHIPPING_OFF: {
        int64_t avail = ctx->ship_cur - ctx->pend_ship;
        if (a->p[1] >= 0) {
            if ((st = percent_of(ctx, avail, a->p[1], &D)) != PERK_OK) return st;
        } else {
            D = a->p[0];
        }
        ctx->pend_ship += clamp(D, 0, avail);
        return PERK_OK;
    }
    case PROG_ACT_EFFECT: return add_effect(ctx, a);
    case PROG_ACT_REWARD_COUPON: return add_reward(ctx, a);
    case PROG_ACT_MOST_EXPENSIVE: return act_most_expensive(ctx, a, set);
    case PROG_ACT_COUNT_TIERS: {
        uint32_t n = gather(ctx, set, &total);
        int64_t units = 0;
        for (uint32_t k = 0; k < n; k++) units += ctx->qty[ctx->scratch_idx[k]]; /* <= items: fits */
        const prog_step *s = find_step(d, a, units);
        /* the next row up, for a near-miss hint: only when the set has a unit (an empty set is
         * decided by the promotion's guard, which gives no hint either) */
        for (uint32_t k = 0; units > 0 && !ctx->pend_hint && k < a->n_steps; k++) {
            const prog_step *nx = &d->steps[a->steps + k];
            if (nx->threshold <= units) continue;
            ctx->pend_hint = true;
            ctx->pend_hint_shortfall = nx->threshold - units;
            ctx->pend_hint_value = nx->value;
            ctx->pend_hint_percent = nx->is_percent;
            ctx->pend_hint_set = a->str1;
            break;
        }
        if (s == NULL) return PERK_OK;
        if (s->is_percent) {
            if ((st = percent_of(ctx, total, s->value, &D)) != PERK_OK) return st;
        } else {
            D = s->value;
        }
        return allocate_gathered(ctx, clamp(D, 0, total), n);
    }
    case PROG_ACT_BUY_GET_SKU: return act_buy_get_sku(ctx, a, set);
    case PROG_ACT_TIERS_STORE:
    case PROG_ACT_EVERY_STORE: return act_per_store(ctx, a, set);
    case PROG_ACT_BUNDLE: return act_bundle(ctx, action, a, set);
    case PROG_ACT_COUNT: break;
    }
    return ctx_fail(ctx, PERK_MALFORMED, "action %u: unknown kind %u", action, a->kind);
}

/* ------------------------------------------------------------------ cap and budget */

int64_t act_pending_goods(const perk_context *ctx)
{
    int64_t sum = 0;
    uint32_t words = vm_words(ctx);
    for (uint32_t w = 0; w < words; w++) {
        uint64_t bits = ctx->touched[w];
        while (bits != 0) {
            sum += ctx->pend[w * 64 + (uint32_t)__builtin_ctzll(bits)];
            bits &= bits - 1;
        }
    }
    return sum;
}

perk_status act_limit(perk_context *ctx, int64_t limit)
{
    int64_t goods = act_pending_goods(ctx);
    __int128 excess = (__int128)goods + ctx->pend_ship - limit;
    if (excess <= 0) return PERK_OK;
    /* shipping gives way first */
    int64_t from_ship = excess < ctx->pend_ship ? (int64_t)excess : ctx->pend_ship;
    ctx->pend_ship -= from_ship;
    excess -= from_ship;
    if (excess <= 0) return PERK_OK;
    int64_t target = goods - (int64_t)excess; /* >= 0 since limit >= 0 */
    /* re-allocate the reduced discount in proportion to what each line would have had */
    uint32_t n = 0, words = vm_words(ctx);
    for (uint32_t w = 0; w < words; w++) {
        uint64_t bits = ctx->touched[w];
        while (bits != 0) {
            uint32_t i = w * 64 + (uint32_t)__builtin_ctzll(bits);
            bits &= bits - 1;
            ctx->scratch_idx[n] = i;
            ctx->scratch_w[n++] = ctx->pend[i];
        }
    }
    if (!eval_allocate(ctx, target, ctx->scratch_w, n, ctx->scratch_out))
        return ctx_fail(ctx, PERK_MALFORMED, "internal error: allocation failed");
    for (uint32_t k = 0; k < n; k++) ctx->pend[ctx->scratch_idx[k]] = ctx->scratch_out[k];
    return PERK_OK;
}

void act_limit_units(perk_context *ctx, int64_t allowance, int64_t *units)
{
    /* lines in cart order: each gives its units while the allowance lasts; a line cut short keeps
     * its discount for the units that got the price, rounded half up */
    int64_t left = allowance > 0 ? allowance : 0;
    *units = 0;
    uint32_t words = vm_words(ctx);
    for (uint32_t w = 0; w < words; w++) {
        uint64_t bits = ctx->touched[w];
        while (bits != 0) {
            uint32_t i = w * 64 + (uint32_t)__builtin_ctzll(bits);
            bits &= bits - 1;
            int64_t q = ctx->qty[i];
            if (ctx->pend[i] <= 0 || q <= 0) continue;
            int64_t k = q < left ? q : left;
            if (k < q)
                ctx->pend[i] = (int64_t)(((__int128)ctx->pend[i] * k * 2 + q) / ((__int128)q * 2));
            left -= k;
            *units += k;
        }
    }
}

void act_discard(perk_context *ctx)
{
    uint32_t words = vm_words(ctx);
    for (uint32_t w = 0; w < words; w++) {
        uint64_t bits = ctx->touched[w];
        while (bits != 0) {
            ctx->pend[w * 64 + (uint32_t)__builtin_ctzll(bits)] = 0;
            bits &= bits - 1;
        }
        ctx->touched[w] = 0;
    }
    ctx->pend_ship = 0;
    ctx->pend_gifts = 0;
    ctx->pend_effects = 0;
    ctx->pend_rewards = 0;
    ctx->pend_hint = false;
    ctx->pend_hint_bundle = false;
    ctx->pend_hint_store = false;
    ctx->pend_bundle_cost = ctx->pend_bundle_price = 0;
}
