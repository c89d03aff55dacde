/* test_vm_actions.c - every promotion action, rounding, allocation remainders, stacking order,
 * caps and money budgets. Every expected amount is worked out by hand in the comment next to it
 * (amounts in minor units: cents for CNY, yen for JPY). */
#include "vm_testutil.h"

static prog_data new_prog(void) {
    prog_data p;
    pb_init(&p, "t", "CNY", 2);
    return p;
}

/* ------------------------------------------------------------------ percent, amount */

static void test_percent_off_allocates_by_largest_remainder(void **state) {
    (void)state;
    prog_data p = new_prog();
    vt_simple_rule(&p, "ten", PERK_OP_SET_ALL, NULL, PROG_ACT_PERCENT_OFF, 100000, 0, 0);
    perk_context *ctx = vt_build(&p);
    vt_order(ctx, 0);
    vt_line(ctx, "a", NULL, 1999, 1);
    vt_line(ctx, "b", NULL, 1001, 1);
    const perk_result *r = vt_eval(ctx);
    /* 10% of 3000 = 300; 300*1999/3000 = 199.9 -> 199 (.9), 300*1001/3000 = 100.1 -> 100 (.1);
       one cent left goes to the larger remainder (line a): 200 + 100 */
    assert_int_equal(r->discount, 300);
    assert_int_equal(vt_alloc(r, 0, 0), 200);
    assert_int_equal(vt_alloc(r, 1, 0), 100);
    assert_int_equal(r->lines[0].final, 1799);
    assert_int_equal(r->lines[1].final, 901);
    assert_int_equal(r->payable, 2700); /* 3000 - 300 */
    assert_int_equal(r->promotions[0].reason, PERK_REASON_APPLIED);
    perk_context_free(ctx);
}

static void test_amount_off_remainder_ties_to_earlier_line(void **state) {
    (void)state;
    prog_data p = new_prog();
    vt_simple_rule(&p, "yuan", PERK_OP_SET_ALL, NULL, PROG_ACT_AMOUNT_OFF, 100, 0, 0);
    perk_context *ctx = vt_build(&p);
    vt_order(ctx, 0);
    for (int i = 0; i < 3; i++) vt_line(ctx, "x", NULL, 100, 1);
    const perk_result *r = vt_eval(ctx);
    /* 100 over 100/100/100: 33.33 each -> 33+33+33 = 99, the last cent to the first line */
    assert_int_equal(vt_alloc(r, 0, 0), 34);
    assert_int_equal(vt_alloc(r, 1, 0), 33);
    assert_int_equal(vt_alloc(r, 2, 0), 33);
    assert_int_equal(r->discount, 100);
    perk_context_free(ctx);
}

static void test_amount_off_never_exceeds_target(void **state) {
    (void)state;
    prog_data p = new_prog();
    vt_simple_rule(&p, "big", PERK_OP_SET_SKU, "a", PROG_ACT_AMOUNT_OFF, 5000, 0, 0);
    perk_context *ctx = vt_build(&p);
    vt_order(ctx, 0);
    vt_line(ctx, "a", NULL, 1000, 3);
    vt_line(ctx, "b", NULL, 700, 1);
    const perk_result *r = vt_eval(ctx);
    /* 5000 off a set worth 3000: only 3000; line b untouched */
    assert_int_equal(r->discount, 3000);
    assert_int_equal(r->lines[0].final, 0);
    assert_int_equal(r->lines[1].final, 700);
    assert_int_equal(r->payable, 700);
    perk_context_free(ctx);
}

static void test_amount_off_each_and_fixed_price(void **state) {
    (void)state;
    prog_data p = new_prog();
    vt_simple_rule(&p, "each", PERK_OP_SET_CATEGORY, "tea", PROG_ACT_AMOUNT_OFF_EACH, 150, 0, 0);
    vt_simple_rule(&p, "fixed", PERK_OP_SET_CATEGORY, "cup", PROG_ACT_FIXED_PRICE, 800, 0, 0);
    perk_context *ctx = vt_build(&p);
    vt_order(ctx, 0);
    vt_line(ctx, "t1", "tea/green", 1000, 3);
    vt_line(ctx, "t2", "tea", 100, 2);
    vt_line(ctx, "c1", "cup", 1000, 3);
    vt_line(ctx, "c2", "cup", 500, 2);
    const perk_result *r = vt_eval(ctx);
    /* each: t1 min(150*3, 3000) = 450; t2 min(150*2, 200) = 200 */
    assert_int_equal(vt_alloc(r, 0, 0), 450);
    assert_int_equal(vt_alloc(r, 1, 0), 200);
    /* fixed 8.00: c1 3000 - 800*3 = 600; c2 1000 - 1600 < 0 -> 0 */
    assert_int_equal(vt_alloc(r, 2, 1), 600);
    assert_int_equal(vt_alloc(r, 3, 1), 0);
    assert_int_equal(r->lines[3].n_allocations, 0);
    assert_int_equal(r->discount, 1250); /* 450 + 200 + 600 */
    perk_context_free(ctx);
}

static void test_qty_price_steps(void **state) {
    (void)state;
    prog_data p = new_prog();
    uint32_t a = vt_simple_rule(&p, "bulk", PERK_OP_SET_ALL, NULL, PROG_ACT_QTY_PRICE, 0, 0, 0);
    pb_step(&p, a, 2, 900, 0);
    pb_step(&p, a, 5, 800, 0);
    perk_context *ctx = vt_build(&p);
    vt_order(ctx, 0);
    vt_line(ctx, "a", NULL, 1000, 1);
    vt_line(ctx, "b", NULL, 1000, 3);
    vt_line(ctx, "c", NULL, 1000, 6);
    const perk_result *r = vt_eval(ctx);
    /* a: 1 unit reaches no step; b: step 2 -> 3000 - 900*3 = 300; c: step 5 -> 6000 - 800*6 = 1200 */
    assert_int_equal(vt_alloc(r, 0, 0), 0);
    assert_int_equal(vt_alloc(r, 1, 0), 300);
    assert_int_equal(vt_alloc(r, 2, 0), 1200);
    perk_context_free(ctx);
}

static void tiers_case(int64_t price, int64_t expect_discount, perk_reason expect_reason) {
    prog_data p = new_prog();
    uint32_t a = vt_simple_rule(&p, "tiers", PERK_OP_SET_ALL, NULL, PROG_ACT_TIERS, 0, 0, 0);
    pb_step(&p, a, 10000, 1000, 0);   /* from ¥100: ¥10 off */
    pb_step(&p, a, 30000, 100000, 1); /* from ¥300: 10% off */
    perk_context *ctx = vt_build(&p);
    vt_order(ctx, 0);
    vt_line(ctx, "a", NULL, price, 1);
    const perk_result *r = vt_eval(ctx);
    assert_int_equal(r->discount, expect_discount);
    assert_int_equal(r->promotions[0].reason, expect_reason);
    perk_context_free(ctx);
}

static void test_tiers(void **state) {
    (void)state;
    tiers_case(35000, 3500, PERK_REASON_APPLIED); /* 35000 >= 30000: 10% = 3500 */
    tiers_case(20000, 1000, PERK_REASON_APPLIED); /* 10000 <= 20000 < 30000: 1000 */
    tiers_case(5000, 0, PERK_REASON_NOTHING);     /* below every step */
}

static void test_every(void **state) {
    (void)state;
    for (int capped = 0; capped < 2; capped++) {
        prog_data p = new_prog();
        vt_simple_rule(&p, "every", PERK_OP_SET_ALL, NULL, PROG_ACT_EVERY, 10000, 1500, capped ? 4000 : -1);
        perk_context *ctx = vt_build(&p);
        vt_order(ctx, 0);
        vt_line(ctx, "a", NULL, 35000, 1);
        const perk_result *r = vt_eval(ctx);
        /* floor(35000 / 10000) = 3 times 1500 = 4500, capped at 4000 */
        assert_int_equal(r->discount, capped ? 4000 : 4500);
        perk_context_free(ctx);
    }
}

/* ------------------------------------------------------------------ rounding, currencies */

static int64_t percent_with_rounding(uint8_t rounding, int64_t price) {
    prog_data p = new_prog();
    p.rounding = rounding;
    vt_simple_rule(&p, "ten", PERK_OP_SET_ALL, NULL, PROG_ACT_PERCENT_OFF, 100000, 0, 0);
    perk_context *ctx = vt_build(&p);
    vt_order(ctx, 0);
    vt_line(ctx, "a", NULL, price, 1);
    int64_t d = vt_eval(ctx)->discount;
    perk_context_free(ctx);
    return d;
}

static void test_rounding_at_the_half_cent(void **state) {
    (void)state;
    /* 10% of 5 cents = 0.5 cent: half up 1, half even 0, down 0 */
    assert_int_equal(percent_with_rounding(PROG_ROUND_HALF_UP, 5), 1);
    assert_int_equal(percent_with_rounding(PROG_ROUND_HALF_EVEN, 5), 0);
    assert_int_equal(percent_with_rounding(PROG_ROUND_DOWN, 5), 0);
    /* 10% of 15 cents = 1.5 cents: 2, 2, 1 */
    assert_int_equal(percent_with_rounding(PROG_ROUND_HALF_UP, 15), 2);
    assert_int_equal(percent_with_rounding(PROG_ROUND_HALF_EVEN, 15), 2);
    assert_int_equal(percent_with_rounding(PROG_ROUND_DOWN, 15), 1);
    /* 10% of 25 cents = 2.5: 3, 2, 2 */
    assert_int_equal(percent_with_rounding(PROG_ROUND_HALF_UP, 25), 3);
    assert_int_equal(percent_with_rounding(PROG_ROUND_HALF_EVEN, 25), 2);
    assert_int_equal(percent_with_rounding(PROG_ROUND_DOWN, 25), 2);
}

static void test_jpy_exponent_zero(void **state) {
    (void)state;
    prog_data p;
    pb_init(&p, "jp", "JPY", 0);
    vt_simple_rule(&p, "fifteen", PERK_OP_SET_ALL, NULL, PROG_ACT_PERCENT_OFF, 150000, 0, 0);
    perk_context *ctx = vt_build(&p);
    perk_order o = {.currency = "JPY", .time = VT_TIME, .shipping = 500};
    assert_int_equal(perk_cart_set_order(ctx, &o), PERK_OK);
    vt_line(ctx, "a", NULL, 1999, 1);
    const perk_result *r = vt_eval(ctx);
    /* 15% of ¥1999 = 299.85 -> ¥300; payable 1999 - 300 + 500 = 2199 */
    assert_int_equal(r->discount, 300);
    assert_int_equal(r->exponent, 0);
    assert_string_equal(r->currency, "JPY");
    assert_int_equal(r->payable, 2199);
    perk_context_free(ctx);
}

/* ------------------------------------------------------------------ stacking */

static void stacking_case(bool original, int64_t expect_second) {
    prog_data p = new_prog();
    vt_simple_rule(&p, "ten_yuan", PERK_OP_SET_ALL, NULL, PROG_ACT_AMOUNT_OFF, 1000, 0, 0);
    uint32_t r2 = pb_promotion_begin(&p, "pct", NULL, 1);
    if (original) p.rules[r2].flags |= PROG_RULE_ORIGINAL;
    vt_require_subtotal(&p, 10000, false, NULL);
    pb_emit(&p, PERK_OP_SET_ALL, 0);
    pb_emit(&p, PERK_OP_APPLY, pb_action(&p, r2, PROG_ACT_PERCENT_OFF, 100000, 0, 0));
    pb_promotion_end(&p, r2);
    perk_context *ctx = vt_build(&p);
    vt_order(ctx, 0);
    vt_line(ctx, "a", NULL, 10000, 1);
    const perk_result *r = vt_eval(ctx);
    assert_int_equal(r->promotions[0].discount, 1000);
    assert_int_equal(r->promotions[1].discount, expect_second);
    if (!original) {
        /* the threshold sees 9000 (after the first promotion): 9000 < 10000 */
        assert_int_equal(r->promotions[1].reason, PERK_REASON_CONDITION);
        assert_true(r->promotions[1].has_comparison);
        assert_int_equal(r->promotions[1].observed, 9000);
        assert_int_equal(r->promotions[1].expected, 10000);
        assert_int_equal(r->promotions[1].comparison, PERK_CMP_GE);
        assert_int_equal(r->promotions[1].failed_condition, 0);
    }
    perk_context_free(ctx);
}

static void test_stacking_sees_reduced_amounts(void **state) {
    (void)state;
    /* measured on original prices: 10000 >= 10000 passes, and 10% applies to the current 9000 = 900 */
    stacking_case(true, 900);
    stacking_case(false, 0);
}

static void test_percent_after_amount(void **state) {
    (void)state;
    prog_data p = new_prog();
    vt_simple_rule(&p, "amount", PERK_OP_SET_ALL, NULL, PROG_ACT_AMOUNT_OFF, 1000, 0, 0);
    vt_simple_rule(&p, "pct", PERK_OP_SET_ALL, NULL, PROG_ACT_PERCENT_OFF, 100000, 0, 0);
    perk_context *ctx = vt_build(&p);
    vt_order(ctx, 0);
    vt_line(ctx, "a", NULL, 6000, 1);
    vt_line(ctx, "b", NULL, 4000, 1);
    const perk_result *r = vt_eval(ctx);
    /* amount: 1000 over 6000/4000 = 600/400 -> 5400/3600; 10% of 9000 = 900 -> 540/360 */
    assert_int_equal(vt_alloc(r, 0, 0), 600);
    assert_int_equal(vt_alloc(r, 1, 0), 400);
    assert_int_equal(vt_alloc(r, 0, 1), 540);
    assert_int_equal(vt_alloc(r, 1, 1), 360);
    assert_int_equal(r->lines[0].final, 4860);
    assert_int_equal(r->lines[1].final, 3240);
    assert_int_equal(r->discount, 1900);
    /* allocations grouped by line, promotion order inside a line */
    assert_int_equal(r->n_allocations, 4);
    assert_int_equal(r->allocations[0].line, 0);
    assert_int_equal(r->allocations[0].promotion, 0);
    assert_int_equal(r->allocations[1].line, 0);
    assert_int_equal(r->allocations[1].promotion, 1);
    assert_int_equal(r->allocations[2].line, 1);
    assert_int_equal(r->allocations[3].promotion, 1);
    perk_context_free(ctx);
}

/* ------------------------------------------------------------------ buy-get, n-for */

static perk_context *buy_get_ctx(int64_t p0, int64_t p1, int64_t p2, bool same) {
    prog_data p = new_prog();
    uint32_t r = pb_promotion_begin(&p, "bg", NULL, 0);
    pb_emit(&p, PERK_OP_SET_CATEGORY, pb_str(&p, same ? "tea" : "coffee"));
    pb_emit(&p, PERK_OP_SET_CATEGORY, pb_str(&p, same ? "tea" : "cup"));
    pb_emit(&p, PERK_OP_APPLY2, pb_action(&p, r, PROG_ACT_BUY_GET, p0, p1, p2));
    pb_promotion_end(&p, r);
    perk_context *ctx = vt_build(&p);
    vt_order(ctx, 0);
    return ctx;
}

static void test_buy_get_same_set_mixed_prices(void **state) {
    (void)state;
    perk_context *ctx = buy_get_ctx(2, 1, 1000000, true);
    vt_line(ctx, "a", "tea", 3000, 2);
    vt_line(ctx, "b", "tea", 1000, 1);
    vt_line(ctx, "c", "tea", 2000, 3);
    const perk_result *r = vt_eval(ctx);
    /* 6 units, groups of 3: k = 2, the 2 cheapest units are free: 1000 (b) and one 2000 (c) */
    assert_int_equal(vt_alloc(r, 0, 0), 0);
    assert_int_equal(vt_alloc(r, 1, 0), 1000);
    assert_int_equal(vt_alloc(r, 2, 0), 2000);
    assert_int_equal(r->discount, 3000);
    perk_context_free(ctx);
}

static void test_buy_get_tie_goes_to_later_line(void **state) {
    (void)state;
    perk_context *ctx = buy_get_ctx(2, 1, 1000000, true);
    vt_line(ctx, "a", "tea", 500, 1);
    vt_line(ctx, "b", "tea", 500, 1);
    vt_line(ctx, "c", "tea", 900, 1);
    const perk_result *r = vt_eval(ctx);
    /* one group; the cheapest unit is 500, a and b tie: the later line (b) is rewarded */
    assert_int_equal(vt_alloc(r, 0, 0), 0);
    assert_int_equal(vt_alloc(r, 1, 0), 500);
    perk_context_free(ctx);
}

static void test_buy_get_large_quantities(void **state) {
    (void)state;
    perk_context *ctx = buy_get_ctx(2, 1, 1000000, true);
    vt_line(ctx, "a", "tea", 100, 1000000);
    vt_line(ctx, "b", "tea", 50, 999999);
    const perk_result *r = vt_eval(ctx);
    /* 1999999 units: k = 666666 groups, the 666666 cheapest units are all on b (50 each):
       666666 * 50 = 33333300 */
    assert_int_equal(vt_alloc(r, 0, 0), 0);
    assert_int_equal(vt_alloc(r, 1, 0), 33333300);
    assert_int_equal(r->lines[1].final, 49999950 - 33333300); /* 999999*50 = 49999950 */
    perk_context_free(ctx);
}

static void test_buy_get_separate_sets(void **state) {
    (void)state;
    perk_context *ctx = buy_get_ctx(1, 1, 1000000, false);
    vt_line(ctx, "k", "coffee", 5000, 2);
    vt_line(ctx, "c", "cup", 300, 1);
    vt_line(ctx, "d", "cup", 200, 3);
    const perk_result *r = vt_eval(ctx);
    /* 2 coffee units bought: 2 reward units, the cheapest cups: two of d at 200 = 400 */
    assert_int_equal(vt_alloc(r, 0, 0), 0);
    assert_int_equal(vt_alloc(r, 1, 0), 0);
    assert_int_equal(vt_alloc(r, 2, 0), 400);
    perk_context_free(ctx);
}

