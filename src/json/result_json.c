/* result_json.c - renders a perk_result as deterministic JSON (format in docs/result.md) straight
 * into a buffer (no jansson tree, no allocation per value), and the naming/formatting helpers the
 * text explanation (explain.c) shares.
 *
 * Everything here works from the perk_result and a result_names table; nothing calls into
 * libperk, so the renderer is usable and testable without a program or a VM.
 */
#include "result_json.h"

#include <inttypes.h>
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

const char *result_hint_store(const perk_result *r, uint32_t i)
{
    if (r->hint_next == NULL || !r->hint_next[i].per_store || r->hint_store == NULL) return NULL;
    return r->hint_store[i];
}

void result_hint_text(const perk_result *r, uint32_t i, const char *symbol, const char *name, char *buf,
                      size_t cap)
{
    const perk_hint *h = &r->hints[i];
    int exponent = r->exponent;
    char amount[64], next[64];
    const char *set = h->set_name ? h->set_name : "items";
    const perk_hint_next *n = r->hint_next ? &r->hint_next[i] : NULL;
    if (n != NULL && (h->units || n->per_store))
        result_format_value(n->value, n->is_percent && !n->bundle ? RESULT_VALUE_PERCENT : RESULT_VALUE_MONEY,
                            exponent, symbol, next, sizeof next);
    if (!h->units) {
        result_format_value(h->shortfall, RESULT_VALUE_MONEY, exponent, symbol, amount, sizeof amount);
        if (n != NULL && n->per_store) { /* 跨店满减: the money goes to one store's lines */
            const char *store = result_hint_store(r, i);
            if (store != NULL)
                snprintf(buf, cap, "add %s of %s from store %s to get %s off there with %s", amount, set, store,
                         next, name);
            else
                snprintf(buf, cap, "add %s of %s without a store to get %s off with %s", amount, set, next, name);
            return;
        }
        snprintf(buf, cap, "add %s of %s to get %s", amount, set, name);
        return;
    }
    if (n == NULL) {
        snprintf(buf, cap, "add %" PRId64 " more %s of %s to get %s", h->shortfall,
                 h->shortfall == 1 ? "unit" : "units", set, name);
        return;
    }
    if (n->bundle) { /* a bundle one part short: the part's units, and the bundle's price */
        snprintf(buf, cap, "add %" PRId64 " more %s of %s to complete %s (the set for %s)", h->shortfall,
                 h->shortfall == 1 ? "unit" : "units", set, name, next);
        return;
    }
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
        { "order.region", "the order gives no region" },
        { "order.attr(...)", "the order does not have that attribute" },
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

/* ------------------------------------------------------------------ the JSON writer */

/* Writes the text jansson's json_dumps(JSON_PRESERVE_ORDER | JSON_COMPACT or JSON_INDENT(2))
 * wrote for the tree this module used to build (tests/unit/ref/result_json_ref.h keeps that
 * renderer; test_result_write.c, test_invariants.c and the fuzz harness compare the two byte for
 * byte): "," and ":" compact; pretty, each member on its own line indented by 2 spaces per level,
 * ": " after keys, empty containers as {} and []. No tree and no allocation per value: bytes go
 * into the caller's buffer, which grows (realloc) only in the growable mode. */
typedef struct writer {
    char *buf;
    size_t cap;
    size_t len;  /* bytes the whole text needs so far (may exceed cap in the fixed-buffer mode) */
    bool grow;   /* realloc buf when full (result_json_write_buf) */
    bool failed; /* a realloc failed */
    bool pretty;
    unsigned depth;    /* nesting depth of the container being written */
    uint32_t nonempty; /* bit d: the container at depth d has a member already */
    const result_names *names;
    const perk_result *r;
    const cart_doc *doc;
    const char *symbol; /* currency symbol for human-readable texts, or NULL */
    bool applied_only;  /* RESULT_JSON_APPLIED_ONLY */
} writer;

static bool w_reserve(writer *w, size_t n)
{
    if (w->len + n < w->cap) return true;
    if (!w->grow) return false;
    size_t cap = w->cap ? w->cap : 1024;
    while (cap <= w->len + n) cap *= 2;
    char *p = realloc(w->buf, cap);
    if (!p) {
        w->failed = true;
        w->grow = false;
        return false;
    }
    w->buf = p;
    w->cap = cap;
    return true;
}

/* the slow path of w_raw: grow, or write what fits */
static void w_raw_full(writer *w, const char *s, size_t n)
{
    if (w_reserve(w, n))
        memcpy(w->buf + w->len, s, n);
    else if (w->len < w->cap)
        memcpy(w->buf + w->len, s, w->cap - w->len < n ? w->cap - w->len : n);
    w->len += n;
}

static inline void w_raw(writer *w, const char *s, size_t n)
{
    if (w->len + n < w->cap) {
        memcpy(w->buf + w->len, s, n);
        w->len += n;
    } else {
        w_raw_full(w, s, n);
    }
}

static inline void w_ch(writer *w, char c)
{
    if (w->len + 1 < w->cap)
        w->buf[w->len++] = c;
    else
        w_raw_full(w, &c, 1);
}

#define W_LIT(w, lit) w_raw((w), (lit), sizeof(lit) - 1)

static void w_indent(writer *w, unsigned depth)
{
    static const char spaces[] = "\n                                ";
    size_t n = 1 + 2 * (size_t)depth;
    w_raw(w, spaces, n < sizeof spaces - 1 ? n : sizeof spaces - 1);
}

/* before a member of the current container: the separator and, pretty, the new line */
static void w_next(writer *w)
{
    uint32_t bit = UINT32_C(1) << w->depth;
    if (w->nonempty & bit) w_ch(w, ',');
    w->nonempty |= bit;
    if (w->pretty) w_indent(w, w->depth);
}

static void w_open(writer *w, char c)
{
    w_ch(w, c);
    w->depth++;
    w->nonempty &= ~(UINT32_C(1) << w->depth);
}

static void w_close(writer *w, char c)
{
    bool had = (w->nonempty >> w->depth) & 1u;
    w->depth--;
    if (had && w->pretty) w_indent(w, w->depth);
    w_ch(w, c);
}

/* "key": (keys are literals that need no escaping) */
#define W_KEY(w, k)                            \
    do {                                       \
        w_next(w);                             \
        W_LIT(w, "\"" k "\"");                 \
        w_raw((w), ": ", (w)->pretty ? 2 : 1); \
    } while (0)

/* The length of the UTF-8 character at s as jansson judges it (utf8_check_first,
 * utf8_check_full): 0 if invalid (bad lead byte, missing or bad continuation, overlong form,
 * surrogate, above U+10FFFF). A NUL ends the check as a bad continuation byte. */
static size_t utf8_char_len(const unsigned char *s)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t v;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        v = c & 0x1Fu;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        v = c & 0x0Fu;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        v = c & 0x07u;
    } else
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0u) != 0x80u) return 0;
        v = (v << 6) | (s[i] & 0x3Fu);
    }
    if ((len == 3 && v < 0x800) || (len == 4 && v < 0x10000) || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    return len;
}

/* A JSON string, or null for NULL, escaped as jansson escapes ("\"", "\\", \b \f \n \r \t, other
 * control characters as \u00XX, everything else as is); each byte of invalid UTF-8 becomes U+FFFD
 * (the old renderer's rule, so that the output is always valid JSON). */
static void w_str(writer *w, const char *str)
{
    if (!str) {
        W_LIT(w, "null");
        return;
    }
    const unsigned char *s = (const unsigned char *)str;
    w_ch(w, '"');
    size_t run = 0; /* start of the bytes not yet written that need no escaping */
    size_t i = 0;
    for (;;) {
        unsigned char c = s[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0x80) {
            size_t len = utf8_char_len(s + i);
            if (len) {
                i += len;
                continue;
            }
        }
        w_raw(w, (const char *)s + run, i - run);
        if (c == '\0') break;
        switch (c) {
        case '"': W_LIT(w, "\\\""); break;
        case '\\': W_LIT(w, "\\\\"); break;
        case '\b': W_LIT(w, "\\b"); break;
        case '\f': W_LIT(w, "\\f"); break;
        case '\n': W_LIT(w, "\\n"); break;
        case '\r': W_LIT(w, "\\r"); break;
        case '\t': W_LIT(w, "\\t"); break;
        default:
            if (c < 0x20) {
                static const char hex[] = "0123456789ABCDEF";
                char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
                w_raw(w, e, sizeof e);
            } else {
                W_LIT(w, "\xEF\xBF\xBD"); /* an invalid byte */
            }
        }
        i++;
        run = i;
    }
    w_ch(w, '"');
}

static void w_int(writer *w, int64_t v)
{
    char d[24];
    size_t n = sizeof d;
    uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        d[--n] = (char)('0' + mag % 10);
        mag /= 10;
    } while (mag);
    if (v < 0) d[--n] = '-';
    w_raw(w, d + n, sizeof d - n);
}

static void w_bool(writer *w, bool v)
{
    if (v)
        W_LIT(w, "true");
    else
        W_LIT(w, "false");
}

/* money as a string in major units: "268.00" (ASCII digits, '-' and '.': no escaping) */
static void w_money(writer *w, int64_t minor)
{
    char buf[48];
    size_t n = money_format(minor, w->r->exponent, NULL, buf, sizeof buf);
    w_ch(w, '"');
    w_raw(w, buf, n < sizeof buf ? n : sizeof buf - 1);
    w_ch(w, '"');
}

static void w_promotion(writer *w, uint32_t index)
{
    char buf[24];
    if (index == UINT32_MAX)
        W_LIT(w, "null");
    else
        w_str(w, result_promotion_id(w->names, index, buf, sizeof buf));
}

static void write_lines(writer *w)
{
    const perk_result *r = w->r;
    w_open(w, '[');
    for (uint32_t i = 0; r->lines && i < r->n_lines; i++) {
        const perk_line_result *lr = &r->lines[i];
        const perk_line *in = w->doc && i < w->doc->n_lines ? &w->doc->lines[i] : NULL;
        w_next(w);
        w_open(w, '{');
        W_KEY(w, "index");
        w_int(w, i);
        W_KEY(w, "id");
        w_str(w, in ? in->id : NULL);
        W_KEY(w, "sku");
        w_str(w, in ? in->sku : NULL);
        W_KEY(w, "original");
        w_money(w, lr->original);
        W_KEY(w, "final");
        w_money(w, lr->final);
        W_KEY(w, "gift");
        w_bool(w, lr->is_gift);
        W_KEY(w, "gift_promotion");
        if (lr->is_gift)
            w_promotion(w, lr->gift_promotion);
        else
            W_LIT(w, "null");
        W_KEY(w, "allocations");
        w_open(w, '[');
        /* a range outside the allocation array (a corrupt result) renders as no allocations */
        if (r->allocations && lr->first_allocation <= r->n_allocations &&
            lr->n_allocations <= r->n_allocations - lr->first_allocation) {
            for (uint32_t k = 0; k < lr->n_allocations; k++) {
                const perk_allocation *a = &r->allocations[lr->first_allocation + k];
                w_next(w);
                w_open(w, '{');
                W_KEY(w, "promotion");
                w_promotion(w, a->promotion);
                W_KEY(w, "amount");
                w_money(w, a->amount);
                w_close(w, '}');
            }
        }
        w_close(w, ']');
        w_close(w, '}');
    }
    w_close(w, ']');
}

static void write_nulls(writer *w)
{
    W_KEY(w, "comparison");
    W_LIT(w, "null");
    W_KEY(w, "kind");
    W_LIT(w, "null");
    W_KEY(w, "observed");
    W_LIT(w, "null");
    W_KEY(w, "expected");
    W_LIT(w, "null");
}

