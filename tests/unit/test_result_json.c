/* test_result_json.c - the JSON rendering of a hand-built perk_result: exact text (every money
 * value hand-checked in result_fixture.h), determinism, failures, corrupt indices, invalid UTF-8,
 * and the name/format helpers shared with the explanation. No VM or program needed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "result_fixture.h"
#include "json/result_json.h"

/* Amounts below: subtotal 268.00 (25600 + 1200 fen), discount 26.80 (2560 + 120), lines
 * 256.00 -> 230.40 and 12.00 -> 10.80, shipping 12.00 -> 0.00, redeem 500 points = 5.00,
 * payable 268.00 - 26.80 + 0 - 5.00 = 236.20, points 241 + 500 = 741, hint 300 - 268 = 32.00. */
static const char expected_pretty[] =
    "{\n"
    "  \"status\": \"ok\",\n"
    "  \"currency\": \"CNY\",\n"
    "  \"subtotal\": \"268.00\",\n"
    "  \"discount\": \"26.80\",\n"
    "  \"shipping\": {\n"
    "    \"before\": \"12.00\",\n"
    "    \"after\": \"0.00\"\n"
    "  },\n"
    "  \"redeem\": {\n"
    "    \"redeemable\": 2300,\n"
    "    \"redeemed\": 500,\n"
    "    \"value\": \"5.00\",\n"
    "    \"goods\": \"5.00\",\n"
    "    \"shipping\": \"0.00\"\n"
    "  },\n"
    "  \"payable\": \"236.20\",\n"
    "  \"points_earned\": 741,\n"
    "  \"lines\": [\n"
    "    {\n"
    "      \"index\": 0,\n"
    "      \"id\": \"1\",\n"
    "      \"sku\": \"TEA-001\",\n"
    "      \"original\": \"256.00\",\n"
    "      \"final\": \"230.40\",\n"
    "      \"gift\": false,\n"
    "      \"gift_promotion\": null,\n"
    "      \"allocations\": [\n"
    "        {\n"
    "          \"promotion\": \"member_day\",\n"
    "          \"amount\": \"25.60\"\n"
    "        }\n"
    "      ]\n"
    "    },\n"
    "    {\n"
    "      \"index\": 1,\n"
    "      \"id\": \"2\",\n"
    "      \"sku\": \"CUP-9\",\n"
    "      \"original\": \"12.00\",\n"
    "      \"final\": \"10.80\",\n"
    "      \"gift\": false,\n"
    "      \"gift_promotion\": null,\n"
    "      \"allocations\": [\n"
    "        {\n"
    "          \"promotion\": \"member_day\",\n"
    "          \"amount\": \"1.20\"\n"
    "        }\n"
    "      ]\n"
    "    },\n"
    "    {\n"
    "      \"index\": 2,\n"
    "      \"id\": null,\n"
    "      \"sku\": null,\n"
    "      \"original\": \"0.00\",\n"
    "      \"final\": \"0.00\",\n"
    "      \"gift\": true,\n"
    "      \"gift_promotion\": \"cup_gift\",\n"
    "      \"allocations\": []\n"
    "    }\n"
    "  ],\n"
    "  \"promotions\": [\n"
    "    {\n"
    "      \"id\": \"member_day\",\n"
    "      \"label\": \"会员日\",\n"
    "      \"applied\": true,\n"
    "      \"reason\": \"applied\",\n"
    "      \"reason_text\": \"applied\",\n"
    "      \"discount\": \"26.80\",\n"
    "      \"shipping_discount\": \"0.00\",\n"
    "      \"condition\": null\n"
    "    },\n"
    "    {\n"
    "      \"id\": \"tea_gift\",\n"
    "      \"label\": \"满300赠茶样\",\n"
    "      \"applied\": false,\n"
    "      \"reason\": \"condition\",\n"
    "      \"reason_text\": \"a condition is not met\",\n"
    "      \"discount\": \"0.00\",\n"
    "      \"shipping_discount\": \"0.00\",\n"
    "      \"condition\": {\n"
    "        \"text\": \"sum(tea) >= ¥300\",\n"
    "        \"location\": \"rules/spring.perk:14:8\",\n"
    "        \"unknown\": null,\n"
    "        \"comparison\": \">=\",\n"
    "        \"kind\": \"money\",\n"
    "        \"observed\": 26800,\n"
    "        \"expected\": 30000,\n"
    "        \"explanation\": \"¥268.00 < ¥300.00\"\n"
    "      }\n"
    "    },\n"
    "    {\n"
    "      \"id\": \"cup_gift\",\n"
    "      \"label\": \"买杯送杯套\",\n"
    "      \"applied\": true,\n"
    "      \"reason\": \"applied\",\n"
    "      \"reason_text\": \"applied\",\n"
    "      \"discount\": \"0.00\",\n"
    "      \"shipping_discount\": \"0.00\",\n"
    "      \"condition\": null\n"
    "    },\n"
    "    {\n"
    "      \"id\": \"free_ship\",\n"
    "      \"label\": \"包邮\",\n"
    "      \"applied\": true,\n"
    "      \"reason\": \"applied\",\n"
    "      \"reason_text\": \"applied\",\n"
    "      \"discount\": \"0.00\",\n"
    "      \"shipping_discount\": \"12.00\",\n"
    "      \"condition\": null\n"
    "    },\n"
    "    {\n"
    "      \"id\": \"vip_coupon\",\n"
    "      \"label\": null,\n"
    "      \"applied\": false,\n"
    "      \"reason\": \"coupon_rejected\",\n"
    "      \"reason_text\": \"its coupon was rejected\",\n"
    "      \"discount\": \"0.00\",\n"
    "      \"shipping_discount\": \"0.00\",\n"
    "      \"condition\": null\n"
    "    },\n"
    "    {\n"
    "      \"id\": \"clearance\",\n"
    "      \"label\": \"季末清仓\",\n"
    "      \"applied\": false,\n"
    "      \"reason\": \"exclusive\",\n"
    "      \"reason_text\": \"another promotion of its exclusive group applied\",\n"
    "      \"discount\": \"0.00\",\n"
    "      \"shipping_discount\": \"0.00\",\n"
    "      \"condition\": null\n"
    "    }\n"
    "  ],\n"
    "  \"gifts\": [\n"
    "    {\n"
    "      \"promotion\": \"cup_gift\",\n"
    "      \"sku\": \"CUP-SLEEVE\",\n"
    "      \"name\": \"杯套\",\n"
    "      \"quantity\": 1\n"
    "    }\n"
    "  ],\n"
    "  \"effects\": [\n"
    "    {\n"
    "      \"promotion\": \"cup_gift\",\n"
    "      \"kind\": \"thank_you_card\",\n"
    "      \"payload\": \"谢谢\"\n"
    "    }\n"
    "  ],\n"
    "  \"coupons\": [\n"
    "    {\n"
    "      \"code\": \"SPRING10\",\n"
    "      \"accepted\": true,\n"
    "      \"verdict\": \"accepted\",\n"
    "      \"reason\": null,\n"
    "      \"promotion\": \"free_ship\"\n"
    "    },\n"
    "    {\n"
    "      \"code\": \"VIP-X\",\n"
    "      \"accepted\": false,\n"
    "      \"verdict\": \"expired\",\n"
    "      \"reason\": \"the code has expired\",\n"
    "      \"promotion\": null\n"
    "    }\n"
    "  ],\n"
    "  \"points\": [\n"
    "    {\n"
    "      \"rule\": \"base\",\n"
    "      \"base\": \"241.20\",\n"
    "      \"points\": 241,\n"
    "      \"multiplier\": \"x1\",\n"
    "      \"capped\": false\n"
    "    },\n"
    "    {\n"
    "      \"rule\": \"margin_bonus\",\n"
    "      \"base\": \"230.40\",\n"
    "      \"points\": 500,\n"
    "      \"multiplier\": \"x1.5\",\n"
    "      \"capped\": true\n"
    "    }\n"
    "  ],\n"
    "  \"hints\": [\n"
    "    {\n"
    "      \"promotion\": \"tea_gift\",\n"
    "      \"shortfall\": \"32.00\",\n"
    "      \"set\": \"tea\",\n"
    "      \"text\": \"add ¥32.00 of tea to get 满300赠茶样\"\n"
    "    }\n"
    "  ],\n"
    "  \"instructions\": 1234\n"
    "}";

