/* cmd_customers.c - `perk customers`: what the store knows of a customer. `set` and `import`
 * record the CRM's membership (member_since) in the store, `show` prints the customer facts a
 * checkout is priced with (src/checkout/store_facts.h). */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "civil.h"
#include "cli.h"
#include "store/store.h"

/* YYYY-MM-DD (0001-01-01 .. 9999-12-31) as a day number, or "none" = -1 (not a member). */
static bool parse_member_since(const char *text, int64_t *days)
{
    if (strcmp(text, "none") == 0) {
        *days = -1;
        return true;
    }
    int y, m, d, used = 0;
    if (strlen(text) != 10 || sscanf(text, "%4d-%2d-%2d%n", &y, &m, &d, &used) != 3 || used != 10 || y < 1 ||
        !civil_valid_date(y, m, d))
        return false;
    *days = civil_days_from_date(y, m, d);
    return true;
}

static json_t *member_since_json(int64_t days)
{
    if (days < 0) return json_null();
    int y, m, d;
    civil_date_from_days(days, &y, &m, &d);
    char buf[32];
    snprintf(buf, sizeof buf, "%04d-%02d-%02d", y, m, d);
    return json_string(buf);
}

static int store_error(perk_store *s)
{
    fprintf(stderr, "perk: error: %s\n", perk_store_errmsg(s));
    perk_store_close(s);
    return 1;
}

/* The store must exist: a mistyped --db must not create an empty one. */
static perk_store *open_existing(const char *db, bool write)
{
    if (cli_db_missing(db)) {
        fprintf(stderr, "perk: error: %s: %s (check --db / $PERK_DB)\n", db, strerror(errno));
        return NULL;
    }
    if (write) return cli_open_store(db);
    perk_store *s = NULL;
    if (perk_store_open_readonly(db, &s) != PERK_STORE_OK) {
        fprintf(stderr, "perk: error: %s: %s\n", db, perk_store_errmsg(s));
        perk_store_close(s);
        return NULL;
    }
    return s;
}

static int show(const char *db, const char *customer)
{
    perk_store *s = open_existing(db, false);
    if (!s) return 1;
    perk_store_customer_facts f;
    if (perk_store_customer_get(s, customer, NULL, (int64_t)time(NULL), &f) != PERK_STORE_OK)
        return store_error(s);
    json_t *o = json_object();
    json_object_set_new(o, "customer", json_string(customer));
    json_object_set_new(o, "tier", *f.tier ? json_string(f.tier) : json_null());
    json_object_set_new(o, "points_balance", json_integer(f.points_balance));
    json_object_set_new(o, "first_order", json_boolean(f.order_count == 0));
    json_object_set_new(o, "order_count", json_integer(f.order_count));
    /* no record: the cart's member_since stands (the CRM has not told the store) */
    json_object_set_new(o, "member_since",
                        f.has_record ? member_since_json(f.member_since_days) : json_null());
    json_object_set_new(o, "crm_record", json_boolean(f.has_record));
    char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (text) printf("%s\n", text);
    free(text);
    perk_store_close(s);
    return text ? 0 : 1;
}

/* One customer of an import file, checked before anything is written. */
typedef struct import_row {
    const char *id;
    int64_t days;
} import_row;

/* FILE: a JSON array of {"id": "...", "member_since": "YYYY-MM-DD" or null}. Every row is checked
 * first; then they are recorded in order. */
static int import(const char *db, const char *path)
{
    size_t len = 0;
    char *text = cli_read_file(path, &len);
    const char *name = cli_file_name(path);
    if (!text) return 1;
    json_error_t je;
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    free(text);
    if (!doc || !json_is_array(doc)) {
        if (doc)
            fprintf(stderr, "perk: error: %s: $: expected an array of customers\n", name);
        else
            fprintf(stderr, "perk: error: %s: line %d, column %d: %s\n", name, je.line, je.column, je.text);
        json_decref(doc);
        return 1;
    }
    size_t n = json_array_size(doc);
    import_row *rows = calloc(n + 1, sizeof *rows);
    if (!rows) abort();
    int status = 1;
    for (size_t i = 0; i < n; i++) {
        json_t *c = json_array_get(doc, i), *id = json_object_get(c, "id"),
               *ms = json_object_get(c, "member_since");
        if (!json_is_object(c) || !json_is_string(id) || json_string_length(id) == 0 ||
            json_string_length(id) > 255 || strlen(json_string_value(id)) != json_string_length(id)) {
            fprintf(stderr, "perk: error: %s: $[%zu].id: needs a customer id of 1 to 255 bytes\n", name, i);
            goto done;
        }
        rows[i].id = json_string_value(id);
        rows[i].days = -1;
        if (!ms) {
            fprintf(stderr,
                    "perk: error: %s: $[%zu].member_since: required (a date YYYY-MM-DD, or null for not a "
                    "member)\n",
                    name, i);
            goto done;
        }
        if (!json_is_null(ms) && (!json_is_string(ms) || strcmp(json_string_value(ms), "none") == 0 ||
                                  !parse_member_since(json_string_value(ms), &rows[i].days))) {
            fprintf(stderr, "perk: error: %s: $[%zu].member_since: expected a date YYYY-MM-DD or null\n",
                    name, i);
            goto done;
        }
    }
    perk_store *s = open_existing(db, true);
    if (!s) goto done;
    for (size_t i = 0; i < n; i++)
        if (perk_store_customer_set(s, rows[i].id, rows[i].days, (int64_t)time(NULL)) != PERK_STORE_OK) {
            fprintf(stderr, "perk: error: %s: $[%zu]: %s (the %zu customers before it were recorded)\n", name,
                    i, perk_store_errmsg(s), i);
            perk_store_close(s);
            goto done;
        }
    perk_store_close(s);
    printf("recorded %zu customers\n", n);
    status = 0;
done:
    free(rows);
    json_decref(doc);
    return status;
}

int cmd_customers(int argc, char **argv)
{
    const char *db = cli_default_db(), *member_since = NULL;
    cli_parser opts;
    int ch;
    cli_parse_begin(&opts, &cli_customers, false);
    while ((ch = cli_parse_next(&opts, argc, argv)) != -1) {
        switch (ch) {
        case CLI_OPT_DB: db = optarg; break;
        case CLI_OPT_MEMBER_SINCE: member_since = optarg; break;
        case CLI_OPT_HELP: cli_print_help(stdout, &cli_customers); return 0;
        default: goto usage;
        }
    }
    if (optind + 2 != argc) {
        fprintf(stderr, "perk: error: expected a subcommand (set, show, import) and its argument\n");
        goto usage;
    }
    const char *sub = argv[optind], *arg = argv[optind + 1];
    if (strcmp(sub, "show") == 0 && !member_since) return show(db, arg);
    if (strcmp(sub, "import") == 0 && !member_since) return import(db, arg);
    if (strcmp(sub, "set") == 0) {
        int64_t days = 0;
        if (!member_since) {
            fprintf(stderr, "perk: error: customers set needs --member-since DATE (or none)\n");
            goto usage;
        }
        if (!parse_member_since(member_since, &days)) {
            fprintf(stderr,
                    "perk: error: --member-since wants a date YYYY-MM-DD (0001-01-01 to 9999-12-31) or none, "
                    "not \"%s\"\n",
                    cli_safe(member_since));
            return 2;
        }
        perk_store *s = open_existing(db, true);
        if (!s) return 1;
        if (perk_store_customer_set(s, arg, days, (int64_t)time(NULL)) != PERK_STORE_OK)
            return store_error(s);
        perk_store_close(s);
        printf("customer %s: member since %s\n", cli_safe(arg),
               days < 0 ? "none (not a member)" : member_since);
        return 0;
    }
    fprintf(stderr, "perk: error: unknown subcommand '%s'%s\n", cli_safe(sub),
            member_since ? " (--member-since goes with set)" : "");
usage:
    fprintf(stderr, "usage: %s\n", cli_customers.usage);
    return 2;
}
