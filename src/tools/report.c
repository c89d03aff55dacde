/* report.c - the results of campaigns over a period (report.h): figures read from the store
 * (src/store/report.c), labels and budget limits from the active version, money formatted in its
 * currency. Used by the console's Results page and by `perk report`. */
#include "report.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "civil.h"
#include "money.h"
#include "perk.h"
#include "program.h"

bool report_parse_date(const char *text, int64_t *out)
{
    int y, m, d, n = 0;
    if (!text || strlen(text) != 10 || sscanf(text, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10 ||
        !civil_valid_date(y, m, d))
        return false;
    *out = civil_days_from_date(y, m, d) * 86400;
    return true;
}

typedef struct report_build_ctx {
    json_t *rows;
    const perk_program *prog; /* the active version, or NULL */
    perk_store *store;
    int exponent;
    perk_store_status st;
} report_build_ctx;

static json_t *money(int64_t minor, int exponent)
{
    char buf[64];
    money_format(minor, exponent, NULL, buf, sizeof buf);
    return json_string(buf);
}

static void date_text(int64_t day, char out[16])
{
    int y, m, d;
    civil_date_from_days(day, &y, &m, &d);
    snprintf(out, 16, "%04d-%02d-%02d", y, m, d);
}

static int promo_row(void *p, const perk_store_promo_report *row)
{
    report_build_ctx *c = p;
    json_t *o = json_object();
    json_object_set_new(o, "ruleset", json_string(row->ruleset));
    json_object_set_new(o, "promotion", json_string(row->promo_id));
    long idx = -1;
    const prog_rule *rule = NULL;
    if (c->prog && strcmp(perk_program_name(c->prog), row->ruleset) == 0) {
        idx = perk_program_find_promotion(c->prog, row->promo_id);
        if (idx >= 0) rule = &prog_data_of(c->prog)->rules[idx];
    }
    const char *label = idx >= 0 ? perk_program_promotion_label(c->prog, (size_t)idx) : NULL;
    json_t *l = label ? json_string(label) : NULL;
    json_object_set_new(o, "label", l ? l : json_null());
    json_object_set_new(o, "uses", json_integer(row->uses));
    json_object_set_new(o, "discount", money(row->discount, c->exponent));
    json_object_set_new(o, "orders", json_integer(row->orders));
    json_object_set_new(o, "revenue", money(row->revenue, c->exponent));
    json_t *budget = json_null();
    if (rule && (rule->limit_uses >= 0 || rule->limit_money >= 0)) {
        int64_t uses = 0, spent = 0, cu = 0;
        perk_store_status st =
            perk_store_budget_usage(c->store, row->ruleset, row->promo_id, NULL, &uses, &spent, &cu);
        if (st != PERK_STORE_OK) {
            c->st = st;
            json_decref(o);
            return 1;
        }
        budget = json_object();
        json_object_set_new(budget, "uses", json_integer(uses));
        json_object_set_new(budget, "limit_uses",
                            rule->limit_uses >= 0 ? json_integer(rule->limit_uses) : json_null());
        json_object_set_new(budget, "uses_left",
                            rule->limit_uses >= 0
                                ? json_integer(rule->limit_uses > uses ? rule->limit_uses - uses : 0)
                                : json_null());
        json_object_set_new(budget, "money", money(spent, c->exponent));
        json_object_set_new(budget, "limit_money",
                            rule->limit_money >= 0 ? money(rule->limit_money, c->exponent) : json_null());
        json_object_set_new(
            budget, "money_left",
            rule->limit_money >= 0
                ? money(rule->limit_money > spent ? rule->limit_money - spent : 0, c->exponent)
                : json_null());
    }
    json_object_set_new(o, "budget", budget);
    json_array_append_new(c->rows, o);
    return 0;
}

static int day_row(void *p, int64_t day, int64_t orders, int64_t discount)
{
    report_build_ctx *c = p;
    char d[16];
    date_text(day, d);
    json_array_append_new(c->rows, json_pack("{s:s,s:I,s:o}", "date", d, "orders", (json_int_t)orders,
                                             "discount", money(discount, c->exponent)));
    return 0;
}

void *report_build(perk_store *s, int64_t from, int64_t to, char *err, size_t errlen)
{
    if (from >= to) {
        snprintf(err, errlen, "the period is empty: --to must be on or after --from");
        return NULL;
    }
    /* the active version, for labels, budget limits and the currency */
    int64_t id = 0;
    perk_program *prog = NULL;
    perk_store_status st = perk_store_active_version(s, to - 1, &id);
    if (st == PERK_STORE_NOT_FOUND) st = perk_store_active_version(s, INT64_MAX / 2, &id);
    if (st == PERK_STORE_OK && id) {
        perk_store_version v;
        memset(&v, 0, sizeof v);
        if (perk_store_get_version(s, id, &v) == PERK_STORE_OK) {
            perk_error e;
            prog = perk_program_load(v.bytecode, v.bytecode_len, &e);
        }
        perk_store_free_version(&v);
    }
    report_build_ctx c = { json_array(), prog, s, prog ? perk_program_exponent(prog) : 2, PERK_STORE_OK };
    perk_store_period_report period;
    st = perk_store_report_period(s, from, to, &period);
    if (st == PERK_STORE_OK) st = perk_store_report_promotions(s, from, to, promo_row, &c);
    if (st == PERK_STORE_OK) st = c.st;
    json_t *promos = c.rows;
    c.rows = json_array();
    if (st == PERK_STORE_OK) st = perk_store_report_days(s, from, to, day_row, &c);
    if (st != PERK_STORE_OK) {
        snprintf(err, errlen, "%s", perk_store_errmsg(s));
        json_decref(promos);
        json_decref(c.rows);
        perk_program_free(prog);
        return NULL;
    }
    char f[16], t[16];
    date_text(from / 86400, f);
    date_text((to - 1) / 86400, t);
    json_t *o = json_object();
    json_object_set_new(o, "from", json_string(f));
    json_object_set_new(o, "to", json_string(t));
    json_object_set_new(o, "ruleset", prog ? json_string(perk_program_name(prog)) : json_null());
    json_object_set_new(o, "ruleset_version", prog ? json_integer(id) : json_null());
    json_object_set_new(o, "currency", prog ? json_string(perk_program_currency(prog)) : json_null());
    json_object_set_new(o, "orders", json_integer(period.orders));
    json_object_set_new(o, "subtotal", money(period.subtotal, c.exponent));
    json_object_set_new(o, "discount", money(period.discount, c.exponent));
    json_object_set_new(o, "payable", money(period.payable, c.exponent));
    json_object_set_new(o, "points",
                        json_pack("{s:I,s:I,s:I}", "issued", (json_int_t)period.points_issued, "redeemed",
                                  (json_int_t)period.points_redeemed, "expired",
                                  (json_int_t)period.points_expired));
    json_object_set_new(o, "promotions", promos);
    json_object_set_new(o, "days", c.rows);
    perk_program_free(prog);
    return o;
}

void report_free(void *report) { json_decref(report); }

char *report_json_text(void *report) { return json_dumps(report, JSON_INDENT(2) | JSON_PRESERVE_ORDER); }

/* A CSV field: quoted when it holds a comma, a quote or a line break. */
static void csv_field(FILE *out, const char *s, bool last)
{
    if (!s) s = "";
    if (strpbrk(s, ",\"\r\n")) {
        fputc('"', out);
        for (; *s; s++) {
            if (*s == '"') fputc('"', out);
            fputc(*s, out);
        }
        fputc('"', out);
    } else {
        fputs(s, out);
    }
    fputc(last ? '\n' : ',', out);
}

static const char *str_of(json_t *o, const char *key, char *buf, size_t cap)
{
    json_t *v = json_object_get(o, key);
    if (json_is_string(v)) return json_string_value(v);
    if (json_is_integer(v)) {
        snprintf(buf, cap, "%lld", (long long)json_integer_value(v));
        return buf;
    }
    return "";
}

void report_print_csv(FILE *out, void *report)
{
    fputs("ruleset,promotion,label,uses,discount,orders,revenue,budget_uses_left,budget_money_left\n", out);
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(report, "promotions"), i, p)
    {
        char b[5][32];
        json_t *budget = json_object_get(p, "budget");
        csv_field(out, str_of(p, "ruleset", b[0], 32), false);
        csv_field(out, str_of(p, "promotion", b[0], 32), false);
        csv_field(out, str_of(p, "label", b[0], 32), false);
        csv_field(out, str_of(p, "uses", b[1], 32), false);
        csv_field(out, str_of(p, "discount", b[2], 32), false);
        csv_field(out, str_of(p, "orders", b[3], 32), false);
        csv_field(out, str_of(p, "revenue", b[4], 32), false);
        csv_field(out, budget ? str_of(budget, "uses_left", b[0], 32) : "", false);
        csv_field(out, budget ? str_of(budget, "money_left", b[0], 32) : "", true);
    }
}

void report_print_text(FILE *out, void *report)
{
    char b[4][32];
    json_t *pts = json_object_get(report, "points");
    fprintf(out, "period %s to %s (UTC days), %s orders, subtotal %s, discount %s, payable %s %s\n",
            str_of(report, "from", b[0], 32), str_of(report, "to", b[1], 32),
            str_of(report, "orders", b[2], 32), str_of(report, "subtotal", b[3], 32),
            str_of(report, "discount", b[0], 32), str_of(report, "payable", b[1], 32),
            str_of(report, "currency", b[2], 32));
    fprintf(out, "points issued %s, redeemed %s, expired %s\n", str_of(pts, "issued", b[0], 32),
            str_of(pts, "redeemed", b[1], 32), str_of(pts, "expired", b[2], 32));
    fprintf(out, "%-24s %8s %14s %8s %14s %12s %16s\n", "promotion", "applied", "discount", "orders",
            "revenue", "uses left", "money left");
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(report, "promotions"), i, p)
    {
        json_t *budget = json_object_get(p, "budget");
        char c[3][32];
        fprintf(out, "%-24s %8s %14s %8s %14s %12s %16s\n", str_of(p, "promotion", b[0], 32),
                str_of(p, "uses", b[1], 32), str_of(p, "discount", b[2], 32), str_of(p, "orders", b[3], 32),
                str_of(p, "revenue", c[0], 32), budget ? str_of(budget, "uses_left", c[1], 32) : "-",
                budget ? str_of(budget, "money_left", c[2], 32) : "-");
    }
}
