/* test_vm_rules.c - which promotions run and why not: coupons, budgets, exclusions, conditions
 * and near-miss hints; facts (time zones, birthdays, tiers, strings); aggregates; evaluation
 * errors (overflow, instruction budget); cart validation. Exclusive groups, `stop` and the kinds
 * of item set are rule tests now: tests/semantics/gates.test and sets.test. */
#include "vm_testutil.h"

static prog_data new_prog(void)
{
    prog_data p;
    pb_init(&p, "t", "CNY", 2);
    return p;
}

/* A promotion: optional subtotal threshold, then `percent` off every line. */
static uint32_t pct_rule(prog_data *p, const char *id, int64_t ppm, int64_t threshold)
{
    uint32_t r = pb_promotion_begin(p, id, NULL, (int32_t)p->n_rules);
    if (threshold > 0) vt_require_subtotal(p, threshold, false, NULL);
    pb_emit(p, PERK_OP_SET_ALL, 0);
    pb_emit(p, PERK_OP_APPLY, pb_action(p, r, PROG_ACT_PERCENT_OFF, ppm, 0, 0));
    pb_promotion_end(p, r);
    return r;
}

/* ------------------------------------------------------------------ coupons and budgets */

static perk_context *coupon_ctx(uint8_t policy)
{
    prog_data p = new_prog();
    p.coupon_policy = policy;
    uint32_t a = pct_rule(&p, "code", 100000, 0);
    p.rules[a].coupon = pb_str(&p, "SAVE10");
    uint32_t b = pct_rule(&p, "campaign", 50000, 0);
    p.rules[b].coupon_campaign = pb_str(&p, "SPRING");
    uint32_t c = pct_rule(&p, "big", 50000, 100000);
    p.rules[c].coupon = pb_str(&p, "BIG");
    perk_context *ctx = vt_build(&p);
    vt_order(ctx, 0);
    vt_line(ctx, "x", NULL, 10000, 1);
    return ctx;
}

static void test_coupons_missing_rejected_accepted(void **state)
{
    (void)state;
    perk_context *ctx = coupon_ctx(PROG_COUPONS_STACKABLE);
    const perk_result *r = vt_eval(ctx);
    assert_int_equal(r->promotions[0].reason, PERK_REASON_COUPON_MISSING);
    assert_int_equal(r->promotions[1].reason, PERK_REASON_COUPON_MISSING);
    assert_int_equal(r->n_coupons, 0);

    perk_cart_reset(ctx);
    vt_order(ctx, 0);
    vt_line(ctx, "x", NULL, 10000, 1);
    assert_int_equal(perk_cart_add_coupon(ctx, "SAVE10", NULL, PERK_COUPON_EXPIRED), PERK_OK);
    assert_int_equal(perk_cart_add_coupon(ctx, "SP-123", "SPRING", PERK_COUPON_VALID), PERK_OK);
    assert_int_equal(perk_cart_add_coupon(ctx, "NOPE", NULL, PERK_COUPON_UNCHECKED), PERK_OK);
    assert_int_equal(perk_cart_add_coupon(ctx, "BIG", NULL, PERK_COUPON_UNCHECKED), PERK_OK);
    r = vt_eval(ctx);
    assert_int_equal(r->promotions[0].reason, PERK_REASON_COUPON_REJECTED);
    /* campaign: 5% of 10000 = 500 */
    assert_int_equal(r->promotions[1].reason, PERK_REASON_APPLIED);
    assert_int_equal(r->promotions[1].discount, 500);
    assert_int_equal(r->promotions[2].reason, PERK_REASON_CONDITION);
    assert_int_equal(r->n_coupons, 4);
    assert_string_equal(r->coupons[0].code, "SAVE10");
    assert_int_equal(r->coupons[0].verdict, PERK_COUPON_REJECTED_EXPIRED);
    assert_int_equal(r->coupons[1].verdict, PERK_COUPON_ACCEPTED);
    assert_int_equal(r->coupons[1].promotion, 1);
    assert_int_equal(r->coupons[2].verdict, PERK_COUPON_REJECTED_UNKNOWN);
    assert_int_equal(r->coupons[2].promotion, UINT32_MAX);
    assert_int_equal(r->coupons[3].verdict, PERK_COUPON_REJECTED_CONDITIONS);
    assert_int_equal(r->coupons[3].promotion, 2);

    perk_cart_reset(ctx);
    vt_order(ctx, 0);
    vt_line(ctx, "x", NULL, 10000, 1);
    assert_int_equal(perk_cart_add_coupon(ctx, "SAVE10", NULL, PERK_COUPON_UNCHECKED), PERK_OK);
    r = vt_eval(ctx);
    /* after the previous cart, the SPRING campaign is gone: only SAVE10, 10% of 10000 */
    assert_int_equal(r->promotions[0].reason, PERK_REASON_APPLIED);
    assert_int_equal(r->promotions[1].reason, PERK_REASON_COUPON_MISSING);
    assert_int_equal(r->discount, 1000);
    assert_int_equal(r->coupons[0].verdict, PERK_COUPON_ACCEPTED);
    assert_int_equal(r->coupons[0].promotion, 0);

    /* the verdicts appended later (revoked, not yet valid) reject like the others */
    perk_cart_reset(ctx);
    vt_order(ctx, 0);
    vt_line(ctx, "x", NULL, 10000, 1);
    assert_int_equal(perk_cart_add_coupon(ctx, "SAVE10", NULL, PERK_COUPON_REVOKED), PERK_OK);
    assert_int_equal(perk_cart_add_coupon(ctx, "SP-9", "SPRING", PERK_COUPON_NOT_YET_VALID), PERK_OK);
    r = vt_eval(ctx);
    assert_int_equal(r->promotions[0].reason, PERK_REASON_COUPON_REJECTED);
    assert_int_equal(r->promotions[1].reason, PERK_REASON_COUPON_REJECTED);
    assert_int_equal(r->discount, 0);
    assert_int_equal(r->coupons[0].verdict, PERK_COUPON_REJECTED_REVOKED);
    assert_int_equal(r->coupons[1].verdict, PERK_COUPON_REJECTED_NOT_YET_VALID);
    perk_cart_reset(ctx);
    assert_int_equal(perk_cart_add_coupon(ctx, "X", NULL, (perk_coupon_status)(PERK_COUPON_NOT_YET_VALID + 1)),
                     PERK_INVALID);
    perk_context_free(ctx);
}

static void test_one_coupon_per_order(void **state)
{
    (void)state;
    perk_context *ctx = coupon_ctx(PROG_COUPONS_ONE_PER_ORDER);
    assert_int_equal(perk_cart_add_coupon(ctx, "SAVE10", NULL, PERK_COUPON_VALID), PERK_OK);
    assert_int_equal(perk_cart_add_coupon(ctx, "SP-1", "SPRING", PERK_COUPON_VALID), PERK_OK);
    const perk_result *r = vt_eval(ctx);
    assert_int_equal(r->promotions[0].reason, PERK_REASON_APPLIED);
    assert_int_equal(r->promotions[1].reason, PERK_REASON_ONE_COUPON);
    assert_int_equal(r->coupons[0].verdict, PERK_COUPON_ACCEPTED);
    assert_int_equal(r->coupons[1].verdict, PERK_COUPON_REJECTED_ONE_PER_ORDER);
    assert_int_equal(r->coupons[1].promotion, 1);
    assert_int_equal(r->discount, 1000);
    perk_context_free(ctx);
}

static void test_budgets_and_exclusion(void **state)
{
    (void)state;
    prog_data p = new_prog();
    uint32_t a = pct_rule(&p, "uses", 100000, 0);
    uint32_t b = pct_rule(&p, "customer", 100000, 0);
    uint32_t c = pct_rule(&p, "fine", 100000, 0);
    pct_rule(&p, "excluded", 100000, 0);
    p.rules[a].limit_uses = 100;
    p.rules[b].limit_per_customer = 1;
    p.rules[c].limit_uses = 100;
    p.rules[c].limit_per_customer = 2;
    perk_context *ctx = vt_build(&p);
    vt_order(ctx, 0);
    vt_line(ctx, "x", NULL, 10000, 1);
    perk_usage ua = { .uses = 100 }, ub = { .uses = 5, .customer_uses = 1 },
               uc = { .uses = 99, .customer_uses = 1 };
    assert_int_equal(perk_cart_set_usage(ctx, 0, &ua), PERK_OK);
    assert_int_equal(perk_cart_set_usage(ctx, 1, &ub), PERK_OK);
    assert_int_equal(perk_cart_set_usage(ctx, 2, &uc), PERK_OK);
    assert_int_equal(perk_cart_exclude(ctx, 3), PERK_OK);
    const perk_result *r = vt_eval(ctx);
    assert_int_equal(r->promotions[0].reason, PERK_REASON_BUDGET_USES);
    assert_int_equal(r->promotions[1].reason, PERK_REASON_BUDGET_CUSTOMER);
    assert_int_equal(r->promotions[2].reason, PERK_REASON_APPLIED);
    assert_int_equal(r->promotions[3].reason, PERK_REASON_EXCLUDED);
    assert_int_equal(r->discount, 1000); /* only c: 10% of 10000 */
    assert_int_equal(perk_cart_exclude(ctx, 4), PERK_INVALID);
    perk_context_free(ctx);
}

/* ------------------------------------------------------------------ conditions and hints */

/* A promotion with soft conditions: `sum(tea) <cmp> 30000` (hint "tea"), optionally
 * `customer.first_order`, then CHECK and ¥10 off. */
static perk_context *hint_ctx(perk_opcode cmp, bool second_soft, bool second_hard)
{
    prog_data p = new_prog();
    uint32_t r = pb_promotion_begin(&p, "tea300", NULL, 0);
    if (second_hard) {
        uint32_t c0 = pb_cond(&p, "customer.first_order", NULL);
        pb_emit(&p, PERK_OP_LOAD_FACT, PERK_FACT_CUSTOMER_FIRST_ORDER);
        pb_emit(&p, PERK_OP_REQUIRE, c0);
    }
    uint32_t c1 = pb_cond(&p, "sum(tea) >= ¥300", "tea");
    pb_emit(&p, PERK_OP_SET_CATEGORY, pb_str(&p, "tea"));
    pb_emit(&p, PERK_OP_AGG_SUM, PERK_FIELD_AMOUNT);
    pb_emit(&p, PERK_OP_PUSH_INT, pb_int(&p, 30000));
    pb_emit(&p, cmp, 0);
    pb_emit(&p, PERK_OP_REQUIRE_SOFT, c1);
    if (second_soft) {
        uint32_t c2 = pb_cond(&p, "customer.first_order", NULL);
        pb_emit(&p, PERK_OP_LOAD_FACT, PERK_FACT_CUSTOMER_FIRST_ORDER);
        pb_emit(&p, PERK_OP_REQUIRE_SOFT, c2);
    }
    pb_emit(&p, PERK_OP_CHECK, 0);
    pb_emit(&p, PERK_OP_SET_ALL, 0);
    pb_emit(&p, PERK_OP_APPLY, pb_action(&p, r, PROG_ACT_AMOUNT_OFF, 1000, 0, 0));
    pb_promotion_end(&p, r);
    perk_context *ctx = vt_build(&p);
    vt_order(ctx, 0);
    vt_line(ctx, "longjing", "tea/green", 26800, 1);
    vt_line(ctx, "cup", "ware", 5000, 1);
    return ctx;
}

static void test_hint_on_soft_threshold(void **state)
{
    (void)state;
    perk_context *ctx = hint_ctx(PERK_OP_GE, false, false);
    const perk_result *r = vt_eval(ctx);
    /* tea 26800 < 30000: add 3200 of tea */
    assert_int_equal(r->promotions[0].reason, PERK_REASON_CONDITION);
    assert_int_equal(r->promotions[0].observed, 26800);
    assert_int_equal(r->promotions[0].expected, 30000);
    assert_int_equal(r->n_hints, 1);
    assert_int_equal(r->hints[0].promotion, 0);
    assert_int_equal(r->hints[0].shortfall, 3200);
    assert_string_equal(r->hints[0].set_name, "tea");
    perk_context_free(ctx);

    ctx = hint_ctx(PERK_OP_GT, false, false);
    r = vt_eval(ctx);
    /* strictly more than 30000: 30001 - 26800 = 3201 */
    assert_int_equal(r->hints[0].shortfall, 3201);
    perk_context_free(ctx);
}

static void test_no_hint_when_another_condition_fails(void **state)
{
    (void)state;
    /* a second soft condition also fails (first_order is false): no hint, first failure reported */
    perk_context *ctx = hint_ctx(PERK_OP_GE, true, false);
    const perk_result *r = vt_eval(ctx);
    assert_int_equal(r->promotions[0].reason, PERK_REASON_CONDITION);
    assert_int_equal(r->promotions[0].failed_condition, 0);
    assert_int_equal(r->n_hints, 0);
    perk_context_free(ctx);
    /* a hard condition before it fails: the threshold is never reached */
    ctx = hint_ctx(PERK_OP_GE, false, true);
    r = vt_eval(ctx);
    assert_int_equal(r->promotions[0].reason, PERK_REASON_CONDITION);
    assert_false(r->promotions[0].has_comparison);
    assert_int_equal(r->n_hints, 0);
    perk_context_free(ctx);
    /* with a first order, the only failure is the soft threshold again */
    ctx = hint_ctx(PERK_OP_GE, true, false);
    perk_customer c = { .first_order = true, .has_first_order = true };
    assert_int_equal(perk_cart_set_customer(ctx, &c), PERK_OK);
    r = vt_eval(ctx);
    assert_int_equal(r->n_hints, 1);
    assert_int_equal(r->hints[0].shortfall, 3200);
    perk_context_free(ctx);
}

static void test_not_flips_the_recorded_comparison(void **state)
{
    (void)state;
    prog_data p = new_prog();
    uint32_t r = pb_promotion_begin(&p, "small", NULL, 0);
    uint32_t c = pb_cond(&p, "not (subtotal >= ¥100)", NULL);
    pb_emit(&p, PERK_OP_LOAD_FACT, PERK_FACT_ORDER_SUBTOTAL);
    pb_emit(&p, PERK_OP_PUSH_INT, pb_int(&p, 10000));
    pb_emit(&p, PERK_OP_GE, 0);
    pb_emit(&p, PERK_OP_NOT, 0);
    pb_emit(&p, PERK_OP_REQUIRE, c);
    pb_emit(&p, PERK_OP_SET_ALL, 0);
    pb_emit(&p, PERK_OP_APPLY, pb_action(&p, r, PROG_ACT_AMOUNT_OFF, 100, 0, 0));
    pb_promotion_end(&p, r);
    perk_context *ctx = vt_build(&p);
    vt_order(ctx, 0);
    vt_line(ctx, "x", NULL, 20000, 1);
    const perk_result *res = vt_eval(ctx);
    /* 20000 >= 10000 is true, so `not` fails: explained as 20000 < 10000 expected */
    assert_int_equal(res->promotions[0].reason, PERK_REASON_CONDITION);
    assert_int_equal(res->promotions[0].comparison, PERK_CMP_LT);
    assert_int_equal(res->promotions[0].observed, 20000);
    perk_context_free(ctx);
}

/* ------------------------------------------------------------------ facts */

/* A promotion that applies ¥1 off when fact `fact` equals `value`. */
static void fact_rule(prog_data *p, const char *id, perk_fact fact, int64_t value)
{
    uint32_t r = pb_promotion_begin(p, id, NULL, (int32_t)p->n_rules);
    uint32_t c = pb_cond(p, id, NULL);
    pb_emit(p, PERK_OP_LOAD_FACT, fact);
    pb_emit(p, PERK_OP_PUSH_INT, pb_int(p, value));
    pb_emit(p, PERK_OP_EQ, 0);
    pb_emit(p, PERK_OP_REQUIRE, c);
    pb_emit(p, PERK_OP_SET_ALL, 0);
    pb_emit(p, PERK_OP_APPLY, pb_action(p, r, PROG_ACT_AMOUNT_OFF, 100, 0, 0));
    pb_promotion_end(p, r);
}

static void test_time_facts_in_shanghai(void **state)
{
    (void)state;
    prog_data p = new_prog();
    p.timezone = pb_str(&p, "Asia/Shanghai");
    p.tz_base_offset = 8 * 3600;
    fact_rule(&p, "wednesday", PERK_FACT_TIME_WEEKDAY, 2);
    fact_rule(&p, "one_am", PERK_FACT_TIME_OF_DAY, 60);
    fact_rule(&p, "today", PERK_FACT_TIME_TODAY, 20516); /* 2026-03-04 */
    /* weekend mask (Sat, Sun): must fail on a Wednesday */
    uint32_t r = pb_promotion_begin(&p, "weekend", NULL, 3);
    uint32_t c = pb_cond(&p, "weekday in [sat, sun]", NULL);
    pb_emit(&p, PERK_OP_LOAD_FACT, PERK_FACT_TIME_WEEKDAY);
    pb_emit(&p, PERK_OP_IN_MASK, (1u << 5) | (1u << 6));
    pb_emit(&p, PERK_OP_REQUIRE, c);
    pb_emit(&p, PERK_OP_SET_ALL, 0);
    pb_emit(&p, PERK_OP_APPLY, pb_action(&p, r, PROG_ACT_AMOUNT_OFF, 100, 0, 0));
    pb_promotion_end(&p, r);
    perk_context *ctx = vt_build(&p);
    /* 2026-03-03 17:00 UTC (a Tuesday) = 2026-03-04 01:00 in Shanghai (a Wednesday) */
    perk_order o = { .time = 1772557200, .points_to_redeem = 0 };
    assert_int_equal(perk_cart_set_order(ctx, &o), PERK_OK);
    vt_line(ctx, "x", NULL, 1000, 1);
    const perk_result *res = vt_eval(ctx);
    assert_int_equal(res->promotions[0].reason, PERK_REASON_APPLIED);
    assert_int_equal(res->promotions[1].reason, PERK_REASON_APPLIED);
    assert_int_equal(res->promotions[2].reason, PERK_REASON_APPLIED);
    assert_int_equal(res->promotions[3].reason, PERK_REASON_CONDITION);
    perk_context_free(ctx);
}

/* The schedules' facts (docs/semantics.md 13): the local day of the month and the month's
 * length, the same for the day before, and the local wall-clock seconds. */
static void schedule_facts_at(int64_t time, int64_t mday, int64_t mdays, int64_t prev_mday,
                              int64_t prev_mdays, int64_t local_seconds)
{
    prog_data p = new_prog();
    p.timezone = pb_str(&p, "Asia/Shanghai");
    p.tz_base_offset = 8 * 3600;
    fact_rule(&p, "mday", PERK_FACT_TIME_MONTH_DAY, mday);
    fact_rule(&p, "mdays", PERK_FACT_TIME_MONTH_DAYS, mdays);
    fact_rule(&p, "prev_mday", PERK_FACT_TIME_PREV_MONTH_DAY, prev_mday);
    fact_rule(&p, "prev_mdays", PERK_FACT_TIME_PREV_MONTH_DAYS, prev_mdays);
    fact_rule(&p, "local", PERK_FACT_TIME_LOCAL_SECONDS, local_seconds);
    perk_context *ctx = vt_build(&p);
    perk_order o = { .time = time, .points_to_redeem = 0 };
    assert_int_equal(perk_cart_set_order(ctx, &o), PERK_OK);
    vt_line(ctx, "x", NULL, 1000, 1);
    const perk_result *res = vt_eval(ctx);
    for (int i = 0; i < 5; i++) assert_int_equal(res->promotions[i].reason, PERK_REASON_APPLIED);
    perk_context_free(ctx);
}

static void test_schedule_facts(void **state)
{
    (void)state;
    /* 2026-12-31 16:30 UTC = 2027-01-01 00:30 in Shanghai: day 1 of 31, yesterday Dec 31 of 31;
     * 2027-01-01 is day 20819 */
    schedule_facts_at(1798734600, 1, 31, 31, 31, 20819 * INT64_C(86400) + 1800);
    /* 2028-02-29 16:30 UTC = 2028-03-01 00:30: day 1 of 31, yesterday Feb 29 of a 29-day
     * February; 2028-03-01 is day 21244 */
    schedule_facts_at(1835454600, 1, 31, 29, 29, 21244 * INT64_C(86400) + 1800);
    /* 16:30:05 UTC = 00:30:05 local: the seconds count */
    schedule_facts_at(1835454605, 1, 31, 29, 29, 21244 * INT64_C(86400) + 1805);
}

static int64_t birthday_applies(int64_t time)
{
    prog_data p = new_prog();
    fact_rule(&p, "birthday", PERK_FACT_CUSTOMER_IS_BIRTHDAY, 1);
    perk_context *ctx = vt_build(&p);
    perk_order o = { .time = time };
    assert_int_equal(perk_cart_set_order(ctx, &o), PERK_OK);
    perk_customer c = { .birthday_month = 2, .birthday_day = 29, .birthday_year = 2000 };
    assert_int_equal(perk_cart_set_customer(ctx, &c), PERK_OK);
    vt_line(ctx, "x", NULL, 1000, 1);
    int64_t d = vt_eval(ctx)->discount;
    perk_context_free(ctx);
    return d;
}

static void test_feb_29_birthday(void **state)
{
    (void)state;
    assert_int_equal(birthday_applies(1803787200), 100); /* 2027-02-28: common year, celebrated */
    assert_int_equal(birthday_applies(1835323200), 0);   /* 2028-02-28: leap year, wait for the 29th */
    assert_int_equal(birthday_applies(1835323200 + 86400), 100); /* 2028-02-29 */
}

static void test_tier_string_and_tag_facts(void **state)
{
    (void)state;
    prog_data p = new_prog();
    pb_tier(&p, "silver", NULL, 100000, 0, NULL, 0);
    pb_tier(&p, "gold", NULL, 500000, 0, NULL, 0);
    fact_rule(&p, "gold", PERK_FACT_CUSTOMER_TIER, 1);
    fact_rule(&p, "app", PERK_FACT_ORDER_CHANNEL, pb_str(&p, "app"));
    uint32_t r = pb_promotion_begin(&p, "vip", NULL, 2);
    uint32_t c = pb_cond(&p, "customer has tag vip and coupon X", NULL);
    pb_emit(&p, PERK_OP_CUSTOMER_TAG, pb_str(&p, "vip"));
    pb_emit(&p, PERK_OP_REQUIRE, c);
    pb_emit(&p, PERK_OP_COUPON, pb_str(&p, "X"));
    pb_emit(&p, PERK_OP_REQUIRE, c);
    pb_emit(&p, PERK_OP_SET_ALL, 0);
    pb_emit(&p, PERK_OP_APPLY, pb_action(&p, r, PROG_ACT_AMOUNT_OFF, 100, 0, 0));
    pb_promotion_end(&p, r);
    perk_context *ctx = vt_build(&p);
    for (int round = 0; round < 2; round++) {
        perk_cart_reset(ctx);
        perk_order o = { .time = VT_TIME, .channel = round == 0 ? "app" : "fax" };
        assert_int_equal(perk_cart_set_order(ctx, &o), PERK_OK);
        const char *tags[] = { "new", "vip" };
        perk_customer cu = { .tier = round == 0 ? "gold" : "bronze",
                             .tags = tags,
                             .n_tags = round == 0 ? 2 : 1 };
        assert_int_equal(perk_cart_set_customer(ctx, &cu), PERK_OK);
        assert_int_equal(perk_cart_add_coupon(ctx, "X", NULL, PERK_COUPON_VALID), PERK_OK);
        vt_line(ctx, "x", NULL, 1000, 1);
        const perk_result *res = vt_eval(ctx);
        perk_reason want = round == 0 ? PERK_REASON_APPLIED : PERK_REASON_CONDITION;
        assert_int_equal(res->promotions[0].reason, want); /* tier gold = index 1; bronze unknown */
        assert_int_equal(res->promotions[1].reason, want); /* channel app known; fax = -1 */
        assert_int_equal(res->promotions[2].reason, want); /* tag vip only in round 0 */
    }
    perk_context_free(ctx);
}

/* ------------------------------------------------------------------ line sets */

static void test_many_lines_cross_words(void **state)
{
    (void)state;
    prog_data p = new_prog();
    vt_simple_rule(&p, "all", PERK_OP_SET_ALL, NULL, PROG_ACT_AMOUNT_OFF, 13000, 0, 0);
    uint32_t r = pb_promotion_begin(&p, "not_b", NULL, 1);
    pb_emit(&p, PERK_OP_SET_SKU, pb_str(&p, "b"));
    pb_emit(&p, PERK_OP_SET_NOT, 0);
    pb_emit(&p, PERK_OP_APPLY, pb_action(&p, r, PROG_ACT_AMOUNT_OFF_EACH, 1, 0, 0));
    pb_promotion_end(&p, r);
    perk_context *ctx = vt_build(&p);
    vt_order(ctx, 0);
    for (int i = 0; i < 130; i++) vt_line(ctx, i == 100 ? "b" : "a", NULL, 1000, 1);
    const perk_result *res = vt_eval(ctx);
    /* 13000 over 130 lines of 1000: exactly 100 each; then 1 cent off every line but b (129) */
    for (uint32_t i = 0; i < 130; i++) {
        assert_int_equal(vt_alloc(res, i, 0), 100);
        assert_int_equal(vt_alloc(res, i, 1), i == 100 ? 0 : 1);
    }
    assert_int_equal(res->discount, 13129);
    perk_context_free(ctx);
}

/* ------------------------------------------------------------------ errors */

static void test_overflow_ends_the_evaluation(void **state)
{
    (void)state;
    prog_data p = new_prog();
    uint32_t r = pb_promotion_begin(&p, "boom", NULL, 0);
    uint32_t c = pb_cond(&p, "huge", NULL);
    pb_emit(&p, PERK_OP_PUSH_INT, pb_int(&p, INT64_MAX));
    pb_emit(&p, PERK_OP_PUSH_IMM, 1);
    pb_emit(&p, PERK_OP_ADD, 0);
    pb_emit(&p, PERK_OP_PUSH_IMM, 0);
    pb_emit(&p, PERK_OP_GT, 0);
    pb_emit(&p, PERK_OP_REQUIRE, c);
    pb_promotion_end(&p, r);
    perk_context *ctx = vt_build(&p);
    vt_order(ctx, 0);
    vt_line(ctx, "x", NULL, 1000, 1);
    const perk_result *res = perk_evaluate(ctx);
    assert_int_equal(res->status, PERK_OVERFLOW);
    assert_int_equal(res->payable, 0);
    assert_int_equal(res->n_promotions, 0);
    assert_non_null(strstr(perk_context_error(ctx), "boom"));
    perk_context_free(ctx);
}

static void test_instruction_budget(void **state)
{
    (void)state;
    prog_data p = new_prog();
    pct_rule(&p, "a", 100000, 100);
    pct_rule(&p, "b", 100000, 100);
    perk_program *prog = vt_load(&p);
    perk_limits l = perk_limits_default();
    l.instruction_budget = 10; /* each rule runs 8 instructions */
    perk_error err;
    perk_context *ctx = perk_context_new(prog, &l, &err);
    assert_non_null(ctx);
    perk_program_free(prog);
    vt_order(ctx, 0);
    vt_line(ctx, "x", NULL, 1000, 1);
    const perk_result *res = perk_evaluate(ctx);
    assert_int_equal(res->status, PERK_BUDGET);
    assert_non_null(strstr(perk_context_error(ctx), "budget"));
    perk_context_free(ctx);
}

