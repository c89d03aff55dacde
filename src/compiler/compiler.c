/* compiler.c - drives the compile pipeline (see compiler.h). */
#include "compiler.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "analyze.h"
#include "bytecode.h"
#include "check.h"
#include "codegen.h"
#include "parse.h"
#include "program.h"
#include "verify.h"

/* An expression the parser accepts needs about one stack entry per level of nesting, plus a few:
 * the verifier must allow that much, or a valid rule would fail as an internal error
 * (tests/unit/test_limits.c compiles the deepest right-nested expressions). */
_Static_assert(VERIFY_MAX_STACK >= PARSE_MAX_DEPTH + 64,
               "the verifier's stack limit is below the parser's nesting limit");

void compiler_init(compiler *c)
{
    source_init(&c->sources);
    diag_init(&c->diags, &c->sources);
    c->max_rules = 0;
}

/* Reports the first rule past the limit on rules (a context must be able to hold them all). */
static bool rules_within_limit(compiler *c, const ast_node *file)
{
    int limit = c->max_rules > 0 ? c->max_rules : COMPILER_MAX_RULES, n = 0;
    for (int i = 0; i < file->list.count; i++) {
        const ast_node *d = file->list.items[i];
        if (d == NULL || (d->kind != AST_PROMOTION && d->kind != AST_EARN && d->kind != AST_MULTIPLIER))
            continue;
        if (++n == limit + 1)
            diag_report(
                &c->diags, DIAG_TOO_MANY_RULES, d->span, "split the rules into several rulesets",
                "too many rules: a ruleset may have at most %d promotions, earn rules and multipliers "
                "together, and this is number %d",
                limit, n);
    }
    return n <= limit;
}

void compiler_free(compiler *c)
{
    diag_free(&c->diags);
    source_free(&c->sources);
}

/* Appends the declarations of `extra` to `main` (a second file given on the command line). */
static void splice(ast_arena *arena, ast_node *main_file, const ast_node *extra)
{
    for (int i = 0; i < extra->list.count; i++) ast_list_push(arena, &main_file->list, extra->list.items[i]);
}

static bool finish(compiler *c, ast_arena *arena, ast_node *file, uint8_t **bytes, size_t *len)
{
    bool ok = false;
    if (!file || c->diags.errors > 0 || !rules_within_limit(c, file)) goto done;
    check_info info;
    memset(&info, 0, sizeof info);
    if (!check_program(file, &c->diags, arena, &info) || c->diags.errors > 0) goto done;
    analyze_options aopt;
    memset(&aopt, 0, sizeof aopt);
    aopt.today_days = analyze_today();
    analyze_program(file, &info, &aopt, &c->diags);
    prog_data prog;
    if (!codegen_program(file, &info, &c->sources, &c->diags, &prog)) goto done;
    char err[256] = "";
    uint8_t *out = NULL;
    size_t out_len = 0;
    if (!bytecode_write(&prog, &out, &out_len, err, sizeof err)) {
        ast_span none = { 0, 1, 1, 1, 1, 0, 0 };
        diag_report(&c->diags, DIAG_CODEGEN_UNSUPPORTED, none, NULL, "cannot write bytecode: %s", err);
        prog_data_free(&prog);
        goto done;
    }
    prog_data_free(&prog);
    /* Verify what we wrote: the compiler must never emit a program the loader rejects. */
    perk_error lerr;
    perk_program *check = perk_program_load(out, out_len, &lerr);
    if (!check) {
        ast_span none = { 0, 1, 1, 1, 1, 0, 0 };
        diag_report(&c->diags, DIAG_CODEGEN_UNSUPPORTED, none,
                    "this is a bug in perk: please report it with the rule file",
                    "internal error: the compiled program does not verify: %s", lerr.message);
        perk_mem_free(out);
        goto done;
    }
    perk_program_free(check);
    if (bytes) {
        *bytes = malloc(out_len ? out_len : 1);
        if (!*bytes) abort();
        memcpy(*bytes, out, out_len);
        *len = out_len;
    }
    perk_mem_free(out);
    ok = true;
done:
    return ok && c->diags.errors == 0;
}

bool compiler_compile_files(compiler *c, const char *const *paths, int n, uint8_t **bytes, size_t *len)
{
    ast_arena *arena = ast_arena_new();
    ast_node *file = NULL;
    for (int i = 0; i < n; i++) {
        ast_node *f = parse_program(&c->sources, &c->diags, arena, paths[i]);
        if (!f) continue;
        if (!file)
            file = f;
        else
            splice(arena, file, f);
    }
    bool ok = finish(c, arena, file, bytes, len);
    ast_arena_free(arena);
    return ok;
}

bool compiler_compile_text(compiler *c, const char *name, const char *text, size_t text_len, uint8_t **bytes,
                           size_t *len)
{
    ast_arena *arena = ast_arena_new();
    ast_node *file = parse_text(&c->sources, &c->diags, arena, name, text, text_len);
    bool ok = finish(c, arena, file, bytes, len);
    ast_arena_free(arena);
    return ok;
}

void compiler_report(compiler *c, bool color)
{
    diag_sort(&c->diags);
    diag_print_text(&c->diags, stderr, color);
    diag_print_summary(&c->diags, stderr);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

perk_program *compiler_load_program(const char *path, bool color)
{
    if (!ends_with(path, ".perk")) {
        perk_error err;
        perk_program *p = perk_program_load_file(path, &err);
        /* the message names the file already ("x.pbc: bad magic ...", "load: cannot open 'x.pbc'") */
        if (!p) fprintf(stderr, "perk: error: %s\n", err.message);
        return p;
    }
    compiler c;
    compiler_init(&c);
    uint8_t *bytes = NULL;
    size_t len = 0;
    const char *paths[1] = { path };
    bool ok = compiler_compile_files(&c, paths, 1, &bytes, &len);
    compiler_report(&c, color);
    compiler_free(&c);
    if (!ok) {
        free(bytes);
        return NULL;
    }
    perk_error err;
    perk_program *p = perk_program_load(bytes, len, &err);
    free(bytes);
    if (!p) fprintf(stderr, "perk: error: %s: %s\n", path, err.message);
    return p;
}