static void test_buy_get_unit_runs_after_a_discount(void **state) {
    (void)state;
    prog_data p = new_prog();
    vt_simple_rule(&p, "first", PERK_OP_SET_SKU, "x", PROG_ACT_AMOUNT_OFF, 999, 0, 0);
    uint32_t r = pb_promotion_begin(&p, "half", NULL, 1);
    pb_emit(&p, PERK_OP_SET_SKU, pb_str(&p, "x"));
    pb_emit(&p, PERK_OP_SET_SKU, pb_str(&p, "x"));
    pb_emit(&p, PERK_OP_APPLY2, pb_action(&p, r, PROG_ACT_BUY_GET, 1, 1, 500000));
    pb_promotion_end(&p, r);
    perk_context *ctx = vt_build(&p);
    vt_order(ctx, 0);
    vt_line(ctx, "x", NULL, 1000, 2);
    const perk_result *res = vt_eval(ctx);
    /* after 999 off, the line is 1001 for 2 units: unit prices 501 and 500. Buy 1 get 1 at 50%:
       one group of 2, the cheaper unit (500) is half off: 250. final 1001 - 250 = 751 */
    assert_int_equal(vt_alloc(res, 0, 1), 250);
    assert_int_equal(res->lines[0].final, 751);
    perk_context_free(ctx);
}

static void test_n_for_group_spans_lines(void **state) {
    (void)state;
    prog_data p = new_prog();
    vt_simple_rule(&p, "three_for_ten", PERK_OP_SET_ALL, NULL, PROG_ACT_N_FOR, 3, 1000, 0);
    perk_context *ctx = vt_build(&p);
    vt_order(ctx, 0);
    vt_line(ctx, "a", NULL, 500, 2);
    vt_line(ctx, "b", NULL, 400, 2);
    vt_line(ctx, "c", NULL, 300, 1);
    const perk_result *r = vt_eval(ctx);
    /* units 500 500 400 400 300: one group [500 500 400] = 1400, discount 400 over a 1000 / b 400:
       285.71 -> 285 (.71), 114.28 -> 114 (.28), the last cent to a: 286 / 114. 400 and 300 pay full. */
    assert_int_equal(vt_alloc(r, 0, 0), 286);
    assert_int_equal(vt_alloc(r, 1, 0), 114);
    assert_int_equal(vt_alloc(r, 2, 0), 0);
    assert_int_equal(r->discount, 400);
    perk_context_free(ctx);
}

static void test_n_for_whole_groups_in_one_line(void **state) {
    (void)state;
    prog_data p = new_prog();
    vt_simple_rule(&p, "three_for_ten", PERK_OP_SET_ALL, NULL, PROG_ACT_N_FOR, 3, 1000, 0);
    perk_context *ctx = vt_build(&p);
    vt_order(ctx, 0);
    vt_line(ctx, "a", NULL, 500, 7);
    vt_line(ctx, "b", NULL, 200, 3);
    const perk_result *r = vt_eval(ctx);
    /* 10 units: 500 x7 then 200 x3, k = 3 groups: [500x3] -> 500 off, [500x3] -> 500 off,
       [500, 200, 200] = 900 < 1000 -> nothing. a: 1000, b: 0. */
    assert_int_equal(vt_alloc(r, 0, 0), 1000);
    assert_int_equal(vt_alloc(r, 1, 0), 0);
    perk_context_free(ctx);
}

static void test_n_for_large_quantity(void **state) {
    (void)state;
    prog_data p = new_prog();
    vt_simple_rule(&p, "two_for", PERK_OP_SET_ALL, NULL, PROG_ACT_N_FOR, 2, 150, 0);
    perk_context *ctx = vt_build(&p);
    vt_order(ctx, 0);
    vt_line(ctx, "a", NULL, 100, 999999);
    vt_line(ctx, "b", NULL, 90, 1);
    const perk_result *r = vt_eval(ctx);
    /* 1000000 units: 499999 groups of two 100s -> 50 off each = 24999950 on a; the last group
       [100 (a), 90 (b)] = 190 -> 40 off over a 100 / b 90: 21.05 -> 21 (.05), 18.94 -> 18 (.94),
       one cent to b: 21 / 19. a: 24999950 + 21 = 24999971 */
    assert_int_equal(vt_alloc(r, 0, 0), 24999971);
    assert_int_equal(vt_alloc(r, 1, 0), 19);
    perk_context_free(ctx);
}

static void test_most_expensive_works_on_runs(void **state) {
    (void)state;
    prog_data p = new_prog();
    vt_simple_rule(&p, "top_three", PERK_OP_SET_ALL, NULL, PROG_ACT_MOST_EXPENSIVE, 500000, 3, 0);
    perk_context *ctx = vt_build(&p);
    vt_order(ctx, 0);
    vt_line(ctx, "a", NULL, 100, 999999);
    vt_line(ctx, "b", NULL, 150, 1);
    const perk_result *r = vt_eval(ctx);
    /* units 150 (b), then 100, 100 (a): 350 chosen, 50% = 175, allocated a 200 : b 150 -> 100 / 75 */
    assert_int_equal(vt_alloc(r, 0, 0), 100);
    assert_int_equal(vt_alloc(r, 1, 0), 75);
    perk_context_free(ctx);
}

static void test_most_expensive_more_than_there_are(void **state) {
    (void)state;
    prog_data p = new_prog();
    vt_simple_rule(&p, "top_all", PERK_OP_SET_ALL, NULL, PROG_ACT_MOST_EXPENSIVE, 100000, INT64_MAX, 0);
    perk_context *ctx = vt_build(&p);
    vt_order(ctx, 0);
    vt_line(ctx, "a", NULL, 333, 3);
    vt_line(ctx, "b", NULL, 1, 1);
    const perk_result *r = vt_eval(ctx);
    /* every unit: 999 + 1 = 1000, 10% = 100, allocated 999 : 1 -> 99.9 / 0.1 -> 100 / 0 */
    assert_int_equal(vt_alloc(r, 0, 0), 100);
    assert_int_equal(vt_alloc(r, 1, 0), 0);
    perk_context_free(ctx);
}

/* ------------------------------------------------------------------ gifts, shipping, effects */

static void test_gift_counts_toward_nothing(void **state) {
    (void)state;
    prog_data p = new_prog();
    uint32_t r0 = pb_promotion_begin(&p, "gift", NULL, 0);
    pb_emit(&p, PERK_OP_SET_ALL, 0);
    uint32_t a = pb_action(&p, r0, PROG_ACT_GIFT, 2, 0, 0);
    p.actions[a].str1 = pb_str(&p, "sample");
    p.actions[a].str2 = pb_str(&p, "Tea sample");
    pb_emit(&p, PERK_OP_APPLY, a);
    pb_promotion_end(&p, r0);
    /* needs at least 2 units in the cart: the gift's 2 units must not count */
    uint32_t r1 = pb_promotion_begin(&p, "two_items", NULL, 1);
    uint32_t c = pb_cond(&p, "count(items) >= 2", NULL);
    pb_emit(&p, PERK_OP_SET_ALL, 0);
    pb_emit(&p, PERK_OP_AGG_COUNT, 0);
    pb_emit(&p, PERK_OP_PUSH_IMM, 2);
    pb_emit(&p, PERK_OP_GE, 0);
    pb_emit(&p, PERK_OP_REQUIRE, c);
    pb_emit(&p, PERK_OP_SET_ALL, 0);
    pb_emit(&p, PERK_OP_APPLY, pb_action(&p, r1, PROG_ACT_AMOUNT_OFF, 100, 0, 0));
    pb_promotion_end(&p, r1);
    uint32_t e = pb_earn_begin(&p, "base", NULL, 1, 100);
    pb_emit(&p, PERK_OP_SET_ALL, 0);
    pb_emit(&p, PERK_OP_EARN, e);
    pb_earn_end(&p, e);
    perk_context *ctx = vt_build(&p);
    vt_order(ctx, 0);
    vt_line(ctx, "a", NULL, 1000, 1);
    const perk_result *r = vt_eval(ctx);
    assert_int_equal(r->promotions[0].reason, PERK_REASON_APPLIED);
    assert_int_equal(r->n_gifts, 1);
    assert_string_equal(r->gifts[0].sku, "sample");
    assert_string_equal(r->gifts[0].name, "Tea sample");
    assert_int_equal(r->gifts[0].quantity, 2);
    assert_int_equal(r->n_lines, 2);
    assert_true(r->lines[1].is_gift);
    assert_int_equal(r->lines[1].gift_promotion, 0);
    assert_int_equal(r->lines[1].original, 0);
    /* 1 unit in the cart: the threshold of 2 is not met */
    assert_int_equal(r->promotions[1].reason, PERK_REASON_CONDITION);
    assert_int_equal(r->promotions[1].observed, 1);
    /* points on 1000 only: 1 point per 100 -> 10 */
    assert_int_equal(r->points_earned, 10);
    assert_int_equal(r->payable, 1000);
    perk_context_free(ctx);
}

