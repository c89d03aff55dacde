/* cart_json_jansson.c - the jansson cart reader Perk used before libperk read carts itself
 * (runtime/cart_json.c + json_read.c), kept unchanged as the reference of
 * test_cart_json_diff.c, which includes it with its entry points renamed (ref_cart_json_*) and
 * checks that both readers give the same document or the same message for every input.
 *
 * Original header:
 * cart_json.c - parses and validates a cart JSON document into a cart_doc (see cart_json.h and
 * docs/cart.md for the schema).
 *
 * Two passes over the input: a byte-level pre-scan refuses documents that are nested too deeply
 * or carry more lines than the limit before jansson allocates anything for them, then jansson
 * builds the tree and a schema walk converts it, tracking the JSON path for error messages.
 */
#include "cart_json.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "civil.h"
#include "money.h"

/* Mirrors perk_limits_default() (perk.h documents these values); kept here so that parsing a
 * cart does not need libperk linked in (tests of this module run without the VM). */
static const perk_limits cart_default_limits = {
    .max_lines = 10000,
    .max_quantity = 1000000,
    .max_money = INT64_C(1000000000000000),
    .max_tags = 64,
    .max_coupons = 16,
    .instruction_budget = 10000000,
    .max_rules = 10000,
};

#define PATH_CAP 512

typedef struct cart_parser {
    char *err;
    size_t errlen;
    bool failed;
    int exponent;
    const char *currency_name; /* for messages: "CNY", or "the currency" */
    const char *program_currency;
    perk_limits limits;
    char path[PATH_CAP];
    size_t path_len;
    cart_doc *doc;
    size_t tag_used, tag_cap;
    size_t attr_used, attr_cap;
} cart_parser;

/* ------------------------------------------------------------------ messages and paths */

static void set_error(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_error(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Records "<path>: <message>" (the first error only) and returns false, so that checks can
 * `return fail(...)`. */
static bool fail(cart_parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool fail(cart_parser *p, const char *fmt, ...)
{
    if (p->failed) return false;
    p->failed = true;
    if (!p->err || p->errlen == 0) return false;
    int n = snprintf(p->err, p->errlen, "%s: ", p->path);
    if (n < 0 || (size_t)n >= p->errlen) return false;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return false;
}

static void path_append(cart_parser *p, const char *text, size_t len)
{
    /* A path too long for the buffer is cut; messages stay readable, only less precise. */
    if (p->path_len + len >= PATH_CAP) len = PATH_CAP - 1 - p->path_len;
    memcpy(p->path + p->path_len, text, len);
    p->path_len += len;
    p->path[p->path_len] = '\0';
}

static bool is_identifier(const char *s)
{
    if (!(isalpha((unsigned char)*s) || *s == '_')) return false;
    for (; *s; s++)
        if (!(isalnum((unsigned char)*s) || *s == '_' || *s == '-')) return false;
    return true;
}

/* Appends .key (or ["key"] when the key is not a plain name); returns the length to restore. */
static size_t path_push_key(cart_parser *p, const char *key)
{
    size_t old = p->path_len;
    if (is_identifier(key)) {
        path_append(p, ".", 1);
        path_append(p, key, strlen(key));
        return old;
    }
    path_append(p, "[\"", 2);
    for (const char *s = key; *s; s++) {
        char buf[8];
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            buf[0] = '\\';
            buf[1] = (char)c;
            path_append(p, buf, 2);
        } else if (c < 0x20) {
            snprintf(buf, sizeof buf, "\\u%04x", c);
            path_append(p, buf, 6);
        } else {
            path_append(p, s, 1);
        }
    }
    path_append(p, "\"]", 2);
    return old;
}

static size_t path_push_index(cart_parser *p, size_t index)
{
    size_t old = p->path_len;
    char buf[32];
    int n = snprintf(buf, sizeof buf, "[%zu]", index);
    path_append(p, buf, (size_t)n);
    return old;
}

static void path_pop(cart_parser *p, size_t old)
{
    p->path_len = old;
    p->path[old] = '\0';
}

/* A short description of a JSON value for "got ..." in messages: the value itself for scalars
 * (strings quoted and cut at 40 bytes on a character boundary), the kind for containers. */
static void describe(const json_t *v, char *buf, size_t cap)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: snprintf(buf, cap, "an object"); return;
    case JSON_ARRAY: snprintf(buf, cap, "an array"); return;
    case JSON_INTEGER: snprintf(buf, cap, "%" JSON_INTEGER_FORMAT, json_integer_value(v)); return;
    case JSON_REAL: {
        /* an integral real prints as "100.0" (so it is not mistaken for an integer), others in
         * the shortest form that reads back as the same double, as the sender likely wrote it */
        double d = json_real_value(v);
        if (d > -1e15 && d < 1e15 && d == (double)(int64_t)d) { /* range first: the cast */
            snprintf(buf, cap, "%.1f", d);
            return;
        }
        for (int prec = 1; prec <= 17; prec++) {
            snprintf(buf, cap, "%.*g", prec, d);
            if (strtod(buf, NULL) == d) break;
        }
        return;
    }
    case JSON_TRUE: snprintf(buf, cap, "true"); return;
    case JSON_FALSE: snprintf(buf, cap, "false"); return;
    case JSON_NULL: snprintf(buf, cap, "null"); return;
    case JSON_STRING: break;
    }
    const char *s = json_string_value(v);
    size_t n = json_string_length(v), out = 0;
    if (cap < 8) {
        if (cap) buf[0] = '\0';
        return;
    }
    size_t room = cap - 6; /* quote, possible escape, quote, "...", NUL */
    if (room > 40) room = 40;
    buf[out++] = '"';
    size_t i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        /* whole characters only, so that a cut never splits a UTF-8 sequence */
        size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : 4;
        if (i + len > n) len = n - i;
        if (c == '"' || c == '\\') {
            if (out + 2 > room) break;
            buf[out++] = '\\';
            buf[out++] = (char)c;
        } else if (out + len > room) {
            break;
        } else if (c < 0x20) {
            buf[out++] = '?';
        } else {
            memcpy(buf + out, s + i, len);
            out += len;
        }
        i += len;
    }
    if (i < n) {
        memcpy(buf + out, "...", 3);
        out += 3;
    }
    buf[out++] = '"';
    buf[out] = '\0';
}

/* ------------------------------------------------------------------ did you mean */

size_t cart_json_edit_distance(const char *a, const char *b, size_t cap)
{
    size_t la = strlen(a), lb = strlen(b);
    if ((la > lb ? la - lb : lb - la) > cap) return cap + 1;
    if (lb > 64 || la > 64) return cap + 1; /* names are short; long strings are never "similar" */
    size_t row[65];
    for (size_t j = 0; j <= lb; j++) row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        size_t best = row[0];
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            bool same = tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 1]);
            size_t v = diag + (same ? 0 : 1);
            if (up + 1 < v) v = up + 1;
            if (row[j - 1] + 1 < v) v = row[j - 1] + 1;
            row[j] = v;
            diag = up;
            if (v < best) best = v;
        }
        if (best > cap) return cap + 1;
    }
    return row[lb] > cap ? cap + 1 : row[lb];
}

bool cart_json_is_similar(const char *typo, const char *candidate)
{
    size_t len = strlen(typo);
    size_t cap = len <= 3 ? 1 : len <= 8 ? 2 : 3;
    return cart_json_edit_distance(typo, candidate, cap) <= cap;
}

/* Fails for the first key of `obj` that is not in `allowed` (NULL-terminated), with the path of
 * that key, a suggestion when one is close, else the list of fields. */
static bool check_fields(cart_parser *p, const json_t *obj, const char *const *allowed, const char *what)
{
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)obj, key, value)
    {
        bool known = false;
        for (size_t i = 0; allowed[i]; i++)
            if (strcmp(key, allowed[i]) == 0) known = true;
        if (known) continue;
        path_push_key(p, key);
        for (size_t i = 0; allowed[i]; i++)
            if (cart_json_is_similar(key, allowed[i]))
                return fail(p, "unknown field, did you mean \"%s\"?", allowed[i]);
        char list[256];
        size_t n = 0;
        list[0] = '\0';
        for (size_t i = 0; allowed[i] && n < sizeof list; i++) {
            int w = snprintf(list + n, sizeof list - n, "%s%s", i ? ", " : "", allowed[i]);
            if (w < 0) break;
            n += (size_t)w;
        }
        return fail(p, "unknown field (%s has: %s)", what, list);
    }
    return true;
}

/* ------------------------------------------------------------------ typed field readers */

/* The value of `key` in obj, or NULL when absent or null (JSON null means "not given"). */
static json_t *field(const json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_null(v) ? NULL : v;
}

static bool fail_type(cart_parser *p, const json_t *v, const char *expected)
{
    char got[64];
    describe(v, got, sizeof got);
    return fail(p, "must be %s, got %s", expected, got);
}

static bool read_string(cart_parser *p, const json_t *obj, const char *key, bool required, const char **out)
{
    json_t *v = field(obj, key);
    size_t old = path_push_key(p, key);
    bool ok = true;
    *out = NULL;
    if (!v) {
        if (required) ok = fail(p, "required field is missing");
    } else if (!json_is_string(v)) {
        ok = json_is_integer(v)
                 ? fail(p, "must be a string (quote it: \"%" JSON_INTEGER_FORMAT "\")", json_integer_value(v))
                 : fail_type(p, v, "a string");
    } else if (required && json_string_length(v) == 0) {
        ok = fail(p, "must not be empty");
    } else {
        *out = json_string_value(v);
    }
    path_pop(p, old);
    return ok;
}

static bool read_int(cart_parser *p, const json_t *obj, const char *key, int64_t min, int64_t def,
                     int64_t *out)
{
    json_t *v = field(obj, key);
    if (!v) {
        *out = def;
        return true;
    }
    size_t old = path_push_key(p, key);
    bool ok = true;
    const char *kind = min >= 1 ? "a positive integer" : "a non-negative integer";
    if (!json_is_integer(v))
        ok = fail_type(p, v, kind);
    else if (json_integer_value(v) < min)
        ok = fail(p, "must be %s, got %" JSON_INTEGER_FORMAT, kind, json_integer_value(v));
    else
        *out = json_integer_value(v);
    path_pop(p, old);
    return ok;
}

static bool read_bool(cart_parser *p, const json_t *obj, const char *key, bool *out)
{
    json_t *v = field(obj, key);
    *out = false;
    if (!v) return true;
    if (!json_is_boolean(v)) {
        size_t old = path_push_key(p, key);
        fail_type(p, v, "true or false");
        path_pop(p, old);
        return false;
    }
    *out = json_is_true(v);
    return true;
}

/* Money in major units: a string ("128.00", "128"), or a JSON integer when the currency has no
 * minor unit (JPY 1200). Never a JSON real: binary fractions cannot hold 0.10 exactly. */
static bool read_money(cart_parser *p, const json_t *obj, const char *key, bool required, int64_t def,
                       int64_t *out)
{
    json_t *v = field(obj, key);
    if (!v && !required) {
        *out = def;
        return true;
    }
    size_t old = path_push_key(p, key);
    bool ok = false;
    int64_t minor = 0;
    char got[64];
    if (!v) {
        fail(p, "required field is missing");
    } else if (json_is_integer(v) && p->exponent == 0) {
        minor = json_integer_value(v);
        ok = true;
    } else if (json_is_integer(v)) {
        fail(p,
             "write money as a string in major units, e.g. \"%" JSON_INTEGER_FORMAT "\" "
             "(JSON numbers are accepted only for currencies without decimals)",
             json_integer_value(v));
    } else if (json_is_real(v)) {
        describe(v, got, sizeof got);
        fail(p,
             "write money as a string, e.g. \"%s\": a JSON number with a fraction is a binary "
             "float and cannot hold amounts exactly",
             got);
    } else if (!json_is_string(v)) {
        fail_type(p, v, "an amount as a string, e.g. \"12.50\"");
    } else {
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        describe(v, got, sizeof got);
        switch (money_parse_decimal(s, n, p->exponent, &minor)) {
        case MONEY_PARSE_OK: ok = true; break;
        case MONEY_PARSE_TOO_PRECISE:
            fail(p, "%s has more decimals than %s allows (%d)", got, p->currency_name, p->exponent);
            break;
        case MONEY_PARSE_RANGE: fail(p, "%s is too large", got); break;
        case MONEY_PARSE_SYNTAX:
        default:
            fail(p,
                 "%s is not an amount: expected digits with an optional '.' and up to %d "
                 "decimals, e.g. \"12.50\"",
                 got, p->exponent);
            break;
        }
    }
    if (ok && minor < 0) {
        money_format(minor, p->exponent, NULL, got, sizeof got);
        ok = fail(p, "must not be negative, got %s", got);
    } else if (ok && minor > p->limits.max_money) {
        char lim[48];
        money_format(minor, p->exponent, NULL, got, sizeof got);
        money_format(p->limits.max_money, p->exponent, NULL, lim, sizeof lim);
        ok = fail(p, "%s exceeds the largest amount allowed (%s, max_money)", got, lim);
    }
    if (ok) *out = minor;
    path_pop(p, old);
    return ok;
}

