/* check_rules.c - the bodies of declarations: tier, promotion, earn, multiplier, redeem and
 * points blocks. Each clause's operands are typed through check_expr.c, then their values are
 * checked against what the runtime can do (a discount is more than 0% and at most 100%, steps
 * go up, a window ends after it starts...). Single-valued clauses may appear once.
 *
 * Values left on the AST for the code generator (besides each operand's constant value):
 *   AST_PROMOTION value = effective priority (default 100);
 *   AST_TIER is_const/value = spend in minor units once checked;
 *   CL_EVERY value = weekday bit mask (bit 0 = Monday);
 *   CL_MONTHDAY value = day bit mask (bit d = day d), ival = 1 with `the last day`;
 *   CL_VALID value/value2 = first/last local second, ival = 1 when a bound has a time of day;
 *   CL_HOURS ival = 1 across midnight;
 *   CL_PAYS_FOR value = PROG_PAYS_* mask.
 */
#include "check_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actions.h"
#include "suggest.h"

/* ------------------------------------------------------------------------------------------ */
/* Clause bookkeeping                                                                          */

#define CLAUSE_SLOTS (CL_LIMIT_UNITS + 1) /* the last clause of AST_CLAUSE_LIST */

/* Records a single-valued clause; reports (and returns false for) a second one. */
static bool once(check_ctx *c, ast_node **slots, ast_node *cl, const char *owner)
{
    if (cl->op < 0 || cl->op >= CLAUSE_SLOTS) return false;
    if (slots[cl->op] != NULL) {
        diag_report(c->diags, DIAG_DUPLICATE_CLAUSE, cl->span, "remove one of them",
                    "%s can have only one `%s`", owner, ast_clause_text(cl->op));
        diag_note(c->diags, slots[cl->op]->span, "the first `%s` is here", ast_clause_text(cl->op));
        return false;
    }
    slots[cl->op] = cl;
    return true;
}

static void not_allowed(check_ctx *c, const ast_node *cl, const char *owner)
{
    diag_report(c->diags, DIAG_CLAUSE_NOT_ALLOWED, cl->span,
                "remove it, or move it to the block it belongs to", "`%s` does not belong in %s",
                ast_clause_text(cl->op), owner);
}

static bool text_ok(check_ctx *c, ast_span span, const char *text, const char *what)
{
    if (text != NULL && text[0] != '\0') return true;
    diag_report(c->diags, DIAG_EMPTY_TEXT, check_word_span(c, span, "\"\""),
                "write the text between the quotes", "%s cannot be empty", what);
    return false;
}

/* ------------------------------------------------------------------------------------------ */
/* Values                                                                                      */

/* A constant money node (already typed): >= 0, and > 0 unless allow_zero. */
static bool amount_ok(check_ctx *c, ast_node *n, const char *what, bool allow_zero)
{
    char text[96], zero[48];
    if (n->value < 0) {
        diag_report(c->diags, DIAG_NEGATIVE_AMOUNT, n->span, "write the amount without a minus sign",
                    "%s cannot be negative: `%s`", what, check_span_text(c, n->span, text, sizeof text));
        return false;
    }
    if (n->value == 0 && !allow_zero) {
        diag_report(c->diags, DIAG_ZERO_AMOUNT, n->span, "an amount of zero would do nothing here",
                    "%s must be more than %s", what, check_money_text(c, 0, zero, sizeof zero));
        return false;
    }
    return true;
}

/* A constant percent node (already typed) in (0, 100%]. */
static bool percent_ok(check_ctx *c, ast_node *n, const char *what)
{
    char text[96];
    if (n->value > CHECK_PPM_ONE) {
        diag_report(c->diags, DIAG_PERCENT_OVER_100, n->span, "100% already takes the whole price off",
                    "%s cannot be more than 100%%: `%s`", what,
                    check_span_text(c, n->span, text, sizeof text));
        return false;
    }
    if (n->value <= 0) {
        diag_report(c->diags, DIAG_VALUE_OUT_OF_RANGE, n->span, "write a percent above 0%, e.g. 10%",
                    "%s must be more than 0%%: `%s`", what, check_span_text(c, n->span, text, sizeof text));
        return false;
    }
    return true;
}

/* A discount operand: where `95折` may be written (src/compiler/lex_discount.c). */
static ast_type check_discount(check_ctx *c, ast_node *n)
{
    c->allow_zhe = true;
    ast_type t = check_expr(c, n);
    c->allow_zhe = false;
    return t;
}

static bool want_money(check_ctx *c, ast_node *n, const char *what, bool allow_zero)
{
    return check_constant(c, n, TY_MONEY, what) && amount_ok(c, n, what, allow_zero);
}

static bool want_percent(check_ctx *c, ast_node *n, const char *what)
{
    return check_constant(c, n, TY_PERCENT, what) && percent_ok(c, n, what);
}

static bool want_int(check_ctx *c, ast_node *n, const char *what, int64_t min, int64_t max)
{
    if (!check_constant(c, n, TY_INT, what)) return false;
    char text[96];
    if (n->value < min) {
        diag_report(c->diags, DIAG_VALUE_OUT_OF_RANGE, n->span, NULL,
                    "%s must be at least %" PRId64 ", not %s", what, min,
                    check_span_text(c, n->span, text, sizeof text));
        return false;
    }
    if (n->value > max) {
        diag_report(c->diags, DIAG_VALUE_OUT_OF_RANGE, n->span, NULL,
                    "%s must be at most %" PRId64 ", not %s", what, max,
                    check_span_text(c, n->span, text, sizeof text));
        return false;
    }
    return true;
}

static bool want_duration(check_ctx *c, ast_node *n, const char *what)
{
    if (!check_constant(c, n, TY_DURATION, what)) return false;
    if (n->value <= 0) {
        char text[96];
        diag_report(c->diags, DIAG_VALUE_OUT_OF_RANGE, n->span, "write a length such as `7 days`",
                    "%s must be longer than zero: `%s`", what,
                    check_span_text(c, n->span, text, sizeof text));
        return false;
    }
    return true;
}

/* An amount or a percent off (tier steps, shipping off). */
static bool want_money_or_percent(check_ctx *c, ast_node *n, const char *what)
{
    if (n == NULL || check_expr(c, n) == TY_UNKNOWN) return false;
    if (n->type == TY_MONEY)
        return check_expect_constant(c, n, TY_MONEY, what) && amount_ok(c, n, what, false);
    if (n->type == TY_PERCENT) return check_expect_constant(c, n, TY_PERCENT, what) && percent_ok(c, n, what);
    char text[96], ty[48], hint[160], ex[64];
    snprintf(hint, sizeof hint, "write an amount or a percent, e.g. %s or 10%%",
             check_money_example(c, "10", ex, sizeof ex));
    diag_report(c->diags, DIAG_WRONG_TYPE, n->span, hint, "%s must be an amount or a percent, but `%s` is %s",
                what, check_span_text(c, n->span, text, sizeof text), check_node_type_text(n, ty, sizeof ty));
    return false;
}

/* ------------------------------------------------------------------------------------------ */
/* Actions                                                                                     */

static ast_node *list_at(const ast_node *n, int i) { return i < n->list.count ? n->list.items[i] : NULL; }

/* Table rows: thresholds strictly ascending. */
static void steps_ascending(check_ctx *c, ast_node *act, const char *what)
{
    ast_node *prev = NULL;
    for (int i = 0; i < act->list.count; i++) {
        ast_node *s = act->list.items[i];
        if (s == NULL || s->a == NULL || !s->a->is_const || s->a->type == TY_UNKNOWN) continue;
        if (prev != NULL && s->a->value <= prev->a->value) {
            char t1[96], t2[96];
            diag_report(c->diags, DIAG_STEPS_NOT_ASCENDING, s->a->span,
                        "list the steps from the smallest to the largest, each larger than the last",
                        "%s must go up: `%s` comes after `%s`", what,
                        check_span_text(c, s->a->span, t1, sizeof t1),
                        check_span_text(c, prev->a->span, t2, sizeof t2));
            diag_note(c->diags, prev->a->span, "the previous step is here");
        }
        prev = s;
    }
}

/* `tiers on count(S) { 2 units: 10% off, ... }`: b = S (the parser took it out of the call);
 * each row a whole number of units (at least 1) with `units`, rows going up. */
static void check_count_tiers(check_ctx *c, ast_node *act)
{
    check_item_set(c, act->b, "what the count tiers count");
    for (int i = 0; i < act->list.count; i++) {
        ast_node *s = act->list.items[i];
        if (s == NULL || s->a == NULL) continue;
        char text[96], hint[200];
        if (s->op != 1) {
            ast_type t = check_expr(c, s->a);
            check_span_text(c, s->a->span, text, sizeof text);
            if (t == TY_MONEY)
                snprintf(
                    hint, sizeof hint,
                    "count the units: write e.g. `2 units: 10%% off`, or measure money with `tiers on %s`",
                    "order");
            else
                snprintf(hint, sizeof hint, "write `%s units: ...`", text);
            diag_report(c->diags, DIAG_COUNT_TIER_ROW, s->a->span, hint,
                        t == TY_MONEY ? "a count tier's rows count units, not money: `%s`"
                                      : "a row of a count tier says `units`: `%s`",
                        text);
            if (t == TY_INT && s->a->kind == AST_INT) { /* `2:` -> `2 units:` */
                char fixed[112];
                snprintf(fixed, sizeof fixed, "%s units", text);
                diag_fix_word(c->diags, s->a->span, text, fixed);
            }
            continue;
        }
        want_int(c, s->a, "the units of a count tier", 1, INT32_MAX);
        c->allow_zhe = true;
        want_money_or_percent(c, s->b, "the discount of a count tier");
        c->allow_zhe = false;
    }
    steps_ascending(c, act, "unit counts");
}

/* `buy N of S get M [of R] free|at P off` (and `per sku`) */
static void check_buy_get(check_ctx *c, ast_node *act)
{
    want_int(c, act->a, "the number to buy", 1, INT32_MAX);
    check_item_set(c, act->b, "what must be bought");
    want_int(c, act->c, "the number given", 1, INT32_MAX);
    ast_node *reward = list_at(act, 0), *pct = list_at(act, 1);
    if (reward != NULL) check_item_set(c, reward, "what is given");
    if (pct != NULL) {
        c->allow_zhe = true;
        want_percent(c, pct, "the discount on the reward");
        c->allow_zhe = false;
    }
}

/* Whether two bundle parts' sets are known to share lines: the same set written the same way, or
 * one of them the whole order. (Other overlaps depend on the cart; the docs say how parts that
 * share lines are filled.) */
static bool parts_overlap(check_ctx *c, const ast_node *x, const ast_node *y)
{
    if (x->kind == AST_ITEMS || y->kind == AST_ITEMS) return true;
    char tx[160], ty[160];
    check_span_text(c, x->span, tx, sizeof tx);
    check_span_text(c, y->span, ty, sizeof ty);
    return strcmp(tx, ty) == 0;
}

/* `bundle 1 of teapots + 2 of cups for ¥199`: 2 to PROG_BUNDLE_MAX_PARTS parts, each a whole
 * number of units (at least 1) of an item set; a price of more than zero. */
static void check_bundle(check_ctx *c, ast_node *act)
{
    char text[160], hint[512];
    for (int i = 0; i < act->list.count; i++) {
        ast_node *part = act->list.items[i];
        if (part == NULL || part->a == NULL || part->b == NULL) continue;
        want_int(c, part->a, "the units of a bundle part", 1, INT32_MAX);
        check_item_set(c, part->b, "a part of a bundle");
    }
    want_money(c, act->c, "the bundle price", false);
    if (act->list.count == 1 && act->list.items[0] && act->list.items[0]->a && act->list.items[0]->b) {
        ast_node *part = act->list.items[0];
        char units[48], price[64];
        check_span_text(c, part->a->span, units, sizeof units);
        check_span_text(c, act->c->span, price, sizeof price);
        snprintf(hint, sizeof hint, "a set price for units of one set is `any %s of %s for %s`", units,
                 check_span_text(c, part->b->span, text, sizeof text), price);
        diag_report(c->diags, DIAG_BUNDLE_ONE_PART, act->span, hint,
                    "a bundle combines parts of two or more sets, this one has one");
        return;
    }
    if (act->list.count > PROG_BUNDLE_MAX_PARTS) {
        diag_report(c->diags, DIAG_BUNDLE_TOO_MANY_PARTS, act->list.items[PROG_BUNDLE_MAX_PARTS]->span,
                    "split it into two bundles, or group parts into one set",
                    "a bundle has at most %d parts, this one has %d", PROG_BUNDLE_MAX_PARTS, act->list.count);
        return;
    }
    for (int i = 1; i < act->list.count; i++) {
        ast_node *y = act->list.items[i];
        if (!y || !y->b) continue;
        for (int j = 0; j < i; j++) {
            ast_node *x = act->list.items[j];
            if (!x || !x->b || !parts_overlap(c, x->b, y->b)) continue;
            char tx[160];
            check_span_text(c, x->b->span, tx, sizeof tx);
            snprintf(hint, sizeof hint,
                     "a unit fills one part only: parts are filled in the order written, each from the most "
                     "expensive units left; give each part its own set (e.g. `%s except ...`) to make the "
                     "choice plain",
                     tx);
            diag_report(c->diags, DIAG_BUNDLE_PARTS_OVERLAP, y->b->span, hint,
                        "this part of the bundle can take the same items as part %d (`%s`)", j + 1, tx);
            break;
        }
    }
}

static void check_action(check_ctx *c, ast_node *act, ast_node *owner)
{
    if (act == NULL || act->kind != AST_ACTION) return;
    char text[96], ty[48], hint[200], ex[64];
    switch ((ast_action)act->op) {
    case ACT_PERCENT_OFF:
    case ACT_AMOUNT_OFF: {
        /* the parser guesses from the literal; the type decides */
        ast_type t = check_discount(c, act->a);
        if (t == TY_PERCENT) {
            act->op = ACT_PERCENT_OFF;
            if (check_expect_constant(c, act->a, TY_PERCENT, "the discount"))
                percent_ok(c, act->a, "a discount");
        } else if (t == TY_MONEY) {
            act->op = ACT_AMOUNT_OFF;
            if (check_expect_constant(c, act->a, TY_MONEY, "the discount"))
                amount_ok(c, act->a, "the amount off", false);
        } else if (t != TY_UNKNOWN) {
            if (act->a->kind == AST_INT) {
                check_span_text(c, act->a->span, text, sizeof text);
                snprintf(hint, sizeof hint, "write %s off or %s%% off",
                         check_money_example(c, text, ex, sizeof ex), text);
            } else {
                snprintf(hint, sizeof hint, "write an amount or a percent, e.g. %s off or 10%% off",
                         check_money_example(c, "10", ex, sizeof ex));
            }
            diag_report(c->diags, DIAG_WRONG_TYPE, act->a->span, hint,
                        "the discount must be an amount or a percent, but `%s` is %s",
                        check_span_text(c, act->a->span, text, sizeof text),
                        check_node_type_text(act->a, ty, sizeof ty));
        }
        check_item_set(c, act->b, "what the discount applies to");
        return;
    }
    case ACT_AMOUNT_OFF_EACH: {
        ast_type t = check_discount(c, act->a);
        if (t == TY_PERCENT) {
            diag_report(c->diags, DIAG_PERCENT_OFF_EACH, act->span,
                        "a percent already applies to every unit: drop `each`",
                        "`each` only goes with an amount, not a percent");
            ast_span each = check_word_span(c, act->span, "each");
            if (diag_span_is(c->diags, each, "each")) {
                /* the word and the spaces after it */
                const source_file *f = &c->diags->sources->files[each.file];
                while ((size_t)each.last_offset < f->len &&
                       (f->text[each.last_offset] == ' ' || f->text[each.last_offset] == '\t'))
                    each.last_offset++;
                diag_fix(c->diags, each, "");
            }
        } else if (check_expect_constant(c, act->a, TY_MONEY, "the amount off each unit")) {
            amount_ok(c, act->a, "the amount off each unit", false);
        }
        check_item_set(c, act->b, "what the discount applies to");
        return;
    }
    case ACT_FIXED_PRICE:
        check_item_set(c, act->b, "what gets the price");
        want_money(c, act->a, "the price", true);
        return;
    case ACT_QTY_PRICE:
        check_item_set(c, act->b, "what gets the price");
        for (int i = 0; i < act->list.count; i++) {
            ast_node *s = act->list.items[i];
            if (s == NULL) continue;
            want_int(c, s->a, "a quantity step", 1, INT32_MAX);
            want_money(c, s->b, "the unit price", true);
        }
        steps_ascending(c, act, "quantity steps");
        return;
    case ACT_TIERS:
    case ACT_TIERS_STORE:
        check_item_set(c, act->b, "what the tiers measure");
        for (int i = 0; i < act->list.count; i++) {
            ast_node *s = act->list.items[i];
            if (s == NULL || s->op != 1) continue;
            char t2[96];
            check_span_text(c, act->b->span, t2, sizeof t2);
            snprintf(hint, sizeof hint,
                     "to count units, write `tiers on count(%s)`; to measure money, write `¥100: ...`", t2);
            diag_report(c->diags, DIAG_UNITS_IN_SPEND_TIERS, s->span, hint,
                        "`tiers on %s` measures money, but this row counts units", t2);
            return;
        }
        for (int i = 0; i < act->list.count; i++) {
            ast_node *s = act->list.items[i];
            if (s == NULL) continue;
            want_money(c, s->a, "a spend threshold", false);
            c->allow_zhe = true;
            want_money_or_percent(c, s->b, "the discount of a tier");
            c->allow_zhe = false;
        }
        steps_ascending(c, act, "spend thresholds");
        return;
    case ACT_EVERY:
    case ACT_EVERY_STORE: {
        bool step = want_money(c, act->a, "the step", false);
        check_item_set(c, act->b, "what is measured");
        bool off = want_money(c, act->c, "the amount off per step", false);
        ast_node *cap = list_at(act, 0);
        if (cap != NULL && want_money(c, cap, "the cap", false) && off && cap->value < act->c->value) {
            char t2[96];
            diag_report(c->diags, DIAG_EVERY_CAP_TOO_SMALL, cap->span,
                        "raise the cap to at least one step's discount",
                        "the cap `%s` is less than the discount of one step (`%s`)",
                        check_span_text(c, cap->span, text, sizeof text),
                        check_span_text(c, act->c->span, t2, sizeof t2));
        }
        (void)step;
        return;
    }
    case ACT_BUY_GET_SKU: {
        /* pairs within one SKU of one set: `get ... of OTHER` has no SKU in common to pair with */
        ast_node *reward = list_at(act, 0);
        if (reward != NULL && !(reward->kind == AST_NAME && act->b != NULL && act->b->kind == AST_NAME &&
                                reward->name && act->b->name && strcmp(reward->name, act->b->name) == 0)) {
            char t2[96];
            check_span_text(c, act->b->span, t2, sizeof t2);
            snprintf(hint, sizeof hint,
                     "drop `of %s`: with `per sku` the reward units are units of the same SKU in `%s`",
                     check_span_text(c, reward->span, text, sizeof text), t2);
            diag_report(c->diags, DIAG_PER_SKU_OTHER_SET, reward->span, hint,
                        "`per sku` pairs units of one product, so the reward cannot come from another set");
        }
        check_buy_get(c, act); /* the counts, the set and the percent as BUY_GET */
        return;
    }
    case ACT_BUY_GET: check_buy_get(c, act); return;
    case ACT_N_FOR:
        if (want_int(c, act->a, "the group size", 1, INT32_MAX) && act->a->value < 2) {
            diag_report(c->diags, DIAG_VALUE_OUT_OF_RANGE, act->a->span,
                        "for one unit, set its price: `price tea at ¥5`",
                        "`any %" PRId64 " of ... for ...` needs a group of at least 2", act->a->value);
        }
        check_item_set(c, act->b, "what the group is made of");
        want_money(c, act->c, "the price of the group", false);
        return;
    case ACT_GIFT:
        if (act->a != NULL) want_int(c, act->a, "the gift quantity", 1, INT32_MAX);
        text_ok(c, act->span, act->name, "the gift's SKU");
        return;
    case ACT_FREE_SHIPPING: return;
    case ACT_SHIPPING_OFF:
        c->allow_zhe = true;
        want_money_or_percent(c, act->a, "the shipping discount");
        c->allow_zhe = false;
        return;
    case ACT_EFFECT: text_ok(c, act->span, act->name, "the effect's kind"); return;
    case ACT_MOST_EXPENSIVE:
        c->allow_zhe = true;
        want_percent(c, act->a, "the discount on the most expensive units");
        c->allow_zhe = false;
        want_int(c, act->c, "the number of most expensive units", 1, INT32_MAX);
        check_item_set(c, act->b, "what the most expensive units are chosen from");
        return;
    case ACT_COUNT_TIERS: check_count_tiers(c, act); return;
    case ACT_BUNDLE: check_bundle(c, act); return;
    case ACT_EARN_POINTS:
    case ACT_MULTIPLY:
        diag_report(c->diags, DIAG_CLAUSE_NOT_ALLOWED, act->span, NULL,
                    "this action does not belong in %s `%s`", check_decl_kind_text(owner),
                    owner->name ? owner->name : "");
        return;
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Conditions and schedule clauses                                                             */

static const ast_node *false_conjunct(const ast_node *n)
{
    if (n == NULL || n->type != TY_BOOL) return NULL;
    if (n->is_const && n->value == 0) return n;
    if (n->kind == AST_BINARY && n->op == OP_AND) {
        const ast_node *f = false_conjunct(n->a);
        return f != NULL ? f : false_conjunct(n->b);
    }
    return NULL;
}

/* A rule whose `when` clauses include a constant false can never apply. */
static void warn_never(check_ctx *c, const ast_node *decl, const char *kind)
{
    for (int i = 0; i < decl->list.count; i++) {
        const ast_node *cl = decl->list.items[i];
        if (cl == NULL || cl->kind != AST_CLAUSE || cl->op != CL_WHEN) continue;
        const ast_node *f = false_conjunct(cl->a);
        if (f == NULL) continue;
        char text[96], hint[160];
        snprintf(hint, sizeof hint, "fix the condition, or remove the %s if it is no longer needed", kind);
        diag_report(c->diags, DIAG_NEVER_APPLIES, f->span, hint,
                    "this %s can never apply: `%s` is always false", kind,
                    check_span_text(c, f->span, text, sizeof text));
        return;
    }
}

/* A bound of `valid` as a local wall-clock second: a date alone starts at 00:00:00 (the start)
 * or ends at 23:59:59 (the end); a date-time literal is that second. */
static int64_t valid_second(const ast_node *n, bool end)
{
    int64_t day = n->value * 86400;
    if (n->kind == AST_DATE && n->op > 0) return day + (n->op - 1);
    return day + (end ? 86399 : 0);
}

/* CL_VALID: value/value2 = first and last local second (both included); ival = 1 when a bound
 * has a time of day, so the clause compares the local date and time instead of the date. */
static void check_valid(check_ctx *c, ast_node *cl)
{
    c->allow_datetime = true;
    bool a = check_constant(c, cl->a, TY_DATE, "the start date");
    bool b = check_constant(c, cl->b, TY_DATE, "the end date");
    c->allow_datetime = false;
    if (!a || !b) return;
    cl->ival = (cl->a->kind == AST_DATE && cl->a->op > 0) || (cl->b->kind == AST_DATE && cl->b->op > 0);
    cl->value = valid_second(cl->a, false);
    cl->value2 = valid_second(cl->b, true);
    if (cl->value2 < cl->value) {
        char t1[96], t2[96], hint[240];
        check_span_text(c, cl->a->span, t1, sizeof t1);
        check_span_text(c, cl->b->span, t2, sizeof t2);
        snprintf(hint, sizeof hint, "did you mean `valid %s to %s`?", t2, t1);
        diag_report(c->diags, DIAG_VALID_END_BEFORE_START, cl->span, hint,
                    cl->ival ? "the end %s is before the start %s"
                             : "the end date %s is before the start date %s",
                    t2, t1);
        /* the two dates swapped: both edits or none */
        if (diag_span_is(c->diags, cl->a->span, t1) && diag_span_is(c->diags, cl->b->span, t2)) {
            diag_fix(c->diags, cl->a->span, t2);
            diag_fix(c->diags, cl->b->span, t1);
        }
    }
}

/* CL_HOURS: ival = 1 for a window across midnight (`hours 22:00 to 02:00`). */
static void check_hours(check_ctx *c, ast_node *cl)
{
    bool a = check_constant(c, cl->a, TY_TIME, "the start time");
    c->allow_24 = cl->b != NULL && cl->b->kind == AST_TIME;
    bool b = check_constant(c, cl->b, TY_TIME, "the end time");
    c->allow_24 = false;
    if (!a || !b) return;
    char t1[96], t2[96];
    check_span_text(c, cl->a->span, t1, sizeof t1);
    check_span_text(c, cl->b->span, t2, sizeof t2);
    if (cl->b->value == cl->a->value) {
        diag_report(
            c->diags, DIAG_HOURS_END_NOT_AFTER_START, cl->span,
            "the window would be empty (its end is not included); for the whole day, leave `hours` out",
            "the time window ends at %s, where it starts", t2);
    } else if (cl->b->value == 0) {
        char hint[200];
        snprintf(hint, sizeof hint, "write `hours %s to 24:00`", t1);
        diag_report(c->diags, DIAG_HOURS_END_AT_MIDNIGHT, cl->b->span, hint,
                    "a window ending at midnight ends at 24:00, not 00:00");
        diag_fix_word(c->diags, cl->b->span, t2, "24:00");
    } else if (cl->b->value < cl->a->value) {
        cl->ival = 1; /* across midnight: from the start to 24:00, then 00:00 to the end */
    }
}

/* CL_MONTHDAY: value = bit mask of the days (bit d = day d), ival = 1 with the last day. */
static void check_monthday(check_ctx *c, ast_node *cl)
{
    int64_t mask = 0;
    const ast_node *seen[32] = { 0 };
    for (int i = 0; i < cl->list.count; i++) {
        ast_node *d = cl->list.items[i];
        if (!check_constant(c, d, TY_INT, "a day of the month")) continue;
        char text[96];
        check_span_text(c, d->span, text, sizeof text);
        if (d->value < 1 || d->value > 31) {
            diag_report(c->diags, DIAG_MONTH_DAY_OUT_OF_RANGE, d->span,
                        "days of the month go from 1 to 31; for the end of the month write `the last day`",
                        "there is no day %s in a month", text);
            continue;
        }
        if (seen[d->value] != NULL) {
            diag_report(c->diags, DIAG_DUPLICATE_MONTH_DAY, d->span, "remove one of them",
                        "day %s is listed twice", text);
            diag_note(c->diags, seen[d->value]->span, "the first one is here");
            continue;
        }
        seen[d->value] = d;
        mask |= (int64_t)1 << d->value;
        if (d->value >= 29) {
            char hint[200];
            snprintf(hint, sizeof hint,
                     "%s; for the end of every month write `on the last day of every month`",
                     d->value == 29   ? "February has 28 days in most years"
                     : d->value == 30 ? "February has 28 or 29 days"
                                      : "February, April, June, September and November have fewer");
            diag_report(c->diags, DIAG_MONTH_DAY_NOT_EVERY_MONTH, d->span, hint,
                        "day %s is not in every month: in a month without it the promotion does not apply",
                        text);
        }
    }
    cl->value = mask;
}

static void check_every(check_ctx *c, ast_node *cl)
{
    ast_node *a = cl->a;
    if (a == NULL) return;
    if (check_expr(c, a) == TY_UNKNOWN) return;
    int64_t mask = 0;
    if (a->type == TY_WEEKDAY && a->is_const) {
        mask = (int64_t)1 << (a->value & 7);
    } else if (a->type == TY_LIST && a->elem_type == TY_WEEKDAY && a->is_const) {
        mask = a->value;
    } else {
        char text[96], ty[48];
        diag_report(c->diags, DIAG_WRONG_TYPE, a->span, "e.g. `every saturday, sunday`",
                    "`every` takes days of the week, but `%s` is %s",
                    check_span_text(c, a->span, text, sizeof text), check_node_type_text(a, ty, sizeof ty));
        return;
    }
    cl->value = mask;
}

/* Common clauses of promotions, earn rules, multipliers and redeem blocks; returns false for a
 * clause it does not know. */
static bool common_clause(check_ctx *c, ast_node *cl)
{
    if (cl->op == CL_WHEN) {
        check_condition(c, cl->a);
        return true;
    }
    return false;
}

/* ------------------------------------------------------------------------------------------ */
/* Declarations                                                                                */

/* `consumes` (docs/semantics.md 5.6) takes the lines a promotion's goods actions read out of
 * later promotions: with only gifts, effects or shipping there are none, and after `stop` no later
 * promotion runs to see the difference. */
static void check_consumes(check_ctx *c, const ast_node *p, const ast_node *consumes, const ast_node *stop)
{
    if (consumes == NULL) return;
    bool goods = false, any = false;
    for (int i = 0; i < p->list.count; i++) {
        const ast_node *cl = p->list.items[i];
        if (cl == NULL || cl->kind != AST_CLAUSE || cl->op != CL_THEN || cl->a == NULL) continue;
        const prog_action_info *info = cl->a->op >= 0 ? prog_action_info_of((uint32_t)cl->a->op) : NULL;
        any = true;
        if (info != NULL && info->goods) goods = true;
    }
    if (any && !goods) {
        diag_report(c->diags, DIAG_CONSUMES_NOTHING, consumes->span,
                    "remove `consumes`: it takes out the lines a discount on items reads, and this "
                    "promotion only gives a gift, an effect or a shipping discount",
                    "`consumes` means nothing here: promotion `%s` discounts no items",
                    p->name ? p->name : "");
        return;
    }
    if (stop != NULL)
        diag_report(c->diags, DIAG_CONSUMES_WITH_STOP, consumes->span,
                    "remove one of them: `stop` already keeps every later promotion out",
                    "`consumes` with `stop` changes nothing: no later promotion runs once this one applies");
}

/* `limit N units per customer` (docs/semantics.md 5.7): only a price per unit can be limited to
 * units: a percentage off, an amount off each unit, or a fixed unit price. */
static void check_unit_limit(check_ctx *c, const ast_node *p, const ast_node *limit)
{
    if (limit == NULL) return;
    for (int i = 0; i < p->list.count; i++) {
        const ast_node *cl = p->list.items[i];
        if (cl == NULL || cl->kind != AST_CLAUSE || cl->op != CL_THEN || cl->a == NULL) continue;
        const ast_node *act = cl->a;
        if (act->kind != AST_ACTION) continue;
        if (act->op == ACT_PERCENT_OFF || act->op == ACT_AMOUNT_OFF_EACH || act->op == ACT_FIXED_PRICE) continue;
        diag_report(c->diags, DIAG_UNIT_LIMIT_ACTION, act->span,
                    "limit units on a price per unit: `then price flash at ¥99`, `then ¥20 off each flash` "
                    "or `then 50% off flash`; for a whole-order discount use `limit 1 per customer`",
                    "`limit ... units per customer` needs a discount priced per unit");
        diag_note(c->diags, limit->span, "the unit limit is here");
        return;
    }
}

void check_promotion(check_ctx *c, ast_node *p)
{
    ast_node *slots[CLAUSE_SLOTS] = { 0 };
    int n_then = 0;
    p->value = CHECK_DEFAULT_PRIORITY;
    char owner[160];
    snprintf(owner, sizeof owner, "a promotion");
    for (int i = 0; i < p->list.count; i++) {
        ast_node *cl = p->list.items[i];
        if (cl == NULL || cl->kind != AST_CLAUSE) continue;
        if (common_clause(c, cl)) continue;
        switch (cl->op) {
        case CL_PRIORITY:
        case CL_VALID:
        case CL_EVERY:
        case CL_HOURS:
        case CL_MONTHDAY:
        case CL_COUPON:
        case CL_COUPON_FROM:
        case CL_EXCLUSIVE:
        case CL_STOP:
        case CL_CAP:
        case CL_LIMIT_USES:
        case CL_LIMIT_MONEY:
        case CL_LIMIT_CUSTOMER:
        case CL_LIMIT_UNITS:
        case CL_ORIGINAL:
        case CL_STAGE:
        case CL_CONSUMES:
            if (!once(c, slots, cl, owner)) continue;
            break;
        default: break;
        }
        switch (cl->op) {
        case CL_PRIORITY:
            if (want_int(c, cl->a, "the priority", INT32_MIN, INT32_MAX)) p->value = cl->a->value;
            break;
        case CL_VALID: check_valid(c, cl); break;
        case CL_EVERY: check_every(c, cl); break;
        case CL_HOURS: check_hours(c, cl); break;
        case CL_MONTHDAY: check_monthday(c, cl); break;
        case CL_COUPON: text_ok(c, cl->span, cl->name, "the coupon code"); break;
        case CL_COUPON_FROM: text_ok(c, cl->span, cl->name, "the coupon campaign"); break;
        case CL_EXCLUSIVE: text_ok(c, cl->span, cl->name, "the exclusive group"); break;
        case CL_STOP:
        case CL_ORIGINAL:
        case CL_CONSUMES:
        case CL_STAGE: break; /* contradictions: check_stage.c, once every promotion is checked */
        case CL_CAP: want_money(c, cl->a, "the cap", false); break;
        case CL_LIMIT_USES: want_int(c, cl->a, "the use limit", 1, INT64_MAX); break;
        case CL_LIMIT_MONEY: want_money(c, cl->a, "the budget", false); break;
        case CL_LIMIT_CUSTOMER: want_int(c, cl->a, "the per-customer limit", 1, INT64_MAX); break;
        case CL_LIMIT_UNITS: want_int(c, cl->a, "the units per customer", 1, PROG_MAX_UNIT_LIMIT); break;
        case CL_THEN:
            n_then++;
            check_action(c, cl->a, p);
            break;
        default: not_allowed(c, cl, "a promotion"); break;
        }
    }
    if (n_then == 0 && !p->syntax_error)
        diag_report(c->diags, DIAG_MISSING_THEN, check_decl_span(c, p),
                    "add what it does, e.g. `then 10% off order`",
                    "promotion `%s` has no `then`, so it does nothing", p->name ? p->name : "");
    check_consumes(c, p, slots[CL_CONSUMES], slots[CL_STOP]);

    check_unit_limit(c, p, slots[CL_LIMIT_UNITS]);
    warn_never(c, p, "promotion");
}

void check_earn(check_ctx *c, ast_node *e)
{
    ast_node *slots[CLAUSE_SLOTS] = { 0 };
    for (int i = 0; i < e->list.count; i++) {
        ast_node *cl = e->list.items[i];
        if (cl == NULL || cl->kind != AST_CLAUSE) continue;
        if (common_clause(c, cl)) continue;
        if (cl->op == CL_CAP) cl->op = CL_EARN_CAP; /* `cap` inside earn counts points */
        switch (cl->op) {
        case CL_EARN_CAP:
            if (!once(c, slots, cl, "an earn rule")) break;
            if (cl->a != NULL && check_expr(c, cl->a) == TY_MONEY) {
                diag_report(c->diags, DIAG_WRONG_TYPE, cl->a->span,
                            "an earn rule's cap counts points: write e.g. `cap 500`",
                            "the points cap must be a number of points, not money");
                break;
            }
            if (cl->a != NULL && cl->a->type != TY_UNKNOWN &&
                check_expect_constant(c, cl->a, TY_INT, "the points cap") && cl->a->value < 1)
                diag_report(c->diags, DIAG_VALUE_OUT_OF_RANGE, cl->a->span, NULL,
                            "the points cap must be at least 1, not %" PRId64, cl->a->value);
            break;
        case CL_THEN:
            if (!once(c, slots, cl, "an earn rule")) break;
            if (cl->a != NULL && cl->a->kind == AST_ACTION && cl->a->op == ACT_EARN_POINTS) {
                want_int(c, cl->a->a, "the points", 1, INT64_MAX);
                want_money(c, cl->a->b, "the amount per point", false);
                check_item_set(c, cl->a->c, "what earns points");
            } else {
                diag_report(c->diags, DIAG_CLAUSE_NOT_ALLOWED, cl->span,
                            "write e.g. `then 1 point per ¥1 on items`",
                            "an earn rule's `then` says how many points are earned");
            }
            break;
        default: not_allowed(c, cl, "an earn rule"); break;
        }
    }
    if (slots[CL_THEN] == NULL && !e->syntax_error)
        diag_report(c->diags, DIAG_MISSING_THEN, check_decl_span(c, e),
                    "add how points are earned, e.g. `then 1 point per ¥1 on items`",
                    "earn rule `%s` has no `then`, so it earns nothing", e->name ? e->name : "");
    warn_never(c, e, "earn rule");
}

static void check_multiplier_targets(check_ctx *c, ast_node *act)
{
    for (int i = 0; i < act->list.count; i++) {
        ast_node *n = act->list.items[i];
        if (n == NULL || n->name == NULL) continue;
        ast_node *d = check_lookup(c, n->name);
        if (d == NULL && c->damaged) continue; /* the earn rule may be what the parser skipped */
        if (d == NULL || d->kind != AST_EARN) {
            suggest s;
            suggest_init(&s, n->name);
            for (int k = 0; k < c->info->n_earns; k++) suggest_add(&s, c->info->earns[k]->name);
            char hint[200];
            if (suggest_best(&s) != NULL)
                snprintf(hint, sizeof hint, "did you mean `%s`?", suggest_best(&s));
            else if (c->info->n_earns > 0)
                snprintf(hint, sizeof hint, "a multiplier applies to earn rules, e.g. `%s`, or to `all`",
                         c->info->earns[0]->name);
            else
                snprintf(hint, sizeof hint,
                         "declare an earn rule first, e.g. `earn %s { then 1 point per ¥1 on items }`",
                         n->name);
            if (d != NULL)
                diag_report(c->diags, DIAG_UNKNOWN_EARN_RULE, n->span, hint, "`%s` is a %s, not an earn rule",
                            n->name, check_decl_kind_text(d));
            else
                diag_report(c->diags, DIAG_UNKNOWN_EARN_RULE, n->span, hint, "unknown earn rule `%s`",
                            n->name);
            if (suggest_best(&s) != NULL) diag_fix_word(c->diags, n->span, n->name, suggest_best(&s));
            continue;
        }
        n->decl = d;
        n->is_const = true;
        n->value = d->index;
        for (int j = 0; j < i; j++) {
            ast_node *m = act->list.items[j];
            if (m != NULL && m->name != NULL && strcmp(m->name, n->name) == 0) {
                diag_report(c->diags, DIAG_DUPLICATE_ENTRY, n->span, "remove the repeated name",
                            "`%s` is listed twice", n->name);
                diag_note(c->diags, m->span, "first listed here");
                break;
            }
        }
    }
}

void check_multiplier(check_ctx *c, ast_node *m)
{
    ast_node *slots[CLAUSE_SLOTS] = { 0 };
    for (int i = 0; i < m->list.count; i++) {
        ast_node *cl = m->list.items[i];
        if (cl == NULL || cl->kind != AST_CLAUSE) continue;
        if (common_clause(c, cl)) continue;
        if (cl->op != CL_THEN) {
            not_allowed(c, cl, "a multiplier");
            continue;
        }
        if (!once(c, slots, cl, "a multiplier")) continue;
        ast_node *act = cl->a;
        if (act == NULL || act->kind != AST_ACTION || act->op != ACT_MULTIPLY) {
            diag_report(c->diags, DIAG_CLAUSE_NOT_ALLOWED, cl->span, "write e.g. `then x2 on all`",
                        "a multiplier's `then` multiplies points");
            continue;
        }
        check_constant(c, act->a, TY_MULTIPLIER, "the multiplier");
        check_multiplier_targets(c, act);
    }
    if (slots[CL_THEN] == NULL && !m->syntax_error)
        diag_report(c->diags, DIAG_MISSING_THEN, check_decl_span(c, m), "add e.g. `then x2 on all`",
                    "multiplier `%s` has no `then`, so it multiplies nothing", m->name ? m->name : "");
    warn_never(c, m, "multiplier");
}

static void check_pays_for(check_ctx *c, ast_node *cl)
{
    static const char *const words[] = { "goods", "shipping" };
    static const int64_t bits[] = { PROG_PAYS_GOODS, PROG_PAYS_SHIPPING };
    int64_t mask = 0;
    for (int i = 0; i < cl->list.count; i++) {
        ast_node *n = cl->list.items[i];
        if (n == NULL || n->name == NULL) continue;
        int k = -1;
        for (int w = 0; w < 2; w++)
            if (strcmp(n->name, words[w]) == 0) k = w;
        if (k < 0) {
            suggest s;
            suggest_init(&s, n->name);
            suggest_add(&s, "shipping");
            suggest_add(&s, "goods");
            char hint[120];
            if (suggest_best(&s) != NULL)
                snprintf(hint, sizeof hint, "did you mean `%s`?", suggest_best(&s));
            else
                snprintf(hint, sizeof hint, "points can pay for `shipping`, `goods`, or both");
            diag_report(c->diags, DIAG_UNKNOWN_PAYS_FOR, n->span, hint, "points cannot pay for `%s`",
                        n->name);
            if (suggest_best(&s) != NULL) diag_fix_word(c->diags, n->span, n->name, suggest_best(&s));
            continue;
        }
        if (mask & bits[k]) {
            diag_report(c->diags, DIAG_DUPLICATE_ENTRY, n->span, "remove the repeated word",
                        "`%s` is listed twice", n->name);
            continue;
        }
        mask |= bits[k];
    }
    cl->value = mask;
}

void check_redeem(check_ctx *c, ast_node *r)
{
    ast_node *slots[CLAUSE_SLOTS] = { 0 };
    for (int i = 0; i < r->list.count; i++) {
        ast_node *cl = r->list.items[i];
        if (cl == NULL || cl->kind != AST_CLAUSE) continue;
        if (common_clause(c, cl)) continue;
        if (cl->op == CL_RATE || cl->op == CL_PAYS_FOR || cl->op == CL_MAX_SHARE ||
            cl->op == CL_MIN_BALANCE) {
            if (!once(c, slots, cl, "the redeem block")) continue;
        }
        switch (cl->op) {
        case CL_RATE:
            want_int(c, cl->a, "the points of the rate", 1, INT64_MAX);
            want_money(c, cl->b, "the value of the points", false);
            break;
        case CL_PAYS_FOR: check_pays_for(c, cl); break;
        case CL_MAX_SHARE: want_percent(c, cl->a, "the share points may pay"); break;
        case CL_MIN_BALANCE: want_int(c, cl->a, "the minimum balance", 0, INT64_MAX); break;
        default: not_allowed(c, cl, "the redeem block"); break;
        }
    }
    if (slots[CL_RATE] == NULL && !r->syntax_error)
        diag_report(c->diags, DIAG_MISSING_CLAUSE, check_word_span(c, r->span, "redeem"),
                    "add e.g. `rate 100 points = ¥1`", "the redeem block does not say what points are worth");
    warn_never(c, r, "redeem block");
}

/* `expire at end of [next] year` (docs/semantics.md, "Points expiring with the calendar"): one way
 * of expiring, and a year that ends in the rule set's time zone. */
static void check_points_year_end(check_ctx *c, const ast_node *after, const ast_node *year_end)
{
    if (year_end == NULL) return;
    if (after != NULL) {
        diag_report(c->diags, DIAG_EXPIRY_TWICE, year_end->span,
                    "keep one: `expire after 365 days` counts from each order, `expire at end of year` "
                    "clears every point at the year's end",
                    "points expire either after a period or at the end of a year, not both");
        diag_note(c->diags, after->span, "the expiry period is here");
        c->info->points_expire_year_end = 0;
        return;
    }
    if (!c->timezone_written)
        diag_report(c->diags, DIAG_YEAR_END_IN_UTC, year_end->span,
                    "name the shop's zone in the header, e.g. `timezone \"Asia/Shanghai\"`",
                    "the rule set names no time zone: its year ends at midnight UTC");
}

void check_points(check_ctx *c, ast_node *p)
{
    ast_node *slots[CLAUSE_SLOTS] = { 0 };
    for (int i = 0; i < p->list.count; i++) {
        ast_node *cl = p->list.items[i];
        if (cl == NULL || cl->kind != AST_CLAUSE) continue;
        if (cl->op != CL_POINTS_PENDING && cl->op != CL_POINTS_EXPIRE && cl->op != CL_POINTS_EXPIRE_YEAR) {
            not_allowed(c, cl, "the points block");
            continue;
        }
        if (!once(c, slots, cl, "the points block")) continue;
        if (cl->op == CL_POINTS_PENDING) {
            if (want_duration(c, cl->a, "the pending period")) c->info->points_pending_seconds = cl->a->value;
        } else if (cl->op == CL_POINTS_EXPIRE_YEAR) {
            c->info->points_expire_year_end = (int)cl->ival;
        } else if (want_duration(c, cl->a, "the expiry period")) {
            c->info->points_expire_seconds = cl->a->value;
        }
    }
    check_points_year_end(c, slots[CL_POINTS_EXPIRE], slots[CL_POINTS_EXPIRE_YEAR]);
}

void check_tier(check_ctx *c, ast_node *t, ast_node *previous)
{
    ast_node *slots[CLAUSE_SLOTS] = { 0 };
    t->is_const = false;
    for (int i = 0; i < t->list.count; i++) {
        ast_node *cl = t->list.items[i];
        if (cl == NULL || cl->kind != AST_CLAUSE) continue;
        if (cl->op == CL_TIER_BENEFIT) {
            text_ok(c, cl->span, cl->name, "a benefit");
            continue;
        }
        if (cl->op != CL_TIER_SPEND) {
            not_allowed(c, cl, "a tier");
            continue;
        }
        if (!once(c, slots, cl, "a tier")) continue;
        bool spend = want_money(c, cl->a, "the spend to reach a tier", true);
        want_duration(c, cl->b, "the spending window");
        if (!spend) continue;
        t->is_const = true;
        t->value = cl->a->value;
        if (previous != NULL && t->value <= previous->value) {
            char m1[48], m2[48], hint[240];
            snprintf(hint, sizeof hint,
                     "declare tiers from the lowest spend to the highest: "
                     "`customer.tier >= %s` compares tiers by their order",
                     t->name ? t->name : "gold");
            diag_report(c->diags, DIAG_TIERS_NOT_ASCENDING, cl->a->span, hint,
                        "tier `%s` needs %s, which is not more than the %s of tier `%s` declared before it",
                        t->name ? t->name : "", check_money_text(c, t->value, m1, sizeof m1),
                        check_money_text(c, previous->value, m2, sizeof m2),
                        previous->name ? previous->name : "");
            diag_note(c->diags, check_decl_span(c, previous), "tier `%s` is declared here",
                      previous->name ? previous->name : "");
        }
    }
    if (slots[CL_TIER_SPEND] == NULL && !t->syntax_error)
        diag_report(c->diags, DIAG_MISSING_CLAUSE, check_decl_span(c, t),
                    "add e.g. `spend ¥1000 within 365 days`", "tier `%s` does not say what spend reaches it",
                    t->name ? t->name : "");
}

/* ------------------------------------------------------------------------------------------ */
/* Priority ties inside exclusive groups                                                       */

typedef struct tie_entry {
    const char *group;
    int64_t priority;
    int index;
    ast_node *promo, *at;
} tie_entry;

static int compare_ties(const void *pa, const void *pb)
{
    const tie_entry *a = pa, *b = pb;
    int g = strcmp(a->group, b->group);
    if (g != 0) return g;
    if (a->priority != b->priority) return a->priority < b->priority ? -1 : 1;
    return (a->index > b->index) - (a->index < b->index);
}

void check_priority_ties(check_ctx *c)
{
    int n = c->info->n_promotions;
    if (n < 2) return;
    tie_entry *entries = calloc((size_t)n, sizeof *entries);
    if (entries == NULL) {
        fprintf(stderr, "perk: out of memory\n");
        abort();
    }
    int count = 0;
    for (int i = 0; i < n; i++) {
        ast_node *p = c->info->promotions[i];
        ast_node *group = NULL, *priority = NULL;
        for (int k = 0; k < p->list.count; k++) {
            ast_node *cl = p->list.items[k];
            if (cl == NULL || cl->kind != AST_CLAUSE) continue;
            if (cl->op == CL_EXCLUSIVE && group == NULL && cl->name != NULL && cl->name[0] != '\0')
                group = cl;
            if (cl->op == CL_PRIORITY && priority == NULL) priority = cl;
        }
        if (group == NULL || group->ival) continue; /* a best-deal group: the largest saving wins */
        entries[count++] = (tie_entry){ group->name, p->value, i, p, priority != NULL ? priority : group };
    }
    qsort(entries, (size_t)count, sizeof *entries, compare_ties);
    for (int i = 1, first = 0; i < count; i++) {
        tie_entry *e = &entries[i], *f = &entries[first];
        if (strcmp(e->group, f->group) != 0 || e->priority != f->priority) {
            first = i;
            continue;
        }
        char hint[300];
        snprintf(
            hint, sizeof hint,
            "`%s` is tried first because it is declared first; give them different priorities to make the "
            "order explicit",
            f->promo->name ? f->promo->name : "");
        diag_report(c->diags, DIAG_PRIORITY_TIE, e->at->span, hint,
                    "promotions `%s` and `%s` in exclusive group \"%s\" have the same priority %" PRId64,
                    f->promo->name ? f->promo->name : "", e->promo->name ? e->promo->name : "", e->group,
                    e->priority);
        diag_note(c->diags, f->at->span, "`%s` is here", f->promo->name ? f->promo->name : "");
    }
    free(entries);
}
