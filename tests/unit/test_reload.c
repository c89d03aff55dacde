/* test_reload.c - hot reload (src/checkout/reload.c): four threads evaluate the same cart without pause
 * while versions are published, rolled back and activated on schedule; every result must be
 * exactly the payable of the version the thread's program came from (no torn program), every
 * thread must move to the new version, and versions that do not load (bad bytes published, or
 * bytes corrupted inside the database) must leave the previous program running. */
#include "store_fixture.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "compiler/compiler.h"
#include "perk.h"
#include "checkout/reload.h"

/* One cart: one line of ¥100.00 (10000 fen), no shipping. Each rule set takes something
 * different off the order, so the payable tells which program priced it:
 *   v1  ¥10 off   -> 10000 - 1000         = 9000
 *   v2  ¥25 off   -> 10000 - 2500         = 7500
 *   v3  30% off   -> 10000 - 10000 * 0.30 = 7000 */
static const char RULES_V1[] = "ruleset \"shop\" { currency CNY }\n"
                               "promotion off \"立减\" { then ¥10 off order }\n";
static const char RULES_V2[] = "ruleset \"shop\" { currency CNY }\n"
                               "promotion off \"立减\" { then ¥25 off order }\n";
static const char RULES_V3[] = "ruleset \"shop\" { currency CNY }\n"
                               "promotion off \"立减\" { then 30% off order }\n";
#define PAY_V1 9000
#define PAY_V2 7500
#define PAY_V3 7000

#define N_THREADS 4
#define T0 1800000000 /* 2027-01-15, any fixed time: the store never reads the clock */

/* Evaluates the test cart; returns its payable or -1 (with the reason printed). */
static int64_t evaluate_cart(perk_context *ctx)
{
    perk_cart_reset(ctx);
    const perk_customer cu = { .id = "c1" };
    const perk_order o = { .id = "A1", .currency = "CNY", .time = T0 };
    const perk_line line = { .sku = "tea", .unit_price = 10000, .quantity = 1 };
    if (perk_cart_set_customer(ctx, &cu) != PERK_OK || perk_cart_set_order(ctx, &o) != PERK_OK ||
        perk_cart_add_line(ctx, &line) != PERK_OK) {
        fprintf(stderr, "cart refused: %s\n", perk_context_error(ctx));
        return -1;
    }
    const perk_result *r = perk_evaluate(ctx);
    if (r->status != PERK_OK) {
        fprintf(stderr, "evaluation failed: %s\n", perk_context_error(ctx));
        return -1;
    }
    return r->payable;
}

/* A poll that should see a change another handle just committed. On SQLite the next poll sees it
 * (data_version); on PostgreSQL the change arrives as a notification, sent by the server once the
 * commit is done and read without blocking, so it may land a moment after the publisher's commit
 * returns: the store promises a node sees it within a second (docs/postgresql.md), and this waits
 * up to two. */
static reload_event poll_for_change(reload *r, int64_t now)
{
    reload_event ev = reload_poll(r, now);
    for (int waited_ms = 0; ev == RELOAD_UNCHANGED && test_pg_uri() && waited_ms < 2000; waited_ms += 5) {
        struct timespec ts = { 0, 5 * 1000000L };
        nanosleep(&ts, NULL);
        ev = reload_poll(r, now);
    }
    return ev;
}

/* The publisher's handle is f->s (the reloader opens its own). */
typedef store_fixture fixture;

static reload *open_reloader(const char *db)
{
    char err[512];
    reload *r = reload_open(db, err, sizeof err);
    if (!r) fail_msg("reload_open: %s", err);
    return r;
}

static void test_open_errors(void **state)
{
    fixture *f = *state;
    char err[512], path[400];
    snprintf(path, sizeof path, "%s/missing.db", f->dir.dir);
    assert_null(reload_open(path, err, sizeof err));
    assert_non_null(strstr(err, "reload: cannot open the store"));
    assert_non_null(strstr(err, "missing.db"));
    assert_int_equal(access(path, F_OK), -1); /* the reloader never creates a database */
    assert_null(reload_open(NULL, err, sizeof err));
    assert_string_equal(err, "reload: no store path given");
    assert_null(reload_open("", NULL, 0));
    /* NULL reloader: harmless */
    assert_int_equal(reload_poll(NULL, T0), RELOAD_FAILED);
    assert_null(reload_acquire(NULL, NULL));
    assert_int_equal(reload_generation(NULL), 0);
    reload_close(NULL);
}

