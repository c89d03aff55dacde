/* test_store_coupons.c - coupon codes: normalisation, adding, every check verdict, generation
 * (format, uniqueness, check symbol, speed), collision retry and typo detection. */
#include "store_fixture.h"

#include <time.h>

typedef store_fixture fixture;

static void test_normalize(void **state)
{
    (void)state;
    char out[PERK_STORE_CODE_MAX];
    assert_int_equal(perk_store_coupon_normalize("sprg-7k4m q2xd-9", out), PERK_STORE_OK);
    assert_string_equal(out, "SPRG7K4MQ2XD9");
    assert_int_equal(perk_store_coupon_normalize("Summer_10", out), PERK_STORE_OK);
    assert_string_equal(out, "SUMMER_10");
    assert_int_equal(perk_store_coupon_normalize("--  -", out), PERK_STORE_INVALID);
    assert_int_equal(perk_store_coupon_normalize("a/b", out), PERK_STORE_INVALID);
    assert_int_equal(perk_store_coupon_normalize("caf\xc3\xa9", out), PERK_STORE_INVALID);
    assert_int_equal(perk_store_coupon_normalize(NULL, out), PERK_STORE_INVALID);
    char long_code[80];
    memset(long_code, 'A', 64);
    long_code[64] = '\0';
    assert_int_equal(perk_store_coupon_normalize(long_code, out), PERK_STORE_INVALID);
    long_code[63] = '\0';
    assert_int_equal(perk_store_coupon_normalize(long_code, out), PERK_STORE_OK);
}

static void test_add_and_check(void **state)
{
    fixture *f = *state;
    perk_store *s = f->s;
    assert_store(s, PERK_STORE_OK, perk_store_coupon_add(s, "Spring-2026", "spring", 1000, 2, 1, NULL, 0));
    assert_store(s, PERK_STORE_CONFLICT, perk_store_coupon_add(s, "SPRING 2026", "x", 0, 0, 0, NULL, 0));
    assert_store(s, PERK_STORE_INVALID, perk_store_coupon_add(s, "bad!", "x", 0, 0, 0, NULL, 0));
    assert_store(s, PERK_STORE_INVALID, perk_store_coupon_add(s, "OK", "", 0, 0, 0, NULL, 0));
    assert_store(s, PERK_STORE_INVALID, perk_store_coupon_add(s, "OK", "x", -1, 0, 0, NULL, 0));
    assert_store(s, PERK_STORE_INVALID, perk_store_coupon_add(s, "OK", "x", 0, -1, 0, NULL, 0));
    assert_store(s, PERK_STORE_OK, perk_store_coupon_add(s, "mine", "vip", 0, 0, 0, "zoe", 0));

    perk_store_coupon_info info;
    assert_store(s, PERK_STORE_OK, perk_store_coupon_check(s, "spring2026", "amy", 999, &info));
    assert_int_equal(info.status, PERK_STORE_COUPON_VALID);
    assert_string_equal(info.campaign, "spring");
    assert_string_equal(info.code, "SPRING2026");
    assert_int_equal(info.max_uses, 2);
    assert_store(s, PERK_STORE_OK, perk_store_coupon_check(s, "spring2026", "amy", 1000, &info));
    assert_int_equal(info.status, PERK_STORE_COUPON_EXPIRED); /* valid while now < expires_at */
    assert_store(s, PERK_STORE_OK, perk_store_coupon_check(s, "nope", "amy", 0, &info));
    assert_int_equal(info.status, PERK_STORE_COUPON_UNKNOWN);
    assert_false(info.check_symbol_mismatch);
    assert_store(s, PERK_STORE_OK, perk_store_coupon_check(s, "%%%", "amy", 0, &info));
    assert_int_equal(info.status, PERK_STORE_COUPON_UNKNOWN);
    assert_store(s, PERK_STORE_INVALID, perk_store_coupon_check(s, NULL, "amy", 0, &info));
    assert_store(s, PERK_STORE_OK, perk_store_coupon_check(s, "MINE", "amy", 0, &info));
    assert_int_equal(info.status, PERK_STORE_COUPON_NOT_FOR_CUSTOMER);
    assert_true(info.restricted);
    assert_store(s, PERK_STORE_OK, perk_store_coupon_check(s, "MINE", NULL, 0, &info));
    assert_int_equal(info.status, PERK_STORE_COUPON_NOT_FOR_CUSTOMER);
    assert_store(s, PERK_STORE_OK, perk_store_coupon_check(s, "MINE", "zoe", 0, &info));
    assert_int_equal(info.status, PERK_STORE_COUPON_VALID);

    /* Uses: per customer 1, total 2. */
    const char *codes[] = { "SPRING-2026" };
    perk_store_order o = test_order("C1", "amy", 10, 100);
    o.coupons = codes;
    o.n_coupons = 1;
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, NULL, NULL));
    assert_store(s, PERK_STORE_OK, perk_store_coupon_check(s, "spring2026", "amy", 11, &info));
    assert_int_equal(info.status, PERK_STORE_COUPON_NOT_FOR_CUSTOMER);
    assert_int_equal(info.customer_uses, 1);
    o = test_order("C2", "bo", 10, 100);
    o.coupons = codes;
    o.n_coupons = 1;
    assert_store(s, PERK_STORE_OK, perk_store_commit(s, &o, NULL, NULL));
    assert_store(s, PERK_STORE_OK, perk_store_coupon_check(s, "spring2026", "cid", 11, &info));
    assert_int_equal(info.status, PERK_STORE_COUPON_USED_UP);
    assert_int_equal(info.uses, 2);
    assert_string_equal(perk_store_coupon_status_message(info.status), "used up");
}

typedef struct codes_acc {
    int n;
    char (*codes)[40];
} codes_acc;

static int collect_code(const char *code, void *ctx)
{
    codes_acc *a = ctx;
    snprintf(a->codes[a->n++], 40, "%s", code);
    return 0;
}

static int cmp_codes(const void *a, const void *b) { return strcmp(a, b); }

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static bool is_crockford(char c) { return c && strchr("0123456789ABCDEFGHJKMNPQRSTVWXYZ", c) != NULL; }

static void test_generate_10000(void **state)
{
    fixture *f = *state;
    perk_store *s = f->s;
    enum { N = 10000 };
    codes_acc acc = { 0, calloc(N, 40) };
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_store(s, PERK_STORE_OK,
                 perk_store_coupons_generate(s, "spring", NULL, N, 0, 1, 1, 0, collect_code, &acc));
    double took = seconds_since(&t0);
    printf("# generated %d codes in %.3f s\n", N, took);
    /* printed, not asserted: speed claims live in bench/, where the machine's load is known */
    assert_int_equal(acc.n, N);
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM coupons WHERE campaign='spring'"), N);
    for (int i = 0; i < N; i++) {
        const char *c = acc.codes[i];
        /* XXXX-XXXX-XXXX-C */
        assert_int_equal(strlen(c), 16);
        for (int j = 0; j < 16; j++) {
            if (j == 4 || j == 9 || j == 14)
                assert_int_equal(c[j], '-');
            else
                assert_true(is_crockford(c[j]));
        }
        char norm[PERK_STORE_CODE_MAX];
        assert_int_equal(perk_store_coupon_normalize(c, norm), PERK_STORE_OK);
        assert_int_equal(pstore_check_symbol(norm, 12), norm[12]);
    }
    qsort(acc.codes, N, 40, cmp_codes);
    for (int i = 1; i < N; i++) assert_string_not_equal(acc.codes[i - 1], acc.codes[i]);
    /* Generated codes check as valid, case-insensitively. */
    perk_store_coupon_info info;
    char lower[40];
    snprintf(lower, sizeof lower, "%s", acc.codes[17]);
    for (char *p = lower; *p; p++)
        if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
    assert_store(s, PERK_STORE_OK, perk_store_coupon_check(s, lower, "x", 0, &info));
    assert_int_equal(info.status, PERK_STORE_COUPON_VALID);
    assert_string_equal(info.campaign, "spring");
    free(acc.codes);
}

static void test_generate_prefix_and_invalid(void **state)
{
    fixture *f = *state;
    perk_store *s = f->s;
    codes_acc acc = { 0, calloc(3, 40) };
    assert_store(s, PERK_STORE_OK,
                 perk_store_coupons_generate(s, "spring", "sprg", 3, 500, 0, 0, 0, collect_code, &acc));
    assert_int_equal(acc.n, 3);
    assert_int_equal(strlen(acc.codes[0]), 21); /* SPRG-XXXX-XXXX-XXXX-C */
    assert_memory_equal(acc.codes[0], "SPRG-", 5);
    perk_store_coupon_info info;
    assert_store(s, PERK_STORE_OK, perk_store_coupon_check(s, acc.codes[1], NULL, 499, &info));
    assert_int_equal(info.status, PERK_STORE_COUPON_VALID);
    assert_store(s, PERK_STORE_OK, perk_store_coupon_check(s, acc.codes[1], NULL, 500, &info));
    assert_int_equal(info.status, PERK_STORE_COUPON_EXPIRED);
    assert_store(s, PERK_STORE_INVALID,
                 perk_store_coupons_generate(s, "x", "TOOLONGPREFIX", 1, 0, 0, 0, 0, NULL, NULL));
    assert_store(s, PERK_STORE_INVALID, perk_store_coupons_generate(s, "x", NULL, 0, 0, 0, 0, 0, NULL, NULL));
    assert_store(s, PERK_STORE_INVALID, perk_store_coupons_generate(s, "", NULL, 1, 0, 0, 0, 0, NULL, NULL));
    free(acc.codes);
}

/* A random source whose first two 12-byte draws are identical, forcing a collision. */
static int repeat_calls;
static int repeating_random(void *buf, size_t len)
{
    unsigned char *p = buf;
    for (size_t i = 0; i < len; i++)
        p[i] = (unsigned char)(i < 24 ? (i % 12) * 7 : i * 37 + 11u * (unsigned)repeat_calls);
    repeat_calls++;
    return 0;
}

static int constant_random(void *buf, size_t len)
{
    memset(buf, 3, len);
    return 0;
}

static void test_generate_collisions(void **state)
{
    fixture *f = *state;
    perk_store *s = f->s;
    int (*saved)(void *, size_t) = pstore_random_bytes;
    /* The second code drawn equals the first: it must be retried, not lost or duplicated. */
    repeat_calls = 0;
    pstore_random_bytes = repeating_random;
    codes_acc acc = { 0, calloc(2, 40) };
    perk_store_status st = perk_store_coupons_generate(s, "c", NULL, 2, 0, 0, 0, 0, collect_code, &acc);
    pstore_random_bytes = saved;
    assert_store(s, PERK_STORE_OK, st);
    assert_int_equal(acc.n, 2);
    assert_string_not_equal(acc.codes[0], acc.codes[1]);
    free(acc.codes);
    /* A broken source that never changes: a clear error and nothing inserted. */
    long long before = test_sql_int(s, "SELECT COUNT(*) FROM coupons");
    pstore_random_bytes = constant_random;
    st = perk_store_coupons_generate(s, "c", NULL, 5, 0, 0, 0, 0, NULL, NULL);
    pstore_random_bytes = saved;
    assert_int_equal(st, PERK_STORE_CONFLICT);
    assert_non_null(strstr(perk_store_errmsg(s), "random source"));
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM coupons"), before);
}

static void test_check_symbol_catches_typos(void **state)
{
    fixture *f = *state;
    perk_store *s = f->s;
    const char *alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    char code[14] = "7K4MQ2XD9RTB";
    code[12] = pstore_check_symbol(code, 12);
    code[13] = '\0';
    /* Every single-symbol substitution changes the check. */
    for (int pos = 0; pos < 12; pos++) {
        for (int k = 0; k < 32; k++) {
            char typo[14];
            memcpy(typo, code, sizeof typo);
            if (typo[pos] == alphabet[k]) continue;
            typo[pos] = alphabet[k];
            assert_int_not_equal(pstore_check_symbol(typo, 12), code[12]);
        }
    }
    /* Adjacent transpositions of different symbols are caught in this code. */
    for (int pos = 0; pos + 1 < 12; pos++) {
        char typo[14];
        memcpy(typo, code, sizeof typo);
        if (typo[pos] == typo[pos + 1]) continue;
        char t = typo[pos];
        typo[pos] = typo[pos + 1];
        typo[pos + 1] = t;
        assert_int_not_equal(pstore_check_symbol(typo, 12), code[12]);
    }
    /* check reports an unknown code shaped like a generated one with a wrong check symbol. */
    char typo[14];
    memcpy(typo, code, sizeof typo);
    typo[3] = typo[3] == 'A' ? 'B' : 'A';
    perk_store_coupon_info info;
    assert_store(s, PERK_STORE_OK, perk_store_coupon_check(s, typo, NULL, 0, &info));
    assert_int_equal(info.status, PERK_STORE_COUPON_UNKNOWN);
    assert_true(info.check_symbol_mismatch);
    assert_store(s, PERK_STORE_OK, perk_store_coupon_check(s, code, NULL, 0, &info));
    assert_false(info.check_symbol_mismatch);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normalize),
        cmocka_unit_test_setup_teardown(test_add_and_check, store_fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_generate_10000, store_fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_generate_prefix_and_invalid, store_fixture_setup,
                                        store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_generate_collisions, store_fixture_setup,
                                        store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_check_symbol_catches_typos, store_fixture_setup,
                                        store_fixture_teardown),
    };
    return cmocka_run_group_tests_name("store_coupons", tests, NULL, NULL);
}
