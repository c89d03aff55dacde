/* test_store_rewards.c - reward coupons in the store (满500返50券, `then coupon from "RETURN50"`,
 * docs/semantics.md "Reward coupons"): a commit issues exactly one code per rewarding promotion of
 * the published version, restricted to the order's customer and valid for the right period (hand-
 * computed seconds); an order without a customer is refused and issues nothing; a replayed commit
 * returns the same code; a full refund revokes an unused code and keeps a used one, a partial
 * refund keeps it; and 8 forked processes committing overlapping orders, each order by two at
 * once, leave exactly one code per order with one coupon.issued event each. The store's clock is
 * injected (T0) except under contention, where it is the real one. */
#include "store_fixture.h"

#include <sys/wait.h>
#include <time.h>

/* RETURN50 for 30 days after the commit; D11BACK for 2027-11-12 00:00 .. 2027-11-30 23:59:59 in
 * Shanghai (UTC+8): valid from 2027-11-11T16:00:00Z = 1825948800, expiring at
 * 2027-11-30T16:00:00Z = 1827590400. */
static const char RULES[] = "ruleset \"shop\" { currency CNY timezone \"Asia/Shanghai\" }\n"
                            "promotion return50 \"满500返50券\" {\n"
                            "  when order.subtotal >= ¥500\n"
                            "  then coupon from \"RETURN50\" valid 30 days\n"
                            "}\n"
                            "promotion d11 \"双11返场券\" {\n"
                            "  when order.subtotal >= ¥1000\n"
                            "  then ¥30 off order\n"
                            "  then coupon from \"D11BACK\" valid 2027-11-12 to 2027-11-30\n"
                            "}\n"
                            "promotion use_return50 \"返券抵50\" {\n"
                            "  requires coupon from \"RETURN50\"\n"
                            "  then ¥50 off order\n"
                            "}\n"
                            "promotion use_d11 \"返场\" {\n"
                            "  requires coupon from \"D11BACK\"\n"
                            "  valid 2027-11-12 to 2027-11-30\n"
                            "  then 10% off order\n"
                            "}\n"
                            "promotion member \"会员返券\" {\n"
                            "  when \"member\" in customer.tags\n"
                            "  then coupon from \"MEMBER\"\n"
                            "}\n"
                            "promotion use_member_may { requires coupon from \"MEMBER\" valid 2027-05-01 to "
                            "2027-05-31 then ¥10 off order }\n"
                            "promotion use_member_april { requires coupon from \"MEMBER\" valid 2027-04-01 to "
                            "2027-04-30 then ¥20 off order }\n";

#define T0 1772589600
#define DAYS_30 2592000 /* 30 x 86400 */
#define D11_FROM 1825948800
#define D11_UNTIL 1827590400
/* MEMBER has no `valid`: its redeemers' period, 2027-04-01 00:00 .. 2027-05-31 23:59:59 Shanghai */
#define MEMBER_FROM 1806508800  /* 2027-03-31T16:00:00Z */
#define MEMBER_UNTIL 1811779200 /* 2027-05-31T16:00:00Z */

typedef store_clock_fixture fixture;

static int setup(void **state) { return store_clock_fixture_setup(state, RULES, T0); }

static int teardown(void **state) { return store_clock_fixture_teardown(state); }

typedef struct order_parts {
    perk_store_promo_use promos[2];
    perk_store_order_line line;
} order_parts;

/* A ¥600.00 order that applied return50 (nothing off); with `code`, also use_return50 (¥50 off). */
static perk_store_order reward_order(fixture *f, const char *id, const char *customer, order_parts *p,
                                     const char *const *code)
{
    perk_store_order o = test_order(id, customer, f->clock, code ? 55000 : 60000);
    o.subtotal = 60000;
    o.discount = code ? 5000 : 0;
    o.ruleset_version = f->version;
    p->promos[0] = (perk_store_promo_use){ "return50", 0, -1, -1, -1 };
    p->promos[1] = (perk_store_promo_use){ "use_return50", 5000, -1, -1, -1 };
    o.promos = p->promos;
    o.n_promos = code ? 2 : 1;
    o.coupons = code;
    o.n_coupons = code ? 1 : 0;
    p->line = (perk_store_order_line){ "L1", o.payable };
    o.lines = &p->line;
    o.n_lines = 1;
    return o;
}

static perk_store_coupon_status verdict(perk_store *s, const char *code, const char *customer, int64_t at)
{
    perk_store_coupon_info info;
    assert_store(s, PERK_STORE_OK, perk_store_coupon_check(s, code, customer, at, &info));
    return info.status;
}

static void test_commit_issues_one_code(void **state)
{
    fixture *f = *state;
    perk_store *s = f->s;
    order_parts p;
    perk_store_commit_result r;
    perk_store_order o = reward_order(f, "R1", "amy", &p, NULL);
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, NULL, &r));
    assert_false(r.replay);
    assert_int_equal(r.n_reward_codes, 1);
    char code[PERK_STORE_CODE_MAX];
    snprintf(code, sizeof code, "%s", r.reward_codes[0].code);
    assert_string_equal(r.reward_codes[0].campaign, "RETURN50");
    assert_string_equal(r.reward_codes[0].promo_id, "return50");
    assert_int_equal(r.reward_codes[0].valid_from, T0);
    assert_int_equal(r.reward_codes[0].expires_at, T0 + DAYS_30);
    assert_int_equal(strlen(code), 13); /* 12 Crockford symbols + the check symbol */
    perk_store_commit_result_free(&r);
    /* usable once, by amy only, until the last second of its 30 days */
    assert_int_equal(test_sql_int(s, "SELECT max_uses FROM coupons WHERE code = '%s'", code), 1);
    assert_int_equal(verdict(s, code, "amy", T0), PERK_STORE_COUPON_VALID);
    assert_int_equal(verdict(s, code, "amy", T0 + DAYS_30 - 1), PERK_STORE_COUPON_VALID);
    assert_int_equal(verdict(s, code, "amy", T0 + DAYS_30), PERK_STORE_COUPON_EXPIRED);
    assert_int_equal(verdict(s, code, "ben", T0), PERK_STORE_COUPON_NOT_FOR_CUSTOMER);
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM events WHERE type = 'coupon.issued'"), 1);
    /* the wallet lists it */
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM coupons WHERE only_customer = 'amy'"), 1);

    /* the same order again: the same code, nothing new */
    f->clock = T0 + 5;
    o = reward_order(f, "R1", "amy", &p, NULL);
    o.time = T0;
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, NULL, &r));
    assert_true(r.replay);
    assert_int_equal(r.n_reward_codes, 1);
    assert_string_equal(r.reward_codes[0].code, code);
    assert_int_equal(r.reward_codes[0].expires_at, T0 + DAYS_30);
    perk_store_commit_result_free(&r);
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM coupons WHERE campaign = 'RETURN50'"), 1);
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM events WHERE type = 'coupon.issued'"), 1);

    /* a promotion that rewards nothing issues nothing; without a customer nothing is committed */
    perk_store_order plain = test_order("R2", "amy", f->clock, 10000);
    plain.ruleset_version = f->version;
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &plain, NULL, &r));
    assert_int_equal(r.n_reward_codes, 0);
    perk_store_commit_result_free(&r);
    o = reward_order(f, "R3", NULL, &p, NULL);
    assert_store(s, PERK_STORE_INVALID, perk_store_commit(s, &o, NULL, &r));
    assert_int_equal(r.n_reward_codes, 0);
    perk_store_commit_result_free(&r);
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM reward_coupons"), 1);
}

static void test_window_period(void **state)
{
    fixture *f = *state;
    perk_store *s = f->s;
    /* ¥1200.00 applying d11 (¥30 off) and return50: two codes, one per promotion */
    perk_store_promo_use promos[2] = { { "return50", 0, -1, -1, -1 }, { "d11", 3000, -1, -1, -1 } };
    perk_store_order o = test_order("W1", "amy", f->clock, 117000);
    o.subtotal = 120000;
    o.discount = 3000;
    o.ruleset_version = f->version;
    o.promos = promos;
    o.n_promos = 2;
    perk_store_commit_result r;
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, NULL, &r));
    assert_int_equal(r.n_reward_codes, 2);
    assert_string_equal(r.reward_codes[0].campaign, "RETURN50");
    assert_string_equal(r.reward_codes[1].campaign, "D11BACK");
    assert_int_equal(r.reward_codes[1].valid_from, D11_FROM);
    assert_int_equal(r.reward_codes[1].expires_at, D11_UNTIL);
    char code[PERK_STORE_CODE_MAX], first[PERK_STORE_CODE_MAX];
    snprintf(code, sizeof code, "%s", r.reward_codes[1].code);
    snprintf(first, sizeof first, "%s", r.reward_codes[0].code);
    perk_store_commit_result_free(&r);
    /* a retry: the same two codes in the same order */
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, NULL, &r));
    assert_true(r.replay);
    assert_int_equal(r.n_reward_codes, 2);
    assert_string_equal(r.reward_codes[0].code, first);
    assert_string_equal(r.reward_codes[1].code, code);
    assert_int_equal(r.reward_codes[1].valid_from, D11_FROM);
    perk_store_commit_result_free(&r);
    assert_int_equal(verdict(s, code, "amy", D11_FROM - 1), PERK_STORE_COUPON_NOT_YET_VALID);
    assert_int_equal(verdict(s, code, "amy", D11_FROM), PERK_STORE_COUPON_VALID);
    assert_int_equal(verdict(s, code, "amy", D11_UNTIL - 1), PERK_STORE_COUPON_VALID);
    assert_int_equal(verdict(s, code, "amy", D11_UNTIL), PERK_STORE_COUPON_EXPIRED);

    /* no `valid` on the reward: the redeeming promotions' earliest start and latest end */
    perk_store_promo_use member = { "member", 0, -1, -1, -1 };
    o = test_order("W2", "amy", f->clock, 10000);
    o.ruleset_version = f->version;
    o.promos = &member;
    o.n_promos = 1;
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, NULL, &r));
    assert_int_equal(r.n_reward_codes, 1);
    assert_string_equal(r.reward_codes[0].campaign, "MEMBER");
    assert_int_equal(r.reward_codes[0].valid_from, MEMBER_FROM);
    assert_int_equal(r.reward_codes[0].expires_at, MEMBER_UNTIL);
    perk_store_commit_result_free(&r);
}

static void test_refunds(void **state)
{
    fixture *f = *state;
    perk_store *s = f->s;
    order_parts p;
    perk_store_commit_result r;
    perk_store_refund_result rr;
    char a[PERK_STORE_CODE_MAX], b[PERK_STORE_CODE_MAX], c[PERK_STORE_CODE_MAX];

    /* A: a full refund revokes its unused code */
    perk_store_order o = reward_order(f, "A", "amy", &p, NULL);
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, NULL, &r));
    snprintf(a, sizeof a, "%s", r.reward_codes[0].code);
    perk_store_commit_result_free(&r);
    assert_store(s, PERK_STORE_OK, perk_store_refund(s, "A", "RA", NULL, 0, 0, T0 + 10, NULL, true, &rr));
    assert_true(rr.full);
    assert_int_equal(rr.rewards_revoked, 1);
    assert_int_equal(rr.rewards_kept, 0);
    assert_int_equal(verdict(s, a, "amy", T0 + 11), PERK_STORE_COUPON_REVOKED);
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM coupons WHERE code = '%s' AND revoked_by = 'refund' "
                                     "AND revoke_reason = 'order A refunded'",
                                  a),
                     1);
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM events WHERE type = 'coupon.revoked'"), 1);
    /* the refund again: the same answer, nothing more */
    assert_store(s, PERK_STORE_OK, perk_store_refund(s, "A", "RA", NULL, 0, 0, T0 + 12, NULL, true, &rr));
    assert_true(rr.replay);
    assert_int_equal(rr.rewards_revoked, 1);
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM events WHERE type = 'coupon.revoked'"), 1);

    /* B earns a code that C spends: refunding B in full keeps it (C keeps its ¥50 off) */
    f->clock = T0 + 20;
    o = reward_order(f, "B", "ben", &p, NULL);
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, NULL, &r));
    snprintf(b, sizeof b, "%s", r.reward_codes[0].code);
    perk_store_commit_result_free(&r);
    const char *codes[1] = { b };
    f->clock = T0 + 30;
    o = reward_order(f, "C", "ben", &p, codes);
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, NULL, &r));
    assert_int_equal(r.n_reward_codes, 1); /* C earns the next one */
    snprintf(c, sizeof c, "%s", r.reward_codes[0].code);
    perk_store_commit_result_free(&r);
    assert_store(s, PERK_STORE_OK, perk_store_refund(s, "B", "RB", NULL, 0, 0, T0 + 40, NULL, true, &rr));
    assert_int_equal(rr.rewards_revoked, 0);
    assert_int_equal(rr.rewards_kept, 1);
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM coupons WHERE code = '%s' AND revoked_at IS NULL", b), 1);

    /* a partial refund of C (¥100.00 of ¥550.00) keeps C's code */
    perk_store_refund_line part = { "L1", 10000 };
    assert_store(s, PERK_STORE_OK, perk_store_refund(s, "C", "RC", &part, 1, 10000, T0 + 50, NULL, true, &rr));
    assert_false(rr.full);
    assert_int_equal(rr.rewards_revoked, 0);
    assert_int_equal(rr.rewards_kept, 0);
    assert_int_equal(verdict(s, c, "ben", T0 + 51), PERK_STORE_COUPON_VALID);
}

