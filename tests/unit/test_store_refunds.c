/* test_store_refunds.c - refunds and cancellations: proportional point reversal (hand-checked),
 * idempotency, shortfall debts and their collection, redeemed points given back, budget and
 * coupon release, pending and expired points, tier changes. */
#include "store_fixture.h"

#define DAY 86400

typedef store_fixture fixture;

/* Commits an order earning `points` (one line) and redeeming `redeem`. */
static void commit(perk_store *s, const char *id, const char *customer, int64_t time, int64_t payable,
                   int64_t points, int64_t redeem, const perk_store_policy *p)
{
    perk_store_points_line e = { "rule", points };
    perk_store_order_line line = { "all", payable }; /* one line: everything paid */
    perk_store_order o = test_order(id, customer, time, payable);
    o.lines = &line;
    o.n_lines = 1;
    o.earned = &e;
    o.n_earned = points ? 1 : 0;
    o.points_redeemed = redeem;
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, p, NULL));
}

static void test_proportional_reversal(void **state)
{
    fixture *f = *state;
    perk_store *s = f->s;
    commit(s, "O1", "ann", 0, 3000, 100, 0, NULL);
    perk_store_refund_result r;
    perk_store_refund_line line = { "all", 1000 };
    /* Refund 1000 of 3000: keeps floor(100 * 2000 / 3000) = 66, reverses 34. */
    assert_store(s, PERK_STORE_OK, perk_store_refund(s, "O1", "RF1", &line, 1, 1000, 10, NULL, true, &r));
    assert_int_equal(r.amount, 1000);
    assert_int_equal(r.refunded_total, 1000);
    assert_false(r.full);
    assert_int_equal(r.points_reversed, 34);
    assert_int_equal(test_points(s, "ann", 10, NULL).balance, 66);
    /* Another 1000: keeps floor(100 * 1000 / 3000) = 33, so 66 - 33 = 33 more. */
    assert_store(s, PERK_STORE_OK, perk_store_refund(s, "O1", "RF2", &line, 1, 0, 20, NULL, true, &r));
    assert_int_equal(r.points_reversed, 33);
    assert_int_equal(r.refunded_total, 2000);
    assert_int_equal(test_points(s, "ann", 20, NULL).balance, 33);
    /* The rest (whole order): keeps 0, reverses the last 33; 34 + 33 + 33 = 100. */
    assert_store(s, PERK_STORE_OK, perk_store_refund(s, "O1", "RF3", NULL, 0, 0, 30, NULL, true, &r));
    assert_int_equal(r.amount, 1000);
    assert_true(r.full);
    assert_int_equal(r.points_reversed, 33);
    assert_int_equal(test_points(s, "ann", 30, NULL).balance, 0);
    assert_int_equal(test_sql_int(s, "SELECT SUM(points) FROM ledger WHERE kind='reverse'"), -100);
    /* Fully refunded: nothing more. */
    assert_store(s, PERK_STORE_INVALID, perk_store_refund(s, "O1", "RF4", NULL, 0, 0, 40, NULL, true, &r));
    test_events ev;
    test_events_read(s, 0, &ev);
    assert_non_null(strstr(ev.text, "order.refunded {\"amount\":1000,\"budget_released\":false,"
                                    "\"customer_id\":\"ann\",\"full\":false,\"lines\":[{\"amount\":"
                                    "1000,\"line_id\":\"all\"}],\"order_id\":\"O1\",\"payable\":3000,"
                                    "\"points_expired_part\":0,\"points_returned\":0,"
                                    "\"points_reversed\":34,\"points_shortfall\":0,\"refund_id\":"
                                    "\"RF1\",\"refunded_total\":1000,\"time\":10}"));
    test_events_free(&ev);
}

static void test_refund_idempotent_and_invalid(void **state)
{
    fixture *f = *state;
    perk_store *s = f->s;
    commit(s, "O2", "bea", 0, 1000, 10, 0, NULL);
    perk_store_refund_result r1, r2;
    assert_store(s, PERK_STORE_OK, perk_store_refund(s, "O2", "X", NULL, 0, 0, 5, NULL, true, &r1));
    long long entries = test_sql_int(s, "SELECT COUNT(*) FROM ledger");
    long long events = test_sql_int(s, "SELECT COUNT(*) FROM events");
    assert_store(s, PERK_STORE_OK, perk_store_refund(s, "O2", "X", NULL, 0, 0, 99, NULL, true, &r2));
    assert_true(r2.replay);
    assert_int_equal(r2.amount, r1.amount);
    assert_int_equal(r2.refunded_total, 1000);
    assert_int_equal(r2.points_reversed, 10);
    assert_true(r2.full);
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM ledger"), entries);
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM events"), events);
    /* Same id, different content. */
    perk_store_refund_line line = { "l", 5 };
    assert_store(s, PERK_STORE_CONFLICT, perk_store_refund(s, "O2", "X", &line, 1, 5, 99, NULL, true, &r2));

    commit(s, "O3", "bea", 0, 1000, 10, 0, NULL);
    assert_store(s, PERK_STORE_NOT_FOUND, perk_store_refund(s, "NOPE", "Y", NULL, 0, 0, 5, NULL, true, &r2));
    line.amount = 1001;
    assert_store(s, PERK_STORE_INVALID, perk_store_refund(s, "O3", "Y", &line, 1, 0, 5, NULL, true, &r2));
    line.amount = 10;
    assert_store(s, PERK_STORE_INVALID, perk_store_refund(s, "O3", "Y", &line, 1, 11, 5, NULL, true, &r2));
    line.amount = 0;
    assert_store(s, PERK_STORE_INVALID, perk_store_refund(s, "O3", "Y", &line, 1, 0, 5, NULL, true, &r2));
    assert_store(s, PERK_STORE_INVALID, perk_store_refund(s, "O3", "Y", NULL, 0, 999, 5, NULL, true, &r2));
    assert_store(s, PERK_STORE_INVALID, perk_store_refund(s, "O3", "", NULL, 0, 0, 5, NULL, true, &r2));
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM refunds WHERE order_id='O3'"), 0);
}

/* Item 3 of "the store trusts nothing a caller claims": perk_store_refund accepted line L1
 * three times for 90.00 against 79.33 paid, and an unknown line id. Lines are now checked
 * against what the order recorded; partial refunds add up to the paid amount to the cent. */
static void test_refund_lines_are_checked(void **state)
{
    fixture *f = *state;
    perk_store *s = f->s;
    perk_store_points_line e = { "rule", 100 };
    perk_store_order_line lines[] = { { "L1", 7933 }, { "L2", 2000 } };
    perk_store_order o = test_order("OL", "lin", 0, 10000);
    o.subtotal = 9933;
    o.shipping = 67; /* 7933 + 2000 + 67 = 10000 payable */
    o.lines = lines;
    o.n_lines = 2;
    o.earned = &e;
    o.n_earned = 1;
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, NULL, NULL));
    perk_store_refund_result r;
    perk_store_refund_line l1 = { "L1", 3000 };
    /* 30.00 twice: 6000 of 7933 */
    assert_store(s, PERK_STORE_OK, perk_store_refund(s, "OL", "R1", &l1, 1, 0, 1, NULL, true, &r));
    assert_int_equal(r.points_reversed, 30); /* keeps floor(100 * 7000 / 10000) = 70 */
    assert_store(s, PERK_STORE_OK, perk_store_refund(s, "OL", "R2", &l1, 1, 0, 2, NULL, true, &r));
    assert_int_equal(r.refunded_total, 6000);
    assert_int_equal(r.points_reversed, 30); /* keeps floor(100 * 4000 / 10000) = 40 */
    /* a third 30.00: only 19.33 of L1 is left */
    assert_store(s, PERK_STORE_INVALID, perk_store_refund(s, "OL", "R3", &l1, 1, 0, 3, NULL, true, &r));
    assert_string_equal(perk_store_errmsg(s),
                        "refund R3: line L1 of order OL was paid 7933 and 6000 of it is already refunded; "
                        "at most 1933 more can be refunded, not 3000");
    /* an unknown line */
    perk_store_refund_line bad = { "L9", 1 };
    assert_store(s, PERK_STORE_INVALID, perk_store_refund(s, "OL", "R3", &bad, 1, 0, 3, NULL, true, &r));
    assert_string_equal(perk_store_errmsg(s),
                        "refund R3: order OL has no line L9; use the line ids the order was committed with");
    /* a line named twice in one refund (1000 + 933 would fit: still refused) */
    perk_store_refund_line twice[] = { { "L1", 1000 }, { "L1", 933 } };
    assert_store(s, PERK_STORE_INVALID, perk_store_refund(s, "OL", "R3", twice, 2, 0, 3, NULL, true, &r));
    assert_string_equal(perk_store_errmsg(s),
                        "refund R3 names line L1 twice; give each line once with the whole "
                        "amount refunded on it");
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM refunds WHERE refund_id = 'R3'"), 0);
    /* exactly the rest of L1, then L2, then the shipping left: 10000 to the cent */
    l1.amount = 1933;
    assert_store(s, PERK_STORE_OK, perk_store_refund(s, "OL", "R3", &l1, 1, 1933, 3, NULL, true, &r));
    assert_int_equal(r.refunded_total, 7933);
    assert_int_equal(r.points_reversed, 20); /* keeps floor(100 * 2067 / 10000) = 20 */
    l1.amount = 1;
    assert_store(s, PERK_STORE_INVALID, perk_store_refund(s, "OL", "R4", &l1, 1, 0, 4, NULL, true, &r));
    perk_store_refund_line l2 = { "L2", 2000 };
    assert_store(s, PERK_STORE_OK, perk_store_refund(s, "OL", "R4", &l2, 1, 0, 4, NULL, true, &r));
    assert_int_equal(r.refunded_total, 9933);
    assert_false(r.full);
    assert_int_equal(r.points_reversed, 20); /* keeps floor(100 * 67 / 10000) = 0 */
    assert_store(s, PERK_STORE_OK, perk_store_refund(s, "OL", "R5", NULL, 0, 67, 5, NULL, true, &r));
    assert_int_equal(r.amount, 67);
    assert_int_equal(r.refunded_total, 10000);
    assert_true(r.full);
    assert_int_equal(r.points_reversed, 0);
    assert_int_equal(test_sql_int(s, "SELECT SUM(amount) FROM refunds WHERE order_id = 'OL'"), 10000);
    assert_int_equal(test_points(s, "lin", 5, NULL).balance, 0);
    /* an order committed without lines is refunded as a whole only */
    commit(s, "NL", "lin", 0, 500, 0, 0, NULL);
    test_sql_exec(s, "DELETE FROM order_lines WHERE order_id = 'NL'");
    perk_store_refund_line any = { "all", 100 };
    assert_store(s, PERK_STORE_INVALID, perk_store_refund(s, "NL", "R6", &any, 1, 0, 6, NULL, true, &r));
    assert_store(s, PERK_STORE_OK, perk_store_refund(s, "NL", "R6", NULL, 0, 0, 6, NULL, true, &r));
    assert_int_equal(r.amount, 500);
}

static void test_shortfall_becomes_debt(void **state)
{
    fixture *f = *state;
    perk_store *s = f->s;
    commit(s, "A", "cy", 0, 1000, 100, 0, NULL); /* earns 100 */
    commit(s, "B", "cy", 10, 500, 0, 80, NULL);  /* redeems 80 -> balance 20 */
    perk_store_refund_result r;
    /* Cancel A: 100 to reverse, only the 20 left of A's points exist; 80 become debt. */
    assert_store(s, PERK_STORE_OK, perk_store_refund(s, "A", "RA", NULL, 0, 0, 20, NULL, true, &r));
    assert_int_equal(r.points_reversed, 20);
    assert_int_equal(r.points_shortfall, 80);
    perk_store_points_summary p = test_points(s, "cy", 20, NULL);
    assert_int_equal(p.balance, 0); /* never negative */
    assert_int_equal(p.debt, 80);
    assert_int_equal(test_sql_int(s, "SELECT points FROM points_debts"), 80);
    /* The next 50 earned go to the debt: balance 0, debt 30. */
    perk_store_points_line e = { "rule", 50 };
    perk_store_order o = test_order("D", "cy", 30, 500);
    o.earned = &e;
    o.n_earned = 1;
    perk_store_commit_result cr;
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, NULL, &cr));
    assert_int_equal(cr.debt_collected, 50);
    assert_int_equal(cr.balance, 0);
    p = test_points(s, "cy", 30, NULL);
    assert_int_equal(p.debt, 30);
    assert_int_equal(p.balance, 0);
    /* Then 100 more: 30 to the debt, 70 kept. */
    e.points = 100;
    o.order_id = "E";
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, NULL, &cr));
    assert_int_equal(cr.debt_collected, 30);
    p = test_points(s, "cy", 30, NULL);
    assert_int_equal(p.debt, 0);
    assert_int_equal(p.balance, 70); /* 100 - 80 - 20 + 50 - 50 + 100 - 30 */
    assert_int_equal(test_sql_int(s, "SELECT SUM(points) FROM ledger WHERE customer_id='cy'"), 70);
    test_events ev;
    test_events_read(s, 0, &ev);
    assert_non_null(strstr(ev.text, "\"reason\":\"refund\",\"redeemed\":0,\"refund_id\":\"RA\","
                                    "\"returned\":0,\"reversed\":20,\"shortfall\":80"));
    test_events_free(&ev);
}

static void test_cancel_returns_redeemed_and_releases(void **state)
{
    fixture *f = *state;
    perk_store *s = f->s;
    assert_store(s, PERK_STORE_OK, perk_store_coupon_add(s, "ONE", "c", 0, 1, 0, NULL, 0));
    commit(s, "A", "dee", 0, 2000, 200, 0, NULL); /* 200 */
    perk_store_promo_use promo = { "P", 300, 1, 300, 1 };
    const char *codes[] = { "ONE" };
    perk_store_points_line e = { "rule", 10 };
    perk_store_order o = test_order("B", "dee", 5, 500);
    perk_store_order_line order_line = { "x", 500 };
    o.lines = &order_line;
    o.n_lines = 1;
    o.promos = &promo;
    o.n_promos = 1;
    o.coupons = codes;
    o.n_coupons = 1;
    o.earned = &e;
    o.n_earned = 1;
    o.points_redeemed = 50;
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, NULL, NULL));
    assert_int_equal(test_points(s, "dee", 5, NULL).balance, 160); /* 200 - 50 + 10 */
    /* A partial refund of B releases nothing. */
    perk_store_refund_line line = { "x", 100 };
    perk_store_refund_result r;
    assert_store(s, PERK_STORE_OK, perk_store_refund(s, "B", "B1", &line, 1, 100, 6, NULL, true, &r));
    assert_false(r.budget_released);
    assert_int_equal(r.points_reversed, 2); /* keeps floor(10 * 400 / 500) = 8 */
    int64_t uses, money, cu;
    assert_store(s, PERK_STORE_OK, perk_store_budget_usage(s, "shop", "P", "dee", &uses, &money, &cu));
    assert_int_equal(uses, 1);
    /* The rest cancels B: reverses 8 more, gives the 50 redeemed back, releases the uses. */
    assert_store(s, PERK_STORE_OK, perk_store_refund(s, "B", "B2", NULL, 0, 0, 7, NULL, true, &r));
    assert_true(r.full);
    assert_int_equal(r.points_reversed, 8);
    assert_int_equal(r.points_returned, 50);
    assert_true(r.budget_released);
    assert_int_equal(test_points(s, "dee", 7, NULL).balance, 200); /* 160 - 2 - 8 + 50 */
    assert_store(s, PERK_STORE_OK, perk_store_budget_usage(s, "shop", "P", "dee", &uses, &money, &cu));
    assert_int_equal(uses, 0);
    assert_int_equal(money, 0);
    assert_int_equal(cu, 0);
    perk_store_coupon_info info;
    assert_store(s, PERK_STORE_OK, perk_store_coupon_check(s, "ONE", "dee", 8, &info));
    assert_int_equal(info.status, PERK_STORE_COUPON_VALID);
    assert_int_equal(info.uses, 0);
    /* The released budget and coupon can be used again. */
    o.order_id = "C";
    o.points_redeemed = 0;
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, NULL, NULL));
    /* Totals equal the use rows. */
    assert_int_equal(
        test_sql_int(s, "SELECT uses FROM budget_totals WHERE promo_id='P'"),
        test_sql_int(s, "SELECT COUNT(*) FROM budget_uses WHERE promo_id='P' AND released_at IS NULL"));
}

static void test_cancel_without_release(void **state)
{
    fixture *f = *state;
    perk_store *s = f->s;
    perk_store_promo_use promo = { "P", 100, 5, -1, -1 };
    perk_store_order o = test_order("A", "eli", 0, 1000);
    o.promos = &promo;
    o.n_promos = 1;
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, NULL, NULL));
    perk_store_refund_result r;
    assert_store(s, PERK_STORE_OK, perk_store_refund(s, "A", "R", NULL, 0, 0, 1, NULL, false, &r));
    assert_true(r.full);
    assert_false(r.budget_released);
    int64_t uses;
    assert_store(s, PERK_STORE_OK, perk_store_budget_usage(s, "shop", "P", NULL, &uses, NULL, NULL));
    assert_int_equal(uses, 1);
}

static void test_reverse_pending_points(void **state)
{
    fixture *f = *state;
    perk_store *s = f->s;
    perk_store_policy policy = { .pending_seconds = 14 * DAY };
    commit(s, "P1", "fin", 0, 1000, 100, 0, &policy);
    commit(s, "P0", "fin", -100 * DAY, 1000, 30, 0, NULL); /* 30 available long ago */
    perk_store_refund_result r;
    assert_store(s, PERK_STORE_OK, perk_store_refund(s, "P1", "R", NULL, 0, 0, DAY, &policy, true, &r));
    assert_int_equal(r.points_reversed, 100);
    assert_int_equal(r.points_shortfall, 0);
    perk_store_points_summary p = test_points(s, "fin", DAY, NULL);
    assert_int_equal(p.pending, 0);  /* the pending 100 are gone */
    assert_int_equal(p.balance, 30); /* the other points untouched */
    p = test_points(s, "fin", 20 * DAY, NULL);
    assert_int_equal(p.balance, 30);
}

static void test_reverse_expired_points(void **state)
{
    fixture *f = *state;
    perk_store *s = f->s;
    perk_store_policy policy = { .expire_seconds = 10 };
    commit(s, "E1", "gil", 0, 1000, 100, 0, &policy); /* expires at 10 */
    commit(s, "E2", "gil", 15, 1000, 40, 0, &policy); /* available 15..25 */
    perk_store_refund_result r;
    /* At 20: E1's 100 expired unused. Reversing them takes nothing and makes no debt. */
    assert_store(s, PERK_STORE_OK, perk_store_refund(s, "E1", "R", NULL, 0, 0, 20, &policy, true, &r));
    assert_int_equal(r.points_reversed, 0);
    assert_int_equal(r.points_expired_part, 100);
    assert_int_equal(r.points_shortfall, 0);
    perk_store_points_summary p = test_points(s, "gil", 20, NULL);
    assert_int_equal(p.balance, 40);
    assert_int_equal(p.debt, 0);
}

static void test_zero_payable_and_tiers(void **state)
{
    fixture *f = *state;
    perk_store *s = f->s;
    perk_store_tier tiers[] = { { "silver", 10000, 0 } };
    perk_store_policy policy = { .tiers = tiers, .n_tiers = 1 };
    commit(s, "Z", "hui", 0, 0, 25, 0, &policy);
    perk_store_refund_result r;
    /* Nothing was paid: a whole-order refund of 0 reverses every point. */
    assert_store(s, PERK_STORE_OK, perk_store_refund(s, "Z", "RZ", NULL, 0, 0, 1, &policy, true, &r));
    assert_true(r.full);
    assert_int_equal(r.points_reversed, 25);
    commit(s, "BIG", "hui", 2, 12000, 0, 0, &policy);
    assert_string_equal(test_points(s, "hui", 2, NULL).tier, "silver");
    perk_store_refund_line line = { "all", 5000 };
    /* 12000 - 5000 = 7000 < 10000: down to no tier. */
    assert_store(s, PERK_STORE_OK, perk_store_refund(s, "BIG", "RB", &line, 1, 0, 3, &policy, true, &r));
    assert_true(r.tier_changed);
    assert_string_equal(r.tier, "");
    test_events ev;
    test_events_read(s, 0, &ev);
    assert_non_null(strstr(ev.text, "tier.changed {\"customer_id\":\"hui\",\"direction\":\"down\","
                                    "\"from\":\"silver\",\"reason\":\"refund\",\"time\":3,\"to\":null}"));
    test_events_free(&ev);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_proportional_reversal, store_fixture_setup,
                                        store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_refund_idempotent_and_invalid, store_fixture_setup,
                                        store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_refund_lines_are_checked, store_fixture_setup,
                                        store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_shortfall_becomes_debt, store_fixture_setup,
                                        store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_cancel_returns_redeemed_and_releases, store_fixture_setup,
                                        store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_cancel_without_release, store_fixture_setup,
                                        store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_reverse_pending_points, store_fixture_setup,
                                        store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_reverse_expired_points, store_fixture_setup,
                                        store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_zero_payable_and_tiers, store_fixture_setup,
                                        store_fixture_teardown),
    };
    return cmocka_run_group_tests_name("store_refunds", tests, NULL, NULL);
}
