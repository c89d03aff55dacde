/* store_fixture.h - the one cmocka fixture of the tests that need a store: a scratch directory
 * with a fresh database opened in it, closed and removed after the test; and publishing rule
 * source into it. Use store_fixture_setup / store_fixture_teardown as a test's setup and
 * teardown (*state is then the store_fixture), or store_fixture_open / store_fixture_close inside
 * a larger fixture. */
#ifndef STORE_FIXTURE_H
#define STORE_FIXTURE_H

#include "store_test_util.h"

#include "compiler/compiler.h"

typedef struct store_fixture {
    test_dir dir;
    perk_store *s; /* NULL when only the directory was made (store_fixture_setup_dir) */
} store_fixture;

static inline void store_fixture_open(store_fixture *f)
{
    test_dir_make(&f->dir);
    f->s = test_open(f->dir.db);
}

static inline void store_fixture_close(store_fixture *f)
{
    if (f->s) perk_store_close(f->s);
    f->s = NULL;
    test_dir_remove(&f->dir);
}

static inline int store_fixture_setup(void **state)
{
    store_fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    store_fixture_open(f);
    *state = f;
    return 0;
}

/* The directory and its database path only, for tests whose commands create the store. */
static inline int store_fixture_setup_dir(void **state)
{
    store_fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    test_dir_make(&f->dir);
    *state = f;
    return 0;
}

static inline int store_fixture_teardown(void **state)
{
    store_fixture *f = *state;
    store_fixture_close(f);
    free(f);
    return 0;
}

/* Compiles rule source or fails the test with its diagnostics; the bytes are malloc'ed. */
static inline uint8_t *store_fixture_compile(const char *text, size_t *len)
{
    compiler c;
    compiler_init(&c);
    uint8_t *bytes = NULL;
    bool ok = compiler_compile_text(&c, "test.perk", text, strlen(text), &bytes, len);
    if (!ok) diag_print_text(&c.diags, stderr, false);
    compiler_free(&c);
    assert_true(ok);
    return bytes;
}

/* Compiles rule source and publishes it (active from activate_at, 0 = now); returns the version. */
static inline int64_t store_fixture_publish(perk_store *s, const char *text, const char *message,
                                            int64_t activate_at, int64_t now)
{
    size_t len = 0;
    uint8_t *bytes = store_fixture_compile(text, &len);
    int64_t id = 0;
    assert_store(s, PERK_STORE_OK,
                 perk_store_publish(s, bytes, len, text, "test", message, activate_at, now, &id));
    free(bytes);
    return id;
}

/* A store on a clock the test sets (perk_store_set_clock) with `rules` published before it starts:
 * the fixture of the tests that move time by hand around a T0 (coupons, reservations, rewards).
 * Its setup is a test file's own two-line function naming the rules and the start. */
typedef struct store_clock_fixture {
    test_dir dir;
    perk_store *s; /* NULL while a test has closed it (its children open their own) */
    int64_t version;
    int64_t clock; /* the store's now: set it to move time */
} store_clock_fixture;

static inline int64_t store_clock_fixture_now(void *ctx) { return *(const int64_t *)ctx; }

/* Makes the fixture at `t0` with `rules` published at t0 - 60, into *state. */
static inline int store_clock_fixture_setup(void **state, const char *rules, int64_t t0)
{
    store_clock_fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    test_dir_make(&f->dir);
    f->s = test_open_strict(f->dir.db);
    f->clock = t0;
    perk_store_set_clock(f->s, store_clock_fixture_now, &f->clock);
    f->version = store_fixture_publish(f->s, rules, "rules", 0, t0 - 60);
    *state = f;
    return 0;
}

static inline int store_clock_fixture_teardown(void **state)
{
    store_clock_fixture *f = *state;
    if (f->s) perk_store_close(f->s);
    test_dir_remove(&f->dir);
    free(f);
    return 0;
}

#endif
