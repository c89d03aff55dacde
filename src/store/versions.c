/* versions.c - rule-set versions: publishing bytecode with its sources, the activation
 * log (publish, scheduled activation, rollback), history, loading a version and the cheap
 * hot-reload check used by checkout processes. */
#include "store_internal.h"

#include "perk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BYTECODE (64u << 20)
#define MAX_SOURCES (64u << 20)
#define MAX_MESSAGE 65536

static void active_cache_clear(perk_store *s) { s->active_cached = false; }

static perk_store_status check_text(perk_store *s, const char *what, const char *text, size_t max)
{
    if (text && strlen(text) > max)
        return pstore_fail(s, PERK_STORE_INVALID, "%s is longer than %zu bytes", what, max);
    return PERK_STORE_OK;
}

typedef struct publish_ctx {
    const uint8_t *bytecode;
    size_t len;
    const char *sources, *author, *message, *checksum;
    int64_t activate_at, now;
    int64_t version; /* out */
} publish_ctx;

/* perk_store_publish's write transaction (may run again: c->version is set afresh; the active
 * version cache is cleared only after the commit). */
static perk_store_status publish_body(perk_store *s, void *arg)
{
    publish_ctx *c = arg;
    const uint8_t *bytecode = c->bytecode;
    size_t len = c->len;
    const char *sources = c->sources, *author = c->author, *message = c->message, *checksum = c->checksum;
    int64_t activate_at = c->activate_at, now = c->now;
    perk_store_status status;
    pstore_st *st = pstore_stmt(s, "INSERT INTO versions (created_at, author, message, "
                                      "checksum, bytecode, sources) VALUES (?1,?2,?3,?4,?5,?6) RETURNING id");
    if (!st) {
        status = pstore_stmt_status(s);
        return status;
    }
    pstore_bind_int64(st, 1, now);
    pstore_bind_text(st, 2, author);
    pstore_bind_text(st, 3, message ? message : "");
    pstore_bind_text(st, 4, checksum);
    pstore_bind_blob(st, 5, bytecode, len);
    pstore_bind_text(st, 6, sources ? sources : "");
    int64_t version = 0;
    c->version = 0;
    status = pstore_query_int(s, st, 0, &version, "storing the version");
    if (status != PERK_STORE_OK) return status;

    st = pstore_stmt(s, "INSERT INTO activations (version_id, activate_at, created_at, kind, "
                        "author, message) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    if (!st) {
        status = pstore_stmt_status(s);
        return status;
    }
    pstore_bind_int64(st, 1, version);
    pstore_bind_int64(st, 2, activate_at);
    pstore_bind_int64(st, 3, now);
    pstore_bind_text(st, 4, "publish");
    pstore_bind_text(st, 5, author);
    pstore_bind_text(st, 6, message ? message : "");
    status = pstore_step_done(s, st, "recording the activation");
    if (status != PERK_STORE_OK) return status;

    json_t *ev =
        json_pack("{s:I, s:s, s:s, s:s, s:I, s:I, s:b}", "version_id", (json_int_t)version, "checksum",
                  checksum, "author", author, "message", message ? message : "", "activate_at",
                  (json_int_t)activate_at, "bytecode_len", (json_int_t)len, "scheduled", activate_at > now);
    status = pstore_emit(s, "ruleset.published", now, ev, NULL);
    if (status != PERK_STORE_OK) return status;
    status = pstore_db_notify_versions(s);
    if (status != PERK_STORE_OK) return status;
    c->version = version;
    return PERK_STORE_OK;
}

perk_store_status perk_store_publish(perk_store *s, const uint8_t *bytecode, size_t len, const char *sources,
                                     const char *author, const char *message, int64_t activate_at,
                                     int64_t now, int64_t *version_out)
{
    if (!s) return PERK_STORE_INVALID;
    if (version_out) *version_out = 0;
    if (!bytecode || len == 0) return pstore_fail(s, PERK_STORE_INVALID, "cannot publish empty bytecode");
    if (len > MAX_BYTECODE)
        return pstore_fail(s, PERK_STORE_INVALID, "bytecode of %zu bytes is larger than %u", len,
                           MAX_BYTECODE);
    perk_store_status status = pstore_check_name(s, "author", author, 255);
    if (status == PERK_STORE_OK) status = check_text(s, "message", message, MAX_MESSAGE);
    if (status == PERK_STORE_OK) status = check_text(s, "sources", sources, MAX_SOURCES);
    if (status != PERK_STORE_OK) return status;
    if (activate_at == 0) activate_at = now;
    if (activate_at < now)
        return pstore_fail(s, PERK_STORE_INVALID,
                           "activation time %lld is in the past (now is %lld); use 0 for now",
                           (long long)activate_at, (long long)now);
    char checksum[65];
    perk_store_sha256_hex(bytecode, len, checksum);

    publish_ctx c = { .bytecode = bytecode, .len = len, .sources = sources, .author = author, .message = message,
                      .checksum = checksum, .activate_at = activate_at, .now = now };
    status = pstore_write_txn(s, "publishing a rule-set version", "committing the new version", publish_body, &c);
    if (status != PERK_STORE_OK) {
        pstore_add_context(s, "; nothing was published");
        return status;
    }
    active_cache_clear(s);
    if (version_out) *version_out = c.version;
    return PERK_STORE_OK;
}

/* Version active at now, in the current transaction (0 = none). */
static perk_store_status active_at(perk_store *s, int64_t now, int64_t *id)
{
    pstore_st *st = pstore_stmt(s, "SELECT version_id FROM activations WHERE activate_at <= ?1 "
                                      "ORDER BY activate_at DESC, id DESC LIMIT 1");
    if (!st) return pstore_stmt_status(s);
    pstore_bind_int64(st, 1, now);
    return pstore_query_int(s, st, 0, id, "finding the active version");
}

perk_store_status perk_store_active_version(perk_store *s, int64_t now, int64_t *id)
{
    if (!s || !id) return s ? pstore_fail(s, PERK_STORE_INVALID, "no output given") : PERK_STORE_INVALID;
    *id = 0;
    perk_store_status status = active_at(s, now, id);
    if (status == PERK_STORE_OK && *id == 0)
        return pstore_fail(s, PERK_STORE_NOT_FOUND, "no rule-set version is active at %lld", (long long)now);
    return status;
}

perk_store_status perk_store_active_changed(perk_store *s, int64_t now, int64_t known_id, int64_t *new_id)
{
    if (!s || !new_id) return s ? pstore_fail(s, PERK_STORE_INVALID, "no output given") : PERK_STORE_INVALID;
    *new_id = known_id;
    /* SQLite's PRAGMA data_version changes when another connection commits; this handle's own
     * publish/rollback clear the cache explicitly. */
    int64_t data_version = 0;
    pstore_st *st = NULL;
    perk_store_status status = PERK_STORE_OK;
    if (s->backend == PSTORE_BACKEND_SQLITE) {
        st = pstore_stmt(s, "PRAGMA data_version");
        status = st ? pstore_query_int(s, st, 0, &data_version, "reading the data version") : pstore_stmt_status(s);
        if (status != PERK_STORE_OK) return status;
    } else {
        /* PostgreSQL: publish and rollback send a notice on perk_versions in their transaction
         * (pstore_db_notify_versions); without one since the last look, and on the same session,
         * the cached answer holds until the next scheduled activation (active_valid_until) */
        bool maybe = true;
        status = pstore_db_versions_noticed(s, &maybe);
        if (status != PERK_STORE_OK) return status;
        if (maybe) s->active_cached = false;
    }
    if (s->active_cached && data_version == s->active_data_version && now >= s->active_valid_from &&
        now < s->active_valid_until) {
        *new_id = s->active_id;
        return PERK_STORE_OK;
    }
    int64_t id = 0, next = 0;
    status = active_at(s, now, &id);
    if (status != PERK_STORE_OK) return status;
    st = pstore_stmt(s, "SELECT MIN(activate_at) FROM activations WHERE activate_at > ?1");
    if (!st) return pstore_stmt_status(s);
    pstore_bind_int64(st, 1, now);
    status = pstore_query_int(s, st, INT64_MAX, &next, "finding the next scheduled activation");
    if (status != PERK_STORE_OK) return status;
    s->active_cached = true;
    s->active_id = id;
    s->active_valid_from = now;
    s->active_valid_until = next;
    s->active_data_version = data_version;
    *new_id = id;
    return PERK_STORE_OK;
}

static const char *col_text(pstore_st *st, int col)
{
    const char *t = pstore_col_text(st, col);
    return t ? (const char *)t : "";
}

perk_store_status perk_store_history(perk_store *s, int64_t now, perk_store_version_cb cb, void *ctx)
{
    if (!s) return PERK_STORE_INVALID;
    if (!cb) return pstore_fail(s, PERK_STORE_INVALID, "no callback given for the history");
    perk_store_status status = pstore_begin(s, false, "reading the version history");
    if (status != PERK_STORE_OK) return status;
    int64_t active = 0;
    status = active_at(s, now, &active);
    if (status != PERK_STORE_OK) goto done;
    pstore_st *st =
        pstore_stmt(s, "SELECT v.id, v.created_at, v.author, v.message, v.checksum, length(v.bytecode),"
                       " (SELECT activate_at FROM activations a WHERE a.version_id = v.id"
                       "   AND a.kind = 'publish' ORDER BY a.id LIMIT 1),"
                       " (SELECT MAX(activate_at) FROM activations a WHERE a.version_id = v.id"
                       "   AND a.activate_at <= ?1),"
                       " (SELECT MIN(activate_at) FROM activations a WHERE a.version_id = v.id"
                       "   AND a.activate_at > ?1)"
                       " FROM versions v ORDER BY v.id DESC");
    if (!st) {
        status = pstore_stmt_status(s);
        goto done;
    }
    pstore_bind_int64(st, 1, now);
    int rc;
    while ((rc = pstore_step(st)) == PSTORE_ROW) {
        perk_store_version_info info = {
            .id = pstore_col_int64(st, 0),
            .created_at = pstore_col_int64(st, 1),
            .author = col_text(st, 2),
            .message = col_text(st, 3),
            .checksum = col_text(st, 4),
            .bytecode_len = (size_t)pstore_col_int64(st, 5),
            .activate_at = pstore_col_int64(st, 6),
            .last_activated_at = pstore_col_int64(st, 7),
            .next_activation_at = pstore_col_int64(st, 8),
        };
        info.active = info.id == active;
        if (cb(&info, ctx) != 0) {
            rc = PSTORE_DONE;
            break;
        }
    }
    if (rc != PSTORE_DONE) status = pstore_sqlfail(s, rc, "reading the version history");
    pstore_done(st);
done:
    if (status == PERK_STORE_OK) return pstore_commit(s, "finishing the history read");
    pstore_rollback(s);
    return status;
}

perk_store_status perk_store_activations(perk_store *s, perk_store_activation_cb cb, void *ctx)
{
    if (!s) return PERK_STORE_INVALID;
    if (!cb) return pstore_fail(s, PERK_STORE_INVALID, "no callback given for the activation log");
    pstore_st *st = pstore_stmt(s, "SELECT id, version_id, activate_at, created_at, kind, "
                                      "author, message FROM activations ORDER BY id DESC");
    if (!st) return pstore_stmt_status(s);
    int rc;
    while ((rc = pstore_step(st)) == PSTORE_ROW) {
        perk_store_activation a = {
            .id = pstore_col_int64(st, 0),
            .version_id = pstore_col_int64(st, 1),
            .activate_at = pstore_col_int64(st, 2),
            .created_at = pstore_col_int64(st, 3),
            .kind = col_text(st, 4),
            .author = col_text(st, 5),
            .message = col_text(st, 6),
        };
        if (cb(&a, ctx) != 0) {
            rc = PSTORE_DONE;
            break;
        }
    }
    perk_store_status status = PERK_STORE_OK;
    if (rc != PSTORE_DONE) status = pstore_sqlfail(s, rc, "reading the activation log");
    pstore_done(st);
    return status;
}

void perk_store_free_version(perk_store_version *v)
{
    if (!v) return;
    free(v->author);
    free(v->message);
    free(v->sources);
    free(v->bytecode);
    memset(v, 0, sizeof *v);
}

perk_store_status perk_store_get_version(perk_store *s, int64_t id, perk_store_version *out)
{
    if (!s || !out) return s ? pstore_fail(s, PERK_STORE_INVALID, "no output given") : PERK_STORE_INVALID;
    memset(out, 0, sizeof *out);
    pstore_st *st =
        pstore_stmt(s, "SELECT v.created_at, v.author, v.message, v.checksum, v.bytecode, v.sources,"
                       " (SELECT activate_at FROM activations a WHERE a.version_id = v.id"
                       "   AND a.kind = 'publish' ORDER BY a.id LIMIT 1)"
                       " FROM versions v WHERE v.id = ?1");
    if (!st) return pstore_stmt_status(s);
    pstore_bind_int64(st, 1, id);
    int rc = pstore_step(st);
    if (rc == PSTORE_DONE) {
        pstore_done(st);
        return pstore_fail(s, PERK_STORE_NOT_FOUND, "version %lld does not exist", (long long)id);
    }
    if (rc != PSTORE_ROW) {
        perk_store_status status = pstore_sqlfail(s, rc, "loading a version");
        pstore_done(st);
        return status;
    }
    out->id = id;
    out->created_at = pstore_col_int64(st, 0);
    out->author = strdup(col_text(st, 1));
    out->message = strdup(col_text(st, 2));
    const char *stored_checksum = col_text(st, 3);
    snprintf(out->checksum, sizeof out->checksum, "%s", stored_checksum);
    size_t len;
    const void *blob = pstore_col_blob(st, 4, &len);
    out->bytecode = malloc(len ? len : 1);
    if (out->bytecode && len) memcpy(out->bytecode, blob, len);
    out->bytecode_len = len;
    out->sources = strdup(col_text(st, 5));
    out->activate_at = pstore_col_int64(st, 6);
    pstore_done(st);
    if (!out->author || !out->message || !out->bytecode || !out->sources) {
        perk_store_free_version(out);
        return pstore_fail(s, PERK_STORE_NOMEM, "out of memory while loading version %lld", (long long)id);
    }
    char actual[65];
    perk_store_sha256_hex(out->bytecode, out->bytecode_len, actual);
    if (strcmp(actual, out->checksum) != 0)
        return pstore_fail(s, PERK_STORE_CORRUPT,
                           "version %lld is damaged: its bytecode hashes to %.12s..., the stored "
                           "checksum is %.12s...",
                           (long long)id, actual, out->checksum);
    return PERK_STORE_OK;
}

typedef struct rollback_ctx {
    int64_t id;
    const char *author, *message;
    int64_t now;
} rollback_ctx;

/* perk_store_rollback's write transaction (may run again: it only writes in it; the active
 * version cache is cleared only after the commit). */
static perk_store_status rollback_body(perk_store *s, void *arg)
{
    const rollback_ctx *c = arg;
    int64_t id = c->id, now = c->now;
    const char *author = c->author, *message = c->message;
    perk_store_status status;
    int64_t exists = 0, previous = 0;
    pstore_st *st = pstore_stmt(s, "SELECT COUNT(*) FROM versions WHERE id = ?1");
    if (!st) {
        status = pstore_stmt_status(s);
        return status;
    }
    pstore_bind_int64(st, 1, id);
    status = pstore_query_int(s, st, 0, &exists, "looking up the version");
    if (status != PERK_STORE_OK) return status;
    if (!exists) {
        status = pstore_fail(s, PERK_STORE_NOT_FOUND, "version %lld does not exist", (long long)id);
        return status;
    }
    status = active_at(s, now, &previous);
    if (status != PERK_STORE_OK) return status;
    st = pstore_stmt(s, "INSERT INTO activations (version_id, activate_at, created_at, kind, "
                        "author, message) VALUES (?1, ?2, ?2, 'rollback', ?3, ?4)");
    if (!st) {
        status = pstore_stmt_status(s);
        return status;
    }
    pstore_bind_int64(st, 1, id);
    pstore_bind_int64(st, 2, now);
    pstore_bind_text(st, 3, author);
    pstore_bind_text(st, 4, message ? message : "");
    status = pstore_step_done(s, st, "recording the rollback");
    if (status != PERK_STORE_OK) return status;
    json_t *ev = json_pack("{s:I, s:I, s:s, s:s}", "version_id", (json_int_t)id, "previous_version_id",
                           (json_int_t)previous, "author", author, "message", message ? message : "");
    status = pstore_emit(s, "ruleset.rolled_back", now, ev, NULL);
    if (status != PERK_STORE_OK) return status;
    return pstore_db_notify_versions(s);
}

