build-dev/obj/runtime/program.o: runtime/program.c runtime/alloc.h \
 runtime/bytecode.h runtime/include/perk.h runtime/program.h \
 runtime/actions.h runtime/opcodes.h runtime/program_internal.h \
 runtime/facts.h runtime/guard.h runtime/verify.h
runtime/alloc.h:
runtime/bytecode.h:
runtime/include/perk.h:
runtime/program.h:
runtime/actions.h:
runtime/opcodes.h:
runtime/program_internal.h:
runtime/facts.h:
runtime/guard.h:
runtime/verify.h:
