build-dev/obj/src/store/users.o: src/store/users.c src/store/store_internal.h \
 src/store/store.h
src/store/store_internal.h:
src/store/store.h:
