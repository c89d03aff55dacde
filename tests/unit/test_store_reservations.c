/* test_store_reservations.c - reservations hold budget uses, budget money and coupon uses for a
 * TTL: counted like committed uses while open (committed + held <= limit, also with several
 * handles racing), consumed by the order that names them, given back on release or when the TTL
 * ends (the store's clock is injected here), and marked expired lazily or by a sweep. */
#include "store_fixture.h"

#include <pthread.h>

/* flash: ¥30 off, at most 3 uses. big: ¥40 off, at most ¥100 of discount in all, so two uses
 * (2 x 40 = 80) fit and a third (120) does not. */
static const char RULES[] = "ruleset \"shop\" { currency CNY timezone \"Asia/Shanghai\" }\n"
                            "promotion flash \"限量立减\" {\n"
                            "  limit 3 uses\n"
                            "  then ¥30 off order\n"
                            "}\n"
                            "promotion big \"大额立减\" {\n"
                            "  limit ¥100 total\n"
                            "  then ¥40 off order\n"
                            "}\n";

#define T0 1772589600

typedef store_clock_fixture fixture;

static int setup(void **state) { return store_clock_fixture_setup(state, RULES, T0); }

static int teardown(void **state) { return store_clock_fixture_teardown(state); }

static const perk_store_promo_use FLASH = { "flash", 3000, 3, -1, -1 };
static const perk_store_promo_use BIG = { "big", 4000, -1, 10000, -1 };

/* An order of ¥100.00 using `promo` (may be NULL) and `coupon` (may be NULL) at the clock. */
static perk_store_order order_with(fixture *f, const char *id, const char *customer,
                                   const perk_store_promo_use *promo, const char *const *coupon)
{
    perk_store_order o = test_order(id, customer, f->clock, 10000);
    o.ruleset_version = f->version;
    if (promo) {
        o.promos = promo;
        o.n_promos = 1;
        o.discount = promo->discount;
        o.payable = 10000 - promo->discount;
    }
    if (coupon) {
        o.coupons = coupon;
        o.n_coupons = 1;
    }
    return o;
}

static int64_t uses_of(fixture *f, const char *promo, int64_t *money)
{
    int64_t uses = 0, m = 0;
    assert_store(f->s, PERK_STORE_OK, perk_store_budget_usage(f->s, "shop", promo, NULL, &uses, &m, NULL));
    if (money) *money = m;
    return uses;
}

static void test_reservations_count_against_uses(void **state)
{
    fixture *f = *state;
    perk_store_commit_result r;
    perk_store_order o = order_with(f, "O1", "ana", &FLASH, NULL);
    assert_store(f->s, PERK_STORE_OK, perk_store_reserve(f->s, "R1", &o, 600, &r));
    assert_int_equal(r.reservation_expires_at, T0 + 600);
    perk_store_commit_result_free(&r);
    o = order_with(f, "O2", "bo", &FLASH, NULL);
    assert_store(f->s, PERK_STORE_OK, perk_store_reserve(f->s, "R2", &o, 600, NULL));
    o = order_with(f, "O3", "cy", &FLASH, NULL);
    assert_store(f->s, PERK_STORE_OK, perk_store_commit(f->s, &o, NULL, NULL));
    /* 1 committed + 2 held = 3 of 3: the usage says so, and a 4th holder is refused */
    assert_int_equal(uses_of(f, "flash", NULL), 3);
    o = order_with(f, "O4", "dan", &FLASH, NULL);
    assert_store(f->s, PERK_STORE_BUDGET_EXCEEDED, perk_store_reserve(f->s, "R4", &o, 600, &r));
    assert_int_equal(r.n_failures, 1);
    assert_int_equal(r.failures[0].reason, PERK_STORE_FAIL_USES);
    perk_store_commit_result_free(&r);
    assert_store(f->s, PERK_STORE_BUDGET_EXCEEDED, perk_store_commit(f->s, &o, NULL, NULL));
    assert_int_equal(test_sql_int(f->s, "SELECT COUNT(*) FROM reservations WHERE id = 'R4'"), 0);

    /* ana pays: her order consumes R1 (its hold is hers, so the full budget is no obstacle) */
    o = order_with(f, "O1", "ana", &FLASH, NULL);
    o.reservation_id = "R1";
    assert_store(f->s, PERK_STORE_OK, perk_store_commit(f->s, &o, NULL, &r));
    assert_true(r.reservation_consumed);
    perk_store_commit_result_free(&r);
    assert_int_equal(uses_of(f, "flash", NULL), 3); /* 2 committed + 1 held */
    perk_store_reservation_info info;
    assert_store(f->s, PERK_STORE_OK, perk_store_reservation_get(f->s, "R1", &info));
    assert_int_equal(info.state, PERK_STORE_RESERVATION_COMMITTED);
    assert_string_equal(info.order_id, "O1");
    assert_int_equal(info.ended_at, T0);
    /* R1 is ended: naming it again is ignored (the order is checked afresh) */
    o = order_with(f, "O5", "ana", &FLASH, NULL);
    o.reservation_id = "R1";
    assert_store(f->s, PERK_STORE_BUDGET_EXCEEDED, perk_store_commit(f->s, &o, NULL, NULL));
    /* bo's reservation is not for cy */
    o = order_with(f, "O6", "cy", &FLASH, NULL);
    o.reservation_id = "R2";
    assert_store(f->s, PERK_STORE_INVALID, perk_store_commit(f->s, &o, NULL, NULL));
    assert_non_null(strstr(perk_store_errmsg(f->s), "holds uses for customer bo, not for cy"));
    o.reservation_id = NULL; /* a reservation id is used once */
    assert_store(f->s, PERK_STORE_CONFLICT, perk_store_reserve(f->s, "R2", &o, 600, NULL));
}

static void test_reservations_count_against_money(void **state)
{
    fixture *f = *state;
    /* big: 4000 + 4000 = 8000 held of 10000; a third (12000) does not fit */
    perk_store_order o = order_with(f, "O1", "ana", &BIG, NULL);
    assert_store(f->s, PERK_STORE_OK, perk_store_reserve(f->s, "R1", &o, 60, NULL));
    o = order_with(f, "O2", "bo", &BIG, NULL);
    assert_store(f->s, PERK_STORE_OK, perk_store_reserve(f->s, "R2", &o, 60, NULL));
    int64_t money = 0;
    assert_int_equal(uses_of(f, "big", &money), 2);
    assert_int_equal(money, 8000);
    perk_store_commit_result r;
    o = order_with(f, "O3", "cy", &BIG, NULL);
    assert_store(f->s, PERK_STORE_BUDGET_EXCEEDED, perk_store_commit(f->s, &o, NULL, &r));
    assert_int_equal(r.failures[0].reason, PERK_STORE_FAIL_MONEY);
    perk_store_commit_result_free(&r);
    /* bo gives his back: 4000 held, cy's 4000 fits (8000 <= 10000) */
    bool released = false;
    assert_store(f->s, PERK_STORE_OK, perk_store_reservation_release(f->s, "R2", &released));
    assert_true(released);
    assert_store(f->s, PERK_STORE_OK, perk_store_reservation_release(f->s, "R2", &released));
    assert_false(released);
    assert_store(f->s, PERK_STORE_OK, perk_store_commit(f->s, &o, NULL, NULL));
    assert_int_equal(uses_of(f, "big", &money), 2);
    assert_int_equal(money, 8000); /* 4000 committed (cy) + 4000 held (ana) */
    assert_store(f->s, PERK_STORE_NOT_FOUND, perk_store_reservation_release(f->s, "nope", NULL));
}

static void test_reservations_expire(void **state)
{
    fixture *f = *state;
    perk_store_order o = order_with(f, "O1", "ana", &FLASH, NULL);
    assert_store(f->s, PERK_STORE_OK, perk_store_reserve(f->s, "R1", &o, 30, NULL));
    o = order_with(f, "O2", "bo", &FLASH, NULL);
    assert_store(f->s, PERK_STORE_OK, perk_store_reserve(f->s, "R2", &o, 90, NULL));
    int64_t open = 0;
    assert_store(f->s, PERK_STORE_OK, perk_store_reservations_open(f->s, &open));
    assert_int_equal(open, 2);
    assert_int_equal(uses_of(f, "flash", NULL), 2);
    /* 29 s later R1 still holds; at 30 s its TTL has ended and it counts no more, unmarked */
    f->clock = T0 + 29;
    assert_int_equal(uses_of(f, "flash", NULL), 2);
    f->clock = T0 + 30;
    assert_int_equal(uses_of(f, "flash", NULL), 1);
    perk_store_reservation_info info;
    assert_store(f->s, PERK_STORE_OK, perk_store_reservation_get(f->s, "R1", &info));
    assert_int_equal(info.state, PERK_STORE_RESERVATION_EXPIRED);
    assert_int_equal(info.ended_at, T0 + 30);
    assert_int_equal(info.promos, 1);
    assert_int_equal(info.discount, 3000);
    assert_int_equal(test_sql_int(f->s, "SELECT COUNT(*) FROM reservations WHERE state = 'open'"), 2);
    /* the next write marks it (lazily); ana's order naming it is checked afresh */
    perk_store_commit_result r;
    o = order_with(f, "O1", "ana", &FLASH, NULL);
    o.reservation_id = "R1";
    f->clock = T0 + 40;
    o.time = f->clock;
    assert_store(f->s, PERK_STORE_OK, perk_store_commit(f->s, &o, NULL, &r));
    assert_false(r.reservation_consumed);
    perk_store_commit_result_free(&r);
    assert_int_equal(test_sql_int(f->s, "SELECT COUNT(*) FROM reservations WHERE state = 'open'"), 1);
    assert_int_equal(test_sql_int(f->s, "SELECT COUNT(*) FROM reservations WHERE state = 'expired'"), 1);
    /* the sweep marks R2 when its time comes, and only then */
    int64_t expired = -1;
    assert_store(f->s, PERK_STORE_OK, perk_store_reservations_sweep(f->s, &expired));
    assert_int_equal(expired, 0);
    f->clock = T0 + 90;
    assert_store(f->s, PERK_STORE_OK, perk_store_reservations_sweep(f->s, &expired));
    assert_int_equal(expired, 1);
    assert_store(f->s, PERK_STORE_OK, perk_store_reservations_open(f->s, &open));
    assert_int_equal(open, 0);
    assert_int_equal(uses_of(f, "flash", NULL), 1); /* ana's committed order only */
}

static void test_reservations_hold_coupons(void **state)
{
    fixture *f = *state;
    assert_store(f->s, PERK_STORE_OK, perk_store_coupon_add(f->s, "ONCE", "spring", 0, 1, 0, NULL, T0 - 60));
    static const char *const code[] = { "once" };
    perk_store_order o = order_with(f, "O1", "ana", NULL, code);
    assert_store(f->s, PERK_STORE_OK, perk_store_reserve(f->s, "R1", &o, 60, NULL));
    perk_store_coupon_info info;
    assert_store(f->s, PERK_STORE_OK, perk_store_coupon_check(f->s, "ONCE", "bo", T0, &info));
    assert_int_equal(info.status, PERK_STORE_COUPON_USED_UP);
    assert_int_equal(info.uses, 1);
    perk_store_commit_result r;
    o = order_with(f, "O2", "bo", NULL, code);
    assert_store(f->s, PERK_STORE_BUDGET_EXCEEDED, perk_store_commit(f->s, &o, NULL, &r));
    assert_int_equal(r.failures[0].reason, PERK_STORE_FAIL_COUPON);
    perk_store_commit_result_free(&r);
    /* ana's pricing with her reservation excluded sees the code as valid */
    assert_store(f->s, PERK_STORE_OK, perk_store_exclude_reservation(f->s, "R1"));
    assert_store(f->s, PERK_STORE_OK, perk_store_coupon_check(f->s, "ONCE", "ana", T0, &info));
    assert_int_equal(info.status, PERK_STORE_COUPON_VALID);
    assert_store(f->s, PERK_STORE_OK, perk_store_exclude_reservation(f->s, NULL));
    o = order_with(f, "O1", "ana", NULL, code);
    o.reservation_id = "R1";
    assert_store(f->s, PERK_STORE_OK, perk_store_commit(f->s, &o, NULL, &r));
    assert_true(r.reservation_consumed);
    perk_store_commit_result_free(&r);
    assert_store(f->s, PERK_STORE_OK, perk_store_coupon_check(f->s, "ONCE", "bo", T0, &info));
    assert_int_equal(info.uses, 1); /* the committed use; the hold ended with it */
    assert_store(f->s, PERK_STORE_CONFLICT, perk_store_reservation_release(f->s, "R1", NULL));
}

static void test_reserve_refuses_bad_input(void **state)
{
    fixture *f = *state;
    perk_store_order o = order_with(f, "O1", "ana", &FLASH, NULL);
    assert_store(f->s, PERK_STORE_INVALID, perk_store_reserve(f->s, "R1", &o, 0, NULL));
    assert_store(f->s, PERK_STORE_INVALID,
                 perk_store_reserve(f->s, "R1", &o, PERK_STORE_RESERVATION_TTL_MAX + 1, NULL));
    assert_store(f->s, PERK_STORE_INVALID, perk_store_reserve(f->s, "", &o, 60, NULL));
    /* limits that are not the published version's */
    perk_store_promo_use forged = { "flash", 3000, 4, -1, -1 };
    o.promos = &forged;
    assert_store(f->s, PERK_STORE_INVALID, perk_store_reserve(f->s, "R1", &o, 60, NULL));
    /* a time outside the skew */
    o = order_with(f, "O1", "ana", &FLASH, NULL);
    o.time = T0 - 3600;
    assert_store(f->s, PERK_STORE_INVALID, perk_store_reserve(f->s, "R1", &o, 60, NULL));
    assert_int_equal(test_sql_int(f->s, "SELECT COUNT(*) FROM reservations"), 0);
    assert_store(f->s, PERK_STORE_NOT_FOUND,
                 perk_store_reservation_get(f->s, "R1", &(perk_store_reservation_info){ 0 }));
}

/* Several handles (as perk serve's threads have) reserve and commit flash at once: at no point
 * do committed + held uses exceed 3. */
typedef struct racer {
    const char *db;
    int64_t version;
    int64_t *clock;
    int index;
    int reserved, committed;
} racer;

static void *race(void *p)
{
    racer *rc = p;
    perk_store *s = NULL;
    if (perk_store_open(rc->db, &s) != PERK_STORE_OK) return NULL;
    perk_store_set_durable(s, false);
    perk_store_set_clock(s, store_clock_fixture_now, rc->clock);
    for (int i = 0; i < 10; i++) {
        char id[32], customer[32];
        snprintf(id, sizeof id, "X%d-%d", rc->index, i);
        snprintf(customer, sizeof customer, "c%d", rc->index);
        perk_store_order o = test_order(id, customer, *rc->clock, 7000);
        o.ruleset_version = rc->version;
        o.promos = &FLASH;
        o.n_promos = 1;
        o.discount = 3000;
        perk_store_status st = (i + rc->index) % 2 ? perk_store_reserve(s, id, &o, 600, NULL)
                                                   : perk_store_commit(s, &o, NULL, NULL);
        if (st == PERK_STORE_OK && (i + rc->index) % 2)
            rc->reserved++;
        else if (st == PERK_STORE_OK)
            rc->committed++;
    }
    perk_store_close(s);
    return NULL;
}

static void test_reservations_under_concurrency(void **state)
{
    fixture *f = *state;
    enum { N = 6 };
    pthread_t t[N];
    racer rs[N];
    for (int i = 0; i < N; i++) {
        rs[i] = (racer){ f->dir.db, f->version, &f->clock, i, 0, 0 };
        assert_int_equal(pthread_create(&t[i], NULL, race, &rs[i]), 0);
    }
    int reserved = 0, committed = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        reserved += rs[i].reserved;
        committed += rs[i].committed;
    }
    assert_int_equal(reserved + committed, 3);
    assert_int_equal(test_sql_int(f->s, "SELECT COUNT(*) FROM reservations WHERE state = 'open'"), reserved);
    assert_int_equal(test_sql_int(f->s, "SELECT COUNT(*) FROM orders"), committed);
    assert_int_equal(uses_of(f, "flash", NULL), 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reservations_count_against_uses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reservations_count_against_money, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reservations_expire, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reservations_hold_coupons, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reserve_refuses_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reservations_under_concurrency, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
