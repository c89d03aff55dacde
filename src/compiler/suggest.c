/* suggest.c - Damerau-Levenshtein distance and the "did you mean" search (see suggest.h). */
#include "suggest.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

static size_t min_size(size_t a, size_t b) { return a < b ? a : b; }

/* The classic algorithm with an alphabet table (Lowrance-Wagner): d has a sentinel row and column
 * holding "infinity" so that transpositions across any distance of unrelated characters work. */
size_t suggest_distance(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    if (n > SUGGEST_MAX_LEN || m > SUGGEST_MAX_LEN) return SIZE_MAX;
    enum { W = SUGGEST_MAX_LEN + 2 };
    static _Thread_local size_t d[W][W];
    size_t last_row_of[256];
    memset(last_row_of, 0, sizeof last_row_of);
    size_t inf = n + m + 1;
    d[0][0] = inf;
    for (size_t i = 0; i <= n; i++) {
        d[i + 1][0] = inf;
        d[i + 1][1] = i;
    }
    for (size_t j = 0; j <= m; j++) {
        d[0][j + 1] = inf;
        d[1][j + 1] = j;
    }
    for (size_t i = 1; i <= n; i++) {
        size_t last_match_col = 0;
        for (size_t j = 1; j <= m; j++) {
            size_t i1 = last_row_of[(unsigned char)b[j - 1]];
            size_t j1 = last_match_col;
            size_t cost = 1;
            if (a[i - 1] == b[j - 1]) {
                cost = 0;
                last_match_col = j;
            }
            size_t best = d[i][j] + cost;           /* substitution or match */
            best = min_size(best, d[i + 1][j] + 1); /* insertion */
            best = min_size(best, d[i][j + 1] + 1); /* deletion */
            /* transposition of a[i1-1] and b[j1-1] with everything between them deleted/inserted */
            best = min_size(best, d[i1][j1] + (i - i1 - 1) + 1 + (j - j1 - 1));
            d[i + 1][j + 1] = best;
        }
        last_row_of[(unsigned char)a[i - 1]] = i;
    }
    return d[n + 1][m + 1];
}

void suggest_init(suggest *s, const char *target)
{
    s->target = target;
    s->best = NULL;
    s->best_distance = SIZE_MAX;
    size_t len = strlen(target);
    s->max_distance = len / 3 > 1 ? len / 3 : 1;
}

void suggest_add(suggest *s, const char *candidate)
{
    if (candidate == NULL || candidate[0] == '\0' || strcmp(candidate, s->target) == 0) return;
    size_t dist;
    if (strcasecmp(candidate, s->target) == 0)
        dist = 0; /* only the case differs: the best possible suggestion */
    else
        dist = suggest_distance(s->target, candidate);
    if (dist <= s->max_distance && dist < s->best_distance) {
        s->best = candidate;
        s->best_distance = dist;
    }
}

const char *suggest_best(const suggest *s) { return s->best; }
