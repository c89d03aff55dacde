/* result_json.c - renders a perk_result as deterministic JSON (format in docs/result.md), and the
 * naming/formatting helpers the text explanation (explain.c) shares.
 *
 * Everything here works from the perk_result and a result_names table; nothing calls into
 * libperk, so the renderer is usable and testable without a program or a VM.
 */
#include "result_json.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "civil.h"
#include "money.h"
#include "opcodes.h"

/* ------------------------------------------------------------------ names and texts */

const char *result_promotion_id(const result_names *names, uint32_t index, char *buf, size_t cap)
{
    if (names && index < names->n_promotions && names->promotion_ids && names->promotion_ids[index])
        return names->promotion_ids[index];
    snprintf(buf, cap, "#%" PRIu32, index);
    return buf;
}

const char *result_promotion_label(const result_names *names, uint32_t index)
{
    if (names && index < names->n_promotions && names->promotion_labels)
        return names->promotion_labels[index];
    return NULL;
}

const char *result_earn_id(const result_names *names, uint32_t index, char *buf, size_t cap)
{
    if (names && index < names->n_earns && names->earn_ids && names->earn_ids[index])
        return names->earn_ids[index];
    snprintf(buf, cap, "#%" PRIu32, index);
    return buf;
}

/* Status, reason and coupon verdict names and messages come from the X-macro lists in perk.h
 * (test_result_json checks each lower-case name against its upper-case one). */
#define STATUS_MSG(NAME, name, msg) msg,
#define REASON_MSG(NAME, name, text) text,
#define STATUS_LOWER(NAME, name, msg) #name,
#define REASON_LOWER(NAME, name, text) #name,
static const char *const status_messages[] = { PERK_STATUS_LIST(STATUS_MSG) };
static const char *const reason_messages[] = { PERK_REASON_LIST(REASON_MSG) };
static const char *const status_lower[] = { PERK_STATUS_LIST(STATUS_LOWER) };
static const char *const reason_lower[] = { PERK_REASON_LIST(REASON_LOWER) };

const char *result_status_name(perk_status status)
{
    return (unsigned)status < PERK_STATUS_COUNT ? status_lower[status] : "unknown";
}

const char *result_status_message(perk_status status)
{
    return (unsigned)status < PERK_STATUS_COUNT ? status_messages[status] : "unknown status";
}

const char *result_reason_name(perk_reason reason)
{
    return (unsigned)reason < PERK_REASON_COUNT ? reason_lower[reason] : "unknown";
}

const char *result_reason_message(perk_reason reason)
{
    return (unsigned)reason < PERK_REASON_COUNT ? reason_messages[reason] : "unknown reason";
}

const char *result_verdict_name(perk_coupon_verdict verdict)
{
    switch (verdict) { /* no default: a verdict missing here is a compile error (-Wswitch) */
#define VERDICT_NAME(NAME, name, msg) \
    case PERK_COUPON_##NAME: return #name;
        PERK_COUPON_VERDICT_LIST(VERDICT_NAME)
#undef VERDICT_NAME
    }
    return "unknown";
}

const char *result_verdict_message(perk_coupon_verdict verdict)
{
    switch (verdict) {
#define VERDICT_MESSAGE(NAME, name, msg) \
    case PERK_COUPON_##NAME: return msg;
        PERK_COUPON_VERDICT_LIST(VERDICT_MESSAGE)
#undef VERDICT_MESSAGE
    }
    return "rejected";
}

static const char *const cmp_texts[] = {
    [PERK_CMP_EQ] = "=",  [PERK_CMP_NE] = "!=", [PERK_CMP_LT] = "<",
    [PERK_CMP_LE] = "<=", [PERK_CMP_GT] = ">",  [PERK_CMP_GE] = ">=",
};
/* what was observed when the comparison failed: not (a >= b) is a < b */
static const char *const cmp_negated[] = {
    [PERK_CMP_EQ] = "!=", [PERK_CMP_NE] = "=",  [PERK_CMP_LT] = ">=",
    [PERK_CMP_LE] = ">",  [PERK_CMP_GT] = "<=", [PERK_CMP_GE] = "<",
};

const char *result_cmp_text(int cmp)
{
    return cmp >= PERK_CMP_EQ && cmp <= PERK_CMP_GE ? cmp_texts[cmp] : "?";
}

