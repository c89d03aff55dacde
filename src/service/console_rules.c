/* console_rules.c - the Rules, Simulate and Tests pages' API (docs/console.md): the active rule
 * file, the compiler's diagnostics of a draft as the operator types (line/column spans, message,
 * hint, fix-its), formatting on demand, evaluating a cart under the draft with its explanation and hints,
 * and running the draft's rule tests with the engine of `perk test`.
 *
 * A draft is compiled in memory. `include` is refused: it would read files relative to the
 * service's working directory, which an operator must not be able to reach. */
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

/* The main rule file of a stored version's sources: a JSON object {path: text} (perk publish),
 * whose file with the `ruleset` header is the main one; else the text as it is. *name gets the
 * path (malloc'ed). Returns malloc'ed text or NULL. */
static char *main_source(const char *sources, char **name)
{
    *name = NULL;
    json_t *o = sources ? json_loads(sources, 0, NULL) : NULL;
    if (!json_is_object(o)) {
        json_decref(o);
        *name = strdup("rules.perk");
        return sources ? strdup(sources) : NULL;
    }
    const char *key, *pick_key = NULL, *pick = NULL;
    json_t *v;
    json_object_foreach(o, key, v)
    {
        const char *text = json_string_value(v);
        if (!text) continue;
        if (!pick || strncmp(text, "ruleset ", 8) == 0 || strstr(text, "\nruleset ")) {
            bool header = strncmp(text, "ruleset ", 8) == 0 || strstr(text, "\nruleset ");
            if (!pick || header) {
                pick = text;
                pick_key = key;
            }
            if (header) break;
        }
    }
    char *out = pick ? strdup(pick) : NULL;
    if (pick_key) {
        const char *base = strrchr(pick_key, '/');
        *name = strdup(base ? base + 1 : pick_key);
    }
    json_decref(o);
    return out;
}

/* A draft's file name: the one the page gives if it is a plain *.perk name, else "draft.perk". */
static const char *draft_name(json_t *body)
{
    const char *n = json_string_value(json_object_get(body, "name"));
    if (!n) return "draft.perk";
    size_t len = strlen(n);
    if (len < 6 || len > 64 || strcmp(n + len - 5, ".perk") != 0) return "draft.perk";
    for (const char *p = n; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
              *p == '-' || *p == '.'))
            return "draft.perk";
    return n;
}

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

static json_t *diag_json(const diag_engine *d)
{
    json_t *a = json_array();
    for (int i = 0; i < d->count && i < CONSOLE_MAX_DIAGS; i++) {
        const diag_entry *e = &d->entries[i];
        json_t *o = json_object();
        json_object_set_new(o, "line", json_integer(e->span.first_line));
        json_object_set_new(o, "column", json_integer(e->span.first_column));
        json_object_set_new(o, "end_line", json_integer(e->span.last_line));
        json_object_set_new(o, "end_column", json_integer(e->span.last_column));
        json_object_set_new(o, "severity",
                            json_string(e->severity == DIAG_ERROR     ? "error"
                                        : e->severity == DIAG_WARNING ? "warning"
                                                                      : "note"));
        json_object_set_new(o, "code", json_string(diag_code_id(e->code)));
        json_t *m = json_string(e->message), *h = e->hint ? json_string(e->hint) : NULL;
        json_object_set_new(o, "message", m ? m : json_string("?"));
        json_object_set_new(o, "hint", h ? h : json_null());
        /* the fix-its (diag.h): code-point columns, end exclusive; a draft is one file, and a
         * fix elsewhere (none can be: include is refused) is left out */
        json_t *fixes = json_array();
        for (int k = 0; k < e->n_fixes; k++) {
            const diag_fix_entry *x = &e->fixes[k];
            json_t *t = x->file == e->span.file ? json_string(x->text) : NULL;
            if (!t) continue;
            json_array_append_new(fixes, json_pack("{s:i,s:i,s:i,s:i,s:o}", "line", x->line, "column", x->column,
                                                   "end_line", x->end_line, "end_column", x->end_column, "text", t));
        }
        json_object_set_new(o, "fixes", fixes);
        json_array_append_new(a, o);
    }
    return a;
}

/* A diagnostics array holding one error of the console's own. */
static json_t *one_error(int line, const char *code, const char *message, const char *hint)
{
    json_t *a = json_array();
    json_array_append_new(a, json_pack("{s:i,s:i,s:i,s:i,s:s,s:s,s:s,s:s}", "line", line, "column", 1,
                                       "end_line", line, "end_column", 7, "severity", "error", "code", code,
                                       "message", message, "hint", hint));
    return a;
}

/* Compiles a draft: the verified program (NULL on errors) and, always, its diagnostics. */
static perk_program *compile_draft(const char *name, const char *text, json_t **diags)
{
    int inc = console_include_line(text);
    if (inc) {
        *diags = one_error(inc, "console-include", "include is not available in the console",
                           "put the rules in one file, or publish with perk publish");
        return NULL;
    }
    compiler cc;
    compiler_init(&cc);
    uint8_t *bytes = NULL;
    size_t len = 0;
    bool ok = compiler_compile_text(&cc, name, text, strlen(text), &bytes, &len);
    diag_sort(&cc.diags);
    *diags = diag_json(&cc.diags);
    compiler_free(&cc);
    perk_program *prog = NULL;
    if (ok && bytes) {
        perk_error e;
        prog = perk_program_load(bytes, len, &e);
    }
    free(bytes);
    return prog;
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
    char *text = main_source(v.sources, &name);
    perk_error e;
    perk_program *prog = perk_program_load(v.bytecode, v.bytecode_len, &e);
    json_object_set_new(o, "version", json_integer(id));
    json_object_set_new(o, "name", json_string(name ? name : "rules.perk"));
    json_t *t = text ? json_string(text) : NULL;
    json_object_set_new(o, "source", t ? t : json_string(""));
    json_object_set_new(o, "currency", prog ? json_string(perk_program_currency(prog)) : json_null());
    json_object_set_new(o, "timezone", prog ? json_string(perk_program_timezone(prog)) : json_null());
    json_object_set_new(o, "message", json_string(v.message ? v.message : ""));
    perk_program_free(prog);
    free(name);
    free(text);
    perk_store_free_version(&v);
    serve_json(r, 200, o);
}

static void handle_check(console_call *c, json_t *body, serve_reply *r)
{
    const char *source = console_member(body, "source", r);
    if (!source) return;
    json_t *diags = NULL;
    perk_program *prog = compile_draft(draft_name(body), source, &diags);
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

static void handle_format(console_call *c, json_t *body, serve_reply *r)
{
    (void)c;
    const char *source = console_member(body, "source", r);
    if (!source) return;
    source_set set;
    diag_engine d;
    source_init(&set);
    diag_init(&d, &set);
    char *out = NULL, err[256] = "";
    size_t out_len = 0;
    fmt_status fs =
        fmt_text(&set, &d, draft_name(body), source, strlen(source), &out, &out_len, err, sizeof err);
    json_t *o = json_object();
    json_object_set_new(o, "ok", json_boolean(fs == FMT_OK));
    if (fs == FMT_OK) {
        json_t *t = json_stringn(out, out_len);
        json_object_set_new(o, "source", t ? t : json_string(source));
    }
    diag_sort(&d);
    json_object_set_new(o, "diagnostics", diag_json(&d));
    if (fs == FMT_INTERNAL_ERROR) json_object_set_new(o, "error", json_string(err));
    free(out);
    diag_free(&d);
    source_free(&set);
    serve_json(r, 200, o);
}

/* Evaluates the cart under the draft: the result JSON of /v1/evaluate and the explanation table. */
static void handle_simulate(console_call *c, json_t *body, serve_reply *r)
{
    const char *source = console_member(body, "source", r);
    json_t *cart = json_object_get(body, "cart");
    if (!source) return;
    if (!json_is_object(cart)) {
        serve_error(r, 400, "invalid_request", "cart", "cart: a cart object is required (docs/cart.md)");
        return;
    }
    json_t *diags = NULL;
    perk_program *prog = compile_draft(draft_name(body), source, &diags);
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

/* Writes text to dir/name; false on failure. */
static bool write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) return false;
    size_t n = strlen(text);
    bool ok = fwrite(text, 1, n, f) == n;
    return fclose(f) == 0 && ok;
}

/* Runs the rule tests of the draft: the draft and its .test file in a private temporary folder
 * (the .test file names its rule file beside it), with the engine of `perk test`. */
static void handle_test(console_call *c, json_t *body, serve_reply *r)
{
    (void)c;
    const char *source = console_member(body, "source", r);
    const char *tests = source ? console_member(body, "tests", r) : NULL;
    if (!tests) return;
    json_t *diags = NULL;
    perk_program *prog = compile_draft(draft_name(body), source, &diags);
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
    /* the .test file's rules are found by name: draft.perk beside draft.test */
    bool ok = write_file(dir, "draft.perk", source) && write_file(dir, "draft.test", own);
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
    char p1[600], p2[600];
    snprintf(p1, sizeof p1, "%s/draft.perk", dir);
    snprintf(p2, sizeof p2, "%s/draft.test", dir);
    unlink(p1);
    unlink(p2);
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
    void (*fn)(console_call *, json_t *, serve_reply *) = NULL;
    if (strcmp(route, "check") == 0)
        fn = handle_check;
    else if (strcmp(route, "format") == 0)
        fn = handle_format;
    else if (strcmp(route, "simulate") == 0)
        fn = handle_simulate;
    else if (strcmp(route, "test") == 0)
        fn = handle_test;
    if (!fn) return false;
    if (get) {
        r->allow = "POST";
        serve_error(r, 405, "method_not_allowed", NULL, "use POST");
        return true;
    }
    if (!console_allow(s, ROLE_EDITOR, r)) return true;
    json_t *body = console_body(c, r);
    if (!body) return true;
    fn(c, body, r);
    json_decref(body);
    return true;
}
