/* test_root.h - test programs that read files of the repository (golden files, rule files) find
 * its root here: $PERK_SRCDIR, the working directory, or two levels above the test binary
 * (build/tests/test_x), checked by the presence of a folder the test needs; and read them whole
 * (test_read_all). */
#ifndef PERK_TEST_ROOT_H
#define PERK_TEST_ROOT_H

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static inline bool test_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Changes to the repository root, where `marker` (a folder such as "tests/diagnostics") exists. */
static inline bool test_find_root(const char *argv0, const char *marker)
{
    const char *srcdir = getenv("PERK_SRCDIR");
    if (srcdir != NULL && srcdir[0] != '\0') return chdir(srcdir) == 0 && test_is_dir(marker);
    if (test_is_dir(marker)) return true;
    char buf[4096];
    if (realpath(argv0, buf) == NULL) snprintf(buf, sizeof buf, "%s", argv0);
    for (int up = 0; up < 3; up++) {
        char *slash = strrchr(buf, '/');
        if (slash == NULL) return false;
        *slash = '\0';
    }
    return buf[0] != '\0' && chdir(buf) == 0 && test_is_dir(marker);
}

/* qsort comparator for an array of C strings. */
static inline int test_compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The whole file at `path`, NUL-terminated, its length in *len; NULL when it cannot be opened
 * (golden and expected-output files). Aborts when out of memory. */
static inline char *test_read_all(const char *path, size_t *len)
{
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (f == NULL) return NULL;
    char *data = NULL;
    size_t cap = 0;
    for (;;) {
        if (*len + 4096 + 1 > cap) {
            cap = (cap + 4096) * 2;
            char *fresh = realloc(data, cap);
            if (fresh == NULL) abort();
            data = fresh;
        }
        size_t n = fread(data + *len, 1, cap - *len - 1, f);
        *len += n;
        if (n == 0) break;
    }
    fclose(f);
    data[*len] = '\0';
    return data;
}

#endif
