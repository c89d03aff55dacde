build-dev/obj/runtime/rule_index.o: runtime/rule_index.c runtime/alloc.h \
 runtime/facts.h runtime/program_internal.h runtime/guard.h \
 runtime/opcodes.h runtime/program.h runtime/actions.h \
 runtime/include/perk.h runtime/vm_internal.h runtime/tz.h
runtime/alloc.h:
runtime/facts.h:
runtime/program_internal.h:
runtime/guard.h:
runtime/opcodes.h:
runtime/program.h:
runtime/actions.h:
runtime/include/perk.h:
runtime/vm_internal.h:
runtime/tz.h:
