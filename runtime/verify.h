/* verify.h - the static checks a program passes before the VM may run it (runtime/verify.c).
 *
 * After verification the VM can trust, without further checks: every opcode, operand and table
 * index is in range; every block lies inside the code array, ends with END and only jumps
 * forward inside itself; the operand stack never underflows, holds the kinds each instruction
 * expects (scalar 's' or line set 'l') on every path, agrees at every join, is empty at END and
 * never holds more than VERIFY_MAX_STACK entries (scalars and sets together). The full list of
 * rules is in docs/bytecode.md ("Verification").
 */
#ifndef PERK_VERIFY_H
#define PERK_VERIFY_H

#include "perk.h"
#include "program.h"

/* The compiler accepts expressions nested 256 levels deep (PARSE_MAX_DEPTH); evaluating one keeps
 * at most one pending operand per level plus the few a single node pushes, so every program it
 * writes fits. A context's stacks are sized by what the program actually uses, not by this. */
#define VERIFY_MAX_STACK 320u

/* Checks `p`. Returns PERK_OK, PERK_VERIFY (err->message names the rule and the instruction, e.g.
 * "verify: promotion 'member_day' instruction 17 (JUMP): target 40 is outside its block [12, 30)")
 * or PERK_NOMEM. err may be NULL. Does not modify p. */
perk_status verify_program(const prog_data *p, perk_error *err);

/* As verify_program, and on success stores the deepest stack of any block in p->max_scalars and
 * p->max_sets (the VM sizes its stacks from them). For the loader, on what bytecode_read produced:
 * the string pool is not checked again (the reader refuses a string that is not NUL-terminated
 * inside the pool, holds a NUL or is not valid UTF-8, the checks verify_program makes). */
perk_status verify_program_record(prog_data *p, perk_error *err);

#endif
