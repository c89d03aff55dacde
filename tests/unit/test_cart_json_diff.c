/* test_cart_json_diff.c - libperk's own cart reader (runtime/cart_json.c over json_read.c) against
 * the jansson reader it replaced (tests/unit/ref/cart_json_jansson.c): for every cart of the fuzz
 * corpus and regressions (tests/fuzz/{corpus,regressions}/fuzz_cart), the example carts, a few
 * thousand seeded mutations of each (cut short, one byte replaced, one byte inserted) and the edge
 * cases listed below, both readers must give the same document (every field of the cart_doc, so
 * the context they feed is the same) or the same message, byte for byte, with and without a
 * program currency. Also checks cart_json_order_id against its jansson twin.
 */
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cart_json.h"

#include "ref/cart_json_ref.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "test_root.h"

/* ------------------------------------------------------------------ comparing */

typedef struct tally {
    size_t inputs, accepted, refused;
    dump a, b;
} tally;

static const perk_limits diff_limits = {
    .max_lines = 50,
    .max_quantity = 1000000,
    .max_money = INT64_C(1000000000000000),
    .max_tags = 8,
    .max_coupons = 4,
    .instruction_budget = 10000000,
    .max_rules = 10000,
};

static void compare_one(tally *t, const char *text, size_t len, int exponent, const char *currency,
                        const perk_limits *lim, const char *what)
{
    char m1[512], m2[512];
    memset(m1, 0x55, sizeof m1);
    memset(m2, 0x55, sizeof m2);
    cart_doc *mine = cart_json_parse(text, len, exponent, currency, lim, m1, sizeof m1);
    cart_doc *ref = ref_cart_json_parse(text, len, exponent, currency, lim, m2, sizeof m2);
    dump_doc(&t->a, mine);
    dump_doc(&t->b, ref);
    bool same = strcmp(t->a.buf, t->b.buf) == 0 && strcmp(m1, m2) == 0;
    if (!same) {
        fprintf(stderr, "%s (%zu bytes, currency %s): readers differ\n  libperk: %s\n%s\n  jansson: %s\n%s\n", what,
                len, s_or(currency), mine ? "(document)" : m1, t->a.buf, ref ? "(document)" : m2, t->b.buf);
        fprintf(stderr, "  input: ");
        for (size_t i = 0; i < len && i < 400; i++)
            fprintf(stderr, (unsigned char)text[i] < 0x20 || (unsigned char)text[i] >= 0x7F ? "\\x%02x" : "%c",
                    (unsigned char)text[i]);
        fprintf(stderr, "\n");
    }
    assert_true(same);
    t->inputs++;
    if (mine)
        t->accepted++;
    else
        t->refused++;
    cart_json_free(mine);
    ref_cart_json_free(ref);

    char *id1 = cart_json_order_id(text, len), *id2 = ref_cart_json_order_id(text, len);
    assert_true((id1 == NULL) == (id2 == NULL));
    if (id1) assert_string_equal(id1, id2);
    free(id1);
    free(id2);
}

static void compare(tally *t, const char *text, size_t len, const char *what)
{
    compare_one(t, text, len, 2, "CNY", &diff_limits, what);
    compare_one(t, text, len, -1, NULL, NULL, what);
}

/* Seeded mutations: every prefix of short inputs (a few hundred of long ones), bytes replaced
 * and inserted at random places with bytes that matter to JSON and UTF-8. */
static void mutate(tally *t, const char *text, size_t len, const char *what, unsigned rounds)
{
    static const unsigned char special[] = { 0x00, '"',  '\\', '{',  '}',  '[',  ']',  ',', ':',  '\n', '\t',
                                             '0',  '9',  '-',  '.',  'e',  'u',  't',  'n', 0x7F, 0x80, 0xBF,
                                             0xC0, 0xC3, 0xE2, 0xED, 0xF0, 0xF4, 0xF5, 0xFF, ' ',  '/' };
    char *buf = malloc(len + 2);
    assert_non_null(buf);
    size_t step = len > 300 ? len / 300 : 1;
    for (size_t n = 0; n < len; n += step) compare(t, text, n, what);
    uint64_t seed = 0x9E3779B97F4A7C15u ^ len;
    for (unsigned r = 0; r < rounds && len > 0; r++) {
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        size_t at = (size_t)(seed >> 33) % len;
        unsigned char b = special[(seed >> 20) % sizeof special];
        memcpy(buf, text, len);
        if (r & 1) {
            buf[at] = (char)b;
            compare(t, buf, len, what);
        } else {
            memmove(buf + at + 1, buf + at, len - at);
            buf[at] = (char)b;
            compare(t, buf, len + 1, what);
        }
    }
    free(buf);
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t cap = 4096;
    char *buf = malloc(cap);
    *len = 0;
    size_t got;
    while ((got = fread(buf + *len, 1, cap - *len, f)) > 0) {
        *len += got;
        if (*len == cap) buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    return buf;
}

static size_t compare_folder(tally *t, const char *folder, unsigned rounds)
{
    const char *dir = folder;
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t files = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        size_t len;
        char *text = read_all(path, &len);
        compare(t, text, len, path);
        mutate(t, text, len, path, rounds);
        free(text);
        files++;
    }
    closedir(d);
    return files;
}

static void test_corpus(void **state)
{
    (void)state;
    tally t = { 0 };
    size_t files = compare_folder(&t, "tests/fuzz/corpus/fuzz_cart", 1500) +
                   compare_folder(&t, "tests/fuzz/regressions/fuzz_cart", 1500) +
                   compare_folder(&t, "examples/carts", 1500);
    fprintf(stderr, "cart readers agree on %zu inputs from %zu files (%zu documents, %zu refusals)\n", t.inputs,
            files, t.accepted, t.refused);
    assert_true(files >= 50);
    assert_true(t.accepted > 1000 && t.refused > 1000);
    free(t.a.buf);
    free(t.b.buf);
}

/* ------------------------------------------------------------------ edge cases */

#define LINE(price) "{\"lines\": [{\"sku\": \"A\", \"price\": " price ", \"quantity\": 1}]}"

static void test_edges(void **state)
{
    (void)state;
    static const char *const cases[] = {
        /* escapes and \u */
        "{\"lines\": [{\"sku\": \"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\", \"price\": \"1\", \"quantity\": 1}]}",
        "{\"lines\": [{\"sku\": \"\\u00e9\\u4e2d\\ud83d\\ude00\", \"price\": \"1\", \"quantity\": 1}]}",
        "{\"lines\": [{\"sku\": \"\\ud83d\", \"price\": \"1\", \"quantity\": 1}]}",
        "{\"lines\": [{\"sku\": \"\\ud83dx\", \"price\": \"1\", \"quantity\": 1}]}",
        "{\"lines\": [{\"sku\": \"\\ud83d\\u0041\", \"price\": \"1\", \"quantity\": 1}]}",
        "{\"lines\": [{\"sku\": \"\\ude00\", \"price\": \"1\", \"quantity\": 1}]}",
        "{\"lines\": [{\"sku\": \"\\u12G4\", \"price\": \"1\", \"quantity\": 1}]}",
        "{\"lines\": [{\"sku\": \"\\x\", \"price\": \"1\", \"quantity\": 1}]}",
        "{\"lines\": [{\"sku\": \"a\\u0000b\", \"price\": \"1\", \"quantity\": 1}]}",
        "{\"lines\": [{\"sku\": \"a\", \"attrs\": {\"k\\u0000\": \"v\"}, \"price\": \"1\", \"quantity\": 1}]}",
        "{\"lines\": [{\"sku\": \"a\tb\", \"price\": \"1\", \"quantity\": 1}]}",
        "{\"lines\": [{\"sku\": \"a\nb\", \"price\": \"1\", \"quantity\": 1}]}",
        /* invalid UTF-8: lone continuation, overlong, surrogate, beyond U+10FFFF, cut sequence */
        "{\"lines\": [{\"sku\": \"\x80\", \"price\": \"1\", \"quantity\": 1}]}",
        "{\"lines\": [{\"sku\": \"\xC0\xAF\", \"price\": \"1\", \"quantity\": 1}]}",
        "{\"lines\": [{\"sku\": \"\xED\xA0\x80\", \"price\": \"1\", \"quantity\": 1}]}",
        "{\"lines\": [{\"sku\": \"\xF4\x90\x80\x80\", \"price\": \"1\", \"quantity\": 1}]}",
        "{\"lines\": [{\"sku\": \"\xE4\xB8\", \"price\": \"1\", \"quantity\": 1}]}",
        "{\"lines\": [{\"sku\": \"very long value before the bad byte \xFF\", \"price\": \"1\", \"quantity\": 1}]}",
        "{\"lines\": [{\"sku\": \"ok\", \"price\": \"1\", \"quantity\": 1}]} \xC3\xA9",
        "\xEF\xBB\xBF" LINE("\"1\""),
        /* numbers */
        "{\"lines\": [{\"sku\": \"A\", \"price\": \"1\", \"quantity\": 9223372036854775807}]}",
        "{\"lines\": [{\"sku\": \"A\", \"price\": \"1\", \"quantity\": 9223372036854775808}]}",
        "{\"lines\": [{\"sku\": \"A\", \"price\": \"1\", \"quantity\": -9223372036854775808}]}",
        "{\"lines\": [{\"sku\": \"A\", \"price\": \"1\", \"quantity\": -9223372036854775809}]}",
        "{\"lines\": [{\"sku\": \"A\", \"price\": \"1\", \"quantity\": 1e999}]}",
        "{\"lines\": [{\"sku\": \"A\", \"price\": \"1\", \"quantity\": -1e999}]}",
        "{\"lines\": [{\"sku\": \"A\", \"price\": \"1\", \"quantity\": 1e-999}]}",
        "{\"lines\": [{\"sku\": \"A\", \"price\": \"1\", \"quantity\": 2.0}]}",
        "{\"lines\": [{\"sku\": \"A\", \"price\": \"1\", \"quantity\": 0.30000000000000004}]}",
        "{\"lines\": [{\"sku\": \"A\", \"price\": \"1\", \"quantity\": 012}]}",
        "{\"lines\": [{\"sku\": \"A\", \"price\": \"1\", \"quantity\": 1.}]}",
        "{\"lines\": [{\"sku\": \"A\", \"price\": \"1\", \"quantity\": 1e+}]}",
        "{\"lines\": [{\"sku\": \"A\", \"price\": \"1\", \"quantity\": -}]}",
        "{\"lines\": [{\"sku\": \"A\", \"price\": \"1\", \"quantity\": -0}]}",
        /* money as the reader accepts and refuses it */
        LINE("\"12.50\""), LINE("\"12.5\""), LINE("\"12\""), LINE("\"12.505\""), LINE("\"-1\""),
        LINE("\"1e3\""), LINE("\" 12\""), LINE("\"12.\""), LINE("\".5\""), LINE("12"), LINE("12.5"),
        LINE("\"99999999999999999999\""), LINE("\"10000000000000.01\""), LINE("true"), LINE("null"),
        LINE("[]"), LINE("{}"), LINE("\"\""),
        "{\"order\": {\"currency\": \"JPY\"}, \"lines\": [{\"sku\": \"A\", \"price\": 1200, \"quantity\": 1}]}",
        "{\"order\": {\"currency\": \"JPY\"}, \"lines\": [{\"sku\": \"A\", \"price\": \"12.5\", \"quantity\": 1}]}",
        "{\"order\": {\"currency\": \"KWD\"}, \"lines\": [{\"sku\": \"A\", \"price\": \"1.234\", \"quantity\": 1}]}",
        /* duplicate keys, at the top, in a line, in attrs, in usage */
        "{\"lines\": [], \"lines\": []}",
        "{\"lines\": [{\"sku\": \"A\", \"sku\": \"B\", \"price\": \"1\", \"quantity\": 1}]}",
        "{\"lines\": [{\"sku\": \"A\", \"attrs\": {\"k\": \"1\", \"k\": \"2\"}, \"price\": \"1\", \"quantity\": 1}]}",
        "{\"lines\": [], \"usage\": {\"a\": {\"uses\": 1}, \"a\": {\"uses\": 2}}}",
        "{\"lines\": [], \"usage\": {\"a\": {\"uses\": 1}, \"b\": {\"uses\": 2}}}",
        "{\"lines\": [{\"sku\": \"A\", \"attrs\": {\"k\": \"1\"}, \"price\": \"1\", \"quantity\": 1}, "
        "{\"sku\": \"B\", \"attrs\": {\"k\": \"1\"}, \"price\": \"1\", \"quantity\": 1}]}",
        /* trailing garbage and syntax */
        LINE("\"1\"") " x", LINE("\"1\"") " {}", LINE("\"1\"") "\n\n  ]", "", " ", "[]", "\"cart\"", "null",
        "{", "{\"lines\"", "{\"lines\":", "{\"lines\": [", "{\"lines\": [}", "{\"lines\" []}", "{lines: []}",
        "{\"lines\": [],}", "{\"lines\": [1,]}", "{'lines': []}", "{\"lines\": tru}", "{\"lines\": truex}",
        "{\"lines\": [\xE4\xB8\xAD]}", "{\"lines\": []}\x00", "\x00{\"lines\": []}",
        "{\"lines\": [], \"a_very_long_key_name_here\" 1}",
        "{\"order\": {\"id\": \"O1\"}, \"order\": {\"id\": \"O2\"}, \"lines\": []}",
    };
    tally t = { 0 };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len = strlen(cases[i]);
        compare(&t, cases[i], len, "edge case");
        mutate(&t, cases[i], len, "edge case", 200);
    }
    /* NUL bytes inside and after the document (jansson drops a NUL it reads back after a token) */
    static const char nul_cases[][40] = { "{\"lines\": [1\0]}", "{\"lines\": [true\0]}", "{\"lines\": [\"a\0\"]}",
                                          "{\"lines\": []}\0", "{\"lines\": [1.\0]}", "{\"lines\"\0: []}" };
    static const size_t nul_lens[] = { 15, 18, 17, 15, 16, 15 };
    for (size_t i = 0; i < sizeof nul_lens / sizeof nul_lens[0]; i++) compare(&t, nul_cases[i], nul_lens[i], "NUL");

    /* nesting: at the limit of 32, one more, and ten thousand levels */
    char deep[20100];
    for (size_t depth = 30; depth <= 34; depth++) {
        size_t n = 0;
        n += (size_t)sprintf(deep + n, "{\"lines\": [{\"sku\": \"A\", \"price\": \"1\", \"quantity\": 1, \"attrs\": ");
        for (size_t k = 2; k < depth; k++) deep[n++] = '[';
        for (size_t k = 2; k < depth; k++) deep[n++] = ']';
        n += (size_t)sprintf(deep + n, "}]}");
        compare(&t, deep, n, "nesting");
    }
    memset(deep, '[', 10000);
    memset(deep + 10000, ']', 10000);
    compare(&t, deep, 20000, "ten thousand levels");
    /* more lines than max_lines (50 here) */
    size_t n = (size_t)sprintf(deep, "{\"lines\": [");
    for (int i = 0; i < 60; i++) n += (size_t)sprintf(deep + n, "%s{\"sku\": \"S%d\", \"price\": \"1\", \"quantity\": 1}", i ? "," : "", i);
    n += (size_t)sprintf(deep + n, "]}");
    compare(&t, deep, n, "too many lines");
    fprintf(stderr, "cart readers agree on %zu edge-case inputs\n", t.inputs);
    free(t.a.buf);
    free(t.b.buf);
}

int main(int argc, char **argv)
{
    (void)argc;
    if (!test_find_root(argv[0], "tests/fuzz/corpus/fuzz_cart")) {
        fprintf(stderr, "test_cart_json_diff: cannot find the repository (set PERK_SRCDIR)\n");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_corpus),
        cmocka_unit_test(test_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
