/* test_store_trust.c - the store trusts nothing a caller claims that decides money or limits:
 * orders are checked against the published version's budgets, promotions, earn rules and points
 * policy, not the caller's program; the store's clock, not the order's time, decides coupon
 * expiry, pending periods and budget periods. Every store here is opened as production code
 * opens it (test_open_strict), and checkouts run a program compiled from a forged copy of the
 * rules next to the real one. */
#include "store_test_util.h"

#include "checkout/checkout.h"
#include "compiler/compiler.h"
#include "json/cart_json.h"
#include "perk.h"

/* ¥100.00 carts. flash: ¥30 off, at most 3 uses and ¥100 of discount in all (so the budget runs
 * out after 3 orders: 3 x 30 = 90, a 4th would make 120). The forged copy raises both limits. */
static const char RULES[] = "ruleset \"shop\" { currency CNY timezone \"Asia/Shanghai\" }\n"
                            "promotion flash \"限量立减\" {\n"
                            "  limit 3 uses\n"
                            "  limit ¥100 total\n"
                            "  then ¥30 off order\n"
                            "}\n"
                            "earn base \"消费积分\" {\n"
                            "  then 1 point per ¥1 on items\n"
                            "}\n"
                            "points { pending 7 days }\n";
static const char FORGED[] = "ruleset \"shop\" { currency CNY timezone \"Asia/Shanghai\" }\n"
                             "promotion flash \"限量立减\" {\n"
                             "  limit 4 uses\n"
                             "  limit ¥130 total\n"
                             "  then ¥30 off order\n"
                             "}\n"
                             "earn base \"消费积分\" {\n"
                             "  then 1 point per ¥1 on items\n"
                             "}\n"
                             "points { pending 7 days }\n";

/* 2026-03-04T10:00:00+08:00 */
#define T0 1772589600
#define T0_TEXT "2026-03-04T10:00:00+08:00"

typedef struct fixture {
    test_dir dir;
    perk_store *s;
    perk_program *real, *forged;
    perk_context *real_ctx, *forged_ctx;
    int64_t version;
    int64_t clock; /* what the store's clock says */
} fixture;

static int64_t fixture_clock(void *ctx) { return *(const int64_t *)ctx; }

static perk_program *compile(const char *text, uint8_t **bytes, size_t *len)
{
    compiler c;
    compiler_init(&c);
    bool ok = compiler_compile_text(&c, "shop.perk", text, strlen(text), bytes, len);
    if (!ok) diag_print_text(&c.diags, stderr, false);
    compiler_free(&c);
    assert_true(ok);
    perk_error e;
    perk_program *p = perk_program_load(*bytes, *len, &e);
    assert_non_null(p);
    return p;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    test_dir_make(&f->dir);
    f->s = test_open_strict(f->dir.db);
    f->clock = T0;
    perk_store_set_clock(f->s, fixture_clock, &f->clock);
    uint8_t *bytes = NULL, *forged_bytes = NULL;
    size_t len = 0, forged_len = 0;
    f->real = compile(RULES, &bytes, &len);
    f->forged = compile(FORGED, &forged_bytes, &forged_len);
    assert_store(f->s, PERK_STORE_OK,
                 perk_store_publish(f->s, bytes, len, NULL, "ops", "real rules", 0, T0 - 3600, &f->version));
    free(bytes);
    free(forged_bytes);
    perk_error e;
    f->real_ctx = perk_context_new(f->real, NULL, &e);
    f->forged_ctx = perk_context_new(f->forged, NULL, &e);
    assert_non_null(f->real_ctx);
    assert_non_null(f->forged_ctx);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    perk_context_free(f->real_ctx);
    perk_context_free(f->forged_ctx);
    perk_program_free(f->real);
    perk_program_free(f->forged);
    perk_store_close(f->s);
    test_dir_remove(&f->dir);
    free(f);
    return 0;
}

static char *order_text(const char *id, const char *time_text)
{
    char *text = malloc(512);
    assert_non_null(text);
    snprintf(text, 512,
             "{\"order\": {\"id\": \"%s\", \"time\": \"%s\"}, \"customer\": {\"id\": \"c-%s\"},"
             " \"lines\": [{\"id\": \"L1\", \"sku\": \"TEA\", \"price\": \"100.00\", \"quantity\": 1}]}",
             id, time_text, id);
    return text;
}

/* Places order `id` with `prog` as `version`; returns whether it was committed. */
static bool place(fixture *f, perk_program *prog, perk_context *ctx, int64_t version, const char *id,
                  const checkout_options *opts, checkout_outcome *out)
{
    char *text = order_text(id, T0_TEXT);
    char err[256];
    cart_doc *doc = cart_json_parse(text, strlen(text), 2, "CNY", NULL, err, sizeof err);
    if (!doc) fail_msg("%s", err);
    bool ok = checkout_place_order_opts(f->s, prog, version, ctx, doc, text, opts, out);
    cart_json_free(doc);
    free(text);
    return ok;
}

static long long flash_uses(fixture *f)
{
    int64_t uses = 0, money = 0;
    assert_store(f->s, PERK_STORE_OK,
                 perk_store_budget_usage(f->s, "shop", "flash", NULL, &uses, &money, NULL));
    return (long long)uses * 1000000 + money; /* both at once: uses, then money in fen */
}

/* Item 1 of "the store trusts nothing a caller claims": `perk commit --program evil.perk` with a
 * copy of the rules that raised the limits pushed a ¥1000 budget to ¥1030 and a 100-use
 * promotion to 101 uses (ruleset_version 0). */
static void test_published_version_decides(void **state)
{
    fixture *f = *state;
    checkout_outcome out;
    /* three orders with the real rules use the budget up: 3 uses, ¥90 */
    for (int i = 0; i < 3; i++) {
        char id[16];
        snprintf(id, sizeof id, "R%d", i);
        if (!place(f, f->real, f->real_ctx, f->version, id, NULL, &out)) fail_msg("%s", out.message);
        checkout_outcome_free(&out);
    }
    assert_int_equal(flash_uses(f), 3 * 1000000LL + 9000);

    /* the forged program, not published (version 0): refused before anything is read */
    assert_false(place(f, f->forged, f->forged_ctx, 0, "E0", NULL, &out));
    assert_int_equal(out.store_status, PERK_STORE_INVALID);
    assert_non_null(strstr(out.message, "not a published version"));
    checkout_outcome_free(&out);

    /* the forged program claiming to be the published version: the store compares the limits */
    assert_false(place(f, f->forged, f->forged_ctx, f->version, "E1", NULL, &out));
    assert_int_equal(out.store_status, PERK_STORE_INVALID);
    assert_string_equal(out.message,
                        "order E1: promotion flash claims limits (uses 4, money 13000, per customer -1) that "
                        "are not version 1's (3, 10000, -1): the order was priced by another program; price "
                        "it with version 1; the order was not committed");
    checkout_outcome_free(&out);
    assert_int_equal(flash_uses(f), 3 * 1000000LL + 9000);

    /* a dry run with the forged program prices it and consumes nothing */
    checkout_options dry = { .dry_run = true };
    assert_true(place(f, f->forged, f->forged_ctx, 0, "E2", &dry, &out));
    assert_true(out.dry_run);
    assert_int_equal(out.result->payable, 7000); /* the forged limits still have room: ¥30 off */
    checkout_outcome_free(&out);
    assert_int_equal(flash_uses(f), 3 * 1000000LL + 9000);
    assert_int_equal(test_sql_int(f->s, "SELECT COUNT(*) FROM orders"), 3);

    /* the C API cannot be fooled either: limits claimed by the caller, a version that does not
     * exist, a promotion or earn rule the version does not have */
    perk_store_promo_use promo = { "flash", 3000, 101, 103000, -1 };
    perk_store_order o = test_order("E3", "eve", T0, 7000);
    o.ruleset_version = f->version;
    o.promos = &promo;
    o.n_promos = 1;
    assert_store(f->s, PERK_STORE_INVALID, perk_store_commit(f->s, &o, NULL, NULL));
    o.ruleset_version = 0;
    assert_store(f->s, PERK_STORE_INVALID, perk_store_commit(f->s, &o, NULL, NULL));
    assert_non_null(strstr(perk_store_errmsg(f->s), "not a published version"));
    o.ruleset_version = 9;
    assert_store(f->s, PERK_STORE_INVALID, perk_store_commit(f->s, &o, NULL, NULL));
    assert_non_null(strstr(perk_store_errmsg(f->s), "version 9 does not exist"));
    o.ruleset_version = f->version;
    promo = (perk_store_promo_use){ "flash2", 3000, -1, -1, -1 };
    assert_store(f->s, PERK_STORE_INVALID, perk_store_commit(f->s, &o, NULL, NULL));
    assert_non_null(strstr(perk_store_errmsg(f->s), "promotion flash2, which version 1 does not have"));
    /* the real limits: the 4th use is refused as over budget (uses 3 of 3) */
    promo = (perk_store_promo_use){ "flash", 3000, 3, 10000, -1 };
    perk_store_commit_result r;
    assert_store(f->s, PERK_STORE_BUDGET_EXCEEDED, perk_store_commit(f->s, &o, NULL, &r));
    assert_int_equal(r.n_failures, 1);
    assert_int_equal(r.failures[0].reason, PERK_STORE_FAIL_USES);
    perk_store_commit_result_free(&r);
    perk_store_points_line earn = { "bonus", 1000000 };
    o.n_promos = 0;
    o.earned = &earn;
    o.n_earned = 1;
    assert_store(f->s, PERK_STORE_INVALID, perk_store_commit(f->s, &o, NULL, NULL));
    assert_non_null(strstr(perk_store_errmsg(f->s), "rule bonus, which version 1 does not have"));
    /* a policy passed by the caller (no pending period) does not change the version's 7 days */
    perk_store_policy none = { 0 };
    earn = (perk_store_points_line){ "base", 70 };
    assert_store(f->s, PERK_STORE_OK, perk_store_commit(f->s, &o, &none, &r));
    assert_int_equal(r.available_at, T0 + 7 * 86400);
    assert_int_equal(r.balance, 0);
    assert_int_equal(r.pending, 70);
    perk_store_commit_result_free(&r);
    assert_int_equal(flash_uses(f), 3 * 1000000LL + 9000);
    int64_t problems = -1;
    assert_store(f->s, PERK_STORE_OK, perk_store_check(f->s, NULL, NULL, &problems));
    assert_int_equal(problems, 0);
}

