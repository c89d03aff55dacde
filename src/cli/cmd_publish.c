/* cmd_publish.c - `perk publish` (compile, verify, store a version) and `perk commit` (evaluate
 * an order against the store and commit it). The other store commands are in cmd_store.c. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "json/json.h"
#include "checkout/checkout.h"
#include "civil.h"
#include "cli.h"
#include "compiler/compiler.h"
#include "store/store.h"

static const char *default_db(void) {
    const char *env = getenv("PERK_DB");
    return env && *env ? env : "perk.db";
}

/* "2026-12-01T00:00+08:00" or epoch seconds. */
/* Epoch seconds or an RFC 3339 time, from 1970 to the end of year 9999 (CLI_EPOCH_MAX): a
 * number that does not fit (or 9223372036854775807, which no calendar shows) is refused. */
static bool parse_time(const char *s, int64_t *out) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*s && !*end) {
        if (errno || v < 0 || v > CLI_EPOCH_MAX) return false;
        *out = v;
        return true;
    }
    return civil_parse_timestamp(s, strlen(s), out) && *out >= 0 && *out <= CLI_EPOCH_MAX;
}

/* "2026-03-01T12:00:00Z" (UTC) for messages. */
static const char *utc_text(int64_t t, char buf[32]) {
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm) || !strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm)) snprintf(buf, 32, "%lld", (long long)t);
    return buf;
}

static perk_store *open_store(const char *path) {
    perk_store *st = NULL;
    perk_store_status s = perk_store_open(path, &st);
    if (s != PERK_STORE_OK) {
        fprintf(stderr, "perk: error: %s: %s\n", path, st ? perk_store_errmsg(st) : perk_store_status_message(s));
        perk_store_close(st);
        return NULL;
    }
    return st;
}

int cmd_publish(int argc, char **argv) {
    const char *db = default_db(), *message = NULL, *author = getenv("USER"), *at = NULL;
    cli_parser opts;
    int ch;
    cli_parse_begin(&opts, &cli_publish, false);
    while ((ch = cli_parse_next(&opts, argc, argv)) != -1) {
        switch (ch) {
        case CLI_OPT_DB: db = optarg; break;
        case CLI_OPT_MESSAGE: message = optarg; break;
        case CLI_OPT_AUTHOR: author = optarg; break;
        case CLI_OPT_AT: at = optarg; break;
        case CLI_OPT_HELP: cli_print_help(stdout, &cli_publish); return 0;
        case CLI_OPT_INCLUDE_PATH: if (!cli_include_path(optarg)) return 2; break;
        default: goto usage;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "perk: error: no rule files given\n");
        goto usage;
    }
    if (!message || !*message) {
        fprintf(stderr, "perk: error: say what changed with -m MESSAGE (kept in the history)\n");
        goto usage;
    }
    int64_t now = (int64_t)time(NULL), activate_at = 0;
    if (at && !parse_time(at, &activate_at)) {
        fprintf(stderr, "perk: error: --at '%s' is not a time like 2026-12-01T00:00+08:00 (or epoch seconds from 0 "
                        "to %lld, the end of year 9999)\n", at, (long long)CLI_EPOCH_MAX);
        return 2;
    }
    if (at && activate_at < now) {
        char a[32], n[32];
        fprintf(stderr, "perk: error: --at %s (%s) is in the past (now is %s); leave --at out to activate now\n", at,
                utc_text(activate_at, a), utc_text(now, n));
        return 2;
    }
    compiler c;
    compiler_init(&c);
    cli_include_paths_set(&c.sources);
    uint8_t *bytes = NULL;
    size_t len = 0;
    bool ok = compiler_compile_files(&c, (const char *const *)argv + optind, argc - optind, &bytes, &len);
    compiler_report(&c, cli_color(2, false));
    if (!ok) {
        fprintf(stderr, "perk: nothing was published\n");
        compiler_free(&c);
        free(bytes);
        return 1;
    }
    /* keep every source file (includes too) with the version, for `perk show` and audits */
    json_t *sources = json_object();
    for (int i = 0; i < c.sources.count; i++)
        json_object_set_new(sources, c.sources.files[i].path, json_stringn(c.sources.files[i].text, c.sources.files[i].len));
    char *sources_text = json_dumps(sources, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(sources);
    compiler_free(&c);

    int status = 1;
    perk_store *st = open_store(db);
    if (st) {
        int64_t version = 0;
        perk_store_status s = perk_store_publish(st, bytes, len, sources_text, author ? author : "unknown", message,
                                                 activate_at, now, &version);
        if (s == PERK_STORE_OK) {
            char sha[65];
            perk_store_sha256_hex(bytes, len, sha);
            char when[32];
            if (activate_at > now)
                printf("published version %lld (%zu bytes, sha256 %.12s), scheduled: active from %s\n", (long long)version,
                       len, sha, utc_text(activate_at, when));
            else
                printf("published version %lld (%zu bytes, sha256 %.12s), active now\n", (long long)version, len, sha);
            status = 0;
        } else {
            fprintf(stderr, "perk: error: %s\n", perk_store_errmsg(st));
        }
        perk_store_close(st);
    }
    free(sources_text);
    free(bytes);
    return status;
usage:
    fprintf(stderr, "usage: %s\n", cli_publish.usage);
    return 2;
}

/* $.order.id of an order document, or NULL (the full parse later explains what is wrong). */
static char *peek_order_id(const char *text, size_t len) {
    json_t *root = json_loadb(text, len, 0, NULL);
    const char *id = json_string_value(json_object_get(json_object_get(root, "order"), "id"));
    char *copy = id ? strdup(id) : NULL;
    json_decref(root);
    return copy;
}

/* The program to commit against: --program; else, for an order already committed, the version
 * it was priced with (so that a retry replays it even after a publish); else the version active
 * in the store. */
static perk_program *commit_program(perk_store *st, const char *path, const char *order_id, int64_t now,
                                    int64_t *version) {
    *version = 0;
    if (path) return compiler_load_program(path, false);
    bool committed = false;
    perk_store_status s = PERK_STORE_OK;
    if (order_id) s = perk_store_order_uses(st, order_id, &committed, version, NULL, NULL);
    if (s != PERK_STORE_OK) {
        fprintf(stderr, "perk: error: %s\n", perk_store_errmsg(st));
        return NULL;
    }
    if (!committed || *version <= 0) s = perk_store_active_version(st, now, version);
    if (s != PERK_STORE_OK || *version <= 0) {
        fprintf(stderr, "perk: error: no rule set is active in the store; publish one (perk publish) or pass --program\n");
        return NULL;
    }
    perk_store_version v;
    memset(&v, 0, sizeof v);
    s = perk_store_get_version(st, *version, &v);
    perk_program *p = NULL;
    if (s == PERK_STORE_OK) {
        perk_error err;
        p = perk_program_load(v.bytecode, v.bytecode_len, &err);
        if (!p) fprintf(stderr, "perk: error: version %lld does not load: %s\n", (long long)*version, err.message);
    } else {
        fprintf(stderr, "perk: error: %s\n", perk_store_errmsg(st));
    }
    perk_store_free_version(&v);
    return p;
}

int cmd_commit(int argc, char **argv) {
    const char *db = default_db(), *program_path = NULL;
    bool dry_run = false, delayed = false;
    cli_parser opts;
    int ch;
    cli_parse_begin(&opts, &cli_commit, false);
    while ((ch = cli_parse_next(&opts, argc, argv)) != -1) {
        switch (ch) {
        case CLI_OPT_DB: db = optarg; break;
        case CLI_OPT_PROGRAM: program_path = optarg; break;
        case CLI_OPT_DRY_RUN: dry_run = true; break;
        case CLI_OPT_DELAYED: delayed = true; break;
        case CLI_OPT_HELP: cli_print_help(stdout, &cli_commit); return 0;
        default: goto usage;
        }
    }
    if (program_path && !dry_run) {
        /* budgets, promotions and points come from the published version: a program from a file
         * could raise its own limits */
        fprintf(stderr, "perk: error: --program %s is not a published version: an order is committed only "
                        "when priced by the store's active version (publish the rules with perk publish), "
                        "or evaluated with --dry-run, which commits nothing\n",
                program_path);
        return 2;
    }
    if (optind >= argc) {
        fprintf(stderr, "perk: error: no order file given\n");
        goto usage;
    }
    if (optind != argc - 1) {
        fprintf(stderr, "perk: error: one order per call: unexpected argument '%s'\n", argv[optind + 1]);
        goto usage;
    }
    const char *order_path = argv[optind];
    /* Without --program the rules come from the store, which must exist: do not create an
     * empty database for a mistyped --db. */
    if (!program_path && access(db, F_OK) != 0) {
        fprintf(stderr, "perk: error: %s: %s (publish a rule set first, or check --db / $PERK_DB)\n", db,
                strerror(errno));
        return 1;
    }
    int status = 1;
    size_t text_len = 0;
    char *text = cli_read_file(order_path, &text_len);
    if (!text) return 1;
    perk_store *st = open_store(db);
    if (!st) {
        free(text);
        return 1;
    }
    int64_t version = 0;
    char *order_id = peek_order_id(text, text_len);
    perk_program *prog = commit_program(st, program_path, order_id, (int64_t)time(NULL), &version);
    free(order_id);
    perk_context *ctx = NULL;
    cart_doc *doc = NULL;
    char err[512];
    if (!prog) goto done;
    perk_limits lim = perk_limits_default();
    perk_error perr;
    ctx = perk_context_new(prog, &lim, &perr);
    if (!ctx) {
        fprintf(stderr, "perk: error: %s\n", perr.message);
        goto done;
    }
    doc = cart_json_parse(text, text_len, perk_program_exponent(prog), perk_program_currency(prog), &lim, err, sizeof err);
    if (!doc) {
        fprintf(stderr, "perk: error: %s: %s\n", order_path, err);
        goto done;
    }
    if (!doc->has_time) {
        fprintf(stderr, "perk: error: %s: $.order.time is required to commit an order\n", order_path);
        goto done;
    }
    checkout_outcome out;
    checkout_options copts = {.dry_run = dry_run, .delayed = delayed};
    bool ok = checkout_place_order_opts(st, prog, version, ctx, doc, text, &copts, &out);
    if (!ok) {
        fprintf(stderr, "perk: error: %s: %s\n", order_path, out.message);
        checkout_outcome_free(&out);
        goto done;
    }
    json_t *o = json_object();
    json_object_set_new(o, "order_id", json_string(doc->order.id));
    json_object_set_new(o, "status", json_string(out.dry_run          ? "dry run (nothing committed)"
                                                 : out.commit.replay ? "already committed"
                                                                     : "committed"));
    json_object_set_new(o, "attempts", json_integer(out.attempts));
    json_object_set_new(o, "ruleset_version", json_integer(version));
    json_object_set_new(o, "points_earned", json_integer(out.commit.points_earned));
    json_object_set_new(o, "points_redeemed", json_integer(out.commit.points_redeemed));
    json_object_set_new(o, "balance", json_integer(out.commit.balance));
    json_object_set_new(o, "pending", json_integer(out.commit.pending));
    json_object_set_new(o, "tier", json_string(out.commit.tier));
    json_object_set_new(o, "event_id", json_integer(out.commit.event_id));
    result_names *names = result_names_from_program(prog);
    char *result = names ? result_json_render(names, out.result, doc, 0) : NULL;
    result_names_free(names);
    json_t *rj = result ? json_loads(result, 0, NULL) : NULL;
    json_object_set_new(o, "result", rj ? rj : json_null());
    free(result);
    char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    printf("%s\n", s);
    free(s);
    json_decref(o);
    checkout_outcome_free(&out);
    status = 0;
done:
    cart_json_free(doc);
    perk_context_free(ctx);
    perk_program_free(prog);
    free(text);
    perk_store_close(st);
    return status;
usage:
    fprintf(stderr, "usage: %s\n", cli_commit.usage);
    return 2;
}
