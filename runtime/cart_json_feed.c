/* cart_json_feed.c - loads a parsed cart_doc into a perk_context through the public C API.
 *
 * Kept apart from cart_json.c so that parsing carts (and its tests) links without libperk's VM:
 * only this file calls perk_cart_*() and perk_program_*().
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cart_json.h"

static perk_status feed_error(char *err, size_t errlen, perk_status st, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static perk_status feed_error(char *err, size_t errlen, perk_status st, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return st;
}

static const char *context_message(const perk_context *ctx)
{
    const char *m = perk_context_error(ctx);
    return m && *m ? m : "refused";
}

/* Resolves a promotion id, or explains (with a suggestion) that the program has none such. */
static long find_promotion(const perk_program *prog, const char *id, const char *path, char *err,
                           size_t errlen)
{
    long index = perk_program_find_promotion(prog, id);
    if (index >= 0) return index;
    size_t n = perk_program_promotion_count(prog);
    for (size_t i = 0; i < n; i++) {
        const char *candidate = perk_program_promotion_id(prog, i);
        if (candidate && cart_json_is_similar(id, candidate)) {
            feed_error(err, errlen, PERK_INVALID, "%s: no promotion \"%s\" in the program (did you mean %s?)",
                       path, id, candidate);
            return -1;
        }
    }
    feed_error(err, errlen, PERK_INVALID, "%s: no promotion \"%s\" in the program", path, id);
    return -1;
}

/* Whether the program has a tier named `name` (tier names are exact). A name the rules do not
 * define is an error like any other unknown value: silently pricing the customer without a tier
 * would hide a typo ("Gold" for "gold") or a tier the rules dropped. */
static bool find_tier(const perk_program *prog, const char *name, char *err, size_t errlen)
{
    size_t n_tiers = perk_program_tier_count(prog);
    for (size_t t = 0; t < n_tiers; t++)
        if (strcmp(perk_program_tier_id(prog, t), name) == 0) return true;
    if (n_tiers == 0) {
        feed_error(err, errlen, PERK_INVALID,
                   "$.customer.tier: \"%.100s\" is not a tier of this program (it defines no tiers); "
                   "leave the tier out",
                   name);
        return false;
    }
    for (size_t t = 0; t < n_tiers; t++) {
        const char *candidate = perk_program_tier_id(prog, t);
        if (cart_json_is_similar(name, candidate) || strcasecmp(name, candidate) == 0) {
            feed_error(err, errlen, PERK_INVALID,
                       "$.customer.tier: no tier \"%.100s\" in the program (did you mean %s?)", name,
                       candidate);
            return false;
        }
    }
    char list[160] = "";
    size_t n = 0;
    for (size_t t = 0; t < n_tiers && n + 1 < sizeof list; t++)
        n +=
            (size_t)snprintf(list + n, sizeof list - n, "%s%s", t ? ", " : "", perk_program_tier_id(prog, t));
    feed_error(err, errlen, PERK_INVALID,
               "$.customer.tier: no tier \"%.100s\" in the program (its tiers: %s)", name, list);
    return false;
}

/* "$.usage.member_day", or $.usage["odd key"] for a key that is not a plain name (the same
 * spelling cart_json_parse uses in its messages). */
static void usage_path(const char *key, char *buf, size_t cap)
{
    bool plain = (*key >= 'a' && *key <= 'z') || (*key >= 'A' && *key <= 'Z') || *key == '_';
    for (const char *s = key; plain && *s; s++)
        plain = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
                *s == '_' || *s == '-';
    if (plain) {
        snprintf(buf, cap, "$.usage.%s", key);
        return;
    }
    size_t n = (size_t)snprintf(buf, cap, "$.usage[\"");
    for (const char *s = key; *s && n + 8 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            buf[n++] = '\\';
            buf[n++] = (char)c;
        } else if (c < 0x20) {
            n += (size_t)snprintf(buf + n, cap - n, "\\u%04x", c);
        } else {
            buf[n++] = (char)c;
        }
    }
    snprintf(buf + n, cap - n, "\"]");
}

perk_status cart_json_feed(const cart_doc *doc, perk_context *ctx, const perk_program *prog, char *err,
                           size_t errlen)
{
    if (err && errlen) err[0] = '\0';
    if (!doc || !ctx || !prog)
        return feed_error(err, errlen, PERK_INVALID, "cart_json_feed: missing document, context or program");
    perk_cart_reset(ctx);
    if (doc->customer.tier && !find_tier(prog, doc->customer.tier, err, errlen)) return PERK_INVALID;
    perk_status st = perk_cart_set_customer(ctx, &doc->customer);
    if (st != PERK_OK) return feed_error(err, errlen, st, "$.customer: %s", context_message(ctx));
    perk_order order = doc->order;
    if (!doc->has_time) order.time = (int64_t)time(NULL);
    st = perk_cart_set_order(ctx, &order);
    if (st != PERK_OK) return feed_error(err, errlen, st, "$.order: %s", context_message(ctx));
    for (size_t i = 0; i < doc->n_lines; i++) {
        st = perk_cart_add_line(ctx, &doc->lines[i]);
        if (st != PERK_OK) return feed_error(err, errlen, st, "$.lines[%zu]: %s", i, context_message(ctx));
    }
    for (size_t i = 0; i < doc->n_coupons; i++) {
        const cart_json_coupon *c = &doc->coupons[i];
        st = perk_cart_add_coupon(ctx, c->code, c->campaign, c->status);
        if (st != PERK_OK) return feed_error(err, errlen, st, "$.coupons[%zu]: %s", i, context_message(ctx));
    }
    char path[256];
    for (size_t i = 0; i < doc->n_usage; i++) {
        const cart_json_usage *u = &doc->usage[i];
        usage_path(u->promotion, path, sizeof path);
        long index = find_promotion(prog, u->promotion, path, err, errlen);
        if (index < 0) return PERK_INVALID;
        st = perk_cart_set_usage(ctx, (size_t)index, &u->usage);
        if (st == PERK_OK && u->customer_units > 0)
            st = perk_cart_set_customer_units(ctx, (size_t)index, u->customer_units);
        if (st != PERK_OK) return feed_error(err, errlen, st, "%s: %s", path, context_message(ctx));
    }
    for (size_t i = 0; i < doc->n_exclude; i++) {
        snprintf(path, sizeof path, "$.exclude[%zu]", i);
        long index = find_promotion(prog, doc->exclude[i], path, err, errlen);
        if (index < 0) return PERK_INVALID;
        st = perk_cart_exclude(ctx, (size_t)index);
        if (st != PERK_OK) return feed_error(err, errlen, st, "%s: %s", path, context_message(ctx));
    }
    return PERK_OK;
}

