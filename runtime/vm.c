/* vm.c - the interpreter: runs one verified block of a rule, earn rule, multiplier or the
 * redemption conditions.
 *
 * Two stacks live in the context, sized by the verifier's deepest stack (max_scalars, max_sets):
 * int64 scalars, and line sets stored as bitsets in fixed slots (the k-th set on the stack is
 * slot k, so set opcodes work in place and never allocate). Arithmetic is checked; an overflow,
 * a division by zero or an exhausted instruction budget ends the evaluation with a status and a
 * message naming the block and the instruction. Every comparison records its operands so that a
 * failed condition can be explained ("observed 26800, expected >= 30000").
 *
 * The verifier has already checked operands, jumps and stack depths; the cheap checks kept here
 * (stack bounds, operand ranges) turn a verifier bug into PERK_MALFORMED instead of a crash.
 */
#include <string.h>

#include "vm_internal.h"
#include "vm_ops.h"

typedef struct vm_state {
    perk_context *ctx;
    const prog_data *d;
    vm_block_kind kind;
    uint32_t owner;
    uint32_t pc;      /* absolute instruction index */
    uint32_t sp, ssp; /* scalars and sets on the stacks */
    uint32_t words;
} vm_state;

static const char *block_kind_name(vm_block_kind k)
{
    switch (k) {
    case VM_BLOCK_RULE: return "promotion";
    case VM_BLOCK_REDEEM: return "redemption";
    case VM_BLOCK_EARN: return "earn rule";
    case VM_BLOCK_MULT: return "multiplier";
    }
    return "block";
}

static const char *owner_name(const vm_state *s)
{
    const prog_data *d = s->d;
    switch (s->kind) {
    case VM_BLOCK_RULE: return s->owner < d->n_rules ? prog_string(d, d->rules[s->owner].id) : "?";
    case VM_BLOCK_EARN: return s->owner < d->n_earns ? prog_string(d, d->earns[s->owner].id) : "?";
    case VM_BLOCK_MULT: return s->owner < d->n_mults ? prog_string(d, d->mults[s->owner].id) : "?";
    case VM_BLOCK_REDEEM: return "redeem";
    }
    return "?";
}

static vm_outcome vm_error(vm_state *s, perk_status status, const char *what)
{
    s->ctx->status = ctx_fail(s->ctx, status, "%s %s, instruction %u: %s", block_kind_name(s->kind),
                              owner_name(s), s->pc, what);
    return VM_ERROR;
}

/* An error already reported by an action or by loyalty code: add where it happened. */
static vm_outcome vm_forward(vm_state *s, perk_status status)
{
    char inner[sizeof s->ctx->error];
    memcpy(inner, s->ctx->error, sizeof inner);
    s->ctx->status = ctx_fail(s->ctx, status, "%s %s, instruction %u: %s", block_kind_name(s->kind),
                              owner_name(s), s->pc, inner);
    return VM_ERROR;
}

/* Copies a line set. Most carts fit in one word: a store, not a call to memcpy. */
static inline void copy_set(uint64_t *dst, const uint64_t *src, uint32_t words)
{
    if (words == 1)
        dst[0] = src[0];
    else
        memcpy(dst, src, words * sizeof(uint64_t));
}

static inline uint64_t *set_slot(const vm_state *s, uint32_t k)
{
    return s->ctx->sets + (size_t)k * s->ctx->max_words;
}

static void record_cmp(perk_context *ctx, int64_t observed, int64_t expected, int op)
{
    ctx->has_cmp = true;
    ctx->cmp_observed = observed;
    ctx->cmp_expected = expected;
    ctx->cmp_op = op;
}

static void record_failure(perk_context *ctx, uint32_t cond, bool soft, bool unknown)
{
    if (ctx->n_failures++ == 0) {
        ctx->fail_cond = cond;
        /* an unknown condition names the fact that made it so (the last unknown one read) */
        ctx->fail_unknown = unknown ? ctx->unk_source : UINT32_MAX;
        ctx->fail_soft = soft;
        ctx->fail_has_cmp = ctx->has_cmp;
        ctx->fail_observed = ctx->cmp_observed;
        ctx->fail_expected = ctx->cmp_expected;
        ctx->fail_op = ctx->cmp_op;
    }
}

static int64_t sid(uint32_t id) { return id == PROG_NONE ? -1 : (int64_t)id; }

/* The value of a numeric or id field of line i. `agg`: an aggregate reads original amounts in a
 * rule that measures original prices. *known = false for an unknown margin. */
static inline int64_t field_value(const perk_context *ctx, uint32_t field, uint32_t i, bool agg, bool *known)
{
    switch (field) {
    case PERK_FIELD_PRICE: return ctx->price[i];
    case PERK_FIELD_QUANTITY: return ctx->qty[i];
    case PERK_FIELD_AMOUNT: return agg && ctx->rule_original ? ctx->orig[i] : act_amount(ctx, i);
    case PERK_FIELD_ORIGINAL_AMOUNT: return ctx->orig[i];
    case PERK_FIELD_MARGIN: *known = ctx->margin[i] >= 0; return ctx->margin[i];
    case PERK_FIELD_SKU: return sid(ctx->sku_id[i]);
    case PERK_FIELD_BRAND: return sid(ctx->brand_id[i]);
    case PERK_FIELD_CATEGORY: return sid(ctx->cat_id[i]);
    case PERK_FIELD_STORE:
        *known = ctx->store_id[i] != CTX_STORE_MISSING;
        return sid(ctx->store_id[i]);
    case PERK_FIELD_DISCOUNTED: return ctx->cur[i] < ctx->orig[i]; /* by earlier promotions only */
    default: *known = false; return 0;
    }
}

/* SET_CMP: lines whose field compares to x. */
static void set_cmp(const vm_state *s, uint64_t *out, uint32_t field, int op, int64_t x)
{
    const perk_context *ctx = s->ctx;
    uint32_t n = ctx->n_lines;
    if (x == PERK_UNKNOWN) {
        /* a comparison with an unknown value holds for no line, whatever the operator */
        memset(out, 0, s->words * sizeof(uint64_t));
        return;
    }
    if (field == PERK_FIELD_TAGS) {
        /* tags = "x": lines carrying the tag; tags != "x": the others; no order on tags */
        uint32_t slot = PROG_NONE;
        if (x >= 0 && x < (int64_t)s->d->n_strings) slot = ctx->cidx_map[CIDX_TAG][x];
        for (uint32_t w = 0; w < s->words; w++) {
            uint64_t bits = slot != PROG_NONE ? cidx_bits(ctx, slot)[w] : 0;
            if (op == PERK_CMP_NE)
                bits = ~bits & ctx->all_lines[w];
            else if (op != PERK_CMP_EQ)
                bits = 0;
            out[w] = bits;
        }
        return;
    }
    for (uint32_t w = 0; w < s->words; w++) {
        uint64_t bits = 0;
        uint32_t base = w * 64, end = n - base < 64 ? n - base : 64;
        for (uint32_t j = 0; j < end; j++) {
            bool known = true;
            int64_t v = field_value(ctx, field, base + j, false, &known);
            if (known && perk_cmp_holds(op, v, x)) bits |= UINT64_C(1) << j;
        }
        out[w] = bits;
    }
}

typedef enum { AGG_OK, AGG_OVERFLOW } agg_status;

/* SUM, MIN, MAX over a set with a line whose field is unknown (a margin) is unknown: the minimum
 * of 5% and an unknown margin is not 5%. COUNT reads quantities, always known. */
static agg_status aggregate(const vm_state *s, const uint64_t *set, uint8_t op, uint32_t field, int64_t *out)
{
    const perk_context *ctx = s->ctx;
    int64_t acc = 0;
    bool any = false;
    for (uint32_t w = 0; w < s->words; w++) {
        uint64_t bits = set[w];
        while (bits != 0) {
            uint32_t i = w * 64 + (uint32_t)__builtin_ctzll(bits);
            bits &= bits - 1;
            bool known = true;
            int64_t v = op == PERK_OP_AGG_COUNT ? ctx->qty[i] : field_value(ctx, field, i, true, &known);
            if (!known) {
                *out = PERK_UNKNOWN;
                return AGG_OK;
            }
            if (op == PERK_OP_AGG_SUM || op == PERK_OP_AGG_COUNT) {
                if (__builtin_add_overflow(acc, v, &acc)) return AGG_OVERFLOW;
            } else if (!any || (op == PERK_OP_AGG_MIN ? v < acc : v > acc)) {
                acc = v;
            }
            any = true;
        }
    }
    *out = acc;
    return AGG_OK;
}

static bool bit_test(const uint64_t *bits, uint32_t n, int64_t id)
{
    if (id < 0 || id >= (int64_t)n) return false;
    return (bits[id / 64] >> (id % 64)) & 1;
}

vm_outcome vm_run(perk_context *ctx, prog_block block, vm_block_kind kind, uint32_t owner)
{
    const prog_data *d = ctx->d;
    vm_state s = { ctx, d, kind, owner, block.start, 0, 0, vm_words(ctx) };
    const uint32_t end = block.start + block.count;
    /* a promotion's sets leave out the lines an earlier promotion consumed (`consumes`);
     * loyalty blocks see every line */
    const uint64_t *live = kind == VM_BLOCK_RULE ? ctx->live : ctx->all_lines;
    const uint64_t budget = ctx->limits.instruction_budget;
    int64_t *st = ctx->stack;
    ctx->has_cmp = false;
    ctx->n_failures = 0;
    ctx->fail_cond = UINT32_MAX;
    ctx->fail_unknown = ctx->unk_source = UINT32_MAX;
    if (end > d->n_code || end < block.start) return vm_error(&s, PERK_MALFORMED, "block outside the code");
    if (ctx->bundle_parts > 0) act_bundle_reset(ctx); /* a bundle's parts from a block that ended early */

/* stack guards: a verified program never trips them */
#define NEED(ns, nl)                                                \
    do {                                                            \
        if ((int64_t)s.sp < (ns) || (int64_t)s.ssp < (nl))          \
            return vm_error(&s, PERK_MALFORMED, "stack underflow"); \
    } while (0)
#define ROOM(ns, nl)                                               \
    do {                                                           \
        if ((int64_t)s.sp + (ns) > (int64_t)ctx->max_scalars ||    \
            (int64_t)s.ssp + (nl) > (int64_t)ctx->max_sets)        \
            return vm_error(&s, PERK_MALFORMED, "stack overflow"); \
    } while (0)
#define ARG_BELOW(n)                                                                     \
    do {                                                                                 \
        if (in->arg >= (n)) return vm_error(&s, PERK_MALFORMED, "operand out of range"); \
    } while (0)
#define TOP st[s.sp - 1]

    while (s.pc < end) {
        const prog_insn *in = &d->code[s.pc];
        if (++ctx->insn_count > budget) {
            return vm_error(&s, PERK_BUDGET, "instruction budget exhausted");
        }
        uint32_t next = s.pc + 1;
        if (in->op >= PERK_OP_COUNT) return vm_error(&s, PERK_MALFORMED, "unknown opcode");
        switch ((perk_opcode)in->op) { /* no default: a new opcode is a compile error until handled */
        case PERK_OP_PUSH_INT:
            ARG_BELOW(d->n_ints);
            ROOM(1, 0);
            st[s.sp++] = d->ints[in->arg];
            break;
        case PERK_OP_PUSH_IMM:
            ROOM(1, 0);
            st[s.sp++] = (int32_t)in->arg;
            break;
        case PERK_OP_PUSH_STR:
            ARG_BELOW(d->n_strings);
            ROOM(1, 0);
            st[s.sp++] = in->arg;
            break;
        case PERK_OP_LOAD_FACT:
            ARG_BELOW(PERK_FACT_COUNT);
            ROOM(1, 0);
            st[s.sp++] = facts_load(ctx, in->arg);
            if (TOP == PERK_UNKNOWN) ctx->unk_source = in->arg;
            break;
        case PERK_OP_ORDER_ATTR:
            ARG_BELOW(d->n_strings);
            ROOM(1, 0);
            st[s.sp++] = facts_order_attr(ctx, in->arg);
            if (TOP == PERK_UNKNOWN) ctx->unk_source = PERK_FACT_ORDER_ATTR;
            break;
        case PERK_OP_POP:
            NEED(1, 0);
            s.sp--;
            break;
        case PERK_OP_ADD:
        case PERK_OP_SUB:
        case PERK_OP_MUL:
        case PERK_OP_DIV:
        case PERK_OP_MOD:
        case PERK_OP_PERCENT_OF: {
            NEED(2, 0);
            int64_t b = st[--s.sp], a = TOP, r = 0;
            switch (vm_arith(in->op, a, b, d->rounding, &r)) {
            case VM_ARITH_OK: break;
            case VM_ARITH_OVERFLOW: return vm_error(&s, PERK_OVERFLOW, "arithmetic overflow");
            case VM_ARITH_DIV_ZERO: return vm_error(&s, PERK_OVERFLOW, "division by zero");
            case VM_ARITH_MOD_ZERO: return vm_error(&s, PERK_OVERFLOW, "remainder of a division by zero");
            }
            TOP = r;
            break;
        }
        case PERK_OP_NEG:
            NEED(1, 0);
            if (!vm_neg(TOP, &TOP)) return vm_error(&s, PERK_OVERFLOW, "arithmetic overflow");
            break;
        case PERK_OP_EQ:
        case PERK_OP_NE:
        case PERK_OP_LT:
        case PERK_OP_LE:
        case PERK_OP_GT:
        case PERK_OP_GE: {
            NEED(2, 0);
            int op = perk_cmp_of_opcode(in->op);
            int64_t b = st[--s.sp], a = TOP;
            record_cmp(ctx, a, b, op);
            TOP = a == PERK_UNKNOWN || b == PERK_UNKNOWN ? PERK_UNKNOWN : perk_cmp_holds(op, a, b);
            break;
        }
        case PERK_OP_IN_RANGE: {
            NEED(3, 0);
            int64_t hi = st[--s.sp], lo = st[--s.sp], x = TOP;
            if (x > hi)
                record_cmp(ctx, x, hi, PERK_CMP_LE);
            else
                record_cmp(ctx, x, lo, PERK_CMP_GE);
            TOP = x == PERK_UNKNOWN || lo == PERK_UNKNOWN || hi == PERK_UNKNOWN ? PERK_UNKNOWN
                                                                                : lo <= x && x <= hi;
            break;
        }
        case PERK_OP_IN_MASK:
            NEED(1, 0);
            if (TOP != PERK_UNKNOWN) TOP = vm_in_mask(in->arg, TOP);
            break;
        case PERK_OP_IN_STRSET:
            ARG_BELOW(d->n_strsets);
            NEED(1, 0);
            {
                int has = vm_strset_contains(d, in->arg, TOP);
                if (has < 0) return vm_error(&s, PERK_MALFORMED, "string set outside the pool");
                if (TOP != PERK_UNKNOWN) TOP = has;
                break;
            }
        case PERK_OP_NOT:
            NEED(1, 0);
            TOP = vm_not3(TOP);
            if (ctx->has_cmp) ctx->cmp_op = perk_cmp_negate(ctx->cmp_op);
            break;
        case PERK_OP_CUSTOMER_TAG:
            ROOM(1, 0);
            st[s.sp++] = bit_test(ctx->customer_tag_bits, d->n_strings, in->arg);
            break;
        case PERK_OP_COUPON:
            ROOM(1, 0);
            st[s.sp++] = bit_test(ctx->coupon_code_bits, d->n_strings, in->arg);
            break;
        case PERK_OP_COUPON_FROM:
            ROOM(1, 0);
            st[s.sp++] = bit_test(ctx->coupon_campaign_bits, d->n_strings, in->arg);
            break;
        case PERK_OP_JUMP:
            if (in->arg <= s.pc || in->arg > end) return vm_error(&s, PERK_MALFORMED, "bad jump");
            next = in->arg;
            break;
        case PERK_OP_JUMP_IF_FALSE:
        case PERK_OP_JUMP_IF_TRUE: {
            NEED(1, 0);
            if (in->arg <= s.pc || in->arg > end) return vm_error(&s, PERK_MALFORMED, "bad jump");
            /* short circuit: false decides an `and`, true an `or`; otherwise (true, or unknown,
             * for an `and`) the value stays for the AND / OR after the right operand */
            bool jump = in->op == PERK_OP_JUMP_IF_TRUE ? TOP != 0 && TOP != PERK_UNKNOWN : TOP == 0;
            if (jump) next = in->arg;
            break;
        }
        case PERK_OP_AND:
        case PERK_OP_OR: {
            NEED(2, 0);
            int64_t b = st[--s.sp];
            TOP = in->op == PERK_OP_AND ? vm_and3(TOP, b) : vm_or3(TOP, b);
            break;
        }
        case PERK_OP_KNOWN:
            NEED(1, 0);
            TOP = TOP != PERK_UNKNOWN;
            break;
        case PERK_OP_REQUIRE:
        case PERK_OP_REQUIRE_SOFT: {
            NEED(1, 0);
            ARG_BELOW(d->n_conds);
            int64_t v = st[--s.sp];
            if (v == 0 || v == PERK_UNKNOWN) { /* a condition holds only when it is true */
                record_failure(ctx, in->arg, in->op == PERK_OP_REQUIRE_SOFT, v == PERK_UNKNOWN);
                if (in->op == PERK_OP_REQUIRE) return VM_FAILED;
            }
            ctx->has_cmp = false;
            ctx->unk_source = UINT32_MAX;
            break;
        }
        case PERK_OP_CHECK:
            if (ctx->n_failures > 0) return VM_FAILED;
            break;
        case PERK_OP_REQUIRE_TARGET:
            /* the cart has no line the promotion's actions could touch: it ends here having
             * applied nothing (the verifier puts this before every condition and action) */
            if (kind != VM_BLOCK_RULE)
                return vm_error(&s, PERK_MALFORMED, "REQUIRE_TARGET outside a promotion");
            NEED(1, 0);
            if (st[--s.sp] == 0 || st[s.sp] == PERK_UNKNOWN)
                return ctx->n_failures > 0 ? VM_FAILED : VM_PASSED;
            break;
        case PERK_OP_SET_ALL:
            ROOM(0, 1);
            copy_set(set_slot(&s, s.ssp++), live, s.words);
            break;
        case PERK_OP_SET_CATEGORY:
        case PERK_OP_SET_CATEGORY_IS:
        case PERK_OP_SET_TAG:
        case PERK_OP_SET_BRAND:
        case PERK_OP_SET_SKU:
        case PERK_OP_SET_ATTR: {
            ROOM(0, 1);
            uint32_t slot;
            if (in->op == PERK_OP_SET_ATTR) {
                ARG_BELOW(d->n_attrs);
                slot = ctx->attr_slot[in->arg];
            } else {
                ARG_BELOW(d->n_strings);
                int k = in->op == PERK_OP_SET_CATEGORY      ? CIDX_CAT_PREFIX
                        : in->op == PERK_OP_SET_CATEGORY_IS ? CIDX_CAT_EXACT
                        : in->op == PERK_OP_SET_TAG         ? CIDX_TAG
                        : in->op == PERK_OP_SET_BRAND       ? CIDX_BRAND
                                                            : CIDX_SKU;
                slot = ctx->cidx_map[k][in->arg];
            }
            uint64_t *out = set_slot(&s, s.ssp++);
            if (slot == PROG_NONE)
                memset(out, 0, s.words * sizeof(uint64_t));
            else
                for (uint32_t w = 0; w < s.words; w++) out[w] = cidx_bits(ctx, slot)[w] & live[w];
            break;
        }
        case PERK_OP_SET_CMP: {
            ARG_BELOW(PERK_FIELD_COUNT);
            NEED(1, 0);
            ROOM(0, 1);
            int64_t x = st[--s.sp];
            uint64_t *out = set_slot(&s, s.ssp++);
            set_cmp(&s, out, in->arg, in->aux, x);
            for (uint32_t w = 0; w < s.words; w++) out[w] &= live[w];
            break;
        }
        case PERK_OP_SET_AND:
        case PERK_OP_SET_OR:
        case PERK_OP_SET_DIFF: {
            NEED(0, 2);
            const uint64_t *b = set_slot(&s, --s.ssp);
            uint64_t *a = set_slot(&s, s.ssp - 1);
            if (in->op == PERK_OP_SET_AND)
                for (uint32_t w = 0; w < s.words; w++) a[w] &= b[w];
            else if (in->op == PERK_OP_SET_OR)
                for (uint32_t w = 0; w < s.words; w++) a[w] |= b[w];
            else
                for (uint32_t w = 0; w < s.words; w++) a[w] &= ~b[w];
            break;
        }
        case PERK_OP_SET_NOT: {
            NEED(0, 1);
            uint64_t *a = set_slot(&s, s.ssp - 1);
            for (uint32_t w = 0; w < s.words; w++) a[w] = ~a[w] & live[w];
            break;
        }
        case PERK_OP_AGG_SUM:
        case PERK_OP_AGG_MIN:
        case PERK_OP_AGG_MAX:
        case PERK_OP_AGG_COUNT: {
            NEED(0, 1);
            ROOM(1, 0);
            if (in->op != PERK_OP_AGG_COUNT && !vm_field_is_numeric(in->arg))
                return vm_error(&s, PERK_MALFORMED, "aggregate of a non-numeric field");
            int64_t v;
            if (aggregate(&s, set_slot(&s, --s.ssp), in->op, in->arg, &v) != AGG_OK)
                return vm_error(&s, PERK_OVERFLOW, "arithmetic overflow in an aggregate");
            if (v == PERK_UNKNOWN) ctx->unk_source = VM_UNKNOWN_FIELD(in->arg);
            st[s.sp++] = v;
            break;
        }
        case PERK_OP_AGG_ANY: {
            NEED(0, 1);
            ROOM(1, 0);
            const uint64_t *a = set_slot(&s, --s.ssp);
            uint64_t any = 0;
            for (uint32_t w = 0; w < s.words; w++) any |= a[w];
            st[s.sp++] = any != 0;
            break;
        }
        case PERK_OP_AGG_SUBSET: {
            NEED(0, 2);
            ROOM(1, 0);
            const uint64_t *b = set_slot(&s, --s.ssp);
            const uint64_t *a = set_slot(&s, --s.ssp);
            uint64_t extra = 0;
            for (uint32_t w = 0; w < s.words; w++) extra |= a[w] & ~b[w];
            st[s.sp++] = extra == 0;
            break;
        }
        case PERK_OP_APPLY:
        case PERK_OP_APPLY2: {
            if (kind != VM_BLOCK_RULE) return vm_error(&s, PERK_MALFORMED, "APPLY outside a promotion");
            ARG_BELOW(d->n_actions);
            bool two = in->op == PERK_OP_APPLY2;
            NEED(0, two ? 2u : 1u);
            const uint64_t *second = two ? set_slot(&s, --s.ssp) : NULL;
            const uint64_t *first = set_slot(&s, --s.ssp);
            /* the lines a goods action reads, consumed if the promotion `consumes` and applies
             * (gifts, effects and shipping read none: their set is not the lines they use) */
            const prog_action_info *info = prog_action_info_of(d->actions[in->arg].kind);
            if (info != NULL && info->goods)
                for (uint32_t w = 0; w < s.words; w++) ctx->used[w] |= first[w] | (second ? second[w] : 0);
            perk_status rc = act_apply(ctx, in->arg, first, second);
            if (rc != PERK_OK) return vm_forward(&s, rc);
            break;
        }
        case PERK_OP_BUNDLE_PART: {
            if (kind != VM_BLOCK_RULE) return vm_error(&s, PERK_MALFORMED, "BUNDLE_PART outside a promotion");
            ARG_BELOW(d->n_actions);
            NEED(0, 1);
            perk_status rc = act_bundle_part(ctx, in->arg, set_slot(&s, --s.ssp));
            if (rc != PERK_OK) return vm_forward(&s, rc);
            break;
        }
        case PERK_OP_EARN: {
            if (kind != VM_BLOCK_EARN) return vm_error(&s, PERK_MALFORMED, "EARN outside an earn rule");
            ARG_BELOW(d->n_earns);
            NEED(0, 1);
            perk_status rc = loyalty_earn(ctx, in->arg, set_slot(&s, --s.ssp));
            if (rc != PERK_OK) return vm_forward(&s, rc);
            break;
        }
        case PERK_OP_MULTIPLY:
            if (kind != VM_BLOCK_MULT) return vm_error(&s, PERK_MALFORMED, "MULTIPLY outside a multiplier");
            ARG_BELOW(d->n_mults);
            ctx->mult_active[in->arg] = true;
            break;
        case PERK_OP_END: return ctx->n_failures > 0 ? VM_FAILED : VM_PASSED;
        case PERK_OP_COUNT: return vm_error(&s, PERK_MALFORMED, "unknown opcode");
        }
        s.pc = next;
    }
    return vm_error(&s, PERK_MALFORMED, "block ends without END");
#undef NEED
#undef ROOM
#undef ARG_BELOW
#undef TOP
}

vm_outcome vm_run_uncounted(perk_context *ctx, prog_block block, vm_block_kind kind, uint32_t owner)
{
    uint64_t counted = ctx->insn_count, budget = ctx->limits.instruction_budget;
    ctx->insn_count = 0;
    ctx->limits.instruction_budget = UINT64_MAX; /* uncounted, so not limited either */
    vm_outcome o = vm_run(ctx, block, kind, owner);
    ctx->insn_count = counted;
    ctx->limits.instruction_budget = budget;
    return o;
}
