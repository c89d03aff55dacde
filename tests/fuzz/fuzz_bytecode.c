/* fuzz_bytecode.c - fuzz target: any bytes as a compiled program (.pbc).
 *
 * The loader (bytecode_read, then the verifier) must refuse anything malformed with a status; what
 * it accepts must be safe to run. Before loading, the harness writes the input's real length and
 * CRC-32C into its header (when it has one), so that mutations reach the section parser and the
 * verifier instead of all dying at the checksum; the seeds are real compiled programs, which this
 * leaves unchanged. An accepted program is listed by perk_disasm (to /dev/null), must re-serialize
 * into exactly the bytes accepted (the format has one spelling per program), and must evaluate the fixed carts of harness.c
 * within the instruction budget and with every result invariant holding.
 *
 * Byte-level mutations rarely turn one valid instruction into another (the verifier refuses almost
 * every random change of the code), so under libFuzzer (PERK_LIBFUZZER) a custom mutator rewrites,
 * in two cases out of three, one instruction of the code section: a new opcode, a small operand,
 * a comparison, or a copy of another instruction; otherwise it uses libFuzzer's own mutations.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "bytecode.h"
#include "disasm.h"
#include "harness.h"
#include "opcodes.h"
#include "program_internal.h"

static FILE *null_out(void)
{
    static FILE *f;
    if (f == NULL) f = fopen("/dev/null", "w");
    return f;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc(size ? size : 1);
    if (copy == NULL) return 0;
    if (size) memcpy(copy, data, size);
    if (size >= BC_HEADER_SIZE) {
        uint64_t n = size;
        for (int i = 0; i < 8; i++) copy[BC_OFF_LENGTH + i] = (uint8_t)(n >> (8 * i));
        bytecode_seal(copy, size);
    }
    perk_error err;
    memset(&err, 0, sizeof err);
    perk_program *prog = perk_program_load(copy, size, &err);
    if (prog == NULL) {
        if (err.status == PERK_OK || err.message[0] == '\0') fuzz_fail("a refused program without an error");
        free(copy);
        return 0;
    }

    uint8_t *bytes = NULL;
    size_t len = 0;
    char msg[256];
    if (!bytecode_write(&prog->d, &bytes, &len, msg, sizeof msg)) fuzz_fail("re-serializing: %s", msg);
    /* the format has one spelling per program (reserved bytes zero, tables packed), so the
     * writer must give back exactly the bytes that were accepted */
    if (len != size || memcmp(bytes, copy, size) != 0)
        fuzz_fail("accepted %zu bytes re-serialize to %zu different bytes", size, len);
    perk_mem_free(bytes);
    free(copy);

    FILE *out = null_out();
    if (out) perk_disasm(&prog->d, out);
    fuzz_eval_fixed_carts(prog);
    perk_program_free(prog);
    return 0;
}

#ifdef PERK_LIBFUZZER
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);

static uint32_t read_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void write_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
    uint32_t rng = seed * 2654435761u + 1;
#define NEXT() (rng = rng * 1103515245u + 12345u, rng >> 8)
    if (NEXT() % 3 == 0 || size < BC_HEADER_SIZE) return LLVMFuzzerMutate(data, size, max_size);
    /* find the code section: id 8 */
    size_t off = BC_HEADER_SIZE, code = 0, code_len = 0;
    while (off + BC_SECTION_HEADER_SIZE <= size) {
        uint32_t id = read_u32(data + off), len = read_u32(data + off + 4);
        if (len > size - off - BC_SECTION_HEADER_SIZE) break;
        if (id == BC_SEC_CODE) {
            code = off + BC_SECTION_HEADER_SIZE;
            code_len = len;
            break;
        }
        off += BC_SECTION_HEADER_SIZE + len;
    }
    if (code == 0 || code_len < 4 + BC_INSN_SIZE) return LLVMFuzzerMutate(data, size, max_size);
    uint32_t n = read_u32(data + code);
    if (n > (code_len - 4) / BC_INSN_SIZE) n = (uint32_t)((code_len - 4) / BC_INSN_SIZE);
    if (n == 0) return LLVMFuzzerMutate(data, size, max_size);
    uint8_t *insn = data + code + 4 + (size_t)(NEXT() % n) * BC_INSN_SIZE;
    switch (NEXT() % 5) {
    case 0: insn[0] = (uint8_t)(NEXT() % PERK_OP_COUNT); break;
    case 1: write_u32(insn + 4, NEXT() % 8); break;
    case 2: insn[1] = (uint8_t)(NEXT() % 6); break; /* a perk_cmp for SET_CMP */
    case 3:
        insn[0] = (uint8_t)(NEXT() % PERK_OP_COUNT);
        write_u32(insn + 4, NEXT() % 4);
        break;
    default: memcpy(insn, data + code + 4 + (size_t)(NEXT() % n) * BC_INSN_SIZE, BC_INSN_SIZE); break;
    }
#undef NEXT
    return size;
}
#endif
