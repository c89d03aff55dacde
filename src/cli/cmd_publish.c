/* cmd_publish.c - `perk publish`: compile, verify and store a rule-set version, active now or
 * from --at. `perk commit` is cmd_commit.c; the other store commands are in cmd_store.c. */
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

/* "2026-03-01T12:00:00Z" (UTC) for messages. */
static const char *utc_text(int64_t t, char buf[32])
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm) || !strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(buf, 32, "%lld", (long long)t);
    return buf;
}

int cmd_publish(int argc, char **argv)
{
    const char *db = cli_default_db(), *message = NULL, *author = getenv("USER"), *at = NULL;
    bool json = false;
    cli_parser opts;
    int ch;
    cli_parse_begin(&opts, &cli_publish, false);
    while ((ch = cli_parse_next(&opts, argc, argv)) != -1) {
        switch (ch) {
        case CLI_OPT_DB: db = optarg; break;
        case CLI_OPT_MESSAGE: message = optarg; break;
        case CLI_OPT_AUTHOR: author = optarg; break;
        case CLI_OPT_AT: at = optarg; break;
        case CLI_OPT_JSON: json = true; break;
        case CLI_OPT_HELP: cli_print_help(stdout, &cli_publish); return 0;
        case CLI_OPT_INCLUDE_PATH:
            if (!cli_include_path(optarg)) return 2;
            break;
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
    if (at && !cli_time_option("--at", at, false, &activate_at)) goto usage;
    if (at && activate_at < now) {
        char a[32], n[32];
        fprintf(stderr,
                "perk: error: --at %s (%s) is in the past (now is %s); leave --at out to activate now\n", at,
                utc_text(activate_at, a), utc_text(now, n));
        return 2;
    }
    compiler c;
    compiler_init(&c);
    cli_include_paths_set(&c.sources);
    uint8_t *bytes = NULL;
    size_t len = 0;
    bool ok = cli_compile_files(&c, (const char *const *)argv + optind, argc - optind, &bytes, &len);
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
        json_object_set_new(sources, c.sources.files[i].path,
                            json_stringn(c.sources.files[i].text, c.sources.files[i].len));
    char *sources_text = json_dumps(sources, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(sources);
    compiler_free(&c);
    /* the rule set's own zone for the activation time (bytes were verified by the compiler) */
    perk_error perr;
    perk_program *prog = perk_program_load(bytes, len, &perr);
    cli_zone zone;
    cli_zone_of_program(&zone, prog);

    int status = 1;
    perk_store *st = cli_open_store(db);
    if (st) {
        int64_t version = 0;
        perk_store_status s = perk_store_publish(st, bytes, len, sources_text, author ? author : "unknown",
                                                 message, activate_at, now, &version);
        if (s == PERK_STORE_OK) {
            char sha[65];
            perk_store_sha256_hex(bytes, len, sha);
            char when[32], local[CLI_ZONE_TIME_MAX];
            if (json) {
                json_t *o = json_pack("{s:I, s:I, s:s, s:I, s:b, s:I}", "version", (json_int_t)version,
                                      "bytecode_bytes", (json_int_t)len, "sha256", sha, "activate_at",
                                      (json_int_t)(activate_at > now ? activate_at : now), "scheduled",
                                      activate_at > now, "created_at", (json_int_t)now);
                if (o && prog) {
                    json_object_set_new(o, "ruleset", json_string(perk_program_name(prog)));
                    json_object_set_new(o, "timezone", json_string(zone.name));
                }
                status = cli_print_json(o) ? 0 : 1;
            } else if (activate_at > now) {
                printf("published version %lld (%zu bytes, sha256 %.12s), scheduled: active from %s (%s)\n",
                       (long long)version, len, sha, cli_zone_time(&zone, activate_at, local),
                       utc_text(activate_at, when));
                status = 0;
            } else {
                printf("published version %lld (%zu bytes, sha256 %.12s), active now\n", (long long)version,
                       len, sha);
                status = 0;
            }
        } else {
            fprintf(stderr, "perk: error: %s\n", perk_store_errmsg(st));
        }
        perk_store_close(st);
    }
    cli_zone_free(&zone);
    perk_program_free(prog);
    free(sources_text);
    free(bytes);
    return status;
usage:
    fprintf(stderr, "usage: %s\n", cli_publish.usage);
    return 2;
}
