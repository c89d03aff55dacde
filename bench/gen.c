/* gen.c - the benchmark's workload generator (seeded, deterministic).
 *
 * One catalogue (5,000 SKUs in 200 categories "c017/s3", brands, tags, margins, prices) feeds:
 *   rules_N.perk   a ruleset of N promotions + earn rules in a realistic mix, as Perk source
 *   rules_N.lua    the same ruleset as Lua data for bench/lua_engine.lua (same semantics)
 *   rules_N+D.*   the same N rules and D more that are dormant: scheduled outside every cart date
 *   carts_M.bin    carts of M lines in the neutral format of bench/cartfile.h
 *
 * The mix only uses actions whose semantics bench/lua_engine.lua implements exactly: percent off,
 * amount off, spend tiers (money or percent steps), every-N with and without a cap, buy X get Y
 * (same set), gifts, free shipping, member prices (`price S at M`), coupon-only promotions, time
 * windows (`valid`, `every`, `hours`), exclusive groups, `stop`, earn rules with category bonuses
 * and caps, and multipliers.
 *
 * Usage: perk_gen --out DIR [--seed S] [--rules 10,100,1000,10000,1000+9000] [--lines 1,20,200]
 *                 [--carts K]   (K carts per size; default 64 / 32 / 16 for 1 / 20 / 200 lines)
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cartfile.h"

#define N_TOP 40
#define N_SUB 5
#define N_SKU 5000
#define N_BRAND 120
#define TZ_OFFSET (8 * 3600) /* Asia/Shanghai: UTC+8, no DST since 1991 */

static const char *const tag_names[] = { "organic",    "clearance", "new",         "imported",   "gift_box",
                                         "bestseller", "limited",   "eco",         "local",      "seasonal",
                                         "premium",    "value",     "bundle",      "kids",       "vegan",
                                         "handmade",   "exclusive", "online_only", "fragile",    "bulky",
                                         "frozen",     "fresh",     "sugar_free",  "gluten_free" };
#define N_TAGS ((int)(sizeof tag_names / sizeof tag_names[0]))

static const char *const weekday_names[7] = { "monday", "tuesday",  "wednesday", "thursday",
                                              "friday", "saturday", "sunday" };
static const char *const channels[4] = { "app", "miniprogram", "web", "pos" };
static const char *const tier_ids[4] = { "none", "silver", "gold", "platinum" };

/* Carts are placed on these 2027 dates (a mix of weekdays and weekends). */
static const int cart_dates[][3] = { { 2027, 3, 3 },  { 2027, 3, 6 },  { 2027, 3, 9 },  { 2027, 3, 12 },
                                     { 2027, 3, 14 }, { 2027, 3, 18 }, { 2027, 3, 20 }, { 2027, 3, 27 } };
#define N_CART_DATES 8

/* ------------------------------------------------------------------ utilities */

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("perk_gen: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

/* splitmix64: small, fast, good enough for workloads, identical on every platform. */
typedef struct rng {
    uint64_t s;
} rng;

static uint64_t rng_next(rng *r)
{
    uint64_t z = (r->s += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static int64_t rng_below(rng *r, int64_t n) { return (int64_t)(rng_next(r) % (uint64_t)n); }

static int64_t rng_range(rng *r, int64_t lo, int64_t hi)
{ /* inclusive */
    return lo + rng_below(r, hi - lo + 1);
}

static bool rng_pct(rng *r, int pct) { return rng_below(r, 100) < pct; }

static int64_t rng_pick(rng *r, const int64_t *v, int n) { return v[rng_below(r, n)]; }

/* A growable string. */
typedef struct sbuf {
    char *s;
    size_t len, cap;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        size_t room = b->cap - b->len;
        int n = vsnprintf(b->s ? b->s + b->len : NULL, room, fmt, ap);
        va_end(ap);
        if (n < 0) die("formatting failed");
        if ((size_t)n < room) {
            b->len += (size_t)n;
            return;
        }
        size_t ncap = b->cap ? b->cap * 2 : 4096;
        while (ncap - b->len <= (size_t)n) ncap *= 2;
        char *ns = realloc(b->s, ncap);
        if (ns == NULL) die("out of memory");
        b->s = ns;
        b->cap = ncap;
    }
}

static void sb_free(sbuf *b)
{
    free(b->s);
    b->s = NULL;
    b->len = b->cap = 0;
}

static void write_file(const char *path, const sbuf *b)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(b->s, 1, b->len, f) != b->len || fclose(f) != 0)
        die("cannot write %s: %s", path, strerror(errno));
}

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

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

/* "¥12.30", or "¥100" for whole yuan. */
static const char *money(char *buf, int64_t fen)
{
    if (fen % 100 == 0)
        snprintf(buf, 32, "\xC2\xA5%lld", (long long)(fen / 100));
    else
        snprintf(buf, 32, "\xC2\xA5%lld.%02lld", (long long)(fen / 100), (long long)(fen % 100));
    return buf;
}

/* ------------------------------------------------------------------ catalogue */

typedef struct sku {
    char id[16];
    char category[32]; /* "c017/s3" */
    int top;
    char brand[16];
    int tags[3], n_tags;
    int64_t price;  /* fen */
    int64_t margin; /* ppm */
} sku;

static sku catalogue[N_SKU];

static void make_catalogue(uint64_t seed)
{
    rng r = { seed ^ UINT64_C(0xC47A10600E) };
    for (int i = 0; i < N_SKU; i++) {
        sku *s = &catalogue[i];
        snprintf(s->id, sizeof s->id, "S%05d", i);
        s->top = (int)rng_below(&r, N_TOP);
        snprintf(s->category, sizeof s->category, "c%03d/s%d", s->top, (int)rng_below(&r, N_SUB));
        /* brands cluster by category: each top category draws from 8 neighbouring brands */
        snprintf(s->brand, sizeof s->brand, "B%03d", (int)((s->top * 3 + rng_below(&r, 8)) % N_BRAND));
        s->n_tags = (int)rng_below(&r, 4);
        for (int t = 0; t < s->n_tags; t++) {
            int tag;
            bool dup;
            do {
                tag = (int)rng_below(&r, N_TAGS);
                dup = false;
                for (int u = 0; u < t; u++) dup |= s->tags[u] == tag;
            } while (dup);
            s->tags[t] = tag;
        }
        /* prices: 35% under ¥10, 50% ¥10..¥100, 15% ¥100..¥800; 10-fen steps, a third end in 9 */
        int64_t band = rng_below(&r, 100);
        int64_t p = band < 35   ? rng_range(&r, 10, 99)
                    : band < 85 ? rng_range(&r, 100, 999)
                                : rng_range(&r, 1000, 8000);
        p *= 10;
        if (rng_pct(&r, 33)) p -= 1;
        s->price = p;
        s->margin = rng_range(&r, 5, 70) * 10000;
    }
}

/* ------------------------------------------------------------------ item sets */

/* Each distinct item set becomes one `let sK = items where ...` in Perk and one S[K] in Lua. */
typedef struct set_def {
    char *perk;     /* the predicate after `items where` */
    char *lua;      /* the Lua predicate table */
    char group[16]; /* exclusive-group stem: "x_c017", "brand" */
} set_def;

typedef struct set_table {
    set_def *v;
    int n, cap;
    int *slots; /* open addressing over hash(perk) */
    int n_slots;
} set_table;

static uint32_t fnv(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static char *xstrdup(const char *s)
{
    char *d = strdup(s);
    if (d == NULL) die("out of memory");
    return d;
}

/* Returns the 1-based index of the set with this predicate, adding it when new. */
static int set_intern(set_table *t, const char *perk, const char *lua, const char *group)
{
    if (t->n_slots == 0 || (t->n + 1) * 2 > t->n_slots) {
        int ns = t->n_slots ? t->n_slots * 2 : 1024;
        free(t->slots);
        t->slots = malloc((size_t)ns * sizeof(int));
        if (t->slots == NULL) die("out of memory");
        for (int i = 0; i < ns; i++) t->slots[i] = -1;
        t->n_slots = ns;
        for (int k = 0; k < t->n; k++) {
            uint32_t h = fnv(t->v[k].perk) & (uint32_t)(ns - 1);
            while (t->slots[h] >= 0) h = (h + 1) & (uint32_t)(ns - 1);
            t->slots[h] = k;
        }
    }
    uint32_t h = fnv(perk) & (uint32_t)(t->n_slots - 1);
    while (t->slots[h] >= 0) {
        if (strcmp(t->v[t->slots[h]].perk, perk) == 0) return t->slots[h] + 1;
        h = (h + 1) & (uint32_t)(t->n_slots - 1);
    }
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 256;
        t->v = realloc(t->v, (size_t)t->cap * sizeof *t->v);
        if (t->v == NULL) die("out of memory");
    }
    set_def *d = &t->v[t->n];
    d->perk = xstrdup(perk);
    d->lua = xstrdup(lua);
    snprintf(d->group, sizeof d->group, "%s", group);
    t->slots[h] = t->n;
    return ++t->n;
}

static void set_table_free(set_table *t)
{
    for (int k = 0; k < t->n; k++) {
        free(t->v[k].perk);
        free(t->v[k].lua);
    }
    free(t->v);
    free(t->slots);
    memset(t, 0, sizeof *t);
}

/* A category- or brand-based set, as promotions and earn rules target them. */
static int gen_set(rng *r, set_table *t)
{
    char perk[256], lua[256], group[16], m[32];
    int top = (int)rng_below(r, N_TOP), sub = (int)rng_below(r, N_SUB);
    int tag = (int)rng_below(r, N_TAGS);
    int brand = (int)((top * 3 + rng_below(r, 8)) % N_BRAND);
    int64_t k = rng_below(r, 100);
    snprintf(group, sizeof group, "x_c%03d", top);
    if (k < 30) {
        snprintf(perk, sizeof perk, "category in \"c%03d\"", top);
        snprintf(lua, sizeof lua, "{\"cat\",\"c%03d\"}", top);
    } else if (k < 50) {
        snprintf(perk, sizeof perk, "category in \"c%03d/s%d\"", top, sub);
        snprintf(lua, sizeof lua, "{\"cat\",\"c%03d/s%d\"}", top, sub);
    } else if (k < 55) {
        snprintf(perk, sizeof perk, "category = \"c%03d/s%d\"", top, sub);
        snprintf(lua, sizeof lua, "{\"catis\",\"c%03d/s%d\"}", top, sub);
    } else if (k < 67) {
        snprintf(perk, sizeof perk, "brand = \"B%03d\"", brand);
        snprintf(lua, sizeof lua, "{\"brand\",\"B%03d\"}", brand);
        snprintf(group, sizeof group, "brand");
    } else if (k < 77) {
        snprintf(perk, sizeof perk, "category in \"c%03d\" and \"%s\" in tags", top, tag_names[tag]);
        snprintf(lua, sizeof lua, "{\"and\",{\"cat\",\"c%03d\"},{\"tag\",\"%s\"}}", top, tag_names[tag]);
    } else if (k < 85) {
        snprintf(perk, sizeof perk, "category in \"c%03d\" and not \"clearance\" in tags", top);
        snprintf(lua, sizeof lua, "{\"and\",{\"cat\",\"c%03d\"},{\"not\",{\"tag\",\"clearance\"}}}", top);
    } else if (k < 90) {
        int top2 = (int)rng_below(r, N_TOP);
        snprintf(perk, sizeof perk, "brand = \"B%03d\" or category in \"c%03d/s%d\"", brand, top2, sub);
        snprintf(lua, sizeof lua, "{\"or\",{\"brand\",\"B%03d\"},{\"cat\",\"c%03d/s%d\"}}", brand, top2, sub);
        snprintf(group, sizeof group, "brand");
    } else if (k < 95) {
        int64_t mg = rng_range(r, 3, 6) * 10;
        snprintf(perk, sizeof perk, "category in \"c%03d\" and margin >= %lld%%", top, (long long)mg);
        snprintf(lua, sizeof lua, "{\"and\",{\"cat\",\"c%03d\"},{\"margin_ge\",%lld}}", top,
                 (long long)mg * 10000);
    } else {
        int64_t p = rng_range(r, 2, 20) * 500;
        snprintf(perk, sizeof perk, "category in \"c%03d\" and price >= %s", top, money(m, p));
        snprintf(lua, sizeof lua, "{\"and\",{\"cat\",\"c%03d\"},{\"price_ge\",%lld}}", top, (long long)p);
    }
    return set_intern(t, perk, lua, group);
}

/* A set of 1..max_skus SKUs of one category (member prices, buy X get Y). Returns the index;
 * *first gets the first SKU. */
static int gen_sku_set(rng *r, set_table *t, int max_skus, int *first)
{
    char perk[512], lua[512], group[16];
    int want = (int)rng_range(r, 1, max_skus);
    int base = (int)rng_below(r, N_SKU);
    int list[8], n = 1;
    list[0] = base;
    for (int s = base + 1; s < N_SKU && n < want; s++)
        if (catalogue[s].top == catalogue[base].top) list[n++] = s;
    *first = base;
    if (n == 1) {
        snprintf(perk, sizeof perk, "sku = \"%s\"", catalogue[base].id);
        snprintf(lua, sizeof lua, "{\"sku\",{%s=true}}", catalogue[base].id);
    } else {
        size_t pl = (size_t)snprintf(perk, sizeof perk, "sku in [");
        size_t ll = (size_t)snprintf(lua, sizeof lua, "{\"sku\",{");
        for (int i = 0; i < n; i++) {
            pl += (size_t)snprintf(perk + pl, sizeof perk - pl, "%s\"%s\"", i ? ", " : "",
                                   catalogue[list[i]].id);
            ll += (size_t)snprintf(lua + ll, sizeof lua - ll, "%s=true,", catalogue[list[i]].id);
        }
        snprintf(perk + pl, sizeof perk - pl, "]");
        snprintf(lua + ll, sizeof lua - ll, "}}");
    }
    snprintf(group, sizeof group, "x_c%03d", catalogue[base].top);
    return set_intern(t, perk, lua, group);
}

/* ------------------------------------------------------------------ rulesets */

enum { K_PCT, K_AMT, K_TIERS, K_EVERY, K_BXGY, K_GIFT, K_FIXED, K_COUPON, K_SHIP, K_KINDS };
/* weights of the promotion kinds, in percent */
static const int kind_weight[K_KINDS] = { 22, 7, 13, 8, 10, 5, 12, 20, 3 };

typedef struct rule_out {
    sbuf perk;                /* the promotion */
    sbuf lua;                 /* its Lua record's fields */
    sbuf when_perk, when_lua; /* conditions, ANDed */
} rule_out;

static void add_cond(rule_out *o, const char *perk, const char *lua)
{
    sb_printf(&o->when_perk, "%s%s", o->when_perk.len ? " and " : "", perk);
    sb_printf(&o->when_lua, "%s,", lua);
}

/* `valid` for len days from day `start` (days since 1970-01-01). */
static void put_window(rule_out *o, int64_t start, int64_t len)
{
    int64_t end = start + len - 1;
    int y1, m1, d1, y2, m2, d2;
    civil_from_days(start, &y1, &m1, &d1);
    civil_from_days(end, &y2, &m2, &d2);
    sb_printf(&o->perk, "  valid %04d-%02d-%02d to %04d-%02d-%02d\n", y1, m1, d1, y2, m2, d2);
    sb_printf(&o->lua, "from=%lld,to=%lld,", (long long)start, (long long)end);
}

static void add_valid(rng *r, rule_out *o)
{
    /* campaigns spread over 2027; some cover the cart dates, most do not */
    int64_t start = days_from_civil(2027, 1, 1) + rng_below(r, 330);
    put_window(o, start, rng_pick(r, (const int64_t[]){ 3, 7, 14, 31, 45, 60 }, 6));
}

static void add_every(rng *r, rule_out *o)
{
    int first = (int)rng_below(r, 7), n = (int)rng_range(r, 1, 2);
    sb_printf(&o->perk, "  every %s", weekday_names[first]);
    sb_printf(&o->lua, "days={%d", first);
    if (n == 2) {
        int second = (first + 1 + (int)rng_below(r, 6)) % 7;
        sb_printf(&o->perk, ", %s", weekday_names[second]);
        sb_printf(&o->lua, ",%d", second);
    }
    sb_printf(&o->perk, "\n");
    sb_printf(&o->lua, "},");
}

static void add_hours(rng *r, rule_out *o)
{
    int from = (int)rng_range(r, 8, 19), len = (int)rng_range(r, 2, 4);
    int from_min = rng_pct(r, 30) ? 30 : 0;
    sb_printf(&o->perk, "  hours %02d:%02d to %02d:00\n", from, from_min, from + len);
    sb_printf(&o->lua, "hfrom=%d,hto=%d,", from * 60 + from_min, (from + len) * 60);
}

static void add_tier_cond(rng *r, rule_out *o, int min_tier)
{
    int t = (int)rng_range(r, min_tier, 3);
    char p[64], l[64];
    snprintf(p, sizeof p, "customer.tier >= %s", tier_ids[t]);
    snprintf(l, sizeof l, "{\"tier\",%d}", t);
    add_cond(o, p, l);
}

static void add_channel_cond(rng *r, rule_out *o)
{
    int a = (int)rng_below(r, 4), b = (a + 1 + (int)rng_below(r, 3)) % 4;
    char p[96], l[96];
    snprintf(p, sizeof p, "order.channel in [\"%s\", \"%s\"]", channels[a], channels[b]);
    snprintf(l, sizeof l, "{\"channel\",{%s=true,%s=true}}", channels[a], channels[b]);
    add_cond(o, p, l);
}

static void add_sum_cond(rule_out *o, int set, int64_t fen)
{
    char p[96], l[96], m[32];
    snprintf(p, sizeof p, "sum(s%d) >= %s", set, money(m, fen));
    snprintf(l, sizeof l, "{\"sum\",S[%d],%lld}", set, (long long)fen);
    add_cond(o, p, l);
}

static void add_subtotal_cond(rule_out *o, int64_t fen)
{
    char p[96], l[96], m[32];
    snprintf(p, sizeof p, "order.subtotal >= %s", money(m, fen));
    snprintf(l, sizeof l, "{\"subtotal\",%lld}", (long long)fen);
    add_cond(o, p, l);
}

static int pick_kind(rng *r)
{
    int64_t x = rng_below(r, 100);
    for (int k = 0; k < K_KINDS; k++) {
        if (x < kind_weight[k]) return k;
        x -= kind_weight[k];
    }
    return K_PCT;
}

typedef struct ruleset_state {
    set_table sets;
    int n_coupons, n_gifts;
    int n_dormant_coupons; /* codes "DC..." of dormant promotions: no cart enters them */
} ruleset_state;

static const char *target_perk(char *buf, int set)
{
    if (set == 0) return "order";
    snprintf(buf, 16, "s%d", set);
    return buf;
}

static const char *target_lua(char *buf, int set)
{
    if (set == 0) return "S.all";
    snprintf(buf, 16, "S[%d]", set);
    return buf;
}

/* A campaign window that misses every cart date (March 2027): over before it or not started. */
static void add_dormant_window(rng *r, rule_out *o)
{
    int64_t len = rng_pick(r, (const int64_t[]){ 3, 7, 14, 31, 45, 60 }, 6);
    int64_t start;
    if (rng_pct(r, 50)) /* ended by 2027-02-28 */
        start = days_from_civil(2026, 1, 1) +
                rng_below(r, days_from_civil(2027, 2, 28) - len - days_from_civil(2026, 1, 1));
    else /* starts from 2027-04-01 */
        start = days_from_civil(2027, 4, 1) + rng_below(r, 240);
    put_window(o, start, len);
}

/* One promotion: id prefix and number, priority, whether it is one of the few that `stop`, and
 * whether it is dormant (scheduled outside every cart's date: it can apply to none of them). */
static void gen_promotion(rng *r, ruleset_state *st, const char *prefix, int idx, int priority,
                          bool stop_rule, bool dormant, sbuf *perk, sbuf *lua)
{
    rule_out o = { 0 };
    char m1[32], m2[32], tp[16], tl[16];
    int kind = stop_rule ? K_AMT : pick_kind(r);
    int set = 0;
    const char *group = NULL;
    char groupbuf[24];
    bool allow_group = true, gated_by_time = true;

    /* the action (and the conditions that belong to it) */
    sbuf act = { 0 }, act_lua = { 0 };
    switch (kind) {
    case K_PCT: {
        set = gen_set(r, &st->sets);
        int64_t pct = rng_pick(r, (const int64_t[]){ 5, 8, 10, 12, 15, 20, 25, 30 }, 8);
        if (rng_pct(r, 30)) add_sum_cond(&o, set, rng_pick(r, (const int64_t[]){ 5000, 10000, 20000 }, 3));
        sb_printf(&act, "%lld%% off s%d", (long long)pct, set);
        sb_printf(&act_lua, "act=\"pct\",set=S[%d],ppm=%lld,", set, (long long)pct * 10000);
        break;
    }
    case K_AMT: {
        /* a `stop` rule is an order-wide amount off: "last offer, nothing stacks after it" */
        set = stop_rule ? 0 : gen_set(r, &st->sets);
        gated_by_time = !stop_rule;
        int64_t thr = rng_pick(r, (const int64_t[]){ 9900, 15000, 19900, 29900 }, 4);
        int64_t off = thr / 1000 * 100 + rng_pick(r, (const int64_t[]){ 0, 500 }, 2);
        if (set > 0)
            add_sum_cond(&o, set, thr);
        else
            add_subtotal_cond(&o, thr);
        sb_printf(&act, "%s off %s", money(m1, off), target_perk(tp, set));
        sb_printf(&act_lua, "act=\"amt\",set=%s,amount=%lld,", target_lua(tl, set), (long long)off);
        break;
    }
    case K_TIERS: {
        set = rng_pct(r, 70) ? gen_set(r, &st->sets) : 0;
        static const int64_t thr[4] = { 10000, 20000, 30000, 50000 };
        static const int64_t off[4] = { 1000, 2500, 4000, 7000 };
        int n = (int)rng_range(r, 2, 4), first = (int)rng_below(r, 5 - n);
        bool last_pct = rng_pct(r, 25);
        sb_printf(&act, "tiers on %s { ", target_perk(tp, set));
        sb_printf(&act_lua, "act=\"tiers\",set=%s,steps={", target_lua(tl, set));
        for (int k = 0; k < n; k++) {
            int64_t t = thr[first + k];
            if (k == n - 1 && last_pct) {
                int64_t pct = rng_pick(r, (const int64_t[]){ 12, 15, 20 }, 3);
                sb_printf(&act, "%s%s: %lld%% off", k ? ", " : "", money(m1, t), (long long)pct);
                sb_printf(&act_lua, "{%lld,%lld,true},", (long long)t, (long long)pct * 10000);
            } else {
                sb_printf(&act, "%s%s: %s off", k ? ", " : "", money(m1, t), money(m2, off[first + k]));
                sb_printf(&act_lua, "{%lld,%lld,false},", (long long)t, (long long)off[first + k]);
            }
        }
        sb_printf(&act, " }");
        sb_printf(&act_lua, "},");
        break;
    }
    case K_EVERY: {
        set = rng_pct(r, 60) ? gen_set(r, &st->sets) : 0;
        int64_t step = rng_pick(r, (const int64_t[]){ 10000, 20000, 30000 }, 3);
        int64_t off = step / 10 + rng_pick(r, (const int64_t[]){ 0, 500 }, 2);
        sb_printf(&act, "every %s on %s: %s off", money(m1, step), target_perk(tp, set), money(m2, off));
        sb_printf(&act_lua, "act=\"every\",set=%s,step=%lld,off=%lld,", target_lua(tl, set), (long long)step,
                  (long long)off);
        if (rng_pct(r, 60)) {
            int64_t cap = off * rng_range(r, 3, 6);
            sb_printf(&act, " up to %s", money(m1, cap));
            sb_printf(&act_lua, "cap=%lld,", (long long)cap);
        }
        break;
    }
    case K_BXGY: {
        int first;
        set = rng_pct(r, 60) ? gen_sku_set(r, &st->sets, 5, &first) : gen_set(r, &st->sets);
        static const int xy[4][3] = { { 1, 1, 50 }, { 2, 1, 100 }, { 3, 1, 100 }, { 1, 1, 100 } };
        const int *v = xy[rng_below(r, 4)];
        if (v[2] == 100)
            sb_printf(&act, "buy %d of s%d get %d free", v[0], set, v[1]);
        else
            sb_printf(&act, "buy %d of s%d get %d at %d%% off", v[0], set, v[1], v[2]);
        sb_printf(&act_lua, "act=\"bxgy\",set=S[%d],x=%d,y=%d,ppm=%d,", set, v[0], v[1], v[2] * 10000);
        allow_group = rng_pct(r, 50);
        break;
    }
    case K_GIFT: {
        set = gen_set(r, &st->sets);
        int64_t thr = rng_pick(r, (const int64_t[]){ 10000, 20000, 30000, 50000 }, 4);
        add_sum_cond(&o, set, thr);
        sb_printf(&act, "gift \"GIFT-%05d\" \"赠品 %d\"", st->n_gifts, st->n_gifts);
        sb_printf(&act_lua, "act=\"gift\",");
        st->n_gifts++;
        allow_group = false;
        break;
    }
    case K_FIXED: {
        int first;
        set = gen_sku_set(r, &st->sets, 1, &first);
        int64_t price = catalogue[first].price * rng_range(r, 80, 95) / 100 / 10 * 10;
        if (price < 10) price = 10;
        add_tier_cond(r, &o, 1);
        sb_printf(&act, "price s%d at %s", set, money(m1, price));
        sb_printf(&act_lua, "act=\"fixed\",set=S[%d],price=%lld,", set, (long long)price);
        allow_group = false;
        gated_by_time = rng_pct(r, 30);
        break;
    }
    case K_COUPON: {
        const char *code = dormant ? "DC" : "CP";
        int number = dormant ? st->n_dormant_coupons++ : st->n_coupons++;
        sb_printf(&o.perk, "  requires coupon \"%s%05d\"\n", code, number);
        sb_printf(&o.lua, "coupon=\"%s%05d\",", code, number);
        int64_t thr = rng_pick(r, (const int64_t[]){ 0, 5000, 9900, 19900, 29900 }, 5);
        if (thr > 0) add_subtotal_cond(&o, thr);
        int64_t a = rng_below(r, 3);
        if (a == 0) {
            int64_t off = thr > 0 ? thr / 1000 * 100 + 500 : 500;
            sb_printf(&act, "%s off order", money(m1, off));
            sb_printf(&act_lua, "act=\"amt\",set=S.all,amount=%lld,", (long long)off);
        } else if (a == 1) {
            int64_t pct = rng_pick(r, (const int64_t[]){ 5, 10, 15 }, 3);
            sb_printf(&act, "%lld%% off order", (long long)pct);
            sb_printf(&act_lua, "act=\"pct\",set=S.all,ppm=%lld,", (long long)pct * 10000);
        } else {
            set = gen_set(r, &st->sets);
            int64_t pct = rng_pick(r, (const int64_t[]){ 10, 20, 30 }, 3);
            sb_printf(&act, "%lld%% off s%d", (long long)pct, set);
            sb_printf(&act_lua, "act=\"pct\",set=S[%d],ppm=%lld,", set, (long long)pct * 10000);
        }
        allow_group = rng_pct(r, 30);
        break;
    }
    case K_SHIP: {
        int64_t thr = rng_pick(r, (const int64_t[]){ 5900, 9900, 19900 }, 3);
        add_subtotal_cond(&o, thr);
        sb_printf(&act, "free shipping");
        sb_printf(&act_lua, "act=\"ship\",");
        allow_group = false;
        gated_by_time = rng_pct(r, 20);
        break;
    }
    }

    /* schedules and audience */
    if (dormant) {
        add_dormant_window(r, &o);
        gated_by_time = false;
    }
    if (gated_by_time && rng_pct(r, 50)) add_valid(r, &o);
    if (gated_by_time && rng_pct(r, 15)) add_every(r, &o);
    if (gated_by_time && rng_pct(r, 10)) add_hours(r, &o);
    if (kind != K_FIXED && rng_pct(r, 10)) add_tier_cond(r, &o, 1);
    if (rng_pct(r, 8)) add_channel_cond(r, &o);
    if (kind == K_AMT && rng_pct(r, 10)) add_cond(&o, "customer.first_order", "{\"first_order\"}");

    /* exclusive groups: most category promotions exclude each other within the category */
    if (allow_group && !stop_rule && rng_pct(r, 75)) {
        if (set > 0)
            snprintf(groupbuf, sizeof groupbuf, "%s", st->sets.v[set - 1].group);
        else
            snprintf(groupbuf, sizeof groupbuf, "order_off");
        group = groupbuf;
    }

    sb_printf(perk, "promotion %s%05d \"促销 %s%d\" {\n  priority %d\n", prefix, idx, dormant ? prefix : "",
              idx, priority);
    sb_printf(perk, "%s", o.perk.s ? o.perk.s : "");
    if (group) sb_printf(perk, "  exclusive \"%s\"\n", group);
    if (o.when_perk.len) sb_printf(perk, "  when %s\n", o.when_perk.s);
    sb_printf(perk, "  then %s\n", act.s);
    if (stop_rule) sb_printf(perk, "  stop\n");
    sb_printf(perk, "}\n\n");

    /* its evaluation stage, as Perk's compiler decides it (docs/semantics.md 3.1): 0 single-item
     * offers (a percent off a category set, a buy-get, a fixed price), 1 order offers (amounts,
     * tiers, every, gifts), 2 coupon promotions, 3 shipping */
    int stage = kind == K_PCT || kind == K_BXGY || kind == K_FIXED ? 0
                : kind == K_COUPON                                 ? 2
                : kind == K_SHIP                                   ? 3
                                                                   : 1;
    sb_printf(lua, "P[#P+1]={id=\"%s%05d\",stage=%d,%s%s", prefix, idx, stage, act_lua.s,
              o.lua.s ? o.lua.s : "");
    if (group) sb_printf(lua, "group=\"%s\",", group);
    if (o.when_lua.len) sb_printf(lua, "conds={%s},", o.when_lua.s);
    if (stop_rule) sb_printf(lua, "stop=true,");
    sb_printf(lua, "}\n");

    sb_free(&act);
    sb_free(&act_lua);
    sb_free(&o.perk);
    sb_free(&o.lua);
    sb_free(&o.when_perk);
    sb_free(&o.when_lua);
}

static void gen_earn(rng *r, ruleset_state *st, int idx, sbuf *perk, sbuf *lua)
{
    char m[32];
    if (idx == 0) {
        sb_printf(perk, "earn base \"消费积分\" {\n  then 1 point per \xC2\xA5"
                        "1 on items\n}\n\n");
        sb_printf(lua, "E[#E+1]={id=\"base\",set=S.all,points=1,per=100}\n");
        return;
    }
    rule_out o = { 0 };
    int set = gen_set(r, &st->sets);
    bool per10 = rng_pct(r, 30);
    int64_t pts = per10 ? rng_pick(r, (const int64_t[]){ 5, 10, 15 }, 3) : rng_range(r, 1, 3);
    int64_t per = per10 ? 1000 : 100;
    if (rng_pct(r, 30)) add_tier_cond(r, &o, 1);
    if (rng_pct(r, 10)) add_channel_cond(r, &o);
    sb_printf(perk, "earn e%04d \"加赠积分 %d\" {\n", idx, idx);
    if (o.when_perk.len) sb_printf(perk, "  when %s\n", o.when_perk.s);
    sb_printf(perk, "  then %lld %s per %s on s%d\n", (long long)pts, pts == 1 ? "point" : "points",
              money(m, per), set);
    sb_printf(lua, "E[#E+1]={id=\"e%04d\",set=S[%d],points=%lld,per=%lld,", idx, set, (long long)pts,
              (long long)per);
    if (rng_pct(r, 50)) {
        int64_t cap = rng_pick(r, (const int64_t[]){ 200, 500, 1000 }, 3);
        sb_printf(perk, "  cap %lld\n", (long long)cap);
        sb_printf(lua, "cap=%lld,", (long long)cap);
    }
    if (o.when_lua.len) sb_printf(lua, "conds={%s},", o.when_lua.s);
    sb_printf(perk, "}\n\n");
    sb_printf(lua, "}\n");
    sb_free(&o.when_perk);
    sb_free(&o.when_lua);
}

static void gen_multiplier(rng *r, int idx, int n_earn, sbuf *perk, sbuf *lua)
{
    sb_printf(perk, "multiplier m%03d \"积分倍数 %d\" {\n", idx, idx);
    sb_printf(lua, "X[#X+1]={id=\"m%03d\",", idx);
    if (idx == 0) {
        sb_printf(perk, "  when customer.tier >= gold\n  then x2 on all\n}\n\n");
        sb_printf(lua, "num=2,den=1,all=true,conds={{\"tier\",2}}}\n");
        return;
    }
    if (idx == 1) {
        sb_printf(perk, "  when customer.is_birthday\n  then x1.5 on base\n}\n\n");
        sb_printf(lua, "num=3,den=2,targets={1},conds={{\"birthday\"}}}\n");
        return;
    }
    /* channel promotions on a few earn rules */
    int a = (int)rng_range(r, 1, n_earn - 1), b = (int)rng_range(r, 1, n_earn - 1);
    const char *ch = channels[rng_below(r, 3)];
    int64_t num = rng_range(r, 2, 3);
    sb_printf(perk, "  when order.channel = \"%s\"\n  then x%lld on e%04d", ch, (long long)num, a);
    sb_printf(lua, "num=%lld,den=1,targets={%d", (long long)num, a + 1);
    if (b != a) {
        sb_printf(perk, ", e%04d", b);
        sb_printf(lua, ",%d", b + 1);
    }
    sb_printf(perk, "\n}\n\n");
    sb_printf(lua, "},conds={{\"channel\",{%s=true}}}}\n", ch);
}

/* rules_N: N rules in the mix. rules_N+D: the same N rules (the same promotions, earn rules and
 * multipliers, in the same order), and D more promotions in the same mix but dormant, each
 * scheduled outside every cart's date and placed at a random-looking point of the priorities:
 * past and future campaigns, as a large ruleset keeps them. */
static void gen_ruleset(uint64_t seed, int n_rules, int n_dormant, const char *dir)
{
    rng r = { seed * 1000003u + (uint64_t)n_rules };
    rng r_dormant = { seed * 1000033u + (uint64_t)n_dormant };
    ruleset_state st = { 0 };
    int n_earn = n_rules / 20 < 2 ? 2 : n_rules / 20;
    int n_promo = n_rules - n_earn;
    int n_mult = n_earn / 10 < 2 ? 2 : n_earn / 10;
    /* the few `stop` promotions sit among the last 5% of the priorities, so a few rules come after */
    int n_stop = n_rules >= 100 ? (n_rules / 1000 > 1 ? n_rules / 1000 : 1) : 0;
    int stop_step = n_stop > 0 && n_promo / 20 / n_stop > 1 ? n_promo / 20 / n_stop : 1;

    /* dormant promotion k follows live promotion k % n_promo (priorities leave room for them) */
    int scale = n_dormant > 0 ? 100 : 10, emitted = 0;
    char name[32];
    if (n_dormant > 0)
        snprintf(name, sizeof name, "%d+%d", n_rules, n_dormant);
    else
        snprintf(name, sizeof name, "%d", n_rules);
    if (n_dormant > 98 * n_promo) die("rules_%d+%d: too many dormant promotions", n_rules, n_dormant);
    sbuf rules_perk = { 0 }, rules_lua = { 0 }, perk = { 0 }, lua = { 0 };
    for (int i = 0; i < n_promo; i++) {
        int from_end = n_promo - 1 - i - n_promo / 40;
        bool stop_rule =
            n_stop > 0 && from_end >= 0 && from_end % stop_step == 0 && from_end / stop_step < n_stop;
        if (emitted++ % 200 == 0) sb_printf(&rules_lua, "%s;(function()\n", emitted > 1 ? "end)()\n" : "");
        gen_promotion(&r, &st, "p", i, (i + 1) * scale, stop_rule, false, &rules_perk, &rules_lua);
        for (int k = i; k < n_dormant; k += n_promo) {
            if (emitted++ % 200 == 0) sb_printf(&rules_lua, "end)()\n;(function()\n");
            gen_promotion(&r_dormant, &st, "d", k, (i + 1) * scale + 1 + k / n_promo, false, true,
                          &rules_perk, &rules_lua);
        }
    }
    sb_printf(&rules_lua, "end)()\n;(function()\n");
    for (int e = 0; e < n_earn; e++) gen_earn(&r, &st, e, &rules_perk, &rules_lua);
    for (int m = 0; m < n_mult; m++) gen_multiplier(&r, m, n_earn, &rules_perk, &rules_lua);
    sb_printf(&rules_lua, "end)()\n");

    /* Perk: header, tiers, the item sets, then the rules */
    sb_printf(
        &perk,
        "# Generated by bench/gen.c (seed %llu): %d promotions, %d earn rules, %d multipliers.\n"
        "ruleset \"bench %s\" {\n  currency CNY\n  timezone \"Asia/Shanghai\"\n  rounding half_up\n}\n\n"
        "tier silver \"银卡\" { spend \xC2\xA5"
        "1000 within 365 days }\n"
        "tier gold \"金卡\" { spend \xC2\xA5"
        "5000 within 365 days }\n"
        "tier platinum \"铂金卡\" { spend \xC2\xA5"
        "20000 within 365 days }\n\n",
        (unsigned long long)seed, n_promo + n_dormant, n_earn, n_mult, name);
    for (int k = 0; k < st.sets.n; k++)
        sb_printf(&perk, "let s%d = items where %s\n", k + 1, st.sets.v[k].perk);
    sb_printf(&perk, "\n%s", rules_perk.s);

    sb_printf(&lua,
              "-- Generated by bench/gen.c (seed %llu): the ruleset of rules_%s.perk as data for\n"
              "-- bench/lua_engine.lua. %d promotions, %d earn rules, %d multipliers.\n"
              "local S, P, E, X = {}, {}, {}, {}\nS.all = {\"all\"}\n",
              (unsigned long long)seed, name, n_promo + n_dormant, n_earn, n_mult);
    for (int k = 0; k < st.sets.n; k++) {
        if (k % 500 == 0) sb_printf(&lua, "%s;(function()\n", k ? "end)()\n" : "");
        sb_printf(&lua, "S[%d]=%s\n", k + 1, st.sets.v[k].lua);
    }
    if (st.sets.n > 0) sb_printf(&lua, "end)()\n");
    sb_printf(&lua, "%s", rules_lua.s);
    sb_printf(&lua, "return {tz_offset=%d, sets=S, promos=P, earns=E, mults=X}\n", TZ_OFFSET);

    char path[4096];
    snprintf(path, sizeof path, "%s/rules_%s.perk", dir, name);
    write_file(path, &perk);
    snprintf(path, sizeof path, "%s/rules_%s.lua", dir, name);
    write_file(path, &lua);
    fprintf(stderr,
            "perk_gen: rules_%s: %d promotions (%d dormant; %d coupon codes, %d gifts), %d earn, %d "
            "multipliers, %d item sets\n",
            name, n_promo + n_dormant, n_dormant, st.n_coupons + st.n_dormant_coupons, st.n_gifts, n_earn,
            n_mult, st.sets.n);
    sb_free(&rules_perk);
    sb_free(&rules_lua);
    sb_free(&perk);
    sb_free(&lua);
    set_table_free(&st.sets);
}

/* ------------------------------------------------------------------ carts */

static void gen_carts(uint64_t seed, int n_lines, int n_carts, const char *dir)
{
    rng r = { seed * 7919u + (uint64_t)n_lines * 104729u + 17u };
    bench_cart *carts = calloc((size_t)n_carts, sizeof *carts);
    char *coupon_text = calloc((size_t)n_carts * BENCH_MAX_COUPONS, 12);
    char *cust_text = calloc((size_t)n_carts, 16);
    if (carts == NULL || coupon_text == NULL || cust_text == NULL) die("out of memory");
    int *used = calloc(N_SKU, sizeof(int));
    if (used == NULL) die("out of memory");
    for (int c = 0; c < n_carts; c++) {
        bench_cart *k = &carts[c];
        snprintf(cust_text + c * 16, 16, "cust%05d", (int)rng_below(&r, 100000));
        k->customer_id = cust_text + c * 16;
        int64_t t = rng_below(&r, 100);
        k->tier = t < 40 ? 0 : t < 70 ? 1 : t < 90 ? 2 : 3;
        k->first_order = rng_pct(&r, 10);
        const int *d = cart_dates[rng_below(&r, N_CART_DATES)];
        int64_t day = days_from_civil(d[0], d[1], d[2]);
        if (rng_pct(&r, 12)) {
            k->birthday_month = d[1];
            k->birthday_day = d[2];
        } else {
            k->birthday_month = (int)rng_range(&r, 1, 12);
            k->birthday_day = (int)rng_range(&r, 1, 28);
        }
        int64_t minute = rng_range(&r, 8 * 60, 23 * 60 - 1);
        k->time = day * 86400 + minute * 60 + rng_below(&r, 60) - TZ_OFFSET;
        int64_t ch = rng_below(&r, 100);
        k->channel = (char *)channels[ch < 35 ? 0 : ch < 65 ? 1 : ch < 90 ? 2 : 3];
        k->shipping = rng_pick(&r, (const int64_t[]){ 0, 600, 800, 1000, 1200 }, 5);
        int64_t nc = rng_below(&r, 100);
        k->n_coupons = nc < 45 ? 0 : nc < 85 ? 1 : 2;
        for (uint32_t i = 0; i < k->n_coupons; i++) {
            char *s = coupon_text + ((size_t)c * BENCH_MAX_COUPONS + i) * 12;
            snprintf(s, 12, "CP%05d", (int)rng_below(&r, 40));
            k->coupons[i] = s;
        }
        k->lines = calloc((size_t)n_lines, sizeof *k->lines);
        if (k->lines == NULL) die("out of memory");
        k->n_lines = (uint32_t)n_lines;
        int64_t subtotal = 0;
        for (int i = 0; i < n_lines; i++) {
            int s;
            do s = (int)rng_below(&r, N_SKU);
            while (used[s] == c + 1); /* distinct SKUs within a cart */
            used[s] = c + 1;
            const sku *p = &catalogue[s];
            bench_line *l = &k->lines[i];
            l->sku = (char *)p->id;
            l->category = (char *)p->category;
            l->brand = (char *)p->brand;
            l->n_tags = (uint32_t)p->n_tags;
            for (int g = 0; g < p->n_tags; g++) l->tags[g] = (char *)tag_names[p->tags[g]];
            l->price = p->price;
            int64_t q = rng_below(&r, 100);
            l->quantity = q < 70 ? 1 : q < 90 ? 2 : q < 97 ? 3 : rng_range(&r, 4, 6);
            l->margin_ppm = p->margin;
            subtotal += l->price * l->quantity;
        }
        /* LuaJIT computes in doubles: discount * weight must stay below 2^53 to be exact. */
        if ((double)subtotal * (double)subtotal >= 9007199254740992.0)
            die("cart %d: subtotal too large for LuaJIT", c);
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/carts_%d.bin", dir, n_lines);
    if (!bench_carts_write(path, carts, (uint32_t)n_carts)) die("cannot write %s: %s", path, strerror(errno));
    fprintf(stderr, "perk_gen: carts_%d: %d carts\n", n_lines, n_carts);
    for (int c = 0; c < n_carts; c++) free(carts[c].lines);
    free(carts);
    free(coupon_text);
    free(cust_text);
    free(used);
}

/* ------------------------------------------------------------------ main */

/* "10,100,1000+9000": numbers, each with an optional "+D" (into plus[], else 0). */
static int parse_list(const char *s, int *out, int *plus, int max)
{
    int n = 0;
    while (*s && n < max) {
        char *end;
        long v = strtol(s, &end, 10), d = 0;
        if (end == s || v < 1 || v > 1000000) die("bad number list: %s", s);
        if (*end == '+' && plus != NULL) {
            const char *at = end + 1;
            d = strtol(at, &end, 10);
            if (end == at || d < 1 || d > 1000000) die("bad number list: %s", s);
        }
        out[n] = (int)v;
        if (plus != NULL) plus[n] = (int)d;
        n++;
        s = *end == ',' ? end + 1 : end;
        if (*end != ',' && *end != '\0') die("bad number list: %s", s);
    }
    return n;
}

int main(int argc, char **argv)
{
    const char *dir = NULL;
    uint64_t seed = 42;
    int rules[16] = { 10, 100, 1000, 10000 }, dormant[16] = { 0 }, n_rules = 4;
    int lines[16] = { 1, 20, 200 }, n_lines = 3;
    int carts = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--out") == 0 && v)
            dir = v, i++;
        else if (strcmp(a, "--seed") == 0 && v)
            seed = strtoull(v, NULL, 10), i++;
        else if (strcmp(a, "--rules") == 0 && v)
            n_rules = parse_list(v, rules, dormant, 16), i++;
        else if (strcmp(a, "--lines") == 0 && v)
            n_lines = parse_list(v, lines, NULL, 16), i++;
        else if (strcmp(a, "--carts") == 0 && v)
            carts = atoi(v), i++;
        else
            die("usage: perk_gen --out DIR [--seed S] [--rules 10,100,...] [--lines 1,20,...] [--carts K]");
    }
    if (dir == NULL) die("--out DIR is required");
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) die("cannot create %s: %s", dir, strerror(errno));
    make_catalogue(seed);
    for (int i = 0; i < n_rules; i++) gen_ruleset(seed, rules[i], dormant[i], dir);
    for (int i = 0; i < n_lines; i++) {
        int k = carts > 0 ? carts : lines[i] <= 1 ? 64 : lines[i] <= 20 ? 32 : 16;
        gen_carts(seed, lines[i], k, dir);
    }
    return 0;
}
