/* test_vm_actions.c - promotion actions on hand-built bytecode, for what a rule test cannot see:
 * allocation records (none for a zero amount, their order), the result's currency and exponent,
 * the recorded comparison of a failed threshold, gift lines, effect payloads and money budgets.
 * What an action takes off a cart (percent and amount off, price by quantity, tiers, every,
 * rounding, buy-get, N for a price, shipping, caps) is in tests/semantics/actions.test.
 * Every expected amount is worked out by hand in the comment next to it (amounts in minor units:
 * cents for CNY, yen for JPY). */
#include "vm_testutil.h"

static prog_data new_prog(void)
{
    prog_data p;
    pb_init(&p, "t", "CNY", 2);
    return p;
}

/* ------------------------------------------------------------------ allocations */

static void test_amount_off_each_and_fixed_price(void **state)
{
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

/* ------------------------------------------------------------------ currencies */

static void test_jpy_exponent_zero(void **state)
{
    (void)state;
    prog_data p;
    pb_init(&p, "jp", "JPY", 0);
    vt_simple_rule(&p, "fifteen", PERK_OP_SET_ALL, NULL, PROG_ACT_PERCENT_OFF, 150000, 0, 0);
    perk_context *ctx = vt_build(&p);
    perk_order o = { .currency = "JPY", .time = VT_TIME, .shipping = 500 };
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

static void stacking_case(bool original, int64_t expect_second)
{
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

static void test_stacking_sees_reduced_amounts(void **state)
{
    (void)state;
    /* measured on original prices: 10000 >= 10000 passes, and 10% applies to the current 9000 = 900 */
    stacking_case(true, 900);
    stacking_case(false, 0);
}

static void test_percent_after_amount(void **state)
{
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

static void test_most_expensive_works_on_runs(void **state)
{
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

static void test_most_expensive_more_than_there_are(void **state)
{
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

/* ------------------------------------------------------------------ per sku, count tiers */

/* BUY_GET_SKU groups lines by their SKU's text, SKUs the program never names included (their
 * sku_id is PROG_NONE for all of them): 40 SKUs of 100 bytes (more text than a new context
 * reserves) that differ only in their last byte, and a run of a million units. */
static void test_per_sku_groups_by_text(void **state)
{
    (void)state;
    prog_data p = new_prog();
    vt_simple_rule(&p, "pair", PERK_OP_SET_ALL, NULL, PROG_ACT_BUY_GET_SKU, 1, 1, 1000000);
    perk_context *ctx = vt_build(&p);
    char sku[40][101];
    for (int k = 0; k < 40; k++) {
        memset(sku[k], 'x', 99);
        sku[k][99] = (char)('0' + k);
        sku[k][100] = '\0';
    }
    for (int round = 0; round < 2; round++) { /* the second cart reuses the grown buffer */
        perk_cart_reset(ctx);
        vt_order(ctx, 0);
        vt_line(ctx, sku[0], NULL, 1000, 1);                             /* line 0: SKU 0 */
        vt_line(ctx, sku[1], NULL, 900, 1);                              /* line 1: SKU 1, alone */
        vt_line(ctx, sku[0], NULL, 800, 1);                              /* line 2: SKU 0 again */
        for (int k = 2; k < 40; k++) vt_line(ctx, sku[k], NULL, 100, 1); /* lines 3..40: alone */
        vt_line(ctx, "Q", NULL, 1999, 1000000);                          /* line 41 */
        const perk_result *r = vt_eval(ctx);
        /* SKU 0: 2 units, the cheaper (800, line 2) free; SKU 1 and SKUs 2..39: one unit each, none;
         * Q: 1000000 / 2 = 500000 units free, 500000 x 1999 = 999500000 */
        assert_int_equal(r->status, PERK_OK);
        assert_int_equal(r->lines[0].n_allocations, 0);
        assert_int_equal(r->lines[1].n_allocations, 0);
        assert_int_equal(vt_alloc(r, 2, 0), 800);
        for (uint32_t i = 3; i < 41; i++) assert_int_equal(r->lines[i].n_allocations, 0);
        assert_int_equal(vt_alloc(r, 41, 0), 999500000);
        assert_int_equal(r->discount, 999500800);
    }
    perk_context_free(ctx);
}

/* The hint of a count tier's next row carries its units, its value and the set's name. */
static void test_count_tier_hint_fields(void **state)
{
    (void)state;
    prog_data p = new_prog();
    uint32_t a = vt_simple_rule(&p, "count", PERK_OP_SET_ALL, NULL, PROG_ACT_COUNT_TIERS, 0, 0, 0);
    pb_step(&p, a, 2, 100000, 1); /* 2 units: 10% off */
    pb_step(&p, a, 5, 1500, 0);   /* 5 units: ¥15 off */
    p.actions[a].str1 = pb_str(&p, "skincare");
    perk_context *ctx = vt_build(&p);
    vt_order(ctx, 0);
    vt_line(ctx, "a", NULL, 1000, 2);
    vt_line(ctx, "b", NULL, 333, 1);
    const perk_result *r = vt_eval(ctx);
    /* 3 units: 10% of 2333 = 233.3 -> 233, allocated 2000 : 333 -> 199.7 / 33.3 -> 200 / 33;
     * the 5-unit row is 2 units away and takes 1500 off */
    assert_int_equal(vt_alloc(r, 0, 0), 200);
    assert_int_equal(vt_alloc(r, 1, 0), 33);
    assert_int_equal(r->n_hints, 1);
    assert_true(r->hints[0].units);
    assert_int_equal(r->hints[0].shortfall, 2);
    assert_false(r->hint_next[0].is_percent);
    assert_int_equal(r->hint_next[0].value, 1500);
    assert_string_equal(r->hints[0].set_name, "skincare");
    perk_context_free(ctx);
}

/* Adds a line of a store (NULL: without one). */
static void store_line(perk_context *ctx, const char *sku, const char *store, int64_t price, int64_t qty)
{
    perk_line l = { .sku = sku, .store = store, .unit_price = price, .quantity = qty };
    assert_int_equal(perk_cart_add_line(ctx, &l), PERK_OK);
}

/* 跨店满减: a store below a per-store threshold gets a hint for the money its own lines lack, the
 * first step's value, and the store's name (the context's copy, valid with the result). */
static void test_per_store_hint_fields(void **state)
{
    (void)state;
    prog_data p = new_prog();
    uint32_t t = vt_simple_rule(&p, "tiers", PERK_OP_SET_ALL, NULL, PROG_ACT_TIERS_STORE, 0, 0, 0);
    pb_step(&p, t, 10000, 100000, 1); /* ¥100 in one store: 10% off */
    pb_step(&p, t, 25000, 5000, 0);   /* ¥250: ¥50 off */
    p.actions[t].str1 = pb_str(&p, "teaware");
    /* every ¥300 in one store: ¥30 off, up to ¥20 (a cap below one step: only bytecode can say
     * it; the hint offers what one step would take off, the cap) */
    uint32_t e = vt_simple_rule(&p, "every", PERK_OP_SET_ALL, NULL, PROG_ACT_EVERY_STORE, 30000, 3000, 2000);
    p.actions[e].str1 = pb_str(&p, "items");
    perk_program *prog = vt_load(&p);
    perk_error err = { PERK_OK, "" };
    perk_context *ctx = perk_context_new(prog, NULL, &err);
    assert_non_null(ctx);
    vt_order(ctx, 0);
    char name_a[8] = "A", name_b[8] = "B";
    store_line(ctx, "a1", name_a, 6000, 1);
    store_line(ctx, "b1", name_b, 9000, 1);
    store_line(ctx, "n1", NULL, 9500, 1);
    store_line(ctx, "a2", name_a, 2000, 1);
    strcpy(name_a, "X"); /* the result names the store as it was fed */
    strcpy(name_b, "Y");
    const perk_result *r = vt_eval(ctx);
    /* tiers: A 8000, B 9000, no store 9500: none reaches ¥100, nothing off; shortfalls 2000,
     * 1000, 500: the lines without a store are closest. every: none reaches ¥300; shortfalls
     * 22000, 21000, 20500: again the lines without a store. */
    assert_int_equal(r->discount, 0);
    assert_int_equal(r->n_hints, 2);
    assert_int_equal(r->hints[0].promotion, 0);
    assert_false(r->hints[0].units);
    assert_int_equal(r->hints[0].shortfall, 500);
    assert_string_equal(r->hints[0].set_name, "teaware");
    assert_true(r->hint_next[0].per_store);
    assert_false(r->hint_next[0].bundle);
    assert_true(r->hint_next[0].is_percent);
    assert_int_equal(r->hint_next[0].value, 100000);
    assert_null(r->hint_store[0]);
    assert_int_equal(r->hints[1].promotion, 1);
    assert_int_equal(r->hints[1].shortfall, 20500);
    assert_true(r->hint_next[1].per_store);
    assert_false(r->hint_next[1].is_percent);
    assert_int_equal(r->hint_next[1].value, 2000);
    assert_null(r->hint_store[1]);

    /* tiers: B 12000 reaches ¥100 (10% = 1200 off), A 9500 is 500 short: A's hint. every
     * measures what is left: B 12000 - 1200 = 10800 (19200 short), A 9500 (20500 short): B's */
    perk_cart_reset(ctx);
    vt_order(ctx, 0);
    strcpy(name_a, "A");
    strcpy(name_b, "B");
    store_line(ctx, "b1", name_b, 12000, 1);
    store_line(ctx, "a1", name_a, 9500, 1);
    r = vt_eval(ctx);
    assert_int_equal(vt_alloc(r, 0, 0), 1200);
    assert_int_equal(r->lines[1].n_allocations, 0);
    assert_int_equal(r->n_hints, 2);
    assert_int_equal(r->hints[0].shortfall, 500);
    assert_string_equal(r->hint_store[0], "A");
    assert_int_equal(r->hints[1].shortfall, 19200);
    assert_string_equal(r->hint_store[1], "B");

    /* two stores equally short: the store of the earlier line */
    perk_cart_reset(ctx);
    vt_order(ctx, 0);
    store_line(ctx, "b1", name_b, 4000, 1);
    store_line(ctx, "a1", name_a, 4000, 1);
    r = vt_eval(ctx);
    assert_int_equal(r->n_hints, 2);
    assert_int_equal(r->hints[0].shortfall, 6000);
    assert_string_equal(r->hint_store[0], "B");
    perk_context_free(ctx);

    /* max_hints 1: the first promotion's hint only */
    perk_limits lim = perk_limits_default();
    lim.max_hints = 1;
    ctx = perk_context_new(prog, &lim, &err);
    assert_non_null(ctx);
    vt_order(ctx, 0);
    store_line(ctx, "a1", name_a, 4000, 1);
    r = vt_eval(ctx);
    assert_int_equal(r->n_hints, 1);
    assert_int_equal(r->hints[0].promotion, 0);
    assert_string_equal(r->hint_store[0], "A");
    perk_context_free(ctx);
    perk_program_free(prog);
}

/* ------------------------------------------------------------------ bundles */

static long bundle_allocs;

static void *bundle_alloc(size_t size, void *user)
{
    (void)user;
    bundle_allocs++;
    return malloc(size);
}

static void bundle_release(void *ptr, void *user)
{
    (void)user;
    free(ptr);
}

/* `bundle 1 of pot + 2 of cup for ¥199`: BUNDLE_PART marks the pots, APPLY takes the cups. */
static prog_data bundle_prog(void)
{
    prog_data p = new_prog();
    uint32_t r = pb_promotion_begin(&p, "set", NULL, 0);
    uint32_t a = pb_action(&p, r, PROG_ACT_BUNDLE, 19900, 0, 0);
    pb_step(&p, a, 1, pb_str(&p, "pots"), 0);
    pb_step(&p, a, 2, pb_str(&p, "cups"), 0);
    pb_emit(&p, PERK_OP_SET_CATEGORY, pb_str(&p, "pot"));
    pb_emit(&p, PERK_OP_BUNDLE_PART, a);
    pb_emit(&p, PERK_OP_SET_CATEGORY, pb_str(&p, "cup"));
    pb_emit(&p, PERK_OP_APPLY, a);
    pb_promotion_end(&p, r);
    return p;
}

/* Bundles on runs: a million sets cost one pass, nothing is allocated while evaluating (the
 * part mask is sized with the lines), and a cart one part short carries the bundle hint. */
static void test_bundle_runs_hint_no_allocation(void **state)
{
    (void)state;
    static const perk_allocator counting = { bundle_alloc, bundle_release, NULL };
    perk_set_allocator(&counting);
    prog_data p = bundle_prog();
    perk_context *ctx = vt_build(&p);
    for (int round = 0; round < 2; round++) {
        perk_cart_reset(ctx);
        vt_order(ctx, 0);
        vt_line(ctx, "P", "pot", 15000, 500000);
        vt_line(ctx, "C", "cup", 4000, 1000000);
        vt_line(ctx, "X", "spoon", 100, 5);
        vt_line(ctx, "C", "cup", 4000, 1);
        long before = bundle_allocs;
        const perk_result *r = vt_eval(ctx);
        assert_int_equal(bundle_allocs, before);
        /* 500000 sets of 15000 + 8000 = 23000 for 19900: 3100 each, split 2022 / 1078 (2021.74,
         * 1078.26, the cent to .74), all cups from line 1 (the earlier of two equal prices); the
         * cup of line 3 and the spoons untouched; the next set lacks its pot and a cup: no hint */
        assert_int_equal(vt_alloc(r, 0, 0), 1011000000LL);
        assert_int_equal(vt_alloc(r, 1, 0), 539000000LL);
        assert_int_equal(r->lines[2].n_allocations, 0);
        assert_int_equal(r->lines[3].n_allocations, 0);
        assert_int_equal(r->discount, 1550000000LL);
        assert_int_equal(r->n_hints, 0);
    }
    perk_cart_reset(ctx);
    vt_order(ctx, 0);
    vt_line(ctx, "P", "pot", 15000, 1);
    vt_line(ctx, "C", "cup", 4000, 1);
    long before = bundle_allocs;
    const perk_result *r = vt_eval(ctx);
    assert_int_equal(bundle_allocs, before);
    assert_int_equal(r->discount, 0);
    assert_int_equal(r->promotions[0].reason, PERK_REASON_NOTHING);
    assert_false(r->promotions[0].has_comparison); /* short, not too dear */
    assert_int_equal(r->n_hints, 1);
    assert_true(r->hints[0].units);
    assert_int_equal(r->hints[0].shortfall, 1);
    assert_string_equal(r->hints[0].set_name, "cups");
    assert_true(r->hint_next[0].bundle);
    assert_int_equal(r->hint_next[0].value, 19900);
    /* a pot of 10000 and two cups: 18000 <= 19900, NOTHING with what the units cost */
    perk_cart_reset(ctx);
    vt_order(ctx, 0);
    vt_line(ctx, "P", "pot", 10000, 1);
    vt_line(ctx, "C", "cup", 4000, 2);
    r = vt_eval(ctx);
    assert_int_equal(r->promotions[0].reason, PERK_REASON_NOTHING);
    assert_true(r->promotions[0].has_comparison);
    assert_int_equal(r->promotions[0].observed, 18000);
    assert_int_equal(r->promotions[0].expected, 19900);
    assert_int_equal(r->promotions[0].comparison, PERK_CMP_GT);
    assert_int_equal(r->n_hints, 0);
    perk_context_free(ctx);
    perk_set_allocator(NULL);
}

/* The VM refuses a bundle whose parts were not all marked (a program the verifier cannot judge:
 * the marks are counted at run time). */
static void test_bundle_missing_part_is_malformed(void **state)
{
    (void)state;
    prog_data p = new_prog();
    uint32_t r = pb_promotion_begin(&p, "set", NULL, 0);
    uint32_t a = pb_action(&p, r, PROG_ACT_BUNDLE, 19900, 0, 0);
    pb_step(&p, a, 1, -1, 0);
    pb_step(&p, a, 1, -1, 0);
    pb_step(&p, a, 1, -1, 0);
    pb_emit(&p, PERK_OP_SET_ALL, 0);
    pb_emit(&p, PERK_OP_BUNDLE_PART, a); /* one of the two marks */
    pb_emit(&p, PERK_OP_SET_ALL, 0);
    pb_emit(&p, PERK_OP_APPLY, a);
    pb_promotion_end(&p, r);
    perk_context *ctx = vt_build(&p);
    vt_order(ctx, 0);
    vt_line(ctx, "P", "pot", 15000, 3);
    const perk_result *res = perk_evaluate(ctx);
    assert_int_equal(res->status, PERK_MALFORMED);
    assert_non_null(strstr(perk_context_error(ctx), "a bundle of 3 parts with 1 marked"));
    perk_context_free(ctx);
}

/* ------------------------------------------------------------------ gifts, shipping, effects */

static void test_gift_counts_toward_nothing(void **state)
{
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

static void test_effect_recorded(void **state)
{
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

/* 满500返50券: a reward-only promotion applies with nothing off and reports its campaign and
 * period; two in one program are two results; evaluating allocates nothing; a failed condition
 * reports none. */
static void test_reward_coupon_recorded(void **state)
{
    (void)state;
    static const perk_allocator counting = { bundle_alloc, bundle_release, NULL };
    perk_set_allocator(&counting);
    prog_data p = new_prog();
    uint32_t r0 = pb_promotion_begin(&p, "days", NULL, 0);
    pb_emit(&p, PERK_OP_SET_ALL, 0);
    uint32_t a = pb_action(&p, r0, PROG_ACT_REWARD_COUPON, 30 * 86400, 0, 0);
    p.actions[a].str1 = pb_str(&p, "RETURN50");
    pb_emit(&p, PERK_OP_APPLY, a);
    pb_promotion_end(&p, r0);
    uint32_t r1 = pb_promotion_begin(&p, "window", NULL, 0);
    pb_emit(&p, PERK_OP_SET_ALL, 0);
    a = pb_action(&p, r1, PROG_ACT_REWARD_COUPON, 0, 1825948800, 1827590400);
    p.actions[a].str1 = pb_str(&p, "D11BACK");
    pb_emit(&p, PERK_OP_APPLY, a);
    pb_promotion_end(&p, r1);
    perk_program *prog = vt_load(&p);
    /* the program says the same, as the store reads it */
    int64_t from = -1, until = -1, seconds = -1;
    assert_string_equal(perk_program_promotion_reward_coupon(prog, 1, &from, &until, &seconds), "D11BACK");
    assert_int_equal(from, 1825948800);
    assert_int_equal(until, 1827590400);
    assert_int_equal(seconds, 0);
    assert_string_equal(perk_program_promotion_reward_coupon(prog, 0, NULL, NULL, &seconds), "RETURN50");
    assert_int_equal(seconds, 2592000);
    assert_null(perk_program_promotion_reward_coupon(prog, 2, NULL, NULL, NULL));
    perk_context *ctx = vt_context(prog);
    vt_order(ctx, 0);
    vt_line(ctx, "a", NULL, 50000, 1);
    long before = bundle_allocs;
    const perk_result *r = vt_eval(ctx);
    assert_int_equal(bundle_allocs, before);
    assert_int_equal(r->promotions[0].reason, PERK_REASON_APPLIED);
    assert_int_equal(r->promotions[1].reason, PERK_REASON_APPLIED);
    assert_int_equal(r->discount, 0);
    assert_int_equal(r->payable, 50000);
    assert_int_equal(r->n_reward_coupons, 2);
    assert_int_equal(r->reward_coupons[0].promotion, 0);
    assert_string_equal(r->reward_coupons[0].campaign, "RETURN50");
    assert_int_equal(r->reward_coupons[0].valid_seconds, 2592000);
    assert_int_equal(r->reward_coupons[0].expires_at, 0);
    assert_int_equal(r->reward_coupons[1].promotion, 1);
    assert_string_equal(r->reward_coupons[1].campaign, "D11BACK");
    assert_int_equal(r->reward_coupons[1].valid_from, 1825948800);
    assert_int_equal(r->reward_coupons[1].expires_at, 1827590400);
    /* a second evaluation starts afresh */
    r = vt_eval(ctx);
    assert_int_equal(r->n_reward_coupons, 2);
    perk_context_free(ctx);
    perk_set_allocator(NULL);
}

/* ------------------------------------------------------------------ money budgets */

static void test_money_budget_caps_to_remaining(void **state)
{
    (void)state;
    for (int used_up = 0; used_up < 2; used_up++) {
        prog_data p = new_prog();
        uint32_t r0 = pb_promotion_begin(&p, "budget", NULL, 0);
        p.rules[r0].limit_money = 10000;
        p.rules[r0].flags |= PROG_RULE_PARTIAL; /* grants what is left (semantics 5.5) */
        pb_emit(&p, PERK_OP_SET_ALL, 0);
        pb_emit(&p, PERK_OP_APPLY, pb_action(&p, r0, PROG_ACT_PERCENT_OFF, 100000, 0, 0));
        pb_promotion_end(&p, r0);
        perk_context *ctx = vt_build(&p);
        vt_order(ctx, 0);
        vt_line(ctx, "a", NULL, 5000, 1);
        perk_usage u = { .uses = 3, .money = used_up ? 10000 : 9800, .customer_uses = 0 };
        assert_int_equal(perk_cart_set_usage(ctx, 0, &u), PERK_OK);
        const perk_result *r = vt_eval(ctx);
        if (used_up) {
            assert_int_equal(r->promotions[0].reason, PERK_REASON_BUDGET_MONEY);
            assert_int_equal(r->discount, 0);
        } else {
            /* 10% of 5000 = 500, but only 10000 - 9800 = 200 of budget remains */
            assert_int_equal(r->promotions[0].reason, PERK_REASON_APPLIED);
            assert_int_equal(r->discount, 200);
            assert_int_equal(r->promotion_extra[0].budget_wanted, 500);
            assert_int_equal(r->promotion_extra[0].budget_granted, 200);
        }
        perk_context_free(ctx);
    }
    /* the same all-or-nothing: 500 wanted, 200 left, refused */
    prog_data p = new_prog();
    uint32_t r0 = pb_promotion_begin(&p, "budget", NULL, 0);
    p.rules[r0].limit_money = 10000;
    pb_emit(&p, PERK_OP_SET_ALL, 0);
    pb_emit(&p, PERK_OP_APPLY, pb_action(&p, r0, PROG_ACT_PERCENT_OFF, 100000, 0, 0));
    pb_promotion_end(&p, r0);
    perk_context *ctx = vt_build(&p);
    vt_order(ctx, 0);
    vt_line(ctx, "a", NULL, 5000, 1);
    perk_usage u = { .uses = 3, .money = 9800, .customer_uses = 0 };
    assert_int_equal(perk_cart_set_usage(ctx, 0, &u), PERK_OK);
    const perk_result *r = vt_eval(ctx);
    assert_int_equal(r->promotions[0].reason, PERK_REASON_BUDGET_MONEY);
    assert_int_equal(r->discount, 0);
    assert_null(r->promotion_extra); /* no best-deal group, no partial budget */
    perk_context_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_amount_off_each_and_fixed_price),
        cmocka_unit_test(test_jpy_exponent_zero),
        cmocka_unit_test(test_stacking_sees_reduced_amounts),
        cmocka_unit_test(test_percent_after_amount),
        cmocka_unit_test(test_most_expensive_works_on_runs),
        cmocka_unit_test(test_most_expensive_more_than_there_are),
        cmocka_unit_test(test_gift_counts_toward_nothing),
        cmocka_unit_test(test_effect_recorded),
        cmocka_unit_test(test_reward_coupon_recorded),
        cmocka_unit_test(test_money_budget_caps_to_remaining),
        cmocka_unit_test(test_per_sku_groups_by_text),
        cmocka_unit_test(test_count_tier_hint_fields),
        cmocka_unit_test(test_per_store_hint_fields),
        cmocka_unit_test(test_bundle_runs_hint_no_allocation),
        cmocka_unit_test(test_bundle_missing_part_is_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
