/* test_store_partial.c - a partial money budget (`limit ¥1000 total, partial`, docs/semantics.md
 * 5.5) under contention: 8 processes place orders at once through the checkout, each order
 * wanting ¥30 of a ¥1,000 budget. The budget must end exactly at ¥1,000 and never above: 33
 * orders get ¥30, exactly one gets the ¥10 left, every later one nothing (BUDGET_MONEY), and a
 * checkout that lost a race for the last of it is evaluated again on what is left rather than
 * losing the promotion. An all-or-nothing budget beside it (¥20 off, ¥990 total: 49 x 20 = 980,
 * then ¥10 left that no order may take) ends at ¥980. PERK_TEST_QUICK=1 (valgrind) places fewer
 * orders per process (still more than both budgets hold). */
#include "store_test_util.h"

#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

#include "checkout/checkout.h"
#include "compiler/compiler.h"
#include "json/cart_json.h"
#include "perk.h"

#define T0 1772589600 /* 2026-03-04T02:00:00Z */

enum { PROCS = 8, PART_MONEY = 100000, WHOLE_MONEY = 99000 };

static const char RULES[] = "ruleset \"shop\" { currency CNY timezone \"Asia/Shanghai\" }\n"
                            "promotion part \"预算立减\" {\n  limit ¥1000 total, partial\n  then ¥30 off order\n}\n"
                            "promotion whole \"整额立减\" {\n  limit ¥990 total\n  then ¥20 off order\n}\n";

typedef struct child_stats {
    int committed, partial_grants, failures;
    char problem[256];
} child_stats;

static int64_t fixed_clock(void *ctx)
{
    (void)ctx;
    return T0;
}

static void child(const char *db, int w, int orders, const uint8_t *bytes, size_t len, child_stats *st)
{
    perk_store *s = NULL;
    if (perk_store_open(db, &s) != PERK_STORE_OK) {
        snprintf(st->problem, sizeof st->problem, "open: %s", perk_store_errmsg(s));
        _exit(1);
    }
    perk_store_set_durable(s, false);
    perk_store_set_busy_timeout(s, 30000);
    perk_store_set_clock(s, fixed_clock, NULL);
    perk_error e;
    perk_program *prog = perk_program_load(bytes, len, &e);
    perk_context *ctx = prog ? perk_context_new(prog, NULL, &e) : NULL;
    if (!ctx) _exit(1);
    long part = perk_program_find_promotion(prog, "part");
    for (int k = 0; k < orders; k++) {
        char text[512];
        snprintf(text, sizeof text,
                 "{\"order\": {\"id\": \"P%d-%03d\", \"time\": \"2026-03-04T02:00:00Z\"},"
                 " \"customer\": {\"id\": \"c%d\"},"
                 " \"lines\": [{\"id\": \"L1\", \"sku\": \"TEA\", \"price\": \"80.00\", \"quantity\": 1},"
                 "           {\"id\": \"L2\", \"sku\": \"CUP\", \"price\": \"20.00\", \"quantity\": 1}]}",
                 w, k, w);
        char err[256];
        cart_doc *doc = cart_json_parse(text, strlen(text), 2, "CNY", NULL, err, sizeof err);
        if (!doc) {
            snprintf(st->problem, sizeof st->problem, "cart: %.200s", err);
            _exit(1);
        }
        checkout_outcome out;
        if (checkout_place_order(s, prog, 1, ctx, doc, text, &out)) {
            st->committed++;
            const perk_result *r = out.result;
            const perk_promotion_extra *x = &r->promotion_extra[part];
            if (x->budget_wanted >= 0) {
                st->partial_grants++;
                /* wanted ¥30, granted what was left: the ¥10 (33 x ¥30 = ¥990 before it) */
                if (x->budget_wanted != 3000 || x->budget_granted != 1000 ||
                    r->promotions[part].discount != 1000)
                    snprintf(st->problem, sizeof st->problem, "partial grant %lld of %lld, discount %lld",
                             (long long)x->budget_granted, (long long)x->budget_wanted,
                             (long long)r->promotions[part].discount);
            }
        } else {
            st->failures++;
            snprintf(st->problem, sizeof st->problem, "order P%d-%03d: %.200s", w, k, out.message);
        }
        checkout_outcome_free(&out);
        cart_json_free(doc);
    }
    perk_context_free(ctx);
    perk_program_free(prog);
    perk_store_close(s);
    free((void *)bytes); /* the parent's buffer, inherited by fork */
    _exit(0);
}

static void test_partial_budget_contended(void **state)
{
    (void)state;
    const char *quick = getenv("PERK_TEST_QUICK");
    int orders = quick && *quick && strcmp(quick, "0") != 0 ? 8 : 16; /* 64 or 128 orders: > 50 */
    test_dir d;
    test_dir_make(&d);
    compiler c;
    compiler_init(&c);
    uint8_t *bytes = NULL;
    size_t len = 0;
    bool compiled = compiler_compile_text(&c, "shop.perk", RULES, strlen(RULES), &bytes, &len);
    if (!compiled) diag_print_text(&c.diags, stderr, false);
    compiler_free(&c);
    assert_true(compiled);
    perk_store *s = test_open_strict(d.db);
    perk_store_set_clock(s, fixed_clock, NULL);
    int64_t version = 0;
    assert_store(s, PERK_STORE_OK, perk_store_publish(s, bytes, len, NULL, "ops", "partial", 0, T0 - 3600, &version));
    assert_int_equal(version, 1);
    perk_store_close(s); /* no store handle crosses the fork */

    child_stats *stats =
        mmap(NULL, sizeof(child_stats) * PROCS, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    assert_true(stats != MAP_FAILED);
    memset(stats, 0, sizeof(child_stats) * PROCS);
    pid_t pids[PROCS];
    fflush(stdout);
    fflush(stderr);
    for (int i = 0; i < PROCS; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) child(d.db, i, orders, bytes, len, &stats[i]);
    }
    int committed = 0, partial = 0;
    for (int i = 0; i < PROCS; i++) {
        int status = 0;
        assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || stats[i].problem[0])
            fail_msg("process %d: %s", i, stats[i].problem);
        committed += stats[i].committed;
        partial += stats[i].partial_grants;
    }
    munmap(stats, sizeof(child_stats) * PROCS);
    free(bytes);
    assert_int_equal(committed, PROCS * orders); /* every order went through, with or without */
    assert_int_equal(partial, 1);                /* exactly one got the ¥10 left */

    s = test_open_strict(d.db);
    /* the partial budget: exactly its limit, 33 x ¥30 and one ¥10 */
    assert_int_equal(test_sql_int(s, "SELECT COALESCE(SUM(discount), 0) FROM budget_uses WHERE promo_id = "
                                     "'part' AND released_at IS NULL"),
                     PART_MONEY);
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM budget_uses WHERE promo_id = 'part' AND "
                                     "released_at IS NULL AND discount = 3000"),
                     33);
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM budget_uses WHERE promo_id = 'part' AND "
                                     "released_at IS NULL AND discount = 1000"),
                     1);
    assert_int_equal(test_sql_int(s, "SELECT money FROM budget_totals WHERE promo_id = 'part'"), PART_MONEY);
    /* the all-or-nothing budget: 49 x ¥20 = ¥980; the ¥10 left is never granted */
    assert_int_equal(test_sql_int(s, "SELECT COALESCE(SUM(discount), 0) FROM budget_uses WHERE promo_id = "
                                     "'whole' AND released_at IS NULL"),
                     98000);
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM budget_uses WHERE promo_id = 'whole' AND "
                                     "released_at IS NULL AND discount <> 2000"),
                     0);
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM orders"), PROCS * orders);
    int64_t problems = -1;
    assert_store(s, PERK_STORE_OK, perk_store_check(s, NULL, NULL, &problems));
    assert_int_equal(problems, 0);
    perk_store_close(s);
    test_dir_remove(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_partial_budget_contended),
    };
    return cmocka_run_group_tests_name("store_partial", tests, NULL, NULL);
}
