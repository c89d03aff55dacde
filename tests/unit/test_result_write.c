/* test_result_write.c - the result renderer that writes JSON straight into a buffer
 * (src/json/result_json.c) against the jansson renderer it replaced
 * (tests/unit/ref/result_json_ref.h), byte for byte, in all eight forms (pretty or compact,
 * applied only or not, with or without instructions):
 *   - the hand-built fixture result, and that result with strings holding every byte value,
 *     invalid UTF-8 of each kind, extreme numbers, an error status, a bad exponent, no names,
 *     corrupt allocation ranges;
 *   - every cart of the rule tests (rules/<name>.test against rules/<name>.perk, and the inline
 *     rules of the tests/semantics .test files) and the example cart, evaluated for real.
 * (Random rule sets against random carts: test_invariants; the fuzz corpora: the fuzz harness.)
 * Also the buffer contract: result_json_write at every capacity returns the full length and
 * writes the prefix that fits, and result_json_write_buf reuses its buffer without growing.
 */
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler/compiler.h"
#include "json/cart_json.h"
#include "json/result_json.h"
#include "perk.h"

#include "ref/result_json_ref.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "result_fixture.h"
#include "test_root.h"

static size_t compared; /* renderings compared, all tests */

/* all eight forms of r, mine against the reference; also through the fixed-size API */
static void same_as_ref(const result_names *names, const perk_result *r, const cart_doc *doc,
                        const char *what)
{
    for (int f = 0; f < 8; f++) {
        char *mine = result_json_render(names, r, doc, f);
        char *ref = ref_result_json_render(names, r, doc, f);
        assert_non_null(mine);
        assert_non_null(ref);
        if (strcmp(mine, ref) != 0) {
            fprintf(stderr, "%s, flags %d: renderers differ\n  mine: %s\n  ref:  %s\n", what, f, mine, ref);
            fail();
        }
        char small[64];
        size_t need = result_json_write(names, r, doc, f, small, sizeof small);
        assert_int_equal(need, strlen(ref));
        assert_int_equal(strlen(small), need < sizeof small ? need : sizeof small - 1);
        assert_memory_equal(small, ref, strlen(small));
        compared++;
        free(mine);
        free(ref);
    }
}

static void test_fixture(void **state)
{
    (void)state;
    perk_result r = fixture_result();
    cart_doc *doc = fixture_doc();
    assert_non_null(doc);
    same_as_ref(&fixture_names, &r, doc, "fixture");
    same_as_ref(&fixture_names, &r, NULL, "fixture without a cart");
    same_as_ref(NULL, &r, NULL, "fixture without names");

    /* extreme numbers */
    perk_result x = r;
    x.subtotal = INT64_MIN;
    x.discount = INT64_MAX;
    x.points_earned = INT64_MIN;
    x.points_redeemable = -1;
    x.instructions = UINT64_MAX;
    same_as_ref(&fixture_names, &x, doc, "extremes");
    x.instructions = (uint64_t)INT64_MAX;
    for (int e = 0; e <= MONEY_MAX_EXPONENT; e++) {
        x.exponent = e;
        same_as_ref(&fixture_names, &x, doc, "every exponent");
    }
    x.exponent = MONEY_MAX_EXPONENT + 1;
    same_as_ref(&fixture_names, &x, doc, "bad exponent");
    x.exponent = 2;
    for (int st = 0; st < PERK_STATUS_COUNT; st++) {
        x.status = (perk_status)st;
        same_as_ref(&fixture_names, &x, doc, "each status");
    }
    x.status = (perk_status)PERK_STATUS_COUNT + 3;
    same_as_ref(&fixture_names, &x, doc, "unknown status");

    /* a result larger than result_json_render's stack buffer (8 KiB), so written twice */
    enum { MANY = 400 };
    perk_line_result many[MANY];
    for (size_t i = 0; i < MANY; i++) many[i] = fixture_lines[i % 3];
    perk_result big = r;
    big.lines = many;
    big.n_lines = MANY;
    char *text = result_json_render(&fixture_names, &big, NULL, 0);
    assert_non_null(text);
    assert_true(strlen(text) > 8192);
    free(text);
    same_as_ref(&fixture_names, &big, NULL, "a large result");

    /* corrupt allocation ranges and missing arrays */
    perk_line_result lines[3];
    memcpy(lines, fixture_lines, sizeof lines);
    lines[0].first_allocation = 5;
    lines[1].n_allocations = UINT32_MAX;
    perk_result c = r;
    c.lines = lines;
    same_as_ref(&fixture_names, &c, doc, "corrupt allocations");
    c.allocations = NULL;
    c.promotions = NULL;
    c.points = NULL;
    same_as_ref(&fixture_names, &c, doc, "missing arrays");
    cart_json_free(doc);
}

/* Strings with every byte value and every kind of bad UTF-8, in each place a string goes. */
static void test_strings(void **state)
{
    (void)state;
    static const char *const nasty[] = {
        "plain",
        "",
        "quote \" backslash \\ slash /",
        "\b\f\n\r\t\x01\x1f\x7f",
        "é 杯 😀 \xe2\x80\xa8",
        "\xc0\xaf overlong",
        "\xc1\xbf",
        "\xe0\x80\xaf",
        "\xf0\x80\x80\xaf",
        "\xed\xa0\x80 surrogate",
        "\xf4\x90\x80\x80 too big",
        "\xf5\x80\x80\x80",
        "\xf8\x88\x80\x80\x80",
        "\xff\xfe",
        "\x80 lone",
        "cut \xe6\x9d",
        "cut \xf0\x9f\x98",
        "\xc3",
        "\xe6\x9d\x61",
        "ok\xc3\xa9\xc3",
    };
    char all[256];
    for (int i = 1; i < 256; i++) all[i - 1] = (char)i;
    all[255] = '\0';
    size_t n = sizeof nasty / sizeof nasty[0] + 1;
    for (size_t i = 0; i < n; i++) {
        const char *s = i < n - 1 ? nasty[i] : all;
        const char *ids[6] = { s, "tea_gift", s, "free_ship", "vip_coupon", s };
        const char *labels[6] = { s, NULL, "x", s, NULL, "" };
        const char *earns[2] = { s, "margin_bonus" };
        result_names names = fixture_names;
        names.promotion_ids = ids;
        names.promotion_labels = labels;
        names.earn_ids = earns;
        perk_gift gift = { .promotion = 2, .sku = s, .name = s, .quantity = -7 };
        perk_effect effect = { .promotion = 0, .kind = s, .payload = s };
        perk_coupon_result coupons[2] = {
            { .code = s, .verdict = PERK_COUPON_ACCEPTED, .promotion = 0 },
            { .code = s, .verdict = PERK_COUPON_REJECTED_EXPIRED, .promotion = 7 }
        };
        perk_hint hint = { .promotion = 0, .shortfall = 3200, .set_name = s };
        perk_result r = fixture_result();
        r.currency = s;
        r.gifts = &gift;
        r.effects = &effect;
        r.coupons = coupons;
        r.hints = &hint;
        same_as_ref(&names, &r, NULL, "nasty strings");
        r.currency = "CNY";
        same_as_ref(&names, &r, NULL, "nasty strings, CNY");
    }
}

/* result_json_write at every capacity; result_json_write_buf reusing its buffer */
static void test_buffers(void **state)
{
    (void)state;
    perk_result r = fixture_result();
    cart_doc *doc = fixture_doc();
    char *ref = ref_result_json_render(&fixture_names, &r, doc, RESULT_JSON_PRETTY);
    size_t len = strlen(ref);
    char *buf = malloc(len + 2);
    assert_non_null(buf);
    assert_int_equal(result_json_write(&fixture_names, &r, doc, RESULT_JSON_PRETTY, NULL, 0), len);
    for (size_t cap = 1; cap <= len + 2; cap++) {
        memset(buf, '#', len + 2);
        size_t need = result_json_write(&fixture_names, &r, doc, RESULT_JSON_PRETTY, buf, cap);
        assert_int_equal(need, len);
        size_t got = cap - 1 < len ? cap - 1 : len;
        assert_memory_equal(buf, ref, got);
        assert_int_equal(buf[got], '\0');
        if (got + 1 < len + 2) assert_int_equal(buf[got + 1], got + 1 < cap ? buf[got + 1] : '#');
    }
    assert_int_equal(result_json_write(&fixture_names, NULL, doc, 0, buf, len), 0);
    assert_string_equal(buf, "");

    result_json_buf b = { 0 };
    const char *t = result_json_write_buf(&fixture_names, &r, doc, RESULT_JSON_PRETTY, &b);
    assert_non_null(t);
    assert_string_equal(t, ref);
    assert_int_equal(b.len, len);
    char *data = b.data;
    size_t cap = b.cap;
    t = result_json_write_buf(&fixture_names, &r, doc, RESULT_JSON_APPLIED_ONLY, &b); /* shorter */
    assert_ptr_equal(t, data);
    assert_int_equal(b.cap, cap);
    assert_int_equal(b.len, strlen(t));
    assert_null(result_json_write_buf(&fixture_names, NULL, doc, 0, &b));
    assert_null(result_json_write_buf(&fixture_names, &r, doc, 0, NULL));
    result_json_buf_free(&b);
    assert_null(b.data);
    result_json_buf_free(NULL);
    free(buf);
    free(ref);
    cart_json_free(doc);
}

/* ------------------------------------------------------------------ real results */

static perk_program *compile(const char *path, const char *text, size_t len)
{
    compiler cc;
    compiler_init(&cc);
    uint8_t *bytes = NULL;
    size_t blen = 0;
    bool ok = text ? compiler_compile_text(&cc, "case.perk", text, len, &bytes, &blen)
                   : compiler_compile_files(&cc, &path, 1, &bytes, &blen);
    compiler_free(&cc);
    if (!ok) return NULL;
    perk_error err;
    perk_program *prog = perk_program_load(bytes, blen, &err);
    free(bytes);
    return prog;
}

/* evaluates one cart and compares its renderings; false if the cart did not evaluate */
static bool eval_and_compare(perk_program *prog, const char *cart, size_t len, const char *what)
{
    char err[512];
    cart_doc *doc = cart_json_parse(cart, len, perk_program_exponent(prog), perk_program_currency(prog), NULL,
                                    err, sizeof err);
    if (!doc) return false;
    perk_error perr;
    perk_context *ctx = perk_context_new(prog, NULL, &perr);
    assert_non_null(ctx);
    bool ok = cart_json_feed(doc, ctx, prog, err, sizeof err) == PERK_OK;
    if (ok) {
        const perk_result *r = perk_evaluate(ctx);
        result_names *names = result_names_from_program(prog);
        assert_non_null(names);
        same_as_ref(names, r, doc, what);
        result_names_free(names);
    }
    perk_context_free(ctx);
    cart_json_free(doc);
    return ok;
}

/* A rule test file: `rules` ... `end` blocks (inline rules) and `cart {` ... `}` blocks. */
static size_t run_test_file(const char *path, perk_program *prog)
{
    size_t len, evaluated = 0;
    char *text = test_read_all(path, &len);
    assert_non_null(text);
    perk_program *own = NULL;
    char *p = text;
    while (*p) {
        char *eol = strchr(p, '\n');
        char *next = eol ? eol + 1 : p + strlen(p);
        if (strncmp(p, "rules", 5) == 0 && (p[5] == '\n' || p[5] == '\r' || p[5] == ' ')) {
            char *end = strstr(next, "\nend");
            assert_non_null(end);
            perk_program_free(own);
            own = compile(NULL, next, (size_t)(end + 1 - next));
            assert_non_null(own);
            prog = own;
            next = end + 4;
        } else if (strncmp(p, "cart {", 6) == 0) {
            char *end = strstr(p, "\n}");
            assert_non_null(end);
            if (prog && eval_and_compare(prog, p + 5, (size_t)(end + 2 - (p + 5)), path)) evaluated++;
            next = end + 2;
        }
        p = next;
    }
    perk_program_free(own);
    free(text);
    return evaluated;
}

static void test_rule_tests(void **state)
{
    (void)state;
    size_t evaluated = 0;
    const char *dirs[] = { "rules", "tests/semantics" };
    for (size_t d = 0; d < 2; d++) {
        DIR *dir = opendir(dirs[d]);
        assert_non_null(dir);
        struct dirent *e;
        while ((e = readdir(dir)) != NULL) {
            size_t n = strlen(e->d_name);
            if (n < 6 || strcmp(e->d_name + n - 5, ".test") != 0) continue;
            char path[1024], perk[1024];
            snprintf(path, sizeof path, "%s/%s", dirs[d], e->d_name);
            snprintf(perk, sizeof perk, "%s/%.*s.perk", dirs[d], (int)(n - 5), e->d_name);
            perk_program *prog = d == 0 ? compile(perk, NULL, 0) : NULL;
            if (d == 0) assert_non_null(prog);
            evaluated += run_test_file(path, prog);
            perk_program_free(prog);
        }
        closedir(dir);
    }
    /* the example cart against the storefront rules it was written for */
    perk_program *prog = compile("rules/tea_shop.perk", NULL, 0);
    assert_non_null(prog);
    size_t len;
    char *cart = test_read_all("examples/carts/sample.json", &len);
    assert_non_null(cart);
    evaluated += eval_and_compare(prog, cart, len, "examples/carts/sample.json");
    free(cart);
    perk_program_free(prog);
    fprintf(stderr, "rule-test and example carts evaluated: %zu; renderings compared in all: %zu\n",
            evaluated, compared);
    assert_true(evaluated >= 100);
}

int main(int argc, char **argv)
{
    (void)argc;
    if (!test_find_root(argv[0], "rules")) {
        fprintf(stderr, "cannot find the repository root (set PERK_SRCDIR)\n");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixture),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_buffers),
        cmocka_unit_test(test_rule_tests),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
