/* core.c - opening and closing the store, error messages, the statement cache,
 * transactions and the busy handler. Everything else in the store builds on these. */
#include "store_internal.h"

#include "perk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------------ status text */

static const char *const status_messages[] = {
#define PERK_STORE_STATUS_MSG(name, msg) msg,
    PERK_STORE_STATUS_LIST(PERK_STORE_STATUS_MSG)
#undef PERK_STORE_STATUS_MSG
};

static const char *const status_names[] = {
#define PERK_STORE_STATUS_NAME(name, msg) #name,
    PERK_STORE_STATUS_LIST(PERK_STORE_STATUS_NAME)
#undef PERK_STORE_STATUS_NAME
};

const char *perk_store_status_message(perk_store_status status)
{
    if ((unsigned)status >= PERK_STORE_STATUS_COUNT) return "unknown status";
    return status_messages[status];
}

const char *perk_store_status_name(perk_store_status status)
{
    if ((unsigned)status >= PERK_STORE_STATUS_COUNT) return "PERK_STORE_UNKNOWN";
    return status_names[status];
}

const char *perk_store_errmsg(const perk_store *s)
{
    if (!s) return "no store handle (out of memory while opening)";
    return s->errmsg;
}

perk_store_status pstore_fail(perk_store *s, perk_store_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->errmsg, sizeof s->errmsg, fmt, ap);
    va_end(ap);
    s->sql_failed = false;
    return status;
}

void pstore_rewrite_sql_error(perk_store *s, const char *action, const char *consequence)
{
    if (!s->sql_failed) return;
    /* errmsg is "<detail> while <step>"; keep the step as a hint. */
    const char *step = strstr(s->errmsg, " while ");
    char hint[256];
    snprintf(hint, sizeof hint, "%s", step ? step + 7 : "");
    char detail[sizeof s->sql_detail];
    snprintf(detail, sizeof detail, "%s", s->sql_detail);
    snprintf(s->errmsg, sizeof s->errmsg, "%s while %s; %s%s%s%s", detail, action, consequence,
             *hint ? " (step: " : "", hint, *hint ? ")" : "");
}

void pstore_add_context(perk_store *s, const char *fmt, ...)
{
    size_t len = strlen(s->errmsg);
    if (len + 1 >= sizeof s->errmsg) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->errmsg + len, sizeof s->errmsg - len, fmt, ap);
    va_end(ap);
}

static perk_store_status status_from_sqlite(int rc)
{
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

perk_store_status pstore_sqlfail(perk_store *s, int rc, const char *what)
{
    perk_store_status st = status_from_sqlite(rc);
    if (st == PERK_STORE_OK) st = PERK_STORE_INTERNAL;
    /* sqlite3_errmsg() describes the most recent failure on the connection, which is this one. */
    const char *detail = s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc);
    if (st == PERK_STORE_BUSY)
        snprintf(s->sql_detail, sizeof s->sql_detail,
                 "%s (another process held the lock; busy timeout %d ms)", detail, s->busy_timeout_ms);
    else
        snprintf(s->sql_detail, sizeof s->sql_detail, "%s", detail);
    pstore_fail(s, st, "%s while %s", s->sql_detail, what);
    s->sql_failed = true;
    return st;
}

perk_store_status pstore_check_name(perk_store *s, const char *what, const char *value, size_t max)
{
    if (!value || !*value) return pstore_fail(s, PERK_STORE_INVALID, "%s is missing", what);
    if (strlen(value) > max)
        return pstore_fail(s, PERK_STORE_INVALID, "%s is longer than %zu bytes", what, max);
    return PERK_STORE_OK;
}

/* --------------------------------------------------------------- statements */

sqlite3_stmt *pstore_stmt(perk_store *s, const char *sql)
{
    for (size_t i = 0; i < s->n_stmts; i++) {
        if (s->stmts[i].sql == sql) {
            sqlite3_stmt *st = s->stmts[i].stmt;
            sqlite3_reset(st);
            sqlite3_clear_bindings(st);
            return st;
        }
    }
    if (s->n_stmts == s->cap_stmts) {
        size_t cap = s->cap_stmts ? s->cap_stmts * 2 : 32;
        pstore_cached_stmt *grown = realloc(s->stmts, cap * sizeof *grown);
        if (!grown) {
            s->stmt_status = pstore_fail(s, PERK_STORE_NOMEM, "out of memory while preparing a statement");
            return NULL;
        }
        s->stmts = grown;
        s->cap_stmts = cap;
    }
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
    if (rc != SQLITE_OK) {
        /* e.g. "file is not a database", "database disk image is malformed", out of memory */
        s->stmt_status = pstore_sqlfail(s, rc, "preparing a statement");
        sqlite3_finalize(st);
        return NULL;
    }
    s->stmts[s->n_stmts].sql = sql;
    s->stmts[s->n_stmts].stmt = st;
    s->n_stmts++;
    return st;
}

perk_store_status pstore_stmt_status(const perk_store *s)
{
    return s->stmt_status != PERK_STORE_OK ? s->stmt_status : PERK_STORE_INTERNAL;
}

void pstore_done(sqlite3_stmt *st)
{
    if (st) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
}

int pstore_bind_text(sqlite3_stmt *st, int i, const char *text)
{
    if (!text) return sqlite3_bind_null(st, i);
    return sqlite3_bind_text(st, i, text, -1, SQLITE_STATIC);
}

perk_store_status pstore_exec(perk_store *s, const char *sql, const char *what)
{
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK) return pstore_sqlfail(s, rc, what);
    return PERK_STORE_OK;
}

perk_store_status pstore_query_int(perk_store *s, sqlite3_stmt *st, int64_t dflt, int64_t *out,
                                   const char *what)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_type(st, 0) == SQLITE_NULL ? dflt : sqlite3_column_int64(st, 0);
        pstore_done(st);
        return PERK_STORE_OK;
    }
    if (rc == SQLITE_DONE) {
        *out = dflt;
        pstore_done(st);
        return PERK_STORE_OK;
    }
    perk_store_status status = pstore_sqlfail(s, rc, what);
    pstore_done(st);
    return status;
}

perk_store_status pstore_replay_row(perk_store *s, sqlite3_stmt *st, const char *fingerprint,
                                    const char *what, const char *conflict, bool *found)
{
    *found = false;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        pstore_done(st);
        return PERK_STORE_OK;
    }
    if (rc != SQLITE_ROW) {
        perk_store_status status = pstore_sqlfail(s, rc, what);
        pstore_done(st);
        return status;
    }
    const char *fp = (const char *)sqlite3_column_text(st, 0);
    if (!fp || strcmp(fp, fingerprint) != 0) {
        pstore_done(st);
        return pstore_fail(s, PERK_STORE_CONFLICT, "%s", conflict);
    }
    *found = true;
    return PERK_STORE_OK;
}

perk_store_status pstore_step_done(perk_store *s, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    perk_store_status status = PERK_STORE_OK;
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) status = pstore_sqlfail(s, rc, what);
    pstore_done(st);
    return status;
}

/* ------------------------------------------------------------- transactions */

perk_store_status pstore_begin(perk_store *s, bool write, const char *what)
{
    if (write && s->readonly)
        return pstore_fail(s, PERK_STORE_READONLY, "the database was opened read-only; cannot write while %s",
                           what);
    sqlite3_stmt *st = write ? pstore_stmt(s, "BEGIN IMMEDIATE") : pstore_stmt(s, "BEGIN");
    if (!st) return pstore_stmt_status(s);
    int rc = sqlite3_step(st);
    pstore_done(st);
    if (rc != SQLITE_DONE) return pstore_sqlfail(s, rc, what);
    return PERK_STORE_OK;
}

perk_store_status pstore_commit(perk_store *s, const char *what)
{
    sqlite3_stmt *st = pstore_stmt(s, "COMMIT");
    if (!st) {
        pstore_rollback(s);
        return pstore_stmt_status(s);
    }
    int rc = sqlite3_step(st);
    pstore_done(st);
    if (rc != SQLITE_DONE) {
        perk_store_status status = pstore_sqlfail(s, rc, what);
        pstore_rollback(s);
        return status;
    }
    return PERK_STORE_OK;
}

void pstore_rollback(perk_store *s)
{
    if (!s->db || sqlite3_get_autocommit(s->db))
        return; /* SQLite already rolled back (e.g. after SQLITE_FULL) or nothing was open */
    /* Reset every cached statement first so none keeps the transaction pinned. */
    for (size_t i = 0; i < s->n_stmts; i++) sqlite3_reset(s->stmts[i].stmt);
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

/* ------------------------------------------------------------- busy handling */

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

perk_store_status perk_store_set_busy_timeout(perk_store *s, int ms)
{
    if (!s) return PERK_STORE_INVALID;
    if (ms < 0) return pstore_fail(s, PERK_STORE_INVALID, "busy timeout must be >= 0 ms, got %d", ms);
    s->busy_timeout_ms = ms;
    return PERK_STORE_OK;
}

perk_store_status perk_store_set_durable(perk_store *s, bool durable)
{
    if (!s) return PERK_STORE_INVALID;
    return pstore_exec(s, durable ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL",
                       "setting durability");
}

bool perk_store_is_readonly(const perk_store *s) { return s && s->readonly; }

/* ------------------------------------------------------------- open / close */

/* Reopens the handle's database read-only and immutable through a URI (the path
 * percent-encoded), with the cached statements dropped. */
static perk_store_status reopen_immutable(perk_store *s, const char *path)
{
    for (size_t i = 0; i < s->n_stmts; i++) sqlite3_finalize(s->stmts[i].stmt);
    s->n_stmts = 0;
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

static perk_store_status open_common(const char *path, bool readonly, perk_store **out)
{
    if (!out) return PERK_STORE_INVALID;
    *out = NULL;
    perk_store *s = calloc(1, sizeof *s);
    if (!s) return PERK_STORE_NOMEM;
    *out = s;
    s->busy_timeout_ms = 5000;
    s->max_skew = PERK_STORE_MAX_SKEW_DEFAULT;
    s->max_delay = PERK_STORE_MAX_DELAY_DEFAULT;
    if (!path || !*path) return pstore_fail(s, PERK_STORE_INVALID, "no database path given");

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
        perk_store_status st = status_from_sqlite(rc);
        if (st == PERK_STORE_OK || st == PERK_STORE_INTERNAL) st = PERK_STORE_IO;
        const char *why = s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc);
        pstore_fail(s, st, "cannot open database %s: %s", path, why);
        return st;
    }
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_handler(s->db, busy_handler, s);
    s->readonly = sqlite3_db_readonly(s->db, "main") == 1;

    /* Reading the header first turns "not a database" into a clear error. */
    sqlite3_stmt *st = pstore_stmt(s, "PRAGMA application_id");
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
        while ((rc = sqlite3_step(st)) == SQLITE_BUSY || rc == SQLITE_LOCKED) {
            sqlite3_reset(st);
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

perk_store_status perk_store_open(const char *path, perk_store **out)
{
    return open_common(path, false, out);
}

perk_store_status perk_store_open_readonly(const char *path, perk_store **out)
{
    return open_common(path, true, out);
}

void perk_store_close(perk_store *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->n_stmts; i++) sqlite3_finalize(s->stmts[i].stmt);
    free(s->stmts);
    if (s->db) sqlite3_close_v2(s->db);
    perk_program_free(s->version_prog);
    free(s);
}

void pstore_trust_caller_for_tests(perk_store *s)
{
    if (s) s->trusts_caller = true;
}

/* ------------------------------------------------------------------- clock */

perk_store_status perk_store_set_clock(perk_store *s, perk_store_clock_fn clock, void *ctx)
{
    if (!s) return PERK_STORE_INVALID;
    s->clock = clock;
    s->clock_ctx = ctx;
    return PERK_STORE_OK;
}

int64_t perk_store_now(perk_store *s)
{
    if (s && s->clock) return s->clock(s->clock_ctx);
    return (int64_t)time(NULL);
}

perk_store_status perk_store_set_max_skew(perk_store *s, int64_t seconds)
{
    if (!s) return PERK_STORE_INVALID;
    if (seconds < 0 || seconds > 86400)
        return pstore_fail(s, PERK_STORE_INVALID, "max skew %lld s is outside 0..86400", (long long)seconds);
    s->max_skew = seconds;
    return PERK_STORE_OK;
}

perk_store_status perk_store_set_max_delay(perk_store *s, int64_t seconds)
{
    if (!s) return PERK_STORE_INVALID;
    if (seconds < 0 || seconds > 366 * 86400)
        return pstore_fail(s, PERK_STORE_INVALID, "max delay %lld s is outside 0..%d", (long long)seconds,
                           366 * 86400);
    s->max_delay = seconds;
    return PERK_STORE_OK;
}

int64_t pstore_now(perk_store *s, int64_t claimed) { return s->trusts_caller ? claimed : perk_store_now(s); }

perk_store_status pstore_check_time(perk_store *s, int64_t claimed, const char *what, int64_t *now)
{
    *now = pstore_now(s, claimed);
    int64_t diff = claimed > *now ? claimed - *now : *now - claimed;
    if (claimed < *now - s->max_skew || claimed > *now + s->max_skew)
        return pstore_fail(s, PERK_STORE_INVALID,
                           "%s is dated %lld, %lld s %s the store's clock (%lld); a time may differ "
                           "from it by at most %lld s: check the clock of the machine that sent it "
                           "(or commit an order that was delayed as delayed: perk commit --delayed, "
                           "recorded with the order)",
                           what, (long long)claimed, (long long)diff, claimed > *now ? "ahead of" : "behind",
                           (long long)*now, (long long)s->max_skew);
    return PERK_STORE_OK;
}
