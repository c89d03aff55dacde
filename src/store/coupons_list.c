/* coupons_list.c - every coupon code of the store (or of one campaign) with its verdict at a
 * given time, for `perk coupons list` and `perk coupons export`. One read transaction (a
 * consistent listing while checkouts use codes). */
#include "store_internal.h"

#include <stdio.h>
#include <string.h>

perk_store_status perk_store_coupons_list(perk_store *s, const char *campaign, int64_t now,
                                          perk_store_coupon_list_cb cb, void *ctx)
{
    if (!s || !cb)
        return s ? pstore_fail(s, PERK_STORE_INVALID, "coupons list: no callback") : PERK_STORE_INVALID;
    pstore_st *st = pstore_stmt(s, "SELECT code, campaign, expires_at, max_uses, max_per_customer, "
                                   "CASE WHEN only_customer IS NULL THEN 0 ELSE 1 END, uses, created_at, valid_from, revoked_at, "
                                   "revoked_by, revoke_reason FROM coupons "
                                   "WHERE CAST(?1 AS TEXT) IS NULL OR campaign = ?1 ORDER BY campaign, code");
    if (!st) return pstore_stmt_status(s);
    int rc;
    if (campaign) pstore_bind_text(st, 1, campaign);
    perk_store_status status = PERK_STORE_OK;
    while ((rc = pstore_step(st)) == PSTORE_ROW) {
        perk_store_coupon_info info;
        memset(&info, 0, sizeof info);
        snprintf(info.code, sizeof info.code, "%s", pstore_col_text(st, 0));
        snprintf(info.campaign, sizeof info.campaign, "%s", pstore_col_text(st, 1));
        info.expires_at = pstore_col_int64(st, 2);
        info.max_uses = pstore_col_int64(st, 3);
        info.max_per_customer = pstore_col_int64(st, 4);
        info.restricted = pstore_col_int64(st, 5) != 0;
        info.uses = pstore_col_int64(st, 6);
        info.created_at = pstore_col_int64(st, 7);
        info.valid_from = pstore_col_int64(st, 8);
        info.revoked_at = pstore_col_int64(st, 9);
        const char *by = pstore_col_text(st, 10), *why = pstore_col_text(st, 11);
        snprintf(info.revoked_by, sizeof info.revoked_by, "%s", by ? (const char *)by : "");
        snprintf(info.revoke_reason, sizeof info.revoke_reason, "%s", why ? (const char *)why : "");
        /* the verdict for anyone: the per-customer checks need a customer (perk coupons check) */
        info.max_per_customer = 0;
        info.status = pstore_coupon_verdict(&info, false, now);
        info.max_per_customer = pstore_col_int64(st, 4);
        if (cb(&info, ctx) != 0) {
            status = pstore_fail(s, PERK_STORE_IO, "coupons list: stopped by the caller (output failed)");
            break;
        }
    }
    if (status == PERK_STORE_OK && rc != PSTORE_DONE) status = pstore_sqlfail(s, rc, "listing coupons");
    pstore_done(st);
    return status;
}
