/* program.c - loading a compiled program (perk_program_load*), its lifetime (reference count) and
 * the read-only accessors of perk.h; also the string lookup table (prog_find_string) and
 * prog_data_free.
 *
 * Loading = copy the bytes (so a caller mutating its buffer meanwhile cannot race the checks),
 * bytecode_read (parse, hostile input), verify_program_record (static checks, stack depths, guard
 * proofs), an open-addressing hash of the string pool, which also rejects duplicate strings (the
 * VM compares strings by id, so every text must have exactly one id), then the rule index
 * (build_rule_index; docs/semantics.md, "The rule index") and the index slots of the line
 * matches (cidx_build in cart_index.c), which every context of the program shares.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "bytecode.h"
#include "facts.h"
#include "program_internal.h"
#include "verify.h"

static const char *const status_messages[PERK_STATUS_COUNT] = {
#define PROGRAM_STATUS_MSG(name, msg) [PERK_##name] = msg,
    PERK_STATUS_LIST(PROGRAM_STATUS_MSG)
#undef PROGRAM_STATUS_MSG
};

const char *perk_status_message(perk_status status) {
    if ((unsigned)status >= PERK_STATUS_COUNT) return "unknown status";
    return status_messages[status];
}

static void set_error(perk_error *err, perk_status st, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void set_error(perk_error *err, perk_status st, const char *fmt, ...) {
    if (!err) return;
    err->status = st;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
}

void prog_data_free(prog_data *p) {
    if (!p) return;
    void *arrays[] = {p->tz_at,      p->tz_offset,  p->str_off,    p->str_len,   p->str_bytes,
                      p->ints,       p->strset_off, p->strset_len, p->attr_key,  p->attr_value,
                      p->u32,        p->code,       p->conds,      p->actions,   p->steps,
                      p->rules,      p->earns,      p->mults,      p->tiers};
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++) perk_mem_free(arrays[i]);
    memset(p, 0, sizeof *p);
}

/* ---------------------------------------------------------------- string hash */

/* The last len < 8 bytes at s as one word (4, 2 and 1-byte loads, never past s + len). */
static inline uint64_t tail_bytes(const char *s, size_t len) {
    uint64_t tail = 0;
    unsigned shift = 0;
    if (len & 4) {
        uint32_t v;
        memcpy(&v, s, 4);
        tail = v;
        s += 4;
        shift = 32;
    }
    if (len & 2) {
        uint16_t v;
        memcpy(&v, s, 2);
        tail |= (uint64_t)v << shift;
        s += 2;
        shift += 16;
    }
    if (len & 1) tail |= (uint64_t)(unsigned char)*s << shift;
    return tail;
}

/* True when the len bytes at a and b are equal: 8 bytes at a time, then the tail (cart strings
 * are short; this avoids a call to memcmp per probe that finds its hash). */
static inline bool same_bytes(const char *a, const char *b, size_t len) {
    for (; len >= 8; a += 8, b += 8, len -= 8) {
        uint64_t x, y;
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        if (x != y) return false;
    }
    return tail_bytes(a, len) == tail_bytes(b, len);
}

/* A hash of the bytes, 8 at a time (cart strings are short: every line's sku, brand, category
 * prefixes and tags are looked up when it is added, so this is on the checkout's path). Only
 * ever compared within one process, so byte order does not matter. */
static uint32_t text_hash(const char *s, size_t len) {
    uint64_t h = UINT64_C(0x9E3779B97F4A7C15) ^ (uint64_t)len;
    for (; len >= 8; s += 8, len -= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = (h ^ w) * UINT64_C(0xff51afd7ed558ccd);
        h ^= h >> 29;
    }
    h = (h ^ tail_bytes(s, len)) * UINT64_C(0xc4ceb9fe1a85ec53);
    h ^= h >> 32;
    return (uint32_t)h;
}

/* A table slot: the string's hash in the high half, its id + 1 in the low half (0 = empty), so
 * that a probe compares bytes only when the hashes agree. */
static uint64_t hash_slot(uint32_t hash, uint32_t id) { return (uint64_t)hash << 32 | (id + 1u); }

