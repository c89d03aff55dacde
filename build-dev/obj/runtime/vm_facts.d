build-dev/obj/runtime/vm_facts.o: runtime/vm_facts.c runtime/civil.h \
 runtime/tz.h runtime/vm_internal.h runtime/facts.h \
 runtime/include/perk.h runtime/program.h runtime/actions.h \
 runtime/opcodes.h runtime/program_internal.h runtime/guard.h
runtime/civil.h:
runtime/tz.h:
runtime/vm_internal.h:
runtime/facts.h:
runtime/include/perk.h:
runtime/program.h:
runtime/actions.h:
runtime/opcodes.h:
runtime/program_internal.h:
runtime/guard.h:
