/* cmd_users.c - `perk users add|list|remove`: the operators of the console (docs/console.md).
 * The password never comes from argv (ps would show it): from --password-file, a prompt without
 * echo on a terminal, or the first line of standard input. */
#include "cli.h"

#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "store/store.h"

#define USERS_LINE_MAX (PERK_STORE_PASSWORD_MAX + 2)

/* Reads one line (without its newline) into buf; false at EOF or when it is too long. */
static bool read_line(FILE *f, char *buf, size_t cap, const char *what)
{
    if (!fgets(buf, (int)cap, f)) {
        fprintf(stderr, "perk: error: no password on %s\n", what);
        return false;
    }
    size_t n = strlen(buf);
    if (n && buf[n - 1] == '\n')
        buf[--n] = '\0';
    else if (!feof(f)) {
        fprintf(stderr, "perk: error: the password on %s is longer than %d bytes\n", what,
                PERK_STORE_PASSWORD_MAX);
        return false;
    }
    if (n && buf[n - 1] == '\r') buf[--n] = '\0';
    return true;
}

/* A prompt on the terminal with echo off. */
static bool prompt(const char *text, char *buf, size_t cap)
{
    struct termios old, quiet;
    fprintf(stderr, "%s", text);
    fflush(stderr);
    bool restore = tcgetattr(STDIN_FILENO, &old) == 0;
    if (restore) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    bool ok = read_line(stdin, buf, cap, "the terminal");
    if (restore) tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    fputc('\n', stderr);
    return ok;
}

static bool get_password(const char *file, char *buf, size_t cap)
{
    if (file) {
        FILE *f = fopen(file, "r");
        if (!f) {
            fprintf(stderr, "perk: error: %s: %s\n", file, strerror(errno));
            return false;
        }
        bool ok = read_line(f, buf, cap, file);
        fclose(f);
        return ok;
    }
    if (!isatty(STDIN_FILENO)) return read_line(stdin, buf, cap, "standard input");
    char again[USERS_LINE_MAX];
    bool ok = prompt("password: ", buf, cap) && prompt("again: ", again, sizeof again);
    if (ok && strcmp(buf, again) != 0) {
        fprintf(stderr, "perk: error: the two passwords differ\n");
        ok = false;
    }
    memset(again, 0, sizeof again);
    return ok;
}

/* Who is making the change, for the audit log: the login name of the Unix user. */
static void cli_actor(char *out, size_t cap)
{
    const struct passwd *pw = getpwuid(getuid());
    const char *env = getenv("USER");
    snprintf(out, cap, "cli:%s", pw && pw->pw_name ? pw->pw_name : env && *env ? env : "unknown");
}

/* ctx: the zone of the text output (the active rule set's, else UTC). */
static int list_one(void *ctx, const perk_store_user *u)
{
    char when[CLI_ZONE_TIME_MAX];
    printf("%-24s %-10s %s\n", cli_safe(u->name), cli_safe(u->role), cli_zone_time(ctx, u->created_at, when));
    return 0;
}

int cmd_users(int argc, char **argv)
{
    const char *db = cli_default_db(), *role = NULL, *password_file = NULL;
    cli_parser opts;
    int ch;
    cli_parse_begin(&opts, &cli_users, false);
    while ((ch = cli_parse_next(&opts, argc, argv)) != -1) {
        switch (ch) {
        case CLI_OPT_DB: db = optarg; break;
        case CLI_OPT_ROLE: role = optarg; break;
        case CLI_OPT_PASSWORD_FILE: password_file = optarg; break;
        case CLI_OPT_HELP: cli_print_help(stdout, &cli_users); return 0;
        default: goto usage;
        }
    }
    if (optind >= argc) goto usage;
    const char *verb = argv[optind];
    bool add = strcmp(verb, "add") == 0, list = strcmp(verb, "list") == 0,
         remove = strcmp(verb, "remove") == 0;
    if (!(add || list || remove)) goto usage;
    if (list ? optind + 1 != argc : optind + 2 != argc) goto usage;
    if (add && !role) {
        fprintf(stderr, "perk: error: perk users add needs --role viewer, editor or publisher\n");
        goto usage;
    }
    if (!add && (role || password_file)) {
        fprintf(stderr, "perk: error: --role and --password-file are for perk users add\n");
        goto usage;
    }
    const char *name = list ? NULL : argv[optind + 1];
    char password[USERS_LINE_MAX];
    if (add && !get_password(password_file, password, sizeof password)) return 1;
    perk_store *s = cli_open_store(db);
    if (!s) {
        memset(password, 0, sizeof password);
        return 1;
    }
    char actor[96];
    cli_actor(actor, sizeof actor);
    perk_store_status st;
    if (add) {
        st = perk_store_user_add(s, name, role, password, strlen(password), actor, (int64_t)time(NULL));
        memset(password, 0, sizeof password);
        if (st == PERK_STORE_OK) printf("added %s as %s\n", name, role);
    } else if (remove) {
        st = perk_store_user_remove(s, name, actor, (int64_t)time(NULL));
        if (st == PERK_STORE_OK) printf("removed %s\n", name);
    } else {
        cli_zone zone;
        cli_zone_of_store(&zone, s, (int64_t)time(NULL));
        cli_zone_note(&zone);
        st = perk_store_users(s, list_one, &zone);
        cli_zone_free(&zone);
    }
    int rc = 0;
    if (st != PERK_STORE_OK) {
        fprintf(stderr, "perk: error: %s\n", perk_store_errmsg(s));
        rc = 1;
    }
    perk_store_close(s);
    return rc;
usage:
    fprintf(stderr, "usage: %s\n", cli_users.usage);
    return 2;
}
