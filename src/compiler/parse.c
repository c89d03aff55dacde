/* parse.c - the front end's driver: loads files, refuses binary and oversized ones, runs the
 * lexer and parser on each (grammar/), and resolves `include` declarations (relative paths,
 * cycle detection, a depth limit), splicing included declarations in place. For perk fmt it can
 * also record the layout of one file (its tokens and comments, parse_text_layout). */
#include "parse.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "parse_internal.h"

#define PARSE_MAX_INCLUDE_DEPTH 16

bool parse_count_error(parse_state *ps, ast_span at)
{
    if (ps->stopped) return false;
    if (++ps->file_errors > PARSE_MAX_FILE_ERRORS) {
        ps->stopped = true;
        if (ps->file_node) ps->file_node->syntax_error = true;
        diag_report(ps->diags, DIAG_TOO_MANY_ERRORS, at, "is this a Perk rule file?",
                    "too many errors in this file; the rest of it is not checked");
        return false;
    }
    return true;
}

int parse_depth_limit(const source_set *sources)
{
    int m = sources ? sources->max_depth : 0;
    return m > 0 && m < PARSE_MAX_DEPTH ? m : PARSE_MAX_DEPTH;
}

static ast_span file_start(int file)
{
    ast_span sp;
    memset(&sp, 0, sizeof sp);
    sp.file = file;
    sp.first_line = sp.last_line = 1;
    sp.first_column = sp.last_column = 1;
    return sp;
}

/* A NUL byte never occurs in a text file: report the file as binary instead of producing one
 * error per byte of garbage. */
static bool looks_binary(const source_set *sources, diag_engine *diags, int file)
{
    const source_file *f = &sources->files[file];
    const char *nul = memchr(f->text, '\0', f->len);
    if (!nul) return false;
    size_t off = (size_t)(nul - f->text);
    ast_span sp = file_start(file);
    /* find the line and column of the NUL */
    int line = 1;
    size_t line_start = 0;
    for (int i = 1; i < f->n_lines && f->line_starts[i] <= off; i++) {
        line = i + 1;
        line_start = f->line_starts[i];
    }
    int col = 1;
    for (size_t i = line_start; i < off;) {
        unsigned cp;
        int n = source_utf8_decode(f->text + i, off - i, &cp);
        i += n ? (size_t)n : 1;
        col++;
    }
    sp.first_line = sp.last_line = line;
    sp.first_column = sp.last_column = col;
    sp.first_offset = (int)off;
    sp.last_offset = (int)off + 1;
    bool utf16 = f->len >= 2 && (((unsigned char)f->text[0] == 0xFF && (unsigned char)f->text[1] == 0xFE) ||
                                 ((unsigned char)f->text[0] == 0xFE && (unsigned char)f->text[1] == 0xFF));
    diag_report(diags, DIAG_BINARY_FILE, sp,
                utf16 ? "the file looks like UTF-16 text; save it as UTF-8"
                      : "Perk rule files are UTF-8 text; check that this is the right file",
                "this file contains a NUL byte: it is not a text file");
    return true;
}

static ast_node *parse_one(source_set *sources, diag_engine *diags, ast_arena *arena, int file,
                           parse_layout *layout)
{
    ast_node *root = ast_new(arena, AST_FILE, file_start(file));
    const source_file *f = &sources->files[file];
    if (f->len > 0) {
        root->span.last_offset = (int)f->len;
        root->span.last_line = f->n_lines;
    }
    if (f->len == 0 || looks_binary(sources, diags, file)) return root;
    parse_state ps;
    memset(&ps, 0, sizeof ps);
    ps.arena = arena;
    ps.diags = diags;
    ps.sources = sources;
    ps.file = file;
    ps.text = f->text;
    ps.len = f->len;
    ps.file_node = root;
    ps.layout = layout;
    parse_run(&ps);
    return root;
}

ast_node *parse_source(source_set *sources, diag_engine *diags, ast_arena *arena, int file)
{
    if (file < 0 || file >= sources->count) return NULL;
    return parse_one(sources, diags, arena, file, NULL);
}

/* --- includes ------------------------------------------------------------------------------ */

typedef struct include_ctx {
    source_set *sources;
    diag_engine *diags;
    ast_arena *arena;
    char *stack[PARSE_MAX_INCLUDE_DEPTH + 2]; /* canonical paths of the files being parsed */
    int depth;
    char **seen; /* canonical paths already included (each file is included once) */
    int n_seen, cap_seen;
    /* where includes may come from: the top-level file's folder, then --include-path folders
     * (canonical, each ending in '/'; NULL when a folder does not exist) */
    char **allowed;
    int n_allowed;
} include_ctx;

static char *canonical(const char *path)
{
    char *real = realpath(path, NULL);
    if (real) return real;
    char *copy = strdup(path);
    if (!copy) {
        fputs("perk: out of memory\n", stderr);
        abort();
    }
    return copy;
}

/* `include "x"` in dir/a.perk means dir/x; absolute paths stay as they are. */
static char *resolve_include(const char *including, const char *path)
{
    size_t dir = 0;
    if (path[0] != '/' && including) {
        const char *slash = strrchr(including, '/');
        if (slash) dir = (size_t)(slash - including) + 1;
    }
    size_t n = strlen(path);
    char *out = malloc(dir + n + 1);
    if (!out) {
        fputs("perk: out of memory\n", stderr);
        abort();
    }
    if (dir) memcpy(out, including, dir);
    memcpy(out + dir, path, n + 1);
    return out;
}

static bool was_seen(include_ctx *ctx, const char *canon)
{
    for (int i = 0; i < ctx->n_seen; i++)
        if (strcmp(ctx->seen[i], canon) == 0) return true;
    return false;
}

static void mark_seen(include_ctx *ctx, char *canon)
{
    if (ctx->n_seen == ctx->cap_seen) {
        int cap = ctx->cap_seen ? ctx->cap_seen * 2 : 8;
        char **seen = realloc(ctx->seen, (size_t)cap * sizeof *seen);
        if (!seen) {
            fputs("perk: out of memory\n", stderr);
            abort();
        }
        ctx->seen = seen;
        ctx->cap_seen = cap;
    }
    ctx->seen[ctx->n_seen++] = canon;
}

static void expand_includes(include_ctx *ctx, ast_node *file_node, const char *base_path);

static void *xmalloc(size_t n)
{
    void *p = malloc(n);
    if (!p) {
        fputs("perk: out of memory\n", stderr);
        abort();
    }
    return p;
}

/* The canonical form of folder dir with a trailing '/', or NULL if it does not exist. */
static char *canonical_dir(const char *dir)
{
    char *real = realpath(dir, NULL);
    if (!real) return NULL;
    size_t n = strlen(real);
    char *out = xmalloc(n + 2);
    memcpy(out, real, n);
    if (n == 0 || real[n - 1] != '/') out[n++] = '/';
    out[n] = '\0';
    free(real);
    return out;
}

/* The folder part of path ("." when there is none). */
static char *dir_of(const char *path)
{
    const char *slash = path ? strrchr(path, '/') : NULL;
    if (!slash) return strdup(".");
    size_t n = (size_t)(slash - path) + 1;
    char *out = xmalloc(n + 1);
    memcpy(out, path, n);
    out[n] = '\0';
    return out;
}

static void allowed_init(include_ctx *ctx, const char *top_path)
{
    ctx->n_allowed = 1 + ctx->sources->n_include_dirs;
    ctx->allowed = xmalloc((size_t)ctx->n_allowed * sizeof *ctx->allowed);
    char *dir = dir_of(top_path);
    if (!dir) abort();
    ctx->allowed[0] = canonical_dir(dir);
    free(dir);
    for (int i = 0; i < ctx->sources->n_include_dirs; i++)
        ctx->allowed[1 + i] = canonical_dir(ctx->sources->include_dirs[i]);
}

static bool under(const char *real, const char *dir) { return dir && strncmp(real, dir, strlen(dir)) == 0; }

/* Why the include resolving to real (a canonical path) is refused, or NULL if it may be read.
 * Only the kind of file is named, never anything in it. */
static const char *include_refusal(const include_ctx *ctx, const char *real)
{
    static const char *const system[] = { "/proc/", "/sys/", "/dev/" };
    for (size_t i = 0; i < sizeof system / sizeof *system; i++)
        if (under(real, system[i])) return "it is a system file (under /proc, /sys or /dev), not a rule file";
    bool inside = false;
    for (int i = 0; i < ctx->n_allowed && !inside; i++) inside = under(real, ctx->allowed[i]);
    if (!inside)
        return ctx->n_allowed > 1
                   ? "it is outside the folder of the top-level rule file and the --include-path folders"
                   : "it is outside the folder of the top-level rule file";
    struct stat st;
    if (stat(real, &st) != 0) return NULL; /* reading it reports the error */
    if (S_ISDIR(st.st_mode)) return "it is a folder";
    if (S_ISFIFO(st.st_mode)) return "it is a FIFO, not a regular file";
    if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) return "it is a device, not a regular file";
    if (!S_ISREG(st.st_mode)) return "it is not a regular file";
    return NULL;
}

/* Finds `include name` of the file at base_path: beside it first, then in the --include-path
 * folders. Returns the path to read (malloc'ed; the first candidate when none exists). */
static char *find_include(const include_ctx *ctx, const char *base_path, const char *name)
{
    char *path = resolve_include(base_path, name);
    if (name[0] == '/' || access(path, F_OK) == 0) return path;
    for (int i = 0; i < ctx->sources->n_include_dirs; i++) {
        const char *dir = ctx->sources->include_dirs[i];
        size_t n = strlen(dir);
        char *cand = xmalloc(n + strlen(name) + 2);
        snprintf(cand, n + strlen(name) + 2, "%s%s%s", dir, n && dir[n - 1] == '/' ? "" : "/", name);
        if (access(cand, F_OK) == 0) {
            free(path);
            return cand;
        }
        free(cand);
    }
    return path;
}

/* Whether the file `canon` may be parsed here: not one of the files being parsed (a cycle,
 * reported), not already included (once is enough, silently), not too deep (reported). */
static bool may_enter(include_ctx *ctx, ast_node *inc, const char *canon)
{
    for (int i = 0; i < ctx->depth; i++) {
        if (strcmp(ctx->stack[i], canon) == 0) {
            diag_report(ctx->diags, DIAG_INCLUDE_CYCLE, inc->span,
                        "move what both files need into a third file that each includes",
                        "'%s' includes itself (through %d file%s)", inc->name, ctx->depth - i,
                        ctx->depth - i == 1 ? "" : "s");
            return false;
        }
    }
    if (was_seen(ctx, canon)) return false;
    if (ctx->depth >= PARSE_MAX_INCLUDE_DEPTH) {
        diag_report(ctx->diags, DIAG_INCLUDE_TOO_DEEP, inc->span, NULL,
                    "includes are nested more than %d files deep", PARSE_MAX_INCLUDE_DEPTH);
        return false;
    }
    return true;
}

static ast_node *enter(include_ctx *ctx, int file, char *path, char *canon);
static ast_node *load_memory_include(include_ctx *ctx, ast_node *inc, const char *base_path);

/* `include name` in the file at `including`, for memory_only sources: the path relative to the
 * top folder with "." and ".." resolved (malloc'ed), or NULL when it is absolute or leaves the top
 * folder. */
static char *memory_path(const char *including, const char *name)
{
    if (name[0] == '/') return NULL;
    char *joined = resolve_include(including, name);
    size_t n = strlen(joined);
    char *out = xmalloc(n + 1);
    size_t len = 0;
    for (char *seg = joined, *next; seg != NULL; seg = next) {
        char *slash = strchr(seg, '/');
        next = slash ? slash + 1 : NULL;
        size_t sl = slash ? (size_t)(slash - seg) : strlen(seg);
        if (sl == 0 || (sl == 1 && seg[0] == '.')) continue;
        if (sl == 2 && seg[0] == '.' && seg[1] == '.') {
            if (len == 0) { /* above the top folder */
                free(joined);
                free(out);
                return NULL;
            }
            while (len > 0 && out[len - 1] != '/') len--;
            if (len > 0) len--; /* the '/' before the dropped segment */
            continue;
        }
        if (len > 0) out[len++] = '/';
        memcpy(out + len, seg, sl);
        len += sl;
    }
    out[len] = '\0';
    free(joined);
    return out;
}

static const source_memory_file *memory_file(const source_set *sources, const char *path)
{
    for (int i = 0; i < sources->n_memory_files; i++)
        if (sources->memory_files[i].path && strcmp(sources->memory_files[i].path, path) == 0)
            return &sources->memory_files[i];
    return NULL;
}

/* The path `include name` names among the memory files (malloc'ed), or NULL when it leaves the
 * draft's folder (reported). */
static char *memory_include_path(include_ctx *ctx, ast_node *inc, const char *base_path)
{
    char *path = memory_path(base_path, inc->name);
    if (!path)
        diag_report(ctx->diags, DIAG_INCLUDE_REFUSED, inc->span,
                    "name a file of the draft, relative to the file that includes it",
                    "cannot include '%s': it is outside the draft's folder", inc->name);
    return path;
}

/* Loads and parses one included file; returns its AST_FILE or NULL (reported). */
static ast_node *load_include(include_ctx *ctx, ast_node *inc, const char *base_path)
{
    if (!inc->name || !inc->name[0]) {
        diag_report(ctx->diags, DIAG_INCLUDE_NOT_FOUND, inc->span, NULL, "include needs a file name");
        return NULL;
    }
    if (ctx->sources->memory_only) return load_memory_include(ctx, inc, base_path);
    char *path = find_include(ctx, base_path, inc->name);
    char *real = realpath(path, NULL);
    const char *why = real ? include_refusal(ctx, real) : NULL;
    free(real);
    if (why) {
        diag_report(ctx->diags, DIAG_INCLUDE_REFUSED, inc->span,
                    ctx->n_allowed > 1
                        ? "includes must stay in the folders of the rules: move the file there"
                        : "keep included files in the folder of the top-level rule file (or below it), "
                          "or name another folder with --include-path DIR",
                    "cannot include '%s': %s", inc->name, why);
        free(path);
        return NULL;
    }
    char *canon = canonical(path);
    if (!may_enter(ctx, inc, canon)) {
        free(canon);
        free(path);
        return NULL;
    }
    char err[512];
    source_status st;
    int file = source_add_file_status(ctx->sources, path, &st, err, sizeof err);
    if (file < 0) {
        if (st == SOURCE_TOO_LARGE) {
            diag_report(ctx->diags, DIAG_FILE_TOO_LARGE, inc->span, "split the rules into smaller files",
                        "cannot include %s", err);
        } else {
            diag_report(ctx->diags, DIAG_INCLUDE_NOT_FOUND, inc->span,
                        "include paths are relative to the file that includes them",
                        "cannot include '%s': %s", inc->name,
                        st == SOURCE_NOT_FOUND     ? "no such file"
                        : st == SOURCE_NOT_REGULAR ? "not a regular file"
                                                   : "read error");
        }
        free(canon);
        free(path);
        return NULL;
    }
    return enter(ctx, file, path, canon);
}

/* Parses the loaded file and expands its own includes; takes path and canon. */
static ast_node *enter(include_ctx *ctx, int file, char *path, char *canon)
{
    mark_seen(ctx, canon);
    ast_node *sub = parse_one(ctx->sources, ctx->diags, ctx->arena, file, NULL);
    ctx->stack[ctx->depth++] = canon;
    expand_includes(ctx, sub, path);
    ctx->depth--;
    free(path);
    return sub;
}

static ast_node *load_memory_include(include_ctx *ctx, ast_node *inc, const char *base_path)
{
    char *path = memory_include_path(ctx, inc, base_path);
    if (!path) return NULL;
    char *canon = xmalloc(strlen(path) + 1);
    memcpy(canon, path, strlen(path) + 1);
    /* a file being parsed (the main one included by name too) is a cycle before it is missing */
    const source_memory_file *mf = NULL;
    if (may_enter(ctx, inc, canon) && (mf = memory_file(ctx->sources, path)) == NULL)
        diag_report(ctx->diags, DIAG_INCLUDE_NOT_FOUND, inc->span,
                    "add the file to the draft, or correct the name (paths are relative to the file that "
                    "includes it)",
                    "cannot include '%s': the draft has no file '%s'", inc->name, path);
    if (!mf) {
        free(canon);
        free(path);
        return NULL;
    }
    int file = source_add_text(ctx->sources, path, mf->text ? mf->text : "", mf->text ? mf->len : 0);
    if (file < 0) {
        diag_report(ctx->diags, DIAG_FILE_TOO_LARGE, inc->span, "split the rules into smaller files",
                    "cannot include '%s': it is too large (%zu bytes; the limit is %zu bytes)", inc->name, mf->len,
                    source_limit(ctx->sources));
        free(canon);
        free(path);
        return NULL;
    }
    return enter(ctx, file, path, canon);
}

static void expand_includes(include_ctx *ctx, ast_node *file_node, const char *base_path)
{
    bool any = false;
    for (int i = 0; i < file_node->list.count; i++)
        if (file_node->list.items[i]->kind == AST_INCLUDE) any = true;
    if (!any) return;
    ast_list out = { 0 };
    for (int i = 0; i < file_node->list.count; i++) {
        ast_node *d = file_node->list.items[i];
        if (d->kind != AST_INCLUDE) {
            ast_list_push(ctx->arena, &out, d);
            continue;
        }
        ast_node *sub = load_include(ctx, d, base_path);
        if (!sub) continue;
        for (int k = 0; k < sub->list.count; k++) ast_list_push(ctx->arena, &out, sub->list.items[k]);
    }
    file_node->list = out;
}

static ast_node *parse_with_includes(source_set *sources, diag_engine *diags, ast_arena *arena, int file,
                                     const char *base_path)
{
    ast_node *root = parse_one(sources, diags, arena, file, NULL);
    include_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.sources = sources;
    ctx.diags = diags;
    ctx.arena = arena;
    char *canon;
    if (sources->memory_only) { /* the top file's name as given: nothing is looked up on disk */
        const char *name = sources->files[file].path;
        canon = xmalloc(strlen(name) + 1);
        memcpy(canon, name, strlen(name) + 1);
        if (!base_path) base_path = name;
    } else {
        canon = canonical(sources->files[file].path);
        allowed_init(&ctx, base_path);
    }
    ctx.stack[ctx.depth++] = canon;
    mark_seen(&ctx, canon);
    expand_includes(&ctx, root, base_path);
    for (int i = 0; i < ctx.n_seen; i++) free(ctx.seen[i]);
    free(ctx.seen);
    for (int i = 0; i < ctx.n_allowed; i++) free(ctx.allowed[i]);
    free(ctx.allowed);
    return root;
}

ast_node *parse_program(source_set *sources, diag_engine *diags, ast_arena *arena, const char *path)
{
    char err[512];
    source_status st;
    int file = source_add_file_status(sources, path, &st, err, sizeof err);
    if (file < 0) {
        if (st == SOURCE_TOO_LARGE) {
            int ph = source_add_placeholder(sources, path);
            diag_report(diags, DIAG_FILE_TOO_LARGE, file_start(ph),
                        "split the rules into several files joined with `include`", "%s", err);
            return ast_new(arena, AST_FILE, file_start(ph));
        }
        ast_span none = file_start(-1);
        diag_report(diags, DIAG_FILE_NOT_FOUND, none, NULL, "%s", err);
        return NULL;
    }
    return parse_with_includes(sources, diags, arena, file, path);
}

ast_node *parse_text(source_set *sources, diag_engine *diags, ast_arena *arena, const char *name,
                     const char *text, size_t len)
{
    int file = source_add_text(sources, name, text, len);
    if (file < 0) {
        int ph = source_add_placeholder(sources, name);
        diag_report(diags, DIAG_FILE_TOO_LARGE, file_start(ph),
                    "split the rules into several files joined with `include`",
                    "'%s' is too large (%zu bytes; the limit is %zu bytes)", name, len,
                    source_limit(sources));
        return ast_new(arena, AST_FILE, file_start(ph));
    }
    /* Includes of in-memory text are relative to the working directory. */
    return parse_with_includes(sources, diags, arena, file, NULL);
}

/* --- layout recording (perk fmt) ------------------------------------------------------------ */

static void *grow(void *items, int *cap, size_t size)
{
    int n = *cap ? *cap * 2 : 256;
    void *p = realloc(items, (size_t)n * size);
    if (!p) {
        fputs("perk: out of memory\n", stderr);
        abort();
    }
    *cap = n;
    return p;
}

void parse_layout_token(parse_layout *layout, int kind, const ast_span *span)
{
    if (layout->n_tokens == layout->cap_tokens)
        layout->tokens = grow(layout->tokens, &layout->cap_tokens, sizeof *layout->tokens);
    layout->tokens[layout->n_tokens].kind = kind;
    layout->tokens[layout->n_tokens].span = *span;
    layout->n_tokens++;
}

void parse_layout_comment(parse_layout *layout, const ast_span *span)
{
    if (layout->n_comments == layout->cap_comments)
        layout->comments = grow(layout->comments, &layout->cap_comments, sizeof *layout->comments);
    layout->comments[layout->n_comments++] = *span;
}

void parse_layout_free(parse_layout *layout)
{
    free(layout->tokens);
    free(layout->comments);
    memset(layout, 0, sizeof *layout);
}

ast_node *parse_text_layout(source_set *sources, diag_engine *diags, ast_arena *arena, const char *name,
                            const char *text, size_t len, parse_layout *layout)
{
    int file = source_add_text(sources, name, text, len);
    if (file < 0) {
        int ph = source_add_placeholder(sources, name);
        diag_report(diags, DIAG_FILE_TOO_LARGE, file_start(ph),
                    "split the rules into several files joined with `include`",
                    "'%s' is too large (%zu bytes; the limit is %zu bytes)", name, len,
                    source_limit(sources));
        return ast_new(arena, AST_FILE, file_start(ph));
    }
    return parse_one(sources, diags, arena, file, layout);
}
