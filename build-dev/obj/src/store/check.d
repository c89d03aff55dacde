build-dev/obj/src/store/check.o: src/store/check.c src/store/store_internal.h \
 src/store/store.h
src/store/store_internal.h:
src/store/store.h:
