/* test_store_users.c - the console's store side: operators (Argon2id hashes with their own salt,
 * names, roles, passwords checked), sessions (hashed tokens, expiry, CSRF bound to the session,
 * removal ends them), the audit log, and the results report over committed orders with
 * hand-checked cents. */
#include "store_fixture.h"

#include <string.h>

typedef store_fixture fixture;

#define PW "correct horse battery"

static void test_user_add_and_verify(void **state)
{
    fixture *f = *state;
    perk_store *s = f->s;
    assert_store(s, PERK_STORE_OK,
                 perk_store_user_add(s, "alice", "publisher", PW, strlen(PW), "cli:test", 100));
    assert_store(s, PERK_STORE_OK,
                 perk_store_user_add(s, "bob@shop.cn", "viewer", PW, strlen(PW), "cli:test", 101));
    /* the same password, two different salts: two different hashes, neither holds the password */
    assert_int_equal(test_sql_int(s, "SELECT COUNT(DISTINCT password) FROM console_users"), 2);
    assert_int_equal(
        test_sql_int(s, "SELECT COUNT(*) FROM console_users WHERE password LIKE '$argon2id$v=19$%%'"), 2);
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM console_users WHERE password LIKE '%%horse%%'"),
                     0);
    perk_store_user u;
    bool ok = false;
    assert_store(s, PERK_STORE_OK, perk_store_user_verify(s, "alice", PW, strlen(PW), &u, &ok));
    assert_true(ok);
    assert_string_equal(u.name, "alice");
    assert_string_equal(u.role, "publisher");
    assert_int_equal(u.created_at, 100);
    assert_store(s, PERK_STORE_OK, perk_store_user_verify(s, "alice", "correct horse batterY", 21, &u, &ok));
    assert_false(ok);
    assert_string_equal(u.name, ""); /* nothing of the user is given out on a wrong password */
    assert_store(s, PERK_STORE_OK, perk_store_user_verify(s, "nobody", PW, strlen(PW), &u, &ok));
    assert_false(ok);
    /* a password with its first 8 bytes right is still wrong */
    assert_store(s, PERK_STORE_OK, perk_store_user_verify(s, "alice", PW, 8, &u, &ok));
    assert_false(ok);
}

static void test_user_refusals(void **state)
{
    fixture *f = *state;
    perk_store *s = f->s;
    assert_store(s, PERK_STORE_OK, perk_store_user_add(s, "alice", "editor", PW, strlen(PW), "cli:test", 1));
    assert_store(s, PERK_STORE_CONFLICT,
                 perk_store_user_add(s, "alice", "viewer", PW, strlen(PW), "cli:test", 2));
    assert_store(s, PERK_STORE_INVALID,
                 perk_store_user_add(s, "carol", "admin", PW, strlen(PW), "cli:test", 2));
    assert_store(s, PERK_STORE_INVALID,
                 perk_store_user_add(s, "carol", "viewer", "1234567", 7, "cli:test", 2));
    assert_store(s, PERK_STORE_INVALID,
                 perk_store_user_add(s, "ca rol", "viewer", PW, strlen(PW), "cli:test", 2));
    assert_store(s, PERK_STORE_INVALID, perk_store_user_add(s, "", "viewer", PW, strlen(PW), "cli:test", 2));
    assert_store(s, PERK_STORE_INVALID,
                 perk_store_user_add(s, "carol", "viewer", "abc\0defgh", 9, "cli:test", 2));
    assert_store(s, PERK_STORE_NOT_FOUND, perk_store_user_remove(s, "carol", "cli:test", 3));
    /* nothing refused was written, not even to the audit log */
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM console_users"), 1);
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM audit_log"), 1);
}

