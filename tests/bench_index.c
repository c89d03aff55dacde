/* bench_index.c - a micro-benchmark of the rule index (not a unit test; nothing asserts a time).
 *
 * For N = 10, 100, 1000, 10000 promotions of the form
 *     promotion pI { then X% off items where category in "catK" }
 * and one 20-line cart touching 10 categories (cat0, cat20, ..., cat180; 2 lines each), it prints
 * the time of one perk_evaluate() with the rule index on and off (ns, best of several rounds),
 * the number of promotions the index visited and the number that applied, and checks that both
 * give the same payable amount. Two rule sets per N:
 *   - K = I mod 200 (200 categories): the cart's categories hold N / 20 of the promotions, so
 *     the work that remains (the applicable promotions) still grows with N;
 *   - K = I (one category per promotion): at most 10 promotions can apply to the cart.
 *
 * Build and run from the repository root after `make`:
 *   cc -std=c11 -O2 -D_POSIX_C_SOURCE=200809L -Iruntime -Isrc -Ibuild/gen tests/bench_index.c \
 *      build/libperkc.a build/libperk.a -ljansson -lsqlite3 -lpthread -lm -o build/bench_index
 *   build/bench_index
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compiler/compiler.h"
#include "perk.h"
#include "vm_internal.h"

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* spread = 200: promotion I targets category I mod 200 (the cart's 10 categories have N / 20
 * promotions between them); spread = 0: each promotion its own category (the cart's categories
 * have at most 10 promotions whatever N is). */
static perk_program *build_program(unsigned n, unsigned spread)
{
    size_t cap = 128 + (size_t)n * 96, len = 0;
    char *src = malloc(cap);
    if (!src) abort();
    len += (size_t)snprintf(src + len, cap - len, "ruleset \"bench\" { currency CNY }\n");
    for (unsigned i = 0; i < n; i++)
        len += (size_t)snprintf(src + len, cap - len,
                                "promotion p%u { then %u%% off items where category in \"cat%u\" }\n", i,
                                1 + i % 5, spread ? i % spread : i);
    compiler c;
    compiler_init(&c);
    uint8_t *bytes = NULL;
    size_t blen = 0;
    if (!compiler_compile_text(&c, "bench.perk", src, len, &bytes, &blen)) {
        diag_print_text(&c.diags, stderr, false);
        exit(1);
    }
    compiler_free(&c);
    free(src);
    perk_error err;
    perk_program *p = perk_program_load(bytes, blen, &err);
    free(bytes);
    if (!p) {
        fprintf(stderr, "load: %s\n", err.message);
        exit(1);
    }
    return p;
}

/* 20 lines: categories cat0, cat20, ..., cat180, two lines each. */
static void build_cart(perk_context *ctx)
{
    static char skus[20][16], cats[20][16];
    perk_cart_reset(ctx);
    perk_order o = { .time = 1772625600LL, .shipping = 800, .points_to_redeem = 0 };
    if (perk_cart_set_order(ctx, &o) != PERK_OK) abort();
    for (int i = 0; i < 20; i++) {
        snprintf(skus[i], sizeof skus[i], "SKU-%d", i);
        snprintf(cats[i], sizeof cats[i], "cat%d", (i / 2) * 20);
        perk_line l = {
            .sku = skus[i], .category = cats[i], .unit_price = 1000 + 137 * i, .quantity = 1 + i % 3
        };
        if (perk_cart_add_line(ctx, &l) != PERK_OK) abort();
    }
}

/* Best of 5 rounds of `iters` evaluations, in ns per evaluation. */
static double time_eval(perk_context *ctx, int iters, int64_t *payable)
{
    double best = 1e30;
    for (int round = 0; round < 5; round++) {
        double t0 = now_ns();
        for (int i = 0; i < iters; i++) {
            const perk_result *r = perk_evaluate(ctx);
            if (r->status != PERK_OK) {
                fprintf(stderr, "evaluate: %s\n", perk_context_error(ctx));
                exit(1);
            }
            *payable = r->payable;
        }
        double t = (now_ns() - t0) / iters;
        if (t < best) best = t;
    }
    return best;
}

static void table(unsigned spread)
{
    static const unsigned sizes[] = { 10, 100, 1000, 10000 };
    if (spread)
        printf("promotion I on category I mod %u; the cart touches 10 categories\n", spread);
    else
        printf("promotion I on its own category I; the cart touches 10 categories\n");
    printf("%8s %14s %14s %8s %10s %10s\n", "rules", "index on (ns)", "index off (ns)", "speedup", "visited",
           "applied");
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        unsigned n = sizes[k];
        perk_program *prog = build_program(n, spread);
        perk_limits l = perk_limits_default();
        l.max_lines = 100;
        perk_context *on = perk_context_new(prog, &l, NULL), *off = perk_context_new(prog, &l, NULL);
        if (!on || !off) abort();
        eval_set_rule_index(on, true);
        eval_set_rule_index(off, false);
        build_cart(on);
        build_cart(off);
        int iters = n >= 10000 ? 200 : n >= 1000 ? 2000 : 20000;
        int64_t pay_on = 0, pay_off = 0;
        double t_on = time_eval(on, iters, &pay_on);
        double t_off = time_eval(off, iters, &pay_off);
        if (pay_on != pay_off) {
            fprintf(stderr, "results differ: %lld vs %lld\n", (long long)pay_on, (long long)pay_off);
            exit(1);
        }
        const perk_result *r = perk_evaluate(on);
        unsigned applied = 0;
        for (uint32_t p = 0; p < r->n_promotions; p++)
            applied += r->promotions[p].reason == PERK_REASON_APPLIED;
        printf("%8u %14.0f %14.0f %7.1fx %10u %10u\n", n, t_on, t_off, t_off / t_on, on->n_written, applied);
        perk_context_free(on);
        perk_context_free(off);
        perk_program_free(prog);
    }
}

int main(void)
{
    table(200);
    printf("\n");
    table(0);
    return 0;
}
