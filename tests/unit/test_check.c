/* test_check.c - unit tests of the checker: types and folded values of expressions, settings,
 * the check_info summary, name resolution, the did-you-mean distance, and that the example
 * ruleset of docs/language.md checks without a single diagnostic. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler/check.h"
#include "compiler/check_internal.h"
#include "compiler/parse.h"
#include "compiler/suggest.h"

typedef struct fixture {
    source_set src;
    diag_engine diags;
    ast_arena *arena;
    ast_node *file;
    check_info info;
    bool ok;
} fixture;

static void dump_diags(const fixture *f) { diag_print_text(&f->diags, stderr, false); }

/* Parses and checks `text`; the text must parse cleanly. */
static void compile(fixture *f, const char *text)
{
    memset(f, 0, sizeof *f);
    source_init(&f->src);
    diag_init(&f->diags, &f->src);
    f->arena = ast_arena_new();
    f->file = parse_text(&f->src, &f->diags, f->arena, "test.perk", text, strlen(text));
    if (f->diags.errors != 0) dump_diags(f);
    assert_int_equal(f->diags.errors, 0);
    assert_non_null(f->file);
    f->ok = check_program(f->file, &f->diags, f->arena, &f->info);
}

static void release(fixture *f)
{
    diag_free(&f->diags);
    ast_arena_free(f->arena);
    source_free(&f->src);
}

static bool has_code(const fixture *f, diag_code code)
{
    for (int i = 0; i < f->diags.count; i++)
        if (f->diags.entries[i].code == code) return true;
    return false;
}

static const diag_entry *find_code(const fixture *f, diag_code code)
{
    for (int i = 0; i < f->diags.count; i++)
        if (f->diags.entries[i].code == code) return &f->diags.entries[i];
    return NULL;
}

static ast_node *let_expr(const fixture *f, const char *name)
{
    for (int i = 0; i < f->info.n_lets; i++)
        if (strcmp(f->info.lets[i]->name, name) == 0) return f->info.lets[i]->a;
    fail_msg("no let %s", name);
    return NULL;
}

#define CNY_HEADER "ruleset \"t\" { currency CNY }\n"
#define JPY_HEADER "ruleset \"t\" { currency JPY }\n"

/* Lets that only exist to be inspected are "unused": those warnings are expected. */
static void assert_no_errors(const fixture *f)
{
    if (f->diags.errors != 0) dump_diags(f);
    assert_int_equal(f->diags.errors, 0);
    assert_true(f->ok);
}

static void test_money_cny(void **state)
{
    (void)state;
    fixture f;
    compile(&f, CNY_HEADER "let a = ¥12.50\n"
                           "let b = 300 CNY\n"
                           "let c = ¥300\n"
                           "let d = ¥0.05\n"
                           "let e = ¥100 + ¥20.5\n"
                           "let g = ¥9.99 * 3\n"
                           "let h = ¥99.99 * 15%\n"
                           "let i = -¥5\n");
    assert_no_errors(&f);
    ast_node *a = let_expr(&f, "a");
    assert_int_equal(a->type, TY_MONEY);
    assert_true(a->is_const);
    assert_int_equal(a->value, 1250);                  /* ¥12.50 = 1250 fen */
    assert_int_equal(let_expr(&f, "b")->value, 30000); /* 300.00 CNY */
    assert_int_equal(let_expr(&f, "c")->value, 30000);
    assert_int_equal(let_expr(&f, "d")->value, 5);
    assert_int_equal(let_expr(&f, "e")->value, 12050); /* 10000 + 2050 */
    assert_int_equal(let_expr(&f, "g")->value, 2997);  /* 999 * 3 */
    /* 9999 fen * 15% = 1499.85 fen -> 1500 with the default half_up */
    assert_int_equal(let_expr(&f, "h")->type, TY_MONEY);
    assert_int_equal(let_expr(&f, "h")->value, 1500);
    assert_int_equal(let_expr(&f, "i")->value, -500);
    assert_string_equal(f.info.currency, "CNY");
    assert_int_equal(f.info.exponent, 2);
    release(&f);
}

static void test_money_rounding_down(void **state)
{
    (void)state;
    fixture f;
    compile(&f, "ruleset \"t\" { currency CNY rounding down }\nlet h = ¥99.99 * 15%\n");
    assert_no_errors(&f);
    assert_int_equal(f.info.rounding, PROG_ROUND_DOWN);
    assert_int_equal(let_expr(&f, "h")->value, 1499); /* 1499.85 rounded down */
    release(&f);
}

static void test_money_jpy(void **state)
{
    (void)state;
    fixture f;
    compile(&f, JPY_HEADER "let a = ¥300\nlet b = 300 JPY\nlet c = ¥12.0\n");
    assert_no_errors(&f);
    assert_int_equal(let_expr(&f, "a")->value, 300); /* yen have no minor unit */
    assert_int_equal(let_expr(&f, "b")->value, 300);
    assert_int_equal(let_expr(&f, "c")->value, 12); /* a zero fraction is exact */
    assert_int_equal(f.info.exponent, 0);
    release(&f);

    compile(&f, JPY_HEADER "let a = ¥12.5\n");
    assert_false(f.ok);
    const diag_entry *e = find_code(&f, DIAG_MONEY_TOO_PRECISE);
    assert_non_null(e);
    assert_string_equal(e->message, "JPY has no minor unit; ¥12.5 cannot be charged");
    assert_non_null(e->hint);
    assert_string_equal(e->hint, "round it to ¥12 or ¥13");
    release(&f);
}

static void test_currency_mismatch(void **state)
{
    (void)state;
    fixture f;
    compile(&f, CNY_HEADER "let a = $5\n");
    assert_true(has_code(&f, DIAG_CURRENCY_MISMATCH));
    release(&f);
    compile(&f, CNY_HEADER "let a = 5 USD\n");
    const diag_entry *e = find_code(&f, DIAG_CURRENCY_MISMATCH);
    assert_non_null(e);
    assert_string_equal(e->message, "`5 USD` is in USD, but this ruleset's currency is CNY");
    release(&f);
    compile(&f, "ruleset \"t\" { currency USD }\nlet a = $5.25\n");
    assert_no_errors(&f);
    assert_int_equal(let_expr(&f, "a")->value, 525);
    release(&f);
}

static void test_percent(void **state)
{
    (void)state;
    fixture f;
    compile(&f, CNY_HEADER "let a = 15%\nlet b = 12.5%\nlet c = 0.0001%\nlet d = 10% + 5%\n");
    assert_no_errors(&f);
    assert_int_equal(let_expr(&f, "a")->type, TY_PERCENT);
    assert_int_equal(let_expr(&f, "a")->value, 150000);
    assert_int_equal(let_expr(&f, "b")->value, 125000);
    assert_int_equal(let_expr(&f, "c")->value, 1);
    assert_int_equal(let_expr(&f, "d")->value, 150000);
    release(&f);
    compile(&f, CNY_HEADER "let a = 12.34567%\n");
    assert_true(has_code(&f, DIAG_PERCENT_TOO_PRECISE));
    release(&f);
}

static void test_multiplier_and_decimal(void **state)
{
    (void)state;
    fixture f;
    compile(&f, CNY_HEADER "let a = x1.5\nlet b = x2\nlet c = 2.50\n");
    assert_no_errors(&f);
    ast_node *a = let_expr(&f, "a");
    assert_int_equal(a->type, TY_MULTIPLIER);
    assert_int_equal(a->value, 3); /* 1.5 = 3/2 */
    assert_int_equal(a->value2, 2);
    assert_int_equal(let_expr(&f, "b")->value, 2);
    assert_int_equal(let_expr(&f, "b")->value2, 1);
    assert_int_equal(let_expr(&f, "c")->type, TY_DECIMAL);
    assert_int_equal(let_expr(&f, "c")->value, 5); /* 2.50 = 5/2 */
    assert_int_equal(let_expr(&f, "c")->value2, 2);
    release(&f);
    compile(&f, CNY_HEADER "earn base { then 1 point per ¥1 on items }\n"
                           "multiplier m { then x0 on base }\n");
    assert_true(has_code(&f, DIAG_INVALID_MULTIPLIER));
    release(&f);
}

static void test_dates_and_durations(void **state)
{
    (void)state;
    fixture f;
    compile(&f, CNY_HEADER "let a = 2026-03-01\n"
                           "let b = 2026-03-31 - 2026-03-01\n"
                           "let c = 2026-03-01 + 2 weeks\n"
                           "let d = 09:30\n"
                           "let e = 7 days\n"
                           "let g = today - customer.member_since >= 365 days\n"
                           "let h = today in 2026-03-01 .. 2026-03-31\n"
                           "let i = 2026-03-15 in 2026-03-01 .. 2026-03-31\n");
    assert_no_errors(&f);
    assert_int_equal(let_expr(&f, "a")->type, TY_DATE);
    assert_int_equal(let_expr(&f, "a")->value, 20513); /* days from 1970-01-01 */
    assert_int_equal(let_expr(&f, "b")->type, TY_DURATION);
    assert_int_equal(let_expr(&f, "b")->value, 30 * 86400);
    assert_int_equal(let_expr(&f, "c")->type, TY_DATE);
    assert_int_equal(let_expr(&f, "c")->value, 20513 + 14);
    assert_int_equal(let_expr(&f, "d")->type, TY_TIME);
    assert_int_equal(let_expr(&f, "d")->value, 9 * 60 + 30);
    assert_int_equal(let_expr(&f, "e")->value, 7 * 86400);
    ast_node *g = let_expr(&f, "g");
    assert_int_equal(g->type, TY_BOOL);
    assert_false(g->is_const);
    assert_int_equal(g->a->type, TY_DURATION); /* date - date */
    assert_int_equal(let_expr(&f, "h")->type, TY_BOOL);
    assert_false(let_expr(&f, "h")->is_const);
    assert_true(let_expr(&f, "i")->is_const);
    assert_int_equal(let_expr(&f, "i")->value, 1);
    release(&f);
    compile(&f, CNY_HEADER "let a = 2026-03-01 + 12 hours\n");
    assert_true(has_code(&f, DIAG_PARTIAL_DAYS));
    release(&f);
}

static void test_folding_and_errors(void **state)
{
    (void)state;
    fixture f;
    compile(&f, CNY_HEADER "let a = 2 + 3 * 4\n"
                           "let b = ¥100 > ¥200\n"
                           "let c = weekday in [saturday, sunday]\n"
                           "let d = not (1 = 2)\n"
                           "let e = \"app\" = \"app\"\n"
                           "let g = a * 2\n");
    assert_no_errors(&f);
    assert_int_equal(let_expr(&f, "a")->value, 14);
    assert_true(let_expr(&f, "b")->is_const);
    assert_int_equal(let_expr(&f, "b")->value, 0);
    ast_node *c = let_expr(&f, "c");
    assert_int_equal(c->b->type, TY_LIST);
    assert_int_equal(c->b->elem_type, TY_WEEKDAY);
    assert_int_equal(c->b->value, (1 << 5) | (1 << 6)); /* saturday = 5, sunday = 6 */
    assert_int_equal(let_expr(&f, "d")->value, 1);
    assert_int_equal(let_expr(&f, "e")->value, 1);
    ast_node *g = let_expr(&f, "g");
    assert_int_equal(g->value, 28); /* lets inline */
    assert_ptr_equal(g->a->decl, f.info.lets[0]);
    release(&f);

    compile(&f, CNY_HEADER "let a = 9223372036854775807 + 1\n");
    assert_true(has_code(&f, DIAG_CONSTANT_OVERFLOW));
    release(&f);
    compile(&f, CNY_HEADER "let a = 10 / (5 - 5)\n");
    assert_true(has_code(&f, DIAG_DIVISION_BY_ZERO));
    release(&f);
    compile(&f, CNY_HEADER "let a = order.subtotal > 300\n");
    const diag_entry *e = find_code(&f, DIAG_TYPE_MISMATCH);
    assert_non_null(e);
    assert_string_equal(e->message, "cannot compare money with int");
    assert_string_equal(e->hint, "write ¥300 instead of 300");
    release(&f);
}

static void test_items_and_fields(void **state)
{
    (void)state;
    fixture f;
    compile(&f, CNY_HEADER "let tea = items where category in \"tea\" and price >= ¥100\n"
                           "let n = sum(tea, quantity)\n"
                           "let big = max(items, margin)\n"
                           "let any_org = any(items, \"organic\" in tags)\n"
                           "let yn = items where attr(\"origin\") = \"Yunnan\"\n");
    assert_no_errors(&f);
    ast_node *tea = let_expr(&f, "tea");
    assert_int_equal(tea->type, TY_ITEMS);
    ast_node *pred = tea->b; /* category in "tea" and price >= ¥100 */
    assert_int_equal(pred->type, TY_BOOL);
    assert_int_equal(pred->a->a->type, TY_ITEM_FIELD);
    assert_int_equal(pred->a->a->elem_type, TY_CATEGORY);
    assert_int_equal(pred->a->a->fact, PERK_FIELD_CATEGORY);
    assert_int_equal(pred->b->a->elem_type, TY_MONEY);
    assert_int_equal(pred->b->a->fact, PERK_FIELD_PRICE);
    assert_int_equal(pred->b->b->value, 10000);
    assert_int_equal(let_expr(&f, "n")->type, TY_INT);
    assert_int_equal(let_expr(&f, "big")->type, TY_PERCENT);
    assert_int_equal(let_expr(&f, "any_org")->type, TY_BOOL);
    assert_int_equal(let_expr(&f, "yn")->b->a->fact, -1); /* attr */
    release(&f);

    compile(&f, CNY_HEADER "let a = price > ¥5\n");
    assert_true(has_code(&f, DIAG_ITEM_FIELD_OUTSIDE_WHERE));
    release(&f);
    compile(&f, CNY_HEADER "let a = items where price * quantity > ¥10\n");
    assert_true(has_code(&f, DIAG_ITEM_CONDITION_TOO_COMPLEX));
    release(&f);
    compile(&f, CNY_HEADER "let a = items where customer.first_order\n");
    assert_true(has_code(&f, DIAG_ITEM_CONDITION_TOO_COMPLEX));
    release(&f);
    compile(&f, CNY_HEADER "let a = items where price < ¥0\n");
    assert_true(has_code(&f, DIAG_EMPTY_ITEM_SET));
    assert_true(f.ok); /* only a warning */
    release(&f);
}

static void test_names(void **state)
{
    (void)state;
    fixture f;
    compile(&f, CNY_HEADER "let a = customer.tire = gold\n"
                           "tier gold { spend ¥10 within 365 days }\n");
    const diag_entry *e = find_code(&f, DIAG_UNKNOWN_FACT);
    assert_non_null(e);
    assert_string_equal(e->hint, "did you mean `customer.tier`?");
    release(&f);

    compile(&f, CNY_HEADER "let a = b + 1\nlet b = 2\n");
    assert_true(has_code(&f, DIAG_LET_BEFORE_DEFINITION));
    release(&f);

    compile(&f, CNY_HEADER "let tea = 1\nlet tee = 2\npromotion p { when tae > 0 then 10% off order }\n");
    e = find_code(&f, DIAG_UNKNOWN_NAME);
    assert_non_null(e);
    assert_string_equal(e->hint, "did you mean `tea`?"); /* ties go to the first declared */
    release(&f);

    compile(&f, CNY_HEADER "let a = 1\ntier a { spend ¥1 within 1 day }\n");
    assert_true(has_code(&f, DIAG_DUPLICATE_NAME));
    assert_int_equal(find_code(&f, DIAG_DUPLICATE_NAME)->n_notes, 1);
    release(&f);

    compile(&f, CNY_HEADER "earn base { then 1 point per ¥1 on items }\n"
                           "multiplier m { then x2 on bse }\n");
    e = find_code(&f, DIAG_UNKNOWN_EARN_RULE);
    assert_non_null(e);
    assert_string_equal(e->hint, "did you mean `base`?");
    release(&f);
}

static void test_settings(void **state)
{
    (void)state;
    fixture f;
    compile(&f, "ruleset \"Spring\" {\n currency CNY\n timezone \"Asia/Shanghai\"\n rounding half_even\n"
                " max discount 60%\n coupons one per order\n}\n"
                "points { pending 7 days expire after 365 days }\n");
    assert_no_errors(&f);
    assert_string_equal(f.info.ruleset_name, "Spring");
    assert_string_equal(f.info.timezone, "Asia/Shanghai");
    assert_int_equal(f.info.rounding, PROG_ROUND_HALF_EVEN);
    assert_int_equal(f.info.max_discount_ppm, 600000);
    assert_int_equal(f.info.coupon_policy, PROG_COUPONS_ONE_PER_ORDER);
    assert_int_equal(f.info.points_pending_seconds, 7 * 86400);
    assert_int_equal(f.info.points_expire_seconds, 365 * 86400);
    assert_int_equal(f.info.points_expire_year_end, 0);
    assert_non_null(f.info.points);
    release(&f);

    compile(&f, "ruleset \"t\" { currency CNY timezone \"Asia/Shanghai\" }\n"
                "points { expire at end of year }\n");
    assert_no_errors(&f);
    assert_int_equal(f.info.points_expire_year_end, 1);
    assert_int_equal(f.info.points_expire_seconds, 0);
    release(&f);
    compile(&f, "ruleset \"t\" { currency CNY timezone \"Asia/Shanghai\" }\n"
                "points { pending 3 days expire at end of next year }\n");
    assert_no_errors(&f);
    assert_int_equal(f.info.points_expire_year_end, 2);
    assert_int_equal(f.info.points_pending_seconds, 3 * 86400);
    release(&f);

    compile(&f, "ruleset \"t\" { currency CNY }\n");
    assert_no_errors(&f);
    assert_string_equal(f.info.timezone, "UTC");
    assert_int_equal(f.info.max_discount_ppm, -1);
    assert_int_equal(f.info.coupon_policy, PROG_COUPONS_STACKABLE);
    release(&f);

    compile(&f, "ruleset \"t\" { currency CNH }\n");
    const diag_entry *e = find_code(&f, DIAG_UNKNOWN_CURRENCY);
    assert_non_null(e);
    assert_string_equal(e->hint, "did you mean `CNY`?");
    release(&f);

    compile(&f, "ruleset \"t\" { currency CNY timezone \"Asia/Shangai\" }\n");
    e = find_code(&f, DIAG_UNKNOWN_TIMEZONE);
    assert_non_null(e);
    assert_string_equal(e->hint, "did you mean \"Asia/Shanghai\"?");
    release(&f);

    compile(&f, "ruleset \"t\" { currency CNY timezone \"../etc/passwd\" }\n");
    assert_true(has_code(&f, DIAG_INVALID_TIMEZONE_NAME));
    release(&f);

    compile(&f, "ruleset \"t\" { currency CNY currency CNY }\n");
    assert_true(has_code(&f, DIAG_DUPLICATE_SETTING));
    release(&f);

    compile(&f, "ruleset \"t\" { timezone \"UTC\" }\n");
    assert_true(has_code(&f, DIAG_MISSING_CURRENCY));
    release(&f);

    compile(&f, "let a = 1\n");
    e = find_code(&f, DIAG_MISSING_RULESET);
    assert_non_null(e);
    assert_int_equal(e->span.first_line, 1);
    assert_int_equal(e->span.first_column, 1);
    release(&f);
}

/* The example of docs/language.md (without its include) must check without any diagnostic. */
static const char *lang_example =
    "# Spring tea festival. Comments run from '#' to the end of the line.\n"
    "ruleset \"春茶节 Spring tea\" {\n"
    "  currency CNY\n"
    "  timezone \"Asia/Shanghai\"\n"
    "  rounding half_up\n"
    "  max discount 60%\n"
    "  coupons one per order\n"
    "}\n"
    "let tea        = items where category in \"tea\"\n"
    "let high_margin = items where margin >= 40%\n"
    "let gold_plus  = customer.tier >= gold\n"
    "let gift_bar   = ¥300\n"
    "tier silver \"银卡\" { spend ¥1000 within 365 days  benefit \"生日礼\" }\n"
    "tier gold   \"金卡\" { spend ¥5000 within 365 days  benefit \"会员日9折\" }\n"
    "promotion clearance \"季末清仓\" {\n"
    "  priority 10\n"
    "  valid 2026-03-01 to 2026-03-31\n"
    "  exclusive \"seasonal\"\n"
    "  then 30% off items where \"clearance\" in tags\n"
    "}\n"
    "promotion member_day \"会员日\" {\n"
    "  priority 20\n"
    "  every wednesday\n"
    "  when gold_plus\n"
    "  then 10% off order\n"
    "}\n"
    "promotion tea_gift \"满300赠茶样\" {\n"
    "  priority 30\n"
    "  when sum(tea) >= gift_bar\n"
    "  then gift \"TEA-SAMPLE\" \"龙井茶样\"\n"
    "}\n"
    "earn base \"消费积分\" {\n"
    "  then 1 point per ¥1 on items\n"
    "}\n"
    "earn margin_bonus \"高毛利加赠\" {\n"
    "  then 2 points per ¥1 on high_margin\n"
    "  cap 500\n"
    "}\n"
    "multiplier birthday \"生日双倍积分\" {\n"
    "  when customer.is_birthday\n"
    "  then x2 on base, margin_bonus\n"
    "}\n"
    "redeem {\n"
    "  rate 100 points = ¥1\n"
    "  pays for shipping\n"
    "  max 100%\n"
    "  min balance 500\n"
    "}\n"
    "points {\n"
    "  pending 7 days\n"
    "  expire after 365 days\n"
    "}\n";

static void test_lang_example(void **state)
{
    (void)state;
    fixture f;
    compile(&f, lang_example);
    if (f.diags.count != 0) dump_diags(&f);
    assert_int_equal(f.diags.count, 0);
    assert_true(f.ok);
    check_info *in = &f.info;
    assert_string_equal(in->ruleset_name, "春茶节 Spring tea");
    assert_int_equal(in->n_lets, 4);
    assert_int_equal(in->n_tiers, 2);
    assert_int_equal(in->n_promotions, 3);
    assert_int_equal(in->n_earns, 2);
    assert_int_equal(in->n_multipliers, 1);
    assert_non_null(in->redeem);
    assert_non_null(in->points);
    for (int i = 0; i < in->n_promotions; i++) assert_int_equal(in->promotions[i]->index, i);
    assert_string_equal(in->promotions[1]->name, "member_day");
    assert_int_equal(in->promotions[0]->value, 10); /* priorities */
    assert_int_equal(in->promotions[2]->value, 30);
    assert_string_equal(in->tiers[1]->name, "gold");
    assert_int_equal(in->tiers[1]->index, 1);
    assert_int_equal(in->tiers[1]->value, 500000); /* ¥5000 in fen */
    assert_int_equal(in->earns[1]->index, 1);
    assert_int_equal(in->max_discount_ppm, 600000);

    /* gold_plus = customer.tier >= gold: the tier constant is the tier's index */
    ast_node *gp = let_expr(&f, "gold_plus");
    assert_int_equal(gp->a->type, TY_TIER);
    assert_int_equal(gp->a->fact, PERK_FACT_CUSTOMER_TIER);
    assert_int_equal(gp->b->type, TY_TIER);
    assert_true(gp->b->is_const);
    assert_int_equal(gp->b->value, 1);
    assert_ptr_equal(gp->b->decl, in->tiers[1]);

    /* the multiplier's targets resolve to the earn rules */
    ast_node *then = NULL;
    for (int i = 0; i < in->multipliers[0]->list.count; i++)
        if (in->multipliers[0]->list.items[i]->op == CL_THEN) then = in->multipliers[0]->list.items[i];
    assert_non_null(then);
    ast_node *act = then->a;
    assert_int_equal(act->a->value, 2);
    assert_int_equal(act->a->value2, 1);
    assert_int_equal(act->list.count, 2);
    assert_ptr_equal(act->list.items[1]->decl, in->earns[1]);
    assert_int_equal(act->list.items[1]->value, 1);

    /* member_day: every wednesday -> mask bit 2; the action is a percent off of 10% */
    ast_node *md = in->promotions[1];
    for (int i = 0; i < md->list.count; i++) {
        ast_node *cl = md->list.items[i];
        if (cl->op == CL_EVERY) assert_int_equal(cl->value, 1 << 2);
        if (cl->op == CL_THEN) {
            assert_int_equal(cl->a->op, ACT_PERCENT_OFF);
            assert_int_equal(cl->a->a->value, 100000);
            assert_int_equal(cl->a->b->type, TY_ITEMS);
        }
    }
    /* redeem: pays for shipping only */
    for (int i = 0; i < in->redeem->list.count; i++) {
        ast_node *cl = in->redeem->list.items[i];
        if (cl->op == CL_PAYS_FOR) assert_int_equal(cl->value, PROG_PAYS_SHIPPING);
        if (cl->op == CL_RATE) {
            assert_int_equal(cl->a->value, 100);
            assert_int_equal(cl->b->value, 100); /* ¥1 = 100 fen */
        }
    }
    release(&f);
}

static void test_rules(void **state)
{
    (void)state;
    fixture f;
    compile(&f, CNY_HEADER "let big = ¥10\n"
                           "promotion p { then big off order }\n"
                           "promotion q { when ¥100 > ¥200 then 10% off order }\n"
                           "promotion r { then 120% off order }\n"
                           "promotion s { priority 1 }\n"
                           "promotion t { valid 2026-03-31 to 2026-03-01 then 5% off order }\n"
                           "promotion u { hours 22:00 to 24:00 then 5% off order }\n"
                           "promotion v { hours 10:00 to 10:00 then 5% off order }\n"
                           "promotion w { hours 22:00 to 02:00 then 5% off order }\n");
    ast_node *p = f.info.promotions[0];
    assert_int_equal(p->list.items[0]->a->op, ACT_AMOUNT_OFF);
    assert_int_equal(p->list.items[0]->a->a->value, 1000);
    assert_true(has_code(&f, DIAG_NEVER_APPLIES));
    assert_true(has_code(&f, DIAG_PERCENT_OVER_100));
    assert_true(has_code(&f, DIAG_MISSING_THEN));
    assert_true(has_code(&f, DIAG_VALID_END_BEFORE_START));
    assert_true(has_code(&f, DIAG_HOURS_END_NOT_AFTER_START));
    assert_int_equal(f.diags.errors, 4); /* u (22:00 to 24:00) and w (across midnight) are fine */
    release(&f);

    /* a percent let used with `off` switches the action to a percent off */
    compile(&f, CNY_HEADER "let half = 50%\npromotion p { then half off order }\n");
    assert_no_errors(&f);
    assert_int_equal(f.info.promotions[0]->list.items[0]->a->op, ACT_PERCENT_OFF);
    release(&f);
}

/* Every action and clause form of docs/language.md, well formed: no diagnostics, and the values the code
 * generator reads. */
static void test_all_actions(void **state)
{
    (void)state;
    fixture f;
    compile(&f, CNY_HEADER
            "let tea = items where category in \"tea\"\n"
            "let snacks = items where category in [\"snack\", \"nuts\"] and not (brand = \"X\")\n"
            "promotion a { requires coupon \"SPRING10\" limit 100 uses limit ¥5000 total\n"
            "  limit 1 per customer measure original prices stop cap ¥50\n"
            "  then ¥5 off each tea\n  then price tea at ¥8\n }\n"
            "promotion b { requires coupon from \"SPRING\" exclusive \"g\"\n"
            "  then price tea by quantity { 3: ¥8, 6: ¥7.50 } }\n"
            "promotion c { then tiers on order { ¥100: ¥10 off, ¥200: 15% off } }\n"
            "promotion d { then every ¥100 on order: ¥10 off up to ¥50 }\n"
            "promotion e { then buy 2 of tea get 1 free\n then buy 1 of tea get 1 of snacks at 50% off }\n"
            "promotion g { then any 3 of snacks for ¥99 }\n"
            "promotion h { then gift 2 of \"SKU-1\" \"name\" then gift \"SKU-2\" }\n"
            "promotion i { then effect \"vip_card\" \"顾问\" then free shipping }\n"
            "promotion j { then ¥5 off shipping then 50% off shipping }\n"
            "promotion k { hours 10:00 to 14:00 every saturday, sunday when time in 10:00 .. 24:00\n"
            "  when \"vip\" in customer.tags and order.channel in [\"app\", \"web\"]\n"
            "  when all(tea, \"organic\" in tags) and count(tea union snacks) >= 3\n"
            "  when min(tea except snacks, price) >= order.subtotal * 10%\n"
            "  then 10% off tea where quantity in 2 .. 5 or sku in [\"A\", \"B\"] }\n");
    if (f.diags.count != 0) dump_diags(&f);
    assert_int_equal(f.diags.count, 0);
    ast_node *b = f.info.promotions[1];
    ast_node *qty = b->list.items[2]->a;
    assert_int_equal(qty->op, ACT_QTY_PRICE);
    assert_int_equal(qty->list.items[1]->a->value, 6);
    assert_int_equal(qty->list.items[1]->b->value, 750); /* ¥7.50 */
    ast_node *tiers = f.info.promotions[2]->list.items[0]->a;
    assert_int_equal(tiers->list.items[1]->b->type, TY_PERCENT);
    assert_int_equal(tiers->list.items[1]->b->value, 150000);
    ast_node *k = f.info.promotions[9];
    assert_int_equal(k->list.items[1]->value, (1 << 5) | (1 << 6)); /* every saturday, sunday */
    assert_int_equal(k->list.items[0]->b->value, 14 * 60);
    release(&f);

    compile(&f, CNY_HEADER "promotion n { then any 1 of items for ¥5 }\n"
                           "promotion m { then 10% off each items }\n"
                           "promotion o { then ¥0 off order }\n"
                           "promotion p { then tiers on order { ¥200: ¥10 off, ¥100: 5% off } }\n");
    assert_true(has_code(&f, DIAG_VALUE_OUT_OF_RANGE));
    assert_true(has_code(&f, DIAG_PERCENT_OFF_EACH));
    assert_true(has_code(&f, DIAG_ZERO_AMOUNT));
    assert_true(has_code(&f, DIAG_STEPS_NOT_ASCENDING));
    release(&f);
}

