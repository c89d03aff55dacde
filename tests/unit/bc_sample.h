/* bc_sample.h - a hand-built program that uses every table, every pool and every opcode, for the
 * bytecode and verifier tests (test_bytecode.c, test_verify.c). It is valid: it passes
 * verify_program. Its shape is listed below so tests can corrupt specific parts by name.
 *
 * promotions (evaluation order):
 *   0 clearance   priority 10, exclusive "seasonal"; target precheck on tag "clearance"
 *                 (SET_TAG, AGG_ANY, REQUIRE_TARGET); cond 0; APPLY action 0 (30% off)
 *   1 member_day  priority 20, stop, coupon "VIP", cap/limits; conds 1-2 (REQUIRE_SOFT, CHECK);
 *                 APPLY action 1 (tiers with 2 steps)
 *   2 tea_gift    priority 30, original, coupon campaign "spring", guard category "tea" (cond 3);
 *                 cond 3 (JUMP_IF_FALSE, strset, AND); APPLY action 2 (gift)
 *   3 bogo        priority 40; conds 4-6 (JUMP_IF_TRUE chain with OR, arithmetic, KNOWN, JUMP over dead code with ORDER_ATTR);
 *                 set algebra; APPLY2 action 3 (buy 2 get 1 free)
 *   4 bundle      priority 40; conds 7-8 (aggregates); APPLY actions 4-17 (every other kind)
 * earn rules: 0 base (cond 9), 1 margin_bonus (cap 500)
 * multipliers: 0 birthday x2 on base, margin_bonus (cond 10); 1 happy x3/2 on all
 * redeem: 100 points = 1.00, pays goods and shipping, min balance 500 (cond 11)
 * tiers: silver, gold
 */
#ifndef PERK_TEST_BC_SAMPLE_H
#define PERK_TEST_BC_SAMPLE_H

#include "facts.h"
#include "progbuild.h"

/* Emits "SET_ALL; APPLY a" in the block being built. */
static inline void bc_sample_apply_all(prog_data *p, uint32_t a)
{
    pb_emit(p, PERK_OP_SET_ALL, 0);
    pb_emit(p, PERK_OP_APPLY, a);
}

static inline void bc_sample(prog_data *p)
{
    pb_init(p, "春茶节 Spring tea", "CNY", 2);
    p->timezone = pb_str(p, "Asia/Shanghai");
    p->tz_base_offset = 8 * 3600 + 343; /* LMT-like odd offset before the first transition */
    pb_tz(p, -1325491557, 8 * 3600);
    pb_tz(p, 515520000, 9 * 3600);
    pb_tz(p, 527007600, 8 * 3600);
    p->rounding = PROG_ROUND_HALF_EVEN;
    p->coupon_policy = PROG_COUPONS_ONE_PER_ORDER;
    p->max_discount_ppm = 600000;
    p->points_pending_seconds = 7 * 86400;
    p->points_expire_seconds = 365 * 86400;

    /* 0 clearance: today in 2026-03-01 .. 2026-03-31 (days 20513 .. 20543), 30% off "clearance" */
    uint32_t r = pb_promotion_begin(p, "clearance", "季末清仓", 10);
    p->rules[r].group = pb_str(p, "seasonal");
    uint32_t c = pb_cond(p, "valid 2026-03-01 to 2026-03-31", NULL);
    pb_emit(p, PERK_OP_SET_TAG, pb_str(p, "clearance")); /* target precheck: no such line, NOTHING */
    pb_emit(p, PERK_OP_AGG_ANY, 0);
    pb_emit(p, PERK_OP_REQUIRE_TARGET, 0);
    pb_emit(p, PERK_OP_LOAD_FACT, PERK_FACT_TIME_TODAY);
    pb_emit(p, PERK_OP_PUSH_INT, pb_int(p, 20513));
    pb_emit(p, PERK_OP_PUSH_INT, pb_int(p, 20543));
    pb_emit(p, PERK_OP_IN_RANGE, 0);
    pb_emit(p, PERK_OP_REQUIRE, c);
    pb_emit(p, PERK_OP_SET_TAG, pb_str(p, "clearance"));
    pb_emit(p, PERK_OP_APPLY, pb_action(p, r, PROG_ACT_PERCENT_OFF, 300000, 0, 0));
    pb_promotion_end(p, r);

    /* 1 member_day: wednesday and tier >= gold (soft conditions), tiers on the order */
    r = pb_promotion_begin(p, "member_day", "会员日", 20);
    p->rules[r].flags = PROG_RULE_STOP;
    p->rules[r].coupon = pb_str(p, "VIP");
    p->rules[r].cap = 5000;
    p->rules[r].limit_uses = 1000;
    p->rules[r].limit_money = 100000000;
    p->rules[r].limit_per_customer = 1;
    c = pb_cond(p, "every wednesday", NULL);
    pb_emit(p, PERK_OP_LOAD_FACT, PERK_FACT_TIME_WEEKDAY);
    pb_emit(p, PERK_OP_IN_MASK, 1u << 2);
    pb_emit(p, PERK_OP_REQUIRE_SOFT, c);
    c = pb_cond(p, "customer.tier >= gold", NULL);
    pb_emit(p, PERK_OP_LOAD_FACT, PERK_FACT_CUSTOMER_TIER);
    pb_emit(p, PERK_OP_PUSH_IMM, 1);
    pb_emit(p, PERK_OP_GE, 0);
    pb_emit(p, PERK_OP_REQUIRE_SOFT, c);
    pb_emit(p, PERK_OP_CHECK, 0);
    uint32_t a = pb_action(p, r, PROG_ACT_TIERS, 0, 0, 0);
    pb_step(p, a, 10000, 1000, 0);   /* ¥100: ¥10 off */
    pb_step(p, a, 20000, 150000, 1); /* ¥200: 15% off */
    bc_sample_apply_all(p, a);
    pb_promotion_end(p, r);

    /* 2 tea_gift: sum(tea) >= ¥300 and channel in [app, miniprogram] */
    r = pb_promotion_begin(p, "tea_gift", "满300赠茶样", 30);
    p->rules[r].flags = PROG_RULE_ORIGINAL;
    p->rules[r].coupon_campaign = pb_str(p, "spring");
    c = pb_cond(p, "sum(tea) >= ¥300 and order.channel in [\"app\", \"miniprogram\"]", "tea");
    pb_emit(p, PERK_OP_SET_CATEGORY, pb_str(p, "tea"));
    pb_emit(p, PERK_OP_AGG_SUM, PERK_FIELD_AMOUNT);
    pb_emit(p, PERK_OP_PUSH_INT, pb_int(p, 30000));
    pb_emit(p, PERK_OP_GE, 0);
    uint32_t j = pb_emit(p, PERK_OP_JUMP_IF_FALSE, 0);
    pb_emit(p, PERK_OP_LOAD_FACT, PERK_FACT_ORDER_CHANNEL);
    const char *channels[] = { "miniprogram", "app" };
    pb_emit(p, PERK_OP_IN_STRSET, pb_strset(p, channels, 2));
    pb_emit(p, PERK_OP_AND, 0);
    pb_patch(p, j, pb_here(p));
    pb_emit(p, PERK_OP_REQUIRE, c);
    /* without tea, sum(tea) = 0 < 30000 and the JUMP_IF_FALSE skips the channel: cond 3 fails */
    p->rules[r].guard_kind = PROG_GUARD_CATEGORY;
    p->rules[r].guard_string = pb_str(p, "tea");
    p->rules[r].guard_cond = c;
    pb_emit(p, PERK_OP_SET_CATEGORY, pb_str(p, "tea"));
    a = pb_action(p, r, PROG_ACT_GIFT, 1, 0, 0);
    p->actions[a].str1 = pb_str(p, "TEA-SAMPLE");
    p->actions[a].str2 = pb_str(p, "龙井茶样");
    pb_emit(p, PERK_OP_APPLY, a);
    pb_promotion_end(p, r);

    /* 3 bogo */
    r = pb_promotion_begin(p, "bogo", NULL, 40);
    c = pb_cond(p, "\"vip\" in customer.tags or coupon", NULL);
    pb_emit(p, PERK_OP_CUSTOMER_TAG, pb_str(p, "vip"));
    uint32_t j1 = pb_emit(p, PERK_OP_JUMP_IF_TRUE, 0);
    pb_emit(p, PERK_OP_COUPON, pb_str(p, "SPRING10"));
    pb_emit(p, PERK_OP_OR, 0);
    uint32_t j2 = pb_emit(p, PERK_OP_JUMP_IF_TRUE, 0);
    pb_emit(p, PERK_OP_COUPON_FROM, pb_str(p, "spring"));
    pb_emit(p, PERK_OP_OR, 0);
    pb_patch(p, j1, pb_here(p));
    pb_patch(p, j2, pb_here(p));
    pb_emit(p, PERK_OP_REQUIRE, c);
    c = pb_cond(p, "-((customer.orders + 2 - 1) * 3 / 2 mod 7) >= 0", NULL);
    pb_emit(p, PERK_OP_LOAD_FACT, PERK_FACT_CUSTOMER_ORDERS);
    pb_emit(p, PERK_OP_PUSH_IMM, 2);
    pb_emit(p, PERK_OP_ADD, 0);
    pb_emit(p, PERK_OP_PUSH_IMM, 1);
    pb_emit(p, PERK_OP_SUB, 0);
    pb_emit(p, PERK_OP_PUSH_IMM, 3);
    pb_emit(p, PERK_OP_MUL, 0);
    pb_emit(p, PERK_OP_PUSH_IMM, 2);
    pb_emit(p, PERK_OP_DIV, 0);
    pb_emit(p, PERK_OP_PUSH_IMM, 7);
    pb_emit(p, PERK_OP_MOD, 0);
    pb_emit(p, PERK_OP_NEG, 0);
    pb_emit(p, PERK_OP_PUSH_IMM, 0);
    pb_emit(p, PERK_OP_LT, 0);
    pb_emit(p, PERK_OP_NOT, 0);
    pb_emit(p, PERK_OP_REQUIRE, c);
    c = pb_cond(p, "order.subtotal * 10% <= ¥5 and order.channel != \"pos\" and order.channel is known",
                NULL);
    pb_emit(p, PERK_OP_LOAD_FACT, PERK_FACT_ORDER_SUBTOTAL);
    pb_emit(p, PERK_OP_PUSH_IMM, 100000);
    pb_emit(p, PERK_OP_PERCENT_OF, 0);
    pb_emit(p, PERK_OP_PUSH_INT, pb_int(p, 500));
    pb_emit(p, PERK_OP_LE, 0);
    pb_emit(p, PERK_OP_POP, 0);
    pb_emit(p, PERK_OP_LOAD_FACT, PERK_FACT_ORDER_CHANNEL);
    pb_emit(p, PERK_OP_PUSH_STR, pb_str(p, "pos"));
    pb_emit(p, PERK_OP_NE, 0);
    pb_emit(p, PERK_OP_LOAD_FACT, PERK_FACT_ORDER_CHANNEL);
    pb_emit(p, PERK_OP_KNOWN, 0);
    pb_emit(p, PERK_OP_AND, 0);
    uint32_t jj = pb_emit(p, PERK_OP_JUMP, 0);
    pb_emit(p, PERK_OP_PUSH_IMM, 7); /* dead code, skipped by the JUMP */
    pb_emit(p, PERK_OP_POP, 0);
    pb_emit(p, PERK_OP_ORDER_ATTR, pb_str(p, "pos")); /* order.attr("pos"), dropped */
    pb_emit(p, PERK_OP_POP, 0);
    pb_patch(p, jj, pb_here(p));
    pb_emit(p, PERK_OP_REQUIRE, c);
    /* buy set: ((brand Acme | sku TEA-1) & origin=Yunnan) except price >= ¥10, complemented */
    pb_emit(p, PERK_OP_SET_BRAND, pb_str(p, "Acme"));
    pb_emit(p, PERK_OP_SET_SKU, pb_str(p, "TEA-1"));
    pb_emit(p, PERK_OP_SET_OR, 0);
    pb_emit(p, PERK_OP_SET_ATTR, pb_attr(p, "origin", "Yunnan"));
    pb_emit(p, PERK_OP_SET_AND, 0);
    pb_emit(p, PERK_OP_PUSH_INT, pb_int(p, 1000));
    pb_emit_aux(p, PERK_OP_SET_CMP, PERK_CMP_GE, PERK_FIELD_PRICE);
    pb_emit(p, PERK_OP_SET_DIFF, 0);
    pb_emit(p, PERK_OP_SET_NOT, 0);
    pb_emit(p, PERK_OP_SET_CATEGORY_IS, pb_str(p, "tea/green"));
    pb_emit(p, PERK_OP_APPLY2, pb_action(p, r, PROG_ACT_BUY_GET, 2, 1, 1000000));
    pb_promotion_end(p, r);

    /* 4 bundle: aggregates, then every remaining action kind */
    r = pb_promotion_begin(p, "bundle", "组合", 40);
    c = pb_cond(p, "min(items, price) < max(items, quantity) = true", NULL);
    pb_emit(p, PERK_OP_SET_ALL, 0);
    pb_emit(p, PERK_OP_AGG_MIN, PERK_FIELD_PRICE);
    pb_emit(p, PERK_OP_SET_ALL, 0);
    pb_emit(p, PERK_OP_AGG_MAX, PERK_FIELD_QUANTITY);
    pb_emit(p, PERK_OP_LT, 0);
    pb_emit(p, PERK_OP_PUSH_IMM, 1);
    pb_emit(p, PERK_OP_EQ, 0);
    pb_emit(p, PERK_OP_REQUIRE, c);
    c = pb_cond(p, "all(organic) and any(items) and count(items) > 3", NULL);
    pb_emit(p, PERK_OP_SET_TAG, pb_str(p, "organic"));
    pb_emit(p, PERK_OP_SET_ALL, 0);
    pb_emit(p, PERK_OP_AGG_SUBSET, 0);
    j = pb_emit(p, PERK_OP_JUMP_IF_FALSE, 0);
    pb_emit(p, PERK_OP_SET_ALL, 0);
    pb_emit(p, PERK_OP_AGG_ANY, 0);
    pb_emit(p, PERK_OP_AND, 0);
    j2 = pb_emit(p, PERK_OP_JUMP_IF_FALSE, 0);
    pb_emit(p, PERK_OP_SET_ALL, 0);
    pb_emit(p, PERK_OP_AGG_COUNT, 0);
    pb_emit(p, PERK_OP_PUSH_IMM, 3);
    pb_emit(p, PERK_OP_GT, 0);
    pb_emit(p, PERK_OP_AND, 0);
    pb_patch(p, j, pb_here(p));
    pb_patch(p, j2, pb_here(p));
    pb_emit(p, PERK_OP_REQUIRE, c);
    bc_sample_apply_all(p, pb_action(p, r, PROG_ACT_AMOUNT_OFF, 1000, 0, 0));
    bc_sample_apply_all(p, pb_action(p, r, PROG_ACT_AMOUNT_OFF_EACH, 500, 0, 0));
    bc_sample_apply_all(p, pb_action(p, r, PROG_ACT_FIXED_PRICE, 800, 0, 0));
    a = pb_action(p, r, PROG_ACT_QTY_PRICE, 0, 0, 0);
    pb_step(p, a, 3, 800, 0); /* 3 or more units at ¥8 */
    pb_step(p, a, 5, 700, 0);
    bc_sample_apply_all(p, a);
    bc_sample_apply_all(p, pb_action(p, r, PROG_ACT_EVERY, 10000, 1000, 5000));
    bc_sample_apply_all(p, pb_action(p, r, PROG_ACT_N_FOR, 3, 9900, 0));
    bc_sample_apply_all(p, pb_action(p, r, PROG_ACT_FREE_SHIPPING, 0, 0, 0));
    bc_sample_apply_all(p, pb_action(p, r, PROG_ACT_SHIPPING_OFF, 0, 500000, 0));
    a = pb_action(p, r, PROG_ACT_EFFECT, 0, 0, 0);
    p->actions[a].str1 = pb_str(p, "vip_advisor_card");
    p->actions[a].str2 = pb_str(p, "您的专属顾问");
    bc_sample_apply_all(p, a);
    bc_sample_apply_all(p, pb_action(p, r, PROG_ACT_MOST_EXPENSIVE, 200000, 2, 0));
    a = pb_action(p, r, PROG_ACT_COUNT_TIERS, 0, 0, 0);
    pb_step(p, a, 2, 100000, 1); /* 2 units: 10% off */
    pb_step(p, a, 3, 1500, 0);   /* 3 units: ¥15 off */
    bc_sample_apply_all(p, a);
    bc_sample_apply_all(p, pb_action(p, r, PROG_ACT_BUY_GET_SKU, 1, 1, 500000));
    a = pb_action(p, r, PROG_ACT_TIERS_STORE, 0, 0, 0);
    pb_step(p, a, 10000, 500, 0);    /* ¥100 in one store: ¥5 off */
    pb_step(p, a, 25000, 100000, 1); /* ¥250: 10% off */
    bc_sample_apply_all(p, a);
    bc_sample_apply_all(p, pb_action(p, r, PROG_ACT_EVERY_STORE, 30000, 3000, 6000));
    a = pb_action(p, r, PROG_ACT_BUNDLE, 19900, 0, 0); /* 1 of organic + 2 of items for ¥199 */
    pb_step(p, a, 1, pb_str(p, "organic"), 0);
    pb_step(p, a, 2, -1, 0);
    pb_emit(p, PERK_OP_SET_TAG, pb_str(p, "organic"));
    pb_emit(p, PERK_OP_BUNDLE_PART, a);
    bc_sample_apply_all(p, a);
    a = pb_action(p, r, PROG_ACT_REWARD_COUPON, 30 * 86400, 0, 0); /* coupon from "RETURN50" valid 30 days */
    p->actions[a].str1 = pb_str(p, "RETURN50");
    bc_sample_apply_all(p, a);
    pb_promotion_end(p, r);

    /* earn rules */
    uint32_t e = pb_earn_begin(p, "base", "消费积分", 1, 100);
    c = pb_cond(p, "not customer.first_order", NULL);
    pb_emit(p, PERK_OP_LOAD_FACT, PERK_FACT_CUSTOMER_FIRST_ORDER);
    pb_emit(p, PERK_OP_NOT, 0);
    pb_emit(p, PERK_OP_REQUIRE, c);
    pb_emit(p, PERK_OP_SET_ALL, 0);
    pb_emit(p, PERK_OP_EARN, e);
    pb_earn_end(p, e);
    e = pb_earn_begin(p, "margin_bonus", "高毛利加赠", 2, 100);
    p->earns[e].cap = 500;
    pb_emit(p, PERK_OP_PUSH_INT, pb_int(p, 400000));
    pb_emit_aux(p, PERK_OP_SET_CMP, PERK_CMP_GE, PERK_FIELD_MARGIN);
    pb_emit(p, PERK_OP_EARN, e);
    pb_earn_end(p, e);

    /* multipliers */
    const uint32_t both[] = { 0, 1 };
    uint32_t m = pb_mult_begin(p, "birthday", "生日双倍积分", 2, 1, both, 2);
    c = pb_cond(p, "customer.is_birthday", NULL);
    pb_emit(p, PERK_OP_LOAD_FACT, PERK_FACT_CUSTOMER_IS_BIRTHDAY);
    pb_emit(p, PERK_OP_REQUIRE, c);
    pb_emit(p, PERK_OP_MULTIPLY, m);
    pb_mult_end(p, m);
    m = pb_mult_begin(p, "happy", NULL, 3, 2, NULL, 0);
    pb_emit(p, PERK_OP_MULTIPLY, m);
    pb_mult_end(p, m);

    /* redeem */
    pb_redeem_begin(p, 100, 100, PROG_PAYS_GOODS | PROG_PAYS_SHIPPING);
    p->redeem.min_balance = 500;
    p->redeem.max_share_ppm = 500000;
    c = pb_cond(p, "customer.points > 500", NULL);
    pb_emit(p, PERK_OP_LOAD_FACT, PERK_FACT_CUSTOMER_POINTS);
    pb_emit(p, PERK_OP_PUSH_IMM, 500);
    pb_emit(p, PERK_OP_GT, 0);
    pb_emit(p, PERK_OP_REQUIRE, c);
    pb_redeem_end(p);

    /* tiers */
    const char *silver[] = { "生日礼" }, *gold[] = { "会员日9折", "free shipping" };
    pb_tier(p, "silver", "银卡", 100000, 365 * 86400, silver, 1);
    pb_tier(p, "gold", "金卡", 500000, 365 * 86400, gold, 2);
}

#endif
