build-dev/obj/src/store/customers.o: src/store/customers.c \
 src/store/store_internal.h src/store/store.h
src/store/store_internal.h:
src/store/store.h:
