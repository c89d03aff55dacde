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
 * JSON rendering: one object per diagnostic with file, line, column, end_line, end_column,
 * severity, code, message, hint, notes.
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

typedef struct diag_entry {
    diag_code code;
    diag_severity severity;
    ast_span span;
    char *message;
    char *hint; /* may be NULL */
    diag_note_entry *notes;
    int n_notes;
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