static void test_shipping_actions(void **state) {
    (void)state;
    prog_data p = new_prog();
    vt_simple_rule(&p, "pct", PERK_OP_SET_ALL, NULL, PROG_ACT_SHIPPING_OFF, 0, 300000, 0);
    vt_simple_rule(&p, "money", PERK_OP_SET_ALL, NULL, PROG_ACT_SHIPPING_OFF, 1500, -1, 0);
    vt_simple_rule(&p, "free", PERK_OP_SET_ALL, NULL, PROG_ACT_FREE_SHIPPING, 0, 0, 0);
    perk_context *ctx = vt_build(&p);
    vt_order(ctx, 1000);
    vt_line(ctx, "a", NULL, 5000, 1);
    const perk_result *r = vt_eval(ctx);
    /* 30% of 1000 = 300 -> 700; then min(1500, 700) = 700 -> 0 (never negative); free: nothing left */
    assert_int_equal(r->promotions[0].shipping_discount, 300);
    assert_int_equal(r->promotions[1].shipping_discount, 700);
    assert_int_equal(r->promotions[2].reason, PERK_REASON_NOTHING);
    assert_int_equal(r->shipping_before, 1000);
    assert_int_equal(r->shipping_after, 0);
    assert_int_equal(r->payable, 5000);
    perk_context_free(ctx);
}

static void test_effect_recorded(void **state) {
    (void)state;
    prog_data p = new_prog();
    uint32_t r0 = pb_promotion_begin(&p, "fx", NULL, 0);
    pb_emit(&p, PERK_OP_SET_ALL, 0);
    uint32_t a = pb_action(&p, r0, PROG_ACT_EFFECT, 0, 0, 0);
    p.actions[a].str1 = pb_str(&p, "banner");
    p.actions[a].str2 = pb_str(&p, "{\"text\":\"hi\"}");
    pb_emit(&p, PERK_OP_APPLY, a);
    pb_promotion_end(&p, r0);
    perk_context *ctx = vt_build(&p);
    vt_order(ctx, 0);
    vt_line(ctx, "a", NULL, 100, 1);
    const perk_result *r = vt_eval(ctx);
    assert_int_equal(r->promotions[0].reason, PERK_REASON_APPLIED);
    assert_int_equal(r->n_effects, 1);
    assert_string_equal(r->effects[0].kind, "banner");
    assert_string_equal(r->effects[0].payload, "{\"text\":\"hi\"}");
    assert_int_equal(r->discount, 0);
    perk_context_free(ctx);
}

/* ------------------------------------------------------------------ caps and money budgets */

static void test_cap_reduces_shipping_then_reallocates(void **state) {
    (void)state;
    prog_data p = new_prog();
    uint32_t r0 = pb_promotion_begin(&p, "capped", NULL, 0);
    p.rules[r0].cap = 500;
    pb_emit(&p, PERK_OP_SET_ALL, 0);
    pb_emit(&p, PERK_OP_APPLY, pb_action(&p, r0, PROG_ACT_PERCENT_OFF, 200000, 0, 0));
    pb_emit(&p, PERK_OP_SET_ALL, 0);
    pb_emit(&p, PERK_OP_APPLY, pb_action(&p, r0, PROG_ACT_FREE_SHIPPING, 0, 0, 0));
    pb_promotion_end(&p, r0);
    perk_context *ctx = vt_build(&p);
    vt_order(ctx, 300);
    vt_line(ctx, "a", NULL, 2000, 1);
    vt_line(ctx, "b", NULL, 1000, 1);
    const perk_result *r = vt_eval(ctx);
    /* 20% of 3000 = 600 (400 / 200) + shipping 300 = 900 > cap 500: shipping gives up 300 first
       (-> 0), goods 600 -> 500 re-allocated over 400/200: 333.33 -> 333, 166.67 -> 166, last
       cent to the larger remainder (b): 333 / 167 */
    assert_int_equal(r->promotions[0].shipping_discount, 0);
    assert_int_equal(r->promotions[0].discount, 500);
    assert_int_equal(vt_alloc(r, 0, 0), 333);
    assert_int_equal(vt_alloc(r, 1, 0), 167);
    assert_int_equal(r->shipping_after, 300);
    assert_int_equal(r->payable, 2800); /* 3000 - 500 + 300 */
    perk_context_free(ctx);
}

