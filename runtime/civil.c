/* civil.c: proleptic Gregorian date arithmetic and RFC 3339 timestamp parsing (see civil.h).
 *
 * The calendar math treats March 1 as the first day of a "computational year", so the leap day
 * is the last day of the year and month lengths from March on follow a fixed 5-month pattern
 * (31 30 31 30 31). Years then group into 400-year eras of exactly 146097 days. */
#include "civil.h"

/* Days from 0000-03-01 (start of era 0) to 1970-01-01. */
#define DAYS_0000_03_01_TO_EPOCH 719468
#define DAYS_PER_ERA 146097 /* 400 * 365 + 97 leap days */

/* Floor division and modulo for a positive divisor (C's / and % truncate toward zero). */
static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b < 0) ? q - 1 : q;
}

static int64_t floor_mod(int64_t a, int64_t b)
{
    int64_t r = a % b;
    return r < 0 ? r + b : r;
}

bool civil_is_leap_year(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int civil_days_in_month(int y, int m)
{
    static const int lengths[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (m < 1 || m > 12) return 0;
    return (m == 2 && civil_is_leap_year(y)) ? 29 : lengths[m - 1];
}

bool civil_valid_date(int y, int m, int d)
{
    return m >= 1 && m <= 12 && d >= 1 && d <= civil_days_in_month(y, m);
}

/* Day of the computational year (0 = March 1) on which month m starts, for shifted month
 * mp = 0 (March) .. 11 (February). The five-month cycle 31 30 31 30 31 has 153 days, so the
 * start is (153 * mp + 2) / 5: 0, 31, 61, 92, 122, 153, 184, 214, 245, 275, 306, 337. */
static int64_t month_start_in_march_year(int64_t mp) { return (153 * mp + 2) / 5; }

int64_t civil_days_from_date(int y, int m, int d)
{
    /* int64 throughout: any int y, m, d stays far from overflow. */
    int64_t year = (int64_t)y - (m <= 2 ? 1 : 0); /* Jan and Feb belong to the previous year */
    int64_t mp = m > 2 ? (int64_t)m - 3 : (int64_t)m + 9;
    int64_t era = floor_div(year, 400);
    int64_t year_of_era = year - era * 400;                               /* 0..399 */
    int64_t day_of_year = month_start_in_march_year(mp) + (int64_t)d - 1; /* 0..365 */
    /* A leap day ends every 4th computational year except every 100th, except every 400th. */
    int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return era * DAYS_PER_ERA + day_of_era - DAYS_0000_03_01_TO_EPOCH;
}

void civil_date_from_days(int64_t days, int *y, int *m, int *d)
{
    if (days < CIVIL_MIN_DAYS) days = CIVIL_MIN_DAYS;
    if (days > CIVIL_MAX_DAYS) days = CIVIL_MAX_DAYS;
    int64_t shifted = days + DAYS_0000_03_01_TO_EPOCH;
    int64_t era = floor_div(shifted, DAYS_PER_ERA);
    int64_t day_of_era = shifted - era * DAYS_PER_ERA; /* 0..146096 */
    /* Year of era = number of whole 365-day years after removing the leap days that precede
     * day_of_era: one per 1461 days (4 years), minus one per 36524 days (100 years), plus one
     * back at 146096 (the era's final leap day, which belongs to year 399). */
    int64_t year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
    int64_t day_of_year = day_of_era - (year_of_era * 365 + year_of_era / 4 - year_of_era / 100); /* 0..365 */
    /* Inverse of month_start_in_march_year: the largest mp whose start is <= day_of_year. */
    int64_t mp = (5 * day_of_year + 2) / 153;
    int64_t day = day_of_year - month_start_in_march_year(mp) + 1;
    int64_t month = mp < 10 ? mp + 3 : mp - 9;
    int64_t year = era * 400 + year_of_era + (month <= 2 ? 1 : 0);
    *y = (int)year; /* within +-1e9 thanks to the clamp */
    *m = (int)month;
    *d = (int)day;
}

int civil_weekday(int64_t days)
{
    /* 1970-01-01 was a Thursday (3 with Monday = 0). */
    return (int)((floor_mod(days, 7) + 3) % 7);
}

/* --- RFC 3339 timestamps ---------------------------------------------------------------------- */

/* Reads exactly `count` decimal digits at s[*pos] into *value. */
static bool read_digits(const char *s, size_t len, size_t *pos, int count, int *value)
{
    int v = 0;
    for (int k = 0; k < count; k++) {
        if (*pos >= len || s[*pos] < '0' || s[*pos] > '9') return false;
        v = v * 10 + (s[*pos] - '0');
        (*pos)++;
    }
    *value = v;
    return true;
}

/* Consumes the character c (or its alternative alt) at s[*pos]. */
static bool read_char(const char *s, size_t len, size_t *pos, char c, char alt)
{
    if (*pos >= len || (s[*pos] != c && s[*pos] != alt)) return false;
    (*pos)++;
    return true;
}

bool civil_parse_timestamp(const char *s, size_t len, int64_t *epoch_seconds)
{
    if (s == NULL) return false;
    size_t pos = 0;
    int year, month, day, hour, minute, second = 0;
    if (!read_digits(s, len, &pos, 4, &year) || !read_char(s, len, &pos, '-', '-') ||
        !read_digits(s, len, &pos, 2, &month) || !read_char(s, len, &pos, '-', '-') ||
        !read_digits(s, len, &pos, 2, &day) || !read_char(s, len, &pos, 'T', 't') ||
        !read_digits(s, len, &pos, 2, &hour) || !read_char(s, len, &pos, ':', ':') ||
        !read_digits(s, len, &pos, 2, &minute))
        return false;
    if (pos < len && s[pos] == ':') {
        pos++;
        if (!read_digits(s, len, &pos, 2, &second)) return false;
        if (pos < len && (s[pos] == '.' || s[pos] == ',')) {
            pos++;
            size_t start = pos;
            while (pos < len && s[pos] >= '0' && s[pos] <= '9') pos++;
            if (pos == start) return false;
        }
    }
    if (!civil_valid_date(year, month, day) || hour > 23 || minute > 59 || second > 60) return false;

    int offset_seconds;
    if (pos < len && (s[pos] == 'Z' || s[pos] == 'z')) {
        pos++;
        offset_seconds = 0;
    } else if (pos < len && (s[pos] == '+' || s[pos] == '-')) {
        int sign = s[pos] == '-' ? -1 : 1;
        int off_hour, off_minute;
        pos++;
        if (!read_digits(s, len, &pos, 2, &off_hour) || !read_char(s, len, &pos, ':', ':') ||
            !read_digits(s, len, &pos, 2, &off_minute) || off_hour > 23 || off_minute > 59)
            return false;
        offset_seconds = sign * (off_hour * 3600 + off_minute * 60);
    } else {
        return false; /* an offset is required */
    }
    if (pos != len) return false;

    int64_t local = civil_days_from_date(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
    *epoch_seconds = local - offset_seconds;
    return true;
}
