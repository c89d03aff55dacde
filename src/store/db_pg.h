/* db_pg.h - the PostgreSQL driver of the store: a small SQLite-shaped API on libpq (prefix
 * pstore_pg_), so the store's code can run the same statements on either backend through the
 * dispatch of the store. Results are SQLite result codes (<sqlite3.h>): 100 = a row, 101 = done,
 * SQLITE_CONSTRAINT, SQLITE_BUSY (retryable serialization failures and deadlocks), ...
 * The PostgreSQL schema and its migrations (schema_pg.c) are declared here too.
 * docs/postgresql.md describes the design: isolation, type mapping, what stays SQLite-only. */
#ifndef PERK_STORE_DB_PG_H
#define PERK_STORE_DB_PG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PSTORE_PG_ROW 100  /* SQLITE_ROW */
#define PSTORE_PG_DONE 101 /* SQLITE_DONE */

typedef struct pstore_pg pstore_pg;           /* one connection and its statement cache */
typedef struct pstore_pg_stmt pstore_pg_stmt; /* one statement, owned by its connection */

/* Connects (libpq URI "postgres://...", "postgresql://..." or key=value string). readonly: every
 * transaction of the session is read-only (default_transaction_read_only). Returns SQLITE_OK and
 * *out, or an error code with the reason in err (*out NULL). */
int pstore_pg_open(const char *conninfo, bool readonly, pstore_pg **out, char *err, size_t errlen);
void pstore_pg_close(pstore_pg *db);

/* The statement of this SQL text, cached by the text's ADDRESS (call sites pass string literals):
 * SQLite's placeholders ? and ?N become $k. Prepared on the server lazily at the first step, with
 * the parameter types of that step's bindings. NULL on a placeholder error (errmsg says). */
pstore_pg_stmt *pstore_pg_prepare(pstore_pg *db, const char *sql);
/* A statement for SQL text built at run time (not cached: its text may be freed after this
 * call), owned by the caller until pstore_pg_finalize (or the connection's close). */
pstore_pg_stmt *pstore_pg_prepare_uncached(pstore_pg *db, const char *sql);
void pstore_pg_finalize(pstore_pg_stmt *st); /* an uncached statement; NULL is ignored */
int pstore_pg_step(pstore_pg_stmt *st);  /* PSTORE_PG_ROW, PSTORE_PG_DONE or an error code */
void pstore_pg_reset(pstore_pg_stmt *st); /* drops the result, clears the bindings */

/* Bindings, 1-based like SQLite. A text or blob pointer is read at step time: keep it alive. */
int pstore_pg_bind_int64(pstore_pg_stmt *st, int i, int64_t v);
int pstore_pg_bind_text(pstore_pg_stmt *st, int i, const char *text); /* NULL = SQL NULL */
int pstore_pg_bind_null(pstore_pg_stmt *st, int i);
int pstore_pg_bind_blob(pstore_pg_stmt *st, int i, const void *p, size_t n);

/* Columns of the current row, 0-based. int64: NULL -> 0, booleans t/f -> 1/0, numeric "123" ->
 * 123. text: NULL for SQL NULL, valid until the next step or reset. blob: bytea decoded, valid
 * until the next step or reset. */
int pstore_pg_col_count(pstore_pg_stmt *st);
int64_t pstore_pg_col_int64(pstore_pg_stmt *st, int col);
const char *pstore_pg_col_text(pstore_pg_stmt *st, int col);
bool pstore_pg_col_is_null(pstore_pg_stmt *st, int col);
const void *pstore_pg_col_blob(pstore_pg_stmt *st, int col, size_t *n);

int64_t pstore_pg_changes(pstore_pg *db); /* rows of the last INSERT/UPDATE/DELETE */
int pstore_pg_exec(pstore_pg *db, const char *sql); /* no results; may hold several statements */

/* write: BEGIN ISOLATION LEVEL SERIALIZABLE; read: REPEATABLE READ READ ONLY. A connection found
 * broken here (outside a transaction) is re-established once, its statements re-prepared. */
int pstore_pg_begin(pstore_pg *db, bool write);
int pstore_pg_commit(pstore_pg *db);
void pstore_pg_rollback(pstore_pg *db); /* only if a transaction is open */
bool pstore_pg_in_transaction(const pstore_pg *db);

const char *pstore_pg_errmsg(const pstore_pg *db); /* last error: message and SQLSTATE, one line */
bool pstore_pg_retryable(const pstore_pg *db);     /* last error: 40001 or 40P01 */
/* The last COMMIT lost its connection before an answer: it may or may not have committed. */
bool pstore_pg_commit_unknown(const pstore_pg *db);
int pstore_pg_code_of_sqlstate(const char *sqlstate); /* the SQLite code of a SQLSTATE */

/* LISTEN on `channel` (lower-case letters and _), on this session and on every later one after a
 * reconnection. Only one channel per connection. */
int pstore_pg_listen(pstore_pg *db, const char *channel);
/* Without blocking: *any is true when a notification on the channel arrived since the last call,
 * when the session is new (one that did not listen may have missed some), or when nothing listens.
 * A broken connection outside a transaction is re-established here. */
int pstore_pg_notified(pstore_pg *db, bool *any);

/* SQLite placeholders to PostgreSQL's: ? -> $k (k = one more than the largest so far), ?N -> $N,
 * skipping '...' literals, "..." identifiers and comments. Returns a malloc'd string and the
 * number of parameters (the largest index), or NULL (bad ?N, or no memory). */
char *pstore_pg_translate(const char *sql, int *nparams);

/* schema_pg.c: the number of PostgreSQL schema versions, and the migration to the latest under
 * pg_advisory_xact_lock (several nodes may open at once). Returns a SQLite code; err says why. */
int pstore_pg_schema_version(void);
int pstore_pg_migrate(pstore_pg *db, char *err, size_t errlen);
/* The same, up to version `target` (1..pstore_pg_schema_version()) only: for the tests that
 * migrate a store from each earlier version. A schema already past `target` is left as it is. */
int pstore_pg_migrate_to(pstore_pg *db, int target, char *err, size_t errlen);

#endif
