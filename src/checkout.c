/* checkout.c - evaluate and commit an order against the store (see checkout.h). */
#include "checkout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "program_internal.h"

#define MAX_TIERS 64

void checkout_policy(const perk_program *prog, perk_store_policy *policy, perk_store_tier *tiers, size_t cap) {
    const prog_data *d = &prog->d;
    memset(policy, 0, sizeof *policy);
    policy->pending_seconds = d->points_pending_seconds;
    policy->expire_seconds = d->points_expire_seconds;
    size_t n = d->n_tiers < cap ? d->n_tiers : cap;
    for (size_t i = 0; i < n; i++) {
        tiers[i].name = prog_string(d, d->tiers[i].id);
        tiers[i].spend_threshold = d->tiers[i].spend;
        tiers[i].window_seconds = d->tiers[i].window_seconds;
    }
    policy->tiers = n ? tiers : NULL;
    policy->n_tiers = n;
}

static perk_coupon_status coupon_status_of(perk_store_coupon_status s) {
    switch (s) {
    case PERK_STORE_COUPON_VALID: return PERK_COUPON_VALID;
    case PERK_STORE_COUPON_UNKNOWN: return PERK_COUPON_UNKNOWN;
    case PERK_STORE_COUPON_EXPIRED: return PERK_COUPON_EXPIRED;
    case PERK_STORE_COUPON_USED_UP: return PERK_COUPON_USED_UP;
    case PERK_STORE_COUPON_NOT_FOR_CUSTOMER: return PERK_COUPON_NOT_FOR_CUSTOMER;
    }
    return PERK_COUPON_UNKNOWN;
}

static bool has_budget(const prog_rule *r) {
    return r->limit_uses >= 0 || r->limit_money >= 0 || r->limit_per_customer >= 0;
}

/* Everything one commit attempt needs, sized by the program and the cart. */
typedef struct attempt_buffers {
    perk_store_promo_use *promos;
    const char **coupons;
    perk_store_points_line *earned;
    bool *excluded;
    char (*campaigns)[PERK_STORE_NAME_MAX];
} attempt_buffers;

static void fill_order(const perk_program *prog, int64_t version, const cart_doc *doc, const perk_result *r,
                       attempt_buffers *b, perk_store_order *o, const char *order_json) {
    const prog_data *d = &prog->d;
    memset(o, 0, sizeof *o);
    o->order_id = doc->order.id;
    o->customer_id = doc->customer.id;
    o->ruleset = perk_program_name(prog);
    o->ruleset_version = version;
    o->time = doc->order.time;
    o->currency = perk_program_currency(prog);
    o->subtotal = r->subtotal;
    o->discount = r->discount;
    o->shipping = r->shipping_after;
    o->payable = r->payable;
    o->points_redeemed = r->points_redeemed;
    o->order_json = order_json;
    for (uint32_t i = 0; i < r->n_promotions; i++) {
        const perk_promotion_result *pr = &r->promotions[i];
        if (pr->reason != PERK_REASON_APPLIED) continue;
        const prog_rule *rule = &d->rules[pr->promotion];
        b->promos[o->n_promos++] = (perk_store_promo_use){prog_string(d, rule->id), pr->discount + pr->shipping_discount,
                                                          rule->limit_uses, rule->limit_money, rule->limit_per_customer};
    }
    for (uint32_t i = 0; i < r->n_coupons; i++)
        if (r->coupons[i].verdict == PERK_COUPON_ACCEPTED) b->coupons[o->n_coupons++] = r->coupons[i].code;
    for (uint32_t i = 0; i < r->n_points; i++)
        if (r->points[i].points > 0)
            b->earned[o->n_earned++] = (perk_store_points_line){prog_string(d, d->earns[r->points[i].earn_rule].id), r->points[i].points};
    o->promos = b->promos;
    o->coupons = b->coupons;
    o->earned = b->earned;
}

bool checkout_place_order(perk_store *store, const perk_program *prog, int64_t version, perk_context *ctx,
                          cart_doc *doc, const char *order_json, checkout_outcome *out) {
    memset(out, 0, sizeof *out);
    const prog_data *d = &prog->d;
    if (!doc->order.id || !doc->customer.id) {
        snprintf(out->message, sizeof out->message, "an order to commit needs $.order.id and $.customer.id");
        out->store_status = PERK_STORE_INVALID;
        return false;
    }
    attempt_buffers b;
    b.promos = calloc(d->n_rules + 1, sizeof *b.promos);
    b.coupons = calloc(doc->n_coupons + 1, sizeof *b.coupons);
    b.earned = calloc(d->n_earns + 1, sizeof *b.earned);
    b.excluded = calloc(d->n_rules + 1, sizeof *b.excluded);
    b.campaigns = calloc(doc->n_coupons + 1, sizeof *b.campaigns);
    if (!b.promos || !b.coupons || !b.earned || !b.excluded || !b.campaigns) abort();
    perk_store_tier tiers[MAX_TIERS];
    perk_store_policy policy;
    checkout_policy(prog, &policy, tiers, MAX_TIERS);
    int64_t now = doc->order.time;
    bool ok = false;

    /* the store's verdict on every entered coupon */
    for (size_t i = 0; i < doc->n_coupons; i++) {
        perk_store_coupon_info info;
        perk_store_status st = perk_store_coupon_check(store, doc->coupons[i].code, doc->customer.id, now, &info);
        if (st != PERK_STORE_OK) {
            out->store_status = st;
            snprintf(out->message, sizeof out->message, "checking coupon %s: %s", doc->coupons[i].code, perk_store_errmsg(store));
            goto done;
        }
        doc->coupons[i].status = coupon_status_of(info.status);
        if (!doc->coupons[i].campaign && info.campaign[0]) {
            memcpy(b.campaigns[i], info.campaign, sizeof b.campaigns[i]);
            doc->coupons[i].campaign = b.campaigns[i];
        }
    }

    for (out->attempts = 1; out->attempts <= CHECKOUT_MAX_ATTEMPTS; out->attempts++) {
        char err[256];
        if (cart_json_feed(doc, ctx, prog, err, sizeof err) != PERK_OK) {
            out->eval_status = PERK_INVALID;
            snprintf(out->message, sizeof out->message, "%s", err);
            goto done;
        }
        /* budgets as the store has them now */
        for (uint32_t i = 0; i < d->n_rules; i++) {
            if (b.excluded[i]) perk_cart_exclude(ctx, i);
            if (!has_budget(&d->rules[i])) continue;
            perk_usage u = {0, 0, 0};
            perk_store_status st = perk_store_budget_usage(store, perk_program_name(prog), prog_string(d, d->rules[i].id),
                                                           doc->customer.id, &u.uses, &u.money, &u.customer_uses);
            if (st != PERK_STORE_OK) {
                out->store_status = st;
                snprintf(out->message, sizeof out->message, "reading budgets: %s", perk_store_errmsg(store));
                goto done;
            }
            perk_cart_set_usage(ctx, i, &u);
        }
        const perk_result *r = perk_evaluate(ctx);
        out->result = r;
        out->eval_status = r->status;
        if (r->status != PERK_OK) {
            snprintf(out->message, sizeof out->message, "evaluation failed: %s", perk_context_error(ctx));
            goto done;
        }
        perk_store_order o;
        fill_order(prog, version, doc, r, &b, &o, order_json);
        perk_store_commit_result_free(&out->commit);
        memset(&out->commit, 0, sizeof out->commit);
        perk_store_status st = perk_store_commit(store, &o, &policy, &out->commit);
        out->store_status = st;
        if (st == PERK_STORE_OK) {
            ok = true;
            goto done;
        }
        if (st != PERK_STORE_BUDGET_EXCEEDED) {
            snprintf(out->message, sizeof out->message, "%s", perk_store_errmsg(store));
            goto done;
        }
        /* someone else took the last of a budget or coupon: drop it and evaluate again */
        for (size_t k = 0; k < out->commit.n_failures; k++) {
            const perk_store_failure *f = &out->commit.failures[k];
            if (f->reason == PERK_STORE_FAIL_COUPON) {
                for (size_t i = 0; i < doc->n_coupons; i++) {
                    char norm[PERK_STORE_CODE_MAX];
                    if (perk_store_coupon_normalize(doc->coupons[i].code, norm) == PERK_STORE_OK && strcmp(norm, f->id) == 0)
                        doc->coupons[i].status = coupon_status_of(f->coupon_status);
                }
            } else {
                long idx = perk_program_find_promotion(prog, f->id);
                if (idx >= 0) b.excluded[idx] = true;
            }
        }
    }
    snprintf(out->message, sizeof out->message, "gave up after %d attempts: budgets kept changing", CHECKOUT_MAX_ATTEMPTS);
done:
    free(b.promos);
    free(b.coupons);
    free(b.earned);
    free(b.excluded);
    free(b.campaigns);
    return ok;
}

void checkout_outcome_free(checkout_outcome *out) { perk_store_commit_result_free(&out->commit); }
