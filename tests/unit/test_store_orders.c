/* test_store_orders.c - committing orders: idempotency, budgets, coupons, points (earning,
 * pending, redeeming, FIFO expiry), tiers and events, with hand-checked arithmetic. */
#include "store_fixture.h"

#define DAY 86400

typedef store_fixture fixture;

static void test_commit_basic(void **state)
{
    fixture *f = *state;
    perk_store *s = f->s;
    perk_store_points_line earned[] = { { "welcome", 100 }, { "double", 50 }, { "zero", 0 } };
    perk_store_order o = test_order("A1", "alice", 1000, 9000);
    o.subtotal = 10000;
    o.discount = 1500;
    o.shipping = 500; /* 10000 - 1500 + 500 = 9000 payable */
    o.earned = earned;
    o.n_earned = 3;
    o.order_json = "{\"lines\": [{\"sku\": \"tea\", \"qty\": 2}]}";
    perk_store_commit_result r;
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, NULL, &r));
    assert_false(r.replay);
    assert_int_equal(r.points_earned, 150); /* 100 + 50 + 0 */
    assert_int_equal(r.balance, 150);       /* no pending period: available at once */
    assert_int_equal(r.pending, 0);
    assert_int_equal(r.available_at, 1000);
    assert_true(r.event_id > 0);
    perk_store_commit_result_free(&r);

    /* Two earn entries (the 0-point line writes nothing), one order row. */
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM ledger WHERE order_id='A1' AND kind='earn'"), 2);
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM orders"), 1);
    perk_store_points_summary p = test_points(s, "alice", 1000, NULL);
    assert_int_equal(p.balance, 150);

    test_events ev;
    test_events_read(s, 0, &ev);
    assert_int_equal(ev.count, 2); /* order.committed, points.changed */
    /* The whole event, keys sorted, compact; order_json embedded as an object. */
    assert_string_equal(
        ev.text, "order.committed {\"coupons\":[],\"currency\":\"CNY\",\"customer_id\":\"alice\","
                 "\"discount\":1500,\"order\":{\"lines\":[{\"qty\":2,\"sku\":\"tea\"}]},\"order_id\":\"A1\","
                 "\"payable\":9000,\"points\":{\"available_at\":1000,\"debt_collected\":0,\"earned\":150,"
                 "\"redeemed\":0},\"promos\":[],\"ruleset\":\"shop\",\"ruleset_version\":1,\"shipping\":500,"
                 "\"subtotal\":10000,\"time\":1000}\n"
                 "points.changed {\"balance\":150,\"customer_id\":\"alice\",\"debt\":0,\"debt_collected\":0,"
                 "\"earned\":150,\"expired\":0,\"order_id\":\"A1\",\"pending\":0,\"reason\":\"order\","
                 "\"redeemed\":0,\"refund_id\":null,\"returned\":0,\"reversed\":0,\"shortfall\":0,"
                 "\"time\":1000}\n");
    test_events_free(&ev);
}

static void test_commit_idempotent(void **state)
{
    fixture *f = *state;
    perk_store *s = f->s;
    perk_store_points_line earned[] = { { "r1", 70 } };
    perk_store_order o = test_order("A2", "bob", 2000, 5000);
    o.earned = earned;
    o.n_earned = 1;
    o.order_json = "{\"a\": 1, \"b\": [1, 2]}";
    perk_store_commit_result r1, r2;
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, NULL, &r1));
    long long events = test_sql_int(s, "SELECT COUNT(*) FROM events");
    long long entries = test_sql_int(s, "SELECT COUNT(*) FROM ledger");

    /* Same content, different JSON spelling: a replay returning the first outcome. */
    o.order_json = "{\"b\":[1,2],\"a\":1}";
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, NULL, &r2));
    assert_true(r2.replay);
    assert_int_equal(r2.event_id, r1.event_id);
    assert_int_equal(r2.points_earned, 70);
    assert_int_equal(r2.balance, r1.balance);
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM events"), events);
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM ledger"), entries);

    /* Same id, other content: conflict, nothing written. */
    o.payable = 5001;
    assert_store(s, PERK_STORE_CONFLICT, perk_store_commit(s, &o, NULL, &r2));
    assert_non_null(strstr(perk_store_errmsg(s), "A2"));
    o.payable = 5000;
    earned[0].points = 71;
    assert_store(s, PERK_STORE_CONFLICT, perk_store_commit(s, &o, NULL, NULL));
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM events"), events);
    perk_store_commit_result_free(&r1);
    perk_store_commit_result_free(&r2);
}

static void test_budget_uses_limit(void **state)
{
    fixture *f = *state;
    perk_store *s = f->s;
    perk_store_promo_use promo = { "P2", 100, 2, -1, -1 };
    char id[16];
    for (int i = 0; i < 2; i++) {
        snprintf(id, sizeof id, "U%d", i);
        perk_store_order o = test_order(id, i ? "c1" : "c0", 100, 1000);
        o.promos = &promo;
        o.n_promos = 1;
        assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, NULL, NULL));
    }
    long long events = test_sql_int(s, "SELECT COUNT(*) FROM events");
    perk_store_order o = test_order("U2", "c2", 100, 1000);
    o.promos = &promo;
    o.n_promos = 1;
    perk_store_commit_result r;
    assert_store(s, PERK_STORE_BUDGET_EXCEEDED, perk_store_commit(s, &o, NULL, &r));
    assert_int_equal(r.n_failures, 1);
    assert_string_equal(r.failures[0].id, "P2");
    assert_int_equal(r.failures[0].reason, PERK_STORE_FAIL_USES);
    assert_non_null(strstr(perk_store_errmsg(s), "promotion P2"));
    perk_store_commit_result_free(&r);
    /* Nothing written: no order, no event, budget unchanged. */
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM orders WHERE order_id='U2'"), 0);
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM events"), events);
    int64_t uses, money, cu;
    assert_store(s, PERK_STORE_OK, perk_store_budget_usage(s, "shop", "P2", "c0", &uses, &money, &cu));
    assert_int_equal(uses, 2);
    assert_int_equal(money, 200); /* 2 x 100 */
    assert_int_equal(cu, 1);
    /* Re-evaluated without the promotion: commits. */
    o.n_promos = 0;
    o.promos = NULL;
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, NULL, NULL));
    /* Budgets are per rule set: another rule set's P2 is untouched. */
    o = test_order("U3", "c3", 100, 1000);
    o.ruleset = "other";
    o.promos = &promo;
    o.n_promos = 1;
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, NULL, NULL));
}

static void test_budget_money_and_customer(void **state)
{
    fixture *f = *state;
    perk_store *s = f->s;
    perk_store_promo_use money = { "M", 600, -1, 1000, -1 };
    perk_store_promo_use percust = { "PC", 10, -1, -1, 1 };
    perk_store_order o = test_order("M1", "x", 1, 5000);
    o.promos = &money;
    o.n_promos = 1;
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, NULL, NULL));
    money.discount = 400; /* 600 + 400 = 1000 <= 1000: fits exactly */
    o.order_id = "M2";
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, NULL, NULL));
    money.discount = 1; /* 1000 + 1 > 1000 */
    o.order_id = "M3";
    perk_store_commit_result r;
    assert_store(s, PERK_STORE_BUDGET_EXCEEDED, perk_store_commit(s, &o, NULL, &r));
    assert_int_equal(r.failures[0].reason, PERK_STORE_FAIL_MONEY);
    perk_store_commit_result_free(&r);
    /* A zero discount still fits a full money budget. */
    money.discount = 0;
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, NULL, NULL));

    o = test_order("PC1", "x", 1, 100);
    o.promos = &percust;
    o.n_promos = 1;
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, NULL, NULL));
    o.order_id = "PC2";
    assert_store(s, PERK_STORE_BUDGET_EXCEEDED, perk_store_commit(s, &o, NULL, &r));
    assert_int_equal(r.failures[0].reason, PERK_STORE_FAIL_PER_CUSTOMER);
    perk_store_commit_result_free(&r);
    o.customer_id = "y";
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, NULL, NULL));
    /* A limit of 0 never allows the promotion. */
    perk_store_promo_use never = { "N", 0, 0, -1, -1 };
    o = test_order("N1", "x", 1, 100);
    o.promos = &never;
    o.n_promos = 1;
    assert_store(s, PERK_STORE_BUDGET_EXCEEDED, perk_store_commit(s, &o, NULL, NULL));
}

static void test_coupons_in_orders(void **state)
{
    fixture *f = *state;
    perk_store *s = f->s;
    assert_store(s, PERK_STORE_OK, perk_store_coupon_add(s, "ONCE", "spring", 0, 1, 0, NULL, 0));
    assert_store(s, PERK_STORE_OK, perk_store_coupon_add(s, "OLD", "spring", 500, 0, 0, NULL, 0));
    assert_store(s, PERK_STORE_OK, perk_store_coupon_add(s, "VIP", "vip", 0, 0, 0, "carol", 0));
    perk_store_promo_use promo = { "P", 5, 0, -1, -1 }; /* exhausted from the start */
    const char *codes[] = { "once", "old", "vip" };
    perk_store_order o = test_order("K1", "dave", 1000, 100);
    o.coupons = codes;
    o.n_coupons = 3;
    o.promos = &promo;
    o.n_promos = 1;
    perk_store_commit_result r;
    assert_store(s, PERK_STORE_BUDGET_EXCEEDED, perk_store_commit(s, &o, NULL, &r));
    /* Every failure listed: the promo, the expired and the restricted coupon. */
    assert_int_equal(r.n_failures, 3);
    assert_string_equal(r.failures[0].id, "P");
    assert_string_equal(r.failures[1].id, "OLD");
    assert_int_equal(r.failures[1].coupon_status, PERK_STORE_COUPON_EXPIRED);
    assert_string_equal(r.failures[2].id, "VIP");
    assert_int_equal(r.failures[2].coupon_status, PERK_STORE_COUPON_NOT_FOR_CUSTOMER);
    perk_store_commit_result_free(&r);
    o.n_promos = 0;
    o.n_coupons = 1;
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, NULL, NULL));
    perk_store_coupon_info info;
    assert_store(s, PERK_STORE_OK, perk_store_coupon_check(s, "ONCE", "erin", 1000, &info));
    assert_int_equal(info.status, PERK_STORE_COUPON_USED_UP);
    assert_int_equal(info.uses, 1);
    o.order_id = "K2";
    assert_store(s, PERK_STORE_BUDGET_EXCEEDED, perk_store_commit(s, &o, NULL, &r));
    assert_int_equal(r.failures[0].coupon_status, PERK_STORE_COUPON_USED_UP);
    perk_store_commit_result_free(&r);
    /* The restricted coupon works for its customer. */
    o = test_order("K3", "carol", 1000, 100);
    o.coupons = codes + 2;
    o.n_coupons = 1;
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, NULL, NULL));
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM coupon_uses"), 2);
}

static void test_redeem_and_pending(void **state)
{
    fixture *f = *state;
    perk_store *s = f->s;
    perk_store_policy policy = { .pending_seconds = 14 * DAY };
    perk_store_points_line earn = { "base", 300 };
    perk_store_order o = test_order("R1", "eve", 0, 3000);
    o.earned = &earn;
    o.n_earned = 1;
    perk_store_commit_result r;
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, &policy, &r));
    assert_int_equal(r.available_at, 14 * DAY);
    assert_int_equal(r.balance, 0);
    assert_int_equal(r.pending, 300);
    perk_store_points_summary p = test_points(s, "eve", DAY, NULL);
    assert_int_equal(p.balance, 0);
    assert_int_equal(p.pending, 300);

    /* Pending points cannot be redeemed. */
    o = test_order("R2", "eve", DAY, 1000);
    o.points_redeemed = 100;
    assert_store(s, PERK_STORE_INSUFFICIENT_POINTS, perk_store_commit(s, &o, &policy, &r));
    assert_int_equal(r.points_available, 0);
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM orders WHERE order_id='R2'"), 0);

    /* After 14 days: 300 available; redeem 120 -> 180. */
    o.time = 14 * DAY;
    o.points_redeemed = 120;
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, &policy, &r));
    assert_int_equal(r.balance, 180); /* 300 - 120 */
    assert_store(s, PERK_STORE_INSUFFICIENT_POINTS,
                 perk_store_commit(s,
                                   &(perk_store_order){ .order_id = "R3",
                                                        .customer_id = "eve",
                                                        .ruleset = "shop",
                                                        .time = 14 * DAY,
                                                        .currency = "CNY",
                                                        .points_redeemed = 181 },
                                   &policy, &r));
    assert_int_equal(r.points_available, 180);
    assert_non_null(strstr(perk_store_errmsg(s), "181"));
    p = test_points(s, "eve", 14 * DAY, NULL);
    assert_int_equal(p.balance, 180);
    assert_int_equal(p.pending, 0);
    assert_int_equal(test_sql_int(s, "SELECT SUM(points) FROM ledger WHERE customer_id='eve'"), 180);
}

static void test_fifo_expiry(void **state)
{
    fixture *f = *state;
    perk_store *s = f->s;
    perk_store_policy policy = { .pending_seconds = 0, .expire_seconds = 100 };
    perk_store_points_line e100 = { "r", 100 }, e60 = { "r", 60 };
    perk_store_order o = test_order("F1", "fay", 0, 1000); /* lot A: 100, expires at 100 */
    o.earned = &e100;
    o.n_earned = 1;
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, &policy, NULL));
    o = test_order("F2", "fay", 50, 600); /* lot B: 60, expires at 150 */
    o.earned = &e60;
    o.n_earned = 1;
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, &policy, NULL));
    /* Redeem 120 at 60: oldest first, 100 from A and 20 from B; B keeps 40. */
    o = test_order("F3", "fay", 60, 100);
    o.points_redeemed = 120;
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, &policy, NULL));
    perk_store_points_summary p = test_points(s, "fay", 60, NULL);
    assert_int_equal(p.balance, 40);       /* 100 + 60 - 120 */
    assert_int_equal(p.expiring_soon, 40); /* B expires at 150, within 30 days */
    assert_int_equal(p.next_expiry_at, 150);
    /* At 120 lot A has expired, but it was fully spent: nothing to write off. */
    int64_t expired = -1, customers = -1;
    assert_store(s, PERK_STORE_OK, perk_store_expire_points(s, 120, NULL, &expired, &customers));
    assert_int_equal(expired, 0);
    assert_int_equal(customers, 0);
    /* At 160 the 40 left of B have expired: the balance shows it before the job runs. */
    p = test_points(s, "fay", 160, NULL);
    assert_int_equal(p.balance, 0);
    assert_store(s, PERK_STORE_OK, perk_store_expire_points(s, 160, NULL, &expired, &customers));
    assert_int_equal(expired, 40);
    assert_int_equal(customers, 1);
    /* Idempotent. */
    assert_store(s, PERK_STORE_OK, perk_store_expire_points(s, 160, NULL, &expired, &customers));
    assert_int_equal(expired, 0);
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM ledger WHERE kind='expire'"), 1);
    assert_int_equal(test_sql_int(s, "SELECT points FROM ledger WHERE kind='expire'"), -40);
    /* 100 + 60 - 120 - 40 = 0 */
    assert_int_equal(test_sql_int(s, "SELECT SUM(points) FROM ledger WHERE customer_id='fay'"), 0);
    p = test_points(s, "fay", 160, NULL);
    assert_int_equal(p.balance, 0);
    test_events ev;
    test_events_read(s, 0, &ev);
    assert_non_null(strstr(ev.text, "\"expired\":40"));
    assert_non_null(strstr(ev.text, "\"reason\":\"expire\""));
    test_events_free(&ev);
}

static void test_expiry_written_at_commit(void **state)
{
    fixture *f = *state;
    perk_store *s = f->s;
    perk_store_policy policy = { .pending_seconds = 10, .expire_seconds = 40 * DAY };
    perk_store_points_line e = { "r", 500 };
    perk_store_order o = test_order("X1", "gus", 0, 5000);
    o.earned = &e;
    o.n_earned = 1;
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, &policy, NULL));
    /* Available at 10, expires at 10 + 40 days. 35 days before that: not expiring soon. */
    perk_store_points_summary p = test_points(s, "gus", 10 + 5 * DAY, NULL);
    assert_int_equal(p.balance, 500);
    assert_int_equal(p.expiring_soon, 0);
    p = test_points(s, "gus", 10 + 15 * DAY, NULL);
    assert_int_equal(p.expiring_soon, 500);
    assert_int_equal(p.next_expiry_at, 10 + 40 * DAY);
    /* A later order by the customer writes the expiry off in its own transaction. */
    o = test_order("X2", "gus", 10 + 41 * DAY, 100);
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, &policy, NULL));
    assert_int_equal(test_sql_int(s, "SELECT SUM(points) FROM ledger WHERE kind='expire'"), -500);
    o = test_order("X3", "gus", 10 + 41 * DAY, 100);
    o.points_redeemed = 1;
    assert_store(s, PERK_STORE_INSUFFICIENT_POINTS, perk_store_commit(s, &o, &policy, NULL));
}

static void test_tiers(void **state)
{
    fixture *f = *state;
    perk_store *s = f->s;
    perk_store_tier tiers[] = { { "silver", 10000, 30 * DAY }, { "gold", 50000, 30 * DAY } };
    perk_store_policy policy = { .tiers = tiers, .n_tiers = 2 };
    perk_store_commit_result r;
    perk_store_order o = test_order("T1", "hal", 0, 6000);
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, &policy, &r));
    assert_string_equal(r.tier, ""); /* 6000 < 10000 */
    assert_false(r.tier_changed);
    o = test_order("T2", "hal", DAY, 5000);
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, &policy, &r));
    assert_string_equal(r.tier, "silver"); /* 6000 + 5000 = 11000 */
    assert_string_equal(r.previous_tier, "");
    assert_true(r.tier_changed);
    o = test_order("T3", "hal", 2 * DAY, 40000);
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, &policy, &r));
    assert_string_equal(r.tier, "gold"); /* 11000 + 40000 = 51000 */
    perk_store_points_summary p = test_points(s, "hal", 2 * DAY, NULL);
    assert_string_equal(p.tier, "gold");
    /* 30.5 days later T1 (time 0) leaves the window: 45000 -> silver. */
    int64_t later = 30 * DAY + DAY / 2;
    p = test_points(s, "hal", later, &policy);
    assert_string_equal(p.tier, "silver");
    p = test_points(s, "hal", later, NULL);
    assert_string_equal(p.tier, "gold"); /* recorded tier until something re-checks it */
    assert_store(s, PERK_STORE_OK, perk_store_expire_points(s, later, &policy, NULL, NULL));
    p = test_points(s, "hal", later, NULL);
    assert_string_equal(p.tier, "silver");
    test_events ev;
    test_events_read(s, 0, &ev);
    assert_non_null(strstr(ev.text, "tier.changed {\"customer_id\":\"hal\",\"direction\":\"up\","
                                    "\"from\":null,\"reason\":\"order\",\"time\":86400,\"to\":\"silver\"}"));
    assert_non_null(strstr(ev.text, "\"direction\":\"up\",\"from\":\"silver\",\"reason\":\"order\""));
    assert_non_null(strstr(ev.text, "\"direction\":\"down\",\"from\":\"gold\",\"reason\":\"expire\""));
    test_events_free(&ev);
    /* Tiers must be ascending. */
    perk_store_tier bad[] = { { "gold", 5, 0 }, { "silver", 1, 0 } };
    perk_store_policy bad_policy = { .tiers = bad, .n_tiers = 2 };
    o = test_order("T4", "hal", 3 * DAY, 1);
    assert_store(s, PERK_STORE_INVALID, perk_store_commit(s, &o, &bad_policy, NULL));
}

static void test_invalid_orders(void **state)
{
    fixture *f = *state;
    perk_store *s = f->s;
    assert_store(s, PERK_STORE_INVALID, perk_store_commit(s, NULL, NULL, NULL));
    perk_store_order o = test_order("", "c", 0, 1);
    assert_store(s, PERK_STORE_INVALID, perk_store_commit(s, &o, NULL, NULL));
    o = test_order("V1", NULL, 0, 1);
    assert_store(s, PERK_STORE_INVALID, perk_store_commit(s, &o, NULL, NULL));
    o = test_order("V1", "c", 0, -1);
    assert_store(s, PERK_STORE_INVALID, perk_store_commit(s, &o, NULL, NULL));
    perk_store_promo_use twice[] = { { "P", 1, -1, -1, -1 }, { "P", 1, -1, -1, -1 } };
    o = test_order("V1", "c", 0, 1);
    o.promos = twice;
    o.n_promos = 2;
    assert_store(s, PERK_STORE_INVALID, perk_store_commit(s, &o, NULL, NULL));
    twice[1].promo_id = "Q";
    twice[1].limit_uses = -2;
    assert_store(s, PERK_STORE_INVALID, perk_store_commit(s, &o, NULL, NULL));
    o = test_order("V1", "c", 0, 1);
    const char *bad_code[] = { "no/slash" };
    o.coupons = bad_code;
    o.n_coupons = 1;
    assert_store(s, PERK_STORE_INVALID, perk_store_commit(s, &o, NULL, NULL));
    const char *same[] = { "abc", "A-B-C" };
    o.coupons = same;
    o.n_coupons = 2;
    assert_store(s, PERK_STORE_INVALID, perk_store_commit(s, &o, NULL, NULL));
    o = test_order("V1", "c", 0, 1);
    o.order_json = "{not json";
    assert_store(s, PERK_STORE_INVALID, perk_store_commit(s, &o, NULL, NULL));
    assert_non_null(strstr(perk_store_errmsg(s), "order_json"));
    perk_store_points_line neg = { "r", -5 };
    o = test_order("V1", "c", 0, 1);
    o.earned = &neg;
    o.n_earned = 1;
    assert_store(s, PERK_STORE_INVALID, perk_store_commit(s, &o, NULL, NULL));
    perk_store_points_line huge[] = { { "a", INT64_MAX }, { "b", 1 } };
    o.earned = huge;
    o.n_earned = 2;
    assert_store(s, PERK_STORE_INVALID, perk_store_commit(s, &o, NULL, NULL));
    perk_store_policy neg_policy = { .pending_seconds = -1 };
    o = test_order("V1", "c", 0, 1);
    assert_store(s, PERK_STORE_INVALID, perk_store_commit(s, &o, &neg_policy, NULL));
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM orders"), 0);
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM events"), 0);
}

/* Item 10: a 100 MB order was stored whole (twice: the order and its event). The store keeps at
 * most PERK_STORE_ORDER_JSON_MAX bytes of order JSON and says so. */
static void test_order_json_is_bounded(void **state)
{
    fixture *f = *state;
    perk_store *s = f->s;
    size_t max = PERK_STORE_ORDER_JSON_MAX;
    char *json = malloc(max + 2);
    assert_non_null(json);
    /* {"a":"xxx...x"} of exactly max bytes: 8 bytes of frame, max - 8 x's */
    memcpy(json, "{\"a\":\"", 6);
    memset(json + 6, 'x', max - 8);
    memcpy(json + max - 2, "\"}", 3);
    assert_int_equal(strlen(json), max);
    perk_store_order o = test_order("BIG1", "alice", 1000, 100);
    o.order_json = json;
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, NULL, NULL));
    /* one byte more (a space before the closing brace): refused, nothing written */
    memcpy(json + max - 1, " }", 3);
    assert_int_equal(strlen(json), max + 1);
    o.order_id = "BIG2";
    assert_store(s, PERK_STORE_INVALID, perk_store_commit(s, &o, NULL, NULL));
    assert_string_equal(perk_store_errmsg(s),
                        "order BIG2: order_json is 1048577 bytes, more than the store keeps per order "
                        "(1048576 bytes); nothing was committed: store a smaller summary of the cart");
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM orders WHERE order_id = 'BIG2'"), 0);
    free(json);
}

static void test_ledger_is_append_only(void **state)
{
    fixture *f = *state;
    perk_store *s = f->s;
    perk_store_points_line e = { "r", 10 };
    perk_store_order o = test_order("L1", "ian", 0, 100);
    o.earned = &e;
    o.n_earned = 1;
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, NULL, NULL));
    /* through the driver, so the triggers of either backend refuse */
    assert_int_not_equal(pstore_db_exec(s, "UPDATE ledger SET points = 1000"), 0);
    assert_int_not_equal(pstore_db_exec(s, "DELETE FROM ledger"), 0);
    assert_int_equal(test_sql_int(s, "SELECT SUM(points) FROM ledger"), 10);
}

/* Item 4: INSERT OR REPLACE rewrote a ledger entry (the DELETE trigger does not fire for a
 * REPLACE's implicit delete with recursive triggers off). Refused now, and perk_store_check
 * finds a ledger that disagrees with the orders. */
static int collect_problem(const char *problem, void *ctx)
{
    char *buf = ctx;
    size_t n = strlen(buf);
    snprintf(buf + n, 4096 - n, "%s\n", problem);
    return 0;
}

static void test_ledger_refuses_replace_and_check_finds_tampering(void **state)
{
    TEST_SQLITE_ONLY("INSERT OR REPLACE is SQLite's (PostgreSQL has no REPLACE; a reused id is a key violation)");
    fixture *f = *state;
    perk_store *s = f->s;
    perk_store_points_line e = { "r", 10 };
    perk_store_order o = test_order("L1", "ian", 0, 100);
    o.earned = &e;
    o.n_earned = 1;
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, NULL, NULL));
    long long id = test_sql_int(s, "SELECT id FROM ledger WHERE order_id = 'L1'");
    char sql[256];
    snprintf(sql, sizeof sql,
             "INSERT OR REPLACE INTO ledger (id, order_id, customer_id, kind, points, created_at, "
             "available_at) VALUES (%lld, 'L1', 'ian', 'earn', 1000000, 0, 0)",
             id);
    assert_int_not_equal(sqlite3_exec(test_sqlite_handle(s), sql, NULL, NULL, NULL), SQLITE_OK);
    assert_non_null(strstr(sqlite3_errmsg(test_sqlite_handle(s)), "append-only"));
    snprintf(sql, sizeof sql,
             "REPLACE INTO ledger (id, order_id, customer_id, kind, points, created_at, "
             "available_at) VALUES (%lld, 'L1', 'ian', 'earn', 1000000, 0, 0)",
             id);
    assert_int_not_equal(sqlite3_exec(test_sqlite_handle(s), sql, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(test_sql_int(s, "SELECT SUM(points) FROM ledger"), 10);

    /* a consistent store: no problem */
    char problems[4096] = "";
    int64_t n = -1;
    assert_store(s, PERK_STORE_OK, perk_store_check(s, collect_problem, problems, &n));
    assert_int_equal(n, 0);
    assert_string_equal(problems, "");
    /* an extra earn entry appended by hand (append-only cannot stop that): found */
    test_sql_exec(s, "INSERT INTO ledger (order_id, customer_id, kind, points, "
                     "created_at, available_at) VALUES ('L1', 'ian', 'earn', 500, 0, 0)");
    /* and a budget counter that disagrees with its rows */
    test_sql_exec(s, "INSERT INTO budget_totals VALUES ('shop', 'P', 0, 0)");
    test_sql_exec(s, "UPDATE budget_totals SET uses = 5");
    assert_store(s, PERK_STORE_OK, perk_store_check(s, collect_problem, problems, &n));
    assert_int_equal(n, 2);
    assert_string_equal(
        problems, "order L1 earned 10 points but its earn entries in the ledger add up to 510 (2 entries)\n"
                  "budget shop/P counts 5 uses and 0 money but its use rows add up to 0 uses and 0 money\n");
}

typedef struct history_acc {
    int n;
    long long sum;
    char kinds[128];
} history_acc;

static int history_cb(const perk_store_ledger_entry *e, void *ctx)
{
    history_acc *h = ctx;
    h->n++;
    h->sum += e->points;
    strncat(h->kinds, e->kind, sizeof h->kinds - strlen(h->kinds) - 2);
    strcat(h->kinds, " ");
    return 0;
}

static void test_points_history(void **state)
{
    fixture *f = *state;
    perk_store *s = f->s;
    perk_store_points_line e = { "r", 40 };
    perk_store_order o = test_order("H1", "jo", 0, 100);
    o.earned = &e;
    o.n_earned = 1;
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, NULL, NULL));
    o = test_order("H2", "jo", 5, 100);
    o.points_redeemed = 15;
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, NULL, NULL));
    history_acc h = { 0 };
    assert_store(s, PERK_STORE_OK, perk_store_points_history(s, "jo", history_cb, &h));
    assert_int_equal(h.n, 2);
    assert_int_equal(h.sum, 25); /* 40 - 15 */
    assert_string_equal(h.kinds, "earn redeem ");
    assert_store(s, PERK_STORE_INVALID, perk_store_points_history(s, "", history_cb, &h));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_commit_basic, store_fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_commit_idempotent, store_fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_budget_uses_limit, store_fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_budget_money_and_customer, store_fixture_setup,
                                        store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_coupons_in_orders, store_fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_redeem_and_pending, store_fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_fifo_expiry, store_fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_expiry_written_at_commit, store_fixture_setup,
                                        store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_tiers, store_fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_invalid_orders, store_fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_order_json_is_bounded, store_fixture_setup,
                                        store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_ledger_is_append_only, store_fixture_setup,
                                        store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_ledger_refuses_replace_and_check_finds_tampering,
                                        store_fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_points_history, store_fixture_setup, store_fixture_teardown),
    };
    return cmocka_run_group_tests_name("store_orders", tests, NULL, NULL);
}
