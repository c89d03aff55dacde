/* bytecode_read.c - parses .pbc bytes (docs/bytecode.md) into a prog_data.
 *
 * The bytes are hostile. Every read is bounds-checked against the current section; every count is
 * checked against BC_MAX_COUNT and against the bytes that remain before anything is allocated, so
 * memory use is bounded by a small multiple of the input size. Offsets are size_t and all
 * arithmetic on them is done after a comparison that rules out overflow. Cross-references between
 * tables (indices, ranges, opcodes) are the verifier's job (verify.c); the reader only checks what
 * it needs to build the arrays: lengths, padding and the string pool.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "bytecode.h"

typedef struct reader {
    const uint8_t *b;
    size_t pos;          /* absolute offset of the next byte */
    size_t end;          /* end of the current section (or of the file) */
    const char *section; /* for messages */
    perk_error *err;
    perk_status status;
} reader;

static perk_status rd_fail(reader *r, perk_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static perk_status rd_fail(reader *r, perk_status st, const char *fmt, ...)
{
    if (r->status != PERK_OK) return r->status;
    r->status = st;
    if (r->err) {
        r->err->status = st;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->err->message, sizeof r->err->message, fmt, ap);
        va_end(ap);
    }
    return st;
}

static size_t rd_left(const reader *r) { return r->end - r->pos; }

/* Ensures n more bytes exist in the current section. */
static bool rd_need(reader *r, uint64_t n)
{
    if (r->status != PERK_OK) return false;
    if (n > rd_left(r)) {
        rd_fail(r, PERK_TRUNCATED, "truncated: section '%s' needs %llu bytes at offset %zu, only %zu left",
                r->section, (unsigned long long)n, r->pos, rd_left(r));
        return false;
    }
    return true;
}

/* The getters below are only called after rd_need covered them. */
static uint8_t rd_u8(reader *r) { return r->b[r->pos++]; }

static uint16_t rd_u16(reader *r)
{
    uint16_t v = (uint16_t)(r->b[r->pos] | (r->b[r->pos + 1] << 8));
    r->pos += 2;
    return v;
}

static uint32_t get_u32(const uint8_t *at)
{
    return (uint32_t)at[0] | (uint32_t)at[1] << 8 | (uint32_t)at[2] << 16 | (uint32_t)at[3] << 24;
}

static uint64_t get_u64(const uint8_t *at) { return (uint64_t)get_u32(at) | (uint64_t)get_u32(at + 4) << 32; }

static uint32_t rd_u32(reader *r)
{
    uint32_t v = get_u32(r->b + r->pos);
    r->pos += 4;
    return v;
}

static int32_t rd_i32(reader *r) { return (int32_t)rd_u32(r); }

static int64_t rd_i64(reader *r)
{
    uint64_t v = get_u64(r->b + r->pos);
    r->pos += 8;
    return (int64_t)v;
}

static prog_loc rd_loc(reader *r)
{
    prog_loc loc;
    loc.file = rd_u32(r);
    loc.line = rd_u32(r);
    loc.col = rd_u32(r);
    return loc;
}

static prog_block rd_block(reader *r)
{
    prog_block b;
    b.start = rd_u32(r);
    b.count = rd_u32(r);
    return b;
}

/* Reserved bytes must be zero, so that a later version can give them a meaning. */
static bool rd_reserved(reader *r, uint32_t value, uint32_t index, const char *what)
{
    if (value != 0) {
        rd_fail(r, PERK_MALFORMED, "malformed: section '%s' entry %u: reserved %s is 0x%x, must be 0",
                r->section, index, what, value);
        return false;
    }
    return true;
}

/* Reads a u32 count of records of `size` bytes each and checks it against the limit and the bytes
 * left in the section. */
static bool rd_count(reader *r, uint32_t size, uint32_t *n)
{
    if (!rd_need(r, 4)) return false;
    size_t at = r->pos;
    *n = rd_u32(r);
    if (*n > BC_MAX_COUNT) {
        rd_fail(r, PERK_MALFORMED, "malformed: section '%s' claims %u entries at offset %zu, the limit is %u",
                r->section, *n, at, BC_MAX_COUNT);
        return false;
    }
    return rd_need(r, (uint64_t)*n * size);
}

/* Allocates n elements of `size` bytes (NULL for n = 0, which is not an error). Not zeroed: every
 * reader below writes each element it allocates (or fails, and prog_data_free frees the arrays
 * unread). n * size cannot overflow: n <= BC_MAX_COUNT and size is a small struct. */
static void *rd_alloc(reader *r, uint32_t n, size_t size)
{
    if (n == 0 || r->status != PERK_OK) return NULL;
    void *p = perk_mem_alloc((size_t)n * size);
    if (!p) rd_fail(r, PERK_NOMEM, "out of memory reading section '%s' (%u entries)", r->section, n);
    return p;
}

#define RD_ARRAY(r, ptr, n) ((ptr) = rd_alloc((r), (n), sizeof *(ptr)), (n) == 0 || (ptr) != NULL)

static void rd_meta(reader *r, prog_data *p)
{
    if (!rd_need(r, BC_META_SIZE)) return;
    p->name = rd_u32(r);
    memcpy(p->currency, r->b + r->pos, 4);
    r->pos += 4;
    p->exponent = rd_i32(r);
    p->rounding = rd_u8(r);
    p->coupon_policy = rd_u8(r);
    p->points_expire_year_end = rd_u8(r);
    if (!rd_reserved(r, rd_u8(r), 0, "byte")) return;
    p->max_discount_ppm = rd_i64(r);
    p->points_pending_seconds = rd_i64(r);
    p->points_expire_seconds = rd_i64(r);
}

static void rd_timezone(reader *r, prog_data *p)
{
    if (!rd_need(r, 8)) return;
    p->timezone = rd_u32(r);
    p->tz_base_offset = rd_i32(r);
    if (!rd_need(r, 4)) return;
    uint32_t n = rd_u32(r);
    if (n > BC_MAX_TZ_TRANSITIONS) {
        rd_fail(r, PERK_MALFORMED, "malformed: %u time zone transitions, the limit is %u", n,
                BC_MAX_TZ_TRANSITIONS);
        return;
    }
    if (!rd_need(r, (uint64_t)n * BC_TZ_TRANSITION_SIZE)) return;
    if (!RD_ARRAY(r, p->tz_at, n) || !RD_ARRAY(r, p->tz_offset, n)) return;
    p->n_tz = n;
    for (uint32_t i = 0; i < n; i++) {
        p->tz_at[i] = rd_i64(r);
        p->tz_offset[i] = rd_i32(r);
    }
}

/* n, blob length, n lengths, then the blob: string i starts right after string i-1's NUL. */
static void rd_strings(reader *r, prog_data *p)
{
    if (!rd_need(r, 8)) return;
    uint32_t n = rd_u32(r);
    uint32_t blob = rd_u32(r);
    if (n > BC_MAX_COUNT) {
        rd_fail(r, PERK_MALFORMED, "malformed: section 'strings' claims %u entries, the limit is %u", n,
                BC_MAX_COUNT);
        return;
    }
    if (blob > BC_MAX_STRING_BYTES) {
        rd_fail(r, PERK_MALFORMED, "malformed: string pool of %u bytes, the limit is %u", blob,
                BC_MAX_STRING_BYTES);
        return;
    }
    if (n > blob) { /* every string needs at least its NUL */
        rd_fail(r, PERK_MALFORMED, "malformed: %u strings cannot fit in a %u-byte pool", n, blob);
        return;
    }
    if (!rd_need(r, (uint64_t)n * 4 + blob)) return;
    size_t lens_at = r->pos, blob_at = r->pos + (size_t)n * 4;
    if (!RD_ARRAY(r, p->str_off, n) || !RD_ARRAY(r, p->str_len, n)) return;
    if (!RD_ARRAY(r, p->str_bytes, blob)) return;
    p->n_strings = n;
    p->str_bytes_len = blob;
    if (blob) memcpy(p->str_bytes, r->b + blob_at, blob);
    uint32_t off = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t len = get_u32(r->b + lens_at + (size_t)i * 4);
        /* off <= blob here: every earlier string ended (NUL included) inside the pool */
        if (len >= blob - off) {
            rd_fail(r, PERK_MALFORMED,
                    "malformed: string %u (length %u at pool offset %u) runs past "
                    "the end of the %u-byte pool",
                    i, len, off, blob);
            return;
        }
        const uint8_t *s = (const uint8_t *)p->str_bytes + off;
        const uint8_t *nul = memchr(s, 0, (size_t)len + 1);
        if (nul != s + len) {
            if (nul)
                rd_fail(r, PERK_MALFORMED, "malformed: string %u contains a NUL byte at position %zu", i,
                        (size_t)(nul - s));
            else
                rd_fail(r, PERK_MALFORMED, "malformed: string %u is not NUL-terminated", i);
            return;
        }
        if (!bytecode_utf8_valid(s, len)) {
            rd_fail(r, PERK_MALFORMED, "malformed: string %u is not valid UTF-8", i);
            return;
        }
        p->str_off[i] = off;
        p->str_len[i] = len;
        off += len + 1;
    }
    if (off != blob) {
        rd_fail(r, PERK_MALFORMED, "malformed: the string pool has %u unused bytes after its last string",
                blob - off);
        return;
    }
    r->pos = blob_at + blob;
}

static void rd_ints(reader *r, prog_data *p)
{
    uint32_t n;
    if (!rd_count(r, 8, &n) || !RD_ARRAY(r, p->ints, n)) return;
    p->n_ints = n;
    for (uint32_t i = 0; i < n; i++) p->ints[i] = rd_i64(r);
}

static void rd_pairs(reader *r, uint32_t *count, uint32_t **a, uint32_t **b)
{
    uint32_t n;
    if (!rd_count(r, 8, &n) || !RD_ARRAY(r, *a, n) || !RD_ARRAY(r, *b, n)) return;
    *count = n;
    for (uint32_t i = 0; i < n; i++) {
        (*a)[i] = rd_u32(r);
        (*b)[i] = rd_u32(r);
    }
}

static void rd_u32pool(reader *r, prog_data *p)
{
    uint32_t n;
    if (!rd_count(r, 4, &n) || !RD_ARRAY(r, p->u32, n)) return;
    p->n_u32 = n;
    for (uint32_t i = 0; i < n; i++) p->u32[i] = rd_u32(r);
}

static void rd_code(reader *r, prog_data *p)
{
    uint32_t n;
    if (!rd_count(r, BC_INSN_SIZE, &n) || !RD_ARRAY(r, p->code, n)) return;
    p->n_code = n;
    for (uint32_t i = 0; i < n; i++) {
        prog_insn *in = &p->code[i];
        in->op = rd_u8(r);
        in->aux = rd_u8(r);
        in->reserved = rd_u16(r); /* the verifier reports a nonzero one with its instruction */
        in->arg = rd_u32(r);
    }
}

static void rd_conds(reader *r, prog_data *p)
{
    uint32_t n;
    if (!rd_count(r, BC_COND_SIZE, &n) || !RD_ARRAY(r, p->conds, n)) return;
    p->n_conds = n;
    for (uint32_t i = 0; i < n; i++) {
        p->conds[i].text = rd_u32(r);
        p->conds[i].loc = rd_loc(r);
        p->conds[i].hint_set = rd_u32(r);
        p->conds[i].value_kind = rd_u32(r);
    }
}

static void rd_actions(reader *r, prog_data *p)
{
    uint32_t n;
    if (!rd_count(r, BC_ACTION_SIZE, &n) || !RD_ARRAY(r, p->actions, n)) return;
    p->n_actions = n;
    for (uint32_t i = 0; i < n; i++) {
        prog_action *a = &p->actions[i];
        a->kind = rd_u8(r);
        uint32_t pad = rd_u8(r);
        pad |= (uint32_t)rd_u16(r) << 8;
        if (!rd_reserved(r, pad, i, "bytes")) return;
        a->rule = rd_u32(r);
        for (int k = 0; k < 3; k++) a->p[k] = rd_i64(r);
        a->steps = rd_u32(r);
        a->n_steps = rd_u32(r);
        a->str1 = rd_u32(r);
        a->str2 = rd_u32(r);
        a->loc = rd_loc(r);
    }
}

static void rd_steps(reader *r, prog_data *p)
{
    uint32_t n;
    if (!rd_count(r, BC_STEP_SIZE, &n) || !RD_ARRAY(r, p->steps, n)) return;
    p->n_steps = n;
    for (uint32_t i = 0; i < n; i++) {
        prog_step *s = &p->steps[i];
        s->threshold = rd_i64(r);
        s->value = rd_i64(r);
        s->is_percent = rd_u8(r);
        uint32_t pad = rd_u8(r);
        pad |= (uint32_t)rd_u16(r) << 8;
        if (!rd_reserved(r, pad, i, "bytes")) return;
    }
}

static void rd_rules(reader *r, prog_data *p)
{
    uint32_t n;
    if (!rd_count(r, BC_RULE_SIZE, &n) || !RD_ARRAY(r, p->rules, n)) return;
    p->n_rules = n;
    for (uint32_t i = 0; i < n; i++) {
        prog_rule *ru = &p->rules[i];
        ru->id = rd_u32(r);
        ru->label = rd_u32(r);
        ru->loc = rd_loc(r);
        ru->code = rd_block(r);
        ru->priority = rd_i32(r);
        ru->flags = rd_u32(r);
        ru->group = rd_u32(r);
        ru->coupon = rd_u32(r);
        ru->coupon_campaign = rd_u32(r);
        ru->cap = rd_i64(r);
        ru->limit_uses = rd_i64(r);
        ru->limit_money = rd_i64(r);
        ru->limit_per_customer = rd_i64(r);
        ru->first_cond = rd_u32(r);
        ru->n_conds = rd_u32(r);
        ru->guard_string = rd_u32(r);
        ru->guard_cond = rd_u32(r);
        ru->guard_kind = rd_u8(r);
        ru->stage = rd_u8(r); /* was reserved (0 = the items stage): older programs read the same */
        ru->limit_units = rd_u16(r); /* was reserved (0 = no unit limit): older programs read the same */
    }
}

static void rd_earns(reader *r, prog_data *p)
{
    uint32_t n;
    if (!rd_count(r, BC_EARN_SIZE, &n) || !RD_ARRAY(r, p->earns, n)) return;
    p->n_earns = n;
    for (uint32_t i = 0; i < n; i++) {
        prog_earn *e = &p->earns[i];
        e->id = rd_u32(r);
        e->label = rd_u32(r);
        e->loc = rd_loc(r);
        e->code = rd_block(r);
        e->points = rd_i64(r);
        e->per_money = rd_i64(r);
        e->cap = rd_i64(r);
        e->first_cond = rd_u32(r);
        e->n_conds = rd_u32(r);
    }
}

static void rd_mults(reader *r, prog_data *p)
{
    uint32_t n;
    if (!rd_count(r, BC_MULT_SIZE, &n) || !RD_ARRAY(r, p->mults, n)) return;
    p->n_mults = n;
    for (uint32_t i = 0; i < n; i++) {
        prog_mult *m = &p->mults[i];
        m->id = rd_u32(r);
        m->label = rd_u32(r);
        m->loc = rd_loc(r);
        m->code = rd_block(r);
        m->num = rd_i64(r);
        m->den = rd_i64(r);
        m->targets = rd_u32(r);
        m->n_targets = rd_u32(r);
        m->first_cond = rd_u32(r);
        m->n_conds = rd_u32(r);
    }
}

static void rd_redeem(reader *r, prog_data *p)
{
    if (!rd_need(r, BC_REDEEM_SIZE)) return;
    prog_redeem *rd = &p->redeem;
    uint8_t present = rd_u8(r);
    if (present > 1) {
        rd_fail(r, PERK_MALFORMED, "malformed: redeem 'present' flag is %u, must be 0 or 1", present);
        return;
    }
    rd->present = present == 1;
    uint32_t pad = rd_u8(r);
    pad |= (uint32_t)rd_u16(r) << 8;
    if (!rd_reserved(r, pad, 0, "bytes")) return;
    rd->points = rd_i64(r);
    rd->money = rd_i64(r);
    rd->pays_for = rd_u32(r);
    rd->max_share_ppm = rd_i64(r);
    rd->min_balance = rd_i64(r);
    rd->code = rd_block(r);
    rd->first_cond = rd_u32(r);
    rd->n_conds = rd_u32(r);
}

static void rd_tiers(reader *r, prog_data *p)
{
    uint32_t n;
    if (!rd_count(r, BC_TIER_SIZE, &n) || !RD_ARRAY(r, p->tiers, n)) return;
    p->n_tiers = n;
    for (uint32_t i = 0; i < n; i++) {
        prog_tier *t = &p->tiers[i];
        t->id = rd_u32(r);
        t->label = rd_u32(r);
        t->spend = rd_i64(r);
        t->window_seconds = rd_i64(r);
        t->benefits = rd_u32(r);
        t->n_benefits = rd_u32(r);
    }
}

typedef void (*section_reader)(reader *, prog_data *);

static void rd_strsets(reader *r, prog_data *p)
{
    rd_pairs(r, &p->n_strsets, &p->strset_off, &p->strset_len);
}
static void rd_attrs(reader *r, prog_data *p) { rd_pairs(r, &p->n_attrs, &p->attr_key, &p->attr_value); }

static const struct {
    uint32_t id;
    const char *name;
    section_reader read;
} sections[BC_SECTION_COUNT] = {
    { BC_SEC_META, "meta", rd_meta },          { BC_SEC_TIMEZONE, "timezone", rd_timezone },
    { BC_SEC_STRINGS, "strings", rd_strings }, { BC_SEC_INTS, "ints", rd_ints },
    { BC_SEC_STRSETS, "strsets", rd_strsets }, { BC_SEC_ATTRS, "attrs", rd_attrs },
    { BC_SEC_U32, "u32", rd_u32pool },         { BC_SEC_CODE, "code", rd_code },
    { BC_SEC_CONDS, "conds", rd_conds },       { BC_SEC_ACTIONS, "actions", rd_actions },
    { BC_SEC_STEPS, "steps", rd_steps },       { BC_SEC_RULES, "rules", rd_rules },
    { BC_SEC_EARNS, "earns", rd_earns },       { BC_SEC_MULTS, "mults", rd_mults },
    { BC_SEC_REDEEM, "redeem", rd_redeem },    { BC_SEC_TIERS, "tiers", rd_tiers },
};

/* Magic, version, flags, length and checksum, in that order: a newer version is reported as such
 * even when the rest of its header means something else. */
static void rd_header(reader *r, const uint8_t *bytes, size_t len)
{
    size_t m = len < BC_MAGIC_LEN ? len : BC_MAGIC_LEN;
    if (memcmp(bytes, BC_MAGIC, m) != 0) {
        rd_fail(r, PERK_BAD_MAGIC,
                "bad magic: not a Perk program (expected the bytes 89 50 45 52 4B 0D 0A 1A)");
        return;
    }
    if (len < BC_HEADER_SIZE) {
        rd_fail(r, PERK_TRUNCATED, "truncated: the header needs %u bytes, the file has %zu", BC_HEADER_SIZE,
                len);
        return;
    }
    uint32_t version = get_u32(bytes + BC_OFF_VERSION);
    if (version > BC_FORMAT_VERSION) {
        rd_fail(r, PERK_VERSION, "version: the program has format version %u, this libperk reads up to %u",
                version, BC_FORMAT_VERSION);
        return;
    }
    if (version != BC_FORMAT_VERSION) {
        rd_fail(r, PERK_MALFORMED, "malformed: format version %u does not exist", version);
        return;
    }
    uint32_t flags = get_u32(bytes + BC_OFF_FLAGS);
    if (flags != 0) {
        rd_fail(r, PERK_MALFORMED, "malformed: unknown header flags 0x%x", flags);
        return;
    }
    uint64_t total = get_u64(bytes + BC_OFF_LENGTH);
    if (total > len) {
        rd_fail(r, PERK_TRUNCATED, "truncated: the header says %llu bytes, the file has %zu",
                (unsigned long long)total, len);
        return;
    }
    if (total < len) {
        rd_fail(r, PERK_MALFORMED, "malformed: %zu bytes follow the %llu-byte program", len - (size_t)total,
                (unsigned long long)total);
        return;
    }
    uint32_t want = get_u32(bytes + BC_OFF_CHECKSUM);
    uint32_t got = bytecode_crc32c(bytes + BC_HEADER_SIZE, len - BC_HEADER_SIZE);
    if (want != got) {
        rd_fail(r, PERK_CHECKSUM, "checksum: the header says CRC-32C %08x, the content has %08x", want, got);
        return;
    }
    uint32_t count = get_u32(bytes + BC_OFF_SECTIONS);
    if (count != BC_SECTION_COUNT) {
        rd_fail(r, PERK_MALFORMED, "malformed: %u sections, format version %u has exactly %u", count,
                BC_FORMAT_VERSION, BC_SECTION_COUNT);
        return;
    }
    r->pos = BC_HEADER_SIZE;
}

perk_status bytecode_read(const uint8_t *bytes, size_t len, prog_data *out, perk_error *err)
{
    reader r = { .b = bytes, .end = len, .section = "header", .err = err, .status = PERK_OK };
    if (err) {
        err->status = PERK_OK;
        err->message[0] = '\0';
    }
    if (!out) return rd_fail(&r, PERK_INVALID, "bytecode_read: no output");
    memset(out, 0, sizeof *out);
    if (!bytes && len) return rd_fail(&r, PERK_INVALID, "bytecode_read: no bytes");
    if (len == 0) return rd_fail(&r, PERK_TRUNCATED, "truncated: the program is empty");
    if (len > BC_MAX_FILE_SIZE)
        return rd_fail(&r, PERK_MALFORMED, "malformed: %zu bytes, more than the limit of %u", len,
                       BC_MAX_FILE_SIZE);

    rd_header(&r, bytes, len);
    for (uint32_t s = 0; s < BC_SECTION_COUNT && r.status == PERK_OK; s++) {
        r.end = len;
        r.section = "header";
        size_t at = r.pos;
        if (len - at < BC_SECTION_HEADER_SIZE) {
            rd_fail(&r, PERK_TRUNCATED,
                    "truncated: section '%s' header needs %u bytes at offset %zu, only %zu left",
                    sections[s].name, BC_SECTION_HEADER_SIZE, at, len - at);
            break;
        }
        uint32_t id = rd_u32(&r), slen = rd_u32(&r);
        if (id != sections[s].id) {
            rd_fail(&r, PERK_MALFORMED, "malformed: expected section %u ('%s') at offset %zu, found id %u",
                    sections[s].id, sections[s].name, at, id);
            break;
        }
        r.section = sections[s].name;
        if (slen > len - r.pos) {
            rd_fail(&r, PERK_TRUNCATED, "truncated: section '%s' needs %u bytes at offset %zu, only %zu left",
                    r.section, slen, r.pos, len - r.pos);
            break;
        }
        r.end = r.pos + slen;
        sections[s].read(&r, out);
        if (r.status == PERK_OK && r.pos != r.end)
            rd_fail(&r, PERK_MALFORMED, "malformed: section '%s' has %zu unexpected bytes at offset %zu",
                    r.section, r.end - r.pos, r.pos);
        r.pos = r.end;
    }
    if (r.status == PERK_OK && r.pos != len)
        rd_fail(&r, PERK_MALFORMED, "malformed: %zu bytes after the last section at offset %zu", len - r.pos,
                r.pos);
    if (r.status != PERK_OK) prog_data_free(out);
    return r.status;
}
