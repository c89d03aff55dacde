/* test_store_cli.c - the store's CLI commands (cmd_history, cmd_show, cmd_rollback,
 * cmd_coupons, cmd_points, cmd_events, cmd_expire): output, exit statuses 0/1/2 and
 * "perk: error:" messages, including `perk events --follow` stopped by SIGTERM. */
#include "capture.h"
#include "store_fixture.h"

#include "cli/cmd_store.h"

#include <signal.h>
#include <sys/wait.h>
#include <time.h>

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

/* Only the scratch directory: the commands create the store themselves. */
typedef store_fixture fixture;

static void test_missing_database_and_usage(void **state)
{
    TEST_SQLITE_ONLY("a --db file that does not exist");
    fixture *f = *state;
    const char *db = f->dir.db;
    captured *c = capture_run(cmd_history, "history", "--db", db, NULL);
    assert_int_equal(c->rc, 1);
    assert_non_null(strstr(c->err, "perk: error: cannot open database"));
    assert_int_equal(access(db, F_OK), -1); /* reading never creates the file */
    c = capture_run(cmd_history, "history", "--bogus", NULL);
    assert_int_equal(c->rc, 2);
    assert_non_null(strstr(c->err, "perk: error: option --bogus is unknown"));
    assert_non_null(strstr(c->err, "usage: perk history"));
    c = capture_run(cmd_history, "history", "--db", NULL);
    assert_int_equal(c->rc, 2);
    c = capture_run(cmd_points, "points", "--db", db, NULL);
    assert_int_equal(c->rc, 2);
    c = capture_run(cmd_expire, "expire", "--db", db, "--now", "yesterday", NULL);
    assert_int_equal(c->rc, 2);
    assert_non_null(strstr(c->err, "perk: error: --now yesterday: expected a time from 1970 to 9999"));
    c = capture_run(cmd_show, "show", "abc", "--db", db, NULL);
    assert_int_equal(c->rc, 2);
    c = capture_run(cmd_events, "events", "--ack", "--db", db, NULL);
    assert_int_equal(c->rc, 2);
    assert_non_null(strstr(c->err, "--ack needs --consumer"));
    c = capture_run(cmd_coupons, "coupons", "frobnicate", "X", "--db", db, NULL);
    assert_int_equal(c->rc, 2);
    c = capture_run(cmd_history, "history", "--help", NULL);
    assert_int_equal(c->rc, 0);
    assert_non_null(strstr(c->out, "usage: perk history"));
}

static void test_coupons_commands(void **state)
{
    fixture *f = *state;
    const char *db = f->dir.db;
    captured *c = capture_run(cmd_coupons, "coupons", "generate", "spring", "--count", "5", "--prefix",
                              "sprg", "--max-uses", "1", "--db", db, NULL);
    assert_int_equal(c->rc, 0);
    assert_int_equal(count_lines(c->out), 5);
    assert_memory_equal(c->out, "SPRG-", 5);
    assert_non_null(strstr(c->err, "generated 5 codes for campaign spring"));
    char first[40];
    snprintf(first, sizeof first, "%.21s", c->out);
    c = capture_run(cmd_coupons, "coupons", "check", first, "--customer", "amy", "--db", db, NULL);
    assert_int_equal(c->rc, 0);
    assert_non_null(strstr(c->out, ": valid (campaign spring, uses 0 of 1"));

    c = capture_run(cmd_coupons, "coupons", "add", "summer-10", "--campaign", "summer", "--expires",
                    "2026-12-31", "--per-customer", "2", "--db", db, NULL);
    assert_int_equal(c->rc, 0);
    assert_string_equal(c->out, "added coupon SUMMER10 to campaign summer\n");
    /* Valid through the whole last day, UTC (no rule set is active: text times are in UTC). */
    c = capture_run(cmd_coupons, "coupons", "check", "summer10", "--now", "2026-12-31T23:59:59Z", "--db", db,
                    NULL);
    assert_int_equal(c->rc, 0);
    assert_non_null(strstr(c->out, "expires 2027-01-01 00:00 UTC"));
    c = capture_run(cmd_coupons, "coupons", "check", "summer10", "--now", "2027-01-01", "--db", db, NULL);
    assert_int_equal(c->rc, 1);
    assert_non_null(strstr(c->out, "SUMMER10: expired"));
    c = capture_run(cmd_coupons, "coupons", "add", "summer-10", "--campaign", "x", "--db", db, NULL);
    assert_int_equal(c->rc, 1);
    assert_non_null(strstr(c->err, "perk: error: coupon SUMMER10 already exists"));
    c = capture_run(cmd_coupons, "coupons", "add", "X1", "--db", db, NULL);
    assert_int_equal(c->rc, 2);
    c = capture_run(cmd_coupons, "coupons", "add", "X1", "--campaign", "c", "--expires", "2026-02-30", "--db",
                    db, NULL);
    assert_int_equal(c->rc, 2);
    c = capture_run(cmd_coupons, "coupons", "generate", "c", "--db", db, NULL);
    assert_int_equal(c->rc, 2);
    c = capture_run(cmd_coupons, "coupons", "check", "NOPE", "--db", db, NULL);
    assert_int_equal(c->rc, 1);
    assert_string_equal(c->out, "NOPE: unknown code\n");
}

static void test_versions_commands(void **state)
{
    fixture *f = *state;
    const char *db = f->dir.db;
    perk_store *s = test_open(db);
    const uint8_t code1[] = { 0x50, 0x42, 0x43, 0x00, 0x01 }, code2[] = { 0x50, 0x42, 0x43, 0x02 };
    assert_store(
        s, PERK_STORE_OK,
        perk_store_publish(s, code1, sizeof code1, "rule a {}\n", "ana", "first rules", 0, 1700000000, NULL));
    assert_store(
        s, PERK_STORE_OK,
        perk_store_publish(s, code2, sizeof code2, "rule b {}", "ben", "second", 0, 1700000100, NULL));
    assert_store(
        s, PERK_STORE_OK,
        perk_store_publish(s, code1, sizeof code1, "", "cat", "later", 1800000000, 1700000200, NULL));
    perk_store_close(s);

    captured *c =
        capture_run(cmd_history, "history", "--db", db, "--now", "1700000300", "--activations", NULL);
    assert_int_equal(c->rc, 0);
    /* the fixture's bytecode does not load: its time zone is unknown, so times are in UTC */
    assert_non_null(strstr(c->out, "*       2  2023-11-14 22:15 UTC  ben"));
    assert_non_null(strstr(c->out, "scheduled 2027-01-15 08:00 UTC"));
    assert_non_null(strstr(c->err, "perk: note: times are in UTC: the active version 2 does not load"));
    assert_non_null(strstr(c->out, "activation log"));
    assert_int_equal(count_lines(c->out), 1 + 3 + 2 + 3);

    char bc[400];
    snprintf(bc, sizeof bc, "%s/out.pbc", f->dir.dir);
    c = capture_run(cmd_show, "show", "1", "--db", db, "--bytecode", bc, "--now", "1700000300", NULL);
    assert_int_equal(c->rc, 0);
    assert_non_null(strstr(c->out, "version:   1\n"));
    assert_non_null(strstr(c->out, "author:    ana\n"));
    assert_non_null(strstr(c->out, "bytecode:  5 bytes\n"));
    assert_non_null(strstr(c->out, "sources:\nrule a {}\n"));
    FILE *fp = fopen(bc, "rb");
    uint8_t back[16];
    assert_int_equal(fread(back, 1, sizeof back, fp), sizeof code1);
    fclose(fp);
    assert_memory_equal(back, code1, sizeof code1);
    c = capture_run(cmd_show, "show", "9", "--db", db, NULL);
    assert_int_equal(c->rc, 1);
    assert_non_null(strstr(c->err, "perk: error: version 9 does not exist"));

    c = capture_run(cmd_rollback, "rollback", "1", "--db", db, "--now", "1700000400", NULL);
    assert_int_equal(c->rc, 2);
    assert_non_null(strstr(c->err, "-m MESSAGE"));
    c = capture_run(cmd_rollback, "rollback", "1", "-m", "bad prices", "--author", "dan", "--db", db, "--now",
                    "1700000400", NULL);
    assert_int_equal(c->rc, 0);
    assert_string_equal(c->out, "version 1 is active again (was 2)\n");
    c = capture_run(cmd_rollback, "rollback", "7", "-m", "x", "--db", db, NULL);
    assert_int_equal(c->rc, 1);
    c = capture_run(cmd_show, "show", "1", "--db", db, "--now", "1700000400", NULL);
    assert_non_null(strstr(c->out, "version:   1 (active)\n"));
}

static void seed_orders(const char *db)
{
    perk_store *s = test_open(db);
    perk_store_points_line e = { "welcome", 120 };
    perk_store_order o = test_order("A1", "alice", 1700000000, 5000);
    o.earned = &e;
    o.n_earned = 1;
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, NULL, NULL));
    o = test_order("A2", "alice", 1700000100, 1000);
    o.points_redeemed = 20;
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, NULL, NULL));
    perk_store_close(s);
}

static void test_points_and_expire(void **state)
{
    fixture *f = *state;
    const char *db = f->dir.db;
    seed_orders(db);
    captured *c = capture_run(cmd_points, "points", "alice", "--db", db, "--now", "1700000200", NULL);
    assert_int_equal(c->rc, 0);
    assert_non_null(strstr(c->out, "balance:        100\n")); /* 120 - 20 */
    assert_non_null(strstr(c->out, "pending:        0\n"));
    assert_non_null(strstr(c->out, "tier:           none"));
    assert_non_null(strstr(c->out, "earn         +120"));
    assert_non_null(strstr(c->out, "redeem        -20"));
    c = capture_run(cmd_points, "points", "nobody", "--db", db, NULL);
    assert_int_equal(c->rc, 0);
    assert_non_null(strstr(c->out, "balance:        0\n"));
    c = capture_run(cmd_expire, "expire", "--db", db, "--now", "1800000000", NULL);
    assert_int_equal(c->rc, 0);
    assert_string_equal(c->out, "expired 0 points of 0 customers (as of 2027-01-15 08:00 UTC)\n");
    assert_non_null(strstr(c->err, "perk: note: times are in UTC: no rule set is active"));
}

static void test_events_command(void **state)
{
    fixture *f = *state;
    const char *db = f->dir.db;
    seed_orders(db); /* 4 events: 2 x (order.committed, points.changed) */
    captured *c = capture_run(cmd_events, "events", "--db", db, NULL);
    assert_int_equal(c->rc, 0);
    assert_int_equal(count_lines(c->out), 4);
    assert_memory_equal(c->out, "{\"data\":{\"coupons\":[],\"currency\":\"CNY\"", 38);
    assert_non_null(strstr(c->out, "\"id\":1,\"time\":1700000000,\"type\":\"order.committed\"}\n"));
    c = capture_run(cmd_events, "events", "--after", "2", "--limit", "1", "--db", db, NULL);
    assert_int_equal(count_lines(c->out), 1);
    assert_non_null(strstr(c->out, "\"id\":3,"));
    /* A consumer acknowledges what it has been given and resumes after it. */
    c = capture_run(cmd_events, "events", "--consumer", "crm", "--ack", "--limit", "3", "--db", db, NULL);
    assert_int_equal(c->rc, 0);
    assert_int_equal(count_lines(c->out), 3);
    c = capture_run(cmd_events, "events", "--consumer", "crm", "--ack", "--db", db, NULL);
    assert_int_equal(count_lines(c->out), 1);
    assert_non_null(strstr(c->out, "\"id\":4,"));
    c = capture_run(cmd_events, "events", "--consumer", "crm", "--db", db, NULL);
    assert_int_equal(count_lines(c->out), 0);
    perk_store *s = test_open(db);
    int64_t pos;
    assert_store(s, PERK_STORE_OK, perk_store_consumer_position(s, "crm", &pos));
    assert_int_equal(pos, 4);
    perk_store_close(s);
}

static void test_events_follow(void **state)
{
    fixture *f = *state;
    const char *db = f->dir.db;
    seed_orders(db);
    char out_path[400];
    snprintf(out_path, sizeof out_path, "%s/follow.out", f->dir.dir);
    fflush(stdout);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        FILE *o = freopen(out_path, "w", stdout);
        if (!o) _exit(9);
        /* --follow never acknowledges: the consumer does (perk events ack) once it has stored */
        char *argv[] = { "events", "--follow", "--consumer", "tail", "--db", (char *)db, NULL };
        int rc = cmd_events(6, argv);
        fflush(stdout);
        _exit(rc);
    }
    struct timespec ts = { .tv_sec = 0, .tv_nsec = 300 * 1000000L };
    nanosleep(&ts, NULL);
    /* A new order while the follower runs. */
    perk_store *s = test_open(db);
    perk_store_order o = test_order("LATE", "bob", 1700000500, 10);
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, NULL, NULL));
    char buf[8192];
    buf[0] = '\0';
    for (int i = 0; i < 50 && !strstr(buf, "\"order_id\":\"LATE\""); i++) { /* up to 5 s to catch up */
        nanosleep(&ts, NULL);
        FILE *in = fopen(out_path, "r");
        assert_non_null(in);
        size_t n = fread(buf, 1, sizeof buf - 1, in);
        buf[n] = '\0';
        fclose(in);
    }
    assert_int_equal(count_lines(buf), 5);
    assert_non_null(strstr(buf, "\"order_id\":\"LATE\""));
    /* printed, never acknowledged: a consumer that dies now gets all 5 again */
    int64_t pos = -1;
    assert_store(s, PERK_STORE_OK, perk_store_consumer_position(s, "tail", &pos));
    assert_int_equal(pos, 0);
    perk_store_close(s);
    kill(pid, SIGTERM);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    /* and --ack with --follow is refused */
    captured *c =
        capture_run(cmd_events, "events", "--follow", "--consumer", "tail", "--ack", "--db", db, NULL);
    assert_int_equal(c->rc, 2);
    assert_non_null(strstr(c->err, "--follow never acknowledges"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_missing_database_and_usage, store_fixture_setup_dir,
                                        store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_coupons_commands, store_fixture_setup_dir,
                                        store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_versions_commands, store_fixture_setup_dir,
                                        store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_points_and_expire, store_fixture_setup_dir,
                                        store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_events_command, store_fixture_setup_dir, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_events_follow, store_fixture_setup_dir, store_fixture_teardown),
    };
    return cmocka_run_group_tests_name("store_cli", tests, NULL, NULL);
}
