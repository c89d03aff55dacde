/* test_limits.c - every configurable limit, at the limit and one past it, with its error.
 *
 * Compiler (set on a `compiler` after compiler_init): sources.max_bytes (rule file size, default
 * 8 MiB), sources.max_depth (expression nesting, default 256), max_rules (promotions + earn rules +
 * multipliers, default 10,000); fixed: includes 16 deep, money literals up to INT64_MAX minor units.
 * Runtime (perk_limits): max_lines, max_quantity, max_money, max_tags (line tags, customer tags,
 * line attributes), max_coupons, instruction_budget, max_rules, and the validation of the limits
 * themselves. Cart JSON: nesting depth 32.
 * And a ruleset at the language's limits (10,000 rules, expressions nested to the maximum) compiles
 * and evaluates.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "json/cart_json.h"
#include "compiler/compiler.h"
#include "compiler/parse.h"
#include "perk.h"

/* ------------------------------------------------------------------------- helpers */

typedef struct text {
    char *p;
    size_t len, cap;
} text;

static void put(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(text *t, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        size_t room = t->cap - t->len;
        int n = vsnprintf(t->p ? t->p + t->len : NULL, t->p ? room : 0, fmt, ap);
        va_end(ap);
        assert_true(n >= 0);
        if (t->p && (size_t)n < room) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = t->cap ? t->cap : 1024;
        while (cap < t->len + (size_t)n + 1) cap *= 2;
        t->p = realloc(t->p, cap);
        assert_non_null(t->p);
        t->cap = cap;
    }
}

/* Pads t with a comment so that it is exactly `size` bytes long (size > t->len + 2). */
static void pad_to(text *t, size_t size)
{
    assert_true(size >= t->len + 2);
    size_t n = size - t->len;
    if (t->cap < size + 1) {
        t->p = realloc(t->p, size + 1);
        assert_non_null(t->p);
        t->cap = size + 1;
    }
    t->p[t->len] = '#';
    memset(t->p + t->len + 1, 'x', n - 2);
    t->p[size - 1] = '\n';
    t->p[size] = '\0';
    t->len = size;
}

/* Compiler limits for one compilation (0 = the default). */
typedef struct climits {
    size_t max_bytes;
    int max_depth, max_rules;
} climits;

/* Compiles src; returns the verified program or NULL. *first gets the code of the first error
 * (or -1) and msg its message. */
static perk_program *compile(const char *src, size_t len, climits lim, int *first, char *msg, size_t cap)
{
    compiler c;
    compiler_init(&c);
    c.sources.max_bytes = lim.max_bytes;
    c.sources.max_depth = lim.max_depth;
    c.max_rules = lim.max_rules;
    uint8_t *bytes = NULL;
    size_t n = 0;
    bool ok = compiler_compile_text(&c, "limits.perk", src, len, &bytes, &n);
    *first = -1;
    if (msg) msg[0] = '\0';
    for (int i = 0; i < c.diags.count; i++)
        if (diag_code_severity(c.diags.entries[i].code) == DIAG_ERROR) {
            *first = (int)c.diags.entries[i].code;
            if (msg) snprintf(msg, cap, "%s", c.diags.entries[i].message);
            break;
        }
    compiler_free(&c);
    if (!ok) {
        assert_int_not_equal(*first, -1);
        return NULL;
    }
    perk_error err;
    perk_program *prog = perk_program_load(bytes, n, &err);
    free(bytes);
    if (!prog) fail_msg("load: %s", err.message);
    return prog;
}

static perk_program *compile_ok(const char *src, climits lim)
{
    int first;
    char msg[300];
    perk_program *p = compile(src, strlen(src), lim, &first, msg, sizeof msg);
    if (!p) fail_msg("does not compile: %s [%s]", msg, diag_code_id((diag_code)first));
    return p;
}

/* The source must fail with `code`, and the message must contain `part`. */
static void compile_fails(const char *src, size_t len, climits lim, diag_code code, const char *part)
{
    int first;
    char msg[300];
    perk_program *p = compile(src, len, lim, &first, msg, sizeof msg);
    if (p) {
        perk_program_free(p);
        fail_msg("compiled, expected [%s]", diag_code_id(code));
    }
    if (first != (int)code)
        fail_msg("first error [%s] %s, expected [%s]", diag_code_id((diag_code)first), msg,
                 diag_code_id(code));
    if (!strstr(msg, part)) fail_msg("message '%s' lacks '%s'", msg, part);
}

static perk_context *context(perk_program *prog, const perk_limits *lim)
{
    perk_error err;
    perk_context *ctx = perk_context_new(prog, lim, &err);
    if (!ctx) fail_msg("perk_context_new: %s", err.message);
    return ctx;
}

/* 2026-03-04 12:00 UTC, a Wednesday. */
#define T_NOON 1772625600LL

static void order(perk_context *ctx, int64_t shipping)
{
    perk_cart_reset(ctx);
    perk_order o = { .time = T_NOON, .shipping = shipping, .points_to_redeem = 0 };
    assert_int_equal(perk_cart_set_order(ctx, &o), PERK_OK);
}

static perk_status line(perk_context *ctx, const char *category, int64_t price, int64_t qty)
{
    perk_line l = { .sku = "SKU", .category = category, .unit_price = price, .quantity = qty };
    return perk_cart_add_line(ctx, &l);
}

static const perk_result *eval_ok(perk_context *ctx)
{
    const perk_result *r = perk_evaluate(ctx);
    if (r->status != PERK_OK) fail_msg("evaluate: %s", perk_context_error(ctx));
    return r;
}

static void assert_contains(const char *s, const char *part)
{
    if (!s || !strstr(s, part)) fail_msg("'%s' lacks '%s'", s ? s : "(null)", part);
}

#define HEADER "ruleset \"limits\" { currency CNY }\n"
static const climits DEFAULTS = { 0, 0, 0 };

/* ------------------------------------------------------------------------- compiler limits */

/* Source size: exactly max_bytes compiles, one byte more is file-too-large (at 1:1). Both at a
 * configured limit and at the default of 8 MiB. */
static void test_source_size(void **state)
{
    (void)state;
    source_set s;
    source_init(&s);
    assert_int_equal(source_limit(&s), SOURCE_MAX_BYTES);
    assert_int_equal(SOURCE_MAX_BYTES, 8u * 1024u * 1024u);
    source_free(&s);

    text t = { 0 };
    put(&t, HEADER "promotion p { then 10%% off order }\n");
    size_t base = t.len;
    pad_to(&t, 300);
    climits small = { 300, 0, 0 };
    int first;
    perk_program *p = compile(t.p, t.len, small, &first, NULL, 0);
    assert_non_null(p);
    perk_program_free(p);
    t.len = base;
    pad_to(&t, 301);
    compile_fails(t.p, t.len, small, DIAG_FILE_TOO_LARGE, "is too large (301 bytes; the limit is 300 bytes)");

    t.len = base;
    pad_to(&t, SOURCE_MAX_BYTES);
    p = compile(t.p, t.len, DEFAULTS, &first, NULL, 0);
    assert_non_null(p);
    perk_program_free(p);
    t.len = base;
    pad_to(&t, SOURCE_MAX_BYTES + 1);
    compile_fails(t.p, t.len, DEFAULTS, DIAG_FILE_TOO_LARGE, "the limit is 8388608 bytes");
    free(t.p);
}

/* `not` repeated k times before a fact: an expression of height k + 1. */
static char *nots(int k)
{
    text t = { 0 };
    put(&t, HEADER "promotion p {\n  when ");
    for (int i = 0; i < k; i++) put(&t, "not ");
    put(&t, "customer.first_order\n  then 10%% off order\n}\n");
    return t.p;
}

/* order.items + (order.items + (...)) with k additions, compared with k + 1: height k + 2. Its
 * right-nested shape keeps k values on the stack at once, the worst case for the VM's stacks. */
static char *additions(int k)
{
    text t = { 0 };
    put(&t, HEADER "promotion p {\n  when ");
    for (int i = 0; i < k; i++) put(&t, "order.items + (");
    put(&t, "order.items");
    for (int i = 0; i < k; i++) put(&t, ")");
    put(&t, " >= %d\n  then ¥1 off order\n}\n", k + 1);
    return t.p;
}

/* tea union (tea union (...)) with k unions as the target of a discount: height k + 1 (the set
 * `tea` is a name, a leaf); k sets on the stack at once. */
static char *unions(int k)
{
    text t = { 0 };
    put(&t, HEADER "let tea = items where category in \"tea\"\npromotion p {\n  then 10%% off ");
    for (int i = 0; i < k; i++) put(&t, "tea union (");
    put(&t, "tea");
    for (int i = 0; i < k; i++) put(&t, ")");
    put(&t, "\n}\n");
    return t.p;
}

/* Nesting: the deepest expression the default limit allows compiles, verifies and evaluates;
 * one level more is nesting-too-deep. A configured limit lowers it; a larger one does not raise it. */
static void test_nesting(void **state)
{
    (void)state;
    assert_int_equal(PARSE_MAX_DEPTH, 256);
    char *src = nots(255);
    perk_program *p = compile_ok(src, DEFAULTS);
    perk_program_free(p);
    free(src);
    src = nots(256);
    compile_fails(src, strlen(src), DEFAULTS, DIAG_NESTING_TOO_DEEP, "the limit is 256 levels");
    free(src);

    /* 254 additions of order.items (2 units) is 510 >= 255: applies, ¥1 off */
    src = additions(254);
    p = compile_ok(src, DEFAULTS);
    free(src);
    perk_context *ctx = context(p, NULL);
    order(ctx, 0);
    assert_int_equal(line(ctx, "tea", 1000, 2), PERK_OK);
    const perk_result *r = eval_ok(ctx);
    assert_int_equal(r->promotions[0].reason, PERK_REASON_APPLIED);
    assert_int_equal(r->discount, 100);
    perk_context_free(ctx);
    perk_program_free(p);
    src = additions(255);
    compile_fails(src, strlen(src), DEFAULTS, DIAG_NESTING_TOO_DEEP, "nested too deeply");
    free(src);

    /* 255 unions of the same set are that set: 10% of 2000 = 200 */
    src = unions(255);
    p = compile_ok(src, DEFAULTS);
    free(src);
    ctx = context(p, NULL);
    order(ctx, 0);
    assert_int_equal(line(ctx, "tea/green", 1000, 2), PERK_OK);
    assert_int_equal(line(ctx, "coffee", 500, 1), PERK_OK);
    r = eval_ok(ctx);
    assert_int_equal(r->discount, 200);
    perk_context_free(ctx);
    perk_program_free(p);
    src = unions(256);
    compile_fails(src, strlen(src), DEFAULTS, DIAG_NESTING_TOO_DEEP, "nested too deeply");
    free(src);

    /* a configured limit of 10 levels */
    climits ten = { 0, 10, 0 };
    src = nots(9);
    perk_program_free(compile_ok(src, ten));
    free(src);
    src = nots(10);
    compile_fails(src, strlen(src), ten, DIAG_NESTING_TOO_DEEP, "the limit is 10 levels");
    free(src);
    /* above the default it stays 256: the parser's stack is sized for that */
    climits more = { 0, 1000, 0 };
    src = nots(256);
    compile_fails(src, strlen(src), more, DIAG_NESTING_TOO_DEEP, "the limit is 256 levels");
    free(src);
}

/* n rules: promotions, and an earn rule and a multiplier when asked. */
static char *rules(int promotions, bool earn_and_multiplier)
{
    text t = { 0 };
    put(&t, HEADER "let tea = items where category in \"tea\"\n");
    for (int i = 0; i < promotions; i++) {
        switch (i % 4) {
        case 0: put(&t, "promotion p%d { then ¥0.01 off order }\n", i); break;
        case 1:
            put(&t, "promotion p%d { when order.subtotal >= ¥%d then ¥0.01 off tea }\n", i, i % 100);
            break;
        case 2:
            put(&t, "promotion p%d { exclusive \"g%d\" priority %d then ¥0.01 off order }\n", i, i % 10, i);
            break;
        default: put(&t, "promotion p%d { requires coupon \"C%d\" then free shipping }\n", i, i); break;
        }
    }
    if (earn_and_multiplier)
        put(&t, "earn e { then 1 point per ¥1 on items }\nmultiplier m { then x2 on all }\n");
    return t.p;
}

/* Rule count: COMPILER_MAX_RULES (20,000) rules compile and a context with the default limits
 * evaluates them; one more is too-many-rules. The runtime's max_rules refuses a larger program. */
static void test_rule_count(void **state)
{
    (void)state;
    assert_int_equal(COMPILER_MAX_RULES, 20000);
    assert_int_equal(perk_limits_default().max_rules, COMPILER_MAX_RULES);
    char *src = rules(COMPILER_MAX_RULES, false);
    perk_program *p = compile_ok(src, DEFAULTS);
    free(src);
    assert_int_equal(perk_program_promotion_count(p), COMPILER_MAX_RULES);
    perk_context *ctx = context(p, NULL);
    order(ctx, 800);
    assert_int_equal(line(ctx, "tea", 100000, 1), PERK_OK);
    assert_int_equal(perk_cart_add_coupon(ctx, "C3", NULL, PERK_COUPON_UNCHECKED), PERK_OK);
    const perk_result *r = eval_ok(ctx);
    /* p%4 == 0: 5000 promotions of 1 cent; p%4 == 1: 5000 more (the subtotal stays >= ¥99: at
     * most ¥101 comes off a ¥1000 line); p%4 == 2: the first of each group, and i % 10 for
     * i = 2 (mod 4) takes 5 values: 5 cents; p3 (coupon C3) frees the shipping.
     * 5000 + 5000 + 5 = 10005 cents. */
    assert_int_equal(r->n_promotions, COMPILER_MAX_RULES);
    assert_int_equal(r->discount, 10005);
    assert_int_equal(r->shipping_after, 0);
    assert_int_equal(r->payable, 100000 - 10005);
    perk_context_free(ctx);

    /* the runtime's own limit: one rule fewer allowed is refused with a clear error */
    perk_limits lim = perk_limits_default();
    lim.max_rules = COMPILER_MAX_RULES - 1;
    perk_error err;
    assert_null(perk_context_new(p, &lim, &err));
    assert_int_equal(err.status, PERK_LIMIT);
    assert_contains(err.message,
                    "the program has 20000 rules (promotions, earn rules and multipliers), more than "
                    "max_rules = 19999");
    perk_program_free(p);

    src = rules(COMPILER_MAX_RULES + 1, false);
    compile_fails(src, strlen(src), DEFAULTS, DIAG_TOO_MANY_RULES,
                  "at most 20000 promotions, earn rules and multipliers together, and this is number 20001");
    free(src);

    /* configured: earn rules and multipliers count too (2 promotions + 1 + 1 = 4 rules) */
    src = rules(2, true);
    climits four = { 0, 0, 4 }, three = { 0, 0, 3 };
    p = compile_ok(src, four);
    compile_fails(src, strlen(src), three, DIAG_TOO_MANY_RULES, "at most 3 promotions");
    free(src);
    lim = perk_limits_default();
    lim.max_rules = 4;
    perk_context_free(context(p, &lim));
    lim.max_rules = 3;
    assert_null(perk_context_new(p, &lim, &err));
    assert_int_equal(err.status, PERK_LIMIT);
    assert_contains(err.message, "has 4 rules");
    perk_program_free(p);
}

/* Money in rules: anything up to INT64_MAX minor units is a literal; one more does not lex, and
 * constant arithmetic past it is an error (the runtime checks its own arithmetic). */
static void test_money_in_rules(void **state)
{
    (void)state;
    perk_program_free(compile_ok(
        HEADER "promotion p { when order.subtotal >= ¥92233720368547758.07 then 1% off order }\n", DEFAULTS));
    const char *over =
        HEADER "promotion p { when order.subtotal >= ¥92233720368547758.08 then 1% off order }\n";
    compile_fails(over, strlen(over), DEFAULTS, DIAG_NUMBER_TOO_LARGE, "92233720368547758.08");
    perk_program_free(
        compile_ok("ruleset \"j\" { currency JPY }\n"
                   "promotion p { when order.subtotal >= 9223372036854775807 JPY then 1% off order }\n",
                   DEFAULTS));
    const char *sum =
        HEADER "promotion p { when order.subtotal >= ¥92233720368547758.07 + ¥0.01 then 1% off order }\n";
    compile_fails(sum, strlen(sum), DEFAULTS, DIAG_CONSTANT_OVERFLOW, "");
}

/* Includes nest at most 16 files deep, the including file counted: main -> i3 -> ... -> i17
 * (16 files) compiles, main -> i2 -> ... -> i17 (17 files) does not. */
static void test_include_depth(void **state)
{
    (void)state;
    char dir[] = "/tmp/perk-limits-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    for (int i = 1; i <= 17; i++) {
        snprintf(path, sizeof path, "%s/i%d.perk", dir, i);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        if (i < 17) fprintf(f, "include \"i%d.perk\"\n", i + 1);
        fprintf(f, "promotion p%d { then ¥0.01 off order }\n", i);
        fclose(f);
    }
    for (int depth = 16; depth <= 17; depth++) {
        /* main includes i(19 - depth): with main, that chain is `depth` files deep */
        snprintf(path, sizeof path, "%s/main%d.perk", dir, depth);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fprintf(f, HEADER "include \"i%d.perk\"\n", 19 - depth);
        fclose(f);
        compiler c;
        compiler_init(&c);
        const char *paths[1] = { path };
        uint8_t *bytes = NULL;
        size_t len = 0;
        bool ok = compiler_compile_files(&c, paths, 1, &bytes, &len);
        free(bytes);
        if (depth == 16) {
            if (!ok) diag_print_text(&c.diags, stderr, false);
            assert_true(ok);
        } else {
            assert_false(ok);
            assert_int_equal(c.diags.entries[0].code, DIAG_INCLUDE_TOO_DEEP);
        }
        compiler_free(&c);
        remove(path);
    }
    for (int i = 1; i <= 17; i++) {
        snprintf(path, sizeof path, "%s/i%d.perk", dir, i);
        remove(path);
    }
    rmdir(dir);
}

/* ------------------------------------------------------------------------- runtime limits */

/* The defaults are the documented ones (docs/api.md, docs/security.md). */
static void test_runtime_defaults(void **state)
{
    (void)state;
    perk_limits l = perk_limits_default();
    assert_int_equal(l.max_lines, 10000);
    assert_int_equal(l.max_quantity, 1000000);
    assert_int_equal(l.max_money, 1000000000000000LL);
    assert_int_equal(l.max_tags, 64);
    assert_int_equal(l.max_coupons, 16);
    assert_int_equal(l.instruction_budget, 10000000);
    assert_int_equal(l.max_rules, 20000);
    assert_int_equal(l.max_hints, 16);
    assert_int_equal(l.explain, PERK_EXPLAIN_ALL);
}

/* Limits out of their own range are refused by perk_context_new. */
static void test_runtime_limit_validation(void **state)
{
    (void)state;
    perk_program *p = compile_ok(HEADER "promotion p { then 10% off order }\n", DEFAULTS);
    perk_limits l;
    perk_error err;
#define REFUSED(field_set, msg)                     \
    do {                                            \
        l = perk_limits_default();                  \
        field_set;                                  \
        assert_null(perk_context_new(p, &l, &err)); \
        assert_int_equal(err.status, PERK_INVALID); \
        assert_contains(err.message, msg);          \
    } while (0)
    REFUSED(l.max_lines = 0, "max_lines 0 must be between 1 and 1000000");
    REFUSED(l.max_lines = 1000001, "max_lines 1000001 must be between 1 and 1000000");
    REFUSED(l.max_quantity = 0, "max_quantity 0 must be at least 1");
    REFUSED(l.max_money = -1, "max_money -1 must not be negative");
    REFUSED(l.max_tags = 4097, "max_tags 4097 must be at most 4096");
    REFUSED(l.max_coupons = 4097, "max_coupons 4097 must be at most 4096");
    REFUSED(l.instruction_budget = 0, "instruction_budget must be at least 1");
    REFUSED(l.max_rules = 0, "max_rules must be at least 1");
    REFUSED(l.explain = (perk_explain)7, "explain 7 must be PERK_EXPLAIN_ALL or PERK_EXPLAIN_APPLIED");
#undef REFUSED
    /* the extremes of each range are fine */
    l = perk_limits_default();
    l.max_lines = 1;
    l.max_quantity = INT64_MAX;
    l.max_money = INT64_MAX;
    l.max_tags = 4096;
    l.max_coupons = 4096;
    l.instruction_budget = 1;
    l.max_rules = 1;
    perk_context_free(context(p, &l));
    perk_program_free(p);
}

/* Cart lines: max_lines lines evaluate, one more is PERK_LIMIT and poisons the cart until reset;
 * at a configured limit and at the default 10,000. */
static void test_cart_lines(void **state)
{
    (void)state;
    perk_program *p = compile_ok(HEADER "promotion p { then 10% off order }\n", DEFAULTS);
    uint32_t sizes[2] = { 3, 10000 };
    for (int k = 0; k < 2; k++) {
        perk_limits l = perk_limits_default();
        l.max_lines = sizes[k];
        perk_context *ctx = context(p, k == 1 ? NULL : &l);
        order(ctx, 0);
        for (uint32_t i = 0; i < sizes[k]; i++) assert_int_equal(line(ctx, "tea", 100, 1), PERK_OK);
        const perk_result *r = eval_ok(ctx);
        assert_int_equal(r->n_lines, sizes[k]);
        assert_int_equal(r->discount, (int64_t)sizes[k] * 10); /* 10% of 100 cents per line */
        order(ctx, 0);
        for (uint32_t i = 0; i < sizes[k]; i++) assert_int_equal(line(ctx, "tea", 100, 1), PERK_OK);
        assert_int_equal(line(ctx, "tea", 100, 1), PERK_LIMIT);
        char want[96];
        snprintf(want, sizeof want, "line %u: the cart has more than max_lines = %u lines", sizes[k] + 1,
                 sizes[k]);
        assert_contains(perk_context_error(ctx), want);
        assert_int_equal(perk_evaluate(ctx)->status, PERK_LIMIT);
        perk_context_free(ctx);
    }
    perk_program_free(p);
}

/* Quantity, money (unit price and shipping) and the line product. */
static void test_quantity_and_money(void **state)
{
    (void)state;
    perk_program *p = compile_ok(HEADER "promotion p { then 10% off order }\n", DEFAULTS);
    perk_context *ctx = context(p, NULL);
    /* quantity: 1,000,000 units of 1 cent; 10% of 1,000,000 = 100,000 */
    order(ctx, 0);
    assert_int_equal(line(ctx, "tea", 1, 1000000), PERK_OK);
    assert_int_equal(eval_ok(ctx)->discount, 100000);
    order(ctx, 0);
    assert_int_equal(line(ctx, "tea", 1, 1000001), PERK_INVALID);
    assert_contains(perk_context_error(ctx), "line 1: quantity 1000001 exceeds max_quantity 1000000");
    order(ctx, 0);
    assert_int_equal(line(ctx, "tea", 1, 0), PERK_INVALID);
    assert_contains(perk_context_error(ctx), "quantity 0 must be at least 1");
    /* money: a unit price and shipping of 10^15 minor units are accepted, one more is not */
    order(ctx, 1000000000000000LL);
    assert_int_equal(line(ctx, "tea", 1000000000000000LL, 1), PERK_OK);
    const perk_result *r = eval_ok(ctx);
    assert_int_equal(r->discount, 100000000000000LL);
    assert_int_equal(r->payable, 1000000000000000LL - 100000000000000LL + 1000000000000000LL);
    order(ctx, 0);
    assert_int_equal(line(ctx, "tea", 1000000000000001LL, 1), PERK_INVALID);
    assert_contains(perk_context_error(ctx),
                    "unit_price 1000000000000001 must be between 0 and 1000000000000000");
    perk_cart_reset(ctx);
    perk_order o = { .time = T_NOON, .shipping = 1000000000000001LL };
    assert_int_equal(perk_cart_set_order(ctx, &o), PERK_INVALID);
    assert_contains(perk_context_error(ctx),
                    "shipping 1000000000000001 must be between 0 and 1000000000000000");
    perk_context_free(ctx);

    /* with max_money at INT64_MAX the product price x quantity is what overflows */
    perk_limits l = perk_limits_default();
    l.max_money = INT64_MAX;
    ctx = context(p, &l);
    order(ctx, 0);
    assert_int_equal(line(ctx, "tea", INT64_MAX / 2, 2), PERK_OK);
    assert_int_equal(line(ctx, "tea", 2, 1), PERK_OVERFLOW); /* (2^63 - 2) + 2 */
    assert_contains(perk_context_error(ctx), "line 2: the cart subtotal overflows");
    assert_int_equal(perk_evaluate(ctx)->status, PERK_OVERFLOW);
    order(ctx, 0);
    assert_int_equal(line(ctx, "tea", INT64_MAX / 2 + 1, 2), PERK_OVERFLOW);
    assert_contains(perk_context_error(ctx), "x quantity 2 overflows");
    /* the largest cart that fits: payable = subtotal + shipping must fit too */
    order(ctx, 1);
    assert_int_equal(line(ctx, "tea", INT64_MAX, 1), PERK_OK);
    assert_int_equal(perk_evaluate(ctx)->status, PERK_OK); /* 10% off first: INT64_MAX - D + 1 fits */
    perk_context_free(ctx);
    perk_program_free(p);
}

/* Tags per line and per customer, attributes per line: max_tags (64) of each, then PERK_LIMIT. */
static void test_tags_and_attributes(void **state)
{
    (void)state;
    perk_program *p =
        compile_ok(HEADER "promotion p { when \"t63\" in customer.tags\n"
                          "  then 10% off items where \"t63\" in tags and attr(\"a63\") = \"v\" }\n",
                   DEFAULTS);
    perk_context *ctx = context(p, NULL);
    char names[65][16], keys[65][16];
    const char *tags[65];
    perk_attr attrs[65];
    for (int i = 0; i < 65; i++) {
        snprintf(names[i], sizeof names[i], "t%d", i);
        snprintf(keys[i], sizeof keys[i], "a%d", i);
        tags[i] = names[i];
        attrs[i] = (perk_attr){ keys[i], "v" };
    }
    for (int over = 0; over <= 1; over++) {
        size_t n = 64 + (size_t)over;
        /* customer tags */
        order(ctx, 0);
        perk_customer cu = { .tags = tags, .n_tags = n };
        assert_int_equal(perk_cart_set_customer(ctx, &cu), over ? PERK_LIMIT : PERK_OK);
        if (over) assert_contains(perk_context_error(ctx), "customer: 65 tags, at most 64 allowed");
        /* line tags */
        order(ctx, 0);
        perk_customer c64 = { .tags = tags, .n_tags = 64 };
        assert_int_equal(perk_cart_set_customer(ctx, &c64), PERK_OK);
        perk_line l = { .sku = "A",
                        .unit_price = 1000,
                        .quantity = 1,
                        .tags = tags,
                        .n_tags = n,
                        .attrs = attrs,
                        .n_attrs = 64 };
        assert_int_equal(perk_cart_add_line(ctx, &l), over ? PERK_LIMIT : PERK_OK);
        if (over)
            assert_contains(perk_context_error(ctx), "line 1: 65 tags, at most 64 allowed");
        else
            assert_int_equal(eval_ok(ctx)->discount, 100); /* t63 and a63 are seen: 10% of 1000 */
        /* line attributes */
        order(ctx, 0);
        l.n_tags = 64;
        l.n_attrs = n;
        assert_int_equal(perk_cart_add_line(ctx, &l), over ? PERK_LIMIT : PERK_OK);
        if (over) assert_contains(perk_context_error(ctx), "line 1: 65 attributes, at most 64 allowed");
    }
    perk_context_free(ctx);
    perk_program_free(p);
}

/* Many attr(...) comparisons (5,000 in 500 promotions, one pair shared by ten of them): the
 * compiler's pools and the context's attribute slots are built by hashing and sorting (they were
 * quadratic); the program still finds exactly the promotions whose pairs a line has. The
 * doubling check of the time is bench/scaling.sh (`make bench-scaling`), not a timed test. */
static void test_many_attr_comparisons(void **state)
{
    (void)state;
    text t = { 0 };
    put(&t, HEADER);
    for (int i = 0; i < 500; i++) {
        put(&t, "promotion p%d { when count(items where ", i);
        for (int j = 0; j < 10; j++)
            put(&t, "%sattr(\"k%d\") = \"v%d\"", j ? " or " : "", (i * 10 + j) % 97, i * 10 + j);
        if (i % 50 == 0) put(&t, " or attr(\"shared\") = \"yes\"");
        put(&t, ") >= 1 then ¥0.01 off order }\n");
    }
    perk_program *p = compile_ok(t.p, DEFAULTS);
    free(t.p);
    perk_context *ctx = context(p, NULL);
    /* k70 = v1234 is promotion 123's; shared = yes is in promotions 0, 50, ..., 450 */
    perk_attr attrs[] = { { "k70", "v1234" }, { "shared", "yes" }, { "k70", "v1235" } };
    order(ctx, 0);
    perk_line l = { .sku = "A", .unit_price = 1000, .quantity = 1, .attrs = attrs, .n_attrs = 2 };
    assert_int_equal(perk_cart_add_line(ctx, &l), PERK_OK);
    assert_int_equal(eval_ok(ctx)->discount, 11);
    /* a pair that exists in no promotion (k70 goes with v1234 only) matches nothing */
    order(ctx, 0);
    l.attrs = attrs + 2;
    l.n_attrs = 1;
    assert_int_equal(perk_cart_add_line(ctx, &l), PERK_OK);
    assert_int_equal(eval_ok(ctx)->discount, 0);
    perk_context_free(ctx);
    perk_program_free(p);
}

/* Coupons: max_coupons (16) codes, the 17th is PERK_LIMIT. */
static void test_coupons(void **state)
{
    (void)state;
    perk_program *p =
        compile_ok(HEADER "promotion p { requires coupon \"K15\" then ¥1 off order }\n", DEFAULTS);
    perk_context *ctx = context(p, NULL);
    order(ctx, 0);
    assert_int_equal(line(ctx, "tea", 1000, 1), PERK_OK);
    char codes[17][16];
    for (int i = 0; i < 17; i++) snprintf(codes[i], sizeof codes[i], "K%d", i);
    for (int i = 0; i < 16; i++)
        assert_int_equal(perk_cart_add_coupon(ctx, codes[i], NULL, PERK_COUPON_UNCHECKED), PERK_OK);
    const perk_result *r = eval_ok(ctx);
    assert_int_equal(r->n_coupons, 16);
    assert_int_equal(r->discount, 100);
    assert_int_equal(perk_cart_add_coupon(ctx, codes[16], NULL, PERK_COUPON_UNCHECKED), PERK_LIMIT);
    assert_contains(perk_context_error(ctx), "coupon K16: more than max_coupons = 16 coupons");
    assert_int_equal(perk_evaluate(ctx)->status, PERK_LIMIT);
    perk_context_free(ctx);
    perk_program_free(p);
}

/* Instruction budget: exactly the instructions an evaluation needs is enough, one fewer is
 * PERK_BUDGET with a message, never a partial result. */
static void test_instruction_budget(void **state)
{
    (void)state;
    perk_program *p =
        compile_ok(HEADER "let tea = items where category in \"tea\"\n"
                          "promotion a { when sum(tea) >= ¥10 and count(tea) >= 2 then 10% off tea }\n"
                          "promotion b { then every ¥10 on order: ¥1 off }\n"
                          "earn e { then 1 point per ¥1 on items }\n",
                   DEFAULTS);
    perk_context *ctx = context(p, NULL);
    order(ctx, 0);
    assert_int_equal(line(ctx, "tea", 1000, 2), PERK_OK);
    const perk_result *r = eval_ok(ctx);
    uint64_t need = r->instructions;
    int64_t payable = r->payable;
    assert_true(need > 5);
    perk_context_free(ctx);
    for (int k = 0; k <= 1; k++) {
        perk_limits l = perk_limits_default();
        l.instruction_budget = need - (uint64_t)k;
        ctx = context(p, &l);
        order(ctx, 0);
        assert_int_equal(line(ctx, "tea", 1000, 2), PERK_OK);
        r = perk_evaluate(ctx);
        if (k == 0) {
            assert_int_equal(r->status, PERK_OK);
            assert_int_equal(r->payable, payable);
        } else {
            assert_int_equal(r->status, PERK_BUDGET);
            assert_contains(perk_context_error(ctx), "budget");
            assert_int_equal(r->payable, 0); /* only status and instructions are set */
        }
        perk_context_free(ctx);
    }
    perk_program_free(p);
}

/* Cart JSON: nesting deeper than CART_JSON_MAX_DEPTH (32) is refused before a tree is built. */
static void test_cart_json_depth(void **state)
{
    (void)state;
    for (int depth = CART_JSON_MAX_DEPTH; depth <= CART_JSON_MAX_DEPTH + 1; depth++) {
        /* {"lines": [], "x": [[...]]}: the outer object is level 1, each array one more */
        text t = { 0 };
        put(&t, "{\"lines\": [], \"x\": ");
        for (int i = 1; i < depth; i++) put(&t, "[");
        for (int i = 1; i < depth; i++) put(&t, "]");
        put(&t, "}");
        char err[256] = "";
        cart_doc *doc = cart_json_parse(t.p, t.len, 2, "CNY", NULL, err, sizeof err);
        assert_null(doc); /* "x" is not a field either way */
        if (depth == CART_JSON_MAX_DEPTH) {
            assert_contains(err, "$.x: unknown field");
        } else {
            assert_contains(err, "nesting deeper than 32 levels");
        }
        free(t.p);
    }
}

/* ------------------------------------------------------------------------- all at once */

/* A ruleset at the language's limits: 10,000 rules (9,998 promotions, an earn rule and a
 * multiplier), some with expressions nested to the maximum, within the 8 MiB source limit,
 * compiles, loads with the default limits and evaluates a cart of 1,000 lines. */
static void test_ruleset_at_the_limits(void **state)
{
    (void)state;
    text t = { 0 };
    put(&t, HEADER "let tea = items where category in \"tea\"\n");
    for (int i = 0; i < COMPILER_MAX_RULES - 2; i++) {
        if (i % 1000 == 0) {
            /* 254 right-nested additions (height 256): 255 x items >= 1 */
            put(&t, "promotion deep%d { when ", i);
            for (int k = 0; k < 254; k++) put(&t, "order.items + (");
            put(&t, "order.items");
            for (int k = 0; k < 254; k++) put(&t, ")");
            put(&t, " >= 1\n  then ¥0.01 off ");
            for (int k = 0; k < 255; k++) put(&t, "tea union (");
            put(&t, "tea");
            for (int k = 0; k < 255; k++) put(&t, ")");
            put(&t, " }\n");
        } else {
            put(&t, "promotion p%d { when count(tea) >= %d then ¥0.01 off order }\n", i, i % 3);
        }
    }
    put(&t, "earn e { cap 1000000 then 1 point per ¥1 on items }\nmultiplier m { when order.items > 1 then "
            "x2 on all }\n");
    assert_true(t.len < SOURCE_MAX_BYTES);
    int first;
    char msg[300];
    perk_program *p = compile(t.p, t.len, DEFAULTS, &first, msg, sizeof msg);
    if (!p) fail_msg("does not compile: %s", msg);
    free(t.p);
    perk_context *ctx = context(p, NULL);
    order(ctx, 0);
    for (int i = 0; i < 1000; i++) assert_int_equal(line(ctx, i % 2 ? "tea" : "coffee", 1000, 1), PERK_OK);
    const perk_result *r = eval_ok(ctx);
    /* every one of the 19,998 promotions applies (count(tea) = 500 >= 0..2; items 1000 >= 1):
     * one cent each; 1,000,000 - 19,998 = 980,002 cents paid, floor(9,800.02) = 9,800 points
     * x2 = 19,600 */
    assert_int_equal(r->n_promotions, COMPILER_MAX_RULES - 2);
    assert_int_equal(r->discount, COMPILER_MAX_RULES - 2);
    assert_int_equal(r->payable, 1000000 - (COMPILER_MAX_RULES - 2));
    assert_int_equal(r->points_earned, 19600);
    assert_true(r->instructions < perk_limits_default().instruction_budget);
    perk_context_free(ctx);
    perk_program_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_source_size),
        cmocka_unit_test(test_nesting),
        cmocka_unit_test(test_rule_count),
        cmocka_unit_test(test_money_in_rules),
        cmocka_unit_test(test_include_depth),
        cmocka_unit_test(test_runtime_defaults),
        cmocka_unit_test(test_runtime_limit_validation),
        cmocka_unit_test(test_cart_lines),
        cmocka_unit_test(test_quantity_and_money),
        cmocka_unit_test(test_tags_and_attributes),
        cmocka_unit_test(test_many_attr_comparisons),
        cmocka_unit_test(test_coupons),
        cmocka_unit_test(test_instruction_budget),
        cmocka_unit_test(test_cart_json_depth),
        cmocka_unit_test(test_ruleset_at_the_limits),
    };
    return cmocka_run_group_tests_name("limits", tests, NULL, NULL);
}
