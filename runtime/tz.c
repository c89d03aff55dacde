/* tz.c: instant -> local calendar conversion over a transition table (see tz.h). */
#include "tz.h"

#include "civil.h"

int32_t tz_offset_at(const tz_zone *z, int64_t epoch_seconds)
{
    /* Find the number of transitions at or before the instant; the last of them applies. */
    uint32_t lo = 0, hi = z->count;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (z->at[mid] <= epoch_seconds)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo == 0 ? z->base_offset : z->offset[lo - 1];
}

void tz_to_local(const tz_zone *z, int64_t epoch_seconds, tz_local *out)
{
    int32_t offset = tz_offset_at(z, epoch_seconds);
    int64_t local;
    if (__builtin_add_overflow(epoch_seconds, (int64_t)offset, &local))
        local = offset > 0 ? INT64_MAX : INT64_MIN;
    /* Floor division so instants before 1970 land on the right day. */
    int64_t days = local / 86400, second_of_day = local % 86400;
    if (second_of_day < 0) {
        second_of_day += 86400;
        days -= 1;
    }
    if (days < CIVIL_MIN_DAYS) days = CIVIL_MIN_DAYS;
    if (days > CIVIL_MAX_DAYS) days = CIVIL_MAX_DAYS;
    out->days = days;
    civil_date_from_days(days, &out->year, &out->month, &out->day);
    out->weekday = civil_weekday(days);
    out->minute_of_day = (int)(second_of_day / 60);
    out->second_of_day = (int)second_of_day;
    out->offset = offset;
}

int64_t tz_from_local(const tz_zone *z, int64_t local_seconds)
{
    /* the offset at the instant itself: guess with the offset at the local reading taken as UTC,
     * then once more with the offset at that guess (exact unless the wall time falls in a
     * transition's gap or overlap, where it picks one side) */
    int64_t guess = local_seconds - tz_offset_at(z, local_seconds);
    return local_seconds - tz_offset_at(z, guess);
}
