build-dev/obj/src/store/schema.o: src/store/schema.c \
 src/store/store_internal.h src/store/store.h
src/store/store_internal.h:
src/store/store.h:
