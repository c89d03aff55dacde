/* test_store_pg_migrate.c - PostgreSQL's schema migrations from every earlier version, with data
 * in it. A store filled at the latest version (orders with a budget, a coupon, unit limits and
 * points, a refund, an open reservation, their events, a webhook relay's claim) is copied into a schema left at version k,
 * for each earlier k, as far as version k has the columns; that schema is migrated to the latest
 * and must then hold the same rows, pass perk_store_check, and take the next order as the
 * original store takes it. The test loops over every version the program knows, so a new step
 * (schema_pg.c) is tested from every version before it without editing this file. SQLite's steps
 * are tested by test_store_schema. PostgreSQL only. */
#include "store_fixture.h"

#include "store/db_pg.h"

#include <unistd.h>

typedef store_fixture fixture;

#define T0 1000

/* The data: what a shop's store holds after a few days, through the store's own API. */
static void fill(perk_store *s)
{
    assert_store(s, PERK_STORE_OK, perk_store_coupon_add(s, "SAVE10", "camp", 0, 1000, 0, NULL, T0));
    for (int i = 0; i < 6; i++) {
        char id[16], customer[16];
        snprintf(id, sizeof id, "O%d", i);
        snprintf(customer, sizeof customer, "c%d", i % 3);
        perk_store_points_line earned = { "base", 100 + i };
        perk_store_promo_use promo = { "P", 500, 1000, 1000000, -1 };
        perk_store_promo_units units = { 1 + i % 2, 5 };
        const char *coupons[] = { "SAVE10" };
        perk_store_order_line lines[] = { { "L1", 6000 }, { "L2", 3500 } };
        perk_store_order o = test_order(id, customer, T0 + i, 9500);
        o.subtotal = 10000;
        o.discount = 500;
        o.promos = &promo;
        o.n_promos = 1;
        o.promo_units = &units;
        o.earned = &earned;
        o.n_earned = 1;
        o.lines = lines;
        o.n_lines = 2;
        if (i % 2 == 0) {
            o.coupons = coupons;
            o.n_coupons = 1;
        }
        assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, NULL, NULL));
    }
    perk_store_refund_line back = { "L2", 3500 };
    assert_store(s, PERK_STORE_OK, perk_store_refund(s, "O1", "R1", &back, 1, 0, T0 + 10, NULL, true, NULL));
    perk_store_promo_use promo = { "P", 500, 1000, 1000000, -1 };
    perk_store_order held = test_order("H1", "c9", T0 + 20, 9500);
    held.promos = &promo;
    held.n_promos = 1;
    assert_store(s, PERK_STORE_OK, perk_store_reserve(s, "RES1", &held, 600, NULL));
    /* a webhook relay's position and claim */
    assert_store(s, PERK_STORE_OK, perk_store_consumer_claim(s, "webhook", "node-a:1", T0, 30, NULL));
    assert_store(s, PERK_STORE_OK, perk_store_ack_held(s, "webhook", "node-a:1", 3));
}

/* The URI of the cluster with `schema` as search_path, as store_test_util.h builds them. */
static void schema_uri(const char *schema, char *out, size_t len)
{
    const char *uri = test_pg_uri();
    snprintf(out, len, "%s%soptions=-csearch_path%%3D%s", uri, strchr(uri, '?') ? "&" : "?", schema);
}

/* The tables of `schema` but perk_schema, and for each its columns, as a list of SQL snippets. */
typedef struct table_cols {
    char name[64];
    char cols[1024]; /* "a, b, c" */
} table_cols;

static int schema_tables(pstore_pg *db, const char *schema, table_cols *out, int max)
{
    pstore_pg_stmt *st = pstore_pg_prepare(db, "SELECT table_name, string_agg(quote_ident(column_name), ', ' "
                                               "ORDER BY ordinal_position) FROM information_schema.columns "
                                               "WHERE table_schema = ? AND table_name <> 'perk_schema' "
                                               "GROUP BY table_name ORDER BY table_name");
    assert_non_null(st);
    pstore_pg_bind_text(st, 1, schema);
    int n = 0;
    while (pstore_pg_step(st) == PSTORE_PG_ROW) {
        assert_true(n < max);
        snprintf(out[n].name, sizeof out[n].name, "%s", pstore_pg_col_text(st, 0));
        int w = snprintf(out[n].cols, sizeof out[n].cols, "%s", pstore_pg_col_text(st, 1));
        assert_true(w < (int)sizeof out[n].cols);
        n++;
    }
    pstore_pg_reset(st);
    return n;
}

static void exec_ok(pstore_pg *db, const char *sql)
{
    if (pstore_pg_exec(db, sql) != SQLITE_OK) fail_msg("%s: %s", sql, pstore_pg_errmsg(db));
}

/* The one integer a query returns. Uncached: the driver caches statements by the address of
 * their text, and this file builds its queries in one buffer. */
static int64_t query_int(pstore_pg *db, const char *sql)
{
    pstore_pg_stmt *st = pstore_pg_prepare_uncached(db, sql);
    assert_non_null(st);
    if (pstore_pg_step(st) != PSTORE_PG_ROW) fail_msg("%s: %s", sql, pstore_pg_errmsg(db));
    int64_t v = pstore_pg_col_int64(st, 0);
    pstore_pg_finalize(st);
    return v;
}

static int count_problem(const char *problem, void *ctx)
{
    print_message("problem: %s\n", problem);
    (*(int *)ctx)++;
    return 0;
}

/* The next order, the same on both stores: one more use of the budget and of the coupon, points. */
static void commit_next(perk_store *s, const char *id, perk_store_commit_result *r)
{
    perk_store_points_line earned = { "base", 77 };
    perk_store_promo_use promo = { "P", 500, 1000, 1000000, -1 };
    const char *coupons[] = { "SAVE10" };
    perk_store_order o = test_order(id, "c1", T0 + 30, 9500);
    o.subtotal = 10000;
    o.discount = 500;
    o.promos = &promo;
    o.n_promos = 1;
    o.earned = &earned;
    o.n_earned = 1;
    o.coupons = coupons;
    o.n_coupons = 1;
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, NULL, r));
}

static void test_migrate_from_every_version(void **state)
{
    if (!test_pg_uri()) {
        print_message("[  SKIP    ] on SQLite: PostgreSQL's migrations (SQLite's: test_store_schema)\n");
        skip();
    }
    fixture *f = *state;
    fill(f->s);
    const char *source = f->dir.pg_schema;
    const int latest = pstore_pg_schema_version();
    assert_true(latest >= 2);
    char err[512], uri[1024];
    schema_uri(source, uri, sizeof uri);
    pstore_pg *src = NULL;
    assert_int_equal(pstore_pg_open(uri, false, &src, err, sizeof err), SQLITE_OK);
    table_cols now_tables[64];
    int n_now = schema_tables(src, source, now_tables, 64);
    assert_true(n_now >= 20);
    for (int k = 1; k < latest; k++) {
        char schema[64], sql[16384];
        snprintf(schema, sizeof schema, "t_mig_%ld_%d", (long)getpid(), k);
        snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS %s CASCADE; CREATE SCHEMA %s", schema, schema);
        test_pg_admin(sql);
        schema_uri(schema, uri, sizeof uri);
        pstore_pg *db = NULL;
        assert_int_equal(pstore_pg_open(uri, false, &db, err, sizeof err), SQLITE_OK);
        if (pstore_pg_migrate_to(db, k, err, sizeof err) != SQLITE_OK) fail_msg("to version %d: %s", k, err);
        assert_int_equal(query_int(db, "SELECT MAX(version) FROM perk_schema"), k);
        /* the rows, as far as version k has their columns; foreign keys and triggers are off while
         * copying (the rows are consistent as a whole, not in table order) */
        table_cols old_tables[64];
        int n_old = schema_tables(db, schema, old_tables, 64);
        assert_true(n_old >= 20);
        exec_ok(db, "SET session_replication_role = replica");
        for (int t = 0; t < n_old; t++) {
            int w = snprintf(sql, sizeof sql, "INSERT INTO %s.%s (%s) SELECT %s FROM %s.%s", schema,
                             old_tables[t].name, old_tables[t].cols, old_tables[t].cols, source, old_tables[t].name);
            assert_true(w > 0 && (size_t)w < sizeof sql);
            exec_ok(db, sql);
        }
        exec_ok(db, "SET session_replication_role = DEFAULT");
        /* identities go on after the copied ids, as they would have in a store of that version */
        pstore_pg_stmt *ids = pstore_pg_prepare(db, "SELECT table_name, column_name FROM information_schema.columns "
                                                    "WHERE table_schema = current_schema() AND is_identity = 'YES'");
        assert_non_null(ids);
        char setvals[4096] = "";
        size_t used = 0;
        while (pstore_pg_step(ids) == PSTORE_PG_ROW) {
            int w = snprintf(setvals + used, sizeof setvals - used,
                             "SELECT setval(pg_get_serial_sequence('%s', '%s'), COALESCE(MAX(%s), 0) + 1, false) "
                             "FROM %s;",
                             pstore_pg_col_text(ids, 0), pstore_pg_col_text(ids, 1), pstore_pg_col_text(ids, 1),
                             pstore_pg_col_text(ids, 0));
            assert_true(w > 0 && (size_t)w < sizeof setvals - used);
            used += (size_t)w;
        }
        pstore_pg_reset(ids);
        if (used) exec_ok(db, setvals);
        /* then the migration to the latest version, as perk db migrate runs it */
        if (pstore_pg_migrate(db, err, sizeof err) != SQLITE_OK) fail_msg("from version %d: %s", k, err);
        assert_int_equal(query_int(db, "SELECT MAX(version) FROM perk_schema"), latest);
        /* the same tables as a store made at the latest version, with the same rows in every column
         * version k had */
        table_cols new_tables[64];
        assert_int_equal(schema_tables(db, schema, new_tables, 64), n_now);
        for (int t = 0; t < n_now; t++) assert_string_equal(new_tables[t].name, now_tables[t].name);
        for (int t = 0; t < n_old; t++) {
            int w = snprintf(sql, sizeof sql,
                     "SELECT (SELECT COUNT(*) FROM (SELECT %s FROM %s.%s EXCEPT ALL SELECT %s FROM %s.%s) a) + "
                     "(SELECT COUNT(*) FROM (SELECT %s FROM %s.%s EXCEPT ALL SELECT %s FROM %s.%s) b)",
                     old_tables[t].cols, source, old_tables[t].name, old_tables[t].cols, schema, old_tables[t].name,
                     old_tables[t].cols, schema, old_tables[t].name, old_tables[t].cols, source, old_tables[t].name);
            assert_true(w > 0 && (size_t)w < sizeof sql);
            if (query_int(db, sql) != 0) fail_msg("version %d -> %d: table %s differs", k, latest, old_tables[t].name);
        }
        /* the 6 orders of fill(), the reservation's none, and one NEXT order per earlier round */
        assert_int_equal(query_int(db, "SELECT COUNT(*) FROM orders"), 6 + k - 1);
        assert_int_equal(query_int(src, "SELECT COUNT(*) FROM orders"), 6 + k - 1);
        pstore_pg_close(db);
        /* a store the program opens, with nothing wrong in it, that takes the next order as the
         * original does */
        perk_store *migrated = test_open(uri);
        int problems = 0;
        int64_t n_problems = -1;
        assert_store(migrated, PERK_STORE_OK, perk_store_check(migrated, count_problem, &problems, &n_problems));
        assert_int_equal(n_problems, 0);
        char next[32];
        snprintf(next, sizeof next, "NEXT%d", k);
        perk_store_commit_result want, got;
        commit_next(f->s, next, &want);
        commit_next(migrated, next, &got);
        assert_int_equal(got.points_earned, want.points_earned);
        assert_int_equal(got.balance, want.balance);
        assert_int_equal(got.pending, want.pending);
        perk_store_commit_result_free(&want);
        perk_store_commit_result_free(&got);
        assert_int_equal(test_sql_int(migrated, "SELECT uses FROM budget_totals WHERE promo_id = 'P'"),
                         test_sql_int(f->s, "SELECT uses FROM budget_totals WHERE promo_id = 'P'"));
        perk_store_close(migrated);
        snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS %s CASCADE", schema);
        test_pg_admin(sql);
    }
    pstore_pg_close(src);
}

/* A version the program does not know is refused, naming the versions it knows. */
static void test_migrate_to_unknown_version(void **state)
{
    if (!test_pg_uri()) {
        print_message("[  SKIP    ] on SQLite: PostgreSQL's migrations\n");
        skip();
    }
    fixture *f = *state;
    char uri[1024], err[512];
    schema_uri(f->dir.pg_schema, uri, sizeof uri);
    pstore_pg *db = NULL;
    assert_int_equal(pstore_pg_open(uri, false, &db, err, sizeof err), SQLITE_OK);
    assert_int_equal(pstore_pg_migrate_to(db, pstore_pg_schema_version() + 1, err, sizeof err), SQLITE_ERROR);
    assert_non_null(strstr(err, "no schema version"));
    assert_int_equal(pstore_pg_migrate_to(db, 0, err, sizeof err), SQLITE_ERROR);
    assert_false(pstore_pg_in_transaction(db));
    pstore_pg_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_migrate_from_every_version, store_fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_migrate_to_unknown_version, store_fixture_setup, store_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
