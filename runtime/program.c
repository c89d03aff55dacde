/* program.c - loading a compiled program (perk_program_load*), its lifetime (reference count) and
 * the read-only accessors of perk.h; also the string lookup table (prog_find_string) and
 * prog_data_free. The rule index built at load time is runtime/rule_index.c.
 *
 * Loading = bytecode_read (parse, hostile input) straight from the caller's bytes: it reads each
 * value once into the program's own arrays and every check after it runs on those, so a caller
 * changing its buffer meanwhile can only make the load fail or the checksum describe other bytes,
 * never let an unchecked value through (no copy of the input first); verify_program_record
 * (static checks, stack depths, guard proofs), an open-addressing hash of the string pool, which also rejects duplicate strings (the
 * VM compares strings by id, so every text must have exactly one id), then the rule index
 * (ridx_build, runtime/rule_index.c; docs/semantics.md, "The rule index") and the index slots of
 * the line matches (cidx_build in cart_index.c), which every context of the program shares.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "bytecode.h"
#include "program_internal.h"
#include "verify.h"

static const char *const status_messages[PERK_STATUS_COUNT] = {
#define PROGRAM_STATUS_MSG(NAME, name, msg) [PERK_##NAME] = msg,
    PERK_STATUS_LIST(PROGRAM_STATUS_MSG)
#undef PROGRAM_STATUS_MSG
};

const char *perk_status_message(perk_status status)
{
    if ((unsigned)status >= PERK_STATUS_COUNT) return "unknown status";
    return status_messages[status];
}

void prog_set_error(perk_error *err, perk_status st, const char *fmt, ...)
{
    if (!err) return;
    err->status = st;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
}

void prog_data_free(prog_data *p)
{
    if (!p) return;
    void *arrays[] = { p->tz_at, p->tz_offset,  p->str_off,    p->str_len,  p->str_bytes,
                       p->ints,  p->strset_off, p->strset_len, p->attr_key, p->attr_value,
                       p->u32,   p->code,       p->conds,      p->actions,  p->steps,
                       p->rules, p->earns,      p->mults,      p->tiers };
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++) perk_mem_free(arrays[i]);
    memset(p, 0, sizeof *p);
}

/* ---------------------------------------------------------------- string hash */

/* The last len < 8 bytes at s as one word (4, 2 and 1-byte loads, never past s + len). */
static inline uint64_t tail_bytes(const char *s, size_t len)
{
    uint64_t tail = 0;
    unsigned shift = 0;
    if (len & 4) {
        uint32_t v;
        memcpy(&v, s, 4);
        tail = v;
        s += 4;
        shift = 32;
    }
    if (len & 2) {
        uint16_t v;
        memcpy(&v, s, 2);
        tail |= (uint64_t)v << shift;
        s += 2;
        shift += 16;
    }
    if (len & 1) tail |= (uint64_t)(unsigned char)*s << shift;
    return tail;
}

/* True when the len bytes at a and b are equal: 8 bytes at a time, then the tail (cart strings
 * are short; this avoids a call to memcmp per probe that finds its hash). */
static inline bool same_bytes(const char *a, const char *b, size_t len)
{
    for (; len >= 8; a += 8, b += 8, len -= 8) {
        uint64_t x, y;
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        if (x != y) return false;
    }
    return tail_bytes(a, len) == tail_bytes(b, len);
}

/* A hash of the bytes, 8 at a time (cart strings are short: every line's sku, brand, category
 * prefixes and tags are looked up when it is added, so this is on the checkout's path). Only
 * ever compared within one process, so byte order does not matter. */
static uint32_t text_hash(const char *s, size_t len)
{
    uint64_t h = UINT64_C(0x9E3779B97F4A7C15) ^ (uint64_t)len;
    for (; len >= 8; s += 8, len -= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = (h ^ w) * UINT64_C(0xff51afd7ed558ccd);
        h ^= h >> 29;
    }
    h = (h ^ tail_bytes(s, len)) * UINT64_C(0xc4ceb9fe1a85ec53);
    h ^= h >> 32;
    return (uint32_t)h;
}

/* A table slot: the string's hash in the high half, its id + 1 in the low half (0 = empty), so
 * that a probe compares bytes only when the hashes agree. */
static uint64_t hash_slot(uint32_t hash, uint32_t id) { return (uint64_t)hash << 32 | (id + 1u); }

/* Builds the table: power of two, at most half full. Fails on a duplicate string. */
static perk_status build_string_hash(perk_program *prog, perk_error *err)
{
    const prog_data *d = &prog->d;
    size_t size = 8;
    while (size < (size_t)d->n_strings * 2) size *= 2;
    prog->str_hash = perk_mem_calloc(size, sizeof *prog->str_hash);
    if (!prog->str_hash) {
        prog_set_error(err, PERK_NOMEM, "load: out of memory for the string table");
        return PERK_NOMEM;
    }
    prog->str_hash_mask = (uint32_t)(size - 1);
    for (uint32_t id = 0; id < d->n_strings; id++) {
        const char *s = prog_string(d, id);
        uint32_t len = d->str_len[id], hash = text_hash(s, len);
        for (uint32_t slot = hash & prog->str_hash_mask;; slot = (slot + 1) & prog->str_hash_mask) {
            uint64_t entry = prog->str_hash[slot];
            if (entry == 0) {
                prog->str_hash[slot] = hash_slot(hash, id);
                break;
            }
            uint32_t other = (uint32_t)entry - 1;
            if ((uint32_t)(entry >> 32) == hash && d->str_len[other] == len &&
                memcmp(prog_string(d, other), s, len) == 0) {
                prog_set_error(err, PERK_VERIFY, "verify: string %u duplicates string %u (\"%.60s\")", id,
                               other, s);
                return PERK_VERIFY;
            }
        }
    }
    return PERK_OK;
}

uint32_t prog_find_string(const perk_program *p, const char *text, size_t len)
{
    if (!p || !p->str_hash || (!text && len) || len > UINT32_MAX) return PROG_NONE;
    if (!text) text = "";
    const prog_data *d = &p->d;
    uint32_t hash = text_hash(text, len);
    for (uint32_t slot = hash & p->str_hash_mask;; slot = (slot + 1) & p->str_hash_mask) {
        uint64_t entry = p->str_hash[slot];
        if (entry == 0) return PROG_NONE;
        if ((uint32_t)(entry >> 32) != hash) continue;
        uint32_t id = (uint32_t)entry - 1;
        if (d->str_len[id] == len && same_bytes(prog_string(d, id), text, len)) return id;
    }
}

/* The index slots of the line matches (cart_index.c). */
static perk_status build_slots(perk_program *prog, perk_error *err)
{
    if (cidx_build(prog)) return PERK_OK;
    prog_set_error(err, PERK_NOMEM, "load: out of memory for the line index");
    return PERK_NOMEM;
}

/* ---------------------------------------------------------------- loading */

/* Parses, verifies and indexes bytes the caller will not change meanwhile. */
static perk_program *program_from_bytes(const uint8_t *bytes, size_t len, perk_error *err)
{
    perk_program *prog = perk_mem_calloc(1, sizeof *prog);
    if (!prog) {
        prog_set_error(err, PERK_NOMEM, "load: out of memory");
        return NULL;
    }
    if (bytecode_read(bytes, len, &prog->d, err) != PERK_OK ||
        verify_program_record(&prog->d, err) != PERK_OK || build_string_hash(prog, err) != PERK_OK ||
        ridx_build(prog, err) != PERK_OK || build_slots(prog, err) != PERK_OK) {
        cidx_program_free(prog);
        ridx_free(prog);
        prog_data_free(&prog->d);
        perk_mem_free(prog->str_hash);
        perk_mem_free(prog);
        return NULL;
    }
    atomic_init(&prog->refs, 1);
    return prog;
}

perk_program *perk_program_load(const void *bytes, size_t len, perk_error *err)
{
    perk_error local;
    if (!err) err = &local;
    if (!bytes) {
        prog_set_error(err, PERK_INVALID, "load: no bytes given");
        return NULL;
    }
    if (len > BC_MAX_FILE_SIZE) {
        prog_set_error(err, PERK_LIMIT, "load: program of %zu bytes is larger than the limit of %u", len,
                       BC_MAX_FILE_SIZE);
        return NULL;
    }
    return program_from_bytes(bytes, len, err);
}

perk_program *perk_program_load_file(const char *path, perk_error *err)
{
    perk_error local;
    if (!err) err = &local;
    if (!path) {
        prog_set_error(err, PERK_INVALID, "load: no path given");
        return NULL;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        prog_set_error(err, PERK_IO, "load: cannot open '%s': %s", path, strerror(errno));
        return NULL;
    }
    /* Read in chunks rather than trusting a size from fstat: works for pipes, and a file that
     * grows while we read still stops at the limit. */
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    perk_program *prog = NULL;
    for (;;) {
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 65536;
            if (ncap > (size_t)BC_MAX_FILE_SIZE + 1) ncap = (size_t)BC_MAX_FILE_SIZE + 1;
            if (ncap == cap) {
                prog_set_error(err, PERK_LIMIT, "load: '%s' is larger than the limit of %u bytes (256 MB)",
                               path, BC_MAX_FILE_SIZE);
                goto done;
            }
            uint8_t *nb = perk_mem_realloc(buf, cap, ncap);
            if (!nb) {
                prog_set_error(err, PERK_NOMEM, "load: out of memory reading '%s'", path);
                goto done;
            }
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) break;
    }
    if (ferror(f)) {
        prog_set_error(err, PERK_IO, "load: error reading '%s': %s", path, strerror(errno));
        goto done;
    }
    if (len > BC_MAX_FILE_SIZE) {
        prog_set_error(err, PERK_LIMIT, "load: '%s' is larger than the limit of %u bytes (256 MB)", path,
                       BC_MAX_FILE_SIZE);
        goto done;
    }
    prog = program_from_bytes(buf, len, err);
    if (!prog) { /* prefix the path when it fits: "rules.pbc: truncated: ..." */
        size_t pl = strlen(path), ml = strlen(err->message);
        if (ml && pl + 2 + ml < sizeof err->message) {
            memmove(err->message + pl + 2, err->message, ml + 1);
            memcpy(err->message, path, pl);
            err->message[pl] = ':';
            err->message[pl + 1] = ' ';
        }
    }
done:
    fclose(f);
    perk_mem_free(buf);
    return prog;
}

perk_program *perk_program_retain(perk_program *program)
{
    if (program) atomic_fetch_add_explicit(&program->refs, 1, memory_order_relaxed);
    return program;
}

void perk_program_free(perk_program *program)
{
    if (!program) return;
    /* acq_rel: the thread that frees sees every other thread's last use */
    if (atomic_fetch_sub_explicit(&program->refs, 1, memory_order_acq_rel) != 1) return;
    cidx_program_free(program);
    ridx_free(program);
    prog_data_free(&program->d);
    perk_mem_free(program->str_hash);
    perk_mem_free(program);
}

/* ---------------------------------------------------------------- accessors */

const prog_data *prog_data_of(const perk_program *program) { return &program->d; }

const char *perk_program_name(const perk_program *program)
{
    return program ? prog_string(&program->d, program->d.name) : NULL;
}

const char *perk_program_currency(const perk_program *program)
{
    return program ? program->d.currency : NULL;
}

const char *perk_program_timezone(const perk_program *program)
{
    return program ? prog_string(&program->d, program->d.timezone) : NULL;
}

int perk_program_exponent(const perk_program *program) { return program ? (int)program->d.exponent : 0; }

size_t perk_program_promotion_count(const perk_program *program) { return program ? program->d.n_rules : 0; }

const char *perk_program_promotion_id(const perk_program *program, size_t index)
{
    if (!program || index >= program->d.n_rules) return NULL;
    return prog_string(&program->d, program->d.rules[index].id);
}

size_t perk_program_tier_count(const perk_program *program) { return program ? program->d.n_tiers : 0; }

const char *perk_program_tier_id(const perk_program *program, size_t index)
{
    if (!program || index >= program->d.n_tiers) return NULL;
    return prog_string(&program->d, program->d.tiers[index].id);
}

/* The first action of rule `index`: the compiler writes actions in rule order, so by bisection
 * (a program built otherwise may just find none). */
static uint32_t first_action_of(const prog_data *d, size_t index)
{
    uint32_t lo = 0, hi = d->n_actions;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (d->actions[mid].rule < index)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

bool perk_program_promotion_per_sku(const perk_program *program, size_t index)
{
    if (!program || index >= program->d.n_rules) return false;
    const prog_data *d = &program->d;
    for (uint32_t k = first_action_of(d, index); k < d->n_actions && d->actions[k].rule == index; k++)
        if (d->actions[k].kind == PROG_ACT_BUY_GET_SKU) return true;
    return false;
}

bool perk_program_promotion_consumes(const perk_program *program, size_t index)
{
    if (!program || index >= program->d.n_rules) return false;
    return (program->d.rules[index].flags & PROG_RULE_CONSUME) != 0;
}

const char *perk_program_promotion_reward_coupon(const perk_program *p, size_t index, int64_t *valid_from,
                                                 int64_t *expires_at, int64_t *valid_seconds)
{
    if (!p || index >= p->d.n_rules) return NULL;
    const prog_data *d = &p->d;
    for (uint32_t k = first_action_of(d, index); k < d->n_actions && d->actions[k].rule == index; k++) {
        const prog_action *a = &d->actions[k];
        if (a->kind != PROG_ACT_REWARD_COUPON || a->str1 >= d->n_strings) continue;
        if (valid_seconds) *valid_seconds = a->p[0];
        if (valid_from) *valid_from = a->p[1];
        if (expires_at) *expires_at = a->p[2];
        return prog_string(d, a->str1);
    }
    return NULL;
}

const char *perk_program_promotion_note(const perk_program *program, size_t index)
{
    if (!program || index >= program->d.n_rules) return NULL;
    const prog_data *d = &program->d;
    for (uint32_t k = first_action_of(d, index); k < d->n_actions && d->actions[k].rule == index; k++) {
        const prog_action *a = &d->actions[k];
        bool percent = a->kind == PROG_ACT_PERCENT_OFF || a->kind == PROG_ACT_MOST_EXPENSIVE ||
                       a->kind == PROG_ACT_SHIPPING_OFF || a->kind == PROG_ACT_BUY_GET ||
                       a->kind == PROG_ACT_BUY_GET_SKU;
        if (percent && a->str2 != PROG_NONE) return prog_string(d, a->str2);
    }
    return NULL;
}

const char *perk_program_promotion_label(const perk_program *program, size_t index)
{
    if (!program || index >= program->d.n_rules) return NULL;
    const prog_rule *r = &program->d.rules[index];
    return prog_string(&program->d, r->label != PROG_NONE ? r->label : r->id);
}

long perk_program_find_promotion(const perk_program *program, const char *id)
{
    if (!program || !id) return -1;
    uint32_t sid = prog_find_string(program, id, strlen(id));
    if (sid == PROG_NONE) return -1;
    for (uint32_t i = 0; i < program->d.n_rules; i++)
        if (program->d.rules[i].id == sid) return (long)i;
    return -1;
}

size_t perk_program_earn_count(const perk_program *program) { return program ? program->d.n_earns : 0; }

const char *perk_program_earn_id(const perk_program *program, size_t index)
{
    if (!program || index >= program->d.n_earns) return NULL;
    return prog_string(&program->d, program->d.earns[index].id);
}

perk_value_kind perk_condition_value_kind(const perk_program *program, uint32_t condition)
{
    if (!program || condition >= program->d.n_conds) return PERK_VALUE_PLAIN;
    return (perk_value_kind)program->d.conds[condition].value_kind;
}

const char *perk_unknown_name(uint32_t unknown_fact)
{
    static const char *const names[] = {
#define PROG_FACT_NAME(id, name, type) name,
        PERK_FACT_LIST(PROG_FACT_NAME)
#undef PROG_FACT_NAME
#define PROG_FIELD_NAME(id, name, type) name,
            PERK_ITEM_FIELD_LIST(PROG_FIELD_NAME)
#undef PROG_FIELD_NAME
    };
    /* 1 + a fact id, or 1 + PERK_FACT_COUNT + an item field (evaluate.c); 0: none */
    return unknown_fact >= 1 && unknown_fact <= sizeof names / sizeof names[0] ? names[unknown_fact - 1]
                                                                               : NULL;
}

const char *perk_condition_text(const perk_program *program, uint32_t condition)
{
    if (!program || condition >= program->d.n_conds) return NULL;
    return prog_string(&program->d, program->d.conds[condition].text);
}

void perk_condition_location(const perk_program *program, uint32_t condition, const char **file,
                             uint32_t *line, uint32_t *col)
{
    const prog_cond *c = program && condition < program->d.n_conds ? &program->d.conds[condition] : NULL;
    if (file) *file = c && c->loc.file != PROG_NONE ? prog_string(&program->d, c->loc.file) : NULL;
    if (line) *line = c ? c->loc.line : 0;
    if (col) *col = c ? c->loc.col : 0;
}
