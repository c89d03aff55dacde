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
    char *path; /* as given (for messages) */
    char *text; /* NUL-terminated copy of the bytes */
    size_t len;
    size_t *line_starts; /* byte offset where each line starts */
    int n_lines;
} source_file;

/* The files of one compilation, and the front end's limits for it (set after source_init). */
/* A file held in memory that `include` may read instead of the disk (the console's drafts). */
typedef struct source_memory_file {
    const char *path; /* relative, normalized: "lib/catalogue.perk" */
    const char *text;
    size_t len;
} source_memory_file;

typedef struct source_set {
    source_file *files;
    int count, cap;
    size_t max_bytes; /* files larger than this are refused; 0 = SOURCE_MAX_BYTES */
    int max_depth;    /* expression nesting limit; 0 = PARSE_MAX_DEPTH (parse.h). It can only
                          lower the default: larger values count as PARSE_MAX_DEPTH. */
    /* Folders besides the top-level file's own that `include` may read from (not owned; set by
     * `--include-path DIR`). An include is looked up beside the including file first, then in
     * these, and must resolve (symbolic links followed) to a regular file under the top-level
     * file's folder or under one of these (src/compiler/parse.c). */
    const char *const *include_dirs;
    int n_include_dirs;
    /* With memory_only, `include` never reads the disk: it resolves its name relative to the
     * including file (whose path is relative too), normalizes "." and "..", and reads only the
     * file of that path among memory_files (not owned); a name that leaves the top folder is
     * refused. The console compiles drafts this way, so an operator reaches no server file. */
    bool memory_only;
    const source_memory_file *memory_files;
    int n_memory_files;
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

/* Why source_add_file_status failed. */
typedef enum source_status {
    SOURCE_OK,
    SOURCE_NOT_FOUND,   /* cannot open (missing, no permission) */
    SOURCE_NOT_REGULAR, /* a directory or a device */
    SOURCE_TOO_LARGE,   /* larger than max_bytes */
    SOURCE_READ_ERROR
} source_status;

/* Like source_add_file, and says why it failed in *status. */
int source_add_file_status(source_set *set, const char *path, source_status *status, char *err,
                           size_t errlen);
/* Registers `path` with empty text, so that a diagnostic about a file that could not be loaded
 * (too large) can still name it at 1:1. Returns its index. */
int source_add_placeholder(source_set *set, const char *path);
/* The effective size limit (max_bytes, or SOURCE_MAX_BYTES when 0). */
size_t source_limit(const source_set *set);

/* Decodes one UTF-8 code point at s (n bytes available). Returns the length of the sequence (1-4)
 * and stores the code point, or 0 when the bytes are not valid UTF-8 (overlong forms, surrogates
 * and code points above U+10FFFF are invalid). */
int source_utf8_decode(const char *s, size_t n, unsigned *cp);
/* Columns a code point takes in a terminal: 2 for East Asian wide and full-width characters,
 * 0 for combining marks, 1 otherwise. */
int source_char_width(unsigned cp);

#endif
