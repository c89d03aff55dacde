/* test_store_adversarial.c - the adversarial store test: 16 processes commit orders against one
 * store at once, contending for a money-and-uses budget, a per-customer limit and limited
 * coupons, with lies mixed in: programs forged to raise the limits (claiming the published
 * version, or none), orders dated a month ahead, carts claiming points the customer does not
 * have, direct C API commits with forged limits, and refunds of unknown, repeated or
 * over-paid lines. Afterwards no invariant may be broken: budgets and coupon uses within their
 * limits, every lie refused, the ledger consistent (perk_store_check), and every committed
 * order's ledger rows present once. PERK_TEST_QUICK=1 (valgrind) runs fewer orders. */
#include "store_test_util.h"

#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

#include "checkout/checkout.h"
#include "compiler/compiler.h"
#include "json/cart_json.h"
#include "perk.h"

enum { PROCS = 16, CUSTOMERS = 6, FLASH_USES = 20, FLASH_MONEY = 50000, WELCOME_USES = 5 };

/* flash: ¥30 off, at most 20 uses and ¥500 in all: the money runs out first (16 x 30 = 480).
 * member: ¥5 off, once per customer. welcome: ¥15 off with a WELCOME code (5 uses). */
#define RULES_FMT                                                                                      \
    "ruleset \"shop\" { currency CNY timezone \"Asia/Shanghai\" }\n"                                   \
    "promotion flash \"限量\" {\n  priority 10\n  limit %d uses\n  limit ¥%d total, partial\n"               \
    "  then ¥30 off order\n}\n"                                                                       \
    "promotion member \"会员\" {\n  priority 20\n  limit %d per customer\n  then ¥5 off order\n}\n" \
    "promotion welcome \"新客\" {\n  priority 30\n  requires coupon from \"WELCOME\"\n"              \
    "  then ¥15 off order\n}\n"                                                                       \
    "earn base \"积分\" {\n  then 1 point per ¥1 on items\n}\n"                                     \
    "redeem {\n  rate 100 points = ¥1\n  pays for goods\n}\n"

#define T0 1772589600 /* 2026-03-04T02:00:00Z */

typedef struct child_stats {
    int committed, refused_lies, lies_committed, other_failures;
    char problem[256];
} child_stats;

static int64_t fixed_clock(void *ctx)
{
    (void)ctx;
    return T0;
}

static uint8_t *compile(int uses, int money, int per_customer, size_t *len)
{
    char text[2048];
    snprintf(text, sizeof text, RULES_FMT, uses, money, per_customer);
    compiler c;
    compiler_init(&c);
    uint8_t *bytes = NULL;
    bool ok = compiler_compile_text(&c, "shop.perk", text, strlen(text), &bytes, len);
    if (!ok) diag_print_text(&c.diags, stderr, false);
    compiler_free(&c);
    assert_true(ok);
    return bytes;
}

static void note_lie(child_stats *st, bool committed, const char *what, const char *message)
{
    if (committed) {
        st->lies_committed++;
        snprintf(st->problem, sizeof st->problem, "a lie was committed: %s", what);
    } else {
        st->refused_lies++;
    }
    (void)message;
}

static bool place(perk_store *s, perk_program *prog, perk_context *ctx, int64_t version, const char *id,
                  const char *customer, int64_t time, const char *extra_customer, const char *extra_order,
                  const char *coupon, checkout_outcome *out)
{
    char text[1024], when[32];
    time_t tt = (time_t)time;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    snprintf(text, sizeof text,
             "{\"order\": {\"id\": \"%s\", \"time\": \"%s\"%s}, \"customer\": {\"id\": \"%s\"%s},"
             " \"lines\": [{\"id\": \"L1\", \"sku\": \"TEA\", \"price\": \"80.00\", \"quantity\": 1},"
             "           {\"id\": \"L2\", \"sku\": \"CUP\", \"price\": \"20.00\", \"quantity\": 1}]%s%s%s}",
             id, when, extra_order ? extra_order : "", customer, extra_customer ? extra_customer : "",
             coupon ? ", \"coupons\": [\"" : "", coupon ? coupon : "", coupon ? "\"]" : "");
    char err[256];
    cart_doc *doc = cart_json_parse(text, strlen(text), 2, "CNY", NULL, err, sizeof err);
    if (!doc) {
        memset(out, 0, sizeof *out);
        snprintf(out->message, sizeof out->message, "cart: %s", err);
        return false;
    }
    bool ok = checkout_place_order(s, prog, version, ctx, doc, text, out);
    cart_json_free(doc);
    return ok;
}

/* Counts an honest request that failed for another reason than the contest, and keeps what the
 * first one said, for the parent to print. */
static void other_failure(child_stats *st, const char *what, int status, const char *message)
{
    if (st->other_failures++ == 0 && !st->lies_committed)
        snprintf(st->problem, sizeof st->problem, "%s: status %d: %s", what, status, message ? message : "");
}

static void child(const char *db, int w, int orders, const uint8_t *real, size_t real_len,
                  const uint8_t *forged, size_t forged_len, child_stats *st)
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
    perk_program *rp = perk_program_load(real, real_len, &e), *fp = perk_program_load(forged, forged_len, &e);
    perk_context *rc = rp ? perk_context_new(rp, NULL, &e) : NULL,
                 *fc = fp ? perk_context_new(fp, NULL, &e) : NULL;
    if (!rc || !fc) _exit(1);
    for (int k = 0; k < orders; k++) {
        char id[32], customer[16];
        snprintf(id, sizeof id, "W%02d-%03d", w, k);
        snprintf(customer, sizeof customer, "cust%d", (w + k) % CUSTOMERS);
        checkout_outcome out;
        bool ok;
        switch (k % 6) {
        case 0:
        case 1: /* honest, sometimes with a welcome code */
            ok = place(s, rp, rc, 1, id, customer, T0, NULL, NULL, k % 2 ? "WELCOME-1" : NULL, &out);
            if (ok)
                st->committed++;
            else if (out.store_status != PERK_STORE_BUDGET_EXCEEDED)
                other_failure(st, "an honest order", out.store_status, out.message);
            checkout_outcome_free(&out);
            break;
        case 2: /* a forged program with raised limits, claiming the published version, or none */
            ok = place(s, fp, fc, k % 12 == 2 ? 1 : 0, id, customer, T0, NULL, NULL, NULL, &out);
            note_lie(st, ok, "forged program", out.message);
            checkout_outcome_free(&out);
            break;
        case 3: /* dated a month ahead */
            ok = place(s, rp, rc, 1, id, customer, T0 + 30 * 86400, NULL, NULL, NULL, &out);
            note_lie(st, ok, "order dated a month ahead", out.message);
            checkout_outcome_free(&out);
            break;
        case 4: /* the cart claims a huge balance and redeems 900000 points: the store's balance
                 * replaces the claim, so the order redeems at most what the store held */
            ok = place(s, rp, rc, 1, id, customer, T0, ", \"points\": 99999999",
                       ", \"points_to_redeem\": 900000", NULL, &out);
            if (ok) {
                st->committed++;
                note_lie(st,
                         out.commit.points_redeemed > out.facts.store.points_balance ||
                             out.facts.n_overrides == 0,
                         "points the customer does not have", out.message);
            } else if (out.store_status != PERK_STORE_BUDGET_EXCEEDED &&
                       out.store_status != PERK_STORE_INSUFFICIENT_POINTS) { /* another process spent them */
                other_failure(st, "an order redeeming points", out.store_status, out.message);
            }
            checkout_outcome_free(&out);
            break;
        default: { /* the C API with forged limits, then refunds of this child's own orders */
            perk_store_promo_use promo = { "flash", 3000, 1000, 100000000, -1 };
            perk_store_order o = test_order(id, customer, T0, 7000);
            o.ruleset_version = 1;
            o.promos = &promo;
            o.n_promos = 1;
            note_lie(st, perk_store_commit(s, &o, NULL, NULL) == PERK_STORE_OK, "forged limits (C API)", "");
            char target[32];
            snprintf(target, sizeof target, "W%02d-%03d", w, k - 5); /* an honest order of this child */
            bool found = false;
            if (perk_store_order_uses(s, target, &found, NULL, NULL, NULL) != PERK_STORE_OK || !found) break;
            char rid[48];
            snprintf(rid, sizeof rid, "RF-%s", target);
            perk_store_refund_line unknown = { "L9", 100 }, twice[] = { { "L1", 100 }, { "L1", 100 } },
                                   over = { "L2", 1000000 };
            note_lie(st,
                     perk_store_refund(s, target, rid, &unknown, 1, 0, T0, NULL, true, NULL) == PERK_STORE_OK,
                     "refund of an unknown line", "");
            note_lie(st,
                     perk_store_refund(s, target, rid, twice, 2, 0, T0, NULL, true, NULL) == PERK_STORE_OK,
                     "refund of a line twice", "");
            note_lie(st,
                     perk_store_refund(s, target, rid, &over, 1, 0, T0, NULL, true, NULL) == PERK_STORE_OK,
                     "refund above what a line paid", "");
            perk_store_refund_line fair = { "L1", 1000 };
            if (perk_store_refund(s, target, rid, &fair, 1, 0, T0, NULL, true, NULL) != PERK_STORE_OK)
                other_failure(st, "a fair refund", 0, perk_store_errmsg(s));
            break;
        }
        }
    }
    perk_context_free(rc);
    perk_context_free(fc);
    perk_program_free(rp);
    perk_program_free(fp);
    perk_store_close(s);
    /* the parent's buffers, inherited by fork: freed so that valgrind's leak check of this
     * process (run at _exit too) finds nothing */
    free((void *)real);
    free((void *)forged);
    _exit(0);
}

static void test_adversarial_store(void **state)
{
    (void)state;
    const char *quick = getenv("PERK_TEST_QUICK");
    int orders = quick && *quick && strcmp(quick, "0") != 0 ? 6 : 48;
    test_dir d;
    test_dir_make(&d);
    size_t real_len = 0, forged_len = 0;
    uint8_t *real = compile(FLASH_USES, FLASH_MONEY / 100, 1, &real_len);
    uint8_t *forged = compile(FLASH_USES * 10, FLASH_MONEY, 50, &forged_len);
    perk_store *s = test_open_strict(d.db);
    perk_store_set_clock(s, fixed_clock, NULL);
    int64_t version = 0;
    assert_store(s, PERK_STORE_OK,
                 perk_store_publish(s, real, real_len, NULL, "ops", "real", 0, T0 - 3600, &version));
    assert_int_equal(version, 1);
    assert_store(s, PERK_STORE_OK,
                 perk_store_coupon_add(s, "WELCOME-1", "WELCOME", 0, WELCOME_USES, 0, NULL, T0 - 60));

    child_stats *stats =
        mmap(NULL, sizeof(child_stats) * PROCS, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    assert_true(stats != MAP_FAILED);
    memset(stats, 0, sizeof(child_stats) * PROCS);
    pid_t pids[PROCS];
    /* no store handle crosses the fork (SQLite forbids it): the parent reopens after */
    perk_store_close(s);
    fflush(stdout);
    fflush(stderr);
    for (int i = 0; i < PROCS; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) child(d.db, i, orders, real, real_len, forged, forged_len, &stats[i]);
    }
    int committed = 0, refused = 0, other = 0;
    for (int i = 0; i < PROCS; i++) {
        int status = 0;
        assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            fail_msg("process %d failed: %s", i, stats[i].problem);
        if (stats[i].lies_committed) fail_msg("process %d: %s", i, stats[i].problem);
        committed += stats[i].committed;
        refused += stats[i].refused_lies;
        other += stats[i].other_failures;
        if (stats[i].other_failures) print_message("process %d: %s\n", i, stats[i].problem);
    }
    munmap(stats, sizeof(child_stats) * PROCS);
    s = test_open_strict(d.db);
    perk_store_set_clock(s, fixed_clock, NULL);
    free(real);
    free(forged);

    /* every lie was refused, and honest orders went through */
    assert_true(refused > 0);
    assert_true(committed > 0);
    assert_int_equal(other, 0);
    /* budgets never exceeded: the counters and the use rows agree and stay within the limits */
    long long uses =
        test_sql_int(s, "SELECT COUNT(*) FROM budget_uses WHERE promo_id = 'flash' AND released_at IS NULL");
    long long money =
        test_sql_int(s, "SELECT COALESCE(SUM(discount), 0) FROM budget_uses WHERE promo_id = 'flash' "
                        "AND released_at IS NULL");
    assert_true(uses <= FLASH_USES);
    assert_true(money <= FLASH_MONEY);
    if (committed >= 17) /* 16 x ¥30, then the last ¥20 of the budget: exactly ¥500 */
        assert_int_equal(money, FLASH_MONEY);
    assert_int_equal(
        test_sql_int(s, "SELECT COUNT(*) FROM (SELECT customer_id FROM budget_uses WHERE promo_id = "
                        "'member' AND released_at IS NULL GROUP BY customer_id HAVING COUNT(*) > 1) x"),
        0);
    /* coupon uses never exceeded */
    assert_true(
        test_sql_int(s, "SELECT COUNT(*) FROM coupon_uses WHERE code = 'WELCOME1' AND released_at IS NULL") <=
        WELCOME_USES);
    /* only honest orders are in the store, each with its ledger rows once */
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM orders"), committed);
    assert_int_equal(test_sql_int(s,
                                  "SELECT COUNT(*) FROM orders o WHERE (SELECT COUNT(*) FROM ledger l WHERE "
                                  "l.order_id = o.order_id AND l.kind = 'earn') <> 1"),
                     0);
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM orders WHERE ruleset_version <> 1"), 0);
    /* refunds within what each line paid */
    assert_int_equal(
        test_sql_int(s, "SELECT COUNT(*) FROM refund_lines WHERE line_id <> 'L1' OR amount <> 1000"), 0);
    int64_t problems = -1;
    assert_store(s, PERK_STORE_OK, perk_store_check(s, NULL, NULL, &problems));
    assert_int_equal(problems, 0);
    if (!test_pg_uri()) test_assert_integrity(test_sqlite_handle(s)); /* SQLite's PRAGMA integrity_check */
    perk_store_close(s);
    test_dir_remove(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_adversarial_store),
    };
    return cmocka_run_group_tests_name("store_adversarial", tests, NULL, NULL);
}
