/* context.c - evaluation contexts and the cart API.
 *
 * perk_context_new() allocates what the program needs (per promotion, per string), sized from a
 * scan of the program (how many gifts, effects, points results and discount allocations it can
 * produce), and per-line arrays for a few lines only. perk_cart_add_line() grows the per-line
 * arrays and the cart index (ctx_grow_lines, cidx_add_line) when a cart is larger than any
 * before, up to the limits: a context's memory follows the largest cart it has seen, not
 * max_lines, and evaluation finds everything allocated (docs/api.md, "Memory").
 * The perk_cart_* functions validate each input with a precise message and intern
 * every string through the program's string hash, so that perk_evaluate() compares integers only.
 * A cart with a rejected input is poisoned: perk_evaluate() then returns the first error instead
 * of evaluating a cart that silently lacks a line or a coupon.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "vm_internal.h"

/* Most rules whose allocations the log is sized for without a possible PERK_LIMIT. */
#define CTX_ALLOC_RULES 64
/* Lines a new context holds before its first cart; the capacity then grows by half. */
#define CTX_FIRST_LINES 8u
/* Promotions a new context can mark (exclusions, usages) before the marks grow by half. */
#define CTX_FIRST_MARKS 8u
/* Sanity ceilings on the limits a service may configure. */
#define CTX_MAX_LINES_CEILING 1000000u
#define CTX_MAX_TAGS_CEILING 4096u
#define CTX_MAX_COUPONS_CEILING 4096u
/* Order times accepted: years 0001 to 9999. */
#define CTX_TIME_MIN (-62135596800LL)
#define CTX_TIME_MAX 253402300799LL

perk_limits perk_limits_default(void)
{
    perk_limits l;
    l.max_lines = 10000;
    l.max_quantity = 1000000;
    l.max_money = 1000000000000000LL; /* 10^15 minor units */
    l.max_tags = 64;
    l.max_coupons = 16;
    l.instruction_budget = 10000000;
    l.max_rules = 20000;
    l.max_hints = 16;
    l.explain = PERK_EXPLAIN_ALL;
    return l;
}

perk_status ctx_fail(perk_context *ctx, perk_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->error, sizeof ctx->error, fmt, ap);
    va_end(ap);
    return status;
}

const char *ctx_rule_name(const perk_context *ctx, uint32_t rule)
{
    if (rule >= ctx->d->n_rules) return "?";
    return prog_string(ctx->d, ctx->d->rules[rule].id);
}

const char *perk_context_error(const perk_context *ctx)
{
    if (ctx == NULL) return "no context";
    return ctx->error;
}

static void set_error(perk_error *err, perk_status status, const char *msg)
{
    if (err == NULL) return;
    err->status = status;
    snprintf(err->message, sizeof err->message, "%s", msg);
}

/* ------------------------------------------------------------------ sizing from the program */

typedef struct prog_counts {
    uint32_t gifts, effects, points, discount_rules, rewards;
} prog_counts;

static bool action_discounts_goods(uint8_t kind)
{
    const prog_action_info *info = prog_action_info_of(kind);
    return info != NULL && info->goods;
}

/* Each instruction of a block runs at most once (jumps go forward), so counting APPLY and EARN
 * instructions bounds the gifts, effects and points results an evaluation can produce. */
static void count_block(const prog_data *d, prog_block b, prog_counts *c, bool *discounts)
{
    for (uint32_t i = 0; i < b.count; i++) {
        const prog_insn *in = &d->code[b.start + i];
        if ((in->op == PERK_OP_APPLY || in->op == PERK_OP_APPLY2) && in->arg < d->n_actions) {
            uint8_t kind = d->actions[in->arg].kind;
            if (kind == PROG_ACT_GIFT) c->gifts++;
            if (kind == PROG_ACT_EFFECT) c->effects++;
            if (kind == PROG_ACT_REWARD_COUPON) c->rewards++;
            if (action_discounts_goods(kind)) *discounts = true;
        } else if (in->op == PERK_OP_EARN) {
            c->points++;
        }
    }
}

static prog_counts count_program(const prog_data *d)
{
    prog_counts c = { 0, 0, 0, 0, 0 };
    for (uint32_t r = 0; r < d->n_rules; r++) {
        bool discounts = false;
        count_block(d, d->rules[r].code, &c, &discounts);
        if (discounts) c.discount_rules++;
    }
    bool unused = false;
    for (uint32_t e = 0; e < d->n_earns; e++) count_block(d, d->earns[e].code, &c, &unused);
    return c;
}

/* ------------------------------------------------------------------ creation */

void perk_context_free(perk_context *ctx)
{
    if (ctx == NULL) return;
    cidx_free(ctx);
    void *arrays[] = {
        ctx->price,
        ctx->qty,
        ctx->orig,
        ctx->cur,
        ctx->margin,
        ctx->sku_id,
        ctx->sku_hash,
        ctx->sku_off,
        ctx->sku_text,
        ctx->brand_id,
        ctx->cat_id,
        ctx->customer_tags,
        ctx->customer_tag_bits,
        ctx->coupon_code,
        ctx->coupon_code_id,
        ctx->coupon_campaign_id,
        ctx->coupon_status,
        ctx->coupon_code_bits,
        ctx->coupon_campaign_bits,
        ctx->mark_of,
        ctx->marks,
        ctx->visit,
        ctx->written,
        ctx->group_bits,
        ctx->pend,
        ctx->touched,
        ctx->stack,
        ctx->sets,
        ctx->all_lines,
        ctx->consumed,
        ctx->live,
        ctx->used,
        ctx->store_id,
        ctx->store_hash,
        ctx->store_off,
        ctx->order_attr_key,
        ctx->order_attr_value,
        ctx->scratch_idx,
        ctx->scratch_w,
        ctx->scratch_out,
        ctx->scratch_alloc,
        ctx->scratch_rem,
        ctx->scratch_line,
        ctx->runs,
        ctx->group,
        ctx->scratch_pos,
        ctx->bundle_mask,
        ctx->mult_active,
        ctx->redeemed,
        ctx->r_lines,
        ctx->alloc_log,
        ctx->alloc_target,
        ctx->no_lines,
        ctx->r_promos,
        ctx->r_gifts,
        ctx->r_effects,
        ctx->r_rewards,
        ctx->r_coupons,
        ctx->r_points,
        ctx->r_hints,
        ctx->r_hint_next,
        ctx->r_hint_store,
        ctx->r_units,
        ctx->r_extra,
        ctx->best_done,
        ctx->own_defaults,
        ctx->one_coupon,
    };
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++) perk_mem_free(arrays[i]);
    if (ctx->program != NULL) perk_program_free(ctx->program);
    perk_mem_free(ctx);
}

/* n * size bytes, zeroed; at least one element so that every pointer is valid. */
static void *ctx_array(size_t n, size_t size, bool *ok)
{
    void *p = perk_mem_calloc(n == 0 ? 1 : n, size);
    if (p == NULL) *ok = false;
    return p;
}

static bool check_limits(const perk_limits *l, char *msg, size_t len)
{
    if (l->max_lines < 1 || l->max_lines > CTX_MAX_LINES_CEILING) {
        snprintf(msg, len, "limits: max_lines %u must be between 1 and %u", l->max_lines,
                 CTX_MAX_LINES_CEILING);
        return false;
    }
    if (l->max_quantity < 1) {
        snprintf(msg, len, "limits: max_quantity %lld must be at least 1", (long long)l->max_quantity);
        return false;
    }
    if (l->max_money < 0) {
        snprintf(msg, len, "limits: max_money %lld must not be negative", (long long)l->max_money);
        return false;
    }
    if (l->max_tags > CTX_MAX_TAGS_CEILING) {
        snprintf(msg, len, "limits: max_tags %u must be at most %u", l->max_tags, CTX_MAX_TAGS_CEILING);
        return false;
    }
    if (l->max_coupons > CTX_MAX_COUPONS_CEILING) {
        snprintf(msg, len, "limits: max_coupons %u must be at most %u", l->max_coupons,
                 CTX_MAX_COUPONS_CEILING);
        return false;
    }
    if (l->instruction_budget < 1) {
        snprintf(msg, len, "limits: instruction_budget must be at least 1");
        return false;
    }
    if (l->max_rules < 1) {
        snprintf(msg, len, "limits: max_rules must be at least 1");
        return false;
    }
    if (l->explain != PERK_EXPLAIN_ALL && l->explain != PERK_EXPLAIN_APPLIED) {
        snprintf(msg, len, "limits: explain %d must be PERK_EXPLAIN_ALL or PERK_EXPLAIN_APPLIED",
                 (int)l->explain);
        return false;
    }
    return true;
}

perk_context *perk_context_new(perk_program *program, const perk_limits *limits, perk_error *err)
{
    char msg[256];
    if (program == NULL) {
        set_error(err, PERK_INVALID, "perk_context_new: program is NULL");
        return NULL;
    }
    perk_limits l = limits != NULL ? *limits : perk_limits_default();
    if (!check_limits(&l, msg, sizeof msg)) {
        set_error(err, PERK_INVALID, msg);
        return NULL;
    }
    /* Context memory grows with the number of rules: refuse a program beyond the limit before
     * allocating anything for it. */
    uint64_t rules = (uint64_t)program->d.n_rules + program->d.n_earns + program->d.n_mults;
    if (rules > l.max_rules) {
        snprintf(msg, sizeof msg,
                 "perk_context_new: the program has %llu rules (promotions, earn rules and multipliers), "
                 "more than max_rules = %u",
                 (unsigned long long)rules, l.max_rules);
        set_error(err, PERK_LIMIT, msg);
        return NULL;
    }
    perk_context *ctx = perk_mem_calloc(1, sizeof *ctx);
    if (ctx == NULL) {
        set_error(err, PERK_NOMEM, "perk_context_new: out of memory");
        return NULL;
    }
    ctx->program = perk_program_retain(program);
    const prog_data *d = &program->d;
    ctx->d = d;
    ctx->limits = l;
    ctx->zone.count = d->n_tz;
    ctx->zone.at = d->tz_at;
    ctx->zone.offset = d->tz_offset;
    ctx->zone.base_offset = d->tz_base_offset;

    prog_counts c = count_program(d);
    size_t lines = l.max_lines < CTX_FIRST_LINES ? l.max_lines : CTX_FIRST_LINES;
    ctx->cap_lines = (uint32_t)lines;
    ctx->max_words = (uint32_t)((lines + 63) / 64);
    ctx->max_scalars = d->max_scalars + 1;
    ctx->max_sets = d->max_sets + 1;
    ctx->max_gifts = c.gifts;
    ctx->max_effects = c.effects;
    ctx->max_rewards = c.rewards;
    ctx->max_points = c.points;
    ctx->str_words = (d->n_strings + 63) / 64;
    for (uint32_t r = 0; r < d->n_rules; r++)
        if (d->rules[r].group < d->n_strings && d->rules[r].group / 64 + 1 > ctx->group_words)
            ctx->group_words = d->rules[r].group / 64 + 1;
    ctx->alloc_rules = c.discount_rules < CTX_ALLOC_RULES ? c.discount_rules : CTX_ALLOC_RULES;
    ctx->max_allocs = l.max_lines * ctx->alloc_rules;
    ctx->log_cap = (uint32_t)lines * ctx->alloc_rules;

    bool ok = cidx_init(ctx);
    size_t w = ctx->max_words, sw = ctx->str_words;
    size_t tags = l.max_tags, coupons = l.max_coupons;
    ctx->price = ctx_array(lines, sizeof(int64_t), &ok);
    ctx->qty = ctx_array(lines, sizeof(int64_t), &ok);
    ctx->orig = ctx_array(lines, sizeof(int64_t), &ok);
    ctx->cur = ctx_array(lines, sizeof(int64_t), &ok);
    ctx->margin = ctx_array(lines, sizeof(int64_t), &ok);
    ctx->sku_id = ctx_array(lines, sizeof(uint32_t), &ok);
    ctx->sku_hash = ctx_array(lines, sizeof(uint64_t), &ok);
    ctx->sku_off = ctx_array(lines, sizeof(uint32_t), &ok);
    ctx->sku_text_cap = lines * 24; /* room for SKUs of 23 bytes on average before it grows */
    ctx->sku_text = ctx_array(ctx->sku_text_cap, 1, &ok);
    ctx->brand_id = ctx_array(lines, sizeof(uint32_t), &ok);
    ctx->cat_id = ctx_array(lines, sizeof(uint32_t), &ok);
    ctx->store_id = ctx_array(lines, sizeof(uint32_t), &ok);
    ctx->store_hash = ctx_array(lines, sizeof(uint64_t), &ok);
    ctx->store_off = ctx_array(lines, sizeof(uint32_t), &ok);
    ctx->order_attr_key = ctx_array(tags, sizeof(uint32_t), &ok);
    ctx->order_attr_value = ctx_array(tags, sizeof(uint32_t), &ok);
    ctx->customer_tags = ctx_array(tags, sizeof(uint32_t), &ok);
    ctx->customer_tag_bits = ctx_array(sw, sizeof(uint64_t), &ok);
    ctx->coupon_code = ctx_array(coupons, sizeof(const char *), &ok);
    ctx->coupon_code_id = ctx_array(coupons, sizeof(uint32_t), &ok);
    ctx->coupon_campaign_id = ctx_array(coupons, sizeof(uint32_t), &ok);
    ctx->coupon_status = ctx_array(coupons, sizeof(perk_coupon_status), &ok);
    ctx->coupon_code_bits = ctx_array(sw, sizeof(uint64_t), &ok);
    ctx->coupon_campaign_bits = ctx_array(sw, sizeof(uint64_t), &ok);
    ctx->mark_of = ctx_array(d->n_rules, sizeof(uint32_t), &ok);
    ctx->mark_cap = CTX_FIRST_MARKS;
    ctx->marks = ctx_array(ctx->mark_cap, sizeof(ctx_mark), &ok);
    ctx->rule_words = program->ridx.rule_words;
    ctx->no_lines = ctx_array(w, sizeof(uint64_t), &ok);
    ctx->visit = ctx_array(ctx->rule_words, sizeof(uint64_t), &ok);
    ctx->written = ctx_array(2 * (size_t)d->n_rules, sizeof(uint32_t), &ok); /* evaluate.c: visit_key */
    ctx->group_bits = ctx_array(ctx->group_words, sizeof(uint64_t), &ok);
    ctx->pend = ctx_array(lines, sizeof(int64_t), &ok);
    ctx->touched = ctx_array(w, sizeof(uint64_t), &ok);
    ctx->stack = ctx_array(ctx->max_scalars, sizeof(int64_t), &ok);
    ctx->sets = ctx_array((size_t)ctx->max_sets * w, sizeof(uint64_t), &ok);
    ctx->all_lines = ctx_array(w, sizeof(uint64_t), &ok);
    ctx->consumed = ctx_array(w, sizeof(uint64_t), &ok);
    ctx->live = ctx_array(w, sizeof(uint64_t), &ok);
    ctx->used = ctx_array(w, sizeof(uint64_t), &ok);
    ctx->scratch_idx = ctx_array(lines, sizeof(uint32_t), &ok);
    ctx->scratch_w = ctx_array(lines, sizeof(int64_t), &ok);
    ctx->scratch_out = ctx_array(lines, sizeof(int64_t), &ok);
    ctx->scratch_alloc = ctx_array(lines, sizeof(uint32_t), &ok);
    ctx->scratch_rem = ctx_array(lines, sizeof(int64_t), &ok);
    ctx->scratch_line = ctx_array(lines, sizeof(int64_t), &ok);
    ctx->runs = ctx_array(2 * lines, sizeof(unit_run), &ok);
    ctx->group = ctx_array(lines, sizeof(unit_run), &ok);
    ctx->scratch_pos = ctx_array(lines, sizeof(uint32_t), &ok);
    ctx->bundle_mask = ctx_array(lines, sizeof(uint16_t), &ok);
    ctx->mult_active = ctx_array(d->n_mults, sizeof(bool), &ok);
    ctx->redeemed = ctx_array(lines, sizeof(int64_t), &ok);
    ctx->r_lines = ctx_array(lines + ctx->max_gifts, sizeof(perk_line_result), &ok);
    ctx->alloc_log = ctx_array(ctx->log_cap, sizeof(perk_allocation), &ok);
    ctx->alloc_target = ctx_array(ctx->log_cap, sizeof(uint32_t), &ok);
    ctx->r_promos = ctx_array(d->n_rules, sizeof(perk_promotion_result), &ok);
    ctx->r_gifts = ctx_array(ctx->max_gifts, sizeof(perk_gift), &ok);
    ctx->r_effects = ctx_array(ctx->max_effects, sizeof(perk_effect), &ok);
    ctx->r_rewards = ctx_array(ctx->max_rewards, sizeof(perk_reward_coupon), &ok);
    ctx->r_coupons = ctx_array(coupons, sizeof(perk_coupon_result), &ok);
    ctx->r_points = ctx_array(ctx->max_points, sizeof(perk_points_result), &ok);
    ctx->r_hints = ctx_array(l.max_hints < d->n_rules ? l.max_hints : d->n_rules, sizeof(perk_hint), &ok);
    ctx->r_hint_next = ctx_array(l.max_hints < d->n_rules ? l.max_hints : d->n_rules, sizeof(perk_hint_next), &ok);
    ctx->r_hint_store = ctx_array(l.max_hints < d->n_rules ? l.max_hints : d->n_rules, sizeof(const char *), &ok);
    for (uint32_t r = 0; r < d->n_rules; r++) ctx->n_unit_rules += d->rules[r].limit_units != 0;
    ctx->r_units = ctx_array(ctx->n_unit_rules, sizeof(perk_promotion_units), &ok);
    /* only for a program with a best-deal group or a partial budget: result->promotion_extra is
     * NULL otherwise, and the context no larger than before them */
    if (program->ridx.n_best > 0) {
        ctx->r_extra = ctx_array(d->n_rules, sizeof(perk_promotion_extra), &ok);
        ctx->best_done = ctx_array(ctx->rule_words, sizeof(uint64_t), &ok);
    }
    for (uint32_t r = 0; ok && ctx->r_extra != NULL && r < d->n_rules; r++) {
        ctx->r_extra[r].best_saving = -1;
        ctx->r_extra[r].best_winner = UINT32_MAX;
        ctx->r_extra[r].budget_wanted = ctx->r_extra[r].budget_granted = -1;
    }
    ctx->explain_all = l.explain == PERK_EXPLAIN_ALL;
    ctx->defaults = program->ridx.defaults;
    if (!ctx->explain_all) {
        ctx->own_defaults = ctx_array(d->n_rules, sizeof(perk_promotion_result), &ok);
        ctx->one_coupon = ctx_array(ctx->rule_words, sizeof(uint64_t), &ok);
        for (uint32_t r = 0; ok && r < d->n_rules; r++) {
            ctx->own_defaults[r].promotion = r;
            ctx->own_defaults[r].reason = PERK_REASON_UNEXPLAINED;
            ctx->own_defaults[r].failed_condition = UINT32_MAX;
        }
        ctx->defaults = ctx->own_defaults;
    }
    if (ok) memset(ctx->scratch_pos, 0xff, lines * sizeof(uint32_t)); /* PROG_NONE */
    if (ok) memset(ctx->mark_of, 0xff, d->n_rules * sizeof(uint32_t));
    if (!ok) {
        perk_context_free(ctx);
        set_error(err, PERK_NOMEM, "perk_context_new: out of memory for the configured limits");
        return NULL;
    }
    /* PERK_RULE_INDEX=off runs every promotion's block: for comparing and measuring only (the
     * results are the same either way, docs/semantics.md "The rule index") */
    const char *index_env = getenv("PERK_RULE_INDEX");
    ctx->use_index = true;
    eval_set_rule_index(ctx, index_env == NULL || strcmp(index_env, "off") != 0);
    perk_cart_reset(ctx);
    return ctx;
}

/* ------------------------------------------------------------------ growing */

/* A block of new_size bytes holding the first old_size bytes of p, the rest zeroed; NULL (p
 * unchanged) on out of memory. */
static void *grow_block(void *p, size_t old_size, size_t new_size)
{
    void *q = perk_mem_realloc(p, old_size, new_size);
    if (q != NULL) memset((char *)q + old_size, 0, new_size - old_size);
    return q;
}

/* Grows array `field` of ctx from `from` to `to` elements; clears ok on failure (the old array
 * stays, so every array is always at least cap_lines long). */
#define GROW(field, from, to)                                                                               \
    do {                                                                                                    \
        void *q_ =                                                                                          \
            grow_block(ctx->field, (size_t)(from) * sizeof *ctx->field, (size_t)(to) * sizeof *ctx->field); \
        if (q_ != NULL)                                                                                     \
            ctx->field = q_;                                                                                \
        else                                                                                                \
            ok = false;                                                                                     \
    } while (0)

/* Swaps in a new zeroed array of n elements for `field`, whose contents need not survive (scratch
 * between evaluations); clears ok on failure. */
#define RENEW(field, n)                                                     \
    do {                                                                    \
        void *q_ = perk_mem_calloc((n) == 0 ? 1 : (n), sizeof *ctx->field); \
        if (q_ != NULL) {                                                   \
            perk_mem_free(ctx->field);                                      \
            ctx->field = q_;                                                \
        } else {                                                            \
            ok = false;                                                     \
        }                                                                   \
    } while (0)

/* Makes every per-line array hold at least `need` lines (need <= limits.max_lines), growing by
 * half so that feeding ever larger carts costs O(lines) amortised. Called while a cart is fed,
 * never during an evaluation. The cart's columns and the last result are kept; scratch arrays
 * come back in their between-uses state. False on out of memory, with cap_lines unchanged (some
 * arrays may be larger: harmless). */
static bool ctx_grow_lines(perk_context *ctx, uint32_t need)
{
    uint64_t cap = ctx->cap_lines;
    while (cap < need) cap += cap / 2 + 8;
    if (cap > ctx->limits.max_lines) cap = ctx->limits.max_lines;
    size_t old = ctx->cap_lines, to = (size_t)cap;
    uint32_t words = (uint32_t)((cap + 63) / 64);
    bool ok = true;
    GROW(price, old, to);
    GROW(qty, old, to);
    GROW(orig, old, to);
    GROW(cur, old, to);
    GROW(margin, old, to);
    GROW(sku_id, old, to);
    GROW(sku_hash, old, to);
    GROW(sku_off, old, to);
    GROW(brand_id, old, to);
    GROW(cat_id, old, to);
    GROW(store_id, old, to);
    GROW(store_hash, old, to);
    GROW(store_off, old, to);
    GROW(pend, old, to);
    GROW(scratch_idx, old, to);
    GROW(scratch_w, old, to);
    GROW(scratch_out, old, to);
    GROW(scratch_alloc, old, to);
    GROW(scratch_rem, old, to);
    GROW(scratch_line, old, to);
    GROW(runs, 2 * old, 2 * to);
    GROW(group, old, to);
    GROW(bundle_mask, old, to);
    GROW(redeemed, old, to);
    GROW(r_lines, old + ctx->max_gifts, to + ctx->max_gifts);
    uint32_t *pos = grow_block(ctx->scratch_pos, old * sizeof(uint32_t), to * sizeof(uint32_t));
    if (pos != NULL) {
        memset(pos + old, 0xff, (to - old) * sizeof(uint32_t)); /* PROG_NONE */
        ctx->scratch_pos = pos;
    } else {
        ok = false;
    }
    uint32_t log_cap = (uint32_t)to * ctx->alloc_rules;
    if (log_cap > ctx->log_cap) {
        GROW(alloc_log, ctx->log_cap, log_cap);
        GROW(alloc_target, ctx->log_cap, log_cap);
        if (ok) ctx->log_cap = log_cap;
    }
    if (ok && words != ctx->max_words) {
        /* the bitsets change stride: the index's are re-laid, the others hold nothing now */
        RENEW(sets, (size_t)ctx->max_sets * words);
        RENEW(touched, words);
        RENEW(all_lines, words);
        RENEW(consumed, words);
        RENEW(live, words);
        RENEW(used, words);
        RENEW(no_lines, words);
        if (ok) ok = cidx_set_words(ctx, words);
        if (ok) ctx->max_words = words;
    }
    if (!ok) return false;
    ctx->cap_lines = (uint32_t)to;
    return true;
}

/* ------------------------------------------------------------------ the cart */

static void clear_bits(uint64_t *bits, const uint32_t *ids, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if (ids[i] != PROG_NONE) bits[ids[i] / 64] = 0;
}

static void set_bit(uint64_t *bits, uint32_t id)
{
    if (id != PROG_NONE) bits[id / 64] |= UINT64_C(1) << (id % 64);
}

void perk_cart_reset(perk_context *ctx)
{
    if (ctx == NULL) return;
    cidx_clear(ctx);
    clear_bits(ctx->customer_tag_bits, ctx->customer_tags, ctx->n_customer_tags);
    clear_bits(ctx->coupon_code_bits, ctx->coupon_code_id, ctx->n_coupons);
    clear_bits(ctx->coupon_campaign_bits, ctx->coupon_campaign_id, ctx->n_coupons);
    ctx->n_customer_tags = 0;
    ctx->n_coupons = 0;
    ctx->n_lines = 0;
    ctx->sku_text_len = 0;
    ctx->subtotal_orig = 0;
    ctx->items = 0;
    ctx->cart_status = PERK_OK;
    ctx->have_order = false;

    /* a guest, of whom nothing is known: no id, tier, birthday, membership, orders, points */
    ctx->customer_sid = PROG_NONE;
    ctx->customer_known = false;
    ctx->tier_index = -1;
    ctx->birthday_month = ctx->birthday_day = ctx->birthday_year = 0;
    ctx->member_since = PERK_UNKNOWN;
    ctx->order_count = PERK_UNKNOWN;
    ctx->points_balance = PERK_UNKNOWN;
    ctx->first_order = PERK_UNKNOWN;

    ctx->order_time = 0;
    ctx->shipping = 0;
    ctx->delivery = 0;
    ctx->points_to_redeem = 0;
    ctx->channel_sid = ctx->subscription_sid = PROG_NONE;
    ctx->channel_known = false;
    ctx->region_sid = PROG_NONE;
    ctx->region_known = false;
    ctx->n_order_attrs = 0;

    /* only the promotions the last cart excluded or gave a usage: O(those), not O(promotions) */
    for (uint32_t k = 0; k < ctx->n_marked; k++) ctx->mark_of[ctx->marks[k].rule] = PROG_NONE;
    ctx->n_marked = 0;
    memset(&ctx->res, 0, sizeof ctx->res);
    ctx->res.status = PERK_STATE;
    ctx->error[0] = '\0';
}

/* Common entry check: a poisoned cart keeps its first error. */
static perk_status cart_enter(perk_context *ctx)
{
    if (ctx->cart_status != PERK_OK) return ctx->cart_status;
    return PERK_OK;
}

static perk_status cart_reject(perk_context *ctx, perk_status status)
{
    ctx->cart_status = status;
    return status;
}

#define CART_FAIL(ctx, status, ...) cart_reject((ctx), ctx_fail((ctx), (status), __VA_ARGS__))

static uint32_t intern(const perk_context *ctx, const char *s)
{
    if (s == NULL) return PROG_NONE;
    return prog_find_string(ctx->program, s, strlen(s));
}

static bool days_in_month_ok(int month, int day, int year)
{
    static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (month < 1 || month > 12 || day < 1 || day > mdays[month - 1]) return false;
    if (month == 2 && day == 29 && year != 0) {
        bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        return leap;
    }
    return true;
}

perk_status perk_cart_set_customer(perk_context *ctx, const perk_customer *c)
{
    if (ctx == NULL) return PERK_INVALID;
    perk_status st = cart_enter(ctx);
    if (st != PERK_OK) return st;
    if (c == NULL) return CART_FAIL(ctx, PERK_INVALID, "customer: NULL");
    if (c->n_tags > ctx->limits.max_tags)
        return CART_FAIL(ctx, PERK_LIMIT, "customer: %zu tags, at most %u allowed", c->n_tags,
                         ctx->limits.max_tags);
    if (c->n_tags > 0 && c->tags == NULL)
        return CART_FAIL(ctx, PERK_INVALID, "customer: n_tags is %zu but tags is NULL", c->n_tags);
    for (size_t i = 0; i < c->n_tags; i++)
        if (c->tags[i] == NULL) return CART_FAIL(ctx, PERK_INVALID, "customer: tag %zu is NULL", i + 1);
    bool month_known = c->birthday_month != 0, day_known = c->birthday_day != 0;
    if (month_known != day_known)
        return CART_FAIL(ctx, PERK_INVALID,
                         "customer: birthday month %d and day %d must both be set or both 0",
                         c->birthday_month, c->birthday_day);
    if (c->birthday_year < 0 || c->birthday_year > 9999)
        return CART_FAIL(ctx, PERK_INVALID, "customer: birthday year %d must be 0 (unknown) or 1..9999",
                         c->birthday_year);
    if (month_known && !days_in_month_ok(c->birthday_month, c->birthday_day, c->birthday_year))
        return CART_FAIL(ctx, PERK_INVALID, "customer: birthday %04d-%02d-%02d is not a date",
                         c->birthday_year, c->birthday_month, c->birthday_day);
    if (c->has_member_since && (c->member_since_days < 0 || c->member_since_days > 2932896))
        return CART_FAIL(ctx, PERK_INVALID,
                         "customer: member_since_days %lld must be a day from 1970-01-01 to 9999-12-31",
                         (long long)c->member_since_days);
    if (c->has_order_count && c->order_count < 0)
        return CART_FAIL(ctx, PERK_INVALID, "customer: order_count %lld must not be negative",
                         (long long)c->order_count);
    if (c->has_points_balance && c->points_balance < 0)
        return CART_FAIL(ctx, PERK_INVALID, "customer: points_balance %lld must not be negative",
                         (long long)c->points_balance);

    clear_bits(ctx->customer_tag_bits, ctx->customer_tags, ctx->n_customer_tags);
    ctx->n_customer_tags = 0;
    for (size_t i = 0; i < c->n_tags; i++) {
        uint32_t id = intern(ctx, c->tags[i]);
        if (id == PROG_NONE) continue; /* no rule mentions it */
        ctx->customer_tags[ctx->n_customer_tags++] = id;
        set_bit(ctx->customer_tag_bits, id);
    }
    ctx->customer_sid = intern(ctx, c->id);
    ctx->customer_known = c->id != NULL;
    ctx->tier_index = -1;
    uint32_t tier = intern(ctx, c->tier);
    if (tier != PROG_NONE) {
        for (uint32_t t = 0; t < ctx->d->n_tiers; t++)
            if (ctx->d->tiers[t].id == tier) {
                ctx->tier_index = (int32_t)t;
                break;
            }
    }
    ctx->birthday_month = c->birthday_month;
    ctx->birthday_day = c->birthday_day;
    ctx->birthday_year = c->birthday_year;
    /* a field whose presence flag is false stays unknown: a zeroed perk_customer knows nothing */
    ctx->member_since = c->has_member_since ? c->member_since_days : PERK_UNKNOWN;
    ctx->first_order = c->has_first_order ? (int64_t)c->first_order : PERK_UNKNOWN;
    ctx->order_count = c->has_order_count ? c->order_count : PERK_UNKNOWN;
    ctx->points_balance = c->has_points_balance ? c->points_balance : PERK_UNKNOWN;
    return PERK_OK;
}

perk_status perk_cart_set_order(perk_context *ctx, const perk_order *o)
{
    if (ctx == NULL) return PERK_INVALID;
    perk_status st = cart_enter(ctx);
    if (st != PERK_OK) return st;
    if (o == NULL) return CART_FAIL(ctx, PERK_INVALID, "order: NULL");
    if (o->currency != NULL && strcmp(o->currency, ctx->d->currency) != 0)
        return CART_FAIL(ctx, PERK_CURRENCY, "order: currency %.16s does not match the program's %s",
                         o->currency, ctx->d->currency);
    if (o->time < CTX_TIME_MIN || o->time > CTX_TIME_MAX)
        return CART_FAIL(ctx, PERK_INVALID, "order: time %lld is outside years 0001..9999",
                         (long long)o->time);
    if (o->shipping < 0 || o->shipping > ctx->limits.max_money)
        return CART_FAIL(ctx, PERK_INVALID, "order: shipping %lld must be between 0 and %lld",
                         (long long)o->shipping, (long long)ctx->limits.max_money);
    if (o->delivery_number < 0)
        return CART_FAIL(ctx, PERK_INVALID, "order: delivery_number %lld must not be negative",
                         (long long)o->delivery_number);
    if (o->n_attrs > ctx->limits.max_tags)
        return CART_FAIL(ctx, PERK_LIMIT, "order: %zu attributes, at most %u allowed", o->n_attrs,
                         ctx->limits.max_tags);
    if (o->n_attrs > 0 && o->attrs == NULL)
        return CART_FAIL(ctx, PERK_INVALID, "order: n_attrs is %zu but attrs is NULL", o->n_attrs);
    for (size_t i = 0; i < o->n_attrs; i++)
        if (o->attrs[i].key == NULL || o->attrs[i].value == NULL)
            return CART_FAIL(ctx, PERK_INVALID, "order: attribute %zu has a NULL key or value", i + 1);
    if (o->points_to_redeem < -1)
        return CART_FAIL(ctx, PERK_INVALID,
                         "order: points_to_redeem %lld must be -1 (as many as allowed) or >= 0",
                         (long long)o->points_to_redeem);
    ctx->order_time = o->time;
    ctx->shipping = o->shipping;
    ctx->delivery = o->delivery_number;
    ctx->points_to_redeem = o->points_to_redeem;
    ctx->channel_sid = intern(ctx, o->channel);
    ctx->channel_known = o->channel != NULL;
    ctx->subscription_sid = intern(ctx, o->subscription_plan);
    ctx->region_sid = intern(ctx, o->region);
    ctx->region_known = o->region != NULL;
    ctx->n_order_attrs = 0;
    for (size_t i = 0; i < o->n_attrs; i++) {
        uint32_t key = intern(ctx, o->attrs[i].key);
        if (key == PROG_NONE) continue; /* no rule reads it */
        uint32_t k = 0;
        while (k < ctx->n_order_attrs && ctx->order_attr_key[k] != key) k++;
        if (k == ctx->n_order_attrs) ctx->n_order_attrs++;
        ctx->order_attr_key[k] = key; /* a key given twice: the last value */
        ctx->order_attr_value[k] = intern(ctx, o->attrs[i].value);
    }
    ctx->have_order = true;
    return PERK_OK;
}

/* A category path: non-empty segments separated by single '/'. */
static bool category_ok(const char *s)
{
    if (*s == '\0') return false;
    size_t seg = 0;
    for (; *s != '\0'; s++) {
        if (*s == '/') {
            if (seg == 0) return false;
            seg = 0;
        } else {
            seg++;
        }
    }
    return seg > 0;
}

perk_status perk_cart_add_line(perk_context *ctx, const perk_line *in)
{
    if (ctx == NULL) return PERK_INVALID;
    perk_status st = cart_enter(ctx);
    if (st != PERK_OK) return st;
    uint32_t n = ctx->n_lines + 1; /* 1-based in messages */
    if (in == NULL) return CART_FAIL(ctx, PERK_INVALID, "line %u: NULL", n);
    if (ctx->n_lines >= ctx->limits.max_lines)
        return CART_FAIL(ctx, PERK_LIMIT, "line %u: the cart has more than max_lines = %u lines", n,
                         ctx->limits.max_lines);
    if (in->sku == NULL || in->sku[0] == '\0')
        return CART_FAIL(ctx, PERK_INVALID, "line %u: sku is required", n);
    size_t sku_len = strlen(in->sku);
    size_t store_len = in->store != NULL ? strlen(in->store) : 0;
    if (sku_len > UINT32_MAX / 4 || store_len > UINT32_MAX / 4 || ctx->sku_text_len > UINT32_MAX / 2)
        return CART_FAIL(ctx, PERK_LIMIT, "line %u: the cart's SKUs are too long", n);
    if (in->unit_price < 0 || in->unit_price > ctx->limits.max_money)
        return CART_FAIL(ctx, PERK_INVALID, "line %u: unit_price %lld must be between 0 and %lld", n,
                         (long long)in->unit_price, (long long)ctx->limits.max_money);
    if (in->quantity < 1)
        return CART_FAIL(ctx, PERK_INVALID, "line %u: quantity %lld must be at least 1", n,
                         (long long)in->quantity);
    if (in->quantity > ctx->limits.max_quantity)
        return CART_FAIL(ctx, PERK_INVALID, "line %u: quantity %lld exceeds max_quantity %lld", n,
                         (long long)in->quantity, (long long)ctx->limits.max_quantity);
    if (in->has_margin && (in->margin_ppm < 0 || in->margin_ppm > 1000000))
        return CART_FAIL(ctx, PERK_INVALID, "line %u: margin_ppm %lld must be 0..1000000", n,
                         (long long)in->margin_ppm);
    if (in->category != NULL && !category_ok(in->category))
        return CART_FAIL(ctx, PERK_INVALID, "line %u: category \"%.64s\" has an empty segment", n,
                         in->category);
    if (in->n_tags > ctx->limits.max_tags)
        return CART_FAIL(ctx, PERK_LIMIT, "line %u: %zu tags, at most %u allowed", n, in->n_tags,
                         ctx->limits.max_tags);
    if (in->n_tags > 0 && in->tags == NULL)
        return CART_FAIL(ctx, PERK_INVALID, "line %u: n_tags is %zu but tags is NULL", n, in->n_tags);
    for (size_t i = 0; i < in->n_tags; i++)
        if (in->tags[i] == NULL) return CART_FAIL(ctx, PERK_INVALID, "line %u: tag %zu is NULL", n, i + 1);
    if (in->n_attrs > ctx->limits.max_tags)
        return CART_FAIL(ctx, PERK_LIMIT, "line %u: %zu attributes, at most %u allowed", n, in->n_attrs,
                         ctx->limits.max_tags);
    if (in->n_attrs > 0 && in->attrs == NULL)
        return CART_FAIL(ctx, PERK_INVALID, "line %u: n_attrs is %zu but attrs is NULL", n, in->n_attrs);
    for (size_t i = 0; i < in->n_attrs; i++)
        if (in->attrs[i].key == NULL || in->attrs[i].value == NULL)
            return CART_FAIL(ctx, PERK_INVALID, "line %u: attribute %zu has a NULL key or value", n, i + 1);
    int64_t amount, subtotal, items;
    if (__builtin_mul_overflow(in->unit_price, in->quantity, &amount))
        return CART_FAIL(ctx, PERK_OVERFLOW, "line %u: unit_price %lld x quantity %lld overflows", n,
                         (long long)in->unit_price, (long long)in->quantity);
    if (__builtin_add_overflow(ctx->subtotal_orig, amount, &subtotal))
        return CART_FAIL(ctx, PERK_OVERFLOW, "line %u: the cart subtotal overflows", n);
    if (__builtin_add_overflow(ctx->items, in->quantity, &items))
        return CART_FAIL(ctx, PERK_OVERFLOW, "line %u: the number of items overflows", n);

    /* room for the line, outside the evaluation: a cart larger than any before grows the context */
    if (ctx->n_lines >= ctx->cap_lines && !ctx_grow_lines(ctx, ctx->n_lines + 1))
        return CART_FAIL(ctx, PERK_NOMEM, "line %u: out of memory growing the context for %u lines", n, n);

    /* the SKU's text, kept for the pairing within one SKU (`per sku`); the buffer grows like the
     * line arrays, so the same cart fed again allocates nothing */
    /* the store's text follows the SKU's in the same buffer (`per store`) */
    size_t need = sku_len + 1 + (in->store != NULL ? store_len + 1 : 0);
    if (ctx->sku_text_len + need > ctx->sku_text_cap) {
        size_t cap = ctx->sku_text_cap;
        while (cap < ctx->sku_text_len + need) cap += cap / 2 + 256;
        char *text = perk_mem_realloc(ctx->sku_text, ctx->sku_text_cap, cap);
        if (text == NULL) return CART_FAIL(ctx, PERK_NOMEM, "line %u: out of memory for its SKU", n);
        ctx->sku_text = text;
        ctx->sku_text_cap = cap;
    }
    uint32_t i = ctx->n_lines;
    uint64_t hash = UINT64_C(14695981039346656037); /* FNV-1a */
    for (size_t k = 0; k < sku_len; k++) hash = (hash ^ (unsigned char)in->sku[k]) * UINT64_C(1099511628211);
    ctx->sku_hash[i] = hash;
    ctx->sku_off[i] = (uint32_t)ctx->sku_text_len;
    memcpy(ctx->sku_text + ctx->sku_text_len, in->sku, sku_len + 1);
    ctx->sku_text_len += sku_len + 1;
    ctx->store_off[i] = UINT32_MAX;
    ctx->store_hash[i] = 0;
    if (in->store != NULL) {
        uint64_t h = UINT64_C(14695981039346656037); /* FNV-1a */
        for (size_t k = 0; k < store_len; k++) h = (h ^ (unsigned char)in->store[k]) * UINT64_C(1099511628211);
        ctx->store_hash[i] = h;
        ctx->store_off[i] = (uint32_t)ctx->sku_text_len;
        memcpy(ctx->sku_text + ctx->sku_text_len, in->store, store_len + 1);
        ctx->sku_text_len += store_len + 1;
    }
    ctx->price[i] = in->unit_price;
    ctx->qty[i] = in->quantity;
    ctx->orig[i] = amount;
    ctx->margin[i] = in->has_margin ? in->margin_ppm : -1; /* -1: unknown (field_value in vm.c) */
    if (!cidx_add_line(ctx, i, in))
        return CART_FAIL(ctx, PERK_NOMEM, "line %u: out of memory growing the cart index", n);
    ctx->subtotal_orig = subtotal;
    ctx->items = items;
    ctx->n_lines++;
    return PERK_OK;
}

perk_status perk_cart_add_coupon(perk_context *ctx, const char *code, const char *campaign,
                                 perk_coupon_status status)
{
    if (ctx == NULL) return PERK_INVALID;
    perk_status st = cart_enter(ctx);
    if (st != PERK_OK) return st;
    uint32_t n = ctx->n_coupons + 1;
    if (code == NULL || code[0] == '\0')
        return CART_FAIL(ctx, PERK_INVALID, "coupon %u: code is required", n);
    if ((unsigned)status > PERK_COUPON_NOT_YET_VALID)
        return CART_FAIL(ctx, PERK_INVALID, "coupon %.64s: unknown status %d", code, (int)status);
    if (ctx->n_coupons >= ctx->limits.max_coupons)
        return CART_FAIL(ctx, PERK_LIMIT, "coupon %.64s: more than max_coupons = %u coupons", code,
                         ctx->limits.max_coupons);
    for (uint32_t i = 0; i < ctx->n_coupons; i++)
        if (strcmp(ctx->coupon_code[i], code) == 0)
            return CART_FAIL(ctx, PERK_INVALID, "coupon %.64s: entered twice", code);
    uint32_t i = ctx->n_coupons++;
    ctx->coupon_code[i] = code;
    ctx->coupon_code_id[i] = intern(ctx, code);
    ctx->coupon_campaign_id[i] = intern(ctx, campaign);
    ctx->coupon_status[i] = status;
    if (status == PERK_COUPON_VALID || status == PERK_COUPON_UNCHECKED) {
        set_bit(ctx->coupon_code_bits, ctx->coupon_code_id[i]);
        set_bit(ctx->coupon_campaign_bits, ctx->coupon_campaign_id[i]);
    }
    return PERK_OK;
}

void ctx_coupons_select(perk_context *ctx, const ctx_coupon *wallet, uint32_t n, uint32_t mask)
{
    clear_bits(ctx->coupon_code_bits, ctx->coupon_code_id, ctx->n_coupons);
    clear_bits(ctx->coupon_campaign_bits, ctx->coupon_campaign_id, ctx->n_coupons);
    ctx->n_coupons = 0;
    for (uint32_t c = 0; c < n; c++) {
        if (!(mask >> c & 1)) continue;
        uint32_t i = ctx->n_coupons++;
        ctx->coupon_code[i] = wallet[c].code;
        ctx->coupon_code_id[i] = wallet[c].code_id;
        ctx->coupon_campaign_id[i] = wallet[c].campaign_id;
        ctx->coupon_status[i] = wallet[c].status;
        if (wallet[c].status == PERK_COUPON_VALID || wallet[c].status == PERK_COUPON_UNCHECKED) {
            set_bit(ctx->coupon_code_bits, wallet[c].code_id);
            set_bit(ctx->coupon_campaign_bits, wallet[c].campaign_id);
        }
    }
}

/* The inputs of promotion r on this cart, marked so that the rule index visits it and the next
 * reset clears it; NULL on out of memory (the marks grow by half while a cart is fed). */
static ctx_mark *mark_rule(perk_context *ctx, uint32_t r)
{
    if (ctx->mark_of[r] != PROG_NONE) return &ctx->marks[ctx->mark_of[r]];
    if (ctx->n_marked == ctx->mark_cap) {
        uint32_t cap = ctx->mark_cap + ctx->mark_cap / 2 + 8;
        if (cap > ctx->d->n_rules) cap = ctx->d->n_rules; /* a promotion is marked once */
        ctx_mark *marks = perk_mem_realloc(ctx->marks, ctx->n_marked * sizeof *marks, cap * sizeof *marks);
        if (marks == NULL) return NULL;
        ctx->marks = marks;
        ctx->mark_cap = cap;
    }
    uint32_t k = ctx->n_marked++;
    ctx->mark_of[r] = k;
    ctx->marks[k] = (ctx_mark){ .rule = r };
    return &ctx->marks[k];
}

perk_status perk_cart_set_usage(perk_context *ctx, size_t promotion_index, const perk_usage *usage)
{
    if (ctx == NULL) return PERK_INVALID;
    perk_status st = cart_enter(ctx);
    if (st != PERK_OK) return st;
    if (usage == NULL) return CART_FAIL(ctx, PERK_INVALID, "usage: NULL");
    if (promotion_index >= ctx->d->n_rules)
        return CART_FAIL(ctx, PERK_INVALID, "usage: promotion index %zu out of range (%u promotions)",
                         promotion_index, ctx->d->n_rules);
    if (usage->uses < 0 || usage->money < 0 || usage->customer_uses < 0)
        return CART_FAIL(ctx, PERK_INVALID, "usage of %s: uses, money and customer_uses must not be negative",
                         ctx_rule_name(ctx, (uint32_t)promotion_index));
    ctx_mark *m = mark_rule(ctx, (uint32_t)promotion_index);
    if (m == NULL) return CART_FAIL(ctx, PERK_NOMEM, "usage: out of memory");
    m->usage = *usage;
    return PERK_OK;
}

perk_status perk_cart_set_customer_units(perk_context *ctx, size_t promotion_index, int64_t units)
{
    if (ctx == NULL) return PERK_INVALID;
    perk_status st = cart_enter(ctx);
    if (st != PERK_OK) return st;
    if (promotion_index >= ctx->d->n_rules)
        return CART_FAIL(ctx, PERK_INVALID, "customer units: promotion index %zu out of range (%u promotions)",
                         promotion_index, ctx->d->n_rules);
    if (units < 0)
        return CART_FAIL(ctx, PERK_INVALID, "customer units of %s: %lld, must not be negative",
                         ctx_rule_name(ctx, (uint32_t)promotion_index), (long long)units);
    ctx_mark *m = mark_rule(ctx, (uint32_t)promotion_index);
    if (m == NULL) return CART_FAIL(ctx, PERK_NOMEM, "customer units: out of memory");
    m->customer_units = units;
    return PERK_OK;
}

perk_status perk_cart_exclude(perk_context *ctx, size_t promotion_index)
{
    if (ctx == NULL) return PERK_INVALID;
    perk_status st = cart_enter(ctx);
    if (st != PERK_OK) return st;
    if (promotion_index >= ctx->d->n_rules)
        return CART_FAIL(ctx, PERK_INVALID, "exclude: promotion index %zu out of range (%u promotions)",
                         promotion_index, ctx->d->n_rules);
    ctx_mark *m = mark_rule(ctx, (uint32_t)promotion_index);
    if (m == NULL) return CART_FAIL(ctx, PERK_NOMEM, "exclude: out of memory");
    m->excluded = true;
    return PERK_OK;
}
