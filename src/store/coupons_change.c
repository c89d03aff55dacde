/* coupons_change.c - codes changed in place (store.h, perk_store_coupons_change): a campaign's
 * codes, or one code, get a new end of period or new limits in one write transaction, checked
 * against every code first (a code that would end before it starts, or allow fewer uses than it
 * has had, refuses the whole change), audited and announced by one outbox event. Revoked codes
 * are left as they are. Set-oriented: one UPDATE, whatever the campaign's size. */
#include "store_internal.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

/* The codes a change is about: ?1 the campaign (?2 = 0) or the normalised code (?2 = 1). */
#define TARGET "((?2 = 0 AND campaign = ?1) OR (?2 = 1 AND code = ?1))"

typedef struct change_ctx {
    const perk_store_coupon_change *in;
    const char *key; /* the campaign or the normalised code */
    int by_code;
    int64_t now;
    perk_store_coupon_change_result out;
} change_ctx;

/* The first code of the change that cannot take it (*code "" when none), with a number to say why. */
static perk_store_status first_refusal(perk_store *s, const char *sql, const change_ctx *c, int64_t value,
                                       bool with_now, char *code, size_t cap, int64_t *why)
{
    pstore_st *q = pstore_stmt(s, sql);
    if (!q) return pstore_stmt_status(s);
    pstore_bind_text(q, 1, c->key);
    pstore_bind_int64(q, 2, c->by_code);
    pstore_bind_int64(q, 3, value);
    if (with_now) pstore_bind_int64(q, 4, c->now);
    int rc = pstore_step(q);
    code[0] = '\0';
    *why = 0;
    if (rc == PSTORE_ROW) {
        const char *t = pstore_col_text(q, 0);
        snprintf(code, cap, "%s", t ? t : "");
        *why = pstore_col_int64(q, 1);
        rc = PSTORE_DONE;
    }
    perk_store_status st = rc == PSTORE_DONE ? PERK_STORE_OK : pstore_sqlfail(s, rc, "checking the coupons");
    pstore_done(q);
    return st;
}

/* perk_store_coupons_change's write transaction (may run again: its output is set afresh). */
static perk_store_status change_body(perk_store *s, void *arg)
{
    change_ctx *c = arg;
    const perk_store_coupon_change *in = c->in;
    memset(&c->out, 0, sizeof c->out);
    const char *what = c->by_code ? "coupon" : "campaign";
    pstore_st *q = pstore_stmt(s, "SELECT COUNT(*), COALESCE(SUM(CASE WHEN revoked_at IS NULL THEN 0 ELSE 1 END), 0)"
                                  " FROM coupons WHERE " TARGET);
    if (!q) return pstore_stmt_status(s);
    pstore_bind_text(q, 1, c->key);
    pstore_bind_int64(q, 2, c->by_code);
    int rc = pstore_step(q);
    int64_t total = 0, revoked = 0;
    if (rc == PSTORE_ROW) {
        total = pstore_col_int64(q, 0);
        revoked = pstore_col_int64(q, 1);
        rc = PSTORE_DONE;
    }
    perk_store_status st = rc == PSTORE_DONE ? PERK_STORE_OK : pstore_sqlfail(s, rc, "counting the coupons");
    pstore_done(q);
    if (st != PERK_STORE_OK) return st;
    if (total == 0)
        return pstore_fail(s, PERK_STORE_NOT_FOUND, "%s %s has no code: nothing to change", what, c->key);
    if (total == revoked)
        return pstore_fail(s, PERK_STORE_CONFLICT, "every code of %s %s is revoked: nothing to change", what, c->key);
    char code[PERK_STORE_CODE_MAX];
    int64_t why = 0;
    if (in->set_expires_at && in->expires_at != 0) {
        st = first_refusal(s,
                           "SELECT code, valid_from FROM coupons WHERE " TARGET
                           " AND revoked_at IS NULL AND valid_from >= ?3 ORDER BY code LIMIT 1",
                           c, in->expires_at, false, code, sizeof code, &why);
        if (st != PERK_STORE_OK) return st;
        if (code[0])
            return pstore_fail(s, PERK_STORE_CONFLICT,
                               "coupon %s is valid from %lld, not before the new end %lld: it would never be "
                               "valid; nothing was changed",
                               code, (long long)why, (long long)in->expires_at);
    }
    if (in->set_max_uses && in->max_uses != 0) {
        /* committed uses and those open reservations hold (pstore_held_coupon's count) */
        st = first_refusal(s,
                           "SELECT code, u FROM (SELECT c.code AS code, c.uses + (SELECT COUNT(*) FROM"
                           " reservation_holds h JOIN reservations r ON r.id = h.reservation_id WHERE h.code = c.code"
                           " AND r.state = 'open' AND r.expires_at > ?4) AS u FROM coupons c WHERE " TARGET
                           " AND c.revoked_at IS NULL) t WHERE u > ?3 ORDER BY code LIMIT 1",
                           c, in->max_uses, true, code, sizeof code, &why);
        if (st != PERK_STORE_OK) return st;
        if (code[0])
            return pstore_fail(s, PERK_STORE_CONFLICT,
                               "coupon %s has %lld uses (committed, or held by open reservations), more than %d: "
                               "revoke it to stop it; nothing was changed",
                               code, (long long)why, in->max_uses);
    }
    q = pstore_stmt(s, "UPDATE coupons SET expires_at = CASE WHEN ?3 = 1 THEN ?4 ELSE expires_at END,"
                       " max_uses = CASE WHEN ?5 = 1 THEN ?6 ELSE max_uses END,"
                       " max_per_customer = CASE WHEN ?7 = 1 THEN ?8 ELSE max_per_customer END"
                       " WHERE " TARGET " AND revoked_at IS NULL");
    if (!q) return pstore_stmt_status(s);
    pstore_bind_text(q, 1, c->key);
    pstore_bind_int64(q, 2, c->by_code);
    pstore_bind_int64(q, 3, in->set_expires_at);
    pstore_bind_int64(q, 4, in->expires_at);
    pstore_bind_int64(q, 5, in->set_max_uses);
    pstore_bind_int64(q, 6, in->max_uses);
    pstore_bind_int64(q, 7, in->set_max_per_customer);
    pstore_bind_int64(q, 8, in->max_per_customer);
    if ((st = pstore_step_done(s, q, "changing the coupons")) != PERK_STORE_OK) return st;
    c->out.changed = pstore_changes(s);
    c->out.revoked = revoked;
    /* what changed, for the audit log and the outbox */
    char set[160] = "";
    size_t n = 0;
    if (in->set_expires_at) n += (size_t)snprintf(set + n, sizeof set - n, " expires_at=%lld", (long long)in->expires_at);
    if (in->set_max_uses && n < sizeof set) n += (size_t)snprintf(set + n, sizeof set - n, " max_uses=%d", in->max_uses);
    if (in->set_max_per_customer && n < sizeof set)
        snprintf(set + n, sizeof set - n, " max_per_customer=%d", in->max_per_customer);
    char detail[PERK_STORE_REASON_MAX + 400];
    snprintf(detail, sizeof detail, "%s %s: %lld codes (%lld revoked left alone):%s; %s", what, c->key,
             (long long)c->out.changed, (long long)revoked, set, in->reason);
    if ((st = pstore_audit_insert(s, c->now, in->by, "coupon.change", detail)) != PERK_STORE_OK) return st;
    json_t *ev = json_pack("{s:s?, s:s?, s:I, s:s, s:s}", "campaign", c->by_code ? NULL : c->key, "code",
                           c->by_code ? c->key : NULL, "codes", (json_int_t)c->out.changed, "by", in->by, "reason",
                           in->reason);
    if (!ev) return pstore_fail(s, PERK_STORE_NOMEM, "out of memory writing the coupon.changed event");
    if (in->set_expires_at) json_object_set_new(ev, "expires_at", json_integer(in->expires_at));
    if (in->set_max_uses) json_object_set_new(ev, "max_uses", json_integer(in->max_uses));
    if (in->set_max_per_customer) json_object_set_new(ev, "max_per_customer", json_integer(in->max_per_customer));
    return pstore_emit(s, "coupon.changed", c->now, ev, NULL);
}

perk_store_status perk_store_coupons_change(perk_store *s, const perk_store_coupon_change *in, int64_t now,
                                            perk_store_coupon_change_result *out)
{
    if (!s) return PERK_STORE_INVALID;
    if (out) memset(out, 0, sizeof *out);
    if (!in) return pstore_fail(s, PERK_STORE_INVALID, "no change given");
    if ((in->campaign == NULL) == (in->code == NULL))
        return pstore_fail(s, PERK_STORE_INVALID, "name a campaign or a code (one of the two)");
    perk_store_status st = pstore_check_name(s, "changed by", in->by, PERK_STORE_NAME_MAX - 1);
    if (st == PERK_STORE_OK) st = pstore_check_name(s, "the reason for the change", in->reason, PERK_STORE_REASON_MAX);
    if (st == PERK_STORE_OK && in->campaign) st = pstore_check_name(s, "campaign", in->campaign, PERK_STORE_NAME_MAX - 1);
    if (st != PERK_STORE_OK) return st;
    if (!in->set_expires_at && !in->set_max_uses && !in->set_max_per_customer)
        return pstore_fail(s, PERK_STORE_INVALID, "nothing to change: give the end of the period or a limit");
    if (in->set_expires_at && in->expires_at != 0 && in->expires_at < now)
        return pstore_fail(s, PERK_STORE_INVALID,
                           "the new end %lld is in the past (now %lld): to stop codes now, end them now or revoke them",
                           (long long)in->expires_at, (long long)now);
    if (in->set_expires_at && in->expires_at < 0) return pstore_fail(s, PERK_STORE_INVALID, "a time is never negative");
    if ((in->set_max_uses && in->max_uses < 0) || (in->set_max_per_customer && in->max_per_customer < 0))
        return pstore_fail(s, PERK_STORE_INVALID, "a limit is 0 (unlimited) or more");
    char norm[PERK_STORE_CODE_MAX];
    if (in->code && perk_store_coupon_normalize(in->code, norm) != PERK_STORE_OK)
        return pstore_fail(s, PERK_STORE_INVALID, "coupon code \"%.80s\" is not a code", in->code);
    change_ctx c = { .in = in, .key = in->code ? norm : in->campaign, .by_code = in->code != NULL, .now = now };
    st = pstore_write_txn(s, "changing coupons", "committing the coupon change", change_body, &c);
    if (st == PERK_STORE_OK && out) *out = c.out;
    return st;
}
