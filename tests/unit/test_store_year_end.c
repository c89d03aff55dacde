/* test_store_year_end.c - points expiring with the calendar (`expire at end of year` / `expire at
 * end of next year`, docs/semantics.md "Points expiring with the calendar"): the ledger expiry
 * written at commit and at a refund, as exact instants in the rule set's zone (Shanghai, New York
 * across DST, made-up zones whose clocks jump at midnight), checked by hand in the comments; and
 * under concurrency: 8 processes earning, refunding and expiring for the same customers at once
 * across the year end, each point expired exactly once. */
#include "store_fixture.h"

#include "checkout/checkout.h"
#include "compiler/tzload.h"

#include <sys/wait.h>
#include <unistd.h>

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

/* 8 processes, on their own connections, commit orders for the same 4 customers on both sides of
 * 2028-01-01 00:00 Shanghai (2027 points expire then, 2028 points a year later), each refunds its
 * first order in full, then all 8 write off the expired points at once, twice (at each year
 * end). Each point is written off exactly once: a customer's expire entries sum to minus what it
 * earned in that year and kept, and every balance ends at 0. */
#define YE_PROCS 8
#define YE_ORDERS 12
static int64_t ye_points(int proc, int j) { return 10 + proc * YE_ORDERS + j; }
static int64_t ye_time(int proc, int j)
{
    /* even j: the last hour of 2027; odd j: the first hours of 2028 (Shanghai) */
    return j % 2 == 0 ? Y2028_SHANGHAI - 3600 + proc * YE_ORDERS + j : Y2028_SHANGHAI + 60 + proc * YE_ORDERS + j;
}

/* A store call retried while another process holds the write lock past the busy timeout
 * (PERK_STORE_BUSY: the caller's to retry, as a checkout service does). */
#define YE_RETRY(st, call)                                                          \
    do {                                                                            \
        for (int try_ = 0; ((st) = (call)) == PERK_STORE_BUSY && try_ < 200; try_++) \
            usleep(10 * 1000);                                                      \
    } while (0)

/* A child's failure, said on stderr (the parent sees only the exit status). */
static int ye_failed(perk_store *s, int proc, int code)
{
    fprintf(stderr, "year-end process %d: step %d failed: %s\n", proc, code, perk_store_errmsg(s));
    return code;
}

static int ye_child(const char *db, int proc, int stage_fd, const zone *z)
{
    perk_store *s = NULL;
    if (perk_store_open(db, &s) != PERK_STORE_OK) return 10;
    pstore_trust_caller_for_tests(s);
    perk_store_policy p = year_end_policy(z, 1);
    perk_store_status st;
    char go;
    if (read(stage_fd, &go, 1) != 1) return 11;
    for (int j = 0; j < YE_ORDERS; j++) {
        char id[32], customer[16];
        snprintf(id, sizeof id, "Y%d-%d", proc, j);
        snprintf(customer, sizeof customer, "c%d", j % 4);
        perk_store_points_line e = { "rule", ye_points(proc, j) };
        perk_store_order_line line = { "all", 10000 };
        perk_store_order o = test_order(id, customer, ye_time(proc, j), 10000);
        o.lines = &line;
        o.n_lines = 1;
        o.earned = &e;
        o.n_earned = 1;
        YE_RETRY(st, perk_store_commit(s, &o, &p, NULL));
        if (st != PERK_STORE_OK) return ye_failed(s, proc, 12);
    }
    char rid[32], oid[32];
    snprintf(oid, sizeof oid, "Y%d-0", proc);
    snprintf(rid, sizeof rid, "R%d", proc);
    perk_store_refund_line all = { "all", 10000 };
    YE_RETRY(st, perk_store_refund(s, oid, rid, &all, 1, 0, ye_time(proc, 0) + 600, &p, true, NULL));
    if (st != PERK_STORE_OK) return ye_failed(s, proc, 13);
    /* both year ends, all processes at once */
    if (read(stage_fd, &go, 1) != 1) return 14;
    YE_RETRY(st, perk_store_expire_points(s, Y2028_SHANGHAI, NULL, NULL, NULL));
    if (st != PERK_STORE_OK) return ye_failed(s, proc, 15);
    if (read(stage_fd, &go, 1) != 1) return 16;
    YE_RETRY(st, perk_store_expire_points(s, Y2029_SHANGHAI, NULL, NULL, NULL));
    if (st != PERK_STORE_OK) return ye_failed(s, proc, 17);
    perk_store_close(s);
    return 0;
}

