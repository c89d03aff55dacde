/* program.h - a compiled ruleset in memory (internal to Perk; checkouts see perk.h only).
 *
 * The code generator (src/compiler/codegen.c) fills a prog_data; runtime/bytecode_write.c turns it into
 * bytes (docs/bytecode.md); runtime/bytecode_read.c parses bytes back into a prog_data and
 * runtime/verify.c checks it before anything runs; the VM (runtime/vm*.c) only ever sees a
 * verified prog_data. All indices are uint32 into the arrays below; PROG_NONE means "absent".
 */
#ifndef PERK_PROGRAM_H
#define PERK_PROGRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actions.h"
#include "opcodes.h"

#define PROG_NONE UINT32_MAX

/* One instruction: 8 bytes. `aux` carries a perk_cmp for SET_CMP, else 0. */
typedef struct prog_insn {
    uint8_t op;
    uint8_t aux;
    uint16_t reserved; /* must be 0 */
    uint32_t arg;
} prog_insn;

/* A range of instructions in prog_data.code, ending with END. */
typedef struct prog_block {
    uint32_t start, count;
} prog_block;

/* A source location: file is a string id (the path as given to the compiler). */
typedef struct prog_loc {
    uint32_t file, line, col;
} prog_loc;

/* A condition of a rule (`when`, `valid`, `every`, `hours`, `requires coupon`), for explanations
 * and near-miss hints. */
typedef struct prog_cond {
    uint32_t text; /* string id: the condition as written, e.g. "sum(tea) >= ¥300" */
    prog_loc loc;
    uint32_t hint_set;   /* string id of the item set whose amount the threshold measures ("tea"),
                          or PROG_NONE when adding items cannot satisfy this condition */
    uint32_t value_kind; /* what its last comparison compares: PERK_VALUE_* (perk.h), so that
                            explanations print ¥268.00 rather than 26800 */
} prog_cond;

/* What a promotion does: the kinds and their operands p[] are the table of actions.h (money in
 * minor units, percent in ppm). */
typedef struct prog_action {
    uint8_t kind;  /* prog_action_kind */
    uint32_t rule; /* the promotion it belongs to */
    int64_t p[3];
    uint32_t steps, n_steps; /* rows in prog_data.steps (QTY_PRICE, TIERS) */
    uint32_t str1, str2;
    prog_loc loc;
} prog_action;

typedef struct prog_step {
    int64_t threshold;
    int64_t value;
    uint8_t is_percent; /* TIERS: value is ppm rather than money */
} prog_step;

enum {
    PROG_RULE_STOP = 1u << 0,    /* no later promotion runs once this one applies */
    PROG_RULE_ORIGINAL = 1u << 1, /* thresholds measured on original amounts */
    PROG_RULE_CONSUME = 1u << 2,  /* `consumes`: the lines its actions read leave later promotions */
    PROG_RULE_BEST = 1u << 3,     /* its exclusive group is a best-deal group: the member that
                                     takes the most off wins (docs/semantics.md 5.8) */
    PROG_RULE_PARTIAL = 1u << 4   /* its money budget grants what is left rather than refusing
                                     a discount larger than that (docs/semantics.md 5.5) */
};

/* Evaluation stages (docs/semantics.md, "Stages"), in the order they run; the numbers are the
 * bytecode encoding. A promotion's stage comes from its action kinds (actions.h, column stage),
 * a required coupon, or its `stage` clause; the compiler decides it. */
typedef enum prog_stage {
    PROG_STAGE_ITEMS = 0,    /* single-item offers: 会员价, 第二件半价, 秒杀 */
    PROG_STAGE_ORDER = 1,    /* store-wide 满减 / 满折 */
    PROG_STAGE_COUPONS = 2,  /* coupon-gated promotions */
    PROG_STAGE_SHIPPING = 3, /* shipping offers */
    PROG_STAGE_COUNT
} prog_stage;

/* The stage's name as a rule writes it (`stage order`); "?" out of range. */
static inline const char *prog_stage_name(uint32_t stage)
{
    static const char *const names[PROG_STAGE_COUNT] = { "items", "order", "coupons", "shipping" };
    return stage < PROG_STAGE_COUNT ? names[stage] : "?";
}

/* A promotion. prog_data.rules is in evaluation order: stage, then priority ascending, then
 * declaration. */
typedef struct prog_rule {
    uint32_t id, label; /* string ids: `promotion member_day "会员日"` */
    prog_loc loc;
    prog_block code; /* conditions (REQUIRE...), then target sets and APPLY */
    int32_t priority;
    uint8_t stage; /* prog_stage */
    uint32_t flags;
    uint32_t group;                                      /* exclusive group (string id) or PROG_NONE */
    uint32_t coupon;                                     /* required code or PROG_NONE */
    uint32_t coupon_campaign;                            /* required campaign or PROG_NONE */
    int64_t cap;                                         /* per-order cap on its discount, -1 = none */
    int64_t limit_uses, limit_money, limit_per_customer; /* budgets, -1 = none */
    uint16_t limit_units; /* units per customer at the promotion's price (docs/semantics.md 5.7), 0 = none */
    uint32_t first_cond, n_conds;
    /* The guard (docs/semantics.md, "The rule index"): when no cart line matches (guard_kind,
     * guard_string), running the block is known to end in one way that does not depend on the
     * cart: failing on condition guard_cond (same comparison, same failure count every time), or
     * passing having discounted nothing (guard_cond = PROG_NONE: reason NOTHING). The rule index
     * then skips the block. Chosen by the code generator (runtime/guard.h), re-proved by the
     * verifier. guard_kind = PROG_GUARD_NONE: no guard (string and cond are PROG_NONE). */
    uint8_t guard_kind;    /* PROG_GUARD_* */
    uint32_t guard_string; /* sku / brand / category path / tag (string id) */
    uint32_t guard_cond;   /* condition whose failure a skip stands for, or PROG_NONE */
} prog_rule;

/* What a guard string names; the numbers are the bytecode encoding. Each kind is the string of
 * one line-set opcode (SET_SKU, SET_BRAND, SET_CATEGORY, SET_CATEGORY_IS, SET_TAG), so that
 * "no line matches" means exactly "that opcode pushes the empty set". */
enum {
    PROG_GUARD_NONE = 0,
    PROG_GUARD_SKU = 1,
    PROG_GUARD_BRAND = 2,
    PROG_GUARD_CATEGORY = 3,    /* category path starts with the string, by segments */
    PROG_GUARD_CATEGORY_IS = 4, /* category path is exactly the string */
    PROG_GUARD_TAG = 5,
    PROG_GUARD_KIND_COUNT
};

/* An earn rule: `then 1 point per ¥1 on items`, `cap 500`. */
typedef struct prog_earn {
    uint32_t id, label;
    prog_loc loc;
    prog_block code;           /* conditions, then the eligible set and EARN */
    int64_t points, per_money; /* `points` points per `per_money` minor units paid */
    int64_t cap;               /* per order, -1 = none */
    uint32_t first_cond, n_conds;
} prog_earn;

/* A multiplier: `then x2 on base`. */
typedef struct prog_mult {
    uint32_t id, label;
    prog_loc loc;
    prog_block code;             /* conditions, then MULTIPLY */
    int64_t num, den;            /* factor num/den, e.g. 3/2 */
    uint32_t targets, n_targets; /* earn-rule indices in u32 pool; n_targets = 0: all */
    uint32_t first_cond, n_conds;
} prog_mult;

enum { PROG_PAYS_GOODS = 1u << 0, PROG_PAYS_SHIPPING = 1u << 1 };

typedef struct prog_redeem {
    bool present;
    int64_t points, money; /* `rate 100 points = ¥1` */
    uint32_t pays_for;     /* PROG_PAYS_* */
    int64_t max_share_ppm; /* share of what they may pay for, 1000000 = all */
    int64_t min_balance;   /* points needed before any can be used */
    prog_block code;       /* optional conditions; a block with just END when none */
    uint32_t first_cond, n_conds;
} prog_redeem;

typedef struct prog_tier {
    uint32_t id, label;
    int64_t spend; /* money spent within window to reach it */
    int64_t window_seconds;
    uint32_t benefits, n_benefits; /* string ids in the u32 pool */
} prog_tier;

enum { PROG_ROUND_HALF_UP = 0, PROG_ROUND_HALF_EVEN = 1, PROG_ROUND_DOWN = 2 }; /* = money_rounding */
enum { PROG_COUPONS_STACKABLE = 0, PROG_COUPONS_ONE_PER_ORDER = 1 };

/* The largest `limit N units per customer` (it is stored in 16 bits). */
#define PROG_MAX_UNIT_LIMIT 65535

typedef struct prog_data {
    /* header */
    uint32_t name;                                         /* string id of the ruleset name */
    char currency[4];                                      /* ISO 4217, NUL-terminated */
    int32_t exponent;                                      /* minor-unit exponent of the currency */
    uint8_t rounding;                                      /* PROG_ROUND_* */
    uint8_t coupon_policy;                                 /* PROG_COUPONS_* */
    int64_t max_discount_ppm;                              /* margin guard limit, -1 = none */
    int64_t points_pending_seconds, points_expire_seconds; /* 0 = none */
    uint8_t points_expire_year_end; /* 1: points expire at the end of the local year they become
                                       available in, 2: of the next year; 0: see expire_seconds */
    uint32_t timezone;                                     /* string id: IANA name */
    int32_t tz_base_offset; /* seconds east of UTC before the first transition */
    uint32_t n_tz;
    int64_t *tz_at;     /* transition instants (UTC epoch seconds), ascending */
    int32_t *tz_offset; /* offset from each instant on */

    /* constant pools */
    uint32_t n_strings;
    uint32_t *str_off, *str_len; /* into str_bytes; each string is also NUL-terminated there */
    char *str_bytes;
    uint32_t str_bytes_len;
    uint32_t n_ints;
    int64_t *ints;
    uint32_t n_strsets;
    uint32_t *strset_off, *strset_len; /* into u32 pool; ids sorted ascending, no duplicates */
    uint32_t n_attrs;
    uint32_t *attr_key, *attr_value; /* string ids */
    uint32_t n_u32;
    uint32_t *u32; /* shared pool for lists */

    /* code and tables */
    uint32_t n_code;
    prog_insn *code;
    uint32_t n_conds;
    prog_cond *conds;
    uint32_t n_actions;
    prog_action *actions;
    uint32_t n_steps;
    prog_step *steps;
    uint32_t n_rules;
    prog_rule *rules;
    uint32_t n_earns;
    prog_earn *earns;
    uint32_t n_mults;
    prog_mult *mults;
    prog_redeem redeem;
    uint32_t n_tiers;
    prog_tier *tiers; /* ascending spend */

    /* Derived, not serialized: filled by verify_program_record() (runtime/verify.h) with the
     * deepest operand stack of any block, so that the VM can preallocate its stacks. */
    uint32_t max_scalars, max_sets;
} prog_data;

/* The text of string `id` (always NUL-terminated). id must be valid. */
static inline const char *prog_string(const prog_data *p, uint32_t id)
{
    return p->str_bytes + p->str_off[id];
}

/* The verified prog_data inside a loaded program, read-only: how tools outside libperk (the
 * disassembler in `perk compile --disasm`, the checkout glue reading budgets and tiers) see a
 * program's tables without knowing what else a perk_program holds. */
struct perk_program;
const prog_data *prog_data_of(const struct perk_program *program);

/* Frees every array of a prog_data built by the reader or the code generator (all arrays are
 * separately malloc'ed) and zeroes it. */
void prog_data_free(prog_data *p);

#endif