static void test_render_exact(void **state)
{
    (void)state;
    perk_result r = fixture_result();
    cart_doc *doc = fixture_doc();
    assert_non_null(doc);
    char *a = result_json_render(&fixture_names, &r, doc, RESULT_JSON_PRETTY);
    char *b = result_json_render(&fixture_names, &r, doc, RESULT_JSON_PRETTY);
    assert_non_null(a);
    assert_non_null(b);
    assert_string_equal(a, expected_pretty);
    assert_string_equal(a, b); /* deterministic */
    free(a);
    free(b);

    /* compact form: same content, no whitespace between tokens */
    char *c = result_json_render(&fixture_names, &r, doc, 0);
    assert_non_null(c);
    assert_null(strchr(c, '\n'));
    assert_non_null(
        strstr(c, "{\"status\":\"ok\",\"currency\":\"CNY\",\"subtotal\":\"268.00\",\"discount\":\"26.80\","));
    json_error_t jerr;
    json_t *x = json_loads(c, 0, &jerr), *y = json_loads(expected_pretty, 0, &jerr);
    assert_non_null(x);
    assert_non_null(y);
    assert_true(json_equal(x, y));
    json_decref(x);
    json_decref(y);
    free(c);

    /* without instructions (for golden files) */
    c = result_json_render(&fixture_names, &r, doc, RESULT_JSON_NO_INSTRUCTIONS);
    assert_non_null(c);
    assert_null(strstr(c, "instructions"));
    assert_non_null(strstr(c, "\"hints\":[{\"promotion\":\"tea_gift\",\"shortfall\":\"32.00\","));
    free(c);
    cart_json_free(doc);
}

