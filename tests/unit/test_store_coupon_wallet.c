/* test_store_coupon_wallet.c - coupons as customers hold them: issuing a code of a campaign to a
 * customer (idempotent by code; unknown campaigns, another customer's code and bad periods
 * refused), revoking (who and why kept and audited; used-up and already revoked codes refused,
 * the first revocation kept), a revoked code refused at reservation and at the commit of a
 * reservation that held it, and the wallet's statuses and uses left at the boundary times. The
 * store's clock is injected; times are hand-picked around T0. */
#include "store_fixture.h"

/* CLUB is a campaign the rule set knows (a promotion requires a code from it); WELCOME is known
 * only once the store has a code of it. */
static const char RULES[] = "ruleset \"shop\" { currency CNY timezone \"Asia/Shanghai\" }\n"
                            "promotion club \"会员券\" {\n"
                            "  requires coupon from \"CLUB\"\n"
                            "  then ¥5 off order\n"
                            "}\n";

#define T0 1772589600

typedef store_clock_fixture fixture;

static int setup(void **state) { return store_clock_fixture_setup(state, RULES, T0); }

static int teardown(void **state) { return store_clock_fixture_teardown(state); }

/* A ¥100.00 order of `customer` at the clock entering `code`. */
static perk_store_order coupon_order(fixture *f, const char *id, const char *customer, const char *const *code)
{
    perk_store_order o = test_order(id, customer, f->clock, 10000);
    o.ruleset_version = f->version;
    o.coupons = code;
    o.n_coupons = 1;
    return o;
}

static perk_store_coupon_issue issue_of(const char *code, const char *campaign, const char *customer)
{
    perk_store_coupon_issue in = { code, campaign, customer, 0, 0, 0, 0, "ops" };
    return in;
}

static void test_issue(void **state)
{
    fixture *f = *state;
    perk_store *s = f->s;
    perk_store_coupon_info info;
    bool created = true;

    /* a campaign the active rule set requires codes from */
    perk_store_coupon_issue in = issue_of("vip-ana-1", "CLUB", "ana");
    in.max_uses = 3;
    in.max_per_customer = 2;
    assert_store(s, PERK_STORE_OK, perk_store_coupon_issue_code(s, &in, T0, &info, &created));
    assert_true(created);
    assert_string_equal(info.code, "VIPANA1");
    assert_int_equal(info.status, PERK_STORE_COUPON_VALID);
    assert_true(info.restricted);
    assert_int_equal(info.uses_left, 2); /* min(3 - 0, 2 - 0) */
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM audit_log WHERE action = 'coupon.issue' AND actor = 'ops'"),
                     1);
    /* the outbox tells the CRM, in the same transaction */
    test_events ev;
    test_events_read(s, 0, &ev);
    int64_t first_events = ev.count;
    assert_non_null(strstr(ev.text, "coupon.issued {\"by\":\"ops\",\"campaign\":\"CLUB\",\"code\":\"VIPANA1\","
                                    "\"customer_id\":\"ana\",\"expires_at\":0,\"max_per_customer\":2,"
                                    "\"max_uses\":3,\"time\":"));
    test_events_free(&ev);
    /* the same issue again: a retry, nothing written (no audit row, no second event) */
    assert_store(s, PERK_STORE_OK, perk_store_coupon_issue_code(s, &in, T0 + 5, &info, &created));
    assert_false(created);
    assert_int_equal(info.created_at, T0);
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM audit_log"), 1);
    test_events_read(s, 0, &ev);
    assert_int_equal(ev.count, first_events);
    test_events_free(&ev);
    /* the same code for another customer, or with other terms: refused, nothing changed */
    perk_store_coupon_issue other = in;
    other.customer_id = "bo";
    assert_store(s, PERK_STORE_CONFLICT, perk_store_coupon_issue_code(s, &other, T0, NULL, NULL));
    assert_non_null(strstr(perk_store_errmsg(s), "issued to another customer"));
    other = in;
    other.expires_at = T0 + 3600;
    assert_store(s, PERK_STORE_CONFLICT, perk_store_coupon_issue_code(s, &other, T0, NULL, NULL));
    assert_non_null(strstr(perk_store_errmsg(s), "period differs"));
    other = in;
    other.max_uses = 4;
    assert_store(s, PERK_STORE_CONFLICT, perk_store_coupon_issue_code(s, &other, T0, NULL, NULL));
    other = in;
    other.campaign = "WELCOME";
    assert_store(s, PERK_STORE_CONFLICT, perk_store_coupon_issue_code(s, &other, T0, NULL, NULL));
    /* a code anyone may use is not anyone's to be issued */
    assert_store(s, PERK_STORE_OK, perk_store_coupon_add(s, "OPEN-1", "WELCOME", 0, 0, 0, NULL, T0));
    perk_store_coupon_issue open = issue_of("open1", "WELCOME", "ana");
    assert_store(s, PERK_STORE_CONFLICT, perk_store_coupon_issue_code(s, &open, T0, NULL, NULL));
    assert_non_null(strstr(perk_store_errmsg(s), "used by anyone"));
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM coupons WHERE only_customer IS NOT NULL"), 1);

    /* WELCOME is known now that the store has a code of it; SPRNG is known nowhere */
    perk_store_coupon_issue w = issue_of("W-ANA", "WELCOME", "ana");
    assert_store(s, PERK_STORE_OK, perk_store_coupon_issue_code(s, &w, T0, NULL, &created));
    assert_true(created);
    perk_store_coupon_issue typo = issue_of("S-ANA", "SPRNG", "ana");
    assert_store(s, PERK_STORE_NOT_FOUND, perk_store_coupon_issue_code(s, &typo, T0, NULL, NULL));
    assert_non_null(strstr(perk_store_errmsg(s), "campaign \"SPRNG\" is unknown"));

    /* bad periods and input: nothing written */
    perk_store_coupon_issue bad = issue_of("BAD1", "CLUB", "ana");
    bad.valid_from = T0 + 100;
    bad.expires_at = T0 + 100; /* ends as it starts: never valid */
    assert_store(s, PERK_STORE_INVALID, perk_store_coupon_issue_code(s, &bad, T0, NULL, NULL));
    assert_non_null(strstr(perk_store_errmsg(s), "never be valid"));
    bad.valid_from = 0;
    bad.expires_at = T0; /* over already: valid while now < expires_at */
    assert_store(s, PERK_STORE_INVALID, perk_store_coupon_issue_code(s, &bad, T0, NULL, NULL));
    assert_non_null(strstr(perk_store_errmsg(s), "expired when issued"));
    bad.expires_at = T0 + 1; /* one second of validity is a period */
    assert_store(s, PERK_STORE_OK, perk_store_coupon_issue_code(s, &bad, T0, &info, NULL));
    assert_int_equal(info.status, PERK_STORE_COUPON_VALID);
    bad = issue_of("BAD2", "CLUB", "ana");
    bad.valid_from = -1;
    assert_store(s, PERK_STORE_INVALID, perk_store_coupon_issue_code(s, &bad, T0, NULL, NULL));
    bad = issue_of("BAD2", "CLUB", "ana");
    bad.max_per_customer = -1;
    assert_store(s, PERK_STORE_INVALID, perk_store_coupon_issue_code(s, &bad, T0, NULL, NULL));
    bad = issue_of("BAD/2", "CLUB", "ana");
    assert_store(s, PERK_STORE_INVALID, perk_store_coupon_issue_code(s, &bad, T0, NULL, NULL));
    bad = issue_of("BAD2", "CLUB", "");
    assert_store(s, PERK_STORE_INVALID, perk_store_coupon_issue_code(s, &bad, T0, NULL, NULL));
    bad = issue_of("BAD2", "CLUB", "ana");
    bad.by = NULL;
    assert_store(s, PERK_STORE_INVALID, perk_store_coupon_issue_code(s, &bad, T0, NULL, NULL));
    assert_store(s, PERK_STORE_INVALID, perk_store_coupon_issue_code(s, NULL, T0, NULL, NULL));
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM coupons WHERE code = 'BAD2'"), 0);
}

