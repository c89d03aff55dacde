build-dev/obj/runtime/evaluate.o: runtime/evaluate.c runtime/alloc.h \
 runtime/money.h runtime/vm_internal.h runtime/facts.h \
 runtime/include/perk.h runtime/program.h runtime/actions.h \
 runtime/opcodes.h runtime/program_internal.h runtime/guard.h \
 runtime/tz.h
runtime/alloc.h:
runtime/money.h:
runtime/vm_internal.h:
runtime/facts.h:
runtime/include/perk.h:
runtime/program.h:
runtime/actions.h:
runtime/opcodes.h:
runtime/program_internal.h:
runtime/guard.h:
runtime/tz.h:
