/* test_store_year_end.c - points expiring with the calendar (`expire at end of year` / `expire at
 * end of next year`, docs/semantics.md "Points expiring with the calendar"): the ledger expiry
 * written at commit and at a refund, as exact instants in the rule set's zone (Shanghai, New York
 * across DST, made-up zones whose clocks jump at midnight), checked by hand in the comments. */
#include "store_fixture.h"

#include "checkout/checkout.h"
#include "compiler/tzload.h"

#define DAY 86400
/* 2028-01-01T00:00:00Z: 58 years from 1970 of which 14 leap (1972..2024): 21184 days * 86400 */
#define Y2028_UTC INT64_C(1830297600)
/* 2028-01-01 00:00 in Shanghai (+08:00, no DST): 8 hours earlier */
#define Y2028_SHANGHAI (Y2028_UTC - 8 * 3600) /* 1830268800 */
/* 2029-01-01 00:00 in Shanghai: 2028 is a leap year, 366 days later */
#define Y2029_SHANGHAI (Y2028_SHANGHAI + 366 * DAY) /* 1861891200 */
/* 2030-01-01 00:00 in Shanghai: 365 days later */
#define Y2030_SHANGHAI (Y2029_SHANGHAI + 365 * DAY)

typedef store_fixture fixture;

typedef struct zone {
    int64_t *at;
    int32_t *offset;
    uint32_t count;
    int32_t base;
} zone;

static void zone_load(zone *z, const char *name)
{
    char err[200];
    bool ok = tzload_zone(name, Y2028_UTC + 10 * 366 * DAY, &z->at, &z->offset, &z->count, &z->base, err,
                          sizeof err);
    if (!ok) fail_msg("%s", err);
}

static perk_store_policy year_end_policy(const zone *z, int years)
{
    perk_store_policy p = { .expire_year_end = years,
                            .zone_count = z->count,
                            .zone_at = z->at,
                            .zone_offset = z->offset,
                            .zone_base_offset = z->base };
    return p;
}

static void earn(perk_store *s, const char *id, const char *customer, int64_t time, int64_t points, int64_t redeem,
                 const perk_store_policy *p)
{
    perk_store_points_line e = { "rule", points };
    perk_store_order_line line = { "all", 10000 };
    perk_store_order o = test_order(id, customer, time, 10000);
    o.lines = &line;
    o.n_lines = 1;
    o.earned = &e;
    o.n_earned = points ? 1 : 0;
    o.points_redeemed = redeem;
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, p, NULL));
}

static long long lot_expiry(perk_store *s, const char *order_id, const char *kind)
{
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT expires_at FROM ledger WHERE order_id = '%s' AND kind = '%s'", order_id, kind);
    return test_sql_int(s, sql);
}

static void test_shanghai_end_of_year(void **state)
{
    fixture *f = *state;
    perk_store *s = f->s;
    zone z;
    zone_load(&z, "Asia/Shanghai");
    perk_store_policy p = year_end_policy(&z, 1);
    /* Earned 2027-12-31 23:30 Shanghai (15:30Z): gone at 2028-01-01 00:00 Shanghai, 30 minutes on. */
    earn(s, "S1", "amy", Y2028_SHANGHAI - 1800, 500, 0, &p);
    assert_int_equal(lot_expiry(s, "S1", "earn"), Y2028_SHANGHAI);
    assert_int_equal(lot_expiry(s, "S1", "earn"), 1830268800);
    /* usable through 23:59:59 on 31 December, not at midnight */
    assert_int_equal(test_points(s, "amy", Y2028_SHANGHAI - 1, NULL).balance, 500);
    assert_int_equal(test_points(s, "amy", Y2028_SHANGHAI, NULL).balance, 0);
    /* Earned at 2028-01-01 00:00:00 Shanghai exactly: a 2028 point, gone at 2029-01-01 00:00. */
    earn(s, "S2", "amy", Y2028_SHANGHAI, 70, 0, &p);
    assert_int_equal(lot_expiry(s, "S2", "earn"), Y2029_SHANGHAI);
    assert_int_equal(test_points(s, "amy", Y2029_SHANGHAI - 1, NULL).balance, 70);
    assert_int_equal(test_points(s, "amy", Y2029_SHANGHAI, NULL).balance, 0);
    /* The earliest expiry shown is the year end, and within 30 days of it the points are "soon". */
    earn(s, "S3", "ben", Y2028_SHANGHAI + 100 * DAY, 40, 0, &p);
    perk_store_points_summary sum = test_points(s, "ben", Y2029_SHANGHAI - 10 * DAY, NULL);
    assert_int_equal(sum.next_expiry_at, Y2029_SHANGHAI);
    assert_int_equal(sum.expiring_soon, 40);
    /* Writing it off: one expire entry of -40 dated at the year end. */
    int64_t expired = 0;
    assert_store(s, PERK_STORE_OK, perk_store_expire_points(s, Y2029_SHANGHAI, NULL, &expired, NULL));
    assert_int_equal(test_sql_int(s, "SELECT SUM(points) FROM ledger WHERE customer_id='ben' AND kind='expire'"),
                     -40);
    free(z.at);
    free(z.offset);
}

static void test_end_of_next_year_and_pending(void **state)
{
    fixture *f = *state;
    perk_store *s = f->s;
    zone z;
    zone_load(&z, "Asia/Shanghai");
    perk_store_policy p = year_end_policy(&z, 2);
    /* 2027-12-31 23:30 Shanghai, `end of next year`: 2029-01-01 00:00 Shanghai. */
    earn(s, "N1", "cat", Y2028_SHANGHAI - 1800, 300, 0, &p);
    assert_int_equal(lot_expiry(s, "N1", "earn"), Y2029_SHANGHAI);
    assert_int_equal(lot_expiry(s, "N1", "earn"), 1861891200);
    /* The year is the one the points become available in: an order on 2027-12-28 10:00 Shanghai
     * (1829959200) with 7 days pending is available 2028-01-04 10:00, a 2028 point: end of year
     * is 2029-01-01, end of next year 2030-01-01. */
    p.pending_seconds = 7 * DAY;
    earn(s, "N2", "cat", INT64_C(1829959200), 20, 0, &p);
    assert_int_equal(test_sql_int(s, "SELECT available_at FROM ledger WHERE order_id='N2'"), 1829959200 + 7 * DAY);
    assert_int_equal(lot_expiry(s, "N2", "earn"), Y2030_SHANGHAI);
    p.expire_year_end = 1;
    earn(s, "N3", "cat", INT64_C(1829959200), 10, 0, &p);
    assert_int_equal(lot_expiry(s, "N3", "earn"), Y2029_SHANGHAI);
    free(z.at);
    free(z.offset);
}

static void test_new_york_across_dst(void **state)
{
    fixture *f = *state;
    perk_store *s = f->s;
    zone z;
    zone_load(&z, "America/New_York");
    perk_store_policy p = year_end_policy(&z, 1);
    /* Earned 2027-07-01 12:00 EDT (-04:00) = 16:00Z = 1814457600; the year ends at
     * 2028-01-01 00:00 EST (-05:00) = 05:00Z = 1830315600, not at 04:00Z (July's offset). */
    earn(s, "Y1", "dan", INT64_C(1814457600), 90, 0, &p);
    assert_int_equal(lot_expiry(s, "Y1", "earn"), Y2028_UTC + 5 * 3600);
    assert_int_equal(test_points(s, "dan", Y2028_UTC + 5 * 3600 - 1, NULL).balance, 90);
    assert_int_equal(test_points(s, "dan", Y2028_UTC + 5 * 3600, NULL).balance, 0);
    free(z.at);
    free(z.offset);
}

static void test_clock_jumps_at_midnight(void **state)
{
    fixture *f = *state;
    perk_store *s = f->s;
    /* A gap: UTC+0 until 2028-01-01T00:00Z, then +01:00: local 00:00..00:59 on 1 January never
     * happen; the year ends at the jump, 2028-01-01T00:00Z (local 01:00). */
    int64_t gap_at[] = { Y2028_UTC };
    int32_t gap_off[] = { 3600 };
    perk_store_policy p = { .expire_year_end = 1, .zone_count = 1, .zone_at = gap_at, .zone_offset = gap_off };
    earn(s, "G1", "eve", Y2028_UTC - DAY, 10, 0, &p);
    assert_int_equal(lot_expiry(s, "G1", "earn"), Y2028_UTC);
    /* An overlap: +01:00 until 2027-12-31T23:30Z, then +00:00: local 2028-01-01 00:00 happens at
     * 2027-12-31T23:00Z (+01:00) and again at 2028-01-01T00:00Z (+00:00): the first is taken. */
    int64_t back_at[] = { Y2028_UTC - 1800 };
    int32_t back_off[] = { 0 };
    perk_store_policy q = { .expire_year_end = 1,
                            .zone_count = 1,
                            .zone_at = back_at,
                            .zone_offset = back_off,
                            .zone_base_offset = 3600 };
    earn(s, "G2", "eve", Y2028_UTC - DAY, 10, 0, &q);
    assert_int_equal(lot_expiry(s, "G2", "earn"), Y2028_UTC - 3600);
    /* A policy that says both ways is refused, and so is a year end other than 1 or 2. */
    perk_store_policy bad = p;
    bad.expire_seconds = DAY;
    perk_store_points_line e = { "rule", 5 };
    perk_store_order o = test_order("G3", "eve", Y2028_UTC, 100);
    o.earned = &e;
    o.n_earned = 1;
    assert_store(s, PERK_STORE_INVALID, perk_store_commit(s, &o, &bad, NULL));
    bad = p;
    bad.expire_year_end = 3;
    assert_store(s, PERK_STORE_INVALID, perk_store_commit(s, &o, &bad, NULL));
}

static void test_refund_across_year_end(void **state)
{
    fixture *f = *state;
    perk_store *s = f->s;
    zone z;
    zone_load(&z, "Asia/Shanghai");
    perk_store_policy p = year_end_policy(&z, 1);
    /* 2027-06-01-ish: 400 points earned, expiring at the end of 2027. */
    earn(s, "R0", "fay", Y2028_SHANGHAI - 200 * DAY, 400, 0, &p);
    /* 2027-12-31 20:00 Shanghai: redeems 300 of them on order R1, which earns 50 more. */
    earn(s, "R1", "fay", Y2028_SHANGHAI - 4 * 3600, 50, 300, &p);
    assert_int_equal(test_points(s, "fay", Y2028_SHANGHAI - 1, NULL).balance, 150); /* 400 - 300 + 50 */
    /* 2028-01-02 12:00 Shanghai: R1 refunded whole. Its 50 earned points expired with 2027 (they
     * are not taken twice); the 300 redeemed come back as a 2028 lot, expiring at the end of 2028. */
    int64_t refund_at = Y2028_SHANGHAI + DAY + 12 * 3600;
    perk_store_refund_result r;
    assert_store(s, PERK_STORE_OK, perk_store_refund(s, "R1", "RF1", NULL, 0, 0, refund_at, &p, true, &r));
    assert_int_equal(r.points_reversed, 0);
    assert_int_equal(r.points_expired_part, 50);
    assert_int_equal(r.points_shortfall, 0);
    assert_int_equal(test_sql_int(s, "SELECT expires_at FROM ledger WHERE order_id='R1' AND kind='adjust'"),
                     Y2029_SHANGHAI);
    assert_int_equal(test_points(s, "fay", refund_at, NULL).balance, 300);
    assert_int_equal(test_points(s, "fay", Y2029_SHANGHAI - 1, NULL).balance, 300);
    assert_int_equal(test_points(s, "fay", Y2029_SHANGHAI, NULL).balance, 0);
    free(z.at);
    free(z.offset);
}

/* The rule set's clause reaches the store: compiled, loaded, its policy made by checkout_policy. */
static void test_policy_from_rules(void **state)
{
    fixture *f = *state;
    perk_store *s = f->s;
    const char *text = "ruleset \"shop\" { currency CNY timezone \"Asia/Shanghai\" }\n"
                       "earn base { then 1 point per ¥1 on items }\n"
                       "points {\n  expire at end of next year\n}\n";
    size_t len = 0;
    uint8_t *bytes = store_fixture_compile(text, &len);
    perk_error err;
    perk_program *prog = perk_program_load(bytes, len, &err);
    assert_non_null(prog);
    perk_store_policy p;
    perk_store_tier tiers[4];
    checkout_policy(prog, &p, tiers, 4);
    assert_int_equal(p.expire_year_end, 2);
    assert_int_equal(p.expire_seconds, 0);
    earn(s, "P1", "gus", Y2028_SHANGHAI - 1800, 8, 0, &p); /* 2027-12-31 23:30 Shanghai */
    assert_int_equal(lot_expiry(s, "P1", "earn"), Y2029_SHANGHAI);
    perk_program_free(prog);
    free(bytes);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_shanghai_end_of_year, store_fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_end_of_next_year_and_pending, store_fixture_setup,
                                        store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_new_york_across_dst, store_fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_clock_jumps_at_midnight, store_fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_refund_across_year_end, store_fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_policy_from_rules, store_fixture_setup, store_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