static void test_revoke(void **state)
{
    fixture *f = *state;
    perk_store *s = f->s;
    assert_store(s, PERK_STORE_OK, perk_store_coupon_add(s, "ONCE", "CLUB", 0, 1, 0, NULL, T0 - 60));
    assert_store(s, PERK_STORE_OK, perk_store_coupon_add(s, "TWICE", "CLUB", 0, 2, 0, NULL, T0 - 60));
    perk_store_coupon_info info;
    int64_t held = -1;

    assert_store(s, PERK_STORE_NOT_FOUND, perk_store_coupon_revoke(s, "NOPE", "ops", "leaked", T0, &info, &held));
    assert_store(s, PERK_STORE_INVALID, perk_store_coupon_revoke(s, "TWICE", "ops", "", T0, NULL, NULL));
    assert_store(s, PERK_STORE_INVALID, perk_store_coupon_revoke(s, "TWICE", NULL, "leaked", T0, NULL, NULL));
    char long_reason[PERK_STORE_REASON_MAX + 2];
    memset(long_reason, 'x', sizeof long_reason - 1);
    long_reason[sizeof long_reason - 1] = '\0';
    assert_store(s, PERK_STORE_INVALID, perk_store_coupon_revoke(s, "TWICE", "ops", long_reason, T0, NULL, NULL));

    /* ONCE is used up by a committed order: nothing left to revoke */
    static const char *const once[] = { "once" };
    perk_store_order o = coupon_order(f, "O1", "ana", once);
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, NULL, NULL));
    assert_store(s, PERK_STORE_CONFLICT, perk_store_coupon_revoke(s, "once", "ops", "leaked", T0, &info, NULL));
    assert_non_null(strstr(perk_store_errmsg(s), "used up (1 of 1 uses"));
    assert_int_equal(info.revoked_at, 0);

    /* TWICE, used once: revoked from T0 + 10, who and why kept and audited */
    static const char *const twice[] = { "twice" };
    o = coupon_order(f, "O2", "ana", twice);
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, NULL, NULL));
    f->clock = T0 + 10;
    assert_store(s, PERK_STORE_OK, perk_store_coupon_revoke(s, "tw-ice", "ops", "posted on a forum", T0 + 10, &info,
                                                            &held));
    assert_int_equal(held, 0);
    assert_int_equal(info.status, PERK_STORE_COUPON_REVOKED);
    assert_int_equal(info.revoked_at, T0 + 10);
    assert_string_equal(info.revoked_by, "ops");
    assert_string_equal(info.revoke_reason, "posted on a forum");
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM audit_log WHERE action = 'coupon.revoke' AND actor = "
                                     "'ops' AND detail LIKE 'TWICE (campaign CLUB): posted on a forum%%'"),
                     1);
    test_events ev;
    test_events_read(s, 0, &ev);
    /* TWICE is anyone's code (customer_id null); used once by a committed order, none held */
    assert_non_null(strstr(ev.text, "coupon.revoked {\"by\":\"ops\",\"campaign\":\"CLUB\",\"code\":\"TWICE\","
                                    "\"customer_id\":null,\"held_by_reservations\":0,"
                                    "\"reason\":\"posted on a forum\",\"time\":"));
    int64_t revoked_events = ev.count;
    test_events_free(&ev);
    /* refused from then on: check, commit */
    assert_store(s, PERK_STORE_OK, perk_store_coupon_check(s, "TWICE", "bo", T0 + 10, &info));
    assert_int_equal(info.status, PERK_STORE_COUPON_REVOKED);
    assert_int_equal(info.uses_left, 0);
    assert_string_equal(perk_store_coupon_status_message(info.status), "revoked");
    perk_store_commit_result r;
    o = coupon_order(f, "O3", "bo", twice);
    assert_store(s, PERK_STORE_BUDGET_EXCEEDED, perk_store_commit(s, &o, NULL, &r));
    assert_int_equal(r.n_failures, 1);
    assert_int_equal(r.failures[0].reason, PERK_STORE_FAIL_COUPON);
    assert_int_equal(r.failures[0].coupon_status, PERK_STORE_COUPON_REVOKED);
    perk_store_commit_result_free(&r);
    assert_non_null(strstr(perk_store_errmsg(s), "coupon TWICE: revoked"));
    /* an order committed with the code before the revocation still replays */
    o = coupon_order(f, "O2", "ana", twice);
    o.time = T0;
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, NULL, &r));
    assert_true(r.replay);
    perk_store_commit_result_free(&r);
    /* again (a retry, or another operator): refused, the first revocation kept */
    assert_store(s, PERK_STORE_CONFLICT,
                 perk_store_coupon_revoke(s, "TWICE", "eve", "duplicate", T0 + 20, &info, NULL));
    assert_non_null(strstr(perk_store_errmsg(s), "already revoked"));
    assert_int_equal(info.revoked_at, T0 + 10);
    assert_string_equal(info.revoked_by, "ops");
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM audit_log WHERE action = 'coupon.revoke'"), 1);
    test_events_read(s, 0, &ev); /* a refused revocation writes no event */
    assert_int_equal(ev.count, revoked_events);
    test_events_free(&ev);
    /* listed as revoked; the store stays consistent */
    int64_t problems = -1;
    assert_store(s, PERK_STORE_OK, perk_store_check(s, NULL, NULL, &problems));
    assert_int_equal(problems, 0);
}

static int count_listed(const perk_store_coupon_info *k, void *ctx)
{
    if (strcmp(k->code, "HELD") == 0) assert_int_equal(k->status, PERK_STORE_COUPON_REVOKED);
    ++*(int *)ctx;
    return 0;
}

/* A code revoked while an open reservation holds a use of it: the revocation wins (docs/service.md,
 * "Coupons"): the reservation's commit is refused on it, and no new reservation takes it. */
static void test_revoked_while_reserved(void **state)
{
    fixture *f = *state;
    perk_store *s = f->s;
    assert_store(s, PERK_STORE_OK, perk_store_coupon_add(s, "HELD", "CLUB", 0, 5, 0, NULL, T0 - 60));
    static const char *const held_code[] = { "held" };
    perk_store_order o = coupon_order(f, "R-O1", "ana", held_code);
    assert_store(s, PERK_STORE_OK, perk_store_reserve(s, "R1", &o, 600, NULL));
    perk_store_coupon_info info;
    int64_t held = 0;
    assert_store(s, PERK_STORE_OK, perk_store_coupon_revoke(s, "HELD", "ops", "fraud", T0, &info, &held));
    assert_int_equal(held, 1);
    assert_int_equal(info.uses, 1); /* the held use */
    /* the reservation's commit: refused on the revoked code, nothing written */
    o.reservation_id = "R1";
    perk_store_commit_result r;
    assert_store(s, PERK_STORE_BUDGET_EXCEEDED, perk_store_commit(s, &o, NULL, &r));
    assert_int_equal(r.n_failures, 1);
    assert_int_equal(r.failures[0].coupon_status, PERK_STORE_COUPON_REVOKED);
    assert_string_equal(r.failures[0].id, "HELD");
    perk_store_commit_result_free(&r);
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM orders"), 0);
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM coupon_uses"), 0);
    perk_store_reservation_info ri;
    assert_store(s, PERK_STORE_OK, perk_store_reservation_get(s, "R1", &ri));
    assert_int_equal(ri.state, PERK_STORE_RESERVATION_OPEN); /* still open: its other holds stay */
    /* a new reservation: refused on it too */
    o = coupon_order(f, "R-O2", "bo", held_code);
    assert_store(s, PERK_STORE_BUDGET_EXCEEDED, perk_store_reserve(s, "R2", &o, 600, &r));
    assert_int_equal(r.failures[0].coupon_status, PERK_STORE_COUPON_REVOKED);
    perk_store_commit_result_free(&r);
    assert_store(s, PERK_STORE_NOT_FOUND, perk_store_reservation_get(s, "R2", &ri));
    /* re-priced without the code, the order commits (and consumes the reservation) */
    o = coupon_order(f, "R-O1", "ana", held_code);
    o.n_coupons = 0;
    o.coupons = NULL;
    o.reservation_id = "R1";
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, NULL, &r));
    assert_true(r.reservation_consumed);
    perk_store_commit_result_free(&r);
    int n = 0;
    assert_store(s, PERK_STORE_OK, perk_store_coupons_list(s, "CLUB", T0, count_listed, &n));
    assert_int_equal(n, 1);
}

typedef struct wallet_rows {
    int n;
    perk_store_coupon_info rows[8];
} wallet_rows;

static int collect(const perk_store_coupon_info *k, void *ctx)
{
    wallet_rows *w = ctx;
    if (w->n < 8) w->rows[w->n++] = *k;
    return 0;
}

static wallet_rows wallet_at(perk_store *s, const char *customer, int64_t now)
{
    wallet_rows w;
    memset(&w, 0, sizeof w);
    assert_store(s, PERK_STORE_OK, perk_store_coupon_wallet(s, customer, now, collect, &w));
    return w;
}

static int stop_at_first(const perk_store_coupon_info *k, void *ctx)
{
    (void)k;
    (void)ctx;
    return 1;
}

static void test_wallet(void **state)
{
    fixture *f = *state;
    perk_store *s = f->s;
    /* A: valid over [T0 + 100, T0 + 200); B: 3 uses in all, 2 for ana; C: revoked; D: bo's */
    perk_store_coupon_issue a = issue_of("A", "CLUB", "ana");
    a.valid_from = T0 + 100;
    a.expires_at = T0 + 200;
    perk_store_coupon_issue b = issue_of("B", "CLUB", "ana");
    b.max_uses = 3;
    b.max_per_customer = 2;
    perk_store_coupon_issue c = issue_of("C", "CLUB", "ana");
    perk_store_coupon_issue d = issue_of("D", "CLUB", "bo");
    assert_store(s, PERK_STORE_OK, perk_store_coupon_issue_code(s, &a, T0, NULL, NULL));
    assert_store(s, PERK_STORE_OK, perk_store_coupon_issue_code(s, &b, T0 + 1, NULL, NULL));
    assert_store(s, PERK_STORE_OK, perk_store_coupon_issue_code(s, &c, T0 + 2, NULL, NULL));
    assert_store(s, PERK_STORE_OK, perk_store_coupon_issue_code(s, &d, T0 + 3, NULL, NULL));
    assert_store(s, PERK_STORE_OK, perk_store_coupon_revoke(s, "C", "ops", "issued by mistake", T0 + 4, NULL, NULL));

    /* oldest first, ana's only */
    wallet_rows w = wallet_at(s, "ana", T0 + 99);
    assert_int_equal(w.n, 3);
    assert_string_equal(w.rows[0].code, "A");
    assert_string_equal(w.rows[1].code, "B");
    assert_string_equal(w.rows[2].code, "C");
    /* A at its boundaries: not yet valid at T0 + 99, valid from T0 + 100 through T0 + 199, expired at T0 + 200 */
    assert_int_equal(w.rows[0].status, PERK_STORE_COUPON_NOT_YET_VALID);
    assert_int_equal(w.rows[0].uses_left, 0);
    assert_int_equal(w.rows[0].valid_from, T0 + 100);
    assert_int_equal(w.rows[0].expires_at, T0 + 200);
    w = wallet_at(s, "ana", T0 + 100);
    assert_int_equal(w.rows[0].status, PERK_STORE_COUPON_VALID);
    assert_int_equal(w.rows[0].uses_left, -1); /* no limit */
    w = wallet_at(s, "ana", T0 + 199);
    assert_int_equal(w.rows[0].status, PERK_STORE_COUPON_VALID);
    w = wallet_at(s, "ana", T0 + 200);
    assert_int_equal(w.rows[0].status, PERK_STORE_COUPON_EXPIRED);
    /* B: 2 left for ana (her share), then 1, then used up for her */
    assert_int_equal(w.rows[1].status, PERK_STORE_COUPON_VALID);
    assert_int_equal(w.rows[1].uses_left, 2);
    /* C: revoked, with who and why */
    assert_int_equal(w.rows[2].status, PERK_STORE_COUPON_REVOKED);
    assert_int_equal(w.rows[2].revoked_at, T0 + 4);
    assert_string_equal(w.rows[2].revoke_reason, "issued by mistake");

    static const char *const code_b[] = { "B" };
    perk_store_order o = coupon_order(f, "W1", "ana", code_b);
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, NULL, NULL));
    w = wallet_at(s, "ana", T0);
    assert_int_equal(w.rows[1].uses_left, 1);
    assert_int_equal(w.rows[1].customer_uses, 1);
    /* a reservation's hold counts as a use */
    o = coupon_order(f, "W2", "ana", code_b);
    assert_store(s, PERK_STORE_OK, perk_store_reserve(s, "RW2", &o, 60, NULL));
    w = wallet_at(s, "ana", T0);
    assert_int_equal(w.rows[1].status, PERK_STORE_COUPON_USED_UP); /* her 2 of 2 */
    assert_int_equal(w.rows[1].uses_left, 0);
    assert_int_equal(w.rows[1].uses, 2);
    /* the hold ends with its TTL: one use left for her again */
    w = wallet_at(s, "ana", T0 + 60);
    assert_int_equal(w.rows[1].status, PERK_STORE_COUPON_VALID);
    assert_int_equal(w.rows[1].uses_left, 1);

    /* a customer without codes; bad input; a callback that stops */
    w = wallet_at(s, "nobody", T0);
    assert_int_equal(w.n, 0);
    assert_store(s, PERK_STORE_INVALID, perk_store_coupon_wallet(s, "", T0, collect, &w));
    assert_store(s, PERK_STORE_INVALID, perk_store_coupon_wallet(s, "ana", T0, NULL, NULL));
    assert_store(s, PERK_STORE_IO, perk_store_coupon_wallet(s, "ana", T0, stop_at_first, NULL));
    w = wallet_at(s, "bo", T0);
    assert_int_equal(w.n, 1);
    assert_string_equal(w.rows[0].code, "D");
}

