build-dev/obj/runtime/verify.o: runtime/verify.c runtime/alloc.h \
 runtime/bytecode.h runtime/include/perk.h runtime/program.h \
 runtime/actions.h runtime/opcodes.h runtime/facts.h runtime/guard.h \
 runtime/verify.h
runtime/alloc.h:
runtime/bytecode.h:
runtime/include/perk.h:
runtime/program.h:
runtime/actions.h:
runtime/opcodes.h:
runtime/facts.h:
runtime/guard.h:
runtime/verify.h:
