/* perk_carts.h - the workload's carts (cartfile.h) in Perk's two forms, for both harnesses
 * (bench.c, phases.c): perk_customer / perk_order / perk_line structs loaded through the C API,
 * and the cart JSON a storefront sends (docs/cart.md). Also the counting allocator the harnesses
 * install with perk_set_allocator to measure what a program or a context holds. */
#ifndef PERK_BENCH_PERK_CARTS_H
#define PERK_BENCH_PERK_CARTS_H

#include <stddef.h>
#include <stdint.h>

#include "cartfile.h"
#include "perk.h"

typedef struct bench_perk_cart {
    perk_customer customer;
    perk_order order;
    perk_line *lines;
    uint32_t n_lines;
    const bench_cart *src; /* strings point into it: keep the cart file while this lives */
    char *json;            /* NULL until bench_perk_cart_json */
    size_t json_len;
} bench_perk_cart;

/* Fills out[0 .. cf->n_carts) (structs only); exits with a message when out of memory. */
void bench_perk_carts_build(const bench_cartfile *cf, bench_perk_cart *out);
/* Writes the cart's JSON document (times in UTC+8, the generated rulesets' zone). */
void bench_perk_cart_json(bench_perk_cart *p);
/* Loads one cart into the context: what a checkout does per cart. */
perk_status bench_perk_cart_load(perk_context *ctx, const bench_perk_cart *p);
void bench_perk_carts_free(bench_perk_cart *carts, uint32_t n);

/* Every libperk allocation, counted: bench_live_bytes before and after a call is what it holds. */
extern int64_t bench_live_bytes;
extern const perk_allocator bench_counting_allocator;

#endif
