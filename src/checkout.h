/* checkout.h - placing an order: evaluate a cart against the store's budgets and coupons and
 * commit it, re-evaluating when a contested budget or coupon was taken by another order.
 *
 *   read budget usage + coupon verdicts from the store -> perk_evaluate -> perk_store_commit
 *   -> on PERK_STORE_BUDGET_EXCEEDED: exclude what failed, evaluate again, commit again
 *
 * Evaluation stays pure (runtime/); this module is the only place where the VM's result meets
 * the store. Used by `perk commit` and by checkout services that keep state in the store.
 */
#ifndef PERK_CHECKOUT_H
#define PERK_CHECKOUT_H

#include <stdbool.h>
#include <stdint.h>

#include "cart_json.h"
#include "perk.h"
#include "store.h"

#define CHECKOUT_MAX_ATTEMPTS 16

typedef struct checkout_outcome {
    perk_store_status store_status;  /* of the final commit attempt */
    perk_status eval_status;         /* of the final evaluation */
    int attempts;                    /* evaluations made (1 when nothing was contested) */
    const perk_result *result;       /* the evaluation that was committed (owned by ctx) */
    perk_store_commit_result commit; /* free with checkout_outcome_free */
    char message[512];               /* what went wrong, when something did */
} checkout_outcome;

/* The store's policy for this program: pending window, expiry and tiers (from the rules).
 * tiers must have room for perk_program's tier count (at most 64 are used). */
void checkout_policy(const perk_program *prog, perk_store_policy *policy, perk_store_tier *tiers, size_t cap);

/* Evaluates `doc` (its order id and customer id are required) with `prog` and commits it.
 * `doc` is updated in place with the store's coupon verdicts. `version` is the rule-set version
 * recorded with the order (0 when the program did not come from the store). */
bool checkout_place_order(perk_store *store, const perk_program *prog, int64_t version, perk_context *ctx,
                          cart_doc *doc, const char *order_json, checkout_outcome *out);

void checkout_outcome_free(checkout_outcome *out);

#endif
