/* actions.h - the kinds of promotion action, defined once with everything known about them.
 *
 * Every action kind is one row of PROG_ACTION_LIST. The AST (src/compiler/ast.h) uses the same
 * enum for promotion actions; the code generator, the margin guard (src/compiler/analyze.c), the
 * guard prover (runtime/guard.c), the verifier, the disassembler and the VM read their columns
 * from prog_action_table, so adding a kind means adding a row (and its case in the VM and the
 * checker) rather than finding every list of kinds. Switches over these columns have no
 * `default:`, so a new column value is a compile error until every reader handles it.
 *
 * Columns, in order:
 *   kind    PROG_ACT_<kind>; the numbers are the bytecode encoding (append only)
 *   name    keyword-style name ("percent-off"): AST dumps, messages
 *   stage   the evaluation stage it belongs to by default (docs/semantics.md, "Stages"): ITEMS
 *           (single-item offers), ORDER (store-wide 满减/满折, gifts, effects), SHIPPING, or SET
 *           (ITEMS, but ORDER when its set is the whole order: `10% off order` is a 满折)
 *   goods   1 when it discounts goods lines of its set(s) only (and so can be skipped, guarded and
 *           prechecked on its target); 0 for gifts, shipping and effects
 *   sets    line sets APPLY pops: 1, or 2 for APPLY2 (buy set, reward set)
 *   steps   step table: NONE, QTY (threshold = min units, value = unit price), TIERS (money
 *           thresholds), COUNT (unit thresholds)
 *   empty   when it provably adds nothing (runtime/guard.c): NEVER, FIRST (its set is empty),
 *           EITHER (either of its two sets is empty)
 *   margin  how the margin guard bounds what it takes off one item (src/compiler/analyze.c)
 *   layout  how the code generator fills p[] and str1/str2 from the AST node (codegen.c)
 *   p0..p2  what the verifier requires of each operand (PROG_OPND_*)
 *   str1    1 when str1 must be a string
 *   show    disassembly (runtime/disasm.c): %pN ppm, %mN money, %iN integer of operand pN;
 *           %q1/%q2 str1/str2 quoted; %S the step table; [..] printed only when every operand
 *           in it is present (pN >= 0, string not PROG_NONE); <A|B> A when present, else B
 *   doc     operands
 */
#ifndef PERK_ACTIONS_H
#define PERK_ACTIONS_H

#include <stdint.h>

/* clang-format off: a table, aligned by hand */
#define PROG_ACTION_LIST(X)                                                                                  \
    X(PERCENT_OFF, "percent-off", SET, 1, 1, NONE, FIRST, PERCENT, A, PPM, ANY, ANY, 0, "percent off %p0",   \
      "percent off: p0 = ppm")                                                                               \
    X(AMOUNT_OFF, "amount-off", ORDER, 1, 1, NONE, FIRST, AMOUNT, A, MONEY, ANY, ANY, 0, "amount off %m0",   \
      "amount off the set's total: p0 = money")                                                              \
    X(AMOUNT_OFF_EACH, "amount-off-each", ITEMS, 1, 1, NONE, FIRST, AMOUNT_EACH, A, MONEY, ANY, ANY, 0,      \
      "amount off each %m0", "amount off each unit: p0 = money")                                             \
    X(FIXED_PRICE, "fixed-price", ITEMS, 1, 1, NONE, FIRST, FIXED_PRICE, A, MONEY, ANY, ANY, 0,              \
      "fixed price %m0", "unit price becomes p0 (only lowers a price)")                                      \
    X(QTY_PRICE, "qty-price", ITEMS, 1, 1, QTY, FIRST, QTY_PRICE, STEPS, ANY, ANY, ANY, 0,                   \
      "price by quantity %S",                                                                                \
      "price by quantity: steps (threshold = min units of the line, value = unit price)")                    \
    X(TIERS, "tiers", ORDER, 1, 1, TIERS, FIRST, TIERS, STEPS, ANY, ANY, ANY, 0, "tiers %S",                 \
      "spend tiers: steps (threshold = money reached, value = money or ppm off)")                            \
    X(EVERY, "every", ORDER, 1, 1, NONE, FIRST, EVERY, EVERY, COUNT, MONEY, CAP, 0,                          \
      "every %m0: %m1 off[, up to %m2]", "every p0 spent: p1 off, at most p2 in all (p2 = -1: no cap)")      \
    X(BUY_GET, "buy-get", ITEMS, 1, 2, NONE, EITHER, BUY_GET, BUY_GET, COUNT, COUNT, PPM, 0,                 \
      "buy %i0 get %i1 at %p2 off", "buy p0 get p1: reward units get p2 ppm off (1000000 = free); APPLY2")   \
    X(N_FOR, "n-for", ITEMS, 1, 1, NONE, FIRST, N_FOR, A_C, COUNT, MONEY, ANY, 0, "any %i0 for %m1",         \
      "any p0 units for p1")                                                                                 \
    X(GIFT, "gift", ORDER, 0, 1, NONE, NEVER, NONE, GIFT, COUNT, ANY, ANY, 1, "gift %i0 of %q1[ %q2]",       \
      "gift: str1 = sku, str2 = name, p0 = quantity")                                                        \
    X(FREE_SHIPPING, "free-shipping", SHIPPING, 0, 1, NONE, NEVER, NONE, NONE, ANY, ANY, ANY, 0,             \
      "free shipping", "shipping becomes 0")                                                                 \
    X(SHIPPING_OFF, "shipping-off", SHIPPING, 0, 1, NONE, NEVER, NONE, SHIPPING, MONEY, PPM_OR_NONE, ANY, 0, \
      "shipping off <%p1|%m0>", "shipping reduced by p0 money, or by p1 ppm when p1 >= 0")                   \
    X(EFFECT, "effect", ORDER, 0, 1, NONE, NEVER, NONE, EFFECT, ANY, ANY, ANY, 1, "effect %q1[ %q2]",        \
      "custom effect: str1 = kind, str2 = payload")                                                          \
    X(MOST_EXPENSIVE, "most-expensive", ITEMS, 1, 1, NONE, FIRST, PERCENT, A_C, PPM, COUNT, ANY, 0,          \
      "%p0 off the most expensive %i1", "p0 ppm off the p1 most expensive units of the set")             \
    X(COUNT_TIERS, "count-tiers", ORDER, 1, 1, COUNT, FIRST, COUNT_TIERS, STEPS, ANY, ANY, ANY, 0,          \
      "tiers on count %S", "count tiers: steps (threshold = units of the set, value = money or ppm off)") \
    X(BUY_GET_SKU, "buy-get-per-sku", ITEMS, 1, 1, NONE, FIRST, BUY_GET, BUY_GET, COUNT, COUNT, PPM, 0,      \
      "buy %i0 get %i1 at %p2 off per sku",                                                                 \
      "buy p0 get p1 within each SKU of the set: reward units get p2 ppm off (1000000 = free)")      \
    X(TIERS_STORE, "tiers-per-store", ORDER, 1, 1, TIERS, FIRST, TIERS, STEPS, ANY, ANY, ANY, 0,            \
      "tiers %S per store",                                                                                 \
      "spend tiers measured and taken off within each store of the set (lines without a store: one group)") \
    X(EVERY_STORE, "every-per-store", ORDER, 1, 1, NONE, FIRST, EVERY, EVERY, COUNT, MONEY, CAP, 0,          \
      "every %m0: %m1 off[, up to %m2] per store",                                                          \
      "every p0 spent within one store: p1 off, at most p2 per store (lines without a store: one group)") \
    X(BUNDLE, "bundle", ITEMS, 1, 1, PARTS, NEVER, BUNDLE, BUNDLE, COUNT, ANY, ANY, 0, "bundle %S for %m0",  \
      "a bundle: steps = its parts (threshold = units, value = the part's name string or -1); p0 = the "  \
      "bundle price (>= 1); parts but the last marked by BUNDLE_PART, the last part's set on APPLY")  \
    X(REWARD_COUPON, "reward-coupon", ORDER, 0, 1, NONE, NEVER, NONE, REWARD, SECONDS, SECONDS, SECONDS, 1, \
      "coupon from %q1 (valid %i0 s, or from %i1 to %i2)", \
      "满500返50券: str1 = campaign; p0 = seconds valid after the commit (0 = see p1, p2), p1 = valid "  \
      "from (unix seconds, 0 = the commit), p2 = expires at (0 = never); p0 > 0 only with p1 = p2 = 0, " \
      "p2 > p1 when both are set; the store issues the code at commit")
/* clang-format on */

typedef enum prog_action_kind {
#define PROG_ACTION_ENUM(kind, ...) PROG_ACT_##kind,
    PROG_ACTION_LIST(PROG_ACTION_ENUM)
#undef PROG_ACTION_ENUM
        PROG_ACT_COUNT
} prog_action_kind;

/* stage: where the action puts its promotion by default (src/compiler/stage.c reads it) */
typedef enum prog_action_stage {
    PROG_ASTAGE_ITEMS,    /* single-item offers: 会员价, 第二件半价, 秒杀, per-item prices */
    PROG_ASTAGE_ORDER,    /* store-wide offers spread over a set: 满减, 满折, tiers, gifts */
    PROG_ASTAGE_SHIPPING, /* shipping */
    PROG_ASTAGE_SET       /* ITEMS, or ORDER when its set is the whole order */
} prog_action_stage;

/* steps */
typedef enum prog_steps_kind {
    PROG_STEPS_NONE,
    PROG_STEPS_QTY,   /* threshold = min units of the line, value = unit price */
    PROG_STEPS_TIERS, /* threshold = money reached, value = money or ppm off */
    PROG_STEPS_COUNT, /* threshold = units of the set (>= 1), value = money or ppm off */
    PROG_STEPS_PARTS  /* a bundle's parts: threshold = units of the part (>= 1), value = its name
                         (a string id) or -1; 2 to PROG_BUNDLE_MAX_PARTS of them, in any order */
} prog_steps_kind;

/* empty: when the action adds nothing and cannot fail (runtime/guard.c proves skips with it) */
typedef enum prog_empty_kind { PROG_EMPTY_NEVER, PROG_EMPTY_FIRST, PROG_EMPTY_EITHER } prog_empty_kind;

/* margin: the most the action can take off one item, in ppm of its price */
typedef enum prog_margin_kind {
    PROG_MARGIN_NONE,        /* takes nothing off goods (gifts, shipping, effects) */
    PROG_MARGIN_PERCENT,     /* its percent (AST operand a) */
    PROG_MARGIN_AMOUNT,      /* the amount over the money threshold its conditions demand */
    PROG_MARGIN_AMOUNT_EACH, /* the amount over the lowest price its set admits */
    PROG_MARGIN_FIXED_PRICE, /* 1 - the price over the lowest price its set admits */
    PROG_MARGIN_QTY_PRICE,   /* 1 - the lowest step price over the lowest price its set admits */
    PROG_MARGIN_TIERS,       /* the deepest step */
    PROG_MARGIN_EVERY,       /* off per step over the step */
    PROG_MARGIN_BUY_GET,     /* the reward percent (100% for `free`) */
    PROG_MARGIN_N_FOR,       /* 1 - the group price over n units at the lowest price */
    PROG_MARGIN_COUNT_TIERS, /* the deepest row: its percent, or its amount over its units at the lowest price */
    PROG_MARGIN_BUNDLE       /* 1 - the bundle price over its units at the lowest price its parts admit */
} prog_margin_kind;

/* layout: operands from the AST node (src/compiler/ast.h describes each node's a, b, c, list) */
typedef enum prog_layout_kind {
    PROG_LAYOUT_NONE,     /* no operands */
    PROG_LAYOUT_A,        /* p0 = a */
    PROG_LAYOUT_A_C,      /* p0 = a, p1 = c */
    PROG_LAYOUT_STEPS,    /* the step table from list */
    PROG_LAYOUT_EVERY,    /* p0 = a, p1 = c, p2 = list[0] or -1 */
    PROG_LAYOUT_BUY_GET,  /* p0 = a, p1 = c, p2 = list[1] or 100%; second set list[0] or b */
    PROG_LAYOUT_GIFT,     /* p0 = a or 1, str1 = name, str2 = label or name */
    PROG_LAYOUT_SHIPPING, /* a money: p0 = a, p1 = -1; a percent: p0 = 0, p1 = a */
    PROG_LAYOUT_EFFECT,   /* str1 = name, str2 = label or "" */
    PROG_LAYOUT_BUNDLE,   /* p0 = c (the price); steps = the parts in list (AST_BUNDLE_PART: a = units, b = set) */
    PROG_LAYOUT_REWARD    /* str1 = name; p0 = value (seconds) when ival = 1; p1, p2 = value, value2 (local
                             seconds, converted to UTC) when ival = 2 (src/compiler/check_reward.c) */
} prog_layout_kind;

/* p0..p2: what the verifier requires of an operand */
typedef enum prog_operand_kind {
    PROG_OPND_ANY,        /* unused: anything */
    PROG_OPND_PPM,        /* 0 ..= 1000000 */
    PROG_OPND_MONEY,      /* >= 0 */
    PROG_OPND_COUNT,      /* >= 1 */
    PROG_OPND_CAP,        /* >= -1 (-1 = none) */
    PROG_OPND_PPM_OR_NONE, /* -1, or 0 ..= 1000000 */
    PROG_OPND_SECONDS      /* >= 0: a duration or an instant in unix seconds, 0 = none */
} prog_operand_kind;

/* The most parts a bundle has (a part is a bit of the VM's per-line part mask). */
#define PROG_BUNDLE_MAX_PARTS 16

typedef struct prog_action_info {
    const char *name;
    prog_action_stage stage;
    uint8_t goods, sets;
    prog_steps_kind steps;
    prog_empty_kind empty;
    prog_margin_kind margin;
    prog_layout_kind layout;
    prog_operand_kind operand[3];
    uint8_t needs_str1;
    const char *show, *doc;
} prog_action_info;

extern const prog_action_info prog_action_table[PROG_ACT_COUNT];

/* The row of `kind`, or NULL for a kind out of range (an unverified program). */
static inline const prog_action_info *prog_action_info_of(uint32_t kind)
{
    return kind < PROG_ACT_COUNT ? &prog_action_table[kind] : 0;
}

#endif
