/* test_checkout_units.c - `limit N units per customer` through the checkout
 * (src/checkout/checkout.c): the store's count of the customer's units priced in, the units of the
 * result recorded at commit, a later order getting what is left, a full refund giving them back. */
#include "store_fixture.h"

#include "checkout/checkout.h"
#include "compiler/compiler.h"
#include "json/cart_json.h"
#include "perk.h"

/* 秒杀: PHONE-X at ¥999 instead of ¥1299 (300.00 off a unit), 2 units per customer. */
static const char RULES[] = "ruleset \"shop\" { currency CNY timezone \"Asia/Shanghai\" }\n"
                            "let phones = items where sku = \"PHONE-X\"\n"
                            "promotion seckill \"秒杀\" {\n"
                            "  limit 2 units per customer\n"
                            "  then price phones at ¥999\n"
                            "}\n";

#define ORDER_TIME_TEXT "2026-03-04T10:00:00+08:00"

static char *order_json(const char *order_id, const char *customer, int quantity)
{
    char *text = malloc(512);
    assert_non_null(text);
    snprintf(text, 512,
             "{\"order\": {\"id\": \"%s\", \"time\": \"" ORDER_TIME_TEXT "\"},"
             " \"customer\": {\"id\": \"%s\"},"
             " \"lines\": [{\"sku\": \"PHONE-X\", \"price\": \"1299.00\", \"quantity\": %d}]}",
             order_id, customer, quantity);
    return text;
}

/* Places an order of `quantity` phones; returns its discount (fen) and the units at the price. */
static int64_t place(store_fixture *f, perk_program *prog, perk_context *ctx, const char *id, int quantity,
                     int64_t *units)
{
    char *text = order_json(id, "amy", quantity);
    char err[512];
    cart_doc *doc = cart_json_parse(text, strlen(text), perk_program_exponent(prog), perk_program_currency(prog),
                                    NULL, err, sizeof err);
    if (!doc) fail_msg("cart: %s", err);
    checkout_outcome out;
    bool ok = checkout_place_order(f->s, prog, 1, ctx, doc, text, &out);
    if (!ok) fail_msg("not committed: %s", out.message);
    int64_t discount = out.result->discount;
    *units = out.result->n_promotion_units ? out.result->promotion_units[0].units : 0;
    checkout_outcome_free(&out);
    cart_json_free(doc);
    free(text);
    return discount;
}

static void test_units_through_checkout(void **state)
{
    (void)state;
    store_fixture f;
    store_fixture_open(&f);
    size_t len = 0;
    uint8_t *bytes = store_fixture_compile(RULES, &len);
    perk_error e;
    perk_program *prog = perk_program_load(bytes, len, &e);
    assert_non_null(prog);
    perk_context *ctx = perk_context_new(prog, NULL, &e);
    assert_non_null(ctx);
    int64_t units = -1;
    /* 3 phones: 2 at the price, 2 x 300.00 = 600.00 off */
    assert_int_equal(place(&f, prog, ctx, "O1", 3, &units), 60000);
    assert_int_equal(units, 2);
    assert_int_equal(test_sql_int(f.s, "SELECT units FROM budget_uses WHERE order_id = 'O1'"), 2);
    /* the allowance is spent: 1 phone at full price, nothing recorded */
    assert_int_equal(place(&f, prog, ctx, "O2", 1, &units), 0);
    assert_int_equal(units, 0);
    assert_int_equal(test_sql_int(f.s, "SELECT COUNT(*) FROM budget_uses WHERE order_id = 'O2'"), 0);
    /* O1 cancelled in full: its 2 units come back, O3 gets 1 of its 1 phone at the price */
    perk_store_refund_result rr;
    assert_store(f.s, PERK_STORE_OK, perk_store_refund(f.s, "O1", "RF1", NULL, 0, 0, 1772589700, NULL, true, &rr));
    assert_int_equal(place(&f, prog, ctx, "O3", 1, &units), 30000);
    assert_int_equal(units, 1);
    perk_context_free(ctx);
    perk_program_free(prog);
    free(bytes);
    store_fixture_close(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_units_through_checkout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
