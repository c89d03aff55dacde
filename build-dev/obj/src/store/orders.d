build-dev/obj/src/store/orders.o: src/store/orders.c \
 src/store/store_internal.h src/store/store.h runtime/include/perk.h \
 runtime/program.h runtime/actions.h runtime/opcodes.h
src/store/store_internal.h:
src/store/store.h:
runtime/include/perk.h:
runtime/program.h:
runtime/actions.h:
runtime/opcodes.h:
