/* cmd_refund.c - `perk refund ORDER` and `perk cancel ORDER`: refunds and cancellations of a
 * committed order from the command line, through perk_store_refund (the same call as the
 * service's POST /v1/orders/{id}/refund and /cancel). Amounts are decimal text in the order's
 * currency ("12.50"), parsed with money.h; the points policy is that of the version the order
 * was priced with. Text output by default, the service's JSON with --json. */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "checkout/checkout.h"
#include "cli.h"
#include "money.h"
#include "perk.h"

enum { REFUND_MAX_LINES = 1000, REFUND_MAX_TIERS = 64 };

typedef struct refund_args {
    const char *db, *refund_id, *lines, *amount;
    bool release_budget, json;
} refund_args;

static int refund_usage(const cli_command *cmd, const char *fmt, const char *arg)
{
    fputs("perk: error: ", stderr);
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nusage: %s\n", cmd->usage);
    return 2;
}

/* The program of the version `order_id` was priced with (for its points policy and currency);
 * NULL with a message when the order is unknown or the version does not load. */
static perk_program *order_program(perk_store *st, const char *order_id)
{
    bool found = false;
    int64_t version = 0;
    if (perk_store_order_uses(st, order_id, &found, &version, NULL, NULL) != PERK_STORE_OK) {
        fprintf(stderr, "perk: error: %s\n", cli_safe(perk_store_errmsg(st)));
        return NULL;
    }
    if (!found) {
        fprintf(stderr, "perk: error: order %s was never committed (see perk commit)\n", cli_safe(order_id));
        return NULL;
    }
    perk_store_version v;
    memset(&v, 0, sizeof v);
    perk_program *p = NULL;
    if (perk_store_get_version(st, version, &v) == PERK_STORE_OK) {
        perk_error err;
        p = perk_program_load(v.bytecode, v.bytecode_len, &err);
        if (!p)
            fprintf(stderr, "perk: error: version %lld of order %s does not load: %s\n", (long long)version,
                    cli_safe(order_id), err.message);
    } else {
        fprintf(stderr, "perk: error: %s\n", cli_safe(perk_store_errmsg(st)));
    }
    perk_store_free_version(&v);
    return p;
}

/* A positive amount in the order's currency; false with a message. */
static bool parse_money(const char *what, const char *text, int exponent, int64_t *out)
{
    if (money_parse_decimal(text, strlen(text), exponent, out) != MONEY_PARSE_OK || *out <= 0) {
        fprintf(stderr,
                "perk: error: %s \"%s\": expected a positive amount with at most %d decimals, e.g. %s\n",
                what, cli_safe(text), exponent, exponent == 0 ? "1200" : "12.50");
        return false;
    }
    return true;
}

/* --lines LINE=AMOUNT[,LINE=AMOUNT...] into lines (pointing into buf, a copy of text). */
static bool parse_lines(char *buf, int exponent, perk_store_refund_line *lines, size_t *n)
{
    *n = 0;
    char *save = NULL;
    for (char *item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        char *eq = strrchr(item, '=');
        if (!eq || eq == item || !eq[1]) {
            fprintf(stderr, "perk: error: --lines \"%s\": expected LINE=AMOUNT, e.g. l1=10.00,l2=5.00\n",
                    cli_safe(item));
            return false;
        }
        if (*n == REFUND_MAX_LINES) {
            fprintf(stderr, "perk: error: --lines: at most %d lines in one refund\n", REFUND_MAX_LINES);
            return false;
        }
        *eq = '\0';
        lines[*n].line_id = item;
        if (!parse_money("--lines", eq + 1, exponent, &lines[*n].amount)) return false;
        (*n)++;
    }
    if (*n == 0) {
        fprintf(stderr, "perk: error: --lines: name at least one LINE=AMOUNT\n");
        return false;
    }
    return true;
}

static void print_result(const char *order_id, const char *refund_id, const perk_store_refund_result *res,
                         int exponent, bool json)
{
    char amount[64], total[64];
    money_format(res->amount, exponent, NULL, amount, sizeof amount);
    money_format(res->refunded_total, exponent, NULL, total, sizeof total);
    if (json) {
        /* the service's reply (docs/service.md), money as decimal strings like results */
        json_t *o = json_pack(
            "{s:s, s:s, s:s, s:s, s:s, s:b, s:I, s:I, s:I, s:b, s:s, s:I, s:I}", "order_id", order_id, "refund_id",
            refund_id, "status", res->replay ? "already_recorded" : "recorded", "amount", amount,
            "refunded_total", total, "full", res->full, "points_reversed", (json_int_t)res->points_reversed,
            "points_shortfall", (json_int_t)res->points_shortfall, "points_returned",
            (json_int_t)res->points_returned, "budget_released", res->budget_released, "tier", res->tier,
            "rewards_revoked", (json_int_t)res->rewards_revoked, "rewards_kept", (json_int_t)res->rewards_kept);
        char *text = o ? json_dumps(o, JSON_SORT_KEYS | JSON_INDENT(2)) : NULL;
        if (text) puts(text);
        free(text);
        json_decref(o);
        return;
    }
    printf("order %s: refund %s %s\n", cli_safe(order_id), cli_safe(refund_id),
           res->replay ? "was already recorded (nothing changed)" : "recorded");
    printf("  amount:          %s\n", amount);
    printf("  refunded total:  %s%s\n", total, res->full ? " (the whole order: cancelled)" : "");
    printf("  points reversed: %lld", (long long)res->points_reversed);
    if (res->points_shortfall)
        printf(" (%lld already spent: recorded as debt)", (long long)res->points_shortfall);
    printf("\n");
    if (res->points_returned)
        printf("  points returned: %lld (redeemed on the order)\n", (long long)res->points_returned);
    if (res->budget_released) printf("  budget and coupon uses released\n");
    if (res->rewards_revoked || res->rewards_kept)
        printf("  reward coupons:  %lld revoked, %lld kept (already used)\n", (long long)res->rewards_revoked,
               (long long)res->rewards_kept);
    if (res->tier_changed) printf("  tier now:        %s\n", res->tier[0] ? cli_safe(res->tier) : "(none)");
}

/* The work of both commands once their options are read. */
static int run_refund(const cli_command *cmd, const char *order_id, const refund_args *a, bool cancel)
{
    if (cli_db_missing(a->db)) {
        fprintf(stderr, "perk: error: cannot open database %s: %s (check --db or $PERK_DB)\n",
                cli_safe(a->db), strerror(errno));
        return 1;
    }
    perk_store *st = cli_open_store(a->db);
    if (!st) return 1;
    int status = 1;
    perk_store_refund_line *lines = NULL;
    char *lines_buf = NULL;
    perk_program *prog = order_program(st, order_id);
    if (!prog) goto done;
    int exponent = perk_program_exponent(prog);
    int64_t amount = 0;
    size_t n = 0;
    if (a->amount && !parse_money("--amount", a->amount, exponent, &amount)) goto usage;
    if (a->lines) {
        lines_buf = strdup(a->lines);
        lines = calloc(REFUND_MAX_LINES, sizeof *lines);
        if (!lines_buf || !lines) {
            fprintf(stderr, "perk: error: out of memory\n");
            goto done;
        }
        if (!parse_lines(lines_buf, exponent, lines, &n)) goto usage;
    }
    perk_store_policy policy;
    perk_store_tier tiers[REFUND_MAX_TIERS];
    checkout_policy(prog, &policy, tiers, REFUND_MAX_TIERS);
    char idbuf[300];
    const char *refund_id = a->refund_id;
    if (!refund_id) {
        snprintf(idbuf, sizeof idbuf, "cancel:%s", order_id); /* a repeated cancel replays */
        refund_id = idbuf;
    }
    perk_store_refund_result res;
    memset(&res, 0, sizeof res);
    if (perk_store_refund(st, order_id, refund_id, n ? lines : NULL, n, amount, (int64_t)time(NULL), &policy,
                          cancel || a->release_budget, &res) != PERK_STORE_OK) {
        fprintf(stderr, "perk: error: %s\n", cli_safe(perk_store_errmsg(st)));
        goto done;
    }
    print_result(order_id, refund_id, &res, exponent, a->json);
    status = 0;
    goto done;
usage:
    fprintf(stderr, "usage: %s\n", cmd->usage);
    status = 2;
done:
    free(lines);
    free(lines_buf);
    perk_program_free(prog);
    perk_store_close(st);
    return status;
}

static int refund_command(const cli_command *cmd, int argc, char **argv, bool cancel)
{
    refund_args a = { .db = cli_default_db() };
    cli_parser p;
    cli_parse_begin(&p, cmd, false);
    int ch;
    while ((ch = cli_parse_next(&p, argc, argv)) != -1) {
        switch (ch) {
        case CLI_OPT_HELP: cli_print_help(stdout, cmd); return 0;
        case CLI_OPT_DB: a.db = optarg; break;
        case CLI_OPT_REFUND_ID: a.refund_id = optarg; break;
        case CLI_OPT_LINES: a.lines = optarg; break;
        case CLI_OPT_AMOUNT: a.amount = optarg; break;
        case CLI_OPT_RELEASE_BUDGET: a.release_budget = true; break;
        case CLI_OPT_JSON: a.json = true; break;
        default: fprintf(stderr, "usage: %s\n", cmd->usage); return 2;
        }
    }
    if (optind >= argc) return refund_usage(cmd, "say which order: %s ORDER", cmd->name);
    if (optind + 1 != argc)
        return refund_usage(cmd, "unexpected argument \"%s\"", cli_safe(argv[optind + 1]));
    if (!cancel && !a.refund_id)
        return refund_usage(cmd, "%s",
                            "name the refund with --id REFUND_ID (a retry with the same id replays it)");
    if (a.refund_id && !*a.refund_id) return refund_usage(cmd, "%s", "--id must not be empty");
    return run_refund(cmd, argv[optind], &a, cancel);
}

int cmd_refund(int argc, char **argv) { return refund_command(&cli_refund, argc, argv, false); }

int cmd_cancel(int argc, char **argv) { return refund_command(&cli_cancel, argc, argv, true); }
