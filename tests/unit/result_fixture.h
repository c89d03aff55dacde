/* result_fixture.h - a hand-built perk_result (and the names and cart behind it) shared by
 * test_result_json.c and test_explain.c, so that the renderers are tested without a VM.
 *
 * The story, in CNY (exponent 2, amounts in fen):
 *   line 0 "1"  TEA-001 龙井  ¥128.00 x 2 = 25600; member_day 10% off -> -2560, final 23040
 *   line 1 "2"  CUP-9   杯子  ¥12.00  x 1 =  1200; member_day 10% off ->  -120, final  1080
 *   line 2      gift line added by cup_gift (CUP-SLEEVE), 0 -> 0
 *   subtotal 25600 + 1200 = 26800; discount 2560 + 120 = 2680
 *   free_ship: shipping 1200 -> 0
 *   tea_gift failed: sum(tea) >= ¥300 observed 26800 < 30000, hint: add 30000 - 26800 = 3200
 *   points: base 1 point per ¥1 on 26800 - 2680 = 24120 paid -> 241 points;
 *           margin_bonus 2 per ¥1 on 23040 -> 460, x1.5 -> 690, capped at 500
 *   points_earned 241 + 500 = 741; redeemed 500 points (100 = ¥1) = 500 fen, all on goods
 *   payable = 26800 - 2680 + 0 - 500 = 23620 (¥236.20)
 */
#ifndef TEST_RESULT_FIXTURE_H
#define TEST_RESULT_FIXTURE_H

#include <stdint.h>
#include <string.h>

#include "json/cart_json.h"
#include "opcodes.h"
#include "json/result_json.h"

static const char *const fixture_promotion_ids[] = { "member_day", "tea_gift",   "cup_gift",
                                                     "free_ship",  "vip_coupon", "clearance" };
static const char *const fixture_promotion_labels[] = { "会员日", "满300赠茶样", "买杯送杯套",
                                                        "包邮",   NULL,          "季末清仓" };
static const char *const fixture_earn_ids[] = { "base", "margin_bonus" };

static const char *fixture_condition_text(const void *user, uint32_t condition)
{
    (void)user;
    return condition == 0 ? "sum(tea) >= ¥300" : NULL;
}

static void fixture_condition_location(const void *user, uint32_t condition, const char **file,
                                       uint32_t *line, uint32_t *col)
{
    (void)user;
    if (condition == 0) {
        *file = "rules/spring.perk";
        *line = 14;
        *col = 8;
    }
}

static result_value_kind fixture_condition_kind(const void *user, uint32_t condition)
{
    (void)user;
    return condition == 0 ? RESULT_VALUE_MONEY : RESULT_VALUE_PLAIN;
}

static const result_names fixture_names = {
    .n_promotions = 6,
    .promotion_ids = fixture_promotion_ids,
    .promotion_labels = fixture_promotion_labels,
    .n_earns = 2,
    .earn_ids = fixture_earn_ids,
    .condition_text = fixture_condition_text,
    .condition_location = fixture_condition_location,
    .condition_kind = fixture_condition_kind,
    .user = NULL,
};

static const perk_line_result fixture_lines[] = {
    { .original = 25600, .final = 23040, .first_allocation = 0, .n_allocations = 1 },
    { .original = 1200, .final = 1080, .first_allocation = 1, .n_allocations = 1 },
    { .original = 0,
      .final = 0,
      .first_allocation = 2,
      .n_allocations = 0,
      .is_gift = true,
      .gift_promotion = 2 },
};

static const perk_allocation fixture_allocations[] = {
    { .line = 0, .promotion = 0, .amount = 2560 },
    { .line = 1, .promotion = 0, .amount = 120 },
};

static const perk_promotion_result fixture_promotions[] = {
    { .promotion = 0, .reason = PERK_REASON_APPLIED, .discount = 2680, .failed_condition = UINT32_MAX },
    { .promotion = 1,
      .reason = PERK_REASON_CONDITION,
      .failed_condition = 0,
      .has_comparison = true,
      .observed = 26800,
      .expected = 30000,
      .comparison = PERK_CMP_GE },
    { .promotion = 2, .reason = PERK_REASON_APPLIED, .failed_condition = UINT32_MAX },
    { .promotion = 3,
      .reason = PERK_REASON_APPLIED,
      .shipping_discount = 1200,
      .failed_condition = UINT32_MAX },
    { .promotion = 4, .reason = PERK_REASON_COUPON_REJECTED, .failed_condition = UINT32_MAX },
    { .promotion = 5, .reason = PERK_REASON_EXCLUSIVE, .failed_condition = UINT32_MAX },
};

static const perk_gift fixture_gifts[] = {
    { .promotion = 2, .sku = "CUP-SLEEVE", .name = "杯套", .quantity = 1 },
};

static const perk_effect fixture_effects[] = {
    { .promotion = 2, .kind = "thank_you_card", .payload = "谢谢" },
};

static const perk_coupon_result fixture_coupons[] = {
    { .code = "SPRING10", .verdict = PERK_COUPON_ACCEPTED, .promotion = 3 },
    { .code = "VIP-X", .verdict = PERK_COUPON_REJECTED_EXPIRED, .promotion = UINT32_MAX },
};

static const perk_points_result fixture_points[] = {
    { .earn_rule = 0, .base = 24120, .points = 241, .mult_num = 1, .mult_den = 1, .multiplier = UINT32_MAX },
    { .earn_rule = 1,
      .base = 23040,
      .points = 500,
      .mult_num = 3,
      .mult_den = 2,
      .multiplier = 0,
      .capped = true },
};

static const perk_hint fixture_hints[] = {
    { .promotion = 1, .shortfall = 3200, .set_name = "tea" },
};

static perk_result fixture_result(void)
{
    perk_result r;
    memset(&r, 0, sizeof r);
    r.status = PERK_OK;
    r.currency = "CNY";
    r.exponent = 2;
    r.subtotal = 26800;
    r.discount = 2680;
    r.shipping_before = 1200;
    r.shipping_after = 0;
    r.points_redeemable = 2300;
    r.points_redeemed = 500;
    r.redeem_value = 500;
    r.redeem_goods = 500;
    r.redeem_shipping = 0;
    r.payable = 23620;
    r.points_earned = 741;
    r.n_lines = 3;
    r.lines = fixture_lines;
    r.n_allocations = 2;
    r.allocations = fixture_allocations;
    r.n_promotions = 6;
    r.promotions = fixture_promotions;
    r.n_gifts = 1;
    r.gifts = fixture_gifts;
    r.n_effects = 1;
    r.effects = fixture_effects;
    r.n_coupons = 2;
    r.coupons = fixture_coupons;
    r.n_points = 2;
    r.points = fixture_points;
    r.n_hints = 1;
    r.hints = fixture_hints;
    r.instructions = 1234;
    return r;
}

static const char fixture_cart[] =
    "{\"order\": {\"currency\": \"CNY\", \"shipping\": \"12.00\", \"points_to_redeem\": 500},"
    " \"lines\": [{\"id\": \"1\", \"sku\": \"TEA-001\", \"name\": \"龙井\", \"category\": \"tea/green\","
    "             \"price\": \"128.00\", \"quantity\": 2},"
    "            {\"id\": \"2\", \"sku\": \"CUP-9\", \"name\": \"杯子\", \"price\": \"12.00\", \"quantity\": "
    "1}],"
    " \"coupons\": [\"SPRING10\", \"VIP-X\"]}";

static cart_doc *fixture_doc(void)
{
    return cart_json_parse(fixture_cart, strlen(fixture_cart), 2, "CNY", NULL, NULL, 0);
}

#endif
