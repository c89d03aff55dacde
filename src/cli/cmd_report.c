/* cmd_report.c - `perk report --from DATE --to DATE [--json|--csv]`: the results of the promotions
 * and points over a period, the same figures as the console's Results page (src/tools/report.c). */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "tools/tools.h"

int cmd_report(int argc, char **argv)
{
    const char *db = cli_default_db(), *from_text = NULL, *to_text = NULL;
    bool json = false, csv = false;
    cli_parser opts;
    int ch;
    cli_parse_begin(&opts, &cli_report, false);
    while ((ch = cli_parse_next(&opts, argc, argv)) != -1) {
        switch (ch) {
        case CLI_OPT_DB: db = optarg; break;
        case CLI_OPT_FROM: from_text = optarg; break;
        case CLI_OPT_TO: to_text = optarg; break;
        case CLI_OPT_JSON: json = true; break;
        case CLI_OPT_CSV: csv = true; break;
        case CLI_OPT_HELP: cli_print_help(stdout, &cli_report); return 0;
        default: goto usage;
        }
    }
    if (optind != argc || !from_text || !to_text) goto usage;
    if (json && csv) {
        fprintf(stderr, "perk: error: --json and --csv cannot be combined\n");
        goto usage;
    }
    int64_t from, to;
    if (!report_parse_date(from_text, &from) || !report_parse_date(to_text, &to)) {
        fprintf(stderr, "perk: error: --from and --to must be dates YYYY-MM-DD (got %s, %s)\n", from_text,
                to_text);
        return 2;
    }
    if (to < from) {
        fprintf(stderr, "perk: error: --to %s is before --from %s\n", to_text, from_text);
        return 2;
    }
    perk_store *s = cli_open_store(db);
    if (!s) return 1;
    char err[512];
    void *rep = report_build(s, from, to, err, sizeof err);
    perk_store_close(s);
    if (!rep) {
        fprintf(stderr, "perk: error: %s\n", err);
        return 1;
    }
    if (json) {
        char *text = report_json_text(rep);
        if (text) printf("%s\n", text);
        free(text);
    } else if (csv) {
        report_print_csv(stdout, rep);
    } else {
        report_print_text(stdout, rep);
    }
    report_free(rep);
    return 0;
usage:
    fprintf(stderr, "usage: %s\n", cli_report.usage);
    return 2;
}