static void test_render_failure_status(void **state)
{
    (void)state;
    perk_result r;
    memset(&r, 0, sizeof r);
    r.status = PERK_OVERFLOW;
    char *s = result_json_render(&fixture_names, &r, NULL, 0);
    assert_non_null(s);
    assert_string_equal(s, "{\"status\":\"overflow\",\"error\":\"arithmetic overflow in money or points\"}");
    free(s);
    r.status = PERK_BUDGET;
    s = result_json_render(NULL, &r, NULL, 0);
    assert_string_equal(s, "{\"status\":\"budget\",\"error\":\"instruction budget exhausted\"}");
    free(s);
    /* an OK result with an impossible exponent is refused, not formatted */
    r.status = PERK_OK;
    r.exponent = 40;
    s = result_json_render(NULL, &r, NULL, 0);
    assert_string_equal(s,
                        "{\"status\":\"invalid\",\"error\":\"the result has an invalid currency exponent\"}");
    free(s);
    assert_null(result_json_render(&fixture_names, NULL, NULL, 0));
}

/* JPY (exponent 0), no names table, no cart: ids fall back to "#index", no decimals. */
static void test_render_jpy_without_names(void **state)
{
    (void)state;
    const perk_line_result lines[] = {
        { .original = 3600, .final = 3240, .first_allocation = 0, .n_allocations = 1 }
    };
    const perk_allocation allocs[] = { { .line = 0, .promotion = 0, .amount = 360 } };
    const perk_promotion_result promos[] = {
        { .promotion = 0, .reason = PERK_REASON_APPLIED, .discount = 360, .failed_condition = UINT32_MAX },
        { .promotion = 1,
          .reason = PERK_REASON_CONDITION,
          .failed_condition = 3,
          .has_comparison = true,
          .observed = 2,
          .expected = 3,
          .comparison = PERK_CMP_GE },
    };
    perk_result r;
    memset(&r, 0, sizeof r);
    r.currency = "JPY";
    r.exponent = 0;
    r.subtotal = 3600; /* ¥1200 x 3 */
    r.discount = 360;  /* 10% */
    r.payable = 3240;  /* 3600 - 360 */
    r.n_lines = 1;
    r.lines = lines;
    r.n_allocations = 1;
    r.allocations = allocs;
    r.n_promotions = 2;
    r.promotions = promos;
    char *s = result_json_render(NULL, &r, NULL, RESULT_JSON_NO_INSTRUCTIONS);
    assert_non_null(s);
    assert_string_equal(
        s, "{\"status\":\"ok\",\"currency\":\"JPY\",\"subtotal\":\"3600\",\"discount\":\"360\","
           "\"shipping\":{\"before\":\"0\",\"after\":\"0\"},"
           "\"redeem\":{\"redeemable\":0,\"redeemed\":0,\"value\":\"0\",\"goods\":\"0\",\"shipping\":\"0\"},"
           "\"payable\":\"3240\",\"points_earned\":0,"
           "\"lines\":[{\"index\":0,\"id\":null,\"sku\":null,\"original\":\"3600\",\"final\":\"3240\","
           "\"gift\":false,"
           "\"gift_promotion\":null,\"allocations\":[{\"promotion\":\"#0\",\"amount\":\"360\"}]}],"
           "\"promotions\":[{\"id\":\"#0\",\"label\":null,\"applied\":true,\"reason\":\"applied\",\"reason_"
           "text\":\"applied\","
           "\"discount\":\"360\",\"shipping_discount\":\"0\",\"condition\":null},"
           "{\"id\":\"#1\",\"label\":null,\"applied\":false,\"reason\":\"condition\",\"reason_text\":\"a "
           "condition is not met\","
           "\"discount\":\"0\",\"shipping_discount\":\"0\",\"condition\":{\"text\":\"\",\"location\":null,"
           "\"unknown\":null,"
           "\"comparison\":\">=\","
           "\"kind\":\"plain\",\"observed\":2,\"expected\":3,\"explanation\":\"2 < 3\"}}],"
           "\"gifts\":[],\"effects\":[],\"coupons\":[],\"points\":[],\"hints\":[]}");
    free(s);

    /* applied only: #1 (a condition failed) is counted, not listed, and so is earn rule #0, which
     * earned nothing on its empty set; everything else is the same. Points: 1 per ¥100 on 3240 =
     * 32 for earn rule #1. */
    const perk_points_result points[] = {
        { .earn_rule = 0, .base = 0, .points = 0, .mult_num = 1, .mult_den = 1, .multiplier = UINT32_MAX },
        { .earn_rule = 1,
          .base = 3240,
          .points = 32,
          .mult_num = 1,
          .mult_den = 1,
          .multiplier = UINT32_MAX },
    };
    r.n_points = 2;
    r.points = points;
    r.points_earned = 32;
    s = result_json_render(NULL, &r, NULL, RESULT_JSON_NO_INSTRUCTIONS | RESULT_JSON_APPLIED_ONLY);
    assert_non_null(s);
    assert_non_null(
        strstr(s, "\"promotions\":[{\"id\":\"#0\",\"label\":null,\"applied\":true,\"reason\":\"applied\","
                  "\"reason_text\":\"applied\",\"discount\":\"360\",\"shipping_discount\":\"0\","
                  "\"condition\":null}],\"promotions_not_listed\":1,\"gifts\":[]"));
    assert_non_null(strstr(s, "\"points\":[{\"rule\":\"#1\",\"base\":\"3240\",\"points\":32,"));
    assert_non_null(strstr(s, "\"points_not_listed\":1,\"hints\":[]"));
    assert_null(strstr(s, "\"id\":\"#1\""));
    assert_non_null(strstr(s, "\"payable\":\"3240\""));
    free(s);
}

