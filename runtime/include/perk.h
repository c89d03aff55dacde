/* perk.h - the public C API of libperk, what a checkout service links.
 *
 * Lifecycle:
 *   1. perk_program_load() / perk_program_load_file(): parse and verify a compiled ruleset
 *      (.pbc). A loaded program is immutable and may be shared by any number of threads.
 *   2. perk_context_new(): one evaluation context per thread. It allocates what the program
 *      needs (per promotion, per string) and room for a few cart lines; feeding a cart larger
 *      than any before grows it (up to the limits), so its memory follows the largest cart seen,
 *      not max_lines (docs/api.md, "Memory"). perk_evaluate() does not allocate (but for the
 *      allocation log past 64 allocations a line on average, once per new high).
 *   3. Per cart: perk_cart_reset(), then perk_cart_set_customer(), perk_cart_set_order(),
 *      perk_cart_add_line() for each line, perk_cart_add_coupon(), optionally
 *      perk_cart_set_usage() (budget consumption read from the store), then perk_evaluate().
 *   4. Read the perk_result it returns (valid until the next perk_cart_reset(),
 *      perk_cart_add_line() or perk_evaluate() on that context).
 *
 * Money is int64 minor units of the program's currency (cents for CNY/USD, yen for JPY).
 * Percentages are parts per million (15% = 150000). Strings passed in are borrowed: they must stay
 * valid until the result has been read. Every function is safe to call with any input: bad input
 * returns an error status, never crashes.
 */
#ifndef PERK_H
#define PERK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version of this header. perk_version() is the library's: a program built against one
 * header and run with another libperk.so can compare them (docs/api.md, "Versions"). The
 * major version is the SONAME's (libperk.so.0). */
#define PERK_VERSION_MAJOR 0
#define PERK_VERSION_MINOR 1
#define PERK_VERSION_PATCH 0
#define PERK_VERSION_STRING "0.1.0"
#define PERK_VERSION_NUMBER (PERK_VERSION_MAJOR * 10000 + PERK_VERSION_MINOR * 100 + PERK_VERSION_PATCH)

/* The public API. libperk is built with -fvisibility=hidden and a version script
 * (runtime/libperk.map): what is declared between PERK_API_BEGIN and PERK_API_END, and only
 * that, is exported from libperk.so. PERK_API marks a single declaration elsewhere. */
#if defined(__GNUC__) || defined(__clang__)
#define PERK_API __attribute__((visibility("default")))
#define PERK_API_BEGIN _Pragma("GCC visibility push(default)")
#define PERK_API_END _Pragma("GCC visibility pop")
#else
#define PERK_API
#define PERK_API_BEGIN
#define PERK_API_END
#endif
PERK_API_BEGIN

/* The version of the libperk actually running, encoded as
 * PERK_VERSION_NUMBER is (major * 10000 + minor * 100 + patch), and as text ("0.1.0"). */
int perk_version(void);
const char *perk_version_string(void);

/* Status codes, defined once: PERK_STATUS(NAME, name, message); `name` is the lower-case
 * spelling that JSON results use. */
/* clang-format off: a table, aligned by hand */
#define PERK_STATUS_LIST(X)                                                  \
    X(OK, ok, "ok")                                                          \
    X(NOMEM, nomem, "out of memory")                                         \
    X(IO, io, "cannot read the file")                                        \
    X(BAD_MAGIC, bad_magic, "not a Perk program (bad magic number)")         \
    X(VERSION, version, "program format version is newer than this libperk") \
    X(TRUNCATED, truncated, "program is truncated")                          \
    X(CHECKSUM, checksum, "program checksum mismatch (corrupted file)")      \
    X(MALFORMED, malformed, "program is malformed")                          \
    X(VERIFY, verify, "program failed verification")                         \
    X(INVALID, invalid, "invalid argument")                                  \
    X(LIMIT, limit, "a configured limit was exceeded")                       \
    X(CURRENCY, currency, "currency does not match the program")             \
    X(OVERFLOW, overflow, "arithmetic overflow in money or points")          \
    X(BUDGET, budget, "instruction budget exhausted")                        \
    X(STATE, state, "call out of order")
/* clang-format on */

typedef enum perk_status {
#define PERK_STATUS_ENUM(NAME, name, msg) PERK_##NAME,
    PERK_STATUS_LIST(PERK_STATUS_ENUM)
#undef PERK_STATUS_ENUM
        PERK_STATUS_COUNT
} perk_status;

/* The generic message of a status code. */
const char *perk_status_message(perk_status status);

/* A detailed error: which check failed and where, e.g.
 * "verify: rule 3 (member_day) instruction 17: jump target 40 outside its block". */
typedef struct perk_error {
    perk_status status;
    char message[256];
} perk_error;

/* ---------------------------------------------------------------- programs */

typedef struct perk_program perk_program;

/* Parses and verifies `len` bytes (copied; the caller may free them afterwards).
 * On failure returns NULL and fills *err (err may be NULL). */
perk_program *perk_program_load(const void *bytes, size_t len, perk_error *err);
perk_program *perk_program_load_file(const char *path, perk_error *err);
void perk_program_free(perk_program *program);

/* Reference counting, for hot reload: a checkout swaps its program pointer atomically and
 * releases the old one when the last context using it is done. perk_program_free() drops one. */
perk_program *perk_program_retain(perk_program *program);

/* Accessors: a NULL program or an index out of range gives NULL (strings), 0 (counts) or -1. */
const char *perk_program_name(const perk_program *program);
const char *perk_program_currency(const perk_program *program);
/* The IANA name of the rule set's time zone ("Asia/Shanghai"): the zone its dates and hours mean. */
const char *perk_program_timezone(const perk_program *program);
int perk_program_exponent(const perk_program *program);
/* Promotions, in evaluation order. */
size_t perk_program_promotion_count(const perk_program *program);
const char *perk_program_promotion_id(const perk_program *program, size_t index);
/* The tiers of the loyalty programme, as named in the rules (a cart's customer.tier must be one). */
size_t perk_program_tier_count(const perk_program *program);
const char *perk_program_tier_id(const perk_program *program, size_t index);
const char *perk_program_promotion_label(const perk_program *program, size_t index);
/* How the rules wrote the promotion's discount when they wrote it as a 折 ("95折 (5% off)"), for
 * explanations; NULL otherwise. */
const char *perk_program_promotion_note(const perk_program *program, size_t index);
/* Whether the promotion pairs units within each SKU (`buy 1 of tea get 1 at 50% off per sku`), so
 * that an explanation can show its discount per SKU. */
bool perk_program_promotion_per_sku(const perk_program *program, size_t index);
/* Whether the promotion `consumes` the lines it uses (docs/semantics.md 5.6): once it applies,
 * later promotions neither count nor discount them. For explanations. */
bool perk_program_promotion_consumes(const perk_program *program, size_t index);
/* 满500返50券: the campaign whose code promotion `index` rewards (`then coupon from "RETURN50"`),
 * or NULL when it rewards none; the period as in perk_reward_coupon (each out pointer may be
 * NULL). The store reads it from the published version rather than from a caller's result. */
const char *perk_program_promotion_reward_coupon(const perk_program *p, size_t index, int64_t *valid_from,
                                                 int64_t *expires_at, int64_t *valid_seconds);
/* Finds a promotion by id; returns its index or -1. */
long perk_program_find_promotion(const perk_program *program, const char *id);
size_t perk_program_earn_count(const perk_program *program);
const char *perk_program_earn_id(const perk_program *program, size_t index);

/* ---------------------------------------------------------------- contexts */

/* Limits an embedding service may configure; perk_limits_default() documents the defaults. */
/* How much of each promotion's outcome an evaluation explains (perk_limits.explain). */
typedef enum perk_explain {
    PERK_EXPLAIN_ALL = 0, /* every promotion: applied, or why not (the default) */
    PERK_EXPLAIN_APPLIED  /* the promotions that applied; every other one has reason UNEXPLAINED */
} perk_explain;

typedef struct perk_limits {
    uint32_t max_lines;          /* cart lines (default 10000) */
    int64_t max_quantity;        /* per line (default 1000000) */
    int64_t max_money;           /* largest unit price / shipping (default 10^15 minor units) */
    uint32_t max_tags;           /* tags per line and per customer, attributes per line (default 64) */
    uint32_t max_coupons;        /* entered coupon codes (default 16) */
    uint64_t instruction_budget; /* per evaluation (default 10,000,000) */
    uint32_t max_rules;          /* promotions + earn rules + multipliers of the program: a
                                    context for a larger one is refused (default 20000, the
                                    compiler's default limit too) */
    uint32_t max_hints;          /* near-miss hints per result: the first ones in evaluation
                                    order (default 16; 0 gives none). Promotions are visited for
                                    a hint only while there is room for one, so a small number
                                    keeps large programs fast */
    perk_explain explain;        /* PERK_EXPLAIN_ALL (default) or PERK_EXPLAIN_APPLIED: a checkout
                                    that reads only what applied skips explaining the rest, so
                                    promotions that cannot apply to a cart cost it (nearly)
                                    nothing. Totals, lines, allocations, gifts, effects, points,
                                    hints, coupon verdicts and the instruction count are the same
                                    either way (docs/semantics.md, section 16) */
} perk_limits;

perk_limits perk_limits_default(void);

typedef struct perk_context perk_context;

/* Creates a context for `program` (retained until the context is freed). limits may be NULL
 * for the defaults. Returns NULL on failure, with *err filled. */
perk_context *perk_context_new(perk_program *program, const perk_limits *limits, perk_error *err);
void perk_context_free(perk_context *ctx);

/* ---------------------------------------------------------------- carts */

typedef struct perk_attr {
    const char *key, *value;
} perk_attr;

/* Unknown is not zero. A fact the cart does not give is unknown, and a condition on an unknown
 * fact does not hold (docs/semantics.md, "Unknown facts"). In these structs a zero field is
 * unknown wherever the fact can be unknown: a NULL string, a 0 birthday month, and each number
 * whose `has_` flag is false. So a zeroed struct, PERK_LINE_INIT / PERK_CUSTOMER_INIT /
 * PERK_ORDER_INIT, knows nothing it was not told, exactly as a cart JSON without the keys. */
#define PERK_LINE_INIT \
    {                  \
        0              \
    }
#define PERK_CUSTOMER_INIT \
    {                      \
        0                  \
    }
#define PERK_ORDER_INIT \
    {                   \
        0               \
    }

typedef struct perk_line {
    const char *id;          /* optional line id, echoed in the result */
    const char *sku;         /* required */
    const char *name;        /* optional display name */
    const char *category;    /* optional category path, segments separated by '/': "tea/green" */
    const char *brand;       /* optional */
    const char *const *tags; /* optional */
    size_t n_tags;
    const perk_attr *attrs; /* optional custom attributes */
    size_t n_attrs;
    int64_t unit_price; /* minor units, 0 <= unit_price <= limits.max_money */
    int64_t quantity;   /* 1 <= quantity <= limits.max_quantity */
    int64_t margin_ppm; /* gross margin as a share of the price, 0..1000000 when has_margin */
    bool has_margin;    /* false (zero): the margin is unknown and margin_ppm is ignored */
    /* appended in 0.2 (the fields above keep their offsets) */
    const char *store; /* the store or seller of the line (跨店满减), NULL = unknown */
} perk_line;

typedef struct perk_customer {
    const char *id;   /* NULL = unknown (a guest) */
    const char *tier; /* tier id as named in the rules; NULL (or a name the rules lack) = unknown */
    const char *const *tags;
    size_t n_tags;
    int birthday_month, birthday_day; /* 0 = unknown */
    int birthday_year;                /* 0 = unknown */
    int64_t member_since_days;        /* days since 1970-01-01 (when has_member_since) */
    bool first_order;                 /* when has_first_order */
    int64_t order_count;              /* when has_order_count */
    int64_t points_balance;           /* when has_points_balance (unknown: nothing to redeem) */
    /* presence: false (zero) = the fact is unknown and the field beside it is ignored */
    bool has_member_since; /* false: not a member, or not known to be one */
    bool has_first_order, has_order_count, has_points_balance;
} perk_customer;

typedef struct perk_order {
    const char *id;                /* optional */
    const char *currency;          /* must equal the program's currency (NULL = assume it) */
    int64_t time;                  /* epoch seconds (UTC) of the order; converted to the
                                      ruleset's time zone */
    const char *channel;           /* "miniprogram", "app", "web", "pos", ...; NULL = unknown */
    int64_t shipping;              /* shipping fee before discounts, minor units */
    const char *subscription_plan; /* periodic orders: the plan id, else NULL */
    int64_t delivery_number;       /* periodic orders: 1 for the first delivery, 0 = none */
    int64_t points_to_redeem;      /* points the customer asks to use; -1 = as many as allowed */
    /* appended in 0.2 (the fields above keep their offsets) */
    const char *region;     /* delivery province or city, e.g. "新疆" (偏远地区); NULL = unknown */
    const perk_attr *attrs; /* optional order-level custom attributes (`order.attr("key")`) */
    size_t n_attrs;
} perk_order;

/* The store's verdict on an entered coupon code (PERK_COUPON_UNCHECKED when no store was asked:
 * the code is then accepted if a promotion requires it). */
/* clang-format off: a table, aligned by hand */
#define PERK_COUPON_STATUS_LIST(X) /* PERK_COUPON_STATUS(NAME, name in cart JSON) */ \
    X(UNCHECKED, unchecked)        /* = 0 */                                         \
    X(VALID, valid)                                                                  \
    X(UNKNOWN, unknown)                                                              \
    X(EXPIRED, expired)                                                              \
    X(USED_UP, used_up)                                                              \
    X(NOT_FOR_CUSTOMER, not_for_customer)                                            \
    X(REVOKED, revoked) /* appended: the numbers above are kept */                   \
    X(NOT_YET_VALID, not_yet_valid)
/* clang-format on */

typedef enum perk_coupon_status {
#define PERK_COUPON_STATUS_ENUM(NAME, name) PERK_COUPON_##NAME,
    PERK_COUPON_STATUS_LIST(PERK_COUPON_STATUS_ENUM)
#undef PERK_COUPON_STATUS_ENUM
} perk_coupon_status;

/* Budget consumption of a promotion so far, as read from the store. */
typedef struct perk_usage {
    int64_t uses, money, customer_uses;
} perk_usage;

/* Starts a new cart (also clears the previous result). */
void perk_cart_reset(perk_context *ctx);
perk_status perk_cart_set_customer(perk_context *ctx, const perk_customer *customer);
perk_status perk_cart_set_order(perk_context *ctx, const perk_order *order);
/* A line beyond the largest cart the context has held grows it (PERK_NOMEM, poisoning the cart,
 * if memory runs out); the same for new strings, usages and exclusions. */
perk_status perk_cart_add_line(perk_context *ctx, const perk_line *line);
perk_status perk_cart_add_coupon(perk_context *ctx, const char *code, const char *campaign,
                                 perk_coupon_status status);
perk_status perk_cart_set_usage(perk_context *ctx, size_t promotion_index, const perk_usage *usage);
/* Units the customer has already bought at the price of a promotion with `limit N units per
 * customer` (read from the store, like perk_cart_set_usage): only N minus these get it now. */
perk_status perk_cart_set_customer_units(perk_context *ctx, size_t promotion_index, int64_t units);
/* Excludes a promotion from this evaluation (used after a budget conflict at commit). */
perk_status perk_cart_exclude(perk_context *ctx, size_t promotion_index);
/* The detailed message of the last failed perk_cart_* or perk_evaluate call. */
const char *perk_context_error(const perk_context *ctx);

/* ---------------------------------------------------------------- results */

/* Why a promotion did not apply. PERK_REASON(NAME, name, text); `name` is the lower-case spelling
 * that JSON results use. */
/* clang-format off: a table, aligned by hand */
#define PERK_REASON_LIST(X)                                                                      \
    X(APPLIED, applied, "applied")                                                               \
    X(CONDITION, condition, "a condition is not met")                                            \
    X(COUPON_MISSING, coupon_missing, "its coupon was not entered")                              \
    X(COUPON_REJECTED, coupon_rejected, "its coupon was rejected")                               \
    X(EXCLUSIVE, exclusive, "another promotion of its exclusive group applied")                  \
    X(STOPPED, stopped, "an earlier promotion stops further promotions")                         \
    X(BUDGET_USES, budget_uses, "its redemption limit is used up")                               \
    X(BUDGET_MONEY, budget_money, "its money budget is used up")                                 \
    X(BUDGET_CUSTOMER, budget_customer, "this customer has used it the maximum number of times") \
    X(NOTHING, nothing, "nothing in the cart to apply it to")                                    \
    X(EXCLUDED, excluded, "excluded by the caller")                                              \
    X(ONE_COUPON, one_coupon, "only one coupon per order")                                       \
    X(UNEXPLAINED, unexplained, "did not apply (the evaluation explains only what applied)")
/* clang-format on */

typedef enum perk_reason {
#define PERK_REASON_ENUM(NAME, name, text) PERK_REASON_##NAME,
    PERK_REASON_LIST(PERK_REASON_ENUM)
#undef PERK_REASON_ENUM
        PERK_REASON_COUNT
} perk_reason;

const char *perk_reason_text(perk_reason reason);

/* One discount allocated to one line. */
typedef struct perk_allocation {
    uint32_t line;      /* index of the line in the cart */
    uint32_t promotion; /* promotion index */
    int64_t amount;     /* > 0 */
} perk_allocation;

typedef struct perk_line_result {
    int64_t original;                         /* unit_price * quantity */
    int64_t final;                            /* original minus its allocations */
    uint32_t first_allocation, n_allocations; /* into result->allocations */
    bool is_gift;                             /* added by a gift action (original = final = 0) */
    uint32_t gift_promotion;
} perk_line_result;

typedef struct perk_promotion_result {
    uint32_t promotion;
    perk_reason reason; /* PERK_REASON_APPLIED or why not */
    int64_t discount;   /* on goods */
    int64_t shipping_discount;
    /* when reason = CONDITION: which condition failed, and the comparison it made */
    uint32_t failed_condition; /* index usable with perk_condition_text/loc, or UINT32_MAX */
    bool has_comparison;
    int64_t observed, expected; /* e.g. 26800 vs 30000 */
    int comparison;             /* perk_cmp of the failed comparison (opcodes.h) */
    /* the condition failed because a value is unknown: which one (perk_unknown_name), else 0 */
    uint32_t unknown_fact;
} perk_promotion_result;
/* reason = NOTHING with has_comparison: a bundle whose units cost no more than its price took
 * nothing off; observed = what the first set's units cost, expected = the bundle's price,
 * comparison = PERK_CMP_GT (what a set needs to save anything). The struct keeps its size: a
 * context holds one per promotion. */

/* What a promotion's result says beyond perk_promotion_result, which keeps its size and layout:
 * result->promotion_extra[i] belongs to result->promotions[i]. */
typedef struct perk_promotion_extra {
    /* Best-deal groups (`exclusive "g" best`, docs/semantics.md 5.8): for a member that could
     * apply, what it takes off or would have taken off (discount + shipping saving, after its cap
     * and money budget), else -1; and the member that won its group (itself when it won), else
     * UINT32_MAX. -1 / UINT32_MAX for a promotion in no best-deal group. */
    int64_t best_saving;
    uint32_t best_winner;
    /* Partial budgets (`limit ¥200000 total, partial`, docs/semantics.md 5.5): when the money
     * budget had less left than the discount (after its cap), what it wanted (discount +
     * shipping saving) and what it was granted (all that was left); -1 / -1 otherwise. */
    int64_t budget_wanted, budget_granted;
} perk_promotion_extra;

typedef struct perk_gift {
    uint32_t promotion;
    const char *sku, *name;
    int64_t quantity;
} perk_gift;

typedef struct perk_effect {
    uint32_t promotion;
    const char *kind, *payload;
} perk_effect;

/* What became of an entered coupon code: PERK_COUPON_VERDICT(NAME, name in results, message). */
/* clang-format off: a table, aligned by hand */
#define PERK_COUPON_VERDICT_LIST(X)                                                     \
    X(ACCEPTED, accepted, "accepted") /* = 0 */                                         \
    /* no promotion uses it / the store does not know it */                             \
    X(REJECTED_UNKNOWN, unknown, "unknown code")                                        \
    X(REJECTED_EXPIRED, expired, "the code has expired")                                \
    X(REJECTED_USED_UP, used_up, "the code is used up")                                 \
    X(REJECTED_NOT_FOR_CUSTOMER, not_for_customer, "the code is not for this customer") \
    X(REJECTED_CONDITIONS, conditions, "its promotion's conditions are not met")        \
    X(REJECTED_ONE_PER_ORDER, one_per_order, "only one coupon per order")               \
    X(REJECTED_REVOKED, revoked, "the code was revoked") /* appended */                 \
    X(REJECTED_NOT_YET_VALID, not_yet_valid, "the code is not valid yet")
/* clang-format on */

typedef enum perk_coupon_verdict {
#define PERK_COUPON_VERDICT_ENUM(NAME, name, msg) PERK_COUPON_##NAME,
    PERK_COUPON_VERDICT_LIST(PERK_COUPON_VERDICT_ENUM)
#undef PERK_COUPON_VERDICT_ENUM
} perk_coupon_verdict;

typedef struct perk_coupon_result {
    const char *code;
    perk_coupon_verdict verdict;
    uint32_t promotion; /* the promotion it unlocked, or UINT32_MAX */
} perk_coupon_result;

typedef struct perk_points_result {
    uint32_t earn_rule;
    int64_t base;               /* paid amount of its eligible lines, minor units */
    int64_t points;             /* after multiplier and cap */
    int64_t mult_num, mult_den; /* the multiplier applied (1/1 when none) */
    uint32_t multiplier;        /* multiplier index, or UINT32_MAX */
    bool capped;
} perk_points_result;

/* A near-miss: "add ¥32.00 of tea to get 满300赠样品", or, for a count tier's next row, "add 1
 * unit of skincare to get 20% off". */
typedef struct perk_hint {
    uint32_t promotion;
    /* a count tier's next row (`tiers on count(S)`): the shortfall is in units, and
     * result->hint_next[i] says what that row takes off; false for a money threshold. (It sits in
     * what was padding, so the struct keeps the size and layout it had in 0.1.0: a hint array
     * is walked by its element size.) */
    bool units;
    int64_t shortfall;    /* money to add; units to add when `units` */
    const char *set_name; /* the item set that counts ("tea"), or "items" */
} perk_hint;

/* What a count tier's next row takes off, for a hint with `units` (zero for other hints); for a
 * bundle one part short (`bundle`, appended after 0.2), value is the bundle's price and the hint's
 * set_name names the missing part; for a threshold measured per store (`per_store`, appended
 * after 0.2), the hint's shortfall is money to add within one store, value what that store's
 * first step takes off, and result->hint_store[i] names the store. (The appended fields sit in
 * what was padding: the struct keeps its size.) */
