/* db_sqlite.c - the driver layer behind db.h: each call dispatches on the handle's backend with
 * one predictable branch, running the SQLite driver inline (statements, transactions, the busy
 * handler, opening a store file: PRAGMAs, WAL, application_id) or calling the PostgreSQL driver
 * (db_pg.c). The store's address picks the backend (perk_store_address_is_postgres). The one
 * file of src/store/ besides the SQLite-only features (backup.c's online backup, check.c's
 * PRAGMA quick_check) that calls sqlite3_* directly. */
#include "store_internal.h"

#include "db_pg.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

/* The SQLite path is the expected one: its branch is laid out first. */
#define PSTORE_IS_SQLITE(x) __builtin_expect((x) == PSTORE_BACKEND_SQLITE, 1)

struct pstore_st {
    pstore_backend backend;
    const char *sql;    /* the cache key: the address of the SQL text (NULL: uncached) */
    sqlite3_stmt *stmt; /* SQLite */
    pstore_pg_stmt *pg; /* PostgreSQL: owned by the connection (cached) or by this (uncached) */
};

bool perk_store_address_is_postgres(const char *address)
{
    if (!address) return false;
    static const char *const prefixes[] = { "postgres://", "postgresql://", "host=",
                                            "hostaddr=",   "dbname=",       "service=" };
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
        if (strncmp(address, prefixes[i], strlen(prefixes[i])) == 0) return true;
    return false;
}

/* ------------------------------------------------------------ result codes */

perk_store_status pstore_status_from_code(int rc)
{
    if (rc == PSTORE_PG_UNAVAILABLE) return PERK_STORE_UNAVAILABLE;
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE: return PERK_STORE_OK;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return PERK_STORE_BUSY;
    case SQLITE_FULL: return PERK_STORE_FULL;
    case SQLITE_READONLY:
    case SQLITE_PERM: return PERK_STORE_READONLY;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_FORMAT: return PERK_STORE_CORRUPT;
    case SQLITE_NOMEM: return PERK_STORE_NOMEM;
    case SQLITE_CONSTRAINT: return PERK_STORE_CONFLICT;
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_PROTOCOL: return PERK_STORE_IO;
    default: return PERK_STORE_INTERNAL;
    }
}

const char *pstore_db_errmsg(perk_store *s, int rc)
{
    if (!PSTORE_IS_SQLITE(s->backend)) return s->pg ? pstore_pg_errmsg(s->pg) : sqlite3_errstr(rc);
    /* sqlite3_errmsg() describes the most recent failure on the connection. */
    return s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc);
}

/* --------------------------------------------------------------- statements */

pstore_st *pstore_stmt(perk_store *s, const char *sql)
{
    for (size_t i = 0; i < s->n_stmts; i++) {
        if (s->stmts[i]->sql == sql) {
            if (!PSTORE_IS_SQLITE(s->backend)) {
                pstore_pg_reset(s->stmts[i]->pg);
                return s->stmts[i];
            }
            sqlite3_stmt *st = s->stmts[i]->stmt;
            sqlite3_reset(st);
            sqlite3_clear_bindings(st);
            return s->stmts[i];
        }
    }
    if (s->n_stmts == s->cap_stmts) {
        size_t cap = s->cap_stmts ? s->cap_stmts * 2 : 32;
        pstore_st **grown = realloc(s->stmts, cap * sizeof *grown);
        if (!grown) {
            s->stmt_status = pstore_fail(s, PERK_STORE_NOMEM, "out of memory while preparing a statement");
            return NULL;
        }
        s->stmts = grown;
        s->cap_stmts = cap;
    }
    pstore_st *ps = malloc(sizeof *ps);
    if (!ps) {
        s->stmt_status = pstore_fail(s, PERK_STORE_NOMEM, "out of memory while preparing a statement");
        return NULL;
    }
    if (!PSTORE_IS_SQLITE(s->backend)) {
        pstore_pg_stmt *pg = pstore_pg_prepare(s->pg, sql);
        if (!pg) {
            s->stmt_status = pstore_sqlfail(s, SQLITE_ERROR, "preparing a statement");
            free(ps);
            return NULL;
        }
        pstore_pg_reset(pg);
        *ps = (pstore_st){ .backend = PSTORE_BACKEND_PG, .sql = sql, .pg = pg };
        s->stmts[s->n_stmts++] = ps;
        return ps;
    }
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
    if (rc != SQLITE_OK) {
        /* e.g. "file is not a database", "database disk image is malformed", out of memory */
        s->stmt_status = pstore_sqlfail(s, rc, "preparing a statement");
        sqlite3_finalize(st);
        free(ps);
        return NULL;
    }
    *ps = (pstore_st){ .backend = PSTORE_BACKEND_SQLITE, .sql = sql, .stmt = st };
    s->stmts[s->n_stmts++] = ps;
    return ps;
}

pstore_st *pstore_prepare(perk_store *s, const char *sql)
{
    pstore_st *ps = malloc(sizeof *ps);
    if (!ps) {
        s->stmt_status = pstore_fail(s, PERK_STORE_NOMEM, "out of memory while preparing a statement");
        return NULL;
    }
    if (!PSTORE_IS_SQLITE(s->backend)) {
        pstore_pg_stmt *pg = pstore_pg_prepare_uncached(s->pg, sql);
        if (!pg) {
            s->stmt_status = pstore_sqlfail(s, SQLITE_ERROR, "preparing a statement");
            free(ps);
            return NULL;
        }
        *ps = (pstore_st){ .backend = PSTORE_BACKEND_PG, .sql = NULL, .pg = pg };
        return ps;
    }
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK) {
        s->stmt_status = pstore_sqlfail(s, rc, "preparing a statement");
        sqlite3_finalize(st);
        free(ps);
        return NULL;
    }
    *ps = (pstore_st){ .backend = PSTORE_BACKEND_SQLITE, .sql = NULL, .stmt = st };
    return ps;
}

void pstore_finalize(pstore_st *st)
{
    if (!st) return;
    if (PSTORE_IS_SQLITE(st->backend)) sqlite3_finalize(st->stmt);
    else pstore_pg_finalize(st->pg);
    free(st);
}

/* Drops every cached statement (closing, or reopening the connection). */
static void finalize_all(perk_store *s)
{
    for (size_t i = 0; i < s->n_stmts; i++) {
        /* a PostgreSQL statement belongs to its connection's cache (pstore_pg_close frees it) */
        if (PSTORE_IS_SQLITE(s->stmts[i]->backend)) sqlite3_finalize(s->stmts[i]->stmt);
        free(s->stmts[i]);
    }
    s->n_stmts = 0;
}

int pstore_step(pstore_st *st)
{
    if (PSTORE_IS_SQLITE(st->backend)) return sqlite3_step(st->stmt);
    return pstore_pg_step(st->pg);
}

void pstore_done(pstore_st *st)
{
    if (!st) return;
    if (PSTORE_IS_SQLITE(st->backend)) {
        sqlite3_reset(st->stmt);
        sqlite3_clear_bindings(st->stmt);
    } else {
        pstore_pg_reset(st->pg);
    }
}

int pstore_bind_int64(pstore_st *st, int i, int64_t v)
{
    if (PSTORE_IS_SQLITE(st->backend)) return sqlite3_bind_int64(st->stmt, i, v);
    return pstore_pg_bind_int64(st->pg, i, v);
}

int pstore_bind_text(pstore_st *st, int i, const char *text)
{
    if (!PSTORE_IS_SQLITE(st->backend)) return pstore_pg_bind_text(st->pg, i, text);
    if (!text) return sqlite3_bind_null(st->stmt, i);
    return sqlite3_bind_text(st->stmt, i, text, -1, SQLITE_STATIC);
}

int pstore_bind_null(pstore_st *st, int i)
{
    if (PSTORE_IS_SQLITE(st->backend)) return sqlite3_bind_null(st->stmt, i);
    return pstore_pg_bind_null(st->pg, i);
}

int pstore_bind_blob(pstore_st *st, int i, const void *p, size_t n)
{
    if (PSTORE_IS_SQLITE(st->backend)) return sqlite3_bind_blob64(st->stmt, i, p, n, SQLITE_STATIC);
    return pstore_pg_bind_blob(st->pg, i, p, n);
}

int64_t pstore_col_int64(pstore_st *st, int col)
{
    if (PSTORE_IS_SQLITE(st->backend)) return sqlite3_column_int64(st->stmt, col);
    return pstore_pg_col_int64(st->pg, col);
}

const char *pstore_col_text(pstore_st *st, int col)
{
    if (PSTORE_IS_SQLITE(st->backend)) return (const char *)sqlite3_column_text(st->stmt, col);
    return pstore_pg_col_text(st->pg, col);
}

bool pstore_col_is_null(pstore_st *st, int col)
{
    if (PSTORE_IS_SQLITE(st->backend)) return sqlite3_column_type(st->stmt, col) == SQLITE_NULL;
    return pstore_pg_col_is_null(st->pg, col);
}

const void *pstore_col_blob(pstore_st *st, int col, size_t *n)
{
    if (!PSTORE_IS_SQLITE(st->backend)) return pstore_pg_col_blob(st->pg, col, n);
    const void *p = sqlite3_column_blob(st->stmt, col);
    *n = (size_t)sqlite3_column_bytes(st->stmt, col);
    return p;
}

int64_t pstore_changes(perk_store *s)
{
    if (PSTORE_IS_SQLITE(s->backend)) return sqlite3_changes64(s->db);
    return pstore_pg_changes(s->pg);
}

int pstore_db_exec(perk_store *s, const char *sql)
{
    if (PSTORE_IS_SQLITE(s->backend)) return sqlite3_exec(s->db, sql, NULL, NULL, NULL);
    return pstore_pg_exec(s->pg, sql);
}

void perk_store_reconnects(int64_t *ok, int64_t *failed) { pstore_pg_reconnects(ok, failed); }

bool pstore_db_retryable(const perk_store *s)
{
    return !PSTORE_IS_SQLITE(s->backend) && pstore_pg_retryable(s->pg);
}

bool pstore_db_commit_unknown(const perk_store *s)
{
    return !PSTORE_IS_SQLITE(s->backend) && pstore_pg_commit_unknown(s->pg);
}

/* ------------------------------------------------------------- version notices */

#define PSTORE_VERSIONS_CHANNEL "perk_versions"

perk_store_status pstore_db_outbox_lock(perk_store *s)
{
    if (PSTORE_IS_SQLITE(s->backend)) return PERK_STORE_OK;
    /* the two-key form ('PERK', the schema): its own key space, apart from the migration lock's
     * single key, and one lock per store when several share a database */
    pstore_st *st = pstore_stmt(s, "SELECT pg_advisory_xact_lock(1346720331, hashtext(current_schema()))");
    if (!st) return pstore_stmt_status(s);
    int rc;
    while ((rc = pstore_step(st)) == PSTORE_ROW) {
    }
    pstore_done(st);
    if (rc != PSTORE_DONE) return pstore_sqlfail(s, rc, "waiting for the outbox's commit order");
    return PERK_STORE_OK;
}

perk_store_status pstore_db_notify_versions(perk_store *s)
{
    if (PSTORE_IS_SQLITE(s->backend)) return PERK_STORE_OK;
    pstore_st *st = pstore_stmt(s, "SELECT pg_notify('" PSTORE_VERSIONS_CHANNEL "', '')");
    if (!st) return pstore_stmt_status(s);
    int rc;
    while ((rc = pstore_step(st)) == PSTORE_ROW) {
    }
    pstore_done(st);
    if (rc != PSTORE_DONE) return pstore_sqlfail(s, rc, "notifying the other nodes of the new version");
    return PERK_STORE_OK;
}

perk_store_status pstore_db_versions_noticed(perk_store *s, bool *maybe)
{
    *maybe = true;
    if (PSTORE_IS_SQLITE(s->backend)) return PERK_STORE_OK;
    int rc = pstore_pg_listen(s->pg, PSTORE_VERSIONS_CHANNEL);
    if (rc == SQLITE_OK) rc = pstore_pg_notified(s->pg, maybe);
    if (rc != SQLITE_OK) return pstore_sqlfail(s, rc, "listening for new versions");
    return PERK_STORE_OK;
}

/* ------------------------------------------------------------- transactions */

