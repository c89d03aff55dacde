/* cmd_test.c - `perk test [--update] [-v] PATH...`: runs the rule tests (*.test files, the format
 * is in docs/testing.md) and prints the "N passed, N failed" summary. The engine that reads the
 * files, evaluates and compares is src/tools/ruletest.c; this file is only the command.
 */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"
#include "tools/tools.h"

/* The command's state is the engine's: the options in, the case counts out. */
typedef ruletest_run test_run;

/* Runs one file or folder of tests through the engine (src/tools/ruletest.c). */
static void run_path(test_run *tr, const char *path) { ruletest_path(tr, path); }

int cmd_test(int argc, char **argv) {
    test_run tr = {false, false, 0, 0};
    static const struct option opts[] = {{"update", no_argument, 0, 'u'}, {"verbose", no_argument, 0, 'v'}, {0, 0, 0, 0}};
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
        switch (ch) {
        case 'u': tr.update = true; break;
        case 'v': tr.verbose = true; break;
        default: fprintf(stderr, "usage: perk test [--update] [-v] PATH...\n"); return 2;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "usage: perk test [--update] [-v] PATH...\n");
        return 2;
    }
    for (int i = optind; i < argc; i++) run_path(&tr, argv[i]);
    printf("%d passed, %d failed\n", tr.passed, tr.failed);
    return tr.failed ? 1 : 0;
}
