/* diag.h - compiler diagnostics: codes, collection and rendering.
 *
 * Every diagnostic has a code defined once in src/compiler/diag_codes.def (front end) or
 * src/compiler/diag_check.def (checker) or src/compiler/diag_codegen.def (code generator): DIAG(NAME, severity, "id") where id is a stable kebab-case name
 * printed in brackets and in JSON. A diagnostic carries the exact span, a message saying what is
 * wrong, and optionally a hint saying what to do and notes pointing at related spans.
 *
 * Text rendering, like clang/rustc:
 *   rules/spring.perk:14:8: error: expected money after '>=', found '300' [expected-money]
 *      14 |   when sum(tea) >= 300
 *         |                    ^~~
 *   hint: write an amount with its currency, e.g. ¥300
 *   fix: replace '300' with '¥300'
 * JSON rendering: one object per diagnostic with file, line, column, end_line, end_column,
 * severity, code, message, hint, notes, fixes.
 *
 * A fix (a "fix-it", as clang calls it) is an edit that certainly makes its diagnostic go away:
 * replace the bytes [first_offset, last_offset) of a file by a text (an insertion when the span is
 * empty, a removal when the text is). Only a fix the compiler is sure of is attached: a
 * misspelling with one suggestion, a bare number where money is expected; never a guess between
 * several. tests/unit/test_fixits.c applies every fix of the golden diagnostics and re-checks.
 */
#ifndef PERK_DIAG_H
#define PERK_DIAG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

#include "ast.h"
#include "source.h"

typedef enum diag_severity { DIAG_ERROR, DIAG_WARNING, DIAG_NOTE } diag_severity;

typedef enum diag_code {
#define DIAG(name, severity, id) DIAG_##name,
#include "diag_all.def"
#undef DIAG
    DIAG_CODE_COUNT
} diag_code;

typedef struct diag_note_entry {
    ast_span span;
    char *message;
} diag_note_entry;

/* One edit of a fix: file, byte range (end exclusive) and the replacement. line/column and
 * end_line/end_column are the range's ends as 1-based code-point columns (end exclusive too, so an
 * insertion has end == start), computed from the offsets when the fix is attached. */
typedef struct diag_fix_entry {
    int file;
    int first_offset, last_offset;
    int line, column, end_line, end_column;
    char *text;
} diag_fix_entry;

typedef struct diag_entry {
    diag_code code;
    diag_severity severity;
    ast_span span;
    char *message;
    char *hint; /* may be NULL */
    diag_note_entry *notes;
    int n_notes;
    diag_fix_entry *fixes;
    int n_fixes;
} diag_entry;

typedef struct diag_engine {
    const source_set *sources;
    diag_entry *entries;
    int count, cap;
    int errors, warnings;
    int max_errors;    /* stop recording after this many errors (default 100) */
    bool werror;       /* treat warnings as errors */
    int dropped;       /* diagnostics not recorded because max_errors was reached */
    bool last_dropped; /* the last diag_report was dropped: its notes are dropped too */
} diag_engine;

void diag_init(diag_engine *d, const source_set *sources);
void diag_free(diag_engine *d);
/* Records a diagnostic. hint may be NULL. The message is printf-formatted. */
void diag_report(diag_engine *d, diag_code code, ast_span span, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Attaches a note ("previous definition is here") to the last diagnostic reported. */
void diag_note(diag_engine *d, ast_span span, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Attaches a fix to the last diagnostic reported: replace the bytes [span.first_offset,
 * span.last_offset) of span.file by `text` (an insertion when the span is empty). Ignored when
 * that diagnostic was dropped (max_errors) or the span has no valid offsets in a loaded file. */
void diag_fix(diag_engine *d, ast_span span, const char *text);
/* diag_fix, only when the span's bytes are exactly `old`: a misspelt word replaced by the
 * suggestion, sure that the span is the word and not a wider node. */
void diag_fix_word(diag_engine *d, ast_span span, const char *old, const char *text);
/* Whether the bytes of `span` are exactly `text`. */
bool diag_span_is(const diag_engine *d, ast_span span, const char *text);
/* "replace 'teaa' with 'tea'", "insert '}' at 12:1" or "remove ';'" (no newline). */
void diag_describe_fix(const diag_engine *d, const diag_fix_entry *x, FILE *out);
/* An empty span at byte `offset` of `file`, for diag_fix to insert at. */
ast_span diag_span_at(int file, int offset);
/* Applies the fixes of `entries` (their edits in file `file`) to `text` (len bytes): a new
 * malloc'ed NUL-terminated text, its length in *out_len. A diagnostic's edits are applied all or
 * none: none when one overlaps an edit of an earlier diagnostic. applied (count entries, may be
 * NULL) says which were. Returns NULL when no fix was applied to that file. */
char *diag_apply_fixes(const diag_entry *entries, int count, int file, const char *text, size_t len,
                       size_t *out_len, bool *applied);
diag_severity diag_code_severity(diag_code code);
const char *diag_code_id(diag_code code);
/* Sorts by file, line, column (stable) so output is deterministic. */
void diag_sort(diag_engine *d);
void diag_print_text(const diag_engine *d, FILE *out, bool color);
void diag_print_json(const diag_engine *d, FILE *out);
/* Renders one diagnostic (with its snippet, hint and notes) as text. */
void diag_print_entry(const diag_engine *d, const diag_entry *e, FILE *out, bool color);
/* "1 error, 2 warnings generated." or nothing when there are none. */
void diag_print_summary(const diag_engine *d, FILE *out);

#endif
