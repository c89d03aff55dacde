/* alloc.c - the allocator hook behind perk_set_allocator() and the perk_mem_* wrappers.
 *
 * Every block libperk allocates carries a small header recording the release function (and its
 * user pointer) of the allocator that produced it. Freeing goes back to that same allocator, so
 * an embedding service or a test may install a new allocator while memory obtained from the
 * previous one (or from malloc) is still alive, without ever handing a block to the wrong free.
 *
 * The hook itself is a process-wide value: perk_set_allocator() copies the struct and publishes
 * it with an atomic store. Set it before use; it must not race with other libperk calls that
 * allocate (creating programs or contexts).
 */
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "perk.h"

/* Header in front of every block; its size keeps the payload aligned like malloc's. */
typedef union mem_header {
    struct {
        void (*release)(void *ptr, void *user); /* NULL: the block came from malloc */
        void *user;
    } by;
    max_align_t align;
} mem_header;

/* Two slots so that a new allocator can be written while the old one stays readable. */
static perk_allocator alloc_slots[2];
static _Atomic(const perk_allocator *) alloc_current = NULL;
static atomic_int alloc_next_slot = 0;

void perk_set_allocator(const perk_allocator *allocator)
{
    if (allocator == NULL || allocator->alloc == NULL || allocator->release == NULL) {
        atomic_store(&alloc_current, NULL);
        return;
    }
    int slot = atomic_fetch_add(&alloc_next_slot, 1) & 1;
    alloc_slots[slot] = *allocator;
    atomic_store(&alloc_current, &alloc_slots[slot]);
}

void *perk_mem_alloc(size_t size)
{
    if (size > SIZE_MAX - sizeof(mem_header)) return NULL;
    size_t total = sizeof(mem_header) + size;
    const perk_allocator *a = atomic_load(&alloc_current);
    mem_header *h;
    if (a != NULL) {
        h = a->alloc(total, a->user);
        if (h == NULL) return NULL;
        h->by.release = a->release;
        h->by.user = a->user;
    } else {
        h = malloc(total);
        if (h == NULL) return NULL;
        h->by.release = NULL;
        h->by.user = NULL;
    }
    return h + 1;
}

void *perk_mem_calloc(size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size) return NULL;
    void *p = perk_mem_alloc(n * size);
    if (p != NULL) memset(p, 0, n * size);
    return p;
}

void *perk_mem_realloc(void *ptr, size_t old_size, size_t new_size)
{
    if (ptr == NULL) return perk_mem_alloc(new_size);
    void *p = perk_mem_alloc(new_size);
    if (p == NULL) return NULL; /* the old block stays valid, as with realloc */
    memcpy(p, ptr, old_size < new_size ? old_size : new_size);
    perk_mem_free(ptr);
    return p;
}

void perk_mem_free(void *ptr)
{
    if (ptr == NULL) return;
    mem_header *h = (mem_header *)ptr - 1;
    if (h->by.release != NULL)
        h->by.release(h, h->by.user);
    else
        free(h);
}