static bool parse_digits(const char *s, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

/* "YYYY-MM-DD"; with allow_no_year also "MM-DD" (then *y = 0). */
static bool parse_date(const char *s, size_t n, bool allow_no_year, int *y, int *m, int *d)
{
    if (n == 10 && s[4] == '-' && s[7] == '-' && parse_digits(s, 4, y) && parse_digits(s + 5, 2, m) &&
        parse_digits(s + 8, 2, d))
        return civil_valid_date(*y, *m, *d);
    if (allow_no_year && n == 5 && s[2] == '-' && parse_digits(s, 2, m) && parse_digits(s + 3, 2, d)) {
        *y = 0;
        return civil_valid_date(2000, *m, *d); /* a leap year, so 02-29 is a valid birthday */
    }
    return false;
}

static bool read_date(cart_parser *p, const json_t *obj, const char *key, bool allow_no_year, bool *present,
                      int *y, int *m, int *d)
{
    json_t *v = field(obj, key);
    *present = v != NULL;
    if (!v) return true;
    size_t old = path_push_key(p, key);
    bool ok = true;
    if (!json_is_string(v)) {
        ok = fail_type(p, v,
                       allow_no_year ? "a date string \"YYYY-MM-DD\" or \"MM-DD\""
                                     : "a date string \"YYYY-MM-DD\"");
    } else if (!parse_date(json_string_value(v), json_string_length(v), allow_no_year, y, m, d)) {
        char got[64];
        describe(v, got, sizeof got);
        ok = fail(p, "%s is not a valid date (expected %s)", got,
                  allow_no_year ? "YYYY-MM-DD or MM-DD" : "YYYY-MM-DD");
    }
    path_pop(p, old);
    return ok;
}

/* An array of non-empty strings, at most `max`, stored in the tag pool. */
static bool read_string_array(cart_parser *p, const json_t *obj, const char *key, uint32_t max,
                              const char *limit_name, const char *const **out, size_t *n_out)
{
    json_t *v = field(obj, key);
    *out = NULL;
    *n_out = 0;
    if (!v) return true;
    size_t old = path_push_key(p, key);
    if (!json_is_array(v)) {
        fail_type(p, v, "an array of strings");
        path_pop(p, old);
        return false;
    }
    size_t n = json_array_size(v);
    if (n > max) {
        fail(p, "%zu entries exceed the limit of %" PRIu32 " (%s)", n, max, limit_name);
        path_pop(p, old);
        return false;
    }
    const char **dst = p->doc->tag_pool + p->tag_used;
    if (p->tag_used + n > p->tag_cap) { /* cannot happen: the pool was sized from the tree */
        fail(p, "internal error: tag pool too small");
        path_pop(p, old);
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *t = json_array_get(v, i);
        size_t o = path_push_index(p, i);
        if (!json_is_string(t) || json_string_length(t) == 0) {
            if (json_is_string(t))
                fail(p, "must not be empty");
            else
                fail_type(p, t, "a string");
            path_pop(p, old);
            return false;
        }
        dst[i] = json_string_value(t);
        path_pop(p, o);
    }
    p->tag_used += n;
    *out = n ? dst : NULL;
    *n_out = n;
    path_pop(p, old);
    return true;
}

static bool read_object(cart_parser *p, const json_t *obj, const char *key, json_t **out)
{
    json_t *v = field(obj, key);
    *out = v;
    if (!v || json_is_object(v)) return true;
    size_t old = path_push_key(p, key);
    fail_type(p, v, "an object");
    path_pop(p, old);
    return false;
}

/* ------------------------------------------------------------------ sections */

static bool read_attrs(cart_parser *p, const json_t *obj, const perk_attr **out, size_t *n_out);

static bool parse_order(cart_parser *p, const json_t *order)
{
    static const char *const fields[] = { "id",           "currency",         "time", "channel", "shipping",
                                          "subscription", "points_to_redeem", "region",
                                          "attrs",        NULL };
    perk_order *o = &p->doc->order;
    size_t old = path_push_key(p, "order");
    bool ok = check_fields(p, order, fields, "an order") && read_string(p, order, "id", false, &o->id) &&
              read_string(p, order, "channel", false, &o->channel) &&
              read_string(p, order, "region", false, &o->region) &&
              read_attrs(p, order, &o->attrs, &o->n_attrs) &&
              read_money(p, order, "shipping", false, 0, &o->shipping);
    if (!ok) goto out;

    json_t *t = field(order, "time");
    if (t) {
        size_t o2 = path_push_key(p, "time");
        int64_t epoch = 0;
        if (!json_is_string(t)) {
            ok = fail_type(p, t, "an RFC 3339 timestamp string, e.g. \"2026-03-04T10:00:00+08:00\"");
        } else if (!civil_parse_timestamp(json_string_value(t), json_string_length(t), &epoch)) {
            char got[64];
            describe(t, got, sizeof got);
            ok = fail(p,
                      "%s is not a valid RFC 3339 timestamp with a UTC offset, e.g. "
                      "\"2026-03-04T10:00:00+08:00\"",
                      got);
        } else if (epoch < civil_days_from_date(1, 1, 1) * 86400 ||
                   epoch > civil_days_from_date(9999, 12, 31) * 86400 + 86399) {
            /* perk_cart_set_order takes instants in years 0001..9999 UTC only */
            char got[64];
            describe(t, got, sizeof got);
            ok = fail(p, "%s is outside years 0001..9999 once converted to UTC", got);
        } else {
            o->time = epoch;
            p->doc->has_time = true;
        }
        path_pop(p, o2);
        if (!ok) goto out;
    }

    json_t *sub;
    if (!(ok = read_object(p, order, "subscription", &sub))) goto out;
    if (sub) {
        static const char *const sub_fields[] = { "plan", "delivery", NULL };
        size_t o2 = path_push_key(p, "subscription");
        ok = check_fields(p, sub, sub_fields, "a subscription") &&
             read_string(p, sub, "plan", true, &o->subscription_plan) &&
             read_int(p, sub, "delivery", 1, 1, &o->delivery_number);
        path_pop(p, o2);
        if (!ok) goto out;
    }

    json_t *r = field(order, "points_to_redeem");
    if (json_is_string(r) && strcmp(json_string_value(r), "max") == 0) {
        o->points_to_redeem = -1;
    } else if (r && !json_is_integer(r)) {
        size_t o2 = path_push_key(p, "points_to_redeem");
        ok = fail_type(p, r, "a non-negative integer or \"max\"");
        path_pop(p, o2);
    } else {
        ok = read_int(p, order, "points_to_redeem", 0, 0, &o->points_to_redeem);
    }
out:
    path_pop(p, old);
    return ok;
}

/* order.currency decides (or checks) the exponent, so it is read before any money. */
static bool parse_currency(cart_parser *p, const json_t *order, int exponent)
{
    const char *code = NULL;
    size_t old = path_push_key(p, "order");
    if (order && !read_string(p, order, "currency", false, &code)) {
        path_pop(p, old);
        return false;
    }
    bool ok = true;
    size_t o2 = path_push_key(p, "currency");
    const money_currency *cur = NULL;
    if (code) {
        cur = money_currency_find(code);
        if (!cur)
            ok = fail(p, "unknown currency \"%s\" (expected an ISO 4217 code such as CNY, USD, JPY)", code);
        else if (p->program_currency && strcmp(code, p->program_currency) != 0)
            ok = fail(p, "\"%s\" does not match the program's currency %s", code, p->program_currency);
    }
    if (ok && exponent < 0) {
        const char *name = code ? code : p->program_currency;
        const money_currency *c = name ? money_currency_find(name) : NULL;
        if (!name)
            ok = fail(p, "required field is missing (no program currency to assume)");
        else if (!c)
            ok = fail(p, "unknown currency \"%s\"", name);
        else
            exponent = c->exponent;
    }
    if (ok && (exponent < 0 || exponent > MONEY_MAX_EXPONENT))
        ok = fail(p, "invalid minor-unit exponent %d", exponent);
    path_pop(p, o2);
    path_pop(p, old);
    if (ok) {
        p->exponent = exponent;
        p->doc->exponent = exponent;
        p->doc->order.currency = code;
        p->doc->currency = code ? code : p->program_currency;
        p->currency_name = p->doc->currency ? p->doc->currency : "the currency";
    }
    return ok;
}

static bool parse_customer(cart_parser *p, const json_t *c)
{
    static const char *const fields[] = { "id",          "tier",   "tags",   "birthday", "member_since",
                                          "first_order", "orders", "points", NULL };
    perk_customer *cu = &p->doc->customer;
    size_t old = path_push_key(p, "customer");
    bool present;
    int y, m, d;
    bool ok = check_fields(p, c, fields, "a customer") && read_string(p, c, "id", false, &cu->id) &&
              read_string(p, c, "tier", false, &cu->tier) &&
              read_string_array(p, c, "tags", p->limits.max_tags, "max_tags", &cu->tags, &cu->n_tags) &&
              read_bool(p, c, "first_order", &cu->first_order) &&
              read_int(p, c, "orders", 0, 0, &cu->order_count) &&
              read_int(p, c, "points", 0, 0, &cu->points_balance);
    /* a key absent or null is an unknown fact, as a zero presence flag is in the C API */
    cu->has_first_order = field(c, "first_order") != NULL;
    cu->has_order_count = field(c, "orders") != NULL;
    cu->has_points_balance = field(c, "points") != NULL;
    if (ok && (ok = read_date(p, c, "birthday", true, &present, &y, &m, &d)) && present) {
        cu->birthday_year = y;
        cu->birthday_month = m;
        cu->birthday_day = d;
    }
    if (ok && (ok = read_date(p, c, "member_since", false, &present, &y, &m, &d)) && present) {
        cu->member_since_days = civil_days_from_date(y, m, d);
        cu->has_member_since = true;
        /* libperk counts days from 1970-01-01: earlier days are refused by perk_cart_set_customer */
        if (cu->member_since_days < 0) {
            size_t o2 = path_push_key(p, "member_since");
            ok = fail(p, "must be 1970-01-01 or later, got \"%04d-%02d-%02d\"", y, m, d);
            path_pop(p, o2);
        }
    }
    path_pop(p, old);
    return ok;
}

/* The line's margin; absent or null: unknown (has_margin false). */
static bool read_margin(cart_parser *p, const json_t *line, perk_line *l)
{
    json_t *v = field(line, "margin");
    int64_t *out = &l->margin_ppm;
    l->has_margin = false;
    if (!v) return true;
    size_t old = path_push_key(p, "margin");
    bool ok = false;
    char got[64];
    describe(v, got, sizeof got);
    size_t n = json_is_string(v) ? json_string_length(v) : 0;
    const char *s = json_is_string(v) ? json_string_value(v) : NULL;
    int64_t ppm = 0;
    if (!s || n < 2 || s[n - 1] != '%')
        fail(p, "must be a percentage string such as \"45%%\", got %s", got);
    else if (money_parse_ppm(s, n - 1, &ppm) != MONEY_PARSE_OK)
        fail(p, "%s is not a percentage (expected e.g. \"45%%\" or \"12.5%%\", at most 4 decimals)", got);
    else if (ppm < 0 || ppm > 1000000)
        fail(p, "%s must be between 0%% and 100%%", got);
    else
        ok = true;
    if (ok) {
        *out = ppm;
        l->has_margin = true;
    }
    path_pop(p, old);
    return ok;
}

static bool read_attrs(cart_parser *p, const json_t *line, const perk_attr **out, size_t *n_out)
{
    json_t *attrs;
    if (!read_object(p, line, "attrs", &attrs)) return false;
    if (!attrs) return true;
    size_t old = path_push_key(p, "attrs");
    size_t n = json_object_size(attrs);
    if (n > p->limits.max_tags) {
        fail(p, "%zu attributes exceed the limit of %" PRIu32 " (max_tags)", n, p->limits.max_tags);
        path_pop(p, old);
        return false;
    }
    if (p->attr_used + n > p->attr_cap) { /* cannot happen: the pool was sized from the tree */
        fail(p, "internal error: attribute pool too small");
        path_pop(p, old);
        return false;
    }
    perk_attr *dst = p->doc->attr_pool + p->attr_used;
    size_t i = 0;
    const char *key;
    json_t *value;
    json_object_foreach(attrs, key, value)
    {
        if (!json_is_string(value)) {
            path_push_key(p, key);
            fail_type(p, value, "a string");
            path_pop(p, old);
            return false;
        }
        dst[i].key = key;
        dst[i].value = json_string_value(value);
        i++;
    }
    p->attr_used += n;
    *out = n ? dst : NULL;
    *n_out = n;
    path_pop(p, old);
    return true;
}

/* The category path, as perk_cart_add_line takes it: segments separated by single '/', none of
 * them empty ("tea/green"; not "", "/tea", "tea/" or "tea//green"). */
static bool read_category(cart_parser *p, const json_t *line, const char **out)
{
    if (!read_string(p, line, "category", false, out)) return false;
    if (*out == NULL) return true;
    size_t segment = 0;
    bool ok = true;
    for (const char *s = *out; *s != '\0' && ok; s++) {
        if (*s == '/') {
            ok = segment > 0;
            segment = 0;
        } else {
            segment++;
        }
    }
    if (ok && segment > 0) return true;
    char got[64];
    describe(field(line, "category"), got, sizeof got);
    size_t old = path_push_key(p, "category");
    fail(p, "%s has an empty segment: write the path as segments separated by '/', e.g. \"tea/green\"", got);
    path_pop(p, old);
    return false;
}

static bool parse_line(cart_parser *p, const json_t *line, perk_line *l)
{
    static const char *const fields[] = { "id",    "sku",      "name",   "category", "brand", "tags",
                                          "price", "quantity", "margin", "attrs",    "store", NULL };
    if (!json_is_object(line)) return fail_type(p, line, "an object");
    bool ok = check_fields(p, line, fields, "a line") && read_string(p, line, "id", false, &l->id) &&
              read_string(p, line, "sku", true, &l->sku) && read_string(p, line, "name", false, &l->name) &&
              read_category(p, line, &l->category) && read_string(p, line, "brand", false, &l->brand) &&
              read_string_array(p, line, "tags", p->limits.max_tags, "max_tags", &l->tags, &l->n_tags) &&
              read_money(p, line, "price", true, 0, &l->unit_price) && read_margin(p, line, l) &&
              read_attrs(p, line, &l->attrs, &l->n_attrs) && read_string(p, line, "store", false, &l->store);
    if (!ok) return false;

    json_t *q = field(line, "quantity");
    size_t old = path_push_key(p, "quantity");
    if (!q)
        ok = fail(p, "required field is missing");
    else if (!json_is_integer(q) || json_integer_value(q) < 1)
        ok = fail_type(p, q, "a positive integer");
    else if (json_integer_value(q) > p->limits.max_quantity)
        ok =
            fail(p, "%" JSON_INTEGER_FORMAT " exceeds the limit of %" PRId64 " units per line (max_quantity)",
                 json_integer_value(q), p->limits.max_quantity);
    else
        l->quantity = json_integer_value(q);
    path_pop(p, old);
    return ok;
}

/* Sorting helper state: qsort has no context argument in C11, so ids are sorted as
 * (id, index) pairs. */
typedef struct line_id_ref {
    const char *id;
    size_t index;
} line_id_ref;

static int compare_id_refs(const void *a, const void *b)
{
    const line_id_ref *x = a, *y = b;
    int c = strcmp(x->id, y->id);
    if (c) return c;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* Duplicate line ids would make results ambiguous; O(n log n) so 10,000 lines stay fast.
 * Reports the first line (in document order) whose id an earlier line already has. */
static bool check_duplicate_ids(cart_parser *p)
{
    cart_doc *doc = p->doc;
    size_t n = 0;
    line_id_ref *refs = malloc((doc->n_lines ? doc->n_lines : 1) * sizeof *refs);
    if (!refs) return fail(p, "out of memory");
    for (size_t i = 0; i < doc->n_lines; i++)
        if (doc->lines[i].id) refs[n++] = (line_id_ref){ doc->lines[i].id, i };
    qsort(refs, n, sizeof *refs, compare_id_refs);
    size_t best = SIZE_MAX, first = 0;
    for (size_t i = 1; i < n; i++) {
        if (strcmp(refs[i].id, refs[i - 1].id) != 0) continue;
        /* refs[i-1] is the earlier of the pair (ties sorted by index) */
        if (refs[i].index < best) {
            best = refs[i].index;
            /* the first occurrence of this id is the start of its run */
            size_t k = i - 1;
            while (k > 0 && strcmp(refs[k - 1].id, refs[i].id) == 0) k--;
            first = refs[k].index;
        }
    }
    free(refs);
    if (best == SIZE_MAX) return true;
    size_t old = path_push_key(p, "lines");
    path_push_index(p, best);
    path_push_key(p, "id");
    fail(p, "duplicate line id \"%s\" (also $.lines[%zu].id)", doc->lines[best].id, first);
    path_pop(p, old);
    return false;
}

static bool parse_lines(cart_parser *p, const json_t *lines)
{
    size_t old = path_push_key(p, "lines");
    if (!lines) {
        fail(p, "required field is missing");
        path_pop(p, old);
        return false;
    }
    if (!json_is_array(lines)) {
        fail_type(p, lines, "an array of lines");
        path_pop(p, old);
        return false;
    }
    size_t n = json_array_size(lines);
    /* the pre-scan normally catches this before parsing; this is the authoritative check */
    if (n > p->limits.max_lines) {
        fail(p, "%zu lines exceed the limit of %" PRIu32 " (max_lines)", n, p->limits.max_lines);
        path_pop(p, old);
        return false;
    }
    cart_doc *doc = p->doc;
    doc->lines = calloc(n ? n : 1, sizeof *doc->lines);
    if (!doc->lines) {
        fail(p, "out of memory");
        path_pop(p, old);
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        size_t o = path_push_index(p, i);
        if (!parse_line(p, json_array_get(lines, i), &doc->lines[i])) {
            path_pop(p, old);
            return false;
        }
        doc->n_lines = i + 1;
        path_pop(p, o);
    }
    path_pop(p, old);
    return check_duplicate_ids(p);
}

static const struct {
    const char *name;
    perk_coupon_status status;
} coupon_statuses[] = {
#define CART_COUPON_STATUS(NAME, name) { #name, PERK_COUPON_##NAME },
    PERK_COUPON_STATUS_LIST(CART_COUPON_STATUS)
#undef CART_COUPON_STATUS
};

static bool parse_coupon(cart_parser *p, const json_t *v, cart_json_coupon *c)
{
    c->status = PERK_COUPON_UNCHECKED;
    if (json_is_string(v)) {
        if (json_string_length(v) == 0) return fail(p, "a coupon code must not be empty");
        c->code = json_string_value(v);
        return true;
    }
    if (!json_is_object(v))
        return fail_type(p, v, "a code string or an object {\"code\", \"campaign\", \"status\"}");
    static const char *const fields[] = { "code", "campaign", "status", NULL };
    const char *status = NULL;
    if (!check_fields(p, v, fields, "a coupon") || !read_string(p, v, "code", true, &c->code) ||
        !read_string(p, v, "campaign", false, &c->campaign) || !read_string(p, v, "status", false, &status))
        return false;
    if (!status) return true;
    for (size_t i = 0; i < sizeof coupon_statuses / sizeof coupon_statuses[0]; i++) {
        if (strcmp(status, coupon_statuses[i].name) == 0) {
            c->status = coupon_statuses[i].status;
            return true;
        }
    }
    /* "unchecked, valid, ... or not_for_customer", from the same list */
    enum { N_STATUSES = sizeof coupon_statuses / sizeof coupon_statuses[0] };
    char expected[200];
    size_t len = 0;
    for (size_t i = 0; i < N_STATUSES && len < sizeof expected; i++)
        len += (size_t)snprintf(expected + len, sizeof expected - len, "%s%s",
                                i == 0                ? ""
                                : i + 1 == N_STATUSES ? " or "
                                                      : ", ",
                                coupon_statuses[i].name);
    size_t old = path_push_key(p, "status");
    fail(p, "unknown coupon status \"%s\" (expected %s)", status, expected);
    path_pop(p, old);
    return false;
}

static bool parse_coupons(cart_parser *p, const json_t *coupons)
{
    if (!coupons) return true;
    size_t old = path_push_key(p, "coupons");
    bool ok = true;
    if (!json_is_array(coupons)) {
        ok = fail_type(p, coupons, "an array of coupons");
    } else if (json_array_size(coupons) > p->limits.max_coupons) {
        ok = fail(p, "%zu coupons exceed the limit of %" PRIu32 " (max_coupons)", json_array_size(coupons),
                  p->limits.max_coupons);
    } else {
        size_t n = json_array_size(coupons);
        p->doc->coupons = calloc(n ? n : 1, sizeof *p->doc->coupons);
        if (!p->doc->coupons) ok = fail(p, "out of memory");
        for (size_t i = 0; ok && i < n; i++) {
            size_t o = path_push_index(p, i);
            ok = parse_coupon(p, json_array_get(coupons, i), &p->doc->coupons[i]);
            /* libperk refuses a code entered twice (as perk_cart_add_coupon does, O(n^2) in at
             * most max_coupons entries) */
            for (size_t k = 0; ok && k < i; k++)
                if (strcmp(p->doc->coupons[k].code, p->doc->coupons[i].code) == 0)
                    ok =
                        fail(p, "duplicate code \"%.64s\" (also $.coupons[%zu])", p->doc->coupons[i].code, k);
            path_pop(p, o);
            if (ok) p->doc->n_coupons = i + 1;
        }
    }
    path_pop(p, old);
    return ok;
}

static bool parse_usage(cart_parser *p, const json_t *usage)
{
    if (!usage) return true;
    size_t old = path_push_key(p, "usage");
    bool ok = true;
    if (!json_is_object(usage)) {
        ok = fail_type(p, usage, "an object keyed by promotion id");
        path_pop(p, old);
        return ok;
    }
    size_t n = json_object_size(usage);
    p->doc->usage = calloc(n ? n : 1, sizeof *p->doc->usage);
    if (!p->doc->usage) {
        fail(p, "out of memory");
        path_pop(p, old);
        return false;
    }
    static const char *const fields[] = { "uses", "money", "customer_uses", "customer_units", NULL };
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)usage, key, value)
    {
        size_t o = path_push_key(p, key);
        cart_json_usage *u = &p->doc->usage[p->doc->n_usage];
        u->promotion = key;
        ok = json_is_object(value)
                 ? check_fields(p, value, fields, "a usage record") &&
                       read_int(p, value, "uses", 0, 0, &u->usage.uses) &&
                       read_money(p, value, "money", false, 0, &u->usage.money) &&
                       read_int(p, value, "customer_uses", 0, 0, &u->usage.customer_uses) &&
                       read_int(p, value, "customer_units", 0, 0, &u->customer_units)
                 : fail_type(p, value, "an object {\"uses\", \"money\", \"customer_uses\", \"customer_units\"}");
        path_pop(p, o);
        if (!ok) break;
        p->doc->n_usage++;
    }
    path_pop(p, old);
    return ok;
}

static bool parse_exclude(cart_parser *p, const json_t *exclude)
{
    if (!exclude) return true;
    size_t old = path_push_key(p, "exclude");
    bool ok = true;
    if (!json_is_array(exclude)) {
        ok = fail_type(p, exclude, "an array of promotion ids");
    } else {
        size_t n = json_array_size(exclude);
        p->doc->exclude = calloc(n ? n : 1, sizeof *p->doc->exclude);
        if (!p->doc->exclude) ok = fail(p, "out of memory");
        for (size_t i = 0; ok && i < n; i++) {
            json_t *v = json_array_get(exclude, i);
            size_t o = path_push_index(p, i);
            if (!json_is_string(v) || json_string_length(v) == 0)
                ok = fail_type(p, v, "a promotion id");
            else
                p->doc->exclude[p->doc->n_exclude++] = json_string_value(v);
            path_pop(p, o);
        }
    }
    path_pop(p, old);
    return ok;
}

/* ------------------------------------------------------------------ pre-scan */

/* Walks the raw bytes once, without allocating, to refuse two kinds of hostile input before
 * jansson builds a tree for them: nesting deeper than CART_JSON_MAX_DEPTH, and a top-level
 * "lines" array with more than max_lines elements (counting stops at the first one too many, so
 * a cart of a million lines is refused after reading ~max_lines of them). It does not validate
 * the JSON: anything it does not understand is left to jansson. A "lines" key written with
 * escapes is not recognised here; parse_lines() checks the count again. */
