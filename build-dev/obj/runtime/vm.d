build-dev/obj/runtime/vm.o: runtime/vm.c runtime/vm_internal.h \
 runtime/facts.h runtime/include/perk.h runtime/program.h \
 runtime/actions.h runtime/opcodes.h runtime/program_internal.h \
 runtime/guard.h runtime/tz.h runtime/vm_ops.h runtime/money.h
runtime/vm_internal.h:
runtime/facts.h:
runtime/include/perk.h:
runtime/program.h:
runtime/actions.h:
runtime/opcodes.h:
runtime/program_internal.h:
runtime/guard.h:
runtime/tz.h:
runtime/vm_ops.h:
runtime/money.h:
