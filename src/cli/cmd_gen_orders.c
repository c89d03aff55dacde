/* cmd_gen_orders.c - `perk gen-orders --ruleset PROGRAM --count N [--seed S] [-o FILE]`: writes
 * N realistic orders for the ruleset as JSON lines (src/tools/gen_orders.c), for `perk diff` and for
 * benchmarks. The same ruleset, count and seed give the same file. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "compiler/compiler.h"
#include "tools/tools.h"

static bool parse_u64(const char *s, uint64_t *out)
{
    if (!*s || *s == '-') return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || errno) return false;
    *out = v;
    return true;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

int cmd_gen_orders(int argc, char **argv)
{
    const char *ruleset = NULL, *output = NULL;
    uint64_t count = 0, seed = 1;
    bool have_count = false;
    cli_parser opts;
    int ch;
    cli_parse_begin(&opts, &cli_gen_orders, false);
    while ((ch = cli_parse_next(&opts, argc, argv)) != -1) {
        switch (ch) {
        case CLI_OPT_RULESET: ruleset = optarg; break;
        case CLI_OPT_OUTPUT: output = optarg; break;
        case CLI_OPT_HELP: cli_print_help(stdout, &cli_gen_orders); return 0;
        case CLI_OPT_COUNT:
            if (!parse_u64(optarg, &count) || count > 100000000u) {
                fprintf(stderr, "perk: error: --count takes a number from 0 to 100000000, got '%s'\n",
                        optarg);
                return 2;
            }
            have_count = true;
            break;
        case CLI_OPT_SEED:
            if (!parse_u64(optarg, &seed)) {
                fprintf(stderr, "perk: error: --seed takes a non-negative integer, got '%s'\n", optarg);
                return 2;
            }
            break;
        default: goto usage;
        }
    }
    if (optind != argc || !ruleset || !have_count) goto usage;

    perk_program *prog = cli_load_program(ruleset, cli_color(2, false));
    if (!prog) return 1;
    char err[512];
    gen_vocab vocab;
    memset(&vocab, 0, sizeof vocab);
    if (ends_with(ruleset, ".perk") && !gen_vocab_from_rules(&vocab, ruleset, err, sizeof err)) {
        fprintf(stderr, "perk: error: %s\n", err);
        perk_program_free(prog);
        return 1;
    }
    cli_output file;
    FILE *out = !output ? stdout : cli_output_open(&file, output) ? file.f : NULL;
    int status = 1;
    if (out) {
        static char buffer[1 << 16];
        setvbuf(out, buffer, _IOFBF, sizeof buffer);
        if (gen_orders_write(out, &vocab, perk_program_currency(prog), perk_program_exponent(prog), count,
                             seed))
            status = 0;
        else
            fprintf(stderr, "perk: error: cannot write %s\n", output ? output : "the orders");
        if (output && status == 0 && !cli_output_commit(&file))
            status = 1;
        else if (output && status != 0)
            cli_output_abort(&file);
    }
    gen_vocab_free(&vocab);
    perk_program_free(prog);
    return status;
usage:
    fprintf(stderr, "usage: %s\n", cli_gen_orders.usage);
    return 2;
}