static void write_condition(writer *w, const perk_promotion_result *pr)
{
    if (pr->reason != PERK_REASON_CONDITION || pr->failed_condition == UINT32_MAX) {
        W_LIT(w, "null");
        return;
    }
    uint32_t c = pr->failed_condition;
    char loc[320];
    result_condition_location(w->names, c, loc, sizeof loc);
    w_open(w, '{');
    W_KEY(w, "text");
    w_str(w, result_condition_text(w->names, c));
    W_KEY(w, "location");
    w_str(w, loc[0] ? loc : NULL);
    char why[160];
    result_unknown_text(pr->unknown_fact, why, sizeof why);
    W_KEY(w, "unknown");
    w_str(w, why[0] ? perk_unknown_name(pr->unknown_fact) : NULL);
    if (why[0]) {
        /* a comparison with an unknown value has no observed value to show */
        write_nulls(w);
        W_KEY(w, "explanation");
        w_str(w, why);
    } else if (pr->has_comparison) {
        result_value_kind kind = result_condition_kind(w->names, c);
        static const char *const kinds[] = { "plain", "money",    "percent",  "date",
                                             "time",  "duration", "datetime", "month_day" };
        char text[160];
        result_comparison_text(pr->observed, pr->comparison, pr->expected, kind, w->r->exponent, w->symbol,
                               text, sizeof text);
        W_KEY(w, "comparison");
        w_str(w, result_cmp_text(pr->comparison));
        W_KEY(w, "kind");
        w_str(w, kinds[kind]);
        W_KEY(w, "observed");
        w_int(w, pr->observed);
        W_KEY(w, "expected");
        w_int(w, pr->expected);
        W_KEY(w, "explanation");
        w_str(w, text);
    } else {
        write_nulls(w);
        W_KEY(w, "explanation");
        W_LIT(w, "null");
    }
    w_close(w, '}');
}

static void write_promotions(writer *w)
{
    const perk_result *r = w->r;
    w_open(w, '[');
    for (uint32_t i = 0; r->promotions && i < r->n_promotions; i++) {
        const perk_promotion_result *pr = &r->promotions[i];
        if (w->applied_only && pr->reason != PERK_REASON_APPLIED) continue;
        w_next(w);
        w_open(w, '{');
        W_KEY(w, "id");
        w_promotion(w, pr->promotion);
        W_KEY(w, "label");
        w_str(w, result_promotion_label(w->names, pr->promotion));
        W_KEY(w, "applied");
        w_bool(w, pr->reason == PERK_REASON_APPLIED);
        W_KEY(w, "reason");
        w_str(w, result_reason_name(pr->reason));
        W_KEY(w, "reason_text");
        w_str(w, result_reason_message(pr->reason));
        W_KEY(w, "discount");
        w_money(w, pr->discount);
        W_KEY(w, "shipping_discount");
        w_money(w, pr->shipping_discount);
        W_KEY(w, "condition");
        write_condition(w, pr);
        /* a best-deal member that could apply (docs/result.md): what it takes or would have taken
         * off, and which member won; absent for every other promotion */
        if (r->promotion_extra && r->promotion_extra[i].best_saving >= 0) {
            const perk_promotion_extra *x = &r->promotion_extra[i];
            W_KEY(w, "best");
            w_open(w, '{');
            W_KEY(w, "saving");
            w_money(w, x->best_saving);
            W_KEY(w, "winner");
            w_promotion(w, x->best_winner < r->n_promotions ? x->best_winner : UINT32_MAX);
            w_close(w, '}');
        }
        /* a unit limit per customer (semantics 5.7): the units that got its price */
        for (uint32_t k = 0; k < r->n_promotion_units; k++)
            if (r->promotion_units[k].promotion == i) {
                W_KEY(w, "units");
                w_int(w, r->promotion_units[k].units);
            }
        /* a partial money budget that had less left than it wanted: absent otherwise */
        if (r->promotion_extra && r->promotion_extra[i].budget_wanted >= 0) {
            const perk_promotion_extra *x = &r->promotion_extra[i];
            W_KEY(w, "budget");
            w_open(w, '{');
            W_KEY(w, "wanted");
            w_money(w, x->budget_wanted);
            W_KEY(w, "granted");
            w_money(w, x->budget_granted);
            w_close(w, '}');
        }
        w_close(w, '}');
    }
    w_close(w, ']');
}

static void write_gifts(writer *w)
{
    w_open(w, '[');
    for (uint32_t i = 0; w->r->gifts && i < w->r->n_gifts; i++) {
        const perk_gift *g = &w->r->gifts[i];
        w_next(w);
        w_open(w, '{');
        W_KEY(w, "promotion");
        w_promotion(w, g->promotion);
        W_KEY(w, "sku");
        w_str(w, g->sku);
        W_KEY(w, "name");
        w_str(w, g->name);
        W_KEY(w, "quantity");
        w_int(w, g->quantity);
        w_close(w, '}');
    }
    w_close(w, ']');
}

static void write_effects(writer *w)
{
    w_open(w, '[');
    for (uint32_t i = 0; w->r->effects && i < w->r->n_effects; i++) {
        const perk_effect *e = &w->r->effects[i];
        w_next(w);
        w_open(w, '{');
        W_KEY(w, "promotion");
        w_promotion(w, e->promotion);
        W_KEY(w, "kind");
        w_str(w, e->kind);
        W_KEY(w, "payload");
        w_str(w, e->payload);
        w_close(w, '}');
    }
    w_close(w, ']');
}

/* 满500返50券: what the order earns (docs/result.md); the key only when there is one, so results
 * of rule sets without reward coupons read as before. Times are unix seconds, as the store's
 * coupon API gives them; null = the commit / never. */
static void write_reward_coupons(writer *w)
{
    w_open(w, '[');
    for (uint32_t i = 0; w->r->reward_coupons && i < w->r->n_reward_coupons; i++) {
        const perk_reward_coupon *c = &w->r->reward_coupons[i];
        w_next(w);
        w_open(w, '{');
        W_KEY(w, "promotion");
        w_promotion(w, c->promotion);
        W_KEY(w, "campaign");
        w_str(w, c->campaign);
        if (c->valid_seconds > 0) {
            W_KEY(w, "valid_days");
            w_int(w, c->valid_seconds / 86400);
        } else {
            W_KEY(w, "valid_from");
            if (c->valid_from > 0)
                w_int(w, c->valid_from);
            else
                W_LIT(w, "null");
            W_KEY(w, "expires_at");
            if (c->expires_at > 0)
                w_int(w, c->expires_at);
            else
                W_LIT(w, "null");
        }
        w_close(w, '}');
    }
    w_close(w, ']');
}

static void write_coupons(writer *w)
{
    w_open(w, '[');
    for (uint32_t i = 0; w->r->coupons && i < w->r->n_coupons; i++) {
        const perk_coupon_result *c = &w->r->coupons[i];
        bool accepted = c->verdict == PERK_COUPON_ACCEPTED;
        w_next(w);
        w_open(w, '{');
        W_KEY(w, "code");
        w_str(w, c->code);
        W_KEY(w, "accepted");
        w_bool(w, accepted);
        W_KEY(w, "verdict");
        w_str(w, result_verdict_name(c->verdict));
        W_KEY(w, "reason");
        w_str(w, accepted ? NULL : result_verdict_message(c->verdict));
        W_KEY(w, "promotion");
        w_promotion(w, c->promotion);
        w_close(w, '}');
    }
    w_close(w, ']');
}

static void write_points(writer *w)
{
    w_open(w, '[');
    for (uint32_t i = 0; w->r->points && i < w->r->n_points; i++) {
        const perk_points_result *pt = &w->r->points[i];
        if (w->applied_only && pt->points == 0) continue;
        char id[24], mult[48];
        result_format_multiplier(pt->mult_num, pt->mult_den, mult, sizeof mult);
        w_next(w);
        w_open(w, '{');
        W_KEY(w, "rule");
        w_str(w, result_earn_id(w->names, pt->earn_rule, id, sizeof id));
        W_KEY(w, "base");
        w_money(w, pt->base);
        W_KEY(w, "points");
        w_int(w, pt->points);
        W_KEY(w, "multiplier");
        w_str(w, mult);
        W_KEY(w, "capped");
        w_bool(w, pt->capped);
        w_close(w, '}');
    }
    w_close(w, ']');
}

