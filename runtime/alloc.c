/* alloc.c - the allocation hooks of libperk (alloc.h, perk_set_allocator in perk.h).
 *
 * Minimal version written with the bytecode loader: forwards to malloc/free unless an allocator
 * was installed with perk_set_allocator(). The VM helper owns the final version of this file. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "perk.h"

static perk_allocator mem_hook; /* alloc == NULL: use malloc/free */

void perk_set_allocator(const perk_allocator *allocator) {
    if (allocator && allocator->alloc && allocator->release)
        mem_hook = *allocator;
    else
        memset(&mem_hook, 0, sizeof mem_hook);
}

void *perk_mem_alloc(size_t size) {
    if (size == 0) size = 1; /* a unique non-NULL pointer, like most mallocs */
    return mem_hook.alloc ? mem_hook.alloc(size, mem_hook.user) : malloc(size);
}

void *perk_mem_calloc(size_t n, size_t size) {
    if (size != 0 && n > SIZE_MAX / size) return NULL;
    void *ptr = perk_mem_alloc(n * size);
    if (ptr && n && size) memset(ptr, 0, n * size);
    return ptr;
}

void *perk_mem_realloc(void *ptr, size_t old_size, size_t new_size) {
    if (!mem_hook.alloc) return realloc(ptr, new_size ? new_size : 1);
    void *fresh = perk_mem_alloc(new_size);
    if (!fresh) return NULL;
    if (ptr) {
        memcpy(fresh, ptr, old_size < new_size ? old_size : new_size);
        perk_mem_free(ptr);
    }
    return fresh;
}

void perk_mem_free(void *ptr) {
    if (!ptr) return;
    if (mem_hook.alloc)
        mem_hook.release(ptr, mem_hook.user);
    else
        free(ptr);
}
