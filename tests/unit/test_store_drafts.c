/* test_store_drafts.c - the console's drafts kept on the server (drafts.c): saved under a name with
 * a revision, a save based on an older revision refused with who saved what since, deletes that
 * check the revision too, names and sizes checked, every save and delete audited; and 8 forked
 * processes saving one draft at once, none of their saves lost or counted twice. */
#include "store_fixture.h"

#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef store_fixture fixture;

#define SOURCES_1 "{\"shop.perk\":\"ruleset \\\"s\\\" { currency CNY }\\n\"}"
#define SOURCES_2 "{\"lib/sets.perk\":\"let tea = items\\n\",\"shop.perk\":\"include \\\"lib/sets.perk\\\"\\n\"}"

typedef struct listing {
    int n;
    char names[8][PERK_STORE_DRAFT_NAME_MAX + 1];
    int64_t revisions[8];
    bool sources_null;
} listing;

static int list_cb(void *ctx, const perk_store_draft *d)
{
    listing *l = ctx;
    if (l->n < 8) {
        snprintf(l->names[l->n], sizeof l->names[l->n], "%s", d->name);
        l->revisions[l->n] = d->revision;
        l->sources_null = l->sources_null && d->sources == NULL;
        l->n++;
    }
    return 0;
}

static void test_save_get_list(void **state)
{
    fixture *f = *state;
    perk_store *s = f->s;
    int64_t rev = 0;
    assert_store(s, PERK_STORE_OK, perk_store_draft_save(s, "双11 预售", SOURCES_1, 3, 0, "alice", 100, &rev));
    assert_int_equal(rev, 1);
    assert_store(s, PERK_STORE_OK, perk_store_draft_save(s, "双11 预售", SOURCES_2, 7, 1, "bob", 200, &rev));
    assert_int_equal(rev, 2);
    perk_store_draft d;
    assert_store(s, PERK_STORE_OK, perk_store_draft_get(s, "双11 预售", &d));
    assert_string_equal(d.name, "双11 预售");
    assert_string_equal(d.sources, SOURCES_2);
    assert_string_equal(d.saved_by, "bob");
    assert_int_equal(d.saved_at, 200);
    assert_int_equal(d.revision, 2);
    assert_int_equal(d.base_version, 3); /* kept from the first save */
    perk_store_free_draft(&d);
    assert_null(d.sources);
    assert_store(s, PERK_STORE_OK, perk_store_draft_save(s, "member day", SOURCES_1, 0, 0, "carol", 150, &rev));
    listing l = { .sources_null = true };
    assert_store(s, PERK_STORE_OK, perk_store_drafts(s, list_cb, &l));
    /* the most recently saved first, without their sources */
    assert_int_equal(l.n, 2);
    assert_string_equal(l.names[0], "双11 预售");
    assert_int_equal(l.revisions[0], 2);
    assert_string_equal(l.names[1], "member day");
    assert_true(l.sources_null);
    assert_store(s, PERK_STORE_NOT_FOUND, perk_store_draft_get(s, "nothing", &d));
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM audit_log WHERE action = 'draft.save'"), 3);
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM audit_log WHERE action = 'draft.save' AND actor = 'bob'"
                                     " AND detail = '双11 预售 (revision 2)'"),
                     1);
}

static void test_conflicts(void **state)
{
    fixture *f = *state;
    perk_store *s = f->s;
    int64_t rev = 0;
    assert_store(s, PERK_STORE_OK, perk_store_draft_save(s, "spring", SOURCES_1, 0, 0, "alice", 100, &rev));
    assert_store(s, PERK_STORE_OK, perk_store_draft_save(s, "spring", SOURCES_2, 0, 1, "bob", 110, &rev));
    /* alice saves what she opened at revision 1: refused, saying who saved which revision */
    rev = 99;
    assert_store(s, PERK_STORE_CONFLICT, perk_store_draft_save(s, "spring", SOURCES_1, 0, 1, "alice", 120, &rev));
    assert_int_equal(rev, 99);
    assert_non_null(strstr(perk_store_errmsg(s), "saved by bob at 110 (revision 2) since revision 1"));
    /* a new draft of a name that exists */
    assert_store(s, PERK_STORE_CONFLICT, perk_store_draft_save(s, "spring", SOURCES_1, 0, 0, "carol", 130, &rev));
    assert_non_null(strstr(perk_store_errmsg(s), "exists already"));
    /* a revision the draft never had (ahead of it) is refused too */
    assert_store(s, PERK_STORE_CONFLICT, perk_store_draft_save(s, "spring", SOURCES_1, 0, 5, "alice", 140, &rev));
    perk_store_draft d;
    assert_store(s, PERK_STORE_OK, perk_store_draft_get(s, "spring", &d));
    assert_string_equal(d.sources, SOURCES_2); /* nothing of the refused saves */
    assert_int_equal(d.revision, 2);
    perk_store_free_draft(&d);
    /* deletes check the revision as saves do; 0 deletes whatever it is */
    assert_store(s, PERK_STORE_CONFLICT, perk_store_draft_delete(s, "spring", 1, "alice", 150));
    assert_store(s, PERK_STORE_OK, perk_store_draft_delete(s, "spring", 2, "alice", 160));
    assert_store(s, PERK_STORE_NOT_FOUND, perk_store_draft_delete(s, "spring", 0, "alice", 170));
    /* saving what was deleted meanwhile: NOT_FOUND, then as new */
    assert_store(s, PERK_STORE_NOT_FOUND, perk_store_draft_save(s, "spring", SOURCES_1, 0, 2, "bob", 180, &rev));
    assert_store(s, PERK_STORE_OK, perk_store_draft_save(s, "spring", SOURCES_1, 0, 0, "bob", 190, &rev));
    assert_int_equal(rev, 1);
    assert_store(s, PERK_STORE_OK, perk_store_draft_delete(s, "spring", 0, "carol", 200));
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM audit_log WHERE action = 'draft.delete'"), 2);
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM drafts"), 0);
}

static void test_refusals(void **state)
{
    fixture *f = *state;
    perk_store *s = f->s;
    int64_t rev = 0;
    char long_name[PERK_STORE_DRAFT_NAME_MAX + 2];
    memset(long_name, 'x', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    assert_store(s, PERK_STORE_INVALID, perk_store_draft_save(s, long_name, SOURCES_1, 0, 0, "alice", 1, &rev));
    assert_store(s, PERK_STORE_INVALID, perk_store_draft_save(s, "", SOURCES_1, 0, 0, "alice", 1, &rev));
    assert_store(s, PERK_STORE_INVALID, perk_store_draft_save(s, "a\nb", SOURCES_1, 0, 0, "alice", 1, &rev));
    assert_store(s, PERK_STORE_INVALID, perk_store_draft_save(s, "a", SOURCES_1, 0, -1, "alice", 1, &rev));
    assert_store(s, PERK_STORE_INVALID, perk_store_draft_save(s, "a", SOURCES_1, 0, 0, "", 1, &rev));
    assert_store(s, PERK_STORE_INVALID, perk_store_draft_save(s, "a", NULL, 0, 0, "alice", 1, &rev));
    size_t big = PERK_STORE_DRAFT_SOURCES_MAX + 1;
    char *huge = malloc(big + 1);
    assert_non_null(huge);
    memset(huge, ' ', big);
    huge[big] = '\0';
    assert_store(s, PERK_STORE_INVALID, perk_store_draft_save(s, "a", huge, 0, 0, "alice", 1, &rev));
    free(huge);
    memset(long_name, 'x', PERK_STORE_DRAFT_NAME_MAX); /* exactly the longest name */
    long_name[PERK_STORE_DRAFT_NAME_MAX] = '\0';
    assert_store(s, PERK_STORE_OK, perk_store_draft_save(s, long_name, SOURCES_1, 0, 0, "alice", 1, &rev));
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM drafts"), 1);
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM audit_log"), 1);
}

#define N_PROCS 8
#define SAVES 12

/* Each worker saves the shared draft SAVES times: it reads the revision, saves on it, and on a
 * conflict (someone saved in between) reads again; every save it counts succeeded exactly once. */
static void run_worker(const char *db, int w)
{
    perk_store *s = test_open(db);
    char actor[16];
    snprintf(actor, sizeof actor, "w%d", w);
    for (int k = 0; k < SAVES; k++) {
        for (int attempt = 0;; attempt++) {
            perk_store_draft d;
            perk_store_status st = perk_store_draft_get(s, "shared", &d);
            if (st != PERK_STORE_OK) _exit(2);
            int64_t seen = d.revision, rev = 0;
            perk_store_free_draft(&d);
            char sources[64];
            snprintf(sources, sizeof sources, "{\"m.perk\":\"# %s %d\"}", actor, k);
            st = perk_store_draft_save(s, "shared", sources, 0, seen, actor, 1000 + k, &rev);
            if (st == PERK_STORE_OK) {
                if (rev != seen + 1) _exit(3);
                break;
            }
            if ((st != PERK_STORE_CONFLICT && st != PERK_STORE_BUSY) || attempt > 2000) {
                fprintf(stderr, "worker %d: %s: %s\n", w, perk_store_status_name(st), perk_store_errmsg(s));
                _exit(4);
            }
        }
    }
    perk_store_close(s);
    _exit(0);
}

static void test_concurrent_saves(void **state)
{
    fixture *f = *state;
    int64_t rev = 0;
    assert_store(f->s, PERK_STORE_OK, perk_store_draft_save(f->s, "shared", "{}", 0, 0, "alice", 1, &rev));
    perk_store_close(f->s);
    f->s = NULL;
    pid_t pids[N_PROCS];
    for (int w = 0; w < N_PROCS; w++) {
        pids[w] = fork();
        assert_true(pids[w] >= 0);
        if (pids[w] == 0) run_worker(f->dir.db, w);
    }
    for (int w = 0; w < N_PROCS; w++) {
        int status;
        assert_int_equal(waitpid(pids[w], &status, 0), pids[w]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    f->s = test_open(f->dir.db);
    perk_store *s = f->s;
    /* every save landed once: the revision counts them all, and so does the audit log */
    assert_int_equal(test_sql_int(s, "SELECT revision FROM drafts WHERE name = 'shared'"), 1 + N_PROCS * SAVES);
    assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM audit_log WHERE action = 'draft.save'"),
                     1 + N_PROCS * SAVES);
    for (int w = 0; w < N_PROCS; w++)
        assert_int_equal(test_sql_int(s, "SELECT COUNT(*) FROM audit_log WHERE actor = 'w%d'", w), SAVES);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_save_get_list, store_fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_conflicts, store_fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_refusals, store_fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_saves, store_fixture_setup, store_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
