/* test_verify.c - corrupted programs are rejected with the right status and a useful message, and
 * hostile bytes never crash the loader.
 *
 * Two kinds of corruption:
 * - program cases change a valid prog_data (the sample of bc_sample.h), serialize it and load it;
 *   the verifier must reject it. Each is also run through verify_program directly.
 * - byte cases change the serialized bytes (and recompute the checksum unless the case is about
 *   the checksum); the reader must reject them.
 * Plus: every prefix of a valid program, every byte flipped (checksum recomputed, so the reader's
 * and verifier's checks, not the checksum, must catch it), random multi-byte damage, and huge
 * counts under a counting allocator (no allocation proportional to a claimed count).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bc_sample.h"
#include "bytecode.h"
#include "program_internal.h"
#include "disasm.h"
#include "verify.h"

/* ---------------------------------------------------------------- helpers */

/* The first instruction with opcode `op` in block `b`. */
static uint32_t find_op(const prog_data *p, prog_block b, perk_opcode op)
{
    for (uint32_t i = b.start; i < b.start + b.count; i++)
        if (p->code[i].op == op) return i;
    fail_msg("no %s in block [%u, %u)", perk_opcode_table[op].name, b.start, b.start + b.count);
    return 0;
}

static uint32_t rule_op(const prog_data *p, uint32_t rule, perk_opcode op)
{
    return find_op(p, p->rules[rule].code, op);
}

/* Rules of the sample (bc_sample.h). */
enum { R_CLEARANCE, R_MEMBER_DAY, R_TEA_GIFT, R_BOGO, R_BUNDLE };

static void store_u32(uint8_t *at, uint32_t v)
{
    for (int i = 0; i < 4; i++) at[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t load_u32(const uint8_t *at)
{
    return (uint32_t)at[0] | (uint32_t)at[1] << 8 | (uint32_t)at[2] << 16 | (uint32_t)at[3] << 24;
}

static void store_u64(uint8_t *at, uint64_t v)
{
    for (int i = 0; i < 8; i++) at[i] = (uint8_t)(v >> (8 * i));
}

/* Offset of section `id`'s header (id, length) in a serialized program. */
static size_t section_at(const uint8_t *b, size_t len, uint32_t id)
{
    size_t at = BC_HEADER_SIZE;
    while (at + 8 <= len) {
        if (load_u32(b + at) == id) return at;
        at += 8 + (size_t)load_u32(b + at + 4);
    }
    fail_msg("section %u not found", id);
    return 0;
}

/* Offset of section `id`'s payload. */
static size_t payload_at(const uint8_t *b, size_t len, uint32_t id) { return section_at(b, len, id) + 8; }

static void sample_bytes(uint8_t **bytes, size_t *len)
{
    prog_data p;
    bc_sample(&p);
    char msg[256];
    if (!bytecode_write(&p, bytes, len, msg, sizeof msg)) fail_msg("%s", msg);
    prog_data_free(&p);
}

/* Loads bytes and expects failure with `status` and `expect` in the message. */
static void expect_load_error(const uint8_t *b, size_t len, perk_status status, const char *expect,
                              const char *name)
{
    perk_error err;
    memset(&err, 0, sizeof err);
    perk_program *prog = perk_program_load(b, len, &err);
    if (prog) {
        perk_program_free(prog);
        fail_msg("%s: loaded, expected %s", name, perk_status_message(status));
    }
    if (err.status != status)
        fail_msg("%s: status %d (%s), expected %d; message: %s", name, err.status,
                 perk_status_message(err.status), status, err.message);
    if (!strstr(err.message, expect)) fail_msg("%s: message '%s' lacks '%s'", name, err.message, expect);
}

/* ---------------------------------------------------------------- program cases */

typedef void (*prog_mutator)(prog_data *p);

typedef struct prog_case {
    const char *name;
    prog_mutator mutate;
    const char *expect; /* substring of the message */
} prog_case;

#define M(fn) static void fn(prog_data *p)

M(m_unknown_opcode) { p->code[rule_op(p, R_CLEARANCE, PERK_OP_LOAD_FACT)].op = PERK_OP_COUNT; }
M(m_reserved) { p->code[rule_op(p, R_CLEARANCE, PERK_OP_IN_RANGE)].reserved = 0x100; }
M(m_aux_nonzero) { p->code[rule_op(p, R_MEMBER_DAY, PERK_OP_GE)].aux = 1; }
M(m_set_cmp_aux) { p->code[rule_op(p, R_BOGO, PERK_OP_SET_CMP)].aux = PERK_CMP_GE + 1; }
M(m_none_arg) { p->code[rule_op(p, R_CLEARANCE, PERK_OP_IN_RANGE)].arg = 5; }
M(m_int_range) { p->code[rule_op(p, R_CLEARANCE, PERK_OP_PUSH_INT)].arg = p->n_ints; }
M(m_string_range) { p->code[rule_op(p, R_CLEARANCE, PERK_OP_SET_TAG)].arg = p->n_strings; }
M(m_strset_operand) { p->code[rule_op(p, R_TEA_GIFT, PERK_OP_IN_STRSET)].arg = 1; }
M(m_attr_range) { p->code[rule_op(p, R_BOGO, PERK_OP_SET_ATTR)].arg = 5; }
M(m_fact_range) { p->code[rule_op(p, R_CLEARANCE, PERK_OP_LOAD_FACT)].arg = PERK_FACT_COUNT; }
M(m_fact_set) { p->code[rule_op(p, R_CLEARANCE, PERK_OP_LOAD_FACT)].arg = PERK_FACT_CUSTOMER_TAGS; }
M(m_field_range) { p->code[rule_op(p, R_TEA_GIFT, PERK_OP_AGG_SUM)].arg = PERK_FIELD_COUNT; }
M(m_field_string) { p->code[rule_op(p, R_TEA_GIFT, PERK_OP_AGG_SUM)].arg = PERK_FIELD_SKU; }
M(m_cond_other_rule) { p->code[rule_op(p, R_CLEARANCE, PERK_OP_REQUIRE)].arg = 1; /* member_day's */ }
M(m_cond_range) { p->code[find_op(p, p->earns[0].code, PERK_OP_REQUIRE)].arg = p->n_conds + 7; }
M(m_action_range) { p->code[rule_op(p, R_CLEARANCE, PERK_OP_APPLY)].arg = p->n_actions; }
M(m_action_other_rule) { p->code[rule_op(p, R_CLEARANCE, PERK_OP_APPLY)].arg = 1; }
M(m_apply2_kind) { p->actions[3].kind = PROG_ACT_PERCENT_OFF; /* bogo's action, used by APPLY2 */ }
M(m_earn_in_promotion)
{
    uint32_t pc = rule_op(p, R_CLEARANCE, PERK_OP_APPLY);
    p->code[pc] = (prog_insn){ .op = PERK_OP_EARN, .arg = 0 };
}
M(m_earn_index) { p->code[find_op(p, p->earns[0].code, PERK_OP_EARN)].arg = 1; }
M(m_multiply_in_promotion)
{
    p->code[rule_op(p, R_MEMBER_DAY, PERK_OP_CHECK)] = (prog_insn){ .op = PERK_OP_MULTIPLY };
}
M(m_multiply_index) { p->code[find_op(p, p->mults[1].code, PERK_OP_MULTIPLY)].arg = 0; }
M(m_target_after_cond)
{ /* the second soft condition becomes a target check: too late */
    uint32_t first = rule_op(p, R_MEMBER_DAY, PERK_OP_REQUIRE_SOFT);
    uint32_t pc = first + 1;
    while (p->code[pc].op != PERK_OP_REQUIRE_SOFT) pc++;
    p->code[pc] = (prog_insn){ .op = PERK_OP_REQUIRE_TARGET };
}
M(m_target_in_earn)
{
    p->code[find_op(p, p->earns[0].code, PERK_OP_REQUIRE)] = (prog_insn){ .op = PERK_OP_REQUIRE_TARGET };
}
M(m_apply_in_earn)
{
    p->code[find_op(p, p->earns[0].code, PERK_OP_EARN)] = (prog_insn){ .op = PERK_OP_APPLY };
}
M(m_jump_backward)
{
    uint32_t pc = rule_op(p, R_TEA_GIFT, PERK_OP_JUMP_IF_FALSE);
    p->code[pc].arg = pc - 1;
}
M(m_jump_self)
{
    uint32_t pc = rule_op(p, R_BOGO, PERK_OP_JUMP);
    p->code[pc].arg = pc;
}
M(m_jump_out) { p->code[rule_op(p, R_TEA_GIFT, PERK_OP_JUMP_IF_FALSE)].arg = 40; }
M(m_jump_past_end)
{
    uint32_t pc = rule_op(p, R_BOGO, PERK_OP_JUMP);
    p->code[pc].arg = p->rules[R_BOGO].code.start + p->rules[R_BOGO].code.count;
}
M(m_underflow)
{ /* LOAD_FACT; CHECK; PUSH_INT; IN_RANGE needs three scalars */
    uint32_t pc = rule_op(p, R_CLEARANCE, PERK_OP_PUSH_INT);
    p->code[pc] = (prog_insn){ .op = PERK_OP_CHECK };
}
M(m_kind_mismatch)
{ /* SET_OR gets a scalar where a set belongs */
    p->code[rule_op(p, R_BOGO, PERK_OP_SET_SKU)] = (prog_insn){ .op = PERK_OP_PUSH_IMM, .arg = 0 };
}
M(m_set_for_scalar)
{ /* REQUIRE pops a set */
    p->code[rule_op(p, R_CLEARANCE, PERK_OP_IN_RANGE)] = (prog_insn){ .op = PERK_OP_SET_ALL };
}
M(m_join)
{ /* the fall-through path into REQUIRE leaves "ss" (a NOT where the AND was), the jump "s" */
    p->code[rule_op(p, R_TEA_GIFT, PERK_OP_AND)] = (prog_insn){ .op = PERK_OP_NOT };
}
M(m_not_empty_at_end)
{
    p->code[rule_op(p, R_CLEARANCE, PERK_OP_REQUIRE)] = (prog_insn){ .op = PERK_OP_CHECK };
}
M(m_missing_end) { p->rules[R_CLEARANCE].code.count--; }
M(m_end_inside) { p->code[rule_op(p, R_CLEARANCE, PERK_OP_SET_TAG)] = (prog_insn){ .op = PERK_OP_END }; }
M(m_block_range) { p->mults[1].code.start = p->n_code; }
M(m_block_overflow)
{
    p->mults[1].code.start = UINT32_MAX - 1;
    p->mults[1].code.count = 4;
}
M(m_block_shared) { p->earns[1].code = p->earns[0].code; }
M(m_block_empty) { p->rules[R_CLEARANCE].code.count = 0; }

/* Appends promotion "deep" (priority 50) pushing n items of one kind, then dropping them. */
static void deep_block(prog_data *p, uint32_t n, bool sets)
{
    uint32_t r = pb_promotion_begin(p, "deep", NULL, 50);
    for (uint32_t i = 0; i < n; i++) pb_emit(p, sets ? PERK_OP_SET_ALL : PERK_OP_PUSH_IMM, 0);
    for (uint32_t i = 0; i + 1 < n; i++) pb_emit(p, sets ? PERK_OP_SET_AND : PERK_OP_ADD, 0);
    if (sets)
        pb_emit(p, PERK_OP_APPLY, pb_action(p, r, PROG_ACT_FREE_SHIPPING, 0, 0, 0));
    else
        pb_emit(p, PERK_OP_POP, 0);
    pb_promotion_end(p, r);
}
M(m_too_many_scalars) { deep_block(p, VERIFY_MAX_STACK + 1, false); }
M(m_too_many_sets) { deep_block(p, VERIFY_MAX_STACK + 1, true); }

M(m_strset_unsorted)
{
    uint32_t o = p->strset_off[0], t = p->u32[o];
    p->u32[o] = p->u32[o + 1];
    p->u32[o + 1] = t;
}
M(m_strset_duplicate) { p->u32[p->strset_off[0] + 1] = p->u32[p->strset_off[0]]; }
M(m_strset_range) { p->strset_len[0] = p->n_u32 + 1; }
M(m_strset_string) { p->u32[p->strset_off[0] + 1] = p->n_strings; }
M(m_attr_string) { p->attr_value[0] = p->n_strings + 3; }
M(m_currency_lower) { memcpy(p->currency, "cny", 4); }
M(m_currency_short) { memcpy(p->currency, "CN\0", 4); }
M(m_currency_unterminated) { memcpy(p->currency, "CNYX", 4); }
M(m_exponent) { p->exponent = 5; }
M(m_exponent_negative) { p->exponent = -1; }
M(m_rounding) { p->rounding = 3; }
M(m_coupon_policy) { p->coupon_policy = 2; }
M(m_max_discount) { p->max_discount_ppm = 1000001; }
M(m_pending_negative) { p->points_pending_seconds = -1; }
M(m_year_end) { p->points_expire_seconds = 0, p->points_expire_year_end = 3; }
M(m_year_end_and_period) { p->points_expire_year_end = 1; }
M(m_name) { p->name = p->n_strings; }
M(m_timezone) { p->timezone = PROG_NONE; }
M(m_tz_order) { p->tz_at[2] = p->tz_at[1]; }
M(m_tz_offset) { p->tz_offset[1] = 18 * 3600 + 1; }
M(m_tz_base) { p->tz_base_offset = -18 * 3600 - 1; }
M(m_redeem_points) { p->redeem.points = 0; }
M(m_redeem_money) { p->redeem.money = -100; }
M(m_redeem_pays) { p->redeem.pays_for = 4; }
M(m_redeem_share) { p->redeem.max_share_ppm = 1000001; }
M(m_redeem_no_block) { p->redeem.code.count = 0; }
M(m_redeem_cond) { p->code[find_op(p, p->redeem.code, PERK_OP_REQUIRE)].arg = 0; }
M(m_mult_den) { p->mults[0].den = 0; }
M(m_mult_num) { p->mults[1].num = -2; }
M(m_mult_target) { p->u32[p->mults[0].targets + 1] = 5; }
M(m_mult_targets_range) { p->mults[0].n_targets = p->n_u32 + 1; }
M(m_earn_per_money) { p->earns[0].per_money = 0; }
M(m_earn_points) { p->earns[1].points = -1; }
M(m_earn_cap) { p->earns[1].cap = -2; }
M(m_earn_dup) { p->earns[1].id = p->earns[0].id; }
M(m_tier_benefit) { p->u32[p->tiers[1].benefits] = 9999; }
M(m_tier_order) { p->tiers[1].spend = 1; }
M(m_tier_label) { p->tiers[0].label = p->n_strings; }
M(m_rule_dup) { p->rules[R_BUNDLE].id = p->rules[R_BOGO].id; }
M(m_rule_priority) { p->rules[R_BUNDLE].priority = 5; }
M(m_rule_flags) { p->rules[R_CLEARANCE].flags = 32; /* bits 0-4: stop, original prices, consumes, best, partial */ }
M(m_partial_no_budget)
{
    p->rules[R_CLEARANCE].limit_money = -1;
    p->rules[R_CLEARANCE].flags |= PROG_RULE_PARTIAL;
}
M(m_best_no_group)
{
    p->rules[R_MEMBER_DAY].group = PROG_NONE;
    p->rules[R_MEMBER_DAY].flags |= PROG_RULE_BEST;
}
M(m_best_mixed)
{
    p->rules[R_MEMBER_DAY].group = p->rules[R_CLEARANCE].group; /* a first-wins group of two ... */
    p->rules[R_CLEARANCE].flags |= PROG_RULE_BEST;              /* ... best-deal in one of them */
}
M(m_best_stages)
{
    p->rules[R_MEMBER_DAY].group = p->rules[R_CLEARANCE].group;
    p->rules[R_CLEARANCE].flags |= PROG_RULE_BEST;
    p->rules[R_MEMBER_DAY].flags |= PROG_RULE_BEST;
    p->rules[R_CLEARANCE].stage = PROG_STAGE_ITEMS; /* still in evaluation order */
    for (uint32_t r = R_MEMBER_DAY; r < p->n_rules; r++) p->rules[r].stage = PROG_STAGE_ORDER;
}
M(m_rule_label) { p->rules[R_CLEARANCE].label = p->n_strings; }
M(m_rule_cap) { p->rules[R_MEMBER_DAY].limit_uses = -5; }
M(m_rule_conds) { p->rules[R_CLEARANCE].n_conds = p->n_conds + 1; }
M(m_rule_conds_overflow)
{
    p->rules[R_CLEARANCE].first_cond = UINT32_MAX;
    p->rules[R_CLEARANCE].n_conds = 2;
}
M(m_action_kind) { p->actions[0].kind = PROG_ACT_COUNT; }
M(m_action_rule) { p->actions[0].rule = p->n_rules; }
M(m_action_steps) { p->actions[1].n_steps = p->n_steps + 1; }
M(m_action_steps_other_kind) { p->actions[0].steps = 0, p->actions[0].n_steps = 1; }
M(m_percent_over) { p->actions[0].p[0] = 1000001; }
M(m_every_zero) { p->actions[8].p[0] = 0; /* every ¥0 would divide by zero */ }
M(m_gift_no_sku) { p->actions[2].str1 = PROG_NONE; }
M(m_step_percent_flag) { p->steps[0].is_percent = 2; }
M(m_step_order) { p->steps[1].threshold = p->steps[0].threshold; }
M(m_step_percent_in_qty) { p->steps[p->actions[7].steps].is_percent = 1; }
/* the sample's bundle (`1 of organic + 2 of items for ¥199`, the last action of its kind) */
static prog_action *sample_bundle(prog_data *p)
{
    for (uint32_t i = p->n_actions; i-- > 0;)
        if (p->actions[i].kind == PROG_ACT_BUNDLE) return &p->actions[i];
    fail_msg("the sample has no bundle");
    return NULL;
}
M(m_bundle_one_part) { sample_bundle(p)->n_steps = 1; }
M(m_bundle_zero_units) { p->steps[sample_bundle(p)->steps].threshold = 0; }
M(m_bundle_bad_name) { p->steps[sample_bundle(p)->steps + 1].value = p->n_strings; }
M(m_bundle_percent_part) { p->steps[sample_bundle(p)->steps + 1].is_percent = 1; }
M(m_bundle_zero_price) { sample_bundle(p)->p[0] = 0; }
M(m_bundle_part_other)
{
    for (uint32_t i = 0; i < p->n_code; i++)
        if (p->code[i].op == PERK_OP_BUNDLE_PART) p->code[i].arg--; /* the buy-get per sku before it */
}
/* the sample's reward coupon (`coupon from "RETURN50" valid 30 days`) */
static prog_action *sample_reward(prog_data *p)
{
    for (uint32_t i = p->n_actions; i-- > 0;)
        if (p->actions[i].kind == PROG_ACT_REWARD_COUPON) return &p->actions[i];
    fail_msg("the sample has no reward coupon");
    return NULL;
}
M(m_reward_both) { sample_reward(p)->p[2] = 1900000000; /* 30 days and an end */ }
M(m_reward_window_back)
{
    prog_action *a = sample_reward(p);
    a->p[0] = 0, a->p[1] = 1900000000, a->p[2] = 1900000000; /* ends where it starts */
}
M(m_reward_negative) { sample_reward(p)->p[0] = -1; }
M(m_reward_no_campaign) { sample_reward(p)->str1 = PROG_NONE; }
M(m_cond_text) { p->conds[3].text = p->n_strings; }
M(m_cond_hint) { p->conds[3].hint_set = p->n_strings + 1; }

static const prog_case prog_cases[] = {
    { "unknown opcode", m_unknown_opcode, "instruction 3 (?): unknown opcode 0x" },
    { "nonzero reserved", m_reserved, "reserved field is 0x0100, must be 0" },
    { "aux outside SET_CMP", m_aux_nonzero, "(GE): aux is 1, must be 0" },
    { "SET_CMP aux not a comparison", m_set_cmp_aux, "aux 6 is not a comparison" },
    { "NONE operand nonzero", m_none_arg, "(IN_RANGE): takes no operand but has 5" },
    { "INT operand", m_int_range, "(PUSH_INT): int constant 6 does not exist (pool of 6)" },
    { "STRING operand", m_string_range, "(SET_TAG): string 59 does not exist" },
    { "STRSET operand", m_strset_operand, "(IN_STRSET): strset 1 does not exist (pool of 1)" },
    { "ATTR operand", m_attr_range, "(SET_ATTR): attr 5 does not exist" },
    { "FACT operand", m_fact_range, "(LOAD_FACT): unknown fact 30" },
    { "fact that is a set", m_fact_set, "fact customer.tags is a string set" },
    { "FIELD operand", m_field_range, "(AGG_SUM): unknown item field 11" },
    { "string field aggregated", m_field_string, "item field sku is not numeric" },
    { "REQUIRE with another rule's condition", m_cond_other_rule,
      "promotion 'clearance' instruction 7 (REQUIRE): condition 1 does not belong to this block (its "
      "conditions are [0, 1))" },
    { "COND operand out of the table", m_cond_range,
      "earn 'base' instruction 147 (REQUIRE): condition 19 does not belong" },
    { "ACTION operand", m_action_range, "(APPLY): action 20 does not exist" },
    { "action of another rule", m_action_other_rule, "action 1 belongs to promotion 'member_day'" },
    { "APPLY2 with a non-buy/get action", m_apply2_kind, "(APPLY2): buy/get actions take APPLY2" },
    { "EARN in a promotion block", m_earn_in_promotion,
      "promotion 'clearance' instruction 9 (EARN): only earn blocks" },
    { "EARN of another earn rule", m_earn_index, "(EARN): earn rule 1 is not this block's (0)" },
    { "MULTIPLY in a promotion block", m_multiply_in_promotion,
      "(MULTIPLY): only multiplier blocks may multiply" },
    { "MULTIPLY of another multiplier", m_multiply_index,
      "multiplier 'happy' instruction 159 (MULTIPLY): multiplier 0" },
    { "APPLY in an earn block", m_apply_in_earn,
      "earn 'base' instruction 149 (APPLY): only promotion blocks" },
    { "REQUIRE_TARGET after a condition", m_target_after_cond,
      "(REQUIRE_TARGET): a target check must come before every condition and action" },
    { "REQUIRE_TARGET in an earn block", m_target_in_earn,
      "(REQUIRE_TARGET): only promotion blocks may check their target" },
    { "jump backward", m_jump_backward, "(JUMP_IF_FALSE): jumps backward to 25" },
    { "jump to itself", m_jump_self, "(JUMP): jumps backward to 70" },
    { "jump out of its block", m_jump_out,
      "verify: promotion 'tea_gift' instruction 26 (JUMP_IF_FALSE): target 40 is outside its block [22, "
      "34)" },
    { "jump just past its block", m_jump_past_end, "(JUMP): target 88 is outside its block [34, 88)" },
    { "stack underflow", m_underflow, "(IN_RANGE): stack underflow: needs 'sss', the stack is 'ss'" },
    { "set where a scalar belongs", m_kind_mismatch,
      "(SET_OR): needs 'll' on top of the stack, the stack is 'ls'" },
    { "scalar where a set belongs", m_set_for_scalar,
      "(REQUIRE): needs 's' on top of the stack, the stack is 'sssl'" },
    { "inconsistent stack at a join", m_join,
      "inconsistent stack at instruction 30: 's' on one path, 'ss' on another" },
    { "stack not empty at END", m_not_empty_at_end,
      "instruction 10 (END): the stack is 's', must be empty at END" },
    { "missing END", m_missing_end, "promotion 'clearance': block [0, 10) does not end with END" },
    { "END inside a block", m_end_inside, "instruction 0 (END): END before the end of its block" },
    { "block outside the code", m_block_range,
      "multiplier 'happy': block [166, 168) is outside the code of 166" },
    { "block range overflows", m_block_overflow, "block [4294967294, 4294967298) is outside the code" },
    { "blocks sharing code", m_block_shared,
      "earn 'margin_bonus': instruction 145 also belongs to earn 'base'" },
    { "empty block", m_block_empty, "promotion 'clearance': empty code block" },
    { "too many scalars", m_too_many_scalars,
      "promotion 'deep' instruction 486 (PUSH_IMM): stack too deep: 321 entries (limit 320)" },
    { "too many sets", m_too_many_sets, "stack too deep: 321 entries (limit 320)" },
    { "unsorted strset", m_strset_unsorted,
      "strset 0 is not sorted ascending without duplicates (element 1)" },
    { "strset with a duplicate", m_strset_duplicate, "strset 0 is not sorted" },
    { "strset outside the pool", m_strset_range, "strset 0: list [0, 8) is outside the u32 pool of 7" },
    { "strset element not a string", m_strset_string, "strset 0: element 1 is string 59" },
    { "attr value not a string", m_attr_string, "attr 0: key or value is not a valid string id" },
    { "lowercase currency", m_currency_lower,
      "currency is not a 3-letter uppercase ISO 4217 code (bytes 63 6e 79 00)" },
    { "2-letter currency", m_currency_short, "currency is not a 3-letter uppercase" },
    { "unterminated currency", m_currency_unterminated, "currency code is not NUL-terminated" },
    { "exponent 5", m_exponent, "currency exponent 5 is outside 0..4" },
    { "negative exponent", m_exponent_negative, "currency exponent -1" },
    { "bad rounding", m_rounding, "rounding 3 is not half_up (0), half_even (1) or down (2)" },
    { "bad coupon policy", m_coupon_policy, "coupon policy 2" },
    { "max discount over 100%", m_max_discount, "max discount 1000001 ppm" },
    { "negative pending duration", m_pending_negative, "must not be negative" },
    { "year-end expiry out of range", m_year_end, "is not none (0), this year (1) or next year (2)" },
    { "year-end expiry beside a period", m_year_end_and_period, "both at a year's end and after" },
    { "ruleset name not a string", m_name, "ruleset name is string 59, the pool has 59 strings" },
    { "timezone missing", m_timezone, "timezone is string 4294967295" },
    { "tz transitions not ascending", m_tz_order,
      "timezone transitions are not ascending: 2 at 515520000 follows 515520000" },
    { "tz offset too large", m_tz_offset, "timezone transition 1: offset 64801 s" },
    { "tz base offset too small", m_tz_base, "timezone base offset -64801 s" },
    { "redeem rate 0", m_redeem_points, "redeem: rate 0 points = 100 must have both numbers > 0" },
    { "redeem money negative", m_redeem_money, "redeem: rate 100 points = -100" },
    { "redeem pays for nothing known", m_redeem_pays, "redeem: pays_for 0x4" },
    { "redeem share over 100%", m_redeem_share, "redeem: max share 1000001 ppm" },
    { "redeem without a block", m_redeem_no_block, "redeem: needs a code block" },
    { "redeem REQUIRE of a promotion's condition", m_redeem_cond,
      "redeem instruction 164 (REQUIRE): condition 0 does not belong" },
    { "multiplier den 0", m_mult_den, "multiplier 'birthday': factor 2/0 must have both numbers > 0" },
    { "multiplier num negative", m_mult_num, "multiplier 'happy': factor -2/2" },
    { "multiplier target not an earn rule", m_mult_target,
      "multiplier 'birthday': target 1 is earn rule 5, there are 2" },
    { "multiplier targets outside the pool", m_mult_targets_range,
      "multiplier 'birthday': list [2, 10) is outside the u32 pool of 7" },
    { "earn per_money 0", m_earn_per_money, "earn 'base': rate 1 points per 0" },
    { "earn points negative", m_earn_points, "earn 'margin_bonus': rate -1 points per 100" },
    { "earn cap below -1", m_earn_cap, "earn 'margin_bonus': cap -2" },
    { "duplicate earn id", m_earn_dup, "two earn rules have the id 'base'" },
    { "tier benefit not a string", m_tier_benefit, "tier 'gold': benefit 0 is not a valid string id" },
    { "tiers not ascending", m_tier_order, "tier 'gold': spend 1 is below the previous tier's 100000" },
    { "tier label not a string", m_tier_label, "tier 'silver': label is not a valid string id" },
    { "duplicate promotion id", m_rule_dup, "two promotions have the id 'bogo'" },
    { "promotions out of priority order", m_rule_priority,
      "promotion 'bundle': priority 5 after priority 40" },
    { "unknown rule flag", m_rule_flags, "promotion 'clearance': unknown flags 0x20" },
    { "partial without a money budget", m_partial_no_budget,
      "promotion 'clearance': a partial budget without a money budget" },
    { "best-deal flag without a group", m_best_no_group,
      "promotion 'member_day': a best-deal flag without an exclusive group" },
    { "best-deal and first-wins in one group", m_best_mixed,
      "promotion 'member_day': exclusive group 6 is a best-deal group in promotion 0 but not in promotion 1" },
    { "best-deal group over two stages", m_best_stages, "best-deal group 6 has members in stages 0 and 1" },
    { "rule label not a string", m_rule_label, "promotion 'clearance': a label, file, group" },
    { "rule limit below -1", m_rule_cap, "promotion 'member_day': a cap or limit is negative" },
    { "rule conditions outside the table", m_rule_conds,
      "promotion 'clearance': conditions [0, 13) are outside" },
    { "rule conditions overflow", m_rule_conds_overflow, "conditions [4294967295, 4294967297) are outside" },
    { "unknown action kind", m_action_kind, "action 0 of promotion 'clearance': unknown action kind 20" },
    { "action of no promotion", m_action_rule, "action 0: promotion 5 does not exist (there are 5)" },
    { "action steps outside the table", m_action_steps,
      "action 1 of promotion 'member_day': steps [0, 11) are outside" },
    { "steps on a percent-off action", m_action_steps_other_kind, "this kind of action takes no steps" },
    { "percent off over 100%", m_percent_over,
      "action 0 of promotion 'clearance': operands out of range (p = 1000001, 0, 0)" },
    { "every 0", m_every_zero, "action 8 of promotion 'bundle': operands out of range (p = 0, 1000, 5000)" },
    { "gift without a sku", m_gift_no_sku, "action 2 of promotion 'tea_gift': operands out of range" },
    { "step is_percent 2", m_step_percent_flag, "step 0: is_percent is 2, must be 0 or 1" },
    { "step thresholds not ascending", m_step_order, "step thresholds are not strictly ascending (step 1)" },
    { "percent step in a quantity table", m_step_percent_in_qty,
      "action 7 of promotion 'bundle': step 0: a percent step" },
    { "a bundle of one part", m_bundle_one_part, "of promotion 'bundle': a bundle has 1 parts (2 to 16)" },
    { "a bundle part of 0 units", m_bundle_zero_units, "bundle part 0: units 0 or name" },
    { "a bundle part's name not a string", m_bundle_bad_name, "bundle part 1: units 2 or name" },
    { "a bundle part marked percent", m_bundle_percent_part, "bundle part 1: units 2 or name -1 out of range" },
    { "a bundle price of 0", m_bundle_zero_price, "of promotion 'bundle': operands out of range (p = 0, 0, 0)" },
    { "a reward coupon with a period and an end", m_reward_both,
      "of promotion 'bundle': reward coupon period: 2592000 seconds, from 0 to 1900000000" },
    { "a reward coupon window ending where it starts", m_reward_window_back,
      "of promotion 'bundle': reward coupon period: 0 seconds, from 1900000000 to 1900000000" },
    { "a negative reward period", m_reward_negative, "of promotion 'bundle': operands out of range (p = -1, 0, 0)" },
    { "a reward coupon without a campaign", m_reward_no_campaign,
      "of promotion 'bundle': operands out of range (p = 2592000, 0, 0)" },
    { "BUNDLE_PART on another kind", m_bundle_part_other, "(BUNDLE_PART): BUNDLE_PART names action" },
    { "condition text not a string", m_cond_text,
      "condition 3: text, file or hint set is not a valid string id" },
    { "condition hint not a string", m_cond_hint, "condition 3: text, file or hint set" },
};

static void test_program_cases(void **state)
{
    (void)state;
    size_t n = sizeof prog_cases / sizeof prog_cases[0];
    assert_true(n >= 30);
    for (size_t i = 0; i < n; i++) {
        const prog_case *c = &prog_cases[i];
        prog_data p;
        bc_sample(&p);
        c->mutate(&p);
        /* the verifier directly */
        perk_error err;
        if (verify_program(&p, &err) != PERK_VERIFY) fail_msg("%s: verifies", c->name);
        if (!strstr(err.message, c->expect))
            fail_msg("%s: message '%s' lacks '%s'", c->name, err.message, c->expect);
        /* and through bytes and the loader */
        uint8_t *b;
        size_t len;
        char msg[256];
        if (!bytecode_write(&p, &b, &len, msg, sizeof msg)) fail_msg("%s: %s", c->name, msg);
        expect_load_error(b, len, PERK_VERIFY, c->expect, c->name);
        perk_mem_free(b);
        prog_data_free(&p);
    }
}

/* Cases the writer itself refuses, so only the verifier sees them. */
static void test_verify_direct(void **state)
{
    (void)state;
    prog_data p;
    perk_error err;

    bc_sample(&p);
    perk_mem_free(p.ints);
    p.ints = NULL; /* n_ints stays 6 */
    assert_int_equal(verify_program(&p, &err), PERK_VERIFY);
    assert_string_equal(err.message, "verify: table 'ints' has 6 entries but no storage");
    prog_data_free(&p);

    bc_sample(&p);
    p.str_bytes[p.str_off[2] + p.str_len[2]] = 'x';
    assert_int_equal(verify_program(&p, &err), PERK_VERIFY);
    assert_non_null(strstr(err.message, "string 2 is not NUL-terminated"));
    p.str_bytes[p.str_off[2] + p.str_len[2]] = '\0';
    p.str_bytes[p.str_off[2] + 1] = (char)0xC0;
    assert_int_equal(verify_program(&p, &err), PERK_VERIFY);
    assert_non_null(strstr(err.message, "string 2 is not valid UTF-8"));
    p.str_bytes[p.str_off[2] + 1] = '\0';
    assert_int_equal(verify_program(&p, &err), PERK_VERIFY);
    assert_non_null(strstr(err.message, "string 2 contains a NUL byte"));
    prog_data_free(&p);

    assert_int_equal(verify_program(NULL, &err), PERK_VERIFY);
    assert_int_equal(verify_program(NULL, NULL), PERK_VERIFY); /* err may be NULL */
}

/* The limit is inclusive: exactly 320 scalars, or 320 sets, verify and are recorded. */
static void test_stack_limits_exact(void **state)
{
    (void)state;
    prog_data p;
    bc_sample(&p);
    deep_block(&p, VERIFY_MAX_STACK, false);
    perk_error err;
    assert_int_equal(verify_program_record(&p, &err), PERK_OK);
    assert_int_equal(p.max_scalars, VERIFY_MAX_STACK);
    assert_int_equal(p.max_sets, 2);
    prog_data_free(&p);

    bc_sample(&p);
    deep_block(&p, VERIFY_MAX_STACK, true);
    assert_int_equal(verify_program_record(&p, &err), PERK_OK);
    assert_int_equal(p.max_sets, VERIFY_MAX_STACK);
    prog_data_free(&p);
}

/* A minimal program: one promotion that always applies, no redeem block, no tiers. */
static void test_minimal_program(void **state)
{
    (void)state;
    prog_data p;
    pb_init(&p, "min", "JPY", 0);
    uint32_t r = pb_promotion_begin(&p, "all", NULL, 0);
    pb_emit(&p, PERK_OP_SET_ALL, 0);
    pb_emit(&p, PERK_OP_APPLY, pb_action(&p, r, PROG_ACT_PERCENT_OFF, 100000, 0, 0));
    pb_promotion_end(&p, r);
    uint8_t *b;
    size_t len;
    char msg[256];
    assert_true(bytecode_write(&p, &b, &len, msg, sizeof msg));
    perk_error err;
    perk_program *prog = perk_program_load(b, len, &err);
    if (!prog) fail_msg("%s", err.message);
    assert_string_equal(perk_program_currency(prog), "JPY");
    perk_program_free(prog);
    perk_mem_free(b);
    prog_data_free(&p);

    /* an empty ruleset is valid too */
    pb_init(&p, "empty", "USD", 2);
    assert_true(bytecode_write(&p, &b, &len, msg, sizeof msg));
    prog = perk_program_load(b, len, &err);
    if (!prog) fail_msg("%s", err.message);
    assert_int_equal(perk_program_promotion_count(prog), 0);
    perk_program_free(prog);
    perk_mem_free(b);
    prog_data_free(&p);
}

/* ---------------------------------------------------------------- byte cases */

typedef struct byte_case {
    const char *name;
    void (*mutate)(uint8_t **b, size_t *len);
    bool reseal; /* recompute the checksum afterwards */
    perk_status status;
    const char *expect;
} byte_case;

#define B(fn) static void fn(uint8_t **bp, size_t *lenp)
#define UNUSED_LEN (void)lenp

/* Grows the program by n zero bytes inserted at `at`, fixing the total length field. */
static void insert_bytes(uint8_t **bp, size_t *lenp, size_t at, size_t n)
{
    uint8_t *nb = perk_mem_realloc(*bp, *lenp, *lenp + n);
    assert_non_null(nb);
    memmove(nb + at + n, nb + at, *lenp - at);
    memset(nb + at, 0, n);
    *bp = nb;
    *lenp += n;
    store_u64(nb + BC_OFF_LENGTH, *lenp);
}

B(b_magic)
{
    UNUSED_LEN;
    (*bp)[1] = 'Q';
}
B(b_text_mode)
{ /* a CRLF -> LF conversion */
    UNUSED_LEN;
    memmove(*bp + 5, *bp + 6, *lenp - 6);
    (*lenp)--;
}
B(b_version_new)
{
    UNUSED_LEN;
    store_u32(*bp + BC_OFF_VERSION, 3);
}
B(b_version_zero)
{
    UNUSED_LEN;
    store_u32(*bp + BC_OFF_VERSION, 0);
}
B(b_flags)
{
    UNUSED_LEN;
    store_u32(*bp + BC_OFF_FLAGS, 1);
}
B(b_checksum) { (*bp)[*lenp - 1] ^= 0x01; }
B(b_length_big) { store_u64(*bp + BC_OFF_LENGTH, (uint64_t)*lenp + 1); }
B(b_length_huge)
{
    UNUSED_LEN;
    store_u64(*bp + BC_OFF_LENGTH, UINT64_MAX);
}
B(b_trailing)
{ /* extra bytes the header does not count */
    uint8_t *nb = perk_mem_realloc(*bp, *lenp, *lenp + 4);
    assert_non_null(nb);
    memset(nb + *lenp, 0, 4);
    *bp = nb;
    *lenp += 4;
}
B(b_after_sections) { insert_bytes(bp, lenp, *lenp, 4); }
B(b_section_count)
{
    UNUSED_LEN;
    store_u32(*bp + BC_OFF_SECTIONS, 17);
}
B(b_section_unknown) { store_u32(*bp + section_at(*bp, *lenp, BC_SEC_STRSETS), 99); }
B(b_section_order)
{ /* swap the ids of two sections */
    store_u32(*bp + section_at(*bp, *lenp, BC_SEC_INTS), BC_SEC_STRSETS);
}
B(b_section_too_long) { store_u32(*bp + section_at(*bp, *lenp, BC_SEC_CODE) + 4, 0x7FFFFFFF); }
B(b_section_extra)
{ /* 8 bytes more in 'ints' than its count needs */
    size_t at = section_at(*bp, *lenp, BC_SEC_INTS);
    uint32_t slen = load_u32(*bp + at + 4);
    insert_bytes(bp, lenp, at + 8 + slen, 8);
    store_u32(*bp + at + 4, slen + 8);
}
B(b_count_huge) { store_u32(*bp + payload_at(*bp, *lenp, BC_SEC_STRINGS), 0xFFFFFFFFu); }
B(b_count_limit) { store_u32(*bp + payload_at(*bp, *lenp, BC_SEC_INTS), 1u << 24); }
B(b_count_code) { store_u32(*bp + payload_at(*bp, *lenp, BC_SEC_CODE), 1000); }
B(b_count_tz) { store_u32(*bp + payload_at(*bp, *lenp, BC_SEC_TIMEZONE) + 8, 100001); }
B(b_strings_more_than_pool)
{
    size_t at = payload_at(*bp, *lenp, BC_SEC_STRINGS);
    store_u32(*bp + at, load_u32(*bp + at + 4) + 1);
}
B(b_blob_huge) { store_u32(*bp + payload_at(*bp, *lenp, BC_SEC_STRINGS) + 4, (1u << 27) + 1); }

/* The blob of the strings section (after n lengths). */
static size_t blob_at(const uint8_t *b, size_t len)
{
    size_t at = payload_at(b, len, BC_SEC_STRINGS);
    return at + 8 + (size_t)load_u32(b + at) * 4;
}
B(b_string_unterminated)
{ /* the NUL after string 0 (its length is the first in the section) */
    uint32_t len0 = load_u32(*bp + payload_at(*bp, *lenp, BC_SEC_STRINGS) + 8);
    assert_int_equal(len0, strlen("春茶节 Spring tea")); /* 3 x 3 bytes + 11 */
    (*bp)[blob_at(*bp, *lenp) + len0] = 'x';
}
B(b_string_inner_nul) { (*bp)[blob_at(*bp, *lenp) + 1] = 0; }
B(b_string_utf8) { (*bp)[blob_at(*bp, *lenp) + 1] = 0xFF; }
B(b_string_length)
{ /* string 0's length runs past the pool */
    store_u32(*bp + payload_at(*bp, *lenp, BC_SEC_STRINGS) + 8, 0x7FFFFFF0u);
}
B(b_string_slack)
{ /* the last NUL is followed by unused pool bytes: shorten the last string */
    size_t at = payload_at(*bp, *lenp, BC_SEC_STRINGS);
    uint32_t n = load_u32(*bp + at);
    size_t last = at + 8 + (size_t)(n - 1) * 4;
    uint32_t l = load_u32(*bp + last);
    store_u32(*bp + last, l - 1);
    (*bp)[blob_at(*bp, *lenp) + load_u32(*bp + at + 4) - 2] = 0; /* keep it terminated */
}
B(b_meta_reserved) { (*bp)[payload_at(*bp, *lenp, BC_SEC_META) + 15] = 1; }
/* byte 14 is the year-end expiry (0..2): 3 is read, then refused by the verifier */
B(b_meta_year_end) { (*bp)[payload_at(*bp, *lenp, BC_SEC_META) + 14] = 3; }
B(b_action_reserved) { (*bp)[payload_at(*bp, *lenp, BC_SEC_ACTIONS) + 4 + 1] = 1; }
B(b_step_reserved) { (*bp)[payload_at(*bp, *lenp, BC_SEC_STEPS) + 4 + 19] = 1; }
B(b_redeem_present) { (*bp)[payload_at(*bp, *lenp, BC_SEC_REDEEM)] = 2; }
B(b_redeem_reserved) { (*bp)[payload_at(*bp, *lenp, BC_SEC_REDEEM) + 3] = 1; }
B(b_opcode)
{ /* first instruction's opcode byte */
    (*bp)[payload_at(*bp, *lenp, BC_SEC_CODE) + 4] = 0xFF;
}
B(b_reserved_insn) { (*bp)[payload_at(*bp, *lenp, BC_SEC_CODE) + 4 + 3] = 0x80; }
B(b_meta_short)
{ /* meta section 4 bytes too short (its length and the file shrink together) */
    size_t at = section_at(*bp, *lenp, BC_SEC_META);
    memmove(*bp + at + 8 + 36, *bp + at + 8 + 40, *lenp - (at + 8 + 40));
    *lenp -= 4;
    store_u32(*bp + at + 4, 36);
    store_u64(*bp + BC_OFF_LENGTH, *lenp);
}
B(b_empty)
{
    *lenp = 0;
    UNUSED_LEN;
    (void)bp;
}
B(b_header_only)
{
    *lenp = BC_HEADER_SIZE;
    store_u64(*bp + BC_OFF_LENGTH, BC_HEADER_SIZE);
}

static const byte_case byte_cases[] = {
    { "bad magic", b_magic, true, PERK_BAD_MAGIC, "bad magic: not a Perk program" },
    { "text-mode transfer", b_text_mode, true, PERK_BAD_MAGIC, "bad magic" },
    { "newer format version", b_version_new, true, PERK_VERSION,
      "version: the program has format version 3, this libperk reads up to 2" },
    { "format version 0", b_version_zero, true, PERK_MALFORMED, "format version 0 does not exist" },
    { "unknown flags", b_flags, true, PERK_MALFORMED, "unknown header flags 0x1" },
    { "bad checksum", b_checksum, false, PERK_CHECKSUM, "checksum: the header says CRC-32C" },
    { "length beyond the file", b_length_big, true, PERK_TRUNCATED, "truncated: the header says" },
    { "absurd length", b_length_huge, true, PERK_TRUNCATED, "the header says 18446744073709551615 bytes" },
    { "trailing bytes", b_trailing, true, PERK_MALFORMED, "4 bytes follow the" },
    { "bytes after the last section", b_after_sections, true, PERK_MALFORMED,
      "4 bytes after the last section" },
    { "section count", b_section_count, true, PERK_MALFORMED,
      "17 sections, format version 2 has exactly 16" },
    { "unknown section id", b_section_unknown, true, PERK_MALFORMED, "expected section 5 ('strsets')" },
    { "sections out of order", b_section_order, true, PERK_MALFORMED, "expected section 4 ('ints')" },
    { "section longer than the file", b_section_too_long, true, PERK_TRUNCATED,
      "truncated: section 'code' needs 2147483647 bytes at offset" },
    { "section with extra bytes", b_section_extra, true, PERK_MALFORMED,
      "section 'ints' has 8 unexpected bytes" },
    { "4 billion strings", b_count_huge, true, PERK_MALFORMED,
      "section 'strings' claims 4294967295 entries" },
    { "16M ints in a small section", b_count_limit, true, PERK_TRUNCATED,
      "truncated: section 'ints' needs 134217728 bytes at offset" },
    { "more instructions than bytes", b_count_code, true, PERK_TRUNCATED,
      "section 'code' needs 8000 bytes at offset" },
    { "too many tz transitions", b_count_tz, true, PERK_MALFORMED,
      "100001 time zone transitions, the limit is 100000" },
    { "more strings than pool bytes", b_strings_more_than_pool, true, PERK_MALFORMED,
      "strings cannot fit in a" },
    { "string pool over the limit", b_blob_huge, true, PERK_MALFORMED, "string pool of 134217729 bytes" },
    { "string not terminated", b_string_unterminated, true, PERK_MALFORMED,
      "string 0 is not NUL-terminated" },
    { "NUL inside a string", b_string_inner_nul, true, PERK_MALFORMED,
      "string 0 contains a NUL byte at position 1" },
    { "invalid UTF-8 string", b_string_utf8, true, PERK_MALFORMED, "string 0 is not valid UTF-8" },
    { "string length past the pool", b_string_length, true, PERK_MALFORMED, "string 0 (length 2147483632" },
    { "slack after the last string", b_string_slack, true, PERK_MALFORMED,
      "unused bytes after its last string" },
    { "meta reserved byte", b_meta_reserved, true, PERK_MALFORMED,
      "section 'meta' entry 0: reserved byte" },
    { "meta year-end expiry", b_meta_year_end, true, PERK_VERIFY, "points year-end expiry 3" },
    { "action reserved bytes", b_action_reserved, true, PERK_MALFORMED,
      "section 'actions' entry 0: reserved" },
    { "step reserved bytes", b_step_reserved, true, PERK_MALFORMED, "section 'steps' entry 0: reserved" },
    { "redeem present = 2", b_redeem_present, true, PERK_MALFORMED, "redeem 'present' flag is 2" },
    { "redeem reserved bytes", b_redeem_reserved, true, PERK_MALFORMED,
      "section 'redeem' entry 0: reserved" },
    { "opcode byte 0xFF", b_opcode, true, PERK_VERIFY, "instruction 0 (?): unknown opcode 0xff" },
    { "reserved instruction bits", b_reserved_insn, true, PERK_VERIFY, "reserved field is 0x8000" },
    { "meta section short", b_meta_short, true, PERK_TRUNCATED, "truncated: section 'meta' needs 40 bytes" },
    { "empty file", b_empty, false, PERK_TRUNCATED, "truncated: the program is empty" },
    { "header only", b_header_only, true, PERK_TRUNCATED,
      "section 'meta' header needs 8 bytes at offset 32, only 0 left" },
};

static void test_byte_cases(void **state)
{
    (void)state;
    size_t n = sizeof byte_cases / sizeof byte_cases[0];
    for (size_t i = 0; i < n; i++) {
        const byte_case *c = &byte_cases[i];
        uint8_t *b;
        size_t len;
        sample_bytes(&b, &len);
        c->mutate(&b, &len);
        if (c->reseal) bytecode_seal(b, len);
        expect_load_error(b, len, c->status, c->expect, c->name);
        perk_mem_free(b);
    }
}

/* ---------------------------------------------------------------- hostile bytes in bulk */

/* Counts allocations: the largest single request and the peak of live bytes. */
typedef struct alloc_stats {
    size_t largest, live, peak, count;
} alloc_stats;

static alloc_stats stats;

static void *counting_alloc(size_t size, void *user)
{
    (void)user;
    size_t *block = malloc(sizeof(size_t) * 2 + size);
    if (!block) return NULL;
    block[0] = size;
    stats.count++;
    stats.live += size;
    if (size > stats.largest) stats.largest = size;
    if (stats.live > stats.peak) stats.peak = stats.live;
    return block + 2;
}

static void counting_release(void *ptr, void *user)
{
    (void)user;
    size_t *block = (size_t *)ptr - 2;
    stats.live -= block[0];
    free(block);
}

static void counting_on(void)
{
    memset(&stats, 0, sizeof stats);
    perk_allocator a = { counting_alloc, counting_release, NULL };
    perk_set_allocator(&a);
}

static void test_huge_counts_allocate_nothing_big(void **state)
{
    (void)state;
    uint8_t *b;
    size_t len;
    sample_bytes(&b, &len);
    counting_on();
    /* every table's count set to 0xFFFFFFFF, then to 2^24 (under the limit, over the bytes) */
    const uint32_t counted[] = { BC_SEC_STRINGS, BC_SEC_INTS,  BC_SEC_STRSETS, BC_SEC_ATTRS, BC_SEC_U32,
                                 BC_SEC_CODE,    BC_SEC_CONDS, BC_SEC_ACTIONS, BC_SEC_STEPS, BC_SEC_RULES,
                                 BC_SEC_EARNS,   BC_SEC_MULTS, BC_SEC_TIERS };
    const uint32_t values[] = { 0xFFFFFFFFu, 1u << 24, 0x7FFFFFFFu };
    for (size_t s = 0; s < sizeof counted / sizeof counted[0]; s++)
        for (size_t v = 0; v < sizeof values / sizeof values[0]; v++) {
            size_t at = payload_at(b, len, counted[s]);
            uint32_t saved = load_u32(b + at);
            store_u32(b + at, values[v]);
            bytecode_seal(b, len);
            perk_error err;
            perk_program *prog = perk_program_load(b, len, &err);
            assert_null(prog);
            assert_true(err.status == PERK_MALFORMED || err.status == PERK_TRUNCATED);
            store_u32(b + at, saved);
        }
    perk_set_allocator(NULL);
    /* nothing larger than a few times the file was ever requested, and nothing leaked */
    assert_true(stats.count > 0);
    assert_true(stats.largest <= 4 * len);
    assert_int_equal(stats.live, 0);
    perk_mem_free(b);

    /* a 20-byte file claiming 4 billion of something is rejected before any allocation but the copy
     * and the program record */
    uint8_t tiny[20];
    memcpy(tiny, BC_MAGIC, 8);
    memset(tiny + 8, 0xFF, 12);
    counting_on();
    perk_error err;
    assert_null(perk_program_load(tiny, sizeof tiny, &err));
    perk_set_allocator(NULL);
    assert_int_equal(err.status, PERK_TRUNCATED);
    assert_true(stats.largest <= sizeof(perk_program) + sizeof(tiny) + 64); /* + libperk's block header */
    assert_int_equal(stats.live, 0);
}

static void test_every_prefix_is_truncated(void **state)
{
    (void)state;
    uint8_t *b;
    size_t len;
    sample_bytes(&b, &len);
    for (size_t n = 0; n < len; n++) {
        /* an exact-size copy, so ASan sees any read past the end */
        uint8_t *copy = malloc(n ? n : 1);
        memcpy(copy, b, n);
        perk_error err;
        prog_data p;
        assert_int_equal(bytecode_read(copy, n, &p, &err), PERK_TRUNCATED);
        assert_true(strlen(err.message) > 0);
        assert_null(perk_program_load(copy, n, &err));
        assert_int_equal(err.status, PERK_TRUNCATED);
        /* and with the length field and checksum made to agree, the sections are cut instead */
        if (n >= BC_HEADER_SIZE) {
            store_u64(copy + BC_OFF_LENGTH, n);
            bytecode_seal(copy, n);
            assert_int_equal(bytecode_read(copy, n, &p, &err), PERK_TRUNCATED);
            if (!strstr(err.message, "truncated: section '")) fail_msg("prefix %zu: %s", n, err.message);
        }
        free(copy);
    }
    perk_mem_free(b);
}

/* Flips each byte (three ways) with the checksum recomputed: the reader and the verifier alone must
 * stop anything unsafe. Whatever loads must also disassemble. ASan/UBSan catch any bad access. */
static void test_flip_every_byte(void **state)
{
    (void)state;
    uint8_t *b;
    size_t len;
    sample_bytes(&b, &len);
    uint8_t *copy = malloc(len);
    const uint8_t flips[] = { 0x01, 0x80, 0xFF };
    size_t loaded = 0, rejected = 0;
    FILE *sink = fopen("/dev/null", "w");
    assert_non_null(sink);
    for (size_t i = 0; i < len; i++)
        for (size_t f = 0; f < sizeof flips; f++) {
            memcpy(copy, b, len);
            copy[i] ^= flips[f];
            bytecode_seal(copy, len);
            perk_error err;
            perk_program *prog = perk_program_load(copy, len, &err);
            if (prog) {
                loaded++;
                perk_disasm(&prog->d, sink);
                perk_program_free(prog);
            } else {
                rejected++;
                assert_int_not_equal(err.status, PERK_OK);
                assert_true(strlen(err.message) > 0);
            }
        }
    fclose(sink);
    print_message("flip test: %zu bytes x 3 flips: %zu loaded, %zu rejected\n", len, loaded, rejected);
    /* most flips land in code and tables that the verifier constrains */
    assert_true(rejected > loaded);
    free(copy);
    perk_mem_free(b);
}

/* Random multi-byte damage, deterministic seed. */
static void test_random_damage(void **state)
{
    (void)state;
    uint8_t *b;
    size_t len;
    sample_bytes(&b, &len);
    uint8_t *copy = malloc(len);
    uint64_t x = 0x9E3779B97F4A7C15u;
    for (int iter = 0; iter < 3000; iter++) {
        memcpy(copy, b, len);
        int hits = 1 + iter % 6;
        for (int h = 0; h < hits; h++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            size_t at = BC_HEADER_SIZE + (size_t)(x % (len - BC_HEADER_SIZE));
            copy[at] = (uint8_t)(x >> 32);
        }
        bytecode_seal(copy, len);
        perk_error err;
        perk_program *prog = perk_program_load(copy, len, &err);
        if (prog)
            perk_program_free(prog);
        else
            assert_int_not_equal(err.status, PERK_OK);
    }
    free(copy);
    perk_mem_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_program_cases),
        cmocka_unit_test(test_verify_direct),
        cmocka_unit_test(test_stack_limits_exact),
        cmocka_unit_test(test_minimal_program),
        cmocka_unit_test(test_byte_cases),
        cmocka_unit_test(test_huge_counts_allocate_nothing_big),
        cmocka_unit_test(test_every_prefix_is_truncated),
        cmocka_unit_test(test_flip_every_byte),
        cmocka_unit_test(test_random_damage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
