/* json_checkout.c - a checkout embedding libperk that takes its carts as JSON (perk_json.h), with
 * no JSON library and no compiler: the cart of examples/carts/sample.json is parsed and fed to a
 * context by libperk itself, evaluated, and the totals checked to the cent (subtotal ¥389.00,
 * payable ¥326.34, as `perk eval` prints them); then a cart with a mistake is refused with the
 * message and path the perk command gives.
 *   make && build/perk compile rules/tea_shop.perk -o tea_shop.pbc && build/examples/json_checkout tea_shop.pbc
 */
#include <stdio.h>
#include <string.h>

#include "perk.h"
#include "perk_json.h"

static const char cart[] =
    "{\"order\": {\"id\": \"A1001\", \"currency\": \"CNY\", \"time\": \"2026-03-04T10:00:00+08:00\",\n"
    "           \"channel\": \"miniprogram\", \"shipping\": \"12.00\", \"points_to_redeem\": \"max\"},\n"
    " \"customer\": {\"id\": \"c42\", \"tier\": \"gold\", \"tags\": [\"vip\"], \"birthday\": \"1990-03-04\",\n"
    "              \"member_since\": \"2020-01-01\", \"first_order\": false, \"orders\": 12, \"points\": 2300},\n"
    " \"lines\": [\n"
    "   {\"id\": \"1\", \"sku\": \"TEA-LJ\", \"name\": \"\\u897f\\u6e56\\u9f99\\u4e95\", \"category\": \"tea/green\",\n"
    "    \"brand\": \"West Lake\", \"price\": \"128.00\", \"quantity\": 2, \"margin\": \"45%\"},\n"
    "   {\"id\": \"2\", \"sku\": \"TEA-PUER\", \"category\": \"tea/dark\", \"tags\": [\"clearance\"],\n"
    "    \"price\": \"88.00\", \"quantity\": 1, \"margin\": \"30%\"},\n"
    "   {\"id\": \"3\", \"sku\": \"CUP-01\", \"category\": \"teaware\", \"price\": \"45.00\", \"quantity\": 1,\n"
    "    \"margin\": \"50%\"}]}\n";

static const char bad_cart[] = "{\"lines\": [{\"sku\": \"TEA-LJ\", \"price\": \"12.345\", \"quantity\": 1}]}";

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: json_checkout PROGRAM.pbc\n");
        return 2;
    }
    perk_error err;
    perk_program *prog = perk_program_load_file(argv[1], &err);
    if (!prog) {
        fprintf(stderr, "json_checkout: %s\n", err.message);
        return 1;
    }
    perk_context *ctx = perk_context_new(prog, NULL, &err);
    if (!ctx) {
        fprintf(stderr, "json_checkout: %s\n", err.message);
        perk_program_free(prog);
        return 1;
    }
    int rc = 1;
    char msg[512];
    perk_cart_json *doc = perk_cart_json_parse(cart, sizeof cart - 1, prog, NULL, msg, sizeof msg);
    if (!doc) {
        fprintf(stderr, "json_checkout: the sample cart: %s\n", msg);
        goto out;
    }
    if (perk_cart_json_feed(doc, ctx, prog, msg, sizeof msg) != PERK_OK) {
        fprintf(stderr, "json_checkout: feeding the sample cart: %s\n", msg);
        goto out;
    }
    const perk_result *r = perk_evaluate(ctx);
    if (!r || r->status != PERK_OK) {
        fprintf(stderr, "json_checkout: evaluation failed: %s\n", perk_context_error(ctx));
        goto out;
    }
    printf("subtotal %lld, discount %lld, payable %lld (minor units)\n", (long long)r->subtotal,
           (long long)r->discount, (long long)r->payable);
    if (r->subtotal != 38900 || r->payable != 32634) {
        fprintf(stderr, "json_checkout: expected subtotal 38900 and payable 32634\n");
        goto out;
    }

    /* a cart with a mistake: refused with its path, nothing fed */
    perk_cart_json *bad = perk_cart_json_parse(bad_cart, sizeof bad_cart - 1, prog, NULL, msg, sizeof msg);
    static const char expected[] = "$.lines[0].price: \"12.345\" has more decimals than CNY allows (2)";
    if (bad || strcmp(msg, expected) != 0) {
        fprintf(stderr, "json_checkout: expected the message '%s', got '%s'\n", expected, bad ? "(a cart)" : msg);
        perk_cart_json_free(bad);
        goto out;
    }
    printf("refused: %s\n", msg);
    rc = 0;
out:
    perk_cart_json_free(doc); /* after the result is read: the context borrowed its strings */
    perk_context_free(ctx);
    perk_program_free(prog);
    return rc;
}
