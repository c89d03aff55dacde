/* json_read.c - the JSON reader of libperk (json_read.h): a lexer that reads the bytes through a
 * small UTF-8 window, and a recursive descent parser that appends values to a flat array.
 *
 * The observable behaviour follows jansson 2.14's json_loadb, which the cart reader used before,
 * so that messages do not change: a token's text is kept as a (start, length) range of the input
 * for "near '...'" (shown when at most 20 bytes), line and column are those of the reading
 * position when the error is found (columns count UTF-8 characters), the first error set wins,
 * a character put back when it is a NUL byte is dropped (jansson's window cannot hold a NUL), and
 * an invalid UTF-8 sequence is reported where its first byte starts.
 */
#include "json_read.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JR_EOF (-1)
#define JR_BAD (-2)
#define JR_MAX_DEPTH 2048

enum {
    TOK_INVALID = -1,
    TOK_EOF = 0,
    TOK_STRING = 256,
    TOK_INTEGER,
    TOK_REAL,
    TOK_TRUE,
    TOK_FALSE,
    TOK_NULL,
};

struct json_read_doc {
    json_read_value *values;
    size_t n, cap;
    char *arena; /* decoded strings: at most the input's length in all (quotes become NULs) */
    size_t arena_used;
};

/* One key of one object, for refusing duplicates: an open-addressing set over the document. */
typedef struct key_slot {
    size_t object; /* index of the object + 1; 0 = empty slot */
    const char *key;
} key_slot;

typedef struct lexer {
    const unsigned char *data;
    size_t len, pos;
    unsigned char window[5]; /* the current character's bytes, NUL-terminated */
    size_t window_base;      /* input index of window[0] */
    size_t window_pos;
    int state; /* 0, JR_EOF or JR_BAD */
    int line, column, last_column;
    size_t saved_start, saved_len; /* the token's text, a range of the input */
    int token;
    const char *string; /* TOK_STRING: decoded, in the arena */
    size_t string_len;
    int64_t integer;
    double real;
    size_t depth;
    json_read_error *err;
    bool failed;
    json_read_doc *doc;
    bool reject_duplicates;
    key_slot *keys;
    size_t keys_used, keys_cap;
} lexer;

/* ------------------------------------------------------------------ errors */

static void set_error(lexer *L, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_error(lexer *L, const char *fmt, ...)
{
    if (L->failed) return;
    L->failed = true;
    char msg[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_read_error *e = L->err;
    char text[sizeof msg + 64];
    e->line = L->line;
    e->column = L->column;
    const char *saved = (const char *)L->data + L->saved_start;
    if (L->saved_len > 0 && saved[0] != '\0') {
        if (L->saved_len <= 20) {
            char near[21];
            memcpy(near, saved, L->saved_len);
            near[L->saved_len] = '\0'; /* printed as a C string: up to a NUL byte */
            snprintf(text, sizeof text, "%s near '%s'", msg, near);
        } else {
            snprintf(text, sizeof text, "%s", msg);
        }
    } else if (L->state == JR_BAD) {
        snprintf(text, sizeof text, "%s", msg);
    } else {
        snprintf(text, sizeof text, "%s near end of file", msg);
    }
    /* jansson keeps 159 bytes of it */
    size_t n = strnlen(text, sizeof e->text - 1);
    memcpy(e->text, text, n);
    e->text[n] = '\0';
}

/* ------------------------------------------------------------------ UTF-8 window */

/* Bytes in the sequence a byte starts: 1 for ASCII, 2..4 for a lead byte, 0 for a continuation
 * byte or a byte that never starts a sequence. */
static size_t utf8_length(unsigned char u)
{
    if (u < 0x80) return 1;
    if (u < 0xC2) return 0;
    if (u <= 0xDF) return 2;
    if (u <= 0xEF) return 3;
    if (u <= 0xF4) return 4;
    return 0;
}

/* Whether a sequence of n bytes is well-formed: continuation bytes, shortest form, no surrogate,
 * at most U+10FFFF. */
static bool utf8_valid(const unsigned char *b, size_t n)
{
    uint32_t v = n == 2 ? (b[0] & 0x1Fu) : n == 3 ? (b[0] & 0x0Fu) : (b[0] & 0x07u);
    for (size_t i = 1; i < n; i++) {
        if (b[i] < 0x80 || b[i] > 0xBF) return false;
        v = (v << 6) | (b[i] & 0x3Fu);
    }
    if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return false;
    return !((n == 2 && v < 0x80) || (n == 3 && v < 0x800) || (n == 4 && v < 0x10000));
}

static int get(lexer *L)
{
    if (L->state) return L->state;
    if (!L->window[L->window_pos]) {
        if (L->pos >= L->len) {
            L->state = JR_EOF;
            return JR_EOF;
        }
        unsigned char c = L->data[L->pos];
        L->window_base = L->pos++;
        L->window[0] = c;
        L->window_pos = 0;
        if (c >= 0x80) {
            size_t n = utf8_length(c);
            for (size_t i = 1; i < n; i++) L->window[i] = L->pos < L->len ? L->data[L->pos++] : 0xFF;
            if (!n || !utf8_valid(L->window, n)) {
                L->state = JR_BAD;
                set_error(L, "unable to decode byte 0x%x", c);
                return JR_BAD;
            }
            L->window[n] = '\0';
        } else {
            L->window[1] = '\0';
        }
    }
    unsigned char c = L->window[L->window_pos++];
    if (c == '\n') {
        L->line++;
        L->last_column = L->column;
        L->column = 0;
    } else if (utf8_length(c)) {
        L->column++;
    }
    return c;
}

static void unget(lexer *L, int c)
{
    if (c < 0) return;
    if (c == '\n') {
        L->line--;
        L->column = L->last_column;
    } else if (utf8_length((unsigned char)c)) {
        L->column--;
    }
    L->window_pos--;
}

static void save(lexer *L)
{
    if (L->saved_len == 0) L->saved_start = L->window_base + L->window_pos - 1;
    L->saved_len++;
}

static int get_save(lexer *L)
{
    int c = get(L);
    if (c >= 0) save(L);
    return c;
}

static void unget_unsave(lexer *L, int c)
{
    if (c < 0) return;
    unget(L, c);
    L->saved_len--;
}

static bool is_digit(int c) { return c >= '0' && c <= '9'; }
static bool is_alpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static bool is_xdigit(int c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

/* Fast paths, with the effect of get() on each byte they pass: the plain ASCII bytes of a string
 * (saved into the token) and the whitespace between tokens, read straight from the input when
 * the window holds no pending byte. */
static void skip_plain(lexer *L)
{
    if (L->state || L->window[L->window_pos]) return;
    const unsigned char *d = L->data;
    size_t p = L->pos;
    while (p < L->len && d[p] >= 0x20 && d[p] < 0x80 && d[p] != '"' && d[p] != '\\') p++;
    L->column += (int)(p - L->pos);
    L->saved_len += p - L->pos;
    L->pos = p;
}

static void skip_space(lexer *L)
{
    if (L->state || L->window[L->window_pos]) return;
    const unsigned char *d = L->data;
    size_t p = L->pos;
    for (; p < L->len; p++) {
        if (d[p] == '\n') {
            L->line++;
            L->last_column = L->column;
            L->column = 0;
        } else if (d[p] == ' ' || d[p] == '\t' || d[p] == '\r') {
            L->column++;
        } else {
            break;
        }
    }
    L->pos = p;
}

/* ------------------------------------------------------------------ tokens */

static int32_t hex4(const unsigned char *s)
{
    int32_t v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char c = s[i];
        v = v * 16 + (int32_t)(is_digit(c) ? c - '0' : (c | 0x20) - 'a' + 10);
    }
    return v;
}

static size_t utf8_put(int32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* A string token: first checked while read, then decoded from its text into the arena. */
static void scan_string(lexer *L)
{
    L->token = TOK_INVALID;
    int c = get_save(L);
    while (c != '"') {
        if (c == JR_BAD) return;
        if (c == JR_EOF) {
            set_error(L, "premature end of input");
            return;
        }
        if (c <= 0x1F) {
            unget_unsave(L, c);
            if (c == '\n')
                set_error(L, "unexpected newline");
            else
                set_error(L, "control character 0x%x", (unsigned)c);
            return;
        }
        if (c == '\\') {
            c = get_save(L);
            if (c == 'u') {
                c = get_save(L);
                for (int i = 0; i < 4; i++) {
                    if (!is_xdigit(c)) {
                        set_error(L, "invalid escape");
                        return;
                    }
                    c = get_save(L);
                }
            } else if (c == '"' || c == '\\' || c == '/' || c == 'b' || c == 'f' || c == 'n' || c == 'r' ||
                       c == 't') {
                c = get_save(L);
            } else {
                set_error(L, "invalid escape");
                return;
            }
        } else {
            skip_plain(L);
            c = get_save(L);
        }
    }
    const unsigned char *p = L->data + L->saved_start + 1;
    const unsigned char *end = L->data + L->saved_start + L->saved_len - 1; /* the closing quote */
    char *out = L->doc->arena + L->doc->arena_used, *t = out;
    while (p < end) {
        if (*p != '\\') {
            *t++ = (char)*p++;
            continue;
        }
        p++;
        if (*p != 'u') {
            char e = (char)*p;
            *t++ = e == 'b' ? '\b' : e == 'f' ? '\f' : e == 'n' ? '\n' : e == 'r' ? '\r' : e == 't' ? '\t' : e;
            p++;
            continue;
        }
        int32_t v = hex4(p + 1);
        p += 5;
        if (v >= 0xD800 && v <= 0xDBFF) {
            if (p + 1 < end && p[0] == '\\' && p[1] == 'u') {
                int32_t v2 = hex4(p + 2);
                p += 6;
                if (v2 < 0xDC00 || v2 > 0xDFFF) {
                    set_error(L, "invalid Unicode '\\u%04X\\u%04X'", (unsigned)v, (unsigned)v2);
                    return;
                }
                v = ((v - 0xD800) << 10) + (v2 - 0xDC00) + 0x10000;
            } else {
                set_error(L, "invalid Unicode '\\u%04X'", (unsigned)v);
                return;
            }
        } else if (v >= 0xDC00 && v <= 0xDFFF) {
            set_error(L, "invalid Unicode '\\u%04X'", (unsigned)v);
            return;
        }
        t += utf8_put(v, t);
    }
    *t = '\0';
    L->string = out;
    L->string_len = (size_t)(t - out);
    L->doc->arena_used += L->string_len + 1;
    L->token = TOK_STRING;
}

static void scan_number(lexer *L, int c)
{
    L->token = TOK_INVALID;
    if (c == '-') c = get_save(L);
    if (c == '0') {
        c = get_save(L);
        if (is_digit(c)) {
            unget_unsave(L, c);
            return;
        }
    } else if (is_digit(c)) {
        do c = get_save(L);
        while (is_digit(c));
    } else {
        unget_unsave(L, c);
        return;
    }
    if (c != '.' && c != 'E' && c != 'e') {
        unget_unsave(L, c);
        const unsigned char *s = L->data + L->saved_start, *e = s + L->saved_len;
        bool negative = *s == '-';
        if (negative) s++;
        uint64_t v = 0, limit = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
        for (; s < e; s++) {
            unsigned d = (unsigned)(*s - '0');
            if (v > (limit - d) / 10) {
                set_error(L, negative ? "too big negative integer" : "too big integer");
                return;
            }
            v = v * 10 + d;
        }
        L->integer = negative ? (v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v) : (int64_t)v;
        L->token = TOK_INTEGER;
        return;
    }
    if (c == '.') {
        c = get(L);
        if (!is_digit(c)) {
            unget(L, c);
            return;
        }
        save(L);
        do c = get_save(L);
        while (is_digit(c));
    }
    if (c == 'E' || c == 'e') {
        c = get_save(L);
        if (c == '+' || c == '-') c = get_save(L);
        if (!is_digit(c)) {
            unget_unsave(L, c);
            return;
        }
        do c = get_save(L);
        while (is_digit(c));
    }
    unget_unsave(L, c);
    char small[64], *buf = small;
    if (L->saved_len >= sizeof small && !(buf = malloc(L->saved_len + 1))) {
        set_error(L, "out of memory");
        return;
    }
    memcpy(buf, L->data + L->saved_start, L->saved_len);
    buf[L->saved_len] = '\0';
    errno = 0;
    double d = strtod(buf, NULL);
    bool overflow = (d == HUGE_VAL || d == -HUGE_VAL) && errno == ERANGE;
    if (buf != small) free(buf);
    if (overflow) {
        set_error(L, "real number overflow");
        return;
    }
    L->real = d;
    L->token = TOK_REAL;
}

static int scan(lexer *L)
{
    L->saved_len = 0;
    skip_space(L);
    int c;
    do c = get(L);
    while (c == ' ' || c == '\t' || c == '\n' || c == '\r');
    if (c == JR_EOF) return L->token = TOK_EOF;
    if (c == JR_BAD) return L->token = TOK_INVALID;
    save(L);
    if (c == '{' || c == '}' || c == '[' || c == ']' || c == ':' || c == ',') {
        L->token = c;
    } else if (c == '"') {
        scan_string(L);
    } else if (is_digit(c) || c == '-') {
        scan_number(L, c);
    } else if (is_alpha(c)) {
        do c = get_save(L);
        while (is_alpha(c));
        unget_unsave(L, c);
        const char *s = (const char *)L->data + L->saved_start;
        size_t n = L->saved_len;
        L->token = n == 4 && memcmp(s, "true", 4) == 0    ? TOK_TRUE
                   : n == 5 && memcmp(s, "false", 5) == 0 ? TOK_FALSE
                   : n == 4 && memcmp(s, "null", 4) == 0  ? TOK_NULL
                                                          : TOK_INVALID;
    } else {
        /* the rest of the character, so that "near '...'" shows it whole */
        while (L->window[L->window_pos]) {
            L->saved_len++;
            L->window_pos++;
        }
        L->token = TOK_INVALID;
    }
    return L->token;
}

/* ------------------------------------------------------------------ values */

static size_t add_value(lexer *L, json_read_type type, const char *key)
{
    json_read_doc *d = L->doc;
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 64;
        json_read_value *v = realloc(d->values, cap * sizeof *v);
        if (!v) return SIZE_MAX;
        d->values = v;
        d->cap = cap;
    }
    json_read_value *v = &d->values[d->n];
    memset(v, 0, sizeof *v);
    v->type = type;
    v->key = key;
    v->skip = 1;
    return d->n++;
}

static uint64_t hash_key(size_t object, const char *key)
{
    uint64_t h = 1469598103934665603u ^ object;
    for (const unsigned char *s = (const unsigned char *)key; *s; s++) h = (h ^ *s) * 1099511628211u;
    return h;
}

/* Adds (object, key) to the set; false when it was there already or memory ran out (*oom). */
static bool key_insert(lexer *L, size_t object, const char *key, bool *oom)
{
    if (2 * (L->keys_used + 1) > L->keys_cap) {
        size_t cap = L->keys_cap ? L->keys_cap * 2 : 64;
        key_slot *slots = calloc(cap, sizeof *slots);
        if (!slots) {
            *oom = true;
            return false;
        }
        for (size_t i = 0; i < L->keys_cap; i++) {
            if (!L->keys[i].object) continue;
            size_t j = (size_t)hash_key(L->keys[i].object, L->keys[i].key) & (cap - 1);
            while (slots[j].object) j = (j + 1) & (cap - 1);
            slots[j] = L->keys[i];
        }
        free(L->keys);
        L->keys = slots;
        L->keys_cap = cap;
    }
    size_t j = (size_t)hash_key(object + 1, key) & (L->keys_cap - 1);
    for (; L->keys[j].object; j = (j + 1) & (L->keys_cap - 1))
        if (L->keys[j].object == object + 1 && strcmp(L->keys[j].key, key) == 0) return false;
    L->keys[j] = (key_slot){ object + 1, key };
    L->keys_used++;
    return true;
}

static bool parse_value(lexer *L, const char *key);

static bool out_of_memory(lexer *L)
{
    set_error(L, "out of memory");
    return false;
}

static bool parse_object(lexer *L, size_t self)
{
    size_t members = 0;
    scan(L);
    if (L->token != '}') {
        for (;;) {
            if (L->token != TOK_STRING) {
                set_error(L, "string or '}' expected");
                return false;
            }
            const char *key = L->string;
            if (memchr(key, '\0', L->string_len)) {
                set_error(L, "NUL byte in object key not supported");
                return false;
            }
            if (L->reject_duplicates) {
                bool oom = false;
                if (!key_insert(L, self, key, &oom)) {
                    if (oom) return out_of_memory(L);
                    set_error(L, "duplicate object key");
                    return false;
                }
            }
            scan(L);
            if (L->token != ':') {
                set_error(L, "':' expected");
                return false;
            }
            scan(L);
            if (!parse_value(L, key)) return false;
            members++;
            scan(L);
            if (L->token != ',') break;
            scan(L);
        }
        if (L->token != '}') {
            set_error(L, "'}' expected");
            return false;
        }
    }
    L->doc->values[self].size = members;
    return true;
}

static bool parse_array(lexer *L, size_t self)
{
    size_t elements = 0;
    scan(L);
    if (L->token != ']') {
        while (L->token != TOK_EOF) {
            if (!parse_value(L, NULL)) return false;
            elements++;
            scan(L);
            if (L->token != ',') break;
            scan(L);
        }
        if (L->token != ']') {
            set_error(L, "']' expected");
            return false;
        }
    }
    L->doc->values[self].size = elements;
    return true;
}

static bool parse_value(lexer *L, const char *key)
{
    if (++L->depth > JR_MAX_DEPTH) {
        set_error(L, "maximum parsing depth reached");
        return false;
    }
    size_t at;
    switch (L->token) {
    case TOK_STRING:
        if (memchr(L->string, '\0', L->string_len)) {
            set_error(L, "\\u0000 is not allowed without JSON_ALLOW_NUL");
            return false;
        }
        if ((at = add_value(L, JSON_READ_STRING, key)) == SIZE_MAX) return out_of_memory(L);
        L->doc->values[at].u.string = L->string;
        L->doc->values[at].size = L->string_len;
        break;
    case TOK_INTEGER:
        if ((at = add_value(L, JSON_READ_INTEGER, key)) == SIZE_MAX) return out_of_memory(L);
        L->doc->values[at].u.integer = L->integer;
        break;
    case TOK_REAL:
        if ((at = add_value(L, JSON_READ_REAL, key)) == SIZE_MAX) return out_of_memory(L);
        L->doc->values[at].u.real = L->real;
        break;
    case TOK_TRUE:
    case TOK_FALSE:
    case TOK_NULL: {
        json_read_type t = L->token == TOK_TRUE    ? JSON_READ_TRUE
                           : L->token == TOK_FALSE ? JSON_READ_FALSE
                                                   : JSON_READ_NULL;
        if (add_value(L, t, key) == SIZE_MAX) return out_of_memory(L);
        break;
    }
    case '{':
    case '[': {
        bool object = L->token == '{';
        if ((at = add_value(L, object ? JSON_READ_OBJECT : JSON_READ_ARRAY, key)) == SIZE_MAX)
            return out_of_memory(L);
        if (!(object ? parse_object(L, at) : parse_array(L, at))) return false;
        L->doc->values[at].skip = L->doc->n - at;
        break;
    }
    case TOK_INVALID: set_error(L, "invalid token"); return false;
    default: set_error(L, "unexpected token"); return false;
    }
    L->depth--;
    return true;
}

/* ------------------------------------------------------------------ entry points */

json_read_doc *json_read_parse(const char *text, size_t len, bool reject_duplicates, json_read_error *err)
{
    json_read_error local;
    if (!err) err = &local;
    memset(err, 0, sizeof *err);
    err->line = err->column = -1;
    json_read_doc *doc = calloc(1, sizeof *doc);
    if (doc) doc->arena = malloc(len + 1);
    if (!doc || !doc->arena) {
        free(doc);
        snprintf(err->text, sizeof err->text, "out of memory");
        return NULL;
    }
    lexer L = { .data = (const unsigned char *)text,
                .len = len,
                .line = 1,
                .err = err,
                .doc = doc,
                .reject_duplicates = reject_duplicates };
    bool ok = false;
    scan(&L);
    if (L.token != '[' && L.token != '{') {
        set_error(&L, "'[' or '{' expected");
    } else if (parse_value(&L, NULL)) {
        scan(&L);
        if (L.token != TOK_EOF)
            set_error(&L, "end of file expected");
        else
            ok = true;
    }
    free(L.keys);
    if (!ok) {
        json_read_free(doc);
        return NULL;
    }
    return doc;
}

void json_read_free(json_read_doc *doc)
{
    if (!doc) return;
    free(doc->values);
    free(doc->arena);
    free(doc);
}

const json_read_value *json_read_root(const json_read_doc *doc)
{
    return doc && doc->n ? &doc->values[0] : NULL;
}

const json_read_value *json_read_get(const json_read_value *v, const char *key)
{
    if (!v || v->type != JSON_READ_OBJECT) return NULL;
    const json_read_value *found = NULL, *m = v + 1;
    for (size_t i = 0; i < v->size; i++, m = json_read_next(m))
        if (m->key[0] == key[0] && strcmp(m->key, key) == 0) found = m;
    return found;
}
