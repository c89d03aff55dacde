/* orders.c - committing an order: one BEGIN IMMEDIATE transaction that checks budgets,
 * coupons and the points balance, then writes the order, budget and coupon uses, ledger entries,
 * tier changes and outbox events together, or nothing at all. Also budget usage queries. */
#include "store_internal.h"

#include "perk.h"
#include "program.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_PROMOS = 1000, MAX_COUPONS = 100, MAX_EARNED = 1000 };

static const char *const failure_messages[] = {
#define PERK_STORE_FAILURE_MSG(name, msg) msg,
    PERK_STORE_FAILURE_LIST(PERK_STORE_FAILURE_MSG)
#undef PERK_STORE_FAILURE_MSG
};

const char *perk_store_failure_message(perk_store_failure_reason reason)
{
    if ((unsigned)reason >= sizeof failure_messages / sizeof failure_messages[0]) return "unknown failure";
    return failure_messages[reason];
}

void perk_store_commit_result_free(perk_store_commit_result *r)
{
    if (!r) return;
    for (size_t i = 0; i < r->n_failures; i++) free(r->failures[i].id);
    free(r->failures);
    r->failures = NULL;
    r->n_failures = 0;
    for (size_t i = 0; i < r->n_reward_codes; i++) free(r->reward_codes[i].promo_id);
    free(r->reward_codes);
    r->reward_codes = NULL;
    r->n_reward_codes = 0;
}

/* ---------------------------------------------------------------- validation */

typedef struct commit_ctx {
    perk_store *s;
    const perk_store_order *o;
    const perk_store_policy *policy;
    perk_store_commit_result *r;
    const perk_store_policy *caller_policy; /* policy as given (apply_version replaces it) */
    int64_t ttl_seconds;                    /* perk_store_reserve */
    const char *reservation_id;             /* perk_store_reserve */
    char (*codes)[PERK_STORE_CODE_MAX]; /* normalised coupon codes */
    json_t *order_doc;                  /* parsed order_json, or NULL */
    char fingerprint[65];
    int64_t earned_total;
    /* the limits each promo is checked against: the published version's (or the caller's, for
     * a store that trusts its caller: tests only) */
    perk_store_promo_use *limits;
    perk_store_promo_units *units; /* parallel to limits: the order's units, the version's limit */
    int64_t now; /* the store's clock (the order's time when trusted) */
    perk_store_policy version_policy;
    perk_store_tier version_tiers[64];
    const perk_program *prog; /* the version's program (NULL when the store trusts its caller) */
} commit_ctx;

static perk_store_status validate_order(commit_ctx *c)
{
    perk_store *s = c->s;
    const perk_store_order *o = c->o;
    perk_store_status st = pstore_check_name(s, "order id", o->order_id, 255);
    if (st == PERK_STORE_OK) st = pstore_check_name(s, "customer id", o->customer_id, 255);
    if (st == PERK_STORE_OK) st = pstore_check_name(s, "rule-set name", o->ruleset, 255);
    if (st == PERK_STORE_OK) st = pstore_check_name(s, "currency", o->currency, 15);
    if (st != PERK_STORE_OK) return st;
    if (o->ruleset_version < 0 || o->subtotal < 0 || o->discount < 0 || o->shipping < 0 || o->payable < 0 ||
        o->points_redeemed < 0)
        return pstore_fail(s, PERK_STORE_INVALID,
                           "order %s: version, amounts and redeemed points must be >= 0", o->order_id);
    if ((o->n_promos && !o->promos) || (o->n_coupons && !o->coupons) || (o->n_earned && !o->earned))
        return pstore_fail(s, PERK_STORE_INVALID, "order %s: a list has a count but no items", o->order_id);
    if (o->n_promos > MAX_PROMOS || o->n_coupons > MAX_COUPONS || o->n_earned > MAX_EARNED)
        return pstore_fail(s, PERK_STORE_INVALID,
                           "order %s: too many promos/coupons/points lines (max %d/%d/%d)", o->order_id,
                           MAX_PROMOS, MAX_COUPONS, MAX_EARNED);
    for (size_t i = 0; i < o->n_promos; i++) {
        const perk_store_promo_use *p = &o->promos[i];
        st = pstore_check_name(s, "promotion id", p->promo_id, 255);
        if (st != PERK_STORE_OK) return st;
        const perk_store_promo_units *pu = o->promo_units ? &o->promo_units[i] : NULL;
        if (p->discount < 0 || p->limit_uses < -1 || p->limit_money < -1 || p->limit_per_customer < -1 ||
            (pu && (pu->units < 0 || pu->limit_units < 0 || (pu->limit_units > 0 && pu->units > pu->limit_units))))
            return pstore_fail(s, PERK_STORE_INVALID,
                               "order %s, promotion %s: discount must be >= 0, limits >= -1 "
                               "(-1 = no limit), units >= 0 and within limit_units (0 = none)",
                               o->order_id, p->promo_id);
        for (size_t j = 0; j < i; j++)
            if (strcmp(o->promos[j].promo_id, p->promo_id) == 0)
                return pstore_fail(s, PERK_STORE_INVALID, "order %s lists promotion %s twice", o->order_id,
                                   p->promo_id);
    }
    if (o->n_coupons) {
        c->codes = calloc(o->n_coupons, sizeof *c->codes);
        if (!c->codes) return pstore_fail(s, PERK_STORE_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < o->n_coupons; i++) {
        if (perk_store_coupon_normalize(o->coupons[i], c->codes[i]) != PERK_STORE_OK)
            return pstore_fail(s, PERK_STORE_INVALID, "order %s: coupon code \"%.80s\" is malformed",
                               o->order_id, o->coupons[i] ? o->coupons[i] : "(null)");
        for (size_t j = 0; j < i; j++)
            if (strcmp(c->codes[j], c->codes[i]) == 0)
                return pstore_fail(s, PERK_STORE_INVALID, "order %s uses coupon %s twice", o->order_id,
                                   c->codes[i]);
    }
    for (size_t i = 0; i < o->n_earned; i++) {
        const perk_store_points_line *l = &o->earned[i];
        st = pstore_check_name(s, "rule id of a points line", l->rule_id, 255);
        if (st != PERK_STORE_OK) return st;
        if (l->points < 0)
            return pstore_fail(s, PERK_STORE_INVALID, "order %s: rule %s earns negative points", o->order_id,
                               l->rule_id);
        if (__builtin_add_overflow(c->earned_total, l->points, &c->earned_total))
            return pstore_fail(s, PERK_STORE_INVALID, "order %s: earned points overflow", o->order_id);
    }
    if (o->reservation_id) {
        st = pstore_check_name(s, "reservation id", o->reservation_id, 255);
        if (st != PERK_STORE_OK) return st;
    }
    if ((o->n_lines && !o->lines) || o->n_lines > 10000)
        return pstore_fail(s, PERK_STORE_INVALID, "order %s: needs 0..10000 lines with an array",
                           o->order_id);
    for (size_t i = 0; i < o->n_lines; i++) {
        st = pstore_check_name(s, "order line id", o->lines[i].line_id, 255);
        if (st != PERK_STORE_OK) return st;
        if (o->lines[i].amount < 0)
            return pstore_fail(s, PERK_STORE_INVALID, "order %s: line %s amount must be >= 0", o->order_id,
                               o->lines[i].line_id);
    }
    if (o->order_json) {
        size_t len = strlen(o->order_json);
        if (len > PERK_STORE_ORDER_JSON_MAX)
            return pstore_fail(s, PERK_STORE_INVALID,
                               "order %s: order_json is %zu bytes, more than the store keeps per order "
                               "(%d bytes); nothing was committed: store a smaller summary of the cart",
                               o->order_id, len, PERK_STORE_ORDER_JSON_MAX);
        json_error_t err;
        c->order_doc = json_loads(o->order_json, JSON_REJECT_DUPLICATES, &err);
        if (!c->order_doc)
            return pstore_fail(s, PERK_STORE_INVALID, "order %s: order_json is not valid JSON (line %d: %s)",
                               o->order_id, err.line, err.text);
    }
    return PERK_STORE_OK;
}

/* The content that defines an order for idempotency, as canonical JSON, hashed. */
static perk_store_status fingerprint_order(commit_ctx *c)
{
    const perk_store_order *o = c->o;
    json_t *promos = json_array(), *coupons = json_array(), *earned = json_array();
    for (size_t i = 0; i < o->n_promos; i++)
        json_array_append_new(promos,
                              json_pack("[s, I]", o->promos[i].promo_id, (json_int_t)o->promos[i].discount));
    for (size_t i = 0; i < o->n_coupons; i++) json_array_append_new(coupons, json_string(c->codes[i]));
    for (size_t i = 0; i < o->n_earned; i++)
        json_array_append_new(earned,
                              json_pack("[s, I]", o->earned[i].rule_id, (json_int_t)o->earned[i].points));
    json_t *doc =
        json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:I, s:I, s:I, s:I, s:o, s:o, s:o, s:I, s:O}", "order_id",
                  o->order_id, "customer_id", o->customer_id, "ruleset", o->ruleset, "ruleset_version",
                  (json_int_t)o->ruleset_version, "time", (json_int_t)o->time, "currency", o->currency,
                  "subtotal", (json_int_t)o->subtotal, "discount", (json_int_t)o->discount, "shipping",
                  (json_int_t)o->shipping, "payable", (json_int_t)o->payable, "promos", promos, "coupons",
                  coupons, "earned", earned, "points_redeemed", (json_int_t)o->points_redeemed, "order",
                  c->order_doc ? c->order_doc : json_null());
    if (doc && o->delayed) /* only when set: fingerprints of other orders stay as they were */
        json_object_set_new(doc, "delayed", json_true());
    char *text = doc ? json_dumps(doc, JSON_SORT_KEYS | JSON_COMPACT) : NULL;
    json_decref(doc);
    if (!text)
        return pstore_fail(c->s, PERK_STORE_NOMEM, "out of memory fingerprinting order %s", o->order_id);
    perk_store_sha256_hex(text, strlen(text), c->fingerprint);
    free(text);
    return PERK_STORE_OK;
}

/* ---------------------------------------------------------------- replay */

static perk_store_status load_previous(commit_ctx *c, bool *found)
{
    perk_store *s = c->s;
    *found = false;
    pstore_st *st =
        pstore_stmt(s, "SELECT fingerprint, points_earned, points_redeemed, out_available_at,"
                       " out_debt_collected, out_balance, out_pending, out_tier, out_previous_tier,"
                       " out_tier_changed, out_event_id FROM orders WHERE order_id = ?1");
    if (!st) return pstore_stmt_status(s);
    pstore_bind_text(st, 1, c->o->order_id);
    char conflict[400];
    snprintf(
        conflict, sizeof conflict,
        "order %.200s was already committed with different content; an order id can be committed only once",
        c->o->order_id);
    perk_store_status status =
        pstore_replay_row(s, st, c->fingerprint, "looking up the order", conflict, found);
    if (status != PERK_STORE_OK || !*found) return status;
    perk_store_commit_result *r = c->r;
    r->replay = true;
    r->points_earned = pstore_col_int64(st, 1);
    r->points_redeemed = pstore_col_int64(st, 2);
    r->available_at = pstore_col_int64(st, 3);
    r->debt_collected = pstore_col_int64(st, 4);
    r->balance = pstore_col_int64(st, 5);
    r->pending = pstore_col_int64(st, 6);
    const char *tier = pstore_col_text(st, 7);
    const char *prev = pstore_col_text(st, 8);
    snprintf(r->tier, sizeof r->tier, "%s", tier ? (const char *)tier : "");
    snprintf(r->previous_tier, sizeof r->previous_tier, "%s", prev ? (const char *)prev : "");
    r->tier_changed = pstore_col_int64(st, 9) != 0;
    r->event_id = pstore_col_int64(st, 10);
    pstore_done(st);
    /* the same codes as the first commit, in its order: the order's promotions' (the same content) */
    status = pstore_load_rewards(s, c->o->order_id, r);
    size_t placed = 0;
    for (size_t i = 0; status == PERK_STORE_OK && i < c->o->n_promos; i++)
        for (size_t k = placed; k < r->n_reward_codes; k++)
            if (strcmp(r->reward_codes[k].promo_id, c->o->promos[i].promo_id) == 0) {
                perk_store_reward_code t = r->reward_codes[k];
                memmove(&r->reward_codes[placed + 1], &r->reward_codes[placed], (k - placed) * sizeof t);
                r->reward_codes[placed++] = t;
                break;
            }
    return status;
}

/* ---------------------------------------------------------------- checks */

static perk_store_status add_failure(commit_ctx *c, const char *id, perk_store_failure_reason reason,
                                     perk_store_coupon_status coupon_status)
{
    perk_store_commit_result *r = c->r;
    perk_store_failure *grown = realloc(r->failures, (r->n_failures + 1) * sizeof *grown);
    if (!grown) return pstore_fail(c->s, PERK_STORE_NOMEM, "out of memory");
    r->failures = grown;
    char *copy = strdup(id);
    if (!copy) return pstore_fail(c->s, PERK_STORE_NOMEM, "out of memory");
    r->failures[r->n_failures++] =
        (perk_store_failure){ .id = copy, .reason = reason, .coupon_status = coupon_status };
    return PERK_STORE_OK;
}

/* Committed uses and money of a budget, plus what open reservations hold of it at `now`. */
static perk_store_status budget_totals(perk_store *s, const char *ruleset, const char *promo, int64_t now,
                                       int64_t *uses, int64_t *money)
{
    *uses = *money = 0;
    pstore_st *st = pstore_stmt(s, "SELECT uses, money FROM budget_totals "
                                      "WHERE ruleset = ?1 AND promo_id = ?2");
    if (!st) return pstore_stmt_status(s);
    pstore_bind_text(st, 1, ruleset);
    pstore_bind_text(st, 2, promo);
    int rc = pstore_step(st);
    perk_store_status status = PERK_STORE_OK;
    if (rc == PSTORE_ROW) {
        *uses = pstore_col_int64(st, 0);
        *money = pstore_col_int64(st, 1);
    } else if (rc != PSTORE_DONE) {
        status = pstore_sqlfail(s, rc, "reading a budget");
    }
    pstore_done(st);
    int64_t held_uses = 0, held_money = 0;
    if (status == PERK_STORE_OK)
        status = pstore_held_budget(s, ruleset, promo, NULL, now, &held_uses, &held_money, NULL);
    if (status == PERK_STORE_OK &&
        (__builtin_add_overflow(*uses, held_uses, uses) || __builtin_add_overflow(*money, held_money, money)))
        status = pstore_fail(s, PERK_STORE_INVALID, "promotion %s: budget totals overflow", promo);
    return status;
}

static perk_store_status customer_budget_uses(perk_store *s, const char *ruleset, const char *promo,
                                              const char *customer, int64_t now, int64_t *uses)
{
    pstore_st *st = pstore_stmt(s, "SELECT COUNT(*) FROM budget_uses WHERE ruleset = ?1 AND "
                                      "promo_id = ?2 AND customer_id = ?3 AND released_at IS NULL");
    if (!st) return pstore_stmt_status(s);
    pstore_bind_text(st, 1, ruleset);
    pstore_bind_text(st, 2, promo);
    pstore_bind_text(st, 3, customer);
    perk_store_status status = pstore_query_int(s, st, 0, uses, "counting the customer's promotion uses");
    int64_t held_uses = 0, held_money = 0, held_customer = 0;
    if (status == PERK_STORE_OK)
        status =
            pstore_held_budget(s, ruleset, promo, customer, now, &held_uses, &held_money, &held_customer);
    if (status == PERK_STORE_OK) *uses += held_customer; /* at most the reservations' row count */
    return status;
}

/* The store's clock decides: an order dated further than the max skew from it is refused; a
 * delayed order may be older (up to the max delay), never in the future, and is recorded. */
static perk_store_status check_order_time(commit_ctx *c)
{
    perk_store *s = c->s;
    const perk_store_order *o = c->o;
    char what[300];
    if (!o->delayed) {
        snprintf(what, sizeof what, "order %.200s", o->order_id);
        return pstore_check_time(s, o->time, what, &c->now);
    }
    c->now = pstore_now(s, o->time);
    if (o->time > c->now + s->max_skew)
        return pstore_fail(s, PERK_STORE_INVALID,
                           "delayed order %s is dated %lld, %lld s ahead of the store's clock (%lld): a "
                           "delayed order happened in the past; check the clock of the machine that "
                           "sent it",
                           o->order_id, (long long)o->time, (long long)(o->time - c->now), (long long)c->now);
    if (c->now - o->time > s->max_delay)
        return pstore_fail(s, PERK_STORE_INVALID,
                           "delayed order %s is dated %lld, %lld s before the store's clock (%lld), "
                           "more than the %lld s a delayed order may be late; it cannot be committed "
                           "with the prices and coupons of then",
                           o->order_id, (long long)o->time, (long long)(c->now - o->time), (long long)c->now,
                           (long long)s->max_delay);
    return PERK_STORE_OK;
}

/* The published version decides: the order's rule set, currency, promotions and their budgets,
 * earn rules and points policy are the version's. A caller that priced the order with another
 * program (one with raised limits, say) is refused before anything is checked or written. */
