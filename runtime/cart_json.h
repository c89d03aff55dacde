/* cart_json.h - carts as JSON: parse and validate a cart document, then feed it to libperk.
 *
 * The schema is documented in docs/cart.md. Parsing needs no program and no VM: it checks the
 * document against the schema and the perk_limits, converts money to minor units, dates to day
 * numbers and timestamps to epoch seconds, and keeps everything in a cart_doc whose perk_* structs
 * can be handed straight to perk_cart_*(). Strings in those structs are borrowed from the parsed
 * document (json_read.h: one array of values and one arena of strings) the cart_doc keeps alive,
 * so they stay valid until cart_json_free(). Part of libperk: perk_json.h is its public face
 * (perk_cart_json_*), this header the whole of it for the CLI and the service.
 *
 * Every error message starts with the JSON path of the offending value and says what is wrong:
 *   $.lines[3].quantity: must be a positive integer, got -2
 *   $.lines[0].price: "12.345" has more decimals than CNY allows (2)
 * Syntax errors (including invalid UTF-8 and nesting that is too deep) give a line and a column.
 */
#ifndef PERK_CART_JSON_H
#define PERK_CART_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "perk.h"
#include "perk_json.h"

/* Documents nested deeper than this are refused before the document is parsed (the schema itself
 * needs 4 levels: $.lines[0].attrs). */
#define CART_JSON_MAX_DEPTH 32

/* One entered coupon: `"CODE"` or `{"code": ..., "campaign": ..., "status": ...}`. */
typedef struct cart_json_coupon {
    const char *code;
    const char *campaign;      /* NULL when not given */
    perk_coupon_status status; /* PERK_COUPON_UNCHECKED when not given */
} cart_json_coupon;

/* Budget consumption of one promotion, keyed by its id (resolved against a program in
 * cart_json_feed). */
typedef struct cart_json_usage {
    const char *promotion;
    perk_usage usage;
    int64_t customer_units; /* "customer_units": perk_cart_set_customer_units (0: not given) */
} cart_json_usage;

/* A parsed cart. Every pointer inside points into memory owned by the document. */
typedef struct perk_cart_json {
    struct json_read_doc *root; /* the parsed document, kept alive for borrowed strings */
    int exponent;         /* minor-unit exponent the money below is expressed in */
    const char *currency; /* the cart's currency code (order.currency or the program's), or NULL */

    perk_customer customer; /* zeroed when "customer" is absent: a guest, nothing known */
    perk_order order;       /* currency is NULL when the cart does not name one */
    bool has_time;          /* order.time was given; otherwise cart_json_feed uses the clock */

    perk_line *lines;
    size_t n_lines;

    cart_json_coupon *coupons;
    size_t n_coupons;

    cart_json_usage *usage;
    size_t n_usage;

    const char **exclude; /* promotion ids */
    size_t n_exclude;

    /* storage behind lines[].tags, lines[].attrs and customer.tags */
    const char **tag_pool;
    perk_attr *attr_pool;
} cart_doc;

/* Parses and validates `len` bytes of JSON (no NUL terminator needed).
 *   exponent: minor-unit digits of money ("128.00" is 12800 with exponent 2). With exponent < 0
 *             and currency NULL, the exponent is taken from the cart's own order.currency (which
 *             must then be present and known): for tools that check carts without a program.
 *   currency: the program's currency, or NULL; when given, order.currency must equal it.
 *   limits:   the limits of the context the cart is meant for; NULL = perk_limits_default() values.
 * Returns NULL on failure with a one-line message in err (err may be NULL, errlen 0). */
cart_doc *cart_json_parse(const char *text, size_t len, int exponent, const char *currency,
                          const perk_limits *limits, char *err, size_t errlen);

/* Reads the file at `path` (or standard input when path is "-") and parses it as above. Files
 * larger than CART_JSON_MAX_FILE_BYTES are refused. Messages about the content are prefixed with
 * the path: "cart.json: $.lines[0].sku: required field is missing". */
#define CART_JSON_MAX_FILE_BYTES (256u * 1024u * 1024u)
cart_doc *cart_json_parse_file(const char *path, int exponent, const char *currency,
                               const perk_limits *limits, char *err, size_t errlen);

/* Loads the document into a context: perk_cart_reset, set_customer, set_order, add_line (each),
 * add_coupon (each), set_usage (promotion ids resolved with perk_program_find_promotion) and
 * exclude. An unknown promotion id is an error naming its JSON path ("$.usage.member_dya: no
 * promotion with this id in the program (did you mean member_day?)"); a status from libperk is
 * reported with the path of the value it refused and perk_context_error(). On failure the context
 * holds a partial cart: reset it before evaluating. When the document has no order.time, the
 * current clock is used. Defined in src/json/cart_json_feed.c (the only part that needs libperk). */
perk_status cart_json_feed(const cart_doc *doc, perk_context *ctx, const perk_program *prog, char *err,
                           size_t errlen);

/* Frees the document and the parsed JSON behind it. NULL is fine. */
void cart_json_free(cart_doc *doc);

/* Helpers shared by the cart and result modules. */

/* Levenshtein distance between two byte strings, capped: returns at most `cap` + 1 (so comparing
 * long unrelated strings stays cheap). */
size_t cart_json_edit_distance(const char *a, const char *b, size_t cap);

/* True when `candidate` is close enough to `typo` to suggest it ("did you mean ...?"). */
bool cart_json_is_similar(const char *typo, const char *candidate);

/* $.order.id of an order document, malloc'ed, or NULL when there is none (the full parse then
 * says what is wrong). Lets a checkout find an earlier commit of the order before pricing it. */
char *cart_json_order_id(const char *text, size_t len);

#endif
