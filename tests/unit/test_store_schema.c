/* test_store_schema.c - opening the store: connection settings, refusing newer schemas and
 * foreign files, migrating from every earlier schema version with data kept, and racing
 * first opens from several processes. */
#include "store_test_util.h"

#include <sys/wait.h>

static void test_status_texts(void **state)
{
    (void)state;
    for (int i = 0; i < PERK_STORE_STATUS_COUNT; i++) {
        assert_true(strlen(perk_store_status_message((perk_store_status)i)) > 0);
        assert_memory_equal(perk_store_status_name((perk_store_status)i), "PERK_STORE_", 11);
    }
    assert_string_equal(perk_store_status_name(PERK_STORE_FULL), "PERK_STORE_FULL");
    assert_string_equal(perk_store_status_message(PERK_STORE_FULL), "database or disk is full");
    assert_string_equal(perk_store_status_message((perk_store_status)999), "unknown status");
    assert_non_null(perk_store_errmsg(NULL));
    assert_string_equal(perk_store_failure_message(PERK_STORE_FAIL_USES),
                        "promotion has reached its limit of uses");
}

static void test_open_settings(void **state)
{
    TEST_SQLITE_ONLY("PRAGMAs of the file (WAL, application_id, user_version, synchronous)");
    (void)state;
    test_dir d;
    test_dir_make(&d);
    perk_store *s = test_open(d.db);
    assert_int_equal(test_sql_int(s, "PRAGMA user_version"), perk_store_schema_version());
    assert_true(perk_store_schema_version() >= 2);
    assert_int_equal(test_sql_int(s, "PRAGMA foreign_keys"), 1);
    assert_int_equal(test_sql_int(s, "PRAGMA application_id"), 0x5045524B);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(test_sqlite_handle(s), "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    assert_int_equal(test_sql_int(s, "PRAGMA synchronous"), 1); /* NORMAL, set by test_open */
    assert_store(s, PERK_STORE_OK, perk_store_set_durable(s, true));
    assert_int_equal(test_sql_int(s, "PRAGMA synchronous"), 2); /* FULL */
    perk_store_order o = test_order("D1", "c", 1, 1);
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, NULL, NULL));
    assert_store(s, PERK_STORE_INVALID, perk_store_set_busy_timeout(s, -1));
    assert_store(s, PERK_STORE_OK, perk_store_set_busy_timeout(s, 100));
    assert_false(perk_store_is_readonly(s));
    perk_store_close(s);
    /* Reopening an up-to-date store changes nothing. */
    s = test_open(d.db);
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM orders"), 1);
    perk_store_close(s);
    perk_store_close(NULL);
    test_dir_remove(&d);
}

static void test_open_errors(void **state)
{
    TEST_SQLITE_ONLY("files that are not Perk stores");
    (void)state;
    test_dir d;
    test_dir_make(&d);
    perk_store *s = NULL;
    assert_int_equal(perk_store_open("", &s), PERK_STORE_INVALID);
    perk_store_close(s);
    assert_int_equal(perk_store_open(NULL, &s), PERK_STORE_INVALID);
    perk_store_close(s);
    assert_int_equal(perk_store_open(NULL, NULL), PERK_STORE_INVALID);
    char path[400];
    snprintf(path, sizeof path, "%s/no/such/dir/perk.db", d.dir);
    assert_int_equal(perk_store_open(path, &s), PERK_STORE_IO);
    assert_non_null(strstr(perk_store_errmsg(s), "cannot open database"));
    perk_store_close(s);

    /* Not a database at all. */
    FILE *f = fopen(d.db, "w");
    fputs("this is a text file, not a database, but long enough to have a header..........\n", f);
    fclose(f);
    assert_int_equal(perk_store_open(d.db, &s), PERK_STORE_CORRUPT);
    assert_non_null(strstr(perk_store_errmsg(s), d.db));
    perk_store_close(s);
    unlink(d.db);

    /* Some other application's SQLite database. */
    sqlite3 *db;
    assert_int_equal(sqlite3_open(d.db, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE customers(id)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(perk_store_open(d.db, &s), PERK_STORE_CORRUPT);
    assert_non_null(strstr(perk_store_errmsg(s), "not a Perk store"));
    perk_store_close(s);
    unlink(d.db);
    assert_int_equal(sqlite3_open(d.db, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA application_id = 1234", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(perk_store_open(d.db, &s), PERK_STORE_CORRUPT);
    assert_non_null(strstr(perk_store_errmsg(s), "another application"));
    perk_store_close(s);
    unlink(d.db);

    /* A newer schema than this code knows. */
    s = test_open(d.db);
    assert_int_equal(sqlite3_exec(test_sqlite_handle(s), "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    perk_store_close(s);
    assert_int_equal(perk_store_open(d.db, &s), PERK_STORE_SCHEMA_TOO_NEW);
    assert_non_null(strstr(perk_store_errmsg(s), "schema version 99 is newer"));
    perk_store_close(s);
    test_dir_remove(&d);
}

/* Creates a database at schema version k with the historical SQL (steps 1..k). */
static void create_at_version(const char *path, int k)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    for (int i = 0; i < k; i++)
        assert_int_equal(sqlite3_exec(db, pstore_migrations[i].sql, NULL, NULL, NULL), SQLITE_OK);
    char set[64];
    snprintf(set, sizeof set, "PRAGMA user_version = %d", k);
    assert_int_equal(sqlite3_exec(db, set, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

/* Data written the way version 1 of the store wrote it. */
static const char v1_data[] =
    "INSERT INTO versions VALUES (1, 100, 'ana', 'first', "
    "  '039058c6f2c0cb492c533b0a4d14ef77cc0f78abccced5287d84a1a2011cfb81', x'010203', 'src');\n"
    "INSERT INTO activations VALUES (1, 1, 100, 100, 'publish', 'ana', 'first');\n"
    "INSERT INTO coupons VALUES ('SPRING', 'spring', 100, 0, 2, 0, NULL);\n"
    "INSERT INTO orders (order_id, customer_id, ruleset, ruleset_version, time, currency, subtotal,"
    "  discount, shipping, payable, points_earned, points_redeemed, fingerprint)"
    "  VALUES ('A', 'cy', 'shop', 1, 200, 'CNY', 1000, 100, 0, 900, 100, 0, 'x'),"
    "         ('B', 'cy', 'shop', 1, 300, 'CNY', 500, 50, 0, 450, 0, 30, 'y');\n"
    "INSERT INTO coupon_uses (code, order_id, customer_id, used_at) VALUES ('SPRING', 'A', 'cy', 200);\n"
    "INSERT INTO budget_uses (ruleset, promo_id, order_id, customer_id, discount, used_at, released_at)"
    "  VALUES ('shop', 'P', 'A', 'cy', 100, 200, NULL), ('shop', 'P', 'B', 'cy', 50, 300, 400);\n"
    "INSERT INTO ledger (order_id, customer_id, kind, points, created_at, available_at)"
    "  VALUES ('A', 'cy', 'earn', 100, 200, 200), ('B', 'cy', 'redeem', -30, 300, 300);\n"
    "INSERT INTO events (type, created_at, data) VALUES ('order.committed', 200, '{}'),"
    "  ('order.committed', 300, '{}');\n";

static void test_migrate_from_every_version(void **state)
{
    TEST_SQLITE_ONLY("SQLite schema versions (PostgreSQL's: test_pg_driver)");
    (void)state;
    for (int k = 0; k < perk_store_schema_version(); k++) {
        test_dir d;
        test_dir_make(&d);
        /* version 1 data written at version 1, then the historical steps up to k (the data of
         * version 1 does not fit the tables of later versions as it is) */
        create_at_version(d.db, k < 1 ? k : 1);
        if (k >= 1) {
            sqlite3 *db;
            assert_int_equal(sqlite3_open(d.db, &db), SQLITE_OK);
            assert_int_equal(sqlite3_exec(db, v1_data, NULL, NULL, NULL), SQLITE_OK);
            for (int i = 1; i < k; i++)
                assert_int_equal(sqlite3_exec(db, pstore_migrations[i].sql, NULL, NULL, NULL), SQLITE_OK);
            char set[64];
            snprintf(set, sizeof set, "PRAGMA user_version = %d", k);
            assert_int_equal(sqlite3_exec(db, set, NULL, NULL, NULL), SQLITE_OK);
            sqlite3_close(db);
        }
        perk_store *s = test_open(d.db);
        assert_int_equal(test_sql_int(s, "PRAGMA user_version"), perk_store_schema_version());
        test_assert_integrity(test_sqlite_handle(s));
        if (k >= 1) {
            /* Data survived and the new features see it. */
            int64_t active = 0;
            assert_store(s, PERK_STORE_OK, perk_store_active_version(s, 100, &active));
            assert_int_equal(active, 1);
            perk_store_version v;
            assert_store(s, PERK_STORE_OK, perk_store_get_version(s, 1, &v));
            perk_store_free_version(&v);
            perk_store_coupon_info info;
            assert_store(s, PERK_STORE_OK, perk_store_coupon_check(s, "spring", "x", 500, &info));
            assert_int_equal(info.uses, 1); /* back-filled counter */
            int64_t uses, money, cu;
            assert_store(s, PERK_STORE_OK, perk_store_budget_usage(s, "shop", "P", "cy", &uses, &money, &cu));
            assert_int_equal(uses, 1); /* B's use was released */
            assert_int_equal(money, 100);
            assert_int_equal(cu, 1);
            perk_store_points_summary p = test_points(s, "cy", 500, NULL);
            assert_int_equal(p.balance, 70); /* 100 - 30 */
            test_events ev;
            test_events_read(s, 0, &ev);
            assert_int_equal(ev.count, 2);
            test_events_free(&ev);
            assert_store(s, PERK_STORE_OK, perk_store_ack(s, "crm", 2)); /* v2 table */
            /* The store keeps working on the migrated data. */
            perk_store_promo_use promo = { "P", 10, 2, -1, -1 };
            perk_store_order o = test_order("C", "cy", 600, 100);
            o.promos = &promo;
            o.n_promos = 1;
            assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, NULL, NULL));
            o.order_id = "D";
            assert_store(s, PERK_STORE_BUDGET_EXCEEDED, perk_store_commit(s, &o, NULL, NULL));
            /* version 9: an old code is valid from its creation and not revoked; revoking works */
            assert_store(s, PERK_STORE_OK, perk_store_coupon_check(s, "spring", "x", 500, &info));
            assert_int_equal(info.status, PERK_STORE_COUPON_VALID);
            assert_int_equal(info.valid_from, 0);
            assert_int_equal(info.revoked_at, 0);
            assert_int_equal(info.created_at, 100);
            assert_store(s, PERK_STORE_OK,
                         perk_store_coupon_revoke(s, "SPRING", "ops", "campaign over", 600, NULL, NULL));
            assert_store(s, PERK_STORE_OK, perk_store_coupon_check(s, "spring", "x", 601, &info));
            assert_int_equal(info.status, PERK_STORE_COUPON_REVOKED);
            assert_string_equal(info.revoke_reason, "campaign over");
        }
        perk_store_close(s);
        test_dir_remove(&d);
    }
}

/* Item 13: store errors that said the wrong thing: a directory gave "disk I/O error", an empty
 * file or another application's database "read-only", and /dev/null gained /dev/null-journal. */
static void test_store_errors_say_what_is_wrong(void **state)
{
    TEST_SQLITE_ONLY("paths that are directories, devices or empty files");
    (void)state;
    test_dir d;
    test_dir_make(&d);
    perk_store *s = NULL;
    for (int ro = 0; ro < 2; ro++) {
        assert_int_equal(ro ? perk_store_open_readonly(d.dir, &s) : perk_store_open(d.dir, &s),
                         PERK_STORE_IO);
        char want[700];
        snprintf(want, sizeof want,
                 "%s is a directory, not a database file: give the store's file (for example %s/perk.db)",
                 d.dir, d.dir);
        assert_string_equal(perk_store_errmsg(s), want);
        perk_store_close(s);
    }
    bool journal_before = access("/dev/null-journal", F_OK) == 0;
    assert_int_equal(perk_store_open("/dev/null", &s), PERK_STORE_IO);
    assert_string_equal(perk_store_errmsg(s),
                        "/dev/null is not a regular file (a device, pipe or socket): a Perk "
                        "store is a regular file; check --db or $PERK_DB");
    perk_store_close(s);
    if (!journal_before) assert_int_not_equal(access("/dev/null-journal", F_OK), 0);
    /* an empty file, read */
    FILE *fp = fopen(d.db, "w");
    assert_non_null(fp);
    fclose(fp);
    assert_int_equal(perk_store_open_readonly(d.db, &s), PERK_STORE_CORRUPT);
    assert_non_null(strstr(perk_store_errmsg(s), "is an empty file, not a Perk store"));
    perk_store_close(s);
    /* another application's database, read */
    sqlite3 *db;
    assert_int_equal(sqlite3_open(d.db, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE t (x)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(perk_store_open_readonly(d.db, &s), PERK_STORE_CORRUPT);
    assert_non_null(strstr(perk_store_errmsg(s),
                           "the file holds 1 tables or indexes but no Perk schema version: "
                           "not a Perk store"));
    perk_store_close(s);
    test_dir_remove(&d);
}

static void test_racing_first_open(void **state)
{
    (void)state;
    test_dir d;
    test_dir_make(&d);
    enum { N = 6 };
    pid_t pids[N];
    for (int i = 0; i < N; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            perk_store *s = NULL;
            perk_store_status st = perk_store_open(d.db, &s);
            pstore_trust_caller_for_tests(s); /* a hand-made order of rule set "shop" */
            if (st == PERK_STORE_OK) {
                char id[16];
                snprintf(id, sizeof id, "R%d", i);
                perk_store_order o = test_order(id, "c", 1, 1);
                st = perk_store_commit(s, &o, NULL, NULL);
            }
            if (st != PERK_STORE_OK) fprintf(stderr, "child %d: %s\n", i, perk_store_errmsg(s));
            perk_store_close(s);
            _exit(st == PERK_STORE_OK ? 0 : 1);
        }
    }
    for (int i = 0; i < N; i++) {
        int status;
        assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    perk_store *s = test_open(d.db);
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM orders"), N);
    perk_store_close(s);
    test_dir_remove(&d);
}

/* Before schema version 7, perk serve created api_keys on first use. A version-5 store that ran
 * the service (a key in it) and one that never did both migrate: the key still works, and the
 * other store gets the table from the migration, with reservations beside it. */
static void test_api_keys_migrate_from_v5(void **state)
{
    TEST_SQLITE_ONLY("SQLite schema version 5");
    (void)state;
    for (int ran_service = 0; ran_service < 2; ran_service++) {
        test_dir d;
        test_dir_make(&d);
        create_at_version(d.db, 5);
        if (ran_service) {
            sqlite3 *db;
            assert_int_equal(sqlite3_open(d.db, &db), SQLITE_OK);
            /* the table as src/store/keys.c created it before, and the hash of "perk_old" */
            char hash[65], sql[512];
            perk_store_sha256_hex("perk_old", 8, hash);
            snprintf(sql, sizeof sql,
                     "CREATE TABLE IF NOT EXISTS api_keys (id INTEGER PRIMARY KEY, hash TEXT NOT NULL UNIQUE,"
                     " prefix TEXT NOT NULL, scope TEXT NOT NULL, name TEXT NOT NULL, created_at INTEGER NOT "
                     "NULL, revoked_at INTEGER);"
                     "INSERT INTO api_keys (hash, prefix, scope, name, created_at)"
                     " VALUES ('%s', 'perk_old', 'read', 'dashboard', 100);",
                     hash);
            assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
            sqlite3_close(db);
        }
        perk_store *s = test_open(d.db);
        assert_int_equal(test_sql_int(s, "PRAGMA user_version"), perk_store_schema_version());
        assert_true(perk_store_schema_version() >= 7);
        test_assert_integrity(test_sqlite_handle(s));
        perk_store_key_info info;
        assert_store(s, PERK_STORE_OK, perk_store_key_lookup(s, "perk_old", &info));
        assert_int_equal(info.found, ran_service);
        if (ran_service) assert_string_equal(info.scope, "read");
        char key[PERK_STORE_KEY_MAX];
        int64_t id = 0;
        assert_store(s, PERK_STORE_OK, perk_store_key_create(s, "checkout", "till", 200, key, &id));
        assert_store(s, PERK_STORE_OK, perk_store_key_lookup(s, key, &info));
        assert_true(info.found);
        assert_string_equal(info.scope, "checkout");
        assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM api_keys"), 1 + ran_service);
        assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM reservations"), 0);
        perk_store_close(s);
        test_dir_remove(&d);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_texts),
        cmocka_unit_test(test_open_settings),
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_migrate_from_every_version),
        cmocka_unit_test(test_api_keys_migrate_from_v5),
        cmocka_unit_test(test_store_errors_say_what_is_wrong),
        cmocka_unit_test(test_racing_first_open),
    };
    return cmocka_run_group_tests_name("store_schema", tests, NULL, NULL);
}
