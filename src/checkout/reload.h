/* reload.h - hot reload of the active rule-set version for checkout processes.
 *
 * A checkout process creates ONE reloader for its store file and shares it between its threads.
 * Something (a timer thread, or every request) calls reload_poll(); when the store says another
 * version is active, the reloader loads that version's bytecode (perk_program_load: parsed and
 * verified) and only then swaps its current program pointer, atomically. A version that fails to
 * load (corrupt bytes, failed verification) is reported and the old program stays current: a
 * thread never sees a half-loaded program.
 *
 * Threads never lock to evaluate. Each thread keeps its own context for the program it acquired
 * and evaluates whole carts against it; before the next cart it asks whether a newer program is
 * current and, if so, moves to it (a new context for the new program, the old one released).
 * A program is freed when the reloader and the last context using it have let go of it
 * (perk_program_retain/free are atomic reference counts). reload_worker wraps that pattern:
 *
 *     reload *r = reload_open("perk.db", err, sizeof err);    // once per process
 *     ...
 *     // in each checkout thread:
 *     reload_worker w = RELOAD_WORKER_INIT;
 *     for (each cart) {
 *         perk_error e;
 *         perk_context *ctx = reload_worker_context(r, &w, NULL, &e);   // cheap when unchanged
 *         if (!ctx) { ... no rule set loaded yet ... }
 *         ... feed the cart into ctx, perk_evaluate(ctx), commit with w.program and w.version ...
 *     }
 *     reload_worker_free(&w);
 *
 *     // in one place, e.g. a timer thread every 500 ms or before each request:
 *     if (reload_poll(r, time(NULL)) == RELOAD_FAILED) log(reload_error(r, buf, sizeof buf));
 *
 * Without the helper: reload_generation() tells cheaply whether anything changed since the
 * thread last looked; reload_acquire() returns the current program retained (release it with
 * perk_program_free).
 */
#ifndef PERK_RELOAD_H
#define PERK_RELOAD_H

#include <stddef.h>
#include <stdint.h>

#include "perk.h"

typedef struct reload reload;

/* What one reload_poll() did. */
typedef enum reload_event {
    RELOAD_UNCHANGED = 0, /* the current program is still the active version (or nothing is
                             active yet and nothing is loaded) */
    RELOAD_SWAPPED,       /* another version was loaded and is now current */
    RELOAD_FAILED         /* the store could not be read or the active version does not load:
                             the previous program (if any) stays current; see reload_error() */
} reload_event;

/* Opens the store at `path` read-only (the reloader never writes; the file must exist and have
 * the current schema) for the reloader's own use. Nothing is loaded until the first
 * reload_poll(). Returns NULL with a message in err (err may be NULL) on failure. */
reload *reload_open(const char *path, char *err, size_t errlen);

/* Closes the store and drops the reloader's reference to its program. Every thread must have
 * stopped using the reloader (programs acquired earlier stay valid until released). NULL is
 * fine. */
void reload_close(reload *r);

/* Checks which version is active at `now` (epoch seconds; a scheduled activation takes effect on
 * the first poll with `now` at or after its time) and, when it differs from the current one,
 * loads and swaps it. Cheap when nothing changed (no table is read). Safe from any thread:
 * concurrent polls wait for each other. A version that failed to load is not retried until
 * another version has been active in between (its bytes never change); store errors such as
 * PERK_STORE_BUSY are retried on the next poll. When no version is active at `now` (a clock
 * before the first activation), a program already loaded stays current. */
reload_event reload_poll(reload *r, int64_t now);

/* Copies the message of the last RELOAD_FAILED poll ("version 4 does not load: ...") into buf
 * and returns buf; "" when the last poll did not fail. */
const char *reload_error(reload *r, char *buf, size_t size);

/* The current program, retained for the caller (release with perk_program_free), or NULL when
 * nothing has been loaded yet. *version (may be NULL) gets its store version id (0 when NULL is
 * returned). Lock-free; never blocks on a poll in progress. */
perk_program *reload_acquire(reload *r, int64_t *version);

/* Increases by one at every swap (starts at 0): a thread compares it with the value it saw
 * last to know, with one atomic load, that it should acquire again. */
uint64_t reload_generation(reload *r);

/* The version id of the current program (0 when none is loaded). */
int64_t reload_version(reload *r);

/* Per-thread state of the pattern above: the program a thread evaluates with and its context.
 * Owned by one thread; never shared. */
typedef struct reload_worker {
    perk_program *program; /* retained; the program ctx evaluates */
    perk_context *ctx;
    int64_t version;     /* store version of program (for the order record) */
    uint64_t generation; /* reload_generation() when program was acquired */
} reload_worker;

#define RELOAD_WORKER_INIT \
    {                      \
        NULL, NULL, 0, 0   \
    }

/* The context to evaluate the next cart with: the worker's own when the reloader's program has
 * not changed since, else a new context for the current program (the old context and program
 * are released). Returns NULL with err filled (err may be NULL) when nothing has been loaded
 * yet. If a context for the new program cannot be created (out of memory, limits), the worker
 * keeps its previous context and program, returns that context, fills err, and tries again on
 * the next call; check err->status == PERK_OK to tell. `limits` may be NULL (defaults). */
perk_context *reload_worker_context(reload *r, reload_worker *w, const perk_limits *limits, perk_error *err);

/* Releases the worker's context and program; the worker may be used again afterwards. */
void reload_worker_free(reload_worker *w);

#endif /* PERK_RELOAD_H */
