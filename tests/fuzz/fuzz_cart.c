/* fuzz_cart.c - fuzz target: any bytes as a cart JSON document (docs/cart.md).
 *
 * The document is parsed twice: against a fixed CNY program compiled once from the ruleset below
 * (which reads every kind of cart field: categories, tags, brands, attributes, margins, tiers,
 * birthdays, coupon codes and campaigns, budgets, subscriptions, points), and without a program
 * (exponent from the cart's own currency), as tools that only check carts do. Parsing must end in
 * a document or a message; a document is fed to a context, which may refuse it only for what
 * parsing cannot know (a promotion id the program lacks, amounts that overflow together), then
 * evaluated, and the result must satisfy every invariant of harness.c and render as JSON and as an
 * explanation. A cart without an order time gets a fixed one, so that no run depends on the clock.
 *
 * Differential: the reader under test is libperk's own (runtime/cart_json.c over json_read.c);
 * every input also goes through the jansson reader it replaced (tests/unit/ref/cart_json_ref.h),
 * and the two must give the same message or the same document, field for field.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler/compiler.h"
#include "harness.h"
#include "../unit/ref/cart_json_ref.h"

static const char ruleset[] =
    "ruleset \"fuzz carts\" {\n"
    "  currency CNY\n"
    "  timezone \"Asia/Shanghai\"\n"
    "  rounding half_even\n"
    "}\n"
    "let tea = items where category in \"tea\"\n"
    "let snacks = items where category in \"snacks\"\n"
    "let socks = items where sku = \"SOCKS-01\"\n"
    "let water = items where sku = \"WATER-500\"\n"
    "let high_margin = items where margin >= 40%\n"
    "let clearance_goods = items where \"clearance\" in tags\n"
    "tier silver \"银卡\" { spend ¥1000 within 365 days }\n"
    "tier gold \"金卡\" { spend ¥5000 within 365 days }\n"
    "promotion clearance \"清仓\" { priority 1 then 30% off clearance_goods }\n"
    "promotion water_steps \"阶梯价\" { priority 2 then price water by quantity { 6: ¥1.80, 24: ¥1.50 } }\n"
    "promotion socks_half \"第二件半价\" { priority 3 then buy 1 of socks get 1 at 50% off }\n"
    "promotion snack_pick \"任选\" { priority 4 then any 3 of snacks for ¥30 }\n"
    "promotion member_day \"会员日\" {\n"
    "  priority 5 every wednesday hours 09:00 to 22:00\n"
    "  when customer.tier >= gold or \"vip\" in customer.tags\n"
    "  exclusive \"member\" cap ¥100 limit 10000 uses limit ¥2000 total limit 2 per customer\n"
    "  then 10% off order\n"
    "}\n"
    "promotion origin \"产地\" { priority 6 then ¥2 off each items where attr(\"origin\") = \"Hangzhou\" }\n"
    "promotion acme \"Acme\" { priority 7 then price items where brand = \"Acme\" at ¥5 }\n"
    "promotion big_spender \"满200减20\" {\n"
    "  priority 8 measure original prices\n"
    "  when sum(items) >= ¥200 and customer.orders >= 1\n"
    "  limit 1000 uses limit ¥5000 total limit 1 per customer\n"
    "  then ¥20 off order\n"
    "}\n"
    "promotion tiers_off \"满额\" { priority 9 then tiers on tea { ¥100: ¥10 off, ¥300: 5% off } }\n"
    "promotion every_100 \"每满减\" { priority 10 then every ¥100 on order: ¥10 off up to ¥50 }\n"
    "promotion spring \"券\" { priority 11 requires coupon \"SPRING10\" when order.subtotal >= ¥50 then 10% "
    "off order }\n"
    "promotion news \"活动券\" { priority 12 requires coupon from \"NEWS\" then ¥3 off order }\n"
    "promotion box \"订阅\" {\n"
    "  priority 13\n"
    "  when order.subscription = \"weekly_box\" and order.delivery >= 4 and order.channel in [\"app\", "
    "\"miniprogram\"]\n"
    "  then 5% off order\n"
    "}\n"
    "promotion newbie \"新客\" {\n"
    "  priority 14\n"
    "  when customer.first_order or today - customer.member_since < 30 days or customer.birthday_month\n"
    "  stop\n"
    "  then ¥1 off each items where quantity >= 2 and price <= ¥50\n"
    "}\n"
    "promotion tea_gift \"满300赠\" { priority 15 when sum(tea) >= ¥300 then gift \"TEA-SAMPLE\" \"茶样\" }\n"
    "promotion free_ship \"包邮\" { priority 16 when order.subtotal >= ¥99 and weekday is not sunday then "
    "free shipping }\n"
    "promotion half_ship \"运费半价\" { priority 17 when order.items >= 2 then 50% off shipping }\n"
    "promotion card \"顾问\" { priority 18 when order.original_subtotal >= ¥1000 then effect \"vip_card\" "
    "\"x\" }\n"
    "earn base \"积分\" { then 1 point per ¥1 on items }\n"
    "earn bonus \"加赠\" { when customer.points >= 100 then 2 points per ¥1 on high_margin cap 500 }\n"
    "multiplier birthday \"生日\" { when customer.is_birthday then x2 on base, bonus }\n"
    "multiplier vip \"vip\" { when \"vip\" in customer.tags then x1.5 on all }\n"
    "redeem {\n"
    "  rate 100 points = ¥1\n"
    "  pays for shipping, goods\n"
    "  max 50%\n"
    "  min balance 100\n"
    "}\n";

static perk_program *program(void)
{
    static perk_program *prog;
    if (prog != NULL) return prog;
    compiler c;
    compiler_init(&c);
    uint8_t *bytes = NULL;
    size_t len = 0;
    bool ok = compiler_compile_text(&c, "fuzz_cart.perk", ruleset, sizeof ruleset - 1, &bytes, &len);
    if (!ok) {
        diag_sort(&c.diags);
        diag_print_text(&c.diags, stderr, false);
        fuzz_fail("the fixed ruleset of fuzz_cart does not compile");
    }
    compiler_free(&c);
    perk_error err;
    prog = perk_program_load(bytes, len, &err);
    free(bytes);
    if (prog == NULL) fuzz_fail("the fixed ruleset does not load: %s", err.message);
    return prog;
}

/* cart_json_parse, checked against the jansson reader: same message, or the same document. */
static cart_doc *parse_both(const char *text, size_t len, int exponent, const char *currency,
                            const perk_limits *lim, char *msg, size_t msglen)
{
    static dump mine, theirs;
    char ref_msg[512];
    cart_doc *doc = cart_json_parse(text, len, exponent, currency, lim, msg, msglen);
    cart_doc *ref = ref_cart_json_parse(text, len, exponent, currency, lim, ref_msg, sizeof ref_msg);
    dump_doc(&mine, doc);
    dump_doc(&theirs, ref);
    bool ref_parsed = ref != NULL;
    ref_cart_json_free(ref);
    if ((doc == NULL) == ref_parsed || (doc == NULL && strcmp(msg, ref_msg) != 0) ||
        strcmp(mine.buf, theirs.buf) != 0)
        fuzz_fail("the cart readers differ:\n  libperk: %s\n%s\n  jansson: %s\n%s", doc ? "(document)" : msg,
                  mine.buf, ref_parsed ? "(document)" : ref_msg, theirs.buf);
    return doc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static perk_context *ctx;
    perk_program *prog = program();
    perk_limits lim = fuzz_limits();
    if (ctx == NULL) {
        perk_error err;
        ctx = perk_context_new(prog, &lim, &err);
        if (ctx == NULL) fuzz_fail("perk_context_new: %s", err.message);
    }
    char msg[512];

    /* without a program: the cart's own currency decides */
    cart_doc *doc = parse_both((const char *)data, size, -1, NULL, &lim, msg, sizeof msg);
    if (doc == NULL && msg[0] == '\0') fuzz_fail("a cart refused without a message");
    cart_json_free(doc);

    doc = parse_both((const char *)data, size, perk_program_exponent(prog), perk_program_currency(prog), &lim, msg,
                     sizeof msg);
    if (doc == NULL) {
        if (msg[0] == '\0') fuzz_fail("a cart refused without a message");
        return 0;
    }
    if (!doc->has_time) {
        doc->order.time = FUZZ_ORDER_TIME;
        doc->has_time = true;
    }
    perk_status st = cart_json_feed(doc, ctx, prog, msg, sizeof msg);
    if (st == PERK_OK) {
        const perk_result *r = perk_evaluate(ctx);
        fuzz_check_result(r, &lim);
        fuzz_render(prog, r, doc);
    } else if (msg[0] == '\0') {
        fuzz_fail("a cart refused by cart_json_feed without a message");
    } else if (st != PERK_OVERFLOW && strstr(msg, ": no promotion \"") == NULL &&
               strncmp(msg, "$.customer.tier: ", 17) != 0) {
        /* parsing validates against the schema and the limits: only what needs the program (its
         * promotion ids and tiers) or the sum of the lines may still be refused when the cart is
         * fed */
        fuzz_fail("a parsed cart is refused by libperk: %s", msg);
    }
    cart_json_free(doc);
    return 0;
}
