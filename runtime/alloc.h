/* alloc.h - every allocation libperk makes goes through here, so that an embedding service can
 * install its own allocator (perk_set_allocator in perk.h) and tests can count allocations. */
#ifndef PERK_ALLOC_H
#define PERK_ALLOC_H

#include <stddef.h>

/* Like malloc/calloc/realloc/free; calloc and realloc check n*size for overflow. */
void *perk_mem_alloc(size_t size);
void *perk_mem_calloc(size_t n, size_t size);
void *perk_mem_realloc(void *ptr, size_t old_size, size_t new_size);
void perk_mem_free(void *ptr);

#endif
