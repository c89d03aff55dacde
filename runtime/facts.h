/* facts.h - the customer, order and time facts a rule can read, and the item columns.
 *
 * Defined once here and used by the checker (names and types), the code generator (fact ids),
 * the VM (loading values) and the disassembler (names). Adding a fact means adding a line here
 * and loading it in runtime/vm_facts.c.
 *
 * PERK_FACT(ID, "name in rules", type) - type is one of the checker's TY_* suffixes.
 *
 * A fact the cart does not give is unknown (PERK_UNKNOWN on the VM stack; docs/semantics.md,
 * "Unknown facts", lists when each one is). perk_fact_can_be_unknown() says which can be: the
 * checker refuses `is known` on the others. New facts are appended: the ids are the bytecode's.
 *
 * ORDER_ATTR is not loaded by LOAD_FACT (it reads as unknown): it names what made a value unknown
 * when ORDER_ATTR, the opcode reading `order.attr("key")`, found no such attribute.
 *
 * A name in parentheses cannot be written in rules: such a fact is read only by the code the
 * schedule clauses compile to (`on day 18 of every month`, `valid` with a time of day, an
 * `hours` window across midnight; docs/semantics.md 13).
 */
#ifndef PERK_FACTS_H
#define PERK_FACTS_H

/* clang-format off: a table, aligned by hand */
#define PERK_FACT_LIST(X)                                        \
    X(CUSTOMER_ID, "customer.id", STRING)                        \
    X(CUSTOMER_TIER, "customer.tier", TIER)                      \
    X(CUSTOMER_BIRTHDAY, "customer.birthday", DATE)              \
    X(CUSTOMER_IS_BIRTHDAY, "customer.is_birthday", BOOL)        \
    X(CUSTOMER_BIRTHDAY_MONTH, "customer.birthday_month", BOOL)  \
    X(CUSTOMER_FIRST_ORDER, "customer.first_order", BOOL)        \
    X(CUSTOMER_ORDERS, "customer.orders", INT)                   \
    X(CUSTOMER_MEMBER_SINCE, "customer.member_since", DATE)      \
    X(CUSTOMER_POINTS, "customer.points", INT)                   \
    X(CUSTOMER_TAGS, "customer.tags", STRING_SET)                \
    X(ORDER_SUBTOTAL, "order.subtotal", MONEY)                   \
    X(ORDER_ORIGINAL_SUBTOTAL, "order.original_subtotal", MONEY) \
    X(ORDER_ITEMS, "order.items", INT)                           \
    X(ORDER_LINES, "order.lines", INT)                           \
    X(ORDER_CHANNEL, "order.channel", STRING)                    \
    X(ORDER_COUPONS, "order.coupons", STRING_SET)                \
    X(ORDER_SHIPPING, "order.shipping", MONEY)                   \
    X(ORDER_SUBSCRIPTION, "order.subscription", STRING)          \
    X(ORDER_DELIVERY, "order.delivery", INT)                     \
    X(TIME_TODAY, "today", DATE)                                 \
    X(TIME_WEEKDAY, "weekday", WEEKDAY)                          \
    X(TIME_OF_DAY, "time", TIME)                                 \
    X(CUSTOMER_IS_MEMBER, "customer.is_member", BOOL)            \
    X(TIME_MONTH_DAY, "(day of month)", INT)                     \
    X(TIME_MONTH_DAYS, "(days in the month)", INT)               \
    X(TIME_PREV_MONTH_DAY, "(yesterday's day of month)", INT)    \
    X(TIME_PREV_MONTH_DAYS, "(days in yesterday's month)", INT)  \
    X(TIME_LOCAL_SECONDS, "(local date and time)", INT)          \
    X(ORDER_REGION, "order.region", STRING)                      \
    X(ORDER_ATTR, "order.attr(...)", STRING)
/* clang-format on */

typedef enum perk_fact {
#define PERK_FACT_ENUM(id, name, type) PERK_FACT_##id,
    PERK_FACT_LIST(PERK_FACT_ENUM)
#undef PERK_FACT_ENUM
        PERK_FACT_COUNT
} perk_fact;

/* Whether a fact can be unknown (the customer's, but for its tags and is_member, and the order's
 * channel); the others are always known: the order and the clock always have them. */
static inline int perk_fact_can_be_unknown(int fact)
{
    switch (fact) {
    case PERK_FACT_CUSTOMER_ID:
    case PERK_FACT_CUSTOMER_TIER:
    case PERK_FACT_CUSTOMER_BIRTHDAY:
    case PERK_FACT_CUSTOMER_IS_BIRTHDAY:
    case PERK_FACT_CUSTOMER_BIRTHDAY_MONTH:
    case PERK_FACT_CUSTOMER_FIRST_ORDER:
    case PERK_FACT_CUSTOMER_ORDERS:
    case PERK_FACT_CUSTOMER_MEMBER_SINCE:
    case PERK_FACT_CUSTOMER_POINTS:
    case PERK_FACT_ORDER_CHANNEL:
    case PERK_FACT_ORDER_REGION:
    case PERK_FACT_ORDER_ATTR: return 1;
    default: return 0;
    }
}

/* Item columns, usable inside `where` and as the field of an aggregate.
 * PERK_ITEM_FIELD(ID, "name", type). Strings (sku, category, brand, tags, attr) are matched by
 * set opcodes; numbers by SET_CMP and the AGG_* opcodes. `store` (the line's store or seller, unknown
 * when the cart does not give it) and `discounted` (1 when an earlier promotion took something off
 * the line: its current amount is below its original amount) are read by SET_CMP only. */
/* clang-format off: a table, aligned by hand */
#define PERK_ITEM_FIELD_LIST(X)                  \
    X(SKU, "sku", STRING)                        \
    X(CATEGORY, "category", CATEGORY)            \
    X(BRAND, "brand", STRING)                    \
    X(TAGS, "tags", STRING_SET)                  \
    X(PRICE, "price", MONEY)                     \
    X(QUANTITY, "quantity", INT)                 \
    X(AMOUNT, "amount", MONEY)                   \
    X(ORIGINAL_AMOUNT, "original_amount", MONEY) \
    X(MARGIN, "margin", PERCENT)                 \
    X(STORE, "store", STRING)                    \
    X(DISCOUNTED, "discounted", BOOL)
/* clang-format on */

typedef enum perk_item_field {
#define PERK_ITEM_FIELD_ENUM(id, name, type) PERK_FIELD_##id,
    PERK_ITEM_FIELD_LIST(PERK_ITEM_FIELD_ENUM)
#undef PERK_ITEM_FIELD_ENUM
        PERK_FIELD_COUNT
} perk_item_field;

#endif