typedef struct perk_hint_next {
    int64_t value;   /* ppm when is_percent, else money in minor units */
    bool is_percent;
    bool bundle;    /* the units complete a bundle (`bundle 1 of a + 2 of b for ¥X`) */
    bool per_store; /* `tiers ... per store` / `every ... per store`: the money is to be added to
                       the lines of one store (跨店满减, "add ¥20.00 in store 甲") */
} perk_hint_next;

/* A promotion with `limit N units per customer` that applied: how many units got its price
 * (docs/semantics.md 5.7); the store adds them to the customer's count at commit. */
typedef struct perk_promotion_units {
    uint32_t promotion;
    int64_t units;
} perk_promotion_units;

/* 满500返50券: a coupon the order earns (`then coupon from "RETURN50"`, docs/semantics.md). The
 * evaluation only says so; the store issues one code of `campaign`, usable once and only by the
 * order's customer, when the order is committed (never for an anonymous order), and revokes it
 * unused when the order is refunded. The code's period: from valid_from (0 = the commit) until
 * expires_at (0 = never), or, when valid_seconds > 0, for valid_seconds after the commit. */
typedef struct perk_reward_coupon {
    uint32_t promotion;
    const char *campaign;
    int64_t valid_from, expires_at; /* unix seconds */
    int64_t valid_seconds;
} perk_reward_coupon;

typedef struct perk_result {
    perk_status status; /* PERK_OK, or why the evaluation failed (then nothing else is set) */
    const char *currency;
    int exponent;
    int64_t subtotal; /* sum of line originals */
    int64_t discount; /* sum of all allocations */
    int64_t shipping_before, shipping_after;
    int64_t points_redeemable;             /* most points usable on this order */
    int64_t points_redeemed;               /* points used (min of request and redeemable) */
    int64_t redeem_value;                  /* money those points pay */
    int64_t redeem_goods, redeem_shipping; /* how redeem_value splits */
    int64_t payable;                       /* subtotal - discount + shipping_after - redeem_value */
    int64_t points_earned;                 /* sum over earn rules */
    uint32_t n_lines;
    const perk_line_result *lines;
    uint32_t n_allocations;
    const perk_allocation *allocations;
    uint32_t n_promotions; /* one per promotion of the program, in evaluation order */
    const perk_promotion_result *promotions;
    uint32_t n_gifts;
    const perk_gift *gifts;
    uint32_t n_effects;
    const perk_effect *effects;
    uint32_t n_coupons;
    const perk_coupon_result *coupons;
    uint32_t n_points;
    const perk_points_result *points;
    uint32_t n_hints;
    const perk_hint *hints;
    uint64_t instructions;       /* executed, for profiling */
    uint32_t promotions_visited; /* for profiling: promotions this evaluation looked at (gates or
                                    block); every other one kept the default result the rule
                                    index holds for it, at no cost (docs/semantics.md 15) */
    const perk_hint_next *hint_next; /* n_hints entries, parallel to hints (appended after 0.1.0) */
    uint32_t n_promotion_units;      /* appended after 0.1.0: one per applied unit-limited promotion */
    const perk_promotion_units *promotion_units;
    const perk_promotion_extra *promotion_extra; /* n_promotions entries, parallel to promotions
                                                    (appended after 0.1.0); NULL when the program
                                                    has no best-deal group and no partial budget */
    uint32_t n_reward_coupons;               /* appended after 0.1.0 */
    const perk_reward_coupon *reward_coupons; /* of the applied promotions, in order */
    const char *const *hint_store; /* n_hints entries, parallel to hints (appended after 0.1.0): for
                                      a per-store hint (hint_next[i].per_store) the store's name
                                      as the cart gave it, NULL for the lines without a store;
                                      NULL for every other hint */
} perk_result;

/* Evaluates the cart. Never returns NULL: check result->status. */
const perk_result *perk_evaluate(perk_context *ctx);

/* ---------------------------------------------------------------- the best coupon combination */

/* 最优券组合: of the coupons entered in the cart (the customer's wallet, in the order they were
 * fed, at most PERK_BEST_COUPONS_MAX of them), the set the rules allow together that saves the
 * most: the largest discount plus shipping saving; on a tie the set with fewer codes, then the one
 * whose codes, in wallet order, come first (A,C before B,C). Every subset is a cart with only those
 * codes entered, evaluated as perk_evaluate() does; pruning that provably cannot change the answer
 * keeps the work down (docs/semantics.md, "The best coupon combination"). The search evaluates in
 * the caller's context and allocates nothing. */
#define PERK_BEST_COUPONS_MAX 16

/* perk_best_coupons() flags */
#define PERK_BEST_EXHAUSTIVE 1u /* no pruning: evaluate every subset (for tests and measurement) */

typedef struct perk_best_coupons_result {
    uint32_t n_codes;     /* codes in the wallet (the cart's coupons) */
    uint32_t chosen;      /* bit i set: the cart's i-th coupon is in the best set */
    uint32_t n_chosen;    /* codes in the best set */
    int64_t saving;       /* discount + shipping saving of the best set */
    int64_t discount;     /* on goods */
    int64_t shipping_saving;
    uint32_t candidates;  /* codes the pruning kept */
    uint32_t evaluations; /* subsets evaluated (the final evaluation of the best set included) */
    bool pruned;          /* false when the rules read order.coupons in a condition: then every
                             subset is evaluated */
    const perk_result *result; /* the evaluation of the best set, with the cart's coupons being
                             those of the best set (result->coupons lists them); valid as a
                             perk_evaluate() result is. The cart keeps its whole wallet. */
} perk_best_coupons_result;

/* Finds the best set. PERK_LIMIT for more than PERK_BEST_COUPONS_MAX coupons, PERK_STATE before
 * perk_cart_set_order(); an evaluation that fails stops the search with its status (the message
 * in perk_context_error()). */
perk_status perk_best_coupons(perk_context *ctx, unsigned flags, perk_best_coupons_result *best);

/* What a condition compares, so that explanations can format its observed/expected values. */
typedef enum perk_value_kind {
    PERK_VALUE_PLAIN = 0, /* an integer (count, points, weekday, ...) */
    PERK_VALUE_MONEY,     /* minor units */
    PERK_VALUE_PERCENT,   /* ppm */
    PERK_VALUE_DATE,      /* days since 1970-01-01 */
    PERK_VALUE_TIME,      /* minutes since midnight */
    PERK_VALUE_DURATION,  /* seconds (today - customer.member_since) */
    PERK_VALUE_DATETIME,  /* local wall-clock seconds since 1970-01-01 00:00 (`valid` with a time) */
    PERK_VALUE_MONTH_DAY, /* a day of the month 1..31 (`on day 18 of every month`); expected 0:
                             one of several days */
    PERK_VALUE_KIND_COUNT
} perk_value_kind;
perk_value_kind perk_condition_value_kind(const perk_program *program, uint32_t condition);

/* The name of what perk_promotion_result.unknown_fact says is unknown ("customer.member_since",
 * "margin"), or NULL for 0 (nothing unknown) or a number out of range. */
const char *perk_unknown_name(uint32_t unknown_fact);

/* The source text and location of a condition, for explanations (NULL text / NULL file and
 * 0 line/col for an unknown condition; file is NULL when the compiler recorded none). */
const char *perk_condition_text(const perk_program *program, uint32_t condition);
void perk_condition_location(const perk_program *program, uint32_t condition, const char **file,
                             uint32_t *line, uint32_t *col);

/* Optional allocator hook (process-wide; set it before creating programs or contexts). Tests use
 * it to prove that evaluation does not allocate and to measure a context. NULL restores
 * malloc/free. */
typedef struct perk_allocator {
    void *(*alloc)(size_t size, void *user);
    void (*release)(void *ptr, void *user);
    void *user;
} perk_allocator;
void perk_set_allocator(const perk_allocator *allocator);

PERK_API_END

#ifdef __cplusplus
}
#endif
#endif
