/* fuzz_compile.c - fuzz target: any text as a rule file.
 *
 * The text goes through the whole compiler (lexer, parser, checker, analysis, code generator,
 * bytecode writer, and the loader's verifier, which the compiler runs on what it wrote). It must
 * end in diagnostics or in bytecode; the diagnostics are rendered as text and JSON, and none may
 * be an "internal error" (the compiler's own report of a bug, such as code its verifier refuses).
 * A program that compiles must load again from its bytes, re-serialize to the very same bytes,
 * and evaluate the fixed carts of harness.c with every result invariant holding.
 *
 * The text up to the first NUL byte is the rule file; after it come the files its `include`s may
 * read, as NUL-separated path and text pairs: the console's drafts (source_set.memory_only), so an
 * include never reads the disk and the paths the operator names (`..`, `/`, nesting, cycles) are
 * fuzzed too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "bytecode.h"
#include "compiler/compiler.h"
#include "disasm.h"
#include "harness.h"
#include "program_internal.h"

static FILE *null_out(void)
{
    static FILE *f;
    if (f == NULL) f = fopen("/dev/null", "w");
    return f;
}

#define FUZZ_MAX_FILES 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* the rule file, then up to FUZZ_MAX_FILES (path, text) pairs; a copy, NUL-terminated */
    char *text = malloc(size + 1);
    if (text == NULL) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    size_t main_len = strlen(text);
    source_memory_file files[FUZZ_MAX_FILES];
    int n_files = 0;
    for (size_t at = main_len + 1; at < size && n_files < FUZZ_MAX_FILES;) {
        const char *path = text + at;
        at += strlen(path) + 1;
        if (at > size) break;
        const char *body = text + at;
        at += strlen(body) + 1;
        files[n_files++] = (source_memory_file){ path, body, strlen(body) };
    }
    compiler c;
    compiler_init(&c);
    c.sources.memory_only = true;
    c.sources.memory_files = files;
    c.sources.n_memory_files = n_files;
    uint8_t *bytes = NULL;
    size_t len = 0;
    bool ok = compiler_compile_text(&c, "fuzz.perk", text, main_len, &bytes, &len);
    FILE *out = null_out();
    if (out) {
        diag_sort(&c.diags);
        diag_print_text(&c.diags, out, true);
        diag_print_json(&c.diags, out);
    }
    if (ok != (c.diags.errors == 0)) fuzz_fail("compile returned %d with %d errors", ok, c.diags.errors);
    /* the compiler reports its own bugs (e.g. a program its verifier refuses) as internal errors */
    for (int i = 0; i < c.diags.count; i++)
        if (strncmp(c.diags.entries[i].message, "internal error", 14) == 0)
            fuzz_fail("the compiler reports: %s", c.diags.entries[i].message);
    compiler_free(&c);
    free(text);
    if (!ok) {
        if (bytes != NULL) fuzz_fail("bytes returned for a failed compile");
        return 0;
    }

    perk_error err;
    perk_program *prog = perk_program_load(bytes, len, &err);
    if (prog == NULL) fuzz_fail("the compiled program does not load: %s", err.message);
    uint8_t *again = NULL;
    size_t again_len = 0;
    char msg[256];
    if (!bytecode_write(&prog->d, &again, &again_len, msg, sizeof msg)) fuzz_fail("re-serializing: %s", msg);
    if (again_len != len || memcmp(again, bytes, len) != 0)
        fuzz_fail("a loaded program re-serializes to different bytes (%zu vs %zu)", again_len, len);
    perk_mem_free(again);
    free(bytes);
    if (out) perk_disasm(&prog->d, out);
    fuzz_eval_fixed_carts(prog);
    perk_program_free(prog);
    return 0;
}