enum { N_PROCS = 8, N_ORDERS = 24, N_CUSTOMERS = 5 };

/* Worker w commits the orders i with i % 4 == w / 2: every order by two workers at once. */
static void run_worker(const char *db, int w, int64_t version, int64_t time)
{
    perk_store *s = NULL;
    if (perk_store_open(db, &s) != PERK_STORE_OK) _exit(2);
    if (perk_store_set_durable(s, false) != PERK_STORE_OK) _exit(2);
    for (int i = w / 2; i < N_ORDERS; i += 4) {
        char id[16], customer[16];
        snprintf(id, sizeof id, "P%d", i);
        snprintf(customer, sizeof customer, "c%d", i % N_CUSTOMERS);
        perk_store_promo_use promo = { "return50", 0, -1, -1, -1 };
        /* one time for both workers of an order: the same content, so the second is a replay */
        perk_store_order o = test_order(id, customer, time, 60000);
        o.ruleset_version = version;
        o.promos = &promo;
        o.n_promos = 1;
        for (int attempt = 0;; attempt++) {
            perk_store_commit_result r;
            perk_store_status st = perk_store_commit(s, &o, NULL, &r);
            bool one = r.n_reward_codes == 1;
            perk_store_commit_result_free(&r);
            if (st == PERK_STORE_OK) {
                if (!one) _exit(3); /* first commit or replay: always the order's one code */
                break;
            }
            if (attempt > 200) {
                fprintf(stderr, "worker %d, order %s: gave up: %s\n", w, id, perk_store_errmsg(s));
                _exit(4);
            }
            if (st != PERK_STORE_BUSY) {
                fprintf(stderr, "worker %d, order %s: %s: %s\n", w, id, perk_store_status_name(st), perk_store_errmsg(s));
                _exit(5);
            }
        }
    }
    perk_store_close(s);
    _exit(0);
}

static void test_rewards_under_contention(void **state)
{
    fixture *f = *state;
    perk_store_close(f->s); /* the workers open their own, on the real clock */
    f->s = NULL;
    pid_t pids[N_PROCS];
    int64_t now = (int64_t)time(NULL);
    for (int w = 0; w < N_PROCS; w++) {
        pids[w] = fork();
        assert_true(pids[w] >= 0);
        if (pids[w] == 0) run_worker(f->dir.db, w, f->version, now);
    }
    for (int w = 0; w < N_PROCS; w++) {
        int status;
        assert_int_equal(waitpid(pids[w], &status, 0), pids[w]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    f->s = test_open(f->dir.db);
    perk_store *s = f->s;
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM orders"), N_ORDERS);
    /* exactly one code per order, no code twice, each for its order's customer only */
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM reward_coupons"), N_ORDERS);
    assert_int_equal(test_sql_int(s, "SELECT COUNT(DISTINCT order_id) FROM reward_coupons"), N_ORDERS);
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM coupons WHERE campaign = 'RETURN50'"), N_ORDERS);
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM reward_coupons w JOIN coupons c ON c.code = w.code "
                                     "JOIN orders o ON o.order_id = w.order_id "
                                     "WHERE c.only_customer = o.customer_id AND c.max_uses = 1"),
                     N_ORDERS);
    /* one coupon.issued event per code */
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM events WHERE type = 'coupon.issued'"), N_ORDERS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_commit_issues_one_code, setup, teardown),
        cmocka_unit_test_setup_teardown(test_window_period, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refunds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rewards_under_contention, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
