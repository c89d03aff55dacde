/* tzload.c: reads TZif zone files (RFC 8536, version 2+) into offset transition tables for the
 * runtime, extending them past their last explicit transition with the POSIX TZ footer rule.
 * See tzload.h. Layout of a TZif file:
 *   header(44) v1-data  header(44) v2-data  '\n' footer '\n'
 * where each header is "TZif", a version byte, 15 reserved bytes, then six big-endian uint32
 * counts, and the data blocks hold transition times, type indices, types, designation
 * characters, leap-second records and the standard/UT indicators, in that order. */
#include "tzload.h"

#include "civil.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define TZIF_HEADER_SIZE 44
#define TZLOAD_MAX_NAME 255
/* RFC 8536: a UT offset must be in -89999..93599 (just over +-25 and 26 hours). */
#define TZIF_MIN_UTOFF (-89999)
#define TZIF_MAX_UTOFF 93599

static void set_error(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void set_error(char *err, size_t errlen, const char *fmt, ...)
{
    if (err == NULL || errlen == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* --- bounds-checked reading ------------------------------------------------------------------- */

typedef struct {
    const unsigned char *data;
    size_t size;
    size_t pos;
} byte_reader;

static bool reader_has(const byte_reader *r, uint64_t n) { return n <= r->size - r->pos; }

/* Callers check reader_has first. */
static uint32_t read_u32(byte_reader *r)
{
    const unsigned char *p = r->data + r->pos;
    r->pos += 4;
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static int64_t read_i64(byte_reader *r)
{
    uint64_t hi = read_u32(r);
    uint64_t lo = read_u32(r);
    uint64_t u = hi << 32 | lo;
    /* Two's complement to signed without implementation-defined conversion. */
    return u <= (uint64_t)INT64_MAX ? (int64_t)u : -(int64_t)(~u) - 1;
}

static int32_t read_i32(byte_reader *r)
{
    uint32_t u = read_u32(r);
    return u <= (uint32_t)INT32_MAX ? (int32_t)u : -(int32_t)(~u) - 1;
}

typedef struct {
    unsigned char version; /* 0 for version 1, else '2', '3', ... */
    uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
} tzif_header;

/* Reads the first (second = false) or the version 2+ (second = true) header. */
static bool read_header(byte_reader *r, tzif_header *h, bool second, const char *name, char *err,
                        size_t errlen)
{
    if (reader_has(r, 4) && memcmp(r->data + r->pos, "TZif", 4) != 0) {
        if (second)
            set_error(err, errlen, "time zone file for '%s' has a bad second header", name);
        else
            set_error(err, errlen, "time zone file for '%s' is not a TZif file", name);
        return false;
    }
    if (!reader_has(r, TZIF_HEADER_SIZE)) {
        set_error(err, errlen, "time zone file for '%s' is truncated (header)", name);
        return false;
    }
    h->version = r->data[r->pos + 4];
    r->pos += 20; /* magic, version, 15 reserved bytes */
    h->isutcnt = read_u32(r);
    h->isstdcnt = read_u32(r);
    h->leapcnt = read_u32(r);
    h->timecnt = read_u32(r);
    h->typecnt = read_u32(r);
    h->charcnt = read_u32(r);
    return true;
}

/* Size of a data block: time_size is 4 for the version 1 block, 8 for the version 2+ block. */
static uint64_t data_block_size(const tzif_header *h, uint64_t time_size)
{
    /* All counts are < 2^32, so this cannot overflow 64 bits. */
    return (uint64_t)h->timecnt * (time_size + 1) + (uint64_t)h->typecnt * 6 + h->charcnt +
           (uint64_t)h->leapcnt * (time_size + 4) + h->isstdcnt + h->isutcnt;
}

/* --- POSIX TZ footer ------------------------------------------------------------------------- */

/* One end of the DST period: a day form plus local time of day. */
typedef struct {
    char form;    /* 'J': Julian day 1..365 without Feb 29; 'D': zero-based day 0..365; 'M' */
    int month;    /* 'M' form: 1..12 */
    int week;     /* 'M' form: 1..5 (5 = last) */
    int weekday;  /* 'M' form: 0 = Sunday .. 6 */
    int day;      /* 'J' and 'D' forms */
    int32_t time; /* seconds after local midnight, -167h..167h (RFC 8536 extension) */
} rule_date;

typedef struct {
    int32_t std_offset; /* seconds east of UTC */
    bool has_dst;
    int32_t dst_offset;
    rule_date start, end; /* start: DST begins (in local standard time); end: in local DST */
} posix_tz;

static bool is_alpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* Zone abbreviation: 3+ letters, or <...> with 3+ of [A-Za-z0-9+-]. */
static bool parse_tz_name(const char **p)
{
    const char *s = *p;
    size_t n = 0;
    if (*s == '<') {
        s++;
        while (is_alpha(s[n]) || is_digit(s[n]) || s[n] == '+' || s[n] == '-') n++;
        if (s[n] != '>' || n < 3) return false;
        *p = s + n + 1;
        return true;
    }
    while (is_alpha(s[n])) n++;
    if (n < 3) return false;
    *p = s + n;
    return true;
}

/* Unsigned decimal of 1..max_digits digits. */
static bool parse_number(const char **p, int max_digits, int *value)
{
    const char *s = *p;
    int v = 0, n = 0;
    while (is_digit(*s) && n < max_digits) {
        v = v * 10 + (*s - '0');
        s++;
        n++;
    }
    if (n == 0 || is_digit(*s)) return false;
    *value = v;
    *p = s;
    return true;
}

/* [+-]h[hh][:mm[:ss]] with hours <= max_hours; returns signed seconds. */
static bool parse_hms(const char **p, int max_hours, int32_t *seconds)
{
    const char *s = *p;
    int sign = 1, h, m = 0, sec = 0;
    if (*s == '+' || *s == '-') {
        sign = *s == '-' ? -1 : 1;
        s++;
    }
    if (!parse_number(&s, 3, &h) || h > max_hours) return false;
    if (*s == ':') {
        s++;
        if (!parse_number(&s, 2, &m) || m > 59) return false;
        if (*s == ':') {
            s++;
            if (!parse_number(&s, 2, &sec) || sec > 59) return false;
        }
    }
    *seconds = sign * (h * 3600 + m * 60 + sec);
    *p = s;
    return true;
}

static bool parse_rule_date(const char **p, rule_date *rd)
{
    const char *s = *p;
    memset(rd, 0, sizeof *rd);
    if (*s == 'J') {
        s++;
        rd->form = 'J';
        if (!parse_number(&s, 3, &rd->day) || rd->day < 1 || rd->day > 365) return false;
    } else if (*s == 'M') {
        s++;
        rd->form = 'M';
        if (!parse_number(&s, 2, &rd->month) || rd->month < 1 || rd->month > 12 || *s++ != '.' ||
            !parse_number(&s, 1, &rd->week) || rd->week < 1 || rd->week > 5 || *s++ != '.' ||
            !parse_number(&s, 1, &rd->weekday) || rd->weekday > 6)
            return false;
    } else {
        rd->form = 'D';
        if (!parse_number(&s, 3, &rd->day) || rd->day > 365) return false;
    }
    rd->time = 2 * 3600; /* POSIX default 02:00:00 */
    if (*s == '/') {
        s++;
        if (!parse_hms(&s, 167, &rd->time)) return false;
    }
    *p = s;
    return true;
}

/* Parses a NUL-terminated footer such as "EST5EDT,M3.2.0,M11.1.0" or "<+0530>-5:30". */
static bool parse_posix_tz(const char *s, posix_tz *tz)
{
    int32_t west;
    memset(tz, 0, sizeof *tz);
    if (!parse_tz_name(&s) || !parse_hms(&s, 24, &west)) return false;
    tz->std_offset = -west; /* POSIX offsets are positive west of Greenwich */
    if (*s == '\0') return true;
    if (!parse_tz_name(&s)) return false;
    tz->has_dst = true;
    tz->dst_offset = tz->std_offset + 3600;
    if (*s != ',' && *s != '\0') {
        if (!parse_hms(&s, 24, &west)) return false;
        tz->dst_offset = -west;
    }
    /* A DST zone without rules would need an implementation-defined default; zic never
     * writes one, so it is refused rather than guessed. */
    if (*s++ != ',' || !parse_rule_date(&s, &tz->start) || *s++ != ',' || !parse_rule_date(&s, &tz->end) ||
        *s != '\0')
        return false;
    return true;
}

/* Local day number on which a rule date falls in `year`. */
static int64_t rule_day(const rule_date *rd, int year)
{
    int64_t jan1 = civil_days_from_date(year, 1, 1);
    switch (rd->form) {
    case 'J': /* Feb 29 is never counted, so days from March on shift by one in leap years */
        return jan1 + rd->day - 1 + (civil_is_leap_year(year) && rd->day >= 60 ? 1 : 0);
    case 'D': return jan1 + rd->day;
    default: {
        int64_t first = civil_days_from_date(year, rd->month, 1);
        int first_weekday = (civil_weekday(first) + 1) % 7; /* to Sunday = 0 */
        int day = 1 + (rd->weekday - first_weekday + 7) % 7 + (rd->week - 1) * 7;
        int last = civil_days_in_month(year, rd->month);
        while (day > last) /* week 5 means the last such weekday */
            day -= 7;
        return first + day - 1;
    }
    }
}

/* --- building the table ---------------------------------------------------------------------- */

typedef struct {
    int64_t *at;
    int32_t *offset;
    uint32_t count;
    uint32_t capacity;
    int32_t base_offset;
} table_builder;

/* Appends "offset applies from t", keeping at[] strictly ascending and dropping no-op entries.
 * A later entry at the same instant replaces the earlier one. t must be >= the last entry. */
static void table_push(table_builder *b, int64_t t, int32_t offset)
{
    while (b->count > 0 && b->at[b->count - 1] >= t) b->count--;
    int32_t current = b->count > 0 ? b->offset[b->count - 1] : b->base_offset;
    if (current == offset) return;
    b->at[b->count] = t;
    b->offset[b->count] = offset;
    b->count++;
}

typedef struct {
    int64_t at;
    int32_t offset;
    uint32_t seq; /* generation order, so equal instants keep it (qsort is not stable) */
} rule_event;

static int compare_events(const void *pa, const void *pb)
{
    const rule_event *a = pa, *b = pb;
    if (a->at != b->at) return a->at < b->at ? -1 : 1;
    return a->seq < b->seq ? -1 : (a->seq > b->seq ? 1 : 0);
}

/* Calendar year (UTC) of an epoch second, clamped to the civil range. */
static int year_of(int64_t epoch_seconds)
{
    int64_t days = epoch_seconds / 86400 - (epoch_seconds % 86400 < 0 ? 1 : 0);
    int y, m, d;
    civil_date_from_days(days, &y, &m, &d);
    return y;
}

bool tzload_parse(const unsigned char *data, size_t size, const char *name, int64_t until_epoch, int64_t **at,
                  int32_t **offset, uint32_t *count, int32_t *base_offset, char *err, size_t errlen)
{
    *at = NULL;
    *offset = NULL;
    *count = 0;
    if (name == NULL) name = "?";
    if (data == NULL) size = 0;

    byte_reader r = { data, size, 0 };
    tzif_header h;
    if (!read_header(&r, &h, false, name, err, errlen)) return false;
    if (h.version == 0) {
        set_error(err, errlen, "time zone file for '%s' is TZif version 1, which lacks 64-bit data", name);
        return false;
    }
    if (h.version < '2' || h.version > '9') {
        set_error(err, errlen, "time zone file for '%s' has an unknown TZif version", name);
        return false;
    }
    uint64_t v1_size = data_block_size(&h, 4);
    if (!reader_has(&r, v1_size)) {
        set_error(err, errlen, "time zone file for '%s' is truncated (version 1 data)", name);
        return false;
    }
    r.pos += (size_t)v1_size;
    if (!read_header(&r, &h, true, name, err, errlen)) return false;
    if (h.version < '2' || h.version > '9') {
        set_error(err, errlen, "time zone file for '%s' has a bad second header", name);
        return false;
    }
    if (h.typecnt == 0 || h.charcnt == 0 || (h.isstdcnt != 0 && h.isstdcnt != h.typecnt) ||
        (h.isutcnt != 0 && h.isutcnt != h.typecnt) || h.typecnt > 256) {
        set_error(err, errlen, "time zone file for '%s' is corrupt (inconsistent counts)", name);
        return false;
    }
    if (h.leapcnt != 0) {
        set_error(err, errlen,
                  "time zone file for '%s' counts leap seconds (a \"right/\" zone), which is not "
                  "supported",
                  name);
        return false;
    }
    if (!reader_has(&r, data_block_size(&h, 8))) {
        set_error(err, errlen, "time zone file for '%s' is truncated (version 2 data)", name);
        return false;
    }

    /* Everything below reads inside the block just checked. */
    const size_t times_pos = r.pos;
    const size_t indices_pos = times_pos + (size_t)h.timecnt * 8;
    const size_t types_pos = indices_pos + h.timecnt;
    const size_t chars_pos = types_pos + (size_t)h.typecnt * 6;
    const size_t isstd_pos = chars_pos + h.charcnt;
    const size_t isut_pos = isstd_pos + h.isstdcnt;
    const size_t footer_pos = isut_pos + h.isutcnt;

    int32_t type_offset[256];
    r.pos = types_pos;
    for (uint32_t i = 0; i < h.typecnt; i++) {
        int32_t utoff = read_i32(&r);
        unsigned char isdst = data[r.pos], desig = data[r.pos + 1];
        r.pos += 2;
        /* The designation must be a NUL-terminated string inside the character block. */
        bool desig_ok =
            desig < h.charcnt && memchr(data + chars_pos + desig, '\0', h.charcnt - desig) != NULL;
        if (utoff < TZIF_MIN_UTOFF || utoff > TZIF_MAX_UTOFF || isdst > 1 || !desig_ok) {
            set_error(err, errlen, "time zone file for '%s' is corrupt (local time type %u)", name,
                      (unsigned)i);
            return false;
        }
        type_offset[i] = utoff;
    }
    for (uint32_t i = 0; i < h.typecnt; i++) {
        unsigned char isstd = h.isstdcnt ? data[isstd_pos + i] : 0;
        unsigned char isut = h.isutcnt ? data[isut_pos + i] : 0;
        if (isstd > 1 || isut > 1 || (isut && !isstd)) {
            set_error(err, errlen, "time zone file for '%s' is corrupt (indicators)", name);
            return false;
        }
    }

    /* Footer: '\n' TZ-string '\n', ending the file. */
    size_t footer_len = 0;
    const char *footer = NULL;
    {
        size_t rest = size - footer_pos;
        const unsigned char *nl = NULL;
        if (rest >= 2 && data[footer_pos] == '\n') {
            footer = (const char *)data + footer_pos + 1;
            nl = memchr(footer, '\n', rest - 1);
        }
        if (nl == NULL) {
            set_error(err, errlen, "time zone file for '%s' is corrupt (missing footer)", name);
            return false;
        }
        footer_len = (size_t)(nl - (const unsigned char *)footer);
        if (footer_pos + 1 + footer_len + 1 != size) {
            set_error(err, errlen, "time zone file for '%s' has trailing data", name);
            return false;
        }
    }
    char footer_text[256];
    posix_tz rule;
    bool has_rule = footer_len > 0;
    if (has_rule) {
        if (footer_len >= sizeof footer_text || memchr(footer, '\0', footer_len) != NULL) {
            set_error(err, errlen, "time zone file for '%s' is corrupt (footer)", name);
            return false;
        }
        memcpy(footer_text, footer, footer_len);
        footer_text[footer_len] = '\0';
        if (!parse_posix_tz(footer_text, &rule)) {
            set_error(err, errlen, "time zone file for '%s' has an unsupported TZ rule \"%s\"", name,
                      footer_text);
            return false;
        }
    }

    /* Validate all transitions before deciding what to keep. */
    int64_t last_time = 0;
    for (uint32_t i = 0; i < h.timecnt; i++) {
        r.pos = times_pos + (size_t)i * 8;
        int64_t t = read_i64(&r);
        if ((i > 0 && t <= last_time) || data[indices_pos + i] >= h.typecnt) {
            set_error(err, errlen, "time zone file for '%s' is corrupt (transition %u)", name, (unsigned)i);
            return false;
        }
        last_time = t;
    }
    int32_t final_offset = h.timecnt > 0 ? type_offset[data[indices_pos + h.timecnt - 1]] : type_offset[0];
    if (has_rule && !rule.has_dst && rule.std_offset != final_offset) {
        set_error(err, errlen, "time zone file for '%s' is corrupt (TZ rule disagrees with last transition)",
                  name);
        return false;
    }

    /* Footer-rule years to generate: those that may hold an instant in (last_time, until]. */
    int first_year = h.timecnt > 0 ? year_of(last_time) - 1 : TZLOAD_MIN_RULE_YEAR;
    int last_year = year_of(until_epoch) + 1;
    if (first_year < TZLOAD_MIN_RULE_YEAR) first_year = TZLOAD_MIN_RULE_YEAR;
    if (last_year > TZLOAD_MAX_RULE_YEAR) last_year = TZLOAD_MAX_RULE_YEAR;
    size_t event_count = 0;
    if (has_rule && rule.has_dst && first_year <= last_year && (h.timecnt == 0 || last_time < until_epoch))
        event_count = 2 * (size_t)(last_year - first_year + 1);

    uint64_t capacity = (uint64_t)h.timecnt + event_count;
    if (capacity > UINT32_MAX) {
        set_error(err, errlen, "time zone '%s' has too many transitions", name);
        return false;
    }
    table_builder b = { NULL, NULL, 0, (uint32_t)capacity, type_offset[0] };
    rule_event *events = NULL;
    if (capacity > 0) {
        b.at = malloc((size_t)capacity * sizeof *b.at);
        b.offset = malloc((size_t)capacity * sizeof *b.offset);
    }
    if (event_count > 0) events = malloc(event_count * sizeof *events);
    if ((capacity > 0 && (b.at == NULL || b.offset == NULL)) || (event_count > 0 && events == NULL)) {
        free(b.at);
        free(b.offset);
        free(events);
        set_error(err, errlen, "out of memory loading time zone '%s'", name);
        return false;
    }

    for (uint32_t i = 0; i < h.timecnt; i++) {
        r.pos = times_pos + (size_t)i * 8;
        int64_t t = read_i64(&r);
        if (t > until_epoch) break;
        table_push(&b, t, type_offset[data[indices_pos + i]]);
    }

    if (event_count > 0) {
        size_t n = 0;
        for (int year = first_year; year <= last_year; year++) {
            /* The start time is given in standard time, the end time in daylight time. Years
             * 1800..9999 and |time| <= 167h keep all of this far from overflow. */
            int64_t start = rule_day(&rule.start, year) * 86400 + rule.start.time - rule.std_offset;
            int64_t end = rule_day(&rule.end, year) * 86400 + rule.end.time - rule.dst_offset;
            events[n] = (rule_event){ start, rule.dst_offset, (uint32_t)n };
            n++;
            events[n] = (rule_event){ end, rule.std_offset, (uint32_t)n };
            n++;
        }
        qsort(events, n, sizeof *events, compare_events);
        for (size_t i = 0; i < n; i++) {
            if ((h.timecnt == 0 || events[i].at > last_time) && events[i].at <= until_epoch)
                table_push(&b, events[i].at, events[i].offset);
        }
        free(events);
    }

    if (b.count == 0) {
        free(b.at);
        free(b.offset);
        b.at = NULL;
        b.offset = NULL;
    }
    *at = b.at;
    *offset = b.offset;
    *count = b.count;
    *base_offset = b.base_offset;
    return true;
}

/* --- files ----------------------------------------------------------------------------------- */

static bool valid_zone_name(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > TZLOAD_MAX_NAME || name[0] == '/' || name[len - 1] == '/' ||
        strstr(name, "//") != NULL || strstr(name, "..") != NULL)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!is_alpha(c) && !is_digit(c) && c != '_' && c != '+' && c != '-' && c != '/') return false;
    }
    return true;
}

/* Reads a whole regular file of at most TZLOAD_MAX_FILE_SIZE bytes. *missing is set when the
 * file does not exist (or is not a regular file), as opposed to an I/O error. */
static unsigned char *read_zone_file(const char *path, size_t *size, bool *missing, char *err, size_t errlen)
{
    *missing = false;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        if (errno == ENOENT || errno == ENOTDIR) {
            *missing = true;
            return NULL;
        }
        set_error(err, errlen, "cannot open time zone file '%s': %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        *missing = true;
        return NULL;
    }
    if (st.st_size < 0 || (uint64_t)st.st_size > TZLOAD_MAX_FILE_SIZE) {
        fclose(f);
        set_error(err, errlen, "time zone file '%s' is too large", path);
        return NULL;
    }
    /* Read up to one byte past the limit so a file that grew since fstat is still caught. */
    size_t cap = (size_t)st.st_size + 1;
    unsigned char *buf = malloc(cap);
    if (buf == NULL) {
        fclose(f);
        set_error(err, errlen, "out of memory reading '%s'", path);
        return NULL;
    }
    size_t n = fread(buf, 1, cap, f);
    bool failed = ferror(f) != 0;
    fclose(f);
    if (failed || n == cap) {
        free(buf);
        set_error(err, errlen, "cannot read time zone file '%s'%s", path,
                  failed ? "" : " (it changed while being read)");
        return NULL;
    }
    *size = n;
    return buf;
}

bool tzload_zone(const char *name, int64_t until_epoch, int64_t **at, int32_t **offset, uint32_t *count,
                 int32_t *base_offset, char *err, size_t errlen)
{
    *at = NULL;
    *offset = NULL;
    *count = 0;
    if (name == NULL || !valid_zone_name(name)) {
        set_error(err, errlen, "invalid time zone name '%s'", name ? name : "(null)");
        return false;
    }
    const char *dir = getenv("PERK_ZONEINFO");
    if (dir == NULL || dir[0] == '\0') dir = "/usr/share/zoneinfo";
    char path[4096];
    int plen = snprintf(path, sizeof path, "%s/%s", dir, name);
    if (plen < 0 || (size_t)plen >= sizeof path) {
        set_error(err, errlen, "time zone path for '%s' is too long", name);
        return false;
    }
    size_t size = 0;
    bool missing = false;
    unsigned char *data = read_zone_file(path, &size, &missing, err, errlen);
    if (data == NULL) {
        if (!missing) return false;
        if (strcmp(name, "UTC") == 0 || strcmp(name, "Etc/UTC") == 0) {
            *base_offset = 0; /* built in, so UTC works without tzdata */
            return true;
        }
        set_error(err, errlen, "unknown time zone '%s'", name);
        return false;
    }
    bool ok = tzload_parse(data, size, name, until_epoch, at, offset, count, base_offset, err, errlen);
    free(data);
    return ok;
}

bool tzload_exists(const char *name)
{
    int64_t *at;
    int32_t *offset;
    uint32_t count;
    int32_t base;
    if (!tzload_zone(name, 0, &at, &offset, &count, &base, NULL, 0)) return false;
    free(at);
    free(offset);
    return true;
}
