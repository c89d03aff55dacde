/* program_internal.h - what a loaded perk_program is inside libperk (opaque in perk.h).
 *
 * Built by perk_program_load (runtime/program.c): the parsed and verified prog_data plus lookup
 * tables computed once at load time so that building a cart never scans the string pool, the
 * rule index that lets an evaluation skip the promotions that cannot apply to a cart, and the
 * index slots of the line matches (prog_slots).
 */
#ifndef PERK_PROGRAM_INTERNAL_H
#define PERK_PROGRAM_INTERNAL_H

#include <stdatomic.h>

#include "facts.h"
#include "guard.h"
#include "perk.h"
#include "program.h"

/* Key kinds of the rule index: the guard kinds PROG_GUARD_SKU .. PROG_GUARD_TAG (program.h),
 * then the coupon requirements. */
enum { RIDX_COUPON = PROG_GUARD_KIND_COUNT, RIDX_CAMPAIGN, RIDX_KEY_KINDS };

/* What the gates of a promotion read (evaluate.c), packed apart from prog_rule: with thousands of
 * promotions most visits end at a gate, and this array (12 bytes a rule) stays in cache where
 * the 104-byte rule records would not. The rule record is read only when these flags call for it
 * or the block runs. */
enum {
    RHOT_COUPON = 1u << 0,  /* requires a coupon code or campaign */
    RHOT_BUDGET = 1u << 1,  /* has a uses, money, per-customer or unit limit */
    RHOT_MULTI = 1u << 2,   /* has a guard over several strings (multi_keys) */
    RHOT_PRECHECK = 1u << 3, /* precheck[r].kind != PRECHECK_NONE */
    RHOT_BEST = 1u << 4      /* a member of a best-deal group (visited always; best_next) */
};
typedef struct prog_rule_hot {
    uint32_t group;        /* exclusive group string id, or PROG_NONE */
    uint32_t guard_string; /* the file's guard, as in prog_rule */
    uint8_t guard_kind;
    uint8_t flags;   /* RHOT_* */
    uint16_t tested; /* leading instructions the gates test natively (guard_tested_prefix):
                              the block runs from there */
} prog_rule_hot;

/* A prechecked rule whose precheck is a range [lo, hi] on one fact (`valid`, `hours`). */
typedef struct prog_range {
    int64_t lo, hi;
    uint32_t rule;
} prog_range;

#define RIDX_RANGE_BLOCK 32 /* ranges per block of ridx.range_block_hi */

/* The rule index (docs/semantics.md, "The rule index"), built by perk_program_load and read-only
 * afterwards, so shared by every context. A promotion is either visited on every cart ("always")
 * or has a default result that holds on every cart where none of its keys occurs: then the
 * evaluation visits it only when one of its keys does (its guard string is in the cart, or its
 * coupon / campaign was entered) or the caller excluded it or set its usage. */
typedef struct prog_rule_index {
    guard_outcome *guard;  /* n_rules: what a guarded rule's block does without its guard
                                      string (or strings) */
    uint32_t *multi_first; /* n_rules + 1: the guard over several strings of rule r is
                                      multi_keys[multi_first[r] .. multi_first[r + 1]) (empty for
                                      most rules), chosen at load time (guard_choose_keys) for a
                                      rule the file gives no guard; its outcome is guard[r] */
    guard_key *multi_keys;
    guard_precheck *precheck;        /* n_rules: the leading fact condition of a rule without a
                                      guard, tested before its block (guard.h); kind NONE if none */
    perk_promotion_result *defaults; /* n_rules: the result of a rule that is not visited */
    prog_rule_hot *hot;              /* n_rules: what the gates read */
    uint64_t *always;                /* ceil(n_rules / 64) words: rules visited on every cart */
    uint32_t *prechecked;            /* rules that would be visited always but start with a
                                      precheck on a fact fixed for the evaluation: each cart
                                      tests it natively and visits only those it lets through */
    uint32_t n_prechecked;
    /* The same prechecked rules split for a context that explains only what applied (it writes
     * nothing for a failed precheck, so it need not test each one): those with a range precheck,
     * by fact and by lower bound (ranges[range_first[f] .. range_first[f + 1]) for fact f), with
     * the highest upper bound of every RIDX_RANGE_BLOCK consecutive ranges, so that whole blocks
     * of ranges already over, and every range not yet begun, cost nothing; and the others, by
     * class: the rules of class k (the same comparison or weekday mask, as `customer.tier >=
     * gold`) are class_rules[class_first[k] .. class_first[k + 1]), tested once for all. */
    prog_range *ranges;
    uint32_t range_first[PERK_FACT_COUNT + 1];
    int64_t *range_block_hi; /* ceil(n_ranges / RIDX_RANGE_BLOCK) */
    guard_precheck *classes; /* n_classes */
    uint32_t *class_first;   /* n_classes + 1 */
    uint32_t *class_rules;
    uint32_t n_classes;
    uint32_t *hintable; /* ascending: rules whose guard default may also give a near-miss
                                      hint; visited in order only while the result has room for
                                      hints (perk_limits.max_hints), else they keep their default */
    uint32_t n_hintable;
    uint32_t rule_words;
    uint32_t n_keys;
    uint64_t *keys;      /* sorted, distinct: key kind << 32 | string id */
    uint32_t *key_first; /* n_keys + 1: the rules of key k are key_rules[key_first[k] ..
                                      key_first[k + 1]), ascending */
    uint32_t *key_rules;
    guard_precheck *key_pre; /* parallel to key_rules: the precheck the evaluation tests
                                      while listing the rule under a key of the cart (kind NONE:
                                      listed unconditionally). Set for a rule with a guard of the
                                      file, no coupon, no guard over several strings, no hint to
                                      give, whose precheck reads a fact no promotion changes:
                                      when the precheck fails, the rule's result is that failure
                                      (decide_before_block) and it is not visited */
    /* Best-deal groups (docs/semantics.md 5.8), whose members are visited on every cart: */
    uint32_t *best_next;    /* n_rules: the next member of rule r's best-deal group in evaluation
                               order; PROG_NONE after its last and for a rule in no such group */
    uint32_t *best_members; /* every rule whose result->promotion_extra entry an evaluation may
                               write (a best-deal member, a partial budget), ascending */
    uint32_t n_best;
} prog_rule_index;

