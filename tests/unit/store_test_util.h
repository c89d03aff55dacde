/* store_test_util.h - helpers shared by the store tests: scratch directories, opening a fresh
 * store, building orders, and reading single values through the store's driver layer (db.h),
 * so they work on any backend. SQLite-only helpers (fault injection, integrity_check) take the
 * connection from test_sqlite_handle(). The cmocka fixture built on them (a fresh store per
 * test) is store_fixture.h.
 *
 * With PERK_TEST_PG set (a libpq URI of a throwaway cluster: tests/pg/with-cluster.sh), every
 * scratch store is a fresh PostgreSQL schema instead of a file (test_dir_make: CREATE SCHEMA
 * t_<pid>_<n>, the URI with options=-csearch_path=...; dropped by test_dir_remove), so the same
 * tests run on both backends. Tests that are SQLite-only by nature call TEST_SQLITE_ONLY("why"),
 * which skips them there. */
#ifndef STORE_TEST_UTIL_H
#define STORE_TEST_UTIL_H

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/store.h"
#include "store/store_internal.h"

#include "store/db_pg.h"

#include <sqlite3.h> /* the SQLite-only helpers and fault injection */

/* The SQLite driver's connection of a store handle, for SQLite-only tests (fault injection,
 * PRAGMA integrity_check, locking the file from outside). */
static inline sqlite3 *test_sqlite_handle(perk_store *s)
{
    if (!s->db) fail_msg("a SQLite-only test ran on another backend: mark it TEST_SQLITE_ONLY");
    return s->db;
}

/* The PostgreSQL cluster the store tests run against (PERK_TEST_PG), or NULL: SQLite files. */
static inline const char *test_pg_uri(void)
{
    const char *v = getenv("PERK_TEST_PG");
    return v && *v ? v : NULL;
}

/* The order id of an event's JSON data, in the backend's SQL. */
#define JSON_ORDER_ID (test_pg_uri() ? "(data::json->>'order_id')" : "json_extract(data, '$.order_id')")

/* Skips a test that is SQLite-only by nature when the suite runs on PostgreSQL, saying why. */
#define TEST_SQLITE_ONLY(why)                                                  \
    do {                                                                       \
        if (test_pg_uri()) {                                                   \
            print_message("[  SKIP    ] on PostgreSQL: %s\n", (why));          \
            skip();                                                            \
        }                                                                      \
    } while (0)

/* tests/run.sh sets PERK_TEST_VALGRIND under valgrind, where everything runs 20 to 50 times
 * slower: time bounds do not apply and waits must be longer. */
static inline bool test_under_valgrind(void)
{
    const char *v = getenv("PERK_TEST_VALGRIND");
    return v && *v && strcmp(v, "0") != 0;
}

/* A scratch directory with a database path inside it: a file in the directory, or on
 * PostgreSQL (PERK_TEST_PG) the address of a fresh schema of its own. */
typedef struct test_dir {
    char dir[256];
    char db[1024];
    char pg_schema[64]; /* "" on SQLite */
} test_dir;

/* Runs SQL on the test cluster over a connection of its own; fails the test when it fails. */
static inline void test_pg_admin(const char *sql)
{
    pstore_pg *db = NULL;
    char err[512];
    if (pstore_pg_open(test_pg_uri(), false, &db, err, sizeof err) != SQLITE_OK) fail_msg("%s", err);
    int rc = pstore_pg_exec(db, sql);
    if (rc != SQLITE_OK) {
        char msg[600];
        snprintf(msg, sizeof msg, "%s", pstore_pg_errmsg(db));
        pstore_pg_close(db);
        fail_msg("%s: %s", sql, msg);
    }
    pstore_pg_close(db);
}

static inline void test_dir_make(test_dir *t)
{
    const char *base = getenv("TMPDIR");
    snprintf(t->dir, sizeof t->dir, "%s/perk-store-XXXXXX", base && *base ? base : "/tmp");
    assert_non_null(mkdtemp(t->dir));
    snprintf(t->db, sizeof t->db, "%s/perk.db", t->dir);
    t->pg_schema[0] = '\0';
    const char *uri = test_pg_uri();
    if (uri) {
        static int n;
        snprintf(t->pg_schema, sizeof t->pg_schema, "t_%ld_%d", (long)getpid(), ++n);
        char sql[256];
        snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS %s CASCADE; CREATE SCHEMA %s", t->pg_schema,
                 t->pg_schema);
        test_pg_admin(sql);
        int len = snprintf(t->db, sizeof t->db, "%s%soptions=-csearch_path%%3D%s", uri,
                           strchr(uri, '?') ? "&" : "?", t->pg_schema);
        assert_true(len > 0 && (size_t)len < sizeof t->db);
    }
}

