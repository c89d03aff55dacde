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

#include "actions.h"

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

/* Node kinds, listed once: AST_KIND(KIND, name in ast_dump). */
/* clang-format off: a table, aligned by hand */
#define AST_KIND_LIST(X)                                                                                           \
    /* --- declarations (top level) --- */                                                                         \
    X(AST_FILE, "file") /* list: declarations of one file (includes already spliced in by the driver) */           \
    X(AST_RULESET, "ruleset")       /* name: ruleset name; list: AST_SETTING */                                    \
    X(AST_SETTING, "setting")       /* op: ast_setting; name/a: value */                                           \
    X(AST_INCLUDE, "include")       /* name: path as written */                                                    \
    X(AST_LET, "let")               /* name = a */                                                                 \
    X(AST_TIER, "tier")             /* name, label; list: AST_CLAUSE (TIER_SPEND, TIER_BENEFIT) */                 \
    X(AST_PROMOTION, "promotion")   /* name, label; list: AST_CLAUSE */                                            \
    X(AST_EARN, "earn")             /* name, label; list: AST_CLAUSE */                                            \
    X(AST_MULTIPLIER, "multiplier") /* name, label; list: AST_CLAUSE */                                            \
    X(AST_REDEEM, "redeem")         /* list: AST_CLAUSE */                                                         \
    X(AST_POINTS, "points")         /* list: AST_CLAUSE (POINTS_PENDING, POINTS_EXPIRE) */                         \
    X(AST_CLAUSE, "clause")         /* op: ast_clause; operands in a/b/c, name, list */                            \
    X(AST_ACTION, "action")         /* op: ast_action; see ast_action for operand use */                           \
    X(AST_TIER_STEP, "step") /* one row of a table: a = threshold, b = value ("¥100: ¥10 off", "3: ¥8") */      \
                             /* --- expressions --- */                                                             \
    X(AST_INT, "int")        /* num (scale 0) */                                                                   \
    X(AST_DECIMAL, "decimal") /* num */                                                                            \
    X(AST_MONEY,                                                                                                   \
      "money") /* num; name = currency code ("CNY") or NULL when written with a symbol; sym = symbol as written */ \
    X(AST_PERCENT, "percent")                   /* num (the number before '%') */                                  \
    X(AST_STRING, "string")                     /* name = UTF-8 text, escapes resolved */                          \
    X(AST_DATE, "date") /* ival = days since 1970-01-01; op = 0, or 1 + second of day (`2027-11-10 20:00`) */       \
    X(AST_TIME, "time")                         /* ival = minutes since midnight */                                \
    X(AST_DURATION, "duration")                 /* ival = seconds */                                               \
    X(AST_WEEKDAY, "weekday")                   /* ival = 0 (Monday) .. 6 (Sunday) */                              \
    X(AST_BOOL, "bool")                         /* ival = 0/1 */                                                   \
    X(AST_MULTIPLIER_LIT, "multiplier literal") /* "x1.5": num */                                                  \
    X(AST_LIST, "list")                         /* list: elements */                                               \
    X(AST_NAME, "name") /* name: identifier (a let, a tier, an earn rule, or an item field inside where) */        \
    X(AST_FIELD,                                                                                                   \
      "field") /* name = "customer.tier", "order.subtotal", ...: a = NULL (resolved against runtime/facts.h) */    \
    X(AST_ITEMS, "items")   /* all (non-gift) lines of the cart: `items`, or `order` used as a target */           \
    X(AST_UNARY, "unary")   /* op: ast_op (OP_NOT, OP_NEG, OP_IS_KNOWN, OP_IS_UNKNOWN); a */                                                   \
    X(AST_BINARY, "binary") /* op: ast_op; a, b */                                                                 \
    X(AST_RANGE, "range")   /* a .. b (only as the right side of `in`) */                                          \
    X(AST_WHERE, "where")   /* a where b: item set a filtered by item predicate b */                               \
    X(AST_CALL, "call")     /* name = builtin (sum, count, min, max, any, all, attr); list: arguments */
/* clang-format on */

typedef enum ast_kind {
#define AST_KIND_ENUM(kind, name) kind,
    AST_KIND_LIST(AST_KIND_ENUM)
#undef AST_KIND_ENUM
} ast_kind;

/* Operators, listed once: AST_OP(OP, text as written in rules). */
/* clang-format off: a table, aligned by hand */
#define AST_OP_LIST(X)        \
    X(OP_NONE, "?") /* = 0 */ \
    X(OP_OR, "or")            \
    X(OP_AND, "and")          \
    X(OP_NOT, "not")          \
    X(OP_NEG, "-")            \
    X(OP_EQ, "=")             \
    X(OP_NE, "!=")            \
    X(OP_LT, "<")             \
    X(OP_LE, "<=")            \
    X(OP_GT, ">")             \
    X(OP_GE, ">=")            \
    X(OP_IN, "in")            \
    X(OP_NOT_IN, "not in")    \
    X(OP_ADD, "+")            \
    X(OP_SUB, "-")            \
    X(OP_MUL, "*")            \
    X(OP_DIV, "/")            \
    X(OP_UNION, "union")      \
    X(OP_EXCEPT, "except")    \
    X(OP_MOD, "mod") /* remainder: order.delivery mod 4 = 0 */ \
    X(OP_IS_KNOWN, "is known") /* unary, postfix */          \
    X(OP_IS_UNKNOWN, "is unknown")
/* clang-format on */

typedef enum ast_op {
#define AST_OP_ENUM(op, text) op,
    AST_OP_LIST(AST_OP_ENUM)
#undef AST_OP_ENUM
} ast_op;

/* Ruleset settings, listed once: AST_SETTING(SET, name in ast_dump). */
/* clang-format off: a table, aligned by hand */
#define AST_SETTING_LIST(X)                                                           \
    X(SET_CURRENCY, "currency")         /* name = "CNY" */                            \
    X(SET_TIMEZONE, "timezone")         /* name = "Asia/Shanghai" */                  \
    X(SET_ROUNDING, "rounding")         /* name = "half_up" | "half_even" | "down" */ \
    X(SET_MAX_DISCOUNT, "max-discount") /* a = percent: margin guard limit */         \
    X(SET_COUPONS, "coupons")           /* name = "one_per_order" | "stackable" */
/* clang-format on */

typedef enum ast_setting {
#define AST_SETTING_ENUM(setting, name) setting,
    AST_SETTING_LIST(AST_SETTING_ENUM)
#undef AST_SETTING_ENUM
} ast_setting;

/* Clauses, listed once: AST_CLAUSE(CL, name in ast_dump, text as written in rules, for
 * diagnostics). */
/* clang-format off: a table, aligned by hand */
#define AST_CLAUSE_LIST(X)                                                                                   \
    /* promotions */                                                                                         \
    X(CL_PRIORITY, "priority", "priority") /* a = int */                                                     \
    X(CL_WHEN, "when", "when")             /* a = bool expr */                                               \
    X(CL_VALID, "valid", "valid")          /* a = from date, b = to date (inclusive) */                      \
    X(CL_EVERY, "every", "every")          /* a = weekday or list of weekdays */                             \
    X(CL_HOURS, "hours", "hours")          /* a = from time, b = to time (from inclusive, to exclusive) */   \
    X(CL_MONTHDAY, "monthday", "on ... of every month") /* list = AST_INT days; ival = 1: and the last day */ \
    X(CL_COUPON, "coupon", "requires coupon") /* name = code: `requires coupon "SPRING10"` */                \
    X(CL_COUPON_FROM, "coupon-from",                                                                         \
      "requires coupon from")                 /* name = campaign: `requires coupon from "SPRING"` */         \
    X(CL_EXCLUSIVE, "exclusive", "exclusive") /* name = group */                                             \
    X(CL_STOP, "stop", "stop")                /* `stop`: no later promotion runs once this one applies */    \
    X(CL_CAP, "cap", "cap")                   /* a = money: per-order cap on this promotion's discount */    \
    X(CL_LIMIT_USES, "limit-uses", "limit ... uses")                 /* a = int: total redemptions */        \
    X(CL_LIMIT_MONEY, "limit-money", "limit ... total")              /* a = money: total discount budget */  \
    X(CL_LIMIT_CUSTOMER, "limit-customer", "limit ... per customer") /* a = int: redemptions per customer */ \
    X(CL_ORIGINAL, "original",                                                                               \
      "measure original prices")           /* `measure original prices`: thresholds on original amounts */   \
    X(CL_STAGE, "stage", "stage")          /* ival = prog_stage: `stage order` */                            \
    X(CL_THEN, "then", "then")             /* a = AST_ACTION */                                              \
                                           /* earn rules, multipliers and redemption */                      \
    X(CL_EARN_CAP, "earn-cap", "cap")      /* a = int points per order ("cap 500" inside earn) */            \
    X(CL_RATE, "rate", "rate")             /* redeem: a = int points, b = money ("rate 100 points = ¥1") */ \
    X(CL_PAYS_FOR, "pays-for", "pays for") /* redeem: list of AST_NAME "shipping" / "goods" */               \
    X(CL_MAX_SHARE, "max-share", "max")    /* redeem: a = percent */                                         \
    X(CL_MIN_BALANCE, "min-balance", "min balance") /* redeem: a = int points */                             \
    X(CL_POINTS_PENDING, "pending", "pending")      /* points: a = duration */                               \
    X(CL_POINTS_EXPIRE, "expire", "expire after")   /* points: a = duration */                               \
                                                    /* tiers */                                              \
    X(CL_TIER_SPEND, "spend", "spend")              /* a = money, b = duration window */                     \
    X(CL_TIER_BENEFIT, "benefit", "benefit")        /* name = text */                                        \
    X(CL_CONSUMES, "consumes", "consumes") /* the lines its actions read leave later promotions */ \
    X(CL_POINTS_EXPIRE_YEAR, "expire-year-end",                                                              \
      "expire at end of year") /* points: ival = 1 end of this year, 2 end of next year */      \
    X(CL_LIMIT_UNITS, "limit-units",                                                                         \
      "limit ... units per customer") /* a = int: units per customer at the promotional price */
/* clang-format on */

typedef enum ast_clause {
#define AST_CLAUSE_ENUM(clause, name, text) clause,
    AST_CLAUSE_LIST(AST_CLAUSE_ENUM)
#undef AST_CLAUSE_ENUM
} ast_clause;

/* Actions: the promotion actions are the kinds of runtime/actions.h (ACT_x = PROG_ACT_x, so the
 * code generator and the margin guard read their columns of prog_action_table); earn rules and
 * multipliers add two kinds after them. What each action node holds:
 *   PERCENT_OFF      a = percent, b = target set. The parser picks PERCENT_OFF when `a` is a
 *                    percent literal and AMOUNT_OFF otherwise (`big off tea` with a let); the
 *                    checker switches the op when the type of `a` says otherwise.
 *   AMOUNT_OFF       a = money, b = target set (once, allocated over the lines)
 *   AMOUNT_OFF_EACH  a = money, b = target set (per unit)
 *   FIXED_PRICE      b = target set, a = money unit price
 *   QTY_PRICE        b = target set; list: AST_TIER_STEP(a = int min quantity, b = money unit price)
 *   TIERS            b = target set; list: AST_TIER_STEP(a = money threshold, b = the value off:
 *                    a money or percent expression, as in "¥200: 15% off")
 *   COUNT_TIERS      b = target set (S of `tiers on count(S)`); list: AST_TIER_STEP(a = int units,
 *                    b = the value off; op 1 when the row says `units`, 0 otherwise: an error)
 *   BUY_GET_SKU      as BUY_GET (`... per sku`); list[0] must be NULL or the buy set's name
 *   EVERY            a = money step, b = target set, c = money off per step; list[0] = optional
 *                    cap (list.count == 0 when there is no `up to`)
 *   BUY_GET          a = int buy, b = buy set, c = int get; list[0] = reward set or NULL (= the
 *                    buy set), list[1] = percent off, or NULL for `free` (list.count is always 2)
 *   N_FOR            a = int n, b = target set, c = money price of the group
 *   GIFT             a = int quantity (NULL = 1); name = sku; label = display name or NULL
 *   FREE_SHIPPING
 *   SHIPPING_OFF     a = money or percent
 *   EFFECT           name = kind; label = payload text
 *   EARN_POINTS      earn: a = int points, b = money per, c = eligible set
 *   MULTIPLY         multiplier: a = AST_MULTIPLIER_LIT; list: AST_NAME of earn rules (empty = all) */
