/* cmd_store.c - the `perk` CLI commands over the store: history, show, rollback, coupons,
 * points, events and expire. Argument parsing, human-readable tables and JSON lines; all the
 * work is done by the perk_store_* API. */
#include "cmd_store.h"
#include "cli.h"

#include "checkout/checkout.h"
#include "civil.h"
#include "store/store.h"

#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ----------------------------------------------------------------- helpers */

static void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("perk: error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static int usage_error(const char *usage, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int usage_error(const char *usage, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("perk: error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    fprintf(stderr, "usage: %s\n", usage);
    return 2;
}

static bool parse_int64(const char *text, int64_t min, int64_t max, int64_t *out)
{
    if (!text || !*text) return false;
    errno = 0;
    char *end = NULL;
    long long v = strtoll(text, &end, 10);
    if (errno || *end || v < min || v > max) return false;
    *out = v;
    return true;
}

/* The one time syntax of the CLI (cli_time in cli_util.c). */
static bool parse_time(const char *text, bool end_of_day, int64_t *out)
{
    return cli_time(text, end_of_day, out);
}

/* "2026-03-01T12:00:00Z", or "-" for 0. */
static const char *fmt_time(int64_t t, char buf[32])
{
    if (t == 0) return "-";
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm) || !strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(buf, 32, "%lld", (long long)t);
    return buf;
}

/* Options every command takes. */
typedef struct common {
    const char *db;
    int64_t now;
} common;

static void common_init(common *c)
{
    const char *env = getenv("PERK_DB");
    c->db = env && *env ? env : "perk.db";
    c->now = (int64_t)time(NULL);
}

/* Handles --db, --now and -h/--help; returns 1 if handled, 0 if not a common option, -1 when
 * the command is over (*status: 0 after printing the help, 2 after a usage error). */
static int common_option(common *c, int opt, const char *arg, const cli_command *cmd, int *status)
{
    const char *usage = cmd->usage;
    if (opt == CLI_OPT_HELP) {
        cli_print_help(stdout, cmd);
        *status = 0;
        return -1;
    }
    if (opt == CLI_OPT_DB) {
        c->db = arg;
        return 1;
    }
    if (opt == CLI_OPT_NOW) {
        if (!cli_time_option("--now", arg, false, &c->now)) {
            fprintf(stderr, "usage: %s\n", usage);
            *status = 2;
            return -1;
        }
        return 1;
    }
    return 0;
}

static int bad_option(const char *usage, char **argv)
{
    const char *arg = optind > 0 ? argv[optind - 1] : "?";
    if (optopt && optopt < 256) return usage_error(usage, "option -%c is unknown or needs a value", optopt);
    return usage_error(usage, "option %s is unknown or needs a value", arg);
}

static perk_store *open_store(const common *c, bool write)
{
    perk_store *s = NULL;
    /* Reading commands never create a database: name the missing file plainly. */
    if (!write && cli_db_missing(c->db)) {
        cli_error("cannot open database %s: %s (check --db or $PERK_DB)", c->db, strerror(errno));
        return NULL;
    }
    perk_store_status st = write ? perk_store_open(c->db, &s) : perk_store_open_readonly(c->db, &s);
    if (st != PERK_STORE_OK) {
        cli_error("%s", perk_store_errmsg(s));
        perk_store_close(s);
        return NULL;
    }
    return s;
}

static int store_error(perk_store *s)
{
    cli_error("%s", cli_safe(perk_store_errmsg(s)));
    perk_store_close(s);
    return 1;
}

/* ----------------------------------------------------------------- history */

/* An epoch time as JSON: null for 0 (none). */
static json_t *time_json(int64_t t) { return t ? json_integer(t) : json_null(); }

/* Text from the store as JSON: null for NULL. */
static json_t *text_json(const char *s) { return s ? json_string(s) : json_null(); }

/* What the text rows of history are printed with. */
typedef struct history_out {
    const cli_zone *zone;
    int width; /* of a local time column */
    json_t *list; /* --json: the rows, else NULL */
} history_out;

static int print_version(const perk_store_version_info *v, void *ctx)
{
    history_out *h = ctx;
    if (h->list) {
        json_t *o = json_object();
        json_object_set_new(o, "id", json_integer(v->id));
        json_object_set_new(o, "created_at", json_integer(v->created_at));
        json_object_set_new(o, "author", text_json(v->author));
        json_object_set_new(o, "message", text_json(v->message));
        json_object_set_new(o, "checksum", text_json(v->checksum));
        json_object_set_new(o, "bytecode_bytes", json_integer((json_int_t)v->bytecode_len));
        json_object_set_new(o, "active", json_boolean(v->active));
        json_object_set_new(o, "activate_at", time_json(v->activate_at));
        json_object_set_new(o, "last_activated_at", time_json(v->last_activated_at));
        json_object_set_new(o, "next_activation_at", time_json(v->next_activation_at));
        json_array_append_new(h->list, o);
        return 0;
    }
    char created[CLI_ZONE_TIME_MAX], when[CLI_ZONE_TIME_MAX];
    const char *state = "";
    char buf[CLI_ZONE_TIME_MAX + 16] = "";
    if (v->next_activation_at) {
        snprintf(buf, sizeof buf, "scheduled %s", cli_zone_time(h->zone, v->next_activation_at, when));
        state = buf;
    } else if (v->last_activated_at) {
        snprintf(buf, sizeof buf, "%s", cli_zone_time(h->zone, v->last_activated_at, when));
        state = buf;
    }
    printf("%c %7lld  %-*s  %-12.12s  %-12.12s  %-*s  %s\n", v->active ? '*' : ' ', (long long)v->id, h->width,
           cli_zone_time(h->zone, v->created_at, created), cli_safe(v->author), cli_safe(v->checksum),
           h->width + 10, state, cli_safe(v->message));
    return 0;
}

static int print_activation(const perk_store_activation *a, void *ctx)
{
    history_out *h = ctx;
    if (h->list) {
        json_t *o = json_object();
        json_object_set_new(o, "id", json_integer(a->id));
        json_object_set_new(o, "kind", text_json(a->kind));
        json_object_set_new(o, "version", json_integer(a->version_id));
        json_object_set_new(o, "activate_at", json_integer(a->activate_at));
        json_object_set_new(o, "created_at", json_integer(a->created_at));
        json_object_set_new(o, "author", text_json(a->author));
        json_object_set_new(o, "message", text_json(a->message));
        json_array_append_new(h->list, o);
        return 0;
    }
    char at[CLI_ZONE_TIME_MAX], created[CLI_ZONE_TIME_MAX];
    printf("  %7lld  %-8s  version %-5lld  from %-*s  recorded %-*s  %-12.12s  %s\n", (long long)a->id,
           cli_safe(a->kind), (long long)a->version_id, h->width, cli_zone_time(h->zone, a->activate_at, at),
           h->width, cli_zone_time(h->zone, a->created_at, created), cli_safe(a->author), cli_safe(a->message));
    return 0;
}

/* The width of "2026-12-07 20:15 ZONE". */
static int zone_width(const cli_zone *z) { return 17 + (int)strlen(cli_safe(z->name)); }

int cmd_history(int argc, char **argv)
{
    const cli_command *cmd = &cli_history;
    const char *usage = cmd->usage;
    common c;
    common_init(&c);
    bool activations = false, json = false;
    int opt, status = 0;
    cli_parser p;
    cli_parse_begin(&p, cmd, true);
    while ((opt = cli_parse_next(&p, argc, argv)) != -1) {
        int handled = common_option(&c, opt, optarg, cmd, &status);
        if (handled < 0) return status;
        if (handled) continue;
        if (opt == CLI_OPT_ACTIVATIONS)
            activations = true;
        else if (opt == CLI_OPT_JSON)
            json = true;
        else
            return bad_option(usage, argv);
    }
    if (optind < argc) return usage_error(usage, "unexpected argument \"%s\"", argv[optind]);
    perk_store *s = open_store(&c, false);
    if (!s) return 1;
    cli_zone zone;
    cli_zone_of_store(&zone, s, c.now);
    history_out h = { &zone, zone_width(&zone), json ? json_array() : NULL };
    if (!json) {
        cli_zone_note(&zone);
        printf("  %7s  %-*s  %-12s  %-12s  %-*s  %s\n", "VERSION", h.width, "CREATED", "AUTHOR", "CHECKSUM",
               h.width + 10, "ACTIVATION", "MESSAGE");
    }
    int rc = 0;
    json_t *doc = NULL;
    if (perk_store_history(s, c.now, print_version, &h) != PERK_STORE_OK) goto failed;
    if (json) {
        doc = json_pack("{s:o}", "versions", h.list);
        h.list = NULL;
    }
    if (activations) {
        if (json)
            h.list = json_array();
        else
            printf("\nactivation log (newest first):\n");
        if (perk_store_activations(s, print_activation, &h) != PERK_STORE_OK) goto failed;
        if (json) {
            json_object_set_new(doc, "activations", h.list);
            h.list = NULL;
        }
    }
    if (json && !cli_print_json(doc)) rc = 1;
    cli_zone_free(&zone);
    perk_store_close(s);
    return rc;
failed:
    json_decref(h.list);
    json_decref(doc);
    cli_zone_free(&zone);
    return store_error(s);
}

/* -------------------------------------------------------------------- show */

/* Sources as `perk publish` stores them, a JSON object {path: text}, are printed file by file;
 * any other text as it is. */
static void print_sources(const char *sources)
{
    json_t *files = json_loads(sources, JSON_REJECT_DUPLICATES, NULL);
    if (json_is_object(files) && json_object_size(files) > 0) {
        bool all_text = true;
        const char *path;
        json_t *text;
        json_object_foreach(files, path, text) all_text = all_text && json_is_string(text);
        if (all_text) {
            printf("sources:\n");
            json_object_foreach(files, path, text)
            {
                const char *t = json_string_value(text);
                size_t n = json_string_length(text);
                printf("--- %s\n", cli_safe(path));
                cli_write_safe(stdout, t, n);
                if (n && t[n - 1] != '\n') putchar('\n');
            }
            json_decref(files);
            return;
        }
    }
    json_decref(files);
    printf("sources:\n");
    cli_write_safe(stdout, sources, strlen(sources));
    printf("%s", *sources && sources[strlen(sources) - 1] != '\n' ? "\n" : "");
}

/* The sources for --json: the object {path: text} as published, else the text as a string. */
static json_t *sources_json(const char *sources)
{
    json_t *files = json_loads(sources, JSON_REJECT_DUPLICATES, NULL);
    if (json_is_object(files)) return files;
    json_decref(files);
    return json_string(sources);
}

int cmd_show(int argc, char **argv)
{
    const cli_command *cmd = &cli_show;
    const char *usage = cmd->usage;
    common c;
    common_init(&c);
    const char *bytecode_file = NULL;
    bool json = false;
    int opt, status = 0;
    cli_parser p;
    cli_parse_begin(&p, cmd, true);
    while ((opt = cli_parse_next(&p, argc, argv)) != -1) {
        int handled = common_option(&c, opt, optarg, cmd, &status);
        if (handled < 0) return status;
        if (handled) continue;
        if (opt == CLI_OPT_BYTECODE)
            bytecode_file = optarg;
        else if (opt == CLI_OPT_JSON)
            json = true;
        else
            return bad_option(usage, argv);
    }
    int64_t id;
    if (optind + 1 != argc) return usage_error(usage, "expected one VERSION");
    if (!parse_int64(argv[optind], 1, INT64_MAX, &id))
        return usage_error(usage, "VERSION must be a positive number, not \"%s\"", argv[optind]);
    perk_store *s = open_store(&c, false);
    if (!s) return 1;
    perk_store_version v;
    int64_t active = 0;
    if (perk_store_get_version(s, id, &v) != PERK_STORE_OK) {
        perk_store_free_version(&v);
        return store_error(s);
    }
    perk_store_status st = perk_store_active_version(s, c.now, &active);
    if (st != PERK_STORE_OK && st != PERK_STORE_NOT_FOUND) {
        perk_store_free_version(&v);
        return store_error(s);
    }
    /* the version's own rule set names the zone its times are shown in */
    perk_error err;
    perk_program *prog = perk_program_load(v.bytecode, v.bytecode_len, &err);
    cli_zone zone;
    cli_zone_of_program(&zone, prog);
    int rc = 0;
    if (json) {
        json_t *o = json_object();
        json_object_set_new(o, "id", json_integer(v.id));
        json_object_set_new(o, "active", json_boolean(active == v.id));
        json_object_set_new(o, "created_at", json_integer(v.created_at));
        json_object_set_new(o, "author", text_json(v.author));
        json_object_set_new(o, "message", text_json(v.message));
        json_object_set_new(o, "activate_at", time_json(v.activate_at));
        json_object_set_new(o, "checksum", text_json(v.checksum));
        json_object_set_new(o, "bytecode_bytes", json_integer((json_int_t)v.bytecode_len));
        json_object_set_new(o, "ruleset", prog ? json_string(perk_program_name(prog)) : json_null());
        json_object_set_new(o, "timezone", prog ? json_string(zone.name) : json_null());
        json_object_set_new(o, "currency", prog ? json_string(perk_program_currency(prog)) : json_null());
        json_object_set_new(o, "sources", sources_json(v.sources));
        if (!cli_print_json(o)) rc = 1;
    } else {
        char t1[CLI_ZONE_TIME_MAX], t2[CLI_ZONE_TIME_MAX];
        printf("version:   %lld%s\n", (long long)v.id, active == v.id ? " (active)" : "");
        if (prog) printf("ruleset:   %s (%s, %s)\n", cli_safe(perk_program_name(prog)),
                         cli_safe(perk_program_currency(prog)), cli_safe(zone.name));
        printf("created:   %s\n", cli_zone_time(&zone, v.created_at, t1));
        printf("author:    %s\n", cli_safe(v.author));
        printf("message:   %s\n", cli_safe(v.message));
        printf("activate:  %s\n", cli_zone_time(&zone, v.activate_at, t2));
        printf("checksum:  sha256:%s\n", cli_safe(v.checksum));
        printf("bytecode:  %zu bytes\n", v.bytecode_len);
        print_sources(v.sources);
    }
    if (bytecode_file) {
        if (!cli_write_file(bytecode_file, v.bytecode, v.bytecode_len)) rc = 1;
    }
    cli_zone_free(&zone);
    perk_program_free(prog);
    perk_store_free_version(&v);
    perk_store_close(s);
    return rc;
}

/* ---------------------------------------------------------------- rollback */

int cmd_rollback(int argc, char **argv)
{
    const cli_command *cmd = &cli_rollback;
    const char *usage = cmd->usage;
    common c;
    common_init(&c);
    const char *message = NULL, *author = getenv("USER");
    bool json = false;
    int opt, status = 0;
    cli_parser p;
    cli_parse_begin(&p, cmd, true);
    while ((opt = cli_parse_next(&p, argc, argv)) != -1) {
        int handled = common_option(&c, opt, optarg, cmd, &status);
        if (handled < 0) return status;
        if (handled) continue;
        if (opt == CLI_OPT_MESSAGE)
            message = optarg;
        else if (opt == CLI_OPT_AUTHOR)
            author = optarg;
        else if (opt == CLI_OPT_JSON)
            json = true;
        else
            return bad_option(usage, argv);
    }
    int64_t id;
    if (optind + 1 != argc) return usage_error(usage, "expected one VERSION");
    if (!parse_int64(argv[optind], 1, INT64_MAX, &id))
        return usage_error(usage, "VERSION must be a positive number, not \"%s\"", argv[optind]);
    if (!message || !*message) return usage_error(usage, "say why with -m MESSAGE");
    if (!author || !*author) author = "unknown";
    perk_store *s = open_store(&c, true);
    if (!s) return 1;
    int64_t before = 0;
    perk_store_status st = perk_store_active_version(s, c.now, &before);
    if (st != PERK_STORE_OK && st != PERK_STORE_NOT_FOUND) return store_error(s);
    if (perk_store_rollback(s, id, author, message, c.now) != PERK_STORE_OK) return store_error(s);
    perk_store_close(s);
    if (json) {
        json_t *o = json_pack("{s:I, s:o, s:b, s:I}", "version", (json_int_t)id, "previous",
                              before ? json_integer(before) : json_null(), "already_active", before == id,
                              "activate_at", (json_int_t)c.now);
        return cli_print_json(o) ? 0 : 1;
    }
    if (before == id)
        printf("version %lld stays active (it already was; the rollback is recorded)\n", (long long)id);
    else if (before)
        printf("version %lld is active again (was %lld)\n", (long long)id, (long long)before);
    else
        printf("version %lld is active\n", (long long)id);
    return 0;
}

/* ----------------------------------------------------------------- coupons */

/* ctx: the number of codes still to print. After the last one stdout is flushed: a code is
 * committed only once it reached its reader (nonzero rolls the codes back). */
static int print_code(const char *code, void *ctx)
{
    int64_t *left = ctx;
    if (puts(code) == EOF) return 1;
    return --*left == 0 && !cli_flush_stdout();
}

typedef struct coupon_opts {
    int64_t count, expires, max_uses, per_customer, from;
    bool expires_set, max_uses_set, per_customer_set; /* given: change sets only these */
    const char *expires_text, *from_text; /* as given: a date alone is read in the store's zone */
    const char *prefix, *campaign, *customer, *reason, *by;
    bool json;
} coupon_opts;

/* Prints a JSON document (taken) on stdout, indented; 1 when out of memory. */
static int print_json_doc(json_t *doc)
{
    char *text = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(doc);
    if (!text) {
        cli_error("out of memory");
        return 1;
    }
    puts(text);
    free(text);
    return 0;
}

/* "12 of 20 left", "unlimited", or "-" (not usable now). */
static const char *uses_left_text(const perk_store_coupon_info *k, char buf[32])
{
    if (k->status != PERK_STORE_COUPON_VALID) return "-";
    if (k->uses_left < 0) return "unlimited";
    snprintf(buf, 32, "%lld", (long long)k->uses_left);
    return buf;
}

typedef struct wallet_out {
    bool json;
    json_t *list;
    const cli_zone *zone; /* text times in the rule set's zone */
} wallet_out;

static int wallet_entry(const perk_store_coupon_info *k, void *ctx)
{
    wallet_out *w = ctx;
    if (w->json) return json_array_append_new(w->list, checkout_coupon_json(k)) != 0;
    char left[32], from[CLI_ZONE_TIME_MAX], exp[CLI_ZONE_TIME_MAX];
    printf("%-24s %-16s %-14s %9s  %-*s  %s", k->code, cli_safe(k->campaign), perk_store_coupon_status_message(k->status),
           uses_left_text(k, left), zone_width(w->zone),
           k->valid_from ? cli_zone_time(w->zone, k->valid_from, from) : "at once",
           k->expires_at ? cli_zone_time(w->zone, k->expires_at, exp) : "never");
    if (k->revoked_at)
        printf("  revoked %s by %s: %s", cli_zone_time(w->zone, k->revoked_at, from), cli_safe(k->revoked_by),
               cli_safe(k->revoke_reason));
    printf("\n");
    return ferror(stdout) != 0;
}

/* perk coupons wallet CUSTOMER: the codes issued to the customer with their status at --now. */
static int coupons_wallet(const common *c, const char *customer, bool json)
{
    perk_store *s = open_store(c, false);
    if (!s) return 1;
    cli_zone zone;
    cli_zone_of_store(&zone, s, c->now);
    wallet_out w = { json, json ? json_array() : NULL, &zone };
    if (!json) {
        cli_zone_note(&zone);
        printf("%-24s %-16s %-14s %9s  %-*s  %s\n", "CODE", "CAMPAIGN", "STATUS", "USES LEFT", zone_width(&zone),
               "VALID FROM", "EXPIRES");
    }
    perk_store_status st = perk_store_coupon_wallet(s, customer, c->now, wallet_entry, &w);
    cli_zone_free(&zone);
    if (st != PERK_STORE_OK) {
        json_decref(w.list);
        return store_error(s);
    }
    perk_store_close(s);
    if (!json) return 0;
    json_t *doc = json_object();
    json_object_set_new(doc, "customer_id", json_string(customer));
    json_object_set_new(doc, "at", json_integer(c->now));
    json_object_set_new(doc, "coupons", w.list);
    return print_json_doc(doc);
}

/* perk coupons issue CODE --campaign C --customer ID ... */
/* --expires and --from again, now that the store is open: a date alone is a day in the time zone
 * of the rule set active there (UTC, and said so, when none is). */
static void coupon_dates_in_zone(const common *c, perk_store *s, coupon_opts *o)
{
    if (!o->expires_text && !o->from_text) return;
    cli_zone zone;
    cli_zone_of_store(&zone, s, c->now);
    bool date_only = false;
    int64_t t;
    if (o->expires_text && cli_time_in_zone(o->expires_text, true, &zone, &t)) {
        date_only |= cli_time_is_date(o->expires_text);
        o->expires = t;
    }
    if (o->from_text && cli_time_in_zone(o->from_text, false, &zone, &t)) {
        date_only |= cli_time_is_date(o->from_text);
        o->from = t;
    }
    if (date_only) cli_zone_note(&zone);
    cli_zone_free(&zone);
}

static int coupons_issue(const common *c, const char *code, coupon_opts *o, const char *usage)
{
    if (!o->campaign || !o->customer) return usage_error(usage, "issue needs --campaign C and --customer ID");
    perk_store *s = open_store(c, true);
    if (!s) return 1;
    coupon_dates_in_zone(c, s, o);
    perk_store_coupon_issue in = { code,      o->campaign,          o->customer,        o->from, o->expires,
                                   (int)o->max_uses, (int)o->per_customer, o->by };
    perk_store_coupon_info info;
    bool created = false;
    if (perk_store_coupon_issue_code(s, &in, c->now, &info, &created) != PERK_STORE_OK) return store_error(s);
    perk_store_close(s);
    if (o->json) {
        json_t *doc = json_object();
        json_object_set_new(doc, "created", json_boolean(created));
        json_object_set_new(doc, "customer_id", json_string(o->customer));
        json_object_set_new(doc, "coupon", checkout_coupon_json(&info));
        return print_json_doc(doc);
    }
    if (created)
        printf("issued coupon %s of campaign %s to %s (%s now)\n", info.code, cli_safe(info.campaign),
               cli_safe(o->customer), perk_store_coupon_status_message(info.status));
    else
        printf("coupon %s was already issued to %s with these terms: nothing changed (%s now)\n", info.code,
               cli_safe(o->customer), perk_store_coupon_status_message(info.status));
    return 0;
}

/* perk coupons revoke CODE --reason TEXT [--by NAME] */
static int coupons_revoke(const common *c, const char *code, const coupon_opts *o, const char *usage)
{
    if (!o->reason || !*o->reason) return usage_error(usage, "revoke needs --reason TEXT (why; it is kept)");
    perk_store *s = open_store(c, true);
    if (!s) return 1;
    perk_store_coupon_info info;
    int64_t held = 0;
    if (perk_store_coupon_revoke(s, code, o->by, o->reason, c->now, &info, &held) != PERK_STORE_OK)
        return store_error(s);
    perk_store_close(s);
    if (o->json) {
        json_t *doc = json_object();
        json_object_set_new(doc, "code", json_string(info.code));
        json_object_set_new(doc, "revoked_at", json_integer(info.revoked_at));
        json_object_set_new(doc, "held_by_reservations", json_integer(held));
        json_object_set_new(doc, "coupon", checkout_coupon_json(&info));
        return print_json_doc(doc);
    }
    printf("revoked coupon %s (campaign %s) by %s: %s\n", info.code, cli_safe(info.campaign),
           cli_safe(info.revoked_by), cli_safe(info.revoke_reason));
    if (held)
        printf("  %lld use(s) held by open reservations will be refused when they commit\n", (long long)held);
    return 0;
}

/* perk coupons change CAMPAIGN / change-code CODE [--expires DATE|never] [--max-uses N]
 * [--per-customer N] --reason TEXT [--by NAME]: the campaign's codes, or one code, changed in
 * place (perk_store_coupons_change). */
static int coupons_change(const common *c, const char *what, bool one_code, coupon_opts *o, const char *usage)
{
    if (!o->reason || !*o->reason) return usage_error(usage, "change needs --reason TEXT (why; it is kept)");
    if (!o->expires_set && !o->max_uses_set && !o->per_customer_set)
        return usage_error(usage, "change needs --expires, --max-uses or --per-customer");
    perk_store *s = open_store(c, true);
    if (!s) return 1;
    if (o->expires_text && strcmp(o->expires_text, "never") != 0) coupon_dates_in_zone(c, s, o);
    perk_store_coupon_change in = { .campaign = one_code ? NULL : what,
                                    .code = one_code ? what : NULL,
                                    .set_expires_at = o->expires_set,
                                    .expires_at = o->expires,
                                    .set_max_uses = o->max_uses_set,
                                    .max_uses = (int)o->max_uses,
                                    .set_max_per_customer = o->per_customer_set,
                                    .max_per_customer = (int)o->per_customer,
                                    .by = o->by,
                                    .reason = o->reason };
    perk_store_coupon_change_result res;
    if (perk_store_coupons_change(s, &in, c->now, &res) != PERK_STORE_OK) return store_error(s);
    perk_store_close(s);
    char norm[PERK_STORE_CODE_MAX];
    if (one_code && perk_store_coupon_normalize(what, norm) == PERK_STORE_OK) what = norm; /* as the store has it */
    if (o->json) {
        json_t *doc = json_pack("{s:s,s:s,s:I,s:I}", one_code ? "code" : "campaign", what, "by", o->by, "changed",
                                (json_int_t)res.changed, "revoked_left_alone", (json_int_t)res.revoked);
        if (doc && o->expires_set) json_object_set_new(doc, "expires_at", json_integer(o->expires));
        if (doc && o->max_uses_set) json_object_set_new(doc, "max_uses", json_integer(o->max_uses));
        if (doc && o->per_customer_set) json_object_set_new(doc, "max_per_customer", json_integer(o->per_customer));
        return print_json_doc(doc);
    }
    printf("changed %lld code(s) of %s %s", (long long)res.changed, one_code ? "coupon" : "campaign", cli_safe(what));
    if (res.revoked) printf(" (%lld revoked left alone)", (long long)res.revoked);
    printf("\n");
    return 0;
}

/* perk coupons list / export: the codes with their verdict at --now. */
typedef enum coupons_format { COUPONS_TEXT, COUPONS_JSON, COUPONS_CSV } coupons_format;

typedef struct coupons_out {
    coupons_format format;
    json_t *list;
    int64_t count;
    const cli_zone *zone; /* text times in the rule set's zone (CSV keeps UTC ISO 8601) */
} coupons_out;

static int list_coupon(const perk_store_coupon_info *k, void *ctx)
{
    coupons_out *out = ctx;
    const char *status = perk_store_coupon_status_message(k->status);
    char exp[CLI_ZONE_TIME_MAX];
    out->count++;
    switch (out->format) {
    case COUPONS_JSON: {
        json_t *o =
            json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:b}", "code", k->code, "campaign", k->campaign,
                      "status", status, "uses", (json_int_t)k->uses, "max_uses", (json_int_t)k->max_uses,
                      "max_per_customer", (json_int_t)k->max_per_customer, "restricted", k->restricted);
        if (!o) return 1;
        json_object_set_new(o, "expires_at", k->expires_at ? json_integer(k->expires_at) : json_null());
        return json_array_append_new(out->list, o) != 0;
    }
    case COUPONS_CSV:
        /* codes are A-Z 0-9 _ and campaigns are quoted, so no field needs more than quoting */
        printf("%s,\"", k->code);
        for (const char *p = k->campaign; *p; p++) printf(*p == '"' ? "\"\"" : "%c", *p);
        printf("\",%s,%lld,%lld,%lld,%s,%s\n", status, (long long)k->uses, (long long)k->max_uses,
               (long long)k->max_per_customer, k->expires_at ? fmt_time(k->expires_at, exp) : "",
               k->restricted ? "yes" : "no");
        return ferror(stdout) != 0;
    case COUPONS_TEXT: {
        char max[24] = "-", per[24] = "-"; /* 0 = unlimited */
        if (k->max_uses) snprintf(max, sizeof max, "%lld", (long long)k->max_uses);
        if (k->max_per_customer) snprintf(per, sizeof per, "%lld", (long long)k->max_per_customer);
        printf("%-24s %-16s %-8s %8lld %8s %8s  %s%s\n", k->code, cli_safe(k->campaign), status,
               (long long)k->uses, max, per, k->expires_at ? cli_zone_time(out->zone, k->expires_at, exp) : "never",
               k->restricted ? "  restricted" : "");
        return ferror(stdout) != 0;
    }
    }
    return 1;
}

static int coupons_list(const common *c, const char *campaign, coupons_format format)
{
    perk_store *s = open_store(c, false);
    if (!s) return 1;
    cli_zone zone;
    cli_zone_of_store(&zone, s, c->now);
    coupons_out out = { .format = format, .list = format == COUPONS_JSON ? json_array() : NULL, .zone = &zone };
    if (format == COUPONS_TEXT) cli_zone_note(&zone);
    if (format == COUPONS_TEXT)
        printf("%-24s %-16s %-8s %8s %8s %8s  %s\n", "CODE", "CAMPAIGN", "STATUS", "USES", "MAX", "PER-CUST",
               "EXPIRES");
    if (format == COUPONS_CSV)
        printf("code,campaign,status,uses,max_uses,max_per_customer,expires,restricted\n");
    perk_store_status st = perk_store_coupons_list(s, campaign, c->now, list_coupon, &out);
    cli_zone_free(&zone);
    if (st != PERK_STORE_OK) {
        json_decref(out.list);
        return store_error(s);
    }
    perk_store_close(s);
    if (format == COUPONS_JSON) {
        char *text = json_dumps(out.list, JSON_INDENT(2));
        json_decref(out.list);
        if (!text) {
            cli_error("out of memory");
            return 1;
        }
        puts(text);
        free(text);
    }
    return 0;
}

int cmd_coupons(int argc, char **argv)
{
    const cli_command *cmd = &cli_coupons;
    const char *usage = cmd->usage;
    common c;
    bool json = false;
    common_init(&c);
    coupon_opts o = { .count = -1 };
    char by_default[PERK_STORE_NAME_MAX];
    const char *user = getenv("USER");
    snprintf(by_default, sizeof by_default, "cli:%.50s", user && *user ? user : "unknown");
    o.by = by_default;
    int opt, status = 0;
    cli_parser p;
    cli_parse_begin(&p, cmd, true);
    while ((opt = cli_parse_next(&p, argc, argv)) != -1) {
        int handled = common_option(&c, opt, optarg, cmd, &status);
        if (handled < 0) return status;
        if (handled) continue;
        switch (opt) {
        case CLI_OPT_COUNT:
            if (!parse_int64(optarg, 1, 1000000, &o.count))
                return usage_error(usage, "--count must be 1..1000000");
            break;
        case CLI_OPT_MAX_USES:
            if (!parse_int64(optarg, 0, 1000000000, &o.max_uses))
                return usage_error(usage, "--max-uses must be a number >= 0 (0 = unlimited)");
            o.max_uses_set = true;
            break;
        case CLI_OPT_PER_CUSTOMER:
            if (!parse_int64(optarg, 0, 1000000000, &o.per_customer))
                return usage_error(usage, "--per-customer must be a number >= 0 (0 = unlimited)");
            o.per_customer_set = true;
            break;
        case CLI_OPT_EXPIRES:
            o.expires_set = true;
            if (strcmp(optarg, "never") == 0) { /* change: no end */
                o.expires = 0;
                o.expires_text = optarg;
                break;
            }
            if (!parse_time(optarg, true, &o.expires))
                return usage_error(usage,
                                   "--expires wants YYYY-MM-DD (valid through that day in the rule set's "
                                   "time zone), a time like 2026-03-01T12:00:00Z or epoch seconds, not \"%s\"",
                                   optarg);
            o.expires_text = optarg;
            break;
        case CLI_OPT_FROM:
            if (!parse_time(optarg, false, &o.from))
                return usage_error(usage,
                                   "--from wants YYYY-MM-DD (from midnight in the rule set's time zone), a "
                                   "time like 2026-03-01T12:00:00Z or epoch seconds, not \"%s\"",
                                   optarg);
            o.from_text = optarg;
            break;
        case CLI_OPT_PREFIX: o.prefix = optarg; break;
        case CLI_OPT_CAMPAIGN: o.campaign = optarg; break;
        case CLI_OPT_CUSTOMER: o.customer = optarg; break;
        case CLI_OPT_REASON: o.reason = optarg; break;
        case CLI_OPT_BY: o.by = optarg; break;
        case CLI_OPT_JSON: json = o.json = true; break;
        default: return bad_option(usage, argv);
        }
    }
    if (optind < argc && (strcmp(argv[optind], "list") == 0 || strcmp(argv[optind], "export") == 0)) {
        if (optind + 1 != argc) return usage_error(usage, "unexpected argument \"%s\"", argv[optind + 1]);
        return coupons_list(&c, o.campaign,
                            strcmp(argv[optind], "export") == 0 ? COUPONS_CSV
                            : json                              ? COUPONS_JSON
                                                                : COUPONS_TEXT);
    }
    if (optind + 2 != argc) return usage_error(usage, "expected a subcommand and its argument");
    const char *sub = argv[optind], *arg = argv[optind + 1];
    if (strcmp(sub, "wallet") == 0) return coupons_wallet(&c, arg, json);
    if (strcmp(sub, "issue") == 0) return coupons_issue(&c, arg, &o, usage);
    if (strcmp(sub, "revoke") == 0) return coupons_revoke(&c, arg, &o, usage);
    if (strcmp(sub, "change") == 0) return coupons_change(&c, arg, false, &o, usage);
    if (strcmp(sub, "change-code") == 0) return coupons_change(&c, arg, true, &o, usage);
    perk_store *s = NULL;
    if (strcmp(sub, "generate") == 0) {
        if (o.count < 0) return usage_error(usage, "generate needs --count N");
        if (!(s = open_store(&c, true))) return 1;
        coupon_dates_in_zone(&c, s, &o);
        int64_t left = o.count;
        if (perk_store_coupons_generate(s, arg, o.prefix, (int)o.count, o.expires, (int)o.max_uses,
                                        (int)o.per_customer, c.now, print_code, &left) != PERK_STORE_OK)
            return store_error(s);
        fprintf(stderr, "perk: generated %lld codes for campaign %s\n", (long long)o.count, arg);
    } else if (strcmp(sub, "add") == 0) {
        if (!o.campaign) return usage_error(usage, "add needs --campaign C");
        if (!(s = open_store(&c, true))) return 1;
        coupon_dates_in_zone(&c, s, &o);
        if (perk_store_coupon_add(s, arg, o.campaign, o.expires, (int)o.max_uses, (int)o.per_customer,
                                  o.customer, c.now) != PERK_STORE_OK)
            return store_error(s);
        char norm[PERK_STORE_CODE_MAX];
        perk_store_coupon_normalize(arg, norm);
        printf("added coupon %s to campaign %s\n", cli_safe(norm), cli_safe(o.campaign));
    } else if (strcmp(sub, "check") == 0) {
        if (!(s = open_store(&c, false))) return 1;
        perk_store_coupon_info info;
        if (perk_store_coupon_check(s, arg, o.customer, c.now, &info) != PERK_STORE_OK) return store_error(s);
        char exp[CLI_ZONE_TIME_MAX];
        cli_zone zone;
        cli_zone_of_store(&zone, s, c.now);
        cli_zone_note(&zone);
        printf("%s: %s", cli_safe(*info.code ? info.code : arg),
               perk_store_coupon_status_message(info.status));
        if (info.status != PERK_STORE_COUPON_UNKNOWN) {
            printf(" (campaign %s, uses %lld", cli_safe(info.campaign), (long long)info.uses);
            if (info.max_uses) printf(" of %lld", (long long)info.max_uses);
            if (o.customer) printf(", by %s %lld", cli_safe(o.customer), (long long)info.customer_uses);
            if (info.max_per_customer) printf(" of %lld", (long long)info.max_per_customer);
            printf(", expires %s%s)", info.expires_at ? cli_zone_time(&zone, info.expires_at, exp) : "never",
                   info.restricted ? ", restricted to one customer" : "");
        } else if (info.check_symbol_mismatch) {
            printf(" (the check symbol does not match: probably a typo)");
        }
        printf("\n");
        cli_zone_free(&zone);
        perk_store_close(s);
        return info.status == PERK_STORE_COUPON_VALID ? 0 : 1;
    } else {
        return usage_error(usage, "unknown coupons subcommand \"%s\"", sub);
    }
    perk_store_close(s);
    return 0;
}

/* ------------------------------------------------------------------ points */

/* The ledger rows: printed in zone, or added to list (--json). */
typedef struct ledger_out {
    const cli_zone *zone;
    int width;
    json_t *list;
} ledger_out;

static int print_entry(const perk_store_ledger_entry *e, void *ctx)
{
    ledger_out *l = ctx;
    if (l->list) {
        /* the fields of GET /v1/customers/ID/points */
        json_t *o = json_object();
        json_object_set_new(o, "id", json_integer(e->id));
        json_object_set_new(o, "kind", text_json(e->kind));
        json_object_set_new(o, "points", json_integer(e->points));
        json_object_set_new(o, "order_id", text_json(e->order_id));
        json_object_set_new(o, "rule_id", text_json(e->rule_id));
        json_object_set_new(o, "created_at", json_integer(e->created_at));
        json_object_set_new(o, "available_at", json_integer(e->available_at));
        json_object_set_new(o, "expires_at", time_json(e->expires_at));
        json_object_set_new(o, "note", text_json(e->note));
        json_array_append_new(l->list, o);
        return 0;
    }
    char created[CLI_ZONE_TIME_MAX], avail[CLI_ZONE_TIME_MAX], exp[CLI_ZONE_TIME_MAX];
    printf("%7lld  %-*s  %-7s  %+8lld  %-*s  %-*s  %-12s  %-10s  %s\n", (long long)e->id, l->width,
           cli_zone_time(l->zone, e->created_at, created), cli_safe(e->kind), (long long)e->points, l->width,
           cli_zone_time(l->zone, e->available_at, avail), l->width, cli_zone_time(l->zone, e->expires_at, exp),
           e->order_id ? cli_safe(e->order_id) : "-", e->rule_id ? cli_safe(e->rule_id) : "-",
           cli_safe(e->note));
    return 0;
}

int cmd_points(int argc, char **argv)
{
    const cli_command *cmd = &cli_points;
    const char *usage = cmd->usage;
    common c;
    common_init(&c);
    bool json = false;
    int opt, status = 0;
    cli_parser pp;
    cli_parse_begin(&pp, cmd, true);
    while ((opt = cli_parse_next(&pp, argc, argv)) != -1) {
        int handled = common_option(&c, opt, optarg, cmd, &status);
        if (handled < 0) return status;
        if (handled) continue;
        if (opt == CLI_OPT_JSON)
            json = true;
        else
            return bad_option(usage, argv);
    }
    if (optind + 1 != argc) return usage_error(usage, "expected one CUSTOMER");
    const char *customer = argv[optind];
    perk_store *s = open_store(&c, false);
    if (!s) return 1;
    perk_store_points_summary p;
    if (perk_store_points(s, customer, c.now, NULL, &p) != PERK_STORE_OK) return store_error(s);
    cli_zone zone;
    cli_zone_of_store(&zone, s, c.now);
    ledger_out l = { &zone, zone_width(&zone), json ? json_array() : NULL };
    if (!json) {
        cli_zone_note(&zone);
        char next[CLI_ZONE_TIME_MAX];
        printf("customer:       %s\n", cli_safe(customer));
        printf("balance:        %lld\n", (long long)p.balance);
        printf("pending:        %lld\n", (long long)p.pending);
        printf("expiring soon:  %lld (within 30 days; next expiry %s)\n", (long long)p.expiring_soon,
               cli_zone_time(&zone, p.next_expiry_at, next));
        printf("debt:           %lld\n", (long long)p.debt);
        printf("tier:           %s (as last recorded)\n", *p.tier ? cli_safe(p.tier) : "none");
        printf("\n%7s  %-*s  %-7s  %8s  %-*s  %-*s  %-12s  %-10s  %s\n", "ENTRY", l.width, "DATE", "KIND",
               "POINTS", l.width, "AVAILABLE", l.width, "EXPIRES", "ORDER", "RULE", "NOTE");
    }
    if (perk_store_points_history(s, customer, print_entry, &l) != PERK_STORE_OK) {
        json_decref(l.list);
        cli_zone_free(&zone);
        return store_error(s);
    }
    cli_zone_free(&zone);
    perk_store_close(s);
    if (!json) return 0;
    json_t *o = json_object();
    json_object_set_new(o, "customer_id", json_string(customer));
    json_object_set_new(o, "balance", json_integer(p.balance));
    json_object_set_new(o, "pending", json_integer(p.pending));
    json_object_set_new(o, "expiring_soon", json_integer(p.expiring_soon));
    json_object_set_new(o, "next_expiry_at", time_json(p.next_expiry_at));
    json_object_set_new(o, "debt", json_integer(p.debt));
    json_object_set_new(o, "tier", json_string(p.tier));
    json_object_set_new(o, "ledger", l.list);
    return cli_print_json(o) ? 0 : 1;
}

/* ------------------------------------------------------------------ events */

static volatile sig_atomic_t stop_requested;

static void request_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
}

typedef struct event_out {
    int64_t last_id;
    int count;
    bool write_failed;
} event_out;

static int print_event(int64_t id, const char *type, int64_t time, const char *data, void *ctx)
{
    event_out *out = ctx;
    json_error_t err;
    json_t *payload = json_loads(data, 0, &err);
    json_t *line = json_pack("{s:I, s:s, s:I, s:o}", "id", (json_int_t)id, "type", type, "time",
                             (json_int_t)time, "data", payload ? payload : json_string(data));
    char *text = line ? json_dumps(line, JSON_SORT_KEYS | JSON_COMPACT) : NULL;
    json_decref(line);
    if (!text || puts(text) == EOF) {
        free(text);
        out->write_failed = true;
        return 1;
    }
    free(text);
    out->last_id = id;
    out->count++;
    return 0;
}

/* perk events ack ID --consumer NAME: the consumer has stored every event up to ID. */
static int events_ack(const common *c, const char *usage, const char *consumer, int argc, char **argv)
{
    if (!consumer) return usage_error(usage, "ack needs --consumer NAME");
    if (optind + 1 >= argc) return usage_error(usage, "say which event: perk events ack ID --consumer NAME");
    if (optind + 2 != argc) return usage_error(usage, "unexpected argument \"%s\"", argv[optind + 2]);
    int64_t id;
    if (!parse_int64(argv[optind + 1], 1, INT64_MAX, &id))
        return usage_error(usage, "the event id must be a number >= 1, not \"%s\"", argv[optind + 1]);
    perk_store *s = open_store(c, true);
    if (!s) return 1;
    if (perk_store_ack(s, consumer, id) != PERK_STORE_OK) return store_error(s);
    int64_t position = 0;
    if (perk_store_consumer_position(s, consumer, &position) != PERK_STORE_OK) return store_error(s);
    perk_store_close(s);
    /* acknowledging an older id is a no-op: say where the consumer stands */
    printf("%s: acknowledged up to %lld\n", cli_safe(consumer), (long long)position);
    return 0;
}

int cmd_events(int argc, char **argv)
{
    const cli_command *cmd = &cli_events;
    const char *usage = cmd->usage;
    common c;
    common_init(&c);
    int64_t after = -1, limit = -1;
    bool follow = false, ack = false;
    const char *consumer = NULL;
    int opt, status = 0;
    cli_parser p;
    cli_parse_begin(&p, cmd, true);
    while ((opt = cli_parse_next(&p, argc, argv)) != -1) {
        int handled = common_option(&c, opt, optarg, cmd, &status);
        if (handled < 0) return status;
        if (handled) continue;
        switch (opt) {
        case CLI_OPT_AFTER:
            if (!parse_int64(optarg, 0, INT64_MAX, &after))
                return usage_error(usage, "--after must be an event id >= 0");
            break;
        case CLI_OPT_LIMIT:
            if (!parse_int64(optarg, 1, INT64_MAX, &limit)) return usage_error(usage, "--limit must be >= 1");
            break;
        case CLI_OPT_FOLLOW: follow = true; break;
        case CLI_OPT_CONSUMER: consumer = optarg; break;
        case CLI_OPT_ACK: ack = true; break;
        default: return bad_option(usage, argv);
        }
    }
    if (optind < argc && strcmp(argv[optind], "ack") == 0) return events_ack(&c, usage, consumer, argc, argv);
    if (optind != argc) return usage_error(usage, "unexpected argument \"%s\"", argv[optind]);
    if (ack && !consumer) return usage_error(usage, "--ack needs --consumer NAME");
    /* A follower acknowledging what it wrote to a pipe would lose what the consumer had not yet
     * stored when it died: the consumer acknowledges itself (perk events ack ID). */
    if (ack && follow)
        return usage_error(usage, "--follow never acknowledges: the consumer runs `perk events ack ID "
                                  "--consumer NAME` after it has stored event ID");
    if (follow && limit > 0) return usage_error(usage, "--limit and --follow do not go together");
    perk_store *s = open_store(&c, ack);
    if (!s) return 1;
    if (after < 0) {
        after = 0;
        if (consumer && perk_store_consumer_position(s, consumer, &after) != PERK_STORE_OK)
            return store_error(s);
    }
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = request_stop; /* no SA_RESTART: the poll sleep ends at once */
    sigemptyset(&sa.sa_mask);
    if (follow) {
        stop_requested = 0;
        sigaction(SIGINT, &sa, &old_int);
        sigaction(SIGTERM, &sa, &old_term);
    }
    int rc = 0;
    int64_t left = limit;
    while (!stop_requested) {
        int batch = left > 0 && left < 1000 ? (int)left : 1000;
        event_out out = { .last_id = after };
        if (perk_store_events(s, after, batch, print_event, &out) != PERK_STORE_OK) {
            cli_error("%s", perk_store_errmsg(s));
            rc = 1;
            break;
        }
        if (fflush(stdout) != 0 || out.write_failed) {
            cli_error("cannot write events to standard output: %s", strerror(errno));
            rc = 1;
            break;
        }
        /* Acknowledge only what has been written out: at-least-once delivery. */
        if (ack && out.count > 0 && perk_store_ack(s, consumer, out.last_id) != PERK_STORE_OK) {
            cli_error("%s", perk_store_errmsg(s));
            rc = 1;
            break;
        }
        after = out.last_id;
        if (left > 0 && (left -= out.count) <= 0) break;
        if (out.count == batch) continue; /* more may be waiting */
        if (!follow) break;
        struct timespec ts = { .tv_sec = 0, .tv_nsec = 200 * 1000000L };
        nanosleep(&ts, NULL);
    }
    if (follow) {
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
    }
    perk_store_close(s);
    return rc;
}

/* ------------------------------------------------------------------ expire */

int cmd_expire(int argc, char **argv)
{
    const cli_command *cmd = &cli_expire;
    const char *usage = cmd->usage;
    common c;
    common_init(&c);
    bool json = false;
    int opt, status = 0;
    cli_parser p;
    cli_parse_begin(&p, cmd, true);
    while ((opt = cli_parse_next(&p, argc, argv)) != -1) {
        int handled = common_option(&c, opt, optarg, cmd, &status);
        if (handled < 0) return status;
        if (handled) continue;
        if (opt == CLI_OPT_JSON)
            json = true;
        else
            return bad_option(usage, argv);
    }
    if (optind != argc) return usage_error(usage, "unexpected argument \"%s\"", argv[optind]);
    perk_store *s = open_store(&c, true);
    if (!s) return 1;
    int64_t points = 0, customers = 0;
    if (perk_store_expire_points(s, c.now, NULL, &points, &customers) != PERK_STORE_OK) return store_error(s);
    cli_zone zone;
    cli_zone_of_store(&zone, s, c.now);
    perk_store_close(s);
    int rc = 0;
    if (json) {
        rc = cli_print_json(json_pack("{s:I, s:I, s:I}", "points", (json_int_t)points, "customers",
                                      (json_int_t)customers, "now", (json_int_t)c.now))
                 ? 0
                 : 1;
    } else {
        char at[CLI_ZONE_TIME_MAX];
        cli_zone_note(&zone);
        printf("expired %lld points of %lld customers (as of %s)\n", (long long)points, (long long)customers,
               cli_zone_time(&zone, c.now, at));
    }
    cli_zone_free(&zone);
    return rc;
}

/* -------------------------------------------------------------------- db */

static int print_problem(const char *problem, void *ctx)
{
    (void)ctx;
    printf("problem: %s\n", problem);
    return 0;
}

/* perk db backup FILE: SQLite's online backup, while checkouts keep writing. */
static int db_backup(const common *c, const char *usage, int argc, char **argv)
{
    if (optind + 1 >= argc) return usage_error(usage, "say where to write the backup: perk db backup FILE");
    if (optind + 2 != argc) return usage_error(usage, "unexpected argument \"%s\"", argv[optind + 2]);
    const char *file = argv[optind + 1];
    perk_store *s = open_store(c, false);
    if (!s) return 1;
    int64_t pages = 0;
    if (perk_store_backup(s, file, &pages) != PERK_STORE_OK) return store_error(s);
    perk_store_close(s);
    printf("%s: backed up to %s (%lld pages, checked)\n", cli_safe(c->db), cli_safe(file), (long long)pages);
    return 0;
}

static void print_copied(const char *table, int64_t rows, void *ctx)
{
    (void)ctx;
    printf("  %-18s %lld\n", table, (long long)rows);
}

/* perk db check on one open store: the problems listed, their count returned (-1: could not run). */
static int64_t db_check_one(perk_store *s, const char *name)
{
    int64_t problems = 0;
    if (perk_store_check(s, print_problem, NULL, &problems) != PERK_STORE_OK) {
        cli_error("checking %s: %s", cli_safe(name), perk_store_errmsg(s));
        return -1;
    }
    if (problems)
        cli_error("%s: %lld problem%s found (listed above)", cli_safe(name), (long long)problems,
                  problems == 1 ? "" : "s");
    else
        printf("%s: ok (perk db check)\n", cli_safe(name));
    return problems;
}

/* perk db copy --from STORE --to STORE: every row into an empty store, then both checked. */
static int db_copy(const char *usage, const char *from, const char *to)
{
    if (!from || !to) return usage_error(usage, "perk db copy needs both --from STORE and --to STORE");
    if (strcmp(from, to) == 0) return usage_error(usage, "--from and --to name the same store");
    if (cli_db_missing(from)) {
        cli_error("cannot open database %s: %s (check --from)", cli_safe(from), strerror(errno));
        return 1;
    }
    perk_store *src = NULL, *dst = NULL;
    if (perk_store_open_readonly(from, &src) != PERK_STORE_OK) {
        cli_error("%s: %s", cli_safe(from), perk_store_errmsg(src));
        perk_store_close(src);
        return 1;
    }
    if (perk_store_open(to, &dst) != PERK_STORE_OK) {
        cli_error("%s: %s", cli_safe(to), perk_store_errmsg(dst));
        perk_store_close(dst);
        perk_store_close(src);
        return 1;
    }
    printf("copying %s to %s, rows per table:\n", cli_safe(from), cli_safe(to));
    if (perk_store_copy(src, dst, print_copied, NULL) != PERK_STORE_OK) {
        cli_error("copying %s to %s: %s", cli_safe(from), cli_safe(to), perk_store_errmsg(dst));
        perk_store_close(dst);
        perk_store_close(src);
        return 1;
    }
    int64_t a = db_check_one(src, from), b = db_check_one(dst, to);
    perk_store_close(dst);
    perk_store_close(src);
    if (a != 0 || b != 0) {
        cli_error("the copy was committed, but perk db check did not pass on both stores (above)");
        return 1;
    }
    return 0;
}

int cmd_db(int argc, char **argv)
{
    const cli_command *cmd = &cli_db;
    const char *usage = cmd->usage;
    common c;
    common_init(&c);
    const char *from = NULL, *to = NULL;
    cli_parser p;
    int opt, status = 0;
    cli_parse_begin(&p, cmd, true);
    while ((opt = cli_parse_next(&p, argc, argv)) != -1) {
        int handled = common_option(&c, opt, optarg, cmd, &status);
        if (handled < 0) return status;
        if (handled) continue;
        if (opt == CLI_OPT_FROM)
            from = optarg;
        else if (opt == CLI_OPT_TO)
            to = optarg;
        else
            return bad_option(usage, argv);
    }
    if (optind >= argc) return usage_error(usage, "say what to do: check, backup or copy");
    if (strcmp(argv[optind], "copy") == 0) {
        if (optind + 1 != argc) return usage_error(usage, "unexpected argument \"%s\"", argv[optind + 1]);
        return db_copy(usage, from, to);
    }
    if (from || to) return usage_error(usage, "--from and --to go with perk db copy");
    if (strcmp(argv[optind], "backup") == 0) return db_backup(&c, usage, argc, argv);
    if (strcmp(argv[optind], "check") != 0)
        return usage_error(usage, "unknown subcommand \"%s\" (check, backup or copy)", argv[optind]);
    if (optind + 1 != argc) return usage_error(usage, "unexpected argument \"%s\"", argv[optind + 1]);
    perk_store *s = open_store(&c, false);
    if (!s) return 1;
    int64_t problems = 0;
    if (perk_store_check(s, print_problem, NULL, &problems) != PERK_STORE_OK) return store_error(s);
    perk_store_close(s);
    if (problems) {
        cli_error("%s: %lld problem%s found (listed above); restore a backup or investigate before "
                  "committing more orders",
                  c.db, (long long)problems, problems == 1 ? "" : "s");
        return 1;
    }
    printf("%s: ok (structure, orders and their ledger entries, budgets, coupons, refunds)\n", c.db);
    return 0;
}