static inline void test_dir_remove(test_dir *t)
{
    if (t->pg_schema[0]) {
        char sql[160];
        snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS %s CASCADE", t->pg_schema);
        test_pg_admin(sql);
        t->pg_schema[0] = '\0';
    }
    DIR *d = opendir(t->dir);
    if (!d) return;
    struct dirent *e;
    char path[600];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        snprintf(path, sizeof path, "%s/%s", t->dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(t->dir);
}

/* Opens the store or fails the test with its message. */
static inline perk_store *test_open(const char *path)
{
    perk_store *s = NULL;
    perk_store_status st = perk_store_open(path, &s);
    if (st != PERK_STORE_OK)
        fail_msg("open %s: %s: %s", path, perk_store_status_name(st), perk_store_errmsg(s));
    /* Tests do not need fsync per commit; one test checks durable mode separately. */
    assert_int_equal(perk_store_set_durable(s, false), PERK_STORE_OK);
    /* Most store tests commit orders with hand-made limits and times (version 1 of rule set
     * "shop", never published; times like 1000): they test the store's bookkeeping, and run with
     * the caller trusted as before. test_store_trust.c and test_store_adversarial.c open with
     * test_open_strict and check that nothing a caller claims decides money or limits. */
    pstore_trust_caller_for_tests(s);
    return s;
}

/* Opens the store as production code does: limits, policy and time come from the store. */
static inline perk_store *test_open_strict(const char *path)
{
    perk_store *s = NULL;
    perk_store_status st = perk_store_open(path, &s);
    if (st != PERK_STORE_OK)
        fail_msg("open %s: %s: %s", path, perk_store_status_name(st), perk_store_errmsg(s));
    assert_int_equal(perk_store_set_durable(s, false), PERK_STORE_OK);
    return s;
}

/* Asserts a status, printing the store's message when it differs. */
#define assert_store(store, expected, call)                                                  \
    do {                                                                                     \
        perk_store_status got_ = (call);                                                     \
        if (got_ != (expected))                                                              \
            fail_msg("%s: expected %s, got %s: %s", #call, perk_store_status_name(expected), \
                     perk_store_status_name(got_), perk_store_errmsg(store));                \
    } while (0)

/* One integer from a SQL query with printf-style formatting. */
static inline long long test_sql_int(perk_store *s, const char *fmt, ...)
{
    char sql[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    pstore_st *st = pstore_prepare(s, sql);
    if (!st) fail_msg("prepare %s: %s", sql, perk_store_errmsg(s));
    long long v = -999999;
    int rc = pstore_step(st);
    if (rc == PSTORE_ROW)
        v = pstore_col_int64(st, 0);
    else if (rc != PSTORE_DONE)
        fail_msg("step %s: %s", sql, pstore_db_errmsg(s, rc));
    pstore_finalize(st);
    return v;
}

/* Runs SQL that writes rows (a test's hand-made damage), through the driver; fails the test
 * when it fails. */
static inline void test_sql_exec(perk_store *s, const char *sql)
{
    if (pstore_exec(s, sql, "running a test's SQL") != PERK_STORE_OK) fail_msg("%s: %s", sql, perk_store_errmsg(s));
}

/* SQLite-only: asserts PRAGMA integrity_check says "ok". */
static inline void test_assert_integrity(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
}

/* A simple order with no promos, coupons or points; tests fill in what they need. */
static inline perk_store_order test_order(const char *id, const char *customer, int64_t time, int64_t payable)
{
    perk_store_order o = { 0 };
    o.order_id = id;
    o.customer_id = customer;
    o.ruleset = "shop";
    o.ruleset_version = 1;
    o.time = time;
    o.currency = "CNY";
    o.subtotal = payable;
    o.payable = payable;
    return o;
}

/* Points summary shortcut. */
static inline perk_store_points_summary test_points(perk_store *s, const char *customer, int64_t now,
                                                    const perk_store_policy *policy)
{
    perk_store_points_summary p;
    assert_store(s, PERK_STORE_OK, perk_store_points(s, customer, now, policy, &p));
    return p;
}

/* Collects events into one newline-separated string: "type data\n". */
typedef struct test_events {
    char *text;
    size_t len;
    int count;
    long long last_id;
} test_events;

static inline int test_events_cb(int64_t id, const char *type, int64_t time, const char *data, void *ctx)
{
    (void)time;
    test_events *e = ctx;
    size_t add = strlen(type) + strlen(data) + 3;
    char *grown = realloc(e->text, e->len + add);
    assert_non_null(grown);
    e->text = grown;
    e->len += (size_t)snprintf(e->text + e->len, add, "%s %s\n", type, data);
    e->count++;
    e->last_id = id;
    return 0;
}

static inline void test_events_read(perk_store *s, int64_t after, test_events *e)
{
    memset(e, 0, sizeof *e);
    assert_store(s, PERK_STORE_OK, perk_store_events(s, after, 10000, test_events_cb, e));
    if (!e->text) e->text = calloc(1, 1);
}

static inline void test_events_free(test_events *e)
{
    free(e->text);
    memset(e, 0, sizeof *e);
}

#endif
