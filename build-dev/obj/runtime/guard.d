build-dev/obj/runtime/guard.o: runtime/guard.c runtime/guard.h \
 runtime/opcodes.h runtime/program.h runtime/actions.h runtime/facts.h \
 runtime/vm_ops.h runtime/money.h
runtime/guard.h:
runtime/opcodes.h:
runtime/program.h:
runtime/actions.h:
runtime/facts.h:
runtime/vm_ops.h:
runtime/money.h:
