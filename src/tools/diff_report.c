/* diff_report.c - renders a diff_report (src/tools/diff.h) as text tables or as one JSON document.
 *
 * Both renderers print only what the report holds, in its order, so that the output does not
 * depend on how many threads produced the report.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "diff.h"
#include "json/json.h"
#include "money.h"

enum { OLD = 0, NEW = 1 };

static const char *const stage_text[] = { "parse", "OLD", "NEW" };
static const char *const change_names[] = { "started", "stopped", "amount", "added", "removed" };

static const char *symbol_of(const diff_report *r)
{
    const money_currency *c = money_currency_find(r->currency);
    return c ? c->symbol : NULL;
}

static bool exponent_ok(const diff_report *r)
{
    return r->exponent >= 0 && r->exponent <= MONEY_MAX_EXPONENT;
}

/* "¥12.30" (symbol NULL: "12.30"). */
static void fmt_money(const diff_report *r, int64_t v, const char *symbol, char *buf, size_t cap)
{
    if (exponent_ok(r))
        money_format(v, r->exponent, symbol, buf, cap);
    else
        snprintf(buf, cap, "%" PRId64, v);
}

/* b - a with a sign: "+¥1.00", "-¥1.00", "¥0.00"; "overflow" when it does not fit. In JSON
 * (plus = false) no plus sign. Returns false on overflow. */
static bool fmt_money_delta(const diff_report *r, int64_t a, int64_t b, const char *symbol, bool plus,
                            char *buf, size_t cap)
{
    int64_t d;
    if (__builtin_sub_overflow(b, a, &d)) {
        snprintf(buf, cap, "overflow");
        return false;
    }
    size_t sign = plus && d > 0 && cap > 1 ? 1 : 0;
    if (sign) buf[0] = '+';
    fmt_money(r, d, symbol, buf + sign, cap - sign);
    return true;
}

static void fmt_int_delta(int64_t a, int64_t b, char *buf, size_t cap)
{
    int64_t d;
    if (__builtin_sub_overflow(b, a, &d))
        snprintf(buf, cap, "overflow");
    else
        snprintf(buf, cap, "%s%" PRId64, d > 0 ? "+" : "", d);
}

static int64_t promo_cost(const diff_promotion *p, int side)
{
    int64_t c;
    return __builtin_add_overflow(p->discount[side], p->shipping[side], &c) ? INT64_MAX : c;
}

/* ------------------------------------------------------------------ text tables */

/* Cells are aligned by display width (CJK labels take two columns per character). A row may
 * carry free text printed under it (an order's changes). */
typedef struct text_table {
    size_t cols;
    const char *align; /* 'l' or 'r' per column */
    char **cells;
    size_t n, cap;
    char **after; /* per row: text printed under it, or NULL */
    size_t n_after;
    bool oom;
} text_table;

static void cell(text_table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void cell(text_table *t, const char *fmt, ...)
{
    if (t->oom) return;
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 32;
        char **nc = realloc(t->cells, cap * sizeof *nc);
        if (!nc) {
            t->oom = true;
            return;
        }
        t->cells = nc;
        t->cap = cap;
    }
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = len >= 0 ? malloc((size_t)len + 1) : NULL;
    if (!s) {
        t->oom = true;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(s, (size_t)len + 1, fmt, ap);
    va_end(ap);
    t->cells[t->n++] = s;
}

/* Appends a line of free text under the last row. */
static void note(text_table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(text_table *t, const char *fmt, ...)
{
    if (t->oom || t->n == 0) return;
    size_t row = (t->n - 1) / t->cols;
    if (row >= t->n_after) {
        char **na = realloc(t->after, (row + 1) * sizeof *na);
        if (!na) {
            t->oom = true;
            return;
        }
        for (size_t i = t->n_after; i <= row; i++) na[i] = NULL;
        t->after = na;
        t->n_after = row + 1;
    }
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    size_t old = t->after[row] ? strlen(t->after[row]) : 0, add = strlen(line);
    char *s = realloc(t->after[row], old + add + 2);
    if (!s) {
        t->oom = true;
        return;
    }
    memcpy(s + old, line, add);
    s[old + add] = '\n';
    s[old + add + 1] = '\0';
    t->after[row] = s;
}

static void table_print(FILE *out, const text_table *t, const char *indent)
{
    if (t->oom) {
        fprintf(out, "%s(out of memory)\n", indent);
        return;
    }
    size_t width[16] = { 0 };
    if (t->cols == 0 || t->cols > sizeof width / sizeof width[0]) return;
    for (size_t i = 0; i < t->n; i++) {
        size_t w = explain_display_width(t->cells[i]);
        if (w > width[i % t->cols]) width[i % t->cols] = w;
    }
    for (size_t row = 0; row * t->cols < t->n; row++) {
        fputs(indent, out);
        size_t last = t->cols - 1;
        /* the last non-empty cell ends the line: no trailing spaces */
        while (last > 0 && (row * t->cols + last >= t->n || !*t->cells[row * t->cols + last])) last--;
        for (size_t c = 0; c <= last; c++) {
            const char *s = t->cells[row * t->cols + c];
            size_t pad = width[c] - explain_display_width(s);
            if (t->align[c] == 'r')
                fprintf(out, "%*s%s", (int)pad, "", s);
            else
                fprintf(out, "%s%*s", s, c == last ? 0 : (int)pad, "");
            if (c < last) fputs("  ", out);
        }
        fputc('\n', out);
        if (row < t->n_after && t->after[row]) fputs(t->after[row], out);
    }
}

static void table_free(text_table *t)
{
    for (size_t i = 0; i < t->n; i++) free(t->cells[i]);
    for (size_t i = 0; i < t->n_after; i++) free(t->after[i]);
    free(t->cells);
    free(t->after);
}

/* ------------------------------------------------------------------ text */

static void print_counts(FILE *out, const diff_report *r)
{
    fprintf(out, "Orders\n");
    text_table t = { .cols = 3, .align = "lrl" };
    cell(&t, "lines");
    cell(&t, "%" PRIu64, r->lines);
    cell(&t, "%s", r->lines != r->orders ? "(blank lines are skipped)" : "");
    cell(&t, "orders");
    cell(&t, "%" PRIu64, r->orders);
    cell(&t, "%s", "");
    cell(&t, "compared");
    cell(&t, "%" PRIu64, r->compared);
    cell(&t, "%s", "evaluated under both versions; only these count in the totals");
    cell(&t, "payable changed");
    cell(&t, "%" PRIu64, r->changed);
    cell(&t, "%s", "");
    cell(&t, "not parsed");
    cell(&t, "%" PRIu64, r->parse_failed);
    cell(&t, "%s", "");
    cell(&t, "not evaluated");
    cell(&t, "%" PRIu64, r->eval_failed);
    cell(&t, "(OLD %" PRIu64 ", NEW %" PRIu64 ")", r->failed[OLD], r->failed[NEW]);
    table_print(out, &t, "  ");
    table_free(&t);

    if (r->n_failures == 0) return;
    uint64_t all = r->parse_failed + r->failed[OLD] + r->failed[NEW];
    fprintf(out, "\nFailures");
    if (all > r->n_failures) fprintf(out, " (the first %zu of %" PRIu64 ")", r->n_failures, all);
    fputc('\n', out);
    text_table f = { .cols = 3, .align = "lll" };
    for (size_t i = 0; i < r->n_failures; i++) {
        const diff_failure *x = &r->failures[i];
        cell(&f, "line %" PRIu64, x->line);
        cell(&f, "%s", x->stage <= DIFF_STAGE_NEW ? stage_text[x->stage] : "?");
        cell(&f, "%s", x->message ? x->message : "");
    }
    table_print(out, &f, "  ");
    table_free(&f);
}

static void print_totals(FILE *out, const diff_report *r, const char *sym)
{
    fprintf(out, "\nTotals (%s)\n", r->currency ? r->currency : "?");
    text_table t = { .cols = 4, .align = "lrrr" };
    cell(&t, "%s", "");
    cell(&t, "OLD");
    cell(&t, "NEW");
    cell(&t, "change");
    const diff_totals *a = &r->totals[OLD], *b = &r->totals[NEW];
    struct {
        const char *name;
        int64_t old, new;
        bool money;
    } rows[] = {
        { "discount", a->discount, b->discount, true },
        { "shipping discount", a->shipping_discount, b->shipping_discount, true },
        { "points earned", a->points_earned, b->points_earned, false },
        { "points redeemed", a->points_redeemed, b->points_redeemed, false },
        { "payable", a->payable, b->payable, true },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char x[64], y[64], d[64];
        if (rows[i].money) {
            fmt_money(r, rows[i].old, sym, x, sizeof x);
            fmt_money(r, rows[i].new, sym, y, sizeof y);
            fmt_money_delta(r, rows[i].old, rows[i].new, sym, true, d, sizeof d);
        } else {
            snprintf(x, sizeof x, "%" PRId64, rows[i].old);
            snprintf(y, sizeof y, "%" PRId64, rows[i].new);
            fmt_int_delta(rows[i].old, rows[i].new, d, sizeof d);
        }
        cell(&t, "%s", rows[i].name);
        cell(&t, "%s", x);
        cell(&t, "%s", y);
        cell(&t, "%s", d);
    }
    table_print(out, &t, "  ");
    table_free(&t);
}

static void print_promotions(FILE *out, const diff_report *r, const char *sym)
{
    if (r->n_promotions == 0) return;
    fprintf(out, "\nPromotions (cost = discount + shipping discount)\n");
    text_table t = { .cols = 7, .align = "lrrrrrl" };
    const char *head[] = { "", "OLD applied", "OLD cost", "NEW applied", "NEW cost", "change", "" };
    for (size_t i = 0; i < 7; i++) cell(&t, "%s", head[i]);
    for (size_t i = 0; i < r->n_promotions; i++) {
        const diff_promotion *p = &r->promotions[i];
        bool has[2] = { p->old_index >= 0, p->new_index >= 0 };
        cell(&t, "%s%s", p->id ? p->id : "?", !has[OLD] ? " (new)" : !has[NEW] ? " (removed)" : "");
        for (int s = OLD; s <= NEW; s++) {
            char m[64];
            fmt_money(r, promo_cost(p, s), sym, m, sizeof m);
            if (has[s]) {
                cell(&t, "%" PRId64, p->applied[s]);
                cell(&t, "%s", m);
            } else {
                cell(&t, "-");
                cell(&t, "-");
            }
        }
        char d[64];
        fmt_money_delta(r, promo_cost(p, OLD), promo_cost(p, NEW), sym, true, d, sizeof d);
        cell(&t, "%s", d);
        cell(&t, "%s", p->label ? p->label : "");
    }
    table_print(out, &t, "  ");
    table_free(&t);
}

static void print_change(text_table *t, const diff_report *r, const diff_change *c, const char *sym)
{
    char a[64], b[64];
    fmt_money(r, c->old_amount, sym, a, sizeof a);
    fmt_money(r, c->new_amount, sym, b, sizeof b);
    const char *id = c->promotion ? c->promotion : "?";
    const char *why = c->reason ? c->reason : "";
    switch (c->kind) {
    case DIFF_AMOUNT: note(t, "      %s: %s -> %s", id, a, b); break;
    case DIFF_STARTED:
        if (c->new_amount)
            note(t, "      %s: now applies (%s); under OLD: %s", id, b, why);
        else
            note(t, "      %s: now applies; under OLD: %s", id, why);
        break;
    case DIFF_STOPPED:
        if (c->old_amount)
            note(t, "      %s: no longer applies (was %s): %s", id, a, why);
        else
            note(t, "      %s: no longer applies: %s", id, why);
        break;
    case DIFF_ADDED: note(t, "      %s (new): %s", id, b); break;
    case DIFF_REMOVED: note(t, "      %s (removed): was %s", id, a); break;
    }
}

static void print_top(FILE *out, const diff_report *r, const char *sym)
{
    if (r->n_top == 0) {
        if (r->changed == 0 && r->compared > 0) fprintf(out, "\nNo order's payable changed.\n");
        return;
    }
    fprintf(out, "\nTop %zu orders by payable change\n", r->n_top);
    text_table t = { .cols = 5, .align = "lrlrr" };
    for (size_t i = 0; i < r->n_top; i++) {
        const diff_order *o = &r->top[i];
        char a[64], b[64], d[64];
        fmt_money(r, o->old_payable, sym, a, sizeof a);
        fmt_money(r, o->new_payable, sym, b, sizeof b);
        fmt_money_delta(r, o->old_payable, o->new_payable, sym, true, d, sizeof d);
        if (o->id)
            cell(&t, "%s (line %" PRIu64 ")", o->id, o->line);
        else
            cell(&t, "line %" PRIu64, o->line);
        cell(&t, "%s", a);
        cell(&t, "->");
        cell(&t, "%s", b);
        cell(&t, "%s", d);
        for (size_t k = 0; k < o->n_changes; k++) print_change(&t, r, &o->changes[k], sym);
        if (o->n_changes == 0)
            note(&t, "      no promotion applied differently (points redeemed or rounding)");
    }
    table_print(out, &t, "  ");
    table_free(&t);
}

void diff_report_print(FILE *out, const diff_report *report, const char *old_name, const char *new_name)
{
    if (!out || !report) return;
    const char *sym = symbol_of(report);
    fprintf(out, "OLD  %s\nNEW  %s\n\n", old_name ? old_name : "?", new_name ? new_name : "?");
    print_counts(out, report);
    print_totals(out, report, sym);
    print_promotions(out, report, sym);
    print_top(out, report, sym);
}

/* ------------------------------------------------------------------ JSON */

/* Builds with jansson; any failed allocation marks the build as failed (checked at the end). */
typedef struct jbuild {
    const diff_report *r;
    bool oom;
} jbuild;

static void put(jbuild *b, json_t *obj, const char *key, json_t *value)
{
    if (!value || !obj || json_object_set_new(obj, key, value) != 0) b->oom = true;
}

static void push(jbuild *b, json_t *arr, json_t *value)
{
    if (!value || !arr || json_array_append_new(arr, value) != 0) b->oom = true;
}

static json_t *jmoney(const jbuild *b, int64_t v)
{
    char m[64];
    fmt_money(b->r, v, NULL, m, sizeof m);
    return json_string(m);
}

static json_t *jmoney_delta(const jbuild *b, int64_t a, int64_t c)
{
    char m[64];
    return fmt_money_delta(b->r, a, c, NULL, false, m, sizeof m) ? json_string(m) : json_null();
}

static json_t *jint_delta(int64_t a, int64_t c)
{
    int64_t d;
    return __builtin_sub_overflow(c, a, &d) ? json_null() : json_integer(d);
}

static json_t *jcount(uint64_t v)
{
    return json_integer(v > (uint64_t)INT64_MAX ? INT64_MAX : (json_int_t)v);
}

static json_t *json_totals(jbuild *b, const diff_totals *t)
{
    json_t *o = json_object();
    put(b, o, "discount", jmoney(b, t->discount));
    put(b, o, "shipping_discount", jmoney(b, t->shipping_discount));
    put(b, o, "points_earned", json_integer(t->points_earned));
    put(b, o, "points_redeemed", json_integer(t->points_redeemed));
    put(b, o, "payable", jmoney(b, t->payable));
    return o;
}

static json_t *json_promotion_side(jbuild *b, const diff_promotion *p, int side)
{
    if ((side == OLD ? p->old_index : p->new_index) < 0) return json_null();
    json_t *o = json_object();
    put(b, o, "applied", json_integer(p->applied[side]));
    put(b, o, "discount", jmoney(b, p->discount[side]));
    put(b, o, "shipping_discount", jmoney(b, p->shipping[side]));
    put(b, o, "cost", jmoney(b, promo_cost(p, side)));
    return o;
}

static json_t *json_order(jbuild *b, const diff_order *o)
{
    json_t *j = json_object();
    put(b, j, "line", jcount(o->line));
    put(b, j, "id", o->id ? json_string(o->id) : json_null());
    put(b, j, "old_payable", jmoney(b, o->old_payable));
    put(b, j, "new_payable", jmoney(b, o->new_payable));
    put(b, j, "delta", jmoney_delta(b, o->old_payable, o->new_payable));
    json_t *changes = json_array();
    for (size_t i = 0; i < o->n_changes; i++) {
        const diff_change *c = &o->changes[i];
        json_t *x = json_object();
        bool has_old = c->kind != DIFF_ADDED, has_new = c->kind != DIFF_REMOVED;
        put(b, x, "promotion", json_string(c->promotion ? c->promotion : "?"));
        put(b, x, "change", json_string(c->kind <= DIFF_REMOVED ? change_names[c->kind] : "?"));
        put(b, x, "old", has_old ? jmoney(b, c->old_amount) : json_null());
        put(b, x, "new", has_new ? jmoney(b, c->new_amount) : json_null());
        put(b, x, "reason", c->reason ? json_string(c->reason) : json_null());
        push(b, changes, x);
    }
    put(b, j, "changes", changes);
    return j;
}

char *diff_report_json(const diff_report *report, const char *old_name, const char *new_name)
{
    if (!report) return NULL;
    jbuild b = { .r = report };
    const diff_report *r = report;
    json_t *root = json_object();
    put(&b, root, "old", json_string(old_name ? old_name : ""));
    put(&b, root, "new", json_string(new_name ? new_name : ""));
    put(&b, root, "currency", json_string(r->currency ? r->currency : ""));

    json_t *orders = json_object();
    put(&b, orders, "lines", jcount(r->lines));
    put(&b, orders, "orders", jcount(r->orders));
    put(&b, orders, "compared", jcount(r->compared));
    put(&b, orders, "changed", jcount(r->changed));
    put(&b, orders, "parse_failed", jcount(r->parse_failed));
    put(&b, orders, "eval_failed", jcount(r->eval_failed));
    put(&b, orders, "old_failed", jcount(r->failed[OLD]));
    put(&b, orders, "new_failed", jcount(r->failed[NEW]));
    put(&b, root, "orders", orders);

    json_t *failures = json_array();
    for (size_t i = 0; i < r->n_failures; i++) {
        json_t *f = json_object();
        put(&b, f, "line", jcount(r->failures[i].line));
        put(&b, f, "stage",
            json_string(r->failures[i].stage == DIFF_STAGE_PARSE ? "parse"
                        : r->failures[i].stage == DIFF_STAGE_OLD ? "old"
                                                                 : "new"));
        put(&b, f, "message", json_string(r->failures[i].message ? r->failures[i].message : ""));
        push(&b, failures, f);
    }
    put(&b, root, "failures", failures);

    json_t *totals = json_object();
    put(&b, totals, "old", json_totals(&b, &r->totals[OLD]));
    put(&b, totals, "new", json_totals(&b, &r->totals[NEW]));
    json_t *delta = json_object();
    const diff_totals *x = &r->totals[OLD], *y = &r->totals[NEW];
    put(&b, delta, "discount", jmoney_delta(&b, x->discount, y->discount));
    put(&b, delta, "shipping_discount", jmoney_delta(&b, x->shipping_discount, y->shipping_discount));
    put(&b, delta, "points_earned", jint_delta(x->points_earned, y->points_earned));
    put(&b, delta, "points_redeemed", jint_delta(x->points_redeemed, y->points_redeemed));
    put(&b, delta, "payable", jmoney_delta(&b, x->payable, y->payable));
    put(&b, totals, "delta", delta);
    put(&b, root, "totals", totals);

    json_t *promos = json_array();
    for (size_t i = 0; i < r->n_promotions; i++) {
        const diff_promotion *p = &r->promotions[i];
        json_t *j = json_object();
        put(&b, j, "id", json_string(p->id ? p->id : "?"));
        put(&b, j, "label", p->label ? json_string(p->label) : json_null());
        put(&b, j, "in", json_string(p->old_index < 0 ? "new" : p->new_index < 0 ? "old" : "both"));
        put(&b, j, "old", json_promotion_side(&b, p, OLD));
        put(&b, j, "new", json_promotion_side(&b, p, NEW));
        json_t *d = json_object();
        put(&b, d, "applied", jint_delta(p->applied[OLD], p->applied[NEW]));
        put(&b, d, "cost", jmoney_delta(&b, promo_cost(p, OLD), promo_cost(p, NEW)));
        put(&b, j, "delta", d);
        push(&b, promos, j);
    }
    put(&b, root, "promotions", promos);

    json_t *top = json_array();
    for (size_t i = 0; i < r->n_top; i++) push(&b, top, json_order(&b, &r->top[i]));
    put(&b, root, "top", top);

    char *text = b.oom ? NULL : json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    return text;
}
