/* test_unknown_parity.c - the C API and cart JSON agree on what is unknown (issue 14, item 2).
 *
 * For every fact that can be unknown (docs/semantics.md, "Unknown facts") the same cart is
 * evaluated four ways: through perk_cart_* with a C struct that leaves the field zeroed, and
 * through cart JSON without the key; then both again with the field given. Each way must give the
 * same result, promotion by promotion (reason, unknown fact, discount) and in total. The rules
 * hold three promotions per fact: `F is known`, a comparison C on it and `not (C)`, so that the
 * test also asserts the three-valued outcome: without the field, none of the three applies (and
 * the comparison names the fact as unknown); with it, `is known` and exactly one of C, not C do.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "compiler/compiler.h"
#include "json/cart_json.h"
#include "perk.h"

/* One fact a cart may lack: its rules (three promotions: NAME_k, NAME_c, NAME_n) and how it is
 * left out. `also` lists other facts the same field makes unknown (the birthday gives three). */
typedef struct fact_case {
    const char *name;        /* promotion id prefix */
    const char *fact;        /* perk_unknown_name() of the fact */
    const char *known, *cmp; /* `... is known` and the comparison, as rules */
    bool item;               /* an item field: the promotions take ¥1 off each line */
} fact_case;

static const fact_case cases[] = {
    { "id", "customer.id", "customer.id is known", "customer.id = \"c1\"", false },
    { "tier", "customer.tier", "customer.tier is known", "customer.tier >= gold", false },
    { "bday", "customer.birthday", "customer.birthday is known", "customer.birthday < 2000-01-01", false },
    { "isbd", "customer.is_birthday", "customer.is_birthday is known", "customer.is_birthday", false },
    { "bdm", "customer.birthday_month", "customer.birthday_month is known", "customer.birthday_month",
      false },
    { "first", "customer.first_order", "customer.first_order is known", "customer.first_order", false },
    { "orders", "customer.orders", "customer.orders is known", "customer.orders >= 2", false },
    { "since", "customer.member_since", "customer.member_since is known",
      "today - customer.member_since >= 365 days", false },
    { "points", "customer.points", "customer.points is known", "customer.points >= 100", false },
    { "channel", "order.channel", "order.channel is known", "order.channel = \"app\"", false },
    { "margin", "margin", "margin is known", "margin >= 20%", true },
    { "attr", NULL, "attr(\"color\") is known", "attr(\"color\") != \"blue\"", true },
    { "region", "order.region", "order.region is known", "order.region in [\"新疆\", \"西藏\"]", false },
    { "oattr", "order.attr(...)", "order.attr(\"buyer\") is known", "order.attr(\"buyer\") = \"company\"", false },
    { "store", NULL, "store is known", "store = \"A\"", true },
};
#define N_CASES (sizeof cases / sizeof cases[0])

/* The fields a cart can leave out; several facts may share one (the birthday). */
enum field {
    F_ID,
    F_TIER,
    F_BIRTHDAY,
    F_FIRST,
    F_ORDERS,
    F_SINCE,
    F_POINTS,
    F_CHANNEL,
    F_MARGIN,
    F_ATTR,
    F_REGION,
    F_OATTR,
    F_STORE,
    F_COUNT
};
static const enum field field_of[N_CASES] = { F_ID,     F_TIER,  F_BIRTHDAY, F_BIRTHDAY, F_BIRTHDAY, F_FIRST,
                                              F_ORDERS, F_SINCE, F_POINTS,   F_CHANNEL,  F_MARGIN,   F_ATTR,
                                              F_REGION, F_OATTR, F_STORE };

static perk_program *compile_rules(void)
{
    char src[8192];
    size_t n =
        (size_t)snprintf(src, sizeof src,
                         "ruleset \"parity\" { currency CNY }\n"
                         "tier silver { spend ¥1000 within 365 days }\n"
                         "tier gold { spend ¥5000 within 365 days }\n"
                         "promotion member \"is_member\" { when customer.is_member then ¥1 off order }\n");
    for (size_t i = 0; i < N_CASES; i++) {
        const fact_case *f = &cases[i];
        if (f->item)
            n += (size_t)snprintf(src + n, sizeof src - n,
                                  "promotion %s_k { then ¥1 off each items where %s }\n"
                                  "promotion %s_c { then ¥1 off each items where %s }\n"
                                  "promotion %s_n { then ¥1 off each items where not (%s) }\n",
                                  f->name, f->known, f->name, f->cmp, f->name, f->cmp);
        else
            n += (size_t)snprintf(src + n, sizeof src - n,
                                  "promotion %s_k { when %s then ¥1 off order }\n"
                                  "promotion %s_c { when %s then ¥1 off order }\n"
                                  "promotion %s_n { when not (%s) then ¥1 off order }\n",
                                  f->name, f->known, f->name, f->cmp, f->name, f->cmp);
    }
    assert_true(n < sizeof src);
    compiler cc;
    compiler_init(&cc);
    uint8_t *bytes = NULL;
    size_t len = 0;
    bool ok = compiler_compile_text(&cc, "parity.perk", src, n, &bytes, &len);
    if (!ok) {
        diag_sort(&cc.diags);
        diag_print_text(&cc.diags, stderr, false);
    }
    compiler_free(&cc);
    assert_true(ok);
    perk_error err;
    perk_program *prog = perk_program_load(bytes, len, &err);
    free(bytes);
    if (!prog) fail_msg("%s", err.message);
    return prog;
}

/* 2026-03-04 12:00 UTC: the birthday 1990-03-04 is today. */
#define ORDER_TIME 1772625600LL

/* The cart through the C API, `missing` left zeroed (F_COUNT: nothing missing). */
static const perk_result *eval_c(perk_context *ctx, enum field missing)
{
    static const perk_attr attrs[] = { { "color", "red" } };
    static const perk_attr order_attrs[] = { { "buyer", "company" } };
    perk_customer cu = PERK_CUSTOMER_INIT;
    if (missing != F_ID) cu.id = "c1";
    if (missing != F_TIER) cu.tier = "gold";
    if (missing != F_BIRTHDAY) cu.birthday_year = 1990, cu.birthday_month = 3, cu.birthday_day = 4;
    if (missing != F_FIRST) cu.first_order = true, cu.has_first_order = true;
    if (missing != F_ORDERS) cu.order_count = 3, cu.has_order_count = true;
    if (missing != F_SINCE) cu.member_since_days = 19723, cu.has_member_since = true; /* 2024-01-01 */
    if (missing != F_POINTS) cu.points_balance = 500, cu.has_points_balance = true;
    perk_order o = PERK_ORDER_INIT;
    o.time = ORDER_TIME;
    if (missing != F_CHANNEL) o.channel = "app";
    if (missing != F_REGION) o.region = "新疆";
    if (missing != F_OATTR) o.attrs = order_attrs, o.n_attrs = 1;
    perk_line l = PERK_LINE_INIT;
    l.sku = "A";
    l.unit_price = 10000;
    l.quantity = 1;
    if (missing != F_MARGIN) l.margin_ppm = 300000, l.has_margin = true;
    if (missing != F_ATTR) l.attrs = attrs, l.n_attrs = 1;
    if (missing != F_STORE) l.store = "A";
    perk_cart_reset(ctx);
    assert_int_equal(perk_cart_set_customer(ctx, &cu), PERK_OK);
    assert_int_equal(perk_cart_set_order(ctx, &o), PERK_OK);
    assert_int_equal(perk_cart_add_line(ctx, &l), PERK_OK);
    const perk_result *r = perk_evaluate(ctx);
    assert_int_equal(r->status, PERK_OK);
    return r;
}

/* The same cart as JSON, the key of `missing` left out. */
static const perk_result *eval_json(perk_context *ctx, const perk_program *prog, enum field missing,
                                    cart_doc **doc)
{
    char text[1024];
    snprintf(
        text, sizeof text,
        "{\"customer\": {%s%s%s%s%s%s%s\"tags\": []},\n"
        " \"order\": {\"time\": \"2026-03-04T12:00:00Z\"%s%s%s},\n"
        " \"lines\": [{\"sku\": \"A\", \"price\": \"100.00\", \"quantity\": 1%s%s%s}]}",
        missing != F_ID ? "\"id\": \"c1\", " : "", missing != F_TIER ? "\"tier\": \"gold\", " : "",
        missing != F_BIRTHDAY ? "\"birthday\": \"1990-03-04\", " : "",
        missing != F_FIRST ? "\"first_order\": true, " : "", missing != F_ORDERS ? "\"orders\": 3, " : "",
        missing != F_SINCE ? "\"member_since\": \"2024-01-01\", " : "",
        missing != F_POINTS ? "\"points\": 500, " : "", missing != F_CHANNEL ? ", \"channel\": \"app\"" : "",
        missing != F_REGION ? ", \"region\": \"新疆\"" : "",
        missing != F_OATTR ? ", \"attrs\": {\"buyer\": \"company\"}" : "",
        missing != F_MARGIN ? ", \"margin\": \"30%\"" : "",
        missing != F_ATTR ? ", \"attrs\": {\"color\": \"red\"}" : "",
        missing != F_STORE ? ", \"store\": \"A\"" : "");
    char err[256];
    *doc = cart_json_parse(text, strlen(text), 2, "CNY", NULL, err, sizeof err);
    if (!*doc) fail_msg("%s\n%s", err, text);
    assert_int_equal(cart_json_feed(*doc, ctx, prog, err, sizeof err), PERK_OK);
    const perk_result *r = perk_evaluate(ctx);
    assert_int_equal(r->status, PERK_OK);
    return r;
}

typedef struct outcome {
    perk_reason reason[64];
    uint32_t unknown[64];
    int64_t discount[64], total, payable;
    uint32_t n;
} outcome;