/* Item 2: an order dated 30 days ahead spent points still in their 7-day pending period; one
 * backdated to 2020 used a coupon that expired in 2020. The store's clock decides now. */
static void test_store_clock_decides(void **state)
{
    fixture *f = *state;
    perk_store *s = f->s;
    const int64_t day = 86400;
    /* 100 points earned at T0, pending 7 days (the version's policy) */
    perk_store_points_line earn = { "base", 100 };
    perk_store_order o = test_order("P1", "pat", T0, 10000);
    o.ruleset_version = f->version;
    o.earned = &earn;
    o.n_earned = 1;
    perk_store_commit_result r;
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, NULL, &r));
    assert_int_equal(r.available_at, T0 + 7 * day);
    perk_store_commit_result_free(&r);

    /* dated 30 days ahead to spend the pending points: refused, nothing written */
    perk_store_order spend = test_order("P2", "pat", T0 + 30 * day, 0);
    spend.ruleset_version = f->version;
    spend.points_redeemed = 100;
    assert_store(s, PERK_STORE_INVALID, perk_store_commit(s, &spend, NULL, NULL));
    assert_string_equal(
        perk_store_errmsg(s),
        "order P2 is dated 1775181600, 2592000 s ahead of the store's clock (1772589600); a time "
        "may differ from it by at most 300 s: check the clock of the machine that sent it (or "
        "commit an order that was delayed as delayed: perk commit --delayed, recorded with the "
        "order); nothing was committed");
    /* within the skew, the points are still pending at the store's clock */
    spend.time = T0 + 200;
    assert_store(s, PERK_STORE_INSUFFICIENT_POINTS, perk_store_commit(s, &spend, NULL, NULL));
    /* a week later by the store's clock they are available */
    f->clock = T0 + 7 * day;
    spend.time = T0 + 7 * day;
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &spend, NULL, NULL));

    /* a coupon that expired in 2020, used by an order backdated to 2020: refused outright, and
     * as a delayed order too (older than the 7 days a delayed order may be) */
    const int64_t y2020 = 1577836800; /* 2020-01-01T00:00:00Z */
    assert_store(s, PERK_STORE_OK,
                 perk_store_coupon_add(s, "OLD2020", "old", y2020 + day, 0, 0, NULL, y2020 - day));
    const char *codes[] = { "OLD2020" };
    perk_store_order back = test_order("B1", "bea", y2020, 10000);
    back.ruleset_version = f->version;
    back.coupons = codes;
    back.n_coupons = 1;
    assert_store(s, PERK_STORE_INVALID, perk_store_commit(s, &back, NULL, NULL));
    assert_non_null(strstr(perk_store_errmsg(s), "behind the store's clock"));
    back.delayed = true;
    assert_store(s, PERK_STORE_INVALID, perk_store_commit(s, &back, NULL, NULL));
    assert_non_null(strstr(perk_store_errmsg(s), "more than the 604800 s a delayed order may be late"));

    /* coupon expiry at the store's clock: valid until T+60, the order claims T (within the skew)
     * but the store's clock says T+100: expired */
    int64_t t = f->clock;
    assert_store(s, PERK_STORE_OK, perk_store_coupon_add(s, "SOON", "soon", t + 60, 0, 0, NULL, t - day));
    const char *soon[] = { "SOON" };
    f->clock = t + 100;
    perk_store_order late = test_order("C1", "cat", t, 10000);
    late.ruleset_version = f->version;
    late.coupons = soon;
    late.n_coupons = 1;
    assert_store(s, PERK_STORE_BUDGET_EXCEEDED, perk_store_commit(s, &late, NULL, &r));
    assert_int_equal(r.failures[0].coupon_status, PERK_STORE_COUPON_EXPIRED);
    perk_store_commit_result_free(&r);
    /* the same order, delayed (a till that was offline): its coupon is checked at its own time,
     * its points pend from the store's clock, and it is recorded as delayed */
    late.delayed = true;
    late.earned = &earn;
    late.n_earned = 1;
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &late, NULL, &r));
    assert_int_equal(r.available_at, t + 100 + 7 * day);
    perk_store_commit_result_free(&r);
    assert_int_equal(test_sql_int(s, "SELECT delayed FROM orders WHERE order_id = 'C1'"), 1);
    assert_int_equal(test_sql_int(s, "SELECT delayed FROM orders WHERE order_id = 'P1'"), 0);
    assert_int_equal(
        test_sql_int(s, "SELECT COUNT(*) FROM events WHERE type = 'order.committed' AND "
                        "%s", test_pg_uri() ? "(data::json->>'delayed') = 'true' AND (data::json->>'order_id') = 'C1'" : "json_extract(data, '$.delayed') = 1 AND json_extract(data, '$.order_id') = 'C1'"),
        1);
    /* a delayed order cannot be in the future */
    perk_store_order ahead = test_order("C2", "cat", f->clock + 3600, 100);
    ahead.ruleset_version = f->version;
    ahead.delayed = true;
    assert_store(s, PERK_STORE_INVALID, perk_store_commit(s, &ahead, NULL, NULL));
    assert_non_null(strstr(perk_store_errmsg(s), "a delayed order happened in the past"));

    /* a refund dated away from the store's clock is refused too */
    assert_store(s, PERK_STORE_INVALID, perk_store_refund(s, "P1", "RF", NULL, 0, 0, T0, NULL, true, NULL));
    assert_non_null(strstr(perk_store_errmsg(s), "refund RF is dated"));
    assert_store(s, PERK_STORE_OK, perk_store_refund(s, "P1", "RF", NULL, 0, 0, f->clock, NULL, true, NULL));
    /* the skew is configurable */
    assert_store(s, PERK_STORE_OK, perk_store_set_max_skew(s, 3600));
    perk_store_order skewed = test_order("D1", "dan", f->clock - 3000, 100);
    skewed.ruleset_version = f->version;
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &skewed, NULL, NULL));
    assert_store(s, PERK_STORE_INVALID, perk_store_set_max_skew(s, -1));
    int64_t problems = -1;
    assert_store(s, PERK_STORE_OK, perk_store_check(s, NULL, NULL, &problems));
    assert_int_equal(problems, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_published_version_decides, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_clock_decides, setup, teardown),
    };
    return cmocka_run_group_tests_name("store_trust", tests, NULL, NULL);
}
