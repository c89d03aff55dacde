/* cli_time.c - times on the command line and in the store commands' text output.
 *
 * cli_time is the one parser of every time option (--now, --at, --expires), and
 * cli_time_option its one error message, so that every command takes the same forms. A cli_zone
 * is the time zone text output is written in: the active rule set's (its offset tables travel in
 * the bytecode, built by src/compiler/tzload.c), or UTC when the store has none. JSON output
 * never uses it: it keeps epoch seconds in UTC. */
#include "cli.h"

#include "civil.h"
#include "program.h"
#include "store/store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Epoch seconds, YYYY-MM-DD (midnight UTC, or the next midnight when end_of_day),
 * YYYY-MM-DDTHH:MM:SSZ, or an RFC 3339 time with an offset (2026-03-01T20:00+08:00, the form
 * carts use). */
bool cli_time(const char *text, bool end_of_day, int64_t *out)
{
    if (!text || !*text) return false;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (!*end) {
        if (errno || v < 0 || v > CLI_EPOCH_MAX) return false;
        *out = v;
        return true;
    }
    int64_t stamp;
    if (civil_parse_timestamp(text, strlen(text), &stamp) && stamp >= 0 && stamp <= CLI_EPOCH_MAX) {
        *out = stamp;
        return true;
    }
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    int y, mo, d, h = 0, mi = 0, s = 0, used = 0;
    bool date_only;
    if (sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &y, &mo, &d, &h, &mi, &s, &used) == 6 &&
        text[used] == '\0')
        date_only = false;
    else if (sscanf(text, "%4d-%2d-%2d%n", &y, &mo, &d, &used) == 3 && text[used] == '\0')
        date_only = true;
    else
        return false;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60 || y < 1970) return false;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    time_t t = timegm(&tm);
    if (t == (time_t)-1 || tm.tm_mday != d) /* timegm normalises 2026-02-30 to March */
        return false;
    *out = (int64_t)t + (date_only && end_of_day ? 86400 : 0);
    return true;
}

bool cli_time_option(const char *option, const char *text, bool end_of_day, int64_t *out)
{
    if (cli_time(text, end_of_day, out)) return true;
    fprintf(stderr,
            "perk: error: %s %s: expected a time from 1970 to 9999 as epoch seconds, YYYY-MM-DD (%s, UTC), "
            "YYYY-MM-DDTHH:MM:SSZ or RFC 3339 with an offset (2026-03-01T20:00+08:00)\n",
            option, cli_safe(text), end_of_day ? "through that day" : "midnight");
    return false;
}

/* A real calendar date alone, "2026-12-31", from 1970. */
static bool date_alone(const char *text, int *y, int *mo, int *d)
{
    int used = 0;
    return text && sscanf(text, "%4d-%2d-%2d%n", y, mo, d, &used) == 3 && text[used] == '\0' && *y >= 1970 &&
           civil_valid_date(*y, *mo, *d);
}

bool cli_time_is_date(const char *text)
{
    int y, mo, d;
    return date_alone(text, &y, &mo, &d);
}

/* A date alone names a day, and a day begins at midnight where the shop is. */
bool cli_time_in_zone(const char *text, bool end_of_day, const cli_zone *z, int64_t *out)
{
    int y, mo, d;
    if (!date_alone(text, &y, &mo, &d)) return cli_time(text, end_of_day, out);
    int64_t t = tz_from_local(&z->zone, (civil_days_from_date(y, mo, d) + (end_of_day ? 1 : 0)) * 86400);
    if (t < 0 || t > CLI_EPOCH_MAX) return false;
    *out = t;
    return true;
}

/* ------------------------------------------------------------------ zones */

static void zone_utc(cli_zone *z, bool fallback)
{
    memset(z, 0, sizeof *z);
    z->name = "UTC";
    z->utc_fallback = fallback;
}

void cli_zone_of_program(cli_zone *z, perk_program *program)
{
    zone_utc(z, false);
    if (!program) return;
    const prog_data *d = prog_data_of(program);
    const char *name = prog_string(d, d->timezone);
    z->program = perk_program_retain(program);
    z->name = name && *name ? name : "UTC";
    z->zone.count = d->n_tz;
    z->zone.at = d->tz_at;
    z->zone.offset = d->tz_offset;
    z->zone.base_offset = d->tz_base_offset;
}

void cli_zone_of_store(cli_zone *z, perk_store *store, int64_t now)
{
    zone_utc(z, true);
    int64_t id = 0;
    if (perk_store_active_version(store, now, &id) != PERK_STORE_OK || id <= 0) return;
    perk_store_version v;
    memset(&v, 0, sizeof v);
    perk_program *p = NULL;
    if (perk_store_get_version(store, id, &v) == PERK_STORE_OK) {
        perk_error err;
        p = perk_program_load(v.bytecode, v.bytecode_len, &err);
    }
    perk_store_free_version(&v);
    if (!p) { /* a version that does not load: UTC, and said so */
        z->unloadable = id;
        return;
    }
    cli_zone_of_program(z, p);
    perk_program_free(p); /* z holds its own reference */
}

void cli_zone_note(const cli_zone *z)
{
    if (z->utc_fallback && z->unloadable)
        fprintf(stderr, "perk: note: times are in UTC: the active version %lld does not load\n",
                (long long)z->unloadable);
    else if (z->utc_fallback)
        fprintf(stderr, "perk: note: times are in UTC: no rule set is active in the store to take a time "
                        "zone from\n");
}

void cli_zone_free(cli_zone *z)
{
    perk_program_free(z->program);
    zone_utc(z, false);
}

const char *cli_zone_time(const cli_zone *z, int64_t t, char buf[CLI_ZONE_TIME_MAX])
{
    if (t == 0) return "-";
    tz_local l;
    tz_to_local(&z->zone, t, &l);
    snprintf(buf, CLI_ZONE_TIME_MAX, "%04d-%02d-%02d %02d:%02d %s", l.year, l.month, l.day,
             l.minute_of_day / 60, l.minute_of_day % 60, cli_safe(z->name));
    return buf;
}
