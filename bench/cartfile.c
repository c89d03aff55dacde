/* cartfile.c - reads and writes the benchmark's binary cart files (format in cartfile.h). */
#include "cartfile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CART_MAGIC "PKBCART1"
#define CART_MAX_STR (1u << 16)
#define CART_MAX_LINES 100000u
#define CART_MAX_CARTS 1000000u

const char *const bench_tier_names[4] = { NULL, "silver", "gold", "platinum" };

/* ------------------------------------------------------------------ writing */

static bool put_u32(FILE *f, uint32_t v)
{
    unsigned char b[4];
    for (int i = 0; i < 4; i++) b[i] = (unsigned char)(v >> (8 * i));
    return fwrite(b, 1, 4, f) == 4;
}

static bool put_i64(FILE *f, int64_t v)
{
    unsigned char b[8];
    uint64_t u = (uint64_t)v;
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)(u >> (8 * i));
    return fwrite(b, 1, 8, f) == 8;
}

static bool put_str(FILE *f, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n >= CART_MAX_STR) return false;
    return put_u32(f, (uint32_t)n) && (n == 0 || fwrite(s, 1, n, f) == n);
}

static bool put_cart(FILE *f, const bench_cart *c)
{
    bool ok = put_str(f, c->customer_id) && put_u32(f, (uint32_t)c->tier) &&
              put_u32(f, (uint32_t)c->first_order) && put_u32(f, (uint32_t)c->birthday_month) &&
              put_u32(f, (uint32_t)c->birthday_day) && put_i64(f, c->time) && put_str(f, c->channel) &&
              put_i64(f, c->shipping) && put_u32(f, c->n_coupons);
    for (uint32_t k = 0; ok && k < c->n_coupons; k++) ok = put_str(f, c->coupons[k]);
    ok = ok && put_u32(f, c->n_lines);
    for (uint32_t i = 0; ok && i < c->n_lines; i++) {
        const bench_line *l = &c->lines[i];
        ok = put_str(f, l->sku) && put_str(f, l->category) && put_str(f, l->brand) && put_u32(f, l->n_tags);
        for (uint32_t t = 0; ok && t < l->n_tags; t++) ok = put_str(f, l->tags[t]);
        ok = ok && put_i64(f, l->price) && put_i64(f, l->quantity) && put_i64(f, l->margin_ppm);
    }
    return ok;
}

bool bench_carts_write(const char *path, const bench_cart *carts, uint32_t n)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL) return false;
    bool ok = fwrite(CART_MAGIC, 1, 8, f) == 8 && put_u32(f, n);
    for (uint32_t k = 0; ok && k < n; k++) ok = put_cart(f, &carts[k]);
    if (fclose(f) != 0) ok = false;
    return ok;
}

/* ------------------------------------------------------------------ reading */

typedef struct reader {
    const unsigned char *p, *end;
    bool bad;
} reader;

static uint32_t get_u32(reader *r)
{
    if (r->end - r->p < 4) {
        r->bad = true;
        return 0;
    }
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) v |= (uint32_t)r->p[i] << (8 * i);
    r->p += 4;
    return v;
}

static int64_t get_i64(reader *r)
{
    if (r->end - r->p < 8) {
        r->bad = true;
        return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)r->p[i] << (8 * i);
    r->p += 8;
    return (int64_t)v;
}

/* A string, or NULL when its length is 0 (optional fields). */
static char *get_str(reader *r)
{
    uint32_t n = get_u32(r);
    if (r->bad) return NULL;
    if (n >= CART_MAX_STR || (size_t)(r->end - r->p) < n) {
        r->bad = true;
        return NULL;
    }
    if (n == 0) return NULL;
    char *s = malloc(n + 1);
    if (s == NULL) {
        r->bad = true;
        return NULL;
    }
    memcpy(s, r->p, n);
    s[n] = '\0';
    r->p += n;
    return s;
}

static void free_cart(bench_cart *c)
{
    free(c->customer_id);
    free(c->channel);
    for (uint32_t k = 0; k < c->n_coupons; k++) free(c->coupons[k]);
    for (uint32_t i = 0; c->lines != NULL && i < c->n_lines; i++) {
        bench_line *l = &c->lines[i];
        free(l->sku);
        free(l->category);
        free(l->brand);
        for (uint32_t t = 0; t < l->n_tags; t++) free(l->tags[t]);
    }
    free(c->lines);
}

static void get_cart(reader *r, bench_cart *c)
{
    c->customer_id = get_str(r);
    c->tier = (int32_t)get_u32(r);
    c->first_order = (int32_t)get_u32(r);
    c->birthday_month = (int32_t)get_u32(r);
    c->birthday_day = (int32_t)get_u32(r);
    c->time = get_i64(r);
    c->channel = get_str(r);
    c->shipping = get_i64(r);
    uint32_t nc = get_u32(r);
    if (r->bad || nc > BENCH_MAX_COUPONS || c->tier < 0 || c->tier > 3) {
        r->bad = true;
        return;
    }
    for (uint32_t k = 0; k < nc && !r->bad; k++) {
        c->coupons[k] = get_str(r);
        c->n_coupons = k + 1;
    }
    uint32_t nl = get_u32(r);
    if (r->bad || nl > CART_MAX_LINES) {
        r->bad = true;
        return;
    }
    c->lines = calloc(nl ? nl : 1, sizeof *c->lines);
    if (c->lines == NULL) {
        r->bad = true;
        return;
    }
    for (uint32_t i = 0; i < nl && !r->bad; i++) {
        bench_line *l = &c->lines[i];
        c->n_lines = i + 1;
        l->sku = get_str(r);
        l->category = get_str(r);
        l->brand = get_str(r);
        uint32_t nt = get_u32(r);
        if (nt > BENCH_MAX_TAGS) {
            r->bad = true;
            return;
        }
        for (uint32_t t = 0; t < nt && !r->bad; t++) {
            l->tags[t] = get_str(r);
            l->n_tags = t + 1;
        }
        l->price = get_i64(r);
        l->quantity = get_i64(r);
        l->margin_ppm = get_i64(r);
        if (l->sku == NULL || l->price < 0 || l->quantity < 1) r->bad = true;
    }
}

bench_cartfile *bench_carts_read(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, errlen, "%s: cannot open (run bench/gen first)", path);
        return NULL;
    }
    unsigned char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 1u << 20;
            unsigned char *nb = realloc(buf, cap);
            if (nb == NULL) {
                free(buf);
                fclose(f);
                snprintf(err, errlen, "%s: out of memory", path);
                return NULL;
            }
            buf = nb;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) break;
    }
    fclose(f);
    bench_cartfile *cf = calloc(1, sizeof *cf);
    reader r = { buf, buf + len, false };
    if (cf == NULL || len < 8 || memcmp(buf, CART_MAGIC, 8) != 0) {
        free(buf);
        free(cf);
        snprintf(err, errlen, "%s: not a benchmark cart file", path);
        return NULL;
    }
    r.p += 8;
    uint32_t n = get_u32(&r);
    if (!r.bad && n <= CART_MAX_CARTS) cf->carts = calloc(n ? n : 1, sizeof *cf->carts);
    if (cf->carts == NULL) r.bad = true;
    for (uint32_t k = 0; k < n && !r.bad; k++) {
        cf->n_carts = k + 1;
        get_cart(&r, &cf->carts[k]);
    }
    if (!r.bad && r.p != r.end) r.bad = true;
    free(buf);
    if (r.bad) {
        bench_carts_free(cf);
        snprintf(err, errlen, "%s: truncated or malformed cart file", path);
        return NULL;
    }
    return cf;
}

void bench_carts_free(bench_cartfile *f)
{
    if (f == NULL) return;
    for (uint32_t k = 0; k < f->n_carts; k++) free_cart(&f->carts[k]);
    free(f->carts);
    free(f);
}
