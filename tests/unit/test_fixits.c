/* test_fixits.c - the compiler's fix-its (diag_fix, src/compiler/diag.h).
 *
 * For every golden diagnostic of tests/diagnostics whose output has a fix: apply that
 * diagnostic's fixes to the .perk, compile the result again and require that no diagnostic with
 * that code starts at that place any more, and that the edit brought no new error (no error
 * code occurs more often than before). One cmocka test per golden file with a fix, and one that
 * counts them, so that a fix lost from the compiler fails too. Then the edits themselves:
 * positions in code points with Chinese text on the line (the console applies them by those
 * columns), and how overlapping edits are applied.
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

#include "compiler/compiler.h"

#define GOLDEN_DIR "tests/diagnostics"
/* golden files with a fix when this test was written; fewer means a fix went missing */
#define MIN_FIXED_GOLDENS 26

static void compile_text(compiler *c, const char *name, const char *text, size_t len)
{
    compiler_init(c);
    compiler_compile_text(c, name, text, len, NULL, NULL);
    diag_sort(&c->diags);
}

static int fixes_in_main(const compiler *c)
{
    int n = 0;
    for (int i = 0; i < c->diags.count; i++)
        for (int k = 0; k < c->diags.entries[i].n_fixes; k++) n += c->diags.entries[i].fixes[k].file == 0;
    return n;
}

/* Where byte `offset` of the old text is after the entry's edits (an insertion at the offset
 * itself moves it too: the inserted text comes first). */
static int moved_offset(const diag_entry *e, int offset)
{
    int delta = 0;
    for (int k = 0; k < e->n_fixes; k++) {
        const diag_fix_entry *x = &e->fixes[k];
        if (x->file != 0) continue;
        if (x->last_offset <= offset && (x->first_offset < offset || x->first_offset == x->last_offset))
            delta += (int)strlen(x->text) - (x->last_offset - x->first_offset);
    }
    return offset + delta;
}

static int count_errors(const compiler *c, diag_code code)
{
    int n = 0;
    for (int i = 0; i < c->diags.count; i++)
        n += c->diags.entries[i].severity == DIAG_ERROR && c->diags.entries[i].code == code;
    return n;
}

static void run_fixed_golden(void **state)
{
    const char *path = *state;
    size_t len = 0;
    char *text = test_read_all(path, &len);
    assert_non_null(text);
    compiler before;
    compile_text(&before, path, text, len);
    int checked = 0;
    for (int i = 0; i < before.diags.count; i++) {
        const diag_entry *e = &before.diags.entries[i];
        if (e->n_fixes == 0 || e->fixes[0].file != 0 || e->span.file != 0) continue;
        size_t fixed_len = 0;
        char *fixed = diag_apply_fixes(e, 1, 0, text, len, &fixed_len, NULL);
        assert_non_null(fixed);
        assert_true(fixed_len != len || memcmp(fixed, text, len) != 0); /* the edit changed something */
        compiler after;
        compile_text(&after, path, fixed, fixed_len);
        int at = e->span.first_offset, moved = moved_offset(e, at);
        for (int j = 0; j < after.diags.count; j++) {
            const diag_entry *a = &after.diags.entries[j];
            if (a->code == e->code && (a->span.first_offset == at || a->span.first_offset == moved)) {
                print_error("%s:%d:%d: [%s] is still there after its fix:\n%s\n", path, e->span.first_line,
                            e->span.first_column, diag_code_id(e->code), fixed);
                fail();
            }
        }
        for (int j = 0; j < after.diags.count; j++) {
            const diag_entry *a = &after.diags.entries[j];
            if (a->severity != DIAG_ERROR) continue;
            int was = count_errors(&before, a->code) - (a->code == e->code);
            if (count_errors(&after, a->code) > was) {
                print_error("%s: the fix of [%s] at %d:%d brought a new error at %d:%d: %s [%s]\n%s\n", path,
                            diag_code_id(e->code), e->span.first_line, e->span.first_column, a->span.first_line,
                            a->span.first_column, a->message, diag_code_id(a->code), fixed);
                fail();
            }
        }
        compiler_free(&after);
        free(fixed);
        checked++;
    }
    assert_true(checked > 0);
    compiler_free(&before);
    free(text);
}

static char **fixed_paths;
static size_t n_fixed_paths;

static void goldens_with_fixes(void **state)
{
    (void)state;
    if (n_fixed_paths < MIN_FIXED_GOLDENS)
        print_error("only %zu golden files have a fix (at least %d expected)\n", n_fixed_paths, MIN_FIXED_GOLDENS);
    assert_true(n_fixed_paths >= MIN_FIXED_GOLDENS);
}

/* The fix's columns count code points: `order.subtotl` starts at column 26 after the three
 * Chinese characters of the label, byte 32; the fixed text compiles clean. */
static void fix_columns_are_code_points(void **state)
{
    (void)state;
    const char *src = "ruleset \"茶铺\" { currency CNY }\n"
                      "promotion p \"会员日\" { when order.subtotl >= ¥100 then 10% off order }\n";
    compiler c;
    compile_text(&c, "cols.perk", src, strlen(src));
    assert_int_equal(c.diags.count, 1);
    const diag_entry *e = &c.diags.entries[0];
    assert_int_equal(e->code, DIAG_UNKNOWN_FACT);
    assert_int_equal(e->n_fixes, 1);
    const diag_fix_entry *x = &e->fixes[0];
    assert_int_equal(x->line, 2);
    assert_int_equal(x->column, 26);
    assert_int_equal(x->end_line, 2);
    assert_int_equal(x->end_column, 39); /* exclusive: 26 + 13 code points */
    assert_int_equal(x->first_offset, (int)(strchr(src, '\n') - src) + 1 + 31);
    assert_string_equal(x->text, "order.subtotal");

    char *json = NULL;
    size_t json_len = 0;
    FILE *mem = open_memstream(&json, &json_len);
    assert_non_null(mem);
    diag_print_json(&c.diags, mem);
    fclose(mem);
    assert_non_null(strstr(json, "\"fixes\": [{\"file\": \"cols.perk\", \"line\": 2, \"column\": 26, "
                                 "\"end_line\": 2, \"end_column\": 39, \"text\": \"order.subtotal\"}]"));
    free(json);

    size_t n = 0;
    char *fixed = diag_apply_fixes(c.diags.entries, c.diags.count, 0, src, strlen(src), &n, NULL);
    assert_non_null(fixed);
    assert_non_null(strstr(fixed, "when order.subtotal >= ¥100"));
    compiler again;
    compile_text(&again, "cols.perk", fixed, n);
    assert_int_equal(again.diags.count, 0);
    compiler_free(&again);
    free(fixed);
    compiler_free(&c);
}

/* An insertion after Chinese text: the closing quote of `"龙井` goes at column 16, end of line. */
static void insertion_after_chinese(void **state)
{
    (void)state;
    const char *src = "ruleset \"茶铺\" { currency CNY }\n"
                      "promotion p {\n"
                      "  then gift \"龙井\n"
                      "}\n";
    compiler c;
    compile_text(&c, "ins.perk", src, strlen(src));
    const diag_entry *e = NULL;
    for (int i = 0; i < c.diags.count; i++)
        if (c.diags.entries[i].code == DIAG_UNTERMINATED_STRING) e = &c.diags.entries[i];
    assert_non_null(e);
    assert_int_equal(e->n_fixes, 1);
    assert_int_equal(e->fixes[0].line, 3);
    assert_int_equal(e->fixes[0].column, 16); /* `  then gift "` is 13 columns, 龙 14, 井 15 */
    assert_int_equal(e->fixes[0].end_column, 16);
    size_t n = 0;
    char *fixed = diag_apply_fixes(e, 1, 0, src, strlen(src), &n, NULL);
    assert_non_null(strstr(fixed, "  then gift \"龙井\"\n"));
    compiler again;
    compile_text(&again, "ins.perk", fixed, n);
    assert_int_equal(again.diags.errors, 0);
    compiler_free(&again);
    free(fixed);
    compiler_free(&c);
}

/* Edits are applied by position whatever order they were reported in; a diagnostic with an edit
 * overlapping one of an earlier diagnostic is skipped whole (its other edit too), and `applied`
 * says so; no fix in the file gives NULL. */
static void apply_order_and_overlap(void **state)
{
    (void)state;
    const char *text = "abcdef";
    diag_fix_entry f0[1] = { { .file = 0, .first_offset = 4, .last_offset = 5, .text = (char *)"E" } };
    diag_fix_entry f1[1] = { { .file = 0, .first_offset = 0, .last_offset = 2, .text = (char *)"XY" } };
    diag_fix_entry f2[2] = { { .file = 0, .first_offset = 3, .last_offset = 3, .text = (char *)"!" },
                             { .file = 0, .first_offset = 1, .last_offset = 3, .text = (char *)"zz" } };
    diag_fix_entry f3[2] = { { .file = 0, .first_offset = 6, .last_offset = 6, .text = (char *)"}" },
                             { .file = 0, .first_offset = 3, .last_offset = 3, .text = (char *)"-" } };
    diag_entry e[4];
    memset(e, 0, sizeof e);
    e[0].fixes = f0, e[0].n_fixes = 1;
    e[1].fixes = f1, e[1].n_fixes = 1;
    e[2].fixes = f2, e[2].n_fixes = 2; /* 1..3 overlaps e[1]'s 0..2: neither of its edits */
    e[3].fixes = f3, e[3].n_fixes = 2;
    bool applied[4];
    size_t n = 0;
    char *out = diag_apply_fixes(e, 4, 0, text, strlen(text), &n, applied);
    assert_string_equal(out, "XYc-dEf}");
    assert_int_equal(n, 8);
    assert_true(applied[0] && applied[1] && !applied[2] && applied[3]);
    free(out);
    assert_null(diag_apply_fixes(e, 4, 1, text, strlen(text), &n, applied));
    assert_false(applied[0]);
}

/* A fix reported after a dropped diagnostic (max_errors) is dropped with it. */
static void fix_of_dropped_diagnostic(void **state)
{
    (void)state;
    source_set set;
    source_init(&set);
    int f = source_add_text(&set, "d.perk", "abc def\n", 8);
    diag_engine d;
    diag_init(&d, &set);
    d.max_errors = 1;
    ast_span s = diag_span_at(f, 0);
    s.last_offset = 3;
    diag_report(&d, DIAG_UNKNOWN_NAME, s, NULL, "first");
    diag_fix(&d, s, "xyz");
    diag_report(&d, DIAG_UNKNOWN_NAME, s, NULL, "second, dropped");
    diag_fix(&d, s, "uvw");
    assert_int_equal(d.count, 1);
    assert_int_equal(d.entries[0].n_fixes, 1);
    assert_string_equal(d.entries[0].fixes[0].text, "xyz");
    /* diag_fix_word checks the bytes: `abd` is not what is written there */
    d.last_dropped = false;
    diag_fix_word(&d, s, "abd", "q");
    assert_int_equal(d.entries[0].n_fixes, 1);
    diag_free(&d);
    source_free(&set);
}

int main(int argc, char **argv)
{
    (void)argc;
    setenv("PERK_TODAY", "2026-03-01", 1);
    if (!test_find_root(argv[0], GOLDEN_DIR)) {
        fprintf(stderr, "test_fixits: cannot find %s; run from the repository root or set PERK_SRCDIR\n", GOLDEN_DIR);
        return 1;
    }
    DIR *dir = opendir(GOLDEN_DIR);
    if (dir == NULL) {
        perror(GOLDEN_DIR);
        return 1;
    }
    size_t cap = 0;
    struct dirent *de;
    while ((de = readdir(dir)) != NULL) {
        size_t len = strlen(de->d_name);
        if (len <= 5 || strcmp(de->d_name + len - 5, ".perk") != 0 || de->d_name[0] == '.') continue;
        size_t need = sizeof GOLDEN_DIR + 1 + len;
        char *path = malloc(need);
        if (path == NULL) return 1;
        snprintf(path, need, "%s/%s", GOLDEN_DIR, de->d_name);
        size_t tlen = 0;
        char *text = test_read_all(path, &tlen);
        int n = 0;
        if (text != NULL) {
            compiler c;
            compile_text(&c, path, text, tlen);
            n = fixes_in_main(&c);
            compiler_free(&c);
            free(text);
        }
        if (n == 0) {
            free(path);
            continue;
        }
        if (n_fixed_paths == cap) {
            cap = cap ? cap * 2 : 32;
            char **fresh = realloc(fixed_paths, cap * sizeof *fresh);
            if (fresh == NULL) return 1;
            fixed_paths = fresh;
        }
        fixed_paths[n_fixed_paths++] = path;
    }
    closedir(dir);
    if (n_fixed_paths > 1) qsort(fixed_paths, n_fixed_paths, sizeof *fixed_paths, test_compare_names);

    size_t n_unit = 5;
    struct CMUnitTest *tests = calloc(n_fixed_paths + n_unit, sizeof *tests);
    if (tests == NULL) return 1;
    tests[0] = (struct CMUnitTest)cmocka_unit_test(goldens_with_fixes);
    tests[1] = (struct CMUnitTest)cmocka_unit_test(fix_columns_are_code_points);
    tests[2] = (struct CMUnitTest)cmocka_unit_test(insertion_after_chinese);
    tests[3] = (struct CMUnitTest)cmocka_unit_test(apply_order_and_overlap);
    tests[4] = (struct CMUnitTest)cmocka_unit_test(fix_of_dropped_diagnostic);
    for (size_t i = 0; i < n_fixed_paths; i++) {
        tests[n_unit + i].name = fixed_paths[i] + sizeof GOLDEN_DIR;
        tests[n_unit + i].test_func = run_fixed_golden;
        tests[n_unit + i].initial_state = fixed_paths[i];
    }
    int failed = _cmocka_run_group_tests("fixits", tests, n_fixed_paths + n_unit, NULL, NULL);
    for (size_t i = 0; i < n_fixed_paths; i++) free(fixed_paths[i]);
    free(fixed_paths);
    free(tests);
    return failed;
}
