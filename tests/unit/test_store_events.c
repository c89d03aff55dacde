/* test_store_events.c - the outbox: ordering, batching, consumer acknowledgements (monotonic,
 * bounded by existing ids, usable from inside the callback) and argument checks. */
#include "store_fixture.h"

typedef store_fixture fixture;

/* A fresh store with five committed orders (and so their events). */
static int setup(void **state)
{
    store_fixture_setup(state);
    fixture *f = *state;
    for (int i = 0; i < 5; i++) {
        char id[16];
        snprintf(id, sizeof id, "E%d", i);
        perk_store_order o = test_order(id, "c", i, 10);
        assert_store(f->s, PERK_STORE_OK, perk_store_commit(f->s, &o, NULL, NULL));
    }
    *state = f;
    return 0;
}

typedef struct reader {
    perk_store *s;
    int n;
    int64_t ids[16];
    int stop_after;
    bool ack;
} reader;

static int read_cb(int64_t id, const char *type, int64_t time, const char *data, void *ctx)
{
    reader *r = ctx;
    assert_string_equal(type, "order.committed");
    assert_non_null(strstr(data, "\"order_id\":\"E"));
    assert_in_range(time, 0, 4); /* orders E0..E4 were placed at times 0..4 */
    r->ids[r->n++] = id;
    if (r->ack) assert_store(r->s, PERK_STORE_OK, perk_store_ack(r->s, "mailer", id));
    return r->stop_after && r->n >= r->stop_after;
}

static void test_read_in_order(void **state)
{
    fixture *f = *state;
    reader r = { .s = f->s };
    assert_store(f->s, PERK_STORE_OK, perk_store_events(f->s, 0, 100, read_cb, &r));
    assert_int_equal(r.n, 5);
    for (int i = 1; i < r.n; i++) assert_true(r.ids[i] > r.ids[i - 1]);
    /* after_id and limit */
    reader r2 = { .s = f->s };
    assert_store(f->s, PERK_STORE_OK, perk_store_events(f->s, r.ids[1], 2, read_cb, &r2));
    assert_int_equal(r2.n, 2);
    assert_int_equal(r2.ids[0], r.ids[2]);
    /* stopping early */
    reader r3 = { .s = f->s, .stop_after = 1 };
    assert_store(f->s, PERK_STORE_OK, perk_store_events(f->s, 0, 100, read_cb, &r3));
    assert_int_equal(r3.n, 1);
    assert_store(f->s, PERK_STORE_INVALID, perk_store_events(f->s, 0, 0, read_cb, &r3));
    assert_store(f->s, PERK_STORE_INVALID, perk_store_events(f->s, 0, 10001, read_cb, &r3));
    assert_store(f->s, PERK_STORE_INVALID, perk_store_events(f->s, 0, 10, NULL, NULL));
}

static void test_ack_positions(void **state)
{
    fixture *f = *state;
    perk_store *s = f->s;
    int64_t pos = -1;
    assert_store(s, PERK_STORE_OK, perk_store_consumer_position(s, "mailer", &pos));
    assert_int_equal(pos, 0);
    /* Acknowledging from inside the callback works (the batch is read first). */
    reader r = { .s = s, .ack = true, .stop_after = 3 };
    assert_store(s, PERK_STORE_OK, perk_store_events(s, 0, 100, read_cb, &r));
    assert_store(s, PERK_STORE_OK, perk_store_consumer_position(s, "mailer", &pos));
    assert_int_equal(pos, r.ids[2]);
    /* Positions never move back. */
    assert_store(s, PERK_STORE_OK, perk_store_ack(s, "mailer", r.ids[0]));
    assert_store(s, PERK_STORE_OK, perk_store_consumer_position(s, "mailer", &pos));
    assert_int_equal(pos, r.ids[2]);
    /* Consumers are independent. */
    assert_store(s, PERK_STORE_OK, perk_store_consumer_position(s, "crm", &pos));
    assert_int_equal(pos, 0);
    /* Unknown ids and bad names are refused. */
    long long max_id = test_sql_int(s, "SELECT MAX(id) FROM events");
    assert_store(s, PERK_STORE_INVALID, perk_store_ack(s, "mailer", max_id + 1));
    assert_store(s, PERK_STORE_INVALID, perk_store_ack(s, "mailer", -1));
    assert_store(s, PERK_STORE_INVALID, perk_store_ack(s, "", 1));
    assert_store(s, PERK_STORE_OK, perk_store_ack(s, "crm", max_id));
    assert_store(s, PERK_STORE_OK, perk_store_consumer_position(s, "crm", &pos));
    assert_int_equal(pos, max_id);
}

static void test_ids_never_reused(void **state)
{
    fixture *f = *state;
    perk_store *s = f->s;
    long long max_id = test_sql_int(s, "SELECT MAX(id) FROM events");
    /* Even if an operator prunes old events, new ids continue after the old maximum. */
    test_sql_exec(s, "DELETE FROM events");
    perk_store_order o = test_order("NEW", "c", 9, 10);
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, NULL, NULL));
    assert_true(test_sql_int(s, "SELECT MIN(id) FROM events") > max_id);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_read_in_order, setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_ack_positions, setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_ids_never_reused, setup, store_fixture_teardown),
    };
    return cmocka_run_group_tests_name("store_events", tests, NULL, NULL);
}
