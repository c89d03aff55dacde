/* test_diff.c - `perk diff` replay (src/tools/diff.c, src/tools/diff_report.c) and the order generator
 * (src/tools/gen_orders.c): a ruleset against itself gives zero deltas; the tea shop's member day at
 * 10% vs 15% on hand-made orders gives hand-checked totals, top orders and reasons; bad lines are
 * counted with their line numbers and do not stop the run; the report is the same for 1, 2 and 3
 * threads; a currency mismatch is refused. Every file lives in a temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "compiler/compiler.h"
#include "tools/diff.h"
#include "tools/gen_orders.h"

/* The tea shop of rules/tea_shop.perk in one file (no include, no campaign dates); the first %s
 * is the member day's percent, the second more declarations. */
static const char tea_shop_fmt[] =
    "ruleset \"Tea shop\" {\n"
    "  currency CNY\n"
    "  timezone \"Asia/Shanghai\"\n"
    "  rounding half_up\n"
    "}\n"
    "let tea             = items where category in \"tea\"\n"
    "let high_margin     = items where margin >= 40%%\n"
    "let clearance_goods = items where \"clearance\" in tags\n"
    "tier silver \"银卡\" { spend ¥1000 within 365 days }\n"
    "tier gold   \"金卡\" { spend ¥5000 within 365 days }\n"
    "let gold_plus = customer.tier >= gold\n"
    "promotion clearance \"季末清仓\" { priority 10 then 30%% off clearance_goods }\n"
    "promotion member_day \"会员日\" { priority 20 every wednesday when gold_plus then %s off order }\n"
    "promotion tea_gift \"满300赠茶样\" { priority 30 when sum(tea) >= ¥300 then gift \"TEA-SAMPLE\" "
    "\"龙井茶样\" }\n"
    "promotion free_shipping \"满199包邮\" { priority 40 when order.subtotal >= ¥199 then free shipping }\n"
    "%s"
    "earn base \"消费积分\" { then 1 point per ¥1 on items }\n"
    "earn margin_bonus \"高毛利加赠\" { then 2 points per ¥1 on high_margin cap 500 }\n"
    "redeem { rate 100 points = ¥1 pays for shipping min balance 100 }\n";

static char tmp_dir[64];

