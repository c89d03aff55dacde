/* test_lexer.c - the tokenizer (grammar/lexer.l): token kinds, literal values and spans (columns
 * count code points, so Chinese text moves a column by one per character), and every lexical
 * error: invalid UTF-8, runs of stray characters, unterminated strings, bad escapes, impossible
 * dates and times, numbers too large for int64, full-width punctuation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "compiler/ast.h"
#include "compiler/diag.h"
#include "compiler/parse_internal.h"
#include "compiler/source.h"
#include "parser.h"
#include "lexer.h"

#define MAX_TOKENS 64

typedef struct lexed {
    source_set sources;
    diag_engine diags;
    ast_arena *arena;
    parse_state ps;
    int n;
    int kind[MAX_TOKENS];
    ast_span span[MAX_TOKENS];
    ast_node *node[MAX_TOKENS];
} lexed;

/* Tokenizes text up to the end of the file (or MAX_TOKENS tokens). */
static lexed *lex(const char *text)
{
    lexed *lx = calloc(1, sizeof *lx);
    assert_non_null(lx);
    source_init(&lx->sources);
    diag_init(&lx->diags, &lx->sources);
    lx->arena = ast_arena_new();
    int file = source_add_text(&lx->sources, "t.perk", text, strlen(text));
    assert_int_equal(file, 0);
    lx->ps.arena = lx->arena;
    lx->ps.diags = &lx->diags;
    lx->ps.sources = &lx->sources;
    lx->ps.file = file;
    lx->ps.text = lx->sources.files[file].text;
    lx->ps.len = lx->sources.files[file].len;
    lx->ps.line = lx->ps.column = 1;
    yyscan_t scanner;
    assert_int_equal(perk_lex_lex_init_extra(&lx->ps, &scanner), 0);
    YY_BUFFER_STATE buf = perk_lex__scan_bytes(lx->ps.text, (int)lx->ps.len, scanner);
    for (;;) {
        YYSTYPE val;
        YYLTYPE loc;
        val.node = NULL;
        int tok = perk_lex_lex(&val, &loc, scanner);
        if (tok == T_EOF || lx->n == MAX_TOKENS) break;
        lx->kind[lx->n] = tok;
        lx->span[lx->n] = loc;
        lx->node[lx->n] = val.node;
        lx->n++;
    }
    perk_lex__delete_buffer(buf, scanner);
    perk_lex_lex_destroy(scanner);
    return lx;
}

static void lexed_free(lexed *lx)
{
    ast_arena_free(lx->arena);
    diag_free(&lx->diags);
    source_free(&lx->sources);
    free(lx);
}

static void assert_span(const ast_span *sp, int line, int col, int last_line, int last_col, int off, int end)
{
    assert_int_equal(sp->first_line, line);
    assert_int_equal(sp->first_column, col);
    assert_int_equal(sp->last_line, last_line);
    assert_int_equal(sp->last_column, last_col);
    assert_int_equal(sp->first_offset, off);
    assert_int_equal(sp->last_offset, end);
}

/* The only diagnostic has this code and its message contains `text`. */
static void assert_one_diag(const lexed *lx, diag_code code, const char *text)
{
    if (lx->diags.count != 1) {
        for (int i = 0; i < lx->diags.count; i++) fprintf(stderr, "diag: %s\n", lx->diags.entries[i].message);
    }
    assert_int_equal(lx->diags.count, 1);
    assert_int_equal(lx->diags.entries[0].code, code);
    if (!strstr(lx->diags.entries[0].message, text))
        fprintf(stderr, "message: %s\n", lx->diags.entries[0].message);
    assert_non_null(strstr(lx->diags.entries[0].message, text));
}

static void test_keywords_and_punctuation(void **state)
{
    (void)state;
    lexed *lx = lex("promotion x { when a >= b then 10% off order } .. != <= [ ] ( ) , : = + - * /");
    int want[] = { T_PROMOTION, T_IDENT,    T_LBRACE,   T_WHEN,   T_IDENT,  T_GE,     T_IDENT,
                   T_THEN,      T_PERCENT,  T_OFF,      T_ORDER,  T_RBRACE, T_DOTDOT, T_NE,
                   T_LE,        T_LBRACKET, T_RBRACKET, T_LPAREN, T_RPAREN, T_COMMA,  T_COLON,
                   T_EQ,        T_PLUS,     T_MINUS,    T_STAR,   T_SLASH };
    assert_int_equal(lx->n, (int)(sizeof want / sizeof want[0]));
    for (int i = 0; i < lx->n; i++) assert_int_equal(lx->kind[i], want[i]);
    assert_string_equal(lx->node[1]->name, "x");
    assert_int_equal(lx->diags.count, 0);
    lexed_free(lx);
}

static void test_keyword_after_dot_is_a_name(void **state)
{
    (void)state;
    lexed *lx = lex("customer.tier order.points customer . items");
    int want[] = { T_CUSTOMER, T_DOT, T_IDENT, T_ORDER, T_DOT, T_IDENT, T_CUSTOMER, T_DOT, T_IDENT };
    assert_int_equal(lx->n, 9);
    for (int i = 0; i < lx->n; i++) assert_int_equal(lx->kind[i], want[i]);
    assert_string_equal(lx->node[2]->name, "tier");
    assert_string_equal(lx->node[5]->name, "points");
    assert_string_equal(lx->node[8]->name, "items");
    lexed_free(lx);
}

static void test_contextual_tokens(void **state)
{
    (void)state;
    /* `not in` and `is not` are single operators; `not` alone, `is` alone and `not intact` are not */
    lexed *lx = lex("a not in b is not c not x is d not intact max(a) max 5 any (b) any 3 all");
    int want[] = { T_IDENT, T_NOT_IN, T_IDENT,  T_IS_NOT, T_IDENT,  T_NOT,   T_IDENT,  T_IS,
                   T_IDENT, T_NOT,    T_IDENT,  T_FUNC,   T_LPAREN, T_IDENT, T_RPAREN, T_MAX,
                   T_INT,   T_FUNC,   T_LPAREN, T_IDENT,  T_RPAREN, T_ANY,   T_INT,    T_ALL };
    assert_int_equal(lx->n, (int)(sizeof want / sizeof want[0]));
    for (int i = 0; i < lx->n; i++) assert_int_equal(lx->kind[i], want[i]);
    assert_string_equal(lx->node[10]->name, "intact");
    assert_string_equal(lx->node[11]->name, "max");
    lexed_free(lx);
}

static void test_numbers(void **state)
{
    (void)state;
    lexed *lx = lex("42 1_000 12.50 0.05 9223372036854775807");
    assert_int_equal(lx->n, 5);
    assert_int_equal(lx->kind[0], T_INT);
    assert_int_equal(lx->node[0]->num.mantissa, 42);
    assert_int_equal(lx->node[0]->num.scale, 0);
    assert_int_equal(lx->node[1]->num.mantissa, 1000);
    assert_int_equal(lx->kind[2], T_DECIMAL);
    assert_int_equal(lx->node[2]->num.mantissa, 1250); /* digits kept exactly: 12.50 = 1250 / 10^2 */
    assert_int_equal(lx->node[2]->num.scale, 2);
    assert_int_equal(lx->node[3]->num.mantissa, 5);
    assert_int_equal(lx->node[3]->num.scale, 2);
    assert_int_equal(lx->node[4]->num.mantissa, INT64_MAX);
    assert_int_equal(lx->diags.count, 0);
    lexed_free(lx);
}

static void test_number_too_large(void **state)
{
    (void)state;
    lexed *lx = lex("priority 9223372036854775808 x");
    assert_int_equal(lx->n, 3);
    assert_int_equal(lx->kind[1], T_INT);
    assert_int_equal(lx->node[1]->num.mantissa, 0);
    assert_one_diag(lx, DIAG_NUMBER_TOO_LARGE, "9223372036854775808");
    assert_span(&lx->diags.entries[0].span, 1, 10, 1, 28, 9, 28);
    lexed_free(lx);

    lx = lex("\xC2\xA5"
             "99999999999999999999.99");
    assert_int_equal(lx->kind[0], T_MONEY);
    assert_one_diag(lx, DIAG_NUMBER_TOO_LARGE, "number too large");
    lexed_free(lx);

    lx = lex("1__000 2_");
    assert_int_equal(lx->diags.count, 2);
    assert_int_equal(lx->diags.entries[0].code, DIAG_MALFORMED_NUMBER);
    assert_int_equal(lx->node[0]->num.mantissa, 1000);
    lexed_free(lx);
}

static void test_money(void **state)
{
    (void)state;
    lexed *lx = lex("\xC2\xA5"
                    "300 \xC2\xA5"
                    "12.50 $5 \xE2\x82\xAC"
                    "3.20 \xC2\xA3"
                    "2 \xE2\x82\xA9"
                    "1000 "
                    "300.00 CNY 300 JPY 5USD \xEF\xBF\xA5"
                    "8");
    assert_int_equal(lx->n, 10);
    for (int i = 0; i < lx->n; i++) assert_int_equal(lx->kind[i], T_MONEY);
    assert_string_equal(lx->node[0]->sym, "\xC2\xA5");
    assert_null(lx->node[0]->name);
    assert_int_equal(lx->node[0]->num.mantissa, 300);
    assert_int_equal(lx->node[1]->num.mantissa, 1250);
    assert_int_equal(lx->node[1]->num.scale, 2);
    assert_string_equal(lx->node[2]->sym, "$");
    assert_string_equal(lx->node[3]->sym, "\xE2\x82\xAC");
    assert_string_equal(lx->node[4]->sym, "\xC2\xA3");
    assert_string_equal(lx->node[5]->sym, "\xE2\x82\xA9");
    assert_string_equal(lx->node[6]->name, "CNY");
    assert_null(lx->node[6]->sym);
    assert_int_equal(lx->node[6]->num.mantissa, 30000);
    assert_int_equal(lx->node[6]->num.scale, 2);
    assert_string_equal(lx->node[7]->name, "JPY");
    assert_string_equal(lx->node[8]->name, "USD");
    assert_string_equal(lx->node[9]->sym, "\xC2\xA5"); /* the full-width yen sign is the same currency */
    /* ¥ spans one column although it is two bytes: "¥300" is columns 1-4, bytes 0-5 */
    assert_span(&lx->span[0], 1, 1, 1, 4, 0, 5);
    /* "300.00 CNY" starts after "¥300 ¥12.50 $5 €3.20 £2 ₩1000 " = 30 code points */
    assert_int_equal(lx->span[6].first_column, 31);
    assert_int_equal(lx->span[6].last_column, 40);
    assert_int_equal(lx->diags.count, 0);
    lexed_free(lx);

    /* a number and a word that is not a currency code stay two tokens */
    lx = lex("300 Cny 300 CNYX 3 ABC");
    int want[] = { T_INT, T_IDENT, T_INT, T_IDENT, T_MONEY };
    assert_int_equal(lx->n, 5);
    for (int i = 0; i < 5; i++) assert_int_equal(lx->kind[i], want[i]);
    lexed_free(lx);

    lx = lex("\xC2\xA5 x");
    assert_int_equal(lx->n, 1);
    assert_one_diag(lx, DIAG_MISSING_AMOUNT, "followed by an amount");
    lexed_free(lx);
}

static void test_percent_multiplier(void **state)
{
    (void)state;
    lexed *lx = lex("15% 12.5% x2 x1.5 \xC3\x97"
                    "3 x2a");
    int want[] = { T_PERCENT, T_PERCENT, T_MULT, T_MULT, T_MULT, T_IDENT };
    assert_int_equal(lx->n, 6);
    for (int i = 0; i < 6; i++) assert_int_equal(lx->kind[i], want[i]);
    assert_int_equal(lx->node[0]->num.mantissa, 15);
    assert_int_equal(lx->node[1]->num.mantissa, 125);
    assert_int_equal(lx->node[1]->num.scale, 1);
    assert_int_equal(lx->node[3]->num.mantissa, 15);
    assert_int_equal(lx->node[3]->num.scale, 1);
    assert_int_equal(lx->node[4]->num.mantissa, 3);
    lexed_free(lx);
}

static void test_durations(void **state)
{
    (void)state;
    lexed *lx = lex("7 days 1 day 12 hours 1 hour 30 minutes 2 weeks 3days");
    assert_int_equal(lx->n, 7);
    int64_t want[] = { 7 * 86400, 86400, 12 * 3600, 3600, 30 * 60, 2 * 604800, 3 * 86400 };
    for (int i = 0; i < 7; i++) {
        assert_int_equal(lx->kind[i], T_DURATION);
        assert_int_equal(lx->node[i]->ival, want[i]);
    }
    assert_span(&lx->span[0], 1, 1, 1, 6, 0, 6);
    lexed_free(lx);

    /* `priority 5 hours 10:00 to 14:00`: the number ends one clause and `hours` starts the next */
    lx = lex("priority 5\n  hours 10:00 to 14:00 7 dayshift");
    int want2[] = { T_PRIORITY, T_INT, T_HOURS, T_TIME, T_TO, T_TIME, T_INT, T_IDENT };
    assert_int_equal(lx->n, 8);
    for (int i = 0; i < 8; i++) assert_int_equal(lx->kind[i], want2[i]);
    assert_string_equal(lx->node[7]->name, "dayshift");
    lexed_free(lx);
}

static void test_dates_and_times(void **state)
{
    (void)state;
    /* (a time right after a date would be one date-time token: see below) */
    lexed *lx = lex("1970-01-01 2026-03-01 2024-02-29\n09:30 0:05 24:00");
    assert_int_equal(lx->n, 6);
    assert_int_equal(lx->kind[0], T_DATE);
    assert_int_equal(lx->node[0]->ival, 0);
    /* 2026-03-01: 56 years from 1970 with 14 leap days (1972..2024) = 20454, + Jan 31 + Feb 28 = 20513 */
    assert_int_equal(lx->node[1]->ival, 20513);
    assert_int_equal(lx->node[2]->ival, 19782); /* 2024-01-01 = 19723, + 31 + 28 */
    assert_int_equal(lx->kind[3], T_TIME);
    assert_int_equal(lx->node[3]->ival, 9 * 60 + 30);
    assert_int_equal(lx->node[4]->ival, 5);
    assert_int_equal(lx->node[5]->ival, 24 * 60);
    assert_int_equal(lx->diags.count, 0);
    lexed_free(lx);

    /* a date and a time of day on one line: one date-time (a `valid` bound), op = 1 + second */
    lx = lex("2027-11-10 20:00 2027-11-11  23:59:59 2027-11-12");
    assert_int_equal(lx->n, 3);
    assert_int_equal(lx->kind[0], T_DATE);
    assert_int_equal(lx->node[0]->op, 1 + 20 * 3600);
    assert_int_equal(lx->kind[1], T_DATE);
    assert_int_equal(lx->node[1]->op, 1 + 23 * 3600 + 59 * 60 + 59);
    assert_int_equal(lx->node[1]->ival, lx->node[0]->ival + 1);
    assert_int_equal(lx->node[2]->op, 0); /* a date alone */
    assert_int_equal(lx->diags.count, 0);
    lexed_free(lx);

    lx = lex("2027-11-10 24:00");
    assert_one_diag(lx, DIAG_INVALID_TIME, "hours go from 00 to 23");
    lexed_free(lx);

    lx = lex("valid 2026-02-30");
    assert_one_diag(lx, DIAG_INVALID_DATE, "February 2026 has 28 days");
    assert_span(&lx->diags.entries[0].span, 1, 7, 1, 16, 6, 16);
    assert_int_equal(lx->node[1]->ival, 20512); /* clamped to 2026-02-28 */
    lexed_free(lx);

    lx = lex("2026-13-01");
    assert_one_diag(lx, DIAG_INVALID_DATE, "no month 13");
    lexed_free(lx);

    lx = lex("2026-3-1");
    assert_int_equal(lx->n, 1);
    assert_int_equal(lx->kind[0], T_DATE);
    assert_one_diag(lx, DIAG_INVALID_DATE, "two digits");
    lexed_free(lx);

    lx = lex("25:00");
    assert_one_diag(lx, DIAG_INVALID_TIME, "hours go from 00 to 24");
    lexed_free(lx);
    lx = lex("10:60");
    assert_one_diag(lx, DIAG_INVALID_TIME, "minutes");
    lexed_free(lx);
    lx = lex("24:30");
    assert_one_diag(lx, DIAG_INVALID_TIME, "hours");
    lexed_free(lx);
}

static void test_strings(void **state)
{
    (void)state;
    lexed *lx =
        lex("\"a\\\"b\\\\c\\nd\\te\" \"\\u{4F1A}\\u{1F600}\" \"\xE4\xBC\x9A\xE5\x91\x98\xE6\x97\xA5\" \"\"");
    assert_int_equal(lx->n, 4);
    for (int i = 0; i < 4; i++) assert_int_equal(lx->kind[i], T_STRING);
    assert_string_equal(lx->node[0]->name, "a\"b\\c\nd\te");
    assert_string_equal(lx->node[1]->name, "\xE4\xBC\x9A\xF0\x9F\x98\x80");
    assert_string_equal(lx->node[2]->name, "\xE4\xBC\x9A\xE5\x91\x98\xE6\x97\xA5");
    assert_string_equal(lx->node[3]->name, "");
    assert_int_equal(lx->diags.count, 0);
    lexed_free(lx);
}

static void test_columns_after_chinese_text(void **state)
{
    (void)state;
    /* "会员日" is 3 code points (9 bytes): the string spans columns 1-5, bytes 0-11 */
    lexed *lx = lex("\"\xE4\xBC\x9A\xE5\x91\x98\xE6\x97\xA5\" x\n  # \xE6\xB3\xA8\n\xE3\x80\x80y");
    assert_span(&lx->span[0], 1, 1, 1, 5, 0, 11);
    assert_span(&lx->span[1], 1, 7, 1, 7, 12, 13);
    /* line 3 starts with an ideographic space (one column, three bytes, reported), then y */
    assert_int_equal(lx->n, 3);
    assert_span(&lx->span[2], 3, 2, 3, 2, 25, 26);
    assert_one_diag(lx, DIAG_FULL_WIDTH_PUNCTUATION, "full-width");
    assert_span(&lx->diags.entries[0].span, 3, 1, 3, 1, 22, 25);
    lexed_free(lx);
}

static void test_string_errors(void **state)
{
    (void)state;
    lexed *lx = lex("gift \"abc\nthen");
    assert_int_equal(lx->n, 3);
    assert_int_equal(lx->kind[1], T_STRING);
    assert_string_equal(lx->node[1]->name, "abc");
    assert_int_equal(lx->kind[2], T_THEN);
    assert_one_diag(lx, DIAG_UNTERMINATED_STRING, "unterminated string");
    assert_span(&lx->diags.entries[0].span, 1, 6, 1, 9, 5, 9);
    lexed_free(lx);

    lx = lex("\"unterminated at the end");
    assert_int_equal(lx->n, 1);
    assert_one_diag(lx, DIAG_UNTERMINATED_STRING, "unterminated");
    lexed_free(lx);

    /* the bad escape is pointed at exactly: `\q` is columns 5-6 */
    lx = lex("\"\xE4\xBC\x9A"
             "ab\\qc\"");
    assert_string_equal(lx->node[0]->name, "\xE4\xBC\x9A"
                                           "abqc");
    assert_one_diag(lx, DIAG_BAD_ESCAPE, "unknown escape '\\q'");
    assert_span(&lx->diags.entries[0].span, 1, 5, 1, 6, 6, 8);
    lexed_free(lx);

    lx = lex("\"\\u{D800}\" \"\\u{110000}\" \"\\u{}\" \"\\u41\"");
    assert_int_equal(lx->n, 4);
    assert_int_equal(lx->diags.count, 4);
    for (int i = 0; i < 4; i++) assert_int_equal(lx->diags.entries[i].code, DIAG_BAD_ESCAPE);
    lexed_free(lx);

    /* invalid UTF-8 inside a string: one error at the byte, the string still comes out */
    lx = lex("\"ab\xFF\xFE"
             "c\"");
    assert_int_equal(lx->n, 1);
    assert_string_equal(lx->node[0]->name, "ab\xEF\xBF\xBD"
                                           "c");
    assert_one_diag(lx, DIAG_INVALID_UTF8, "0xFF");
    assert_span(&lx->diags.entries[0].span, 1, 4, 1, 5, 3, 5);
    lexed_free(lx);

    lx = lex("gift \xE2\x80\x9C"
             "TEA\xE2\x80\x9D");
    assert_int_equal(lx->n, 2);
    assert_int_equal(lx->kind[1], T_STRING);
    assert_string_equal(lx->node[1]->name, "TEA");
    assert_one_diag(lx, DIAG_CURLY_QUOTES, "straight quotes");
    lexed_free(lx);
}

static void test_invalid_utf8_and_garbage_runs(void **state)
{
    (void)state;
    /* a run of bad bytes is one diagnostic, pointing at the run */
    lexed *lx = lex("let \xFF\xFE\xFD x");
    assert_int_equal(lx->n, 2);
    assert_one_diag(lx, DIAG_INVALID_UTF8, "3 bytes");
    assert_span(&lx->diags.entries[0].span, 1, 5, 1, 7, 4, 7);
    lexed_free(lx);

    lx = lex("a \xC3 b");
    assert_one_diag(lx, DIAG_INVALID_UTF8, "invalid UTF-8 byte 0xC3");
    lexed_free(lx);

    lx = lex("a @@ ~ ^^ b");
    assert_int_equal(lx->n, 2);
    assert_one_diag(lx, DIAG_UNEXPECTED_CHARACTER, "'@@ ~ ^^'");
    lexed_free(lx);

    /* runs on different lines, or separated by a token, are separate */
    lx = lex("@\n@ x @");
    assert_int_equal(lx->diags.count, 3);
    lexed_free(lx);

    /* a Chinese name is reported, then read as a name so that parsing goes on */
    lx = lex("\xE8\x8C\xB6 = tea\xE8\x8C\xB6 1");
    assert_int_equal(lx->n, 4);
    assert_int_equal(lx->kind[0], T_IDENT);
    assert_int_equal(lx->kind[2], T_IDENT);
    assert_string_equal(lx->node[2]->name, "tea\xE8\x8C\xB6");
    assert_int_equal(lx->diags.count, 2);
    assert_int_equal(lx->diags.entries[0].code, DIAG_NON_ASCII_NAME);
    assert_non_null(strstr(lx->diags.entries[0].hint, "display string"));
    lexed_free(lx);

    /* other scripts are stray characters */
    lx = lex("\xED\x95\x9C x");
    assert_one_diag(lx, DIAG_UNEXPECTED_CHARACTER, "'\xED\x95\x9C'");
    assert_non_null(strstr(lx->diags.entries[0].hint, "string"));
    lexed_free(lx);

    lx = lex("# comment \xFF ok\nx");
    assert_int_equal(lx->n, 1);
    assert_one_diag(lx, DIAG_INVALID_UTF8, "comment");
    assert_span(&lx->diags.entries[0].span, 1, 11, 1, 11, 10, 11);
    lexed_free(lx);

    /* a byte order mark is accepted at the start only */
    lx = lex("\xEF\xBB\xBFlet");
    assert_int_equal(lx->n, 1);
    assert_int_equal(lx->kind[0], T_LET);
    assert_int_equal(lx->diags.count, 0);
    lexed_free(lx);
}

static void test_error_cap(void **state)
{
    (void)state;
    /* 200 separate stray characters: 25 reported, then one "too many errors", then nothing */
    char text[1000];
    size_t k = 0;
    for (int i = 0; i < 200; i++) {
        text[k++] = '@';
        text[k++] = ' ';
        text[k++] = 'x';
        text[k++] = ' ';
    }
    text[k] = '\0';
    lexed *lx = lex(text);
    assert_int_equal(lx->diags.count, PARSE_MAX_FILE_ERRORS + 1);
    assert_int_equal(lx->diags.entries[PARSE_MAX_FILE_ERRORS].code, DIAG_TOO_MANY_ERRORS);
    assert_true(lx->ps.stopped);
    lexed_free(lx);
}

static void test_operators_from_other_languages(void **state)
{
    (void)state;
    lexed *lx = lex("a == b && c || !d; e <> f");
    int want[] = { T_IDENT, T_EQ, T_IDENT, T_AND, T_IDENT, T_OR, T_NOT, T_IDENT, T_IDENT, T_NE, T_IDENT };
    assert_int_equal(lx->n, 11);
    for (int i = 0; i < 11; i++) assert_int_equal(lx->kind[i], want[i]);
    assert_int_equal(lx->diags.count, 6);
    assert_int_equal(lx->diags.entries[0].code, DIAG_WRONG_OPERATOR);
    assert_int_equal(lx->diags.entries[4].code, DIAG_STRAY_SEMICOLON);
    lexed_free(lx);

    /* full-width punctuation from a Chinese input method: reported, read as the ASCII mark */
    lx = lex("sum\xEF\xBC\x88tea\xEF\xBC\x89 \xEF\xBC\x8C 15\xEF\xBC\x85");
    int want2[] = { T_IDENT, T_LPAREN, T_IDENT, T_RPAREN, T_COMMA, T_PERCENT };
    assert_int_equal(lx->n, 6);
    for (int i = 0; i < 6; i++) assert_int_equal(lx->kind[i], want2[i]);
    assert_int_equal(lx->diags.count, 4);
    assert_int_equal(lx->diags.entries[0].code, DIAG_FULL_WIDTH_PUNCTUATION);
    assert_non_null(strstr(lx->diags.entries[0].hint, "'('"));
    /* "sum（" : the full-width parenthesis is column 4 */
    assert_int_equal(lx->diags.entries[0].span.first_column, 4);
    assert_int_equal(lx->span[2].first_column, 5);
    lexed_free(lx);
}

static void test_weekdays_and_literal_words(void **state)
{
    (void)state;
    lexed *lx = lex("monday sunday true false today weekday time items");
    int want[] = { T_DAYNAME, T_DAYNAME, T_TRUE, T_FALSE, T_TODAY, T_WEEKDAY, T_TIME_KW, T_ITEMS };
    assert_int_equal(lx->n, 8);
    for (int i = 0; i < 8; i++) assert_int_equal(lx->kind[i], want[i]);
    assert_int_equal(lx->node[0]->ival, 0);
    assert_int_equal(lx->node[1]->ival, 6);
    lexed_free(lx);
}

static void test_multiline_spans(void **state)
{
    (void)state;
    lexed *lx = lex("a\n\tbb\r\n  ccc");
    assert_int_equal(lx->n, 3);
    assert_span(&lx->span[0], 1, 1, 1, 1, 0, 1);
    assert_span(&lx->span[1], 2, 2, 2, 3, 3, 5);
    assert_span(&lx->span[2], 3, 3, 3, 5, 9, 12);
    lexed_free(lx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keywords_and_punctuation),
        cmocka_unit_test(test_keyword_after_dot_is_a_name),
        cmocka_unit_test(test_contextual_tokens),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_number_too_large),
        cmocka_unit_test(test_money),
        cmocka_unit_test(test_percent_multiplier),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_dates_and_times),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_columns_after_chinese_text),
        cmocka_unit_test(test_string_errors),
        cmocka_unit_test(test_invalid_utf8_and_garbage_runs),
        cmocka_unit_test(test_error_cap),
        cmocka_unit_test(test_operators_from_other_languages),
        cmocka_unit_test(test_weekdays_and_literal_words),
        cmocka_unit_test(test_multiline_spans),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
