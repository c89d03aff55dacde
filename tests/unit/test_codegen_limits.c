/* test_codegen_limits.c - the code generator keeps what it emits within what the VM accepts.
 *
 * Found while fuzzing (tests/fuzz/regressions/fuzz_compile/): expressions nested deeper than the
 * verifier's stack limit (VERIFY_MAX_STACK values and item sets together; lets count, since they are expanded where
 * they are used) used to compile into a program the loader refused, reported as "internal error:
 * the compiled program does not verify"; and a chain of lets each using the previous one twice
 * doubled the code at every link until memory ran out. Both must now give a clear error at the
 * expression, and everything up to the limits must still compile and load.
 *
 * Found by reading the code generator for more such limits: fixed arrays silently dropped the
 * 65th and later conditions of a rule (so it applied when they failed), the 257th and later
 * strings of a list (`customer.id in [...]` never matched them), and broke numeric lists of more
 * than 257 entries (internal error). Those now have no limit; the tests evaluate the programs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler/compiler.h"
#include "verify.h"

typedef struct outcome {
    bool ok;
    int errors;
    char first[512]; /* the first error's message */
    int line;        /* and its line */
} outcome;

static outcome compile(const char *text)
{
    outcome o;
    memset(&o, 0, sizeof o);
    compiler c;
    compiler_init(&c);
    uint8_t *bytes = NULL;
    size_t len = 0;
    o.ok = compiler_compile_text(&c, "limits.perk", text, strlen(text), &bytes, &len);
    o.errors = c.diags.errors;
    diag_sort(&c.diags);
    for (int i = 0; i < c.diags.count; i++)
        if (c.diags.entries[i].severity == DIAG_ERROR) {
            snprintf(o.first, sizeof o.first, "%s", c.diags.entries[i].message);
            o.line = c.diags.entries[i].span.first_line;
            break;
        }
    if (o.ok) {
        /* what compiled must load */
        perk_error err;
        perk_program *p = perk_program_load(bytes, len, &err);
        assert_non_null(p);
        perk_program_free(p);
    }
    free(bytes);
    compiler_free(&c);
    return o;
}

/* `when (order.subtotal + (order.subtotal + ... order.subtotal)) >= ¥1` with `levels` additions:
 * it holds levels + 1 values at its deepest. */
static char *nested_sum(int levels)
{
    size_t cap = 256 + (size_t)levels * 40;
    char *t = malloc(cap);
    assert_non_null(t);
    size_t n = (size_t)snprintf(t, cap, "ruleset \"t\" { currency CNY }\npromotion p {\n  when ");
    for (int i = 0; i < levels; i++) n += (size_t)snprintf(t + n, cap - n, "(order.subtotal + ");
    n += (size_t)snprintf(t + n, cap - n, "order.subtotal");
    for (int i = 0; i < levels; i++) n += (size_t)snprintf(t + n, cap - n, ")");
    snprintf(t + n, cap - n, " >= ¥1\n  then 10%% off order\n}\n");
    return t;
}

/* let a0 = items where sku = "x"; let aK = items union a(K-1): aK holds K + 1 sets at its deepest
 * (SET_ALL for each level, then SET_SKU of a0, which `items where` compiles to alone). `doubling` instead makes each link
 * `a(K-1) union a(K-1)` (two sets at most, but twice the code). */
static char *let_chain(int links, bool doubling)
{
    size_t cap = 256 + (size_t)links * 64;
    char *t = malloc(cap);
    assert_non_null(t);
    size_t n = (size_t)snprintf(t, cap, "ruleset \"t\" { currency CNY }\nlet a0 = items where sku = \"x\"\n");
    for (int i = 1; i <= links; i++)
        n += (size_t)(doubling ? snprintf(t + n, cap - n, "let a%d = a%d union a%d\n", i, i - 1, i - 1)
                               : snprintf(t + n, cap - n, "let a%d = items union a%d\n", i, i - 1));
    snprintf(t + n, cap - n, "promotion p {\n  then 10%% off a%d\n}\n", links);
    return t;
}

/* let s0 = order.subtotal; let sK = order.subtotal + sK-1: sK holds K + 1 values at its deepest.
 * A single expression cannot get there (the parser stops at 256 levels of nesting), but lets are
 * expanded where they are used, so a chain of them can. */
static char *let_sum_chain(int links)
{
    size_t cap = 256 + (size_t)links * 64;
    char *t = malloc(cap);
    assert_non_null(t);
    size_t n = (size_t)snprintf(t, cap, "ruleset \"t\" { currency CNY }\nlet s0 = order.subtotal\n");
    for (int i = 1; i <= links; i++)
        n += (size_t)snprintf(t + n, cap - n, "let s%d = order.subtotal + s%d\n", i, i - 1);
    snprintf(t + n, cap - n, "promotion p {\n  when s%d >= ¥1\n  then 10%% off order\n}\n", links);
    return t;
}

static void test_scalar_depth(void **state)
{
    (void)state;
    char *t = nested_sum(200); /* 201 values in one expression: fine */
    outcome o = compile(t);
    free(t);
    assert_true(o.ok);

    t = let_sum_chain(VERIFY_MAX_STACK - 1); /* exactly the verifier's limit */
    o = compile(t);
    free(t);
    assert_true(o.ok);

    t = let_sum_chain(VERIFY_MAX_STACK); /* one past it */
    o = compile(t);
    free(t);
    assert_false(o.ok);
    assert_int_equal(o.errors, 1);
    assert_non_null(strstr(o.first, "nested too deeply"));
    assert_null(strstr(o.first, "internal error"));
    assert_int_equal(o.line, VERIFY_MAX_STACK + 4); /* the `when` */
}

