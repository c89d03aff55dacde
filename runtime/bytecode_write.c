/* bytecode_write.c - serializes a prog_data into the .pbc file format (docs/bytecode.md).
 *
 * Output is deterministic: fields are written in a fixed order, reserved bytes are zero, and the
 * string pool is re-packed in id order (each string followed by its NUL), so equal programs give
 * equal bytes whatever layout the code generator used for str_bytes.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "bytecode.h"

/* A growable output buffer; `failed` latches the first error. */
typedef struct wbuf {
    uint8_t *b;
    size_t len, cap;
    bool failed;
    char *err;
    size_t errlen;
} wbuf;

static void wb_fail(wbuf *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void wb_fail(wbuf *w, const char *fmt, ...)
{
    if (w->failed) return;
    w->failed = true;
    if (w->err && w->errlen) {
        int n = snprintf(w->err, w->errlen, "bytecode_write: ");
        if (n >= 0 && (size_t)n < w->errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(w->err + n, w->errlen - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
}

static uint8_t *wb_grow(wbuf *w, size_t n)
{
    if (w->failed) return NULL;
    if (n > BC_MAX_FILE_SIZE || w->len > BC_MAX_FILE_SIZE - n) {
        wb_fail(w, "program would be larger than %u bytes", BC_MAX_FILE_SIZE);
        return NULL;
    }
    if (w->len + n > w->cap) {
        size_t cap = w->cap ? w->cap : 4096;
        while (cap < w->len + n) cap *= 2;
        uint8_t *nb = perk_mem_realloc(w->b, w->cap, cap);
        if (!nb) {
            wb_fail(w, "out of memory");
            return NULL;
        }
        w->b = nb;
        w->cap = cap;
    }
    uint8_t *at = w->b + w->len;
    w->len += n;
    return at;
}

static void wb_u8(wbuf *w, uint8_t v)
{
    uint8_t *at = wb_grow(w, 1);
    if (at) at[0] = v;
}

static void wb_u16(wbuf *w, uint16_t v)
{
    uint8_t *at = wb_grow(w, 2);
    if (at) at[0] = (uint8_t)v, at[1] = (uint8_t)(v >> 8);
}

static void wb_put32(uint8_t *at, uint32_t v)
{
    for (int i = 0; i < 4; i++) at[i] = (uint8_t)(v >> (8 * i));
}

static void wb_u32(wbuf *w, uint32_t v)
{
    uint8_t *at = wb_grow(w, 4);
    if (at) wb_put32(at, v);
}

static void wb_i32(wbuf *w, int32_t v) { wb_u32(w, (uint32_t)v); }

static void wb_u64(wbuf *w, uint64_t v)
{
    uint8_t *at = wb_grow(w, 8);
    if (at)
        for (int i = 0; i < 8; i++) at[i] = (uint8_t)(v >> (8 * i));
}

static void wb_i64(wbuf *w, int64_t v) { wb_u64(w, (uint64_t)v); }

static void wb_bytes(wbuf *w, const void *src, size_t n)
{
    uint8_t *at = wb_grow(w, n);
    if (at && n) memcpy(at, src, n);
}

static void wb_loc(wbuf *w, prog_loc loc)
{
    wb_u32(w, loc.file);
    wb_u32(w, loc.line);
    wb_u32(w, loc.col);
}

static void wb_block(wbuf *w, prog_block b)
{
    wb_u32(w, b.start);
    wb_u32(w, b.count);
}

/* Starts a section: writes its id and a placeholder length; returns where the length goes. */
static size_t wb_section_begin(wbuf *w, uint32_t id)
{
    wb_u32(w, id);
    size_t at = w->len;
    wb_u32(w, 0);
    return at;
}

static void wb_section_end(wbuf *w, size_t length_at)
{
    if (w->failed) return;
    size_t n = w->len - length_at - 4;
    if (n > UINT32_MAX) {
        wb_fail(w, "a section is larger than 4 GiB");
        return;
    }
    wb_put32(w->b + length_at, (uint32_t)n);
}

/* Checks what writing needs: storage behind every count, counts within the format's limits. */
static bool wb_table_ok(wbuf *w, const char *what, uint32_t n, const void *ptr)
{
    if (n > BC_MAX_COUNT) {
        wb_fail(w, "table '%s' has %u entries, the format allows %u", what, n, BC_MAX_COUNT);
        return false;
    }
    if (n > 0 && !ptr) {
        wb_fail(w, "table '%s' has %u entries but no storage", what, n);
        return false;
    }
    return true;
}

static bool wb_check(wbuf *w, const prog_data *p)
{
    bool ok =
        wb_table_ok(w, "strings", p->n_strings, p->str_off) &&
        wb_table_ok(w, "strings", p->n_strings, p->str_len) && (p->n_strings == 0 || p->str_bytes) &&
        wb_table_ok(w, "timezone", p->n_tz, p->tz_at) && wb_table_ok(w, "timezone", p->n_tz, p->tz_offset) &&
        wb_table_ok(w, "ints", p->n_ints, p->ints) &&
        wb_table_ok(w, "strsets", p->n_strsets, p->strset_off) &&
        wb_table_ok(w, "strsets", p->n_strsets, p->strset_len) &&
        wb_table_ok(w, "attrs", p->n_attrs, p->attr_key) &&
        wb_table_ok(w, "attrs", p->n_attrs, p->attr_value) && wb_table_ok(w, "u32", p->n_u32, p->u32) &&
        wb_table_ok(w, "code", p->n_code, p->code) && wb_table_ok(w, "conds", p->n_conds, p->conds) &&
        wb_table_ok(w, "actions", p->n_actions, p->actions) &&
        wb_table_ok(w, "steps", p->n_steps, p->steps) && wb_table_ok(w, "rules", p->n_rules, p->rules) &&
        wb_table_ok(w, "earns", p->n_earns, p->earns) && wb_table_ok(w, "mults", p->n_mults, p->mults) &&
        wb_table_ok(w, "tiers", p->n_tiers, p->tiers);
    if (!ok) {
        wb_fail(w, "table 'strings' has entries but no bytes");
        return false;
    }
    if (p->n_tz > BC_MAX_TZ_TRANSITIONS) {
        wb_fail(w, "%u time zone transitions, the format allows %u", p->n_tz, BC_MAX_TZ_TRANSITIONS);
        return false;
    }
    /* Strings must be copyable: inside the blob, NUL-terminated, no inner NUL, valid UTF-8. */
    uint64_t total = 0;
    for (uint32_t i = 0; i < p->n_strings; i++) {
        uint64_t off = p->str_off[i], len = p->str_len[i];
        if (off + len >= p->str_bytes_len || p->str_bytes[off + len] != '\0') {
            wb_fail(w,
                    "string %u (offset %llu, length %llu) is not NUL-terminated inside the "
                    "%u-byte pool",
                    i, (unsigned long long)off, (unsigned long long)len, p->str_bytes_len);
            return false;
        }
        const uint8_t *s = (const uint8_t *)p->str_bytes + off;
        if (memchr(s, 0, len)) {
            wb_fail(w, "string %u contains a NUL byte", i);
            return false;
        }
        if (!bytecode_utf8_valid(s, len)) {
            wb_fail(w, "string %u is not valid UTF-8", i);
            return false;
        }
        total += len + 1;
    }
    if (total > BC_MAX_STRING_BYTES) {
        wb_fail(w, "strings take %llu bytes, the format allows %u", (unsigned long long)total,
                BC_MAX_STRING_BYTES);
        return false;
    }
    return true;
}

static void wb_sections(wbuf *w, const prog_data *p)
{
    size_t at;

    at = wb_section_begin(w, BC_SEC_META);
    wb_u32(w, p->name);
    wb_bytes(w, p->currency, 4);
    wb_i32(w, p->exponent);
    wb_u8(w, p->rounding);
    wb_u8(w, p->coupon_policy);
    wb_u8(w, p->points_expire_year_end);
    wb_u8(w, 0);
    wb_i64(w, p->max_discount_ppm);
    wb_i64(w, p->points_pending_seconds);
    wb_i64(w, p->points_expire_seconds);
    wb_section_end(w, at);

    at = wb_section_begin(w, BC_SEC_TIMEZONE);
    wb_u32(w, p->timezone);
    wb_i32(w, p->tz_base_offset);
    wb_u32(w, p->n_tz);
    for (uint32_t i = 0; i < p->n_tz; i++) {
        wb_i64(w, p->tz_at[i]);
        wb_i32(w, p->tz_offset[i]);
    }
    wb_section_end(w, at);

    at = wb_section_begin(w, BC_SEC_STRINGS);
    uint32_t blob = 0;
    for (uint32_t i = 0; i < p->n_strings; i++) blob += p->str_len[i] + 1; /* checked above */
    wb_u32(w, p->n_strings);
    wb_u32(w, blob);
    for (uint32_t i = 0; i < p->n_strings; i++) wb_u32(w, p->str_len[i]);
    for (uint32_t i = 0; i < p->n_strings; i++)
        wb_bytes(w, p->str_bytes + p->str_off[i], (size_t)p->str_len[i] + 1);
    wb_section_end(w, at);

    at = wb_section_begin(w, BC_SEC_INTS);
    wb_u32(w, p->n_ints);
    for (uint32_t i = 0; i < p->n_ints; i++) wb_i64(w, p->ints[i]);
    wb_section_end(w, at);

    at = wb_section_begin(w, BC_SEC_STRSETS);
    wb_u32(w, p->n_strsets);
    for (uint32_t i = 0; i < p->n_strsets; i++) {
        wb_u32(w, p->strset_off[i]);
        wb_u32(w, p->strset_len[i]);
    }
    wb_section_end(w, at);

    at = wb_section_begin(w, BC_SEC_ATTRS);
    wb_u32(w, p->n_attrs);
    for (uint32_t i = 0; i < p->n_attrs; i++) {
        wb_u32(w, p->attr_key[i]);
        wb_u32(w, p->attr_value[i]);
    }
    wb_section_end(w, at);

    at = wb_section_begin(w, BC_SEC_U32);
    wb_u32(w, p->n_u32);
    for (uint32_t i = 0; i < p->n_u32; i++) wb_u32(w, p->u32[i]);
    wb_section_end(w, at);

    at = wb_section_begin(w, BC_SEC_CODE);
    wb_u32(w, p->n_code);
    for (uint32_t i = 0; i < p->n_code; i++) {
        const prog_insn *in = &p->code[i];
        wb_u8(w, in->op);
        wb_u8(w, in->aux);
        wb_u16(w, in->reserved);
        wb_u32(w, in->arg);
    }
    wb_section_end(w, at);

    at = wb_section_begin(w, BC_SEC_CONDS);
    wb_u32(w, p->n_conds);
    for (uint32_t i = 0; i < p->n_conds; i++) {
        wb_u32(w, p->conds[i].text);
        wb_loc(w, p->conds[i].loc);
        wb_u32(w, p->conds[i].hint_set);
        wb_u32(w, p->conds[i].value_kind);
    }
    wb_section_end(w, at);

    at = wb_section_begin(w, BC_SEC_ACTIONS);
    wb_u32(w, p->n_actions);
    for (uint32_t i = 0; i < p->n_actions; i++) {
        const prog_action *a = &p->actions[i];
        wb_u8(w, a->kind);
        wb_u8(w, 0);
        wb_u16(w, 0);
        wb_u32(w, a->rule);
        for (int k = 0; k < 3; k++) wb_i64(w, a->p[k]);
        wb_u32(w, a->steps);
        wb_u32(w, a->n_steps);
        wb_u32(w, a->str1);
        wb_u32(w, a->str2);
        wb_loc(w, a->loc);
    }
    wb_section_end(w, at);

    at = wb_section_begin(w, BC_SEC_STEPS);
    wb_u32(w, p->n_steps);
    for (uint32_t i = 0; i < p->n_steps; i++) {
        wb_i64(w, p->steps[i].threshold);
        wb_i64(w, p->steps[i].value);
        wb_u8(w, p->steps[i].is_percent);
        wb_u8(w, 0);
        wb_u16(w, 0);
    }
    wb_section_end(w, at);

    at = wb_section_begin(w, BC_SEC_RULES);
    wb_u32(w, p->n_rules);
    for (uint32_t i = 0; i < p->n_rules; i++) {
        const prog_rule *r = &p->rules[i];
        wb_u32(w, r->id);
        wb_u32(w, r->label);
        wb_loc(w, r->loc);
        wb_block(w, r->code);
        wb_i32(w, r->priority);
        wb_u32(w, r->flags);
        wb_u32(w, r->group);
        wb_u32(w, r->coupon);
        wb_u32(w, r->coupon_campaign);
        wb_i64(w, r->cap);
        wb_i64(w, r->limit_uses);
        wb_i64(w, r->limit_money);
        wb_i64(w, r->limit_per_customer);
        wb_u32(w, r->first_cond);
        wb_u32(w, r->n_conds);
        wb_u32(w, r->guard_string);
        wb_u32(w, r->guard_cond);
        wb_u8(w, r->guard_kind);
        wb_u8(w, r->stage);
        wb_u16(w, r->limit_units);
    }
    wb_section_end(w, at);

    at = wb_section_begin(w, BC_SEC_EARNS);
    wb_u32(w, p->n_earns);
    for (uint32_t i = 0; i < p->n_earns; i++) {
        const prog_earn *e = &p->earns[i];
        wb_u32(w, e->id);
        wb_u32(w, e->label);
        wb_loc(w, e->loc);
        wb_block(w, e->code);
        wb_i64(w, e->points);
        wb_i64(w, e->per_money);
        wb_i64(w, e->cap);
        wb_u32(w, e->first_cond);
        wb_u32(w, e->n_conds);
    }
    wb_section_end(w, at);

    at = wb_section_begin(w, BC_SEC_MULTS);
    wb_u32(w, p->n_mults);
    for (uint32_t i = 0; i < p->n_mults; i++) {
        const prog_mult *m = &p->mults[i];
        wb_u32(w, m->id);
        wb_u32(w, m->label);
        wb_loc(w, m->loc);
        wb_block(w, m->code);
        wb_i64(w, m->num);
        wb_i64(w, m->den);
        wb_u32(w, m->targets);
        wb_u32(w, m->n_targets);
        wb_u32(w, m->first_cond);
        wb_u32(w, m->n_conds);
    }
    wb_section_end(w, at);

    at = wb_section_begin(w, BC_SEC_REDEEM);
    const prog_redeem *rd = &p->redeem;
    wb_u8(w, rd->present ? 1 : 0);
    wb_u8(w, 0);
    wb_u16(w, 0);
    wb_i64(w, rd->points);
    wb_i64(w, rd->money);
    wb_u32(w, rd->pays_for);
    wb_i64(w, rd->max_share_ppm);
    wb_i64(w, rd->min_balance);
    wb_block(w, rd->code);
    wb_u32(w, rd->first_cond);
    wb_u32(w, rd->n_conds);
    wb_section_end(w, at);

    at = wb_section_begin(w, BC_SEC_TIERS);
    wb_u32(w, p->n_tiers);
    for (uint32_t i = 0; i < p->n_tiers; i++) {
        const prog_tier *t = &p->tiers[i];
        wb_u32(w, t->id);
        wb_u32(w, t->label);
        wb_i64(w, t->spend);
        wb_i64(w, t->window_seconds);
        wb_u32(w, t->benefits);
        wb_u32(w, t->n_benefits);
    }
    wb_section_end(w, at);
}

bool bytecode_write(const prog_data *p, uint8_t **out, size_t *len, char *err, size_t errlen)
{
    wbuf w = { .err = err, .errlen = errlen };
    if (err && errlen) err[0] = '\0';
    if (out) *out = NULL;
    if (len) *len = 0;
    if (!p || !out || !len) {
        wb_fail(&w, "invalid argument");
        return false;
    }
    if (!wb_check(&w, p)) return false;

    wb_bytes(&w, BC_MAGIC, BC_MAGIC_LEN);
    wb_u32(&w, BC_FORMAT_VERSION);
    wb_u32(&w, 0); /* flags */
    wb_u64(&w, 0); /* total length, patched below */
    wb_u32(&w, 0); /* checksum, patched below */
    wb_u32(&w, BC_SECTION_COUNT);
    wb_sections(&w, p);
    if (w.failed) {
        perk_mem_free(w.b);
        return false;
    }
    for (int i = 0; i < 8; i++) w.b[BC_OFF_LENGTH + i] = (uint8_t)((uint64_t)w.len >> (8 * i));
    bytecode_seal(w.b, w.len);
    *out = w.b;
    *len = w.len;
    return true;
}
