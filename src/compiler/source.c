/* source.c - loading rule files into memory, line tables, and the UTF-8 helpers shared by the
 * lexer and the diagnostic renderer. */
#include "source.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void source_oom(void)
{
    fputs("perk: out of memory\n", stderr);
    abort();
}

void source_init(source_set *set) { memset(set, 0, sizeof *set); }

void source_free(source_set *set)
{
    for (int i = 0; i < set->count; i++) {
        free(set->files[i].path);
        free(set->files[i].text);
        free(set->files[i].line_starts);
    }
    free(set->files);
    memset(set, 0, sizeof *set);
}

size_t source_limit(const source_set *set) { return set->max_bytes ? set->max_bytes : SOURCE_MAX_BYTES; }

/* Takes ownership of text (len bytes followed by two NULs) and indexes its lines. */
static int add_owned(source_set *set, const char *path, char *text, size_t len)
{
    if (set->count == set->cap) {
        int cap = set->cap ? set->cap * 2 : 4;
        source_file *files = realloc(set->files, (size_t)cap * sizeof *files);
        if (!files) source_oom();
        set->files = files;
        set->cap = cap;
    }
    source_file *f = &set->files[set->count];
    memset(f, 0, sizeof *f);
    f->path = strdup(path);
    if (!f->path) source_oom();
    /* Old Mac line endings: in a file with CRs and no LF at all, each CR ends a line. It becomes
     * LF in place (the same length, so every offset stays), else the file is one long line whose
     * first `#` comment hides everything ("no ruleset header"). A file with any LF is left as it
     * is (CRLF, and a stray CR is blank space as before). */
    if (len && !memchr(text, '\n', len))
        for (size_t i = 0; i < len; i++)
            if (text[i] == '\r') text[i] = '\n';
    f->text = text;
    f->len = len;
    size_t n = 1;
    for (size_t i = 0; i < len; i++)
        if (text[i] == '\n') n++;
    f->line_starts = malloc(n * sizeof *f->line_starts);
    if (!f->line_starts) source_oom();
    f->line_starts[0] = 0;
    size_t k = 1;
    for (size_t i = 0; i < len; i++)
        if (text[i] == '\n') f->line_starts[k++] = i + 1;
    f->n_lines = (int)n;
    return set->count++;
}

int source_add_text(source_set *set, const char *name, const char *text, size_t len)
{
    if (len > source_limit(set)) return -1;
    char *copy = malloc(len + 2);
    if (!copy) source_oom();
    if (len) memcpy(copy, text, len);
    copy[len] = copy[len + 1] = '\0';
    return add_owned(set, name, copy, len);
}

int source_add_placeholder(source_set *set, const char *path)
{
    char *copy = calloc(1, 2);
    if (!copy) source_oom();
    return add_owned(set, path, copy, 0);
}

int source_add_file_status(source_set *set, const char *path, source_status *status, char *err, size_t errlen)
{
    source_status dummy;
    if (!status) status = &dummy;
    *status = SOURCE_OK;
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        *status = SOURCE_NOT_FOUND;
        if (err) snprintf(err, errlen, "cannot open '%s': %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(fp);
        *status = SOURCE_NOT_REGULAR;
        if (err) snprintf(err, errlen, "'%s' is not a regular file", path);
        return -1;
    }
    size_t limit = source_limit(set);
    if ((unsigned long long)st.st_size > (unsigned long long)limit) {
        fclose(fp);
        *status = SOURCE_TOO_LARGE;
        if (err)
            snprintf(err, errlen, "'%s' is too large (%lld bytes; the limit is %zu bytes)", path,
                     (long long)st.st_size, limit);
        return -1;
    }
    /* Read to the end rather than trusting st_size: the file may change while we read. */
    size_t cap = (size_t)st.st_size + 2, len = 0;
    char *text = malloc(cap);
    if (!text) source_oom();
    for (;;) {
        if (cap - len < 3) {
            cap *= 2;
            char *t = realloc(text, cap);
            if (!t) source_oom();
            text = t;
        }
        size_t got = fread(text + len, 1, cap - len - 2, fp);
        len += got;
        if (len > limit) {
            free(text);
            fclose(fp);
            *status = SOURCE_TOO_LARGE;
            if (err) snprintf(err, errlen, "'%s' is too large (over %zu bytes)", path, limit);
            return -1;
        }
        if (got == 0) break;
    }
    if (ferror(fp)) {
        free(text);
        fclose(fp);
        *status = SOURCE_READ_ERROR;
        if (err) snprintf(err, errlen, "cannot read '%s'", path);
        return -1;
    }
    fclose(fp);
    text[len] = text[len + 1] = '\0';
    return add_owned(set, path, text, len);
}

int source_add_file(source_set *set, const char *path, char *err, size_t errlen)
{
    return source_add_file_status(set, path, NULL, err, errlen);
}

const char *source_line(const source_set *set, int file, int line, size_t *len)
{
    if (len) *len = 0;
    if (file < 0 || file >= set->count) return NULL;
    const source_file *f = &set->files[file];
    if (line < 1 || line > f->n_lines) return NULL;
    size_t start = f->line_starts[line - 1];
    size_t end = line < f->n_lines ? f->line_starts[line] - 1 : f->len;
    if (end > start && f->text[end - 1] == '\r') end--;
    if (len) *len = end - start;
    return f->text + start;
}

int source_find(const source_set *set, const char *path)
{
    for (int i = 0; i < set->count; i++)
        if (strcmp(set->files[i].path, path) == 0) return i;
    return -1;
}

int source_utf8_decode(const char *s, size_t n, unsigned *cp)
{
    const unsigned char *u = (const unsigned char *)s;
    if (n == 0) return 0;
    unsigned c = u[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    int len;
    unsigned min;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        c &= 0x1F;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        c &= 0x0F;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        c &= 0x07;
        min = 0x10000;
    } else
        return 0;
    if ((size_t)len > n) return 0;
    for (int i = 1; i < len; i++) {
        if ((u[i] & 0xC0) != 0x80) return 0;
        c = (c << 6) | (u[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return 0;
    *cp = c;
    return len;
}

int source_char_width(unsigned cp)
{
    /* Combining marks take no column of their own. */
    if ((cp >= 0x0300 && cp <= 0x036F) || (cp >= 0x200B && cp <= 0x200F) || (cp >= 0xFE00 && cp <= 0xFE0F))
        return 0;
    if ((cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0x303E) || (cp >= 0x3041 && cp <= 0x33FF) ||
        (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0xA000 && cp <= 0xA4CF) ||
        (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0xFE30 && cp <= 0xFE4F) ||
        (cp >= 0xFF00 && cp <= 0xFF60) || (cp >= 0xFFE0 && cp <= 0xFFE6) ||
        (cp >= 0x1F300 && cp <= 0x1F64F) || (cp >= 0x1F900 && cp <= 0x1F9FF) ||
        (cp >= 0x20000 && cp <= 0x3FFFD))
        return 2;
    return 1;
}