/* Codes changed in place (perk_store_coupons_change): a campaign's codes at once or one code,
 * only what is given, refused as a whole when one code cannot take it, revoked codes left alone,
 * audited, one coupon.changed event per change. */
static perk_store_coupon_change change_of(const char *campaign, const char *code)
{
    perk_store_coupon_change c = { .campaign = campaign, .code = code, .by = "ops", .reason = "双11 延期" };
    return c;
}

static void test_change(void **state)
{
    fixture *f = *state;
    perk_store *s = f->s;
    perk_store_coupon_change_result res;
    perk_store_coupon_info info;
    /* CLUB: A and B (ending T0 + 1000, 1 use each), C (unlimited), and ana's code from T0 + 5000 */
    assert_store(s, PERK_STORE_OK, perk_store_coupon_add(s, "A", "CLUB", T0 + 1000, 1, 0, NULL, T0 - 60));
    assert_store(s, PERK_STORE_OK, perk_store_coupon_add(s, "B", "CLUB", T0 + 1000, 1, 0, NULL, T0 - 60));
    assert_store(s, PERK_STORE_OK, perk_store_coupon_add(s, "C", "CLUB", T0 + 1000, 0, 0, NULL, T0 - 60));
    perk_store_coupon_issue in = issue_of("LATER", "CLUB", "ana");
    in.valid_from = T0 + 5000;
    assert_store(s, PERK_STORE_OK, perk_store_coupon_issue_code(s, &in, T0, NULL, NULL));

    /* an end before LATER starts: refused as a whole, nothing changed */
    perk_store_coupon_change c = change_of("CLUB", NULL);
    c.set_expires_at = true;
    c.expires_at = T0 + 5000;
    assert_store(s, PERK_STORE_CONFLICT, perk_store_coupons_change(s, &c, T0, &res));
    assert_non_null(strstr(perk_store_errmsg(s), "coupon LATER is valid from"));
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM coupons WHERE expires_at = %d", T0 + 1000), 3);
    /* extended past it: all 4 */
    c.expires_at = T0 + 86400;
    assert_store(s, PERK_STORE_OK, perk_store_coupons_change(s, &c, T0, &res));
    assert_int_equal(res.changed, 4);
    assert_int_equal(res.revoked, 0);
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM coupons WHERE campaign = 'CLUB' AND expires_at = %d",
                                  T0 + 86400),
                     4);
    /* only what is given changed: the limits are as they were */
    assert_int_equal(test_sql_int(s, "SELECT max_uses FROM coupons WHERE code = 'A'"), 1);
    assert_int_equal(test_sql_int(s, "SELECT max_uses FROM coupons WHERE code = 'C'"), 0);

    /* A used once by a committed order, C twice; bo holds a use of C in an open reservation */
    static const char *const a[] = { "a" }, *const cc[] = { "c" };
    perk_store_order o = coupon_order(f, "CH-1", "ana", a);
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, NULL, NULL));
    o = coupon_order(f, "CH-2", "ana", cc);
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, NULL, NULL));
    o = coupon_order(f, "CH-3", "bo", cc);
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, NULL, NULL));
    o = coupon_order(f, "CH-4", "cy", cc);
    assert_store(s, PERK_STORE_OK, perk_store_reserve(s, "CH-R", &o, 600, NULL));
    /* C has 2 committed + 1 held = 3 uses: a limit of 2 is refused, naming it; 3 is fine */
    c = change_of("CLUB", NULL);
    c.set_max_uses = true;
    c.max_uses = 2;
    assert_store(s, PERK_STORE_CONFLICT, perk_store_coupons_change(s, &c, T0, &res));
    assert_non_null(strstr(perk_store_errmsg(s), "coupon C has 3 uses"));
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM coupons WHERE max_uses = 2"), 0);
    c.max_uses = 3;
    assert_store(s, PERK_STORE_OK, perk_store_coupons_change(s, &c, T0, &res));
    assert_int_equal(res.changed, 4);
    assert_store(s, PERK_STORE_OK, perk_store_coupon_check(s, "A", "bo", T0, &info));
    assert_int_equal(info.status, PERK_STORE_COUPON_VALID); /* A: 1 of 3 used */
    assert_int_equal(info.uses_left, 2);
    assert_store(s, PERK_STORE_OK, perk_store_coupon_check(s, "C", "dan", T0, &info));
    assert_int_equal(info.status, PERK_STORE_COUPON_USED_UP); /* C: 3 of 3, the held one too */

    /* B revoked: a later change leaves it alone and says so */
    assert_store(s, PERK_STORE_OK, perk_store_coupon_revoke(s, "B", "ops", "leaked", T0, NULL, NULL));
    c = change_of("CLUB", NULL);
    c.set_max_per_customer = true;
    c.max_per_customer = 1;
    assert_store(s, PERK_STORE_OK, perk_store_coupons_change(s, &c, T0 + 1, &res));
    assert_int_equal(res.changed, 3);
    assert_int_equal(res.revoked, 1);
    assert_int_equal(test_sql_int(s, "SELECT max_per_customer FROM coupons WHERE code = 'B'"), 0);

    /* one code, as typed: ended now, it is expired now */
    c = change_of(NULL, "a");
    c.set_expires_at = true;
    c.expires_at = T0 + 2;
    assert_store(s, PERK_STORE_OK, perk_store_coupons_change(s, &c, T0 + 2, &res));
    assert_int_equal(res.changed, 1);
    assert_store(s, PERK_STORE_OK, perk_store_coupon_check(s, "A", "bo", T0 + 2, &info));
    assert_int_equal(info.status, PERK_STORE_COUPON_EXPIRED);
    /* never */
    c.expires_at = 0;
    assert_store(s, PERK_STORE_OK, perk_store_coupons_change(s, &c, T0 + 3, &res));
    assert_int_equal(test_sql_int(s, "SELECT expires_at FROM coupons WHERE code = 'A'"), 0);

    /* refusals */
    assert_store(s, PERK_STORE_NOT_FOUND, perk_store_coupons_change(s, &(perk_store_coupon_change){
        .campaign = "NOPE", .set_max_uses = true, .by = "ops", .reason = "x" }, T0, &res));
    assert_store(s, PERK_STORE_NOT_FOUND, perk_store_coupons_change(s, &(perk_store_coupon_change){
        .code = "NOPE", .set_max_uses = true, .by = "ops", .reason = "x" }, T0, &res));
    c = change_of("CLUB", NULL); /* nothing to change */
    assert_store(s, PERK_STORE_INVALID, perk_store_coupons_change(s, &c, T0, &res));
    c = change_of("CLUB", "A"); /* both */
    c.set_max_uses = true;
    assert_store(s, PERK_STORE_INVALID, perk_store_coupons_change(s, &c, T0, &res));
    c = change_of("CLUB", NULL); /* an end in the past */
    c.set_expires_at = true;
    c.expires_at = T0 - 1;
    assert_store(s, PERK_STORE_INVALID, perk_store_coupons_change(s, &c, T0, &res));
    c = change_of("CLUB", NULL); /* no reason */
    c.set_max_uses = true;
    c.reason = "";
    assert_store(s, PERK_STORE_INVALID, perk_store_coupons_change(s, &c, T0, &res));
    assert_store(s, PERK_STORE_OK, perk_store_coupon_revoke(s, "LATER", "ops", "x", T0, NULL, NULL));
    assert_store(s, PERK_STORE_OK, perk_store_coupon_revoke(s, "C", "ops", "x", T0, NULL, NULL));
    c = change_of(NULL, "B"); /* a revoked code alone */
    c.set_max_uses = true;
    assert_store(s, PERK_STORE_CONFLICT, perk_store_coupons_change(s, &c, T0, &res));

    /* audited and announced once per change that was made: 5 */
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM audit_log WHERE action = 'coupon.change' AND actor = 'ops'"), 5);
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM events WHERE type = 'coupon.changed'"), 5);
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM audit_log WHERE action = 'coupon.change' AND detail LIKE "
                                     "'campaign CLUB: 3 codes (1 revoked left alone): max_per_customer=1; 双11 延期'"),
                     1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_issue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revoke, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revoked_while_reserved, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wallet, setup, teardown),
        cmocka_unit_test_setup_teardown(test_change, setup, teardown),
    };
    return cmocka_run_group_tests_name("store_coupon_wallet", tests, NULL, NULL);
}
