/* progbuild.h - build prog_data programs by hand in unit tests (bytecode, verifier, VM).
 *
 * Every array is grown with perk_mem_realloc one element at a time, so the result is an ordinary
 * prog_data: free it with prog_data_free(), serialize it with bytecode_write(), check it with
 * verify_program(), or load it through bytes with perk_program_load().
 *
 * Usage:
 *     prog_data p;
 *     pb_init(&p, "demo", "CNY", 2);                 // name, currency, exponent; timezone "UTC"
 *     uint32_t r = pb_promotion_begin(&p, "big_spender", "满300减30", 10);
 *     uint32_t c = pb_cond(&p, "order.subtotal >= ¥300", NULL); // conditions go between begin/end
 *     pb_emit(&p, PERK_OP_LOAD_FACT, PERK_FACT_ORDER_SUBTOTAL);
 *     pb_emit(&p, PERK_OP_PUSH_INT, pb_int(&p, 30000));
 *     pb_emit(&p, PERK_OP_GE, 0);
 *     pb_emit(&p, PERK_OP_REQUIRE, c);
 *     pb_emit(&p, PERK_OP_SET_ALL, 0);
 *     pb_emit(&p, PERK_OP_APPLY, pb_action(&p, r, PROG_ACT_AMOUNT_OFF, 3000, 0, 0));
 *     pb_promotion_end(&p, r);                        // appends END, closes code and conditions
 *
 * Rules:
 * - Build one block at a time: *_begin, its conditions and instructions, *_end. A block's code
 *   and conditions are whatever was appended between its begin and end.
 * - Promotions must be begun in evaluation order (priority ascending) for the verifier.
 * - Strings are interned (pb_str returns the existing id for equal text): the loader rejects
 *   duplicate strings.
 * - Locations default to file "test.perk", line 1, column 1; change the fields directly.
 * - Allocation failure aborts: this is test code.
 */
#ifndef PERK_TEST_PROGBUILD_H
#define PERK_TEST_PROGBUILD_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "opcodes.h"
#include "program.h"

/* Grows array `arr` of `n` elements by one; returns the new element's index (n is incremented). */
#define PB_APPEND(arr, n) ((arr) = pb_grow_((arr), (n), sizeof *(arr)), (n)++)

static inline void *pb_grow_(void *ptr, uint32_t n, size_t size)
{
    void *fresh = perk_mem_realloc(ptr, (size_t)n * size, ((size_t)n + 1) * size);
    if (!fresh) {
        fprintf(stderr, "progbuild: out of memory\n");
        abort();
    }
    memset((char *)fresh + (size_t)n * size, 0, size);
    return fresh;
}

/* The id of `s` in the string pool, adding it when new. */
static inline uint32_t pb_str(prog_data *p, const char *s)
{
    size_t len = strlen(s);
    for (uint32_t i = 0; i < p->n_strings; i++)
        if (p->str_len[i] == len && memcmp(p->str_bytes + p->str_off[i], s, len) == 0) return i;
    uint32_t off = p->str_bytes_len;
    char *bytes = perk_mem_realloc(p->str_bytes, off, off + len + 1);
    if (!bytes) abort();
    memcpy(bytes + off, s, len + 1);
    p->str_bytes = bytes;
    p->str_bytes_len = off + (uint32_t)len + 1;
    uint32_t n = p->n_strings;
    p->str_off = pb_grow_(p->str_off, n, sizeof *p->str_off);
    p->str_len = pb_grow_(p->str_len, n, sizeof *p->str_len);
    p->str_off[n] = off;
    p->str_len[n] = (uint32_t)len;
    p->n_strings = n + 1;
    return n;
}

/* A string id, or PROG_NONE for NULL. */
static inline uint32_t pb_str_opt(prog_data *p, const char *s) { return s ? pb_str(p, s) : PROG_NONE; }

/* Starts an empty program: name, currency (3 uppercase letters), exponent; rounding half_up,
 * coupons stackable, no margin guard, timezone "UTC" at offset 0, no redeem block. */
static inline void pb_init(prog_data *p, const char *name, const char *currency, int exponent)
{
    memset(p, 0, sizeof *p);
    p->name = pb_str(p, name);
    snprintf(p->currency, sizeof p->currency, "%s", currency);
    p->exponent = exponent;
    p->max_discount_ppm = -1;
    p->timezone = pb_str(p, "UTC");
}

static inline prog_loc pb_loc(prog_data *p, uint32_t line, uint32_t col)
{
    return (prog_loc){ pb_str(p, "test.perk"), line, col };
}

/* Constant pools. */
static inline uint32_t pb_int(prog_data *p, int64_t v)
{
    uint32_t i = PB_APPEND(p->ints, p->n_ints);
    p->ints[i] = v;
    return i;
}

static inline uint32_t pb_u32(prog_data *p, uint32_t v)
{
    uint32_t i = PB_APPEND(p->u32, p->n_u32);
    p->u32[i] = v;
    return i;
}

/* A string set: the ids of items[0..n), sorted and without duplicates, in the u32 pool. */
static inline uint32_t pb_strset(prog_data *p, const char *const *items, uint32_t n)
{
    uint32_t *ids = malloc((n ? n : 1) * sizeof *ids), m = 0;
    if (!ids) abort();
    for (uint32_t i = 0; i < n; i++) {
        uint32_t id = pb_str(p, items[i]), k = m;
        while (k > 0 && ids[k - 1] > id) k--;
        if (k > 0 && ids[k - 1] == id) continue;
        memmove(ids + k + 1, ids + k, (m - k) * sizeof *ids);
        ids[k] = id;
        m++;
    }
    uint32_t off = p->n_u32;
    for (uint32_t i = 0; i < m; i++) pb_u32(p, ids[i]);
    free(ids);
    uint32_t s = p->n_strsets;
    p->strset_off = pb_grow_(p->strset_off, s, sizeof *p->strset_off);
    p->strset_len = pb_grow_(p->strset_len, s, sizeof *p->strset_len);
    p->strset_off[s] = off;
    p->strset_len[s] = m;
    p->n_strsets = s + 1;
    return s;
}

static inline uint32_t pb_attr(prog_data *p, const char *key, const char *value)
{
    uint32_t k = pb_str(p, key), v = pb_str(p, value), i = p->n_attrs;
    p->attr_key = pb_grow_(p->attr_key, i, sizeof *p->attr_key);
    p->attr_value = pb_grow_(p->attr_value, i, sizeof *p->attr_value);
    p->attr_key[i] = k;
    p->attr_value[i] = v;
    p->n_attrs = i + 1;
    return i;
}

/* A time zone transition: from epoch second `at` on, the offset is `offset` seconds east. */
static inline void pb_tz(prog_data *p, int64_t at, int32_t offset)
{
    uint32_t i = p->n_tz;
    p->tz_at = pb_grow_(p->tz_at, i, sizeof *p->tz_at);
    p->tz_offset = pb_grow_(p->tz_offset, i, sizeof *p->tz_offset);
    p->tz_at[i] = at;
    p->tz_offset[i] = offset;
    p->n_tz = i + 1;
}

/* Instructions. Return the instruction's index (its address for jumps). */
static inline uint32_t pb_emit_aux(prog_data *p, perk_opcode op, uint8_t aux, uint32_t arg)
{
    uint32_t i = PB_APPEND(p->code, p->n_code);
    p->code[i] = (prog_insn){ .op = (uint8_t)op, .aux = aux, .reserved = 0, .arg = arg };
    return i;
}

static inline uint32_t pb_emit(prog_data *p, perk_opcode op, uint32_t arg)
{
    return pb_emit_aux(p, op, 0, arg);
}

/* The index the next instruction will get (a forward jump's target). */
static inline uint32_t pb_here(const prog_data *p) { return p->n_code; }

/* Points the jump at `pc` to `target` (e.g. pb_here(p) once the target is reached). */
static inline void pb_patch(prog_data *p, uint32_t pc, uint32_t target) { p->code[pc].arg = target; }

/* A condition of the block being built; hint_set NULL = PROG_NONE. */
static inline uint32_t pb_cond(prog_data *p, const char *text, const char *hint_set)
{
    uint32_t t = pb_str(p, text), h = pb_str_opt(p, hint_set);
    prog_loc loc = pb_loc(p, 1, 1);
    uint32_t i = PB_APPEND(p->conds, p->n_conds);
    p->conds[i] = (prog_cond){ .text = t, .loc = loc, .hint_set = h };
    return i;
}

/* Promotions: defaults are no group, no coupon, no cap, no limits, no flags. */
static inline uint32_t pb_promotion_begin(prog_data *p, const char *id, const char *label, int32_t priority)
{
    uint32_t sid = pb_str(p, id), sl = pb_str_opt(p, label);
    prog_loc loc = pb_loc(p, 1, 1);
    uint32_t r = PB_APPEND(p->rules, p->n_rules);
    prog_rule *ru = &p->rules[r];
    ru->id = sid;
    ru->label = sl;
    ru->loc = loc;
    ru->code.start = p->n_code;
    ru->priority = priority;
    ru->group = ru->coupon = ru->coupon_campaign = ru->guard_string = ru->guard_cond = PROG_NONE;
    ru->guard_kind = PROG_GUARD_NONE;
    ru->cap = ru->limit_uses = ru->limit_money = ru->limit_per_customer = -1;
    ru->first_cond = p->n_conds;
    return r;
}

static inline void pb_promotion_end(prog_data *p, uint32_t r)
{
    pb_emit(p, PERK_OP_END, 0);
    p->rules[r].code.count = p->n_code - p->rules[r].code.start;
    p->rules[r].n_conds = p->n_conds - p->rules[r].first_cond;
}

/* An action of promotion `rule` with operands p0..p2 (see PROG_ACTION_LIST in runtime/actions.h); str1/str2 none. */
static inline uint32_t pb_action(prog_data *p, uint32_t rule, prog_action_kind kind, int64_t p0, int64_t p1,
                                 int64_t p2)
{
    prog_loc loc = pb_loc(p, 1, 1);
    uint32_t i = PB_APPEND(p->actions, p->n_actions);
    prog_action *a = &p->actions[i];
    a->kind = (uint8_t)kind;
    a->rule = rule;
    a->p[0] = p0, a->p[1] = p1, a->p[2] = p2;
    a->str1 = a->str2 = PROG_NONE;
    a->loc = loc;
    return i;
}

/* Appends a step row to action `a` (its steps must be added consecutively). */
static inline void pb_step(prog_data *p, uint32_t a, int64_t threshold, int64_t value, int is_percent)
{
    uint32_t i = PB_APPEND(p->steps, p->n_steps);
    p->steps[i] = (prog_step){ .threshold = threshold, .value = value, .is_percent = (uint8_t)is_percent };
    if (p->actions[a].n_steps == 0) p->actions[a].steps = i;
    p->actions[a].n_steps++;
}

/* Earn rules: `points` points per `per_money` minor units, no cap. */
static inline uint32_t pb_earn_begin(prog_data *p, const char *id, const char *label, int64_t points,
                                     int64_t per_money)
{
    uint32_t sid = pb_str(p, id), sl = pb_str_opt(p, label);
    prog_loc loc = pb_loc(p, 1, 1);
    uint32_t e = PB_APPEND(p->earns, p->n_earns);
    p->earns[e] = (prog_earn){ .id = sid,
                               .label = sl,
                               .loc = loc,
                               .code = { p->n_code, 0 },
                               .points = points,
                               .per_money = per_money,
                               .cap = -1,
                               .first_cond = p->n_conds };
    return e;
}

static inline void pb_earn_end(prog_data *p, uint32_t e)
{
    pb_emit(p, PERK_OP_END, 0);
    p->earns[e].code.count = p->n_code - p->earns[e].code.start;
    p->earns[e].n_conds = p->n_conds - p->earns[e].first_cond;
}

/* Multipliers: factor num/den on the earn rules targets[0..n) (n = 0: all). */
static inline uint32_t pb_mult_begin(prog_data *p, const char *id, const char *label, int64_t num,
                                     int64_t den, const uint32_t *targets, uint32_t n)
{
    uint32_t sid = pb_str(p, id), sl = pb_str_opt(p, label);
    prog_loc loc = pb_loc(p, 1, 1);
    uint32_t off = p->n_u32;
    for (uint32_t k = 0; k < n; k++) pb_u32(p, targets[k]);
    uint32_t m = PB_APPEND(p->mults, p->n_mults);
    p->mults[m] = (prog_mult){ .id = sid,
                               .label = sl,
                               .loc = loc,
                               .code = { p->n_code, 0 },
                               .num = num,
                               .den = den,
                               .targets = off,
                               .n_targets = n,
                               .first_cond = p->n_conds };
    return m;
}

static inline void pb_mult_end(prog_data *p, uint32_t m)
{
    pb_emit(p, PERK_OP_END, 0);
    p->mults[m].code.count = p->n_code - p->mults[m].code.start;
    p->mults[m].n_conds = p->n_conds - p->mults[m].first_cond;
}

/* The redeem block: `points` points pay `money`; pays_for PROG_PAYS_*; max share 100%, no
 * minimum balance. */
static inline void pb_redeem_begin(prog_data *p, int64_t points, int64_t money, uint32_t pays_for)
{
    p->redeem = (prog_redeem){ .present = true,
                               .points = points,
                               .money = money,
                               .pays_for = pays_for,
                               .max_share_ppm = 1000000,
                               .code = { p->n_code, 0 },
                               .first_cond = p->n_conds };
}

static inline void pb_redeem_end(prog_data *p)
{
    pb_emit(p, PERK_OP_END, 0);
    p->redeem.code.count = p->n_code - p->redeem.code.start;
    p->redeem.n_conds = p->n_conds - p->redeem.first_cond;
}

/* A tier (declare in ascending spend) with benefit texts benefits[0..n). */
static inline uint32_t pb_tier(prog_data *p, const char *id, const char *label, int64_t spend,
                               int64_t window_seconds, const char *const *benefits, uint32_t n)
{
    uint32_t sid = pb_str(p, id), sl = pb_str_opt(p, label);
    uint32_t *ids = malloc((n ? n : 1) * sizeof *ids);
    if (!ids) abort();
    for (uint32_t k = 0; k < n; k++) ids[k] = pb_str(p, benefits[k]);
    uint32_t off = p->n_u32;
    for (uint32_t k = 0; k < n; k++) pb_u32(p, ids[k]);
    free(ids);
    uint32_t t = PB_APPEND(p->tiers, p->n_tiers);
    p->tiers[t] = (prog_tier){ .id = sid,
                               .label = sl,
                               .spend = spend,
                               .window_seconds = window_seconds,
                               .benefits = off,
                               .n_benefits = n };
    return t;
}

#endif
