/* vm_ops.h - what an opcode computes, defined once for the VM (vm.c) and the guard prover
 * (guard.c).
 *
 * The guard proves that a block ends the same way on every cart without some string by running
 * it on known values; that proof is only sound if it computes exactly what the VM computes. So
 * the checked arithmetic, the membership tests and the "is this field numeric" rule live here,
 * as static inline functions both files call, rather than as two copies that could drift.
 */
#ifndef PERK_VM_OPS_H
#define PERK_VM_OPS_H

#include <stdbool.h>
#include <stdint.h>

#include "facts.h"
#include "money.h"
#include "opcodes.h"
#include "program.h"

/* How a binary arithmetic opcode ended. The VM reports each failure with its own message; the
 * guard treats them all as "the VM fails here", which ends a proof. */
typedef enum vm_arith_status {
    VM_ARITH_OK,
    VM_ARITH_OVERFLOW, /* the result does not fit in int64 */
    VM_ARITH_DIV_ZERO, /* DIV by 0 */
    VM_ARITH_MOD_ZERO  /* MOD by 0 */
} vm_arith_status;

/* ADD, SUB, MUL, DIV, MOD, PERCENT_OF on a, b (b popped first): *out on VM_ARITH_OK. `rounding`
 * is the ruleset's (PERCENT_OF). Any other opcode is VM_ARITH_OVERFLOW. An unknown operand gives
 * unknown (even over 0: unknown / 0 is unknown, not an error); a result of INT64_MIN is an
 * overflow, so that arithmetic never makes PERK_UNKNOWN out of known values. */
static inline vm_arith_status vm_arith(uint8_t op, int64_t a, int64_t b, uint8_t rounding, int64_t *out)
{
    bool over;
    int64_t r = 0;
    if (a == PERK_UNKNOWN || b == PERK_UNKNOWN) {
        *out = PERK_UNKNOWN;
        return VM_ARITH_OK;
    }
    switch ((perk_opcode)op) {
    case PERK_OP_ADD: over = __builtin_add_overflow(a, b, &r); break;
    case PERK_OP_SUB: over = __builtin_sub_overflow(a, b, &r); break;
    case PERK_OP_MUL: over = __builtin_mul_overflow(a, b, &r); break;
    case PERK_OP_DIV:
        if (b == 0) return VM_ARITH_DIV_ZERO;
        over = a == INT64_MIN && b == -1;
        if (!over) r = a / b;
        break;
    case PERK_OP_MOD:
        if (b == 0) return VM_ARITH_MOD_ZERO;
        over = a == INT64_MIN && b == -1;
        if (!over) r = a % b;
        break;
    case PERK_OP_PERCENT_OF: over = !money_percent(a, b, (money_rounding)rounding, &r); break;
    default: return VM_ARITH_OVERFLOW; /* not an arithmetic opcode: callers only pass the six */
    }
    if (over || r == PERK_UNKNOWN) return VM_ARITH_OVERFLOW;
    *out = r;
    return VM_ARITH_OK;
}

/* NEG: -a, unknown for unknown (INT64_MIN is PERK_UNKNOWN, so every known a negates). */
static inline bool vm_neg(int64_t a, int64_t *out)
{
    *out = a == PERK_UNKNOWN ? PERK_UNKNOWN : -a;
    return true;
}

/* Kleene's three-valued and / or / not over 0, 1 and PERK_UNKNOWN (any other non-zero is true). */
static inline int64_t vm_and3(int64_t a, int64_t b)
{
    if (a == 0 || b == 0) return 0;
    return a == PERK_UNKNOWN || b == PERK_UNKNOWN ? PERK_UNKNOWN : 1;
}
static inline int64_t vm_or3(int64_t a, int64_t b)
{
    if ((a != 0 && a != PERK_UNKNOWN) || (b != 0 && b != PERK_UNKNOWN)) return 1;
    return a == PERK_UNKNOWN || b == PERK_UNKNOWN ? PERK_UNKNOWN : 0;
}
static inline int64_t vm_not3(int64_t a) { return a == PERK_UNKNOWN ? PERK_UNKNOWN : a == 0; }

/* IN_MASK: bit x of mask. */
static inline bool vm_in_mask(uint32_t mask, int64_t x) { return x >= 0 && x < 32 && ((mask >> x) & 1u); }

/* IN_STRSET: whether string id x is in constant set `set` (ids sorted ascending). Returns 1 or 0,
 * or -1 when the set lies outside the u32 pool (an unverified program). `set` must be
 * < p->n_strsets. */
static inline int vm_strset_contains(const prog_data *p, uint32_t set, int64_t x)
{
    uint64_t off = p->strset_off[set], len = p->strset_len[set];
    if (off + len > p->n_u32) return -1;
    if (x < 0 || x > UINT32_MAX) return 0;
    uint32_t lo = (uint32_t)off, hi = (uint32_t)(off + len);
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (p->u32[mid] < (uint32_t)x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < off + len && p->u32[lo] == (uint32_t)x;
}

/* Whether item field `field` is a number (AGG_SUM/MIN/MAX need one): the MONEY, INT and PERCENT
 * columns of PERK_ITEM_FIELD_LIST. */
#define VM_NUMERIC_STRING 0
#define VM_NUMERIC_CATEGORY 0
#define VM_NUMERIC_STRING_SET 0
#define VM_NUMERIC_MONEY 1
#define VM_NUMERIC_INT 1
#define VM_NUMERIC_PERCENT 1
#define VM_NUMERIC_BOOL 0
static inline bool vm_field_is_numeric(uint32_t field)
{
    static const bool numeric[PERK_FIELD_COUNT] = {
#define VM_FIELD_NUMERIC(id, name, type) [PERK_FIELD_##id] = VM_NUMERIC_##type,
        PERK_ITEM_FIELD_LIST(VM_FIELD_NUMERIC)
#undef VM_FIELD_NUMERIC
    };
    return field < PERK_FIELD_COUNT && numeric[field];
}

#endif
