/* cmd_commit.c - `perk commit ORDER.json`: price an order with the store's active version against
 * its budgets, coupons and unit limits, and commit it (src/checkout/checkout.h); --dry-run
 * commits nothing and may price with rules that are not published. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "checkout/checkout.h"
#include "civil.h"
#include "cli.h"
#include "compiler/compiler.h"
#include "json/json.h"
#include "store/store.h"

/* The program to commit against: --program; else, for an order already committed, the version
 * it was priced with (so that a retry replays it even after a publish); else the version active
 * in the store. */
static perk_program *commit_program(perk_store *st, const char *path, const char *order_id, int64_t now,
                                    int64_t *version)
{
    *version = 0;
    if (path) return cli_load_program(path, false);
    bool committed = false;
    perk_store_status s = PERK_STORE_OK;
    if (order_id) s = perk_store_order_uses(st, order_id, &committed, version, NULL, NULL);
    if (s != PERK_STORE_OK) {
        fprintf(stderr, "perk: error: %s\n", perk_store_errmsg(st));
        return NULL;
    }
    if (!committed || *version <= 0) s = perk_store_active_version(st, now, version);
    if (s != PERK_STORE_OK || *version <= 0) {
        fprintf(stderr, "perk: error: no rule set is active in the store; publish one (perk publish) or pass "
                        "--program\n");
        return NULL;
    }
    perk_store_version v;
    memset(&v, 0, sizeof v);
    s = perk_store_get_version(st, *version, &v);
    perk_program *p = NULL;
    if (s == PERK_STORE_OK) {
        perk_error err;
        p = perk_program_load(v.bytecode, v.bytecode_len, &err);
        if (!p)
            fprintf(stderr, "perk: error: version %lld does not load: %s\n", (long long)*version,
                    err.message);
    } else {
        fprintf(stderr, "perk: error: %s\n", perk_store_errmsg(st));
    }
    perk_store_free_version(&v);
    return p;
}

int cmd_commit(int argc, char **argv)
{
    const char *db = cli_default_db(), *program_path = NULL;
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
        fprintf(stderr,
                "perk: error: --program %s is not a published version: an order is committed only "
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
    if (cli_stdin_twice((const char *const[]){ order_path, program_path }, 2)) return 2;
    /* Without --program the rules come from the store, which must exist: do not create an
     * empty database for a mistyped --db. */
    if (!program_path && cli_db_missing(db)) {
        fprintf(stderr, "perk: error: %s: %s (publish a rule set first, or check --db / $PERK_DB)\n", db,
                strerror(errno));
        return 1;
    }
    int status = 1;
    size_t text_len = 0;
    char *text = cli_read_file(order_path, &text_len);
    if (!text) return 1;
    perk_store *st = cli_open_store(db);
    if (!st) {
        free(text);
        return 1;
    }
    int64_t version = 0;
    char *order_id = cart_json_order_id(text, text_len);
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
    doc = cart_json_parse(text, text_len, perk_program_exponent(prog), perk_program_currency(prog), &lim, err,
                          sizeof err);
    if (!doc) {
        fprintf(stderr, "perk: error: %s: %s\n", cli_file_name(order_path), err);
        goto done;
    }
    if (!doc->has_time) {
        fprintf(stderr, "perk: error: %s: $.order.time is required to commit an order\n", cli_file_name(order_path));
        goto done;
    }
    checkout_outcome out;
    checkout_options copts = { .dry_run = dry_run, .delayed = delayed };
    bool ok = checkout_place_order_opts(st, prog, version, ctx, doc, text, &copts, &out);
    if (!ok) {
        fprintf(stderr, "perk: error: %s: %s\n", cli_file_name(order_path), out.message);
        checkout_outcome_free(&out);
        goto done;
    }
    json_t *o = json_object();
    json_object_set_new(o, "order_id", json_string(doc->order.id));
    json_object_set_new(o, "status",
                        json_string(out.dry_run         ? "dry run (nothing committed)"
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
    json_object_set_new(o, "reward_coupons", checkout_reward_codes_json(&out.commit));
    /* which customer facts came from the store, and each claim of the order they overrode */
    char *facts = checkout_facts_json(&out.facts);
    json_t *fj = facts ? json_loads(facts, 0, NULL) : NULL;
    free(facts);
    json_object_set_new(o, "customer_facts", fj ? fj : json_null());
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
