build-dev/obj/src/store/versions.o: src/store/versions.c \
 src/store/store_internal.h src/store/store.h runtime/include/perk.h
src/store/store_internal.h:
src/store/store.h:
runtime/include/perk.h:
