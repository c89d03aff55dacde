/* report.c - the results of campaigns over a period, read from the committed orders, the budget
 * uses (one per promotion applied to an order) and the points ledger: what the console's Results
 * page and `perk report` show. Read-only queries; every sum is done by SQLite in 64-bit integers
 * and checked for overflow (SQLite raises "integer overflow" rather than wrapping). */
#include "store_internal.h"

#include <string.h>

perk_store_status perk_store_report_promotions(perk_store *s, int64_t from, int64_t to,
                                               perk_store_promo_report_cb cb, void *ctx)
{
    if (!s || !cb || from > to) return PERK_STORE_INVALID;
    pstore_st *q = pstore_stmt(
        s, "SELECT u.ruleset, u.promo_id, COUNT(*), SUM(u.discount), COUNT(DISTINCT u.order_id),"
           " (SELECT SUM(o.payable) FROM orders o WHERE o.order_id IN (SELECT u2.order_id FROM budget_uses u2"
           "   WHERE u2.ruleset = u.ruleset AND u2.promo_id = u.promo_id AND u2.released_at IS NULL"
           "   AND u2.used_at >= ?1 AND u2.used_at < ?2))"
           " FROM budget_uses u WHERE u.released_at IS NULL AND u.used_at >= ?1 AND u.used_at < ?2"
           " GROUP BY u.ruleset, u.promo_id ORDER BY u.ruleset, u.promo_id");
    if (!q) return pstore_stmt_status(s);
    pstore_bind_int64(q, 1, from);
    pstore_bind_int64(q, 2, to);
    int rc;
    while ((rc = pstore_step(q)) == PSTORE_ROW) {
        perk_store_promo_report row;
        row.ruleset = pstore_col_text(q, 0);
        row.promo_id = pstore_col_text(q, 1);
        row.uses = pstore_col_int64(q, 2);
        row.discount = pstore_col_int64(q, 3);
        row.orders = pstore_col_int64(q, 4);
        row.revenue = pstore_col_int64(q, 5);
        if (!row.ruleset) row.ruleset = "";
        if (!row.promo_id) row.promo_id = "";
        if (cb(ctx, &row)) {
            rc = PSTORE_DONE;
            break;
        }
    }
    perk_store_status st = rc == PSTORE_DONE ? PERK_STORE_OK : pstore_sqlfail(s, rc, "reporting promotions");
    pstore_done(q);
    return st;
}

perk_store_status perk_store_report_period(perk_store *s, int64_t from, int64_t to,
                                           perk_store_period_report *out)
{
    memset(out, 0, sizeof *out);
    if (!s || from > to) return PERK_STORE_INVALID;
    pstore_st *q = pstore_stmt(s, "SELECT COUNT(*), 0, 0, 0, SUM(subtotal), SUM(discount), SUM(payable)"
                                     " FROM orders WHERE time >= ?1 AND time < ?2");
    if (!q) return pstore_stmt_status(s);
    pstore_bind_int64(q, 1, from);
    pstore_bind_int64(q, 2, to);
    int rc = pstore_step(q);
    if (rc == PSTORE_ROW) {
        out->orders = pstore_col_int64(q, 0);
        out->subtotal = pstore_col_int64(q, 4);
        out->discount = pstore_col_int64(q, 5);
        out->payable = pstore_col_int64(q, 6);
        rc = PSTORE_DONE;
    }
    pstore_done(q);
    if (rc != PSTORE_DONE) return pstore_sqlfail(s, rc, "reporting orders");
    /* redeem and expire entries are negative in the ledger: shown as positive amounts */
    q = pstore_stmt(s, "SELECT kind, SUM(points) FROM ledger WHERE created_at >= ?1 AND created_at < ?2"
                       " AND kind IN ('earn', 'redeem', 'expire') GROUP BY kind");
    if (!q) return pstore_stmt_status(s);
    pstore_bind_int64(q, 1, from);
    pstore_bind_int64(q, 2, to);
    while ((rc = pstore_step(q)) == PSTORE_ROW) {
        const char *kind = pstore_col_text(q, 0);
        int64_t pts = pstore_col_int64(q, 1);
        if (!kind) continue;
        if (strcmp(kind, "earn") == 0)
            out->points_issued = pts;
        else if (strcmp(kind, "redeem") == 0)
            out->points_redeemed = pts < 0 ? -pts : pts;
        else
            out->points_expired = pts < 0 ? -pts : pts;
    }
    perk_store_status st = rc == PSTORE_DONE ? PERK_STORE_OK : pstore_sqlfail(s, rc, "reporting points");
    pstore_done(q);
    return st;
}

perk_store_status perk_store_report_quarters(perk_store *s, int64_t from, int64_t to,
                                             perk_store_quarter_report_cb cb, void *ctx)
{
    if (!s || !cb || from > to) return PERK_STORE_INVALID;
    /* orders are dated from 1970 on (the store refuses earlier times): time / 900 is the floor */
    pstore_st *q = pstore_stmt(s, "SELECT time / 900 AS quarter, COUNT(*), SUM(discount)"
                                  " FROM orders WHERE time >= ?1 AND time < ?2 AND time >= 0"
                                  " GROUP BY quarter ORDER BY quarter");
    if (!q) return pstore_stmt_status(s);
    pstore_bind_int64(q, 1, from);
    pstore_bind_int64(q, 2, to);
    int rc;
    while ((rc = pstore_step(q)) == PSTORE_ROW) {
        if (cb(ctx, pstore_col_int64(q, 0) * 900, pstore_col_int64(q, 1), pstore_col_int64(q, 2))) {
            rc = PSTORE_DONE;
            break;
        }
    }
    perk_store_status st = rc == PSTORE_DONE ? PERK_STORE_OK : pstore_sqlfail(s, rc, "reporting days");
    pstore_done(q);
    return st;
}

perk_store_status perk_store_report_tiers(perk_store *s, int64_t from, int64_t to, perk_store_tier_report_cb cb,
                                          void *ctx)
{
    if (!s || !cb || from > to) return PERK_STORE_INVALID;
    /* redeem and expire entries are negative in the ledger: shown as positive amounts */
    pstore_st *q = pstore_stmt(
        s, "SELECT tier, SUM(n), SUM(revenue), SUM(issued), SUM(redeemed), SUM(expired) FROM ("
           " SELECT out_previous_tier AS tier, 1 AS n, payable AS revenue, 0 AS issued, 0 AS redeemed,"
           "  0 AS expired FROM orders WHERE time >= ?1 AND time < ?2"
           " UNION ALL"
           " SELECT o.out_previous_tier, 0, 0, CASE WHEN l.kind = 'earn' THEN l.points ELSE 0 END,"
           "  CASE WHEN l.kind = 'redeem' THEN -l.points ELSE 0 END, 0"
           "  FROM ledger l JOIN orders o ON o.order_id = l.order_id"
           "  WHERE l.created_at >= ?1 AND l.created_at < ?2 AND l.kind IN ('earn', 'redeem')"
           " UNION ALL"
           " SELECT COALESCE(t.tier, ''), 0, 0, 0, 0, -l.points"
           "  FROM ledger l LEFT JOIN tier_state t ON t.customer_id = l.customer_id"
           "  WHERE l.created_at >= ?1 AND l.created_at < ?2 AND l.kind = 'expire'"
           ") x GROUP BY tier ORDER BY tier");
    if (!q) return pstore_stmt_status(s);
    pstore_bind_int64(q, 1, from);
    pstore_bind_int64(q, 2, to);
    int rc;
    while ((rc = pstore_step(q)) == PSTORE_ROW) {
        const char *tier = pstore_col_text(q, 0);
        perk_store_tier_report row = { tier ? tier : "",      pstore_col_int64(q, 1), pstore_col_int64(q, 2),
                                       pstore_col_int64(q, 3), pstore_col_int64(q, 4), pstore_col_int64(q, 5) };
        if (cb(ctx, &row)) {
            rc = PSTORE_DONE;
            break;
        }
    }
    perk_store_status st = rc == PSTORE_DONE ? PERK_STORE_OK : pstore_sqlfail(s, rc, "reporting tiers");
    pstore_done(q);
    return st;
}

perk_store_status perk_store_recent_orders(perk_store *s, int64_t limit, perk_store_order_json_cb cb,
                                           void *ctx)
{
    if (!s || !cb || limit <= 0) return PERK_STORE_INVALID;
    pstore_st *q = pstore_stmt(s, "SELECT order_json FROM (SELECT rowid, order_json FROM orders"
                                     " WHERE order_json IS NOT NULL ORDER BY time DESC, rowid DESC LIMIT ?1) AS r"
                                     " ORDER BY rowid");
    if (!q) return pstore_stmt_status(s);
    pstore_bind_int64(q, 1, limit);
    int rc;
    while ((rc = pstore_step(q)) == PSTORE_ROW) {
        const char *j = pstore_col_text(q, 0);
        if (j && cb(ctx, j)) {
            rc = PSTORE_DONE;
            break;
        }
    }
    perk_store_status st = rc == PSTORE_DONE ? PERK_STORE_OK : pstore_sqlfail(s, rc, "reading recent orders");
    pstore_done(q);
    return st;
}
