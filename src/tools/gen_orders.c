/* gen_orders.c - the seeded order generator behind `perk gen-orders` (see gen_orders.h).
 *
 * Randomness comes from xoshiro256** seeded through splitmix64, so a seed gives the same orders
 * on every platform. Money is built in integer minor units and printed with money_format.
 */
#include "gen_orders.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "compiler/compiler.h"
#include "civil.h"
#include "money.h"

/* ------------------------------------------------------------------ vocabulary */

bool gen_words_add(gen_words *w, const char *word)
{
    if (!word || !*word) return true;
    for (size_t i = 0; i < w->count; i++)
        if (strcmp(w->items[i], word) == 0) return true;
    if (w->count == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 8;
        char **n = realloc(w->items, cap * sizeof *n);
        if (!n) return false;
        w->items = n;
        w->cap = cap;
    }
    size_t len = strlen(word);
    char *copy = malloc(len + 1);
    if (!copy) return false;
    memcpy(copy, word, len + 1);
    w->items[w->count++] = copy;
    return true;
}

static void words_free(gen_words *w)
{
    for (size_t i = 0; i < w->count; i++) free(w->items[i]);
    free(w->items);
    memset(w, 0, sizeof *w);
}

void gen_vocab_free(gen_vocab *v)
{
    if (!v) return;
    gen_words *all[] = { &v->categories, &v->skus,  &v->brands,  &v->item_tags, &v->customer_tags,
                         &v->channels,   &v->plans, &v->coupons, &v->campaigns, &v->tiers };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) words_free(all[i]);
}

/* Which list a compared field's strings go to, or NULL for fields we do not collect. */
static gen_words *list_for_field(gen_vocab *v, const ast_node *n)
{
    if (!n || !n->name) return NULL;
    if (n->kind == AST_NAME) {
        if (strcmp(n->name, "category") == 0) return &v->categories;
        if (strcmp(n->name, "sku") == 0) return &v->skus;
        if (strcmp(n->name, "brand") == 0) return &v->brands;
        if (strcmp(n->name, "tags") == 0) return &v->item_tags;
    } else if (n->kind == AST_FIELD) {
        if (strcmp(n->name, "customer.tags") == 0) return &v->customer_tags;
        if (strcmp(n->name, "order.channel") == 0) return &v->channels;
        if (strcmp(n->name, "order.subscription") == 0) return &v->plans;
        if (strcmp(n->name, "order.coupons") == 0) return &v->coupons;
    }
    return NULL;
}

/* Adds a string literal or a list of them. */
static bool add_strings(gen_words *w, const ast_node *n)
{
    if (!n) return true;
    if (n->kind == AST_STRING) return gen_words_add(w, n->name);
    if (n->kind == AST_LIST)
        for (int i = 0; i < n->list.count; i++)
            if (n->list.items[i] && n->list.items[i]->kind == AST_STRING &&
                !gen_words_add(w, n->list.items[i]->name))
                return false;
    return true;
}

static bool collect(gen_vocab *v, const ast_node *n)
{
    if (!n) return true;
    bool ok = true;
    switch (n->kind) {
    case AST_BINARY:
        if (n->op == OP_EQ || n->op == OP_NE || n->op == OP_IN || n->op == OP_NOT_IN) {
            gen_words *w = list_for_field(v, n->a);
            if (w)
                ok = add_strings(w, n->b);
            else if ((w = list_for_field(v, n->b)))
                ok = add_strings(w, n->a);
        }
        break;
    case AST_TIER: ok = gen_words_add(&v->tiers, n->name); break;
    case AST_CLAUSE:
        if (n->op == CL_COUPON)
            ok = gen_words_add(&v->coupons, n->name);
        else if (n->op == CL_COUPON_FROM)
            ok = gen_words_add(&v->campaigns, n->name);
        else if (n->op == CL_VALID && n->a && n->b && n->a->kind == AST_DATE && n->b->kind == AST_DATE) {
            if (v->first_day == 0 && v->last_day == 0) {
                v->first_day = n->a->ival;
                v->last_day = n->b->ival;
            } else {
                v->first_day = n->a->ival < v->first_day ? n->a->ival : v->first_day;
                v->last_day = n->b->ival > v->last_day ? n->b->ival : v->last_day;
            }
        }
        break;
    default: break;
    }
    ok = ok && collect(v, n->a) && collect(v, n->b) && collect(v, n->c);
    for (int i = 0; ok && i < n->list.count; i++) ok = collect(v, n->list.items[i]);
    return ok;
}

bool gen_vocab_from_rules(gen_vocab *v, const char *path, char *err, size_t errlen)
{
    memset(v, 0, sizeof *v);
    source_set sources;
    diag_engine diags;
    source_init(&sources);
    diag_init(&diags, &sources);
    ast_arena *arena = ast_arena_new();
    ast_node *file = parse_program(&sources, &diags, arena, path);
    bool ok = file && diags.errors == 0;
    if (!ok)
        snprintf(err, errlen, "%s: cannot read the rules (run `perk check %s`)", path, path);
    else if (!collect(v, file)) {
        snprintf(err, errlen, "out of memory");
        ok = false;
    }
    ast_arena_free(arena);
    diag_free(&diags);
    source_free(&sources);
    if (!ok) gen_vocab_free(v);
    return ok;
}

/* ------------------------------------------------------------------ randomness */

typedef struct rng {
    uint64_t s[4];
} rng;

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t next64(rng *r)
{
    uint64_t result = rotl(r->s[1] * 5, 7) * 9, t = r->s[1] << 17;
    r->s[2] ^= r->s[0];
    r->s[3] ^= r->s[1];
    r->s[1] ^= r->s[2];
    r->s[0] ^= r->s[3];
    r->s[2] ^= t;
    r->s[3] = rotl(r->s[3], 45);
    return result;
}

/* Uniform in [0, n) (n > 0), by rejection so that no value is favoured. */
static uint64_t below(rng *r, uint64_t n)
{
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    for (;;) {
        uint64_t x = next64(r);
        if (x < limit) return x % n;
    }
}

/* True with probability percent/100. */
static bool chance(rng *r, unsigned percent) { return below(r, 100) < percent; }

static const char *pick(rng *r, const gen_words *w) { return w->count ? w->items[below(r, w->count)] : NULL; }

/* ------------------------------------------------------------------ the catalogue */

typedef struct product {
    const char *sku, *name, *category, *brand;
    int64_t cents;  /* price in hundredths of a major unit, converted per currency */
    int margin_pct; /* -1 = unknown */
} product;

/* The tea shop of the seed article. */
static const product tea_catalogue[] = {
    { "TEA-LJ", "龙井", "tea/green", NULL, 12800, 45 },
    { "TEA-BLC", "碧螺春", "tea/green", NULL, 9800, 42 },
    { "TEA-MF", "黄山毛峰", "tea/green", NULL, 6800, 35 },
    { "TEA-PUER", "普洱熟茶", "tea/dark", NULL, 8800, 30 },
    { "TEA-LIUBAO", "六堡茶", "tea/dark", NULL, 15800, 48 },
    { "TEA-DHP", "大红袍", "tea/oolong", NULL, 19800, 50 },
    { "TEA-TGY", "铁观音", "tea/oolong", NULL, 7600, 38 },
    { "TEA-BHYZ", "白毫银针", "tea/white", NULL, 23800, 55 },
    { "CUP-01", "青瓷杯", "teaware", NULL, 4500, 50 },
    { "POT-01", "紫砂壶", "teaware", NULL, 36800, 60 },
    { "TRAY-01", "竹茶盘", "teaware", NULL, 12900, 40 },
    { "SET-01", "旅行茶具", "teaware", NULL, 21900, 35 },
};

static const int64_t made_up_prices[] = { 500, 990, 1290, 1990, 2990, 4990, 8800, 12900 };

typedef struct catalogue {
    product *items;
    size_t count;
    char **owned; /* generated skus and names */
    size_t n_owned;
} catalogue;

/* `category in "tea"` matches "tea" and "tea/green", not "teaware". */
static bool category_matches(const char *path, const char *prefix)
{
    size_t n = strlen(prefix);
    return strncmp(path, prefix, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static char *owned_text(catalogue *c, const char *fmt, const char *a, unsigned b)
{
    int len = snprintf(NULL, 0, fmt, a, b);
    char *s = len >= 0 ? malloc((size_t)len + 1) : NULL;
    if (!s) return NULL;
    snprintf(s, (size_t)len + 1, fmt, a, b);
    c->owned[c->n_owned++] = s;
    return s;
}

static void catalogue_free(catalogue *c)
{
    for (size_t i = 0; i < c->n_owned; i++) free(c->owned[i]);
    free(c->owned);
    free(c->items);
}

static bool catalogue_build(catalogue *c, const gen_vocab *v, rng *r)
{
    size_t n_tea = sizeof tea_catalogue / sizeof tea_catalogue[0];
    size_t max = n_tea + 3 * v->categories.count + v->skus.count;
    memset(c, 0, sizeof *c);
    c->items = calloc(max, sizeof *c->items);
    c->owned = calloc(2 * max + 1, sizeof *c->owned);
    if (!c->items || !c->owned) return false;
    /* the tea catalogue when the rules name none of their own goods, or some of its categories */
    bool use_tea = v->categories.count == 0 && v->skus.count == 0;
    for (size_t i = 0; i < v->categories.count && !use_tea; i++)
        for (size_t k = 0; k < n_tea; k++)
            use_tea = use_tea || category_matches(tea_catalogue[k].category, v->categories.items[i]);
    if (use_tea)
        for (size_t k = 0; k < n_tea; k++) c->items[c->count++] = tea_catalogue[k];
    for (size_t i = 0; i < v->categories.count; i++) {
        const char *cat = v->categories.items[i];
        bool covered = false;
        for (size_t k = 0; k < c->count && !covered; k++)
            covered = c->items[k].category && category_matches(c->items[k].category, cat);
        for (unsigned k = 1; k <= 3 && !covered; k++) {
            product p = { .category = cat, .margin_pct = 20 + (int)below(r, 50) };
            p.sku = owned_text(c, "%s-%u", cat, k);
            p.name = owned_text(c, "%s #%u", cat, k);
            if (!p.sku || !p.name) return false;
            p.cents = made_up_prices[below(r, sizeof made_up_prices / sizeof made_up_prices[0])];
            c->items[c->count++] = p;
        }
    }
    for (size_t i = 0; i < v->skus.count; i++) {
        bool known = false;
        for (size_t k = 0; k < c->count && !known; k++)
            known = strcmp(c->items[k].sku, v->skus.items[i]) == 0;
        if (known) continue;
        /* no category: the rules pick these goods by sku */
        product p = { .sku = v->skus.items[i],
                      .name = v->skus.items[i],
                      .margin_pct = 20 + (int)below(r, 50) };
        p.cents = made_up_prices[below(r, sizeof made_up_prices / sizeof made_up_prices[0])];
        c->items[c->count++] = p;
    }
    /* every other product carries one of the brands the rules test */
    for (size_t k = 0; v->brands.count && k < c->count; k += 2)
        c->items[k].brand = v->brands.items[(k / 2) % v->brands.count];
    return c->count > 0;
}

/* ------------------------------------------------------------------ writing */

static void put_json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(out, "\\u%04x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

/* Converts a price in hundredths to minor units of a currency with `exponent` digits: yen-like
 * currencies (0) price goods at about 20 units per hundredth-based unit. */
static int64_t to_minor(int64_t cents, int exponent)
{
    if (exponent == 0) return cents / 100 * 20;
    if (exponent == 1) return cents / 10;
    int64_t v = cents;
    for (int e = 2; e < exponent && e < MONEY_MAX_EXPONENT; e++) v *= 10;
    return v;
}

static void put_money(FILE *out, int64_t minor, int exponent)
{
    char buf[64];
    money_format(minor, exponent, NULL, buf, sizeof buf);
    fprintf(out, "\"%s\"", buf);
}

static void put_date(FILE *out, int64_t days)
{
    int y, m, d;
    civil_date_from_days(days, &y, &m, &d);
    fprintf(out, "\"%04d-%02d-%02d\"", y, m, d);
}

static const char *const default_channels[] = { "miniprogram", "app", "web", "pos" };

static void write_customer(FILE *out, rng *r, const gen_vocab *v, int64_t day)
{
    fprintf(out, ", \"customer\": {\"id\": \"c%" PRIu64 "\"", 1 + below(r, 20000));
    /* tiers are declared lowest first: the lower, the more customers */
    if (v->tiers.count && chance(r, 55)) {
        uint64_t total = v->tiers.count * (v->tiers.count + 1) / 2, x = below(r, total);
        size_t t = 0;
        for (uint64_t w = v->tiers.count; x >= w; w--, t++) x -= w;
        fprintf(out, ", \"tier\": ");
        put_json_string(out, v->tiers.items[t]);
    }
    if (v->customer_tags.count) {
        bool first = true;
        for (size_t i = 0; i < v->customer_tags.count; i++)
            if (chance(r, 12)) {
                fprintf(out, first ? ", \"tags\": [" : ", ");
                put_json_string(out, v->customer_tags.items[i]);
                first = false;
            }
        if (!first) fputc(']', out);
    }
    if (chance(r, 90)) {
        int y, m, d;
        civil_date_from_days(day, &y, &m, &d);
        int by = 1960 + (int)below(r, 46);
        if (!chance(r, 4)) { /* 4%: born on the day of the order */
            m = 1 + (int)below(r, 12);
            d = 1 + (int)below(r, 28);
        } else if (m == 2 && d == 29) {
            by = 1996;
        }
        fprintf(out, ", \"birthday\": \"%04d-%02d-%02d\"", by, m, d);
    }
    bool first_order = chance(r, 8);
    if (!first_order && chance(r, 75)) {
        fprintf(out, ", \"member_since\": ");
        put_date(out, civil_days_from_date(2018, 1, 1) + (int64_t)below(r, 2900));
    }
    if (first_order)
        fprintf(out, ", \"first_order\": true, \"orders\": 0");
    else
        fprintf(out, ", \"orders\": %" PRIu64, 1 + below(r, 60));
    fprintf(out, ", \"points\": %" PRIu64 "}", first_order ? 0 : below(r, 6000));
}

static void write_lines(FILE *out, rng *r, const gen_vocab *v, const catalogue *c, int exponent)
{
    size_t n = 1 + below(r, 3);
    if (chance(r, 25)) n += 1 + below(r, 3);
    if (n > c->count) n = c->count;
    size_t chosen[8];
    fprintf(out, ", \"lines\": [");
    for (size_t i = 0; i < n; i++) {
        size_t k;
        bool dup;
        do { /* distinct products */
            k = below(r, c->count);
            dup = false;
            for (size_t j = 0; j < i; j++) dup = dup || chosen[j] == k;
        } while (dup);
        chosen[i] = k;
        const product *p = &c->items[k];
        fprintf(out, "%s{\"id\": \"%zu\", \"sku\": ", i ? ", " : "", i + 1);
        put_json_string(out, p->sku);
        fprintf(out, ", \"name\": ");
        put_json_string(out, p->name);
        if (p->category) {
            fprintf(out, ", \"category\": ");
            put_json_string(out, p->category);
        }
        if (p->brand) {
            fprintf(out, ", \"brand\": ");
            put_json_string(out, p->brand);
        }
        bool first = true;
        for (size_t t = 0; t < v->item_tags.count; t++)
            if (chance(r, 12)) {
                fprintf(out, first ? ", \"tags\": [" : ", ");
                put_json_string(out, v->item_tags.items[t]);
                first = false;
            }
        if (!first) fputc(']', out);
        fprintf(out, ", \"price\": ");
        put_money(out, to_minor(p->cents, exponent), exponent);
        uint64_t qty = chance(r, 10) ? 4 + below(r, 7) : 1 + below(r, 3);
        fprintf(out, ", \"quantity\": %" PRIu64, qty);
        if (p->margin_pct >= 0) fprintf(out, ", \"margin\": \"%d%%\"", p->margin_pct);
        fputc('}', out);
    }
    fputc(']', out);
}

static void write_coupons(FILE *out, rng *r, const gen_vocab *v)
{
    if ((v->coupons.count == 0 && v->campaigns.count == 0) || !chance(r, 20)) return;
    fprintf(out, ", \"coupons\": [");
    if (chance(r, 10)) {
        fprintf(out, "\"NOSUCHCODE\"]");
        return;
    }
    size_t n = v->coupons.count + v->campaigns.count, k = below(r, n);
    if (k < v->coupons.count) {
        put_json_string(out, v->coupons.items[k]);
    } else {
        static const char sym[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
        char code[10];
        for (int i = 0; i < 9; i++) code[i] = i == 4 ? '-' : sym[below(r, sizeof sym - 1)];
        code[9] = '\0';
        fprintf(out, "{\"code\": \"%s\", \"campaign\": ", code);
        put_json_string(out, v->campaigns.items[k - v->coupons.count]);
        fprintf(out, ", \"status\": \"valid\"}");
    }
    fputc(']', out);
}

bool gen_orders_write(FILE *out, const gen_vocab *v, const char *currency, int exponent, uint64_t count,
                      uint64_t seed)
{
    if (!out || !v || !currency || exponent < 0 || exponent > MONEY_MAX_EXPONENT) return false;
    rng r;
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) r.s[i] = splitmix64(&x);
    catalogue c;
    if (!catalogue_build(&c, v, &r)) {
        catalogue_free(&c);
        return false;
    }
    /* orders fall in and a week around the rules' campaigns, else in March 2026 */
    int64_t first = civil_days_from_date(2026, 3, 1), last = civil_days_from_date(2026, 3, 31);
    if (v->first_day || v->last_day) {
        first = v->first_day - 7;
        last = v->last_day + 7;
    }
    if (last < first || last - first > 3660) last = first + 365;
    const char *const *channels = default_channels;
    size_t n_channels = sizeof default_channels / sizeof default_channels[0];
    for (uint64_t i = 0; i < count; i++) {
        int64_t day = first + (int64_t)below(&r, (uint64_t)(last - first + 1));
        int y, m, d;
        civil_date_from_days(day, &y, &m, &d);
        fprintf(out,
                "{\"order\": {\"id\": \"O%07" PRIu64
                "\", \"currency\": \"%s\", \"time\": \"%04d-%02d-%02dT%02d:%02d:00Z\"",
                i + 1, currency, y, m, d, (int)below(&r, 24), (int)below(&r, 60));
        const char *channel =
            v->channels.count && chance(&r, 60) ? pick(&r, &v->channels) : channels[below(&r, n_channels)];
        fprintf(out, ", \"channel\": ");
        put_json_string(out, channel);
        if (chance(&r, 75)) {
            fprintf(out, ", \"shipping\": ");
            put_money(out, to_minor(exponent == 0 ? 3000 : 1200, exponent), exponent);
        }
        if (v->plans.count && chance(&r, 20)) {
            fprintf(out, ", \"subscription\": {\"plan\": ");
            put_json_string(out, pick(&r, &v->plans));
            fprintf(out, ", \"delivery\": %" PRIu64 "}", 1 + below(&r, 12));
        }
        uint64_t redeem = below(&r, 100);
        if (redeem < 25)
            fprintf(out, ", \"points_to_redeem\": \"max\"");
        else if (redeem < 35)
            fprintf(out, ", \"points_to_redeem\": %" PRIu64, 100 * (1 + below(&r, 20)));
        fputc('}', out);
        write_customer(out, &r, v, day);
        write_lines(out, &r, v, &c, exponent);
        write_coupons(out, &r, v);
        fputs("}\n", out);
        if (ferror(out)) break;
    }
    catalogue_free(&c);
    return fflush(out) == 0 && !ferror(out);
}
