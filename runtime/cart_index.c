/* cart_index.c - per-cart precomputation for the line-set opcodes.
 *
 * At load time (cidx_build) the program is scanned for every string a rule can match on a line
 * (sku, brand, category prefix, exact category, tag, attribute pair); each such (kind, string)
 * gets an "index slot". The map from strings to slots is the program's, shared by every context.
 *
 * A context holds line bitsets only for the slots its cart has ("present" slots), in the order of
 * their first line, found through a small hash (slot -> position) sized by the cart: memory is
 * O(present slots x cart words), never O(program slots x max_lines). perk_cart_add_line() interns
 * the line's strings once (each category prefix "tea", "tea/green", "tea/green/longjing" looked up
 * once) and sets the line's bit in the matching slots. SET_SKU, SET_CATEGORY, ... then copy a ready
 * bitset: O(lines / 64) words, no string comparison during evaluation.
 *
 * The present slots also drive the rule index (evaluate.c visits the promotions guarded by their
 * strings), and clearing for the next cart touches only them.
 */
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "vm_internal.h"

/* Present slots (and hash buckets / 2) a new context starts with; both grow with the carts. */
#define CIDX_FIRST_PRESENT 16u

/* ------------------------------------------------------------------ the program's slots */

static uint32_t map_kind_of(uint8_t op)
{
    switch (op) {
    case PERK_OP_SET_SKU: return CIDX_SKU;
    case PERK_OP_SET_BRAND: return CIDX_BRAND;
    case PERK_OP_SET_CATEGORY: return CIDX_CAT_PREFIX;
    case PERK_OP_SET_CATEGORY_IS: return CIDX_CAT_EXACT;
    case PERK_OP_SET_TAG: return CIDX_TAG;
    default: return CIDX_KINDS;
    }
}

static int attr_pair_cmp(const void *a, const void *b)
{
    uint64_t x = ((const prog_attr_slot *)a)->pair, y = ((const prog_attr_slot *)b)->pair;
    return x < y ? -1 : x > y;
}

static int attr_pair_index_cmp(const void *a, const void *b)
{
    const prog_attr_slot *x = a, *y = b;
    if (x->pair != y->pair) return x->pair < y->pair ? -1 : 1;
    return x->slot < y->slot ? -1 : x->slot > y->slot;
}

/* For each entry of the program's attribute table, the first entry with the same (key, value)
 * pair: a sort by (pair, index), O(n log n), where comparing every entry with every other made
 * context creation quadratic. A program from the compiler has no duplicate pairs; a program
 * from elsewhere may. Returns NULL when out of memory. */
static uint32_t *attr_first_of_pair(const prog_data *d)
{
    size_t na = d->n_attrs == 0 ? 1 : d->n_attrs;
    uint32_t *canon = perk_mem_alloc(na * sizeof(uint32_t));
    prog_attr_slot *order = perk_mem_alloc(na * sizeof(prog_attr_slot));
    if (canon == NULL || order == NULL) {
        perk_mem_free(canon);
        perk_mem_free(order);
        return NULL;
    }
    for (uint32_t a = 0; a < d->n_attrs; a++) {
        order[a].pair = (uint64_t)d->attr_key[a] << 32 | d->attr_value[a];
        order[a].slot = a; /* here: the entry's index */
    }
    qsort(order, d->n_attrs, sizeof(prog_attr_slot), attr_pair_index_cmp);
    for (uint32_t k = 0, first = 0; k < d->n_attrs; k++) {
        if (k == 0 || order[k].pair != order[k - 1].pair) first = order[k].slot;
        canon[order[k].slot] = first;
    }
    perk_mem_free(order);
    return canon;
}

bool cidx_build(perk_program *p)
{
    const prog_data *d = &p->d;
    prog_slots *s = &p->slots;
    size_t ns = d->n_strings == 0 ? 1 : d->n_strings;
    for (int k = 0; k < CIDX_KINDS; k++) {
        s->map[k] = perk_mem_alloc(ns * sizeof(uint32_t));
        if (s->map[k] == NULL) return false;
        memset(s->map[k], 0xff, ns * sizeof(uint32_t)); /* PROG_NONE */
    }
    size_t na = d->n_attrs == 0 ? 1 : d->n_attrs;
    s->attr_slot = perk_mem_alloc(na * sizeof(uint32_t));
    s->attr_pairs = perk_mem_calloc(na, sizeof(prog_attr_slot));
    if (s->attr_slot == NULL || s->attr_pairs == NULL) return false;
    memset(s->attr_slot, 0xff, na * sizeof(uint32_t));
    uint32_t *canon = attr_first_of_pair(d);
    if (canon == NULL) return false;

    uint32_t slots = 0;
    bool tag_cmp = false;
    for (uint32_t i = 0; i < d->n_code; i++) {
        const prog_insn *in = &d->code[i];
        uint32_t kind = map_kind_of(in->op);
        if (kind != CIDX_KINDS && in->arg < d->n_strings) {
            if (s->map[kind][in->arg] == PROG_NONE) s->map[kind][in->arg] = slots++;
        } else if (in->op == PERK_OP_SET_ATTR && in->arg < d->n_attrs) {
            /* one slot per distinct pair, numbered where the pair is first used */
            uint32_t first = canon[in->arg];
            if (s->attr_slot[first] == PROG_NONE) {
                s->attr_pairs[s->n_attr_pairs].pair =
                    (uint64_t)d->attr_key[first] << 32 | d->attr_value[first];
                s->attr_pairs[s->n_attr_pairs].slot = s->attr_slot[first] = slots++;
                s->n_attr_pairs++;
            }
        } else if (in->op == PERK_OP_SET_CMP && in->arg == PERK_FIELD_TAGS) {
            tag_cmp = true;
        }
    }
    /* `tags = "x"` compares with a string pushed at run time: give every pushed string a tag slot */
    if (tag_cmp) {
        for (uint32_t i = 0; i < d->n_code; i++) {
            const prog_insn *in = &d->code[i];
            if (in->op == PERK_OP_PUSH_STR && in->arg < d->n_strings &&
                s->map[CIDX_TAG][in->arg] == PROG_NONE)
                s->map[CIDX_TAG][in->arg] = slots++;
        }
    }
    qsort(s->attr_pairs, s->n_attr_pairs, sizeof(prog_attr_slot), attr_pair_cmp);
    /* every entry of the attribute table shares the slot of the first entry with its pair */
    for (uint32_t a = 0; a < d->n_attrs; a++) s->attr_slot[a] = s->attr_slot[canon[a]];
    perk_mem_free(canon);
    s->n_slots = slots;
    size_t ns1 = slots == 0 ? 1 : slots;
    s->slot_key = perk_mem_alloc(ns1 * sizeof(uint32_t));
    if (s->slot_key == NULL) return false;
    memset(s->slot_key, 0xff, ns1 * sizeof(uint32_t)); /* PROG_NONE */
    const prog_rule_index *x = &p->ridx;
    for (uint32_t k = 0; k < x->n_keys; k++) {
        uint32_t kind = (uint32_t)(x->keys[k] >> 32), id = (uint32_t)x->keys[k];
        if (kind < PROG_GUARD_SKU || kind >= PROG_GUARD_KIND_COUNT || id >= d->n_strings) continue;
        uint32_t slot = s->map[kind - PROG_GUARD_SKU][id];
        if (slot != PROG_NONE) s->slot_key[slot] = k; /* a slot is one (kind, string): one key */
    }
    return true;
}

void cidx_program_free(perk_program *p)
{
    prog_slots *s = &p->slots;
    for (int k = 0; k < CIDX_KINDS; k++) perk_mem_free(s->map[k]);
    perk_mem_free(s->attr_slot);
    perk_mem_free(s->attr_pairs);
    perk_mem_free(s->slot_key);
    memset(s, 0, sizeof *s);
}

/* ------------------------------------------------------------------ the context's index */

bool cidx_init(perk_context *ctx)
{
    const prog_slots *s = &ctx->program->slots;
    for (int k = 0; k < CIDX_KINDS; k++) ctx->cidx_map[k] = s->map[k];
    ctx->attr_slot = s->attr_slot;
    ctx->slot_key = s->slot_key;
    ctx->n_slots = s->n_slots;
    ctx->present_cap = CIDX_FIRST_PRESENT;
    ctx->slot_hash_mask = 2 * CIDX_FIRST_PRESENT - 1;
    ctx->slot_hash_shift = 32 - (uint32_t)__builtin_ctz(2 * CIDX_FIRST_PRESENT);
    ctx->slot_bits = perk_mem_calloc((s->n_slots + 63) / 64 + 1, sizeof(uint64_t));
    ctx->present = perk_mem_alloc(ctx->present_cap * sizeof(uint32_t));
    ctx->slot_hash = perk_mem_calloc(ctx->slot_hash_mask + 1, sizeof(uint32_t));
    ctx->cidx = perk_mem_calloc((size_t)ctx->present_cap * ctx->max_words, sizeof(uint64_t));
    return ctx->slot_bits != NULL && ctx->present != NULL && ctx->slot_hash != NULL && ctx->cidx != NULL;
}

void cidx_free(perk_context *ctx)
{
    perk_mem_free(ctx->slot_bits);
    perk_mem_free(ctx->present);
    perk_mem_free(ctx->slot_hash);
    perk_mem_free(ctx->cidx);
}

static uint32_t hash_bucket(const perk_context *ctx, uint32_t slot)
{
    return (slot * CIDX_HASH_MUL) >> ctx->slot_hash_shift;
}

/* Only the slots some line was added to have bits set: clearing them is O(slots the cart used),
 * not O(slots of the program). Removing the latest insertion first keeps every probe sequence of
 * the others intact, so each bucket is found by the ordinary lookup. */
void cidx_clear(perk_context *ctx)
{
    /* a hash the cart filled an eighth of or more: one memset is cheaper than a probe per slot */
    bool whole = (uint64_t)ctx->n_present * 8 >= (uint64_t)ctx->slot_hash_mask + 1;
    for (uint32_t k = ctx->n_present; k-- > 0;) {
        uint32_t s = ctx->present[k];
        memset(ctx->cidx + (size_t)k * ctx->max_words, 0, ctx->cidx_words_dirty * sizeof(uint64_t));
        ctx->slot_bits[s / 64] = 0;
        if (whole) continue;
        uint32_t b = hash_bucket(ctx, s);
        while (ctx->slot_hash[b] != k + 1) b = (b + 1) & ctx->slot_hash_mask;
        ctx->slot_hash[b] = 0;
    }
    if (whole) memset(ctx->slot_hash, 0, ((size_t)ctx->slot_hash_mask + 1) * sizeof(uint32_t));
    ctx->n_present = 0;
    ctx->cidx_words_dirty = 0;
}

/* Doubles the room for present slots (mark found it full; a cold path, taken while a cart larger
 * than any before is fed). The bitsets keep their positions; the hash is rebuilt at twice the new
 * capacity. False with the index unchanged on out of memory. */
static bool grow_present(perk_context *ctx)
{
    uint64_t cap = 2 * (uint64_t)ctx->present_cap;
    if (cap > UINT32_MAX / 4) return false;
    size_t w = ctx->max_words;
    uint32_t *hash = perk_mem_calloc(2 * cap, sizeof(uint32_t));
    if (hash == NULL) return false;
    uint32_t *present =
        perk_mem_realloc(ctx->present, ctx->n_present * sizeof(uint32_t), cap * sizeof(uint32_t));
    if (present != NULL) ctx->present = present;
    uint64_t *bits =
        perk_mem_realloc(ctx->cidx, ctx->present_cap * w * sizeof(uint64_t), cap * w * sizeof(uint64_t));
    if (bits != NULL) ctx->cidx = bits;
    if (present == NULL || bits == NULL) { /* a block that did grow is merely larger than needed */
        perk_mem_free(hash);
        return false;
    }
    memset(bits + ctx->present_cap * w, 0, (cap - ctx->present_cap) * w * sizeof(uint64_t));
    ctx->present_cap = (uint32_t)cap;
    perk_mem_free(ctx->slot_hash);
    ctx->slot_hash = hash;
    ctx->slot_hash_mask = (uint32_t)(2 * cap - 1);
    ctx->slot_hash_shift = 32 - (uint32_t)__builtin_ctzll(2 * cap);
    for (uint32_t k = 0; k < ctx->n_present; k++) {
        uint32_t b = hash_bucket(ctx, ctx->present[k]);
        while (hash[b] != 0) b = (b + 1) & ctx->slot_hash_mask;
        hash[b] = k + 1;
    }
    return true;
}

/* Moves the bitsets to `words` words each (the context grew to more lines); false with nothing
 * changed on out of memory. */
bool cidx_set_words(perk_context *ctx, uint32_t words)
{
    uint64_t *bits = perk_mem_calloc((size_t)ctx->present_cap * words, sizeof(uint64_t));
    if (bits == NULL) return false;
    for (uint32_t k = 0; k < ctx->n_present; k++)
        memcpy(bits + (size_t)k * words, ctx->cidx + (size_t)k * ctx->max_words,
               ctx->cidx_words_dirty * sizeof(uint64_t));
    perk_mem_free(ctx->cidx);
    ctx->cidx = bits;
    return true;
}

/* Sets line `line` in slot `slot` (PROG_NONE: nothing to do); false when the slot is new to the
 * cart and there is no memory to list it. */
static bool mark(perk_context *ctx, uint32_t slot, uint32_t line)
{
    if (slot == PROG_NONE) return true;
    uint32_t k;
    if (ctx->slot_bits[slot / 64] >> (slot % 64) & 1) {
        k = cidx_pos(ctx, slot);
    } else {
        if (ctx->n_present == ctx->present_cap && !grow_present(ctx)) return false;
        k = ctx->n_present++;
        ctx->present[k] = slot;
        ctx->slot_bits[slot / 64] |= UINT64_C(1) << (slot % 64);
        uint32_t b = hash_bucket(ctx, slot);
        while (ctx->slot_hash[b] != 0) b = (b + 1) & ctx->slot_hash_mask;
        ctx->slot_hash[b] = k + 1;
    }
    ctx->cidx[(size_t)k * ctx->max_words + line / 64] |= UINT64_C(1) << (line % 64);
    return true;
}

static uint32_t find(const perk_context *ctx, const char *s, size_t len)
{
    return prog_find_string(ctx->program, s, len);
}

static uint32_t slot_of(const perk_context *ctx, int kind, uint32_t id)
{
    return id == PROG_NONE ? PROG_NONE : ctx->cidx_map[kind][id];
}

static uint32_t attr_pair_slot(const perk_context *ctx, uint32_t key, uint32_t value)
{
    const prog_slots *s = &ctx->program->slots;
    uint64_t pair = (uint64_t)key << 32 | value;
    uint32_t lo = 0, hi = s->n_attr_pairs;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (s->attr_pairs[mid].pair < pair)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < s->n_attr_pairs && s->attr_pairs[lo].pair == pair ? s->attr_pairs[lo].slot : PROG_NONE;
}

bool cidx_add_line(perk_context *ctx, uint32_t line, const perk_line *in)
{
    bool ok = true;
    uint32_t sku = find(ctx, in->sku, strlen(in->sku));
    ctx->sku_id[line] = sku;
    ok &= mark(ctx, slot_of(ctx, CIDX_SKU, sku), line);

    uint32_t brand = in->brand != NULL ? find(ctx, in->brand, strlen(in->brand)) : PROG_NONE;
    ctx->brand_id[line] = brand;
    ok &= mark(ctx, slot_of(ctx, CIDX_BRAND, brand), line);

    ctx->store_id[line] = in->store != NULL ? find(ctx, in->store, strlen(in->store)) : CTX_STORE_MISSING;

    uint32_t cat = PROG_NONE;
    if (in->category != NULL) {
        const char *c = in->category;
        for (size_t len = 0;; len++) {
            if (c[len] == '/' || c[len] == '\0') {
                uint32_t id = find(ctx, c, len);
                ok &= mark(ctx, slot_of(ctx, CIDX_CAT_PREFIX, id), line);
                if (c[len] == '\0') {
                    cat = id;
                    break;
                }
            }
        }
        ok &= mark(ctx, slot_of(ctx, CIDX_CAT_EXACT, cat), line);
    }
    ctx->cat_id[line] = cat;

    for (size_t t = 0; t < in->n_tags; t++) {
        uint32_t id = find(ctx, in->tags[t], strlen(in->tags[t]));
        ok &= mark(ctx, slot_of(ctx, CIDX_TAG, id), line);
    }
    if (ctx->program->slots.n_attr_pairs > 0) {
        for (size_t a = 0; a < in->n_attrs; a++) {
            uint32_t key = find(ctx, in->attrs[a].key, strlen(in->attrs[a].key));
            uint32_t value = find(ctx, in->attrs[a].value, strlen(in->attrs[a].value));
            if (key == PROG_NONE) continue;
            if (value != PROG_NONE) ok &= mark(ctx, attr_pair_slot(ctx, key, value), line);
            /* (key, PROG_NONE): the line has the attribute, whatever its value */
            ok &= mark(ctx, attr_pair_slot(ctx, key, PROG_NONE), line);
        }
    }
    if (line / 64 + 1 > ctx->cidx_words_dirty) ctx->cidx_words_dirty = line / 64 + 1;
    return ok;
}
