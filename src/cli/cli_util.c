/* cli_util.c - small helpers shared by the perk subcommands. */
#include "cli.h"
#include "civil.h"

#include "bytecode.h"
#include "compiler/compiler.h"
#include "store/store.h"

#include <errno.h>
#include <jansson.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void cli_init_process(void) { signal(SIGXFSZ, SIG_IGN); }

/* ------------------------------------------------------------------ numbers */

bool cli_number(const char *option, const char *text, int64_t min, int64_t max, int64_t *out)
{
    char *end = NULL;
    errno = 0;
    long long v = text && *text ? strtoll(text, &end, 10) : 0;
    if (!text || !*text || errno || *end || v < min || v > max) {
        fprintf(stderr, "perk: error: %s %s: expected a number from %lld to %lld\n", option, text ? text : "",
                (long long)min, (long long)max);
        return false;
    }
    *out = v;
    return true;
}

/* ------------------------------------------------------------------ include paths */

#define CLI_MAX_INCLUDE_PATHS 16
static const char *include_paths[CLI_MAX_INCLUDE_PATHS];
static int n_include_paths;

bool cli_include_path(const char *dir)
{
    if (n_include_paths == CLI_MAX_INCLUDE_PATHS) {
        fprintf(stderr, "perk: error: at most %d --include-path folders\n", CLI_MAX_INCLUDE_PATHS);
        return false;
    }
    include_paths[n_include_paths++] = dir;
    return true;
}

void cli_include_paths_set(struct source_set *sources)
{
    sources->include_dirs = include_paths;
    sources->n_include_dirs = n_include_paths;
}

/* ------------------------------------------------------------------ text from the store */

/* The escape for the character at s (n bytes left), or NULL if it is shown as it is; *used gets
 * its length in bytes. */
static const char *escape_of(const char *s, size_t n, bool multiline, size_t *used, char out[12])
{
    unsigned char b = (unsigned char)s[0];
    *used = 1;
    if (b < 0x20 || b == 0x7f) {
        if (multiline && (b == '\n' || b == '\t')) return NULL;
        if (b == '\n') return "\\n";
        if (b == '\t') return "\\t";
        if (b == '\r') return "\\r";
        snprintf(out, 12, "\\x%02x", b);
        return out;
    }
    if (b < 0x80) return NULL;
    unsigned cp;
    int len = source_utf8_decode(s, n, &cp);
    if (len <= 0) {
        snprintf(out, 12, "\\x%02x", b);
        return out;
    }
    *used = (size_t)len;
    bool hide = (cp >= 0x80 && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) ||
                (cp >= 0x2066 && cp <= 0x2069) || cp == 0x2028 || cp == 0x2029 || cp == 0x200e ||
                cp == 0x200f || cp == 0x061c;
    if (!hide) return NULL;
    snprintf(out, 12, "\\u%04x", cp);
    return out;
}

static char *safe_ring[16];
static unsigned safe_next;

const char *cli_safe(const char *s)
{
    if (!s) return "";
    size_t n = strlen(s), need = 0, used;
    bool any = false;
    char esc[12];
    for (size_t i = 0; i < n; i += used) {
        const char *e = escape_of(s + i, n - i, false, &used, esc);
        need += e ? strlen(e) : used;
        any = any || e;
    }
    if (!any) return s;
    char *copy = malloc(need + 1), *w = copy;
    if (!copy) abort();
    for (size_t i = 0; i < n; i += used) {
        const char *e = escape_of(s + i, n - i, false, &used, esc);
        size_t k = e ? strlen(e) : used;
        memcpy(w, e ? e : s + i, k);
        w += k;
    }
    *w = '\0';
    free(safe_ring[safe_next]);
    safe_ring[safe_next] = copy;
    safe_next = (safe_next + 1) % 16;
    return copy;
}

void cli_write_safe(FILE *f, const char *s, size_t n)
{
    size_t used, start = 0;
    char esc[12];
    for (size_t i = 0; i < n; i += used) {
        const char *e = escape_of(s + i, n - i, true, &used, esc);
        if (!e) continue;
        fwrite(s + start, 1, i - start, f);
        fputs(e, f);
        start = i + used;
    }
    fwrite(s + start, 1, n - start, f);
}

/* ------------------------------------------------------------------ standard output */

static bool stdout_reported;

bool cli_flush_stdout(void)
{
    errno = 0;
    if (fflush(stdout) == 0 && !ferror(stdout)) return true;
    if (!stdout_reported)
        fprintf(stderr, "perk: error: cannot write to standard output: %s\n",
                errno ? strerror(errno) : "write error");
    stdout_reported = true;
    return false;
}

int cli_finish(int status)
{
    for (int i = 0; i < 16; i++) {
        free(safe_ring[i]);
        safe_ring[i] = NULL;
    }
    bool ok = cli_flush_stdout();
    errno = 0;
    if (fclose(stdout) != 0 && ok) {
        fprintf(stderr, "perk: error: cannot write to standard output: %s\n",
                errno ? strerror(errno) : "write error");
        ok = false;
    }
    return ok || status != 0 ? status : 1;
}

/* Set by --no-color (cli_parse_next). */
static bool color_off;

bool cli_color(int fd, bool forced)
{
    if (color_off) return false;
    if (forced) return true;
    const char *no = getenv("NO_COLOR");
    if (no && *no) return false;
    return isatty(fd) != 0;
}

char *cli_read_limited(const char *path, size_t limit, size_t *len, bool *too_large)
{
    bool from_stdin = strcmp(path, "-") == 0;
    const char *name = from_stdin ? "<stdin>" : path;
    if (too_large) *too_large = false;
    FILE *f = from_stdin ? stdin : fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "perk: error: cannot open %s: %s\n", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fprintf(stderr, "perk: error: %s is a directory\n", name);
        if (!from_stdin) fclose(f);
        return NULL;
    }
    /* Never more than limit + 1 bytes: the one past the limit tells a file of exactly the limit
     * from a larger one, and nothing further is read. */
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    if (!buf) abort();
    bool over = false;
    for (;;) {
        if (n + 1 >= cap) {
            size_t ncap = cap * 2 > limit + 2 ? limit + 2 : cap * 2;
            char *nb = realloc(buf, ncap);
            if (!nb) abort();
            buf = nb;
            cap = ncap;
        }
        size_t want = cap - n - 1;
        if (want > limit + 1 - n) want = limit + 1 - n;
        size_t r = fread(buf + n, 1, want, f);
        n += r;
        if (n > limit) {
            over = true;
            break;
        }
        if (r == 0) break;
    }
    bool err = !over && ferror(f) != 0;
    if (!from_stdin) fclose(f);
    if (over) {
        free(buf);
        if (too_large)
            *too_large = true;
        else
            fprintf(stderr,
                    "perk: error: %s is larger than the limit of %zu bytes [file-too-large] (nothing "
                    "past it was read): split it into smaller files\n",
                    name, limit);
        return NULL;
    }
    if (err) {
        fprintf(stderr, "perk: error: cannot read %s\n", name);
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
    static const cli_option help = { "help", 'h', NULL, "print this help", CLI_OPT_HELP };
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
        p->longs[n++] =
            (struct option){ o->name, o->arg ? required_argument : no_argument, NULL, (int)o->id };
        if (o->short_name) {
            p->shorts[s++] = o->short_name;
            if (o->arg) p->shorts[s++] = ':';
        }
    }
    p->longs[n++] = (struct option){ "help", no_argument, NULL, CLI_OPT_HELP };
    p->longs[n] = (struct option){ 0, 0, 0, 0 };
    p->shorts[s++] = 'h';
    p->shorts[s] = '\0';
    optind = 0; /* GNU: 0 also resets getopt's internal state between commands */
    opterr = quiet ? 0 : 1;
}

int cli_parse_next(cli_parser *p, int argc, char **argv)
{
    int ch = getopt_long(argc, argv, p->shorts, p->longs, NULL);
    while (ch == CLI_OPT_NO_COLOR) {
        color_off = true;
        ch = getopt_long(argc, argv, p->shorts, p->longs, NULL);
    }
    if (ch == '?' && optind > 0 && optind <= argc && !optopt) cli_suggest_option(p->cmd, argv[optind - 1]);
    if (ch == -1 || ch >= 256) return ch;
    if (ch == 'h') return CLI_OPT_HELP;
    for (const cli_option *o = p->cmd->options; o->name; o++)
        if (o->short_name && o->short_name == ch) return (int)o->id;
    return '?';
}

char *cli_read_file(const char *path, size_t *len)
{
    return cli_read_limited(path, SOURCE_MAX_BYTES, len, NULL);
}

static const char *file_kind(mode_t mode)
{
    if (S_ISLNK(mode)) return "a symbolic link";
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISFIFO(mode)) return "a FIFO";
    if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
    if (S_ISSOCK(mode)) return "a socket";
    return "not a regular file";
}

bool cli_output_open(cli_output *out, const char *path)
{
    memset(out, 0, sizeof *out);
    struct stat st;
    mode_t mode;
    if (lstat(path, &st) == 0) {
        if (!S_ISREG(st.st_mode)) {
            fprintf(stderr,
                    "perk: error: %s is %s; perk writes only regular files (it replaces the file "
                    "whole): give a new name or a regular file\n",
                    path, file_kind(st.st_mode));
            return false;
        }
        mode = st.st_mode & 07777;
    } else if (errno == ENOENT) {
        mode_t mask = umask(0);
        umask(mask);
        mode = 0666 & ~mask;
    } else {
        fprintf(stderr, "perk: error: cannot write %s: %s\n", path, strerror(errno));
        return false;
    }
    const char *slash = strrchr(path, '/');
    int dir_len = slash ? (int)(slash - path + 1) : 0;
    const char *base = slash ? slash + 1 : path;
    size_t n = strlen(path) + 16;
    out->tmp = malloc(n);
    out->path = strdup(path);
    if (!out->tmp || !out->path) abort();
    snprintf(out->tmp, n, "%.*s.%s.XXXXXX", dir_len, path, base);
    int fd = mkstemp(out->tmp);
    if (fd < 0) {
        fprintf(stderr, "perk: error: cannot write %s: cannot create a temporary file beside it: %s\n", path,
                strerror(errno));
        free(out->tmp);
        free(out->path);
        memset(out, 0, sizeof *out);
        return false;
    }
    if (fchmod(fd, mode) != 0 || !(out->f = fdopen(fd, "wb"))) {
        fprintf(stderr, "perk: error: cannot write %s: %s\n", path, strerror(errno));
        close(fd);
        unlink(out->tmp);
        free(out->tmp);
        free(out->path);
        memset(out, 0, sizeof *out);
        return false;
    }
    return true;
}

void cli_output_abort(cli_output *out)
{
    if (out->f) fclose(out->f);
    if (out->tmp) unlink(out->tmp);
    free(out->tmp);
    free(out->path);
    memset(out, 0, sizeof *out);
}

bool cli_output_commit(cli_output *out)
{
    errno = 0;
    bool ok = fflush(out->f) == 0 && !ferror(out->f) && fsync(fileno(out->f)) == 0;
    int err = errno;
    if (fclose(out->f) != 0 && ok) {
        ok = false;
        err = errno;
    }
    out->f = NULL;
    if (ok && rename(out->tmp, out->path) != 0) {
        ok = false;
        err = errno;
    }
    if (!ok) {
        fprintf(stderr, "perk: error: cannot write %s: %s (the file is left as it was)\n", out->path,
                err ? strerror(err) : "write error");
        cli_output_abort(out);
        return false;
    }
    /* the rename itself reaches the disk with the folder */
    const char *slash = strrchr(out->path, '/');
    char *dir = slash ? strndup(out->path, (size_t)(slash - out->path) + 1) : strdup(".");
    if (!dir) abort();
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    free(dir);
    free(out->tmp);
    free(out->path);
    memset(out, 0, sizeof *out);
    return true;
}

bool cli_write_file(const char *path, const void *data, size_t len)
{
    cli_output out;
    if (!cli_output_open(&out, path)) return false;
    if (len && fwrite(data, 1, len, out.f) != len) {
        fprintf(stderr, "perk: error: cannot write %s: %s (the file is left as it was)\n", path,
                strerror(errno));
        cli_output_abort(&out);
        return false;
    }
    return cli_output_commit(&out);
}

bool cli_db_missing(const char *db)
{
    /* a PostgreSQL database is not a file: opening it says whether it is there */
    return !perk_store_address_is_postgres(db) && access(db, F_OK) != 0;
}

const char *cli_default_db(void)
{
    const char *env = getenv("PERK_DB");
    return env && *env ? env : "perk.db";
}

perk_store *cli_open_store(const char *path)
{
    perk_store *st = NULL;
    perk_store_status s = perk_store_open(path, &st);
    if (s != PERK_STORE_OK) {
        fprintf(stderr, "perk: error: %s: %s\n", path,
                st ? perk_store_errmsg(st) : perk_store_status_message(s));
        perk_store_close(st);
        return NULL;
    }
    return st;
}

/* Edit distance of two short words, a swap of two neighbours counting as one edit ("jsno" is
 * one from "json"); longer than 63 bytes: never close. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63) return SIZE_MAX;
    size_t rows[3][64], *prev2 = rows[0], *prev = rows[1], *cur = rows[2];
    for (size_t j = 0; j <= lb; j++) prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t best = prev[j - 1] + (a[i - 1] != b[j - 1]);
            if (prev[j] + 1 < best) best = prev[j] + 1;
            if (cur[j - 1] + 1 < best) best = cur[j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && prev2[j - 2] + 1 < best)
                best = prev2[j - 2] + 1;
            cur[j] = best;
        }
        size_t *t = prev2;
        prev2 = prev;
        prev = cur;
        cur = t;
    }
    return prev[lb];
}

const char *cli_closest(const char *word, const char *const *candidates, size_t n)
{
    size_t len = strlen(word), limit = len / 3 > 1 ? len / 3 : 1, best = SIZE_MAX;
    const char *found = NULL;
    for (size_t i = 0; i < n; i++) {
        size_t d = edit_distance(word, candidates[i]);
        /* a prefix of a longer name counts as close: --dry is --dry-run */
        if (d > limit && len >= 3 && strncmp(candidates[i], word, len) == 0) d = limit;
        if (d <= limit && d < best) {
            best = d;
            found = candidates[i];
        }
    }
    return found;
}

void cli_suggest_option(const cli_command *cmd, const char *arg)
{
    if (!arg || strncmp(arg, "--", 2) != 0 || !arg[2]) return;
    char word[64];
    snprintf(word, sizeof word, "%.*s", (int)strcspn(arg + 2, "="), arg + 2);
    const char *names[CLI_MAX_OPTIONS + 1];
    size_t n = 0;
    for (const cli_option *o = cmd->options; o->name && n < CLI_MAX_OPTIONS; o++) names[n++] = o->name;
    names[n++] = "help";
    const char *near = cli_closest(word, names, n);
    if (near && strcmp(near, word) != 0)
        fprintf(stderr, "perk: %s: did you mean --%s?\n", cli_safe(arg), near);
}

/* ------------------------------------------------------------------ rule files from stdin */

/* Standard input as rule text, within the compiler's limit; NULL after reporting (too large as a
 * diagnostic of "<stdin>", a read error as a message). */
static char *read_stdin_rules(struct compiler *c, size_t *len)
{
    bool too_large = false;
    char *text = cli_read_limited("-", source_limit(&c->sources), len, &too_large);
    if (too_large) {
        int ph = source_add_placeholder(&c->sources, "<stdin>");
        ast_span at = { .file = ph, .first_line = 1, .first_column = 1, .last_line = 1, .last_column = 1 };
        diag_report(&c->diags, DIAG_FILE_TOO_LARGE, at, "split the rules into several files joined with `include`",
                    "'<stdin>' is larger than the limit of %zu bytes (nothing past it was read)",
                    source_limit(&c->sources));
    }
    return text;
}

bool cli_compile_files(struct compiler *c, const char *const *paths, int n, uint8_t **bytes, size_t *len)
{
    int dashes = 0;
    for (int i = 0; i < n; i++) dashes += strcmp(paths[i], "-") == 0;
    if (dashes == 0) return compiler_compile_files(c, paths, n, bytes, len);
    if (n > 1) {
        fprintf(stderr, "perk: error: - (standard input) must be the only rule file: put the others in "
                        "`include` lines of it\n");
        return false;
    }
    size_t text_len = 0;
    char *text = read_stdin_rules(c, &text_len);
    if (!text) return false;
    /* "<stdin>" has no folder: its includes resolve against the current directory */
    bool ok = compiler_compile_text(c, "<stdin>", text, text_len, bytes, len);
    free(text);
    return ok;
}

perk_program *cli_load_program(const char *path, bool color)
{
    if (strcmp(path, "-") != 0) return compiler_load_program(path, color);
    compiler c;
    compiler_init(&c);
    size_t text_len = 0;
    char *text = read_stdin_rules(&c, &text_len);
    perk_program *p = NULL;
    perk_error err;
    if (text && text_len >= BC_MAGIC_LEN && memcmp(text, BC_MAGIC, BC_MAGIC_LEN) == 0) {
        p = perk_program_load(text, text_len, &err);
        if (!p) fprintf(stderr, "perk: error: <stdin>: %s\n", err.message);
    } else if (text) {
        uint8_t *bytes = NULL;
        size_t len = 0;
        bool ok = compiler_compile_text(&c, "<stdin>", text, text_len, &bytes, &len);
        compiler_report(&c, color);
        if (ok) {
            p = perk_program_load(bytes, len, &err);
            if (!p) fprintf(stderr, "perk: error: <stdin>: %s\n", err.message);
        }
        free(bytes);
    } else {
        compiler_report(&c, color);
    }
    free(text);
    compiler_free(&c);
    return p;
}

const char *cli_file_name(const char *path) { return path && strcmp(path, "-") == 0 ? "<stdin>" : path; }

bool cli_stdin_twice(const char *const *paths, int n)
{
    int dashes = 0;
    for (int i = 0; i < n; i++) dashes += paths[i] && strcmp(paths[i], "-") == 0;
    if (dashes < 2) return false;
    fprintf(stderr, "perk: error: standard input can be read only once: give - for one file only\n");
    return true;
}

bool cli_print_json(json_t *doc)
{
    char *text = doc ? json_dumps(doc, JSON_SORT_KEYS | JSON_INDENT(2)) : NULL;
    json_decref(doc);
    if (!text) {
        fprintf(stderr, "perk: error: out of memory\n");
        return false;
    }
    puts(text);
    free(text);
    return true;
}