static void take(const perk_result *r, outcome *o)
{
    assert_true(r->n_promotions <= 64);
    o->n = r->n_promotions;
    for (uint32_t i = 0; i < r->n_promotions; i++) {
        o->reason[i] = r->promotions[i].reason;
        o->unknown[i] = r->promotions[i].unknown_fact;
        o->discount[i] = r->promotions[i].discount;
    }
    o->total = r->discount;
    o->payable = r->payable;
}

static const perk_promotion_result *find(const perk_program *prog, const perk_result *r, const char *prefix,
                                         const char *suffix)
{
    char id[64];
    snprintf(id, sizeof id, "%s%s", prefix, suffix);
    long k = perk_program_find_promotion(prog, id);
    assert_true(k >= 0);
    for (uint32_t i = 0; i < r->n_promotions; i++)
        if (r->promotions[i].promotion == (uint32_t)k) return &r->promotions[i];
    fail_msg("no result for %s", id);
    return NULL;
}

static void test_every_fact_both_ways(void **state)
{
    (void)state;
    perk_program *prog = compile_rules();
    perk_context *ctx = perk_context_new(prog, NULL, NULL);
    assert_non_null(ctx);
    for (int m = 0; m <= F_COUNT; m++) {
        enum field missing = (enum field)m; /* F_COUNT: every field given */
        outcome c, j;
        const perk_result *r = eval_c(ctx, missing);
        take(r, &c);
        for (size_t i = 0; i < N_CASES; i++) {
            const fact_case *f = &cases[i];
            const perk_promotion_result *k = find(prog, r, f->name, "_k"), *cm = find(prog, r, f->name, "_c"),
                                        *nt = find(prog, r, f->name, "_n");
            if (field_of[i] == missing) {
                /* unknown: not known, and neither the comparison nor its negation holds */
                assert_int_not_equal(k->reason, PERK_REASON_APPLIED);
                assert_int_not_equal(cm->reason, PERK_REASON_APPLIED);
                assert_int_not_equal(nt->reason, PERK_REASON_APPLIED);
                if (!f->item) {
                    assert_string_equal(perk_unknown_name(cm->unknown_fact), f->fact);
                    assert_string_equal(perk_unknown_name(nt->unknown_fact), f->fact);
                    assert_int_equal(k->unknown_fact, 0); /* `is known` itself is never unknown */
                }
            } else {
                assert_int_equal(k->reason, PERK_REASON_APPLIED);
                assert_true((cm->reason == PERK_REASON_APPLIED) != (nt->reason == PERK_REASON_APPLIED));
                assert_int_equal(cm->unknown_fact, 0);
                assert_int_equal(nt->unknown_fact, 0);
            }
        }
        const perk_promotion_result *member = find(prog, r, "member", "");
        assert_int_equal(member->reason == PERK_REASON_APPLIED, missing != F_SINCE);
        cart_doc *doc = NULL;
        take(eval_json(ctx, prog, missing, &doc), &j);
        cart_json_free(doc);
        assert_int_equal(c.n, j.n);
        for (uint32_t i = 0; i < c.n; i++) {
            assert_int_equal(c.reason[i], j.reason[i]);
            assert_int_equal(c.unknown[i], j.unknown[i]);
            assert_int_equal(c.discount[i], j.discount[i]);
        }
        assert_int_equal(c.total, j.total);
        assert_int_equal(c.payable, j.payable);
    }
    perk_context_free(ctx);
    perk_program_free(prog);
}

/* A zeroed struct knows nothing: every fact that can be unknown is, as in an empty JSON cart. */
static void test_zeroed_structs_are_unknown(void **state)
{
    (void)state;
    perk_program *prog = compile_rules();
    perk_context *ctx = perk_context_new(prog, NULL, NULL);
    perk_customer cu = PERK_CUSTOMER_INIT;
    perk_order o = PERK_ORDER_INIT;
    perk_line l = PERK_LINE_INIT;
    o.time = ORDER_TIME;
    l.sku = "A";
    l.unit_price = 10000;
    l.quantity = 1;
    perk_cart_reset(ctx);
    assert_int_equal(perk_cart_set_customer(ctx, &cu), PERK_OK);
    assert_int_equal(perk_cart_set_order(ctx, &o), PERK_OK);
    assert_int_equal(perk_cart_add_line(ctx, &l), PERK_OK);
    const perk_result *r = perk_evaluate(ctx);
    assert_int_equal(r->status, PERK_OK);
    /* nothing applies: ¥100.00 is paid in full (every promotion needs a known fact) */
    assert_int_equal(r->discount, 0);
    assert_int_equal(r->payable, 10000);
    for (size_t i = 0; i < N_CASES; i++)
        if (!cases[i].item)
            assert_string_equal(perk_unknown_name(find(prog, r, cases[i].name, "_c")->unknown_fact),
                                cases[i].fact);
    perk_context_free(ctx);
    perk_program_free(prog);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_fact_both_ways),
        cmocka_unit_test(test_zeroed_structs_are_unknown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
