/* test_ctx_memory.c - what a context holds, measured in bytes through a counting allocator
 * (perk_set_allocator), never in time.
 *
 * A context's memory follows the program (its promotions and strings) and the largest cart it has
 * seen, not limits.max_lines (docs/api.md, "Memory"): with the default limits, a context that
 * evaluated a 20-line cart holds under 64 KiB for 100 generated promotions and under 1 MiB for
 * 10,000, and a program with a 500,000-sku list costs a small cart's context a few bytes per
 * string, not strings x max_lines. Once a context has evaluated a cart, evaluating a cart of the
 * same size allocates nothing; a larger cart grows the context while it is fed.
 *
 * The figures are printed (PERK_TEST_VERBOSE=1) for docs/performance.md.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "compiler/compiler.h"
#include "perk.h"

/* ------------------------------------------------------------------ counting allocator */

/* Each block carries its size in front, so that release can subtract it. */
typedef union count_header {
    size_t size;
    max_align_t align;
} count_header;

static atomic_long live_bytes, n_allocs;

static void *count_alloc(size_t size, void *user)
{
    (void)user;
    count_header *h = malloc(sizeof *h + size);
    if (h == NULL) return NULL;
    h->size = size;
    atomic_fetch_add(&live_bytes, (long)size);
    atomic_fetch_add(&n_allocs, 1);
    return h + 1;
}

static void count_release(void *ptr, void *user)
{
    (void)user;
    count_header *h = (count_header *)ptr - 1;
    atomic_fetch_sub(&live_bytes, (long)h->size);
    free(h);
}

static const perk_allocator counting = { count_alloc, count_release, NULL };

/* Fails every allocation after the first `fail_after` (counting ones that succeed). */
static atomic_long fail_after;
static void *failing_alloc(size_t size, void *user)
{
    if (atomic_fetch_sub(&fail_after, 1) <= 0) return NULL;
    return count_alloc(size, user);
}
static const perk_allocator failing = { failing_alloc, count_release, NULL };

static void counting_on(void)
{
    atomic_store(&live_bytes, 0);
    atomic_store(&n_allocs, 0);
    perk_set_allocator(&counting);
}

static bool verbose(void)
{
    const char *v = getenv("PERK_TEST_VERBOSE");
    return v != NULL && strcmp(v, "1") == 0;
}

/* ------------------------------------------------------------------ programs */

typedef struct sbuf {
    char *s;
    size_t len, cap;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->s == NULL ? NULL : b->s + b->len, b->s == NULL ? 0 : b->cap - b->len, fmt, ap);
        va_end(ap);
        assert_true(n >= 0);
        if (b->s != NULL && b->len + (size_t)n < b->cap) {
            b->len += (size_t)n;
            return;
        }
        b->cap = b->cap * 2 + (size_t)n + 4096;
        b->s = realloc(b->s, b->cap);
        assert_non_null(b->s);
    }
}

static perk_program *compile_prog(const char *src)
{
    compiler c;
    compiler_init(&c);
    uint8_t *bytes = NULL;
    size_t len = 0;
    bool ok = compiler_compile_text(&c, "mem.perk", src, strlen(src), &bytes, &len);
    if (!ok) diag_print_text(&c.diags, stderr, false);
    compiler_free(&c);
    assert_true(ok);
    perk_error err = { PERK_OK, "" };
    perk_program *p = perk_program_load(bytes, len, &err);
    free(bytes);
    if (p == NULL) fail_msg("load: %s", err.message);
    return p;
}

/* n promotions over 200 categories, 50 brands, 40 skus, 20 tags and 30 coupons: what a retailer's
 * ruleset matches on (each promotion a few strings, most of them guarded). */
static perk_program *generated(uint32_t n)
{
    sbuf b = { NULL, 0, 0 };
    sb_printf(&b, "ruleset \"mem\" {\n currency CNY\n timezone \"Asia/Shanghai\"\n}\n");
    for (uint32_t i = 0; i < n; i++) {
        uint32_t k = (i * 7919u) % 200;
        sb_printf(&b, "promotion p%u {\n", i);
        switch (i % 8) {
        case 0: sb_printf(&b, " then %u%% off items where category in \"c%u\"\n", 1 + i % 30, k); break;
        case 1:
            sb_printf(&b,
                      " when sum(items where category in \"c%u\") >= ¥%u\n then ¥5 off items where category "
                      "in \"c%u\"\n",
                      k, 1 + i % 300, k);
            break;
        case 2: sb_printf(&b, " when any(items where brand = \"b%u\")\n then free shipping\n", k % 50); break;
        case 3:
            sb_printf(&b, " when count(items where \"t%u\" in tags) >= 2\n then 5%% off order\n", k % 20);
            break;
        case 4:
            sb_printf(&b, " requires coupon \"C%u\"\n then ¥5 off items where category in \"c%u\"\n", k % 30,
                      k);
            break;
        case 5: sb_printf(&b, " when any(items where sku = \"s%u\")\n then ¥1 off order\n", k % 40); break;
        case 6: sb_printf(&b, " then buy 2 of items where category in \"c%u\" get 1 free\n", k); break;
        default:
            sb_printf(&b, " when order.subtotal >= ¥%u\n then 3%% off items where category in \"c%u\"\n",
                      1 + i % 500, k);
            break;
        }
        sb_printf(&b, "}\n");
    }
    sb_printf(&b, "earn base { then 1 point per ¥1 on items }\n");
    perk_program *p = compile_prog(b.s);
    free(b.s);
    return p;
}

/* One promotion whose condition is a list of n skus. */
static perk_program *sku_list(uint32_t n)
{
    sbuf b = { NULL, 0, 0 };
    sb_printf(&b, "ruleset \"skus\" { currency CNY }\npromotion listed {\n when any(items where sku in [");
    for (uint32_t i = 0; i < n; i++) sb_printf(&b, "%s\"sku%u\"", i ? ", " : "", i);
    sb_printf(&b, "])\n then 10%% off order\n}\n");
    perk_program *p = compile_prog(b.s);
    free(b.s);
    return p;
}

/* ------------------------------------------------------------------ carts */

#define CART_MAX 256

typedef struct cart {
    char sku[CART_MAX][16], cat[CART_MAX][16], brand[CART_MAX][8], tag[CART_MAX][8];
    const char *tags[CART_MAX][1];
    perk_line lines[CART_MAX];
    uint32_t n;
} cart;

/* n lines (n <= CART_MAX), their strings drawn from the generated programs' vocabulary from `seed` on. */
static void make_cart(cart *c, uint32_t n, uint32_t seed)
{
    c->n = n;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t k = seed + i * 13;
        snprintf(c->sku[i], sizeof c->sku[i], "sku%u", k * 37 % 400000);
        if (i % 3 == 0) snprintf(c->sku[i], sizeof c->sku[i], "s%u", k % 40);
        snprintf(c->cat[i], sizeof c->cat[i], "c%u/sub%u", k % 200, k % 3);
        snprintf(c->brand[i], sizeof c->brand[i], "b%u", k % 50);
        snprintf(c->tag[i], sizeof c->tag[i], "t%u", k % 20);
        c->tags[i][0] = c->tag[i];
        c->lines[i] = (perk_line){ .sku = c->sku[i],
                                   .category = c->cat[i],
                                   .brand = c->brand[i],
                                   .tags = c->tags[i],
                                   .n_tags = 1,
                                   .unit_price = 1000 + 137 * (int64_t)i,
                                   .quantity = 1 + i % 3 };
    }
}

static void feed(perk_context *ctx, const cart *c)
{
    perk_cart_reset(ctx);
    perk_order o = { .time = 1772625600LL, .shipping = 800 };
    assert_int_equal(perk_cart_set_order(ctx, &o), PERK_OK);
    for (uint32_t i = 0; i < c->n; i++) assert_int_equal(perk_cart_add_line(ctx, &c->lines[i]), PERK_OK);
    assert_int_equal(perk_cart_add_coupon(ctx, "C3", NULL, PERK_COUPON_VALID), PERK_OK);
}

/* ------------------------------------------------------------------ measures */

typedef struct ctx_bytes {
    long created;   /* after perk_context_new */
    long evaluated; /* after feeding and evaluating two carts of the size */
} ctx_bytes;

/* Feeds cart c and evaluates it; returns the allocations the evaluation alone made. */
static long feed_evaluate(perk_context *ctx, const cart *c)
{
    feed(ctx, c);
    long fed = atomic_load(&n_allocs);
    assert_int_equal(perk_evaluate(ctx)->status, PERK_OK);
    return atomic_load(&n_allocs) - fed;
}

/* The bytes of a default-limits context for `prog` that evaluated two carts of `lines` lines;
 * checks on the way that evaluating them again (and feeding them) allocates nothing, that the
 * first evaluations allocate nothing when `eval_free` (else only the allocation log may grow, past
 * 64 allocations a line), and that freeing the context returns every byte. */
static ctx_bytes measure(perk_program *prog, uint32_t lines, bool eval_free, const char *what)
{
    ctx_bytes m;
    cart *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    assert_non_null(a);
    assert_non_null(b);
    make_cart(a, lines, 1);
    make_cart(b, lines, 777);
    counting_on();
    perk_error err;
    perk_context *ctx = perk_context_new(prog, NULL, &err);
    assert_non_null(ctx);
    m.created = atomic_load(&live_bytes);
    long first = feed_evaluate(ctx, a);
    first += feed_evaluate(ctx, b);
    m.evaluated = atomic_load(&live_bytes);
    if (eval_free) assert_int_equal(first, 0);
    /* sized for both carts now: feeding and evaluating either again allocates nothing */
    long sized = atomic_load(&n_allocs);
    assert_int_equal(feed_evaluate(ctx, a), 0);
    assert_int_equal(feed_evaluate(ctx, b), 0);
    assert_int_equal(atomic_load(&n_allocs), sized);
    perk_context_free(ctx);
    assert_int_equal(atomic_load(&live_bytes), 0); /* the context freed everything it held */
    perk_set_allocator(NULL);
    free(a);
    free(b);
    if (verbose())
        print_message("%s, %u lines: context %ld bytes new, %ld bytes after evaluating two such carts\n",
                      what, lines, m.created, m.evaluated);
    return m;
}

static void test_generated_rules(void **state)
{
    (void)state;
    perk_program *p100 = generated(100);
    ctx_bytes m = measure(p100, 20, true, "100 promotions");
    assert_true(m.evaluated < 64 * 1024);
    assert_true(m.created <= m.evaluated);
    perk_program_free(p100);

    perk_program *p10k = generated(10000);
    m = measure(p10k, 20, false, "10,000 promotions");
    assert_true(m.evaluated < 1024 * 1024);
    perk_program_free(p10k);
}

static void test_sku_list(void **state)
{
    (void)state;
    perk_program *p = sku_list(500000);
    ctx_bytes m = measure(p, 20, true, "a 500,000-sku list");
    /* one bit per index slot and per string for the cart's bitsets; no line list per sku */
    assert_true(m.evaluated < 1024 * 1024);
    perk_program_free(p);
}

/* The parts of a result that growing could disturb: amounts, lines, allocations, reasons. */
static void same_result(const perk_result *a, const perk_result *b)
{
    assert_int_equal(a->status, PERK_OK);
    assert_int_equal(b->status, PERK_OK);
    assert_int_equal(a->discount, b->discount);
    assert_int_equal(a->payable, b->payable);
    assert_int_equal(a->points_earned, b->points_earned);
    assert_int_equal(a->instructions, b->instructions);
    assert_int_equal(a->n_lines, b->n_lines);
    for (uint32_t i = 0; i < a->n_lines; i++) {
        assert_int_equal(a->lines[i].final, b->lines[i].final);
        assert_int_equal(a->lines[i].n_allocations, b->lines[i].n_allocations);
    }
    assert_int_equal(a->n_allocations, b->n_allocations);
    for (uint32_t k = 0; k < a->n_allocations; k++) {
        assert_int_equal(a->allocations[k].line, b->allocations[k].line);
        assert_int_equal(a->allocations[k].promotion, b->allocations[k].promotion);
        assert_int_equal(a->allocations[k].amount, b->allocations[k].amount);
    }
    assert_int_equal(a->n_promotions, b->n_promotions);
    for (uint32_t p = 0; p < a->n_promotions; p++)
        assert_int_equal(a->promotions[p].reason, b->promotions[p].reason);
}

/* A larger cart grows the context while it is fed, up to the limits, past 64 lines too (the line
 * bitsets widen and the index's move); evaluating it allocates nothing, nor does evaluating it
 * again; a smaller cart afterwards reuses the memory. Every result equals that of a new context
 * fed the same cart (which grows within the cart instead). */
static void test_growth(void **state)
{
    (void)state;
    perk_program *p = generated(300);
    cart *c = malloc(sizeof *c);
    assert_non_null(c);
    perk_limits l = perk_limits_default();
    l.max_lines = 200;
    counting_on();
    perk_error err;
    perk_context *ctx = perk_context_new(p, &l, &err);
    assert_non_null(ctx);
    long previous = atomic_load(&live_bytes);
    uint32_t sizes[] = { 1, 5, 9, 20, 63, 64, 65, 3, 130, 129, 200, 7 };
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        make_cart(c, sizes[k], (uint32_t)k);
        feed(ctx, c);
        long fed = atomic_load(&n_allocs);
        const perk_result *r = perk_evaluate(ctx);
        assert_int_equal(r->status, PERK_OK);
        assert_int_equal(r->n_lines, sizes[k]);
        assert_int_equal(atomic_load(&n_allocs), fed);
        long now = atomic_load(&live_bytes);
        assert_true(now >= previous); /* never shrinks */
        previous = now;
        perk_context *fresh = perk_context_new(p, &l, &err);
        assert_non_null(fresh);
        feed(fresh, c);
        same_result(r, perk_evaluate(fresh));
        perk_context_free(fresh);
    }
    /* line 201 is refused by the limit, not by memory */
    make_cart(c, 200, 9);
    feed(ctx, c);
    perk_line extra = c->lines[0];
    assert_int_equal(perk_cart_add_line(ctx, &extra), PERK_LIMIT);
    perk_context_free(ctx);
    assert_int_equal(atomic_load(&live_bytes), 0);
    perk_set_allocator(NULL);
    free(c);
    perk_program_free(p);
}

/* Memory running out while a cart grows the context: the line is refused with PERK_NOMEM (the
 * cart poisoned), never a crash or a half-grown context; after a reset, with memory back, the
 * same cart gives the same result as in a context that never failed. */
static void test_out_of_memory_while_growing(void **state)
{
    (void)state;
    perk_program *p = generated(300);
    cart *c = malloc(sizeof *c);
    assert_non_null(c);
    make_cart(c, 150, 5);
    perk_limits l = perk_limits_default();
    l.max_lines = 200;
    perk_context *ref = perk_context_new(p, &l, NULL);
    assert_non_null(ref);
    feed(ref, c);
    const perk_result *want = perk_evaluate(ref);
    assert_int_equal(want->status, PERK_OK);
    uint32_t refused = 0;
    for (long n = 0; n < 200; n++) {
        perk_context *ctx = perk_context_new(p, &l, NULL);
        assert_non_null(ctx);
        atomic_store(&fail_after, n);
        perk_set_allocator(&failing);
        perk_cart_reset(ctx);
        perk_order o = { .time = 1772625600LL, .shipping = 800 };
        assert_int_equal(perk_cart_set_order(ctx, &o), PERK_OK);
        perk_status st = PERK_OK;
        for (uint32_t i = 0; i < c->n && st == PERK_OK; i++) st = perk_cart_add_line(ctx, &c->lines[i]);
        perk_set_allocator(NULL);
        if (st != PERK_OK) {
            assert_int_equal(st, PERK_NOMEM);
            assert_int_equal(perk_evaluate(ctx)->status, PERK_NOMEM); /* the cart is poisoned */
            refused++;
        }
        feed(ctx, c);
        same_result(want, perk_evaluate(ctx));
        perk_context_free(ctx);
    }
    assert_true(refused > 0);
    perk_context_free(ref);
    free(c);
    perk_program_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generated_rules),
        cmocka_unit_test(test_sku_list),
        cmocka_unit_test(test_growth),
        cmocka_unit_test(test_out_of_memory_while_growing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
