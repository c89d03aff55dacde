/* suggest.h - "did you mean" suggestions for misspelt names.
 *
 * The distance is the (unrestricted) Damerau-Levenshtein distance over bytes: insertions,
 * deletions, substitutions and transpositions of adjacent characters each cost 1. A candidate is
 * suggested when it is within max(1, strlen(target) / 3) edits of what was written; among several
 * the closest wins, and the earliest added wins a tie (callers add in declaration order, so the
 * suggestion is deterministic). A candidate that differs from the target only by letter case is
 * always the best suggestion ("cny" -> "CNY").
 */
#ifndef PERK_SUGGEST_H
#define PERK_SUGGEST_H

#include <stdbool.h>
#include <stddef.h>

/* Longest name compared; longer names (and candidates) are never suggested. */
#define SUGGEST_MAX_LEN 128

/* Damerau-Levenshtein distance between two NUL-terminated byte strings. Strings longer than
 * SUGGEST_MAX_LEN give SIZE_MAX. */
size_t suggest_distance(const char *a, const char *b);

/* An ongoing search for the candidate closest to `target`. */
typedef struct suggest {
    const char *target;
    const char *best; /* NULL until a candidate within the limit is added */
    size_t best_distance;
    size_t max_distance;
} suggest;

/* Starts a search for names close to `target` (which must outlive the search). */
void suggest_init(suggest *s, const char *target);
/* Considers `candidate` (NULL, empty and identical strings are ignored). The pointer is kept, so
 * the candidate must outlive the search. */
void suggest_add(suggest *s, const char *candidate);
/* The best candidate so far, or NULL. */
const char *suggest_best(const suggest *s);

#endif
