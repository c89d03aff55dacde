/* cmd_compile.c - `perk check`, `perk compile` and `perk disasm`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "compiler/compiler.h"
#include "disasm.h"
#include "program.h"

int cmd_check(int argc, char **argv)
{
    bool json = false, werror = false, color = false;
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
    compiler c;
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
