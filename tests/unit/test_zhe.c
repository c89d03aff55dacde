/* test_zhe.c - 折 from the rule file to the explanation: the program keeps how a discount was
 * written ("95折 (5% off)") for the promotions that wrote it as a 折, through the bytes, and the
 * explanation shows it before the amount; a percentage written as such has no note. The figures
 * are checked by hand in each comment (the same carts as tests/semantics/zhe.test). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "compiler/compiler.h"
#include "json/explain.h"
#include "json/result_json.h"
#include "perk.h"

static const char RULES[] =
    "ruleset \"t\" { currency CNY }\n"
    "let tea = items where category in \"tea\"\n"
    "promotion tea95 \"茶叶95折\" { then 95折 off tea }\n"
    "promotion ship \"运费9折\" { then 9折 off shipping }\n"
    "promotion plain \"杯子九折\" { then 10% off items where sku = \"CUP\" }\n"
    "promotion half \"第二件5折\" { then buy 1 of items where sku = \"CUP\" get 1 at 5折 off }\n"
    "promotion all88 \"全场8.8折\" { when order.subtotal >= ¥10000 then 8.8折 off order }\n";

static perk_program *compile_rules(void)
{
    compiler c;
    compiler_init(&c);
    uint8_t *bytes = NULL;
    size_t len = 0;
    bool ok = compiler_compile_text(&c, "zhe.perk", RULES, strlen(RULES), &bytes, &len);
    if (!ok) diag_print_text(&c.diags, stderr, false);
    compiler_free(&c);
    assert_true(ok);
    perk_error err = { PERK_OK, "" };
    perk_program *p = perk_program_load(bytes, len, &err);
    free(bytes);
    assert_non_null(p);
    return p;
}

static void test_notes(void **state)
{
    (void)state;
    perk_program *p = compile_rules();
    assert_string_equal(perk_program_promotion_note(p, (size_t)perk_program_find_promotion(p, "tea95")),
                        "95折 (5% off)");
    assert_string_equal(perk_program_promotion_note(p, (size_t)perk_program_find_promotion(p, "ship")),
                        "9折 (10% off)");
    assert_string_equal(perk_program_promotion_note(p, (size_t)perk_program_find_promotion(p, "half")),
                        "5折 (50% off)");
    assert_string_equal(perk_program_promotion_note(p, (size_t)perk_program_find_promotion(p, "all88")),
                        "8.8折 (12% off)");
    assert_null(perk_program_promotion_note(p, (size_t)perk_program_find_promotion(p, "plain")));
    assert_null(perk_program_promotion_note(p, 1000));
    assert_null(perk_program_promotion_note(NULL, 0));
    perk_program_free(p);
}

static void test_explanation(void **state)
{
    (void)state;
    perk_program *p = compile_rules();
    perk_context *ctx = perk_context_new(p, NULL, NULL);
    assert_non_null(ctx);
    perk_order o = { .time = 1772625600LL, .shipping = 1200 }; /* 2026-03-04 12:00 UTC */
    perk_line tea = { .sku = "LJ", .category = "tea", .unit_price = 12800, .quantity = 2, .margin_ppm = -1 };
    perk_line cup = { .sku = "CUP", .unit_price = 3000, .quantity = 1, .margin_ppm = -1 };
    assert_int_equal(perk_cart_set_order(ctx, &o), PERK_OK);
    assert_int_equal(perk_cart_add_line(ctx, &tea), PERK_OK);
    assert_int_equal(perk_cart_add_line(ctx, &cup), PERK_OK);
    const perk_result *r = perk_evaluate(ctx);
    assert_int_equal(r->status, PERK_OK);
    /* tea: 5% of 256.00 = 12.80; cup: 10% of 30.00 = 3.00 (one cup: no second unit for half);
     * shipping: 10% of 12.00 = 1.20; 8.8折 needs ¥10000 */
    assert_int_equal(r->discount, 1280 + 300);
    result_names *names = result_names_from_program(p);
    assert_non_null(names);
    FILE *f = tmpfile();
    assert_non_null(f);
    explain_print(f, names, r, NULL, 0);
    long len = ftell(f);
    rewind(f);
    char *text = calloc(1, (size_t)len + 1);
    assert_non_null(text);
    assert_int_equal(fread(text, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    assert_non_null(strstr(text, "95折 (5% off): -¥12.80"));
    assert_non_null(strstr(text, "9折 (10% off): -¥1.20 shipping"));
    assert_null(strstr(text, "(10% off): -¥3.00")); /* written 10%: shown as the amount only */
    free(text);
    result_names_free(names);
    perk_context_free(ctx);
    perk_program_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_notes),
        cmocka_unit_test(test_explanation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
