/* lexer_support.h - what the flex rules of grammar/lexer.l call: positions and spans, turning
 * literals into AST nodes, lexical diagnostics and comments (src/compiler/lexer_support.c).
 *
 * The rules decide which token a text is; these functions do the work behind each decision, so
 * that lexer.l holds only its rules and a newcomer can read the token grammar in one page.
 */
#ifndef PERK_LEXER_SUPPORT_H
#define PERK_LEXER_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "parse_internal.h"

/* flex's own allocation functions (noyyalloc...), defined here so they follow our warning flags. */
void *perk_lex_alloc(size_t size, void *scanner);
void *perk_lex_realloc(void *ptr, size_t size, void *scanner);
void perk_lex_free(void *ptr, void *scanner);

/* Fills *sp for the n bytes at the current position and moves past them. */
void lex_advance(struct parse_state *ps, const char *s, size_t n, ast_span *sp);
/* What every rule returns through: records the token for `perk fmt` and the after-dot state. */
int lex_return(struct parse_state *ps, int tok, const ast_span *sp);
/* Reports a lexical error; false when it was not recorded (too many errors, or one already at
 * this place), so the caller attaches no fix to another diagnostic. */
bool lex_error(struct parse_state *ps, diag_code code, ast_span span, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* An operator of other languages (`==`, `&&`...): reported, with the fix writing Perk's
 * `instead`, a word kept apart from its neighbours by spaces. */
void lex_wrong_operator(struct parse_state *ps, const ast_span *sp, const char *instead, const char *hint);
/* `;`: reported, with the fix removing it. */
void lex_semicolon(struct parse_state *ps, const ast_span *sp);
void lex_garbage_add(struct parse_state *ps, const ast_span *sp, bool invalid);
ast_node *lex_name(struct parse_state *ps, const char *s, int n, const ast_span *sp);
ast_node *lex_number(struct parse_state *ps, const char *s, size_t n, const ast_span *sp);
bool lex_decimal(struct parse_state *ps, const char *s, size_t n, const ast_span *sp, ast_decimal *out);
ast_node *lex_string(struct parse_state *ps, const char *s, size_t n, const ast_span *sp, int kind);
ast_node *lex_date(struct parse_state *ps, const char *s, size_t n, const ast_span *sp);
ast_node *lex_time(struct parse_state *ps, const char *s, const ast_span *sp);
/* `2027-11-10 20:00` or `2027-11-11 23:59:59`: an AST_DATE whose op is 1 + the second of day. */
ast_node *lex_datetime(struct parse_state *ps, const char *s, size_t n, const ast_span *sp);
void lex_comment(struct parse_state *ps, const char *s, size_t n, const ast_span *sp);
size_t lex_digits_prefix(const char *s, size_t n);
bool lex_ident_char_at(const struct parse_state *ps, size_t pos);
size_t lex_skip_space(const struct parse_state *ps, size_t pos);
void lex_full_width(struct parse_state *ps, const ast_span *sp, const char *ascii);

/* lex_discount.c: `95折` (a percentage node holding the percentage off, sym "折") and `199元` /
 * `¥199元` (money, with a fix-it to write `¥199`). s[0..n) is the whole matched text. */
ast_node *lex_zhe(struct parse_state *ps, const char *s, size_t n, const ast_span *sp);
ast_node *lex_yuan(struct parse_state *ps, const char *s, size_t n, const ast_span *sp);

/* The kinds of string literal lex_string reads. */
enum { STRING_PLAIN, STRING_UNTERMINATED, STRING_CURLY };

#endif
