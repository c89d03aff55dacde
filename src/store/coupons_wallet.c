/* coupons_wallet.c - coupon codes as a customer holds them: issuing a code of a campaign to one
 * customer for a period (idempotent by code), revoking a code (who, why; kept with the code and
 * in the audit log), and a customer's wallet (every code issued to them with its verdict now). */
#include "store_internal.h"

#include "perk.h"
#include "program.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A campaign is known when the store has codes of it, or when a promotion of the version active
 * at `now` requires a code from it (`requires coupon from "CAMPAIGN"`). */
static perk_store_status campaign_known(perk_store *s, const char *campaign, int64_t now, bool *known)
{
    *known = false;
    int64_t n = 0;
    pstore_st *st = pstore_stmt(s, "SELECT COUNT(*) FROM (SELECT 1 FROM coupons WHERE campaign = ?1 LIMIT 1) AS c");
    if (!st) return pstore_stmt_status(s);
    pstore_bind_text(st, 1, campaign);
    perk_store_status status = pstore_query_int(s, st, 0, &n, "looking up the campaign");
    if (status != PERK_STORE_OK || n > 0) {
        *known = n > 0;
        return status;
    }
    int64_t active = 0;
    status = perk_store_active_version(s, now, &active);
    if (status == PERK_STORE_NOT_FOUND) return PERK_STORE_OK; /* nothing published: only stored codes */
    if (status != PERK_STORE_OK) return status;
    const perk_program *prog = NULL;
    status = pstore_version_program(s, active, now, &prog);
    if (status != PERK_STORE_OK) return status;
    const prog_data *d = prog_data_of(prog);
    for (uint32_t i = 0; i < d->n_rules; i++) {
        uint32_t c = d->rules[i].coupon_campaign;
        if (c != PROG_NONE && strcmp(prog_string(d, c), campaign) == 0) {
            *known = true;
            break;
        }
    }
    return PERK_STORE_OK;
}

/* Which term of an existing code differs from the issue; NULL when none does. */
static const char *differing_term(const perk_store_coupon_info *have, const char *have_customer,
                                  const perk_store_coupon_issue *want)
{
    if (!have_customer) return "it may be used by anyone";
    if (strcmp(have_customer, want->customer_id) != 0) return "it was issued to another customer";
    if (strcmp(have->campaign, want->campaign) != 0) return "its campaign differs";
    if (have->valid_from != want->valid_from || have->expires_at != want->expires_at)
        return "its period differs";
    if (have->max_uses != want->max_uses || have->max_per_customer != want->max_per_customer)
        return "its use limits differ";
    return NULL;
}

/* The customer a code is restricted to, into buf ("" and false when anyone may use it). */
static perk_store_status code_customer(perk_store *s, const char *norm, char *buf, size_t cap, bool *restricted)
{
    pstore_st *st = pstore_stmt(s, "SELECT only_customer FROM coupons WHERE code = ?1");
    if (!st) return pstore_stmt_status(s);
    pstore_bind_text(st, 1, norm);
    int rc = pstore_step(st);
    perk_store_status status = PERK_STORE_OK;
    buf[0] = '\0';
    *restricted = false;
    if (rc == PSTORE_ROW) {
        const char *t = pstore_col_text(st, 0);
        *restricted = t != NULL;
        snprintf(buf, cap, "%s", t ? (const char *)t : "");
    } else if (rc != PSTORE_DONE) {
        status = pstore_sqlfail(s, rc, "reading a coupon");
    }
    pstore_done(st);
    return status;
}

static perk_store_status check_issue(perk_store *s, const perk_store_coupon_issue *in, char norm[PERK_STORE_CODE_MAX])
{
    if (!in) return pstore_fail(s, PERK_STORE_INVALID, "no coupon to issue");
    if (perk_store_coupon_normalize(in->code, norm) != PERK_STORE_OK)
        return pstore_fail(s, PERK_STORE_INVALID,
                           "coupon code \"%.80s\" is not 1..%d letters, digits or '_' (dashes and "
                           "spaces are ignored)",
                           in->code ? in->code : "(null)", PERK_STORE_CODE_MAX - 1);
    perk_store_status status = pstore_check_name(s, "campaign", in->campaign, PERK_STORE_NAME_MAX - 1);
    if (status == PERK_STORE_OK) status = pstore_check_name(s, "customer id", in->customer_id, 255);
    if (status == PERK_STORE_OK) status = pstore_check_name(s, "issued by", in->by, PERK_STORE_NAME_MAX - 1);
    if (status != PERK_STORE_OK) return status;
    if (in->valid_from < 0 || in->expires_at < 0)
        return pstore_fail(s, PERK_STORE_INVALID, "coupon period: times must be >= 0 (0 = from now / never)");
    if (in->expires_at != 0 && in->expires_at <= in->valid_from)
        return pstore_fail(s, PERK_STORE_INVALID,
                           "coupon period: it ends (%lld) at or before it starts (%lld): the code would "
                           "never be valid",
                           (long long)in->expires_at, (long long)in->valid_from);
    if (in->max_uses < 0 || in->max_per_customer < 0)
        return pstore_fail(s, PERK_STORE_INVALID,
                           "coupon use limits must be >= 0 (0 = unlimited), got %d and %d", in->max_uses,
                           in->max_per_customer);
    return PERK_STORE_OK;
}

