/* test_root.h - test programs that read files of the repository (golden files, rule files) find
 * its root here: $PERK_SRCDIR, the working directory, or two levels above the test binary
 * (build/tests/test_x), checked by the presence of a folder the test needs. */
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
    if (srcdir != NULL && srcdir[0] != '\0')
        return chdir(srcdir) == 0 && test_is_dir(marker);
    if (test_is_dir(marker))
        return true;
    char buf[4096];
    if (realpath(argv0, buf) == NULL)
        snprintf(buf, sizeof buf, "%s", argv0);
    for (int up = 0; up < 3; up++) {
        char *slash = strrchr(buf, '/');
        if (slash == NULL)
            return false;
        *slash = '\0';
    }
    return buf[0] != '\0' && chdir(buf) == 0 && test_is_dir(marker);
}

/* qsort comparator for an array of C strings. */
static inline int test_compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

#endif
