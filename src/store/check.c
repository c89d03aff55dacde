/* check.c - the store's integrity check (perk_store_check, `perk db check`): SQLite's own
 * structure check, then the store's records against each other: every committed order's
 * ledger rows present once and matching the order, budget and coupon counters matching their
 * use rows and limits, refunds within what was paid, and every customer's ledger replaying
 * without a debit that no points cover. */
#include "store_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct check_ctx {
    perk_store *s;
    perk_store_problem_cb cb;
    void *ctx;
    int64_t problems;
    bool stopped;
} check_ctx;

static void report(check_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report(check_ctx *c, const char *fmt, ...)
{
    c->problems++;
    if (c->stopped || !c->cb) return;
    char text[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (c->cb(text, c->ctx) != 0) c->stopped = true;
}

/* Runs `sql` (no parameters); each row is one problem, described by `describe`. */
typedef void (*describe_fn)(check_ctx *c, pstore_st *row);

static perk_store_status each_problem(check_ctx *c, const char *sql, describe_fn describe)
{
    pstore_st *st = pstore_stmt(c->s, sql);
    if (!st) return pstore_stmt_status(c->s);
    int rc;
    while ((rc = pstore_step(st)) == PSTORE_ROW) describe(c, st);
    pstore_done(st);
    return rc == PSTORE_DONE ? PERK_STORE_OK : pstore_sqlfail(c->s, rc, "checking the store");
}

static const char *col(pstore_st *st, int i)
{
    const char *t = pstore_col_text(st, i);
    return t ? (const char *)t : "(null)";
}

static void d_quick(check_ctx *c, pstore_st *r)
{
    if (strcmp(col(r, 0), "ok") != 0) report(c, "SQLite structure: %s", col(r, 0));
}

static void d_earned(check_ctx *c, pstore_st *r)
{
    report(c,
           "order %s earned %lld points but its earn entries in the ledger add up to %lld "
           "(%lld entries)",
           col(r, 0), (long long)pstore_col_int64(r, 1), (long long)pstore_col_int64(r, 2),
           (long long)pstore_col_int64(r, 3));
}

static void d_redeemed(check_ctx *c, pstore_st *r)
{
    report(c,
           "order %s redeemed %lld points but its redeem entries in the ledger take %lld "
           "(%lld entries; one expected when it redeemed points)",
           col(r, 0), (long long)pstore_col_int64(r, 1), (long long)-pstore_col_int64(r, 2),
           (long long)pstore_col_int64(r, 3));
}

static void d_orphan(check_ctx *c, pstore_st *r)
{
    report(c, "ledger entry %lld (%s) belongs to order %s, which was never committed",
           (long long)pstore_col_int64(r, 0), col(r, 1), col(r, 2));
}

static void d_budget(check_ctx *c, pstore_st *r)
{
    report(c,
           "budget %s/%s counts %lld uses and %lld money but its use rows add up to %lld uses "
           "and %lld money",
           col(r, 0), col(r, 1), (long long)pstore_col_int64(r, 2), (long long)pstore_col_int64(r, 3),
           (long long)pstore_col_int64(r, 4), (long long)pstore_col_int64(r, 5));
}

static void d_coupon(check_ctx *c, pstore_st *r)
{
    report(c,
           "coupon %s counts %lld uses but has %lld use rows (at most %lld allowed, 0 = no "
           "limit)",
           col(r, 0), (long long)pstore_col_int64(r, 1), (long long)pstore_col_int64(r, 2),
           (long long)pstore_col_int64(r, 3));
}

static void d_refunds(check_ctx *c, pstore_st *r)
{
    report(c, "order %s was paid %lld but refunds of it add up to %lld", col(r, 0),
           (long long)pstore_col_int64(r, 1), (long long)pstore_col_int64(r, 2));
}

static void d_refund_lines(check_ctx *c, pstore_st *r)
{
    report(c, "line %s of order %s was paid %lld but refunds of it add up to %lld", col(r, 1), col(r, 0),
           (long long)pstore_col_int64(r, 2), (long long)pstore_col_int64(r, 3));
}

static void d_negative(check_ctx *c, pstore_st *r)
{
    report(c, "customer %s: the ledger adds up to %lld points (below zero)", col(r, 0),
           (long long)pstore_col_int64(r, 1));
}

static const struct {
    const char *sql;
    describe_fn describe;
    bool sqlite_only;
} checks[] = {
    { "PRAGMA quick_check", d_quick, true }, /* SQLite-only: the file's structure */
    { "SELECT o.order_id, o.points_earned, COALESCE(SUM(l.points), 0), COUNT(l.id) FROM orders o"
      " LEFT JOIN ledger l ON l.order_id = o.order_id AND l.kind = 'earn'"
      " GROUP BY o.order_id HAVING COALESCE(SUM(l.points), 0) <> o.points_earned",
      d_earned, false },
    { "SELECT o.order_id, o.points_redeemed, COALESCE(SUM(l.points), 0), COUNT(l.id) FROM orders o"
      " LEFT JOIN ledger l ON l.order_id = o.order_id AND l.kind = 'redeem'"
      " GROUP BY o.order_id HAVING COALESCE(SUM(l.points), 0) <> -o.points_redeemed"
      " OR COUNT(l.id) > 1",
      d_redeemed, false },
    { "SELECT l.id, l.kind, l.order_id FROM ledger l WHERE l.order_id IS NOT NULL AND NOT EXISTS"
      " (SELECT 1 FROM orders o WHERE o.order_id = l.order_id)",
      d_orphan, false },
    { "SELECT t.ruleset, t.promo_id, t.uses, t.money, COUNT(u.id), COALESCE(SUM(u.discount), 0)"
      " FROM budget_totals t LEFT JOIN budget_uses u ON u.ruleset = t.ruleset"
      " AND u.promo_id = t.promo_id AND u.released_at IS NULL GROUP BY t.ruleset, t.promo_id"
      " HAVING COUNT(u.id) <> t.uses OR COALESCE(SUM(u.discount), 0) <> t.money"
      " UNION ALL SELECT u.ruleset, u.promo_id, 0, 0, COUNT(*), SUM(u.discount) FROM budget_uses u"
      " WHERE u.released_at IS NULL AND NOT EXISTS (SELECT 1 FROM budget_totals t"
      " WHERE t.ruleset = u.ruleset AND t.promo_id = u.promo_id) GROUP BY u.ruleset, u.promo_id",
      d_budget, false },
    /* the count in a subquery: PostgreSQL's WHERE cannot name a column alias */
    { "SELECT code, uses, n, max_uses FROM (SELECT c.code, c.uses, (SELECT COUNT(*) FROM coupon_uses u"
      " WHERE u.code = c.code AND u.released_at IS NULL) AS n, c.max_uses FROM coupons c) AS k"
      " WHERE n <> uses OR (max_uses > 0 AND n > max_uses)",
      d_coupon, false },
    { "SELECT o.order_id, o.payable, SUM(r.amount) FROM orders o JOIN refunds r"
      " ON r.order_id = o.order_id GROUP BY o.order_id HAVING SUM(r.amount) > o.payable",
      d_refunds, false },
    { "SELECT l.order_id, l.line_id, l.amount, SUM(r.amount) FROM order_lines l JOIN refund_lines r"
      " ON r.order_id = l.order_id AND r.line_id = l.line_id GROUP BY l.order_id, l.line_id"
      " HAVING SUM(r.amount) > l.amount",
      d_refund_lines, false },
    { "SELECT customer_id, SUM(points) FROM ledger GROUP BY customer_id HAVING SUM(points) < 0", d_negative, false },
};

/* Every customer's ledger replays with each debit covered by points (pstore_replay_customer). */
static perk_store_status check_replays(check_ctx *c)
{
    pstore_st *st = pstore_stmt(c->s, "SELECT DISTINCT customer_id FROM ledger ORDER BY 1");
    if (!st) return pstore_stmt_status(c->s);
    /* collect first: the replay uses other statements */
    char **customers = NULL;
    size_t n = 0, cap = 0;
    int rc;
    perk_store_status status = PERK_STORE_OK;
    while ((rc = pstore_step(st)) == PSTORE_ROW) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            char **grown = realloc(customers, ncap * sizeof *grown);
            if (!grown) {
                status = pstore_fail(c->s, PERK_STORE_NOMEM, "out of memory checking the ledger");
                break;
            }
            customers = grown;
            cap = ncap;
        }
        customers[n] = strdup(col(st, 0));
        if (!customers[n]) {
            status = pstore_fail(c->s, PERK_STORE_NOMEM, "out of memory checking the ledger");
            break;
        }
        n++;
    }
    if (status == PERK_STORE_OK && rc != PSTORE_DONE)
        status = pstore_sqlfail(c->s, rc, "listing the ledger's customers");
    pstore_done(st);
    for (size_t i = 0; status == PERK_STORE_OK && i < n; i++) {
        pstore_replay r;
        status = pstore_replay_customer(c->s, customers[i], &r);
        if (status != PERK_STORE_OK) break;
        if (r.unattributed != 0)
            report(c, "customer %s: the ledger debits %lld points that no earned points cover", customers[i],
                   (long long)r.unattributed);
        pstore_replay_free(&r);
    }
    for (size_t i = 0; i < n; i++) free(customers[i]);
    free(customers);
    return status;
}

perk_store_status perk_store_check(perk_store *s, perk_store_problem_cb cb, void *ctx, int64_t *problems)
{
    if (!s) return PERK_STORE_INVALID;
    if (problems) *problems = 0;
    check_ctx c = { .s = s, .cb = cb, .ctx = ctx };
    perk_store_status status = pstore_begin(s, false, "checking the store");
    if (status != PERK_STORE_OK) return status;
    for (size_t i = 0; status == PERK_STORE_OK && i < sizeof checks / sizeof checks[0]; i++) {
        /* PostgreSQL has no client-side structure check: its data checksums and amcheck are
         * the server operator's tools (docs/postgresql.md) */
        if (checks[i].sqlite_only && s->backend != PSTORE_BACKEND_SQLITE) continue;
        status = each_problem(&c, checks[i].sql, checks[i].describe);
    }
    if (status == PERK_STORE_OK) status = check_replays(&c);
    if (status != PERK_STORE_OK) {
        pstore_rollback(s);
        return status;
    }
    status = pstore_commit(s, "finishing the store check");
    if (status == PERK_STORE_OK && problems) *problems = c.problems;
    return status;
}
