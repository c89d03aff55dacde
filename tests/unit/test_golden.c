/* test_golden.c - golden diagnostics tests: every tests/diagnostics/NAME.perk (sorted) is parsed,
 * checked (only when it parsed without errors: the checker needs a complete tree), and its
 * diagnostics rendered as plain text must equal NAME.expected byte for byte. Each file is one
 * cmocka test, so the count is visible.
 *
 * Run from the repository root, or set PERK_SRCDIR to it (the binary also finds the root from
 * its own path, build/tests/test_golden). PERK_GOLDEN_UPDATE=1 rewrites the .expected files
 * from the current output instead of comparing (review the diff before committing!).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_root.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compiler/compiler.h"

#define GOLDEN_DIR "tests/diagnostics"

/* Renders the diagnostics of one file into a malloc'ed string: the whole compile pipeline
 * (parse, check, static analysis, code generation), as `perk check` runs it. */
static char *render(const char *path, size_t *len)
{
    compiler c;
    compiler_init(&c);
    compiler_compile_files(&c, &path, 1, NULL, NULL);
    diag_sort(&c.diags);
    char *out = NULL;
    FILE *mem = open_memstream(&out, len);
    assert_non_null(mem);
    diag_print_text(&c.diags, mem, false);
    fclose(mem);
    compiler_free(&c);
    return out;
}

/* Prints the lines around the first difference, '-' expected and '+' actual. */
static void print_diff(const char *path, const char *want, const char *got)
{
    int line = 1;
    const char *w = want, *g = got;
    /* find the first differing line */
    for (;;) {
        const char *we = strchr(w, '\n'), *ge = strchr(g, '\n');
        size_t wl = we ? (size_t)(we - w) : strlen(w), gl = ge ? (size_t)(ge - g) : strlen(g);
        if (wl != gl || memcmp(w, g, wl) != 0 || !we || !ge) break;
        w = we + 1;
        g = ge + 1;
        line++;
    }
    print_error("%s differs from its .expected file from line %d:\n", path, line);
    for (int i = 0; i < 12 && (*w || *g); i++) {
        const char *we = strchr(w, '\n'), *ge = strchr(g, '\n');
        int wl = (int)(we ? (size_t)(we - w) : strlen(w)), gl = (int)(ge ? (size_t)(ge - g) : strlen(g));
        if (*w && *g && wl == gl && memcmp(w, g, (size_t)wl) == 0) {
            print_error(" %.*s\n", wl, w);
        } else {
            if (*w) print_error("-%.*s\n", wl, w);
            if (*g) print_error("+%.*s\n", gl, g);
        }
        w = we ? we + 1 : w + wl;
        g = ge ? ge + 1 : g + gl;
    }
    print_error("(rerun with PERK_GOLDEN_UPDATE=1 to accept the new output)\n");
}

static void run_golden(void **state)
{
    const char *path = *state;
    char expected_path[1024];
    size_t plen = strlen(path);
    assert_true(plen > 5 && plen + 10 < sizeof expected_path);
    snprintf(expected_path, sizeof expected_path, "%.*s.expected", (int)(plen - 5), path);

    size_t got_len = 0;
    char *got = render(path, &got_len);
    const char *update = getenv("PERK_GOLDEN_UPDATE");
    if (update != NULL && strcmp(update, "1") == 0) {
        FILE *f = fopen(expected_path, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(got, 1, got_len, f), got_len);
        assert_int_equal(fclose(f), 0);
        free(got);
        return;
    }
    size_t want_len = 0;
    char *want = test_read_all(expected_path, &want_len);
    if (want == NULL) {
        print_error("%s is missing; the output was:\n%s", expected_path, got);
        free(got);
        fail();
    }
    bool same = want_len == got_len && memcmp(want, got, got_len) == 0;
    if (!same) print_diff(path, want, got);
    free(want);
    free(got);
    assert_true(same);
}

int main(int argc, char **argv)
{
    (void)argc;
    /* the schedule analysis compares with "today": pin it so the expected output never ages */
    setenv("PERK_TODAY", "2026-03-01", 1);
    if (!test_find_root(argv[0], GOLDEN_DIR)) {
        fprintf(stderr, "test_golden: cannot find %s; run from the repository root or set PERK_SRCDIR\n",
                GOLDEN_DIR);
        return 1;
    }
    DIR *dir = opendir(GOLDEN_DIR);
    if (dir == NULL) {
        perror(GOLDEN_DIR);
        return 1;
    }
    char **paths = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len <= 5 || strcmp(e->d_name + len - 5, ".perk") != 0 || e->d_name[0] == '.') continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **fresh = realloc(paths, cap * sizeof *fresh);
            if (fresh == NULL) return 1;
            paths = fresh;
        }
        size_t need = sizeof GOLDEN_DIR + 1 + len;
        paths[n] = malloc(need);
        if (paths[n] == NULL) return 1;
        snprintf(paths[n], need, "%s/%s", GOLDEN_DIR, e->d_name);
        n++;
    }
    closedir(dir);
    qsort(paths, n, sizeof *paths, test_compare_names);
    struct CMUnitTest *tests = calloc(n ? n : 1, sizeof *tests);
    if (tests == NULL) return 1;
    for (size_t i = 0; i < n; i++) {
        tests[i].name = paths[i] + sizeof GOLDEN_DIR; /* the file name */
        tests[i].test_func = run_golden;
        tests[i].initial_state = paths[i];
    }
    int failed = _cmocka_run_group_tests("golden", tests, n, NULL, NULL);
    for (size_t i = 0; i < n; i++) free(paths[i]);
    free(paths);
    free(tests);
    return failed;
}
