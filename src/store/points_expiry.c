/* points_expiry.c - when a lot of points expires: a period after it becomes available (`expire
 * after 365 days`) or at the end of a calendar year in the rule set's time zone (`expire at end of
 * year`, `expire at end of next year`; docs/semantics.md "Points expiring with the calendar").
 *
 * The end of local year Y is the first instant whose local wall-clock time is Y+1-01-01 00:00:00
 * or later: points are usable through 23:59:59 on 31 December and gone at local midnight. The
 * zone's offset table (runtime/tz.h) converts local to UTC: with a DST change at that midnight the
 * local time can occur twice (the earlier instant is taken) or not at all (the transition instant,
 * where the clock jumps past midnight, is taken). */
#include "store_internal.h"

#include "civil.h"
#include "tz.h"

/* Zones change offset at most once in a few days: the offsets two days before and after `local`
 * are the only ones that can apply at the instants within +-18 hours of it. */
#define ZONE_PROBE_SECONDS (2 * 86400)

/* The first instant whose local time in z is `local` or later. */
static int64_t zone_first_instant_at(const tz_zone *z, int64_t local)
{
    int32_t before = tz_offset_at(z, local - ZONE_PROBE_SECONDS);
    int32_t after = tz_offset_at(z, local + ZONE_PROBE_SECONDS);
    int64_t best = 0;
    bool found = false;
    int32_t offsets[2] = { before, after };
    for (int i = 0; i < 2; i++) {
        int64_t t = local - offsets[i];
        if (tz_offset_at(z, t) != offsets[i]) continue; /* that offset is not in effect then */
        if (!found || t < best) best = t;
        found = true;
    }
    if (found) return best;
    /* a gap: local times [T + before, T + after) never occur; T is the last transition at or
     * before local - before, and from T on the clock reads past `local` */
    int64_t t = local - before;
    for (uint32_t i = 0; i < z->count; i++) {
        if (z->at[i] > t) break;
        best = z->at[i];
    }
    return best;
}

bool pstore_points_expiry(const perk_store_policy *p, int64_t from, int64_t *expires_at)
{
    *expires_at = 0;
    if (p == NULL) return true;
    if (p->expire_year_end == 0) {
        if (p->expire_seconds == 0) return true;
        if (__builtin_add_overflow(from, p->expire_seconds, expires_at)) {
            *expires_at = 0;
            return false;
        }
        return true;
    }
    tz_zone z = { .count = p->zone_count,
                  .at = p->zone_at,
                  .offset = p->zone_offset,
                  .base_offset = p->zone_base_offset };
    tz_local l;
    tz_to_local(&z, from, &l);
    /* instants are within +-2^63 s, about 2.9e11 years: far inside civil.h's range, but a year
     * 10^9 away would not make an instant */
    if (l.year > 100000000 - p->expire_year_end) return false;
    int64_t days = civil_days_from_date(l.year + p->expire_year_end, 1, 1);
    int64_t local;
    if (__builtin_mul_overflow(days, (int64_t)86400, &local)) return false;
    *expires_at = zone_first_instant_at(&z, local);
    if (*expires_at <= from) { /* cannot happen with a sane zone; never let points die at birth */
        *expires_at = 0;
        return false;
    }
    return true;
}