/* Indices a VM should never produce must not crash the renderer or break the JSON. */
static void test_render_corrupt_result(void **state)
{
    (void)state;
    const perk_line_result lines[] = {
        { .original = 100, .final = 100, .first_allocation = 5, .n_allocations = 2 }, /* past the end */
        { .original = 100, .final = 100, .first_allocation = 1, .n_allocations = UINT32_MAX }, /* wraps */
    };
    const perk_allocation allocs[] = { { .line = 0, .promotion = 99, .amount = 1 },
                                       { .line = 1, .promotion = 0, .amount = 1 } };
    const perk_promotion_result promos[] = {
        { .promotion = 99, .reason = (perk_reason)77, .failed_condition = UINT32_MAX, .comparison = 42 },
        { .promotion = 0,
          .reason = PERK_REASON_CONDITION,
          .failed_condition = 5,
          .has_comparison = true,
          .comparison = 42 },
    };
    const perk_effect effects[] = {
        { .promotion = 0, .kind = "bad\xff\xfe", .payload = "ok \xc0\xaf \xed\xa0\x80 end" }
    };
    perk_result r;
    memset(&r, 0, sizeof r);
    r.currency = "ZZZ"; /* unknown: no symbol */
    r.exponent = 2;
    r.n_lines = 2;
    r.lines = lines;
    r.n_allocations = 2;
    r.allocations = allocs;
    r.n_promotions = 2;
    r.promotions = promos;
    r.n_effects = 1;
    r.effects = effects;
    char *s = result_json_render(&fixture_names, &r, NULL, 0);
    assert_non_null(s);
    json_error_t jerr;
    json_t *root = json_loads(s, 0, &jerr);
    if (!root) fail_msg("not valid JSON: %s\n%s", jerr.text, s);
    assert_int_equal(
        json_array_size(json_object_get(json_array_get(json_object_get(root, "lines"), 0), "allocations")),
        0);
    assert_int_equal(
        json_array_size(json_object_get(json_array_get(json_object_get(root, "lines"), 1), "allocations")),
        0);
    json_t *p0 = json_array_get(json_object_get(root, "promotions"), 0);
    assert_string_equal(json_string_value(json_object_get(p0, "id")), "#99");
    assert_string_equal(json_string_value(json_object_get(p0, "reason")), "unknown");
    json_t *cond = json_object_get(json_array_get(json_object_get(root, "promotions"), 1), "condition");
    assert_string_equal(json_string_value(json_object_get(cond, "comparison")), "?");
    json_t *e0 = json_array_get(json_object_get(root, "effects"), 0);
    /* each invalid byte (also overlong / surrogate encodings) becomes U+FFFD */
    assert_string_equal(json_string_value(json_object_get(e0, "kind")), "bad\xEF\xBF\xBD\xEF\xBF\xBD");
    assert_string_equal(json_string_value(json_object_get(e0, "payload")),
                        "ok \xEF\xBF\xBD\xEF\xBF\xBD \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD end");
    json_decref(root);
    free(s);
}