static void test_cart_rejected_until_reset(void **state)
{
    (void)state;
    prog_data p = new_prog();
    pct_rule(&p, "a", 100000, 0);
    perk_context *ctx = vt_build(&p);
    vt_order(ctx, 0);
    perk_line bad = { .sku = "y", .unit_price = 100, .quantity = 0 };
    assert_int_equal(perk_cart_add_line(ctx, &bad), PERK_INVALID);
    perk_line good = { .sku = "y", .unit_price = 100, .quantity = 1 };
    assert_int_equal(perk_cart_add_line(ctx, &good), PERK_INVALID);
    assert_string_equal(perk_context_error(ctx), "line 1: quantity 0 must be at least 1");
    assert_int_equal(perk_evaluate(ctx)->status, PERK_INVALID);

    struct {
        perk_line line;
        perk_status status;
        const char *message;
    } cases[] = {
        { { .sku = "y", .unit_price = 100, .quantity = 1, .category = "tea//green" },
          PERK_INVALID,
          "line 1: category \"tea//green\" has an empty segment" },
        { { .sku = "", .unit_price = 100, .quantity = 1 }, PERK_INVALID, "line 1: sku is required" },
        { { .sku = "y", .unit_price = -1, .quantity = 1 },
          PERK_INVALID,
          "line 1: unit_price -1 must be between 0 and 1000000000000000" },
        { { .sku = "y", .unit_price = 100, .quantity = 2000000 },
          PERK_INVALID,
          "line 1: quantity 2000000 exceeds max_quantity 1000000" },
        { { .sku = "y", .unit_price = 100, .quantity = 1, .margin_ppm = 1000001, .has_margin = true },
          PERK_INVALID,
          "line 1: margin_ppm 1000001 must be 0..1000000" },
        { { .sku = "y", .unit_price = 100, .quantity = 1, .n_tags = 1 },
          PERK_INVALID,
          "line 1: n_tags is 1 but tags is NULL" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        perk_cart_reset(ctx);
        vt_order(ctx, 0);
        assert_int_equal(perk_cart_add_line(ctx, &cases[i].line), cases[i].status);
        assert_string_equal(perk_context_error(ctx), cases[i].message);
    }

    perk_cart_reset(ctx);
    perk_order o = { .currency = "USD", .time = VT_TIME };
    assert_int_equal(perk_cart_set_order(ctx, &o), PERK_CURRENCY);
    assert_string_equal(perk_context_error(ctx), "order: currency USD does not match the program's CNY");

    perk_cart_reset(ctx);
    vt_order(ctx, 0);
    assert_int_equal(perk_cart_add_coupon(ctx, "A", NULL, PERK_COUPON_VALID), PERK_OK);
    assert_int_equal(perk_cart_add_coupon(ctx, "A", NULL, PERK_COUPON_VALID), PERK_INVALID);
    assert_string_equal(perk_context_error(ctx), "coupon A: entered twice");

    perk_cart_reset(ctx);
    perk_customer c = { .birthday_month = 2, .birthday_day = 30 };
    assert_int_equal(perk_cart_set_customer(ctx, &c), PERK_INVALID);

    perk_cart_reset(ctx);
    vt_order(ctx, 0);
    perk_line huge = { .sku = "y", .unit_price = 1000000000000000LL, .quantity = 1000000 };
    assert_int_equal(perk_cart_add_line(ctx, &huge), PERK_OVERFLOW);

    /* NULLs are errors, not crashes */
    assert_int_equal(perk_cart_add_line(NULL, &huge), PERK_INVALID);
    assert_int_equal(perk_evaluate(NULL)->status, PERK_INVALID);
    perk_cart_reset(ctx);
    assert_int_equal(perk_cart_add_line(ctx, NULL), PERK_INVALID);
    perk_context_free(ctx);
}

static void test_empty_cart(void **state)
{
    (void)state;
    prog_data p = new_prog();
    pct_rule(&p, "a", 100000, 0);
    perk_context *ctx = vt_build(&p);
    vt_order(ctx, 500);
    const perk_result *r = vt_eval(ctx);
    assert_int_equal(r->n_lines, 0);
    assert_int_equal(r->promotions[0].reason, PERK_REASON_NOTHING);
    assert_int_equal(r->payable, 500);
    perk_context_free(ctx);
}

static void test_allocation_storage_limit(void **state)
{
    (void)state;
    /* 66 promotions each take 1 cent from every line; with max_lines = 2 the context reserves
       2 * min(66, 64) = 128 allocations, and 66 * 2 = 132 are needed */
    prog_data p = new_prog();
    char id[16];
    for (int i = 0; i < 66; i++) {
        snprintf(id, sizeof id, "r%d", i);
        vt_simple_rule(&p, id, PERK_OP_SET_ALL, NULL, PROG_ACT_AMOUNT_OFF_EACH, 1, 0, 0);
    }
    perk_program *prog = vt_load(&p);
    perk_limits l = perk_limits_default();
    l.max_lines = 2;
    perk_context *ctx = perk_context_new(prog, &l, NULL);
    assert_non_null(ctx);
    perk_program_free(prog);
    vt_order(ctx, 0);
    vt_line(ctx, "a", NULL, 1000, 1);
    assert_int_equal(perk_evaluate(ctx)->status, PERK_OK); /* one line: 66 allocations fit */
    assert_int_equal(perk_evaluate(ctx)->discount, 66);    /* and evaluating again is the same */
    vt_line(ctx, "b", NULL, 1000, 1);
    assert_int_equal(perk_evaluate(ctx)->status, PERK_LIMIT);
    assert_non_null(strstr(perk_context_error(ctx), "allocations"));
    perk_line third = { .sku = "c", .unit_price = 1000, .quantity = 1 };
    assert_int_equal(perk_cart_add_line(ctx, &third), PERK_LIMIT); /* over max_lines */
    assert_string_equal(perk_context_error(ctx), "line 3: the cart has more than max_lines = 2 lines");
    perk_context_free(ctx);
}

/* A promotion ¥1 off everything when `agg(field of all lines) == value`. */
static void agg_rule(prog_data *p, const char *id, perk_opcode agg, perk_item_field field, int64_t value)
{
    uint32_t r = pb_promotion_begin(p, id, NULL, (int32_t)p->n_rules);
    uint32_t c = pb_cond(p, id, NULL);
    pb_emit(p, PERK_OP_SET_ALL, 0);
    pb_emit(p, agg, field);
    pb_emit(p, PERK_OP_PUSH_INT, pb_int(p, value));
    pb_emit(p, PERK_OP_EQ, 0);
    pb_emit(p, PERK_OP_REQUIRE, c);
    pb_emit(p, PERK_OP_SET_ALL, 0);
    pb_emit(p, PERK_OP_APPLY, pb_action(p, r, PROG_ACT_AMOUNT_OFF, 100, 0, 0));
    pb_promotion_end(p, r);
}

static void test_aggregates(void **state)
{
    (void)state;
    prog_data p = new_prog();
    agg_rule(&p, "min_price", PERK_OP_AGG_MIN, PERK_FIELD_PRICE, 300);
    agg_rule(&p, "max_price", PERK_OP_AGG_MAX, PERK_FIELD_PRICE, 2000);
    /* the minimum of 20%, an unknown margin and 50% is unknown, not 20%: the condition fails */
    agg_rule(&p, "min_margin", PERK_OP_AGG_MIN, PERK_FIELD_MARGIN, 200000);
    agg_rule(&p, "max_qty", PERK_OP_AGG_MAX, PERK_FIELD_QUANTITY, 5);
    agg_rule(&p, "sum_orig", PERK_OP_AGG_SUM, PERK_FIELD_ORIGINAL_AMOUNT, 4900);
    /* margins >= 10%: the line with unknown margin does not match */
    uint32_t r = pb_promotion_begin(&p, "margin_set", NULL, 5);
    pb_emit(&p, PERK_OP_PUSH_INT, pb_int(&p, 100000));
    pb_emit_aux(&p, PERK_OP_SET_CMP, PERK_CMP_GE, PERK_FIELD_MARGIN);
    pb_emit(&p, PERK_OP_APPLY, pb_action(&p, r, PROG_ACT_AMOUNT_OFF_EACH, 1, 0, 0));
    pb_promotion_end(&p, r);
    perk_context *ctx = vt_build(&p);
    vt_order(ctx, 0);
    perk_line lines[] = {
        { .sku = "a", .unit_price = 2000, .quantity = 1, .margin_ppm = 200000, .has_margin = true },
        { .sku = "b", .unit_price = 300, .quantity = 5 },
        { .sku = "c", .unit_price = 700, .quantity = 2, .margin_ppm = 500000, .has_margin = true },
    };
    for (size_t i = 0; i < 3; i++) assert_int_equal(perk_cart_add_line(ctx, &lines[i]), PERK_OK);
    const perk_result *res = vt_eval(ctx);
    /* min price 300, max 2000, min margin unknown, max quantity 5,
       original sum 2000 + 1500 + 1400 = 4900 */
    for (uint32_t k = 0; k < 5; k++)
        assert_int_equal(res->promotions[k].reason, k == 2 ? PERK_REASON_CONDITION : PERK_REASON_APPLIED);
    assert_string_equal(perk_unknown_name(res->promotions[2].unknown_fact), "margin");
    assert_int_equal(res->promotions[0].unknown_fact, 0);
    assert_int_equal(vt_alloc(res, 0, 5), 1);
    assert_int_equal(vt_alloc(res, 1, 5), 0);
    assert_int_equal(vt_alloc(res, 2, 5), 2); /* 1 cent per unit, 2 units */
    perk_context_free(ctx);
}

static void test_division_by_zero(void **state)
{
    (void)state;
    prog_data p = new_prog();
    uint32_t r = pb_promotion_begin(&p, "div", NULL, 0);
    uint32_t c = pb_cond(&p, "x / 0", NULL);
    pb_emit(&p, PERK_OP_LOAD_FACT, PERK_FACT_ORDER_SUBTOTAL);
    pb_emit(&p, PERK_OP_LOAD_FACT, PERK_FACT_ORDER_SHIPPING);
    pb_emit(&p, PERK_OP_DIV, 0);
    pb_emit(&p, PERK_OP_REQUIRE, c);
    pb_promotion_end(&p, r);
    perk_context *ctx = vt_build(&p);
    vt_order(ctx, 0);
    vt_line(ctx, "x", NULL, 1000, 1);
    assert_int_equal(perk_evaluate(ctx)->status, PERK_OVERFLOW);
    assert_non_null(strstr(perk_context_error(ctx), "division by zero"));
    /* with shipping 500: 1000 / 500 = 2, true */
    perk_cart_reset(ctx);
    vt_order(ctx, 500);
    vt_line(ctx, "x", NULL, 1000, 1);
    assert_int_equal(vt_eval(ctx)->promotions[0].reason, PERK_REASON_NOTHING);
    perk_context_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_coupons_missing_rejected_accepted),
        cmocka_unit_test(test_one_coupon_per_order),
        cmocka_unit_test(test_budgets_and_exclusion),
        cmocka_unit_test(test_hint_on_soft_threshold),
        cmocka_unit_test(test_no_hint_when_another_condition_fails),
        cmocka_unit_test(test_not_flips_the_recorded_comparison),
        cmocka_unit_test(test_time_facts_in_shanghai),
        cmocka_unit_test(test_schedule_facts),
        cmocka_unit_test(test_feb_29_birthday),
        cmocka_unit_test(test_tier_string_and_tag_facts),
        cmocka_unit_test(test_many_lines_cross_words),
        cmocka_unit_test(test_overflow_ends_the_evaluation),
        cmocka_unit_test(test_instruction_budget),
        cmocka_unit_test(test_cart_rejected_until_reset),
        cmocka_unit_test(test_empty_cart),
        cmocka_unit_test(test_allocation_storage_limit),
        cmocka_unit_test(test_aggregates),
        cmocka_unit_test(test_division_by_zero),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