typedef enum ast_action {
#define AST_ACTION_ENUM(kind, ...) ACT_##kind = PROG_ACT_##kind,
    PROG_ACTION_LIST(AST_ACTION_ENUM)
#undef AST_ACTION_ENUM
        ACT_EARN_POINTS = PROG_ACT_COUNT,
    ACT_MULTIPLY
} ast_action;

/* Types assigned by the checker, listed once: AST_TYPE(TY, name in diagnostics). */
/* clang-format off: a table, aligned by hand */
#define AST_TYPE_LIST(X)                                                                                \
    X(TY_UNKNOWN, "unknown") /* not yet checked, or an error already reported */                        \
    X(TY_BOOL, "bool")                                                                                  \
    X(TY_INT, "int")                                                                                    \
    X(TY_DECIMAL, "decimal")                                                                            \
    X(TY_MONEY, "money")                                                                                \
    X(TY_PERCENT, "percent")                                                                            \
    X(TY_STRING, "string")                                                                              \
    X(TY_DATE, "date")                                                                                  \
    X(TY_TIME, "time")                                                                                  \
    X(TY_DURATION, "duration")                                                                          \
    X(TY_WEEKDAY, "weekday")                                                                            \
    X(TY_TIER, "tier")                                                                                  \
    X(TY_MULTIPLIER, "multiplier")                                                                      \
    X(TY_ITEMS, "item set")        /* a set of cart lines */                                            \
    X(TY_STRING_SET, "string set") /* customer.tags, order.coupons, item tags, a list of strings */     \
    X(TY_CATEGORY, "category")     /* an item's category path: `category in "tea"` is a prefix match */ \
    X(TY_LIST, "list")             /* a literal list of another type: elem_type */                      \
    X(TY_RANGE, "range")           /* a .. b: elem_type */                                              \
    X(TY_ITEM_FIELD, "item field") /* internal: an item column used inside `where` */
/* clang-format on */

typedef enum ast_type {
#define AST_TYPE_ENUM(type, name) type,
    AST_TYPE_LIST(AST_TYPE_ENUM)
#undef AST_TYPE_ENUM
} ast_type;

typedef struct ast_node ast_node;

typedef struct ast_list {
    ast_node **items;
    int count, cap;
} ast_list;

struct ast_node {
    ast_kind kind;
    ast_span span;
    int op;            /* ast_op / ast_setting / ast_clause / ast_action, by kind */
    const char *name;  /* identifier, string value, builtin name, currency code, ... */
    const char *label; /* display name: `promotion member_day "会员日"` */
    const char *sym;   /* money symbol as written ("¥"), for diagnostics */
    ast_decimal num;   /* numeric payload */
    int64_t ival;      /* date / time / duration / weekday / bool payload */
    ast_node *a, *b, *c;
    ast_list list;

    /* --- filled by the checker --- */
    ast_type type;
    ast_type elem_type; /* element type of TY_LIST / TY_RANGE */
    bool is_const;      /* value is a compile-time constant */
    int64_t value;      /* constant value in VM units: money minor units, percent in ppm,
                            int, days, minutes, seconds, weekday, tier index, bool */
    int64_t value2;     /* second half of a pair, e.g. a multiplier as value/value2 */
    ast_node *decl;     /* AST_NAME: the declaration it refers to */
    int fact;           /* AST_FIELD / item field: id from runtime/facts.h */
    int index;          /* declarations: their index among their kind (promotion #, tier #, ...) */

    /* --- filled by the parser --- */
    int height;        /* expressions: height of the subtree (1 for a leaf); the parser keeps it
                            within PARSE_MAX_DEPTH so later passes can recurse safely */
    int chain_leaves;  /* a long flat `or` / `and` chain is built balanced, in order (see
                            chain_append in grammar/parser.y): the number of operands of a
                            complete subtree (a power of two), 0 for anything else */
    bool chain_spine;  /* ... and the nodes that join those subtrees, left to right */
    bool syntax_error; /* AST_FILE and blocks (ruleset, tier, promotion, earn, multiplier, redeem,
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
/* A clause as written in rules ("requires coupon", "limit ... uses"), for diagnostics. */
const char *ast_clause_text(int clause);
const char *ast_action_name(int action);
const char *ast_setting_name(int setting);
/* Prints the tree as an S-expression (used by parser golden tests). */
void ast_dump(const ast_node *node, FILE *out);

#endif