/* The lower-case names must follow perk.h's X-macro lists entry by entry. */
static void test_status_and_reason_names(void **state)
{
    (void)state;
#define UPPER_NAME(NAME, name, msg) #NAME,
    static const char *const statuses[] = { PERK_STATUS_LIST(UPPER_NAME) };
    static const char *const reasons[] = { PERK_REASON_LIST(UPPER_NAME) };
#undef UPPER_NAME
    char lower[64];
    for (int i = 0; i < PERK_STATUS_COUNT; i++) {
        size_t k = 0;
        for (; statuses[i][k]; k++)
            lower[k] =
                (char)(statuses[i][k] >= 'A' && statuses[i][k] <= 'Z' ? statuses[i][k] + 32 : statuses[i][k]);
        lower[k] = '\0';
        assert_string_equal(result_status_name((perk_status)i), lower);
    }
    for (int i = 0; i < PERK_REASON_COUNT; i++) {
        size_t k = 0;
        for (; reasons[i][k]; k++)
            lower[k] =
                (char)(reasons[i][k] >= 'A' && reasons[i][k] <= 'Z' ? reasons[i][k] + 32 : reasons[i][k]);
        lower[k] = '\0';
        assert_string_equal(result_reason_name((perk_reason)i), lower);
    }
    assert_string_equal(result_status_message(PERK_LIMIT), "a configured limit was exceeded");
    assert_string_equal(result_reason_message(PERK_REASON_STOPPED),
                        "an earlier promotion stops further promotions");
    assert_string_equal(result_status_name(PERK_STATUS_COUNT), "unknown");
}

