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

/* The lexical layout of one file, recorded on request for tools that reprint the source (perk
 * fmt, src/compiler/fmt.c): every token the lexer handed to the parser and every comment it skipped, each
 * with its span, in source order. Recording changes nothing about what the parser sees. */
typedef struct parse_lexeme {
    int kind; /* the lexer's token number: a T_* of grammar/parser.y (build/gen/parser.h) */
    ast_span span;
} parse_lexeme;

typedef struct parse_layout {
    parse_lexeme *tokens;
    int n_tokens, cap_tokens;
    ast_span *comments; /* from '#' to the end of its line (the newline excluded) */
    int n_comments, cap_comments;
} parse_layout;

/* Parses text held in memory as one file without resolving its includes (AST_INCLUDE nodes stay
 * in the tree), and records its tokens and comments into *layout, which must be zeroed first and
 * is freed with parse_layout_free. Diagnostics as for parse_text. Never returns NULL. */
ast_node *parse_text_layout(source_set *sources, diag_engine *diags, ast_arena *arena, const char *name,
                            const char *text, size_t len, parse_layout *layout);
void parse_layout_free(parse_layout *layout);

#endif
