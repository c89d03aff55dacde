/* disasm.c - the readable listing of a compiled program (disasm.h). Every table it decodes with
 * (opcodes, facts, fields, actions) comes from the X-macro lists, so new entries show up here by
 * themselves. */
#include <inttypes.h>
#include <string.h>

#include "civil.h"
#include "disasm.h"
#include "facts.h"
#include "guard.h"
#include "money.h"

static const char *const fact_names[PERK_FACT_COUNT] = {
#define DIS_FACT(id, name, type) [PERK_FACT_##id] = name,
    PERK_FACT_LIST(DIS_FACT)
#undef DIS_FACT
};
static const char *const field_names[PERK_FIELD_COUNT] = {
#define DIS_FIELD(id, name, type) [PERK_FIELD_##id] = name,
    PERK_ITEM_FIELD_LIST(DIS_FIELD)
#undef DIS_FIELD
};
static const char *const cmp_names[] = { "=", "!=", "<", "<=", ">", ">=" };
static const char *const weekday_names[] = {
#define DIS_WEEKDAY(name, short_name) #short_name,
    CIVIL_WEEKDAY_LIST(DIS_WEEKDAY)
#undef DIS_WEEKDAY
};

/* The text of string `id`, or NULL when it is absent or out of range. */
static const char *dstr(const prog_data *p, uint32_t id)
{
    return id < p->n_strings && p->str_off && p->str_bytes ? prog_string(p, id) : NULL;
}

/* Prints a string quoted, escaping quotes, backslashes and control characters. */
static void put_quoted(FILE *out, const prog_data *p, uint32_t id)
{
    const char *s = dstr(p, id);
    if (!s) {
        if (id == PROG_NONE)
            fputs("none", out);
        else
            fprintf(out, "<bad string %" PRIu32 ">", id);
        return;
    }
    fputc('"', out);
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c == '"' || *c == '\\')
            fprintf(out, "\\%c", *c);
        else if (*c == '\n')
            fputs("\\n", out);
        else if (*c == '\t')
            fputs("\\t", out);
        else if (*c < 0x20 || *c == 0x7f)
            fprintf(out, "\\x%02x", *c);
        else
            fputc(*c, out);
    }
    fputc('"', out);
}

/* An identifier-like string without quotes (rule ids), or a placeholder. */
static void put_name(FILE *out, const prog_data *p, uint32_t id)
{
    const char *s = dstr(p, id);
    if (s)
        fputs(s, out);
    else
        fprintf(out, "<bad string %" PRIu32 ">", id);
}

static int clamp_exponent(const prog_data *p)
{
    return p->exponent < 0 || p->exponent > 9 ? 0 : (int)p->exponent;
}

/* Money in minor units with the currency's exponent: 30000, 2 -> "300.00 CNY". */
static void put_money(FILE *out, const prog_data *p, int64_t v)
{
    int exp = clamp_exponent(p);
    uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v, scale = 1;
    for (int i = 0; i < exp; i++) scale *= 10;
    fprintf(out, "%s%" PRIu64, v < 0 ? "-" : "", mag / scale);
    if (exp) fprintf(out, ".%0*" PRIu64, exp, mag % scale);
    fprintf(out, " %.3s", p->currency);
}

/* Parts per million as a percentage: 150000 -> "15%", 125000 -> "12.5%". */
static void put_ppm(FILE *out, int64_t ppm)
{
    uint64_t mag = ppm < 0 ? (uint64_t)0 - (uint64_t)ppm : (uint64_t)ppm;
    fprintf(out, "%s%" PRIu64, ppm < 0 ? "-" : "", mag / 10000);
    uint64_t frac = mag % 10000;
    if (frac) {
        int digits = 4;
        while (frac % 10 == 0) frac /= 10, digits--;
        fprintf(out, ".%0*" PRIu64, digits, frac);
    }
    fputc('%', out);
}

static void put_loc(FILE *out, const prog_data *p, prog_loc loc)
{
    const char *f = dstr(p, loc.file);
    fprintf(out, "%s:%" PRIu32 ":%" PRIu32, f ? f : "?", loc.line, loc.col);
}

/* UTC offset in seconds as +hh:mm (or +hh:mm:ss). */
static void put_offset(FILE *out, int32_t s)
{
    int64_t m = s < 0 ? -(int64_t)s : s;
    fprintf(out, "%c%02" PRId64 ":%02" PRId64, s < 0 ? '-' : '+', m / 3600, m / 60 % 60);
    if (m % 60) fprintf(out, ":%02" PRId64, m % 60);
}

/* Epoch seconds as an ISO UTC date-time (proleptic Gregorian, days-to-civil by era arithmetic). */
static void put_instant(FILE *out, int64_t t)
{
    int64_t days = t / 86400, secs = t % 86400;
    if (secs < 0) secs += 86400, days--;
    int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1, mo = mp < 10 ? mp + 3 : mp - 9;
    int64_t y = yoe + era * 400 + (mo <= 2);
    fprintf(out, "%04" PRId64 "-%02" PRId64 "-%02" PRId64 "T%02" PRId64 ":%02" PRId64 ":%02" PRId64 "Z", y,
            mo, d, secs / 3600, secs / 60 % 60, secs % 60);
}

/* The step table of an action: "{2: 8.00 CNY, 3: 7.00 CNY}", "{100.00 CNY: 10% off}",
 * "{2 units: 10% off}" or a bundle's parts "{1 of teapots, 2 of cups}". */
static void put_steps(FILE *out, const prog_data *p, const prog_action *a, prog_steps_kind kind)
{
    bool steps_ok = p->steps && (uint64_t)a->steps + a->n_steps <= p->n_steps;
    fputc('{', out);
    for (uint32_t k = 0; steps_ok && k < a->n_steps; k++) {
        const prog_step *s = &p->steps[a->steps + k];
        if (k) fputs(", ", out);
        if (kind == PROG_STEPS_QTY) {
            fprintf(out, "%" PRId64 ": ", s->threshold);
            put_money(out, p, s->value);
        } else if (kind == PROG_STEPS_PARTS) { /* a bundle's part: units of its set's name */
            fprintf(out, "%" PRId64 " of ", s->threshold);
            if (s->value >= 0 && s->value < p->n_strings)
                fprintf(out, "%s", prog_string(p, (uint32_t)s->value));
            else
                fputs("(a set)", out);
        } else {
            if (kind == PROG_STEPS_COUNT)
                fprintf(out, "%" PRId64 " units", s->threshold);
            else
                put_money(out, p, s->threshold);
            fputs(": ", out);
            if (s->is_percent)
                put_ppm(out, s->value);
            else
                put_money(out, p, s->value);
            fputs(" off", out);
        }
    }
    fputc('}', out);
}

/* Whether every operand a piece [f, e) of a `show` format names is present. */
static bool show_present(const prog_action *a, const char *f, const char *e)
{
    for (; f + 2 < e; f++) {
        if (*f != '%' || f[1] == 'S') continue;
        unsigned k = (unsigned)(f[2] - '0');
        if (f[1] == 'q' ? (k == 1 ? a->str1 : a->str2) == PROG_NONE : (k < 3 && a->p[k] < 0)) return false;
    }
    return true;
}

/* Prints the piece [f, e) of an action's `show` format (the mini-language of actions.h). */
static void put_show(FILE *out, const prog_data *p, const prog_action *a, const prog_action_info *info,
                     const char *f, const char *e)
{
    while (f < e) {
        if (*f == '[' || *f == '<') {
            const char *close = memchr(f, *f == '[' ? ']' : '>', (size_t)(e - f));
            const char *bar = *f == '<' && close ? memchr(f, '|', (size_t)(close - f)) : NULL;
            if (close == NULL || (*f == '<' && bar == NULL)) break; /* a bad format: stop quietly */
            const char *in_end = bar ? bar : close;
            if (show_present(a, f + 1, in_end))
                put_show(out, p, a, info, f + 1, in_end);
            else if (bar)
                put_show(out, p, a, info, bar + 1, close);
            f = close + 1;
        } else if (*f == '%' && f + 1 < e && f[1] == 'S') {
            put_steps(out, p, a, info->steps);
            f += 2;
        } else if (*f == '%' && f + 2 < e) {
            unsigned k = (unsigned)(f[2] - '0') % 3;
            switch (f[1]) {
            case 'p': put_ppm(out, a->p[k]); break;
            case 'm': put_money(out, p, a->p[k]); break;
            case 'i': fprintf(out, "%" PRId64, a->p[k]); break;
            case 'q': put_quoted(out, p, k == 1 ? a->str1 : a->str2); break;
            default: fputc('?', out); break;
            }
            f += 3;
        } else {
            fputc(*f++, out);
        }
    }
}

