/* cartfile.h - the benchmark's neutral cart format.
 *
 * bench/gen.c writes the carts of a workload once; each harness binary reads them and turns them
 * into its engines' native forms (perk_line structs for Perk, Lua tables for Lua 5.4 and LuaJIT)
 * before anything is timed. The file is little-endian binary:
 *
 *   "PKBCART1"  u32 n_carts, then per cart:
 *     str customer_id  i32 tier  i32 first_order  i32 birthday_month  i32 birthday_day
 *     i64 time  str channel  i64 shipping  u32 n_coupons  str x n_coupons
 *     u32 n_lines, then per line:
 *       str sku  str category  str brand  u32 n_tags  str x n_tags  i64 price  i64 quantity
 *       i64 margin_ppm
 *   where str = u32 length + bytes (no NUL).
 *
 * Money is in minor units (fen), margins and percentages in parts per million, time in epoch
 * seconds (UTC), tier 0 = none, 1 = silver, 2 = gold, 3 = platinum.
 */
#ifndef PERK_BENCH_CARTFILE_H
#define PERK_BENCH_CARTFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BENCH_MAX_TAGS 4
#define BENCH_MAX_COUPONS 4

typedef struct bench_line {
    char *sku, *category, *brand;
    char *tags[BENCH_MAX_TAGS];
    uint32_t n_tags;
    int64_t price, quantity, margin_ppm;
} bench_line;

typedef struct bench_cart {
    char *customer_id;
    int32_t tier;
    int32_t first_order;
    int32_t birthday_month, birthday_day; /* 0 = unknown */
    int64_t time;
    char *channel;
    int64_t shipping;
    char *coupons[BENCH_MAX_COUPONS];
    uint32_t n_coupons;
    bench_line *lines;
    uint32_t n_lines;
} bench_cart;

typedef struct bench_cartfile {
    bench_cart *carts;
    uint32_t n_carts;
} bench_cartfile;

/* The tier names the rulesets declare, indexed by bench_cart.tier (index 0: no tier, NULL). */
extern const char *const bench_tier_names[4];

/* Writes n carts to path. Returns false (errno set by stdio) when the file cannot be written. */
bool bench_carts_write(const char *path, const bench_cart *carts, uint32_t n);

/* Reads a cart file; NULL with a message in err when it is missing or malformed. */
bench_cartfile *bench_carts_read(const char *path, char *err, size_t errlen);

/* Frees what bench_carts_read returned (NULL is fine). */
void bench_carts_free(bench_cartfile *f);

#endif
