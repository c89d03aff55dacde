/* ast.h - the abstract syntax tree of a Perk rule file.
 *
 * Pipeline: source -> tokens (grammar/lexer.l) -> AST (grammar/parser.y, this file)
 * -> checked AST (src/compiler/check.c fills the "checker" fields below) -> bytecode (src/compiler/codegen.c).
 *
 * One generic node type keeps the parser, checker and code generator simple: `kind` says what a
 * node is, `op` refines it (operator, clause kind, action kind, setting kind, builtin), `a`/`b`/`c`
 * are fixed operands and `list` holds variable children. All nodes and strings of a parse live in
 * one arena (ast_arena) and are freed together.
 */
#ifndef PERK_AST_H
#define PERK_AST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* A source span. Field names follow bison's YYLTYPE so that the parser can use it directly
 * (%define api.location.type {ast_span}). Lines and columns are 1-based; columns count Unicode
 * code points; last_* is inclusive. Offsets are byte offsets into the file, end exclusive. */
typedef struct ast_span {
    int file; /* index into the source set (src/compiler/source.h) */
    int first_line, first_column, last_line, last_column;
    int first_offset, last_offset;
} ast_span;

/* A decimal number as written: value = mantissa / 10^scale ("12.50" -> 1250, 2). */
typedef struct ast_decimal {
    int64_t mantissa;
    int scale;
} ast_decimal;

typedef enum ast_kind {
    /* --- declarations (top level) --- */
    AST_FILE,      /* list: declarations of one file (includes already spliced in by the driver) */
    AST_RULESET,   /* name: ruleset name; list: AST_SETTING */
    AST_SETTING,   /* op: ast_setting; name/a: value */
    AST_INCLUDE,   /* name: path as written */
    AST_LET,       /* name = a */
    AST_TIER,      /* name, label; list: AST_CLAUSE (TIER_SPEND, TIER_BENEFIT) */
    AST_PROMOTION, /* name, label; list: AST_CLAUSE */
    AST_EARN,      /* name, label; list: AST_CLAUSE */
    AST_MULTIPLIER,/* name, label; list: AST_CLAUSE */
    AST_REDEEM,    /* list: AST_CLAUSE */
    AST_POINTS,    /* list: AST_CLAUSE (POINTS_PENDING, POINTS_EXPIRE) */
    AST_CLAUSE,    /* op: ast_clause; operands in a/b/c, name, list */
    AST_ACTION,    /* op: ast_action; see ast_action for operand use */
    AST_TIER_STEP, /* one row of a table: a = threshold, b = value ("¥100: ¥10 off", "3: ¥8") */

    /* --- expressions --- */
    AST_INT,       /* num (scale 0) */
    AST_DECIMAL,   /* num */
    AST_MONEY,     /* num; name = currency code ("CNY") or NULL when written with a symbol; sym = symbol as written */
    AST_PERCENT,   /* num (the number before '%') */
    AST_STRING,    /* name = UTF-8 text, escapes resolved */
    AST_DATE,      /* ival = days since 1970-01-01 */
    AST_TIME,      /* ival = minutes since midnight */
    AST_DURATION,  /* ival = seconds */
    AST_WEEKDAY,   /* ival = 0 (Monday) .. 6 (Sunday) */
    AST_BOOL,      /* ival = 0/1 */
    AST_MULTIPLIER_LIT, /* "x1.5": num */
    AST_LIST,      /* list: elements */
    AST_NAME,      /* name: identifier (a let, a tier, an earn rule, or an item field inside where) */
    AST_FIELD,     /* name = "customer.tier", "order.subtotal", ...: a = NULL (resolved against runtime/facts.h) */
    AST_ITEMS,     /* all (non-gift) lines of the cart: `items`, or `order` used as a target */
    AST_UNARY,     /* op: ast_op (OP_NOT, OP_NEG); a */
    AST_BINARY,    /* op: ast_op; a, b */
    AST_RANGE,     /* a .. b (only as the right side of `in`) */
    AST_WHERE,     /* a where b: item set a filtered by item predicate b */
    AST_CALL       /* name = builtin (sum, count, min, max, any, all, attr); list: arguments */
} ast_kind;

