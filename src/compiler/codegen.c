/* codegen.c - lowers a checked AST into a prog_data (see codegen.h).
 *
 * Scalar expressions compile to stack code that leaves one value; item sets compile to set
 * opcodes that leave one line set; item predicates (the right side of `where`) compile to set
 * opcodes too, so evaluation filters whole columns instead of interpreting per item.
 * Conditions that measure an item set against a money threshold are emitted last, as
 * REQUIRE_SOFT, so that the VM can tell when only the threshold failed (near-miss hints).
 */
#include "codegen.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "facts.h"
#include "guard.h"
#include "perk.h"
#include "stage.h"
#include "tz.h"
#include "tzload.h"
#include "verify.h"

/* Instructions in a whole program. Lets are expanded wherever they are used, so a chain of lets
 * that each use the previous one twice doubles the code at every link: stop long before memory
 * and time run out (real rule files stay below a few thousand instructions). */
#define MAX_CODE (UINT32_C(1) << 20)
/* Time zone transitions are embedded up to this instant (2100-01-01T00:00:00Z). */
#define TZ_UNTIL_EPOCH INT64_C(4102444800)

/* A map from a 64-bit key to a pool index: open addressing, slot = index + 1; the keys are read
 * back from the pool through key_of, so the map stores nothing but indexes. */
typedef struct u64_map {
    uint32_t *slots;
    uint32_t mask, count;
} u64_map;

typedef struct cg {
    prog_data *p;
    const check_info *info;
    const source_set *sources;
    diag_engine *diags;
    bool failed;
    /* capacities of the growing arrays of p */
    uint32_t cap_strings, cap_str_bytes, cap_ints, cap_strsets, cap_attrs, cap_u32, cap_code, cap_conds,
        cap_actions, cap_steps;
    /* string interning: open addressing, slot = id + 1 */
    uint32_t *str_slots;
    uint32_t str_mask;
    /* the integer and attribute-pair pools, looked up by hash (not by scanning the pool, which
     * made a ruleset with n comparisons O(n^2) to compile) */
    u64_map ints_map, attrs_map;
    /* the block being emitted */
    uint32_t block_first_cond; /* conditions of the current rule start here */
    uint32_t current_rule;     /* promotion index for actions */
    /* what the VM accepts: the values on the stacks in emission order (the verifier's limits,
     * VERIFY_MAX_SCALARS and VERIFY_MAX_SETS, hold for every block) and the code size */
    uint32_t depth_scalars, depth_sets;
    bool too_deep, too_long, limit_reported;
    /* the end (minutes) of the promotion's `hours` window across midnight, or -1: its schedule
     * clauses then read the day the window started (docs/semantics.md 13.2) */
    int64_t overnight_end;
} cg;

/* ------------------------------------------------------------------ growth */

static void *grow(void *ptr, uint32_t *cap, uint32_t need, size_t elem)
{
    if (need <= *cap) return ptr;
    uint32_t ncap = *cap ? *cap : 16;
    while (ncap < need) ncap *= 2;
    void *np = perk_mem_realloc(ptr, (size_t)*cap * elem, (size_t)ncap * elem);
    if (!np) abort(); /* the compiler treats memory exhaustion as fatal */
    *cap = ncap;
    return np;
}

#define PUSH(c, arr, n, capf, value)                                                      \
    do {                                                                                  \
        (c)->p->arr = grow((c)->p->arr, &(c)->capf, (c)->p->n + 1, sizeof(*(c)->p->arr)); \
        (c)->p->arr[(c)->p->n++] = (value);                                               \
    } while (0)

/* ------------------------------------------------------------------ pools */

static uint32_t hash_bytes(const char *s, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

static void str_rehash(cg *c, uint32_t nslots)
{
    free(c->str_slots);
    c->str_slots = calloc(nslots, sizeof(uint32_t));
    if (!c->str_slots) abort();
    c->str_mask = nslots - 1;
    for (uint32_t id = 0; id < c->p->n_strings; id++) {
        const char *s = c->p->str_bytes + c->p->str_off[id];
        uint32_t h = hash_bytes(s, c->p->str_len[id]) & c->str_mask;
        while (c->str_slots[h]) h = (h + 1) & c->str_mask;
        c->str_slots[h] = id + 1;
    }
}

static uint32_t intern_n(cg *c, const char *s, size_t len)
{
    prog_data *p = c->p;
    if (!c->str_slots) str_rehash(c, 64);
    uint32_t h = hash_bytes(s, len) & c->str_mask;
    while (c->str_slots[h]) {
        uint32_t id = c->str_slots[h] - 1;
        if (p->str_len[id] == len && memcmp(p->str_bytes + p->str_off[id], s, len) == 0) return id;
        h = (h + 1) & c->str_mask;
    }
    uint32_t id = p->n_strings;
    /* str_off and str_len grow together from the same capacity */
    uint32_t cap_off = c->cap_strings, cap_len = c->cap_strings;
    p->str_off = grow(p->str_off, &cap_off, id + 1, sizeof(uint32_t));
    p->str_len = grow(p->str_len, &cap_len, id + 1, sizeof(uint32_t));
    c->cap_strings = cap_off;
    p->str_bytes = grow(p->str_bytes, &c->cap_str_bytes, p->str_bytes_len + (uint32_t)len + 1, 1);
    memcpy(p->str_bytes + p->str_bytes_len, s, len);
    p->str_bytes[p->str_bytes_len + len] = '\0';
    p->str_off[id] = p->str_bytes_len;
    p->str_len[id] = (uint32_t)len;
    p->str_bytes_len += (uint32_t)len + 1;
    p->n_strings = id + 1;
    if ((p->n_strings * 2) > c->str_mask)
        str_rehash(c, (c->str_mask + 1) * 2);
    else
        c->str_slots[h] = id + 1;
    return id;
}

static uint32_t intern(cg *c, const char *s) { return intern_n(c, s ? s : "", s ? strlen(s) : 0); }

static uint32_t hash_u64(uint64_t k)
{
    k ^= k >> 33;
    k *= UINT64_C(0xff51afd7ed558ccd);
    k ^= k >> 33;
    return (uint32_t)k;
}

/* Finds key in m; key_of(c, i) gives the key of pool entry i. Returns the index or PROG_NONE, and
 * in *slot where it would go. */
static uint32_t u64_find(const cg *c, const u64_map *m, uint64_t key,
                         uint64_t (*key_of)(const cg *, uint32_t), uint32_t *slot)
{
    uint32_t h = hash_u64(key) & m->mask;
    while (m->slots[h]) {
        if (key_of(c, m->slots[h] - 1) == key) return m->slots[h] - 1;
        h = (h + 1) & m->mask;
    }
    *slot = h;
    return PROG_NONE;
}

/* Records that pool entry index (whose key is key) exists; grows the table at half full. */
static void u64_add(const cg *c, u64_map *m, uint32_t slot, uint32_t index,
                    uint64_t (*key_of)(const cg *, uint32_t))
{
    m->slots[slot] = index + 1;
    if (++m->count * 2 <= m->mask) return;
    uint32_t nslots = (m->mask + 1) * 2;
    uint32_t *old = m->slots, old_n = m->mask + 1;
    m->slots = calloc(nslots, sizeof(uint32_t));
    if (!m->slots) abort();
    m->mask = nslots - 1;
    for (uint32_t i = 0; i < old_n; i++) {
        if (!old[i]) continue;
        uint32_t h = hash_u64(key_of(c, old[i] - 1)) & m->mask;
        while (m->slots[h]) h = (h + 1) & m->mask;
        m->slots[h] = old[i];
    }
    free(old);
}

static void u64_init(u64_map *m)
{
    m->slots = calloc(64, sizeof(uint32_t));
    if (!m->slots) abort();
    m->mask = 63;
    m->count = 0;
}

static uint64_t int_key(const cg *c, uint32_t i) { return (uint64_t)c->p->ints[i]; }

static uint32_t int_const(cg *c, int64_t v)
{
    if (!c->ints_map.slots) u64_init(&c->ints_map);
    uint32_t slot = 0, i = u64_find(c, &c->ints_map, (uint64_t)v, int_key, &slot);
    if (i != PROG_NONE) return i;
    PUSH(c, ints, n_ints, cap_ints, v);
    u64_add(c, &c->ints_map, slot, c->p->n_ints - 1, int_key);
    return c->p->n_ints - 1;
}

static uint32_t u32_push(cg *c, uint32_t v)
{
    PUSH(c, u32, n_u32, cap_u32, v);
    return c->p->n_u32 - 1;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* A constant set of strings: ids sorted, deduplicated, stored in the u32 pool. */
static uint32_t strset_const(cg *c, uint32_t *ids, uint32_t n)
{
    qsort(ids, n, sizeof(uint32_t), cmp_u32);
    uint32_t m = 0;
    for (uint32_t i = 0; i < n; i++)
        if (m == 0 || ids[m - 1] != ids[i]) ids[m++] = ids[i];
    uint32_t start = c->p->n_u32;
    for (uint32_t i = 0; i < m; i++) u32_push(c, ids[i]);
    prog_data *p = c->p;
    uint32_t idx = p->n_strsets;
    uint32_t cap = c->cap_strsets;
    p->strset_off = grow(p->strset_off, &cap, idx + 1, sizeof(uint32_t));
    uint32_t cap2 = c->cap_strsets;
    p->strset_len = grow(p->strset_len, &cap2, idx + 1, sizeof(uint32_t));
    c->cap_strsets = cap;
    p->strset_off[idx] = start;
    p->strset_len[idx] = m;
    p->n_strsets = idx + 1;
    return idx;
}

static uint64_t attr_key(const cg *c, uint32_t i)
{
    return (uint64_t)c->p->attr_key[i] << 32 | c->p->attr_value[i];
}

static uint32_t attr_const(cg *c, uint32_t key, uint32_t value)
{
    prog_data *p = c->p;
    if (!c->attrs_map.slots) u64_init(&c->attrs_map);
    uint32_t slot = 0, found = u64_find(c, &c->attrs_map, (uint64_t)key << 32 | value, attr_key, &slot);
    if (found != PROG_NONE) return found;
    uint32_t cap = c->cap_attrs, cap2 = c->cap_attrs;
    p->attr_key = grow(p->attr_key, &cap, p->n_attrs + 1, sizeof(uint32_t));
    p->attr_value = grow(p->attr_value, &cap2, p->n_attrs + 1, sizeof(uint32_t));
    c->cap_attrs = cap;
    p->attr_key[p->n_attrs] = key;
    p->attr_value[p->n_attrs] = value;
    u64_add(c, &c->attrs_map, slot, p->n_attrs, attr_key);
    return p->n_attrs++;
}

/* ------------------------------------------------------------------ emission */

/* Follows the stack effect of op (runtime/opcodes.h). A conditional jump keeps its operand on
 * both paths, and the code it skips (right operand, AND / OR) leaves one value where the jump
 * lands, so the depth is the verifier's at every point. END empties the stacks. */
static void track_depth(cg *c, perk_opcode op)
{
    if (op == PERK_OP_END) {
        c->depth_scalars = c->depth_sets = 0;
        return;
    }
    const perk_opcode_info *info = &perk_opcode_table[op];
    uint32_t *depth[2] = { &c->depth_scalars, &c->depth_sets };
    for (const char *k = info->pops; *k; k++)
        if (*depth[*k == 'l'] > 0) (*depth[*k == 'l'])--;
    for (const char *k = info->pushes; *k; k++) (*depth[*k == 'l'])++;
    if (c->depth_scalars + c->depth_sets > VERIFY_MAX_STACK) {
        c->too_deep = true;
        c->failed = true;
    }
}

static uint32_t emit_aux(cg *c, perk_opcode op, uint8_t aux, uint32_t arg)
{
    if (c->p->n_code >= MAX_CODE) {
        /* nothing more is emitted; the caller's jump patching lands on a discarded program */
        c->too_long = true;
        c->failed = true;
        return c->p->n_code - 1;
    }
    track_depth(c, op);
    prog_insn in = { (uint8_t)op, aux, 0, arg };
    PUSH(c, code, n_code, cap_code, in);
    return c->p->n_code - 1;
}

static uint32_t emit(cg *c, perk_opcode op, uint32_t arg) { return emit_aux(c, op, 0, arg); }

static void emit_int(cg *c, int64_t v)
{
    if (v >= INT32_MIN && v <= INT32_MAX)
        emit(c, PERK_OP_PUSH_IMM, (uint32_t)(int32_t)v);
    else
        emit(c, PERK_OP_PUSH_INT, int_const(c, v));
}

static void patch_jump(cg *c, uint32_t at) { c->p->code[at].arg = c->p->n_code; }

static void fail(cg *c, const ast_node *n, const char *hint, const char *msg)
{
    diag_report(c->diags, DIAG_CODEGEN_UNSUPPORTED, n->span, hint, "%s", msg);
    c->failed = true;
}

/* Reports, once, that the code emitted for `at` (a condition, an action or a declaration) went
 * past what the VM accepts. Called right after compiling such a part, so the first part to
 * cross a limit is the one named. */
static void report_limits(cg *c, const ast_node *at)
{
    if (c->limit_reported || !(c->too_deep || c->too_long)) return;
    c->limit_reported = true;
    if (c->too_long)
        diag_report(c->diags, DIAG_CODEGEN_UNSUPPORTED, at->span,
                    "a `let` is copied into every place that uses it: a chain of lets that each use the "
                    "previous one twice doubles the code at every link",
                    "the rules compile to more than %u instructions", (unsigned)MAX_CODE);
    else
        diag_report(
            c->diags, DIAG_CODEGEN_UNSUPPORTED, at->span,
            "nest fewer parentheses and lets inside each other (a `let` is expanded where it is used)",
            "this is nested too deeply to evaluate: it would hold more than %u values and item sets "
            "at once",
            VERIFY_MAX_STACK);
}

static prog_loc loc_of(cg *c, const ast_node *n)
{
    prog_loc l = { PROG_NONE, (uint32_t)n->span.first_line, (uint32_t)n->span.first_column };
    if (n->span.file >= 0 && n->span.file < c->sources->count)
        l.file = intern(c, c->sources->files[n->span.file].path);
    else
        l.file = intern(c, "<input>");
    return l;
}

/* The source text of a node, squeezed to one line, for explanations. Comments inside a condition
 * written over several lines are left out: they would read as part of the condition, and the text
 * then depends on the layout only through its whitespace (perk fmt relies on that). */
static uint32_t text_of(cg *c, const ast_node *n)
{
    const ast_span *s = &n->span;
    if (s->file < 0 || s->file >= c->sources->count) return intern(c, "");
    const source_file *f = &c->sources->files[s->file];
    size_t a = (size_t)s->first_offset, b = (size_t)s->last_offset;
    if (a > f->len || b > f->len || b < a) return intern(c, "");
    char buf[512];
    size_t k = 0;
    bool space = false, in_string = false;
    for (size_t i = a; i < b && k + 4 < sizeof buf; i++) {
        char ch = f->text[i];
        if (!in_string && ch == '#') {
            while (i + 1 < b && f->text[i + 1] != '\n') i++;
            space = k > 0;
            continue;
        }
        if (ch == '\n' || ch == '\r' || ch == '\t' || ch == ' ') {
            space = k > 0;
            continue;
        }
        if (space) buf[k++] = ' ';
        space = false;
        if (in_string && ch == '\\' && i + 1 < b && k + 5 < sizeof buf) { /* \" does not end the string */
            buf[k++] = ch;
            ch = f->text[++i];
        } else if (ch == '"') {
            in_string = !in_string;
        }
        buf[k++] = ch;
    }
    if (k + 4 >= sizeof buf) {
        /* cut on a UTF-8 boundary and mark the cut */
        while (k > 0 && ((unsigned char)buf[k - 1] & 0xC0) == 0x80) k--;
        if (k > 0 && ((unsigned char)buf[k - 1] & 0x80)) k--;
        memcpy(buf + k, "...", 3);
        k += 3;
    }
    return intern_n(c, buf, k);
}

/* ------------------------------------------------------------------ expressions */

static void compile_scalar(cg *c, const ast_node *n);
static void compile_set(cg *c, const ast_node *n);
static void compile_pred(cg *c, const ast_node *n);

static const ast_node *resolve_let(const ast_node *n)
{
    while (n && n->kind == AST_NAME && n->decl && n->decl->kind == AST_LET) n = n->decl->a;
    return n;
}

static perk_cmp cmp_of(int op)
{
    switch (op) {
    case OP_EQ: return PERK_CMP_EQ;
    case OP_NE: return PERK_CMP_NE;
    case OP_LT: return PERK_CMP_LT;
    case OP_LE: return PERK_CMP_LE;
    case OP_GT: return PERK_CMP_GT;
    default: return PERK_CMP_GE;
    }
}

static perk_cmp mirror(perk_cmp k)
{
    switch (k) {
    case PERK_CMP_LT: return PERK_CMP_GT;
    case PERK_CMP_LE: return PERK_CMP_GE;
    case PERK_CMP_GT: return PERK_CMP_LT;
    case PERK_CMP_GE: return PERK_CMP_LE;
    default: return k;
    }
}

static const perk_opcode cmp_opcode[] = { PERK_OP_EQ, PERK_OP_NE, PERK_OP_LT,
                                          PERK_OP_LE, PERK_OP_GT, PERK_OP_GE };

static bool is_fact(const ast_node *n, perk_fact f)
{
    n = resolve_let(n);
    return n && n->kind == AST_FIELD && n->fact == (int)f;
}

/* Elements of a literal list (or a single element). */
static int list_elems(const ast_node *n, const ast_node *const **out)
{
    n = resolve_let(n);
    if (n->kind == AST_LIST) {
        *out = (const ast_node *const *)n->list.items;
        return n->list.count;
    }
    *out = NULL;
    return -1;
}

static void compile_in(cg *c, const ast_node *x, const ast_node *set)
{
    const ast_node *s = resolve_let(set);
    if (s->kind == AST_RANGE) {
        compile_scalar(c, x);
        compile_scalar(c, s->a);
        compile_scalar(c, s->b);
        emit(c, PERK_OP_IN_RANGE, 0);
        return;
    }
    if (is_fact(s, PERK_FACT_CUSTOMER_TAGS) || is_fact(s, PERK_FACT_ORDER_COUPONS)) {
        const ast_node *v = resolve_let(x);
        if (!v->is_const || v->kind != AST_STRING) {
            fail(c, x, "compare a string constant, e.g. \"vip\" in customer.tags",
                 "the left side of this `in` must be a constant string");
            return;
        }
        emit(c, is_fact(s, PERK_FACT_CUSTOMER_TAGS) ? PERK_OP_CUSTOMER_TAG : PERK_OP_COUPON,
             intern(c, v->name));
        return;
    }
    const ast_node *const *el;
    int n = list_elems(s, &el);
    if (n < 0) {
        /* a single value: x in "a" behaves as x = "a" */
        compile_scalar(c, x);
        compile_scalar(c, s);
        emit(c, PERK_OP_EQ, 0);
        return;
    }
    if (s->elem_type == TY_WEEKDAY || (n > 0 && el[0]->type == TY_WEEKDAY)) {
        uint32_t mask = 0;
        for (int i = 0; i < n; i++) mask |= 1u << (el[i]->value & 7);
        compile_scalar(c, x);
        emit(c, PERK_OP_IN_MASK, mask);
        return;
    }
    if (s->elem_type == TY_STRING || (n > 0 && el[0]->type == TY_STRING)) {
        uint32_t *ids = malloc((size_t)(n > 0 ? n : 1) * sizeof *ids);
        if (!ids) abort();
        for (int i = 0; i < n; i++) ids[i] = intern(c, resolve_let(el[i])->name);
        compile_scalar(c, x);
        emit(c, PERK_OP_IN_STRSET, strset_const(c, ids, (uint32_t)n));
        free(ids);
        return;
    }
    if (n == 0) {
        emit(c, PERK_OP_PUSH_IMM, 0);
        return;
    }
    /* x = e1 or x = e2 ... (x is re-read; it is a fact or a small expression) */
    uint32_t *jumps = malloc((size_t)n * sizeof *jumps);
    if (!jumps) abort();
    int nj = 0;
    for (int i = 0; i < n; i++) {
        compile_scalar(c, x);
        compile_scalar(c, el[i]);
        emit(c, PERK_OP_EQ, 0);
        if (i > 0) emit(c, PERK_OP_OR, 0);
        if (i + 1 < n) jumps[nj++] = emit(c, PERK_OP_JUMP_IF_TRUE, 0);
    }
    for (int i = 0; i < nj; i++) patch_jump(c, jumps[i]);
    free(jumps);
}

static void compile_call_scalar(cg *c, const ast_node *n)
{
    const char *f = n->name;
    int argc = n->list.count;
    const ast_node *set = argc > 0 ? n->list.items[0] : NULL;
    const ast_node *arg2 = argc > 1 ? n->list.items[1] : NULL;
    if (set && strcmp(f, "order.attr") == 0) {
        /* order.attr("key"): the value's string id, unknown when the order lacks the key */
        const ast_node *key = resolve_let(set);
        if (key->kind != AST_STRING) {
            fail(c, n, "write order.attr(\"invoice\")", "the attribute must be named by a string");
            return;
        }
        emit(c, PERK_OP_ORDER_ATTR, intern(c, key->name));
        return;
    }
    if (!set) {
        fail(c, n, NULL, "this function needs an item set argument");
        return;
    }
    if (strcmp(f, "any") == 0 || strcmp(f, "all") == 0) {
        compile_set(c, set);
        if (arg2) compile_pred(c, arg2);
        if (f[1] == 'n') {
            if (arg2) emit(c, PERK_OP_SET_AND, 0);
            emit(c, PERK_OP_AGG_ANY, 0);
        } else {
            if (!arg2) emit(c, PERK_OP_SET_ALL, 0);
            emit(c, PERK_OP_AGG_SUBSET, 0);
        }
        return;
    }
    if (strcmp(f, "count") == 0) {
        compile_set(c, set);
        emit(c, PERK_OP_AGG_COUNT, 0);
        return;
    }
    uint32_t field = PERK_FIELD_AMOUNT;
    if (arg2) {
        const ast_node *a2 = arg2;
        if (a2->kind != AST_NAME || a2->decl || a2->fact < 0 || a2->fact >= PERK_FIELD_COUNT) {
            fail(c, arg2, "name an item field such as price, quantity or margin",
                 "the second argument must be an item field");
            return;
        }
        field = (uint32_t)a2->fact;
    }
    compile_set(c, set);
    if (strcmp(f, "sum") == 0)
        emit(c, PERK_OP_AGG_SUM, field);
    else if (strcmp(f, "min") == 0)
        emit(c, PERK_OP_AGG_MIN, field);
    else if (strcmp(f, "max") == 0)
        emit(c, PERK_OP_AGG_MAX, field);
    else
        fail(c, n, NULL, "unknown function");
}

static void compile_scalar(cg *c, const ast_node *n)
{
    if (c->failed) return;
    if (n->is_const && n->type != TY_ITEMS) {
        if (n->type == TY_STRING)
            emit(c, PERK_OP_PUSH_STR, intern(c, resolve_let(n)->name));
        else
            emit_int(c, n->value);
        return;
    }
    switch (n->kind) {
    case AST_NAME:
        if (n->decl && n->decl->kind == AST_LET) {
            compile_scalar(c, n->decl->a);
            return;
        }
        if (n->decl && n->decl->kind == AST_TIER) {
            emit_int(c, n->decl->index);
            return;
        }
        fail(c, n, NULL, "this name cannot be used as a value here");
        return;
    case AST_FIELD: emit(c, PERK_OP_LOAD_FACT, (uint32_t)n->fact); return;
    case AST_STRING: emit(c, PERK_OP_PUSH_STR, intern(c, n->name)); return;
    case AST_CALL: compile_call_scalar(c, n); return;
    case AST_UNARY:
        compile_scalar(c, n->a);
        if (n->op == OP_IS_KNOWN || n->op == OP_IS_UNKNOWN) {
            emit(c, PERK_OP_KNOWN, 0);
            if (n->op == OP_IS_UNKNOWN) emit(c, PERK_OP_NOT, 0);
            return;
        }
        emit(c, n->op == OP_NOT ? PERK_OP_NOT : PERK_OP_NEG, 0);
        return;
    case AST_BINARY: break;
    default: fail(c, n, NULL, "this expression cannot be evaluated as a value"); return;
    }
    const ast_node *a = n->a, *b = n->b;
    switch (n->op) {
    case OP_AND:
    case OP_OR: {
        /* short circuit, then Kleene's combination: true and unknown is unknown */
        compile_scalar(c, a);
        uint32_t j = emit(c, n->op == OP_AND ? PERK_OP_JUMP_IF_FALSE : PERK_OP_JUMP_IF_TRUE, 0);
        compile_scalar(c, b);
        emit(c, n->op == OP_AND ? PERK_OP_AND : PERK_OP_OR, 0);
        patch_jump(c, j);
        return;
    }
    case OP_IN:
    case OP_NOT_IN:
        compile_in(c, a, b);
        if (n->op == OP_NOT_IN) emit(c, PERK_OP_NOT, 0);
        return;
    case OP_EQ:
    case OP_NE:
    case OP_LT:
    case OP_LE:
    case OP_GT:
    case OP_GE:
        compile_scalar(c, a);
        compile_scalar(c, b);
        emit(c, cmp_opcode[cmp_of(n->op)], 0);
        return;
    case OP_ADD:
    case OP_SUB:
        if (a->type == TY_DATE && b->type == TY_DURATION) {
            /* date +- duration: durations are seconds, dates are days */
            compile_scalar(c, a);
            compile_scalar(c, b);
            emit_int(c, 86400);
            emit(c, PERK_OP_DIV, 0);
            emit(c, n->op == OP_ADD ? PERK_OP_ADD : PERK_OP_SUB, 0);
            return;
        }
        compile_scalar(c, a);
        compile_scalar(c, b);
        emit(c, n->op == OP_ADD ? PERK_OP_ADD : PERK_OP_SUB, 0);
        if (a->type == TY_DATE && b->type == TY_DATE) {
            emit_int(c, 86400); /* date - date is a duration in seconds */
            emit(c, PERK_OP_MUL, 0);
        }
        return;
    case OP_MUL:
        if (a->type == TY_PERCENT && b->type == TY_MONEY) {
            const ast_node *t = a;
            a = b;
            b = t;
        }
        compile_scalar(c, a);
        compile_scalar(c, b);
        emit(c, (a->type == TY_MONEY && b->type == TY_PERCENT) ? PERK_OP_PERCENT_OF : PERK_OP_MUL, 0);
        return;
    case OP_DIV:
    case OP_MOD:
        compile_scalar(c, a);
        compile_scalar(c, b);
        emit(c, n->op == OP_DIV ? PERK_OP_DIV : PERK_OP_MOD, 0);
        return;
    default: fail(c, n, NULL, "this operator cannot be evaluated as a value");
    }
}

/* ------------------------------------------------------------------ item sets and predicates */

static void compile_set(cg *c, const ast_node *n)
{
    if (c->failed) return;
    switch (n->kind) {
    case AST_ITEMS: emit(c, PERK_OP_SET_ALL, 0); return;
    case AST_NAME:
        if (n->decl && n->decl->kind == AST_LET) {
            compile_set(c, n->decl->a);
            return;
        }
        break;
    case AST_WHERE:
        /* every predicate's set is already within the cart's lines (runtime/vm.c), so
         * `items where p` is p's set itself: no SET_ALL and SET_AND around it */
        if (resolve_let(n->a)->kind == AST_ITEMS) {
            compile_pred(c, n->b);
            return;
        }
        compile_set(c, n->a);
        compile_pred(c, n->b);
        emit(c, PERK_OP_SET_AND, 0);
        return;
    case AST_BINARY:
        if (n->op == OP_UNION || n->op == OP_EXCEPT) {
            compile_set(c, n->a);
            compile_set(c, n->b);
            emit(c, n->op == OP_UNION ? PERK_OP_SET_OR : PERK_OP_SET_DIFF, 0);
            return;
        }
        break;
    default: break;
    }
    fail(c, n, "an item set is `items`, `items where ...`, or a name defined as one", "expected an item set");
}

static bool item_field(const ast_node *n, int *field)
{
    if (n->kind == AST_NAME && !n->decl && n->fact >= 0 && n->fact < PERK_FIELD_COUNT &&
        (n->type == TY_ITEM_FIELD || n->type == TY_MONEY || n->type == TY_INT || n->type == TY_PERCENT ||
         n->type == TY_STRING || n->type == TY_CATEGORY || n->type == TY_STRING_SET || n->type == TY_BOOL)) {
        *field = n->fact;
        return true;
    }
    return false;
}

static bool is_attr_call(const ast_node *n)
{
    return n->kind == AST_CALL && n->name && strcmp(n->name, "attr") == 0;
}

/* One string match of an item field against a constant string. */
static bool emit_string_match(cg *c, int field, bool category_prefix, const ast_node *v)
{
    v = resolve_let(v);
    if (v->kind != AST_STRING) return false;
    uint32_t id = intern(c, v->name);
    switch (field) {
    case PERK_FIELD_SKU: emit(c, PERK_OP_SET_SKU, id); return true;
    case PERK_FIELD_BRAND: emit(c, PERK_OP_SET_BRAND, id); return true;
    case PERK_FIELD_TAGS: emit(c, PERK_OP_SET_TAG, id); return true;
    case PERK_FIELD_STORE:
        /* a line whose store is unknown is in no such set (SET_CMP leaves it out) */
        emit(c, PERK_OP_PUSH_STR, id);
        emit_aux(c, PERK_OP_SET_CMP, PERK_CMP_EQ, PERK_FIELD_STORE);
        return true;
    case PERK_FIELD_CATEGORY:
        emit(c, category_prefix ? PERK_OP_SET_CATEGORY : PERK_OP_SET_CATEGORY_IS, id);
        return true;
    default: return false;
    }
}

static void emit_any_of(cg *c, int field, bool prefix, const ast_node *values, const ast_node *at)
{
    const ast_node *const *el;
    int n = list_elems(values, &el);
    if (n < 0) {
        if (!emit_string_match(c, field, prefix, values))
            fail(c, at, "compare with a string or a list of strings",
                 "cannot match this item field against that value");
        return;
    }
    if (n == 0) {
        emit(c, PERK_OP_SET_ALL, 0);
        emit(c, PERK_OP_SET_NOT, 0);
        return;
    }
    for (int i = 0; i < n; i++) {
        if (!emit_string_match(c, field, prefix, el[i])) {
            fail(c, el[i], NULL, "expected a string");
            return;
        }
        if (i > 0) emit(c, PERK_OP_SET_OR, 0);
    }
}

/* SET_ATTR of (key, value); value PROG_NONE: the lines that have the attribute at all. */
static void emit_attr(cg *c, uint32_t key, uint32_t value)
{
    emit(c, PERK_OP_SET_ATTR, attr_const(c, key, value));
}

/* An item predicate, negated when `neg` (docs/semantics.md, "Unknown facts"). A line whose field
 * is unknown (its margin, a missing attribute) is in neither `items where P` nor
 * `items where not P`, so `not` is pushed down to the leaves rather than taken as the complement
 * (SET_NOT) of P: De Morgan through `and` / `or`, the opposite comparison at a numeric leaf
 * (SET_CMP leaves out lines whose field is unknown), "has the attribute with another value" at
 * an attribute leaf. SET_NOT remains only for fields every line has (sku, category, brand, tags). */
static void compile_pred_neg(cg *c, const ast_node *n, bool neg)
{
    if (c->failed) return;
    int field;
    if (n->is_const && n->type == TY_BOOL) {
        emit(c, PERK_OP_SET_ALL, 0);
        if (!n->value != neg) emit(c, PERK_OP_SET_NOT, 0);
        return;
    }
    if (n->kind == AST_UNARY && n->op == OP_NOT) {
        compile_pred_neg(c, n->a, !neg);
        return;
    }
    if (n->kind == AST_UNARY && (n->op == OP_IS_KNOWN || n->op == OP_IS_UNKNOWN)) {
        /* the lines whose margin / attribute is known; `is unknown`: the others */
        const ast_node *f = resolve_let(n->a);
        if (is_attr_call(f)) {
            const ast_node *key = f->list.count > 0 ? resolve_let(f->list.items[0]) : NULL;
            if (!key || key->kind != AST_STRING) {
                fail(c, n, "write attr(\"origin\") is known", "the attribute must be named by a string");
                return;
            }
            emit_attr(c, intern(c, key->name), PROG_NONE);
        } else if (item_field(f, &field) && field == PERK_FIELD_STORE) {
            /* a known store has a string id or -1, never -2 */
            emit(c, PERK_OP_PUSH_IMM, -2);
            emit_aux(c, PERK_OP_SET_CMP, PERK_CMP_NE, PERK_FIELD_STORE);
        } else {
            /* a known margin is 0% .. 100% (perk_cart_add_line checks it): margin >= 0 */
            emit(c, PERK_OP_PUSH_IMM, 0);
            emit_aux(c, PERK_OP_SET_CMP, PERK_CMP_GE, PERK_FIELD_MARGIN);
        }
        /* "known" is itself always known, so its complement is exactly the unknown lines */
        if ((n->op == OP_IS_UNKNOWN) != neg) emit(c, PERK_OP_SET_NOT, 0);
        return;
    }
    if (n->kind == AST_NAME && n->decl && n->decl->kind == AST_LET) {
        compile_pred_neg(c, n->decl->a, neg);
        return;
    }
    if (item_field(n, &field) && field == PERK_FIELD_DISCOUNTED) {
        /* `discounted`: the lines an earlier promotion took something off; `not discounted`: the
         * others (every line is one or the other) */
        emit(c, PERK_OP_PUSH_IMM, 1);
        emit_aux(c, PERK_OP_SET_CMP, neg ? PERK_CMP_NE : PERK_CMP_EQ, PERK_FIELD_DISCOUNTED);
        return;
    }
    if (n->kind != AST_BINARY) {
        fail(c, n, "compare an item field with a value, e.g. price >= ¥100",
             "this item condition cannot be evaluated");
        return;
    }
    const ast_node *a = n->a, *b = n->b;
    switch (n->op) {
    case OP_AND:
    case OP_OR:
        compile_pred_neg(c, a, neg);
        compile_pred_neg(c, b, neg);
        emit(c, (n->op == OP_AND) != neg ? PERK_OP_SET_AND : PERK_OP_SET_OR, 0);
        return;
    case OP_IN:
    case OP_NOT_IN: {
        bool out = (n->op == OP_NOT_IN) != neg; /* the lines outside the list or range */
        if (item_field(b, &field) && field == PERK_FIELD_TAGS) {
            /* "organic" in tags */
            if (!emit_string_match(c, field, false, a)) {
                fail(c, a, "write a tag as a string, e.g. \"organic\" in tags", "expected a string tag");
                return;
            }
        } else if (item_field(a, &field)) {
            const ast_node *r = resolve_let(b);
            if (r->kind == AST_RANGE &&
                (field == PERK_FIELD_PRICE || field == PERK_FIELD_QUANTITY || field == PERK_FIELD_AMOUNT ||
                 field == PERK_FIELD_ORIGINAL_AMOUNT || field == PERK_FIELD_MARGIN)) {
                /* in lo .. hi: >= lo and <= hi; outside: < lo or > hi (a line with an unknown
                 * margin is in neither) */
                compile_scalar(c, r->a);
                emit_aux(c, PERK_OP_SET_CMP, out ? PERK_CMP_LT : PERK_CMP_GE, (uint32_t)field);
                compile_scalar(c, r->b);
                emit_aux(c, PERK_OP_SET_CMP, out ? PERK_CMP_GT : PERK_CMP_LE, (uint32_t)field);
                emit(c, out ? PERK_OP_SET_OR : PERK_OP_SET_AND, 0);
                return;
            }
            if (field == PERK_FIELD_STORE && out) {
                /* not in [...]: the lines whose store is known (no string id is -2), except
                 * those in the list; a line whose store is unknown is in neither */
                emit(c, PERK_OP_PUSH_IMM, -2);
                emit_aux(c, PERK_OP_SET_CMP, PERK_CMP_NE, PERK_FIELD_STORE);
                emit_any_of(c, field, false, b, n);
                emit(c, PERK_OP_SET_DIFF, 0);
                return;
            }
            emit_any_of(c, field, field == PERK_FIELD_CATEGORY, b, n);
        } else {
            fail(c, n, "write e.g. category in \"tea\" or \"organic\" in tags",
                 "this item condition cannot be evaluated");
            return;
        }
        if (out) emit(c, PERK_OP_SET_NOT, 0); /* tags, sku, category, brand: every line has them */
        return;
    }
    case OP_EQ:
    case OP_NE:
    case OP_LT:
    case OP_LE:
    case OP_GT:
    case OP_GE: {
        perk_cmp k = cmp_of(n->op);
        const ast_node *value = b;
        if (is_attr_call(a) || is_attr_call(b)) {
            const ast_node *call = is_attr_call(a) ? a : b;
            const ast_node *v = resolve_let(is_attr_call(a) ? b : a);
            const ast_node *key = call->list.count > 0 ? resolve_let(call->list.items[0]) : NULL;
            if (!key || key->kind != AST_STRING || v->kind != AST_STRING ||
                (k != PERK_CMP_EQ && k != PERK_CMP_NE)) {
                fail(c, n, "write attr(\"origin\") = \"Yunnan\"",
                     "an attribute can only be compared for equality with a string");
                return;
            }
            uint32_t kid = intern(c, key->name), vid = intern(c, v->name);
            if ((k == PERK_CMP_NE) != neg) {
                /* != "Yunnan": the lines that have an origin, and another one */
                emit_attr(c, kid, PROG_NONE);
                emit_attr(c, kid, vid);
                emit(c, PERK_OP_SET_DIFF, 0);
            } else {
                emit_attr(c, kid, vid);
            }
            return;
        }
        if (!item_field(a, &field)) {
            if (!item_field(b, &field)) {
                fail(c, n, "compare an item field with a value, e.g. price >= ¥100",
                     "this item condition cannot be evaluated");
                return;
            }
            value = a;
            k = mirror(k);
        }
        if (field == PERK_FIELD_STORE) {
            /* store = "A" / != "A" (a line whose store is unknown is in neither) */
            const ast_node *v = resolve_let(value);
            if ((k != PERK_CMP_EQ && k != PERK_CMP_NE) || v->kind != AST_STRING) {
                fail(c, n, "write store = \"A\"", "a store can only be compared for equality with a string");
                return;
            }
            emit(c, PERK_OP_PUSH_STR, intern(c, v->name));
            emit_aux(c, PERK_OP_SET_CMP, (k == PERK_CMP_NE) != neg ? PERK_CMP_NE : PERK_CMP_EQ, PERK_FIELD_STORE);
            return;
        }
        if (field == PERK_FIELD_SKU || field == PERK_FIELD_BRAND || field == PERK_FIELD_CATEGORY) {
            if (k != PERK_CMP_EQ && k != PERK_CMP_NE) {
                fail(c, n, NULL, "text fields can only be compared with = or !=");
                return;
            }
            emit_any_of(c, field, false, value, n);
            if ((k == PERK_CMP_NE) != neg) emit(c, PERK_OP_SET_NOT, 0);
            return;
        }
        if (field == PERK_FIELD_TAGS) {
            fail(c, n, "write \"organic\" in tags", "tags are a set: test membership with `in`");
            return;
        }
        compile_scalar(c, value);
        emit_aux(c, PERK_OP_SET_CMP, (uint8_t)(neg ? perk_cmp_negate((int)k) : (int)k), (uint32_t)field);
        return;
    }
    default:
        fail(c, n, "compare an item field with a value, e.g. price >= ¥100",
             "this item condition cannot be evaluated");
    }
}

static void compile_pred(cg *c, const ast_node *n) { compile_pred_neg(c, n, false); }

/* ------------------------------------------------------------------ conditions */

typedef struct pending_cond {
    const ast_node *node;   /* the expression, or the clause for schedule clauses */
    const ast_node *clause; /* for text and location */
    bool soft;
    uint32_t hint_set;
} pending_cond;

/* The name a hint gives a set: its `let` name, "items", or its text. */
static uint32_t set_name_of(cg *c, const ast_node *s)
{
    if (s->kind == AST_NAME) return intern(c, s->name);
    if (s->kind == AST_ITEMS) return intern(c, "items");
    return text_of(c, s);
}

/* A `when` of the form sum(S) >= ¥X (or order.subtotal >= ¥X): the one kind of condition that
 * adding items can satisfy. Returns the string id of the set's name, or PROG_NONE. */
static uint32_t threshold_hint(cg *c, const ast_node *e)
{
    if (e->kind != AST_BINARY || (e->op != OP_GE && e->op != OP_GT)) return PROG_NONE;
    if (!e->b->is_const || e->b->type != TY_MONEY) return PROG_NONE;
    const ast_node *a = e->a;
    if (a->kind == AST_FIELD && (a->fact == PERK_FACT_ORDER_SUBTOTAL)) return intern(c, "items");
    if (a->kind == AST_CALL && a->name && strcmp(a->name, "sum") == 0 && a->list.count == 1)
        return set_name_of(c, a->list.items[0]);
    return PROG_NONE;
}

/* What the last comparison of a condition compares, for explanations. */
static uint32_t value_kind_of(const ast_node *e)
{
    switch (e->kind) {
    case AST_CLAUSE:
        switch (e->op) {
        case CL_VALID: return e->ival ? PERK_VALUE_DATETIME : PERK_VALUE_DATE;
        case CL_HOURS: return PERK_VALUE_TIME;
        case CL_MONTHDAY: return PERK_VALUE_MONTH_DAY;
        default: return PERK_VALUE_PLAIN;
        }
    case AST_BINARY:
        if (e->op == OP_AND || e->op == OP_OR) return value_kind_of(e->b);
        switch (e->a->type) {
        case TY_MONEY: return PERK_VALUE_MONEY;
        case TY_PERCENT: return PERK_VALUE_PERCENT;
        case TY_DATE: return PERK_VALUE_DATE;
        case TY_TIME: return PERK_VALUE_TIME;
        case TY_DURATION: return PERK_VALUE_DURATION;
        default: return PERK_VALUE_PLAIN;
        }
    case AST_NAME: return e->decl && e->decl->kind == AST_LET ? value_kind_of(e->decl->a) : PERK_VALUE_PLAIN;
    default: return PERK_VALUE_PLAIN;
    }
}

/* Pushes 1 from the end of the promotion's window across midnight to 24:00 (the day the window
 * started is today), 0 before it (it started yesterday): (time + 1440 - end) / 1440, with no
 * comparison, so the one an explanation shows is the schedule's own. */
static void emit_started_today(cg *c)
{
    emit(c, PERK_OP_LOAD_FACT, PERK_FACT_TIME_OF_DAY);
    emit_int(c, 1440 - c->overnight_end);
    emit(c, PERK_OP_ADD, 0);
    emit_int(c, 1440);
    emit(c, PERK_OP_DIV, 0);
}

/* A fact of the day the schedule reads: today's, or in a window across midnight the day the
 * window started: prev + started_today * (today - prev). */
static void emit_schedule_fact(cg *c, perk_fact today, perk_fact prev)
{
    if (c->overnight_end < 0) {
        emit(c, PERK_OP_LOAD_FACT, today);
        return;
    }
    emit(c, PERK_OP_LOAD_FACT, prev);
    emit(c, PERK_OP_LOAD_FACT, today);
    emit(c, PERK_OP_LOAD_FACT, prev);
    emit(c, PERK_OP_SUB, 0);
    emit_started_today(c);
    emit(c, PERK_OP_MUL, 0);
    emit(c, PERK_OP_ADD, 0);
}

/* `on day 18 of every month`: day = 18, recording (day, 18) for the explanation; `on the last
 * day`: day = days in the month; several: (the last day or) the day in the mask, then day != 0
 * (always true) so that the comparison recorded is (day, 0): "today is day 17". */
static void emit_monthday(cg *c, const ast_node *cl)
{
    uint32_t mask = (uint32_t)cl->value;
    bool last = cl->ival != 0;
    int n_days = __builtin_popcount(mask);
    if (n_days + last == 1) {
        emit_schedule_fact(c, PERK_FACT_TIME_MONTH_DAY, PERK_FACT_TIME_PREV_MONTH_DAY);
        if (last)
            emit_schedule_fact(c, PERK_FACT_TIME_MONTH_DAYS, PERK_FACT_TIME_PREV_MONTH_DAYS);
        else
            emit_int(c, __builtin_ctz(mask));
        emit(c, PERK_OP_EQ, 0);
        return;
    }
    uint32_t j = 0;
    if (last) {
        emit_schedule_fact(c, PERK_FACT_TIME_MONTH_DAY, PERK_FACT_TIME_PREV_MONTH_DAY);
        emit_schedule_fact(c, PERK_FACT_TIME_MONTH_DAYS, PERK_FACT_TIME_PREV_MONTH_DAYS);
        emit(c, PERK_OP_EQ, 0);
        if (mask) j = emit(c, PERK_OP_JUMP_IF_TRUE, 0);
    }
    if (mask) {
        emit_schedule_fact(c, PERK_FACT_TIME_MONTH_DAY, PERK_FACT_TIME_PREV_MONTH_DAY);
        emit(c, PERK_OP_IN_MASK, mask);
        if (last) {
            emit(c, PERK_OP_OR, 0);
            patch_jump(c, j);
        }
    }
    emit_schedule_fact(c, PERK_FACT_TIME_MONTH_DAY, PERK_FACT_TIME_PREV_MONTH_DAY);
    emit_int(c, 0);
    emit(c, PERK_OP_NE, 0);
    emit(c, PERK_OP_AND, 0);
}

static void emit_condition(cg *c, const pending_cond *pc)
{
    const ast_node *cl = pc->clause;
    switch (cl->op) {
    case CL_VALID:
        if (cl->ival) { /* a bound with a time of day: the local date and time, in seconds */
            emit(c, PERK_OP_LOAD_FACT, PERK_FACT_TIME_LOCAL_SECONDS);
            emit_int(c, cl->value);
            emit_int(c, cl->value2);
        } else { /* today in from .. to */
            emit(c, PERK_OP_LOAD_FACT, PERK_FACT_TIME_TODAY);
            compile_scalar(c, cl->a);
            compile_scalar(c, cl->b);
        }
        emit(c, PERK_OP_IN_RANGE, 0);
        break;
    case CL_EVERY: {
        const ast_node *const *el;
        int n = list_elems(cl->a, &el);
        uint32_t mask = 0;
        if (n < 0) mask = 1u << (resolve_let(cl->a)->value & 7);
        for (int i = 0; i < n; i++) mask |= 1u << (el[i]->value & 7);
        if (c->overnight_end < 0) {
            emit(c, PERK_OP_LOAD_FACT, PERK_FACT_TIME_WEEKDAY);
        } else { /* the weekday the window started: (weekday + 6 + started_today) mod 7 */
            emit(c, PERK_OP_LOAD_FACT, PERK_FACT_TIME_WEEKDAY);
            emit_int(c, 6);
            emit(c, PERK_OP_ADD, 0);
            emit_started_today(c);
            emit(c, PERK_OP_ADD, 0);
            emit_int(c, 7);
            emit(c, PERK_OP_MOD, 0);
        }
        emit(c, PERK_OP_IN_MASK, mask);
        break;
    }
    case CL_MONTHDAY: emit_monthday(c, cl); break;
    case CL_HOURS:
        if (cl->ival) { /* across midnight: time < to or time >= from (a miss shows "21:59 < 22:00") */
            emit(c, PERK_OP_LOAD_FACT, PERK_FACT_TIME_OF_DAY);
            compile_scalar(c, cl->b);
            emit(c, PERK_OP_LT, 0);
            uint32_t j = emit(c, PERK_OP_JUMP_IF_TRUE, 0);
            emit(c, PERK_OP_LOAD_FACT, PERK_FACT_TIME_OF_DAY);
            compile_scalar(c, cl->a);
            emit(c, PERK_OP_GE, 0);
            emit(c, PERK_OP_OR, 0);
            patch_jump(c, j);
        } else { /* from <= time < to */
            emit(c, PERK_OP_LOAD_FACT, PERK_FACT_TIME_OF_DAY);
            compile_scalar(c, cl->a);
            emit(c, PERK_OP_GE, 0);
            uint32_t j = emit(c, PERK_OP_JUMP_IF_FALSE, 0);
            emit(c, PERK_OP_LOAD_FACT, PERK_FACT_TIME_OF_DAY);
            compile_scalar(c, cl->b);
            emit(c, PERK_OP_LT, 0);
            emit(c, PERK_OP_AND, 0);
            patch_jump(c, j);
        }
        break;
    default: compile_scalar(c, pc->node); break;
    }
    /* a `when` is shown as its expression; schedule clauses as written */
    const ast_node *shown = cl->op == CL_WHEN ? pc->node : cl;
    prog_cond pcond = { text_of(c, shown), loc_of(c, shown), pc->hint_set, value_kind_of(shown) };
    PUSH(c, conds, n_conds, cap_conds, pcond);
    emit(c, pc->soft ? PERK_OP_REQUIRE_SOFT : PERK_OP_REQUIRE, c->p->n_conds - 1);
    report_limits(c, shown);
}

/* Emits the conditions of a declaration body (whens and schedule clauses), hard ones first and
 * hint-able thresholds last. Returns the number emitted; sets *first to the first index. */
static uint32_t emit_conditions(cg *c, const ast_node *decl, uint32_t *first)
{
    pending_cond *pcs = malloc((size_t)(decl->list.count > 0 ? decl->list.count : 1) * sizeof *pcs);
    if (!pcs) abort();
    int n = 0;
    c->overnight_end = -1;
    for (int i = 0; i < decl->list.count; i++) {
        const ast_node *cl = decl->list.items[i];
        if (cl->kind == AST_CLAUSE && cl->op == CL_HOURS && cl->ival)
            c->overnight_end = resolve_let(cl->b)->value;
    }
    for (int i = 0; i < decl->list.count; i++) {
        const ast_node *cl = decl->list.items[i];
        if (cl->kind != AST_CLAUSE) continue;
        if (cl->op == CL_WHEN || cl->op == CL_VALID || cl->op == CL_EVERY || cl->op == CL_HOURS ||
            cl->op == CL_MONTHDAY) {
            pending_cond pc = { cl->op == CL_WHEN ? cl->a : cl, cl, false, PROG_NONE };
            if (cl->op == CL_WHEN) pc.hint_set = threshold_hint(c, cl->a);
            pc.soft = pc.hint_set != PROG_NONE;
            pcs[n++] = pc;
        }
    }
    *first = c->p->n_conds;
    bool any_soft = false;
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < n; i++)
            if (pcs[i].soft == (pass == 1)) {
                emit_condition(c, &pcs[i]);
                any_soft |= pcs[i].soft;
            }
    if (any_soft) emit(c, PERK_OP_CHECK, 0);
    free(pcs);
    return (uint32_t)n;
}

/* ------------------------------------------------------------------ actions */

static uint32_t add_action(cg *c, prog_action a)
{
    PUSH(c, actions, n_actions, cap_actions, a);
    return c->p->n_actions - 1;
}

static uint32_t add_steps(cg *c, const ast_node *act, bool qty, uint32_t *n_steps)
{
    uint32_t first = c->p->n_steps;
    for (int i = 0; i < act->list.count; i++) {
        const ast_node *st = act->list.items[i];
        if (st->kind != AST_TIER_STEP) continue;
        const ast_node *v = st->b;
        if (v && v->kind == AST_ACTION) v = v->a; /* "¥100: ¥10 off" may arrive as an action */
        prog_step s = { st->a->value, v ? v->value : 0, (uint8_t)(!qty && v && v->type == TY_PERCENT) };
        PUSH(c, steps, n_steps, cap_steps, s);
    }
    *n_steps = c->p->n_steps - first;
    return first;
}

/* `95折 off tea`: the text "95折 (5% off)", kept in the action's (otherwise unused) str2 so that
 * explanations show what the rule wrote and what it means; PROG_NONE for any other percent. */
static uint32_t zhe_note(cg *c, const ast_node *pct)
{
    if (!pct || pct->kind != AST_PERCENT || !pct->sym || strcmp(pct->sym, "\xE6\x8A\x98") != 0)
        return PROG_NONE;
    const ast_span *s = &pct->span;
    if (s->file < 0 || s->file >= c->sources->count) return PROG_NONE;
    const source_file *f = &c->sources->files[s->file];
    size_t a = (size_t)s->first_offset, b = (size_t)s->last_offset;
    if (a > f->len || b > f->len || b <= a || b - a > 32) return PROG_NONE;
    int64_t tenths = pct->value / 1000; /* ppm -> tenths of a percent: a 折 is a multiple of 0.1% */
    char buf[160];
    if (tenths % 10 == 0)
        snprintf(buf, sizeof buf, "%.*s (%" PRId64 "%% off)", (int)(b - a), f->text + a, tenths / 10);
    else
        snprintf(buf, sizeof buf, "%.*s (%" PRId64 ".%" PRId64 "%% off)", (int)(b - a), f->text + a,
                 tenths / 10, tenths % 10);
    return intern(c, buf);
}

/* `bundle 1 of teapots + 2 of cups for ¥199`: p0 = the price; a step per part (units, the name
 * of its set for hints and explanations); each part's set but the last marked by BUNDLE_PART
 * (the action's index is the next one), the last one's taken by APPLY. */
static void compile_bundle(cg *c, const ast_node *act, prog_action *a)
{
    a->p[0] = act->c->value;
    a->steps = c->p->n_steps;
    for (int i = 0; i < act->list.count; i++) {
        const ast_node *part = act->list.items[i];
        prog_step s = { part->a->value, (int64_t)set_name_of(c, part->b), 0 };
        PUSH(c, steps, n_steps, cap_steps, s);
    }
    a->n_steps = c->p->n_steps - a->steps;
    uint32_t idx = c->p->n_actions; /* add_action appends */
    for (int i = 0; i < act->list.count; i++) {
        compile_set(c, act->list.items[i]->b);
        if (i + 1 < act->list.count) emit(c, PERK_OP_BUNDLE_PART, idx);
    }
    uint32_t got = add_action(c, *a);
    (void)got; /* == idx */
    emit(c, PERK_OP_APPLY, idx);
    report_limits(c, act);
}

/* A reward coupon's period (check_reward.c left it on the node: ival 1 = value seconds after the
 * commit, 2 = value..value2 local seconds, both included, 0 = never expires). A window becomes
 * instants in the rule set's zone: valid from its first second, expiring after its last. */
static void reward_period(cg *c, const ast_node *act, prog_action *a)
{
    a->str1 = intern(c, act->name ? act->name : "");
    if (act->ival == 1) {
        a->p[0] = act->value;
    } else if (act->ival == 2) {
        tz_zone z = { c->p->n_tz, c->p->tz_at, c->p->tz_offset, c->p->tz_base_offset };
        int64_t from = tz_from_local(&z, act->value), to = tz_from_local(&z, act->value2) + 1;
        a->p[1] = from < 0 ? 0 : from; /* before 1970: the checker's dates start later in practice */
        a->p[2] = to <= a->p[1] ? a->p[1] + 1 : to;
    }
}

static void compile_action(cg *c, const ast_node *act)
{
    prog_action a;
    memset(&a, 0, sizeof a);
    a.rule = c->current_rule;
    a.str1 = a.str2 = PROG_NONE;
    a.steps = 0;
    a.loc = loc_of(c, act);
    const ast_node *target = act->b;
    if (act->op < 0 || act->op >= PROG_ACT_COUNT) { /* earn and multiply actions */
        fail(c, act, NULL, "this action is not allowed in a promotion");
        return;
    }
    a.kind = (uint8_t)act->op; /* ast_action numbers the promotion actions as actions.h does */
    const prog_action_info *info = &prog_action_table[a.kind];
    bool two_sets = info->sets == 2;
    if (!info->goods) target = NULL; /* gifts, shipping and effects act on no lines: SET_ALL */
    switch (info->layout) {
    case PROG_LAYOUT_NONE: break;
    case PROG_LAYOUT_A: a.p[0] = act->a->value; break;
    case PROG_LAYOUT_A_C:
        a.p[0] = act->a->value;
        a.p[1] = act->c->value;
        break;
    case PROG_LAYOUT_STEPS: a.steps = add_steps(c, act, info->steps == PROG_STEPS_QTY, &a.n_steps); break;
    case PROG_LAYOUT_EVERY:
        a.p[0] = act->a->value;
        a.p[1] = act->c->value;
        a.p[2] = act->list.count > 0 && act->list.items[0] ? act->list.items[0]->value : -1;
        break;
    case PROG_LAYOUT_BUY_GET:
        a.p[0] = act->a->value;
        a.p[1] = act->c->value;
        a.p[2] = act->list.count > 1 && act->list.items[1] ? act->list.items[1]->value : 1000000;
        break;
    case PROG_LAYOUT_GIFT:
        a.p[0] = act->a ? act->a->value : 1;
        a.str1 = intern(c, act->name);
        a.str2 = intern(c, act->label ? act->label : act->name);
        break;
    case PROG_LAYOUT_SHIPPING:
        if (act->a->type == TY_PERCENT) {
            a.p[0] = 0;
            a.p[1] = act->a->value;
        } else {
            a.p[0] = act->a->value;
            a.p[1] = -1;
        }
        break;
    case PROG_LAYOUT_EFFECT:
        a.str1 = intern(c, act->name);
        a.str2 = intern(c, act->label ? act->label : "");
        break;
    case PROG_LAYOUT_BUNDLE: compile_bundle(c, act, &a); return;
    case PROG_LAYOUT_REWARD: reward_period(c, act, &a); break;
    }
    if (a.kind == PROG_ACT_PERCENT_OFF || a.kind == PROG_ACT_MOST_EXPENSIVE ||
        a.kind == PROG_ACT_SHIPPING_OFF)
        a.str2 = zhe_note(c, act->a);
    else if ((a.kind == PROG_ACT_BUY_GET || a.kind == PROG_ACT_BUY_GET_SKU) && act->list.count > 1)
        a.str2 = zhe_note(c, act->list.items[1]);
    if (a.kind == PROG_ACT_COUNT_TIERS || a.kind == PROG_ACT_TIERS_STORE || a.kind == PROG_ACT_EVERY_STORE)
        a.str1 = set_name_of(c, act->b); /* the set its near-miss hints name */
    if (target)
        compile_set(c, target);
    else
        emit(c, PERK_OP_SET_ALL, 0);
    if (two_sets) {
        const ast_node *reward = act->list.count > 0 && act->list.items[0] ? act->list.items[0] : act->b;
        compile_set(c, reward);
    }
    uint32_t idx = add_action(c, a);
    emit(c, two_sets ? PERK_OP_APPLY2 : PERK_OP_APPLY, idx);
    report_limits(c, act);
}

/* ------------------------------------------------------------------ declarations */

static const ast_node *find_clause(const ast_node *decl, int op)
{
    for (int i = 0; i < decl->list.count; i++) {
        const ast_node *cl = decl->list.items[i];
        if (cl->kind == AST_CLAUSE && cl->op == op) return cl;
    }
    return NULL;
}

/* ------------------------------------------------------------------ target precheck */

/* What a line set on the stack is known to be inside: the lines matched by one string opcode
 * (SET_SKU, SET_BRAND, SET_CATEGORY, SET_CATEGORY_IS, SET_TAG) with this operand, or nothing
 * known (op = PERK_OP_COUNT). */
typedef struct target_key {
    uint8_t op;
    uint32_t str;
} target_key;

#define TARGET_STACK 32u /* the verifier's set limit; deeper code gets no precheck */

static bool key_known(target_key k) { return k.op != PERK_OP_COUNT; }
static bool key_same(target_key a, target_key b) { return a.op == b.op && a.str == b.str; }

/* Reads the promotion block [start, end) and finds the string every action is confined to
 * (docs/semantics.md, "Target precheck"). It follows the line-set stack: a string opcode is
 * inside its own key; an intersection is inside either side's key (the left one is taken); a
 * union only when both sides have the same key; `a except b` inside a's key; anything else
 * (every line, an attribute, a comparison, a complement) inside nothing known. Every APPLY must
 * act on a set with the key (APPLY2: its reward set, else its buy set, since with either empty a
 * buy/get rewards nothing) and every key must be the same. A REQUIRE_SOFT (a hint-able condition)
 * means no precheck: its near-miss hint must stay. Jumps only skip scalar code whose sets are
 * pushed and popped inside it (the verifier checks stack shapes), so one pass in order suffices. */
static bool find_target(const cg *c, uint32_t start, uint32_t end, target_key *out)
{
    const prog_data *p = c->p;
    target_key st[TARGET_STACK];
    uint32_t n = 0;
    bool found = false;
    for (uint32_t pc = start; pc < end; pc++) {
        const prog_insn *in = &p->code[pc];
        if (in->op >= PERK_OP_COUNT || in->op == PERK_OP_REQUIRE_SOFT) return false;
        const perk_opcode_info *info = &perk_opcode_table[in->op];
        target_key popped[2] = { { PERK_OP_COUNT, 0 }, { PERK_OP_COUNT, 0 } }; /* [0]: top */
        uint32_t np = 0;
        for (const char *k = info->pops; *k; k++) np += *k == 'l';
        if (np > n || np > 2) return false;
        for (uint32_t i = 0; i < np; i++) popped[i] = st[--n];
        target_key res = { PERK_OP_COUNT, 0 };
        switch ((perk_opcode)in->op) {
        case PERK_OP_SET_SKU:
        case PERK_OP_SET_BRAND:
        case PERK_OP_SET_CATEGORY:
        case PERK_OP_SET_CATEGORY_IS:
        case PERK_OP_SET_TAG:
            res.op = in->op;
            res.str = in->arg;
            break;
        case PERK_OP_SET_AND: res = key_known(popped[1]) ? popped[1] : popped[0]; break;
        case PERK_OP_SET_OR:
            if (key_same(popped[0], popped[1])) res = popped[0];
            break;
        case PERK_OP_SET_DIFF: res = popped[1]; break;
        case PERK_OP_BUNDLE_PART: return false; /* a bundle one part short gives a hint: no precheck */
        case PERK_OP_APPLY:
        case PERK_OP_APPLY2: {
            if (in->arg >= p->n_actions || p->actions[in->arg].kind >= PROG_ACT_COUNT ||
                !prog_action_table[p->actions[in->arg].kind].goods)
                return false;
            target_key k = key_known(popped[0]) || in->op == PERK_OP_APPLY ? popped[0] : popped[1];
            if (!key_known(k) || (found && !key_same(k, *out))) return false;
            *out = k;
            found = true;
            break;
        }
        default: break;
        }
        for (const char *k = info->pushes; *k; k++) {
            if (*k != 'l') continue;
            if (n >= TARGET_STACK) return false;
            st[n++] = res;
        }
    }
    return found;
}

/* Puts SET_x s; AGG_ANY; REQUIRE_TARGET in front of the promotion block [start, n_code) when
 * find_target finds s; jump targets inside the block move with the code. */
static void add_target_precheck(cg *c, uint32_t start)
{
    target_key k = { PERK_OP_COUNT, 0 };
    if (c->failed || !find_target(c, start, c->p->n_code, &k)) return;
    uint32_t old_end = c->p->n_code;
    for (int i = 0; i < 3; i++) emit(c, PERK_OP_END, 0); /* grow by three */
    prog_insn *code = c->p->code;
    memmove(&code[start + 3], &code[start], (size_t)(old_end - start) * sizeof *code);
    code[start] = (prog_insn){ k.op, 0, 0, k.str };
    code[start + 1] = (prog_insn){ PERK_OP_AGG_ANY, 0, 0, 0 };
    code[start + 2] = (prog_insn){ PERK_OP_REQUIRE_TARGET, 0, 0, 0 };
    for (uint32_t pc = start + 3; pc < c->p->n_code; pc++)
        if (code[pc].op < PERK_OP_COUNT && perk_opcode_table[code[pc].op].arg == PERK_ARG_JUMP)
            code[pc].arg += 3;
}

static void compile_promotion(cg *c, const ast_node *d, prog_rule *r)
{
    memset(r, 0, sizeof *r);
    r->id = intern(c, d->name);
    r->label = intern(c, d->label ? d->label : d->name);
    r->loc = loc_of(c, d);
    r->group = r->coupon = r->coupon_campaign = r->guard_string = r->guard_cond = PROG_NONE;
    r->guard_kind = PROG_GUARD_NONE;
    r->cap = r->limit_uses = r->limit_money = r->limit_per_customer = -1;
    r->priority = 100;
    for (int i = 0; i < d->list.count; i++) {
        const ast_node *cl = d->list.items[i];
        if (cl->kind != AST_CLAUSE) continue;
        switch (cl->op) {
        case CL_PRIORITY: r->priority = (int32_t)cl->a->value; break;
        case CL_STAGE: break; /* stage_of() below */
        case CL_COUPON: r->coupon = intern(c, cl->name); break;
        case CL_COUPON_FROM: r->coupon_campaign = intern(c, cl->name); break;
        case CL_EXCLUSIVE:
            r->group = intern(c, cl->name);
            if (cl->ival) r->flags |= PROG_RULE_BEST;
            break;
        case CL_STOP: r->flags |= PROG_RULE_STOP; break;
        case CL_ORIGINAL: r->flags |= PROG_RULE_ORIGINAL; break;
        case CL_CONSUMES: r->flags |= PROG_RULE_CONSUME; break;
        case CL_CAP: r->cap = cl->a->value; break;
        case CL_LIMIT_USES: r->limit_uses = cl->a->value; break;
        case CL_LIMIT_MONEY:
            r->limit_money = cl->a->value;
            if (cl->ival) r->flags |= PROG_RULE_PARTIAL;
            break;
        case CL_LIMIT_CUSTOMER: r->limit_per_customer = cl->a->value; break;
        case CL_LIMIT_UNITS: r->limit_units = (uint16_t)cl->a->value; break;
        default: break;
        }
    }
    r->code.start = c->p->n_code;
    r->n_conds = emit_conditions(c, d, &r->first_cond);
    for (int i = 0; i < d->list.count; i++) {
        const ast_node *cl = d->list.items[i];
        if (cl->kind == AST_CLAUSE && cl->op == CL_THEN && cl->a) compile_action(c, cl->a);
    }
    emit(c, PERK_OP_END, 0);
    r->stage = (uint8_t)stage_of(d);
    add_target_precheck(c, r->code.start);
    r->code.count = c->p->n_code - r->code.start;
}

static void compile_earn(cg *c, const ast_node *d, prog_earn *e, uint32_t index)
{
    memset(e, 0, sizeof *e);
    e->id = intern(c, d->name);
    e->label = intern(c, d->label ? d->label : d->name);
    e->loc = loc_of(c, d);
    e->cap = -1;
    const ast_node *cap = find_clause(d, CL_EARN_CAP);
    if (!cap) cap = find_clause(d, CL_CAP);
    if (cap) e->cap = cap->a->value;
    e->code.start = c->p->n_code;
    e->n_conds = emit_conditions(c, d, &e->first_cond);
    const ast_node *then = find_clause(d, CL_THEN);
    if (then && then->a && then->a->op == ACT_EARN_POINTS) {
        const ast_node *act = then->a;
        e->points = act->a->value;
        e->per_money = act->b->value;
        if (act->c)
            compile_set(c, act->c);
        else
            emit(c, PERK_OP_SET_ALL, 0);
    } else {
        fail(c, d, "add e.g. `then 1 point per ¥1 on items`",
             "an earn rule needs a `then` saying how many points");
        return;
    }
    emit(c, PERK_OP_EARN, index);
    emit(c, PERK_OP_END, 0);
    e->code.count = c->p->n_code - e->code.start;
}

static void compile_multiplier(cg *c, const ast_node *d, prog_mult *m, uint32_t index)
{
    memset(m, 0, sizeof *m);
    m->id = intern(c, d->name);
    m->label = intern(c, d->label ? d->label : d->name);
    m->loc = loc_of(c, d);
    m->num = m->den = 1;
    m->code.start = c->p->n_code;
    m->n_conds = emit_conditions(c, d, &m->first_cond);
    const ast_node *then = find_clause(d, CL_THEN);
    if (then && then->a && then->a->op == ACT_MULTIPLY) {
        const ast_node *act = then->a;
        m->num = act->a->value;
        m->den = act->a->value2 > 0 ? act->a->value2 : 1;
        m->targets = c->p->n_u32;
        for (int i = 0; i < act->list.count; i++) {
            const ast_node *t = act->list.items[i];
            if (t->decl && t->decl->kind == AST_EARN) {
                u32_push(c, (uint32_t)t->decl->index);
                m->n_targets++;
            }
        }
    } else {
        fail(c, d, "add e.g. `then x2 on base`", "a multiplier needs a `then` with its factor");
        return;
    }
    emit(c, PERK_OP_MULTIPLY, index);
    emit(c, PERK_OP_END, 0);
    m->code.count = c->p->n_code - m->code.start;
}

static void compile_redeem(cg *c, const ast_node *d, prog_redeem *r)
{
    memset(r, 0, sizeof *r);
    r->present = true;
    r->max_share_ppm = 1000000;
    r->pays_for = PROG_PAYS_GOODS | PROG_PAYS_SHIPPING;
    for (int i = 0; i < d->list.count; i++) {
        const ast_node *cl = d->list.items[i];
        if (cl->kind != AST_CLAUSE) continue;
        switch (cl->op) {
        case CL_RATE:
            r->points = cl->a->value;
            r->money = cl->b->value;
            break;
        case CL_MAX_SHARE: r->max_share_ppm = cl->a->value; break;
        case CL_MIN_BALANCE: r->min_balance = cl->a->value; break;
        case CL_PAYS_FOR:
            r->pays_for = 0;
            for (int k = 0; k < cl->list.count; k++) {
                const char *w = cl->list.items[k]->name;
                if (w && strcmp(w, "goods") == 0) r->pays_for |= PROG_PAYS_GOODS;
                if (w && strcmp(w, "shipping") == 0) r->pays_for |= PROG_PAYS_SHIPPING;
            }
            break;
        default: break;
        }
    }
    r->code.start = c->p->n_code;
    r->n_conds = emit_conditions(c, d, &r->first_cond);
    emit(c, PERK_OP_END, 0);
    r->code.count = c->p->n_code - r->code.start;
}

static void compile_tier(cg *c, const ast_node *d, prog_tier *t)
{
    memset(t, 0, sizeof *t);
    t->id = intern(c, d->name);
    t->label = intern(c, d->label ? d->label : d->name);
    const ast_node *spend = find_clause(d, CL_TIER_SPEND);
    if (spend) {
        t->spend = spend->a->value;
        t->window_seconds = spend->b ? spend->b->value : 0;
    }
    t->benefits = c->p->n_u32;
    for (int i = 0; i < d->list.count; i++) {
        const ast_node *cl = d->list.items[i];
        if (cl->kind == AST_CLAUSE && cl->op == CL_TIER_BENEFIT) {
            u32_push(c, intern(c, cl->name));
            t->n_benefits++;
        }
    }
}

typedef struct order_entry {
    int stage;
    int32_t priority;
    int index;
} order_entry;

static int cmp_order(const void *x, const void *y)
{
    const order_entry *a = x, *b = y;
    if (a->stage != b->stage) return a->stage < b->stage ? -1 : 1;
    if (a->priority != b->priority) return a->priority < b->priority ? -1 : 1;
    return a->index < b->index ? -1 : a->index > b->index;
}

static void compile_header(cg *c, const check_info *info)
{
    prog_data *p = c->p;
    p->name = intern(c, info->ruleset_name ? info->ruleset_name : "");
    snprintf(p->currency, sizeof p->currency, "%s", info->currency ? info->currency : "XXX");
    p->exponent = info->exponent;
    p->rounding = (uint8_t)info->rounding;
    p->coupon_policy = (uint8_t)info->coupon_policy;
    p->max_discount_ppm = info->max_discount_ppm;
    p->points_pending_seconds = info->points_pending_seconds;
    p->points_expire_seconds = info->points_expire_seconds;
    p->points_expire_year_end = (uint8_t)info->points_expire_year_end;
    const char *tz = info->timezone ? info->timezone : "UTC";
    p->timezone = intern(c, tz);
    char err[256];
    int64_t *at = NULL;
    int32_t *off = NULL;
    uint32_t count = 0;
    int32_t base = 0;
    if (!tzload_zone(tz, TZ_UNTIL_EPOCH, &at, &off, &count, &base, err, sizeof err)) {
        ast_span none = { 0, 1, 1, 1, 1, 0, 0 };
        diag_report(c->diags, DIAG_CODEGEN_TIMEZONE, none, "install the tzdata package, or name another zone",
                    "%s", err);
        c->failed = true;
        return;
    }
    /* the program owns its arrays through perk_mem_*: copy */
    p->n_tz = count;
    p->tz_base_offset = base;
    if (count) {
        p->tz_at = perk_mem_alloc(count * sizeof(int64_t));
        p->tz_offset = perk_mem_alloc(count * sizeof(int32_t));
        if (!p->tz_at || !p->tz_offset) abort();
        memcpy(p->tz_at, at, count * sizeof(int64_t));
        memcpy(p->tz_offset, off, count * sizeof(int32_t));
    }
    free(at);
    free(off);
}

/* Gives each promotion the first guard the bytecode proves (runtime/guard.h): a sku, brand,
 * category or tag whose absence from the cart decides the promotion's outcome, so that the rule
 * index can skip its block on such carts. Done on the finished bytecode rather than on the AST so
 * that the proof covers exactly what the VM runs: the order conditions were emitted in (hard ones
 * first, then thresholds as REQUIRE_SOFT), the jumps of `and`/`or`, the instruction count. Typical
 * guards: `when sum(tea) >= ¥300` (fails with sum 0 < 30000 without tea), `when any(acme)`,
 * `when count(organic) >= 2`, and a promotion with no condition whose every action targets one
 * category (it discounts nothing without it: reason NOTHING). */
static void choose_guards(prog_data *p)
{
    for (uint32_t i = 0; i < p->n_rules; i++) {
        prog_rule *r = &p->rules[i];
        guard_outcome o;
        if (guard_choose(p, i, &r->guard_kind, &r->guard_string, &o))
            r->guard_cond = o.failed ? o.cond : PROG_NONE;
        else
            r->guard_cond = PROG_NONE;
    }
}

bool codegen_program(const ast_node *file, const check_info *info, const source_set *sources,
                     diag_engine *diags, prog_data *out)
{
    (void)file;
    memset(out, 0, sizeof *out);
    cg c;
    memset(&c, 0, sizeof c);
    c.p = out;
    c.info = info;
    c.sources = sources;
    c.diags = diags;
    intern(&c, ""); /* string 0 is the empty string */
    compile_header(&c, info);

    /* promotions in evaluation order: stage, priority, declaration (docs/semantics.md, "Stages") */
    int np = info->n_promotions;
    order_entry *order = calloc((size_t)(np > 0 ? np : 1), sizeof *order);
    if (!order) abort();
    for (int i = 0; i < np; i++) {
        const ast_node *d = info->promotions[i];
        order[i] = (order_entry){ (int)stage_of(d), stage_priority(d), i };
    }
    qsort(order, (size_t)np, sizeof *order, cmp_order);
    out->rules = perk_mem_calloc((size_t)(np > 0 ? np : 1), sizeof(prog_rule));
    if (!out->rules) abort();
    for (int k = 0; k < np && !c.failed; k++) {
        c.current_rule = (uint32_t)k;
        compile_promotion(&c, info->promotions[order[k].index], &out->rules[k]);
        report_limits(&c, info->promotions[order[k].index]);
        out->n_rules = (uint32_t)k + 1;
    }
    free(order);

    out->earns = perk_mem_calloc((size_t)(info->n_earns > 0 ? info->n_earns : 1), sizeof(prog_earn));
    out->mults =
        perk_mem_calloc((size_t)(info->n_multipliers > 0 ? info->n_multipliers : 1), sizeof(prog_mult));
    out->tiers = perk_mem_calloc((size_t)(info->n_tiers > 0 ? info->n_tiers : 1), sizeof(prog_tier));
    if (!out->earns || !out->mults || !out->tiers) abort();
    for (int i = 0; i < info->n_earns && !c.failed; i++) {
        compile_earn(&c, info->earns[i], &out->earns[i], (uint32_t)i);
        report_limits(&c, info->earns[i]);
        out->n_earns = (uint32_t)i + 1;
    }
    for (int i = 0; i < info->n_multipliers && !c.failed; i++) {
        compile_multiplier(&c, info->multipliers[i], &out->mults[i], (uint32_t)i);
        report_limits(&c, info->multipliers[i]);
        out->n_mults = (uint32_t)i + 1;
    }
    for (int i = 0; i < info->n_tiers && !c.failed; i++) {
        compile_tier(&c, info->tiers[i], &out->tiers[i]);
        report_limits(&c, info->tiers[i]);
        out->n_tiers = (uint32_t)i + 1;
    }
    if (info->redeem && !c.failed) {
        compile_redeem(&c, info->redeem, &out->redeem);
        report_limits(&c, info->redeem);
    } else {
        out->redeem.present = false;
        out->redeem.code.start = out->n_code;
        emit(&c, PERK_OP_END, 0);
        out->redeem.code.count = 1;
    }
    if (!c.failed) choose_guards(out);
    free(c.str_slots);
    free(c.ints_map.slots);
    free(c.attrs_map.slots);
    if (c.failed) {
        prog_data_free(out);
        return false;
    }
    return true;
}
