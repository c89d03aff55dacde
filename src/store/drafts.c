/* drafts.c - the console's drafts kept on the server (store.h, docs/console.md "Drafts on the
 * server"): saved under a name with a revision that each save increments, so that a save based
 * on an older revision is refused (CONFLICT) rather than overwriting a colleague's later work;
 * every save and delete in the audit log, in the same transaction. */
#include "store_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A draft's name: 1..64 bytes of UTF-8 text without control characters ("双11 预售" is fine). */
static perk_store_status check_draft_name(perk_store *s, const char *name)
{
    perk_store_status st = pstore_check_name(s, "draft name", name, PERK_STORE_DRAFT_NAME_MAX);
    if (st != PERK_STORE_OK) return st;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return pstore_fail(s, PERK_STORE_INVALID, "draft name: control characters are not allowed");
    return PERK_STORE_OK;
}

static const char *text_or_empty(pstore_st *q, int col)
{
    const char *t = pstore_col_text(q, col);
    return t ? t : "";
}

/* The draft's revision, who saved it and when (*revision 0 when there is none). */
static perk_store_status current(perk_store *s, const char *name, int64_t *revision, char *by, size_t by_cap,
                                 int64_t *at)
{
    pstore_st *q = pstore_stmt(s, "SELECT revision, saved_by, saved_at FROM drafts WHERE name = ?1");
    if (!q) return pstore_stmt_status(s);
    pstore_bind_text(q, 1, name);
    int rc = pstore_step(q);
    *revision = 0;
    if (rc == PSTORE_ROW) {
        *revision = pstore_col_int64(q, 0);
        snprintf(by, by_cap, "%s", text_or_empty(q, 1));
        *at = pstore_col_int64(q, 2);
        rc = PSTORE_DONE;
    }
    perk_store_status st = rc == PSTORE_DONE ? PERK_STORE_OK : pstore_sqlfail(s, rc, "reading a draft");
    pstore_done(q);
    return st;
}

/* CONFLICT: the draft is at `revision` now, not at `expected`. */
static perk_store_status changed_since(perk_store *s, const char *name, int64_t expected, int64_t revision,
                                       const char *by, int64_t at)
{
    if (expected == 0)
        return pstore_fail(s, PERK_STORE_CONFLICT,
                           "a draft \"%s\" exists already (revision %lld, saved by %s at %lld): open it, or "
                           "choose another name",
                           name, (long long)revision, by, (long long)at);
    return pstore_fail(s, PERK_STORE_CONFLICT,
                       "draft \"%s\" was saved by %s at %lld (revision %lld) since revision %lld: open it to "
                       "see the changes, or save under another name",
                       name, by, (long long)at, (long long)revision, (long long)expected);
}

typedef struct draft_save_ctx {
    const char *name, *sources, *actor;
    int64_t base_version, expected, now;
    int64_t *revision;
} draft_save_ctx;

/* perk_store_draft_save's write transaction (may run again: it only writes in it). */
static perk_store_status draft_save_body(perk_store *s, void *arg)
{
    const draft_save_ctx *c = arg;
    int64_t revision = 0, at = 0;
    char by[256] = "";
    perk_store_status st = current(s, c->name, &revision, by, sizeof by, &at);
    if (st != PERK_STORE_OK) return st;
    if (revision == 0 && c->expected != 0)
        return pstore_fail(s, PERK_STORE_NOT_FOUND, "draft \"%s\" was deleted since revision %lld: save it as new",
                           c->name, (long long)c->expected);
    if (revision != c->expected) return changed_since(s, c->name, c->expected, revision, by, at);
    pstore_st *q;
    if (revision == 0) {
        q = pstore_stmt(s, "INSERT INTO drafts (name, sources, saved_by, saved_at, base_version, revision)"
                           " VALUES (?1, ?2, ?3, ?4, ?5, 1)");
        if (q) pstore_bind_int64(q, 5, c->base_version);
    } else {
        q = pstore_stmt(s, "UPDATE drafts SET sources = ?2, saved_by = ?3, saved_at = ?4, revision = revision + 1"
                           " WHERE name = ?1");
    }
    if (!q) return pstore_stmt_status(s);
    pstore_bind_text(q, 1, c->name);
    pstore_bind_text(q, 2, c->sources);
    pstore_bind_text(q, 3, c->actor);
    pstore_bind_int64(q, 4, c->now);
    if ((st = pstore_step_done(s, q, "saving a draft")) != PERK_STORE_OK) return st;
    *c->revision = revision + 1;
    char detail[PERK_STORE_DRAFT_NAME_MAX + 48];
    snprintf(detail, sizeof detail, "%s (revision %lld)", c->name, (long long)(revision + 1));
    return pstore_audit_insert(s, c->now, c->actor, "draft.save", detail);
}

perk_store_status perk_store_draft_save(perk_store *s, const char *name, const char *sources, int64_t base_version,
                                        int64_t expected_revision, const char *actor, int64_t now, int64_t *revision)
{
    if (!s) return PERK_STORE_INVALID;
    perk_store_status st = check_draft_name(s, name);
    if (st == PERK_STORE_OK) st = pstore_check_name(s, "the draft's author", actor, 255);
    if (st != PERK_STORE_OK) return st;
    if (!sources || !revision) return pstore_fail(s, PERK_STORE_INVALID, "no sources or revision output given");
    if (strlen(sources) > PERK_STORE_DRAFT_SOURCES_MAX)
        return pstore_fail(s, PERK_STORE_INVALID, "the draft's sources are larger than %u bytes",
                           PERK_STORE_DRAFT_SOURCES_MAX);
    if (expected_revision < 0 || base_version < 0)
        return pstore_fail(s, PERK_STORE_INVALID, "a revision or version is never negative");
    draft_save_ctx c = { .name = name, .sources = sources, .actor = actor, .base_version = base_version,
                         .expected = expected_revision, .now = now, .revision = revision };
    return pstore_write_txn(s, "saving a draft", "saving a draft", draft_save_body, &c);
}

void perk_store_free_draft(perk_store_draft *d)
{
    if (!d) return;
    free(d->sources);
    memset(d, 0, sizeof *d);
}

/* The columns name, base_version, revision, saved_by, saved_at of a row into d. */
static void fill(perk_store_draft *d, pstore_st *q)
{
    snprintf(d->name, sizeof d->name, "%s", text_or_empty(q, 0));
    d->base_version = pstore_col_int64(q, 1);
    d->revision = pstore_col_int64(q, 2);
    snprintf(d->saved_by, sizeof d->saved_by, "%s", text_or_empty(q, 3));
    d->saved_at = pstore_col_int64(q, 4);
}

perk_store_status perk_store_draft_get(perk_store *s, const char *name, perk_store_draft *out)
{
    if (!s || !out) return s ? pstore_fail(s, PERK_STORE_INVALID, "no output given") : PERK_STORE_INVALID;
    memset(out, 0, sizeof *out);
    perk_store_status st = check_draft_name(s, name);
    if (st != PERK_STORE_OK) return st;
    pstore_st *q =
        pstore_stmt(s, "SELECT name, base_version, revision, saved_by, saved_at, sources FROM drafts WHERE name = ?1");
    if (!q) return pstore_stmt_status(s);
    pstore_bind_text(q, 1, name);
    int rc = pstore_step(q);
    if (rc == PSTORE_ROW) {
        fill(out, q);
        out->sources = strdup(text_or_empty(q, 5));
        st = out->sources ? PERK_STORE_OK : pstore_fail(s, PERK_STORE_NOMEM, "out of memory reading a draft");
    } else if (rc == PSTORE_DONE) {
        st = pstore_fail(s, PERK_STORE_NOT_FOUND, "no draft \"%s\"", name);
    } else {
        st = pstore_sqlfail(s, rc, "reading a draft");
    }
    pstore_done(q);
    return st;
}

perk_store_status perk_store_drafts(perk_store *s, perk_store_draft_cb cb, void *ctx)
{
    if (!s || !cb) return PERK_STORE_INVALID;
    pstore_st *q = pstore_stmt(s, "SELECT name, base_version, revision, saved_by, saved_at FROM drafts"
                                  " ORDER BY saved_at DESC, name");
    if (!q) return pstore_stmt_status(s);
    int rc;
    while ((rc = pstore_step(q)) == PSTORE_ROW) {
        perk_store_draft d;
        memset(&d, 0, sizeof d);
        fill(&d, q);
        if (cb(ctx, &d)) {
            rc = PSTORE_DONE;
            break;
        }
    }
    perk_store_status st = rc == PSTORE_DONE ? PERK_STORE_OK : pstore_sqlfail(s, rc, "listing the drafts");
    pstore_done(q);
    return st;
}

typedef struct draft_delete_ctx {
    const char *name, *actor;
    int64_t expected, now;
} draft_delete_ctx;

static perk_store_status draft_delete_body(perk_store *s, void *arg)
{
    const draft_delete_ctx *c = arg;
    int64_t revision = 0, at = 0;
    char by[256] = "";
    perk_store_status st = current(s, c->name, &revision, by, sizeof by, &at);
    if (st != PERK_STORE_OK) return st;
    if (revision == 0) return pstore_fail(s, PERK_STORE_NOT_FOUND, "no draft \"%s\"", c->name);
    if (c->expected != 0 && revision != c->expected) return changed_since(s, c->name, c->expected, revision, by, at);
    pstore_st *q = pstore_stmt(s, "DELETE FROM drafts WHERE name = ?1");
    if (!q) return pstore_stmt_status(s);
    pstore_bind_text(q, 1, c->name);
    if ((st = pstore_step_done(s, q, "deleting a draft")) != PERK_STORE_OK) return st;
    char detail[PERK_STORE_DRAFT_NAME_MAX + 48];
    snprintf(detail, sizeof detail, "%s (revision %lld)", c->name, (long long)revision);
    return pstore_audit_insert(s, c->now, c->actor, "draft.delete", detail);
}

perk_store_status perk_store_draft_delete(perk_store *s, const char *name, int64_t expected_revision,
                                          const char *actor, int64_t now)
{
    if (!s) return PERK_STORE_INVALID;
    perk_store_status st = check_draft_name(s, name);
    if (st == PERK_STORE_OK) st = pstore_check_name(s, "the deleting operator", actor, 255);
    if (st != PERK_STORE_OK) return st;
    if (expected_revision < 0) return pstore_fail(s, PERK_STORE_INVALID, "a revision is never negative");
    draft_delete_ctx c = { .name = name, .actor = actor, .expected = expected_revision, .now = now };
    return pstore_write_txn(s, "deleting a draft", "deleting a draft", draft_delete_body, &c);
}
