/* ruletest.h - the rule-test engine behind `perk test`: reads .test files (cases of a cart and
 * the result it must give, docs/testing.md), evaluates each cart under its rules and compares.
 *
 * Failures and syntax errors go to stderr (or run->out) as file:line messages; the caller prints
 * the summary.
 */
#ifndef PERK_RULETEST_H
#define PERK_RULETEST_H

#include <stdbool.h>
#include <stdio.h>

typedef struct ruletest_run {
    bool update;        /* rewrite failing expectations in place with the actual values */
    bool verbose;       /* also print each passing case */
    int passed, failed; /* cases so far (a bad file or block counts as one failure) */
    int files;          /* .test files run so far */
    FILE *out;          /* where failures (and, verbose, passes) are written; NULL = stderr */
} ruletest_run;

/* Runs a .test file, or every .test file under a folder (recursively, in name order), adding
 * to run->passed and run->failed. */
void ruletest_path(ruletest_run *run, const char *path);

#endif
