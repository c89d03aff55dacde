/* vm_internal.h - the evaluation context shared by the cart API (context.c, cart_index.c), the
 * interpreter (vm.c), the actions (vm_actions.c), loyalty (vm_loyalty.c), facts (vm_facts.c)
 * and the evaluation pass (evaluate.c). Internal to libperk.
 *
 * Everything an evaluation touches lives in one perk_context. perk_context_new() allocates what
 * the program needs (per promotion, per string); the per-line arrays and the cart index start
 * small and grow while a cart is fed (perk_cart_add_line), up to the limits, when a cart is larger
 * than any before. perk_evaluate() does not allocate (one exception: the allocation log, past 64
 * allocations a line on average, evaluate.c log_room).
 *
 * Lines are stored as columns (unit price, quantity, original, current, margin, interned ids).
 * Line sets are bitsets of uint64 words over the cart lines; a cart of n lines uses
 * ceil(n / 64) words of each bitset. Gift lines exist only in the result: they are never in any
 * line set, so they count toward no threshold and earn nothing.
 */
#ifndef PERK_VM_INTERNAL_H
#define PERK_VM_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "facts.h"
#include "perk.h"
#include "program.h"
#include "program_internal.h"
#include "tz.h"

/* Kinds of string match a rule can ask for; each (kind, string) pair a program uses gets one
 * index slot (program_internal.h, prog_slots). In the order of the guard kinds (program.h):
 * CIDX kind = guard kind - PROG_GUARD_SKU. */
enum {
    CIDX_SKU = PROG_GUARD_SKU - PROG_GUARD_SKU,
    CIDX_BRAND = PROG_GUARD_BRAND - PROG_GUARD_SKU,
    CIDX_CAT_PREFIX = PROG_GUARD_CATEGORY - PROG_GUARD_SKU,
    CIDX_CAT_EXACT = PROG_GUARD_CATEGORY_IS - PROG_GUARD_SKU,
    CIDX_TAG = PROG_GUARD_TAG - PROG_GUARD_SKU,
    CIDX_KINDS
};
_Static_assert(CIDX_KINDS == PROG_SLOT_KINDS, "one slot map per guard kind");

/* What made a value unknown: a fact id, or PERK_FACT_COUNT + an item field (an aggregate over
 * lines whose margin is unknown); perk_promotion_result.unknown_fact is this + 1 (0: none). */
#define VM_UNKNOWN_FIELD(field) ((uint32_t)PERK_FACT_COUNT + (uint32_t)(field))

/* store_id of a line whose store the cart does not give (the field is unknown): distinct from
 * PROG_NONE, a store given but named by no rule. */
#define CTX_STORE_MISSING (PROG_NONE - 1u)

/* Multiplier of the slot hash (Fibonacci hashing: the top bits of slot * 2^32 / phi). */
#define CIDX_HASH_MUL 0x9E3779B1u

/* Which kind of block the interpreter runs: it decides which effect opcodes are allowed. */
typedef enum vm_block_kind { VM_BLOCK_RULE, VM_BLOCK_REDEEM, VM_BLOCK_EARN, VM_BLOCK_MULT } vm_block_kind;

/* How a block ended. */
typedef enum vm_outcome {
    VM_PASSED, /* reached END with every condition true */
    VM_FAILED, /* a REQUIRE (or a REQUIRE_SOFT at CHECK) failed */
    VM_ERROR   /* evaluation error: ctx->status / ctx->error say which */
} vm_outcome;

/* A run of equal-priced units of one line (BUY_GET, N_FOR). */
typedef struct unit_run {
    int64_t price; /* unit price in minor units */
    int64_t count; /* units */
    uint32_t line;
} unit_run;

/* A promotion the caller excluded or gave a usage on this cart (perk_cart_exclude, _set_usage). */
typedef struct ctx_mark {
    perk_usage usage; /* zero unless set */
    int64_t customer_units; /* perk_cart_set_customer_units, zero unless set */
    uint32_t rule;
    bool excluded;
} ctx_mark;

/* One entered coupon, as perk_cart_add_coupon() recorded it. */
typedef struct ctx_coupon {
    const char *code;
    uint32_t code_id, campaign_id;
    perk_coupon_status status;
} ctx_coupon;

struct perk_context {
    perk_program *program;
    const prog_data *d;
    perk_limits limits;
    tz_zone zone;

    /* ---- sizes: the program's fixed at creation; the line capacity grows with the carts */
    uint32_t cap_lines; /* lines every per-line array holds now: grows (perk_cart_add_line,
                                ctx_grow_lines) up to limits.max_lines, never shrinks */
    uint32_t max_words; /* ceil(cap_lines / 64): words of each line bitset (stride of sets
                                and cidx) */
    uint32_t max_scalars, max_sets;
    uint32_t max_gifts, max_effects, max_points, max_rewards;
    uint32_t alloc_rules; /* allocations reserved per line: min(discount promotions, 64) */
    uint32_t max_allocs;  /* most allocations an evaluation may log: max_lines x alloc_rules */
    uint32_t log_cap;     /* capacity of the allocation log now: cap_lines x alloc_rules, more
                                only after an evaluation needed more (evaluate.c, log_room) */
    uint32_t str_words;   /* ceil(n_strings / 64) */
    uint32_t group_words; /* words up to the highest exclusive group's string id (cleared
                                every evaluation: not str_words) */

    /* ---- cart index (cart_index.c): the program's slots (shared) and the cart's line lists */
    const uint32_t *cidx_map[CIDX_KINDS]; /* string id -> index slot or PROG_NONE (program) */
    const uint32_t *attr_slot;            /* attribute pool index -> index slot (program) */
    const uint32_t *slot_key;             /* slot -> key of the rule index (program.ridx) whose kind and
                                       string the slot matches, or PROG_NONE (program) */
    uint32_t n_slots;
    uint64_t *slot_bits; /* ceil(n_slots / 64) words: the slots some line of this cart
                                       is in */
    uint32_t *present;   /* present_cap: the slots with a line, in order of first line */
    uint32_t n_present, present_cap;
    uint32_t *slot_hash; /* 2 x present_cap buckets, linear probing: position in present
                                       + 1, 0 = empty */
    uint32_t slot_hash_mask, slot_hash_shift;
    uint64_t *cidx;            /* present_cap * max_words: the lines of present[k] at
                                       k * max_words */
    uint32_t cidx_words_dirty; /* words per slot written since the last clear */
    uint64_t *no_lines;        /* max_words zero words: the lines of a slot the cart lacks */

    /* ---- cart */
    perk_status cart_status; /* first error of a perk_cart_* call; evaluation refuses to run */
    bool have_order;
    uint32_t n_lines;
    int64_t *price, *qty, *orig, *cur, *margin;
    uint32_t *sku_id, *brand_id, *cat_id;
    uint32_t *store_id; /* interned store, PROG_NONE (a store no rule names), CTX_STORE_MISSING */
    /* each line's store as given, for the actions measured per store (`per store`): its text at
     * sku_text + store_off[i] (UINT32_MAX: no store), its FNV-1a hash */
    uint64_t *store_hash;
    uint32_t *store_off;
    /* each line's SKU as given (sku_id is PROG_NONE for a SKU the program never names), for the
     * actions that pair units within one SKU: the text at sku_text + sku_off[i], its FNV-1a hash */
    uint64_t *sku_hash;
    uint32_t *sku_off;
    char *sku_text;
    size_t sku_text_len, sku_text_cap; /* the cart's bytes, the buffer's (kept across carts) */
    int64_t subtotal_orig, items;

    /* customer */
    uint32_t customer_sid; /* interned id or PROG_NONE */
    int32_t tier_index;    /* index of the program tier or -1 */
    int birthday_month, birthday_day, birthday_year;
    int64_t member_since, order_count, points_balance; /* PERK_UNKNOWN when not given */
    int64_t first_order;                               /* 0, 1 or PERK_UNKNOWN */
    bool customer_known;                               /* customer.id was given */
    uint32_t n_customer_tags;
    uint32_t *customer_tags;     /* interned ids (known strings only), for clearing the bits */
    uint64_t *customer_tag_bits; /* str_words */

    /* order */
    int64_t order_time, shipping, delivery, points_to_redeem;
    uint32_t channel_sid, subscription_sid;
    bool channel_known; /* order.channel was given */
    uint32_t region_sid; /* interned order.region */
    bool region_known;   /* order.region was given */
    /* order.attr("key"): the (key, value) string ids of the order's attributes whose key a rule
     * names (value PROG_NONE when no rule names it), at most limits.max_tags */
    uint32_t n_order_attrs;
    uint32_t *order_attr_key, *order_attr_value;

    /* coupons */
    uint32_t n_coupons;
    const char **coupon_code;
    uint32_t *coupon_code_id, *coupon_campaign_id;
    perk_coupon_status *coupon_status;
    uint64_t *coupon_code_bits, *coupon_campaign_bits; /* valid codes / campaigns, str_words */
    /* perk_best_coupons(): the wallet (the cart's coupons as fed) while subsets of it are tried */
    ctx_coupon wallet[PERK_BEST_COUPONS_MAX];
    uint32_t n_wallet;

    /* per promotion inputs: only for the promotions the caller marked, O(marks) not O(promotions) */
    uint32_t *mark_of; /* n_rules: position in marks, or PROG_NONE */
    ctx_mark *marks;   /* mark_cap; the first n_marked, in order of marking, since the reset */
    uint32_t n_marked, mark_cap;

    /* ---- the rule index (evaluate.c; docs/semantics.md, "The rule index") */
    bool use_index;      /* false: every promotion is visited and its block run (reference) */
    uint32_t rule_words; /* ceil(n_rules / 64) */
    uint64_t *visit;     /* rule_words: the promotions this cart visits */
    uint32_t *written;   /* 2 x n_rules: promotions whose r_promos entry the last evaluation
                                wrote (a few twice); every other entry holds its default
                                (ctx->defaults) */
    uint32_t n_written;
    uint32_t n_visited; /* promotions this evaluation visited (perk_result.promotions_visited) */
    bool explain_all;   /* limits.explain == PERK_EXPLAIN_ALL */
    const perk_promotion_result *defaults; /* n_rules: explain_all: program.ridx.defaults; else
                                own_defaults, every entry UNEXPLAINED */
    perk_promotion_result *own_defaults;
    perk_promotion_result scratch_promo; /* !explain_all: a visited promotion's outcome, copied
                                to r_promos only when it applied */
    uint64_t *one_coupon;                /* rule_words, !explain_all: the promotions that got ONE_COUPON this
                                evaluation (for the coupon verdicts, which need that reason) */

    /* ---- evaluation state */
    perk_status status;
    int64_t facts[PERK_FACT_COUNT]; /* static facts, computed once per evaluation */
    int64_t ship_cur;               /* current shipping */
    int64_t subtotal_cur;           /* running sum of current line amounts */
    uint64_t insn_count;
    uint64_t *group_bits; /* exclusive groups that applied, group_words */
    bool stopped, coupon_rule_applied;

    /* the rule being evaluated */
    uint32_t rule_index;
    bool rule_original;
    int64_t *pend;     /* per line discount of the current rule, not committed yet */
    uint64_t *touched; /* lines with pend > 0 */
    int64_t pend_ship;
    uint32_t pend_gifts, pend_effects; /* result gifts/effects appended by the current rule */
    uint32_t pend_rewards;             /* reward coupons appended by the current rule */
    /* a hint noted by an action (a count tier's next row, a bundle's missing part, a store short
     * of its threshold) and made a hint when the promotion's outcome is known (evaluate.c);
     * cleared with the other pending state */
    bool pend_hint, pend_hint_percent;
    int64_t pend_hint_shortfall, pend_hint_value; /* units to add, or money with pend_hint_store */
    uint32_t pend_hint_set; /* string id of the set's name, or PROG_NONE */
    bool pend_hint_bundle;  /* the hint completes a bundle: pend_hint_value is its price */
    bool pend_hint_store;   /* money to add in one store (`per store`): the store of line
                               pend_hint_line */
    uint32_t pend_hint_line;
    int64_t pend_bundle_cost, pend_bundle_price; /* a bundle that would cost more than its units */
    bool mult_active_mark;  /* MULTIPLY executed in the current block */