/* Builds the table: power of two, at most half full. Fails on a duplicate string. */
static perk_status build_string_hash(perk_program *prog, perk_error *err) {
    const prog_data *d = &prog->d;
    size_t size = 8;
    while (size < (size_t)d->n_strings * 2) size *= 2;
    prog->str_hash = perk_mem_calloc(size, sizeof *prog->str_hash);
    if (!prog->str_hash) {
        set_error(err, PERK_NOMEM, "load: out of memory for the string table");
        return PERK_NOMEM;
    }
    prog->str_hash_mask = (uint32_t)(size - 1);
    for (uint32_t id = 0; id < d->n_strings; id++) {
        const char *s = prog_string(d, id);
        uint32_t len = d->str_len[id], hash = text_hash(s, len);
        for (uint32_t slot = hash & prog->str_hash_mask;; slot = (slot + 1) & prog->str_hash_mask) {
            uint64_t entry = prog->str_hash[slot];
            if (entry == 0) {
                prog->str_hash[slot] = hash_slot(hash, id);
                break;
            }
            uint32_t other = (uint32_t)entry - 1;
            if ((uint32_t)(entry >> 32) == hash && d->str_len[other] == len &&
                memcmp(prog_string(d, other), s, len) == 0) {
                set_error(err, PERK_VERIFY, "verify: string %u duplicates string %u (\"%.60s\")", id, other, s);
                return PERK_VERIFY;
            }
        }
    }
    return PERK_OK;
}

uint32_t prog_find_string(const perk_program *p, const char *text, size_t len) {
    if (!p || !p->str_hash || (!text && len) || len > UINT32_MAX) return PROG_NONE;
    if (!text) text = "";
    const prog_data *d = &p->d;
    uint32_t hash = text_hash(text, len);
    for (uint32_t slot = hash & p->str_hash_mask;; slot = (slot + 1) & p->str_hash_mask) {
        uint64_t entry = p->str_hash[slot];
        if (entry == 0) return PROG_NONE;
        if ((uint32_t)(entry >> 32) != hash) continue;
        uint32_t id = (uint32_t)entry - 1;
        if (d->str_len[id] == len && same_bytes(prog_string(d, id), text, len)) return id;
    }
}

/* ---------------------------------------------------------------- the rule index */

static void rule_index_free(prog_rule_index *x) {
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
    memset(x, 0, sizeof *x);
}

typedef struct key_rule {
    uint64_t key;
    uint32_t rule;
    bool keyed_precheck; /* precheck_keyable: tested while listing the rule */
} key_rule;

static int key_rule_cmp(const void *a, const void *b) {
    const key_rule *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return x->rule < y->rule ? -1 : x->rule > y->rule;
}

static uint64_t ridx_key(uint32_t kind, uint32_t string) { return (uint64_t)kind << 32 | string; }

