/* test_vm_threads.c - one program shared by 8 threads, each with its own context: every result
 * equals the single-threaded result for the same cart, and building carts and evaluating them
 * never calls the allocator once each context has seen the carts (a counting allocator is
 * installed after the contexts grew to the largest cart). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "vm_testutil.h"

#define N_THREADS 8
#define N_CARTS 300
#define ROUNDS 3

static const char *const skus[] = { "a", "b", "c", "d", "e", "f" };
static const char *const cats[] = { "tea/green", "tea/black", "ware/cup", "snack", NULL, "tea" };
static const char *const tags_sale[] = { "sale" };

static perk_program *build_program(void)
{
    prog_data p;
    pb_init(&p, "shop", "CNY", 2);
    p.tz_base_offset = 8 * 3600;
    /* 1. buy 2 get 1 free on tea */
    uint32_t r = pb_promotion_begin(&p, "tea_b2g1", NULL, 0);
    pb_emit(&p, PERK_OP_SET_CATEGORY, pb_str(&p, "tea"));
    pb_emit(&p, PERK_OP_SET_CATEGORY, pb_str(&p, "tea"));
    pb_emit(&p, PERK_OP_APPLY2, pb_action(&p, r, PROG_ACT_BUY_GET, 2, 1, 1000000));
    pb_promotion_end(&p, r);
    /* 2. any 3 cups for ¥20, exclusive group "cups" */
    r = pb_promotion_begin(&p, "cups", NULL, 1);
    p.rules[r].group = pb_str(&p, "cups");
    pb_emit(&p, PERK_OP_SET_CATEGORY, pb_str(&p, "ware"));
    pb_emit(&p, PERK_OP_APPLY, pb_action(&p, r, PROG_ACT_N_FOR, 3, 2000, 0));
    pb_promotion_end(&p, r);
    /* 3. 15% off sale items over ¥50 in total, capped at ¥30 */
    r = pb_promotion_begin(&p, "sale", NULL, 2);
    p.rules[r].cap = 3000;
    uint32_t c = pb_cond(&p, "sum(sale) >= ¥50", "sale");
    pb_emit(&p, PERK_OP_SET_TAG, pb_str(&p, "sale"));
    pb_emit(&p, PERK_OP_AGG_SUM, PERK_FIELD_AMOUNT);
    pb_emit(&p, PERK_OP_PUSH_INT, pb_int(&p, 5000));
    pb_emit(&p, PERK_OP_GE, 0);
    pb_emit(&p, PERK_OP_REQUIRE_SOFT, c);
    pb_emit(&p, PERK_OP_CHECK, 0);
    pb_emit(&p, PERK_OP_SET_TAG, pb_str(&p, "sale"));
    pb_emit(&p, PERK_OP_APPLY, pb_action(&p, r, PROG_ACT_PERCENT_OFF, 150000, 0, 0));
    pb_promotion_end(&p, r);
    /* 4. coupon: spend tiers */
    r = pb_promotion_begin(&p, "coupon_tiers", NULL, 3);
    p.rules[r].coupon = pb_str(&p, "TIER");
    pb_emit(&p, PERK_OP_SET_ALL, 0);
    uint32_t a = pb_action(&p, r, PROG_ACT_TIERS, 0, 0, 0);
    pb_step(&p, a, 10000, 1000, 0);
    pb_step(&p, a, 30000, 80000, 1);
    pb_emit(&p, PERK_OP_APPLY, a);
    pb_promotion_end(&p, r);
    /* 5. gift and free shipping over ¥200 */
    r = pb_promotion_begin(&p, "gift_ship", NULL, 4);
    c = pb_cond(&p, "subtotal >= ¥200", "items");
    pb_emit(&p, PERK_OP_LOAD_FACT, PERK_FACT_ORDER_SUBTOTAL);
    pb_emit(&p, PERK_OP_PUSH_INT, pb_int(&p, 20000));
    pb_emit(&p, PERK_OP_GE, 0);
    pb_emit(&p, PERK_OP_REQUIRE_SOFT, c);
    pb_emit(&p, PERK_OP_CHECK, 0);
    pb_emit(&p, PERK_OP_SET_ALL, 0);
    a = pb_action(&p, r, PROG_ACT_GIFT, 1, 0, 0);
    p.actions[a].str1 = pb_str(&p, "sample");
    pb_emit(&p, PERK_OP_APPLY, a);
    pb_emit(&p, PERK_OP_SET_ALL, 0);
    pb_emit(&p, PERK_OP_APPLY, pb_action(&p, r, PROG_ACT_FREE_SHIPPING, 0, 0, 0));
    pb_promotion_end(&p, r);
    /* 6. every ¥100: ¥7 off, stop */
    r = pb_promotion_begin(&p, "every", NULL, 5);
    p.rules[r].flags = PROG_RULE_STOP | PROG_RULE_ORIGINAL;
    pb_emit(&p, PERK_OP_SET_ALL, 0);
    pb_emit(&p, PERK_OP_APPLY, pb_action(&p, r, PROG_ACT_EVERY, 10000, 700, -1));
    pb_promotion_end(&p, r);
    pb_redeem_begin(&p, 100, 100, PROG_PAYS_GOODS | PROG_PAYS_SHIPPING);
    p.redeem.max_share_ppm = 300000;
    pb_redeem_end(&p);
    uint32_t e = pb_earn_begin(&p, "base", NULL, 1, 100);
    pb_emit(&p, PERK_OP_SET_ALL, 0);
    pb_emit(&p, PERK_OP_EARN, e);
    pb_earn_end(&p, e);
    uint32_t m = pb_mult_begin(&p, "wednesday", NULL, 3, 2, NULL, 0);
    c = pb_cond(&p, "weekday = wed", NULL);
    pb_emit(&p, PERK_OP_LOAD_FACT, PERK_FACT_TIME_WEEKDAY);
    pb_emit(&p, PERK_OP_PUSH_IMM, 2);
    pb_emit(&p, PERK_OP_EQ, 0);
    pb_emit(&p, PERK_OP_REQUIRE, c);
    pb_emit(&p, PERK_OP_MULTIPLY, m);
    pb_mult_end(&p, m);
    return vt_load(&p);
}

/* Deterministic pseudo-random numbers (a 64-bit LCG). */
static uint64_t next_rand(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return *s >> 33;
}

static perk_status build_cart(perk_context *ctx, int cart)
{
    uint64_t s = (uint64_t)cart * 7919 + 17;
    perk_cart_reset(ctx);
    perk_order o = { .time = VT_TIME + (int64_t)(next_rand(&s) % 7) * 86400,
                     .shipping = (int64_t)(next_rand(&s) % 1500),
                     .points_to_redeem = cart % 3 == 0 ? -1 : (int64_t)(next_rand(&s) % 2000) };
    perk_status st = perk_cart_set_order(ctx, &o);
    perk_customer cu = { .points_balance = (int64_t)(next_rand(&s) % 5000), .has_points_balance = true };
    if (st == PERK_OK) st = perk_cart_set_customer(ctx, &cu);
    int n = 1 + (int)(next_rand(&s) % 12);
    for (int i = 0; i < n && st == PERK_OK; i++) {
        perk_line l = { .sku = skus[next_rand(&s) % 6],
                        .category = cats[next_rand(&s) % 6],
                        .unit_price = 1 + (int64_t)(next_rand(&s) % 9000),
                        .quantity = 1 + (int64_t)(next_rand(&s) % 5) };
        if (next_rand(&s) % 2) {
            l.tags = tags_sale;
            l.n_tags = 1;
        }
        st = perk_cart_add_line(ctx, &l);
    }
    if (st == PERK_OK && cart % 4 == 0) st = perk_cart_add_coupon(ctx, "TIER", NULL, PERK_COUPON_UNCHECKED);
    return st;
}

static uint64_t mix(uint64_t h, int64_t v)
{
    h ^= (uint64_t)v;
    return h * 1099511628211ULL;
}

/* A fingerprint of everything in a result. */
static uint64_t fingerprint(const perk_result *r)
{
    uint64_t h = 1469598103934665603ULL;
    h = mix(h, r->status);
    h = mix(h, r->subtotal);
    h = mix(h, r->discount);
    h = mix(h, r->shipping_after);
    h = mix(h, r->payable);
    h = mix(h, r->points_redeemed);
    h = mix(h, r->redeem_goods);
    h = mix(h, r->points_earned);
    for (uint32_t i = 0; i < r->n_lines; i++) h = mix(mix(h, r->lines[i].final), r->lines[i].n_allocations);
    for (uint32_t i = 0; i < r->n_allocations; i++)
        h = mix(mix(mix(h, r->allocations[i].line), r->allocations[i].promotion), r->allocations[i].amount);
    for (uint32_t i = 0; i < r->n_promotions; i++)
        h = mix(mix(mix(h, r->promotions[i].reason), r->promotions[i].discount), r->promotions[i].observed);
    for (uint32_t i = 0; i < r->n_hints; i++) h = mix(h, r->hints[i].shortfall);
    for (uint32_t i = 0; i < r->n_points; i++) h = mix(h, r->points[i].points);
    h = mix(h, r->n_gifts);
    return h;
}

static uint64_t expected[N_CARTS];
static atomic_long allocations;

static void *counting_alloc(size_t size, void *user)
{
    (void)user;
    atomic_fetch_add(&allocations, 1);
    return malloc(size);
}

static void counting_release(void *ptr, void *user)
{
    (void)user;
    free(ptr);
}

typedef struct worker {
    perk_context *ctx;
    int index;
    int mismatches;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    for (int round = 0; round < ROUNDS; round++) {
        for (int k = 0; k < N_CARTS; k++) {
            int cart = (k * 7 + w->index * 37 + round) % N_CARTS; /* every thread in its own order */
            if (build_cart(w->ctx, cart) != PERK_OK) {
                w->mismatches++;
                continue;
            }
            if (fingerprint(perk_evaluate(w->ctx)) != expected[cart]) w->mismatches++;
        }
    }
    return NULL;
}

static void test_threads_agree_and_never_allocate(void **state)
{
    (void)state;
    perk_program *prog = build_program();
    perk_context *single = perk_context_new(prog, NULL, NULL);
    assert_non_null(single);
    int applied = 0, errors = 0;
    for (int cart = 0; cart < N_CARTS; cart++) {
        assert_int_equal(build_cart(single, cart), PERK_OK);
        const perk_result *r = perk_evaluate(single);
        if (r->status != PERK_OK) errors++;
        for (uint32_t i = 0; i < r->n_promotions; i++)
            applied += r->promotions[i].reason == PERK_REASON_APPLIED;
        expected[cart] = fingerprint(r);
    }
    assert_int_equal(errors, 0);
    assert_true(applied > N_CARTS); /* the carts exercise the promotions */
    /* the same context again gives the same results */
    for (int cart = N_CARTS - 1; cart >= 0; cart--) {
        assert_int_equal(build_cart(single, cart), PERK_OK);
        assert_true(fingerprint(perk_evaluate(single)) == expected[cart]);
    }

    worker workers[N_THREADS];
    for (int t = 0; t < N_THREADS; t++) {
        workers[t] = (worker){ perk_context_new(prog, NULL, NULL), t, 0 };
        assert_non_null(workers[t].ctx);
        /* a context grows to the largest cart it is fed: once it has seen these carts, neither
         * building them nor evaluating them allocates */
        for (int cart = 0; cart < N_CARTS; cart++) {
            assert_int_equal(build_cart(workers[t].ctx, cart), PERK_OK);
            assert_true(fingerprint(perk_evaluate(workers[t].ctx)) == expected[cart]);
        }
    }
    perk_allocator counting = { counting_alloc, counting_release, NULL };
    atomic_store(&allocations, 0);
    perk_set_allocator(&counting);
    pthread_t threads[N_THREADS];
    for (int t = 0; t < N_THREADS; t++)
        assert_int_equal(pthread_create(&threads[t], NULL, work, &workers[t]), 0);
    for (int t = 0; t < N_THREADS; t++) pthread_join(threads[t], NULL);
    perk_set_allocator(NULL);
    assert_int_equal(atomic_load(&allocations), 0);
    for (int t = 0; t < N_THREADS; t++) {
        assert_int_equal(workers[t].mismatches, 0);
        perk_context_free(workers[t].ctx);
    }
    perk_context_free(single);
    perk_program_free(prog);
}

static void test_allocator_hook_counts(void **state)
{
    (void)state;
    /* the hook is used, and memory from malloc is still freed correctly after switching */
    perk_program *prog = build_program();
    perk_allocator counting = { counting_alloc, counting_release, NULL };
    atomic_store(&allocations, 0);
    perk_set_allocator(&counting);
    perk_context *ctx = perk_context_new(prog, NULL, NULL);
    perk_set_allocator(NULL);
    assert_non_null(ctx);
    assert_true(atomic_load(&allocations) > 10);
    perk_context_free(ctx);
    perk_program_free(prog);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_threads_agree_and_never_allocate),
        cmocka_unit_test(test_allocator_hook_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
