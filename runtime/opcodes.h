/* opcodes.h - the Perk instruction set, defined once.
 *
 * Every opcode is one line of PERK_OPCODE_LIST. The code generator (src/compiler/codegen.c), the verifier
 * (runtime/verify.c), the VM (runtime/vm.c) and the disassembler (runtime/disasm.c) all expand this
 * list, so they cannot disagree about an opcode's operand or its stack effect.
 *
 * The machine: each rule body is a straight-line block of instructions with forward jumps only
 * (so every block terminates). The operand stack holds two kinds of values, checked statically by
 * the verifier:
 *   s  a scalar int64 (bool 0/1, int, money in minor units, percent in ppm, date in days since
 *      1970-01-01, time in minutes since midnight, weekday 0=Mon..6=Sun, string id, tier index)
 *   l  a line set: a handle to a bitset over the cart's lines, living in the context's set slots
 * "pops" and "pushes" spell the stack effect, deepest first, e.g. "ls" pops a scalar then a set.
 *
 * PERK_OP(NAME, operand kind, pops, pushes, description)
 */
#ifndef PERK_OPCODES_H
#define PERK_OPCODES_H

#include <stdbool.h>
#include <stdint.h>

/* What the 32-bit operand `arg` of an instruction refers to; the verifier range-checks it. */
/* clang-format off: a table, aligned by hand */
#define PERK_ARG_KIND_LIST(X)                                                   \
    X(NONE, "no operand")                                                       \
    X(IMM, "signed 32-bit immediate")                                           \
    X(INT, "index into the int64 constant pool")                                \
    X(STRING, "index into the string pool")                                     \
    X(STRSET, "index into the string-set pool")                                 \
    X(ATTR, "index into the attribute (key, value) pool")                       \
    X(FACT, "fact id from runtime/facts.h")                                     \
    X(FIELD, "item field id from runtime/facts.h")                              \
    X(JUMP, "absolute instruction index inside the same block, after this one") \
    X(COND, "index into the condition table")                                   \
    X(ACTION, "index into the action table")                                    \
    X(EARN, "index into the earn-rule table")                                   \
    X(MULT, "index into the multiplier table")
/* clang-format on */

typedef enum perk_arg_kind {
#define PERK_ARG_ENUM(name, doc) PERK_ARG_##name,
    PERK_ARG_KIND_LIST(PERK_ARG_ENUM)
#undef PERK_ARG_ENUM
        PERK_ARG_KIND_COUNT
} perk_arg_kind;

/* Comparison operators carried in `aux` by SET_CMP and reported in explanations. */
typedef enum perk_cmp {
    PERK_CMP_EQ,
    PERK_CMP_NE,
    PERK_CMP_LT,
    PERK_CMP_LE,
    PERK_CMP_GT,
    PERK_CMP_GE
} perk_cmp;

/* The unknown value (a fact the cart does not give, docs/semantics.md "Unknown facts"): on the
 * scalar stack a scalar is a value, or PERK_UNKNOWN. Checked arithmetic never produces it (a
 * result of INT64_MIN counts as an overflow), so it cannot be confused with a value. A truth
 * value is 0 (false), 1 (true) or PERK_UNKNOWN (Kleene's third value). */
#define PERK_UNKNOWN INT64_MIN

/* a <op> b, the way the VM, the guard proofs and the prechecks all compare (false for an
 * operator out of range, and when an operand is unknown: an unknown comparison does not hold). */
static inline bool perk_cmp_holds(int op, int64_t a, int64_t b)
{
    if (a == PERK_UNKNOWN || b == PERK_UNKNOWN) return false;
    switch (op) {
    case PERK_CMP_EQ: return a == b;
    case PERK_CMP_NE: return a != b;
    case PERK_CMP_LT: return a < b;
    case PERK_CMP_LE: return a <= b;
    case PERK_CMP_GT: return a > b;
    case PERK_CMP_GE: return a >= b;
    default: return false;
    }
}

/* The operator that holds exactly when op does not (for `not` of a recorded comparison). */
static inline int perk_cmp_negate(int op)
{
    switch (op) {
    case PERK_CMP_EQ: return PERK_CMP_NE;
    case PERK_CMP_NE: return PERK_CMP_EQ;
    case PERK_CMP_LT: return PERK_CMP_GE;
    case PERK_CMP_LE: return PERK_CMP_GT;
    case PERK_CMP_GT: return PERK_CMP_LE;
    default: return PERK_CMP_LT; /* GE */
    }
}

/* clang-format off: a table, aligned by hand */
#define PERK_OPCODE_LIST(X)                                                                        \
    /* constants and facts */                                                                      \
    X(PUSH_INT, INT, "", "s", "push an int64 constant")                                            \
    X(PUSH_IMM, IMM, "", "s", "push a small signed constant")                                      \
    X(PUSH_STR, STRING, "", "s", "push a string id (to compare with a string fact)")               \
    X(LOAD_FACT, FACT, "", "s", "push a customer/order/time fact, or unknown")                     \
    X(POP, NONE, "s", "", "drop a scalar")                                                         \
    /* checked arithmetic: overflow ends the evaluation with PERK_E_OVERFLOW */                    \
    X(ADD, NONE, "ss", "s", "a + b")                                                               \
    X(SUB, NONE, "ss", "s", "a - b")                                                               \
    X(MUL, NONE, "ss", "s", "a * b")                                                               \
    X(DIV, NONE, "ss", "s", "a / b rounded toward zero; b = 0 is an error")                        \
    X(MOD, NONE, "ss", "s", "a mod b: the remainder, with the sign of a; b = 0 is an error")       \
    X(NEG, NONE, "s", "s", "-a")                                                                   \
    X(PERCENT_OF, NONE, "ss", "s", "money a times percent b (ppm), rounded by the ruleset")        \
    /* comparisons: each records its operands for explanations ("¥268.00 < ¥300.00") */          \
    X(EQ, NONE, "ss", "s", "a = b")                                                                \
    X(NE, NONE, "ss", "s", "a != b")                                                               \
    X(LT, NONE, "ss", "s", "a < b")                                                                \
    X(LE, NONE, "ss", "s", "a <= b")                                                               \
    X(GT, NONE, "ss", "s", "a > b")                                                                \
    X(GE, NONE, "ss", "s", "a >= b")                                                               \
    X(IN_RANGE, NONE, "sss", "s", "lo <= x <= hi (pops hi, lo, x)")                                \
    X(IN_MASK, IMM, "s", "s", "bit x of arg is set (weekday in [sat, sun])")                       \
    X(IN_STRSET, STRSET, "s", "s", "string id x is in a constant set")                             \
    X(NOT, NONE, "s", "s", "Kleene not: unknown stays unknown")                                    \
    X(CUSTOMER_TAG, STRING, "", "s", "the customer has this tag")                                  \
    X(COUPON, STRING, "", "s", "this coupon code was entered and is valid")                        \
    X(COUPON_FROM, STRING, "", "s", "a valid coupon of this campaign was entered")                 \
    /* control: jumps go forward only, so every block terminates */                                \
    X(JUMP, JUMP, "", "", "continue at arg")                                                       \
    X(JUMP_IF_FALSE, JUMP, "s", "s", "if top is false jump to arg; keep it either way (and)")      \
    X(JUMP_IF_TRUE, JUMP, "s", "s", "if top is true jump to arg; keep it either way (or)")         \
    X(REQUIRE, COND, "s", "", "pop a truth; false/unknown: the rule does not apply (cond arg)")    \
    X(REQUIRE_SOFT, COND, "s", "", "as REQUIRE, but keep evaluating conditions (for hints)")       \
    X(CHECK, NONE, "", "", "stop here if a REQUIRE_SOFT failed")                                   \
    /* line sets */                                                                                \
    X(SET_ALL, NONE, "", "l", "every non-gift line")                                               \
    X(SET_CATEGORY, STRING, "", "l", "lines whose category path starts with this path")            \
    X(SET_CATEGORY_IS, STRING, "", "l", "lines whose category path is exactly this path")          \
    X(SET_TAG, STRING, "", "l", "lines carrying this tag")                                         \
    X(SET_BRAND, STRING, "", "l", "lines of this brand")                                           \
    X(SET_SKU, STRING, "", "l", "lines of this sku")                                               \
    X(SET_ATTR, ATTR, "", "l", "lines whose attribute key has this value")                         \
    X(SET_CMP, FIELD, "s", "l", "lines whose field compares (aux: perk_cmp) to the scalar")        \
    X(SET_AND, NONE, "ll", "l", "intersection")                                                    \
    X(SET_OR, NONE, "ll", "l", "union")                                                            \
    X(SET_DIFF, NONE, "ll", "l", "a except b")                                                     \
    X(SET_NOT, NONE, "l", "l", "complement within the non-gift lines")                             \
    /* aggregates over a line set */                                                               \
    X(AGG_SUM, FIELD, "l", "s", "sum of a numeric field (amount: current line amounts)")           \
    X(AGG_MIN, FIELD, "l", "s", "minimum of a field (0 for an empty set)")                         \
    X(AGG_MAX, FIELD, "l", "s", "maximum of a field (0 for an empty set)")                         \
    X(AGG_COUNT, NONE, "l", "s", "units (sum of quantities)")                                      \
    X(AGG_ANY, NONE, "l", "s", "the set is not empty")                                             \
    X(AGG_SUBSET, NONE, "ll", "s", "every line of a is in b (all)")                                \
    /* effects */                                                                                  \
    X(APPLY, ACTION, "l", "", "apply a promotion action to the line set")                          \
    X(APPLY2, ACTION, "ll", "", "apply an action taking two sets (buy set, reward set)")           \
    X(EARN, EARN, "l", "", "earn points on the paid amount of the line set")                       \
    X(MULTIPLY, MULT, "", "", "offer a points multiplier")                                         \
    X(END, NONE, "", "", "end of the block")                                                       \
    /* added after END so that the numbers of the opcodes above (stored programs) stay the same */ \
    X(REQUIRE_TARGET, NONE, "s", "",                                                               \
      "pop a bool; false: the promotion ends with NOTHING (first, before conditions)")             \
    /* three-valued logic (format version 2): unknown is neither true nor false */                 \
    X(AND, NONE, "ss", "s", "Kleene a and b: false if either is false, else unknown if either is") \
    X(OR, NONE, "ss", "s", "Kleene a or b: true if either is true, else unknown if either is")     \
    X(KNOWN, NONE, "s", "s", "1 if the value is known, 0 if it is unknown (`is known`)")        \
    /* order facts and bundles: appended, the format stays version 2 (docs/bytecode.md) */      \
    X(ORDER_ATTR, STRING, "", "s",                                                                 \
      "order.attr(key): the value's string id (-1: one no rule names), unknown when absent") \
    X(BUNDLE_PART, ACTION, "l", "",                                                                \
      "mark the line set as the next part of a bundle action; its APPLY takes the last part")
/* clang-format on */

typedef enum perk_opcode {
#define PERK_OP_ENUM(name, arg, pops, pushes, doc) PERK_OP_##name,
    PERK_OPCODE_LIST(PERK_OP_ENUM)
#undef PERK_OP_ENUM
        PERK_OP_COUNT
} perk_opcode;

/* The perk_cmp of a comparison opcode EQ .. GE (listed in the same order as perk_cmp). */
static inline int perk_cmp_of_opcode(int op) { return PERK_CMP_EQ + (op - PERK_OP_EQ); }

/* Static facts about each opcode, derived from the list (runtime/opcodes.c). */
typedef struct perk_opcode_info {
    const char *name;  /* "SET_CATEGORY" */
    perk_arg_kind arg; /* what arg refers to */
    const char *pops;  /* stack effect, see above */
    const char *pushes;
    const char *doc;
} perk_opcode_info;

extern const perk_opcode_info perk_opcode_table[PERK_OP_COUNT];
extern const char *const perk_arg_kind_names[PERK_ARG_KIND_COUNT];

#endif
