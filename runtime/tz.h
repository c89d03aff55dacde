/* tz.h: time zones as precomputed UTC-offset transition tables, for converting an instant to
 * local calendar fields inside libperk. Tables are built by the compiler (src/compiler/tzload.c) and
 * embedded in compiled rules; this module only reads them. Thread-safe, never allocates. */
#ifndef PERK_TZ_H
#define PERK_TZ_H

#include <stdint.h>

/* A zone: offset[i] (seconds east of UTC) applies from UTC epoch second at[i] (inclusive) until
 * at[i + 1]; before at[0] (or always, if count == 0) base_offset applies. at[] is strictly
 * ascending. at and offset may be NULL when count == 0. */
typedef struct {
    uint32_t count;
    const int64_t *at;
    const int32_t *offset;
    int32_t base_offset;
} tz_zone;

/* Local calendar view of an instant. */
typedef struct {
    int64_t days; /* local day number, days since 1970-01-01 (see civil.h) */
    int year, month, day;
    int weekday;       /* 0 = Monday ... 6 = Sunday */
    int minute_of_day; /* 0..1439 local wall-clock minute */
    int second_of_day; /* 0..86399 local wall-clock second */
    int32_t offset;    /* seconds east of UTC in effect at the instant */
} tz_local;

/* Returns the UTC offset in effect at epoch_seconds (binary search). */
int32_t tz_offset_at(const tz_zone *z, int64_t epoch_seconds);

/* Converts epoch_seconds to local time in zone z. Local times beyond the calendar range of
 * civil.h are clamped; no input can cause overflow. */
void tz_to_local(const tz_zone *z, int64_t epoch_seconds, tz_local *out);

/* The instant at which the wall clock of zone z reads local_seconds (a local time as seconds since
 * 1970-01-01 00:00 local: days_from_date * 86400 + second of the day). A wall time skipped by a
 * transition (spring forward) or met twice (fall back) takes the offset of one side. */
int64_t tz_from_local(const tz_zone *z, int64_t local_seconds);

#endif