typedef struct issue_ctx {
    const perk_store_coupon_issue *in;
    const char *norm;
    int64_t now;
    perk_store_coupon_info have; /* out: the code as issued (or as it was) */
    bool created;                /* out */
} issue_ctx;

/* perk_store_coupon_issue_code's write transaction (may run again: its outputs are set afresh). */
static perk_store_status issue_body(perk_store *s, void *arg)
{
    issue_ctx *c = arg;
    const perk_store_coupon_issue *in = c->in;
    const char *norm = c->norm;
    int64_t now = c->now;
    perk_store_status status;
    c->created = false;
    memset(&c->have, 0, sizeof c->have);
    perk_store_coupon_info have;
    char who[256];
    bool restricted = false;
    status = pstore_coupon_lookup(s, norm, in->customer_id, now, &have);
    if (status != PERK_STORE_OK) return status;
    if (have.status != PERK_STORE_COUPON_UNKNOWN) {
        /* the code exists: a retry of the same issue, or someone else's code */
        if ((status = code_customer(s, norm, who, sizeof who, &restricted)) != PERK_STORE_OK) return status;
        const char *why = differing_term(&have, restricted ? who : NULL, in);
        if (why) {
            status = pstore_fail(s, PERK_STORE_CONFLICT,
                                 "coupon %s already exists and %s: choose another code (nothing was "
                                 "changed)",
                                 norm, why);
            return status;
        }
        c->have = have;
        return PERK_STORE_OK;
    }
    if (in->expires_at != 0 && in->expires_at <= now) {
        status = pstore_fail(s, PERK_STORE_INVALID,
                             "coupon period: it ends (%lld) at or before now (%lld): the code would be "
                             "expired when issued",
                             (long long)in->expires_at, (long long)now);
        return status;
    }
    bool known = false;
    if ((status = campaign_known(s, in->campaign, now, &known)) != PERK_STORE_OK) return status;
    if (!known) {
        status = pstore_fail(s, PERK_STORE_NOT_FOUND,
                             "campaign \"%s\" is unknown: the store has no code of it and no promotion "
                             "of the active rule set requires a code from it (check the spelling)",
                             in->campaign);
        return status;
    }
    pstore_st *st = pstore_stmt(s, "INSERT INTO coupons (code, campaign, created_at, expires_at, "
                                      "max_uses, max_per_customer, only_customer, valid_from) "
                                      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    if (!st) {
        status = pstore_stmt_status(s);
        return status;
    }
    pstore_bind_text(st, 1, norm);
    pstore_bind_text(st, 2, in->campaign);
    pstore_bind_int64(st, 3, now);
    pstore_bind_int64(st, 4, in->expires_at);
    pstore_bind_int64(st, 5, in->max_uses);
    pstore_bind_int64(st, 6, in->max_per_customer);
    pstore_bind_text(st, 7, in->customer_id);
    pstore_bind_int64(st, 8, in->valid_from);
    if ((status = pstore_step_done(s, st, "inserting the coupon")) != PERK_STORE_OK) return status;
    char detail[512];
    snprintf(detail, sizeof detail, "%s (campaign %s) to %s, valid %lld..%lld", norm, in->campaign, in->customer_id,
             (long long)in->valid_from, (long long)in->expires_at);
    if ((status = perk_store_audit(s, now, in->by, "coupon.issue", detail)) != PERK_STORE_OK) return status;
    /* the CRM sends the customer their code: an event in the same transaction (a retried issue
     * that changes nothing writes none) */
    json_t *ev = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:s}", "code", norm, "campaign", in->campaign,
                           "customer_id", in->customer_id, "valid_from", (json_int_t)in->valid_from, "expires_at",
                           (json_int_t)in->expires_at, "max_uses", (json_int_t)in->max_uses, "max_per_customer",
                           (json_int_t)in->max_per_customer, "by", in->by ? in->by : "");
    if (!ev) return pstore_fail(s, PERK_STORE_NOMEM, "out of memory writing the coupon.issued event");
    if ((status = pstore_emit(s, "coupon.issued", now, ev, NULL)) != PERK_STORE_OK) return status;
    if ((status = pstore_coupon_lookup(s, norm, in->customer_id, now, &c->have)) != PERK_STORE_OK) return status;
    c->created = true;
    return PERK_STORE_OK;
}

perk_store_status perk_store_coupon_issue_code(perk_store *s, const perk_store_coupon_issue *in, int64_t now,
                                               perk_store_coupon_info *out, bool *created)
{
    if (!s) return PERK_STORE_INVALID;
    if (created) *created = false;
    char norm[PERK_STORE_CODE_MAX];
    perk_store_status status = check_issue(s, in, norm);
    if (status != PERK_STORE_OK) return status;
    issue_ctx c = { .in = in, .norm = norm, .now = now };
    status = pstore_write_txn(s, "issuing a coupon", "committing the coupon issue", issue_body, &c);
    if (status != PERK_STORE_OK) return status;
    if (out) *out = c.have;
    if (created) *created = c.created;
    return PERK_STORE_OK;
}

typedef struct revoke_ctx {
    const char *norm, *by, *reason;
    int64_t now;
    perk_store_coupon_info info; /* out: the code after (or, refused, before) the revocation */
    int64_t held;                /* out */
} revoke_ctx;

/* perk_store_coupon_revoke's write transaction (may run again: its outputs are set afresh). */
static perk_store_status revoke_body(perk_store *s, void *arg)
{
    revoke_ctx *c = arg;
    const char *norm = c->norm, *by = c->by, *reason = c->reason;
    int64_t now = c->now;
    perk_store_status status;
    memset(&c->info, 0, sizeof c->info);
    c->held = 0;
    perk_store_coupon_info info;
    int64_t held_uses = 0, unused = 0;
    if ((status = pstore_coupon_lookup(s, norm, NULL, now, &info)) != PERK_STORE_OK) return status;
    if (info.status == PERK_STORE_COUPON_UNKNOWN) {
        status = pstore_fail(s, PERK_STORE_NOT_FOUND, "coupon %s does not exist: nothing to revoke", norm);
        return status;
    }
    if ((status = pstore_held_coupon(s, norm, NULL, now, &held_uses, &unused)) != PERK_STORE_OK) return status;
    if (info.revoked_at != 0) {
        c->info = info;
        status = pstore_fail(s, PERK_STORE_CONFLICT,
                             "coupon %s was already revoked at %lld by %s (%s); nothing was changed", norm,
                             (long long)info.revoked_at, info.revoked_by, info.revoke_reason);
        return status;
    }
    int64_t committed = info.uses - held_uses; /* lookup counted the held uses in */
    if (info.max_uses != 0 && committed >= info.max_uses) {
        c->info = info;
        status = pstore_fail(s, PERK_STORE_CONFLICT,
                             "coupon %s is used up (%lld of %lld uses by committed orders): there is "
                             "nothing left to revoke; nothing was changed",
                             norm, (long long)committed, (long long)info.max_uses);
        return status;
    }
    pstore_st *st = pstore_stmt(s, "UPDATE coupons SET revoked_at = ?2, revoked_by = ?3, revoke_reason = ?4 "
                                      "WHERE code = ?1 AND revoked_at IS NULL");
    if (!st) {
        status = pstore_stmt_status(s);
        return status;
    }
    pstore_bind_text(st, 1, norm);
    pstore_bind_int64(st, 2, now);
    pstore_bind_text(st, 3, by);
    pstore_bind_text(st, 4, reason);
    if ((status = pstore_step_done(s, st, "revoking the coupon")) != PERK_STORE_OK) return status;
    char detail[PERK_STORE_REASON_MAX + 160];
    snprintf(detail, sizeof detail, "%s (campaign %s): %s; %lld uses held by open reservations", norm,
             info.campaign, reason, (long long)held_uses);
    if ((status = perk_store_audit(s, now, by, "coupon.revoke", detail)) != PERK_STORE_OK) return status;
    if ((status = pstore_coupon_lookup(s, norm, NULL, now, &c->info)) != PERK_STORE_OK) return status;
    char who[256];
    bool restricted = false;
    if ((status = code_customer(s, norm, who, sizeof who, &restricted)) != PERK_STORE_OK) return status;
    json_t *ev = json_pack("{s:s, s:s, s:s?, s:s, s:s, s:I, s:I}", "code", norm, "campaign", info.campaign,
                           "customer_id", restricted ? who : NULL, "by", by, "reason", reason, "uses",
                           (json_int_t)committed, "held_by_reservations", (json_int_t)held_uses);
    if (!ev) return pstore_fail(s, PERK_STORE_NOMEM, "out of memory writing the coupon.revoked event");
    if ((status = pstore_emit(s, "coupon.revoked", now, ev, NULL)) != PERK_STORE_OK) return status;
    c->held = held_uses;
    return PERK_STORE_OK;
}

