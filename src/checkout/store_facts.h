/* store_facts.h - the customer facts the store owns, put in place of what a cart claims.
 *
 * A cart (or a checkout's cache) may claim a tier, a points balance, a first order, an order
 * count or a membership date the customer does not have. Wherever an order is priced against
 * the store (commit, dry run, /v1/evaluate, perk eval --db), these facts come from the store's
 * own records (perk_store_customer_get); a claim that disagrees is overridden, not refused (a
 * checkout with a stale cache must not fail), and each override is reported. member_since comes
 * from the store only when the CRM recorded the customer; otherwise the cart's value stands.
 * docs/operations.md ("Who supplies each fact") is the policy in words. */
#ifndef PERK_CHECKOUT_STORE_FACTS_H
#define PERK_CHECKOUT_STORE_FACTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "json/json.h"
#include "perk.h"
#include "store/store.h"

/* The facts the store supplies, in the order they are reported. */
typedef enum checkout_fact {
    CHECKOUT_FACT_TIER,
    CHECKOUT_FACT_POINTS_BALANCE,
    CHECKOUT_FACT_FIRST_ORDER,
    CHECKOUT_FACT_ORDER_COUNT,
    CHECKOUT_FACT_MEMBER_SINCE,
    CHECKOUT_FACT_COUNT
} checkout_fact;

/* The fact's name in rules and reports ("customer.tier"). */
const char *checkout_fact_name(checkout_fact fact);

/* One claim of the cart that the store's value replaced. Tiers in the strings; points, counts
 * and member_since (a day number, -1 = not a member) in the integers; first_order as 0/1. */
typedef struct checkout_override {
    checkout_fact fact;
    int64_t claimed, store;
    char claimed_tier[256], store_tier[PERK_STORE_NAME_MAX]; /* "" = no tier */
} checkout_override;

typedef struct checkout_facts {
    bool from_store; /* the store supplied facts (the cart names a customer) */
    perk_store_customer_facts store;
    /* the facts the cart states (bit 1 << checkout_fact): only those are claims that can be
     * overridden; a fact the cart leaves out is simply supplied. checkout_facts_read sets all. */
    unsigned claims;
    checkout_override overrides[CHECKOUT_FACT_COUNT];
    size_t n_overrides;
} checkout_facts;

/* The facts a cart document states: a bit (1 << checkout_fact) for each key present in its
 * "customer" object (tier, points, first_order, orders, member_since). */
unsigned checkout_facts_claims(const cart_doc *doc);

/* Reads the store's facts of `customer` at `now` into f (f->from_store set). A recorded tier that
 * `prog` does not define (the rules dropped it) counts as no tier. `except_order`: see
 * perk_store_customer_get. f->claims is set to every fact. */
perk_store_status checkout_facts_read(perk_store *store, const perk_program *prog, const char *customer,
                                      const char *except_order, int64_t now, checkout_facts *f);

/* Copies the store's facts into `c` (the one place that does), recording each claim of `c` (a fact
 * in f->claims) that differs in f->overrides. `c`'s tier then points into f: keep f alive while c is used. */
void checkout_facts_apply(checkout_facts *f, perk_customer *c);

/* Read and apply for a cart: when doc names a customer, its customer facts become the store's at
 * the store's clock (f->from_store set); otherwise nothing changes. False with a message when the store cannot be
 * read. The order is doc's order id when it was committed before (a retry). */
bool checkout_store_customer(perk_store *store, const perk_program *prog, cart_doc *doc, checkout_facts *f,
                             char *msg, size_t msglen);

/* {"from_store":["customer.tier",...],"overrides":[{"fact":..,"claimed":..,"store":..}]} as compact
 * JSON (malloc'ed; NULL when out of memory). Values in their JSON types: tier a string or null,
 * member_since "YYYY-MM-DD" or null, first_order a boolean, numbers as integers. */
char *checkout_facts_json(const checkout_facts *f);

#endif
