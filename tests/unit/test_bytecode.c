/* test_bytecode.c - the .pbc writer and reader, the checksum, the loader and its accessors, the
 * disassembler, and that docs/bytecode.md lists every opcode as opcodes.h defines it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bc_sample.h"
#include "bytecode.h"
#include "disasm.h"
#include "program_internal.h"
#include "verify.h"

/* Builds the sample program and serializes it. */
static void sample_bytes(uint8_t **bytes, size_t *len)
{
    prog_data p;
    bc_sample(&p);
    char err[256];
    bool ok = bytecode_write(&p, bytes, len, err, sizeof err);
    if (!ok) fail_msg("%s", err);
    prog_data_free(&p);
}

/* ---------------------------------------------------------------- tables and helpers */

static void test_opcode_tables(void **state)
{
    (void)state;
    assert_string_equal(perk_opcode_table[PERK_OP_PUSH_INT].name, "PUSH_INT");
    assert_string_equal(perk_opcode_table[PERK_OP_END].name, "END");
    assert_int_equal(perk_opcode_table[PERK_OP_SET_CMP].arg, PERK_ARG_FIELD);
    assert_string_equal(perk_opcode_table[PERK_OP_SET_CMP].pops, "s");
    assert_string_equal(perk_opcode_table[PERK_OP_SET_CMP].pushes, "l");
    assert_string_equal(perk_opcode_table[PERK_OP_APPLY2].pops, "ll");
    assert_string_equal(perk_arg_kind_names[PERK_ARG_JUMP], "JUMP");
    for (int i = 0; i < PERK_OP_COUNT; i++) {
        const perk_opcode_info *o = &perk_opcode_table[i];
        assert_non_null(o->name);
        assert_non_null(o->doc);
        assert_true(o->arg < PERK_ARG_KIND_COUNT);
        for (const char *c = o->pops; *c; c++) assert_true(*c == 's' || *c == 'l');
        for (const char *c = o->pushes; *c; c++) assert_true(*c == 's' || *c == 'l');
    }
    for (int i = 0; i < PERK_ARG_KIND_COUNT; i++) assert_non_null(perk_arg_kind_names[i]);
}

/* Bit-at-a-time CRC-32C, the definition the table-driven version must agree with. */
static uint32_t crc32c_slow(const uint8_t *d, size_t n)
{
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        crc ^= d[i];
        for (int k = 0; k < 8; k++) crc = crc & 1 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
    }
    return ~crc;
}

static void test_crc32c(void **state)
{
    (void)state;
    assert_int_equal(bytecode_crc32c((const uint8_t *)"123456789", 9), 0xE3069283u); /* standard check */
    assert_int_equal(bytecode_crc32c_portable((const uint8_t *)"123456789", 9), 0xE3069283u);
    assert_int_equal(bytecode_crc32c(NULL, 0), 0);
    assert_int_equal(bytecode_crc32c_portable(NULL, 0), 0);
    /* RFC 3720 (iSCSI), B.4: 32 bytes of zeros, of 0xFF, ascending and descending */
    uint8_t v[32];
    memset(v, 0, sizeof v);
    assert_int_equal(bytecode_crc32c_portable(v, 32), 0x8A9136AAu);
    memset(v, 0xFF, sizeof v);
    assert_int_equal(bytecode_crc32c_portable(v, 32), 0x62A8AB43u);
    for (int i = 0; i < 32; i++) v[i] = (uint8_t)i;
    assert_int_equal(bytecode_crc32c_portable(v, 32), 0x46DD794Eu);
    for (int i = 0; i < 32; i++) v[i] = (uint8_t)(31 - i);
    assert_int_equal(bytecode_crc32c_portable(v, 32), 0x113FDB5Cu);
}

/* The slice-by-8 code, the CPU's crc32 instruction (when this machine has it) and the bitwise
 * definition agree on random buffers of every length up to 1 KiB plus a few larger ones, at every
 * alignment modulo 8 (the hardware path aligns its 8-byte reads first). */
static void test_crc32c_implementations(void **state)
{
    (void)state;
    enum { BIG = 70000 };
    uint8_t *buf = malloc(BIG + 8);
    assert_non_null(buf);
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < BIG + 8; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        buf[i] = (uint8_t)x;
    }
    uint32_t hw;
    bool have_hw = bytecode_crc32c_hw(buf, 9, &hw);
    print_message("crc32c: hardware implementation %s on this machine\n",
                  have_hw ? "checked" : "not available");
    size_t lens[1100], n_lens = 0;
    for (size_t n = 0; n <= 1024; n++) lens[n_lens++] = n;
    const size_t big[] = { 8191, 8192, 65536, 65537, BIG };
    for (size_t i = 0; i < sizeof big / sizeof big[0]; i++) lens[n_lens++] = big[i];
    for (size_t k = 0; k < n_lens; k++) {
        size_t n = lens[k], off = k % 8;
        uint32_t want = crc32c_slow(buf + off, n);
        assert_int_equal(bytecode_crc32c_portable(buf + off, n), want);
        assert_int_equal(bytecode_crc32c(buf + off, n), want);
        if (have_hw) {
            hw = ~want;
            assert_true(bytecode_crc32c_hw(buf + off, n, &hw));
            assert_int_equal(hw, want);
        }
    }
    free(buf);
}

static void test_utf8(void **state)
{
    (void)state;
    struct {
        const char *s;
        bool ok;
    } cases[] = {
        { "", true },
        { "tea", true },
        { "会员日", true },
        { "\xF0\x9F\x8D\xB5", true },  /* U+1F375 teacup */
        { "\xC3\x28", false },         /* bad continuation */
        { "\xC0\xAF", false },         /* overlong '/' */
        { "\xE0\x80\xAF", false },     /* overlong, 3 bytes */
        { "\xED\xA0\x80", false },     /* surrogate U+D800 */
        { "\xF4\x90\x80\x80", false }, /* U+110000 */
        { "\xE4\xBC", false },         /* truncated sequence */
        { "\x80", false },             /* lone continuation */
        { "\xFF", false },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(bytecode_utf8_valid((const uint8_t *)cases[i].s, strlen(cases[i].s)), cases[i].ok);
}

/* ---------------------------------------------------------------- round trip */

static void assert_loc_equal(prog_loc a, prog_loc b)
{
    assert_int_equal(a.file, b.file);
    assert_int_equal(a.line, b.line);
    assert_int_equal(a.col, b.col);
}

static void assert_block_equal(prog_block a, prog_block b)
{
    assert_int_equal(a.start, b.start);
    assert_int_equal(a.count, b.count);
}

#define ASSERT_ARRAY_EQUAL(a, b, field, n)                                                          \
    do {                                                                                            \
        if ((n) > 0) assert_memory_equal((a)->field, (b)->field, (size_t)(n) * sizeof *(a)->field); \
    } while (0)

/* Field by field (structs have padding, so no memcmp of whole records). */
static void assert_prog_equal(const prog_data *a, const prog_data *b)
{
    assert_int_equal(a->name, b->name);
    assert_memory_equal(a->currency, b->currency, 4);
    assert_int_equal(a->exponent, b->exponent);
    assert_int_equal(a->rounding, b->rounding);
    assert_int_equal(a->coupon_policy, b->coupon_policy);
    assert_int_equal(a->max_discount_ppm, b->max_discount_ppm);
    assert_int_equal(a->points_pending_seconds, b->points_pending_seconds);
    assert_int_equal(a->points_expire_seconds, b->points_expire_seconds);
    assert_int_equal(a->points_expire_year_end, b->points_expire_year_end);
    assert_int_equal(a->timezone, b->timezone);
    assert_int_equal(a->tz_base_offset, b->tz_base_offset);
    assert_int_equal(a->n_tz, b->n_tz);
    ASSERT_ARRAY_EQUAL(a, b, tz_at, a->n_tz);
    ASSERT_ARRAY_EQUAL(a, b, tz_offset, a->n_tz);
    assert_int_equal(a->n_strings, b->n_strings);
    for (uint32_t i = 0; i < a->n_strings; i++) {
        assert_int_equal(a->str_len[i], b->str_len[i]);
        assert_string_equal(prog_string(a, i), prog_string(b, i));
    }
    assert_int_equal(a->n_ints, b->n_ints);
    ASSERT_ARRAY_EQUAL(a, b, ints, a->n_ints);
    assert_int_equal(a->n_strsets, b->n_strsets);
    ASSERT_ARRAY_EQUAL(a, b, strset_off, a->n_strsets);
    ASSERT_ARRAY_EQUAL(a, b, strset_len, a->n_strsets);
    assert_int_equal(a->n_attrs, b->n_attrs);
    ASSERT_ARRAY_EQUAL(a, b, attr_key, a->n_attrs);
    ASSERT_ARRAY_EQUAL(a, b, attr_value, a->n_attrs);
    assert_int_equal(a->n_u32, b->n_u32);
    ASSERT_ARRAY_EQUAL(a, b, u32, a->n_u32);
    assert_int_equal(a->n_code, b->n_code);
    for (uint32_t i = 0; i < a->n_code; i++) {
        assert_int_equal(a->code[i].op, b->code[i].op);
        assert_int_equal(a->code[i].aux, b->code[i].aux);
        assert_int_equal(a->code[i].reserved, b->code[i].reserved);
        assert_int_equal(a->code[i].arg, b->code[i].arg);
    }
    assert_int_equal(a->n_conds, b->n_conds);
    for (uint32_t i = 0; i < a->n_conds; i++) {
        assert_int_equal(a->conds[i].text, b->conds[i].text);
        assert_loc_equal(a->conds[i].loc, b->conds[i].loc);
        assert_int_equal(a->conds[i].hint_set, b->conds[i].hint_set);
    }
    assert_int_equal(a->n_actions, b->n_actions);
    for (uint32_t i = 0; i < a->n_actions; i++) {
        const prog_action *x = &a->actions[i], *y = &b->actions[i];
        assert_int_equal(x->kind, y->kind);
        assert_int_equal(x->rule, y->rule);
        for (int k = 0; k < 3; k++) assert_int_equal(x->p[k], y->p[k]);
        assert_int_equal(x->steps, y->steps);
        assert_int_equal(x->n_steps, y->n_steps);
        assert_int_equal(x->str1, y->str1);
        assert_int_equal(x->str2, y->str2);
        assert_loc_equal(x->loc, y->loc);
    }
    assert_int_equal(a->n_steps, b->n_steps);
    for (uint32_t i = 0; i < a->n_steps; i++) {
        assert_int_equal(a->steps[i].threshold, b->steps[i].threshold);
        assert_int_equal(a->steps[i].value, b->steps[i].value);
        assert_int_equal(a->steps[i].is_percent, b->steps[i].is_percent);
    }
    assert_int_equal(a->n_rules, b->n_rules);
    for (uint32_t i = 0; i < a->n_rules; i++) {
        const prog_rule *x = &a->rules[i], *y = &b->rules[i];
        assert_int_equal(x->id, y->id);
        assert_int_equal(x->label, y->label);
        assert_loc_equal(x->loc, y->loc);
        assert_block_equal(x->code, y->code);
        assert_int_equal(x->priority, y->priority);
        assert_int_equal(x->flags, y->flags);
        assert_int_equal(x->group, y->group);
        assert_int_equal(x->coupon, y->coupon);
        assert_int_equal(x->coupon_campaign, y->coupon_campaign);
        assert_int_equal(x->cap, y->cap);
        assert_int_equal(x->limit_uses, y->limit_uses);
        assert_int_equal(x->limit_money, y->limit_money);
        assert_int_equal(x->limit_per_customer, y->limit_per_customer);
        assert_int_equal(x->first_cond, y->first_cond);
        assert_int_equal(x->n_conds, y->n_conds);
        assert_int_equal(x->guard_kind, y->guard_kind);
        assert_int_equal(x->guard_string, y->guard_string);
        assert_int_equal(x->guard_cond, y->guard_cond);
    }
    assert_int_equal(a->n_earns, b->n_earns);
    for (uint32_t i = 0; i < a->n_earns; i++) {
        const prog_earn *x = &a->earns[i], *y = &b->earns[i];
        assert_int_equal(x->id, y->id);
        assert_int_equal(x->label, y->label);
        assert_loc_equal(x->loc, y->loc);
        assert_block_equal(x->code, y->code);
        assert_int_equal(x->points, y->points);
        assert_int_equal(x->per_money, y->per_money);
        assert_int_equal(x->cap, y->cap);
        assert_int_equal(x->first_cond, y->first_cond);
        assert_int_equal(x->n_conds, y->n_conds);
    }
    assert_int_equal(a->n_mults, b->n_mults);
    for (uint32_t i = 0; i < a->n_mults; i++) {
        const prog_mult *x = &a->mults[i], *y = &b->mults[i];
        assert_int_equal(x->id, y->id);
        assert_int_equal(x->label, y->label);
        assert_loc_equal(x->loc, y->loc);
        assert_block_equal(x->code, y->code);
        assert_int_equal(x->num, y->num);
        assert_int_equal(x->den, y->den);
        assert_int_equal(x->targets, y->targets);
        assert_int_equal(x->n_targets, y->n_targets);
        assert_int_equal(x->first_cond, y->first_cond);
        assert_int_equal(x->n_conds, y->n_conds);
    }
    const prog_redeem *x = &a->redeem, *y = &b->redeem;
    assert_int_equal(x->present, y->present);
    assert_int_equal(x->points, y->points);
    assert_int_equal(x->money, y->money);
    assert_int_equal(x->pays_for, y->pays_for);
    assert_int_equal(x->max_share_ppm, y->max_share_ppm);
    assert_int_equal(x->min_balance, y->min_balance);
    assert_block_equal(x->code, y->code);
    assert_int_equal(x->first_cond, y->first_cond);
    assert_int_equal(x->n_conds, y->n_conds);
    assert_int_equal(a->n_tiers, b->n_tiers);
    for (uint32_t i = 0; i < a->n_tiers; i++) {
        const prog_tier *s = &a->tiers[i], *t = &b->tiers[i];
        assert_int_equal(s->id, t->id);
        assert_int_equal(s->label, t->label);
        assert_int_equal(s->spend, t->spend);
        assert_int_equal(s->window_seconds, t->window_seconds);
        assert_int_equal(s->benefits, t->benefits);
        assert_int_equal(s->n_benefits, t->n_benefits);
    }
}

static void test_sample_is_complete_and_valid(void **state)
{
    (void)state;
    prog_data p;
    bc_sample(&p);
    /* the sample must exercise every opcode, action kind and table */
    bool used[PERK_OP_COUNT] = { false }, kinds[PROG_ACT_COUNT] = { false };
    for (uint32_t i = 0; i < p.n_code; i++) used[p.code[i].op] = true;
    for (int op = 0; op < PERK_OP_COUNT; op++)
        if (!used[op]) fail_msg("the sample program does not use %s", perk_opcode_table[op].name);
    for (uint32_t i = 0; i < p.n_actions; i++) kinds[p.actions[i].kind] = true;
    for (int k = 0; k < PROG_ACT_COUNT; k++)
        if (!kinds[k]) fail_msg("the sample program has no action of kind %d", k);
    assert_true(p.n_tz > 0 && p.n_strsets > 0 && p.n_attrs > 0 && p.n_steps > 0 && p.n_earns > 0 &&
                p.n_mults > 0 && p.redeem.present && p.n_tiers > 0 && p.n_ints > 0);
    perk_error err;
    assert_int_equal(verify_program(&p, &err), PERK_OK);
    assert_int_equal(p.max_scalars, 0); /* verify_program leaves p alone */
    assert_int_equal(verify_program_record(&p, &err), PERK_OK);
    /* deepest: 3 scalars for IN_RANGE in clearance; 2 sets for SET_OR/SET_AND/APPLY2 in bogo */
    assert_int_equal(p.max_scalars, 3);
    assert_int_equal(p.max_sets, 2);
    prog_data_free(&p);
}

static void test_round_trip(void **state)
{
    (void)state;
    prog_data p, q;
    bc_sample(&p);
    uint8_t *bytes, *again;
    size_t len, len2;
    char msg[256];
    assert_true(bytecode_write(&p, &bytes, &len, msg, sizeof msg));
    perk_error err;
    assert_int_equal(bytecode_read(bytes, len, &q, &err), PERK_OK);
    assert_prog_equal(&p, &q);
    /* a read program writes back to the same bytes */
    assert_true(bytecode_write(&q, &again, &len2, msg, sizeof msg));
    assert_int_equal(len, len2);
    assert_memory_equal(bytes, again, len);
    perk_mem_free(bytes);
    perk_mem_free(again);
    prog_data_free(&p);
    prog_data_free(&q);
}

/* `expire at end of next year` travels in meta byte 14 (once reserved) and back. */
static void test_round_trip_year_end(void **state)
{
    (void)state;
    prog_data p, q;
    bc_sample(&p);
    p.points_expire_seconds = 0;
    p.points_expire_year_end = 2;
    uint8_t *bytes;
    size_t len;
    char msg[256];
    assert_true(bytecode_write(&p, &bytes, &len, msg, sizeof msg));
    perk_error err;
    assert_int_equal(bytecode_read(bytes, len, &q, &err), PERK_OK);
    assert_int_equal(q.points_expire_year_end, 2);
    assert_int_equal(q.points_expire_seconds, 0);
    perk_mem_free(bytes);
    prog_data_free(&p);
    prog_data_free(&q);
}

static void test_header_layout(void **state)
{
    (void)state;
    uint8_t *b;
    size_t len;
    sample_bytes(&b, &len);
    assert_memory_equal(b, "\x89PERK\r\n\x1a", 8);
    assert_int_equal(b[8] | b[9] << 8 | b[10] << 16 | (uint32_t)b[11] << 24, 2); /* version */
    assert_int_equal(b[12] | b[13] | b[14] | b[15], 0);                          /* flags */
    uint64_t total = 0;
    for (int i = 7; i >= 0; i--) total = total << 8 | b[16 + i];
    assert_int_equal(total, len);
    uint32_t crc = b[24] | b[25] << 8 | b[26] << 16 | (uint32_t)b[27] << 24;
    assert_int_equal(crc, bytecode_crc32c(b + 32, len - 32));
    assert_int_equal(b[28], 16);
    /* sections 1..16 in order, lengths adding up to the file */
    size_t at = 32;
    for (uint32_t id = 1; id <= 16; id++) {
        assert_true(at + 8 <= len);
        uint32_t sid = b[at] | b[at + 1] << 8 | b[at + 2] << 16 | (uint32_t)b[at + 3] << 24;
        uint32_t slen = b[at + 4] | b[at + 5] << 8 | b[at + 6] << 16 | (uint32_t)b[at + 7] << 24;
        assert_int_equal(sid, id);
        if (id == BC_SEC_META) assert_int_equal(slen, BC_META_SIZE);
        if (id == BC_SEC_REDEEM) assert_int_equal(slen, BC_REDEEM_SIZE);
        at += 8 + slen;
    }
    assert_int_equal(at, len);
    perk_mem_free(b);
}

static void test_deterministic(void **state)
{
    (void)state;
    uint8_t *a, *b;
    size_t la, lb;
    sample_bytes(&a, &la);
    sample_bytes(&b, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, la);

    /* Same strings laid out differently in memory (junk first, then in reverse id order): the
     * writer re-packs the pool, so the bytes do not change. */
    prog_data p;
    bc_sample(&p);
    uint32_t total = 5;
    for (uint32_t i = 0; i < p.n_strings; i++) total += p.str_len[i] + 1;
    char *blob = perk_mem_alloc(total);
    memcpy(blob, "junk", 5);
    uint32_t off = 5;
    for (uint32_t i = p.n_strings; i-- > 0;) {
        memcpy(blob + off, prog_string(&p, i), p.str_len[i] + 1);
        p.str_off[i] = off;
        off += p.str_len[i] + 1;
    }
    perk_mem_free(p.str_bytes);
    p.str_bytes = blob;
    p.str_bytes_len = total;
    uint8_t *c;
    size_t lc;
    char msg[256];
    assert_true(bytecode_write(&p, &c, &lc, msg, sizeof msg));
    assert_int_equal(lc, la);
    assert_memory_equal(a, c, la);
    perk_mem_free(a);
    perk_mem_free(b);
    perk_mem_free(c);
    prog_data_free(&p);
}

static void test_checksum_detects_flipped_bits(void **state)
{
    (void)state;
    uint8_t *b;
    size_t len;
    sample_bytes(&b, &len);
    prog_data q;
    perk_error err;
    for (size_t i = BC_HEADER_SIZE; i < len; i++) {
        uint8_t bit = (uint8_t)(1u << (i % 8));
        b[i] ^= bit;
        assert_int_equal(bytecode_read(b, len, &q, &err), PERK_CHECKSUM);
        b[i] ^= bit;
    }
    assert_non_null(strstr(err.message, "checksum"));
    /* and a wrong checksum field itself */
    b[BC_OFF_CHECKSUM] ^= 0x40;
    assert_int_equal(bytecode_read(b, len, &q, &err), PERK_CHECKSUM);
    b[BC_OFF_CHECKSUM] ^= 0x40;
    assert_int_equal(bytecode_read(b, len, &q, &err), PERK_OK);
    prog_data_free(&q);
    perk_mem_free(b);
}

static void test_write_rejects_bad_input(void **state)
{
    (void)state;
    prog_data p;
    bc_sample(&p);
    uint8_t *b;
    size_t len;
    char msg[256];

    uint32_t saved = p.n_code;
    prog_insn *code = p.code;
    p.code = NULL;
    assert_false(bytecode_write(&p, &b, &len, msg, sizeof msg));
    assert_non_null(strstr(msg, "table 'code' has"));
    assert_null(b);
    p.code = code;
    p.n_code = saved;

    p.str_bytes[p.str_off[1] + p.str_len[1]] = 'x'; /* the NUL after string 1 */
    assert_false(bytecode_write(&p, &b, &len, msg, sizeof msg));
    assert_non_null(strstr(msg, "string 1"));
    p.str_bytes[p.str_off[1] + p.str_len[1]] = '\0';

    p.str_bytes[p.str_off[0]] = (char)0xFF;
    assert_false(bytecode_write(&p, &b, &len, msg, sizeof msg));
    assert_non_null(strstr(msg, "UTF-8"));
    prog_data_free(&p);
}

/* ---------------------------------------------------------------- loading */

static void test_load_and_accessors(void **state)
{
    (void)state;
    uint8_t *b;
    size_t len;
    sample_bytes(&b, &len);
    perk_error err;
    perk_program *prog = perk_program_load(b, len, &err);
    memset(b, 0, len); /* the program copied what it needed */
    perk_mem_free(b);
    if (!prog) fail_msg("%s", err.message);

    assert_string_equal(perk_program_name(prog), "春茶节 Spring tea");
    assert_string_equal(perk_program_currency(prog), "CNY");
    assert_string_equal(perk_program_timezone(prog), "Asia/Shanghai");
    assert_int_equal(perk_program_exponent(prog), 2);
    assert_int_equal(perk_program_promotion_count(prog), 5);
    assert_string_equal(perk_program_promotion_id(prog, 1), "member_day");
    assert_string_equal(perk_program_promotion_label(prog, 1), "会员日");
    assert_string_equal(perk_program_promotion_label(prog, 3), "bogo"); /* no label: the id */
    assert_null(perk_program_promotion_id(prog, 5));
    assert_null(perk_program_promotion_label(prog, 99));
    assert_int_equal(perk_program_find_promotion(prog, "tea_gift"), 2);
    assert_int_equal(perk_program_find_promotion(prog, "bundle"), 4);
    assert_int_equal(perk_program_find_promotion(prog, "tea"), -1); /* a string, not a promotion */
    assert_int_equal(perk_program_find_promotion(prog, "nothing"), -1);
    assert_int_equal(perk_program_find_promotion(prog, NULL), -1);
    assert_int_equal(perk_program_earn_count(prog), 2);
    assert_string_equal(perk_program_earn_id(prog, 1), "margin_bonus");
    assert_null(perk_program_earn_id(prog, 2));
    assert_string_equal(perk_condition_text(prog, 1), "every wednesday");
    assert_null(perk_condition_text(prog, 1000));
    const char *file;
    uint32_t line, col;
    perk_condition_location(prog, 3, &file, &line, &col);
    assert_string_equal(file, "test.perk");
    assert_int_equal(line, 1);
    assert_int_equal(col, 1);
    perk_condition_location(prog, 1000, &file, &line, &col);
    assert_null(file);
    assert_int_equal(line, 0);

    /* string lookup */
    uint32_t tea = prog_find_string(prog, "tea", 3);
    assert_int_not_equal(tea, PROG_NONE);
    assert_string_equal(prog_string(&prog->d, tea), "tea");
    assert_int_equal(prog_find_string(prog, "tea/green", 3), tea); /* length counts, not NUL */
    assert_int_equal(prog_find_string(prog, "te", 2), PROG_NONE);
    assert_int_equal(prog_find_string(prog, "龙井茶样", strlen("龙井茶样")), prog->d.actions[2].str2);
    for (uint32_t i = 0; i < prog->d.n_strings; i++)
        assert_int_equal(prog_find_string(prog, prog_string(&prog->d, i), prog->d.str_len[i]), i);
    assert_int_equal(prog_find_string(NULL, "tea", 3), PROG_NONE);

    /* the verifier's stack depths were recorded */
    assert_int_equal(prog->d.max_scalars, 3);
    assert_int_equal(prog->d.max_sets, 2);

    /* reference counting: two references, two frees (ASan reports a leak or double free) */
    assert_ptr_equal(perk_program_retain(prog), prog);
    perk_program_free(prog);
    assert_string_equal(perk_program_name(prog), "春茶节 Spring tea");
    perk_program_free(prog);
    perk_program_free(NULL);
    assert_null(perk_program_retain(NULL));
}

static void test_load_rejects_duplicate_strings(void **state)
{
    (void)state;
    prog_data p;
    bc_sample(&p);
    /* overwrite "VIP" with "tea" (same length): two ids now have the same text */
    uint32_t vip = pb_str(&p, "VIP");
    memcpy(p.str_bytes + p.str_off[vip], "tea", 3);
    uint8_t *b;
    size_t len;
    char msg[256];
    assert_true(bytecode_write(&p, &b, &len, msg, sizeof msg));
    perk_error err;
    assert_null(perk_program_load(b, len, &err));
    assert_int_equal(err.status, PERK_VERIFY);
    assert_non_null(strstr(err.message, "duplicates string"));
    perk_mem_free(b);
    prog_data_free(&p);
}

static void test_load_file(void **state)
{
    (void)state;
    char path[] = "/tmp/perk_test_bytecode_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    uint8_t *b;
    size_t len;
    sample_bytes(&b, &len);
    assert_int_equal(write(fd, b, len), (ssize_t)len);
    perk_error err;
    perk_program *prog = perk_program_load_file(path, &err);
    if (!prog) fail_msg("%s", err.message);
    assert_int_equal(perk_program_promotion_count(prog), 5);
    perk_program_free(prog);

    /* truncated file: the message starts with the path */
    assert_int_equal(ftruncate(fd, (off_t)len - 1), 0);
    assert_null(perk_program_load_file(path, &err));
    assert_int_equal(err.status, PERK_TRUNCATED);
    assert_memory_equal(err.message, path, strlen(path));

    /* too large: a sparse file over the limit is refused from its size, without being read */
    assert_int_equal(ftruncate(fd, (off_t)BC_MAX_FILE_SIZE + 1), 0);
    assert_null(perk_program_load_file(path, &err));
    assert_int_equal(err.status, PERK_LIMIT);
    assert_non_null(strstr(err.message, "larger than the limit"));

    /* empty file */
    assert_int_equal(ftruncate(fd, 0), 0);
    assert_null(perk_program_load_file(path, &err));
    assert_int_equal(err.status, PERK_TRUNCATED);
    close(fd);
    unlink(path);

    assert_null(perk_program_load_file("/nonexistent/dir/rules.pbc", &err));
    assert_int_equal(err.status, PERK_IO);
    assert_non_null(strstr(err.message, "cannot open"));
    assert_null(perk_program_load_file("/tmp", &err)); /* a directory: reading fails */
    assert_int_equal(err.status, PERK_IO);
    assert_null(perk_program_load_file(NULL, &err));
    assert_int_equal(err.status, PERK_INVALID);
    assert_null(perk_program_load(NULL, 10, NULL)); /* err may be NULL */
    perk_mem_free(b);
}

static void test_status_messages(void **state)
{
    (void)state;
    assert_string_equal(perk_status_message(PERK_OK), "ok");
    assert_string_equal(perk_status_message(PERK_CHECKSUM), "program checksum mismatch (corrupted file)");
    for (int s = 0; s < PERK_STATUS_COUNT; s++) assert_true(strlen(perk_status_message((perk_status)s)) > 0);
    assert_string_equal(perk_status_message(PERK_STATUS_COUNT), "unknown status");
    assert_string_equal(perk_status_message((perk_status)-1), "unknown status");
}

/* ---------------------------------------------------------------- disassembler */

static void test_disasm(void **state)
{
    (void)state;
    prog_data p;
    bc_sample(&p);
    perk_error err;
    assert_int_equal(verify_program_record(&p, &err), PERK_OK);
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    assert_non_null(f);
    perk_disasm(&p, f);
    fclose(f);
    const char *expect[] = {
        "ruleset \"春茶节 Spring tea\"",
        "currency CNY (exponent 2), rounding half_even, coupons one per order",
        "timezone \"Asia/Shanghai\", offset +08:05:43, 3 transitions",
        "from 1986-05-03T16:00:00Z: +09:00", /* 515520000 s = 5966 days (5844 to 1986-01-01, +122) + 57600 s */
        "max discount 60%",
        "stack: 3 scalars, 2 sets at most",
        "promotion #1 member_day \"会员日\"  at test.perk:1:1",
        "priority 20, flags stop",
        "requires coupon \"VIP\"",
        "cap 50.00 CNY",              /* 5000 fen */
        "limit total 1000000.00 CNY", /* 100000000 fen */
        "condition #1 \"every wednesday\"  at test.perk:1:1",
        "IN_MASK         0x4 {wed}",
        "LOAD_FACT       customer.tier",
        "tiers {100.00 CNY: 10.00 CNY off, 200.00 CNY: 15% off}",
        "percent off 30%",
        "JUMP_IF_FALSE   -> ",
        "IN_STRSET       #0 {\"miniprogram\", \"app\"}", /* ids sorted: "miniprogram" was interned first */
        "hint \"tea\"",
        "gift 1 of \"TEA-SAMPLE\" \"龙井茶样\"",
        "SET_CMP         price >=",
        "SET_ATTR        #0 \"origin\" = \"Yunnan\"",
        "APPLY2          #3 buy 2 get 1 at 100% off",
        "AGG_SUM         amount",
        "price by quantity {3: 8.00 CNY, 5: 7.00 CNY}",
        "every 100.00 CNY: 10.00 CNY off, up to 50.00 CNY",
        "any 3 for 99.00 CNY",
        "shipping off 50%",
        "effect \"vip_advisor_card\" \"您的专属顾问\"",
        "earn #1 margin_bonus \"高毛利加赠\"",
        "2 points per 1.00 CNY",
        "multiplier #0 birthday",
        "x2/1 on base, margin_bonus",
        "x3/2 on all",
        "rate 100 points = 1.00 CNY",
        "pays for goods shipping",
        "tier #1 gold \"金卡\"",
        "spend 5000.00 CNY within 31536000 s",
        "benefit \"free shipping\"",
        "END",
    };
    for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++)
        if (!strstr(text, expect[i])) fail_msg("disassembly lacks '%s':\n%s", expect[i], text);
    free(text);

    /* negative money and fractional percents */
    p.actions[0].p[0] = 125000;
    p.rules[1].cap = 5;
    p.exponent = 0;
    memcpy(p.currency, "JPY", 4);
    f = open_memstream(&text, &size);
    perk_disasm(&p, f);
    fclose(f);
    assert_non_null(strstr(text, "percent off 12.5%"));
    assert_non_null(strstr(text, "cap 5 JPY"));
    free(text);
    prog_data_free(&p);
}

/* A corrupted program prints placeholders, not garbage or a crash. */
static void test_disasm_survives_bad_indices(void **state)
{
    (void)state;
    prog_data p;
    bc_sample(&p);
    p.code[3].arg = 9999; /* LOAD_FACT (after the target precheck): bad fact */
    p.code[4].arg = 9999; /* PUSH_INT: bad int */
    p.code[6].op = 0xEE;  /* bad opcode */
    p.actions[0].kind = 77;
    p.rules[2].code.start = 1u << 30;
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    perk_disasm(&p, f);
    fclose(f);
    assert_non_null(strstr(text, "<bad fact 9999>"));
    assert_non_null(strstr(text, "<bad int 9999>"));
    assert_non_null(strstr(text, "<bad opcode 0xee>"));
    assert_non_null(strstr(text, "<bad action kind 77>"));
    assert_non_null(strstr(text, "<block outside the code>"));
    free(text);
    prog_data_free(&p);
}

/* ---------------------------------------------------------------- docs */

static void test_docs_list_every_opcode(void **state)
{
    (void)state;
    /* __FILE__ is tests/unit/test_bytecode.c relative to the repository root (or absolute) */
    char path[1024];
    const char *here = __FILE__;
    const char *slash = strrchr(here, '/');
    snprintf(path, sizeof path, "%.*s/../../docs/bytecode.md", slash ? (int)(slash - here) : 1,
             slash ? here : ".");
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("cannot open %s", path);
    static char doc[1 << 17];
    size_t n = fread(doc, 1, sizeof doc - 1, f);
    fclose(f);
    doc[n] = '\0';
    for (int op = 0; op < PERK_OP_COUNT; op++) {
        const perk_opcode_info *o = &perk_opcode_table[op];
        char row[256];
        snprintf(row, sizeof row, "| `%s` | %s | %s | %s |", o->name, perk_arg_kind_names[o->arg],
                 *o->pops ? o->pops : "-", *o->pushes ? o->pushes : "-");
        if (!strstr(doc, row)) fail_msg("docs/bytecode.md lacks the row '%s'", row);
    }
    /* and in the same order, since the opcode number is the row's position */
    const char *at = doc;
    for (int op = 0; op < PERK_OP_COUNT; op++) {
        char key[64];
        snprintf(key, sizeof key, "| `%s` |", perk_opcode_table[op].name);
        const char *next = strstr(at, key);
        if (!next) fail_msg("docs/bytecode.md lists %s out of order", perk_opcode_table[op].name);
        at = next;
    }
    char limits[64];
    snprintf(limits, sizeof limits, "**%u entries** (scalars and sets together", VERIFY_MAX_STACK);
    assert_non_null(strstr(doc, limits));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_opcode_tables),
        cmocka_unit_test(test_crc32c),
        cmocka_unit_test(test_crc32c_implementations),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_sample_is_complete_and_valid),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_round_trip_year_end),
        cmocka_unit_test(test_header_layout),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_checksum_detects_flipped_bits),
        cmocka_unit_test(test_write_rejects_bad_input),
        cmocka_unit_test(test_load_and_accessors),
        cmocka_unit_test(test_load_rejects_duplicate_strings),
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_status_messages),
        cmocka_unit_test(test_disasm),
        cmocka_unit_test(test_disasm_survives_bad_indices),
        cmocka_unit_test(test_docs_list_every_opcode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
