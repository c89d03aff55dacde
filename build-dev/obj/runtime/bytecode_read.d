build-dev/obj/runtime/bytecode_read.o: runtime/bytecode_read.c \
 runtime/alloc.h runtime/bytecode.h runtime/include/perk.h \
 runtime/program.h runtime/actions.h runtime/opcodes.h
runtime/alloc.h:
runtime/bytecode.h:
runtime/include/perk.h:
runtime/program.h:
runtime/actions.h:
runtime/opcodes.h:
