/* source.h - the source files of one compilation (the main file and its includes).
 *
 * Owns the text of every file so that diagnostics can quote lines long after parsing, and maps
 * byte offsets to lines for the caret display. Files are never modified.
 */
#ifndef PERK_SOURCE_H
#define PERK_SOURCE_H

#include <stdbool.h>
#include <stddef.h>

#define SOURCE_MAX_BYTES (8u * 1024u * 1024u) /* default limit on one rule file */

typedef struct source_file {
    char *path;        /* as given (for messages) */
    char *text;        /* NUL-terminated copy of the bytes */
    size_t len;
    size_t *line_starts; /* byte offset where each line starts */
    int n_lines;
} source_file;

typedef struct source_set {
    source_file *files;
    int count, cap;
    size_t max_bytes;  /* files larger than this are refused; 0 = SOURCE_MAX_BYTES */
} source_set;

void source_init(source_set *set);
void source_free(source_set *set);
/* Reads a file; returns its index, or -1 with a message in err (cannot open, too large, is a
 * directory...). */
int source_add_file(source_set *set, const char *path, char *err, size_t errlen);
/* Adds text held in memory (tests, fuzzing, stdin); returns its index (-1 if too large). */
int source_add_text(source_set *set, const char *name, const char *text, size_t len);
/* The text of line `line` (1-based) of file `file`, without its newline; *len gets its length. */
const char *source_line(const source_set *set, int file, int line, size_t *len);
/* Index of a file already loaded under this path, or -1. */
int source_find(const source_set *set, const char *path);

#endif
