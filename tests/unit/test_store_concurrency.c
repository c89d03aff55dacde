/* test_store_concurrency.c - the store under several processes and under crashes.
 *
 * 1. Contention: 8 forked processes commit 20,000 orders in total against one database file,
 *    fighting over a promotion limited to 500 uses, a money budget, a per-customer limit and
 *    coupons limited to 10 uses each. Losers get PERK_STORE_BUDGET_EXCEEDED and re-commit
 *    without what failed. Afterwards no budget is exceeded, no coupon over-used, every order has
 *    its ledger entries exactly once, every balance equals the sum of its entries, and the
 *    outbox holds exactly one order.committed per order.
 * 2. Crashes: a child opens the store, commits in a loop and is SIGKILLed at a random moment, 200 times. The
 *    database must pass PRAGMA integrity_check and every order must be all there or absent.
 *
 * PERK_TEST_QUICK=1 runs smaller numbers (for slow sanitizer builds on small machines). */
#include "store_test_util.h"

#include <signal.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>

enum { N_PROCS = 8, N_CUSTOMERS = 200, N_COUPONS = 40, COUPON_USES = 10 };
enum { P500_LIMIT = 500, MONEY_LIMIT = 200000, PER_CUSTOMER_LIMIT = 3 };

static bool quick(void)
{
    const char *q = getenv("PERK_TEST_QUICK");
    return q && *q && strcmp(q, "0") != 0;
}

/* What a worker reports to the parent through a pipe (one write, smaller than PIPE_BUF). */
typedef struct worker_report {
    int worker;
    int committed;
    int budget_retries; /* BUDGET_EXCEEDED answers, each followed by a re-commit */
    int promos_dropped, coupons_dropped;
    int points_retries; /* INSUFFICIENT_POINTS answers */
    int busy_retries;
    int bad_failure_lists; /* BUDGET_EXCEEDED with an empty or unknown failure list */
} worker_report;

static unsigned next_rand(unsigned *seed)
{
    *seed = *seed * 1103515245u + 12345u;
    return (*seed >> 8) & 0xffffff;
}

/* Builds order n of worker w deterministically from its seed. */
typedef struct worker_order {
    perk_store_order o;
    perk_store_promo_use promos[3];
    const char *coupons[1];
    perk_store_points_line earned[3];
    char id[32], customer[16], coupon[16], json[96];
} worker_order;

static void build_order(worker_order *wo, int w, int n, unsigned *seed)
{
    memset(wo, 0, sizeof *wo);
    snprintf(wo->id, sizeof wo->id, "W%d-%d", w, n);
    snprintf(wo->customer, sizeof wo->customer, "cust%u", next_rand(seed) % N_CUSTOMERS);
    wo->o = test_order(wo->id, wo->customer, 1000000 + n, 1000 + next_rand(seed) % 9000);
    size_t np = 0;
    wo->promos[np++] = (perk_store_promo_use){ "P500", 100, P500_LIMIT, -1, -1 };
    if (next_rand(seed) % 2)
        wo->promos[np++] =
            (perk_store_promo_use){ "MONEY", 100 + next_rand(seed) % 900, -1, MONEY_LIMIT, -1 };
    if (n % 3 == 0) wo->promos[np++] = (perk_store_promo_use){ "PERCUST", 10, -1, -1, PER_CUSTOMER_LIMIT };
    wo->o.promos = wo->promos;
    wo->o.n_promos = np;
    if (next_rand(seed) % 4 == 0) {
        snprintf(wo->coupon, sizeof wo->coupon, "C%02u", next_rand(seed) % N_COUPONS);
        wo->coupons[0] = wo->coupon;
        wo->o.coupons = wo->coupons;
        wo->o.n_coupons = 1;
    }
    int lines = n % 3 + 1;
    for (int i = 0; i < lines; i++)
        wo->earned[i] = (perk_store_points_line){ i == 0   ? "base"
                                                  : i == 1 ? "bonus"
                                                           : "extra",
                                                  10 + (n + i) % 7 };
    wo->o.earned = wo->earned;
    wo->o.n_earned = (size_t)lines;
    if (n % 5 == 4) wo->o.points_redeemed = 1 + next_rand(seed) % 40;
    snprintf(wo->json, sizeof wo->json, "{\"lines\":%d,\"worker\":%d}", lines, w);
    wo->o.order_json = wo->json;
}

/* Removes the promos and coupons named in the failure list; returns how many were removed. */
static int drop_failures(worker_order *wo, const perk_store_commit_result *r, int *promos, int *coupons)
{
    int removed = 0;
    for (size_t f = 0; f < r->n_failures; f++) {
        const char *id = r->failures[f].id;
        if (r->failures[f].reason == PERK_STORE_FAIL_COUPON) {
            if (wo->o.n_coupons && strcasecmp(wo->coupon, id) == 0) {
                wo->o.n_coupons = 0;
                removed++;
                (*coupons)++;
            }
            continue;
        }
        for (size_t p = 0; p < wo->o.n_promos; p++) {
            if (strcmp(wo->promos[p].promo_id, id) == 0) {
                wo->promos[p] = wo->promos[wo->o.n_promos - 1];
                wo->o.n_promos--;
                removed++;
                (*promos)++;
                break;
            }
        }
    }
    return removed;
}

static void run_worker(const char *path, int w, int orders, int report_fd)
{
    worker_report rep = { .worker = w };
    perk_store *s = NULL;
    perk_store_status st = perk_store_open(path, &s);
    if (st == PERK_STORE_OK) st = perk_store_set_durable(s, false);
    /* hand-made limits and times, as before the store decided them (test_store_adversarial.c
     * runs contention with the store deciding) */
    pstore_trust_caller_for_tests(s);
    if (st != PERK_STORE_OK) {
        fprintf(stderr, "worker %d: open: %s\n", w, perk_store_errmsg(s));
        perk_store_close(s);
        _exit(2);
    }
    unsigned seed = 7919u * (unsigned)(w + 1);
    for (int n = 0; n < orders; n++) {
        worker_order wo;
        build_order(&wo, w, n, &seed);
        for (int attempt = 0;; attempt++) {
            perk_store_commit_result r;
            st = perk_store_commit(s, &wo.o, NULL, &r);
            if (st == PERK_STORE_OK) {
                perk_store_commit_result_free(&r);
                rep.committed++;
                break;
            }
            if (st == PERK_STORE_BUDGET_EXCEEDED) {
                rep.budget_retries++;
                if (drop_failures(&wo, &r, &rep.promos_dropped, &rep.coupons_dropped) == 0)
                    rep.bad_failure_lists++;
            } else if (st == PERK_STORE_INSUFFICIENT_POINTS) {
                rep.points_retries++;
                wo.o.points_redeemed = 0;
            } else if (st == PERK_STORE_BUSY) {
                rep.busy_retries++;
            } else {
                fprintf(stderr, "worker %d order %s: %s\n", w, wo.id, perk_store_errmsg(s));
                perk_store_commit_result_free(&r);
                perk_store_close(s);
                _exit(3);
            }
            perk_store_commit_result_free(&r);
            if (attempt > 50) {
                fprintf(stderr, "worker %d order %s: no progress\n", w, wo.id);
                perk_store_close(s);
                _exit(4);
            }
        }
    }
    perk_store_close(s);
    if (write(report_fd, &rep, sizeof rep) != (ssize_t)sizeof rep) _exit(5);
    _exit(0);
}

/* Checks that hold for any set of committed orders: each order complete, nothing orphaned,
 * running totals equal to their rows, balances equal to their entries. */
static void check_consistency(perk_store *s)
{
    if (!test_pg_uri()) test_assert_integrity(test_sqlite_handle(s)); /* the file's structure */
    /* Each order: earn entries as many as its lines, summing to points_earned; a redeem entry
     * exactly when it redeemed; one order.committed event. */
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM orders o WHERE points_earned <> "
                                     "(SELECT COALESCE(SUM(points), 0) FROM ledger l "
                                     " WHERE l.order_id = o.order_id AND kind = 'earn')"),
                     0);
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM orders o WHERE "
                                     "%s <> (SELECT COUNT(*) "
                                     "FROM ledger l WHERE l.order_id = o.order_id AND kind = 'earn')",
                                  test_pg_uri() ? "CAST(order_json::json->>'lines' AS BIGINT)"
                                                : "json_extract(order_json, '$.lines')"),
                     0);
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM orders o WHERE "
                                     "(SELECT COUNT(*) FROM ledger l WHERE l.order_id = o.order_id "
                                     " AND kind = 'redeem' AND points = -o.points_redeemed) "
                                     "<> CASE WHEN o.points_redeemed > 0 THEN 1 ELSE 0 END"),
                     0);
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM orders WHERE order_id NOT IN "
                                     "(SELECT %s FROM events WHERE type = 'order.committed')", JSON_ORDER_ID),
                     0);
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM events WHERE type = 'order.committed'"),
                     test_sql_int(s, "SELECT COUNT(*) FROM orders"));
    assert_int_equal(test_sql_int(s, "SELECT COUNT(DISTINCT %s) FROM events WHERE type = 'order.committed'", JSON_ORDER_ID),
                     test_sql_int(s, "SELECT COUNT(*) FROM orders"));
    /* Nothing belongs to an order that is not there. */
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM ledger WHERE order_id NOT IN "
                                     "(SELECT order_id FROM orders)"),
                     0);
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM budget_uses WHERE order_id NOT IN "
                                     "(SELECT order_id FROM orders)"),
                     0);
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM coupon_uses WHERE order_id NOT IN "
                                     "(SELECT order_id FROM orders)"),
                     0);
    /* Running totals equal their rows. */
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM budget_totals t WHERE uses <> "
                                     "(SELECT COUNT(*) FROM budget_uses u WHERE u.ruleset = t.ruleset "
                                     " AND u.promo_id = t.promo_id AND released_at IS NULL) OR money <> "
                                     "(SELECT SUM(discount) FROM budget_uses u WHERE u.ruleset = t.ruleset "
                                     " AND u.promo_id = t.promo_id AND released_at IS NULL)"),
                     0);
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM coupons c WHERE uses <> (SELECT COUNT(*) "
                                     "FROM coupon_uses u WHERE u.code = c.code AND released_at IS NULL)"),
                     0);
    /* Every balance equals the sum of its entries, is never negative, and the lot replay
     * attributes every debit. */
    pstore_st *st = pstore_prepare(s, "SELECT customer_id, SUM(points) FROM ledger GROUP BY customer_id");
    assert_non_null(st);
    int customers = 0;
    while (pstore_step(st) == PSTORE_ROW) {
        char customer[64];
        snprintf(customer, sizeof customer, "%s", pstore_col_text(st, 0));
        long long sum = pstore_col_int64(st, 1);
        perk_store_points_summary p;
        assert_int_equal(perk_store_points(s, customer, INT64_MAX / 2, NULL, &p), PERK_STORE_OK);
        assert_int_equal(p.balance, sum);
        assert_true(p.balance >= 0);
        pstore_replay r;
        assert_int_equal(pstore_replay_customer(s, customer, &r), PERK_STORE_OK);
        long long remaining = 0;
        for (size_t i = 0; i < r.n_lots; i++) remaining += r.lots[i].remaining;
        assert_int_equal(r.unattributed, 0);
        assert_int_equal(remaining, sum);
        pstore_replay_free(&r);
        customers++;
    }
    pstore_finalize(st);
    printf("# consistency checked for %lld orders, %d customers\n",
           test_sql_int(s, "SELECT COUNT(*) FROM orders"), customers);
}

static void test_contention(void **state)
{
    (void)state;
    int per_worker = quick() ? 500 : 2500;
    test_dir d;
    test_dir_make(&d);
    perk_store *s = test_open(d.db);
    for (int i = 0; i < N_COUPONS; i++) {
        char code[16];
        snprintf(code, sizeof code, "C%02d", i);
        assert_store(s, PERK_STORE_OK, perk_store_coupon_add(s, code, "contest", 0, COUPON_USES, 0, NULL, 0));
    }
    perk_store_close(s);

    int fds[2];
    assert_int_equal(pipe(fds), 0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pids[N_PROCS];
    for (int w = 0; w < N_PROCS; w++) {
        pids[w] = fork();
        assert_true(pids[w] >= 0);
        if (pids[w] == 0) {
            close(fds[0]);
            run_worker(d.db, w, per_worker, fds[1]);
        }
    }
    close(fds[1]);
    for (int w = 0; w < N_PROCS; w++) {
        int status;
        assert_int_equal(waitpid(pids[w], &status, 0), pids[w]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    worker_report total = { 0 }, rep;
    int reports = 0;
    while (read(fds[0], &rep, sizeof rep) == (ssize_t)sizeof rep) {
        reports++;
        total.committed += rep.committed;
        total.budget_retries += rep.budget_retries;
        total.promos_dropped += rep.promos_dropped;
        total.coupons_dropped += rep.coupons_dropped;
        total.points_retries += rep.points_retries;
        total.busy_retries += rep.busy_retries;
        total.bad_failure_lists += rep.bad_failure_lists;
    }
    close(fds[0]);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("# %d processes committed %d orders in %.2f s: %d budget retries (%d promos, %d "
           "coupons dropped), %d points retries, %d busy retries\n",
           N_PROCS, total.committed, secs, total.budget_retries, total.promos_dropped, total.coupons_dropped,
           total.points_retries, total.busy_retries);
    assert_int_equal(reports, N_PROCS);
    assert_int_equal(total.committed, N_PROCS * per_worker);
    assert_int_equal(total.bad_failure_lists, 0);
    assert_true(total.budget_retries > 0);

    s = test_open(d.db);
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM orders"), N_PROCS * per_worker);
    /* Budgets: the contested ones are exactly exhausted, never exceeded. */
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM budget_uses WHERE promo_id = 'P500'"), P500_LIMIT);
    long long money = test_sql_int(s, "SELECT SUM(discount) FROM budget_uses WHERE promo_id='MONEY'");
    assert_true(money <= MONEY_LIMIT);
    assert_true(money > MONEY_LIMIT - 1000); /* demand far exceeds it; discounts are < 1000 */
    assert_true(test_sql_int(s, "SELECT MAX(n) FROM (SELECT COUNT(*) AS n FROM budget_uses WHERE "
                                "promo_id = 'PERCUST' GROUP BY customer_id) AS g") <= PER_CUSTOMER_LIMIT);
    assert_int_equal(test_sql_int(s, "SELECT MAX(n) FROM (SELECT COUNT(*) AS n FROM coupon_uses "
                                     "GROUP BY code) AS g"),
                     COUPON_USES);
    assert_true(test_sql_int(s, "SELECT COUNT(*) FROM coupon_uses") <= N_COUPONS * COUPON_USES);
    int64_t uses, spent;
    assert_store(s, PERK_STORE_OK, perk_store_budget_usage(s, "shop", "P500", NULL, &uses, &spent, NULL));
    assert_int_equal(uses, P500_LIMIT);
    assert_int_equal(spent, P500_LIMIT * 100);
    check_consistency(s);
    perk_store_close(s);
    test_dir_remove(&d);
}

/* The crash child: commits forever until killed. Order ids are unique per life. It writes one
 * byte to ready_fd once the store is open, so that the parent's random delay measures time spent
 * committing, not starting up (which a loaded machine or valgrind can make long), and a second
 * byte after its first committed order, which the parent waits for in some lives so that
 * committed orders surely exist however slow the machine (the parent may have closed the pipe by
 * then: SIGPIPE is ignored and the write's failure does not matter). */
static void run_crash_child(const char *path, int life, int ready_fd)
{
    perk_store *s = NULL;
    if (perk_store_open(path, &s) != PERK_STORE_OK || perk_store_set_durable(s, false) != PERK_STORE_OK)
        _exit(2);                     /* the parent fails the test on any child that exits by itself */
    pstore_trust_caller_for_tests(s); /* hand-made orders, as in the other store tests */
    char one = 1;
    signal(SIGPIPE, SIG_IGN);
    if (write(ready_fd, &one, 1) != 1) _exit(4);
    unsigned seed = 104729u * (unsigned)(life + 1);
    for (int n = 0;; n++) {
        worker_order wo;
        build_order(&wo, life, n, &seed);
        snprintf(wo.id, sizeof wo.id, "K%d-%d", life, n);
        wo.o.order_id = wo.id;
        wo.o.points_redeemed = 0;
        perk_store_commit_result r;
        perk_store_status st = perk_store_commit(s, &wo.o, NULL, &r);
        if (st == PERK_STORE_BUDGET_EXCEEDED) {
            int p = 0, c = 0;
            drop_failures(&wo, &r, &p, &c);
            perk_store_commit_result_free(&r);
            st = perk_store_commit(s, &wo.o, NULL, &r);
        }
        perk_store_commit_result_free(&r);
        if (st != PERK_STORE_OK && st != PERK_STORE_BUDGET_EXCEEDED && st != PERK_STORE_BUSY) _exit(3);
        if (st == PERK_STORE_OK && ready_fd >= 0) {
            ssize_t ignored = write(ready_fd, &one, 1);
            (void)ignored;
            close(ready_fd);
            ready_fd = -1;
        }
    }
}

static void test_crash_safety(void **state)
{
    (void)state;
    int kills = quick() ? 50 : 200;
    test_dir d;
    test_dir_make(&d);
    unsigned seed = (unsigned)getpid();
    int died_by_kill = 0;
    /* Create the schema first: migrating a new file takes tens of milliseconds (it is fsync'ed),
     * longer than most lives below, and a killed migration is rolled back, so on a slow disk or
     * under ASan no life might ever get past it and no order would be committed at all. */
    perk_store_close(test_open(d.db));
    for (int life = 0; life < kills; life++) {
        int ready[2];
        assert_int_equal(pipe(ready), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(ready[0]);
            run_crash_child(d.db, life, ready[1]);
        }
        close(ready[1]);
        char byte;
        ssize_t got = read(ready[0], &byte, 1);
        if (got != 1) {
            int status;
            waitpid(pid, &status, 0);
            fail_msg("crash child %d died before opening the store", life);
        }
        /* every tenth life is killed only after it has committed an order */
        if (life % 10 == 0 && read(ready[0], &byte, 1) != 1) {
            int status;
            waitpid(pid, &status, 0);
            fail_msg("crash child %d died before committing an order", life);
        }
        close(ready[0]);
        /* Mostly microseconds to a few milliseconds; sometimes long enough for many commits. */
        unsigned r = next_rand(&seed);
        long us = r % 4 == 0   ? (long)(r % 200)
                  : r % 4 == 3 ? 2000 + (long)(r % 8000)
                               : 200 + (long)(r % 2800);
        if (life % 10 == 0)
            us = 30000; /* every tenth life commits for a while, so committed orders surely exist */
        if (test_under_valgrind()) us *= 20; /* a commit takes some 20 times longer */
        struct timespec ts = { .tv_sec = us / 1000000, .tv_nsec = us % 1000000 * 1000 };
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (WIFEXITED(status)) fail_msg("crash child %d exited by itself with %d", life, WEXITSTATUS(status));
        died_by_kill += WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
    }
    assert_int_equal(died_by_kill, kills);
    perk_store *s = test_open(d.db);
    long long orders = test_sql_int(s, "SELECT COUNT(*) FROM orders");
    printf("# %d kills, %lld orders survived\n", kills, orders);
    assert_true(orders > 0);
    check_consistency(s);
    /* The store still works after all that. */
    perk_store_order o = test_order("after", "cust1", 5, 100);
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, NULL, NULL));
    perk_store_close(s);
    test_dir_remove(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_contention),
        cmocka_unit_test(test_crash_safety),
    };
    return cmocka_run_group_tests_name("store_concurrency", tests, NULL, NULL);
}
