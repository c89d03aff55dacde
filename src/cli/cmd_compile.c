/* cmd_compile.c - `perk check` (and `check --fix`: the compiler's fix-its written back), `perk
 * compile` and `perk disasm`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "compiler/compiler.h"
#include "disasm.h"
#include "program.h"

/* Rounds of `check --fix` on one file at most. */
#define CHECK_FIX_ROUNDS 8

/* Applies every fix of the diagnostics to the files they are in, writes those files back and
 * lists each edit ("rules/a.perk:6:8: fixed [unknown-fact]: replace 'customer.tire' with
 * 'customer.tier'"). Returns the number of edits, or -1 when a file could not be written. */
static int apply_fixes(compiler *c)
{
    diag_sort(&c->diags);
    bool *applied = calloc((size_t)c->diags.count + 1, sizeof *applied);
    if (!applied) {
        fputs("perk: error: out of memory\n", stderr);
        return -1;
    }
    int edits = 0;
    for (int f = 0; f < c->sources.count; f++) {
        const source_file *file = &c->sources.files[f];
        bool seen = false; /* a file loaded twice (included by two of the files) is written once */
        for (int g = 0; g < f; g++) seen = seen || strcmp(c->sources.files[g].path, file->path) == 0;
        if (seen || file->len == 0) continue;
        size_t len = 0;
        char *text = diag_apply_fixes(c->diags.entries, c->diags.count, f, file->text, file->len, &len, applied);
        if (!text) continue;
        for (int i = 0; i < c->diags.count; i++) {
            const diag_entry *e = &c->diags.entries[i];
            for (int k = 0; applied[i] && k < e->n_fixes; k++) {
                const diag_fix_entry *x = &e->fixes[k];
                if (x->file != f) continue;
                printf("%s:%d:%d: fixed [%s]: ", file->path, x->line, x->column, diag_code_id(e->code));
                diag_describe_fix(&c->diags, x, stdout);
                putchar('\n');
                edits++;
            }
        }
        bool ok = cli_write_file(file->path, text, len);
        free(text);
        if (!ok) {
            free(applied);
            return -1;
        }
    }
    free(applied);
    return edits;
}

int cmd_check(int argc, char **argv)
{
    bool json = false, werror = false, color = false, fix = false;
    cli_parser opts;
    int ch;
    cli_parse_begin(&opts, &cli_check, false);
    while ((ch = cli_parse_next(&opts, argc, argv)) != -1) {
        switch (ch) {
        case CLI_OPT_INCLUDE_PATH:
            if (!cli_include_path(optarg)) return 2;
            break;
        case CLI_OPT_JSON: json = true; break;
        case CLI_OPT_WERROR: werror = true; break;
        case CLI_OPT_FIX: fix = true; break;
        case CLI_OPT_COLOR: color = true; break;
        case CLI_OPT_HELP: cli_print_help(stdout, &cli_check); return 0;
        default: fprintf(stderr, "usage: %s\n", cli_check.usage); return 2;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "perk check: no rule files given\nusage: %s\n", cli_check.usage);
        return 2;
    }
    if (cli_stdin_twice((const char *const *)argv + optind, argc - optind)) return 2;
    if (fix && json) {
        fprintf(stderr, "perk check: --fix and --json cannot go together\nusage: %s\n", cli_check.usage);
        return 2;
    }
    for (int i = optind; fix && i < argc; i++)
        if (strcmp(argv[i], "-") == 0) {
            fprintf(stderr, "perk check: --fix cannot rewrite stdin\nusage: %s\n", cli_check.usage);
            return 2;
        }
    compiler c;
    if (fix) {
        /* each file on its own, again after each round: a fixed syntax error lets the checker
         * run and find what it can fix in turn; a few rounds are enough (each one removes
         * errors, never adds one: tests/unit/test_fixits.c) */
        int edits = 0;
        for (int i = optind; i < argc; i++) {
            const char *path = argv[i];
            for (int round = 0; round < CHECK_FIX_ROUNDS; round++) {
                compiler_init(&c);
                cli_include_paths_set(&c.sources);
                cli_compile_files(&c, &path, 1, NULL, NULL);
                int n = apply_fixes(&c);
                compiler_free(&c);
                if (n < 0) return 1;
                edits += n;
                if (n == 0) break;
            }
        }
        printf("%d fix%s applied\n", edits, edits == 1 ? "" : "es");
    }
    /* what is left (with --fix, checked again from the files as written) */
    compiler_init(&c);
    cli_include_paths_set(&c.sources);
    c.diags.werror = werror;
    for (int i = optind; i < argc; i++) {
        const char *path = argv[i];
        cli_compile_files(&c, &path, 1, NULL, NULL);
    }
    if (json) {
        diag_sort(&c.diags);
        diag_print_json(&c.diags, stdout);
    } else {
        compiler_report(&c, cli_color(2, color));
    }
    int status = (c.diags.errors > 0 || (werror && c.diags.warnings > 0)) ? 1 : 0;
    compiler_free(&c);
    return status;
}

int cmd_compile(int argc, char **argv)
{
    const char *out = NULL;
    bool color = false;
    cli_parser opts;
    int ch;
    cli_parse_begin(&opts, &cli_compile, false);
    while ((ch = cli_parse_next(&opts, argc, argv)) != -1) {
        switch (ch) {
        case CLI_OPT_INCLUDE_PATH:
            if (!cli_include_path(optarg)) return 2;
            break;
        case CLI_OPT_OUTPUT: out = optarg; break;
        case CLI_OPT_COLOR: color = true; break;
        case CLI_OPT_HELP: cli_print_help(stdout, &cli_compile); return 0;
        default: fprintf(stderr, "usage: %s\n", cli_compile.usage); return 2;
        }
    }
    if (optind >= argc || !out) {
        fprintf(stderr, "usage: %s\n", cli_compile.usage);
        return 2;
    }
    compiler c;
    compiler_init(&c);
    cli_include_paths_set(&c.sources);
    uint8_t *bytes = NULL;
    size_t len = 0;
    bool ok = cli_compile_files(&c, (const char *const *)argv + optind, argc - optind, &bytes, &len);
    compiler_report(&c, cli_color(2, color));
    compiler_free(&c);
    if (!ok) {
        free(bytes);
        return 1;
    }
    /* a unique temporary file beside the target, then rename: a reader never sees half a program */
    bool wrote = cli_write_file(out, bytes, len);
    free(bytes);
    return wrote ? 0 : 1;
}

int cmd_disasm(int argc, char **argv)
{
    cli_parser opts;
    int ch;
    cli_parse_begin(&opts, &cli_disasm, false);
    while ((ch = cli_parse_next(&opts, argc, argv)) != -1) {
        if (ch == CLI_OPT_HELP) {
            cli_print_help(stdout, &cli_disasm);
            return 0;
        }
        fprintf(stderr, "usage: %s\n", cli_disasm.usage);
        return 2;
    }
    if (optind != argc - 1) {
        fprintf(stderr, "usage: %s\n", cli_disasm.usage);
        return 2;
    }
    perk_program *p = cli_load_program(argv[optind], cli_color(2, false));
    if (!p) return 1;
    perk_disasm(prog_data_of(p), stdout);
    perk_program_free(p);
    return 0;
}
