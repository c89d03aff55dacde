/* cli_util.c - small helpers shared by the perk subcommands. */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool cli_color(int fd, bool forced) {
    if (forced) return true;
    const char *no = getenv("NO_COLOR");
    if (no && *no) return false;
    return isatty(fd) != 0;
}

char *cli_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "perk: error: cannot open %s: %s\n", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fprintf(stderr, "perk: error: %s is a directory\n", path);
        fclose(f);
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    if (!buf) abort();
    for (;;) {
        if (n + 1 >= cap) {
            if (cap > ((size_t)1 << 30)) {
                fprintf(stderr, "perk: error: %s is too large\n", path);
                free(buf);
                fclose(f);
                return NULL;
            }
            cap *= 2;
            char *nb = realloc(buf, cap);
            if (!nb) abort();
            buf = nb;
        }
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0) break;
    }
    bool err = ferror(f) != 0;
    fclose(f);
    if (err) {
        fprintf(stderr, "perk: error: cannot read %s\n", path);
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    if (len) *len = n;
    return buf;
}

/* "  -o, --output NAME.pbc" or "      --json": the left column of the help. */
static int option_head(char *buf, size_t cap, const cli_option *o)
{
    char sh[8] = "    ";
    if (o->short_name) snprintf(sh, sizeof sh, "-%c, ", o->short_name);
    return snprintf(buf, cap, "  %s--%s%s%s", sh, o->name, o->arg ? " " : "", o->arg ? o->arg : "");
}

void cli_print_help(FILE *out, const cli_command *cmd)
{
    static const cli_option help = {"help", 'h', NULL, "print this help", CLI_OPT_HELP};
    fprintf(out, "usage: %s\n\n%s\n\nOptions:\n", cmd->usage, cmd->summary);
    char head[128];
    int width = option_head(head, sizeof head, &help);
    for (const cli_option *o = cmd->options; o->name; o++) {
        int w = option_head(head, sizeof head, o);
        if (w > width) width = w;
    }
    for (const cli_option *o = cmd->options;; o++) {
        const cli_option *row = o->name ? o : &help; /* -h/--help last */
        option_head(head, sizeof head, row);
        fprintf(out, "%-*s  %s\n", width, head, row->help);
        if (!o->name) break;
    }
}

void cli_parse_begin(cli_parser *p, const cli_command *cmd, bool quiet)
{
    p->cmd = cmd;
    size_t n = 0, s = 0;
    for (const cli_option *o = cmd->options; o->name; o++) {
        if (n == CLI_MAX_OPTIONS) abort(); /* a table outgrew CLI_MAX_OPTIONS */
        p->longs[n++] = (struct option){o->name, o->arg ? required_argument : no_argument, NULL, (int)o->id};
        if (o->short_name) {
            p->shorts[s++] = o->short_name;
            if (o->arg) p->shorts[s++] = ':';
        }
    }
    p->longs[n++] = (struct option){"help", no_argument, NULL, CLI_OPT_HELP};
    p->longs[n] = (struct option){0, 0, 0, 0};
    p->shorts[s++] = 'h';
    p->shorts[s] = '\0';
    optind = 0; /* GNU: 0 also resets getopt's internal state between commands */
    opterr = quiet ? 0 : 1;
}

int cli_parse_next(cli_parser *p, int argc, char **argv)
{
    int ch = getopt_long(argc, argv, p->shorts, p->longs, NULL);
    if (ch == -1 || ch >= 256) return ch;
    if (ch == 'h') return CLI_OPT_HELP;
    for (const cli_option *o = p->cmd->options; o->name; o++)
        if (o->short_name && o->short_name == ch) return (int)o->id;
    return '?';
}
