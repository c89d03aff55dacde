/* test_vm_loyalty.c - points on hand-built bytecode: redemption (what points may pay, split
 * between shipping and goods, shares) and earning (bases after discounts and redemption,
 * multipliers, caps), as the result records them. The minimum balance, partial requests and odd
 * rates are rule tests now: tests/semantics/loyalty.test. Every expectation is worked out by hand
 * in the comment next to it. */
#include "vm_testutil.h"

typedef struct redeem_setup {
    int64_t points, money; /* rate */
    uint32_t pays_for;
    int64_t max_share_ppm, min_balance;
} redeem_setup;

static perk_context *loyalty_ctx(const redeem_setup *rs, bool earn)
{
    prog_data p;
    pb_init(&p, "t", "CNY", 2);
    if (rs != NULL) {
        pb_redeem_begin(&p, rs->points, rs->money, rs->pays_for);
        p.redeem.max_share_ppm = rs->max_share_ppm;
        p.redeem.min_balance = rs->min_balance;
        pb_redeem_end(&p);
    }
    if (earn) {
        uint32_t e = pb_earn_begin(&p, "base", NULL, 1, 100); /* 1 point per ¥1 */
        pb_emit(&p, PERK_OP_SET_ALL, 0);
        pb_emit(&p, PERK_OP_EARN, e);
        pb_earn_end(&p, e);
    }
    return vt_build(&p);
}

static void cart(perk_context *ctx, int64_t shipping, int64_t balance, int64_t request)
{
    perk_order o = { .time = VT_TIME, .shipping = shipping, .points_to_redeem = request };
    assert_int_equal(perk_cart_set_order(ctx, &o), PERK_OK);
    perk_customer c = { .points_balance = balance, .has_points_balance = true };
    assert_int_equal(perk_cart_set_customer(ctx, &c), PERK_OK);
}

static void test_points_pay_shipping_only(void **state)
{
    (void)state;
    redeem_setup rs = { 100, 100, PROG_PAYS_SHIPPING, 1000000, 0 };
    perk_context *ctx = loyalty_ctx(&rs, false);
    cart(ctx, 800, 10000, -1);
    vt_line(ctx, "a", NULL, 5000, 1);
    const perk_result *r = vt_eval(ctx);
    /* may pay shipping only: 800; the balance covers 10000 -> 800, costing 800 points */
    assert_int_equal(r->points_redeemable, 800);
    assert_int_equal(r->points_redeemed, 800);
    assert_int_equal(r->redeem_value, 800);
    assert_int_equal(r->redeem_shipping, 800);
    assert_int_equal(r->redeem_goods, 0);
    assert_int_equal(r->payable, 5000); /* 5000 + 800 - 800 */
    perk_context_free(ctx);
}

static void test_max_share_and_balance(void **state)
{
    (void)state;
    redeem_setup rs = { 100, 100, PROG_PAYS_GOODS | PROG_PAYS_SHIPPING, 500000, 0 };
    perk_context *ctx = loyalty_ctx(&rs, false);
    cart(ctx, 1000, 100000, -1);
    vt_line(ctx, "a", NULL, 5000, 1);
    const perk_result *r = vt_eval(ctx);
    /* (5000 + 1000) * 50% = 3000; balance worth 100000 -> 3000, shipping first: 1000 + 2000 */
    assert_int_equal(r->redeem_value, 3000);
    assert_int_equal(r->redeem_shipping, 1000);
    assert_int_equal(r->redeem_goods, 2000);
    assert_int_equal(r->points_redeemed, 3000);
    assert_int_equal(r->payable, 3000); /* 5000 + 1000 - 3000 */
    perk_context_free(ctx);

    ctx = loyalty_ctx(&rs, false);
    cart(ctx, 1000, 1000, -1);
    vt_line(ctx, "a", NULL, 5000, 1);
    r = vt_eval(ctx);
    /* 1000 points are worth 1000 < 3000 */
    assert_int_equal(r->redeem_value, 1000);
    assert_int_equal(r->points_redeemable, 1000);
    assert_int_equal(r->redeem_shipping, 1000);
    perk_context_free(ctx);
}

static void test_redeemed_goods_earn_nothing(void **state)
{
    (void)state;
    redeem_setup rs = { 100, 100, PROG_PAYS_GOODS, 1000000, 0 };
    perk_context *ctx = loyalty_ctx(&rs, true);
    cart(ctx, 0, 1000, -1);
    vt_line(ctx, "a", NULL, 3000, 1);
    vt_line(ctx, "b", NULL, 1000, 1);
    const perk_result *r = vt_eval(ctx);
    /* 1000 points pay 1000 of goods, split 750 / 250 by final amounts 3000 / 1000;
       earn base (3000 - 750) + (1000 - 250) = 3000 -> 30 points */
    assert_int_equal(r->redeem_goods, 1000);
    assert_int_equal(r->n_points, 1);
    assert_int_equal(r->points[0].base, 3000);
    assert_int_equal(r->points[0].points, 30);
    assert_int_equal(r->points_earned, 30);
    assert_int_equal(r->payable, 3000);
    perk_context_free(ctx);
}

/* Multipliers x2 (all), x3/2 (targets earn 0), x5 (condition never true), 4/2 (ties with x2,
 * declared later). Earn 1 point per ¥1 with an optional cap; a 10% promotion first. */
static perk_context *mult_ctx(int64_t cap)
{
    prog_data p;
    pb_init(&p, "t", "CNY", 2);
    uint32_t r = pb_promotion_begin(&p, "ten", NULL, 0);
    pb_emit(&p, PERK_OP_SET_ALL, 0);
    pb_emit(&p, PERK_OP_APPLY, pb_action(&p, r, PROG_ACT_PERCENT_OFF, 100000, 0, 0));
    pb_promotion_end(&p, r);
    uint32_t e = pb_earn_begin(&p, "base", NULL, 1, 100);
    p.earns[e].cap = cap;
    pb_emit(&p, PERK_OP_SET_ALL, 0);
    pb_emit(&p, PERK_OP_EARN, e);
    pb_earn_end(&p, e);
    uint32_t target = 0;
    uint32_t m = pb_mult_begin(&p, "x2", NULL, 2, 1, NULL, 0);
    pb_emit(&p, PERK_OP_MULTIPLY, m);
    pb_mult_end(&p, m);
    m = pb_mult_begin(&p, "x1.5", NULL, 3, 2, &target, 1);
    pb_emit(&p, PERK_OP_MULTIPLY, m);
    pb_mult_end(&p, m);
    m = pb_mult_begin(&p, "x5", NULL, 5, 1, NULL, 0);
    uint32_t c = pb_cond(&p, "first order", NULL);
    pb_emit(&p, PERK_OP_LOAD_FACT, PERK_FACT_CUSTOMER_FIRST_ORDER);
    pb_emit(&p, PERK_OP_REQUIRE, c);
    pb_emit(&p, PERK_OP_MULTIPLY, m);
    pb_mult_end(&p, m);
    m = pb_mult_begin(&p, "x4/2", NULL, 4, 2, NULL, 0);
    pb_emit(&p, PERK_OP_MULTIPLY, m);
    pb_mult_end(&p, m);
    perk_context *ctx = vt_build(&p);
    vt_order(ctx, 0);
    return ctx;
}

static void test_earn_with_multipliers(void **state)
{
    (void)state;
    perk_context *ctx = mult_ctx(-1);
    vt_line(ctx, "a", NULL, 13717, 1);
    const perk_result *r = vt_eval(ctx);
    /* 10% of 13717 = 1371.7 -> 1372; base 12345; largest active factor 2 (x2 and 4/2 tie: the
       first declared, index 0); floor(12345 * 2 / 100) = floor(246.9) = 246 */
    assert_int_equal(r->discount, 1372);
    assert_int_equal(r->points[0].base, 12345);
    assert_int_equal(r->points[0].multiplier, 0);
    assert_int_equal(r->points[0].mult_num, 2);
    assert_int_equal(r->points[0].mult_den, 1);
    assert_int_equal(r->points[0].points, 246);
    assert_false(r->points[0].capped);
    perk_context_free(ctx);

    ctx = mult_ctx(-1);
    perk_customer c = { .first_order = true, .has_first_order = true };
    assert_int_equal(perk_cart_set_customer(ctx, &c), PERK_OK);
    vt_line(ctx, "a", NULL, 13717, 1);
    r = vt_eval(ctx);
    /* first order: x5 is active and largest: floor(12345 * 5 / 100) = floor(617.25) = 617 */
    assert_int_equal(r->points[0].multiplier, 2);
    assert_int_equal(r->points[0].points, 617);
    perk_context_free(ctx);

    ctx = mult_ctx(100);
    vt_line(ctx, "a", NULL, 13717, 1);
    r = vt_eval(ctx);
    /* capped at 100 */
    assert_int_equal(r->points[0].points, 100);
    assert_true(r->points[0].capped);
    assert_int_equal(r->points_earned, 100);
    perk_context_free(ctx);
}

static void test_points_overflow_is_an_error(void **state)
{
    (void)state;
    prog_data p;
    pb_init(&p, "t", "CNY", 2);
    uint32_t e = pb_earn_begin(&p, "huge", NULL, INT64_MAX / 2, 1);
    pb_emit(&p, PERK_OP_SET_ALL, 0);
    pb_emit(&p, PERK_OP_EARN, e);
    pb_earn_end(&p, e);
    perk_context *ctx = vt_build(&p);
    vt_order(ctx, 0);
    vt_line(ctx, "a", NULL, 100, 1);
    /* 100 * (2^62) points does not fit in int64 */
    assert_int_equal(perk_evaluate(ctx)->status, PERK_OVERFLOW);
    perk_context_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_points_pay_shipping_only),    cmocka_unit_test(test_max_share_and_balance),
        cmocka_unit_test(test_redeemed_goods_earn_nothing), cmocka_unit_test(test_earn_with_multipliers),
        cmocka_unit_test(test_points_overflow_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