static void test_set_depth(void **state)
{
    (void)state;
    char *t = let_chain(VERIFY_MAX_STACK - 1, false); /* the limit: VERIFY_MAX_STACK sets */
    outcome o = compile(t);
    free(t);
    assert_true(o.ok);

    t = let_chain(VERIFY_MAX_STACK, false); /* one past it */
    o = compile(t);
    free(t);
    assert_false(o.ok);
    assert_int_equal(o.errors, 1);
    assert_non_null(strstr(o.first, "nested too deeply"));
    assert_int_equal(o.line, VERIFY_MAX_STACK + 4); /* the action using the last let */
}

static void test_exponential_lets(void **state)
{
    (void)state;
    char *t = let_chain(12, true); /* 2^12 copies of a0: about 12000 instructions, fine */
    outcome o = compile(t);
    free(t);
    assert_true(o.ok);

    t = let_chain(60, true); /* 2^60 copies: refused at 2^20 instructions, at once */
    o = compile(t);
    free(t);
    assert_false(o.ok);
    assert_int_equal(o.errors, 1);
    assert_non_null(strstr(o.first, "more than 1048576 instructions"));
    assert_int_equal(o.line, 64);
}

/* Compiles `text`, evaluates one cart (a customer with `id` and `orders`, one line of ¥100) and
 * returns whether promotion 0 applied. */
static bool applies(const char *text, const char *customer_id, int64_t orders)
{
    compiler c;
    compiler_init(&c);
    uint8_t *bytes = NULL;
    size_t len = 0;
    bool ok = compiler_compile_text(&c, "limits.perk", text, strlen(text), &bytes, &len);
    if (!ok) diag_print_text(&c.diags, stderr, false);
    compiler_free(&c);
    assert_true(ok);
    perk_error err;
    perk_program *prog = perk_program_load(bytes, len, &err);
    free(bytes);
    assert_non_null(prog);
    perk_context *ctx = perk_context_new(prog, NULL, &err);
    assert_non_null(ctx);
    perk_customer cu = { .id = customer_id, .order_count = orders, .has_order_count = true };
    perk_order o = { .time = 1772625600 }; /* 2026-03-04 */
    perk_line l = { .sku = "A", .unit_price = 10000, .quantity = 1 };
    assert_int_equal(perk_cart_set_customer(ctx, &cu), PERK_OK);
    assert_int_equal(perk_cart_set_order(ctx, &o), PERK_OK);
    assert_int_equal(perk_cart_add_line(ctx, &l), PERK_OK);
    const perk_result *r = perk_evaluate(ctx);
    assert_int_equal(r->status, PERK_OK);
    assert_int_equal(r->n_promotions, 1);
    bool applied = r->promotions[0].reason == PERK_REASON_APPLIED;
    if (applied) assert_int_equal(r->discount, 1000); /* 10% of ¥100.00 */
    perk_context_free(ctx);
    perk_program_free(prog);
    return applied;
}

/* 64 conditions that hold, then one that holds only for a customer with orders. */
static void test_many_conditions(void **state)
{
    (void)state;
    char text[4096];
    size_t n = (size_t)snprintf(text, sizeof text, "ruleset \"t\" { currency CNY }\npromotion p {\n");
    for (int i = 0; i < 64; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, "  when order.subtotal >= ¥1\n");
    snprintf(text + n, sizeof text - n, "  when customer.orders >= 1\n  then 10%% off order\n}\n");
    assert_true(applies(text, NULL, 3));
    assert_false(applies(text, NULL, 0)); /* the 65th condition counts */
}

/* `customer.id in [...]` with 300 strings, and `customer.orders in [...]` with 300 numbers. */
static void test_long_lists(void **state)
{
    (void)state;
    size_t cap = 8192;
    char *text = malloc(cap);
    assert_non_null(text);
    size_t n =
        (size_t)snprintf(text, cap, "ruleset \"t\" { currency CNY }\npromotion p {\n  when customer.id in [");
    for (int i = 0; i < 300; i++) n += (size_t)snprintf(text + n, cap - n, "%s\"c%d\"", i ? ", " : "", i);
    snprintf(text + n, cap - n, "]\n  then 10%% off order\n}\n");
    assert_true(applies(text, "c0", 0));
    assert_true(applies(text, "c255", 0));
    assert_true(applies(text, "c256", 0));
    assert_true(applies(text, "c299", 0));
    assert_false(applies(text, "c300", 0));

    n = (size_t)snprintf(text, cap,
                         "ruleset \"t\" { currency CNY }\npromotion p {\n  when customer.orders in [");
    for (int i = 0; i < 300; i++) n += (size_t)snprintf(text + n, cap - n, "%s%d", i ? ", " : "", i * 2);
    snprintf(text + n, cap - n, "]\n  then 10%% off order\n}\n");
    assert_true(applies(text, NULL, 0));
    assert_true(applies(text, NULL, 598)); /* the last entry */
    assert_false(applies(text, NULL, 599));
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scalar_depth),     cmocka_unit_test(test_set_depth),
        cmocka_unit_test(test_exponential_lets), cmocka_unit_test(test_many_conditions),
        cmocka_unit_test(test_long_lists),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
