/* core.c - opening and closing the store, error messages, the store's vocabulary over the driver
 * layer (exec, query_int, replay_row, transactions, retryable write transactions) and the clock.
 * Everything else in the store builds on these; the SQLite specifics are in db_sqlite.c. */
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
    /* errmsg is "<detail> while <step>"; keep the step as a hint. The detail may hold " while "
     * itself (libpq: "before or while processing the request"): the step follows the detail. */
    size_t dl = strlen(s->sql_detail);
    const char *step = strncmp(s->errmsg, s->sql_detail, dl) == 0 && strncmp(s->errmsg + dl, " while ", 7) == 0
                           ? s->errmsg + dl
                           : strstr(s->errmsg, " while ");
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

perk_store_status pstore_sqlfail(perk_store *s, int rc, const char *what)
{
    perk_store_status st = pstore_status_from_code(rc);
    if (st == PERK_STORE_OK) st = PERK_STORE_INTERNAL;
    const char *detail = pstore_db_errmsg(s, rc);
    /* sticky within a transaction (reset at each begin): a later failure of the same aborted
     * transaction must not hide that it may run again */
    if (pstore_db_retryable(s)) s->retryable = true;
    if (st == PERK_STORE_BUSY && s->backend != PSTORE_BACKEND_SQLITE)
        snprintf(s->sql_detail, sizeof s->sql_detail, "%s", detail);
    else if (st == PERK_STORE_BUSY)
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

perk_store_status pstore_stmt_status(const perk_store *s)
{
    return s->stmt_status != PERK_STORE_OK ? s->stmt_status : PERK_STORE_INTERNAL;
}

perk_store_status pstore_exec(perk_store *s, const char *sql, const char *what)
{
    int rc = pstore_db_exec(s, sql);
    if (rc != 0) return pstore_sqlfail(s, rc, what);
    return PERK_STORE_OK;
}

perk_store_status pstore_query_int(perk_store *s, pstore_st *st, int64_t dflt, int64_t *out,
                                   const char *what)
{
    int rc = pstore_step(st);
    if (rc == PSTORE_ROW) {
        *out = pstore_col_is_null(st, 0) ? dflt : pstore_col_int64(st, 0);
        pstore_done(st);
        return PERK_STORE_OK;
    }
    if (rc == PSTORE_DONE) {
        *out = dflt;
        pstore_done(st);
        return PERK_STORE_OK;
    }
    perk_store_status status = pstore_sqlfail(s, rc, what);
    pstore_done(st);
    return status;
}

perk_store_status pstore_replay_row(perk_store *s, pstore_st *st, const char *fingerprint,
                                    const char *what, const char *conflict, bool *found)
{
    *found = false;
    int rc = pstore_step(st);
    if (rc == PSTORE_DONE) {
        pstore_done(st);
        return PERK_STORE_OK;
    }
    if (rc != PSTORE_ROW) {
        perk_store_status status = pstore_sqlfail(s, rc, what);
        pstore_done(st);
        return status;
    }
    const char *fp = pstore_col_text(st, 0);
    if (!fp || strcmp(fp, fingerprint) != 0) {
        pstore_done(st);
        return pstore_fail(s, PERK_STORE_CONFLICT, "%s", conflict);
    }
    *found = true;
    return PERK_STORE_OK;
}

perk_store_status pstore_step_done(perk_store *s, pstore_st *st, const char *what)
{
    int rc = pstore_step(st);
    perk_store_status status = PERK_STORE_OK;
    if (rc != PSTORE_DONE && rc != PSTORE_ROW) status = pstore_sqlfail(s, rc, what);
    pstore_done(st);
    return status;
}

/* ------------------------------------------------------------- transactions */

perk_store_status pstore_begin(perk_store *s, bool write, const char *what)
{
    if (write && s->readonly)
        return pstore_fail(s, PERK_STORE_READONLY, "the database was opened read-only; cannot write while %s",
                           what);
    s->retryable = false;
    return pstore_db_begin(s, write, what);
}

perk_store_status pstore_commit(perk_store *s, const char *what)
{
    perk_store_status status = pstore_db_commit(s, what);
    if (status != PERK_STORE_OK) pstore_rollback(s);
    return status;
}

void pstore_rollback(perk_store *s) { pstore_db_rollback(s); }

/* Sleeps a random 0.1 .. 0.1 * 2^min(attempt, 5) ms before running a write transaction again. */
static void retry_backoff(perk_store *s, int attempt)
{
    if (!s->retry_rng)
        s->retry_rng = ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)s ^ 0xd1b54a32d192ed03u;
    s->retry_rng ^= s->retry_rng << 13;
    s->retry_rng ^= s->retry_rng >> 7;
    s->retry_rng ^= s->retry_rng << 17;
    int shift = attempt < 5 ? attempt : 5;
    int64_t cap_us = (int64_t)100 << shift;
    int64_t us = 100 + (int64_t)(s->retry_rng % (uint64_t)cap_us);
    struct timespec ts = { .tv_sec = 0, .tv_nsec = (long)us * 1000 };
    nanosleep(&ts, NULL);
}

static perk_store_status write_txn(perk_store *s, const char *what, const char *commit_what,
                                   perk_store_status (*body)(perk_store *, void *), void *ctx, bool idempotent)
{
    bool pending = false; /* a lost COMMIT that no later run of the body has looked behind */
    for (int attempt = 0;; attempt++) {
        perk_store_status status = pstore_begin(s, true, what);
        bool unknown = false;
        if (status == PERK_STORE_OK) {
            pending = false;
            status = body(s, ctx);
            if (status == PERK_STORE_OK) {
                status = pstore_commit(s, commit_what);
                unknown = status != PERK_STORE_OK && pstore_db_commit_unknown(s);
                pending = unknown;
            } else {
                pstore_rollback(s);
            }
        }
        s->commit_unknown = status != PERK_STORE_OK && pending;
        if (status == PERK_STORE_OK) return status;
        /* a lost COMMIT: only a body that finds its own earlier writes may run again (the next
         * BEGIN connects again); any other reports the unknown outcome as it is */
        bool again = s->retryable || (unknown && idempotent);
        if (!again || attempt + 1 >= PSTORE_WRITE_RETRIES) return status;
        s->retries++;
        retry_backoff(s, attempt);
    }
}

perk_store_status pstore_write_txn(perk_store *s, const char *what, const char *commit_what,
                                   perk_store_status (*body)(perk_store *, void *), void *ctx)
{
    return write_txn(s, what, commit_what, body, ctx, false);
}

perk_store_status pstore_write_txn_idempotent(perk_store *s, const char *what, const char *commit_what,
                                              perk_store_status (*body)(perk_store *, void *), void *ctx)
{
    return write_txn(s, what, commit_what, body, ctx, true);
}

int64_t perk_store_retries(const perk_store *s) { return s ? s->retries : 0; }

perk_store_status perk_store_set_busy_timeout(perk_store *s, int ms)
{
    if (!s) return PERK_STORE_INVALID;
    if (ms < 0) return pstore_fail(s, PERK_STORE_INVALID, "busy timeout must be >= 0 ms, got %d", ms);
    s->busy_timeout_ms = ms;
    return PERK_STORE_OK;
}

bool perk_store_is_readonly(const perk_store *s) { return s && s->readonly; }

/* ------------------------------------------------------------- open / close */

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
    return pstore_db_open(s, path, readonly);
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
    pstore_db_close(s);
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
