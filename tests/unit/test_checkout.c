/* test_checkout.c - the checkout glue (src/checkout/checkout.c): evaluating a cart against the store's
 * budgets and coupon verdicts and committing it. What an order records (promotion budgets,
 * coupon uses, ledger entries, events), replays, contention between processes for a limited
 * promotion and a single-use coupon (the losers are committed re-evaluated without it), points
 * redeemed above the balance, and the store's coupon verdicts in the result. */
#include "store_fixture.h"

#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

#include "json/cart_json.h"
#include "checkout/checkout.h"
#include "compiler/compiler.h"
#include "perk.h"

/* Every cart below is one line of ¥100.00 (10000 fen), no shipping.
 *   flash    ¥20 off, at most 3 orders in all (a budget kept by the store)
 *   welcome  ¥15 off with a code of the WELCOME campaign
 *   base     1 point per ¥1 paid for goods (after discounts, not counting goods paid by points)
 *   redeem   100 points = ¥1 (1 point = 1 fen), for goods */
static const char RULES[] = "ruleset \"shop\" { currency CNY timezone \"Asia/Shanghai\" }\n"
                            "promotion flash \"限量立减\" {\n"
                            "  priority 10\n"
                            "  limit 3 uses\n"
                            "  then ¥20 off order\n"
                            "}\n"
                            "promotion welcome \"新客券\" {\n"
                            "  priority 20\n"
                            "  requires coupon from \"WELCOME\"\n"
                            "  then ¥15 off order\n"
                            "}\n"
                            "earn base \"消费积分\" {\n"
                            "  then 1 point per ¥1 on items\n"
                            "}\n"
                            "redeem {\n"
                            "  rate 100 points = ¥1\n"
                            "  pays for goods\n"
                            "}\n";
#define FLASH_LIMIT 3

/* 2026-03-04T10:00:00+08:00 */
#define ORDER_TIME 1772589600
#define ORDER_TIME_TEXT "2026-03-04T10:00:00+08:00"

typedef struct fixture {
    store_fixture store; /* the scratch directory and the store */
    uint8_t *bytes;      /* the compiled rules, loaded again in child processes */
    size_t len;
    perk_program *prog;
    perk_context *ctx;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    store_fixture_open(&f->store);
    f->bytes = store_fixture_compile(RULES, &f->len);
    perk_error e;
    f->prog = perk_program_load(f->bytes, f->len, &e);
    assert_non_null(f->prog);
    f->ctx = perk_context_new(f->prog, NULL, &e);
    assert_non_null(f->ctx);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    perk_context_free(f->ctx);
    perk_program_free(f->prog);
    free(f->bytes);
    store_fixture_close(&f->store);
    free(f);
    return 0;
}

/* An order document: `extra_customer` and `extra_order` are JSON members appended inside
 * "customer" and "order" (start them with a comma), `coupons` a JSON array or NULL. */
static char *order_json(const char *order_id, const char *customer, const char *extra_customer,
                        const char *extra_order, const char *coupons)
{
    char *text = malloc(1024);
    assert_non_null(text);
    snprintf(text, 1024,
             "{\"order\": {\"id\": \"%s\", \"time\": \"" ORDER_TIME_TEXT "\"%s},"
             " \"customer\": {\"id\": \"%s\"%s},"
             " \"lines\": [{\"sku\": \"TEA\", \"price\": \"100.00\", \"quantity\": 1}]%s%s}",
             order_id, extra_order ? extra_order : "", customer, extra_customer ? extra_customer : "",
             coupons ? ", \"coupons\": " : "", coupons ? coupons : "");
    return text;
}

static cart_doc *parse(const perk_program *prog, const char *text)
{
    char err[512];
    cart_doc *doc = cart_json_parse(text, strlen(text), perk_program_exponent(prog),
                                    perk_program_currency(prog), NULL, err, sizeof err);
    if (!doc) fail_msg("cart: %s", err);
    return doc;
}

static const perk_promotion_result *promo_result(const perk_result *r, const perk_program *prog,
                                                 const char *id)
{
    long idx = perk_program_find_promotion(prog, id);
    assert_true(idx >= 0);
    for (uint32_t i = 0; i < r->n_promotions; i++)
        if (r->promotions[i].promotion == (uint32_t)idx) return &r->promotions[i];
    fail_msg("no result for promotion %s", id);
    return NULL;
}

/* ------------------------------------------------ one order, recorded */

static void test_order_records_everything(void **state)
{
    fixture *f = *state;
    assert_store(f->store.s, PERK_STORE_OK,
                 perk_store_coupon_add(f->store.s, "WELCOME-1", "WELCOME", 0, 1, 0, NULL, ORDER_TIME - 100));
    char *text = order_json("A1", "alice", NULL, NULL, "[\"welcome-1\"]");
    cart_doc *doc = parse(f->prog, text);
    checkout_outcome out;
    bool ok = checkout_place_order(f->store.s, f->prog, 7, f->ctx, doc, text, &out);
    if (!ok) fail_msg("not committed: %s", out.message);
    assert_int_equal(out.store_status, PERK_STORE_OK);
    assert_int_equal(out.attempts, 1);
    assert_false(out.commit.replay);
    /* 10000 - 2000 (flash) - 1500 (welcome) = 6500; 6500 fen = ¥65 -> 65 points */
    const perk_result *r = out.result;
    assert_int_equal(r->payable, 6500);
    assert_int_equal(r->discount, 3500);
    assert_int_equal(promo_result(r, f->prog, "flash")->reason, PERK_REASON_APPLIED);
    assert_int_equal(promo_result(r, f->prog, "welcome")->reason, PERK_REASON_APPLIED);
    assert_int_equal(r->n_coupons, 1);
    assert_int_equal(r->coupons[0].verdict, PERK_COUPON_ACCEPTED);
    assert_int_equal(doc->coupons[0].status, PERK_COUPON_VALID); /* the store's verdict */
    assert_int_equal(out.commit.points_earned, 65);
    assert_int_equal(out.commit.balance, 65); /* no pending period in these rules */
    assert_true(out.commit.event_id > 0);
    int64_t event_id = out.commit.event_id;
    checkout_outcome_free(&out);

    /* the budget of flash: one use of 2000 by alice; welcome has no budget */
    int64_t uses = -1, money = -1, cust = -1;
    assert_store(f->store.s, PERK_STORE_OK,
                 perk_store_budget_usage(f->store.s, "shop", "flash", "alice", &uses, &money, &cust));
    assert_int_equal(uses, 1);
    assert_int_equal(money, 2000);
    assert_int_equal(cust, 1);
    /* the single-use coupon is used up */
    perk_store_coupon_info info;
    assert_store(f->store.s, PERK_STORE_OK,
                 perk_store_coupon_check(f->store.s, "WELCOME1", "bob", ORDER_TIME, &info));
    assert_int_equal(info.status, PERK_STORE_COUPON_USED_UP);
    assert_int_equal(info.uses, 1);
    /* the ledger: one earn entry of 65 points for A1, rule base, version recorded */
    assert_int_equal(test_sql_int(f->store.s, "SELECT COUNT(*) FROM ledger WHERE customer_id = 'alice'"), 1);
    assert_int_equal(test_sql_int(f->store.s, "SELECT points FROM ledger WHERE order_id = 'A1' AND "
                                              "kind = 'earn' AND rule_id = 'base'"),
                     65);
    assert_int_equal(test_sql_int(f->store.s, "SELECT ruleset_version FROM orders WHERE order_id = 'A1'"), 7);
    assert_int_equal(test_sql_int(f->store.s, "SELECT payable FROM orders WHERE order_id = 'A1'"), 6500);
    /* its one line (no id: its position) with what was paid for it, for refunds by line */
    assert_int_equal(
        test_sql_int(f->store.s, "SELECT amount FROM order_lines WHERE order_id = 'A1' AND line_id = '#1'"),
        6500);
    perk_store_points_summary p = test_points(f->store.s, "alice", ORDER_TIME, NULL);
    assert_int_equal(p.balance, 65);
    /* events: order.committed (with both promotions, the coupon and the order itself) and
     * points.changed */
    test_events ev;
    test_events_read(f->store.s, 0, &ev);
    assert_int_equal(ev.count, 2);
    assert_non_null(strstr(ev.text, "order.committed {"));
    assert_non_null(strstr(ev.text, "\"coupons\":[\"WELCOME1\"]"));
    assert_non_null(strstr(ev.text, "{\"discount\":2000,\"promo_id\":\"flash\"}"));
    assert_non_null(strstr(ev.text, "{\"discount\":1500,\"promo_id\":\"welcome\"}"));
    assert_non_null(strstr(ev.text, "\"payable\":6500"));
    assert_non_null(strstr(ev.text, "\"ruleset_version\":7"));
    assert_non_null(
        strstr(ev.text, "\"order\":{\"coupons\":[\"welcome-1\"],\"customer\":{\"id\":\"alice\"}"));
    assert_non_null(strstr(ev.text, "points.changed {"));
    test_events_free(&ev);

    /* committed again (a retry after a timeout): the same outcome, nothing new written, even
     * though the order's own budget use and coupon use are now in the store */
    cart_json_free(doc);
    doc = parse(f->prog, text);
    ok = checkout_place_order(f->store.s, f->prog, 7, f->ctx, doc, text, &out);
    if (!ok) fail_msg("replay not committed: %s", out.message);
    assert_true(out.commit.replay);
    assert_int_equal(out.commit.event_id, event_id);
    assert_int_equal(out.commit.points_earned, 65);
    assert_int_equal(out.result->payable, 6500);
    assert_int_equal(out.result->coupons[0].verdict, PERK_COUPON_ACCEPTED);
    checkout_outcome_free(&out);
    test_events_read(f->store.s, 0, &ev);
    assert_int_equal(ev.count, 2);
    test_events_free(&ev);
    assert_store(f->store.s, PERK_STORE_OK,
                 perk_store_budget_usage(f->store.s, "shop", "flash", "alice", &uses, &money, &cust));
    assert_int_equal(uses, 1);

    /* a retry priced by another version cannot be the same order: refused before evaluating */
    cart_json_free(doc);
    doc = parse(f->prog, text);
    assert_false(checkout_place_order(f->store.s, f->prog, 8, f->ctx, doc, text, &out));
    assert_int_equal(out.store_status, PERK_STORE_CONFLICT);
    assert_string_equal(out.message,
                        "order A1 was already committed, priced by rule-set version 7; a retry priced "
                        "by version 8 cannot match it (price the retry with version 7, as `perk "
                        "commit` does)");
    checkout_outcome_free(&out);

    /* the same order id with other content is refused, and says why */
    cart_json_free(doc);
    free(text);
    text = order_json("A1", "alice", NULL, NULL, NULL);
    doc = parse(f->prog, text);
    assert_false(checkout_place_order(f->store.s, f->prog, 7, f->ctx, doc, text, &out));
    assert_int_equal(out.store_status, PERK_STORE_CONFLICT);
    assert_non_null(strstr(out.message, "order A1 was already committed with different content"));
    checkout_outcome_free(&out);
    cart_json_free(doc);
    free(text);
}

/* Places `text`; fails the test unless it commits. Returns the payable; *replay gets the flag. */
static int64_t place(fixture *f, const char *text, bool *replay, int64_t *points)
{
    cart_doc *doc = parse(f->prog, text);
    checkout_outcome out;
    if (!checkout_place_order(f->store.s, f->prog, 1, f->ctx, doc, text, &out))
        fail_msg("not committed: %s", out.message);
    int64_t payable = out.result->payable;
    if (replay) *replay = out.commit.replay;
    if (points) *points = out.commit.points_earned;
    checkout_outcome_free(&out);
    cart_json_free(doc);
    return payable;
}

/* A retry long after the first commit, when the budget has run out meanwhile, after a
 * cancellation released the order's uses, and with a per-customer coupon: still a replay. */
static void test_replay_when_budget_ran_out(void **state)
{
    fixture *f = *state;
    assert_store(f->store.s, PERK_STORE_OK,
                 perk_store_coupon_add(f->store.s, "ONE-EACH", "WELCOME", 0, 0, 1, NULL, ORDER_TIME - 100));
    char *a1 = order_json("A1", "alice", NULL, NULL, "[\"one-each\"]");
    char *a4 = order_json("A4", "dora", NULL, NULL, NULL);
    bool replay = true;
    int64_t points = 0;
    assert_int_equal(place(f, a1, &replay, &points), 6500); /* 10000 - 2000 - 1500 */
    assert_false(replay);
    assert_int_equal(points, 65);
    for (int i = 2; i <= 3; i++) {
        char id[16], *t;
        snprintf(id, sizeof id, "A%d", i);
        t = order_json(id, "bert", NULL, NULL, NULL);
        assert_int_equal(place(f, t, NULL, NULL), 8000); /* flash: uses 2 and 3 of 3 */
        free(t);
    }
    assert_int_equal(place(f, a4, &replay, NULL), 10000); /* flash used up */
    assert_false(replay);
    /* alice's code is now spent for her (1 per customer), and flash is used up */
    perk_store_coupon_info info;
    assert_store(f->store.s, PERK_STORE_OK,
                 perk_store_coupon_check(f->store.s, "ONEEACH", "alice", ORDER_TIME, &info));
    assert_int_equal(info.status, PERK_STORE_COUPON_NOT_FOR_CUSTOMER);
    long long events = test_sql_int(f->store.s, "SELECT COUNT(*) FROM events");
    /* retries: A1 as first priced (its own flash use and coupon use not counted), A4 without */
    assert_int_equal(place(f, a1, &replay, &points), 6500);
    assert_true(replay);
    assert_int_equal(points, 65);
    assert_int_equal(place(f, a4, &replay, NULL), 10000);
    assert_true(replay);
    assert_int_equal(test_sql_int(f->store.s, "SELECT COUNT(*) FROM events"), events);

    /* A2 cancelled with its budget released; A1 retried again still replays */
    perk_store_refund_result rr;
    assert_store(f->store.s, PERK_STORE_OK,
                 perk_store_refund(f->store.s, "A2", "R2", NULL, 0, 0, ORDER_TIME + 60, NULL, true, &rr));
    assert_true(rr.budget_released);
    assert_int_equal(place(f, a1, &replay, NULL), 6500);
    assert_true(replay);

    /* the lookup itself: uses held by A1, none by an unknown order */
    bool found = true;
    int64_t version = -1;
    assert_store(f->store.s, PERK_STORE_OK,
                 perk_store_order_uses(f->store.s, "nope", &found, &version, NULL, NULL));
    assert_false(found);
    assert_int_equal(version, 0);
    assert_store(f->store.s, PERK_STORE_INVALID,
                 perk_store_order_uses(f->store.s, "", &found, NULL, NULL, NULL));
    assert_non_null(strstr(perk_store_errmsg(f->store.s), "order id"));
    free(a1);
    free(a4);
}

/* An order needs its ids; a cart the program refuses is reported, not committed. */
static void test_incomplete_orders(void **state)
{
    fixture *f = *state;
    const char *text = "{\"order\": {\"time\": \"" ORDER_TIME_TEXT "\"}, \"lines\": []}";
    cart_doc *doc = parse(f->prog, text);
    checkout_outcome out;
    assert_false(checkout_place_order(f->store.s, f->prog, 1, f->ctx, doc, text, &out));
    assert_int_equal(out.store_status, PERK_STORE_INVALID);
    assert_string_equal(out.message, "an order to commit needs $.order.id and $.customer.id");
    checkout_outcome_free(&out);
    cart_json_free(doc);
    /* no time: the store could not date the order */
    text = "{\"order\": {\"id\": \"B0\"}, \"customer\": {\"id\": \"b\"}, \"lines\": []}";
    doc = parse(f->prog, text);
    assert_false(checkout_place_order(f->store.s, f->prog, 1, f->ctx, doc, text, &out));
    assert_int_equal(out.store_status, PERK_STORE_INVALID);
    assert_string_equal(out.message, "an order to commit needs $.order.time");
    checkout_outcome_free(&out);
    cart_json_free(doc);
    /* usage of a promotion the program does not have: the feed's message, with its path */
    text = "{\"order\": {\"id\": \"B1\", \"time\": \"" ORDER_TIME_TEXT "\"}, \"customer\": {\"id\": \"b\"},"
           " \"lines\": [], \"usage\": {\"flsh\": {\"uses\": 1}}}";
    doc = parse(f->prog, text);
    assert_false(checkout_place_order(f->store.s, f->prog, 1, f->ctx, doc, text, &out));
    assert_int_equal(out.eval_status, PERK_INVALID);
    assert_non_null(
        strstr(out.message, "$.usage.flsh: no promotion \"flsh\" in the program (did you mean flash?)"));
    checkout_outcome_free(&out);
    cart_json_free(doc);
    assert_int_equal(test_sql_int(f->store.s, "SELECT COUNT(*) FROM orders"), 0);
}

/* ------------------------------------------------ contention between processes */

typedef struct child_result {
    int done;
    int ok;
    int store_status;
    int attempts;
    int64_t payable;
    int64_t points;
    int flash_reason;
    int coupon_verdict;
    char message[512];
} child_result;

typedef struct race {
    fixture *f;
    int n;
    child_result *results; /* shared memory */
    int ready[2], go[2];
} race;

static int64_t order_clock(void *ctx)
{
    (void)ctx;
    return ORDER_TIME;
}

/* In a child: open the store, load the program and the order, say ready, wait for the go, say
 * going, place the order, record what happened. Never returns. */
static void child_run(race *rc, int i, const char *text)
{
    child_result *res = &rc->results[i];
    perk_store *s = NULL;
    perk_error e;
    if (perk_store_open(rc->f->store.dir.db, &s) != PERK_STORE_OK) {
        snprintf(res->message, sizeof res->message, "open: %s", perk_store_errmsg(s));
        _exit(1);
    }
    perk_store_set_durable(s, false);
    perk_store_set_clock(s, order_clock, NULL); /* the orders happen at ORDER_TIME */
    perk_program *prog = perk_program_load(rc->f->bytes, rc->f->len, &e);
    perk_context *ctx = prog ? perk_context_new(prog, NULL, &e) : NULL;
    char err[256];
    cart_doc *doc = ctx ? cart_json_parse(text, strlen(text), 2, "CNY", NULL, err, sizeof err) : NULL;
    if (!doc) {
        snprintf(res->message, sizeof res->message, "child setup failed");
        _exit(1);
    }
    char c = 'r';
    if (write(rc->ready[1], &c, 1) != 1 || read(rc->go[0], &c, 1) != 1 || write(rc->ready[1], &c, 1) != 1)
        _exit(1);
    checkout_outcome out;
    res->ok = checkout_place_order(s, prog, 1, ctx, doc, text, &out);
    res->store_status = (int)out.store_status;
    res->attempts = out.attempts;
    snprintf(res->message, sizeof res->message, "%s", out.message);
    if (out.result && out.result->status == PERK_OK) {
        res->payable = out.result->payable;
        res->points = out.result->points_earned;
        long flash = perk_program_find_promotion(prog, "flash");
        for (uint32_t k = 0; k < out.result->n_promotions; k++)
            if (out.result->promotions[k].promotion == (uint32_t)flash)
                res->flash_reason = (int)out.result->promotions[k].reason;
        res->coupon_verdict = out.result->n_coupons ? (int)out.result->coupons[0].verdict : -1;
    }
    res->done = 1;
    checkout_outcome_free(&out);
    cart_json_free(doc);
    perk_context_free(ctx);
    perk_program_free(prog);
    perk_store_close(s);
    _exit(0);
}

/* Runs texts[0..n) as n concurrent processes. Every child reads budgets and coupons while the
 * parent holds the write lock, so they all see the same state; then the parent lets them commit
 * one after the other, and whoever comes after the budget ran out must re-evaluate. */
static child_result *race_orders(fixture *f, char **texts, int n)
{
    race rc = { .f = f, .n = n };
    /* the children open the store as production does: the version they price with (1) must be
     * published, its limits are the ones the store checks */
    int64_t published = 0;
    if (perk_store_active_version(f->store.s, ORDER_TIME, &published) == PERK_STORE_NOT_FOUND) {
        assert_store(f->store.s, PERK_STORE_OK,
                     perk_store_publish(f->store.s, f->bytes, f->len, NULL, "test", "race", 0,
                                        ORDER_TIME - 3600, &published));
        assert_int_equal(published, 1);
    }
    rc.results = mmap(NULL, sizeof(child_result) * (size_t)n, PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    assert_true(rc.results != MAP_FAILED);
    memset(rc.results, 0, sizeof(child_result) * (size_t)n);
    assert_int_equal(pipe(rc.ready), 0);
    assert_int_equal(pipe(rc.go), 0);
    pid_t pids[16];
    assert_true(n <= 16);
    fflush(stdout);
    fflush(stderr);
    for (int i = 0; i < n; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) child_run(&rc, i, texts[i]);
    }
    char c;
    for (int i = 0; i < n; i++) assert_int_equal(read(rc.ready[0], &c, 1), 1);
    /* hold the write lock while every child evaluates: SQLite's, or on PostgreSQL (which has
     * none) a lock on orders that lets the children read but not commit (every commit inserts
     * an order) */
    perk_store *locker = test_open(f->store.dir.db);
    if (test_pg_uri()) {
        assert_store(locker, PERK_STORE_OK, pstore_begin(locker, true, "holding the children back"));
        test_sql_exec(locker, "LOCK TABLE orders IN EXCLUSIVE MODE");
    } else {
        assert_int_equal(sqlite3_exec(test_sqlite_handle(locker), "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    }
    for (int i = 0; i < n; i++) assert_int_equal(write(rc.go[1], "g", 1), 1);
    for (int i = 0; i < n; i++) assert_int_equal(read(rc.ready[0], &c, 1), 1);
    struct timespec ts = { 0, 400 * 1000000L }; /* evaluation takes well under a millisecond */
    nanosleep(&ts, NULL);
    if (test_pg_uri())
        pstore_rollback(locker);
    else
        assert_int_equal(sqlite3_exec(test_sqlite_handle(locker), "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    perk_store_close(locker);
    for (int i = 0; i < n; i++) {
        int status = 0;
        assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            fail_msg("child %d failed: %s", i, rc.results[i].message);
    }
    close(rc.ready[0]);
    close(rc.ready[1]);
    close(rc.go[0]);
    close(rc.go[1]);
    child_result *copy = malloc(sizeof(child_result) * (size_t)n);
    assert_non_null(copy);
    memcpy(copy, rc.results, sizeof(child_result) * (size_t)n);
    munmap(rc.results, sizeof(child_result) * (size_t)n);
    return copy;
}

static void test_limited_promotion_contended(void **state)
{
    fixture *f = *state;
    enum { N = FLASH_LIMIT + 3 };
    char *texts[N];
    for (int i = 0; i < N; i++) {
        char id[16], customer[16];
        snprintf(id, sizeof id, "F%d", i);
        snprintf(customer, sizeof customer, "c%d", i);
        texts[i] = order_json(id, customer, NULL, NULL, NULL);
    }
    child_result *res = race_orders(f, texts, N);
    int with = 0, without = 0, retried = 0;
    for (int i = 0; i < N; i++) {
        if (!res[i].ok || !res[i].done) fail_msg("order F%d not committed: %s", i, res[i].message);
        retried += res[i].attempts > 1;
        assert_true(res[i].attempts <= 2);
        if (res[i].flash_reason == PERK_REASON_APPLIED) {
            /* 10000 - 2000 = 8000; 80 points */
            assert_int_equal(res[i].payable, 8000);
            assert_int_equal(res[i].points, 80);
            with++;
        } else {
            /* re-evaluated without flash: the full price, 100 points */
            assert_true(res[i].flash_reason == PERK_REASON_BUDGET_USES ||
                        res[i].flash_reason == PERK_REASON_EXCLUDED);
            assert_int_equal(res[i].payable, 10000);
            assert_int_equal(res[i].points, 100);
            without++;
        }
    }
    assert_int_equal(with, FLASH_LIMIT);
    assert_int_equal(without, N - FLASH_LIMIT);
    /* everyone evaluated before anyone committed, so the late ones had to evaluate again */
    assert_true(retried >= 1);
    free(res);
    int64_t uses = 0, money = 0, cust = 0;
    assert_store(f->store.s, PERK_STORE_OK,
                 perk_store_budget_usage(f->store.s, "shop", "flash", NULL, &uses, &money, &cust));
    assert_int_equal(uses, FLASH_LIMIT);
    assert_int_equal(money, FLASH_LIMIT * 2000);
    assert_int_equal(test_sql_int(f->store.s, "SELECT COUNT(*) FROM orders"), N);
    assert_int_equal(test_sql_int(f->store.s, "SELECT SUM(payable) FROM orders"),
                     FLASH_LIMIT * 8000 + (N - FLASH_LIMIT) * 10000);
    assert_int_equal(test_sql_int(f->store.s, "SELECT COUNT(*) FROM events WHERE type = 'order.committed'"),
                     N);
    for (int i = 0; i < N; i++) free(texts[i]);
}

static void test_single_use_coupon_contended(void **state)
{
    fixture *f = *state;
    assert_store(f->store.s, PERK_STORE_OK,
                 perk_store_coupon_add(f->store.s, "SOLO", "WELCOME", 0, 1, 0, NULL, ORDER_TIME - 100));
    char *texts[2] = { order_json("K1", "carol", NULL, NULL, "[\"SOLO\"]"),
                       order_json("K2", "dave", NULL, NULL, "[\"solo\"]") };
    child_result *res = race_orders(f, texts, 2);
    int got = -1;
    for (int i = 0; i < 2; i++) {
        if (!res[i].ok) fail_msg("order K%d not committed: %s", i + 1, res[i].message);
        assert_int_equal(res[i].flash_reason, PERK_REASON_APPLIED); /* 2 of 3 flash uses */
        if (res[i].coupon_verdict == PERK_COUPON_ACCEPTED) {
            assert_int_equal(got, -1);
            got = i;
            assert_int_equal(res[i].payable, 6500); /* 10000 - 2000 - 1500 */
        } else {
            assert_int_equal(res[i].coupon_verdict, PERK_COUPON_REJECTED_USED_UP);
            assert_int_equal(res[i].payable, 8000); /* 10000 - 2000: no coupon discount */
        }
    }
    assert_true(got >= 0);
    assert_true(res[0].attempts + res[1].attempts >= 3); /* the loser evaluated twice */
    free(res);
    perk_store_coupon_info info;
    assert_store(f->store.s, PERK_STORE_OK,
                 perk_store_coupon_check(f->store.s, "SOLO", "erin", ORDER_TIME, &info));
    assert_int_equal(info.status, PERK_STORE_COUPON_USED_UP);
    assert_int_equal(info.uses, 1);
    assert_int_equal(test_sql_int(f->store.s, "SELECT COUNT(*) FROM coupon_uses WHERE code = 'SOLO'"), 1);
    assert_int_equal(test_sql_int(f->store.s, "SELECT COUNT(*) FROM orders"), 2);
    free(texts[0]);
    free(texts[1]);
}

/* ------------------------------------------------ points */

static void test_redeem_above_balance(void **state)
{
    fixture *f = *state;
    /* erin earns 80 points: 10000 - 2000 (flash) = 8000 -> 80 */
    char *text = order_json("E1", "erin", NULL, NULL, NULL);
    cart_doc *doc = parse(f->prog, text);
    checkout_outcome out;
    assert_true(checkout_place_order(f->store.s, f->prog, 1, f->ctx, doc, text, &out));
    assert_int_equal(out.commit.balance, 80);
    checkout_outcome_free(&out);
    cart_json_free(doc);
    free(text);
    long long events = test_sql_int(f->store.s, "SELECT COUNT(*) FROM events");

    /* the cart claims 5000 points and redeems 1000 (¥10): the store has 80, and its balance is
     * the one priced (store_facts.h): 10000 - 2000 (flash) - 80 = 7920 payable. A dry run: nothing
     * is consumed. */
    text = order_json("E2", "erin", ", \"points\": 5000", ", \"points_to_redeem\": 1000", NULL);
    doc = parse(f->prog, text);
    checkout_options dry = { .dry_run = true };
    assert_true(checkout_place_order_opts(f->store.s, f->prog, 1, f->ctx, doc, text, &dry, &out));
    assert_int_equal(out.result->points_redeemed, 80);
    assert_int_equal(out.result->payable, 7920);
    assert_int_equal(out.facts.n_overrides, 1);
    assert_int_equal(out.facts.overrides[0].fact, CHECKOUT_FACT_POINTS_BALANCE);
    assert_int_equal(out.facts.overrides[0].claimed, 5000);
    assert_int_equal(out.facts.overrides[0].store, 80);
    assert_int_equal(doc->customer.points_balance, 5000); /* the caller's document keeps its claim */
    checkout_outcome_free(&out);
    cart_json_free(doc);
    free(text);
    assert_int_equal(test_sql_int(f->store.s, "SELECT COUNT(*) FROM events"), events);
    assert_int_equal(test_sql_int(f->store.s, "SELECT COUNT(*) FROM orders WHERE order_id = 'E2'"), 0);
    int64_t uses = 0, money = 0, cust = 0;
    assert_store(f->store.s, PERK_STORE_OK,
                 perk_store_budget_usage(f->store.s, "shop", "flash", NULL, &uses, &money, &cust));
    assert_int_equal(uses, 1); /* the dry run used no budget */

    /* redeeming 50 of the 80 works: 10000 - 2000 - 50 = 7950 payable; points on 8000 - 50 = 7950
     * -> 79; balance 80 - 50 + 79 = 109 */
    text = order_json("E3", "erin", ", \"points\": 80", ", \"points_to_redeem\": 50", NULL);
    doc = parse(f->prog, text);
    bool ok = checkout_place_order(f->store.s, f->prog, 1, f->ctx, doc, text, &out);
    if (!ok) fail_msg("E3: %s", out.message);
    assert_int_equal(out.result->payable, 7950);
    assert_int_equal(out.commit.points_redeemed, 50);
    assert_int_equal(out.commit.points_earned, 79);
    assert_int_equal(out.commit.balance, 109);
    checkout_outcome_free(&out);
    cart_json_free(doc);
    free(text);
}

/* ------------------------------------------------ coupon verdicts */

static void test_store_coupon_verdicts(void **state)
{
    fixture *f = *state;
    /* OLD1 expired a second before the order; VIP1 belongs to another customer */
    assert_store(
        f->store.s, PERK_STORE_OK,
        perk_store_coupon_add(f->store.s, "OLD-1", "WELCOME", ORDER_TIME - 1, 0, 0, NULL, ORDER_TIME - 100));
    assert_store(f->store.s, PERK_STORE_OK,
                 perk_store_coupon_add(f->store.s, "VIP-1", "WELCOME", 0, 0, 0, "zed", ORDER_TIME - 100));
    char *text = order_json("V1", "frank", NULL, NULL, "[\"NOPE-123\", \"old-1\", \"VIP 1\", \"!!\"]");
    cart_doc *doc = parse(f->prog, text);
    checkout_outcome out;
    bool ok = checkout_place_order(f->store.s, f->prog, 1, f->ctx, doc, text, &out);
    if (!ok) fail_msg("V1: %s", out.message);
    const perk_result *r = out.result;
    assert_int_equal(r->n_coupons, 4);
    assert_string_equal(r->coupons[0].code, "NOPE-123");
    assert_int_equal(r->coupons[0].verdict, PERK_COUPON_REJECTED_UNKNOWN);
    assert_int_equal(r->coupons[1].verdict, PERK_COUPON_REJECTED_EXPIRED);
    assert_int_equal(r->coupons[2].verdict, PERK_COUPON_REJECTED_NOT_FOR_CUSTOMER);
    assert_int_equal(r->coupons[3].verdict, PERK_COUPON_REJECTED_UNKNOWN); /* not even a code */
    assert_int_equal(doc->coupons[0].status, PERK_COUPON_UNKNOWN);
    assert_int_equal(doc->coupons[1].status, PERK_COUPON_EXPIRED);
    assert_int_equal(doc->coupons[2].status, PERK_COUPON_NOT_FOR_CUSTOMER);
    assert_int_equal(doc->coupons[3].status, PERK_COUPON_UNKNOWN);
    /* campaigns looked up in the store do not outlive the call inside the document */
    for (size_t i = 0; i < doc->n_coupons; i++) assert_null(doc->coupons[i].campaign);
    assert_int_equal(promo_result(r, f->prog, "welcome")->reason, PERK_REASON_COUPON_REJECTED);
    assert_int_equal(r->payable, 8000); /* 10000 - 2000 (flash only) */
    assert_int_equal(out.commit.points_earned, 80);
    checkout_outcome_free(&out);
    assert_int_equal(test_sql_int(f->store.s, "SELECT COUNT(*) FROM coupon_uses"), 0);
    cart_json_free(doc);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_order_records_everything, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replay_when_budget_ran_out, setup, teardown),
        cmocka_unit_test_setup_teardown(test_incomplete_orders, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limited_promotion_contended, setup, teardown),
        cmocka_unit_test_setup_teardown(test_single_use_coupon_contended, setup, teardown),
        cmocka_unit_test_setup_teardown(test_redeem_above_balance, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_coupon_verdicts, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
