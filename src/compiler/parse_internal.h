/* parse_internal.h - state shared by the lexer (grammar/lexer.l), the parser (grammar/parser.y)
 * and the driver (src/compiler/parse.c) while one file is parsed. Internal to the front end. */
#ifndef PERK_PARSE_INTERNAL_H
#define PERK_PARSE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "ast.h"
#include "diag.h"
#include "parse.h"
#include "source.h"

/* After this many errors in one file the rest of the file is skipped (binary garbage, a file in
 * the wrong language): one more diagnostic says so. */
#define PARSE_MAX_FILE_ERRORS 25
/* Open braces remembered for "block opened here" notes. */
#define PARSE_MAX_BRACES 32

/* One token as the parser saw it, for messages ("after 'off'"). */
typedef struct parse_token {
    int kind; /* bison symbol kind (yysymbol_kind_t), or -1 for none */
    ast_span span;
    bool synthetic; /* a '}' inserted to close a block left open */
} parse_token;

typedef struct parse_state {
    ast_arena *arena;
    diag_engine *diags;
    const source_set *sources;
    int file;
    const char *text; /* the file's bytes (NUL-terminated) */
    size_t len;

    /* lexer position: 1-based line and code-point column, byte offset */
    int line, column;
    size_t offset;
    bool after_dot; /* the last token was '.': a keyword is read as a field name */

    /* a run of unexpected bytes, reported as one diagnostic when the next token comes */
    bool garbage;
    ast_span garbage_span;
    int garbage_bytes;
    bool garbage_invalid; /* the run has bytes that are not UTF-8 */

    int file_errors;       /* lexer + parser errors so far in this file */
    bool stopped;          /* too many errors: the lexer now returns end of file */
    bool too_deep;         /* "nesting too deep" already reported */
    int last_syntax_error; /* byte offset of the last syntax error, -1 for none */

    /* parser-side token tracking (the yylex wrapper in parser.y) */
    parse_token prev, cur;
    int brace_depth;
    ast_span braces[PARSE_MAX_BRACES];
    int pending_closes; /* synthetic '}' still to hand to the parser */
    bool held;          /* a real token waits behind the synthetic '}' */
    int held_kind;
    ast_node *held_node;
    ast_span held_span;

    ast_node *file_node;  /* AST_FILE being filled */
    parse_layout *layout; /* when set, tokens and comments are recorded here (parse.h) */
} parse_state;

/* Parses ps->text into ps->file_node (grammar/parser.y). ps must have arena, diags, sources,
 * file, text, len and file_node set; everything else zeroed. */
void parse_run(parse_state *ps);

/* Counts an error of this file; after PARSE_MAX_FILE_ERRORS reports that the rest of the file is
 * skipped and sets ps->stopped. Returns false when the caller should not report (stopped). */
bool parse_count_error(parse_state *ps, ast_span at);

/* Appends a token or a comment to a layout being recorded (aborts when out of memory). */
void parse_layout_token(parse_layout *layout, int kind, const ast_span *span);
void parse_layout_comment(parse_layout *layout, const ast_span *span);

#endif
