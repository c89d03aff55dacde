/* report.h - the results of campaigns over a period as JSON, CSV or text: the figures behind the
 * console's Results page and `perk report` (one function for both, so they cannot disagree). */
#ifndef PERK_REPORT_H
#define PERK_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "store/store.h"

/* Parses "YYYY-MM-DD" (from 1970) as a day number (civil.h); false when it is not a date. */
bool report_parse_date(const char *text, int64_t *day);

/* The longest period a report covers, in days. */
#define REPORT_MAX_DAYS 3660

/* The report of the orders committed on the days from_day to to_day (day numbers, both included)
 * of the shop, in the time zone of the active version (UTC without one), as a jansson object
 * (json_t *, returned as void * so that this header does not need jansson): period totals, points
 * issued / redeemed / expired, per promotion (times applied, discount given, orders and revenue
 * where it applied, and its budget used and left, from the active version's limits), per local day,
 * and per tier (orders, revenue, points issued and redeemed by the tier the customer had when
 * ordering; expired by their tier now), the version's tiers first. Money in major units as strings
 * in the active version's currency. NULL with a message in err. */
void *report_build(perk_store *store, int64_t from_day, int64_t to_day, char *err, size_t errlen);
/* The same report rendered: JSON text (malloc'ed), CSV of the promotions, or aligned text. */
char *report_json_text(void *report);
void report_print_csv(FILE *out, void *report);
void report_print_text(FILE *out, void *report);
/* Frees a report of report_build. */
void report_free(void *report);

#endif
