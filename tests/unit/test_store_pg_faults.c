/* test_store_pg_faults.c - failures only a client/server store has, on PostgreSQL: a COMMIT
 * whose connection is lost before its answer (the transaction may or may not have committed) is
 * neither reported as success nor applied twice -- an order is looked up again by its id on a new
 * session and committed exactly once, any other write reports the unknown outcome (skipped on
 * SQLite, whose commit is in-process) -- and, on both backends, outbox events become visible in
 * the order of their ids, so a reader that remembers the last id it saw never skips an event that
 * commits later with a smaller id. */
#include "store_fixture.h"

#include <jansson.h>
#include <pthread.h>
#include <time.h>

typedef store_fixture fixture;

#define TEST_PG_ONLY(why)                                                       \
    do {                                                                        \
        if (!test_pg_uri()) {                                                   \
            print_message("[  SKIP    ] on SQLite: %s\n", (why));               \
            skip();                                                             \
        }                                                                       \
    } while (0)

/* A deferred constraint trigger on `table` that terminates its own session at COMMIT, the first
 * `times` times it fires: the client sent COMMIT and gets no answer (a sequence counts, as it is
 * not rolled back with the transaction). */
static void kill_at_commit(perk_store *s, const char *table, int times)
{
    char sql[1024];
    snprintf(sql, sizeof sql,
             "CREATE SEQUENCE test_kills;"
             "CREATE FUNCTION test_kill_once() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN"
             " IF nextval('test_kills') <= %d THEN PERFORM pg_terminate_backend(pg_backend_pid()); END IF;"
             " RETURN NULL; END $f$;"
             "CREATE CONSTRAINT TRIGGER test_kill_at_commit AFTER INSERT ON %s"
             " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION test_kill_once()",
             times, table);
    test_sql_exec(s, sql);
}

static void commit_one(perk_store *s, const char *id, perk_store_status expect, perk_store_commit_result *r)
{
    perk_store_points_line e = { "r", 10 };
    perk_store_promo_use promo = { "P", 500, -1, -1, -1 };
    perk_store_order o = test_order(id, "cat", 1000, 10000);
    o.earned = &e;
    o.n_earned = 1;
    o.promos = &promo;
    o.n_promos = 1;
    o.discount = 500;
    assert_store(s, expect, perk_store_commit(s, &o, NULL, r));
}

/* The order's COMMIT loses its connection once: the store connects again, looks the order up by
 * its id and commits it (or finds it committed): one order, one earn entry, one event. Before
 * the fix the commit failed with "connection lost" although it might have gone through. */
static void test_lost_commit_order_once(void **state)
{
    TEST_PG_ONLY("a COMMIT's connection cannot be lost on an in-process SQLite store");
    fixture *f = *state;
    perk_store *s = f->s;
    kill_at_commit(s, "orders", 1);
    int64_t retries = perk_store_retries(s);
    perk_store_commit_result r;
    commit_one(s, "LOST1", PERK_STORE_OK, &r);
    assert_true(perk_store_retries(s) >= retries + 1); /* it did run again */
    assert_int_equal(test_sql_int(s, "SELECT nextval('test_kills')"), 3); /* killed once, fired twice */
    assert_int_equal(test_sql_int(s, "SELECT count(*) FROM orders WHERE order_id = 'LOST1'"), 1);
    assert_int_equal(test_sql_int(s, "SELECT count(*) FROM ledger WHERE order_id = 'LOST1' AND kind = 'earn'"), 1);
    assert_int_equal(test_sql_int(s, "SELECT count(*) FROM events WHERE type = 'order.committed'"), 1);
    assert_int_equal(test_sql_int(s, "SELECT uses FROM budget_totals WHERE promo_id = 'P'"), 1);
    assert_int_equal(test_sql_int(s, "SELECT money FROM budget_totals WHERE promo_id = 'P'"), 500);
    assert_int_equal(r.event_id, test_sql_int(s, "SELECT id FROM events WHERE type = 'order.committed'"));
    perk_store_commit_result_free(&r);
    /* a retry by the caller is a replay, not a second order */
    commit_one(s, "LOST1", PERK_STORE_OK, &r);
    assert_true(r.replay);
    perk_store_commit_result_free(&r);
    assert_int_equal(test_sql_int(s, "SELECT count(*) FROM orders"), 1);
    assert_int_equal(test_sql_int(s, "SELECT uses FROM budget_totals WHERE promo_id = 'P'"), 1);
}

/* Every attempt loses its COMMIT: after the bound the order is reported as failed, with a
 * message that says it may have been committed (never "nothing was committed"), and nothing was
 * written twice. */
static void test_lost_commit_order_always(void **state)
{
    TEST_PG_ONLY("a COMMIT's connection cannot be lost on an in-process SQLite store");
    fixture *f = *state;
    perk_store *s = f->s;
    kill_at_commit(s, "orders", 1000);
    commit_one(s, "LOST2", PERK_STORE_UNAVAILABLE, NULL);
    const char *msg = perk_store_errmsg(s);
    assert_non_null(strstr(msg, "may have been committed"));
    assert_null(strstr(msg, "nothing was committed"));
    assert_true(test_sql_int(s, "SELECT count(*) FROM orders WHERE order_id = 'LOST2'") <= 1);
    assert_int_equal(test_sql_int(s, "SELECT count(*) FROM events"),
                     test_sql_int(s, "SELECT count(*) FROM orders"));
}

/* A write that is not idempotent by an id (adding a coupon) is not run again after a lost
 * COMMIT: it fails, saying the outcome is unknown. */
static void test_lost_commit_other_write(void **state)
{
    TEST_PG_ONLY("a COMMIT's connection cannot be lost on an in-process SQLite store");
    fixture *f = *state;
    perk_store *s = f->s;
    kill_at_commit(s, "coupons", 1);
    assert_store(s, PERK_STORE_UNAVAILABLE, perk_store_coupon_add(s, "LOSTC", "camp", 0, 1, 1, NULL, 0));
    assert_non_null(strstr(perk_store_errmsg(s), "may or may not have committed"));
    assert_int_equal(test_sql_int(s, "SELECT nextval('test_kills')"), 2); /* fired once: not run again */
    /* the next write connects again */
    assert_store(s, PERK_STORE_OK, perk_store_coupon_add(s, "LOSTD", "camp", 0, 1, 1, NULL, 0));
}

/* ---- the outbox's order across connections */

typedef struct second_writer {
    perk_store *s;
    int64_t id;
    perk_store_status status;
    int done; /* read and written with __atomic */
} second_writer;

static void *write_second(void *arg)
{
    second_writer *w = arg;
    w->status = pstore_begin(w->s, true, "writing the second event");
    if (w->status == PERK_STORE_OK)
        w->status = pstore_emit(w->s, "test.second", 2, json_pack("{s:s}", "n", "second"), &w->id);
    if (w->status == PERK_STORE_OK) w->status = pstore_commit(w->s, "committing the second event");
    else pstore_rollback(w->s);
    __atomic_store_n(&w->done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

/* Connection A writes an event and stays open; connection B writes one and commits; a reader
 * reads, remembers its position (the last id it saw), and reads on after A commits. Without the
 * outbox's lock B's event (id 2) is read first, the position passes A's id 1, and A's event is
 * never read. With it, B waits for A's end, takes the next id, and the reader sees both, in
 * commit order. */
static void test_outbox_commit_order(void **state)
{
    /* on SQLite too: there BEGIN IMMEDIATE holds B back */
    fixture *f = *state;
    perk_store *a = f->s;
    perk_store *b = test_open(f->dir.db);
    perk_store *reader = test_open(f->dir.db);
    int64_t id_a = 0;
    assert_store(a, PERK_STORE_OK, pstore_begin(a, true, "writing the first event"));
    assert_store(a, PERK_STORE_OK, pstore_emit(a, "test.first", 1, json_pack("{s:s}", "n", "first"), &id_a));
    second_writer w = { .s = b };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, write_second, &w), 0);
    /* time for B to commit if nothing holds it back */
    struct timespec pause = { 0, 400 * 1000 * 1000 };
    nanosleep(&pause, NULL);
    bool b_done_early = __atomic_load_n(&w.done, __ATOMIC_SEQ_CST) != 0;
    test_events mid;
    test_events_read(reader, 0, &mid);
    int64_t position = mid.count ? mid.last_id : 0;
    assert_store(a, PERK_STORE_OK, pstore_commit(a, "committing the first event"));
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_store(b, w.status, PERK_STORE_OK);
    test_events rest;
    test_events_read(reader, position, &rest);
    /* every event read exactly once by the reader that kept its position */
    assert_int_equal(mid.count + rest.count, 2);
    assert_non_null(strstr(mid.count ? mid.text : rest.text, "test.first"));
    assert_false(b_done_early);  /* B waited for A */
    assert_true(id_a < w.id);    /* ids in commit order */
    test_events_free(&mid);
    test_events_free(&rest);
    perk_store_close(b);
    perk_store_close(reader);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lost_commit_order_once, store_fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_lost_commit_order_always, store_fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_lost_commit_other_write, store_fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_outbox_commit_order, store_fixture_setup, store_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
