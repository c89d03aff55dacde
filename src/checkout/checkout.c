/* checkout.c - evaluate and commit an order against the store (see checkout.h). */
#include "checkout.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "program.h"

#define MAX_TIERS 64

void checkout_policy(const perk_program *prog, perk_store_policy *policy, perk_store_tier *tiers, size_t cap)
{
    const prog_data *d = prog_data_of(prog);
    memset(policy, 0, sizeof *policy);
    policy->pending_seconds = d->points_pending_seconds;
    policy->expire_seconds = d->points_expire_seconds;
    policy->expire_year_end = d->points_expire_year_end;
    policy->zone_count = d->n_tz;
    policy->zone_at = d->tz_at;
    policy->zone_offset = d->tz_offset;
    policy->zone_base_offset = d->tz_base_offset;
    size_t n = d->n_tiers < cap ? d->n_tiers : cap;
    for (size_t i = 0; i < n; i++) {
        tiers[i].name = prog_string(d, d->tiers[i].id);
        tiers[i].spend_threshold = d->tiers[i].spend;
        tiers[i].window_seconds = d->tiers[i].window_seconds;
    }
    policy->tiers = n ? tiers : NULL;
    policy->n_tiers = n;
}

static perk_coupon_status coupon_status_of(perk_store_coupon_status s)
{
    switch (s) {
    case PERK_STORE_COUPON_VALID: return PERK_COUPON_VALID;
    case PERK_STORE_COUPON_UNKNOWN: return PERK_COUPON_UNKNOWN;
    case PERK_STORE_COUPON_EXPIRED: return PERK_COUPON_EXPIRED;
    case PERK_STORE_COUPON_USED_UP: return PERK_COUPON_USED_UP;
    case PERK_STORE_COUPON_NOT_FOR_CUSTOMER: return PERK_COUPON_NOT_FOR_CUSTOMER;
    case PERK_STORE_COUPON_REVOKED: return PERK_COUPON_REVOKED;
    case PERK_STORE_COUPON_NOT_YET_VALID: return PERK_COUPON_NOT_YET_VALID;
    }
    return PERK_COUPON_UNKNOWN;
}

static bool has_budget(const prog_rule *r)
{
    return r->limit_uses >= 0 || r->limit_money >= 0 || r->limit_per_customer >= 0 || r->limit_units != 0;
}

/* The units of promotion `promotion` the result gives its price (0 unless it is unit-limited). */
static int64_t units_at_price(const perk_result *r, uint32_t promotion)
{
    for (uint32_t i = 0; i < r->n_promotion_units; i++)
        if (r->promotion_units[i].promotion == promotion) return r->promotion_units[i].units;
    return 0;
}

/* Everything one commit attempt needs, sized by the program and the cart. */
typedef struct attempt_buffers {
    perk_store_promo_use *promos;
    perk_store_promo_units *promo_units; /* parallel to promos */
    const char **coupons;
    perk_store_points_line *earned;
    bool *excluded;
    char (*campaigns)[PERK_STORE_NAME_MAX];
    /* what this very order already holds in the store (a retry of a committed order) */
    bool *own_promo;              /* by promotion index */
    int64_t *own_discount;        /* by promotion index */
    bool *own_coupon;             /* by entered coupon */
    perk_store_order_line *lines; /* the cart's lines with what is paid for each */
    char (*line_ids)[16];         /* "#3" for a line without an id (its position) */
} attempt_buffers;

typedef struct own_uses_ctx {
    const perk_program *prog;
    const cart_doc *doc;
    attempt_buffers *b;
} own_uses_ctx;

static int note_own_use(const perk_store_order_use *u, void *p)
{
    own_uses_ctx *c = p;
    if (u->promo_id) {
        if (strcmp(u->ruleset, perk_program_name(c->prog)) != 0) return 0;
        long idx = perk_program_find_promotion(c->prog, u->promo_id);
        if (idx >= 0) {
            c->b->own_promo[idx] = true;
            c->b->own_discount[idx] = u->discount;
        }
        return 0;
    }
    for (size_t i = 0; i < c->doc->n_coupons; i++) {
        char norm[PERK_STORE_CODE_MAX];
        if (perk_store_coupon_normalize(c->doc->coupons[i].code, norm) == PERK_STORE_OK &&
            strcmp(norm, u->coupon) == 0)
            c->b->own_coupon[i] = true;
    }
    return 0;
}

/* The store's verdict on a code this order already used when it was first committed, as if that
 * use were not there yet: a retried order must see what the first attempt saw. A code revoked
 * since (a commit refuses a revoked code, so the revocation came after) is judged by its uses. */
static perk_store_coupon_status verdict_before_own_use(const perk_store_coupon_info *info)
{
    if (info->status != PERK_STORE_COUPON_USED_UP && info->status != PERK_STORE_COUPON_NOT_FOR_CUSTOMER &&
        info->status != PERK_STORE_COUPON_REVOKED)
        return info->status;
    if (info->uses < 1 || info->customer_uses < 1) return info->status;
    if (info->max_uses && info->uses - 1 >= info->max_uses) return PERK_STORE_COUPON_USED_UP;
    if (info->max_per_customer && info->customer_uses - 1 >= info->max_per_customer)
        return PERK_STORE_COUPON_NOT_FOR_CUSTOMER;
    return PERK_STORE_COUPON_VALID;
}

/* Sets out->message; says that nothing was committed unless the text already tells. */
static void set_message(checkout_outcome *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_message(checkout_outcome *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->message, sizeof out->message, fmt, ap);
    va_end(ap);
    if (!strstr(out->message, "committed")) {
        size_t len = strlen(out->message);
        snprintf(out->message + len, sizeof out->message - len, "; the order was not committed");
    }
}

static void fill_order(const perk_program *prog, int64_t version, const cart_doc *doc, const perk_result *r,
                       attempt_buffers *b, perk_store_order *o, const char *order_json)
{
    const prog_data *d = prog_data_of(prog);
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
        b->promo_units[o->n_promos] =
            (perk_store_promo_units){ units_at_price(r, pr->promotion), rule->limit_units };
        b->promos[o->n_promos++] =
            (perk_store_promo_use){ prog_string(d, rule->id), pr->discount + pr->shipping_discount,
                                    rule->limit_uses, rule->limit_money, rule->limit_per_customer };
    }
    for (uint32_t i = 0; i < r->n_coupons; i++)
        if (r->coupons[i].verdict == PERK_COUPON_ACCEPTED) b->coupons[o->n_coupons++] = r->coupons[i].code;
    for (uint32_t i = 0; i < r->n_points; i++)
        if (r->points[i].points > 0)
            b->earned[o->n_earned++] =
                (perk_store_points_line){ prog_string(d, d->earns[r->points[i].earn_rule].id),
                                          r->points[i].points };
    o->promos = b->promos;
    o->promo_units = b->promo_units;
    o->coupons = b->coupons;
    o->earned = b->earned;
    /* the cart's lines (not the gifts appended after them) with their final amounts: refunds
     * by line are checked against them */
    size_t n_lines = doc->n_lines < r->n_lines ? doc->n_lines : r->n_lines;
    for (size_t i = 0; i < n_lines; i++) {
        const char *id = doc->lines[i].id;
        if (!id || !*id) {
            snprintf(b->line_ids[i], sizeof b->line_ids[i], "#%zu", i + 1);
            id = b->line_ids[i];
        }
        b->lines[i] = (perk_store_order_line){ id, r->lines[i].final };
    }
    o->lines = n_lines ? b->lines : NULL;
    o->n_lines = n_lines;
}

bool checkout_place_order(perk_store *store, const perk_program *prog, int64_t version, perk_context *ctx,
                          cart_doc *doc, const char *order_json, checkout_outcome *out)
{
    return checkout_place_order_opts(store, prog, version, ctx, doc, order_json, NULL, out);
}

/* One evaluation-and-commit of the order (checkout_place_order_opts); *seen_before: whether the
 * store held the order id when it was looked up at the start. */
static bool place_once(perk_store *store, const perk_program *prog, int64_t version, perk_context *ctx,
                       cart_doc *doc, const char *order_json, const checkout_options *opts,
                       checkout_outcome *out, bool *seen_before)
{
    memset(out, 0, sizeof *out);
    *seen_before = false;
    const prog_data *d = prog_data_of(prog);
    if (version <= 0 && !opts->dry_run) {
        /* the store would refuse it too: say it plainly before evaluating anything */
        snprintf(out->message, sizeof out->message,
                 "order %s was not committed: it is priced by a program that is not a published version "
                 "of the store; publish the rules (perk publish) and price with the active version, or "
                 "evaluate it as a dry run",
                 doc->order.id ? doc->order.id : "(no id)");
        out->store_status = PERK_STORE_INVALID;
        return false;
    }
    if (opts->dry_run && opts->reserve_ttl <= 0 && !opts->reservation_id) {
        /* pricing a cart against the store (/v1/evaluate?budgets=store) before it is an order:
         * no id (no earlier commit of it to leave out), maybe no customer (nobody's per-customer
         * uses, no facts), and the store's clock when it has no time */
        if (!doc->has_time) {
            doc->order.time = perk_store_now(store);
            doc->has_time = true;
        }
    } else if (!doc->order.id || !doc->customer.id) {
        snprintf(out->message, sizeof out->message, "an order to commit needs $.order.id and $.customer.id");
        out->store_status = PERK_STORE_INVALID;
        return false;
    }
    if (!doc->has_time) {
        /* the store dates budgets, coupon checks and ledger entries by the order's own time */
        snprintf(out->message, sizeof out->message, "an order to commit needs $.order.time");
        out->store_status = PERK_STORE_INVALID;
        return false;
    }
    attempt_buffers b;
    b.promos = calloc(d->n_rules + 1, sizeof *b.promos);
    b.promo_units = calloc(d->n_rules + 1, sizeof *b.promo_units);
    b.coupons = calloc(doc->n_coupons + 1, sizeof *b.coupons);
    b.earned = calloc(d->n_earns + 1, sizeof *b.earned);
    b.excluded = calloc(d->n_rules + 1, sizeof *b.excluded);
    b.campaigns = calloc(doc->n_coupons + 1, sizeof *b.campaigns);
    b.own_promo = calloc(d->n_rules + 1, sizeof *b.own_promo);
    b.own_discount = calloc(d->n_rules + 1, sizeof *b.own_discount);
    b.own_coupon = calloc(doc->n_coupons + 1, sizeof *b.own_coupon);
    b.lines = calloc(doc->n_lines + 1, sizeof *b.lines);
    b.line_ids = calloc(doc->n_lines + 1, sizeof *b.line_ids);
    if (!b.promos || !b.promo_units || !b.coupons || !b.earned || !b.excluded || !b.campaigns || !b.own_promo ||
        !b.own_discount || !b.own_coupon || !b.lines || !b.line_ids)
        abort();
    perk_store_tier tiers[MAX_TIERS];
    perk_store_policy policy;
    checkout_policy(prog, &policy, tiers, MAX_TIERS);
    int64_t now = doc->order.time;
    bool ok = false;
    const perk_customer claimed = doc->customer; /* given back to the caller's doc at the end */
    if (opts->reserve_ttl > 0 && !opts->reservation_id) abort(); /* a caller's bug */
    /* pricing the order that consumes a reservation: what it holds is this order's */
    bool excluding = opts->reservation_id && opts->reserve_ttl <= 0;
    if (excluding && perk_store_exclude_reservation(store, opts->reservation_id) != PERK_STORE_OK) {
        out->store_status = PERK_STORE_INVALID;
        set_message(out, "%s", perk_store_errmsg(store));
        excluding = false;
        goto done;
    }

    /* A retry of an order already committed must be evaluated as the first time, or its content
     * (and fingerprint) would differ and the store would call it a conflict: its own budget and
     * coupon uses are taken out of what the store reports below. */
    bool committed_before = false;
    int64_t committed_version = 0;
    own_uses_ctx own = { prog, doc, &b };
    perk_store_status ost = !doc->order.id ? PERK_STORE_OK
                            : perk_store_order_uses(store, doc->order.id, &committed_before,
                                                    &committed_version, note_own_use, &own);
    if (ost != PERK_STORE_OK) {
        out->store_status = ost;
        set_message(out, "looking up order %s: %s", doc->order.id, perk_store_errmsg(store));
        goto done;
    }
    *seen_before = committed_before;
    if (committed_before && committed_version != version) {
        /* the version is part of the order's content: this retry could only be a conflict */
        out->store_status = PERK_STORE_CONFLICT;
        snprintf(
            out->message, sizeof out->message,
            "order %s was already committed, priced by rule-set version %lld; a retry priced by version %lld "
            "cannot match it (price the retry with version %lld, as `perk commit` does)",
            doc->order.id, (long long)committed_version, (long long)version, (long long)committed_version);
        goto done;
    }

    /* the customer facts the store owns replace the cart's claims (a retry: as before it), read
     * at the store's clock as the store checks a redemption: points earned by an order committed a
     * moment ago are available from the store's time of that commit, maybe after this order's */
    perk_store_status fst =
        !doc->customer.id ? PERK_STORE_OK
                          : checkout_facts_read(store, prog, doc->customer.id,
                                                committed_before ? doc->order.id : NULL, perk_store_now(store),
                                                &out->facts);
    if (fst != PERK_STORE_OK) {
        out->store_status = fst;
        set_message(out, "reading the facts of customer %s: %s", doc->customer.id, perk_store_errmsg(store));
        goto done;
    }
    if (doc->customer.id) { /* an anonymous cart keeps what it says (there is nobody to look up) */
        out->facts.claims = checkout_facts_claims(doc);
        checkout_facts_apply(&out->facts, &doc->customer);
    }

    /* the store's verdict on every entered coupon */
    for (size_t i = 0; i < doc->n_coupons; i++) {
        perk_store_coupon_info info;
        perk_store_status st =
            perk_store_coupon_check(store, doc->coupons[i].code, doc->customer.id, now, &info);
        if (st != PERK_STORE_OK) {
            out->store_status = st;
            set_message(out, "checking coupon %s: %s", doc->coupons[i].code, perk_store_errmsg(store));
            goto done;
        }
        doc->coupons[i].status =
            coupon_status_of(b.own_coupon[i] ? verdict_before_own_use(&info) : info.status);
        if (!doc->coupons[i].campaign && info.campaign[0]) {
            memcpy(b.campaigns[i], info.campaign, sizeof b.campaigns[i]);
            doc->coupons[i].campaign = b.campaigns[i];
        }
    }

    for (out->attempts = 1; out->attempts <= CHECKOUT_MAX_ATTEMPTS; out->attempts++) {
        char err[256];
        if (cart_json_feed(doc, ctx, prog, err, sizeof err) != PERK_OK) {
            out->eval_status = PERK_INVALID;
            set_message(out, "%s", err);
            goto done;
        }
        /* budgets as the store has them now */
        for (uint32_t i = 0; i < d->n_rules; i++) {
            if (b.excluded[i]) perk_cart_exclude(ctx, i);
            if (!has_budget(&d->rules[i])) continue;
            perk_usage u = { 0, 0, 0 };
            perk_store_status st =
                perk_store_budget_usage(store, perk_program_name(prog), prog_string(d, d->rules[i].id),
                                        doc->customer.id, &u.uses, &u.money, &u.customer_uses);
            if (st != PERK_STORE_OK) {
                out->store_status = st;
                set_message(out, "reading budgets: %s", perk_store_errmsg(store));
                goto done;
            }
            if (b.own_promo[i]) {
                /* a retry: this order's own use is in the totals already */
                u.uses = u.uses > 0 ? u.uses - 1 : 0;
                u.money = u.money > b.own_discount[i] ? u.money - b.own_discount[i] : 0;
                u.customer_uses = u.customer_uses > 0 ? u.customer_uses - 1 : 0;
            }
            perk_cart_set_usage(ctx, i, &u);
            if (d->rules[i].limit_units != 0) {
                /* units bought at its price by the customer's other orders (a retry's own excluded) */
                int64_t units = 0;
                st = perk_store_customer_units(store, perk_program_name(prog), prog_string(d, d->rules[i].id),
                                               doc->customer.id, doc->order.id, &units);
                if (st != PERK_STORE_OK) {
                    out->store_status = st;
                    set_message(out, "reading units bought: %s", perk_store_errmsg(store));
                    goto done;
                }
                perk_cart_set_customer_units(ctx, i, units);
            }
        }
        const perk_result *r = perk_evaluate(ctx);
        out->result = r;
        out->eval_status = r->status;
        if (r->status != PERK_OK) {
            set_message(out, "evaluation failed: %s", perk_context_error(ctx));
            goto done;
        }
        if (opts->dry_run) {
            /* priced against the store's budgets and verdicts; nothing is consumed */
            out->dry_run = true;
            ok = true;
            goto done;
        }
        perk_store_order o;
        fill_order(prog, version, doc, r, &b, &o, order_json);
        o.delayed = opts->delayed;
        perk_store_commit_result_free(&out->commit);
        memset(&out->commit, 0, sizeof out->commit);
        perk_store_status st;
        if (opts->reserve_ttl > 0) {
            st = perk_store_reserve(store, opts->reservation_id, &o, opts->reserve_ttl, &out->commit);
        } else {
            o.reservation_id = opts->reservation_id;
            st = perk_store_commit(store, &o, &policy, &out->commit);
        }
        out->store_status = st;
        if (st == PERK_STORE_OK) {
            ok = true;
            goto done;
        }
        if (st != PERK_STORE_BUDGET_EXCEEDED) {
            set_message(out, "%s", perk_store_errmsg(store));
            goto done;
        }
        /* someone else took the last of a budget or coupon: drop it and evaluate again */
        for (size_t k = 0; k < out->commit.n_failures; k++) {
            const perk_store_failure *f = &out->commit.failures[k];
            if (f->reason == PERK_STORE_FAIL_COUPON) {
                for (size_t i = 0; i < doc->n_coupons; i++) {
                    char norm[PERK_STORE_CODE_MAX];
                    if (perk_store_coupon_normalize(doc->coupons[i].code, norm) == PERK_STORE_OK &&
                        strcmp(norm, f->id) == 0)
                        doc->coupons[i].status = coupon_status_of(f->coupon_status);
                }
            } else if (f->reason != PERK_STORE_FAIL_UNITS) {
                long idx = perk_program_find_promotion(prog, f->id);
                /* a partial money budget is evaluated again on what is left now rather than
                 * dropped: it grants the rest, or nothing once the budget is spent (semantics 5.5) */
                bool partial = idx >= 0 && f->reason == PERK_STORE_FAIL_MONEY &&
                               (d->rules[idx].flags & PROG_RULE_PARTIAL);
                if (idx >= 0 && !partial) b.excluded[idx] = true;
            } /* units: the next attempt reads how many the customer has left and prices those */
        }
    }
    out->attempts = CHECKOUT_MAX_ATTEMPTS;
    set_message(out, "gave up after %d attempts: budgets kept changing", CHECKOUT_MAX_ATTEMPTS);
done:
    if (excluding) perk_store_exclude_reservation(store, NULL);
    doc->customer = claimed; /* its tier may point into out->facts */
    /* campaigns looked up in the store live in b.campaigns, freed here: leave no pointer to them
     * in the caller's document */
    for (size_t i = 0; i < doc->n_coupons; i++)
        if (doc->coupons[i].campaign == b.campaigns[i]) doc->coupons[i].campaign = NULL;
    free(b.own_promo);
    free(b.own_discount);
    free(b.own_coupon);
    free(b.promos);
    free(b.promo_units);
    free(b.coupons);
    free(b.earned);
    free(b.excluded);
    free(b.campaigns);
    free(b.lines);
    free(b.line_ids);
    return ok;
}

bool checkout_place_order_opts(perk_store *store, const perk_program *prog, int64_t version,
                               perk_context *ctx, cart_doc *doc, const char *order_json,
                               const checkout_options *opts, checkout_outcome *out)
{
    static const checkout_options defaults = { 0 };
    if (!opts) opts = &defaults;
    bool seen_before = false;
    bool ok = place_once(store, prog, version, ctx, doc, order_json, opts, out, &seen_before);
    if (!ok && out->store_status == PERK_STORE_CONFLICT && !seen_before && !opts->dry_run &&
        opts->reserve_ttl <= 0) {
        /* The order id was committed between the look-up and this commit: another request for
         * the same order (a client's retry that did not wait for the first answer, on another
         * node) committed it, priced while this one was not yet counted. Priced again as a
         * retry, without its own uses, the same order replays; a different one is a conflict. */
        checkout_outcome_free(out);
        ok = place_once(store, prog, version, ctx, doc, order_json, opts, out, &seen_before);
    }
    return ok;
}

void checkout_outcome_free(checkout_outcome *out) { perk_store_commit_result_free(&out->commit); }