static void test_sessions(void **state)
{
    fixture *f = *state;
    perk_store *s = f->s;
    assert_store(s, PERK_STORE_OK, perk_store_user_add(s, "alice", "editor", PW, strlen(PW), "cli:test", 1));
    perk_store_user u;
    bool ok;
    assert_store(s, PERK_STORE_OK, perk_store_user_verify(s, "alice", PW, strlen(PW), &u, &ok));
    char token[PERK_STORE_TOKEN_LEN + 1], csrf[PERK_STORE_TOKEN_LEN + 1], token2[PERK_STORE_TOKEN_LEN + 1],
        csrf2[PERK_STORE_TOKEN_LEN + 1], got[PERK_STORE_TOKEN_LEN + 1];
    assert_store(s, PERK_STORE_OK, perk_store_session_create(s, u.id, 1000, 3600, token, csrf));
    assert_store(s, PERK_STORE_OK, perk_store_session_create(s, u.id, 1000, 3600, token2, csrf2));
    assert_int_equal(strlen(token), 64);
    assert_string_not_equal(token, token2);
    assert_string_not_equal(csrf, csrf2);
    /* only the hash of the token is stored */
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM console_sessions WHERE token_hash = '%s'", token),
                     0);
    perk_store_user who;
    bool found;
    assert_store(s, PERK_STORE_OK, perk_store_session_lookup(s, token, 4599, &who, got, &found));
    assert_true(found);
    assert_string_equal(who.name, "alice");
    assert_string_equal(who.role, "editor");
    assert_string_equal(got, csrf); /* the CSRF token belongs to its session */
    assert_store(s, PERK_STORE_OK, perk_store_session_lookup(s, token, 4600, &who, got, &found));
    assert_false(found); /* 1000 + 3600: expired */
    char forged[PERK_STORE_TOKEN_LEN + 1];
    memcpy(forged, token, sizeof forged);
    forged[0] = forged[0] == 'a' ? 'b' : 'a';
    assert_store(s, PERK_STORE_OK, perk_store_session_lookup(s, forged, 2000, &who, got, &found));
    assert_false(found);
    assert_store(s, PERK_STORE_OK, perk_store_session_lookup(s, "short", 2000, &who, got, &found));
    assert_false(found);
    /* sign-out ends one session; the other lives on */
    assert_store(s, PERK_STORE_OK, perk_store_session_delete(s, token));
    assert_store(s, PERK_STORE_OK, perk_store_session_lookup(s, token, 2000, &who, got, &found));
    assert_false(found);
    assert_store(s, PERK_STORE_OK, perk_store_session_lookup(s, token2, 2000, &who, got, &found));
    assert_true(found);
    /* a new session deletes the expired ones */
    assert_store(s, PERK_STORE_OK, perk_store_session_create(s, u.id, 9000, 3600, token, csrf));
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM console_sessions"), 1);
    /* removing the user ends its sessions */
    assert_store(s, PERK_STORE_OK, perk_store_user_remove(s, "alice", "cli:test", 9001));
    assert_store(s, PERK_STORE_OK, perk_store_session_lookup(s, token, 9002, &who, got, &found));
    assert_false(found);
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM console_sessions"), 0);
}

typedef struct audit_rows {
    char text[512];
    int n;
} audit_rows;

static int audit_cb(void *ctx, const perk_store_audit_entry *e)
{
    audit_rows *a = ctx;
    size_t len = strlen(a->text);
    snprintf(a->text + len, sizeof a->text - len, "%lld %s %s %s\n", (long long)e->at, e->actor, e->action,
             e->detail);
    a->n++;
    return 0;
}

static void test_audit(void **state)
{
    fixture *f = *state;
    perk_store *s = f->s;
    assert_store(s, PERK_STORE_OK,
                 perk_store_user_add(s, "alice", "publisher", PW, strlen(PW), "cli:root", 10));
    assert_store(s, PERK_STORE_OK, perk_store_audit(s, 20, "alice", "publish", "version 2: spring"));
    assert_store(s, PERK_STORE_OK, perk_store_user_remove(s, "alice", "cli:root", 30));
    assert_store(s, PERK_STORE_INVALID, perk_store_audit(s, 40, "", "x", ""));
    audit_rows a = { "", 0 };
    assert_store(s, PERK_STORE_OK, perk_store_audit_list(s, 0, 100, audit_cb, &a));
    assert_string_equal(a.text, "30 cli:root user.remove alice\n"
                                "20 alice publish version 2: spring\n"
                                "10 cli:root user.add alice as publisher\n");
    /* pages: the 2 newest, then those below the last id seen */
    audit_rows b = { "", 0 };
    assert_store(s, PERK_STORE_OK, perk_store_audit_list(s, 0, 2, audit_cb, &b));
    assert_int_equal(b.n, 2);
    audit_rows c = { "", 0 };
    assert_store(s, PERK_STORE_OK, perk_store_audit_list(s, 2, 100, audit_cb, &c));
    assert_string_equal(c.text, "10 cli:root user.add alice as publisher\n");
}

typedef struct promo_rows {
    char text[512];
} promo_rows;

static int promo_cb(void *ctx, const perk_store_promo_report *r)
{
    promo_rows *p = ctx;
    size_t len = strlen(p->text);
    snprintf(p->text + len, sizeof p->text - len, "%s uses=%lld discount=%lld orders=%lld revenue=%lld\n",
             r->promo_id, (long long)r->uses, (long long)r->discount, (long long)r->orders,
             (long long)r->revenue);
    return 0;
}

static void commit(perk_store *s, const char *id, int64_t time, int64_t subtotal, int64_t d1, int64_t d2,
                   int64_t points)
{
    perk_store_promo_use promos[2] = { { "tea_off", d1, -1, -1, -1 }, { "big_order", d2, -1, -1, -1 } };
    perk_store_points_line earned[] = { { "base", points } };
    perk_store_order o = test_order(id, "c1", time, subtotal - d1 - d2);
    o.subtotal = subtotal;
    o.discount = d1 + d2;
    o.promos = promos;
    o.n_promos = d2 ? 2 : d1 ? 1 : 0;
    o.earned = earned;
    o.n_earned = points ? 1 : 0;
    o.order_json = "{}";
    perk_store_commit_result r;
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, NULL, &r));
    perk_store_commit_result_free(&r);
}

static void test_report(void **state)
{
    fixture *f = *state;
    perk_store *s = f->s;
    int64_t day = 20516 * 86400; /* 2026-03-04 00:00 UTC */
    /* 22000 - 1200 - 2000 = 18800 payable, twice; 10000 without promotions; one the day after */
    commit(s, "O1", day + 3600, 22000, 1200, 2000, 188);
    commit(s, "O2", day + 7200, 22000, 1200, 2000, 188);
    commit(s, "O3", day + 9000, 10000, 0, 0, 100);
    commit(s, "O4", day + 86400 + 60, 50000, 5000, 0, 450);
    promo_rows p = { "" };
    assert_store(s, PERK_STORE_OK, perk_store_report_promotions(s, day, day + 86400, promo_cb, &p));
    /* tea_off: 1200 + 1200 = 2400 on O1, O2 (payable 18800 + 18800 = 37600); big_order the same */
    assert_string_equal(p.text, "big_order uses=2 discount=4000 orders=2 revenue=37600\n"
                                "tea_off uses=2 discount=2400 orders=2 revenue=37600\n");
    perk_store_period_report t;
    assert_store(s, PERK_STORE_OK, perk_store_report_period(s, day, day + 86400, &t));
    assert_int_equal(t.orders, 3);
    assert_int_equal(t.subtotal, 54000); /* 22000 + 22000 + 10000 */
    assert_int_equal(t.discount, 6400);  /* 3200 + 3200 + 0 */
    assert_int_equal(t.payable, 47600);  /* 18800 + 18800 + 10000 */
    /* the ledger's created_at is the store's clock, not the order's: count them all */
    assert_store(s, PERK_STORE_OK, perk_store_report_period(s, 0, INT64_MAX / 2, &t));
    assert_int_equal(t.points_issued, 926); /* 188 + 188 + 100 + 450 */
    assert_int_equal(t.orders, 4);
    assert_int_equal(t.discount, 11400); /* 6400 + 5000 */
    promo_rows q = { "" };
    assert_store(s, PERK_STORE_OK,
                 perk_store_report_promotions(s, day + 86400, day + 2 * 86400, promo_cb, &q));
    assert_string_equal(q.text, "tea_off uses=1 discount=5000 orders=1 revenue=45000\n");
    assert_store(s, PERK_STORE_INVALID, perk_store_report_promotions(s, 10, 5, promo_cb, &q));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_user_add_and_verify, store_fixture_setup,
                                        store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_user_refusals, store_fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_sessions, store_fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_audit, store_fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_report, store_fixture_setup, store_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
