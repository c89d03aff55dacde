/* vm_testutil.h - helpers for the VM tests (tests/unit/test_vm_*.c).
 *
 * Programs are built by hand with progbuild.h, serialized with bytecode_write() and loaded with
 * perk_program_load(), so the verifier sees every test program exactly as a checkout would.
 * Carts are built through the public cart API. Assertion failures abort the test (cmocka).
 */
#ifndef PERK_VM_TESTUTIL_H
#define PERK_VM_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "bytecode.h"
#include "facts.h"
#include "perk.h"
#include "progbuild.h"
#include "program.h"

/* Writes, loads (and so verifies) `p`, then frees it. */
static inline perk_program *vt_load(prog_data *p)
{
    uint8_t *bytes = NULL;
    size_t len = 0;
    char msg[256] = "";
    if (!bytecode_write(p, &bytes, &len, msg, sizeof msg)) fail_msg("bytecode_write: %s", msg);
    perk_error err = { PERK_OK, "" };
    perk_program *prog = perk_program_load(bytes, len, &err);
    perk_mem_free(bytes);
    prog_data_free(p);
    if (prog == NULL) fail_msg("perk_program_load: %s", err.message);
    return prog;
}

/* A context with the default limits; the program reference passes to the context. */
static inline perk_context *vt_context(perk_program *prog)
{
    perk_error err = { PERK_OK, "" };
    perk_context *ctx = perk_context_new(prog, NULL, &err);
    if (ctx == NULL) fail_msg("perk_context_new: %s", err.message);
    perk_program_free(prog); /* the context holds its own reference */
    return ctx;
}

static inline perk_context *vt_build(prog_data *p) { return vt_context(vt_load(p)); }

/* 2026-03-04 12:00 UTC, a Wednesday. */
#define VT_TIME 1772625600LL

static inline void vt_order(perk_context *ctx, int64_t shipping)
{
    perk_order o = { .time = VT_TIME, .shipping = shipping, .points_to_redeem = 0 };
    assert_int_equal(perk_cart_set_order(ctx, &o), PERK_OK);
}

/* Adds a line; returns nothing, asserts success. */
static inline void vt_line(perk_context *ctx, const char *sku, const char *category, int64_t price,
                           int64_t qty)
{
    perk_line l = { .sku = sku, .category = category, .unit_price = price, .quantity = qty };
    perk_status st = perk_cart_add_line(ctx, &l);
    if (st != PERK_OK) fail_msg("perk_cart_add_line: %s", perk_context_error(ctx));
}

static inline const perk_result *vt_eval(perk_context *ctx)
{
    const perk_result *r = perk_evaluate(ctx);
    if (r->status != PERK_OK) fail_msg("perk_evaluate: %s", perk_context_error(ctx));
    return r;
}

/* The amount promotion `promo` allocated to line `line` (0 when none). */
static inline int64_t vt_alloc(const perk_result *r, uint32_t line, uint32_t promo)
{
    const perk_line_result *l = &r->lines[line];
    for (uint32_t k = 0; k < l->n_allocations; k++) {
        const perk_allocation *a = &r->allocations[l->first_allocation + k];
        if (a->promotion == promo) return a->amount;
    }
    return 0;
}

/* A promotion whose block is: <set op>(arg); APPLY action(kind, p0, p1, p2). Returns the action. */
static inline uint32_t vt_simple_rule(prog_data *p, const char *id, perk_opcode set_op, const char *set_arg,
                                      prog_action_kind kind, int64_t p0, int64_t p1, int64_t p2)
{
    uint32_t r = pb_promotion_begin(p, id, NULL, (int32_t)p->n_rules);
    pb_emit(p, set_op, set_arg ? pb_str(p, set_arg) : 0);
    uint32_t a = pb_action(p, r, kind, p0, p1, p2);
    pb_emit(p, PERK_OP_APPLY, a);
    pb_promotion_end(p, r);
    return a;
}

/* Emits `sum(amount of <all lines>) >= threshold` then REQUIRE (or REQUIRE_SOFT) of a new
 * condition with `hint_set`. */
static inline void vt_require_subtotal(prog_data *p, int64_t threshold, bool soft, const char *hint_set)
{
    uint32_t c = pb_cond(p, "sum(items) >= threshold", hint_set);
    pb_emit(p, PERK_OP_SET_ALL, 0);
    pb_emit(p, PERK_OP_AGG_SUM, PERK_FIELD_AMOUNT);
    pb_emit(p, PERK_OP_PUSH_INT, pb_int(p, threshold));
    pb_emit(p, PERK_OP_GE, 0);
    pb_emit(p, soft ? PERK_OP_REQUIRE_SOFT : PERK_OP_REQUIRE, c);
}

#endif
