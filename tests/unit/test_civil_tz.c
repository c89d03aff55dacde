/* test_civil_tz.c: cmocka tests for runtime/civil.c (Gregorian day numbers, weekdays,
 * RFC 3339 timestamps), runtime/tz.c (offset lookup over transition tables) and src/compiler/tzload.c
 * (TZif loading from the system zoneinfo, POSIX TZ footer rules, and robustness against
 * corrupted or truncated files). Epoch values in comments were checked with Python's datetime
 * and zoneinfo. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "civil.h"
#include "tz.h"
#include "compiler/tzload.h"

/* --- civil: day numbers ---------------------------------------------------------------------- */

/* Independent reference: count days one year and one month at a time from 1970-01-01. */
static int64_t naive_days(int y, int m, int d)
{
    int64_t days = 0;
    for (int year = 1970; year < y; year++) days += civil_is_leap_year(year) ? 366 : 365;
    for (int year = y; year < 1970; year++) days -= civil_is_leap_year(year) ? 366 : 365;
    for (int month = 1; month < m; month++) days += civil_days_in_month(y, month);
    return days + d - 1;
}

static void test_civil_known_dates(void **state)
{
    (void)state;
    assert_int_equal(civil_days_from_date(1970, 1, 1), 0);
    assert_int_equal(civil_days_from_date(1969, 12, 31), -1);
    assert_int_equal(civil_days_from_date(2000, 3, 1), 11017);
    assert_int_equal(civil_days_from_date(2026, 3, 8), 20520);
    assert_int_equal(civil_days_from_date(1, 1, 1), -719162);
    assert_int_equal(civil_days_from_date(0, 3, 1), -719468); /* start of the 400-year era 0 */
    assert_int_equal(civil_days_from_date(-1000000000, 1, 1), CIVIL_MIN_DAYS);
    assert_int_equal(civil_days_from_date(1000000000, 12, 31), CIVIL_MAX_DAYS);

    int y, m, d;
    civil_date_from_days(20520, &y, &m, &d);
    assert_true(y == 2026 && m == 3 && d == 8);
    civil_date_from_days(-1, &y, &m, &d);
    assert_true(y == 1969 && m == 12 && d == 31);
    civil_date_from_days(11016, &y, &m, &d); /* the day before 2000-03-01 */
    assert_true(y == 2000 && m == 2 && d == 29);
    civil_date_from_days(INT64_MIN, &y, &m, &d); /* clamped */
    assert_true(y == -1000000000 && m == 1 && d == 1);
    civil_date_from_days(INT64_MAX, &y, &m, &d);
    assert_true(y == 1000000000 && m == 12 && d == 31);
}

static void test_civil_validity(void **state)
{
    (void)state;
    assert_true(civil_valid_date(2024, 2, 29)); /* divisible by 4 */
    assert_false(civil_valid_date(2023, 2, 29));
    assert_false(civil_valid_date(1900, 2, 29)); /* century, not by 400 */
    assert_false(civil_valid_date(2100, 2, 29));
    assert_true(civil_valid_date(2000, 2, 29)); /* by 400 */
    assert_true(civil_valid_date(0, 2, 29));    /* year 0 is a leap year */
    assert_true(civil_valid_date(-4, 2, 29));
    assert_false(civil_valid_date(-100, 2, 29));
    assert_true(civil_valid_date(-400, 2, 29));
    assert_true(civil_valid_date(2026, 4, 30));
    assert_false(civil_valid_date(2026, 4, 31));
    assert_true(civil_valid_date(2026, 12, 31));
    assert_false(civil_valid_date(2026, 0, 1));
    assert_false(civil_valid_date(2026, 13, 1));
    assert_false(civil_valid_date(2026, 1, 0));
    assert_false(civil_valid_date(2026, 1, 32));
    assert_false(civil_valid_date(2026, -1, 10));
    /* nonsense input is safe to compute with */
    (void)civil_days_from_date(2147483647, 2147483647, 2147483647);
    (void)civil_days_from_date(-2147483647 - 1, -2147483647 - 1, -2147483647 - 1);
}

static void test_civil_matches_naive(void **state)
{
    (void)state;
    for (int y = 1600; y <= 2400; y += 7) {
        for (int m = 1; m <= 12; m++) {
            int last = civil_days_in_month(y, m);
            for (int d = 1; d <= last; d += 9)
                assert_int_equal(civil_days_from_date(y, m, d), naive_days(y, m, d));
            assert_int_equal(civil_days_from_date(y, m, last), naive_days(y, m, last));
        }
    }
}

static void test_civil_round_trip(void **state)
{
    (void)state;
    /* Every day from about 220 BCE to about 4160 CE: round trip, and consecutive days are
     * consecutive dates. */
    int py, pm, pd;
    civil_date_from_days(-800001, &py, &pm, &pd);
    for (int64_t days = -800000; days <= 800000; days++) {
        int y, m, d;
        civil_date_from_days(days, &y, &m, &d);
        assert_true(civil_valid_date(y, m, d));
        assert_int_equal(civil_days_from_date(y, m, d), days);
        bool next_day = y == py && m == pm && d == pd + 1;
        bool next_month = y == py && m == pm + 1 && d == 1 && pd == civil_days_in_month(py, pm);
        bool next_year = y == py + 1 && m == 1 && d == 1 && pm == 12 && pd == 31;
        assert_true(next_day || next_month || next_year);
        py = y;
        pm = m;
        pd = d;
    }
    /* Far away, sampled. */
    for (int64_t days = CIVIL_MIN_DAYS; days < CIVIL_MAX_DAYS - 999999937; days += 999999937) {
        int y, m, d;
        civil_date_from_days(days, &y, &m, &d);
        assert_true(civil_valid_date(y, m, d));
        assert_int_equal(civil_days_from_date(y, m, d), days);
    }
}

static void test_civil_weekday(void **state)
{
    (void)state;
    assert_int_equal(civil_weekday(0), 3);                                /* Thu 1970-01-01 */
    assert_int_equal(civil_weekday(-3), 0);                               /* Mon 1969-12-29 */
    assert_int_equal(civil_weekday(-1), 2);                               /* Wed 1969-12-31 */
    assert_int_equal(civil_weekday(civil_days_from_date(2026, 3, 8)), 6); /* Sunday */
    assert_int_equal(civil_weekday(civil_days_from_date(2026, 3, 4)), 2); /* Wednesday */
    assert_int_equal(civil_weekday(civil_days_from_date(2000, 1, 1)), 5); /* Saturday */
    int w = civil_weekday(INT64_MIN);
    assert_true(w >= 0 && w <= 6);
    w = civil_weekday(INT64_MAX);
    assert_true(w >= 0 && w <= 6);
    for (int64_t days = -1000; days < 1000; days++)
        assert_int_equal(civil_weekday(days + 1), (civil_weekday(days) + 1) % 7);
}

/* --- civil: timestamps ----------------------------------------------------------------------- */

static bool parse_ts(const char *s, int64_t *out) { return civil_parse_timestamp(s, strlen(s), out); }

static void test_timestamp_valid(void **state)
{
    (void)state;
    static const char *const same_instant[] = {
        /* all are 2026-03-04T02:00:00Z = 1772589600 */
        "2026-03-04T10:00:00+08:00",        "2026-03-04T02:00:00Z",        "2026-03-04T10:00+08:00",
        "2026-03-04T10:00:00.123456+08:00", "2026-03-04T10:00:00,5+08:00", "2026-03-04t02:00:00z",
        "2026-03-03T21:00:00-05:00",        "2026-03-04T02:00:00-00:00",   "2026-03-04T07:30:00+05:30",
    };
    for (size_t i = 0; i < sizeof same_instant / sizeof same_instant[0]; i++) {
        int64_t t = 0;
        assert_true(parse_ts(same_instant[i], &t));
        assert_int_equal(t, 1772589600);
    }
    int64_t t = 0;
    assert_true(parse_ts("1969-12-31T23:59:59Z", &t));
    assert_int_equal(t, -1);
    assert_true(parse_ts("1970-01-01T00:00:00Z", &t));
    assert_int_equal(t, 0);
    assert_true(parse_ts("2016-12-31T23:59:60Z", &t)); /* leap second -> next minute */
    assert_int_equal(t, 1483228800);
    assert_true(parse_ts("2024-02-29T23:59:59+23:59", &t));
    assert_int_equal(t, civil_days_from_date(2024, 2, 29) * 86400 + 86399 - 86340);
    /* only len bytes count */
    assert_true(civil_parse_timestamp("2026-03-04T02:00:00Zgarbage", 20, &t));
    assert_int_equal(t, 1772589600);
}

static void test_timestamp_invalid(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "2026-03-04",
        "2026-03-04T10:00:00",  /* no offset */
        "2026-03-04 10:00:00Z", /* space separator */
        "2026-02-30T00:00:00Z", /* no such day */
        "2026-13-01T00:00:00Z",
        "2026-00-01T00:00:00Z",
        "2026-03-04T24:00:00Z",
        "2026-03-04T10:60:00Z",
        "2026-03-04T10:00:61Z",
        "2026-03-04T10:00:00+0800", /* offset needs a colon */
        "2026-03-04T10:00:00+08",
        "2026-03-04T10:00:00+24:00",
        "2026-03-04T10:00:00+08:60",
        "2026-03-04T10:00:00.Z", /* fraction needs digits */
        "2026-03-04T10:00:00.+08:00",
        "2026-3-04T10:00:00Z",
        "2026-03-4T10:00:00Z",
        "26-03-04T10:00:00Z",
        "+2026-03-04T10:00:00Z",
        "2026-03-04T10:00:00Zjunk",
        "2026-03-04T10:00:00+08:00 ",
        " 2026-03-04T10:00:00Z",
        "2026-03-04T10Z",
        "2026-03-04T10:0Z",
        "20260304T100000Z",
        "2026-03-04T10:00:00.5",
        "2026-03-04T1O:00:00Z", /* letter O */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t t = 4242;
        if (parse_ts(bad[i], &t)) fail_msg("accepted invalid timestamp \"%s\"", bad[i]);
        assert_int_equal(t, 4242);
    }
    int64_t t = 4242;
    assert_false(civil_parse_timestamp(NULL, 0, &t));
    assert_false(civil_parse_timestamp("2026-03-04T02:00:00Z", 19, &t)); /* cut before Z */
    assert_false(civil_parse_timestamp("2026-03-04T02:00:00Z\0", 21, &t));
    assert_int_equal(t, 4242);
}

/* --- tz over hand-made tables ---------------------------------------------------------------- */

static void test_tz_lookup(void **state)
{
    (void)state;
    static const int64_t at[] = { 100, 200, 300 };
    static const int32_t off[] = { 3600, -1800, 0 };
    tz_zone z = { 3, at, off, 7200 };
    assert_int_equal(tz_offset_at(&z, INT64_MIN), 7200);
    assert_int_equal(tz_offset_at(&z, 99), 7200);
    assert_int_equal(tz_offset_at(&z, 100), 3600); /* a transition applies from its instant */
    assert_int_equal(tz_offset_at(&z, 199), 3600);
    assert_int_equal(tz_offset_at(&z, 200), -1800);
    assert_int_equal(tz_offset_at(&z, 299), -1800);
    assert_int_equal(tz_offset_at(&z, 300), 0);
    assert_int_equal(tz_offset_at(&z, INT64_MAX), 0);

    tz_zone empty = { 0, NULL, NULL, -18000 };
    assert_int_equal(tz_offset_at(&empty, 0), -18000);
}

static void test_tz_to_local(void **state)
{
    (void)state;
    tz_zone shanghai = { 0, NULL, NULL, 28800 };
    tz_local l;
    tz_to_local(&shanghai, 1772589600, &l); /* 2026-03-04T02:00Z = 10:00 in +08:00 */
    assert_int_equal(l.year, 2026);
    assert_int_equal(l.month, 3);
    assert_int_equal(l.day, 4);
    assert_int_equal(l.weekday, 2); /* Wednesday */
    assert_int_equal(l.minute_of_day, 600);
    assert_int_equal(l.offset, 28800);
    assert_int_equal(l.days, civil_days_from_date(2026, 3, 4));

    tz_to_local(&shanghai, 1772647199, &l); /* 2026-03-04T17:59:59Z = 2026-03-05 01:59:59 local */
    assert_true(l.year == 2026 && l.month == 3 && l.day == 5);
    assert_int_equal(l.minute_of_day, 119);

    tz_zone utc = { 0, NULL, NULL, 0 };
    tz_to_local(&utc, -1, &l); /* 1969-12-31 23:59:59 */
    assert_true(l.year == 1969 && l.month == 12 && l.day == 31);
    assert_int_equal(l.minute_of_day, 1439);
    assert_int_equal(l.weekday, 2);
    assert_int_equal(l.days, -1);

    tz_zone west = { 0, NULL, NULL, -36000 };
    tz_to_local(&west, 0, &l); /* 1970-01-01T00:00Z = 1969-12-31 14:00 in -10:00 */
    assert_true(l.year == 1969 && l.month == 12 && l.day == 31);
    assert_int_equal(l.minute_of_day, 14 * 60);

    /* extremes must not overflow */
    tz_zone east = { 0, NULL, NULL, 50400 };
    tz_to_local(&east, INT64_MAX, &l);
    assert_int_equal(l.year, 1000000000);
    tz_to_local(&west, INT64_MIN, &l);
    assert_int_equal(l.year, -1000000000);
    assert_true(l.minute_of_day >= 0 && l.minute_of_day < 1440);
}

/* --- tzload: system zones -------------------------------------------------------------------- */

#define EPOCH_2100 INT64_C(4102444800) /* 2100-01-01T00:00:00Z */

typedef struct {
    int64_t *at;
    int32_t *offset;
    uint32_t count;
    int32_t base;
    tz_zone zone;
} loaded_zone;

static void check_sorted(const loaded_zone *z)
{
    for (uint32_t i = 1; i < z->count; i++) {
        assert_true(z->at[i - 1] < z->at[i]);
        assert_true(z->offset[i - 1] != z->offset[i]); /* no-op transitions are dropped */
    }
    if (z->count > 0) assert_true(z->offset[0] != z->base);
}

static void load_system(const char *name, int64_t until, loaded_zone *z)
{
    char err[256] = "";
    unsetenv("PERK_ZONEINFO");
    if (!tzload_zone(name, until, &z->at, &z->offset, &z->count, &z->base, err, sizeof err))
        fail_msg("loading %s: %s", name, err);
    z->zone = (tz_zone){ z->count, z->at, z->offset, z->base };
    check_sorted(z);
}

static void free_zone(loaded_zone *z)
{
    free(z->at);
    free(z->offset);
}

/* Day number of the n-th (1..4) or last (n = 5) Sunday of y-m. */
static int64_t sunday_of_month(int y, int m, int n)
{
    int64_t first = civil_days_from_date(y, m, 1);
    int64_t sunday = first + (6 - civil_weekday(first));
    int64_t day = sunday + 7 * (n - 1);
    while (day >= first + civil_days_in_month(y, m)) day -= 7;
    return day;
}

/* offset just before t is `before`, from t on it is `after` */
static void check_switch(const tz_zone *z, int64_t t, int32_t before, int32_t after)
{
    assert_int_equal(tz_offset_at(z, t - 1), before);
    assert_int_equal(tz_offset_at(z, t), after);
}

static void test_tzload_shanghai(void **state)
{
    (void)state;
    loaded_zone z;
    load_system("Asia/Shanghai", EPOCH_2100, &z);
    /* China's last DST ended in September 1991; +08:00 ever since. */
    assert_true(z.count > 0);
    assert_true(z.at[z.count - 1] < INT64_C(694224000)); /* before 1992-01-01 */
    assert_int_equal(z.offset[z.count - 1], 28800);
    assert_int_equal(tz_offset_at(&z.zone, INT64_C(694224000)), 28800);
    assert_int_equal(tz_offset_at(&z.zone, EPOCH_2100), 28800);
    tz_local l;
    tz_to_local(&z.zone, 1772589600, &l); /* 2026-03-04T02:00Z -> 10:00 local Wednesday */
    assert_true(l.year == 2026 && l.month == 3 && l.day == 4 && l.weekday == 2);
    assert_int_equal(l.minute_of_day, 600);
    free_zone(&z);
}

static void test_tzload_new_york(void **state)
{
    (void)state;
    loaded_zone z;
    load_system("America/New_York", EPOCH_2100, &z);
    const tz_zone *nz = &z.zone;
    check_switch(nz, 1772953200, -18000, -14400); /* 2026-03-08T07:00Z: EST -> EDT */
    check_switch(nz, 1793512800, -14400, -18000); /* 2026-11-01T06:00Z: EDT -> EST */
    check_switch(nz, 1899356400, -18000, -14400); /* 2030-03-10T07:00Z */
    check_switch(nz, 1919916000, -14400, -18000); /* 2030-11-03T06:00Z */
    check_switch(nz, 3792985200, -18000, -14400); /* 2090-03-12T07:00Z, from the footer rule */
    check_switch(nz, 3813544800, -14400, -18000); /* 2090-11-05T06:00Z */
    /* Every year to 2099: 2nd Sunday of March 02:00 EST, 1st Sunday of November 02:00 EDT. This
     * spans the file's explicit transitions (to 2037) and the generated ones. */
    for (int y = 2026; y < 2100; y++) {
        check_switch(nz, sunday_of_month(y, 3, 2) * 86400 + 7 * 3600, -18000, -14400);
        check_switch(nz, sunday_of_month(y, 11, 1) * 86400 + 6 * 3600, -14400, -18000);
        /* and nothing in between */
        assert_int_equal(tz_offset_at(nz, civil_days_from_date(y, 7, 1) * 86400), -14400);
        assert_int_equal(tz_offset_at(nz, civil_days_from_date(y, 1, 15) * 86400), -18000);
    }
    tz_local l;
    tz_to_local(nz, 1772953200, &l); /* 2026-03-08T07:00Z = 03:00 EDT, Sunday */
    assert_true(l.year == 2026 && l.month == 3 && l.day == 8 && l.weekday == 6);
    assert_int_equal(l.minute_of_day, 180);
    assert_int_equal(l.offset, -14400);
    /* local wall time -> instant (tz_from_local): 2026-07-04 12:00 EDT = 16:00Z = 1783180800;
     * 2026-12-25 09:00 EST = 14:00Z = 1798207200; round trip every 3 hours through 2026, the
     * instants whose wall time is met twice (01:00-02:00 on 2026-11-01) excepted */
    int64_t jul4 = civil_days_from_date(2026, 7, 4) * 86400 + 12 * 3600;
    assert_int_equal(tz_from_local(nz, jul4), INT64_C(1783180800));
    int64_t xmas = civil_days_from_date(2026, 12, 25) * 86400 + 9 * 3600;
    assert_int_equal(tz_from_local(nz, xmas), INT64_C(1798207200));
    for (int64_t t = INT64_C(1767225600); t < INT64_C(1798761600); t += 3 * 3600 + 7) {
        tz_to_local(nz, t, &l);
        int64_t local = l.days * 86400 + l.second_of_day;
        if (t >= 1793512800 - 3600 && t < 1793512800 + 3600) continue; /* the repeated hour */
        assert_int_equal(tz_from_local(nz, local), t);
    }
    /* 02:30 on 2026-03-08 does not exist (02:00 EST jumps to 03:00 EDT): one side's offset */
    int64_t gap = tz_from_local(nz, civil_days_from_date(2026, 3, 8) * 86400 + 2 * 3600 + 1800);
    assert_true(gap == 1772953200 - 1800 || gap == 1772953200 + 1800);
    free_zone(&z);

    /* until_epoch cuts the table: nothing after 2030-01-01, so 2090 stays on the last offset. */
    load_system("America/New_York", INT64_C(1893456000), &z);
    assert_true(z.at[z.count - 1] <= INT64_C(1893456000));
    assert_int_equal(tz_offset_at(&z.zone, 3792985200), -18000);
    free_zone(&z);
}

static void test_tzload_london_kolkata_utc(void **state)
{
    (void)state;
    loaded_zone z;
    load_system("Europe/London", EPOCH_2100, &z);
    check_switch(&z.zone, 1774746000, 0, 3600); /* 2026-03-29T01:00Z: GMT -> BST */
    check_switch(&z.zone, 1792890000, 3600, 0); /* 2026-10-25T01:00Z: BST -> GMT */
    check_switch(&z.zone, 3794173200, 0, 3600); /* 2090-03-26T01:00Z */
    check_switch(&z.zone, 3812922000, 3600, 0); /* 2090-10-29T01:00Z */
    for (int y = 2026; y < 2100; y++) {
        check_switch(&z.zone, sunday_of_month(y, 3, 5) * 86400 + 3600, 0, 3600);
        check_switch(&z.zone, sunday_of_month(y, 10, 5) * 86400 + 3600, 3600, 0);
    }
    free_zone(&z);

    load_system("Asia/Kolkata", EPOCH_2100, &z);
    assert_int_equal(tz_offset_at(&z.zone, 1772589600), 19800); /* +05:30 */
    assert_int_equal(tz_offset_at(&z.zone, EPOCH_2100), 19800);
    tz_local l;
    tz_to_local(&z.zone, 1772589600, &l); /* 02:00Z -> 07:30 local */
    assert_int_equal(l.minute_of_day, 7 * 60 + 30);
    free_zone(&z);

    load_system("UTC", EPOCH_2100, &z);
    assert_int_equal(z.count, 0);
    assert_int_equal(z.base, 0);
    assert_int_equal(tz_offset_at(&z.zone, 1772589600), 0);
    free_zone(&z);
    load_system("Etc/UTC", EPOCH_2100, &z);
    assert_int_equal(z.count, 0);
    free_zone(&z);
}

static void test_tzload_names(void **state)
{
    (void)state;
    unsetenv("PERK_ZONEINFO");
    int64_t dummy_at = 0;
    int32_t dummy_offset = 0;
    int64_t *at = &dummy_at; /* must be reset to NULL on failure */
    int32_t *offset = &dummy_offset;
    uint32_t count = 9;
    int32_t base = 0;
    char err[256];

    assert_false(tzload_zone("Asia/Shangai", EPOCH_2100, &at, &offset, &count, &base, err, sizeof err));
    assert_string_equal(err, "unknown time zone 'Asia/Shangai'");
    assert_null(at);
    assert_null(offset);
    assert_int_equal(count, 0);
    assert_false(tzload_zone("America", EPOCH_2100, &at, &offset, &count, &base, err, sizeof err));
    assert_string_equal(err, "unknown time zone 'America'"); /* a directory is not a zone */

    static const char *const invalid[] = {
        "",
        "../etc/passwd",
        "/etc/passwd",
        "Asia/../UTC",
        "..",
        "Asia//Shanghai",
        "Asia/Shanghai/",
        "Asia/Shang hai",
        "Asia/Shanghai\n",
        "Asia\\Shanghai",
        "UTC.",
        "Europe/L\xC3\xB6ndon",
    };
    for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++) {
        assert_false(tzload_zone(invalid[i], EPOCH_2100, &at, &offset, &count, &base, err, sizeof err));
        assert_int_equal(strncmp(err, "invalid time zone name", 22), 0);
        assert_false(tzload_exists(invalid[i]));
    }
    char long_name[300];
    memset(long_name, 'A', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    assert_false(tzload_zone(long_name, 0, &at, &offset, &count, &base, err, sizeof err));
    assert_false(tzload_zone(NULL, 0, &at, &offset, &count, &base, err, sizeof err));
    /* a tiny error buffer truncates, never overflows; NULL is allowed */
    char tiny[8];
    assert_false(tzload_zone("Nowhere/City", 0, &at, &offset, &count, &base, tiny, sizeof tiny));
    assert_string_equal(tiny, "unknown");
    assert_false(tzload_zone("Nowhere/City", 0, &at, &offset, &count, &base, NULL, 0));

    assert_true(tzload_exists("Asia/Shanghai"));
    assert_true(tzload_exists("Etc/GMT+5"));
    assert_false(tzload_exists("Asia/Shangai"));
}

/* --- tzload: synthetic TZif data -------------------------------------------------------------- */

typedef struct {
    uint32_t timecnt;
    const int64_t *times;
    const unsigned char *indices;
    uint32_t typecnt;
    const int32_t *utoffs;
    const char *footer; /* without the newlines */
} tzif_spec;

static size_t put_u32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
    return 4;
}

static size_t put_header(unsigned char *p, uint32_t timecnt, uint32_t typecnt)
{
    size_t n = 0;
    memcpy(p, "TZif2", 5);
    memset(p + 5, 0, 15);
    n = 20;
    n += put_u32(p + n, 0); /* isutcnt */
    n += put_u32(p + n, 0); /* isstdcnt */
    n += put_u32(p + n, 0); /* leapcnt */
    n += put_u32(p + n, timecnt);
    n += put_u32(p + n, typecnt);
    n += put_u32(p + n, 4); /* charcnt: "LMT\0" */
    return n;
}

/* Writes a valid version 2 TZif file: a minimal v1 block, then the spec's v2 data and footer. */
static size_t build_tzif(const tzif_spec *s, unsigned char *buf, size_t cap)
{
    size_t n = put_header(buf, 0, 1);
    n += put_u32(buf + n, 0); /* v1 type 0: utoff 0, isdst 0, desigidx 0 */
    buf[n++] = 0;
    buf[n++] = 0;
    memcpy(buf + n, "LMT", 4);
    n += 4;
    n += put_header(buf + n, s->timecnt, s->typecnt);
    for (uint32_t i = 0; i < s->timecnt; i++) {
        n += put_u32(buf + n, (uint32_t)((uint64_t)s->times[i] >> 32));
        n += put_u32(buf + n, (uint32_t)(uint64_t)s->times[i]);
    }
    for (uint32_t i = 0; i < s->timecnt; i++) buf[n++] = s->indices[i];
    for (uint32_t i = 0; i < s->typecnt; i++) {
        n += put_u32(buf + n, (uint32_t)s->utoffs[i]);
        buf[n++] = 0;
        buf[n++] = 0;
    }
    memcpy(buf + n, "LMT", 4);
    n += 4;
    size_t flen = strlen(s->footer);
    buf[n++] = '\n';
    memcpy(buf + n, s->footer, flen);
    n += flen;
    buf[n++] = '\n';
    assert_true(n <= cap);
    return n;
}

/* Parses a copy of exactly `size` bytes, so sanitizers catch any read past the end. */
static bool parse_exact(const unsigned char *data, size_t size, int64_t until, loaded_zone *z, char *err,
                        size_t errlen)
{
    unsigned char *copy = malloc(size ? size : 1);
    assert_non_null(copy);
    if (size > 0) memcpy(copy, data, size);
    bool ok =
        tzload_parse(copy, size, "Test/Zone", until, &z->at, &z->offset, &z->count, &z->base, err, errlen);
    free(copy);
    z->zone = (tz_zone){ z->count, z->at, z->offset, z->base };
    return ok;
}

static void load_spec(const tzif_spec *s, int64_t until, loaded_zone *z)
{
    unsigned char buf[1024];
    size_t n = build_tzif(s, buf, sizeof buf);
    char err[256] = "";
    if (!parse_exact(buf, n, until, z, err, sizeof err)) fail_msg("footer \"%s\": %s", s->footer, err);
    check_sorted(z);
}

static void test_footer_rules(void **state)
{
    (void)state;
    static const int32_t est[] = { -18000 };
    loaded_zone z;

    /* No explicit transitions: the US rule applies throughout, generated from 1800. */
    tzif_spec us = { 0, NULL, NULL, 1, est, "EST5EDT,M3.2.0,M11.1.0" };
    load_spec(&us, EPOCH_2100, &z);
    assert_int_equal(z.base, -18000);
    check_switch(&z.zone, 1772953200, -18000, -14400); /* 2026-03-08T07:00Z */
    check_switch(&z.zone, 1793512800, -14400, -18000); /* 2026-11-01T06:00Z */
    assert_int_equal(z.count, 2 * (2099 - 1800 + 1));  /* two per year 1800..2099 */
    free_zone(&z);

    /* Southern hemisphere, explicit end time: Sydney. DST ends 1st Sunday of April 03:00 AEDT
     * (2026-04-05 03:00 +11 = 2026-04-04T16:00Z), starts 1st Sunday of October 02:00 AEST
     * (2026-10-04 02:00 +10 = 2026-10-03T16:00Z). */
    static const int32_t aest[] = { 36000 };
    tzif_spec syd = { 0, NULL, NULL, 1, aest, "AEST-10AEDT,M10.1.0,M4.1.0/3" };
    load_spec(&syd, EPOCH_2100, &z);
    check_switch(&z.zone, 1775318400, 39600, 36000);
    check_switch(&z.zone, 1791043200, 36000, 39600);
    free_zone(&z);

    /* Quoted names, half-hour standard offset and an explicit DST offset: Lord Howe.
     * Ends 2026-04-05 02:00 +11 = 2026-04-04T15:00Z; starts 2026-10-04 02:00 +10:30 =
     * 2026-10-03T15:30Z. */
    static const int32_t lhst[] = { 37800 };
    tzif_spec lh = { 0, NULL, NULL, 1, lhst, "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0" };
    load_spec(&lh, EPOCH_2100, &z);
    check_switch(&z.zone, 1775314800, 39600, 37800);
    check_switch(&z.zone, 1791041400, 37800, 39600);
    free_zone(&z);

    /* Julian forms. "59" is zero-based and counts Feb 29 (2024-02-29, but 2023-03-01); "J300"
     * never counts Feb 29 (always Oct 27). DST is +1h; the end is at 00:00 local DST, i.e.
     * 23:00Z the day before. */
    static const int32_t gmt[] = { 0 };
    tzif_spec jul = { 0, NULL, NULL, 1, gmt, "AAA0BBB-1,59/0,J300/0" };
    load_spec(&jul, EPOCH_2100, &z);
    check_switch(&z.zone, 1677628800, 0, 3600); /* 2023-03-01T00:00Z */
    check_switch(&z.zone, 1698361200, 3600, 0); /* 2023-10-26T23:00Z */
    check_switch(&z.zone, 1709164800, 0, 3600); /* 2024-02-29T00:00Z */
    check_switch(&z.zone, 1729983600, 3600, 0); /* 2024-10-26T23:00Z */
    free_zone(&z);

    /* Negative rule times (RFC 8536 extension), as in America/Nuuk: start last Sunday of March
     * at -01:00 local standard (-02) = 01:00Z; end last Sunday of October 00:00 local DST (-01)
     * = 01:00Z. 2026: March 29 and October 25. */
    static const int32_t m2[] = { -7200 };
    tzif_spec nuuk = { 0, NULL, NULL, 1, m2, "<-02>2<-01>,M3.5.0/-1,M10.5.0/0" };
    load_spec(&nuuk, EPOCH_2100, &z);
    check_switch(&z.zone, 1774746000, -7200, -3600);
    check_switch(&z.zone, 1792890000, -3600, -7200);
    free_zone(&z);

    /* Permanent DST (RFC 8536 example): DST from Jan 1 00:00 to Dec 31 25:00, so each year's end
     * meets the next year's start and only the very first switch remains:
     * 1800-01-01 00:00 EST = 1800-01-01T05:00Z. */
    tzif_spec perm = { 0, NULL, NULL, 1, est, "EST5EDT,0/0,J365/25" };
    load_spec(&perm, EPOCH_2100, &z);
    assert_int_equal(z.count, 1);
    assert_int_equal(z.at[0], INT64_C(-5364644400));
    assert_int_equal(tz_offset_at(&z.zone, 1798758000), -14400); /* 2026-12-31T23:00Z */
    assert_int_equal(tz_offset_at(&z.zone, 1798779600), -14400); /* 2027-01-01T05:00Z */
    free_zone(&z);

    /* No DST: nothing generated. */
    static const int32_t ist[] = { 19800 };
    tzif_spec india = { 0, NULL, NULL, 1, ist, "<+0530>-5:30" };
    load_spec(&india, EPOCH_2100, &z);
    assert_int_equal(z.count, 0);
    assert_int_equal(z.base, 19800);
    free_zone(&z);

    /* An empty footer is allowed (no rule). */
    tzif_spec nofooter = { 0, NULL, NULL, 1, ist, "" };
    load_spec(&nofooter, EPOCH_2100, &z);
    assert_int_equal(z.count, 0);
    free_zone(&z);
}

static void test_footer_after_explicit(void **state)
{
    (void)state;
    /* Explicit transitions up to 2037-12-31, then the US rule: the first generated switch is
     * 2038-03-14T07:00Z (2nd Sunday of March 2038); nothing generated before the last explicit
     * transition. Type 0 is LMT -17762 (New York's local mean time). */
    static const int64_t times[] = { -2717650800, 2145830400 };
    static const unsigned char idx[] = { 1, 1 };
    static const int32_t offs[] = { -17762, -18000 };
    tzif_spec s = { 2, times, idx, 2, offs, "EST5EDT,M3.2.0,M11.1.0" };
    loaded_zone z;
    load_spec(&s, EPOCH_2100, &z);
    assert_int_equal(z.base, -17762);
    assert_int_equal(z.at[0], -2717650800); /* the second explicit one is a no-op, dropped */
    assert_int_equal(z.offset[0], -18000);
    /* Only generated switches after 2037-12-31 remain, the first in March 2038. */
    assert_int_equal(z.at[1], sunday_of_month(2038, 3, 2) * 86400 + 7 * 3600);
    assert_int_equal(z.count, 1 + 2 * (2099 - 2038 + 1));
    /* 2026 is before the footer takes over: explicit offset, no DST */
    assert_int_equal(tz_offset_at(&z.zone, 1782864000), -18000); /* 2026-07-01 */
    free_zone(&z);

    /* until exactly on a generated switch keeps it; one second earlier drops it. */
    int64_t switch_2038 = sunday_of_month(2038, 3, 2) * 86400 + 7 * 3600;
    load_spec(&s, switch_2038, &z);
    assert_int_equal(z.count, 2);
    assert_int_equal(z.at[1], switch_2038);
    free_zone(&z);
    load_spec(&s, switch_2038 - 1, &z);
    assert_int_equal(z.count, 1);
    free_zone(&z);
    /* until before every transition: just the base offset */
    load_spec(&s, INT64_MIN, &z);
    assert_int_equal(z.count, 0);
    assert_null(z.at);
    assert_int_equal(z.base, -17762);
    free_zone(&z);
    /* until far away: generation stops at year TZLOAD_MAX_RULE_YEAR */
    load_spec(&s, INT64_MAX, &z);
    assert_int_equal(z.count, 1 + 2 * (TZLOAD_MAX_RULE_YEAR - 2038 + 1));
    free_zone(&z);
}

static void expect_parse_error(const unsigned char *data, size_t size, const char *needle)
{
    loaded_zone z;
    char err[256] = "";
    if (parse_exact(data, size, EPOCH_2100, &z, err, sizeof err))
        fail_msg("accepted bad data (expected error containing \"%s\")", needle);
    assert_null(z.at);
    assert_null(z.offset);
    if (strstr(err, needle) == NULL) fail_msg("error \"%s\" does not mention \"%s\"", err, needle);
}

static void test_bad_footers(void **state)
{
    (void)state;
    static const int32_t est[] = { -18000 };
    static const char *const bad[] = {
        "EST5EDT",                    /* DST without rules */
        "EST5EDT,M3.2.0",             /* one date only */
        "EST5EDT,M13.2.0,M11.1.0",    /* month 13 */
        "EST5EDT,M3.6.0,M11.1.0",     /* week 6 */
        "EST5EDT,M3.0.0,M11.1.0",     /* week 0 */
        "EST5EDT,M3.2.7,M11.1.0",     /* weekday 7 */
        "EST5EDT,J0,J365",            /* Julian days start at 1 */
        "EST5EDT,366,0",              /* zero-based days end at 365 */
        "EST5EDT,M3.2.0/168,M11.1.0", /* beyond 167 hours */
        "EST5EDT,M3.2.0/2:60,M11.1.0",
        "EST5EDT,M3.2.0,M11.1.0x", /* trailing junk */
        "EST5EDT,M3.2.0,M11.1.0,",
        "ES5",   /* name too short */
        "EST",   /* no offset */
        "EST25", /* offset beyond 24 hours */
        "<AB>5", /* quoted name too short */
        "<EST5", /* unterminated quote */
        "EST5EDT4:60,M3.2.0,M11.1.0",
        "EST0005", /* too many hour digits */
    };
    unsigned char buf[1024];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tzif_spec s = { 0, NULL, NULL, 1, est, bad[i] };
        size_t n = build_tzif(&s, buf, sizeof buf);
        expect_parse_error(buf, n, "unsupported TZ rule");
    }
    /* A footer without DST that disagrees with the last offset. */
    tzif_spec s = { 0, NULL, NULL, 1, est, "CST-8" };
    size_t n = build_tzif(&s, buf, sizeof buf);
    expect_parse_error(buf, n, "disagrees");
    /* A footer containing a NUL byte. */
    tzif_spec ok = { 0, NULL, NULL, 1, est, "EST5" };
    n = build_tzif(&ok, buf, sizeof buf);
    buf[n - 3] = '\0';
    expect_parse_error(buf, n, "corrupt");
}

static void test_corrupt_fields(void **state)
{
    (void)state;
    static const int64_t times[] = { 100, 200 };
    static const unsigned char idx[] = { 1, 0 };
    static const int32_t offs[] = { 0, 3600 };
    tzif_spec s = { 2, times, idx, 2, offs, "AAA0" };
    unsigned char good[1024], buf[1024];
    size_t n = build_tzif(&s, good, sizeof good);
    /* v1 block: 44 header + 6 type + 4 chars = 54; v2 header at 54, its counts at 74..97. */
    const size_t v2 = 54, data = v2 + 44;
    loaded_zone z;
    char err[256];
    assert_true(parse_exact(good, n, EPOCH_2100, &z, err, sizeof err));
    assert_int_equal(z.count, 2);
    free_zone(&z);

#define MUTATE(pos, value, needle)           \
    do {                                     \
        memcpy(buf, good, n);                \
        buf[(pos)] = (unsigned char)(value); \
        expect_parse_error(buf, n, needle);  \
    } while (0)

    MUTATE(0, 'X', "not a TZif file");
    MUTATE(4, 0, "version 1");
    MUTATE(4, 'A', "unknown TZif version");
    MUTATE(v2 + 4, '1', "bad second header");
    MUTATE(v2 + 20 + 3, 1, "inconsistent counts"); /* isutcnt 1 != typecnt 2 */
    MUTATE(v2 + 28 + 3, 1, "leap seconds");        /* leapcnt 1 */
    MUTATE(v2 + 32, 0xFF, "truncated");            /* timecnt huge */
    MUTATE(v2 + 36 + 3, 0, "inconsistent counts"); /* typecnt 0 */
    MUTATE(v2 + 40 + 3, 0, "inconsistent counts"); /* charcnt 0 */
    MUTATE(data + 7, 200, "transition 1");         /* times not ascending: 200 >= 200 */
    MUTATE(data + 16 + 1, 2, "transition 1");      /* type index 2 >= typecnt */
    MUTATE(data + 18, 0x80, "local time type 0");  /* utoff = -2^31 + ... */
    MUTATE(data + 18 + 4, 2, "local time type 0"); /* isdst 2 */
    MUTATE(data + 18 + 5, 9, "local time type 0"); /* designation index past charcnt */
    MUTATE(data + 30 + 3, 'X', "local time type"); /* designation without NUL */
    MUTATE(data + 34, 'X', "missing footer");      /* footer must start with newline */
    MUTATE(n - 1, 'X', "missing footer");          /* ... and end with one */
    /* utoff just outside RFC 8536's range: +93600 (26h) */
    memcpy(buf, good, n);
    put_u32(buf + data + 24, 93600);
    expect_parse_error(buf, n, "local time type 1");
    /* trailing bytes after the footer */
    memcpy(buf, good, n);
    buf[n] = 'x';
    expect_parse_error(buf, n + 1, "trailing data");
    /* v1 block size beyond the file */
    memcpy(buf, good, n);
    put_u32(buf + 32, 1000);
    expect_parse_error(buf, n, "truncated");
#undef MUTATE

    /* isstd/isut indicators: build by hand from the good file with isutcnt = isstdcnt = 2. */
    size_t footer_at = data + 16 + 2 + 12 + 4;
    memcpy(buf, good, footer_at);
    put_u32(buf + v2 + 20, 2);
    put_u32(buf + v2 + 24, 2);
    static const unsigned char indicators[4] = { 1, 1, 1, 1 }; /* isstd 1 1, isut 1 1: valid */
    memcpy(buf + footer_at, indicators, 4);
    memcpy(buf + footer_at + 4, good + footer_at, n - footer_at);
    assert_true(parse_exact(buf, n + 4, EPOCH_2100, &z, err, sizeof err));
    free_zone(&z);
    buf[footer_at] = 0; /* isut set while isstd is not */
    expect_parse_error(buf, n + 4, "indicators");
    buf[footer_at] = 2;
    expect_parse_error(buf, n + 4, "indicators");
}

static unsigned char *read_all(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    unsigned char *buf = malloc(1 << 20);
    assert_non_null(buf);
    *size = fread(buf, 1, 1 << 20, f);
    fclose(f);
    return buf;
}

static void test_truncated_and_mutated_system_file(void **state)
{
    (void)state;
    size_t size;
    unsigned char *ny = read_all("/usr/share/zoneinfo/America/New_York", &size);
    loaded_zone z;
    char err[256];
    assert_true(parse_exact(ny, size, EPOCH_2100, &z, err, sizeof err));
    free_zone(&z);
    /* Every proper prefix is an error, never a crash (run under ASan for the real check). */
    for (size_t len = 0; len < size; len++) {
        err[0] = '\0';
        assert_false(parse_exact(ny, len, EPOCH_2100, &z, err, sizeof err));
        assert_true(err[0] != '\0');
    }
    /* Random byte changes: either an error or a well-formed table. */
    uint64_t rng = 12345;
    unsigned char *copy = malloc(size);
    assert_non_null(copy);
    for (int round = 0; round < 4000; round++) {
        memcpy(copy, ny, size);
        int changes = 1 + round % 4;
        for (int k = 0; k < changes; k++) {
            rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
            size_t pos = (size_t)(rng >> 33) % size;
            copy[pos] = (unsigned char)(rng >> 20);
        }
        err[0] = '\0';
        if (parse_exact(copy, size, EPOCH_2100, &z, err, sizeof err)) {
            check_sorted(&z);
            free_zone(&z);
        } else {
            assert_true(err[0] != '\0');
        }
    }
    free(copy);
    free(ny);
}

static void write_file(const char *dir, const char *name, const void *data, size_t size)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, size, f), size);
    assert_int_equal(fclose(f), 0);
}

static const char *const temp_zone_files[] = { "Good", "Truncated", "Empty", "Garbage" };

/* Creates the temporary zoneinfo directory; the teardown removes it even if the test fails. */
static int make_temp_zone_dir(void **state)
{
    static char dir[64];
    snprintf(dir, sizeof dir, "/tmp/perk_tz_test_XXXXXX");
    if (mkdtemp(dir) == NULL) return -1;
    *state = dir;
    return 0;
}

static int remove_temp_zone_dir(void **state)
{
    const char *dir = *state;
    char path[512];
    unsetenv("PERK_ZONEINFO");
    for (size_t i = 0; i < sizeof temp_zone_files / sizeof temp_zone_files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, temp_zone_files[i]);
        unlink(path);
    }
    return rmdir(dir) == 0 ? 0 : -1;
}

static void test_perk_zoneinfo_dir(void **state)
{
    const char *dir = *state;
    size_t size;
    unsigned char *ny = read_all("/usr/share/zoneinfo/America/New_York", &size);
    write_file(dir, "Good", ny, size);
    write_file(dir, "Truncated", ny, size / 2);
    free(ny); /* freed early: a failing assertion below must not leak it */
    write_file(dir, "Empty", "", 0);
    write_file(dir, "Garbage", "hello, this is not a zone file\n", 31);
    assert_int_equal(setenv("PERK_ZONEINFO", dir, 1), 0);

    int64_t *at;
    int32_t *offset;
    uint32_t count;
    int32_t base;
    char err[256];
    assert_true(tzload_zone("Good", EPOCH_2100, &at, &offset, &count, &base, err, sizeof err));
    tz_zone zone = { count, at, offset, base };
    check_switch(&zone, 1772953200, -18000, -14400); /* 2026-03-08T07:00Z */
    free(at);
    free(offset);

    assert_false(tzload_zone("Truncated", EPOCH_2100, &at, &offset, &count, &base, err, sizeof err));
    assert_string_equal(err, "time zone file for 'Truncated' is truncated (version 2 data)");
    assert_false(tzload_zone("Empty", EPOCH_2100, &at, &offset, &count, &base, err, sizeof err));
    assert_string_equal(err, "time zone file for 'Empty' is truncated (header)");
    assert_false(tzload_zone("Garbage", EPOCH_2100, &at, &offset, &count, &base, err, sizeof err));
    assert_string_equal(err, "time zone file for 'Garbage' is not a TZif file");
    /* The system zones are not consulted while PERK_ZONEINFO is set... */
    assert_false(tzload_zone("Asia/Shanghai", EPOCH_2100, &at, &offset, &count, &base, err, sizeof err));
    assert_string_equal(err, "unknown time zone 'Asia/Shanghai'");
    assert_false(tzload_exists("Truncated"));
    assert_true(tzload_exists("Good"));
    /* ...but UTC is built in. */
    assert_true(tzload_zone("UTC", EPOCH_2100, &at, &offset, &count, &base, err, sizeof err));
    assert_int_equal(count, 0);
    assert_int_equal(base, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_civil_known_dates),
        cmocka_unit_test(test_civil_validity),
        cmocka_unit_test(test_civil_matches_naive),
        cmocka_unit_test(test_civil_round_trip),
        cmocka_unit_test(test_civil_weekday),
        cmocka_unit_test(test_timestamp_valid),
        cmocka_unit_test(test_timestamp_invalid),
        cmocka_unit_test(test_tz_lookup),
        cmocka_unit_test(test_tz_to_local),
        cmocka_unit_test(test_tzload_shanghai),
        cmocka_unit_test(test_tzload_new_york),
        cmocka_unit_test(test_tzload_london_kolkata_utc),
        cmocka_unit_test(test_tzload_names),
        cmocka_unit_test(test_footer_rules),
        cmocka_unit_test(test_footer_after_explicit),
        cmocka_unit_test(test_bad_footers),
        cmocka_unit_test(test_corrupt_fields),
        cmocka_unit_test(test_truncated_and_mutated_system_file),
        cmocka_unit_test_setup_teardown(test_perk_zoneinfo_dir, make_temp_zone_dir, remove_temp_zone_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
