/* coupon_json.c - a coupon code with its verdict as JSON: a wallet entry, the coupon of an issue
 * or a revocation. One document for GET /v1/customers/{id}/coupons, POST /v1/coupons and
 * /revoke (docs/openapi.yaml, Coupon) and for `perk coupons issue|revoke|wallet --json`, so the
 * service and the CLI cannot drift apart. */
#include "checkout.h"

#include <jansson.h>

static json_t *time_or_null(int64_t t) { return t ? json_integer(t) : json_null(); }
static json_t *limit_or_null(int64_t n) { return n ? json_integer(n) : json_null(); }
/* who revoked and why are the operator's text; stored bytes that are not UTF-8 are named so */
static json_t *text_or_mark(const char *s)
{
    json_t *t = json_string(s);
    return t ? t : json_string("(not UTF-8)");
}

json_t *checkout_reward_codes_json(const perk_store_commit_result *r)
{
    json_t *a = json_array();
    for (size_t i = 0; r && i < r->n_reward_codes; i++) {
        const perk_store_reward_code *c = &r->reward_codes[i];
        json_t *o = json_object();
        json_object_set_new(o, "code", json_string(c->code));
        json_object_set_new(o, "campaign", json_string(c->campaign));
        json_object_set_new(o, "promotion", json_string(c->promo_id));
        json_object_set_new(o, "valid_from", json_integer(c->valid_from));
        json_object_set_new(o, "expires_at", time_or_null(c->expires_at));
        json_array_append_new(a, o);
    }
    return a;
}

json_t *checkout_coupon_json(const perk_store_coupon_info *k)
{
    json_t *o = json_object();
    json_object_set_new(o, "code", json_string(k->code));
    json_object_set_new(o, "campaign", json_string(k->campaign));
    json_object_set_new(o, "status", json_string(perk_store_coupon_status_key(k->status)));
    json_object_set_new(o, "usable", json_boolean(k->status == PERK_STORE_COUPON_VALID));
    json_object_set_new(o, "message", json_string(perk_store_coupon_status_message(k->status)));
    json_object_set_new(o, "uses", json_integer(k->uses));
    json_object_set_new(o, "customer_uses", json_integer(k->customer_uses));
    json_object_set_new(o, "uses_left", k->uses_left < 0 ? json_null() : json_integer(k->uses_left));
    json_object_set_new(o, "max_uses", limit_or_null(k->max_uses));
    json_object_set_new(o, "max_per_customer", limit_or_null(k->max_per_customer));
    json_object_set_new(o, "created_at", json_integer(k->created_at));
    json_object_set_new(o, "valid_from", time_or_null(k->valid_from));
    json_object_set_new(o, "expires_at", time_or_null(k->expires_at));
    json_t *rv = json_null();
    if (k->revoked_at) {
        rv = json_object();
        json_object_set_new(rv, "at", json_integer(k->revoked_at));
        json_object_set_new(rv, "by", text_or_mark(k->revoked_by));
        json_object_set_new(rv, "reason", text_or_mark(k->revoke_reason));
    }
    json_object_set_new(o, "revoked", rv);
    return o;
}
