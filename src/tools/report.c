/* report.c - the results of campaigns over a period (report.h): figures read from the store
 * (src/store/report.c), labels, budget limits, tiers and the time zone from the active version,
 * money formatted in its currency, days the shop's days. Used by the console's Results page and
 * by `perk report`. */
#include "report.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "civil.h"
#include "money.h"
#include "perk.h"
#include "program.h"
#include "tz.h"

bool report_parse_date(const char *text, int64_t *day)
{
    int y, m, d, n = 0;
    if (!text || strlen(text) != 10 || sscanf(text, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10 ||
        y < 1970 || !civil_valid_date(y, m, d))
        return false;
    *day = civil_days_from_date(y, m, d);
    return true;
}

typedef struct report_build_ctx {
    json_t *rows;
    const perk_program *prog; /* the active version, or NULL */
    perk_store *store;
    int exponent;
    perk_store_status st;
    tz_zone zone;                 /* the active version's, or UTC */
    int64_t day, orders, discount; /* the local day being added up from quarters (day_row) */
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

static void day_flush(report_build_ctx *c)
{
    if (!c->orders) return;
    char d[16];
    date_text(c->day, d);
    json_array_append_new(c->rows, json_pack("{s:s,s:I,s:o}", "date", d, "orders", (json_int_t)c->orders,
                                             "discount", money(c->discount, c->exponent)));
    c->orders = c->discount = 0;
}

/* Quarters of an hour come oldest first; each falls in one local day of the shop's zone. */
static int quarter_row(void *p, int64_t start, int64_t orders, int64_t discount)
{
    report_build_ctx *c = p;
    tz_local l;
    tz_to_local(&c->zone, start, &l);
    if (l.days != c->day) day_flush(c);
    c->day = l.days;
    c->orders += orders;
    if (__builtin_add_overflow(c->discount, discount, &c->discount)) c->discount = INT64_MAX;
    return 0;
}

static int tier_row(void *p, const perk_store_tier_report *row)
{
    report_build_ctx *c = p;
    json_array_append_new(
        c->rows, json_pack("{s:s?,s:I,s:o,s:{s:I,s:I,s:I}}", "tier", *row->tier ? row->tier : NULL, "orders",
                           (json_int_t)row->orders, "revenue", money(row->revenue, c->exponent), "points",
                           "issued", (json_int_t)row->points_issued, "redeemed", (json_int_t)row->points_redeemed,
                           "expired", (json_int_t)row->points_expired));
    return 0;
}

/* The rows of the active version's tiers first, lowest to highest, then tiers it no longer has,
 * then no tier (null). */
static json_t *tiers_in_order(json_t *rows, const perk_program *prog)
{
    json_t *out = json_array();
    size_t n = prog ? perk_program_tier_count(prog) : 0;
    for (size_t k = 0; k <= n + 1; k++) {
        size_t i;
        json_t *r;
        json_array_foreach(rows, i, r)
        {
            const char *name = json_string_value(json_object_get(r, "tier"));
            size_t rank = n; /* a tier the version does not have */
            if (!name)
                rank = n + 1;
            else
                for (size_t t = 0; t < n; t++)
                    if (strcmp(perk_program_tier_id(prog, t), name) == 0) rank = t;
            if (rank == k) json_array_append(out, r);
        }
    }
    json_decref(rows);
    return out;
}

void *report_build(perk_store *s, int64_t from_day, int64_t to_day, char *err, size_t errlen)
{
    if (from_day > to_day) {
        snprintf(err, errlen, "the period is empty: --to must be on or after --from");
        return NULL;
    }
    if (to_day - from_day > REPORT_MAX_DAYS) {
        snprintf(err, errlen, "the period is longer than %d days: report a shorter one", REPORT_MAX_DAYS);
        return NULL;
    }
    /* the version active at the end of the period (its UTC day is close enough to choose it), or
     * the latest: labels, budget limits, tiers, the currency and the time zone */
    int64_t id = 0;
    perk_program *prog = NULL;
    perk_store_status st = perk_store_active_version(s, (to_day + 1) * 86400 - 1, &id);
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
    report_build_ctx c;
    memset(&c, 0, sizeof c); /* the zone: UTC (no transitions, offset 0) */
    c.rows = json_array();
    c.prog = prog;
    c.store = s;
    c.exponent = prog ? perk_program_exponent(prog) : 2;
    const char *zone_name = "UTC";
    if (prog) {
        const prog_data *d = prog_data_of(prog);
        c.zone = (tz_zone){ d->n_tz, d->tz_at, d->tz_offset, d->tz_base_offset };
        const char *name = prog_string(d, d->timezone);
        if (name && *name) zone_name = name;
    }
    /* the period: from the first day's midnight to the midnight after the last, where the shop is */
    int64_t from = tz_from_local(&c.zone, from_day * 86400), to = tz_from_local(&c.zone, (to_day + 1) * 86400);
    perk_store_period_report period;
    st = perk_store_report_period(s, from, to, &period);
    if (st == PERK_STORE_OK) st = perk_store_report_promotions(s, from, to, promo_row, &c);
    if (st == PERK_STORE_OK) st = c.st;
    json_t *promos = c.rows, *days = NULL, *tiers = NULL;
    c.rows = json_array();
    c.day = INT64_MIN;
    if (st == PERK_STORE_OK) st = perk_store_report_quarters(s, from, to, quarter_row, &c);
    day_flush(&c);
    days = c.rows;
    c.rows = json_array();
    if (st == PERK_STORE_OK) st = perk_store_report_tiers(s, from, to, tier_row, &c);
    tiers = tiers_in_order(c.rows, prog);
    if (st != PERK_STORE_OK) {
        snprintf(err, errlen, "%s", perk_store_errmsg(s));
        json_decref(promos);
        json_decref(days);
        json_decref(tiers);
        perk_program_free(prog);
        return NULL;
    }
    char f[16], t[16];
    date_text(from_day, f);
    date_text(to_day, t);
    json_t *o = json_object();
    json_object_set_new(o, "from", json_string(f));
    json_object_set_new(o, "to", json_string(t));
    json_object_set_new(o, "timezone", json_string(zone_name));
    json_object_set_new(o, "from_time", json_integer(from));
    json_object_set_new(o, "to_time", json_integer(to));
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
    json_object_set_new(o, "days", days);
    json_object_set_new(o, "tiers", tiers);
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
    const char *zone = json_string_value(json_object_get(report, "timezone"));
    fprintf(out, "period %s to %s (days in %s), %s orders, subtotal %s, discount %s, payable %s %s\n",
            str_of(report, "from", b[0], 32), str_of(report, "to", b[1], 32), zone ? zone : "UTC",
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
    json_t *tiers = json_object_get(report, "tiers");
    if (!json_array_size(tiers)) return;
    fprintf(out, "%-24s %8s %14s %10s %10s %10s\n", "tier", "orders", "revenue", "issued", "redeemed", "expired");
    json_array_foreach(tiers, i, p)
    {
        json_t *tp = json_object_get(p, "points");
        const char *name = json_string_value(json_object_get(p, "tier"));
        char c[3][32];
        fprintf(out, "%-24s %8s %14s %10s %10s %10s\n", name ? name : "(no tier)", str_of(p, "orders", b[0], 32),
                str_of(p, "revenue", b[1], 32), str_of(tp, "issued", c[0], 32), str_of(tp, "redeemed", c[1], 32),
                str_of(tp, "expired", c[2], 32));
    }
}