/* What reaching a hint's goal takes off ("20%" or an amount), or a bundle's price. */
static void w_hint_value(writer *w, const perk_hint_next *next)
{
    if (next->is_percent && !next->bundle) {
        char pct[32];
        result_format_value(next->value, RESULT_VALUE_PERCENT, w->r->exponent, w->symbol, pct, sizeof pct);
        w_str(w, pct);
    } else {
        w_money(w, next->value);
    }
}

static void write_hints(writer *w)
{
    w_open(w, '[');
    for (uint32_t i = 0; w->r->hints && i < w->r->n_hints; i++) {
        const perk_hint *h = &w->r->hints[i];
        char idbuf[24], text[512];
        const char *id = result_promotion_id(w->names, h->promotion, idbuf, sizeof idbuf);
        const char *label = result_promotion_label(w->names, h->promotion);
        const char *set = h->set_name ? h->set_name : "items";
        result_hint_text(w->r, i, w->symbol, label && *label ? label : id, text, sizeof text);
        w_next(w);
        w_open(w, '{');
        W_KEY(w, "promotion");
        w_promotion(w, h->promotion);
        const perk_hint_next *next = w->r->hint_next ? &w->r->hint_next[i] : NULL;
        if (h->units) { /* a count tier's next row: units to add, and what that row takes off */
            W_KEY(w, "units");
            w_int(w, h->shortfall);
            if (next != NULL) {
                if (next->bundle) /* a bundle one part short: its price */
                    W_KEY(w, "bundle_price");
                else
                    W_KEY(w, "next_off");
                w_hint_value(w, next);
            }
        } else {
            W_KEY(w, "shortfall");
            w_money(w, h->shortfall);
            if (next != NULL && next->per_store) { /* the store the money goes to (null: no store) */
                W_KEY(w, "store");
                w_str(w, result_hint_store(w->r, i));
                W_KEY(w, "next_off");
                w_hint_value(w, next);
            }
        }
        W_KEY(w, "set");
        w_str(w, set);
        W_KEY(w, "text");
        w_str(w, text);
        w_close(w, '}');
    }
    w_close(w, ']');
}

