/* perk_carts.c - the workload's carts in Perk's forms (structs and cart JSON) and the counting
 * allocator, shared by the harnesses (perk_carts.h). */
#include "perk_carts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void out_of_memory(void)
{
    fputs("bench: out of memory\n", stderr);
    exit(2);
}

void bench_perk_carts_build(const bench_cartfile *cf, bench_perk_cart *out)
{
    for (uint32_t k = 0; k < cf->n_carts; k++) {
        const bench_cart *c = &cf->carts[k];
        bench_perk_cart *p = &out[k];
        memset(p, 0, sizeof *p);
        p->src = c;
        p->customer.id = c->customer_id;
        p->customer.tier = bench_tier_names[c->tier];
        p->customer.birthday_month = c->birthday_month;
        p->customer.birthday_day = c->birthday_day;
        p->customer.first_order = c->first_order != 0;
        p->customer.has_first_order = true;
        p->order.time = c->time;
        p->order.channel = c->channel;
        p->order.shipping = c->shipping;
        p->n_lines = c->n_lines;
        p->lines = calloc(c->n_lines ? c->n_lines : 1, sizeof *p->lines);
        if (p->lines == NULL) out_of_memory();
        for (uint32_t i = 0; i < c->n_lines; i++) {
            const bench_line *l = &c->lines[i];
            perk_line *pl = &p->lines[i];
            pl->sku = l->sku;
            pl->category = l->category;
            pl->brand = l->brand;
            pl->tags = (const char *const *)l->tags;
            pl->n_tags = l->n_tags;
            pl->unit_price = l->price;
            pl->quantity = l->quantity;
            pl->margin_ppm = l->margin_ppm;
            pl->has_margin = l->margin_ppm >= 0; /* the cart file's -1: unknown */
        }
    }
}

perk_status bench_perk_cart_load(perk_context *ctx, const bench_perk_cart *p)
{
    perk_cart_reset(ctx);
    perk_status st = perk_cart_set_customer(ctx, &p->customer);
    if (st == PERK_OK) st = perk_cart_set_order(ctx, &p->order);
    for (uint32_t i = 0; i < p->n_lines && st == PERK_OK; i++) st = perk_cart_add_line(ctx, &p->lines[i]);
    for (uint32_t k = 0; k < p->src->n_coupons && st == PERK_OK; k++)
        st = perk_cart_add_coupon(ctx, p->src->coupons[k], NULL, PERK_COUPON_UNCHECKED);
    return st;
}

static void money_json(char *buf, size_t cap, int64_t fen)
{
    snprintf(buf, cap, "\"%lld.%02lld\"", (long long)(fen / 100), (long long)(fen % 100));
}

/* The civil date of a day count since 1970-01-01 (proleptic Gregorian). */
static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

void bench_perk_cart_json(bench_perk_cart *p)
{
    const bench_cart *c = p->src;
    size_t cap = 512 + (size_t)c->n_lines * 400, len = 0;
    char *s = malloc(cap), m[48];
    if (s == NULL) out_of_memory();
#define PUT(...) (len += len < cap ? (size_t)snprintf(s + len, cap - len, __VA_ARGS__) : 0)
    int64_t local = c->time + 8 * 3600, days = local / 86400, secs = local % 86400;
    int y, mo, d;
    civil_from_days(days, &y, &mo, &d);
    money_json(m, sizeof m, c->shipping);
    PUT("{\"order\":{\"time\":\"%04d-%02d-%02dT%02d:%02d:%02d+08:00\",\"channel\":\"%s\",\"shipping\":%s},",
        y, mo, d, (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60), c->channel, m);
    PUT("\"customer\":{\"id\":\"%s\"", c->customer_id);
    if (c->tier > 0) PUT(",\"tier\":\"%s\"", bench_tier_names[c->tier]);
    if (c->birthday_month > 0) PUT(",\"birthday\":\"%02d-%02d\"", c->birthday_month, c->birthday_day);
    PUT(",\"first_order\":%s},\"coupons\":[", c->first_order ? "true" : "false");
    for (uint32_t k = 0; k < c->n_coupons; k++) PUT("%s\"%s\"", k ? "," : "", c->coupons[k]);
    PUT("],\"lines\":[");
    for (uint32_t i = 0; i < c->n_lines; i++) {
        const bench_line *l = &c->lines[i];
        money_json(m, sizeof m, l->price);
        PUT("%s{\"sku\":\"%s\",\"category\":\"%s\",\"brand\":\"%s\",\"tags\":[", i ? "," : "", l->sku,
            l->category, l->brand);
        for (uint32_t t = 0; t < l->n_tags; t++) PUT("%s\"%s\"", t ? "," : "", l->tags[t]);
        PUT("],\"price\":%s,\"quantity\":%lld,\"margin\":\"%lld%%\"}", m, (long long)l->quantity,
            (long long)(l->margin_ppm / 10000));
    }
    PUT("]}");
#undef PUT
    if (len >= cap) {
        fputs("bench: cart JSON buffer too small\n", stderr);
        exit(2);
    }
    p->json = s;
    p->json_len = len;
}

void bench_perk_carts_free(bench_perk_cart *carts, uint32_t n)
{
    for (uint32_t k = 0; k < n; k++) {
        free(carts[k].lines);
        free(carts[k].json);
    }
}

/* ------------------------------------------------------------------ counting allocator */

int64_t bench_live_bytes;

typedef union count_header {
    size_t size;
    max_align_t align;
} count_header;

static void *count_alloc(size_t size, void *user)
{
    (void)user;
    count_header *h = malloc(sizeof *h + size);
    if (h == NULL) return NULL;
    h->size = size;
    bench_live_bytes += (int64_t)size;
    return h + 1;
}

static void count_release(void *ptr, void *user)
{
    (void)user;
    if (ptr == NULL) return;
    count_header *h = (count_header *)ptr - 1;
    bench_live_bytes -= (int64_t)h->size;
    free(h);
}

const perk_allocator bench_counting_allocator = { count_alloc, count_release, NULL };
