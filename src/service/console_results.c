/* console_results.c - the Results page's API (docs/console.md): per promotion over a period, times
 * applied, discount given, orders and revenue where it applied, budget used and left; points
 * issued, redeemed and expired; per day. The same report as `perk report` (src/tools/report.c),
 * as JSON or CSV (?format=csv, downloaded by the page's export button). */
#include "console_internal.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/tools.h"

static void handle_results(console_call *c, serve_reply *r)
{
    const char *f = c->query(c->conn, "from"), *t = c->query(c->conn, "to"),
               *format = c->query(c->conn, "format");
    int64_t from, to;
    if (!report_parse_date(f, &from)) {
        serve_error(r, 400, "invalid_parameter", "from", "from must be a date YYYY-MM-DD");
        return;
    }
    if (!report_parse_date(t, &to)) {
        serve_error(r, 400, "invalid_parameter", "to", "to must be a date YYYY-MM-DD");
        return;
    }
    bool csv = format && strcmp(format, "csv") == 0;
    if (format && !csv && strcmp(format, "json") != 0) {
        serve_error(r, 400, "invalid_parameter", "format", "format must be json or csv");
        return;
    }
    char err[512];
    json_t *rep = report_build(c->w->store, from, to, err, sizeof err);
    if (!rep) {
        serve_error(r, 400, "report_failed", NULL, "%s", err);
        return;
    }
    if (!csv) {
        serve_json(r, 200, rep);
        return;
    }
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (mem) {
        report_print_csv(mem, rep);
        fclose(mem);
    }
    json_decref(rep);
    if (!text) {
        serve_error(r, 500, "internal", NULL, "out of memory");
        return;
    }
    free(r->body);
    r->body = text;
    r->len = len;
    r->status = 200;
    r->content_type = "text/csv; charset=utf-8";
}

bool console_results_route(console_call *c, const console_session *s, const char *route, serve_reply *r)
{
    (void)s; /* every role may read the results */
    if (strcmp(route, "results") != 0) return false;
    if (strcmp(c->method, "GET") != 0) {
        r->allow = "GET";
        serve_error(r, 405, "method_not_allowed", NULL, "use GET");
        return true;
    }
    handle_results(c, r);
    return true;
}
