/* units.c - `limit N units per customer` in the store: the units a customer has bought at a
 * promotion's price, counted over the budget uses of their orders not released by a refund and the
 * holds of their open reservations (docs/semantics.md 5.7). The check against N is in orders.c
 * (check_budgets_and_coupons), inside the commit's or the reservation's write transaction, so
 * concurrent orders cannot both take the last units. */
#include "store_internal.h"

perk_store_status pstore_customer_units(perk_store *s, const char *ruleset, const char *promo, const char *customer,
                                        const char *exclude_order, int64_t now, int64_t *units)
{
    *units = 0;
    pstore_st *st = pstore_stmt(s, "SELECT COALESCE(SUM(units), 0) FROM budget_uses WHERE ruleset = ?1 AND "
                                   "promo_id = ?2 AND customer_id = ?3 AND released_at IS NULL AND order_id <> ?4");
    if (!st) return pstore_stmt_status(s);
    pstore_bind_text(st, 1, ruleset);
    pstore_bind_text(st, 2, promo);
    pstore_bind_text(st, 3, customer);
    pstore_bind_text(st, 4, exclude_order ? exclude_order : "");
    int64_t bought = 0, held = 0;
    perk_store_status status = pstore_query_int(s, st, 0, &bought, "counting the customer's units at a price");
    if (status != PERK_STORE_OK) return status;
    st = pstore_stmt(s, "SELECT COALESCE(SUM(h.units), 0) FROM reservation_holds h JOIN reservations r"
                        " ON r.id = h.reservation_id WHERE h.ruleset = ?1 AND h.promo_id = ?2"
                        " AND h.customer_id = ?3 AND r.state = 'open' AND r.expires_at > ?4 AND r.id <> ?5");
    if (!st) return pstore_stmt_status(s);
    pstore_bind_text(st, 1, ruleset);
    pstore_bind_text(st, 2, promo);
    pstore_bind_text(st, 3, customer);
    pstore_bind_int64(st, 4, now);
    pstore_bind_text(st, 5, s->own_reservation);
    status = pstore_query_int(s, st, 0, &held, "counting the units held by reservations");
    if (status != PERK_STORE_OK) return status;
    if (__builtin_add_overflow(bought, held, units))
        return pstore_fail(s, PERK_STORE_INVALID, "promotion %s: unit count overflows", promo);
    return PERK_STORE_OK;
}

perk_store_status perk_store_customer_units(perk_store *s, const char *ruleset, const char *promo_id,
                                            const char *customer_id, const char *exclude_order_id, int64_t *units)
{
    if (!s || !units) return PERK_STORE_INVALID;
    *units = 0;
    perk_store_status status = pstore_check_name(s, "rule-set name", ruleset, 255);
    if (status == PERK_STORE_OK) status = pstore_check_name(s, "promotion id", promo_id, 255);
    if (status != PERK_STORE_OK) return status;
    if (!customer_id || !*customer_id) return PERK_STORE_OK; /* a guest has bought nothing */
    status = pstore_begin(s, false, "reading a customer's units");
    if (status != PERK_STORE_OK) return status;
    int64_t u = 0;
    status = pstore_customer_units(s, ruleset, promo_id, customer_id, exclude_order_id, perk_store_now(s), &u);
    if (status != PERK_STORE_OK) {
        pstore_rollback(s);
        return status;
    }
    status = pstore_commit(s, "finishing the units read");
    if (status == PERK_STORE_OK) *units = u;
    return status;
}
