/* cart_json_ref.h - the jansson cart reader (cart_json_jansson.c) with its entry points renamed
 * ref_cart_json_*, and dump_doc(), every field of a cart_doc as text: what test_cart_json_diff.c
 * and the fuzz target fuzz_cart.c compare libperk's own reader with. Included once per program
 * (it defines functions), after cart_json.h and before cmocka.h (whose fail() macro the reader's
 * own fail() would meet).
 */
#ifndef PERK_CART_JSON_REF_H
#define PERK_CART_JSON_REF_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cart_json.h"

/* the reference reader, its entry points renamed so both link into this test */
#define cart_json_parse ref_cart_json_parse
#define cart_json_parse_file ref_cart_json_parse_file
#define cart_json_free ref_cart_json_free
#define cart_json_order_id ref_cart_json_order_id
#define cart_json_edit_distance ref_cart_json_edit_distance
#define cart_json_is_similar ref_cart_json_is_similar
cart_doc *ref_cart_json_parse(const char *text, size_t len, int exponent, const char *currency,
                              const perk_limits *limits, char *err, size_t errlen);
cart_doc *ref_cart_json_parse_file(const char *path, int exponent, const char *currency,
                                   const perk_limits *limits, char *err, size_t errlen);
void ref_cart_json_free(cart_doc *doc);
char *ref_cart_json_order_id(const char *text, size_t len);
size_t ref_cart_json_edit_distance(const char *a, const char *b, size_t cap);
bool ref_cart_json_is_similar(const char *typo, const char *candidate);
#include "cart_json_jansson.c"
#undef cart_json_parse
#undef cart_json_parse_file
#undef cart_json_free
#undef cart_json_order_id
#undef cart_json_edit_distance
#undef cart_json_is_similar

/* ------------------------------------------------------------------ a document as text */

typedef struct dump {
    char *buf;
    size_t len, cap;
} dump;

static void out(dump *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out(dump *d, const char *fmt, ...)
{
    if (!d->buf) {
        d->cap = 256;
        d->len = 0;
        if (!(d->buf = malloc(d->cap))) abort();
    }
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(d->buf + d->len, d->cap - d->len, fmt, ap);
        va_end(ap);
        if (n < 0) abort();
        if ((size_t)n < d->cap - d->len) {
            d->len += (size_t)n;
            return;
        }
        d->cap = (d->cap + (size_t)n) * 2;
        d->buf = realloc(d->buf, d->cap);
        if (!d->buf) abort();
    }
}

static const char *s_or(const char *s) { return s ? s : "(null)"; }

static void dump_strings(dump *d, const char *what, const char *const *s, size_t n)
{
    out(d, " %s[%zu]", what, n);
    for (size_t i = 0; i < n; i++) out(d, " <%s>", s[i]);
}

/* Every field of the document that cart_json_feed or a caller reads. */
static void dump_doc(dump *d, const cart_doc *doc)
{
    d->len = 0;
    if (!doc) {
        out(d, "NULL");
        return;
    }
    const perk_customer *c = &doc->customer;
    out(d, "exp=%d cur=%s\ncustomer id=%s tier=%s", doc->exponent, s_or(doc->currency), s_or(c->id),
        s_or(c->tier));
    dump_strings(d, "tags", c->tags, c->n_tags);
    out(d, " bday=%d-%d-%d since=%d/%" PRId64 " first=%d/%d orders=%d/%" PRId64 " points=%d/%" PRId64 "\n",
        c->birthday_year, c->birthday_month, c->birthday_day, c->has_member_since, (int64_t)c->member_since_days,
        c->has_first_order, c->first_order, c->has_order_count, c->order_count, c->has_points_balance,
        c->points_balance);
    const perk_order *o = &doc->order;
    out(d, "order id=%s cur=%s time=%d/%" PRId64 " ch=%s ship=%" PRId64 " sub=%s/%" PRId64 " redeem=%" PRId64 "\n",
        s_or(o->id), s_or(o->currency), doc->has_time, o->time, s_or(o->channel), o->shipping,
        s_or(o->subscription_plan), o->delivery_number, o->points_to_redeem);
    out(d, "order region=%s attrs[%zu]", s_or(o->region), o->n_attrs);
    for (size_t k = 0; k < o->n_attrs; k++) out(d, " <%s=%s>", o->attrs[k].key, o->attrs[k].value);
    out(d, "\n");
    for (size_t i = 0; i < doc->n_lines; i++) {
        const perk_line *l = &doc->lines[i];
        out(d, "line id=%s sku=%s name=%s cat=%s brand=%s price=%" PRId64 " qty=%" PRId64 " margin=%d/%" PRId64,
            s_or(l->id), s_or(l->sku), s_or(l->name), s_or(l->category), s_or(l->brand), l->unit_price,
            l->quantity, l->has_margin, l->margin_ppm);
        dump_strings(d, "tags", l->tags, l->n_tags);
        out(d, " store=%s attrs[%zu]", s_or(l->store), l->n_attrs);
        for (size_t k = 0; k < l->n_attrs; k++) out(d, " <%s=%s>", l->attrs[k].key, l->attrs[k].value);
        out(d, "\n");
    }
    for (size_t i = 0; i < doc->n_coupons; i++)
        out(d, "coupon %s campaign=%s status=%d\n", doc->coupons[i].code, s_or(doc->coupons[i].campaign),
            (int)doc->coupons[i].status);
    for (size_t i = 0; i < doc->n_usage; i++)
        out(d, "usage %s %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64 "\n", doc->usage[i].promotion,
            doc->usage[i].usage.uses, doc->usage[i].usage.money, doc->usage[i].usage.customer_uses,
            doc->usage[i].customer_units);
    dump_strings(d, "exclude", doc->exclude, doc->n_exclude);
}

#endif