static void put_action(FILE *out, const prog_data *p, uint32_t idx)
{
    if (idx >= p->n_actions || !p->actions) {
        fprintf(out, "<bad action %" PRIu32 ">", idx);
        return;
    }
    const prog_action *a = &p->actions[idx];
    const prog_action_info *info = prog_action_info_of(a->kind);
    if (info == NULL) {
        fprintf(out, "<bad action kind %u>", a->kind);
        return;
    }
    put_show(out, p, a, info, info->show, info->show + strlen(info->show));
}

static void put_strset(FILE *out, const prog_data *p, uint32_t idx)
{
    if (idx >= p->n_strsets || !p->strset_off || !p->strset_len) {
        fprintf(out, "<bad strset %" PRIu32 ">", idx);
        return;
    }
    uint32_t off = p->strset_off[idx], len = p->strset_len[idx];
    fputc('{', out);
    if (p->u32 && (uint64_t)off + len <= p->n_u32)
        for (uint32_t k = 0; k < len; k++) {
            if (k) fputs(", ", out);
            put_quoted(out, p, p->u32[off + k]);
        }
    fputc('}', out);
}

static void put_operand(FILE *out, const prog_data *p, const prog_insn *in)
{
    const perk_opcode_info *info = &perk_opcode_table[in->op];
    uint32_t a = in->arg;
    switch (info->arg) {
    case PERK_ARG_NONE: break;
    case PERK_ARG_IMM:
        if (in->op == PERK_OP_IN_MASK) {
            fprintf(out, "0x%" PRIx32 " {", a);
            bool first = true;
            for (int d = 0; d < 32; d++)
                if (a >> d & 1u) {
                    if (d < 7)
                        fprintf(out, "%s%s", first ? "" : ",", weekday_names[d]);
                    else
                        fprintf(out, "%s%d", first ? "" : ",", d);
                    first = false;
                }
            fputc('}', out);
        } else {
            fprintf(out, "%" PRId32, (int32_t)a);
        }
        break;
    case PERK_ARG_INT:
        if (a < p->n_ints && p->ints)
            fprintf(out, "#%" PRIu32 " = %" PRId64, a, p->ints[a]);
        else
            fprintf(out, "<bad int %" PRIu32 ">", a);
        break;
    case PERK_ARG_STRING: fprintf(out, "#%" PRIu32 " ", a), put_quoted(out, p, a); break;
    case PERK_ARG_STRSET: fprintf(out, "#%" PRIu32 " ", a), put_strset(out, p, a); break;
    case PERK_ARG_ATTR:
        if (a < p->n_attrs && p->attr_key && p->attr_value) {
            fprintf(out, "#%" PRIu32 " ", a);
            put_quoted(out, p, p->attr_key[a]);
            if (p->attr_value[a] == PROG_NONE) {
                fputs(" is known", out);
            } else {
                fputs(" = ", out);
                put_quoted(out, p, p->attr_value[a]);
            }
        } else {
            fprintf(out, "<bad attr %" PRIu32 ">", a);
        }
        break;
    case PERK_ARG_FACT:
        if (a < PERK_FACT_COUNT)
            fputs(fact_names[a], out);
        else
            fprintf(out, "<bad fact %" PRIu32 ">", a);
        break;
    case PERK_ARG_FIELD:
        if (a < PERK_FIELD_COUNT)
            fputs(field_names[a], out);
        else
            fprintf(out, "<bad field %" PRIu32 ">", a);
        if (in->op == PERK_OP_SET_CMP)
            fprintf(out, " %s",
                    in->aux < sizeof cmp_names / sizeof cmp_names[0] ? cmp_names[in->aux] : "<bad cmp>");
        break;
    case PERK_ARG_JUMP: fprintf(out, "-> %" PRIu32, a); break;
    case PERK_ARG_COND:
        fprintf(out, "#%" PRIu32 " ", a);
        if (a < p->n_conds && p->conds)
            put_quoted(out, p, p->conds[a].text);
        else
            fputs("<bad condition>", out);
        break;
    case PERK_ARG_ACTION: fprintf(out, "#%" PRIu32 " ", a), put_action(out, p, a); break;
    case PERK_ARG_EARN:
        fprintf(out, "#%" PRIu32 " ", a);
        if (a < p->n_earns && p->earns) put_name(out, p, p->earns[a].id);
        break;
    case PERK_ARG_MULT:
        fprintf(out, "#%" PRIu32 " ", a);
        if (a < p->n_mults && p->mults) put_name(out, p, p->mults[a].id);
        break;
    case PERK_ARG_KIND_COUNT: break;
    }
}

static void put_code(FILE *out, const prog_data *p, prog_block b)
{
    fprintf(out, "  code [%" PRIu32 ", %" PRIu64 "):\n", b.start, (uint64_t)b.start + b.count);
    if (!p->code || (uint64_t)b.start + b.count > p->n_code) {
        fputs("    <block outside the code>\n", out);
        return;
    }
    for (uint32_t i = 0; i < b.count; i++) {
        const prog_insn *in = &p->code[b.start + i];
        if (in->op >= PERK_OP_COUNT) {
            fprintf(out, "    %5" PRIu32 "  <bad opcode 0x%02x> %" PRIu32 "\n", b.start + i, in->op, in->arg);
            continue;
        }
        if (perk_opcode_table[in->op].arg == PERK_ARG_NONE) {
            fprintf(out, "    %5" PRIu32 "  %s", b.start + i, perk_opcode_table[in->op].name);
            if (in->arg || in->aux) fprintf(out, " <arg %" PRIu32 ", aux %u>", in->arg, in->aux);
        } else {
            fprintf(out, "    %5" PRIu32 "  %-16s", b.start + i, perk_opcode_table[in->op].name);
            put_operand(out, p, in);
        }
        fputc('\n', out);
    }
}

static void put_conds(FILE *out, const prog_data *p, uint32_t first, uint32_t n)
{
    if (!p->conds || (uint64_t)first + n > p->n_conds) {
        if (n) fputs("  <conditions outside the table>\n", out);
        return;
    }
    for (uint32_t k = 0; k < n; k++) {
        const prog_cond *c = &p->conds[first + k];
        fprintf(out, "  condition #%" PRIu32 " ", first + k);
        put_quoted(out, p, c->text);
        fputs("  at ", out);
        put_loc(out, p, c->loc);
        if (c->hint_set != PROG_NONE) fputs("  hint ", out), put_quoted(out, p, c->hint_set);
        fputc('\n', out);
    }
}

static void put_limit(FILE *out, const char *what, int64_t v, bool money, const prog_data *p)
{
    if (v < 0) return;
    fprintf(out, "  %s ", what);
    if (money)
        put_money(out, p, v);
    else
        fprintf(out, "%" PRId64, v);
    fputc('\n', out);
}

static void put_header(FILE *out, const prog_data *p)
{
    fputs("ruleset ", out);
    put_quoted(out, p, p->name);
    fprintf(out, "\n  currency %.3s (exponent %d), rounding %s, coupons %s\n", p->currency, (int)p->exponent,
            money_rounding_name(p->rounding) ? money_rounding_name(p->rounding) : "<bad rounding>",
            p->coupon_policy == PROG_COUPONS_ONE_PER_ORDER ? "one per order" : "stackable");
    fputs("  timezone ", out);
    put_quoted(out, p, p->timezone);
    fputs(", offset ", out);
    put_offset(out, p->tz_base_offset);
    fprintf(out, ", %" PRIu32 " transitions\n", p->n_tz);
    for (uint32_t i = 0; i < p->n_tz && p->tz_at && p->tz_offset; i++) {
        fputs("    from ", out);
        put_instant(out, p->tz_at[i]);
        fputs(": ", out);
        put_offset(out, p->tz_offset[i]);
        fputc('\n', out);
    }
    fputs("  max discount ", out);
    if (p->max_discount_ppm < 0)
        fputs("none", out);
    else
        put_ppm(out, p->max_discount_ppm);
    fprintf(out, "\n  points pending %" PRId64 " s, expire %" PRId64 " s", p->points_pending_seconds,
            p->points_expire_seconds);
    if (p->points_expire_year_end != 0)
        fputs(p->points_expire_year_end == 1 ? ", at end of year" : ", at end of next year", out);
    fputc('\n', out);
    fprintf(out, "  stack: %" PRIu32 " scalars, %" PRIu32 " sets at most\n", p->max_scalars, p->max_sets);
}

static void put_pools(FILE *out, const prog_data *p)
{
    fprintf(out, "strings (%" PRIu32 "):\n", p->n_strings);
    for (uint32_t i = 0; i < p->n_strings; i++)
        fprintf(out, "  #%" PRIu32 " ", i), put_quoted(out, p, i), fputc('\n', out);
    fprintf(out, "ints (%" PRIu32 "):\n", p->n_ints);
    for (uint32_t i = 0; i < p->n_ints && p->ints; i++)
        fprintf(out, "  #%" PRIu32 " %" PRId64 "\n", i, p->ints[i]);
    fprintf(out, "strsets (%" PRIu32 "):\n", p->n_strsets);
    for (uint32_t i = 0; i < p->n_strsets; i++)
        fprintf(out, "  #%" PRIu32 " ", i), put_strset(out, p, i), fputc('\n', out);
    fprintf(out, "attrs (%" PRIu32 "):\n", p->n_attrs);
    for (uint32_t i = 0; i < p->n_attrs && p->attr_key && p->attr_value; i++) {
        fprintf(out, "  #%" PRIu32 " ", i);
        put_quoted(out, p, p->attr_key[i]);
        fputs(" = ", out);
        put_quoted(out, p, p->attr_value[i]);
        fputc('\n', out);
    }
}

static void put_rule(FILE *out, const prog_data *p, uint32_t i)
{
    const prog_rule *r = &p->rules[i];
    fprintf(out, "\npromotion #%" PRIu32 " ", i);
    put_name(out, p, r->id);
    if (r->label != PROG_NONE) fputc(' ', out), put_quoted(out, p, r->label);
    fputs("  at ", out);
    put_loc(out, p, r->loc);
    fprintf(out, "\n  stage %s, priority %" PRId32 ", flags", prog_stage_name(r->stage), r->priority);
    if (!r->flags) fputs(" none", out);
    if (r->flags & PROG_RULE_STOP) fputs(" stop", out);
    if (r->flags & PROG_RULE_BEST) fputs(" best", out);
    if (r->flags & PROG_RULE_PARTIAL) fputs(" partial", out);
    if (r->flags & PROG_RULE_ORIGINAL) fputs(" original", out);
    if (r->flags & PROG_RULE_CONSUME) fputs(" consumes", out);
    if (r->flags & ~(uint32_t)(PROG_RULE_STOP | PROG_RULE_ORIGINAL | PROG_RULE_CONSUME)) fprintf(out, " 0x%" PRIx32, r->flags);
    fputc('\n', out);
    if (r->group != PROG_NONE) fputs("  exclusive ", out), put_quoted(out, p, r->group), fputc('\n', out);
    if (r->coupon != PROG_NONE)
        fputs("  requires coupon ", out), put_quoted(out, p, r->coupon), fputc('\n', out);
    if (r->coupon_campaign != PROG_NONE)
        fputs("  requires coupon from ", out), put_quoted(out, p, r->coupon_campaign), fputc('\n', out);
    if (r->guard_kind != PROG_GUARD_NONE) {
        fprintf(out, "  guard %s ", guard_kind_name(r->guard_kind));
        put_quoted(out, p, r->guard_string);
        if (r->guard_cond == PROG_NONE)
            fputs(": without it, nothing\n", out);
        else
            fprintf(out, ": without it, condition #%" PRIu32 " fails\n", r->guard_cond);
    }
    put_limit(out, "cap", r->cap, true, p);
    put_limit(out, "limit uses", r->limit_uses, false, p);
    put_limit(out, "limit total", r->limit_money, true, p);
    put_limit(out, "limit per customer", r->limit_per_customer, false, p);
    if (r->limit_units != 0) fprintf(out, "  limit units per customer %u\n", (unsigned)r->limit_units);
    put_conds(out, p, r->first_cond, r->n_conds);
    /* the actions its APPLY instructions use (linear in the block, unlike scanning all actions) */
    if (p->code && (uint64_t)r->code.start + r->code.count <= p->n_code)
        for (uint32_t pc = r->code.start; pc < r->code.start + r->code.count; pc++) {
            uint32_t k = p->code[pc].arg;
            if ((p->code[pc].op != PERK_OP_APPLY && p->code[pc].op != PERK_OP_APPLY2) || k >= p->n_actions ||
                !p->actions)
                continue;
            fprintf(out, "  action #%" PRIu32 " ", k);
            put_action(out, p, k);
            fputs("  at ", out);
            put_loc(out, p, p->actions[k].loc);
            fputc('\n', out);
        }
    put_code(out, p, r->code);
}

void perk_disasm(const prog_data *p, FILE *out)
{
    if (!p || !out) return;
    put_header(out, p);
    put_pools(out, p);
    for (uint32_t i = 0; i < p->n_rules && p->rules; i++) put_rule(out, p, i);
    for (uint32_t i = 0; i < p->n_earns && p->earns; i++) {
        const prog_earn *e = &p->earns[i];
        fprintf(out, "\nearn #%" PRIu32 " ", i);
        put_name(out, p, e->id);
        if (e->label != PROG_NONE) fputc(' ', out), put_quoted(out, p, e->label);
        fputs("  at ", out);
        put_loc(out, p, e->loc);
        fprintf(out, "\n  %" PRId64 " points per ", e->points);
        put_money(out, p, e->per_money);
        fputc('\n', out);
        put_limit(out, "cap", e->cap, false, p);
        put_conds(out, p, e->first_cond, e->n_conds);
        put_code(out, p, e->code);
    }
    for (uint32_t i = 0; i < p->n_mults && p->mults; i++) {
        const prog_mult *m = &p->mults[i];
        fprintf(out, "\nmultiplier #%" PRIu32 " ", i);
        put_name(out, p, m->id);
        if (m->label != PROG_NONE) fputc(' ', out), put_quoted(out, p, m->label);
        fputs("  at ", out);
        put_loc(out, p, m->loc);
        fprintf(out, "\n  x%" PRId64 "/%" PRId64 " on ", m->num, m->den);
        if (m->n_targets == 0) fputs("all", out);
        for (uint32_t k = 0; k < m->n_targets && p->u32 && (uint64_t)m->targets + m->n_targets <= p->n_u32;
             k++) {
            uint32_t t = p->u32[m->targets + k];
            if (k) fputs(", ", out);
            if (t < p->n_earns && p->earns)
                put_name(out, p, p->earns[t].id);
            else
                fprintf(out, "<bad earn %" PRIu32 ">", t);
        }
        fputc('\n', out);
        put_conds(out, p, m->first_cond, m->n_conds);
        put_code(out, p, m->code);
    }
    const prog_redeem *rd = &p->redeem;
    if (rd->present) {
        fprintf(out, "\nredeem\n  rate %" PRId64 " points = ", rd->points);
        put_money(out, p, rd->money);
        fprintf(out, "\n  pays for%s%s\n  max ", rd->pays_for & PROG_PAYS_GOODS ? " goods" : "",
                rd->pays_for & PROG_PAYS_SHIPPING ? " shipping" : "");
        put_ppm(out, rd->max_share_ppm);
        fprintf(out, ", min balance %" PRId64 "\n", rd->min_balance);
        put_conds(out, p, rd->first_cond, rd->n_conds);
        if (rd->code.count) put_code(out, p, rd->code);
    }
    for (uint32_t i = 0; i < p->n_tiers && p->tiers; i++) {
        const prog_tier *t = &p->tiers[i];
        fprintf(out, "\ntier #%" PRIu32 " ", i);
        put_name(out, p, t->id);
        if (t->label != PROG_NONE) fputc(' ', out), put_quoted(out, p, t->label);
        fputs("\n  spend ", out);
        put_money(out, p, t->spend);
        fprintf(out, " within %" PRId64 " s\n", t->window_seconds);
        for (uint32_t k = 0; k < t->n_benefits && p->u32 && (uint64_t)t->benefits + t->n_benefits <= p->n_u32;
             k++)
            fputs("  benefit ", out), put_quoted(out, p, p->u32[t->benefits + k]), fputc('\n', out);
    }
}
