/* lex_discount.c - the literals Chinese campaign briefs write and Perk reads: 折 (`95折` is 95% of
 * the price, so 5% off) and amounts with 元 (`199元`, `¥199元`, which Perk writes `¥199`).
 *
 * A 折 literal becomes a percentage node holding the percentage OFF (`8.8折` holds 12), marked
 * with sym = "折" so that the checker accepts it only where a discount is written (a 折 is never
 * a margin or a share) and the formatter and messages can show it as written. Forms that a
 * cashier would read two ways (`05折`, `95.5折`) or that take nothing or everything off (`10折`,
 * `0折`) are errors that say what to write instead. 元 gets a fix-it, never a syntax error.
 */
#include <stdio.h>
#include <string.h>

#include "lexer_support.h"

#define ZHE "\xE6\x8A\x98"
#define YUAN "\xE5\x85\x83"
#define YEN "\xC2\xA5"

/* The digits of s[0..n) before and after the point ("8.8" -> "8", "8"); false on '_'. */
static bool split_digits(const char *s, size_t n, size_t *whole, size_t *frac)
{
    const char *dot = memchr(s, '.', n);
    for (size_t i = 0; i < n; i++)
        if (s[i] == '_') return false;
    *whole = dot ? (size_t)(dot - s) : n;
    *frac = dot ? n - *whole - 1 : 0;
    return true;
}

ast_node *lex_zhe(struct parse_state *ps, const char *s, size_t n, const ast_span *sp)
{
    size_t digits = n - strlen(ZHE);
    ast_node *node = ast_new(ps->arena, AST_PERCENT, *sp);
    node->sym = ast_strdup(ps->arena, ZHE);
    node->num.mantissa = 0;
    node->num.scale = 0;
    size_t whole = 0, frac = 0;
    int w = (int)digits;
    if (!split_digits(s, digits, &whole, &frac)) {
        lex_error(ps, DIAG_INVALID_ZHE, *sp, "write one or two digits, e.g. 95" ZHE " (5% off) or 8.8" ZHE,
                  "'%.*s' is not a way to write " ZHE, w + 3, s);
        return node;
    }
    /* price in tenths of a percent of the list price: 95折 = 950, 8.8折 = 880, 9折 = 900 */
    int64_t price = -1;
    if (frac == 0 && whole == 1)
        price = (s[0] - '0') * 100;
    else if (frac == 0 && whole == 2 && s[0] != '0')
        price = ((s[0] - '0') * 10 + (s[1] - '0')) * 10;
    else if (frac == 1 && whole == 1)
        price = (s[0] - '0') * 100 + (s[2] - '0') * 10;
    if (price == 0) {
        lex_error(ps, DIAG_INVALID_ZHE, *sp, "for free goods write `100% off`, or use a gift",
                  "'%.*s' would make the goods free", w + 3, s);
        return node;
    }
    /* 10折 is ten tenths, the full price (not 10% of it); 100折 and 10.0折 the same */
    bool full = (frac == 0 && whole == 2 && memcmp(s, "10", 2) == 0) ||
                (frac == 0 && whole == 3 && memcmp(s, "100", 3) == 0) ||
                (frac == 1 && whole == 2 && memcmp(s, "10.0", 4) == 0);
    if (full) {
        lex_error(ps, DIAG_INVALID_ZHE, *sp, "for 10% off write 9" ZHE ", or 10% off",
                  "'%.*s' is the full price: it takes nothing off", w + 3, s);
        return node;
    }
    if (price < 0) {
        /* what it would mean read as a percentage of the price, to offer as the fix */
        char fix[128] = "";
        if (frac == 0 && whole == 2 && s[0] == '0') {
            snprintf(fix, sizeof fix, "write 0.%c" ZHE " (%d%% off) or %c" ZHE " (%d%% off)", s[1],
                     100 - (s[1] - '0'), s[1], 100 - 10 * (s[1] - '0'));
        } else {
            ast_decimal d;
            if (lex_decimal(ps, s, digits, sp, &d) && d.mantissa > 0) {
                /* 95.5折 and 9.55折 are both read as 95.5% of the price: 4.5% off */
                int64_t tenths_pct = d.mantissa; /* of the price, at d.scale */
                int scale = d.scale;
                if (whole == 1) scale -= 1; /* 9.55 tenths = 95.5 percent */
                while (scale > 1 && tenths_pct % 10 == 0) tenths_pct /= 10, scale--;
                if (scale == 1 && tenths_pct < 1000)
                    snprintf(fix, sizeof fix, "write the percentage off instead: %lld.%lld%% off",
                             (long long)((1000 - tenths_pct) / 10), (long long)((1000 - tenths_pct) % 10));
            }
            if (fix[0] == '\0') snprintf(fix, sizeof fix, "write the percentage off instead, e.g. 4.5%% off");
        }
        lex_error(ps, DIAG_INVALID_ZHE, *sp, fix,
                  "'%.*s' is ambiguous: " ZHE " is written with one digit (9" ZHE "), two digits (95" ZHE
                  ") or one decimal (8.8" ZHE ")",
                  w + 3, s);
        return node;
    }
    node->num.mantissa = 1000 - price; /* the percentage off, in tenths: 8.8折 -> 120 */
    node->num.scale = 1;
    return node;
}

ast_node *lex_yuan(struct parse_state *ps, const char *s, size_t n, const ast_span *sp)
{
    /* `¥199元` or `199元`: the amount is what it says; Perk writes it `¥199` */
    size_t start = 0;
    if (n >= 2 && (unsigned char)s[0] == 0xC2)
        start = 2;
    else if (n >= 3 && (unsigned char)s[0] == 0xEF)
        start = 3;
    while (start < n && (s[start] == ' ' || s[start] == '\t')) start++;
    size_t end = n - strlen(YUAN);
    while (end > start && (s[end - 1] == ' ' || s[end - 1] == '\t')) end--;
    ast_node *node = ast_new(ps->arena, AST_MONEY, *sp);
    node->sym = ast_strdup(ps->arena, YEN);
    lex_decimal(ps, s + start, end - start, sp, &node->num);
    char hint[96];
    snprintf(hint, sizeof hint, "write " YEN "%.*s", (int)(end - start > 40 ? 40 : end - start), s + start);
    if (lex_error(ps, DIAG_YUAN_SUFFIX, *sp, hint,
                  "amounts are written with the sign before them, not '" YUAN "' after") &&
        end - start <= 40)
        diag_fix(ps->diags, *sp, hint + strlen("write "));
    return node;
}
