/* check_internal.h - shared state and helpers of the checker (check.c, check_expr.c,
 * check_rules.c). Not a public interface: the rest of the compiler uses check.h.
 * The conventions the checker establishes on the AST are listed in check.h.
 */
#ifndef PERK_CHECK_INTERNAL_H
#define PERK_CHECK_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ast.h"
#include "check.h"
#include "diag.h"
#include "facts.h"
#include "program.h"

#include "money.h"
#include "tzload.h"

#define CHECK_PPM_ONE 1000000 /* 100% in parts per million */
#define CHECK_SECONDS_PER_DAY 86400
#define CHECK_DEFAULT_PRIORITY 100

/* One entry of the shared namespace of lets, tiers, promotions, earn rules and multipliers. */
typedef struct check_symbol {
    const char *name;
    ast_node *decl;
} check_symbol;

typedef struct check_ctx {
    diag_engine *diags;
    ast_arena *arena;
    check_info *info;
    int main_file;

    /* the ruleset's currency; money literals are only converted when currency_ok */
    const money_currency *currency;
    bool currency_ok;
    int exponent;
    int rounding;

    /* names: open-addressing hash table (capacity a power of two) */
    check_symbol *symbols;
    size_t n_symbols, cap_symbols;

    /* lets */
    int lets_checked;      /* lets with index < lets_checked have been checked */
    ast_node *current_let; /* the let whose definition is being checked, or NULL */
    int *let_uses;         /* per let index */

    /* > 0 while checking an item predicate (the right side of `where`, the condition of
     * any/all, the field of an aggregate): item fields resolve there */
    int item_depth;
    bool allow_24;  /* a 24:00 literal is allowed here (the end of a time window) */
    bool allow_datetime; /* a date with a time of day is allowed here (a bound of `valid`) */
    bool allow_zhe; /* a 折 literal is allowed here (a discount: `95折 off order`) */
    bool damaged;   /* the parser skipped a syntax error somewhere (AST_FILE syntax_error):
                                what looks missing or unknown may just have been dropped */
    bool timezone_written; /* the header names a time zone (else the rule set's year ends in UTC) */
} check_ctx;

/* --- check.c: names and spans --- */
/* The span of the first occurrence of `word` on the first line of `within` (at identifier
 * boundaries), or `within` itself when it is not found. */
ast_span check_word_span(const check_ctx *c, ast_span within, const char *word);
/* The span of a declaration's name. */
ast_span check_decl_span(const check_ctx *c, const ast_node *decl);
/* "promotion", "earn rule", "let", ... */
const char *check_decl_kind_text(const ast_node *decl);
/* The declaration named `name`, or NULL. */
ast_node *check_lookup(check_ctx *c, const char *name);
/* Resolves an AST_NAME in an expression (lets, tiers, item fields, weekday names...). */
ast_type check_name(check_ctx *c, ast_node *n);
/* Resolves an AST_FIELD against runtime/facts.h. */
ast_type check_fact(check_ctx *c, ast_node *n);
/* Item field id for a column name, or -1. */
int check_item_field_id(const char *name);
/* The value type of item field `id`. */
ast_type check_item_field_type(int id);

/* --- check_expr.c: expressions --- */
/* Types `n` and folds it when constant. Returns n->type (TY_UNKNOWN after an error). */
ast_type check_expr(check_ctx *c, ast_node *n);
/* The value type of a node: for an item column its value type, else its type. */
ast_type check_vtype(const ast_node *n);
/* True if the value of n depends on the item being tested (contains an item column outside any
 * nested aggregate or `where`). */
bool check_item_dependent(const ast_node *n);
/* Checks a `when`-style condition: bool, not item-dependent. Returns true when well typed. */
bool check_condition(check_ctx *c, ast_node *n);
/* Checks that n is an item set. */
bool check_item_set(check_ctx *c, ast_node *n, const char *what);
/* Checks n, requires a constant of type `want`. `what` names the operand in messages
 * ("the priority"). Returns true when n is a constant of that type. */
bool check_constant(check_ctx *c, ast_node *n, ast_type want, const char *what);
/* The same for a node check_expr has already typed (reports nothing more if it is TY_UNKNOWN). */
bool check_expect_constant(check_ctx *c, ast_node *n, ast_type want, const char *what);
/* The source text of a span (truncated, one line) into buf; returns buf. */
const char *check_span_text(const check_ctx *c, ast_span span, char *buf, size_t size);
/* "money", "list of string", ... */
const char *check_type_text(ast_type type, ast_type elem, char *buf, size_t size);
/* Type of a node as text. */
const char *check_node_type_text(const ast_node *n, char *buf, size_t size);
/* An amount written in the ruleset currency: "¥300" / "300 AED" for the digits given. */
const char *check_money_example(const check_ctx *c, const char *digits, char *buf, size_t size);
/* Formats minor units in the ruleset currency ("¥12.50"). */
const char *check_money_text(const check_ctx *c, int64_t minor, char *buf, size_t size);
/* Formats ppm as a percent ("12.5%"). */
const char *check_percent_text(int64_t ppm, char *buf, size_t size);

/* --- check_rules.c: declarations' bodies --- */
void check_tier(check_ctx *c, ast_node *tier, ast_node *previous);
void check_promotion(check_ctx *c, ast_node *promo);
void check_earn(check_ctx *c, ast_node *earn);
void check_multiplier(check_ctx *c, ast_node *mult);
void check_redeem(check_ctx *c, ast_node *redeem);
void check_points(check_ctx *c, ast_node *points);
/* Warns about promotions of one exclusive group that share a priority. */
void check_priority_ties(check_ctx *c);

/* Best-deal groups: all members `best` or none, all in one stage (check_best.c). */
void check_best_groups(check_ctx *c);

/* --- check_reward.c --- */
/* Reward coupons (`then coupon from "X"`) across the rule set: each campaign is redeemed by a
 * promotion, one per promotion, a window the redeeming promotions can use; fills the period of
 * those written without `valid`. */
void check_reward_coupons(check_ctx *c);

/* --- check_stage.c --- */
/* Warns when a `stage` clause or a priority contradicts a promotion's stage (docs/semantics.md). */
void check_stages(check_ctx *c);

#endif
