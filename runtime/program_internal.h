/* program_internal.h - what a loaded perk_program is inside libperk (opaque in perk.h).
 *
 * Built by perk_program_load (runtime/program.c): the parsed and verified prog_data plus lookup
 * tables computed once at load time so that building a cart never scans the string pool.
 */
#ifndef PERK_PROGRAM_INTERNAL_H
#define PERK_PROGRAM_INTERNAL_H

#include <stdatomic.h>

#include "perk.h"
#include "program.h"

struct perk_program {
    prog_data d;
    atomic_int refs;
    /* open-addressing hash of the string pool: slot -> string id + 1 (0 = empty) */
    uint32_t *str_hash;
    uint32_t str_hash_mask;
};

/* The id of a string in the program's pool, or PROG_NONE when no rule mentions it. O(1). */
uint32_t prog_find_string(const perk_program *p, const char *text, size_t len);

#endif
