/* result_json_ref.h - the jansson result renderer that src/json/result_json.c used until its
 * renderer wrote JSON straight into a buffer, kept verbatim (entry point renamed
 * ref_result_json_render) as the reference the new one is compared with byte for byte
 * (test_result_write.c, test_invariants.c, the fuzz harness). Included once per program: it
 * defines static functions. Needs jansson.
 */
#ifndef PERK_RESULT_JSON_REF_H
#define PERK_RESULT_JSON_REF_H

#include <inttypes.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/result_json.h"
#include "money.h"

/* ------------------------------------------------------------------ JSON building */

typedef struct ref_builder {
    bool failed; /* out of memory somewhere: the render returns NULL */
    const result_names *names;
    const perk_result *r;
    const cart_doc *doc;
    const char *symbol; /* currency symbol for human-readable texts, or NULL */
    bool applied_only;  /* RESULT_JSON_APPLIED_ONLY */
} ref_builder;

/* A JSON string, or null for NULL. Invalid UTF-8 (which jansson refuses) has each bad byte
 * replaced by U+FFFD so that output is always valid JSON. */
static json_t *ref_jstr(ref_builder *b, const char *s)
{
    if (!s) return json_null();
    json_t *v = json_string(s);
    if (v) return v;
    size_t n = strlen(s);
    char *clean = malloc(n * 3 + 1);
    if (!clean) {
        b->failed = true;
        return NULL;
    }
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        size_t len = c < 0x80             ? 1
                     : (c & 0xE0) == 0xC0 ? 2
                     : (c & 0xF0) == 0xE0 ? 3
                     : (c & 0xF8) == 0xF0 ? 4
                                          : 0;
        bool good = len > 0 && i + len <= n;
        if (good) {
            /* jansson also refuses overlong forms and surrogates: let it judge the character */
            json_t *probe = json_stringn(s + i, len);
            good = probe != NULL;
            json_decref(probe);
        }
        if (good) {
            memcpy(clean + o, s + i, len);
            o += len;
            i += len;
        } else {
            memcpy(clean + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        }
    }
    clean[o] = '\0';
    v = json_string(clean);
    free(clean);
    if (!v) b->failed = true;
    return v;
}

static void ref_put(ref_builder *b, json_t *obj, const char *key, json_t *value)
{
    if (!obj || !value || json_object_set_new(obj, key, value) != 0) b->failed = true;
}

static void ref_append(ref_builder *b, json_t *arr, json_t *value)
{
    if (!arr || !value || json_array_append_new(arr, value) != 0) b->failed = true;
}

static json_t *ref_jmoney(const ref_builder *b, int64_t minor)
{
    char buf[48];
    money_format(minor, b->r->exponent, NULL, buf, sizeof buf);
    return json_string(buf);
}

static json_t *ref_jint(int64_t v) { return json_integer((json_int_t)v); }

static json_t *ref_jpromotion(ref_builder *b, uint32_t index)
{
    char buf[24];
    if (index == UINT32_MAX) return json_null();
    return ref_jstr(b, result_promotion_id(b->names, index, buf, sizeof buf));
}

