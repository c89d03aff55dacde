/* cmd_budgets.c - `perk budgets`: for each promotion of the active version that has a budget
 * (limit N uses, limit money, per customer), what the store has used and what is left, read
 * with perk_store_budget_usage (released uses of cancelled orders do not count). Text by
 * default; --json prints the service's GET /v1/budgets document. */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "money.h"
#include "perk.h"
#include "program.h"
#include "store/store.h"

static json_t *money_json(int64_t minor, int exponent)
{
    char buf[64];
    money_format(minor, exponent, NULL, buf, sizeof buf);
    return json_string(buf);
}

/* A limit: null when there is none. */
static json_t *limit_json(int64_t v, bool money, int exponent)
{
    if (v < 0) return json_null();
    return money ? money_json(v, exponent) : json_integer(v);
}

/* "-" for no limit, else the number or the amount. */
static const char *limit_text(int64_t v, bool money, int exponent, char buf[64])
{
    if (v < 0) return "-";
    if (money)
        money_format(v, exponent, NULL, buf, 64);
    else
        snprintf(buf, 64, "%lld", (long long)v);
    return buf;
}

/* The active version at `now`, loaded; NULL with a message. */
static perk_program *active_program(perk_store *st, int64_t now, int64_t *version)
{
    *version = 0;
    if (perk_store_active_version(st, now, version) != PERK_STORE_OK || *version <= 0) {
        fprintf(stderr, "perk: error: no rule set is active in the store; publish one (perk publish)\n");
        return NULL;
    }
    perk_store_version v;
    memset(&v, 0, sizeof v);
    perk_program *p = NULL;
    if (perk_store_get_version(st, *version, &v) == PERK_STORE_OK) {
        perk_error err;
        p = perk_program_load(v.bytecode, v.bytecode_len, &err);
        if (!p)
            fprintf(stderr, "perk: error: version %lld does not load: %s\n", (long long)*version,
                    err.message);
    } else {
        fprintf(stderr, "perk: error: %s\n", cli_safe(perk_store_errmsg(st)));
    }
    perk_store_free_version(&v);
    return p;
}

static int budgets_report(perk_store *st, const perk_program *prog, int64_t version, const char *customer,
                          bool json)
{
    const prog_data *d = prog_data_of(prog);
    int exponent = perk_program_exponent(prog);
    json_t *list = json ? json_array() : NULL; /* JSON only: text is printed as it goes */
    if (!json) {
        printf("ruleset %s, version %lld\n", cli_safe(perk_program_name(prog)), (long long)version);
        printf("%-20s %8s %8s %8s %14s %14s %14s %8s%s\n", "PROMOTION", "USES", "LIMIT", "LEFT", "MONEY",
               "LIMIT", "LEFT", "PER-CUST", customer ? "  CUSTOMER-USES" : "");
    }
    int shown = 0;
    for (uint32_t i = 0; i < d->n_rules; i++) {
        const prog_rule *rule = &d->rules[i];
        if (rule->limit_uses < 0 && rule->limit_money < 0 && rule->limit_per_customer < 0) continue;
        const char *id = prog_string(d, rule->id);
        int64_t uses = 0, money = 0, cu = 0;
        if (perk_store_budget_usage(st, perk_program_name(prog), id, customer, &uses, &money, &cu) !=
            PERK_STORE_OK) {
            fprintf(stderr, "perk: error: %s\n", cli_safe(perk_store_errmsg(st)));
            json_decref(list);
            return 1;
        }
        int64_t uses_left = rule->limit_uses < 0 ? -1 : rule->limit_uses > uses ? rule->limit_uses - uses : 0;
        int64_t money_left = rule->limit_money < 0       ? -1
                             : rule->limit_money > money ? rule->limit_money - money
                                                         : 0;
        shown++;
        if (json) {
            const char *label = perk_program_promotion_label(prog, i);
            json_t *o = json_object();
            json_object_set_new(o, "promotion", json_string(id));
            json_object_set_new(o, "label", label ? json_string(label) : json_null());
            json_object_set_new(o, "uses", json_integer(uses));
            json_object_set_new(o, "limit_uses", limit_json(rule->limit_uses, false, exponent));
            json_object_set_new(o, "uses_left", limit_json(uses_left, false, exponent));
            json_object_set_new(o, "money", money_json(money, exponent));
            json_object_set_new(o, "limit_money", limit_json(rule->limit_money, true, exponent));
            json_object_set_new(o, "money_left", limit_json(money_left, true, exponent));
            json_object_set_new(o, "limit_per_customer",
                                limit_json(rule->limit_per_customer, false, exponent));
            if (customer) json_object_set_new(o, "customer_uses", json_integer(cu));
            json_array_append_new(list, o);
            continue;
        }
        char b1[64], b2[64], b3[64], b4[64], b5[64], b6[64];
        money_format(money, exponent, NULL, b3, sizeof b3);
        printf("%-20s %8lld %8s %8s %14s %14s %14s %8s", cli_safe(id), (long long)uses,
               limit_text(rule->limit_uses, false, exponent, b1), limit_text(uses_left, false, exponent, b2),
               b3, limit_text(rule->limit_money, true, exponent, b4),
               limit_text(money_left, true, exponent, b5),
               limit_text(rule->limit_per_customer, false, exponent, b6));
        if (customer) printf("  %13lld", (long long)cu);
        printf("\n");
    }
    if (json) {
        json_t *o = json_pack("{s:s, s:I, s:o}", "ruleset", perk_program_name(prog), "ruleset_version",
                              (json_int_t)version, "budgets", list);
        if (o && customer) json_object_set_new(o, "customer", json_string(customer));
        char *text = o ? json_dumps(o, JSON_SORT_KEYS | JSON_INDENT(2)) : NULL;
        json_decref(o);
        if (!text) {
            fprintf(stderr, "perk: error: out of memory\n");
            return 1;
        }
        puts(text);
        free(text);
    } else if (!shown) {
        printf("(no promotion of this version has a budget)\n");
    }
    return 0;
}

int cmd_budgets(int argc, char **argv)
{
    const cli_command *cmd = &cli_budgets;
    const char *db = cli_default_db(), *customer = NULL, *now_text = NULL;
    bool json = false;
    cli_parser p;
    cli_parse_begin(&p, cmd, false);
    int ch;
    while ((ch = cli_parse_next(&p, argc, argv)) != -1) {
        switch (ch) {
        case CLI_OPT_HELP: cli_print_help(stdout, cmd); return 0;
        case CLI_OPT_DB: db = optarg; break;
        case CLI_OPT_CUSTOMER: customer = optarg; break;
        case CLI_OPT_JSON: json = true; break;
        case CLI_OPT_NOW: now_text = optarg; break;
        default: fprintf(stderr, "usage: %s\n", cmd->usage); return 2;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "perk: error: unexpected argument \"%s\"\nusage: %s\n", cli_safe(argv[optind]),
                cmd->usage);
        return 2;
    }
    int64_t now = (int64_t)time(NULL);
    if (now_text && !cli_time_option("--now", now_text, false, &now)) {
        fprintf(stderr, "usage: %s\n", cmd->usage);
        return 2;
    }
    if (cli_db_missing(db)) {
        fprintf(stderr, "perk: error: cannot open database %s: %s (check --db or $PERK_DB)\n", cli_safe(db),
                strerror(errno));
        return 1;
    }
    perk_store *st = NULL;
    if (perk_store_open_readonly(db, &st) != PERK_STORE_OK) {
        fprintf(stderr, "perk: error: %s\n", cli_safe(perk_store_errmsg(st)));
        perk_store_close(st);
        return 1;
    }
    int64_t version = 0;
    perk_program *prog = active_program(st, now, &version);
    int status = prog ? budgets_report(st, prog, version, customer, json) : 1;
    perk_program_free(prog);
    perk_store_close(st);
    return status;
}
