/* test_store_units.c - `limit N units per customer` in the store (docs/semantics.md 5.7): the
 * units an order bought at a promotion's price count against the customer's N across orders and
 * open reservations; a full refund that releases the budget gives them back, a partial one does
 * not; 8 forked processes committing for the same customers never take more than N. */
#include "store_fixture.h"

#include <sys/wait.h>
#include <time.h>

typedef store_fixture fixture;

enum { LIMIT = 4, N_PROCS = 8, N_CUSTOMERS = 6 };

typedef struct flash_use {
    perk_store_promo_use promo;
    perk_store_promo_units units;
} flash_use;

/* An order of `units` at the price of FLASH (100.00 off each); use[1] holds its units. */
static perk_store_order flash_order(const char *id, const char *customer, int64_t time, flash_use *use,
                                    int64_t units, perk_store_order_line *line)
{
    use->promo = (perk_store_promo_use){ "FLASH", 10000 * units, -1, -1, -1 };
    use->units = (perk_store_promo_units){ units, LIMIT };
    *line = (perk_store_order_line){ "all", 10000 };
    perk_store_order o = test_order(id, customer, time, 10000);
    o.promos = &use->promo;
    o.promo_units = &use->units;
    o.n_promos = 1;
    o.lines = line;
    o.n_lines = 1;
    return o;
}

static int64_t units_of(perk_store *s, const char *customer)
{
    int64_t u = -1;
    assert_store(s, PERK_STORE_OK, perk_store_customer_units(s, "shop", "FLASH", customer, NULL, &u));
    return u;
}

static void test_units_across_orders_and_refunds(void **state)
{
    fixture *f = *state;
    perk_store *s = f->s;
    flash_use use;
    perk_store_order_line line;
    perk_store_commit_result r;
    /* 3 units at the price, then 1 more: 4 = the limit */
    perk_store_order o = flash_order("U1", "amy", 1000, &use, 3, &line);
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, NULL, NULL));
    assert_int_equal(units_of(s, "amy"), 3);
    o = flash_order("U2", "amy", 1001, &use, 1, &line);
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, NULL, NULL));
    assert_int_equal(units_of(s, "amy"), 4);
    /* a fifth is refused with the units reason, nothing written */
    o = flash_order("U3", "amy", 1002, &use, 1, &line);
    assert_store(s, PERK_STORE_BUDGET_EXCEEDED, perk_store_commit(s, &o, NULL, &r));
    assert_int_equal(r.n_failures, 1);
    assert_string_equal(r.failures[0].id, "FLASH");
    assert_int_equal(r.failures[0].reason, PERK_STORE_FAIL_UNITS);
    perk_store_commit_result_free(&r);
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM orders WHERE order_id = 'U3'"), 0);
    /* another customer has their own 4; the order's own units are not counted against a retry */
    o = flash_order("B1", "ben", 1003, &use, 4, &line);
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, NULL, NULL));
    int64_t u = -1;
    assert_store(s, PERK_STORE_OK, perk_store_customer_units(s, "shop", "FLASH", "ben", "B1", &u));
    assert_int_equal(u, 0);
    /* a partial refund keeps the allowance used */
    perk_store_refund_result rr;
    perk_store_refund_line half = { "all", 5000 };
    assert_store(s, PERK_STORE_OK, perk_store_refund(s, "U1", "RF1", &half, 1, 5000, 2000, NULL, false, &rr));
    assert_int_equal(units_of(s, "amy"), 4);
    /* a full refund that releases the budget gives U2's 1 unit back: U3 now goes through */
    assert_store(s, PERK_STORE_OK, perk_store_refund(s, "U2", "RF2", NULL, 0, 0, 2001, NULL, true, &rr));
    assert_int_equal(units_of(s, "amy"), 3);
    o = flash_order("U3", "amy", 2002, &use, 1, &line);
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, NULL, NULL));
    assert_int_equal(units_of(s, "amy"), 4);
    /* more units in one order than the limit is a caller error */
    o = flash_order("U4", "cat", 2003, &use, LIMIT + 1, &line);
    assert_store(s, PERK_STORE_INVALID, perk_store_commit(s, &o, NULL, NULL));
}

static void test_reservations_hold_units(void **state)
{
    fixture *f = *state;
    perk_store *s = f->s;
    flash_use use;
    perk_store_order_line line;
    perk_store_commit_result r;
    /* holds count until the reservation expires by the store's clock: orders of now */
    int64_t now = (int64_t)time(NULL);
    perk_store_order o = flash_order("R1", "dan", now, &use, 3, &line);
    assert_store(s, PERK_STORE_OK, perk_store_reserve(s, "RES1", &o, 600, NULL));
    assert_int_equal(units_of(s, "dan"), 3); /* held */
    flash_use use2;
    perk_store_order_line line2;
    perk_store_order o2 = flash_order("R2", "dan", now + 1, &use2, 2, &line2);
    assert_store(s, PERK_STORE_BUDGET_EXCEEDED, perk_store_commit(s, &o2, NULL, &r)); /* 3 + 2 > 4 */
    assert_int_equal(r.failures[0].reason, PERK_STORE_FAIL_UNITS);
    perk_store_commit_result_free(&r);
    bool released = false;
    assert_store(s, PERK_STORE_OK, perk_store_reservation_release(s, "RES1", &released));
    assert_true(released);
    assert_int_equal(units_of(s, "dan"), 0);
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o2, NULL, NULL));
    assert_int_equal(units_of(s, "dan"), 2);
}

/* One worker: 30 orders for random customers of 1..3 units each; refused for units, it asks the
 * store how many the customer has left and commits that many (none: without the promotion). */
static void run_worker(const char *path, int w)
{
    perk_store *s = NULL;
    if (perk_store_open(path, &s) != PERK_STORE_OK || perk_store_set_durable(s, false) != PERK_STORE_OK) _exit(2);
    pstore_trust_caller_for_tests(s);
    unsigned seed = 104729u * (unsigned)(w + 1);
    for (int n = 0; n < 30; n++) {
        seed = seed * 1103515245u + 12345u;
        char id[32], customer[16];
        snprintf(id, sizeof id, "W%d-%d", w, n);
        snprintf(customer, sizeof customer, "c%u", (seed >> 8) % N_CUSTOMERS);
        int64_t want = 1 + (int64_t)((seed >> 16) % 3);
        flash_use use;
        perk_store_order_line line;
        perk_store_order o = flash_order(id, customer, 1000000 + n, &use, want, &line);
        for (int attempt = 0;; attempt++) {
            perk_store_commit_result r;
            perk_store_status st = perk_store_commit(s, &o, NULL, &r);
            bool units_failure = st == PERK_STORE_BUDGET_EXCEEDED && r.n_failures == 1 &&
                                 r.failures[0].reason == PERK_STORE_FAIL_UNITS;
            perk_store_commit_result_free(&r);
            if (st == PERK_STORE_OK) break;
            if (attempt > 200) _exit(4);
            if (st == PERK_STORE_BUSY) continue;
            if (!units_failure) _exit(3);
            int64_t had = 0;
            if (perk_store_customer_units(s, "shop", "FLASH", customer, NULL, &had) != PERK_STORE_OK) _exit(5);
            int64_t left = LIMIT - had;
            if (left <= 0) {
                o.n_promos = 0;
            } else {
                use.units.units = left < want ? left : want;
                use.promo.discount = 10000 * use.units.units;
            }
        }
    }
    perk_store_close(s);
    _exit(0);
}

static void test_units_under_contention(void **state)
{
    fixture *f = *state;
    perk_store_close(f->s); /* the workers open their own */
    f->s = NULL;
    pid_t pids[N_PROCS];
    for (int w = 0; w < N_PROCS; w++) {
        pids[w] = fork();
        assert_true(pids[w] >= 0);
        if (pids[w] == 0) run_worker(f->dir.db, w);
    }
    for (int w = 0; w < N_PROCS; w++) {
        int status;
        assert_int_equal(waitpid(pids[w], &status, 0), pids[w]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    f->s = test_open(f->dir.db);
    perk_store *s = f->s;
    /* every order committed once; no customer above the limit; 240 orders wanting 1..3 units
     * (480 on average) for 6 customers of 4: every customer reached exactly 4 */
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM orders"), N_PROCS * 30);
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM (SELECT customer_id FROM budget_uses WHERE "
                                     "promo_id = 'FLASH' GROUP BY customer_id HAVING SUM(units) > %d) t",
                                  LIMIT),
                     0);
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM (SELECT customer_id FROM budget_uses WHERE "
                                     "promo_id = 'FLASH' GROUP BY customer_id HAVING SUM(units) = %d) t",
                                  LIMIT),
                     N_CUSTOMERS);
    assert_int_equal(test_sql_int(s, "SELECT SUM(units) FROM budget_uses WHERE promo_id = 'FLASH'"),
                     N_CUSTOMERS * LIMIT);
    /* discounts follow the units: 100.00 per unit */
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM budget_uses WHERE discount <> 10000 * units"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_units_across_orders_and_refunds, store_fixture_setup,
                                        store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_reservations_hold_units, store_fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_units_under_contention, store_fixture_setup, store_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
