/* db.h - the store's driver layer: the one small API through which every file of src/store/
 * talks to its database, whatever the backend: SQLite (db_sqlite.c, which also dispatches) or
 * PostgreSQL (db_pg.c), chosen by the store's address at open.
 *
 * A store file asks for a prepared statement by its SQL text (a string literal: statements are
 * cached by the text's address), binds parameters (1-based, `?` or `?N`), steps it, reads
 * columns (0-based) and gives it back with pstore_done(). Result codes: PSTORE_ROW, PSTORE_DONE,
 * or an error code, which is one of SQLite's primary result codes (SQLITE_BUSY, SQLITE_CONSTRAINT,
 * SQLITE_FULL ...; possibly extended) whatever the backend, so pstore_sqlfail() maps every
 * backend's failures onto store statuses the same way. docs/internals.md ("The store's driver
 * layer") gives the rules for SQL that runs on every backend.
 */
#ifndef PERK_STORE_DB_H
#define PERK_STORE_DB_H

#include "store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct pstore_st pstore_st; /* a prepared statement on the store's backend (opaque) */

/* pstore_step() results; anything else is an error code (see above). */
enum { PSTORE_ROW = 100, PSTORE_DONE = 101 };
/* The error code of a violated constraint (SQLite's SQLITE_CONSTRAINT; compare rc & 0xff, as a
 * driver may give an extended code). */
enum { PSTORE_CONSTRAINT = 19 };

/* A reset statement for `sql` (a string literal), cached for the life of the handle, or NULL
 * with the error set (pstore_stmt_status gives the status). */
pstore_st *pstore_stmt(perk_store *s, const char *sql);
/* An uncached statement for SQL text built at run time (tests, tools), or NULL with the error
 * set; free it with pstore_finalize(). */
pstore_st *pstore_prepare(perk_store *s, const char *sql);
void pstore_finalize(pstore_st *st);
int pstore_step(pstore_st *st);
/* Resets a statement and clears its bindings (NULL is ignored). */
void pstore_done(pstore_st *st);

int pstore_bind_int64(pstore_st *st, int i, int64_t v);
/* NULL binds SQL NULL; the text must outlive the step. */
int pstore_bind_text(pstore_st *st, int i, const char *text);
int pstore_bind_null(pstore_st *st, int i);
/* The bytes must outlive the step. */
int pstore_bind_blob(pstore_st *st, int i, const void *p, size_t n);

int64_t pstore_col_int64(pstore_st *st, int col);
/* NULL for SQL NULL; valid until the next step or pstore_done. */
const char *pstore_col_text(pstore_st *st, int col);
bool pstore_col_is_null(pstore_st *st, int col);
/* *n gets the size; valid until the next step or pstore_done. */
const void *pstore_col_blob(pstore_st *st, int col, size_t *n);

/* Rows changed by the last INSERT, UPDATE or DELETE on the handle. */
int64_t pstore_changes(perk_store *s);

/* ---- driver entry points used by the store's vocabulary (core.c) */

/* Opens (creating unless readonly) the store at `path` (a SQLite file, or a PostgreSQL address:
 * perk_store_address_is_postgres) on the handle: connection settings,
 * checks that it is a Perk store, migrates it. The message is set on failure. */
perk_store_status pstore_db_open(perk_store *s, const char *path, bool readonly);
/* Drops the cached statements and closes the connection. */
void pstore_db_close(perk_store *s);
/* Maps an error code (SQLite's result codes, whatever the backend) to a status. */
perk_store_status pstore_status_from_code(int rc);
/* Starts a transaction: a write transaction takes the backend's write lock or isolation level
 * up front (SQLite: BEGIN IMMEDIATE); a read transaction sees one snapshot. A backend whose
 * writers can fail with a serialization failure sets s->retryable on such a failure (SQLite
 * never does). The message is set on failure ("... while <what>"). */
perk_store_status pstore_db_begin(perk_store *s, bool write, const char *what);
perk_store_status pstore_db_commit(perk_store *s, const char *what);
/* Rolls back an open transaction (nothing open: nothing happens). */
void pstore_db_rollback(perk_store *s);
/* Runs SQL without results, possibly several statements (no caching). */
int pstore_db_exec(perk_store *s, const char *sql);
/* Whether the last failure on the handle was a serialization failure or deadlock, after which a
 * write transaction may run again (never on SQLite). */
bool pstore_db_retryable(const perk_store *s);
/* Whether the last commit on the handle failed with its outcome unknown: the connection was lost
 * after COMMIT was sent, so the transaction may have committed (PostgreSQL; never on SQLite, whose
 * commit is in-process). */
bool pstore_db_commit_unknown(const perk_store *s);
/* The backend's text for the last failure on the handle (for `rc` when it has none). */
const char *pstore_db_errmsg(perk_store *s, int rc);


/* ---- the outbox's order (events.c) */

/* In a write transaction, before it inserts an event: makes event ids follow commit order, so a
 * reader that remembers the last id it read never skips an event committed later with a smaller
 * id. PostgreSQL: pg_advisory_xact_lock on a key of the store's schema, held to the commit or
 * rollback, so of two transactions that write events the second takes its ids after the first
 * has ended. SQLite: nothing (BEGIN IMMEDIATE serialises writers already). */
perk_store_status pstore_db_outbox_lock(perk_store *s);

/* ---- version-change notices between nodes (versions.c) */

/* In a write transaction that changes which version is active (publish, rollback): tells every
 * other connection at its commit. PostgreSQL: pg_notify on the channel perk_versions (delivered
 * only if the transaction commits). SQLite: nothing (PRAGMA data_version serves instead). */
perk_store_status pstore_db_notify_versions(perk_store *s);
/* PostgreSQL, without blocking: *maybe is false only when this handle listens on perk_versions
 * (the first call makes it listen) and no notice arrived since the last call and the session is
 * the same. SQLite: always true (the caller uses data_version). */
perk_store_status pstore_db_versions_noticed(perk_store *s, bool *maybe);

#endif /* PERK_STORE_DB_H */
