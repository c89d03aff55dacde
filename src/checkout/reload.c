/* reload.c - hot reload of the active rule-set version (see reload.h).
 *
 * The current program lives in an immutable slot {program, version} behind one atomic pointer.
 * A poll builds a complete new slot (bytecode loaded and verified) before it exchanges the
 * pointer, so readers see either the old slot or the new one, never anything in between.
 *
 * Freeing the old slot safely: a reader loads the pointer and then retains the program; if the
 * poller dropped the last reference between those two steps the reader would retain freed
 * memory. Readers therefore announce themselves in `acquiring` around the two steps, and the
 * poller, after the exchange, waits until it sees `acquiring` at zero before it releases the old
 * slot. With sequentially consistent atomics a reader that incremented the counter after the
 * poller saw zero loads the new pointer, and one that incremented before has already retained
 * the old program. The window is a few instructions, so the wait is short.
 */
#include "reload.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

typedef struct reload_slot {
    perk_program *program; /* one reference held by the slot */
    int64_t version;
} reload_slot;

struct reload {
    pthread_mutex_t lock; /* serialises polls: store, failed_id and error below */
    perk_store *store;
    int64_t failed_id; /* active version that did not load; not retried while active */
    char error[512];

    _Atomic(reload_slot *) current;
    atomic_int acquiring; /* readers between loading `current` and retaining its program */
    atomic_uint_fast64_t generation;
};

reload *reload_open(const char *path, char *err, size_t errlen)
{
    if (err && errlen) err[0] = '\0';
    if (!path || !*path) {
        if (err && errlen) snprintf(err, errlen, "reload: no store path given");
        return NULL;
    }
    reload *r = calloc(1, sizeof *r);
    if (!r) {
        if (err && errlen) snprintf(err, errlen, "reload: out of memory");
        return NULL;
    }
    perk_store_status st = perk_store_open_readonly(path, &r->store);
    if (st != PERK_STORE_OK) {
        if (err && errlen)
            snprintf(err, errlen, "reload: cannot open the store %s: %s", path,
                     r->store ? perk_store_errmsg(r->store) : perk_store_status_message(st));
        perk_store_close(r->store);
        free(r);
        return NULL;
    }
    if (pthread_mutex_init(&r->lock, NULL) != 0) {
        if (err && errlen) snprintf(err, errlen, "reload: cannot create a mutex");
        perk_store_close(r->store);
        free(r);
        return NULL;
    }
    atomic_init(&r->current, NULL);
    atomic_init(&r->acquiring, 0);
    atomic_init(&r->generation, 0);
    return r;
}

static void slot_free(reload_slot *slot)
{
    if (!slot) return;
    perk_program_free(slot->program);
    free(slot);
}

void reload_close(reload *r)
{
    if (!r) return;
    slot_free(atomic_load(&r->current));
    perk_store_close(r->store);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

/* Publishes `slot` as current and frees the previous one once no reader can still reach it. */
static void swap_in(reload *r, reload_slot *slot)
{
    reload_slot *old = atomic_exchange(&r->current, slot);
    atomic_fetch_add(&r->generation, 1);
    while (atomic_load(&r->acquiring) != 0) sched_yield();
    slot_free(old);
}

/* The version of the current slot, read under the readers' guard. */
static int64_t current_version(reload *r)
{
    atomic_fetch_add(&r->acquiring, 1);
    reload_slot *s = atomic_load(&r->current);
    int64_t v = s ? s->version : 0;
    atomic_fetch_sub(&r->acquiring, 1);
    return v;
}

/* "keeping version 3" / "nothing is loaded yet", for error messages. */
static const char *keeping(reload *r, char buf[64])
{
    int64_t v = current_version(r);
    if (v)
        snprintf(buf, 64, "keeping version %lld", (long long)v);
    else
        snprintf(buf, 64, "no version is loaded yet");
    return buf;
}

/* Loads version `id` into a new slot; NULL with r->error set on failure. *sticky tells whether
 * retrying could help (a store hiccup) or not (the stored bytes themselves are bad). */
static reload_slot *load_version(reload *r, int64_t id, bool *sticky)
{
    *sticky = false;
    perk_store_version v;
    memset(&v, 0, sizeof v);
    perk_store_status st = perk_store_get_version(r->store, id, &v);
    if (st != PERK_STORE_OK) {
        char k[64];
        snprintf(r->error, sizeof r->error, "version %lld cannot be read (%s): %s", (long long)id,
                 keeping(r, k), perk_store_errmsg(r->store));
        *sticky = st == PERK_STORE_CORRUPT || st == PERK_STORE_NOT_FOUND;
        perk_store_free_version(&v);
        return NULL;
    }
    perk_error e;
    perk_program *p = perk_program_load(v.bytecode, v.bytecode_len, &e);
    perk_store_free_version(&v);
    if (!p) {
        char k[64];
        snprintf(r->error, sizeof r->error, "version %lld does not load (%s): %s", (long long)id,
                 keeping(r, k), e.message);
        *sticky = e.status != PERK_NOMEM;
        return NULL;
    }
    reload_slot *slot = malloc(sizeof *slot);
    if (!slot) {
        perk_program_free(p);
        snprintf(r->error, sizeof r->error, "version %lld: out of memory", (long long)id);
        return NULL;
    }
    slot->program = p;
    slot->version = id;
    return slot;
}

reload_event reload_poll(reload *r, int64_t now)
{
    if (!r) return RELOAD_FAILED;
    pthread_mutex_lock(&r->lock);
    reload_event ev = RELOAD_UNCHANGED;
    int64_t have = current_version(r), active = 0;
    perk_store_status st = perk_store_active_changed(r->store, now, have, &active);
    if (st != PERK_STORE_OK) {
        char k[64];
        snprintf(r->error, sizeof r->error, "cannot check which version is active (%s): %s", keeping(r, k),
                 perk_store_errmsg(r->store));
        ev = RELOAD_FAILED;
    } else if (active == 0 || active == have) {
        /* nothing active (keep what runs) or no change; a failed version is forgotten once
         * another one is active */
        if (active == have) r->failed_id = 0;
        r->error[0] = '\0';
    } else if (active == r->failed_id) {
        ev = RELOAD_FAILED; /* same bad version: keep reporting it, do not load it again */
    } else {
        bool sticky = false;
        reload_slot *slot = load_version(r, active, &sticky);
        if (slot) {
            swap_in(r, slot);
            r->failed_id = 0;
            r->error[0] = '\0';
            ev = RELOAD_SWAPPED;
        } else {
            r->failed_id = sticky ? active : 0;
            ev = RELOAD_FAILED;
        }
    }
    pthread_mutex_unlock(&r->lock);
    return ev;
}

const char *reload_error(reload *r, char *buf, size_t size)
{
    if (!buf || size == 0) return "";
    buf[0] = '\0';
    if (!r) return buf;
    pthread_mutex_lock(&r->lock);
    snprintf(buf, size, "%s", r->error);
    pthread_mutex_unlock(&r->lock);
    return buf;
}

perk_program *reload_acquire(reload *r, int64_t *version)
{
    if (version) *version = 0;
    if (!r) return NULL;
    atomic_fetch_add(&r->acquiring, 1);
    reload_slot *s = atomic_load(&r->current);
    perk_program *p = s ? perk_program_retain(s->program) : NULL;
    if (s && version) *version = s->version;
    atomic_fetch_sub(&r->acquiring, 1);
    return p;
}

uint64_t reload_generation(reload *r) { return r ? atomic_load(&r->generation) : 0; }

int64_t reload_version(reload *r) { return r ? current_version(r) : 0; }

perk_context *reload_worker_context(reload *r, reload_worker *w, const perk_limits *limits, perk_error *err)
{
    if (err) {
        err->status = PERK_OK;
        err->message[0] = '\0';
    }
    /* read the generation before acquiring: a swap in between only makes the next call look
     * again, never keeps a stale program */
    uint64_t gen = reload_generation(r);
    if (w->ctx && gen == w->generation) return w->ctx;
    int64_t version = 0;
    perk_program *p = reload_acquire(r, &version);
    if (!p) {
        if (!w->ctx && err) {
            err->status = PERK_STATE;
            snprintf(err->message, sizeof err->message,
                     "no rule-set version is loaded yet (publish one, then reload_poll)");
        }
        return w->ctx;
    }
    if (p == w->program) {
        perk_program_free(p);
        w->generation = gen;
        return w->ctx;
    }
    perk_context *ctx = perk_context_new(p, limits, err);
    if (!ctx) {
        perk_program_free(p); /* keep the old context; the next call tries again */
        return w->ctx;
    }
    perk_context_free(w->ctx);
    perk_program_free(w->program);
    w->program = p;
    w->ctx = ctx;
    w->version = version;
    w->generation = gen;
    return ctx;
}

void reload_worker_free(reload_worker *w)
{
    if (!w) return;
    perk_context_free(w->ctx);
    perk_program_free(w->program);
    *w = (reload_worker)RELOAD_WORKER_INIT;
}
