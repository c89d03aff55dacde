/* db_pg.c - the PostgreSQL driver of the store on libpq (db_pg.h): connections, a statement
 * cache keyed by the SQL text's address, SQLite placeholders translated to $k, lazy server-side
 * preparation typed by the first bindings, a row cursor over each result, SQLSTATEs mapped to
 * SQLite result codes, one reconnection attempt at BEGIN after a lost connection, and a COMMIT
 * whose connection was lost reported as of unknown outcome. */
#include "db_pg.h"

#include <libpq-fe.h>
#include <sqlite3.h>

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* PostgreSQL type OIDs (pg_type.h is server-side; these values are fixed in the catalog). */
enum { PG_OID_UNSPECIFIED = 0, PG_OID_BYTEA = 17, PG_OID_INT8 = 20, PG_OID_TEXT = 25 };

#define PG_STMT_BUCKETS 256u
#define PG_MAX_PARAMS 65535

struct pstore_pg_stmt {
    pstore_pg *db;
    const char *key;    /* the caller's SQL text: its address is the cache key */
    char *sql;          /* translated to $k placeholders */
    char name[24];      /* the server-side name; "" = not prepared on this connection */
    int nparams;
    Oid *types;         /* this step's bindings */
    Oid *prepared_types; /* the types the server statement was prepared with */
    const char **values;
    int *lengths;
    int *formats;
    char (*ints)[24];   /* text of bound int64 values */
    PGresult *res;
    bool executed;
    bool owned; /* from pstore_pg_prepare_uncached: in db->owned, freed by pstore_pg_finalize */
    int row, nrows;
    /* decoded bytea per column of the current result: grown, never shrunk */
    unsigned char **blob_buf;
    size_t *blob_cap;
    int blob_cols;
    pstore_pg_stmt *next; /* bucket chain */
};

struct pstore_pg {
    PGconn *conn;
    bool readonly;
    pstore_pg_stmt *buckets[PG_STMT_BUCKETS];
    pstore_pg_stmt *owned; /* uncached statements not finalized yet */
    unsigned next_name;
    int64_t changes;
    char errmsg[512];
    char sqlstate[6];
    bool retryable;
    char listen[64];     /* the channel this session LISTENs on ("" = none), again after a reconnection */
    bool notice_pending; /* a notification arrived, or a new session may have missed some */
    bool txn_open;       /* between a successful BEGIN and the COMMIT or ROLLBACK (a broken
                            connection's transaction status no longer says) */
    bool commit_unknown; /* the last COMMIT lost its connection: it may or may not have committed */
    bool writer_locked;  /* this session holds the store's writers' lock (pstore_pg_begin) */
};

static void pg_set_error(pstore_pg *db, const char *sqlstate, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void pg_set_error(pstore_pg *db, const char *sqlstate, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(db->errmsg, sizeof db->errmsg, fmt, ap);
    va_end(ap);
    snprintf(db->sqlstate, sizeof db->sqlstate, "%s", sqlstate ? sqlstate : "");
    db->retryable = sqlstate && (!strcmp(sqlstate, "40001") || !strcmp(sqlstate, "40P01"));
}

/* libpq's messages end in a newline and may span lines: keep one line. */
static void pg_one_line(char *s)
{
    for (char *p = s; *p; p++)
        if (*p == '\n' || *p == '\r') *p = ' ';
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == ' ') s[--n] = '\0';
}

int pstore_pg_code_of_sqlstate(const char *sqlstate)
{
    if (!sqlstate || strlen(sqlstate) != 5) return SQLITE_ERROR;
    static const struct {
        const char *state;
        int code;
    } exact[] = {
        { "40001", SQLITE_BUSY },     { "40P01", SQLITE_BUSY },     { "55P03", SQLITE_BUSY },
        { "57014", SQLITE_BUSY },     { "53100", SQLITE_FULL },     { "53200", SQLITE_NOMEM },
        { "25006", SQLITE_READONLY }, { "42501", SQLITE_PERM },     { "XX001", SQLITE_CORRUPT },
        { "XX002", SQLITE_CORRUPT },
    };
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
        if (!strcmp(sqlstate, exact[i].state)) return exact[i].code;
    if (!strncmp(sqlstate, "23", 2)) return SQLITE_CONSTRAINT;
    if (!strncmp(sqlstate, "08", 2)) return SQLITE_IOERR;
    return SQLITE_ERROR;
}

