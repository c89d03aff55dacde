/* test_cart_feed.c - cart_json_feed() against a recording stand-in of libperk's cart API.
 *
 * The perk_cart_* and perk_program_* functions it calls are defined below, so this test needs no
 * VM or program loader. (Once libperk.a has the real ones, the definitions here still win at link
 * time: an archive member is only pulled in for a symbol that is still undefined, and nothing this
 * test links needs the runtime's cart or program objects.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json/cart_json.h"

/* ------------------------------------------------------------------ the stand-in */

static char call_log[4096];
static const char *fail_sku;     /* perk_cart_add_line refuses a line with this sku */
static perk_status fail_exclude; /* status perk_cart_exclude returns */
static const char *const promotions[] = { "member_day", "tea_gift", "clearance" };
static int fake_context;
static int fake_program;

static void log_call(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void log_call(const char *fmt, ...)
{
    size_t n = strlen(call_log);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(call_log + n, sizeof call_log - n, fmt, ap);
    va_end(ap);
}

void perk_cart_reset(perk_context *ctx)
{
    assert_ptr_equal(ctx, &fake_context);
    log_call("reset;");
}

perk_status perk_cart_set_customer(perk_context *ctx, const perk_customer *c)
{
    (void)ctx;
    log_call("customer %s tier=%s tags=%zu since=%lld;", c->id ? c->id : "-", c->tier ? c->tier : "-",
             c->n_tags, c->has_member_since ? (long long)c->member_since_days : -1LL); /* -1: unknown */
    return PERK_OK;
}

perk_status perk_cart_set_order(perk_context *ctx, const perk_order *o)
{
    (void)ctx;
    log_call("order %s cur=%s time=%s ship=%lld redeem=%lld;", o->id ? o->id : "-",
             o->currency ? o->currency : "-",
             o->time == 1772589600  ? "given"
             : o->time > 1700000000 ? "now"
                                    : "?",
             (long long)o->shipping, (long long)o->points_to_redeem);
    return PERK_OK;
}

perk_status perk_cart_add_line(perk_context *ctx, const perk_line *l)
{
    (void)ctx;
    if (fail_sku && strcmp(l->sku, fail_sku) == 0) return PERK_LIMIT;
    log_call("line %s %lldx%lld;", l->sku, (long long)l->unit_price, (long long)l->quantity);
    return PERK_OK;
}

perk_status perk_cart_add_coupon(perk_context *ctx, const char *code, const char *campaign,
                                 perk_coupon_status status)
{
    (void)ctx;
    log_call("coupon %s %s %d;", code, campaign ? campaign : "-", (int)status);
    return PERK_OK;
}

perk_status perk_cart_set_usage(perk_context *ctx, size_t index, const perk_usage *u)
{
    (void)ctx;
    log_call("usage %zu %lld/%lld/%lld;", index, (long long)u->uses, (long long)u->money,
             (long long)u->customer_uses);
    return PERK_OK;
}

perk_status perk_cart_set_customer_units(perk_context *ctx, size_t index, int64_t units)
{
    (void)ctx;
    log_call("units %zu %lld;", index, (long long)units);
    return PERK_OK;
}

perk_status perk_cart_exclude(perk_context *ctx, size_t index)
{
    (void)ctx;
    if (fail_exclude != PERK_OK) return fail_exclude;
    log_call("exclude %zu;", index);
    return PERK_OK;
}

const char *perk_context_error(const perk_context *ctx)
{
    (void)ctx;
    return fail_sku ? "line 2: quantity above the limit" : "";
}

long perk_program_find_promotion(const perk_program *program, const char *id)
{
    assert_ptr_equal(program, &fake_program);
    for (size_t i = 0; i < sizeof promotions / sizeof promotions[0]; i++)
        if (strcmp(promotions[i], id) == 0) return (long)i;
    return -1;
}

size_t perk_program_promotion_count(const perk_program *program)
{
    (void)program;
    return sizeof promotions / sizeof promotions[0];
}

const char *perk_program_promotion_id(const perk_program *program, size_t index)
{
    (void)program;
    return index < sizeof promotions / sizeof promotions[0] ? promotions[index] : NULL;
}

static const char *const tiers[] = { "silver", "gold" };

size_t perk_program_tier_count(const perk_program *program)
{
    (void)program;
    return sizeof tiers / sizeof tiers[0];
}

const char *perk_program_tier_id(const perk_program *program, size_t index)
{
    (void)program;
    return index < sizeof tiers / sizeof tiers[0] ? tiers[index] : NULL;
}

/* ------------------------------------------------------------------ tests */

static perk_context *ctx(void) { return (perk_context *)(void *)&fake_context; }

static const perk_program *prog(void) { return (const perk_program *)(const void *)&fake_program; }

static cart_doc *parse(const char *text)
{
    char err[512];
    cart_doc *doc = cart_json_parse(text, strlen(text), 2, "CNY", NULL, err, sizeof err);
    if (!doc) fail_msg("%s", err);
    return doc;
}

static int reset_state(void **state)
{
    (void)state;
    call_log[0] = '\0';
    fail_sku = NULL;
    fail_exclude = PERK_OK;
    return 0;
}

static void test_feed_order_of_calls(void **state)
{
    (void)state;
    cart_doc *doc = parse(
        "{\"order\": {\"id\": \"A1\", \"currency\": \"CNY\", \"time\": \"2026-03-04T10:00:00+08:00\","
        "  \"shipping\": \"12.00\", \"points_to_redeem\": \"max\"},"
        " \"customer\": {\"id\": \"c42\", \"tier\": \"gold\", \"tags\": [\"vip\"], \"member_since\": "
        "\"2020-01-01\"},"
        " \"lines\": [{\"sku\": \"TEA\", \"price\": \"128.00\", \"quantity\": 2},"
        "           {\"sku\": \"CUP\", \"price\": \"0.5\", \"quantity\": 1}],"
        " \"coupons\": [\"SPRING10\", {\"code\": \"X7\", \"campaign\": \"SPRING\", \"status\": \"expired\"}],"
        " \"usage\": {\"tea_gift\": {\"uses\": 3, \"money\": \"1.50\"}},"
        " \"exclude\": [\"clearance\"]}");
    char err[256];
    assert_int_equal(cart_json_feed(doc, ctx(), prog(), err, sizeof err), PERK_OK);
    assert_string_equal(err, "");
    /* 128.00 = 12800 fen, 0.5 = 50 fen, shipping 1200, usage money 1.50 = 150; "max" = -1;
     * coupon status expired = PERK_COUPON_EXPIRED (3); tea_gift is promotion 1, clearance 2 */
    assert_string_equal(call_log, "reset;"
                                  "customer c42 tier=gold tags=1 since=18262;"
                                  "order A1 cur=CNY time=given ship=1200 redeem=-1;"
                                  "line TEA 12800x2;line CUP 50x1;"
                                  "coupon SPRING10 - 0;coupon X7 SPRING 3;"
                                  "usage 1 3/150/0;"
                                  "exclude 2;");
    cart_json_free(doc);
}

/* Item 14 of "the store trusts nothing a caller claims": a tier the rules do not define is an
 * error like any other unknown value, not silently "no tier". */
static void test_feed_unknown_tier_is_an_error(void **state)
{
    (void)state;
    char err[256];
    cart_doc *doc = parse("{\"customer\": {\"id\": \"c1\", \"tier\": \"Gold\"}, \"lines\": []}");
    assert_int_equal(cart_json_feed(doc, ctx(), prog(), err, sizeof err), PERK_INVALID);
    assert_string_equal(err, "$.customer.tier: no tier \"Gold\" in the program (did you mean gold?)");
    assert_string_equal(call_log, "reset;"); /* refused before the customer was fed */
    cart_json_free(doc);
    doc = parse("{\"customer\": {\"id\": \"c1\", \"tier\": \"platinum\"}, \"lines\": []}");
    assert_int_equal(cart_json_feed(doc, ctx(), prog(), err, sizeof err), PERK_INVALID);
    assert_string_equal(err,
                        "$.customer.tier: no tier \"platinum\" in the program (its tiers: silver, gold)");
    cart_json_free(doc);
    doc = parse("{\"customer\": {\"id\": \"c1\", \"tier\": \"silver\"}, \"lines\": []}");
    assert_int_equal(cart_json_feed(doc, ctx(), prog(), err, sizeof err), PERK_OK);
    cart_json_free(doc);
}

static void test_feed_defaults(void **state)
{
    (void)state;
    cart_doc *doc = parse("{\"lines\": []}");
    assert_int_equal(cart_json_feed(doc, ctx(), prog(), NULL, 0), PERK_OK);
    /* no customer: defaults (not a member); no time: the clock; no currency: NULL (assumed) */
    assert_string_equal(call_log,
                        "reset;customer - tier=- tags=0 since=-1;order - cur=- time=now ship=0 redeem=0;");
    cart_json_free(doc);
}

static void test_feed_unknown_promotion(void **state)
{
    (void)state;
    char err[256];
    cart_doc *doc = parse("{\"lines\": [], \"usage\": {\"member_dya\": {\"uses\": 1}}}");
    assert_int_equal(cart_json_feed(doc, ctx(), prog(), err, sizeof err), PERK_INVALID);
    assert_string_equal(
        err, "$.usage.member_dya: no promotion \"member_dya\" in the program (did you mean member_day?)");
    cart_json_free(doc);

    doc = parse("{\"lines\": [], \"exclude\": [\"tea_gift\", \"spring_sale\"]}");
    assert_int_equal(cart_json_feed(doc, ctx(), prog(), err, sizeof err), PERK_INVALID);
    assert_string_equal(err, "$.exclude[1]: no promotion \"spring_sale\" in the program");
    cart_json_free(doc);

    doc = parse("{\"lines\": [], \"usage\": {\"tea gift\\\"\": {}}}");
    assert_int_equal(cart_json_feed(doc, ctx(), prog(), err, sizeof err), PERK_INVALID);
    assert_string_equal(
        err,
        "$.usage[\"tea gift\\\"\"]: no promotion \"tea gift\"\" in the program (did you mean tea_gift?)");
    cart_json_free(doc);
}

static void test_feed_refused_by_libperk(void **state)
{
    (void)state;
    char err[256];
    cart_doc *doc = parse("{\"lines\": [{\"sku\": \"A\", \"price\": \"1\", \"quantity\": 1},"
                          "           {\"sku\": \"BAD\", \"price\": \"1\", \"quantity\": 1}]}");
    fail_sku = "BAD";
    assert_int_equal(cart_json_feed(doc, ctx(), prog(), err, sizeof err), PERK_LIMIT);
    assert_string_equal(err, "$.lines[1]: line 2: quantity above the limit");
    fail_sku = NULL;
    cart_json_free(doc);

    doc = parse("{\"lines\": [], \"exclude\": [\"tea_gift\"]}");
    fail_exclude = PERK_STATE;
    assert_int_equal(cart_json_feed(doc, ctx(), prog(), err, sizeof err), PERK_STATE);
    assert_string_equal(err, "$.exclude[0]: refused"); /* no detail from the context */
    cart_json_free(doc);

    assert_int_equal(cart_json_feed(NULL, ctx(), prog(), err, sizeof err), PERK_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_feed_order_of_calls, reset_state),
        cmocka_unit_test_setup(test_feed_defaults, reset_state),
        cmocka_unit_test_setup(test_feed_unknown_tier_is_an_error, reset_state),
        cmocka_unit_test_setup(test_feed_unknown_promotion, reset_state),
        cmocka_unit_test_setup(test_feed_refused_by_libperk, reset_state),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
