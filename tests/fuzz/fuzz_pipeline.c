/* fuzz_pipeline.c - fuzz target: the whole pipeline on generated, valid input.
 *
 * The input bytes are not text: they drive a small generator that writes a valid ruleset (header,
 * tiers, item sets, promotions with conditions, gates, caps, budgets and 1-2 actions, earn rules, a
 * multiplier, a redeem block) and two valid cart JSON documents that use the same names. The
 * ruleset is compiled (it must compile: a refusal is a bug in the generator or the compiler and
 * aborts), loaded, and each cart is parsed, fed and evaluated. Besides the invariants every result
 * satisfies (harness.c: allocations of each discount sum to it, no negative line, shipping or
 * payable, payable = subtotal - discount + shipping_after - redeem_value, ...), the generator knows
 * what it wrote and checks more: the subtotal and shipping of the cart, each promotion's cap and
 * remaining money budget, exclusions, `stop`, exclusive groups, coupon requirements, earn caps and
 * the points asked for. Evaluating cart A, then B, then A again must give A's result again, byte
 * for byte (as JSON), so that no state leaks from one evaluation of a context into the next, and
 * a context with the rule index off (the plain pass) must give it too.
 * Reading past the end of the input gives zeros, which always choose the smallest structure.
 * FUZZ_PRINT=1 in the environment prints the generated ruleset and carts to stderr.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler/compiler.h"
#include "harness.h"
#include "json/result_json.h"
#include "vm_internal.h" /* eval_set_rule_index: the reference pass */

#define MAX_PROMOS 6
#define MAX_EARNS 2
#define MAX_SETS 4

/* ------------------------------------------------------------------ output text */

typedef struct text {
    char buf[32768];
    size_t len;
} text;

static void put(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->buf + t->len, sizeof t->buf - t->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof t->buf - t->len) fuzz_fail("generator: text buffer too small");
    t->len += (size_t)n;
}

/* ------------------------------------------------------------------ the generator */

typedef struct promo_facts {
    int64_t cap;         /* -1 = none */
    int64_t limit_money; /* -1 = none */
    int group;           /* exclusive group 0/1, -1 = none */
    bool stop;
    int coupon;    /* required code C0/C1, -1 = none */
    bool campaign; /* requires a code of campaign K0 */
} promo_facts;

typedef struct cart_facts {
    int64_t subtotal;
    bool overflow; /* price x quantity or the subtotal does not fit: the cart is refused */
    int64_t shipping;
    int64_t points_balance;
    int64_t points_to_redeem; /* -1 = max */
    int usage_promo;          /* promotion with usage, -1 = none */
    int64_t usage_money;
    int excluded;      /* excluded promotion, -1 = none */
    bool coupon_ok[2]; /* C0/C1 entered with a usable status */
    bool campaign_ok;  /* a K0 code entered with a usable status */
} cart_facts;

typedef struct gen {
    const uint8_t *data;
    size_t size, pos;
    const char *currency;
    int exponent;
    bool tiers;
    int n_sets, n_promos, n_earns;
    bool redeem;
    promo_facts promo[MAX_PROMOS];
    int64_t earn_cap[MAX_EARNS];
} gen;

/* The next choice among n (0 once the input is used up). */
static unsigned pick(gen *g, unsigned n)
{
    if (g->pos >= g->size) return 0;
    return g->data[g->pos++] % n;
}

static const int64_t money_values[] = { 1,     50,    99,      100,       500,         999,
                                        1000,  1999,  2500,    5000,      10000,       20000,
                                        30000, 99999, 1000000, 100000000, 100000000000 };
static const char *const percents[] = { "1%",  "5%",  "10%", "12.5%",  "15%",
                                        "25%", "50%", "90%", "99.99%", "100%" };
static const int64_t counts[] = { 1, 2, 3, 5, 10, 24, 100 };

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

static int64_t pick_money(gen *g) { return money_values[pick(g, COUNT_OF(money_values))]; }
static const char *pick_percent(gen *g) { return percents[pick(g, COUNT_OF(percents))]; }
static int64_t pick_count(gen *g) { return counts[pick(g, COUNT_OF(counts))]; }

/* Money in the rule language: "19.99 CNY", "1999 JPY". */
static void put_money(text *t, const gen *g, int64_t minor)
{
    if (g->exponent == 2)
        put(t, "%lld.%02lld %s", (long long)(minor / 100), (long long)(minor % 100), g->currency);
    else
        put(t, "%lld %s", (long long)minor, g->currency);
}

/* Money in cart JSON: "19.99", "1999". */
static void put_json_money(text *t, const gen *g, int64_t minor)
{
    if (g->exponent == 2)
        put(t, "\"%lld.%02lld\"", (long long)(minor / 100), (long long)(minor % 100));
    else
        put(t, "\"%lld\"", (long long)minor);
}

static void item_condition(gen *g, text *t, int depth)
{
    switch (pick(g, depth < 2 ? 15 : 12)) {
    case 0: put(t, "category in \"tea\""); break;
    case 1: put(t, "category in \"snacks\""); break;
    case 2: put(t, "category = \"tea/green\""); break;
    case 3: put(t, "\"sale\" in tags"); break;
    case 4: put(t, "brand = \"Acme\""); break;
    case 5: put(t, "sku in [\"A\", \"B\"]"); break;
    case 6:
        put(t, "price >= ");
        put_money(t, g, pick_money(g));
        break;
    case 7: put(t, "quantity >= %lld", (long long)pick_count(g)); break;
    case 8: /* a line without a margin is in neither the set nor its negation */
        put(t, pick(g, 2) ? "margin >= %s" : "not (margin >= %s)", pick_percent(g));
        break;
    case 9:
        put(t, pick(g, 2) ? "attr(\"origin\") = \"Hangzhou\"" : "attr(\"origin\") != \"Hangzhou\"");
        break;
    case 10:
        put(t, "amount > ");
        put_money(t, g, pick_money(g));
        break;
    case 11: put(t, "brand != \"House\""); break;
    case 12:
        put(t, "(");
        item_condition(g, t, depth + 1);
        put(t, ") and (");
        item_condition(g, t, depth + 1);
        put(t, ")");
        break;
    case 13:
        put(t, "(");
        item_condition(g, t, depth + 1);
        put(t, ") or (");
        item_condition(g, t, depth + 1);
        put(t, ")");
        break;
    default:
        put(t, "not (");
        item_condition(g, t, depth + 1);
        put(t, ")");
        break;
    }
}

/* A set for aggregates and item actions: items or an earlier let. */
static void set_ref(gen *g, text *t)
{
    unsigned k = pick(g, (unsigned)g->n_sets + 1);
    if (k == 0)
        put(t, "items");
    else
        put(t, "s%u", k - 1);
}

/* A discount target: also `order`. */
static void target(gen *g, text *t)
{
    if (pick(g, 4) == 0)
        put(t, "order");
    else
        set_ref(g, t);
}

/* The value of `let s<n>`: sets defined before it may be combined. */
static void set_definition(gen *g, text *t, int depth)
{
    switch (pick(g, 6)) {
    case 0: put(t, "items"); break;
    case 4:
        if (g->n_sets > 0) {
            put(t, "s%u", pick(g, (unsigned)g->n_sets));
            break;
        }
        /* fall through */
    case 1:
    case 2:
    case 3:
        put(t, "items where ");
        item_condition(g, t, 0);
        break;
    default:
        if (depth >= 2) {
            put(t, "items");
            break;
        }
        put(t, "(");
        set_definition(g, t, depth + 1);
        put(t, pick(g, 2) ? ") union (" : ") except (");
        set_definition(g, t, depth + 1);
        put(t, ")");
        break;
    }
}

static void condition(gen *g, text *t, int depth)
{
    switch (pick(g, depth < 2 ? 33 : 30)) {
    case 0:
        put(t, "order.subtotal >= ");
        put_money(t, g, pick_money(g));
        break;
    case 1:
        put(t, "sum(");
        set_ref(g, t);
        put(t, ") >= ");
        put_money(t, g, pick_money(g));
        break;
    case 2:
        put(t, "count(");
        set_ref(g, t);
        put(t, ") >= %lld", (long long)pick_count(g));
        break;
    case 3:
        put(t, "any(");
        set_ref(g, t);
        put(t, ")");
        break;
    case 4:
        put(t, "all(");
        set_ref(g, t);
        put(t, ", quantity <= %lld)", (long long)pick_count(g));
        break;
    case 5: put(t, g->tiers ? "customer.tier >= gold" : "customer.first_order"); break;
    case 6: put(t, "\"vip\" in customer.tags"); break;
    case 7: /* facts the cart often leaves unknown (three-valued: docs/semantics.md 13.1) */
        switch (pick(g, 4)) {
        case 0: put(t, "customer.first_order"); break;
        case 1: put(t, "not (today - customer.member_since < 365 days)"); break;
        case 2: put(t, "customer.birthday is unknown or customer.birthday_month"); break;
        default: put(t, "not (customer.orders >= 2) and customer.points is known"); break;
        }
        break;
    case 8: put(t, "order.items >= %lld", (long long)pick_count(g)); break;
    case 9: put(t, "weekday in [wednesday, saturday]"); break;
    case 10: put(t, "time in 09:00 .. 18:00"); break;
    case 11: put(t, "customer.orders >= %lld", (long long)pick_count(g)); break;
    case 12: put(t, "customer.is_birthday"); break;
    case 13: put(t, "order.channel = \"app\""); break;
    case 14:
        put(t, "max(");
        set_ref(g, t);
        put(t, ", price) >= ");
        put_money(t, g, pick_money(g));
        break;
    case 15:
        put(t, "sum(");
        set_ref(g, t);
        put(t, ", quantity) >= %lld", (long long)pick_count(g));
        break;
    case 16:
        put(t, "any(");
        set_ref(g, t);
        put(t, ", \"sale\" in tags)");
        break;
    /* arithmetic: checked in the VM, and able to overflow with the large amounts of the carts */
    case 17:
        put(t, "order.subtotal - ");
        put_money(t, g, pick_money(g));
        put(t, " >= ");
        put_money(t, g, pick_money(g));
        break;
    case 18:
        put(t, "sum(");
        set_ref(g, t);
        put(t, ") * %lld >= ", (long long)pick_count(g));
        put_money(t, g, pick_money(g));
        break;
    case 19: put(t, "today - customer.member_since >= %lld days", (long long)pick_count(g)); break;
    case 20: put(t, "order.delivery mod %lld = 0", (long long)(1 + pick_count(g))); break;
    case 21: put(t, "customer.points >= %lld", (long long)pick_count(g) * 100); break;
    case 22: put(t, "today in 2026-03-01 .. 2026-03-31"); break;
    case 23: put(t, "customer.birthday_month"); break;
    case 24: put(t, "\"C0\" in order.coupons"); break;
    case 25:
        put(t, "min(");
        set_ref(g, t);
        put(t, ", price) <= ");
        put_money(t, g, pick_money(g));
        break;
    case 26:
        put(t, "max(");
        set_ref(g, t);
        put(t, ", margin) >= %s", pick_percent(g));
        break;
    case 27:
        put(t, "order.shipping > ");
        put_money(t, g, pick_money(g));
        break;
    case 28:
        put(t, "order.original_subtotal * %s >= ", pick_percent(g));
        put_money(t, g, pick_money(g));
        break;
    case 29: put(t, g->tiers ? "customer.tier = silver" : "order.lines >= 2"); break;
    case 30:
        put(t, "(");
        condition(g, t, depth + 1);
        put(t, ") or (");
        condition(g, t, depth + 1);
        put(t, ")");
        break;
    case 31:
        put(t, "(");
        condition(g, t, depth + 1);
        put(t, ") and (");
        condition(g, t, depth + 1);
        put(t, ")");
        break;
    default:
        put(t, "not (");
        condition(g, t, depth + 1);
        put(t, ")");
        break;
    }
}

static void action(gen *g, text *t)
{
    put(t, "  then ");
    switch (pick(g, 14)) {
    case 0:
        put(t, "%s off ", pick_percent(g));
        target(g, t);
        break;
    case 1:
        put_money(t, g, pick_money(g));
        put(t, " off ");
        target(g, t);
        break;
    case 2:
        put_money(t, g, pick_money(g));
        put(t, " off each ");
        set_ref(g, t);
        break;
    case 3:
        put(t, "price ");
        set_ref(g, t);
        put(t, " at ");
        put_money(t, g, pick_money(g));
        break;
    case 4: {
        int64_t a = pick_count(g), b = a + pick_count(g);
        put(t, "price ");
        set_ref(g, t);
        put(t, " by quantity { %lld: ", (long long)a);
        put_money(t, g, pick_money(g));
        put(t, ", %lld: ", (long long)b);
        put_money(t, g, pick_money(g));
        put(t, " }");
        break;
    }
    case 5: {
        int64_t a = pick_money(g), b = a + pick_money(g);
        put(t, "tiers on ");
        target(g, t);
        put(t, " { ");
        put_money(t, g, a);
        put(t, ": ");
        put_money(t, g, pick_money(g));
        put(t, " off, ");
        put_money(t, g, b);
        put(t, ": %s off }", pick_percent(g));
        break;
    }
    case 6: {
        int64_t step = pick_money(g), off = pick_money(g);
        put(t, "every ");
        put_money(t, g, step);
        put(t, " on ");
        target(g, t);
        put(t, ": ");
        put_money(t, g, off);
        put(t, " off");
        unsigned k = pick(g, 4);
        if (k > 0) {
            put(t, " up to ");
            put_money(t, g, off * (int64_t)k);
        }
        break;
    }
    case 7:
        put(t, "buy %lld of ", (long long)pick_count(g));
        set_ref(g, t);
        put(t, " get %lld free", (long long)pick_count(g));
        break;
    case 8:
        put(t, "buy %lld of ", (long long)pick_count(g));
        set_ref(g, t);
        put(t, " get %lld at %s off", (long long)pick_count(g), pick_percent(g));
        break;
    case 9:
        put(t, "buy %lld of ", (long long)pick_count(g));
        set_ref(g, t);
        put(t, " get %lld of ", (long long)pick_count(g));
        set_ref(g, t);
        put(t, " free");
        break;
    case 10:
        put(t, "any %lld of ", (long long)(2 + pick(g, 4)));
        set_ref(g, t);
        put(t, " for ");
        put_money(t, g, pick_money(g));
        break;
    case 11:
        if (pick(g, 2))
            put(t, "gift \"G1\"");
        else
            put(t, "gift %lld of \"G2\" \"礼品\"", (long long)pick_count(g));
        break;
    case 12:
        switch (pick(g, 3)) {
        case 0: put(t, "free shipping"); break;
        case 1:
            put_money(t, g, pick_money(g));
            put(t, " off shipping");
            break;
        default: put(t, "%s off shipping", pick_percent(g)); break;
        }
        break;
    default: put(t, "effect \"card\" \"说明 %u\"", pick(g, 10)); break;
    }
    put(t, "\n");
}

static void promotion(gen *g, text *t, int i)
{
    promo_facts *f = &g->promo[i];
    f->cap = f->limit_money = -1;
    f->group = f->coupon = -1;
    put(t, "promotion p%d \"促销 %d\" {\n", i, i);
    unsigned flags = pick(g, 256) | pick(g, 256) << 8;
    if (flags & 1u) put(t, "  priority %u\n", pick(g, 5));
    if (flags & 2u) {
        f->group = (int)pick(g, 2);
        put(t, "  exclusive \"g%d\"\n", f->group);
    }
    if (flags & 4u) {
        f->stop = true;
        put(t, "  stop\n");
    }
    if (flags & 8u) {
        f->cap = pick_money(g);
        put(t, "  cap ");
        put_money(t, g, f->cap);
        put(t, "\n");
    }
    if (flags & 16u) put(t, "  limit %lld uses\n", (long long)pick_count(g));
    if (flags & 32u) {
        f->limit_money = pick_money(g);
        put(t, "  limit ");
        put_money(t, g, f->limit_money);
        put(t, " total\n");
    }
    if (flags & 64u) put(t, "  limit %lld per customer\n", (long long)pick_count(g));
    if (flags & 128u) put(t, "  measure original prices\n");
    if (flags & 256u) {
        f->coupon = (int)pick(g, 2);
        put(t, "  requires coupon \"C%d\"\n", f->coupon);
    }
    if (flags & 512u) {
        f->campaign = true;
        put(t, "  requires coupon from \"K0\"\n");
    }
    if (flags & 1024u)
        put(t, pick(g, 2) ? "  valid 2026-03-01 to 2026-03-31\n" : "  valid 2026-04-01 to 2026-04-30\n");
    if (flags & 2048u) put(t, pick(g, 2) ? "  every wednesday\n" : "  every saturday, sunday\n");
    if (flags & 4096u) put(t, "  hours 09:00 to 22:00\n");
    unsigned whens = (flags >> 13) & 3u;
    for (unsigned k = 0; k < whens; k++) {
        put(t, "  when ");
        condition(g, t, 0);
        put(t, "\n");
    }
    action(g, t);
    if (flags & 32768u) action(g, t);
    put(t, "}\n");
}

static void ruleset(gen *g, text *t)
{
    static const char *const currencies[] = { "CNY", "USD", "JPY" };
    static const char *const zones[] = { "Asia/Shanghai", "America/New_York", "Europe/London" };
    static const char *const roundings[] = { "half_up", "half_even", "down" };
    unsigned c = pick(g, 3);
    g->currency = currencies[c];
    g->exponent = c == 2 ? 0 : 2;
    unsigned flags = pick(g, 256);
    put(t, "ruleset \"fuzz\" {\n  currency %s\n", g->currency);
    if (flags & 1u) put(t, "  timezone \"%s\"\n", zones[pick(g, 3)]);
    if (flags & 2u) put(t, "  rounding %s\n", roundings[pick(g, 3)]);
    if (flags & 4u) put(t, "  coupons one per order\n");
    if (flags & 8u) put(t, "  max discount 60%%\n");
    put(t, "}\n");

    g->tiers = (flags & 16u) != 0;
    if (g->tiers) {
        put(t, "tier silver \"银卡\" { spend ");
        put_money(t, g, 100000);
        put(t, " within 365 days }\ntier gold \"金卡\" { spend ");
        put_money(t, g, 500000);
        put(t, " within 365 days benefit \"包邮\" }\n");
    }
    g->n_sets = 0;
    unsigned n_sets = 1 + pick(g, MAX_SETS);
    for (unsigned k = 0; k < n_sets; k++) {
        put(t, "let s%u = ", k);
        set_definition(g, t, 0);
        put(t, "\n");
        g->n_sets++;
    }
    g->n_promos = 1 + (int)pick(g, MAX_PROMOS);
    for (int i = 0; i < g->n_promos; i++) promotion(g, t, i);

    g->n_earns = (int)pick(g, MAX_EARNS + 1);
    for (int k = 0; k < g->n_earns; k++) {
        put(t, "earn e%d \"积分 %d\" {\n", k, k);
        if (pick(g, 2)) {
            put(t, "  when ");
            condition(g, t, 0);
            put(t, "\n");
        }
        int64_t per = pick_count(g);
        put(t, "  then %lld %s per ", (long long)per, per == 1 ? "point" : "points");
        put_money(t, g, pick_money(g));
        put(t, " on ");
        set_ref(g, t);
        put(t, "\n");
        g->earn_cap[k] = -1;
        if (pick(g, 2)) {
            g->earn_cap[k] = pick_count(g) * 10;
            put(t, "  cap %lld\n", (long long)g->earn_cap[k]);
        }
        put(t, "}\n");
    }
    if (g->n_earns > 0 && pick(g, 2)) {
        put(t, "multiplier m0 \"倍数\" {\n");
        if (pick(g, 2)) {
            put(t, "  when ");
            condition(g, t, 0);
            put(t, "\n");
        }
        put(t, pick(g, 2) ? "  then x2 on all\n" : "  then x1.5 on e0\n");
        put(t, "}\n");
    }
    g->redeem = pick(g, 2) != 0;
    if (g->redeem) {
        static const int64_t rate_points[] = { 1, 3, 100 };
        static const int64_t rate_money[] = { 1, 3, 100 };
        static const char *const pays[] = { "shipping", "goods", "shipping, goods" };
        put(t, "redeem {\n  rate %lld points = ", (long long)rate_points[pick(g, 3)]);
        put_money(t, g, rate_money[pick(g, 3)]);
        put(t, "\n  pays for %s\n", pays[pick(g, 3)]);
        if (pick(g, 2)) put(t, "  max %s\n", pick_percent(g));
        if (pick(g, 2)) put(t, "  min balance %lld\n", (long long)pick_count(g) * 10);
        if (pick(g, 2)) {
            put(t, "  when ");
            condition(g, t, 0);
            put(t, "\n");
        }
        put(t, "}\n");
    }
    if (pick(g, 2)) put(t, "points {\n  pending 7 days\n  expire after 365 days\n}\n");
}

static void cart(gen *g, text *t, cart_facts *cf)
{
    static const char *const times[] = { "2026-03-04T10:00:00+08:00", "2026-03-07T23:30:00Z",
                                         "2026-04-12T08:00:00-05:00", "2026-03-04T21:59:59+08:00" };
    static const char *const skus[] = { "A", "B", "C", "SOCKS-01", "TEA-LJ" };
    static const char *const categories[] = { NULL, "tea", "tea/green", "snacks", "apparel/socks" };
    static const char *const brands[] = { NULL, "Acme", "House" };
    static const int64_t prices[] = { 0, 1, 99, 100, 1999, 2500, 12800, 99999, 1000000, 1000000000000 };
    static const int64_t quantities[] = { 1, 1, 2, 3, 5, 7, 24, 1000, 999999 };
    static const int64_t balances[] = { 0, 50, 2300, 100000 };
    memset(cf, 0, sizeof *cf);
    cf->usage_promo = cf->excluded = -1;

    cf->shipping = pick(g, 2) ? pick_money(g) : 0;
    put(t, "{\"order\": {\"time\": \"%s\", \"shipping\": ", times[pick(g, COUNT_OF(times))]);
    put_json_money(t, g, cf->shipping);
    if (pick(g, 2)) put(t, ", \"channel\": \"app\"");
    switch (pick(g, 3)) {
    case 0: cf->points_to_redeem = 0; break;
    case 1:
        cf->points_to_redeem = -1;
        put(t, ", \"points_to_redeem\": \"max\"");
        break;
    default:
        cf->points_to_redeem = pick_count(g) * 50;
        put(t, ", \"points_to_redeem\": %lld", (long long)cf->points_to_redeem);
        break;
    }
    put(t, "},\n");

    unsigned cflags = pick(g, 256);
    cf->points_balance = balances[pick(g, COUNT_OF(balances))];
    if (pick(g, 5) == 0) { /* no balance given: unknown, so nothing to redeem */
        cf->points_balance = 0;
        put(t, " \"customer\": {\"points\": null");
    } else {
        put(t, " \"customer\": {\"points\": %lld", (long long)cf->points_balance);
    }
    if (cflags & 1u) { /* a tier only when the rules define tiers: an unknown one is an error */
        bool gold = pick(g, 2);
        if (g->tiers) put(t, ", \"tier\": \"%s\"", gold ? "gold" : "silver");
    }
    if (cflags & 2u) put(t, ", \"tags\": [\"vip\"]");
    if (cflags & 4u) put(t, ", \"birthday\": \"%s\"", pick(g, 2) ? "1990-03-04" : "03-07");
    if (cflags & 8u) put(t, ", \"member_since\": \"2020-01-01\"");
    if (cflags & 16u) put(t, ", \"first_order\": true");
    if (cflags & 32u) put(t, ", \"orders\": %lld", (long long)pick_count(g));
    put(t, "},\n \"lines\": [");

    /* now and then more lines than one 64-bit word of line bits holds */
    unsigned n_lines = pick(g, 9);
    if (n_lines == 8 && pick(g, 2)) n_lines = 64 + pick(g, 16);
    for (unsigned i = 0; i < n_lines; i++) {
        int64_t price = prices[pick(g, COUNT_OF(prices))], qty = quantities[pick(g, COUNT_OF(quantities))];
        int64_t amount;
        if (__builtin_mul_overflow(price, qty, &amount) ||
            __builtin_add_overflow(cf->subtotal, amount, &cf->subtotal))
            cf->overflow = true;
        put(t, "%s\n  {\"sku\": \"%s\", \"price\": ", i ? "," : "", skus[pick(g, COUNT_OF(skus))]);
        put_json_money(t, g, price);
        put(t, ", \"quantity\": %lld", (long long)qty);
        unsigned lflags = pick(g, 256);
        const char *cat = categories[pick(g, COUNT_OF(categories))];
        const char *brand = brands[pick(g, COUNT_OF(brands))];
        if (cat) put(t, ", \"category\": \"%s\"", cat);
        if (brand) put(t, ", \"brand\": \"%s\"", brand);
        if (lflags & 1u) put(t, ", \"tags\": [\"sale\"]");
        if (lflags & 2u) put(t, ", \"margin\": \"%s\"", pick_percent(g));
        if (lflags & 4u) put(t, ", \"attrs\": {\"origin\": \"Hangzhou\"}");
        put(t, "}");
    }
    put(t, "]");

    unsigned coupons = pick(g, 16);
    if (coupons) {
        static const char *const statuses[] = { "valid",   "unchecked",        "expired",
                                                "used_up", "not_for_customer", "unknown" };
        put(t, ",\n \"coupons\": [");
        bool first = true;
        for (int k = 0; k < 2; k++) {
            if (!(coupons & (1u << k))) continue;
            unsigned s = pick(g, 6);
            cf->coupon_ok[k] = s < 2;
            put(t, "%s{\"code\": \"C%d\", \"status\": \"%s\"}", first ? "" : ", ", k, statuses[s]);
            first = false;
        }
        if (coupons & 4u) {
            unsigned s = pick(g, 6);
            cf->campaign_ok = s < 2;
            put(t, "%s{\"code\": \"K0-1\", \"campaign\": \"K0\", \"status\": \"%s\"}", first ? "" : ", ",
                statuses[s]);
            first = false;
        }
        if (coupons & 8u) put(t, "%s\"NOBODY\"", first ? "" : ", ");
        put(t, "]");
    }
    if (pick(g, 3) == 0) {
        cf->usage_promo = (int)pick(g, (unsigned)g->n_promos);
        cf->usage_money = pick_money(g);
        put(t, ",\n \"usage\": {\"p%d\": {\"uses\": %lld, \"money\": ", cf->usage_promo,
            (long long)pick_count(g));
        put_json_money(t, g, cf->usage_money);
        put(t, ", \"customer_uses\": %u}}", pick(g, 3));
    }
    if (pick(g, 4) == 0) {
        cf->excluded = (int)pick(g, (unsigned)g->n_promos);
        put(t, ",\n \"exclude\": [\"p%d\"]", cf->excluded);
    }
    put(t, "}\n");
}

/* ------------------------------------------------------------------ the checks */

static void check_against_facts(const gen *g, const perk_program *prog, const perk_result *r,
                                const cart_facts *cf, bool explained)
{
    if (r->subtotal != cf->subtotal)
        fuzz_fail("subtotal %lld, the cart sums to %lld", (long long)r->subtotal, (long long)cf->subtotal);
    if (r->shipping_before != cf->shipping)
        fuzz_fail("shipping %lld, the cart says %lld", (long long)r->shipping_before,
                  (long long)cf->shipping);
    if (r->n_promotions != (uint32_t)g->n_promos)
        fuzz_fail("%u promotion results for %d", r->n_promotions, g->n_promos);
    bool stopped = false, group_applied[2] = { false, false };
    for (uint32_t p = 0; p < r->n_promotions; p++) {
        const perk_promotion_result *pr = &r->promotions[p];
        const char *id = perk_program_promotion_id(prog, p);
        int i = id && id[0] == 'p' ? atoi(id + 1) : -1;
        if (i < 0 || i >= g->n_promos) fuzz_fail("promotion %u has id %s", p, id ? id : "(null)");
        const promo_facts *f = &g->promo[i];
        int64_t total = pr->discount + pr->shipping_discount;
        bool applied = pr->reason == PERK_REASON_APPLIED;
        /* a context explaining only what applied says UNEXPLAINED for every other promotion */
        bool unexplained = !explained && pr->reason == PERK_REASON_UNEXPLAINED;
        if (!explained && !applied && !unexplained)
            fuzz_fail("p%d: reason %d from a lean context", i, (int)pr->reason);
        if (i == cf->excluded && pr->reason != PERK_REASON_EXCLUDED && !unexplained)
            fuzz_fail("p%d was excluded but ran", i);
        if (stopped && pr->reason != PERK_REASON_STOPPED && pr->reason != PERK_REASON_EXCLUDED &&
            !unexplained)
            fuzz_fail("p%d ran after a stop", i);
        if (f->cap >= 0 && total > f->cap)
            fuzz_fail("p%d gave %lld over its cap %lld", i, (long long)total, (long long)f->cap);
        if (f->limit_money >= 0) {
            int64_t used = i == cf->usage_promo ? cf->usage_money : 0;
            if (applied && total > f->limit_money - used)
                fuzz_fail("p%d gave %lld with %lld of its budget %lld used", i, (long long)total,
                          (long long)used, (long long)f->limit_money);
        }
        if (applied && f->group >= 0) {
            if (group_applied[f->group]) fuzz_fail("p%d applied in group g%d after another", i, f->group);
            group_applied[f->group] = true;
        }
        if (applied && f->coupon >= 0 && !cf->coupon_ok[f->coupon])
            fuzz_fail("p%d applied without C%d", i, f->coupon);
        if (applied && f->campaign && !cf->campaign_ok) fuzz_fail("p%d applied without a K0 code", i);
        if (applied && f->stop) stopped = true;
    }
    for (uint32_t k = 0; k < r->n_points; k++) {
        const char *id = perk_program_earn_id(prog, r->points[k].earn_rule);
        int e = id && id[0] == 'e' ? atoi(id + 1) : -1;
        if (e < 0 || e >= g->n_earns) fuzz_fail("earn result %u has id %s", k, id ? id : "(null)");
        if (g->earn_cap[e] >= 0 && r->points[k].points > g->earn_cap[e])
            fuzz_fail("e%d earned %lld over its cap %lld", e, (long long)r->points[k].points,
                      (long long)g->earn_cap[e]);
    }
    if (!g->redeem && (r->redeem_value != 0 || r->points_redeemed != 0))
        fuzz_fail("points used without a redeem block");
    if (r->points_redeemed > cf->points_balance) fuzz_fail("more points used than the balance");
    if (cf->points_to_redeem >= 0 && r->points_redeemed > cf->points_to_redeem)
        fuzz_fail("more points used than asked");
}

/* Feeds and evaluates one generated cart; returns its result as JSON (malloc'ed) or NULL when the
 * cart was refused for an amount that does not fit or the evaluation overflowed. */
static char *run_cart(const gen *g, perk_program *prog, perk_context *ctx, const result_names *names,
                      const text *json, const cart_facts *cf, const perk_limits *lim, unsigned json_flags)
{
    char msg[512];
    cart_doc *doc = cart_json_parse(json->buf, json->len, perk_program_exponent(prog),
                                    perk_program_currency(prog), lim, msg, sizeof msg);
    if (doc == NULL) fuzz_fail("a generated cart does not parse: %s\n%s", msg, json->buf);
    perk_status st = cart_json_feed(doc, ctx, prog, msg, sizeof msg);
    if (st != PERK_OK) {
        if (st == PERK_OVERFLOW && cf->overflow) {
            cart_json_free(doc);
            return NULL;
        }
        fuzz_fail("a generated cart is refused: %s\n%s", msg, json->buf);
    }
    if (cf->overflow) fuzz_fail("a cart whose subtotal overflows was accepted");
    const perk_result *r = perk_evaluate(ctx);
    fuzz_check_result(r, lim);
    char *out = NULL;
    if (r->status == PERK_OK) {
        check_against_facts(g, prog, r, cf, lim->explain == PERK_EXPLAIN_ALL);
        out = result_json_render(names, r, doc, json_flags);
        if (out == NULL) fuzz_fail("rendering failed");
        fuzz_render_same(names, r, doc);
    } else if (r->status != PERK_OVERFLOW) {
        fuzz_fail("evaluation ended with %s: %s", perk_status_message(r->status), perk_context_error(ctx));
    }
    cart_json_free(doc);
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static gen g;
    static text rules, cart_a, cart_b;
    memset(&g, 0, sizeof g);
    g.data = data;
    g.size = size;
    rules.len = cart_a.len = cart_b.len = 0;
    ruleset(&g, &rules);
    cart_facts fa, fb;
    cart(&g, &cart_a, &fa);
    cart(&g, &cart_b, &fb);
    if (getenv("FUZZ_PRINT") != NULL) /* to see what an input stands for */
        fprintf(stderr, "%s\n--- cart A\n%s--- cart B\n%s", rules.buf, cart_a.buf, cart_b.buf);

    compiler c;
    compiler_init(&c);
    uint8_t *bytes = NULL;
    size_t len = 0;
    if (!compiler_compile_text(&c, "pipeline.perk", rules.buf, rules.len, &bytes, &len)) {
        diag_sort(&c.diags);
        diag_print_text(&c.diags, stderr, false);
        fuzz_fail("a generated ruleset does not compile:\n%s", rules.buf);
    }
    compiler_free(&c);
    perk_error err;
    perk_program *prog = perk_program_load(bytes, len, &err);
    free(bytes);
    if (prog == NULL) fuzz_fail("a compiled ruleset does not load: %s", err.message);
    perk_limits lim = fuzz_limits();
    /* a small room for near-miss hints half of the time, so that promotions left unvisited once
     * the hints are full (the rule index's hintable ones) are checked against the plain pass */
    if (pick(&g, 2)) lim.max_hints = pick(&g, 4);
    perk_context *ctx = perk_context_new(prog, &lim, &err);
    if (ctx == NULL) fuzz_fail("perk_context_new: %s", err.message);
    result_names *names = result_names_from_program(prog);
    if (names == NULL) fuzz_fail("out of memory");

    char *first = run_cart(&g, prog, ctx, names, &cart_a, &fa, &lim, 0);
    char *other = run_cart(&g, prog, ctx, names, &cart_b, &fb, &lim, 0);
    char *again = run_cart(&g, prog, ctx, names, &cart_a, &fa, &lim, 0);
    if ((first == NULL) != (again == NULL) || (first && strcmp(first, again) != 0))
        fuzz_fail("the same cart gave two results:\n%s\n%s", first ? first : "(none)",
                  again ? again : "(none)");
    /* the rule index changes nothing: the plain pass (every promotion visited, every guard and
     * precheck checked against the interpreter) gives the same result, byte for byte */
    perk_context *plain = perk_context_new(prog, &lim, &err);
    if (plain == NULL) fuzz_fail("perk_context_new: %s", err.message);
    eval_set_rule_index(plain, false);
    char *reference = run_cart(&g, prog, plain, names, &cart_a, &fa, &lim, 0);
    if ((first == NULL) != (reference == NULL) || (first && strcmp(first, reference) != 0))
        fuzz_fail("the rule index changed the result:\nindex on:  %s\nindex off: %s",
                  first ? first : "(none)", reference ? reference : "(none)");
    perk_context_free(plain);
    free(reference);
    /* a context explaining only what applied gives the same applied promotions, points, hints,
     * coupon verdicts and totals (its other entries are UNEXPLAINED, which the applied-only JSON
     * counts without listing), after another cart too */
    char *want = run_cart(&g, prog, ctx, names, &cart_a, &fa, &lim, RESULT_JSON_APPLIED_ONLY);
    perk_limits lean_lim = lim;
    lean_lim.explain = PERK_EXPLAIN_APPLIED;
    perk_context *lean = perk_context_new(prog, &lean_lim, &err);
    if (lean == NULL) fuzz_fail("perk_context_new: %s", err.message);
    free(run_cart(&g, prog, lean, names, &cart_b, &fb, &lean_lim, RESULT_JSON_APPLIED_ONLY));
    char *lean_a = run_cart(&g, prog, lean, names, &cart_a, &fa, &lean_lim, RESULT_JSON_APPLIED_ONLY);
    if ((want == NULL) != (lean_a == NULL) || (want && strcmp(want, lean_a) != 0))
        fuzz_fail("explaining only what applied changed the result:\nall:     %s\napplied: %s",
                  want ? want : "(none)", lean_a ? lean_a : "(none)");
    perk_context_free(lean);
    free(want);
    free(lean_a);
    free(first);
    free(other);
    free(again);

    result_names_free(names);
    perk_context_free(ctx);
    perk_program_free(prog);
    return 0;
}
