/* console_rules.c - the Rules, Simulate and Tests pages' API (docs/console.md): the active rule
 * file, the compiler's diagnostics of a draft as the operator types (line/column spans, message,
 * hint, fix-its), formatting on demand, evaluating a cart under the draft with its explanation and hints,
 * and running the draft's rule tests with the engine of `perk test`.
 *
 * A draft is its main file and the files it includes (console_draft.c), compiled in memory: an
 * `include` reads only the draft's own files, never the server's. */
#include "console_internal.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "compiler/compiler.h"
#include "tools/tools.h"

#define CONSOLE_MAX_DIAGS 200

int console_include_line(const char *text)
{
    int line = 1;
    for (const char *p = text; *p; line++) {
        p += strspn(p, " \t");
        if (strncmp(p, "include", 7) == 0 && (p[7] == ' ' || p[7] == '\t' || p[7] == '"')) return line;
        const char *nl = strchr(p, '\n');
        if (!nl) break;
        p = nl + 1;
    }
    return 0;
}

static void handle_rules(console_call *c, serve_reply *r)
{
    int64_t id = 0;
    perk_store_status st = perk_store_active_version(c->w->store, (int64_t)time(NULL), &id);
    json_t *o = json_object();
    if (st == PERK_STORE_NOT_FOUND) {
        json_object_set_new(o, "version", json_null());
        json_object_set_new(o, "name", json_string("draft.perk"));
        json_object_set_new(o, "source", json_string(""));
        json_object_set_new(o, "files", json_object());
        serve_json(r, 200, o);
        return;
    }
    perk_store_version v;
    memset(&v, 0, sizeof v);
    if (st == PERK_STORE_OK) st = perk_store_get_version(c->w->store, id, &v);
    if (st != PERK_STORE_OK) {
        perk_store_free_version(&v);
        json_decref(o);
        serve_error(r, 503, "store_unavailable", NULL, "cannot read the active version: %s",
                    perk_store_errmsg(c->w->store));
        return;
    }
    char *name = NULL;
    json_t *files = NULL;
    char *text = console_split_sources(v.sources, &name, &files);
    perk_error e;
    perk_program *prog = perk_program_load(v.bytecode, v.bytecode_len, &e);
    json_object_set_new(o, "version", json_integer(id));
    json_object_set_new(o, "name", json_string(name ? name : "rules.perk"));
    json_t *t = text ? json_string(text) : NULL;
    json_object_set_new(o, "source", t ? t : json_string(""));
    json_object_set_new(o, "files", files);
    json_object_set_new(o, "currency", prog ? json_string(perk_program_currency(prog)) : json_null());
    json_object_set_new(o, "timezone", prog ? json_string(perk_program_timezone(prog)) : json_null());
    json_object_set_new(o, "message", json_string(v.message ? v.message : ""));
    perk_program_free(prog);
    free(name);
    free(text);
    perk_store_free_version(&v);
    serve_json(r, 200, o);
}

static void handle_check(console_call *c, const console_session *s, json_t *body, serve_reply *r)
{
    (void)s;
    console_draft draft;
    if (!console_draft_read(body, &draft, r)) return;
    json_t *diags = NULL;
    perk_program *prog = console_draft_compile(&draft, &diags);
    json_t *o = json_object();
    json_object_set_new(o, "ok", json_boolean(prog != NULL));
    json_object_set_new(o, "diagnostics", diags);
    if (prog) {
        json_object_set_new(o, "currency", json_string(perk_program_currency(prog)));
        json_object_set_new(o, "promotions", json_integer((json_int_t)perk_program_promotion_count(prog)));
    }
    perk_program_free(prog);
    (void)c;
    serve_json(r, 200, o);
}

static void handle_format(console_call *c, const console_session *s, json_t *body, serve_reply *r)
{
    (void)s;
    (void)c;
    console_draft draft; /* the file to format: the main one, or one it includes */
    if (!console_draft_read(body, &draft, r)) return;
    const char *source = draft.source;
    source_set set;
    diag_engine d;
    source_init(&set);
    diag_init(&d, &set);
    char *out = NULL, err[256] = "";
    size_t out_len = 0;
    fmt_status fs =
        fmt_text(&set, &d, draft.name, source, strlen(source), &out, &out_len, err, sizeof err);
    json_t *o = json_object();
    json_object_set_new(o, "ok", json_boolean(fs == FMT_OK));
    if (fs == FMT_OK) {
        json_t *t = json_stringn(out, out_len);
        json_object_set_new(o, "source", t ? t : json_string(source));
    }
    diag_sort(&d);
    json_object_set_new(o, "diagnostics", console_diag_json(&d));
    if (fs == FMT_INTERNAL_ERROR) json_object_set_new(o, "error", json_string(err));
    free(out);
    diag_free(&d);
    source_free(&set);
    serve_json(r, 200, o);
}

/* Evaluates the cart under the draft: the result JSON of /v1/evaluate and the explanation table. */
static void handle_simulate(console_call *c, const console_session *s, json_t *body, serve_reply *r)
{
    (void)s;
    console_draft draft;
    if (!console_draft_read(body, &draft, r)) return;
    json_t *cart = json_object_get(body, "cart");
    if (!json_is_object(cart)) {
        serve_error(r, 400, "invalid_request", "cart", "cart: a cart object is required (docs/cart.md)");
        return;
    }
    json_t *diags = NULL;
    perk_program *prog = console_draft_compile(&draft, &diags);
    if (!prog) {
        json_t *o = json_pack("{s:b,s:o}", "ok", 0, "diagnostics", diags);
        serve_json(r, 422, o);
        r->error_code = "draft_does_not_compile";
        return;
    }
    json_decref(diags);
    char *cart_text = json_dumps(cart, JSON_COMPACT);
    char err[512] = "";
    perk_limits lim = c->srv->limits;
    cart_doc *doc = cart_text ? cart_json_parse(cart_text, strlen(cart_text), perk_program_exponent(prog),
                                                perk_program_currency(prog), &lim, err, sizeof err)
                              : NULL;
    free(cart_text);
    perk_error pe;
    perk_context *ctx = doc ? perk_context_new(prog, &lim, &pe) : NULL;
    if (doc && !ctx) snprintf(err, sizeof err, "%s", pe.message);
    if (ctx && cart_json_feed(doc, ctx, prog, err, sizeof err) != PERK_OK) {
        perk_context_free(ctx);
        ctx = NULL;
    }
    if (!ctx) {
        serve_error_from_message(r, 400, "invalid_cart", err[0] ? err : "the cart is not valid");
        cart_json_free(doc);
        perk_program_free(prog);
        return;
    }
    const perk_result *res = perk_evaluate(ctx);
    result_names *names = result_names_from_program(prog);
    char *json = names && res->status == PERK_OK ? result_json_render(names, res, doc, 0) : NULL;
    char *table = NULL;
    size_t table_len = 0;
    FILE *mem = names ? open_memstream(&table, &table_len) : NULL;
    if (mem) {
        explain_print(mem, names, res, doc, 0);
        fclose(mem);
    }
    json_t *o = json_object();
    json_t *result = json ? json_loads(json, 0, NULL) : NULL;
    if (res->status != PERK_OK) {
        json_object_set_new(o, "ok", json_false());
        json_object_set_new(o, "error",
                            json_pack("{s:s,s:s}", "status", result_status_name(res->status), "message",
                                      perk_context_error(ctx)));
    } else {
        json_object_set_new(o, "ok", json_true());
        json_object_set_new(o, "result", result ? result : json_null());
        result = NULL;
    }
    json_decref(result);
    json_t *t = table ? json_stringn(table, table_len) : NULL;
    json_object_set_new(o, "explanation", t ? t : json_string(""));
    free(json);
    free(table);
    result_names_free(names);
    perk_context_free(ctx);
    cart_json_free(doc);
    perk_program_free(prog);
    serve_json(r, 200, o);
}

/* Line (1-based) of the first `cart file "path"` of a .test text, or 0: it would read a file of the
 * server. */
static int cart_file_line(const char *text)
{
    int line = 1;
    for (const char *p = text; *p; line++) {
        p += strspn(p, " \t");
        if (strncmp(p, "cart", 4) == 0 && (p[4] == ' ' || p[4] == '\t')) {
            const char *q = p + 4 + strspn(p + 4, " \t");
            if (strncmp(q, "file", 4) == 0) return line;
        }
        const char *nl = strchr(p, '\n');
        if (!nl) break;
        p = nl + 1;
    }
    return 0;
}

/* Writes text to dir/name, making the folders of a relative name ("lib/x.perk") as needed; false
 * on failure. */
static bool write_file(const char *dir, const char *name, const char *text)
{
    char path[768];
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path) return false;
    for (char *slash = path + strlen(dir) + 1; (slash = strchr(slash, '/')) != NULL; slash++) {
        *slash = '\0';
        bool made = mkdir(path, 0700) == 0 || errno == EEXIST;
        *slash = '/';
        if (!made) return false;
    }
    FILE *f = fopen(path, "w");
    if (!f) return false;
    size_t n = strlen(text);
    bool ok = fwrite(text, 1, n, f) == n;
    return fclose(f) == 0 && ok;
}

/* Removes dir/name, then the folders of a relative name that are left empty ("lib/" of
 * "lib/x.perk"). */
static void remove_file(const char *dir, const char *name)
{
    char path[768];
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path) return;
    unlink(path);
    size_t top = strlen(dir);
    for (char *slash; (slash = strrchr(path, '/')) != NULL && (size_t)(slash - path) > top;) {
        *slash = '\0';
        if (rmdir(path) != 0) break; /* not empty: another file is still there */
    }
}

/* Runs the rule tests of the draft: the draft and its .test file in a private temporary folder
 * (the .test file names its rule file beside it), with the engine of `perk test`. */
static void handle_test(console_call *c, const console_session *s, json_t *body, serve_reply *r)
{
    (void)s;
    (void)c;
    console_draft draft;
    if (!console_draft_read(body, &draft, r)) return;
    const char *tests = console_member(body, "tests", r);
    if (!tests) return;
    json_t *diags = NULL;
    perk_program *prog = console_draft_compile(&draft, &diags);
    if (!prog) {
        serve_json(r, 422, json_pack("{s:b,s:o}", "ok", 0, "diagnostics", diags));
        r->error_code = "draft_does_not_compile";
        return;
    }
    perk_program_free(prog);
    json_decref(diags);
    int inc = console_include_line(tests);
    if (inc) {
        serve_error(r, 400, "invalid_request", "tests",
                    "tests line %d: include is not available in the console", inc);
        return;
    }
    int file_line = cart_file_line(tests);
    if (file_line) {
        serve_error(
            r, 400, "invalid_request", "tests",
            "tests line %d: cart file is not available in the console: write the cart inline (cart { ... })",
            file_line);
        return;
    }
    /* the cases run under the draft: a `ruleset "file"` line naming another file is commented out */
    char *own = strdup(tests);
    if (!own) {
        serve_error(r, 500, "internal", NULL, "out of memory");
        return;
    }
    for (char *p = own; p && *p;) {
        p += strspn(p, " \t");
        if (strncmp(p, "ruleset", 7) == 0 && (p[7] == ' ' || p[7] == '\t')) *p = '#';
        p = strchr(p, '\n');
        if (p) p++;
    }
    const char *tmp = getenv("TMPDIR");
    char dir[512];
    snprintf(dir, sizeof dir, "%s/perk-console-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        free(own);
        serve_error(r, 500, "internal", NULL, "cannot make a temporary folder: %s", strerror(errno));
        return;
    }
    /* the .test file's rules are found by name: draft.perk beside draft.test, and the files it
     * includes at their paths below (checked: relative, no "..", and all the compile read) */
    bool ok = write_file(dir, "draft.perk", draft.source) && write_file(dir, "draft.test", own);
    for (int i = 0; ok && i < draft.n_files; i++) ok = write_file(dir, draft.files[i].path, draft.files[i].text);
    free(own);
    char *log = NULL;
    size_t log_len = 0;
    ruletest_run run;
    memset(&run, 0, sizeof run);
    run.verbose = true;
    FILE *mem = ok ? open_memstream(&log, &log_len) : NULL;
    if (mem) {
        char path[600];
        snprintf(path, sizeof path, "%s/draft.test", dir);
        run.out = mem;
        ruletest_path(&run, path);
        fclose(mem);
    }
    remove_file(dir, "draft.perk");
    remove_file(dir, "draft.test");
    for (int i = 0; i < draft.n_files; i++) remove_file(dir, draft.files[i].path);
    rmdir(dir);
    if (!mem) {
        free(log);
        serve_error(r, 500, "internal", NULL, "cannot write the draft and its tests to %s", dir);
        return;
    }
    /* the temporary folder means nothing to the operator: show the file names only */
    json_t *lines = json_array();
    size_t dl = strlen(dir) + 1;
    for (char *line = log, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = '\0';
        char *at;
        while ((at = strstr(line, dir)) != NULL) memmove(at, at + dl, strlen(at + dl) + 1);
        json_t *l = json_string(line);
        if (l) json_array_append_new(lines, l);
    }
    free(log);
    serve_json(r, 200,
               json_pack("{s:b,s:i,s:i,s:o}", "ok", run.failed == 0, "passed", run.passed, "failed",
                         run.failed, "log", lines));
}

bool console_rules_route(console_call *c, const console_session *s, const char *route, serve_reply *r)
{
    bool get = strcmp(c->method, "GET") == 0;
    if (strcmp(route, "rules") == 0 && get) {
        handle_rules(c, r);
        return true;
    }
    console_post_fn fn = NULL;
    if (strcmp(route, "check") == 0)
        fn = handle_check;
    else if (strcmp(route, "format") == 0)
        fn = handle_format;
    else if (strcmp(route, "simulate") == 0)
        fn = handle_simulate;
    else if (strcmp(route, "test") == 0)
        fn = handle_test;
    if (!fn) return false;
    console_post(c, s, ROLE_EDITOR, fn, r);
    return true;
}