perk_store_status pstore_db_begin(perk_store *s, bool write, const char *what)
{
    if (!PSTORE_IS_SQLITE(s->backend)) {
        /* SERIALIZABLE writes, REPEATABLE READ READ ONLY reads (db_pg.c) */
        int rc = pstore_pg_begin(s->pg, write);
        if (rc != SQLITE_OK) return pstore_sqlfail(s, rc, what);
        return PERK_STORE_OK;
    }
    /* BEGIN IMMEDIATE takes the write lock up front, so writers are serialised (waiting in the
     * busy handler) and never fail part-way as retryable: s->retryable stays false. */
    pstore_st *st = write ? pstore_stmt(s, "BEGIN IMMEDIATE") : pstore_stmt(s, "BEGIN");
    if (!st) return pstore_stmt_status(s);
    int rc = sqlite3_step(st->stmt);
    pstore_done(st);
    if (rc != SQLITE_DONE) return pstore_sqlfail(s, rc, what);
    return PERK_STORE_OK;
}

perk_store_status pstore_db_commit(perk_store *s, const char *what)
{
    if (!PSTORE_IS_SQLITE(s->backend)) {
        int rc = pstore_pg_commit(s->pg);
        if (rc != SQLITE_OK) return pstore_sqlfail(s, rc, what);
        return PERK_STORE_OK;
    }
    pstore_st *st = pstore_stmt(s, "COMMIT");
    if (!st) return pstore_stmt_status(s);
    int rc = sqlite3_step(st->stmt);
    pstore_done(st);
    if (rc != SQLITE_DONE) return pstore_sqlfail(s, rc, what);
    return PERK_STORE_OK;
}

void pstore_db_rollback(perk_store *s)
{
    if (!PSTORE_IS_SQLITE(s->backend)) {
        if (s->pg) pstore_pg_rollback(s->pg);
        return;
    }
    if (!s->db || sqlite3_get_autocommit(s->db))
        return; /* SQLite already rolled back (e.g. after SQLITE_FULL) or nothing was open */
    /* Reset every cached statement first so none keeps the transaction pinned. */
    for (size_t i = 0; i < s->n_stmts; i++) sqlite3_reset(s->stmts[i]->stmt);
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

/* ------------------------------------------------------------- busy handling (SQLite-only) */

/* SQLite's own busy handler sleeps up to 100 ms between attempts, which starves a process when
 * several others keep the write lock busy. This one sleeps short randomised intervals
 * (50 us doubling up to ~2 ms) so waiting writers keep getting chances, and gives up after
 * busy_timeout_ms of sleeping. */
static int busy_handler(void *arg, int count)
{
    perk_store *s = arg;
    if (!s->busy_rng) /* seeded lazily so forked children differ */
        s->busy_rng = ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)s ^ 0x9e3779b97f4a7c15u;
    /* count is the number of earlier calls for this lock attempt. */
    if (count == 0) s->busy_slept_us = 0;
    if (s->busy_slept_us >= (int64_t)s->busy_timeout_ms * 1000) return 0;
    int shift = count < 6 ? count : 6;
    int64_t cap = (int64_t)50 << shift; /* 50 us .. 3.2 ms */
    s->busy_rng ^= s->busy_rng << 13;
    s->busy_rng ^= s->busy_rng >> 7;
    s->busy_rng ^= s->busy_rng << 17;
    int64_t us = 20 + (int64_t)(s->busy_rng % (uint64_t)cap);
    struct timespec ts = { .tv_sec = 0, .tv_nsec = (long)us * 1000 };
    nanosleep(&ts, NULL);
    s->busy_slept_us += us;
    return 1;
}


perk_store_status perk_store_set_durable(perk_store *s, bool durable)
{
    if (!s) return PERK_STORE_INVALID;
    if (!PSTORE_IS_SQLITE(s->backend))
        /* the same trade as SQLite's synchronous=NORMAL: a crash of the server may lose the last
         * commits, never corrupt; for this session only (a reconnection is durable again) */
        return pstore_exec(s, durable ? "SET synchronous_commit = on" : "SET synchronous_commit = off",
                           "setting durability");
    return pstore_exec(s, durable ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL",
                       "setting durability");
}

/* ------------------------------------------------------------- open / close (SQLite-only) */

/* Reopens the handle's database read-only and immutable through a URI (the path
 * percent-encoded), with the cached statements dropped. */
static perk_store_status reopen_immutable(perk_store *s, const char *path)
{
    finalize_all(s);
    sqlite3_close_v2(s->db);
    s->db = NULL;
    size_t len = strlen(path);
    char *uri = malloc(len * 3 + 32);
    if (!uri) return pstore_fail(s, PERK_STORE_NOMEM, "out of memory opening %s", path);
    size_t n = (size_t)sprintf(uri, "file:");
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        if (*p == '%' || *p == '?' || *p == '#' || *p < 0x20 || *p >= 0x7f)
            n += (size_t)sprintf(uri + n, "%%%02X", *p);
        else
            uri[n++] = (char)*p;
    }
    strcpy(uri + n, "?mode=ro&immutable=1");
    int rc = sqlite3_open_v2(uri, &s->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, NULL);
    free(uri);
    if (rc != SQLITE_OK)
        return pstore_fail(s, PERK_STORE_IO, "cannot open database %s read-only: %s", path,
                           s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_handler(s->db, busy_handler, s);
    s->readonly = true;
    return PERK_STORE_OK;
}

/* Opens a PostgreSQL store: connects, then migrates the schema (read-write) or checks that it is
 * current (read-only, where nothing may be created). */
static perk_store_status open_pg(perk_store *s, const char *conninfo, bool readonly)
{
    char err[512];
    s->backend = PSTORE_BACKEND_PG;
    s->readonly = readonly;
    int rc = pstore_pg_open(conninfo, readonly, &s->pg, err, sizeof err);
    if (rc != SQLITE_OK) {
        perk_store_status st = pstore_status_from_code(rc);
        if (st == PERK_STORE_OK || st == PERK_STORE_INTERNAL) st = PERK_STORE_IO;
        /* the address is not repeated: it may hold a password */
        return pstore_fail(s, st, "cannot open the PostgreSQL store: %s", err);
    }
    if (!readonly) {
        rc = pstore_pg_migrate(s->pg, err, sizeof err);
        if (rc == SQLITE_OK) return PERK_STORE_OK;
        perk_store_status st = strstr(err, "newer than this program") ? PERK_STORE_SCHEMA_TOO_NEW
                                                                       : pstore_status_from_code(rc);
        if (st == PERK_STORE_OK) st = PERK_STORE_INTERNAL;
        return pstore_fail(s, st, "%s", *err ? err : pstore_pg_errmsg(s->pg));
    }
    /* Read-only: the schema must be there and current, as no migration can run. */
    pstore_st *q = pstore_stmt(s, "SELECT COALESCE(MAX(version), 0) FROM perk_schema");
    if (!q) return pstore_stmt_status(s);
    int64_t v = 0;
    rc = pstore_step(q);
    if (rc == PSTORE_ROW) v = pstore_col_int64(q, 0);
    pstore_done(q);
    if (rc != PSTORE_ROW) {
        if (rc == SQLITE_ERROR && strstr(pstore_pg_errmsg(s->pg), "42P01"))
            return pstore_fail(s, PERK_STORE_CORRUPT,
                               "the PostgreSQL database has no Perk store (no perk_schema table): open it "
                               "read-write once (perk db migrate, or any writing command) to create it");
        return pstore_sqlfail(s, rc, "reading the schema version");
    }
    int64_t latest = pstore_pg_schema_version();
    if (v > latest)
        return pstore_fail(s, PERK_STORE_SCHEMA_TOO_NEW,
                           "database schema version %lld is newer than this program's (%lld); use a newer perk",
                           (long long)v, (long long)latest);
    if (v < latest)
        return pstore_fail(s, PERK_STORE_READONLY,
                           "database schema version %lld is older than this program's (%lld) and the store "
                           "was opened read-only: open it read-write once (perk db migrate) to upgrade it",
                           (long long)v, (long long)latest);
    return PERK_STORE_OK;
}

perk_store_status pstore_db_open(perk_store *s, const char *path, bool readonly)
{
    if (perk_store_address_is_postgres(path)) return open_pg(s, path, readonly);
    /* Say what is wrong with a path that cannot be a store before SQLite tries it (a directory
     * gave "disk I/O error", /dev/null gained a /dev/null-journal, an empty file "read-only"). */
    struct stat sb;
    if (stat(path, &sb) == 0) {
        if (S_ISDIR(sb.st_mode))
            return pstore_fail(s, PERK_STORE_IO,
                               "%s is a directory, not a database file: give the store's file "
                               "(for example %s/perk.db)",
                               path, path);
        if (!S_ISREG(sb.st_mode))
            return pstore_fail(s, PERK_STORE_IO,
                               "%s is not a regular file (a device, pipe or socket): a Perk store "
                               "is a regular file; check --db or $PERK_DB",
                               path);
        if (sb.st_size == 0 && readonly)
            return pstore_fail(s, PERK_STORE_CORRUPT,
                               "%s is an empty file, not a Perk store: nothing was ever written "
                               "to it (perk publish creates a store)",
                               path);
    }

    int flags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    int rc = sqlite3_open_v2(path, &s->db, flags | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        perk_store_status st = pstore_status_from_code(rc);
        if (st == PERK_STORE_OK || st == PERK_STORE_INTERNAL) st = PERK_STORE_IO;
        const char *why = s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc);
        pstore_fail(s, st, "cannot open database %s: %s", path, why);
        return st;
    }
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_handler(s->db, busy_handler, s);
    s->readonly = sqlite3_db_readonly(s->db, "main") == 1;

    /* Reading the header first turns "not a database" into a clear error. */
    pstore_st *st = pstore_stmt(s, "PRAGMA application_id");
    int64_t app_id = 0;
    perk_store_status status =
        st ? pstore_query_int(s, st, 0, &app_id, "reading the header") : pstore_stmt_status(s);
    if (status != PERK_STORE_OK && s->readonly &&
        (status == PERK_STORE_READONLY || status == PERK_STORE_IO)) {
        /* A store in a directory this process may not write (a read-only mount, a copy made
         * read-only): WAL mode cannot create its -shm file, so SQLite cannot even read. Reads
         * keep working on the main file as it is (immutable: nothing can write it either; a
         * WAL left beside it is not read, so checkpoint before making a store read-only). */
        status = reopen_immutable(s, path);
        if (status == PERK_STORE_OK) {
            st = pstore_stmt(s, "PRAGMA application_id");
            status = st ? pstore_query_int(s, st, 0, &app_id, "reading the header") : pstore_stmt_status(s);
        }
    }
    if (status != PERK_STORE_OK) {
        pstore_add_context(s, " of %s", path);
        return status;
    }
    if (app_id != 0 && app_id != 0x5045524B)
        return pstore_fail(s, PERK_STORE_CORRUPT,
                           "%s is a SQLite database of another application (application_id %lld), "
                           "not a Perk store",
                           path, (long long)app_id);

    if (!s->readonly) {
        st = pstore_stmt(s, "PRAGMA journal_mode=WAL");
        if (!st) return pstore_stmt_status(s);
        /* When several processes open a brand-new file at once, the switch to WAL can meet a
         * lock that SQLite reports as busy without waiting (its deadlock avoidance), so retry
         * here for up to the busy timeout. */
        int64_t waited_us = 0;
        while ((rc = sqlite3_step(st->stmt)) == SQLITE_BUSY || rc == SQLITE_LOCKED) {
            sqlite3_reset(st->stmt);
            if (waited_us >= (int64_t)s->busy_timeout_ms * 1000) break;
            struct timespec ts = { .tv_sec = 0, .tv_nsec = 1000000L };
            nanosleep(&ts, NULL);
            waited_us += 1000;
        }
        if (rc != SQLITE_ROW) {
            status = pstore_sqlfail(s, rc, "switching to WAL journaling");
            pstore_done(st);
            pstore_add_context(s, " on %s", path);
            return status;
        }
        pstore_done(st);
    }
    status = pstore_exec(s, "PRAGMA foreign_keys=ON; PRAGMA synchronous=FULL", "setting connection options");
    if (status != PERK_STORE_OK) return status;
    status = pstore_migrate(s);
    if (status != PERK_STORE_OK) pstore_add_context(s, " (database %s)", path);
    return status;
}

void pstore_db_close(perk_store *s)
{
    finalize_all(s);
    free(s->stmts);
    if (s->db) sqlite3_close_v2(s->db);
    s->db = NULL;
    pstore_pg_close(s->pg);
    s->pg = NULL;
}
