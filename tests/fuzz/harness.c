/* harness.c - shared by the fuzz targets: limits, fixed carts, result invariants, rendering
 * (see harness.h). */
#include "harness.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/explain.h"
#include "json/result_json.h"

#include "../unit/ref/result_json_ref.h"

perk_limits fuzz_limits(void)
{
    perk_limits l = perk_limits_default();
    l.max_lines = 130; /* three 64-bit words of line bits, yet a cheap context */
    l.max_quantity = 1000000;
    l.max_tags = 8;
    l.max_coupons = 8;
    l.instruction_budget = 200000;
    return l;
}

_Noreturn void fuzz_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("fuzz: invariant violated: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

void fuzz_check_totals(const perk_result *r)
{
    if (r->n_lines > 0 && r->lines == NULL) fuzz_fail("n_lines %u without lines", r->n_lines);
    if (r->n_allocations > 0 && r->allocations == NULL) fuzz_fail("allocations missing");
    if (r->n_promotions > 0 && r->promotions == NULL) fuzz_fail("promotions missing");
    if (r->n_points > 0 && r->points == NULL) fuzz_fail("points missing");

    /* allocations: positive, in range, grouped by line */
    int64_t alloc_sum = 0;
    for (uint32_t k = 0; k < r->n_allocations; k++) {
        const perk_allocation *a = &r->allocations[k];
        if (a->amount <= 0) fuzz_fail("allocation %u is %lld", k, (long long)a->amount);
        if (a->line >= r->n_lines) fuzz_fail("allocation %u: line %u of %u", k, a->line, r->n_lines);
        if (a->promotion >= r->n_promotions)
            fuzz_fail("allocation %u: promotion %u of %u", k, a->promotion, r->n_promotions);
        if (k > 0 && r->allocations[k - 1].line > a->line) fuzz_fail("allocations not grouped by line");
        if (__builtin_add_overflow(alloc_sum, a->amount, &alloc_sum)) fuzz_fail("allocations overflow");
    }
    if (alloc_sum != r->discount)
        fuzz_fail("allocations sum to %lld, discount is %lld", (long long)alloc_sum, (long long)r->discount);

    /* lines */
    int64_t subtotal = 0, final_sum = 0;
    uint32_t n_gift_lines = 0;
    for (uint32_t i = 0; i < r->n_lines; i++) {
        const perk_line_result *l = &r->lines[i];
        if (l->original < 0 || l->final < 0)
            fuzz_fail("line %u: original %lld final %lld", i, (long long)l->original, (long long)l->final);
        if ((uint64_t)l->first_allocation + l->n_allocations > r->n_allocations)
            fuzz_fail("line %u: allocations [%u, +%u) of %u", i, l->first_allocation, l->n_allocations,
                      r->n_allocations);
        int64_t mine = 0;
        for (uint32_t k = 0; k < l->n_allocations; k++) {
            const perk_allocation *a = &r->allocations[l->first_allocation + k];
            if (a->line != i) fuzz_fail("line %u lists an allocation of line %u", i, a->line);
            mine += a->amount; /* bounded by alloc_sum, checked above */
        }
        if (l->final != l->original - mine)
            fuzz_fail("line %u: final %lld != original %lld - allocations %lld", i, (long long)l->final,
                      (long long)l->original, (long long)mine);
        if (l->is_gift) {
            n_gift_lines++;
            if (l->original != 0 || l->final != 0 || l->n_allocations != 0)
                fuzz_fail("gift line %u has money", i);
            if (l->gift_promotion >= r->n_promotions) fuzz_fail("gift line %u: promotion out of range", i);
        } else if (n_gift_lines > 0) {
            fuzz_fail("cart line %u after a gift line", i);
        }
        if (__builtin_add_overflow(subtotal, l->original, &subtotal)) fuzz_fail("subtotal overflows");
        final_sum += l->final; /* <= subtotal */
    }
    if (n_gift_lines != r->n_gifts) fuzz_fail("%u gift lines for %u gifts", n_gift_lines, r->n_gifts);
    if (subtotal != r->subtotal)
        fuzz_fail("subtotal %lld != sum of originals %lld", (long long)r->subtotal, (long long)subtotal);
    if (final_sum != r->subtotal - r->discount) fuzz_fail("finals do not sum to subtotal - discount");

    /* promotions: each discount is the sum of its own allocations */
    int64_t promo_goods = 0, promo_ship = 0;
    for (uint32_t p = 0; p < r->n_promotions; p++) {
        const perk_promotion_result *pr = &r->promotions[p];
        if (pr->promotion != p) fuzz_fail("promotion result %u says %u", p, pr->promotion);
        if ((unsigned)pr->reason >= PERK_REASON_COUNT)
            fuzz_fail("promotion %u: reason %d", p, (int)pr->reason);
        if (pr->discount < 0 || pr->shipping_discount < 0) fuzz_fail("promotion %u: negative discount", p);
        if (pr->reason != PERK_REASON_APPLIED && (pr->discount != 0 || pr->shipping_discount != 0))
            fuzz_fail("promotion %u did not apply but gave %lld", p, (long long)pr->discount);
        int64_t mine = 0;
        for (uint32_t k = 0; k < r->n_allocations; k++)
            if (r->allocations[k].promotion == p) mine += r->allocations[k].amount;
        if (mine != pr->discount)
            fuzz_fail("promotion %u: allocations sum to %lld, its discount is %lld", p, (long long)mine,
                      (long long)pr->discount);
        promo_goods += pr->discount;
        if (__builtin_add_overflow(promo_ship, pr->shipping_discount, &promo_ship))
            fuzz_fail("shipping overflow");
    }
    if (promo_goods != r->discount) fuzz_fail("promotion discounts do not sum to the discount");

    /* shipping */
    if (r->shipping_before < 0 || r->shipping_after < 0 || r->shipping_after > r->shipping_before)
        fuzz_fail("shipping before %lld after %lld", (long long)r->shipping_before,
                  (long long)r->shipping_after);
    if (promo_ship != r->shipping_before - r->shipping_after)
        fuzz_fail("shipping discounts %lld != %lld - %lld", (long long)promo_ship,
                  (long long)r->shipping_before, (long long)r->shipping_after);

    /* redemption */
    if (r->redeem_goods < 0 || r->redeem_shipping < 0 ||
        r->redeem_value != r->redeem_goods + r->redeem_shipping)
        fuzz_fail("redeem %lld = goods %lld + shipping %lld", (long long)r->redeem_value,
                  (long long)r->redeem_goods, (long long)r->redeem_shipping);
    if (r->redeem_goods > final_sum || r->redeem_shipping > r->shipping_after)
        fuzz_fail("points pay more than there is to pay");
    if (r->points_redeemed < 0 || r->points_redeemable < 0 || r->points_redeemed > r->points_redeemable)
        fuzz_fail("points redeemed %lld of %lld redeemable", (long long)r->points_redeemed,
                  (long long)r->points_redeemable);
    if (r->redeem_value > 0 && r->points_redeemed == 0)
        fuzz_fail("redeem value %lld for no points", (long long)r->redeem_value);

    /* payable */
    int64_t payable;
    if (__builtin_sub_overflow(r->subtotal, r->discount, &payable) ||
        __builtin_add_overflow(payable, r->shipping_after, &payable) ||
        __builtin_sub_overflow(payable, r->redeem_value, &payable))
        fuzz_fail("payable overflows in an OK result");
    if (payable != r->payable || payable < 0)
        fuzz_fail("payable %lld, expected %lld - %lld + %lld - %lld = %lld", (long long)r->payable,
                  (long long)r->subtotal, (long long)r->discount, (long long)r->shipping_after,
                  (long long)r->redeem_value, (long long)payable);

    /* points */
    int64_t points = 0;
    for (uint32_t k = 0; k < r->n_points; k++) {
        const perk_points_result *pt = &r->points[k];
        if (pt->points < 0 || pt->base < 0)
            fuzz_fail("earn result %u: %lld points", k, (long long)pt->points);
        if (pt->mult_num <= 0 || pt->mult_den <= 0)
            fuzz_fail("earn result %u: multiplier %lld/%lld", k, (long long)pt->mult_num,
                      (long long)pt->mult_den);
        if (__builtin_add_overflow(points, pt->points, &points)) fuzz_fail("points overflow");
    }
    if (points != r->points_earned)
        fuzz_fail("points earned %lld != sum %lld", (long long)r->points_earned, (long long)points);

    for (uint32_t g = 0; g < r->n_gifts; g++)
        if (r->gifts[g].quantity <= 0 || r->gifts[g].promotion >= r->n_promotions) fuzz_fail("gift %u", g);
    for (uint32_t h = 0; h < r->n_hints; h++)
        if (r->hints[h].shortfall <= 0 || r->hints[h].promotion >= r->n_promotions) fuzz_fail("hint %u", h);
}

void fuzz_check_result(const perk_result *r, const perk_limits *limits)
{
    if (r == NULL) fuzz_fail("perk_evaluate returned NULL");
    switch (r->status) {
    case PERK_OK: fuzz_check_totals(r); break;
    case PERK_OVERFLOW: /* amounts near the limits, or a division by zero in a rule */
    case PERK_BUDGET:
    case PERK_LIMIT: /* more than 64 goods-discounting promotions */ break;
    default: fuzz_fail("evaluation ended with %s", perk_status_message(r->status));
    }
    if (r->instructions > limits->instruction_budget + 1)
        fuzz_fail("%llu instructions, budget %llu", (unsigned long long)r->instructions,
                  (unsigned long long)limits->instruction_budget);
}

void fuzz_render_same(const result_names *names, const perk_result *r, const cart_doc *doc)
{
    for (int f = 0; f < 8; f++) {
        char *json = result_json_render(names, r, doc, f);
        char *ref = ref_result_json_render(names, r, doc, f);
        if (json && ref && strcmp(json, ref) != 0)
            fuzz_fail("flags %d: the renderer differs from the jansson reference:\n%s\n%s", f, json, ref);
        free(json);
        free(ref);
    }
}

void fuzz_render(const perk_program *prog, const perk_result *r, const cart_doc *doc)
{
    static FILE *null_out;
    if (null_out == NULL) null_out = fopen("/dev/null", "w");
    result_names *names = result_names_from_program(prog);
    if (names == NULL) return;
    fuzz_render_same(names, r, doc);
    if (null_out) explain_print(null_out, names, r, doc, EXPLAIN_COLOR);
    result_names_free(names);
}

/* ------------------------------------------------------------------ fixed carts */

static void must(perk_context *ctx, perk_status st, const char *what)
{
    if (st != PERK_OK) fuzz_fail("fixed cart: %s refused: %s", what, perk_context_error(ctx));
}

static void evaluate_and_check(perk_context *ctx, const perk_program *prog, const perk_limits *lim)
{
    const perk_result *r = perk_evaluate(ctx);
    fuzz_check_result(r, lim);
    fuzz_render(prog, r, NULL);
}

/* A guest with nothing in the cart but shipping. */
static void cart_empty(perk_context *ctx)
{
    perk_order o = { .time = FUZZ_ORDER_TIME, .shipping = 1200, .channel = "app" };
    must(ctx, perk_cart_set_order(ctx, &o), "order");
}

/* The tea shop cart: a gold member with tags, a birthday today, points and three coupons. */
static void cart_tea(perk_context *ctx)
{
    static const char *const vip[] = { "vip", "newsletter" };
    perk_customer c = { .id = "c42",
                        .tier = "gold",
                        .tags = vip,
                        .n_tags = 2,
                        .birthday_month = 3,
                        .birthday_day = 4,
                        .birthday_year = 1990,
                        .member_since_days = 18262,
                        .has_member_since = true,
                        .order_count = 12,
                        .has_order_count = true,
                        .points_balance = 2300,
                        .has_points_balance = true };
    must(ctx, perk_cart_set_customer(ctx, &c), "customer");
    perk_order o = { .id = "A1",
                     .time = FUZZ_ORDER_TIME,
                     .channel = "miniprogram",
                     .shipping = 1200,
                     .subscription_plan = "weekly_box",
                     .delivery_number = 4,
                     .points_to_redeem = -1 };
    must(ctx, perk_cart_set_order(ctx, &o), "order");
    static const char *const organic[] = { "organic" }, *const clearance[] = { "clearance", "final_sale" };
    static const perk_attr origin[] = { { "origin", "Hangzhou" } };
    perk_line lines[] = {
        { .id = "1",
          .sku = "TEA-LJ",
          .name = "西湖龙井",
          .category = "tea/green",
          .brand = "West Lake",
          .tags = organic,
          .n_tags = 1,
          .attrs = origin,
          .n_attrs = 1,
          .unit_price = 12800,
          .quantity = 2,
          .margin_ppm = 450000,
          .has_margin = true },
        { .id = "2",
          .sku = "TEA-PUER",
          .category = "tea/dark",
          .tags = clearance,
          .n_tags = 2,
          .unit_price = 8800,
          .quantity = 1,
          .margin_ppm = 300000,
          .has_margin = true },
        { .id = "3",
          .sku = "CUP-01",
          .category = "teaware",
          .brand = "Acme",
          .unit_price = 4500,
          .quantity = 1,
          .margin_ppm = 500000,
          .has_margin = true },
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        must(ctx, perk_cart_add_line(ctx, &lines[i]), "line");
    must(ctx, perk_cart_add_coupon(ctx, "SPRING10", NULL, PERK_COUPON_UNCHECKED), "coupon");
    must(ctx, perk_cart_add_coupon(ctx, "X7KD-2Q9P", "SPRING", PERK_COUPON_VALID), "coupon");
    must(ctx, perk_cart_add_coupon(ctx, "NEWS-1", "NEWS", PERK_COUPON_EXPIRED), "coupon");
}

/* A storefront cart: many categories, a free line, bulk quantities, budgets used, an exclusion. */
static void cart_mixed(perk_context *ctx, const perk_program *prog)
{
    static const char *const tags[] = { "vip" };
    perk_customer c = { .tier = "silver",
                        .tags = tags,
                        .n_tags = 1,
                        .birthday_month = 2,
                        .birthday_day = 29,
                        .first_order = true,
                        .has_first_order = true,
                        .points_balance = 100000,
                        .has_points_balance = true };
    must(ctx, perk_cart_set_customer(ctx, &c), "customer");
    perk_order o = { .time = FUZZ_ORDER_TIME + 13 * 3600, .shipping = 800, .points_to_redeem = 500 };
    must(ctx, perk_cart_set_order(ctx, &o), "order");
    static const char *const sale[] = { "sale", "organic", "final_sale" };
    perk_line lines[] = {
        { .sku = "SOCKS-01", .category = "apparel/socks", .unit_price = 3900, .quantity = 3 },
        { .sku = "WATER-500",
          .category = "drinks",
          .unit_price = 200,
          .quantity = 24,
          .margin_ppm = 100000,
          .has_margin = true },
        { .sku = "CHIPS", .category = "snacks", .unit_price = 1250, .quantity = 5 },
        { .sku = "NUTS",
          .category = "snacks",
          .brand = "House",
          .tags = sale,
          .n_tags = 3,
          .unit_price = 1999,
          .quantity = 2,
          .margin_ppm = 1000000,
          .has_margin = true },
        { .sku = "FREEBIE",
          .category = "snacks",
          .unit_price = 0,
          .quantity = 1,
          .margin_ppm = 0,
          .has_margin = true },
        { .sku = "TEE",
          .category = "apparel",
          .brand = "Acme",
          .unit_price = 9999,
          .quantity = 1,
          .margin_ppm = 600000,
          .has_margin = true },
        { .sku = "BULK", .category = "tea/green/longjing", .unit_price = 7, .quantity = 999983 },
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        must(ctx, perk_cart_add_line(ctx, &lines[i]), "line");
    must(ctx, perk_cart_add_coupon(ctx, "DRINK5", NULL, PERK_COUPON_VALID), "coupon");
    must(ctx, perk_cart_add_coupon(ctx, "N1", "NEWS", PERK_COUPON_UNCHECKED), "coupon");
    size_t n = perk_program_promotion_count(prog);
    if (n > 0) {
        perk_usage u = { .uses = 10, .money = 4992, .customer_uses = 0 };
        must(ctx, perk_cart_set_usage(ctx, 0, &u), "usage");
    }
    if (n > 1) must(ctx, perk_cart_exclude(ctx, n - 1), "exclude");
}

/* Amounts at the limits: overflow paths. */
static void cart_huge(perk_context *ctx, const perk_limits *lim)
{
    perk_customer c = { .member_since_days = 0,
                        .has_member_since = true,
                        .order_count = INT64_MAX,
                        .has_order_count = true,
                        .points_balance = INT64_MAX,
                        .has_points_balance = true };
    must(ctx, perk_cart_set_customer(ctx, &c), "customer");
    perk_order o = { .time = FUZZ_ORDER_TIME, .shipping = lim->max_money, .points_to_redeem = -1 };
    must(ctx, perk_cart_set_order(ctx, &o), "order");
    perk_line a = { .sku = "TEA-LJ",
                    .category = "tea",
                    .unit_price = lim->max_money,
                    .quantity = 1000,
                    .margin_ppm = 999999,
                    .has_margin = true };
    perk_line b = { .sku = "CUP-01", .category = "teaware", .unit_price = lim->max_money - 1, .quantity = 3 };
    must(ctx, perk_cart_add_line(ctx, &a), "line");
    must(ctx, perk_cart_add_line(ctx, &b), "line");
}

/* More lines than one 64-bit word of line bits holds: sets, aggregates and allocations span words. */
static void cart_many(perk_context *ctx)
{
    static const char *const skus[] = { "TEA-LJ", "TEA-PUER", "CUP-01", "SOCKS-01", "WATER-500", "CHIPS" };
    static const char *const cats[] = { "tea/green",     "tea/dark", "teaware",
                                        "apparel/socks", "drinks",   "snacks" };
    static const char *const sale[] = { "sale", "clearance" };
    perk_customer c = { .tier = "gold",
                        .member_since_days = 20000,
                        .has_member_since = true,
                        .order_count = 3,
                        .has_order_count = true,
                        .points_balance = 5000,
                        .has_points_balance = true };
    must(ctx, perk_cart_set_customer(ctx, &c), "customer");
    perk_order o = { .time = FUZZ_ORDER_TIME, .shipping = 1000, .points_to_redeem = -1 };
    must(ctx, perk_cart_set_order(ctx, &o), "order");
    for (int i = 0; i < 70; i++) {
        perk_line l = { .sku = skus[i % 6],
                        .category = cats[(i / 6) % 6],
                        .brand = i % 5 ? NULL : "Acme",
                        .tags = sale,
                        .n_tags = (size_t)(i % 3),
                        .unit_price = 100 + 37 * i,
                        .quantity = 1 + i % 4,
                        .margin_ppm = 50000 * (i % 7),
                        .has_margin = i % 7 != 0 };
        must(ctx, perk_cart_add_line(ctx, &l), "line");
    }
    must(ctx, perk_cart_add_coupon(ctx, "SPRING10", NULL, PERK_COUPON_VALID), "coupon");
}

void fuzz_eval_fixed_carts(perk_program *prog)
{
    perk_limits lim = fuzz_limits();
    perk_error err;
    perk_context *ctx = perk_context_new(prog, &lim, &err);
    if (ctx == NULL) {
        /* a verified program may still ask for more than a context can hold */
        if (err.status != PERK_NOMEM && err.status != PERK_LIMIT)
            fuzz_fail("perk_context_new: %s", err.message);
        return;
    }
    for (int k = 0; k < 5; k++) {
        perk_cart_reset(ctx);
        switch (k) {
        case 0: cart_empty(ctx); break;
        case 1: cart_tea(ctx); break;
        case 2: cart_mixed(ctx, prog); break;
        case 3: cart_many(ctx); break;
        default: cart_huge(ctx, &lim); break;
        }
        evaluate_and_check(ctx, prog, &lim);
    }
    perk_context_free(ctx);
}
