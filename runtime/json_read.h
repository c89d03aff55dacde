/* json_read.h - libperk's own JSON reader: one pass over the bytes into a flat array of values.
 *
 * No tree of allocations: a document is one array of json_read_value (a container is followed by
 * its members, `skip` says how many slots its whole subtree takes) and one arena holding every
 * decoded string, NUL-terminated; the two grow by doubling, never per value. The grammar, the
 * limits and every error message (text, line and column) are those of jansson 2.14's json_loadb,
 * which Perk used before (a cart's syntax errors must read the same): an object or an array at
 * the top, UTF-8 only, \u0000 refused, integers in int64 ("too big integer"), reals as double,
 * depth at most 2048, duplicate keys refused when asked. Used by the cart reader (cart_json.c).
 */
#ifndef PERK_JSON_READ_H
#define PERK_JSON_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum json_read_type {
    JSON_READ_OBJECT,
    JSON_READ_ARRAY,
    JSON_READ_STRING,
    JSON_READ_INTEGER,
    JSON_READ_REAL,
    JSON_READ_TRUE,
    JSON_READ_FALSE,
    JSON_READ_NULL,
} json_read_type;

typedef struct json_read_value {
    const char *key; /* the member's key when its container is an object, else NULL */
    union {
        const char *string; /* NUL-terminated, never holds a NUL */
        int64_t integer;
        double real;
    } u;
    size_t size; /* string: bytes; array: elements; object: members */
    size_t skip; /* slots taken by this value and its subtree: the next sibling is this + skip */
    json_read_type type;
} json_read_value;

typedef struct json_read_doc json_read_doc;

/* jansson's json_error_t, as far as Perk reads it. */
typedef struct json_read_error {
    int line;
    int column;
    char text[160];
} json_read_error;

/* Parses `len` bytes. NULL on failure (err filled) or when out of memory (err->text says so). */
json_read_doc *json_read_parse(const char *text, size_t len, bool reject_duplicates, json_read_error *err);
void json_read_free(json_read_doc *doc);
const json_read_value *json_read_root(const json_read_doc *doc);

/* The member `key` of an object (the last one, when duplicates were allowed); NULL when v is not
 * an object or has no such member. */
const json_read_value *json_read_get(const json_read_value *v, const char *key);

/* The first member/element of a container (NULL when empty), and the sibling after a member. */
static inline const json_read_value *json_read_first(const json_read_value *v)
{
    return v->size ? v + 1 : NULL;
}
static inline const json_read_value *json_read_next(const json_read_value *v)
{
    return v + v->skip;
}

#endif