    /* interpreter */
    int64_t *stack;      /* max_scalars */
    uint64_t *sets;      /* max_sets * max_words */
    uint64_t *all_lines; /* max_words: every cart line */
    /* item consumption (`consumes`, docs/semantics.md 5.6): the lines consumed so far, the
     * non-gift lines not consumed (what a promotion's sets are drawn from), the lines of the
     * current promotion's action sets, and the consumed lines' amounts (current when consumed,
     * and original) that order.subtotal leaves out */
    uint64_t *consumed, *live, *used;
    int64_t consumed_cur, consumed_orig;
    bool has_cmp;
    int64_t cmp_observed, cmp_expected;
    int cmp_op;
    /* condition failures of the current block */
    uint32_t n_failures;
    uint32_t fail_cond;
    bool fail_soft, fail_has_cmp;
    int64_t fail_observed, fail_expected;
    int fail_op;
    /* unknown values (PERK_UNKNOWN): the last fact or field read as unknown in the current
     * condition, and the one that made the first failed condition unknown (UINT32_MAX: none) */
    uint32_t unk_source, fail_unknown;

    /* scratch for actions */
    uint32_t *scratch_idx;            /* cap_lines */
    int64_t *scratch_w, *scratch_out; /* cap_lines */
    uint32_t *scratch_alloc;          /* cap_lines, for money_allocate: the order of leftover units */
    int64_t *scratch_rem;             /* cap_lines, for money_allocate: the remainders */
    int64_t *scratch_line;            /* cap_lines, per-line accumulator (zero between uses) */
    unit_run *runs;                   /* 2 * cap_lines */
    unit_run *group;                  /* cap_lines: the lines of one N_FOR group */
    uint32_t *scratch_pos;            /* cap_lines, line -> position in `group` (PROG_NONE between uses) */
    uint16_t *bundle_mask;            /* cap_lines: bit k = the line is in part k of the bundle being
                                         built (BUNDLE_PART); zero between bundles */
    uint32_t bundle_parts, bundle_action; /* parts marked so far, and for which action */

    /* loyalty */
    bool *mult_active; /* n_mults */
    int64_t *redeemed; /* per line goods paid by points */

    /* ---- the result and its arrays */
    perk_result res;
    perk_line_result *r_lines;  /* cap_lines + max_gifts */
    perk_allocation *alloc_log; /* log_cap: in commit order, then sorted by line in
                                          place (the result's allocations) */
    uint32_t *alloc_target;     /* log_cap: final position of each log entry */
    uint32_t n_log;
    perk_promotion_result *r_promos; /* n_rules */
    perk_gift *r_gifts;
    perk_effect *r_effects;
    perk_reward_coupon *r_rewards; /* max_rewards: one per reward action an evaluation can run */
    perk_coupon_result *r_coupons; /* max_coupons */
    perk_points_result *r_points;
    perk_hint *r_hints;           /* min(max_hints, n_rules) */
    perk_hint_next *r_hint_next; /* parallel to r_hints */
    const char **r_hint_store;   /* parallel to r_hints */
    perk_promotion_units *r_units; /* one per promotion with a unit limit (n_unit_rules) */
    uint32_t n_unit_rules;
    perk_promotion_extra *r_extra; /* n_rules, parallel to r_promos, or NULL when the program has
                                      no best-deal member and no partial budget (ridx.n_best = 0);
                                      only those rules' entries change (reset by start()) */
    uint64_t *best_done;           /* rule_words (or NULL, as r_extra): best-deal members decided
                                      with their group */

    char error[256];
};

/* ---- evaluate.c */
/* True when promotion r has a guard none of whose strings is in the cart: it cannot apply to
 * this cart whatever coupons are entered (perk_best_coupons). */
bool eval_guard_absent(const perk_context *ctx, uint32_t r);

/* ---- context.c */
/* Makes the cart's coupons the entries of wallet[0..n) whose bit is set in `mask`, in wallet
 * order, exactly as if only those had been fed (perk_best_coupons). */
void ctx_coupons_select(perk_context *ctx, const ctx_coupon *wallet, uint32_t n, uint32_t mask);
/* Records a detailed message (printf-style) and returns status. */
perk_status ctx_fail(perk_context *ctx, perk_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The id or name of promotion `rule` for messages. */
const char *ctx_rule_name(const perk_context *ctx, uint32_t rule);

/* The caller's inputs for promotion r, or NULL when it has none (not excluded, usage zero). */
static inline const ctx_mark *ctx_mark_of(const perk_context *ctx, uint32_t r)
{
    uint32_t k = ctx->mark_of[r];
    return k == PROG_NONE ? NULL : &ctx->marks[k];
}

/* ---- cart_index.c */
/* Points the context at the program's slots and allocates the first (small) line lists
 * (perk_context_new, max_words set); false on out of memory. */
bool cidx_init(perk_context *ctx);
void cidx_free(perk_context *ctx);
/* Clears every index bitset written by the previous cart. */
void cidx_clear(perk_context *ctx);
/* Re-lays the bitsets at `words` words each before max_words grows; false on out of memory. */
bool cidx_set_words(perk_context *ctx, uint32_t words);
/* Adds line `line` (its strings already validated) to the index and stores its interned ids,
 * growing the index for slots new to the cart; false on out of memory (the line is then partly
 * indexed: the caller poisons the cart, and the next reset clears it). */
bool cidx_add_line(perk_context *ctx, uint32_t line, const perk_line *in);

/* The position of slot `slot` in ctx->present, or PROG_NONE when no line of the cart is in it. */
static inline uint32_t cidx_pos(const perk_context *ctx, uint32_t slot)
{
    if (!(ctx->slot_bits[slot / 64] >> (slot % 64) & 1)) return PROG_NONE;
    uint32_t b = (slot * CIDX_HASH_MUL) >> ctx->slot_hash_shift;
    for (uint32_t e; (e = ctx->slot_hash[b]) != 0; b = (b + 1) & ctx->slot_hash_mask)
        if (ctx->present[e - 1] == slot) return e - 1;
    return PROG_NONE;
}

/* The bitset of index slot `slot` (max_words words; all zero when the cart lacks it). */
static inline const uint64_t *cidx_bits(const perk_context *ctx, uint32_t slot)
{
    uint32_t k = cidx_pos(ctx, slot);
    return k == PROG_NONE ? ctx->no_lines : ctx->cidx + (size_t)k * ctx->max_words;
}

/* True when some line of the cart matches guard (kind, string), kind a PROG_GUARD_* other than
 * NONE: exactly when the guard's line-set opcode would push a non-empty set. */
static inline bool cidx_guard_present(const perk_context *ctx, uint8_t kind, uint32_t string)
{
    if (kind == PROG_GUARD_NONE || kind >= PROG_GUARD_KIND_COUNT || string >= ctx->d->n_strings) return true;
    uint32_t slot = ctx->cidx_map[kind - PROG_GUARD_SKU][string];
    return slot != PROG_NONE && (ctx->slot_bits[slot / 64] >> (slot % 64) & 1);
}

/* ---- vm_facts.c */
/* Computes the static facts of the cart into ctx->facts (once per evaluation). */
perk_status facts_compute(perk_context *ctx);
/* The value of fact `fact` now (dynamic facts read the evaluation state). */
int64_t facts_load(const perk_context *ctx, uint32_t fact);
int64_t facts_order_attr(const perk_context *ctx, uint32_t key);

/* ---- vm.c */
/* Runs one block. `owner` is the rule/earn/multiplier index (for messages). */
vm_outcome vm_run(perk_context *ctx, prog_block block, vm_block_kind kind, uint32_t owner);
/* vm_run without counting its instructions (nor limiting them): the plain pass runs so the blocks
 * the rule index decides without running, to check each decision against the interpreter. */
vm_outcome vm_run_uncounted(perk_context *ctx, prog_block block, vm_block_kind kind, uint32_t owner);
/* Words of the cart's bitsets. */
static inline uint32_t vm_words(const perk_context *ctx) { return (ctx->n_lines + 63) / 64; }

/* ---- vm_actions.c */
/* Applies action `action` to set `set` (and, for APPLY2, reward set `set2`; else NULL): adds the
 * discounts to ctx->pend / pend_ship and appends gifts/effects. Returns PERK_OK or an error. */
perk_status act_apply(perk_context *ctx, uint32_t action, const uint64_t *set, const uint64_t *set2);
/* BUNDLE_PART: marks `set` as the next part of bundle action `action` (runtime/vm_actions.c). */
perk_status act_bundle_part(perk_context *ctx, uint32_t action, const uint64_t *set);
/* Forgets the parts marked for a bundle whose APPLY never ran (a block that ended early). */
void act_bundle_reset(perk_context *ctx);
/* Limits the current rule's pending discount to `limit` (shipping first, then goods,
 * re-allocated in proportion). */
perk_status act_limit(perk_context *ctx, int64_t limit);
/* `limit N units per customer`: keeps the pending goods discount of the first `allowance` units of
 * the touched lines in cart order (a line cut short: its discount times k / q, half up); *units
 * gets how many units keep it. */
void act_limit_units(perk_context *ctx, int64_t allowance, int64_t *units);
/* Sum of the pending goods discount of the current rule. */
int64_t act_pending_goods(const perk_context *ctx);
/* Drops the current rule's pending discounts, gifts and effects. */
void act_discard(perk_context *ctx);
/* Money amount of line i available to the current rule: current minus pending. */
static inline int64_t act_amount(const perk_context *ctx, uint32_t i) { return ctx->cur[i] - ctx->pend[i]; }

/* ---- vm_loyalty.c */
/* Redemption then earning, after every promotion was evaluated; fills the points fields of
 * ctx->res. */
perk_status loyalty_run(perk_context *ctx);
/* EARN: earn points on set `set` for earn rule `earn` (NULL: the empty set). */
perk_status loyalty_earn(perk_context *ctx, uint32_t earn, const uint64_t *set);

/* ---- rule_index.c (the part read per cart) */
/* Turns the rule index on or off for the following evaluations (tests compare both; contexts
 * start with it on unless the environment has PERK_RULE_INDEX=off). */
void eval_set_rule_index(perk_context *ctx, bool on);
/* Fills ctx->visit with the promotions this cart may make differ from their default result, and
 * writes the results of the prechecked ones that fail (when every promotion is explained). */
void ridx_visit(perk_context *ctx);
/* Puts back the default results the previous evaluation overwrote (ctx->written). */
void ridx_restore(perk_context *ctx);

/* ---- evaluate.c */
/* Fills pr (promotion r, not visited or stopped at a condition) with the failure recorded in
 * ctx->fail_*: the condition, the comparison, and no hint (a hard condition). */
void eval_condition_failed(perk_context *ctx, uint32_t r, perk_promotion_result *pr);
/* Rounds amount * ppm / 10^6 with the program's rounding; false on overflow. */
bool eval_percent(const perk_context *ctx, int64_t amount, int64_t ppm, int64_t *out);
/* Splits total (0 <= total <= sum of weights) over n non-negative weights by the largest
 * remainder method, ties to the earlier index; out[] sums exactly to total and no out[k]
 * exceeds weights[k]. Uses ctx->scratch_alloc and scratch_rem. False on bad input. */
bool eval_allocate(perk_context *ctx, int64_t total, const int64_t *weights, uint32_t n, int64_t *out);
/* A precheck (guard.h) tested natively: false when the block would fail at its REQUIRE, with the
 * failure recorded in ctx->fail_* as the VM records it. */
bool eval_precheck_holds(perk_context *ctx, const guard_precheck *c);

#endif
