/* test_explain.c - the text explanation of a hand-built perk_result: exact output (money values
 * hand-checked in result_fixture.h), CJK-aware column alignment, color only when asked, and
 * failed evaluations. No VM or program needed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json/explain.h"
#include "result_fixture.h"

/* Lines: 256.00 - 25.60 = 230.40 and 12.00 - 1.20 = 10.80 (member_day 10%); totals as in the
 * fixture: 268.00 - 26.80 + 0.00 shipping - 5.00 redeemed = 236.20. */
static const char expected[] =
    "Lines\n"
    "  Line  SKU         Name                    Qty  Original  Discount    Final\n"
    "  1     TEA-001     龙井                      2   ¥256.00   -¥25.60  ¥230.40\n"
    "  2     CUP-9       杯子                      1    ¥12.00    -¥1.20   ¥10.80\n"
    "  #3    CUP-SLEEVE  杯套, gift of cup_gift    1     ¥0.00              ¥0.00\n"
    "\n"
    "Promotions\n"
    "  ✓ member_day  会员日       -¥26.80 on lines 1, 2\n"
    "  ✗ tea_gift    满300赠茶样  sum(tea) >= ¥300 not met: ¥268.00 < ¥300.00 (rules/spring.perk:14:8)\n"
    "  ✓ cup_gift    买杯送杯套   gift CUP-SLEEVE 杯套 ×1; effect thank_you_card\n"
    "  ✓ free_ship   包邮         -¥12.00 shipping\n"
    "  ✗ vip_coupon               its coupon was rejected\n"
    "  ✗ clearance   季末清仓     another promotion of its exclusive group applied\n"
    "\n"
    "Coupons\n"
    "  SPRING10  accepted (free_ship)\n"
    "  VIP-X     rejected: the code has expired\n"
    "\n"
    "Points\n"
    "  base          on ¥241.20  241 points\n"
    "  margin_bonus  on ¥230.40  500 points  x1.5 (capped)\n"
    "  earned 741 points\n"
    "\n"
    "Hints\n"
    "  add ¥32.00 of tea to get 满300赠茶样 (tea_gift)\n"
    "\n"
    "Totals\n"
    "  Subtotal          ¥268.00\n"
    "  Discount          -¥26.80\n"
    "  Shipping  ¥12.00 -> ¥0.00\n"
    "  Redeemed           -¥5.00\n"
    "  Payable           ¥236.20\n"
    "  redeemed 500 of 2300 redeemable points = ¥5.00 (goods ¥5.00, shipping ¥0.00)\n";

/* Runs explain_print into a malloc'ed string (through a temporary file: gcc 12 misreads
 * open_memstream's buffer as a dangling local). */
static char *explain_to_string(const result_names *names, const perk_result *r, const cart_doc *doc,
                               int flags)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    explain_print(f, names, r, doc, flags);
    long len = ftell(f);
    assert_true(len >= 0);
    rewind(f);
    char *buf = malloc((size_t)len + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
    buf[len] = '\0';
    fclose(f);
    return buf;
}

static void test_explain_exact(void **state)
{
    (void)state;
    perk_result r = fixture_result();
    cart_doc *doc = fixture_doc();
    assert_non_null(doc);
    char *text = explain_to_string(&fixture_names, &r, doc, 0);
    assert_string_equal(text, expected);
    assert_null(strchr(text, '\033')); /* no color unless asked */
    free(text);
    cart_json_free(doc);
}

/* A promotion that pairs within one SKU (`per sku`) shows its discount per SKU: member_day's
 * 25.60 on TEA-001 (line 1) and 1.20 on CUP-9 (line 2), the gift line none. */
static void test_per_sku_detail(void **state)
{
    (void)state;
    perk_result r = fixture_result();
    cart_doc *doc = fixture_doc();
    assert_non_null(doc);
    bool per_sku[16] = { true }; /* member_day, promotion 0 */
    assert_true(fixture_names.n_promotions <= 16);
    result_names names = fixture_names;
    names.promotion_per_sku = per_sku;
    char *text = explain_to_string(&names, &r, doc, 0);
    assert_non_null(strstr(text, "-¥26.80: TEA-001 -¥25.60 on line 1; CUP-9 -¥1.20 on line 2\n"));
    free(text);
    cart_json_free(doc);
}

