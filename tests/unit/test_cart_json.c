/* test_cart_json.c - cart JSON parsing: a full valid cart into the right structs (CNY and JPY),
 * and invalid carts each refused with the JSON path and a message saying what is wrong,
 * including hostile sizes (a million lines, ten thousand levels of nesting). No VM needed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "json/cart_json.h"

static const perk_limits test_limits = {
    .max_lines = 10000,
    .max_quantity = 1000000,
    .max_money = INT64_C(1000000000000000),
    .max_tags = 64,
    .max_coupons = 16,
    .instruction_budget = 10000000,
};

static const char full_cart[] =
    "{\"order\": {\"id\": \"A1001\", \"currency\": \"CNY\", \"time\": \"2026-03-04T10:00:00+08:00\",\n"
    "   \"channel\": \"miniprogram\", \"shipping\": \"12.00\",\n"
    "   \"subscription\": {\"plan\": \"weekly_box\", \"delivery\": 4}, \"points_to_redeem\": 500},\n"
    " \"customer\": {\"id\": \"c42\", \"tier\": \"gold\", \"tags\": [\"vip\", \"staff\"], \"birthday\": "
    "\"1990-03-04\",\n"
    "   \"member_since\": \"2020-01-01\", \"first_order\": false, \"orders\": 12, \"points\": 2300},\n"
    " \"lines\": [{\"id\": \"1\", \"sku\": \"TEA-001\", \"name\": \"龙井\", \"category\": \"tea/green\",\n"
    "   \"brand\": \"West Lake\", \"tags\": [\"organic\"], \"price\": \"128.00\", \"quantity\": 2, "
    "\"margin\": \"45%\",\n"
    "   \"attrs\": {\"origin\": \"Hangzhou\", \"grade\": \"A\"}},\n"
    "   {\"id\": \"2\", \"sku\": \"CUP-9\", \"price\": \"12.5\", \"quantity\": 1, \"margin\": \"12.5%\", "
    "\"tags\": []}],\n"
    " \"coupons\": [\"SPRING10\", {\"code\": \"X7KD-2Q\", \"campaign\": \"SPRING\", \"status\": "
    "\"valid\"}],\n"
    " \"usage\": {\"member_day\": {\"uses\": 10, \"money\": \"500.00\", \"customer_uses\": 1}, \"tea_gift\": "
    "{}},\n"
    " \"exclude\": [\"tea_gift\"]}";

static void test_full_cart_cny(void **state)
{
    (void)state;
    char err[512];
    /* parse from a heap copy that is freed at once: every string must live in the document */
    char *text = strdup(full_cart);
    assert_non_null(text);
    cart_doc *doc = cart_json_parse(text, strlen(text), 2, "CNY", &test_limits, err, sizeof err);
    memset(text, 'x', strlen(text));
    free(text);
    if (!doc) fail_msg("%s", err);
    assert_int_equal(doc->exponent, 2);
    assert_string_equal(doc->currency, "CNY");

    const perk_order *o = &doc->order;
    assert_string_equal(o->id, "A1001");
    assert_string_equal(o->currency, "CNY");
    assert_true(doc->has_time);
    /* 2026-03-04T10:00+08:00 = 2026-03-04T02:00Z = 20516 days * 86400 + 2 * 3600 */
    assert_int_equal(o->time, INT64_C(20516) * 86400 + 7200);
    assert_int_equal(o->time, INT64_C(1772589600));
    assert_string_equal(o->channel, "miniprogram");
    assert_int_equal(o->shipping, 1200); /* "12.00" CNY = 1200 fen */
    assert_string_equal(o->subscription_plan, "weekly_box");
    assert_int_equal(o->delivery_number, 4);
    assert_int_equal(o->points_to_redeem, 500);

    const perk_customer *c = &doc->customer;
    assert_string_equal(c->id, "c42");
    assert_string_equal(c->tier, "gold");
    assert_int_equal(c->n_tags, 2);
    assert_string_equal(c->tags[0], "vip");
    assert_string_equal(c->tags[1], "staff");
    assert_int_equal(c->birthday_year, 1990);
    assert_int_equal(c->birthday_month, 3);
    assert_int_equal(c->birthday_day, 4);
    assert_int_equal(c->member_since_days, 18262); /* 2020-01-01: 50 years incl. 12 leap days */
    assert_true(c->has_member_since);
    assert_false(c->first_order);
    assert_true(c->has_first_order); /* "first_order": false is known, not absent */
    assert_int_equal(c->order_count, 12);
    assert_true(c->has_order_count);
    assert_int_equal(c->points_balance, 2300);
    assert_true(c->has_points_balance);

    assert_int_equal(doc->n_lines, 2);
    const perk_line *l = &doc->lines[0];
    assert_string_equal(l->id, "1");
    assert_string_equal(l->sku, "TEA-001");
    assert_string_equal(l->name, "龙井");
    assert_string_equal(l->category, "tea/green");
    assert_string_equal(l->brand, "West Lake");
    assert_int_equal(l->n_tags, 1);
    assert_string_equal(l->tags[0], "organic");
    assert_int_equal(l->unit_price, 12800); /* "128.00" = 12800 fen */
    assert_int_equal(l->quantity, 2);
    assert_int_equal(l->margin_ppm, 450000); /* 45% */
    assert_true(l->has_margin);
    assert_int_equal(l->n_attrs, 2);
    assert_string_equal(l->attrs[0].key, "origin"); /* document order */
    assert_string_equal(l->attrs[0].value, "Hangzhou");
    assert_string_equal(l->attrs[1].key, "grade");
    assert_string_equal(l->attrs[1].value, "A");
    l = &doc->lines[1];
    assert_string_equal(l->id, "2");
    assert_string_equal(l->sku, "CUP-9");
    assert_null(l->name);
    assert_null(l->category);
    assert_null(l->brand);
    assert_int_equal(l->n_tags, 0);
    assert_int_equal(l->n_attrs, 0);
    assert_int_equal(l->unit_price, 1250); /* "12.5" = 12.50 = 1250 fen */
    assert_int_equal(l->quantity, 1);
    assert_int_equal(l->margin_ppm, 125000); /* 12.5% */
    assert_true(l->has_margin);

    assert_int_equal(doc->n_coupons, 2);
    assert_string_equal(doc->coupons[0].code, "SPRING10");
    assert_null(doc->coupons[0].campaign);
    assert_int_equal(doc->coupons[0].status, PERK_COUPON_UNCHECKED);
    assert_string_equal(doc->coupons[1].code, "X7KD-2Q");
    assert_string_equal(doc->coupons[1].campaign, "SPRING");
    assert_int_equal(doc->coupons[1].status, PERK_COUPON_VALID);

    assert_int_equal(doc->n_usage, 2);
    assert_string_equal(doc->usage[0].promotion, "member_day");
    assert_int_equal(doc->usage[0].usage.uses, 10);
    assert_int_equal(doc->usage[0].usage.money, 50000); /* "500.00" = 50000 fen */
    assert_int_equal(doc->usage[0].usage.customer_uses, 1);
    assert_string_equal(doc->usage[1].promotion, "tea_gift");
    assert_int_equal(doc->usage[1].usage.uses, 0);
    assert_int_equal(doc->usage[1].usage.money, 0);
    assert_int_equal(doc->usage[1].usage.customer_uses, 0);

    assert_int_equal(doc->n_exclude, 1);
    assert_string_equal(doc->exclude[0], "tea_gift");
    cart_json_free(doc);
}

static void test_jpy_and_defaults(void **state)
{
    (void)state;
    char err[512];
    /* JPY has no minor unit: strings and JSON integers are both whole yen. The exponent comes
     * from the cart's own currency (exponent -1, no program currency). */
    const char *text =
        "{\"order\": {\"currency\": \"JPY\", \"shipping\": 500, \"points_to_redeem\": \"max\"},"
        " \"customer\": {\"birthday\": \"02-29\"},"
        " \"lines\": [{\"sku\": \"A\", \"price\": \"1200\", \"quantity\": 1},"
        "           {\"sku\": \"B\", \"price\": 980, \"quantity\": 3, \"name\": null}]}";
    cart_doc *doc = cart_json_parse(text, strlen(text), -1, NULL, &test_limits, err, sizeof err);
    if (!doc) fail_msg("%s", err);
    assert_int_equal(doc->exponent, 0);
    assert_string_equal(doc->currency, "JPY");
    assert_int_equal(doc->order.shipping, 500);        /* ¥500 */
    assert_int_equal(doc->order.points_to_redeem, -1); /* "max" */
    assert_false(doc->has_time);
    assert_null(doc->order.id);
    assert_null(doc->order.subscription_plan);
    assert_int_equal(doc->order.delivery_number, 0);
    assert_int_equal(doc->customer.birthday_year, 0); /* unknown year */
    assert_int_equal(doc->customer.birthday_month, 2);
    assert_int_equal(doc->customer.birthday_day, 29);
    assert_false(doc->customer.has_member_since); /* unknown: not a member, or not known */
    assert_false(doc->customer.has_first_order);
    assert_false(doc->customer.has_order_count);
    assert_false(doc->customer.has_points_balance);
    assert_int_equal(doc->lines[0].unit_price, 1200); /* "1200" JPY = 1200 yen */
    assert_int_equal(doc->lines[1].unit_price, 980);  /* 980 JPY = 980 yen */
    assert_int_equal(doc->lines[1].quantity, 3);
    assert_null(doc->lines[1].name);        /* null = not given */
    assert_false(doc->lines[0].has_margin); /* unknown */
    assert_null(doc->lines[0].id);
    assert_int_equal(doc->n_coupons, 0);
    cart_json_free(doc);

    /* the same with the program's currency given explicitly */
    doc = cart_json_parse(text, strlen(text), 0, "JPY", NULL, err, sizeof err);
    if (!doc) fail_msg("%s", err);
    assert_int_equal(doc->lines[0].unit_price, 1200);
    cart_json_free(doc);

    /* a minimal cart: only lines; no customer means defaults, currency assumed from the program */
    text = "{\"lines\": []}";
    doc = cart_json_parse(text, strlen(text), 2, "CNY", NULL, err, sizeof err);
    if (!doc) fail_msg("%s", err);
    assert_int_equal(doc->n_lines, 0);
    assert_null(doc->order.currency);
    assert_string_equal(doc->currency, "CNY");
    assert_false(doc->customer.has_member_since); /* a zeroed perk_customer: nothing known */
    assert_null(doc->customer.id);
    cart_json_free(doc);

    /* "12.50" with trailing zeros beyond the exponent is exact, so accepted: "1.230" -> 123 */
    text = "{\"lines\": [{\"sku\": \"A\", \"price\": \"1.230\", \"quantity\": 1}]}";
    doc = cart_json_parse(text, strlen(text), 2, "CNY", NULL, err, sizeof err);
    if (!doc) fail_msg("%s", err);
    assert_int_equal(doc->lines[0].unit_price, 123);
    cart_json_free(doc);
}

