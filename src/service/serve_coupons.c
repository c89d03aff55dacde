/* serve_coupons.c - the coupon routes of `perk serve` (docs/service.md, "Coupons"):
 *
 *   POST /v1/coupons/validate             whether a code may be used (by a customer, now)
 *   GET  /v1/customers/{id}/coupons       the customer's wallet: every code issued to them, with
 *                                         its status, uses left and period
 *   POST /v1/coupons                      issue a code of a campaign to a customer (idempotent by
 *                                         code; operator scope)
 *   POST /v1/coupons/{id}/revoke          revoke a code, with who and why (operator scope)
 *
 * Issues and revocations go to the store's audit log (the actor: "by" from the body, else the
 * API key's prefix). Every coupon is shown by checkout_coupon_json (src/checkout/coupon_json.c),
 * so the answers and `perk coupons --json` agree. */
#include "serve_internal.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static json_t *time_or_null(int64_t t) { return t ? json_integer(t) : json_null(); }
static json_t *limit_or_null(int64_t n) { return n ? json_integer(n) : json_null(); }



/* A string member of 1..max bytes (no NUL); false with a 400 naming its path. */
static bool body_string(json_t *o, const char *key, bool required, size_t max, const char **out, serve_reply *r)
{
    json_t *v = json_object_get(o, key);
    char path[64];
    snprintf(path, sizeof path, "$.%s", key);
    *out = NULL;
    if (!v || json_is_null(v)) {
        if (required) serve_error(r, 400, "invalid_request", path, "%s: required field is missing", path);
        return !required;
    }
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > max ||
        strlen(json_string_value(v)) != json_string_length(v)) {
        serve_error(r, 400, "invalid_request", path, "%s: must be a non-empty string of at most %zu bytes", path,
                    max);
        return false;
    }
    *out = json_string_value(v);
    return true;
}

/* An integer member in [min, max] (absent or null: dflt); false with a 400 naming its path. */
static bool body_int(json_t *o, const char *key, int64_t dflt, int64_t min, int64_t max, int64_t *out,
                     serve_reply *r)
{
    json_t *v = json_object_get(o, key);
    *out = dflt;
    if (!v || json_is_null(v)) return true;
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
        char path[64];
        snprintf(path, sizeof path, "$.%s", key);
        serve_error(r, 400, "invalid_request", path, "%s: must be an integer from %lld to %lld", path,
                    (long long)min, (long long)max);
        return false;
    }
    *out = json_integer_value(v);
    return true;
}

/* The code of a request: a 400 naming `path` when it is not a code. */
static bool valid_code(const char *code, const char *path, serve_reply *r)
{
    char norm[PERK_STORE_CODE_MAX];
    if (perk_store_coupon_normalize(code, norm) == PERK_STORE_OK) return true;
    serve_error(r, 400, "invalid_request", path,
                "%s: a code is 1 to 63 letters, digits, '_' ('-' and spaces are ignored)", path);
    return false;
}

/* Who did it, for the audit log: "by" when given, else the key ("key:perk_ab12cd3"). */
static const char *actor_of(serve_call *c, const char *by, char buf[PERK_STORE_NAME_MAX])
{
    if (by) return by;
    snprintf(buf, PERK_STORE_NAME_MAX, "key:%s", c->key_prefix && *c->key_prefix ? c->key_prefix : "?");
    return buf;
}

/* ------------------------------------------------------------------ routes */

static void handle_validate(serve_call *c, serve_reply *r)
{
    json_t *body = serve_body_object(c, r, false);
    if (!body) return;
    const char *code = NULL, *customer = NULL;
    if (!body_string(body, "code", true, 255, &code, r) || !body_string(body, "customer_id", false, 255, &customer, r) ||
        !valid_code(code, "$.code", r)) {
        json_decref(body);
        return;
    }
    perk_store_coupon_info info;
    perk_store_status st = perk_store_coupon_check(c->w->store, code, customer, (int64_t)time(NULL), &info);
    json_decref(body);
    if (st != PERK_STORE_OK) {
        serve_store_failure(c, r, st);
        return;
    }
    json_t *o = json_object();
    json_object_set_new(o, "code", json_string(info.code));
    json_object_set_new(o, "valid", json_boolean(info.status == PERK_STORE_COUPON_VALID));
    json_object_set_new(o, "status", json_string(perk_store_coupon_status_key(info.status)));
    json_object_set_new(o, "message", json_string(perk_store_coupon_status_message(info.status)));
    json_object_set_new(o, "campaign", info.campaign[0] ? json_string(info.campaign) : json_null());
    json_object_set_new(o, "valid_from", time_or_null(info.valid_from));
    json_object_set_new(o, "expires_at", time_or_null(info.expires_at));
    json_object_set_new(o, "revoked_at", time_or_null(info.revoked_at));
    json_object_set_new(o, "uses", json_integer(info.uses));
    json_object_set_new(o, "max_uses", limit_or_null(info.max_uses));
    json_object_set_new(o, "likely_typo", json_boolean(info.check_symbol_mismatch));
    serve_json(r, 200, o);
}

typedef struct wallet_page {
    json_t *list;
} wallet_page;

static int add_wallet_entry(const perk_store_coupon_info *k, void *p)
{
    wallet_page *w = p;
    return json_array_append_new(w->list, checkout_coupon_json(k)) != 0;
}

static void handle_wallet(serve_call *c, serve_reply *r)
{
    if (!c->path_id || strlen(c->path_id) > 255) {
        serve_error(r, 400, "invalid_request", "id", "the customer id is 1 to 255 bytes");
        return;
    }
    wallet_page w = { json_array() };
    int64_t now = (int64_t)time(NULL);
    perk_store_status st = perk_store_coupon_wallet(c->w->store, c->path_id, now, add_wallet_entry, &w);
    if (st != PERK_STORE_OK) {
        json_decref(w.list);
        serve_store_failure(c, r, st);
        return;
    }
    json_t *o = json_object();
    json_object_set_new(o, "customer_id", json_string(c->path_id));
    json_object_set_new(o, "at", json_integer(now));
    json_object_set_new(o, "coupons", w.list);
    serve_json(r, 200, o);
}

static void handle_issue(serve_call *c, serve_reply *r)
{
    json_t *body = serve_body_object(c, r, false);
    if (!body) return;
    perk_store_coupon_issue in = { 0 };
    int64_t max_uses = 0, per_customer = 0;
    const char *by = NULL;
    /* the latest time any option takes: 9999-12-31T23:59:59Z */
    const int64_t tmax = INT64_C(253402300799);
    bool ok = body_string(body, "code", true, 255, &in.code, r) &&
              body_string(body, "campaign", true, PERK_STORE_NAME_MAX - 1, &in.campaign, r) &&
              body_string(body, "customer_id", true, 255, &in.customer_id, r) &&
              body_string(body, "by", false, PERK_STORE_NAME_MAX - 1, &by, r) &&
              body_int(body, "valid_from", 0, 0, tmax, &in.valid_from, r) &&
              body_int(body, "expires_at", 0, 0, tmax, &in.expires_at, r) &&
              body_int(body, "max_uses", 0, 0, 1000000000, &max_uses, r) &&
              body_int(body, "max_per_customer", 0, 0, 1000000000, &per_customer, r) &&
              valid_code(in.code, "$.code", r);
    if (ok && in.expires_at != 0 && in.expires_at <= in.valid_from) {
        serve_error(r, 400, "invalid_period", "$.expires_at",
                    "$.expires_at: the period ends at or before it starts (valid_from): the code would "
                    "never be valid");
        ok = false;
    }
    int64_t now = (int64_t)time(NULL);
    if (ok && in.expires_at != 0 && in.expires_at <= now) {
        /* a retry of an issue made before its end is still a retry: the store decides */
        perk_store_coupon_info have;
        if (perk_store_coupon_check(c->w->store, in.code, in.customer_id, now, &have) != PERK_STORE_OK ||
            have.status == PERK_STORE_COUPON_UNKNOWN) {
            serve_error(r, 400, "invalid_period", "$.expires_at",
                        "$.expires_at: the period is over already (%lld <= now %lld)", (long long)in.expires_at,
                        (long long)now);
            ok = false;
        }
    }
    if (!ok) {
        json_decref(body);
        return;
    }
    char actor[PERK_STORE_NAME_MAX];
    in.by = actor_of(c, by, actor);
    in.max_uses = (int)max_uses;
    in.max_per_customer = (int)per_customer;
    perk_store_coupon_info info;
    bool created = false;
    perk_store_status st = perk_store_coupon_issue_code(c->w->store, &in, now, &info, &created);
    if (st == PERK_STORE_NOT_FOUND)
        serve_error(r, 422, "unknown_campaign", "$.campaign", "$.campaign: %s", perk_store_errmsg(c->w->store));
    else if (st == PERK_STORE_CONFLICT)
        serve_error(r, 409, "code_taken", "$.code", "$.code: %s", perk_store_errmsg(c->w->store));
    else if (st != PERK_STORE_OK)
        serve_store_failure(c, r, st);
    else {
        json_t *o = json_object();
        json_object_set_new(o, "created", json_boolean(created));
        json_object_set_new(o, "customer_id", json_string(in.customer_id));
        json_object_set_new(o, "coupon", checkout_coupon_json(&info));
        serve_json(r, created ? 201 : 200, o);
    }
    json_decref(body);
}

static void handle_revoke(serve_call *c, serve_reply *r)
{
    if (!c->path_id || !valid_code(c->path_id, "code", r)) return;
    json_t *body = serve_body_object(c, r, false);
    if (!body) return;
    const char *reason = NULL, *by = NULL;
    if (!body_string(body, "reason", true, PERK_STORE_REASON_MAX, &reason, r) ||
        !body_string(body, "by", false, PERK_STORE_NAME_MAX - 1, &by, r)) {
        json_decref(body);
        return;
    }
    char actor[PERK_STORE_NAME_MAX];
    perk_store_coupon_info info;
    int64_t held = 0;
    perk_store_status st = perk_store_coupon_revoke(c->w->store, c->path_id, actor_of(c, by, actor), reason,
                                                    (int64_t)time(NULL), &info, &held);
    json_decref(body);
    if (st == PERK_STORE_NOT_FOUND) {
        serve_error(r, 404, "unknown_coupon", "code", "%s", perk_store_errmsg(c->w->store));
        return;
    }
    if (st == PERK_STORE_CONFLICT) {
        serve_error(r, 409, info.revoked_at ? "already_revoked" : "used_up", "code", "%s",
                    perk_store_errmsg(c->w->store));
        return;
    }
    if (st != PERK_STORE_OK) {
        serve_store_failure(c, r, st);
        return;
    }
    json_t *o = json_object();
    json_object_set_new(o, "code", json_string(info.code));
    json_object_set_new(o, "revoked_at", json_integer(info.revoked_at));
    json_object_set_new(o, "held_by_reservations", json_integer(held));
    json_object_set_new(o, "coupon", checkout_coupon_json(&info));
    serve_json(r, 200, o);
}

void serve_handle_coupons(serve_call *c, serve_reply *r)
{
    if (c->route == ROUTE_COUPON_VALIDATE)
        handle_validate(c, r);
    else if (c->route == ROUTE_COUPON_WALLET)
        handle_wallet(c, r);
    else if (c->route == ROUTE_COUPON_ISSUE)
        handle_issue(c, r);
    else
        handle_revoke(c, r);
}
