/* evaluate.c - perk_evaluate(): the whole pass over a cart and the result it returns.
 *
 * 1. Reset the evaluation state (current amounts = original amounts) and compute the facts.
 * 2. Promotions in program order: the gates (excluded, stopped, coupon; then whether the guard or
 *    the precheck decides the promotion without its block; then exclusive group, one coupon per
 *    order, budgets), then the rule's block; pending discounts are limited by the rule's cap and
 *    remaining money budget, then committed or dropped. With the rule index on, only the
 *    promotions that can differ from their default result on this cart are visited.
 * 3. Points: redemption, multipliers, earning (vm_loyalty.c).
 * 4. The result: allocations grouped by line, gift lines, coupon verdicts, near-miss hints, and
 *    an internal consistency check of every total, which turns a would-be wrong number into an
 *    error (PERK_MALFORMED) instead.
 */
#include <string.h>

#include "alloc.h"
#include "money.h"
#include "vm_internal.h"

#define PPM_ONE 1000000

const char *perk_reason_text(perk_reason reason)
{
    static const char *const texts[] = {
#define PERK_REASON_TEXT(NAME, name, text) text,
        PERK_REASON_LIST(PERK_REASON_TEXT)
#undef PERK_REASON_TEXT
    };
    if ((unsigned)reason >= PERK_REASON_COUNT) return "unknown reason";
    return texts[reason];
}

bool eval_percent(const perk_context *ctx, int64_t amount, int64_t ppm, int64_t *out)
{
    return money_percent(amount, ppm, (money_rounding)ctx->d->rounding, out);
}

bool eval_allocate(perk_context *ctx, int64_t total, const int64_t *weights, uint32_t n, int64_t *out)
{
    return money_allocate(total, weights, n, out, ctx->scratch_alloc, ctx->scratch_rem);
}

/* ------------------------------------------------------------------ promotions */

static bool coupon_valid(perk_coupon_status s)
{
    return s == PERK_COUPON_VALID || s == PERK_COUPON_UNCHECKED;
}

/* COUPON_MISSING / COUPON_REJECTED / APPLIED (= fine) for a required code or campaign id. */
static perk_reason coupon_gate(const perk_context *ctx, uint32_t id, const uint32_t *ids)
{
    bool entered = false;
    for (uint32_t c = 0; c < ctx->n_coupons; c++) {
        if (ids[c] != id) continue;
        if (coupon_valid(ctx->coupon_status[c])) return PERK_REASON_APPLIED;
        entered = true;
    }
    return entered ? PERK_REASON_COUPON_REJECTED : PERK_REASON_COUPON_MISSING;
}

static bool rule_needs_coupon(const prog_rule *r)
{
    return r->coupon != PROG_NONE || r->coupon_campaign != PROG_NONE;
}

static bool group_applied(const perk_context *ctx, uint32_t group)
{
    return group / 64 < ctx->group_words && (ctx->group_bits[group / 64] >> (group % 64) & 1);
}

/* The gates read the rule's hot record (program_internal.h: prog_rule_hot) and the full rule
 * record only when its flags call for it. */
static const prog_rule_hot *hot(const perk_context *ctx, uint32_t r) { return &ctx->program->ridx.hot[r]; }

/* The gates (docs/semantics.md, 5.1) come in two parts around the promotion's guard and precheck.
 * The first part depends on the caller and the cart only: excluded, stopped, its coupon. */
static perk_reason early_gate(const perk_context *ctx, uint32_t r)
{
    const ctx_mark *m = ctx_mark_of(ctx, r);
    if (m != NULL && m->excluded) return PERK_REASON_EXCLUDED;
    if (ctx->stopped) return PERK_REASON_STOPPED;
    if (!(hot(ctx, r)->flags & RHOT_COUPON)) return PERK_REASON_APPLIED;
    const prog_rule *rule = &ctx->d->rules[r];
    if (rule->coupon != PROG_NONE) {
        perk_reason why = coupon_gate(ctx, rule->coupon, ctx->coupon_code_id);
        if (why != PERK_REASON_APPLIED) return why;
    }
    if (rule->coupon_campaign != PROG_NONE) {
        perk_reason why = coupon_gate(ctx, rule->coupon_campaign, ctx->coupon_campaign_id);
        if (why != PERK_REASON_APPLIED) return why;
    }
    return PERK_REASON_APPLIED;
}

/* The second part, checked once the promotion could apply to this cart (its guard strings are
 * there, its precheck holds): what other promotions took (its exclusive group, the order's one
 * coupon) and its budgets. */
static perk_reason late_gate(const perk_context *ctx, uint32_t r)
{
    const prog_rule_hot *h = hot(ctx, r);
    if (h->group != PROG_NONE && group_applied(ctx, h->group)) return PERK_REASON_EXCLUSIVE;
    if (ctx->d->coupon_policy == PROG_COUPONS_ONE_PER_ORDER && (h->flags & RHOT_COUPON) &&
        ctx->coupon_rule_applied)
        return PERK_REASON_ONE_COUPON;
    if (!(h->flags & RHOT_BUDGET)) return PERK_REASON_APPLIED;
    const prog_rule *rule = &ctx->d->rules[r];
    static const perk_usage none = { 0, 0, 0 };
    const ctx_mark *m = ctx_mark_of(ctx, r);
    const perk_usage *u = m != NULL ? &m->usage : &none;
    if (rule->limit_uses >= 0 && u->uses >= rule->limit_uses) return PERK_REASON_BUDGET_USES;
    if (rule->limit_per_customer >= 0 && u->customer_uses >= rule->limit_per_customer)
        return PERK_REASON_BUDGET_CUSTOMER;
    if (rule->limit_money >= 0 && u->money >= rule->limit_money) return PERK_REASON_BUDGET_MONEY;
    if (rule->limit_units != 0 && m != NULL && m->customer_units >= rule->limit_units)
        return PERK_REASON_BUDGET_CUSTOMER;
    return PERK_REASON_APPLIED;
}

/* A near-miss: the rule failed only on one soft threshold that adding items can satisfy. Hints
 * are kept in evaluation order, at most limits.max_hints of them. */
static void maybe_hint(perk_context *ctx, uint32_t r)
{
    if (ctx->res.n_hints >= ctx->limits.max_hints) return;
    if (ctx->n_failures != 1 || !ctx->fail_soft || !ctx->fail_has_cmp) return;
    if (ctx->fail_unknown != UINT32_MAX) return; /* adding items cannot make a fact known */
    int64_t shortfall;
    uint32_t set;
    if (!prog_near_miss(ctx->d, ctx->fail_cond, ctx->fail_op, ctx->fail_observed, ctx->fail_expected,
                        &shortfall, &set))
        return;
    /* reaching the threshold must be all it takes: not when its group is taken, its budget spent */
    if (late_gate(ctx, r) != PERK_REASON_APPLIED) return;
    perk_hint_next *next = &ctx->r_hint_next[ctx->res.n_hints];
    perk_hint *h = &ctx->r_hints[ctx->res.n_hints++];
    h->promotion = r;
    h->shortfall = shortfall;
    h->set_name = prog_string(ctx->d, set);
    h->units = false;
    next->is_percent = false;
    next->value = 0;
    next->bundle = false;
    next->per_store = false;
    ctx->r_hint_store[ctx->res.n_hints - 1] = NULL;
}

/* A hint its action noted (section 12: a count tier's next row, a bundle's missing part, a store
 * short of its threshold): given when the promotion ran its block to the end (applied, or took
 * nothing off), in evaluation order, while the result has room. */
static void take_action_hint(perk_context *ctx, uint32_t r)
{
    if (!ctx->pend_hint) return;
    ctx->pend_hint = false;
    bool bundle = ctx->pend_hint_bundle, store = ctx->pend_hint_store;
    ctx->pend_hint_bundle = ctx->pend_hint_store = false;
    if (ctx->res.n_hints >= ctx->limits.max_hints) return;
    uint32_t i = ctx->res.n_hints++;
    perk_hint_next *next = &ctx->r_hint_next[i];
    perk_hint *h = &ctx->r_hints[i];
    h->promotion = r;
    h->shortfall = ctx->pend_hint_shortfall;
    h->set_name = ctx->pend_hint_set < ctx->d->n_strings ? prog_string(ctx->d, ctx->pend_hint_set) : "items";
    h->units = !store;
    next->is_percent = ctx->pend_hint_percent;
    next->value = ctx->pend_hint_value;
    next->bundle = bundle;
    next->per_store = store;
    uint32_t line = ctx->pend_hint_line;
    ctx->r_hint_store[i] = store && line < ctx->n_lines && ctx->store_off[line] != UINT32_MAX
                               ? ctx->sku_text + ctx->store_off[line]
                               : NULL;
}

/* Room for one more allocation in the log. The log holds cap_lines x min(discount promotions, 64)
 * entries, allocated while the cart was fed: it fills only when more than 64 discounting
 * promotions apply per line on average. Then, up to max_allocs (max_lines x 64, the limit the log
 * has always had), it grows here: the one allocation an evaluation can make; the context keeps
 * the size, so the same cart evaluated again allocates nothing. */
static perk_status log_room(perk_context *ctx, uint32_t r)
{
    if (ctx->n_log < ctx->log_cap) return PERK_OK;
    if (ctx->n_log >= ctx->max_allocs)
        return ctx_fail(ctx, PERK_LIMIT,
                        "promotion %s: more than %u discount allocations (max_lines x 64); "
                        "lower the number of lines or of promotions",
                        ctx_rule_name(ctx, r), ctx->max_allocs);
    uint64_t cap = 2 * (uint64_t)ctx->log_cap + 64;
    if (cap > ctx->max_allocs) cap = ctx->max_allocs;
    perk_allocation *log = perk_mem_realloc(ctx->alloc_log, ctx->n_log * sizeof *log, cap * sizeof *log);
    if (log != NULL) ctx->alloc_log = log;
    uint32_t *target = perk_mem_realloc(ctx->alloc_target, 0, cap * sizeof *target); /* scratch */
    if (target != NULL) ctx->alloc_target = target;
    if (log == NULL || target == NULL)
        return ctx_fail(ctx, PERK_NOMEM, "promotion %s: out of memory for %llu discount allocations",
                        ctx_rule_name(ctx, r), (unsigned long long)cap);
    ctx->log_cap = (uint32_t)cap;
    return PERK_OK;
}

/* Makes the current rule's pending discounts, gifts and effects part of the cart. */
static perk_status commit(perk_context *ctx, uint32_t r, int64_t goods)
{
    uint32_t words = vm_words(ctx);
    for (uint32_t w = 0; w < words; w++) {
        uint64_t bits = ctx->touched[w];
        ctx->touched[w] = 0;
        while (bits != 0) {
            uint32_t i = w * 64 + (uint32_t)__builtin_ctzll(bits);
            bits &= bits - 1;
            int64_t d = ctx->pend[i];
            ctx->pend[i] = 0;
            if (d <= 0) continue;
            perk_status st = log_room(ctx, r);
            if (st != PERK_OK) return st;
            ctx->cur[i] -= d;
            perk_allocation *a = &ctx->alloc_log[ctx->n_log++];
            a->line = i;
            a->promotion = r;
            a->amount = d;
        }
    }
    ctx->subtotal_cur -= goods;
    ctx->ship_cur -= ctx->pend_ship;
    ctx->res.n_gifts += ctx->pend_gifts;
    ctx->res.n_effects += ctx->pend_effects;
    ctx->res.n_reward_coupons += ctx->pend_rewards;
    ctx->pend_ship = 0;
    ctx->pend_gifts = ctx->pend_effects = ctx->pend_rewards = 0;
    return PERK_OK;
}

/* `consumes` (docs/semantics.md 5.7): the lines of the sets the applied promotion's actions read
 * leave every later promotion's sets, and order.subtotal, with their amounts as they are now. */
static void consume(perk_context *ctx)
{
    uint32_t words = vm_words(ctx);
    for (uint32_t w = 0; w < words; w++) {
        uint64_t bits = ctx->used[w] & ctx->live[w];
        ctx->consumed[w] |= bits;
        ctx->live[w] &= ~bits;
        while (bits != 0) {
            uint32_t i = w * 64 + (uint32_t)__builtin_ctzll(bits);
            bits &= bits - 1;
            /* no overflow: the consumed amounts are part of the subtotals, which fit */
            ctx->consumed_cur += ctx->cur[i];
            ctx->consumed_orig += ctx->orig[i];
        }
    }
}

/* The result of a failed block, from the failure the VM (or a guard) recorded in ctx->fail_*. */
void eval_condition_failed(perk_context *ctx, uint32_t r, perk_promotion_result *pr)
{
    pr->reason = PERK_REASON_CONDITION;
    pr->failed_condition = ctx->fail_cond;
    pr->unknown_fact = ctx->fail_unknown == UINT32_MAX ? 0 : ctx->fail_unknown + 1; /* 0: none */
    pr->has_comparison = ctx->fail_has_cmp;
    if (ctx->fail_has_cmp) {
        pr->observed = ctx->fail_observed;
        pr->expected = ctx->fail_expected;
        pr->comparison = ctx->fail_op;
    }
    maybe_hint(ctx, r);
}

/* Runs promotion r's block only to learn its outcome, its instructions not counted; the pending
 * discounts are dropped. For the reference pass (index off): comparing both modes then checks
 * every guard proof and precheck against the VM. */
static perk_status reference_run(perk_context *ctx, uint32_t r, perk_promotion_result *pr)
{
    const prog_rule *rule = &ctx->d->rules[r];
    ctx->rule_index = r;
    ctx->rule_original = (rule->flags & PROG_RULE_ORIGINAL) != 0;
    vm_outcome o = vm_run_uncounted(ctx, rule->code, VM_BLOCK_RULE, r);
    ctx->rule_original = false;
    bool nothing = o == VM_PASSED && act_pending_goods(ctx) == 0 && ctx->pend_ship == 0 &&
                   ctx->pend_gifts == 0 && ctx->pend_effects == 0 && ctx->pend_rewards == 0;
    act_discard(ctx);
    if (o == VM_PASSED && nothing) {
        pr->reason = PERK_REASON_NOTHING;
        return PERK_OK;
    }
    if (o == VM_FAILED) {
        eval_condition_failed(ctx, r, pr);
        return PERK_OK;
    }
    /* the verifier and the loader make this unreachable: an error, not a wrong result */
    return ctx_fail(ctx, PERK_MALFORMED,
                    "internal check failed: promotion %s: its guard or precheck does not hold",
                    ctx_rule_name(ctx, r));
}

/* The precheck (guard.h) tested natively: false when the block would fail at its first REQUIRE,
 * with the failure recorded as the VM records it (record_cmp / record_failure in vm.c). */
bool eval_precheck_holds(perk_context *ctx, const guard_precheck *c)
{
    int64_t x = facts_load(ctx, c->fact);
    if (guard_precheck_holds_at(c, x)) return true;
    ctx->fail_has_cmp = true;
    ctx->fail_observed = x;
    switch (c->kind) {
    case PRECHECK_RANGE:
        ctx->fail_expected = x > c->b ? c->b : c->a;
        ctx->fail_op = x > c->b ? PERK_CMP_LE : PERK_CMP_GE;
        break;
    case PRECHECK_CMP:
        ctx->fail_expected = c->a;
        ctx->fail_op = c->op;
        break;
    default: /* MASK records no comparison */ ctx->fail_has_cmp = false; break;
    }
    ctx->n_failures = 1;
    ctx->fail_cond = c->cond;
    ctx->fail_soft = false;
    ctx->fail_unknown = x == PERK_UNKNOWN ? c->fact : UINT32_MAX; /* as LOAD_FACT records it */
    return false;
}

/* True when promotion r has a guard and none of its strings is in the cart: the file's guard, or
 * the guard over several strings the loader chose (program.ridx.multi_keys). */
static bool guard_absent(const perk_context *ctx, uint32_t r)
{
    const prog_rule_hot *h = hot(ctx, r);
    if (h->guard_kind != PROG_GUARD_NONE) return !cidx_guard_present(ctx, h->guard_kind, h->guard_string);
    if (!(h->flags & RHOT_MULTI)) return false;
    const prog_rule_index *x = &ctx->program->ridx;
    uint32_t first = x->multi_first[r], end = x->multi_first[r + 1];
    for (uint32_t k = first; k < end; k++)
        if (cidx_guard_present(ctx, x->multi_keys[k].kind, x->multi_keys[k].string)) return false;
    return true;
}

bool eval_guard_absent(const perk_context *ctx, uint32_t r) { return guard_absent(ctx, r); }

/* Decides promotion r without running its block when that is known to end one way (*handled):
 *   - its guard string is not in the cart (none of them, for a guard over several strings): the
 *     outcome the guard proof recorded (runtime/guard.h), the same failure recorded the same way
 *     (so the same result and hint), or NOTHING;
 *   - its precheck does not hold: the failure of its first condition.
 * Like the gates, this executes no instruction. With the rule index off (the reference pass) the
 * block is run anyway (reference_run), its instructions not counted either. */
static perk_status decide_before_block(perk_context *ctx, uint32_t r, perk_promotion_result *pr,
                                       bool *handled)
{
    *handled = true;
    if (guard_absent(ctx, r)) {
        const guard_outcome *g = &ctx->program->ridx.guard[r];
        if (!ctx->use_index) return reference_run(ctx, r, pr);
        if (!g->failed) {
            pr->reason = PERK_REASON_NOTHING;
            return PERK_OK;
        }
        ctx->n_failures = g->n_failures;
        ctx->fail_cond = g->cond;
        ctx->fail_soft = g->soft;
        ctx->fail_has_cmp = g->has_cmp;
        ctx->fail_observed = g->observed;
        ctx->fail_expected = g->expected;
        ctx->fail_op = g->cmp_op;
        ctx->fail_unknown = UINT32_MAX; /* a guard proof reads no fact (guard.c) */
        eval_condition_failed(ctx, r, pr);
        return PERK_OK;
    }
    const guard_precheck *c = &ctx->program->ridx.precheck[r];
    if ((hot(ctx, r)->flags & RHOT_PRECHECK) && !eval_precheck_holds(ctx, c)) {
        if (!ctx->use_index) return reference_run(ctx, r, pr);
        eval_condition_failed(ctx, r, pr);
        return PERK_OK;
    }
    *handled = false;
    return PERK_OK;
}

/* Works out promotion r's outcome into *pr (section 5.1: gates, guard and precheck, block).
 * Tentative (a member of a best-deal group, 5.8): when it would apply, *pr says so with what it
 * would take off, and its effects are dropped instead of committed. */
static perk_status decide_promotion(perk_context *ctx, uint32_t r, perk_promotion_result *pr, bool tentative)
{
    memset(pr, 0, sizeof *pr);
    pr->promotion = r;
    pr->failed_condition = UINT32_MAX;
    pr->reason = early_gate(ctx, r);
    if (pr->reason != PERK_REASON_APPLIED) return PERK_OK;
    bool decided;
    perk_status st = decide_before_block(ctx, r, pr, &decided);
    if (st != PERK_OK || decided) return st;
    pr->reason = late_gate(ctx, r);
    if (pr->reason != PERK_REASON_APPLIED) return PERK_OK;

    const prog_rule *rule = &ctx->d->rules[r];
    ctx->rule_index = r;
    ctx->rule_original = (rule->flags & PROG_RULE_ORIGINAL) != 0;
    /* from after what the gates tested natively (its guard string is in the cart, its precheck
     * held): those instructions would pass and change nothing */
    uint32_t tested = hot(ctx, r)->tested;
    prog_block body = { rule->code.start + tested, rule->code.count - tested };
    memset(ctx->used, 0, vm_words(ctx) * sizeof(uint64_t));
    vm_outcome o = vm_run(ctx, body, VM_BLOCK_RULE, r);
    ctx->rule_original = false;
    if (o == VM_ERROR) return ctx->status;
    if (o == VM_FAILED) {
        act_discard(ctx);
        eval_condition_failed(ctx, r, pr);
        return PERK_OK;
    }

    /* the units the customer may still buy at the price come first (semantics 5.7) */
    const ctx_mark *m = ctx_mark_of(ctx, r);
    int64_t units = 0;
    if (rule->limit_units != 0)
        act_limit_units(ctx, rule->limit_units - (m != NULL ? m->customer_units : 0), &units);
    /* the cap and the remaining money budget bound goods + shipping together (5.5): what it wants
     * is its total within the cap; a money budget with less left refuses it, or grants what is
     * left when it is partial */
    int64_t limit = INT64_MAX, wanted = 0;
    if (rule->cap >= 0) limit = rule->cap;
    bool cut = false;
    if (rule->limit_money >= 0) {
        int64_t left = rule->limit_money - (m != NULL ? m->usage.money : 0); /* > 0: the gate */
        wanted = act_pending_goods(ctx) + ctx->pend_ship; /* each within the cart's: no overflow */
        if (wanted > limit) wanted = limit;
        if (left < wanted) {
            if (!(rule->flags & PROG_RULE_PARTIAL)) {
                act_discard(ctx);
                pr->reason = PERK_REASON_BUDGET_MONEY;
                return PERK_OK;
            }
            limit = left;
            cut = true;
        }
    }
    if (limit < INT64_MAX) {
        st = act_limit(ctx, limit);
        if (st != PERK_OK) return st;
    }
    if (!tentative) take_action_hint(ctx, r); /* a member's: given when it is run again to commit */
    int64_t goods = act_pending_goods(ctx);
    if (goods == 0 && ctx->pend_ship == 0 && ctx->pend_gifts == 0 && ctx->pend_effects == 0 &&
        ctx->pend_rewards == 0) {
        if (ctx->pend_bundle_price > 0) { /* a bundle pricier than its units says so (perk.h) */
            pr->has_comparison = true;
            pr->observed = ctx->pend_bundle_cost;
            pr->expected = ctx->pend_bundle_price;
            pr->comparison = PERK_CMP_GT;
        }
        act_discard(ctx);
        pr->reason = PERK_REASON_NOTHING;
        return PERK_OK;
    }
    ctx->pend_bundle_cost = ctx->pend_bundle_price = 0;
    pr->discount = goods;
    pr->shipping_discount = ctx->pend_ship;
    if (cut && !tentative) {
        ctx->r_extra[r].budget_wanted = wanted;
        ctx->r_extra[r].budget_granted = goods + ctx->pend_ship;
    }
    if (tentative) {
        act_discard(ctx);
        return PERK_OK; /* reason APPLIED: it could apply */
    }
    st = commit(ctx, r, goods);
    if (st != PERK_OK) return st;
    if (rule->limit_units != 0 && ctx->res.n_promotion_units < ctx->n_unit_rules)
        ctx->r_units[ctx->res.n_promotion_units++] = (perk_promotion_units){ r, units };
    if (rule->flags & PROG_RULE_STOP) ctx->stopped = true;
    if (rule->flags & PROG_RULE_CONSUME) consume(ctx);
    if (rule->group / 64 < ctx->group_words)
        ctx->group_bits[rule->group / 64] |= UINT64_C(1) << (rule->group % 64);
    if (rule_needs_coupon(rule)) ctx->coupon_rule_applied = true;
    return PERK_OK;
}

static void set_rule_bit(uint64_t *bits, uint32_t r) { bits[r / 64] |= UINT64_C(1) << (r % 64); }

static bool rule_bit(const uint64_t *bits, uint32_t r) { return bits[r / 64] >> (r % 64) & 1; }

/* The result entry a visit of promotion r writes: in place, or (explaining only what applied) the
 * entry is kept only when it applied. */
static void keep_result(perk_context *ctx, uint32_t r, const perk_promotion_result *pr)
{
    if (ctx->explain_all || pr->reason == PERK_REASON_APPLIED) {
        ctx->r_promos[r] = *pr;
        if (ctx->use_index) ctx->written[ctx->n_written++] = r;
        return;
    }
    if (pr->reason == PERK_REASON_ONE_COUPON) set_rule_bit(ctx->one_coupon, r);
    if (!ctx->use_index) ctx->r_promos[r] = ctx->defaults[r]; /* the plain pass writes every entry */
}

/* A best-deal group (docs/semantics.md 5.8), decided when its first member in evaluation order is
 * visited (each member is visited always, so with the index on and off at the same place): every
 * member is decided tentatively against the same cart; of those that could apply the one whose
 * discount + shipping saving is largest wins (the earlier on a tie: evaluation order is source
 * order within a priority); the winner is decided again, for real, and committed; every other
 * member that could apply gets EXCLUSIVE, and its entry in result->promotion_extra what it would
 * have taken off. The results are kept in r_promos while the group is decided (listed in written
 * with the index on, so restored for the next cart). */
static perk_status run_best_group(perk_context *ctx, uint32_t head)
{
    const uint32_t *next = ctx->program->ridx.best_next;
    uint32_t winner = PROG_NONE;
    int64_t top = -1;
    for (uint32_t m = head; m != PROG_NONE; m = next[m]) {
        set_rule_bit(ctx->best_done, m);
        ctx->n_visited++;
        perk_promotion_result *pr = &ctx->scratch_promo;
        perk_status st = decide_promotion(ctx, m, pr, true);
        if (st != PERK_OK) return st;
        if (pr->reason == PERK_REASON_APPLIED) {
            int64_t saving = pr->discount + pr->shipping_discount; /* each <= the cart's: no overflow */
            ctx->r_extra[m].best_saving = saving;
            if (saving > top) top = saving, winner = m;
            pr->reason = PERK_REASON_EXCLUSIVE; /* unless it wins, below */
            pr->discount = pr->shipping_discount = 0;
        }
        keep_result(ctx, m, pr);
    }
    if (winner == PROG_NONE) return PERK_OK;
    for (uint32_t m = head; m != PROG_NONE; m = next[m])
        if (ctx->r_extra[m].best_saving >= 0) ctx->r_extra[m].best_winner = winner;
    perk_promotion_result *pr = &ctx->scratch_promo;
    perk_status st = decide_promotion(ctx, winner, pr, false);
    if (st != PERK_OK) return st;
    if (pr->reason != PERK_REASON_APPLIED || pr->discount + pr->shipping_discount != top)
        return ctx_fail(ctx, PERK_MALFORMED, "internal check failed: best-deal member %s changed on its second run",
                        ctx_rule_name(ctx, winner));
    ctx->r_promos[winner] = *pr;
    /* explaining every promotion, the index on, it is listed in written already */
    if (ctx->use_index && !ctx->explain_all) ctx->written[ctx->n_written++] = winner;
    return PERK_OK;
}

/* Visits promotion r. Explaining every promotion, its result entry is written in place (and,
 * with the index, listed for restoring). Explaining only what applied, the outcome is worked out
 * aside and the entry written only when it applied: every other entry keeps its UNEXPLAINED
 * default, so a promotion that does not apply writes nothing. */
static perk_status run_promotion(perk_context *ctx, uint32_t r)
{
    if (hot(ctx, r)->flags & RHOT_BEST) {
        if (rule_bit(ctx->best_done, r)) return PERK_OK; /* decided with its group's first member */
        return run_best_group(ctx, r);
    }
    ctx->n_visited++;
    if (ctx->explain_all) {
        if (ctx->use_index) ctx->written[ctx->n_written++] = r; /* each is visited at most once */
        return decide_promotion(ctx, r, &ctx->r_promos[r], false);
    }
    perk_promotion_result *pr = &ctx->scratch_promo;
    perk_status st = decide_promotion(ctx, r, pr, false);
    if (st != PERK_OK) return st;
    keep_result(ctx, r, pr);
    return PERK_OK;
}

/* ------------------------------------------------------------------ the rule index */

/* The visit set is built in runtime/rule_index.c (ridx_visit); the visiting is here. */

/* docs/semantics.md, "The rule index". With the index on, r_promos[r] holds the default result of
 * promotion r (ctx->defaults: program.ridx.defaults, or UNEXPLAINED when the context explains only
 * what applied) unless r is in ctx->written. An evaluation visits, in ascending order, the
 * promotions that may differ from their default on this cart:
 *   - the ones the program visits always (ridx.always), and the prechecked ones whose precheck
 *     holds;
 *   - the ones keyed by a string of this cart (a guard whose string some line matches; when the
 *     key lists it with a precheck, only if that holds) or by an entered coupon code or campaign;
 *   - the ones the caller excluded or gave a usage (ctx->marks);
 *   - every one after a promotion that stops the evaluation (STOPPED depends on it; explaining
 *     only what applied, none).
 * and, merged in order while the result has room for a near-miss hint, the hintable ones (whose
 * default may also give a hint; see visit_hintable).
 * Every other promotion has its default result. Promotions decided before their block execute no
 * instruction in either mode, so the instruction count at every visited promotion is the plain
 * pass's, and so is the place where the budget runs out. */

/* After a promotion that stops the evaluation: every later one is STOPPED. Explaining only what
 * applied, there is nothing to write for them. */
static perk_status visit_from(perk_context *ctx, uint32_t from)
{
    perk_status st = PERK_OK;
    for (uint32_t r = from; ctx->explain_all && r < ctx->d->n_rules && st == PERK_OK; r++)
        st = run_promotion(ctx, r);
    return st;
}

/* Visits the hintable promotions before `end` that the visit set does not hold, in order, while
 * the result has room for a hint (ridx.hintable); *next is the first not yet considered. Once the
 * room is gone every later one keeps its default: it could not give a hint any more. */
static perk_status visit_hintable(perk_context *ctx, uint32_t end, uint32_t *next)
{
    const prog_rule_index *x = &ctx->program->ridx;
    while (*next < x->n_hintable && x->hintable[*next] < end) {
        if (ctx->res.n_hints >= ctx->limits.max_hints) {
            *next = x->n_hintable;
            break;
        }
        uint32_t h = x->hintable[(*next)++];
        if (rule_bit(ctx->visit, h)) continue;
        perk_status st = run_promotion(ctx, h);
        if (st != PERK_OK) return st;
    }
    return PERK_OK;
}

static perk_status run_promotions_indexed(perk_context *ctx)
{
    ridx_visit(ctx);
    uint32_t next_hintable = 0;
    for (uint32_t w = 0; w < ctx->rule_words; w++) {
        uint64_t bits = ctx->visit[w];
        while (bits != 0) {
            uint32_t r = w * 64 + (uint32_t)__builtin_ctzll(bits);
            bits &= bits - 1;
            perk_status st = visit_hintable(ctx, r, &next_hintable);
            if (st == PERK_OK) st = run_promotion(ctx, r);
            if (st != PERK_OK) return st;
            if (ctx->stopped) return visit_from(ctx, r + 1);
        }
    }
    return visit_hintable(ctx, ctx->d->n_rules, &next_hintable);
}

/* ------------------------------------------------------------------ the result */

/* Groups the allocation log by line (stable: promotion order within a line), in place. */
static void group_allocations(perk_context *ctx)
{
    uint32_t n = ctx->n_lines, m = ctx->n_log;
    uint32_t *next = ctx->scratch_idx; /* per line: next free position */
    memset(next, 0, n * sizeof(uint32_t));
    for (uint32_t k = 0; k < m; k++) next[ctx->alloc_log[k].line]++;
    uint32_t pos = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t count = next[i];
        ctx->r_lines[i].first_allocation = pos;
        ctx->r_lines[i].n_allocations = count;
        next[i] = pos;
        pos += count;
    }
    for (uint32_t k = 0; k < m; k++) ctx->alloc_target[k] = next[ctx->alloc_log[k].line]++;
    /* apply the permutation by following its cycles: each swap settles one entry */
    for (uint32_t k = 0; k < m; k++) {
        while (ctx->alloc_target[k] != k) {
            uint32_t t = ctx->alloc_target[k];
            perk_allocation a = ctx->alloc_log[t];
            ctx->alloc_log[t] = ctx->alloc_log[k];
            ctx->alloc_log[k] = a;
            ctx->alloc_target[k] = ctx->alloc_target[t];
            ctx->alloc_target[t] = t;
        }
    }
}

static perk_coupon_verdict store_verdict(perk_coupon_status s)
{
    switch (s) {
    case PERK_COUPON_EXPIRED: return PERK_COUPON_REJECTED_EXPIRED;
    case PERK_COUPON_USED_UP: return PERK_COUPON_REJECTED_USED_UP;
    case PERK_COUPON_NOT_FOR_CUSTOMER: return PERK_COUPON_REJECTED_NOT_FOR_CUSTOMER;
    case PERK_COUPON_REVOKED: return PERK_COUPON_REJECTED_REVOKED;
    case PERK_COUPON_NOT_YET_VALID: return PERK_COUPON_REJECTED_NOT_YET_VALID;
    default: return PERK_COUPON_REJECTED_UNKNOWN;
    }
}

/* With the rule index: the promotions requiring code / campaign are the rules of their keys
 * (every coupon-requiring promotion is listed under its code and campaign, ascending), so the
 * first requiring one and the first applied requiring one are found without scanning all. */
static void coupon_rules_indexed(const perk_context *ctx, uint32_t key, bool valid, uint32_t *accepted,
                                 uint32_t *first)
{
    const prog_rule_index *x = &ctx->program->ridx;
    if (key == PROG_NONE || x->key_first[key] == x->key_first[key + 1]) return;
    uint32_t lo = x->key_first[key], hi = x->key_first[key + 1];
    if (x->key_rules[lo] < *first) *first = x->key_rules[lo];
    if (!valid) return;
    for (uint32_t i = lo; i < hi; i++) {
        uint32_t r = x->key_rules[i];
        if (r >= *accepted) break;
        if (ctx->r_promos[r].reason == PERK_REASON_APPLIED) {
            *accepted = r;
            break;
        }
    }
}

/* Whether promotion r was turned away by the one-coupon rule (its entry says so when every
 * promotion is explained). */
static bool got_one_coupon(const perk_context *ctx, uint32_t r)
{
    if (ctx->explain_all) return ctx->r_promos[r].reason == PERK_REASON_ONE_COUPON;
    return rule_bit(ctx->one_coupon, r);
}

static void coupon_verdicts(perk_context *ctx)
{
    const prog_data *d = ctx->d;
    for (uint32_t c = 0; c < ctx->n_coupons; c++) {
        perk_coupon_result *cr = &ctx->r_coupons[c];
        uint32_t code = ctx->coupon_code_id[c], campaign = ctx->coupon_campaign_id[c];
        bool valid = coupon_valid(ctx->coupon_status[c]);
        uint32_t accepted = UINT32_MAX, first = UINT32_MAX;
        if (ctx->use_index) {
            coupon_rules_indexed(ctx, prog_find_key(ctx->program, RIDX_COUPON, code), valid, &accepted,
                                 &first);
            coupon_rules_indexed(ctx, prog_find_key(ctx->program, RIDX_CAMPAIGN, campaign), valid, &accepted,
                                 &first);
        }
        for (uint32_t r = 0; !ctx->use_index && r < d->n_rules && accepted == UINT32_MAX; r++) {
            const prog_rule *rule = &d->rules[r];
            bool requires = (code != PROG_NONE && rule->coupon == code) ||
                            (campaign != PROG_NONE && rule->coupon_campaign == campaign);
            if (!requires) continue;
            if (valid && ctx->r_promos[r].reason == PERK_REASON_APPLIED) accepted = r;
            if (first == UINT32_MAX) first = r;
        }
        cr->code = ctx->coupon_code[c];
        cr->promotion = UINT32_MAX;
        if (accepted != UINT32_MAX) {
            cr->verdict = PERK_COUPON_ACCEPTED;
            cr->promotion = accepted;
        } else if (!valid) {
            cr->verdict = store_verdict(ctx->coupon_status[c]);
        } else if (first != UINT32_MAX) {
            cr->verdict = got_one_coupon(ctx, first) ? PERK_COUPON_REJECTED_ONE_PER_ORDER
                                                     : PERK_COUPON_REJECTED_CONDITIONS;
            cr->promotion = first;
        } else {
            cr->verdict = PERK_COUPON_REJECTED_UNKNOWN;
        }
    }
}

static perk_status internal_error(perk_context *ctx, const char *what)
{
    return ctx_fail(ctx, PERK_MALFORMED,
                    "internal check failed: %s (no result is given rather than a wrong one)", what);
}

/* Every total of the result, recomputed from the parts. */
static perk_status check_totals(perk_context *ctx)
{
    perk_result *res = &ctx->res;
    int64_t alloc_sum = 0, final_sum = 0, promo_goods = 0, promo_ship = 0;
    for (uint32_t k = 0; k < ctx->n_log; k++) {
        if (ctx->alloc_log[k].amount <= 0) return internal_error(ctx, "an allocation is not positive");
        if (__builtin_add_overflow(alloc_sum, ctx->alloc_log[k].amount, &alloc_sum))
            return internal_error(ctx, "allocations overflow");
    }
    for (uint32_t i = 0; i < ctx->n_lines; i++) {
        const perk_line_result *l = &ctx->r_lines[i];
        int64_t line_sum = 0;
        for (uint32_t k = 0; k < l->n_allocations; k++) {
            const perk_allocation *a = &ctx->alloc_log[l->first_allocation + k];
            if (a->line != i) return internal_error(ctx, "allocations are not grouped by line");
            line_sum += a->amount;
        }
        if (l->final < 0 || l->final != l->original - line_sum)
            return internal_error(ctx, "a line's final amount does not match its allocations");
        final_sum += l->final;
    }
    /* with the rule index, the promotions not written hold defaults, which discount nothing */
    uint32_t n_sum = ctx->use_index ? ctx->n_written : res->n_promotions;
    for (uint32_t k = 0; k < n_sum; k++) {
        uint32_t r = ctx->use_index ? ctx->written[k] : k;
        promo_goods += ctx->r_promos[r].discount;
        promo_ship += ctx->r_promos[r].shipping_discount;
    }
    if (alloc_sum != res->discount || promo_goods != res->discount ||
        final_sum != res->subtotal - res->discount)
        return internal_error(ctx, "the discount does not match the lines");
    if (res->shipping_after < 0 || res->shipping_after > res->shipping_before ||
        promo_ship != res->shipping_before - res->shipping_after)
        return internal_error(ctx, "the shipping discount does not match the promotions");
    if (res->redeem_goods < 0 || res->redeem_shipping < 0 ||
        res->redeem_goods + res->redeem_shipping != res->redeem_value || res->redeem_goods > final_sum ||
        res->redeem_shipping > res->shipping_after)
        return internal_error(ctx, "the redemption does not add up");
    int64_t payable;
    if (__builtin_sub_overflow(res->subtotal, res->discount, &payable) ||
        __builtin_add_overflow(payable, res->shipping_after, &payable) ||
        __builtin_sub_overflow(payable, res->redeem_value, &payable))
        return ctx_fail(ctx, PERK_OVERFLOW, "arithmetic overflow computing the payable amount");
    if (payable < 0) return internal_error(ctx, "the payable amount is negative");
    res->payable = payable;
    return PERK_OK;
}

static perk_status build_result(perk_context *ctx)
{
    perk_result *res = &ctx->res;
    uint32_t n = ctx->n_lines;
    group_allocations(ctx);
    for (uint32_t i = 0; i < n; i++) {
        perk_line_result *l = &ctx->r_lines[i];
        l->original = ctx->orig[i];
        l->final = ctx->cur[i];
        l->is_gift = false;
        l->gift_promotion = UINT32_MAX;
    }
    for (uint32_t g = 0; g < res->n_gifts; g++) {
        perk_line_result *l = &ctx->r_lines[n + g];
        memset(l, 0, sizeof *l);
        l->first_allocation = ctx->n_log;
        l->is_gift = true;
        l->gift_promotion = ctx->r_gifts[g].promotion;
    }
    coupon_verdicts(ctx);
    res->subtotal = ctx->subtotal_orig;
    res->discount = ctx->subtotal_orig - ctx->subtotal_cur;
    res->n_lines = n + res->n_gifts;
    res->lines = ctx->r_lines;
    res->n_allocations = ctx->n_log;
    res->allocations = ctx->alloc_log;
    res->n_promotions = ctx->d->n_rules;
    res->promotions = ctx->r_promos;
    res->gifts = ctx->r_gifts;
    res->effects = ctx->r_effects;
    res->reward_coupons = ctx->r_rewards;
    res->n_coupons = ctx->n_coupons;
    res->coupons = ctx->r_coupons;
    res->points = ctx->r_points;
    res->hints = ctx->r_hints;
    res->hint_next = ctx->r_hint_next;
    res->hint_store = ctx->r_hint_store;
    res->promotion_units = ctx->r_units;
    res->promotion_extra = ctx->r_extra;
    res->instructions = ctx->insn_count;
    res->promotions_visited = ctx->n_visited;
    return check_totals(ctx);
}

/* ------------------------------------------------------------------ the pass */

static void start(perk_context *ctx)
{
    uint32_t n = ctx->n_lines, words = vm_words(ctx);
    memcpy(ctx->cur, ctx->orig, n * sizeof(int64_t));
    memset(ctx->pend, 0, n * sizeof(int64_t));
    memset(ctx->scratch_line, 0, n * sizeof(int64_t));
    memset(ctx->touched, 0, words * sizeof(uint64_t));
    for (uint32_t w = 0; w < words; w++) {
        uint32_t bits = n - w * 64 >= 64 ? 64 : n - w * 64;
        ctx->all_lines[w] = bits == 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;
        ctx->live[w] = ctx->all_lines[w];
        ctx->consumed[w] = ctx->used[w] = 0;
    }
    ctx->consumed_cur = ctx->consumed_orig = 0;
    memset(ctx->group_bits, 0, ctx->group_words * sizeof(uint64_t));
    ctx->status = PERK_OK;
    ctx->subtotal_cur = ctx->subtotal_orig;
    ctx->ship_cur = ctx->shipping;
    ctx->insn_count = 0;
    ctx->stopped = ctx->coupon_rule_applied = false;
    ctx->rule_original = false;
    ctx->rule_index = 0;
    ctx->pend_ship = 0;
    ctx->pend_gifts = ctx->pend_effects = ctx->pend_rewards = 0;
    ctx->n_log = 0;
    ctx->n_visited = 0;
    if (!ctx->explain_all) memset(ctx->one_coupon, 0, ctx->rule_words * sizeof(uint64_t));
    const prog_rule_index *x = &ctx->program->ridx;
    for (uint32_t k = 0; k < x->n_best; k++) { /* the best-deal entries of the last evaluation */
        uint32_t r = x->best_members[k];
        ctx->best_done[r / 64] &= ~(UINT64_C(1) << (r % 64));
        ctx->r_extra[r].best_saving = -1;
        ctx->r_extra[r].best_winner = UINT32_MAX;
        ctx->r_extra[r].budget_wanted = ctx->r_extra[r].budget_granted = -1;
    }

    perk_result *res = &ctx->res;
    memset(res, 0, sizeof *res);
    res->currency = ctx->d->currency;
    res->exponent = ctx->d->exponent;
    res->shipping_before = ctx->shipping;
}

static perk_status evaluate(perk_context *ctx)
{
    if (ctx->use_index) ridx_restore(ctx);
    start(ctx);
    perk_status st = facts_compute(ctx);
    if (st == PERK_OK && ctx->use_index)
        st = run_promotions_indexed(ctx);
    else
        for (uint32_t r = 0; r < ctx->d->n_rules && st == PERK_OK; r++) st = run_promotion(ctx, r);
    if (st != PERK_OK) return st;
    ctx->res.shipping_after = ctx->ship_cur;
    st = loyalty_run(ctx);
    if (st != PERK_OK) return st;
    return build_result(ctx);
}

const perk_result *perk_evaluate(perk_context *ctx)
{
    static const perk_result no_context = { .status = PERK_INVALID };
    if (ctx == NULL) return &no_context;
    perk_result *res = &ctx->res;
    perk_status st;
    uint64_t insns = 0;
    if (ctx->cart_status != PERK_OK) {
        st = ctx->cart_status; /* the message of the rejected input stays in ctx->error */
    } else if (!ctx->have_order) {
        st = ctx_fail(ctx, PERK_STATE, "perk_cart_set_order() must be called before perk_evaluate()");
    } else {
        ctx->error[0] = '\0';
        st = evaluate(ctx);
        insns = ctx->insn_count;
        if (st != PERK_OK) act_discard(ctx); /* leave no pending state for the next evaluation */
    }
    if (st != PERK_OK) {
        memset(res, 0, sizeof *res);
        res->status = st;
        res->instructions = insns; /* how far it got, for diagnosing PERK_BUDGET */
    }
    return res;
}