typedef struct bad_case {
    const char *json;
    const char *expect; /* substring of the error */
    int exponent;       /* 2 (CNY) unless -1 given in a case */
    const char *currency;
    perk_limits limits;
} bad_case;

#define L0 "{\"lines\": [{\"sku\": \"A\", \"price\": \"1.00\", \"quantity\": 1, "
#define LINE "{\"sku\": \"A\", \"price\": \"1.00\", \"quantity\": 1}"

#define BAD(j, e)                  \
    {                              \
        .json = (j), .expect = (e) \
    }
#define BADX(j, e, x, c, ...)                                                               \
    {                                                                                       \
        .json = (j), .expect = (e), .exponent = (x), .currency = (c), .limits = __VA_ARGS__ \
    }

static const bad_case bad_cases[] = {
    BAD("{\"lines\": [" LINE "," LINE "," LINE ", {\"sku\": \"A\", \"price\": \"1.00\", \"quantity\": -2}]}",
        "$.lines[3].quantity: must be a positive integer, got -2"),
    BAD("{\"lines\": [{\"sku\": \"A\", \"price\": \"12.345\", \"quantity\": 1}]}",
        "$.lines[0].price: \"12.345\" has more decimals than CNY allows (2)"),
    BAD("{\"order\": {\"currency\": \"USD\"}, \"lines\": []}",
        "$.order.currency: \"USD\" does not match the program's currency CNY"),
    BAD("{\"order\": {\"currency\": \"XYZ\"}, \"lines\": []}", "$.order.currency: unknown currency \"XYZ\""),
    BAD("{\"order\": {}}", "$.lines: required field is missing"),
    BAD("{\"lines\": [{\"price\": \"1.00\", \"quantity\": 1}]}", "$.lines[0].sku: required field is missing"),
    BAD("{\"lines\": [{\"sku\": \"A\", \"quantity\": 1}]}", "$.lines[0].price: required field is missing"),
    BAD("{\"lines\": [{\"sku\": \"A\", \"price\": \"1.00\"}]}",
        "$.lines[0].quantity: required field is missing"),
    BAD("{\"lines\": [{\"sku\": \"\", \"price\": \"1.00\", \"quantity\": 1}]}",
        "$.lines[0].sku: must not be empty"),
    BAD("{\"lines\": [{\"sku\": true, \"price\": \"1.00\", \"quantity\": 1}]}",
        "$.lines[0].sku: must be a string, got true"),
    BAD("{\"lines\": [{\"id\": 1, \"sku\": \"A\", \"price\": \"1.00\", \"quantity\": 1}]}",
        "$.lines[0].id: must be a string (quote it: \"1\")"),
    BAD("{\"line\": []}", "$.line: unknown field, did you mean \"lines\"?"),
    BAD(L0 "\"prise\": \"2.00\"}]}", "$.lines[0].prise: unknown field, did you mean \"price\"?"),
    BAD(L0 "\"colour\": \"red\"}]}", "$.lines[0].colour: unknown field (a line has: id, sku, name,"),
    BAD("{\"lines\": [], \"customer\": {\"teir\": \"gold\"}}",
        "$.customer.teir: unknown field, did you mean \"tier\"?"),
    BAD("{\"lines\": [{\"sku\": \"A\", \"price\": 12.5, \"quantity\": 1}]}",
        "$.lines[0].price: write money as a string, e.g. \"12.5\""),
    BAD("{\"lines\": [{\"sku\": \"A\", \"price\": 12, \"quantity\": 1}]}",
        "$.lines[0].price: write money as a string in major units, e.g. \"12\""),
    BAD("{\"lines\": [{\"sku\": \"A\", \"price\": \"12,50\", \"quantity\": 1}]}",
        "$.lines[0].price: \"12,50\" is not an amount"),
    BAD("{\"lines\": [{\"sku\": \"A\", \"price\": \"-1.00\", \"quantity\": 1}]}",
        "$.lines[0].price: must not be negative, got -1.00"),
    BAD("{\"lines\": [{\"sku\": \"A\", \"price\": \"10000000000000.01\", \"quantity\": 1}]}",
        "$.lines[0].price: 10000000000000.01 exceeds the largest amount allowed (10000000000000.00, "
        "max_money)"),
    BAD("{\"lines\": [{\"sku\": \"A\", \"price\": \"99999999999999999999\", \"quantity\": 1}]}",
        "$.lines[0].price: \"99999999999999999999\" is too large"),
    BAD("{\"lines\": [{\"sku\": \"A\", \"price\": \"1.00\", \"quantity\": 1000001}]}",
        "$.lines[0].quantity: 1000001 exceeds the limit of 1000000 units per line (max_quantity)"),
    BAD("{\"lines\": [{\"sku\": \"A\", \"price\": \"1.00\", \"quantity\": 1.5}]}",
        "$.lines[0].quantity: must be a positive integer, got 1.5"),
    BAD("{\"lines\": [{\"id\": \"a\", \"sku\": \"A\", \"price\": \"1\", \"quantity\": 1},"
        " {\"id\": \"b\", \"sku\": \"A\", \"price\": \"1\", \"quantity\": 1},"
        " {\"id\": \"a\", \"sku\": \"A\", \"price\": \"1\", \"quantity\": 1},"
        " {\"id\": \"b\", \"sku\": \"A\", \"price\": \"1\", \"quantity\": 1}]}",
        "$.lines[2].id: duplicate line id \"a\" (also $.lines[0].id)"),
    BAD("{\"lines\": [], \"customer\": {\"birthday\": \"1990-02-30\"}}",
        "$.customer.birthday: \"1990-02-30\" is not a valid date"),
    BAD("{\"lines\": [], \"customer\": {\"member_since\": \"2020-1-1\"}}",
        "$.customer.member_since: \"2020-1-1\" is not a valid date (expected YYYY-MM-DD)"),
    BAD("{\"lines\": [{\"sku\": \"A\", \"category\": \"snacks/meat/\", \"price\": \"1\", \"quantity\": 1}]}",
        "$.lines[0].category: \"snacks/meat/\" has an empty segment: write the path as segments separated by "
        "'/', "
        "e.g. \"tea/green\""),
    BAD("{\"lines\": [{\"sku\": \"A\", \"category\": \"\", \"price\": \"1\", \"quantity\": 1}]}",
        "$.lines[0].category: \"\" has an empty segment: write the path as segments separated by '/', "
        "e.g. \"tea/green\""),
    BAD("{\"lines\": [], \"coupons\": [\"A\", {\"code\": \"B\"}, {\"code\": \"A\", \"status\": \"valid\"}]}",
        "$.coupons[2]: duplicate code \"A\" (also $.coupons[0])"),
    BAD("{\"lines\": [], \"order\": {\"time\": \"0001-01-01T00:00:00+01:00\"}}",
        "$.order.time: \"0001-01-01T00:00:00+01:00\" is outside years 0001..9999 once converted to UTC"),
    BAD("{\"lines\": [], \"order\": {\"time\": \"9999-12-31T23:59:59-00:01\"}}",
        "$.order.time: \"9999-12-31T23:59:59-00:01\" is outside years 0001..9999 once converted to UTC"),
    BAD("{\"lines\": [], \"customer\": {\"member_since\": \"1969-12-31\"}}",
        "$.customer.member_since: must be 1970-01-01 or later, got \"1969-12-31\""),
    BAD("{\"lines\": [], \"customer\": {\"member_since\": \"0001-01-01\"}}",
        "$.customer.member_since: must be 1970-01-01 or later, got \"0001-01-01\""),
    BAD("{\"lines\": [], \"order\": {\"time\": \"2026-03-04 10:00\"}}",
        "$.order.time: \"2026-03-04 10:00\" is not a valid RFC 3339 timestamp with a UTC offset"),
    BAD("{\"lines\": [], \"order\": {\"time\": \"2026-03-04T10:00:00\"}}",
        "$.order.time: \"2026-03-04T10:00:00\" is not a valid RFC 3339 timestamp"),
    BAD("{\"lines\": [{\"sku\": \"\xff\xfe\", \"price\": \"1.00\", \"quantity\": 1}]}",
        "invalid JSON at line 1, column 20: unable to decode byte 0xff"),
    BAD("{\"lines\": [\n  {\"sku\": \"A\",,}\n]}", "invalid JSON at line 2, column 15:"),
    BAD("", "invalid JSON at line 1, column 0:"),
    BAD("{\"lines\": [], \"lines\": []}", "duplicate object key"),
    BAD("[1, 2]", "$: must be an object (a cart), got an array"),
    BAD("{\"lines\": {}}", "$.lines: must be an array of lines, got an object"),
    BAD("{\"lines\": [42]}", "$.lines[0]: must be an object, got 42"),
    BADX("{\"lines\": [{\"sku\": \"A\", \"price\": \"1.00\", \"quantity\": 1, \"tags\": [\"a\", \"b\", "
         "\"c\"]}]}",
         "$.lines[0].tags: 3 entries exceed the limit of 2 (max_tags)", 2, "CNY",
         { .max_lines = 10, .max_quantity = 10, .max_money = 100000, .max_tags = 2, .max_coupons = 2 }),
    BAD("{\"lines\": [{\"sku\": \"A\", \"price\": \"1.00\", \"quantity\": 1, \"tags\": [\"a\", \"\"]}]}",
        "$.lines[0].tags[1]: must not be empty"),
    BAD("{\"lines\": [], \"customer\": {\"tags\": [\"vip\", 7]}}",
        "$.customer.tags[1]: must be a string, got 7"),
    BADX("{\"lines\": [], \"coupons\": [\"A\", \"B\", \"C\"]}",
         "$.coupons: 3 coupons exceed the limit of 2 (max_coupons)", 2, "CNY",
         { .max_lines = 10, .max_quantity = 10, .max_money = 100000, .max_tags = 2, .max_coupons = 2 }),
    BAD("{\"lines\": [], \"coupons\": [\"A\", {\"code\": \"B\", \"status\": \"ok\"}]}",
        "$.coupons[1].status: unknown coupon status \"ok\""),
    BAD("{\"lines\": [], \"coupons\": [{\"campaign\": \"S\"}]}",
        "$.coupons[0].code: required field is missing"),
    BAD("{\"lines\": [], \"order\": {\"shipping\": \"-1.00\"}}",
        "$.order.shipping: must not be negative, got -1.00"),
    BAD("{\"lines\": [], \"order\": {\"points_to_redeem\": \"all\"}}",
        "$.order.points_to_redeem: must be a non-negative integer or \"max\", got \"all\""),
    BAD("{\"lines\": [], \"order\": {\"points_to_redeem\": -5}}",
        "$.order.points_to_redeem: must be a non-negative integer, got -5"),
    BAD("{\"lines\": [], \"order\": {\"subscription\": {\"delivery\": 2}}}",
        "$.order.subscription.plan: required field is missing"),
    BAD("{\"lines\": [], \"order\": {\"subscription\": {\"plan\": \"w\", \"delivery\": 0}}}",
        "$.order.subscription.delivery: must be a positive integer, got 0"),
    BAD(L0 "\"margin\": \"45\"}]}",
        "$.lines[0].margin: must be a percentage string such as \"45%\", got \"45\""),
    BAD(L0 "\"margin\": \"120%\"}]}", "$.lines[0].margin: \"120%\" must be between 0% and 100%"),
    BAD(L0 "\"margin\": \"4.55555%\"}]}", "$.lines[0].margin: \"4.55555%\" is not a percentage"),
    BAD(L0 "\"attrs\": {\"origin\": 3}}]}", "$.lines[0].attrs.origin: must be a string, got 3"),
    BAD(L0 "\"attrs\": {\"shelf life\": [1]}}]}",
        "$.lines[0].attrs[\"shelf life\"]: must be a string, got an array"),
    BAD(L0 "\"attrs\": [\"x\"]}]}", "$.lines[0].attrs: must be an object, got an array"),
    BAD("{\"lines\": [], \"usage\": {\"member_day\": {\"uses\": -1}}}",
        "$.usage.member_day.uses: must be a non-negative integer, got -1"),
    BAD("{\"lines\": [], \"usage\": {\"member_day\": {\"money\": \"1.005\"}}}",
        "$.usage.member_day.money: \"1.005\" has more decimals than CNY allows (2)"),
    BAD("{\"lines\": [], \"usage\": {\"member_day\": {\"use\": 1}}}",
        "$.usage.member_day.use: unknown field, did you mean \"uses\"?"),
    BAD("{\"lines\": [], \"usage\": {\"member_day\": 3}}", "$.usage.member_day: must be an object"),
    BAD("{\"lines\": [], \"exclude\": [3]}", "$.exclude[0]: must be a promotion id, got 3"),
    BAD("{\"lines\": [], \"exclude\": \"tea_gift\"}",
        "$.exclude: must be an array of promotion ids, got \"tea_gift\""),
    BADX("{\"lines\": []}", "$.order.currency: required field is missing (no program currency to assume)", -1,
         NULL, { 0 }),
    BAD("{\"lines\": [], \"order\": \"A1\"}", "$.order: must be an object, got \"A1\""),
    BAD("{\"lines\": [], \"customer\": {\"first_order\": \"no\"}}",
        "$.customer.first_order: must be true or false, got \"no\""),
    BAD("{\"lines\": [], \"customer\": {\"orders\": 1e3}}",
        "$.customer.orders: must be a non-negative integer, got 1000.0"),
    BAD("{\"lines\": [{\"sku\": \"A\", \"price\": \"1.00\", \"quantity\": 100000000000000000000}]}",
        "invalid JSON at line 1, column"),
    BAD("{\"lines\": [{\"sku\": \"A\\u0000B\", \"price\": \"1.00\", \"quantity\": 1}]}",
        "invalid JSON at line 1"),
    /* a "lines" key spelled with an escape gets past the pre-scan; the tree check still applies */
    BADX("{\"\\u006cines\": [" LINE "," LINE "," LINE "]}",
         "$.lines: 3 lines exceed the limit of 2 (max_lines)", 2, "CNY",
         { .max_lines = 2, .max_quantity = 10, .max_money = 100000, .max_tags = 2, .max_coupons = 2 }),
    BADX("{\"lines\": [" LINE "," LINE "," LINE "]}",
         "$.lines: more than 2 lines (max_lines); refused at line 1, column", 2, "CNY",
         { .max_lines = 2, .max_quantity = 10, .max_money = 100000, .max_tags = 2, .max_coupons = 2 }),
};

static void test_invalid_carts(void **state)
{
    (void)state;
    size_t n = sizeof bad_cases / sizeof bad_cases[0];
    assert_true(n >= 20);
    for (size_t i = 0; i < n; i++) {
        const bad_case *c = &bad_cases[i];
        char err[512];
        int exponent = c->exponent ? c->exponent : 2;
        const char *currency = c->exponent == -1 ? c->currency : c->currency ? c->currency : "CNY";
        const perk_limits *limits = c->limits.max_lines ? &c->limits : &test_limits;
        memset(err, 0, sizeof err);
        cart_doc *doc =
            cart_json_parse(c->json, strlen(c->json), exponent, currency, limits, err, sizeof err);
        if (doc) {
            cart_json_free(doc);
            fail_msg("case %zu parsed but should fail with: %s", i, c->expect);
        }
        if (!strstr(err, c->expect)) fail_msg("case %zu:\n  expected: %s\n  got:      %s", i, c->expect, err);
    }
}

/* Embedded NUL bytes in the text (the length is explicit) are refused, not truncated at. */
static void test_embedded_nul(void **state)
{
    (void)state;
    const char text[] = "{\"lines\": []}\0{\"lines\": 5}";
    char err[256];
    cart_doc *doc = cart_json_parse(text, sizeof text - 1, 2, "CNY", NULL, err, sizeof err);
    assert_null(doc);
    assert_non_null(strstr(err, "invalid JSON"));
    /* NULL error buffer is allowed */
    assert_null(cart_json_parse(text, sizeof text - 1, 2, "CNY", NULL, NULL, 0));
    assert_null(cart_json_parse(NULL, 0, 2, "CNY", NULL, err, sizeof err));
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* A million lines (about 38 MB of JSON) must be refused without building a tree for them. */
static void test_million_lines(void **state)
{
    (void)state;
    static const char head[] = "{\"order\": {\"currency\": \"CNY\"}, \"lines\": [";
    static const char line[] = "{\"sku\":\"A\",\"price\":\"1.00\",\"quantity\":1},";
    size_t n = 1000000, len = strlen(head) + n * strlen(line) + 2;
    char *text = malloc(len + 1);
    assert_non_null(text);
    char *p = text;
    memcpy(p, head, strlen(head));
    p += strlen(head);
    for (size_t i = 0; i < n; i++) {
        memcpy(p, line, strlen(line));
        p += strlen(line);
    }
    p[-1] = ']'; /* replaces the last comma */
    *p++ = '}';
    *p = '\0';
    len = (size_t)(p - text);

    char err[512];
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cart_doc *doc = cart_json_parse(text, len, 2, "CNY", &test_limits, err, sizeof err);
    double elapsed = seconds_since(&t0);
    free(text);
    assert_null(doc);
    assert_non_null(strstr(err, "$.lines: more than 10000 lines (max_lines)"));
    /* it reads ~400 KB before refusing; a full jansson parse would take seconds and ~1 GB
     * (minutes under valgrind, which tests/run.sh announces with PERK_TEST_VALGRIND and where
     * everything runs 20 to 50 times slower) */
    const char *vg = getenv("PERK_TEST_VALGRIND");
    double bound = vg && *vg && strcmp(vg, "0") != 0 ? 0.25 * 20 : 0.25;
    if (elapsed > bound) fail_msg("refusing took %.3f s", elapsed);
}

/* 10,000 levels of nesting: refused cleanly with a position, before jansson recurses. */
static void test_deep_nesting(void **state)
{
    (void)state;
    static const char head[] = "{\"lines\":[],\"customer\":{\"tags\":";
    size_t depth = 10000, hl = strlen(head);
    char *text = malloc(hl + 2 * depth + 3);
    assert_non_null(text);
    memcpy(text, head, hl);
    memset(text + hl, '[', depth);
    memset(text + hl + depth, ']', depth);
    memcpy(text + hl + 2 * depth, "}}", 3);
    char err[512], expect[128];
    cart_doc *doc = cart_json_parse(text, strlen(text), 2, "CNY", NULL, err, sizeof err);
    free(text);
    assert_null(doc);
    /* '{' and '{' are levels 1 and 2, so the 31st '[' (column 31 + 31) is level 33 */
    snprintf(expect, sizeof expect, "invalid cart at line 1, column %zu: nesting deeper than %d levels",
             hl + CART_JSON_MAX_DEPTH - 1, CART_JSON_MAX_DEPTH);
    assert_string_equal(err, expect);

    /* positions count lines and characters (not bytes) like jansson's */
    const char *multi = "{\"lines\": [],\n \"customer\": {\"tags\": [\"会员\",\n"
                        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}}";
    doc = cart_json_parse(multi, strlen(multi), 2, "CNY", NULL, err, sizeof err);
    assert_null(doc);
    assert_string_equal(err, "invalid cart at line 3, column 30: nesting deeper than 32 levels");
}

