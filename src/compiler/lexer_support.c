/* lexer_support.c - the C behind the flex rules of grammar/lexer.l (see lexer_support.h): spans
 * in lines, code-point columns and byte offsets; numbers, money, dates, times and strings turned
 * into AST nodes; lexical errors (runs of stray characters, full-width punctuation, bad escapes)
 * reported once each; comments recorded for the formatter.
 */
#include "lexer_support.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "civil.h"
#include "parser.h"

void *perk_lex_alloc(size_t size, void *scanner)
{
    (void)scanner;
    return malloc(size);
}

void *perk_lex_realloc(void *ptr, size_t size, void *scanner)
{
    (void)scanner;
    return realloc(ptr, size);
}

void perk_lex_free(void *ptr, void *scanner)
{
    (void)scanner;
    free(ptr);
}

/* Fills *sp for the n bytes at the current position and moves past them. Columns count code
 * points; a byte that is not valid UTF-8 counts as one column. */
void lex_advance(struct parse_state *ps, const char *s, size_t n, ast_span *sp)
{
    sp->file = ps->file;
    sp->first_line = sp->last_line = ps->line;
    sp->first_column = sp->last_column = ps->column;
    sp->first_offset = (int)ps->offset;
    size_t i = 0;
    while (i < n) {
        sp->last_line = ps->line;
        sp->last_column = ps->column;
        if (s[i] == '\n') {
            ps->line++;
            ps->column = 1;
            i++;
            continue;
        }
        unsigned cp;
        int len = source_utf8_decode(s + i, n - i, &cp);
        i += len ? (size_t)len : 1;
        ps->column++;
    }
    ps->offset += n;
    sp->last_offset = (int)ps->offset;
}

/* Reports a pending run of unexpected characters as one diagnostic. */
static void garbage_flush(struct parse_state *ps)
{
    if (!ps->garbage) return;
    ps->garbage = false;
    ast_span sp = ps->garbage_span;
    const char *s = ps->text + sp.first_offset;
    size_t n = (size_t)(sp.last_offset - sp.first_offset);
    if (!parse_count_error(ps, sp)) return;
    if (ps->garbage_invalid) {
        if (n == 1)
            diag_report(ps->diags, DIAG_INVALID_UTF8, sp,
                        "Perk rule files are UTF-8 text; if the file was saved as GBK or another "
                        "encoding, convert it (e.g. iconv -f GBK -t UTF-8)",
                        "invalid UTF-8 byte 0x%02X", (unsigned char)s[0]);
        else
            diag_report(ps->diags, DIAG_INVALID_UTF8, sp,
                        "Perk rule files are UTF-8 text; if the file was saved as GBK or another "
                        "encoding, convert it (e.g. iconv -f GBK -t UTF-8)",
                        "%zu bytes that are not valid UTF-8 text (starting with 0x%02X)", n,
                        (unsigned char)s[0]);
        return;
    }
    unsigned cp = 0;
    int len = source_utf8_decode(s, n, &cp);
    if (len <= 0) len = 1;
    if ((size_t)len == n) {
        const char *hint = NULL;
        if (cp == '%')
            hint = "write the percent sign right after the number, e.g. 15%";
        else if (cp == '\'')
            hint = "strings are written in double quotes, e.g. \"spring\"";
        else if (cp == 0x201C || cp == 0x201D || cp == 0x2018 || cp == 0x2019)
            hint = "strings are written in straight double quotes, e.g. "
                   "\"\xE4\xBC\x9A\xE5\x91\x98\xE6\x97\xA5\"";
        else if (cp == '&')
            hint = "write 'and'";
        else if (cp == '|')
            hint = "write 'or'";
        else if (cp == 0xFEFF)
            hint = "remove the invisible byte order mark (U+FEFF)";
        else if (cp >= 0x2E80)
            hint = "names are ASCII letters, digits and '_'; Chinese text belongs in a string, "
                   "e.g. \"\xE4\xBC\x9A\xE5\x91\x98\xE6\x97\xA5\"";
        if (cp < 0x20 || cp == 0x7F || cp == 0xFEFF)
            diag_report(ps->diags, DIAG_UNEXPECTED_CHARACTER, sp, hint,
                        "unexpected invisible character U+%04X", cp);
        else
            diag_report(ps->diags, DIAG_UNEXPECTED_CHARACTER, sp, hint, "unexpected character '%.*s'", len,
                        s);
        return;
    }
    /* Several: quote the first few printable characters. */
    char shown[64];
    size_t k = 0, i = 0;
    bool cut = false;
    while (i < n) {
        unsigned c;
        int l = source_utf8_decode(s + i, n - i, &c);
        if (l <= 0) l = 1;
        if (k + (size_t)l + 1 > 40) {
            cut = true;
            break;
        }
        if (c < 0x20 || c == 0x7F) {
            if (c == ' ' || c == '\t')
                shown[k++] = ' ';
            else
                shown[k++] = '?';
        } else {
            memcpy(shown + k, s + i, (size_t)l);
            k += (size_t)l;
        }
        i += (size_t)l;
    }
    shown[k] = '\0';
    diag_report(ps->diags, DIAG_UNEXPECTED_CHARACTER, sp,
                "names are ASCII letters, digits and '_'; text belongs in double quotes",
                "unexpected characters '%s%s'", shown, cut ? "..." : "");
}

void lex_garbage_add(struct parse_state *ps, const ast_span *sp, bool invalid)
{
    if (ps->garbage && sp->first_line == ps->garbage_span.last_line) {
        ps->garbage_span.last_line = sp->last_line;
        ps->garbage_span.last_column = sp->last_column;
        ps->garbage_span.last_offset = sp->last_offset;
        ps->garbage_bytes += sp->last_offset - sp->first_offset;
        ps->garbage_invalid |= invalid;
        return;
    }
    garbage_flush(ps);
    ps->garbage = true;
    ps->garbage_span = *sp;
    ps->garbage_bytes = sp->last_offset - sp->first_offset;
    ps->garbage_invalid = invalid;
}

int lex_return(struct parse_state *ps, int tok, const ast_span *sp)
{
    garbage_flush(ps);
    if (ps->stopped) tok = T_EOF;
    ps->after_dot = tok == T_DOT;
    if (ps->layout && tok != T_EOF) parse_layout_token(ps->layout, tok, sp);
    return tok;
}

bool lex_error(struct parse_state *ps, diag_code code, ast_span span, const char *hint, const char *fmt, ...)
{
    garbage_flush(ps);
    if (!parse_count_error(ps, span)) return false;
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    diag_report(ps->diags, code, span, hint, "%s", buf);
    return true;
}

void lex_wrong_operator(struct parse_state *ps, const ast_span *sp, const char *instead, const char *hint)
{
    int n = sp->last_offset - sp->first_offset;
    if (!lex_error(ps, DIAG_WRONG_OPERATOR, *sp, hint, "'%.*s' is written '%s' in Perk", n,
                   ps->text + sp->first_offset, instead))
        return;
    /* a word needs a space on each side (`a&&b` -> `a and b`), a symbol does not */
    bool word = instead[0] >= 'a' && instead[0] <= 'z';
    size_t at = (size_t)sp->first_offset, end = (size_t)sp->last_offset;
    bool before = word && at > 0 && lex_ident_char_at(ps, at - 1);
    bool after = word && end < ps->len && ps->text[end] != ' ' && ps->text[end] != '\t' && ps->text[end] != '\n';
    char fix[16];
    snprintf(fix, sizeof fix, "%s%s%s", before ? " " : "", instead, after ? " " : "");
    diag_fix(ps->diags, *sp, fix);
}

void lex_semicolon(struct parse_state *ps, const ast_span *sp)
{
    if (lex_error(ps, DIAG_STRAY_SEMICOLON, *sp, "clauses end where the next keyword starts; remove the ';'",
                  "Perk needs no ';'"))
        diag_fix(ps->diags, *sp, "");
}

void lex_full_width(struct parse_state *ps, const ast_span *sp, const char *ascii)
{
    char hint[160];
    if (ascii[0] == ' ')
        snprintf(hint, sizeof hint, "use an ordinary space (switch the input method to half-width)");
    else
        snprintf(hint, sizeof hint, "use the ASCII '%s' (switch the input method to half-width)", ascii);
    if (lex_error(ps, DIAG_FULL_WIDTH_PUNCTUATION, *sp, hint, "full-width '%.*s' is not allowed here",
                  sp->last_offset - sp->first_offset, ps->text + sp->first_offset))
        diag_fix(ps->diags, *sp, strcmp(ascii, ";") == 0 ? "" : ascii); /* ';' is an error too */
}

ast_node *lex_name(struct parse_state *ps, const char *s, int n, const ast_span *sp)
{
    ast_node *node = ast_new(ps->arena, AST_NAME, *sp);
    node->name = ast_strndup(ps->arena, s, (size_t)n);
    return node;
}

size_t lex_digits_prefix(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && ((s[i] >= '0' && s[i] <= '9') || s[i] == '_')) i++;
    return i;
}

bool lex_ident_char_at(const struct parse_state *ps, size_t pos)
{
    if (pos >= ps->len) return false;
    char c = ps->text[pos];
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

size_t lex_skip_space(const struct parse_state *ps, size_t pos)
{
    while (pos < ps->len &&
           (ps->text[pos] == ' ' || ps->text[pos] == '\t' || ps->text[pos] == '\r' || ps->text[pos] == '\n'))
        pos++;
    return pos;
}

/* A span for bytes [from, to) of a token that lies on one line. */
static ast_span sub_span(const ast_span *tok, const char *s, size_t from, size_t to)
{
    ast_span sp = *tok;
    int col = tok->first_column;
    size_t i = 0;
    while (i < from) {
        unsigned cp;
        int l = source_utf8_decode(s + i, from - i, &cp);
        i += l ? (size_t)l : 1;
        col++;
    }
    sp.first_column = col;
    sp.first_line = sp.last_line = tok->first_line;
    int count = 0;
    while (i < to) {
        unsigned cp;
        int l = source_utf8_decode(s + i, to - i, &cp);
        i += l ? (size_t)l : 1;
        count++;
    }
    sp.last_column = col + (count ? count - 1 : 0);
    sp.first_offset = tok->first_offset + (int)from;
    sp.last_offset = tok->first_offset + (int)to;
    return sp;
}

/* Digits with optional '_' separators and one '.', into an exact decimal. */
bool lex_decimal(struct parse_state *ps, const char *s, size_t n, const ast_span *sp, ast_decimal *out)
{
    int64_t m = 0;
    int scale = 0;
    bool frac = false, overflow = false, bad = false;
    char prev = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '_') {
            if (!(prev >= '0' && prev <= '9') || i + 1 >= n || !(s[i + 1] >= '0' && s[i + 1] <= '9'))
                bad = true;
        } else if (c == '.') {
            frac = true;
        } else if (c >= '0' && c <= '9') {
            if (!overflow && (__builtin_mul_overflow(m, 10, &m) || __builtin_add_overflow(m, c - '0', &m)))
                overflow = true;
            if (frac) scale++;
        }
        prev = c;
    }
    out->mantissa = 0;
    out->scale = 0;
    if (overflow) {
        lex_error(ps, DIAG_NUMBER_TOO_LARGE, *sp,
                  "amounts and counts must stay below 9223372036854775807 in their smallest unit",
                  "number too large: '%.*s'", (int)(n > 40 ? 40 : n), s);
        return false;
    }
    if (bad)
        lex_error(ps, DIAG_MALFORMED_NUMBER, *sp, "'_' may only separate digits, e.g. 1_000",
                  "misplaced '_' in the number '%.*s'", (int)(n > 40 ? 40 : n), s);
    out->mantissa = m;
    out->scale = scale;
    return true;
}

ast_node *lex_number(struct parse_state *ps, const char *s, size_t n, const ast_span *sp)
{
    bool dec = memchr(s, '.', n) != NULL;
    ast_node *node = ast_new(ps->arena, dec ? AST_DECIMAL : AST_INT, *sp);
    lex_decimal(ps, s, n, sp, &node->num);
    return node;
}

ast_node *lex_date(struct parse_state *ps, const char *s, size_t n, const ast_span *sp)
{
    static const char *const months[] = { "January",   "February", "March",    "April",
                                          "May",       "June",     "July",     "August",
                                          "September", "October",  "November", "December" };
    int y = 0, m = 0, d = 0;
    size_t i = 0;
    while (i < n && s[i] != '-') y = y * 10 + (s[i++] - '0');
    i++;
    while (i < n && s[i] != '-') m = m * 10 + (s[i++] - '0');
    i++;
    while (i < n) d = d * 10 + (s[i++] - '0');
    const char *hint = "write dates as YYYY-MM-DD, e.g. 2026-03-01";
    if (n != 10) {
        lex_error(ps, DIAG_INVALID_DATE, *sp, hint,
                  "'%.*s' is not a valid date: months and days take two digits", (int)n, s);
    } else if (y < 1970) {
        lex_error(ps, DIAG_INVALID_DATE, *sp, NULL, "invalid date %.*s: dates start in 1970", (int)n, s);
        y = 1970;
    } else if (m < 1 || m > 12) {
        lex_error(ps, DIAG_INVALID_DATE, *sp, hint, "invalid date %.*s: there is no month %d", (int)n, s, m);
    } else if (d < 1 || d > civil_days_in_month(y, m)) {
        lex_error(ps, DIAG_INVALID_DATE, *sp, NULL, "invalid date %.*s: %s %d has %d days", (int)n, s,
                  months[m - 1], y, civil_days_in_month(y, m));
    }
    /* Clamp so that later checks see a plausible date rather than a second error. */
    if (y < 1970) y = 1970;
    if (m < 1) m = 1;
    if (m > 12) m = 12;
    if (d < 1) d = 1;
    if (d > civil_days_in_month(y, m)) d = civil_days_in_month(y, m);
    ast_node *node = ast_new(ps->arena, AST_DATE, *sp);
    node->ival = civil_days_from_date(y, m, d);
    return node;
}

ast_node *lex_time(struct parse_state *ps, const char *s, const ast_span *sp)
{
    int h = 0, m = 0;
    const char *p = s;
    while (*p != ':') h = h * 10 + (*p++ - '0');
    p++;
    m = (p[0] - '0') * 10 + (p[1] - '0');
    int n = (int)(p + 2 - s);
    const char *hint = "times of day run from 00:00 to 23:59; 24:00 may end an `hours` range";
    if (h > 24 || (h == 24 && m != 0)) {
        lex_error(ps, DIAG_INVALID_TIME, *sp, hint, "invalid time %.*s: hours go from 00 to 24", n, s);
        h = 24;
        m = 0;
    } else if (m > 59) {
        lex_error(ps, DIAG_INVALID_TIME, *sp, hint, "invalid time %.*s: minutes go from 00 to 59", n, s);
        m = 59;
    }
    ast_node *node = ast_new(ps->arena, AST_TIME, *sp);
    node->ival = h * 60 + m;
    return node;
}

ast_node *lex_datetime(struct parse_state *ps, const char *s, size_t n, const ast_span *sp)
{
    size_t date_len = 0;
    while (date_len < n && s[date_len] != ' ' && s[date_len] != '\t') date_len++;
    ast_node *node = lex_date(ps, s, date_len, sp);
    size_t i = date_len;
    while (i < n && (s[i] == ' ' || s[i] == '\t')) i++;
    const char *t = s + i;
    int part[3] = { 0, 0, 0 }, parts = 0;
    for (size_t k = i; k < n && parts < 3; k++) {
        if (s[k] == ':')
            parts++;
        else
            part[parts] = part[parts] * 10 + (s[k] - '0');
    }
    int tn = (int)(n - i);
    const char *hint = "a time of day in a date runs from 00:00:00 to 23:59:59; the next day starts at 00:00";
    if (part[0] > 23) {
        lex_error(ps, DIAG_INVALID_TIME, *sp, hint, "invalid time %.*s: hours go from 00 to 23", tn, t);
        part[0] = 23;
    }
    if (part[1] > 59) {
        lex_error(ps, DIAG_INVALID_TIME, *sp, hint, "invalid time %.*s: minutes go from 00 to 59", tn, t);
        part[1] = 59;
    }
    if (part[2] > 59) {
        lex_error(ps, DIAG_INVALID_TIME, *sp, hint, "invalid time %.*s: seconds go from 00 to 59", tn, t);
        part[2] = 59;
    }
    node->op = 1 + part[0] * 3600 + part[1] * 60 + part[2];
    return node;
}

static void put_utf8(char *out, size_t *k, unsigned cp)
{
    if (cp < 0x80) {
        out[(*k)++] = (char)cp;
    } else if (cp < 0x800) {
        out[(*k)++] = (char)(0xC0 | (cp >> 6));
        out[(*k)++] = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out[(*k)++] = (char)(0xE0 | (cp >> 12));
        out[(*k)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[(*k)++] = (char)(0x80 | (cp & 0x3F));
    } else {
        out[(*k)++] = (char)(0xF0 | (cp >> 18));
        out[(*k)++] = (char)(0x80 | ((cp >> 12) & 0x3F));
        out[(*k)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[(*k)++] = (char)(0x80 | (cp & 0x3F));
    }
}

/* Resolves escapes and checks UTF-8; reports each problem at its own position. */
ast_node *lex_string(struct parse_state *ps, const char *s, size_t n, const ast_span *sp, int kind)
{
    size_t open = kind == STRING_CURLY ? 3 : 1;
    size_t end = n;
    if (kind == STRING_CURLY)
        end = n - 3;
    else if (kind == STRING_PLAIN)
        end = n - 1;
    else {
        while (end > open && (s[end - 1] == '\r' || s[end - 1] == '\\')) end--;
    }
    if (kind == STRING_UNTERMINATED) {
        /* the quote goes at the end of the line, unless a backslash there would escape it */
        bool reported = lex_error(ps, DIAG_UNTERMINATED_STRING, *sp,
                                  "a string ends on the line where it starts; add the closing '\"'",
                                  "unterminated string");
        size_t text_end = n;
        while (text_end > open && s[text_end - 1] == '\r') text_end--;
        if (reported && (text_end == open || s[text_end - 1] != '\\'))
            diag_fix(ps->diags, diag_span_at(sp->file, sp->first_offset + (int)text_end), "\"");
    } else if (kind == STRING_CURLY) {
        bool reported = lex_error(ps, DIAG_CURLY_QUOTES, *sp, "use straight double quotes: \"...\"",
                                  "strings are written in straight quotes, not curly ones");
        /* straight quotes around text holding a '"' or a '\\' would read it differently */
        bool plain = memchr(s + open, '"', end - open) == NULL && memchr(s + open, '\\', end - open) == NULL;
        if (reported && plain && n >= 6) {
            ast_span q = *sp;
            q.last_offset = q.first_offset + 3;
            diag_fix(ps->diags, q, "\"");
            q.first_offset = sp->last_offset - 3;
            q.last_offset = sp->last_offset;
            diag_fix(ps->diags, q, "\"");
        }
    }
    /* An invalid byte becomes a 3-byte U+FFFD; everything else shrinks or keeps its size. */
    char *out = malloc((end - open) * 3 + 1);
    if (!out) {
        fputs("perk: out of memory\n", stderr);
        abort();
    }
    size_t k = 0, i = open;
    bool utf8_reported = false;
    while (i < end) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\\' && kind != STRING_CURLY && i + 1 < end) {
            char e = s[i + 1];
            if (e == '"' || e == '\\') {
                out[k++] = e;
                i += 2;
                continue;
            }
            if (e == 'n') {
                out[k++] = '\n';
                i += 2;
                continue;
            }
            if (e == 't') {
                out[k++] = '\t';
                i += 2;
                continue;
            }
            if (e == 'u') {
                size_t j = i + 2;
                unsigned cp = 0;
                int nd = 0;
                bool ok = j < end && s[j] == '{';
                if (ok) {
                    j++;
                    while (j < end && nd < 7 &&
                           ((s[j] >= '0' && s[j] <= '9') || (s[j] >= 'a' && s[j] <= 'f') ||
                            (s[j] >= 'A' && s[j] <= 'F'))) {
                        cp = cp * 16 + (unsigned)(s[j] <= '9' ? s[j] - '0' : (s[j] | 0x20) - 'a' + 10);
                        nd++;
                        j++;
                    }
                    ok = j < end && s[j] == '}' && nd >= 1 && nd <= 6;
                }
                if (ok && (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0)) {
                    lex_error(ps, DIAG_BAD_ESCAPE, sub_span(sp, s, i, j + 1), NULL,
                              "\\u{%.*s} is not a Unicode character", (int)(j - i - 3), s + i + 3);
                    i = j + 1;
                    continue;
                }
                if (!ok) {
                    size_t stop = j < end && s[j] == '}' ? j + 1 : j;
                    if (stop <= i + 1) stop = i + 2;
                    lex_error(ps, DIAG_BAD_ESCAPE, sub_span(sp, s, i, stop),
                              "write a code point as \\u{4F1A}: 1 to 6 hex digits in braces",
                              "malformed \\u escape");
                    i = stop;
                    continue;
                }
                put_utf8(out, &k, cp);
                i = j + 1;
                continue;
            }
            unsigned ecp;
            int el = source_utf8_decode(s + i + 1, end - i - 1, &ecp);
            if (el <= 0) el = 1;
            lex_error(ps, DIAG_BAD_ESCAPE, sub_span(sp, s, i, i + 1 + (size_t)el),
                      "the escapes are \\\" \\\\ \\n \\t and \\u{4F1A}; write \\\\ for a backslash",
                      "unknown escape '\\%.*s'", el, s + i + 1);
            memcpy(out + k, s + i + 1, (size_t)el);
            k += (size_t)el;
            i += 1 + (size_t)el;
            continue;
        }
        if (c < 0x80) {
            out[k++] = (char)c;
            i++;
            continue;
        }
        unsigned cp;
        int l = source_utf8_decode(s + i, end - i, &cp);
        if (l > 0) {
            memcpy(out + k, s + i, (size_t)l);
            k += (size_t)l;
            i += (size_t)l;
            continue;
        }
        size_t j = i + 1;
        while (j < end && (unsigned char)s[j] >= 0x80 && source_utf8_decode(s + j, end - j, &cp) == 0) j++;
        if (!utf8_reported) {
            lex_error(ps, DIAG_INVALID_UTF8, sub_span(sp, s, i, j),
                      "Perk rule files are UTF-8 text; if the file was saved as GBK or another "
                      "encoding, convert it (e.g. iconv -f GBK -t UTF-8)",
                      "invalid UTF-8 in a string (byte 0x%02X)", c);
            utf8_reported = true;
        }
        put_utf8(out, &k, 0xFFFD);
        i = j;
    }
    ast_node *node = ast_new(ps->arena, AST_STRING, *sp);
    node->name = ast_strndup(ps->arena, out, k);
    free(out);
    return node;
}

/* Comments may hold any text, but it must be UTF-8. */
void lex_comment(struct parse_state *ps, const char *s, size_t n, const ast_span *sp)
{
    if (ps->layout) parse_layout_comment(ps->layout, sp);
    size_t i = 0;
    while (i < n) {
        unsigned cp;
        if ((unsigned char)s[i] < 0x80) {
            i++;
            continue;
        }
        int l = source_utf8_decode(s + i, n - i, &cp);
        if (l > 0) {
            i += (size_t)l;
            continue;
        }
        size_t j = i + 1;
        while (j < n && (unsigned char)s[j] >= 0x80 && source_utf8_decode(s + j, n - j, &cp) == 0) j++;
        lex_error(ps, DIAG_INVALID_UTF8, sub_span(sp, s, i, j),
                  "Perk rule files are UTF-8 text; if the file was saved as GBK or another "
                  "encoding, convert it (e.g. iconv -f GBK -t UTF-8)",
                  "invalid UTF-8 in a comment (byte 0x%02X)", (unsigned char)s[i]);
        return; /* one report per comment is enough */
    }
}
