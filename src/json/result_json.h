/* result_json.h - renders a perk_result as JSON (for `perk eval --json` and JSON services), and
 * the names an explanation needs.
 *
 * A perk_result refers to promotions, earn rules and conditions by index. The renderers take
 * their names from a result_names table instead of a perk_program, so that they can be used (and
 * tested) without a loaded program: the CLI builds one with result_names_from_program(), tests
 * fill one by hand. The JSON format is documented in docs/result.md.
 */
#ifndef PERK_RESULT_JSON_H
#define PERK_RESULT_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <cart_json.h>
#include "perk.h"

/* What kind of value a condition's comparison compared, for formatting observed/expected. */
typedef enum result_value_kind {
    RESULT_VALUE_PLAIN = 0, /* unknown or a plain integer: printed as is */
    RESULT_VALUE_MONEY,     /* minor units: printed as ¥268.00 */
    RESULT_VALUE_PERCENT,   /* ppm: printed as 12.5% */
    RESULT_VALUE_DATE,      /* days since 1970-01-01: printed as 2026-03-04 */
    RESULT_VALUE_TIME,      /* minutes since midnight: printed as 09:30 */
    RESULT_VALUE_DURATION,  /* seconds: printed as people write them, 365 days, 2 hours */
    RESULT_VALUE_DATETIME,  /* local seconds since 1970-01-01 00:00: printed as 2027-11-10 20:00:00 */
    RESULT_VALUE_MONTH_DAY  /* a day of the month: explained as "today is day 17, needs day 18" */
} result_value_kind;

/* Why a fact is unknown, for explanations: "customer.member_since is unknown: the cart has no
 * member" (unknown_fact as perk_promotion_result has it). Empty for 0 (nothing unknown). */
void result_unknown_text(uint32_t unknown_fact, char *buf, size_t cap);

/* Names of a program's promotions, earn rules and conditions. Arrays may be shorter than what a
 * result refers to (a stale or foreign result): missing names render as "#<index>". */
typedef struct result_names {
    size_t n_promotions;
    const char *const *promotion_ids;    /* n_promotions entries */
    const char *const *promotion_labels; /* n_promotions entries (NULL entries: no label) */
    const char *const *promotion_notes;  /* NULL, or n_promotions entries: "95折 (5% off)" or NULL */
    const bool *promotion_per_sku;       /* NULL, or n_promotions entries: its discount shown per SKU */
    const bool *promotion_consumes;      /* NULL, or n_promotions entries: it `consumes` its lines */
    size_t n_earns;
    const char *const *earn_ids;
    /* Conditions are looked up on demand (perk.h has no condition count). Any of these may be
     * NULL; `user` is passed back unchanged. */
    const char *(*condition_text)(const void *user, uint32_t condition);
    void (*condition_location)(const void *user, uint32_t condition, const char **file, uint32_t *line,
                               uint32_t *col);
    /* What a condition compares. perk.h does not expose this yet, so result_names_from_program
     * leaves it NULL and observed/expected print as plain integers. */
    result_value_kind (*condition_kind)(const void *user, uint32_t condition);
    const void *user;
} result_names;

/* Builds the names of a loaded program (strings borrowed from it: keep the program alive).
 * Returns NULL when out of memory. Defined in src/json/result_names.c. */
result_names *result_names_from_program(const perk_program *prog);
/* Frees a table made by result_names_from_program (not one filled by hand). NULL is fine. */
void result_names_free(result_names *names);

/* result_json_render flags */
enum {
    RESULT_JSON_PRETTY = 1u << 0,          /* indent by 2 spaces (default: compact, one line) */
    RESULT_JSON_NO_INSTRUCTIONS = 1u << 1, /* omit "instructions" (for golden files that must
                                              not change when the VM's code does) */
    RESULT_JSON_APPLIED_ONLY = 1u << 2     /* "promotions" lists the applied ones only and
                                              "points" the entries that earned points;
                                              "promotions_not_listed" and "points_not_listed"
                                              count the others: a result the size of what
                                              happened, not of the program (docs/result.md) */
};

/* Renders the result as a malloc'ed NUL-terminated JSON text (free() it), or NULL when out of
 * memory or r is NULL. Deterministic: fixed key order, money as strings in major units with
 * exactly r->exponent decimals ("268.00"), points and counts as integers, no floats.
 * doc (may be NULL) supplies line ids and skus. */
char *result_json_render(const result_names *names, const perk_result *r, const cart_doc *doc, int flags);

/* The same text written into a caller's buffer, without a tree or an allocation per value (a
 * checkout renders every result into one buffer it keeps):
 *
 * result_json_write: like snprintf. Writes at most cap - 1 bytes of the text and a NUL (when
 *   cap > 0) into buf, and returns the length of the whole text (without the NUL): when the
 *   return is >= cap the text was cut, and a buffer of return + 1 bytes holds it. Returns 0 (and
 *   an empty string) when r is NULL; the text is never empty otherwise.
 * result_json_write_buf: into a growable buffer (start with result_json_buf b = { 0 }; keep it
 *   for the next result: once grown to the size of a result it is reused without allocating).
 *   Returns b->data, NUL-terminated, b->len bytes, or NULL when r is NULL or out of memory (b
 *   stays valid: free it with result_json_buf_free). */
typedef struct result_json_buf {
    char *data;
    size_t len;
    size_t cap;
} result_json_buf;
size_t result_json_write(const result_names *names, const perk_result *r, const cart_doc *doc, int flags,
                         char *buf, size_t cap);
const char *result_json_write_buf(const result_names *names, const perk_result *r, const cart_doc *doc,
                                  int flags, result_json_buf *b);
void result_json_buf_free(result_json_buf *b);

/* Helpers shared with explain.c. */

/* The id of promotion `index`, or "#<index>" written into buf. */
const char *result_promotion_id(const result_names *names, uint32_t index, char *buf, size_t cap);
/* Its label, or NULL. */
const char *result_promotion_label(const result_names *names, uint32_t index);
/* The id of earn rule `index`, or "#<index>". */
const char *result_earn_id(const result_names *names, uint32_t index, char *buf, size_t cap);
/* Lower-case name of a status ("overflow") and of a reason ("coupon_missing"); their messages. */
const char *result_status_name(perk_status status);
const char *result_status_message(perk_status status);
const char *result_reason_name(perk_reason reason);
const char *result_reason_message(perk_reason reason);
/* Lower-case verdict name ("used_up") and a sentence ("the code is used up"). */
const char *result_verdict_name(perk_coupon_verdict verdict);
const char *result_verdict_message(perk_coupon_verdict verdict);
/* The operator text of a perk_cmp ("<="), and of its negation ("<=" -> ">"); "?" if invalid. */
const char *result_cmp_text(int cmp);
const char *result_cmp_negated_text(int cmp);

/* Why a comparison failed, in words: "¥268.00 < ¥300.00"; for a day of the month "today is day
 * 17, needs day 18" (expected 0: one of several days, "today is day 17"). */
void result_comparison_text(int64_t observed, int cmp, int64_t expected, result_value_kind kind, int exponent,
                            const char *symbol, char *buf, size_t cap);
/* A near-miss hint as text: "add ¥32.00 of tea to get NAME", for a count tier's next row "add 1
 * more unit of skincare to get 20% off with NAME", for a store short of a per-store threshold
 * "add ¥20.00 of items from store 甲 to get ¥5.00 off there with NAME" (NAME: the promotion's
 * label or id). */
void result_hint_text(const perk_result *r, uint32_t i, const char *symbol, const char *name, char *buf,
                      size_t cap);
/* The store of hint i when it is a per-store hint with a store; NULL otherwise (and for the lines
 * without a store). */
const char *result_hint_store(const perk_result *r, uint32_t i);

/* Formats a value of the given kind: money with `symbol` ("¥268.00"; symbol may be NULL),
 * percent ("12.5%"), date ("2026-03-04"), else the integer. */
void result_format_value(int64_t value, result_value_kind kind, int exponent, const char *symbol, char *buf,
                         size_t cap);
/* "x2", or "x3/2" for a fractional multiplier. */
void result_format_multiplier(int64_t num, int64_t den, char *buf, size_t cap);
/* The condition's kind, text ("" when unknown) and "file:line:col" location ("" when unknown). */
result_value_kind result_condition_kind(const result_names *names, uint32_t condition);
const char *result_condition_text(const result_names *names, uint32_t condition);
void result_condition_location(const result_names *names, uint32_t condition, char *buf, size_t cap);

#endif
