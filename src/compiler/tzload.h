/* tzload.h: compiler-side loader that turns a system TZif time zone file (RFC 8536) into the
 * transition table libperk's tz module reads (runtime/tz.h).
 *
 * Zone files are treated as untrusted input: every count, index, offset and string is checked,
 * and a bad file gives an error message, never a crash. Only the 64-bit (version 2+) data is
 * used. Not thread-safe (reads the environment and uses strerror). */
#ifndef PERK_TZLOAD_H
#define PERK_TZLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Latest year for which transitions are generated from a file's POSIX TZ footer rule. */
#define TZLOAD_MAX_RULE_YEAR 9999
/* Earliest year for which footer transitions are generated (matters only for files whose
 * explicit transitions end before this year yet have a DST footer). */
#define TZLOAD_MIN_RULE_YEAR 1800
/* Zone files larger than this are refused. */
#define TZLOAD_MAX_FILE_SIZE (4u << 20)

/* Loads zone `name` (e.g. "Asia/Shanghai") from $PERK_ZONEINFO/NAME if that variable is set
 * and non-empty, else /usr/share/zoneinfo/NAME. The name must be 1..255 characters of
 * [A-Za-z0-9_+/-], not start with '/', and have no empty or ".." component.
 *
 * On success returns true and sets *count transitions in malloc'd arrays *at (UTC epoch second
 * at which the offset starts, strictly ascending) and *offset (seconds east of UTC), plus
 * *base_offset for instants before the first transition; the caller free()s both arrays (they
 * are NULL when *count is 0). The result contains the file's transitions at or before
 * until_epoch, then, if the file's footer has a DST rule, transitions generated from that rule
 * up to until_epoch (at most through year TZLOAD_MAX_RULE_YEAR). Transitions that do not change
 * the offset (e.g. only the abbreviation changes) are left out.
 * "UTC" and "Etc/UTC" work even when no zone file exists.
 *
 * On failure returns false, sets *at and *offset to NULL and *count to 0, and writes a message
 * such as "unknown time zone 'Asia/Shangai'" into err (truncated to errlen; err may be NULL). */
bool tzload_zone(const char *name, int64_t until_epoch, int64_t **at, int32_t **offset, uint32_t *count,
                 int32_t *base_offset, char *err, size_t errlen);

/* Same as tzload_zone but parses TZif bytes already in memory; `name` is used only in error
 * messages. Exposed for tests and fuzzing. */
bool tzload_parse(const unsigned char *data, size_t size, const char *name, int64_t until_epoch, int64_t **at,
                  int32_t **offset, uint32_t *count, int32_t *base_offset, char *err, size_t errlen);

/* True if `name` is a valid zone name whose file loads without error. */
bool tzload_exists(const char *name);

#endif
