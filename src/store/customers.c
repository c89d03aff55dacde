/* customers.c - what the store knows of a customer: the membership record the CRM keeps in the
 * customers table (member_since), and the facts derived from the store's own records that a
 * checkout must not take from the cart (tier, available points, orders committed). */
#include "store_internal.h"

#include <stdio.h>
#include <string.h>

/* Days of 0001-01-01 and 9999-12-31: the dates a CRM can send (civil.h day numbers). */
#define CUSTOMER_MIN_DAYS (-719162)
#define CUSTOMER_MAX_DAYS 2932896

typedef struct customer_set_ctx {
    const char *customer;
    int64_t member_since_days, now;
} customer_set_ctx;

/* perk_store_customer_set's write transaction (may run again: it only writes in it). */
static perk_store_status customer_set_body(perk_store *s, void *arg)
{
    const customer_set_ctx *c = arg;
    const char *customer = c->customer;
    int64_t member_since_days = c->member_since_days, now = c->now;
    perk_store_status status;
    pstore_st *st =
        pstore_stmt(s, "INSERT INTO customers (customer_id, member_since, updated_at) "
                       "VALUES (?1, ?2, ?3) ON CONFLICT (customer_id) DO UPDATE "
                       "SET member_since = excluded.member_since, updated_at = excluded.updated_at");
    if (!st) {
        status = pstore_stmt_status(s);
    } else {
        pstore_bind_text(st, 1, customer);
        if (member_since_days == -1)
            pstore_bind_null(st, 2);
        else
            pstore_bind_int64(st, 2, member_since_days);
        pstore_bind_int64(st, 3, now);
        status = pstore_step_done(s, st, "recording a customer");
    }
    return status;
}

perk_store_status perk_store_customer_set(perk_store *s, const char *customer, int64_t member_since_days,
                                          int64_t now)
{
    if (!s) return PERK_STORE_INVALID;
    perk_store_status status = pstore_check_name(s, "customer id", customer, 255);
    if (status != PERK_STORE_OK) return status;
    if (member_since_days != -1 &&
        (member_since_days < CUSTOMER_MIN_DAYS || member_since_days > CUSTOMER_MAX_DAYS))
        return pstore_fail(s, PERK_STORE_INVALID,
                           "member_since of customer %s is day %lld: not a date from 0001-01-01 to "
                           "9999-12-31 (-1 = not a member)",
                           customer, (long long)member_since_days);
    customer_set_ctx c = { .customer = customer, .member_since_days = member_since_days, .now = now };
    return pstore_write_txn(s, "recording a customer", "committing the customer record", customer_set_body, &c);
}

/* The CRM's record, if any: out->has_record and out->member_since_days. */
static perk_store_status membership(perk_store *s, const char *customer, perk_store_customer_facts *out)
{
    pstore_st *st = pstore_stmt(s, "SELECT member_since FROM customers WHERE customer_id = ?1");
    if (!st) return pstore_stmt_status(s);
    pstore_bind_text(st, 1, customer);
    int rc = pstore_step(st);
    perk_store_status status = PERK_STORE_OK;
    if (rc == PSTORE_ROW) {
        out->has_record = true;
        out->member_since_days = pstore_col_is_null(st, 0) ? -1 : pstore_col_int64(st, 0);
    } else if (rc != PSTORE_DONE) {
        status = pstore_sqlfail(s, rc, "reading the customer record");
    }
    pstore_done(st);
    return status;
}

/* Committed orders of the customer that are not cancelled (fully refunded), `except` left out. */
static perk_store_status order_count(perk_store *s, const char *customer, const char *except, int64_t *count)
{
    pstore_st *st = pstore_stmt(s, "SELECT COUNT(*) FROM orders o WHERE o.customer_id = ?1"
                                      " AND (CAST(?2 AS TEXT) IS NULL OR o.order_id <> ?2)"
                                      " AND NOT EXISTS (SELECT 1 FROM refunds r"
                                      "   WHERE r.order_id = o.order_id AND r.full <> 0)");
    if (!st) return pstore_stmt_status(s);
    pstore_bind_text(st, 1, customer);
    if (except)
        pstore_bind_text(st, 2, except);
    else
        pstore_bind_null(st, 2);
    return pstore_query_int(s, st, 0, count, "counting the customer's orders");
}

/* What order `except` did to the customer: the points of its entries available at `now`, and the
 * tier before it when it changed the tier. */
static perk_store_status order_effect(perk_store *s, const char *customer, const char *except, int64_t now,
                                      int64_t *points, char tier_before[PERK_STORE_NAME_MAX],
                                      bool *tier_changed)
{
    *points = 0;
    *tier_changed = false;
    pstore_st *st = pstore_stmt(s, "SELECT COALESCE(SUM(points), 0) FROM ledger"
                                      " WHERE order_id = ?1 AND customer_id = ?2 AND available_at <= ?3");
    if (!st) return pstore_stmt_status(s);
    pstore_bind_text(st, 1, except);
    pstore_bind_text(st, 2, customer);
    pstore_bind_int64(st, 3, now);
    perk_store_status status = pstore_query_int(s, st, 0, points, "reading the order's points");
    if (status != PERK_STORE_OK) return status;
    st = pstore_stmt(s, "SELECT out_tier_changed, out_previous_tier FROM orders"
                        " WHERE order_id = ?1 AND customer_id = ?2");
    if (!st) return pstore_stmt_status(s);
    pstore_bind_text(st, 1, except);
    pstore_bind_text(st, 2, customer);
    int rc = pstore_step(st);
    if (rc == PSTORE_ROW && pstore_col_int64(st, 0) != 0) {
        const char *t = pstore_col_text(st, 1);
        snprintf(tier_before, PERK_STORE_NAME_MAX, "%s", t ? (const char *)t : "");
        *tier_changed = true;
    } else if (rc != PSTORE_ROW && rc != PSTORE_DONE) {
        status = pstore_sqlfail(s, rc, "reading the order's tier change");
    }
    pstore_done(st);
    return status;
}

perk_store_status perk_store_customer_get(perk_store *s, const char *customer, const char *except_order,
                                          int64_t now, perk_store_customer_facts *out)
{
    if (!s || !out) return s ? pstore_fail(s, PERK_STORE_INVALID, "no output given") : PERK_STORE_INVALID;
    memset(out, 0, sizeof *out);
    out->member_since_days = -1;
    perk_store_status status = pstore_check_name(s, "customer id", customer, 255);
    if (status != PERK_STORE_OK) return status;
    if (except_order && !*except_order) except_order = NULL;
    /* balance (expired points excluded) and the recorded tier */
    perk_store_points_summary p;
    status = perk_store_points(s, customer, now, NULL, &p);
    if (status != PERK_STORE_OK) return status;
    out->points_balance = p.balance;
    snprintf(out->tier, sizeof out->tier, "%s", p.tier);
    status = pstore_begin(s, false, "reading the customer's facts");
    if (status != PERK_STORE_OK) return status;
    status = membership(s, customer, out);
    if (status == PERK_STORE_OK) status = order_count(s, customer, except_order, &out->order_count);
    if (status == PERK_STORE_OK && except_order) {
        /* a retry of a committed order is priced as the first time: without its own effect */
        int64_t points = 0;
        char before[PERK_STORE_NAME_MAX];
        bool changed = false;
        status = order_effect(s, customer, except_order, now, &points, before, &changed);
        if (status == PERK_STORE_OK) {
            if (__builtin_sub_overflow(out->points_balance, points, &out->points_balance))
                status = pstore_fail(s, PERK_STORE_CORRUPT, "the points of customer %s overflow", customer);
            if (changed) memcpy(out->tier, before, sizeof out->tier);
        }
    }
    if (status != PERK_STORE_OK) {
        pstore_rollback(s);
        return status;
    }
    return pstore_commit(s, "finishing the customer read");
}
