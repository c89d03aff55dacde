/* checkout.h - placing an order: evaluate a cart against the store's budgets and coupons and
 * commit it, re-evaluating when a contested budget or coupon was taken by another order.
 *
 *   read budget usage + coupon verdicts from the store -> perk_evaluate -> perk_store_commit
 *   -> on PERK_STORE_BUDGET_EXCEEDED: exclude what failed (a partial money budget: keep it, and
 *      it grants what is left now), evaluate again, commit again
 *
 * Evaluation stays pure (runtime/); this module is the only place where the VM's result meets
 * the store. Used by `perk commit` and by checkout services that keep state in the store.
 */
#ifndef PERK_CHECKOUT_H
#define PERK_CHECKOUT_H

#include <stdbool.h>
#include <stdint.h>

#include "json/json.h"
#include "perk.h"
#include "reload.h"
#include "store_facts.h"
#include "store/store.h"

#define CHECKOUT_MAX_ATTEMPTS 16

typedef struct checkout_outcome {
    perk_store_status store_status;  /* of the final commit attempt */
    perk_status eval_status;         /* of the final evaluation */
    int attempts;                    /* evaluations made (1 when nothing was contested) */
    const perk_result *result;       /* the evaluation that was committed (owned by ctx) */
    perk_store_commit_result commit; /* free with checkout_outcome_free */
    char message[512];               /* what went wrong, when something did */
    bool dry_run;                    /* evaluated only: nothing was committed */
    /* the customer facts the order was priced with that came from the store, and each claim of
     * the cart they overrode (store_facts.h); the caller's doc keeps its claims */
    checkout_facts facts;
} checkout_outcome;

/* The store's policy for this program: pending window, expiry and tiers (from the rules).
 * tiers must have room for perk_program's tier count (at most 64 are used). */
void checkout_policy(const perk_program *prog, perk_store_policy *policy, perk_store_tier *tiers, size_t cap);

/* Evaluates `doc` (its order id, customer id and order time are required) with `prog` and commits it.
 * `doc` is updated in place with the store's coupon verdicts (the campaigns the store knows for
 * the codes are used during the call only: doc keeps no pointer to them). `version` is the
 * rule-set version recorded with the order (0 when the program did not come from the store).
 *
 * Placing an order that is already committed (a retry after a timeout or a crash) evaluates it
 * as the first time, with budgets and coupon verdicts that do not count the order's own uses,
 * and returns the first outcome with out->commit.replay set; nothing is written. A different
 * cart under the same order id is PERK_STORE_CONFLICT, and so is a retry priced by another
 * rule-set version than the first commit (the message names the version to use).
 *
 * The customer's tier, points balance, first order, order count and (when the CRM recorded the
 * customer) member_since are the store's, not the cart's: out->facts lists each claim overridden.
 *
 * Returns true when the order is committed (or replayed). Otherwise out->message says why and
 * that nothing was committed: PERK_STORE_INSUFFICIENT_POINTS when the order redeems more points
 * than the store says the customer has, a store failure (BUSY, FULL, ...), an evaluation error
 * (out->eval_status), or budgets still changing after CHECKOUT_MAX_ATTEMPTS evaluations. */
bool checkout_place_order(perk_store *store, const perk_program *prog, int64_t version, perk_context *ctx,
                          cart_doc *doc, const char *order_json, checkout_outcome *out);

/* How checkout_place_order_opts places an order; zeroed = checkout_place_order. */
typedef struct checkout_options {
    /* Evaluate with the store's budgets and coupon verdicts but commit nothing (out->dry_run is
     * set; out->commit stays zeroed). The only way to price with a program that is not a
     * published version (version 0): a commit is always priced by a published version. */
    bool dry_run;
    /* The order is delayed (an offline till's order committed late): the store accepts its time
     * up to its max delay in the past instead of within the clock skew, checks its coupons at
     * that time, and records the order as delayed (orders.delayed, "delayed" in its event). */
    bool delayed;
    /* Commit: the reservation the order consumes (NULL = none). Its holds are priced as the
     * order's own (the budgets and coupons it holds are available to it) and the commit ends it;
     * one that expired is ignored and the order is priced afresh. */
    const char *reservation_id;
    /* > 0: reserve instead of commit (perk_store_reserve under reservation_id, for this many
     * seconds): evaluated and re-evaluated on contention exactly as a commit; nothing is
     * committed; out->commit.reservation_expires_at says until when the result is held. */
    int64_t reserve_ttl;
} checkout_options;

/* checkout_place_order with options. Without dry_run, `version` must be a version published in
 * the store (> 0), and the store checks the order against that version's budgets, promotions,
 * earn rules and points policy: a program with other limits is refused. */
bool checkout_place_order_opts(perk_store *store, const perk_program *prog, int64_t version,
                               perk_context *ctx, cart_doc *doc, const char *order_json,
                               const checkout_options *opts, checkout_outcome *out);

void checkout_outcome_free(checkout_outcome *out);

/* A code with its verdict as the API and `perk coupons --json` show it (coupon_json.c); NULL when
 * out of memory. */
struct json_t;
struct json_t *checkout_coupon_json(const perk_store_coupon_info *k);
/* 满500返50券: the codes a commit issued (perk_store_commit_result.reward_codes) as POST /v1/orders
 * and `perk commit` show them: [{code, campaign, promotion, valid_from, expires_at (null = never)}]. */
struct json_t *checkout_reward_codes_json(const perk_store_commit_result *r);

#endif