static bool prescan(cart_parser *p, const char *text, size_t len)
{
    size_t depth = 0, line = 1, col = 0;
    bool expect_key = false, key_is_lines = false, want_elem = false;
    size_t lines_depth = 0, count = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == '\n') {
            line++;
            col = 0;
            continue;
        }
        if ((c & 0xC0) != 0x80) col++; /* columns count characters, like jansson's */
        if (c == ' ' || c == '\t' || c == '\r') continue;
        if (lines_depth && depth == lines_depth && c != ',' && c != ']' && want_elem) {
            want_elem = false;
            if (++count > p->limits.max_lines) {
                path_push_key(p, "lines");
                return fail(p, "more than %" PRIu32 " lines (max_lines); refused at line %zu, column %zu",
                            p->limits.max_lines, line, col);
            }
        }
        switch (c) {
        case '"':
            /* skip the string; a raw newline inside is invalid JSON that jansson reports */
            for (size_t start = ++i; i < len; i++) {
                unsigned char b = (unsigned char)text[i];
                if (b == '\n') {
                    i--;
                    break;
                }
                if ((b & 0xC0) != 0x80) col++;
                if (b == '\\' && i + 1 < len && text[i + 1] != '\n') {
                    i++;
                    col++;
                } else if (b == '"') {
                    if (depth == 1 && expect_key) {
                        key_is_lines = i - start == 5 && memcmp(text + start, "lines", 5) == 0;
                        expect_key = false;
                    }
                    break;
                }
            }
            break;
        case '{':
        case '[':
            if (++depth > CART_JSON_MAX_DEPTH) {
                p->path[0] = '\0';
                p->path_len = 0;
                set_error(p->err, p->errlen,
                          "invalid cart at line %zu, column %zu: nesting deeper than %d levels", line, col,
                          CART_JSON_MAX_DEPTH);
                p->failed = true;
                return false;
            }
            if (depth == 1)
                expect_key = c == '{';
            else if (depth == 2 && c == '[' && key_is_lines && !lines_depth) {
                lines_depth = 2;
                want_elem = true;
            }
            break;
        case '}':
        case ']':
            if (depth == lines_depth) lines_depth = 0;
            if (depth > 0) depth--;
            break;
        case ',':
            if (depth == 1) {
                expect_key = true;
                key_is_lines = false;
            } else if (lines_depth && depth == lines_depth) {
                want_elem = true;
            }
            break;
        default: break;
        }
    }
    return true;
}

