/* reservations.c - reservations: the budget and coupon uses a priced cart holds for a TTL, so
 * that the price seen at checkout is the price at payment (store.h, "reservations").
 *
 * A reservation is a row in `reservations` and one row per hold in `reservation_holds` (a
 * promotion's use with its discount, or a coupon code's use). Holds count while the reservation
 * is 'open' and expires_at > the store's clock: an expired reservation stops counting at that
 * instant without any write (the counting queries say so), and is marked 'expired' lazily by the
 * next reserve or commit, or by a sweep. perk_store_reserve itself lives in orders.c, where the
 * checks of a commit are. */
#include "store_internal.h"

#include <stdio.h>
#include <string.h>

static const char *const state_names[] = {
#define PSTORE_RESERVATION_NAME(name, text) text,
    PERK_STORE_RESERVATION_STATE_LIST(PSTORE_RESERVATION_NAME)
#undef PSTORE_RESERVATION_NAME
};

const char *perk_store_reservation_state_name(perk_store_reservation_state state)
{
    if ((unsigned)state >= sizeof state_names / sizeof state_names[0]) return "unknown";
    return state_names[state];
}

perk_store_status perk_store_exclude_reservation(perk_store *s, const char *id)
{
    if (!s) return PERK_STORE_INVALID;
    if (!id) {
        s->own_reservation[0] = '\0';
        return PERK_STORE_OK;
    }
    perk_store_status st = pstore_check_name(s, "reservation id", id, sizeof s->own_reservation - 1);
    if (st != PERK_STORE_OK) return st;
    snprintf(s->own_reservation, sizeof s->own_reservation, "%s", id);
    return PERK_STORE_OK;
}

perk_store_status pstore_held_budget(perk_store *s, const char *ruleset, const char *promo,
                                     const char *customer, int64_t now, int64_t *uses, int64_t *money,
                                     int64_t *customer_uses)
{
    *uses = *money = 0;
    if (customer_uses) *customer_uses = 0;
    pstore_st *st =
        pstore_stmt(s, "SELECT COUNT(*), COALESCE(SUM(h.discount), 0),"
                       " COALESCE(SUM(CASE WHEN h.customer_id = ?3 THEN 1 ELSE 0 END), 0)"
                       " FROM reservation_holds h JOIN reservations r ON r.id = h.reservation_id"
                       " WHERE h.ruleset = ?1 AND h.promo_id = ?2 AND r.state = 'open'"
                       " AND r.expires_at > ?4 AND r.id <> ?5");
    if (!st) return pstore_stmt_status(s);
    pstore_bind_text(st, 1, ruleset);
    pstore_bind_text(st, 2, promo);
    pstore_bind_text(st, 3, customer ? customer : "");
    pstore_bind_int64(st, 4, now);
    pstore_bind_text(st, 5, s->own_reservation);
    int rc = pstore_step(st);
    perk_store_status status = PERK_STORE_OK;
    if (rc == PSTORE_ROW) {
        *uses = pstore_col_int64(st, 0);
        *money = pstore_col_int64(st, 1);
        if (customer_uses) *customer_uses = pstore_col_int64(st, 2);
    } else {
        status = pstore_sqlfail(s, rc, "counting the budget held by reservations");
    }
    pstore_done(st);
    return status;
}

perk_store_status pstore_held_coupon(perk_store *s, const char *code, const char *customer, int64_t now,
                                     int64_t *uses, int64_t *customer_uses)
{
    *uses = *customer_uses = 0;
    pstore_st *st =
        pstore_stmt(s, "SELECT COUNT(*), COALESCE(SUM(CASE WHEN h.customer_id = ?2 THEN 1 ELSE 0 END), 0)"
                       " FROM reservation_holds h JOIN reservations r ON r.id = h.reservation_id"
                       " WHERE h.code = ?1 AND r.state = 'open' AND r.expires_at > ?3"
                       " AND r.id <> ?4");
    if (!st) return pstore_stmt_status(s);
    pstore_bind_text(st, 1, code);
    pstore_bind_text(st, 2, customer ? customer : "");
    pstore_bind_int64(st, 3, now);
    pstore_bind_text(st, 4, s->own_reservation);
    int rc = pstore_step(st);
    perk_store_status status = PERK_STORE_OK;
    if (rc == PSTORE_ROW) {
        *uses = pstore_col_int64(st, 0);
        *customer_uses = pstore_col_int64(st, 1);
    } else {
        status = pstore_sqlfail(s, rc, "counting the coupon uses held by reservations");
    }
    pstore_done(st);
    return status;
}

perk_store_status pstore_expire_reservations(perk_store *s, int64_t now, int64_t *expired)
{
    pstore_st *st = pstore_stmt(s, "UPDATE reservations SET state = 'expired', ended_at = expires_at"
                                      " WHERE state = 'open' AND expires_at <= ?1");
    if (!st) return pstore_stmt_status(s);
    pstore_bind_int64(st, 1, now);
    perk_store_status status = pstore_step_done(s, st, "marking expired reservations");
    if (status == PERK_STORE_OK && expired) *expired = pstore_changes(s);
    return status;
}

perk_store_status pstore_reservation_is_open(perk_store *s, const char *id, const char *customer, int64_t now,
                                             bool *open)
{
    *open = false;
    pstore_st *st = pstore_stmt(s, "SELECT customer_id FROM reservations"
                                      " WHERE id = ?1 AND state = 'open' AND expires_at > ?2");
    if (!st) return pstore_stmt_status(s);
    pstore_bind_text(st, 1, id);
    pstore_bind_int64(st, 2, now);
    int rc = pstore_step(st);
    perk_store_status status = PERK_STORE_OK;
    if (rc == PSTORE_ROW) {
        const char *who = pstore_col_text(st, 0);
        if (!who || strcmp((const char *)who, customer) != 0)
            status =
                pstore_fail(s, PERK_STORE_INVALID,
                            "reservation %.200s holds uses for customer %.200s, not for %.200s: an order "
                            "consumes only its own customer's reservation",
                            id, who ? (const char *)who : "", customer);
        else
            *open = true;
    } else if (rc != PSTORE_DONE) {
        status = pstore_sqlfail(s, rc, "looking up a reservation");
    }
    pstore_done(st);
    return status;
}

perk_store_status pstore_reservation_check_new(perk_store *s, const char *id)
{
    pstore_st *st = pstore_stmt(s, "SELECT COUNT(*) FROM reservations WHERE id = ?1");
    if (!st) return pstore_stmt_status(s);
    pstore_bind_text(st, 1, id);
    int64_t n = 0;
    perk_store_status status = pstore_query_int(s, st, 0, &n, "looking up a reservation id");
    if (status == PERK_STORE_OK && n)
        status = pstore_fail(s, PERK_STORE_CONFLICT,
                             "reservation id %.200s is taken; a reservation id is used once", id);
    return status;
}

perk_store_status pstore_reservation_insert(perk_store *s, const char *id, const perk_store_order *o,
                                            char (*codes)[PERK_STORE_CODE_MAX], int64_t now,
                                            int64_t expires_at)
{
    pstore_st *st =
        pstore_stmt(s, "INSERT INTO reservations (id, customer_id, order_id, ruleset,"
                       " ruleset_version, created_at, expires_at) VALUES (?1,?2,?3,?4,?5,?6,?7)");
    if (!st) return pstore_stmt_status(s);
    pstore_bind_text(st, 1, id);
    pstore_bind_text(st, 2, o->customer_id);
    pstore_bind_text(st, 3, o->order_id);
    pstore_bind_text(st, 4, o->ruleset);
    pstore_bind_int64(st, 5, o->ruleset_version);
    pstore_bind_int64(st, 6, now);
    pstore_bind_int64(st, 7, expires_at);
    int rc = pstore_step(st);
    pstore_done(st);
    if ((rc & 0xff) == PSTORE_CONSTRAINT)
        return pstore_fail(s, PERK_STORE_CONFLICT,
                           "reservation id %.200s is taken; a reservation id is used once", id);
    if (rc != PSTORE_DONE) return pstore_sqlfail(s, rc, "recording the reservation");
    perk_store_status status = PERK_STORE_OK;
    for (size_t i = 0; status == PERK_STORE_OK && i < o->n_promos; i++) {
        st = pstore_stmt(s, "INSERT INTO reservation_holds (reservation_id, customer_id, ruleset, promo_id,"
                            " discount, units) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
        if (!st) return pstore_stmt_status(s);
        pstore_bind_text(st, 1, id);
        pstore_bind_text(st, 2, o->customer_id);
        pstore_bind_text(st, 3, o->ruleset);
        pstore_bind_text(st, 4, o->promos[i].promo_id);
        pstore_bind_int64(st, 5, o->promos[i].discount);
        pstore_bind_int64(st, 6, o->promo_units ? o->promo_units[i].units : 0);
        status = pstore_step_done(s, st, "recording a budget hold");
    }
    for (size_t i = 0; status == PERK_STORE_OK && i < o->n_coupons; i++) {
        st = pstore_stmt(s, "INSERT INTO reservation_holds (reservation_id, customer_id, code)"
                            " VALUES (?1, ?2, ?3)");
        if (!st) return pstore_stmt_status(s);
        pstore_bind_text(st, 1, id);
        pstore_bind_text(st, 2, o->customer_id);
        pstore_bind_text(st, 3, codes[i]);
        status = pstore_step_done(s, st, "recording a coupon hold");
    }
    return status;
}

perk_store_status pstore_reservation_consume(perk_store *s, const char *id, const char *order_id, int64_t now)
{
    pstore_st *st = pstore_stmt(s, "UPDATE reservations SET state = 'committed', ended_at = ?3,"
                                      " order_id = ?2 WHERE id = ?1 AND state = 'open'");
    if (!st) return pstore_stmt_status(s);
    pstore_bind_text(st, 1, id);
    pstore_bind_text(st, 2, order_id);
    pstore_bind_int64(st, 3, now);
    return pstore_step_done(s, st, "ending the consumed reservation");
}

static perk_store_reservation_state state_of(const char *text)
{
    for (size_t i = 0; i < sizeof state_names / sizeof state_names[0]; i++)
        if (strcmp(text, state_names[i]) == 0) return (perk_store_reservation_state)i;
    return PERK_STORE_RESERVATION_EXPIRED; /* the CHECK constraint allows nothing else */
}

perk_store_status perk_store_reservation_get(perk_store *s, const char *id, perk_store_reservation_info *out)
{
    if (!s) return PERK_STORE_INVALID;
    if (!out) return pstore_fail(s, PERK_STORE_INVALID, "no output given for the reservation");
    memset(out, 0, sizeof *out);
    perk_store_status status = pstore_check_name(s, "reservation id", id, 255);
    if (status != PERK_STORE_OK) return status;
    int64_t now = perk_store_now(s);
    status = pstore_begin(s, false, "reading a reservation");
    if (status != PERK_STORE_OK) return status;
    pstore_st *st = pstore_stmt(
        s, "SELECT customer_id, order_id, ruleset_version, created_at, expires_at, state, ended_at,"
           " (SELECT COUNT(promo_id) FROM reservation_holds WHERE reservation_id = ?1),"
           " (SELECT COUNT(code) FROM reservation_holds WHERE reservation_id = ?1),"
           " (SELECT COALESCE(SUM(discount), 0) FROM reservation_holds WHERE reservation_id = ?1)"
           " FROM reservations WHERE id = ?1");
    if (!st) {
        status = pstore_stmt_status(s);
        pstore_rollback(s);
        return status;
    }
    pstore_bind_text(st, 1, id);
    int rc = pstore_step(st);
    if (rc == PSTORE_ROW) {
        const char *cust = pstore_col_text(st, 0), *order = pstore_col_text(st, 1);
        const char *state = pstore_col_text(st, 5);
        snprintf(out->customer_id, sizeof out->customer_id, "%s", cust ? (const char *)cust : "");
        snprintf(out->order_id, sizeof out->order_id, "%s", order ? (const char *)order : "");
        out->ruleset_version = pstore_col_int64(st, 2);
        out->created_at = pstore_col_int64(st, 3);
        out->expires_at = pstore_col_int64(st, 4);
        out->state = state_of(state ? (const char *)state : "");
        out->ended_at = pstore_col_int64(st, 6);
        out->promos = pstore_col_int64(st, 7);
        out->coupons = pstore_col_int64(st, 8);
        out->discount = pstore_col_int64(st, 9);
        if (out->state == PERK_STORE_RESERVATION_OPEN && out->expires_at <= now) {
            /* expired, not marked yet: it stopped counting when its TTL ended */
            out->state = PERK_STORE_RESERVATION_EXPIRED;
            out->ended_at = out->expires_at;
        }
        status = PERK_STORE_OK;
    } else if (rc == PSTORE_DONE) {
        status = pstore_fail(s, PERK_STORE_NOT_FOUND, "no reservation %.200s", id);
    } else {
        status = pstore_sqlfail(s, rc, "reading a reservation");
    }
    pstore_done(st);
    if (status != PERK_STORE_OK) {
        pstore_rollback(s);
        return status;
    }
    return pstore_commit(s, "finishing the reservation read");
}

typedef struct release_ctx {
    const char *id;
    int64_t now;
    bool released;
} release_ctx;

/* The release's write transaction (may run again: c->released is set afresh). */
static perk_store_status release_body(perk_store *s, void *arg)
{
    release_ctx *c = arg;
    const char *id = c->id;
    int64_t now = c->now;
    c->released = false;
    perk_store_status status = pstore_expire_reservations(s, now, NULL);
    pstore_st *st = NULL;
    if (status == PERK_STORE_OK) {
        st = pstore_stmt(s, "SELECT state FROM reservations WHERE id = ?1");
        if (!st) status = pstore_stmt_status(s);
    }
    if (status == PERK_STORE_OK) {
        pstore_bind_text(st, 1, id);
        int rc = pstore_step(st);
        const char *state = rc == PSTORE_ROW ? pstore_col_text(st, 0) : NULL;
        bool open = state && strcmp((const char *)state, "open") == 0;
        bool committed = state && strcmp((const char *)state, "committed") == 0;
        pstore_done(st);
        if (rc == PSTORE_DONE)
            status = pstore_fail(s, PERK_STORE_NOT_FOUND, "no reservation %.200s", id);
        else if (rc != PSTORE_ROW)
            status = pstore_sqlfail(s, rc, "looking up a reservation");
        else if (committed)
            status = pstore_fail(s, PERK_STORE_CONFLICT,
                                 "reservation %.200s was consumed by an order; cancel the order instead", id);
        else if (open) {
            st = pstore_stmt(s, "UPDATE reservations SET state = 'released', ended_at = ?2 WHERE id = ?1");
            if (!st) {
                status = pstore_stmt_status(s);
            } else {
                pstore_bind_text(st, 1, id);
                pstore_bind_int64(st, 2, now);
                status = pstore_step_done(s, st, "releasing the reservation");
                if (status == PERK_STORE_OK) c->released = true;
            }
        }
    }
    return status;
}

perk_store_status perk_store_reservation_release(perk_store *s, const char *id, bool *released)
{
    if (released) *released = false;
    if (!s) return PERK_STORE_INVALID;
    perk_store_status status = pstore_check_name(s, "reservation id", id, 255);
    if (status != PERK_STORE_OK) return status;
    release_ctx c = { .id = id, .now = perk_store_now(s) };
    status = pstore_write_txn(s, "starting the reservation release", "committing the reservation release",
                              release_body, &c);
    if (status == PERK_STORE_OK && released) *released = c.released;
    return status;
}

typedef struct sweep_ctx {
    int64_t now, expired;
} sweep_ctx;

/* The sweep's write transaction (may run again: c->expired is set afresh). */
static perk_store_status sweep_body(perk_store *s, void *arg)
{
    sweep_ctx *c = arg;
    c->expired = 0;
    return pstore_expire_reservations(s, c->now, &c->expired);
}

perk_store_status perk_store_reservations_sweep(perk_store *s, int64_t *expired)
{
    if (expired) *expired = 0;
    if (!s) return PERK_STORE_INVALID;
    sweep_ctx c = { .now = perk_store_now(s) };
    perk_store_status status = pstore_write_txn(s, "starting the reservation sweep",
                                                "committing the reservation sweep", sweep_body, &c);
    if (status == PERK_STORE_OK && expired) *expired = c.expired;
    return status;
}

perk_store_status perk_store_reservations_open(perk_store *s, int64_t *open)
{
    if (!s || !open) return PERK_STORE_INVALID;
    *open = 0;
    pstore_st *st =
        pstore_stmt(s, "SELECT COUNT(*) FROM reservations WHERE state = 'open' AND expires_at > ?1");
    if (!st) return pstore_stmt_status(s);
    pstore_bind_int64(st, 1, perk_store_now(s));
    return pstore_query_int(s, st, 0, open, "counting open reservations");
}
