/* console_draft.c - a draft as the console's pages send it (docs/console.md): the main rule file
 * (`name`, `source`) and the files it includes (`files`: {path: text}), read and checked from a
 * request body, compiled in memory (an `include` reads only the draft's own files, never the
 * server's disk: source_set.memory_only), and written back as a version's sources. */
#include "console_internal.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler/compiler.h"

#define CONSOLE_MAX_DIAGS 200

/* A plain file name or relative path: segments of letters, digits, '_', '-' and '.', none of
 * them "." or "..", ending in ".perk", at most CONSOLE_DRAFT_PATH_MAX bytes. */
static bool draft_path_ok(const char *p, bool allow_folders)
{
    size_t len = strlen(p);
    if (len < 6 || len > CONSOLE_DRAFT_PATH_MAX || strcmp(p + len - 5, ".perk") != 0) return false;
    const char *seg = p;
    for (const char *q = p;; q++) {
        if (*q == '/' || *q == '\0') {
            size_t sl = (size_t)(q - seg);
            if (sl == 0 || (sl == 1 && seg[0] == '.') || (sl == 2 && seg[0] == '.' && seg[1] == '.')) return false;
            if (*q == '\0') return true;
            if (!allow_folders) return false;
            seg = q + 1;
            continue;
        }
        if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') || *q == '_' ||
              *q == '-' || *q == '.'))
            return false;
    }
}

bool console_draft_read(json_t *body, console_draft *d, serve_reply *r)
{
    memset(d, 0, sizeof *d);
    d->source = console_member(body, "source", r);
    if (!d->source) return false;
    const char *n = json_string_value(json_object_get(body, "name"));
    d->name = n && draft_path_ok(n, false) ? n : "draft.perk";
    json_t *files = json_object_get(body, "files");
    if (files == NULL || json_is_null(files)) return true;
    if (!json_is_object(files)) {
        serve_error(r, 400, "invalid_request", "files", "files: an object {path: text} of the included files");
        return false;
    }
    if (json_object_size(files) > CONSOLE_DRAFT_MAX_FILES) {
        serve_error(r, 400, "invalid_request", "files", "files: a draft has at most %d included files",
                    CONSOLE_DRAFT_MAX_FILES);
        return false;
    }
    const char *path;
    json_t *v;
    json_object_foreach(files, path, v)
    {
        if (!draft_path_ok(path, true)) {
            serve_error(r, 400, "invalid_request", "files",
                        "files: '%.80s' is not a file name the console keeps: a relative path of letters, digits, "
                        "_, - and . ending in .perk (at most %d bytes)",
                        path, CONSOLE_DRAFT_PATH_MAX);
            return false;
        }
        if (strcmp(path, d->name) == 0) {
            serve_error(r, 400, "invalid_request", "files", "files: '%.80s' is the main file", path);
            return false;
        }
        if (!json_is_string(v)) {
            serve_error(r, 400, "invalid_request", "files", "files: the text of '%.80s' must be a string", path);
            return false;
        }
        source_memory_file *f = &d->files[d->n_files++];
        f->path = path;
        f->text = json_string_value(v);
        f->len = json_string_length(v);
    }
    return true;
}

json_t *console_diag_json(const diag_engine *d)
{
    json_t *a = json_array();
    for (int i = 0; i < d->count && i < CONSOLE_MAX_DIAGS; i++) {
        const diag_entry *e = &d->entries[i];
        json_t *o = json_object();
        /* the file the span is in: the main file or one it includes, as the draft names it */
        const char *file = e->span.file >= 0 && d->sources && e->span.file < d->sources->count
                               ? d->sources->files[e->span.file].path
                               : NULL;
        json_object_set_new(o, "file", file ? json_string(file) : json_null());
        json_object_set_new(o, "line", json_integer(e->span.first_line));
        json_object_set_new(o, "column", json_integer(e->span.first_column));
        json_object_set_new(o, "end_line", json_integer(e->span.last_line));
        json_object_set_new(o, "end_column", json_integer(e->span.last_column));
        json_object_set_new(o, "severity",
                            json_string(e->severity == DIAG_ERROR     ? "error"
                                        : e->severity == DIAG_WARNING ? "warning"
                                                                      : "note"));
        json_object_set_new(o, "code", json_string(diag_code_id(e->code)));
        json_t *m = json_string(e->message), *h = e->hint ? json_string(e->hint) : NULL;
        json_object_set_new(o, "message", m ? m : json_string("?"));
        json_object_set_new(o, "hint", h ? h : json_null());
        /* the fix-its (diag.h): code-point columns, end exclusive; a fix in another file than
         * the diagnostic's is left out (the page edits the file it shows) */
        json_t *fixes = json_array();
        for (int k = 0; k < e->n_fixes; k++) {
            const diag_fix_entry *x = &e->fixes[k];
            json_t *t = x->file == e->span.file ? json_string(x->text) : NULL;
            if (!t) continue;
            json_array_append_new(fixes, json_pack("{s:i,s:i,s:i,s:i,s:o}", "line", x->line, "column", x->column,
                                                   "end_line", x->end_line, "end_column", x->end_column, "text", t));
        }
        json_object_set_new(o, "fixes", fixes);
        json_array_append_new(a, o);
    }
    return a;
}

char *console_split_sources(const char *sources, char **name, json_t **files)
{
    *name = NULL;
    *files = json_object();
    json_t *o = sources ? json_loads(sources, 0, NULL) : NULL;
    if (!json_is_object(o)) {
        json_decref(o);
        *name = strdup("rules.perk");
        return sources ? strdup(sources) : NULL;
    }
    const char *key, *pick_key = NULL, *pick = NULL;
    json_t *v;
    json_object_foreach(o, key, v)
    {
        const char *text = json_string_value(v);
        if (!text) continue;
        bool header = strncmp(text, "ruleset ", 8) == 0 || strstr(text, "\nruleset ");
        if (!pick || (header && !(strncmp(pick, "ruleset ", 8) == 0 || strstr(pick, "\nruleset ")))) {
            pick = text;
            pick_key = key;
        }
    }
    char *out = pick ? strdup(pick) : NULL;
    size_t dir = 0; /* the main file's folder: "rules/" of "rules/tea_shop.perk" */
    if (pick_key) {
        const char *base = strrchr(pick_key, '/');
        dir = base ? (size_t)(base - pick_key) + 1 : 0;
        *name = strdup(base ? base + 1 : pick_key);
    }
    json_object_foreach(o, key, v)
    {
        if (key == pick_key || !json_is_string(v) || strncmp(key, pick_key, dir) != 0) continue;
        json_object_set(*files, key + dir, v);
    }
    json_decref(o);
    return out;
}

/* The compiler with the draft's files as the only ones `include` can read. */
static bool compile(compiler *cc, const console_draft *d, uint8_t **bytes, size_t *len)
{
    cc->sources.memory_only = true;
    cc->sources.memory_files = d->files;
    cc->sources.n_memory_files = d->n_files;
    return compiler_compile_text(cc, d->name, d->source, strlen(d->source), bytes, len);
}

perk_program *console_draft_compile(const console_draft *d, json_t **diags)
{
    compiler cc;
    compiler_init(&cc);
    uint8_t *bytes = NULL;
    size_t len = 0;
    bool ok = compile(&cc, d, &bytes, &len);
    diag_sort(&cc.diags);
    *diags = console_diag_json(&cc.diags);
    compiler_free(&cc);
    perk_program *prog = NULL;
    if (ok && bytes) {
        perk_error e;
        prog = perk_program_load(bytes, len, &e);
    }
    free(bytes);
    return prog;
}

bool console_draft_bytes(const console_draft *d, uint8_t **bytes, size_t *len, serve_reply *r)
{
    *bytes = NULL;
    *len = 0;
    compiler cc;
    compiler_init(&cc);
    bool ok = compile(&cc, d, bytes, len);
    int errors = cc.diags.errors;
    compiler_free(&cc);
    if (!ok) {
        free(*bytes);
        *bytes = NULL;
        serve_error(r, 422, "draft_does_not_compile", NULL,
                    "the draft has %d error%s: fix it on the Rules page first", errors, errors == 1 ? "" : "s");
    }
    return ok;
}

char *console_draft_sources(const console_draft *d)
{
    json_t *o = json_object();
    json_object_set_new(o, d->name, json_string(d->source));
    for (int i = 0; i < d->n_files; i++)
        json_object_set_new(o, d->files[i].path, json_stringn(d->files[i].text, d->files[i].len));
    char *out = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(o);
    return out;
}
