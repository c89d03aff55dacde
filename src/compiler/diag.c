/* diag.c - collecting compiler diagnostics and rendering them as text (with a source snippet,
 * caret and hints, like clang/rustc) or JSON. The code table comes from diag_codes.def and
 * diag_check.def; see diag.h for the output formats. */
#include "diag.h"

#include <stdlib.h>
#include <string.h>

static const struct {
    diag_severity severity;
    const char *id;
} code_table[] = {
#define DIAG(name, severity, id) { severity, id },
#include "diag_all.def"
#undef DIAG
};

static void diag_oom(void)
{
    fputs("perk: out of memory\n", stderr);
    abort();
}

static char *diag_strdup(const char *s)
{
    if (!s) return NULL;
    char *p = strdup(s);
    if (!p) diag_oom();
    return p;
}

static char *diag_vformat(const char *fmt, va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (n < 0) return diag_strdup("(unprintable message)");
    char *p = malloc((size_t)n + 1);
    if (!p) diag_oom();
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    return p;
}

void diag_init(diag_engine *d, const source_set *sources)
{
    memset(d, 0, sizeof *d);
    d->sources = sources;
    d->max_errors = 100;
}

void diag_free(diag_engine *d)
{
    for (int i = 0; i < d->count; i++) {
        diag_entry *e = &d->entries[i];
        free(e->message);
        free(e->hint);
        for (int k = 0; k < e->n_notes; k++) free(e->notes[k].message);
        free(e->notes);
        for (int k = 0; k < e->n_fixes; k++) free(e->fixes[k].text);
        free(e->fixes);
    }
    free(d->entries);
    d->entries = NULL;
    d->count = d->cap = 0;
}

diag_severity diag_code_severity(diag_code code)
{
    if ((unsigned)code < DIAG_CODE_COUNT) return code_table[code].severity;
    return DIAG_ERROR;
}

const char *diag_code_id(diag_code code)
{
    if ((unsigned)code < DIAG_CODE_COUNT) return code_table[code].id;
    return "unknown";
}

void diag_report(diag_engine *d, diag_code code, ast_span span, const char *hint, const char *fmt, ...)
{
    diag_severity sev = diag_code_severity(code);
    if (sev == DIAG_WARNING && d->werror) sev = DIAG_ERROR;
    int limit = d->max_errors > 0 ? d->max_errors : 100;
    if (sev == DIAG_ERROR)
        d->errors++;
    else if (sev == DIAG_WARNING)
        d->warnings++;
    if (sev == DIAG_ERROR ? d->errors > limit : d->count >= limit * 4) {
        d->dropped++;
        d->last_dropped = true;
        return;
    }
    d->last_dropped = false;
    if (d->count == d->cap) {
        int cap = d->cap ? d->cap * 2 : 16;
        diag_entry *entries = realloc(d->entries, (size_t)cap * sizeof *entries);
        if (!entries) diag_oom();
        d->entries = entries;
        d->cap = cap;
    }
    diag_entry *e = &d->entries[d->count++];
    memset(e, 0, sizeof *e);
    e->code = code;
    e->severity = sev;
    e->span = span;
    va_list ap;
    va_start(ap, fmt);
    e->message = diag_vformat(fmt, ap);
    va_end(ap);
    e->hint = diag_strdup(hint);
}

void diag_note(diag_engine *d, ast_span span, const char *fmt, ...)
{
    if (d->last_dropped || d->count == 0) return;
    diag_entry *e = &d->entries[d->count - 1];
    diag_note_entry *notes = realloc(e->notes, (size_t)(e->n_notes + 1) * sizeof *notes);
    if (!notes) diag_oom();
    e->notes = notes;
    diag_note_entry *n = &notes[e->n_notes++];
    n->span = span;
    va_list ap;
    va_start(ap, fmt);
    n->message = diag_vformat(fmt, ap);
    va_end(ap);
}

/* The 1-based line and code-point column of byte `offset` of a file (a byte that is not valid
 * UTF-8 counts as one column, as the lexer counts it). */
static void offset_position(const source_file *f, size_t offset, int *line, int *column)
{
    int lo = 0, hi = f->n_lines - 1;
    while (lo < hi) { /* the last line starting at or before offset */
        int mid = lo + (hi - lo + 1) / 2;
        if (f->line_starts[mid] <= offset)
            lo = mid;
        else
            hi = mid - 1;
    }
    size_t i = f->n_lines > 0 ? f->line_starts[lo] : 0;
    int col = 1;
    while (i < offset) {
        unsigned cp;
        int n = source_utf8_decode(f->text + i, f->len - i, &cp);
        i += n ? (size_t)n : 1;
        col++;
    }
    *line = lo + 1;
    *column = col;
}

ast_span diag_span_at(int file, int offset)
{
    ast_span s;
    memset(&s, 0, sizeof s);
    s.file = file;
    s.first_offset = s.last_offset = offset;
    return s;
}

void diag_fix(diag_engine *d, ast_span span, const char *text)
{
    if (d->last_dropped || d->count == 0 || !d->sources || !text) return;
    if (span.file < 0 || span.file >= d->sources->count) return;
    const source_file *f = &d->sources->files[span.file];
    if (span.first_offset < 0 || span.last_offset < span.first_offset || (size_t)span.last_offset > f->len)
        return;
    diag_entry *e = &d->entries[d->count - 1];
    diag_fix_entry *fixes = realloc(e->fixes, (size_t)(e->n_fixes + 1) * sizeof *fixes);
    if (!fixes) diag_oom();
    e->fixes = fixes;
    diag_fix_entry *x = &fixes[e->n_fixes++];
    x->file = span.file;
    x->first_offset = span.first_offset;
    x->last_offset = span.last_offset;
    offset_position(f, (size_t)span.first_offset, &x->line, &x->column);
    offset_position(f, (size_t)span.last_offset, &x->end_line, &x->end_column);
    x->text = diag_strdup(text);
}

bool diag_span_is(const diag_engine *d, ast_span span, const char *text)
{
    if (!d->sources || !text || span.file < 0 || span.file >= d->sources->count) return false;
    const source_file *f = &d->sources->files[span.file];
    size_t n = strlen(text);
    return span.first_offset >= 0 && span.last_offset - span.first_offset == (int)n &&
           (size_t)span.last_offset <= f->len && memcmp(f->text + span.first_offset, text, n) == 0;
}

void diag_fix_word(diag_engine *d, ast_span span, const char *old, const char *text)
{
    if (diag_span_is(d, span, old)) diag_fix(d, span, text);
}

static int compare_fixes(const void *pa, const void *pb)
{
    const diag_fix_entry *a = *(const diag_fix_entry *const *)pa, *b = *(const diag_fix_entry *const *)pb;
    if (a->first_offset != b->first_offset) return a->first_offset < b->first_offset ? -1 : 1;
    return a->last_offset < b->last_offset ? -1 : a->last_offset > b->last_offset;
}

static bool edits_overlap(const diag_fix_entry *a, const diag_fix_entry *b)
{
    return a->first_offset < b->last_offset && b->first_offset < a->last_offset;
}

char *diag_apply_fixes(const diag_entry *entries, int count, int file, const char *text, size_t len,
                       size_t *out_len, bool *applied)
{
    int n = 0;
    for (int i = 0; i < count; i++)
        for (int k = 0; k < entries[i].n_fixes; k++) n += entries[i].fixes[k].file == file;
    if (applied)
        for (int i = 0; i < count; i++) applied[i] = false;
    if (n == 0) return NULL;
    const diag_fix_entry **order = malloc((size_t)n * sizeof *order);
    if (!order) diag_oom();
    size_t need = len + 1;
    n = 0;
    /* a diagnostic's edits all or none (two swapped dates are one fix): none when one of them
     * overlaps an edit taken from an earlier diagnostic, or another of its own */
    for (int i = 0; i < count; i++) {
        const diag_entry *e = &entries[i];
        bool ok = false;
        for (int k = 0; k < e->n_fixes; k++) {
            const diag_fix_entry *x = &e->fixes[k];
            if (x->file != file) continue;
            ok = x->first_offset >= 0 && x->first_offset <= x->last_offset && (size_t)x->last_offset <= len;
            for (int j = 0; j < n && ok; j++) ok = !edits_overlap(order[j], x);
            for (int j = 0; j < k && ok; j++) ok = e->fixes[j].file != file || !edits_overlap(&e->fixes[j], x);
            if (!ok) break;
        }
        if (!ok) continue;
        for (int k = 0; k < e->n_fixes; k++)
            if (e->fixes[k].file == file) {
                order[n++] = &e->fixes[k];
                need += strlen(e->fixes[k].text);
            }
        if (applied) applied[i] = true;
    }
    if (n == 0) {
        free(order);
        return NULL;
    }
    /* stable by position: two insertions at one place keep the order they were reported in */
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && compare_fixes(&order[j - 1], &order[j]) > 0; j--) {
            const diag_fix_entry *t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    char *out = malloc(need);
    if (!out) diag_oom();
    size_t o = 0, at = 0;
    for (int i = 0; i < n; i++) {
        const diag_fix_entry *x = order[i];
        memcpy(out + o, text + at, (size_t)x->first_offset - at);
        o += (size_t)x->first_offset - at;
        size_t tl = strlen(x->text);
        memcpy(out + o, x->text, tl);
        o += tl;
        at = (size_t)x->last_offset;
    }
    memcpy(out + o, text + at, len - at);
    o += len - at;
    out[o] = '\0';
    free(order);
    *out_len = o;
    return out;
}

/* ------------------------------------------------------------------------------------------ */
/* Sorting                                                                                    */

typedef struct sort_item {
    diag_entry entry;
    int seq;
} sort_item;

static int compare_items(const void *pa, const void *pb)
{
    const sort_item *a = pa, *b = pb;
    const ast_span *x = &a->entry.span, *y = &b->entry.span;
    if (x->file != y->file) return x->file < y->file ? -1 : 1;
    if (x->first_line != y->first_line) return x->first_line < y->first_line ? -1 : 1;
    if (x->first_column != y->first_column) return x->first_column < y->first_column ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

void diag_sort(diag_engine *d)
{
    if (d->count < 2) return;
    sort_item *items = malloc((size_t)d->count * sizeof *items);
    if (!items) diag_oom();
    for (int i = 0; i < d->count; i++) {
        items[i].entry = d->entries[i];
        items[i].seq = i;
    }
    qsort(items, (size_t)d->count, sizeof *items, compare_items);
    for (int i = 0; i < d->count; i++) d->entries[i] = items[i].entry;
    free(items);
}

/* ------------------------------------------------------------------------------------------ */
/* Text rendering                                                                             */

#define COLOR_BOLD "\033[1m"
#define COLOR_ERROR "\033[1;31m"
#define COLOR_WARNING "\033[1;35m"
#define COLOR_NOTE "\033[1;36m"
#define COLOR_CARET "\033[1;32m"
#define COLOR_RESET "\033[0m"

/* Lines longer than this many bytes are shown as a window around the span. */
#define SNIPPET_MAX_BYTES 200
#define SNIPPET_CONTEXT 60

static const source_file *span_file(const diag_engine *d, ast_span span)
{
    if (!d->sources || span.file < 0 || span.file >= d->sources->count) return NULL;
    return &d->sources->files[span.file];
}

/* Prints text[from, to) replacing tabs by 4 spaces and unprintable or invalid bytes by U+FFFD;
 * returns its display width. With out == NULL only measures. */
static int put_text(FILE *out, const char *text, size_t from, size_t to)
{
    int width = 0;
    size_t i = from;
    while (i < to) {
        unsigned cp;
        int len = source_utf8_decode(text + i, to - i, &cp);
        if (len == 0 || (cp < 0x20 && cp != '\t') || cp == 0x7F || (cp >= 0x80 && cp < 0xA0)) {
            if (out) fputs("\xEF\xBF\xBD", out);
            width += 1;
            i += len ? (size_t)len : 1;
        } else if (cp == '\t') {
            if (out) fputs("    ", out);
            width += 4;
            i += 1;
        } else {
            if (out) fwrite(text + i, 1, (size_t)len, out);
            width += source_char_width(cp);
            i += (size_t)len;
        }
    }
    return width;
}

/* Moves a byte position back to the start of a UTF-8 sequence. */
static size_t char_boundary(const char *text, size_t pos, size_t min)
{
    while (pos > min && ((unsigned char)text[pos] & 0xC0) == 0x80) pos--;
    return pos;
}

/* Byte offset (within the line) of a 1-based code point column. */
static size_t column_to_byte(const char *line, size_t len, int column)
{
    size_t i = 0;
    for (int c = 1; c < column && i < len; c++) {
        unsigned cp;
        int n = source_utf8_decode(line + i, len - i, &cp);
        i += n ? (size_t)n : 1;
    }
    return i;
}

static int digits(int n)
{
    int k = 1;
    while (n >= 10) {
        n /= 10;
        k++;
    }
    return k;
}

static void print_snippet(const diag_engine *d, FILE *out, ast_span span, bool color)
{
    const source_file *f = span_file(d, span);
    if (!f || f->len == 0) return;
    size_t len;
    const char *line = source_line(d->sources, span.file, span.first_line, &len);
    if (!line) return;
    size_t line_start = (size_t)(line - f->text);

    size_t bstart, bend;
    if (span.first_offset >= 0 && (size_t)span.first_offset >= line_start &&
        (size_t)span.first_offset <= line_start + len)
        bstart = (size_t)span.first_offset - line_start;
    else
        bstart = column_to_byte(line, len, span.first_column);
    if (span.last_line == span.first_line && span.last_offset >= 0 &&
        (size_t)span.last_offset >= line_start + bstart && (size_t)span.last_offset <= line_start + len)
        bend = (size_t)span.last_offset - line_start;
    else if (span.last_line == span.first_line && span.last_column >= span.first_column)
        bend = column_to_byte(line, len, span.last_column + 1);
    else
        bend = len; /* a span over several lines: underline the rest of the first line */
    if (bend < bstart) bend = bstart;

    /* A window around the span for very long lines. */
    size_t ws = 0, we = len;
    if (len > SNIPPET_MAX_BYTES) {
        if (bstart > SNIPPET_CONTEXT) ws = char_boundary(line, bstart - SNIPPET_CONTEXT, 0);
        size_t want = (bend > bstart + SNIPPET_CONTEXT ? bstart + SNIPPET_CONTEXT : bend) + SNIPPET_CONTEXT;
        we = want < len ? char_boundary(line, want, ws) : len;
        if (bend > we) bend = we;
    }

    int w = digits(span.first_line);
    if (w < 4) w = 4;
    fprintf(out, " %*d | ", w, span.first_line);
    if (ws > 0) fputs("...", out);
    put_text(out, line, ws, we);
    if (we < len) fputs("...", out);
    fputc('\n', out);

    int pad = put_text(NULL, line, ws, bstart) + (ws > 0 ? 3 : 0);
    int under = put_text(NULL, line, bstart, bend);
    fprintf(out, " %*s | %*s", w, "", pad, "");
    if (color) fputs(COLOR_CARET, out);
    fputc('^', out);
    for (int i = 1; i < under; i++) fputc('~', out);
    if (color) fputs(COLOR_RESET, out);
    fputc('\n', out);
}

static void print_location(const diag_engine *d, FILE *out, ast_span span, bool color)
{
    const source_file *f = span_file(d, span);
    if (!f) return;
    if (color) fputs(COLOR_BOLD, out);
    fprintf(out, "%s:%d:%d: ", f->path, span.first_line, span.first_column);
    if (color) fputs(COLOR_RESET, out);
}

/* 'text' with newlines and tabs written as \n and \t, so a fix stays on one line. */
static void print_quoted(FILE *out, const char *s, size_t len)
{
    fputc('\'', out);
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\n')
            fputs("\\n", out);
        else if (s[i] == '\t')
            fputs("\\t", out);
        else
            fputc(s[i], out);
    }
    fputc('\'', out);
}

void diag_describe_fix(const diag_engine *d, const diag_fix_entry *x, FILE *out)
{
    const source_file *f = &d->sources->files[x->file];
    const char *old = f->text + x->first_offset;
    size_t old_len = (size_t)(x->last_offset - x->first_offset);
    if (old_len == 0) {
        fputs("insert ", out);
        print_quoted(out, x->text, strlen(x->text));
        fprintf(out, " at %d:%d", x->line, x->column);
    } else if (x->text[0] == '\0') {
        fputs("remove ", out);
        print_quoted(out, old, old_len);
    } else {
        fputs("replace ", out);
        print_quoted(out, old, old_len);
        fputs(" with ", out);
        print_quoted(out, x->text, strlen(x->text));
    }
}

/* fix: replace 'teaa' with 'tea' / insert '}' at 12:1 / remove ';' */
static void print_fix(const diag_engine *d, const diag_entry *e, const diag_fix_entry *x, FILE *out, bool color)
{
    fputs(color ? COLOR_BOLD "fix:" COLOR_RESET " " : "fix: ", out);
    diag_describe_fix(d, x, out);
    if (x->file != e->span.file) fprintf(out, " in %s", d->sources->files[x->file].path);
    fputc('\n', out);
}

void diag_print_entry(const diag_engine *d, const diag_entry *e, FILE *out, bool color)
{
    print_location(d, out, e->span, color);
    const char *sev = e->severity == DIAG_ERROR ? "error" : e->severity == DIAG_WARNING ? "warning" : "note";
    const char *sev_color = e->severity == DIAG_ERROR     ? COLOR_ERROR
                            : e->severity == DIAG_WARNING ? COLOR_WARNING
                                                          : COLOR_NOTE;
    if (color)
        fprintf(out, "%s%s:%s " COLOR_BOLD "%s" COLOR_RESET " [%s]\n", sev_color, sev, COLOR_RESET,
                e->message, diag_code_id(e->code));
    else
        fprintf(out, "%s: %s [%s]\n", sev, e->message, diag_code_id(e->code));
    print_snippet(d, out, e->span, color);
    if (e->hint) {
        if (color)
            fputs(COLOR_BOLD "hint:" COLOR_RESET " ", out);
        else
            fputs("hint: ", out);
        fprintf(out, "%s\n", e->hint);
    }
    for (int i = 0; i < e->n_fixes; i++) print_fix(d, e, &e->fixes[i], out, color);
    for (int i = 0; i < e->n_notes; i++) {
        const diag_note_entry *n = &e->notes[i];
        print_location(d, out, n->span, color);
        if (color)
            fprintf(out, COLOR_NOTE "note:" COLOR_RESET " %s\n", n->message);
        else
            fprintf(out, "note: %s\n", n->message);
        print_snippet(d, out, n->span, color);
    }
}

void diag_print_text(const diag_engine *d, FILE *out, bool color)
{
    for (int i = 0; i < d->count; i++) diag_print_entry(d, &d->entries[i], out, color);
    if (d->dropped > 0)
        fprintf(out, "note: %d more diagnostic%s not shown (the limit is %d errors)\n", d->dropped,
                d->dropped == 1 ? "" : "s", d->max_errors > 0 ? d->max_errors : 100);
}

/* ------------------------------------------------------------------------------------------ */
/* JSON rendering                                                                             */

static void json_string(FILE *out, const char *s)
{
    if (!s) {
        fputs("null", out);
        return;
    }
    fputc('"', out);
    size_t n = strlen(s), i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            fprintf(out, "\\%c", c);
            i++;
        } else if (c == '\n') {
            fputs("\\n", out);
            i++;
        } else if (c == '\t') {
            fputs("\\t", out);
            i++;
        } else if (c < 0x20 || c == 0x7F) {
            fprintf(out, "\\u%04x", c);
            i++;
        } else if (c < 0x80) {
            fputc(c, out);
            i++;
        } else {
            unsigned cp;
            int len = source_utf8_decode(s + i, n - i, &cp);
            if (len == 0) {
                fputs("\\ufffd", out);
                i++;
            } else {
                fwrite(s + i, 1, (size_t)len, out);
                i += (size_t)len;
            }
        }
    }
    fputc('"', out);
}

static void json_span(const diag_engine *d, FILE *out, ast_span span)
{
    const source_file *f = span_file(d, span);
    fputs("\"file\": ", out);
    json_string(out, f ? f->path : NULL);
    fprintf(out, ", \"line\": %d, \"column\": %d, \"end_line\": %d, \"end_column\": %d",
            f ? span.first_line : 0, f ? span.first_column : 0, f ? span.last_line : 0,
            f ? span.last_column : 0);
}

void diag_print_json(const diag_engine *d, FILE *out)
{
    fputs("[", out);
    for (int i = 0; i < d->count; i++) {
        const diag_entry *e = &d->entries[i];
        fputs(i ? ",\n  {" : "\n  {", out);
        json_span(d, out, e->span);
        fprintf(out, ", \"severity\": \"%s\", \"code\": ",
                e->severity == DIAG_ERROR     ? "error"
                : e->severity == DIAG_WARNING ? "warning"
                                              : "note");
        json_string(out, diag_code_id(e->code));
        fputs(", \"message\": ", out);
        json_string(out, e->message);
        fputs(", \"hint\": ", out);
        json_string(out, e->hint);
        fputs(", \"notes\": [", out);
        for (int k = 0; k < e->n_notes; k++) {
            fputs(k ? ", {" : "{", out);
            json_span(d, out, e->notes[k].span);
            fputs(", \"message\": ", out);
            json_string(out, e->notes[k].message);
            fputc('}', out);
        }
        fputs("], \"fixes\": [", out);
        for (int k = 0; k < e->n_fixes; k++) {
            const diag_fix_entry *x = &e->fixes[k];
            fputs(k ? ", {" : "{", out);
            fputs("\"file\": ", out);
            json_string(out, d->sources->files[x->file].path);
            fprintf(out, ", \"line\": %d, \"column\": %d, \"end_line\": %d, \"end_column\": %d, \"text\": ",
                    x->line, x->column, x->end_line, x->end_column);
            json_string(out, x->text);
            fputc('}', out);
        }
        fputs("]}", out);
    }
    fputs(d->count ? "\n]\n" : "]\n", out);
}

void diag_print_summary(const diag_engine *d, FILE *out)
{
    if (d->errors == 0 && d->warnings == 0) return;
    if (d->errors && d->warnings)
        fprintf(out, "%d error%s, %d warning%s generated.\n", d->errors, d->errors == 1 ? "" : "s",
                d->warnings, d->warnings == 1 ? "" : "s");
    else if (d->errors)
        fprintf(out, "%d error%s generated.\n", d->errors, d->errors == 1 ? "" : "s");
    else
        fprintf(out, "%d warning%s generated.\n", d->warnings, d->warnings == 1 ? "" : "s");
}
