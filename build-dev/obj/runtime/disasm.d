build-dev/obj/runtime/disasm.o: runtime/disasm.c runtime/civil.h \
 runtime/disasm.h runtime/program.h runtime/actions.h runtime/opcodes.h \
 runtime/facts.h runtime/guard.h runtime/money.h
runtime/civil.h:
runtime/disasm.h:
runtime/program.h:
runtime/actions.h:
runtime/opcodes.h:
runtime/facts.h:
runtime/guard.h:
runtime/money.h:
