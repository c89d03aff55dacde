/* rewards.c - reward coupons in the store (满500返50券, `then coupon from "RETURN50"`,
 * docs/semantics.md "Reward coupons"). At commit, in the order's transaction: for each promotion
 * of the order whose rule in the order's published version rewards a coupon (read from that
 * program, never from the caller), one generated code of the campaign, usable once and only by the
 * order's customer, linked to the order in reward_coupons (one row per order and promotion, so a
 * replay finds the same codes), with a coupon.issued event. At a full refund, in the refund's
 * transaction: the order's codes no committed order used are revoked (coupon.revoked); used ones
 * are kept and counted. */
#include "store_internal.h"

#include "perk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static perk_store_status add_code(perk_store *s, perk_store_commit_result *r, const char *code,
                                  const char *campaign, const char *promo, int64_t valid_from, int64_t expires_at)
{
    perk_store_reward_code *grown = realloc(r->reward_codes, (r->n_reward_codes + 1) * sizeof *grown);
    if (!grown) return pstore_fail(s, PERK_STORE_NOMEM, "out of memory");
    r->reward_codes = grown;
    perk_store_reward_code *c = &r->reward_codes[r->n_reward_codes];
    memset(c, 0, sizeof *c);
    c->promo_id = strdup(promo);
    if (!c->promo_id) return pstore_fail(s, PERK_STORE_NOMEM, "out of memory");
    snprintf(c->code, sizeof c->code, "%s", code);
    snprintf(c->campaign, sizeof c->campaign, "%s", campaign);
    c->valid_from = valid_from;
    c->expires_at = expires_at;
    r->n_reward_codes++;
    return PERK_STORE_OK;
}

perk_store_status pstore_issue_rewards(perk_store *s, const perk_program *prog, const perk_store_order *o,
                                       int64_t now, perk_store_commit_result *r)
{
    if (!o->customer_id || !*o->customer_id) return PERK_STORE_OK; /* nobody to give it to */
    for (size_t i = 0; i < o->n_promos; i++) {
        const char *promo = o->promos[i].promo_id;
        long idx = perk_program_find_promotion(prog, promo);
        int64_t from = 0, until = 0, seconds = 0;
        const char *campaign =
            idx < 0 ? NULL : perk_program_promotion_reward_coupon(prog, (size_t)idx, &from, &until, &seconds);
        if (!campaign) continue;
        if (seconds > 0) { /* valid for `seconds` after the commit */
            from = now;
            if (__builtin_add_overflow(now, seconds, &until))
                return pstore_fail(s, PERK_STORE_INVALID, "promotion %s: its reward coupon's period overflows",
                                   promo);
        }
        if (until != 0 && until <= now) continue; /* its window is over: a code nobody could use */
        char norm[PERK_STORE_CODE_MAX];
        perk_store_status status = pstore_coupon_insert_generated(s, campaign, o->customer_id, now, from, until, norm);
        if (status != PERK_STORE_OK) return status;
        pstore_st *st = pstore_stmt(s, "INSERT INTO reward_coupons (order_id, promo_id, code) VALUES (?1, ?2, ?3)");
        if (!st) return pstore_stmt_status(s);
        pstore_bind_text(st, 1, o->order_id);
        pstore_bind_text(st, 2, promo);
        pstore_bind_text(st, 3, norm);
        if ((status = pstore_step_done(s, st, "linking the reward coupon to its order")) != PERK_STORE_OK)
            return status;
        /* the CRM sends the customer the code, as for one issued by hand */
        json_t *ev = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:s, s:s, s:s, s:b}", "code", norm, "campaign",
                               campaign, "customer_id", o->customer_id, "valid_from", (json_int_t)from,
                               "expires_at", (json_int_t)until, "max_uses", (json_int_t)1, "max_per_customer",
                               (json_int_t)1, "by", "order", "order_id", o->order_id, "promo_id", promo, "reward",
                               1);
        if (!ev) return pstore_fail(s, PERK_STORE_NOMEM, "out of memory writing the coupon.issued event");
        if ((status = pstore_emit(s, "coupon.issued", now, ev, NULL)) != PERK_STORE_OK) return status;
        if ((status = add_code(s, r, norm, campaign, promo, from ? from : now, until)) != PERK_STORE_OK)
            return status;
    }
    return PERK_STORE_OK;
}

perk_store_status pstore_load_rewards(perk_store *s, const char *order_id, perk_store_commit_result *r)
{
    pstore_st *st = pstore_stmt(s, "SELECT w.code, c.campaign, w.promo_id, c.valid_from, c.created_at, c.expires_at "
                                   "FROM reward_coupons w JOIN coupons c ON c.code = w.code WHERE w.order_id = ?1 "
                                   "ORDER BY c.created_at, w.promo_id");
    if (!st) return pstore_stmt_status(s);
    pstore_bind_text(st, 1, order_id);
    perk_store_status status = PERK_STORE_OK;
    int rc;
    while (status == PERK_STORE_OK && (rc = pstore_step(st)) == PSTORE_ROW) {
        const char *code = pstore_col_text(st, 0), *campaign = pstore_col_text(st, 1), *promo = pstore_col_text(st, 2);
        int64_t from = pstore_col_int64(st, 3);
        status = add_code(s, r, code ? code : "", campaign ? campaign : "", promo ? promo : "",
                          from ? from : pstore_col_int64(st, 4), pstore_col_int64(st, 5));
    }
    if (status == PERK_STORE_OK && rc != PSTORE_DONE) status = pstore_sqlfail(s, rc, "reading the order's reward coupons");
    pstore_done(st);
    return status;
}

/* Uses of `code` by committed orders not released by a cancellation. */
static perk_store_status committed_uses(perk_store *s, const char *code, int64_t *uses)
{
    pstore_st *st = pstore_stmt(s, "SELECT COUNT(*) FROM coupon_uses WHERE code = ?1 AND released_at IS NULL");
    if (!st) return pstore_stmt_status(s);
    pstore_bind_text(st, 1, code);
    return pstore_query_int(s, st, 0, uses, "counting the reward coupon's uses");
}

perk_store_status pstore_revoke_rewards(perk_store *s, const char *order_id, int64_t now, int64_t *revoked,
                                        int64_t *kept)
{
    *revoked = *kept = 0;
    perk_store_commit_result codes;
    memset(&codes, 0, sizeof codes);
    perk_store_status status = pstore_load_rewards(s, order_id, &codes);
    char reason[320];
    snprintf(reason, sizeof reason, "order %.255s refunded", order_id);
    for (size_t i = 0; status == PERK_STORE_OK && i < codes.n_reward_codes; i++) {
        const perk_store_reward_code *c = &codes.reward_codes[i];
        int64_t uses = 0;
        if ((status = committed_uses(s, c->code, &uses)) != PERK_STORE_OK) break;
        if (uses > 0) { /* spent on another order: that order keeps its discount, the code stays */
            ++*kept;
            continue;
        }
        pstore_st *st = pstore_stmt(s, "UPDATE coupons SET revoked_at = ?2, revoked_by = 'refund', revoke_reason = ?3 "
                                       "WHERE code = ?1 AND revoked_at IS NULL");
        if (!st) {
            status = pstore_stmt_status(s);
            break;
        }
        pstore_bind_text(st, 1, c->code);
        pstore_bind_int64(st, 2, now);
        pstore_bind_text(st, 3, reason);
        if ((status = pstore_step_done(s, st, "revoking the reward coupon")) != PERK_STORE_OK) break;
        if (pstore_changes(s) == 0) continue; /* revoked by hand before: nothing to do */
        ++*revoked;
        json_t *ev = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:b}", "code", c->code, "campaign", c->campaign,
                               "by", "refund", "reason", reason, "order_id", order_id, "uses", (json_int_t)0,
                               "held_by_reservations", (json_int_t)0, "reward", 1);
        if (!ev) {
            status = pstore_fail(s, PERK_STORE_NOMEM, "out of memory writing the coupon.revoked event");
            break;
        }
        status = pstore_emit(s, "coupon.revoked", now, ev, NULL);
    }
    perk_store_commit_result_free(&codes);
    return status;
}