perk_store_status perk_store_rollback(perk_store *s, int64_t id, const char *author, const char *message,
                                      int64_t now)
{
    if (!s) return PERK_STORE_INVALID;
    perk_store_status status = pstore_check_name(s, "author", author, 255);
    if (status == PERK_STORE_OK) status = check_text(s, "message", message, MAX_MESSAGE);
    if (status != PERK_STORE_OK) return status;
    rollback_ctx c = { .id = id, .author = author, .message = message, .now = now };
    status = pstore_write_txn(s, "rolling back", "committing the rollback", rollback_body, &c);
    if (status != PERK_STORE_OK) return status;
    active_cache_clear(s);
    return PERK_STORE_OK;
}

perk_store_status pstore_version_program(perk_store *s, int64_t id, int64_t now,
                                         const struct perk_program **out)
{
    *out = NULL;
    if (id <= 0)
        return pstore_fail(s, PERK_STORE_INVALID,
                           "rule-set version %lld is not a published version: an order is committed "
                           "only when priced by a version published in the store (perk publish); a "
                           "program from elsewhere can only be evaluated (a dry run)",
                           (long long)id);
    pstore_st *st = pstore_stmt(s, "SELECT (SELECT COUNT(*) FROM versions WHERE id = ?1),"
                                      " (SELECT MIN(activate_at) FROM activations WHERE version_id = ?1)");
    if (!st) return pstore_stmt_status(s);
    pstore_bind_int64(st, 1, id);
    int rc = pstore_step(st);
    int64_t exists = 0, first = 0;
    bool activated = false;
    if (rc == PSTORE_ROW) {
        exists = pstore_col_int64(st, 0);
        activated = !pstore_col_is_null(st, 1);
        first = pstore_col_int64(st, 1);
    }
    pstore_done(st);
    if (rc != PSTORE_ROW) return pstore_sqlfail(s, rc, "looking up the order's rule-set version");
    if (!exists)
        return pstore_fail(s, PERK_STORE_INVALID,
                           "rule-set version %lld does not exist in this store: price the order "
                           "with a published version (perk history lists them)",
                           (long long)id);
    if (!activated || first > now)
        return pstore_fail(s, PERK_STORE_INVALID,
                           "rule-set version %lld is not active yet (scheduled for %lld): price "
                           "the order with the active version",
                           (long long)id, (long long)first);
    if (s->version_prog && s->version_prog_id == id) {
        *out = s->version_prog;
        return PERK_STORE_OK;
    }
    perk_store_version v;
    perk_store_status status = perk_store_get_version(s, id, &v);
    if (status != PERK_STORE_OK) {
        perk_store_free_version(&v);
        return status;
    }
    perk_error err;
    perk_program *prog = perk_program_load(v.bytecode, v.bytecode_len, &err);
    perk_store_free_version(&v);
    if (!prog)
        return pstore_fail(s, PERK_STORE_INVALID, "rule-set version %lld does not load: %s", (long long)id,
                           err.message);
    perk_program_free(s->version_prog);
    s->version_prog = prog;
    s->version_prog_id = id;
    *out = prog;
    return PERK_STORE_OK;
}
