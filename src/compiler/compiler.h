/* compiler.h - the whole compile pipeline in one call: rule files -> verified bytecode bytes.
 *
 *   source_add_file -> parse_program (tokens, AST) -> check_program (checked AST)
 *   -> codegen_program (prog_data) -> bytecode_write (bytes) -> perk_program_load (verified)
 *
 * Used by the CLI (check, compile, eval, test, publish) and by the fuzz targets.
 *
 * This is the one header other subsystems include from src/compiler/. Besides the pipeline in
 * one call it offers the front end the operators' tools build on: source sets (source.h),
 * diagnostics (diag.h), the parser and its AST (parse.h, ast.h) and the formatter (fmt.h). The
 * checker, analysis and code generator stay private to this folder.
 */
#ifndef PERK_COMPILER_H
#define PERK_COMPILER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ast.h"
#include "diag.h"
#include "fmt.h"
#include "parse.h"
#include "perk.h"
#include "source.h"

/* Default limit on promotions + earn rules + multipliers in one ruleset (perk_limits.max_rules
 * has the same default, so a context accepts whatever the compiler accepts by default). */
#define COMPILER_MAX_RULES 20000

/* The limits of a compilation are set after compiler_init (0 = the default):
 *   sources.max_bytes  size of one rule file (SOURCE_MAX_BYTES, 8 MiB)
 *   sources.max_depth  expression nesting (PARSE_MAX_DEPTH, 256; can only be lowered)
 *   max_rules          promotions + earn rules + multipliers (COMPILER_MAX_RULES)
 * Each is reported as an error diagnostic when exceeded. */
typedef struct compiler {
    source_set sources;
    diag_engine diags;
    int max_rules;
} compiler;

void compiler_init(compiler *c);
void compiler_free(compiler *c);

/* Compiles the files as one ruleset: the first holds the `ruleset` header, the others add
 * declarations as if included. With bytes == NULL only checks (parse + check + codegen).
 * Returns true when no error was reported; *bytes is malloc'ed (free with free()). */
bool compiler_compile_files(compiler *c, const char *const *paths, int n, uint8_t **bytes, size_t *len);
/* The same for text in memory (tests, fuzzing). */
bool compiler_compile_text(compiler *c, const char *name, const char *text, size_t text_len, uint8_t **bytes,
                           size_t *len);

/* Prints the diagnostics collected so far to stderr, sorted by position, then the
 * "N errors, M warnings generated." summary. */
void compiler_report(compiler *c, bool color);

/* Convenience: compile a .perk file or load a .pbc file into a verified program. On failure
 * prints diagnostics / the load error to stderr and returns NULL. */
perk_program *compiler_load_program(const char *path, bool color);

#endif
