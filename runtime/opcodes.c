/* opcodes.c - the static opcode and operand-kind tables, expanded from the X-macro lists of
 * opcodes.h so that nothing is written down twice. */
#include "opcodes.h"

const perk_opcode_info perk_opcode_table[PERK_OP_COUNT] = {
#define PERK_OP_INFO(name, arg, pops, pushes, doc) \
    [PERK_OP_##name] = { #name, PERK_ARG_##arg, pops, pushes, doc },
    PERK_OPCODE_LIST(PERK_OP_INFO)
#undef PERK_OP_INFO
};

const char *const perk_arg_kind_names[PERK_ARG_KIND_COUNT] = {
#define PERK_ARG_NAME(name, doc) [PERK_ARG_##name] = #name,
    PERK_ARG_KIND_LIST(PERK_ARG_NAME)
#undef PERK_ARG_NAME
};