static void ye_release(int fd)
{
    char go[YE_PROCS] = { 0 };
    assert_int_equal(write(fd, go, YE_PROCS), YE_PROCS);
}

static void ye_wait_quiet(void) { usleep(300 * 1000); }

static void test_year_end_concurrent(void **state)
{
    fixture *f = *state;
    zone z;
    zone_load(&z, "Asia/Shanghai");
    int pipes[2];
    assert_int_equal(pipe(pipes), 0);
    pid_t pids[YE_PROCS];
    for (int i = 0; i < YE_PROCS; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            close(pipes[1]);
            _exit(ye_child(f->dir.db, i, pipes[0], &z));
        }
    }
    close(pipes[0]);
    ye_release(pipes[1]); /* earn and refund */
    /* wait until every order and refund is in before the year ends are written off */
    for (int t = 0; t < 600 && test_sql_int(f->s, "SELECT COUNT(*) FROM refunds") < YE_PROCS; t++) ye_wait_quiet();
    assert_int_equal(test_sql_int(f->s, "SELECT COUNT(*) FROM orders"), YE_PROCS * YE_ORDERS);
    ye_release(pipes[1]); /* the end of 2027, 8 times at once */
    for (int t = 0; t < 100 && test_sql_int(f->s, "SELECT COUNT(DISTINCT customer_id) FROM ledger WHERE kind = 'expire'") < 4; t++)
        ye_wait_quiet();
    ye_wait_quiet();
    ye_release(pipes[1]); /* the end of 2028, 8 times at once */
    close(pipes[1]);
    for (int i = 0; i < YE_PROCS; i++) {
        int st = 0;
        assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
        assert_true(WIFEXITED(st));
        if (WEXITSTATUS(st) != 0) fail_msg("process %d exited %d", i, WEXITSTATUS(st));
    }
    /* what each customer earned and kept per year, by hand from the formulas above */
    for (int c = 0; c < 4; c++) {
        int64_t kept2027 = 0, kept2028 = 0;
        for (int i = 0; i < YE_PROCS; i++)
            for (int j = c; j < YE_ORDERS; j += 4) {
                if (j == 0) continue; /* refunded in full */
                if (j % 2 == 0) kept2027 += ye_points(i, j);
                else kept2028 += ye_points(i, j);
            }
        char sql[256];
        snprintf(sql, sizeof sql,
                 "SELECT COALESCE(SUM(points), 0) FROM ledger WHERE customer_id = 'c%d' AND kind = 'expire' AND "
                 "created_at = %lld",
                 c, (long long)Y2028_SHANGHAI);
        long long got2027 = test_sql_int(f->s, sql);
        snprintf(sql, sizeof sql,
                 "SELECT COALESCE(SUM(points), 0) FROM ledger WHERE customer_id = 'c%d' AND kind = 'expire' AND "
                 "created_at = %lld",
                 c, (long long)Y2029_SHANGHAI);
        long long got2028 = test_sql_int(f->s, sql);
        if (got2027 != -kept2027 || got2028 != -kept2028)
            fail_msg("customer c%d: expired %lld and %lld, want %lld and %lld", c, got2027, got2028,
                     (long long)-kept2027, (long long)-kept2028);
        snprintf(sql, sizeof sql, "c%d", c);
        assert_int_equal(test_points(f->s, sql, Y2029_SHANGHAI, NULL).balance, 0);
    }
    /* every earn entry expires at the end of its own year */
    assert_int_equal(test_sql_int(f->s, "SELECT COUNT(*) FROM ledger WHERE kind = 'earn' AND NOT "
                                        "((created_at < 1830268800 AND expires_at = 1830268800) OR "
                                        "(created_at >= 1830268800 AND expires_at = 1861891200))"),
                     0);
    int64_t problems = -1;
    assert_store(f->s, PERK_STORE_OK, perk_store_check(f->s, NULL, NULL, &problems));
    assert_int_equal(problems, 0);
    free(z.at);
    free(z.offset);
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
        cmocka_unit_test_setup_teardown(test_year_end_concurrent, store_fixture_setup, store_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
