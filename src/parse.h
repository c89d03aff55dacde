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

/* The nesting limit in force for `sources`: sources->max_depth when it is between 1 and
 * PARSE_MAX_DEPTH, else PARSE_MAX_DEPTH (the parser's stack is sized for that). */
int parse_depth_limit(const source_set *sources);

/* Limits, each reported as a diagnostic: a file over sources->max_bytes is refused (at 1:1), a
 * file with a NUL byte is reported as binary, includes nest at most 16 deep, and a file with
 * more than 25 lexical/syntax errors is abandoned after one more diagnostic. An included file is
 * read once even when several files include it. Parsing time and memory are linear in the input.
 *
 * Parses the file at `path` and its includes. Returns an AST_FILE (possibly partial when there
 * were errors; never NULL unless the file could not be read, which is also reported). */
ast_node *parse_program(source_set *sources, diag_engine *diags, ast_arena *arena, const char *path);
/* Parses text held in memory (includes are resolved relative to the working directory). */
ast_node *parse_text(source_set *sources, diag_engine *diags, ast_arena *arena, const char *name,
                     const char *text, size_t len);
/* Parses one file already in `sources` without resolving its includes (AST_INCLUDE nodes stay in
 * the tree). For tests and tools; NULL for a bad index. */
ast_node *parse_source(source_set *sources, diag_engine *diags, ast_arena *arena, int file);

#endif
