/* money.h: exact integer money arithmetic for libperk.
 *
 * Amounts are int64 counts of a currency's minor unit (cents for USD, fen for CNY, whole yen for
 * JPY). Nothing here uses floating point. Every operation that can overflow reports it by
 * returning false and leaves its output untouched. Percentages are parts per million (ppm):
 * 15% = 150000 ppm, 12.5% = 125000 ppm. All functions are thread-safe and never allocate. */
#ifndef PERK_MONEY_H
#define PERK_MONEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How a division that does not come out even is rounded to a whole minor unit. */
/* MONEY_ROUNDING(NAME, name in rules and disassembly), in the order of the numbers the bytecode
 * stores (PROG_ROUND_*):
 *   HALF_UP   to nearest; exact halves away from zero (2.5 -> 3, -2.5 -> -3)
 *   HALF_EVEN to nearest; exact halves to the even neighbour (2.5 -> 2, 3.5 -> 4)
 *   DOWN      toward zero (2.9 -> 2, -2.9 -> -2) */
/* clang-format off: a table, aligned by hand */
#define MONEY_ROUNDING_LIST(X) X(HALF_UP, half_up) X(HALF_EVEN, half_even) X(DOWN, down)
/* clang-format on */

typedef enum {
#define MONEY_ROUNDING_ENUM(NAME, name) MONEY_ROUND_##NAME,
    MONEY_ROUNDING_LIST(MONEY_ROUNDING_ENUM)
#undef MONEY_ROUNDING_ENUM
} money_rounding;

#define MONEY_ROUNDING_ONE(NAME, name) +1
enum { MONEY_ROUNDING_COUNT = 0 MONEY_ROUNDING_LIST(MONEY_ROUNDING_ONE) };
#undef MONEY_ROUNDING_ONE

/* "half_up", "half_even", "down"; NULL for a number that is not a money_rounding. */
const char *money_rounding_name(int mode);

/* Parts per million in 100%. */
#define MONEY_PPM_ONE 1000000

/* *out = a + b. Returns false on int64 overflow (out untouched). */
bool money_add(int64_t a, int64_t b, int64_t *out);

/* *out = a - b. Returns false on int64 overflow (out untouched). */
bool money_sub(int64_t a, int64_t b, int64_t *out);

/* *out = a * b. Returns false on int64 overflow (out untouched). */
bool money_mul(int64_t a, int64_t b, int64_t *out);

/* *out = a * num / den rounded by `mode`, computed exactly (128-bit intermediate product).
 * Returns false (out untouched) if den <= 0, mode is not a money_rounding value, or the rounded
 * result does not fit in int64. */
bool money_mul_div(int64_t a, int64_t num, int64_t den, money_rounding mode, int64_t *out);

/* *out = amount * ppm / 1000000 rounded by `mode`; e.g. 15% of 1999 cents with ppm = 150000 is
 * 299.85, so 300 half-up. Same failure cases as money_mul_div. */
bool money_percent(int64_t amount, int64_t ppm, money_rounding mode, int64_t *out);

/* Splits `total` minor units over n lines in proportion to weights[], by largest remainder:
 * out[i] = floor(total * weights[i] / W) with W = sum of weights, then the units still missing go
 * one each to the lines with the largest fractional remainders, ties to the lower index.
 * Guarantees sum(out) == total and 0 <= out[i] <= weights[i].
 * Requires weights[i] >= 0, W fits in int64 and 0 <= total <= W (W == 0 only with total == 0,
 * which gives all zeros). `order` and `remainders` must have room for n entries each (workspace;
 * the function allocates nothing). n must be at most UINT32_MAX. Returns false on invalid input,
 * with out[] unspecified. Runs in O(n + k log n) where k < n is the number of leftover units. */
bool money_allocate(int64_t total, const int64_t *weights, size_t n, int64_t *out, uint32_t *order,
                    int64_t *remainders);

/* One ISO 4217 currency: code ("USD"), minor-unit digits (2), and formatting prefix ("$"). */
typedef struct {
    const char *code;
    int exponent;
    const char *symbol;
} money_currency;

/* Looks up an ISO 4217 code, exact and case-sensitive ("USD", not "usd"). NULL if unknown or if
 * code is NULL. The returned entry is static and lives forever. */
const money_currency *money_currency_find(const char *code);

/* Largest exponent money_format and money_parse_decimal accept. */
#define MONEY_MAX_EXPONENT 18

/* Formats `minor` units as [-]<symbol><integer>[.<exponent digits>], e.g. "¥268.00", "-¥1.05",
 * "¥1200" (exponent 0), "KWD 1.234" (exponent 3). symbol may be NULL (no prefix). Works for every
 * int64 including INT64_MIN. snprintf semantics: writes at most cap bytes including the NUL
 * (buf may be NULL when cap == 0) and returns the length the full text has. An exponent outside
 * 0..MONEY_MAX_EXPONENT is a caller bug: the output is then the empty string and 0 is returned. */
size_t money_format(int64_t minor, int exponent, const char *symbol, char *buf, size_t cap);

/* Outcome of parsing a decimal number. */
typedef enum {
    MONEY_PARSE_OK = 0,
    MONEY_PARSE_SYNTAX,      /* not of the form -?[0-9]+(\.[0-9]+)? (or exponent out of range) */
    MONEY_PARSE_TOO_PRECISE, /* more nonzero fractional digits than the currency has */
    MONEY_PARSE_RANGE        /* the amount does not fit in int64 minor units */
} money_parse_status;

/* Parses text[0..len) (no NUL needed) such as "12.5", "12.50", "-3", "0.05" into minor units
 * for `exponent` (0..MONEY_MAX_EXPONENT): "12.5" with exponent 2 is 1250. The whole text must be
 * -?[0-9]+(\.[0-9]+)?: no '+', spaces, exponents, hex, or bare "." / "5." / ".5". Fractional
 * digits beyond `exponent` are allowed only if they are zeros ("1.230" is fine for exponent 2,
 * "1.234" is TOO_PRECISE). *out is written only on MONEY_PARSE_OK. */
money_parse_status money_parse_decimal(const char *text, size_t len, int exponent, int64_t *out);

/* Parses a percentage number ("12.5" meaning 12.5%) into parts per million (125000), with at
 * most 4 significant fractional digits ("0.0001" = 1 ppm). Same syntax as money_parse_decimal;
 * negative values are accepted, range checks such as 0..100% are left to the caller. */
money_parse_status money_parse_ppm(const char *text, size_t len, int64_t *out);

#endif