perk_store_status perk_store_coupon_revoke(perk_store *s, const char *code, const char *by, const char *reason,
                                           int64_t now, perk_store_coupon_info *out, int64_t *held)
{
    if (!s) return PERK_STORE_INVALID;
    if (out) memset(out, 0, sizeof *out);
    if (held) *held = 0;
    char norm[PERK_STORE_CODE_MAX];
    if (perk_store_coupon_normalize(code, norm) != PERK_STORE_OK)
        return pstore_fail(s, PERK_STORE_INVALID, "coupon code \"%.80s\" is not a code: nothing to revoke",
                           code ? code : "(null)");
    perk_store_status status = pstore_check_name(s, "revoked by", by, PERK_STORE_NAME_MAX - 1);
    if (status == PERK_STORE_OK) status = pstore_check_name(s, "revocation reason", reason, PERK_STORE_REASON_MAX);
    if (status != PERK_STORE_OK) return status;
    revoke_ctx c = { .norm = norm, .by = by, .reason = reason, .now = now };
    status = pstore_write_txn(s, "revoking a coupon", "committing the revocation", revoke_body, &c);
    if (out) *out = c.info;
    if (status != PERK_STORE_OK) return status;
    if (held) *held = c.held;
    return PERK_STORE_OK;
}

perk_store_status perk_store_coupon_wallet(perk_store *s, const char *customer, int64_t now,
                                           perk_store_coupon_list_cb cb, void *ctx)
{
    if (!s || !cb) return s ? pstore_fail(s, PERK_STORE_INVALID, "coupon wallet: no callback") : PERK_STORE_INVALID;
    perk_store_status status = pstore_check_name(s, "customer id", customer, 255);
    if (status != PERK_STORE_OK) return status;
    if ((status = pstore_begin(s, false, "reading a wallet")) != PERK_STORE_OK) return status;
    /* the codes first: the lookups below use other statements of the handle */
    char(*codes)[PERK_STORE_CODE_MAX] = NULL;
    size_t n = 0, cap = 0;
    pstore_st *st = pstore_stmt(s, "SELECT code FROM coupons WHERE only_customer = ?1 ORDER BY created_at, code");
    if (!st) {
        status = pstore_stmt_status(s);
        goto done;
    }
    pstore_bind_text(st, 1, customer);
    int rc;
    while ((rc = pstore_step(st)) == PSTORE_ROW) {
        if (n == cap) {
            size_t ncap = cap ? 2 * cap : 16;
            void *p = realloc(codes, ncap * sizeof *codes);
            if (!p) {
                status = pstore_fail(s, PERK_STORE_NOMEM, "out of memory reading a wallet");
                break;
            }
            codes = p;
            cap = ncap;
        }
        snprintf(codes[n++], PERK_STORE_CODE_MAX, "%s", pstore_col_text(st, 0));
    }
    if (status == PERK_STORE_OK && rc != PSTORE_DONE) status = pstore_sqlfail(s, rc, "reading a wallet");
    pstore_done(st);
    for (size_t i = 0; status == PERK_STORE_OK && i < n; i++) {
        perk_store_coupon_info info;
        status = pstore_coupon_lookup(s, codes[i], customer, now, &info);
        /* the code is theirs: "not for this customer" can only mean their own share is used */
        if (info.status == PERK_STORE_COUPON_NOT_FOR_CUSTOMER) info.status = PERK_STORE_COUPON_USED_UP;
        if (status == PERK_STORE_OK && cb(&info, ctx) != 0)
            status = pstore_fail(s, PERK_STORE_IO, "coupon wallet: stopped by the caller (output failed)");
    }
done:
    free(codes);
    if (status != PERK_STORE_OK) {
        pstore_rollback(s);
        return status;
    }
    return pstore_commit(s, "finishing the wallet");
}
