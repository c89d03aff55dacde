/* fmt.h - the canonical layout of rule files (`perk fmt`, src/cli/cmd_fmt.c).
 *
 * The formatter reprints the tokens of a file as written (money, percentages, dates and strings
 * keep their exact spelling) with canonical whitespace, and keeps every comment where it was:
 *  - declarations start at column 0; block declarations (ruleset, tier, promotion, earn,
 *    multiplier, redeem, points) are separated by one blank line; between two one-line
 *    declarations (let, include) the file's choice of no blank line or one is kept;
 *  - inside a block, one clause per line, indented by two spaces, no blank lines (except one
 *    before a comment line, where the file had one);
 *  - one space between tokens, none inside ( ) and [ ], before , : ) ] or around the '.' of a
 *    field, none after a negation '-' or between a function and its '(';
 *  - a line break the author put inside a clause or a `let` is kept, and the continuation is
 *    indented two more spaces than the clause;
 *  - lists `[a, b]` and steps tables `{ 6: ¥1.80, 24: ¥1.50 }` stay on one line when they fit in
 *    FMT_WIDTH columns and hold no comment; otherwise one entry per line, indented two more
 *    spaces, closing bracket on its own line; a trailing comma is dropped;
 *  - end-of-line comments stay at the end of their line, aligned with those of the neighbouring
 *    lines of the same indentation (two spaces after the longest code); full-line comments stay
 *    on their own lines at the indentation of what follows them;
 *  - lines end in "\n", trailing spaces are removed, a byte order mark at the start is kept.
 * Formatting is idempotent: formatting the output again gives the same text.
 */
#ifndef PERK_FMT_H
#define PERK_FMT_H

#include <stddef.h>

#include "diag.h"
#include "source.h"

/* Lists and tables wider than this (display columns, a Chinese character counts two) are laid
 * out one entry per line. */
#define FMT_WIDTH 100

typedef enum fmt_status {
    FMT_OK,            /* *out holds the formatted text */
    FMT_SYNTAX_ERROR,  /* the file has lexical or syntax errors (reported into diags) */
    FMT_INTERNAL_ERROR /* the formatter's own check failed: a bug, described in err */
} fmt_status;

/* Formats the rule file `text` (len bytes, any NUL makes it a binary file); `name` is the path
 * shown in diagnostics. The file is added to `sources`, and its errors, if any, are reported
 * into `diags` (warnings never stop formatting; the checks on meaning are not run, and includes
 * are not read). On FMT_OK *out is the formatted text, malloc'ed and NUL-terminated, *out_len
 * its length. Before returning FMT_OK the result is parsed again and must give the same tokens
 * (a dropped trailing comma aside) and the same comments in the same order; otherwise the
 * status is FMT_INTERNAL_ERROR and err (errlen bytes) says what differed. */
fmt_status fmt_text(source_set *sources, diag_engine *diags, const char *name, const char *text, size_t len,
                    char **out, size_t *out_len, char *err, size_t errlen);

#endif
