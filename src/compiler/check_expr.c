/* check_expr.c - typing and constant folding of expressions (docs/language.md, "Conditions and item sets").
 *
 * check_expr() assigns node->type (and elem_type for lists, ranges and item columns), and for a
 * constant subexpression sets is_const and value (VM units: money in minor units, percent in
 * ppm, dates in days, times in minutes, durations in seconds). Folding uses checked int64
 * arithmetic; an overflow or a division by zero in a constant is an error. A node whose type
 * is TY_UNKNOWN had an error reported already, and its parents stay quiet about it.
 *
 * Item predicates (the right side of `where`, the condition of any/all) are typed like any
 * expression, then validated to be expressible as line-set operations (check_internal.h).
 */
#include "check_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suggest.h"

/* ------------------------------------------------------------------------------------------ */
/* Text helpers for messages                                                                   */

static int64_t pow10_i64(int k)
{
    if (k < 0 || k > 18) return -1;
    int64_t p = 1;
    while (k-- > 0) p *= 10;
    return p;
}

const char *check_span_text(const check_ctx *c, ast_span span, char *buf, size_t size)
{
    const source_set *set = c->diags->sources;
    if (size == 0) return buf;
    buf[0] = '\0';
    if (set == NULL || span.file < 0 || span.file >= set->count || span.first_offset < 0 ||
        span.last_offset < span.first_offset || (size_t)span.last_offset > set->files[span.file].len) {
        snprintf(buf, size, "this");
        return buf;
    }
    const char *text = set->files[span.file].text + span.first_offset;
    size_t len = (size_t)(span.last_offset - span.first_offset);
    bool cut = false;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '\n' || text[i] == '\r') {
            len = i;
            cut = true;
            break;
        }
    }
    if (len + 4 > size) {
        len = size - 4;
        cut = true;
    }
    while (cut && len > 0 && ((unsigned char)text[len] & 0xC0) == 0x80)
        len--; /* do not split a UTF-8 sequence */
    while (len > 0 && (text[len - 1] == ' ' || text[len - 1] == '\t')) len--;
    memcpy(buf, text, len);
    if (cut) memcpy(buf + len, "...", 3), len += 3;
    buf[len] = '\0';
    return buf;
}

const char *check_type_text(ast_type type, ast_type elem, char *buf, size_t size)
{
    if (type == TY_LIST || type == TY_RANGE)
        snprintf(buf, size, "%s of %s", ast_type_name(type), ast_type_name(elem));
    else if (type == TY_ITEM_FIELD)
        snprintf(buf, size, "%s", ast_type_name(elem));
    else
        snprintf(buf, size, "%s", ast_type_name(type));
    return buf;
}

const char *check_node_type_text(const ast_node *n, char *buf, size_t size)
{
    return check_type_text(n->type, n->elem_type, buf, size);
}

static bool symbol_is_suffix_code(const char *symbol)
{
    size_t len = strlen(symbol);
    return len > 0 && symbol[len - 1] == ' ';
}

const char *check_money_example(const check_ctx *c, const char *digits, char *buf, size_t size)
{
    if (!c->currency_ok)
        snprintf(buf, size, "\xC2\xA5%s", digits);
    else if (symbol_is_suffix_code(c->currency->symbol))
        snprintf(buf, size, "%s %s", digits, c->currency->code);
    else
        snprintf(buf, size, "%s%s", c->currency->symbol, digits);
    return buf;
}

const char *check_money_text(const check_ctx *c, int64_t minor, char *buf, size_t size)
{
    if (!c->currency_ok) {
        snprintf(buf, size, "%" PRId64, minor);
        return buf;
    }
    money_format(minor, c->exponent, c->currency->symbol, buf, size);
    return buf;
}

const char *check_percent_text(int64_t ppm, char *buf, size_t size)
{
    uint64_t mag = ppm < 0 ? (uint64_t)0 - (uint64_t)ppm : (uint64_t)ppm;
    uint64_t whole = mag / 10000, frac = mag % 10000;
    if (frac == 0) {
        snprintf(buf, size, "%s%" PRIu64 "%%", ppm < 0 ? "-" : "", whole);
    } else {
        char digits[8];
        snprintf(digits, sizeof digits, "%04" PRIu64, frac);
        size_t n = strlen(digits);
        while (n > 0 && digits[n - 1] == '0') digits[--n] = '\0';
        snprintf(buf, size, "%s%" PRIu64 ".%s%%", ppm < 0 ? "-" : "", whole, digits);
    }
    return buf;
}

/* The number as written: mantissa 1250, scale 2 -> "12.50". */
static const char *decimal_text(ast_decimal num, char *buf, size_t size)
{
    char digits[32];
    uint64_t mag = num.mantissa < 0 ? (uint64_t)0 - (uint64_t)num.mantissa : (uint64_t)num.mantissa;
    snprintf(digits, sizeof digits, "%" PRIu64, mag);
    int len = (int)strlen(digits);
    const char *sign = num.mantissa < 0 ? "-" : "";
    if (num.scale <= 0 || num.scale > 20) {
        snprintf(buf, size, "%s%s", sign, digits);
    } else if (len > num.scale) {
        snprintf(buf, size, "%s%.*s.%s", sign, len - num.scale, digits, digits + len - num.scale);
    } else {
        char zeros[24];
        memset(zeros, '0', (size_t)(num.scale - len));
        zeros[num.scale - len] = '\0';
        /* the return value is used so that gcc -O1 does not warn about truncation, which is fine here */
        if (snprintf(buf, size, "%s0.%s%s", sign, zeros, digits) < 0) buf[0] = '\0';
    }
    return buf;
}

/* ------------------------------------------------------------------------------------------ */
/* Small helpers                                                                               */

ast_type check_vtype(const ast_node *n) { return n->type == TY_ITEM_FIELD ? n->elem_type : n->type; }

bool check_item_dependent(const ast_node *n)
{
    if (n == NULL) return false;
    if (n->type == TY_ITEM_FIELD) return true;
    switch (n->kind) {
    case AST_UNARY: return check_item_dependent(n->a);
    case AST_BINARY:
    case AST_RANGE: return check_item_dependent(n->a) || check_item_dependent(n->b);
    case AST_LIST:
        for (int i = 0; i < n->list.count; i++)
            if (check_item_dependent(n->list.items[i])) return true;
        return false;
    default: return false; /* names, facts, aggregates and nested `where` are item-independent */
    }
}

const char *check_const_string(const ast_node *n)
{
    for (int guard = 0; n != NULL && guard < 1000; guard++) {
        if (n->kind == AST_STRING) return n->name ? n->name : "";
        if (n->kind == AST_NAME && n->decl != NULL && n->decl->kind == AST_LET && n->type == TY_STRING)
            n = n->decl->a;
        else
            return NULL;
    }
    return NULL;
}

static int64_t gcd_i64(int64_t a, int64_t b)
{
    if (a < 0) a = -a;
    if (b < 0) b = -b;
    while (b != 0) {
        int64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

static void report_overflow(check_ctx *c, const ast_node *n)
{
    char text[96];
    diag_report(c->diags, DIAG_CONSTANT_OVERFLOW, n->span,
                "constants must stay within the range of a 64-bit integer (in minor units for money)",
                "the constant `%s` is too large", check_span_text(c, n->span, text, sizeof text));
}

static bool is_ordered(ast_type t)
{
    switch (t) {
    case TY_INT:
    case TY_DECIMAL:
    case TY_MONEY:
    case TY_PERCENT:
    case TY_DATE:
    case TY_TIME:
    case TY_DURATION:
    case TY_WEEKDAY:
    case TY_TIER:
    case TY_MULTIPLIER: return true;
    default: return false;
    }
}

/* Numeric comparison of two constants of type t: <0, 0, >0. */
static int compare_values(ast_type t, const ast_node *a, const ast_node *b)
{
    if (t == TY_DECIMAL || t == TY_MULTIPLIER) {
        __int128 l = (__int128)a->value * b->value2, r = (__int128)b->value * a->value2;
        return l < r ? -1 : l > r;
    }
    return a->value < b->value ? -1 : a->value > b->value;
}

static void set_bool(ast_node *n, bool v)
{
    n->is_const = true;
    n->value = v ? 1 : 0;
    n->value2 = 0;
}

/* The text that makes the bare number `lit` a `want` (`300` -> `¥300`, `30%`, `30 days`), or NULL:
 * the fix of a number written where money, a percent or a duration is expected. Money only in
 * a known currency (else the symbol would be a guess). */
static const char *int_literal_fix(const check_ctx *c, const ast_node *lit, ast_type want, char *buf, size_t size)
{
    char text[64];
    if (lit == NULL || lit->kind != AST_INT) return NULL;
    check_span_text(c, lit->span, text, sizeof text);
    if (want == TY_MONEY && c->currency_ok) return check_money_example(c, text, buf, size);
    if (want == TY_PERCENT) {
        snprintf(buf, size, "%s%%", text);
        return buf;
    }
    if (want == TY_DURATION) {
        snprintf(buf, size, "%s days", text);
        return buf;
    }
    return NULL;
}

/* Attaches the fix of a bare number to the diagnostic just reported. */
static void fix_int_literal(check_ctx *c, const ast_node *lit, ast_type want)
{
    char text[64], fixed[96];
    if (int_literal_fix(c, lit, want, fixed, sizeof fixed) == NULL) return;
    check_span_text(c, lit->span, text, sizeof text);
    diag_fix_word(c->diags, lit->span, text, fixed);
}

/* The fix matching mismatch_hint: the side whose hint is "write ¥300 instead of 300". */
static void mismatch_fix(check_ctx *c, const ast_node *a, const ast_node *b)
{
    for (int side = 0; side < 2; side++) {
        const ast_node *lit = side ? a : b, *other = side ? b : a;
        ast_type ot = check_vtype(other);
        if (lit->kind == AST_INT && (ot == TY_MONEY || ot == TY_PERCENT || ot == TY_DURATION)) {
            fix_int_literal(c, lit, ot);
            return;
        }
        if (lit->kind == AST_STRING && (ot == TY_TIER || ot == TY_WEEKDAY || ot == TY_DATE || ot == TY_TIME))
            return; /* mismatch_hint's hint is about this side, and has no certain fix */
    }
}

/* A hint for two operands of different types, when one of them is an obvious slip. */
static const char *mismatch_hint(const check_ctx *c, const ast_node *a, const ast_node *b, char *buf,
                                 size_t size)
{
    for (int side = 0; side < 2; side++) {
        const ast_node *lit = side ? a : b, *other = side ? b : a;
        ast_type ot = check_vtype(other);
        char text[64], ex[96];
        if (lit->kind == AST_INT) {
            check_span_text(c, lit->span, text, sizeof text);
            if (ot == TY_MONEY) {
                snprintf(buf, size, "write %s instead of %s", check_money_example(c, text, ex, sizeof ex),
                         text);
                return buf;
            }
            if (ot == TY_PERCENT) {
                snprintf(buf, size, "write %s%% instead of %s", text, text);
                return buf;
            }
            if (ot == TY_DURATION) {
                snprintf(buf, size, "write `%s days` instead of %s", text, text);
                return buf;
            }
        }
        if (lit->kind == AST_STRING && (ot == TY_TIER || ot == TY_WEEKDAY)) {
            snprintf(buf, size, "%s are names, not text: write `%s` without quotes",
                     ot == TY_TIER ? "tiers" : "weekdays", lit->name ? lit->name : "");
            return buf;
        }
        if (lit->kind == AST_STRING && (ot == TY_DATE || ot == TY_TIME)) {
            snprintf(buf, size, "write %s without quotes, e.g. %s", ot == TY_DATE ? "dates" : "times",
                     ot == TY_DATE ? "2026-03-01" : "09:30");
            return buf;
        }
    }
    snprintf(buf, size, "both sides must have the same type");
    return buf;
}

/* ------------------------------------------------------------------------------------------ */
/* Literals                                                                                    */

static bool symbol_matches(const char *sym, const money_currency *cur)
{
    static const char *const dollar_codes[] = { "USD", "AUD", "CAD", "HKD", "NZD", "SGD", "TWD", "MXN" };
    size_t len = strlen(cur->symbol);
    while (len > 0 && cur->symbol[len - 1] == ' ') len--;
    if (strlen(sym) == len && memcmp(sym, cur->symbol, len) == 0) return true;
    if (strcmp(sym, "$") == 0) {
        for (size_t i = 0; i < sizeof dollar_codes / sizeof dollar_codes[0]; i++)
            if (strcmp(cur->code, dollar_codes[i]) == 0) return true;
    }
    if (strcmp(sym, "\xEF\xBF\xA5") == 0) /* full-width yen sign */
        return strcmp(cur->code, "CNY") == 0 || strcmp(cur->code, "JPY") == 0;
    return false;
}

static void lit_money(check_ctx *c, ast_node *n)
{
    n->type = TY_MONEY;
    if (!c->currency_ok) {
        /* no valid currency (reported at the header): amounts cannot be converted, and whatever
         * uses them stays quiet rather than repeating the problem */
        n->type = TY_UNKNOWN;
        return;
    }
    const money_currency *cur = c->currency;
    char text[96], digits[80], ex[128], hint[240];
    check_span_text(c, n->span, text, sizeof text);
    decimal_text(n->num, digits, sizeof digits);
    if (n->name != NULL && strcmp(n->name, cur->code) != 0) {
        snprintf(hint, sizeof hint, "amounts are in %s, e.g. %s", cur->code,
                 check_money_example(c, digits, ex, sizeof ex));
        diag_report(c->diags, DIAG_CURRENCY_MISMATCH, n->span, hint,
                    "`%s` is in %s, but this ruleset's currency is %s", text, n->name, cur->code);
        n->type = TY_UNKNOWN;
        return;
    }
    if (n->name == NULL && n->sym != NULL && !symbol_matches(n->sym, cur)) {
        snprintf(hint, sizeof hint, "amounts are in %s, e.g. %s", cur->code,
                 check_money_example(c, digits, ex, sizeof ex));
        diag_report(c->diags, DIAG_CURRENCY_MISMATCH, n->span, hint,
                    "`%s` is not written in %s, this ruleset's currency", text, cur->code);
        n->type = TY_UNKNOWN;
        return;
    }
    int scale = n->num.scale, exp = cur->exponent;
    int64_t v;
    if (scale <= exp) {
        int64_t p = pow10_i64(exp - scale);
        if (p < 0 || __builtin_mul_overflow(n->num.mantissa, p, &v)) {
            report_overflow(c, n);
            n->type = TY_UNKNOWN;
            return;
        }
    } else {
        int64_t p = pow10_i64(scale - exp);
        if (p < 0 || n->num.mantissa % p != 0) {
            char lo[48], hi[48];
            if (p > 0) {
                int64_t floor_v = n->num.mantissa / p;
                snprintf(hint, sizeof hint, "round it to %s or %s",
                         check_money_text(c, floor_v, lo, sizeof lo),
                         check_money_text(c, floor_v + 1, hi, sizeof hi));
            } else {
                snprintf(hint, sizeof hint, "write at most %d decimal place%s", exp, exp == 1 ? "" : "s");
            }
            if (exp == 0)
                diag_report(c->diags, DIAG_MONEY_TOO_PRECISE, n->span, hint,
                            "%s has no minor unit; %s cannot be charged", cur->code, text);
            else
                diag_report(c->diags, DIAG_MONEY_TOO_PRECISE, n->span, hint,
                            "%s has %d decimal place%s; %s cannot be charged", cur->code, exp,
                            exp == 1 ? "" : "s", text);
            n->type = TY_UNKNOWN;
            return;
        }
        v = n->num.mantissa / p;
    }
    n->is_const = true;
    n->value = v;
}

static void lit_percent(check_ctx *c, ast_node *n)
{
    if (n->sym != NULL && strcmp(n->sym, "\xE6\x8A\x98") == 0) { /* 95折 (src/compiler/lex_discount.c) */
        char text[96], hint[256];
        if (n->num.mantissa == 0) { /* an invalid 折, already reported */
            n->type = TY_UNKNOWN;
            return;
        }
        if (!c->allow_zhe) {
            char pct[32];
            check_span_text(c, n->span, text, sizeof text);
            size_t len = strlen(text);
            if (len >= 3) text[len - 3] = '\0'; /* the digits, without 折 */
            snprintf(hint, sizeof hint,
                     "a \xE6\x8A\x98 is what a promotion takes off; here write a percentage, e.g. %s%%",
                     text);
            diag_report(c->diags, DIAG_ZHE_NOT_DISCOUNT, n->span, hint,
                        "`%s\xE6\x8A\x98` is a discount (%s off), but a percentage is expected here", text,
                        check_percent_text(n->num.mantissa * 1000, pct, sizeof pct));
            n->type = TY_UNKNOWN;
            return;
        }
    }
    n->type = TY_PERCENT;
    int scale = n->num.scale;
    int64_t v;
    if (scale <= 4) {
        int64_t p = pow10_i64(4 - scale);
        if (p < 0 || __builtin_mul_overflow(n->num.mantissa, p, &v)) {
            report_overflow(c, n);
            n->type = TY_UNKNOWN;
            return;
        }
    } else {
        int64_t p = pow10_i64(scale - 4);
        if (p < 0 || n->num.mantissa % p != 0) {
            char text[96];
            diag_report(c->diags, DIAG_PERCENT_TOO_PRECISE, n->span,
                        "round it to at most 4 decimal places, e.g. 12.3456%",
                        "`%s` has more than 4 decimal places",
                        check_span_text(c, n->span, text, sizeof text));
            n->type = TY_UNKNOWN;
            return;
        }
        v = n->num.mantissa / p;
    }
    n->is_const = true;
    n->value = v;
}

/* A decimal as a reduced fraction value/value2. */
static bool lit_fraction(check_ctx *c, ast_node *n)
{
    int64_t den = pow10_i64(n->num.scale < 0 ? 0 : n->num.scale);
    if (den < 0) {
        report_overflow(c, n);
        n->type = TY_UNKNOWN;
        return false;
    }
    int64_t num = n->num.mantissa;
    int64_t g = gcd_i64(num, den);
    if (g > 1) {
        num /= g;
        den /= g;
    }
    n->is_const = true;
    n->value = num;
    n->value2 = den;
    return true;
}

/* ------------------------------------------------------------------------------------------ */
/* Lists and ranges                                                                            */

static bool same_constant(const ast_node *a, const ast_node *b, ast_type t)
{
    if (t == TY_STRING) {
        const char *sa = check_const_string(a), *sb = check_const_string(b);
        return sa != NULL && sb != NULL && strcmp(sa, sb) == 0;
    }
    if (!a->is_const || !b->is_const) return false;
    return compare_values(t, a, b) == 0;
}

/* One constant element of a list, for finding duplicates by sorting (long lists of SKUs would
 * make pairwise comparison quadratic). */
typedef struct list_entry {
    const ast_node *node;
    const char *text; /* strings */
    int64_t num, den; /* other constants */
    int index;
} list_entry;

static int compare_list_entries(const void *pa, const void *pb)
{
    const list_entry *a = pa, *b = pb;
    int k;
    if (a->text != NULL && b->text != NULL)
        k = strcmp(a->text, b->text);
    else {
        __int128 l = (__int128)a->num * b->den, r = (__int128)b->num * a->den;
        k = l < r ? -1 : l > r;
    }
    return k != 0 ? k : (a->index > b->index) - (a->index < b->index);
}

/* Duplicates in a list are harmless but usually a slip: warn about each repeat. */
static void report_list_duplicates(check_ctx *c, const ast_node *n, ast_type et)
{
    int count = n->list.count;
    list_entry *entries = calloc((size_t)count + 1, sizeof *entries);
    if (entries == NULL) {
        fprintf(stderr, "perk: out of memory\n");
        abort();
    }
    int used = 0;
    for (int i = 0; i < count; i++) {
        const ast_node *e = n->list.items[i];
        if (e == NULL) continue;
        list_entry le = { e, NULL, 0, 1, i };
        if (et == TY_STRING) {
            le.text = check_const_string(e);
            if (le.text == NULL) continue;
        } else {
            if (!e->is_const) continue;
            le.num = e->value;
            le.den = (et == TY_DECIMAL || et == TY_MULTIPLIER) && e->value2 > 0 ? e->value2 : 1;
        }
        entries[used++] = le;
    }
    qsort(entries, (size_t)used, sizeof *entries, compare_list_entries);
    for (int i = 1, first = 0; i < used; i++) {
        list_entry probe = entries[i];
        probe.index = entries[first].index; /* equal keys compare by index only */
        if (compare_list_entries(&probe, &entries[first]) != 0) {
            first = i;
            continue;
        }
        const ast_node *e = entries[i].node, *f = entries[first].node;
        char text[96];
        check_span_text(c, e->span, text, sizeof text);
        if (et == TY_WEEKDAY)
            diag_report(c->diags, DIAG_DUPLICATE_WEEKDAY, e->span, "remove the repeated day",
                        "%s is listed twice", text);
        else
            diag_report(c->diags, DIAG_DUPLICATE_ENTRY, e->span, "remove the repeated value",
                        "%s is listed twice", text);
        diag_note(c->diags, f->span, "first listed here");
    }
    free(entries);
}

static ast_type expr_list(check_ctx *c, ast_node *n)
{
    if (n->list.count == 0) {
        diag_report(c->diags, DIAG_EMPTY_LIST, n->span, "add at least one value between the brackets",
                    "an empty list matches nothing");
        return TY_UNKNOWN;
    }
    ast_type et = TY_UNKNOWN;
    const ast_node *first = NULL;
    bool ok = true, all_const = true;
    for (int i = 0; i < n->list.count; i++) {
        ast_node *e = n->list.items[i];
        if (e == NULL) continue;
        ast_type t = check_expr(c, e);
        if (t == TY_UNKNOWN) {
            ok = false;
            continue;
        }
        if (t == TY_ITEMS || t == TY_LIST || t == TY_RANGE || t == TY_STRING_SET || t == TY_ITEM_FIELD) {
            char ty[48], text[96];
            diag_report(c->diags, DIAG_WRONG_TYPE, e->span,
                        "a list holds plain values such as \"A1\", 3 or saturday",
                        "`%s` (%s) cannot be put in a list", check_span_text(c, e->span, text, sizeof text),
                        check_node_type_text(e, ty, sizeof ty));
            ok = false;
            continue;
        }
        if (!e->is_const) all_const = false;
        if (first == NULL) {
            first = e;
            et = t;
            continue;
        }
        if (t != et) {
            char t1[48], t2[48];
            diag_report(c->diags, DIAG_MIXED_LIST, e->span, "every element of a list must have the same type",
                        "this list mixes %s and %s", check_type_text(et, TY_UNKNOWN, t1, sizeof t1),
                        check_type_text(t, TY_UNKNOWN, t2, sizeof t2));
            ok = false;
        }
    }
    if (!ok || first == NULL) return TY_UNKNOWN;
    report_list_duplicates(c, n, et);
    n->type = TY_LIST;
    n->elem_type = et;
    n->is_const = all_const;
    if (all_const && et == TY_WEEKDAY) {
        int64_t mask = 0;
        for (int i = 0; i < n->list.count; i++)
            if (n->list.items[i] != NULL && n->list.items[i]->value >= 0 && n->list.items[i]->value < 7)
                mask |= (int64_t)1 << n->list.items[i]->value;
        n->value = mask;
    }
    return n->type;
}

static ast_type check_range(check_ctx *c, ast_node *r)
{
    ast_type lt = check_expr(c, r->a);
    c->allow_24 = r->b != NULL && r->b->kind == AST_TIME;
    ast_type rt = check_expr(c, r->b);
    c->allow_24 = false;
    if (lt == TY_UNKNOWN || rt == TY_UNKNOWN) return TY_UNKNOWN;
    lt = check_vtype(r->a);
    rt = check_vtype(r->b);
    char t1[48], t2[48], hint[200];
    if (lt != rt) {
        diag_report(c->diags, DIAG_TYPE_MISMATCH, r->span, mismatch_hint(c, r->a, r->b, hint, sizeof hint),
                    "a range needs two values of the same type, not %s .. %s",
                    check_type_text(lt, TY_UNKNOWN, t1, sizeof t1),
                    check_type_text(rt, TY_UNKNOWN, t2, sizeof t2));
        mismatch_fix(c, r->a, r->b);
        return TY_UNKNOWN;
    }
    if (!is_ordered(lt) || lt == TY_WEEKDAY) {
        diag_report(c->diags, DIAG_NOT_ORDERED, r->span,
                    lt == TY_WEEKDAY ? "list the days instead, e.g. [saturday, sunday]"
                                     : "ranges are for numbers, amounts, dates and times",
                    "%s values cannot form a range", check_type_text(lt, TY_UNKNOWN, t1, sizeof t1));
        return TY_UNKNOWN;
    }
    r->type = TY_RANGE;
    r->elem_type = lt;
    r->is_const = r->a->is_const && r->b->is_const;
    return r->type;
}

/* ------------------------------------------------------------------------------------------ */
/* Operators                                                                                   */

static ast_type expr_logic(check_ctx *c, ast_node *n)
{
    ast_type lt = check_expr(c, n->a), rt = check_expr(c, n->b);
    const char *word = n->op == OP_AND ? "and" : "or";
    bool ok = lt != TY_UNKNOWN && rt != TY_UNKNOWN;
    ast_node *sides[2] = { n->a, n->b };
    for (int i = 0; i < 2; i++) {
        ast_node *s = sides[i];
        if (s->type == TY_UNKNOWN || check_vtype(s) == TY_BOOL) continue;
        char text[96], ty[48];
        diag_report(c->diags, DIAG_WRONG_TYPE, s->span,
                    "compare it with something, e.g. `order.subtotal >= ¥100`",
                    "`%s` joins conditions, but `%s` is %s, not true or false", word,
                    check_span_text(c, s->span, text, sizeof text), check_node_type_text(s, ty, sizeof ty));
        ok = false;
    }
    if (!ok) return TY_UNKNOWN;
    n->type = TY_BOOL;
    if (n->a->is_const && n->b->is_const)
        set_bool(n, n->op == OP_AND ? (n->a->value && n->b->value) : (n->a->value || n->b->value));
    return n->type;
}

/* `x is known` / `x is unknown` (docs/semantics.md, "Unknown facts"): x is a fact a cart may
 * lack, or inside `where` a line's margin or attr(...). Testing a fact that is always known is an
 * error: the test would be constant, so the rule says something its author did not mean. */
static ast_type expr_is_known(check_ctx *c, ast_node *n)
{
    char text[96];
    const ast_node *a = n->a;
    while (a->kind == AST_NAME && a->decl && a->decl->kind == AST_LET) a = a->decl->a;
    const char *op = n->op == OP_IS_KNOWN ? "is known" : "is unknown";
    if (a->kind == AST_FIELD && a->type != TY_ITEM_FIELD) {
        if (!perk_fact_can_be_unknown(a->fact)) {
            diag_report(c->diags, DIAG_ALWAYS_KNOWN, n->a->span,
                        "test presence only of what a cart may lack: customer.member_since, "
                        "customer.birthday, customer.tier, customer.orders, customer.points, "
                        "customer.first_order, customer.id, order.channel",
                        "`%s` is always known, so `%s` would always be %s",
                        check_span_text(c, n->a->span, text, sizeof text), op,
                        n->op == OP_IS_KNOWN ? "true" : "false");
            return TY_UNKNOWN;
        }
        return n->type = TY_BOOL;
    }
    if (a->kind == AST_CALL && a->name && strcmp(a->name, "order.attr") == 0 && a->type == TY_STRING)
        return n->type = TY_BOOL; /* the order may lack any attribute */
    if (a->type == TY_ITEM_FIELD && (a->fact == PERK_FIELD_MARGIN || a->fact == PERK_FIELD_STORE || a->fact == -1))
        return n->type = TY_BOOL;
    if (a->type == TY_ITEM_FIELD) {
        diag_report(c->diags, DIAG_ALWAYS_KNOWN, n->a->span,
                    "of an item, only `margin`, `store` and `attr(...)` may be unknown",
                    "item field `%s` is always known, so `%s` would always be %s",
                    check_span_text(c, n->a->span, text, sizeof text), op,
                    n->op == OP_IS_KNOWN ? "true" : "false");
        return TY_UNKNOWN;
    }
    diag_report(c->diags, DIAG_KNOWN_NOT_A_FACT, n->a->span,
                "write it of a fact, e.g. `customer.member_since is known`",
                "`%s` tests a fact the cart may lack, not `%s`", op,
                check_span_text(c, n->a->span, text, sizeof text));
    return TY_UNKNOWN;
}

static ast_type expr_unary(check_ctx *c, ast_node *n)
{
    ast_type t = check_expr(c, n->a);
    if (t == TY_UNKNOWN) return TY_UNKNOWN;
    if (n->op == OP_IS_KNOWN || n->op == OP_IS_UNKNOWN) return expr_is_known(c, n);
    ast_type vt = check_vtype(n->a);
    char text[96], ty[48];
    if (n->op == OP_NOT) {
        if (vt != TY_BOOL) {
            diag_report(c->diags, DIAG_WRONG_TYPE, n->a->span,
                        "`not` turns a condition around, e.g. `not customer.first_order`",
                        "`not` needs a condition, but `%s` is %s",
                        check_span_text(c, n->a->span, text, sizeof text),
                        check_node_type_text(n->a, ty, sizeof ty));
            return TY_UNKNOWN;
        }
        n->type = TY_BOOL;
        if (n->a->is_const) set_bool(n, !n->a->value);
        return n->type;
    }
    /* OP_NEG */
    if (vt != TY_INT && vt != TY_MONEY && vt != TY_PERCENT && vt != TY_DURATION && vt != TY_DECIMAL) {
        diag_report(c->diags, DIAG_WRONG_TYPE, n->span,
                    "only numbers, amounts, percents and durations can be negated", "cannot negate %s",
                    check_node_type_text(n->a, ty, sizeof ty));
        return TY_UNKNOWN;
    }
    n->type = vt;
    if (n->a->is_const) {
        if (n->a->value == INT64_MIN) {
            report_overflow(c, n);
            return n->type = TY_UNKNOWN;
        }
        n->is_const = true;
        n->value = -n->a->value;
        n->value2 = n->a->value2;
    }
    return n->type;
}

static const char *op_word(int op)
{
    switch (op) {
    case OP_ADD: return "add";
    case OP_SUB: return "subtract";
    case OP_MUL: return "multiply";
    case OP_DIV: return "divide";
    case OP_MOD: return "take the remainder of";
    default: return "combine";
    }
}

static const char *op_symbol(int op)
{
    switch (op) {
    case OP_EQ: return "=";
    case OP_NE: return "!=";
    case OP_LT: return "<";
    case OP_LE: return "<=";
    case OP_GT: return ">";
    case OP_GE: return ">=";
    case OP_IN: return "in";
    case OP_NOT_IN: return "not in";
    case OP_ADD: return "+";
    case OP_SUB: return "-";
    case OP_MUL: return "*";
    case OP_DIV: return "/";
    case OP_MOD: return "mod";
    default: return "?";
    }
}

/* The result type of an arithmetic operator, or TY_UNKNOWN when the operands do not combine. */
static ast_type arith_result(int op, ast_type l, ast_type r)
{
#define PAIR(x, y) (l == (x) && r == (y))
    switch (op) {
    case OP_ADD:
        if (PAIR(TY_MONEY, TY_MONEY) || PAIR(TY_INT, TY_INT) || PAIR(TY_PERCENT, TY_PERCENT) ||
            PAIR(TY_DURATION, TY_DURATION))
            return l;
        if (PAIR(TY_DATE, TY_DURATION) || PAIR(TY_DURATION, TY_DATE)) return TY_DATE;
        return TY_UNKNOWN;
    case OP_SUB:
        if (PAIR(TY_MONEY, TY_MONEY) || PAIR(TY_INT, TY_INT) || PAIR(TY_PERCENT, TY_PERCENT) ||
            PAIR(TY_DURATION, TY_DURATION))
            return l;
        if (PAIR(TY_DATE, TY_DURATION)) return TY_DATE;
        if (PAIR(TY_DATE, TY_DATE)) return TY_DURATION;
        return TY_UNKNOWN;
    case OP_MUL:
        if (PAIR(TY_INT, TY_INT)) return TY_INT;
        if (PAIR(TY_MONEY, TY_INT) || PAIR(TY_INT, TY_MONEY) || PAIR(TY_MONEY, TY_PERCENT) ||
            PAIR(TY_PERCENT, TY_MONEY))
            return TY_MONEY;
        if (PAIR(TY_DURATION, TY_INT) || PAIR(TY_INT, TY_DURATION)) return TY_DURATION;
        if (PAIR(TY_PERCENT, TY_INT) || PAIR(TY_INT, TY_PERCENT)) return TY_PERCENT;
        return TY_UNKNOWN;
    case OP_DIV:
    case OP_MOD:
        if (PAIR(TY_INT, TY_INT)) return TY_INT;
        return TY_UNKNOWN;
    default: return TY_UNKNOWN;
    }
#undef PAIR
}

static void fold_arith(check_ctx *c, ast_node *n, ast_type lt, ast_type rt)
{
    ast_node *a = n->a, *b = n->b;
    if ((n->op == OP_DIV || n->op == OP_MOD) && b->is_const && b->value == 0) {
        char text[96];
        diag_report(c->diags, DIAG_DIVISION_BY_ZERO, b->span, "divide by a number other than 0",
                    "division by zero in `%s`", check_span_text(c, n->span, text, sizeof text));
        n->type = TY_UNKNOWN;
        return;
    }
    if (!a->is_const || !b->is_const) return;
    int64_t x = a->value, y = b->value, r = 0;
    bool overflow = false;
    switch (n->op) {
    case OP_ADD:
        if (lt == TY_DATE)
            overflow = __builtin_add_overflow(x, y / CHECK_SECONDS_PER_DAY, &r);
        else if (rt == TY_DATE)
            overflow = __builtin_add_overflow(x / CHECK_SECONDS_PER_DAY, y, &r);
        else
            overflow = __builtin_add_overflow(x, y, &r);
        break;
    case OP_SUB:
        if (lt == TY_DATE && rt == TY_DATE)
            overflow = __builtin_sub_overflow(x, y, &r) ||
                       __builtin_mul_overflow(r, (int64_t)CHECK_SECONDS_PER_DAY, &r);
        else if (lt == TY_DATE)
            overflow = __builtin_sub_overflow(x, y / CHECK_SECONDS_PER_DAY, &r);
        else
            overflow = __builtin_sub_overflow(x, y, &r);
        break;
    case OP_MUL:
        if ((lt == TY_MONEY && rt == TY_PERCENT) || (lt == TY_PERCENT && rt == TY_MONEY)) {
            int64_t money = lt == TY_MONEY ? x : y, ppm = lt == TY_MONEY ? y : x;
            overflow = !money_percent(money, ppm, (money_rounding)c->rounding, &r);
        } else {
            overflow = __builtin_mul_overflow(x, y, &r);
        }
        break;
    case OP_DIV:
    case OP_MOD:
        if (x == INT64_MIN && y == -1)
            overflow = true;
        else
            r = n->op == OP_DIV ? x / y : x % y;
        break;
    default: return;
    }
    if (overflow) {
        report_overflow(c, n);
        n->type = TY_UNKNOWN;
        return;
    }
    n->is_const = true;
    n->value = r;
}

static ast_type expr_arith(check_ctx *c, ast_node *n)
{
    ast_type lt = check_expr(c, n->a), rt = check_expr(c, n->b);
    if (lt == TY_UNKNOWN || rt == TY_UNKNOWN) return TY_UNKNOWN;
    lt = check_vtype(n->a);
    rt = check_vtype(n->b);
    ast_type result = arith_result(n->op, lt, rt);
    if (result == TY_UNKNOWN) {
        char t1[48], t2[48], hint[200];
        if (n->op == OP_DIV && (lt == TY_MONEY || rt == TY_MONEY))
            snprintf(hint, sizeof hint,
                     "to take a share of an amount, multiply it by a percent, e.g. `order.subtotal * 10%%`");
        else if (n->op == OP_MUL && lt == TY_MONEY && rt == TY_MONEY)
            snprintf(hint, sizeof hint, "multiply an amount by a number or a percent, e.g. `¥10 * 3`");
        else if (lt != rt)
            mismatch_hint(c, n->a, n->b, hint, sizeof hint);
        else
            snprintf(hint, sizeof hint, "`%s` works on numbers, amounts, percents, dates and durations",
                     op_symbol(n->op));
        diag_report(c->diags, DIAG_TYPE_MISMATCH, n->span, hint, "cannot %s %s and %s", op_word(n->op),
                    check_type_text(lt, TY_UNKNOWN, t1, sizeof t1),
                    check_type_text(rt, TY_UNKNOWN, t2, sizeof t2));
        if (lt != rt && !(n->op == OP_DIV && (lt == TY_MONEY || rt == TY_MONEY))) mismatch_fix(c, n->a, n->b);
        return TY_UNKNOWN;
    }
    /* a date moves by whole days */
    const ast_node *dur = NULL;
    if ((n->op == OP_ADD || n->op == OP_SUB) && lt == TY_DATE && rt == TY_DURATION)
        dur = n->b;
    else if (n->op == OP_ADD && lt == TY_DURATION && rt == TY_DATE)
        dur = n->a;
    if (dur != NULL && dur->is_const && dur->value % CHECK_SECONDS_PER_DAY != 0) {
        char text[96];
        diag_report(c->diags, DIAG_PARTIAL_DAYS, dur->span, "use days or weeks, e.g. `today - 7 days`",
                    "a date moves by whole days; `%s` is not a whole number of days",
                    check_span_text(c, dur->span, text, sizeof text));
        return TY_UNKNOWN;
    }
    n->type = result;
    fold_arith(c, n, lt, rt);
    return n->type;
}

static bool is_compare_op(int op)
{
    return op == OP_EQ || op == OP_NE || op == OP_LT || op == OP_LE || op == OP_GT || op == OP_GE;
}

static ast_type expr_compare(check_ctx *c, ast_node *n)
{
    ast_type lt = check_expr(c, n->a), rt = check_expr(c, n->b);
    if (lt == TY_UNKNOWN || rt == TY_UNKNOWN) return TY_UNKNOWN;
    lt = check_vtype(n->a);
    rt = check_vtype(n->b);
    char t1[48], t2[48], hint[200], text[96];
    if (lt == TY_RANGE || rt == TY_RANGE || lt == TY_LIST || rt == TY_LIST) {
        const ast_node *r = (lt == TY_RANGE || lt == TY_LIST) ? n->a : n->b;
        const ast_node *x = r == n->a ? n->b : n->a;
        snprintf(hint, sizeof hint, "write `%s in %s`", check_span_text(c, x->span, t1, sizeof t1),
                 check_span_text(c, r->span, t2, sizeof t2));
        diag_report(c->diags, DIAG_RANGE_OUTSIDE_IN, n->span, hint, "a %s can only be used after `in`",
                    r->type == TY_RANGE ? "range" : "list");
        return TY_UNKNOWN;
    }
    bool same = lt == rt || (lt == TY_CATEGORY && rt == TY_STRING) || (lt == TY_STRING && rt == TY_CATEGORY);
    if (!same) {
        if ((lt == TY_STRING_SET && rt == TY_STRING) || (lt == TY_STRING && rt == TY_STRING_SET)) {
            const ast_node *set = lt == TY_STRING_SET ? n->a : n->b, *s = set == n->a ? n->b : n->a;
            snprintf(hint, sizeof hint, "to test membership write `%s in %s`",
                     check_span_text(c, s->span, t1, sizeof t1),
                     check_span_text(c, set->span, t2, sizeof t2));
        } else {
            mismatch_hint(c, n->a, n->b, hint, sizeof hint);
        }
        diag_report(c->diags, DIAG_TYPE_MISMATCH, n->span, hint, "cannot compare %s with %s",
                    check_type_text(lt, TY_UNKNOWN, t1, sizeof t1),
                    check_type_text(rt, TY_UNKNOWN, t2, sizeof t2));
        if (!(lt == TY_STRING_SET && rt == TY_STRING) && !(lt == TY_STRING && rt == TY_STRING_SET))
            mismatch_fix(c, n->a, n->b);
        return TY_UNKNOWN;
    }
    bool ordering = n->op != OP_EQ && n->op != OP_NE;
    if (lt == TY_ITEMS || lt == TY_STRING_SET || (ordering && !is_ordered(lt))) {
        if (lt == TY_ITEMS)
            snprintf(hint, sizeof hint,
                     "compare what the sets add up to, e.g. `sum(%s) >= ¥100`, or test `any(%s)`",
                     check_span_text(c, n->a->span, t1, sizeof t1),
                     check_span_text(c, n->a->span, t2, sizeof t2));
        else if (lt == TY_STRING_SET)
            snprintf(hint, sizeof hint, "test membership instead, e.g. `\"vip\" in %s`",
                     check_span_text(c, n->a->span, t1, sizeof t1));
        else if (lt == TY_STRING || lt == TY_CATEGORY)
            snprintf(hint, sizeof hint, "text can only be compared with = and !=");
        else if (lt == TY_BOOL)
            snprintf(hint, sizeof hint, "use the condition itself, or `not` it");
        else
            snprintf(hint, sizeof hint, "use = or != instead");
        diag_report(c->diags, DIAG_NOT_ORDERED, n->span, hint, "`%s` cannot compare %s values",
                    op_symbol(n->op), check_type_text(lt, TY_UNKNOWN, t1, sizeof t1));
        return TY_UNKNOWN;
    }
    if ((lt == TY_STRING || lt == TY_CATEGORY) && rt != TY_CATEGORY && lt != TY_CATEGORY &&
        check_const_string(n->a) == NULL && check_const_string(n->b) == NULL) {
        const ast_node *field = n->a->type == TY_ITEM_FIELD   ? n->a
                                : n->b->type == TY_ITEM_FIELD ? n->b
                                                              : NULL;
        if (field != NULL && field->kind == AST_NAME && field->name != NULL)
            snprintf(hint, sizeof hint,
                     "an item's %s can only be compared with a fixed text, e.g. `%s = \"Acme\"`", field->name,
                     field->name);
        else
            snprintf(hint, sizeof hint, "compare with a fixed text, e.g. `order.channel = \"app\"`");
        diag_report(c->diags, DIAG_NOT_CONSTANT, n->span, hint,
                    "`%s` compares two texts that are both unknown until checkout",
                    check_span_text(c, n->span, text, sizeof text));
        return TY_UNKNOWN;
    }
    n->type = TY_BOOL;
    if (n->a->is_const && n->b->is_const && n->a->type != TY_ITEM_FIELD && n->b->type != TY_ITEM_FIELD) {
        int cmp;
        if (lt == TY_STRING) {
            const char *sa = check_const_string(n->a), *sb = check_const_string(n->b);
            if (sa == NULL || sb == NULL) return n->type;
            cmp = strcmp(sa, sb);
        } else {
            cmp = compare_values(lt, n->a, n->b);
        }
        bool v = false;
        switch (n->op) {
        case OP_EQ: v = cmp == 0; break;
        case OP_NE: v = cmp != 0; break;
        case OP_LT: v = cmp < 0; break;
        case OP_LE: v = cmp <= 0; break;
        case OP_GT: v = cmp > 0; break;
        case OP_GE: v = cmp >= 0; break;
        default: break;
        }
        set_bool(n, v);
    }
    return n->type;
}

static ast_type expr_in(check_ctx *c, ast_node *n)
{
    ast_type lt = check_expr(c, n->a);
    ast_type rt = n->b != NULL && n->b->kind == AST_RANGE ? check_range(c, n->b) : check_expr(c, n->b);
    if (lt == TY_UNKNOWN || rt == TY_UNKNOWN) return TY_UNKNOWN;
    lt = check_vtype(n->a);
    rt = check_vtype(n->b);
    ast_node *a = n->a, *b = n->b;
    char t1[48], t2[48], text[96], hint[240];
    const char *word = n->op == OP_IN ? "in" : "not in";
    bool ok = true;
    switch (rt) {
    case TY_RANGE:
        if (lt != b->elem_type) {
            snprintf(hint, sizeof hint, "the value and the range ends must have the same type");
            diag_report(c->diags, DIAG_INVALID_IN, n->span, hint, "`%s` is %s, but the range holds %s values",
                        check_span_text(c, a->span, text, sizeof text),
                        check_type_text(lt, TY_UNKNOWN, t1, sizeof t1),
                        check_type_text(b->elem_type, TY_UNKNOWN, t2, sizeof t2));
            ok = false;
        }
        break;
    case TY_LIST:
        if (lt != b->elem_type && !(lt == TY_CATEGORY && b->elem_type == TY_STRING)) {
            diag_report(
                c->diags, DIAG_INVALID_IN, n->span, "the value and the list elements must have the same type",
                "`%s` is %s, but the list holds %s values", check_span_text(c, a->span, text, sizeof text),
                check_type_text(lt, TY_UNKNOWN, t1, sizeof t1),
                check_type_text(b->elem_type, TY_UNKNOWN, t2, sizeof t2));
            ok = false;
        } else if (!b->is_const) {
            diag_report(c->diags, DIAG_NOT_CONSTANT, b->span,
                        b->elem_type == TY_STRING
                            ? "write the texts out, e.g. [\"app\", \"web\"]"
                            : "write the values out, or compare with `=` and join with `or`",
                        "the list after `%s` must hold fixed values", word);
            ok = false;
        } else if (lt == TY_BOOL) {
            diag_report(c->diags, DIAG_INVALID_IN, n->span, "use the condition itself",
                        "`in` cannot test true/false values");
            ok = false;
        }
        break;
    case TY_STRING_SET:
        if (lt != TY_STRING) {
            snprintf(hint, sizeof hint, "write the text to look for, e.g. `\"vip\" %s %s`", word,
                     check_span_text(c, b->span, t1, sizeof t1));
            diag_report(c->diags, DIAG_INVALID_IN, n->span, hint, "`%s` holds texts, but `%s` is %s",
                        check_span_text(c, b->span, t2, sizeof t2),
                        check_span_text(c, a->span, text, sizeof text),
                        check_type_text(lt, TY_UNKNOWN, t1, sizeof t1));
            ok = false;
        } else if (check_const_string(a) == NULL) {
            snprintf(hint, sizeof hint, "write the text to look for, e.g. `\"vip\" %s %s`", word,
                     check_span_text(c, b->span, t1, sizeof t1));
            diag_report(c->diags, DIAG_NOT_CONSTANT, a->span, hint, "the text before `%s` must be fixed",
                        word);
            ok = false;
        }
        break;
    case TY_STRING:
        if (lt == TY_CATEGORY) {
            if (check_const_string(b) == NULL) {
                diag_report(c->diags, DIAG_NOT_CONSTANT, b->span,
                            "write the category path, e.g. `category in \"tea\"`",
                            "the category after `%s` must be fixed", word);
                ok = false;
            }
        } else {
            if (lt == TY_STRING)
                snprintf(hint, sizeof hint,
                         "compare texts with `=`, or put the choices in a list: `%s %s [%s]`",
                         check_span_text(c, a->span, t1, sizeof t1), word,
                         check_span_text(c, b->span, t2, sizeof t2));
            else
                snprintf(hint, sizeof hint, "`in` followed by a text only works for `category`");
            diag_report(c->diags, DIAG_INVALID_IN, n->span, hint,
                        "`%s` needs a list, a range or a set after it, not a text", word);
            ok = false;
        }
        break;
    default:
        diag_report(c->diags, DIAG_INVALID_IN, n->span,
                    "e.g. `weekday in [saturday, sunday]` or `today in 2026-03-01 .. 2026-03-31`",
                    "`%s` needs a list, a range or a set after it; `%s` is %s", word,
                    check_span_text(c, b->span, text, sizeof text), check_node_type_text(b, t1, sizeof t1));
        ok = false;
        break;
    }
    if (!ok) return TY_UNKNOWN;
    n->type = TY_BOOL;
    /* fold a constant value against a constant list or range */
    if (a->is_const && b->is_const && a->type != TY_ITEM_FIELD && lt != TY_CATEGORY) {
        bool found = false, known = true;
        if (rt == TY_RANGE) {
            ast_node *lo = b, *hi = b;
            /* follow lets to the range node itself */
            for (int guard = 0; guard < 1000 && lo->kind == AST_NAME && lo->decl && lo->decl->kind == AST_LET;
                 guard++)
                lo = hi = lo->decl->a;
            if (lo->kind != AST_RANGE)
                known = false;
            else
                found = compare_values(lt, lo->a, a) <= 0 && compare_values(lt, a, hi->b) <= 0;
        } else if (rt == TY_LIST) {
            ast_node *list = b;
            for (int guard = 0;
                 guard < 1000 && list->kind == AST_NAME && list->decl && list->decl->kind == AST_LET; guard++)
                list = list->decl->a;
            if (list->kind != AST_LIST) known = false;
            for (int i = 0; known && i < list->list.count; i++)
                if (list->list.items[i] != NULL && same_constant(a, list->list.items[i], lt)) found = true;
        } else {
            known = false;
        }
        if (known) set_bool(n, n->op == OP_IN ? found : !found);
    }
    return n->type;
}

/* ------------------------------------------------------------------------------------------ */
/* Item predicates                                                                             */

static bool nonnegative_field(int field)
{
    return field == PERK_FIELD_PRICE || field == PERK_FIELD_QUANTITY || field == PERK_FIELD_AMOUNT ||
           field == PERK_FIELD_ORIGINAL_AMOUNT;
}

static void warn_empty_set(check_ctx *c, const ast_node *n, const char *why)
{
    char text[96];
    diag_report(c->diags, DIAG_EMPTY_ITEM_SET, n->span, "this selects no items at all; check the comparison",
                "no item can match `%s`: %s", check_span_text(c, n->span, text, sizeof text), why);
}

static int flip_op(int op)
{
    switch (op) {
    case OP_LT: return OP_GT;
    case OP_LE: return OP_GE;
    case OP_GT: return OP_LT;
    case OP_GE: return OP_LE;
    default: return op;
    }
}

/* A comparison of one item field with an item-independent value: 1 = fine, 0 = not expressible,
 * -1 = an error was reported. */
static int item_leaf_compare(check_ctx *c, ast_node *n, ast_node *field, ast_node *other)
{
    ast_type ft = field->elem_type;
    if (ft == TY_MONEY || ft == TY_INT || ft == TY_PERCENT) {
        int op = field == n->a ? n->op : flip_op(n->op);
        if (other->is_const && nonnegative_field(field->fact)) {
            int64_t v = other->value;
            if ((op == OP_LT && v <= 0) || (op == OP_LE && v < 0) || (op == OP_EQ && v < 0)) {
                char why[96];
                snprintf(why, sizeof why, "`%s` is never negative", field->name ? field->name : "it");
                warn_empty_set(c, n, why);
            }
        }
        return 1;
    }
    if (ft == TY_STRING || ft == TY_CATEGORY) {
        if (check_const_string(other) == NULL) {
            diag_report(c->diags, DIAG_NOT_CONSTANT, other->span,
                        "write the text out, e.g. `brand = \"Acme\"`",
                        "an item's %s can only be compared with a fixed text",
                        field->kind == AST_CALL ? "attribute" : (field->name ? field->name : "field"));
            return -1;
        }
        return n->op == OP_EQ || n->op == OP_NE;
    }
    return 0;
}

static void report_too_complex(check_ctx *c, const ast_node *n)
{
    char text[96];
    const char *hint;
    if (!check_item_dependent(n))
        hint = "this test does not depend on the item; move it to a `when` clause";
    else
        hint = "compare one item field with a value, e.g. `price >= ¥100` (a line's total is `amount`), "
               "and combine such tests with and, or, not";
    diag_report(c->diags, DIAG_ITEM_CONDITION_TOO_COMPLEX, n->span, hint,
                "item condition too complex: `%s` cannot be tested line by line",
                check_span_text(c, n->span, text, sizeof text));
}

/* Validates an item predicate already typed as bool. Returns false after reporting. */
static bool item_predicate(check_ctx *c, ast_node *n)
{
    if (n == NULL || n->type == TY_UNKNOWN) return true; /* reported already */
    if (n->kind == AST_UNARY && n->op == OP_NOT) return item_predicate(c, n->a);
    if (n->kind == AST_UNARY && (n->op == OP_IS_KNOWN || n->op == OP_IS_UNKNOWN)) return true; /* checked */
    /* `discounted`, `not discounted`: a yes/no item field is a test by itself */
    if (n->kind == AST_NAME && !n->decl && n->type == TY_ITEM_FIELD && n->fact == PERK_FIELD_DISCOUNTED) return true;
    if (n->kind == AST_BINARY && (n->op == OP_AND || n->op == OP_OR)) {
        bool l = item_predicate(c, n->a);
        bool r = item_predicate(c, n->b);
        return l && r;
    }
    if (n->kind == AST_BINARY && is_compare_op(n->op)) {
        bool fa = n->a->type == TY_ITEM_FIELD, fb = n->b->type == TY_ITEM_FIELD;
        if (fa != fb) {
            ast_node *field = fa ? n->a : n->b, *other = fa ? n->b : n->a;
            if (!check_item_dependent(other)) {
                int verdict = item_leaf_compare(c, n, field, other);
                if (verdict != 0) return verdict > 0;
            }
        }
    } else if (n->kind == AST_BINARY && (n->op == OP_IN || n->op == OP_NOT_IN)) {
        if (n->a->type == TY_ITEM_FIELD && !check_item_dependent(n->b)) {
            ast_node *b = n->b;
            if (b->type == TY_RANGE && b->kind == AST_RANGE && b->is_const && b->a && b->b &&
                compare_values(b->elem_type, b->a, b->b) > 0)
                warn_empty_set(c, n, "the range is empty");
            if (n->a->elem_type != TY_STRING_SET) return true;
        }
        if (n->b->type == TY_ITEM_FIELD && n->b->elem_type == TY_STRING_SET && !check_item_dependent(n->a))
            return true;
    }
    report_too_complex(c, n);
    return false;
}

/* Checks an item predicate in an item context (where, any, all): bool and line-by-line. */
static bool check_item_predicate(check_ctx *c, ast_node *pred, const char *where)
{
    c->item_depth++;
    ast_type t = check_expr(c, pred);
    c->item_depth--;
    if (t == TY_UNKNOWN) return false;
    if (check_vtype(pred) != TY_BOOL) {
        char text[96], ty[48], hint[200];
        if (pred->type == TY_ITEM_FIELD && pred->elem_type == TY_CATEGORY)
            snprintf(hint, sizeof hint, "write `category in \"tea\"`");
        else if (pred->type == TY_ITEM_FIELD && pred->elem_type == TY_STRING_SET)
            snprintf(hint, sizeof hint, "write `\"organic\" in %s`", pred->name ? pred->name : "tags");
        else
            snprintf(hint, sizeof hint, "write a test such as `price >= ¥100` or `category in \"tea\"`");
        diag_report(c->diags, DIAG_WRONG_TYPE, pred->span, hint,
                    "the condition %s must be true or false for each item; `%s` is %s", where,
                    check_span_text(c, pred->span, text, sizeof text),
                    check_node_type_text(pred, ty, sizeof ty));
        return false;
    }
    return item_predicate(c, pred);
}

static ast_type expr_where(check_ctx *c, ast_node *n)
{
    ast_type lt = check_expr(c, n->a);
    bool ok = true;
    if (lt != TY_UNKNOWN && lt != TY_ITEMS) {
        char text[96], ty[48];
        diag_report(c->diags, DIAG_WRONG_TYPE, n->a->span,
                    "start from `items` or a let holding items, e.g. `items where price > ¥10`",
                    "`where` picks items from a set, but `%s` is %s",
                    check_span_text(c, n->a->span, text, sizeof text),
                    check_node_type_text(n->a, ty, sizeof ty));
        ok = false;
    }
    if (!check_item_predicate(c, n->b, "after `where`")) ok = false;
    if (!ok || lt == TY_UNKNOWN) return TY_UNKNOWN;
    return n->type = TY_ITEMS;
}

static ast_type expr_set_op(check_ctx *c, ast_node *n)
{
    ast_type lt = check_expr(c, n->a), rt = check_expr(c, n->b);
    bool ok = lt != TY_UNKNOWN && rt != TY_UNKNOWN;
    ast_node *sides[2] = { n->a, n->b };
    for (int i = 0; i < 2; i++) {
        if (sides[i]->type == TY_UNKNOWN || sides[i]->type == TY_ITEMS) continue;
        char text[96], ty[48];
        diag_report(c->diags, DIAG_WRONG_TYPE, sides[i]->span,
                    "both sides must be item sets, e.g. `tea union coffee`",
                    "`%s` combines item sets, but `%s` is %s", n->op == OP_UNION ? "union" : "except",
                    check_span_text(c, sides[i]->span, text, sizeof text),
                    check_node_type_text(sides[i], ty, sizeof ty));
        ok = false;
    }
    return ok ? (n->type = TY_ITEMS) : TY_UNKNOWN;
}

/* ------------------------------------------------------------------------------------------ */
/* Builtin calls                                                                               */

typedef struct builtin {
    const char *name;
    int min_args, max_args;
    const char *usage;
} builtin;

static const builtin builtins[] = {
    { "sum", 1, 2, "sum(tea) or sum(tea, quantity)" },
    { "count", 1, 1, "count(tea)" },
    { "min", 2, 2, "min(tea, price)" },
    { "max", 2, 2, "max(tea, price)" },
    { "any", 1, 2, "any(tea) or any(tea, price >= ¥100)" },
    { "all", 2, 2, "all(tea, \"organic\" in tags)" },
    { "attr", 1, 1, "attr(\"origin\") = \"Yunnan\"" },
    { "order.attr", 1, 1, "order.attr(\"invoice\") = \"company\"" },
};

/* order.attr("key"): an order-level custom attribute, a text fact the cart may lack. */
static ast_type call_order_attr(check_ctx *c, ast_node *n)
{
    ast_node *key = n->list.items[0];
    ast_type t = check_expr(c, key);
    if (t == TY_UNKNOWN) return TY_UNKNOWN;
    const char *k = check_const_string(key);
    if (t != TY_STRING || k == NULL || k[0] == '\0') {
        diag_report(c->diags, DIAG_WRONG_ARGUMENTS, key->span, "name the attribute, e.g. order.attr(\"invoice\")",
                    "order.attr needs the attribute's name as a fixed, non-empty text");
        return TY_UNKNOWN;
    }
    n->fact = PERK_FACT_ORDER_ATTR;
    return n->type = TY_STRING;
}

static ast_type call_attr(check_ctx *c, ast_node *n)
{
    ast_node *key = n->list.items[0];
    char text[96], hint[200];
    ast_type t = check_expr(c, key);
    if (t == TY_UNKNOWN) return TY_UNKNOWN;
    const char *k = check_const_string(key);
    if (t != TY_STRING || k == NULL || k[0] == '\0') {
        diag_report(c->diags, DIAG_WRONG_ARGUMENTS, key->span, "name the attribute, e.g. attr(\"origin\")",
                    "attr needs the attribute's name as a fixed, non-empty text");
        return TY_UNKNOWN;
    }
    if (c->item_depth == 0) {
        snprintf(hint, sizeof hint, "use it to pick items, e.g. `items where %s = \"...\"`",
                 check_span_text(c, n->span, text, sizeof text));
        diag_report(c->diags, DIAG_ITEM_FIELD_OUTSIDE_WHERE, n->span, hint,
                    "item field `%s` is only meaningful inside `where`", text);
        return TY_UNKNOWN;
    }
    n->type = TY_ITEM_FIELD;
    n->elem_type = TY_STRING;
    n->fact = -1;
    return n->type;
}

static ast_type expr_call(check_ctx *c, ast_node *n)
{
    const char *name = n->name ? n->name : "";
    const builtin *b = NULL;
    for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++)
        if (strcmp(builtins[i].name, name) == 0) b = &builtins[i];
    char hint[240], text[96], ty[48];
    if (b == NULL) {
        suggest s;
        suggest_init(&s, name);
        for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++) suggest_add(&s, builtins[i].name);
        if (suggest_best(&s) != NULL)
            snprintf(hint, sizeof hint, "did you mean `%s`?", suggest_best(&s));
        else
            snprintf(hint, sizeof hint, "the functions are sum, count, min, max, any, all and attr");
        diag_report(c->diags, DIAG_UNKNOWN_FUNCTION, check_word_span(c, n->span, name), hint,
                    "unknown function `%s`", name);
        if (suggest_best(&s) != NULL)
            diag_fix_word(c->diags, check_word_span(c, n->span, name), name, suggest_best(&s));
        return TY_UNKNOWN;
    }
    int argc = n->list.count;
    if (argc < b->min_args || argc > b->max_args) {
        snprintf(hint, sizeof hint, "write it as %s", b->usage);
        if (b->min_args == b->max_args)
            diag_report(c->diags, DIAG_WRONG_ARGUMENTS, n->span, hint, "`%s` takes %d argument%s, not %d",
                        name, b->min_args, b->min_args == 1 ? "" : "s", argc);
        else
            diag_report(c->diags, DIAG_WRONG_ARGUMENTS, n->span, hint,
                        "`%s` takes %d or %d arguments, not %d", name, b->min_args, b->max_args, argc);
        return TY_UNKNOWN;
    }
    for (int i = 0; i < argc; i++)
        if (n->list.items[i] == NULL) return TY_UNKNOWN;
    if (strcmp(name, "attr") == 0) return call_attr(c, n);
    if (strcmp(name, "order.attr") == 0) return call_order_attr(c, n);

    /* every aggregate takes an item set first */
    ast_node *set = n->list.items[0];
    bool ok = check_item_set(c, set, "the first argument");
    if (strcmp(name, "count") == 0) return ok ? (n->type = TY_INT) : TY_UNKNOWN;
    if (strcmp(name, "any") == 0 || strcmp(name, "all") == 0) {
        if (argc == 2) {
            char where[64];
            snprintf(where, sizeof where, "of `%s`", name);
            if (!check_item_predicate(c, n->list.items[1], where)) ok = false;
        }
        return ok ? (n->type = TY_BOOL) : TY_UNKNOWN;
    }
    /* sum / min / max */
    if (argc == 1) /* sum(S): the current amounts */
        return ok ? (n->type = TY_MONEY) : TY_UNKNOWN;
    ast_node *field = n->list.items[1];
    c->item_depth++;
    ast_type ft = check_expr(c, field);
    c->item_depth--;
    if (ft == TY_UNKNOWN) return TY_UNKNOWN;
    if (ft != TY_ITEM_FIELD || field->kind == AST_CALL) {
        snprintf(hint, sizeof hint, "write it as %s", b->usage);
        diag_report(c->diags, DIAG_AGGREGATE_FIELD, field->span, hint,
                    "the second argument of `%s` must be an item field such as price or quantity, not `%s`",
                    name, check_span_text(c, field->span, text, sizeof text));
        return TY_UNKNOWN;
    }
    ast_type vt = field->elem_type;
    bool numeric = strcmp(name, "sum") == 0 ? (vt == TY_MONEY || vt == TY_INT)
                                            : (vt == TY_MONEY || vt == TY_INT || vt == TY_PERCENT);
    if (!numeric) {
        snprintf(hint, sizeof hint, "%s works on price, quantity, amount, original_amount%s", name,
                 strcmp(name, "sum") == 0 ? "" : " and margin");
        diag_report(c->diags, DIAG_AGGREGATE_FIELD, field->span, hint, "cannot take the %s of `%s` (%s)",
                    strcmp(name, "sum") == 0 ? "sum" : name, field->name ? field->name : "field",
                    check_type_text(vt, TY_UNKNOWN, ty, sizeof ty));
        return TY_UNKNOWN;
    }
    return ok ? (n->type = vt) : TY_UNKNOWN;
}

/* ------------------------------------------------------------------------------------------ */
/* The dispatcher                                                                              */

ast_type check_expr(check_ctx *c, ast_node *n)
{
    if (n == NULL) return TY_UNKNOWN;
    n->type = TY_UNKNOWN;
    n->elem_type = TY_UNKNOWN;
    n->is_const = false;
    n->value = 0;
    n->value2 = 0;
    switch (n->kind) {
    case AST_INT:
        if (n->num.scale != 0) {
            n->type = TY_DECIMAL;
            lit_fraction(c, n);
            return n->type;
        }
        n->type = TY_INT;
        n->is_const = true;
        n->value = n->num.mantissa;
        return n->type;
    case AST_DECIMAL:
        n->type = TY_DECIMAL;
        lit_fraction(c, n);
        return n->type;
    case AST_MULTIPLIER_LIT:
        n->type = TY_MULTIPLIER;
        if (lit_fraction(c, n) && n->value <= 0) {
            char text[96];
            diag_report(c->diags, DIAG_INVALID_MULTIPLIER, n->span,
                        "a multiplier must be more than zero, e.g. x2 or x1.5; to stop points, use a `when` "
                        "condition",
                        "`%s` would %s points", check_span_text(c, n->span, text, sizeof text),
                        n->value == 0 ? "wipe out all" : "take away");
            n->type = TY_UNKNOWN;
            n->is_const = false;
        }
        return n->type;
    case AST_MONEY: lit_money(c, n); return n->type;
    case AST_PERCENT: lit_percent(c, n); return n->type;
    case AST_STRING:
        n->type = TY_STRING;
        n->is_const = true;
        return n->type;
    case AST_TIME:
        if (n->ival >= 24 * 60 && !c->allow_24) {
            diag_report(c->diags, DIAG_TIME_24_NOT_END, n->span,
                        "write 00:00 for the start of a day, or 23:59", "24:00 can only end a time window");
            return TY_UNKNOWN;
        }
        n->type = TY_TIME;
        n->is_const = true;
        n->value = n->ival;
        return n->type;
    case AST_DATE:
        if (n->op > 0 && !c->allow_datetime) {
            diag_report(
                c->diags, DIAG_DATE_TIME_OUTSIDE_VALID, n->span,
                "compare `today` with a date, or bound the promotion with `valid DATE TIME to DATE TIME`",
                "a date with a time of day can only bound `valid`");
            return TY_UNKNOWN;
        }
        /* fall through */
    case AST_DURATION:
    case AST_WEEKDAY:
    case AST_BOOL:
        n->type = n->kind == AST_DATE       ? TY_DATE
                  : n->kind == AST_DURATION ? TY_DURATION
                  : n->kind == AST_WEEKDAY  ? TY_WEEKDAY
                                            : TY_BOOL;
        n->is_const = true;
        n->value = n->ival;
        return n->type;
    case AST_LIST: return n->type = expr_list(c, n);
    case AST_NAME: return n->type = check_name(c, n);
    case AST_FIELD: return n->type = check_fact(c, n);
    case AST_ITEMS: return n->type = TY_ITEMS;
    case AST_UNARY: return n->type = expr_unary(c, n);
    case AST_BINARY:
        switch (n->op) {
        case OP_AND:
        case OP_OR: return n->type = expr_logic(c, n);
        case OP_IN:
        case OP_NOT_IN: return n->type = expr_in(c, n);
        case OP_UNION:
        case OP_EXCEPT: return n->type = expr_set_op(c, n);
        case OP_ADD:
        case OP_SUB:
        case OP_MUL:
        case OP_DIV:
        case OP_MOD: {
            ast_type t = expr_arith(c, n);
            if (t == TY_UNKNOWN) n->is_const = false;
            return n->type = t;
        }
        default:
            if (is_compare_op(n->op)) return n->type = expr_compare(c, n);
            return TY_UNKNOWN;
        }
    case AST_RANGE: return n->type = check_range(c, n);
    case AST_WHERE: return n->type = expr_where(c, n);
    case AST_CALL: return n->type = expr_call(c, n);
    default: return TY_UNKNOWN; /* not an expression */
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Expectations used by the declarations                                                       */

bool check_condition(check_ctx *c, ast_node *n)
{
    if (check_expr(c, n) == TY_UNKNOWN) return false;
    if (check_vtype(n) == TY_BOOL) return true;
    char text[96], ty[48], hint[240], s1[96];
    check_span_text(c, n->span, text, sizeof text);
    if (n->type == TY_ITEMS)
        snprintf(hint, sizeof hint, "test the set, e.g. `any(%s)` or `sum(%s) >= %s`", text, text,
                 check_money_example(c, "100", s1, sizeof s1));
    else if (n->type == TY_MONEY)
        snprintf(hint, sizeof hint, "compare it, e.g. `%s >= %s`", text,
                 check_money_example(c, "100", s1, sizeof s1));
    else
        snprintf(hint, sizeof hint, "compare it with a value, e.g. `%s = ...`", text);
    diag_report(c->diags, DIAG_WRONG_TYPE, n->span, hint, "a condition must be true or false, but `%s` is %s",
                text, check_node_type_text(n, ty, sizeof ty));
    return false;
}

bool check_item_set(check_ctx *c, ast_node *n, const char *what)
{
    if (check_expr(c, n) == TY_UNKNOWN) return false;
    if (n->type == TY_ITEMS) return true;
    char text[96], ty[48];
    diag_report(c->diags, DIAG_WRONG_TYPE, n->span,
                "e.g. `items`, `order`, or `items where category in \"tea\"`",
                "%s must be a set of items, but `%s` is %s", what,
                check_span_text(c, n->span, text, sizeof text), check_node_type_text(n, ty, sizeof ty));
    return false;
}

bool check_expect_constant(check_ctx *c, ast_node *n, ast_type want, const char *what)
{
    if (n == NULL || n->type == TY_UNKNOWN) return false;
    char text[96], ty[48], wt[48], hint[200], ex[96];
    check_span_text(c, n->span, text, sizeof text);
    if (n->type != want) {
        if (n->kind == AST_INT && want == TY_MONEY)
            snprintf(hint, sizeof hint, "write %s", check_money_example(c, text, ex, sizeof ex));
        else if (n->kind == AST_INT && want == TY_PERCENT)
            snprintf(hint, sizeof hint, "write %s%%", text);
        else if (n->kind == AST_INT && want == TY_DURATION)
            snprintf(hint, sizeof hint, "write `%s days`", text);
        else if (n->type == TY_MONEY && want == TY_INT)
            snprintf(hint, sizeof hint, "this counts units or points, not money: write a plain number");
        else
            snprintf(hint, sizeof hint, "write a %s here", check_type_text(want, TY_UNKNOWN, wt, sizeof wt));
        diag_report(c->diags, DIAG_WRONG_TYPE, n->span, hint, "%s must be %s, but `%s` is %s", what,
                    check_type_text(want, TY_UNKNOWN, wt, sizeof wt), text,
                    check_node_type_text(n, ty, sizeof ty));
        fix_int_literal(c, n, want);
        return false;
    }
    if (!n->is_const) {
        diag_report(c->diags, DIAG_NOT_CONSTANT, n->span,
                    "write a fixed value, or a `let` that holds one; checkout facts cannot be used here",
                    "%s must be a fixed value, but `%s` is only known at checkout", what, text);
        return false;
    }
    return true;
}

bool check_constant(check_ctx *c, ast_node *n, ast_type want, const char *what)
{
    if (n == NULL || check_expr(c, n) == TY_UNKNOWN) return false;
    return check_expect_constant(c, n, want, what);
}
