/* vm_facts.c - the values LOAD_FACT pushes.
 *
 * Static facts (customer, order, local time in the ruleset's zone) are computed once per
 * evaluation into ctx->facts; the running subtotal and the current shipping are read from the
 * evaluation state when loaded. String facts push their interned id, or -1 when no rule mentions
 * the string (so they can equal no PUSH_STR constant). A fact the cart does not give is
 * PERK_UNKNOWN (docs/semantics.md, "Unknown facts").
 */
#include "civil.h"
#include "tz.h"
#include "vm_internal.h"

static int64_t sid(uint32_t id) { return id == PROG_NONE ? -1 : (int64_t)id; }

perk_status facts_compute(perk_context *ctx)
{
    int64_t *f = ctx->facts;
    tz_local local;
    tz_to_local(&ctx->zone, ctx->order_time, &local);

    f[PERK_FACT_CUSTOMER_ID] = ctx->customer_known ? sid(ctx->customer_sid) : PERK_UNKNOWN;
    f[PERK_FACT_CUSTOMER_TIER] = ctx->tier_index >= 0 ? ctx->tier_index : PERK_UNKNOWN;
    f[PERK_FACT_CUSTOMER_BIRTHDAY] = PERK_UNKNOWN;
    f[PERK_FACT_CUSTOMER_IS_BIRTHDAY] = PERK_UNKNOWN;
    f[PERK_FACT_CUSTOMER_BIRTHDAY_MONTH] = PERK_UNKNOWN;
    if (ctx->birthday_month != 0) {
        if (ctx->birthday_year != 0)
            f[PERK_FACT_CUSTOMER_BIRTHDAY] =
                civil_days_from_date(ctx->birthday_year, ctx->birthday_month, ctx->birthday_day);
        int bm = ctx->birthday_month, bd = ctx->birthday_day;
        /* a Feb 29 birthday is celebrated on Feb 28 in common years */
        if (bm == 2 && bd == 29 && !civil_is_leap_year(local.year)) bd = 28;
        f[PERK_FACT_CUSTOMER_IS_BIRTHDAY] = local.month == bm && local.day == bd;
        f[PERK_FACT_CUSTOMER_BIRTHDAY_MONTH] = local.month == ctx->birthday_month;
    }
    f[PERK_FACT_CUSTOMER_FIRST_ORDER] = ctx->first_order;
    f[PERK_FACT_CUSTOMER_ORDERS] = ctx->order_count;
    f[PERK_FACT_CUSTOMER_MEMBER_SINCE] = ctx->member_since;
    f[PERK_FACT_CUSTOMER_IS_MEMBER] = ctx->member_since != PERK_UNKNOWN;
    f[PERK_FACT_CUSTOMER_POINTS] = ctx->points_balance;
    f[PERK_FACT_CUSTOMER_TAGS] = ctx->n_customer_tags;
    f[PERK_FACT_ORDER_SUBTOTAL] = 0; /* dynamic */
    f[PERK_FACT_ORDER_ORIGINAL_SUBTOTAL] = ctx->subtotal_orig;
    f[PERK_FACT_ORDER_ITEMS] = ctx->items;
    f[PERK_FACT_ORDER_LINES] = ctx->n_lines;
    f[PERK_FACT_ORDER_CHANNEL] = ctx->channel_known ? sid(ctx->channel_sid) : PERK_UNKNOWN;
    f[PERK_FACT_ORDER_COUPONS] = ctx->n_coupons;
    f[PERK_FACT_ORDER_SHIPPING] = 0; /* dynamic */
    f[PERK_FACT_ORDER_SUBSCRIPTION] = sid(ctx->subscription_sid);
    f[PERK_FACT_ORDER_DELIVERY] = ctx->delivery;
    f[PERK_FACT_TIME_TODAY] = local.days;
    f[PERK_FACT_TIME_WEEKDAY] = local.weekday;
    f[PERK_FACT_TIME_OF_DAY] = local.minute_of_day;
    /* the schedule clauses' facts: the day of the month and its length, today and yesterday
     * (an `hours` window across midnight reads the day it started), and the local wall-clock
     * reading in seconds (`valid` with a time of day) */
    f[PERK_FACT_TIME_MONTH_DAY] = local.day;
    f[PERK_FACT_TIME_MONTH_DAYS] = civil_days_in_month(local.year, local.month);
    int py = local.year, pm = local.month, pd = local.day;
    if (local.days > CIVIL_MIN_DAYS) civil_date_from_days(local.days - 1, &py, &pm, &pd);
    f[PERK_FACT_TIME_PREV_MONTH_DAY] = pd;
    f[PERK_FACT_TIME_PREV_MONTH_DAYS] = civil_days_in_month(py, pm);
    f[PERK_FACT_TIME_LOCAL_SECONDS] = local.days * 86400 + local.second_of_day;
    f[PERK_FACT_ORDER_REGION] = ctx->region_known ? sid(ctx->region_sid) : PERK_UNKNOWN;
    f[PERK_FACT_ORDER_ATTR] = PERK_UNKNOWN; /* read by the ORDER_ATTR opcode, with its key */
    return PERK_OK;
}

/* order.attr(key): the value's string id, -1 for a value no rule names, unknown when the order
 * has no such attribute. */
int64_t facts_order_attr(const perk_context *ctx, uint32_t key)
{
    for (uint32_t k = 0; k < ctx->n_order_attrs; k++)
        if (ctx->order_attr_key[k] == key) return sid(ctx->order_attr_value[k]);
    return PERK_UNKNOWN;
}

int64_t facts_load(const perk_context *ctx, uint32_t fact)
{
    switch (fact) {
    case PERK_FACT_ORDER_SUBTOTAL:
        /* a rule measuring original prices sees the original subtotal; lines consumed by an
         * earlier promotion (`consumes`) are left out of both */
        return ctx->rule_original ? ctx->subtotal_orig - ctx->consumed_orig
                                  : ctx->subtotal_cur - ctx->consumed_cur;
    case PERK_FACT_ORDER_SHIPPING: return ctx->ship_cur;
    default: return fact < PERK_FACT_COUNT ? ctx->facts[fact] : 0;
    }
}
