/* test_store_facts.c - the store owns the customer facts it knows (issue 14, item 3): a cart that
 * claims gold, a first order, a membership or a points balance the customer does not have is
 * priced with the store's facts, and each claim it overrode is reported (src/checkout/
 * store_facts.h); the facts themselves (perk_store_customer_get): the recorded tier, available
 * points, orders that are not cancelled, the CRM's member_since, and a retried order left out. */
#include "store_fixture.h"

#include <jansson.h>

#include "checkout/checkout.h"
#include "civil.h"
#include "json/cart_json.h"
#include "perk.h"

/* Every cart is one line of ¥200.00 (20000 fen), no shipping, at ORDER_TIME.
 *   gold_day  10% off the order for gold and above
 *   newcomer  ¥15 off a first order (新人券)
 *   loyal     ¥5 off for members of a year or more
 *   base      1 point per ¥1 paid for goods; redeem: 100 points = ¥1, for goods
 *   tiers     silver from ¥100 spent within 365 days, gold from ¥1000 */
static const char RULES[] = "ruleset \"shop\" { currency CNY timezone \"Asia/Shanghai\" }\n"
                            "tier silver \"银卡\" { spend ¥100 within 365 days }\n"
                            "tier gold \"金卡\" { spend ¥1000 within 365 days }\n"
                            "promotion gold_day \"金卡9折\" {\n"
                            "  priority 10\n"
                            "  when customer.tier >= gold\n"
                            "  then 10% off order\n"
                            "}\n"
                            "promotion newcomer \"新人券\" {\n"
                            "  priority 20\n"
                            "  when customer.first_order\n"
                            "  then ¥15 off order\n"
                            "}\n"
                            "promotion loyal \"老会员立减\" {\n"
                            "  priority 30\n"
                            "  when today - customer.member_since >= 365 days\n"
                            "  then ¥5 off order\n"
                            "}\n"
                            "earn base \"消费积分\" {\n"
                            "  then 1 point per ¥1 on items\n"
                            "}\n"
                            "redeem {\n"
                            "  rate 100 points = ¥1\n"
                            "  pays for goods\n"
                            "}\n";

/* 2026-03-04T10:00:00+08:00 */
#define ORDER_TIME 1772589600
#define ORDER_TIME_TEXT "2026-03-04T10:00:00+08:00"

static int64_t fixed_clock(void *ctx)
{
    (void)ctx;
    return ORDER_TIME;
}

typedef struct fixture {
    test_dir dir;
    perk_store *s;
    perk_program *prog;
    perk_context *ctx;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    test_dir_make(&f->dir);
    f->s = test_open_strict(f->dir.db);
    perk_store_set_clock(f->s, fixed_clock, NULL);
    size_t len = 0;
    uint8_t *bytes = store_fixture_compile(RULES, &len);
    int64_t version = 0;
    assert_store(f->s, PERK_STORE_OK,
                 perk_store_publish(f->s, bytes, len, RULES, "test", "v1", 0, ORDER_TIME - 3600, &version));
    assert_int_equal(version, 1);
    perk_error e;
    f->prog = perk_program_load(bytes, len, &e);
    free(bytes);
    assert_non_null(f->prog);
    f->ctx = perk_context_new(f->prog, NULL, &e);
    assert_non_null(f->ctx);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    perk_context_free(f->ctx);
    perk_program_free(f->prog);
    perk_store_close(f->s);
    test_dir_remove(&f->dir);
    free(f);
    return 0;
}

/* Commits (or, dry, prices) one ¥200 order of `customer` whose customer object also holds
 * `claims` (", \"tier\": \"gold\"..."). */
static bool place(fixture *f, const char *id, const char *customer, const char *claims,
                  const char *order_extra, bool dry, checkout_outcome *out)
{
    char text[1024];
    snprintf(text, sizeof text,
             "{\"order\": {\"id\": \"%s\", \"time\": \"" ORDER_TIME_TEXT "\"%s},"
             " \"customer\": {\"id\": \"%s\"%s},"
             " \"lines\": [{\"id\": \"L1\", \"sku\": \"TEA\", \"price\": \"200.00\", \"quantity\": 1}]}",
             id, order_extra ? order_extra : "", customer, claims ? claims : "");
    char err[512];
    cart_doc *doc = cart_json_parse(text, strlen(text), 2, "CNY", NULL, err, sizeof err);
    if (!doc) fail_msg("cart: %s", err);
    checkout_options opts = { .dry_run = dry };
    bool ok = checkout_place_order_opts(f->s, f->prog, 1, f->ctx, doc, text, &opts, out);
    cart_json_free(doc);
    return ok;
}

static int64_t day(int y, int m, int d) { return civil_days_from_date(y, m, d); }

static const checkout_override *override_of(const checkout_outcome *out, checkout_fact fact)
{
    for (size_t i = 0; i < out->facts.n_overrides; i++)
        if (out->facts.overrides[i].fact == fact) return &out->facts.overrides[i];
    return NULL;
}

static bool applied(const fixture *f, const perk_result *r, const char *promo)
{
    long idx = perk_program_find_promotion(f->prog, promo);
    assert_true(idx >= 0);
    for (uint32_t i = 0; i < r->n_promotions; i++)
        if (r->promotions[i].promotion == (uint32_t)idx)
            return r->promotions[i].reason == PERK_REASON_APPLIED;
    return false;
}

/* A first order that claims gold and a membership since 2020: the store has no tier for ann and
 * the CRM says member since 2026-01-01 (62 days before the order). */
static void test_claims_gold_and_old_membership(void **state)
{
    fixture *f = *state;
    assert_store(f->s, PERK_STORE_OK, perk_store_customer_set(f->s, "ann", day(2026, 1, 1), ORDER_TIME));
    checkout_outcome out;
    bool ok =
        place(f, "A1", "ann", ", \"tier\": \"gold\", \"member_since\": \"2020-01-01\", \"first_order\": true",
              NULL, false, &out);
    if (!ok) fail_msg("A1: %s", out.message);
    /* as claimed: 20000 - 10% (2000) - 1500 - 500 = 16000. As the store knows ann: only the
     * first-order ¥15: 20000 - 1500 = 18500 payable */
    assert_int_equal(out.result->discount, 1500);
    assert_int_equal(out.result->payable, 18500);
    assert_true(applied(f, out.result, "newcomer"));
    assert_false(applied(f, out.result, "gold_day"));
    assert_false(applied(f, out.result, "loyal"));
    assert_int_equal(test_sql_int(f->s, "SELECT payable FROM orders WHERE order_id = 'A1'"), 18500);
    /* reported: the tier and member_since; first_order agreed */
    assert_int_equal(out.facts.n_overrides, 2);
    const checkout_override *t = override_of(&out, CHECKOUT_FACT_TIER);
    assert_non_null(t);
    assert_string_equal(t->claimed_tier, "gold");
    assert_string_equal(t->store_tier, "");
    const checkout_override *m = override_of(&out, CHECKOUT_FACT_MEMBER_SINCE);
    assert_non_null(m);
    assert_int_equal(m->claimed, day(2020, 1, 1));
    assert_int_equal(m->store, day(2026, 1, 1));
    char *json = checkout_facts_json(&out.facts);
    assert_non_null(json);
    assert_string_equal(json,
                        "{\"from_store\":[\"customer.tier\",\"customer.points_balance\","
                        "\"customer.first_order\",\"customer.order_count\",\"customer.member_since\"],"
                        "\"overrides\":[{\"fact\":\"customer.tier\",\"claimed\":\"gold\",\"store\":null},"
                        "{\"fact\":\"customer.member_since\",\"claimed\":\"2020-01-01\","
                        "\"store\":\"2026-01-01\"}]}");
    free(json);
    /* 185 points earned (¥185 paid); ¥185 spent makes ann silver */
    assert_int_equal(out.commit.points_earned, 185);
    assert_string_equal(out.commit.tier, "silver");
    checkout_outcome_free(&out);
}

/* The second order claims a first order (新人券 twice), gold and 5000 points, and redeems the
 * most it may: the store has silver, one order and 185 points. */
static void test_claims_first_order_and_balance(void **state)
{
    fixture *f = *state;
    assert_store(f->s, PERK_STORE_OK, perk_store_customer_set(f->s, "ann", day(2026, 1, 1), ORDER_TIME));
    checkout_outcome out;
    assert_true(place(f, "A1", "ann", NULL, NULL, false, &out));
    checkout_outcome_free(&out);

    bool ok =
        place(f, "A2", "ann", ", \"tier\": \"gold\", \"first_order\": true, \"orders\": 0, \"points\": 5000",
              ", \"points_to_redeem\": \"max\"", false, &out);
    if (!ok) fail_msg("A2: %s", out.message);
    /* as claimed: 20000 - 2000 (gold) - 1500 (newcomer) = 16500, then 5000 points (¥50) = 11500.
     * As the store knows ann: no promotion; 185 points pay ¥1.85: 20000 - 185 = 19815 */
    assert_int_equal(out.result->discount, 0);
    assert_int_equal(out.result->points_redeemed, 185);
    assert_int_equal(out.result->payable, 19815);
    assert_false(applied(f, out.result, "newcomer"));
    assert_false(applied(f, out.result, "gold_day"));
    assert_int_equal(out.commit.points_redeemed, 185);
    /* earned on what was paid for goods: ¥198.15 -> 198 points; balance 185 - 185 + 198 */
    assert_int_equal(out.commit.points_earned, 198);
    assert_int_equal(out.commit.balance, 198);
    assert_int_equal(out.facts.n_overrides, 4);
    const checkout_override *o = override_of(&out, CHECKOUT_FACT_TIER);
    assert_string_equal(o->claimed_tier, "gold");
    assert_string_equal(o->store_tier, "silver");
    o = override_of(&out, CHECKOUT_FACT_FIRST_ORDER);
    assert_int_equal(o->claimed, 1);
    assert_int_equal(o->store, 0);
    o = override_of(&out, CHECKOUT_FACT_ORDER_COUNT);
    assert_int_equal(o->claimed, 0);
    assert_int_equal(o->store, 1);
    o = override_of(&out, CHECKOUT_FACT_POINTS_BALANCE);
    assert_int_equal(o->claimed, 5000);
    assert_int_equal(o->store, 185);
    checkout_outcome_free(&out);

    /* a retry of A2 is priced as the first time (A2's own redeem, earn and count left out) and
     * replays */
    ok = place(f, "A2", "ann", ", \"tier\": \"gold\", \"first_order\": true, \"orders\": 0, \"points\": 5000",
               ", \"points_to_redeem\": \"max\"", false, &out);
    if (!ok) fail_msg("A2 retry: %s", out.message);
    assert_true(out.commit.replay);
    assert_int_equal(out.result->payable, 19815);
    assert_int_equal(out.facts.store.points_balance, 185);
    assert_int_equal(out.facts.store.order_count, 1);
    checkout_outcome_free(&out);
    assert_int_equal(test_sql_int(f->s, "SELECT COUNT(*) FROM orders WHERE customer_id = 'ann'"), 2);
}

/* "points_to_redeem": "max" with no balance in the cart redeems what the store holds (the bug
 * of the issue: it redeemed 0 while the store held points). No claim: nothing is reported. */
static void test_max_without_balance(void **state)
{
    fixture *f = *state;
    assert_store(f->s, PERK_STORE_OK, perk_store_customer_set(f->s, "bo", day(2026, 1, 1), ORDER_TIME));
    checkout_outcome out;
    assert_true(place(f, "B1", "bo", NULL, NULL, false, &out)); /* 20000 - 1500 = 18500 paid: 185 points */
    checkout_outcome_free(&out);
    assert_true(place(f, "B2", "bo", NULL, ", \"points_to_redeem\": \"max\"", true, &out));
    assert_true(out.dry_run);
    assert_int_equal(out.result->points_redeemed, 185);
    assert_int_equal(out.result->payable, 19815); /* 20000 - 185 */
    assert_int_equal(out.facts.n_overrides, 0);   /* the cart claimed nothing */
    checkout_outcome_free(&out);
}

/* The facts: orders cancelled by a full refund do not count; without a CRM record the cart's
 * member_since stands; a recorded tier the rules do not define counts as none. */
static void test_facts_from_records(void **state)
{
    fixture *f = *state;
    perk_store_customer_facts facts;
    assert_store(f->s, PERK_STORE_OK, perk_store_customer_get(f->s, "cy", NULL, ORDER_TIME, &facts));
    assert_false(facts.has_record);
    assert_int_equal(facts.order_count, 0);
    assert_int_equal(facts.points_balance, 0);
    assert_string_equal(facts.tier, "");

    checkout_outcome out;
    assert_true(place(f, "C1", "cy", ", \"member_since\": \"2024-01-01\"", NULL, false, &out));
    /* no CRM record: the cart's membership (over a year) stands: 20000 - 1500 - 500 = 18000 */
    assert_int_equal(out.result->payable, 18000);
    assert_true(applied(f, out.result, "loyal"));
    assert_null(override_of(&out, CHECKOUT_FACT_MEMBER_SINCE));
    checkout_outcome_free(&out);
    assert_true(place(f, "C2", "cy", NULL, NULL, false, &out));
    checkout_outcome_free(&out);
    assert_store(f->s, PERK_STORE_OK, perk_store_customer_get(f->s, "cy", NULL, ORDER_TIME, &facts));
    assert_int_equal(facts.order_count, 2);
    assert_store(f->s, PERK_STORE_OK, perk_store_customer_get(f->s, "cy", "C2", ORDER_TIME, &facts));
    assert_int_equal(facts.order_count, 1);
    /* C1 cancelled: one order left */
    perk_store_refund_result rr;
    assert_store(f->s, PERK_STORE_OK,
                 perk_store_refund(f->s, "C1", "R1", NULL, 0, 0, ORDER_TIME, NULL, true, &rr));
    assert_true(rr.full);
    assert_store(f->s, PERK_STORE_OK, perk_store_customer_get(f->s, "cy", NULL, ORDER_TIME, &facts));
    assert_int_equal(facts.order_count, 1);

    /* the CRM: a member, then not a member; bad dates refused */
    assert_store(f->s, PERK_STORE_OK, perk_store_customer_set(f->s, "cy", -1, ORDER_TIME));
    assert_store(f->s, PERK_STORE_OK, perk_store_customer_get(f->s, "cy", NULL, ORDER_TIME, &facts));
    assert_true(facts.has_record);
    assert_int_equal(facts.member_since_days, -1);
    assert_store(f->s, PERK_STORE_INVALID, perk_store_customer_set(f->s, "cy", 5000000, ORDER_TIME));
    assert_store(f->s, PERK_STORE_INVALID, perk_store_customer_set(f->s, "", 0, ORDER_TIME));

    /* a tier the rules do not define is none to them */
    test_sql_exec(f->s, "INSERT INTO tier_state VALUES ('dee', 'diamond', 0)");
    checkout_facts cf;
    assert_store(f->s, PERK_STORE_OK, checkout_facts_read(f->s, f->prog, "dee", NULL, ORDER_TIME, &cf));
    assert_string_equal(cf.store.tier, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_claims_gold_and_old_membership, setup, teardown),
        cmocka_unit_test_setup_teardown(test_claims_first_order_and_balance, setup, teardown),
        cmocka_unit_test_setup_teardown(test_max_without_balance, setup, teardown),
        cmocka_unit_test_setup_teardown(test_facts_from_records, setup, teardown),
    };
    return cmocka_run_group_tests_name("store_facts", tests, NULL, NULL);
}
