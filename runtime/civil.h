/* civil.h: proleptic Gregorian calendar arithmetic and RFC 3339 timestamp parsing for libperk.
 *
 * Pure integer math: no libc time functions, no TZ environment, no global state, so every
 * function is thread-safe. Day numbers count days since 1970-01-01 (day 0; negative before). */
#ifndef PERK_CIVIL_H
#define PERK_CIVIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Day numbers civil_date_from_days supports: from -1000000000-01-01 to 1000000000-12-31
 * (astronomical year numbering: year 0 is 1 BCE). Day numbers outside this range are clamped. */
#define CIVIL_MIN_DAYS INT64_C(-365243219528)
#define CIVIL_MAX_DAYS INT64_C(365241780837)

/* True if y-m-d is a real date in the proleptic Gregorian calendar (any int year; year 0 exists
 * and is a leap year, as in ISO 8601). */
bool civil_valid_date(int y, int m, int d);

/* True if y is a Gregorian leap year. */
bool civil_is_leap_year(int y);

/* Days in month m (1..12) of year y; 0 if m is out of range. */
int civil_days_in_month(int y, int m);

/* Days since 1970-01-01 of the date y-m-d. Defined for every valid date (any int year); for an
 * invalid date the result is meaningless but computing it is still safe. */
int64_t civil_days_from_date(int y, int m, int d);

/* Inverse of civil_days_from_date. `days` is clamped to [CIVIL_MIN_DAYS, CIVIL_MAX_DAYS]. */
void civil_date_from_days(int64_t days, int *y, int *m, int *d);

/* Day of the week of a day number: 0 = Monday ... 6 = Sunday (ISO 8601 order minus one). */
int civil_weekday(int64_t days);

/* The days of the week in civil_weekday's order, listed once: CIVIL_WEEKDAY(name, short name).
 * The names are the rule language's words (its keywords in grammar/lexer.l, checked by
 * scripts/check-fuzz-dict.sh against the fuzz dictionary); disassembly prints the short names. */
/* clang-format off: a table, aligned by hand */
#define CIVIL_WEEKDAY_LIST(X) \
    X(monday, mon)            \
    X(tuesday, tue) X(wednesday, wed) X(thursday, thu) X(friday, fri) X(saturday, sat) X(sunday, sun)
/* clang-format on */

/* Parses an RFC 3339 timestamp with an explicit UTC offset and stores its UTC epoch seconds:
 *   YYYY-MM-DDTHH:MM[:SS[.fraction]](Z|+HH:MM|-HH:MM)
 * e.g. "2026-03-04T10:00:00+08:00", "2026-03-04T02:00:00Z", "2026-03-04T10:00+08:00".
 * 'T' and 'Z' may be lowercase. Fractional seconds ('.' or ',' and at least one digit) are
 * ignored (truncated). Seconds may be 60 (a leap second, counted as the next minute's :00).
 * The text must be exactly s[0..len): anything else (missing offset, spaces, out-of-range
 * fields, invalid dates) returns false and leaves *epoch_seconds untouched. */
bool civil_parse_timestamp(const char *s, size_t len, int64_t *epoch_seconds);

#endif
