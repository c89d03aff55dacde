/* cmd_compile.c - `perk check`, `perk compile` and `perk disasm`. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "compiler/compiler.h"
#include "disasm.h"
#include "program.h"

int cmd_check(int argc, char **argv) {
    bool json = false, werror = false, color = false;
    static const struct option opts[] = {{"json", no_argument, 0, 'j'},
                                         {"werror", no_argument, 0, 'W'},
                                         {"color", no_argument, 0, 'c'},
                                         {"include-path", required_argument, 0, 'I'},
                                         {0, 0, 0, 0}};
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'I': if (!cli_include_path(optarg)) return 2; break;
        case 'j': json = true; break;
        case 'W': werror = true; break;
        case 'c': color = true; break;
        default: fprintf(stderr, "usage: perk check [--json] [--werror] [--color] FILE...\n"); return 2;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "perk check: no rule files given\nusage: perk check [--json] [--werror] [--color] FILE...\n");
        return 2;
    }
    compiler c;
    compiler_init(&c);
    cli_include_paths_set(&c.sources);
    c.diags.werror = werror;
    for (int i = optind; i < argc; i++) {
        const char *path = argv[i];
        compiler_compile_files(&c, &path, 1, NULL, NULL);
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

int cmd_compile(int argc, char **argv) {
    const char *out = NULL;
    bool color = false;
    static const struct option opts[] = {{"output", required_argument, 0, 'o'},
                                         {"color", no_argument, 0, 'c'},
                                         {"include-path", required_argument, 0, 'I'},
                                         {0, 0, 0, 0}};
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
        switch (ch) {
        case 'I': if (!cli_include_path(optarg)) return 2; break;
        case 'o': out = optarg; break;
        case 'c': color = true; break;
        default: fprintf(stderr, "usage: perk compile FILE... -o NAME.pbc\n"); return 2;
        }
    }
    if (optind >= argc || !out) {
        fprintf(stderr, "usage: perk compile FILE... -o NAME.pbc\n");
        return 2;
    }
    compiler c;
    compiler_init(&c);
    cli_include_paths_set(&c.sources);
    uint8_t *bytes = NULL;
    size_t len = 0;
    bool ok = compiler_compile_files(&c, (const char *const *)argv + optind, argc - optind, &bytes, &len);
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

int cmd_disasm(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: perk disasm PROGRAM(.pbc|.perk)\n");
        return 2;
    }
    perk_program *p = compiler_load_program(argv[1], cli_color(2, false));
    if (!p) return 1;
    perk_disasm(prog_data_of(p), stdout);
    perk_program_free(p);
    return 0;
}
