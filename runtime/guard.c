/* guard.c - symbolic runs of a promotion's block under "no line matches this string" (guard.h).
 *
 * The run mirrors vm_run (runtime/vm.c) with abstract values:
 *   - a scalar is known (an int64) or unknown;
 *   - a line set is "empty" (proved empty by the assumption) or unknown;
 *   - the last comparison is none, known (observed, expected, op) or unknown.
 * Known values are computed exactly as the VM computes them (the same functions, vm_ops.h); an
 * unknown value only ever flows into results that are unknown. Control flow must stay known: a jump or a REQUIRE on an unknown value ends the proof. So does any instruction
 * the VM could fail on with some cart (unknown arithmetic, sums and counts of unknown sets,
 * operands out of range): on a cart where the VM would fail, the outcome would not be the one
 * recorded. An action is allowed only on a proved-empty set, and only for the kinds that add
 * nothing then (runtime/vm_actions.c, checked kind by kind below).
 *
 * Why the proof is sound: "no line matches (kind, s)" is exactly "the opcode of that kind with
 * operand s pushes the empty set", because the VM copies that opcode's bitset from the cart
 * index slot of (kind, s), and that slot is what the rule index tests (runtime/evaluate.c).
 * Given that, every value the run calls known is the value the VM computes on any such cart, so
 * the VM takes the same path through the same instructions and ends the same way.
 */
#include "guard.h"

#include <string.h>

#include "facts.h"
#include "opcodes.h"
#include "vm_ops.h"

/* The verifier's stack limits (verify.h); a deeper stack ends the proof. */
#define GUARD_MAX_SCALARS 64u
#define GUARD_MAX_SETS 32u

typedef struct gscalar {
    int64_t v;
    bool known;
} gscalar;

typedef enum { GCMP_NONE, GCMP_KNOWN, GCMP_UNKNOWN } gcmp_state;

uint8_t guard_opcode(uint8_t kind)
{
    switch (kind) {
    case PROG_GUARD_SKU: return PERK_OP_SET_SKU;
    case PROG_GUARD_BRAND: return PERK_OP_SET_BRAND;
    case PROG_GUARD_CATEGORY: return PERK_OP_SET_CATEGORY;
    case PROG_GUARD_CATEGORY_IS: return PERK_OP_SET_CATEGORY_IS;
    case PROG_GUARD_TAG: return PERK_OP_SET_TAG;
    default: return PERK_OP_COUNT;
    }
}

const char *guard_kind_name(uint8_t kind)
{
    switch (kind) {
    case PROG_GUARD_SKU: return "sku";
    case PROG_GUARD_BRAND: return "brand";
    case PROG_GUARD_CATEGORY: return "category";
    case PROG_GUARD_CATEGORY_IS: return "category is";
    case PROG_GUARD_TAG: return "tag";
    default: return "?";
    }
}

static uint8_t guard_kind_of_opcode(uint8_t op)
{
    switch (op) {
    case PERK_OP_SET_SKU: return PROG_GUARD_SKU;
    case PERK_OP_SET_BRAND: return PROG_GUARD_BRAND;
    case PERK_OP_SET_CATEGORY: return PROG_GUARD_CATEGORY;
    case PERK_OP_SET_CATEGORY_IS: return PROG_GUARD_CATEGORY_IS;
    case PERK_OP_SET_TAG: return PROG_GUARD_TAG;
    default: return PROG_GUARD_NONE;
    }
}

/* True when applying action `a` to proved-empty line sets adds nothing and cannot fail
 * (act_apply in vm_actions.c, case by case):
 *   PERCENT_OFF   total 0: percent(0, p0) = 0, nothing to allocate;
 *   AMOUNT_OFF    clamp(p0, 0, total 0) = 0;
 *   AMOUNT_OFF_EACH, FIXED_PRICE, QTY_PRICE   a loop over no lines;
 *   TIERS         the measure is 0; a step may match (threshold 0) but its discount is clamped
 *                 to the total 0 (percent(0, v) = 0 for a percent step);
 *   EVERY         floor(0 / p0) = 0 (p0 >= 1 checked, else the VM returns at once);
 *   N_FOR         0 units, 0 groups;
 *   BUY_GET       (APPLY2) with the reward set empty no unit can be rewarded; with only the
 *                 buy set empty the sets differ, k = floor(0 / p0) = 0.
 * GIFT, FREE_SHIPPING, SHIPPING_OFF and EFFECT act without lines: never allowed. Each kind
 * names its case in the `empty` column of actions.h. The checks act_apply makes before the kind
 * (steps in range, APPLY2 exactly for two-set kinds) are repeated so that a malformed action,
 * which the VM would report as an error, ends the proof instead. */
static bool action_adds_nothing(const prog_data *p, uint32_t rule, uint32_t idx, bool two, bool first_empty,
                                bool second_empty)
{
    if (idx >= p->n_actions) return false;
    const prog_action *a = &p->actions[idx];
    if (a->rule != rule) return false;
    if (a->n_steps > 0 && (a->steps > p->n_steps || a->n_steps > p->n_steps - a->steps)) return false;
    const prog_action_info *info = prog_action_info_of(a->kind);
    if (info == NULL || two != (info->sets == 2)) return false;
    switch (info->empty) {
    case PROG_EMPTY_NEVER: return false;
    case PROG_EMPTY_FIRST: return first_empty;
    case PROG_EMPTY_EITHER: return first_empty || second_empty; /* buy set (first), reward set (second) */
    }
    return false;
}

/* below = 0: `have` >= `bound` (enough values to pop); below = 1: `have` <= `bound` (room to
 * push). A function rather than an expression so that constant operands raise no warning. */
static bool has_room(uint32_t have, uint32_t bound, int below)
{
    return below ? have <= bound : have >= bound;
}

/* True when the line-set opcode `op` with operand `arg` pushes one of the assumed-empty sets. */
static bool assumed_empty(const guard_key *keys, uint32_t n_keys, uint8_t op, uint32_t arg)
{
    for (uint32_t k = 0; k < n_keys; k++)
        if (guard_opcode(keys[k].kind) == op && keys[k].string == arg) return true;
    return false;
}

bool guard_eval(const prog_data *p, uint32_t rule, uint8_t kind, uint32_t string, guard_outcome *out)
{
    guard_key key = { kind, string };
    return guard_eval_keys(p, rule, &key, 1, out);
}

bool guard_eval_keys(const prog_data *p, uint32_t rule, const guard_key *keys, uint32_t n_keys,
                     guard_outcome *out)
{
    if (p == NULL || rule >= p->n_rules || n_keys == 0 || n_keys > GUARD_MAX_KEYS) return false;
    for (uint32_t k = 0; k < n_keys; k++)
        if (guard_opcode(keys[k].kind) == PERK_OP_COUNT || keys[k].string >= p->n_strings) return false;
    const prog_rule *r = &p->rules[rule];
    uint64_t end = (uint64_t)r->code.start + r->code.count;
    if (r->code.count == 0 || end > p->n_code) return false;

    gscalar st[GUARD_MAX_SCALARS];
    bool empty[GUARD_MAX_SETS];
    uint32_t sp = 0, ssp = 0;
    gcmp_state cmp = GCMP_NONE;
    int64_t cmp_obs = 0, cmp_exp = 0;
    int cmp_op = PERK_CMP_EQ;
    guard_outcome o = { false, PROG_NONE, 0, false, false, PERK_CMP_EQ, 0, 0 };

/* Stack discipline: anything a verified program cannot do ends the proof. */
#define NEED(ns, nl)                                                         \
    do {                                                                     \
        if (!has_room(sp, (ns), 0) || !has_room(ssp, (nl), 0)) return false; \
    } while (0)
#define ROOM(ns, nl)                                                                                \
    do {                                                                                            \
        if (!has_room(sp + (ns), GUARD_MAX_SCALARS, 1) || !has_room(ssp + (nl), GUARD_MAX_SETS, 1)) \
            return false;                                                                           \
    } while (0)
#define PUSH_KNOWN(x) (st[sp].v = (x), st[sp].known = true, sp++)
#define PUSH_UNKNOWN() (st[sp].v = 0, st[sp].known = false, sp++)

    for (uint32_t pc = r->code.start; pc < end;) {
        const prog_insn *in = &p->code[pc];
        uint32_t next = pc + 1;
        if (in->op >= PERK_OP_COUNT) return false; /* an unknown opcode */
        switch ((perk_opcode)in->op) {             /* no default: a new opcode must say how it is proved */
        case PERK_OP_PUSH_INT:
            if (in->arg >= p->n_ints) return false;
            ROOM(1, 0);
            if (p->ints[in->arg] == PERK_UNKNOWN)
                PUSH_UNKNOWN(); /* the unknown constant: a proof over it would need Kleene cases */
            else
                PUSH_KNOWN(p->ints[in->arg]);
            break;
        case PERK_OP_PUSH_IMM:
            ROOM(1, 0);
            PUSH_KNOWN((int32_t)in->arg);
            break;
        case PERK_OP_PUSH_STR:
            if (in->arg >= p->n_strings) return false;
            ROOM(1, 0);
            PUSH_KNOWN((int64_t)in->arg);
            break;
        case PERK_OP_LOAD_FACT:
            if (in->arg >= PERK_FACT_COUNT) return false;
            ROOM(1, 0);
            PUSH_UNKNOWN();
            break;
        case PERK_OP_CUSTOMER_TAG:
        case PERK_OP_COUPON:
        case PERK_OP_COUPON_FROM:
        case PERK_OP_ORDER_ATTR:
            ROOM(1, 0);
            PUSH_UNKNOWN();
            break;
        case PERK_OP_POP:
            NEED(1, 0);
            sp--;
            break;
        case PERK_OP_ADD:
        case PERK_OP_SUB:
        case PERK_OP_MUL:
        case PERK_OP_DIV:
        case PERK_OP_MOD:
        case PERK_OP_PERCENT_OF: {
            NEED(2, 0);
            gscalar b = st[--sp], a = st[sp - 1];
            if (!a.known || !b.known) return false; /* the VM might overflow */
            int64_t x = 0;
            if (vm_arith(in->op, a.v, b.v, p->rounding, &x) != VM_ARITH_OK)
                return false; /* the VM fails here on every such cart: not a guard */
            st[sp - 1].v = x;
            break;
        }
        case PERK_OP_NEG:
            NEED(1, 0);
            if (!st[sp - 1].known || !vm_neg(st[sp - 1].v, &st[sp - 1].v)) return false;
            break;
        case PERK_OP_EQ:
        case PERK_OP_NE:
        case PERK_OP_LT:
        case PERK_OP_LE:
        case PERK_OP_GT:
        case PERK_OP_GE: {
            NEED(2, 0);
            int op = perk_cmp_of_opcode(in->op);
            gscalar b = st[--sp], a = st[sp - 1];
            if (a.known && b.known) {
                cmp = GCMP_KNOWN;
                cmp_obs = a.v;
                cmp_exp = b.v;
                cmp_op = op;
                st[sp - 1].v = perk_cmp_holds(op, a.v, b.v);
            } else {
                cmp = GCMP_UNKNOWN;
                st[sp - 1].known = false;
            }
            break;
        }
        case PERK_OP_IN_RANGE: {
            NEED(3, 0);
            gscalar hi = st[--sp], lo = st[--sp], x = st[sp - 1];
            if (x.known && lo.known && hi.known) {
                cmp = GCMP_KNOWN;
                cmp_obs = x.v;
                cmp_exp = x.v > hi.v ? hi.v : lo.v;
                cmp_op = x.v > hi.v ? PERK_CMP_LE : PERK_CMP_GE;
                st[sp - 1].v = lo.v <= x.v && x.v <= hi.v;
            } else {
                cmp = GCMP_UNKNOWN;
                st[sp - 1].known = false;
            }
            break;
        }
        case PERK_OP_IN_MASK:
            NEED(1, 0);
            if (st[sp - 1].known) st[sp - 1].v = vm_in_mask(in->arg, st[sp - 1].v);
            break;
        case PERK_OP_IN_STRSET: {
            if (in->arg >= p->n_strsets) return false;
            NEED(1, 0);
            int has = vm_strset_contains(p, in->arg, st[sp - 1].v);
            if (has < 0) return false;
            if (st[sp - 1].known) st[sp - 1].v = has;
            break;
        }
        case PERK_OP_NOT:
            NEED(1, 0);
            if (st[sp - 1].known) st[sp - 1].v = vm_not3(st[sp - 1].v);
            if (cmp == GCMP_KNOWN) cmp_op = perk_cmp_negate(cmp_op);
            break;
        case PERK_OP_JUMP:
            if (in->arg <= pc || in->arg >= end) return false;
            next = in->arg;
            break;
        case PERK_OP_JUMP_IF_FALSE:
        case PERK_OP_JUMP_IF_TRUE: {
            NEED(1, 0);
            if (in->arg <= pc || in->arg >= end || !st[sp - 1].known) return false;
            int64_t t = st[sp - 1].v; /* as the VM: the value stays either way */
            bool jump = in->op == PERK_OP_JUMP_IF_TRUE ? t != 0 && t != PERK_UNKNOWN : t == 0;
            if (jump) next = in->arg;
            break;
        }
        case PERK_OP_AND:
        case PERK_OP_OR: {
            NEED(2, 0);
            gscalar b = st[--sp], a = st[sp - 1];
            bool and = in->op == PERK_OP_AND;
            /* known when both are, or when a known operand decides (false for and, true for or) */
            bool a_decides = a.known && (and? a.v == 0 : (a.v != 0 && a.v != PERK_UNKNOWN));
            bool b_decides = b.known && (and? b.v == 0 : (b.v != 0 && b.v != PERK_UNKNOWN));
            if (a.known && b.known)
                st[sp - 1].v = and? vm_and3(a.v, b.v) : vm_or3(a.v, b.v);
            else if (a_decides || b_decides)
                st[sp - 1] = (gscalar){ .v = and? 0 : 1, .known = true };
            else
                st[sp - 1].known = false;
            break;
        }
        case PERK_OP_KNOWN:
            NEED(1, 0);
            if (st[sp - 1].known) st[sp - 1].v = st[sp - 1].v != PERK_UNKNOWN;
            break;
        case PERK_OP_REQUIRE:
        case PERK_OP_REQUIRE_SOFT: {
            NEED(1, 0);
            if (in->arg < r->first_cond || in->arg - r->first_cond >= r->n_conds || in->arg >= p->n_conds)
                return false;
            gscalar c = st[--sp];
            if (!c.known) return false;
            if (c.v == 0) {
                if (o.n_failures == 0) {
                    if (cmp == GCMP_UNKNOWN) return false; /* the reported comparison would vary */
                    o.cond = in->arg;
                    o.soft = in->op == PERK_OP_REQUIRE_SOFT;
                    o.has_cmp = cmp == GCMP_KNOWN;
                    if (o.has_cmp) {
                        o.observed = cmp_obs;
                        o.expected = cmp_exp;
                        o.cmp_op = cmp_op;
                    }
                }
                o.n_failures++;
                if (in->op == PERK_OP_REQUIRE) {
                    o.failed = true;
                    *out = o;
                    return true;
                }
            }
            cmp = GCMP_NONE;
            break;
        }
        case PERK_OP_REQUIRE_TARGET: {
            NEED(1, 0);
            gscalar t = st[--sp];
            if (!t.known) return false;
            if (t.v == 0) { /* the VM returns at once: failed only if a condition already had */
                o.failed = o.n_failures > 0;
                *out = o;
                return true;
            }
            break;
        }
        case PERK_OP_CHECK:
            if (o.n_failures > 0) {
                o.failed = true;
                *out = o;
                return true;
            }
            break;
        case PERK_OP_SET_ALL:
            ROOM(0, 1);
            empty[ssp++] = false;
            break;
        case PERK_OP_SET_CATEGORY:
        case PERK_OP_SET_CATEGORY_IS:
        case PERK_OP_SET_TAG:
        case PERK_OP_SET_BRAND:
        case PERK_OP_SET_SKU:
            if (in->arg >= p->n_strings) return false;
            ROOM(0, 1);
            empty[ssp++] = assumed_empty(keys, n_keys, in->op, in->arg); /* the assumption */
            break;
        case PERK_OP_SET_ATTR:
            if (in->arg >= p->n_attrs) return false;
            ROOM(0, 1);
            empty[ssp++] = false;
            break;
        case PERK_OP_SET_CMP:
            if (in->arg >= PERK_FIELD_COUNT) return false;
            NEED(1, 0);
            ROOM(0, 1);
            sp--;
            empty[ssp++] = false;
            break;
        case PERK_OP_SET_AND:
        case PERK_OP_SET_OR:
        case PERK_OP_SET_DIFF: {
            NEED(0, 2);
            bool b = empty[--ssp], a = empty[ssp - 1];
            empty[ssp - 1] = in->op == PERK_OP_SET_AND ? (a || b) : in->op == PERK_OP_SET_OR ? (a && b) : a;
            break;
        }
        case PERK_OP_SET_NOT:
            NEED(0, 1);
            empty[ssp - 1] = false; /* the complement of nothing is every line */
            break;
        case PERK_OP_AGG_SUM:
        case PERK_OP_AGG_MIN:
        case PERK_OP_AGG_MAX:
        case PERK_OP_AGG_COUNT: {
            NEED(0, 1);
            ROOM(1, 0);
            if (in->op != PERK_OP_AGG_COUNT && !vm_field_is_numeric(in->arg)) return false;
            bool e = empty[--ssp];
            if (e) {
                PUSH_KNOWN(0); /* a sum or count of no lines; MIN and MAX of no lines are 0 too */
            } else {
                if (in->op == PERK_OP_AGG_SUM || in->op == PERK_OP_AGG_COUNT) return false; /* may overflow */
                PUSH_UNKNOWN();
            }
            break;
        }
        case PERK_OP_AGG_ANY: {
            NEED(0, 1);
            ROOM(1, 0);
            bool e = empty[--ssp];
            if (e)
                PUSH_KNOWN(0);
            else
                PUSH_UNKNOWN();
            break;
        }
        case PERK_OP_AGG_SUBSET: {
            NEED(0, 2);
            ROOM(1, 0);
            ssp--;
            bool a_empty = empty[--ssp];
            if (a_empty)
                PUSH_KNOWN(1); /* no line of an empty set is outside b */
            else
                PUSH_UNKNOWN();
            break;
        }
        case PERK_OP_APPLY:
        case PERK_OP_APPLY2: {
            bool two = in->op == PERK_OP_APPLY2;
            NEED(0, two ? 2u : 1u);
            bool second = two ? empty[--ssp] : false;
            bool first = empty[--ssp];
            if (!action_adds_nothing(p, rule, in->arg, two, first, second)) return false;
            break;
        }
        case PERK_OP_BUNDLE_PART: /* marks a part; the bundle's APPLY decides (its `empty` is NEVER) */
            NEED(0, 1);
            ssp--;
            break;
        case PERK_OP_END:
            o.failed = o.n_failures > 0;
            *out = o;
            return true;
        case PERK_OP_EARN:
        case PERK_OP_MULTIPLY: /* not in a promotion */
        case PERK_OP_COUNT: return false;
        }
        pc = next;
    }
    return false; /* no END: the VM reports an error */
#undef NEED
#undef ROOM
#undef PUSH_KNOWN
#undef PUSH_UNKNOWN
}

bool guard_choose(const prog_data *p, uint32_t rule, uint8_t *kind, uint32_t *string, guard_outcome *out)
{
    *kind = PROG_GUARD_NONE;
    *string = PROG_NONE;
    if (p == NULL || rule >= p->n_rules) return false;
    const prog_rule *r = &p->rules[rule];
    uint64_t end = (uint64_t)r->code.start + r->code.count;
    if (end > p->n_code) return false;
    uint8_t tried_kind[GUARD_MAX_TRIES];
    uint32_t tried_string[GUARD_MAX_TRIES];
    uint32_t n_tried = 0;
    for (uint64_t pc = r->code.start; pc < end && n_tried < GUARD_MAX_TRIES; pc++) {
        const prog_insn *in = &p->code[pc];
        uint8_t k = guard_kind_of_opcode(in->op);
        if (k == PROG_GUARD_NONE || in->arg >= p->n_strings) continue;
        bool seen = false;
        for (uint32_t t = 0; t < n_tried && !seen; t++)
            seen = tried_kind[t] == k && tried_string[t] == in->arg;
        if (seen) continue;
        tried_kind[n_tried] = k;
        tried_string[n_tried++] = in->arg;
        if (guard_eval(p, rule, k, in->arg, out)) {
            *kind = k;
            *string = in->arg;
            return true;
        }
    }
    return false;
}

/* PUSH_IMM or PUSH_INT at pc: its value. */
static bool pushed_constant(const prog_data *p, uint32_t pc, int64_t *v)
{
    const prog_insn *in = &p->code[pc];
    if (in->op == PERK_OP_PUSH_IMM) {
        *v = (int32_t)in->arg;
        return true;
    }
    if (in->op == PERK_OP_PUSH_INT && in->arg < p->n_ints) {
        *v = p->ints[in->arg];
        return true;
    }
    return false;
}

/* The REQUIRE at pc: its condition, when it is a hard one of the block's conditions
 * [first_cond, first_cond + n_conds). */
static bool hard_require(const prog_data *p, uint32_t first_cond, uint32_t n_conds, uint32_t pc,
                         uint32_t *cond)
{
    const prog_insn *in = &p->code[pc];
    if (in->op != PERK_OP_REQUIRE || in->arg >= p->n_conds || in->arg < first_cond ||
        in->arg - first_cond >= n_conds)
        return false;
    *cond = in->arg;
    return true;
}

/* A precheck (guard.h) at code[start .. end) of a block whose conditions are [first_cond,
 * first_cond + n_conds); out->body is the instruction after its REQUIRE. */
static bool precheck_at(const prog_data *p, uint64_t start, uint64_t end, uint32_t first_cond,
                        uint32_t n_conds, guard_precheck *out)
{
    if (end - start < 3 || p->code[start].op != PERK_OP_LOAD_FACT || p->code[start].arg >= PERK_FACT_COUNT)
        return false;
    uint32_t pc = (uint32_t)start + 1;
    guard_precheck c = { PRECHECK_NONE, (uint8_t)p->code[start].arg, 0, PROG_NONE, 0, 0, 0 };
    const prog_insn *in = &p->code[pc];
    if (in->op == PERK_OP_IN_MASK) {
        c.kind = PRECHECK_MASK;
        c.a = in->arg;
        pc += 1;
    } else if (end - pc >= 3 && pushed_constant(p, pc, &c.a) && p->code[pc + 1].op >= PERK_OP_EQ &&
               p->code[pc + 1].op <= PERK_OP_GE) {
        c.kind = PRECHECK_CMP;
        c.op = (uint8_t)perk_cmp_of_opcode(p->code[pc + 1].op);
        pc += 2;
    } else if (end - pc >= 4 && pushed_constant(p, pc, &c.a) && pushed_constant(p, pc + 1, &c.b) &&
               p->code[pc + 2].op == PERK_OP_IN_RANGE) {
        c.kind = PRECHECK_RANGE;
        pc += 3;
    } else {
        return false;
    }
    if (pc >= end || !hard_require(p, first_cond, n_conds, pc, &c.cond)) return false;
    c.body = pc + 1;
    *out = c;
    return true;
}

