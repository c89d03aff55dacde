/* cmd_test.c - `perk test [--update] [-v] [--json] PATH...`: runs the rule tests (*.test files,
 * the format is in docs/testing.md) and prints the "N passed, N failed" summary, or with --json
 * one document of the counts and the engine's messages (each "file:line: ..." line). The engine
 * that reads the files, evaluates and compares is src/tools/ruletest.c; this file is only the
 * command.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "tools/tools.h"

/* The command's state is the engine's: the options in, the case counts out. */
typedef ruletest_run test_run;

/* Runs one file or folder of tests through the engine (src/tools/ruletest.c). */
static void run_path(test_run *tr, const char *path) { ruletest_path(tr, path); }

int cmd_test(int argc, char **argv)
{
    test_run tr = { false, false, 0, 0, 0, NULL };
    bool json = false;
    cli_parser opts;
    int ch;
    cli_parse_begin(&opts, &cli_test, false);
    while ((ch = cli_parse_next(&opts, argc, argv)) != -1) {
        switch (ch) {
        case CLI_OPT_UPDATE: tr.update = true; break;
        case CLI_OPT_VERBOSE: tr.verbose = true; break;
        case CLI_OPT_JSON: json = true; break;
        case CLI_OPT_HELP: cli_print_help(stdout, &cli_test); return 0;
        default: fprintf(stderr, "usage: %s\n", cli_test.usage); return 2;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "usage: %s\n", cli_test.usage);
        return 2;
    }
    char *messages = NULL;
    size_t messages_len = 0;
    if (json && !(tr.out = open_memstream(&messages, &messages_len))) {
        fprintf(stderr, "perk: error: out of memory\n");
        return 1;
    }
    for (int i = optind; i < argc; i++) run_path(&tr, argv[i]);
    if (json) {
        fclose(tr.out);
        json_t *lines = json_array();
        for (char *line = messages, *nl; line && *line; line = nl + 1) {
            nl = strchr(line, '\n');
            if (!nl) nl = line + strlen(line) - 1; /* the last line without a newline */
            json_array_append_new(lines, json_stringn(line, (size_t)(nl - line) + (*nl != '\n')));
        }
        free(messages);
        if (!cli_print_json(json_pack("{s:i, s:i, s:i, s:o}", "passed", tr.passed, "failed", tr.failed, "files",
                                      tr.files, "messages", lines)))
            return 1;
    } else {
        printf("%d passed, %d failed\n", tr.passed, tr.failed);
    }
    /* in CI, "0 passed, 0 failed" with status 0 would hide a wrong path or an empty folder */
    if (tr.failed == 0 && tr.files == 0) {
        fprintf(stderr,
                "perk: error: no .test files found in %s%s: nothing was tested (a rule test is a NAME.test "
                "file beside NAME.perk)\n",
                argv[optind], argc - optind > 1 ? " and the other paths" : "");
        return 1;
    }
    if (tr.failed == 0 && tr.passed == 0) {
        fprintf(stderr, "perk: error: the .test files hold no test case: nothing was tested\n");
        return 1;
    }
    return tr.failed ? 1 : 0;
}