static void test_cap_partial_shipping(void **state) {
    (void)state;
    prog_data p = new_prog();
    uint32_t r0 = pb_promotion_begin(&p, "capped", NULL, 0);
    p.rules[r0].cap = 800;
    pb_emit(&p, PERK_OP_SET_ALL, 0);
    pb_emit(&p, PERK_OP_APPLY, pb_action(&p, r0, PROG_ACT_PERCENT_OFF, 200000, 0, 0));
    pb_emit(&p, PERK_OP_SET_ALL, 0);
    pb_emit(&p, PERK_OP_APPLY, pb_action(&p, r0, PROG_ACT_FREE_SHIPPING, 0, 0, 0));
    pb_promotion_end(&p, r0);
    perk_context *ctx = vt_build(&p);
    vt_order(ctx, 300);
    vt_line(ctx, "a", NULL, 3000, 1);
    const perk_result *r = vt_eval(ctx);
    /* 600 goods + 300 shipping = 900 > 800: shipping discount 300 -> 200, goods stay 600 */
    assert_int_equal(r->promotions[0].shipping_discount, 200);
    assert_int_equal(r->promotions[0].discount, 600);
    assert_int_equal(r->shipping_after, 100);
    assert_int_equal(r->payable, 2500); /* 3000 - 600 + 100 */
    perk_context_free(ctx);
}

static void test_money_budget_caps_to_remaining(void **state) {
    (void)state;
    for (int used_up = 0; used_up < 2; used_up++) {
        prog_data p = new_prog();
        uint32_t r0 = pb_promotion_begin(&p, "budget", NULL, 0);
        p.rules[r0].limit_money = 10000;
        pb_emit(&p, PERK_OP_SET_ALL, 0);
        pb_emit(&p, PERK_OP_APPLY, pb_action(&p, r0, PROG_ACT_PERCENT_OFF, 100000, 0, 0));
        pb_promotion_end(&p, r0);
        perk_context *ctx = vt_build(&p);
        vt_order(ctx, 0);
        vt_line(ctx, "a", NULL, 5000, 1);
        perk_usage u = {.uses = 3, .money = used_up ? 10000 : 9800, .customer_uses = 0};
        assert_int_equal(perk_cart_set_usage(ctx, 0, &u), PERK_OK);
        const perk_result *r = vt_eval(ctx);
        if (used_up) {
            assert_int_equal(r->promotions[0].reason, PERK_REASON_BUDGET_MONEY);
            assert_int_equal(r->discount, 0);
        } else {
            /* 10% of 5000 = 500, but only 10000 - 9800 = 200 of budget remains */
            assert_int_equal(r->promotions[0].reason, PERK_REASON_APPLIED);
            assert_int_equal(r->discount, 200);
        }
        perk_context_free(ctx);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_percent_off_allocates_by_largest_remainder),
        cmocka_unit_test(test_amount_off_remainder_ties_to_earlier_line),
        cmocka_unit_test(test_amount_off_never_exceeds_target),
        cmocka_unit_test(test_amount_off_each_and_fixed_price),
        cmocka_unit_test(test_qty_price_steps),
        cmocka_unit_test(test_tiers),
        cmocka_unit_test(test_every),
        cmocka_unit_test(test_rounding_at_the_half_cent),
        cmocka_unit_test(test_jpy_exponent_zero),
        cmocka_unit_test(test_stacking_sees_reduced_amounts),
        cmocka_unit_test(test_percent_after_amount),
        cmocka_unit_test(test_buy_get_same_set_mixed_prices),
        cmocka_unit_test(test_buy_get_tie_goes_to_later_line),
        cmocka_unit_test(test_buy_get_large_quantities),
        cmocka_unit_test(test_buy_get_separate_sets),
        cmocka_unit_test(test_buy_get_unit_runs_after_a_discount),
        cmocka_unit_test(test_n_for_group_spans_lines),
        cmocka_unit_test(test_n_for_whole_groups_in_one_line),
        cmocka_unit_test(test_n_for_large_quantity),
        cmocka_unit_test(test_most_expensive_works_on_runs),
        cmocka_unit_test(test_most_expensive_more_than_there_are),
        cmocka_unit_test(test_gift_counts_toward_nothing),
        cmocka_unit_test(test_shipping_actions),
        cmocka_unit_test(test_effect_recorded),
        cmocka_unit_test(test_cap_reduces_shipping_then_reallocates),
        cmocka_unit_test(test_cap_partial_shipping),
        cmocka_unit_test(test_money_budget_caps_to_remaining),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
