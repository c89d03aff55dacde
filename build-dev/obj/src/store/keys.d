build-dev/obj/src/store/keys.o: src/store/keys.c src/store/store_internal.h \
 src/store/store.h
src/store/store_internal.h:
src/store/store.h:
