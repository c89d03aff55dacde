/* facts.h - the customer, order and time facts a rule can read, and the item columns.
 *
 * Defined once here and used by the checker (names and types), the code generator (fact ids),
 * the VM (loading values) and the disassembler (names). Adding a fact means adding a line here
 * and loading it in runtime/vm_facts.c.
 *
 * PERK_FACT(ID, "name in rules", type) - type is one of the checker's TY_* suffixes.
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
    X(TIME_OF_DAY, "time", TIME)
/* clang-format on */

typedef enum perk_fact {
#define PERK_FACT_ENUM(id, name, type) PERK_FACT_##id,
    PERK_FACT_LIST(PERK_FACT_ENUM)
#undef PERK_FACT_ENUM
        PERK_FACT_COUNT
} perk_fact;

/* Item columns, usable inside `where` and as the field of an aggregate.
 * PERK_ITEM_FIELD(ID, "name", type). Strings (sku, category, brand, tags, attr) are matched by
 * set opcodes; numbers by SET_CMP and the AGG_* opcodes. */
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
    X(MARGIN, "margin", PERCENT)
/* clang-format on */

typedef enum perk_item_field {
#define PERK_ITEM_FIELD_ENUM(id, name, type) PERK_FIELD_##id,
    PERK_ITEM_FIELD_LIST(PERK_ITEM_FIELD_ENUM)
#undef PERK_ITEM_FIELD_ENUM
        PERK_FIELD_COUNT
} perk_item_field;

#endif
