/* codegen.h - lowering a checked AST to a program (runtime/program.h).
 *
 * Pipeline position: checked AST (src/compiler/check.h) -> prog_data -> bytes (runtime/bytecode_write.c).
 * Every condition becomes code ending in REQUIRE; every item set becomes set opcodes over the
 * cart's columns; constants are folded by the checker and land in the pools here. Promotions are
 * emitted in evaluation order (priority ascending, then declaration).
 */
#ifndef PERK_CODEGEN_H
#define PERK_CODEGEN_H

#include <stdbool.h>

#include "check.h"
#include "diag.h"
#include "program.h"
#include "source.h"

/* Lowers `file` (checked without errors) into *out. Problems that only show up here (an item
 * condition the set opcodes cannot express, a time zone that cannot be loaded) are reported
 * through diags; returns false then, with *out freed. */
bool codegen_program(const ast_node *file, const check_info *info, const source_set *sources,
                     diag_engine *diags, prog_data *out);

#endif
