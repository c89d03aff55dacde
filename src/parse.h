/* parse.h - the front end's entry points: source text to an AST (grammar/lexer.l, parser.y).
 *
 * Includes are resolved here: `include "x.perk"` is read relative to the including file and its
 * declarations are spliced into the including file's AST_FILE in place; a cycle or a missing file
 * is a diagnostic at the include's span.
 */
#ifndef PERK_PARSE_H
#define PERK_PARSE_H

#include "ast.h"
#include "diag.h"
#include "source.h"

#define PARSE_MAX_DEPTH 256 /* expression nesting limit: deeper input gets a diagnostic */

/* Parses the file at `path` and its includes. Returns an AST_FILE (possibly partial when there
 * were errors; never NULL unless the file could not be read, which is also reported). */
ast_node *parse_program(source_set *sources, diag_engine *diags, ast_arena *arena, const char *path);
/* Parses text held in memory (includes are resolved relative to the working directory). */
ast_node *parse_text(source_set *sources, diag_engine *diags, ast_arena *arena, const char *name,
                     const char *text, size_t len);

#endif