/* Every ```perk block of docs/language.md is a complete ruleset: it must check without a single
 * diagnostic (so the reference never shows code the checker rejects). Run from the repository
 * root or set PERK_SRCDIR. */
static void test_language_doc(void **state)
{
    (void)state;
    const char *dir = getenv("PERK_SRCDIR");
    char path[4096];
    snprintf(path, sizeof path, "%s%sdocs/language.md", dir ? dir : "", dir ? "/" : "");
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        print_message("%s not found; skipped\n", path);
        skip();
    }
    static char doc[1 << 20];
    size_t len = fread(doc, 1, sizeof doc - 1, fp);
    fclose(fp);
    doc[len] = '\0';
    int blocks = 0;
    for (char *at = strstr(doc, "```perk\n"); at != NULL; at = strstr(at, "```perk\n")) {
        at += 8;
        char *end = strstr(at, "```");
        assert_non_null(end);
        *end = '\0';
        fixture f;
        compile(&f, at);
        if (f.diags.count != 0) {
            print_error("block %d of %s:\n%s\n", blocks + 1, path, at);
            dump_diags(&f);
        }
        assert_int_equal(f.diags.count, 0);
        release(&f);
        blocks++;
        at = end + 3;
    }
    assert_true(blocks > 0);
}

/* After a syntax error the parser marks what it skipped; the checker (run by a driver that wants
 * every diagnostic) must not report what was merely dropped. */
static void test_after_syntax_error(void **state)
{
    (void)state;
    const char *text =
        CNY_HEADER "let tea = items where category in \"tea\"\n"
                   "promotion p { priority 10 then ¥10 of order }\n" /* `of`: a syntax error inside */
                   "promotion q { when unknown_thing then 5% off order }\n";
    fixture f;
    memset(&f, 0, sizeof f);
    source_init(&f.src);
    diag_init(&f.diags, &f.src);
    f.arena = ast_arena_new();
    f.file = parse_text(&f.src, &f.diags, f.arena, "test.perk", text, strlen(text));
    assert_non_null(f.file);
    assert_true(f.diags.errors > 0);
    int parse_errors = f.diags.errors;
    check_program(f.file, &f.diags, f.arena, &f.info);
    assert_false(has_code(&f, DIAG_MISSING_THEN));
    assert_false(has_code(&f, DIAG_UNKNOWN_NAME));
    assert_false(has_code(&f, DIAG_UNUSED_LET));
    assert_int_equal(f.diags.errors, parse_errors);
    release(&f);
}

static void test_distance(void **state)
{
    (void)state;
    assert_int_equal(suggest_distance("abc", "abc"), 0);
    assert_int_equal(suggest_distance("abc", "acb"), 1); /* one transposition */
    assert_int_equal(suggest_distance("ca", "abc"), 2);  /* true Damerau-Levenshtein (OSA says 3) */
    assert_int_equal(suggest_distance("kitten", "sitting"), 3);
    assert_int_equal(suggest_distance("", "abc"), 3);
    suggest s;
    suggest_init(&s, "tire");
    suggest_add(&s, "tier");
    suggest_add(&s, "tired");
    assert_string_equal(suggest_best(&s), "tier"); /* first of equal distance */
    suggest_init(&s, "xyz");
    suggest_add(&s, "abc");
    assert_null(suggest_best(&s));
    suggest_init(&s, "cny");
    suggest_add(&s, "CNA");
    suggest_add(&s, "CNY");
    assert_string_equal(suggest_best(&s), "CNY"); /* case-only difference wins */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_money_cny),
        cmocka_unit_test(test_money_rounding_down),
        cmocka_unit_test(test_money_jpy),
        cmocka_unit_test(test_currency_mismatch),
        cmocka_unit_test(test_percent),
        cmocka_unit_test(test_multiplier_and_decimal),
        cmocka_unit_test(test_dates_and_durations),
        cmocka_unit_test(test_folding_and_errors),
        cmocka_unit_test(test_items_and_fields),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_settings),
        cmocka_unit_test(test_lang_example),
        cmocka_unit_test(test_rules),
        cmocka_unit_test(test_all_actions),
        cmocka_unit_test(test_language_doc),
        cmocka_unit_test(test_after_syntax_error),
        cmocka_unit_test(test_distance),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
