/* rule_index.c - the rule index (docs/semantics.md, "The rule index"): which promotions a cart
 * can make differ from their default result, so that an evaluation visits only those.
 *
 * Built once when a program is loaded (ridx_build, called by runtime/program.c), read-only
 * afterwards and shared by every context:
 *   - the default result of every promotion and how it is visited (always, by key, for a hint);
 *   - the keys (sku, brand, category, tag, coupon, campaign) -> the promotions listed under each;
 *   - the prechecked promotions, split into ranges by fact and lower bound and into classes;
 *   - per earn rule, the multipliers that may apply and the strings it needs.
 * Read per cart (ridx_visit, called by runtime/evaluate.c): the visit set of the cart's keys,
 * prechecks that hold, and the promotions the caller marked. Visiting them in order, and the
 * hintable ones between, is evaluate.c's job.
 */
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "facts.h"
#include "program_internal.h"
#include "vm_internal.h"

/* ---------------------------------------------------------------- built at load time */
static void index_free(prog_rule_index *x)
{
    perk_mem_free(x->guard);
    perk_mem_free(x->precheck);
    perk_mem_free(x->prechecked);
    perk_mem_free(x->ranges);
    perk_mem_free(x->range_block_hi);
    perk_mem_free(x->classes);
    perk_mem_free(x->class_first);
    perk_mem_free(x->class_rules);
    perk_mem_free(x->hintable);
    perk_mem_free(x->multi_first);
    perk_mem_free(x->multi_keys);
    perk_mem_free(x->defaults);
    perk_mem_free(x->hot);
    perk_mem_free(x->always);
    perk_mem_free(x->keys);
    perk_mem_free(x->key_first);
    perk_mem_free(x->key_rules);
    perk_mem_free(x->key_pre);
    perk_mem_free(x->best_next);
    perk_mem_free(x->best_members);
    memset(x, 0, sizeof *x);
}

typedef struct key_rule {
    uint64_t key;
    uint32_t rule;
    bool keyed_precheck; /* precheck_keyable: tested while listing the rule */
} key_rule;

static int key_rule_cmp(const void *a, const void *b)
{
    const key_rule *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return x->rule < y->rule ? -1 : x->rule > y->rule;
}

static uint64_t ridx_key(uint32_t kind, uint32_t string) { return (uint64_t)kind << 32 | string; }

/* Sorts the n pairs by (key, rule), given that they were appended in rule order: a stable LSD
 * radix sort, three passes of 9 bits over the key's 27 significant bits (kind < 8, a string id
 * < 2^24 = BC_MAX_COUNT), so linear in the pairs where qsort was O(n log n) with a call per
 * comparison. A key outside those bits (not from a verified program) falls back to qsort.
 * *pairs may be replaced by another block of the same pairs; false when out of memory. */
static bool sort_pairs(key_rule **pairs, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if (((*pairs)[i].key >> 32) >= 8 || (uint32_t)(*pairs)[i].key >= (1u << 24)) {
            qsort(*pairs, n, sizeof **pairs, key_rule_cmp);
            return true;
        }
    key_rule *tmp = perk_mem_alloc((n == 0 ? 1 : n) * sizeof *tmp);
    if (tmp == NULL) return false;
    key_rule *src = *pairs, *dst = tmp;
    for (unsigned shift = 0; shift < 27; shift += 9) {
        uint32_t at[513] = { 0 };
        for (uint32_t i = 0; i < n; i++) {
            uint32_t k = (uint32_t)(src[i].key >> 32) << 24 | (uint32_t)src[i].key;
            at[((k >> shift) & 511u) + 1]++;
        }
        for (int d = 0; d < 512; d++) at[d + 1] += at[d];
        for (uint32_t i = 0; i < n; i++) {
            uint32_t k = (uint32_t)(src[i].key >> 32) << 24 | (uint32_t)src[i].key;
            dst[at[(k >> shift) & 511u]++] = src[i];
        }
        key_rule *t = src;
        src = dst;
        dst = t;
    }
    perk_mem_free(dst); /* three passes: the sorted pairs are in tmp, the first block is free */
    *pairs = src;
    return true;
}

uint32_t prog_find_key(const perk_program *p, uint32_t kind, uint32_t string)
{
    if (string == PROG_NONE) return PROG_NONE;
    const prog_rule_index *x = &p->ridx;
    uint64_t key = ridx_key(kind, string);
    uint32_t lo = 0, hi = x->n_keys;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (x->keys[mid] < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < x->n_keys && x->keys[lo] == key ? lo : PROG_NONE;
}

bool prog_near_miss(const prog_data *d, uint32_t cond, int op, int64_t observed, int64_t expected,
                    int64_t *shortfall, uint32_t *set)
{
    if (op != PERK_CMP_GE && op != PERK_CMP_GT) return false;
    if (cond >= d->n_conds) return false;
    *set = d->conds[cond].hint_set;
    if (*set == PROG_NONE || *set >= d->n_strings) return false;
    if (__builtin_sub_overflow(expected, observed, shortfall)) return false;
    if (op == PERK_CMP_GT && __builtin_add_overflow(*shortfall, 1, shortfall)) return false;
    return *shortfall > 0;
}

/* How the index treats a rule (rule_default). */
typedef enum rule_visit {
    VISIT_BY_KEY,  /* its default holds unless one of its keys occurs */
    VISIT_ALWAYS,  /* visited on every cart (or tested by its precheck first) */
    VISIT_FOR_HINT /* its default holds, but while hints are wanted it is visited for one */
} rule_visit;

/* The default result of rule r, the result it gets on every cart where it is not visited, and
 * how the index visits it. The default is what the gates and the block give (evaluate.c:
 * early_gate, decide_before_block) on a cart where the caller did not exclude it, no coupon of
 * the rule's was entered, no string of its guard is present and no earlier promotion stopped the
 * evaluation (the evaluation then visits every later rule). The exclusive group, the one-coupon
 * rule and the budgets (late_gate) come after the guard, so they never change a default:
 *   - a required coupon or campaign: COUPON_MISSING, since neither was entered;
 *   - a limit of 0 (a budget gate fails even at usage 0): visited always (rare; keeps this short);
 *   - a guard: the guard's outcome (CONDITION or NOTHING). When that outcome is a near miss,
 *     whether it gives a hint depends on late_gate and on the hints before it, so the rule is
 *     visited while the result has room for hints (hintable);
 *   - anything else runs its block: visited always. */
static rule_visit rule_default(const prog_data *d, uint32_t r, const guard_outcome *g,
                               perk_promotion_result *out)
{
    /* g: the outcome of the rule's guard (the file's, or one over several strings), NULL if none */
    const prog_rule *rule = &d->rules[r];
    memset(out, 0, sizeof *out);
    out->promotion = r;
    out->failed_condition = UINT32_MAX;
    out->reason = PERK_REASON_NOTHING;
    /* a best-deal group is decided at its first member, over all of them (evaluate.c): each is
     * visited, so that the group is decided at the same place with the index on and off */
    if (rule->flags & PROG_RULE_BEST) return VISIT_ALWAYS;
    if (rule->coupon != PROG_NONE || rule->coupon_campaign != PROG_NONE) {
        out->reason = PERK_REASON_COUPON_MISSING;
        return VISIT_BY_KEY;
    }
    if (rule->limit_uses == 0 || rule->limit_per_customer == 0 || rule->limit_money == 0) return VISIT_ALWAYS;
    if (g == NULL) return VISIT_ALWAYS;
    if (!g->failed) return VISIT_BY_KEY; /* NOTHING */
    out->reason = PERK_REASON_CONDITION;
    out->failed_condition = g->cond;
    out->has_comparison = g->has_cmp;
    if (g->has_cmp) {
        out->observed = g->observed;
        out->expected = g->expected;
        out->comparison = g->cmp_op;
    }
    int64_t shortfall;
    uint32_t set;
    bool hint = g->soft && g->n_failures == 1 && g->has_cmp &&
                prog_near_miss(d, g->cond, g->cmp_op, g->observed, g->expected, &shortfall, &set);
    return hint ? VISIT_FOR_HINT : VISIT_BY_KEY;
}

/* A precheck on a fact that no promotion changes (not order.subtotal or order.shipping): testing
 * it before the promotions run is testing it at the rule's turn. */
static bool precheck_on_fixed_fact(const guard_precheck *c)
{
    return c->kind != PRECHECK_NONE && c->fact != PERK_FACT_ORDER_SUBTOTAL &&
           c->fact != PERK_FACT_ORDER_SHIPPING;
}

/* A rule visited always can be tested by its precheck instead, before the promotions run (and
 * visited only when it holds), when the precheck is the first thing its block does (no guard),
 * reads a fact that no promotion changes and nothing but the block decides the rule (no limit of
 * 0; a coupon rule is never visited always). */
static bool precheck_indexable(const prog_data *d, uint32_t r, const guard_precheck *c)
{
    const prog_rule *rule = &d->rules[r];
    return precheck_on_fixed_fact(c) && rule->guard_kind == PROG_GUARD_NONE && !(rule->flags & PROG_RULE_BEST) &&
           rule->limit_uses != 0 &&
           rule->limit_per_customer != 0 && rule->limit_money != 0;
}

/* A rule listed under its guard string can be tested by its precheck while it is listed (and not
 * visited when that fails) when, its guard string being in the cart, the precheck is what decides
 * it next (evaluate.c, decide_before_block): a guard of the file (one key), no coupon (whose gate
 * comes first), no hint to give (a hintable rule is visited on its own terms), and a precheck on
 * a fact no promotion changes, so that testing it before the promotions run is testing it at its
 * turn. Excluded rules and rules after a stop are visited anyway (evaluate.c). */
static bool precheck_keyable(const prog_data *d, uint32_t r, const guard_precheck *c, rule_visit how)
{
    const prog_rule *rule = &d->rules[r];
    return precheck_on_fixed_fact(c) && rule->guard_kind != PROG_GUARD_NONE && how == VISIT_BY_KEY &&
           rule->coupon == PROG_NONE && rule->coupon_campaign == PROG_NONE;
}

/* The prechecks of one class (split_prechecked) test the same thing. */
static int precheck_class_cmp(const guard_precheck *x, const guard_precheck *y)
{
    if (x->kind != y->kind) return x->kind < y->kind ? -1 : 1;
    if (x->fact != y->fact) return x->fact < y->fact ? -1 : 1;
    if (x->op != y->op) return x->op < y->op ? -1 : 1;
    if (x->a != y->a) return x->a < y->a ? -1 : 1;
    if (x->b != y->b) return x->b < y->b ? -1 : 1;
    return 0;
}

typedef struct class_rule {
    guard_precheck test;
    uint32_t rule;
} class_rule;

static int class_rule_cmp(const void *a, const void *b)
{
    const class_rule *x = a, *y = b;
    int c = precheck_class_cmp(&x->test, &y->test);
    if (c != 0) return c;
    return x->rule < y->rule ? -1 : x->rule > y->rule;
}

static int range_cmp(const void *a, const void *b)
{
    const prog_range *x = a, *y = b;
    if (x->lo != y->lo) return x->lo < y->lo ? -1 : 1;
    return x->rule < y->rule ? -1 : x->rule > y->rule;
}

/* Splits the prechecked rules for the contexts that explain only what applied: the ranges by fact
 * and lower bound, with each block's highest upper bound, and the other prechecks by class
 * (ridx.ranges, ridx.classes). */
static perk_status split_prechecked(prog_rule_index *x, perk_error *err)
{
    uint32_t n = x->n_prechecked, n_ranges = 0, count[PERK_FACT_COUNT] = { 0 };
    for (uint32_t k = 0; k < n; k++) {
        const guard_precheck *c = &x->precheck[x->prechecked[k]];
        if (c->kind == PRECHECK_RANGE && c->fact < PERK_FACT_COUNT) count[c->fact]++, n_ranges++;
    }
    uint32_t n_blocks = (n_ranges + RIDX_RANGE_BLOCK - 1) / RIDX_RANGE_BLOCK;
    x->ranges = perk_mem_calloc(n_ranges == 0 ? 1 : n_ranges, sizeof *x->ranges);
    x->range_block_hi = perk_mem_calloc(n_blocks == 0 ? 1 : n_blocks, sizeof *x->range_block_hi);
    uint32_t n_other = n - n_ranges;
    class_rule *other = perk_mem_calloc(n_other == 0 ? 1 : n_other, sizeof *other);
    x->classes = perk_mem_calloc(n_other == 0 ? 1 : n_other, sizeof *x->classes);
    x->class_first = perk_mem_calloc((size_t)n_other + 1, sizeof *x->class_first);
    x->class_rules = perk_mem_calloc(n_other == 0 ? 1 : n_other, sizeof *x->class_rules);
    if (!x->ranges || !x->range_block_hi || !other || !x->classes || !x->class_first || !x->class_rules) {
        perk_mem_free(other);
        prog_set_error(err, PERK_NOMEM, "load: out of memory for the rule index");
        return PERK_NOMEM;
    }
    uint32_t next[PERK_FACT_COUNT];
    x->range_first[0] = 0;
    for (uint32_t f = 0; f < PERK_FACT_COUNT; f++) {
        next[f] = x->range_first[f];
        x->range_first[f + 1] = x->range_first[f] + count[f];
    }
    uint32_t m = 0;
    for (uint32_t k = 0; k < n; k++) {
        uint32_t r = x->prechecked[k];
        const guard_precheck *c = &x->precheck[r];
        if (c->kind == PRECHECK_RANGE && c->fact < PERK_FACT_COUNT) {
            x->ranges[next[c->fact]++] = (prog_range){ c->a, c->b, r };
        } else {
            other[m].test = *c;
            other[m].test.cond = 0; /* what is tested, not where it came from */
            other[m].test.body = 0;
            other[m++].rule = r;
        }
    }
    qsort(other, m, sizeof *other, class_rule_cmp);
    for (uint32_t i = 0; i < m; i++) {
        if (i == 0 || precheck_class_cmp(&other[i].test, &other[i - 1].test) != 0) {
            x->classes[x->n_classes] = other[i].test;
            x->class_first[x->n_classes++] = i;
        }
        x->class_rules[i] = other[i].rule;
    }
    x->class_first[x->n_classes] = m;
    perk_mem_free(other);
    for (uint32_t f = 0; f < PERK_FACT_COUNT; f++)
        qsort(x->ranges + x->range_first[f], count[f], sizeof *x->ranges, range_cmp);
    for (uint32_t i = 0; i < n_ranges; i++) {
        int64_t *hi = &x->range_block_hi[i / RIDX_RANGE_BLOCK];
        if (i % RIDX_RANGE_BLOCK == 0 || x->ranges[i].hi > *hi) *hi = x->ranges[i].hi;
    }
    return PERK_OK;
}

/* Builds p->ridx from the verified program: each guard's outcome, each rule's default, and the
 * keys (guard strings, coupons, campaigns) under which a rule with a default must be visited. */
static perk_status build_rule_index(perk_program *prog, perk_error *err)
{
    const prog_data *d = &prog->d;
    prog_rule_index *x = &prog->ridx;
    uint32_t n = d->n_rules;
    size_t n1 = n == 0 ? 1 : n;
    x->rule_words = (n + 63) / 64;
    /* Zeroed only where something reads an entry the loop below may not write (a guard outcome
     * of a rule without a guard, the always bitset); the rest is written before it is read, and
     * pairs and multi are sized for the worst case but touched only as far as they are filled. */
    x->guard = perk_mem_calloc(n1, sizeof *x->guard);
    x->precheck = perk_mem_alloc(n1 * sizeof *x->precheck);
    x->prechecked = perk_mem_alloc(n1 * sizeof *x->prechecked);
    x->hintable = perk_mem_alloc(n1 * sizeof *x->hintable);
    x->defaults = perk_mem_alloc(n1 * sizeof *x->defaults);
    x->hot = perk_mem_alloc(n1 * sizeof *x->hot);
    x->always = perk_mem_calloc(x->rule_words == 0 ? 1 : x->rule_words, sizeof *x->always);
    x->multi_first = perk_mem_alloc(((size_t)n + 1) * sizeof *x->multi_first);
    key_rule *pairs = perk_mem_alloc((2 + GUARD_MAX_KEYS) * n1 * sizeof *pairs);
    guard_key *multi = perk_mem_alloc(GUARD_MAX_KEYS * n1 * sizeof *multi);
    if (!x->guard || !x->precheck || !x->prechecked || !x->hintable || !x->defaults || !x->hot ||
        !x->always || !x->multi_first || !pairs || !multi) {
        perk_mem_free(pairs);
        perk_mem_free(multi);
        prog_set_error(err, PERK_NOMEM, "load: out of memory for the rule index");
        return PERK_NOMEM;
    }
    uint32_t n_pairs = 0, n_multi = 0;
    for (uint32_t r = 0; r < n; r++) {
        const prog_rule *rule = &d->rules[r];
        x->multi_first[r] = n_multi;
        if (rule->guard_kind != PROG_GUARD_NONE &&
            !guard_eval(d, r, rule->guard_kind, rule->guard_string, &x->guard[r])) {
            perk_mem_free(pairs); /* the verifier proved it: unreachable */
            perk_mem_free(multi);
            prog_set_error(err, PERK_VERIFY, "verify: promotion '%s': its guard does not decide it",
                           prog_string(d, rule->id));
            return PERK_VERIFY;
        }
        guard_find_precheck(d, r, &x->precheck[r]);
        /* every coupon-requiring rule is listed under its code and campaign (the coupon verdicts
         * look them up there); a rule with a guard default under its guard string */
        if (rule->coupon != PROG_NONE)
            pairs[n_pairs++] = (key_rule){ ridx_key(RIDX_COUPON, rule->coupon), r, false };
        if (rule->coupon_campaign != PROG_NONE)
            pairs[n_pairs++] = (key_rule){ ridx_key(RIDX_CAMPAIGN, rule->coupon_campaign), r, false };
        /* no guard in the file, no coupon, no precheck to index it by: a guard over several strings */
        bool guarded = rule->guard_kind != PROG_GUARD_NONE,
             by_precheck = precheck_indexable(d, r, &x->precheck[r]);
        uint32_t n_keys = 0;
        if (!guarded && rule->coupon == PROG_NONE && rule->coupon_campaign == PROG_NONE && !by_precheck &&
            guard_choose_keys(d, r, multi + n_multi, &n_keys, &x->guard[r])) {
            guarded = true;
            n_multi += n_keys;
        }
        x->multi_first[r + 1] = n_multi;
        prog_rule_hot *h = &x->hot[r];
        h->group = rule->group;
        h->guard_kind = rule->guard_kind;
        h->guard_string = rule->guard_string;
        uint32_t tested = guard_tested_prefix(d, r, &x->precheck[r]);
        h->tested = (uint16_t)(tested <= UINT16_MAX ? tested : 0);
        h->flags =
            (uint8_t)((rule->coupon != PROG_NONE || rule->coupon_campaign != PROG_NONE ? RHOT_COUPON : 0) |
                      (rule->limit_uses >= 0 || rule->limit_money >= 0 || rule->limit_per_customer >= 0 ||
                               rule->limit_units != 0
                           ? RHOT_BUDGET
                           : 0) |
                      (n_keys > 0 ? RHOT_MULTI : 0) |
                      (x->precheck[r].kind != PRECHECK_NONE ? RHOT_PRECHECK : 0) |
                      (rule->flags & PROG_RULE_BEST ? RHOT_BEST : 0));
        rule_visit how = rule_default(d, r, guarded ? &x->guard[r] : NULL, &x->defaults[r]);
        if (how == VISIT_ALWAYS) {
            if (by_precheck)
                x->prechecked[x->n_prechecked++] = r;
            else
                x->always[r / 64] |= UINT64_C(1) << (r % 64);
        } else if (x->defaults[r].reason != PERK_REASON_COUPON_MISSING) {
            if (how == VISIT_FOR_HINT) x->hintable[x->n_hintable++] = r;
            if (rule->guard_kind != PROG_GUARD_NONE)
                pairs[n_pairs++] = (key_rule){ ridx_key(rule->guard_kind, rule->guard_string), r,
                                               n_keys == 0 && precheck_keyable(d, r, &x->precheck[r], how) };
            for (uint32_t k = x->multi_first[r]; k < n_multi; k++)
                pairs[n_pairs++] = (key_rule){ ridx_key(multi[k].kind, multi[k].string), r, false };
        }
    }
    x->multi_first[n] = n_multi;
    x->multi_keys = perk_mem_calloc(n_multi == 0 ? 1 : n_multi, sizeof *x->multi_keys);
    if (!x->multi_keys) {
        perk_mem_free(pairs);
        perk_mem_free(multi);
        prog_set_error(err, PERK_NOMEM, "load: out of memory for the rule index");
        return PERK_NOMEM;
    }
    memcpy(x->multi_keys, multi, n_multi * sizeof *multi);
    perk_mem_free(multi);
    if (!sort_pairs(&pairs, n_pairs)) {
        perk_mem_free(pairs);
        prog_set_error(err, PERK_NOMEM, "load: out of memory for the rule index");
        return PERK_NOMEM;
    }
    uint32_t n_keys = 0;
    for (uint32_t i = 0; i < n_pairs; i++)
        if (i == 0 || pairs[i].key != pairs[i - 1].key) n_keys++;
    x->keys = perk_mem_alloc((n_keys == 0 ? 1 : n_keys) * sizeof *x->keys);
    x->key_first = perk_mem_alloc(((size_t)n_keys + 1) * sizeof *x->key_first);
    x->key_rules = perk_mem_alloc((n_pairs == 0 ? 1 : n_pairs) * sizeof *x->key_rules);
    x->key_pre = perk_mem_calloc(n_pairs == 0 ? 1 : n_pairs, sizeof *x->key_pre); /* kind NONE */
    if (!x->keys || !x->key_first || !x->key_rules || !x->key_pre) {
        perk_mem_free(pairs);
        prog_set_error(err, PERK_NOMEM, "load: out of memory for the rule index");
        return PERK_NOMEM;
    }
    uint32_t k = 0;
    for (uint32_t i = 0; i < n_pairs; i++) {
        if (i == 0 || pairs[i].key != pairs[i - 1].key) {
            x->keys[k] = pairs[i].key;
            x->key_first[k++] = i;
        }
        x->key_rules[i] = pairs[i].rule;
        if (pairs[i].keyed_precheck) x->key_pre[i] = x->precheck[pairs[i].rule]; /* else kind NONE */
    }
    x->key_first[n_keys] = n_pairs;
    x->n_keys = n_keys;
    perk_mem_free(pairs);
    return split_prechecked(x, err);
}

/* For each earn rule, the multipliers that may apply to it, ascending: loyalty_earn looks at
 * those instead of every multiplier (earn rules x multipliers was a tenth of an evaluation with
 * 500 earn rules and 50 multipliers). A multiplier applies to every earn rule when it names none,
 * else to those it names (once each, however often named). A compressed table built in time
 * linear in the table and the multipliers' lists (it tested every multiplier against every earn
 * rule, quadratic in the program): count, prefix sums, fill; mark[e] = the last multiplier (+1,
 * and + n_mults on the second pass) that listed e. */
static perk_status build_earn_multipliers(perk_program *prog, perk_error *err)
{
    const prog_data *d = &prog->d;
    uint32_t ne = d->n_earns, nm = d->n_mults;
    uint32_t *first = prog->earn_mult_first = perk_mem_calloc((size_t)ne + 1, sizeof *prog->earn_mult_first);
    uint32_t *mark = perk_mem_calloc((size_t)ne + 1, sizeof *mark);
    if (!first || !mark) {
        perk_mem_free(mark);
        prog_set_error(err, PERK_NOMEM, "load: out of memory for the multipliers");
        return PERK_NOMEM;
    }
    size_t total = 0;
    for (uint32_t pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            for (uint32_t e = 0; e < ne; e++) first[e + 1] += first[e];
            prog->earn_mults = perk_mem_alloc((total == 0 ? 1 : total) * sizeof *prog->earn_mults);
            if (!prog->earn_mults) {
                perk_mem_free(mark);
                prog_set_error(err, PERK_NOMEM, "load: out of memory for the multipliers");
                return PERK_NOMEM;
            }
        }
        for (uint32_t m = 0; m < nm; m++) {
            const prog_mult *pm = &d->mults[m];
            uint32_t stamp = m + 1 + pass * nm;
            for (uint32_t k = 0; k < (pm->n_targets == 0 ? ne : pm->n_targets); k++) {
                uint32_t e = k;
                if (pm->n_targets != 0) {
                    if (pm->targets + (uint64_t)k >= d->n_u32) break;
                    e = d->u32[pm->targets + k];
                    if (e >= ne || mark[e] == stamp) continue;
                    mark[e] = stamp;
                }
                if (pass == 0) {
                    first[e + 1]++;
                    total++;
                } else {
                    prog->earn_mults[first[e]++] = m; /* first[e] is e's fill cursor */
                }
            }
        }
    }
    perk_mem_free(mark);
    for (uint32_t e = ne; e > 0; e--) first[e] = first[e - 1]; /* each cursor ended at the next start */
    first[0] = 0;
    return PERK_OK;
}

/* For each earn rule, the strings without which it earns on an empty set (guard_earn_keys). */
static perk_status build_earn_keys(perk_program *prog, perk_error *err)
{
    const prog_data *d = &prog->d;
    prog->earn_keys = perk_mem_calloc(d->n_earns == 0 ? 1 : d->n_earns, sizeof *prog->earn_keys);
    if (!prog->earn_keys) {
        prog_set_error(err, PERK_NOMEM, "load: out of memory for the earn rules");
        return PERK_NOMEM;
    }
    for (uint32_t e = 0; e < d->n_earns; e++)
        (void)guard_earn_keys(d, e, &prog->earn_keys[e]); /* n_keys 0 when not recognised: it runs */
    return PERK_OK;
}

/* The members of each best-deal group, chained in evaluation order (ridx.best_next), and the list
 * of every member (ridx.best_members), which an evaluation resets its best-deal entries from. */
static perk_status build_best_groups(perk_program *prog, perk_error *err)
{
    const prog_data *d = &prog->d;
    prog_rule_index *x = &prog->ridx;
    size_t n1 = d->n_rules == 0 ? 1 : d->n_rules;
    x->best_next = perk_mem_alloc(n1 * sizeof *x->best_next);
    x->best_members = perk_mem_alloc(n1 * sizeof *x->best_members);
    uint32_t *last = perk_mem_alloc(((size_t)d->n_strings + 1) * sizeof *last); /* group -> member */
    if (!x->best_next || !x->best_members || !last) {
        perk_mem_free(last);
        prog_set_error(err, PERK_NOMEM, "load: out of memory for the best-deal groups");
        return PERK_NOMEM;
    }
    memset(last, 0xff, ((size_t)d->n_strings + 1) * sizeof *last);
    x->n_best = 0;
    for (uint32_t r = 0; r < d->n_rules; r++) {
        const prog_rule *rule = &d->rules[r];
        x->best_next[r] = PROG_NONE;
        if (rule->flags & (PROG_RULE_BEST | PROG_RULE_PARTIAL)) x->best_members[x->n_best++] = r;
        if (!(rule->flags & PROG_RULE_BEST)) continue; /* the verifier: then group < n_strings */
        if (last[rule->group] != PROG_NONE) x->best_next[last[rule->group]] = r;
        last[rule->group] = r;
    }
    perk_mem_free(last);
    return PERK_OK;
}

perk_status ridx_build(perk_program *prog, perk_error *err)
{
    perk_status st = build_rule_index(prog, err);
    if (st == PERK_OK) st = build_best_groups(prog, err);
    if (st == PERK_OK) st = build_earn_multipliers(prog, err);
    if (st == PERK_OK) st = build_earn_keys(prog, err);
    return st;
}

void ridx_free(perk_program *prog)
{
    index_free(&prog->ridx);
    perk_mem_free(prog->earn_mult_first);
    perk_mem_free(prog->earn_mults);
    perk_mem_free(prog->earn_keys);
    prog->earn_mult_first = prog->earn_mults = NULL;
    prog->earn_keys = NULL;
}

/* ---------------------------------------------------------------- read per cart */

void eval_set_rule_index(perk_context *ctx, bool on)
{
    if (on) {
        memcpy(ctx->r_promos, ctx->defaults, ctx->d->n_rules * sizeof *ctx->r_promos);
        ctx->n_written = 0;
    }
    ctx->use_index = on;
}

/* Puts back the defaults the previous evaluation overwrote. */
void ridx_restore(perk_context *ctx)
{
    const perk_promotion_result *defaults = ctx->defaults;
    for (uint32_t k = 0; k < ctx->n_written; k++) {
        uint32_t r = ctx->written[k];
        ctx->r_promos[r] = defaults[r];
    }
    ctx->n_written = 0;
}

static void mark_visit(perk_context *ctx, uint32_t r) { ctx->visit[r / 64] |= UINT64_C(1) << (r % 64); }

/* Writes the result of rule r, not visited, whose precheck failed: the failure eval_precheck_holds
 * recorded (a hard condition: no hint). Only when every promotion is explained. */
static void precheck_failed(perk_context *ctx, uint32_t r)
{
    perk_promotion_result *pr = &ctx->r_promos[r];
    memset(pr, 0, sizeof *pr);
    pr->promotion = r;
    eval_condition_failed(ctx, r, pr);
}

/* Lists the rules of a key the cart has for visiting. A rule with a keyed precheck (ridx.key_pre)
 * is listed only when the precheck holds; else its result is the failure, as decide_before_block
 * would give it, written now and listed for restoring. A visit later in the evaluation writes it
 * again (a rule the caller marked, listed after the keys, or one after a stop: never both), so a
 * rule is in ctx->written at most twice. */
static void visit_key(perk_context *ctx, uint32_t key)
{
    const prog_rule_index *x = &ctx->program->ridx;
    if (key == PROG_NONE) return;
    for (uint32_t i = x->key_first[key]; i < x->key_first[key + 1]; i++) {
        uint32_t r = x->key_rules[i];
        const guard_precheck *c = &x->key_pre[i];
        if (c->kind == PRECHECK_NONE || guard_precheck_holds_at(c, facts_load(ctx, c->fact))) {
            mark_visit(ctx, r);
            continue;
        }
        if (!ctx->explain_all) continue;
        eval_precheck_holds(ctx, c); /* records the failure */
        ctx->written[ctx->n_written++] = r;
        precheck_failed(ctx, r);
    }
}

/* The prechecked rules: visited when the precheck holds. Explaining every promotion, the result
 * of each other one is the precheck's failure, written now (it depends on this cart's facts, so
 * it is not a default; the entry is rewritten by every evaluation, visited or not, and needs no
 * restoring). Explaining only what applied, nothing is written for them, so only the ones that
 * hold are looked for: the ranges by fact, skipping the blocks already over and stopping at the
 * first range not yet begun (ridx.ranges), then the other prechecks, one test per class. */
static void visit_prechecked(perk_context *ctx)
{
    const prog_rule_index *x = &ctx->program->ridx;
    if (ctx->explain_all) {
        for (uint32_t k = 0; k < x->n_prechecked; k++) {
            uint32_t r = x->prechecked[k];
            if (eval_precheck_holds(ctx, &x->precheck[r]))
                mark_visit(ctx, r);
            else
                precheck_failed(ctx, r);
        }
        return;
    }
    for (uint32_t f = 0; f < PERK_FACT_COUNT; f++) {
        uint32_t i = x->range_first[f], end = x->range_first[f + 1];
        if (i == end) continue;
        int64_t t = facts_load(ctx, f);
        while (i < end) {
            if (i % RIDX_RANGE_BLOCK == 0 && i + RIDX_RANGE_BLOCK <= end &&
                x->range_block_hi[i / RIDX_RANGE_BLOCK] < t) {
                i += RIDX_RANGE_BLOCK; /* every range of the block is over */
                continue;
            }
            const prog_range *g = &x->ranges[i++];
            if (g->lo > t) break; /* and every later one has not begun */
            if (t <= g->hi) mark_visit(ctx, g->rule);
        }
    }
    for (uint32_t k = 0; k < x->n_classes; k++) {
        const guard_precheck *c = &x->classes[k];
        if (!guard_precheck_holds_at(c, facts_load(ctx, c->fact))) continue;
        for (uint32_t i = x->class_first[k]; i < x->class_first[k + 1]; i++)
            mark_visit(ctx, x->class_rules[i]);
    }
}

/* The visit set of this cart (ctx->visit): what the comment at the top of this part lists. */
void ridx_visit(perk_context *ctx)
{
    const perk_program *prog = ctx->program;
    memcpy(ctx->visit, prog->ridx.always, ctx->rule_words * sizeof(uint64_t));
    visit_prechecked(ctx);
    for (uint32_t k = 0; k < ctx->n_present; k++) visit_key(ctx, ctx->slot_key[ctx->present[k]]);
    for (uint32_t c = 0; c < ctx->n_coupons; c++) {
        visit_key(ctx, prog_find_key(prog, RIDX_COUPON, ctx->coupon_code_id[c]));
        visit_key(ctx, prog_find_key(prog, RIDX_CAMPAIGN, ctx->coupon_campaign_id[c]));
    }
    for (uint32_t k = 0; k < ctx->n_marked; k++) mark_visit(ctx, ctx->marks[k].rule);
}