/* Records the failure of a result (NULL = libpq could not even return one) and returns its code.
 * A broken connection is SQLITE_IOERR whatever the SQLSTATE. */
static int pg_fail(pstore_pg *db, const PGresult *res)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (!primary) primary = PQerrorMessage(db->conn);
    if (!primary || !*primary) primary = "unknown PostgreSQL error";
    if (state)
        pg_set_error(db, state, "%s (SQLSTATE %s)", primary, state);
    else
        pg_set_error(db, NULL, "%s", primary);
    pg_one_line(db->errmsg);
    if (PQstatus(db->conn) == CONNECTION_BAD) {
        db->retryable = false;
        return SQLITE_IOERR;
    }
    return pstore_pg_code_of_sqlstate(state);
}

static int pg_session_setup(pstore_pg *db)
{
    /* Results are parsed as UTF-8 text; the store's times are integers, not timestamps. A writer
     * waits for the writers' lock (pstore_pg_begin) at most 30 s: a session stuck while holding it
     * (a node paused mid-transaction) makes the others fail as busy (55P03) instead of hanging. */
    const char *setup = db->readonly ? "SET client_encoding = 'UTF8'; SET client_min_messages = warning; SET lock_timeout = '30s'; SET default_transaction_read_only = on"
                                     : "SET client_encoding = 'UTF8'; SET client_min_messages = warning; SET lock_timeout = '30s'";
    int rc = pstore_pg_exec(db, setup);
    if (rc == SQLITE_OK && db->listen[0]) {
        /* a new session: LISTEN again; what was sent while no session listened is lost, so the
         * caller is told that something may have changed */
        char sql[96];
        snprintf(sql, sizeof sql, "LISTEN %s", db->listen);
        rc = pstore_pg_exec(db, sql);
        db->notice_pending = true;
    }
    return rc;
}

int pstore_pg_open(const char *conninfo, bool readonly, pstore_pg **out, char *err, size_t errlen)
{
    *out = NULL;
    pstore_pg *db = calloc(1, sizeof *db);
    if (!db) {
        snprintf(err, errlen, "out of memory opening a PostgreSQL connection");
        return SQLITE_NOMEM;
    }
    db->readonly = readonly;
    db->conn = PQconnectdb(conninfo ? conninfo : "");
    if (!db->conn || PQstatus(db->conn) != CONNECTION_OK) {
        snprintf(err, errlen, "cannot connect to PostgreSQL: %s",
                 db->conn ? PQerrorMessage(db->conn) : "out of memory");
        pg_one_line(err);
        PQfinish(db->conn);
        free(db);
        return SQLITE_CANTOPEN;
    }
    int rc = pg_session_setup(db);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "setting up the PostgreSQL session: %s", db->errmsg);
        pstore_pg_close(db);
        return rc;
    }
    *out = db;
    return SQLITE_OK;
}

static void pg_stmt_free(pstore_pg_stmt *st)
{
    PQclear(st->res);
    for (int c = 0; c < st->blob_cols; c++) free(st->blob_buf[c]);
    free(st->blob_buf);
    free(st->blob_cap);
    free(st->sql);
    free(st->types);
    free(st->prepared_types);
    free(st->values);
    free(st->lengths);
    free(st->formats);
    free(st->ints);
    free(st);
}

void pstore_pg_close(pstore_pg *db)
{
    if (!db) return;
    for (unsigned b = 0; b < PG_STMT_BUCKETS; b++) {
        pstore_pg_stmt *st = db->buckets[b];
        while (st) {
            pstore_pg_stmt *next = st->next;
            pg_stmt_free(st);
            st = next;
        }
    }
    while (db->owned) {
        pstore_pg_stmt *next = db->owned->next;
        pg_stmt_free(db->owned);
        db->owned = next;
    }
    PQfinish(db->conn);
    free(db);
}

char *pstore_pg_translate(const char *sql, int *nparams)
{
    size_t len = strlen(sql), qs = 0;
    for (size_t i = 0; i < len; i++) qs += sql[i] == '?';
    /* "?" becomes at most "$65535" */
    char *out = malloc(len + qs * 6 + 1);
    if (!out) return NULL;
    size_t o = 0;
    int max = 0;
    const char *p = sql;
    while (*p) {
        if (*p == '\'' || *p == '"') {
            /* a literal or a quoted identifier; a doubled quote inside stays inside */
            char q = *p;
            out[o++] = *p++;
            while (*p) {
                if (*p == q && p[1] == q) {
                    out[o++] = *p++;
                    out[o++] = *p++;
                } else if (*p == q) {
                    out[o++] = *p++;
                    break;
                } else {
                    out[o++] = *p++;
                }
            }
        } else if (p[0] == '-' && p[1] == '-') {
            while (*p && *p != '\n') out[o++] = *p++;
        } else if (p[0] == '/' && p[1] == '*') {
            out[o++] = *p++;
            out[o++] = *p++;
            while (*p && !(p[0] == '*' && p[1] == '/')) out[o++] = *p++;
            if (*p) {
                out[o++] = *p++;
                out[o++] = *p++;
            }
        } else if (*p == '?') {
            p++;
            long k;
            if (*p >= '0' && *p <= '9') {
                k = 0;
                while (*p >= '0' && *p <= '9' && k <= PG_MAX_PARAMS) k = k * 10 + (*p++ - '0');
                if (k < 1 || k > PG_MAX_PARAMS) {
                    free(out);
                    return NULL;
                }
            } else {
                k = max + 1;
                if (k > PG_MAX_PARAMS) {
                    free(out);
                    return NULL;
                }
            }
            if (k > max) max = (int)k;
            o += (size_t)sprintf(out + o, "$%ld", k);
        } else {
            out[o++] = *p++;
        }
    }
    out[o] = '\0';
    *nparams = max;
    return out;
}

static unsigned pg_bucket(const char *key)
{
    uintptr_t h = (uintptr_t)key;
    h ^= h >> 17;
    h *= 0x9E3779B1u;
    return (unsigned)(h >> 7) % PG_STMT_BUCKETS;
}

/* A new statement for `sql` (translated), in no list yet. */
static pstore_pg_stmt *pg_stmt_new(pstore_pg *db, const char *sql)
{
    pstore_pg_stmt *st = calloc(1, sizeof *st);
    if (!st) {
        pg_set_error(db, NULL, "out of memory preparing a statement");
        return NULL;
    }
    st->db = db;
    st->key = sql;
    st->sql = pstore_pg_translate(sql, &st->nparams);
    if (!st->sql) {
        pg_set_error(db, NULL, "bad placeholder (?N must be 1..%d) or no memory in: %.200s", PG_MAX_PARAMS, sql);
        free(st);
        return NULL;
    }
    size_t n = st->nparams ? (size_t)st->nparams : 1;
    st->types = calloc(n, sizeof *st->types);
    st->prepared_types = calloc(n, sizeof *st->prepared_types);
    st->values = calloc(n, sizeof *st->values);
    st->lengths = calloc(n, sizeof *st->lengths);
    st->formats = calloc(n, sizeof *st->formats);
    st->ints = calloc(n, sizeof *st->ints);
    if (!st->types || !st->prepared_types || !st->values || !st->lengths || !st->formats || !st->ints) {
        pg_stmt_free(st);
        pg_set_error(db, NULL, "out of memory preparing a statement");
        return NULL;
    }
    return st;
}

pstore_pg_stmt *pstore_pg_prepare(pstore_pg *db, const char *sql)
{
    unsigned b = pg_bucket(sql);
    for (pstore_pg_stmt *st = db->buckets[b]; st; st = st->next)
        if (st->key == sql) return st;
    pstore_pg_stmt *st = pg_stmt_new(db, sql);
    if (!st) return NULL;
    st->next = db->buckets[b];
    db->buckets[b] = st;
    return st;
}

pstore_pg_stmt *pstore_pg_prepare_uncached(pstore_pg *db, const char *sql)
{
    pstore_pg_stmt *st = pg_stmt_new(db, sql);
    if (!st) return NULL;
    st->key = NULL; /* the text may be freed: never looked up by its address */
    st->owned = true;
    st->next = db->owned;
    db->owned = st;
    return st;
}

void pstore_pg_finalize(pstore_pg_stmt *st)
{
    if (!st || !st->owned) return;
    pstore_pg *db = st->db;
    for (pstore_pg_stmt **p = &db->owned; *p; p = &(*p)->next)
        if (*p == st) {
            *p = st->next;
            break;
        }
    /* not inside a failed transaction, where even DEALLOCATE is refused */
    if (st->name[0] && PQstatus(db->conn) == CONNECTION_OK &&
        PQtransactionStatus(db->conn) != PQTRANS_INERROR) {
        char dealloc[48];
        snprintf(dealloc, sizeof dealloc, "DEALLOCATE %s", st->name);
        PQclear(PQexec(db->conn, dealloc));
    }
    pg_stmt_free(st);
}

static void pg_clear_result(pstore_pg_stmt *st)
{
    PQclear(st->res);
    st->res = NULL;
    st->executed = false;
    st->row = st->nrows = 0;
}

void pstore_pg_reset(pstore_pg_stmt *st)
{
    if (!st) return;
    pg_clear_result(st);
    for (int i = 0; i < st->nparams; i++) {
        st->types[i] = PG_OID_UNSPECIFIED;
        st->values[i] = NULL;
        st->lengths[i] = 0;
        st->formats[i] = 0;
    }
}

static int pg_bind_check(pstore_pg_stmt *st, int i)
{
    if (i < 1 || i > st->nparams) {
        pg_set_error(st->db, NULL, "parameter %d out of range (the statement has %d)", i, st->nparams);
        return SQLITE_RANGE;
    }
    return SQLITE_OK;
}

int pstore_pg_bind_int64(pstore_pg_stmt *st, int i, int64_t v)
{
    int rc = pg_bind_check(st, i);
    if (rc != SQLITE_OK) return rc;
    snprintf(st->ints[i - 1], sizeof st->ints[i - 1], "%" PRId64, v);
    st->types[i - 1] = PG_OID_INT8;
    st->values[i - 1] = st->ints[i - 1];
    st->formats[i - 1] = 0;
    st->lengths[i - 1] = 0;
    return SQLITE_OK;
}

int pstore_pg_bind_text(pstore_pg_stmt *st, int i, const char *text)
{
    int rc = pg_bind_check(st, i);
    if (rc != SQLITE_OK) return rc;
    st->types[i - 1] = text ? PG_OID_TEXT : PG_OID_UNSPECIFIED;
    st->values[i - 1] = text;
    st->formats[i - 1] = 0;
    st->lengths[i - 1] = 0;
    return SQLITE_OK;
}

int pstore_pg_bind_null(pstore_pg_stmt *st, int i) { return pstore_pg_bind_text(st, i, NULL); }

int pstore_pg_bind_blob(pstore_pg_stmt *st, int i, const void *p, size_t n)
{
    int rc = pg_bind_check(st, i);
    if (rc != SQLITE_OK) return rc;
    if (n > INT32_MAX) {
        pg_set_error(st->db, NULL, "blob of %zu bytes is too big for one parameter", n);
        return SQLITE_TOOBIG;
    }
    st->types[i - 1] = PG_OID_BYTEA;
    st->values[i - 1] = p ? (const char *)p : ""; /* an empty blob is not NULL */
    st->formats[i - 1] = 1;
    st->lengths[i - 1] = (int)n;
    return SQLITE_OK;
}

/* Prepares the statement on the server, typed by the current bindings, if it is not prepared yet
 * or was prepared with a type that contradicts them (an unspecified type accepts anything). */
static int pg_ensure_prepared(pstore_pg_stmt *st)
{
    pstore_pg *db = st->db;
    if (st->name[0]) {
        bool fits = true;
        for (int i = 0; i < st->nparams; i++)
            if (st->prepared_types[i] != PG_OID_UNSPECIFIED && st->types[i] != PG_OID_UNSPECIFIED &&
                st->prepared_types[i] != st->types[i])
                fits = false;
        if (fits) return SQLITE_OK;
        /* not inside a failed transaction, where even DEALLOCATE is refused */
        if (PQtransactionStatus(db->conn) != PQTRANS_INERROR) {
            char dealloc[48];
            snprintf(dealloc, sizeof dealloc, "DEALLOCATE %s", st->name);
            PQclear(PQexec(db->conn, dealloc));
        }
        st->name[0] = '\0';
    }
    char name[sizeof st->name];
    snprintf(name, sizeof name, "s%u", ++db->next_name);
    PGresult *res = PQprepare(db->conn, name, st->sql, st->nparams, st->types);
    if (!res || PQresultStatus(res) != PGRES_COMMAND_OK) {
        int rc = pg_fail(db, res);
        PQclear(res);
        return rc;
    }
    PQclear(res);
    memcpy(st->name, name, sizeof name);
    if (st->nparams) memcpy(st->prepared_types, st->types, (size_t)st->nparams * sizeof *st->types);
    return SQLITE_OK;
}

static bool pg_is_write_command(const char *status)
{
    return !strncmp(status, "INSERT", 6) || !strncmp(status, "UPDATE", 6) || !strncmp(status, "DELETE", 6) ||
           !strncmp(status, "MERGE", 5);
}

static void pg_note_changes(pstore_pg *db, PGresult *res)
{
    if (!pg_is_write_command(PQcmdStatus(res))) return;
    const char *n = PQcmdTuples(res);
    db->changes = *n ? strtoll(n, NULL, 10) : 0;
}

static bool pg_reconnect(pstore_pg *db);

int pstore_pg_step(pstore_pg_stmt *st)
{
    if (!st) return SQLITE_MISUSE;
    pstore_pg *db = st->db;
    if (st->executed) {
        if (st->row + 1 < st->nrows) {
            st->row++;
            return PSTORE_PG_ROW;
        }
        st->row = st->nrows;
        return PSTORE_PG_DONE;
    }
    /* A statement outside a transaction on a session found broken earlier (server restarted,
     * backend terminated) connects again first: nothing is lost, and a handle that only reads
     * outside transactions (readiness, the active version) recovers by itself. */
    if (PQstatus(db->conn) == CONNECTION_BAD && !db->txn_open && !pg_reconnect(db)) return pg_fail(db, NULL);
    int rc = pg_ensure_prepared(st);
    if (rc != SQLITE_OK) return rc;
    PGresult *res = PQexecPrepared(db->conn, st->name, st->nparams, st->values, st->lengths, st->formats, 0);
    ExecStatusType status = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
        rc = pg_fail(db, res);
        PQclear(res);
        /* a statement that no longer exists on the server (a session reset): prepare again */
        if (db->sqlstate[0] && !strcmp(db->sqlstate, "26000")) st->name[0] = '\0';
        return rc;
    }
    pg_note_changes(db, res);
    st->res = res;
    st->executed = true;
    st->nrows = status == PGRES_TUPLES_OK ? PQntuples(res) : 0;
    st->row = 0;
    return st->nrows > 0 ? PSTORE_PG_ROW : PSTORE_PG_DONE;
}

static bool pg_has_cell(pstore_pg_stmt *st, int col)
{
    return st->res && st->row < st->nrows && col >= 0 && col < PQnfields(st->res);
}

int pstore_pg_col_count(pstore_pg_stmt *st) { return st->res ? PQnfields(st->res) : 0; }

bool pstore_pg_col_is_null(pstore_pg_stmt *st, int col)
{
    return !pg_has_cell(st, col) || PQgetisnull(st->res, st->row, col);
}

const char *pstore_pg_col_text(pstore_pg_stmt *st, int col)
{
    if (pstore_pg_col_is_null(st, col)) return NULL;
    return PQgetvalue(st->res, st->row, col);
}

int64_t pstore_pg_col_int64(pstore_pg_stmt *st, int col)
{
    const char *t = pstore_pg_col_text(st, col);
    if (!t) return 0;
    if (!strcmp(t, "t")) return 1;
    if (!strcmp(t, "f")) return 0;
    errno = 0;
    long long v = strtoll(t, NULL, 10); /* numeric "123" or "123.00": the integer part */
    return errno == ERANGE ? 0 : (int64_t)v;
}

static int pg_hex(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

const void *pstore_pg_col_blob(pstore_pg_stmt *st, int col, size_t *n)
{
    *n = 0;
    const char *t = pstore_pg_col_text(st, col);
    if (!t) return NULL;
    size_t len = strlen(t);
    if (len < 2 || t[0] != '\\' || t[1] != 'x') {
        /* not a bytea (text column read as a blob): its bytes as they are */
        *n = len;
        return t;
    }
    int ncols = PQnfields(st->res);
    if (st->blob_cols < ncols) {
        unsigned char **bufs = realloc(st->blob_buf, (size_t)ncols * sizeof *bufs);
        if (!bufs) return NULL;
        st->blob_buf = bufs;
        size_t *caps = realloc(st->blob_cap, (size_t)ncols * sizeof *caps);
        if (!caps) return NULL;
        st->blob_cap = caps;
        for (int c = st->blob_cols; c < ncols; c++) {
            st->blob_buf[c] = NULL;
            st->blob_cap[c] = 0;
        }
        st->blob_cols = ncols;
    }
    size_t bytes = (len - 2) / 2;
    if (st->blob_cap[col] < bytes + 1) {
        unsigned char *b = realloc(st->blob_buf[col], bytes + 1);
        if (!b) return NULL;
        st->blob_buf[col] = b;
        st->blob_cap[col] = bytes + 1;
    }
    unsigned char *out = st->blob_buf[col];
    for (size_t i = 0; i < bytes; i++) {
        int hi = pg_hex(t[2 + 2 * i]), lo = pg_hex(t[3 + 2 * i]);
        if (hi < 0 || lo < 0) return NULL;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    out[bytes] = 0;
    *n = bytes;
    return out;
}

int64_t pstore_pg_changes(pstore_pg *db) { return db->changes; }

int pstore_pg_exec(pstore_pg *db, const char *sql)
{
    PGresult *res = PQexec(db->conn, sql);
    ExecStatusType status = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        int rc = pg_fail(db, res);
        PQclear(res);
        return rc;
    }
    pg_note_changes(db, res);
    PQclear(res);
    return SQLITE_OK;
}

/* After a new session: nothing is prepared on it, no result is pending. */
static void pg_forget_prepared(pstore_pg *db)
{
    for (unsigned b = 0; b < PG_STMT_BUCKETS; b++)
        for (pstore_pg_stmt *st = db->buckets[b]; st; st = st->next) {
            pg_clear_result(st);
            st->name[0] = '\0';
        }
    for (pstore_pg_stmt *st = db->owned; st; st = st->next) {
        pg_clear_result(st);
        st->name[0] = '\0';
    }
}

static bool pg_reconnect(pstore_pg *db)
{
    PQreset(db->conn);
    if (PQstatus(db->conn) != CONNECTION_OK) return false;
    pg_forget_prepared(db);
    return pg_session_setup(db) == SQLITE_OK;
}

/* The store's writers' lock: a session-level advisory lock on the outbox's key (the two-key form
 * 'PERK' + the schema, as pstore_db_outbox_lock takes it per transaction), taken BEFORE a write
 * transaction's BEGIN and released after its COMMIT or ROLLBACK. Why: every write transaction
 * writes outbox events, whose ids must follow commit order, so writers are serialised from their
 * first event to their commit anyway; under SERIALIZABLE a writer that waited for that lock inside
 * its transaction carried a snapshot from before the other's commit and failed with 40001, and
 * with 8 contending processes some exhausted every retry. Waiting before BEGIN, each writer's
 * snapshot is taken after the previous writer committed: writers no longer fail each other, and
 * the lock queue is first come, first served, so none starves. Readers take no lock. If the
 * session dies the server releases the lock. */
#define PG_WRITERS_LOCK_KEY "1346720331, hashtext(current_schema())"

static void pg_writer_unlock(pstore_pg *db)
{
    if (!db->writer_locked) return;
    db->writer_locked = false;
    if (PQstatus(db->conn) != CONNECTION_OK) return; /* the server released it with the session */
    PQclear(PQexec(db->conn, "SELECT pg_advisory_unlock(" PG_WRITERS_LOCK_KEY ")"));
}

int pstore_pg_begin(pstore_pg *db, bool write)
{
    if (write && db->readonly) {
        pg_set_error(db, "25006", "the store was opened read-only (SQLSTATE 25006)");
        return SQLITE_READONLY;
    }
    if (PQstatus(db->conn) == CONNECTION_OK && PQtransactionStatus(db->conn) != PQTRANS_IDLE) {
        /* PostgreSQL would only warn; SQLite refuses, and so does the store's driver */
        pg_set_error(db, "25001", "cannot start a transaction within a transaction (SQLSTATE 25001)");
        return SQLITE_ERROR;
    }
    const char *sql =
        write ? "BEGIN ISOLATION LEVEL SERIALIZABLE" : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
    bool reconnected = false;
    if (PQstatus(db->conn) == CONNECTION_BAD) {
        if (!pg_reconnect(db)) return pg_fail(db, NULL);
        reconnected = true;
    }
    const char *first = write ? "SELECT pg_advisory_lock(" PG_WRITERS_LOCK_KEY ")" : sql;
    int rc = pstore_pg_exec(db, first);
    /* The server may have closed the session since the last use (restart, terminated backend):
     * the first statement finds out. Outside a transaction nothing is lost by connecting again,
     * once. */
    if (rc != SQLITE_OK && !reconnected && PQstatus(db->conn) == CONNECTION_BAD) {
        if (!pg_reconnect(db)) return pg_fail(db, NULL);
        rc = pstore_pg_exec(db, first);
    }
    if (write && rc == SQLITE_OK) {
        db->writer_locked = true;
        rc = pstore_pg_exec(db, sql);
        if (rc != SQLITE_OK) {
            char keep[sizeof db->errmsg];
            memcpy(keep, db->errmsg, sizeof keep);
            pg_writer_unlock(db);
            memcpy(db->errmsg, keep, sizeof keep);
        }
    }
    db->txn_open = rc == SQLITE_OK;
    return rc;
}

int pstore_pg_commit(pstore_pg *db)
{
    db->txn_open = false;
    db->commit_unknown = false;
    PGresult *res = PQexec(db->conn, "COMMIT");
    ExecStatusType status = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    int rc = SQLITE_OK;
    if (status != PGRES_COMMAND_OK) {
        rc = pg_fail(db, res);
        if (PQstatus(db->conn) == CONNECTION_BAD) {
            /* The COMMIT was sent and no answer came back: the server may have committed before
             * the session ended, or not. Only a look at what the transaction wrote can tell
             * (pstore_write_txn_idempotent); reporting a failure as such would be untrue. */
            char cause[sizeof db->errmsg];
            memcpy(cause, db->errmsg, sizeof cause);
            pg_set_error(db, NULL,
                         "the connection to PostgreSQL was lost during COMMIT, so the transaction may or "
                         "may not have committed (%.300s)",
                         cause);
            db->commit_unknown = true;
        }
    } else if (strcmp(PQcmdStatus(res), "COMMIT") != 0) {
        /* COMMIT of a failed transaction succeeds as a ROLLBACK: nothing was committed */
        pg_set_error(db, "25P02", "the transaction had failed and was rolled back, not committed (SQLSTATE 25P02)");
        rc = SQLITE_ERROR;
    }
    PQclear(res);
    pg_writer_unlock(db);
    return rc;
}

bool pstore_pg_in_transaction(const pstore_pg *db)
{
    PGTransactionStatusType t = PQtransactionStatus(db->conn);
    return t == PQTRANS_INTRANS || t == PQTRANS_INERROR || t == PQTRANS_ACTIVE;
}

void pstore_pg_rollback(pstore_pg *db)
{
    db->txn_open = false;
    if (pstore_pg_in_transaction(db)) PQclear(PQexec(db->conn, "ROLLBACK"));
    pg_writer_unlock(db);
}

const char *pstore_pg_errmsg(const pstore_pg *db) { return db ? db->errmsg : "no PostgreSQL connection"; }

bool pstore_pg_retryable(const pstore_pg *db) { return db && db->retryable; }

bool pstore_pg_commit_unknown(const pstore_pg *db) { return db && db->commit_unknown; }

/* ------------------------------------------------------------- notifications */

int pstore_pg_listen(pstore_pg *db, const char *channel)
{
    if (strcmp(db->listen, channel) == 0) return SQLITE_OK;
    size_t n = strlen(channel);
    if (n == 0 || n >= sizeof db->listen || strspn(channel, "abcdefghijklmnopqrstuvwxyz_") != n) {
        pg_set_error(db, "42602", "invalid channel name \"%s\" (SQLSTATE 42602)", channel);
        return SQLITE_MISUSE;
    }
    char sql[96];
    snprintf(sql, sizeof sql, "LISTEN %s", channel);
    int rc = pstore_pg_exec(db, sql);
    if (rc != SQLITE_OK) return rc;
    memcpy(db->listen, channel, n + 1);
    db->notice_pending = true; /* whatever happened before the LISTEN was not seen */
    return SQLITE_OK;
}

int pstore_pg_notified(pstore_pg *db, bool *any)
{
    *any = false;
    if (!db->listen[0]) {
        *any = true;
        return SQLITE_OK;
    }
    if (PQstatus(db->conn) == CONNECTION_BAD && !pstore_pg_in_transaction(db)) {
        /* outside a transaction nothing is lost by connecting again; the new session listens
         * again and reports a possible change */
        if (!pg_reconnect(db)) return pg_fail(db, NULL);
    }
    if (!PQconsumeInput(db->conn)) {
        if (PQstatus(db->conn) == CONNECTION_BAD && pg_reconnect(db)) {
            *any = true;
            db->notice_pending = false;
            return SQLITE_OK;
        }
        return pg_fail(db, NULL);
    }
    PGnotify *n;
    while ((n = PQnotifies(db->conn)) != NULL) {
        if (strcmp(n->relname, db->listen) == 0) db->notice_pending = true;
        PQfreemem(n);
    }
    *any = db->notice_pending;
    db->notice_pending = false;
    return SQLITE_OK;
}
