/* cmd_eval.c - `perk eval PROGRAM --cart CART.json`: evaluate one cart and print the result
 * as JSON (docs/cart.md) or, with --explain, as a readable table. PROGRAM is a .pbc file or a
 * .perk file compiled on the fly. --repeat N evaluates N times (for profiling) and prints once;
 * --max-hints N keeps N near-miss hints instead of perk_limits_default()'s 16; --applied-only lists
 * the applied promotions and the points earned only (RESULT_JSON_APPLIED_ONLY), from a context
 * that explains only those (PERK_EXPLAIN_APPLIED). --db STORE prices a cart that names a customer
 * with the store's facts of that customer, as a commit would (src/checkout/store_facts.h), and
 * says which facts came from the store and which claims they overrode. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <unistd.h>

#include "checkout/checkout.h"
#include "cli.h"
#include "json/json.h"
#include "compiler/compiler.h"
#include "money.h"

/* Replaces doc's customer facts with the store's (when the cart names a customer). */
static bool store_facts(const char *db, const perk_program *prog, cart_doc *doc, checkout_facts *facts)
{
    if (cli_db_missing(db)) {
        fprintf(stderr, "perk: error: %s: no such store (check --db)\n", db);
        return false;
    }
    perk_store *st = NULL;
    if (perk_store_open_readonly(db, &st) != PERK_STORE_OK) {
        fprintf(stderr, "perk: error: %s: %s\n", db, perk_store_errmsg(st));
        perk_store_close(st);
        return false;
    }
    char msg[512];
    bool ok = checkout_store_customer(st, prog, doc, facts, msg, sizeof msg);
    if (!ok) fprintf(stderr, "perk: error: %s\n", msg);
    perk_store_close(st);
    return ok;
}

/* The rendered result with "customer_facts" added (json is freed). */
static char *with_facts(char *json, const checkout_facts *facts)
{
    json_t *o = json_loads(json, 0, NULL);
    char *fj = checkout_facts_json(facts);
    json_t *f = fj ? json_loads(fj, 0, NULL) : NULL;
    free(fj);
    free(json);
    if (!o || !f) {
        json_decref(o);
        json_decref(f);
        fprintf(stderr, "perk: error: out of memory\n");
        return NULL;
    }
    json_object_set_new(o, "customer_facts", f);
    char *out = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(o);
    return out;
}

/* The same for --explain: a line of facts from the store, one per override. */
static void print_facts(const checkout_facts *facts)
{
    char *fj = checkout_facts_json(facts);
    json_t *f = fj ? json_loads(fj, 0, NULL) : NULL;
    free(fj);
    json_t *from = json_object_get(f, "from_store"), *over = json_object_get(f, "overrides"), *v;
    size_t i;
    printf("customer facts from the store:");
    json_array_foreach(from, i, v) printf("%s %s", i ? "," : "", json_string_value(v));
    printf("\n");
    json_array_foreach(over, i, v)
    {
        char *claimed = json_dumps(json_object_get(v, "claimed"), JSON_ENCODE_ANY);
        char *store = json_dumps(json_object_get(v, "store"), JSON_ENCODE_ANY);
        printf("  %s: the cart claims %s, the store has %s (the store's is used)\n",
               json_string_value(json_object_get(v, "fact")), claimed ? claimed : "?", store ? store : "?");
        free(claimed);
        free(store);
    }
    printf("\n");
    json_decref(f);
}

static const char *best_symbol(const perk_result *r)
{
    const money_currency *cur = r->currency ? money_currency_find(r->currency) : NULL;
    return cur ? cur->symbol : NULL;
}

/* The chosen codes, "A, C" (or "none"), into buf. */
static void best_codes_text(const perk_result *r, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    for (uint32_t i = 0; i < r->n_coupons && len < cap; i++)
        len += (size_t)snprintf(buf + len, cap - len, "%s%s", i ? ", " : "", r->coupons[i].code);
    if (r->n_coupons == 0) snprintf(buf, cap, "none");
}

/* The rendered result with "best_coupons" added (json is freed). The chosen codes are the
 * result's coupons: the best set is what was entered for that evaluation. */
static char *with_best(char *json, const perk_best_coupons_result *best)
{
    json_t *o = json_loads(json, 0, NULL), *b = json_object(), *codes = json_array();
    free(json);
    bool ok = o && b && codes;
    for (uint32_t i = 0; ok && i < best->result->n_coupons; i++)
        ok = json_array_append_new(codes, json_string(best->result->coupons[i].code)) == 0;
    char m[3][48];
    int e = best->result->exponent;
    money_format(best->saving, e, NULL, m[0], sizeof m[0]);
    money_format(best->discount, e, NULL, m[1], sizeof m[1]);
    money_format(best->shipping_saving, e, NULL, m[2], sizeof m[2]);
    if (ok) {
        ok = json_object_set_new(b, "codes", codes) == 0;
        codes = NULL;
        ok = ok && json_object_set_new(b, "saving", json_string(m[0])) == 0 &&
             json_object_set_new(b, "discount", json_string(m[1])) == 0 &&
             json_object_set_new(b, "shipping_saving", json_string(m[2])) == 0 &&
             json_object_set_new(b, "wallet", json_integer(best->n_codes)) == 0 &&
             json_object_set_new(b, "candidates", json_integer(best->candidates)) == 0 &&
             json_object_set_new(b, "evaluations", json_integer(best->evaluations)) == 0 &&
             json_object_set_new(b, "pruned", json_boolean(best->pruned)) == 0;
    }
    char *out = NULL;
    if (ok && json_object_set_new(o, "best_coupons", b) == 0) {
        b = NULL;
        out = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    }
    json_decref(codes);
    json_decref(b);
    json_decref(o);
    if (!out) fprintf(stderr, "perk: error: out of memory\n");
    return out;
}

int cmd_eval(int argc, char **argv)
{
    const char *cart_path = NULL, *db = NULL;
    bool explain = false, color = false, applied_only = false, best_coupons = false;
    long repeat = 1, max_hints = -1;
    cli_parser opts;
    int ch;
    cli_parse_begin(&opts, &cli_eval, false);
    while ((ch = cli_parse_next(&opts, argc, argv)) != -1) {
        switch (ch) {
        case CLI_OPT_CART: cart_path = optarg; break;
        case CLI_OPT_DB: db = optarg; break;
        case CLI_OPT_EXPLAIN: explain = true; break;
        case CLI_OPT_COLOR: color = true; break;
        case CLI_OPT_APPLIED_ONLY: applied_only = true; break;
        case CLI_OPT_BEST_COUPONS: best_coupons = true; break;
        case CLI_OPT_REPEAT: {
            int64_t v;
            if (!cli_number("--repeat", optarg, 1, 1000000000, &v)) return 2;
            repeat = (long)v;
            break;
        }
        case CLI_OPT_HELP: cli_print_help(stdout, &cli_eval); return 0;
        case CLI_OPT_MAX_HINTS: {
            int64_t v;
            if (!cli_number("--max-hints", optarg, 0, 1000000, &v)) return 2;
            max_hints = (long)v;
            break;
        }
        default: goto usage;
        }
    }
    if (optind != argc - 1 || !cart_path || repeat < 1) goto usage;

    if (cli_stdin_twice((const char *const[]){ argv[optind], cart_path }, 2)) return 2;
    perk_program *prog = cli_load_program(argv[optind], cli_color(2, color));
    if (!prog) return 1;
    int status = 1;
    perk_error perr;
    perk_limits lim = perk_limits_default();
    if (max_hints >= 0) lim.max_hints = (uint32_t)max_hints;
    if (applied_only && !explain) lim.explain = PERK_EXPLAIN_APPLIED; /* nothing else is printed */
    perk_context *ctx = perk_context_new(prog, &lim, &perr);
    cart_doc *doc = NULL;
    char err[512];
    if (!ctx) {
        fprintf(stderr, "perk: error: %s\n", perr.message);
        goto done;
    }
    doc = cart_json_parse_file(cart_path, perk_program_exponent(prog), perk_program_currency(prog), &lim, err,
                               sizeof err);
    if (!doc) {
        /* the message starts with the path already ("-: ..." for stdin) */
        const char *rest = strcmp(cart_path, "-") == 0 && strncmp(err, "-: ", 3) == 0 ? err + 3 : NULL;
        if (rest)
            fprintf(stderr, "perk: error: <stdin>: %s\n", rest);
        else
            fprintf(stderr, "perk: error: %s\n", err);
        goto done;
    }
    checkout_facts facts = { 0 };
    if (db && !store_facts(db, prog, doc, &facts)) goto done;
    const perk_result *r = NULL;
    perk_best_coupons_result best = { 0 };
    for (long i = 0; i < repeat; i++) {
        if (cart_json_feed(doc, ctx, prog, err, sizeof err) != PERK_OK) {
            fprintf(stderr, "perk: error: %s: %s\n", cli_file_name(cart_path), err);
            goto done;
        }
        if (!best_coupons) {
            r = perk_evaluate(ctx);
            continue;
        }
        perk_status st = perk_best_coupons(ctx, 0, &best);
        if (st != PERK_OK) {
            fprintf(stderr, "perk: error: %s: best coupons: %s (%s)\n", cli_file_name(cart_path),
                    perk_status_message(st), perk_context_error(ctx));
            goto done;
        }
        r = best.result;
    }
    if (r->status != PERK_OK) {
        fprintf(stderr, "perk: error: %s: evaluation failed: %s (%s)\n", cli_file_name(cart_path),
                perk_status_message(r->status), perk_context_error(ctx));
        goto done;
    }
    result_names *names = result_names_from_program(prog);
    if (!names) goto done;
    if (explain) {
        if (facts.from_store) print_facts(&facts);
        if (best_coupons) {
            char codes[PERK_BEST_COUPONS_MAX * 72], saving[48];
            best_codes_text(r, codes, sizeof codes);
            money_format(best.saving, r->exponent, best_symbol(r), saving, sizeof saving);
            printf("best coupons: %s (saves %s; %u of %u subsets evaluated)\n\n", codes, saving,
                   best.evaluations, 1u << best.n_codes);
        }
        explain_print(stdout, names, r, doc, cli_color(1, color) ? EXPLAIN_COLOR : 0);
        status = 0;
    } else {
        char *json = result_json_render(names, r, doc,
                                        RESULT_JSON_PRETTY | (applied_only ? RESULT_JSON_APPLIED_ONLY : 0));
        if (json && facts.from_store) json = with_facts(json, &facts);
        if (json && best_coupons) json = with_best(json, &best);
        if (json) {
            printf("%s\n", json);
            status = 0;
        }
        free(json);
    }
    result_names_free(names);
done:
    cart_json_free(doc);
    perk_context_free(ctx);
    perk_program_free(prog);
    return status;
usage:
    fprintf(stderr, "usage: %s\n", cli_eval.usage);
    return 2;
}