static void test_format_helpers(void **state)
{
    (void)state;
    char buf[64];
    result_format_multiplier(2, 1, buf, sizeof buf);
    assert_string_equal(buf, "x2");
    result_format_multiplier(3, 2, buf, sizeof buf);
    assert_string_equal(buf, "x1.5");
    result_format_multiplier(5, 4, buf, sizeof buf);
    assert_string_equal(buf, "x1.25");
    result_format_multiplier(6, 4, buf, sizeof buf); /* 1.5 with an unreduced fraction */
    assert_string_equal(buf, "x1.5");
    result_format_multiplier(10, 3, buf, sizeof buf);
    assert_string_equal(buf, "x10/3");
    result_format_multiplier(1, 0, buf, sizeof buf);
    assert_string_equal(buf, "x?");

    result_format_value(125000, RESULT_VALUE_PERCENT, 2, NULL, buf, sizeof buf);
    assert_string_equal(buf, "12.5%");
    result_format_value(1, RESULT_VALUE_PERCENT, 2, NULL, buf, sizeof buf);
    assert_string_equal(buf, "0.0001%");
    result_format_value(-300000, RESULT_VALUE_PERCENT, 2, NULL, buf, sizeof buf);
    assert_string_equal(buf, "-30%");
    result_format_value(20516, RESULT_VALUE_DATE, 2, NULL, buf, sizeof buf);
    assert_string_equal(buf, "2026-03-04");
    result_format_value(26800, RESULT_VALUE_MONEY, 2, "¥", buf, sizeof buf);
    assert_string_equal(buf, "¥268.00");
    result_format_value(-105, RESULT_VALUE_MONEY, 2, "¥", buf, sizeof buf);
    assert_string_equal(buf, "-¥1.05");
    result_format_value(INT64_MIN, RESULT_VALUE_PLAIN, 2, NULL, buf, sizeof buf);
    assert_string_equal(buf, "-9223372036854775808");

    assert_string_equal(result_cmp_text(PERK_CMP_LE), "<=");
    assert_string_equal(result_cmp_negated_text(PERK_CMP_LE), ">");
    assert_string_equal(result_cmp_negated_text(PERK_CMP_EQ), "!=");
    assert_string_equal(result_cmp_negated_text(-1), "?");
    assert_string_equal(result_verdict_name(PERK_COUPON_REJECTED_ONE_PER_ORDER), "one_per_order");
    assert_string_equal(result_verdict_name(PERK_COUPON_REJECTED_REVOKED), "revoked");
    assert_string_equal(result_verdict_name(PERK_COUPON_REJECTED_NOT_YET_VALID), "not_yet_valid");

    result_condition_location(&fixture_names, 0, buf, sizeof buf);
    assert_string_equal(buf, "rules/spring.perk:14:8");
    result_condition_location(&fixture_names, 1, buf, sizeof buf);
    assert_string_equal(buf, "");
    assert_string_equal(result_condition_text(NULL, 0), "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render_exact),
        cmocka_unit_test(test_render_failure_status),
        cmocka_unit_test(test_render_jpy_without_names),
        cmocka_unit_test(test_render_corrupt_result),
        cmocka_unit_test(test_status_and_reason_names),
        cmocka_unit_test(test_format_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