const char *result_cmp_negated_text(int cmp)
{
    return cmp >= PERK_CMP_EQ && cmp <= PERK_CMP_GE ? cmp_negated[cmp] : "?";
}

void result_hint_text(const perk_hint *h, int exponent, const char *symbol, const char *name, char *buf,
                      size_t cap)
{
    char amount[64], next[64];
    const char *set = h->set_name ? h->set_name : "items";
    if (!h->units) {
        result_format_value(h->shortfall, RESULT_VALUE_MONEY, exponent, symbol, amount, sizeof amount);
        snprintf(buf, cap, "add %s of %s to get %s", amount, set, name);
        return;
    }
    result_format_value(h->next_value, h->next_is_percent ? RESULT_VALUE_PERCENT : RESULT_VALUE_MONEY,
                        exponent, symbol, next, sizeof next);
    snprintf(buf, cap, "add %" PRId64 " more %s of %s to get %s off with %s", h->shortfall,
             h->shortfall == 1 ? "unit" : "units", set, next, name);
}

void result_format_value(int64_t value, result_value_kind kind, int exponent, const char *symbol, char *buf,
                         size_t cap)
{
    if (cap == 0) return;
    switch (kind) {
    case RESULT_VALUE_MONEY:
        if (exponent >= 0 && exponent <= MONEY_MAX_EXPONENT) {
            money_format(value, exponent, symbol, buf, cap);
            return;
        }
        break;
    case RESULT_VALUE_PERCENT: {
        /* ppm: 10000 ppm = 1%; print up to 4 decimals, trailing zeros dropped */
        uint64_t mag = value < 0 ? (uint64_t)0 - (uint64_t)value : (uint64_t)value;
        char frac[8];
        snprintf(frac, sizeof frac, "%04" PRIu64, mag % 10000);
        size_t n = strlen(frac);
        while (n > 0 && frac[n - 1] == '0') frac[--n] = '\0';
        snprintf(buf, cap, "%s%" PRIu64 "%s%s%%", value < 0 ? "-" : "", mag / 10000, n ? "." : "", frac);
        return;
    }
    case RESULT_VALUE_DATE: {
        int y, m, d;
        civil_date_from_days(value, &y, &m, &d);
        snprintf(buf, cap, "%04d-%02d-%02d", y, m, d);
        return;
    }
    case RESULT_VALUE_TIME:
        if (value >= 0 && value < 24 * 60) {
            snprintf(buf, cap, "%02d:%02d", (int)(value / 60), (int)(value % 60));
            return;
        }
        break;
    case RESULT_VALUE_DURATION: {
        /* the largest unit that divides it: 31536000 -> "365 days", 5400 -> "90 minutes" */
        static const struct {
            int64_t seconds;
            const char *one, *many;
        } units[] = { { 86400, "day", "days" }, { 3600, "hour", "hours" }, { 60, "minute", "minutes" } };
        for (size_t u = 0; u < sizeof units / sizeof units[0]; u++)
            if (value % units[u].seconds == 0) {
                int64_t n = value / units[u].seconds;
                snprintf(buf, cap, "%" PRId64 " %s", n, n == 1 || n == -1 ? units[u].one : units[u].many);
                return;
            }
        snprintf(buf, cap, "%" PRId64 " seconds", value);
        return;
    }
    case RESULT_VALUE_DATETIME: {
        int64_t days = value / 86400, sec = value % 86400;
        if (sec < 0) {
            sec += 86400;
            days--;
        }
        int y, m, d;
        civil_date_from_days(days, &y, &m, &d);
        snprintf(buf, cap, "%04d-%02d-%02d %02d:%02d:%02d", y, m, d, (int)(sec / 3600), (int)(sec / 60 % 60),
                 (int)(sec % 60));
        return;
    }
    case RESULT_VALUE_MONTH_DAY:
    case RESULT_VALUE_PLAIN: break;
    }
    snprintf(buf, cap, "%" PRId64, value);
}

void result_comparison_text(int64_t observed, int cmp, int64_t expected, result_value_kind kind, int exponent,
                            const char *symbol, char *buf, size_t cap)
{
    if (kind == RESULT_VALUE_MONTH_DAY) {
        if (expected > 0)
            snprintf(buf, cap, "today is day %" PRId64 ", needs day %" PRId64, observed, expected);
        else
            snprintf(buf, cap, "today is day %" PRId64, observed);
        return;
    }
    char a[64], b[64];
    result_format_value(observed, kind, exponent, symbol, a, sizeof a);
    result_format_value(expected, kind, exponent, symbol, b, sizeof b);
    snprintf(buf, cap, "%s %s %s", a, result_cmp_negated_text(cmp), b);
}

void result_unknown_text(uint32_t unknown_fact, char *buf, size_t cap)
{
    /* why each fact is unknown, in the words of the cart (docs/semantics.md, "Unknown facts") */
    static const struct {
        const char *fact, *why;
    } whys[] = {
        { "customer.id", "the cart has no customer" },
        { "customer.tier", "the cart gives no tier the rules name" },
        { "customer.birthday", "the cart gives no birthday with a year" },
        { "customer.is_birthday", "the cart gives no birthday" },
        { "customer.birthday_month", "the cart gives no birthday" },
        { "customer.first_order", "the cart does not say whether it is the first order" },
        { "customer.orders", "the cart gives no order count" },
        { "customer.member_since", "the cart has no member" },
        { "customer.points", "the cart gives no points balance" },
        { "order.channel", "the order gives no channel" },
        { "margin", "a line has no margin" },
    };
    const char *name = perk_unknown_name(unknown_fact);
    if (cap == 0) return;
    buf[0] = '\0';
    if (name == NULL) return;
    const char *why = "the cart does not give it";
    for (size_t i = 0; i < sizeof whys / sizeof whys[0]; i++)
        if (strcmp(whys[i].fact, name) == 0) why = whys[i].why;
    snprintf(buf, cap, "%s is unknown: %s", name, why);
}

void result_format_multiplier(int64_t num, int64_t den, char *buf, size_t cap)
{
    if (den <= 0 || num < 0) {
        snprintf(buf, cap, "x?");
        return;
    }
    if (den == 1) {
        snprintf(buf, cap, "x%" PRId64, num);
        return;
    }
    /* A factor with a short decimal form (3/2, 5/4) prints as the rules write it: x1.5. */
    int64_t scale = 1;
    int digits = 0;
    while (scale % den != 0 && digits < 6) {
        scale *= 10;
        digits++;
    }
    if (scale % den == 0) {
        __int128 v = (__int128)num * (scale / den);
        int64_t whole = (int64_t)(v / scale), frac = (int64_t)(v % scale);
        char f[8]; /* digits <= 6, 0 <= frac < scale */
        for (int k = digits - 1; k >= 0; k--) {
            f[k] = (char)('0' + frac % 10);
            frac /= 10;
        }
        f[digits] = '\0';
        size_t n = (size_t)digits;
        while (n > 0 && f[n - 1] == '0') f[--n] = '\0';
        snprintf(buf, cap, "x%" PRId64 "%s%s", whole, n ? "." : "", f);
        return;
    }
    snprintf(buf, cap, "x%" PRId64 "/%" PRId64, num, den);
}

result_value_kind result_condition_kind(const result_names *names, uint32_t condition)
{
    if (!names || !names->condition_kind) return RESULT_VALUE_PLAIN;
    result_value_kind k = names->condition_kind(names->user, condition);
    return k <= RESULT_VALUE_MONTH_DAY ? k : RESULT_VALUE_PLAIN;
}

const char *result_condition_text(const result_names *names, uint32_t condition)
{
    const char *t = names && names->condition_text ? names->condition_text(names->user, condition) : NULL;
    return t ? t : "";
}

void result_condition_location(const result_names *names, uint32_t condition, char *buf, size_t cap)
{
    const char *file = NULL;
    uint32_t line = 0, col = 0;
    if (cap) buf[0] = '\0';
    if (!names || !names->condition_location) return;
    names->condition_location(names->user, condition, &file, &line, &col);
    if (file && line) snprintf(buf, cap, "%s:%" PRIu32 ":%" PRIu32, file, line, col);
}

/* ------------------------------------------------------------------ JSON building */

typedef struct builder {
    bool failed; /* out of memory somewhere: the render returns NULL */
    const result_names *names;
    const perk_result *r;
    const cart_doc *doc;
    const char *symbol; /* currency symbol for human-readable texts, or NULL */
    bool applied_only;  /* RESULT_JSON_APPLIED_ONLY */
} builder;

/* A JSON string, or null for NULL. Invalid UTF-8 (which jansson refuses) has each bad byte
 * replaced by U+FFFD so that output is always valid JSON. */
static json_t *jstr(builder *b, const char *s)
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

static void put(builder *b, json_t *obj, const char *key, json_t *value)
{
    if (!obj || !value || json_object_set_new(obj, key, value) != 0) b->failed = true;
}

static void append(builder *b, json_t *arr, json_t *value)
{
    if (!arr || !value || json_array_append_new(arr, value) != 0) b->failed = true;
}

static json_t *jmoney(const builder *b, int64_t minor)
{
    char buf[48];
    money_format(minor, b->r->exponent, NULL, buf, sizeof buf);
    return json_string(buf);
}

static json_t *jint(int64_t v) { return json_integer((json_int_t)v); }

static json_t *jpromotion(builder *b, uint32_t index)
{
    char buf[24];
    if (index == UINT32_MAX) return json_null();
    return jstr(b, result_promotion_id(b->names, index, buf, sizeof buf));
}

static json_t *render_lines(builder *b)
{
    const perk_result *r = b->r;
    json_t *arr = json_array();
    for (uint32_t i = 0; r->lines && i < r->n_lines; i++) {
        const perk_line_result *lr = &r->lines[i];
        const perk_line *in = b->doc && i < b->doc->n_lines ? &b->doc->lines[i] : NULL;
        json_t *o = json_object();
        put(b, o, "index", jint(i));
        put(b, o, "id", jstr(b, in ? in->id : NULL));
        put(b, o, "sku", jstr(b, in ? in->sku : NULL));
        put(b, o, "original", jmoney(b, lr->original));
        put(b, o, "final", jmoney(b, lr->final));
        put(b, o, "gift", json_boolean(lr->is_gift));
        put(b, o, "gift_promotion", lr->is_gift ? jpromotion(b, lr->gift_promotion) : json_null());
        json_t *allocs = json_array();
        /* a range outside the allocation array (a corrupt result) renders as no allocations */
        if (r->allocations && lr->first_allocation <= r->n_allocations &&
            lr->n_allocations <= r->n_allocations - lr->first_allocation) {
            for (uint32_t k = 0; k < lr->n_allocations; k++) {
                const perk_allocation *a = &r->allocations[lr->first_allocation + k];
                json_t *ao = json_object();
                put(b, ao, "promotion", jpromotion(b, a->promotion));
                put(b, ao, "amount", jmoney(b, a->amount));
                append(b, allocs, ao);
            }
        }
        put(b, o, "allocations", allocs);
        append(b, arr, o);
    }
    return arr;
}

static json_t *render_condition(builder *b, const perk_promotion_result *pr)
{
    if (pr->reason != PERK_REASON_CONDITION || pr->failed_condition == UINT32_MAX) return json_null();
    uint32_t c = pr->failed_condition;
    char loc[320];
    result_condition_location(b->names, c, loc, sizeof loc);
    json_t *o = json_object();
    put(b, o, "text", jstr(b, result_condition_text(b->names, c)));
    put(b, o, "location", loc[0] ? jstr(b, loc) : json_null());
    char why[160];
    result_unknown_text(pr->unknown_fact, why, sizeof why);
    put(b, o, "unknown", why[0] ? jstr(b, perk_unknown_name(pr->unknown_fact)) : json_null());
    if (why[0]) {
        /* a comparison with an unknown value has no observed value to show */
        put(b, o, "comparison", json_null());
        put(b, o, "kind", json_null());
        put(b, o, "observed", json_null());
        put(b, o, "expected", json_null());
        put(b, o, "explanation", jstr(b, why));
    } else if (pr->has_comparison) {
        result_value_kind kind = result_condition_kind(b->names, c);
        static const char *const kinds[] = { "plain", "money",    "percent",  "date",
                                             "time",  "duration", "datetime", "month_day" };
        char text[160];
        result_comparison_text(pr->observed, pr->comparison, pr->expected, kind, b->r->exponent, b->symbol,
                               text, sizeof text);
        put(b, o, "comparison", jstr(b, result_cmp_text(pr->comparison)));
        put(b, o, "kind", jstr(b, kinds[kind]));
        put(b, o, "observed", jint(pr->observed));
        put(b, o, "expected", jint(pr->expected));
        put(b, o, "explanation", jstr(b, text));
    } else {
        put(b, o, "comparison", json_null());
        put(b, o, "kind", json_null());
        put(b, o, "observed", json_null());
        put(b, o, "expected", json_null());
        put(b, o, "explanation", json_null());
    }
    return o;
}

