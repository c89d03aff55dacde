build-dev/obj/runtime/bytecode_write.o: runtime/bytecode_write.c \
 runtime/alloc.h runtime/bytecode.h runtime/include/perk.h \
 runtime/program.h runtime/actions.h runtime/opcodes.h
runtime/alloc.h:
runtime/bytecode.h:
runtime/include/perk.h:
runtime/program.h:
runtime/actions.h:
runtime/opcodes.h:
