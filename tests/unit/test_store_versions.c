/* test_store_versions.c - rule-set versions: SHA-256 vectors, publish, history, scheduled
 * activation, rollback, loading (with checksum verification) and the hot-reload check. */
#include "store_fixture.h"

#include <time.h>

typedef store_fixture fixture;

static void test_sha256_vectors(void **state)
{
    (void)state;
    char hex[65];
    perk_store_sha256_hex("", 0, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    perk_store_sha256_hex("abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    perk_store_sha256_hex(two_blocks, strlen(two_blocks), hex);
    assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    char *million = malloc(1000000);
    memset(million, 'a', 1000000);
    perk_store_sha256_hex(million, 1000000, hex);
    assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    free(million);
}

typedef struct history {
    int n;
    int64_t ids[8];
    bool active[8];
    int64_t next[8], last[8];
    char authors[8][32];
} history;

static int history_cb(const perk_store_version_info *v, void *ctx)
{
    history *h = ctx;
    if (h->n < 8) {
        h->ids[h->n] = v->id;
        h->active[h->n] = v->active;
        h->next[h->n] = v->next_activation_at;
        h->last[h->n] = v->last_activated_at;
        snprintf(h->authors[h->n], sizeof h->authors[h->n], "%s", v->author);
    }
    h->n++;
    return 0;
}

static void test_publish_schedule_rollback(void **state)
{
    fixture *f = *state;
    perk_store *s = f->s;
    const uint8_t code1[] = { 'P', 'B', 'C', 1, 2, 3, 0, 4 }, code2[] = { 'P', 'B', 'C', 9 };
    int64_t v1 = 0, v2 = 0, active = -1;
    assert_store(s, PERK_STORE_NOT_FOUND, perk_store_active_version(s, 1000, &active));
    assert_int_equal(active, 0);
    assert_store(
        s, PERK_STORE_OK,
        perk_store_publish(s, code1, sizeof code1, "{\"a.perk\":\"rule\"}", "ana", "first", 0, 1000, &v1));
    assert_int_equal(v1, 1);
    assert_store(s, PERK_STORE_OK, perk_store_active_version(s, 1000, &active));
    assert_int_equal(active, v1);
    /* Scheduled for 5000: nothing changes before then. */
    assert_store(s, PERK_STORE_OK,
                 perk_store_publish(s, code2, sizeof code2, NULL, "ben", "spring sale", 5000, 2000, &v2));
    assert_store(s, PERK_STORE_OK, perk_store_active_version(s, 4999, &active));
    assert_int_equal(active, v1);
    assert_store(s, PERK_STORE_OK, perk_store_active_version(s, 5000, &active));
    assert_int_equal(active, v2);

    history h = { 0 };
    assert_store(s, PERK_STORE_OK, perk_store_history(s, 3000, history_cb, &h));
    assert_int_equal(h.n, 2);
    assert_int_equal(h.ids[0], v2); /* newest first */
    assert_false(h.active[0]);
    assert_int_equal(h.next[0], 5000);
    assert_true(h.active[1]);
    assert_int_equal(h.last[1], 1000);
    assert_string_equal(h.authors[0], "ben");

    /* Roll back to v1 at 6000: active again, history keeps both, log has three entries. */
    assert_store(s, PERK_STORE_OK, perk_store_rollback(s, v1, "cat", "bad prices", 6000));
    assert_store(s, PERK_STORE_OK, perk_store_active_version(s, 6000, &active));
    assert_int_equal(active, v1);
    assert_store(s, PERK_STORE_OK, perk_store_active_version(s, 5500, &active));
    assert_int_equal(active, v2); /* the past is unchanged */
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM activations"), 3);
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM versions"), 2);
    assert_store(s, PERK_STORE_NOT_FOUND, perk_store_rollback(s, 99, "cat", NULL, 7000));

    perk_store_version v;
    assert_store(s, PERK_STORE_OK, perk_store_get_version(s, v1, &v));
    assert_int_equal(v.bytecode_len, sizeof code1);
    assert_memory_equal(v.bytecode, code1, sizeof code1);
    assert_string_equal(v.sources, "{\"a.perk\":\"rule\"}");
    assert_string_equal(v.author, "ana");
    assert_string_equal(v.message, "first");
    char hex[65];
    perk_store_sha256_hex(code1, sizeof code1, hex);
    assert_string_equal(v.checksum, hex);
    perk_store_free_version(&v);
    assert_store(s, PERK_STORE_NOT_FOUND, perk_store_get_version(s, 42, &v));
    perk_store_free_version(&v);

    test_events ev;
    test_events_read(s, 0, &ev);
    assert_int_equal(ev.count, 3);
    assert_non_null(strstr(ev.text, "ruleset.published {\"activate_at\":5000,\"author\":\"ben\","
                                    "\"bytecode_len\":4,\"checksum\":\""));
    assert_non_null(strstr(ev.text, "\"scheduled\":true"));
    assert_non_null(strstr(ev.text, "ruleset.rolled_back {\"author\":\"cat\",\"message\":\"bad prices\","
                                    "\"previous_version_id\":2,\"time\":6000,\"version_id\":1}"));
    test_events_free(&ev);
}

static void test_publish_invalid(void **state)
{
    fixture *f = *state;
    perk_store *s = f->s;
    const uint8_t code[] = { 1 };
    int64_t v = -1;
    assert_store(s, PERK_STORE_INVALID, perk_store_publish(s, code, 0, NULL, "a", NULL, 0, 10, &v));
    assert_store(s, PERK_STORE_INVALID, perk_store_publish(s, NULL, 1, NULL, "a", NULL, 0, 10, &v));
    assert_store(s, PERK_STORE_INVALID, perk_store_publish(s, code, 1, NULL, "", NULL, 0, 10, &v));
    assert_store(s, PERK_STORE_INVALID, perk_store_publish(s, code, 1, NULL, "a", NULL, 5, 10, &v));
    assert_non_null(strstr(perk_store_errmsg(s), "in the past"));
    assert_int_equal(v, 0);
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM versions"), 0);
}

static void test_damaged_bytecode_detected(void **state)
{
    fixture *f = *state;
    perk_store *s = f->s;
    const uint8_t code[] = { 1, 2, 3, 4 };
    int64_t id;
    assert_store(s, PERK_STORE_OK, perk_store_publish(s, code, 4, "", "a", "", 0, 1, &id));
    test_sql_exec(s, test_pg_uri() ? "UPDATE versions SET bytecode = '\\x01020305'::bytea"
                                    : "UPDATE versions SET bytecode = x'01020305'");
    perk_store_version v;
    assert_store(s, PERK_STORE_CORRUPT, perk_store_get_version(s, id, &v));
    assert_non_null(strstr(perk_store_errmsg(s), "damaged"));
    perk_store_free_version(&v);
}

static void test_active_changed(void **state)
{
    fixture *f = *state;
    perk_store *s = f->s;
    const uint8_t code[] = { 7 };
    int64_t v1, v2, v3, now_id = -1;
    assert_store(s, PERK_STORE_OK, perk_store_active_changed(s, 100, 0, &now_id));
    assert_int_equal(now_id, 0);
    assert_store(s, PERK_STORE_OK, perk_store_publish(s, code, 1, "", "a", "", 0, 100, &v1));
    assert_store(s, PERK_STORE_OK, perk_store_active_changed(s, 100, 0, &now_id));
    assert_int_equal(now_id, v1);
    assert_store(s, PERK_STORE_OK, perk_store_publish(s, code, 1, "", "a", "", 200, 150, &v2));
    assert_store(s, PERK_STORE_OK, perk_store_active_changed(s, 199, v1, &now_id));
    assert_int_equal(now_id, v1);
    /* The cached answer must not hide the scheduled activation. */
    assert_store(s, PERK_STORE_OK, perk_store_active_changed(s, 200, v1, &now_id));
    assert_int_equal(now_id, v2);
    /* Another process (here: another handle) publishes: seen through the data version. */
    perk_store *other = test_open(f->dir.db);
    assert_store(other, PERK_STORE_OK, perk_store_publish(other, code, 1, "", "b", "", 0, 300, &v3));
    perk_store_close(other);
    assert_store(s, PERK_STORE_OK, perk_store_active_changed(s, 300, v2, &now_id));
    /* On PostgreSQL the change arrives as a notification, which the server sends once the other
     * handle's commit is done: it may land a moment after that commit returns (a node sees it
     * within a second, docs/postgresql.md). Wait up to two. */
    for (int waited_ms = 0; now_id != v3 && test_pg_uri() && waited_ms < 2000; waited_ms += 5) {
        struct timespec ts = { 0, 5 * 1000000L };
        nanosleep(&ts, NULL);
        assert_store(s, PERK_STORE_OK, perk_store_active_changed(s, 300, v2, &now_id));
    }
    assert_int_equal(now_id, v3);
    /* Time going backwards is answered correctly too. */
    assert_store(s, PERK_STORE_OK, perk_store_active_changed(s, 150, v3, &now_id));
    assert_int_equal(now_id, v1);
}

typedef struct log_acc {
    int n;
    char kinds[64];
} log_acc;

static int log_cb(const perk_store_activation *a, void *ctx)
{
    log_acc *l = ctx;
    l->n++;
    strcat(l->kinds, a->kind);
    strcat(l->kinds, " ");
    return l->n == 2; /* stop after two */
}

static void test_activation_log(void **state)
{
    fixture *f = *state;
    perk_store *s = f->s;
    const uint8_t code[] = { 7 };
    int64_t v1, v2;
    assert_store(s, PERK_STORE_OK, perk_store_publish(s, code, 1, "", "a", "", 0, 1, &v1));
    assert_store(s, PERK_STORE_OK, perk_store_publish(s, code, 1, "", "a", "", 0, 2, &v2));
    assert_store(s, PERK_STORE_OK, perk_store_rollback(s, v1, "a", "", 3));
    log_acc l = { 0 };
    assert_store(s, PERK_STORE_OK, perk_store_activations(s, log_cb, &l));
    assert_int_equal(l.n, 2);
    assert_string_equal(l.kinds, "rollback publish ");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha256_vectors),
        cmocka_unit_test_setup_teardown(test_publish_schedule_rollback, store_fixture_setup,
                                        store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_publish_invalid, store_fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_damaged_bytecode_detected, store_fixture_setup,
                                        store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_active_changed, store_fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_activation_log, store_fixture_setup, store_fixture_teardown),
    };
    return cmocka_run_group_tests_name("store_versions", tests, NULL, NULL);
}