static perk_store_status apply_version(commit_ctx *c)
{
    perk_store *s = c->s;
    const perk_store_order *o = c->o;
    free(c->limits); /* from an earlier run of the transaction */
    free(c->units);
    c->prog = NULL;
    c->limits = calloc(o->n_promos + 1, sizeof *c->limits);
    c->units = calloc(o->n_promos + 1, sizeof *c->units);
    if (!c->limits || !c->units) return pstore_fail(s, PERK_STORE_NOMEM, "out of memory");
    for (size_t i = 0; i < o->n_promos; i++) {
        c->limits[i] = o->promos[i];
        if (o->promo_units) c->units[i] = o->promo_units[i];
    }
    if (s->trusts_caller) return PERK_STORE_OK;
    const perk_program *prog = NULL;
    perk_store_status status = pstore_version_program(s, o->ruleset_version, c->now, &prog);
    if (status != PERK_STORE_OK) {
        pstore_add_context(s, " (order %s)", o->order_id);
        return status;
    }
    const prog_data *d = prog_data_of(prog);
    c->prog = prog;
    long long v = (long long)o->ruleset_version;
    if (strcmp(o->ruleset, perk_program_name(prog)) != 0 ||
        strcmp(o->currency, perk_program_currency(prog)) != 0)
        return pstore_fail(s, PERK_STORE_INVALID,
                           "order %s names rule set %s in %s, but version %lld is rule set %s in %s: "
                           "price the order with version %lld",
                           o->order_id, o->ruleset, o->currency, v, perk_program_name(prog),
                           perk_program_currency(prog), v);
    for (size_t i = 0; i < o->n_promos; i++) {
        const perk_store_promo_use *p = &o->promos[i];
        long idx = perk_program_find_promotion(prog, p->promo_id);
        if (idx < 0)
            return pstore_fail(s, PERK_STORE_INVALID,
                               "order %s applies promotion %s, which version %lld does not have: the "
                               "order was priced by another program",
                               o->order_id, p->promo_id, v);
        const prog_rule *r = &d->rules[idx];
        if (p->limit_uses != r->limit_uses || p->limit_money != r->limit_money ||
            p->limit_per_customer != r->limit_per_customer || c->units[i].limit_units != r->limit_units)
            return pstore_fail(s, PERK_STORE_INVALID,
                               "order %s: promotion %s claims limits (uses %lld, money %lld, per "
                               "customer %lld) that are not version %lld's (%lld, %lld, %lld): the "
                               "order was priced by another program; price it with version %lld",
                               o->order_id, p->promo_id, (long long)p->limit_uses, (long long)p->limit_money,
                               (long long)p->limit_per_customer, v, (long long)r->limit_uses,
                               (long long)r->limit_money, (long long)r->limit_per_customer, v);
        c->limits[i].limit_uses = r->limit_uses;
        c->limits[i].limit_money = r->limit_money;
        c->limits[i].limit_per_customer = r->limit_per_customer;
    }
    for (size_t i = 0; i < o->n_earned; i++) {
        bool known = false;
        for (uint32_t k = 0; k < d->n_earns && !known; k++)
            known = strcmp(prog_string(d, d->earns[k].id), o->earned[i].rule_id) == 0;
        if (!known)
            return pstore_fail(s, PERK_STORE_INVALID,
                               "order %s earns points by rule %s, which version %lld does not have: "
                               "the order was priced by another program",
                               o->order_id, o->earned[i].rule_id, v);
    }
    /* the points policy (pending period, expiry, tiers) is the version's, whatever was passed */
    perk_store_policy *pol = &c->version_policy;
    memset(pol, 0, sizeof *pol);
    pol->pending_seconds = d->points_pending_seconds;
    pol->expire_seconds = d->points_expire_seconds;
    pol->expire_year_end = d->points_expire_year_end;
    pol->zone_count = d->n_tz;
    pol->zone_at = d->tz_at;
    pol->zone_offset = d->tz_offset;
    pol->zone_base_offset = d->tz_base_offset;
    size_t n = d->n_tiers < 64 ? d->n_tiers : 64;
    for (size_t i = 0; i < n; i++)
        c->version_tiers[i] = (perk_store_tier){ prog_string(d, d->tiers[i].id), d->tiers[i].spend,
                                                 d->tiers[i].window_seconds };
    pol->tiers = n ? c->version_tiers : NULL;
    pol->n_tiers = n;
    c->policy = pol;
    return PERK_STORE_OK;
}

static perk_store_status check_budgets_and_coupons(commit_ctx *c)
{
    perk_store *s = c->s;
    const perk_store_order *o = c->o;
    char summary[400] = "";
    size_t used = 0;
    for (size_t i = 0; i < o->n_promos; i++) {
        const perk_store_promo_use *p = &c->limits[i];
        int64_t uses, money, cust = 0, after;
        perk_store_status status = budget_totals(s, o->ruleset, p->promo_id, c->now, &uses, &money);
        if (status == PERK_STORE_OK && p->limit_per_customer >= 0)
            status = customer_budget_uses(s, o->ruleset, p->promo_id, o->customer_id, c->now, &cust);
        if (status != PERK_STORE_OK) return status;
        if (__builtin_add_overflow(money, p->discount, &after))
            return pstore_fail(s, PERK_STORE_INVALID, "promotion %s: money budget overflows", p->promo_id);
        int reason = -1;
        if (p->limit_uses >= 0 && uses >= p->limit_uses)
            reason = PERK_STORE_FAIL_USES;
        else if (p->limit_money >= 0 && after > p->limit_money)
            reason = PERK_STORE_FAIL_MONEY;
        else if (p->limit_per_customer >= 0 && cust >= p->limit_per_customer)
            reason = PERK_STORE_FAIL_PER_CUSTOMER;
        const perk_store_promo_units *pu = &c->units[i];
        if (reason < 0 && pu->limit_units > 0) {
            int64_t units = 0;
            status = pstore_customer_units(s, o->ruleset, p->promo_id, o->customer_id, o->order_id, c->now, &units);
            if (status != PERK_STORE_OK) return status;
            if (units > pu->limit_units - pu->units) reason = PERK_STORE_FAIL_UNITS;
        }
        if (reason < 0) continue;
        status = add_failure(c, p->promo_id, (perk_store_failure_reason)reason, PERK_STORE_COUPON_VALID);
        if (status != PERK_STORE_OK) return status;
        if (used < sizeof summary)
            used += (size_t)snprintf(summary + used, sizeof summary - used, "%spromotion %s: %s",
                                     used ? "; " : "", p->promo_id,
                                     perk_store_failure_message((perk_store_failure_reason)reason));
    }
    for (size_t i = 0; i < o->n_coupons; i++) {
        perk_store_coupon_info info;
        /* at the store's clock; a delayed order's coupons at its own (audited) time */
        perk_store_status status =
            pstore_coupon_lookup(s, c->codes[i], o->customer_id, o->delayed ? o->time : c->now, &info);
        if (status != PERK_STORE_OK) return status;
        if (info.status == PERK_STORE_COUPON_VALID) continue;
        status = add_failure(c, c->codes[i], PERK_STORE_FAIL_COUPON, info.status);
        if (status != PERK_STORE_OK) return status;
        if (used < sizeof summary)
            used +=
                (size_t)snprintf(summary + used, sizeof summary - used, "%scoupon %s: %s", used ? "; " : "",
                                 c->codes[i], perk_store_coupon_status_message(info.status));
    }
    if (c->r->n_failures == 0) return PERK_STORE_OK;
    return pstore_fail(s, PERK_STORE_BUDGET_EXCEEDED,
                       "order %s was not committed (nothing was written): %s; re-evaluate the "
                       "cart without them",
                       o->order_id, summary);
}

/* Available points at `t` that a redemption can take: unexpired lots available by then. */
static perk_store_status redeemable(perk_store *s, const char *customer, int64_t t, int64_t *out)
{
    pstore_replay r;
    perk_store_status status = pstore_replay_customer(s, customer, &r);
    if (status != PERK_STORE_OK) return status;
    int64_t sum = 0;
    for (size_t i = 0; i < r.n_lots; i++) {
        const pstore_lot *lot = &r.lots[i];
        if (lot->available_at <= t && (lot->expires_at == 0 || lot->expires_at > t)) sum += lot->remaining;
    }
    pstore_replay_free(&r);
    *out = sum;
    return PERK_STORE_OK;
}

/* ---------------------------------------------------------------- writes */

static perk_store_status insert_order(commit_ctx *c)
{
    const perk_store_order *o = c->o;
    pstore_st *st = pstore_stmt(
        c->s,
        "INSERT INTO orders (order_id, customer_id, ruleset, ruleset_version, time, "
        "currency, subtotal, discount, shipping, payable, points_earned, points_redeemed, "
        "fingerprint, order_json, delayed) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15)");
    if (!st) return pstore_stmt_status(c->s);
    pstore_bind_text(st, 1, o->order_id);
    pstore_bind_text(st, 2, o->customer_id);
    pstore_bind_text(st, 3, o->ruleset);
    pstore_bind_int64(st, 4, o->ruleset_version);
    pstore_bind_int64(st, 5, o->time);
    pstore_bind_text(st, 6, o->currency);
    pstore_bind_int64(st, 7, o->subtotal);
    pstore_bind_int64(st, 8, o->discount);
    pstore_bind_int64(st, 9, o->shipping);
    pstore_bind_int64(st, 10, o->payable);
    pstore_bind_int64(st, 11, c->earned_total);
    pstore_bind_int64(st, 12, o->points_redeemed);
    pstore_bind_text(st, 13, c->fingerprint);
    pstore_bind_text(st, 14, o->order_json);
    pstore_bind_int64(st, 15, o->delayed ? 1 : 0);
    return pstore_step_done(c->s, st, "inserting the order");
}

static perk_store_status record_lines(commit_ctx *c)
{
    const perk_store_order *o = c->o;
    perk_store_status status = PERK_STORE_OK;
    for (size_t i = 0; status == PERK_STORE_OK && i < o->n_lines; i++) {
        pstore_st *st = pstore_stmt(c->s, "INSERT INTO order_lines (order_id, line_id, amount) "
                                             "VALUES (?1, ?2, ?3)");
        if (!st) return pstore_stmt_status(c->s);
        pstore_bind_text(st, 1, o->order_id);
        pstore_bind_text(st, 2, o->lines[i].line_id);
        pstore_bind_int64(st, 3, o->lines[i].amount);
        int rc = pstore_step(st);
        pstore_done(st);
        if ((rc & 0xff) == PSTORE_CONSTRAINT)
            return pstore_fail(c->s, PERK_STORE_INVALID, "order %s lists line %s twice", o->order_id,
                               o->lines[i].line_id);
        if (rc != PSTORE_DONE) status = pstore_sqlfail(c->s, rc, "recording an order line");
    }
    return status;
}

static perk_store_status record_uses(commit_ctx *c)
{
    perk_store *s = c->s;
    const perk_store_order *o = c->o;
    perk_store_status status = PERK_STORE_OK;
    for (size_t i = 0; status == PERK_STORE_OK && i < o->n_promos; i++) {
        const perk_store_promo_use *p = &o->promos[i];
        pstore_st *st = pstore_stmt(s, "INSERT INTO budget_uses (ruleset, promo_id, order_id, "
                                          "customer_id, discount, used_at, units) "
                                          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
        if (!st) return pstore_stmt_status(s);
        pstore_bind_text(st, 1, o->ruleset);
        pstore_bind_text(st, 2, p->promo_id);
        pstore_bind_text(st, 3, o->order_id);
        pstore_bind_text(st, 4, o->customer_id);
        pstore_bind_int64(st, 5, p->discount);
        pstore_bind_int64(st, 6, o->time);
        pstore_bind_int64(st, 7, o->promo_units ? o->promo_units[i].units : 0);
        status = pstore_step_done(s, st, "recording a budget use");
        if (status != PERK_STORE_OK) break;
        st = pstore_stmt(s, "INSERT INTO budget_totals (ruleset, promo_id, uses, money) "
                            "VALUES (?1, ?2, 1, ?3) ON CONFLICT (ruleset, promo_id) DO UPDATE "
                            "SET uses = budget_totals.uses + 1, money = budget_totals.money + excluded.money");
        if (!st) return pstore_stmt_status(s);
        pstore_bind_text(st, 1, o->ruleset);
        pstore_bind_text(st, 2, p->promo_id);
        pstore_bind_int64(st, 3, p->discount);
        status = pstore_step_done(s, st, "updating a budget total");
    }
    for (size_t i = 0; status == PERK_STORE_OK && i < o->n_coupons; i++) {
        pstore_st *st = pstore_stmt(s, "INSERT INTO coupon_uses (code, order_id, customer_id, "
                                          "used_at) VALUES (?1, ?2, ?3, ?4)");
        if (!st) return pstore_stmt_status(s);
        pstore_bind_text(st, 1, c->codes[i]);
        pstore_bind_text(st, 2, o->order_id);
        pstore_bind_text(st, 3, o->customer_id);
        pstore_bind_int64(st, 4, o->time);
        status = pstore_step_done(s, st, "recording a coupon use");
        if (status != PERK_STORE_OK) break;
        st = pstore_stmt(s, "UPDATE coupons SET uses = uses + 1 WHERE code = ?1");
        if (!st) return pstore_stmt_status(s);
        pstore_bind_text(st, 1, c->codes[i]);
        status = pstore_step_done(s, st, "counting a coupon use");
    }
    return status;
}

static perk_store_status record_points(commit_ctx *c)
{
    perk_store *s = c->s;
    const perk_store_order *o = c->o;
    const perk_store_policy *p = c->policy;
    int64_t pending = p ? p->pending_seconds : 0;
    int64_t available_at, expires_at = 0;
    /* pending from the store's clock (or the order's time, if later within the skew) */
    int64_t from = o->time > c->now ? o->time : c->now;
    if (__builtin_add_overflow(from, pending, &available_at) || !pstore_points_expiry(p, available_at, &expires_at))
        return pstore_fail(s, PERK_STORE_INVALID, "order %s: points dates overflow", o->order_id);
    c->r->available_at = available_at;
    perk_store_status status = PERK_STORE_OK;
    for (size_t i = 0; status == PERK_STORE_OK && i < o->n_earned; i++) {
        const perk_store_points_line *l = &o->earned[i];
        if (l->points == 0) continue;
        pstore_entry e = { .order_id = o->order_id,
                           .customer_id = o->customer_id,
                           .kind = "earn",
                           .rule_id = l->rule_id,
                           .points = l->points,
                           .created_at = o->time,
                           .available_at = available_at,
                           .expires_at = expires_at };
        int64_t lot_id = 0, collected = 0;
        status = pstore_ledger_append(s, &e, &lot_id);
        if (status == PERK_STORE_OK)
            status = pstore_collect_debt(s, o->customer_id, o->order_id, lot_id, l->points, available_at,
                                         o->time, &collected);
        c->r->debt_collected += collected;
    }
    if (status == PERK_STORE_OK && o->points_redeemed > 0) {
        pstore_entry e = { .order_id = o->order_id,
                           .customer_id = o->customer_id,
                           .kind = "redeem",
                           .points = -o->points_redeemed,
                           .created_at = o->time,
                           .available_at = o->time };
        status = pstore_ledger_append(s, &e, NULL);
    }
    return status;
}

static perk_store_status emit_committed(commit_ctx *c)
{
    const perk_store_order *o = c->o;
    json_t *promos = json_array(), *coupons = json_array();
    for (size_t i = 0; i < o->n_promos; i++)
        json_array_append_new(promos, json_pack("{s:s, s:I}", "promo_id", o->promos[i].promo_id, "discount",
                                                (json_int_t)o->promos[i].discount));
    for (size_t i = 0; i < o->n_coupons; i++) json_array_append_new(coupons, json_string(c->codes[i]));
    json_t *points = json_pack("{s:I, s:I, s:I, s:I}", "earned", (json_int_t)c->earned_total, "redeemed",
                               (json_int_t)o->points_redeemed, "available_at", (json_int_t)c->r->available_at,
                               "debt_collected", (json_int_t)c->r->debt_collected);
    json_t *ev =
        json_pack("{s:s, s:s, s:s, s:I, s:s, s:I, s:I, s:I, s:I, s:o, s:o, s:o, s:O}", "order_id",
                  o->order_id, "customer_id", o->customer_id, "ruleset", o->ruleset, "ruleset_version",
                  (json_int_t)o->ruleset_version, "currency", o->currency, "subtotal",
                  (json_int_t)o->subtotal, "discount", (json_int_t)o->discount, "shipping",
                  (json_int_t)o->shipping, "payable", (json_int_t)o->payable, "promos", promos, "coupons",
                  coupons, "points", points, "order", c->order_doc ? c->order_doc : json_null());
    if (ev && o->delayed) /* audited: this order was committed late, at its own time */
        json_object_set_new(ev, "delayed", json_true());
    return pstore_emit(c->s, "order.committed", o->time, ev, &c->r->event_id);
}

static perk_store_status save_outcome(commit_ctx *c)
{
    perk_store_commit_result *r = c->r;
    pstore_st *st = pstore_stmt(
        c->s, "UPDATE orders SET out_available_at = ?2, out_debt_collected = ?3, out_balance = ?4,"
              " out_pending = ?5, out_tier = ?6, out_previous_tier = ?7, out_tier_changed = ?8,"
              " out_event_id = ?9 WHERE order_id = ?1");
    if (!st) return pstore_stmt_status(c->s);
    pstore_bind_text(st, 1, c->o->order_id);
    pstore_bind_int64(st, 2, r->available_at);
    pstore_bind_int64(st, 3, r->debt_collected);
    pstore_bind_int64(st, 4, r->balance);
    pstore_bind_int64(st, 5, r->pending);
    pstore_bind_text(st, 6, r->tier);
    pstore_bind_text(st, 7, r->previous_tier);
    pstore_bind_int64(st, 8, r->tier_changed);
    pstore_bind_int64(st, 9, r->event_id);
    return pstore_step_done(c->s, st, "saving the commit outcome");
}

/* Everything after the checks, inside the open transaction. */
static perk_store_status write_order(commit_ctx *c)
{
    perk_store *s = c->s;
    const perk_store_order *o = c->o;
    int64_t expired = 0;
    perk_store_status status = pstore_expire_customer(s, o->customer_id, c->now, &expired);
    if (status != PERK_STORE_OK) return status;
    if (o->points_redeemed > 0) {
        int64_t available = 0;
        status = redeemable(s, o->customer_id, c->now, &available);
        if (status != PERK_STORE_OK) return status;
        if (available < o->points_redeemed) {
            c->r->points_available = available;
            return pstore_fail(s, PERK_STORE_INSUFFICIENT_POINTS,
                               "order %s was not committed (nothing was written): it redeems "
                               "%lld points but customer %s has %lld available",
                               o->order_id, (long long)o->points_redeemed, o->customer_id,
                               (long long)available);
        }
    }
    status = insert_order(c);
    if (status == PERK_STORE_OK) status = record_lines(c);
    if (status == PERK_STORE_OK) status = record_uses(c);
    if (status == PERK_STORE_OK) status = record_points(c);
    if (status == PERK_STORE_OK && c->prog) status = pstore_issue_rewards(s, c->prog, o, c->now, c->r);
    if (status == PERK_STORE_OK)
        status = pstore_tier_update(s, c->policy, o->customer_id, o->time, "order", c->r->tier,
                                    c->r->previous_tier, &c->r->tier_changed);
    if (status == PERK_STORE_OK) status = emit_committed(c);
    if (status == PERK_STORE_OK && (expired || c->earned_total || o->points_redeemed)) {
        pstore_points_delta d = { .reason = "order",
                                  .order_id = o->order_id,
                                  .earned = c->earned_total,
                                  .redeemed = o->points_redeemed,
                                  .expired = expired,
                                  .debt_collected = c->r->debt_collected };
        status = pstore_emit_points_changed(s, o->customer_id, o->time, &d);
    }
    if (status == PERK_STORE_OK)
        status = pstore_ledger_sums(s, o->customer_id, o->time, &c->r->balance, &c->r->pending);
    if (status == PERK_STORE_OK) status = save_outcome(c);
    return status;
}

/* The order's write transaction (pstore_write_txn may run it again): every output in c and
 * c->r is set afresh on each run. */
static perk_store_status commit_body(perk_store *s, void *arg)
{
    commit_ctx *c = arg;
    const perk_store_order *o = c->o;
    perk_store_commit_result *r = c->r;
    perk_store_commit_result_free(r);
    memset(r, 0, sizeof *r);
    r->points_earned = c->earned_total;
    r->points_redeemed = o->points_redeemed;
    c->policy = c->caller_policy;
    bool found = false;
    perk_store_status status = load_previous(c, &found);
    if (status == PERK_STORE_OK && found) return PERK_STORE_OK; /* nothing was written: a replay only reads */
    if (status == PERK_STORE_OK) {
        status = check_order_time(c);
        if (status != PERK_STORE_OK) pstore_add_context(s, "; nothing was committed");
    }
    /* reservations whose TTL ended are given back first (they stopped counting already) */
    if (status == PERK_STORE_OK) status = pstore_expire_reservations(s, c->now, NULL);
    bool consumes = false;
    char saved_own[sizeof s->own_reservation];
    memcpy(saved_own, s->own_reservation, sizeof saved_own);
    if (status == PERK_STORE_OK && o->reservation_id) {
        status = pstore_reservation_is_open(s, o->reservation_id, o->customer_id, c->now, &consumes);
        /* its holds are this order's: not counted against it */
        if (status == PERK_STORE_OK && consumes)
            snprintf(s->own_reservation, sizeof s->own_reservation, "%s", o->reservation_id);
    }
    if (status == PERK_STORE_OK) status = apply_version(c);
    if (status == PERK_STORE_OK) status = check_budgets_and_coupons(c);
    memcpy(s->own_reservation, saved_own, sizeof saved_own);
    if (status == PERK_STORE_OK) status = write_order(c);
    if (status == PERK_STORE_OK && consumes)
        status = pstore_reservation_consume(s, o->reservation_id, o->order_id, c->now);
    if (status == PERK_STORE_OK) r->reservation_consumed = consumes;
    return status;
}

perk_store_status perk_store_commit(perk_store *s, const perk_store_order *o, const perk_store_policy *policy,
                                    perk_store_commit_result *result)
{
    perk_store_commit_result scratch;
    perk_store_commit_result *r = result ? result : &scratch;
    memset(r, 0, sizeof *r);
    if (!s) return PERK_STORE_INVALID;
    if (!o) return pstore_fail(s, PERK_STORE_INVALID, "no order given");
    commit_ctx c = { .s = s, .o = o, .policy = policy, .r = r };
    perk_store_status status = validate_order(&c);
    if (status == PERK_STORE_OK) status = pstore_policy_check(s, policy);
    if (status == PERK_STORE_OK) status = fingerprint_order(&c);
    if (status != PERK_STORE_OK) goto out;
    r->points_earned = c.earned_total;
    r->points_redeemed = o->points_redeemed;

    char action[320];
    snprintf(action, sizeof action, "committing order %s", o->order_id);
    c.caller_policy = policy;
    status = pstore_write_txn_idempotent(s, "starting the order transaction", "committing the transaction", commit_body, &c);
    if (status != PERK_STORE_OK)
        pstore_rewrite_sql_error(s, action,
                                 s->commit_unknown ? "it may have been committed: send the same order again to "
                                                     "find out (a retry of an order id is idempotent)"
                                                   : "nothing was committed");
out:
    if (status != PERK_STORE_OK && status != PERK_STORE_BUDGET_EXCEEDED) {
        /* Only budget failures report a list. */
        perk_store_commit_result_free(r);
    }
    free(c.codes);
    free(c.limits);
    free(c.units);
    json_decref(c.order_doc);
    if (!result) perk_store_commit_result_free(&scratch);
    return status;
}

/* The reservation's write transaction (pstore_write_txn may run it again): every output in c
 * and c->r is set afresh on each run. */
static perk_store_status reserve_body(perk_store *s, void *arg)
{
    commit_ctx *c = arg;
    const perk_store_order *o = c->o;
    perk_store_commit_result_free(c->r);
    memset(c->r, 0, sizeof *c->r);
    c->policy = c->caller_policy;
    perk_store_status status = pstore_reservation_check_new(s, c->reservation_id);
    if (status == PERK_STORE_OK) status = check_order_time(c);
    if (status == PERK_STORE_OK && o->delayed)
        status = pstore_fail(s, PERK_STORE_INVALID, "a delayed order is committed, not reserved");
    if (status == PERK_STORE_OK) status = pstore_expire_reservations(s, c->now, NULL);
    if (status == PERK_STORE_OK) status = apply_version(c);
    if (status == PERK_STORE_OK) status = check_budgets_and_coupons(c);
    int64_t expires_at = 0;
    if (status == PERK_STORE_OK && __builtin_add_overflow(c->now, c->ttl_seconds, &expires_at))
        status = pstore_fail(s, PERK_STORE_INVALID, "the reservation's expiry overflows");
    if (status == PERK_STORE_OK)
        status = pstore_reservation_insert(s, c->reservation_id, o, c->codes, c->now, expires_at);
    if (status == PERK_STORE_OK) c->r->reservation_expires_at = expires_at;
    return status;
}

perk_store_status perk_store_reserve(perk_store *s, const char *reservation_id, const perk_store_order *o,
                                     int64_t ttl_seconds, perk_store_commit_result *result)
{
    perk_store_commit_result scratch;
    perk_store_commit_result *r = result ? result : &scratch;
    memset(r, 0, sizeof *r);
    if (!s) return PERK_STORE_INVALID;
    if (!o) return pstore_fail(s, PERK_STORE_INVALID, "no order given to reserve for");
    commit_ctx c = { .s = s, .o = o, .r = r };
    perk_store_status status = pstore_check_name(s, "reservation id", reservation_id, 255);
    if (status == PERK_STORE_OK && (ttl_seconds < 1 || ttl_seconds > PERK_STORE_RESERVATION_TTL_MAX))
        status = pstore_fail(s, PERK_STORE_INVALID, "a reservation's TTL must be 1..%d seconds, not %lld",
                             PERK_STORE_RESERVATION_TTL_MAX, (long long)ttl_seconds);
    if (status == PERK_STORE_OK && o->reservation_id)
        status = pstore_fail(s, PERK_STORE_INVALID, "a reservation cannot consume another reservation");
    if (status == PERK_STORE_OK) status = validate_order(&c);
    if (status != PERK_STORE_OK) goto out;
    char action[320];
    snprintf(action, sizeof action, "reserving for order %s", o->order_id);
    c.caller_policy = NULL;
    c.reservation_id = reservation_id;
    c.ttl_seconds = ttl_seconds;
    status = pstore_write_txn(s, "starting the reservation transaction", "committing the reservation",
                              reserve_body, &c);
    if (status != PERK_STORE_OK) pstore_rewrite_sql_error(s, action, "nothing was reserved");
out:
    if (status != PERK_STORE_OK && status != PERK_STORE_BUDGET_EXCEEDED) perk_store_commit_result_free(r);
    free(c.codes);
    free(c.limits);
    free(c.units);
    json_decref(c.order_doc);
    if (!result) perk_store_commit_result_free(&scratch);
    return status;
}

perk_store_status perk_store_budget_usage(perk_store *s, const char *ruleset, const char *promo_id,
                                          const char *customer_id, int64_t *uses, int64_t *money,
                                          int64_t *customer_uses)
{
    if (!s) return PERK_STORE_INVALID;
    int64_t u = 0, m = 0, cu = 0;
    perk_store_status status = pstore_check_name(s, "rule-set name", ruleset, 255);
    if (status == PERK_STORE_OK) status = pstore_check_name(s, "promotion id", promo_id, 255);
    if (status != PERK_STORE_OK) return status;
    status = pstore_begin(s, false, "reading a budget");
    if (status != PERK_STORE_OK) return status;
    int64_t now = perk_store_now(s);
    status = budget_totals(s, ruleset, promo_id, now, &u, &m);
    if (status == PERK_STORE_OK && customer_id && *customer_id)
        status = customer_budget_uses(s, ruleset, promo_id, customer_id, now, &cu);
    if (status != PERK_STORE_OK) {
        pstore_rollback(s);
        return status;
    }
    status = pstore_commit(s, "finishing the budget read");
    if (status != PERK_STORE_OK) return status;
    if (uses) *uses = u;
    if (money) *money = m;
    if (customer_uses) *customer_uses = cu;
    return PERK_STORE_OK;
}

/* ---------------------------------------------------------- an order's own uses */

/* Calls cb for every row of `st` (bound to the order id): budget uses have 3 columns
 * (ruleset, promo_id, discount), coupon uses 1 (code). */
static perk_store_status each_use(perk_store *s, pstore_st *st, bool budget, perk_store_order_use_cb cb,
                                  void *ctx, bool *stopped, const char *what)
{
    int rc = PSTORE_DONE;
    while (!*stopped && (rc = pstore_step(st)) == PSTORE_ROW) {
        perk_store_order_use u = { 0 };
        if (budget) {
            u.ruleset = pstore_col_text(st, 0);
            u.promo_id = pstore_col_text(st, 1);
            u.discount = pstore_col_int64(st, 2);
        } else {
            u.coupon = pstore_col_text(st, 0);
        }
        if (cb && cb(&u, ctx) != 0) *stopped = true;
    }
    perk_store_status status = PERK_STORE_OK;
    if (!*stopped && rc != PSTORE_DONE) status = pstore_sqlfail(s, rc, what);
    pstore_done(st);
    return status;
}

perk_store_status perk_store_order_uses(perk_store *s, const char *order_id, bool *found,
                                        int64_t *ruleset_version, perk_store_order_use_cb cb, void *ctx)
{
    if (!s) return PERK_STORE_INVALID;
    if (!found) return pstore_fail(s, PERK_STORE_INVALID, "no output given for the order lookup");
    *found = false;
    if (ruleset_version) *ruleset_version = 0;
    perk_store_status status = pstore_check_name(s, "order id", order_id, 255);
    if (status != PERK_STORE_OK) return status;
    /* one read transaction: the order and its uses agree */
    status = pstore_begin(s, false, "looking up an order");
    if (status != PERK_STORE_OK) return status;
    pstore_st *st = pstore_stmt(s, "SELECT ruleset_version FROM orders WHERE order_id = ?1");
    if (!st) {
        status = pstore_stmt_status(s);
        goto fail;
    }
    pstore_bind_text(st, 1, order_id);
    int64_t version = -1;
    status = pstore_query_int(s, st, -1, &version, "looking up the order");
    if (status != PERK_STORE_OK) goto fail;
    if (version < 0) return pstore_commit(s, "finishing the order lookup");
    *found = true;
    if (ruleset_version) *ruleset_version = version;
    bool stopped = false;
    st = pstore_stmt(s, "SELECT ruleset, promo_id, discount FROM budget_uses "
                        "WHERE order_id = ?1 AND released_at IS NULL ORDER BY id");
    if (!st) {
        status = pstore_stmt_status(s);
        goto fail;
    }
    pstore_bind_text(st, 1, order_id);
    status = each_use(s, st, true, cb, ctx, &stopped, "reading the order's budget uses");
    if (status != PERK_STORE_OK) goto fail;
    st = pstore_stmt(s, "SELECT code FROM coupon_uses "
                        "WHERE order_id = ?1 AND released_at IS NULL ORDER BY id");
    if (!st) {
        status = pstore_stmt_status(s);
        goto fail;
    }
    pstore_bind_text(st, 1, order_id);
    status = each_use(s, st, false, cb, ctx, &stopped, "reading the order's coupon uses");
    if (status != PERK_STORE_OK) goto fail;
    return pstore_commit(s, "finishing the order lookup");
fail:
    pstore_rollback(s);
    return status;
}