static json_t *render_promotions(builder *b)
{
    const perk_result *r = b->r;
    json_t *arr = json_array();
    for (uint32_t i = 0; r->promotions && i < r->n_promotions; i++) {
        const perk_promotion_result *pr = &r->promotions[i];
        if (b->applied_only && pr->reason != PERK_REASON_APPLIED) continue;
        json_t *o = json_object();
        put(b, o, "id", jpromotion(b, pr->promotion));
        put(b, o, "label", jstr(b, result_promotion_label(b->names, pr->promotion)));
        put(b, o, "applied", json_boolean(pr->reason == PERK_REASON_APPLIED));
        put(b, o, "reason", jstr(b, result_reason_name(pr->reason)));
        put(b, o, "reason_text", jstr(b, result_reason_message(pr->reason)));
        put(b, o, "discount", jmoney(b, pr->discount));
        put(b, o, "shipping_discount", jmoney(b, pr->shipping_discount));
        put(b, o, "condition", render_condition(b, pr));
        append(b, arr, o);
    }
    return arr;
}

static json_t *render_gifts(builder *b)
{
    json_t *arr = json_array();
    for (uint32_t i = 0; b->r->gifts && i < b->r->n_gifts; i++) {
        const perk_gift *g = &b->r->gifts[i];
        json_t *o = json_object();
        put(b, o, "promotion", jpromotion(b, g->promotion));
        put(b, o, "sku", jstr(b, g->sku));
        put(b, o, "name", jstr(b, g->name));
        put(b, o, "quantity", jint(g->quantity));
        append(b, arr, o);
    }
    return arr;
}

static json_t *render_effects(builder *b)
{
    json_t *arr = json_array();
    for (uint32_t i = 0; b->r->effects && i < b->r->n_effects; i++) {
        const perk_effect *e = &b->r->effects[i];
        json_t *o = json_object();
        put(b, o, "promotion", jpromotion(b, e->promotion));
        put(b, o, "kind", jstr(b, e->kind));
        put(b, o, "payload", jstr(b, e->payload));
        append(b, arr, o);
    }
    return arr;
}

static json_t *render_coupons(builder *b)
{
    json_t *arr = json_array();
    for (uint32_t i = 0; b->r->coupons && i < b->r->n_coupons; i++) {
        const perk_coupon_result *c = &b->r->coupons[i];
        bool accepted = c->verdict == PERK_COUPON_ACCEPTED;
        json_t *o = json_object();
        put(b, o, "code", jstr(b, c->code));
        put(b, o, "accepted", json_boolean(accepted));
        put(b, o, "verdict", jstr(b, result_verdict_name(c->verdict)));
        put(b, o, "reason", accepted ? json_null() : jstr(b, result_verdict_message(c->verdict)));
        put(b, o, "promotion", jpromotion(b, c->promotion));
        append(b, arr, o);
    }
    return arr;
}

static json_t *render_points(builder *b)
{
    json_t *arr = json_array();
    for (uint32_t i = 0; b->r->points && i < b->r->n_points; i++) {
        const perk_points_result *pt = &b->r->points[i];
        if (b->applied_only && pt->points == 0) continue;
        char id[24], mult[48];
        result_format_multiplier(pt->mult_num, pt->mult_den, mult, sizeof mult);
        json_t *o = json_object();
        put(b, o, "rule", jstr(b, result_earn_id(b->names, pt->earn_rule, id, sizeof id)));
        put(b, o, "base", jmoney(b, pt->base));
        put(b, o, "points", jint(pt->points));
        put(b, o, "multiplier", jstr(b, mult));
        put(b, o, "capped", json_boolean(pt->capped));
        append(b, arr, o);
    }
    return arr;
}

static json_t *render_hints(builder *b)
{
    json_t *arr = json_array();
    for (uint32_t i = 0; b->r->hints && i < b->r->n_hints; i++) {
        const perk_hint *h = &b->r->hints[i];
        char idbuf[24], text[512];
        const char *id = result_promotion_id(b->names, h->promotion, idbuf, sizeof idbuf);
        const char *label = result_promotion_label(b->names, h->promotion);
        const char *set = h->set_name ? h->set_name : "items";
        result_hint_text(h, b->r->exponent, b->symbol, label && *label ? label : id, text, sizeof text);
        json_t *o = json_object();
        put(b, o, "promotion", jpromotion(b, h->promotion));
        if (h->units) { /* a count tier's next row: units to add, and what that row takes off */
            put(b, o, "units", jint(h->shortfall));
            char pct[32];
            result_format_value(h->next_value, RESULT_VALUE_PERCENT, b->r->exponent, b->symbol, pct,
                                sizeof pct);
            put(b, o, "next_off", h->next_is_percent ? jstr(b, pct) : jmoney(b, h->next_value));
        } else {
            put(b, o, "shortfall", jmoney(b, h->shortfall));
        }
        put(b, o, "set", jstr(b, set));
        put(b, o, "text", jstr(b, text));
        append(b, arr, o);
    }
    return arr;
}

static json_t *render_result(builder *b, int flags)
{
    const perk_result *r = b->r;
    json_t *root = json_object();
    bool exponent_ok = r->exponent >= 0 && r->exponent <= MONEY_MAX_EXPONENT;
    if (r->status != PERK_OK || !exponent_ok) {
        perk_status st = r->status != PERK_OK ? r->status : PERK_INVALID;
        put(b, root, "status", jstr(b, result_status_name(st)));
        put(b, root, "error",
            jstr(b, r->status != PERK_OK ? result_status_message(st)
                                         : "the result has an invalid currency exponent"));
        return root;
    }
    put(b, root, "status", jstr(b, "ok"));
    put(b, root, "currency", jstr(b, r->currency));
    put(b, root, "subtotal", jmoney(b, r->subtotal));
    put(b, root, "discount", jmoney(b, r->discount));
    json_t *ship = json_object();
    put(b, ship, "before", jmoney(b, r->shipping_before));
    put(b, ship, "after", jmoney(b, r->shipping_after));
    put(b, root, "shipping", ship);
    json_t *redeem = json_object();
    put(b, redeem, "redeemable", jint(r->points_redeemable));
    put(b, redeem, "redeemed", jint(r->points_redeemed));
    put(b, redeem, "value", jmoney(b, r->redeem_value));
    put(b, redeem, "goods", jmoney(b, r->redeem_goods));
    put(b, redeem, "shipping", jmoney(b, r->redeem_shipping));
    put(b, root, "redeem", redeem);
    put(b, root, "payable", jmoney(b, r->payable));
    put(b, root, "points_earned", jint(r->points_earned));
    put(b, root, "lines", render_lines(b));
    put(b, root, "promotions", render_promotions(b));
    if (b->applied_only) {
        int64_t others = 0;
        for (uint32_t i = 0; r->promotions && i < r->n_promotions; i++)
            others += r->promotions[i].reason != PERK_REASON_APPLIED;
        put(b, root, "promotions_not_listed", jint(others));
    }
    put(b, root, "gifts", render_gifts(b));
    put(b, root, "effects", render_effects(b));
    put(b, root, "coupons", render_coupons(b));
    put(b, root, "points", render_points(b));
    if (b->applied_only) {
        int64_t zero = 0;
        for (uint32_t i = 0; r->points && i < r->n_points; i++) zero += r->points[i].points == 0;
        put(b, root, "points_not_listed", jint(zero));
    }
    put(b, root, "hints", render_hints(b));
    if (!(flags & RESULT_JSON_NO_INSTRUCTIONS))
        put(b, root, "instructions",
            r->instructions > (uint64_t)INT64_MAX ? json_null() : jint((int64_t)r->instructions));
    return root;
}

char *result_json_render(const result_names *names, const perk_result *r, const cart_doc *doc, int flags)
{
    if (!r) return NULL;
    const money_currency *cur = r->currency ? money_currency_find(r->currency) : NULL;
    builder b = { .names = names,
                  .r = r,
                  .doc = doc,
                  .symbol = cur ? cur->symbol : NULL,
                  .applied_only = (flags & RESULT_JSON_APPLIED_ONLY) != 0 };
    json_t *root = render_result(&b, flags);
    char *text = NULL;
    if (root && !b.failed) {
        size_t jflags = JSON_PRESERVE_ORDER | ((flags & RESULT_JSON_PRETTY) ? JSON_INDENT(2) : JSON_COMPACT);
        text = json_dumps(root, jflags);
    }
    json_decref(root);
    return text;
}