/* Whether rule r's block starts with the target precheck on its own guard string
 * (SET_x s; AGG_ANY; REQUIRE_TARGET), which passes whenever the block runs (a block is only run
 * when that string is in the cart). */
static bool starts_with_guard_target(const prog_data *p, const prog_rule *r)
{
    uint64_t start = r->code.start, end = start + r->code.count;
    return r->guard_kind != PROG_GUARD_NONE && end <= p->n_code && end - start >= 3 &&
           p->code[start].op == guard_opcode(r->guard_kind) && p->code[start].arg == r->guard_string &&
           p->code[start + 1].op == PERK_OP_AGG_ANY && p->code[start + 2].op == PERK_OP_REQUIRE_TARGET;
}

bool guard_find_precheck(const prog_data *p, uint32_t rule, guard_precheck *out)
{
    *out = (guard_precheck){ PRECHECK_NONE, 0, 0, PROG_NONE, 0, 0, 0 };
    if (p == NULL || rule >= p->n_rules) return false;
    const prog_rule *r = &p->rules[rule];
    uint64_t start = r->code.start, end = start + r->code.count;
    if (end > p->n_code) return false;
    if (starts_with_guard_target(p, r)) start += 3;
    return precheck_at(p, start, end, r->first_cond, r->n_conds, out);
}

uint32_t guard_tested_prefix(const prog_data *p, uint32_t rule, const guard_precheck *c)
{
    if (p == NULL || rule >= p->n_rules) return 0;
    const prog_rule *r = &p->rules[rule];
    if (c->kind != PRECHECK_NONE && c->body > r->code.start && c->body <= r->code.start + r->code.count)
        return c->body - r->code.start;
    return starts_with_guard_target(p, r) ? 3 : 0;
}

bool guard_earn_keys(const prog_data *p, uint32_t earn, guard_earn *out)
{
    memset(out, 0, sizeof *out);
    out->precheck = (guard_precheck){ PRECHECK_NONE, 0, 0, PROG_NONE, 0, 0, 0 };
    out->earn = PROG_NONE;
    if (p == NULL || earn >= p->n_earns) return false;
    const prog_earn *e = &p->earns[earn];
    uint64_t pc = e->code.start, end = pc + e->code.count;
    if (end > p->n_code) return false;
    if (precheck_at(p, pc, end, e->first_cond, e->n_conds, &out->precheck)) pc = out->precheck.body;
    /* the set, followed on a small stack of what each entry is: a scalar, a set that is empty
     * when none of the strings is in the cart (a string's line set; an intersection with one; a
     * union of two; a difference from one), or any other set (every line, an attribute's lines,
     * a comparison's lines, a complement) */
    enum { SCALAR, EMPTY_WITHOUT_KEYS, ANY_SET };
    uint8_t stack[16];
    uint32_t depth = 0, n = 0;
    for (; pc < end && p->code[pc].op != PERK_OP_EARN; pc++) {
        const prog_insn *in = &p->code[pc];
        uint8_t k = guard_kind_of_opcode(in->op);
        int64_t ignored;
        if (k != PROG_GUARD_NONE) {
            if (in->arg >= p->n_strings) return false;
            bool seen = false;
            for (uint32_t t = 0; t < n && !seen; t++)
                seen = out->keys[t].kind == k && out->keys[t].string == in->arg;
            if (!seen) {
                if (n == GUARD_MAX_KEYS) return false;
                out->keys[n++] = (guard_key){ k, in->arg };
            }
            if (depth == sizeof stack) return false;
            stack[depth++] = EMPTY_WITHOUT_KEYS;
        } else if (in->op == PERK_OP_PUSH_IMM || in->op == PERK_OP_PUSH_INT) {
            if (depth == sizeof stack || !pushed_constant(p, (uint32_t)pc, &ignored)) return false;
            stack[depth++] = SCALAR;
        } else if (in->op == PERK_OP_SET_ALL || in->op == PERK_OP_SET_ATTR) {
            if (depth == sizeof stack) return false;
            stack[depth++] = ANY_SET;
        } else if (in->op == PERK_OP_SET_CMP) {
            if (depth < 1 || stack[depth - 1] != SCALAR) return false;
            stack[depth - 1] = ANY_SET;
        } else if (in->op == PERK_OP_SET_NOT) {
            if (depth < 1 || stack[depth - 1] == SCALAR) return false;
            stack[depth - 1] = ANY_SET;
        } else if (in->op == PERK_OP_SET_AND || in->op == PERK_OP_SET_OR || in->op == PERK_OP_SET_DIFF) {
            if (depth < 2 || stack[depth - 1] == SCALAR || stack[depth - 2] == SCALAR) return false;
            bool a = stack[depth - 2] == EMPTY_WITHOUT_KEYS, b = stack[depth - 1] == EMPTY_WITHOUT_KEYS;
            bool empty = in->op == PERK_OP_SET_AND ? a || b : in->op == PERK_OP_SET_OR ? a && b : a;
            stack[depth - 2] = empty ? EMPTY_WITHOUT_KEYS : ANY_SET;
            depth--;
        } else {
            return false;
        }
    }
    /* then exactly EARN and END */
    if (depth != 1 || stack[0] != EMPTY_WITHOUT_KEYS || end - pc != 2 || p->code[pc].arg >= p->n_earns ||
        p->code[pc + 1].op != PERK_OP_END)
        return false;
    out->earn = p->code[pc].arg;
    out->n_keys = n;
    return true;
}

bool guard_choose_keys(const prog_data *p, uint32_t rule, guard_key *keys, uint32_t *n_keys,
                       guard_outcome *out)
{
    *n_keys = 0;
    if (p == NULL || rule >= p->n_rules) return false;
    const prog_rule *r = &p->rules[rule];
    uint64_t end = (uint64_t)r->code.start + r->code.count;
    if (end > p->n_code) return false;
    uint32_t n = 0;
    for (uint64_t pc = r->code.start; pc < end; pc++) {
        const prog_insn *in = &p->code[pc];
        uint8_t k = guard_kind_of_opcode(in->op);
        if (k == PROG_GUARD_NONE) continue;
        if (in->arg >= p->n_strings) return false;
        bool seen = false;
        for (uint32_t t = 0; t < n && !seen; t++) seen = keys[t].kind == k && keys[t].string == in->arg;
        if (seen) continue;
        if (n == GUARD_MAX_KEYS) return false;
        keys[n++] = (guard_key){ k, in->arg };
    }
    if (n == 0 || !guard_eval_keys(p, rule, keys, n, out)) return false;
    *n_keys = n;
    return true;
}
