build-dev/obj/runtime/vm_actions.o: runtime/vm_actions.c \
 runtime/vm_internal.h runtime/facts.h runtime/include/perk.h \
 runtime/program.h runtime/actions.h runtime/opcodes.h \
 runtime/program_internal.h runtime/guard.h runtime/tz.h
runtime/vm_internal.h:
runtime/facts.h:
runtime/include/perk.h:
runtime/program.h:
runtime/actions.h:
runtime/opcodes.h:
runtime/program_internal.h:
runtime/guard.h:
runtime/tz.h:
