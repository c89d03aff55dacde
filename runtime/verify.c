/* verify.c - checks a parsed prog_data before anything runs it (see verify.h, docs/bytecode.md).
 *
 * Order: storage behind every count, the string pool, the header, the pools, the tables (each
 * entry's string ids, ranges and values), then the code: blocks must be disjoint ranges of the
 * code array, and each block is checked instruction by instruction (operands) and by abstract
 * interpretation of the operand stack. Because jumps only go forward, one pass in instruction
 * order sees every predecessor of an instruction before the instruction itself.
 *
 * Every loop is bounded by the size of the program: list ranges (strsets, multiplier targets, tier
 * benefits, action steps) must add up to no more than their pool, and blocks may not share code,
 * so a hostile file cannot make verification quadratic.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "bytecode.h"
#include "facts.h"
#include "guard.h"
#include "verify.h"
#include "perk.h"

/* Fact and item-field types, from facts.h: which facts are string sets (not loadable as a
 * scalar) and which fields are numeric (usable by SET_CMP and AGG_SUM/MIN/MAX). A new type name
 * in facts.h fails to compile here until it is classified. */
enum {
    VT_SET_STRING = 0,
    VT_SET_TIER = 0,
    VT_SET_DATE = 0,
    VT_SET_BOOL = 0,
    VT_SET_INT = 0,
    VT_SET_MONEY = 0,
    VT_SET_WEEKDAY = 0,
    VT_SET_TIME = 0,
    VT_SET_CATEGORY = 0,
    VT_SET_PERCENT = 0,
    VT_SET_STRING_SET = 1,
    VT_NUM_STRING = 0,
    VT_NUM_CATEGORY = 0,
    VT_NUM_STRING_SET = 0,
    VT_NUM_MONEY = 1,
    VT_NUM_INT = 1,
    VT_NUM_PERCENT = 1,
    VT_NUM_BOOL = 0
};

static const unsigned char fact_is_set[PERK_FACT_COUNT] = {
#define VT_FACT(id, name, type) [PERK_FACT_##id] = VT_SET_##type,
    PERK_FACT_LIST(VT_FACT)
#undef VT_FACT
};
static const char *const fact_names[PERK_FACT_COUNT] = {
#define VT_FACT_NAME(id, name, type) [PERK_FACT_##id] = name,
    PERK_FACT_LIST(VT_FACT_NAME)
#undef VT_FACT_NAME
};
static const unsigned char field_is_numeric[PERK_FIELD_COUNT] = {
#define VT_FIELD(id, name, type) [PERK_FIELD_##id] = VT_NUM_##type,
    PERK_ITEM_FIELD_LIST(VT_FIELD)
#undef VT_FIELD
};
static const char *const field_names[PERK_FIELD_COUNT] = {
#define VT_FIELD_NAME(id, name, type) [PERK_FIELD_##id] = name,
    PERK_ITEM_FIELD_LIST(VT_FIELD_NAME)
#undef VT_FIELD_NAME
};

#define PPM_ALL 1000000
#define MAX_TZ_OFFSET (18 * 3600) /* seconds; ISO 8601's bound, wider than any real zone */

typedef enum block_kind { BLK_PROMOTION, BLK_EARN, BLK_MULT, BLK_REDEEM } block_kind;

/* A block with what its instructions may refer to. */
typedef struct vblock {
    block_kind kind;
    uint32_t index; /* rule / earn / multiplier index */
    prog_block code;
    uint32_t first_cond, n_conds;
} vblock;

/* Abstract stack at one instruction: position k (0 = bottom) holds a set when bit k is set. */
#define VSTATE_WORDS ((VERIFY_MAX_STACK + 63u) / 64u)
typedef struct vstate {
    uint64_t bits[VSTATE_WORDS];
    uint16_t depth, n_scalars, n_sets;
    uint8_t reached;
} vstate;

/* An opcode's stack effect (its pops and pushes strings), as counts and bits. */
typedef struct veffect {
    uint8_t n_pops, n_pushes;    /* lengths of the opcode's pops / pushes */
    uint8_t pop_sets, push_sets; /* bit k: entry k (deepest first) is a set */
} veffect;

typedef struct vctx {
    const prog_data *p;
    perk_error *err;
    perk_status status;
    uint32_t max_scalars, max_sets;
    vstate *states;                /* scratch for one block */
    veffect effect[PERK_OP_COUNT]; /* perk_opcode_table's stack effects, decoded once */
    uint32_t *owner;               /* per instruction: 1 + block number, 0 = none */
    uint8_t *seen;                 /* per string id: for duplicate-id checks */
} vctx;

static perk_status vfail(vctx *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static perk_status vfail(vctx *v, const char *fmt, ...)
{
    if (v->status != PERK_OK) return v->status;
    v->status = PERK_VERIFY;
    if (v->err) {
        v->err->status = PERK_VERIFY;
        int n = snprintf(v->err->message, sizeof v->err->message, "verify: ");
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(v->err->message + n, sizeof v->err->message - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return v->status;
}

static perk_status vnomem(vctx *v)
{
    if (v->status != PERK_OK) return v->status;
    v->status = PERK_NOMEM;
    if (v->err) {
        v->err->status = PERK_NOMEM;
        snprintf(v->err->message, sizeof v->err->message, "verify: out of memory");
    }
    return v->status;
}

static bool str_ok(const vctx *v, uint32_t id) { return id < v->p->n_strings; }
static bool str_opt_ok(const vctx *v, uint32_t id) { return id == PROG_NONE || str_ok(v, id); }
static bool range_ok(uint32_t start, uint32_t count, uint32_t total)
{
    return (uint64_t)start + count <= total;
}

/* A string for messages: the text when the id is valid, else "?". */
static const char *vstr(const vctx *v, uint32_t id) { return str_ok(v, id) ? prog_string(v->p, id) : "?"; }

/* What a table check is about, named only when it fails (formatting a name per entry would cost
 * more than the checks): "promotion 'x'", "action 3 of promotion 'x'", "strset 2"... */
typedef enum vwho_kind {
    WHO_STRSET,
    WHO_PROMOTION,
    WHO_ACTION,
    WHO_EARN,
    WHO_MULT,
    WHO_TIER,
    WHO_REDEEM
} vwho_kind;
typedef struct vwho {
    vwho_kind kind;
    uint32_t index; /* into the table of its kind */
} vwho;

static void who_text(const vctx *v, vwho who, char buf[200])
{
    const prog_data *p = v->p;
    uint32_t i = who.index;
    switch (who.kind) {
    case WHO_STRSET: snprintf(buf, 48, "strset %u", i); break;
    case WHO_PROMOTION: snprintf(buf, 160, "promotion '%s'", vstr(v, p->rules[i].id)); break;
    case WHO_ACTION:
        snprintf(buf, 200, "action %u of promotion '%s'", i, vstr(v, p->rules[p->actions[i].rule].id));
        break;
    case WHO_EARN: snprintf(buf, 160, "earn '%s'", vstr(v, p->earns[i].id)); break;
    case WHO_MULT: snprintf(buf, 160, "multiplier '%s'", vstr(v, p->mults[i].id)); break;
    case WHO_TIER: snprintf(buf, 160, "tier '%s'", vstr(v, p->tiers[i].id)); break;
    case WHO_REDEEM: snprintf(buf, 160, "redeem"); break;
    }
}

static perk_status wfail(vctx *v, vwho who, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* vfail with "<who>: " in front of the message. */
static perk_status wfail(vctx *v, vwho who, const char *fmt, ...)
{
    char name[200], msg[sizeof v->err->message];
    who_text(v, who, name);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return vfail(v, "%s: %s", name, msg);
}

/* ---------------------------------------------------------------- storage, strings, header */

static bool check_storage(vctx *v)
{
    const prog_data *p = v->p;
    struct {
        const char *name;
        uint32_t n;
        const void *ptr;
    } t[] = {
        { "strings", p->n_strings, p->str_off },
        { "strings", p->n_strings, p->str_len },
        { "strings", p->n_strings, p->str_bytes },
        { "timezone", p->n_tz, p->tz_at },
        { "timezone", p->n_tz, p->tz_offset },
        { "ints", p->n_ints, p->ints },
        { "strsets", p->n_strsets, p->strset_off },
        { "strsets", p->n_strsets, p->strset_len },
        { "attrs", p->n_attrs, p->attr_key },
        { "attrs", p->n_attrs, p->attr_value },
        { "u32", p->n_u32, p->u32 },
        { "code", p->n_code, p->code },
        { "conds", p->n_conds, p->conds },
        { "actions", p->n_actions, p->actions },
        { "steps", p->n_steps, p->steps },
        { "rules", p->n_rules, p->rules },
        { "earns", p->n_earns, p->earns },
        { "mults", p->n_mults, p->mults },
        { "tiers", p->n_tiers, p->tiers },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (t[i].n > 0 && !t[i].ptr) {
            vfail(v, "table '%s' has %u entries but no storage", t[i].name, t[i].n);
            return false;
        }
    return true;
}

static bool check_strings(vctx *v)
{
    const prog_data *p = v->p;
    for (uint32_t i = 0; i < p->n_strings; i++) {
        uint64_t off = p->str_off[i], len = p->str_len[i];
        if (off + len >= p->str_bytes_len || p->str_bytes[off + len] != '\0') {
            vfail(v, "string %u is not NUL-terminated inside the %u-byte pool", i, p->str_bytes_len);
            return false;
        }
        const uint8_t *s = (const uint8_t *)p->str_bytes + off;
        if (memchr(s, 0, len)) {
            vfail(v, "string %u contains a NUL byte", i);
            return false;
        }
        if (!bytecode_utf8_valid(s, len)) {
            vfail(v, "string %u is not valid UTF-8", i);
            return false;
        }
    }
    return true;
}

static bool check_header(vctx *v)
{
    const prog_data *p = v->p;
    if (!str_ok(v, p->name))
        return vfail(v, "ruleset name is string %u, the pool has %u strings", p->name, p->n_strings), false;
    const unsigned char *c = (const unsigned char *)p->currency;
    for (int i = 0; i < 3; i++)
        if (c[i] < 'A' || c[i] > 'Z')
            return vfail(v, "currency is not a 3-letter uppercase ISO 4217 code (bytes %02x %02x %02x %02x)",
                         c[0], c[1], c[2], c[3]),
                   false;
    if (c[3] != 0) return vfail(v, "currency code is not NUL-terminated (4th byte %02x)", c[3]), false;
    if (p->exponent < 0 || p->exponent > 4)
        return vfail(v, "currency exponent %d is outside 0..4", (int)p->exponent), false;
    if (p->rounding > PROG_ROUND_DOWN)
        return vfail(v, "rounding %u is not half_up (0), half_even (1) or down (2)", p->rounding), false;
    if (p->coupon_policy > PROG_COUPONS_ONE_PER_ORDER)
        return vfail(v, "coupon policy %u is not stackable (0) or one per order (1)", p->coupon_policy),
               false;
    if (p->max_discount_ppm != -1 && (p->max_discount_ppm < 0 || p->max_discount_ppm > PPM_ALL))
        return vfail(v, "max discount %lld ppm is outside 0..1000000 (or -1 for none)",
                     (long long)p->max_discount_ppm),
               false;
    if (p->points_pending_seconds < 0 || p->points_expire_seconds < 0)
        return vfail(v, "points pending/expire durations must not be negative"), false;
    if (p->points_expire_year_end > 2)
        return vfail(v, "points year-end expiry %u is not none (0), this year (1) or next year (2)",
                     p->points_expire_year_end),
               false;
    if (p->points_expire_year_end != 0 && p->points_expire_seconds != 0)
        return vfail(v, "points expire both at a year's end and after %lld s", (long long)p->points_expire_seconds),
               false;
    if (!str_ok(v, p->timezone))
        return vfail(v, "timezone is string %u, the pool has %u strings", p->timezone, p->n_strings), false;
    if (p->tz_base_offset < -MAX_TZ_OFFSET || p->tz_base_offset > MAX_TZ_OFFSET)
        return vfail(v, "timezone base offset %d s is beyond +-18 hours", (int)p->tz_base_offset), false;
    for (uint32_t i = 0; i < p->n_tz; i++) {
        if (p->tz_offset[i] < -MAX_TZ_OFFSET || p->tz_offset[i] > MAX_TZ_OFFSET)
            return vfail(v, "timezone transition %u: offset %d s is beyond +-18 hours", i,
                         (int)p->tz_offset[i]),
                   false;
        if (i > 0 && p->tz_at[i] <= p->tz_at[i - 1])
            return vfail(v, "timezone transitions are not ascending: %u at %lld follows %lld", i,
                         (long long)p->tz_at[i], (long long)p->tz_at[i - 1]),
                   false;
    }
    return true;
}

/* ---------------------------------------------------------------- pools and tables */

/* A list in the u32 pool; *budget (the pool size) shrinks by its length so that all lists of one
 * kind together cannot exceed the pool. */
static bool check_list(vctx *v, vwho who, uint32_t off, uint32_t len, uint64_t *budget)
{
    if (!range_ok(off, len, v->p->n_u32))
        return wfail(v, who, "list [%u, %llu) is outside the u32 pool of %u", off,
                     (unsigned long long)off + len, v->p->n_u32),
               false;
    if (len > *budget)
        return wfail(v, who, "lists of this kind are longer in total than the u32 pool (%u)", v->p->n_u32),
               false;
    *budget -= len;
    return true;
}

static bool check_pools(vctx *v)
{
    const prog_data *p = v->p;
    uint64_t budget = p->n_u32;
    for (uint32_t i = 0; i < p->n_strsets; i++) {
        uint32_t off = p->strset_off[i], len = p->strset_len[i];
        if (!check_list(v, (vwho){ WHO_STRSET, i }, off, len, &budget)) return false;
        for (uint32_t k = 0; k < len; k++) {
            uint32_t id = p->u32[off + k];
            if (!str_ok(v, id))
                return vfail(v, "strset %u: element %u is string %u, the pool has %u strings", i, k, id,
                             p->n_strings),
                       false;
            if (k > 0 && id <= p->u32[off + k - 1])
                return vfail(v, "strset %u is not sorted ascending without duplicates (element %u)", i, k),
                       false;
        }
    }
    for (uint32_t i = 0; i < p->n_attrs; i++)
        /* a value of PROG_NONE: the lines that have the key at all (`attr("k") != "v"`) */
        if (!str_ok(v, p->attr_key[i]) || !str_opt_ok(v, p->attr_value[i]))
            return vfail(v, "attr %u: key or value is not a valid string id", i), false;
    for (uint32_t i = 0; i < p->n_conds; i++) {
        const prog_cond *c = &p->conds[i];
        if (!str_ok(v, c->text) || !str_opt_ok(v, c->loc.file) || !str_opt_ok(v, c->hint_set))
            return vfail(v, "condition %u: text, file or hint set is not a valid string id", i), false;
        if (c->value_kind >= PERK_VALUE_KIND_COUNT)
            return vfail(v, "condition %u: value kind %u is unknown", i, c->value_kind), false;
    }
    for (uint32_t i = 0; i < p->n_steps; i++)
        if (p->steps[i].is_percent > 1)
            return vfail(v, "step %u: is_percent is %u, must be 0 or 1", i, p->steps[i].is_percent), false;
    return true;
}

/* Ids of one table must be distinct. v->seen is all zero on entry and on return. */
static bool check_unique(vctx *v, const char *what, const uint32_t *ids, size_t stride, uint32_t n)
{
    bool ok = true;
    uint32_t i;
    for (i = 0; i < n; i++) {
        uint32_t id = *(const uint32_t *)((const char *)ids + (size_t)i * stride); /* checked valid */
        if (v->seen[id]) {
            vfail(v, "two %ss have the id '%s'", what, vstr(v, id));
            ok = false;
            break;
        }
        v->seen[id] = 1;
    }
    for (uint32_t k = 0; k < i; k++) v->seen[*(const uint32_t *)((const char *)ids + (size_t)k * stride)] = 0;
    return ok;
}

static bool check_conds_range(vctx *v, vwho who, uint32_t first, uint32_t n)
{
    if (!range_ok(first, n, v->p->n_conds))
        return wfail(v, who, "conditions [%u, %llu) are outside the condition table of %u", first,
                     (unsigned long long)first + n, v->p->n_conds),
               false;
    return true;
}

/* Best-deal groups (docs/semantics.md 5.8): every promotion of an exclusive group is a best-deal
 * member or none is, and a best-deal group's members share one stage, where it is decided. */
static bool check_best_groups(vctx *v)
{
    const prog_data *p = v->p;
    uint32_t *first = perk_mem_alloc(((size_t)p->n_strings + 1) * sizeof *first); /* group -> rule */
    if (first == NULL) return vfail(v, "verify: out of memory"), false;
    memset(first, 0xff, ((size_t)p->n_strings + 1) * sizeof *first);
    bool ok = true;
    for (uint32_t i = 0; ok && i < p->n_rules; i++) {
        const prog_rule *r = &p->rules[i];
        if (r->group == PROG_NONE) continue; /* str_opt_ok: otherwise < n_strings */
        uint32_t f = first[r->group];
        if (f == PROG_NONE) {
            first[r->group] = i;
            continue;
        }
        vwho who = { WHO_PROMOTION, i };
        const prog_rule *g = &p->rules[f];
        if ((r->flags & PROG_RULE_BEST) != (g->flags & PROG_RULE_BEST)) {
            wfail(v, who, "exclusive group %u is a best-deal group in promotion %u but not in promotion %u",
                  r->group, (r->flags & PROG_RULE_BEST) ? i : f, (r->flags & PROG_RULE_BEST) ? f : i);
            ok = false;
        } else if ((r->flags & PROG_RULE_BEST) && r->stage != g->stage) {
            wfail(v, who, "best-deal group %u has members in stages %u and %u", r->group, g->stage, r->stage);
            ok = false;
        }
    }
    perk_mem_free(first);
    return ok;
}

static bool check_rules(vctx *v)
{
    const prog_data *p = v->p;
    for (uint32_t i = 0; i < p->n_rules; i++) {
        const prog_rule *r = &p->rules[i];
        if (!str_ok(v, r->id)) return vfail(v, "promotion %u: id is not a valid string id", i), false;
        vwho who = { WHO_PROMOTION, i };
        if (!str_opt_ok(v, r->label) || !str_opt_ok(v, r->loc.file) || !str_opt_ok(v, r->group) ||
            !str_opt_ok(v, r->coupon) || !str_opt_ok(v, r->coupon_campaign))
            return wfail(v, who, "a label, file, group or coupon is not a valid string id"), false;
        if (r->guard_kind >= PROG_GUARD_KIND_COUNT)
            return wfail(v, who, "unknown guard kind %u", r->guard_kind), false;
        if (r->guard_kind == PROG_GUARD_NONE && (r->guard_string != PROG_NONE || r->guard_cond != PROG_NONE))
            return wfail(v, who, "a guard string or condition without a guard kind"), false;
        if (r->guard_kind != PROG_GUARD_NONE && !str_ok(v, r->guard_string))
            return wfail(v, who, "guard string %u is not a valid string id", r->guard_string), false;
        if (r->guard_cond != PROG_NONE &&
            (r->guard_cond < r->first_cond || r->guard_cond - r->first_cond >= r->n_conds))
            return wfail(v, who, "guard condition %u is not one of its conditions [%u, %llu)", r->guard_cond,
                         r->first_cond, (unsigned long long)r->first_cond + r->n_conds),
                   false;
        if (r->flags & ~(uint32_t)(PROG_RULE_STOP | PROG_RULE_ORIGINAL | PROG_RULE_CONSUME | PROG_RULE_BEST |
                                   PROG_RULE_PARTIAL))
            return wfail(v, who, "unknown flags 0x%x", r->flags), false;
        if ((r->flags & PROG_RULE_PARTIAL) && r->limit_money < 0)
            return wfail(v, who, "a partial budget without a money budget"), false;
        if ((r->flags & PROG_RULE_BEST) && r->group == PROG_NONE)
            return wfail(v, who, "a best-deal flag without an exclusive group"), false;
        if (r->cap < -1 || r->limit_uses < -1 || r->limit_money < -1 || r->limit_per_customer < -1)
            return wfail(v, who, "a cap or limit is negative (-1 means none)"), false;
        if (!check_conds_range(v, who, r->first_cond, r->n_conds)) return false;
        if (r->stage >= PROG_STAGE_COUNT) return wfail(v, who, "unknown stage %u", r->stage), false;
        if (i > 0 && r->stage < p->rules[i - 1].stage)
            return wfail(v, who, "stage %u after stage %u (rules must be in evaluation order)", r->stage,
                         p->rules[i - 1].stage),
                   false;
        if (i > 0 && r->stage == p->rules[i - 1].stage && r->priority < p->rules[i - 1].priority)
            return wfail(v, who, "priority %d after priority %d (rules must be in evaluation order)",
                         (int)r->priority, (int)p->rules[i - 1].priority),
                   false;
    }
    return p->n_rules == 0 ||
           (check_unique(v, "promotion", &p->rules[0].id, sizeof(prog_rule), p->n_rules) && check_best_groups(v));
}

static bool check_steps(vctx *v, vwho who, const prog_action *a, bool is_tiers, int64_t min_threshold)
{
    if (a->n_steps == 0) return wfail(v, who, "a step table needs at least one step"), false;
    for (uint32_t k = 0; k < a->n_steps; k++) {
        const prog_step *s = &v->p->steps[a->steps + k];
        if (s->threshold < min_threshold || s->value < 0)
            return wfail(v, who, "step %u has a threshold or value out of range", k), false;
        if (k > 0 && s->threshold <= v->p->steps[a->steps + k - 1].threshold)
            return wfail(v, who, "step thresholds are not strictly ascending (step %u)", k), false;
        if (s->is_percent && (!is_tiers || s->value > PPM_ALL))
            return wfail(v, who, "step %u: a percent step must be a tier of at most 100%%", k), false;
    }
    return true;
}

static bool ppm_ok(int64_t x) { return x >= 0 && x <= PPM_ALL; }

/* What the `p0..p2` columns of actions.h require of an operand. */
static bool operand_ok(prog_operand_kind kind, int64_t x)
{
    switch (kind) {
    case PROG_OPND_ANY: return true;
    case PROG_OPND_PPM: return ppm_ok(x);
    case PROG_OPND_MONEY: return x >= 0;
    case PROG_OPND_COUNT: return x >= 1;
    case PROG_OPND_CAP: return x >= -1;
    case PROG_OPND_PPM_OR_NONE: return x == -1 || ppm_ok(x);
    case PROG_OPND_SECONDS: return x >= 0;
    }
    return false;
}

static bool check_actions(vctx *v)
{
    const prog_data *p = v->p;
    uint64_t budget = p->n_steps;
    uint32_t last_reward = PROG_NONE;
    for (uint32_t i = 0; i < p->n_actions; i++) {
        const prog_action *a = &p->actions[i];
        if (a->rule >= p->n_rules)
            return vfail(v, "action %u: promotion %u does not exist (there are %u)", i, a->rule, p->n_rules),
                   false;
        vwho who = { WHO_ACTION, i };
        if (a->kind >= PROG_ACT_COUNT) return wfail(v, who, "unknown action kind %u", a->kind), false;
        if (!str_opt_ok(v, a->str1) || !str_opt_ok(v, a->str2) || !str_opt_ok(v, a->loc.file))
            return wfail(v, who, "a string operand or file is not a valid string id"), false;
        if (!range_ok(a->steps, a->n_steps, p->n_steps))
            return wfail(v, who, "steps [%u, %llu) are outside the step table of %u", a->steps,
                         (unsigned long long)a->steps + a->n_steps, p->n_steps),
                   false;
        if (a->n_steps > budget)
            return wfail(v, who, "step ranges are longer in total than the step table"), false;
        budget -= a->n_steps;
        const prog_action_info *info = &prog_action_table[a->kind];
        if (info->steps == PROG_STEPS_NONE && a->n_steps != 0)
            return wfail(v, who, "this kind of action takes no steps"), false;
        const int64_t *q = a->p;
        bool ok = !info->needs_str1 || a->str1 != PROG_NONE;
        for (int k = 0; k < 3; k++) ok = ok && operand_ok(info->operand[k], q[k]);
        switch (info->steps) {
        case PROG_STEPS_NONE: break;
        case PROG_STEPS_QTY:
            if (!check_steps(v, who, a, false, 1)) return false;
            break;
        case PROG_STEPS_TIERS:
            if (!check_steps(v, who, a, true, 0)) return false;
            break;
        case PROG_STEPS_COUNT: /* a count of units: at least one */
            if (!check_steps(v, who, a, true, 1)) return false;
            break;
        case PROG_STEPS_PARTS: /* a bundle's parts: 2 to PROG_BUNDLE_MAX_PARTS, units >= 1, a name or -1 */
            if (a->n_steps < 2 || a->n_steps > PROG_BUNDLE_MAX_PARTS)
                return wfail(v, who, "a bundle has %u parts (2 to %u)", a->n_steps, PROG_BUNDLE_MAX_PARTS), false;
            for (uint32_t k = 0; k < a->n_steps; k++) {
                const prog_step *s = &p->steps[a->steps + k];
                if (s->threshold < 1 || s->is_percent ||
                    (s->value != -1 && (s->value < 0 || s->value >= p->n_strings)))
                    return wfail(v, who, "bundle part %u: units %lld or name %lld out of range", k,
                                 (long long)s->threshold, (long long)s->value),
                           false;
            }
            break;
        }
        if (ok && a->kind == PROG_ACT_REWARD_COUPON) {
            /* a period after the commit, or a window, never both; a window ends after it starts. The
             * rules of reward actions ascend strictly, so a promotion rewards one campaign at most
             * (perk_program_promotion_reward_coupon answers with one). */
            if ((q[0] > 0 && (q[1] != 0 || q[2] != 0)) || (q[1] != 0 && q[2] != 0 && q[2] <= q[1]))
                return wfail(v, who, "reward coupon period: %lld seconds, from %lld to %lld", (long long)q[0],
                             (long long)q[1], (long long)q[2]),
                       false;
            if (last_reward != PROG_NONE && a->rule <= last_reward)
                return wfail(v, who, "a second reward coupon for promotion %u, or out of order", a->rule), false;
            last_reward = a->rule;
        }
        if (!ok)
            return wfail(v, who, "operands out of range (p = %lld, %lld, %lld)", (long long)q[0],
                         (long long)q[1], (long long)q[2]),
                   false;
    }
    return true;
}

static bool check_earns_mults(vctx *v)
{
    const prog_data *p = v->p;
    for (uint32_t i = 0; i < p->n_earns; i++) {
        const prog_earn *e = &p->earns[i];
        if (!str_ok(v, e->id)) return vfail(v, "earn rule %u: id is not a valid string id", i), false;
        vwho who = { WHO_EARN, i };
        if (!str_opt_ok(v, e->label) || !str_opt_ok(v, e->loc.file))
            return wfail(v, who, "label or file is not a valid string id"), false;
        if (e->points <= 0 || e->per_money <= 0)
            return wfail(v, who, "rate %lld points per %lld must have both numbers > 0", (long long)e->points,
                         (long long)e->per_money),
                   false;
        if (e->cap < -1)
            return wfail(v, who, "cap %lld is negative (-1 means none)", (long long)e->cap), false;
        if (!check_conds_range(v, who, e->first_cond, e->n_conds)) return false;
    }
    if (p->n_earns && !check_unique(v, "earn rule", &p->earns[0].id, sizeof(prog_earn), p->n_earns))
        return false;

    uint64_t budget = p->n_u32;
    for (uint32_t i = 0; i < p->n_mults; i++) {
        const prog_mult *m = &p->mults[i];
        if (!str_ok(v, m->id)) return vfail(v, "multiplier %u: id is not a valid string id", i), false;
        vwho who = { WHO_MULT, i };
        if (!str_opt_ok(v, m->label) || !str_opt_ok(v, m->loc.file))
            return wfail(v, who, "label or file is not a valid string id"), false;
        if (m->num <= 0 || m->den <= 0)
            return wfail(v, who, "factor %lld/%lld must have both numbers > 0", (long long)m->num,
                         (long long)m->den),
                   false;
        if (!check_list(v, who, m->targets, m->n_targets, &budget)) return false;
        for (uint32_t k = 0; k < m->n_targets; k++)
            if (p->u32[m->targets + k] >= p->n_earns)
                return wfail(v, who, "target %u is earn rule %u, there are %u", k, p->u32[m->targets + k],
                             p->n_earns),
                       false;
        if (!check_conds_range(v, who, m->first_cond, m->n_conds)) return false;
    }
    if (p->n_mults && !check_unique(v, "multiplier", &p->mults[0].id, sizeof(prog_mult), p->n_mults))
        return false;
    return true;
}

static bool check_redeem_tiers(vctx *v)
{
    const prog_data *p = v->p;
    const prog_redeem *r = &p->redeem;
    if (r->present) {
        if (r->points <= 0 || r->money <= 0)
            return vfail(v, "redeem: rate %lld points = %lld must have both numbers > 0",
                         (long long)r->points, (long long)r->money),
                   false;
        if (r->pays_for == 0 || (r->pays_for & ~(uint32_t)(PROG_PAYS_GOODS | PROG_PAYS_SHIPPING)))
            return vfail(v, "redeem: pays_for 0x%x must name goods and/or shipping", r->pays_for), false;
        if (!ppm_ok(r->max_share_ppm))
            return vfail(v, "redeem: max share %lld ppm is outside 0..1000000", (long long)r->max_share_ppm),
                   false;
        if (r->min_balance < 0) return vfail(v, "redeem: min balance is negative"), false;
        if (r->code.count == 0)
            return vfail(v, "redeem: needs a code block (just END when it has no conditions)"), false;
    }
    if (!check_conds_range(v, (vwho){ WHO_REDEEM, 0 }, r->first_cond, r->n_conds)) return false;

    uint64_t budget = p->n_u32;
    for (uint32_t i = 0; i < p->n_tiers; i++) {
        const prog_tier *t = &p->tiers[i];
        if (!str_ok(v, t->id)) return vfail(v, "tier %u: id is not a valid string id", i), false;
        vwho who = { WHO_TIER, i };
        if (!str_opt_ok(v, t->label)) return wfail(v, who, "label is not a valid string id"), false;
        if (t->spend < 0 || t->window_seconds < 0)
            return wfail(v, who, "spend and window must not be negative"), false;
        if (i > 0 && t->spend < p->tiers[i - 1].spend)
            return wfail(v, who, "spend %lld is below the previous tier's %lld (tiers ascend)",
                         (long long)t->spend, (long long)p->tiers[i - 1].spend),
                   false;
        if (!check_list(v, who, t->benefits, t->n_benefits, &budget)) return false;
        for (uint32_t k = 0; k < t->n_benefits; k++)
            if (!str_ok(v, p->u32[t->benefits + k]))
                return wfail(v, who, "benefit %u is not a valid string id", k), false;
    }
    return p->n_tiers == 0 || check_unique(v, "tier", &p->tiers[0].id, sizeof(prog_tier), p->n_tiers);
}

/* ---------------------------------------------------------------- code */

static uint64_t block_total(const prog_data *p)
{
    return (uint64_t)p->n_rules + p->n_earns + p->n_mults + (p->redeem.code.count ? 1 : 0);
}

/* Block number b: promotions, then earn rules, multipliers and the redeem block. */
static vblock block_at(const prog_data *p, uint64_t b)
{
    vblock k;
    if (b < p->n_rules) {
        const prog_rule *r = &p->rules[b];
        k = (vblock){ BLK_PROMOTION, (uint32_t)b, r->code, r->first_cond, r->n_conds };
    } else if ((b -= p->n_rules) < p->n_earns) {
        const prog_earn *e = &p->earns[b];
        k = (vblock){ BLK_EARN, (uint32_t)b, e->code, e->first_cond, e->n_conds };
    } else if ((b -= p->n_earns) < p->n_mults) {
        const prog_mult *m = &p->mults[b];
        k = (vblock){ BLK_MULT, (uint32_t)b, m->code, m->first_cond, m->n_conds };
    } else {
        k = (vblock){ BLK_REDEEM, 0, p->redeem.code, p->redeem.first_cond, p->redeem.n_conds };
    }
    return k;
}

static void block_name(const vctx *v, const vblock *b, char *buf, size_t n)
{
    const prog_data *p = v->p;
    switch (b->kind) {
    case BLK_PROMOTION: snprintf(buf, n, "promotion '%s'", vstr(v, p->rules[b->index].id)); break;
    case BLK_EARN: snprintf(buf, n, "earn '%s'", vstr(v, p->earns[b->index].id)); break;
    case BLK_MULT: snprintf(buf, n, "multiplier '%s'", vstr(v, p->mults[b->index].id)); break;
    case BLK_REDEEM: snprintf(buf, n, "redeem"); break;
    }
}

/* Renders the top of an abstract stack, deepest first ("ls"); long stacks start with "...". */
static void stack_text(const vstate *s, char *buf, size_t n)
{
    size_t from = s->depth > 16 ? s->depth - 16u : 0, o = 0;
    if (from) o += (size_t)snprintf(buf, n, "...");
    for (size_t k = from; k < s->depth && o + 1 < n; k++)
        buf[o++] = (s->bits[k / 64] >> (k % 64)) & 1 ? 'l' : 's';
    buf[o < n ? o : n - 1] = '\0';
    if (s->depth == 0) snprintf(buf, n, "empty");
}

static bool stack_kind(const vstate *s, uint32_t k) { return (s->bits[k / 64] >> (k % 64)) & 1; }

static void stack_pop(vstate *s)
{
    uint32_t k = --s->depth;
    if (stack_kind(s, k))
        s->n_sets--;
    else
        s->n_scalars--;
    s->bits[k / 64] &= ~((uint64_t)1 << (k % 64));
}

static void stack_push(vstate *s, char kind)
{
    uint32_t k = s->depth++;
    if (kind == 'l') {
        s->bits[k / 64] |= (uint64_t)1 << (k % 64);
        s->n_sets++;
    } else {
        s->n_scalars++;
    }
}

typedef struct vinsn {
    vctx *v;
    const vblock *b;
    uint32_t pc;
    const prog_insn *in;
} vinsn;

static perk_status ifail(const vinsn *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Fails with "<block> instruction <pc> (<NAME>): <message>". */
static perk_status ifail(const vinsn *x, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const char *name = x->in->op < PERK_OP_COUNT ? perk_opcode_table[x->in->op].name : "?";
    char bname[160]; /* named on failure only: a valid program never formats a message */
    block_name(x->v, x->b, bname, sizeof bname);
    return vfail(x->v, "%s instruction %u (%s): %s", bname, x->pc, name, msg);
}

/* The operand, aux and reserved fields of one instruction, and where it may appear. */
static bool check_operand(const vinsn *x)
{
    const prog_data *p = x->v->p;
    const prog_insn *in = x->in;
    const vblock *b = x->b;
    if (in->op >= PERK_OP_COUNT) return ifail(x, "unknown opcode 0x%02x", in->op), false;
    if (in->reserved != 0) return ifail(x, "reserved field is 0x%04x, must be 0", in->reserved), false;
    if (in->op == PERK_OP_SET_CMP) {
        if (in->aux > PERK_CMP_GE) return ifail(x, "aux %u is not a comparison (0..5)", in->aux), false;
    } else if (in->aux != 0) {
        return ifail(x, "aux is %u, must be 0", in->aux), false;
    }
    uint32_t arg = in->arg, end = b->code.start + b->code.count;
    switch (perk_opcode_table[in->op].arg) {
    case PERK_ARG_NONE:
        if (arg != 0) return ifail(x, "takes no operand but has %u", arg), false;
        break;
    case PERK_ARG_IMM: break;
    case PERK_ARG_INT:
        if (arg >= p->n_ints)
            return ifail(x, "int constant %u does not exist (pool of %u)", arg, p->n_ints), false;
        break;
    case PERK_ARG_STRING:
        if (arg >= p->n_strings)
            return ifail(x, "string %u does not exist (pool of %u)", arg, p->n_strings), false;
        break;
    case PERK_ARG_STRSET:
        if (arg >= p->n_strsets)
            return ifail(x, "strset %u does not exist (pool of %u)", arg, p->n_strsets), false;
        break;
    case PERK_ARG_ATTR:
        if (arg >= p->n_attrs) return ifail(x, "attr %u does not exist (pool of %u)", arg, p->n_attrs), false;
        break;
    case PERK_ARG_FACT:
        if (arg >= PERK_FACT_COUNT) return ifail(x, "unknown fact %u", arg), false;
        if (in->op == PERK_OP_LOAD_FACT && fact_is_set[arg])
            return ifail(x, "fact %s is a string set, not a scalar", fact_names[arg]), false;
        break;
    case PERK_ARG_FIELD:
        if (arg >= PERK_FIELD_COUNT) return ifail(x, "unknown item field %u", arg), false;
        /* SET_CMP compares any field (a text field by string id, tags by membership, `discounted`
         * as 0/1); an aggregate needs a number */
        if (in->op != PERK_OP_SET_CMP && !field_is_numeric[arg])
            return ifail(x, "item field %s is not numeric", field_names[arg]), false;
        break;
    case PERK_ARG_JUMP:
        if (arg <= x->pc) return ifail(x, "jumps backward to %u (jumps go forward only)", arg), false;
        if (arg >= end)
            return ifail(x, "target %u is outside its block [%u, %u)", arg, b->code.start, end), false;
        break;
    case PERK_ARG_COND:
        if (arg < b->first_cond || arg - b->first_cond >= b->n_conds)
            return ifail(x, "condition %u does not belong to this block (its conditions are [%u, %llu))", arg,
                         b->first_cond, (unsigned long long)b->first_cond + b->n_conds),
                   false;
        break;
    case PERK_ARG_ACTION:
        if (b->kind != BLK_PROMOTION) return ifail(x, "only promotion blocks may apply actions"), false;
        if (arg >= p->n_actions)
            return ifail(x, "action %u does not exist (table of %u)", arg, p->n_actions), false;
        if (p->actions[arg].rule != b->index)
            return ifail(x, "action %u belongs to promotion '%s'", arg,
                         vstr(x->v, p->rules[p->actions[arg].rule].id)),
                   false;
        const prog_action_info *ai = prog_action_info_of(p->actions[arg].kind);
        if ((in->op == PERK_OP_APPLY2) != (ai != NULL && ai->sets == 2))
            return ifail(x, "buy/get actions take APPLY2, every other action APPLY"), false;
        if (in->op == PERK_OP_BUNDLE_PART && p->actions[arg].kind != PROG_ACT_BUNDLE)
            return ifail(x, "BUNDLE_PART names action %u, which is not a bundle", arg), false;
        break;
    case PERK_ARG_EARN:
        if (b->kind != BLK_EARN) return ifail(x, "only earn blocks may earn points"), false;
        if (arg != b->index) return ifail(x, "earn rule %u is not this block's (%u)", arg, b->index), false;
        break;
    case PERK_ARG_MULT:
        if (b->kind != BLK_MULT) return ifail(x, "only multiplier blocks may multiply"), false;
        if (arg != b->index) return ifail(x, "multiplier %u is not this block's (%u)", arg, b->index), false;
        break;
    case PERK_ARG_KIND_COUNT: break;
    }
    return true;
}

/* Joins state `s` into instruction `target` of the block. */
static bool merge_state(const vinsn *x, uint32_t target, const vstate *s)
{
    vstate *t = &x->v->states[target - x->b->code.start];
    if (!t->reached) {
        *t = *s;
        t->reached = 1;
        return true;
    }
    if (t->depth != s->depth || memcmp(t->bits, s->bits, sizeof t->bits) != 0) {
        char a[32], c[32];
        stack_text(t, a, sizeof a);
        stack_text(s, c, sizeof c);
        return ifail(x, "inconsistent stack at instruction %u: '%s' on one path, '%s' on another", target, a,
                     c),
               false;
    }
    return true;
}

static bool check_block(vctx *v, const vblock *b)
{
    const prog_data *p = v->p;
    uint32_t start = b->code.start, count = b->code.count;
    memset(v->states, 0, (size_t)count * sizeof *v->states);
    v->states[0].reached = 1;
    bool past_conditions = false; /* a condition or action precedes this instruction */
    for (uint32_t i = 0; i < count; i++) {
        vinsn x = { v, b, start + i, &p->code[start + i] };
        if (!check_operand(&x)) return false;
        uint8_t op = x.in->op;
        if (op == PERK_OP_REQUIRE_TARGET) {
            /* jumps go forward, so nothing after a condition in the code can run before it: the
             * promotion then ends with NOTHING before any condition was evaluated */
            if (b->kind != BLK_PROMOTION)
                return ifail(&x, "only promotion blocks may check their target"), false;
            if (past_conditions)
                return ifail(&x, "a target check must come before every condition and action"), false;
        }
        if (op == PERK_OP_REQUIRE || op == PERK_OP_REQUIRE_SOFT || op == PERK_OP_CHECK ||
            op == PERK_OP_APPLY || op == PERK_OP_APPLY2 || op == PERK_OP_BUNDLE_PART)
            past_conditions = true;
        if (op == PERK_OP_END && i + 1 != count) return ifail(&x, "END before the end of its block"), false;
        if (op != PERK_OP_END && i + 1 == count) {
            char bname[160];
            block_name(v, b, bname, sizeof bname);
            return vfail(v, "%s: block [%u, %u) does not end with END", bname, start, start + count), false;
        }
        vstate s = v->states[i];
        if (!s.reached) continue; /* dead code after a JUMP: operands checked, never run */

        const veffect *e = &v->effect[op];
        uint32_t np = e->n_pops;
        char have[32];
        if (s.depth < np) {
            stack_text(&s, have, sizeof have);
            return ifail(&x, "stack underflow: needs '%s', the stack is '%s'", perk_opcode_table[op].pops,
                         have),
                   false;
        }
        for (uint32_t k = 0; k < np; k++)
            if (stack_kind(&s, s.depth - np + k) != ((e->pop_sets >> k) & 1u)) {
                stack_text(&s, have, sizeof have);
                return ifail(&x, "needs '%s' on top of the stack, the stack is '%s'",
                             perk_opcode_table[op].pops, have),
                       false;
            }
        uint32_t after = s.depth - np + e->n_pushes;
        if (after > VERIFY_MAX_STACK)
            return ifail(&x, "stack too deep: %u entries (limit %u)", after, VERIFY_MAX_STACK), false;
        for (uint32_t k = 0; k < np; k++) stack_pop(&s);
        for (uint32_t k = 0; k < e->n_pushes; k++) stack_push(&s, (e->push_sets >> k) & 1u ? 'l' : 's');
        if (s.n_scalars > v->max_scalars) v->max_scalars = s.n_scalars;
        if (s.n_sets > v->max_sets) v->max_sets = s.n_sets;

        switch (op) {
        case PERK_OP_END:
            if (s.depth != 0) {
                stack_text(&s, have, sizeof have);
                return ifail(&x, "the stack is '%s', must be empty at END", have), false;
            }
            break;
        case PERK_OP_JUMP:
            if (!merge_state(&x, x.in->arg, &s)) return false;
            break;
        case PERK_OP_JUMP_IF_FALSE:
        case PERK_OP_JUMP_IF_TRUE:
            /* the tested value stays either way (format 2: an AND / OR after the right operand
             * combines both, so that unknown is neither true nor false) */
            if (!merge_state(&x, x.in->arg, &s)) return false;
            if (!merge_state(&x, x.pc + 1, &s)) return false;
            break;
        default:
            if (!merge_state(&x, x.pc + 1, &s)) return false;
            break;
        }
    }
    return true;
}

static bool check_code(vctx *v)
{
    const prog_data *p = v->p;
    uint64_t nb = block_total(p);
    uint32_t largest = 0;
    char bname[160], other[160]; /* named on failure only */
    for (uint64_t k = 0; k < nb; k++) {
        vblock b = block_at(p, k);
        if (b.code.count == 0) {
            block_name(v, &b, bname, sizeof bname);
            return vfail(v, "%s: empty code block (it must at least END)", bname), false;
        }
        if (!range_ok(b.code.start, b.code.count, p->n_code)) {
            block_name(v, &b, bname, sizeof bname);
            return vfail(v, "%s: block [%u, %llu) is outside the code of %u instructions", bname,
                         b.code.start, (unsigned long long)b.code.start + b.code.count, p->n_code),
                   false;
        }
        for (uint32_t i = 0; i < b.code.count; i++) {
            uint32_t pc = b.code.start + i;
            if (v->owner[pc]) {
                vblock o = block_at(p, v->owner[pc] - 1);
                block_name(v, &b, bname, sizeof bname);
                block_name(v, &o, other, sizeof other);
                return vfail(v, "%s: instruction %u also belongs to %s (blocks may not share code)", bname,
                             pc, other),
                       false;
            }
            v->owner[pc] = (uint32_t)k + 1;
        }
        if (b.code.count > largest) largest = b.code.count;
    }
    if (nb == 0) return true;
    v->states = perk_mem_alloc((size_t)largest * sizeof *v->states); /* each block clears its part */
    if (!v->states) return vnomem(v), false;
    for (uint64_t k = 0; k < nb; k++) {
        vblock b = block_at(p, k);
        if (!check_block(v, &b)) return false;
    }
    return true;
}

/* Each guard must be re-proved: the rule index skips a guarded block on the strength of it, so a
 * guard that does not decide its rule would change results. guard_eval is linear in the block and
 * blocks do not share code, so this is linear in the code. */
static bool check_guards(vctx *v)
{
    const prog_data *p = v->p;
    for (uint32_t i = 0; i < p->n_rules; i++) {
        const prog_rule *r = &p->rules[i];
        if (r->guard_kind == PROG_GUARD_NONE) continue;
        guard_outcome o;
        if (!guard_eval(p, i, r->guard_kind, r->guard_string, &o))
            return vfail(
                       v,
                       "promotion '%s': its guard (%s \"%.60s\") does not decide the promotion when no line "
                       "matches it",
                       vstr(v, r->id), guard_kind_name(r->guard_kind), vstr(v, r->guard_string)),
                   false;
        uint32_t proved = o.failed ? o.cond : PROG_NONE;
        if (proved != r->guard_cond) {
            char want[24] = "nothing", got[24] = "nothing";
            if (r->guard_cond != PROG_NONE) snprintf(want, sizeof want, "condition %u", r->guard_cond);
            if (proved != PROG_NONE) snprintf(got, sizeof got, "condition %u", proved);
            return vfail(v, "promotion '%s': its guard claims %s, the block gives %s when no line matches",
                         vstr(v, r->id), want, got),
                   false;
        }
    }
    return true;
}

static perk_status verify_run(const prog_data *p, perk_error *err, bool strings_read, uint32_t *max_scalars,
                              uint32_t *max_sets)
{
    vctx v = { .p = p, .err = err, .status = PERK_OK };
    if (err) {
        err->status = PERK_OK;
        err->message[0] = '\0';
    }
    if (!p) return vfail(&v, "no program");
    for (int op = 0; op < PERK_OP_COUNT; op++) {
        const char *pops = perk_opcode_table[op].pops, *pushes = perk_opcode_table[op].pushes;
        veffect *e = &v.effect[op];
        *e = (veffect){ 0, 0, 0, 0 };
        for (; pops[e->n_pops]; e->n_pops++) e->pop_sets |= (uint8_t)((pops[e->n_pops] == 'l') << e->n_pops);
        for (; pushes[e->n_pushes]; e->n_pushes++)
            e->push_sets |= (uint8_t)((pushes[e->n_pushes] == 'l') << e->n_pushes);
    }
    if (!check_storage(&v) || (!strings_read && !check_strings(&v)) || !check_header(&v) || !check_pools(&v))
        return v.status;
    if (p->n_strings) {
        v.seen = perk_mem_calloc(p->n_strings, 1);
        if (!v.seen) return vnomem(&v);
    }
    if (p->n_code) {
        v.owner = perk_mem_calloc(p->n_code, sizeof *v.owner);
        if (!v.owner) {
            perk_mem_free(v.seen);
            return vnomem(&v);
        }
    }
    if (check_rules(&v) && check_actions(&v) && check_earns_mults(&v) && check_redeem_tiers(&v) &&
        check_code(&v))
        check_guards(&v);
    perk_mem_free(v.seen);
    perk_mem_free(v.owner);
    perk_mem_free(v.states);
    if (v.status == PERK_OK) {
        if (max_scalars) *max_scalars = v.max_scalars;
        if (max_sets) *max_sets = v.max_sets;
    }
    return v.status;
}

perk_status verify_program(const prog_data *p, perk_error *err)
{
    return verify_run(p, err, false, NULL, NULL);
}

perk_status verify_program_record(prog_data *p, perk_error *err)
{
    uint32_t ms = 0, ml = 0;
    perk_status st = verify_run(p, err, true, &ms, &ml);
    if (st == PERK_OK) {
        p->max_scalars = ms;
        p->max_sets = ml;
    }
    return st;
}
