/* perk_json.c - the public calls of perk_json.h (perk_cart_json_*): thin wrappers over the cart
 * reader (cart_json.c) and feeder (cart_json_feed.c). Kept apart from both so that a test linking
 * cart_json_feed.c against a stand-in of the cart API does not pull in the program loader.
 */
#include "cart_json.h"

perk_cart_json *perk_cart_json_parse(const char *json, size_t len, const perk_program *program,
                                     const perk_limits *limits, char *err, size_t errlen)
{
    if (program) {
        int exponent = perk_program_exponent(program);
        return cart_json_parse(json, len, exponent, perk_program_currency(program), limits, err, errlen);
    }
    return cart_json_parse(json, len, -1, NULL, limits, err, errlen);
}

perk_status perk_cart_json_feed(const perk_cart_json *cart, perk_context *ctx, const perk_program *program,
                                char *err, size_t errlen)
{
    return cart_json_feed(cart, ctx, program, err, errlen);
}

void perk_cart_json_free(perk_cart_json *cart)
{
    cart_json_free(cart);
}
