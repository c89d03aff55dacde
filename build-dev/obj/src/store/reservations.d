build-dev/obj/src/store/reservations.o: src/store/reservations.c \
 src/store/store_internal.h src/store/store.h
src/store/store_internal.h:
src/store/store.h:
