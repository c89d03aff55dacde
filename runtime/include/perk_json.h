/* perk_json.h - carts as JSON documents (docs/cart.md) for programs that embed libperk.
 *
 * libperk reads a cart document itself, with no JSON library: perk_cart_json_parse() checks it
 * against the schema and the limits (money to minor units, dates to day numbers, timestamps to
 * epoch seconds) and perk_cart_json_feed() loads it into a context, as `perk eval` and
 * `perk serve` do. Errors are one line naming the place: "invalid JSON at line 3, column 7: ..."
 * for syntax, "$.lines[0].price: ..." (the member's path) for the schema, and no input crashes:
 * nesting deeper than 32 levels, more lines than max_lines, duplicate keys, invalid UTF-8 and
 * integers beyond int64 are refused with a message. Include it after perk.h or alone.
 */
#ifndef PERK_JSON_H_PUBLIC
#define PERK_JSON_H_PUBLIC

#include <stddef.h>

#include "perk.h"

#ifdef __cplusplus
extern "C" {
#endif

PERK_API_BEGIN

/* A parsed cart document; the strings the fed context borrows live in it, so free it only after
 * the result has been read. */
typedef struct perk_cart_json perk_cart_json;

/* Parses `len` bytes of a cart document (no NUL terminator needed). `program` gives the currency
 * (order.currency must then match it) and its minor-unit digits; NULL takes both from the cart's
 * own order.currency. `limits`: those of the context the cart is meant for, NULL for
 * perk_limits_default(). Returns NULL with a message in err (err may be NULL, errlen 0). */
perk_cart_json *perk_cart_json_parse(const char *json, size_t len, const perk_program *program,
                                     const perk_limits *limits, char *err, size_t errlen);

/* Loads the cart into ctx: perk_cart_reset(), then customer, order, lines, coupons, usage and
 * exclusions. Promotion ids (usage, exclude) and the tier are resolved against `program`, the
 * context's. A cart without order.time is priced at the current clock. On failure err names the
 * path of the refused value and the context holds a partial cart: reset it before evaluating. */
perk_status perk_cart_json_feed(const perk_cart_json *cart, perk_context *ctx, const perk_program *program,
                                char *err, size_t errlen);

/* Frees a parsed cart; NULL is fine. */
void perk_cart_json_free(perk_cart_json *cart);

PERK_API_END

#ifdef __cplusplus
}
#endif

#endif
