/* cmd_serve.c - `perk serve` (the checkout service over HTTP, docs/service.md) and `perk keys`
 * (its API keys: created with a scope, printed once, stored hashed). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "service/service.h"
#include "store/store.h"

static const char serve_usage[] =
    "usage: perk serve --db FILE [--listen HOST:PORT] [--threads N] [--max-body BYTES] [--max-lines N]\n"
    "                  [--request-timeout SECONDS] [--poll-ms MS] [--drain-seconds SECONDS]\n"
    "                  [--webhook URL [--webhook-secret-file FILE]]\n";

static bool parse_num(const char *text, long long min, long long max, long long *out) {
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || *end || end == text || v < min || v > max) return false;
    *out = v;
    return true;
}

int cmd_serve(int argc, char **argv) {
    serve_options o = SERVE_OPTIONS_DEFAULT;
    const char *env = getenv("PERK_DB");
    o.db = env && *env ? env : NULL;
    static const struct option opts[] = {{"db", required_argument, 0, 'd'},
                                         {"listen", required_argument, 0, 'l'},
                                         {"threads", required_argument, 0, 't'},
                                         {"max-body", required_argument, 0, 'b'},
                                         {"max-lines", required_argument, 0, 'n'},
                                         {"request-timeout", required_argument, 0, 'r'},
                                         {"poll-ms", required_argument, 0, 'p'},
                                         {"drain-seconds", required_argument, 0, 's'},
                                         {"webhook", required_argument, 0, 'w'},
                                         {"webhook-secret-file", required_argument, 0, 'W'},
                                         {0, 0, 0, 0}};
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        long long v = 0;
        switch (ch) {
        case 'd': o.db = optarg; break;
        case 'l': o.listen = optarg; break;
        case 't': if (!parse_num(optarg, 1, 256, &v)) goto bad; o.threads = (unsigned)v; break;
        case 'b': if (!parse_num(optarg, 64, 1LL << 30, &v)) goto bad; o.max_body = (size_t)v; break;
        case 'n': if (!parse_num(optarg, 1, 10000, &v)) goto bad; o.max_lines = (uint32_t)v; break;
        case 'r': if (!parse_num(optarg, 1, 3600, &v)) goto bad; o.request_timeout = (unsigned)v; break;
        case 'p': if (!parse_num(optarg, 10, 60000, &v)) goto bad; o.poll_ms = (unsigned)v; break;
        case 's': if (!parse_num(optarg, 0, 3600, &v)) goto bad; o.drain_seconds = (unsigned)v; break;
        case 'w': o.webhook_url = optarg; break;
        case 'W': o.webhook_secret_file = optarg; break;
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
    if (access(o.db, F_OK) != 0) {
        fprintf(stderr, "perk: error: %s: %s (publish a rule set first: perk publish ... --db %s)\n", o.db,
                strerror(errno), o.db);
        return 1;
    }
    return serve_run(&o);
bad:
    fprintf(stderr, "perk: error: %s: not a valid value for this option\n", optarg);
usage:
    fputs(serve_usage, stderr);
    return 2;
}

static const char keys_usage[] = "usage: perk keys create --scope checkout|operator|read [--name NAME] [--db FILE]\n"
                                 "       perk keys revoke ID [--db FILE]\n";

int cmd_keys(int argc, char **argv) {
    const char *env = getenv("PERK_DB");
    const char *db = env && *env ? env : "perk.db", *scope = NULL, *name = NULL;
    static const struct option opts[] = {{"db", required_argument, 0, 'd'},
                                         {"scope", required_argument, 0, 's'},
                                         {"name", required_argument, 0, 'n'},
                                         {0, 0, 0, 0}};
    if (argc < 2 || (strcmp(argv[1], "create") != 0 && strcmp(argv[1], "revoke") != 0)) goto usage;
    bool create = strcmp(argv[1], "create") == 0;
    int ch;
    optind = 2;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'd': db = optarg; break;
        case 's': scope = optarg; break;
        case 'n': name = optarg; break;
        default: goto usage;
        }
    }
    long long id = 0;
    if (create ? optind != argc || !scope : optind != argc - 1 || !parse_num(argv[optind], 1, INT64_MAX, &id))
        goto usage;
    if (access(db, F_OK) != 0) {
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
                fprintf(stderr, "perk: created key %lld (scope %s%s%s); it is shown only this once\n", (long long)key_id,
                        scope, user ? ", by " : "", user ? user : "");
                memset(key, 0, sizeof key);
                rc = 0;
            }
        } else {
            st = perk_store_key_revoke(s, id, (int64_t)time(NULL));
            if (st == PERK_STORE_OK) {
                printf("revoked key %lld\n", id);
                rc = 0;
            }
        }
    }
    if (rc) fprintf(stderr, "perk: error: %s\n", perk_store_errmsg(s));
    perk_store_close(s);
    return rc;
usage:
    fputs(keys_usage, stderr);
    return 2;
}