/* Kinds of string match a rule can ask for on a line, in the order of the guard kinds (program.h):
 * slot kind = guard kind - PROG_GUARD_SKU. */
#define PROG_SLOT_KINDS (PROG_GUARD_KIND_COUNT - PROG_GUARD_SKU)

/* An attribute (key, value) pair a program matches, sorted by pair for lookup at cart build. */
typedef struct prog_attr_slot {
    uint64_t pair; /* key id << 32 | value id */
    uint32_t slot;
} prog_attr_slot;

/* The line matches of the program (runtime/cart_index.c, cidx_build): every (kind, string) a rule
 * can match on a line (sku, brand, category prefix, exact category, tag) and every attribute pair
 * gets an "index slot". Built at load time and shared by every context: a context holds line
 * lists for the slots its cart has, not for every slot. */
typedef struct prog_slots {
    uint32_t *map[PROG_SLOT_KINDS]; /* n_strings each: string id -> slot or PROG_NONE */
    uint32_t *attr_slot;            /* n_attrs: attribute pool index -> slot */
    prog_attr_slot *attr_pairs;     /* distinct pairs, sorted */
    uint32_t n_attr_pairs;
    uint32_t *slot_key; /* n_slots: slot -> key of the rule index (ridx) whose kind and
                                       string the slot matches, or PROG_NONE */
    uint32_t n_slots;
} prog_slots;

struct perk_program {
    prog_data d;
    atomic_int refs;
    /* open-addressing hash of the string pool: slot -> hash << 32 | string id + 1 (0 = empty) */
    uint64_t *str_hash;
    uint32_t str_hash_mask;
    prog_rule_index ridx;
    /* the multipliers that may apply to earn rule e: earn_mults[earn_mult_first[e] ..
       earn_mult_first[e + 1]), ascending */
    uint32_t *earn_mult_first;
    uint32_t *earn_mults;
    /* n_earns: the strings without which each earn rule earns on an empty set (guard.h,
       guard_earn_keys; n_keys 0: its block always runs) */
    guard_earn *earn_keys;
    prog_slots slots;
};

/* Builds p->slots (after the rule index); false on out of memory. cidx_program_free frees it. */
bool cidx_build(perk_program *p);
void cidx_program_free(perk_program *p);

/* The id of a string in the program's pool, or PROG_NONE when no rule mentions it. O(1). */
uint32_t prog_find_string(const perk_program *p, const char *text, size_t len);

/* The index of key (kind, string) in p->ridx.keys, or PROG_NONE. O(log keys). */
uint32_t prog_find_key(const perk_program *p, uint32_t kind, uint32_t string);

/* Whether a single failed soft comparison `observed op expected` of condition cond is a near miss
 * (docs/semantics.md section 12, apart from the gates): a GE or GT threshold of a condition with a
 * hint set, not yet reached. Then *shortfall is the amount to add and *set the hint set. Used by
 * the index (is a default result a near miss?) and by the evaluation (runtime/rule_index.c). */
bool prog_near_miss(const prog_data *d, uint32_t cond, int op, int64_t observed, int64_t expected,
                    int64_t *shortfall, uint32_t *set);

/* Builds p->ridx and the earn-rule tables (runtime/rule_index.c) once the program is verified;
 * ridx_free releases them (safe on a partly built index). */
perk_status ridx_build(perk_program *p, perk_error *err);
void ridx_free(perk_program *p);

/* Sets *err (when not NULL) to status st and a printf-style message. */
void prog_set_error(perk_error *err, perk_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