/* Brackets, commas and a "lines" key inside strings must not confuse the pre-scan. */
static void test_prescan_ignores_strings(void **state)
{
    (void)state;
    const perk_limits two = {
        .max_lines = 2, .max_quantity = 10, .max_money = 100000, .max_tags = 4, .max_coupons = 2
    };
    const char *text =
        "{\"order\": {\"id\": \"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[ \\\"lines\\\": [1,2,3\"},"
        " \"customer\": {\"tags\": [\"lines\", \",,,\"]},"
        " \"lines\": [{\"sku\": \"a,b,c]\", \"price\": \"1\", \"quantity\": 1, \"attrs\": {\"lines\": "
        "\"[,\"}},"
        "           {\"sku\": \"\\\\\", \"price\": \"1\", \"quantity\": 1}]}";
    char err[512];
    cart_doc *doc = cart_json_parse(text, strlen(text), 2, "CNY", &two, err, sizeof err);
    if (!doc) fail_msg("%s", err);
    assert_int_equal(doc->n_lines, 2);
    assert_string_equal(doc->lines[0].sku, "a,b,c]");
    assert_string_equal(doc->lines[1].sku, "\\");
    assert_string_equal(doc->lines[0].attrs[0].value, "[,");
    cart_json_free(doc);
}

static void test_parse_file(void **state)
{
    (void)state;
    char path[] = "/tmp/test_cart_json_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "{\"lines\": [{\"sku\": \"A\", \"price\": \"2.50\", \"quantity\": 4}]}";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    char err[512];
    cart_doc *doc = cart_json_parse_file(path, 2, "CNY", NULL, err, sizeof err);
    if (!doc) fail_msg("%s", err);
    assert_int_equal(doc->lines[0].unit_price, 250); /* "2.50" = 250 fen */
    cart_json_free(doc);

    fd = open(path, O_WRONLY | O_TRUNC);
    assert_true(fd >= 0);
    text = "{\"lines\": [{\"sku\": \"A\"}]}";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    doc = cart_json_parse_file(path, 2, "CNY", NULL, err, sizeof err);
    assert_null(doc);
    char expect[600];
    snprintf(expect, sizeof expect, "%s: $.lines[0].price: required field is missing", path);
    assert_string_equal(err, expect);
    unlink(path);

    doc = cart_json_parse_file("/nonexistent/cart.json", 2, "CNY", NULL, err, sizeof err);
    assert_null(doc);
    assert_string_equal(err, "/nonexistent/cart.json: cannot open: No such file or directory");
}

static void test_error_truncation(void **state)
{
    (void)state;
    /* a tiny error buffer still gets a NUL-terminated prefix, and no overflow */
    char err[8];
    const char *text = "{\"lines\": [{\"sku\": \"A\", \"price\": \"1.00\", \"quantity\": -2}]}";
    assert_null(cart_json_parse(text, strlen(text), 2, "CNY", NULL, err, sizeof err));
    assert_string_equal(err, "$.lines");
    /* long string values are cut in messages (on a character boundary) */
    char big[600];
    snprintf(big, sizeof big, "{\"lines\": [{\"sku\": \"A\", \"price\": \"%s\", \"quantity\": 1}]}",
             "一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十");
    char msg[512];
    assert_null(cart_json_parse(big, strlen(big), 2, "CNY", NULL, msg, sizeof msg));
    assert_string_equal(msg, "$.lines[0].price: \"一二三四五六七八九十一二三...\" is not an amount: expected "
                             "digits with an optional '.' and up to 2 decimals, e.g. \"12.50\"");
}

static void test_did_you_mean(void **state)
{
    (void)state;
    assert_int_equal(cart_json_edit_distance("quantiy", "quantity", 3), 1);
    assert_int_equal(cart_json_edit_distance("SKU", "sku", 3), 0);       /* case-insensitive */
    assert_int_equal(cart_json_edit_distance("abc", "xyzxyzxyz", 2), 3); /* capped at cap + 1 */
    assert_true(cart_json_is_similar("member_dya", "member_day"));
    assert_true(cart_json_is_similar("prise", "price"));
    assert_false(cart_json_is_similar("qty", "quantity"));
    assert_false(cart_json_is_similar("id", "sku"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_cart_cny),           cmocka_unit_test(test_jpy_and_defaults),
        cmocka_unit_test(test_invalid_carts),           cmocka_unit_test(test_embedded_nul),
        cmocka_unit_test(test_million_lines),           cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_prescan_ignores_strings), cmocka_unit_test(test_parse_file),
        cmocka_unit_test(test_error_truncation),        cmocka_unit_test(test_did_you_mean),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
