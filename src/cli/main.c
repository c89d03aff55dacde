/* main.c - the `perk` command line: dispatches to one cmd_* function per subcommand.
 *
 * Exit status everywhere: 0 success, 1 errors found (in rules, carts, data), 2 usage error.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "bytecode.h"
#include "cli.h"
#include "perk.h"
#include "store/store.h"

typedef struct command {
    const cli_command *info; /* name, synopsis, summary and options (cli_options.c) */
    int (*run)(int argc, char **argv);
} command;

static const command commands[] = {
#define CLI_COMMAND(id) { &cli_##id, cmd_##id },
    CLI_COMMAND_LIST(CLI_COMMAND)
#undef CLI_COMMAND
};

static const size_t n_commands = sizeof commands / sizeof commands[0];

/* "perk: unknown command 'chek'; did you mean 'check'?" */
static void unknown_command(const char *name)
{
    const char *names[sizeof commands / sizeof commands[0]];
    for (size_t i = 0; i < n_commands; i++) names[i] = commands[i].info->name;
    const char *near = cli_closest(name, names, n_commands);
    if (near)
        fprintf(stderr, "perk: unknown command '%s'; did you mean '%s'?\n", cli_safe(name), near);
    else
        fprintf(stderr, "perk: unknown command '%s'\n", cli_safe(name));
}

static void print_usage(FILE *out)
{
    fprintf(out, "usage: perk COMMAND [ARGS]\n\nCommands:\n");
    for (size_t i = 0; i < n_commands; i++)
        fprintf(out, "  %-10s %s\n", commands[i].info->name, commands[i].info->summary);
    fprintf(out, "\nRun `perk help COMMAND` for a command's options. Docs: docs/cli.md\n");
}

/* Options of a command that takes none but -h/--help: 1 to go on, else the exit status + 2. */
static int no_options(const cli_command *cmd, int argc, char **argv)
{
    cli_parser p;
    cli_parse_begin(&p, cmd, false);
    int ch;
    while ((ch = cli_parse_next(&p, argc, argv)) != -1) {
        if (ch == CLI_OPT_HELP) {
            cli_print_help(stdout, cmd);
            return 0;
        }
        fprintf(stderr, "usage: %s\n", cmd->usage);
        return 2;
    }
    return -1;
}

int cmd_help(int argc, char **argv)
{
    cli_parser p;
    cli_parse_begin(&p, &cli_help, false);
    bool man = false;
    const char *completion = NULL;
    int ch;
    while ((ch = cli_parse_next(&p, argc, argv)) != -1) {
        switch (ch) {
        case CLI_OPT_HELP: cli_print_help(stdout, &cli_help); return 0;
        case CLI_OPT_MAN: man = true; break;
        case CLI_OPT_COMPLETION: completion = optarg; break;
        default: fprintf(stderr, "usage: %s\n", cli_help.usage); return 2;
        }
    }
    if (completion) {
        if (man || optind < argc) {
            fprintf(stderr, "usage: %s\n", cli_help.usage);
            return 2;
        }
        if (cli_print_completion(stdout, completion) == 0) return 0;
        fprintf(stderr, "perk: error: --completion %s: the shells are: bash\n", completion);
        return 2;
    }
    if (optind + 1 < argc) {
        fprintf(stderr, "usage: %s\n", cli_help.usage);
        return 2;
    }
    if (man) {
        if (cli_print_man(stdout, optind < argc ? argv[optind] : NULL) == 0) return 0;
        unknown_command(argv[optind]);
        return 2;
    }
    if (optind < argc) {
        for (size_t i = 0; i < n_commands; i++)
            if (strcmp(commands[i].info->name, argv[optind]) == 0) {
                cli_print_help(stdout, commands[i].info);
                return 0;
            }
        unknown_command(argv[optind]);
        return 2;
    }
    print_usage(stdout);
    return 0;
}

int cmd_version(int argc, char **argv)
{
    int st = argc > 0 ? no_options(&cli_version, argc, argv) : -1;
    if (st >= 0) return st;
    printf("perk %s\n", PERK_VERSION_STRING);
    /* what this perk reads and writes: a newer bytecode or store schema is refused */
    printf("libperk %s\nbytecode format %u\nstore schema %d\n", perk_version_string(),
           (unsigned)BC_FORMAT_VERSION, perk_store_schema_version());
    return 0;
}

int main(int argc, char **argv)
{
    cli_init_process();
    if (argc < 2) {
        print_usage(stderr);
        return 2;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
        /* `perk --help [COMMAND]`: the same as `perk help [COMMAND]` */
        if (argc >= 3) return cmd_help(2, (char *[]){ "help", argv[2], NULL });
        print_usage(stdout);
        return 0;
    }
    if (strcmp(name, "--version") == 0) return cmd_version(0, NULL);
    for (size_t i = 0; i < n_commands; i++)
        if (strcmp(commands[i].info->name, name) == 0) return cli_finish(commands[i].run(argc - 1, argv + 1));
    unknown_command(name);
    print_usage(stderr);
    return 2;
}