static json_t *ref_render_lines(ref_builder *b)
{
    const perk_result *r = b->r;
    json_t *arr = json_array();
    for (uint32_t i = 0; r->lines && i < r->n_lines; i++) {
        const perk_line_result *lr = &r->lines[i];
        const perk_line *in = b->doc && i < b->doc->n_lines ? &b->doc->lines[i] : NULL;
        json_t *o = json_object();
        ref_put(b, o, "index", ref_jint(i));
        ref_put(b, o, "id", ref_jstr(b, in ? in->id : NULL));
        ref_put(b, o, "sku", ref_jstr(b, in ? in->sku : NULL));
        ref_put(b, o, "original", ref_jmoney(b, lr->original));
        ref_put(b, o, "final", ref_jmoney(b, lr->final));
        ref_put(b, o, "gift", json_boolean(lr->is_gift));
        ref_put(b, o, "gift_promotion", lr->is_gift ? ref_jpromotion(b, lr->gift_promotion) : json_null());
        json_t *allocs = json_array();
        /* a range outside the allocation array (a corrupt result) renders as no allocations */
        if (r->allocations && lr->first_allocation <= r->n_allocations &&
            lr->n_allocations <= r->n_allocations - lr->first_allocation) {
            for (uint32_t k = 0; k < lr->n_allocations; k++) {
                const perk_allocation *a = &r->allocations[lr->first_allocation + k];
                json_t *ao = json_object();
                ref_put(b, ao, "promotion", ref_jpromotion(b, a->promotion));
                ref_put(b, ao, "amount", ref_jmoney(b, a->amount));
                ref_append(b, allocs, ao);
            }
        }
        ref_put(b, o, "allocations", allocs);
        ref_append(b, arr, o);
    }
    return arr;
}

static json_t *ref_render_condition(ref_builder *b, const perk_promotion_result *pr)
{
    if (pr->reason != PERK_REASON_CONDITION || pr->failed_condition == UINT32_MAX) return json_null();
    uint32_t c = pr->failed_condition;
    char loc[320];
    result_condition_location(b->names, c, loc, sizeof loc);
    json_t *o = json_object();
    ref_put(b, o, "text", ref_jstr(b, result_condition_text(b->names, c)));
    ref_put(b, o, "location", loc[0] ? ref_jstr(b, loc) : json_null());
    char why[160];
    result_unknown_text(pr->unknown_fact, why, sizeof why);
    ref_put(b, o, "unknown", why[0] ? ref_jstr(b, perk_unknown_name(pr->unknown_fact)) : json_null());
    if (why[0]) {
        /* a comparison with an unknown value has no observed value to show */
        ref_put(b, o, "comparison", json_null());
        ref_put(b, o, "kind", json_null());
        ref_put(b, o, "observed", json_null());
        ref_put(b, o, "expected", json_null());
        ref_put(b, o, "explanation", ref_jstr(b, why));
    } else if (pr->has_comparison) {
        result_value_kind kind = result_condition_kind(b->names, c);
        static const char *const kinds[] = { "plain", "money",    "percent",  "date",
                                             "time",  "duration", "datetime", "month_day" };
        char text[160];
        result_comparison_text(pr->observed, pr->comparison, pr->expected, kind, b->r->exponent, b->symbol,
                               text, sizeof text);
        ref_put(b, o, "comparison", ref_jstr(b, result_cmp_text(pr->comparison)));
        ref_put(b, o, "kind", ref_jstr(b, kinds[kind]));
        ref_put(b, o, "observed", ref_jint(pr->observed));
        ref_put(b, o, "expected", ref_jint(pr->expected));
        ref_put(b, o, "explanation", ref_jstr(b, text));
    } else {
        ref_put(b, o, "comparison", json_null());
        ref_put(b, o, "kind", json_null());
        ref_put(b, o, "observed", json_null());
        ref_put(b, o, "expected", json_null());
        ref_put(b, o, "explanation", json_null());
    }
    return o;
}

static json_t *ref_render_promotions(ref_builder *b)
{
    const perk_result *r = b->r;
    json_t *arr = json_array();
    for (uint32_t i = 0; r->promotions && i < r->n_promotions; i++) {
        const perk_promotion_result *pr = &r->promotions[i];
        if (b->applied_only && pr->reason != PERK_REASON_APPLIED) continue;
        json_t *o = json_object();
        ref_put(b, o, "id", ref_jpromotion(b, pr->promotion));
        ref_put(b, o, "label", ref_jstr(b, result_promotion_label(b->names, pr->promotion)));
        ref_put(b, o, "applied", json_boolean(pr->reason == PERK_REASON_APPLIED));
        ref_put(b, o, "reason", ref_jstr(b, result_reason_name(pr->reason)));
        ref_put(b, o, "reason_text", ref_jstr(b, result_reason_message(pr->reason)));
        ref_put(b, o, "discount", ref_jmoney(b, pr->discount));
        ref_put(b, o, "shipping_discount", ref_jmoney(b, pr->shipping_discount));
        ref_put(b, o, "condition", ref_render_condition(b, pr));
        if (r->promotion_extra && r->promotion_extra[i].best_saving >= 0) {
            const perk_promotion_extra *x = &r->promotion_extra[i];
            json_t *bo = json_object();
            ref_put(b, bo, "saving", ref_jmoney(b, x->best_saving));
            ref_put(b, bo, "winner", x->best_winner < r->n_promotions ? ref_jpromotion(b, x->best_winner) : json_null());
            ref_put(b, o, "best", bo);
        }
        for (uint32_t k = 0; k < r->n_promotion_units; k++)
            if (r->promotion_units[k].promotion == i)
                ref_put(b, o, "units", json_integer(r->promotion_units[k].units));
        if (r->promotion_extra && r->promotion_extra[i].budget_wanted >= 0) {
            const perk_promotion_extra *x = &r->promotion_extra[i];
            json_t *bo = json_object();
            ref_put(b, bo, "wanted", ref_jmoney(b, x->budget_wanted));
            ref_put(b, bo, "granted", ref_jmoney(b, x->budget_granted));
            ref_put(b, o, "budget", bo);
        }
        ref_append(b, arr, o);
    }
    return arr;
}

static json_t *ref_render_gifts(ref_builder *b)
{
    json_t *arr = json_array();
    for (uint32_t i = 0; b->r->gifts && i < b->r->n_gifts; i++) {
        const perk_gift *g = &b->r->gifts[i];
        json_t *o = json_object();
        ref_put(b, o, "promotion", ref_jpromotion(b, g->promotion));
        ref_put(b, o, "sku", ref_jstr(b, g->sku));
        ref_put(b, o, "name", ref_jstr(b, g->name));
        ref_put(b, o, "quantity", ref_jint(g->quantity));
        ref_append(b, arr, o);
    }
    return arr;
}

static json_t *ref_render_effects(ref_builder *b)
{
    json_t *arr = json_array();
    for (uint32_t i = 0; b->r->effects && i < b->r->n_effects; i++) {
        const perk_effect *e = &b->r->effects[i];
        json_t *o = json_object();
        ref_put(b, o, "promotion", ref_jpromotion(b, e->promotion));
        ref_put(b, o, "kind", ref_jstr(b, e->kind));
        ref_put(b, o, "payload", ref_jstr(b, e->payload));
        ref_append(b, arr, o);
    }
    return arr;
}

static json_t *ref_render_reward_coupons(ref_builder *b)
{
    json_t *arr = json_array();
    for (uint32_t i = 0; b->r->reward_coupons && i < b->r->n_reward_coupons; i++) {
        const perk_reward_coupon *c = &b->r->reward_coupons[i];
        json_t *o = json_object();
        ref_put(b, o, "promotion", ref_jpromotion(b, c->promotion));
        ref_put(b, o, "campaign", ref_jstr(b, c->campaign));
        if (c->valid_seconds > 0) {
            ref_put(b, o, "valid_days", ref_jint(c->valid_seconds / 86400));
        } else {
            ref_put(b, o, "valid_from", c->valid_from > 0 ? ref_jint(c->valid_from) : json_null());
            ref_put(b, o, "expires_at", c->expires_at > 0 ? ref_jint(c->expires_at) : json_null());
        }
        ref_append(b, arr, o);
    }
    return arr;
}

static json_t *ref_render_coupons(ref_builder *b)
{
    json_t *arr = json_array();
    for (uint32_t i = 0; b->r->coupons && i < b->r->n_coupons; i++) {
        const perk_coupon_result *c = &b->r->coupons[i];
        bool accepted = c->verdict == PERK_COUPON_ACCEPTED;
        json_t *o = json_object();
        ref_put(b, o, "code", ref_jstr(b, c->code));
        ref_put(b, o, "accepted", json_boolean(accepted));
        ref_put(b, o, "verdict", ref_jstr(b, result_verdict_name(c->verdict)));
        ref_put(b, o, "reason", accepted ? json_null() : ref_jstr(b, result_verdict_message(c->verdict)));
        ref_put(b, o, "promotion", ref_jpromotion(b, c->promotion));
        ref_append(b, arr, o);
    }
    return arr;
}

static json_t *ref_render_points(ref_builder *b)
{
    json_t *arr = json_array();
    for (uint32_t i = 0; b->r->points && i < b->r->n_points; i++) {
        const perk_points_result *pt = &b->r->points[i];
        if (b->applied_only && pt->points == 0) continue;
        char id[24], mult[48];
        result_format_multiplier(pt->mult_num, pt->mult_den, mult, sizeof mult);
        json_t *o = json_object();
        ref_put(b, o, "rule", ref_jstr(b, result_earn_id(b->names, pt->earn_rule, id, sizeof id)));
        ref_put(b, o, "base", ref_jmoney(b, pt->base));
        ref_put(b, o, "points", ref_jint(pt->points));
        ref_put(b, o, "multiplier", ref_jstr(b, mult));
        ref_put(b, o, "capped", json_boolean(pt->capped));
        ref_append(b, arr, o);
    }
    return arr;
}

static json_t *ref_render_hints(ref_builder *b)
{
    json_t *arr = json_array();
    for (uint32_t i = 0; b->r->hints && i < b->r->n_hints; i++) {
        const perk_hint *h = &b->r->hints[i];
        char idbuf[24], text[512];
        const char *id = result_promotion_id(b->names, h->promotion, idbuf, sizeof idbuf);
        const char *label = result_promotion_label(b->names, h->promotion);
        const char *set = h->set_name ? h->set_name : "items";
        result_hint_text(b->r, i, b->symbol, label && *label ? label : id, text, sizeof text);
        json_t *o = json_object();
        ref_put(b, o, "promotion", ref_jpromotion(b, h->promotion));
        if (h->units) {
            ref_put(b, o, "units", ref_jint(h->shortfall));
            char pct[32];
            const perk_hint_next *next = b->r->hint_next ? &b->r->hint_next[i] : NULL;
            if (next != NULL) {
                result_format_value(next->value, RESULT_VALUE_PERCENT, b->r->exponent, b->symbol, pct, sizeof pct);
                if (next->bundle)
                    ref_put(b, o, "bundle_price", ref_jmoney(b, next->value));
                else
                    ref_put(b, o, "next_off", next->is_percent ? ref_jstr(b, pct) : ref_jmoney(b, next->value));
            }
        } else {
            ref_put(b, o, "shortfall", ref_jmoney(b, h->shortfall));
            const perk_hint_next *next = b->r->hint_next ? &b->r->hint_next[i] : NULL;
            if (next != NULL && next->per_store) {
                const char *store = b->r->hint_store ? b->r->hint_store[i] : NULL;
                char pct[32];
                result_format_value(next->value, RESULT_VALUE_PERCENT, b->r->exponent, b->symbol, pct, sizeof pct);
                ref_put(b, o, "store", store ? ref_jstr(b, store) : json_null());
                ref_put(b, o, "next_off", next->is_percent ? ref_jstr(b, pct) : ref_jmoney(b, next->value));
            }
        }
        ref_put(b, o, "set", ref_jstr(b, set));
        ref_put(b, o, "text", ref_jstr(b, text));
        ref_append(b, arr, o);
    }
    return arr;
}

static json_t *ref_render_result(ref_builder *b, int flags)
{
    const perk_result *r = b->r;
    json_t *root = json_object();
    bool exponent_ok = r->exponent >= 0 && r->exponent <= MONEY_MAX_EXPONENT;
    if (r->status != PERK_OK || !exponent_ok) {
        perk_status st = r->status != PERK_OK ? r->status : PERK_INVALID;
        ref_put(b, root, "status", ref_jstr(b, result_status_name(st)));
        ref_put(b, root, "error",
                ref_jstr(b, r->status != PERK_OK ? result_status_message(st)
                                                 : "the result has an invalid currency exponent"));
        return root;
    }
    ref_put(b, root, "status", ref_jstr(b, "ok"));
    ref_put(b, root, "currency", ref_jstr(b, r->currency));
    ref_put(b, root, "subtotal", ref_jmoney(b, r->subtotal));
    ref_put(b, root, "discount", ref_jmoney(b, r->discount));
    json_t *ship = json_object();
    ref_put(b, ship, "before", ref_jmoney(b, r->shipping_before));
    ref_put(b, ship, "after", ref_jmoney(b, r->shipping_after));
    ref_put(b, root, "shipping", ship);
    json_t *redeem = json_object();
    ref_put(b, redeem, "redeemable", ref_jint(r->points_redeemable));
    ref_put(b, redeem, "redeemed", ref_jint(r->points_redeemed));
    ref_put(b, redeem, "value", ref_jmoney(b, r->redeem_value));
    ref_put(b, redeem, "goods", ref_jmoney(b, r->redeem_goods));
    ref_put(b, redeem, "shipping", ref_jmoney(b, r->redeem_shipping));
    ref_put(b, root, "redeem", redeem);
    ref_put(b, root, "payable", ref_jmoney(b, r->payable));
    ref_put(b, root, "points_earned", ref_jint(r->points_earned));
    ref_put(b, root, "lines", ref_render_lines(b));
    ref_put(b, root, "promotions", ref_render_promotions(b));
    if (b->applied_only) {
        int64_t others = 0;
        for (uint32_t i = 0; r->promotions && i < r->n_promotions; i++)
            others += r->promotions[i].reason != PERK_REASON_APPLIED;
        ref_put(b, root, "promotions_not_listed", ref_jint(others));
    }
    ref_put(b, root, "gifts", ref_render_gifts(b));
    ref_put(b, root, "effects", ref_render_effects(b));
    if (r->n_reward_coupons > 0) ref_put(b, root, "reward_coupons", ref_render_reward_coupons(b));
    ref_put(b, root, "coupons", ref_render_coupons(b));
    ref_put(b, root, "points", ref_render_points(b));
    if (b->applied_only) {
        int64_t zero = 0;
        for (uint32_t i = 0; r->points && i < r->n_points; i++) zero += r->points[i].points == 0;
        ref_put(b, root, "points_not_listed", ref_jint(zero));
    }
    ref_put(b, root, "hints", ref_render_hints(b));
    if (!(flags & RESULT_JSON_NO_INSTRUCTIONS))
        ref_put(b, root, "instructions",
                r->instructions > (uint64_t)INT64_MAX ? json_null() : ref_jint((int64_t)r->instructions));
    return root;
}

static char *ref_result_json_render(const result_names *names, const perk_result *r, const cart_doc *doc,
                                    int flags)
{
    if (!r) return NULL;
    const money_currency *cur = r->currency ? money_currency_find(r->currency) : NULL;
    ref_builder b = { .names = names,
                      .r = r,
                      .doc = doc,
                      .symbol = cur ? cur->symbol : NULL,
                      .applied_only = (flags & RESULT_JSON_APPLIED_ONLY) != 0 };
    json_t *root = ref_render_result(&b, flags);
    char *text = NULL;
    if (root && !b.failed) {
        size_t jflags = JSON_PRESERVE_ORDER | ((flags & RESULT_JSON_PRETTY) ? JSON_INDENT(2) : JSON_COMPACT);
        text = json_dumps(root, jflags);
    }
    json_decref(root);
    return text;
}

#endif
