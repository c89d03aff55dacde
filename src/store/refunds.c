/* refunds.c - refunds and cancellations: reversing earned points in proportion to the
 * refunded amount (never pushing a balance negative: a shortfall becomes a recorded debt),
 * giving redeemed points back and releasing budget and coupon uses when an order is fully
 * refunded, all in one transaction with the order.refunded event. */
#include "store_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct refund_ctx {
    perk_store *s;
    const char *order_id, *refund_id;
    const perk_store_refund_line *lines;
    size_t n_lines;
    int64_t requested; /* refunded_amount as given (or the lines' sum) */
    int64_t now;
    const perk_store_policy *policy;
    bool release_budget;
    perk_store_refund_result *r;
    char fingerprint[65];
    /* the order */
    char customer[256];
    int64_t payable, earned, redeemed;
    int64_t points_target; /* reversal due by the formula for this refund */
    int64_t debt_collected;
    const char *lines_text; /* the lines as recorded */
} refund_ctx;

static perk_store_status validate(refund_ctx *c, int64_t refunded_amount)
{
    perk_store *s = c->s;
    perk_store_status st = pstore_check_name(s, "order id", c->order_id, 255);
    if (st == PERK_STORE_OK) st = pstore_check_name(s, "refund id", c->refund_id, 255);
    if (st == PERK_STORE_OK) st = pstore_policy_check(s, c->policy);
    if (st != PERK_STORE_OK) return st;
    if (refunded_amount < 0)
        return pstore_fail(s, PERK_STORE_INVALID, "refund %s: amount must be >= 0", c->refund_id);
    if (!c->lines) {
        if (c->n_lines)
            return pstore_fail(s, PERK_STORE_INVALID, "refund %s: %zu lines but no line array", c->refund_id,
                               c->n_lines);
        c->requested = refunded_amount;
        return PERK_STORE_OK;
    }
    if (c->n_lines == 0 || c->n_lines > 10000)
        return pstore_fail(s, PERK_STORE_INVALID,
                           "refund %s: needs 1..10000 lines (or NULL for "
                           "the whole order)",
                           c->refund_id);
    int64_t sum = 0;
    for (size_t i = 0; i < c->n_lines; i++) {
        st = pstore_check_name(s, "refund line id", c->lines[i].line_id, 255);
        if (st != PERK_STORE_OK) return st;
        if (c->lines[i].amount <= 0)
            return pstore_fail(s, PERK_STORE_INVALID, "refund %s: line %s amount must be > 0", c->refund_id,
                               c->lines[i].line_id);
        if (__builtin_add_overflow(sum, c->lines[i].amount, &sum))
            return pstore_fail(s, PERK_STORE_INVALID, "refund %s: line amounts overflow", c->refund_id);
        for (size_t j = 0; j < i; j++)
            if (strcmp(c->lines[j].line_id, c->lines[i].line_id) == 0)
                return pstore_fail(s, PERK_STORE_INVALID,
                                   "refund %s names line %s twice; give each line once with "
                                   "the whole amount refunded on it",
                                   c->refund_id, c->lines[i].line_id);
    }
    if (refunded_amount != 0 && refunded_amount != sum)
        return pstore_fail(s, PERK_STORE_INVALID,
                           "refund %s: lines add up to %lld but the refunded amount is %lld", c->refund_id,
                           (long long)sum, (long long)refunded_amount);
    c->requested = sum;
    return PERK_STORE_OK;
}

static json_t *lines_json(const refund_ctx *c)
{
    if (!c->lines) return json_null();
    json_t *a = json_array();
    for (size_t i = 0; i < c->n_lines; i++)
        json_array_append_new(a, json_pack("{s:s, s:I}", "line_id", c->lines[i].line_id, "amount",
                                           (json_int_t)c->lines[i].amount));
    return a;
}

static perk_store_status fingerprint(refund_ctx *c, char **lines_text)
{
    *lines_text = NULL;
    json_t *lines = lines_json(c);
    if (c->lines) {
        *lines_text = json_dumps(lines, JSON_SORT_KEYS | JSON_COMPACT);
        if (!*lines_text) {
            json_decref(lines);
            return pstore_fail(c->s, PERK_STORE_NOMEM, "out of memory");
        }
    }
    json_t *doc = json_pack("{s:s, s:I, s:o, s:b}", "order_id", c->order_id, "amount",
                            (json_int_t)c->requested, "lines", lines, "release_budget", c->release_budget);
    char *text = doc ? json_dumps(doc, JSON_SORT_KEYS | JSON_COMPACT) : NULL;
    json_decref(doc);
    if (!text) return pstore_fail(c->s, PERK_STORE_NOMEM, "out of memory");
    perk_store_sha256_hex(text, strlen(text), c->fingerprint);
    free(text);
    return PERK_STORE_OK;
}

/* An earlier refund with this id: same content -> its outcome; other content -> conflict. */
static perk_store_status load_previous(refund_ctx *c, bool *found)
{
    perk_store *s = c->s;
    *found = false;
    pstore_st *st =
        pstore_stmt(s, "SELECT r.fingerprint, r.amount, r.full, r.points_reversed, r.points_expired,"
                       " r.points_shortfall, r.points_returned, r.budget_released, r.tier, r.tier_changed,"
                       " (SELECT SUM(x.amount) FROM refunds x WHERE x.order_id = r.order_id"
                       "   AND x.rowid <= r.rowid)"
                       " FROM refunds r WHERE r.refund_id = ?1");
    if (!st) return pstore_stmt_status(s);
    pstore_bind_text(st, 1, c->refund_id);
    char conflict[300];
    snprintf(conflict, sizeof conflict, "refund %.200s was already recorded with different content",
             c->refund_id);
    perk_store_status status =
        pstore_replay_row(s, st, c->fingerprint, "looking up the refund", conflict, found);
    if (status != PERK_STORE_OK || !*found) return status;
    perk_store_refund_result *r = c->r;
    r->replay = true;
    r->amount = pstore_col_int64(st, 1);
    r->full = pstore_col_int64(st, 2) != 0;
    r->points_reversed = pstore_col_int64(st, 3);
    r->points_expired_part = pstore_col_int64(st, 4);
    r->points_shortfall = pstore_col_int64(st, 5);
    r->points_returned = pstore_col_int64(st, 6);
    r->budget_released = pstore_col_int64(st, 7) != 0;
    const char *tier = pstore_col_text(st, 8);
    snprintf(r->tier, sizeof r->tier, "%s", tier ? (const char *)tier : "");
    r->tier_changed = pstore_col_int64(st, 9) != 0;
    r->refunded_total = pstore_col_int64(st, 10);
    pstore_done(st);
    if (!r->full) return PERK_STORE_OK;
    /* the reward codes as the full refund left them: revoked by it, or kept (used) */
    st = pstore_stmt(s, "SELECT COALESCE(SUM(CASE WHEN c.revoked_by = 'refund' THEN 1 ELSE 0 END), 0),"
                        " COALESCE(SUM(CASE WHEN c.revoked_at IS NULL THEN 1 ELSE 0 END), 0)"
                        " FROM reward_coupons w JOIN coupons c ON c.code = w.code WHERE w.order_id = ?1");
    if (!st) return pstore_stmt_status(s);
    pstore_bind_text(st, 1, c->order_id);
    int rc = pstore_step(st);
    if (rc == PSTORE_ROW) {
        r->rewards_revoked = pstore_col_int64(st, 0);
        r->rewards_kept = pstore_col_int64(st, 1);
    }
    pstore_done(st);
    return rc == PSTORE_ROW ? PERK_STORE_OK : pstore_sqlfail(s, rc, "reading the order's reward coupons");
}

static perk_store_status load_order(refund_ctx *c)
{
    perk_store *s = c->s;
    pstore_st *st = pstore_stmt(s, "SELECT customer_id, payable, points_earned, points_redeemed "
                                      "FROM orders WHERE order_id = ?1");
    if (!st) return pstore_stmt_status(s);
    pstore_bind_text(st, 1, c->order_id);
    int rc = pstore_step(st);
    perk_store_status status = PERK_STORE_OK;
    if (rc == PSTORE_ROW) {
        const char *cust = pstore_col_text(st, 0);
        snprintf(c->customer, sizeof c->customer, "%s", cust ? (const char *)cust : "");
        c->payable = pstore_col_int64(st, 1);
        c->earned = pstore_col_int64(st, 2);
        c->redeemed = pstore_col_int64(st, 3);
    } else if (rc == PSTORE_DONE) {
        status = pstore_fail(s, PERK_STORE_NOT_FOUND, "order %s does not exist", c->order_id);
    } else {
        status = pstore_sqlfail(s, rc, "loading the order");
    }
    pstore_done(st);
    return status;
}

/* Refunded so far, reversal targets so far, and whether a refund already completed the order. */
static perk_store_status earlier_refunds(refund_ctx *c, int64_t *refunded, int64_t *targeted, bool *was_full)
{
    pstore_st *st = pstore_stmt(c->s, "SELECT COALESCE(SUM(amount), 0), "
                                         "COALESCE(SUM(points_target), 0), COALESCE(MAX(\"full\"), 0) "
                                         "FROM refunds WHERE order_id = ?1");
    if (!st) return pstore_stmt_status(c->s);
    pstore_bind_text(st, 1, c->order_id);
    int rc = pstore_step(st);
    perk_store_status status = PERK_STORE_OK;
    if (rc == PSTORE_ROW) {
        *refunded = pstore_col_int64(st, 0);
        *targeted = pstore_col_int64(st, 1);
        *was_full = pstore_col_int64(st, 2) != 0;
    } else {
        status = pstore_sqlfail(c->s, rc, "summing earlier refunds");
    }
    pstore_done(st);
    return status;
}

/* Takes `need` points back: the order's own unspent points, then the part that expired (gone
 * already, nothing to take), then other available points; the rest is a recorded debt. */
static perk_store_status reverse_points(refund_ctx *c, int64_t need)
{
    perk_store *s = c->s;
    perk_store_refund_result *r = c->r;
    pstore_replay rp;
    perk_store_status status = pstore_replay_customer(s, c->customer, &rp);
    if (status != PERK_STORE_OK) return status;
    char note[320];
    snprintf(note, sizeof note, "refund %s of order %s", c->refund_id, c->order_id);
    pstore_st *st = pstore_stmt(s, "SELECT id FROM ledger WHERE order_id = ?1 AND "
                                      "customer_id = ?2 AND kind = 'earn' ORDER BY id");
    if (!st) {
        pstore_replay_free(&rp);
        return pstore_stmt_status(s);
    }
    pstore_bind_text(st, 1, c->order_id);
    pstore_bind_text(st, 2, c->customer);
    enum { MAX_LOTS = 1000 };
    int64_t lot_ids[MAX_LOTS];
    size_t n = 0;
    int rc = PSTORE_DONE;
    while (n < MAX_LOTS && (rc = pstore_step(st)) == PSTORE_ROW) lot_ids[n++] = pstore_col_int64(st, 0);
    if (rc != PSTORE_ROW && rc != PSTORE_DONE) status = pstore_sqlfail(s, rc, "finding the order's points");
    pstore_done(st);
    for (size_t i = 0; status == PERK_STORE_OK && i < n && need > 0; i++) {
        pstore_lot *lot = pstore_replay_find(&rp, lot_ids[i]);
        if (!lot || lot->remaining == 0) continue;
        int64_t take = need < lot->remaining ? need : lot->remaining;
        /* A still-pending lot shrinks where it is pending; an available one from now on. */
        pstore_entry e = { .order_id = c->order_id,
                           .customer_id = c->customer,
                           .kind = "reverse",
                           .note = note,
                           .points = -take,
                           .created_at = c->now,
                           .available_at = lot->available_at > c->now ? lot->available_at : c->now,
                           .ref_id = lot->entry_id };
        status = pstore_ledger_append(s, &e, NULL);
        lot->remaining -= take;
        need -= take;
        r->points_reversed += take;
    }
    for (size_t i = 0; status == PERK_STORE_OK && i < n && need > 0; i++) {
        pstore_lot *lot = pstore_replay_find(&rp, lot_ids[i]);
        if (!lot || lot->expired == 0) continue;
        int64_t gone = need < lot->expired ? need : lot->expired;
        lot->expired -= gone;
        need -= gone;
        r->points_expired_part += gone;
    }
    pstore_replay_free(&rp);
    if (status != PERK_STORE_OK || need == 0) return status;
    int64_t available = 0, pending = 0;
    status = pstore_ledger_sums(s, c->customer, c->now, &available, &pending);
    if (status != PERK_STORE_OK) return status;
    int64_t take = available > 0 ? (need < available ? need : available) : 0;
    if (take > 0) {
        pstore_entry e = { .order_id = c->order_id,
                           .customer_id = c->customer,
                           .kind = "reverse",
                           .note = note,
                           .points = -take,
                           .created_at = c->now,
                           .available_at = c->now };
        status = pstore_ledger_append(s, &e, NULL);
        need -= take;
        r->points_reversed += take;
    }
    if (status != PERK_STORE_OK || need == 0) return status;
    /* The customer already spent these points: no negative balance, an explicit debt. */
    char debt_note[400];
    snprintf(debt_note, sizeof debt_note,
             "refund %s of order %s reverses %lld points the customer had already spent; "
             "collected from future earnings",
             c->refund_id, c->order_id, (long long)need);
    st = pstore_stmt(s, "INSERT INTO points_debts (customer_id, order_id, refund_id, points, "
                        "created_at, note) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    if (!st) return pstore_stmt_status(s);
    pstore_bind_text(st, 1, c->customer);
    pstore_bind_text(st, 2, c->order_id);
    pstore_bind_text(st, 3, c->refund_id);
    pstore_bind_int64(st, 4, need);
    pstore_bind_int64(st, 5, c->now);
    pstore_bind_text(st, 6, debt_note);
    status = pstore_step_done(s, st, "recording a points debt");
    r->points_shortfall = need;
    return status;
}

/* Gives back the points the order redeemed (a full cancellation). */
static perk_store_status return_redeemed(refund_ctx *c)
{
    if (c->redeemed == 0) return PERK_STORE_OK;
    int64_t expires_at = 0;
    if (!pstore_points_expiry(c->policy, c->now, &expires_at))
        return pstore_fail(c->s, PERK_STORE_INVALID, "points expiry date overflows");
    char note[320];
    snprintf(note, sizeof note, "points redeemed on order %s given back (refund %s)", c->order_id,
             c->refund_id);
    pstore_entry e = { .order_id = c->order_id,
                       .customer_id = c->customer,
                       .kind = "adjust",
                       .note = note,
                       .points = c->redeemed,
                       .created_at = c->now,
                       .available_at = c->now,
                       .expires_at = expires_at };
    int64_t lot_id = 0;
    perk_store_status status = pstore_ledger_append(c->s, &e, &lot_id);
    if (status == PERK_STORE_OK)
        status = pstore_collect_debt(c->s, c->customer, c->order_id, lot_id, c->redeemed, c->now, c->now,
                                     &c->debt_collected);
    c->r->points_returned = c->redeemed;
    return status;
}

static perk_store_status release_uses(refund_ctx *c)
{
    perk_store *s = c->s;
    static const char *const sql[] = {
        ("UPDATE budget_totals SET uses = uses - 1, money = money - (SELECT u.discount FROM "
         "budget_uses u WHERE u.order_id = ?1 AND u.ruleset = budget_totals.ruleset AND "
         "u.promo_id = budget_totals.promo_id AND u.released_at IS NULL) WHERE EXISTS (SELECT 1 "
         "FROM budget_uses u WHERE u.order_id = ?1 AND u.ruleset = budget_totals.ruleset AND "
         "u.promo_id = budget_totals.promo_id AND u.released_at IS NULL)"),
        "UPDATE budget_uses SET released_at = ?2 WHERE order_id = ?1 AND released_at IS NULL",
        ("UPDATE coupons SET uses = uses - 1 WHERE code IN (SELECT code FROM coupon_uses "
         "WHERE order_id = ?1 AND released_at IS NULL)"),
        "UPDATE coupon_uses SET released_at = ?2 WHERE order_id = ?1 AND released_at IS NULL",
    };
    for (size_t i = 0; i < sizeof sql / sizeof sql[0]; i++) {
        pstore_st *st = pstore_stmt(s, sql[i]);
        if (!st) return pstore_stmt_status(s);
        pstore_bind_text(st, 1, c->order_id);
        if (strstr(sql[i], "?2")) pstore_bind_int64(st, 2, c->now);
        perk_store_status status = pstore_step_done(s, st, "releasing budget and coupon uses");
        if (status != PERK_STORE_OK) return status;
    }
    c->r->budget_released = true;
    return PERK_STORE_OK;
}

/* Checks every refund line against the order's recorded lines: the line exists, and what was
 * already refunded on it plus this amount stays within its final amount. */
static perk_store_status check_lines(refund_ctx *c)
{
    perk_store *s = c->s;
    pstore_st *st = pstore_stmt(s, "SELECT COUNT(*) FROM order_lines WHERE order_id = ?1");
    if (!st) return pstore_stmt_status(s);
    pstore_bind_text(st, 1, c->order_id);
    int64_t n = 0;
    perk_store_status status = pstore_query_int(s, st, 0, &n, "counting the order's lines");
    if (status != PERK_STORE_OK) return status;
    if (n == 0)
        return pstore_fail(s, PERK_STORE_INVALID,
                           "refund %s: order %s was committed without its lines, so it cannot be "
                           "refunded by line; refund the whole order (no lines) instead",
                           c->refund_id, c->order_id);
    for (size_t i = 0; i < c->n_lines; i++) {
        const perk_store_refund_line *l = &c->lines[i];
        st = pstore_stmt(s, "SELECT amount, (SELECT COALESCE(SUM(r.amount), 0) FROM refund_lines r"
                            " WHERE r.order_id = ?1 AND r.line_id = ?2)"
                            " FROM order_lines WHERE order_id = ?1 AND line_id = ?2");
        if (!st) return pstore_stmt_status(s);
        pstore_bind_text(st, 1, c->order_id);
        pstore_bind_text(st, 2, l->line_id);
        int rc = pstore_step(st);
        int64_t paid = 0, refunded = 0;
        if (rc == PSTORE_ROW) {
            paid = pstore_col_int64(st, 0);
            refunded = pstore_col_int64(st, 1);
        }
        pstore_done(st);
        if (rc == PSTORE_DONE)
            return pstore_fail(s, PERK_STORE_INVALID,
                               "refund %s: order %s has no line %.100s; use the line ids the order "
                               "was committed with",
                               c->refund_id, c->order_id, l->line_id);
        if (rc != PSTORE_ROW) return pstore_sqlfail(s, rc, "reading an order line");
        if (l->amount > paid - refunded)
            return pstore_fail(s, PERK_STORE_INVALID,
                               "refund %s: line %s of order %s was paid %lld and %lld of it is "
                               "already refunded; at most %lld more can be refunded, not %lld",
                               c->refund_id, l->line_id, c->order_id, (long long)paid, (long long)refunded,
                               (long long)(paid - refunded), (long long)l->amount);
    }
    return PERK_STORE_OK;
}

static perk_store_status insert_refund_lines(refund_ctx *c)
{
    for (size_t i = 0; c->lines && i < c->n_lines; i++) {
        pstore_st *st = pstore_stmt(c->s, "INSERT INTO refund_lines (refund_id, order_id, "
                                             "line_id, amount) VALUES (?1, ?2, ?3, ?4)");
        if (!st) return pstore_stmt_status(c->s);
        pstore_bind_text(st, 1, c->refund_id);
        pstore_bind_text(st, 2, c->order_id);
        pstore_bind_text(st, 3, c->lines[i].line_id);
        pstore_bind_int64(st, 4, c->lines[i].amount);
        perk_store_status status = pstore_step_done(c->s, st, "recording a refunded line");
        if (status != PERK_STORE_OK) return status;
    }
    return PERK_STORE_OK;
}

static perk_store_status insert_refund(refund_ctx *c, const char *lines_text)
{
    const perk_store_refund_result *r = c->r;
    pstore_st *st =
        pstore_stmt(c->s, "INSERT INTO refunds (refund_id, order_id, amount, lines_json, fingerprint, "
                          "created_at, \"full\", points_target, points_reversed, points_expired, "
                          "points_shortfall, points_returned, budget_released, tier, tier_changed) "
                          "VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15)");
    if (!st) return pstore_stmt_status(c->s);
    pstore_bind_text(st, 1, c->refund_id);
    pstore_bind_text(st, 2, c->order_id);
    pstore_bind_int64(st, 3, r->amount);
    pstore_bind_text(st, 4, lines_text);
    pstore_bind_text(st, 5, c->fingerprint);
    pstore_bind_int64(st, 6, c->now);
    pstore_bind_int64(st, 7, r->full);
    pstore_bind_int64(st, 8, c->points_target);
    pstore_bind_int64(st, 9, r->points_reversed);
    pstore_bind_int64(st, 10, r->points_expired_part);
    pstore_bind_int64(st, 11, r->points_shortfall);
    pstore_bind_int64(st, 12, r->points_returned);
    pstore_bind_int64(st, 13, r->budget_released);
    pstore_bind_text(st, 14, r->tier);
    pstore_bind_int64(st, 15, r->tier_changed);
    return pstore_step_done(c->s, st, "recording the refund");
}

static perk_store_status save_tier(refund_ctx *c)
{
    pstore_st *st = pstore_stmt(c->s, "UPDATE refunds SET tier = ?2, tier_changed = ?3 "
                                         "WHERE refund_id = ?1");
    if (!st) return pstore_stmt_status(c->s);
    pstore_bind_text(st, 1, c->refund_id);
    pstore_bind_text(st, 2, c->r->tier);
    pstore_bind_int64(st, 3, c->r->tier_changed);
    return pstore_step_done(c->s, st, "recording the tier after the refund");
}

static perk_store_status apply_refund(refund_ctx *c, const char *lines_text)
{
    perk_store *s = c->s;
    perk_store_refund_result *r = c->r;
    perk_store_status status = load_order(c);
    if (status != PERK_STORE_OK) return status;
    int64_t refunded = 0, targeted = 0;
    bool was_full = false;
    status = earlier_refunds(c, &refunded, &targeted, &was_full);
    if (status != PERK_STORE_OK) return status;
    if (was_full)
        return pstore_fail(s, PERK_STORE_INVALID, "order %s is already fully refunded", c->order_id);
    int64_t rest = c->payable - refunded;
    if (!c->lines) {
        if (c->requested != 0 && c->requested != rest)
            return pstore_fail(s, PERK_STORE_INVALID,
                               "refund %s: a whole-order refund of order %s is %lld, not %lld", c->refund_id,
                               c->order_id, (long long)rest, (long long)c->requested);
        r->amount = rest;
    } else {
        r->amount = c->requested;
    }
    if (c->lines && r->amount == 0)
        return pstore_fail(s, PERK_STORE_INVALID, "refund %s: amount must be > 0", c->refund_id);
    if (r->amount > rest)
        return pstore_fail(s, PERK_STORE_INVALID,
                           "refund %s of %lld exceeds the %lld left to refund on order %s", c->refund_id,
                           (long long)r->amount, (long long)rest, c->order_id);
    if (c->lines) {
        status = check_lines(c);
        if (status != PERK_STORE_OK) return status;
    }
    r->refunded_total = refunded + r->amount;
    r->full = r->refunded_total == c->payable;

    /* The order keeps floor(E * (P - R) / P) points; everything else is reversed, cumulatively
     * over all refunds, so rounding never gives back more than E in total. */
    int64_t target_total;
    if (c->payable == 0)
        target_total = r->full ? c->earned : 0;
    else
        target_total =
            c->earned - (int64_t)((__int128)c->earned * (c->payable - r->refunded_total) / c->payable);
    c->points_target = target_total - targeted;

    int64_t expired = 0;
    status = pstore_expire_customer(s, c->customer, c->now, &expired);
    if (status == PERK_STORE_OK && c->points_target > 0) status = reverse_points(c, c->points_target);
    if (status == PERK_STORE_OK && r->full) status = return_redeemed(c);
    if (status == PERK_STORE_OK && r->full && c->release_budget) status = release_uses(c);
    /* 满500返50券: the order is cancelled, so the codes it earned go too (a partial refund keeps
     * them: the order still qualified in part, and the code may already be in the customer's hands) */
    if (status == PERK_STORE_OK && r->full)
        status = pstore_revoke_rewards(s, c->order_id, c->now, &r->rewards_revoked, &r->rewards_kept);
    /* The refund row goes in before the tier is computed: spend is net of it. */
    if (status == PERK_STORE_OK) status = insert_refund(c, lines_text);
    if (status == PERK_STORE_OK) status = insert_refund_lines(c);
    if (status != PERK_STORE_OK) return status;
    char tier_before[PERK_STORE_NAME_MAX];
    status = pstore_tier_update(s, c->policy, c->customer, c->now, "refund", r->tier, tier_before,
                                &r->tier_changed);
    if (status == PERK_STORE_OK) status = save_tier(c);
    if (status != PERK_STORE_OK) return status;
    json_t *ev = json_pack(
        "{s:s, s:s, s:s, s:I, s:I, s:I, s:b, s:o, s:I, s:I, s:I, s:I, s:b}", "order_id", c->order_id,
        "refund_id", c->refund_id, "customer_id", c->customer, "amount", (json_int_t)r->amount,
        "refunded_total", (json_int_t)r->refunded_total, "payable", (json_int_t)c->payable, "full", r->full,
        "lines", lines_json(c), "points_reversed", (json_int_t)r->points_reversed, "points_expired_part",
        (json_int_t)r->points_expired_part, "points_shortfall", (json_int_t)r->points_shortfall,
        "points_returned", (json_int_t)r->points_returned, "budget_released", r->budget_released);
    status = pstore_emit(s, "order.refunded", c->now, ev, NULL);
    if (status == PERK_STORE_OK &&
        (expired || r->points_reversed || r->points_shortfall || r->points_returned)) {
        pstore_points_delta d = { .reason = "refund",
                                  .order_id = c->order_id,
                                  .refund_id = c->refund_id,
                                  .reversed = r->points_reversed,
                                  .expired = expired,
                                  .returned = r->points_returned,
                                  .debt_collected = c->debt_collected,
                                  .shortfall = r->points_shortfall };
        status = pstore_emit_points_changed(s, c->customer, c->now, &d);
    }
    return status;
}

/* The refund's write transaction (pstore_write_txn may run it again): every output in c and
 * c->r is set afresh on each run. */
static perk_store_status refund_body(perk_store *s, void *arg)
{
    refund_ctx *c = arg;
    memset(c->r, 0, sizeof *c->r);
    c->customer[0] = '\0';
    c->payable = c->earned = c->redeemed = c->points_target = c->debt_collected = 0;
    bool found = false;
    perk_store_status status = load_previous(c, &found);
    if (status == PERK_STORE_OK && found) return PERK_STORE_OK; /* a replay only reads */
    if (status == PERK_STORE_OK) {
        /* a refund is dated by the store's clock: its `now` may not move reversals or returned
         * points' expiry */
        char what[300];
        snprintf(what, sizeof what, "refund %.200s", c->refund_id);
        int64_t store_now = c->now;
        status = pstore_check_time(s, c->now, what, &store_now);
    }
    if (status == PERK_STORE_OK) status = apply_refund(c, c->lines_text);
    return status;
}

perk_store_status perk_store_refund(perk_store *s, const char *order_id, const char *refund_id,
                                    const perk_store_refund_line *lines, size_t n_lines,
                                    int64_t refunded_amount, int64_t now, const perk_store_policy *policy,
                                    bool release_budget, perk_store_refund_result *result)
{
    perk_store_refund_result scratch;
    perk_store_refund_result *r = result ? result : &scratch;
    memset(r, 0, sizeof *r);
    if (!s) return PERK_STORE_INVALID;
    refund_ctx c = { .s = s,
                     .order_id = order_id,
                     .refund_id = refund_id,
                     .lines = lines,
                     .n_lines = n_lines,
                     .now = now,
                     .policy = policy,
                     .release_budget = release_budget,
                     .r = r };
    char *lines_text = NULL;
    perk_store_status status = validate(&c, refunded_amount);
    if (status == PERK_STORE_OK) status = fingerprint(&c, &lines_text);
    if (status != PERK_STORE_OK) goto out;
    char action[600];
    snprintf(action, sizeof action, "recording refund %s of order %s", refund_id, order_id);
    c.lines_text = lines_text;
    status = pstore_write_txn_idempotent(s, "starting the refund transaction", "committing the refund", refund_body, &c);
    if (status != PERK_STORE_OK) {
        pstore_rewrite_sql_error(s, action,
                                 s->commit_unknown ? "it may have been made: send the same refund again to find "
                                                     "out (a retry of a refund id is idempotent)"
                                                   : "nothing was changed");
        memset(r, 0, sizeof *r);
    }
out:
    free(lines_text);
    return status;
}
