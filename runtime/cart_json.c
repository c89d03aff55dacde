/* cart_json.c - parses and validates a cart JSON document into a cart_doc (see cart_json.h and
 * docs/cart.md for the schema).
 *
 * Two passes over the input: a byte-level pre-scan refuses documents that are nested too deeply
 * or carry more lines than the limit before anything is allocated for them, then libperk's JSON
 * reader (json_read.h: a flat array of values, one string arena) parses it and a schema walk
 * converts it, tracking the JSON path for error messages. The walk passes over each object's
 * members once (check_fields: unknown keys refused, each field's value remembered for the
 * readers), and formats nothing unless a message needs it. Every message is the one of the jansson
 * reader this replaced (tests/unit/test_cart_json_diff.c compares the two).
 */
#include "cart_json.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "civil.h"
#include "json_read.h"
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

/* What check_fields learned in its one pass over an object's members: the value of each allowed
 * field (the reader refuses duplicate keys, so there is one), so that the readers find a field
 * without scanning the members again. One per nesting level of the schema (the cart; an order,
 * customer, line, coupon or usage record; a subscription), each overwritten by the next object of
 * its level. */
#define CART_FIELDS_MAX 12
enum { CART_LEVEL_CART, CART_LEVEL_SECTION, CART_LEVEL_NESTED, CART_LEVELS };
typedef struct cart_fields {
    const json_read_value *obj; /* the object last checked at this level, or NULL */
    const char *const *names;   /* its allowed fields */
    const json_read_value *values[CART_FIELDS_MAX];
} cart_fields;

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
    cart_fields fields[CART_LEVELS];
} cart_parser;

/* ------------------------------------------------------------------ values (json_read.h) */

static bool is_object(const json_read_value *v) { return v && v->type == JSON_READ_OBJECT; }
static bool is_array(const json_read_value *v) { return v && v->type == JSON_READ_ARRAY; }
static bool is_string(const json_read_value *v) { return v && v->type == JSON_READ_STRING; }
static bool is_integer(const json_read_value *v) { return v && v->type == JSON_READ_INTEGER; }
static bool is_real(const json_read_value *v) { return v && v->type == JSON_READ_REAL; }
static bool is_null(const json_read_value *v) { return v && v->type == JSON_READ_NULL; }
static bool is_true(const json_read_value *v) { return v && v->type == JSON_READ_TRUE; }
static bool is_boolean(const json_read_value *v) { return is_true(v) || (v && v->type == JSON_READ_FALSE); }
static int64_t int_value(const json_read_value *v) { return v->u.integer; }
static double real_value(const json_read_value *v) { return v->u.real; }
static const char *str_value(const json_read_value *v) { return v->u.string; }
static size_t str_len(const json_read_value *v) { return v->size; }
static size_t v_size(const json_read_value *v) { return v->size; }

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
    char buf[32]; /* "[" digits "]", written backwards: every line and tag passes here */
    size_t n = sizeof buf;
    buf[--n] = ']';
    do {
        buf[--n] = (char)('0' + index % 10);
        index /= 10;
    } while (index);
    buf[--n] = '[';
    path_append(p, buf + n, sizeof buf - n);
    return old;
}

static void path_pop(cart_parser *p, size_t old)
{
    p->path_len = old;
    p->path[old] = '\0';
}

/* A short description of a JSON value for "got ..." in messages: the value itself for scalars
 * (strings quoted and cut at 40 bytes on a character boundary), the kind for containers. */
static void describe(const json_read_value *v, char *buf, size_t cap)
{
    switch (v->type) {
    case JSON_READ_OBJECT: snprintf(buf, cap, "an object"); return;
    case JSON_READ_ARRAY: snprintf(buf, cap, "an array"); return;
    case JSON_READ_INTEGER: snprintf(buf, cap, "%" PRId64, int_value(v)); return;
    case JSON_READ_REAL: {
        /* an integral real prints as "100.0" (so it is not mistaken for an integer), others in
         * the shortest form that reads back as the same double, as the sender likely wrote it */
        double d = real_value(v);
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
    case JSON_READ_TRUE: snprintf(buf, cap, "true"); return;
    case JSON_READ_FALSE: snprintf(buf, cap, "false"); return;
    case JSON_READ_NULL: snprintf(buf, cap, "null"); return;
    case JSON_READ_STRING: break;
    }
    const char *s = str_value(v);
    size_t n = str_len(v), out = 0;
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
 * that key, a suggestion when one is close, else the list of fields. On success remembers each
 * field's value at `level` for field(). */
static bool check_fields(cart_parser *p, const json_read_value *obj, const char *const *allowed, const char *what,
                         int level)
{
    cart_fields *f = &p->fields[level];
    size_t n_allowed = 0;
    while (allowed[n_allowed]) n_allowed++;
    bool remember = n_allowed <= CART_FIELDS_MAX;
    f->obj = NULL;
    if (remember) memset(f->values, 0, n_allowed * sizeof f->values[0]);
    const json_read_value *value = json_read_first(obj);
    for (size_t k = 0; k < obj->size; k++, value = json_read_next(value)) {
        const char *key = value->key;
        size_t i = 0;
        while (i < n_allowed && !(allowed[i][0] == key[0] && strcmp(key, allowed[i]) == 0)) i++;
        if (i < n_allowed) {
            if (remember) f->values[i] = value;
            continue;
        }
        path_push_key(p, key);
        for (i = 0; allowed[i]; i++)
            if (cart_json_is_similar(key, allowed[i]))
                return fail(p, "unknown field, did you mean \"%s\"?", allowed[i]);
        char list[256];
        size_t n = 0;
        list[0] = '\0';
        for (i = 0; allowed[i] && n < sizeof list; i++) {
            int w = snprintf(list + n, sizeof list - n, "%s%s", i ? ", " : "", allowed[i]);
            if (w < 0) break;
            n += (size_t)w;
        }
        return fail(p, "unknown field (%s has: %s)", what, list);
    }
    if (remember) {
        f->obj = obj;
        f->names = allowed;
    }
    return true;
}

/* ------------------------------------------------------------------ typed field readers */

/* The value of `key` in obj, or NULL when absent or null (JSON null means "not given"). From what
 * check_fields remembered when obj was checked (the key is found by address first: the readers
 * pass the same literals as the field lists), else by a scan of the members. */
static const json_read_value *field(const cart_parser *p, const json_read_value *obj, const char *key)
{
    const json_read_value *v = NULL;
    const cart_fields *f = NULL;
    for (int l = 0; l < CART_LEVELS && !f; l++)
        if (obj && p->fields[l].obj == obj) f = &p->fields[l];
    if (f) {
        size_t i = 0;
        while (f->names[i] && f->names[i] != key) i++;
        if (!f->names[i])
            for (i = 0; f->names[i] && strcmp(f->names[i], key) != 0; i++) continue;
        v = f->names[i] ? f->values[i] : NULL;
    } else {
        v = json_read_get(obj, key);
    }
    return is_null(v) ? NULL : v;
}

static bool fail_type(cart_parser *p, const json_read_value *v, const char *expected)
{
    char got[64];
    describe(v, got, sizeof got);
    return fail(p, "must be %s, got %s", expected, got);
}

static bool read_string(cart_parser *p, const json_read_value *obj, const char *key, bool required, const char **out)
{
    const json_read_value *v = field(p, obj, key);
    size_t old = path_push_key(p, key);
    bool ok = true;
    *out = NULL;
    if (!v) {
        if (required) ok = fail(p, "required field is missing");
    } else if (!is_string(v)) {
        ok = is_integer(v)
                 ? fail(p, "must be a string (quote it: \"%" PRId64 "\")", int_value(v))
                 : fail_type(p, v, "a string");
    } else if (required && str_len(v) == 0) {
        ok = fail(p, "must not be empty");
    } else {
        *out = str_value(v);
    }
    path_pop(p, old);
    return ok;
}

static bool read_int(cart_parser *p, const json_read_value *obj, const char *key, int64_t min, int64_t def,
                     int64_t *out)
{
    const json_read_value *v = field(p, obj, key);
    if (!v) {
        *out = def;
        return true;
    }
    size_t old = path_push_key(p, key);
    bool ok = true;
    const char *kind = min >= 1 ? "a positive integer" : "a non-negative integer";
    if (!is_integer(v))
        ok = fail_type(p, v, kind);
    else if (int_value(v) < min)
        ok = fail(p, "must be %s, got %" PRId64, kind, int_value(v));
    else
        *out = int_value(v);
    path_pop(p, old);
    return ok;
}

static bool read_bool(cart_parser *p, const json_read_value *obj, const char *key, bool *out)
{
    const json_read_value *v = field(p, obj, key);
    *out = false;
    if (!v) return true;
    if (!is_boolean(v)) {
        size_t old = path_push_key(p, key);
        fail_type(p, v, "true or false");
        path_pop(p, old);
        return false;
    }
    *out = is_true(v);
    return true;
}

/* Money in major units: a string ("128.00", "128"), or a JSON integer when the currency has no
 * minor unit (JPY 1200). Never a JSON real: binary fractions cannot hold 0.10 exactly. */
static bool read_money(cart_parser *p, const json_read_value *obj, const char *key, bool required, int64_t def,
                       int64_t *out)
{
    const json_read_value *v = field(p, obj, key);
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
    } else if (is_integer(v) && p->exponent == 0) {
        minor = int_value(v);
        ok = true;
    } else if (is_integer(v)) {
        fail(p,
             "write money as a string in major units, e.g. \"%" PRId64 "\" "
             "(JSON numbers are accepted only for currencies without decimals)",
             int_value(v));
    } else if (is_real(v)) {
        describe(v, got, sizeof got);
        fail(p,
             "write money as a string, e.g. \"%s\": a JSON number with a fraction is a binary "
             "float and cannot hold amounts exactly",
             got);
    } else if (!is_string(v)) {
        fail_type(p, v, "an amount as a string, e.g. \"12.50\"");
    } else {
        const char *s = str_value(v);
        size_t n = str_len(v);
        money_parse_status st = money_parse_decimal(s, n, p->exponent, &minor);
        if (st != MONEY_PARSE_OK) describe(v, got, sizeof got); /* only a message needs it */
        switch (st) {
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

static bool read_date(cart_parser *p, const json_read_value *obj, const char *key, bool allow_no_year, bool *present,
                      int *y, int *m, int *d)
{
    const json_read_value *v = field(p, obj, key);
    *present = v != NULL;
    if (!v) return true;
    size_t old = path_push_key(p, key);
    bool ok = true;
    if (!is_string(v)) {
        ok = fail_type(p, v,
                       allow_no_year ? "a date string \"YYYY-MM-DD\" or \"MM-DD\""
                                     : "a date string \"YYYY-MM-DD\"");
    } else if (!parse_date(str_value(v), str_len(v), allow_no_year, y, m, d)) {
        char got[64];
        describe(v, got, sizeof got);
        ok = fail(p, "%s is not a valid date (expected %s)", got,
                  allow_no_year ? "YYYY-MM-DD or MM-DD" : "YYYY-MM-DD");
    }
    path_pop(p, old);
    return ok;
}

/* An array of non-empty strings, at most `max`, stored in the tag pool. */
static bool read_string_array(cart_parser *p, const json_read_value *obj, const char *key, uint32_t max,
                              const char *limit_name, const char *const **out, size_t *n_out)
{
    const json_read_value *v = field(p, obj, key);
    *out = NULL;
    *n_out = 0;
    if (!v) return true;
    size_t old = path_push_key(p, key);
    if (!is_array(v)) {
        fail_type(p, v, "an array of strings");
        path_pop(p, old);
        return false;
    }
    size_t n = v_size(v);
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
    const json_read_value *t = json_read_first(v);
    for (size_t i = 0; i < n; i++, t = json_read_next(t)) {
        size_t o = path_push_index(p, i);
        if (!is_string(t) || str_len(t) == 0) {
            if (is_string(t))
                fail(p, "must not be empty");
            else
                fail_type(p, t, "a string");
            path_pop(p, old);
            return false;
        }
        dst[i] = str_value(t);
        path_pop(p, o);
    }
    p->tag_used += n;
    *out = n ? dst : NULL;
    *n_out = n;
    path_pop(p, old);
    return true;
}

static bool read_object(cart_parser *p, const json_read_value *obj, const char *key, const json_read_value **out)
{
    const json_read_value *v = field(p, obj, key);
    *out = v;
    if (!v || is_object(v)) return true;
    size_t old = path_push_key(p, key);
    fail_type(p, v, "an object");
    path_pop(p, old);
    return false;
}

/* ------------------------------------------------------------------ sections */

static bool read_attrs(cart_parser *p, const json_read_value *obj, const perk_attr **out, size_t *n_out);

static bool parse_order(cart_parser *p, const json_read_value *order)
{
    static const char *const fields[] = { "id",           "currency",         "time", "channel", "shipping",
                                          "subscription", "points_to_redeem", "region",
                                          "attrs",        NULL };
    perk_order *o = &p->doc->order;
    size_t old = path_push_key(p, "order");
    bool ok = check_fields(p, order, fields, "an order", CART_LEVEL_SECTION) &&
              read_string(p, order, "id", false, &o->id) &&
              read_string(p, order, "channel", false, &o->channel) &&
              read_string(p, order, "region", false, &o->region) &&
              read_attrs(p, order, &o->attrs, &o->n_attrs) &&
              read_money(p, order, "shipping", false, 0, &o->shipping);
    if (!ok) goto out;

    const json_read_value *t = field(p, order, "time");
    if (t) {
        size_t o2 = path_push_key(p, "time");
        int64_t epoch = 0;
        if (!is_string(t)) {
            ok = fail_type(p, t, "an RFC 3339 timestamp string, e.g. \"2026-03-04T10:00:00+08:00\"");
        } else if (!civil_parse_timestamp(str_value(t), str_len(t), &epoch)) {
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

    const json_read_value *sub;
    if (!(ok = read_object(p, order, "subscription", &sub))) goto out;
    if (sub) {
        static const char *const sub_fields[] = { "plan", "delivery", NULL };
        size_t o2 = path_push_key(p, "subscription");
        ok = check_fields(p, sub, sub_fields, "a subscription", CART_LEVEL_NESTED) &&
             read_string(p, sub, "plan", true, &o->subscription_plan) &&
             read_int(p, sub, "delivery", 1, 1, &o->delivery_number);
        path_pop(p, o2);
        if (!ok) goto out;
    }

    const json_read_value *r = field(p, order, "points_to_redeem");
    if (is_string(r) && strcmp(str_value(r), "max") == 0) {
        o->points_to_redeem = -1;
    } else if (r && !is_integer(r)) {
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
static bool parse_currency(cart_parser *p, const json_read_value *order, int exponent)
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

static bool parse_customer(cart_parser *p, const json_read_value *c)
{
    static const char *const fields[] = { "id",          "tier",   "tags",   "birthday", "member_since",
                                          "first_order", "orders", "points", NULL };
    perk_customer *cu = &p->doc->customer;
    size_t old = path_push_key(p, "customer");
    bool present;
    int y, m, d;
    bool ok = check_fields(p, c, fields, "a customer", CART_LEVEL_SECTION) &&
              read_string(p, c, "id", false, &cu->id) &&
              read_string(p, c, "tier", false, &cu->tier) &&
              read_string_array(p, c, "tags", p->limits.max_tags, "max_tags", &cu->tags, &cu->n_tags) &&
              read_bool(p, c, "first_order", &cu->first_order) &&
              read_int(p, c, "orders", 0, 0, &cu->order_count) &&
              read_int(p, c, "points", 0, 0, &cu->points_balance);
    /* a key absent or null is an unknown fact, as a zero presence flag is in the C API */
    cu->has_first_order = field(p, c, "first_order") != NULL;
    cu->has_order_count = field(p, c, "orders") != NULL;
    cu->has_points_balance = field(p, c, "points") != NULL;
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
static bool read_margin(cart_parser *p, const json_read_value *line, perk_line *l)
{
    const json_read_value *v = field(p, line, "margin");
    int64_t *out = &l->margin_ppm;
    l->has_margin = false;
    if (!v) return true;
    size_t old = path_push_key(p, "margin");
    bool ok = false;
    char got[64];
    size_t n = is_string(v) ? str_len(v) : 0;
    const char *s = is_string(v) ? str_value(v) : NULL;
    int64_t ppm = 0;
    bool shape = s && n >= 2 && s[n - 1] == '%';
    bool number = shape && money_parse_ppm(s, n - 1, &ppm) == MONEY_PARSE_OK;
    ok = number && ppm >= 0 && ppm <= 1000000;
    if (!ok) {
        describe(v, got, sizeof got); /* only a message needs it */
        if (!shape)
            fail(p, "must be a percentage string such as \"45%%\", got %s", got);
        else if (!number)
            fail(p, "%s is not a percentage (expected e.g. \"45%%\" or \"12.5%%\", at most 4 decimals)", got);
        else
            fail(p, "%s must be between 0%% and 100%%", got);
    }
    if (ok) {
        *out = ppm;
        l->has_margin = true;
    }
    path_pop(p, old);
    return ok;
}

static bool read_attrs(cart_parser *p, const json_read_value *line, const perk_attr **out, size_t *n_out)
{
    const json_read_value *attrs;
    if (!read_object(p, line, "attrs", &attrs)) return false;
    if (!attrs) return true;
    size_t old = path_push_key(p, "attrs");
    size_t n = v_size(attrs);
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
    const json_read_value *value = json_read_first(attrs);
    for (size_t k = 0; k < n; k++, value = json_read_next(value)) {
        const char *key = value->key;
        if (!is_string(value)) {
            path_push_key(p, key);
            fail_type(p, value, "a string");
            path_pop(p, old);
            return false;
        }
        dst[i].key = key;
        dst[i].value = str_value(value);
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
static bool read_category(cart_parser *p, const json_read_value *line, const char **out)
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
    describe(field(p, line, "category"), got, sizeof got);
    size_t old = path_push_key(p, "category");
    fail(p, "%s has an empty segment: write the path as segments separated by '/', e.g. \"tea/green\"", got);
    path_pop(p, old);
    return false;
}

static bool parse_line(cart_parser *p, const json_read_value *line, perk_line *l)
{
    static const char *const fields[] = { "id",    "sku",      "name",   "category", "brand", "tags",
                                          "price", "quantity", "margin", "attrs",    "store", NULL };
    if (!is_object(line)) return fail_type(p, line, "an object");
    bool ok = check_fields(p, line, fields, "a line", CART_LEVEL_SECTION) &&
              read_string(p, line, "id", false, &l->id) &&
              read_string(p, line, "sku", true, &l->sku) && read_string(p, line, "name", false, &l->name) &&
              read_category(p, line, &l->category) && read_string(p, line, "brand", false, &l->brand) &&
              read_string_array(p, line, "tags", p->limits.max_tags, "max_tags", &l->tags, &l->n_tags) &&
              read_money(p, line, "price", true, 0, &l->unit_price) && read_margin(p, line, l) &&
              read_attrs(p, line, &l->attrs, &l->n_attrs) && read_string(p, line, "store", false, &l->store);
    if (!ok) return false;

    const json_read_value *q = field(p, line, "quantity");
    size_t old = path_push_key(p, "quantity");
    if (!q)
        ok = fail(p, "required field is missing");
    else if (!is_integer(q) || int_value(q) < 1)
        ok = fail_type(p, q, "a positive integer");
    else if (int_value(q) > p->limits.max_quantity)
        ok =
            fail(p, "%" PRId64 " exceeds the limit of %" PRId64 " units per line (max_quantity)",
                 int_value(q), p->limits.max_quantity);
    else
        l->quantity = int_value(q);
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

static bool parse_lines(cart_parser *p, const json_read_value *lines)
{
    size_t old = path_push_key(p, "lines");
    if (!lines) {
        fail(p, "required field is missing");
        path_pop(p, old);
        return false;
    }
    if (!is_array(lines)) {
        fail_type(p, lines, "an array of lines");
        path_pop(p, old);
        return false;
    }
    size_t n = v_size(lines);
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
    const json_read_value *line = json_read_first(lines);
    for (size_t i = 0; i < n; i++, line = json_read_next(line)) {
        size_t o = path_push_index(p, i);
        if (!parse_line(p, line, &doc->lines[i])) {
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

static bool parse_coupon(cart_parser *p, const json_read_value *v, cart_json_coupon *c)
{
    c->status = PERK_COUPON_UNCHECKED;
    if (is_string(v)) {
        if (str_len(v) == 0) return fail(p, "a coupon code must not be empty");
        c->code = str_value(v);
        return true;
    }
    if (!is_object(v))
        return fail_type(p, v, "a code string or an object {\"code\", \"campaign\", \"status\"}");
    static const char *const fields[] = { "code", "campaign", "status", NULL };
    const char *status = NULL;
    if (!check_fields(p, v, fields, "a coupon", CART_LEVEL_SECTION) || !read_string(p, v, "code", true, &c->code) ||
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

static bool parse_coupons(cart_parser *p, const json_read_value *coupons)
{
    if (!coupons) return true;
    size_t old = path_push_key(p, "coupons");
    bool ok = true;
    if (!is_array(coupons)) {
        ok = fail_type(p, coupons, "an array of coupons");
    } else if (v_size(coupons) > p->limits.max_coupons) {
        ok = fail(p, "%zu coupons exceed the limit of %" PRIu32 " (max_coupons)", v_size(coupons),
                  p->limits.max_coupons);
    } else {
        size_t n = v_size(coupons);
        p->doc->coupons = calloc(n ? n : 1, sizeof *p->doc->coupons);
        if (!p->doc->coupons) ok = fail(p, "out of memory");
        const json_read_value *coupon = json_read_first(coupons);
        for (size_t i = 0; ok && i < n; i++, coupon = json_read_next(coupon)) {
            size_t o = path_push_index(p, i);
            ok = parse_coupon(p, coupon, &p->doc->coupons[i]);
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

static bool parse_usage(cart_parser *p, const json_read_value *usage)
{
    if (!usage) return true;
    size_t old = path_push_key(p, "usage");
    bool ok = true;
    if (!is_object(usage)) {
        ok = fail_type(p, usage, "an object keyed by promotion id");
        path_pop(p, old);
        return ok;
    }
    size_t n = v_size(usage);
    p->doc->usage = calloc(n ? n : 1, sizeof *p->doc->usage);
    if (!p->doc->usage) {
        fail(p, "out of memory");
        path_pop(p, old);
        return false;
    }
    static const char *const fields[] = { "uses", "money", "customer_uses", "customer_units", NULL };
    const json_read_value *value = json_read_first(usage);
    for (size_t k = 0; k < n; k++, value = json_read_next(value)) {
        const char *key = value->key;
        size_t o = path_push_key(p, key);
        cart_json_usage *u = &p->doc->usage[p->doc->n_usage];
        u->promotion = key;
        ok = is_object(value)
                 ? check_fields(p, value, fields, "a usage record", CART_LEVEL_SECTION) &&
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

static bool parse_exclude(cart_parser *p, const json_read_value *exclude)
{
    if (!exclude) return true;
    size_t old = path_push_key(p, "exclude");
    bool ok = true;
    if (!is_array(exclude)) {
        ok = fail_type(p, exclude, "an array of promotion ids");
    } else {
        size_t n = v_size(exclude);
        p->doc->exclude = calloc(n ? n : 1, sizeof *p->doc->exclude);
        if (!p->doc->exclude) ok = fail(p, "out of memory");
        const json_read_value *v = json_read_first(exclude);
        for (size_t i = 0; ok && i < n; i++, v = json_read_next(v)) {
            size_t o = path_push_index(p, i);
            if (!is_string(v) || str_len(v) == 0)
                ok = fail_type(p, v, "a promotion id");
            else
                p->doc->exclude[p->doc->n_exclude++] = str_value(v);
            path_pop(p, o);
        }
    }
    path_pop(p, old);
    return ok;
}

/* ------------------------------------------------------------------ pre-scan */

/* Walks the raw bytes once, without allocating, to refuse two kinds of hostile input before
 * the document is parsed: nesting deeper than CART_JSON_MAX_DEPTH, and a top-level
 * "lines" array with more than max_lines elements (counting stops at the first one too many, so
 * a cart of a million lines is refused after reading ~max_lines of them). It does not validate
 * the JSON: anything it does not understand is left to the reader. A "lines" key written with
 * escapes is not recognised here; parse_lines() checks the count again. With `report` false it
 * only answers whether the input passes, counting no columns and writing no message (inlined
 * into both calls so that each is compiled for its constant `report`). */
static inline __attribute__((always_inline)) bool prescan_run(cart_parser *p, const char *text, size_t len,
                                                           bool report)
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
        if (report && (c & 0xC0) != 0x80) col++; /* columns count characters, like the reader's */
        if (c == ' ' || c == '\t' || c == '\r') continue;
        if (lines_depth && depth == lines_depth && c != ',' && c != ']' && want_elem) {
            want_elem = false;
            if (++count > p->limits.max_lines) {
                if (!report) return false;
                path_push_key(p, "lines");
                return fail(p, "more than %" PRIu32 " lines (max_lines); refused at line %zu, column %zu",
                            p->limits.max_lines, line, col);
            }
        }
        switch (c) {
        case '"':
            /* skip the string; a raw newline inside is invalid JSON that the reader reports */
            for (size_t start = ++i; i < len; i++) {
                unsigned char b = (unsigned char)text[i];
                if (b == '\n') {
                    i--;
                    break;
                }
                if (report && (b & 0xC0) != 0x80) col++;
                if (b == '\\' && i + 1 < len && text[i + 1] != '\n') {
                    i++;
                    col += report;
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
                if (!report) return false;
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
/* The walk without lines and columns first (all that a cart within the limits needs), and again
 * counting them only when it refuses the input, for the message. */
static bool prescan(cart_parser *p, const char *text, size_t len)
{
    return prescan_run(p, text, len, false) || prescan_run(p, text, len, true);
}

static bool size_pools(cart_parser *p, const json_read_value *root)
{
    size_t tags = 0, attrs = 0;
    const json_read_value *cust = json_read_get(root, "customer");
    if (is_object(cust) && is_array(json_read_get(cust, "tags")))
        tags += v_size(json_read_get(cust, "tags"));
    const json_read_value *order = json_read_get(root, "order");
    if (is_object(order) && is_object(json_read_get(order, "attrs")))
        attrs += v_size(json_read_get(order, "attrs"));
    const json_read_value *lines = json_read_get(root, "lines");
    if (is_array(lines) && v_size(lines) <= p->limits.max_lines) {
        const json_read_value *l = json_read_first(lines);
        for (size_t i = 0; i < v_size(lines); i++, l = json_read_next(l)) {
            if (!is_object(l)) continue;
            const json_read_value *t = json_read_get(l, "tags"), *a = json_read_get(l, "attrs");
            if (is_array(t)) tags += v_size(t);
            if (is_object(a)) attrs += v_size(a);
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

    json_read_error jerr;
    json_read_doc *tape = json_read_parse(text, len, true, &jerr);
    if (!tape) {
        set_error(err, errlen, "invalid JSON at line %d, column %d: %s", jerr.line, jerr.column, jerr.text);
        return NULL;
    }
    cart_doc *doc = calloc(1, sizeof *doc);
    if (!doc) {
        json_read_free(tape);
        set_error(err, errlen, "out of memory");
        return NULL;
    }
    doc->root = tape;
    const json_read_value *root = json_read_root(tape);
    p.doc = doc;

    if (!is_object(root)) {
        fail_type(&p, root, "an object (a cart)");
        cart_json_free(doc);
        return NULL;
    }
    static const char *const fields[] = { "order", "customer", "lines", "coupons", "usage", "exclude", NULL };
    const json_read_value *order, *customer;
    bool ok = check_fields(&p, root, fields, "a cart", CART_LEVEL_CART) && read_object(&p, root, "order", &order) &&
              read_object(&p, root, "customer", &customer) && parse_currency(&p, order, exponent);
    if (ok && !size_pools(&p, root)) ok = fail(&p, "out of memory");
    ok = ok && (!order || parse_order(&p, order)) && (!customer || parse_customer(&p, customer)) &&
         parse_lines(&p, field(&p, root, "lines")) && parse_coupons(&p, field(&p, root, "coupons")) &&
         parse_usage(&p, field(&p, root, "usage")) && parse_exclude(&p, field(&p, root, "exclude"));
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
    json_read_free(doc->root);
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
    json_read_doc *tape = json_read_parse(text, len, false, NULL);
    const json_read_value *id = json_read_get(json_read_get(json_read_root(tape), "order"), "id");
    char *copy = is_string(id) ? strdup(str_value(id)) : NULL;
    json_read_free(tape);
    return copy;
}
