build-dev/obj/runtime/bytecode_common.o: runtime/bytecode_common.c \
 runtime/bytecode.h runtime/include/perk.h runtime/program.h \
 runtime/actions.h runtime/opcodes.h
runtime/bytecode.h:
runtime/include/perk.h:
runtime/program.h:
runtime/actions.h:
runtime/opcodes.h:
