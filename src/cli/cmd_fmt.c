/* cmd_fmt.c - `perk fmt [--check] [--write] FILE|DIR...`: rule files in the canonical layout
 * (src/compiler/fmt.h).
 *
 * Without options the formatted text goes to stdout. --write rewrites the files that change (a
 * temporary file beside each, then rename, so a reader never sees half a file) and lists them.
 * --check lists the files that are not formatted and exits 1 if there is any (for CI); with
 * --write too, it rewrites them as well. A directory stands for the *.perk files under it
 * (recursively, sorted, hidden entries skipped); `-` is stdin. A file with syntax errors is left
 * alone: its diagnostics go to stderr and the exit status is 1.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "compiler/compiler.h"

typedef struct path_list {
    char **items;
    int count, cap;
} path_list;

static void paths_add(path_list *l, const char *path)
{
    if (l->count == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->items = realloc(l->items, sizeof *l->items * (size_t)l->cap);
        if (!l->items) abort();
    }
    l->items[l->count] = strdup(path);
    if (!l->items[l->count]) abort();
    l->count++;
}

static int compare_paths(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n > m && strcmp(s + n - m, suffix) == 0;
}

/* Adds the *.perk files under dir, sorted, depth first. Returns false if dir cannot be read. */
static bool add_dir(path_list *out, const char *dir, int depth)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "perk: error: cannot read the directory %s: %s\n", dir, strerror(errno));
        return false;
    }
    path_list here = { 0 };
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        size_t n = strlen(dir) + strlen(e->d_name) + 2;
        char *p = malloc(n);
        if (!p) abort();
        snprintf(p, n, "%s%s%s", dir, ends_with(dir, "/") ? "" : "/", e->d_name);
        paths_add(&here, p);
        free(p);
    }
    closedir(d);
    qsort(here.items, (size_t)here.count, sizeof *here.items, compare_paths);
    bool ok = true;
    for (int i = 0; i < here.count; i++) {
        struct stat st;
        if (stat(here.items[i], &st) == 0) {
            if (S_ISDIR(st.st_mode)) {
                if (depth < 32 && !add_dir(out, here.items[i], depth + 1)) ok = false;
            } else if (S_ISREG(st.st_mode) && ends_with(here.items[i], ".perk")) {
                paths_add(out, here.items[i]);
            }
        }
        free(here.items[i]);
    }
    free(here.items);
    return ok;
}

/* Replaces path's contents: a temporary file in the same directory, the old file's permissions,
 * then rename. A symbolic link is followed, so the file it points to is the one rewritten. */
static bool write_atomically(const char *path, const char *text, size_t len)
{
    char *real = realpath(path, NULL);
    const char *target = real ? real : path;
    size_t n = strlen(target) + 16;
    char *tmp = malloc(n);
    if (!tmp) abort();
    const char *slash = strrchr(target, '/');
    int dir_len = slash ? (int)(slash - target + 1) : 0;
    snprintf(tmp, n, "%.*s.perk-fmt-XXXXXX", dir_len, target);
    bool ok = false;
    int fd = mkstemp(tmp);
    if (fd >= 0) {
        struct stat st;
        bool mode_ok = stat(target, &st) != 0 || fchmod(fd, st.st_mode & 07777) == 0;
        size_t done = 0;
        while (done < len) {
            ssize_t w = write(fd, text + done, len - done);
            if (w <= 0) break;
            done += (size_t)w;
        }
        ok = mode_ok && done == len && fsync(fd) == 0;
        if (close(fd) != 0) ok = false;
        if (ok && rename(tmp, target) != 0) ok = false;
        if (!ok) unlink(tmp);
    }
    if (!ok) fprintf(stderr, "perk: error: cannot write %s: %s\n", path, strerror(errno));
    free(tmp);
    free(real);
    return ok;
}

enum { FILE_SAME, FILE_CHANGED, FILE_FAILED };

/* Formats one file; prints, writes or lists it as the options say. */
static int format_one(const char *path, bool check, bool write_back, bool color)
{
    bool from_stdin = strcmp(path, "-") == 0;
    const char *name = from_stdin ? "<stdin>" : path;
    size_t len = 0;
    bool too_large = false;
    compiler c;
    compiler_init(&c);
    /* stdin or a file, never more than the source limit */
    char *text = cli_read_limited(path, source_limit(&c.sources), &len, &too_large);
    if (too_large) {
        int ph = source_add_placeholder(&c.sources, name);
        ast_span at = { .file = ph, .first_line = 1, .first_column = 1, .last_line = 1, .last_column = 1 };
        diag_report(&c.diags, DIAG_FILE_TOO_LARGE, at,
                    "split the rules into several files joined with `include`",
                    "'%s' is larger than the limit of %zu bytes (nothing past it was read)", name,
                    source_limit(&c.sources));
        diag_print_text(&c.diags, stderr, color);
    }
    if (!text) {
        compiler_free(&c);
        return FILE_FAILED;
    }
    char *out = NULL;
    size_t out_len = 0;
    char err[256];
    fmt_status st = fmt_text(&c.sources, &c.diags, name, text, len, &out, &out_len, err, sizeof err);
    int result = FILE_FAILED;
    if (st == FMT_SYNTAX_ERROR) {
        diag_sort(&c.diags);
        diag_print_text(&c.diags, stderr, color);
        fprintf(stderr, "perk: %s is not formatted: it has errors\n", name);
    } else if (st == FMT_INTERNAL_ERROR) {
        fprintf(stderr,
                "perk: error: %s: %s; the file is left as it is (this is a bug in perk fmt: please "
                "report it with the file)\n",
                name, err);
    } else {
        bool same = out_len == len && memcmp(out, text, len) == 0;
        result = same ? FILE_SAME : FILE_CHANGED;
        if (!check && !write_back) {
            fwrite(out, 1, out_len, stdout);
        } else if (!same) {
            if (write_back && !from_stdin && !write_atomically(path, out, out_len))
                result = FILE_FAILED;
            else
                printf("%s\n", name);
        }
    }
    free(out);
    free(text);
    compiler_free(&c);
    return result;
}

int cmd_fmt(int argc, char **argv)
{
    bool check = false, write_back = false, color = false;
    cli_parser opts;
    int ch;
    cli_parse_begin(&opts, &cli_fmt, false);
    while ((ch = cli_parse_next(&opts, argc, argv)) != -1) {
        switch (ch) {
        case CLI_OPT_CHECK: check = true; break;
        case CLI_OPT_WRITE: write_back = true; break;
        case CLI_OPT_COLOR: color = true; break;
        case CLI_OPT_HELP: cli_print_help(stdout, &cli_fmt); return 0;
        default: fprintf(stderr, "usage: %s\n", cli_fmt.usage); return 2;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "perk fmt: no rule files given\nusage: %s\n", cli_fmt.usage);
        return 2;
    }
    path_list files = { 0 };
    int status = 0;
    for (int i = optind; i < argc; i++) {
        struct stat st;
        if (strcmp(argv[i], "-") == 0) {
            if (write_back) {
                fprintf(stderr, "perk fmt: --write cannot rewrite stdin\nusage: %s\n", cli_fmt.usage);
                status = 2;
                break;
            }
            paths_add(&files, argv[i]);
        } else if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            if (!add_dir(&files, argv[i], 0)) status = 1;
        } else {
            paths_add(&files, argv[i]);
        }
    }
    bool unformatted = false;
    for (int i = 0; status != 2 && i < files.count; i++) {
        int r = format_one(files.items[i], check, write_back, cli_color(2, color));
        if (r == FILE_FAILED) status = 1;
        if (r == FILE_CHANGED) unformatted = true;
    }
    fflush(stdout);
    if (check && unformatted && status == 0) status = 1;
    for (int i = 0; i < files.count; i++) free(files.items[i]);
    free(files.items);
    return status;
}