/* A promotion that `consumes` its lines says so after its discount; the others do not. */
static void test_consumes_detail(void **state)
{
    (void)state;
    perk_result r = fixture_result();
    cart_doc *doc = fixture_doc();
    assert_non_null(doc);
    bool consumes[16] = { true }; /* member_day, promotion 0 */
    assert_true(fixture_names.n_promotions <= 16);
    result_names names = fixture_names;
    names.promotion_consumes = consumes;
    char *text = explain_to_string(&names, &r, doc, 0);
    const char *note = "; consumes the lines it used: later promotions do not count or discount them\n";
    const char *at = strstr(text, note);
    assert_non_null(at);
    assert_null(strstr(at + 1, note)); /* only member_day's row */
    free(text);
    text = explain_to_string(&fixture_names, &r, doc, 0);
    assert_null(strstr(text, "consumes"));
    free(text);
    cart_json_free(doc);
}

/* Every row of the promotions table starts its label column at the same display column, even
 * though the labels mix CJK (2 columns) and ASCII. */
static void test_alignment(void **state)
{
    (void)state;
    perk_result r = fixture_result();
    char *text = explain_to_string(&fixture_names, &r, NULL, 0);
    const char *p = strstr(text, "Promotions\n");
    assert_non_null(p);
    p += strlen("Promotions\n");
    size_t detail_col = 0;
    for (int row = 0; row < 6; row++) {
        const char *eol = strchr(p, '\n');
        assert_non_null(eol);
        char line[512];
        size_t n = (size_t)(eol - p);
        assert_true(n < sizeof line);
        memcpy(line, p, n);
        line[n] = '\0';
        /* the detail column starts after the label column: find it by its known first words */
        static const char *const details[] = { "-¥26.80", "sum(tea)",   "gift CUP",
                                               "-¥12.00", "its coupon", "another" };
        char *d = strstr(line, details[row]);
        assert_non_null(d);
        *d = '\0';
        size_t col = explain_display_width(line);
        if (row == 0) detail_col = col;
        assert_int_equal(col, detail_col);
        p = eol + 1;
    }
    /* "  ✓ member_day  " is 16 columns, "会员日"/"满300赠茶样" pad to 11, then 2 spaces */
    assert_int_equal(detail_col, 16 + 11 + 2);
    free(text);
}

static void test_color(void **state)
{
    (void)state;
    perk_result r = fixture_result();
    char *text = explain_to_string(&fixture_names, &r, NULL, EXPLAIN_COLOR);
    assert_non_null(strstr(text, "  \033[32m✓\033[0m member_day"));
    assert_non_null(strstr(text, "  \033[31m✗\033[0m tea_gift"));
    free(text);
}

static void test_without_cart_or_names(void **state)
{
    (void)state;
    perk_result r = fixture_result();
    char *text = explain_to_string(NULL, &r, NULL, 0);
    /* line ids fall back to positions, promotions to indices, conditions to a plain sentence */
    assert_non_null(strstr(text, "  #1    "));
    assert_non_null(strstr(text, "✓ #0  -¥26.80 on lines #1, #2\n"));
    assert_non_null(strstr(text, "✗ #1  a condition is not met: 26800 < 30000\n"));
    free(text);
}

static void test_failed_evaluation(void **state)
{
    (void)state;
    perk_result r;
    memset(&r, 0, sizeof r);
    r.status = PERK_BUDGET;
    char *text = explain_to_string(&fixture_names, &r, NULL, 0);
    assert_string_equal(text, "evaluation failed: instruction budget exhausted\n");
    free(text);
}

static void test_display_width(void **state)
{
    (void)state;
    assert_int_equal(explain_display_width(""), 0);
    assert_int_equal(explain_display_width("abc"), 3);
    assert_int_equal(explain_display_width("会员日"), 6);
    assert_int_equal(explain_display_width("¥268.00"), 7);
    assert_int_equal(explain_display_width("満300"), 5);
    assert_int_equal(explain_display_width("e\xcc\x81"), 1); /* e + combining acute */
    assert_int_equal(explain_display_width("ＡＢ"), 4);      /* fullwidth */
    assert_int_equal(explain_display_width("\xff"
                                           "a"),
                     2);                                    /* an invalid byte counts 1 */
    assert_int_equal(explain_display_width("\xe4\xbc"), 2); /* truncated sequence */
    assert_int_equal(explain_display_width(NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_explain_exact),
        cmocka_unit_test(test_per_sku_detail),
        cmocka_unit_test(test_consumes_detail),
        cmocka_unit_test(test_alignment),
        cmocka_unit_test(test_color),
        cmocka_unit_test(test_without_cart_or_names),
        cmocka_unit_test(test_failed_evaluation),
        cmocka_unit_test(test_display_width),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
