/* test_store_events.c - the outbox: ordering, batching, consumer acknowledgements (monotonic,
 * bounded by existing ids, usable from inside the callback), consumers' claims (one node's relay
 * delivers at a time; a claim that ended is taken over; 8 processes claiming at once: one
 * granted) and argument checks. */
#include "store_fixture.h"

#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

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

/* One relay at a time: node a claims the webhook consumer for 30 s; b is refused and told who
 * holds it until when; a renews; when a's claim has ended b takes over, and a's late
 * acknowledgement is refused; b's release lets a in at once. */
static void test_claims(void **state)
{
    fixture *f = *state;
    perk_store *s = f->s;
    long long max_id = test_sql_int(s, "SELECT MAX(id) FROM events");
    perk_store_claim c;
    assert_store(s, PERK_STORE_OK, perk_store_consumer_claim(s, "webhook", "node-a", 1000, 30, &c));
    assert_true(c.granted);
    assert_string_equal(c.holder, "node-a");
    assert_int_equal(c.until, 1030);
    assert_store(s, PERK_STORE_OK, perk_store_consumer_claim(s, "webhook", "node-b", 1010, 30, &c));
    assert_false(c.granted);
    assert_string_equal(c.holder, "node-a");
    assert_int_equal(c.until, 1030);
    /* the holder renews; its acknowledgements count */
    assert_store(s, PERK_STORE_OK, perk_store_consumer_claim(s, "webhook", "node-a", 1020, 30, &c));
    assert_true(c.granted);
    assert_int_equal(c.until, 1050);
    assert_store(s, PERK_STORE_OK, perk_store_ack_held(s, "webhook", "node-a", max_id - 2));
    /* at 1049 a's claim still holds; at 1050 it has ended and b takes over */
    assert_store(s, PERK_STORE_OK, perk_store_consumer_claim(s, "webhook", "node-b", 1049, 30, &c));
    assert_false(c.granted);
    assert_store(s, PERK_STORE_OK, perk_store_consumer_claim(s, "webhook", "node-b", 1050, 30, &c));
    assert_true(c.granted);
    assert_string_equal(c.holder, "node-b");
    assert_int_equal(c.until, 1080);
    /* a stalled past its claim: its acknowledgement is refused and the position stays */
    assert_store(s, PERK_STORE_CONFLICT, perk_store_ack_held(s, "webhook", "node-a", max_id));
    assert_non_null(strstr(perk_store_errmsg(s), "node node-b holds it"));
    int64_t pos = -1;
    assert_store(s, PERK_STORE_OK, perk_store_consumer_position(s, "webhook", &pos));
    assert_int_equal(pos, max_id - 2);
    assert_store(s, PERK_STORE_OK, perk_store_ack_held(s, "webhook", "node-b", max_id));
    assert_store(s, PERK_STORE_OK, perk_store_consumer_position(s, "webhook", &pos));
    assert_int_equal(pos, max_id);
    /* a release by a node that does not hold it changes nothing; b's own lets a in at once */
    assert_store(s, PERK_STORE_OK, perk_store_consumer_release(s, "webhook", "node-a"));
    assert_store(s, PERK_STORE_OK, perk_store_consumer_claim(s, "webhook", "node-a", 1051, 30, &c));
    assert_false(c.granted);
    assert_store(s, PERK_STORE_OK, perk_store_consumer_release(s, "webhook", "node-b"));
    assert_store(s, PERK_STORE_OK, perk_store_consumer_claim(s, "webhook", "node-a", 1052, 30, &c));
    assert_true(c.granted);
    /* claims are per consumer; a plain ack ignores them */
    assert_store(s, PERK_STORE_OK, perk_store_consumer_claim(s, "crm", "node-b", 1052, 30, &c));
    assert_true(c.granted);
    assert_store(s, PERK_STORE_OK, perk_store_ack(s, "webhook", max_id));
    /* bad arguments */
    assert_store(s, PERK_STORE_INVALID, perk_store_consumer_claim(s, "webhook", "", 1, 30, &c));
    assert_store(s, PERK_STORE_INVALID, perk_store_consumer_claim(s, "webhook", "n", 1, 0, &c));
    assert_store(s, PERK_STORE_INVALID, perk_store_consumer_claim(s, "webhook", "n", -1, 30, &c));
    assert_store(s, PERK_STORE_INVALID, perk_store_consumer_claim(s, "webhook", "n", 1, 86401, &c));
    assert_store(s, PERK_STORE_INVALID, perk_store_ack_held(s, "webhook", NULL, 1));
}

/* 8 processes claim the same free consumer at the same moment, on their own connections:
 * exactly one is granted, and all of them agree on which. */
#define CLAIMERS 8
static void test_claim_race(void **state)
{
    fixture *f = *state;
    int *granted = mmap(NULL, sizeof(int) * CLAIMERS, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    assert_true(granted != MAP_FAILED);
    int pipes[2];
    assert_int_equal(pipe(pipes), 0);
    pid_t pids[CLAIMERS];
    for (int i = 0; i < CLAIMERS; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            close(pipes[1]);
            perk_store *s = test_open(f->dir.db);
            char go;
            if (read(pipes[0], &go, 1) != 1) _exit(2);
            char me[24];
            snprintf(me, sizeof me, "node-%d", i);
            perk_store_claim c;
            if (perk_store_consumer_claim(s, "webhook", me, 5000, 30, &c) != PERK_STORE_OK) _exit(3);
            granted[i] = c.granted ? 1 : 0;
            if (strncmp(c.holder, "node-", 5) != 0) _exit(4);
            perk_store_close(s);
            _exit(0);
        }
    }
    close(pipes[0]);
    char go[CLAIMERS] = { 0 };
    assert_int_equal(write(pipes[1], go, CLAIMERS), CLAIMERS); /* all at once */
    close(pipes[1]);
    int n = 0;
    for (int i = 0; i < CLAIMERS; i++) {
        int st = 0;
        assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 0);
        n += granted[i];
    }
    assert_int_equal(n, 1);
    perk_store_claim c;
    assert_store(f->s, PERK_STORE_OK, perk_store_consumer_claim(f->s, "webhook", "parent", 5001, 30, &c));
    assert_false(c.granted);
    for (int i = 0; i < CLAIMERS; i++)
        if (granted[i]) {
            char want[24];
            snprintf(want, sizeof want, "node-%d", i);
            assert_string_equal(c.holder, want);
        }
    munmap(granted, sizeof(int) * CLAIMERS);
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
        cmocka_unit_test_setup_teardown(test_claims, setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_claim_race, setup, store_fixture_teardown),
    };
    return cmocka_run_group_tests_name("store_events", tests, NULL, NULL);
}