static void test_nothing_published(void **state)
{
    fixture *f = *state;
    reload *r = open_reloader(f->dir.db);
    assert_int_equal(reload_poll(r, T0), RELOAD_UNCHANGED);
    int64_t v = -1;
    assert_null(reload_acquire(r, &v));
    assert_int_equal(v, 0);
    assert_int_equal(reload_version(r), 0);
    reload_worker w = RELOAD_WORKER_INIT;
    perk_error e;
    assert_null(reload_worker_context(r, &w, NULL, &e));
    assert_int_equal(e.status, PERK_STATE);
    assert_non_null(strstr(e.message, "no rule-set version is loaded yet"));

    /* published, then seen on the next poll; a poll with the clock before the first
     * activation keeps the program (it never takes a program away) */
    int64_t v1 = store_fixture_publish(f->s, RULES_V1, "reload test", 0, T0 + 10);
    assert_int_equal(poll_for_change(r, T0 + 10), RELOAD_SWAPPED);
    assert_int_equal(reload_version(r), v1);
    assert_int_equal(reload_generation(r), 1);
    assert_int_equal(reload_poll(r, T0 + 10), RELOAD_UNCHANGED);
    assert_int_equal(reload_poll(r, T0), RELOAD_UNCHANGED);
    assert_int_equal(reload_version(r), v1);
    perk_context *ctx = reload_worker_context(r, &w, NULL, &e);
    assert_non_null(ctx);
    assert_int_equal(e.status, PERK_OK);
    assert_int_equal(w.version, v1);
    assert_int_equal(evaluate_cart(ctx), PAY_V1);
    /* unchanged generation: the same context comes back */
    assert_ptr_equal(reload_worker_context(r, &w, NULL, &e), ctx);
    char buf[256];
    assert_string_equal(reload_error(r, buf, sizeof buf), "");
    reload_worker_free(&w);
    assert_null(w.ctx);
    reload_close(r);
}

/* ---------------------------------------------------------- threads */

typedef struct shared {
    reload *r;
    atomic_bool stop;
    int64_t ids[4];                /* store ids of v1, v2, v3 (index 1..3) */
    atomic_llong seen[N_THREADS];  /* version of each thread's latest evaluation */
    atomic_llong count[N_THREADS]; /* evaluations made */
    atomic_int mismatches;
    char first_error[512];
    atomic_flag error_taken;
} shared;

typedef struct worker_arg {
    shared *sh;
    int index;
} worker_arg;

static int64_t expected_payable(const shared *sh, int64_t version)
{
    if (version == sh->ids[1]) return PAY_V1;
    if (version == sh->ids[2]) return PAY_V2;
    if (version == sh->ids[3]) return PAY_V3;
    return -2;
}

static void *worker_main(void *p)
{
    worker_arg *a = p;
    shared *sh = a->sh;
    reload_worker w = RELOAD_WORKER_INIT;
    while (!atomic_load(&sh->stop)) {
        perk_error e;
        perk_context *ctx = reload_worker_context(sh->r, &w, NULL, &e);
        int64_t got = ctx ? evaluate_cart(ctx) : -1;
        int64_t want = expected_payable(sh, w.version);
        if (!ctx || got != want) {
            atomic_fetch_add(&sh->mismatches, 1);
            if (!atomic_flag_test_and_set(&sh->error_taken))
                snprintf(sh->first_error, sizeof sh->first_error,
                         "thread %d: version %lld priced the cart at %lld, expected %lld (%s)", a->index,
                         (long long)w.version, (long long)got, (long long)want, ctx ? "" : e.message);
        }
        atomic_store(&sh->seen[a->index], w.version);
        atomic_fetch_add(&sh->count[a->index], 1);
    }
    reload_worker_free(&w);
    return NULL;
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* Waits (up to 20 s) until every thread has evaluated at least `more` carts with `version`. */
static void wait_all_on(shared *sh, int64_t version, long long more)
{
    long long start[N_THREADS];
    for (int i = 0; i < N_THREADS; i++) start[i] = -1;
    for (int tries = 0; tries < 20000; tries++) {
        int done = 0;
        for (int i = 0; i < N_THREADS; i++) {
            if (atomic_load(&sh->seen[i]) != version) continue;
            long long c = atomic_load(&sh->count[i]);
            if (start[i] < 0) start[i] = c;
            done += c - start[i] >= more;
        }
        if (done == N_THREADS) return;
        sleep_ms(1);
    }
    fail_msg("threads did not all switch to version %lld", (long long)version);
}

static void test_threads_switch(void **state)
{
    fixture *f = *state;
    static shared sh; /* large; zeroed per test below */
    memset(&sh, 0, sizeof sh);
    sh.ids[1] = store_fixture_publish(f->s, RULES_V1, "reload test", 0, T0);
    sh.r = open_reloader(f->dir.db);
    assert_int_equal(poll_for_change(sh.r, T0), RELOAD_SWAPPED);

    pthread_t th[N_THREADS];
    worker_arg args[N_THREADS];
    for (int i = 0; i < N_THREADS; i++) {
        atomic_init(&sh.seen[i], 0);
        atomic_init(&sh.count[i], 0);
        args[i] = (worker_arg){ &sh, i };
        assert_int_equal(pthread_create(&th[i], NULL, worker_main, &args[i]), 0);
    }
    wait_all_on(&sh, sh.ids[1], 20);

    /* v2 published by another handle: the next poll swaps it in */
    sh.ids[2] = store_fixture_publish(f->s, RULES_V2, "reload test", 0, T0 + 10);
    assert_int_equal(poll_for_change(sh.r, T0 + 10), RELOAD_SWAPPED);
    assert_int_equal(reload_version(sh.r), sh.ids[2]);
    wait_all_on(&sh, sh.ids[2], 20);

    /* many swaps back and forth while the threads run: old programs are released under them */
    int64_t now = T0 + 20;
    for (int i = 0; i < 30; i++, now++) {
        int64_t to = sh.ids[i % 2 ? 2 : 1];
        assert_store(f->s, PERK_STORE_OK, perk_store_rollback(f->s, to, "test", "flip", now));
        assert_int_equal(poll_for_change(sh.r, now), RELOAD_SWAPPED);
        assert_int_equal(reload_version(sh.r), to);
        sleep_ms(1);
    }
    assert_int_equal(reload_version(sh.r), sh.ids[2]); /* i = 29 rolled back to v2 */
    wait_all_on(&sh, sh.ids[2], 20);

    /* v3 scheduled for T0 + 1000: nothing changes before, it is current from then on */
    sh.ids[3] = store_fixture_publish(f->s, RULES_V3, "reload test", T0 + 1000, now);
    assert_int_equal(reload_poll(sh.r, now), RELOAD_UNCHANGED);
    assert_int_equal(reload_poll(sh.r, T0 + 999), RELOAD_UNCHANGED);
    assert_int_equal(reload_version(sh.r), sh.ids[2]);
    wait_all_on(&sh, sh.ids[2], 20);
    assert_int_equal(poll_for_change(sh.r, T0 + 1000), RELOAD_SWAPPED);
    assert_int_equal(reload_version(sh.r), sh.ids[3]);
    wait_all_on(&sh, sh.ids[3], 20);

    /* a version that fails verification: reported, threads keep evaluating with v3 */
    size_t len = 0;
    uint8_t *bytes = store_fixture_compile(RULES_V1, &len);
    bytes[len / 2] ^= 0x5a;
    int64_t bad = 0;
    assert_store(f->s, PERK_STORE_OK,
                 perk_store_publish(f->s, bytes, len, NULL, "test", "damaged", 0, T0 + 1001, &bad));
    free(bytes);
    assert_int_equal(poll_for_change(sh.r, T0 + 1001), RELOAD_FAILED);
    assert_int_equal(reload_version(sh.r), sh.ids[3]);
    wait_all_on(&sh, sh.ids[3], 20);

    atomic_store(&sh.stop, true);
    for (int i = 0; i < N_THREADS; i++) assert_int_equal(pthread_join(th[i], NULL), 0);
    if (atomic_load(&sh.mismatches))
        fail_msg("%d wrong results; first: %s", atomic_load(&sh.mismatches), sh.first_error);
    long long total = 0;
    for (int i = 0; i < N_THREADS; i++) total += atomic_load(&sh.count[i]);
    assert_true(total >= N_THREADS * 20 * 6);
    reload_close(sh.r);
}

/* ----------------------------------------------------- failed loads */

static void test_failed_loads_keep_old_program(void **state)
{
    TEST_SQLITE_ONLY("damages the store through the sqlite3 handle");
    fixture *f = *state;
    char buf[512];
    int64_t v1 = store_fixture_publish(f->s, RULES_V1, "reload test", 0, T0);
    reload *r = open_reloader(f->dir.db);
    assert_int_equal(poll_for_change(r, T0), RELOAD_SWAPPED);
    int64_t version = 0;
    perk_program *held = reload_acquire(r, &version); /* a thread in the middle of a cart */
    assert_non_null(held);
    assert_int_equal(version, v1);

    /* 1. bytes that are not a program at all (perk_store_publish stores any bytes) */
    static const uint8_t junk[] = "not a perk program";
    int64_t v2 = 0;
    assert_store(f->s, PERK_STORE_OK,
                 perk_store_publish(f->s, junk, sizeof junk, NULL, "test", "junk", 0, T0 + 1, &v2));
    assert_int_equal(poll_for_change(r, T0 + 1), RELOAD_FAILED);
    reload_error(r, buf, sizeof buf);
    assert_non_null(strstr(buf, "version 2 does not load (keeping version 1)"));
    assert_int_equal(reload_version(r), v1);
    assert_int_equal(reload_generation(r), 1);
    /* the same bad version is reported again without being reloaded */
    assert_int_equal(poll_for_change(r, T0 + 2), RELOAD_FAILED);
    assert_non_null(strstr(reload_error(r, buf, sizeof buf), "version 2 does not load"));

    /* 2. a good version after it swaps in; the program held from before stays usable */
    int64_t v3 = store_fixture_publish(f->s, RULES_V2, "reload test", 0, T0 + 3);
    assert_int_equal(poll_for_change(r, T0 + 3), RELOAD_SWAPPED);
    assert_string_equal(reload_error(r, buf, sizeof buf), "");
    assert_int_equal(reload_version(r), v3);
    perk_error e;
    perk_context *ctx = perk_context_new(held, NULL, &e);
    assert_non_null(ctx);
    assert_int_equal(evaluate_cart(ctx), PAY_V1);
    perk_context_free(ctx);
    perk_program_free(held);

    /* 3. rolling back to the bad version tries it again (another version was active since) */
    assert_store(f->s, PERK_STORE_OK, perk_store_rollback(f->s, v2, "test", "oops", T0 + 4));
    assert_int_equal(poll_for_change(r, T0 + 4), RELOAD_FAILED);
    assert_non_null(strstr(reload_error(r, buf, sizeof buf), "version 2 does not load (keeping version 3)"));

    /* 4. bytes damaged inside the database: the store's SHA-256 check refuses them */
    assert_int_equal(sqlite3_exec(test_sqlite_handle(f->s),
                                  "UPDATE versions SET bytecode = "
                                  "CAST(zeroblob(length(bytecode)) AS BLOB) WHERE id = 1",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_store(f->s, PERK_STORE_OK, perk_store_rollback(f->s, v1, "test", "back", T0 + 5));
    assert_int_equal(poll_for_change(r, T0 + 5), RELOAD_FAILED);
    reload_error(r, buf, sizeof buf);
    assert_non_null(strstr(buf, "version 1 cannot be read (keeping version 3)"));
    assert_int_equal(reload_version(r), v3);

    /* 5. the current program still prices carts */
    reload_worker w = RELOAD_WORKER_INIT;
    ctx = reload_worker_context(r, &w, NULL, &e);
    assert_non_null(ctx);
    assert_int_equal(w.version, v3);
    assert_int_equal(evaluate_cart(ctx), PAY_V2);
    reload_worker_free(&w);

    /* 6. rolling forward to a good version clears the failure */
    assert_store(f->s, PERK_STORE_OK, perk_store_rollback(f->s, v3, "test", "fwd", T0 + 6));
    assert_int_equal(reload_poll(r, T0 + 6), RELOAD_UNCHANGED);
    assert_string_equal(reload_error(r, buf, sizeof buf), "");
    reload_close(r);
}

/* A store error while checking (the database replaced by garbage under a running process) is
 * reported and retried on the next poll, never fatal. */
static void test_store_error_keeps_program(void **state)
{
    TEST_SQLITE_ONLY("damages the store through the sqlite3 handle (foreign_keys off)");
    fixture *f = *state;
    int64_t v1 = store_fixture_publish(f->s, RULES_V1, "reload test", 0, T0);
    reload *r = open_reloader(f->dir.db);
    assert_int_equal(poll_for_change(r, T0), RELOAD_SWAPPED);
    /* another version becomes active, but its row disappears before it is read: NOT_FOUND is a
     * failure that keeps version 1 */
    int64_t v2 = store_fixture_publish(f->s, RULES_V2, "reload test", 0, T0 + 1);
    assert_int_equal(sqlite3_exec(test_sqlite_handle(f->s), "PRAGMA foreign_keys = OFF; DELETE FROM versions WHERE id = 2",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(poll_for_change(r, T0 + 1), RELOAD_FAILED);
    char buf[512];
    assert_non_null(strstr(reload_error(r, buf, sizeof buf), "version 2 cannot be read (keeping version 1)"));
    assert_int_equal(reload_version(r), v1);
    (void)v2;
    reload_close(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_errors, store_fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_nothing_published, store_fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_threads_switch, store_fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_failed_loads_keep_old_program, store_fixture_setup,
                                        store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_store_error_keeps_program, store_fixture_setup,
                                        store_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
