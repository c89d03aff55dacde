/* cart_index.c - per-cart precomputation for the line-set opcodes.
 *
 * At context creation the program is scanned for every string a rule can match on a line (sku,
 * brand, category prefix, exact category, tag, attribute pair); each such (kind, string) gets an
 * "index slot": a bitset over the cart lines. perk_cart_add_line() interns the line's strings
 * once (each category prefix "tea", "tea/green", "tea/green/longjing" looked up once) and sets
 * the line's bit in the matching slots. SET_SKU, SET_CATEGORY, ... then copy a ready bitset:
 * O(lines / 64) words, no string comparison during evaluation.
 *
 * The slots a cart uses are also listed (present): the rule index (evaluate.c) visits the
 * promotions guarded by those slots' strings, and clearing for the next cart touches only them.
 */
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "vm_internal.h"

static uint32_t map_kind_of(uint8_t op) {
    switch (op) {
    case PERK_OP_SET_SKU: return CIDX_SKU;
    case PERK_OP_SET_BRAND: return CIDX_BRAND;
    case PERK_OP_SET_CATEGORY: return CIDX_CAT_PREFIX;
    case PERK_OP_SET_CATEGORY_IS: return CIDX_CAT_EXACT;
    case PERK_OP_SET_TAG: return CIDX_TAG;
    default: return CIDX_KINDS;
    }
}

static int attr_pair_cmp(const void *a, const void *b) {
    uint64_t x = ((const cidx_attr *)a)->pair, y = ((const cidx_attr *)b)->pair;
    return x < y ? -1 : x > y;
}

static int attr_pair_index_cmp(const void *a, const void *b) {
    const cidx_attr *x = a, *y = b;
    if (x->pair != y->pair) return x->pair < y->pair ? -1 : 1;
    return x->slot < y->slot ? -1 : x->slot > y->slot;
}

/* For each entry of the program's attribute table, the first entry with the same (key, value)
 * pair: a sort by (pair, index), O(n log n), where comparing every entry with every other made
 * context creation quadratic. A program from the compiler has no duplicate pairs; a program
 * from elsewhere may. Returns NULL when out of memory. */
static uint32_t *attr_first_of_pair(const prog_data *d) {
    size_t na = d->n_attrs == 0 ? 1 : d->n_attrs;
    uint32_t *canon = perk_mem_alloc(na * sizeof(uint32_t));
    cidx_attr *order = perk_mem_alloc(na * sizeof(cidx_attr));
    if (canon == NULL || order == NULL) {
        perk_mem_free(canon);
        perk_mem_free(order);
        return NULL;
    }
    for (uint32_t a = 0; a < d->n_attrs; a++) {
        order[a].pair = (uint64_t)d->attr_key[a] << 32 | d->attr_value[a];
        order[a].slot = a; /* here: the entry's index */
    }
    qsort(order, d->n_attrs, sizeof(cidx_attr), attr_pair_index_cmp);
    for (uint32_t k = 0, first = 0; k < d->n_attrs; k++) {
        if (k == 0 || order[k].pair != order[k - 1].pair) first = order[k].slot;
        canon[order[k].slot] = first;
    }
    perk_mem_free(order);
    return canon;
}

bool cidx_init(perk_context *ctx) {
    const prog_data *d = ctx->d;
    size_t ns = d->n_strings == 0 ? 1 : d->n_strings;
    for (int k = 0; k < CIDX_KINDS; k++) {
        ctx->cidx_map[k] = perk_mem_alloc(ns * sizeof(uint32_t));
        if (ctx->cidx_map[k] == NULL) return false;
        memset(ctx->cidx_map[k], 0xff, ns * sizeof(uint32_t)); /* PROG_NONE */
    }
    size_t na = d->n_attrs == 0 ? 1 : d->n_attrs;
    ctx->attr_slot = perk_mem_alloc(na * sizeof(uint32_t));
    ctx->attr_pairs = perk_mem_calloc(na, sizeof(cidx_attr));
    if (ctx->attr_slot == NULL || ctx->attr_pairs == NULL) return false;
    memset(ctx->attr_slot, 0xff, na * sizeof(uint32_t));
    uint32_t *canon = attr_first_of_pair(d);
    if (canon == NULL) return false;

    uint32_t slots = 0;
    bool tag_cmp = false;
    for (uint32_t i = 0; i < d->n_code; i++) {
        const prog_insn *in = &d->code[i];
        uint32_t kind = map_kind_of(in->op);
        if (kind != CIDX_KINDS && in->arg < d->n_strings) {
            if (ctx->cidx_map[kind][in->arg] == PROG_NONE) ctx->cidx_map[kind][in->arg] = slots++;
        } else if (in->op == PERK_OP_SET_ATTR && in->arg < d->n_attrs) {
            /* one slot per distinct pair, numbered where the pair is first used */
            uint32_t first = canon[in->arg];
            if (ctx->attr_slot[first] == PROG_NONE) {
                ctx->attr_pairs[ctx->n_attr_pairs].pair = (uint64_t)d->attr_key[first] << 32 | d->attr_value[first];
                ctx->attr_pairs[ctx->n_attr_pairs].slot = ctx->attr_slot[first] = slots++;
                ctx->n_attr_pairs++;
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
                ctx->cidx_map[CIDX_TAG][in->arg] == PROG_NONE)
                ctx->cidx_map[CIDX_TAG][in->arg] = slots++;
        }
    }
    qsort(ctx->attr_pairs, ctx->n_attr_pairs, sizeof(cidx_attr), attr_pair_cmp);
    /* every entry of the attribute table shares the slot of the first entry with its pair */
    for (uint32_t a = 0; a < d->n_attrs; a++) ctx->attr_slot[a] = ctx->attr_slot[canon[a]];
    perk_mem_free(canon);
    ctx->n_slots = slots;
    size_t ns1 = slots == 0 ? 1 : slots;
    ctx->cidx = perk_mem_calloc(ns1 * ctx->max_words, sizeof(uint64_t));
    ctx->slot_present = perk_mem_calloc(ns1, 1);
    ctx->present = perk_mem_calloc(ns1, sizeof(uint32_t));
    ctx->slot_key = perk_mem_alloc(ns1 * sizeof(uint32_t));
    if (ctx->cidx == NULL || ctx->slot_present == NULL || ctx->present == NULL || ctx->slot_key == NULL) return false;
    memset(ctx->slot_key, 0xff, ns1 * sizeof(uint32_t)); /* PROG_NONE */
    return true;
}

void cidx_link_rule_index(perk_context *ctx) {
    const prog_rule_index *x = &ctx->program->ridx;
    for (uint32_t k = 0; k < x->n_keys; k++) {
        uint32_t kind = (uint32_t)(x->keys[k] >> 32), id = (uint32_t)x->keys[k];
        if (kind < PROG_GUARD_SKU || kind >= PROG_GUARD_KIND_COUNT || id >= ctx->d->n_strings) continue;
        uint32_t slot = ctx->cidx_map[kind - PROG_GUARD_SKU][id];
        if (slot != PROG_NONE) ctx->slot_key[slot] = k; /* a slot is one (kind, string): one key */
    }
}

void cidx_free(perk_context *ctx) {
    for (int k = 0; k < CIDX_KINDS; k++) perk_mem_free(ctx->cidx_map[k]);
    perk_mem_free(ctx->attr_slot);
    perk_mem_free(ctx->attr_pairs);
    perk_mem_free(ctx->cidx);
    perk_mem_free(ctx->slot_present);
    perk_mem_free(ctx->present);
    perk_mem_free(ctx->slot_key);
}

/* Only the slots some line was added to have bits set: clearing them is O(slots the cart used),
 * not O(slots of the program). */
void cidx_clear(perk_context *ctx) {
    for (uint32_t k = 0; k < ctx->n_present; k++) {
        uint32_t s = ctx->present[k];
        memset(ctx->cidx + (size_t)s * ctx->max_words, 0, ctx->cidx_words_dirty * sizeof(uint64_t));
        ctx->slot_present[s] = 0;
    }
    ctx->n_present = 0;
    ctx->cidx_words_dirty = 0;
}

static void mark(perk_context *ctx, uint32_t slot, uint32_t line) {
    if (slot == PROG_NONE) return;
    if (!ctx->slot_present[slot]) {
        ctx->slot_present[slot] = 1;
        ctx->present[ctx->n_present++] = slot;
    }
    ctx->cidx[(size_t)slot * ctx->max_words + line / 64] |= UINT64_C(1) << (line % 64);
}

static uint32_t find(const perk_context *ctx, const char *s, size_t len) {
    return prog_find_string(ctx->program, s, len);
}

static uint32_t slot_of(const perk_context *ctx, int kind, uint32_t id) {
    return id == PROG_NONE ? PROG_NONE : ctx->cidx_map[kind][id];
}

static uint32_t attr_pair_slot(const perk_context *ctx, uint32_t key, uint32_t value) {
    uint64_t pair = (uint64_t)key << 32 | value;
    uint32_t lo = 0, hi = ctx->n_attr_pairs;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (ctx->attr_pairs[mid].pair < pair)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < ctx->n_attr_pairs && ctx->attr_pairs[lo].pair == pair ? ctx->attr_pairs[lo].slot : PROG_NONE;
}

void cidx_add_line(perk_context *ctx, uint32_t line, const perk_line *in) {
    uint32_t sku = find(ctx, in->sku, strlen(in->sku));
    ctx->sku_id[line] = sku;
    mark(ctx, slot_of(ctx, CIDX_SKU, sku), line);

    uint32_t brand = in->brand != NULL ? find(ctx, in->brand, strlen(in->brand)) : PROG_NONE;
    ctx->brand_id[line] = brand;
    mark(ctx, slot_of(ctx, CIDX_BRAND, brand), line);

    uint32_t cat = PROG_NONE;
    if (in->category != NULL) {
        const char *c = in->category;
        for (size_t len = 0;; len++) {
            if (c[len] == '/' || c[len] == '\0') {
                uint32_t id = find(ctx, c, len);
                mark(ctx, slot_of(ctx, CIDX_CAT_PREFIX, id), line);
                if (c[len] == '\0') {
                    cat = id;
                    break;
                }
            }
        }
        mark(ctx, slot_of(ctx, CIDX_CAT_EXACT, cat), line);
    }
    ctx->cat_id[line] = cat;

    for (size_t t = 0; t < in->n_tags; t++) {
        uint32_t id = find(ctx, in->tags[t], strlen(in->tags[t]));
        mark(ctx, slot_of(ctx, CIDX_TAG, id), line);
    }
    if (ctx->n_attr_pairs > 0) {
        for (size_t a = 0; a < in->n_attrs; a++) {
            uint32_t key = find(ctx, in->attrs[a].key, strlen(in->attrs[a].key));
            uint32_t value = find(ctx, in->attrs[a].value, strlen(in->attrs[a].value));
            if (key != PROG_NONE && value != PROG_NONE) mark(ctx, attr_pair_slot(ctx, key, value), line);
        }
    }
    if (line / 64 + 1 > ctx->cidx_words_dirty) ctx->cidx_words_dirty = line / 64 + 1;
}
