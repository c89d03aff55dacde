/* test_store_faults.c - what happens when the disk is full (simulated with PRAGMA
 * max_page_count), when the database is read-only, and when another process holds the write
 * lock: clear statuses and messages, nothing half-written, earlier data intact. */
#include "store_test_util.h"

#include <sys/stat.h>

static void commit_simple(perk_store *s, const char *id, int64_t time)
{
    perk_store_points_line e = { "r", 10 };
    perk_store_promo_use promo = { "P", 5, -1, -1, -1 };
    perk_store_order o = test_order(id, "cat", time, 100);
    o.earned = &e;
    o.n_earned = 1;
    o.promos = &promo;
    o.n_promos = 1;
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, NULL, NULL));
}

static void test_disk_full(void **state)
{
    TEST_SQLITE_ONLY("a full disk is simulated with PRAGMA max_page_count on the file");
    (void)state;
    test_dir d;
    test_dir_make(&d);
    perk_store *s = test_open(d.db);
    char id[32];
    for (int i = 0; i < 20; i++) {
        snprintf(id, sizeof id, "OK%d", i);
        commit_simple(s, id, i);
    }
    long long pages = test_sql_int(s, "PRAGMA page_count");
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA max_page_count = %lld", pages + 8);
    assert_int_equal(sqlite3_exec(test_sqlite_handle(s), sql, NULL, NULL, NULL), SQLITE_OK);

    /* Big orders until the file cannot grow. */
    char *json = malloc(6000);
    strcpy(json, "{\"note\":\"");
    memset(json + 9, 'x', 5000);
    strcpy(json + 5009, "\"}");
    perk_store_points_line e = { "r", 10 };
    perk_store_status st = PERK_STORE_OK;
    int committed = 20, i;
    for (i = 0; i < 200 && st == PERK_STORE_OK; i++) {
        snprintf(id, sizeof id, "BIG%d", i);
        perk_store_order o = test_order(id, "cat", 100 + i, 100);
        o.earned = &e;
        o.n_earned = 1;
        o.order_json = json;
        st = perk_store_commit(s, &o, NULL, NULL);
        if (st == PERK_STORE_OK) committed++;
    }
    assert_int_equal(st, PERK_STORE_FULL);
    printf("# disk full after %d orders: %s\n", committed, perk_store_errmsg(s));
    char expected[128];
    snprintf(expected, sizeof expected, "database or disk is full while committing order %s;", id);
    assert_non_null(strstr(perk_store_errmsg(s), expected));
    assert_non_null(strstr(perk_store_errmsg(s), "nothing was committed"));
    /* Nothing of the failed order; everything before intact. */
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM orders WHERE order_id='%s'", id), 0);
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM ledger WHERE order_id='%s'", id), 0);
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM orders"), committed);
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM events WHERE type='order.committed'"), committed);
    assert_int_equal(test_points(s, "cat", 1000, NULL).balance, committed * 10);
    test_assert_integrity(test_sqlite_handle(s));
    /* A publish fails the same way. */
    uint8_t *big = calloc(1, 1 << 20);
    int64_t v;
    assert_store(s, PERK_STORE_FULL, perk_store_publish(s, big, 1 << 20, "", "a", "", 0, 1, &v));
    assert_non_null(strstr(perk_store_errmsg(s), "nothing was published"));
    free(big);

    /* Space is back: the same order commits. */
    assert_int_equal(sqlite3_exec(test_sqlite_handle(s), "PRAGMA max_page_count = 1000000", NULL, NULL, NULL), SQLITE_OK);
    perk_store_order o = test_order(id, "cat", 100 + i, 100);
    o.earned = &e;
    o.n_earned = 1;
    o.order_json = json;
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, NULL, NULL));
    free(json);
    perk_store_close(s);
    test_dir_remove(&d);
}

typedef struct counter {
    int n;
} counter;

static int count_versions(const perk_store_version_info *v, void *ctx)
{
    (void)v;
    ((counter *)ctx)->n++;
    return 0;
}

/* Every write API on a read-only handle fails with PERK_STORE_READONLY; reads work. */
static void check_readonly_handle(perk_store *ro)
{
    assert_true(perk_store_is_readonly(ro));
    perk_store_points_summary p = test_points(ro, "cat", 1000, NULL);
    assert_int_equal(p.balance, 30);
    counter c = { 0 };
    assert_store(ro, PERK_STORE_OK, perk_store_history(ro, 1000, count_versions, &c));
    assert_int_equal(c.n, 1);
    perk_store_coupon_info info;
    assert_store(ro, PERK_STORE_OK, perk_store_coupon_check(ro, "RO", "x", 1, &info));
    assert_int_equal(info.status, PERK_STORE_COUPON_VALID);
    test_events ev;
    test_events_read(ro, 0, &ev);
    assert_true(ev.count > 0);
    test_events_free(&ev);

    perk_store_order o = test_order("NEW", "cat", 5, 1);
    assert_store(ro, PERK_STORE_READONLY, perk_store_commit(ro, &o, NULL, NULL));
    assert_non_null(strstr(perk_store_errmsg(ro), "read-only"));
    const uint8_t code[] = { 1 };
    assert_store(ro, PERK_STORE_READONLY, perk_store_publish(ro, code, 1, "", "a", "", 0, 9, NULL));
    assert_store(ro, PERK_STORE_READONLY, perk_store_coupon_add(ro, "X", "c", 0, 0, 0, NULL, 0));
    assert_store(ro, PERK_STORE_READONLY, perk_store_ack(ro, "crm", 1));
    assert_store(ro, PERK_STORE_READONLY, perk_store_expire_points(ro, 9, NULL, NULL, NULL));
    assert_store(ro, PERK_STORE_READONLY, perk_store_refund(ro, "OK0", "R", NULL, 0, 0, 9, NULL, true, NULL));
}

static void copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    assert_non_null(in);
    assert_non_null(out);
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0) assert_int_equal(fwrite(buf, 1, n, out), n);
    fclose(in);
    fclose(out);
}

static void test_readonly(void **state)
{
    TEST_SQLITE_ONLY("a read-only file (chmod, copies of the file)");
    (void)state;
    test_dir d;
    test_dir_make(&d);
    perk_store *s = test_open(d.db);
    for (int i = 0; i < 3; i++) {
        char id[16];
        snprintf(id, sizeof id, "OK%d", i);
        commit_simple(s, id, i);
    }
    const uint8_t code[] = { 1, 2 };
    assert_store(s, PERK_STORE_OK, perk_store_publish(s, code, 2, "", "a", "", 0, 1, NULL));
    assert_store(s, PERK_STORE_OK, perk_store_coupon_add(s, "RO", "c", 0, 0, 0, NULL, 0));

    /* 1. A read-only handle while the writer is still open. */
    perk_store *ro = NULL;
    assert_store(ro, PERK_STORE_OK, perk_store_open_readonly(d.db, &ro));
    check_readonly_handle(ro);
    perk_store_close(ro);
    perk_store_close(s);

    /* 2. A backup copy (made with the same API operators use), opened read-only. */
    char copy[400];
    snprintf(copy, sizeof copy, "%s/copy.db", d.dir);
    copy_file(d.db, copy); /* the writer closed cleanly: everything is in the main file */
    assert_int_equal(chmod(copy, 0444), 0);
    assert_store(ro, PERK_STORE_OK, perk_store_open_readonly(copy, &ro));
    check_readonly_handle(ro);
    perk_store_close(ro);

    /* 3. chmod 0444 and a normal open: only meaningful when not root (root may write anyway). */
    if (geteuid() != 0) {
        assert_int_equal(chmod(d.db, 0444), 0);
        perk_store *w = NULL;
        assert_store(w, PERK_STORE_OK, perk_store_open(d.db, &w));
        check_readonly_handle(w);
        perk_store_close(w);
        assert_int_equal(chmod(d.db, 0644), 0);
    } else {
        printf("# running as root: chmod 0444 cannot stop writes, tested via read-only opens\n");
    }

    /* 4. A read-only file that needs migrating cannot be opened. */
    char old[400];
    snprintf(old, sizeof old, "%s/old.db", d.dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(old, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, pstore_migrations[0].sql, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 1", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(perk_store_open_readonly(old, &ro), PERK_STORE_READONLY);
    assert_non_null(strstr(perk_store_errmsg(ro), "needs migrating"));
    perk_store_close(ro);
    /* 5. A missing file is not created by a read-only open. */
    char missing[400];
    snprintf(missing, sizeof missing, "%s/missing.db", d.dir);
    assert_int_equal(perk_store_open_readonly(missing, &ro), PERK_STORE_IO);
    perk_store_close(ro);
    assert_int_equal(access(missing, F_OK), -1);
    test_dir_remove(&d);
}

static void test_busy(void **state)
{
    TEST_SQLITE_ONLY("another process holding the file's write lock");
    (void)state;
    test_dir d;
    test_dir_make(&d);
    perk_store *s = test_open(d.db);
    commit_simple(s, "first", 1);
    sqlite3 *other;
    assert_int_equal(sqlite3_open(d.db, &other), SQLITE_OK);
    assert_int_equal(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    assert_store(s, PERK_STORE_OK, perk_store_set_busy_timeout(s, 100));
    perk_store_order o = test_order("second", "cat", 2, 100);
    assert_store(s, PERK_STORE_BUSY, perk_store_commit(s, &o, NULL, NULL));
    assert_non_null(strstr(perk_store_errmsg(s), "busy timeout 100 ms"));
    assert_non_null(strstr(perk_store_errmsg(s), "nothing was committed"));
    /* Readers are not blocked by a writer in WAL mode. */
    assert_int_equal(test_points(s, "cat", 5, NULL).balance, 10);
    assert_int_equal(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other);
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, NULL, NULL));
    perk_store_close(s);
    test_dir_remove(&d);
}

/* The online backup (what `sqlite3 perk.db ".backup backup.db"` does) taken while another
 * handle keeps committing gives a consistent store that opens and reads. */
static void test_online_backup(void **state)
{
    TEST_SQLITE_ONLY("SQLite's online backup API (PostgreSQL: pg_dump)");
    (void)state;
    test_dir d;
    test_dir_make(&d);
    perk_store *s = test_open(d.db);
    for (int i = 0; i < 50; i++) {
        char id[16];
        snprintf(id, sizeof id, "B%d", i);
        commit_simple(s, id, i);
    }
    char path[400];
    snprintf(path, sizeof path, "%s/backup.db", d.dir);
    sqlite3 *dst;
    assert_int_equal(sqlite3_open(path, &dst), SQLITE_OK);
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", test_sqlite_handle(s), "main");
    assert_non_null(b);
    int rc, step = 0;
    while ((rc = sqlite3_backup_step(b, 2)) == SQLITE_OK) {
        /* A commit in the middle: the backup restarts and still ends consistent. */
        if (step++ == 1) commit_simple(s, "DURING", 100);
    }
    assert_int_equal(rc, SQLITE_DONE);
    assert_int_equal(sqlite3_backup_finish(b), SQLITE_OK);
    sqlite3_close(dst);
    perk_store *ro = NULL;
    assert_store(ro, PERK_STORE_OK, perk_store_open_readonly(path, &ro));
    test_assert_integrity(test_sqlite_handle(ro));
    long long orders = test_sql_int(ro, "SELECT COUNT(*) FROM orders");
    assert_true(orders == 50 || orders == 51);
    assert_int_equal(test_points(ro, "cat", 1000, NULL).balance, orders * 10);
    assert_int_equal(test_sql_int(ro, "SELECT COUNT(*) FROM events WHERE type='order.committed'"), orders);
    perk_store_close(ro);
    perk_store_close(s);
    test_dir_remove(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_disk_full),
        cmocka_unit_test(test_readonly),
        cmocka_unit_test(test_busy),
        cmocka_unit_test(test_online_backup),
    };
    return cmocka_run_group_tests_name("store_faults", tests, NULL, NULL);
}
