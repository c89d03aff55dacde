/* cmd_diff.c - `perk diff OLD NEW --orders FILE`: what-if replay of recorded orders under two
 * ruleset versions (the work is in src/tools/diff.c). Prints a progress bar on stderr when stderr is a
 * terminal. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "compiler/compiler.h"
#include "tools/tools.h"

/* "12.3 MB" style sizes for the progress line. */
static void format_bytes(uint64_t n, char *buf, size_t cap)
{
    if (n >= 1024u * 1024u)
        snprintf(buf, cap, "%" PRIu64 ".%" PRIu64 " MiB", n >> 20, ((n & 0xFFFFFu) * 10) >> 20);
    else
        snprintf(buf, cap, "%" PRIu64 " KiB", n >> 10);
}

/* One progress line, redrawn in place: bar, percent, orders, rate and ETA. */
static void progress_bar(const diff_progress *p, void *user)
{
    (void)user;
    if (p->finished) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
        return;
    }
    double rate = p->seconds > 0 ? (double)p->orders_done / p->seconds : 0;
    char done[32];
    format_bytes(p->bytes_done, done, sizeof done);
    if (p->bytes_total > 0) {
        enum { WIDTH = 30 };
        unsigned filled = (unsigned)(p->bytes_done * WIDTH / p->bytes_total);
        char bar[WIDTH + 1];
        for (unsigned i = 0; i < WIDTH; i++) bar[i] = i < filled ? '#' : '.';
        bar[WIDTH] = '\0';
        double byte_rate = p->seconds > 0 ? (double)p->bytes_done / p->seconds : 0;
        double eta = byte_rate > 0 ? (double)(p->bytes_total - p->bytes_done) / byte_rate : 0;
        fprintf(stderr, "\r\033[K[%s] %3u%%  %" PRIu64 " orders  %.0f/s  ETA %.0fs", bar,
                (unsigned)(p->bytes_done * 100 / p->bytes_total), p->orders_done, rate, eta);
    } else {
        fprintf(stderr, "\r\033[K%" PRIu64 " orders (%s)  %.0f/s", p->orders_done, done, rate);
    }
    fflush(stderr);
}

static bool parse_count(const char *s, long max, long *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < 0 || v > max) return false;
    *out = v;
    return true;
}

int cmd_diff(int argc, char **argv)
{
    const char *orders = NULL;
    bool json = false, color = false;
    long top = 10, threads = 0;
    cli_parser opts;
    int ch;
    cli_parse_begin(&opts, &cli_diff, false);
    while ((ch = cli_parse_next(&opts, argc, argv)) != -1) {
        switch (ch) {
        case CLI_OPT_ORDERS: orders = optarg; break;
        case CLI_OPT_JSON: json = true; break;
        case CLI_OPT_COLOR: color = true; break;
        case CLI_OPT_HELP: cli_print_help(stdout, &cli_diff); return 0;
        case CLI_OPT_TOP:
            if (!parse_count(optarg, 100000, &top)) {
                fprintf(stderr, "perk: error: --top takes a count from 0 to 100000, got '%s'\n", optarg);
                return 2;
            }
            break;
        case CLI_OPT_THREADS:
            if (!parse_count(optarg, DIFF_MAX_THREADS, &threads) || threads < 1) {
                fprintf(stderr, "perk: error: --threads takes a count from 1 to %d, got '%s'\n",
                        DIFF_MAX_THREADS, optarg);
                return 2;
            }
            break;
        default: goto usage;
        }
    }
    if (optind != argc - 2 || !orders) goto usage;
    const char *old_path = argv[optind], *new_path = argv[optind + 1];

    if (cli_stdin_twice((const char *const[]){ old_path, new_path, orders }, 3)) return 2;
    bool diag_color = cli_color(2, color);
    perk_program *old_prog = cli_load_program(old_path, diag_color);
    if (!old_prog) return 1;
    perk_program *new_prog = cli_load_program(new_path, diag_color);
    if (!new_prog) {
        perk_program_free(old_prog);
        return 1;
    }
    diff_options opt = {
        .top = (size_t)top,
        .threads = (unsigned)threads,
        .now = (int64_t)time(NULL),
        .progress = isatty(STDERR_FILENO) ? progress_bar : NULL,
    };
    char err[512];
    diff_report *rep = diff_run(old_prog, new_prog, orders, &opt, err, sizeof err);
    perk_program_free(old_prog);
    perk_program_free(new_prog);
    if (!rep) {
        fprintf(stderr, "perk: error: %s\n", err);
        return 1;
    }
    int status = rep->parse_failed || rep->eval_failed ? 1 : 0;
    if (json) {
        char *text = diff_report_json(rep, old_path, new_path);
        if (text) {
            printf("%s\n", text);
            free(text);
        } else {
            fprintf(stderr, "perk: error: out of memory\n");
            status = 1;
        }
    } else {
        diff_report_print(stdout, rep, old_path, new_path);
    }
    if (status && !json)
        fprintf(stderr, "perk: %" PRIu64 " of %" PRIu64 " orders were not compared (see Failures)\n",
                rep->parse_failed + rep->eval_failed, rep->orders);
    diff_report_free(rep);
    return status;
usage:
    fprintf(stderr, "usage: %s\n", cli_diff.usage);
    return 2;
}