/* ------------------------------------------------------------------ entry points */

/* Sizes the tag and attribute pools from the tree so that lines can point into them. */
static bool size_pools(cart_parser *p, const json_t *root)
{
    size_t tags = 0, attrs = 0;
    json_t *cust = json_object_get(root, "customer");
    if (json_is_object(cust) && json_is_array(json_object_get(cust, "tags")))
        tags += json_array_size(json_object_get(cust, "tags"));
    json_t *order = json_object_get(root, "order");
    if (json_is_object(order) && json_is_object(json_object_get(order, "attrs")))
        attrs += json_object_size(json_object_get(order, "attrs"));
    json_t *lines = json_object_get(root, "lines");
    if (json_is_array(lines) && json_array_size(lines) <= p->limits.max_lines) {
        for (size_t i = 0; i < json_array_size(lines); i++) {
            json_t *l = json_array_get(lines, i);
            if (!json_is_object(l)) continue;
            json_t *t = json_object_get(l, "tags"), *a = json_object_get(l, "attrs");
            if (json_is_array(t)) tags += json_array_size(t);
            if (json_is_object(a)) attrs += json_object_size(a);
        }
    }
    p->doc->tag_pool = calloc(tags ? tags : 1, sizeof *p->doc->tag_pool);
    p->doc->attr_pool = calloc(attrs ? attrs : 1, sizeof *p->doc->attr_pool);
    p->tag_cap = tags;
    p->attr_cap = attrs;
    return p->doc->tag_pool && p->doc->attr_pool;
}

/* The encoding of a cart that is not UTF-8, by its byte order mark or (JSON starts with an ASCII
 * character) by the NUL bytes of its first character; NULL for UTF-8 and anything else. */
static const char *foreign_encoding(const unsigned char *t, size_t len)
{
    if (len >= 4 && t[0] == 0 && t[1] == 0 && t[2] == 0xFE && t[3] == 0xFF) return "UTF-32 (big-endian)";
    if (len >= 4 && t[0] == 0xFF && t[1] == 0xFE && t[2] == 0 && t[3] == 0) return "UTF-32 (little-endian)";
    if (len >= 2 && t[0] == 0xFE && t[1] == 0xFF) return "UTF-16 (big-endian)";
    if (len >= 2 && t[0] == 0xFF && t[1] == 0xFE) return "UTF-16 (little-endian)";
    if (len >= 4 && t[0] == 0 && t[1] == 0 && t[2] == 0 && t[3] != 0) return "UTF-32 (big-endian)";
    if (len >= 4 && t[0] != 0 && t[1] == 0 && t[2] == 0 && t[3] == 0) return "UTF-32 (little-endian)";
    if (len >= 2 && t[0] == 0 && t[1] != 0) return "UTF-16 (big-endian)";
    if (len >= 2 && t[0] != 0 && t[1] == 0) return "UTF-16 (little-endian)";
    return NULL;
}

cart_doc *cart_json_parse(const char *text, size_t len, int exponent, const char *currency,
                          const perk_limits *limits, char *err, size_t errlen)
{
    if (err && errlen) err[0] = '\0';
    if (!text) {
        set_error(err, errlen, "no cart text given");
        return NULL;
    }
    /* A UTF-8 byte order mark (Windows editors write one) is skipped; other encodings are named. */
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
        text += 3;
        len -= 3;
    }
    const char *encoding = foreign_encoding((const unsigned char *)text, len);
    if (encoding) {
        set_error(err, errlen, "the cart is encoded as %s, not UTF-8: save it as UTF-8", encoding);
        return NULL;
    }
    cart_parser p = { .err = err,
                      .errlen = errlen,
                      .limits = limits ? *limits : cart_default_limits,
                      .program_currency = currency,
                      .currency_name = currency ? currency : "the currency",
                      .path = "$",
                      .path_len = 1 };
    if (!prescan(&p, text, len)) return NULL;

    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        set_error(err, errlen, "invalid JSON at line %d, column %d: %s", jerr.line, jerr.column, jerr.text);
        return NULL;
    }
    cart_doc *doc = calloc(1, sizeof *doc);
    if (!doc) {
        json_decref(root);
        set_error(err, errlen, "out of memory");
        return NULL;
    }
    doc->root = (void *)root;
    p.doc = doc;

    if (!json_is_object(root)) {
        fail_type(&p, root, "an object (a cart)");
        cart_json_free(doc);
        return NULL;
    }
    static const char *const fields[] = { "order", "customer", "lines", "coupons", "usage", "exclude", NULL };
    json_t *order, *customer;
    bool ok = check_fields(&p, root, fields, "a cart") && read_object(&p, root, "order", &order) &&
              read_object(&p, root, "customer", &customer) && parse_currency(&p, order, exponent);
    if (ok && !size_pools(&p, root)) ok = fail(&p, "out of memory");
    ok = ok && (!order || parse_order(&p, order)) && (!customer || parse_customer(&p, customer)) &&
         parse_lines(&p, field(root, "lines")) && parse_coupons(&p, field(root, "coupons")) &&
         parse_usage(&p, field(root, "usage")) && parse_exclude(&p, field(root, "exclude"));
    if (!ok) {
        cart_json_free(doc);
        return NULL;
    }
    return doc;
}

cart_doc *cart_json_parse_file(const char *path, int exponent, const char *currency,
                               const perk_limits *limits, char *err, size_t errlen)
{
    if (!path) {
        set_error(err, errlen, "no cart file given");
        return NULL;
    }
    bool is_stdin = strcmp(path, "-") == 0;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    if (!f) {
        set_error(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 64 * 1024, len = 0;
    char *buf = malloc(cap);
    bool too_large = false, read_error = false;
    while (buf) {
        if (len == cap) {
            if (cap >= CART_JSON_MAX_FILE_BYTES) {
                too_large = true;
                break;
            }
            size_t ncap = cap * 2 > CART_JSON_MAX_FILE_BYTES ? CART_JSON_MAX_FILE_BYTES : cap * 2;
            char *nbuf = realloc(buf, ncap);
            if (!nbuf) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nbuf;
            cap = ncap;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            read_error = ferror(f) != 0;
            break;
        }
    }
    /* one more byte would tell a file of exactly the limit from a larger one */
    if (too_large && fgetc(f) == EOF) too_large = false;
    if (!is_stdin) fclose(f);
    if (!buf) {
        set_error(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    if (too_large || read_error) {
        free(buf);
        if (too_large)
            set_error(err, errlen, "%s: larger than %u bytes", path, CART_JSON_MAX_FILE_BYTES);
        else
            set_error(err, errlen, "%s: read error", path);
        return NULL;
    }
    char msg[512];
    cart_doc *doc = cart_json_parse(buf, len, exponent, currency, limits, msg, sizeof msg);
    free(buf);
    if (!doc) set_error(err, errlen, "%s: %s", path, msg);
    return doc;
}

void cart_json_free(cart_doc *doc)
{
    if (!doc) return;
    json_decref((json_t *)(void *)doc->root);
    free(doc->lines);
    free(doc->coupons);
    free(doc->usage);
    free(doc->exclude);
    free(doc->tag_pool);
    free(doc->attr_pool);
    free(doc);
}

char *cart_json_order_id(const char *text, size_t len)
{
    json_t *root = json_loadb(text, len, 0, NULL);
    const char *id = json_string_value(json_object_get(json_object_get(root, "order"), "id"));
    char *copy = id ? strdup(id) : NULL;
    json_decref(root);
    return copy;
}
