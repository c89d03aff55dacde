/* cmd_publish.c - `perk publish` (compile, verify, store a version) and `perk commit` (evaluate
 * an order against the store and commit it). The other store commands are in cmd_store.c. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cart_json.h"
#include "checkout.h"
#include "civil.h"
#include "cli.h"
#include "compiler.h"
#include "result_json.h"
#include "store.h"

static const char *default_db(void) {
    const char *env = getenv("PERK_DB");
    return env && *env ? env : "perk.db";
}

/* "2026-12-01T00:00+08:00" or epoch seconds. */
static bool parse_time(const char *s, int64_t *out) {
    char *end;
    long long v = strtoll(s, &end, 10);
    if (*s && !*end) {
        *out = v;
        return true;
    }
    return civil_parse_timestamp(s, strlen(s), out);
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
    static const struct option opts[] = {{"db", required_argument, 0, 'd'},     {"message", required_argument, 0, 'm'},
                                         {"author", required_argument, 0, 'a'}, {"at", required_argument, 0, 't'},
                                         {0, 0, 0, 0}};
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "m:", opts, NULL)) != -1) {
        switch (ch) {
        case 'd': db = optarg; break;
        case 'm': message = optarg; break;
        case 'a': author = optarg; break;
        case 't': at = optarg; break;
        default: goto usage;
        }
    }
    if (optind >= argc || !message) goto usage;
    int64_t now = (int64_t)time(NULL), activate_at = 0;
    if (at && !parse_time(at, &activate_at)) {
        fprintf(stderr, "perk: error: --at '%s' is not a time like 2026-12-01T00:00+08:00\n", at);
        return 2;
    }
    compiler c;
    compiler_init(&c);
    uint8_t *bytes = NULL;
    size_t len = 0;
    bool ok = compiler_compile_files(&c, (const char *const *)argv + optind, argc - optind, &bytes, &len);
    diag_sort(&c.diags);
    diag_print_text(&c.diags, stderr, cli_color(2, false));
    if (!ok) {
        diag_print_summary(&c.diags, stderr);
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
            printf("published version %lld (%zu bytes, sha256 %.12s)%s\n", (long long)version, len, sha,
                   activate_at > now ? ", active from the time given" : ", active now");
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
    fprintf(stderr, "usage: perk publish FILE... -m MESSAGE [--at TIME] [--author NAME] [--db FILE]\n");
    return 2;
}

/* The program to commit against: --program, else the version active in the store. */
static perk_program *commit_program(perk_store *st, const char *path, int64_t now, int64_t *version) {
    *version = 0;
    if (path) return compiler_load_program(path, false);
    perk_store_status s = perk_store_active_version(st, now, version);
    if (s != PERK_STORE_OK || *version <= 0) {
        fprintf(stderr, "perk: error: no rule set is active in the store; publish one or pass --program\n");
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
    static const struct option opts[] = {{"db", required_argument, 0, 'd'}, {"program", required_argument, 0, 'p'}, {0, 0, 0, 0}};
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'd': db = optarg; break;
        case 'p': program_path = optarg; break;
        default: goto usage;
        }
    }
    if (optind != argc - 1) goto usage;
    const char *order_path = argv[optind];
    int status = 1;
    perk_store *st = open_store(db);
    if (!st) return 1;
    size_t text_len = 0;
    char *text = cli_read_file(order_path, &text_len);
    int64_t version = 0;
    perk_program *prog = text ? commit_program(st, program_path, (int64_t)time(NULL), &version) : NULL;
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
    bool ok = checkout_place_order(st, prog, version, ctx, doc, text, &out);
    if (!ok) {
        fprintf(stderr, "perk: error: %s: order not committed: %s\n", order_path, out.message);
        checkout_outcome_free(&out);
        goto done;
    }
    json_t *o = json_object();
    json_object_set_new(o, "order_id", json_string(doc->order.id));
    json_object_set_new(o, "status", json_string(out.commit.replay ? "already committed" : "committed"));
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
    fprintf(stderr, "usage: perk commit ORDER.json [--program PROGRAM] [--db FILE]\n");
    return 2;
}
