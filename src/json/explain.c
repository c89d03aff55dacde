/* explain.c - prints a perk_result as aligned text tables for `perk eval --explain`.
 *
 * Output is built cell by cell into small tables whose columns are padded by display width (not
 * bytes), so that 会员日 counts as 6 columns and ¥ as 1.
 */
#include "explain.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "money.h"

/* ------------------------------------------------------------------ display width */

static int char_width(uint32_t c)
{
    if (c < 0x20 || (c >= 0x7F && c < 0xA0)) return 0;
    if ((c >= 0x300 && c <= 0x36F) || (c >= 0x200B && c <= 0x200F) || (c >= 0x20D0 && c <= 0x20FF) ||
        (c >= 0xFE00 && c <= 0xFE0F))
        return 0;
    if ((c >= 0x1100 && c <= 0x115F) || (c >= 0x2E80 && c <= 0x303E) || (c >= 0x3041 && c <= 0x33FF) ||
        (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0xA000 && c <= 0xA4CF) ||
        (c >= 0xAC00 && c <= 0xD7A3) || (c >= 0xF900 && c <= 0xFAFF) || (c >= 0xFE30 && c <= 0xFE4F) ||
        (c >= 0xFF00 && c <= 0xFF60) || (c >= 0xFFE0 && c <= 0xFFE6) || (c >= 0x1F300 && c <= 0x1F64F) ||
        (c >= 0x1F900 && c <= 0x1F9FF) || (c >= 0x20000 && c <= 0x3FFFD))
        return 2;
    return 1;
}

size_t explain_display_width(const char *s)
{
    size_t w = 0;
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    while (*p) {
        unsigned char c = *p;
        size_t len = c < 0x80             ? 1
                     : (c & 0xE0) == 0xC0 ? 2
                     : (c & 0xF0) == 0xE0 ? 3
                     : (c & 0xF8) == 0xF0 ? 4
                                          : 0;
        uint32_t cp = len == 1 ? c : len == 2 ? c & 0x1F : len == 3 ? c & 0x0F : c & 0x07;
        bool ok = len > 0;
        for (size_t k = 1; ok && k < len; k++) {
            if ((p[k] & 0xC0) != 0x80)
                ok = false;
            else
                cp = (cp << 6) | (p[k] & 0x3F);
        }
        if (!ok) { /* an invalid byte shows as one replacement character */
            w++;
            p++;
            continue;
        }
        w += (size_t)char_width(cp);
        p += len;
    }
    return w;
}

/* ------------------------------------------------------------------ tables */

typedef struct table {
    size_t cols;
    const char *align; /* one 'l' or 'r' per column */
    char **cells;      /* row-major; NULL cells print as empty */
    size_t n, cap;
} table;

static void table_cell(table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void table_cell(table *t, const char *fmt, ...)
{
    if (t->n == t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 64;
        char **nc = realloc(t->cells, ncap * sizeof *nc);
        if (!nc) return; /* out of memory: the cell is dropped, the table prints short */
        t->cells = nc;
        t->cap = ncap;
    }
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    t->cells[t->n++] = strdup(buf);
}

/* A cell starting with a ✓ or ✗ mark gets the mark colored (green/red) when asked. */
static void print_cell(FILE *out, const char *cell, bool color)
{
    static const char ok[] = "✓", no[] = "✗";
    size_t n = sizeof ok - 1; /* both marks are 3 bytes of UTF-8 */
    if (color && (strncmp(cell, ok, n) == 0 || strncmp(cell, no, n) == 0)) {
        fprintf(out, "\033[%sm%.*s\033[0m%s", cell[2] == ok[2] ? "32" : "31", (int)n, cell, cell + n);
        return;
    }
    fputs(cell, out);
}

/* Prints the rows indented by two spaces, columns separated by two spaces; the last column is
 * not padded, trailing empty cells print nothing, and columns empty in every row are left out. */
static void table_print(FILE *out, table *t, bool color)
{
    size_t rows = t->n / t->cols;
    size_t *width = calloc(t->cols, sizeof *width);
    if (!width) return;
    for (size_t i = 0; i < rows * t->cols; i++) {
        size_t w = explain_display_width(t->cells[i]);
        if (w > width[i % t->cols]) width[i % t->cols] = w;
    }
    for (size_t r = 0; r < rows; r++) {
        char **row = t->cells + r * t->cols;
        size_t last = t->cols;
        while (last > 0 && (!row[last - 1] || !row[last - 1][0])) last--;
        fputs("  ", out);
        bool first = true;
        for (size_t c = 0; c < last; c++) {
            if (width[c] == 0) continue; /* a column empty in every row takes no room */
            const char *cell = row[c] ? row[c] : "";
            size_t pad = width[c] - explain_display_width(cell);
            if (!first) fputs("  ", out);
            first = false;
            if (t->align[c] == 'r') fprintf(out, "%*s", (int)pad, "");
            print_cell(out, cell, color);
            if (t->align[c] != 'r' && c + 1 < last) fprintf(out, "%*s", (int)pad, "");
        }
        fputc('\n', out);
    }
    free(width);
}

static void table_free(table *t)
{
    for (size_t i = 0; i < t->n; i++) free(t->cells[i]);
    free(t->cells);
}

/* ------------------------------------------------------------------ the explanation */

typedef struct explainer {
    FILE *out;
    const result_names *names;
    const perk_result *r;
    const cart_doc *doc;
    const char *symbol;
    bool color;
} explainer;

static void money(const explainer *e, int64_t minor, char *buf, size_t cap)
{
    money_format(minor, e->r->exponent, e->symbol, buf, cap);
}

/* "1" (the line's id) or "#1" (1-based position when the line has no id). */
static void line_label(const explainer *e, uint32_t i, char *buf, size_t cap)
{
    if (e->doc && i < e->doc->n_lines && e->doc->lines[i].id)
        snprintf(buf, cap, "%s", e->doc->lines[i].id);
    else
        snprintf(buf, cap, "#%" PRIu32, i + 1);
}

static bool allocations_valid(const perk_result *r, const perk_line_result *lr)
{
    return r->allocations && lr->first_allocation <= r->n_allocations &&
           lr->n_allocations <= r->n_allocations - lr->first_allocation;
}

static const perk_gift *gift_of(const perk_result *r, uint32_t promotion)
{
    for (uint32_t i = 0; r->gifts && i < r->n_gifts; i++)
        if (r->gifts[i].promotion == promotion) return &r->gifts[i];
    return NULL;
}

static void print_lines(const explainer *e)
{
    const perk_result *r = e->r;
    table t = { .cols = 7, .align = "lllrrrr" };
    table_cell(&t, "Line");
    table_cell(&t, "SKU");
    table_cell(&t, "Name");
    table_cell(&t, "Qty");
    table_cell(&t, "Original");
    table_cell(&t, "Discount");
    table_cell(&t, "Final");
    for (uint32_t i = 0; r->lines && i < r->n_lines; i++) {
        const perk_line_result *lr = &r->lines[i];
        const perk_line *in = e->doc && i < e->doc->n_lines ? &e->doc->lines[i] : NULL;
        char label[64], a[48], b[48], c[48];
        line_label(e, i, label, sizeof label);
        money(e, lr->original, a, sizeof a);
        int64_t off;
        if (__builtin_sub_overflow(lr->final, lr->original, &off)) off = 0;
        money(e, off, b, sizeof b);
        money(e, lr->final, c, sizeof c);
        const perk_gift *g = lr->is_gift ? gift_of(r, lr->gift_promotion) : NULL;
        char pid[24];
        table_cell(&t, "%s", label);
        table_cell(&t, "%s", in ? in->sku : g && g->sku ? g->sku : "");
        if (lr->is_gift)
            table_cell(&t, "%s%sgift of %s", g && g->name ? g->name : "", g && g->name ? ", " : "",
                       result_promotion_id(e->names, lr->gift_promotion, pid, sizeof pid));
        else
            table_cell(&t, "%s", in && in->name ? in->name : "");
        if (in)
            table_cell(&t, "%" PRId64, in->quantity);
        else if (g)
            table_cell(&t, "%" PRId64, g->quantity);
        else
            table_cell(&t, "%s", "");
        table_cell(&t, "%s", a);
        table_cell(&t, "%s", off ? b : "");
        table_cell(&t, "%s", c);
    }
    fputs("Lines\n", e->out);
    table_print(e->out, &t, false);
    table_free(&t);
}

/* "-¥12.80 on lines 1, 2; -¥12.00 shipping; gift TEA-SAMPLE ×1" */
static void applied_detail(const explainer *e, const perk_promotion_result *pr, char *buf, size_t cap)
{
    const perk_result *r = e->r;
    size_t n = 0;
    buf[0] = '\0';
#define ADD(...)                                              \
    do {                                                      \
        if (n < cap) {                                        \
            int w_ = snprintf(buf + n, cap - n, __VA_ARGS__); \
            n += w_ > 0 ? (size_t)w_ : 0;                     \
        }                                                     \
    } while (0)
    char m[48];
    /* a discount written as a 折 shows what it means: "95折 (5% off): -¥12.80 on line #1" */
    const char *note = e->names && e->names->promotion_notes && pr->promotion < e->names->n_promotions
                           ? e->names->promotion_notes[pr->promotion]
                           : NULL;
    if (note) ADD("%s: ", note);
    size_t start = n; /* what follows the note */
    bool per_sku = e->names && e->names->promotion_per_sku && pr->promotion < e->names->n_promotions &&
                   e->names->promotion_per_sku[pr->promotion] && e->doc && e->doc->n_lines <= r->n_lines;
    if (pr->discount && per_sku) {
        /* pairs within one SKU: "-¥28.00: TEA-A -¥14.00 on line #2; TEA-B -¥14.00 on line #3" */
        money(e, -pr->discount, m, sizeof m);
        ADD("%s:", m);
        size_t skus = 0, nl = e->doc->n_lines; /* the cart's lines: gift lines come after them */
        for (uint32_t i = 0; i < nl && skus < 8; i++) {
            const char *sku = e->doc->lines[i].sku; /* required by the cart's JSON */
            bool seen = sku == NULL;
            for (uint32_t j = 0; j < i && !seen; j++)
                seen = e->doc->lines[j].sku && strcmp(e->doc->lines[j].sku, sku) == 0;
            if (seen) continue;
            int64_t sum = 0;
            uint32_t hits = 0;
            for (int pass = 0; pass < 2; pass++) {
                for (uint32_t j = i; j < nl; j++) {
                    const perk_line_result *lr = &r->lines[j];
                    if (!e->doc->lines[j].sku || strcmp(e->doc->lines[j].sku, sku) != 0 ||
                        !allocations_valid(r, lr))
                        continue;
                    int64_t got = 0;
                    for (uint32_t k = 0; k < lr->n_allocations; k++)
                        if (r->allocations[lr->first_allocation + k].promotion == pr->promotion)
                            got += r->allocations[lr->first_allocation + k].amount;
                    if (got == 0) continue;
                    if (pass == 0) {
                        sum += got;
                        hits++;
                        continue;
                    }
                    char label[64];
                    line_label(e, j, label, sizeof label);
                    ADD("%s%s", hits ? (hits == 1 ? " on line " : " on lines ") : ", ", label);
                    hits = 0;
                }
                if (pass == 0) {
                    if (sum == 0) break;
                    money(e, -sum, m, sizeof m);
                    ADD("%s %s %s", skus ? ";" : "", sku, m);
                    skus++;
                }
            }
        }
    } else if (pr->discount) {
        money(e, -pr->discount, m, sizeof m);
        ADD("%s", m);
        size_t hits = 0, listed = 0;
        for (int pass = 0; pass < 2; pass++) {
            for (uint32_t i = 0; r->lines && i < r->n_lines; i++) {
                const perk_line_result *lr = &r->lines[i];
                if (!allocations_valid(r, lr)) continue;
                bool hit = false;
                for (uint32_t k = 0; k < lr->n_allocations; k++)
                    hit |= r->allocations[lr->first_allocation + k].promotion == pr->promotion;
                if (!hit) continue;
                if (pass == 0) {
                    hits++;
                } else if (listed < 8) {
                    char label[64];
                    line_label(e, i, label, sizeof label);
                    ADD("%s%s", listed ? ", " : hits == 1 ? " on line " : " on lines ", label);
                    listed++;
                }
            }
        }
        size_t more = hits - listed;
        if (more) ADD(" and %zu more", more);
    }
    if (pr->shipping_discount) {
        money(e, -pr->shipping_discount, m, sizeof m);
        ADD("%s%s shipping", n > start ? "; " : "", m);
    }
    for (uint32_t i = 0; r->gifts && i < r->n_gifts; i++) {
        const perk_gift *g = &r->gifts[i];
        if (g->promotion == pr->promotion)
            ADD("%sgift %s%s%s ×%" PRId64, n > start ? "; " : "", g->sku ? g->sku : "?", g->name ? " " : "",
                g->name ? g->name : "", g->quantity);
    }
    for (uint32_t i = 0; r->effects && i < r->n_effects; i++) {
        const perk_effect *f = &r->effects[i];
        if (f->promotion == pr->promotion) ADD("%seffect %s", n > start ? "; " : "", f->kind ? f->kind : "?");
    }
    for (uint32_t i = 0; r->reward_coupons && i < r->n_reward_coupons; i++) {
        const perk_reward_coupon *c = &r->reward_coupons[i];
        if (c->promotion != pr->promotion) continue;
        ADD("%searns a %s coupon", n > start ? "; " : "", c->campaign ? c->campaign : "?");
        if (c->valid_seconds > 0) {
            ADD(", valid %" PRId64 " day%s", c->valid_seconds / 86400, c->valid_seconds == 86400 ? "" : "s");
        } else if (c->expires_at > 0) {
            char t[32];
            time_t at = (time_t)(c->expires_at - 1); /* its last valid second */
            struct tm tm;
            gmtime_r(&at, &tm);
            strftime(t, sizeof t, "%Y-%m-%d %H:%M:%S", &tm);
            ADD(", valid until %s UTC", t);
        }
        ADD(" (issued when the order is committed)");
    }
    if (n == start) ADD("applied");
    /* `consumes`: the lines it used are out of every later promotion (semantics.md 5.6) */
    if (pr->discount && e->names && e->names->promotion_consumes && pr->promotion < e->names->n_promotions &&
        e->names->promotion_consumes[pr->promotion])
        ADD("; consumes the lines it used: later promotions do not count or discount them");
#undef ADD
}

/* "sum(tea) >= ¥300 not met: ¥268.00 < ¥300.00 (rules/spring.perk:14:8)" or the reason. */
static void failed_detail(const explainer *e, const perk_promotion_result *pr, char *buf, size_t cap)
{
    if (pr->reason == PERK_REASON_NOTHING && pr->has_comparison) { /* a bundle dearer than its units */
        char cost[64], price[64];
        result_format_value(pr->observed, RESULT_VALUE_MONEY, e->r->exponent, e->symbol, cost, sizeof cost);
        result_format_value(pr->expected, RESULT_VALUE_MONEY, e->r->exponent, e->symbol, price, sizeof price);
        snprintf(buf, cap, "the bundle's units cost %s, no more than its price %s: no discount", cost, price);
        return;
    }
    if (pr->reason != PERK_REASON_CONDITION || pr->failed_condition == UINT32_MAX) {
        snprintf(buf, cap, "%s", result_reason_message(pr->reason));
        return;
    }
    uint32_t c = pr->failed_condition;
    const char *text = result_condition_text(e->names, c);
    char loc[320], cmp[200] = "";
    result_condition_location(e->names, c, loc, sizeof loc);
    char why[160];
    result_unknown_text(pr->unknown_fact, why, sizeof why);
    if (why[0]) {
        snprintf(cmp, sizeof cmp, ": %s", why);
    } else if (pr->has_comparison) {
        result_value_kind kind = result_condition_kind(e->names, c);
        char why_text[160];
        result_comparison_text(pr->observed, pr->comparison, pr->expected, kind, e->r->exponent, e->symbol,
                               why_text, sizeof why_text);
        snprintf(cmp, sizeof cmp, ": %s", why_text);
    }
    snprintf(buf, cap, "%s%s%s%s%s%s", *text ? text : "a condition is", " not met", cmp, loc[0] ? " (" : "",
             loc, loc[0] ? ")" : "");
}

/* A best-deal member that could apply (docs/semantics.md 5.8): the winner says it won and with
 * what, a member that lost says which won with what and what it would have taken off. A partial
 * budget that cut the discount says what was wanted and what was left (5.5). */
static void best_detail(const explainer *e, uint32_t i, bool applied, char *buf, size_t cap)
{
    const perk_result *r = e->r;
    if (!r->promotion_extra) return;
    const perk_promotion_extra *x = &r->promotion_extra[i];
    char mine[48], theirs[48], id[24];
    if (x->budget_wanted >= 0 && applied) { /* a partial budget (semantics 5.5) */
        money(e, x->budget_wanted, mine, sizeof mine);
        money(e, x->budget_granted, theirs, sizeof theirs);
        size_t n = strlen(buf);
        snprintf(buf + n, cap - n, "; its budget had %s left of the %s it wanted", theirs, mine);
    }
    if (x->best_saving < 0) return;
    money(e, x->best_saving, mine, sizeof mine);
    size_t n = strlen(buf);
    if (applied) {
        snprintf(buf + n, cap - n, "; took the most of its best-deal group (%s)", mine);
        return;
    }
    if (x->best_winner >= r->n_promotions) return;
    money(e, r->promotion_extra[x->best_winner].best_saving, theirs, sizeof theirs);
    snprintf(buf, cap, "%s took more in its best-deal group (%s); this would have taken %s off",
             result_promotion_id(e->names, x->best_winner, id, sizeof id), theirs, mine);
}

/* A unit limit per customer (docs/semantics.md 5.7): how many units got the price. */
static void units_detail(const explainer *e, uint32_t i, char *buf, size_t cap)
{
    const perk_result *r = e->r;
    for (uint32_t k = 0; k < r->n_promotion_units; k++)
        if (r->promotion_units[k].promotion == i) {
            size_t n = strlen(buf);
            snprintf(buf + n, cap - n, "; %lld unit%s at its price (its limit per customer)",
                     (long long)r->promotion_units[k].units, r->promotion_units[k].units == 1 ? "" : "s");
        }
}

static void print_promotions(const explainer *e)
{
    const perk_result *r = e->r;
    if (!r->promotions || r->n_promotions == 0) return;
    table t = { .cols = 3, .align = "lll" };
    for (uint32_t i = 0; i < r->n_promotions; i++) {
        const perk_promotion_result *pr = &r->promotions[i];
        char id[24], detail[1024];
        const char *label = result_promotion_label(e->names, pr->promotion);
        bool applied = pr->reason == PERK_REASON_APPLIED;
        if (applied)
            applied_detail(e, pr, detail, sizeof detail);
        else
            failed_detail(e, pr, detail, sizeof detail);
        best_detail(e, i, applied, detail, sizeof detail);
        if (applied) units_detail(e, i, detail, sizeof detail);
        table_cell(&t, "%s %s", applied ? "✓" : "✗",
                   result_promotion_id(e->names, pr->promotion, id, sizeof id));
        table_cell(&t, "%s", label ? label : "");
        table_cell(&t, "%s", detail);
    }
    fputs("\nPromotions\n", e->out);
    table_print(e->out, &t, e->color);
    table_free(&t);
}

static void print_coupons(const explainer *e)
{
    const perk_result *r = e->r;
    if (!r->coupons || r->n_coupons == 0) return;
    table t = { .cols = 2, .align = "ll" };
    for (uint32_t i = 0; i < r->n_coupons; i++) {
        const perk_coupon_result *c = &r->coupons[i];
        char id[24];
        table_cell(&t, "%s", c->code ? c->code : "");
        if (c->verdict == PERK_COUPON_ACCEPTED)
            table_cell(&t, "accepted%s%s%s", c->promotion != UINT32_MAX ? " (" : "",
                       c->promotion != UINT32_MAX ? result_promotion_id(e->names, c->promotion, id, sizeof id)
                                                  : "",
                       c->promotion != UINT32_MAX ? ")" : "");
        else
            table_cell(&t, "rejected: %s", result_verdict_message(c->verdict));
    }
    fputs("\nCoupons\n", e->out);
    table_print(e->out, &t, false);
    table_free(&t);
}

static void print_points(const explainer *e)
{
    const perk_result *r = e->r;
    if ((!r->points || r->n_points == 0) && r->points_earned == 0) return;
    table t = { .cols = 4, .align = "lrrl" };
    for (uint32_t i = 0; r->points && i < r->n_points; i++) {
        const perk_points_result *p = &r->points[i];
        char id[24], base[48], mult[48];
        money(e, p->base, base, sizeof base);
        result_format_multiplier(p->mult_num, p->mult_den, mult, sizeof mult);
        bool plain = p->mult_num == p->mult_den;
        table_cell(&t, "%s", result_earn_id(e->names, p->earn_rule, id, sizeof id));
        table_cell(&t, "on %s", base);
        table_cell(&t, "%" PRId64 " points", p->points);
        table_cell(&t, "%s%s%s", plain ? "" : mult, plain || !p->capped ? "" : " ",
                   p->capped ? "(capped)" : "");
    }
    fputs("\nPoints\n", e->out);
    table_print(e->out, &t, false);
    table_free(&t);
    fprintf(e->out, "  earned %" PRId64 " points\n", r->points_earned);
}

static void print_hints(const explainer *e)
{
    const perk_result *r = e->r;
    if (!r->hints || r->n_hints == 0) return;
    fputs("\nHints\n", e->out);
    for (uint32_t i = 0; i < r->n_hints; i++) {
        const perk_hint *h = &r->hints[i];
        char id[24], text[512];
        const char *pid = result_promotion_id(e->names, h->promotion, id, sizeof id);
        const char *label = result_promotion_label(e->names, h->promotion);
        result_hint_text(r, i, e->symbol, label && *label ? label : pid, text, sizeof text);
        if (label && *label)
            fprintf(e->out, "  %s (%s)\n", text, pid);
        else
            fprintf(e->out, "  %s\n", text);
    }
}

static void print_totals(const explainer *e)
{
    const perk_result *r = e->r;
    char a[48], b[48], c[48], d[48];
    table t = { .cols = 2, .align = "lr" };
    money(e, r->subtotal, a, sizeof a);
    table_cell(&t, "Subtotal");
    table_cell(&t, "%s", a);
    money(e, -r->discount, a, sizeof a);
    table_cell(&t, "Discount");
    table_cell(&t, "%s", a);
    money(e, r->shipping_before, a, sizeof a);
    money(e, r->shipping_after, b, sizeof b);
    table_cell(&t, "Shipping");
    if (r->shipping_before != r->shipping_after)
        table_cell(&t, "%s -> %s", a, b);
    else
        table_cell(&t, "%s", b);
    if (r->points_redeemed || r->points_redeemable) {
        money(e, -r->redeem_value, a, sizeof a);
        table_cell(&t, "Redeemed");
        table_cell(&t, "%s", a);
    }
    money(e, r->payable, a, sizeof a);
    table_cell(&t, "Payable");
    table_cell(&t, "%s", a);
    fputs("\nTotals\n", e->out);
    table_print(e->out, &t, false);
    table_free(&t);
    if (r->points_redeemed || r->points_redeemable) {
        money(e, r->redeem_value, b, sizeof b);
        money(e, r->redeem_goods, c, sizeof c);
        money(e, r->redeem_shipping, d, sizeof d);
        fprintf(e->out,
                "  redeemed %" PRId64 " of %" PRId64 " redeemable points = %s (goods %s, shipping %s)\n",
                r->points_redeemed, r->points_redeemable, b, c, d);
    }
}

void explain_promotion_reason(const result_names *names, const perk_result *r,
                              const perk_promotion_result *pr, char *buf, size_t cap)
{
    if (!buf || cap == 0) return;
    if (!r || !pr) {
        snprintf(buf, cap, "unknown");
        return;
    }
    if (pr->reason == PERK_REASON_APPLIED) {
        snprintf(buf, cap, "applied");
        return;
    }
    const money_currency *cur = r->currency ? money_currency_find(r->currency) : NULL;
    explainer e = { .out = NULL, .names = names, .r = r, .symbol = cur ? cur->symbol : NULL };
    failed_detail(&e, pr, buf, cap);
}

void explain_print(FILE *out, const result_names *names, const perk_result *r, const cart_doc *doc, int flags)
{
    if (!out || !r) return;
    if (r->status != PERK_OK) {
        fprintf(out, "evaluation failed: %s\n", result_status_message(r->status));
        return;
    }
    if (r->exponent < 0 || r->exponent > MONEY_MAX_EXPONENT) {
        fprintf(out, "evaluation failed: the result has an invalid currency exponent\n");
        return;
    }
    const money_currency *cur = r->currency ? money_currency_find(r->currency) : NULL;
    explainer e = { .out = out,
                    .names = names,
                    .r = r,
                    .doc = doc,
                    .symbol = cur ? cur->symbol : NULL,
                    .color = (flags & EXPLAIN_COLOR) != 0 };
    print_lines(&e);
    print_promotions(&e);
    print_coupons(&e);
    print_points(&e);
    print_hints(&e);
    print_totals(&e);
}