typedef enum ast_op {
    OP_NONE = 0,
    OP_OR, OP_AND, OP_NOT, OP_NEG,
    OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE,
    OP_IN, OP_NOT_IN,
    OP_ADD, OP_SUB, OP_MUL, OP_DIV,
    OP_UNION, OP_EXCEPT,
    OP_MOD /* remainder: order.delivery mod 4 = 0 */
} ast_op;

typedef enum ast_setting {
    SET_CURRENCY,     /* name = "CNY" */
    SET_TIMEZONE,     /* name = "Asia/Shanghai" */
    SET_ROUNDING,     /* name = "half_up" | "half_even" | "down" */
    SET_MAX_DISCOUNT, /* a = percent: margin guard limit */
    SET_COUPONS       /* name = "one_per_order" | "stackable" */
} ast_setting;

typedef enum ast_clause {
    /* promotions */
    CL_PRIORITY,     /* a = int */
    CL_WHEN,         /* a = bool expr */
    CL_VALID,        /* a = from date, b = to date (inclusive) */
    CL_EVERY,        /* a = weekday or list of weekdays */
    CL_HOURS,        /* a = from time, b = to time (from inclusive, to exclusive) */
    CL_COUPON,       /* name = code: `requires coupon "SPRING10"` */
    CL_COUPON_FROM,  /* name = campaign: `requires coupon from "SPRING"` */
    CL_EXCLUSIVE,    /* name = group */
    CL_STOP,         /* `stop`: no later promotion runs once this one applies */
    CL_CAP,          /* a = money: per-order cap on this promotion's discount */
    CL_LIMIT_USES,   /* a = int: total redemptions */
    CL_LIMIT_MONEY,  /* a = money: total discount budget */
    CL_LIMIT_CUSTOMER, /* a = int: redemptions per customer */
    CL_ORIGINAL,     /* `measure original prices`: thresholds on original amounts */
    CL_THEN,         /* a = AST_ACTION */
    /* earn rules, multipliers and redemption */
    CL_EARN_CAP,     /* a = int points per order ("cap 500" inside earn) */
    CL_RATE,         /* redeem: a = int points, b = money ("rate 100 points = ¥1") */
    CL_PAYS_FOR,     /* redeem: list of AST_NAME "shipping" / "goods" */
    CL_MAX_SHARE,    /* redeem: a = percent */
    CL_MIN_BALANCE,  /* redeem: a = int points */
    CL_POINTS_PENDING, /* points: a = duration */
    CL_POINTS_EXPIRE,  /* points: a = duration */
    /* tiers */
    CL_TIER_SPEND,   /* a = money, b = duration window */
    CL_TIER_BENEFIT  /* name = text */
} ast_clause;

typedef enum ast_action {
    ACT_PERCENT_OFF,   /* a = percent, b = target set. The parser picks PERCENT_OFF when `a` is a
                          percent literal and AMOUNT_OFF otherwise (`big off tea` with a let);
                          the checker switches the op when the type of `a` says otherwise. */
    ACT_AMOUNT_OFF,    /* a = money, b = target set (once, allocated over the lines) */
    ACT_AMOUNT_OFF_EACH, /* a = money, b = target set (per unit) */
    ACT_FIXED_PRICE,   /* b = target set, a = money unit price */
    ACT_QTY_PRICE,     /* b = target set; list: AST_TIER_STEP(a = int min quantity, b = money unit price) */
    ACT_TIERS,         /* b = target set; list: AST_TIER_STEP(a = money threshold, b = the value off:
                          a money or percent expression, as in "¥200: 15% off") */
    ACT_EVERY,         /* a = money step, b = target set, c = money off per step; list[0] = optional cap
                          (list.count == 0 when there is no `up to`) */
    ACT_BUY_GET,       /* a = int buy, b = buy set, c = int get; list[0] = reward set or NULL (= the buy
                          set), list[1] = percent off, or NULL for `free` (list.count is always 2) */
    ACT_N_FOR,         /* a = int n, b = target set, c = money price of the group */
    ACT_GIFT,          /* a = int quantity (NULL = 1); name = sku; label = display name or NULL */
    ACT_FREE_SHIPPING,
    ACT_SHIPPING_OFF,  /* a = money or percent */
    ACT_EFFECT,        /* name = kind; label = payload text */
    ACT_EARN_POINTS,   /* earn: a = int points, b = money per, c = eligible set */
    ACT_MULTIPLY       /* multiplier: a = AST_MULTIPLIER_LIT; list: AST_NAME of earn rules (empty = all) */
} ast_action;

/* Types assigned by the checker. */
typedef enum ast_type {
    TY_UNKNOWN = 0, /* not yet checked, or an error already reported */
    TY_BOOL, TY_INT, TY_DECIMAL, TY_MONEY, TY_PERCENT, TY_STRING, TY_DATE, TY_TIME,
    TY_DURATION, TY_WEEKDAY, TY_TIER, TY_MULTIPLIER,
    TY_ITEMS,        /* a set of cart lines */
    TY_STRING_SET,   /* customer.tags, order.coupons, item tags, a list of strings */
    TY_CATEGORY,     /* an item's category path: `category in "tea"` is a prefix match */
    TY_LIST,         /* a literal list of another type: elem_type */
    TY_RANGE,        /* a .. b: elem_type */
    TY_ITEM_FIELD    /* internal: an item column used inside `where` */
} ast_type;

typedef struct ast_node ast_node;

typedef struct ast_list {
    ast_node **items;
    int count, cap;
} ast_list;

struct ast_node {
    ast_kind kind;
    ast_span span;
    int op;              /* ast_op / ast_setting / ast_clause / ast_action, by kind */
    const char *name;    /* identifier, string value, builtin name, currency code, ... */
    const char *label;   /* display name: `promotion member_day "会员日"` */
    const char *sym;     /* money symbol as written ("¥"), for diagnostics */
    ast_decimal num;     /* numeric payload */
    int64_t ival;        /* date / time / duration / weekday / bool payload */
    ast_node *a, *b, *c;
    ast_list list;

    /* --- filled by the checker --- */
    ast_type type;
    ast_type elem_type;  /* element type of TY_LIST / TY_RANGE */
    bool is_const;       /* value is a compile-time constant */
    int64_t value;       /* constant value in VM units: money minor units, percent in ppm,
                            int, days, minutes, seconds, weekday, tier index, bool */
    int64_t value2;      /* second half of a pair, e.g. a multiplier as value/value2 */
    ast_node *decl;      /* AST_NAME: the declaration it refers to */
    int fact;            /* AST_FIELD / item field: id from runtime/facts.h */
    int index;           /* declarations: their index among their kind (promotion #, tier #, ...) */

    /* --- filled by the parser --- */
    int height;          /* expressions: height of the subtree (1 for a leaf); the parser keeps it
                            within PARSE_MAX_DEPTH so later passes can recurse safely */
    int chain_leaves;    /* a long flat `or` / `and` chain is built balanced, in order (see
                            chain_append in grammar/parser.y): the number of operands of a
                            complete subtree (a power of two), 0 for anything else */
    bool chain_spine;    /* ... and the nodes that join those subtrees, left to right */
    bool syntax_error;   /* AST_FILE and blocks (ruleset, tier, promotion, earn, multiplier, redeem,
                            points): a syntax error inside was skipped, so parts of it may be
                            missing; checks like "promotion without `then`" or "unknown name"
                            should stay quiet rather than report what the parser dropped */
};

/* All memory of one parse. */
typedef struct ast_arena ast_arena;

ast_arena *ast_arena_new(void);
void ast_arena_free(ast_arena *arena);
/* Allocate a zeroed node of the given kind at `span`. Never returns NULL (aborts on OOM). */
ast_node *ast_new(ast_arena *arena, ast_kind kind, ast_span span);
/* Copy `len` bytes of `text` into the arena, NUL-terminated. */
const char *ast_strndup(ast_arena *arena, const char *text, size_t len);
const char *ast_strdup(ast_arena *arena, const char *text);
/* Append a child to a list (arena-allocated growth). */
void ast_list_push(ast_arena *arena, ast_list *list, ast_node *node);
/* Span covering both a and b. */
ast_span ast_span_join(ast_span a, ast_span b);

/* Names for printing and diagnostics. */
const char *ast_kind_name(ast_kind kind);
const char *ast_type_name(ast_type type);
const char *ast_op_text(ast_op op);
/* Keyword-style names of clause, action and setting kinds ("when", "percent-off", "currency"),
 * as printed by ast_dump; "?" for an out-of-range value. */
const char *ast_clause_name(int clause);
const char *ast_action_name(int action);
const char *ast_setting_name(int setting);
/* Prints the tree as an S-expression (used by parser golden tests). */
void ast_dump(const ast_node *node, FILE *out);

#endif
