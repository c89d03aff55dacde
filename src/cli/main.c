/* main.c - the `perk` command line: dispatches to one cmd_* function per subcommand.
 *
 * Exit status everywhere: 0 success, 1 errors found (in rules, carts, data), 2 usage error.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "perk.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *usage;
    const char *summary;
} command;

static int cmd_help(int argc, char **argv);
static int cmd_version(int argc, char **argv);

static const command commands[] = {
#define CLI_COMMAND(name, fn, usage, summary) {name, fn, usage, summary},
    CLI_COMMAND_LIST(CLI_COMMAND)
#undef CLI_COMMAND
    {"version", cmd_version, "perk version", "print the version"},
    {"help", cmd_help, "perk help [COMMAND]", "show help"},
};

static const size_t n_commands = sizeof commands / sizeof commands[0];

static void print_usage(FILE *out) {
    fprintf(out, "usage: perk COMMAND [ARGS]\n\nCommands:\n");
    for (size_t i = 0; i < n_commands; i++) fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nRun `perk help COMMAND` for a command's options. Docs: docs/cli.md\n");
}

static int cmd_help(int argc, char **argv) {
    if (argc >= 2) {
        for (size_t i = 0; i < n_commands; i++)
            if (strcmp(commands[i].name, argv[1]) == 0) {
                printf("usage: %s\n\n%s\n", commands[i].usage, commands[i].summary);
                return 0;
            }
        fprintf(stderr, "perk: unknown command '%s'\n", argv[1]);
        return 2;
    }
    print_usage(stdout);
    return 0;
}

static int cmd_version(int argc, char **argv) {
    (void)argc;
    (void)argv;
    printf("perk %s\n", PERK_VERSION_STRING);
    return 0;
}

int main(int argc, char **argv) {
    cli_init_process();
    if (argc < 2) {
        print_usage(stderr);
        return 2;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) return cmd_help(argc - 1, argv + 1);
    if (strcmp(name, "--version") == 0) return cmd_version(0, NULL);
    for (size_t i = 0; i < n_commands; i++)
        if (strcmp(commands[i].name, name) == 0) return cli_finish(commands[i].run(argc - 1, argv + 1));
    fprintf(stderr, "perk: unknown command '%s'\n", name);
    print_usage(stderr);
    return 2;
}
