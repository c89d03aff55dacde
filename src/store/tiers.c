/* tiers.c - loyalty tiers: checking a policy, computing a customer's tier from committed
 * spend (net of refunds) within each tier's window, and recording tier changes (with a
 * tier.changed event) at commit, refund and expiry time. */
#include "store_internal.h"

#include <stdio.h>
#include <string.h>

perk_store_status pstore_policy_check(perk_store *s, const perk_store_policy *p)
{
    if (!p) return PERK_STORE_OK;
    if (p->pending_seconds < 0 || p->expire_seconds < 0)
        return pstore_fail(s, PERK_STORE_INVALID, "policy pending_seconds and expire_seconds must be >= 0");
    if (p->expire_year_end < 0 || p->expire_year_end > 2 || (p->expire_year_end && p->expire_seconds))
        return pstore_fail(s, PERK_STORE_INVALID,
                           "policy expire_year_end must be 0, 1 or 2, and 0 when expire_seconds is set");
    if (p->zone_count > 0 && (!p->zone_at || !p->zone_offset))
        return pstore_fail(s, PERK_STORE_INVALID, "policy has %u zone transitions but no table",
                           (unsigned)p->zone_count);
    if (p->n_tiers > 0 && !p->tiers)
        return pstore_fail(s, PERK_STORE_INVALID, "policy has %zu tiers but no tier table", p->n_tiers);
    if (p->n_tiers > 64)
        return pstore_fail(s, PERK_STORE_INVALID, "policy has %zu tiers; at most 64", p->n_tiers);
    for (size_t i = 0; i < p->n_tiers; i++) {
        const perk_store_tier *t = &p->tiers[i];
        if (!t->name || !*t->name || strlen(t->name) >= PERK_STORE_NAME_MAX)
            return pstore_fail(s, PERK_STORE_INVALID, "tier %zu needs a name of 1..%d bytes", i,
                               PERK_STORE_NAME_MAX - 1);
        if (t->spend_threshold < 0 || t->window_seconds < 0)
            return pstore_fail(s, PERK_STORE_INVALID, "tier %s: threshold and window must be >= 0", t->name);
        if (i > 0 && t->spend_threshold < p->tiers[i - 1].spend_threshold)
            return pstore_fail(s, PERK_STORE_INVALID,
                               "tiers must be in ascending order of threshold (%s after %s)", t->name,
                               p->tiers[i - 1].name);
    }
    return PERK_STORE_OK;
}

/* Payable of the customer's orders in (from, to], minus what was refunded of them up to `to`. */
static perk_store_status net_spend(perk_store *s, const char *customer, int64_t from, int64_t to,
                                   int64_t *spend)
{
    pstore_st *st =
        pstore_stmt(s, "SELECT COALESCE(SUM(o.payable - (SELECT COALESCE(SUM(r.amount), 0) FROM refunds r"
                       "  WHERE r.order_id = o.order_id AND r.created_at <= ?3)), 0)"
                       " FROM orders o WHERE o.customer_id = ?1 AND o.time > ?2 AND o.time <= ?3");
    if (!st) return pstore_stmt_status(s);
    pstore_bind_text(st, 1, customer);
    pstore_bind_int64(st, 2, from);
    pstore_bind_int64(st, 3, to);
    return pstore_query_int(s, st, 0, spend, "computing spend for the tier");
}

perk_store_status pstore_tier_compute(perk_store *s, const perk_store_policy *policy, const char *customer,
                                      int64_t now, char tier[PERK_STORE_NAME_MAX])
{
    tier[0] = '\0';
    if (!policy) return PERK_STORE_OK;
    for (size_t i = policy->n_tiers; i-- > 0;) {
        const perk_store_tier *t = &policy->tiers[i];
        int64_t from = INT64_MIN;
        if (t->window_seconds > 0 && __builtin_sub_overflow(now, t->window_seconds, &from)) from = INT64_MIN;
        int64_t spend = 0;
        perk_store_status status = net_spend(s, customer, from, now, &spend);
        if (status != PERK_STORE_OK) return status;
        if (spend >= t->spend_threshold) {
            snprintf(tier, PERK_STORE_NAME_MAX, "%s", t->name);
            return PERK_STORE_OK;
        }
    }
    return PERK_STORE_OK;
}

perk_store_status pstore_tier_recorded(perk_store *s, const char *customer, char tier[PERK_STORE_NAME_MAX])
{
    tier[0] = '\0';
    pstore_st *st = pstore_stmt(s, "SELECT tier FROM tier_state WHERE customer_id = ?1");
    if (!st) return pstore_stmt_status(s);
    pstore_bind_text(st, 1, customer);
    int rc = pstore_step(st);
    perk_store_status status = PERK_STORE_OK;
    if (rc == PSTORE_ROW) {
        const char *t = pstore_col_text(st, 0);
        snprintf(tier, PERK_STORE_NAME_MAX, "%s", t ? (const char *)t : "");
    } else if (rc != PSTORE_DONE) {
        status = pstore_sqlfail(s, rc, "reading the recorded tier");
    }
    pstore_done(st);
    return status;
}

static int tier_rank(const perk_store_policy *policy, const char *name)
{
    for (size_t i = 0; i < policy->n_tiers; i++)
        if (strcmp(policy->tiers[i].name, name) == 0) return (int)i;
    return -1; /* no tier, or a tier the current policy no longer has */
}

perk_store_status pstore_tier_update(perk_store *s, const perk_store_policy *policy, const char *customer,
                                     int64_t now, const char *reason, char tier_out[PERK_STORE_NAME_MAX],
                                     char previous_out[PERK_STORE_NAME_MAX], bool *changed)
{
    tier_out[0] = previous_out[0] = '\0';
    *changed = false;
    if (!policy || policy->n_tiers == 0) return PERK_STORE_OK;
    perk_store_status status = pstore_tier_compute(s, policy, customer, now, tier_out);
    if (status == PERK_STORE_OK) status = pstore_tier_recorded(s, customer, previous_out);
    if (status != PERK_STORE_OK || strcmp(tier_out, previous_out) == 0) return status;
    pstore_st *st = pstore_stmt(s, "INSERT INTO tier_state (customer_id, tier, changed_at) "
                                      "VALUES (?1, ?2, ?3) ON CONFLICT (customer_id) DO UPDATE "
                                      "SET tier = excluded.tier, changed_at = excluded.changed_at");
    if (!st) return pstore_stmt_status(s);
    pstore_bind_text(st, 1, customer);
    pstore_bind_text(st, 2, tier_out);
    pstore_bind_int64(st, 3, now);
    status = pstore_step_done(s, st, "recording the tier");
    if (status != PERK_STORE_OK) return status;
    bool up = tier_rank(policy, tier_out) > tier_rank(policy, previous_out);
    json_t *ev = json_pack("{s:s, s:o, s:o, s:s, s:s}", "customer_id", customer, "from",
                           *previous_out ? json_string(previous_out) : json_null(), "to",
                           *tier_out ? json_string(tier_out) : json_null(), "direction", up ? "up" : "down",
                           "reason", reason);
    status = pstore_emit(s, "tier.changed", now, ev, NULL);
    if (status == PERK_STORE_OK) *changed = true;
    return status;
}