static char *path_in_tmp(const char *name)
{
    static char buf[4][256];
    static int next;
    char *p = buf[next++ % 4];
    snprintf(p, sizeof buf[0], "%s/%s", tmp_dir, name);
    return p;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static perk_program *load_text(const char *name, const char *text)
{
    char *path = path_in_tmp(name);
    write_file(path, text);
    perk_program *p = compiler_load_program(path, false);
    assert_non_null(p);
    return p;
}

/* Writes and loads a tea shop variant. */
static perk_program *tea_shop(const char *name, const char *percent, const char *extra)
{
    char text[4096];
    snprintf(text, sizeof text, tea_shop_fmt, percent, extra);
    return load_text(name, text);
}

static int setup(void **state)
{
    (void)state;
    snprintf(tmp_dir, sizeof tmp_dir, "/tmp/perk-diff-XXXXXX");
    return mkdtemp(tmp_dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Hand-made orders. 2026-03-04 is a Wednesday, 2026-03-05 a Thursday.
 * line 1  A1: the seed cart of rules/tea_shop.test
 * line 2  (blank)
 * line 3  B1: gold, Wednesday, one tea line of 340.00, no shipping
 * line 4  C1: silver, Thursday, a cup of 45.00 with 12.00 shipping
 * line 5  not JSON
 * line 6  a typo in a field name
 * line 7  excludes a promotion neither version has: refused by both */
static const char hand_orders[] =
    "{\"order\": {\"id\": \"A1\", \"time\": \"2026-03-04T10:00:00+08:00\", \"shipping\": \"12.00\", "
    "\"points_to_redeem\": \"max\"},"
    " \"customer\": {\"tier\": \"gold\", \"birthday\": \"1990-07-01\", \"points\": 2300}, \"lines\": ["
    "{\"id\": \"1\", \"sku\": \"TEA-LJ\", \"category\": \"tea/green\", \"price\": \"128.00\", \"quantity\": "
    "2, \"margin\": \"45%\"},"
    "{\"id\": \"2\", \"sku\": \"TEA-PUER\", \"category\": \"tea/dark\", \"tags\": [\"clearance\"], "
    "\"price\": \"88.00\", \"quantity\": 1, \"margin\": \"30%\"},"
    "{\"id\": \"3\", \"sku\": \"CUP-01\", \"category\": \"teaware\", \"price\": \"45.00\", \"quantity\": 1, "
    "\"margin\": \"50%\"}]}\n"
    "   \n"
    "{\"order\": {\"id\": \"B1\", \"time\": \"2026-03-04T12:00:00+08:00\"}, \"customer\": {\"tier\": "
    "\"gold\"},"
    " \"lines\": [{\"sku\": \"TEA-DHP\", \"category\": \"tea/oolong\", \"price\": \"340.00\", \"quantity\": "
    "1}]}\n"
    "{\"order\": {\"id\": \"C1\", \"time\": \"2026-03-05T10:00:00+08:00\", \"shipping\": \"12.00\"}, "
    "\"customer\": {\"tier\": \"silver\"},"
    " \"lines\": [{\"sku\": \"CUP-01\", \"category\": \"teaware\", \"price\": \"45.00\", \"quantity\": 1, "
    "\"margin\": \"50%\"}]}\n"
    "not json\n"
    "{\"lines\": [{\"sku\": \"X\", \"prise\": \"1.00\", \"quantity\": 1}]}\n"
    "{\"exclude\": [\"no_such_promo\"], \"lines\": []}";

static diff_options options(unsigned threads, size_t top)
{
    diff_options o = { .top = top, .threads = threads, .now = 1772589600 };
    return o;
}

static char *print_to_string(const diff_report *r)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    diff_report_print(f, r, "old.perk", "new.perk");
    long n = ftell(f);
    assert_true(n > 0);
    rewind(f);
    char *s = calloc(1, (size_t)n + 1);
    assert_non_null(s);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    return s;
}

static const diff_promotion *promotion(const diff_report *r, const char *id)
{
    for (size_t i = 0; i < r->n_promotions; i++)
        if (strcmp(r->promotions[i].id, id) == 0) return &r->promotions[i];
    fail_msg("no promotion %s in the report", id);
    return NULL;
}

/* ------------------------------------------------------------------ tests */

static void self_diff_has_no_deltas(void **state)
{
    (void)state;
    perk_program *p = tea_shop("self.perk", "10%", "");
    char *orders = path_in_tmp("self.jsonl");
    write_file(orders, hand_orders);
    char err[256];
    diff_options o = options(0, 10);
    diff_report *r = diff_run(p, p, orders, &o, err, sizeof err);
    assert_non_null(r);
    assert_int_equal(r->compared, 3);
    assert_int_equal(r->changed, 0);
    assert_int_equal(r->n_top, 0);
    assert_memory_equal(&r->totals[0], &r->totals[1], sizeof r->totals[0]);
    for (size_t i = 0; i < r->n_promotions; i++) {
        const diff_promotion *x = &r->promotions[i];
        assert_true(x->old_index >= 0 && x->new_index >= 0);
        assert_int_equal(x->applied[0], x->applied[1]);
        assert_int_equal(x->discount[0], x->discount[1]);
        assert_int_equal(x->shipping[0], x->shipping[1]);
    }
    char *text = print_to_string(r);
    assert_non_null(strstr(text, "No order's payable changed."));
    free(text);
    diff_report_free(r);
    perk_program_free(p);
}

static void member_day_10_vs_15(void **state)
{
    (void)state;
    perk_program *old = tea_shop("old.perk", "10%", "");
    perk_program *new = tea_shop("new.perk", "15%", "");
    char *orders = path_in_tmp("hand.jsonl");
    write_file(orders, hand_orders);
    char err[256];
    diff_options o = options(1, 10);
    diff_report *r = diff_run(old, new, orders, &o, err, sizeof err);
    assert_non_null(r);

    assert_int_equal(r->lines, 7);
    assert_int_equal(r->orders, 6); /* the blank line 2 is skipped */
    assert_int_equal(r->compared, 3);
    assert_int_equal(r->changed, 2);
    assert_int_equal(r->parse_failed, 2);
    assert_int_equal(r->eval_failed, 1);
    assert_int_equal(r->failed[0], 1);
    assert_int_equal(r->failed[1], 1);

    /* A1 OLD (rules/tea_shop.test): clearance 26.40 + member day 10% of 362.60 = 36.26, payable
     *   326.34, shipping 12.00 free, points 326 + 500 (capped) = 826.
     * A1 NEW: member day 15% of 362.60 = 54.39; payable 389.00 - 26.40 - 54.39 = 308.21; points
     *   308 + min(500, 2 * (217.60 + 38.25) = 511) = 808.
     * B1 OLD: 10% of 340.00 = 34.00; tea 306.00 >= 300 so the gift applies; payable 306.00;
     *   points 306 (no margin: no bonus). B1 NEW: 15% = 51.00; tea 289.00 < 300: no gift;
     *   payable 289.00; points 289.
     * C1 both: Thursday, 45.00 < 199 so shipping stays: payable 57.00; points 45 + 90 = 135.
     * discount  OLD 26.40 + 36.26 + 34.00 = 96.66     NEW 26.40 + 54.39 + 51.00 = 131.79
     * payable   OLD 326.34 + 306.00 + 57.00 = 689.34  NEW 308.21 + 289.00 + 57.00 = 654.21
     * points    OLD 826 + 306 + 135 = 1267            NEW 808 + 289 + 135 = 1232 */
    assert_int_equal(r->totals[0].discount, 9666);
    assert_int_equal(r->totals[1].discount, 13179);
    assert_int_equal(r->totals[0].shipping_discount, 1200);
    assert_int_equal(r->totals[1].shipping_discount, 1200);
    assert_int_equal(r->totals[0].payable, 68934);
    assert_int_equal(r->totals[1].payable, 65421);
    assert_int_equal(r->totals[0].points_earned, 1267);
    assert_int_equal(r->totals[1].points_earned, 1232);
    assert_int_equal(r->totals[0].points_redeemed, 0);
    assert_int_equal(r->totals[1].points_redeemed, 0);

    /* member day: A1 and B1 under both: 36.26 + 34.00 = 70.26 vs 54.39 + 51.00 = 105.39 */
    const diff_promotion *md = promotion(r, "member_day");
    assert_int_equal(md->applied[0], 2);
    assert_int_equal(md->applied[1], 2);
    assert_int_equal(md->discount[0], 7026);
    assert_int_equal(md->discount[1], 10539);
    const diff_promotion *gift = promotion(r, "tea_gift");
    assert_int_equal(gift->applied[0], 1);
    assert_int_equal(gift->applied[1], 0);
    assert_string_equal(gift->label, "满300赠茶样");

    /* top: A1 (-18.13) before B1 (-17.00); C1 did not change */
    assert_int_equal(r->n_top, 2);
    assert_string_equal(r->top[0].id, "A1");
    assert_int_equal(r->top[0].line, 1);
    assert_int_equal(r->top[0].old_payable, 32634);
    assert_int_equal(r->top[0].new_payable, 30821);
    assert_int_equal(r->top[0].n_changes, 1);
    assert_int_equal(r->top[0].changes[0].kind, DIFF_AMOUNT);
    assert_string_equal(r->top[0].changes[0].promotion, "member_day");
    assert_int_equal(r->top[0].changes[0].old_amount, 3626);
    assert_int_equal(r->top[0].changes[0].new_amount, 5439);
    const diff_order *b1 = &r->top[1];
    assert_string_equal(b1->id, "B1");
    assert_int_equal(b1->line, 3);
    assert_int_equal(b1->n_changes, 2);
    assert_int_equal(b1->changes[0].kind, DIFF_AMOUNT);
    assert_int_equal(b1->changes[1].kind, DIFF_STOPPED);
    assert_string_equal(b1->changes[1].promotion, "tea_gift");
    assert_non_null(strstr(b1->changes[1].reason, "sum(tea) >= ¥300 not met: ¥289.00 < ¥300.00"));
    assert_non_null(strstr(b1->changes[1].reason, "new.perk:"));

    /* failures in line order, with the stage that refused them */
    assert_int_equal(r->n_failures, 4);
    assert_int_equal(r->failures[0].line, 5);
    assert_int_equal(r->failures[0].stage, DIFF_STAGE_PARSE);
    assert_non_null(strstr(r->failures[0].message, "invalid JSON at line 1, column"));
    assert_int_equal(r->failures[1].line, 6);
    assert_non_null(strstr(r->failures[1].message, "did you mean \"price\"?"));
    assert_int_equal(r->failures[2].line, 7);
    assert_int_equal(r->failures[2].stage, DIFF_STAGE_OLD);
    assert_non_null(strstr(r->failures[2].message, "$.exclude[0]: no promotion \"no_such_promo\""));
    assert_int_equal(r->failures[3].line, 7);
    assert_int_equal(r->failures[3].stage, DIFF_STAGE_NEW);

    char *text = print_to_string(r);
    assert_non_null(strstr(text, "  payable            ¥689.34  ¥654.21  -¥35.13\n"));
    assert_non_null(strstr(text, "  points earned         1267     1232      -35\n"));
    assert_non_null(strstr(text, "  A1 (line 1)  ¥326.34  ->  ¥308.21  -¥18.13\n"
                                 "      member_day: ¥36.26 -> ¥54.39\n"));
    assert_non_null(strstr(text, "      tea_gift: no longer applies: sum(tea) >= ¥300 not met"));
    assert_non_null(strstr(text, "  line 5  parse  invalid JSON"));
    free(text);

    char *json = diff_report_json(r, "old.perk", "new.perk");
    assert_non_null(json);
    json_error_t jerr;
    json_t *doc = json_loads(json, 0, &jerr);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_object_get(doc, "totals"), "delta"), "payable")),
                        "-35.13");
    json_t *top = json_object_get(doc, "top");
    assert_int_equal(json_array_size(top), 2);
    json_t *change = json_array_get(json_object_get(json_array_get(top, 1), "changes"), 1);
    assert_string_equal(json_string_value(json_object_get(change, "change")), "stopped");
    assert_string_equal(json_string_value(json_object_get(change, "old")), "0.00");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(doc, "orders"), "new_failed")), 1);
    json_decref(doc);
    free(json);

    /* the other way round: the gift starts applying, with OLD's (here the 15% version's) reason
     * for not applying, and the totals swap */
    diff_report_free(r);
    o = options(3, 10);
    r = diff_run(new, old, orders, &o, err, sizeof err);
    assert_non_null(r);
    assert_int_equal(r->totals[0].payable, 65421);
    assert_int_equal(r->totals[1].payable, 68934);
    assert_int_equal(r->n_top, 2);
    assert_string_equal(r->top[1].id, "B1");
    assert_int_equal(r->top[1].new_payable, 30600);
    assert_int_equal(r->top[1].changes[1].kind, DIFF_STARTED);
    assert_non_null(strstr(r->top[1].changes[1].reason, "¥289.00 < ¥300.00"));
    assert_non_null(strstr(r->top[1].changes[1].reason, "new.perk:"));

    /* --top 1 keeps only A1 */
    diff_report_free(r);
    o = options(2, 1);
    r = diff_run(old, new, orders, &o, err, sizeof err);
    assert_non_null(r);
    assert_int_equal(r->n_top, 1);
    assert_string_equal(r->top[0].id, "A1");
    diff_report_free(r);
    perk_program_free(old);
    perk_program_free(new);
}

/* A promotion only OLD has, and one only NEW has, are matched by id and listed apart. */
static void added_and_removed_promotions(void **state)
{
    (void)state;
    perk_program *old =
        tea_shop("old2.perk", "10%",
                 "promotion big \"大单\" { priority 50 when order.subtotal >= ¥300 then ¥5 off order }\n");
    perk_program *new = tea_shop("new2.perk", "10%",
                                 "promotion teaware_day { priority 50 when any(items where category in "
                                 "\"teaware\") then ¥3 off order }\n");
    char *orders = path_in_tmp("hand2.jsonl");
    write_file(orders, hand_orders);
    char err[256];
    diff_options o = options(0, 10);
    diff_report *r = diff_run(old, new, orders, &o, err, sizeof err);
    assert_non_null(r);
    const diff_promotion *big = promotion(r, "big"), *tw = promotion(r, "teaware_day");
    assert_true(big->old_index >= 0 && big->new_index < 0);
    assert_true(tw->old_index < 0 && tw->new_index >= 0);
    /* big: A1 (subtotal 326.34 after member day) and B1 (306.00): 2 x 5.00 under OLD */
    assert_int_equal(big->applied[0], 2);
    assert_int_equal(big->discount[0], 1000);
    /* teaware_day: A1 and C1 have a cup: 2 x 3.00 under NEW */
    assert_int_equal(tw->applied[1], 2);
    assert_int_equal(tw->discount[1], 600);
    /* C1: 57.00 -> 54.00 (added); A1: -5.00 + 3.00; B1: +5.00 (and still gets its gift) */
    assert_int_equal(r->n_top, 3);
    assert_string_equal(r->top[0].id, "B1");
    assert_int_equal(r->top[0].n_changes, 1);
    assert_int_equal(r->top[0].changes[0].kind, DIFF_REMOVED);
    assert_string_equal(r->top[1].id, "C1");
    assert_int_equal(r->top[1].changes[0].kind, DIFF_ADDED);
    assert_int_equal(r->top[1].changes[0].new_amount, 300);
    assert_string_equal(r->top[2].id, "A1");
    assert_int_equal(r->top[2].n_changes, 2);
    char *text = print_to_string(r);
    assert_non_null(strstr(text, "  big (removed)"));
    assert_non_null(strstr(text, "  teaware_day (new)"));
    free(text);
    diff_report_free(r);
    perk_program_free(old);
    perk_program_free(new);
}

/* 15 bad lines among good ones: all counted, the first 10 listed in line order, the run goes on;
 * a line over the length limit is skipped with a message. */
static void bad_lines_do_not_stop_the_run(void **state)
{
    (void)state;
    perk_program *p = tea_shop("bad.perk", "10%", "");
    char *orders = path_in_tmp("bad.jsonl");
    FILE *f = fopen(orders, "w");
    assert_non_null(f);
    for (int i = 1; i <= 40; i++) {
        if (i % 2 == 0 && i <= 30)
            fprintf(f, "{\"lines\": [{\"sku\": \"S%d\", \"price\": \"-1\", \"quantity\": 1}]}\n", i);
        else if (i == 35)
            fprintf(f, "{\"lines\": [{\"sku\": \"%0200d\", \"price\": \"1.00\", \"quantity\": 1}]}\n", 0);
        else
            fprintf(f, "{\"lines\": [{\"sku\": \"S%d\", \"price\": \"1.00\", \"quantity\": 1}]}\n", i);
    }
    assert_int_equal(fclose(f), 0);
    char *reference = NULL;
    for (unsigned threads = 1; threads <= 3; threads++) {
        char err[256];
        diff_options o = options(threads, 5);
        o.max_line_bytes = 150;
        diff_report *r = diff_run(p, p, orders, &o, err, sizeof err);
        assert_non_null(r);
        assert_int_equal(r->lines, 40);
        assert_int_equal(r->orders, 40);
        assert_int_equal(r->parse_failed, 16);
        assert_int_equal(r->compared, 24);
        assert_int_equal(r->n_failures, DIFF_MAX_FAILURES);
        for (size_t i = 0; i < r->n_failures; i++) {
            assert_int_equal(r->failures[i].line, 2 * (i + 1));
            assert_non_null(strstr(r->failures[i].message, "$.lines[0].price"));
        }
        char *json = diff_report_json(r, "a", "b");
        assert_non_null(json);
        if (!reference)
            reference = json;
        else {
            assert_string_equal(json, reference);
            free(json);
        }
        diff_report_free(r);
    }
    free(reference);
    perk_program_free(p);
}

/* Generated orders: all valid carts for their ruleset, the same for a seed, and a report that
 * does not depend on the number of threads. */
static void generated_orders_and_threads(void **state)
{
    (void)state;
    perk_program *old = tea_shop("gen_old.perk", "10%", "");
    perk_program *new = tea_shop("gen_new.perk", "15%", "");
    gen_vocab v;
    char err[256];
    assert_true(gen_vocab_from_rules(&v, path_in_tmp("gen_old.perk"), err, sizeof err));
    assert_int_equal(v.tiers.count, 2);
    assert_int_equal(v.item_tags.count, 1);
    assert_string_equal(v.item_tags.items[0], "clearance");
    assert_int_equal(v.categories.count, 1);
    char *orders = path_in_tmp("gen.jsonl");
    FILE *f = fopen(orders, "w");
    assert_non_null(f);
    assert_true(gen_orders_write(f, &v, "CNY", 2, 3000, 42));
    assert_int_equal(fclose(f), 0);

    /* same seed, same bytes; another seed, other bytes */
    char *again = path_in_tmp("gen2.jsonl"), *other = path_in_tmp("gen3.jsonl");
    f = fopen(again, "w");
    assert_true(gen_orders_write(f, &v, "CNY", 2, 3000, 42));
    fclose(f);
    f = fopen(other, "w");
    assert_true(gen_orders_write(f, &v, "CNY", 2, 3000, 43));
    fclose(f);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "cmp -s '%s' '%s'", orders, again);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "cmp -s '%s' '%s'", orders, other);
    assert_int_not_equal(system(cmd), 0);
    gen_vocab_free(&v);

    char *reference = NULL, *reference_text = NULL;
    for (unsigned threads = 1; threads <= 3; threads++) {
        diff_options o = options(threads, 20);
        diff_report *r = diff_run(old, new, orders, &o, err, sizeof err);
        assert_non_null(r);
        assert_int_equal(r->orders, 3000);
        assert_int_equal(r->compared, 3000);
        assert_int_equal(r->n_failures, 0);
        assert_true(r->changed > 0);
        assert_int_equal(r->n_top, 20);
        assert_true(r->totals[1].payable < r->totals[0].payable);
        char *json = diff_report_json(r, "a", "b");
        char *text = print_to_string(r);
        assert_non_null(json);
        if (!reference) {
            reference = json;
            reference_text = text;
        } else {
            assert_string_equal(json, reference);
            assert_string_equal(text, reference_text);
            free(json);
            free(text);
        }
        diff_report_free(r);
    }
    free(reference);
    free(reference_text);
    perk_program_free(old);
    perk_program_free(new);
}

static int progress_calls, progress_finished;
static uint64_t progress_orders;

static void count_progress(const diff_progress *p, void *user)
{
    assert_ptr_equal(user, &progress_calls);
    progress_calls++;
    if (p->finished) {
        progress_finished++;
        progress_orders = p->orders_done;
    }
}

static void progress_ends_with_finished(void **state)
{
    (void)state;
    perk_program *p = tea_shop("prog.perk", "10%", "");
    char *orders = path_in_tmp("prog.jsonl");
    write_file(orders, hand_orders);
    char err[256];
    diff_options o = options(2, 3);
    o.progress = count_progress;
    o.progress_user = &progress_calls;
    diff_report *r = diff_run(p, p, orders, &o, err, sizeof err);
    assert_non_null(r);
    assert_true(progress_calls >= 1);
    assert_int_equal(progress_finished, 1);
    assert_int_equal(progress_orders, 6);
    diff_report_free(r);
    perk_program_free(p);
}

static void currency_mismatch_and_missing_file(void **state)
{
    (void)state;
    perk_program *cny = tea_shop("cny.perk", "10%", "");
    perk_program *usd =
        load_text("usd.perk", "ruleset \"US\" { currency USD timezone \"America/New_York\" }\n"
                              "promotion p { then 10% off order }\n");
    char *orders = path_in_tmp("cur.jsonl");
    write_file(orders, hand_orders);
    char err[256];
    diff_options o = options(0, 3);
    assert_null(diff_run(cny, usd, orders, &o, err, sizeof err));
    assert_string_equal(
        err, "currency mismatch: OLD is in CNY, NEW is in USD; orders can only be compared in one currency");
    assert_null(diff_run(cny, cny, path_in_tmp("missing.jsonl"), &o, err, sizeof err));
    assert_non_null(strstr(err, "cannot open"));
    assert_null(diff_run(cny, cny, tmp_dir, &o, err, sizeof err));
    assert_non_null(strstr(err, "is a directory"));
    perk_program_free(cny);
    perk_program_free(usd);
}

/* An empty file and a file without a final newline. */
static void empty_and_unterminated_files(void **state)
{
    (void)state;
    perk_program *p = tea_shop("empty.perk", "10%", "");
    char *orders = path_in_tmp("empty.jsonl");
    write_file(orders, "");
    char err[256];
    diff_options o = options(2, 3);
    diff_report *r = diff_run(p, p, orders, &o, err, sizeof err);
    assert_non_null(r);
    assert_int_equal(r->lines, 0);
    assert_int_equal(r->orders, 0);
    char *text = print_to_string(r);
    assert_null(strstr(text, "No order's payable changed."));
    free(text);
    diff_report_free(r);
    write_file(orders, "{\"lines\": []}\n\n{\"lines\": []}");
    r = diff_run(p, p, orders, &o, err, sizeof err);
    assert_non_null(r);
    assert_int_equal(r->lines, 3);
    assert_int_equal(r->orders, 2);
    assert_int_equal(r->compared, 2);
    diff_report_free(r);
    perk_program_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(self_diff_has_no_deltas),
        cmocka_unit_test(member_day_10_vs_15),
        cmocka_unit_test(added_and_removed_promotions),
        cmocka_unit_test(bad_lines_do_not_stop_the_run),
        cmocka_unit_test(generated_orders_and_threads),
        cmocka_unit_test(progress_ends_with_finished),
        cmocka_unit_test(currency_mismatch_and_missing_file),
        cmocka_unit_test(empty_and_unterminated_files),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
