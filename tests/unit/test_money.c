/* test_money.c: cmocka tests for runtime/money.c: checked arithmetic, the three rounding modes
 * at exact halves, 128-bit mul_div and its overflow edges, largest-remainder allocation
 * (exact sums, ties to the earlier line, never above a line's weight, compared against a
 * brute-force reference), the currency table, formatting and decimal parsing.
 * Every money expectation carries its hand check in a comment. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "money.h"

/* --- add / sub / mul ----------------------------------------------------------------------- */

static void test_add_sub_mul(void **state)
{
    (void)state;
    int64_t out = 77;
    assert_true(money_add(1999, 1, &out));
    assert_int_equal(out, 2000); /* 19.99 + 0.01 = 20.00 */
    assert_true(money_add(INT64_MAX, INT64_MIN, &out));
    assert_int_equal(out, -1); /* (2^63 - 1) + (-2^63) = -1 */

    out = 77;
    assert_false(money_add(INT64_MAX, 1, &out));  /* 2^63 does not fit */
    assert_false(money_add(INT64_MIN, -1, &out)); /* -2^63 - 1 does not fit */
    assert_int_equal(out, 77);                    /* untouched on failure */

    assert_true(money_sub(500, 750, &out));
    assert_int_equal(out, -250); /* 5.00 - 7.50 = -2.50 */
    out = 77;
    assert_false(money_sub(INT64_MIN, 1, &out)); /* -2^63 - 1 */
    assert_false(money_sub(0, INT64_MIN, &out)); /* 0 - (-2^63) = 2^63 */
    assert_int_equal(out, 77);

    assert_true(money_mul(1299, 3, &out));
    assert_int_equal(out, 3897); /* 3 x 12.99 = 38.97 */
    assert_true(money_mul(3037000499LL, 3037000499LL, &out));
    assert_int_equal(out, 9223372030926249001LL); /* 3037000499^2, < 2^63-1 = 9223372036854775807 */
    out = 77;
    assert_false(money_mul(3037000500LL, 3037000500LL, &out)); /* = 9223372037000250000 > 2^63-1 */
    assert_false(money_mul(INT64_MIN, -1, &out));              /* 2^63 */
    assert_int_equal(out, 77);
}

/* --- rounding ------------------------------------------------------------------------------ */

typedef struct {
    int64_t a, num, den;
    int64_t half_up, half_even, down;
} rounding_case;

static void test_rounding_modes(void **state)
{
    (void)state;
    static const rounding_case cases[] = {
        /* a    num den   HU    HE    D      exact value */
        { 125, 1, 10, 13, 12, 12 },       /* 12.5: halves away -> 13; even neighbour 12; trunc 12 */
        { 135, 1, 10, 14, 14, 13 },       /* 13.5: away -> 14; even neighbour 14; trunc 13 */
        { -125, 1, 10, -13, -12, -12 },   /* -12.5: away -> -13; even -12; toward zero -12 */
        { -135, 1, 10, -14, -14, -13 },   /* -13.5: away -> -14; even -14; toward zero -13 */
        { 125, -1, 10, -13, -12, -12 },   /* -12.5 via a negative multiplier: same as above */
        { 124, 1, 10, 12, 12, 12 },       /* 12.4: nearest 12 in all modes */
        { 126, 1, 10, 13, 13, 12 },       /* 12.6: nearest 13; down truncates to 12 */
        { -126, 1, 10, -13, -13, -12 },   /* -12.6: nearest -13; toward zero -12 */
        { 120, 1, 10, 12, 12, 12 },       /* 12.0 exact */
        { 1, 1, 2, 1, 0, 0 },             /* 0.5: away 1; even 0; trunc 0 */
        { -1, 1, 2, -1, 0, 0 },           /* -0.5: away -1; even 0; toward zero 0 */
        { 3, 1, 2, 2, 2, 1 },             /* 1.5: away 2; even 2; trunc 1 */
        { 5, 1, 2, 3, 2, 2 },             /* 2.5: away 3; even 2; trunc 2 */
        { 2, 1, 3, 1, 1, 0 },             /* 0.666..: nearest 1; trunc 0 */
        { 1250, 1, 100, 13, 12, 12 },     /* 1250 cents / 100 = 12.5 units */
        { 0, 7, 3, 0, 0, 0 },             /* zero stays zero */
        { 1999, 3, 4, 1499, 1499, 1499 }, /* 5997/4 = 1499.25 -> 1499 in every mode */
        { 1999, 1, 8, 250, 250, 249 },    /* 249.875 -> 250 nearest, 249 truncated */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const rounding_case *c = &cases[i];
        int64_t out;
        assert_true(money_mul_div(c->a, c->num, c->den, MONEY_ROUND_HALF_UP, &out));
        assert_int_equal(out, c->half_up);
        assert_true(money_mul_div(c->a, c->num, c->den, MONEY_ROUND_HALF_EVEN, &out));
        assert_int_equal(out, c->half_even);
        assert_true(money_mul_div(c->a, c->num, c->den, MONEY_ROUND_DOWN, &out));
        assert_int_equal(out, c->down);
    }
}

static void test_percent(void **state)
{
    (void)state;
    int64_t out;
    /* 15% of 19.99 = 1999 * 150000 / 1e6 = 299.85 cents */
    assert_true(money_percent(1999, 150000, MONEY_ROUND_HALF_UP, &out));
    assert_int_equal(out, 300);
    assert_true(money_percent(1999, 150000, MONEY_ROUND_HALF_EVEN, &out));
    assert_int_equal(out, 300);
    assert_true(money_percent(1999, 150000, MONEY_ROUND_DOWN, &out));
    assert_int_equal(out, 299);
    /* 12.5% of 1.00 = 100 * 125000 / 1e6 = 12.5 cents -> 13 / 12 / 12 */
    assert_true(money_percent(100, 125000, MONEY_ROUND_HALF_UP, &out));
    assert_int_equal(out, 13);
    assert_true(money_percent(100, 125000, MONEY_ROUND_HALF_EVEN, &out));
    assert_int_equal(out, 12);
    assert_true(money_percent(100, 125000, MONEY_ROUND_DOWN, &out));
    assert_int_equal(out, 12);
    /* 10% of 10.15 = 101.5 cents -> 102 / 102 (101 is odd) / 101 */
    assert_true(money_percent(1015, 100000, MONEY_ROUND_HALF_UP, &out));
    assert_int_equal(out, 102);
    assert_true(money_percent(1015, 100000, MONEY_ROUND_HALF_EVEN, &out));
    assert_int_equal(out, 102);
    assert_true(money_percent(1015, 100000, MONEY_ROUND_DOWN, &out));
    assert_int_equal(out, 101);
    /* 100% of anything is itself; 0% is 0 */
    assert_true(money_percent(26800, 1000000, MONEY_ROUND_DOWN, &out));
    assert_int_equal(out, 26800);
    assert_true(money_percent(26800, 0, MONEY_ROUND_HALF_UP, &out));
    assert_int_equal(out, 0);
    /* -10% of 10.05 = -100.5 cents -> -101 / -100 / -100 */
    assert_true(money_percent(1005, -100000, MONEY_ROUND_HALF_UP, &out));
    assert_int_equal(out, -101);
    assert_true(money_percent(1005, -100000, MONEY_ROUND_HALF_EVEN, &out));
    assert_int_equal(out, -100);
    assert_true(money_percent(1005, -100000, MONEY_ROUND_DOWN, &out));
    assert_int_equal(out, -100);
}

static void test_mul_div_overflow_and_errors(void **state)
{
    (void)state;
    int64_t out = 77;
    assert_false(money_mul_div(INT64_MAX, 2, 1, MONEY_ROUND_DOWN, &out));  /* 2^64 - 2 */
    assert_false(money_mul_div(INT64_MAX, 3, 2, MONEY_ROUND_DOWN, &out));  /* ~1.5 * 2^63 */
    assert_false(money_mul_div(INT64_MIN, -1, 1, MONEY_ROUND_DOWN, &out)); /* 2^63 */
    assert_false(money_mul_div(5, 1, 0, MONEY_ROUND_DOWN, &out));          /* den 0 */
    assert_false(money_mul_div(5, 1, -2, MONEY_ROUND_DOWN, &out));         /* den < 0 */
    assert_false(money_mul_div(5, 1, 2, (money_rounding)7, &out));         /* bad mode */
    assert_int_equal(out, 77);

    /* The intermediate product may exceed 64 bits: (2^63-1)^2 / (2^63-1) = 2^63-1 exactly. */
    assert_true(money_mul_div(INT64_MAX, INT64_MAX, INT64_MAX, MONEY_ROUND_DOWN, &out));
    assert_int_equal(out, INT64_MAX);
    assert_true(money_mul_div(INT64_MIN, 1, 1, MONEY_ROUND_HALF_UP, &out));
    assert_int_equal(out, INT64_MIN);
    assert_true(money_mul_div(INT64_MIN, -1, 2, MONEY_ROUND_HALF_UP, &out));
    assert_int_equal(out, 4611686018427387904LL); /* 2^63 / 2 = 2^62 */

    /* Rounding itself can overflow: a = (2^64-1)/3 = 6148914691236517205, a*3/2 = (2^64-1)/2
     * = 2^63 - 0.5 = INT64_MAX + 0.5. Down gives INT64_MAX; half-up goes to 2^63 (overflow);
     * half-even also goes to 2^63 because INT64_MAX is odd. */
    out = 77;
    assert_false(money_mul_div(6148914691236517205LL, 3, 2, MONEY_ROUND_HALF_UP, &out));
    assert_false(money_mul_div(6148914691236517205LL, 3, 2, MONEY_ROUND_HALF_EVEN, &out));
    assert_int_equal(out, 77);
    assert_true(money_mul_div(6148914691236517205LL, 3, 2, MONEY_ROUND_DOWN, &out));
    assert_int_equal(out, INT64_MAX);
    /* Same on the negative side: -(2^63 - 0.5) rounds to -2^63 = INT64_MIN, which fits. */
    assert_true(money_mul_div(-6148914691236517205LL, 3, 2, MONEY_ROUND_HALF_UP, &out));
    assert_int_equal(out, INT64_MIN);
    assert_true(money_mul_div(-6148914691236517205LL, 3, 2, MONEY_ROUND_DOWN, &out));
    assert_int_equal(out, -INT64_MAX);
}

/* --- allocation ----------------------------------------------------------------------------- */

static void check_allocation(int64_t total, const int64_t *weights, size_t n, const int64_t *expected)
{
    int64_t out[16];
    uint32_t scratch[16];
    int64_t rem[16];
    assert_true(n <= 16);
    assert_true(money_allocate(total, weights, n, out, scratch, rem));
    int64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(out[i], expected[i]);
        assert_true(out[i] >= 0 && out[i] <= weights[i]);
        sum += out[i];
    }
    assert_int_equal(sum, total);
}

static void test_allocate_examples(void **state)
{
    (void)state;
    /* 100 over three equal lines (W = 300): 100/3 = 33.33 each: floors 33+33+33 = 99, one unit
     * left, remainders tie (100*100 mod 300 = 100 each), so the first line gets it: 34, 33, 33.
     * (Weights 1,1,1 would make total > W, which the contract rejects: test_allocate_invalid.) */
    check_allocation(100, (const int64_t[]){ 100, 100, 100 }, 3, (const int64_t[]){ 34, 33, 33 });
    /* Only the weights' ratios matter: 250,250,250 (W = 750) gives each 33.33 -> 34, 33, 33. */
    check_allocation(100, (const int64_t[]){ 250, 250, 250 }, 3, (const int64_t[]){ 34, 33, 33 });
    /* 10 over 3,3,3,1 (W = 10): shares are exactly 3, 3, 3, 1. */
    check_allocation(10, (const int64_t[]){ 3, 3, 3, 1 }, 4, (const int64_t[]){ 3, 3, 3, 1 });
    /* 1 over 5,5: shares 0.5, 0.5 -> floors 0, 0, tie -> the earlier line: 1, 0. */
    check_allocation(1, (const int64_t[]){ 5, 5 }, 2, (const int64_t[]){ 1, 0 });
    /* 0 over anything is all zeros. */
    check_allocation(0, (const int64_t[]){ 7, 0, 3 }, 3, (const int64_t[]){ 0, 0, 0 });
    check_allocation(0, (const int64_t[]){ 0, 0 }, 2, (const int64_t[]){ 0, 0 });
    /* 10 over 10,20,40 (W = 70): shares 1.43, 2.86, 5.71 -> floors 1, 2, 5 (sum 8); 2 left;
     * remainders x70: 100 mod 70 = 30, 200 mod 70 = 60, 400 mod 70 = 50 -> lines 1 and 2 get
     * one each: 1, 3, 6 (sum 10). The largest remainder wins, not the earliest line. */
    check_allocation(10, (const int64_t[]){ 10, 20, 40 }, 3, (const int64_t[]){ 1, 3, 6 });
    /* 2 over five 1s (W = 5): shares 0.4 each, all remainders tie, 2 left -> lines 0 and 1. */
    check_allocation(2, (const int64_t[]){ 1, 1, 1, 1, 1 }, 5, (const int64_t[]){ 1, 1, 0, 0, 0 });
    /* 5 over 1,1,1,1,1,1,1,3 (W = 10): shares 0.5 x7 and 1.5; floors 0 x7 and 1 (sum 1); 4 left;
     * every remainder is 0.5 (5 mod 10 = 15 mod 10 = 5), so lines 0..3 get one each. */
    check_allocation(5, (const int64_t[]){ 1, 1, 1, 1, 1, 1, 1, 3 }, 8,
                     (const int64_t[]){ 1, 1, 1, 1, 0, 0, 0, 1 });
    /* Whole total equal to W: each line gets exactly its weight. */
    check_allocation(9, (const int64_t[]){ 2, 0, 7 }, 3, (const int64_t[]){ 2, 0, 7 });
    /* A 0-weight line between others never receives a unit: 3 over 1,0,1,0,1 = 1,0,1,0,1. */
    check_allocation(3, (const int64_t[]){ 1, 0, 1, 0, 1 }, 5, (const int64_t[]){ 1, 0, 1, 0, 1 });
    /* Single line takes everything (1999 <= 2500). */
    check_allocation(1999, (const int64_t[]){ 2500 }, 1, (const int64_t[]){ 1999 });
    /* Near the int64 limit: W = 2 * 4611686018427387903 = 9223372036854775806; total 9e18 + 1;
     * each share is (9e18 + 1) / 2 = 4500000000000000000.5, tie -> first line gets the unit. */
    check_allocation(9000000000000000001LL, (const int64_t[]){ 4611686018427387903LL, 4611686018427387903LL },
                     2, (const int64_t[]){ 4500000000000000001LL, 4500000000000000000LL });
}

static void test_allocate_invalid(void **state)
{
    (void)state;
    int64_t out[4];
    uint32_t scratch[4];
    int64_t rem[4];
    /* total > W: 11 over 3,3,3,1 (W = 10); 100 over 1,1,1 (W = 3) would give lines more than
     * their weight, so it is refused rather than split 34,33,33. */
    assert_false(money_allocate(100, (const int64_t[]){ 1, 1, 1 }, 3, out, scratch, rem));
    /* total > W: 11 over 3,3,3,1 (W = 10) */
    assert_false(money_allocate(11, (const int64_t[]){ 3, 3, 3, 1 }, 4, out, scratch, rem));
    /* W == 0 requires total == 0 */
    assert_false(money_allocate(1, (const int64_t[]){ 0, 0 }, 2, out, scratch, rem));
    /* negative total or weight */
    assert_false(money_allocate(-1, (const int64_t[]){ 3, 3 }, 2, out, scratch, rem));
    assert_false(money_allocate(1, (const int64_t[]){ 3, -1, 3 }, 3, out, scratch, rem));
    /* weight sum overflows int64 */
    assert_false(money_allocate(1, (const int64_t[]){ INT64_MAX, 1 }, 2, out, scratch, rem));
    /* missing buffers */
    assert_false(money_allocate(1, (const int64_t[]){ 1 }, 1, out, NULL, rem));
    assert_false(money_allocate(1, (const int64_t[]){ 1 }, 1, NULL, scratch, rem));
    assert_false(money_allocate(1, NULL, 1, out, scratch, rem));
    /* no lines: only a zero total is valid, and nothing is touched */
    assert_true(money_allocate(0, NULL, 0, NULL, NULL, NULL));
    assert_false(money_allocate(1, NULL, 0, NULL, NULL, NULL));
}

/* Reference allocation by repeated O(n^2) selection, the definition written out naively. */
static void reference_allocate(int64_t total, const int64_t *w, size_t n, int64_t *out)
{
    int64_t wsum = 0, assigned = 0;
    for (size_t i = 0; i < n; i++) wsum += w[i];
    bool used[64] = { false };
    if (wsum == 0) {
        for (size_t i = 0; i < n; i++) out[i] = 0;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        out[i] = (int64_t)((__int128)total * w[i] / wsum);
        assigned += out[i];
    }
    for (int64_t k = assigned; k < total; k++) {
        size_t best = n;
        int64_t best_rem = -1;
        for (size_t i = 0; i < n; i++) {
            int64_t rem = (int64_t)((__int128)total * w[i] % wsum);
            if (!used[i] && rem > best_rem) { /* strict: ties keep the earlier line */
                best = i;
                best_rem = rem;
            }
        }
        used[best] = true;
        out[best]++;
    }
}

static uint64_t lcg_state = 0x9e3779b97f4a7c15ULL;

static uint64_t lcg_next(void)
{
    lcg_state = lcg_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return lcg_state >> 11;
}

static void test_allocate_matches_reference(void **state)
{
    (void)state;
    int64_t weights[64], out[64], expected[64];
    uint32_t scratch[64];
    int64_t rem[64];
    for (int round = 0; round < 3000; round++) {
        size_t n = 1 + (size_t)(lcg_next() % 64);
        /* Small weights give many remainder ties; large ones exercise 128-bit products. */
        uint64_t limit = round % 3 == 0 ? 4 : (round % 3 == 1 ? 1000 : (1ULL << 56));
        int64_t wsum = 0;
        for (size_t i = 0; i < n; i++) {
            weights[i] = (int64_t)(lcg_next() % limit);
            wsum += weights[i];
        }
        int64_t total = wsum == 0 ? 0 : (int64_t)(lcg_next() % ((uint64_t)wsum + 1));
        assert_true(money_allocate(total, weights, n, out, scratch, rem));
        reference_allocate(total, weights, n, expected);
        int64_t sum = 0;
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(out[i], expected[i]);
            assert_true(out[i] >= 0 && out[i] <= weights[i]);
            sum += out[i];
        }
        assert_int_equal(sum, total);
    }
}

static void test_allocate_large_n(void **state)
{
    (void)state;
    /* 99999 units over 100000 equal lines: every share is 0.99999, all remainders tie, so the
     * first 99999 lines get 1 and the last gets 0. Also checks O(n log n) finishes quickly. */
    enum { N = 100000 };
    int64_t *weights = malloc(N * sizeof *weights);
    int64_t *out = malloc(N * sizeof *out);
    uint32_t *scratch = malloc(N * sizeof *scratch);
    int64_t *rem = malloc(N * sizeof *rem);
    assert_non_null(weights);
    assert_non_null(out);
    assert_non_null(scratch);
    assert_non_null(rem);
    for (size_t i = 0; i < N; i++) weights[i] = 1;
    assert_true(money_allocate(N - 1, weights, N, out, scratch, rem));
    for (size_t i = 0; i < N - 1; i++) assert_int_equal(out[i], 1);
    assert_int_equal(out[N - 1], 0);
    free(weights);
    free(out);
    free(scratch);
    free(rem);
}

/* Products past int64 take the 128-bit path: 10^18 + 1 over three weights of 3 x 10^18
 * (W = 9 x 10^18 < 2^63). Each exact share is (10^18 + 1) / 3 = 333333333333333333.67: floors
 * 333333333333333333 each (sum 999999999999999999), 2 units left, equal remainders, so the two
 * lower indexes get them. */
static void test_allocate_wide_products(void **state)
{
    (void)state;
    int64_t out[3];
    uint32_t scratch[3];
    int64_t rem[3];
    const int64_t w = INT64_C(3000000000000000000);
    assert_true(
        money_allocate(INT64_C(1000000000000000001), (const int64_t[]){ w, w, w }, 3, out, scratch, rem));
    assert_int_equal(out[0], INT64_C(333333333333333334));
    assert_int_equal(out[1], INT64_C(333333333333333334));
    assert_int_equal(out[2], INT64_C(333333333333333333));
    /* each remainder (scaled by W) is 3 x 10^18 * (10^18 + 1) mod 9 x 10^18 = 6 x 10^18 */
    assert_int_equal(rem[2], INT64_C(6000000000000000000));
}

/* --- currencies ----------------------------------------------------------------------------- */

static void test_currency_table(void **state)
{
    (void)state;
    static const struct {
        const char *code;
        int exponent;
    } iso[] = {
        { "CNY", 2 }, { "JPY", 0 }, { "USD", 2 }, { "EUR", 2 }, { "GBP", 2 }, { "HKD", 2 },
        { "TWD", 2 }, { "KRW", 0 }, { "SGD", 2 }, { "AUD", 2 }, { "CAD", 2 }, { "CHF", 2 },
        { "INR", 2 }, { "THB", 2 }, { "MYR", 2 }, { "VND", 0 }, { "IDR", 2 }, { "PHP", 2 },
        { "RUB", 2 }, { "BRL", 2 }, { "MXN", 2 }, { "KWD", 3 }, { "BHD", 3 }, { "JOD", 3 },
        { "OMR", 3 }, { "TND", 3 }, { "CLP", 0 }, { "ISK", 0 }, { "UGX", 0 }, { "XOF", 0 },
    };
    for (size_t i = 0; i < sizeof iso / sizeof iso[0]; i++) {
        const money_currency *c = money_currency_find(iso[i].code);
        assert_non_null(c);
        assert_string_equal(c->code, iso[i].code);
        assert_int_equal(c->exponent, iso[i].exponent);
        assert_non_null(c->symbol);
    }
    assert_string_equal(money_currency_find("CNY")->symbol, "¥");
    assert_string_equal(money_currency_find("JPY")->symbol, "¥");
    assert_string_equal(money_currency_find("USD")->symbol, "$");
    assert_string_equal(money_currency_find("EUR")->symbol, "€");
    assert_string_equal(money_currency_find("GBP")->symbol, "£");
    assert_string_equal(money_currency_find("KRW")->symbol, "₩");
    assert_string_equal(money_currency_find("INR")->symbol, "₹");
    assert_string_equal(money_currency_find("HKD")->symbol, "HKD ");
    assert_string_equal(money_currency_find("KWD")->symbol, "KWD ");

    assert_null(money_currency_find("usd")); /* case-sensitive */
    assert_null(money_currency_find("US"));
    assert_null(money_currency_find("USDX"));
    assert_null(money_currency_find("XXX"));
    assert_null(money_currency_find(""));
    assert_null(money_currency_find(NULL));
}

/* --- formatting ----------------------------------------------------------------------------- */

static void check_format(int64_t minor, int exponent, const char *symbol, const char *expected)
{
    char buf[64];
    memset(buf, 'x', sizeof buf);
    size_t n = money_format(minor, exponent, symbol, buf, sizeof buf);
    assert_string_equal(buf, expected);
    assert_int_equal(n, strlen(expected));
}

static void test_format(void **state)
{
    (void)state;
    check_format(26800, 2, "¥", "¥268.00");     /* 26800 fen = 268 yuan 00 fen */
    check_format(-105, 2, "¥", "-¥1.05");       /* -105 fen = -1 yuan 05 fen */
    check_format(1200, 0, "¥", "¥1200");        /* JPY: no minor digits */
    check_format(1234, 3, "KWD ", "KWD 1.234"); /* 1234 fils = 1.234 dinar */
    check_format(5, 2, "$", "$0.05");
    check_format(0, 2, "$", "$0.00");
    check_format(0, 0, "$", "$0");
    check_format(-5, 3, NULL, "-0.005");
    check_format(-7, 0, "₩", "-₩7");
    check_format(100000, 2, "€", "€1000.00");
    /* INT64_MIN = -9223372036854775808 minor units */
    check_format(INT64_MIN, 2, "$", "-$92233720368547758.08");
    check_format(INT64_MIN, 0, "", "-9223372036854775808");
    check_format(INT64_MAX, 3, "KWD ", "KWD 9223372036854775.807");
    check_format(INT64_MIN, 18, "", "-9.223372036854775808");
    check_format(1, 18, "", "0.000000000000000001");
    /* exponent out of range: caller bug -> empty */
    check_format(5, -1, "$", "");
    check_format(5, 19, "$", "");
}

static void test_format_truncation(void **state)
{
    (void)state;
    char buf[8];
    /* "¥268.00" is 8 bytes (¥ is 2 bytes in UTF-8): cap 5 holds 4 bytes + NUL. */
    memset(buf, 'x', sizeof buf);
    assert_int_equal(money_format(26800, 2, "¥", buf, 5), 8);
    assert_string_equal(buf, "¥26");
    assert_int_equal(buf[5], 'x'); /* nothing written past cap */
    /* cap 1: only the NUL */
    assert_int_equal(money_format(26800, 2, "¥", buf, 1), 8);
    assert_string_equal(buf, "");
    /* cap 0 with NULL buffer: just measure */
    assert_int_equal(money_format(INT64_MIN, 2, "$", NULL, 0), 22); /* "-$92233720368547758.08" */
    /* exactly enough room: 8 chars + NUL */
    char exact[9];
    assert_int_equal(money_format(26800, 2, "¥", exact, sizeof exact), 8);
    assert_string_equal(exact, "¥268.00");
}

/* --- parsing -------------------------------------------------------------------------------- */

static money_parse_status parse(const char *s, int exponent, int64_t *out)
{
    return money_parse_decimal(s, strlen(s), exponent, out);
}

static void check_parse_ok(const char *s, int exponent, int64_t expected)
{
    int64_t out = 12345;
    assert_int_equal(parse(s, exponent, &out), MONEY_PARSE_OK);
    assert_int_equal(out, expected);
}

static void check_parse_fails(const char *s, int exponent, money_parse_status status)
{
    int64_t out = 12345;
    assert_int_equal(parse(s, exponent, &out), status);
    assert_int_equal(out, 12345); /* untouched */
}

static void test_parse_decimal(void **state)
{
    (void)state;
    check_parse_ok("12.5", 2, 1250); /* 12.50 -> 1250 cents */
    check_parse_ok("12.50", 2, 1250);
    check_parse_ok("-3", 2, -300); /* -3.00 -> -300 cents */
    check_parse_ok("0.05", 2, 5);
    check_parse_ok("1.230", 2, 123); /* trailing zero beyond precision is fine */
    check_parse_ok("1.2300000", 2, 123);
    check_parse_ok("1200", 0, 1200); /* JPY */
    check_parse_ok("12.0", 0, 12);
    check_parse_ok("1.234", 3, 1234); /* KWD fils */
    check_parse_ok("007", 0, 7);
    check_parse_ok("-0", 2, 0);
    check_parse_ok("0", 2, 0);
    /* int64 limits: 92233720368547758.07 is INT64_MAX cents; a negative may reach 2^63 */
    check_parse_ok("92233720368547758.07", 2, INT64_MAX);
    check_parse_ok("-92233720368547758.08", 2, INT64_MIN);
    check_parse_ok("9223372036854775807", 0, INT64_MAX);
    check_parse_ok("9.223372036854775807", 18, INT64_MAX);
    /* only len bytes are read */
    int64_t out = 0;
    assert_int_equal(money_parse_decimal("12.5xyz", 4, 2, &out), MONEY_PARSE_OK);
    assert_int_equal(out, 1250);

    check_parse_fails("1.234", 2, MONEY_PARSE_TOO_PRECISE);
    check_parse_fails("12.5", 0, MONEY_PARSE_TOO_PRECISE);
    check_parse_fails("0.001", 2, MONEY_PARSE_TOO_PRECISE);
    check_parse_fails("1.2301", 2, MONEY_PARSE_TOO_PRECISE);

    check_parse_fails("92233720368547758.08", 2, MONEY_PARSE_RANGE);  /* INT64_MAX + 1 */
    check_parse_fails("-92233720368547758.09", 2, MONEY_PARSE_RANGE); /* INT64_MIN - 1 */
    check_parse_fails("9223372036854775808", 0, MONEY_PARSE_RANGE);
    check_parse_fails("99999999999999999999999", 0, MONEY_PARSE_RANGE);
    check_parse_fails("10", 18, MONEY_PARSE_RANGE); /* 10 * 10^18 > 9.22 * 10^18 */

    static const char *const bad[] = {
        "",     "-",     ".",   "5.",  ".5",  "-.5", "+5",    " 5",  "5 ",  "1e3",
        "0x10", "1.2.3", "--1", "1,5", "12a", "¥5",  "1_000", "- 1", "NaN", "inf",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) check_parse_fails(bad[i], 2, MONEY_PARSE_SYNTAX);
    out = 12345;
    assert_int_equal(money_parse_decimal("1\0"
                                         "2",
                                         3, 2, &out),
                     MONEY_PARSE_SYNTAX);
    assert_int_equal(money_parse_decimal(NULL, 0, 2, &out), MONEY_PARSE_SYNTAX);
    assert_int_equal(money_parse_decimal("5", 1, -1, &out), MONEY_PARSE_SYNTAX);
    assert_int_equal(money_parse_decimal("5", 1, 19, &out), MONEY_PARSE_SYNTAX);
    assert_int_equal(out, 12345);
}

static void test_parse_ppm(void **state)
{
    (void)state;
    int64_t out = 0;
    assert_int_equal(money_parse_ppm("12.5", 4, &out), MONEY_PARSE_OK);
    assert_int_equal(out, 125000); /* 12.5% = 0.125 = 125000 / 1e6 */
    assert_int_equal(money_parse_ppm("15", 2, &out), MONEY_PARSE_OK);
    assert_int_equal(out, 150000); /* 15% = 150000 ppm */
    assert_int_equal(money_parse_ppm("100", 3, &out), MONEY_PARSE_OK);
    assert_int_equal(out, 1000000);
    assert_int_equal(money_parse_ppm("0.0001", 6, &out), MONEY_PARSE_OK);
    assert_int_equal(out, 1); /* 0.0001% = 1e-6 = 1 ppm */
    assert_int_equal(money_parse_ppm("12.50000", 8, &out), MONEY_PARSE_OK);
    assert_int_equal(out, 125000);
    assert_int_equal(money_parse_ppm("-5", 2, &out), MONEY_PARSE_OK);
    assert_int_equal(out, -50000);
    out = 9;
    assert_int_equal(money_parse_ppm("0.00001", 7, &out), MONEY_PARSE_TOO_PRECISE);
    assert_int_equal(money_parse_ppm("12.5%", 5, &out), MONEY_PARSE_SYNTAX);
    assert_int_equal(out, 9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_sub_mul),
        cmocka_unit_test(test_rounding_modes),
        cmocka_unit_test(test_percent),
        cmocka_unit_test(test_mul_div_overflow_and_errors),
        cmocka_unit_test(test_allocate_examples),
        cmocka_unit_test(test_allocate_invalid),
        cmocka_unit_test(test_allocate_wide_products),
        cmocka_unit_test(test_allocate_matches_reference),
        cmocka_unit_test(test_allocate_large_n),
        cmocka_unit_test(test_currency_table),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_format_truncation),
        cmocka_unit_test(test_parse_decimal),
        cmocka_unit_test(test_parse_ppm),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
