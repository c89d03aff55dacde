/* test_analyze.c - the static analysis of src/compiler/analyze.c: the margin guard's bound on three
 * rulesets worked out by hand, and the coupon check against the codes a store has issued.
 * (The other warnings have golden files: tests/diagnostics/analyze-*.perk.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "compiler/analyze.h"
#include "compiler/check.h"
#include "compiler/parse.h"

typedef struct checked {
    source_set src;
    diag_engine diags;
    ast_arena *arena;
    ast_node *file;
    check_info info;
} checked;

static void check_text(checked *c, const char *text)
{
    source_init(&c->src);
    diag_init(&c->diags, &c->src);
    c->arena = ast_arena_new();
    c->file = parse_text(&c->src, &c->diags, c->arena, "t.perk", text, strlen(text));
    assert_non_null(c->file);
    assert_true(check_program(c->file, &c->diags, c->arena, &c->info));
    assert_int_equal(c->diags.errors, 0);
}

static void release(checked *c)
{
    diag_free(&c->diags);
    ast_arena_free(c->arena);
    source_free(&c->src);
}

/* 20% off, then ¥50 off at ¥200 (at most 50/200 = 25% of any item), then every ¥100 ¥15 off
 * (15%): 1 - 0.80 x 0.75 x 0.85 = 1 - 0.51 = 49.0% = 490000 ppm. */
static void margin_stacked(void **state)
{
    (void)state;
    checked c;
    check_text(&c, "ruleset \"a\" { currency CNY }\n"
                   "promotion p1 { priority 1 then 20% off order }\n"
                   "promotion p2 { priority 2 when order.subtotal >= ¥200 then ¥50 off order }\n"
                   "promotion p3 { priority 3 then every ¥100 on order: ¥15 off }\n");
    analyze_margin m;
    analyze_margin_bound(&c.info, &m);
    assert_int_equal(m.max_ppm, 490000);
    assert_int_equal(m.n_path, 3);
    assert_int_equal(m.step_ppm[0], 200000);
    assert_int_equal(m.step_ppm[1], 250000);
    assert_int_equal(m.step_ppm[2], 150000);
    release(&c);
}

/* The same with p1 and p2 in one exclusive group: only the larger (25%) can apply:
 * 1 - 0.75 x 0.85 = 36.25% = 362500 ppm, through p2 and p3. */
static void margin_exclusive(void **state)
{
    (void)state;
    checked c;
    check_text(&c,
               "ruleset \"b\" { currency CNY }\n"
               "promotion p1 { priority 1 exclusive \"x\" then 20% off order }\n"
               "promotion p2 { priority 2 exclusive \"x\" when order.subtotal >= ¥200 then ¥50 off order }\n"
               "promotion p3 { priority 3 then every ¥100 on order: ¥15 off }\n");
    analyze_margin m;
    analyze_margin_bound(&c.info, &m);
    assert_int_equal(m.max_ppm, 362500);
    assert_int_equal(m.n_path, 2);
    assert_string_equal(m.path[0]->name, "p2");
    assert_string_equal(m.path[1]->name, "p3");
    release(&c);
}

/* One coupon per order, and a `stop`: coupons A (40%) and B (30%) cannot stack. In evaluation
 * order (stages: items, order, coupons) p4 (50% off tea) runs first whatever its priority, then
 * p3 (10% off order), which stops everything after it, then the coupons: a path through p3 ends
 * there: 1 - 0.5 x 0.9 = 55%. Without p3 the best is p4 then coupon A: 1 - 0.5 x 0.6 = 70% =
 * 700000 ppm. */
static void margin_coupons_and_stop(void **state)
{
    (void)state;
    checked c;
    check_text(&c, "ruleset \"c\" { currency CNY coupons one per order }\n"
                   "let tea = items where category in \"tea\"\n"
                   "promotion p1 { priority 1 requires coupon \"A\" then 40% off order }\n"
                   "promotion p2 { priority 2 requires coupon \"B\" then 30% off order }\n"
                   "promotion p3 { priority 3 when customer.first_order then 10% off order stop }\n"
                   "promotion p4 { priority 4 then 50% off tea }\n");
    analyze_margin m;
    analyze_margin_bound(&c.info, &m);
    assert_int_equal(m.max_ppm, 700000);
    assert_int_equal(m.n_path, 2);
    assert_string_equal(m.path[0]->name, "p4");
    assert_string_equal(m.path[1]->name, "p1");
    release(&c);
}

/* A coupon promotion whose code the store never issued gets a warning; an issued one does not. */
static void coupon_not_issued(void **state)
{
    (void)state;
    checked c;
    check_text(&c, "ruleset \"d\" { currency CNY }\n"
                   "promotion spring { requires coupon \"SPRING10\" then 10% off order }\n"
                   "promotion summer { requires coupon \"SUMMER5\" then ¥5 off order }\n"
                   "promotion news { requires coupon from \"NEWS\" then ¥3 off order }\n");
    const char *codes[] = { "SPRING10" };
    const char *campaigns[] = { "OTHER" };
    analyze_options opt = { 0, codes, 1, campaigns, 1 };
    analyze_program(c.file, &c.info, &opt, &c.diags);
    assert_int_equal(c.diags.warnings, 2);
    bool summer = false, news = false;
    for (int i = 0; i < c.diags.count; i++) {
        summer |= strstr(c.diags.entries[i].message, "\"SUMMER5\"") != NULL;
        news |= strstr(c.diags.entries[i].message, "campaign \"NEWS\"") != NULL;
        assert_null(strstr(c.diags.entries[i].message, "SPRING10"));
    }
    assert_true(summer && news);
    release(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(margin_stacked),
        cmocka_unit_test(margin_exclusive),
        cmocka_unit_test(margin_coupons_and_stop),
        cmocka_unit_test(coupon_not_issued),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
