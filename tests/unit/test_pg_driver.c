/* test_pg_driver.c - the PostgreSQL driver of the store (src/store/db_pg.c) and its schema
 * (schema_pg.c) against a real PostgreSQL server: PERK_TEST_PG holds its libpq URI
 * (tests/pg/with-cluster.sh starts a throwaway cluster and sets it; `make test-pg-driver`).
 * Placeholders, int64 limits, text and blobs round trip, parameter typing, RETURNING and changes,
 * constraint, serialization and deadlock failures mapped to SQLite codes, rollback, migrations (twice, and
 * from two connections at once, the same tables and columns as SQLite's schema) and reconnection
 * after the server ended the session. Each test works in its own PostgreSQL schema. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include "store/db_pg.h"
#include "store/store_internal.h"

static const char *test_uri(void)
{
    const char *uri = getenv("PERK_TEST_PG");
    if (!uri || !*uri) {
        fprintf(stderr, "test_pg_driver: PERK_TEST_PG is not set: run it through tests/pg/with-cluster.sh "
                        "(make test-pg-driver), which starts a PostgreSQL cluster\n");
        exit(1);
    }
    return uri;
}

/* A connection whose search_path is the PostgreSQL schema `schema` (in the URI, so that a
 * reconnection keeps it); fresh: the schema is dropped and created first. */
static pstore_pg *open_in(const char *schema, bool fresh, bool readonly)
{
    const char *uri = test_uri();
    char err[512];
    pstore_pg *db = NULL;
    if (fresh) {
        assert_int_equal(pstore_pg_open(uri, false, &db, err, sizeof err), SQLITE_OK);
        char sql[256];
        snprintf(sql, sizeof sql,
                 "SET client_min_messages = warning; DROP SCHEMA IF EXISTS %s CASCADE; CREATE SCHEMA %s", schema,
                 schema);
        assert_int_equal(pstore_pg_exec(db, sql), SQLITE_OK);
        pstore_pg_close(db);
        db = NULL;
    }
    char conninfo[1024];
    snprintf(conninfo, sizeof conninfo, "%s%coptions=-c%%20search_path%%3D%s%%20-c%%20client_min_messages%%3Dwarning",
             uri, strchr(uri, '?') ? '&' : '?', schema);
    int rc = pstore_pg_open(conninfo, readonly, &db, err, sizeof err);
    if (rc != SQLITE_OK) fail_msg("open %s: %s", conninfo, err);
    return db;
}

static void exec_ok(pstore_pg *db, const char *sql)
{
    int rc = pstore_pg_exec(db, sql);
    if (rc != SQLITE_OK) fail_msg("%s: %s", sql, pstore_pg_errmsg(db));
}

/* The one integer a query returns. */
static int64_t query_int(pstore_pg *db, const char *sql)
{
    pstore_pg_stmt *st = pstore_pg_prepare(db, sql);
    assert_non_null(st);
    int rc = pstore_pg_step(st);
    if (rc != PSTORE_PG_ROW) fail_msg("%s: %d %s", sql, rc, pstore_pg_errmsg(db));
    int64_t v = pstore_pg_col_int64(st, 0);
    assert_int_equal(pstore_pg_step(st), PSTORE_PG_DONE);
    pstore_pg_reset(st);
    return v;
}

static void test_translate(void **state)
{
    (void)state;
    int n = -1;
    char *t = pstore_pg_translate("SELECT ?, '?''?', \"a?\"\"b\", ? -- what?\n, ?5, ? /* ? */ FROM x WHERE y = ?2",
                                  &n);
    assert_non_null(t);
    assert_string_equal(t, "SELECT $1, '?''?', \"a?\"\"b\", $2 -- what?\n, $5, $6 /* ? */ FROM x WHERE y = $2");
    assert_int_equal(n, 6);
    free(t);
    t = pstore_pg_translate("SELECT 1", &n);
    assert_string_equal(t, "SELECT 1");
    assert_int_equal(n, 0);
    free(t);
    t = pstore_pg_translate("SELECT ?3", &n);
    assert_string_equal(t, "SELECT $3");
    assert_int_equal(n, 3);
    free(t);
    assert_null(pstore_pg_translate("SELECT ?0", &n));
    assert_null(pstore_pg_translate("SELECT ?70000", &n));

    /* and on the server: the literal's ? is text, the others parameters */
    pstore_pg *db = open_in("t_translate", true, false);
    pstore_pg_stmt *st = pstore_pg_prepare(db, "SELECT '?' || ? || 'it''s ?', ?2 || ?1, \"?\" FROM (SELECT 7 AS \"?\") q");
    assert_non_null(st);
    assert_int_equal(pstore_pg_bind_text(st, 1, "a"), SQLITE_OK);
    assert_int_equal(pstore_pg_bind_text(st, 2, "b"), SQLITE_OK);
    assert_int_equal(pstore_pg_bind_text(st, 3, "c"), SQLITE_RANGE);
    assert_int_equal(pstore_pg_step(st), PSTORE_PG_ROW);
    assert_string_equal(pstore_pg_col_text(st, 0), "?ait's ?");
    assert_string_equal(pstore_pg_col_text(st, 1), "ba");
    assert_int_equal(pstore_pg_col_int64(st, 2), 7);
    assert_int_equal(pstore_pg_col_count(st), 3);
    assert_int_equal(pstore_pg_step(st), PSTORE_PG_DONE);
    pstore_pg_reset(st);
    /* the same text at the same address: the same statement */
    static const char same[] = "SELECT 1";
    assert_ptr_equal(pstore_pg_prepare(db, same), pstore_pg_prepare(db, same));
    pstore_pg_close(db);
}

static void test_int64_limits(void **state)
{
    (void)state;
    pstore_pg *db = open_in("t_int64", true, false);
    exec_ok(db, "CREATE TABLE n (k TEXT PRIMARY KEY, v BIGINT NOT NULL)");
    const struct {
        const char *k;
        int64_t v;
    } cases[] = { { "min", INT64_MIN }, { "max", INT64_MAX }, { "zero", 0 }, { "minus1", -1 } };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pstore_pg_stmt *ins = pstore_pg_prepare(db, "INSERT INTO n (k, v) VALUES (?, ?)");
        pstore_pg_bind_text(ins, 1, cases[i].k);
        pstore_pg_bind_int64(ins, 2, cases[i].v);
        assert_int_equal(pstore_pg_step(ins), PSTORE_PG_DONE);
        pstore_pg_reset(ins);
        pstore_pg_stmt *sel = pstore_pg_prepare(db, "SELECT v, ? FROM n WHERE k = ?");
        pstore_pg_bind_int64(sel, 1, cases[i].v);
        pstore_pg_bind_text(sel, 2, cases[i].k);
        assert_int_equal(pstore_pg_step(sel), PSTORE_PG_ROW);
        assert_true(pstore_pg_col_int64(sel, 0) == cases[i].v);
        assert_true(pstore_pg_col_int64(sel, 1) == cases[i].v);
        pstore_pg_reset(sel);
    }
    /* SUM of bigints is numeric; booleans come as t/f */
    assert_int_equal(query_int(db, "SELECT SUM(v) FROM n WHERE k IN ('max', 'minus1')"), INT64_MAX - 1);
    assert_int_equal(query_int(db, "SELECT EXISTS (SELECT 1 FROM n WHERE k = 'max')"), 1);
    assert_int_equal(query_int(db, "SELECT EXISTS (SELECT 1 FROM n WHERE k = 'none')"), 0);
    /* a value out of bigint's range is refused by the server, not wrapped */
    pstore_pg_stmt *over = pstore_pg_prepare(db, "SELECT v + 1 FROM n WHERE k = 'max'");
    assert_int_equal(pstore_pg_step(over), SQLITE_ERROR);
    assert_non_null(strstr(pstore_pg_errmsg(db), "22003"));
    pstore_pg_reset(over);
    pstore_pg_close(db);
}

static void test_text(void **state)
{
    (void)state;
    pstore_pg *db = open_in("t_text", true, false);
    exec_ok(db, "CREATE TABLE s (id BIGINT PRIMARY KEY, t TEXT)");
    const char *values[] = { "it's \"quoted\" \\ back", "Zürich 東京 € 🎉", "", NULL, "?" };
    for (int i = 0; i < 5; i++) {
        pstore_pg_stmt *ins = pstore_pg_prepare(db, "INSERT INTO s (id, t) VALUES (?, ?)");
        pstore_pg_bind_int64(ins, 1, i);
        pstore_pg_bind_text(ins, 2, values[i]);
        assert_int_equal(pstore_pg_step(ins), PSTORE_PG_DONE);
        pstore_pg_reset(ins);
    }
    pstore_pg_stmt *sel = pstore_pg_prepare(db, "SELECT t, t IS NULL, length(t) FROM s ORDER BY id");
    for (int i = 0; i < 5; i++) {
        assert_int_equal(pstore_pg_step(sel), PSTORE_PG_ROW);
        if (values[i]) {
            assert_string_equal(pstore_pg_col_text(sel, 0), values[i]);
            assert_false(pstore_pg_col_is_null(sel, 0));
            assert_int_equal(pstore_pg_col_int64(sel, 1), 0);
        } else {
            assert_null(pstore_pg_col_text(sel, 0));
            assert_true(pstore_pg_col_is_null(sel, 0));
            assert_int_equal(pstore_pg_col_int64(sel, 0), 0);
            assert_int_equal(pstore_pg_col_int64(sel, 1), 1);
        }
    }
    assert_int_equal(pstore_pg_step(sel), PSTORE_PG_DONE);
    pstore_pg_reset(sel);
    /* characters, not bytes: the session speaks UTF-8 */
    assert_int_equal(query_int(db, "SELECT length(t) FROM s WHERE id = 1"), 13);
    assert_int_equal(query_int(db, "SELECT octet_length(t) FROM s WHERE id = 1"), 23);
    assert_int_equal(query_int(db, "SELECT length(t) FROM s WHERE id = 2"), 0);
    pstore_pg_close(db);
}

static void test_blob(void **state)
{
    (void)state;
    pstore_pg *db = open_in("t_blob", true, false);
    exec_ok(db, "CREATE TABLE b (id BIGINT PRIMARY KEY, data BYTEA, other BYTEA)");
    unsigned char bytes[600];
    for (size_t i = 0; i < sizeof bytes; i++) bytes[i] = (unsigned char)(i * 7 + (i >> 8));
    bytes[0] = 0;
    bytes[1] = '\\';
    pstore_pg_stmt *ins = pstore_pg_prepare(db, "INSERT INTO b (id, data, other) VALUES (?, ?, ?)");
    pstore_pg_bind_int64(ins, 1, 1);
    pstore_pg_bind_blob(ins, 2, bytes, sizeof bytes);
    pstore_pg_bind_blob(ins, 3, "", 0);
    assert_int_equal(pstore_pg_step(ins), PSTORE_PG_DONE);
    pstore_pg_reset(ins);
    pstore_pg_bind_int64(ins, 1, 2);
    pstore_pg_bind_null(ins, 2);
    pstore_pg_bind_blob(ins, 3, "\x01\x02", 2);
    assert_int_equal(pstore_pg_step(ins), PSTORE_PG_DONE);
    pstore_pg_reset(ins);

    pstore_pg_stmt *sel = pstore_pg_prepare(db, "SELECT data, other, octet_length(data) FROM b ORDER BY id");
    assert_int_equal(pstore_pg_step(sel), PSTORE_PG_ROW);
    size_t n = 0, n2 = 0;
    const void *p = pstore_pg_col_blob(sel, 0, &n);
    const void *p2 = pstore_pg_col_blob(sel, 1, &n2);
    assert_int_equal(n, sizeof bytes);
    assert_memory_equal(p, bytes, sizeof bytes); /* still valid after reading another column */
    assert_non_null(p2);
    assert_int_equal(n2, 0);
    assert_false(pstore_pg_col_is_null(sel, 1));
    assert_int_equal(pstore_pg_col_int64(sel, 2), 600);
    assert_int_equal(pstore_pg_step(sel), PSTORE_PG_ROW);
    assert_null(pstore_pg_col_blob(sel, 0, &n));
    assert_int_equal(n, 0);
    p2 = pstore_pg_col_blob(sel, 1, &n2);
    assert_int_equal(n2, 2);
    assert_memory_equal(p2, "\x01\x02", 2);
    assert_int_equal(pstore_pg_step(sel), PSTORE_PG_DONE);
    pstore_pg_reset(sel);
    pstore_pg_close(db);
}

/* The server types a parameter from the first step's bindings; NULL leaves it to the context. */
static void test_parameter_typing(void **state)
{
    (void)state;
    pstore_pg *db = open_in("t_typing", true, false);
    pstore_pg_stmt *st = pstore_pg_prepare(db, "SELECT COALESCE(?, 0) + 1");
    pstore_pg_bind_null(st, 1);
    assert_int_equal(pstore_pg_step(st), PSTORE_PG_ROW);
    assert_int_equal(pstore_pg_col_int64(st, 0), 1);
    pstore_pg_reset(st);
    pstore_pg_bind_int64(st, 1, 41);
    assert_int_equal(pstore_pg_step(st), PSTORE_PG_ROW);
    assert_int_equal(pstore_pg_col_int64(st, 0), 42);
    pstore_pg_reset(st);
    /* typed int8 first: beyond int4's range */
    pstore_pg_stmt *big = pstore_pg_prepare(db, "SELECT ? + 1, COALESCE(?, 0) + 1");
    pstore_pg_bind_int64(big, 1, 5000000000);
    pstore_pg_bind_int64(big, 2, 6000000000);
    assert_int_equal(pstore_pg_step(big), PSTORE_PG_ROW);
    assert_int_equal(pstore_pg_col_int64(big, 0), 5000000001);
    assert_int_equal(pstore_pg_col_int64(big, 1), 6000000001);
    pstore_pg_reset(big);
    pstore_pg_bind_int64(big, 1, -3);
    pstore_pg_bind_null(big, 2);
    assert_int_equal(pstore_pg_step(big), PSTORE_PG_ROW);
    assert_int_equal(pstore_pg_col_int64(big, 0), -2);
    assert_int_equal(pstore_pg_col_int64(big, 1), 1);
    pstore_pg_reset(big);
    /* the same parameter bound as text after int8: prepared again with the new type */
    pstore_pg_stmt *any = pstore_pg_prepare(db, "SELECT pg_typeof(?)::text");
    pstore_pg_bind_int64(any, 1, 3);
    assert_int_equal(pstore_pg_step(any), PSTORE_PG_ROW);
    assert_string_equal(pstore_pg_col_text(any, 0), "bigint");
    pstore_pg_reset(any);
    pstore_pg_bind_text(any, 1, "x");
    assert_int_equal(pstore_pg_step(any), PSTORE_PG_ROW);
    assert_string_equal(pstore_pg_col_text(any, 0), "text");
    pstore_pg_reset(any);
    pstore_pg_close(db);
}

static void test_returning_and_changes(void **state)
{
    (void)state;
    pstore_pg *db = open_in("t_changes", true, false);
    exec_ok(db, "CREATE TABLE r (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, name TEXT NOT NULL)");
    for (int i = 1; i <= 3; i++) {
        pstore_pg_stmt *ins = pstore_pg_prepare(db, "INSERT INTO r (name) VALUES (?) RETURNING id");
        pstore_pg_bind_text(ins, 1, "x");
        assert_int_equal(pstore_pg_step(ins), PSTORE_PG_ROW);
        assert_int_equal(pstore_pg_col_int64(ins, 0), i);
        assert_int_equal(pstore_pg_step(ins), PSTORE_PG_DONE);
        assert_int_equal(pstore_pg_changes(db), 1);
        pstore_pg_reset(ins);
    }
    pstore_pg_stmt *up = pstore_pg_prepare(db, "UPDATE r SET name = ? WHERE id >= ?");
    pstore_pg_bind_text(up, 1, "y");
    pstore_pg_bind_int64(up, 2, 2);
    assert_int_equal(pstore_pg_step(up), PSTORE_PG_DONE);
    assert_int_equal(pstore_pg_changes(db), 2);
    pstore_pg_reset(up);
    /* a SELECT leaves the count of the last write */
    assert_int_equal(query_int(db, "SELECT COUNT(*) FROM r"), 3);
    assert_int_equal(pstore_pg_changes(db), 2);
    pstore_pg_stmt *del = pstore_pg_prepare(db, "DELETE FROM r WHERE name = ?");
    pstore_pg_bind_text(del, 1, "none");
    assert_int_equal(pstore_pg_step(del), PSTORE_PG_DONE);
    assert_int_equal(pstore_pg_changes(db), 0);
    pstore_pg_reset(del);
    /* a reset in the middle of the rows starts again from the first */
    pstore_pg_stmt *all = pstore_pg_prepare(db, "SELECT id FROM r ORDER BY id");
    assert_int_equal(pstore_pg_step(all), PSTORE_PG_ROW);
    assert_int_equal(pstore_pg_step(all), PSTORE_PG_ROW);
    assert_int_equal(pstore_pg_col_int64(all, 0), 2);
    pstore_pg_reset(all);
    assert_int_equal(pstore_pg_step(all), PSTORE_PG_ROW);
    assert_int_equal(pstore_pg_col_int64(all, 0), 1);
    pstore_pg_reset(all);
    exec_ok(db, "DELETE FROM r WHERE name = 'y'");
    assert_int_equal(pstore_pg_changes(db), 2);
    pstore_pg_close(db);
}

static void test_constraint_violation(void **state)
{
    (void)state;
    pstore_pg *db = open_in("t_constraint", true, false);
    exec_ok(db, "CREATE TABLE u (code TEXT PRIMARY KEY, n BIGINT NOT NULL CHECK (n >= 0))");
    pstore_pg_stmt *ins = pstore_pg_prepare(db, "INSERT INTO u (code, n) VALUES (?, ?)");
    pstore_pg_bind_text(ins, 1, "A");
    pstore_pg_bind_int64(ins, 2, 1);
    assert_int_equal(pstore_pg_step(ins), PSTORE_PG_DONE);
    pstore_pg_reset(ins);
    pstore_pg_bind_text(ins, 1, "A");
    pstore_pg_bind_int64(ins, 2, 2);
    assert_int_equal(pstore_pg_step(ins), SQLITE_CONSTRAINT);
    assert_non_null(strstr(pstore_pg_errmsg(db), "duplicate key value violates unique constraint \"u_pkey\""));
    assert_non_null(strstr(pstore_pg_errmsg(db), "SQLSTATE 23505"));
    assert_null(strchr(pstore_pg_errmsg(db), '\n'));
    assert_false(pstore_pg_retryable(db));
    pstore_pg_reset(ins);
    pstore_pg_bind_text(ins, 1, "B");
    pstore_pg_bind_int64(ins, 2, -1);
    assert_int_equal(pstore_pg_step(ins), SQLITE_CONSTRAINT);
    assert_non_null(strstr(pstore_pg_errmsg(db), "23514"));
    pstore_pg_reset(ins);
    pstore_pg_bind_null(ins, 1);
    pstore_pg_bind_int64(ins, 2, 1);
    assert_int_equal(pstore_pg_step(ins), SQLITE_CONSTRAINT);
    assert_non_null(strstr(pstore_pg_errmsg(db), "23502"));
    pstore_pg_reset(ins);
    assert_int_equal(query_int(db, "SELECT COUNT(*) FROM u"), 1);
    /* a syntax error is a plain error; the table of SQLSTATEs */
    assert_int_equal(pstore_pg_exec(db, "SELEC 1"), SQLITE_ERROR);
    assert_non_null(strstr(pstore_pg_errmsg(db), "42601"));
    assert_int_equal(pstore_pg_code_of_sqlstate("40P01"), SQLITE_BUSY);
    assert_int_equal(pstore_pg_code_of_sqlstate("55P03"), SQLITE_BUSY);
    assert_int_equal(pstore_pg_code_of_sqlstate("57014"), SQLITE_BUSY);
    assert_int_equal(pstore_pg_code_of_sqlstate("53100"), SQLITE_FULL);
    assert_int_equal(pstore_pg_code_of_sqlstate("53200"), SQLITE_NOMEM);
    assert_int_equal(pstore_pg_code_of_sqlstate("25006"), SQLITE_READONLY);
    assert_int_equal(pstore_pg_code_of_sqlstate("42501"), SQLITE_PERM);
    assert_int_equal(pstore_pg_code_of_sqlstate("08006"), SQLITE_IOERR);
    assert_int_equal(pstore_pg_code_of_sqlstate("XX001"), SQLITE_CORRUPT);
    assert_int_equal(pstore_pg_code_of_sqlstate("23503"), SQLITE_CONSTRAINT);
    assert_int_equal(pstore_pg_code_of_sqlstate("22012"), SQLITE_ERROR);
    assert_int_equal(pstore_pg_code_of_sqlstate(NULL), SQLITE_ERROR);
    pstore_pg_close(db);
}

/* The safety net under the writers' lock: two SERIALIZABLE transactions that did not take it (a
 * raw BEGIN, as a write path that skipped pstore_pg_begin would be) read the same row, then both
 * update it: the second to write fails with 40001, retryable; retried, it succeeds, and no
 * increment is lost. */
static void test_serialization_failure(void **state)
{
    (void)state;
    pstore_pg *a = open_in("t_serial", true, false);
    pstore_pg *b = open_in("t_serial", false, false);
    exec_ok(a, "CREATE TABLE c (id BIGINT PRIMARY KEY, n BIGINT NOT NULL); INSERT INTO c VALUES (1, 0)");
    static const char read_sql[] = "SELECT n FROM c WHERE id = 1";
    static const char bump_sql[] = "UPDATE c SET n = ? WHERE id = 1";
    exec_ok(a, "BEGIN ISOLATION LEVEL SERIALIZABLE");
    exec_ok(b, "BEGIN ISOLATION LEVEL SERIALIZABLE");
    assert_true(pstore_pg_in_transaction(a));
    int64_t na = query_int(a, read_sql), nb = query_int(b, read_sql);
    assert_int_equal(na, 0);
    assert_int_equal(nb, 0);
    pstore_pg_stmt *ua = pstore_pg_prepare(a, bump_sql);
    pstore_pg_bind_int64(ua, 1, na + 1);
    assert_int_equal(pstore_pg_step(ua), PSTORE_PG_DONE);
    pstore_pg_reset(ua);
    assert_int_equal(pstore_pg_commit(a), SQLITE_OK);
    pstore_pg_stmt *ub = pstore_pg_prepare(b, bump_sql);
    pstore_pg_bind_int64(ub, 1, nb + 1);
    assert_int_equal(pstore_pg_step(ub), SQLITE_BUSY);
    assert_true(pstore_pg_retryable(b));
    assert_non_null(strstr(pstore_pg_errmsg(b), "40001"));
    pstore_pg_reset(ub);
    pstore_pg_rollback(b);
    assert_false(pstore_pg_in_transaction(b));
    /* the retry */
    exec_ok(b, "BEGIN ISOLATION LEVEL SERIALIZABLE");
    nb = query_int(b, read_sql);
    assert_int_equal(nb, 1);
    pstore_pg_bind_int64(ub, 1, nb + 1);
    assert_int_equal(pstore_pg_step(ub), PSTORE_PG_DONE);
    pstore_pg_reset(ub);
    assert_int_equal(pstore_pg_commit(b), SQLITE_OK);
    assert_int_equal(query_int(a, read_sql), 2);
    pstore_pg_close(a);
    pstore_pg_close(b);
}

/* The writers' lock (pstore_pg_begin): a second write transaction of the same store waits at its
 * BEGIN until the first has committed, then reads what it wrote: no serialization failure, no
 * lost increment. A rollback releases the lock too. */
typedef struct writer_job {
    int64_t seen;       /* n as the second writer read it */
    int begin_rc, step_rc, commit_rc;
    volatile int begun; /* set once its BEGIN returned */
} writer_job;

static void *second_writer(void *arg)
{
    writer_job *job = arg;
    pstore_pg *db = open_in("t_writers", false, false);
    job->begin_rc = pstore_pg_begin(db, true);
    __atomic_store_n(&job->begun, 1, __ATOMIC_SEQ_CST);
    job->seen = query_int(db, "SELECT n FROM w WHERE id = 1");
    pstore_pg_stmt *st = pstore_pg_prepare(db, "UPDATE w SET n = ? WHERE id = 1");
    pstore_pg_bind_int64(st, 1, job->seen + 1);
    job->step_rc = pstore_pg_step(st);
    pstore_pg_reset(st);
    job->commit_rc = pstore_pg_commit(db);
    pstore_pg_close(db);
    return NULL;
}

static void test_writers_lock(void **state)
{
    (void)state;
    pstore_pg *a = open_in("t_writers", true, false);
    exec_ok(a, "CREATE TABLE w (id BIGINT PRIMARY KEY, n BIGINT NOT NULL); INSERT INTO w VALUES (1, 0)");
    assert_int_equal(pstore_pg_begin(a, true), SQLITE_OK);
    int64_t n = query_int(a, "SELECT n FROM w WHERE id = 1");
    writer_job job = { -1, -1, -1, -1, 0 };
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, second_writer, &job), 0);
    struct timespec pause = { 0, 300 * 1000 * 1000 };
    nanosleep(&pause, NULL);
    assert_int_equal(__atomic_load_n(&job.begun, __ATOMIC_SEQ_CST), 0); /* still waiting */
    pstore_pg_stmt *st = pstore_pg_prepare(a, "UPDATE w SET n = ? WHERE id = 1");
    pstore_pg_bind_int64(st, 1, n + 1);
    assert_int_equal(pstore_pg_step(st), PSTORE_PG_DONE);
    pstore_pg_reset(st);
    assert_int_equal(pstore_pg_commit(a), SQLITE_OK);
    pthread_join(th, NULL);
    assert_int_equal(job.begin_rc, SQLITE_OK);
    assert_int_equal(job.seen, 1); /* its snapshot was taken after the first committed */
    assert_int_equal(job.step_rc, PSTORE_PG_DONE);
    assert_int_equal(job.commit_rc, SQLITE_OK);
    assert_int_equal(query_int(a, "SELECT n FROM w WHERE id = 1"), 2);
    /* a rolled-back writer releases the lock: another session begins at once */
    pstore_pg *b = open_in("t_writers", false, false);
    assert_int_equal(pstore_pg_begin(a, true), SQLITE_OK);
    pstore_pg_rollback(a);
    assert_int_equal(pstore_pg_begin(b, true), SQLITE_OK);
    assert_int_equal(pstore_pg_commit(b), SQLITE_OK);
    /* reads take no lock: one runs while a writer holds it */
    assert_int_equal(pstore_pg_begin(a, true), SQLITE_OK);
    assert_int_equal(pstore_pg_begin(b, false), SQLITE_OK);
    assert_int_equal(query_int(b, "SELECT n FROM w WHERE id = 1"), 2);
    pstore_pg_rollback(b);
    pstore_pg_rollback(a);
    pstore_pg_close(a);
    pstore_pg_close(b);
}

/* Two write transactions (raw BEGINs, without the writers' lock) take two rows' locks in opposite
 * orders: PostgreSQL breaks the deadlock by failing one with 40P01 (SQLITE_BUSY, retryable); the
 * other commits. */
typedef struct deadlock_job {
    pthread_barrier_t *both_locked;
    int64_t first, second;
    int rc;
    bool retryable;
    char msg[512];
} deadlock_job;

static void *deadlock_thread(void *arg)
{
    deadlock_job *job = arg;
    pstore_pg *db = open_in("t_deadlock", false, false);
    static const char lock_sql[] = "UPDATE d SET n = n + 1 WHERE id = ?";
    /* a raw BEGIN: under the writers' lock (pstore_pg_begin) the two could not overlap */
    job->rc = pstore_pg_exec(db, "BEGIN ISOLATION LEVEL SERIALIZABLE");
    pstore_pg_stmt *st = pstore_pg_prepare(db, lock_sql);
    pstore_pg_bind_int64(st, 1, job->first);
    if (job->rc == SQLITE_OK && pstore_pg_step(st) != PSTORE_PG_DONE) job->rc = SQLITE_INTERNAL;
    pstore_pg_reset(st);
    pthread_barrier_wait(job->both_locked);
    if (job->rc == SQLITE_OK) {
        pstore_pg_bind_int64(st, 1, job->second);
        int rc = pstore_pg_step(st);
        pstore_pg_reset(st);
        job->rc = rc == PSTORE_PG_DONE ? pstore_pg_commit(db) : rc;
    }
    job->retryable = pstore_pg_retryable(db);
    snprintf(job->msg, sizeof job->msg, "%s", pstore_pg_errmsg(db));
    pstore_pg_rollback(db);
    pstore_pg_close(db);
    return NULL;
}

static void test_deadlock(void **state)
{
    (void)state;
    pstore_pg *db = open_in("t_deadlock", true, false);
    exec_ok(db, "CREATE TABLE d (id BIGINT PRIMARY KEY, n BIGINT NOT NULL); INSERT INTO d VALUES (1, 0), (2, 0)");
    pthread_barrier_t both;
    pthread_barrier_init(&both, NULL, 2);
    deadlock_job jobs[2] = { { &both, 1, 2, -1, false, "" }, { &both, 2, 1, -1, false, "" } };
    pthread_t th[2];
    for (int i = 0; i < 2; i++) assert_int_equal(pthread_create(&th[i], NULL, deadlock_thread, &jobs[i]), 0);
    for (int i = 0; i < 2; i++) pthread_join(th[i], NULL);
    pthread_barrier_destroy(&both);
    int ok = 0, busy = 0;
    for (int i = 0; i < 2; i++) {
        if (jobs[i].rc == SQLITE_OK) ok++;
        if (jobs[i].rc == SQLITE_BUSY && jobs[i].retryable && strstr(jobs[i].msg, "40P01")) busy++;
    }
    if (ok != 1 || busy != 1)
        fail_msg("deadlock: rc %d (%s) and %d (%s)", jobs[0].rc, jobs[0].msg, jobs[1].rc, jobs[1].msg);
    /* the winner's two increments only */
    assert_int_equal(query_int(db, "SELECT SUM(n) FROM d"), 2);
    pstore_pg_close(db);
}

static void test_rollback_state(void **state)
{
    (void)state;
    pstore_pg *db = open_in("t_rollback", true, false);
    exec_ok(db, "CREATE TABLE t (k TEXT PRIMARY KEY)");
    pstore_pg_rollback(db); /* none open: nothing to do */
    assert_false(pstore_pg_in_transaction(db));
    assert_int_equal(pstore_pg_begin(db, true), SQLITE_OK);
    exec_ok(db, "INSERT INTO t VALUES ('a')");
    assert_true(pstore_pg_in_transaction(db));
    assert_int_equal(pstore_pg_begin(db, true), SQLITE_ERROR); /* no nesting */
    assert_non_null(strstr(pstore_pg_errmsg(db), "within a transaction"));
    assert_true(pstore_pg_in_transaction(db));
    pstore_pg_rollback(db);
    assert_false(pstore_pg_in_transaction(db));
    assert_int_equal(query_int(db, "SELECT COUNT(*) FROM t"), 0);
    /* a failed statement fails the whole transaction: COMMIT says so and keeps nothing */
    assert_int_equal(pstore_pg_begin(db, true), SQLITE_OK);
    exec_ok(db, "INSERT INTO t VALUES ('b')");
    assert_int_equal(pstore_pg_exec(db, "INSERT INTO t VALUES ('b')"), SQLITE_CONSTRAINT);
    assert_true(pstore_pg_in_transaction(db));
    assert_int_equal(pstore_pg_commit(db), SQLITE_ERROR);
    assert_non_null(strstr(pstore_pg_errmsg(db), "rolled back"));
    assert_false(pstore_pg_in_transaction(db));
    assert_int_equal(query_int(db, "SELECT COUNT(*) FROM t"), 0);
    /* a read transaction is read-only; a read-only connection refuses to begin a write */
    assert_int_equal(pstore_pg_begin(db, false), SQLITE_OK);
    assert_int_equal(pstore_pg_exec(db, "INSERT INTO t VALUES ('c')"), SQLITE_READONLY);
    pstore_pg_rollback(db);
    pstore_pg *ro = open_in("t_rollback", false, true);
    assert_int_equal(pstore_pg_begin(ro, true), SQLITE_READONLY);
    assert_int_equal(pstore_pg_exec(ro, "INSERT INTO t VALUES ('d')"), SQLITE_READONLY);
    assert_int_equal(query_int(ro, "SELECT COUNT(*) FROM t"), 0);
    pstore_pg_close(ro);
    pstore_pg_close(db);
}

/* The PostgreSQL tables and their columns, in order, are SQLite's (schema.c, every step). */
static void check_same_tables_as_sqlite(pstore_pg *db)
{
    sqlite3 *lite = NULL;
    assert_int_equal(sqlite3_open(":memory:", &lite), SQLITE_OK);
    for (size_t i = 0; i < pstore_n_migrations; i++)
        assert_int_equal(sqlite3_exec(lite, pstore_migrations[i].sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_stmt *tables = NULL;
    assert_int_equal(sqlite3_prepare_v2(lite,
                                        "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE "
                                        "'sqlite_%' ORDER BY name",
                                        -1, &tables, NULL),
                     SQLITE_OK);
    int n_tables = 0;
    while (sqlite3_step(tables) == SQLITE_ROW) {
        const char *table = (const char *)sqlite3_column_text(tables, 0);
        n_tables++;
        char pragma[128];
        snprintf(pragma, sizeof pragma, "SELECT name FROM pragma_table_info('%s') ORDER BY cid", table);
        sqlite3_stmt *cols = NULL;
        assert_int_equal(sqlite3_prepare_v2(lite, pragma, -1, &cols, NULL), SQLITE_OK);
        pstore_pg_stmt *pg = pstore_pg_prepare(db, "SELECT column_name FROM information_schema.columns "
                                                   "WHERE table_schema = current_schema() AND table_name = ? "
                                                   "ORDER BY ordinal_position");
        pstore_pg_bind_text(pg, 1, table);
        while (sqlite3_step(cols) == SQLITE_ROW) {
            if (pstore_pg_step(pg) != PSTORE_PG_ROW) fail_msg("table %s: PostgreSQL has fewer columns", table);
            const char *want = (const char *)sqlite3_column_text(cols, 0);
            if (strcmp(pstore_pg_col_text(pg, 0), want) != 0)
                fail_msg("table %s: column %s in PostgreSQL where SQLite has %s", table, pstore_pg_col_text(pg, 0),
                         want);
        }
        /* beyond SQLite's columns, only SQLite's implicit rowid made a column (schema_pg.c v2) */
        int rc = pstore_pg_step(pg);
        if (rc == PSTORE_PG_ROW && !strcmp(pstore_pg_col_text(pg, 0), "rowid")) rc = pstore_pg_step(pg);
        if (rc != PSTORE_PG_DONE) fail_msg("table %s: PostgreSQL has more columns", table);
        pstore_pg_reset(pg);
        sqlite3_finalize(cols);
    }
    sqlite3_finalize(tables);
    /* the same indexes by name (SQLite's automatic ones aside) */
    sqlite3_stmt *idx = NULL;
    assert_int_equal(sqlite3_prepare_v2(lite,
                                        "SELECT name FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL",
                                        -1, &idx, NULL),
                     SQLITE_OK);
    int n_idx = 0;
    while (sqlite3_step(idx) == SQLITE_ROW) {
        n_idx++;
        pstore_pg_stmt *pg = pstore_pg_prepare(db, "SELECT COUNT(*) FROM pg_indexes WHERE schemaname = "
                                                   "current_schema() AND indexname = ?");
        pstore_pg_bind_text(pg, 1, (const char *)sqlite3_column_text(idx, 0));
        assert_int_equal(pstore_pg_step(pg), PSTORE_PG_ROW);
        if (pstore_pg_col_int64(pg, 0) != 1) fail_msg("index %s missing in PostgreSQL", sqlite3_column_text(idx, 0));
        pstore_pg_reset(pg);
    }
    sqlite3_finalize(idx);
    sqlite3_close(lite);
    assert_true(n_tables >= 20);
    assert_true(n_idx >= 20);
    /* perk_schema is PostgreSQL's own */
    assert_int_equal(query_int(db, "SELECT COUNT(*) FROM pg_tables WHERE schemaname = current_schema()"),
                     n_tables + 1);
}

static void test_migrate_twice(void **state)
{
    (void)state;
    pstore_pg *db = open_in("t_migrate", true, false);
    char err[512];
    assert_int_equal(pstore_pg_migrate(db, err, sizeof err), SQLITE_OK);
    assert_int_equal(query_int(db, "SELECT MAX(version) FROM perk_schema"), pstore_pg_schema_version());
    assert_int_equal(query_int(db, "SELECT COUNT(*) FROM perk_schema"), pstore_pg_schema_version());
    assert_false(pstore_pg_in_transaction(db));
    assert_int_equal(pstore_pg_migrate(db, err, sizeof err), SQLITE_OK);
    assert_int_equal(query_int(db, "SELECT COUNT(*) FROM perk_schema"), pstore_pg_schema_version());
    check_same_tables_as_sqlite(db);
    /* the ledger is append-only, refused as a constraint */
    exec_ok(db, "INSERT INTO ledger (customer_id, kind, points, created_at, available_at) "
                "VALUES ('c1', 'earn', 100, 1, 1)");
    assert_int_equal(pstore_pg_exec(db, "UPDATE ledger SET points = 1000"), SQLITE_CONSTRAINT);
    assert_non_null(strstr(pstore_pg_errmsg(db), "append-only"));
    assert_int_equal(pstore_pg_exec(db, "DELETE FROM ledger"), SQLITE_CONSTRAINT);
    assert_int_equal(pstore_pg_exec(db, "TRUNCATE ledger"), SQLITE_CONSTRAINT);
    assert_int_equal(query_int(db, "SELECT SUM(points) FROM ledger"), 100);
    /* a reservation hold is a budget's or a coupon's, never both */
    exec_ok(db, "INSERT INTO reservations (id, customer_id, order_id, ruleset, ruleset_version, created_at, "
                "expires_at) VALUES ('r1', 'c1', 'o1', 'shop', 1, 1, 2)");
    assert_int_equal(pstore_pg_exec(db, "INSERT INTO reservation_holds (reservation_id, customer_id, promo_id, code) "
                                        "VALUES ('r1', 'c1', 'p', 'C')"),
                     SQLITE_CONSTRAINT);
    /* a newer schema than this program's is refused */
    exec_ok(db, "INSERT INTO perk_schema VALUES (999, 0, 'from the future')");
    assert_int_equal(pstore_pg_migrate(db, err, sizeof err), SQLITE_ERROR);
    assert_non_null(strstr(err, "newer than this program"));
    assert_false(pstore_pg_in_transaction(db));
    pstore_pg_close(db);
    /* another application's tables under our names: refused, nothing created */
    pstore_pg *other = open_in("t_migrate_other", true, false);
    exec_ok(other, "CREATE TABLE orders (x TEXT)");
    assert_int_equal(pstore_pg_migrate(other, err, sizeof err), SQLITE_CORRUPT);
    assert_non_null(strstr(err, "not a Perk store"));
    assert_int_equal(query_int(other, "SELECT COUNT(*) FROM pg_tables WHERE schemaname = current_schema()"), 1);
    pstore_pg_close(other);
}

typedef struct migrate_job {
    pthread_barrier_t *start;
    int rc;
    char err[512];
} migrate_job;

static void *migrate_thread(void *arg)
{
    migrate_job *job = arg;
    pstore_pg *db = open_in("t_migrate_race", false, false);
    pthread_barrier_wait(job->start);
    job->rc = pstore_pg_migrate(db, job->err, sizeof job->err);
    pstore_pg_close(db);
    return NULL;
}

static void test_migrate_racing(void **state)
{
    (void)state;
    for (int round = 0; round < 3; round++) {
        pstore_pg *db = open_in("t_migrate_race", true, false);
        pthread_barrier_t start;
        pthread_barrier_init(&start, NULL, 3);
        migrate_job jobs[3];
        pthread_t th[3];
        for (int i = 0; i < 3; i++) {
            jobs[i].start = &start;
            jobs[i].rc = -1;
            jobs[i].err[0] = '\0';
            assert_int_equal(pthread_create(&th[i], NULL, migrate_thread, &jobs[i]), 0);
        }
        for (int i = 0; i < 3; i++) pthread_join(th[i], NULL);
        pthread_barrier_destroy(&start);
        for (int i = 0; i < 3; i++)
            if (jobs[i].rc != SQLITE_OK) fail_msg("racing migration %d: %s", i, jobs[i].err);
        assert_int_equal(query_int(db, "SELECT COUNT(*) FROM perk_schema"), pstore_pg_schema_version());
        pstore_pg_close(db);
    }
}

/* The server ends the session (pg_terminate_backend): the next statement fails with SQLITE_IOERR,
 * the next BEGIN connects again and the cached statements are prepared again. */
static void test_reconnect(void **state)
{
    (void)state;
    pstore_pg *db = open_in("t_reconnect", true, false);
    pstore_pg *admin = open_in("t_reconnect", false, false);
    exec_ok(db, "CREATE TABLE k (id BIGINT PRIMARY KEY); INSERT INTO k VALUES (7)");
    static const char pid_sql[] = "SELECT pg_backend_pid()";
    static const char read_sql[] = "SELECT id FROM k WHERE id = ?";
    int64_t pid = query_int(db, pid_sql);
    pstore_pg_stmt *rd = pstore_pg_prepare(db, read_sql);
    pstore_pg_bind_int64(rd, 1, 7);
    assert_int_equal(pstore_pg_step(rd), PSTORE_PG_ROW);
    pstore_pg_reset(rd);

    for (int round = 0; round < 2; round++) {
        pstore_pg_stmt *kill = pstore_pg_prepare(admin, "SELECT pg_terminate_backend(?::int, 5000)");
        pstore_pg_bind_int64(kill, 1, pid);
        assert_int_equal(pstore_pg_step(kill), PSTORE_PG_ROW);
        assert_int_equal(pstore_pg_col_int64(kill, 0), 1);
        pstore_pg_reset(kill);
        if (round == 0) {
            /* a statement outside BEGIN finds the session gone */
            pstore_pg_bind_int64(rd, 1, 7);
            assert_int_equal(pstore_pg_step(rd), SQLITE_IOERR);
            assert_false(pstore_pg_retryable(db));
            assert_true(strlen(pstore_pg_errmsg(db)) > 0);
            pstore_pg_reset(rd);
        }
        /* round 1: BEGIN itself finds out, and connects again */
        assert_int_equal(pstore_pg_begin(db, false), SQLITE_OK);
        pstore_pg_bind_int64(rd, 1, 7);
        assert_int_equal(pstore_pg_step(rd), PSTORE_PG_ROW);
        assert_int_equal(pstore_pg_col_int64(rd, 0), 7);
        pstore_pg_reset(rd);
        int64_t new_pid = query_int(db, pid_sql);
        assert_true(new_pid != pid);
        pid = new_pid;
        assert_int_equal(pstore_pg_commit(db), SQLITE_OK);
    }
    /* the session's settings came back too: still in its schema */
    assert_int_equal(query_int(db, "SELECT COUNT(*) FROM k"), 1);
    pstore_pg_close(admin);
    pstore_pg_close(db);
}

/* The same server through a key=value connection string made from the URI's parts. */
static void test_open_key_value(void **state)
{
    (void)state;
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(test_uri(), &perr);
    assert_non_null(opts);
    char conninfo[1024] = "";
    size_t used = 0;
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (!o->val || !*o->val) continue;
        int w = snprintf(conninfo + used, sizeof conninfo - used, "%s%s='%s'", used ? " " : "", o->keyword, o->val);
        assert_true(w > 0 && (size_t)w < sizeof conninfo - used);
        used += (size_t)w;
    }
    PQconninfoFree(opts);
    assert_null(strstr(conninfo, "postgresql://"));
    assert_non_null(strstr(conninfo, "dbname='perk'"));
    pstore_pg *db = NULL;
    char err[512];
    if (pstore_pg_open(conninfo, false, &db, err, sizeof err) != SQLITE_OK) fail_msg("%s: %s", conninfo, err);
    pstore_pg_stmt *st = pstore_pg_prepare(db, "SELECT current_database(), current_user");
    assert_int_equal(pstore_pg_step(st), PSTORE_PG_ROW);
    assert_string_equal(pstore_pg_col_text(st, 0), "perk");
    assert_string_equal(pstore_pg_col_text(st, 1), "perk");
    pstore_pg_reset(st);
    pstore_pg_close(db);
}

static void test_open_errors(void **state)
{
    (void)state;
    pstore_pg *db = (pstore_pg *)1;
    char err[512];
    assert_int_equal(pstore_pg_open("postgresql:///perk?host=/nonexistent-perk-dir&port=1", false, &db, err, sizeof err),
                     SQLITE_CANTOPEN);
    assert_null(db);
    assert_non_null(strstr(err, "cannot connect to PostgreSQL"));
    assert_null(strchr(err, '\n'));
    assert_int_equal(pstore_pg_open("not a conninfo ===", false, &db, err, sizeof err), SQLITE_CANTOPEN);
    assert_null(db);
}

int main(void)
{
    test_uri();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_translate),
        cmocka_unit_test(test_int64_limits),
        cmocka_unit_test(test_text),
        cmocka_unit_test(test_blob),
        cmocka_unit_test(test_parameter_typing),
        cmocka_unit_test(test_returning_and_changes),
        cmocka_unit_test(test_constraint_violation),
        cmocka_unit_test(test_serialization_failure),
        cmocka_unit_test(test_writers_lock),
        cmocka_unit_test(test_deadlock),
        cmocka_unit_test(test_rollback_state),
        cmocka_unit_test(test_migrate_twice),
        cmocka_unit_test(test_migrate_racing),
        cmocka_unit_test(test_reconnect),
        cmocka_unit_test(test_open_key_value),
        cmocka_unit_test(test_open_errors),
    };
    return cmocka_run_group_tests_name("pg_driver", tests, NULL, NULL);
}
