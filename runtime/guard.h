/* guard.h - rule guards: proving that a promotion's block ends in one known way whenever no cart
 * line matches a given sku, brand, category or tag (runtime/guard.c).
 *
 * The proof is a symbolic run of the block's bytecode under one assumption: the line-set opcode
 * of the guard (e.g. SET_CATEGORY "tea") pushes the empty set. Every other input (facts, other
 * line sets, coupons, customer tags) is unknown. The run follows the interpreter (runtime/vm.c)
 * instruction by instruction and gives up as soon as anything it needs is unknown: a jump or a
 * condition on an unknown value, an instruction that could fail (arithmetic or a sum on unknown
 * values), an action on a set that might not be empty, a gift, shipping or effect action. If it
 * reaches the end of the block, the block does exactly the same on every cart without such a
 * line: same outcome, same first failed condition and comparison, same number of failures.
 * Nothing else is assumed, so the proof holds for any program, verified or not (out-of-range
 * operands also make it give up).
 *
 * Used by the code generator (to choose each promotion's guard), the verifier (to re-prove the
 * guard a file claims) and the loader (to record what a skip must report).
 */
#ifndef PERK_GUARD_H
#define PERK_GUARD_H

#include <stdbool.h>
#include <stdint.h>

#include "opcodes.h"
#include "program.h"

/* How a block ends when its guard matches no line. */
typedef struct guard_outcome {
    bool failed;         /* true: the block fails (reason CONDITION); false: it passes having
                             discounted nothing and added no gift or effect (reason NOTHING) */
    uint32_t cond;       /* failed: the first failing condition; else PROG_NONE */
    uint32_t n_failures; /* failed: how many conditions failed (soft ones are all counted) */
    bool soft;           /* failed: the first failure was a REQUIRE_SOFT */
    bool has_cmp;        /* failed: a comparison was recorded before that condition */
    int cmp_op;          /* its perk_cmp */
    int64_t observed, expected;
} guard_outcome;

/* Runs promotion `rule`'s block assuming that no cart line matches (kind, string), kind a
 * PROG_GUARD_* other than NONE. True when the outcome is determined; it is then stored in *out.
 * Linear in the block's length. */
bool guard_eval(const prog_data *p, uint32_t rule, uint8_t kind, uint32_t string, guard_outcome *out);

/* One string a guard assumes absent: a PROG_GUARD_* kind other than NONE and a string id. */
typedef struct guard_key {
    uint8_t kind;
    uint32_t string;
} guard_key;

#define GUARD_MAX_KEYS 8

/* As guard_eval, assuming that no cart line matches any of keys[0 .. n_keys) (1 to
 * GUARD_MAX_KEYS of them): the outcome of the block on every cart without any of those strings. */
bool guard_eval_keys(const prog_data *p, uint32_t rule, const guard_key *keys, uint32_t n_keys,
                     guard_outcome *out);

/* A guard over several strings, chosen at load time for a promotion the file gives no guard: every
 * distinct string of the block's SET_SKU, SET_BRAND, SET_CATEGORY, SET_CATEGORY_IS and SET_TAG
 * instructions (at most GUARD_MAX_KEYS), assumed absent together, e.g. `sku in ["a", "b"]` or
 * `brand = "x" or category in "y"`. True (keys in keys[0 .. *n_keys), outcome in *out) when the
 * proof decides the block; the promotion then needs a visit only on carts with one of them. */
bool guard_choose_keys(const prog_data *p, uint32_t rule, guard_key *keys, uint32_t *n_keys,
                       guard_outcome *out);

/* Chooses a guard for promotion `rule`: tries the strings of the block's SET_SKU, SET_BRAND,
 * SET_CATEGORY, SET_CATEGORY_IS and SET_TAG instructions in instruction order (at most
 * GUARD_MAX_TRIES distinct ones) and returns the first that guard_eval proves, in *kind, *string
 * and *out. False (and *kind = PROG_GUARD_NONE) when none does. */
bool guard_choose(const prog_data *p, uint32_t rule, uint8_t *kind, uint32_t *string, guard_outcome *out);

#define GUARD_MAX_TRIES 8

/* A precheck: the block starts with one hard condition on one fact, in one of three shapes
 *   LOAD_FACT f; PUSH a; PUSH b; IN_RANGE; REQUIRE c     (`valid`, date or time windows)
 *   LOAD_FACT f; PUSH a; EQ..GE; REQUIRE c                (`customer.tier >= gold`, ...)
 *   LOAD_FACT f; IN_MASK m; REQUIRE c                     (`every saturday, sunday`)
 * (PUSH = PUSH_IMM or PUSH_INT), possibly after the target precheck on the promotion's own guard
 * string (SET_x s; AGG_ANY; REQUIRE_TARGET), which passes whenever the guard lets the block run.
 * The evaluation tests it natively before the block: when it does not hold, the block would fail
 * right there, at condition c, having recorded exactly the comparison the native test records
 * (runtime/evaluate.c), so the promotion is decided without running the block. Found at load
 * time. */
typedef enum { PRECHECK_NONE, PRECHECK_RANGE, PRECHECK_CMP, PRECHECK_MASK } guard_precheck_kind;

typedef struct guard_precheck {
    uint8_t kind;  /* guard_precheck_kind */
    uint8_t fact;  /* perk_fact */
    uint8_t op;    /* PRECHECK_CMP: perk_cmp */
    uint32_t cond; /* the condition of the REQUIRE */
    int64_t a, b;  /* RANGE: lo, hi; CMP: the constant; MASK: the mask in a */
    uint32_t body; /* the instruction after its REQUIRE */
} guard_precheck;

/* Whether precheck c holds when its fact has value x (the test eval_precheck_holds makes, without
 * recording anything). */
static inline bool guard_precheck_holds_at(const guard_precheck *c, int64_t x)
{
    if (x == PERK_UNKNOWN) return false; /* an unknown fact meets no condition */
    switch (c->kind) {
    case PRECHECK_RANGE: return c->a <= x && x <= c->b;
    case PRECHECK_CMP: return perk_cmp_holds(c->op, x, c->a);
    case PRECHECK_MASK: return x >= 0 && x < 32 && ((c->a >> x) & 1);
    default: return true;
    }
}

/* Recognises promotion `rule`'s precheck; false (kind NONE) when its block does not start with
 * one of the shapes above with operands in range. */
bool guard_find_precheck(const prog_data *p, uint32_t rule, guard_precheck *out);

/* How many instructions at the start of promotion `rule`'s block the gates test natively before
 * running it: its target precheck on its guard string (it passes: the guard string is in the
 * cart, or the block would not run) and its precheck `c` (it held). Both leave the VM as it
 * starts (empty stacks, no comparison, no failure: a passing REQUIRE clears the comparison), so
 * the block can run from there. 0 when the block starts with neither. */
uint32_t guard_tested_prefix(const prog_data *p, uint32_t rule, const guard_precheck *c);

/* An earn rule that can be decided without its block when none of its strings is in the cart:
 * its block is [a precheck] then a set expression (line sets of strings, of attributes and of
 * comparisons with constants; SET_ALL; SET_AND, SET_OR, SET_DIFF, SET_NOT), then EARN and END,
 * where the set is empty whenever its strings' line sets are: `category in "tea"`, `brand = "x"
 * or sku = "y"`, `category in "tea" and margin >= 40%`, but not `not "clearance" in tags`. On
 * every cart without any of keys[0 .. n_keys) (its strings) the block earns on an empty set (0
 * points on base 0, the entry listed as the VM lists it) when the precheck holds, and fails at
 * the precheck, listing nothing, when it does not. */
typedef struct guard_earn {
    guard_precheck precheck; /* kind NONE when the block has none */
    guard_key keys[GUARD_MAX_KEYS];
    uint32_t n_keys;
    uint32_t earn; /* the EARN's operand */
} guard_earn;

/* Recognises earn rule `earn`'s block as above; false when it has another shape (then *out has
 * n_keys 0 and the block always runs). Linear in the block's length. */
bool guard_earn_keys(const prog_data *p, uint32_t earn, guard_earn *out);

/* The line-set opcode whose operand a guard of this kind names, or PERK_OP_COUNT for NONE or an
 * unknown kind. */
uint8_t guard_opcode(uint8_t kind);

/* "sku", "brand", "category", "category is", "tag"; "?" for anything else. */
const char *guard_kind_name(uint8_t kind);

#endif
