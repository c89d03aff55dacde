/* cmd_serve.c - `perk serve` (the checkout service over HTTP, docs/service.md) and `perk keys`
 * (its API keys: created with a scope, printed once, stored hashed). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "service/service.h"
#include "store/store.h"

int cmd_serve(int argc, char **argv)
{
    serve_options o = SERVE_OPTIONS_DEFAULT;
    const char *env = getenv("PERK_DB");
    o.db = env && *env ? env : NULL;
    cli_parser opts;
    int ch;
    cli_parse_begin(&opts, &cli_serve, false);
    while ((ch = cli_parse_next(&opts, argc, argv)) != -1) {
        int64_t v = 0;
        switch (ch) {
        case CLI_OPT_DB: o.db = optarg; break;
        case CLI_OPT_LISTEN: o.listen = optarg; break;
        case CLI_OPT_THREADS:
            if (!cli_number("--threads", optarg, 1, 256, &v)) return 2;
            o.threads = (unsigned)v;
            break;
        case CLI_OPT_MAX_BODY:
            if (!cli_number("--max-body", optarg, 1, INT64_C(1) << 30, &v)) return 2;
            o.max_body = (size_t)v;
            break;
        case CLI_OPT_MAX_LINES:
            if (!cli_number("--max-lines", optarg, 1, 10000, &v)) return 2;
            o.max_lines = (uint32_t)v;
            break;
        case CLI_OPT_REQUEST_TIMEOUT:
            if (!cli_number("--request-timeout", optarg, 1, 3600, &v)) return 2;
            o.request_timeout = (unsigned)v;
            break;
        case CLI_OPT_POLL_MS:
            if (!cli_number("--poll-ms", optarg, 1, 60000, &v)) return 2;
            o.poll_ms = (unsigned)v;
            break;
        case CLI_OPT_DRAIN_SECONDS:
            if (!cli_number("--drain-seconds", optarg, 0, 3600, &v)) return 2;
            o.drain_seconds = (unsigned)v;
            break;
        case CLI_OPT_WEBHOOK: o.webhook_url = optarg; break;
        case CLI_OPT_WEBHOOK_SECRET_FILE: o.webhook_secret_file = optarg; break;
        case CLI_OPT_WEBHOOK_CLAIM_SECONDS:
            if (!cli_number("--webhook-claim-seconds", optarg, 1, 3600, &v)) return 2;
            o.webhook_claim_seconds = (unsigned)v;
            break;
        case CLI_OPT_HELP: cli_print_help(stdout, &cli_serve); return 0;
        default: goto usage;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "perk: error: unexpected argument '%s'\n", argv[optind]);
        goto usage;
    }
    if (!o.db) {
        fprintf(stderr, "perk: error: --db FILE is required (the store with published rule sets)\n");
        goto usage;
    }
    if (cli_db_missing(o.db)) {
        fprintf(stderr, "perk: error: %s: %s (publish a rule set first: perk publish ... --db %s)\n", o.db,
                strerror(errno), o.db);
        return 1;
    }
    return serve_run(&o);
usage:
    fprintf(stderr, "usage: %s\n", cli_serve.usage);
    return 2;
}

int cmd_keys(int argc, char **argv)
{
    const char *env = getenv("PERK_DB");
    const char *db = env && *env ? env : "perk.db", *scope = NULL, *name = NULL;
    cli_parser opts;
    int ch;
    cli_parse_begin(&opts, &cli_keys, false);
    while ((ch = cli_parse_next(&opts, argc, argv)) != -1) {
        switch (ch) {
        case CLI_OPT_DB: db = optarg; break;
        case CLI_OPT_SCOPE: scope = optarg; break;
        case CLI_OPT_NAME: name = optarg; break;
        case CLI_OPT_HELP: cli_print_help(stdout, &cli_keys); return 0;
        default: goto usage;
        }
    }
    /* the operands, after the options: create | revoke ID */
    if (optind >= argc || (strcmp(argv[optind], "create") != 0 && strcmp(argv[optind], "revoke") != 0))
        goto usage;
    bool create = strcmp(argv[optind], "create") == 0;
    int64_t id = 0;
    if (create ? optind + 1 != argc || !scope
               : optind + 2 != argc || !cli_number("ID", argv[optind + 1], 1, INT64_MAX, &id))
        goto usage;
    if (cli_db_missing(db)) {
        fprintf(stderr, "perk: error: %s: %s (check --db or $PERK_DB)\n", db, strerror(errno));
        return 1;
    }
    perk_store *s = NULL;
    perk_store_status st = perk_store_open(db, &s);
    int rc = 1;
    if (st == PERK_STORE_OK) {
        if (create) {
            char key[PERK_STORE_KEY_MAX];
            int64_t key_id = 0;
            const char *user = getenv("USER");
            char defname[64];
            snprintf(defname, sizeof defname, "%s key", scope);
            st = perk_store_key_create(s, scope, name ? name : defname, (int64_t)time(NULL), key, &key_id);
            if (st == PERK_STORE_OK) {
                /* the key on stdout alone (scripts capture it); the rest on stderr */
                printf("%s\n", key);
                fprintf(stderr, "perk: created key %lld (scope %s%s%s); it is shown only this once\n",
                        (long long)key_id, scope, user ? ", by " : "", user ? user : "");
                memset(key, 0, sizeof key);
                rc = 0;
            }
        } else {
            st = perk_store_key_revoke(s, id, (int64_t)time(NULL));
            if (st == PERK_STORE_OK) {
                printf("revoked key %lld\n", (long long)id);
                rc = 0;
            }
        }
    }
    if (rc) fprintf(stderr, "perk: error: %s\n", perk_store_errmsg(s));
    perk_store_close(s);
    return rc;
usage:
    fprintf(stderr, "usage: %s\n", cli_keys.usage);
    return 2;
}
