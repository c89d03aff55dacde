/* test_index.c - the rule index: guards chosen by the code generator, re-proved by the verifier,
 * and evaluation with the index on giving exactly the result of evaluation with it off.
 *
 * The equivalence tests evaluate each cart twice, in a context with the rule index and in one
 * without (eval_set_rule_index), and compare the status, the error message and the whole result
 * rendered as JSON (instructions included) byte for byte. Carts: every cart of the rule tests in
 * the rules/ directory's .test files, random carts for those rulesets, and random carts for generated rulesets of
 * hundreds of promotions mixing every kind of guard (and no guard), coupons, exclusive groups,
 * stop, budgets, caps, tiers, times; also with small instruction budgets, so that a budget
 * exhausted inside a skipped promotion is checked too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "alloc.h"
#include "bytecode.h"
#include "json/cart_json.h"
#include "compiler/compiler.h"
#include "guard.h"
#include "perk.h"
#include "program_internal.h"
#include "json/result_json.h"
#include "verify.h"
#include "vm_internal.h"

/* ------------------------------------------------------------------ helpers */

static uint8_t *compile_bytes(const char *src, size_t *len)
{
    compiler c;
    compiler_init(&c);
    uint8_t *bytes = NULL;
    bool ok = compiler_compile_text(&c, "test.perk", src, strlen(src), &bytes, len);
    if (!ok) {
        diag_print_text(&c.diags, stderr, false);
        compiler_free(&c);
        fail_msg("the test ruleset does not compile");
    }
    compiler_free(&c);
    return bytes;
}

static perk_program *compile_prog(const char *src)
{
    size_t len = 0;
    uint8_t *bytes = compile_bytes(src, &len);
    perk_error err = { PERK_OK, "" };
    perk_program *p = perk_program_load(bytes, len, &err);
    free(bytes);
    if (p == NULL) fail_msg("load: %s", err.message);
    return p;
}

static const prog_rule *rule_named(const perk_program *p, const char *id)
{
    long i = perk_program_find_promotion(p, id);
    assert_true(i >= 0);
    return &p->d.rules[i];
}

static const char *guard_text(const perk_program *p, const prog_rule *r)
{
    return r->guard_kind == PROG_GUARD_NONE ? "" : prog_string(&p->d, r->guard_string);
}

/* xorshift: deterministic, no global state */
static uint32_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return (uint32_t)(*s >> 11);
}

static uint32_t below(uint64_t *s, uint32_t n) { return n == 0 ? 0 : rnd(s) % n; }

/* ------------------------------------------------------------------ guards chosen by codegen */

static const char *const GUARD_RULES =
    "ruleset \"g\" { currency CNY timezone \"Asia/Shanghai\" }\n"
    "tier gold \"G\" { spend ¥5000 within 365 days }\n"
    "let tea = items where category in \"tea\"\n"
    "promotion cat_off { then 10% off items where category in \"tea\" }\n"
    "promotion tea_gift { when sum(tea) >= ¥300\n then gift \"S\" }\n"
    "promotion acme { when any(items where brand = \"Acme\")\n then free shipping }\n"
    "promotion organic { when count(items where \"organic\" in tags) >= 2\n then 5% off order }\n"
    "promotion sku_is { when any(items where sku = \"X-1\") and customer.first_order\n then ¥1 off order }\n"
    "promotion exact { then 50% off items where category = \"tea/green\" }\n"
    "promotion gold_tea { when customer.tier >= gold\n when sum(tea) >= ¥50\n then 10% off order }\n"
    "promotion union { then 10% off items where category in [\"tea\", \"cups\"] }\n"
    "promotion ship { then free shipping }\n"
    "promotion below { when sum(tea) < ¥30\n then ¥1 off order }\n"
    "promotion weekly { every wednesday\n then 10% off tea }\n"
    "promotion filtered { then 10% off items where category in \"tea\" and price >= ¥20 }\n"
    "promotion except_brand { then ¥5 off tea except items where brand = \"Acme\" }\n"
    "promotion bogo { then buy 2 of tea get 1 free }\n"
    "promotion gift_tea { when any(tea)\n then gift \"T\" }\n"
    "promotion twice { when sum(tea) >= ¥10\n when sum(tea) >= ¥20\n then 5% off tea }\n"
    "promotion coupon_tea { requires coupon \"TEA\"\n then 5% off tea }\n"
    "promotion tier_tea { when customer.tier >= gold\n then 10% off tea }\n"
    "promotion window_tea { valid 2025-01-01 to 2025-01-31\n when customer.first_order\n then ¥3 off each "
    "tea }\n"
    "promotion hours_bogo { hours 10:00 to 12:00\n then buy 1 of items where brand = \"Acme\" get 1 of tea "
    "free }\n"
    "promotion same_union { every monday\n then 5% off tea union (items where category in \"tea\" and price "
    ">= ¥5) }\n"
    "promotion tier_brand { when customer.tier >= gold\n then 5% off items where brand = \"Acme\" }\n"
    "promotion tier_tag { when customer.tier >= gold\n then 5% off items where \"organic\" in tags }\n"
    "promotion tier_sku { when customer.tier >= gold\n then ¥1 off items where sku = \"X-1\" }\n"
    "promotion tier_two { when customer.tier >= gold\n then 5% off tea\n then 5% off items where brand = "
    "\"Acme\" }\n"
    "promotion tier_mixed { when customer.tier >= gold\n then 5% off tea\n then ¥1 off order }\n"
    "promotion tier_gift { when customer.tier >= gold\n then 5% off tea\n then gift \"T\" }\n";

static void test_codegen_guards(void **state)
{
    (void)state;
    perk_program *p = compile_prog(GUARD_RULES);
    const prog_rule *r;

    /* no condition, one category target: without tea it discounts nothing */
    r = rule_named(p, "cat_off");
    assert_int_equal(r->guard_kind, PROG_GUARD_CATEGORY);
    assert_string_equal(guard_text(p, r), "tea");
    assert_int_equal(r->guard_cond, PROG_NONE);

    /* a threshold: sum(tea) = 0 < 30000 fails its (soft) condition */
    r = rule_named(p, "tea_gift");
    assert_int_equal(r->guard_kind, PROG_GUARD_CATEGORY);
    assert_int_equal(r->guard_cond, r->first_cond);
    const guard_outcome *g = &p->ridx.guard[perk_program_find_promotion(p, "tea_gift")];
    assert_true(g->failed && g->soft && g->has_cmp);
    assert_int_equal(g->n_failures, 1);
    assert_int_equal(g->observed, 0);
    assert_int_equal(g->expected, 30000);
    assert_int_equal(g->cmp_op, PERK_CMP_GE);

    r = rule_named(p, "acme");
    assert_int_equal(r->guard_kind, PROG_GUARD_BRAND);
    assert_string_equal(guard_text(p, r), "Acme");
    g = &p->ridx.guard[perk_program_find_promotion(p, "acme")];
    assert_true(g->failed && !g->soft && !g->has_cmp); /* any() compares nothing */

    r = rule_named(p, "organic");
    assert_int_equal(r->guard_kind, PROG_GUARD_TAG);
    g = &p->ridx.guard[perk_program_find_promotion(p, "organic")];
    assert_true(g->failed && g->has_cmp);
    assert_int_equal(g->observed, 0);
    assert_int_equal(g->expected, 2);

    /* `and`: the jump on the known false left side decides the condition */
    r = rule_named(p, "sku_is");
    assert_int_equal(r->guard_kind, PROG_GUARD_SKU);
    assert_string_equal(guard_text(p, r), "X-1");

    r = rule_named(p, "exact");
    assert_int_equal(r->guard_kind, PROG_GUARD_CATEGORY_IS);
    assert_string_equal(guard_text(p, r), "tea/green");

    r = rule_named(p, "filtered");
    assert_int_equal(r->guard_kind, PROG_GUARD_CATEGORY);
    r = rule_named(p, "except_brand");
    assert_int_equal(r->guard_kind, PROG_GUARD_CATEGORY);
    assert_string_equal(guard_text(p, r), "tea");
    r = rule_named(p, "bogo");
    assert_int_equal(r->guard_kind, PROG_GUARD_CATEGORY);
    r = rule_named(p, "gift_tea");
    assert_int_equal(r->guard_kind, PROG_GUARD_CATEGORY);
    assert_int_equal(r->guard_cond, r->first_cond);

    /* the index: a single soft failure is a near miss, so tea_gift is hintable (visited in order
     * while the result has room for hints) and otherwise keeps its default, the guard's failure;
     * twice fails both thresholds (no hint): its default is the first failure, keyed by "tea";
     * coupon_tea defaults to COUPON_MISSING, keyed by its code */
    const prog_rule_index *x = &p->ridx;
    long tg = perk_program_find_promotion(p, "tea_gift"), tw = perk_program_find_promotion(p, "twice"),
         ct = perk_program_find_promotion(p, "coupon_tea"), sh = perk_program_find_promotion(p, "ship");
    assert_false(x->always[tg / 64] >> (tg % 64) & 1);
    assert_int_equal(x->n_hintable, 1);
    assert_int_equal(x->hintable[0], tg);
    assert_int_equal(x->defaults[tg].reason, PERK_REASON_CONDITION);
    assert_true(x->defaults[tg].has_comparison);
    assert_true(x->always[sh / 64] >> (sh % 64) & 1);
    assert_false(x->always[tw / 64] >> (tw % 64) & 1);
    assert_false(x->always[ct / 64] >> (ct % 64) & 1);
    assert_int_equal(x->guard[tw].n_failures, 2);
    assert_int_equal(x->defaults[tw].reason, PERK_REASON_CONDITION);
    assert_int_equal(x->defaults[tw].failed_condition, p->d.rules[tw].first_cond);
    assert_true(x->defaults[tw].has_comparison);
    assert_int_equal(x->defaults[tw].expected, 1000);
    assert_int_equal(x->defaults[ct].reason, PERK_REASON_COUPON_MISSING);
    uint32_t key = prog_find_key(p, RIDX_COUPON, p->d.rules[ct].coupon);
    assert_int_not_equal(key, PROG_NONE);
    assert_int_equal(x->key_first[key + 1] - x->key_first[key], 1);
    assert_int_equal(x->key_rules[x->key_first[key]], ct);
    key = prog_find_key(p, PROG_GUARD_CATEGORY, p->d.rules[tw].guard_string);
    assert_int_not_equal(key, PROG_NONE);
    bool listed = false;
    for (uint32_t i = x->key_first[key]; i < x->key_first[key + 1]; i++)
        listed |= x->key_rules[i] == (uint32_t)tw;
    assert_true(listed);
    /* cat_off's block without tea is a NOTHING at its target precheck SET_CATEGORY "tea", AGG_ANY,
     * REQUIRE_TARGET (docs/semantics.md 5.1) */
    long co = perk_program_find_promotion(p, "cat_off");
    assert_false(x->guard[co].failed);
    assert_int_equal(p->d.code[p->d.rules[co].code.start].op, PERK_OP_SET_CATEGORY);
    assert_int_equal(p->d.code[p->d.rules[co].code.start + 2].op, PERK_OP_REQUIRE_TARGET);

    /* a weekday, a tier, a date window or hours before a tea-only discount: the precheck comes
     * first, so the promotion is decided by "tea" (NOTHING) whatever the time or customer */
    const char *prechecked[] = {
        "weekly", "tier_tea", "window_tea", "hours_bogo", "coupon_tea", "same_union"
    };
    for (size_t i = 0; i < sizeof prechecked / sizeof prechecked[0]; i++) {
        long k = perk_program_find_promotion(p, prechecked[i]);
        r = &p->d.rules[k];
        if (r->guard_kind == PROG_GUARD_NONE) fail_msg("%s got no guard", prechecked[i]);
        assert_int_equal(p->d.code[r->code.start + 2].op, PERK_OP_REQUIRE_TARGET);
        assert_false(x->guard[k].failed);
        assert_int_equal(r->guard_cond, PROG_NONE);
    }
    assert_string_equal(guard_text(p, rule_named(p, "hours_bogo")), "tea");
    assert_int_equal(rule_named(p, "tier_brand")->guard_kind, PROG_GUARD_BRAND);
    assert_int_equal(rule_named(p, "tier_tag")->guard_kind, PROG_GUARD_TAG);
    assert_int_equal(rule_named(p, "tier_sku")->guard_kind, PROG_GUARD_SKU);
    /* no precheck: a threshold with a hint (twice), two strings (tier_two), an order-wide or
     * gift action next to a tea discount (tier_mixed, tier_gift) */
    const char *unchecked[] = { "twice", "tier_two", "tier_mixed", "tier_gift", "tea_gift" };
    for (size_t i = 0; i < sizeof unchecked / sizeof unchecked[0]; i++) {
        r = rule_named(p, unchecked[i]);
        for (uint32_t pc = r->code.start; pc < r->code.start + r->code.count; pc++)
            if (p->d.code[pc].op == PERK_OP_REQUIRE_TARGET)
                fail_msg("%s got a target precheck", unchecked[i]);
    }

    /* not decided by one string: a hard condition on the tier runs first, a union, no lines,
     * a condition that holds without tea, two different target strings */
    const char *none[] = { "gold_tea", "union", "ship", "below", "tier_two", "tier_mixed", "tier_gift" };
    for (size_t i = 0; i < sizeof none / sizeof none[0]; i++) {
        r = rule_named(p, none[i]);
        if (r->guard_kind != PROG_GUARD_NONE) fail_msg("%s got a guard", none[i]);
        assert_int_equal(r->guard_string, PROG_NONE);
        assert_int_equal(r->guard_cond, PROG_NONE);
    }
    perk_program_free(p);
}

/* ------------------------------------------------------------------ the verifier */

typedef void (*mutate_fn)(prog_data *p);

static uint32_t string_id(const prog_data *p, const char *s)
{
    for (uint32_t i = 0; i < p->n_strings; i++)
        if (strcmp(prog_string(p, i), s) == 0) return i;
    fail_msg("no string %s", s);
    return PROG_NONE;
}

static prog_rule *rule_of(prog_data *p, const char *id)
{
    uint32_t sid = string_id(p, id);
    for (uint32_t r = 0; r < p->n_rules; r++)
        if (p->rules[r].id == sid) return &p->rules[r];
    fail_msg("no promotion %s", id);
    return NULL;
}

/* cat_off targets tea: "cups" does not decide it */
static void m_unsound(prog_data *p) { rule_of(p, "cat_off")->guard_string = string_id(p, "cups"); }
/* tea_gift fails its condition, it does not pass with nothing */
static void m_claim(prog_data *p) { rule_of(p, "tea_gift")->guard_cond = PROG_NONE; }
static void m_kind(prog_data *p) { rule_of(p, "cat_off")->guard_kind = 9; }
static void m_string(prog_data *p) { rule_of(p, "cat_off")->guard_string = p->n_strings + 5; }
static void m_orphan(prog_data *p)
{ /* no guard, yet a condition */
    prog_rule *r = rule_of(p, "gold_tea");
    r->guard_cond = r->first_cond;
}
static void m_cond_range(prog_data *p)
{
    prog_rule *r = rule_of(p, "tea_gift");
    r->guard_cond = r->first_cond + 1;
}
static void m_ship(prog_data *p)
{ /* ship has no lines to guard on: any string is unsound */
    prog_rule *r = rule_of(p, "ship");
    r->guard_kind = PROG_GUARD_CATEGORY;
    r->guard_string = string_id(p, "tea");
}
/* the category kind differs from the exact category the block matches */
static void m_kind_mismatch(prog_data *p) { rule_of(p, "exact")->guard_kind = PROG_GUARD_CATEGORY; }

static void test_verifier_guards(void **state)
{
    (void)state;
    size_t len = 0;
    uint8_t *bytes = compile_bytes(GUARD_RULES, &len);
    static const struct {
        mutate_fn fn;
        perk_status status;
        const char *message;
    } cases[] = {
        { m_unsound, PERK_VERIFY, "promotion 'cat_off': its guard (category \"cups\") does not decide" },
        { m_claim, PERK_VERIFY, "promotion 'tea_gift': its guard claims nothing, the block gives condition" },
        { m_kind, PERK_VERIFY, "promotion 'cat_off': unknown guard kind 9" },
        { m_string, PERK_VERIFY, "promotion 'cat_off': guard string" },
        { m_orphan, PERK_VERIFY, "promotion 'gold_tea': a guard string or condition without a guard kind" },
        { m_cond_range, PERK_VERIFY, "promotion 'tea_gift': guard condition" },
        { m_ship, PERK_VERIFY, "promotion 'ship': its guard (category \"tea\") does not decide" },
        { m_kind_mismatch, PERK_VERIFY,
          "promotion 'exact': its guard (category \"tea/green\") does not decide" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        prog_data p;
        perk_error err;
        assert_int_equal(bytecode_read(bytes, len, &p, &err), PERK_OK);
        assert_int_equal(verify_program(&p, &err), PERK_OK);
        cases[i].fn(&p);
        perk_status st = verify_program(&p, &err);
        if (st != cases[i].status || strstr(err.message, cases[i].message) == NULL)
            fail_msg("case %zu: status %d, message %s", i, st, err.message);
        /* and the same through the bytes: written, read back, refused at load */
        uint8_t *out = NULL;
        size_t out_len = 0;
        char msg[128];
        assert_true(bytecode_write(&p, &out, &out_len, msg, sizeof msg));
        assert_null(perk_program_load(out, out_len, &err));
        assert_int_equal(err.status, cases[i].status);
        perk_mem_free(out);
        prog_data_free(&p);
    }
    /* a reserved byte of the guard record must be zero */
    prog_data p;
    perk_error err;
    assert_int_equal(bytecode_read(bytes, len, &p, &err), PERK_OK);
    uint8_t *out = NULL;
    size_t out_len = 0;
    char msg[128];
    assert_true(bytecode_write(&p, &out, &out_len, msg, sizeof msg));
    /* find the rules section, then the first record's bytes 98..99 (reserved before 0.2, now the
     * unit limit: `limit 1 units per customer` loads and reads back) */
    size_t off = BC_HEADER_SIZE;
    for (;;) {
        uint32_t id, plen;
        memcpy(&id, out + off, 4);
        memcpy(&plen, out + off + 4, 4);
        if (id == BC_SEC_RULES) break;
        off += 8 + plen;
    }
    out[off + 8 + 4 + 98] = 1;
    bytecode_seal(out, out_len);
    prog_data q;
    assert_int_equal(bytecode_read(out, out_len, &q, &err), PERK_OK);
    assert_int_equal(q.rules[0].limit_units, 1);
    prog_data_free(&q);
    /* byte 97 is the stage: one past the last (shipping) is refused by the verifier */
    out[off + 8 + 4 + 98] = 0;
    out[off + 8 + 4 + 97] = PROG_STAGE_COUNT;
    bytecode_seal(out, out_len);
    assert_null(perk_program_load(out, out_len, &err));
    assert_int_equal(err.status, PERK_VERIFY);
    assert_non_null(strstr(err.message, "unknown stage"));
    perk_mem_free(out);
    prog_data_free(&p);
    free(bytes);
}

/* ------------------------------------------------------------------ equivalence machinery */

typedef struct pair {
    perk_program *prog;
    perk_context *on, *off;
    perk_context *app_on, *app_off; /* PERK_EXPLAIN_APPLIED, index on and off */
    result_names *names;
    uint32_t compared, differing_paths; /* carts compared; carts where the index skipped blocks */
} pair;

/* The gates' hot record of every rule says what its full record says (program_internal.h). The
 * plain pass reads the same records, so comparing the passes cannot catch a wrong one: this does. */
static void check_hot_records(const perk_program *prog)
{
    const prog_rule_index *x = &prog->ridx;
    for (uint32_t r = 0; r < prog->d.n_rules; r++) {
        const prog_rule *rule = &prog->d.rules[r];
        const prog_rule_hot *h = &x->hot[r];
        assert_int_equal(h->group, rule->group);
        assert_int_equal(h->guard_kind, rule->guard_kind);
        assert_int_equal(h->guard_string, rule->guard_string);
        assert_int_equal(!!(h->flags & RHOT_COUPON),
                         rule->coupon != PROG_NONE || rule->coupon_campaign != PROG_NONE);
        assert_int_equal(!!(h->flags & RHOT_BUDGET),
                         rule->limit_uses >= 0 || rule->limit_money >= 0 || rule->limit_per_customer >= 0);
        assert_int_equal(!!(h->flags & RHOT_MULTI), x->multi_first[r + 1] > x->multi_first[r]);
        assert_int_equal(!!(h->flags & RHOT_PRECHECK), x->precheck[r].kind != PRECHECK_NONE);
    }
}

/* The four contexts of a pair with limits l (explain is set for each). */
static void pair_init_limits(pair *x, perk_program *prog, perk_limits l)
{
    check_hot_records(prog);
    perk_error err;
    x->prog = prog;
    l.explain = PERK_EXPLAIN_ALL;
    x->on = perk_context_new(prog, &l, &err);
    x->off = perk_context_new(prog, &l, &err);
    l.explain = PERK_EXPLAIN_APPLIED;
    x->app_on = perk_context_new(prog, &l, &err);
    x->app_off = perk_context_new(prog, &l, &err);
    assert_non_null(x->on);
    assert_non_null(x->off);
    assert_non_null(x->app_on);
    assert_non_null(x->app_off);
    eval_set_rule_index(x->on, true);
    eval_set_rule_index(x->off, false);
    eval_set_rule_index(x->app_on, true);
    eval_set_rule_index(x->app_off, false);
    x->names = result_names_from_program(prog);
    assert_non_null(x->names);
    x->compared = x->differing_paths = 0;
}

static void pair_init(pair *x, perk_program *prog, uint64_t budget)
{
    perk_limits l = perk_limits_default();
    l.max_lines = 64;
    if (budget) l.instruction_budget = budget;
    pair_init_limits(x, prog, l);
}

static void pair_free(pair *x)
{
    perk_context_free(x->on);
    perk_context_free(x->off);
    perk_context_free(x->app_on);
    perk_context_free(x->app_off);
    result_names_free(x->names);
}

/* Gives both contexts the same cart: the customer (NULL: none), the order, lines[0 .. n). */
static void pair_feed(pair *x, const perk_customer *customer, const perk_order *order, const perk_line *lines,
                      size_t n)
{
    perk_context *const all[4] = { x->on, x->off, x->app_on, x->app_off };
    for (int k = 0; k < 4; k++) {
        perk_context *ctx = all[k];
        perk_cart_reset(ctx);
        if (customer != NULL) assert_int_equal(perk_cart_set_customer(ctx, customer), PERK_OK);
        assert_int_equal(perk_cart_set_order(ctx, order), PERK_OK);
        for (size_t i = 0; i < n; i++) assert_int_equal(perk_cart_add_line(ctx, &lines[i]), PERK_OK);
    }
}

/* The JSON of `full` as a context explaining only what applied must give it: every promotion that
 * did not apply has reason UNEXPLAINED and nothing else; all the rest is the same. */
static char *render_applied_view(const pair *x, const perk_result *full, const cart_doc *doc)
{
    perk_result view = *full;
    perk_promotion_result *masked = NULL;
    if (full->status == PERK_OK) {
        masked = calloc(full->n_promotions + 1, sizeof *masked);
        assert_non_null(masked);
        for (uint32_t r = 0; r < full->n_promotions; r++) {
            if (full->promotions[r].reason == PERK_REASON_APPLIED) {
                masked[r] = full->promotions[r];
                continue;
            }
            masked[r].promotion = r;
            masked[r].reason = PERK_REASON_UNEXPLAINED;
            masked[r].failed_condition = UINT32_MAX;
        }
        view.promotions = masked;
    }
    char *json = result_json_render(x->names, &view, doc, 0);
    free(masked);
    return json;
}

/* The contexts explaining only what applied (index on and off), fed the same cart as x->on,
 * against the full result `full` x->on gave: the same JSON once the full one is masked, the same
 * error and instruction count; and the index on visits no more promotions than explaining all. */
static void compare_applied(pair *x, const perk_result *full, const char *full_error, const cart_doc *doc,
                            const char *what)
{
    char *want = render_applied_view(x, full, doc);
    assert_non_null(want);
    for (int k = 0; k < 2; k++) {
        perk_context *ctx = k == 0 ? x->app_on : x->app_off;
        const perk_result *r = perk_evaluate(ctx);
        char *got = result_json_render(x->names, r, doc, 0);
        assert_non_null(got);
        if (r->status != full->status || strcmp(got, want) != 0 ||
            strcmp(perk_context_error(ctx), full_error) != 0 || r->instructions != full->instructions) {
            fprintf(stderr, "%s\n explaining all:    %s\n  %s\n explaining applied (index %s): %s\n  %s\n",
                    what, full_error, want, k == 0 ? "on" : "off", perk_context_error(ctx), got);
            fail_msg("explaining only what applied changed the result of %s", what);
        }
        if (k == 0 && r->status == PERK_OK) assert_true(r->promotions_visited <= full->promotions_visited);
        free(got);
    }
    free(want);
}

/* Evaluates the contexts (already fed the same cart) and compares everything. Evaluating a cart
 * again gives the same result, so a test may first look at one context's result itself. */
static void pair_compare(pair *x, const cart_doc *doc, const char *what)
{
    const perk_result *a = perk_evaluate(x->on);
    char *ja = result_json_render(x->names, a, doc, 0);
    compare_applied(x, a, perk_context_error(x->on), doc, what);
    const perk_result *b = perk_evaluate(x->off);
    char *jb = result_json_render(x->names, b, doc, 0);
    assert_non_null(ja);
    assert_non_null(jb);
    if (a->status != b->status || strcmp(ja, jb) != 0 ||
        strcmp(perk_context_error(x->on), perk_context_error(x->off)) != 0 ||
        a->instructions != b->instructions) {
        fprintf(stderr, "%s\n index on:  %s\n  %s\n index off: %s\n  %s\n", what, perk_context_error(x->on),
                ja, perk_context_error(x->off), jb);
        fail_msg("the rule index changed the result of %s", what);
    }
    if (x->on->n_written < x->prog->d.n_rules) x->differing_paths++;
    x->compared++;
    free(ja);
    free(jb);
}

/* ------------------------------------------------------------------ the rule tests' carts */

/* The carts of a .test file: the JSON object that starts each line "cart {". */
static void each_test_cart(const char *test_path, perk_program *prog, pair *pairs, size_t n_pairs)
{
    FILE *f = fopen(test_path, "rb");
    assert_non_null(f);
    static char text[1 << 17];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    int found = 0;
    for (char *at = text; (at = strstr(at, "\ncart {")) != NULL; at++) { /* not `cart file` */
        char *open = at + 6;
        int depth = 0;
        bool in_string = false;
        char *end = open;
        for (; *end; end++) {
            if (in_string) {
                if (*end == '\\' && end[1])
                    end++;
                else if (*end == '"')
                    in_string = false;
            } else if (*end == '"') {
                in_string = true;
            } else if (*end == '{') {
                depth++;
            } else if (*end == '}' && --depth == 0) {
                break;
            }
        }
        assert_true(*end == '}');
        char err[256];
        cart_doc *doc = cart_json_parse(open, (size_t)(end - open + 1), perk_program_exponent(prog),
                                        perk_program_currency(prog), NULL, err, sizeof err);
        if (doc == NULL) continue; /* a case about a malformed cart */
        for (size_t k = 0; k < n_pairs; k++) {
            perk_status sa = cart_json_feed(doc, pairs[k].on, prog, err, sizeof err);
            perk_status sb = cart_json_feed(doc, pairs[k].off, prog, err, sizeof err);
            assert_int_equal(sa, sb);
            assert_int_equal(cart_json_feed(doc, pairs[k].app_on, prog, err, sizeof err), sa);
            assert_int_equal(cart_json_feed(doc, pairs[k].app_off, prog, err, sizeof err), sa);
            char what[300];
            snprintf(what, sizeof what, "%s cart %d (budget %llu)", test_path, found,
                     (unsigned long long)pairs[k].on->limits.instruction_budget);
            if (sa == PERK_OK) pair_compare(&pairs[k], doc, what);
        }
        cart_json_free(doc);
        found++;
    }
    assert_true(found > 0);
}

/* ------------------------------------------------------------------ random carts */

/* The strings a program matches, by kind, so that random carts hit its guards and coupons. */
typedef struct vocab {
    const char *cats[256], *skus[64], *brands[64], *tags[64], *coupons[64], *campaigns[16], *tiers[8],
        *customer_tags[16], *strings[64];
    uint32_t n_cats, n_skus, n_brands, n_tags, n_coupons, n_campaigns, n_tiers, n_customer_tags, n_strings;
} vocab;

static void vocab_add(const char **list, uint32_t *n, uint32_t cap, const char *s)
{
    for (uint32_t i = 0; i < *n; i++)
        if (strcmp(list[i], s) == 0) return;
    if (*n < cap) list[(*n)++] = s;
}

static void vocab_of(const perk_program *prog, vocab *v)
{
    memset(v, 0, sizeof *v);
    const prog_data *d = &prog->d;
    for (uint32_t i = 0; i < d->n_code; i++) {
        const prog_insn *in = &d->code[i];
        const char *s = in->arg < d->n_strings ? prog_string(d, in->arg) : NULL;
        switch (in->op) {
        case PERK_OP_SET_CATEGORY:
        case PERK_OP_SET_CATEGORY_IS: vocab_add(v->cats, &v->n_cats, 256, s); break;
        case PERK_OP_SET_SKU: vocab_add(v->skus, &v->n_skus, 64, s); break;
        case PERK_OP_SET_BRAND: vocab_add(v->brands, &v->n_brands, 64, s); break;
        case PERK_OP_SET_TAG: vocab_add(v->tags, &v->n_tags, 64, s); break;
        case PERK_OP_CUSTOMER_TAG: vocab_add(v->customer_tags, &v->n_customer_tags, 16, s); break;
        case PERK_OP_PUSH_STR: vocab_add(v->strings, &v->n_strings, 64, s); break;
        default: break;
        }
    }
    for (uint32_t r = 0; r < d->n_rules; r++) {
        if (d->rules[r].coupon != PROG_NONE)
            vocab_add(v->coupons, &v->n_coupons, 64, prog_string(d, d->rules[r].coupon));
        if (d->rules[r].coupon_campaign != PROG_NONE)
            vocab_add(v->campaigns, &v->n_campaigns, 16, prog_string(d, d->rules[r].coupon_campaign));
    }
    for (uint32_t t = 0; t < d->n_tiers && t < 8; t++)
        v->tiers[v->n_tiers++] = prog_string(d, d->tiers[t].id);
    vocab_add(v->cats, &v->n_cats, 256, "unknown");
    vocab_add(v->skus, &v->n_skus, 64, "NOPE-1");
    vocab_add(v->coupons, &v->n_coupons, 64, "NOT-A-CODE");
}

static const char *pick(uint64_t *s, const char *const *list, uint32_t n)
{
    return n == 0 ? NULL : list[below(s, n)];
}

/* Storage for one random cart's strings (borrowed by libperk until evaluation). */
typedef struct rcart {
    perk_customer customer;
    perk_order order;
    perk_line lines[24];
    const char *line_tags[24][3];
    char cats[24][80];
    const char *customer_tags[4];
    const char *codes[4], *campaigns[4];
    perk_coupon_status status[4];
    uint32_t n_lines, n_coupons;
    uint32_t usage_rule[3], exclude_rule[2];
    perk_usage usage[3];
    uint32_t n_usage, n_exclude;
} rcart;

static void random_cart(uint64_t *s, const vocab *v, uint32_t n_rules, rcart *c)
{
    memset(c, 0, sizeof *c);
    if (below(s, 3) != 0) {
        c->customer.id = "cust";
        c->customer.tier = below(s, 4) == 0 ? NULL : pick(s, v->tiers, v->n_tiers);
        uint32_t nt = below(s, 3);
        for (uint32_t i = 0; i < nt && v->n_customer_tags; i++)
            c->customer_tags[i] = pick(s, v->customer_tags, v->n_customer_tags);
        c->customer.n_tags = v->n_customer_tags ? nt : 0;
        if (c->customer.n_tags == 2 && strcmp(c->customer_tags[0], c->customer_tags[1]) == 0)
            c->customer.n_tags = 1;
        c->customer.tags = c->customer_tags;
        /* each fact known or not (a zero flag: unknown), so both paths see unknown facts */
        c->customer.first_order = below(s, 2);
        c->customer.has_first_order = below(s, 4) != 0;
        c->customer.order_count = below(s, 20);
        c->customer.has_order_count = below(s, 4) != 0;
        c->customer.points_balance = below(s, 5000);
        c->customer.has_points_balance = below(s, 4) != 0;
        c->customer.member_since_days = 20000;
        c->customer.has_member_since = below(s, 2) != 0;
        if (below(s, 3) == 0) {
            c->customer.birthday_month = 1 + (int)below(s, 12);
            c->customer.birthday_day = 1 + (int)below(s, 28);
        }
    }
    /* 2026-01-01 .. 2026-12-31, any hour */
    c->order.time = 1767225600LL + (int64_t)below(s, 365 * 24) * 3600;
    c->order.shipping = below(s, 3) == 0 ? 0 : (int64_t)below(s, 2000);
    c->order.channel = below(s, 2) ? pick(s, v->strings, v->n_strings) : NULL;
    c->order.points_to_redeem = below(s, 3) == 0 ? -1 : (int64_t)below(s, 3000);
    c->n_lines = below(s, 21);
    for (uint32_t i = 0; i < c->n_lines; i++) {
        perk_line *l = &c->lines[i];
        l->sku = below(s, 3) == 0 ? pick(s, v->skus, v->n_skus) : "PLAIN";
        const char *cat = pick(s, v->cats, v->n_cats);
        switch (below(s, 5)) {
        case 0: l->category = NULL; break;
        case 1:
            snprintf(c->cats[i], sizeof c->cats[i], "%s/sub", cat);
            l->category = c->cats[i];
            break;
        default: l->category = cat; break;
        }
        l->brand = below(s, 2) ? pick(s, v->brands, v->n_brands) : NULL;
        uint32_t nt = v->n_tags ? below(s, 3) : 0;
        for (uint32_t k = 0; k < nt; k++) c->line_tags[i][k] = pick(s, v->tags, v->n_tags);
        l->tags = c->line_tags[i];
        l->n_tags = nt;
        l->unit_price = 1 + (int64_t)below(s, below(s, 4) == 0 ? 100 : 40000);
        l->quantity = 1 + (int64_t)below(s, below(s, 4) == 0 ? 12 : 3);
        l->margin_ppm = (int64_t)below(s, 1000001);
        l->has_margin = below(s, 3) != 0;
    }
    c->n_coupons = below(s, 4) == 0 ? 1 + below(s, 3) : 0;
    for (uint32_t i = 0; i < c->n_coupons; i++) {
        const char *code;
        bool dup;
        int tries = 0;
        do {
            code = pick(s, v->coupons, v->n_coupons);
            dup = false;
            for (uint32_t k = 0; k < i; k++) dup |= strcmp(c->codes[k], code) == 0;
        } while (dup && ++tries < 10);
        if (dup) {
            c->n_coupons = i;
            break;
        }
        c->codes[i] = code;
        c->campaigns[i] = below(s, 2) ? pick(s, v->campaigns, v->n_campaigns) : NULL;
        c->status[i] = below(s, 4) == 0 ? (perk_coupon_status)below(s, 6) : PERK_COUPON_UNCHECKED;
    }
    if (n_rules > 0 && below(s, 4) == 0) {
        c->n_usage = 1 + below(s, 3);
        for (uint32_t i = 0; i < c->n_usage; i++) {
            c->usage_rule[i] = below(s, n_rules);
            c->usage[i] =
                (perk_usage){ below(s, 8), below(s, 3) ? 0 : (int64_t)below(s, 100000), below(s, 3) };
        }
    }
    if (n_rules > 0 && below(s, 6) == 0) {
        c->n_exclude = 1 + below(s, 2);
        for (uint32_t i = 0; i < c->n_exclude; i++) c->exclude_rule[i] = below(s, n_rules);
    }
}

static void feed(perk_context *ctx, const rcart *c)
{
    perk_cart_reset(ctx);
    assert_int_equal(perk_cart_set_customer(ctx, &c->customer), PERK_OK);
    assert_int_equal(perk_cart_set_order(ctx, &c->order), PERK_OK);
    for (uint32_t i = 0; i < c->n_lines; i++)
        if (perk_cart_add_line(ctx, &c->lines[i]) != PERK_OK) fail_msg("line: %s", perk_context_error(ctx));
    for (uint32_t i = 0; i < c->n_coupons; i++)
        assert_int_equal(perk_cart_add_coupon(ctx, c->codes[i], c->campaigns[i], c->status[i]), PERK_OK);
    for (uint32_t i = 0; i < c->n_usage; i++)
        assert_int_equal(perk_cart_set_usage(ctx, c->usage_rule[i], &c->usage[i]), PERK_OK);
    for (uint32_t i = 0; i < c->n_exclude; i++)
        assert_int_equal(perk_cart_exclude(ctx, c->exclude_rule[i]), PERK_OK);
}

/* n random carts through every pair; returns how many the index evaluated without visiting every
 * promotion. */
static uint32_t random_carts(pair *pairs, size_t n_pairs, uint64_t seed, uint32_t n, const char *name)
{
    vocab v;
    vocab_of(pairs[0].prog, &v);
    uint64_t s = seed;
    static rcart c;
    uint32_t partial = 0;
    for (uint32_t i = 0; i < n; i++) {
        random_cart(&s, &v, pairs[0].prog->d.n_rules, &c);
        for (size_t k = 0; k < n_pairs; k++) {
            feed(pairs[k].on, &c);
            feed(pairs[k].off, &c);
            feed(pairs[k].app_on, &c);
            feed(pairs[k].app_off, &c);
            char what[200];
            snprintf(what, sizeof what, "%s random cart %u (seed %llu, budget %llu)", name, i,
                     (unsigned long long)seed, (unsigned long long)pairs[k].on->limits.instruction_budget);
            uint32_t before = pairs[k].differing_paths;
            pair_compare(&pairs[k], NULL, what);
            if (k == 0) partial += pairs[k].differing_paths - before;
        }
    }
    return partial;
}

/* ------------------------------------------------------------------ the rulesets in rules/ */

static void test_rules_dir(void **state)
{
    (void)state;
    static const char *const sets[] = { "farm_box", "jp_select", "stacking", "storefront", "tea_shop" };
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++) {
        char perk_path[128], test_path[128];
        snprintf(perk_path, sizeof perk_path, "rules/%s.perk", sets[i]);
        snprintf(test_path, sizeof test_path, "rules/%s.test", sets[i]);
        perk_program *prog = compiler_load_program(perk_path, false);
        assert_non_null(prog);
        pair pairs[4];
        pair_init(&pairs[0], prog, 0);
        pair_init(&pairs[1], prog, 7);
        pair_init(&pairs[2], prog, 23);
        pair_init(&pairs[3], prog, 61);
        each_test_cart(test_path, prog, pairs, 4);
        random_carts(pairs, 4, 1000 + i, 150, perk_path);
        for (size_t k = 0; k < 4; k++) pair_free(&pairs[k]);
        perk_program_free(prog);
    }
}

/* ------------------------------------------------------------------ generated rulesets */

typedef struct sbuf {
    char *s;
    size_t len, cap;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        b->cap = b->cap ? b->cap * 2 : 65536;
        b->s = realloc(b->s, b->cap);
        assert_non_null(b->s);
    }
}

/* A ruleset of n promotions drawn from templates that cover every way a guard can be (or not be)
 * proved, plus coupons, groups, stop, budgets, caps and original prices. */
static char *generate(uint64_t seed, uint32_t n, uint32_t n_cats, bool one_coupon, bool with_stop)
{
    sbuf b = { NULL, 0, 0 };
    uint64_t s = seed;
    sb_printf(&b, "ruleset \"gen\" {\n currency CNY\n timezone \"Asia/Shanghai\"\n rounding half_even\n%s}\n",
              one_coupon ? " coupons one per order\n" : "");
    sb_printf(&b, "tier silver \"S\" { spend ¥1000 within 365 days }\ntier gold \"G\" { spend ¥5000 within "
                  "365 days }\n");
    for (uint32_t i = 0; i < n; i++) {
        uint32_t k = below(&s, n_cats), t = below(&s, 34);
        if (t == 7 && !with_stop) t = 0;
        sb_printf(&b, "promotion r%u {\n priority %u\n", i, below(&s, 50));
        switch (t) {
        case 0:
            sb_printf(&b, " then %u%% off items where category in \"c%u\"\n", 1 + below(&s, 30), k);
            break;
        case 1:
            sb_printf(&b,
                      " when sum(items where category in \"c%u\") >= ¥%u\n then ¥%u off items where category "
                      "in \"c%u\"\n",
                      k, 1 + below(&s, 300), 1 + below(&s, 20), k);
            break;
        case 2: sb_printf(&b, " when any(items where brand = \"b%u\")\n then free shipping\n", k % 16); break;
        case 3:
            sb_printf(&b, " when count(items where \"t%u\" in tags) >= 2\n then 5%% off order\n", k % 8);
            break;
        case 4:
            sb_printf(&b, " requires coupon \"C%u\"\n then ¥5 off items where category in \"c%u\"\n", k % 12,
                      k);
            break;
        case 5:
            /* "deal" is a best-deal group: its members are visited always, decided at the first */
            if (k % 3 == 2)
                sb_printf(&b, " exclusive \"deal\" best\n then 20%% off items where category in \"c%u\"\n", k);
            else
                sb_printf(&b, " exclusive \"g%u\"\n then 20%% off items where category in \"c%u\"\n", k % 3, k);
            break;
        case 6:
            sb_printf(&b,
                      " when customer.tier >= gold\n when sum(items where category in \"c%u\") >= ¥50\n then "
                      "10%% off order\n",
                      k);
            break;
        case 7:
            sb_printf(&b, " when any(items where sku = \"s%u\")\n then ¥1 off order\n stop\n", k % 20);
            break;
        case 8:
            sb_printf(&b,
                      " limit %u uses\n limit 2 per customer\n limit ¥%u total\n then 10%% off items where "
                      "category in \"c%u\"\n",
                      1 + below(&s, 6), 1 + below(&s, 900), k);
            break;
        case 9: sb_printf(&b, " then buy 2 of items where category in \"c%u\" get 1 free\n", k); break;
        case 10:
            sb_printf(&b,
                      " when sum(items where category in \"c%u\") >= ¥100 and customer.first_order\n then "
                      "¥10 off order\n",
                      k);
            break;
        case 11: sb_printf(&b, " then 10%% off items where category in \"c%u\" and price >= ¥20\n", k); break;
        case 12:
            sb_printf(&b, " every wednesday\n then 10%% off items where category in \"c%u\"\n", k);
            break;
        case 13:
            sb_printf(&b,
                      " measure original prices\n then tiers on items where category in \"c%u\" { ¥50: ¥1 "
                      "off, ¥100: 10%% off }\n",
                      k);
            break;
        case 14:
            sb_printf(&b, " when any(items where category in \"c%u\")\n then gift \"G%u\"\n", k, k);
            break;
        case 15:
            sb_printf(&b,
                      " when count(items where category in \"c%u\") >= 1\n then every ¥100 on items where "
                      "category in \"c%u\": ¥10 off up to ¥30\n",
                      k, k);
            break;
        case 16: sb_printf(&b, " cap ¥5\n then 50%% off items where category = \"c%u\"\n", k); break;
        case 17: sb_printf(&b, " requires coupon from \"CAMP%u\"\n then ¥3 off order\n", k % 2); break;
        case 18: sb_printf(&b, " then any 3 of items where category in \"c%u\" for ¥30\n", k); break;
        case 19:
            sb_printf(&b, " when not any(items where category in \"c%u\")\n then ¥2 off order\n", k);
            break;
        case 20:
            sb_printf(&b, " then 10%% off items where category in [\"c%u\", \"c%u\"]\n", k, (k + 1) % n_cats);
            break;
        case 21:
            sb_printf(&b,
                      " then ¥5 off (items where category in \"c%u\") except (items where brand = \"b%u\")\n",
                      k, k % 16);
            break;
        case 22:
            sb_printf(&b, " when sum(items where category in \"c%u\") < ¥30\n then ¥1 off order\n", k);
            break;
        case 23:
            sb_printf(
                &b,
                " hours 10:00 to 22:00\n when any(items where category in \"c%u\")\n then 3%% off order\n",
                k);
            break;
        case 24:
            sb_printf(&b,
                      " requires coupon \"C%u\"\n when sum(items where category in \"c%u\") >= ¥20\n then "
                      "15%% off items where category in \"c%u\"\n",
                      k % 12, k, k);
            break;
        case 25:
            sb_printf(&b,
                      " when sum(items where category in \"c%u\") >= ¥%u and sum(items where category in "
                      "\"c%u\") >= ¥1\n then effect \"e\" \"%u\"\n",
                      k, 1 + below(&s, 100), (k + 3) % n_cats, k);
            break;
        case 26: /* two soft thresholds on one set: both fail without it (2 failures, no hint) */
            sb_printf(&b,
                      " when sum(items where category in \"c%u\") >= ¥%u\n when sum(items where category in "
                      "\"c%u\") >= ¥%u\n then 7%% off items where category in \"c%u\"\n",
                      k, 1 + below(&s, 60), k, 1 + below(&s, 60), k);
            break;
        /* target prechecks: time windows, weekdays, hours, tiers before a one-string discount */
        case 27:
            sb_printf(&b,
                      " valid 2026-01-%02u to 2026-02-%02u\n then %u%% off items where category in \"c%u\"\n",
                      1 + below(&s, 28), 1 + below(&s, 28), 1 + below(&s, 30), k);
            break;
        case 28:
            sb_printf(&b,
                      " every %s\n when customer.tier >= silver\n then ¥%u off each items where category in "
                      "\"c%u\"\n",
                      below(&s, 2) ? "monday, friday" : "wednesday", 1 + below(&s, 5), k);
            break;
        case 29:
            sb_printf(&b,
                      " hours %02u:00 to %02u:00\n requires coupon \"C%u\"\n then 10%% off items where "
                      "\"t%u\" in tags and price >= ¥10\n",
                      below(&s, 12), 12 + below(&s, 12), k % 12, k % 8);
            break;
        case 30:
            sb_printf(&b,
                      " when customer.tier >= gold and customer.first_order\n exclusive \"g%u\"\n then 15%% "
                      "off items where brand = \"b%u\"\n stop\n",
                      k % 3, k % 16);
            break;
        case 31:
            sb_printf(&b,
                      " when order.subtotal >= ¥%u\n cap ¥%u\n then buy 1 of items where category in \"c%u\" "
                      "get 1 of (items where category in \"c%u\") at 50%% off\n",
                      1 + below(&s, 300), 1 + below(&s, 20), k, k);
            break;
        case 32:
            sb_printf(
                &b,
                " valid 2026-03-01 to 2026-12-31\n when customer.tier >= silver\n then %u%% off items where "
                "category in \"c%u\"\n then ¥1 off each items where category in \"c%u\" and price >= ¥%u\n",
                1 + below(&s, 20), k, k, 1 + below(&s, 50));
            break;
        default:
            sb_printf(&b,
                      " measure original prices\n when sum(items where category in \"c%u\") >= ¥%u\n then "
                      "¥%u off order\n",
                      k, 1 + below(&s, 200), 1 + below(&s, 30));
            break;
        }
        sb_printf(&b, "}\n");
    }
    sb_printf(&b, "earn base { then 1 point per ¥1 on items }\n");
    sb_printf(&b, "multiplier gold_x2 { when customer.tier >= gold\n then x2 on base }\n");
    sb_printf(&b, "redeem {\n rate 100 points = ¥1\n max 50%%\n}\n");
    return b.s;
}

static void check_generated(uint64_t seed, uint32_t n_rules, uint32_t n_cats, bool one_coupon, bool with_stop,
                            uint32_t n_carts)
{
    char *src = generate(seed, n_rules, n_cats, one_coupon, with_stop);
    perk_program *prog = compile_prog(src);
    free(src);
    uint32_t guarded = 0;
    for (uint32_t r = 0; r < prog->d.n_rules; r++) guarded += prog->d.rules[r].guard_kind != PROG_GUARD_NONE;
    assert_true(guarded > n_rules / 3); /* the templates give guards to most promotions */
    pair pairs[3];
    pair_init(&pairs[0], prog, 0);
    pair_init(&pairs[1], prog, 40 + seed % 200);
    pair_init(&pairs[2], prog, 300 + seed % 700);
    char name[64];
    snprintf(name, sizeof name, "generated ruleset %llu", (unsigned long long)seed);
    uint32_t partial = random_carts(pairs, 3, seed, n_carts, name);
    assert_true(partial > 0); /* the index did skip promotions */
    for (size_t k = 0; k < 3; k++) pair_free(&pairs[k]);
    perk_program_free(prog);
}

static void test_generated(void **state)
{
    (void)state;
    check_generated(1, 300, 40, false, true, 200);
    check_generated(2, 300, 40, true, true, 200);
    check_generated(3, 500, 120, false, false, 200);
    check_generated(4, 80, 6, true, false, 200);
}

/* ------------------------------------------------------------------ scaling and allocation */

static atomic_long allocations;
static void *counting_alloc(size_t size, void *user)
{
    (void)user;
    atomic_fetch_add(&allocations, 1);
    return malloc(size);
}
static void counting_release(void *ptr, void *user)
{
    (void)user;
    free(ptr);
}

/* 2000 category promotions over 200 categories: a cart touching 2 categories visits only their
 * 20 promotions (10 each), and gives the same result as visiting all 2000. Feeding and evaluating
 * a cart allocates nothing once the context has held a cart that large. */
static void test_visits_few(void **state)
{
    (void)state;
    sbuf b = { NULL, 0, 0 };
    sb_printf(&b, "ruleset \"many\" { currency CNY }\n");
    for (uint32_t i = 0; i < 2000; i++)
        sb_printf(&b, "promotion p%u { then %u%% off items where category in \"cat%u\" }\n", i, 1 + i % 20,
                  i % 200);
    perk_program *prog = compile_prog(b.s);
    free(b.s);
    pair x;
    pair_init(&x, prog, 0);
    for (uint32_t r = 0; r < prog->d.n_rules; r++)
        assert_int_equal(prog->d.rules[r].guard_kind, PROG_GUARD_CATEGORY);
    perk_allocator counting = { counting_alloc, counting_release, NULL };
    for (int round = 0; round < 3; round++) {
        perk_line lines[4] = {
            { .sku = "A", .category = "cat7", .unit_price = 10000, .quantity = 1 },
            { .sku = "B", .category = "cat7/sub", .unit_price = 2999, .quantity = 3 },
            { .sku = "C", .category = "cat123", .unit_price = 500, .quantity = 2 },
            { .sku = "D", .category = "other", .unit_price = 100, .quantity = 1 },
        };
        perk_order o = { .time = 1772625600LL, .shipping = 800 };
        atomic_store(&allocations, 0);
        perk_set_allocator(&counting);
        pair_feed(&x, NULL, &o, lines, 4);
        const perk_result *r = perk_evaluate(x.on);
        perk_set_allocator(NULL);
        assert_int_equal(r->status, PERK_OK);
        assert_int_equal(atomic_load(&allocations), 0); /* cart and evaluation never allocate */
        /* cat7 has promotions 7, 207, ..., 1807 and cat123 has 123, 323, ...: 20 visited */
        assert_int_equal(x.on->n_written, 20);
        uint32_t applied = 0;
        for (uint32_t p = 0; p < r->n_promotions; p++)
            applied += r->promotions[p].reason == PERK_REASON_APPLIED;
        assert_int_equal(applied, 20);
        /* every unvisited one reports NOTHING, the outcome of its block without its category */
        assert_int_equal(r->promotions[8].reason, PERK_REASON_NOTHING);
        pair_compare(&x, NULL, "2000 promotions");
    }
    /* A cart larger than any before grows the contexts while it is fed, never while it is
     * evaluated; after that, feeding and evaluating a cart of the same size allocates nothing. */
    perk_line big[60]; /* the pair's contexts take 64 lines */
    char big_cat[60][16];
    for (uint32_t i = 0; i < 60; i++) {
        snprintf(big_cat[i], sizeof big_cat[i], "cat%u", i * 7 % 200);
        big[i] = (perk_line){ .sku = "X", .category = big_cat[i], .unit_price = 100 + i, .quantity = 1 };
    }
    for (int round = 0; round < 2; round++) {
        perk_order o = { .time = 1772625600LL, .shipping = 800 };
        atomic_store(&allocations, 0);
        perk_set_allocator(&counting);
        pair_feed(&x, NULL, &o, big, 60);
        long fed = atomic_load(&allocations);
        const perk_result *r = perk_evaluate(x.on);
        perk_set_allocator(NULL);
        assert_int_equal(r->status, PERK_OK);
        assert_int_equal(atomic_load(&allocations), fed); /* the evaluation allocates nothing */
        if (round == 0)
            assert_true(fed > 0); /* 60 lines: the contexts grew */
        else
            assert_int_equal(fed, 0); /* the same size again: nothing at all */
        pair_compare(&x, NULL, "2000 promotions, 60 lines");
    }
    pair_free(&x);
    perk_program_free(prog);
}

/* 300 promotions of one exclusive group over 30 categories, and a `stop` among them. The group
 * is checked after the guard (semantics 5.1): once a member applies, the later members the cart
 * can reach (their category is there) are visited and EXCLUSIVE, the others keep their default
 * (NOTHING: nothing to apply them to) without a visit, until the stop makes every later promotion
 * STOPPED (visited). Same results and instruction counts as the reference pass. */
static void test_group_skipped(void **state)
{
    (void)state;
    sbuf b = { NULL, 0, 0 };
    sb_printf(&b, "ruleset \"group\" { currency CNY }\n");
    for (uint32_t i = 0; i < 300; i++) {
        if (i == 200)
            sb_printf(
                &b, "promotion p%u { priority %u\n then 1%% off items where category in \"cat7\"\n stop }\n",
                i, i + 1);
        else
            sb_printf(&b,
                      "promotion p%u { priority %u\n exclusive \"g\"\n then 10%% off items where category in "
                      "\"cat%u\" }\n",
                      i, i + 1, i % 30);
    }
    perk_program *prog = compile_prog(b.s);
    free(b.s);
    pair x;
    pair_init(&x, prog, 0);
    perk_line lines[2] = {
        { .sku = "A", .category = "cat5", .unit_price = 10000, .quantity = 1 },
        { .sku = "B", .category = "cat7/x", .unit_price = 2000, .quantity = 2 },
    };
    perk_order o = { .time = 1772625600LL, .shipping = 0 };
    pair_feed(&x, NULL, &o, lines, 2);
    const perk_result *r = perk_evaluate(x.on);
    assert_int_equal(r->status, PERK_OK);
    assert_int_equal(r->promotions[4].reason, PERK_REASON_NOTHING); /* no cat4 line: its default */
    assert_int_equal(r->promotions[5].reason, PERK_REASON_APPLIED); /* 10% of 100.00 */
    assert_int_equal(r->promotions[5].discount, 1000);
    assert_int_equal(r->promotions[6].reason, PERK_REASON_NOTHING);    /* no cat6: not visited */
    assert_int_equal(r->promotions[7].reason, PERK_REASON_EXCLUSIVE);  /* visited (cat7): the gate */
    assert_int_equal(r->promotions[35].reason, PERK_REASON_EXCLUSIVE); /* cat5 again */
    assert_int_equal(r->promotions[199].reason, PERK_REASON_NOTHING);  /* cat19 */
    assert_int_equal(r->promotions[200].reason, PERK_REASON_APPLIED);  /* 1% of 40.00, then stop */
    assert_int_equal(r->promotions[200].discount, 40);
    assert_int_equal(r->promotions[201].reason, PERK_REASON_STOPPED);
    assert_int_equal(r->promotions[299].reason, PERK_REASON_STOPPED);
    assert_int_equal(r->discount, 1040);
    /* written: the members with cat5 or cat7 before the stop (5, 7, 35, 37, ..., 185, 187: 14), the
     * stop itself and the 99 after it, each exactly once */
    assert_int_equal(x.on->n_written, 114);
    uint8_t seen[300] = { 0 };
    for (uint32_t k = 0; k < x.on->n_written; k++) {
        assert_true(x.on->written[k] < 300);
        assert_int_equal(seen[x.on->written[k]]++, 0);
    }
    pair_compare(&x, NULL, "one exclusive group");
    pair_free(&x);
    perk_program_free(prog);
}

/* A best-deal group of 200 members over 14 categories, a first-wins promotion and a `stop` in
 * between (semantics 5.8): every member is visited, the group decided at its first member; the
 * largest saving wins, the others that could apply are EXCLUSIVE with what they would have taken.
 * Same results, instruction counts and written entries (each once) as the reference pass. */
static void test_best_group_indexed(void **state)
{
    (void)state;
    sbuf b = { NULL, 0, 0 };
    sb_printf(&b, "ruleset \"best\" { currency CNY }\n");
    for (uint32_t i = 0; i < 200; i++) {
        if (i == 100)
            sb_printf(&b, "promotion s%u { priority %u\n then 1%% off items where category in \"cat3\"\n stop }\n",
                      i, i + 1);
        sb_printf(&b,
                  "promotion p%u { priority %u\n exclusive \"g\" best\n then %u%% off items where category in "
                  "\"cat%u\" }\n",
                  i, i + 1, 1 + i % 7, i % 14);
    }
    perk_program *prog = compile_prog(b.s);
    free(b.s);
    pair x;
    pair_init(&x, prog, 0);
    perk_line lines[2] = {
        { .sku = "A", .category = "cat5", .unit_price = 10000, .quantity = 1 },
        { .sku = "B", .category = "cat3/x", .unit_price = 2000, .quantity = 2 },
    };
    perk_order o = { .time = 1772625600LL, .shipping = 0 };
    pair_feed(&x, NULL, &o, lines, 2);
    const perk_result *r = perk_evaluate(x.on);
    assert_int_equal(r->status, PERK_OK);
    /* evaluation order: p0..p99 (0..99), s100 (100: priority 101, declared before p100), p100..
     * (101..). The percent is 1 + i % 7 and the category i % 14, so every member on cat5 takes 6%:
     * 6.00 of 100.00, a tie p5 wins as the first (p19, ..., p145 at index 146 lose); cat3: p3, p17,
     * ... take 4% of 40.00 = 1.60. p5 wins at p0's place, before the stop */
    assert_int_equal(r->promotions[5].reason, PERK_REASON_APPLIED);
    assert_int_equal(r->promotions[5].discount, 600);
    assert_int_equal(r->promotion_extra[5].best_saving, 600);
    assert_int_equal(r->promotions[19].reason, PERK_REASON_EXCLUSIVE);
    assert_int_equal(r->promotion_extra[19].best_saving, 600);
    assert_int_equal(r->promotions[3].reason, PERK_REASON_EXCLUSIVE);
    assert_int_equal(r->promotion_extra[3].best_saving, 160);
    assert_int_equal(r->promotion_extra[3].best_winner, 5);
    assert_int_equal(r->promotions[146].reason, PERK_REASON_EXCLUSIVE);
    assert_int_equal(r->promotion_extra[146].best_saving, 600);
    assert_int_equal(r->promotions[4].reason, PERK_REASON_NOTHING); /* no cat4 line */
    assert_int_equal(r->promotion_extra[4].best_saving, -1);
    /* the stop applies 1% of 40.00; the members after it were decided with the group */
    assert_int_equal(r->promotions[100].reason, PERK_REASON_APPLIED);
    assert_int_equal(r->promotions[100].discount, 40);
    assert_int_equal(r->discount, 640);
    uint8_t seen[201] = { 0 };
    for (uint32_t k = 0; k < x.on->n_written; k++) {
        assert_true(x.on->written[k] < 201);
        assert_int_equal(seen[x.on->written[k]]++, 0);
    }
    pair_compare(&x, NULL, "one best-deal group");
    pair_free(&x);
    perk_program_free(prog);
}

/* Prechecks (runtime/guard.h): a block that starts with one hard condition on a date, weekday or
 * tier is decided without running it when the condition fails, with the comparison the VM would
 * have recorded; promotions otherwise visited always are tested before the visits and visited
 * only when it holds. */
static const char PRECHECK_RULES[] =
    "ruleset \"pre\" {\n  currency CNY\n  timezone \"UTC\"\n}\n"
    "tier silver { spend ¥1000 within 365 days }\n"
    "tier gold { spend ¥5000 within 365 days }\n"
    "promotion spring { valid 2026-03-01 to 2026-03-31\n then 10% off order }\n"
    "promotion autumn { valid 2026-09-01 to 2026-09-30\n then ¥5 off order }\n"
    "promotion weekend { every saturday, sunday\n then 5% off order }\n"
    "promotion golden { when customer.tier >= gold\n then ¥20 off order }\n"
    "promotion ship { when order.subtotal >= ¥100\n then free shipping }\n"
    "promotion tea_spring { valid 2026-03-01 to 2026-03-31\n"
    " then 10% off items where category in \"tea\" }\n";

static void feed_precheck_cart(pair *x, int64_t time, const char *tier)
{
    perk_line tea = { .sku = "T1", .category = "tea", .unit_price = 5000, .quantity = 2 };
    perk_customer c = { .tier = tier };
    perk_order o = { .time = time, .shipping = 800 };
    pair_feed(x, &c, &o, &tea, 1);
}

static bool visited(const perk_context *ctx, long r) { return ctx->visit[r / 64] >> (r % 64) & 1; }

static void test_prechecks(void **state)
{
    (void)state;
    perk_program *prog = compile_prog(PRECHECK_RULES);
    const prog_rule_index *ix = &prog->ridx;
    long spring = perk_program_find_promotion(prog, "spring"),
         autumn = perk_program_find_promotion(prog, "autumn");
    long weekend = perk_program_find_promotion(prog, "weekend"),
         golden = perk_program_find_promotion(prog, "golden");
    long ship = perk_program_find_promotion(prog, "ship"),
         tea = perk_program_find_promotion(prog, "tea_spring");
    assert_int_equal(ix->precheck[spring].kind, PRECHECK_RANGE);
    assert_int_equal(ix->precheck[weekend].kind, PRECHECK_MASK);
    assert_int_equal(ix->precheck[golden].kind, PRECHECK_CMP);
    assert_int_equal(ix->precheck[ship].kind, PRECHECK_NONE); /* a soft threshold: hints */
    /* after its target precheck on "tea", which the guard already decides */
    assert_int_equal(prog->d.rules[tea].guard_kind, PROG_GUARD_CATEGORY);
    assert_int_equal(ix->precheck[tea].kind, PRECHECK_RANGE);
    assert_int_equal(ix->n_prechecked, 4); /* spring, autumn, weekend, golden */
    assert_int_equal(ix->n_classes, 2);    /* weekend; golden (spring and autumn are ranges) */
    assert_true(ix->always[ship / 64] >> (ship % 64) & 1);

    pair x;
    pair_init(&x, prog, 0);
    /* Saturday 2026-04-04, a silver customer: only the weekend and shipping blocks run */
    feed_precheck_cart(&x, 1775304000LL, "silver");
    const perk_result *r = perk_evaluate(x.on);
    assert_int_equal(r->status, PERK_OK);
    const perk_promotion_result *p = r->promotions;
    assert_int_equal(p[spring].reason, PERK_REASON_CONDITION); /* ended 4 days ago */
    assert_true(p[spring].has_comparison);
    assert_int_equal(p[spring].observed - p[spring].expected, 4);
    assert_int_equal(p[spring].comparison, PERK_CMP_LE);
    assert_int_equal(p[autumn].reason, PERK_REASON_CONDITION); /* starts in 150 days */
    assert_int_equal(p[autumn].expected - p[autumn].observed, 150);
    assert_int_equal(p[autumn].comparison, PERK_CMP_GE);
    assert_int_equal(p[weekend].reason, PERK_REASON_APPLIED); /* 5% of 100.00 */
    assert_int_equal(p[weekend].discount, 500);
    assert_int_equal(p[golden].reason, PERK_REASON_CONDITION); /* silver (0) >= gold (1) fails */
    assert_int_equal(p[golden].observed, 0);
    assert_int_equal(p[golden].expected, 1);
    assert_int_equal(p[tea].reason, PERK_REASON_CONDITION); /* tea is there, the window is not */
    /* its own `valid`, its first condition (as spring's is) */
    assert_int_equal(p[tea].failed_condition - prog->d.rules[tea].first_cond,
                     p[spring].failed_condition - prog->d.rules[spring].first_cond);
    assert_int_equal(p[ship].reason, PERK_REASON_CONDITION); /* 95.00 < 100.00 after the weekend 5% */
    assert_int_equal(p[ship].observed, 9500);
    assert_false(visited(x.on, spring));
    assert_false(visited(x.on, autumn));
    assert_false(visited(x.on, golden));
    assert_true(visited(x.on, weekend));
    /* tea_spring is listed under "tea", which the cart has; its precheck, tested while listing it
     * (ridx.key_pre), fails: it is not visited */
    assert_false(visited(x.on, tea));
    assert_int_equal(r->promotions_visited, 2); /* weekend, ship */
    pair_compare(&x, NULL, "prechecks on a Saturday in April");
    /* excluded by the caller, it is visited: its gate comes first */
    feed_precheck_cart(&x, 1775304000LL, "silver");
    perk_context *const all[4] = { x.on, x.off, x.app_on, x.app_off };
    for (int k = 0; k < 4; k++) assert_int_equal(perk_cart_exclude(all[k], (uint32_t)tea), PERK_OK);
    r = perk_evaluate(x.on);
    assert_int_equal(r->promotions[tea].reason, PERK_REASON_EXCLUDED);
    assert_true(visited(x.on, tea));
    pair_compare(&x, NULL, "prechecks on a Saturday in April, tea_spring excluded"); /* the same cart again */

    /* Tuesday 2026-03-10, a gold customer: spring, golden and tea_spring apply, weekend fails on
     * its weekday mask (no comparison recorded) */
    feed_precheck_cart(&x, 1773144000LL, "gold");
    r = perk_evaluate(x.on);
    assert_int_equal(r->status, PERK_OK);
    p = r->promotions;
    assert_int_equal(p[spring].reason, PERK_REASON_APPLIED);
    assert_int_equal(p[weekend].reason, PERK_REASON_CONDITION);
    assert_false(p[weekend].has_comparison);
    assert_int_equal(p[golden].reason, PERK_REASON_APPLIED);
    assert_int_equal(p[tea].reason, PERK_REASON_APPLIED);
    assert_false(visited(x.on, weekend));
    assert_true(visited(x.on, tea));
    pair_compare(&x, NULL, "prechecks on a Tuesday in March");
    pair_free(&x);
    perk_program_free(prog);
}

/* Guards over several strings, chosen at load time for promotions the file gives no guard: a list
 * of skus, a union of a brand and a category. Without any of their strings such a promotion is
 * decided (NOTHING, or its condition's failure) and not visited; with one of them it is. */
static void test_multi_string_guards(void **state)
{
    (void)state;
    perk_program *prog =
        compile_prog("ruleset \"multi\" { currency CNY }\n"
                     "let picks = items where sku in [\"S1\", \"S2\", \"S3\"]\n"
                     "let mix = items where brand = \"Acme\" or category in \"tea\"\n"
                     "promotion bogo { then buy 1 of picks get 1 free }\n"
                     "promotion mixed { when count(mix) >= 2\n then 10% off mix }\n"
                     "promotion attr { then 5% off items where attr(\"color\") = \"red\" }\n");
    const prog_rule_index *ix = &prog->ridx;
    long bogo = perk_program_find_promotion(prog, "bogo"), mixed = perk_program_find_promotion(prog, "mixed");
    long attr = perk_program_find_promotion(prog, "attr");
    assert_int_equal(prog->d.rules[bogo].guard_kind, PROG_GUARD_NONE); /* no single string */
    assert_int_equal(ix->multi_first[bogo + 1] - ix->multi_first[bogo], 3);
    assert_int_equal(ix->multi_first[mixed + 1] - ix->multi_first[mixed], 2);
    assert_int_equal(ix->multi_first[attr + 1] - ix->multi_first[attr], 0); /* attributes: none */
    assert_true(ix->always[attr / 64] >> (attr % 64) & 1);
    assert_int_equal(ix->defaults[bogo].reason, PERK_REASON_NOTHING);
    assert_int_equal(ix->defaults[mixed].reason,
                     PERK_REASON_CONDITION); /* count 0 < 2 (a hard condition: no hint) */

    pair x;
    pair_init(&x, prog, 0);
    perk_line coffee = {
        .sku = "C9", .category = "coffee", .brand = "Other", .unit_price = 3000, .quantity = 1
    };
    perk_line s2 = { .sku = "S2", .category = "snacks", .unit_price = 1000, .quantity = 2 };
    perk_line acme = { .sku = "A1", .category = "cups", .brand = "Acme", .unit_price = 2500, .quantity = 2 };
    const perk_line *carts[3][2] = { { &coffee, NULL }, { &coffee, &s2 }, { &coffee, &acme } };
    for (int c = 0; c < 3; c++) {
        perk_line cart[2];
        size_t n = 0;
        for (int i = 0; i < 2 && carts[c][i]; i++) cart[n++] = *carts[c][i];
        pair_feed(&x, NULL, &(perk_order){ .time = 1772625600LL }, cart, n);
        const perk_result *r = perk_evaluate(x.on);
        assert_int_equal(r->status, PERK_OK);
        bool bogo_visited = x.on->visit[bogo / 64] >> (bogo % 64) & 1;
        bool mixed_visited = x.on->visit[mixed / 64] >> (mixed % 64) & 1;
        assert_int_equal(bogo_visited, c == 1);  /* only with S2 */
        assert_int_equal(mixed_visited, c == 2); /* only with Acme */
        if (c == 1) {                            /* 2 x S2 at 10.00: one free */
            assert_int_equal(r->promotions[bogo].reason, PERK_REASON_APPLIED);
            assert_int_equal(r->promotions[bogo].discount, 1000);
        }
        if (c == 2) { /* 2 Acme cups, 50.00: 10% */
            assert_int_equal(r->promotions[mixed].reason, PERK_REASON_APPLIED);
            assert_int_equal(r->promotions[mixed].discount, 500);
        } else {
            assert_int_equal(r->promotions[mixed].reason, PERK_REASON_CONDITION);
            assert_int_equal(r->promotions[mixed].observed, 0);
            assert_int_equal(r->promotions[mixed].expected, 2);
        }
        pair_compare(&x, NULL, "guards over several strings");
    }
    pair_free(&x);
    perk_program_free(prog);
}

/* A near-miss hint only when reaching the threshold is all it takes: a promotion decided by its
 * guard (no tea) whose exclusive group another promotion took reports its condition, without a
 * hint; with the group free the same cart gets the hint. */
static void test_hint_needs_free_group(void **state)
{
    (void)state;
    for (int taken = 0; taken < 2; taken++) {
        sbuf b = { NULL, 0, 0 };
        sb_printf(
            &b,
            "ruleset \"hint\" { currency CNY }\n"
            "promotion first { priority 1\n exclusive \"g\"\n then 5%% off items where category in \"%s\" }\n"
            "promotion tea300 { priority 2\n exclusive \"g\"\n"
            " when sum(items where category in \"tea\") >= ¥300\n"
            " then ¥30 off items where category in \"tea\" }\n",
            taken ? "cups" : "shoes");
        perk_program *prog = compile_prog(b.s);
        free(b.s);
        pair x;
        pair_init(&x, prog, 0);
        perk_line cup = { .sku = "C1", .category = "cups", .unit_price = 4000, .quantity = 1 };
        pair_feed(&x, NULL, &(perk_order){ .time = 1772625600LL }, &cup, 1);
        const perk_result *r = perk_evaluate(x.on);
        assert_int_equal(r->status, PERK_OK);
        long tea = perk_program_find_promotion(prog, "tea300");
        assert_int_equal(r->promotions[0].reason, taken ? PERK_REASON_APPLIED : PERK_REASON_NOTHING);
        assert_int_equal(r->promotions[tea].reason, PERK_REASON_CONDITION); /* observed 0 of 300.00 */
        assert_int_equal(r->promotions[tea].expected, 30000);
        assert_int_equal(r->n_hints, taken ? 0 : 1);
        pair_compare(&x, NULL, taken ? "hint, group taken" : "hint, group free");
        pair_free(&x);
        perk_program_free(prog);
    }
}

static bool was_written(const perk_context *ctx, long r)
{
    for (uint32_t k = 0; k < ctx->n_written; k++)
        if (ctx->written[k] == (uint32_t)r) return true;
    return false;
}

/* At most max_hints near misses, the first in evaluation order. A hintable promotion (its guard
 * default is a near miss) is visited only while there is room for a hint, so once the hints are
 * full the rest keep their defaults unvisited; index on and off still agree byte for byte. Cart:
 * one cup at ¥40.00. `first` takes group g (5% of 4000 = 200 off), so tea300 gets no hint. */
static void test_hint_limit(void **state)
{
    (void)state;
    perk_program *prog = compile_prog(
        "ruleset \"hints\" { currency CNY }\n"
        "promotion first { priority 1\n exclusive \"g\"\n then 5% off items where category in \"cups\" }\n"
        "promotion tea300 { priority 2\n exclusive \"g\"\n when sum(items where category in \"tea\") >= "
        "¥300\n"
        " then ¥30 off items where category in \"tea\" }\n"
        "promotion coffee100 { priority 3\n when sum(items where category in \"coffee\") >= ¥100\n"
        " then ¥10 off items where category in \"coffee\" }\n"
        "promotion cups100 { priority 4\n when sum(items where category in \"cups\") >= ¥100\n"
        " then ¥10 off items where category in \"cups\" }\n"
        "promotion jam50 { priority 5\n when sum(items where category in \"jam\") > ¥50\n"
        " then ¥5 off items where category in \"jam\" }\n");
    long tea = perk_program_find_promotion(prog, "tea300"),
         coffee = perk_program_find_promotion(prog, "coffee100"),
         cups = perk_program_find_promotion(prog, "cups100"),
         jam = perk_program_find_promotion(prog, "jam50");
    /* all but `first` default to a near miss; on this cart cups100 is visited by its key anyway */
    assert_int_equal(prog->ridx.n_hintable, 4);
    perk_line cup = { .sku = "C1", .category = "cups", .unit_price = 4000, .quantity = 1 };
    /* expected hints, in order: coffee100 10000; cups100 10000 - 3800 (the cup after 5% off) =
     * 6200; jam50 5000 + 1 (GT) = 5001 */
    const long want_promo[] = { coffee, cups, jam };
    const int64_t want_short[] = { 10000, 6200, 5001 };
    for (uint32_t max = 0; max <= 4; max++) {
        perk_limits l = perk_limits_default();
        l.max_hints = max;
        pair x;
        pair_init_limits(&x, prog, l);
        pair_feed(&x, NULL, &(perk_order){ .time = 1772625600LL }, &cup, 1);
        const perk_result *r = perk_evaluate(x.on);
        assert_int_equal(r->status, PERK_OK);
        assert_int_equal(r->discount, 200);
        uint32_t n = max < 3 ? max : 3;
        assert_int_equal(r->n_hints, n);
        for (uint32_t h = 0; h < n; h++) {
            assert_int_equal(r->hints[h].promotion, want_promo[h]);
            assert_int_equal(r->hints[h].shortfall, want_short[h]);
        }
        /* hinted or not, every near miss has the same result entry */
        assert_int_equal(r->promotions[coffee].reason, PERK_REASON_CONDITION);
        assert_int_equal(r->promotions[coffee].observed, 0);
        assert_int_equal(r->promotions[coffee].expected, 10000);
        assert_int_equal(r->promotions[jam].reason, PERK_REASON_CONDITION);
        assert_int_equal(r->promotions[jam].expected, 5000);
        assert_int_equal(r->promotions[jam].comparison, PERK_CMP_GT);
        assert_int_equal(r->promotions[cups].observed, 3800);
        /* visits: tea300 while there is room (it gives none: its group is taken), coffee100 while
         * there is room, cups100 always (its key is in the cart), jam50 only if room is left */
        assert_true(was_written(x.on, cups));
        assert_int_equal(was_written(x.on, tea), max > 0);
        assert_int_equal(was_written(x.on, coffee), max > 0);
        assert_int_equal(was_written(x.on, jam), max > 2);
        assert_int_equal(r->promotions_visited, 2 + 2 * (max > 0) + (max > 2)); /* first, cups100 + those */
        pair_compare(&x, NULL, "hint limit");
        assert_int_equal(perk_evaluate(x.off)->promotions_visited, 5); /* the plain pass looks at all */
        pair_free(&x);
    }
    perk_program_free(prog);
}

/* Explaining only what applied (perk_limits.explain, docs/semantics.md section 16). A tea cart
 * (2 x 50.00) in April with coupons A and B, one coupon per order; in evaluation order (stages:
 * tea is a single-item offer, spring an order offer, the rest run in the coupons stage):
 *   tea     20% off the tea, 10000           applies: 2000
 *   spring  valid in March                   fails (prechecked: not visited, not written)
 *   c1      coupon A, ¥5 off order           applies: 500
 *   c2      coupon B, ¥3 off order           one coupon per order
 *   big     subtotal 7500 >= ¥50: ¥10 off    applies: 1000, and stops
 *   later   1% off order                     stopped (not visited when explaining what applied)
 * Discount 2000 + 500 + 1000 = 3500 either way. */
static void test_explain_applied(void **state)
{
    (void)state;
    perk_program *prog =
        compile_prog("ruleset \"lean\" {\n  currency CNY\n  timezone \"UTC\"\n"
                     "  coupons one per order\n}\n"
                     "promotion spring { valid 2026-03-01 to 2026-03-31\n then 10% off order }\n"
                     "promotion c1 { requires coupon \"A\"\n then ¥5 off order }\n"
                     "promotion c2 { requires coupon \"B\"\n then ¥3 off order }\n"
                     "promotion tea { then 20% off items where category in \"tea\" }\n"
                     "promotion big { when order.subtotal >= ¥50\n then ¥10 off order\n stop\n"
                     " stage coupons }\n"
                     "promotion later { then 1% off order\n stage coupons }\n");
    pair x;
    pair_init(&x, prog, 0);
    perk_line tea = { .sku = "T1", .category = "tea", .unit_price = 5000, .quantity = 2 };
    perk_line cup = { .sku = "C1", .category = "cups", .unit_price = 5000, .quantity = 2 };
    const perk_order april = { .time = 1775822400LL }; /* 2026-04-10 12:00 UTC */
    long spring = perk_program_find_promotion(prog, "spring"), c1 = perk_program_find_promotion(prog, "c1"),
         c2 = perk_program_find_promotion(prog, "c2"), tea_off = perk_program_find_promotion(prog, "tea"),
         big = perk_program_find_promotion(prog, "big"), later = perk_program_find_promotion(prog, "later");
    perk_context *const all[4] = { x.on, x.off, x.app_on, x.app_off };

    pair_feed(&x, NULL, &april, &tea, 1);
    for (int k = 0; k < 4; k++) {
        assert_int_equal(perk_cart_add_coupon(all[k], "A", NULL, PERK_COUPON_VALID), PERK_OK);
        assert_int_equal(perk_cart_add_coupon(all[k], "B", NULL, PERK_COUPON_VALID), PERK_OK);
    }
    const perk_result *full = perk_evaluate(x.on);
    assert_int_equal(full->status, PERK_OK);
    assert_int_equal(full->discount, 3500);
    assert_int_equal(full->promotions[spring].reason, PERK_REASON_CONDITION);
    assert_int_equal(full->promotions[c2].reason, PERK_REASON_ONE_COUPON);
    assert_int_equal(full->promotions[later].reason, PERK_REASON_STOPPED);
    assert_int_equal(full->promotions_visited, 5); /* c1, c2, tea, big, later */

    const perk_result *lean = perk_evaluate(x.app_on);
    assert_int_equal(lean->status, PERK_OK);
    assert_int_equal(lean->discount, 3500);
    assert_int_equal(lean->promotions[c1].reason, PERK_REASON_APPLIED);
    assert_int_equal(lean->promotions[c1].discount, 500);
    assert_int_equal(lean->promotions[tea_off].discount, 2000);
    assert_int_equal(lean->promotions[big].discount, 1000);
    const long unexplained[] = { spring, c2, later };
    for (size_t i = 0; i < 3; i++) {
        const perk_promotion_result *pr = &lean->promotions[unexplained[i]];
        assert_int_equal(pr->reason, PERK_REASON_UNEXPLAINED);
        assert_int_equal(pr->promotion, unexplained[i]);
        assert_int_equal(pr->failed_condition, UINT32_MAX);
        assert_false(pr->has_comparison);
    }
    /* the verdicts still know why B was turned away */
    assert_int_equal(lean->n_coupons, 2);
    assert_int_equal(lean->coupons[0].verdict, PERK_COUPON_ACCEPTED);
    assert_int_equal(lean->coupons[0].promotion, c1);
    assert_int_equal(lean->coupons[1].verdict, PERK_COUPON_REJECTED_ONE_PER_ORDER);
    assert_int_equal(lean->promotions_visited, 4); /* none after the stop */
    assert_int_equal(lean->instructions, full->instructions);
    pair_compare(&x, NULL, "explaining what applied, coupons and a stop"); /* the same cart again */

    /* the next cart, cups without coupons: c1 and tea are back to UNEXPLAINED; big alone applies
     * (¥100 >= ¥50: ¥10 off) and later is stopped */
    pair_feed(&x, NULL, &april, &cup, 1);
    lean = perk_evaluate(x.app_on);
    assert_int_equal(lean->discount, 1000);
    assert_int_equal(lean->promotions[c1].reason, PERK_REASON_UNEXPLAINED);
    assert_int_equal(lean->promotions[c1].discount, 0);
    assert_int_equal(lean->promotions[tea_off].reason, PERK_REASON_UNEXPLAINED);
    assert_int_equal(lean->promotions[big].reason, PERK_REASON_APPLIED);
    pair_compare(&x, NULL, "explaining what applied, the next cart");
    pair_free(&x);
    perk_program_free(prog);
}

/* The range prechecks a context explaining only what applied looks through (ridx.ranges): 300
 * promotions, each `valid` for its own window in 2026 (window k starts on day 7k mod 365 and
 * lasts 1 + 13k mod 40 days; every 50th covers the whole year). At each of a few times the
 * promotions visited are exactly those whose window holds the time, and the results agree with
 * the plain pass and with explaining every promotion. */
static void day_of_2026(int day, char out[32])
{
    static const int month_days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int m = 0;
    while (day >= month_days[m]) day -= month_days[m++];
    snprintf(out, 32, "2026-%02d-%02d", m + 1, day + 1);
}

static void window_of(int k, int *first, int *last)
{
    *first = k % 50 == 0 ? 0 : 7 * k % 365;
    *last = k % 50 == 0 ? 364 : *first + 13 * k % 40;
    if (*last > 364) *last = 364;
}

static void test_range_index(void **state)
{
    (void)state;
    sbuf src = { 0 };
    sb_printf(&src, "ruleset \"windows\" {\n  currency CNY\n  timezone \"UTC\"\n}\n");
    for (int k = 0; k < 300; k++) {
        int first, last;
        char a[32], b[32];
        window_of(k, &first, &last);
        day_of_2026(first, a);
        day_of_2026(last, b);
        sb_printf(&src, "promotion w%03d { valid %s to %s\n then ¥0.01 off order }\n", k, a, b);
    }
    perk_program *prog = compile_prog(src.s);
    free(src.s);
    assert_int_equal(prog->ridx.n_prechecked, 300);
    assert_int_equal(prog->ridx.n_classes, 0);
    pair x;
    pair_init(&x, prog, 0);
    perk_line cup = { .sku = "C1", .category = "cups", .unit_price = 100000, .quantity = 1 };
    const int days[] = { 0, 1, 45, 200, 363, 364 };
    for (size_t d = 0; d < sizeof days / sizeof days[0]; d++) {
        int64_t t = 1767225600LL + days[d] * 86400LL + 43200; /* 2026-01-01 00:00 UTC + day, noon */
        pair_feed(&x, NULL, &(perk_order){ .time = t }, &cup, 1);
        const perk_result *r = perk_evaluate(x.app_on);
        assert_int_equal(r->status, PERK_OK);
        uint32_t live = 0;
        for (int k = 0; k < 300; k++) {
            int first, last;
            window_of(k, &first, &last);
            char id[16];
            snprintf(id, sizeof id, "w%03d", k);
            long p = perk_program_find_promotion(prog, id);
            bool in = first <= days[d] && days[d] <= last;
            live += in;
            assert_int_equal(visited(x.app_on, p), in);
            assert_int_equal(r->promotions[p].reason, in ? PERK_REASON_APPLIED : PERK_REASON_UNEXPLAINED);
        }
        assert_int_equal(r->promotions_visited, live);
        assert_int_equal(r->discount, live); /* ¥0.01 each */
        pair_compare(&x, NULL, "windows");
    }
    pair_free(&x);
    perk_program_free(prog);
}

/* The other prechecks, by class (ridx.classes): three promotions for gold and up, two for
 * Saturdays, one for silver and up make three classes, each tested once. Explaining only what
 * applied, a silver customer on a Tuesday visits only the silver one; a gold one on a Saturday,
 * all six. */
static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static void test_precheck_classes(void **state)
{
    (void)state;
    perk_program *prog = compile_prog("ruleset \"classes\" {\n  currency CNY\n  timezone \"UTC\"\n}\n"
                                      "tier silver { spend ¥1000 within 365 days }\n"
                                      "tier gold { spend ¥5000 within 365 days }\n"
                                      "promotion g1 { when customer.tier >= gold\n then ¥1 off order }\n"
                                      "promotion sat1 { every saturday\n then ¥2 off order }\n"
                                      "promotion g2 { when customer.tier >= gold\n then ¥3 off order }\n"
                                      "promotion s1 { when customer.tier >= silver\n then ¥4 off order }\n"
                                      "promotion sat2 { every saturday\n then ¥5 off order }\n"
                                      "promotion g3 { when customer.tier >= gold\n then ¥6 off order }\n");
    const prog_rule_index *ix = &prog->ridx;
    assert_int_equal(ix->n_prechecked, 6);
    assert_int_equal(ix->n_classes, 3);
    uint32_t sizes[3];
    for (uint32_t k = 0; k < 3; k++) sizes[k] = ix->class_first[k + 1] - ix->class_first[k];
    qsort(sizes, 3, sizeof sizes[0], cmp_u32);
    assert_int_equal(sizes[0], 1);
    assert_int_equal(sizes[1], 2);
    assert_int_equal(sizes[2], 3);
    pair x;
    pair_init(&x, prog, 0);
    perk_line cup = { .sku = "C1", .category = "cups", .unit_price = 10000, .quantity = 1 };
    /* Tuesday 2026-03-10, silver: s1 alone, ¥4 */
    pair_feed(&x, &(perk_customer){ .tier = "silver" }, &(perk_order){ .time = 1773144000LL }, &cup, 1);
    const perk_result *r = perk_evaluate(x.app_on);
    assert_int_equal(r->discount, 400);
    assert_int_equal(r->promotions_visited, 1);
    assert_true(visited(x.app_on, perk_program_find_promotion(prog, "s1")));
    pair_compare(&x, NULL, "precheck classes, silver on a Tuesday");
    /* Saturday 2026-04-04, gold: all six, ¥1 + 2 + 3 + 4 + 5 + 6 = ¥21 */
    pair_feed(&x, &(perk_customer){ .tier = "gold" }, &(perk_order){ .time = 1775304000LL }, &cup, 1);
    r = perk_evaluate(x.app_on);
    assert_int_equal(r->discount, 2100);
    assert_int_equal(r->promotions_visited, 6);
    pair_compare(&x, NULL, "precheck classes, gold on a Saturday");
    pair_free(&x);
    perk_program_free(prog);
}

/* Code generation: `items where p` is p's set alone (every predicate's set is within the cart's
 * lines); a `where` on a narrower set still intersects. Amounts: 10% of the ¥50.00 tea = 500. */
static int count_op(const perk_program *p, const prog_rule *r, uint8_t op)
{
    int n = 0;
    for (uint32_t pc = r->code.start; pc < r->code.start + r->code.count; pc++) n += p->d.code[pc].op == op;
    return n;
}

static void test_items_where_code(void **state)
{
    (void)state;
    perk_program *prog = compile_prog("ruleset \"w\" { currency CNY }\n"
                                      "let tea = items where category in \"tea\"\n"
                                      "promotion a { then 10% off items where category in \"tea\" }\n"
                                      "promotion b { then 10% off tea where brand = \"x\" }\n");
    const prog_rule *a = rule_named(prog, "a"), *b = rule_named(prog, "b");
    assert_int_equal(count_op(prog, a, PERK_OP_SET_ALL), 0);
    assert_int_equal(count_op(prog, a, PERK_OP_SET_AND), 0);
    assert_int_equal(count_op(prog, b, PERK_OP_SET_ALL), 0);
    assert_int_equal(count_op(prog, b, PERK_OP_SET_AND), 1);
    perk_context *ctx = perk_context_new(prog, NULL, NULL);
    assert_non_null(ctx);
    perk_line tea = { .sku = "T1", .category = "tea/green", .brand = "x", .unit_price = 5000, .quantity = 1 };
    perk_line cup = { .sku = "C1", .category = "cups", .brand = "x", .unit_price = 3000, .quantity = 1 };
    assert_int_equal(perk_cart_set_order(ctx, &(perk_order){ .time = 1772625600LL }), PERK_OK);
    assert_int_equal(perk_cart_add_line(ctx, &tea), PERK_OK);
    assert_int_equal(perk_cart_add_line(ctx, &cup), PERK_OK);
    const perk_result *r = perk_evaluate(ctx);
    assert_int_equal(r->status, PERK_OK);
    assert_int_equal(r->promotions[0].discount, 500); /* 10% of 5000 */
    assert_int_equal(r->promotions[1].discount, 450); /* 10% of 4500, after a */
    assert_int_equal(r->lines[0].final, 4050);
    assert_int_equal(r->lines[1].final, 3000);
    perk_context_free(ctx);
    perk_program_free(prog);
}

/* Earn rules decided without their block (guard.h, guard_earn): on a cart without any of an earn
 * rule's strings its set is empty, so it lists the empty set's entry (0 points on base 0, with its
 * multiplier) when its precheck holds and nothing when it fails. Index on and off agree byte for
 * byte, instructions included. Points by hand: 1 point per ¥1 on ¥40.00 of cups = 40; 2 per ¥1
 * on ¥100.00 of tea = 200, x2 for gold = 400; 3 per ¥1 on tea with margin >= 40% = 300, x2 = 600;
 * 1 per ¥10 on lines not tagged clearance: ¥140.00 -> 14. */
static const perk_points_result *points_of(const perk_result *r, const perk_program *prog, const char *earn)
{
    for (uint32_t k = 0; k < r->n_points; k++)
        if (strcmp(perk_program_earn_id(prog, r->points[k].earn_rule), earn) == 0) return &r->points[k];
    return NULL;
}

static void test_earn_without_block(void **state)
{
    (void)state;
    perk_program *prog =
        compile_prog("ruleset \"earn\" { currency CNY }\n"
                     "tier gold \"金\" { spend ¥5000 within 365 days }\n"
                     "earn base { then 1 point per ¥1 on items }\n"
                     "earn tea { then 2 points per ¥1 on items where category in \"tea\" }\n"
                     "earn gold_tea { when customer.tier >= gold\n then 3 points per ¥1 on items where "
                     "category in \"tea\" and margin >= 40% }\n"
                     "earn unmarked { then 1 point per ¥10 on items where not \"clearance\" in tags }\n"
                     "multiplier gold_x2 { when customer.tier >= gold\n then x2 on tea, gold_tea }\n");
    const guard_earn *k = prog->earn_keys;
    assert_int_equal(k[0].n_keys, 0); /* every line: always runs */
    assert_int_equal(k[1].n_keys, 1); /* "tea" */
    assert_int_equal(k[1].precheck.kind, PRECHECK_NONE);
    assert_int_equal(k[2].n_keys, 1); /* "tea", after the tier precheck */
    assert_int_equal(k[2].precheck.kind, PRECHECK_CMP);
    assert_int_equal(k[3].n_keys, 0); /* a complement is not empty without "clearance" */
    const perk_line lines[] = {
        { .sku = "C1", .category = "cups", .unit_price = 4000, .quantity = 1 },
        { .sku = "T1",
          .category = "tea/green",
          .unit_price = 10000,
          .quantity = 1,
          .margin_ppm = 500000,
          .has_margin = true },
    };
    for (int with_tea = 0; with_tea < 2; with_tea++) {
        for (int gold = 0; gold < 2; gold++) {
            pair x;
            pair_init(&x, prog, 0);
            perk_customer cu = { .tier = gold ? "gold" : NULL };
            pair_feed(&x, &cu, &(perk_order){ .time = 1772625600LL }, lines, with_tea ? 2 : 1);
            const perk_result *r = perk_evaluate(x.on);
            assert_int_equal(r->status, PERK_OK);
            assert_int_equal(points_of(r, prog, "base")->points, with_tea ? 140 : 40);
            const perk_points_result *t = points_of(r, prog, "tea"), *gt = points_of(r, prog, "gold_tea");
            assert_non_null(t);
            assert_int_equal(t->base, with_tea ? 10000 : 0);
            assert_int_equal(t->points, with_tea ? (gold ? 400 : 200) : 0);
            assert_int_equal(t->mult_num, gold ? 2 : 1);
            if (gold) {
                assert_non_null(gt);
                assert_int_equal(gt->points, with_tea ? 600 : 0);
            } else {
                assert_null(gt); /* failed at its tier condition: no entry */
            }
            assert_int_equal(points_of(r, prog, "unmarked")->points, with_tea ? 14 : 4);
            assert_int_equal(r->points_earned,
                             (with_tea ? 140 + 14 : 40 + 4) + (with_tea ? (gold ? 1000 : 200) : 0));
            pair_compare(&x, NULL, "earn rules without their block");
            pair_free(&x);
        }
    }
    perk_program_free(prog);
}

/* A block runs from after what the gates tested natively: its target precheck on its guard string
 * (the string is in the cart) and its precheck (it held). Promotion a: 3 + 5 of its 11
 * instructions are tested so, 3 run; b: 4 of its instructions are. On a ¥50.00 tea line: a takes
 * 10% = 500, b ¥5.00 = 500, the line ends at 4000. */
static void test_tested_prefix(void **state)
{
    (void)state;
    perk_program *prog = compile_prog("ruleset \"x\" { currency CNY }\n"
                                      "tier gold \"g\" { spend ¥5000 within 365 days }\n"
                                      "promotion a { valid 2026-01-01 to 2026-12-31\n"
                                      " then 10% off items where category in \"tea\" }\n"
                                      "promotion b { when customer.tier >= gold\n then ¥5 off order }\n");
    const prog_rule *a = rule_named(prog, "a"), *b = rule_named(prog, "b");
    assert_int_equal(prog->ridx.hot[0].tested, 8);
    assert_int_equal(a->code.count, 11);
    assert_int_equal(prog->ridx.hot[1].tested, 4);
    pair x;
    pair_init(&x, prog, 0);
    perk_line tea = { .sku = "T1", .category = "tea", .unit_price = 5000, .quantity = 1 };
    pair_feed(&x, &(perk_customer){ .tier = "gold" }, &(perk_order){ .time = 1772625600LL }, &tea, 1);
    const perk_result *r = perk_evaluate(x.on);
    assert_int_equal(r->status, PERK_OK);
    assert_int_equal(r->promotions[0].discount, 500);
    assert_int_equal(r->promotions[1].discount, 500);
    assert_int_equal(r->lines[0].final, 4000);
    assert_int_equal(r->instructions, (11 - 8) + (b->code.count - 4));
    pair_compare(&x, NULL, "blocks run after their tested prefix");
    pair_free(&x);
    perk_program_free(prog);
}

/* The switch: PERK_RULE_INDEX=off in the environment turns the index off for new contexts. */
static void test_env_switch(void **state)
{
    (void)state;
    perk_program *prog = compile_prog(GUARD_RULES);
    setenv("PERK_RULE_INDEX", "off", 1);
    perk_context *off = perk_context_new(prog, NULL, NULL);
    unsetenv("PERK_RULE_INDEX");
    perk_context *on = perk_context_new(prog, NULL, NULL);
    assert_false(off->use_index);
    assert_true(on->use_index);
    perk_context_free(off);
    perk_context_free(on);
    perk_program_free(prog);
}

/* Moves to the repository root (for rules/): the working directory, or three levels above the
 * binary (build/tests/test_index). */
static bool find_root(const char *argv0)
{
    if (access("rules/tea_shop.perk", R_OK) == 0) return true;
    char buf[4096];
    if (realpath(argv0, buf) == NULL) return false;
    for (int up = 0; up < 3; up++) {
        char *slash = strrchr(buf, '/');
        if (slash == NULL) return false;
        *slash = '\0';
    }
    return chdir(buf) == 0 && access("rules/tea_shop.perk", R_OK) == 0;
}

int main(int argc, char **argv)
{
    (void)argc;
    if (!find_root(argv[0])) {
        fprintf(stderr, "test_index: run from the repository root\n");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_codegen_guards),
        cmocka_unit_test(test_verifier_guards),
        cmocka_unit_test(test_rules_dir),
        cmocka_unit_test(test_generated),
        cmocka_unit_test(test_visits_few),
        cmocka_unit_test(test_group_skipped),
        cmocka_unit_test(test_best_group_indexed),
        cmocka_unit_test(test_prechecks),
        cmocka_unit_test(test_multi_string_guards),
        cmocka_unit_test(test_hint_needs_free_group),
        cmocka_unit_test(test_hint_limit),
        cmocka_unit_test(test_explain_applied),
        cmocka_unit_test(test_range_index),
        cmocka_unit_test(test_precheck_classes),
        cmocka_unit_test(test_items_where_code),
        cmocka_unit_test(test_earn_without_block),
        cmocka_unit_test(test_tested_prefix),
        cmocka_unit_test(test_env_switch),
    };
    return cmocka_run_group_tests_name("index", tests, NULL, NULL);
}