uint32_t prog_find_key(const perk_program *p, uint32_t kind, uint32_t string) {
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
                    int64_t *shortfall, uint32_t *set) {
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
static rule_visit rule_default(const prog_data *d, uint32_t r, const guard_outcome *g, perk_promotion_result *out) {
    /* g: the outcome of the rule's guard (the file's, or one over several strings), NULL if none */
    const prog_rule *rule = &d->rules[r];
    memset(out, 0, sizeof *out);
    out->promotion = r;
    out->failed_condition = UINT32_MAX;
    out->reason = PERK_REASON_NOTHING;
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
static bool precheck_on_fixed_fact(const guard_precheck *c) {
    return c->kind != PRECHECK_NONE && c->fact != PERK_FACT_ORDER_SUBTOTAL && c->fact != PERK_FACT_ORDER_SHIPPING;
}

/* A rule visited always can be tested by its precheck instead, before the promotions run (and
 * visited only when it holds), when the precheck is the first thing its block does (no guard),
 * reads a fact that no promotion changes and nothing but the block decides the rule (no limit of
 * 0; a coupon rule is never visited always). */
static bool precheck_indexable(const prog_data *d, uint32_t r, const guard_precheck *c) {
    const prog_rule *rule = &d->rules[r];
    return precheck_on_fixed_fact(c) && rule->guard_kind == PROG_GUARD_NONE && rule->limit_uses != 0 &&
           rule->limit_per_customer != 0 && rule->limit_money != 0;
}

/* A rule listed under its guard string can be tested by its precheck while it is listed (and not
 * visited when that fails) when, its guard string being in the cart, the precheck is what decides
 * it next (evaluate.c, decide_before_block): a guard of the file (one key), no coupon (whose gate
 * comes first), no hint to give (a hintable rule is visited on its own terms), and a precheck on
 * a fact no promotion changes, so that testing it before the promotions run is testing it at its
 * turn. Excluded rules and rules after a stop are visited anyway (evaluate.c). */
static bool precheck_keyable(const prog_data *d, uint32_t r, const guard_precheck *c, rule_visit how) {
    const prog_rule *rule = &d->rules[r];
    return precheck_on_fixed_fact(c) && rule->guard_kind != PROG_GUARD_NONE && how == VISIT_BY_KEY &&
           rule->coupon == PROG_NONE && rule->coupon_campaign == PROG_NONE;
}

/* The prechecks of one class (split_prechecked) test the same thing. */
static int precheck_class_cmp(const guard_precheck *x, const guard_precheck *y) {
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

static int class_rule_cmp(const void *a, const void *b) {
    const class_rule *x = a, *y = b;
    int c = precheck_class_cmp(&x->test, &y->test);
    if (c != 0) return c;
    return x->rule < y->rule ? -1 : x->rule > y->rule;
}

static int range_cmp(const void *a, const void *b) {
    const prog_range *x = a, *y = b;
    if (x->lo != y->lo) return x->lo < y->lo ? -1 : 1;
    return x->rule < y->rule ? -1 : x->rule > y->rule;
}

/* Splits the prechecked rules for the contexts that explain only what applied: the ranges by fact
 * and lower bound, with each block's highest upper bound, and the other prechecks by class
 * (ridx.ranges, ridx.classes). */
static perk_status split_prechecked(prog_rule_index *x, perk_error *err) {
    uint32_t n = x->n_prechecked, n_ranges = 0, count[PERK_FACT_COUNT] = {0};
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
        set_error(err, PERK_NOMEM, "load: out of memory for the rule index");
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
            x->ranges[next[c->fact]++] = (prog_range){c->a, c->b, r};
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
static perk_status build_rule_index(perk_program *prog, perk_error *err) {
    const prog_data *d = &prog->d;
    prog_rule_index *x = &prog->ridx;
    uint32_t n = d->n_rules;
    size_t n1 = n == 0 ? 1 : n;
    x->rule_words = (n + 63) / 64;
    x->guard = perk_mem_calloc(n1, sizeof *x->guard);
    x->precheck = perk_mem_calloc(n1, sizeof *x->precheck);
    x->prechecked = perk_mem_calloc(n1, sizeof *x->prechecked);
    x->hintable = perk_mem_calloc(n1, sizeof *x->hintable);
    x->defaults = perk_mem_calloc(n1, sizeof *x->defaults);
    x->hot = perk_mem_calloc(n1, sizeof *x->hot);
    x->always = perk_mem_calloc(x->rule_words == 0 ? 1 : x->rule_words, sizeof *x->always);
    x->multi_first = perk_mem_calloc((size_t)n + 1, sizeof *x->multi_first);
    key_rule *pairs = perk_mem_calloc((2 + GUARD_MAX_KEYS) * n1, sizeof *pairs);
    guard_key *multi = perk_mem_calloc(GUARD_MAX_KEYS * n1, sizeof *multi);
    if (!x->guard || !x->precheck || !x->prechecked || !x->hintable || !x->defaults || !x->hot || !x->always ||
        !x->multi_first || !pairs || !multi) {
        perk_mem_free(pairs);
        perk_mem_free(multi);
        set_error(err, PERK_NOMEM, "load: out of memory for the rule index");
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
            set_error(err, PERK_VERIFY, "verify: promotion '%s': its guard does not decide it",
                      prog_string(d, rule->id));
            return PERK_VERIFY;
        }
        guard_find_precheck(d, r, &x->precheck[r]);
        /* every coupon-requiring rule is listed under its code and campaign (the coupon verdicts
         * look them up there); a rule with a guard default under its guard string */
        if (rule->coupon != PROG_NONE) pairs[n_pairs++] = (key_rule){ridx_key(RIDX_COUPON, rule->coupon), r, false};
        if (rule->coupon_campaign != PROG_NONE)
            pairs[n_pairs++] = (key_rule){ridx_key(RIDX_CAMPAIGN, rule->coupon_campaign), r, false};
        /* no guard in the file, no coupon, no precheck to index it by: a guard over several strings */
        bool guarded = rule->guard_kind != PROG_GUARD_NONE, by_precheck = precheck_indexable(d, r, &x->precheck[r]);
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
        h->flags = (uint8_t)((rule->coupon != PROG_NONE || rule->coupon_campaign != PROG_NONE ? RHOT_COUPON : 0) |
                             (rule->limit_uses >= 0 || rule->limit_money >= 0 || rule->limit_per_customer >= 0
                                  ? RHOT_BUDGET
                                  : 0) |
                             (n_keys > 0 ? RHOT_MULTI : 0) |
                             (x->precheck[r].kind != PRECHECK_NONE ? RHOT_PRECHECK : 0));
        rule_visit how = rule_default(d, r, guarded ? &x->guard[r] : NULL, &x->defaults[r]);
        if (how == VISIT_ALWAYS) {
            if (by_precheck)
                x->prechecked[x->n_prechecked++] = r;
            else
                x->always[r / 64] |= UINT64_C(1) << (r % 64);
        } else if (x->defaults[r].reason != PERK_REASON_COUPON_MISSING) {
            if (how == VISIT_FOR_HINT) x->hintable[x->n_hintable++] = r;
            if (rule->guard_kind != PROG_GUARD_NONE)
                pairs[n_pairs++] = (key_rule){ridx_key(rule->guard_kind, rule->guard_string), r,
                                              n_keys == 0 && precheck_keyable(d, r, &x->precheck[r], how)};
            for (uint32_t k = x->multi_first[r]; k < n_multi; k++)
                pairs[n_pairs++] = (key_rule){ridx_key(multi[k].kind, multi[k].string), r, false};
        }
    }
    x->multi_first[n] = n_multi;
    x->multi_keys = perk_mem_calloc(n_multi == 0 ? 1 : n_multi, sizeof *x->multi_keys);
    if (!x->multi_keys) {
        perk_mem_free(pairs);
        perk_mem_free(multi);
        set_error(err, PERK_NOMEM, "load: out of memory for the rule index");
        return PERK_NOMEM;
    }
    memcpy(x->multi_keys, multi, n_multi * sizeof *multi);
    perk_mem_free(multi);
    qsort(pairs, n_pairs, sizeof *pairs, key_rule_cmp);
    uint32_t n_keys = 0;
    for (uint32_t i = 0; i < n_pairs; i++)
        if (i == 0 || pairs[i].key != pairs[i - 1].key) n_keys++;
    x->keys = perk_mem_calloc(n_keys == 0 ? 1 : n_keys, sizeof *x->keys);
    x->key_first = perk_mem_calloc((size_t)n_keys + 1, sizeof *x->key_first);
    x->key_rules = perk_mem_calloc(n_pairs == 0 ? 1 : n_pairs, sizeof *x->key_rules);
    x->key_pre = perk_mem_calloc(n_pairs == 0 ? 1 : n_pairs, sizeof *x->key_pre);
    if (!x->keys || !x->key_first || !x->key_rules || !x->key_pre) {
        perk_mem_free(pairs);
        set_error(err, PERK_NOMEM, "load: out of memory for the rule index");
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

/* Whether multiplier pm applies to earn rule e: it names no earn rule (all), or names e. */
static bool mult_targets(const prog_data *d, const prog_mult *pm, uint32_t e) {
    if (pm->n_targets == 0) return true;
    for (uint32_t k = 0; k < pm->n_targets; k++)
        if (pm->targets + k < d->n_u32 && d->u32[pm->targets + k] == e) return true;
    return false;
}

/* For each earn rule, the multipliers that may apply to it, ascending: loyalty_earn looks at
 * those instead of every multiplier (earn rules x multipliers was a tenth of an evaluation with
 * 500 earn rules and 50 multipliers). A compressed table: count, prefix sums, fill. */
static perk_status build_earn_multipliers(perk_program *prog, perk_error *err) {
    const prog_data *d = &prog->d;
    uint32_t ne = d->n_earns;
    size_t total = 0;
    for (uint32_t m = 0; m < d->n_mults; m++)
        for (uint32_t e = 0; e < ne; e++) total += mult_targets(d, &d->mults[m], e);
    uint32_t *first = prog->earn_mult_first = perk_mem_calloc((size_t)ne + 1, sizeof *prog->earn_mult_first);
    prog->earn_mults = perk_mem_calloc(total == 0 ? 1 : total, sizeof *prog->earn_mults);
    if (!first || !prog->earn_mults) {
        set_error(err, PERK_NOMEM, "load: out of memory for the multipliers");
        return PERK_NOMEM;
    }
    for (uint32_t m = 0; m < d->n_mults; m++)
        for (uint32_t e = 0; e < ne; e++) first[e + 1] += mult_targets(d, &d->mults[m], e);
    for (uint32_t e = 0; e < ne; e++) first[e + 1] += first[e];
    for (uint32_t m = 0; m < d->n_mults; m++) /* first[e] is e's fill cursor */
        for (uint32_t e = 0; e < ne; e++)
            if (mult_targets(d, &d->mults[m], e)) prog->earn_mults[first[e]++] = m;
    for (uint32_t e = ne; e > 0; e--) first[e] = first[e - 1]; /* each cursor ended at the next start */
    first[0] = 0;
    return PERK_OK;
}

/* For each earn rule, the strings without which it earns on an empty set (guard_earn_keys). */
static perk_status build_earn_keys(perk_program *prog, perk_error *err) {
    const prog_data *d = &prog->d;
    prog->earn_keys = perk_mem_calloc(d->n_earns == 0 ? 1 : d->n_earns, sizeof *prog->earn_keys);
    if (!prog->earn_keys) {
        set_error(err, PERK_NOMEM, "load: out of memory for the earn rules");
        return PERK_NOMEM;
    }
    for (uint32_t e = 0; e < d->n_earns; e++)
        (void)guard_earn_keys(d, e, &prog->earn_keys[e]); /* n_keys 0 when not recognised: it runs */
    return PERK_OK;
}

/* The index slots of the line matches (cart_index.c). */
static bool build_slots(perk_program *prog, perk_error *err) {
    if (cidx_build(prog)) return true;
    set_error(err, PERK_NOMEM, "load: out of memory for the line index");
    return false;
}

/* ---------------------------------------------------------------- loading */

/* Parses, verifies and indexes bytes the caller will not change meanwhile. */
static perk_program *program_from_bytes(const uint8_t *bytes, size_t len, perk_error *err) {
    perk_program *prog = perk_mem_calloc(1, sizeof *prog);
    if (!prog) {
        set_error(err, PERK_NOMEM, "load: out of memory");
        return NULL;
    }
    if (bytecode_read(bytes, len, &prog->d, err) != PERK_OK || verify_program_record(&prog->d, err) != PERK_OK ||
        build_string_hash(prog, err) != PERK_OK || build_rule_index(prog, err) != PERK_OK ||
        build_earn_multipliers(prog, err) != PERK_OK || build_earn_keys(prog, err) != PERK_OK ||
        !build_slots(prog, err)) {
        cidx_program_free(prog);
        rule_index_free(&prog->ridx);
        perk_mem_free(prog->earn_mult_first);
        perk_mem_free(prog->earn_mults);
        perk_mem_free(prog->earn_keys);
        prog_data_free(&prog->d);
        perk_mem_free(prog->str_hash);
        perk_mem_free(prog);
        return NULL;
    }
    atomic_init(&prog->refs, 1);
    return prog;
}

perk_program *perk_program_load(const void *bytes, size_t len, perk_error *err) {
    perk_error local;
    if (!err) err = &local;
    if (!bytes) {
        set_error(err, PERK_INVALID, "load: no bytes given");
        return NULL;
    }
    if (len > BC_MAX_FILE_SIZE) {
        set_error(err, PERK_LIMIT, "load: program of %zu bytes is larger than the limit of %u", len, BC_MAX_FILE_SIZE);
        return NULL;
    }
    uint8_t *copy = perk_mem_alloc(len);
    if (!copy) {
        set_error(err, PERK_NOMEM, "load: out of memory copying %zu bytes", len);
        return NULL;
    }
    if (len) memcpy(copy, bytes, len);
    perk_program *prog = program_from_bytes(copy, len, err);
    perk_mem_free(copy);
    return prog;
}

perk_program *perk_program_load_file(const char *path, perk_error *err) {
    perk_error local;
    if (!err) err = &local;
    if (!path) {
        set_error(err, PERK_INVALID, "load: no path given");
        return NULL;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        set_error(err, PERK_IO, "load: cannot open '%s': %s", path, strerror(errno));
        return NULL;
    }
    /* Read in chunks rather than trusting a size from fstat: works for pipes, and a file that
     * grows while we read still stops at the limit. */
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    perk_program *prog = NULL;
    for (;;) {
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 65536;
            if (ncap > (size_t)BC_MAX_FILE_SIZE + 1) ncap = (size_t)BC_MAX_FILE_SIZE + 1;
            if (ncap == cap) {
                set_error(err, PERK_LIMIT, "load: '%s' is larger than the limit of %u bytes (256 MB)", path,
                          BC_MAX_FILE_SIZE);
                goto done;
            }
            uint8_t *nb = perk_mem_realloc(buf, cap, ncap);
            if (!nb) {
                set_error(err, PERK_NOMEM, "load: out of memory reading '%s'", path);
                goto done;
            }
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) break;
    }
    if (ferror(f)) {
        set_error(err, PERK_IO, "load: error reading '%s': %s", path, strerror(errno));
        goto done;
    }
    if (len > BC_MAX_FILE_SIZE) {
        set_error(err, PERK_LIMIT, "load: '%s' is larger than the limit of %u bytes (256 MB)", path, BC_MAX_FILE_SIZE);
        goto done;
    }
    prog = program_from_bytes(buf, len, err);
    if (!prog) { /* prefix the path when it fits: "rules.pbc: truncated: ..." */
        size_t pl = strlen(path), ml = strlen(err->message);
        if (ml && pl + 2 + ml < sizeof err->message) {
            memmove(err->message + pl + 2, err->message, ml + 1);
            memcpy(err->message, path, pl);
            err->message[pl] = ':';
            err->message[pl + 1] = ' ';
        }
    }
done:
    fclose(f);
    perk_mem_free(buf);
    return prog;
}

perk_program *perk_program_retain(perk_program *program) {
    if (program) atomic_fetch_add_explicit(&program->refs, 1, memory_order_relaxed);
    return program;
}

void perk_program_free(perk_program *program) {
    if (!program) return;
    /* acq_rel: the thread that frees sees every other thread's last use */
    if (atomic_fetch_sub_explicit(&program->refs, 1, memory_order_acq_rel) != 1) return;
    cidx_program_free(program);
    rule_index_free(&program->ridx);
    perk_mem_free(program->earn_mult_first);
    perk_mem_free(program->earn_mults);
    perk_mem_free(program->earn_keys);
    prog_data_free(&program->d);
    perk_mem_free(program->str_hash);
    perk_mem_free(program);
}

/* ---------------------------------------------------------------- accessors */

const prog_data *prog_data_of(const perk_program *program) { return &program->d; }

const char *perk_program_name(const perk_program *program) {
    return program ? prog_string(&program->d, program->d.name) : NULL;
}

const char *perk_program_currency(const perk_program *program) { return program ? program->d.currency : NULL; }

int perk_program_exponent(const perk_program *program) { return program ? (int)program->d.exponent : 0; }

size_t perk_program_promotion_count(const perk_program *program) { return program ? program->d.n_rules : 0; }

const char *perk_program_promotion_id(const perk_program *program, size_t index) {
    if (!program || index >= program->d.n_rules) return NULL;
    return prog_string(&program->d, program->d.rules[index].id);
}

const char *perk_program_promotion_label(const perk_program *program, size_t index) {
    if (!program || index >= program->d.n_rules) return NULL;
    const prog_rule *r = &program->d.rules[index];
    return prog_string(&program->d, r->label != PROG_NONE ? r->label : r->id);
}

long perk_program_find_promotion(const perk_program *program, const char *id) {
    if (!program || !id) return -1;
    uint32_t sid = prog_find_string(program, id, strlen(id));
    if (sid == PROG_NONE) return -1;
    for (uint32_t i = 0; i < program->d.n_rules; i++)
        if (program->d.rules[i].id == sid) return (long)i;
    return -1;
}

size_t perk_program_earn_count(const perk_program *program) { return program ? program->d.n_earns : 0; }

const char *perk_program_earn_id(const perk_program *program, size_t index) {
    if (!program || index >= program->d.n_earns) return NULL;
    return prog_string(&program->d, program->d.earns[index].id);
}

perk_value_kind perk_condition_value_kind(const perk_program *program, uint32_t condition) {
    if (!program || condition >= program->d.n_conds) return PERK_VALUE_PLAIN;
    return (perk_value_kind)program->d.conds[condition].value_kind;
}

const char *perk_condition_text(const perk_program *program, uint32_t condition) {
    if (!program || condition >= program->d.n_conds) return NULL;
    return prog_string(&program->d, program->d.conds[condition].text);
}

void perk_condition_location(const perk_program *program, uint32_t condition, const char **file, uint32_t *line,
                             uint32_t *col) {
    const prog_cond *c = program && condition < program->d.n_conds ? &program->d.conds[condition] : NULL;
    if (file) *file = c && c->loc.file != PROG_NONE ? prog_string(&program->d, c->loc.file) : NULL;
    if (line) *line = c ? c->loc.line : 0;
    if (col) *col = c ? c->loc.col : 0;
}
