/* test_codegen_limits.c - the code generator keeps what it emits within what the VM accepts.
 *
 * Found while fuzzing (tests/fuzz/regressions/fuzz_compile/): expressions nested deeper than the
 * verifier's stack limits (64 scalars, 32 item sets; lets count, since they are expanded where
 * they are used) used to compile into a program the loader refused, reported as "internal error:
 * the compiled program does not verify"; and a chain of lets each using the previous one twice
 * doubled the code at every link until memory ran out. Both must now give a clear error at the
 * expression, and everything up to the limits must still compile and load.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler.h"

typedef struct outcome {
    bool ok;
    int errors;
    char first[512]; /* the first error's message */
    int line;        /* and its line */
} outcome;

static outcome compile(const char *text) {
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
static char *nested_sum(int levels) {
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

/* let a0 = items where sku = "x"; let aK = items union a(K-1): aK holds K + 2 sets at its deepest
 * (SET_ALL for each level, then SET_ALL and SET_SKU of a0). `doubling` instead makes each link
 * `a(K-1) union a(K-1)` (two sets at most, but twice the code). */
static char *let_chain(int links, bool doubling) {
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

static void test_scalar_depth(void **state) {
    (void)state;
    char *t = nested_sum(63); /* 64 values: the limit */
    outcome o = compile(t);
    free(t);
    assert_true(o.ok);

    t = nested_sum(64); /* 65 values */
    o = compile(t);
    free(t);
    assert_false(o.ok);
    assert_int_equal(o.errors, 1);
    assert_non_null(strstr(o.first, "nested too deeply"));
    assert_null(strstr(o.first, "internal error"));
    assert_int_equal(o.line, 3); /* the `when` */
}

static void test_set_depth(void **state) {
    (void)state;
    char *t = let_chain(30, false); /* 32 sets: the limit */
    outcome o = compile(t);
    free(t);
    assert_true(o.ok);

    t = let_chain(31, false); /* 33 sets */
    o = compile(t);
    free(t);
    assert_false(o.ok);
    assert_int_equal(o.errors, 1);
    assert_non_null(strstr(o.first, "nested too deeply"));
    assert_int_equal(o.line, 35); /* the action using a31 */
}

static void test_exponential_lets(void **state) {
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

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scalar_depth),
        cmocka_unit_test(test_set_depth),
        cmocka_unit_test(test_exponential_lets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
