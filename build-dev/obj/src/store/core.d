build-dev/obj/src/store/core.o: src/store/core.c \
 src/store/store_internal.h src/store/store.h runtime/include/perk.h
src/store/store_internal.h:
src/store/store.h:
runtime/include/perk.h:
