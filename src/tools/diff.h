/* diff.h - what-if replay: evaluates a file of orders under two versions of a ruleset and
 * reports how totals, promotions and individual orders change (`perk diff`).
 *
 * The orders file holds one cart JSON document (docs/cart.md) per line. It is streamed, never
 * loaded whole: each worker thread reads its own byte range of the file through a reused
 * buffer, parses each line once and feeds it to one context per version (contexts are made once
 * per worker and reused). Blank lines are skipped. A line that fails to parse, or that a version
 * refuses or fails to evaluate, is counted and reported with its line number; it does not stop
 * the run, and it is left out of every total (totals compare like with like: only orders both
 * versions evaluated).
 *
 * Determinism: the report is the same whatever the number of threads. Sums are order-free, the
 * first failures are taken in line order, and the top orders are ranked by |payable change|,
 * ties to the lower line number.
 */
#ifndef PERK_DIFF_H
#define PERK_DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "perk.h"

/* Failure messages kept in the report (the counts include every failure). */
#define DIFF_MAX_FAILURES 10
/* Lines longer than this are reported as failures without being parsed. */
#define DIFF_MAX_LINE_BYTES (64u * 1024u * 1024u)
/* Most worker threads diff_run starts. */
#define DIFF_MAX_THREADS 16

/* Progress of a run, handed to diff_options.progress. */
typedef struct diff_progress {
    uint64_t bytes_done;
    uint64_t bytes_total; /* 0 when unknown (a pipe) */
    uint64_t orders_done; /* non-blank lines handled so far */
    double seconds;       /* since the run started */
    bool finished;        /* the last call: all workers are done */
} diff_progress;

typedef struct diff_options {
    size_t top;       /* how many changed orders to list (0 = none) */
    unsigned threads; /* 0 = automatic: one per core (at most 2), and one for files under
                                1 MiB; otherwise the file is split in exactly this many byte
                                ranges (at most DIFF_MAX_THREADS) */
    int64_t now;      /* order time (epoch seconds) for carts without order.time, so that
                                both versions see the same instant */
    /* Called from the calling thread about every 100 ms while workers run, then once with
     * finished = true. May be NULL. */
    void (*progress)(const diff_progress *progress, void *user);
    void *progress_user;
    size_t max_line_bytes; /* 0 = DIFF_MAX_LINE_BYTES (tests set a small limit) */
} diff_options;

/* Sums over the compared orders, in minor units (points for the two points fields). */
typedef struct diff_totals {
    int64_t discount;          /* on goods */
    int64_t shipping_discount; /* shipping_before - shipping_after */
    int64_t points_earned;
    int64_t points_redeemed;
    int64_t payable;
} diff_totals;

/* One promotion of either version, matched by id. */
typedef struct diff_promotion {
    const char *id;            /* borrowed from the programs (the report keeps them alive) */
    const char *label;         /* NEW's label when it has the promotion, else OLD's; may be NULL */
    long old_index, new_index; /* -1 when the version has no promotion with this id */
    int64_t applied[2];        /* [0] OLD, [1] NEW: compared orders it applied to */
    int64_t discount[2];       /* goods discount it gave */
    int64_t shipping[2];       /* shipping discount it gave */
} diff_promotion;

typedef enum diff_change_kind {
    DIFF_STARTED, /* applies under NEW, not under OLD */
    DIFF_STOPPED, /* applied under OLD, not under NEW */
    DIFF_AMOUNT,  /* applies under both, for a different amount */
    DIFF_ADDED,   /* only NEW has it, and it applied */
    DIFF_REMOVED  /* only OLD has it, and it had applied */
} diff_change_kind;

/* How one promotion behaved differently on one order. */
typedef struct diff_change {
    diff_change_kind kind;
    const char *promotion;          /* id, borrowed from the programs */
    int64_t old_amount, new_amount; /* discount + shipping discount (0 when not applied) */
    char *reason;                   /* STOPPED: why not under NEW; STARTED: why not under OLD (both as
                               `perk eval --explain` words it); else NULL */
} diff_change;

/* One of the orders whose payable changed most. */
typedef struct diff_order {
    uint64_t line; /* 1-based line number in the orders file */
    char *id;      /* order.id, or NULL */
    int64_t old_payable, new_payable;
    diff_change *changes;
    size_t n_changes;
} diff_order;

typedef enum diff_stage {
    DIFF_STAGE_PARSE, /* the line is not a valid cart */
    DIFF_STAGE_OLD,   /* OLD refused or failed to evaluate it */
    DIFF_STAGE_NEW    /* NEW refused or failed to evaluate it */
} diff_stage;

typedef struct diff_failure {
    uint64_t line;
    diff_stage stage;
    char *message;
} diff_failure;

typedef struct diff_report {
    perk_program *programs[2]; /* retained: ids and labels above point into them */
    const char *currency;
    int exponent;

    uint64_t lines;        /* lines in the file (blank ones included) */
    uint64_t orders;       /* non-blank lines */
    uint64_t compared;     /* evaluated by both versions */
    uint64_t changed;      /* compared orders whose payable differs */
    uint64_t parse_failed; /* orders that are not valid carts */
    uint64_t eval_failed;  /* parsed orders at least one version could not evaluate */
    uint64_t failed[2];    /* ... of which OLD / NEW could not (an order may count in both) */
    unsigned threads;      /* worker threads used (does not change the report) */

    diff_totals totals[2]; /* OLD, NEW */

    diff_promotion *promotions; /* OLD's in evaluation order, then those only NEW has */
    size_t n_promotions;

    diff_order *top; /* by |payable change| descending, ties by line */
    size_t n_top;

    diff_failure *failures; /* the first DIFF_MAX_FAILURES, in line order */
    size_t n_failures;
} diff_report;

/* Replays the orders at `orders_path` ("-" = standard input, read by one thread) under both
 * programs. Returns the report (free with diff_report_free), or NULL with a one-line message in
 * err: the programs' currencies differ, the file cannot be read, a total overflows int64, or
 * memory ran out. Failed orders are not errors: they are counted in the report. */
diff_report *diff_run(perk_program *old_program, perk_program *new_program, const char *orders_path,
                      const diff_options *options, char *err, size_t errlen);

void diff_report_free(diff_report *report);

/* Writes the report as aligned text tables (docs/cli.md shows an example). Defined with the JSON
 * renderer in src/tools/diff_report.c. old_name / new_name label the two versions (file
 * paths in the CLI). */
void diff_report_print(FILE *out, const diff_report *report, const char *old_name, const char *new_name);

/* The same report as one pretty-printed JSON document (malloc'ed, NUL-terminated; NULL when out
 * of memory). Money is a string in major units ("1234.50", "-19.13"), counts and points are
 * integers. The layout is documented in docs/cli.md. */
char *diff_report_json(const diff_report *report, const char *old_name, const char *new_name);

#endif