static void write_result(writer *w, int flags)
{
    const perk_result *r = w->r;
    bool exponent_ok = r->exponent >= 0 && r->exponent <= MONEY_MAX_EXPONENT;
    w_open(w, '{');
    if (r->status != PERK_OK || !exponent_ok) {
        perk_status st = r->status != PERK_OK ? r->status : PERK_INVALID;
        W_KEY(w, "status");
        w_str(w, result_status_name(st));
        W_KEY(w, "error");
        w_str(w, r->status != PERK_OK ? result_status_message(st)
                                      : "the result has an invalid currency exponent");
        w_close(w, '}');
        return;
    }
    W_KEY(w, "status");
    W_LIT(w, "\"ok\"");
    W_KEY(w, "currency");
    w_str(w, r->currency);
    W_KEY(w, "subtotal");
    w_money(w, r->subtotal);
    W_KEY(w, "discount");
    w_money(w, r->discount);
    W_KEY(w, "shipping");
    w_open(w, '{');
    W_KEY(w, "before");
    w_money(w, r->shipping_before);
    W_KEY(w, "after");
    w_money(w, r->shipping_after);
    w_close(w, '}');
    W_KEY(w, "redeem");
    w_open(w, '{');
    W_KEY(w, "redeemable");
    w_int(w, r->points_redeemable);
    W_KEY(w, "redeemed");
    w_int(w, r->points_redeemed);
    W_KEY(w, "value");
    w_money(w, r->redeem_value);
    W_KEY(w, "goods");
    w_money(w, r->redeem_goods);
    W_KEY(w, "shipping");
    w_money(w, r->redeem_shipping);
    w_close(w, '}');
    W_KEY(w, "payable");
    w_money(w, r->payable);
    W_KEY(w, "points_earned");
    w_int(w, r->points_earned);
    W_KEY(w, "lines");
    write_lines(w);
    W_KEY(w, "promotions");
    write_promotions(w);
    if (w->applied_only) {
        int64_t others = 0;
        for (uint32_t i = 0; r->promotions && i < r->n_promotions; i++)
            others += r->promotions[i].reason != PERK_REASON_APPLIED;
        W_KEY(w, "promotions_not_listed");
        w_int(w, others);
    }
    W_KEY(w, "gifts");
    write_gifts(w);
    W_KEY(w, "effects");
    write_effects(w);
    if (r->n_reward_coupons > 0) {
        W_KEY(w, "reward_coupons");
        write_reward_coupons(w);
    }
    W_KEY(w, "coupons");
    write_coupons(w);
    W_KEY(w, "points");
    write_points(w);
    if (w->applied_only) {
        int64_t zero = 0;
        for (uint32_t i = 0; r->points && i < r->n_points; i++) zero += r->points[i].points == 0;
        W_KEY(w, "points_not_listed");
        w_int(w, zero);
    }
    W_KEY(w, "hints");
    write_hints(w);
    if (!(flags & RESULT_JSON_NO_INSTRUCTIONS)) {
        W_KEY(w, "instructions");
        if (r->instructions > (uint64_t)INT64_MAX)
            W_LIT(w, "null");
        else
            w_int(w, (int64_t)r->instructions);
    }
    w_close(w, '}');
}

static void write_all(writer *w, const result_names *names, const perk_result *r, const cart_doc *doc,
                      int flags)
{
    const money_currency *cur = r->currency ? money_currency_find(r->currency) : NULL;
    w->names = names;
    w->r = r;
    w->doc = doc;
    w->symbol = cur ? cur->symbol : NULL;
    w->applied_only = (flags & RESULT_JSON_APPLIED_ONLY) != 0;
    w->pretty = (flags & RESULT_JSON_PRETTY) != 0;
    write_result(w, flags);
}

size_t result_json_write(const result_names *names, const perk_result *r, const cart_doc *doc, int flags,
                         char *buf, size_t cap)
{
    if (!r || (!buf && cap)) {
        if (cap) buf[0] = '\0';
        return 0;
    }
    writer w = { .buf = buf, .cap = cap };
    write_all(&w, names, r, doc, flags);
    if (cap) buf[w.len < cap ? w.len : cap - 1] = '\0';
    return w.len;
}

const char *result_json_write_buf(const result_names *names, const perk_result *r, const cart_doc *doc,
                                  int flags, result_json_buf *out)
{
    if (!out) return NULL;
    out->len = 0;
    if (!r) return NULL;
    writer w = { .buf = out->data, .cap = out->data ? out->cap : 0, .grow = true };
    write_all(&w, names, r, doc, flags);
    out->data = w.buf;
    out->cap = w.cap;
    if (w.failed || !w_reserve(&w, 1)) {
        if (out->data && out->cap) out->data[0] = '\0';
        return NULL;
    }
    w.buf[w.len] = '\0';
    out->data = w.buf;
    out->cap = w.cap;
    out->len = w.len;
    return out->data;
}

void result_json_buf_free(result_json_buf *b)
{
    if (!b) return;
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

char *result_json_render(const result_names *names, const perk_result *r, const cart_doc *doc, int flags)
{
    /* one allocation of the exact size: most results fit the stack buffer; a larger one is
     * written a second time into its own */
    char stack[8192];
    if (!r) return NULL;
    size_t n = result_json_write(names, r, doc, flags, stack, sizeof stack);
    char *text = malloc(n + 1);
    if (!text) return NULL;
    if (n < sizeof stack)
        memcpy(text, stack, n + 1);
    else
        result_json_write(names, r, doc, flags, text, n + 1);
    return text;
}
